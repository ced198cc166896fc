#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# wrk against one nginx upstream, directly and through nginx, HAProxy, sluice, sluice with five
# no-op filters and sluice with the five first-party filters, in interleaved rounds on pinned
# CPUs; then the per-request costs (costs.sh). Prints a markdown report and writes it to
# bench/results/<date>-wrk.md. See bench/README.md.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

ROUNDS=5
DURATION=10
CONNECTIONS=50
THREADS=1
WARMUP=2
ALL_TARGETS=(direct nginx haproxy sluice sluice-noop sluice-plugins sluice-rr3 sluice-lc3)
ONLY=$(IFS=,; echo "${ALL_TARGETS[*]}")
COSTS=1
COSTS_ARGS=()
REQUESTS=2000
IDLE=5000
OUT=""

usage() {
  cat <<USAGE
usage: bench/wrk/run.sh [OPTIONS]      (./dev bench [OPTIONS] builds the release preset first)
  --rounds N          interleaved rounds, order rotated each round (default $ROUNDS)
  --duration S        seconds of wrk per target and round (default $DURATION)
  --connections C     wrk connections (default $CONNECTIONS)
  --threads T         wrk threads (default $THREADS)
  --warmup S          seconds of wrk per target before round 1, not counted; 0 for none ($WARMUP)
  --only LIST         comma list from $(IFS=,; echo "${ALL_TARGETS[*]}") (default all)
  --requests K        costs: requests counted per proxy under callgrind and perf (default $REQUESTS)
  --idle N            costs: idle keep-alive connections for RSS per connection (default $IDLE)
  --no-costs          skip costs.sh (instructions, syscalls, idle RSS per request)
  --no-callgrind      costs without the instruction counts (the slowest part)
  --out FILE          report file (default bench/results/<date>-wrk.md)
environment: SLUICE_BIN (default build/sluice), SLUICE_FILTERS_DIR (its filters/),
  SLUICE_BENCH_FILTERS_DIR (its bench/filters/), BENCH_CLIENT_CPU (0), BENCH_PROXY_CPU (1),
  BENCH_PORT_BASE (21300), BENCH_KEEP_TMP=1 keeps configs and logs
USAGE
}

posint() {
  [[ $2 =~ ^[1-9][0-9]*$ ]] || die "$1 needs a positive integer, got '$2'"
}

while [ $# -gt 0 ]; do
  case $1 in
    --rounds) posint "$1" "${2:-}"; ROUNDS=$2; shift 2 ;;
    --duration) posint "$1" "${2:-}"; DURATION=$2; shift 2 ;;
    --connections) posint "$1" "${2:-}"; CONNECTIONS=$2; shift 2 ;;
    --threads) posint "$1" "${2:-}"; THREADS=$2; shift 2 ;;
    --warmup) [[ ${2:-} =~ ^[0-9]+$ ]] || die "--warmup needs a number"; WARMUP=$2; shift 2 ;;
    --only) ONLY=${2:-}; shift 2 ;;
    --requests) posint "$1" "${2:-}"; REQUESTS=$2; shift 2 ;;
    --idle) posint "$1" "${2:-}"; IDLE=$2; shift 2 ;;
    --no-costs) COSTS=0; shift ;;
    --no-callgrind) COSTS_ARGS+=(--no-callgrind); shift ;;
    --out) OUT=${2:-}; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown option $1" ;;
  esac
done

TARGETS=()
for t in "${ALL_TARGETS[@]}"; do
  [[ ,$ONLY, == *,$t,* ]] && TARGETS+=("$t")
done
for t in ${ONLY//,/ }; do
  [[ " ${ALL_TARGETS[*]} " == *" $t "* ]] || die "--only: unknown target $t"
done
[ ${#TARGETS[@]} -gt 0 ] || die "--only selects nothing"
PROXIES=()
for t in "${TARGETS[@]}"; do
  [ "$t" = direct ] || PROXIES+=("$t")
done

ensure_pkgs
make_tmp
install_traps
raise_nofile 65536
[ "$(nproc)" -ge 2 ] || warn "fewer than 2 CPUs: nothing is pinned and the numbers mean little"

DATE=$(date -u +%F)
STARTED=$(date -u '+%F %T UTC')
LOADAVG=$(cut -d' ' -f1-3 /proc/loadavg)
if [ -z "$OUT" ]; then
  OUT=$BENCH_DIR/results/$DATE-wrk.md
  # A second run on the same day keeps the first one's file.
  [ ! -e "$OUT" ] || OUT=$BENCH_DIR/results/$DATE-$(date -u +%H%M%S)-wrk.md
fi

# ---- servers ---------------------------------------------------------------------------------

pick_ports 13
UP_PORT=${PORTS[0]}
declare -A PORT=([direct]=$UP_PORT [nginx]=${PORTS[1]} [haproxy]=${PORTS[2]} [sluice]=${PORTS[3]}
  [sluice-noop]=${PORTS[4]} [sluice-plugins]=${PORTS[5]} [sluice-rr3]=${PORTS[9]}
  [sluice-lc3]=${PORTS[10]})
# Each sluice has its own admin listener (nginx and HAProxy ignore theirs).
declare -A ADMIN_PORT=([nginx]=${PORTS[6]} [haproxy]=${PORTS[6]} [sluice]=${PORTS[6]}
  [sluice-noop]=${PORTS[7]} [sluice-plugins]=${PORTS[8]} [sluice-rr3]=${PORTS[11]}
  [sluice-lc3]=${PORTS[12]})
declare -A PID=() FAILED=() BADWHY=()

log "upstream nginx on 127.0.0.1:$UP_PORT (CPU $CLIENT_CPU)"
start_upstream "$UP_PORT"
PID[direct]=$UPSTREAM_PID
for p in "${PROXIES[@]}"; do
  log "$p on 127.0.0.1:${PORT[$p]} (CPU $PROXY_CPU)"
  if start_proxy "$p" "${PORT[$p]}" "${ADMIN_PORT[$p]}" "$UP_PORT" 1024; then
    PID[$p]=$PROXY_PID
  else
    FAILED[$p]=$PROXY_ERR
    warn "$p failed: $PROXY_ERR"
  fi
done

# ---- rounds ----------------------------------------------------------------------------------

# run_wrk TARGET SECONDS LOGFILE: one wrk run pinned to CLIENT_CPU; the WRKSTAT line goes to
# LOGFILE. Sets OTHER0 and OTHER1: the share (%) of CLIENT_CPU and PROXY_CPU that processes other
# than wrk, the upstream and the proxy under test used meanwhile (builds, tests, steal), or "-";
# and PROXY_TICKS: the CPU time (user + system, clock ticks) the proxy used, or "-" for direct.
run_wrk() {
  local t=$1 secs=$2 logf=$3 c0 c1 u0 x0 c0b c1b u1 x1 w h hargs=()
  local up_pids proxy_pids=()
  request_headers "$t"
  for h in "${REQ_HEADERS[@]}"; do
    hargs+=(-H "$h")
  done
  # shellcheck disable=SC2207  # one word per PID
  up_pids=($(proc_tree "$UPSTREAM_PID"))
  # shellcheck disable=SC2207
  [ "$t" = direct ] || proxy_pids=($(proc_tree "${PID[$t]}"))
  c0=$(cpu_ticks "$CLIENT_CPU") c1=$(cpu_ticks "$PROXY_CPU")
  u0=$(proc_ticks "${up_pids[@]}") x0=$(proc_ticks "${proxy_pids[@]}")
  local TIMEFORMAT='%3U %3S'
  { time pin "$CLIENT_CPU" timeout -k 5 $((secs + 30)) wrk -t"$THREADS" -c"$CONNECTIONS" \
    -d"${secs}s" --latency -s "$BENCH_DIR/wrk/report.lua" "${hargs[@]}" \
    "http://127.0.0.1:${PORT[$t]}/" >"$logf" 2>&1 || true; } 2>"$logf.time"
  c0b=$(cpu_ticks "$CLIENT_CPU") c1b=$(cpu_ticks "$PROXY_CPU")
  u1=$(proc_ticks "${up_pids[@]}") x1=$(proc_ticks "${proxy_pids[@]}")
  # The file may also hold bash's notice of a background job that died meanwhile.
  w=$(awk -v hz="$(getconf CLK_TCK)" '$1 ~ /^[0-9.]+$/ && $2 ~ /^[0-9.]+$/ {t = ($1 + $2) * hz}
    END {printf "%d", t}' "$logf.time")
  OTHER0=- OTHER1=- PROXY_TICKS=-
  [ "$t" = direct ] || PROXY_TICKS=$((x1 - x0))
  if [ "$CLIENT_CPU" != "$PROXY_CPU" ] && [ "$(nproc)" -ge 2 ]; then
    read -r OTHER0 OTHER1 < <(awk -v a="$c0" -v b="$c0b" -v c="$c1" -v d="$c1b" \
      -v ours0=$((u1 - u0 + w)) -v ours1=$((x1 - x0)) 'BEGIN {
        split(a, p, " "); split(b, q, " "); split(c, r, " "); split(d, s, " ")
        o0 = (q[1] - p[1] - ours0) / (q[2] - p[2] + 1e-9) * 100
        o1 = (s[1] - r[1] - ours1) / (s[2] - r[2] + 1e-9) * 100
        printf "%.0f %.0f\n", (o0 < 0 ? 0 : o0), (o1 < 0 ? 0 : o1)}')
  fi
}

# field KEY LINE: the value of KEY=value in a WRKSTAT line.
field() { tr ' ' '\n' <<<"$2" | awk -F= -v k="$1" '$1 == k {print $2}'; }

if [ "$WARMUP" -gt 0 ]; then
  for t in "${TARGETS[@]}"; do
    [ -z "${FAILED[$t]:-}" ] || continue
    log "warm-up $t (${WARMUP}s)"
    run_wrk "$t" "$WARMUP" "$TMP/warmup-$t.log"
  done
fi

# round target state rps p50_us p99_us requests non2xx sockerr other0% other1% proxy_ticks
RESULTS=$TMP/rounds.tsv
: >"$RESULTS"
ORDERS=()
n=${#TARGETS[@]}
for ((r = 1; r <= ROUNDS; r++)); do
  order=()
  for ((i = 0; i < n; i++)); do
    order+=("${TARGETS[(i + r - 1) % n]}")
  done
  ORDERS+=("${order[*]}")
  for t in "${order[@]}"; do
    if [ -n "${FAILED[$t]:-}" ]; then
      printf '%s\t%s\tfailed\t0\t0\t0\t0\t0\t0\t-\t-\t-\n' "$r" "$t" >>"$RESULTS"
      continue
    fi
    log "round $r/$ROUNDS: $t (${DURATION}s, -c$CONNECTIONS)"
    logf=$TMP/round$r-$t.log
    run_wrk "$t" "$DURATION" "$logf"
    line=$(grep '^WRKSTAT ' "$logf" || true)
    state=ok rps=0 p50=0 p99=0 reqs=0 non2xx=0 sockerr=0
    if [ -z "$line" ]; then
      state=bad
      warn "$t: wrk gave no result: $(last_lines "$logf")"
    else
      reqs=$(field requests "$line")
      non2xx=$(field status "$line")
      sockerr=$(($(field connect "$line") + $(field read "$line") + $(field write "$line") + \
        $(field timeout "$line")))
      errs="connect $(field connect "$line"), read $(field read "$line"), write $(field write "$line"), timeout $(field timeout "$line")"
      rps=$(awk -v q="$reqs" -v d="$(field duration_us "$line")" 'BEGIN {printf "%.1f", q / (d / 1e6)}')
      p50=$(field p50_us "$line")
      p99=$(field p99_us "$line")
      # A proxy that answers errors fast must not look fast: any non-2xx, or socket errors on
      # more than 0.1% of requests, voids the round.
      if [ "$reqs" -eq 0 ] || [ "$non2xx" -gt 0 ] || [ $((sockerr * 1000)) -gt "$reqs" ]; then
        state=bad
        why="$reqs requests, $non2xx non-2xx, socket errors: $errs"
        # Read errors on most requests mean the proxy closes the connection after each answer.
        [ "$sockerr" -gt $((reqs / 2)) ] && [ "$non2xx" -eq 0 ] &&
          why="$why (the proxy closes connections that should stay open: keep-alive?)"
        BADWHY[$t]="round $r: $why"
        warn "$t round $r: $why: not counted"
      fi
    fi
    if ! alive "${PID[$t]}"; then
      state=bad
      FAILED[$t]="exited during round $r"
      out=$(last_lines "$TMP/$t/out.log")
      [ -z "$out" ] || FAILED[$t]="${FAILED[$t]}; output: $out"
      warn "$t ${FAILED[$t]}"
    fi
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$r" "$t" "$state" "$rps" "$p50" \
      "$p99" "$reqs" "$non2xx" "$sockerr" "$OTHER0" "$OTHER1" "$PROXY_TICKS" >>"$RESULTS"
  done
done

# Peak RSS of every process of each proxy (nginx: master + worker), read before stopping them.
declare -A HWM=()
for p in "${PROXIES[@]}"; do
  if [ -n "${PID[$p]:-}" ] && alive "${PID[$p]}"; then
    # shellcheck disable=SC2046
    HWM[$p]=$(proc_kib VmHWM $(proc_tree "${PID[$p]}"))
  fi
done
for t in "${TARGETS[@]}"; do
  [ -n "${PID[$t]:-}" ] && stop_pid "${PID[$t]}"
done
stop_pid "$UPSTREAM_PID"
LOADAVG_END=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- report ----------------------------------------------------------------------------------

# stats: reads numbers, prints "median min max" (median of an even count: mean of the middle two).
stats() {
  sort -g | awk '{v[NR] = $1} END {
    if (NR == 0) {print "- - -"; exit}
    m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
    print m, v[1], v[NR]}'
}
ms() { awk -v u="$1" 'BEGIN {printf "%.2f ms", u / 1000}'; }
# same_round_ratio TARGET BASE: the median over rounds of TARGET's req/s / BASE's req/s in the
# same round, with two decimals; "—" when BASE was not run or no round counted for both.
same_round_ratio() {
  local r
  [[ " ${TARGETS[*]} " == *" $2 "* ]] || { echo "—"; return; }
  read -r r _ _ < <(awk -F'\t' -v t="$1" -v b="$2" '
    $3 == "ok" && $2 == b {n[$1] = $4}
    $3 == "ok" && $2 == t {x[$1] = $4}
    END {for (r in x) if (r in n) print x[r] / n[r]}' "$RESULTS" | stats)
  if [ "$r" = - ]; then
    echo "—"
  else
    awk -v x="$r" 'BEGIN {printf "%.2f", x}'
  fi
}
int() { awk -v x="$1" 'BEGIN {printf "%.0f", x}'; }
label() {
  case $1 in
    direct) echo "direct (no proxy)" ;;
    nginx) echo "nginx (master + worker)" ;;
    sluice-noop) echo "sluice + 5 no-op filters" ;;
    sluice-plugins) echo "sluice + jwt (HS256) + rate-limiting (local) + cors + request-transformer + prometheus" ;;
    sluice-rr3) echo "sluice balancing over 3 targets (round-robin)" ;;
    sluice-lc3) echo "sluice balancing over 3 targets (least-connections)" ;;
    *) echo "$1" ;;
  esac
}

REPORT=$TMP/report.md
{
  echo "# wrk: sluice vs nginx vs HAProxy, $DATE"
  echo
  echo "| | |"
  echo "|---|---|"
  echo "| date | $STARTED |"
  echo "| commit | $(commit_line) |"
  echo "| machine | $(machine_line) |"
  echo "| versions | $(versions_line) |"
  echo "| load | \`wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s --latency\`, $ROUNDS $([ "$ROUNDS" -eq 1 ] && echo round || echo rounds), order rotated each round, ${WARMUP} s warm-up per target |"
  echo "| pinning | wrk + upstream on CPU $CLIENT_CPU, proxy under test on CPU $PROXY_CPU; 1 worker per proxy |"
  echo "| upstream | nginx, 1 worker, \`return 200\` of a ${#UPSTREAM_BODY}-byte JSON body with Content-Length |"
  echo "| load average (1, 5, 15 min) | $LOADAVG at start, $LOADAVG_END at the end of the rounds |"
  echo
  echo "| target | req/s (median) | min–max | p50 | p99 | vs nginx, same round | vs sluice, same round | proxy CPU / request | peak RSS | rounds |"
  echo "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|"
  NOTES=()
  for t in "${TARGETS[@]}"; do
    read -r med lo hi < <(awk -F'\t' -v t="$t" '$2 == t && $3 == "ok" {print $4}' "$RESULTS" | stats)
    okn=$(awk -F'\t' -v t="$t" '$2 == t && $3 == "ok"' "$RESULTS" | wc -l)
    if [ "$med" = - ]; then
      echo "| $(label "$t") | failed | | | | | | | | 0/$ROUNDS |"
      NOTES+=("$t: ${FAILED[$t]:-no round counted; last bad one: ${BADWHY[$t]:-?}}")
      continue
    fi
    read -r p50 _ _ < <(awk -F'\t' -v t="$t" '$2 == t && $3 == "ok" {print $5}' "$RESULTS" | stats)
    read -r p99 _ _ < <(awk -F'\t' -v t="$t" '$2 == t && $3 == "ok" {print $6}' "$RESULTS" | stats)
    spread=$(awk -v m="$med" -v a="$lo" -v b="$hi" 'BEGIN {printf "%.0f–%.0f (±%.1f%%)", a, b, (b - a) / 2 / m * 100}')
    ratio=$(same_round_ratio "$t" nginx)
    sratio=$(same_round_ratio "$t" sluice)
    # CPU time the proxy itself used per answered request (median over rounds): unlike req/s, it
    # hardly moves when other processes share the proxy's CPU.
    cpu="—"
    read -r cpu_us _ _ < <(awk -F'\t' -v t="$t" -v hz="$(getconf CLK_TCK)" '
      $2 == t && $3 == "ok" && $12 != "-" && $7 > 0 {print $12 / hz * 1e6 / $7}' "$RESULTS" | stats)
    [ "$cpu_us" = - ] || cpu=$(awk -v x="$cpu_us" 'BEGIN {printf "%.1f µs", x}')
    rss="—"
    [ -n "${HWM[$t]:-}" ] && rss=$(awk -v k="${HWM[$t]}" 'BEGIN {printf "%.1f MiB", k / 1024}')
    echo "| $(label "$t") | $(int "$med") | $spread | $(ms "$p50") | $(ms "$p99") | $ratio | $sratio | $cpu | $rss | $okn/$ROUNDS |"
    if [ -n "${FAILED[$t]:-}" ]; then
      NOTES+=("$t: ${FAILED[$t]}")
    elif [ -n "${BADWHY[$t]:-}" ]; then
      NOTES+=("$t: some rounds not counted; last: ${BADWHY[$t]}")
    fi
  done
  # Runs where other processes took more than 10% of a benchmark CPU (for direct only CPU 0
  # counts: nothing of the benchmark runs on the proxy CPU then).
  noisy=$(awk -F'\t' '$3 == "ok" && $10 != "-" && ($10 > 10 || ($2 != "direct" && $11 > 10))' \
    "$RESULTS" | wc -l)
  runs=$(awk -F'\t' '$3 == "ok"' "$RESULTS" | wc -l)
  if [ "$noisy" -gt 0 ]; then
    echo
    echo "**Noisy machine:** in $noisy of $runs runs, other processes took more than 10% of"
    echo "CPU $CLIENT_CPU or CPU $PROXY_CPU (see the rounds below). Trust the same-round ratios more than"
    echo "the absolute req/s, and the per-request costs further down most: they do not depend on load."
  fi
  echo
  echo "Per round: req/s in the order run, with the share of CPU $CLIENT_CPU and CPU $PROXY_CPU that other"
  echo "processes (builds, tests, hypervisor steal) took meanwhile. \`bad\`: errors or non-2xx, not counted."
  echo
  printf '| round | order |'
  printf ' %s |' "${TARGETS[@]}"
  echo
  printf '|--:|---|'
  printf -- '--:|%.0s' "${TARGETS[@]}"
  echo
  for ((r = 1; r <= ROUNDS; r++)); do
    printf '| %d | %s |' "$r" "${ORDERS[r - 1]// / → }"
    for t in "${TARGETS[@]}"; do
      awk -F'\t' -v r="$r" -v t="$t" '$1 == r && $2 == t {
        o = ($10 == "-") ? "" : sprintf(" (%s%%, %s%%)", $10, $11)
        if ($3 == "ok") printf " %.0f%s |", $4, o
        else if ($3 == "bad") printf " bad%s |", o
        else printf " %s |", $3}' "$RESULTS"
    done
    echo
  done
  if [ ${#NOTES[@]} -gt 0 ]; then
    echo
    for note in "${NOTES[@]}"; do
      echo "- $note"
    done
  fi
} >"$REPORT"

if [ "$COSTS" = 1 ] && [ ${#PROXIES[@]} -gt 0 ]; then
  log "per-request costs (costs.sh)"
  rc=0
  "$BENCH_DIR/wrk/costs.sh" --requests "$REQUESTS" --idle "$IDLE" --connections "$CONNECTIONS" \
    --only "$(IFS=,; echo "${PROXIES[*]}")" "${COSTS_ARGS[@]}" >"$TMP/costs.md" || rc=$?
  echo >>"$REPORT"
  cat "$TMP/costs.md" >>"$REPORT"
  [ "$rc" -eq 0 ] || printf '\ncosts.sh failed (exit %d); the table above may be partial.\n' "$rc" >>"$REPORT"
fi

mkdir -p "$(dirname "$OUT")"
cp "$REPORT" "$OUT"
cat "$REPORT"
log "wrote $OUT"
