# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# Shared by bench/wrk/run.sh and bench/wrk/costs.sh (sourced, not run): packages, free loopback
# ports, the nginx upstream, the proxies under test (nginx, HAProxy, sluice, and sluice with
# filters), readiness checks, memory readings, and cleanup of every process started, by PID, on
# any exit.

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
SLUICE_BIN=${SLUICE_BIN:-$ROOT/build/sluice}
# Where the sluice rows with filters load them from: the build's first-party filters and the
# benchmark-only no-op filters (bench/filters), both next to the binary by default.
SLUICE_FILTERS_DIR=${SLUICE_FILTERS_DIR:-$(dirname "$SLUICE_BIN")/filters}
SLUICE_BENCH_FILTERS_DIR=${SLUICE_BENCH_FILTERS_DIR:-$(dirname "$SLUICE_BIN")/bench/filters}
# wrk, curl and the upstream share CLIENT_CPU; the proxy under test has PROXY_CPU to itself.
CLIENT_CPU=${BENCH_CLIENT_CPU:-0}
PROXY_CPU=${BENCH_PROXY_CPU:-1}
# Ports are scanned upwards from here (below Linux's ephemeral range) and skipped when in use.
PORT_BASE=${BENCH_PORT_BASE:-21300}
# The upstream's fixed answer: 100 bytes of JSON, sent with Content-Length by nginx's `return`.
UPSTREAM_BODY='{"id":42,"service":"sluice-bench","ok":true,"items":[1,2,3,4,5,6,7,8],"note":"fixed upstream body!"}'
# sluice-noop: sluice with five filters that do nothing (the chain's own cost). sluice-plugins:
# sluice with jwt (HS256), rate-limiting (local), cors, request-transformer and prometheus, and
# a valid token on every request.
# shellcheck disable=SC2034  # used by the scripts that source this file
# sluice-rr3 / sluice-lc3: sluice balancing over three targets (the same upstream on three
# loopback addresses) with round-robin / least-connections.
ALL_PROXIES=(nginx haproxy sluice sluice-noop sluice-plugins sluice-rr3 sluice-lc3)
# The jwt credential of the sluice-plugins config; requests carry a token signed with it.
BENCH_JWT_KEY=bench-issuer
BENCH_JWT_SECRET=bench-secret

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
warn() { printf '\033[1;33mwarning:\033[0m %s\n' "$*" >&2; }
die() {
  printf '\033[1;31merror:\033[0m %s\n' "$*" >&2
  exit 1
}

# Installs what the benchmark needs and is missing. Commands are checked rather than package
# names, so an nginx from nginx-full or nginx-core counts as well as one from nginx-light.
ensure_pkgs() {
  local missing=() pair
  for pair in nginx:nginx-light haproxy:haproxy wrk:wrk valgrind:valgrind \
    callgrind_control:valgrind perf:linux-perf strace:strace cc:gcc curl:curl \
    taskset:util-linux timeout:coreutils openssl:openssl; do
    command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
  done
  [ -e /usr/include/stdio.h ] || missing+=(libc6-dev)
  [ ${#missing[@]} -eq 0 ] && return 0
  mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
  log "installing ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# Sets TMP to a fresh directory that cleanup removes (kept when BENCH_KEEP_TMP=1). nginx workers
# run as nobody, so the directory is world-readable.
make_tmp() {
  TMP=$(mktemp -d /tmp/sluice-bench.XXXXXX)
  chmod 755 "$TMP"
}

# ---- processes ------------------------------------------------------------------------------

PIDS=()  # every long-lived process this script started and has not yet stopped

# Prints the descendants of PID (nginx workers, valgrind's children), depth first.
descendants() {
  local c
  # shellcheck disable=SC2013  # the file is a space-separated list of PIDs
  for c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do
    echo "$c"
    descendants "$c"
  done
}

# start_time PID: the process's start time in clock ticks (field 22 of /proc/PID/stat), which
# tells a process from a later one that reuses its PID.
start_time() {
  local stat
  stat=$(cat /proc/"$1"/stat 2>/dev/null) || return 0
  stat=${stat##*) }
  awk '{print $20}' <<<"$stat"
}

# forget_pid PID: drops PID from PIDS once it has been reaped.
forget_pid() {
  local keep=() p
  for p in "${PIDS[@]}"; do
    [ "$p" = "$1" ] || keep+=("$p")
  done
  PIDS=("${keep[@]}")
}

# Stops PID (a child of this shell) and its descendants: SIGTERM, up to 5 s for a graceful exit,
# then SIGKILL for whatever is left. Descendants are matched by PID and start time, so a PID
# reused by someone else's process is never signalled.
stop_pid() {
  local pid=$1 kids=() k i
  # Only a PID still on the list: a reaped one may already belong to another process.
  [ -n "$pid" ] && [[ " ${PIDS[*]} " == *" $pid "* ]] || return 0
  for k in $(descendants "$pid"); do
    kids+=("$k:$(start_time "$k")")
  done
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do
    alive "$pid" || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  forget_pid "$pid"
  for k in "${kids[@]}"; do
    if [ -n "${k#*:}" ] && [ "$(start_time "${k%%:*}")" = "${k#*:}" ]; then
      kill -KILL "${k%%:*}" 2>/dev/null || true
    fi
  done
}

cleanup() {
  local rc=$? i
  trap - EXIT INT TERM
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
    stop_pid "${PIDS[i]}"
  done
  if [ -n "${TMP:-}" ] && [ -d "$TMP" ]; then
    if [ "${BENCH_KEEP_TMP:-0}" = 1 ]; then
      log "kept $TMP"
    else
      rm -rf "$TMP"
    fi
  fi
  exit "$rc"
}

install_traps() {
  trap cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}

# pin_prefix CPU: sets PIN to the command prefix that pins to CPU (empty on a one-CPU machine).
pin_prefix() {
  PIN=()
  [ "$(nproc)" -ge 2 ] && PIN=(taskset -c "$1")
  return 0
}

# pin CPU CMD...: runs CMD in the foreground pinned to CPU.
pin() {
  pin_prefix "$1"
  shift
  "${PIN[@]}" "$@"
}

# spawn LOG CPU CMD...: starts CMD in the background pinned to CPU, output to LOG; sets SPAWN_PID.
# A plain command (no function, no subshell) so that SPAWN_PID is CMD's own PID: taskset and
# valgrind exec what they run.
spawn() {
  local logf=$1
  pin_prefix "$2"
  shift 2
  "${PIN[@]}" "$@" >"$logf" 2>&1 </dev/null &
  SPAWN_PID=$!
  PIDS+=("$SPAWN_PID")
}

alive() {
  kill -0 "$1" 2>/dev/null && [ "$(awk '/^State:/ {print $2}' /proc/"$1"/status 2>/dev/null)" != Z ]
}

# ---- ports ----------------------------------------------------------------------------------

# pick_ports N: sets PORTS to N loopback ports from PORT_BASE up that no TCP socket uses (any
# state, local or remote side, IPv4 or IPv6).
pick_ports() {
  local want=$1 p=$PORT_BASE used
  used=$(awk 'NR > 1 {split($2, a, ":"); print a[2]; split($3, b, ":"); print b[2]}' \
    /proc/net/tcp /proc/net/tcp6 2>/dev/null | sort -u)
  PORTS=()
  while [ ${#PORTS[@]} -lt "$want" ] && [ "$p" -lt 32000 ]; do
    grep -qx "$(printf '%04X' "$p")" <<<"$used" || PORTS+=("$p")
    p=$((p + 1))
  done
  [ ${#PORTS[@]} -eq "$want" ] || die "no $want free ports from $PORT_BASE"
}

# ---- memory ---------------------------------------------------------------------------------

# proc_kib FIELD PID...: sums a /proc/PID/status field (VmHWM, VmRSS) over PIDS, in KiB.
proc_kib() {
  local field=$1 total=0 p v
  shift
  for p in "$@"; do
    v=$(awk -v f="$field:" '$1 == f {print $2}' /proc/"$p"/status 2>/dev/null)
    total=$((total + ${v:-0}))
  done
  echo "$total"
}

# cpu_ticks CPU: "busy total" clock ticks of one CPU from /proc/stat. Busy counts steal: time the
# hypervisor gave to other guests is lost to the benchmark as much as another process's.
cpu_ticks() {
  awk -v c="cpu$1" '$1 == c {b = $2 + $3 + $4 + $7 + $8 + $9; print b, b + $5 + $6}' /proc/stat
}

# proc_ticks PID...: user + system clock ticks used so far by PIDS (all threads of each).
proc_ticks() {
  local total=0 p s
  for p in "$@"; do
    s=$(cat /proc/"$p"/stat 2>/dev/null) || continue
    s=${s##*) }
    total=$((total + $(awk '{print $12 + $13}' <<<"$s")))
  done
  echo "$total"
}

# proc_tree PID: PID and its descendants (nginx: master and worker).
proc_tree() {
  echo "$1"
  descendants "$1"
}

# ---- readiness ------------------------------------------------------------------------------

# wait_ready PORT PID TIMEOUT_S [HEADER...]: waits until GET / on PORT, sent with the HEADER
# lines, answers 200 with the upstream body. Returns 1 with READY_ERR set when PID exits or
# TIMEOUT_S passes first.
wait_ready() {
  local port=$1 pid=$2 timeout=$3 deadline code="" body h hargs=()
  shift 3
  for h in "$@"; do
    hargs+=(-H "$h")
  done
  deadline=$((SECONDS + timeout))
  READY_ERR=""
  while [ $SECONDS -lt "$deadline" ]; do
    if ! alive "$pid"; then
      local rc=0
      wait "$pid" 2>/dev/null || rc=$?
      forget_pid "$pid"
      READY_ERR="exited (status $rc) before answering"
      return 1
    fi
    local crc=0
    code=$(curl -s --max-time 2 -o "$TMP/ready.body" -w '%{http_code}' "${hargs[@]}" \
      "http://127.0.0.1:$port/" 2>/dev/null) || crc=$?
    if [ "$code" = 200 ]; then
      body=$(cat "$TMP/ready.body")
      [ "$body" = "$UPSTREAM_BODY" ] && return 0
      READY_ERR="answers 200 with a body other than the upstream's"
    elif [ -n "$code" ] && [ "$code" != 000 ]; then
      READY_ERR="answers $code, not 200"
    elif [ "$crc" = 7 ]; then
      READY_ERR="refuses connections on 127.0.0.1:$port"
    elif [ "$crc" = 28 ]; then
      READY_ERR="accepts on 127.0.0.1:$port but does not answer GET / within 2 s"
    else
      READY_ERR="does not answer GET / on 127.0.0.1:$port (curl exit $crc)"
    fi
    sleep 0.2
  done
  READY_ERR="$READY_ERR after ${timeout}s"
  return 1
}

# last_lines FILE: the file's last two non-empty lines on one line, for failure notes.
last_lines() {
  { grep -v '^[[:space:]]*$' "$1" 2>/dev/null || true; } | tail -n 2 | tr '\n' ' ' |
    sed 's/|/\\|/g; s/ *$//'
}

# ---- configs --------------------------------------------------------------------------------

# write_upstream_conf DIR PORT: the upstream, an nginx answering UPSTREAM_BODY to everything.
write_upstream_conf() {
  local dir=$1 port=$2
  mkdir -p "$dir"
  cat >"$dir/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
worker_rlimit_nofile 16384;
events { worker_connections 8192; }
http {
  access_log off;
  client_body_temp_path $dir/body;
  proxy_temp_path $dir/proxy;
  fastcgi_temp_path $dir/fastcgi;
  uwsgi_temp_path $dir/uwsgi;
  scgi_temp_path $dir/scgi;
  keepalive_requests 100000000;
  keepalive_timeout 300s;
  default_type application/json;
  server {
    listen 127.0.0.1:$port backlog=4096;
    # Two more addresses of one process: the targets of the sluice-rr3 / sluice-lc3 rows.
    listen 127.0.0.2:$port backlog=4096;
    listen 127.0.0.3:$port backlog=4096;
    location / { return 200 '$UPSTREAM_BODY'; }
  }
}
EOF
}

# write_nginx_proxy_conf DIR PORT UPSTREAM_PORT MASTER(on|off) CONNS: nginx as a reverse proxy
# with a keep-alive upstream pool. MASTER off (single process) is for callgrind.
write_nginx_proxy_conf() {
  local dir=$1 port=$2 up=$3 master=$4 conns=$5
  mkdir -p "$dir"
  cat >"$dir/nginx.conf" <<EOF
worker_processes 1;
master_process $master;
daemon off;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
worker_rlimit_nofile $((conns * 2 + 1024));
events { worker_connections $((conns + 512)); }
http {
  access_log off;
  client_body_temp_path $dir/body;
  proxy_temp_path $dir/proxy;
  fastcgi_temp_path $dir/fastcgi;
  uwsgi_temp_path $dir/uwsgi;
  scgi_temp_path $dir/scgi;
  keepalive_requests 100000000;
  keepalive_timeout 300s;
  upstream bench {
    server 127.0.0.1:$up;
    keepalive 128;
    keepalive_requests 100000000;
    keepalive_timeout 300s;
  }
  server {
    listen 127.0.0.1:$port backlog=4096;
    location / {
      proxy_pass http://bench;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
EOF
}

# write_haproxy_conf DIR PORT UPSTREAM_PORT CONNS: HAProxy in HTTP mode, one thread, keep-alive on
# both sides with idle server connections shared across clients, no logging.
write_haproxy_conf() {
  local dir=$1 port=$2 up=$3 conns=$4
  mkdir -p "$dir"
  cat >"$dir/haproxy.cfg" <<EOF
global
  nbthread 1
  maxconn $((conns + 512))

defaults
  mode http
  maxconn $((conns + 512))
  option http-keep-alive
  http-reuse always
  timeout connect 5s
  timeout client 300s
  timeout server 300s
  timeout http-request 30s
  timeout http-keep-alive 300s

frontend bench
  bind 127.0.0.1:$port
  default_backend bench

backend bench
  server up 127.0.0.1:$up
EOF
}

# write_sluice_conf DIR UPSTREAM_PORT [NAME]: the Kong declarative file for sluice (NAME sluice,
# the default), sluice-noop, sluice-plugins, sluice-rr3 or sluice-lc3.
write_sluice_conf() {
  local dir=$1 up=$2 name=${3:-sluice}
  mkdir -p "$dir"
  case $name in
    sluice-rr3 | sluice-lc3)
      local algorithm=round-robin
      [ "$name" = sluice-lc3 ] && algorithm=least-connections
      cat >"$dir/kong.yaml" <<EOF
_format_version: "3.0"
services:
  - name: bench
    host: bench-pool
    port: $up
    routes:
      - name: bench
        paths: ["/"]
upstreams:
  - name: bench-pool
    algorithm: $algorithm
    targets:
      - {target: "127.0.0.1:$up"}
      - {target: "127.0.0.2:$up"}
      - {target: "127.0.0.3:$up"}
EOF
      return
      ;;
  esac
  cat >"$dir/kong.yaml" <<EOF
_format_version: "3.0"
services:
  - name: bench
    url: http://127.0.0.1:$up
    routes:
      - name: bench
        paths: ["/"]
EOF
  case $name in
    sluice-noop)
      cat >>"$dir/kong.yaml" <<EOF
plugins:
  - {name: noop-1}
  - {name: noop-2}
  - {name: noop-3}
  - {name: noop-4}
  - {name: noop-5}
EOF
      ;;
    sluice-plugins)
      # The rate limit is far above what one core can send, so it never refuses.
      cat >>"$dir/kong.yaml" <<EOF
    plugins:
      - name: jwt
        config: {claims_to_verify: [exp]}
      - name: rate-limiting
        config: {minute: 1000000000, policy: local}
      - name: request-transformer
        config:
          remove: {headers: [Cookie]}
          add: {headers: ["X-Gateway:sluice"]}
consumers:
  - username: bench
    jwt_secrets:
      - {key: $BENCH_JWT_KEY, algorithm: HS256, secret: $BENCH_JWT_SECRET}
plugins:
  - name: cors
    config: {origins: ["http://localhost:3000"], credentials: true, max_age: 3600}
  - name: prometheus
    config: {status_code_metrics: true, latency_metrics: true, bandwidth_metrics: true,
             upstream_health_metrics: true}
EOF
      ;;
  esac
}

b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }

# jwt_hs256 ISS SECRET: a JWT signed with HMAC-SHA256 that expires in a day.
jwt_hs256() {
  local header payload signature
  header=$(printf '{"alg":"HS256","typ":"JWT"}' | b64url)
  payload=$(printf '{"iss":"%s","sub":"bench","exp":%d}' "$1" $(($(date +%s) + 86400)) | b64url)
  signature=$(printf '%s.%s' "$header" "$payload" | openssl dgst -sha256 -hmac "$2" -binary |
    b64url)
  printf '%s.%s.%s\n' "$header" "$payload" "$signature"
}

# request_headers NAME: sets REQ_HEADERS to the header lines every request to target NAME
# carries (sluice-plugins: a valid token; everyone else: none).
request_headers() {
  REQ_HEADERS=()
  if [ "$1" = sluice-plugins ]; then
    [ -n "${BENCH_TOKEN:-}" ] || BENCH_TOKEN=$(jwt_hs256 "$BENCH_JWT_KEY" "$BENCH_JWT_SECRET")
    REQ_HEADERS=("Authorization: Bearer $BENCH_TOKEN")
  fi
}

# sluice_filters_dir: prints a directory (made once under TMP) with links to the first-party
# filters and the no-op filters; returns 1 when a needed one is missing.
sluice_filters_dir() {
  local dir=$TMP/filters f
  if [ ! -d "$dir" ]; then
    mkdir -p "$dir"
    for f in "$SLUICE_FILTERS_DIR"/*.so "$SLUICE_BENCH_FILTERS_DIR"/*.so; do
      [ -e "$f" ] && ln -sf "$f" "$dir/"
    done
  fi
  for f in jwt rate-limiting cors request-transformer prometheus noop-1 noop-2 noop-3 noop-4 \
    noop-5; do
    [ -e "$dir/$f.so" ] || return 1
  done
  echo "$dir"
}

# ---- servers --------------------------------------------------------------------------------

# start_upstream PORT: the nginx upstream on CLIENT_CPU; sets UPSTREAM_PID or dies.
start_upstream() {
  local port=$1 dir=$TMP/upstream
  write_upstream_conf "$dir" "$port"
  spawn "$dir/out.log" "$CLIENT_CPU" nginx -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log"
  UPSTREAM_PID=$SPAWN_PID
  wait_ready "$port" "$UPSTREAM_PID" 10 ||
    die "upstream nginx on 127.0.0.1:$port $READY_ERR: $(last_lines "$dir/error.log")"
}

# start_proxy NAME PORT ADMIN_PORT UPSTREAM_PORT CONNS [WRAPPER...]: starts proxy NAME on
# PROXY_CPU, optionally under WRAPPER (valgrind ...), and waits until it proxies. Sets PROXY_PID
# and returns 0, or sets PROXY_ERR (a one-line reason) and returns 1 with the process stopped.
start_proxy() {
  local name=$1 port=$2 aport=$3 up=$4 conns=$5
  local dir=$TMP/$name
  shift 5
  local wrap=("$@") timeout=10 errlog
  [ ${#wrap[@]} -gt 0 ] && timeout=90
  PROXY_PID="" PROXY_ERR=""
  mkdir -p "$dir"
  errlog=$dir/out.log
  case $name in
    nginx)
      local master=on
      [ ${#wrap[@]} -gt 0 ] && master=off
      write_nginx_proxy_conf "$dir" "$port" "$up" "$master" "$conns"
      spawn "$dir/out.log" "$PROXY_CPU" "${wrap[@]}" nginx -p "$dir" -c "$dir/nginx.conf" \
        -e "$dir/error.log"
      errlog=$dir/error.log
      ;;
    haproxy)
      write_haproxy_conf "$dir" "$port" "$up" "$conns"
      spawn "$dir/out.log" "$PROXY_CPU" "${wrap[@]}" haproxy -db -f "$dir/haproxy.cfg"
      ;;
    sluice | sluice-noop | sluice-plugins | sluice-rr3 | sluice-lc3)
      if [ ! -x "$SLUICE_BIN" ]; then
        PROXY_ERR="no executable at $SLUICE_BIN (set SLUICE_BIN or build the release preset)"
        return 1
      fi
      local fargs=() fdir
      if [ "$name" = sluice-noop ] || [ "$name" = sluice-plugins ]; then
        if ! fdir=$(sluice_filters_dir); then
          PROXY_ERR="filters missing from $SLUICE_FILTERS_DIR or $SLUICE_BENCH_FILTERS_DIR (build all targets)"
          return 1
        fi
        fargs=(--filters-dir "$fdir")
      fi
      write_sluice_conf "$dir" "$up" "$name"
      spawn "$dir/out.log" "$PROXY_CPU" "${wrap[@]}" "$SLUICE_BIN" -c "$dir/kong.yaml" \
        --listen "127.0.0.1:$port" --admin-listen "127.0.0.1:$aport" --workers 1 \
        --access-log off "${fargs[@]}"
      ;;
    *) die "unknown proxy $name" ;;
  esac
  PROXY_PID=$SPAWN_PID
  request_headers "$name"
  if ! wait_ready "$port" "$PROXY_PID" "$timeout" "${REQ_HEADERS[@]}"; then
    PROXY_ERR=$READY_ERR
    local tail_
    tail_=$(last_lines "$errlog")
    [ -z "$tail_" ] && [ "$errlog" != "$dir/out.log" ] && tail_=$(last_lines "$dir/out.log")
    [ -n "$tail_" ] && PROXY_ERR="$PROXY_ERR; output: $tail_"
    stop_pid "$PROXY_PID"
    PROXY_PID=""
    return 1
  fi
}

# raise_nofile N: raises this shell's open-file limit (inherited by everything it starts) to at
# least N when the hard limit allows or can be raised (root).
raise_nofile() {
  local want=$1
  if [ "$(ulimit -Hn)" != unlimited ] && [ "$(ulimit -Hn)" -lt "$want" ]; then
    ulimit -Hn "$want" 2>/dev/null || true
  fi
  if [ "$(ulimit -Hn)" = unlimited ] || [ "$(ulimit -Hn)" -ge "$want" ]; then
    ulimit -Sn "$want" 2>/dev/null || true
  else
    ulimit -Sn "$(ulimit -Hn)" 2>/dev/null || true
  fi
}

# ---- versions -------------------------------------------------------------------------------

machine_line() {
  local model
  model=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
  echo "nproc $(nproc), ${model:-unknown CPU}, $(awk '{printf "%.0f GiB", $2 / 1048576}' \
    <(grep MemTotal /proc/meminfo)), Linux $(uname -r)"
}

versions_line() {
  local n h w s
  n=$(nginx -v 2>&1 | sed 's/^nginx version: //')
  h=$(haproxy -v 2>/dev/null | head -n 1 | awk '{print "HAProxy " $3}')
  w=$(wrk -v 2>&1 | head -n 1 | awk '{print "wrk " $2}')
  if [ -x "$SLUICE_BIN" ]; then
    s=$(timeout 2 "$SLUICE_BIN" --version 2>/dev/null </dev/null | head -n 1) || true
  fi
  if [ ! -x "$SLUICE_BIN" ]; then
    s="sluice (no binary at $SLUICE_BIN)"
  fi
  echo "$n, $h, $w, ${s:-sluice (--version printed nothing)}"
}

commit_line() {
  local c dirty=""
  c=$(git -C "$ROOT" rev-parse --short=12 HEAD 2>/dev/null) || {
    echo "unknown (not a git checkout)"
    return
  }
  # Read-only: no optional locks, so a concurrent git command by someone else never sees ours.
  if [ -n "$(GIT_OPTIONAL_LOCKS=0 git -C "$ROOT" status --porcelain --untracked-files=no \
    2>/dev/null)" ]; then
    dirty=" (working tree has uncommitted changes)"
  fi
  echo "$c$dirty"
}
