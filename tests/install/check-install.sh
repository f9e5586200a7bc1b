#!/usr/bin/env bash
# ctest install.tree: installs the build ($1) into a DESTDIR ($2, emptied first) and checks
# what `make install` and the Debian package ship (cmake/install.cmake):
# - the programs, the example config, the unit and the docs are where they belong;
# - the example lwm2md.conf names every setting of `lwm2md --help`, each at its default,
#   and the daemon accepts it as it is and with every line uncommented;
# - the unit has its hardening, and `systemd-analyze verify` accepts it without a word.
#   verify needs no running systemd (it loads the unit in a test manager) but checks that
#   ExecStart's program exists, so it is run on a copy whose ExecStart points into the
#   DESTDIR; a container without systemd as PID 1 checks everything but starting it.
#
# check-install.sh PACKAGE.deb DIR checks the Debian package (`make deb` runs it) the same
# way, unpacked into DIR, and its control data: the library dependencies, the conffile.
set -euo pipefail
build=$1
dest=$(realpath -m "$2") # absolute: ExecStart is rewritten into it
fail() { echo "FAIL: $*" >&2; exit 1; }

rm -rf "$dest"
if [ "${build%.deb}" != "$build" ]; then
  deb=$build
  dpkg-deb -x "$deb" "$dest"
  prefix=/usr
  depends=$(dpkg-deb -f "$deb" Depends)
  for lib in libuv1 libmicrohttpd12 libjansson4 libsqlite3-0 libmbedtls14 libcbor0.8 \
      libexpat1 libcurl4; do
    case "$depends" in *"$lib "*|*"$lib,"*|*"$lib") ;; *) fail "the package does not depend on $lib: $depends" ;; esac
  done
  dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./conffiles | grep -q -x /etc/lwm2md/lwm2md.conf ||
    fail "/etc/lwm2md/lwm2md.conf is not a conffile"
  build=$(dirname "$deb")
else
  DESTDIR=$dest cmake --install "$build" >/dev/null
  prefix=$(sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' "$build/CMakeCache.txt")
fi
sysconf=$prefix/etc
[ "$prefix" = /usr ] && sysconf=/etc
root=$dest$prefix

for p in lwm2md lwm2m-sim; do
  [ -x "$root/bin/$p" ] || fail "$prefix/bin/$p is not installed"
done
if [ -x "$build/lwm2mctl" ]; then
  [ -x "$root/bin/lwm2mctl" ] || fail "$prefix/bin/lwm2mctl is not installed"
  completion=$root/share/bash-completion/completions/lwm2mctl
  [ -s "$completion" ] || fail "${completion#"$dest"} is not installed"
  bash -n "$completion" || fail "${completion#"$dest"} is not valid bash"
fi
conf=$dest$sysconf/lwm2md/lwm2md.conf
unit=$root/lib/systemd/system/lwm2md.service
for f in "$conf" "$unit" "$root/share/doc/lwm2md/deploying.md" \
         "$root/share/doc/lwm2md/troubleshooting.md" "$root/share/doc/lwm2md/api.md" \
         "$root/share/doc/lwm2md/cli.md"; do
  [ -s "$f" ] || fail "${f#"$dest"} is not installed"
done
# Nothing else: no tests, benchmarks or build files.
extra=$(cd "$dest" && find . -type f | sort | grep -v -e '/bin/lwm2md$' -e '/bin/lwm2m-sim$' \
  -e '/bin/lwm2mctl$' -e '/bash-completion/completions/lwm2mctl$' \
  -e '/lwm2md/lwm2md.conf$' -e '/systemd/system/lwm2md.service$' \
  -e '/doc/lwm2md/[a-z]*\.md$' || true)
[ -z "$extra" ] || fail "unexpected files installed: $extra"

# The config: every option of --help (but --config, --print-config, --help, --version)
# as a "#name = default" line, or set (db, to the state directory).
bin=$root/bin/lwm2md
names=$("$bin" --help | sed -n 's/^  --\([a-z0-9-]*\).*/\1/p' |
  grep -v -x -e config -e print-config -e help -e version)
[ "$(echo "$names" | wc -l)" -gt 40 ] || fail "lwm2md --help lists too few options"
for n in $names; do
  grep -q -E "^#?$n =" "$conf" || fail "lwm2md.conf does not list '$n'"
done
grep -q -x 'db = /var/lib/lwm2md/lwm2md.db' "$conf" || fail "lwm2md.conf: db is not the state directory"
# Defaults as --help states them (numbers): "(default N)" against "#name = N".
"$bin" --help | awk '/^  --/ { name = substr($1, 3) } /\(default [0-9]+\)$/ {
    match($0, /\(default [0-9]+\)$/); print name, substr($0, RSTART + 9, RLENGTH - 10) }' |
  while read -r n v; do
    [ "$n" = codec-suspend-after ] && continue # its own help line: "default 5; 0: never"
    grep -q -x "#$n = $v" "$conf" || fail "lwm2md.conf: $n is not at its default $v"
  done
# The daemon reads it as it is, and with every setting uncommented (--help after --config
# answers once the file is read: nothing is opened or bound).
"$bin" --config "$conf" --help >/dev/null || fail "lwm2md rejects the installed lwm2md.conf"
sed -E 's/^#([a-z0-9-]+ =)/\1/' "$conf" > "$dest/all.conf"
"$bin" --config "$dest/all.conf" --help >/dev/null ||
  fail "lwm2md rejects lwm2md.conf with every setting uncommented"
rm "$dest/all.conf"

# The unit's hardening.
for line in DynamicUser=yes StateDirectory=lwm2md ProtectSystem=strict ProtectHome=yes \
    NoNewPrivileges=yes PrivateTmp=yes 'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX' \
    CapabilityBoundingSet= SystemCallFilter=@system-service MemoryDenyWriteExecute=yes \
    "ExecStart=$prefix/bin/lwm2md --config $sysconf/lwm2md/lwm2md.conf"; do
  grep -q -x -F "$line" "$unit" || fail "the unit has no '$line'"
done
command -v systemd-analyze >/dev/null || fail "systemd-analyze is not installed (scripts/deps.sh)"
mkdir -p "$dest/verify"
sed "s#^ExecStart=/#ExecStart=$dest/#" "$unit" > "$dest/verify/lwm2md.service"
out=$(cd "$dest/verify" && systemd-analyze verify --man=no lwm2md.service 2>&1) ||
  fail "systemd-analyze verify: $out"
[ -z "$out" ] || fail "systemd-analyze verify complains: $out"
# Its exposure as systemd rates it (informative; 'OK' is below 4.0 of 10).
systemd-analyze security --offline=yes "$dest/verify/lwm2md.service" 2>/dev/null |
  tail -1 | sed 's/^/unit /' || true
rm -rf "$dest/verify"
echo "install tree OK: $(cd "$dest" && find . -type f | wc -l) files"
