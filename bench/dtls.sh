#!/usr/bin/env bash
# bench/dtls.sh: the DTLS benchmark of `make bench`.
#
#   bench/dtls.sh [BUILD_DIR] [DEVICES...]          (defaults: build, 1000 5000)
#
# For each device count, in one run:
#   1. dtls_load --mode inmem: mbedTLS's own full PSK handshake (cookie exchange included),
#      client and server in one process through memory              -> the baseline rate
#   2. a fresh lwm2md (sessions never idle during the run), N secure devices through the
#      API, then dtls_load --mode e2e: N full handshakes + Register over UDP, 64 at once,
#      then 10 encrypted Updates per device                         -> rates, RSS per live session
#   3. SIGTERM: the daemon saves the sessions; a restart on the same database restores
#      them hibernated                                              -> bytes per hibernated session
# Ratios, not absolute numbers, are what to compare across machines.
set -euo pipefail

build=${1:-build}
if [ $# -gt 0 ]; then shift; fi
if [ $# -gt 0 ]; then devices=("$@"); else devices=(1000 5000); fi
key=00112233445566778899aabbccddeeff
tmp=$(mktemp -d "${TMPDIR:-/tmp}/lwm2md-dtls-bench.XXXXXX")
daemon_pid=
cleanup() {
  if [ -n "$daemon_pid" ]; then kill "$daemon_pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

metric() { curl -s "http://$2/metrics" | awk -v m="$1" '$1==m{print $2}'; }

# Starts lwm2md on $1 (database); sets daemon_pid, coaps, http.
start_daemon() {
  # All the benchmark's devices come from 127.0.0.1, 64 handshakes at once; in the field
  # they come from many addresses, so the per-address limit is lifted here.
  "$build/lwm2md" --db "$1" --coap 127.0.0.1:0 --coaps 127.0.0.1:0 --http 127.0.0.1:0 \
    --log-level warn --dtls-idle-seconds 3600 --dtls-max-handshakes-per-address 256 \
    > "$tmp/out" 2> "$tmp/err" &
  daemon_pid=$!
  for _ in $(seq 100); do
    if grep -q '^listening http' "$tmp/out"; then break; fi
    sleep 0.1
  done
  coaps=$(awk '/^listening coaps/{print $3; exit}' "$tmp/out")
  http=$(awk '/^listening http/{print $3; exit}' "$tmp/out")
  if [ -z "$coaps" ] || [ -z "$http" ]; then
    echo "bench: lwm2md did not start" >&2; cat "$tmp/err" >&2; exit 1
  fi
}

stop_daemon() {
  kill -TERM "$daemon_pid"
  wait "$daemon_pid" || { echo "bench: lwm2md exited with $?" >&2; exit 1; }
  daemon_pid=
}

summary=()
for n in "${devices[@]}"; do
  db="$tmp/db-$n"
  inmem=$("$build/dtls_load" --mode inmem --count "$n" --key "$key")
  echo "n=$n $inmem"
  token=$("$build/lwm2md" token create --db "$db" --project bench 2>/dev/null)
  start_daemon "$db"
  curl -sf -X POST "http://$http/v5/iot/bench/products" -H "X-Auth-Token: $token" \
    -d '{"product_id":"bench","name":"bench","protocol_type":"LwM2M","data_format":"binary"}' \
    > /dev/null
  "$build/api_create" --api "$http" --token "$token" --project bench --product bench \
    --prefix bench --devices "$n" --secret "$key" | sed "s/^/n=$n /"
  e2e=$("$build/dtls_load" --mode e2e --target "$coaps" --devices "$n" --key "$key" \
          --window 64 --updates 10 --pid "$daemon_pid" --keep-open 1 || true)
  echo "$e2e" | sed "s/^/n=$n /"
  stop_daemon
  start_daemon "$db"
  sleep 0.5
  restored=$(metric lwm2md_dtls_sessions_hibernated "$http")
  hib_bytes=$(metric lwm2md_dtls_hibernated_bytes "$http")
  stop_daemon
  # The gauge counts each hibernated session's serialized mbedTLS context and its entry
  # (RSS differences of a few MB drown in the allocator's and SQLite's noise).
  per_hib=$(( restored > 0 ? hib_bytes / restored : -1 ))
  echo "n=$n phase=hibernated restored=$restored bytes_per_session=$per_hib"

  hs_inmem=$(echo "$inmem" | sed -n 's/.*per_second=\([0-9]*\).*/\1/p')
  hs_e2e=$(echo "$e2e" | sed -n '/handshake_register/s/.* per_second=\([0-9]*\).*/\1/p')
  upd=$(echo "$e2e" | sed -n '/phase=update/s/.* per_second=\([0-9]*\).*/\1/p')
  live=$(echo "$e2e" | sed -n 's/.*rss_per_session_bytes=\([-0-9]*\).*/\1/p')
  ratio=$(awk -v a="$hs_e2e" -v b="$hs_inmem" 'BEGIN{ if (b > 0) printf "%.2f", a / b; else print "-" }')
  summary+=("$(printf '%8s %10s %12s %6s %10s %10s %10s' "$n" "$hs_inmem" "$hs_e2e" "$ratio" "$upd" "$live" "$per_hib")")
done

echo
echo "bench: handshake+Register per second end to end / mbedTLS in-memory handshakes per second"
printf '%8s %10s %12s %6s %10s %10s %10s\n' devices inmem_hs/s e2e_hs+reg/s ratio upd/s live_B hibern_B
for line in "${summary[@]}"; do echo "$line"; done
