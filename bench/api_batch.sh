#!/usr/bin/env bash
# bench/api_batch.sh: device creation through the REST API, one device per request against
# the bulk route (POST .../devices/batch), on the same daemon in the same run.
#
#   bench/api_batch.sh [BUILD_DIR] [DEVICES] [BATCH]     (defaults: build, 100000, 1000)
#
# A fresh lwm2md on a temp database and one product; then bench/api_create creates DEVICES
# devices one per request (prefix single), then DEVICES more BATCH per request (prefix
# bulk), each over one keep-alive connection. The second half lands on a registry already
# holding the first, which is the harder case for the batch. Prints api_create's two lines
# and one summary line:
#   api_batch devices=N batch=B single_per_second=S batch_per_second=R ratio=R/S
#     single_cpu_ms_per_1000=C1 batch_cpu_ms_per_1000=C2 cpu_ratio=C1/C2
# The CPU figures are the daemon's own (user + system, from /proc): on a shared machine
# they move far less than the rates do.
# Everything is on loopback; every wait is bounded; the daemon is stopped on exit.
set -euo pipefail

build=${1:-build}
n=${2:-100000}
batch=${3:-1000}

. "$(dirname "$0")/lib.sh"

[[ $n =~ ^[1-9][0-9]{0,5}$ ]] || die "not a count in 1..999999: '$n'"
[[ $batch =~ ^[1-9][0-9]{0,3}$ ]] && [ "$batch" -le 1000 ] || die "not a batch in 1..1000: '$batch'"
for exe in "$build/lwm2md" "$build/api_create"; do
  [ -x "$exe" ] || die "$exe is missing (build first: make build)"
done
command -v curl >/dev/null || die "curl is needed (apt-get install curl)"

bench_tmp lwm2md-api-batch
db="$tmp/db.sqlite"
token=$("$build/lwm2md" token create --db "$db" --project bench 2>"$tmp/token.err") ||
  die "token create failed: $(cat "$tmp/token.err")"
"$build/lwm2md" --db "$db" --coap 127.0.0.1:0 --coaps 127.0.0.1:0 --http 127.0.0.1:0 \
  --log-level warn >"$tmp/daemon.out" 2>"$tmp/daemon.err" &
dpid=$!
pids+=("$dpid")
http=$(wait_line "$tmp/daemon.out" 'listening http [0-9.]+:[0-9]+' "$dpid") ||
  die "lwm2md did not start: $(tail -n 20 "$tmp/daemon.err")"
http=${http#listening http }

product='{"product_id":"bench","name":"bench","protocol_type":"LwM2M","data_format":"binary"}'
code=$(curl -sS -o "$tmp/product.json" -w '%{http_code}' --max-time 10 -X POST \
         -H "X-Auth-Token: $token" -H 'Content-Type: application/json' \
         -d "$product" "http://$http/v5/iot/bench/products") || true
[ "$code" = 201 ] || die "product create: HTTP $code $(cat "$tmp/product.json" 2>/dev/null)"

# The daemon's CPU time so far, in clock ticks.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$dpid/stat"; }
hz=$(getconf CLK_TCK)
# ms of daemon CPU per 1000 devices between two readings.
cpu_per_1000() { awk -v a="$1" -v b="$2" -v hz="$hz" -v n="$n" \
  'BEGIN { printf "%.1f", (b - a) * 1000 / hz * 1000 / n }'; }

c0=$(cpu_ticks)
single=$("$build/api_create" --api "$http" --token "$token" --project bench --product bench \
           --prefix single --devices "$n" --timeout-s 60) ||
  die "single creates failed: $single"
c1=$(cpu_ticks)
echo "mode=single $single"
bulk=$("$build/api_create" --api "$http" --token "$token" --project bench --product bench \
         --prefix bulk --devices "$n" --batch "$batch" --timeout-s 60) ||
  die "batch creates failed: $bulk"
c2=$(cpu_ticks)
echo "mode=batch $bulk"

kill -0 "$dpid" 2>/dev/null || die "lwm2md died during the run: $(tail -n 20 "$tmp/daemon.err")"
stop "$dpid" || die "lwm2md did not stop cleanly"
forget "$dpid"

s=$(field per_second "$single")
b=$(field per_second "$bulk")
cs=$(cpu_per_1000 "$c0" "$c1")
cb=$(cpu_per_1000 "$c1" "$c2")
echo "api_batch devices=$n batch=$batch single_per_second=$s batch_per_second=$b" \
     "ratio=$(ratio "$b" "$s") single_cpu_ms_per_1000=$cs batch_cpu_ms_per_1000=$cb" \
     "cpu_ratio=$(ratio "$cs" "$cb")"
