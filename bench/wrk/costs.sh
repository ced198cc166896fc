#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Per-request costs of each proxy in front of the nginx upstream: instructions (callgrind),
# syscalls (perf tracepoint, or strace -c) and RSS per idle keep-alive connection. run.sh calls
# it after the wrk rounds; it also runs alone. Prints a markdown section on stdout.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

REQUESTS=2000
WARM_REQUESTS=200
IDLE=5000
CONNECTIONS=50
LOAD_SECONDS=3
ONLY=$(IFS=,; echo "${ALL_PROXIES[*]}")
CALLGRIND=1

usage() {
  cat <<USAGE
usage: bench/wrk/costs.sh [OPTIONS]
  --requests K        requests counted per proxy, one keep-alive connection (default $REQUESTS)
  --warm-requests W   requests before counting starts (default $WARM_REQUESTS)
  --idle N            idle keep-alive connections for RSS per connection (default $IDLE)
  --connections C     wrk connections for the syscalls-under-load column (default $CONNECTIONS)
  --only LIST         comma list from $ONLY (default all)
  --no-callgrind      skip the instruction counts (the slowest part)
environment: as run.sh; BENCH_SYSCALL_TOOL=perf|strace forces the syscall counter
USAGE
}

posint() {
  [[ $2 =~ ^[1-9][0-9]*$ ]] || die "$1 needs a positive integer, got '$2'"
}

while [ $# -gt 0 ]; do
  case $1 in
    --requests) posint "$1" "${2:-}"; REQUESTS=$2; shift 2 ;;
    --warm-requests) posint "$1" "${2:-}"; WARM_REQUESTS=$2; shift 2 ;;
    --idle) posint "$1" "${2:-}"; IDLE=$2; shift 2 ;;
    --connections) posint "$1" "${2:-}"; CONNECTIONS=$2; shift 2 ;;
    --only) ONLY=${2:-}; shift 2 ;;
    --no-callgrind) CALLGRIND=0; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown option $1" ;;
  esac
done

PROXIES=()
for p in "${ALL_PROXIES[@]}"; do
  [[ ,$ONLY, == *,$p,* ]] && PROXIES+=("$p")
done
[ ${#PROXIES[@]} -gt 0 ] || die "--only selects no proxy"

ensure_pkgs
make_tmp
install_traps
raise_nofile $((IDLE * 2 + 4096))
[ "$(ulimit -n)" -gt $((IDLE + 1024)) ] ||
  die "open-file limit $(ulimit -n) is too low for --idle $IDLE; lower --idle"

cc -O2 -Wall -o "$TMP/idle_conns" "$BENCH_DIR/tools/idle_conns.c" || die "cannot compile idle_conns.c"

# The syscall counter: the raw_syscalls tracepoint through perf when it counts, else strace -c.
SYSCALL_TOOL=${BENCH_SYSCALL_TOOL:-}
if [ -z "$SYSCALL_TOOL" ]; then
  if perf stat -x, -e raw_syscalls:sys_enter -- true 2>&1 | grep -q '^[0-9][0-9]*,'; then
    SYSCALL_TOOL=perf
  else
    SYSCALL_TOOL=strace
  fi
fi

pick_ports 4
UP_PORT=${PORTS[0]} PX_PORT=${PORTS[1]} ADMIN_PORT=${PORTS[2]}
log "upstream nginx on 127.0.0.1:$UP_PORT (CPU $CLIENT_CPU)"
start_upstream "$UP_PORT"

# curl_cfg N: a curl config with N requests to the proxy, each with the REQ_HEADERS of the
# proxy being measured (CUR); one curl runs them in order on one keep-alive connection, so
# exactly N requests reach the proxy.
curl_cfg() {
  local f=$TMP/curl-$CUR-$1.cfg i h
  if [ ! -e "$f" ]; then
    for h in "${REQ_HEADERS[@]}"; do
      printf 'header = "%s"\n' "$h"
    done >"$f"
    for ((i = 0; i < $1; i++)); do
      printf 'url = "http://127.0.0.1:%s/"\noutput = "/dev/null"\n' "$PX_PORT"
    done >>"$f"
  fi
  echo "$f"
}

# curl_cmd N: sets CMD to the command that sends N sequential requests (pinned to CLIENT_CPU).
curl_cmd() {
  pin_prefix "$CLIENT_CPU"
  CMD=("${PIN[@]}" timeout -k 5 600 curl -s --max-time 30 -K "$(curl_cfg "$1")"
    -w '%{http_code} %{num_connects}\n')
}

# check_curl FILE N: 0 when FILE (curl -w output) shows N answers of 200, else 1 with CHECK_ERR
# set. CLOSED is set to the number of new connections when the proxy did not keep one
# connection alive for all of them (the counts then include connection setup), else empty.
check_curl() {
  local ok conns
  ok=$(grep -c '^200 ' "$1" || true)
  conns=$(awk '{s += $2} END {print s + 0}' "$1")
  CHECK_ERR="" CLOSED=""
  [ "$conns" -le 1 ] || CLOSED=$conns
  if [ "$ok" -ne "$2" ]; then
    CHECK_ERR="$ok of $2 requests answered 200"
    return 1
  fi
}

# requests_seq N LOG: sends N sequential keep-alive requests; returns 1 with CHECK_ERR on failure.
requests_seq() {
  curl_cmd "$1"
  "${CMD[@]}" >"$2" 2>&1 || true
  check_curl "$2" "$1"
}

# count_syscalls OUT PIDS CMD...: runs CMD while counting the syscalls of the processes PIDS (a
# comma list, all threads); sets SC_COUNT (empty when nothing was counted). CMD's output goes to
# OUT.cmd.
count_syscalls() {
  local out=$1 pids=$2
  shift 2
  if [ "$SYSCALL_TOOL" = perf ]; then
    # With -p, perf counts PIDS (not CMD) for as long as CMD runs.
    perf stat -x, -o "$out" -e raw_syscalls:sys_enter -p "$pids" -- "$@" >"$out.cmd" 2>&1 || true
    SC_COUNT=$(awk -F, '$3 ~ /raw_syscalls:sys_enter/ {print $1}' "$out")
  else
    local args=() p spid
    for p in ${pids//,/ }; do
      args+=(-p "$p")
    done
    strace -c -f -o "$out" "${args[@]}" >/dev/null 2>"$out.err" &
    spid=$!
    PIDS+=("$spid")
    sleep 1  # strace attaches asynchronously
    "$@" >"$out.cmd" 2>&1 || true
    stop_pid "$spid"
    SC_COUNT=$(awk '$NF == "total" {print $4}' "$out")
  fi
}

# ratio A B DIGITS: A / B with DIGITS decimals, or "—" when either is missing.
ratio() {
  if [[ ${1:-} =~ ^[0-9]+$ ]] && [[ ${2:-} =~ ^[0-9]+$ ]] && [ "$2" -gt 0 ]; then
    awk -v a="$1" -v b="$2" -v d="$3" 'BEGIN {printf "%.*f", d, a / b}'
  else
    echo "—"
  fi
}

# measure_idle NAME PIDS: sets IDLE_B[NAME], bytes of RSS per idle keep-alive connection: VmRSS
# of all the proxy's processes (PIDS, a comma list) before and after IDLE connections that each
# completed one request and stay open, divided by the connections.
measure_idle() {
  local p=$1 pids=$2 rss0 rss1=0 word="" opened=0 failed=0 still=0 idle_pid
  # shellcheck disable=SC2086  # one word per PID
  rss0=$(proc_kib VmRSS ${pids//,/ })
  rm -f "$TMP/idle.in" "$TMP/idle.out"
  mkfifo "$TMP/idle.in" "$TMP/idle.out"
  pin_prefix "$CLIENT_CPU"
  "${PIN[@]}" "$TMP/idle_conns" 127.0.0.1 "$PX_PORT" "$IDLE" 180 <"$TMP/idle.in" \
    >"$TMP/idle.out" 2>"$TMP/$p-idle.err" &
  idle_pid=$!
  PIDS+=("$idle_pid")
  exec 7>"$TMP/idle.in" 8<"$TMP/idle.out"
  read -r -t 150 -u 8 word opened failed || true
  if [ "$word" = ready ]; then
    sleep 1  # let the proxy finish its bookkeeping for the last connections
    # shellcheck disable=SC2086
    rss1=$(proc_kib VmRSS ${pids//,/ })
    # In a subshell: if the tool is gone, SIGPIPE ends the subshell, not this script.
    (echo check >&7) 2>/dev/null || true
    read -r -t 10 -u 8 word still || true
  fi
  exec 7>&- 8<&-
  stop_pid "$idle_pid"
  if [ "$opened" -gt 0 ] && [ "$opened" -ge $((IDLE * 99 / 100)) ] && [ "${still:-0}" -ge $((opened * 99 / 100)) ]; then
    IDLE_B[$p]=$(((rss1 - rss0) * 1024 / opened))
    [ "$failed" -eq 0 ] || note "$p" "$failed of $IDLE idle connections failed"
  else
    local why="idle connections: $opened opened, $failed failed, ${still:-0} still open at the reading"
    [ "$opened" -gt 0 ] && [ "${still:-0}" -eq 0 ] && why="$why (the proxy closed them)"
    note "$p" "$why"
  fi
}

declare -A IR=() SC1=() SCN=() IDLE_B=() NOTE=()
# note NAME TEXT: a line under the table (and a warning now).
note() {
  NOTE[$1]="${NOTE[$1]:+${NOTE[$1]}
}- $1: $2"
  warn "$1: $2"
}
declare -A MARK=() MARKN=()
# closed NAME WHAT: marks NAME's values (†): the proxy closed the connection after answers, so
# each of the counted requests also paid for a new connection.
closed() {
  MARK[$1]="†"
  note "$1" "$2: † the proxy did not keep the connection alive ($CLOSED connections for $REQUESTS requests), so connection setup is included"
}

for p in "${PROXIES[@]}"; do
  CUR=$p
  request_headers "$p"
  hargs=()
  for h in "${REQ_HEADERS[@]}"; do
    hargs+=(-H "$h")
  done
  # ---- idle connections and syscalls on a plain instance ----
  log "$p: RSS per idle connection, syscalls per request ($SYSCALL_TOOL)"
  if ! start_proxy "$p" "$PX_PORT" "$ADMIN_PORT" "$UP_PORT" "$IDLE"; then
    note "$p" "failed: $PROXY_ERR"
    continue
  fi
  ppid=$PROXY_PID
  pids=$(proc_tree "$ppid" | paste -sd,)
  if ! requests_seq "$WARM_REQUESTS" "$TMP/$p-warm.log"; then
    note "$p" "warm-up: $CHECK_ERR"
  else
    # Idle connections first, while the heap holds nothing freed by a load of many connections.
    # idle_conns sends no token, so the jwt row is left out (filters keep no connection state).
    if [ "$p" != sluice-plugins ]; then
      measure_idle "$p" "$pids"
      sleep 2  # the proxy closes the idle connections before syscalls are counted
    fi
    curl_cmd "$REQUESTS"
    count_syscalls "$TMP/$p-sc1" "$pids" "${CMD[@]}"
    if check_curl "$TMP/$p-sc1.cmd" "$REQUESTS"; then
      SC1[$p]=$SC_COUNT
      [ -z "$CLOSED" ] || closed "$p" "syscalls, 1 connection"
    else
      note "$p" "syscalls, 1 connection: $CHECK_ERR"
    fi
    pin_prefix "$CLIENT_CPU"
    wrk_cmd=("${PIN[@]}" wrk -t1 -c"$CONNECTIONS" -d"${LOAD_SECONDS}s"
      -s "$BENCH_DIR/wrk/report.lua" "${hargs[@]}" "http://127.0.0.1:$PX_PORT/")
    count_syscalls "$TMP/$p-scn" "$pids" timeout -k 5 $((LOAD_SECONDS + 30)) "${wrk_cmd[@]}"
    line=$(grep '^WRKSTAT ' "$TMP/$p-scn.cmd" || true)
    reqs=$(tr ' ' '\n' <<<"$line" | awk -F= '$1 == "requests" {print $2}')
    non2xx=$(tr ' ' '\n' <<<"$line" | awk -F= '$1 == "status" {print $2}')
    rderr=$(tr ' ' '\n' <<<"$line" | awk -F= '$1 == "read" {print $2}')
    if [ -n "$reqs" ] && [ "$reqs" -gt 0 ] && [ "${non2xx:-1}" -eq 0 ]; then
      SCN[$p]="$SC_COUNT $reqs"
      if [ "${rderr:-0}" -gt $((reqs / 2)) ]; then
        MARKN[$p]="†"
        note "$p" "syscalls under load: † $rderr read errors in $reqs requests: the proxy closed connections, so reconnects are included"
      fi
    else
      note "$p" "syscalls under load: wrk ${reqs:-0} requests, ${non2xx:-?} non-2xx"
    fi

  fi
  stop_pid "$ppid"

  # ---- instructions under callgrind ----
  [ "$CALLGRIND" = 1 ] || continue
  log "$p: instructions per request (callgrind, $REQUESTS requests after $WARM_REQUESTS)"
  cgdir=$TMP/$p-callgrind
  mkdir -p "$cgdir"
  if ! start_proxy "$p" "$PX_PORT" "$ADMIN_PORT" "$UP_PORT" 1024 valgrind --tool=callgrind \
    --callgrind-out-file="$cgdir/callgrind.out.%p"; then
    note "$p" "under callgrind: $PROXY_ERR"
    continue
  fi
  vpid=$PROXY_PID
  if ! requests_seq "$WARM_REQUESTS" "$TMP/$p-cgwarm.log"; then
    note "$p" "callgrind warm-up: $CHECK_ERR"
  elif ! timeout 60 callgrind_control -z "$vpid" >"$cgdir/zero.log" 2>&1; then
    note "$p" "callgrind_control -z failed: $(last_lines "$cgdir/zero.log")"
  elif ! requests_seq "$REQUESTS" "$TMP/$p-cg.log"; then
    note "$p" "callgrind run: $CHECK_ERR"
  elif ! { [ -z "$CLOSED" ] || closed "$p" "instructions"; }; then
    :
  elif ! timeout 60 callgrind_control -d "$vpid" >"$cgdir/dump.log" 2>&1; then
    note "$p" "callgrind_control -d failed: $(last_lines "$cgdir/dump.log")"
  else
    # The dump after the zeroing holds exactly the counted requests; dumps are numbered .1, .2...
    # in order, so the last one is ours.
    dump="" i=1
    while [ -e "$cgdir/callgrind.out.$vpid.$i" ]; do
      dump=$cgdir/callgrind.out.$vpid.$i
      i=$((i + 1))
    done
    ir=$(awk '/^summary:/ {print $2}' "$dump" 2>/dev/null)
    if [[ $ir =~ ^[0-9]+$ ]]; then
      IR[$p]=$ir
    else
      note "$p" "no callgrind summary in ${dump:-any dump}"
    fi
  fi
  stop_pid "$vpid"
done

echo "## Per-request costs"
echo
echo "| proxy | instructions / request | syscalls / request, 1 connection | syscalls / request, wrk -c$CONNECTIONS | RSS / idle keep-alive connection |"
echo "|---|--:|--:|--:|--:|"
for p in "${PROXIES[@]}"; do
  m=${MARK[$p]:-}
  ir=$(ratio "${IR[$p]:-}" "$REQUESTS" 0)
  [ "$ir" = — ] || ir=$(awk -v x="$ir" -v m="$m" 'BEGIN {printf "%.1fk%s", x / 1000, m}')
  s1=$(ratio "${SC1[$p]:-}" "$REQUESTS" 1)
  [ "$s1" = — ] || s1=$s1$m
  read -r sn rq <<<"${SCN[$p]:-x 0}"
  sn=$(ratio "$sn" "$rq" 1)
  [ "$sn" = — ] || sn=$sn${MARKN[$p]:-}
  ib="—"
  if [ -n "${IDLE_B[$p]:-}" ]; then
    ib=$(awk -v b="${IDLE_B[$p]}" 'BEGIN {if (b >= 1024) printf "%.2f KiB", b / 1024; else printf "%d B", b}')
  fi
  if [ "$ir$s1$sn$ib" = "————" ]; then
    echo "| $p | failed | | | |"
  else
    echo "| $p | $ir | $s1 | $sn | $ib |"
  fi
done
echo
if [ "$CALLGRIND" = 1 ]; then
  echo "Instructions: callgrind total Ir of the proxy process (all threads) over $REQUESTS requests"
  echo "sent one after another on one keep-alive connection after $WARM_REQUESTS warm-up requests,"
  echo "divided by $REQUESTS (nginx with master_process off, haproxy -db, sluice --workers 1)."
else
  echo "Instructions: not measured (--no-callgrind)."
fi
if [ "$SYSCALL_TOOL" = perf ]; then
  echo "Syscalls: \`perf stat -e raw_syscalls:sys_enter -p\` on every process of the proxy (nginx:"
else
  echo "Syscalls: \`strace -c -f -p\` (perf tracepoints unavailable) on every process of the proxy (nginx:"
fi
echo "master + worker), for the same $REQUESTS sequential requests, and for ${LOAD_SECONDS} s of"
echo "\`wrk -t1 -c$CONNECTIONS\` divided by the requests wrk completed (batching lowers it)."
echo "Idle RSS: VmRSS delta of the proxy over $IDLE connections that each completed one request"
echo "and stay open (bench/tools/idle_conns.c), divided by the connections."
echo "Reference points on such a VM: nginx about 18.8k instructions, 7 syscalls and 526 B per idle"
echo "connection; HAProxy about 29k, 10 syscalls and 1.1 KiB."
notes=0
for p in "${PROXIES[@]}"; do
  if [ -n "${NOTE[$p]:-}" ]; then
    [ $notes -eq 1 ] || echo
    notes=1
    echo "${NOTE[$p]}"
  fi
done
