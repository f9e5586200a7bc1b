#!/usr/bin/env bash
# bench/api_scale.sh: the REST API with a fleet stored (issue 15, aim 6). Over keep-alive
# connections (bench/http_load), against a daemon whose database holds N devices: how
# many device GETs and device-list pages a second it answers, each as a ratio to the same
# run's GET /health (the HTTP floor: no token, no store).
#
#   bench/api_scale.sh [BUILD_DIR] [N]                   (defaults: build, 1000000)
#
#   1. a fresh lwm2md on a temporary database (or BENCH_DB's, below); products bench
#      (8 in 10 devices), valve and gauge (1 in 10 each); the devices bench000000…,
#      valve000000…, gauge000000… (device_id <product>_<node_id>) through the REST API
#      with bench/api_create: one POST each, or POST …/devices/batch of BENCH_BATCH
#      devices when that is set                                            -> created/s
#   2. the first BENCH_ONLINE bench devices register (bench/lwm2m_load --mode lwm2m) and
#      stay registered: ONLINE, the rest INACTIVE;
#   3. http_load phases, one after the other, BENCH_REQUESTS requests each over
#      BENCH_CONNECTIONS keep-alive connections, every authenticated one with the token:
#        health         GET /health
#        device_get     GET …/devices/bench_benchNNNNNN, NNNNNN pseudo-random
#        list_first     GET …/devices?limit=50 (the first page, again and again)
#        list_walk      the same, each connection following page.marker, its walk
#                       starting at a different part of the fleet
#        list_status    …&status=ONLINE, walked           (BENCH_ONLINE match)
#        list_inactive  …&status=INACTIVE, walked         (nearly all match)
#        list_product   …&product_id=valve, walked        (1 in 10)
#        list_both      …&product_id=bench&status=ONLINE, walked
#      one line each: req/s, p50/p99 µs, the ratio to health's req/s, and the event
#      loop's CPU µs per request (the daemon's main thread, from schedstat: far less
#      sensitive to the machine's other load than a rate);
#   4. stops the daemon and checks it had not died.
#
# Environment: BENCH_REQUESTS (20000), BENCH_CONNECTIONS (64), BENCH_ONLINE (2000),
# BENCH_BATCH (unset: single creates), BENCH_MAX_SECONDS (limit per phase, 120),
# BENCH_DB (a path: the database is made there on the first run and
# kept, with its token in BENCH_DB.token; a later run with the same N reuses it and skips
# step 1 — a million devices take minutes to create).
set -euo pipefail

build=${1:-build}
n=${2:-1000000}
requests=${BENCH_REQUESTS:-20000}
connections=${BENCH_CONNECTIONS:-64}
online=${BENCH_ONLINE:-2000}
max_seconds=${BENCH_MAX_SECONDS:-120}
batch=${BENCH_BATCH:-}

. "$(dirname "$0")/lib.sh"

[[ $n =~ ^[1-9][0-9]{0,6}$ ]] && [ "$n" -ge 1000 ] && [ "$n" -le 1000000 ] ||
  die "the device count is 1000..1000000: '$n'"
[[ $requests =~ ^[1-9][0-9]{0,7}$ ]] || die "BENCH_REQUESTS is a count: '$requests'"
[[ $connections =~ ^[1-9][0-9]{0,2}$ ]] && [ "$connections" -le 200 ] ||
  die "BENCH_CONNECTIONS is 1..200 (the API takes 256): '$connections'"
meters=$((n * 8 / 10))
[[ $online =~ ^[0-9]+$ ]] && [ "$online" -le "$meters" ] && [ "$online" -le 65000 ] ||
  die "BENCH_ONLINE is 0..min(65000, 8/10 of N): '$online'"
[ -z "$batch" ] || [[ $batch =~ ^[1-9][0-9]{0,4}$ ]] || die "BENCH_BATCH is a count: '$batch'"
for exe in lwm2md api_create http_load lwm2m_load; do
  [ -x "$build/$exe" ] || die "$build/$exe is missing (build first: make build)"
done
command -v curl >/dev/null || die "curl is needed"

bench_tmp lwm2md-api-scale
valves=$((n / 10))
gauges=$((n - meters - valves))

if [ -n "${BENCH_DB:-}" ]; then
  db=$BENCH_DB
else
  db="$tmp/lwm2md.db"
fi
reuse=no
if [ -f "$db" ] && [ -f "$db.token" ]; then
  [ "$(cat "$db.devices" 2>/dev/null)" = "$n" ] ||
    die "$db holds $(cat "$db.devices" 2>/dev/null || echo '?') devices, not $n: remove it"
  reuse=yes
  token=$(cat "$db.token")
elif [ -e "$db" ]; then
  die "$db exists but is not this script's (no $db.token): remove it"
else
  token=$("$build/lwm2md" token create --db "$db" --project bench 2>/dev/null | tail -1)
  [ -n "$token" ] || die "no token"
fi

# The daemon: a keep-alive client's requests all land on its one event loop.
"$build/lwm2md" --db "$db" --coap 127.0.0.1:0 --coaps 127.0.0.1:0 --http 127.0.0.1:0 \
  --log-level warn >"$tmp/daemon.out" 2>"$tmp/daemon.err" &
daemon=$!
pids+=("$daemon")
http=$(wait_line "$tmp/daemon.out" 'listening http [0-9.]+:[0-9]+' "$daemon" 120) ||
  die "lwm2md did not start: $(tail -5 "$tmp/daemon.err")"
coap=$(wait_line "$tmp/daemon.out" 'listening coap [0-9.]+:[0-9]+' "$daemon" 10) ||
  die "lwm2md did not listen on CoAP"
http=${http#listening http }
coap=${coap#listening coap }
echo "bench: lwm2md pid $daemon on http $http, $n devices, $connections connections," \
     "$requests requests a phase"

post() {
  local code
  code=$(curl -sS -o "$tmp/post.out" -w '%{http_code}' --max-time 10 -X POST \
    -H "X-Auth-Token: $token" --data-binary "$2" "http://$http/v5/iot/bench$1")
  [ "$code" = 201 ] || die "POST $1: $code $(cat "$tmp/post.out")"
}

# create COUNT PRODUCT: the product's devices PRODUCT000000… through the API.
create() {
  local args=(--api "$http" --token "$token" --project bench --product "$2" --prefix "$2"
              --devices "$1" --timeout-s 60)
  if [ -n "$batch" ]; then args+=(--batch "$batch"); fi
  "$build/api_create" "${args[@]}" || die "api_create failed"
}

if [ "$reuse" = no ]; then
  for p in bench valve gauge; do
    post /products "{\"product_id\":\"$p\",\"name\":\"Bench $p\"}"
  done
  t0=$(date +%s.%N)
  for spec in "$meters bench" "$valves valve" "$gauges gauge"; do
    line=$(create $spec)
    echo "n=$n $line"
  done
  t1=$(date +%s.%N)
  echo "n=$n phase=create devices=$n batch=${batch:-1}" \
       "per_second=$(awk -v a="$t0" -v b="$t1" -v n="$n" 'BEGIN { printf "%.0f", n / (b - a) }')"
  if [ -n "${BENCH_DB:-}" ]; then
    echo "$token" >"$db.token"
    echo "$n" >"$db.devices"
  fi
fi

# The first BENCH_ONLINE meters register and stay registered (lifetime 86400).
if [ "$online" -gt 0 ]; then
  out=$("$build/lwm2m_load" --mode lwm2m --target "$coap" --devices "$online" --prefix bench \
          --updates 1 --max-seconds "$max_seconds" 2>"$tmp/lwm2m_load.err") ||
    die "lwm2m_load failed: $(tail -3 "$tmp/lwm2m_load.err")"
  echo "n=$n $(grep -m1 '^phase=register ' <<<"$out")"
  sleep 1 # the store's statuses follow the registrations within a write-behind flush
fi

loop_ns() {
  local ns _
  read -r ns _ <"/proc/$daemon/task/$daemon/schedstat"
  echo "$ns"
}

# phase NAME ARGS...: one http_load run; prints its line with the loop's µs per request.
phase() {
  local name=$1 before after line
  shift
  before=$(loop_ns)
  line=$("$build/http_load" --api "$http" --token "$token" --project bench \
           --requests "$requests" --connections "$connections" --max-seconds "$max_seconds" \
           --name "$name" "$@" 2>"$tmp/http_load.err") ||
    die "http_load $name failed: $line $(head -5 "$tmp/http_load.err")"
  after=$(loop_ns)
  echo "$line loop_us=$(awk -v a="$before" -v b="$after" -v r="$requests" \
    'BEGIN { printf "%.1f", (b - a) / 1000 / r }')"
}

lines=()
run() {
  local line
  line=$(phase "$@")
  echo "n=$n $line"
  lines+=("$line")
}
q="limit=50"
run health --route health
run device_get --route device --product bench --prefix bench --devices "$meters" --random 1
run list_first --route list --query "$q"
run list_walk --route list --query "$q" --walk 1 --spread "$n"
run list_status --route list --query "$q&status=ONLINE" --walk 1
run list_inactive --route list --query "$q&status=INACTIVE" --walk 1 --spread "$n"
run list_product --route list --query "$q&product_id=valve" --walk 1 --spread "$n"
run list_both --route list --query "$q&product_id=bench&status=ONLINE" --walk 1

rss=$(awk '/VmRSS/ { print $2 }' "/proc/$daemon/status")
alive=yes
kill -0 "$daemon" 2>/dev/null || alive=no
stop "$daemon" || die "lwm2md exited with an error: $(tail -5 "$tmp/daemon.err")"
forget "$daemon"
[ "$alive" = yes ] || die "lwm2md died during the run"

health=$(field rps "${lines[0]}")
echo
echo "devices=$n ($online ONLINE), $connections keep-alive connections, $requests requests a phase, daemon RSS $rss kB"
echo "| phase | req/s | ÷ health | p50 µs | p99 µs | loop CPU µs/req | walks ended |"
echo "|---|---:|---:|---:|---:|---:|---:|"
for line in "${lines[@]}"; do
  echo "| $(field name "$line") | $(field rps "$line") | $(ratio "$(field rps "$line")" "$health") |" \
       "$(field p50_us "$line") | $(field p99_us "$line") | $(field loop_us "$line") |" \
       "$(field walks_ended "$line") |"
done
for line in "${lines[@]}"; do
  echo "result name=$(field name "$line") devices=$n rps=$(field rps "$line")" \
       "ratio_health=$(ratio "$(field rps "$line")" "$health") p50_us=$(field p50_us "$line")" \
       "p99_us=$(field p99_us "$line") loop_us=$(field loop_us "$line")"
done
