#!/usr/bin/env bash
# Runs one libFuzzer target (docs/fuzzing.md). Used by the targets' ctest entries and by
# `make fuzz`:
#
#   run.sh [--fresh] TARGET SEEDS WORK [libFuzzer flags...]
#
# TARGET is the fuzzer binary, SEEDS its seed corpus in the repository (read, never
# written), WORK the working corpus where libFuzzer keeps what it finds (outside the
# repository; --fresh empties it first, so that a ctest run does not depend on the last
# one). A dictionary tests/fuzz/<target>.dict is used when there is one. Crash, leak and
# timeout inputs go to WORK/../../crashes/<target>-* (BUILD/crashes for both callers).
# Exits non-zero on any finding.
set -euo pipefail
fresh=0
if [ "${1:-}" = "--fresh" ]; then
  fresh=1
  shift
fi
target=$1 seeds=$2 work=$3
shift 3
name=$(basename "$target")
dict="$(dirname "$0")/$name.dict"
crashes="$(dirname "$(dirname "$work")")/crashes"
[ "$fresh" = 1 ] && rm -rf "$work"
mkdir -p "$work" "$crashes"
args=(-artifact_prefix="$crashes/$name-" -print_final_stats=1)
[ -f "$dict" ] && args+=(-dict="$dict")
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:${UBSAN_OPTIONS:-}"
exec "$target" "${args[@]}" "$@" "$work" "$seeds"
