#!/usr/bin/env bash
# bench/platform.sh: the platform benchmark — binary reports through the codecs into the
# shadow (and the push outbox), and commands from the API to the device's answer.
#
#   bench/platform.sh [BUILD_DIR] [DEVICES...]          (defaults: build, 1000 10000)
#
# As everywhere in bench/, nothing is judged against a fixed number: every rate is given as
# a ratio to a baseline measured in the same run. The device is the water meter of
# tests/integration/test_platform.c (reports [0, battery %, flow uint32] on /19/0/0, takes
# SET_INTERVAL on /19/1/0, answers [2, mid, errcode, result]), played N times by
# lwm2m_load --mode report. Per device count:
#   1. lwm2m_load --mode echo --shape notify --format opaque against udp_echo: the very
#      report datagrams of step 3, echoed                              -> the UDP ceiling
#   2. a fresh lwm2md on a temp database; products "plain" (no model, no codec), "decl"
#      (the model and the declarative codec), "js" (the model and the JavaScript codec);
#      N devices per variant below (bench/api_create)
#   3. per variant: N devices register; they are observed (decl, js: by the daemon itself,
#      /19/0/0 Accept 42, on Register; plain: /19/1/0 through the REST API, so that the
#      daemon only records the notifications — the platform layer ignores that path);
#      then each sends REPORTS CON reports, WINDOW in flight     -> reports/s, / echo, / plain
#      Reports are ACKed when taken; the script then waits until lwm2md_uplinks_total
#      shows them all applied (a JavaScript codec decodes on its threads after the ACK)
#      -> applied/s = reports / (their seconds + that drain), / plain.
#      The shadow of three devices must hold their last values; /metrics deltas of
#      lwm2md_uplinks_total, lwm2md_property_reports_total, lwm2md_codec_errors_total.
#   4. (decl, js; after every report variant, on N fresh devices that send no reports, and
#      without the forwarding rule) commands: http_load GETs one device COMMANDS times (the baseline), then
#      POSTs COMMANDS async-commands (SET_INTERVAL, immediately) round-robin over the N
#      devices over CONNECTIONS connections; the devices answer the PUT 2.04 and send the
#      deviceRsp; completed = lwm2md_commands_succeeded_total's delta over the time from
#      the first POST until it stops growing                         -> commands/s, / GET
#      The event loop's CPU (from /proc/PID/task/*/schedstat) per GET and per completed
#      command: loop/cmd ÷ loop/get is the rate ratio's inverse with most of the machine's
#      other load taken out.
#   5. (with BENCH_PUSH=1) a forwarding rule to bench/http_sink, then step 3 again for
#      decl and js (fresh devices): every report is also written to the push outbox and
#      POSTed to the sink; the outbox's drain is timed afterwards.
# then stops the daemon, checks it had not died, and prints summary tables, then one line
# per figure to tabulate runs (grep '^result platform '):
#   result platform reports devices=N variant=V reports_per_s= r_plain= applied_per_s=
#     a_plain= loop_us= thr_us= cpu_per_plain= lost= shadow_ok=
#   result platform commands devices=N codec=C get_per_s= completed_per_s= done_per_get=
#     loop_us_per_command= loop_us_per_get= cpu_command_per_get= completed=
# loop_us per report counts the variant's Registers and Observes too: with the default 3
# reports a device they weigh as much as the reports; BENCH_REPORTS=10 or more for a
# per-report CPU that is mostly reports.
#
# Environment: BENCH_REPORTS (reports per device, 3), BENCH_WINDOW (CoAP messages in
# flight, 256), BENCH_COMMANDS (commands per codec, 3000), BENCH_CONNECTIONS (HTTP
# connections, 64), BENCH_PUSH (1: step 5, 0: skip it), BENCH_MAX_SECONDS (limit per
# phase, 60), BENCH_BIN (where the bench programs are; default BUILD_DIR).
set -euo pipefail

build=${1:-build}
if [ $# -gt 0 ]; then shift; fi
if [ $# -gt 0 ]; then devices=("$@"); else devices=(1000 10000); fi
bin=${BENCH_BIN:-$build}
reports=${BENCH_REPORTS:-3}
window=${BENCH_WINDOW:-256}
commands=${BENCH_COMMANDS:-3000}
connections=${BENCH_CONNECTIONS:-64}
push=${BENCH_PUSH:-1}
max_seconds=${BENCH_MAX_SECONDS:-60}

. "$(dirname "$0")/lib.sh"

for n in "${devices[@]}" "$reports" "$window" "$commands" "$connections" "$max_seconds"; do
  [[ $n =~ ^[1-9][0-9]{0,5}$ ]] || die "not a count in 1..999999: '$n'"
done
for n in "${devices[@]}"; do
  # Each variant plays its devices on its own 127.B.*.* block (65 024 addresses each).
  [ "$n" -le 65024 ] || die "at most 65024 devices per run: '$n'"
done
for exe in "$build/lwm2md" "$bin/udp_echo" "$bin/lwm2m_load" "$bin/api_create" \
           "$bin/http_load" "$bin/http_sink"; do
  [ -x "$exe" ] || die "$exe is missing (build first: make build)"
done
command -v curl >/dev/null || die "curl is needed (apt-get install curl)"

bench_tmp lwm2md-platform


# metric NAME: the value of an unlabelled metric of the daemon now, or 0.
metric() {
  curl -sS --max-time 10 "http://$http/metrics" 2>/dev/null |
    awk -v m="$1" '$1 == m { v = $2 } END { print v + 0 }'
}

# now_s: seconds since the epoch, with fractions.
now_s() {
  date +%s.%N
}

# cpu_ns PID: "LOOP OTHER", nanoseconds on a CPU so far of the process's main thread (the
# event loop) and of all its other threads (the codec threads) — from the scheduler's own
# accounting, so unlike a rate it hardly depends on what else the machine runs.
cpu_ns() {
  local t loop=0 other=0 ns
  for t in /proc/"$1"/task/*; do
    read -r ns _ <"$t/schedstat" 2>/dev/null || continue
    if [ "${t##*/}" = "$1" ]; then loop=$ns; else other=$((other + ns)); fi
  done
  echo "$loop $other"
}

# api METHOD PATH BODY OUT: an API call with the run's token; prints the status code.
api() {
  curl -sS -o "$4" -w '%{http_code}' --max-time 10 -X "$1" -H "X-Auth-Token: $token" \
    -H 'Content-Type: application/json' --data-binary "$3" "http://$http$2" || true
}

# The water meter of tests/integration/test_platform.c: its model, its declarative layout
# and its JavaScript codec (the last two as JSON strings).
model='[{"service_id":"WaterMeter","service_type":"WaterMeter","properties":[
 {"property_name":"battery","data_type":"int","min":0,"max":100,"method":"R"},
 {"property_name":"flow","data_type":"long","min":0,"method":"R"}],
 "commands":[{"command_name":"SET_INTERVAL","paras":[{"para_name":"interval",
  "data_type":"int","required":true,"min":1,"max":65535}],
  "responses":[{"response_name":"ACK","paras":[{"para_name":"result","data_type":"int"}]}]}]}]'
layout='"{\"message_id\":{\"offset\":0,\"type\":\"uint8\"},\"messages\":[{\"id\":0,\"kind\":\"report\",\"service_id\":\"WaterMeter\",\"fields\":[{\"name\":\"battery\",\"offset\":1,\"type\":\"uint8\"},{\"name\":\"flow\",\"offset\":2,\"type\":\"uint32\"}]},{\"id\":1,\"kind\":\"command\",\"service_id\":\"WaterMeter\",\"command\":\"SET_INTERVAL\",\"fields\":[{\"name\":\"mid\",\"offset\":1,\"type\":\"uint16\",\"role\":\"mid\"},{\"name\":\"interval\",\"offset\":3,\"type\":\"uint16\"}]},{\"id\":2,\"kind\":\"response\",\"service_id\":\"WaterMeter\",\"command\":\"SET_INTERVAL\",\"fields\":[{\"name\":\"mid\",\"offset\":1,\"type\":\"uint16\",\"role\":\"mid\"},{\"name\":\"errcode\",\"offset\":3,\"type\":\"uint8\",\"role\":\"errcode\"},{\"name\":\"result\",\"offset\":4,\"type\":\"uint8\"}]}]}"'
script='"function decode(payload, topic) {\n  var id = payload[0];\n  if (id === 0)\n    return JSON.stringify({msgType: '"'"'deviceReq'"'"', data: [{serviceId: '"'"'WaterMeter'"'"',\n      serviceData: {battery: payload[1], flow: ((payload[2] << 24) >>> 0) +\n        (payload[3] << 16) + (payload[4] << 8) + payload[5]}}]});\n  if (id === 2)\n    return JSON.stringify({msgType: '"'"'deviceRsp'"'"', mid: (payload[1] << 8) | payload[2],\n      errcode: payload[3], body: {result: payload[4]}});\n  throw new Error('"'"'unknown message '"'"' + id);\n}\nfunction encode(json) {\n  var req = JSON.parse(json);\n  var v = req.paras.interval;\n  return [1, (req.mid >> 8) & 0xFF, req.mid & 0xFF, (v >> 8) & 0xFF, v & 0xFF];\n}\n"'

# --- the baseline servers ---
"$bin/udp_echo" 127.0.0.1:0 >"$tmp/echo.out" 2>"$tmp/echo.err" &
echo_pid=$!
pids+=("$echo_pid")
echo_addr=$(wait_line "$tmp/echo.out" 'listening udp [0-9.]+:[0-9]+' "$echo_pid") ||
  die "udp_echo did not start: $(cat "$tmp/echo.err")"
echo_addr=${echo_addr#listening udp }
"$bin/http_sink" 127.0.0.1:0 >"$tmp/sink.out" 2>"$tmp/sink.err" &
sink_pid=$!
pids+=("$sink_pid")
sink_addr=$(wait_line "$tmp/sink.out" 'listening http [0-9.]+:[0-9]+' "$sink_pid") ||
  die "http_sink did not start: $(cat "$tmp/sink.err")"
sink_addr=${sink_addr#listening http }
echo "bench: udp_echo on $echo_addr, http_sink on $sink_addr; devices ${devices[*]};" \
     "$reports reports each; window $window; $commands commands over $connections connections"

status=0
report_rows=()
command_rows=()
result_lines=()

# report_run N LABEL PRODUCT PREFIX NET COMMANDS REPORTS: one variant (step 3 with REPORTS
# per device, and step 4 when COMMANDS is 1). Sets rep_line, the metric deltas and the command results; prints the
# raw lines.
report_run() {
  local n=$1 label=$2 product=$3 prefix=$4 net=$5 with_commands=$6 nrep=$7 dir="$tmp/$1"
  local lpid rc=0
  rep_line= cmd_get= cmd_post= cmd_done=- cmd_rate=- cmd_line= shadow=- push_line=
  cmd_loop_us=- cmd_thr_us=- get_loop_us=-
  local up0 pr0 ce0 pq0 pd0
  up0=$(metric lwm2md_uplinks_total)
  local cpu0
  cpu0=$(cpu_ns "$dpid")
  pr0=$(metric lwm2md_property_reports_total)
  ce0=$(metric lwm2md_codec_errors_total)
  pq0=$(metric lwm2md_push_queued_total)
  pd0=$(metric lwm2md_push_delivered_total)
  "$bin/lwm2m_load" --mode report --target "$coap" --devices "$n" --prefix "$prefix" \
    --notifications "$nrep" --window "$window" --net "$net" \
    --max-seconds "$max_seconds" >"$dir/$label.out" 2>"$dir/$label.err" &
  lpid=$!
  pids+=("$lpid")
  if ! wait_line "$dir/$label.out" '^phase=register .*' "$lpid" "$max_seconds" >/dev/null; then
    cat "$dir/$label.err" >&2
    echo "bench: $label: the devices did not register" >&2
    stop "$lpid" || true
    forget "$lpid"
    return 1
  fi
  if [ "$product" = plain ]; then
    local obs
    obs=$("$bin/http_load" --api "$http" --token "$token" --route lwm2m --product plain \
            --prefix "$prefix" --path 19/1/0 --query 'op=observe&format=opaque' \
            --expect observation_id --devices "$n" --requests "$n" \
            --connections "$connections" --name observe --max-seconds "$max_seconds" \
            2>"$dir/$label.observe.err") || sed 's/^/bench: /' "$dir/$label.observe.err" >&2
    echo "n=$n $label $obs"
  fi
  if ! wait_line "$dir/$label.out" '^phase=command-ready' "$lpid" "$((max_seconds * 2))" \
       >/dev/null; then
    rc=0
    stop "$lpid" || rc=$?
    forget "$lpid"
    sed 's/^/bench: /' "$dir/$label.err" >&2
    grep '^phase=' "$dir/$label.out" | sed "s/^/n=$n $label /"
    echo "bench: $label: the reports did not complete" >&2
    return 1
  fi
  rep_line=$(grep -m1 '^phase=notify ' "$dir/$label.out")
  # A report is ACKed when the daemon takes it; a JavaScript codec decodes it on a codec
  # thread afterwards. Wait until the reports are applied: the uplinks count reaches N
  # first answers + N x REPORTS, or stops growing for 2 s (some were dropped). drain_s is
  # how long that took after the last ACK (0.1 s resolution).
  local want_up=0 t_seen t_last u last_u=-1 j
  [ "$product" = plain ] || want_up=$((n * (nrep + 1)))
  t_seen=$(now_s)
  t_last=$t_seen
  for ((j = 0; j < max_seconds * 20; j++)); do
    u=$(( $(metric lwm2md_uplinks_total) - up0 ))
    [ "$u" != "$last_u" ] && { t_last=$(now_s); last_u=$u; }
    [ "$u" -ge "$want_up" ] && break
    awk -v a="$t_last" -v b="$(now_s)" 'BEGIN { exit !(b - a > 2) }' && break
    sleep 0.05
  done
  drain_s=$(awk -v a="$t_seen" -v b="$t_last" 'BEGIN { d = b - a; printf "%.2f", (d > 0 ? d : 0) }')
  applied_rps=$(awk -v ok="$(field ok "$rep_line")" -v s="$(field seconds "$rep_line")" \
                  -v d="$drain_s" 'BEGIN { if (s + d > 0) printf "%.0f", ok / (s + d); else print "-" }')
  # CPU per report over the whole variant (Registers and the Observe included, as for
  # plain): the loop's, and the other threads'.
  read -r loop_us other_us < <(awk -v a="$cpu0" -v b="$(cpu_ns "$dpid")" \
    -v n="$(field ok "$rep_line")" 'BEGIN { split(a, x); split(b, y); n += 0;
      if (n > 0) printf "%.1f %.1f\n", (y[1] - x[1]) / n / 1000, (y[2] - x[2]) / n / 1000;
      else print "- -" }')
  d_up=$(( $(metric lwm2md_uplinks_total) - up0 ))
  d_pr=$(( $(metric lwm2md_property_reports_total) - pr0 ))
  d_ce=$(( $(metric lwm2md_codec_errors_total) - ce0 ))

  # The shadow holds each probed device's last report (not for plain: it has none).
  if [ "$product" != plain ]; then
    local node b f ok=0 all=0 line
    while read -r line; do
      node=$(field node "$line")
      b=$(field battery "$line")
      f=$(field flow "$line")
      all=$((all + 1))
      curl -sS --max-time 10 -H "X-Auth-Token: $token" \
        "http://$http/v5/iot/bench/devices/${product}_$node/shadow" >"$dir/shadow.json" || true
      if grep -q "\"battery\":$b[,}]" "$dir/shadow.json" &&
         grep -q "\"flow\":$f[,}]" "$dir/shadow.json"; then
        ok=$((ok + 1))
      else
        echo "bench: $label: shadow of ${product}_$node is not battery=$b flow=$f:" \
             "$(head -c 300 "$dir/shadow.json")" >&2
      fi
    done < <(grep '^last ' "$dir/$label.out")
    shadow="$ok/$all"
  fi

  if [ "$with_commands" = 1 ]; then
    local h=("$bin/http_load" --api "$http" --token "$token" --product "$product" \
             --prefix "$prefix" --devices "$n" --requests "$commands" \
             --connections "$connections" --max-seconds "$max_seconds")
    local g0 g1 c0 c1
    g0=$(cpu_ns "$dpid")
    cmd_get=$("${h[@]}" --route device --name device_get 2>"$dir/$label.get.err") ||
      sed 's/^/bench: /' "$dir/$label.get.err" >&2
    g1=$(cpu_ns "$dpid")
    local s0 f0 t0 t1 s1 last grow=0 i
    c0=$(cpu_ns "$dpid")
    s0=$(metric lwm2md_commands_succeeded_total)
    f0=$(metric lwm2md_commands_failed_total)
    t0=$(now_s)
    cmd_post=$("${h[@]}" --route command --name command_create 2>"$dir/$label.cmd.err") ||
      sed 's/^/bench: /' "$dir/$label.cmd.err" >&2
    # Completed: until every created command succeeded, or the count stopped growing
    # for 5 s (BENCH_MAX_SECONDS at most after the last POST).
    local want
    want=$(field ok "$cmd_post")
    last=$s0
    t1=$(now_s)
    for ((i = 0; i < max_seconds * 10; i++)); do
      s1=$(metric lwm2md_commands_succeeded_total)
      if [ "$s1" != "$last" ]; then t1=$(now_s); last=$s1; grow=0; else grow=$((grow + 1)); fi
      [ $((s1 - s0)) -ge "${want:-0}" ] && break
      [ "$grow" -ge 50 ] && break
      sleep 0.1
    done
    cmd_done=$((last - s0))
    c1=$(cpu_ns "$dpid")
    # The event loop's CPU µs per GET and per completed command (its POST, SENT, the
    # 2.04, DELIVERED, the deviceRsp, SUCCESSFUL): scheduler accounting, which depends far
    # less on the machine's other load than a rate does.
    get_loop_us=$(awk -v a="$g0" -v b="$g1" -v n="$(field ok "$cmd_get")" 'BEGIN {
      split(a, x); split(b, y); n += 0; if (n > 0) printf "%.1f", (y[1] - x[1]) / n / 1000;
      else print "-" }')
    cmd_loop_us=$(awk -v a="$c0" -v b="$c1" -v n="$cmd_done" 'BEGIN {
      split(a, x); split(b, y); n += 0; if (n > 0) printf "%.1f", (y[1] - x[1]) / n / 1000;
      else print "-" }')
    cmd_thr_us=$(awk -v a="$c0" -v b="$c1" -v n="$cmd_done" 'BEGIN {
      split(a, x); split(b, y); n += 0; if (n > 0) printf "%.1f", (y[2] - x[2]) / n / 1000;
      else print "-" }')
    cmd_failed=$(( $(metric lwm2md_commands_failed_total) - f0 ))
    cmd_rate=$(awk -v c="$cmd_done" -v a="$t0" -v b="$t1" \
                 'BEGIN { if (b > a) printf "%.0f", c / (b - a); else print "-" }')
    echo "n=$n $label $cmd_get"
    echo "n=$n $label $cmd_post"
    echo "n=$n $label commands_completed=$cmd_done commands_failed=$cmd_failed" \
         "completed_per_second=$cmd_rate loop_cpu_us_per_command=$cmd_loop_us" \
         "threads_cpu_us_per_command=$cmd_thr_us loop_cpu_us_per_get=$get_loop_us"
  fi
  rc=0
  stop "$lpid" || rc=$?
  forget "$lpid"
  [ "$rc" -eq 0 ] || sed 's/^/bench: /' "$dir/$label.err" >&2
  grep -E '^(phase=(register|observe|notify|command) |commands |last )' "$dir/$label.out" |
    sed "s/^/n=$n $label /"
  echo "n=$n $label metrics uplinks_total=+$d_up property_reports_total=+$d_pr" \
       "codec_errors_total=+$d_ce shadow_ok=$shadow drain_after_acks_s=$drain_s" \
       "applied_per_second=$applied_rps loop_cpu_us_per_report=$loop_us" \
       "threads_cpu_us_per_report=$other_us"

  # Push: the outbox filled during the reports; how long it takes to drain.
  if [ "$(( $(metric lwm2md_push_queued_total) - pq0 ))" -gt 0 ]; then
    local q d t2 t3
    t2=$(now_s)
    for ((i = 0; i < 600; i++)); do
      q=$(( $(metric lwm2md_push_queued_total) - pq0 ))
      d=$(( $(metric lwm2md_push_delivered_total) - pd0 ))
      [ "$d" -ge "$q" ] && break
      # Events the project's quota dropped are never delivered: the outbox empty and
      # nothing in flight is the end too.
      [ "$(metric lwm2md_push_outbox)" = 0 ] && [ "$(metric lwm2md_push_in_flight)" = 0 ] && break
      sleep 0.1
    done
    t3=$(now_s)
    push_line="push_queued=$q push_delivered=$d drain_after_reports_s=$(awk -v a="$t2" \
      -v b="$t3" 'BEGIN { printf "%.1f", b - a }') push_dropped=$(metric lwm2md_push_dropped_total)"
    echo "n=$n $label $push_line"
  fi
  [ -n "$rep_line" ]
}

run_one() {
  local n=$1 dir="$tmp/$1"
  mkdir -p "$dir"

  local echo_line
  echo_line=$("$bin/lwm2m_load" --mode echo --shape notify --format opaque \
                --target "$echo_addr" --devices "$n" --updates "$reports" --window "$window" \
                --max-seconds "$max_seconds" 2>"$dir/echo.err") || true
  echo_line=$(grep -m1 '^phase=echo ' <<<"$echo_line" || true)
  [ -n "$echo_line" ] || { cat "$dir/echo.err" >&2; echo "bench: echo run failed" >&2; return 1; }
  echo "n=$n $echo_line"

  # The token is made on the database before the daemon opens it.
  local db="$dir/db.sqlite"
  token=$("$build/lwm2md" token create --db "$db" --project bench 2>/dev/null) ||
    { echo "bench: token create failed" >&2; return 1; }
  # The sink listens on loopback, which push refuses unless allowed.
  "$build/lwm2md" --db "$db" --coap 127.0.0.1:0 --coaps 127.0.0.1:0 --http 127.0.0.1:0 \
    --push-allow-private --log-level warn >"$dir/daemon.out" 2>"$dir/daemon.err" &
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

  local code p kind source
  code=$(api POST /v5/iot/bench/products \
    '{"product_id":"plain","name":"plain","protocol_type":"LwM2M","data_format":"binary"}' \
    "$dir/api.json")
  [ "$code" = 201 ] || { echo "bench: product plain: HTTP $code $(cat "$dir/api.json")" >&2; return 1; }
  for p in decl js; do
    code=$(api POST /v5/iot/bench/products "{\"product_id\":\"$p\",\"name\":\"$p\",
      \"protocol_type\":\"LwM2M\",\"data_format\":\"binary\",\"service_capabilities\":$model}" \
      "$dir/api.json")
    [ "$code" = 201 ] || { echo "bench: product $p: HTTP $code $(cat "$dir/api.json")" >&2; return 1; }
    if [ "$p" = decl ]; then kind=declarative; source=$layout; else kind=js; source=$script; fi
    code=$(api PUT "/v5/iot/bench/products/$p/codec" "{\"kind\":\"$kind\",\"source\":$source}" \
      "$dir/api.json")
    [ "$code" = 200 ] || { echo "bench: codec $p: HTTP $code $(cat "$dir/api.json")" >&2; return 1; }
  done

  # Variants: label product prefix with-commands. Each has its own N devices. The
  # commands come last: every report of a device looks for its pending commands, and
  # (src/store/store_platform.c) that query scans the whole commands table.
  local variants=("plain plain pl 0" "decl decl dc 0" "js js jv 0")
  [ "$push" = 1 ] && variants+=("decl+push decl dp 0" "js+push js jp 0")
  variants+=("decl decl dk 1" "js js jk 1")
  local v label product prefix cmds api_line
  for v in "${variants[@]}"; do
    read -r label product prefix cmds <<<"$v"
    api_line=$("$bin/api_create" --api "$http" --token "$token" --project bench \
                 --product "$product" --prefix "$prefix" --devices "$n") ||
      { echo "bench: device create failed: $api_line" >&2; return 1; }
    echo "n=$n $label $api_line"
  done

  local ok=1 net=1 stride=$(( (n + 65023) / 65024 )) plain_rps=- plain_loop_us=- rule=
  for v in "${variants[@]}"; do
    read -r label product prefix cmds <<<"$v"
    if [[ $label == *+push ]] && [ -z "$rule" ]; then
      code=$(api POST /v5/iot/bench/forwarding-rules "{\"url\":\"http://$sink_addr/x\"}" \
               "$dir/api.json")
      [ "$code" = 201 ] || { echo "bench: forwarding rule: HTTP $code $(cat "$dir/api.json")" >&2; ok=0; break; }
      rule=$(grep -o '"rule_id":"[^"]*"' "$dir/api.json" | cut -d'"' -f4)
    fi
    if [ "$cmds" = 1 ] && [ -n "$rule" ]; then
      # Commands are measured without pushing their status events.
      code=$(api DELETE "/v5/iot/bench/forwarding-rules/$rule" '' "$dir/api.json")
      [ "$code" = 204 ] || echo "bench: forwarding rule delete: HTTP $code" >&2
      rule=
    fi
    local nrep=$reports
    [ "$cmds" = 1 ] && nrep=0
    if report_run "$n" "$label" "$product" "$prefix" "$net" "$cmds" "$nrep"; then
      local rps
      rps=$(field rps "$rep_line")
      [ "$label" = plain ] && plain_rps=$rps && plain_loop_us=$loop_us
      [ "$cmds" = 1 ] || result_lines+=("$(echo "result platform reports devices=$n variant=$label" \
        "reports_per_s=$rps r_plain=$(ratio "$rps" "$plain_rps") applied_per_s=$applied_rps" \
        "a_plain=$(ratio "$applied_rps" "$plain_rps") loop_us=$loop_us thr_us=$other_us" \
        "cpu_per_plain=$(ratio "$loop_us" "$plain_loop_us") lost=$(( $(field lost "$rep_line") + $(field err "$rep_line") ))" \
        "shadow_ok=$shadow")")
      [ "$cmds" = 1 ] || report_rows+=("$(printf '%8s %-10s %9s %9s %7s %8s %9s %8s %7s %7s %13s %8s %8s %6s %7s %6s %s' "$n" \
        "$label" "$(field rps "$echo_line")" "$rps" "$(ratio "$rps" "$(field rps "$echo_line")")" \
        "$(ratio "$rps" "$plain_rps")" "$applied_rps" "$(ratio "$applied_rps" "$plain_rps")" \
        "$loop_us" "$other_us" \
        "$(field p50_us "$rep_line")/$(field p99_us "$rep_line")" "+$d_up" "+$d_pr" \
        "+$d_ce" "$shadow" \
        "$(( $(field lost "$rep_line") + $(field err "$rep_line") ))" \
        "${push_line:+$(echo "$push_line" | sed 's/push_//g')}")")
      if [ "$cmds" = 1 ]; then
        local gr cr
        gr=$(field rps "$cmd_get")
        cr=$(field rps "$cmd_post")
        command_rows+=("$(printf '%8s %-6s %9s %9s %11s %8s %8s %13s %9s %6s %8s %8s %8s' "$n" "$label" \
          "$gr" "$cr" "$cmd_rate" "$(ratio "$cr" "$gr")" "$(ratio "$cmd_rate" "$gr")" \
          "$(field p50_us "$cmd_post")/$(field p99_us "$cmd_post")" "$cmd_done" \
          "$(( $(field lost "$cmd_post" | sed 's/-/0/') + $(field err "$cmd_post" | sed 's/-/0/') ))" \
          "$cmd_loop_us" "$get_loop_us" "$(ratio "$cmd_loop_us" "$get_loop_us")")")
        result_lines+=("$(echo "result platform commands devices=$n codec=$label get_per_s=$gr" \
          "completed_per_s=$cmd_rate done_per_get=$(ratio "$cmd_rate" "$gr")" \
          "loop_us_per_command=$cmd_loop_us loop_us_per_get=$get_loop_us" \
          "cpu_command_per_get=$(ratio "$cmd_loop_us" "$get_loop_us") completed=$cmd_done")")
      fi
    else
      ok=0
    fi
    net=$((net + stride))
  done

  local alive=yes drc=0
  kill -0 "$dpid" 2>/dev/null || alive=no
  stop "$dpid" || drc=$?
  forget "$dpid"
  if [ "$alive" = no ]; then
    echo "bench: lwm2md died during the run (status $drc)" >&2
    tail -n 20 "$dir/daemon.err" >&2
    return 1
  fi
  [ "$ok" = 1 ]
}

for n in "${devices[@]}"; do
  run_one "$n" || status=1
done

echo
echo "bench: reports/s against the UDP echo of the same datagrams (r/echo) and against the" \
     "same reports on a product without a codec (r/plain: what codec, model and shadow cost);" \
     "applied/s counts until the last report is in its shadow (a JavaScript codec decodes" \
     "after the ACK, on its threads), a/plain its ratio to plain; loop_us and thr_us are the" \
     "CPU µs per report of the event loop and of the daemon's other (codec) threads."
printf '%8s %-10s %9s %9s %7s %8s %9s %8s %7s %7s %13s %8s %8s %6s %7s %6s %s\n' devices \
  variant echo_rps report/s r/echo r/plain applied/s a/plain loop_us thr_us p50/p99_us \
  uplinks props c_err shadow failed push
for line in "${report_rows[@]}"; do
  echo "$line"
done
echo
echo "bench: commands (POST async-commands, immediately; completed = SUCCESSFUL after the" \
     "device's deviceRsp) against GET of one device over the same connections."
echo "bench: loop_us/cmd and loop_us/get are the event loop's CPU µs per completed command" \
     "and per GET; cpu c/g their ratio (the rates' inverse with most of the machine's other" \
     "load taken out)."
printf '%8s %-6s %9s %9s %11s %8s %8s %13s %9s %6s %8s %8s %8s\n' devices codec get/s create/s \
  completed/s c/get done/get create_p50/99 completed failed loop/cmd loop/get 'cpu c/g'
for line in "${command_rows[@]}"; do
  echo "$line"
done
echo
# One line per figure, for tabulating runs (grep '^result ').
for line in "${result_lines[@]}"; do
  echo "$line"
done
exit "$status"
