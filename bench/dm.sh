#!/usr/bin/env bash
# bench/dm.sh: the device-management benchmark — notifications in, REST reads through.
#
#   bench/dm.sh [BUILD_DIR] [DEVICES...]          (defaults: build, 1000 10000)
#
# As in bench/run.sh, nothing is judged against a fixed number: every rate is reported as a
# ratio to a baseline measured in the same run, moments before or after. Per device count:
#   1. lwm2m_load --mode echo --shape notify against udp_echo, TLV and SenML CBOR: the same
#      notification datagrams, sizes and counts as step 3, echoed   -> the UDP ceiling
#   2. a fresh lwm2md on a temp database; a product and N devices (bench/api_create)
#   3. per format (tlv, senml-cbor): lwm2m_load --mode notify registers the N devices and
#      waits; http_load makes one observation per device through the REST API
#      (GET .../lwm2m/3/0?op=observe&format=F); the devices then send NOTIFICATIONS CON
#      notifications each, WINDOW in flight               -> notifications/s, / ceiling
#   4. the same in TLV with one SSE subscriber (curl -N on /v5/iot/bench/events)
#   5. lwm2m_load --mode serve registers the N devices and answers Reads; http_load with
#      CONNECTIONS keep-alive connections runs READS requests each against GET /health,
#      GET one device, and GET .../lwm2m/3/0/9 (a CoAP Read of the device)
#                                                          -> reads/s, / health, / ceiling
# then stops the daemon and checks it had not died, and prints summary tables.
#
# Environment: BENCH_NOTIFICATIONS (per device, 50), BENCH_WINDOW (CoAP messages in
# flight, 256), BENCH_READS (HTTP requests per read phase, 20000), BENCH_CONNECTIONS (HTTP
# connections, 64), BENCH_SSE (1: run step 4, 0: skip it), BENCH_MAX_SECONDS (limit per
# phase, 60), BENCH_BIN (where the bench programs are; default BUILD_DIR).
set -euo pipefail

build=${1:-build}
if [ $# -gt 0 ]; then shift; fi
if [ $# -gt 0 ]; then devices=("$@"); else devices=(1000 10000); fi
bin=${BENCH_BIN:-$build}
notifications=${BENCH_NOTIFICATIONS:-50}
window=${BENCH_WINDOW:-256}
reads=${BENCH_READS:-20000}
connections=${BENCH_CONNECTIONS:-64}
sse=${BENCH_SSE:-1}
max_seconds=${BENCH_MAX_SECONDS:-60}

. "$(dirname "$0")/lib.sh"

for n in "${devices[@]}" "$notifications" "$window" "$reads" "$connections" "$max_seconds"; do
  [[ $n =~ ^[1-9][0-9]{0,5}$ ]] || die "not a count in 1..999999: '$n'"
done
for exe in "$build/lwm2md" "$bin/udp_echo" "$bin/lwm2m_load" "$bin/api_create" \
           "$bin/http_load"; do
  [ -x "$exe" ] || die "$exe is missing (build first: make build)"
done
command -v curl >/dev/null || die "curl is needed (apt-get install curl)"

bench_tmp lwm2md-dm

# --- the baseline server ---
"$bin/udp_echo" 127.0.0.1:0 >"$tmp/echo.out" 2>"$tmp/echo.err" &
echo_pid=$!
pids+=("$echo_pid")
echo_addr=$(wait_line "$tmp/echo.out" 'listening udp [0-9.]+:[0-9]+' "$echo_pid") ||
  die "udp_echo did not start: $(cat "$tmp/echo.err")"
echo_addr=${echo_addr#listening udp }
echo "bench: udp_echo on $echo_addr; devices ${devices[*]}; $notifications notifications" \
     "each; window $window; $reads HTTP reads over $connections connections"

status=0
notify_rows=()
read_rows=()

# echo_run N FORMAT: the notification-shaped echo; prints its result line.
echo_run() {
  local n=$1 format=$2 out
  out=$("$bin/lwm2m_load" --mode echo --shape notify --format "$format" --target "$echo_addr" \
          --devices "$n" --updates "$notifications" --window "$window" \
          --max-seconds "$max_seconds" 2>"$tmp/$n/echo_$format.err") || true
  out=$(grep -m1 '^phase=echo ' <<<"$out" || true)
  [ -n "$out" ] || { cat "$tmp/$n/echo_$format.err" >&2; return 1; }
  echo "$out"
}

# notify_run N FORMAT LABEL: registration, one observation per device through the API,
# then the notifications. Sets obs_line and ntf_line; prints both.
notify_run() {
  local n=$1 format=$2 label=$3 dir="$tmp/$1" lpid rc=0
  obs_line=
  ntf_line=
  "$bin/lwm2m_load" --mode notify --format "$format" --target "$coap" --devices "$n" \
    --prefix bench --notifications "$notifications" --window "$window" \
    --max-seconds "$max_seconds" >"$dir/notify_$label.out" 2>"$dir/notify_$label.err" &
  lpid=$!
  pids+=("$lpid")
  if ! wait_line "$dir/notify_$label.out" '^phase=register .*' "$lpid" "$max_seconds" \
       >/dev/null; then
    cat "$dir/notify_$label.err" >&2
    echo "bench: $label: the devices did not register" >&2
    stop "$lpid" || true
    forget "$lpid"
    return 1
  fi
  obs_line=$("$bin/http_load" --api "$http" --token "$token" --route lwm2m --path 3/0 \
               --query "op=observe&format=$format" --expect observation_id \
               --devices "$n" --requests "$n" --connections "$connections" \
               --name "observe_$format" --max-seconds "$max_seconds" \
               2>"$dir/observe_$label.err") || rc=$?
  [ "$rc" -eq 0 ] || sed 's/^/bench: /' "$dir/observe_$label.err" >&2
  rc=0
  wait "$lpid" || rc=$?
  forget "$lpid"
  [ "$rc" -eq 0 ] || sed 's/^/bench: /' "$dir/notify_$label.err" >&2
  ntf_line=$(grep -m1 '^phase=notify ' "$dir/notify_$label.out" || true)
  echo "n=$n $label $(grep -m1 '^phase=register ' "$dir/notify_$label.out")"
  echo "n=$n $label $(grep -m1 '^phase=observe ' "$dir/notify_$label.out" || true)"
  echo "n=$n $label $obs_line"
  echo "n=$n $label $ntf_line"
  [ -n "$ntf_line" ] && [ -n "$obs_line" ]
}

run_one() {
  local n=$1 dir="$tmp/$1"
  mkdir -p "$dir"

  local echo_tlv echo_cbor
  echo_tlv=$(echo_run "$n" tlv) || { echo "bench: echo run failed" >&2; return 1; }
  echo_cbor=$(echo_run "$n" senml-cbor) || { echo "bench: echo run failed" >&2; return 1; }
  echo "n=$n tlv $echo_tlv"
  echo "n=$n senml-cbor $echo_cbor"

  # The token is made on the database before the daemon opens it.
  local db="$dir/db.sqlite"
  token=$("$build/lwm2md" token create --db "$db" --project bench 2>/dev/null) ||
    { echo "bench: token create failed" >&2; return 1; }
  "$build/lwm2md" --db "$db" --coap 127.0.0.1:0 --coaps 127.0.0.1:0 --http 127.0.0.1:0 \
    --log-level warn >"$dir/daemon.out" 2>"$dir/daemon.err" &
  local dpid=$!
  pids+=("$dpid")
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
  api_line=$("$bin/api_create" --api "$http" --token "$token" --project bench --product bench \
               --prefix bench --devices "$n") ||
    { echo "bench: device create failed: $api_line" >&2; return 1; }
  echo "n=$n $api_line"

  local ok=1 ntf_tlv= ntf_cbor= ntf_sse= obs_tlv= obs_cbor= sse_events=- sse_dropped=-
  if notify_run "$n" tlv tlv; then ntf_tlv=$ntf_line; obs_tlv=$obs_line; else ok=0; fi
  if notify_run "$n" senml-cbor senml-cbor; then
    ntf_cbor=$ntf_line
    obs_cbor=$obs_line
  else
    ok=0
  fi
  if [ "$sse" = 1 ]; then
    curl -sS -N -H "X-Auth-Token: $token" "http://$http/v5/iot/bench/events" \
      >"$dir/sse.out" 2>"$dir/sse.err" &
    local cpid=$!
    pids+=("$cpid")
    sleep 0.3
    if notify_run "$n" tlv tlv_sse; then ntf_sse=$ntf_line; else ok=0; fi
    sleep 0.5 # the last events on their way
    stop "$cpid" || true
    forget "$cpid"
    sse_events=$(grep -c '^event: notification' "$dir/sse.out" || true)
    sse_dropped=$(grep -c '^event: dropped' "$dir/sse.out" || true)
    echo "n=$n sse subscriber_notification_events=$sse_events dropped_events=$sse_dropped"
  fi

  # Reads through the whole path: API -> CoAP -> device -> API.
  local spid health_line device_line read_line serve_line
  "$bin/lwm2m_load" --mode serve --target "$coap" --devices "$n" --prefix bench \
    --window "$window" --max-seconds "$((max_seconds * 4))" \
    >"$dir/serve.out" 2>"$dir/serve.err" &
  spid=$!
  pids+=("$spid")
  if wait_line "$dir/serve.out" '^phase=register .*' "$spid" "$max_seconds" >/dev/null; then
    local h=("$bin/http_load" --api "$http" --token "$token" --devices "$n" \
             --requests "$reads" --connections "$connections" --max-seconds "$max_seconds")
    health_line=$("${h[@]}" --route health 2>"$dir/health.err") ||
      sed 's/^/bench: /' "$dir/health.err" >&2
    device_line=$("${h[@]}" --route device 2>"$dir/device.err") ||
      sed 's/^/bench: /' "$dir/device.err" >&2
    read_line=$("${h[@]}" --route lwm2m --path 3/0/9 --expect '"code":"2.05"' --name read \
                  2>"$dir/read.err") || sed 's/^/bench: /' "$dir/read.err" >&2
    echo "n=$n $health_line"
    echo "n=$n $device_line"
    echo "n=$n $read_line"
  else
    cat "$dir/serve.err" >&2
    echo "bench: the serving devices did not register" >&2
    ok=0
  fi
  stop "$spid" || true
  forget "$spid"
  serve_line=$(grep -m1 '^phase=serve ' "$dir/serve.out" || true)
  echo "n=$n $serve_line"

  local alive=yes drc=0
  kill -0 "$dpid" 2>/dev/null || alive=no
  stop "$dpid" || drc=$?
  forget "$dpid"
  if [ "$alive" = no ]; then
    echo "bench: lwm2md died during the run (status $drc)" >&2
    tail -n 20 "$dir/daemon.err" >&2
    return 1
  fi

  local et ec
  et=$(field rps "$echo_tlv")
  ec=$(field rps "$echo_cbor")
  notify_rows+=("$(printf '%8s %-12s %9s %9s %9s %7s %11s %11s %13s %7s' "$n" tlv \
    "$et" "$(field rps "$ntf_tlv")" "$(field req_bytes "$ntf_tlv")" \
    "$(ratio "$(field rps "$ntf_tlv")" "$et")" "$(field rps "$obs_tlv")" \
    "$(field p50_us "$echo_tlv")/$(field p99_us "$echo_tlv")" \
    "$(field p50_us "$ntf_tlv")/$(field p99_us "$ntf_tlv")" \
    "$(( $(field lost "$ntf_tlv" | sed 's/-/0/') + $(field err "$ntf_tlv" | sed 's/-/0/') ))")")
  notify_rows+=("$(printf '%8s %-12s %9s %9s %9s %7s %11s %11s %13s %7s' "$n" senml-cbor \
    "$ec" "$(field rps "$ntf_cbor")" "$(field req_bytes "$ntf_cbor")" \
    "$(ratio "$(field rps "$ntf_cbor")" "$ec")" "$(field rps "$obs_cbor")" \
    "$(field p50_us "$echo_cbor")/$(field p99_us "$echo_cbor")" \
    "$(field p50_us "$ntf_cbor")/$(field p99_us "$ntf_cbor")" \
    "$(( $(field lost "$ntf_cbor" | sed 's/-/0/') + $(field err "$ntf_cbor" | sed 's/-/0/') ))")")
  if [ "$sse" = 1 ]; then
    notify_rows+=("$(printf '%8s %-12s %9s %9s %9s %7s %11s %11s %13s %7s' "$n" tlv+sse \
      "$et" "$(field rps "$ntf_sse")" "$(field req_bytes "$ntf_sse")" \
      "$(ratio "$(field rps "$ntf_sse")" "$et")" "events=$sse_events" \
      "dropped=$sse_dropped" \
      "$(field p50_us "$ntf_sse")/$(field p99_us "$ntf_sse")" \
      "$(( $(field lost "$ntf_sse" | sed 's/-/0/') + $(field err "$ntf_sse" | sed 's/-/0/') ))")")
  fi
  local hr dr rr
  hr=$(field rps "$health_line")
  dr=$(field rps "$device_line")
  rr=$(field rps "$read_line")
  read_rows+=("$(printf '%8s %9s %9s %9s %9s %8s %8s %8s %13s %13s %5s' "$n" "$et" "$hr" "$dr" \
    "$rr" "$(ratio "$rr" "$hr")" "$(ratio "$rr" "$dr")" "$(ratio "$rr" "$et")" \
    "$(field p50_us "$health_line")/$(field p99_us "$health_line")" \
    "$(field p50_us "$read_line")/$(field p99_us "$read_line")" \
    "$(( $(field lost "$read_line" | sed 's/-/0/') + $(field err "$read_line" | sed 's/-/0/') ))")")
  [ "$ok" = 1 ]
}

for n in "${devices[@]}"; do
  run_one "$n" || status=1
done

echo
echo "bench: notify_rps / echo_rps is the figure to track (the echo: the same datagrams);" \
     "absolute numbers vary with the machine."
printf '%8s %-12s %9s %9s %9s %7s %11s %11s %13s %7s\n' devices format echo_rps notify_rps \
  bytes ratio observe/s echo_p50/99 notify_p50/99 failed
for line in "${notify_rows[@]}"; do
  echo "$line"
done
echo
echo "bench: REST reads (GET .../lwm2m/3/0/9, $connections connections) against GET /health," \
     "GET of one device and the TLV echo ceiling."
printf '%8s %9s %9s %9s %9s %8s %8s %8s %13s %13s %5s\n' devices echo_rps health/s device/s \
  read/s r/health r/device r/echo health_p50/99 read_p50/99 fail
for line in "${read_rows[@]}"; do
  echo "$line"
done
exit "$status"
