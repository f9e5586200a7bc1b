#!/usr/bin/env bash
# bench/run.sh: the benchmark run of `make bench`.
#
#   bench/run.sh [BUILD_DIR] [DEVICES...]          (defaults: build, 1000 10000)
#
# The machine is shared and noisy, so nothing here is judged against a fixed number: for
# each device count the daemon's Update rate is reported as a ratio to a trivial UDP echo
# server (bench/udp_echo) measured moments before with the same load generator, the same
# device count and the same number of requests. Per device count:
#   1. lwm2m_load --mode echo against udp_echo                   -> echo_rps, the ceiling
#   2. a fresh lwm2md on a temp database; a product and N devices through the REST API
#      (bench/api_create, one keep-alive connection, BENCH_API_BATCH devices per request
#      through POST .../devices/batch; 0: one per request)        -> api devices/s
#   3. lwm2m_load --mode lwm2m: N Registers, then N x UPDATES Updates, with the daemon's
#      VmRSS read before and after registration                  -> rps, latency, RSS/device
# then a summary table. Everything is on loopback; every wait is bounded; the processes
# started here are stopped on exit.
#
# Environment: BENCH_API_BATCH (devices per API request, 1000; 0 for one per request),
# BENCH_UPDATES (Update rounds per device, 10), BENCH_MIN_REQUESTS (at least
# this many Updates per device count, 500000, so that a small fleet's run lasts long
# enough to be steady: 1 000 devices then send 500 Updates each), BENCH_WINDOW (requests in
# flight, 256), BENCH_MAX_SECONDS (limit per phase, 300), BENCH_BIN (where udp_echo,
# lwm2m_load and api_create are; default BUILD_DIR).
set -euo pipefail

build=${1:-build}
if [ $# -gt 0 ]; then shift; fi
if [ $# -gt 0 ]; then devices=("$@"); else devices=(1000 10000); fi
bin=${BENCH_BIN:-$build}
updates=${BENCH_UPDATES:-10}
min_requests=${BENCH_MIN_REQUESTS:-500000}
api_batch=${BENCH_API_BATCH:-1000}
window=${BENCH_WINDOW:-256}
max_seconds=${BENCH_MAX_SECONDS:-300}

. "$(dirname "$0")/lib.sh"

[[ $min_requests =~ ^[0-9]{1,8}$ ]] || die "not a count: BENCH_MIN_REQUESTS='$min_requests'"
[[ $api_batch =~ ^[0-9]{1,4}$ ]] || die "not a batch size: BENCH_API_BATCH='$api_batch'"
batch_args=()
if [ "$api_batch" -gt 0 ]; then batch_args=(--batch "$api_batch"); fi
for n in "${devices[@]}" "$updates" "$window" "$max_seconds"; do
  [[ $n =~ ^[1-9][0-9]{0,5}$ ]] || die "not a count in 1..999999: '$n'"
done
for exe in "$build/lwm2md" "$bin/udp_echo" "$bin/lwm2m_load" "$bin/api_create"; do
  [ -x "$exe" ] || die "$exe is missing (build first: make build)"
done
command -v curl >/dev/null || die "curl is needed (apt-get install curl)"

bench_tmp lwm2md-bench

# --- the baseline ---
"$bin/udp_echo" 127.0.0.1:0 >"$tmp/echo.out" 2>"$tmp/echo.err" &
echo_pid=$!
pids+=("$echo_pid")
echo_addr=$(wait_line "$tmp/echo.out" 'listening udp [0-9.]+:[0-9]+' "$echo_pid") ||
  die "udp_echo did not start: $(cat "$tmp/echo.err")"
echo_addr=${echo_addr#listening udp }
echo "bench: udp_echo on $echo_addr; devices ${devices[*]}; $updates updates each;" \
     "window $window"

status=0
summary=()

run_one() {
  local n=$1 dir="$tmp/$1" load_rc=0
  mkdir -p "$dir"
  # Enough Updates for the run to be steady, whatever the fleet's size.
  local updates=$updates
  if (( updates * n < min_requests )); then
    updates=$(( (min_requests + n - 1) / n ))
  fi

  local echo_line
  echo_line=$("$bin/lwm2m_load" --mode echo --target "$echo_addr" --devices "$n" \
                --updates "$updates" --window "$window" --max-seconds "$max_seconds" \
                2>"$dir/echo_load.err") || load_rc=$?
  echo_line=$(grep -m1 '^phase=echo ' <<<"$echo_line" || true)
  if [ -z "$echo_line" ]; then
    cat "$dir/echo_load.err" >&2
    echo "bench: echo run failed" >&2
    return 1
  fi
  echo "n=$n $echo_line"

  # The token is made on the database before the daemon opens it.
  local db="$dir/db.sqlite" token
  token=$("$build/lwm2md" token create --db "$db" --project bench) ||
    { echo "bench: token create failed" >&2; return 1; }
  "$build/lwm2md" --db "$db" --coap 127.0.0.1:0 --coaps 127.0.0.1:0 --http 127.0.0.1:0 --log-level warn \
    >"$dir/daemon.out" 2>"$dir/daemon.err" &
  local dpid=$!
  pids+=("$dpid")
  local coap http
  if ! coap=$(wait_line "$dir/daemon.out" 'listening coap [0-9.]+:[0-9]+' "$dpid") ||
     ! http=$(wait_line "$dir/daemon.out" 'listening http [0-9.]+:[0-9]+' "$dpid"); then
    tail -n 20 "$dir/daemon.err" >&2
    echo "bench: lwm2md did not start" >&2
    return 1
  fi
  coap=${coap#listening coap }
  http=${http#listening http }

  local code product
  product='{"product_id":"bench","name":"bench","protocol_type":"LwM2M","data_format":"binary"}'
  code=$(curl -sS -o "$dir/product.json" -w '%{http_code}' --max-time 10 -X POST \
           -H "X-Auth-Token: $token" -H 'Content-Type: application/json' \
           -d "$product" "http://$http/v5/iot/bench/products") || true
  if [ "$code" != 201 ]; then
    echo "bench: product create: HTTP $code $(cat "$dir/product.json" 2>/dev/null)" >&2
    return 1
  fi

  local api_line
  api_line=$("$bin/api_create" "${batch_args[@]}" --api "$http" --token "$token" --project bench --product bench \
               --prefix bench --devices "$n") ||
    { echo "bench: device create failed: $api_line" >&2; return 1; }
  echo "n=$n $api_line"

  local out reg_line mem_line upd_line
  load_rc=0
  out=$("$bin/lwm2m_load" --mode lwm2m --target "$coap" --devices "$n" --prefix bench \
          --updates "$updates" --window "$window" --max-seconds "$max_seconds" \
          --pid "$dpid" 2>"$dir/lwm2m_load.err") || load_rc=$?
  reg_line=$(grep -m1 '^phase=register ' <<<"$out" || true)
  mem_line=$(grep -m1 '^memory ' <<<"$out" || true)
  upd_line=$(grep -m1 '^phase=update ' <<<"$out" || true)
  local line
  for line in "$reg_line" "$mem_line" "$upd_line"; do
    if [ -n "$line" ]; then echo "n=$n $line"; fi
  done
  if [ "$load_rc" -ne 0 ]; then
    sed 's/^/bench: /' "$dir/lwm2m_load.err" >&2
  fi

  local alive=yes drc=0
  kill -0 "$dpid" 2>/dev/null || alive=no
  stop "$dpid" || drc=$?
  forget "$dpid"
  if [ "$alive" = no ]; then
    echo "bench: lwm2md died during the run (status $drc)" >&2
    tail -n 20 "$dir/daemon.err" >&2
    return 1
  fi
  if [ -z "$reg_line" ] || [ -z "$upd_line" ]; then
    echo "bench: lwm2m run failed" >&2
    return 1
  fi

  local echo_rps upd_rps
  echo_rps=$(field rps "$echo_line")
  upd_rps=$(field rps "$upd_line")
  summary+=("$(printf '%8s %10s %10s %7s %10s %7s %7s %13s %13s %10s %9s' "$n" \
    "$echo_rps" "$upd_rps" "$(ratio "$upd_rps" "$echo_rps")" \
    "$(field rps "$reg_line")" "$(ratio "$(field rps "$reg_line")" "$echo_rps")" \
    "$(field per_second "$api_line")" \
    "$(field p50_us "$echo_line")/$(field p99_us "$echo_line")" \
    "$(field p50_us "$upd_line")/$(field p99_us "$upd_line")" \
    "$(field rss_per_device_bytes "$mem_line")" \
    "$(( $(field lost "$reg_line") + $(field lost "$upd_line") ))")")
  return 0
}

for n in "${devices[@]}"; do
  run_one "$n" || status=1
done

echo
echo "bench: update_rps / echo_rps is the figure to track; absolute numbers vary with the machine."
echo "bench: api/s creates devices $([ "$api_batch" -gt 0 ] && echo "$api_batch per request (devices/batch)" || echo "one per request")."
printf '%8s %10s %10s %7s %10s %7s %7s %13s %13s %10s %9s\n' devices echo_rps update_rps ratio \
  reg_rps reg/echo api/s echo_p50/p99 upd_p50/p99 rss_B/dev lwm2m_lost
for line in "${summary[@]}"; do
  echo "$line"
done
exit "$status"
