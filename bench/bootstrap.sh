#!/usr/bin/env bash
# bench/bootstrap.sh: the Bootstrap-Server benchmark (issue 14; docs/bootstrap.md).
#
#   bench/bootstrap.sh [BUILD_DIR] [DEVICES...]          (defaults: build, 10000)
#
# For each device count, in one run:
#   1. the baseline, on a fresh lwm2md: N plain devices Register (lwm2m_load --mode lwm2m
#      --updates 0) -> reg/s; N secure devices do a full DTLS handshake + Register
#      (dtls_load --mode e2e --updates 0) -> hs+reg/s
#   2. a fresh lwm2md with --bootstrap-coap and --bootstrap-coaps, product `boot` with N
#      devices and a template (master key, security psk, allow_plain); then bs_load
#      --transport plain and bs_load --transport dtls: N bootstraps each, the daemon's
#      VmRSS and CPU time read -> bootstraps/s, CPU µs per bootstrap
#   3. a fresh lwm2md with BENCH_HOLD_PLAIN (1000) such devices bootstrapping over plain
#      CoAP all at once, holding at Discover while the daemon's VmRSS is read; another
#      with BENCH_HOLD_DTLS (256) over DTLS           -> bytes per bootstrap in progress
#   4. the ratios: plain bootstraps/s / reg/s, DTLS bootstraps/s / hs+reg/s, and the same
#      for the daemon's CPU time per operation.
# Exits non-zero when a step could not run or a device did not bootstrap.
# Environment: BENCH_WINDOW (plain exchanges at once, 256), BENCH_DTLS_WINDOW (DTLS
# devices at once, 64, as bench/dtls.sh), BENCH_HOLD_PLAIN (1000: the daemon's limit of
# bootstraps at once), BENCH_HOLD_DTLS (256: its default --dtls-max-handshakes),
# BENCH_MAX_SECONDS (per phase, 300), BENCH_BIN.
set -euo pipefail

build=${1:-build}
if [ $# -gt 0 ]; then shift; fi
if [ $# -gt 0 ]; then devices=("$@"); else devices=(10000); fi
bin=${BENCH_BIN:-$build}
window=${BENCH_WINDOW:-256}
dwindow=${BENCH_DTLS_WINDOW:-64}
max_seconds=${BENCH_MAX_SECONDS:-300}
hold_plain=${BENCH_HOLD_PLAIN:-1000}
hold_dtls=${BENCH_HOLD_DTLS:-256}
key=00112233445566778899aabbccddeeff
master=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f

. "$(dirname "$0")/lib.sh"

for n in "${devices[@]}" "$window" "$dwindow" "$max_seconds" "$hold_plain" "$hold_dtls"; do
  [[ $n =~ ^[1-9][0-9]{0,5}$ ]] || die "not a count in 1..999999: '$n'"
done
for exe in "$build/lwm2md" "$bin/lwm2m_load" "$bin/dtls_load" "$bin/bs_load" "$bin/api_create"; do
  [ -x "$exe" ] || die "$exe is missing (build first: make build)"
done
command -v curl >/dev/null || die "curl is needed (apt-get install curl)"

bench_tmp lwm2md-bs-bench

# start_daemon DIR: a fresh lwm2md on DIR/db.sqlite with a token; sets dpid, coap, coaps,
# http, bsc, bscs, token.
start_daemon() {
  local dir=$1
  mkdir -p "$dir"
  token=$("$build/lwm2md" token create --db "$dir/db.sqlite" --project bench 2>/dev/null) ||
    die "token create failed"
  # dtls_load's devices all come from 127.0.0.1 (a socket each), the window at once: the
  # per-address handshake limit is lifted as bench/dtls.sh does.
  "$build/lwm2md" --db "$dir/db.sqlite" --coap 127.0.0.1:0 --coaps 127.0.0.1:0 \
    --http 127.0.0.1:0 --bootstrap-coap 127.0.0.1:0 --bootstrap-coaps 127.0.0.1:0 \
    --log-level warn --dtls-max-handshakes-per-address 256 \
    >"$dir/daemon.out" 2>"$dir/daemon.err" &
  dpid=$!
  pids+=("$dpid")
  local l
  for l in coap coaps http bootstrap-coap bootstrap-coaps; do
    wait_line "$dir/daemon.out" "listening $l [0-9.]+:[0-9]+" "$dpid" >/dev/null ||
      { tail -n 20 "$dir/daemon.err" >&2; die "lwm2md did not start"; }
  done
  coap=$(awk '$2=="coap"{print $3; exit}' "$dir/daemon.out")
  coaps=$(awk '$2=="coaps"{print $3; exit}' "$dir/daemon.out")
  http=$(awk '$2=="http"{print $3; exit}' "$dir/daemon.out")
  bsc=$(awk '$2=="bootstrap-coap"{print $3; exit}' "$dir/daemon.out")
  bscs=$(awk '$2=="bootstrap-coaps"{print $3; exit}' "$dir/daemon.out")
}

stop_daemon() {
  local dir=$1 alive=yes drc=0
  kill -0 "$dpid" 2>/dev/null || alive=no
  stop "$dpid" || drc=$?
  forget "$dpid"
  if [ "$alive" = no ]; then
    tail -n 20 "$dir/daemon.err" >&2
    die "lwm2md died during the run (status $drc)"
  fi
}

# api METHOD PATH BODY: curl with the token; dies unless the answer is 2xx.
api() {
  local code
  code=$(curl -sS -o "$tmp/api.json" -w '%{http_code}' --max-time 10 -X "$1" \
           -H "X-Auth-Token: $token" -H 'Content-Type: application/json' -d "$3" \
           "http://$http/v5/iot/bench/$2") || true
  [[ $code == 2* ]] || die "$1 $2: HTTP $code $(cat "$tmp/api.json" 2>/dev/null)"
}

product() {
  api POST products "{\"product_id\":\"$1\",\"name\":\"$1\",\"protocol_type\":\"LwM2M\",\"data_format\":\"binary\"}"
}

# cpu_s PID: the user + system CPU time PID has used, in seconds (as bench/firmware.sh).
cpu_s() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || { echo "-"; return; }
  awk -v t="$(getconf CLK_TCK)" '{ printf "%.2f\n", ($12 + $13) / t }' <<<"${stat##*) }"
}

# us_per CPU0 CPU1 COUNT: the daemon's CPU µs per operation between two cpu_s readings.
us_per() {
  awk -v a="$1" -v b="$2" -v n="$3" 'BEGIN { if (n + 0 > 0 && a != "-" && b != "-")
    printf "%.0f", (b - a) * 1e6 / n; else print "-" }'
}

# bs_daemon DIR N: a fresh lwm2md with product boot, N devices boot… (with a management
# secret, so that no bootstrap has to generate one) and the product's bootstrap template.
bs_daemon() {
  start_daemon "$1"
  product boot
  echo "n=$n bs $("$bin/api_create" --api "$http" --token "$token" --project bench \
                    --product boot --prefix boot --devices "$2" --secret "$key")"
  api PUT products/boot/bootstrap \
    "{\"master_key\":\"$master\",\"security\":\"psk\",\"allow_plain\":true}"
  sleep 1 # let the daemon settle before its idle VmRSS is read
}

# bs_run TRANSPORT TARGET DEVICES WINDOW HOLD ERRFILE: one bs_load run; prints its line,
# fails when a device did not bootstrap.
bs_run() {
  "$bin/bs_load" --transport "$1" --target "$2" --devices "$3" --prefix boot \
    --master "$master" --window "$4" --hold "$5" --max-seconds "$max_seconds" \
    --pid "$dpid" 2>"$6"
}

summary=()
cpu_summary=()
status=0
for n in "${devices[@]}"; do
  dir="$tmp/$n"

  # --- the baseline: Registers (plain) and handshake + Register (DTLS) ---
  start_daemon "$dir/base"
  product bench
  product sec
  echo "n=$n base $("$bin/api_create" --api "$http" --token "$token" --project bench \
                      --product bench --prefix bench --devices "$n")"
  echo "n=$n base $("$bin/api_create" --api "$http" --token "$token" --project bench \
                      --product sec --prefix sec --devices "$n" --secret "$key")"
  c0=$(cpu_s "$dpid")
  out=$("$bin/lwm2m_load" --mode lwm2m --target "$coap" --devices "$n" --prefix bench \
          --updates 0 --window "$window" --max-seconds "$max_seconds" \
          2>"$dir/lwm2m_load.err") || true
  reg_line=$(grep -m1 '^phase=register ' <<<"$out" || true)
  [ -n "$reg_line" ] || { cat "$dir/lwm2m_load.err" >&2; die "lwm2m_load failed"; }
  c1=$(cpu_s "$dpid")
  reg_us=$(us_per "$c0" "$c1" "$(field ok "$reg_line")")
  echo "n=$n $reg_line daemon_cpu_us_per_register=$reg_us"
  out=$("$bin/dtls_load" --mode e2e --target "$coaps" --devices "$n" --prefix sec \
          --key "$key" --window "$dwindow" --updates 0 2>"$dir/dtls_load.err") || true
  hs_line=$(grep -m1 '^phase=handshake_register ' <<<"$out" || true)
  [ -n "$hs_line" ] || { cat "$dir/dtls_load.err" >&2; die "dtls_load failed"; }
  c2=$(cpu_s "$dpid")
  hs_us=$(us_per "$c1" "$c2" "$(field ok "$hs_line")")
  echo "n=$n $hs_line daemon_cpu_us_per_handshake_register=$hs_us"
  stop_daemon "$dir/base"

  # --- the Bootstrap-Server on a fresh daemon: the rates ---
  bs_daemon "$dir/bs" "$n"
  bs_plain=$(bs_run plain "$bsc" "$n" "$window" 0 "$dir/bs_plain.err") || status=1
  echo "n=$n $bs_plain"
  bs_dtls=$(bs_run dtls "$bscs" "$n" "$dwindow" 0 "$dir/bs_dtls.err") || status=1
  echo "n=$n $bs_dtls"
  m=$(curl -s "http://$http/metrics" | grep -E '^lwm2md_bootstrap_(succeeded|failed|refused)_total ' |
        awk '{printf "%s=%s ", $1, $2}')
  echo "n=$n metrics $m"
  stop_daemon "$dir/bs"

  # --- the memory per bootstrap in progress: each transport on a fresh daemon (memory
  # an earlier run freed would be reused and hide the cost), all devices at once, holding
  # at Discover while the daemon's VmRSS is read (bs_load --hold 1) ---
  hp=$(( n < hold_plain ? n : hold_plain ))
  bs_daemon "$dir/memp" "$hp"
  mem_plain=$(bs_run plain "$bsc" "$hp" "$hp" 1 "$dir/mem_plain.err") || status=1
  echo "n=$n memory $mem_plain"
  stop_daemon "$dir/memp"
  hd=$(( n < hold_dtls ? n : hold_dtls ))
  bs_daemon "$dir/memd" "$hd"
  mem_dtls=$(bs_run dtls "$bscs" "$hd" "$hd" 1 "$dir/mem_dtls.err") || status=1
  echo "n=$n memory $mem_dtls"
  stop_daemon "$dir/memd"
  for f in "$dir"/bs_*.err "$dir"/mem_*.err; do
    if [ -s "$f" ]; then
      sed 's/device [0-9]*/device N/' "$f" | sort | uniq -c | sort -rn | head -n 5 |
        sed "s|^|bench: $(basename "$f"): |" >&2
    fi
  done

  reg=$(field rps "$reg_line")
  hs=$(field per_second "$hs_line")
  bp=$(field rate "$bs_plain")
  bd=$(field rate "$bs_dtls")
  bp_us=$(us_per 0 "$(field daemon_cpu_s "$bs_plain")" "$(field done "$bs_plain")")
  bd_us=$(us_per 0 "$(field daemon_cpu_s "$bs_dtls")" "$(field done "$bs_dtls")")
  cpu_summary+=("$(printf '%7s %8s %8s %6s %10s %8s %6s' "$n" "$reg_us" "$bp_us" \
    "$(ratio "$bp_us" "$reg_us")" "$hs_us" "$bd_us" "$(ratio "$bd_us" "$hs_us")")")
  summary+=("$(printf '%7s %8s %8s %6s %10s %8s %6s %8s %8s %7s/%s' "$n" "$reg" "$bp" \
    "$(ratio "$bp" "$reg")" "$hs" "$bd" "$(ratio "$bd" "$hs")" \
    "$(field bytes_per_bootstrap "$mem_plain")" "$(field bytes_per_bootstrap "$mem_dtls")" \
    "$(field failed "$bs_plain")" "$(field failed "$bs_dtls")")")
done

echo
echo "bench: bootstraps/s against the same run's Registers/s (plain) and handshake+Registers/s (DTLS)"
printf '%7s %8s %8s %6s %10s %8s %6s %8s %8s %s\n' devices reg/s bs/s ratio hs+reg/s \
  dbs/s ratio B/bs B/dbs failed
for line in "${summary[@]}"; do echo "$line"; done
echo
echo "bench: the daemon's CPU time per operation, µs (less sensitive to the machine's other load)"
printf '%7s %8s %8s %6s %10s %8s %6s\n' devices reg bs ratio hs+reg dbs ratio
for line in "${cpu_summary[@]}"; do echo "$line"; done
exit "$status"
