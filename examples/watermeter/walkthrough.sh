#!/usr/bin/env bash
# walkthrough.sh — the README's walk-through, run against a running lwm2md with curl and
# lwm2m-sim, each answer checked; it stops at the first one that is not what the README
# says, naming the step, what was expected and what came, and exits 1.
#
#   examples/watermeter/walkthrough.sh [URL [TOKEN]]
#
# URL     the REST API (default $LWM2MD_URL, else http://127.0.0.1:8080, as `make run`)
# TOKEN   an API token of the project (default $LWM2MD_TOKEN, else the file
#         $LWM2MD_TOKEN_FILE, else var/api-token, as `make run` writes it)
# Environment, all optional:
#   LWM2MD_PROJECT   the token's project (default)
#   LWM2MD_COAP      the daemon's CoAP address for the simulator (127.0.0.1:5683)
#   LWM2M_SIM_BIN    lwm2m-sim (build/lwm2m-sim of this checkout)
#   WALKTHROUGH_PRODUCT_ID, WALKTHROUGH_NODE_ID   (watermeter, 861234567890123): the
#                    walk-through creates them, so they must not exist yet
#   WALKTHROUGH_REPORT_MS   the meter's report period (1000; the README's 5000 is slower)
#   WALKTHROUGH_WAIT        seconds to wait for each thing the device does (30)
#   WALKTHROUGH_PUSH_URL    the forwarding rule's endpoint (https://app.example.com/iot)
#
# The steps, as the README has them: a product; its model (model.json) and JavaScript codec
# (codec.js), tested on a report; a device, INACTIVE, its shadow empty; a forwarding rule;
# a command to the offline device, PENDING; a desired interval; then the meter
# (lwm2m-sim --meter --serve) registers: ONLINE, its reports in the shadow, the command
# SUCCESSFUL, the desired interval delivered and cleared once reported, and a Device
# Management Read of /3/0 answered by the simulator.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)

URL=${1:-${LWM2MD_URL:-http://127.0.0.1:8080}}
TOKEN=${2:-${LWM2MD_TOKEN:-}}
if [ -z "$TOKEN" ]; then
	token_file=${LWM2MD_TOKEN_FILE:-var/api-token}
	[ -r "$token_file" ] || token_file=$root/var/api-token
	if [ ! -r "$token_file" ]; then
		echo "walkthrough: no token: give it as the second argument or LWM2MD_TOKEN, or start the daemon with \`make run\` (it writes var/api-token)" >&2
		exit 2
	fi
	TOKEN=$(cat "$token_file")
fi
PROJECT=${LWM2MD_PROJECT:-default}
COAP=${LWM2MD_COAP:-127.0.0.1:5683}
SIM=${LWM2M_SIM_BIN:-$root/build/lwm2m-sim}
PRODUCT=${WALKTHROUGH_PRODUCT_ID:-watermeter}
NODE=${WALKTHROUGH_NODE_ID:-861234567890123}
REPORT_MS=${WALKTHROUGH_REPORT_MS:-1000}
WAIT=${WALKTHROUGH_WAIT:-30}
PUSH_URL=${WALKTHROUGH_PUSH_URL:-https://app.example.com/iot}
API=${URL%/}/v5/iot/$PROJECT
DEVICE=${PRODUCT}_$NODE

[ -x "$SIM" ] || { echo "walkthrough: no lwm2m-sim at $SIM (make build, or set LWM2M_SIM_BIN)" >&2; exit 2; }
command -v curl >/dev/null || { echo "walkthrough: curl is not installed" >&2; exit 2; }

step_name=
sim_pid=
sim_log=$(mktemp "${TMPDIR:-/tmp}/walkthrough-sim.XXXXXX")

cleanup() {
	if [ -n "$sim_pid" ]; then
		kill "$sim_pid" 2>/dev/null || true
		wait "$sim_pid" 2>/dev/null || true
	fi
	rm -f "$sim_log"
}
trap cleanup EXIT

step() {
	step_name=$1
	printf '%s\n' "-- $step_name"
}

# fail WHAT: the first divergence; the last answer and the simulator's output go with it.
fail() {
	{
		echo "walkthrough: FAILED at \"$step_name\": $1"
		[ -n "${STATUS:-}" ] && echo "  last answer: HTTP $STATUS ${BODY:-}"
		if [ -n "$sim_pid" ]; then
			echo "  lwm2m-sim's last lines:"
			tail -n 15 "$sim_log" | sed 's/^/    /'
		fi
	} >&2
	exit 1
}

# call METHOD PATH [curl arguments…]: STATUS and BODY of the answer.
call() {
	local method=$1 path=$2 out
	shift 2
	out=$(curl -sS -X "$method" "$API$path" -H "X-Auth-Token: $TOKEN" \
		-H 'Content-Type: application/json' -w '\n%{http_code}' "$@") ||
		{ STATUS=; BODY=; fail "curl $method $API$path failed: is lwm2md running at $URL?"; }
	STATUS=${out##*$'\n'}
	BODY=${out%$'\n'*}
	BODY=${BODY%$'\n'}
}

# expect_status CODE: the answer's status is CODE.
expect_status() {
	[ "$STATUS" = "$1" ] || fail "expected HTTP $1, got $STATUS"
}

# has PATTERN: the answer's body matches the extended regular expression (the API's JSON
# is compact: no spaces between members).
has() {
	printf '%s' "$BODY" | grep -Eq -- "$1"
}

expect_body() {
	has "$1" || fail "expected the answer to match $1"
}

# field NAME: the first string or number member NAME of the answer.
field() {
	printf '%s' "$BODY" | grep -Eo "\"$1\":(\"[^\"]*\"|-?[0-9.]+|true|false|null)" | head -n 1 |
		sed -E 's/^"[^"]*"://; s/^"(.*)"$/\1/'
}

# wait_for WHAT METHOD PATH PATTERN [FAIL_PATTERN]: polls until the answer matches PATTERN
# (fails at once when it matches FAIL_PATTERN), for at most WAIT seconds.
wait_for() {
	local what=$1 method=$2 path=$3 pattern=$4 bad=${5:-} deadline=$((SECONDS + WAIT))
	while :; do
		call "$method" "$path"
		if [ "$STATUS" = 200 ] && has "$pattern"; then
			return 0
		fi
		if [ -n "$bad" ] && has "$bad"; then
			fail "$what: the answer matches $bad, not $pattern"
		fi
		[ "$SECONDS" -lt "$deadline" ] || fail "$what: not within ${WAIT}s (expected the answer to match $pattern)"
		sleep 0.5
	done
}

echo "walk-through against $API (device $DEVICE, CoAP $COAP)"

step "the daemon answers"
out=$(curl -sS -o /dev/null -w '%{http_code}' "${URL%/}/health") || fail "no answer from ${URL%/}/health: is lwm2md running?"
[ "$out" = 200 ] || fail "GET /health answered $out"
call GET /products
[ "$STATUS" != 401 ] || fail "the token is not valid for project $PROJECT (401)"
expect_status 200

step "create the product $PRODUCT"
call POST /products -d "{\"product_id\":\"$PRODUCT\",\"name\":\"Water meter\",\"protocol_type\":\"LwM2M\",\"data_format\":\"binary\"}"
[ "$STATUS" != 409 ] || fail "product $PRODUCT already exists: the walk-through starts without it (delete it, or set WALKTHROUGH_PRODUCT_ID and WALKTHROUGH_NODE_ID)"
expect_status 201
expect_body "\"product_id\":\"$PRODUCT\""

step "give it the model (model.json)"
call PUT "/products/$PRODUCT" --data-binary "@$here/model.json"
expect_status 200
expect_body '"service_id":"WaterMeter"'
expect_body '"command_name":"SET_INTERVAL"'

step "give it the JavaScript codec (codec.js)"
call PUT "/products/$PRODUCT/codec" --data-binary @<("$here/codec-body.sh" "$here/codec.js")
expect_status 200
expect_body '"kind":"js"'

step "the codec decodes a report: battery 87, flow 100000"
call POST "/products/$PRODUCT/codec/test" -d '{"payload_hex":"0057000186A0"}'
expect_status 200
expect_body '"battery":87'
expect_body '"flow":100000'

step "the codec decodes a command's answer: mid 258, errcode 0"
call POST "/products/$PRODUCT/codec/test" -d '{"payload_hex":"0201020001"}'
expect_status 200
expect_body '"msgType":"deviceRsp"'
expect_body '"mid":258'

step "the codec encodes SET_INTERVAL 600 as 0101020258"
call POST "/products/$PRODUCT/codec/test" \
	-d '{"cloud_req":{"msgType":"cloudReq","serviceId":"WaterMeter","cmd":"SET_INTERVAL","paras":{"interval":600},"mid":258}}'
expect_status 200
expect_body '"payload_hex":"0101020258"'

step "create the device $NODE"
call POST /devices -d "{\"node_id\":\"$NODE\",\"product_id\":\"$PRODUCT\",\"auth_info\":{\"secure_access\":false}}"
[ "$STATUS" != 409 ] || fail "a device with node ID $NODE already exists: set WALKTHROUGH_NODE_ID"
expect_status 201
expect_body "\"device_id\":\"$DEVICE\""

step "the device is INACTIVE"
call GET "/devices/$DEVICE"
expect_status 200
expect_body '"status":"INACTIVE"'

step "its shadow is empty before the first report"
call GET "/devices/$DEVICE/shadow"
expect_status 200
expect_body '"shadow":\[\]'

step "a forwarding rule to $PUSH_URL"
call POST /forwarding-rules -d "{\"url\":\"$PUSH_URL\"}"
expect_status 201
rule_id=$(field rule_id)
[ -n "$rule_id" ] || fail "the answer has no rule_id"

step "a command to the offline device waits: PENDING"
call POST "/devices/$DEVICE/async-commands" \
	-d '{"service_id":"WaterMeter","command_name":"SET_INTERVAL","paras":{"interval":600}}'
expect_status 201
expect_body '"status":"PENDING"'
command_id=$(field command_id)
[ -n "$command_id" ] || fail "the answer has no command_id"

step "desired interval 900 in the shadow"
call PUT "/devices/$DEVICE/shadow" -d '{"shadow":[{"service_id":"WaterMeter","desired":{"interval":900}}]}'
expect_status 200
expect_body '"desired":\{"properties":\{"interval":900\}'

step "the meter registers: lwm2m-sim --meter --serve"
"$SIM" --server "$COAP" --ep "$NODE" --serve $((WAIT * 4)) --meter --report-every "$REPORT_MS" \
	>"$sim_log" 2>&1 &
sim_pid=$!
wait_for "the device ONLINE" GET "/devices/$DEVICE" '"status":"ONLINE"'
kill -0 "$sim_pid" 2>/dev/null || fail "lwm2m-sim stopped"

step "its reports reach the shadow: battery and flow"
wait_for "a report in the shadow" GET "/devices/$DEVICE/shadow" '"reported":\{"properties":\{[^}]*"battery":[0-9]+'
expect_body '"flow":[0-9]+'

step "the command goes out and the meter's answer makes it SUCCESSFUL"
wait_for "the command SUCCESSFUL" GET "/devices/$DEVICE/async-commands/$command_id" \
	'"status":"SUCCESSFUL"' '"status":"(FAILED|TIMEOUT|EXPIRED)"'
expect_body '"errcode":0'

step "the desired interval is delivered, reported, and leaves desired"
wait_for "interval 900 reported" GET "/devices/$DEVICE/shadow" '"reported":\{"properties":\{[^}]*"interval":900'
has '"desired":\{"properties":\{[^}]*"interval"' && fail "interval 900 is reported but still desired"
call GET "/devices/$DEVICE/async-commands"
expect_status 200
printf '%s' "$BODY" | sed 's/{"command_id"/\n&/g' | grep -F '"command_name":"$properties"' |
	grep -Fq '"status":"SUCCESSFUL"' || fail "expected the \$properties command SUCCESSFUL"

step "a Device Management Read of /3/0, answered by the simulator"
call GET "/devices/$DEVICE/lwm2m/3/0?format=tlv&timeout=10"
expect_status 200
expect_body '"path":"/3/0/0"'

step "the forwarding rule is listed"
call GET /forwarding-rules
expect_status 200
expect_body "\"rule_id\":\"$rule_id\""

echo "walk-through OK: every step answered as the README says"
