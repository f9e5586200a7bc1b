#!/usr/bin/env bash
# The console's browser tests (tests/console, docs/console-tests.md) against each given
# build directory's daemon and simulator in turn, e.g. `scripts/console-tests.sh build
# build-asan`. Screenshots and daemon logs go to <build>/console-artefacts, emptied first.
# Expects tests/console/node_modules (`npm ci` there; the Makefile does it).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 18 ? 0 : 1)'; then
  echo "the console tests need node 18 or newer; this is $(node --version)" >&2
  exit 1
fi
status=0
for build in "$@"; do
  dir=$(cd "$build" && pwd)
  artefacts=$dir/console-artefacts
  rm -rf "$artefacts"
  mkdir -p "$artefacts"
  echo "console tests against $dir/lwm2md (artefacts in $artefacts)"
  # The sanitizer options of the ASan build's ctest run (harmless for the other build).
  (cd tests/console && LWM2MD_BIN="$dir/lwm2md" LWM2M_SIM_BIN="$dir/lwm2m-sim" \
    CONSOLE_ARTEFACTS="$artefacts" ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    node --test --test-reporter=spec ./*.test.mjs) || status=1
done
exit $status
