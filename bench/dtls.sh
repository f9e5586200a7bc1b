#!/usr/bin/env bash
# bench/dtls.sh: the DTLS benchmark of `make bench`.
#
#   bench/dtls.sh [BUILD_DIR] [DEVICES...]          (defaults: build, 1000 5000)
#
# For each device count, in one run:
#   1. dtls_load --mode inmem: mbedTLS's own full PSK handshake (cookie exchange included),
#      client and server in one process through memory              -> the baseline rate
#   2. a fresh lwm2md, N secure devices through the API, then dtls_load --mode e2e: N full
#      handshakes + Register over UDP, 64 at once (each device from its own address, its
#      client session serialized between exchanges), then 10 encrypted Updates per device
#                                                                   -> rates, RSS per session
#   3. SIGTERM: the daemon saves the sessions; a restart on the same database restores
#      them hibernated; every device sends one encrypted Update on its old session
#                                  -> handshakes after the restart (aim 0), seconds to all
#                                     back, devices lost, bytes per hibernated session
# Ratios, not absolute numbers, are what to compare across machines.
#
# The daemon's sessions hibernate after DTLS_IDLE_SECONDS (default: 3600 up to 10 000
# devices, so that RSS is that of N live sessions; 2 beyond, as 100 000 live sessions
# would take 3.6 GB: RSS is then that of hibernated sessions and the contexts in use).
# DTLS_TICKETS=0: the devices take no session tickets, so the daemon puts every session
# in its session-id cache (10 000 entries), as for clients without ticket support.
# DTLS_EXTRA_ARGS are passed to the daemon (e.g. "--dtls-context-pool 0"; leave it empty
# for a build that predates a flag).
set -euo pipefail

build=${1:-build}
if [ $# -gt 0 ]; then shift; fi
if [ $# -gt 0 ]; then devices=("$@"); else devices=(1000 5000); fi
key=00112233445566778899aabbccddeeff
tmp=$(mktemp -d "${TMPDIR:-/tmp}/lwm2md-dtls-bench.XXXXXX")
daemon_pid=
load_pid=
cleanup() {
  if [ -n "$daemon_pid" ]; then kill "$daemon_pid" 2>/dev/null || true; fi
  if [ -n "$load_pid" ]; then kill "$load_pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

metric() { curl -s "http://$2/metrics" | awk -v m="$1" '$1==m{print $2; f=1} END{if(!f)print 0}'; }
rss_kb() { awk '/^VmRSS:/{print $2}' "/proc/$1/status"; }
now() { date +%s.%N; }

# Starts lwm2md on $1 (database) with sessions hibernating after $2 s; sets daemon_pid,
# coaps, http.
start_daemon() {
  # All the benchmark's devices come from a few loopback addresses, 64 handshakes at
  # once; in the field they come from many addresses, so the per-address limit is lifted.
  # shellcheck disable=SC2086
  "$build/lwm2md" --db "$1" --coap 127.0.0.1:0 --coaps 127.0.0.1:0 --http 127.0.0.1:0 \
    --log-level warn --dtls-idle-seconds "$2" --dtls-max-handshakes-per-address 256 \
    ${DTLS_EXTRA_ARGS:-} > "$tmp/out" 2> "$tmp/err" &
  daemon_pid=$!
  for _ in $(seq 3000); do
    if grep -q '^listening http' "$tmp/out"; then break; fi
    sleep 0.02
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

field() { sed -n "/phase=$2 /s/.* $3=\([-0-9.]*\).*/\1/p" <<< "$1"; }

summary=()
for n in "${devices[@]}"; do
  idle=${DTLS_IDLE_SECONDS:-$(( n <= 10000 ? 3600 : 2 ))}
  db="$tmp/db-$n"
  rm -f "$db"*
  inmem=$("$build/dtls_load" --mode inmem --count "$(( n < 10000 ? n : 10000 ))" --key "$key")
  echo "n=$n $inmem"
  echo "n=$n $("$build/dtls_load" --mode cache --count 10000)"
  token=$("$build/lwm2md" token create --db "$db" --project bench 2>/dev/null)
  start_daemon "$db" "$idle"
  curl -sf -X POST "http://$http/v5/iot/bench/products" -H "X-Auth-Token: $token" \
    -d '{"product_id":"bench","name":"bench","protocol_type":"LwM2M","data_format":"binary"}' \
    > /dev/null
  rss_fresh=$(rss_kb "$daemon_pid")
  "$build/api_create" --api "$http" --token "$token" --project bench --product bench \
    --prefix bench --devices "$n" --secret "$key" | sed "s/^/n=$n /"

  # The load generator waits, sessions and all, for the restarted daemon's address.
  rm -f "$tmp/ctl"; mkfifo "$tmp/ctl"
  "$build/dtls_load" --mode e2e --target "$coaps" --devices "$n" --key "$key" \
    --window 64 --updates 10 --pid "$daemon_pid" --after-restart 1 --tickets "${DTLS_TICKETS:-1}" \
    < "$tmp/ctl" > "$tmp/e2e" &
  load_pid=$!
  exec 3> "$tmp/ctl"
  until grep -q '^phase=waiting_for_restart' "$tmp/e2e"; do
    if ! kill -0 "$load_pid" 2>/dev/null; then
      echo "bench: dtls_load ended early" >&2; cat "$tmp/e2e" >&2; exit 1
    fi
    sleep 0.2
  done
  # Everything hibernated that will (idle + the tick), then the daemon's figures.
  if [ "$idle" -lt 60 ]; then sleep $(( idle + 2 )); fi
  live=$(metric lwm2md_dtls_sessions_live "$http")
  hib=$(metric lwm2md_dtls_sessions_hibernated "$http")
  hs_before=$(metric lwm2md_dtls_handshakes_total "$http")
  created1=$(metric lwm2md_dtls_contexts_created_total "$http")
  reused1=$(metric lwm2md_dtls_contexts_reused_total "$http")
  rss_end=$(rss_kb "$daemon_pid")
  t_stop=$(now)
  stop_daemon
  t_restart=$(now)
  start_daemon "$db" "$idle"
  t_listening=$(now)
  restored=$(metric lwm2md_dtls_sessions_hibernated "$http")
  hib_bytes=$(metric lwm2md_dtls_hibernated_bytes "$http")
  rss_restored=$(rss_kb "$daemon_pid")
  echo "$coaps $daemon_pid" >&3
  exec 3>&-
  wait "$load_pid" || true
  load_pid=
  e2e=$(cat "$tmp/e2e")
  echo "$e2e" | grep -v waiting_for_restart | sed "s/^/n=$n /"
  hs_after=$(metric lwm2md_dtls_handshakes_total "$http")
  reused=$(metric lwm2md_dtls_contexts_reused_total "$http")
  created=$(metric lwm2md_dtls_contexts_created_total "$http")
  res_after=$(metric lwm2md_dtls_resumptions_total "$http")
  stop_daemon

  hs_inmem=$(field "$inmem" inmem per_second)
  hs_e2e=$(field "$e2e" handshake_register per_second)
  upd=$(field "$e2e" update per_second)
  per_live=$(field "$e2e" handshake_register rss_per_session_bytes)
  back_s=$(field "$e2e" after_restart seconds)
  lost=$(field "$e2e" after_restart lost)
  ratio=$(awk -v a="$hs_e2e" -v b="$hs_inmem" 'BEGIN{ if (b > 0) printf "%.2f", a / b; else print "-" }')
  # The same ratio on CPU time (handshakes per CPU second of the daemon, of dtls_load
  # inmem), which the other processes of a shared machine disturb less.
  cpu_inmem=$(field "$inmem" inmem per_cpu_second)
  cpu_e2e=$(field "$e2e" handshake_register per_daemon_cpu_second)
  cpu_ratio=$(awk -v a="$cpu_e2e" -v b="$cpu_inmem" 'BEGIN{ if (b > 0) printf "%.2f", a / b; else print "-" }')
  per_hib=$(( restored > 0 ? hib_bytes / restored : -1 ))
  restart_s=$(awk -v a="$t_restart" -v b="$t_listening" -v s="$t_stop" \
    'BEGIN{ printf "%.2f", b - a }')
  stop_s=$(awk -v a="$t_stop" -v b="$t_restart" 'BEGIN{ printf "%.2f", b - a }')
  all_back=$(awk -v a="$restart_s" -v b="$back_s" 'BEGIN{ printf "%.2f", a + b }')
  echo "n=$n phase=sessions idle_s=$idle live=$live hibernated=$hib full_handshakes=$hs_before rss_kb=$rss_end rss_fresh_kb=$rss_fresh rss_growth_per_device_bytes=$(( (rss_end - rss_fresh) * 1024 / n )) contexts_created=$created1 contexts_reused=$reused1"
  echo "n=$n phase=restart stop_s=$stop_s start_s=$restart_s restored=$restored bytes_per_hibernated_session=$per_hib rss_after_restore_kb=$rss_restored rss_over_fresh_per_restored_device_bytes=$(( (rss_restored - rss_fresh) * 1024 / n ))"
  echo "n=$n phase=back handshakes_after_restart=$hs_after resumptions_after_restart=$res_after seconds_to_all_back=$all_back (start $restart_s + updates $back_s) lost=$lost contexts_created=$created contexts_reused=$reused"
  echo "n=$n result: handshake+register/s=$hs_e2e inmem_handshakes/s=$hs_inmem ratio=$ratio cpu_ratio=$cpu_ratio live_B=$per_live hibernated_B=$per_hib after_restart_handshakes=$hs_after back_s=$all_back lost=$lost"
  summary+=("$(printf '%8s %10s %12s %6s %6s %10s %10s %10s %8s %8s %6s' "$n" "$hs_inmem" "$hs_e2e" "$ratio" "$cpu_ratio" "$upd" "$per_live" "$per_hib" "$hs_after" "$all_back" "$lost")")
done

echo
echo "bench: handshake+Register per second end to end / mbedTLS in-memory handshakes per second;"
echo "       after a restart: full handshakes (aim 0), seconds from the restart to every device's Update answered, devices lost"
printf '%8s %10s %12s %6s %6s %10s %10s %10s %8s %8s %6s\n' devices inmem_hs/s e2e_hs+reg/s ratio cpu_r upd/s rss_B/dev hibern_B hs_after back_s lost
for line in "${summary[@]}"; do echo "$line"; done
