#!/usr/bin/env bash
# example_walkthrough.sh LWM2MD LWM2M_SIM: the README's walk-through
# (examples/watermeter/walkthrough.sh) against a real daemon of this build, on free ports
# (port 0; the daemon prints what it bound) and a registry of its own. Then that a second
# run, which finds the product already there, stops at once with a message saying so; and
# that the daemon stops cleanly on SIGTERM (an ASan build's leak report fails it).
set -euo pipefail

lwm2md=${1:?usage: example_walkthrough.sh LWM2MD LWM2M_SIM}
sim=${2:?usage: example_walkthrough.sh LWM2MD LWM2M_SIM}
here=$(cd "$(dirname "$0")" && pwd)
walkthrough=$here/../../examples/watermeter/walkthrough.sh

dir=$(mktemp -d "${TMPDIR:-/tmp}/example-walkthrough.XXXXXX")
daemon_pid=
cleanup() {
	if [ -n "$daemon_pid" ]; then
		kill "$daemon_pid" 2>/dev/null || true
		wait "$daemon_pid" 2>/dev/null || true
	fi
	rm -rf "$dir"
}
trap cleanup EXIT

die() {
	echo "example_walkthrough: $*" >&2
	echo "--- the daemon's output:" >&2
	tail -n 40 "$dir/out" "$dir/err" >&2 || true
	exit 1
}

token=$("$lwm2md" token create --db "$dir/db" --project default)
# Pushes go to a port on this machine where nothing listens: they fail at once, without
# the network (the README's https://app.example.com/iot would need a resolver).
: >"$dir/out"
"$lwm2md" --db "$dir/db" --coap 127.0.0.1:0 --coaps 127.0.0.1:0 --http 127.0.0.1:0 \
	--push-allow-private >"$dir/out" 2>"$dir/err" &
daemon_pid=$!

coap= http=
for _ in $(seq 1 100); do
	coap=$(sed -n 's/^listening coap \(.*\)$/\1/p' "$dir/out" | head -n 1)
	http=$(sed -n 's/^listening http \(.*\)$/\1/p' "$dir/out" | head -n 1)
	[ -n "$coap" ] && [ -n "$http" ] && break
	kill -0 "$daemon_pid" 2>/dev/null || die "the daemon stopped before listening"
	sleep 0.1
done
[ -n "$coap" ] && [ -n "$http" ] || die "the daemon printed no 'listening coap/http' lines within 10 s"
echo "daemon: coap $coap, http $http"

export LWM2MD_COAP=$coap LWM2M_SIM_BIN=$sim WALKTHROUGH_PUSH_URL=http://127.0.0.1:9/iot
"$walkthrough" "http://$http" "$token" || die "the walk-through failed"

# Again: the product exists now, and the script must say so and fail, not go on.
if "$walkthrough" "http://$http" "$token" >"$dir/again" 2>&1; then
	die "a second walk-through on the same project succeeded; it should stop at the existing product"
fi
grep -q 'FAILED at "create the product watermeter": product watermeter already exists' "$dir/again" ||
	{ cat "$dir/again" >&2; die "the second walk-through did not name the existing product"; }
echo "a second run stops at the existing product, as it should"

kill -TERM "$daemon_pid"
status=0
wait "$daemon_pid" || status=$?
daemon_pid=
[ "$status" = 0 ] || die "the daemon exited $status on SIGTERM"
echo "example walk-through OK"
