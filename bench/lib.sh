# Shell functions the benchmark scripts share (run.sh, dm.sh, platform.sh): sourced, not run.
#
#   die MESSAGE            prints "bench: MESSAGE" and exits 1
#   bench_tmp NAME         makes $tmp (removed at exit), empties $pids (stopped at exit)
#   stop PID, forget PID, wait_line FILE REGEX PID [SECONDS], field KEY LINE, ratio A B

die() {
  echo "bench: $*" >&2
  exit 1
}

bench_tmp() {
  tmp=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX")
  pids=()
  trap cleanup EXIT
  trap 'exit 130' INT TERM
}

# Stops a process started here: SIGTERM, up to 10 s, then SIGKILL. Returns its status.
stop() {
  local pid=$1 i
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    echo "bench: pid $pid ignored SIGTERM for 10 s, killing it" >&2
    kill -KILL "$pid" 2>/dev/null || true
  fi
  local rc=0
  wait "$pid" 2>/dev/null || rc=$?
  return "$rc"
}

# forget PID: drops PID from the processes cleanup() has to stop.
forget() {
  local keep=() pid
  for pid in "${pids[@]}"; do
    [ "$pid" = "$1" ] || keep+=("$pid")
  done
  pids=("${keep[@]}")
}

cleanup() {
  local pid
  for pid in "${pids[@]}"; do
    stop "$pid" || true
  done
  rm -rf "$tmp"
}

# wait_line FILE REGEX PID [SECONDS]: prints the first match of REGEX in FILE once it
# appears, for up to SECONDS (10) and while PID lives.
wait_line() {
  local file=$1 re=$2 pid=$3 limit=$((${4:-10} * 10)) i line
  for ((i = 0; i < limit; i++)); do
    line=$(grep -o -m1 -E "$re" "$file" 2>/dev/null || true)
    if [ -n "$line" ]; then
      echo "$line"
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

# field KEY LINE: the value of KEY=value in a line of key=value pairs.
field() {
  local kv
  for kv in $2; do
    if [ "${kv%%=*}" = "$1" ]; then
      echo "${kv#*=}"
      return 0
    fi
  done
  echo "-"
}

# ratio A B: A / B to three decimals, or "-" when either is missing.
ratio() {
  awk -v a="$1" -v b="$2" \
    'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.3f", a / b; else print "-" }'
}
