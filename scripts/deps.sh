#!/usr/bin/env bash
# Installs the Debian 12 packages lwm2md needs to build, run and test. As root it runs
# apt-get; otherwise it prints the exact command and fails, so nothing is half set up.
set -euo pipefail
# clang and libclang-rt-dev build the libFuzzer targets (docs/fuzzing.md): clang alone,
# installed without its recommends, has no libFuzzer or sanitizer runtime
# (libclang_rt.fuzzer-x86_64.a is in libclang-rt-14-dev, only recommended by clang-14).
# systemd provides systemd-analyze, with which the install test (tests/install) verifies
# the unit (no running systemd needed); dpkg-dev (dpkg-shlibdeps) and file let CPack work
# out the Debian package's dependencies (`make deb`).
PACKAGES="build-essential cmake pkg-config libuv1-dev libmicrohttpd-dev libjansson-dev \
libsqlite3-dev libcmocka-dev libmbedtls-dev libcbor-dev libexpat1-dev duktape-dev libcurl4-openssl-dev \
libcoap3-bin openssl sqlite3 curl clang libclang-rt-dev systemd dpkg-dev file"
# `deps.sh console`: what the console's browser tests need instead (tests/console,
# docs/console-tests.md): Debian's Chromium (never a downloaded browser), a font for its
# screenshots, and node with npm unless a node is already installed (with its own npm).
if [ "${1:-}" = console ]; then
  PACKAGES="chromium fonts-dejavu-core"
  if ! command -v node >/dev/null 2>&1; then
    PACKAGES="$PACKAGES nodejs npm"
  elif ! command -v npm >/dev/null 2>&1; then
    PACKAGES="$PACKAGES npm"
  fi
fi
missing=""
for p in $PACKAGES; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "lwm2md needs these Debian packages:$missing" >&2
  echo "run: sudo apt-get update && sudo apt-get install -y$missing" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends $missing
