#!/usr/bin/env bash
# bench/console_api.sh: the console's API at fleet size. Every route the console calls on
# a page of its own — the statistics, the device list (first page, a deep page by marker,
# filters, prefix searches, the largest offset), a device, the forwarding rules — timed
# with curl against a daemon that holds N devices. Such a call runs on the event loop
# that also serves every device, so its time is how long it holds them all up.
#
#   bench/console_api.sh [BUILD_DIR] [DEVICES...]        (defaults: build, 100000 1000000)
#
# Per device count:
#   1. a fresh lwm2md on a temporary database; products "bench" and "valve"; the devices
#      bench000000… (nine in ten) and valve000000… (one in ten), device_name = node_id:
#      - BENCH_CREATE=api (the default up to 200 000): all through the REST API
#        (bench/api_create, one keep-alive connection)                    -> created/s
#      - BENCH_CREATE=sql (the default above): 10 000 through the API, then the daemon
#        is stopped and the rest are one INSERT … SELECT into its own tables (the rows
#        the API writes, the schema's triggers keeping device_counts) — a million POSTs
#        would take most of an hour on a shared machine, and time nothing of interest;
#   2. with the daemon stopped, statuses set as a fleet has them (40 % ONLINE, 5 % OFFLINE,
#      the rest INACTIVE; through the triggers too); the daemon started again on it;
#   3. each route ROUNDS times (curl, a new connection each): the median and the worst, ms;
#   4. for comparison, what the listing cost when it scanned (before device_counts and
#      markers), on the same database with sqlite3: counting the project's devices
#      (page.count was a count(*)), and a page at the fleet's end by OFFSET.
# It prints the raw lines, then one table per device count.
#
# Environment: BENCH_ROUNDS (7), BENCH_WARMUP (calls of each route before those timed, so
# that the median is of a warm page cache: 1), BENCH_CREATE (api or sql, see above),
# BENCH_MAX_SECONDS (limit of the creation through the API, 3600).
set -euo pipefail

build=${1:-build}
if [ $# -gt 0 ]; then shift; fi
if [ $# -gt 0 ]; then devices=("$@"); else devices=(100000 1000000); fi
rounds=${BENCH_ROUNDS:-7}
warmup=${BENCH_WARMUP:-1}
max_seconds=${BENCH_MAX_SECONDS:-3600}

. "$(dirname "$0")/lib.sh"

for n in "${devices[@]}"; do
  [[ $n =~ ^[1-9][0-9]{0,6}$ ]] && [ "$n" -ge 10000 ] && [ "$n" -le 1000000 ] ||
    die "a device count is 10000..1000000: '$n'"
done
[[ $rounds =~ ^[1-9][0-9]?$ ]] || die "BENCH_ROUNDS is 1..99: '$rounds'"
for exe in "$build/lwm2md" "$build/api_create"; do
  [ -x "$exe" ] || die "$exe is missing (build first: make build)"
done
for tool in curl sqlite3; do
  command -v "$tool" >/dev/null || die "$tool is needed (apt-get install $tool)"
done

bench_tmp lwm2md-console

# start_daemon DB: starts lwm2md on DB, sets $daemon and $http. (The output of a start
# goes to a file of its own: the last start's would be read before the new one empties it.)
starts=0
start_daemon() {
  starts=$((starts + 1))
  "$build/lwm2md" --db "$1" --coap 127.0.0.1:0 --coaps 127.0.0.1:0 --http 127.0.0.1:0 \
    --log-level warn >"$tmp/daemon$starts.out" 2>"$tmp/daemon.err" &
  daemon=$!
  pids+=("$daemon")
  http=$(wait_line "$tmp/daemon$starts.out" 'listening http [0-9.]+:[0-9]+' "$daemon" 120) ||
    die "lwm2md did not start: $(tail -5 "$tmp/daemon.err")"
  http=${http#listening http }
}

stop_daemon() {
  stop "$daemon" || die "lwm2md exited with an error: $(tail -5 "$tmp/daemon.err")"
  forget "$daemon"
}

# post PATH BODY: a POST with the run's token that must answer 201.
post() {
  local code
  code=$(curl -sS -o "$tmp/post.out" -w '%{http_code}' --max-time 10 -X POST \
    -H "X-Auth-Token: $token" --data-binary "$2" "http://$http/v5/iot/bench$1")
  [ "$code" = 201 ] || die "POST $1: $code $(cat "$tmp/post.out")"
}

# create N NAME PREFIX START: devices through the API; prints api_create's line.
create() {
  "$build/api_create" --api "$http" --token "$token" --project bench --product "$2" \
    --prefix "$3" --devices "$1" --start "$4" --timeout-s "$max_seconds" ||
    die "api_create failed"
}

# loop_ns: nanoseconds the daemon's main thread (the event loop) has been on a CPU so far,
# from the scheduler's own accounting: unlike a wall-clock time it hardly depends on what
# else the machine runs.
loop_ns() {
  local ns _
  read -r ns _ <"/proc/$daemon/task/$daemon/schedstat"
  echo "$ns"
}

# time_route NAME PATH: ROUNDS GETs of PATH (from the root); prints
# "route=NAME median_ms=M max_ms=X loop_ms=L status=S bytes=B", loop_ms being the event
# loop's CPU time per request (everything else it did meanwhile included: next to
# nothing, with no device registered).
time_route() {
  local name=$1 path=$2 i out times=() code size t before after
  for ((i = 0; i < warmup; i++)); do
    curl -sS -o /dev/null --max-time 60 -H "X-Auth-Token: $token" "http://$http$path"
  done
  before=$(loop_ns)
  for ((i = 0; i < rounds; i++)); do
    out=$(curl -sS -o "$tmp/route.out" -w '%{http_code} %{time_total} %{size_download}' \
      --max-time 60 -H "X-Auth-Token: $token" "http://$http$path")
    read -r code t size <<<"$out"
    [ "$code" = 200 ] || die "GET $path: $code $(head -c 300 "$tmp/route.out")"
    times+=("$t")
  done
  after=$(loop_ns)
  printf '%s\n' "${times[@]}" | sort -g | awk -v name="$name" -v code="$code" -v size="$size" \
    -v loop=$(((after - before) / rounds)) \
    '{ t[NR] = $1 * 1000 } END { printf "route=%s median_ms=%.2f max_ms=%.2f loop_ms=%.2f status=%s bytes=%s\n",
      name, t[int((NR + 1) / 2)], t[NR], loop / 1e6, code, size }'
}

# sql_ms DB QUERY: how long sqlite3 takes to run QUERY (ms, the best of three), its start
# and the opening of the database included.
sql_ms() {
  local best="" i a b
  for i in 1 2 3; do
    a=$(date +%s%N)
    sqlite3 "$1" "$2" >/dev/null
    b=$(date +%s%N)
    if [ -z "$best" ] || [ $((b - a)) -lt "$best" ]; then best=$((b - a)); fi
  done
  echo $((best / 1000000))
}

echo "bench: devices ${devices[*]}; $rounds rounds per route"
tables=()

for n in "${devices[@]}"; do
  dir="$tmp/$n"
  mkdir -p "$dir"
  db="$dir/lwm2md.db"
  token=$("$build/lwm2md" token create --db "$db" --project bench 2>/dev/null | tail -1)
  [ -n "$token" ] || die "no token"
  start_daemon "$db"
  post /products '{"product_id":"bench","name":"Bench meter"}'
  post /products '{"product_id":"valve","name":"Bench valve"}'

  mode=${BENCH_CREATE:-$([ "$n" -le 200000 ] && echo api || echo sql)}
  valves=$((n / 10))
  meters=$((n - valves))
  t0=$(date +%s.%N)
  if [ "$mode" = api ]; then
    line_m=$(create "$meters" bench bench 0)
    line_v=$(create "$valves" valve valve 0)
  else
    line_m=$(create 9000 bench bench 0)
    line_v=$(create 1000 valve valve 0)
  fi
  t1=$(date +%s.%N)
  echo "n=$n $line_m"
  echo "n=$n $line_v"
  api_rate=$(awk -v a="$t0" -v b="$t1" -v n="$([ "$mode" = api ] && echo "$n" || echo 10000)" \
    'BEGIN { printf "%.0f", n / (b - a) }')
  post /forwarding-rules '{"url":"https://app.example.com/iot"}'
  stop_daemon

  # The rest of the fleet (sql), and the statuses a fleet has, with the daemon stopped.
  t2=$(date +%s.%N)
  if [ "$mode" = sql ]; then
    sqlite3 "$db" <<EOF
PRAGMA journal_mode = WAL;
BEGIN;
INSERT INTO devices (project_id, device_id, node_id, device_name, product_id, description,
  secret, secure_access, timeout, status, create_time, read_format)
WITH RECURSIVE seq(i) AS (SELECT 9000 UNION ALL SELECT i + 1 FROM seq WHERE i + 1 < $meters)
SELECT 'bench', 'bench_bench' || printf('%06d', i), 'bench' || printf('%06d', i),
  'bench' || printf('%06d', i), 'bench', '', '00112233445566778899aabbccddeeff', 0, 0, 0,
  strftime('%s', 'now'), -1 FROM seq;
INSERT INTO devices (project_id, device_id, node_id, device_name, product_id, description,
  secret, secure_access, timeout, status, create_time, read_format)
WITH RECURSIVE seq(i) AS (SELECT 1000 UNION ALL SELECT i + 1 FROM seq WHERE i + 1 < $valves)
SELECT 'bench', 'valve_valve' || printf('%06d', i), 'valve' || printf('%06d', i),
  'valve' || printf('%06d', i), 'valve', '', '00112233445566778899aabbccddeeff', 0, 0, 0,
  strftime('%s', 'now'), -1 FROM seq;
COMMIT;
EOF
  fi
  sqlite3 "$db" "UPDATE devices SET status = 1 WHERE rowid % 20 < 8;
                 UPDATE devices SET status = 2 WHERE rowid % 20 = 8;"
  t3=$(date +%s.%N)
  fill_s=$(awk -v a="$t2" -v b="$t3" 'BEGIN { printf "%.1f", b - a }')
  total=$(sqlite3 "$db" "SELECT count(*) FROM devices")
  [ "$total" = "$n" ] || die "$total devices, not $n"
  echo "n=$n phase=fill mode=$mode api_per_second=$api_rate sql_seconds=$fill_s"

  start_daemon "$db"
  deep=$((n - 100))
  # A later page of the search below (a marker as the listing would give it: the name in
  # hex, a dot, the node_id).
  later="n$(printf bench005000 | od -An -tx1 | tr -d ' \n').bench005000"
  rows=()
  for spec in \
    "health (no token, no store)|/health" \
    "statistics|/statistics" \
    "list_first_page|/devices?limit=50" \
    "list_deep_marker|/devices?limit=50&marker=r$deep" \
    "list_offset_10000|/devices?limit=50&offset=10000" \
    "list_status|/devices?limit=50&status=ONLINE" \
    "list_product_status|/devices?limit=50&product_id=valve&status=OFFLINE" \
    "name_prefix_broad|/devices?limit=50&name=bench" \
    "name_prefix_100|/devices?limit=50&name=bench0012" \
    "name_exact|/devices?limit=50&name=bench001234" \
    "node_prefix|/devices?limit=50&node_id_prefix=valve00" \
    "name_prefix_no_match_filter|/devices?limit=50&name=bench&product_id=valve" \
    "the_same,_a_later_page|/devices?limit=50&name=bench&product_id=valve&marker=$later" \
    "device_get|/devices/bench_bench000123" \
    "forwarding_rules|/forwarding-rules"; do
    name=${spec%%|*}
    path=${spec#*|}
    [ "$path" = /health ] || path=/v5/iot/bench$path
    line=$(time_route "${name// /_}" "$path")
    echo "n=$n $line"
    rows+=("$line")
  done
  rss=$(awk '/VmRSS/ { print $2 }' "/proc/$daemon/status")
  stop_daemon
  db_mb=$(du -m "$db" | cut -f1)
  count_ms=$(sql_ms "$db" "SELECT count(*) FROM devices WHERE project_id = 'bench'")
  offset_ms=$(sql_ms "$db" "SELECT device_id FROM devices WHERE project_id = 'bench'
                            ORDER BY rowid LIMIT 50 OFFSET $((n - 50))")
  echo "n=$n phase=compare scan_count_ms=$count_ms offset_end_ms=$offset_ms rss_kb=$rss db_mb=$db_mb"

  table="devices=$n (created: $mode; through the API $api_rate/s), daemon RSS ${rss} kB, database ${db_mb} MB
| route | loop CPU ms per call | median ms | worst ms |
|---|---|---|---|"
  for line in "${rows[@]}"; do
    table+=$'\n'"| $(field route "$line") | $(field loop_ms "$line") | $(field median_ms "$line") | $(field max_ms "$line") |"
  done
  table+=$'\n'"| (for comparison, sqlite3) count(*) of the project's devices | | $count_ms | |"
  table+=$'\n'"| (for comparison, sqlite3) the last page by OFFSET $((n - 50)) | | $offset_ms | |"
  tables+=("$table")
  rm -rf "$dir"
done

echo
for t in "${tables[@]}"; do
  echo "$t"
  echo
done
