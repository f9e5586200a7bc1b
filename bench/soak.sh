#!/usr/bin/env bash
# bench/soak.sh: the soak benchmark (issue 15, aim 7) — a fleet Registering, Updating,
# reporting and taking commands against one daemon for a long while: do RSS, fds, threads
# and the push outbox stay flat, the Update p99 stable, and is nothing lost?
#
#   bench/soak.sh [BUILD_DIR] [DEVICES] [MINUTES] [WINDOW_MINUTES]   (build 100000 30 5)
#   bench/soak.sh build 2000 2 1                                     (the smoke: ~3 minutes)
#
# Nothing is judged against a fixed time: every figure is compared with the same run's first
# window. The devices are the water meter of tests/integration/test_platform.c (product
# "decl", the declarative codec, as bench/platform.sh sets it up), played by
# lwm2m_load --mode soak (bench/lwm2m_soak.h):
#   1. a fresh lwm2md on a temp database (--push-allow-private), bench/http_sink, product
#      "decl" with its codec, DEVICES devices through bench/api_create, a forwarding rule
#      to the sink (every report goes through the push outbox);
#   2. every device Registers and is observed (/19/0/0, by the daemon on Register);
#   3. for MINUTES, at steady rates: Updates (each device about once a minute), reports
#      (each device about every two minutes), reboots (Deregister + Register, or a bare
#      re-Register, on the last 1 % of the devices) and, from this script, commands
#      (POST async-commands SET_INTERVAL, immediately, to the other 99 %, through curl's
#      keep-alive connections once a second), which the devices answer (2.04 and a
#      deviceRsp report);
#   4. every WINDOW_MINUTES one line "soak window=K ...": the daemon's VmRSS, VmHWM, open
#      fds, threads, push outbox, then the window's Updates sent/ok/lost and p50/p99,
#      reports sent/ok and uplinks applied, commands posted/created/succeeded/failed,
#      events pushed (delivered) and dropped, re-Registers and Deregisters;
#   5. then: commands stop, the devices answer what they owe, the outbox drains; one line
#      "soak final ..." and one "verdict <figure> ..." line per figure, first window
#      against last: RSS growth, fds and threads equal, outbox back to ~0 (at most
#      SOAK_OUTBOX_SLACK), Update p99 last/first, nothing lost (requests, commands,
#      pushes: the sink's count against lwm2md_push_delivered_total).
# The verdicts are results, not failures: the script exits non-zero only when it could not
# run (daemon did not start, the API refused, the daemon died).
#
# Environment: SOAK_UPDATE_RATE (Updates/s, DEVICES/60), SOAK_REPORT_RATE (reports/s,
# DEVICES/120), SOAK_COMMAND_RATE (commands/s, DEVICES/1000, at least 1), SOAK_REBOOT_RATE
# (reboots a minute, DEVICES/2000, at least 2), SOAK_WINDOW (CoAP requests in flight, 256),
# SOAK_OUTBOX_SLACK (outbox depth still "~0", 10), SOAK_RSS_FLAT_PCT (RSS growth still
# flat, 10), SOAK_P99_RATIO (last/first p99 still stable, 2), BENCH_BIN (where the bench
# programs are; default BUILD_DIR).
set -euo pipefail

build=${1:-build}
devices=${2:-100000}
minutes=${3:-30}
window_min=${4:-5}
bin=${BENCH_BIN:-$build}

. "$(dirname "$0")/lib.sh"

for n in "$devices" "$minutes" "$window_min"; do
  [[ $n =~ ^[1-9][0-9]{0,5}$ ]] || die "not a count in 1..999999: '$n'"
done
[ "$devices" -le 1000000 ] || die "at most 1000000 devices: '$devices'"
[ "$window_min" -le "$minutes" ] || die "the window ($window_min min) is longer than the run"
max0() { if [ "$1" -gt "$2" ]; then echo "$1"; else echo "$2"; fi; }
update_rate=${SOAK_UPDATE_RATE:-$(max0 $((devices / 60)) 1)}
report_rate=${SOAK_REPORT_RATE:-$(max0 $((devices / 120)) 1)}
command_rate=${SOAK_COMMAND_RATE:-$(max0 $((devices / 1000)) 1)}
reboot_rate=${SOAK_REBOOT_RATE:-$(max0 $((devices / 2000)) 2)}
inflight=${SOAK_WINDOW:-256}
outbox_slack=${SOAK_OUTBOX_SLACK:-10}
rss_flat=${SOAK_RSS_FLAT_PCT:-10}
p99_ratio=${SOAK_P99_RATIO:-2}
for n in "$update_rate" "$report_rate" "$command_rate" "$reboot_rate" "$inflight" \
         "$outbox_slack" "$rss_flat"; do
  [[ $n =~ ^[0-9]{1,7}$ ]] || die "not a count: '$n'"
done
for exe in "$build/lwm2md" "$bin/lwm2m_load" "$bin/api_create" "$bin/http_sink"; do
  [ -x "$exe" ] || die "$exe is missing (build first: make build)"
done
command -v curl >/dev/null || die "curl is needed (apt-get install curl)"

bench_tmp lwm2md-soak
# Reboots go to the last 1 % of the devices (lwm2m_soak.h, REBOOT_POOL_DIVISOR); commands
# to the others, so that none is sent to a device that is away.
pool=$(max0 $((devices / 100)) 1)
cmd_devices=$(max0 $((devices - pool)) 1)
prefix=s
project=bench
# Registering and being observed may take this long (then the run gives up).
setup_s=$(max0 $((devices / 500)) 120)

metrics() {
  curl -sS --max-time 10 "http://$http/metrics" >"$tmp/metrics" 2>/dev/null || : >"$tmp/metrics"
}
# m NAME: an unlabelled metric of the last metrics() fetch, or 0.
m() {
  awk -v m="$1" '$1 == m { v = $2 } END { printf "%d\n", v + 0 }' "$tmp/metrics"
}
# proc_status KEY: a line's number from the daemon's /proc status (kB for Vm*).
proc_status() {
  awk -v k="$1:" '$1 == k { print $2 }' "/proc/$dpid/status" 2>/dev/null || echo 0
}
api() {
  curl -sS -o "$4" -w '%{http_code}' --max-time 10 -X "$1" -H "X-Auth-Token: $token" \
    -H 'Content-Type: application/json' --data-binary "$3" "http://$http$2" || true
}

# The water meter of tests/integration/test_platform.c (as bench/platform.sh has it).
model='[{"service_id":"WaterMeter","service_type":"WaterMeter","properties":[
 {"property_name":"battery","data_type":"int","min":0,"max":100,"method":"R"},
 {"property_name":"flow","data_type":"long","min":0,"method":"R"}],
 "commands":[{"command_name":"SET_INTERVAL","paras":[{"para_name":"interval",
  "data_type":"int","required":true,"min":1,"max":65535}],
  "responses":[{"response_name":"ACK","paras":[{"para_name":"result","data_type":"int"}]}]}]}]'
layout='"{\"message_id\":{\"offset\":0,\"type\":\"uint8\"},\"messages\":[{\"id\":0,\"kind\":\"report\",\"service_id\":\"WaterMeter\",\"fields\":[{\"name\":\"battery\",\"offset\":1,\"type\":\"uint8\"},{\"name\":\"flow\",\"offset\":2,\"type\":\"uint32\"}]},{\"id\":1,\"kind\":\"command\",\"service_id\":\"WaterMeter\",\"command\":\"SET_INTERVAL\",\"fields\":[{\"name\":\"mid\",\"offset\":1,\"type\":\"uint16\",\"role\":\"mid\"},{\"name\":\"interval\",\"offset\":3,\"type\":\"uint16\"}]},{\"id\":2,\"kind\":\"response\",\"service_id\":\"WaterMeter\",\"command\":\"SET_INTERVAL\",\"fields\":[{\"name\":\"mid\",\"offset\":1,\"type\":\"uint16\",\"role\":\"mid\"},{\"name\":\"errcode\",\"offset\":3,\"type\":\"uint8\",\"role\":\"errcode\"},{\"name\":\"result\",\"offset\":4,\"type\":\"uint8\"}]}]}"'

# --- the sink and the daemon ---
"$bin/http_sink" 127.0.0.1:0 >"$tmp/sink.out" 2>"$tmp/sink.err" &
sink_pid=$!
pids+=("$sink_pid")
sink_addr=$(wait_line "$tmp/sink.out" 'listening http [0-9.]+:[0-9]+' "$sink_pid") ||
  die "http_sink did not start: $(cat "$tmp/sink.err")"
sink_addr=${sink_addr#listening http }

db="$tmp/db.sqlite"
token=$("$build/lwm2md" token create --db "$db" --project "$project" 2>/dev/null) ||
  die "token create failed"
"$build/lwm2md" --db "$db" --coap 127.0.0.1:0 --coaps 127.0.0.1:0 --http 127.0.0.1:0 \
  --push-allow-private --log-level warn >"$tmp/daemon.out" 2>"$tmp/daemon.err" &
dpid=$!
pids+=("$dpid")
if ! coap=$(wait_line "$tmp/daemon.out" 'listening coap [0-9.]+:[0-9]+' "$dpid") ||
   ! http=$(wait_line "$tmp/daemon.out" 'listening http [0-9.]+:[0-9]+' "$dpid"); then
  tail -n 20 "$tmp/daemon.err" >&2
  die "lwm2md did not start"
fi
coap=${coap#listening coap }
http=${http#listening http }
echo "soak: devices=$devices minutes=$minutes window_minutes=$window_min" \
     "update_rate=$update_rate/s report_rate=$report_rate/s command_rate=$command_rate/s" \
     "reboot_rate=$reboot_rate/min in_flight=$inflight daemon_pid=$dpid"

code=$(api POST "/v5/iot/$project/products" "{\"product_id\":\"decl\",\"name\":\"decl\",
  \"protocol_type\":\"LwM2M\",\"data_format\":\"binary\",\"service_capabilities\":$model}" \
  "$tmp/api.json")
[ "$code" = 201 ] || die "product: HTTP $code $(cat "$tmp/api.json")"
code=$(api PUT "/v5/iot/$project/products/decl/codec" "{\"kind\":\"declarative\",\"source\":$layout}" \
  "$tmp/api.json")
[ "$code" = 200 ] || die "codec: HTTP $code $(cat "$tmp/api.json")"
line=$("$bin/api_create" --api "$http" --token "$token" --project "$project" --product decl \
         --prefix "$prefix" --devices "$devices") || die "device create failed: $line"
echo "soak: $line"
code=$(api POST "/v5/iot/$project/forwarding-rules" "{\"url\":\"http://$sink_addr/x\"}" "$tmp/api.json")
[ "$code" = 201 ] || die "forwarding rule: HTTP $code $(cat "$tmp/api.json")"

# --- the devices: Register, observed, then the soak ---
"$bin/lwm2m_load" --mode soak --target "$coap" --devices "$devices" --prefix "$prefix" \
  --rate "$update_rate" --report-rate "$report_rate" --reboot-rate "$reboot_rate" \
  --soak-seconds $((minutes * 60)) --window-seconds $((window_min * 60)) \
  --window "$inflight" --max-seconds "$setup_s" >"$tmp/load.out" 2>"$tmp/load.err" &
lpid=$!
pids+=("$lpid")
if ! wait_line "$tmp/load.out" '^phase=observe .*' "$lpid" $((setup_s * 2 + 30)) >/dev/null; then
  sed 's/^/soak: /' "$tmp/load.err" >&2
  grep '^phase=' "$tmp/load.out" | sed 's/^/soak: /'
  die "the devices did not register and get observed"
fi
grep -E '^phase=(register|observe) ' "$tmp/load.out" | sed 's/^/soak: /'
grep -q '^phase=observe .*aborted=0' "$tmp/load.out" || die "not every device was observed"

# --- the commands: once a second, command_rate POSTs over curl's keep-alive connections
# (one curl per second, not per command), round-robin over the first cmd_devices devices.
# Appends "<201s> <others>" per second to cmd.count until cmd.stop exists or the soak is
# 5 s from its end (the devices answer commands, with their deviceRsp, until it ends and
# a little after).
commander() {
  local k=0 t0 i j due now ok
  t0=$(date +%s%N)
  for ((i = 0; i < minutes * 60 - 5; i++)); do
    [ -e "$tmp/cmd.stop" ] && break
    {
      for ((j = 0; j < command_rate; j++)); do
        [ "$j" -eq 0 ] || echo next
        printf 'url = "http://%s/v5/iot/%s/devices/decl_%s%06d/async-commands"\n' \
          "$http" "$project" "$prefix" $((k % cmd_devices))
        printf 'header = "X-Auth-Token: %s"\nheader = "Content-Type: application/json"\n' "$token"
        printf 'data = "{\\"service_id\\":\\"WaterMeter\\",\\"command_name\\":\\"SET_INTERVAL\\",'
        printf '\\"paras\\":{\\"interval\\":%d},\\"send_strategy\\":\\"immediately\\"}"\n' $((1 + k % 65535))
        printf 'output = "/dev/null"\nwrite-out = "%%{http_code}\\n"\n'
        k=$((k + 1))
      done
    } >"$tmp/cmd.cfg"
    ok=$(curl -sS --max-time 30 --parallel --parallel-max 4 -K "$tmp/cmd.cfg" 2>/dev/null |
           awk '$1 == 201 { ok++ } $1 != 201 { bad++ } END { printf "%d %d\n", ok, bad }' ||
         true)
    echo "$ok" >>"$tmp/cmd.count"
    due=$((t0 + (i + 1) * 1000000000))
    now=$(date +%s%N)
    if [ "$now" -lt "$due" ]; then sleep "$(awk -v d=$((due - now)) 'BEGIN { printf "%.3f", d / 1e9 }')"; fi
  done
}
: >"$tmp/cmd.count"
commander &
cmd_pid=$!
pids+=("$cmd_pid")
cmd_sums() { awk '{ ok += $1; bad += $2 } END { printf "%d %d\n", ok, bad }' "$tmp/cmd.count"; }

# --- a line per window ---
# sample: the daemon's process figures and metrics now, into s_* variables.
sample() {
  metrics
  s_rss=$(proc_status VmRSS)
  s_hwm=$(proc_status VmHWM)
  s_threads=$(proc_status Threads)
  s_fds=$(ls "/proc/$dpid/fd" 2>/dev/null | wc -l)
  s_outbox=$(m lwm2md_push_outbox)
  s_up=$(m lwm2md_uplinks_total)
  s_props=$(m lwm2md_property_reports_total)
  s_cc=$(m lwm2md_commands_created_total)
  s_cs=$(m lwm2md_commands_succeeded_total)
  s_cf=$(m lwm2md_commands_failed_total)
  s_pd=$(m lwm2md_push_delivered_total)
  s_pq=$(m lwm2md_push_queued_total)
  s_px=$(m lwm2md_push_dropped_total)
  s_rg=$(m lwm2md_registrations_total)
  s_dr=$(m lwm2md_deregistrations_total)
  s_ce=$(m lwm2md_codec_errors_total)
  s_rd=$(m lwm2md_reports_dropped_total)
  read -r s_post s_postbad < <(cmd_sums)
}
sample
p_up=$s_up p_props=$s_props p_cc=$s_cc p_cs=$s_cs p_cf=$s_cf p_pd=$s_pd p_pq=$s_pq p_px=$s_px
p_rg=$s_rg p_dr=$s_dr p_ce=$s_ce p_rd=$s_rd p_post=$s_post p_postbad=$s_postbad
base_pd=$s_pd base_px=$s_px base_cf=$s_cf base_ce=$s_ce base_rd=$s_rd

windows=$((minutes / window_min))
rows=()
first= last=
for ((w = 1; w <= windows; w++)); do
  wl=$(wait_line "$tmp/load.out" "^window=$w .*" "$lpid" $((window_min * 60 + 120))) || {
    sed 's/^/soak: /' "$tmp/load.err" >&2
    die "no line for window $w from lwm2m_load"
  }
  sample
  ms() { awk -v u="$(field "$1" "$wl")" 'BEGIN { printf "%.1f", u / 1000 }'; }
  row="window=$w minutes=$((w * window_min)) rss_kb=$s_rss hwm_kb=$s_hwm fds=$s_fds"
  row+=" threads=$s_threads outbox=$s_outbox registered=$(field registered "$wl")"
  row+=" observed=$(field observed "$wl") upd_sent=$(field upd_sent "$wl")"
  row+=" upd_ok=$(field upd_ok "$wl") upd_lost=$(( $(field upd_lost "$wl") + $(field upd_err "$wl") ))"
  row+=" upd_p50_ms=$(ms upd_p50_us) upd_p99_ms=$(ms upd_p99_us) upd_skipped=$(field upd_skipped "$wl")"
  row+=" rep_sent=$(field rep_sent "$wl") rep_ok=$(field rep_ok "$wl")"
  row+=" rep_lost=$(( $(field rep_lost "$wl") + $(field rep_err "$wl") )) rep_p99_ms=$(ms rep_p99_us)"
  row+=" uplinks=+$((s_up - p_up)) props=+$((s_props - p_props)) codec_err=+$((s_ce - p_ce))"
  row+=" cmd_posted=+$((s_post - p_post)) cmd_post_failed=+$((s_postbad - p_postbad))"
  row+=" cmd_created=+$((s_cc - p_cc)) cmd_ok=+$((s_cs - p_cs)) cmd_failed=+$((s_cf - p_cf))"
  row+=" rsp_sent=$(field rsp_sent "$wl") pushed=+$((s_pd - p_pd)) push_queued=+$((s_pq - p_pq))"
  row+=" push_dropped=+$((s_px - p_px)) registers=+$((s_rg - p_rg)) deregisters=+$((s_dr - p_dr))"
  row+=" reboots_lost=$(( $(field reg_lost "$wl") + $(field reg_err "$wl") + $(field dereg_lost "$wl") + $(field dereg_err "$wl") ))"
  row+=" retransmits=$(field retransmits "$wl")"
  echo "soak $row"
  rows+=("$row")
  [ -n "$first" ] || first=$row
  last=$row
  p_up=$s_up p_props=$s_props p_cc=$s_cc p_cs=$s_cs p_cf=$s_cf p_pd=$s_pd p_pq=$s_pq p_px=$s_px
  p_rg=$s_rg p_dr=$s_dr p_ce=$s_ce p_rd=$s_rd p_post=$s_post p_postbad=$s_postbad
done

# --- the end: no more commands; what is owed is answered, the outbox drains ---
touch "$tmp/cmd.stop"
wait "$cmd_pid" 2>/dev/null || true
forget "$cmd_pid"
soak_line=$(wait_line "$tmp/load.out" '^phase=soak .*' "$lpid" 120) || {
  sed 's/^/soak: /' "$tmp/load.err" >&2
  die "lwm2m_load did not finish its soak"
}
t_end=$(date +%s)
settled=no
# Up to 120 s for the last commands to complete and the outbox to drain.
while [ $(( $(date +%s) - t_end )) -lt 120 ]; do
  metrics
  created=$(m lwm2md_commands_created_total)
  done_=$(( $(m lwm2md_commands_succeeded_total) + $(m lwm2md_commands_failed_total) ))
  if [ "$done_" -ge "$created" ] && [ "$(m lwm2md_push_outbox)" -le "$outbox_slack" ]; then
    settled=yes
    break
  fi
  sleep 0.1
done
drain_s=$(( $(date +%s) - t_end ))
sample
alive=yes
kill -0 "$dpid" 2>/dev/null || alive=no
rc=0
stop "$lpid" || rc=$?
forget "$lpid"
stop "$sink_pid" || true
forget "$sink_pid"
sink_n=$(grep -o 'requests=[0-9]*' "$tmp/sink.out" | cut -d= -f2)
echo "soak final drain_s=$drain_s settled=$settled rss_kb=$s_rss hwm_kb=$s_hwm fds=$s_fds" \
     "threads=$s_threads outbox=$s_outbox commands_created=$s_cc commands_succeeded=$s_cs" \
     "commands_failed=$s_cf commands_posted=$s_post command_posts_failed=$s_postbad" \
     "push_queued=$s_pq push_delivered=$s_pd push_dropped=$s_px sink_requests=${sink_n:-?}" \
     "codec_errors=$s_ce reports_dropped=$s_rd"
echo "soak load $(sed 's/^phase=soak //' <<<"$soak_line")"

# --- verdicts: first window against the last ---
f() { field "$1" "$2"; }
rss_pct=$(awk -v a="$(f rss_kb "$first")" -v b="$(f rss_kb "$last")" \
  'BEGIN { printf "%.1f", (a > 0 ? (b - a) * 100 / a : 0) }')
echo "verdict rss first_kb=$(f rss_kb "$first") last_kb=$(f rss_kb "$last") growth_pct=$rss_pct" \
     "hwm_last_kb=$(f hwm_kb "$last") flat=$(awk -v p="$rss_pct" -v l="$rss_flat" 'BEGIN { print (p < l ? "yes" : "no") }')"
echo "verdict fds first=$(f fds "$first") last=$(f fds "$last") final=$s_fds" \
     "equal=$([ "$(f fds "$first")" = "$(f fds "$last")" ] && echo yes || echo no)"
echo "verdict threads first=$(f threads "$first") last=$(f threads "$last") final=$s_threads" \
     "equal=$([ "$(f threads "$first")" = "$(f threads "$last")" ] && echo yes || echo no)"
echo "verdict outbox first=$(f outbox "$first") last=$(f outbox "$last") after_drain=$s_outbox" \
     "drain_s=$drain_s back_to_zero=$([ "$s_outbox" -le "$outbox_slack" ] && echo yes || echo no)"
p99_r=$(ratio "$(f upd_p99_ms "$last")" "$(f upd_p99_ms "$first")")
echo "verdict update_p99 first_ms=$(f upd_p99_ms "$first") last_ms=$(f upd_p99_ms "$last")" \
     "ratio_last_first=$p99_r stable=$(awk -v r="$p99_r" -v l="$p99_ratio" 'BEGIN { print (r != "-" && r <= l ? "yes" : "no") }')"
lost_req=0
for op in upd rep rsp reg dereg; do
  lost_req=$((lost_req + $(field ${op}_lost "$soak_line") + $(field ${op}_err "$soak_line")))
done
cmd_lost=$((s_cc - s_cs))
push_lost=$((s_pq - s_pd))
sink_gap=$(( s_pd - ${sink_n:-0} ))
nothing_lost=no
[ "$lost_req" = 0 ] && [ "$cmd_lost" = 0 ] && [ "$s_postbad" = 0 ] && [ "$push_lost" = 0 ] &&
  [ "$s_px" = 0 ] && [ "$sink_gap" = 0 ] && [ "$s_ce" = 0 ] && nothing_lost=yes
echo "verdict lost coap_requests=$lost_req commands_not_succeeded=$cmd_lost" \
     "command_posts_failed=$s_postbad push_undelivered=$push_lost push_dropped=$s_px" \
     "delivered_minus_sink=$sink_gap codec_errors=$s_ce none=$nothing_lost"

if [ "$alive" = no ]; then
  tail -n 20 "$tmp/daemon.err" >&2
  die "lwm2md died during the run"
fi
[ "$rc" -eq 0 ] || sed 's/^/soak: lwm2m_load: /' "$tmp/load.err" >&2
exit 0
