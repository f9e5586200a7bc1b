#!/usr/bin/env bash
# bench/firmware.sh: the firmware benchmark (issue 13, "Measured") — a campaign pulling a
# package to a fleet, against the plain-CoAP ceiling of the same run.
#
#   bench/firmware.sh [BUILD_DIR] [DEVICES]          (defaults: build, 10000)
#
# As in bench/run.sh nothing is judged against a fixed number: the daemon's block rate is
# reported as a ratio to a trivial UDP echo server measured moments before with the same
# device count and window. Steps:
#   1. lwm2m_load --mode echo against udp_echo: DEVICES devices, ECHO_ROUNDS requests each
#      (as many as the blocks of step 5)
#                                                              -> echo_rps, the ceiling
#   2. a fresh lwm2md on a temp database, bound to 127.0.0.1 (the Package URI's host); a
#      product and DEVICES devices (bench/api_create); a PACKAGE_KIB package of random
#      bytes uploaded (POST /v5/iot/bench/firmware, version 2.0.0)
#   3. fw_load: the devices register (version 1.0.0, object 5, pull over CoAP)
#   4. the daemon's idle memory: VmRSS, VmHWM, process_resident_memory_bytes
#   5. a campaign over the product (max_concurrent CONCURRENT, rate_per_minute RATE);
#      every second: VmRSS, VmHWM, the metric, the devices downloading (fw_load's
#      progress line) and the campaign, until it ends   -> memory per active download
#   6. fw_load's summary: blocks, bytes, block rate      -> blocks/s / echo_rps
#   7. stops the daemon and checks it had not died; runs step 1 again (the machines are
#      shared: echo_rps is the mean of the two runs, both are printed).
# Everything is on loopback; every wait is bounded; processes started here are stopped.
#
# Environment: BENCH_PACKAGE_KIB (200), BENCH_WINDOW (CoAP requests in flight, 256),
# BENCH_CONCURRENT (the campaign's max_concurrent, 1000), BENCH_RATE (its
# rate_per_minute, 600000: high enough not to bind), BENCH_ECHO_ROUNDS (echo requests per
# device; default the package's 1024-byte blocks, so that the echo run sends as many
# datagrams as the devices fetch blocks), BENCH_MAX_SECONDS (limit on the campaign, 1200),
# BENCH_SAMPLE_EVERY (print every Nth of the per-second samples, 10), BENCH_BIN (where the
# bench programs are; default BUILD_DIR).
set -euo pipefail

build=${1:-build}
devices=${2:-10000}
bin=${BENCH_BIN:-$build}
package_kib=${BENCH_PACKAGE_KIB:-200}
window=${BENCH_WINDOW:-256}
concurrent=${BENCH_CONCURRENT:-1000}
rate=${BENCH_RATE:-600000}
# The devices fetch 1 KiB blocks, package_kib a device: the echo run sends as many.
echo_rounds=${BENCH_ECHO_ROUNDS:-$package_kib}
max_seconds=${BENCH_MAX_SECONDS:-1200}
sample_every=${BENCH_SAMPLE_EVERY:-10}

. "$(dirname "$0")/lib.sh"

for n in "$devices" "$package_kib" "$window" "$concurrent" "$rate" "$echo_rounds" \
         "$max_seconds" "$sample_every"; do
  [[ $n =~ ^[1-9][0-9]{0,6}$ ]] || die "not a count in 1..9999999: '$n'"
done
for exe in "$build/lwm2md" "$bin/udp_echo" "$bin/lwm2m_load" "$bin/api_create" \
           "$bin/fw_load"; do
  [ -x "$exe" ] || die "$exe is missing (build first: make build)"
done
command -v curl >/dev/null || die "curl is needed (apt-get install curl)"

bench_tmp lwm2md-fw

# status_kb PID FIELD: VmRSS or VmHWM of PID in kB ("-" when unreadable).
status_kb() {
  local v=
  [ -r "/proc/$1/status" ] && v=$(awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status" \
                                   2>/dev/null || true)
  echo "${v:--}"
}

# metric NAME: the value of a metric of the daemon's /metrics, in whole units ("-" if none).
metric() {
  { curl -sS --max-time 5 "http://$http/metrics" 2>/dev/null || true; } |
    awk -v m="$1" '$1 == m { printf "%.0f\n", $2; found = 1 } END { if (!found) print "-" }'
}

# json_field KEY FILE: the first "KEY":value of a JSON file (number or string, unquoted).
json_field() {
  { grep -o -m1 "\"$1\":\\(\"[^\"]*\"\\|[0-9.]*\\)" "$2" 2>/dev/null || true; } |
    head -n 1 | sed -e 's/^"[^"]*"://' -e 's/"//g'
}

now_s() { date +%s.%N; }

# cpu_s PID: the user + system CPU time PID has used, in seconds ("-" when unreadable). The
# command name (field 2) may hold spaces: count the fields from its closing parenthesis.
cpu_s() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || { echo "-"; return; }
  awk -v t="$(getconf CLK_TCK)" '{ printf "%.2f\n", ($12 + $13) / t }' <<<"${stat##*) }"
}

# --- 1. the baseline ---
"$bin/udp_echo" 127.0.0.1:0 >"$tmp/echo.out" 2>"$tmp/echo.err" &
echo_pid=$!
pids+=("$echo_pid")
echo_addr=$(wait_line "$tmp/echo.out" 'listening udp [0-9.]+:[0-9]+' "$echo_pid") ||
  die "udp_echo did not start: $(cat "$tmp/echo.err")"
echo_addr=${echo_addr#listening udp }
echo "bench: firmware: $devices devices, a $package_kib KiB package, window $window," \
     "max_concurrent $concurrent, rate_per_minute $rate; echo: $echo_rounds requests a device"

# echo_run: the echo baseline's result line (empty when it failed).
echo_run() {
  local out
  out=$("$bin/lwm2m_load" --mode echo --target "$echo_addr" --devices "$devices" \
          --updates "$echo_rounds" --window "$window" --max-seconds 300 \
          2>"$tmp/echo_load.err") || true
  grep -m1 '^phase=echo ' <<<"$out" || true
}

echo_line=$(echo_run)
[ -n "$echo_line" ] || { cat "$tmp/echo_load.err" >&2; die "echo run failed"; }
echo "n=$devices before $echo_line"

# --- 2. the daemon, the devices, the package ---
db="$tmp/db.sqlite"
token=$("$build/lwm2md" token create --db "$db" --project bench 2>/dev/null) ||
  die "token create failed"
uri_host=()
help=$("$build/lwm2md" --help 2>&1 || true)
if grep -q -- '--firmware-uri-host' <<<"$help"; then
  uri_host=(--firmware-uri-host 127.0.0.1)
fi
"$build/lwm2md" --db "$db" --coap 127.0.0.1:0 --coaps 127.0.0.1:0 --http 127.0.0.1:0 \
  --log-level warn "${uri_host[@]}" >"$tmp/daemon.out" 2>"$tmp/daemon.err" &
dpid=$!
pids+=("$dpid")
if ! coap=$(wait_line "$tmp/daemon.out" 'listening coap [0-9.]+:[0-9]+' "$dpid") ||
   ! http=$(wait_line "$tmp/daemon.out" 'listening http [0-9.]+:[0-9]+' "$dpid"); then
  tail -n 20 "$tmp/daemon.err" >&2
  die "lwm2md did not start"
fi
coap=${coap#listening coap }
http=${http#listening http }

api() { # api METHOD PATH [CURL ARGS...]: the HTTP status; the body in $tmp/api.json
  local method=$1 path=$2
  shift 2
  curl -sS -o "$tmp/api.json" -w '%{http_code}' --max-time 60 -X "$method" \
    -H "X-Auth-Token: $token" "$@" "http://$http/v5/iot/bench$path" || true
}

product='{"product_id":"bench","name":"bench","protocol_type":"LwM2M","data_format":"binary"}'
code=$(api POST /products -H 'Content-Type: application/json' -d "$product")
[ "$code" = 201 ] || die "product create: HTTP $code $(cat "$tmp/api.json")"
api_line=$("$bin/api_create" --api "$http" --token "$token" --project bench --product bench \
             --prefix bench --devices "$devices") || die "device create failed: $api_line"
echo "n=$devices $api_line"

head -c $((package_kib * 1024)) /dev/urandom >"$tmp/package.bin"
code=$(api POST "/firmware?product_id=bench&version=2.0.0" \
         -H 'Content-Type: application/octet-stream' --data-binary "@$tmp/package.bin")
[ "$code" = 201 ] || die "package upload: HTTP $code $(cat "$tmp/api.json")"
package_id=$(json_field package_id "$tmp/api.json")
[ -n "$package_id" ] || die "package upload: no package_id in $(cat "$tmp/api.json")"
echo "bench: package $package_id ($(json_field size "$tmp/api.json") bytes)"

# --- 3. the devices ---
"$bin/fw_load" --target "$coap" --devices "$devices" --prefix bench --window "$window" \
  --max-seconds "$((max_seconds + 120))" >"$tmp/fw_load.out" 2>"$tmp/fw_load.err" &
lpid=$!
pids+=("$lpid")
reg_line=$(wait_line "$tmp/fw_load.out" '^phase=register .*' "$lpid" 300) || {
  cat "$tmp/fw_load.err" >&2
  die "the devices did not register"
}
echo "n=$devices $reg_line"
[ "$(field ok "$reg_line")" = "$devices" ] || die "not every device registered"

# --- 4. idle ---
sleep 2
idle_rss=$(status_kb "$dpid" VmRSS)
idle_hwm=$(status_kb "$dpid" VmHWM)
idle_metric=$(metric process_resident_memory_bytes)
echo "bench: idle: VmRSS ${idle_rss} kB, VmHWM ${idle_hwm} kB," \
     "process_resident_memory_bytes $idle_metric"

# --- 5. the campaign ---
campaign="{\"name\":\"bench\",\"package_id\":\"$package_id\",\"targets\":{\"product_id\":\"bench\"},"
campaign+="\"delivery\":\"pull\",\"max_concurrent\":$concurrent,\"rate_per_minute\":$rate}"
t_start=$(now_s)
cpu_daemon0=$(cpu_s "$dpid")
cpu_load0=$(cpu_s "$lpid")
code=$(api POST /firmware-campaigns -H 'Content-Type: application/json' -d "$campaign")
[ "$code" = 201 ] || die "campaign create: HTTP $code $(cat "$tmp/api.json")"
campaign_id=$(json_field campaign_id "$tmp/api.json")
[ -n "$campaign_id" ] || die "campaign create: no campaign_id in $(cat "$tmp/api.json")"

# The sample with the most devices downloading (fw_load's count: between the Package URI
# and the last block) is the one memory per active download is taken from.
peak_dl=0 peak_rss=- peak_metric=- peak_running=0 peak_done=0 max_rss=0 status=running
: >"$tmp/samples"
while :; do
  sleep 1
  code=$(api GET "/firmware-campaigns/$campaign_id")
  status=$(json_field status "$tmp/api.json")
  rss=$(status_kb "$dpid" VmRSS)
  prog=$(grep '^progress ' "$tmp/fw_load.out" | tail -n 1 || true)
  dl=$(field downloading "$prog")
  [[ $dl =~ ^[0-9]+$ ]] || dl=0
  running=0
  for k in starting downloading downloaded updating; do
    v=$(json_field "$k" "$tmp/api.json")
    running=$((running + ${v:-0}))
  done
  echo "t=$(awk -v a="$(now_s)" -v b="$t_start" 'BEGIN { printf "%.0f", a - b }')" \
       "status=$status rss_kb=$rss downloading=$dl running=$running" \
       "succeeded=$(json_field succeeded "$tmp/api.json")" \
       "failed=$(json_field failed "$tmp/api.json")" >>"$tmp/samples"
  if [[ $rss =~ ^[0-9]+$ ]] && [ "$rss" -gt "$max_rss" ]; then max_rss=$rss; fi
  if [ "$dl" -gt "$peak_dl" ]; then
    peak_dl=$dl peak_rss=$rss peak_running=$running
    peak_done=$(json_field succeeded "$tmp/api.json")
    peak_metric=$(metric process_resident_memory_bytes)
  fi
  case "$status" in finished|stopped|cancelled) break ;; esac
  kill -0 "$dpid" 2>/dev/null || break
  if awk -v a="$(now_s)" -v b="$t_start" -v m="$max_seconds" 'BEGIN { exit !(a - b > m) }'; then
    echo "bench: the campaign did not end in $max_seconds s" >&2
    break
  fi
done
t_end=$(now_s)
cpu_daemon=$(awk -v a="$(cpu_s "$dpid")" -v b="$cpu_daemon0" 'BEGIN { printf "%.1f", a - b }')
cpu_load=$(awk -v a="$(cpu_s "$lpid")" -v b="$cpu_load0" 'BEGIN { printf "%.1f", a - b }')
campaign_s=$(awk -v a="$t_end" -v b="$t_start" 'BEGIN { printf "%.1f", a - b }')
cp "$tmp/api.json" "$tmp/campaign.json"
end_hwm=$(status_kb "$dpid" VmHWM)
end_rss=$(status_kb "$dpid" VmRSS)
blocks_metric=$(metric lwm2md_firmware_blocks_served_total)
bytes_metric=$(metric lwm2md_firmware_bytes_served_total)
peers_metric=$(metric lwm2md_coap_peers)
sed 's/^/bench: sample /' "$tmp/samples" | awk -v k="$sample_every" '(NR - 1) % k == 0'
echo "n=$devices campaign status=$status seconds=$campaign_s" \
     "succeeded=$(json_field succeeded "$tmp/campaign.json")" \
     "failed=$(json_field failed "$tmp/campaign.json")" \
     "skipped=$(json_field skipped "$tmp/campaign.json")" \
     "bytes_served=$(json_field bytes_served "$tmp/campaign.json")" \
     "blocks_served_metric=$blocks_metric bytes_served_metric=$bytes_metric" \
     "coap_peers=$peers_metric cpu_s_daemon=$cpu_daemon cpu_s_fw_load=$cpu_load"

# --- 6. the devices' view ---
stop "$lpid" || true
forget "$lpid"
fw_line=$(grep -m1 '^phase=firmware ' "$tmp/fw_load.out" || true)
echo "n=$devices $fw_line"
if [ -n "$(field failures "$fw_line" | grep -v '^0$' || true)" ]; then
  sed 's/^/bench: fw_load: /' "$tmp/fw_load.err" | head -n 20 >&2
fi

# --- 7. the daemon ---
alive=yes
kill -0 "$dpid" 2>/dev/null || alive=no
drc=0
stop "$dpid" || drc=$?
forget "$dpid"
if [ "$alive" = no ]; then
  tail -n 20 "$tmp/daemon.err" >&2
  die "lwm2md died during the run (status $drc)"
fi
if grep -q -i 'error' "$tmp/daemon.err"; then
  echo "bench: the daemon logged errors:" >&2
  grep -i 'error' "$tmp/daemon.err" | head -n 10 >&2
fi

# The machine is shared: the ceiling is measured again after the campaign, and the ratios
# are to the mean of the two.
echo_after=$(echo_run)
echo "n=$devices after $echo_after"
stop "$echo_pid" || true
forget "$echo_pid"
echo_rps=$(awk -v a="$(field rps "$echo_line")" -v b="$(field rps "$echo_after")" \
             'BEGIN { if (b + 0 > 0) printf "%.0f", (a + b) / 2; else printf "%.0f", a }')
block_rate=$(field blocks_per_s "$fw_line")
busy_rate=$(field busy_blocks_per_s "$fw_line")
per_dl=$(awk -v p="$peak_rss" -v i="$idle_rss" -v n="$peak_dl" \
           'BEGIN { if (p ~ /^[0-9]+$/ && i ~ /^[0-9]+$/ && n > 0) printf "%.0f", (p - i) * 1024 / n; else print "-" }')
# What the daemon keeps of each device that ended, from that sample to the end.
per_done=$(awk -v e="$end_rss" -v p="$peak_rss" -v a="$(json_field succeeded "$tmp/campaign.json")" \
             -v b="${peak_done:-0}" \
           'BEGIN { if (e ~ /^[0-9]+$/ && p ~ /^[0-9]+$/ && a - b > 0) printf "%.0f", (e - p) * 1024 / (a - b); else print "-" }')
per_dl_hwm=$(awk -v p="$end_hwm" -v i="$idle_rss" -v n="$peak_dl" \
           'BEGIN { if (p ~ /^[0-9]+$/ && i ~ /^[0-9]+$/ && n > 0) printf "%.0f", (p - i) * 1024 / n; else print "-" }')
echo
echo "bench: busy/s / echo_rps is the figure to track (aim >= 0.5); blocks/s is the whole" \
     "campaign's; memory per download (B/dl) aims at <= 16384 B."
fmt='%8s %9s %9s %7s %9s %7s %7s %10s %9s %9s %9s %8s %8s %7s %9s %7s\n'
# shellcheck disable=SC2059 # the format is the constant above
printf "$fmt" devices echo_rps blocks/s ratio busy/s b_ratio MiB/s campaign_s idle_kB \
  peak_kB hwm_kB peak_dl running B/dl B/dl_hwm failed
# shellcheck disable=SC2059
printf "$fmt" "$devices" "$echo_rps" "$block_rate" "$(ratio "$block_rate" "$echo_rps")" \
  "$busy_rate" "$(ratio "$busy_rate" "$echo_rps")" \
  "$(awk -v b="$(field bytes_per_s "$fw_line")" 'BEGIN { if (b + 0 > 0) printf "%.1f", b / 1048576; else print "-" }')" \
  "$campaign_s" "$idle_rss" "$peak_rss" "$end_hwm" "$peak_dl" "$peak_running" "$per_dl" \
  "$per_dl_hwm" "$(json_field failed "$tmp/campaign.json")"
echo "bench: process_resident_memory_bytes idle $idle_metric, at the peak $peak_metric;" \
     "VmRSS at the end ${end_rss} kB, the highest sampled ${max_rss} kB; from the peak" \
     "sample to the end $per_done B more per device that ended meanwhile"
[ "$status" = finished ] || die "the campaign ended $status"
