#!/usr/bin/env bash
# bench/cpu_cost.sh: what one Register and one Update cost the daemon in CPU time.
#
#   bench/cpu_cost.sh [BUILD_DIR] [DEVICES...]          (defaults: build, 1000 100000)
#
# Rates move with whatever else the shared machine runs; the CPU time the kernel charges
# to each of the daemon's threads (/proc/PID/task/TID/schedstat) moves far less. Per device
# count, on a fresh daemon with N devices (created through the REST API):
#   1. a warm-up run of lwm2m_load: every device Registers and Updates once;
#   2. run A: every device Registers again (replacing its registration) and Updates once;
#   3. run B: every device Registers again and Updates 1 + K times, K = 10, or more for a
#      small fleet so that run B has at least 200 000 Updates;
# with the threads' CPU time read before and after each run. A costs R + U, B costs
# R + (1 + K) U: an Update costs (B - A) / K per device, a re-Register A - U. Printed per
# thread group: the event loop (the thread whose id is the process's) and all the
# others (the store's registrations writer, the codec threads).
#
#   cpu n=N register_loop_us=… register_other_us=… update_loop_us=… update_other_us=…
#       update_rps=… update_p99_us=…
#
# Environment: BENCH_BIN (where lwm2m_load and api_create are; default BUILD_DIR),
# BENCH_WINDOW (requests in flight, 256).
set -euo pipefail

build=${1:-build}
if [ $# -gt 0 ]; then shift; fi
if [ $# -gt 0 ]; then devices=("$@"); else devices=(1000 100000); fi
bin=${BENCH_BIN:-$build}
window=${BENCH_WINDOW:-256}

. "$(dirname "$0")/lib.sh"

for n in "${devices[@]}"; do
  [[ $n =~ ^[1-9][0-9]{0,5}$ ]] || die "not a count in 1..999999: '$n'"
done
for exe in "$build/lwm2md" "$bin/lwm2m_load" "$bin/api_create"; do
  [ -x "$exe" ] || die "$exe is missing (build first: make build)"
done
command -v curl >/dev/null || die "curl is needed (apt-get install curl)"
[ -r /proc/self/schedstat ] || die "/proc/PID/schedstat is needed (a kernel with schedstats)"

bench_tmp lwm2md-cpu

# cpu_ns PID: "LOOP OTHERS", nanoseconds on CPU of the loop thread and of the others.
cpu_ns() {
  local pid=$1 loop=0 others=0 t v
  for t in /proc/"$pid"/task/*; do
    v=$(awk '{print $1}' "$t/schedstat" 2>/dev/null || echo 0)
    if [ "${t##*/}" = "$pid" ]; then loop=$((loop + v)); else others=$((others + v)); fi
  done
  echo "$loop $others"
}

run_one() {
  local n=$1 dir="$tmp/$1"
  mkdir -p "$dir"
  local db="$dir/db.sqlite" token
  token=$("$build/lwm2md" token create --db "$db" --project bench 2>/dev/null) ||
    { echo "bench: token create failed" >&2; return 1; }
  "$build/lwm2md" --db "$db" --coap 127.0.0.1:0 --coaps 127.0.0.1:0 --http 127.0.0.1:0 \
    --log-level warn >"$dir/daemon.out" 2>"$dir/daemon.err" &
  local dpid=$!
  pids+=("$dpid")
  local coap http
  coap=$(wait_line "$dir/daemon.out" 'listening coap [0-9.]+:[0-9]+' "$dpid") &&
    http=$(wait_line "$dir/daemon.out" 'listening http [0-9.]+:[0-9]+' "$dpid") ||
    { echo "bench: lwm2md did not start" >&2; return 1; }
  coap=${coap#listening coap }
  http=${http#listening http }
  curl -sS -o /dev/null --max-time 10 -X POST -H "X-Auth-Token: $token" \
    -H 'Content-Type: application/json' \
    -d '{"product_id":"bench","name":"bench","protocol_type":"LwM2M","data_format":"binary"}' \
    "http://$http/v5/iot/bench/products"
  "$bin/api_create" --api "$http" --token "$token" --project bench --product bench \
    --prefix bench --devices "$n" >/dev/null ||
    { echo "bench: device create failed" >&2; return 1; }

  load() {
    "$bin/lwm2m_load" --mode lwm2m --target "$coap" --devices "$n" --prefix bench \
      --updates "$1" --window "$window" 2>>"$dir/load.err" | grep -m1 '^phase=update ' || true
  }
  load 1 >/dev/null
  local l0 o0 l1 o1 l2 o2 line
  read -r l0 o0 < <(cpu_ns "$dpid")
  load 1 >/dev/null
  read -r l1 o1 < <(cpu_ns "$dpid")
  local k=10
  if (( k * n < 200000 )); then k=$(( (200000 + n - 1) / n )); fi
  line=$(load $((k + 1)))
  read -r l2 o2 < <(cpu_ns "$dpid")
  stop "$dpid" || true
  forget "$dpid"
  [ -n "$line" ] || { echo "bench: lwm2m_load failed: $(tail -3 "$dir/load.err")" >&2; return 1; }
  awk -v n="$n" -v k="$k" -v l0="$l0" -v o0="$o0" -v l1="$l1" -v o1="$o1" -v l2="$l2" -v o2="$o2" \
      -v rps="$(field rps "$line")" -v p99="$(field p99_us "$line")" 'BEGIN {
    ua = (l1 - l0) / 1e3 / n; ub = (l2 - l1) / 1e3 / n   # loop µs per device, runs A and B
    oa = (o1 - o0) / 1e3 / n; ob = (o2 - o1) / 1e3 / n
    ul = (ub - ua) / k; uo = (ob - oa) / k
    printf "cpu n=%d register_loop_us=%.1f register_other_us=%.1f update_loop_us=%.2f" \
           " update_other_us=%.2f update_rps=%s update_p99_us=%s\n", \
           n, ua - ul, oa - uo, ul, uo, rps, p99 }'
}

status=0
for n in "${devices[@]}"; do
  run_one "$n" || status=1
done
exit "$status"
