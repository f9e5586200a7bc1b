/*
 * Tests of iot/codec_js.c: a water meter's codec script (report, command, command
 * response), then everything a script can do wrong: throw, loop, hoard memory, return
 * the wrong thing, not compile, define nothing. The codec_js_* functions are called
 * directly, not through codec.c, which also needs the declarative codec.
 *
 * Prints (does not assert) the water meter's decode rate.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "iot/codec.h"
#include "iot/codec_js_internal.h"

/* Messages: 0 report [0, battery %, flow uint32 BE]; 1 command SET_INTERVAL
 * [1, mid hi, mid lo, interval hi, interval lo]; 2 its response [2, mid hi, mid lo, errcode]. */
static const char WATER_METER[] =
	"var MSG_REPORT = 0, MSG_SET_INTERVAL = 1, MSG_SET_INTERVAL_RSP = 2;\n"
	"function u16(bytes, at) { return (bytes[at] << 8) | bytes[at + 1]; }\n"
	"function u32(bytes, at) {\n"
	"  var view = new DataView(new Uint8Array(bytes.slice(at, at + 4)).buffer);\n"
	"  return view.getUint32(0, false);\n"
	"}\n"
	"function decode(payload, topic) {\n"
	"  if (payload[0] === MSG_REPORT) {\n"
	"    return JSON.stringify({ msgType: 'deviceReq', data: [{ serviceId: 'WaterMeter',\n"
	"      serviceData: { battery: Math.min(payload[1], 100), flow: u32(payload, 2) } }] });\n"
	"  }\n"
	"  if (payload[0] === MSG_SET_INTERVAL_RSP) {\n"
	"    return JSON.stringify({ msgType: 'deviceRsp', mid: u16(payload, 1),\n"
	"      errcode: payload[3], body: { result: payload[3] === 0 ? 'ok' : 'failed' } });\n"
	"  }\n"
	"  throw new Error('unknown message id ' + payload[0]);\n"
	"}\n"
	"function encode(json) {\n"
	"  var req = JSON.parse(json);\n"
	"  if (req.cmd !== 'SET_INTERVAL') throw new Error('unknown command ' + req.cmd);\n"
	"  var interval = req.paras.interval;\n"
	"  return [MSG_SET_INTERVAL, (req.mid >> 8) & 0xFF, req.mid & 0xFF,\n"
	"          (interval >> 8) & 0xFF, interval & 0xFF];\n"
	"}\n";

static struct codec_js *create(const char *src, unsigned time_ms, size_t memory)
{
	struct codec_limits limits = { time_ms, memory };
	struct codec_js *js = NULL;
	char err[256] = "";
	int rc = codec_js_create(src, strlen(src), &limits, &js, err, sizeof(err));
	if (rc)
		fail_msg("codec_js_create: %d %s", rc, err);
	assert_int_equal(codec_js_debug_stack_top(js), 0);
	return js;
}

static int create_rc(const char *src, const struct codec_limits *limits, char *err,
		     size_t errlen)
{
	struct codec_js *js = NULL;
	int rc = codec_js_create(src, strlen(src), limits, &js, err, errlen);
	if (rc == 0)
		codec_js_destroy(js);
	else
		assert_null(js);
	return rc;
}

static int decode(struct codec_js *js, const uint8_t *p, size_t len, json_t **out, char *err,
		  size_t errlen)
{
	int rc = codec_js_decode(js, p, len, NULL, out, err, errlen);
	assert_int_equal(codec_js_debug_stack_top(js), 0);
	return rc;
}

static const uint8_t REPORT[] = { 0, 87, 0x00, 0x01, 0xE2, 0x40 }; /* battery 87, flow 123456 */

static void assert_report(const json_t *msg)
{
	assert_string_equal(json_string_value(json_object_get(msg, "msgType")), "deviceReq");
	const json_t *item = json_array_get(json_object_get(msg, "data"), 0);
	assert_non_null(item);
	assert_string_equal(json_string_value(json_object_get(item, "serviceId")), "WaterMeter");
	const json_t *sd = json_object_get(item, "serviceData");
	assert_int_equal(json_integer_value(json_object_get(sd, "battery")), 87);
	assert_int_equal(json_integer_value(json_object_get(sd, "flow")), 123456);
	assert_int_equal(json_object_size(sd), 2);
}

static void test_water_meter_decodes_report(void **state)
{
	struct codec_js *js = create(WATER_METER, 0, 0);
	json_t *msg = NULL;
	char err[256] = "";
	assert_int_equal(decode(js, REPORT, sizeof(REPORT), &msg, err, sizeof(err)), 0);
	assert_report(msg);
	json_decref(msg);
	codec_js_destroy(js);
}

static void test_water_meter_decodes_command_response(void **state)
{
	struct codec_js *js = create(WATER_METER, 0, 0);
	const uint8_t rsp[] = { 2, 0x01, 0x02, 0 };
	json_t *msg = NULL;
	char err[256] = "";
	assert_int_equal(decode(js, rsp, sizeof(rsp), &msg, err, sizeof(err)), 0);
	assert_string_equal(json_string_value(json_object_get(msg, "msgType")), "deviceRsp");
	assert_int_equal(json_integer_value(json_object_get(msg, "mid")), 258);
	assert_int_equal(json_integer_value(json_object_get(msg, "errcode")), 0);
	assert_string_equal(
		json_string_value(json_object_get(json_object_get(msg, "body"), "result")), "ok");
	json_decref(msg);
	codec_js_destroy(js);
}

static void test_water_meter_encodes_command(void **state)
{
	struct codec_js *js = create(WATER_METER, 0, 0);
	json_t *req = json_pack("{s:s, s:s, s:s, s:{s:i}, s:i}", "msgType", "cloudReq",
				"serviceId", "WaterMeter", "cmd", "SET_INTERVAL", "paras",
				"interval", 300, "mid", 7);
	uint8_t out[16];
	size_t n = 0;
	char err[256] = "";
	assert_int_equal(codec_js_encode(js, req, out, sizeof(out), &n, err, sizeof(err)), 0);
	const uint8_t want[] = { 1, 0, 7, 0x01, 0x2C };
	assert_int_equal(n, sizeof(want));
	assert_memory_equal(out, want, sizeof(want));
	assert_int_equal(codec_js_debug_stack_top(js), 0);

	/* Exactly enough room is enough; one byte less is -ENOSPC. */
	assert_int_equal(codec_js_encode(js, req, out, 5, &n, err, sizeof(err)), 0);
	assert_int_equal(codec_js_encode(js, req, out, 4, &n, err, sizeof(err)), -ENOSPC);
	assert_non_null(strstr(err, "5 bytes"));
	json_decref(req);
	codec_js_destroy(js);
}

static void test_decode_sees_topic_and_plain_array(void **state)
{
	struct codec_js *js = create(
		"function decode(p, topic) {\n"
		"  return { msgType: 'deviceReq', data: [{ serviceId: 'S', serviceData: {\n"
		"    topic: typeof topic === 'string' ? topic : typeof topic,\n"
		"    isArray: Array.isArray(p), len: p.length, sum: p.reduce(function (a, b) {\n"
		"      return a + b; }, 0) } }] };\n"
		"}\n",
		0, 0);
	const uint8_t p[] = { 1, 2, 255 };
	json_t *msg = NULL;
	char err[256] = "";
	/* An object returned is stringified for us. */
	assert_int_equal(codec_js_decode(js, p, sizeof(p), "/v1/devices/up", &msg, err,
					 sizeof(err)),
			 0);
	const json_t *sd = json_object_get(json_array_get(json_object_get(msg, "data"), 0),
					   "serviceData");
	assert_string_equal(json_string_value(json_object_get(sd, "topic")), "/v1/devices/up");
	assert_true(json_is_true(json_object_get(sd, "isArray")));
	assert_int_equal(json_integer_value(json_object_get(sd, "len")), 3);
	assert_int_equal(json_integer_value(json_object_get(sd, "sum")), 258);
	json_decref(msg);

	assert_int_equal(decode(js, NULL, 0, &msg, err, sizeof(err)), 0);
	sd = json_object_get(json_array_get(json_object_get(msg, "data"), 0), "serviceData");
	assert_string_equal(json_string_value(json_object_get(sd, "topic")), "undefined");
	assert_int_equal(json_integer_value(json_object_get(sd, "len")), 0);
	json_decref(msg);
	codec_js_destroy(js);
}

static void test_decode_throws(void **state)
{
	struct codec_js *js = create(WATER_METER, 0, 0);
	const uint8_t p[] = { 9 };
	json_t *msg = NULL;
	char err[256] = "";
	assert_int_equal(decode(js, p, sizeof(p), &msg, err, sizeof(err)), -EINVAL);
	assert_null(msg);
	assert_non_null(strstr(err, "Error: unknown message id 9"));
	assert_non_null(strstr(err, "(line 16)"));

	/* A thrown non-Error, and one whose toString throws in turn. */
	codec_js_destroy(js);
	js = create("function decode(p) {\n"
		    "  if (p[0]) throw { toString: function () { throw 'again'; } };\n"
		    "  throw 'a plain string';\n"
		    "}\n",
		    0, 0);
	assert_int_equal(decode(js, p, 0, &msg, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "a plain string"));
	assert_int_equal(decode(js, p, 1, &msg, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "decode() threw"));
	codec_js_destroy(js);
}

static double ms_since(const struct timespec *t0)
{
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) * 1e3 + (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

static const char LOOPS[] =
	"function decode(p) {\n"
	"  if (p[0] === 1) while (true) {}\n"
	"  if (p[0] === 2) { try { while (true) {} } catch (e) { while (true) {} } }\n"
	"  if (p[0] === 3) { for (;;) { try { while (true) {} } catch (e) {} } }\n"
	"  return JSON.stringify({ msgType: 'deviceReq', data: [{ serviceId: 'S',\n"
	"    serviceData: { v: p[0] } }] });\n"
	"}\n"
	"function encode(json) { while (true) {} }\n";

static void test_timeout_then_next_call_works(void **state)
{
	struct codec_js *js = create(LOOPS, 100, 0);
	char err[256] = "";
	json_t *msg = NULL;
	for (uint8_t kind = 1; kind <= 3; kind++) {
		struct timespec t0;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		assert_int_equal(decode(js, &kind, 1, &msg, err, sizeof(err)), -ETIMEDOUT);
		double ms = ms_since(&t0);
		assert_non_null(strstr(err, "100 ms"));
		/* The check runs every 256 Ki instructions: a few ms late at most (more under
		 * the sanitizers). */
		assert_true(ms >= 99.0);
		assert_true(ms < 1000.0);

		const uint8_t ok = 0;
		assert_int_equal(decode(js, &ok, 1, &msg, err, sizeof(err)), 0);
		json_decref(msg);
	}
	json_t *req = json_pack("{s:s}", "msgType", "cloudReq");
	uint8_t out[8];
	size_t n;
	assert_int_equal(codec_js_encode(js, req, out, sizeof(out), &n, err, sizeof(err)),
			 -ETIMEDOUT);
	assert_int_equal(codec_js_debug_stack_top(js), 0);
	json_decref(req);
	codec_js_destroy(js);
}

/* The regexp matcher runs no bytecode; the patched duktape.c makes it watch the deadline
 * too. Unpatched, this pattern ran for 15 s before Duktape's own step limit. */
static void test_backtracking_regexp_times_out(void **state)
{
	struct codec_js *js = create(
		"function decode(p) {\n"
		"  /(a+)+b/.test('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa');\n"
		"  return '{}';\n"
		"}\n",
		100, 0);
	char err[256] = "";
	json_t *msg = NULL;
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(decode(js, NULL, 0, &msg, err, sizeof(err)), -ETIMEDOUT);
	double ms = ms_since(&t0);
	assert_true(ms >= 99.0);
	assert_true(ms < 1000.0);
	assert_non_null(strstr(err, "regexp"));
	codec_js_destroy(js);
}

static const char HOARDER[] =
	"function decode(p) {\n"
	"  if (p[0] === 1) { var a = []; while (true) a.push({ n: a.length, s: 'x' + a.length }); }\n"
	"  if (p[0] === 2) { var s = 'x'; while (true) s = s + s; }\n"
	"  return JSON.stringify({ msgType: 'deviceReq', data: [{ serviceId: 'S',\n"
	"    serviceData: { v: p[0] } }] });\n"
	"}\n";

static void test_out_of_memory_then_next_call_works(void **state)
{
	const size_t limit = 1u << 20;
	struct codec_js *js = create(HOARDER, 10000, limit);
	char err[256] = "";
	json_t *msg = NULL;
	const uint8_t ok = 0;
	assert_int_equal(decode(js, &ok, 1, &msg, err, sizeof(err)), 0);
	json_decref(msg);
	size_t baseline = codec_js_debug_heap_bytes(js);

	for (uint8_t kind = 1; kind <= 2; kind++) {
		assert_int_equal(decode(js, &kind, 1, &msg, err, sizeof(err)), -ENOMEM);
		assert_non_null(strstr(err, "1048576 bytes"));
		assert_true(codec_js_debug_heap_bytes(js) <= limit);
		/* What the call hoarded went with it. */
		assert_true(codec_js_debug_heap_bytes(js) < baseline + 64 * 1024);
		assert_int_equal(decode(js, &ok, 1, &msg, err, sizeof(err)), 0);
		json_decref(msg);
	}
	codec_js_destroy(js);
}

static void test_heap_too_small_to_create(void **state)
{
	struct codec_limits limits = { 0, 4096 };
	char err[256] = "";
	assert_int_equal(create_rc(WATER_METER, &limits, err, sizeof(err)), -ENOMEM);
	assert_non_null(strstr(err, "4096"));
}

static void test_decode_bad_results(void **state)
{
	struct codec_js *js = create("function decode(p) {\n"
				     "  switch (p[0]) {\n"
				     "  case 0: return '{\"msgType\": ';\n"
				     "  case 1: return 42;\n"
				     "  case 2: return undefined;\n"
				     "  case 3: return null;\n"
				     "  case 4: return function () {};\n"
				     "  case 5: var o = {}; o.self = o; return o;\n"
				     "  case 6: return { toJSON: function () { return undefined; } };\n"
				     "  }\n"
				     "}\n",
				     0, 0);
	static const struct {
		uint8_t kind;
		const char *text;
	} cases[] = {
		{ 0, "not JSON" },	  { 1, "returned a number" },
		{ 2, "returned undefined" }, { 3, "returned null" },
		{ 4, "returned a function" }, { 5, "TypeError" },
		{ 6, "makes nothing of" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char err[256] = "";
		json_t *msg = NULL;
		assert_int_equal(decode(js, &cases[i].kind, 1, &msg, err, sizeof(err)), -EINVAL);
		assert_null(msg);
		if (!strstr(err, cases[i].text))
			fail_msg("case %u: \"%s\" lacks \"%s\"", cases[i].kind, err, cases[i].text);
	}
	codec_js_destroy(js);
}

static void test_encode_bad_results(void **state)
{
	struct codec_js *js = create("function encode(json) {\n"
				     "  switch (JSON.parse(json).cmd) {\n"
				     "  case 'string': return 'abc';\n"
				     "  case 'typed': return new Uint8Array(2);\n"
				     "  case 'big': return [1, 256];\n"
				     "  case 'small': return [1, 2, -129];\n"
				     "  case 'frac': return [1.5];\n"
				     "  case 'nan': return [0, NaN];\n"
				     "  case 'text': return ['1'];\n"
				     "  case 'hole': return [1, , 3];\n"
				     "  case 'long': var a = []; for (var i = 0; i < 65; i++) a.push(i);\n"
				     "    return a;\n"
				     "  case 'signed': return [-128, -1, 0, 127, 255];\n"
				     "  }\n"
				     "}\n",
				     0, 0);
	static const struct {
		const char *cmd;
		int rc;
		const char *text;
	} cases[] = {
		{ "string", -EINVAL, "returned a string, not an array" },
		{ "typed", -EINVAL, "returned an object, not an array" },
		{ "big", -EINVAL, "256 at index 1" },
		{ "small", -EINVAL, "-129 at index 2" },
		{ "frac", -EINVAL, "1.5 at index 0" },
		{ "nan", -EINVAL, "nan at index 1" },
		{ "text", -EINVAL, "a string at index 0" },
		{ "hole", -EINVAL, "undefined at index 1" },
		{ "long", -ENOSPC, "65 bytes" },
	};
	uint8_t out[64];
	size_t n = 99;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char err[256] = "";
		json_t *req = json_pack("{s:s}", "cmd", cases[i].cmd);
		assert_int_equal(codec_js_encode(js, req, out, sizeof(out), &n, err, sizeof(err)),
				 cases[i].rc);
		assert_int_equal(n, 99);
		if (!strstr(err, cases[i].text))
			fail_msg("%s: \"%s\" lacks \"%s\"", cases[i].cmd, err, cases[i].text);
		assert_int_equal(codec_js_debug_stack_top(js), 0);
		json_decref(req);
	}
	json_t *req = json_pack("{s:s}", "cmd", "signed");
	char err[256] = "";
	assert_int_equal(codec_js_encode(js, req, out, sizeof(out), &n, err, sizeof(err)), 0);
	const uint8_t want[] = { 0x80, 0xFF, 0, 127, 255 };
	assert_int_equal(n, sizeof(want));
	assert_memory_equal(out, want, sizeof(want));
	json_decref(req);

	json_t *not_object = json_pack("[i]", 1);
	assert_int_equal(codec_js_encode(js, not_object, out, sizeof(out), &n, err, sizeof(err)),
			 -EINVAL);
	json_decref(not_object);
	codec_js_destroy(js);
}

static void test_bad_sources(void **state)
{
	char err[256] = "";
	assert_int_equal(create_rc("function decode(p { return 1; }", NULL, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "SyntaxError"));

	assert_int_equal(create_rc("throw new Error('no config');", NULL, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "no config"));

	assert_int_equal(create_rc("var decode = 5; var x = 1;", NULL, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "neither decode() nor encode()"));

	assert_int_equal(create_rc("", NULL, err, sizeof(err)), -EINVAL);

	struct codec_limits fast = { 50, 0 };
	assert_int_equal(create_rc("function decode(p) {}\nwhile (1) {}", &fast, err, sizeof(err)),
			 -ETIMEDOUT);
	assert_non_null(strstr(err, "loading the codec script ran over its 50 ms"));

	/* The source need not be NUL-terminated: only len bytes are compiled. */
	const char src[] = "function decode(p) { return '{}'; }GARBAGE";
	struct codec_js *js = NULL;
	assert_int_equal(codec_js_create(src, strlen(src) - 7, NULL, &js, err, sizeof(err)), 0);
	codec_js_destroy(js);
}

static void test_missing_functions(void **state)
{
	struct codec_js *js = create("function decode(p) { return '{}'; }", 0, 0);
	json_t *req = json_pack("{s:s}", "msgType", "cloudReq");
	uint8_t out[8];
	size_t n;
	char err[256] = "";
	assert_int_equal(codec_js_encode(js, req, out, sizeof(out), &n, err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "the codec script defines no encode() function");
	assert_int_equal(codec_js_debug_stack_top(js), 0);
	codec_js_destroy(js);

	js = create("function encode(j) { return []; }", 0, 0);
	json_t *msg = NULL;
	assert_int_equal(decode(js, out, 1, &msg, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "the codec script defines no decode() function");
	assert_int_equal(codec_js_encode(js, req, out, sizeof(out), &n, err, sizeof(err)), 0);
	assert_int_equal(n, 0);
	codec_js_destroy(js);
	json_decref(req);
}

static void test_oversized_payload(void **state)
{
	struct codec_js *js = create(WATER_METER, 0, 0);
	static uint8_t big[CODEC_MAX_PAYLOAD + 1];
	json_t *msg = NULL;
	char err[256] = "";
	assert_int_equal(decode(js, big, sizeof(big), &msg, err, sizeof(err)), -EINVAL);
	codec_js_destroy(js);
}

/* Destroying the heap runs finalizers; one that loops must not hang the daemon. */
static void test_destroy_bounds_finalizers(void **state)
{
	struct codec_js *js = create("var o = {};\n"
				     "Duktape.fin(o, function () { while (true) {} });\n"
				     "function decode(p) { return '{}'; }\n",
				     50, 0);
	alarm(20); /* a hang fails the test rather than the suite's timeout */
	codec_js_destroy(js);
	alarm(0);
}

/* eval and the Function constructor compile at run time, which no deadline interrupts:
 * every route to them gives the same clear error, at load and in a call. */
static void test_eval_and_function_refused(void **state)
{
	static const char *const routes[] = {
		"eval('1')",
		"(0, eval)('1')",
		"this.eval('1')",
		"globalThis['ev' + 'al']('1')",
		"new Function('return 1')()",
		"Function('return 1')()",
		"(function () {}).constructor('return 1')()",
		"Function.prototype.constructor('return 1')()",
		"Object.getPrototypeOf(function () {}).constructor('return 1')()",
		"Object.getOwnPropertyDescriptor(Function.prototype, 'constructor').value('return 1')()",
		"Reflect.construct(Function, ['return 1'])()",
		"Math.max.constructor('return 1')()",
		"JSON.parse.bind(null).constructor('return 1')()",
		"Function.prototype.call.call(Function, null, 'return 1')()",
		"[].map.constructor.apply(null, ['return 1'])()",
	};
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		char src[512], err[256] = "";
		/* In a call. */
		snprintf(src, sizeof(src), "function decode(p) { return String(%s); }", routes[i]);
		struct codec_js *js = create(src, 0, 0);
		json_t *msg = NULL;
		assert_int_equal(decode(js, REPORT, sizeof(REPORT), &msg, err, sizeof(err)), -EINVAL);
		if (!strstr(err, "eval() and the Function constructor are not available to codecs"))
			fail_msg("%s: %s", routes[i], err);
		codec_js_destroy(js);
		/* At load. */
		snprintf(src, sizeof(src), "var x = %s; function decode(p) { return '{}'; }",
			 routes[i]);
		err[0] = '\0';
		assert_int_equal(create_rc(src, NULL, err, sizeof(err)), -EINVAL);
		if (!strstr(err, "not available to codecs"))
			fail_msg("%s at load: %s", routes[i], err);
	}
	/* What codecs do use of Function still works. */
	struct codec_js *js = create(
		"function decode(p) { return JSON.stringify({msgType: 'deviceReq', data: [{"
		"serviceId: 'S', serviceData: {f: (function () {}) instanceof Function,"
		" b: typeof Math.max.bind(null, 1) === 'function', c: Math.max.call(null, 1, 2)}}]}); }",
		0, 0);
	json_t *msg = NULL;
	char err[256] = "";
	assert_int_equal(decode(js, REPORT, sizeof(REPORT), &msg, err, sizeof(err)), 0);
	const json_t *sd =
		json_object_get(json_array_get(json_object_get(msg, "data"), 0), "serviceData");
	assert_true(json_is_true(json_object_get(sd, "f")));
	assert_true(json_is_true(json_object_get(sd, "b")));
	assert_int_equal(json_integer_value(json_object_get(sd, "c")), 2);
	json_decref(msg);
	codec_js_destroy(js);
}

/* No object reachable from the global object, through own properties (enumerable or not,
 * getters not run) and prototypes, is a function that compiles source: each function
 * found is called with a source text and must not return what that source computes. */
static void test_no_compiler_reachable(void **state)
{
	static const char WALK[] =
		"function decode(p) {\n"
		"  var seen = [], queue = [globalThis], found = [], calls = 0;\n"
		"  while (queue.length) {\n"
		"    var o = queue.shift();\n"
		"    if (o === null || (typeof o !== 'object' && typeof o !== 'function')) continue;\n"
		"    if (seen.indexOf(o) >= 0) continue;\n"
		"    seen.push(o);\n"
		"    if (typeof o === 'function' && o !== decode) {\n"
		"      calls++;\n"
		"      try { var r = o('return 4242'); if (typeof r === 'function' && r() === 4242)\n"
		"        found.push(String(o)); } catch (e) {}\n"
		"      try { var r2 = new o('return 4242'); if (typeof r2 === 'function' &&\n"
		"        r2() === 4242) found.push('new ' + String(o)); } catch (e) {}\n"
		"    }\n"
		"    queue.push(Object.getPrototypeOf(o));\n"
		"    var names = Object.getOwnPropertyNames(o);\n"
		"    for (var i = 0; i < names.length; i++) {\n"
		"      var d = Object.getOwnPropertyDescriptor(o, names[i]);\n"
		"      if (d && 'value' in d) queue.push(d.value);\n"
		"      if (d && d.get) queue.push(d.get);\n"
		"      if (d && d.set) queue.push(d.set);\n"
		"    }\n"
		"  }\n"
		"  return JSON.stringify({msgType: 'deviceReq', data: [{serviceId: 'S',\n"
		"    serviceData: {found: found.join(' | '), calls: calls}}]});\n"
		"}\n";
	struct codec_js *js = create(WALK, 2000, 0);
	json_t *msg = NULL;
	char err[256] = "";
	int rc = decode(js, REPORT, sizeof(REPORT), &msg, err, sizeof(err));
	if (rc)
		fail_msg("the walk failed: %s", err);
	const json_t *sd =
		json_object_get(json_array_get(json_object_get(msg, "data"), 0), "serviceData");
	assert_string_equal(json_string_value(json_object_get(sd, "found")), "");
	/* It did reach the built-ins (a few hundred functions). */
	assert_true(json_integer_value(json_object_get(sd, "calls")) > 100);
	json_decref(msg);
	codec_js_destroy(js);
}

static void test_many_decodes_stay_balanced(void **state)
{
	struct codec_js *js = create(WATER_METER, 0, 0);
	json_t *msg = NULL;
	char err[256] = "";
	const uint8_t bad[] = { 9 };
	/* Warm up, then remember how much heap a steady state holds. */
	for (int i = 0; i < 100; i++) {
		assert_int_equal(codec_js_decode(js, REPORT, sizeof(REPORT), NULL, &msg, err,
						 sizeof(err)),
				 0);
		json_decref(msg);
	}
	size_t heap = codec_js_debug_heap_bytes(js);

	const int calls = 10000;
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < calls; i++) {
		msg = NULL;
		if (codec_js_decode(js, REPORT, sizeof(REPORT), NULL, &msg, err, sizeof(err)))
			fail_msg("call %d: %s", i, err);
		if (i == 0)
			assert_report(msg);
		json_decref(msg);
	}
	double ms = ms_since(&t0);
	assert_int_equal(codec_js_debug_stack_top(js), 0);
	printf("water meter: %d decodes in %.0f ms, %.0f decodes/s (heap %zu -> %zu bytes)\n",
	       calls, ms, calls / (ms / 1e3), heap, codec_js_debug_heap_bytes(js));

	/* Failing calls leave nothing behind either. */
	for (int i = 0; i < 1000; i++)
		assert_int_equal(codec_js_decode(js, bad, sizeof(bad), NULL, &msg, err, sizeof(err)),
				 -EINVAL);
	assert_int_equal(codec_js_debug_stack_top(js), 0);
	/* No growth: refcounting frees each call's garbage; allow for caches. */
	assert_true(codec_js_debug_heap_bytes(js) < heap + 32 * 1024);
	codec_js_destroy(js);
}

/* docs/api.md "Codecs": an upload's 400 names the line. Every error that comes from a line
 * of the script ends with it, where codec_error_line finds it: syntax errors, exceptions
 * at load (the script's line, also for an error made by C code the script called, and
 * after a line the script's own message mentions), exceptions in decode(). */
static void test_errors_name_the_line(void **state)
{
	(void)state;
	static const struct {
		const char *src;
		int line;
	} cases[] = {
		{ "function decode(p){\n  return 1 +;\n}\n", 2 },
		{ "function decode(p){\n  return 'abc;\n}\n", 2 },
		{ "var x = 1;\n\nfunction decode(p) {\n  return {\n}\n", 6 }, /* end of input */
		{ "var a = [\n1,\n2,\n", 4 },
		{ "var x = 1;\nfoo();\nfunction decode(p){}\n", 2 },
		{ "var x = 1;\n\nthrow new Error('boom (line 9)');\nfunction decode(p){}\n", 3 },
		{ "function f() {\n  return null.y;\n}\nf();\nfunction decode(p){}\n", 2 },
		{ "\nvar e = eval('1');\nfunction decode(p){}\n", 2 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char err[256] = "";
		assert_int_equal(create_rc(cases[i].src, NULL, err, sizeof(err)), -EINVAL);
		char want[32];
		snprintf(want, sizeof(want), "line %d", cases[i].line);
		if (!strstr(err, want) || codec_error_line(err) != cases[i].line)
			fail_msg("case %zu: want line %d: %s", i, cases[i].line, err);
	}
	/* A thrown string has no line. */
	char err[256] = "";
	assert_int_equal(create_rc("throw 'x';\nfunction decode(p){}\n", NULL, err, sizeof(err)),
			 -EINVAL);
	assert_int_equal(codec_error_line(err), 0);
	/* In decode(): the innermost frame of the script. */
	struct codec_js *js = create("function inner(p) {\n  return p.q.r;\n}\n"
				     "function decode(p) {\n  return inner(p);\n}\n",
				     0, 0);
	json_t *msg = NULL;
	const uint8_t p[] = { 1 };
	assert_int_equal(decode(js, p, sizeof(p), &msg, err, sizeof(err)), -EINVAL);
	assert_int_equal(codec_error_line(err), 2);
	codec_js_destroy(js);
	/* What the reader takes and what it leaves. */
	assert_int_equal(codec_error_line("x (line 12)"), 12);
	assert_int_equal(codec_error_line("x (line 5, end of input)"), 5);
	assert_int_equal(codec_error_line("x (line 9) (line 3)"), 3);
	assert_int_equal(codec_error_line("x (line 3) y"), 3);
	assert_int_equal(codec_error_line("x (line )"), 0);
	assert_int_equal(codec_error_line("x (line 0)"), 0);
	assert_int_equal(codec_error_line("x (line 99999999999)"), 0);
	assert_int_equal(codec_error_line("x line 7"), 0);
	assert_int_equal(codec_error_line(NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_water_meter_decodes_report),
		cmocka_unit_test(test_water_meter_decodes_command_response),
		cmocka_unit_test(test_water_meter_encodes_command),
		cmocka_unit_test(test_decode_sees_topic_and_plain_array),
		cmocka_unit_test(test_decode_throws),
		cmocka_unit_test(test_timeout_then_next_call_works),
		cmocka_unit_test(test_backtracking_regexp_times_out),
		cmocka_unit_test(test_out_of_memory_then_next_call_works),
		cmocka_unit_test(test_heap_too_small_to_create),
		cmocka_unit_test(test_decode_bad_results),
		cmocka_unit_test(test_encode_bad_results),
		cmocka_unit_test(test_bad_sources),
		cmocka_unit_test(test_missing_functions),
		cmocka_unit_test(test_oversized_payload),
		cmocka_unit_test(test_destroy_bounds_finalizers),
		cmocka_unit_test(test_eval_and_function_refused),
		cmocka_unit_test(test_no_compiler_reachable),
		cmocka_unit_test(test_many_decodes_stay_balanced),
		cmocka_unit_test(test_errors_name_the_line),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
