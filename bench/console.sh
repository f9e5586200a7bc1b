#!/usr/bin/env bash
# bench/console.sh: the web console, measured in a real browser (Debian's headless Chromium
# driven by tests/console's playwright-core through bench/console_browser.mjs) against
# the real daemon. Three things, in one run:
#
#   1. sizes   every file the daemon embeds and serves under /console/ (as
#              cmake/embed_console.cmake picks them): raw bytes and gzip -9 bytes, per file
#              and in all; what the daemon actually sends when asked with
#              Accept-Encoding: gzip (the gzipped copies it embeds; Content-Encoding is reported);
#              and which files a first visit of #/devices fetches.
#   2. load    time to the first rendered row of the device list, on one database holding
#              first 1 000 devices (all created through the API), then 100 000 (the other
#              99 000 inserted by one INSERT … SELECT into the daemon's tables with the
#              daemon stopped, as bench/console_api.sh does: its triggers keep the counts):
#              a full load of /console/#/devices, the in-app navigation overview → devices,
#              and a search by node ID prefix (100 matches in both), RUNS times each:
#              median and worst, ms; and the 100k/1k ratios (the machine is shared: the
#              ratio is the figure to track).
#   3. hold    the daemon's memory and CPU with consoles open on a busy fleet: a fresh
#              daemon, the water meter product (model + declarative codec), FLEET devices
#              played by bench/lwm2m_load --mode report, registered and observed, then
#              sending reports at RATE a second in all. For SECONDS each, sampled every
#              second, after a warm-up in which every device reports once: no console;
#              1 console on the overview; 1 on the devices page; 5
#              (overview, devices, overview, devices, overview), each a browser context
#              of its own holding its own events stream; no console again. Per phase: the
#              daemon's VmRSS (start, end, max), its CPU time per second (all threads,
#              schedstat), the bytes each console's events stream received per second.
#
#   bench/console.sh [BUILD_DIR]                       (default: build; `make bench-console`)
#
# Environment: BENCH_RUNS (7), BENCH_LARGE (100000), BENCH_SMALL (1000), BENCH_FLEET
# (10000), BENCH_RATE (reports a second across the fleet, 200), BENCH_SECONDS (per hold
# phase, 60), BENCH_PHASES (which of sizes,load,hold to run; all), CHROMIUM_BIN.
# Needs curl, sqlite3, gzip, node, /usr/bin/chromium and tests/console/node_modules
# (`make deps-console`, then `cd tests/console && npm ci --ignore-scripts`).
set -euo pipefail

build=${1:-build}
runs=${BENCH_RUNS:-7}
large=${BENCH_LARGE:-100000}
small=${BENCH_SMALL:-1000}
fleet=${BENCH_FLEET:-10000}
rate=${BENCH_RATE:-200}
seconds=${BENCH_SECONDS:-60}
phases=${BENCH_PHASES:-sizes,load,hold}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)

. "$here/lib.sh"

for n in "$runs" "$large" "$small" "$fleet" "$rate" "$seconds"; do
  [[ $n =~ ^[1-9][0-9]{0,6}$ ]] || die "not a count: '$n'"
done
[ "$small" -lt "$large" ] || die "BENCH_SMALL must be below BENCH_LARGE"
[ "$fleet" -le 65024 ] || die "BENCH_FLEET is at most 65024"
for exe in "$build/lwm2md" "$build/api_create" "$build/lwm2m_load"; do
  [ -x "$exe" ] || die "$exe is missing (build first: make build)"
done
for tool in curl sqlite3 gzip node; do
  command -v "$tool" >/dev/null || die "$tool is needed"
done
[ -x "${CHROMIUM_BIN:-/usr/bin/chromium}" ] || die "no Chromium (make deps-console)"
[ -d "$root/tests/console/node_modules/playwright-core" ] ||
  die "tests/console/node_modules is missing (cd tests/console && npm ci --ignore-scripts)"

bench_tmp lwm2md-console-ui
browser=(node "$here/console_browser.mjs")

# start_daemon DB [ARGS…]: lwm2md on DB; sets $daemon and $http.
starts=0
start_daemon() {
  local db=$1
  shift
  starts=$((starts + 1))
  "$build/lwm2md" --db "$db" --coap 127.0.0.1:0 --coaps 127.0.0.1:0 --http 127.0.0.1:0 \
    --log-level warn "$@" >"$tmp/daemon$starts.out" 2>"$tmp/daemon.err" &
  daemon=$!
  pids+=("$daemon")
  http=$(wait_line "$tmp/daemon$starts.out" 'listening http [0-9.]+:[0-9]+' "$daemon" 120) ||
    die "lwm2md did not start: $(tail -5 "$tmp/daemon.err")"
  http=${http#listening http }
  coap=$(wait_line "$tmp/daemon$starts.out" 'listening coap [0-9.]+:[0-9]+' "$daemon" 10) ||
    die "lwm2md has no CoAP port"
  coap=${coap#listening coap }
}

stop_daemon() {
  stop "$daemon" || die "lwm2md exited with an error: $(tail -5 "$tmp/daemon.err")"
  forget "$daemon"
}

# api METHOD PATH BODY: a call with the run's token that must answer 2xx.
api() {
  local code
  code=$(curl -sS -o "$tmp/api.out" -w '%{http_code}' --max-time 30 -X "$1" \
    -H "X-Auth-Token: $token" --data-binary "$3" "http://$http/v5/iot/bench$2")
  [[ $code == 2?? ]] || die "$1 $2: $code $(head -c 300 "$tmp/api.out")"
}

new_db() {
  db="$tmp/$1.db"
  token=$("$build/lwm2md" token create --db "$db" --project bench 2>/dev/null | tail -1)
  [ -n "$token" ] || die "no token"
}

echo "bench: console; machine: $(nproc) cores, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)," \
     "$(uname -r), load average $(cut -d' ' -f1-3 /proc/loadavg) at start"
summary=()

# --- 1. sizes ---
if [[ $phases == *sizes* ]]; then
  new_db sizes
  start_daemon "$db"
  raw_all=0 gz_all=0 sent_all=0 encodings=
  rows=()
  while IFS= read -r rel; do
    raw=$(stat -c %s "$root/console/$rel")
    gz=$(gzip -9 -c "$root/console/$rel" | wc -c)
    # What the daemon sends to a browser that accepts gzip.
    out=$(curl -sS -o /dev/null -D "$tmp/headers" -w '%{http_code} %{size_download}' \
      -H 'Accept-Encoding: gzip, deflate, br' "http://$http/console/$rel")
    read -r code sent <<<"$out"
    [ "$code" = 200 ] || die "GET /console/$rel: $code"
    enc=$(awk -F': *' 'tolower($1) == "content-encoding" { gsub(/\r/, "", $2); print $2 }' "$tmp/headers")
    encodings+=${enc:+$enc,}
    raw_all=$((raw_all + raw)) gz_all=$((gz_all + gz)) sent_all=$((sent_all + sent))
    echo "size file=$rel raw=$raw gzip9=$gz sent=$sent content_encoding=${enc:-none}"
    rows+=("| \`$rel\` | $raw | $gz |")
  done < <(cd "$root/console" && find . -type f ! -name '.*' ! -name '*~' ! -name '*.md' |
             sed 's|^\./||' | LC_ALL=C sort)
  echo "size total files=${#rows[@]} raw=$raw_all gzip9=$gz_all sent=$sent_all" \
       "content_encoding=${encodings:-none}"
  stop_daemon
  table="Console files: ${#rows[@]}, raw $raw_all B, gzip -9 $gz_all B (each file alone);"
  table+=" the daemon sent $sent_all B, Content-Encoding: ${encodings:-none}"
  table+=$'\n'"| file | raw B | gzip -9 B |"$'\n'"|---|---:|---:|"
  for r in "${rows[@]}"; do table+=$'\n'"$r"; done
  summary+=("$table")
fi

# --- 2. load ---
if [[ $phases == *load* ]]; then
  new_db load
  start_daemon "$db"
  api POST /products '{"product_id":"bench","name":"Bench meter"}'
  line=$("$build/api_create" --api "$http" --token "$token" --project bench --product bench \
    --prefix bench --devices "$small" --start 0 --timeout-s 600) || die "api_create failed"
  echo "n=$small $line"
  "${browser[@]}" load --base "http://$http" --token "$token" --project bench --runs "$runs" \
    --prefix bench0005 --label "n=$small" | tee "$tmp/load-small.out"
  stop_daemon
  t0=$(date +%s.%N)
  sqlite3 "$db" >/dev/null <<EOF
PRAGMA journal_mode = WAL;
BEGIN;
INSERT INTO devices (project_id, device_id, node_id, device_name, product_id, description,
  secret, secure_access, timeout, status, create_time, read_format)
WITH RECURSIVE seq(i) AS (SELECT $small UNION ALL SELECT i + 1 FROM seq WHERE i + 1 < $large)
SELECT 'bench', 'bench_bench' || printf('%06d', i), 'bench' || printf('%06d', i),
  'bench' || printf('%06d', i), 'bench', '', '00112233445566778899aabbccddeeff', 0, 0, 0,
  strftime('%s', 'now'), -1 FROM seq;
COMMIT;
EOF
  total=$(sqlite3 "$db" "SELECT count(*) FROM devices")
  [ "$total" = "$large" ] || die "$total devices, not $large"
  echo "n=$large phase=fill sql_seconds=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')"
  start_daemon "$db"
  "${browser[@]}" load --base "http://$http" --token "$token" --project bench --runs "$runs" \
    --prefix bench0005 --label "n=$large" | tee "$tmp/load-large.out"
  stop_daemon
  table="Time to the first row, ms (median / worst of $runs; the first load has an empty cache)"
  table+=$'\n'"| measure | $small devices | $large devices | ratio of medians |"$'\n'"|---|---:|---:|---:|"
  for what in load nav search; do
    a=$(grep "what=$what " "$tmp/load-small.out")
    b=$(grep "what=$what " "$tmp/load-large.out")
    table+=$'\n'"| $what | $(field median_ms "$a") / $(field max_ms "$a") | $(field median_ms "$b") / $(field max_ms "$b") | $(ratio "$(field median_ms "$b")" "$(field median_ms "$a")") |"
  done
  f=$(grep 'what=files' "$tmp/load-large.out")
  table+=$'\n'"First visit of #/devices: $(field first_load_files "$f") files, $(field first_load_bytes "$f") B"
  summary+=("$table")
fi

# --- 3. hold ---
if [[ $phases == *hold* ]]; then
  new_db hold
  start_daemon "$db"
  # The water meter (bench/platform.sh's): a model and its declarative codec.
  api POST /products '{"product_id":"meter","name":"Water meter","protocol_type":"LwM2M","data_format":"binary"}'
  api PUT /products/meter '{"service_capabilities":[{"service_id":"WaterMeter","properties":[
    {"property_name":"battery","data_type":"int","min":0,"max":100,"method":"R"},
    {"property_name":"flow","data_type":"long","min":0,"method":"R"}]}]}'
  api PUT /products/meter/codec '{"kind":"declarative","source":"{\"message_id\":{\"offset\":0,\"type\":\"uint8\"},\"messages\":[{\"id\":0,\"kind\":\"report\",\"service_id\":\"WaterMeter\",\"fields\":[{\"name\":\"battery\",\"offset\":1,\"type\":\"uint8\"},{\"name\":\"flow\",\"offset\":2,\"type\":\"uint32\"}]}]}"}'
  line=$("$build/api_create" --api "$http" --token "$token" --project bench --product meter \
    --prefix meter --devices "$fleet" --start 0 --timeout-s 600) || die "api_create failed"
  echo "fleet=$fleet $line"
  # Enough reports per device to last every phase (and the browser starts between them).
  per_device=$(( (rate * 5 * (seconds + 40)) / fleet + 2 ))
  "$build/lwm2m_load" --mode report --target "$coap" --devices "$fleet" --prefix meter \
    --notifications "$per_device" --rate "$rate" --window 64 --max-seconds 3600 \
    >"$tmp/fleet.out" 2>"$tmp/fleet.err" &
  fleet_pid=$!
  pids+=("$fleet_pid")
  wait_line "$tmp/fleet.out" '^phase=observe .*' "$fleet_pid" 300 >/dev/null ||
    die "the fleet did not register and get observed: $(tail -3 "$tmp/fleet.err")"
  grep '^phase=' "$tmp/fleet.out" | sed "s/^/fleet=$fleet /"
  # Warm-up: every device reports once (its first report writes its shadow row; the later
  # ones update it), so that each phase below sees the same work.
  sleep $(( fleet / rate + 5 ))
  rows=()
  for spec in "-" overview devices overview,devices,overview,devices,overview "-"; do
    pages=${spec#-}
    out=$("${browser[@]}" hold --base "http://$http" --token "$token" --project bench \
      --pid "$daemon" --pages "$pages" --seconds "$seconds" --label "fleet=$fleet rate=$rate")
    echo "$out"
    rows+=("$out")
  done
  kill -0 "$fleet_pid" 2>/dev/null || die "lwm2m_load ended before the measures did: $(tail -3 "$tmp/fleet.err")"
  stop "$fleet_pid" || true
  forget "$fleet_pid"
  grep '^phase=notify ' "$tmp/fleet.out" | sed "s/^/fleet=$fleet /" || true
  stop_daemon
  base_cpu=$(field cpu_ms_per_s "${rows[0]}")
  base_rss=$(field rss_end_kb "${rows[0]}")
  table="Daemon with $fleet devices reporting $rate/s in all; $seconds s per row"
  table+=$'\n'"| consoles | daemon CPU ms/s | Δ vs none | RSS end kB | Δ vs none | RSS max kB | events stream kB/s, per console | browser main thread busy ms/s, per console |"
  table+=$'\n'"|---|---:|---:|---:|---:|---:|---|---|"
  for r in "${rows[@]}"; do
    cpu=$(field cpu_ms_per_s "$r")
    rss=$(field rss_end_kb "$r")
    table+=$'\n'"| $(field consoles "$r") ($(field pages "$r")) | $cpu | $(awk -v a="$cpu" -v b="$base_cpu" 'BEGIN { printf "%+.1f", a - b }') | $rss | $((rss - base_rss)) | $(field rss_max_kb "$r") | $(field stream_kb_per_s "$r") | $(field page_busy_ms_per_s "$r") |"
  done
  summary+=("$table")
fi

echo "bench: load average $(cut -d' ' -f1-3 /proc/loadavg) at the end"
echo
for t in "${summary[@]}"; do
  echo "$t"
  echo
done
