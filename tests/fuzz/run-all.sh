#!/usr/bin/env bash
# `make fuzz`: runs every libFuzzer target (or the ones named) for SECONDS each, one after
# the other, on a working corpus in BUILD/corpus/<target> seeded from tests/fuzz/corpus
# (docs/fuzzing.md). Findings go to BUILD/crashes/; the corpus grows from run to run.
# Prints one line per target — executions, coverage (cov: edges, ft: features), corpus —
# and exits non-zero when any target found a crash, a leak or a timeout.
#
#   run-all.sh BUILD SECONDS [target...]
set -uo pipefail
build=$1 seconds=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for src in "$here"/fuzz_*.c; do
    targets+=("$(basename "$src" .c)")
  done
fi
mkdir -p "$build/fuzz-logs"
failed=()
for t in "${targets[@]}"; do
  bin="$build/$t"
  if [ ! -x "$bin" ]; then
    echo "$t: not built ($bin)" >&2
    failed+=("$t")
    continue
  fi
  log="$build/fuzz-logs/$t.log"
  "$here/run.sh" "$bin" "$here/corpus/$t" "$build/corpus/$t" -max_total_time="$seconds" \
    -timeout=10 -rss_limit_mb=2048 -seed=0 >"$log" 2>&1
  rc=$?
  stats=$(grep -E '^#[0-9]+' "$log" | tail -1 | sed -E 's/^#([0-9]+)[[:space:]]+[A-Z]+[[:space:]]+/\1 execs, /')
  if [ $rc -eq 0 ]; then
    printf '%-26s %ss: %s\n' "$t" "$seconds" "$stats"
  else
    printf '%-26s FOUND SOMETHING (exit %d): see %s\n' "$t" $rc "$log"
    grep -E 'ERROR|SUMMARY|check failed|Test unit written' "$log" | head -5 | sed 's/^/    /'
    failed+=("$t")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzzing found problems in: ${failed[*]} (inputs in $build/crashes/)" >&2
  exit 1
fi
