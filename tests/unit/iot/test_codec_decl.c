/*
 * Tests of the declarative codec (src/iot/codec_decl.c, docs/codec-declarative.md): the
 * water meter of the documentation byte for byte in both directions, every field type and
 * byte order, every check of the layout document (the error must name the place), payloads
 * cut at every length, encode errors and buffer bounds, and fuzz loops over payloads and
 * over mutated layout documents which check that the codec only ever answers 0 or a
 * negative errno.
 *
 * These call codec_decl_* directly rather than codec_create/codec_decode, so that the test
 * does not link codec.c and with it the JavaScript codec.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "iot/codec.h"

static const char water_meter[] =
    "{\"byte_order\": \"big\",\n"
    " \"message_id\": {\"offset\": 0, \"type\": \"uint8\"},\n"
    " \"messages\": [\n"
    "  {\"id\": 0, \"kind\": \"report\", \"service_id\": \"WaterMeter\",\n"
    "   \"fields\": [{\"name\": \"battery\", \"offset\": 1, \"type\": \"uint8\"},\n"
    "              {\"name\": \"flow\", \"offset\": 2, \"type\": \"uint32\"}]},\n"
    "  {\"id\": 1, \"kind\": \"command\", \"service_id\": \"WaterMeter\", \"command\": "
    "\"SET_INTERVAL\",\n"
    "   \"fields\": [{\"name\": \"mid\", \"offset\": 1, \"type\": \"uint16\", \"role\": "
    "\"mid\"},\n"
    "              {\"name\": \"interval\", \"offset\": 3, \"type\": \"uint16\"}]},\n"
    "  {\"id\": 2, \"kind\": \"response\", \"service_id\": \"WaterMeter\", \"command\": "
    "\"SET_INTERVAL\",\n"
    "   \"fields\": [{\"name\": \"mid\", \"offset\": 1, \"type\": \"uint16\", \"role\": "
    "\"mid\"},\n"
    "              {\"name\": \"errcode\", \"offset\": 3, \"type\": \"uint8\", \"role\": "
    "\"errcode\"},\n"
    "              {\"name\": \"result\", \"offset\": 4, \"type\": \"uint8\"}]}\n"
    " ]}\n";

static char err[256];

static struct codec_decl *create_ok(const char *doc)
{
	struct codec_decl *d = NULL;
	err[0] = 0;
	int rc = codec_decl_create(doc, strlen(doc), &d, err, sizeof(err));
	if (rc)
		fail_msg("layout refused (%d): %s\n%s", rc, err, doc);
	assert_non_null(d);
	return d;
}

/* Decodes and compares with the JSON text expect. */
static void decode_is(struct codec_decl *d, const uint8_t *p, size_t len, const char *expect)
{
	json_t *got = NULL;
	err[0] = 0;
	int rc = codec_decl_decode(d, p, len, &got, err, sizeof(err));
	if (rc)
		fail_msg("decode failed (%d): %s", rc, err);
	json_t *want = json_loads(expect, JSON_ALLOW_NUL, NULL);
	assert_non_null(want);
	if (!json_equal(got, want)) {
		char *s = json_dumps(got, JSON_SORT_KEYS);
		fail_msg("decoded %s\nexpected %s", s, expect);
	}
	json_decref(want);
	json_decref(got);
}

/* Decode must fail with rc and an error containing each of the NULL-terminated needles. */
static void decode_fails(struct codec_decl *d, const uint8_t *p, size_t len, int rc, ...)
{
	json_t *got = NULL;
	err[0] = 0;
	assert_int_equal(codec_decl_decode(d, p, len, &got, err, sizeof(err)), rc);
	assert_null(got);
	va_list ap;
	va_start(ap, rc);
	for (const char *needle; (needle = va_arg(ap, const char *)) != NULL;)
		if (!strstr(err, needle))
			fail_msg("error \"%s\" does not name \"%s\"", err, needle);
	va_end(ap);
}

static size_t encode_ok(struct codec_decl *d, const char *req, uint8_t *out, size_t cap)
{
	json_t *j = json_loads(req, 0, NULL);
	assert_non_null(j);
	size_t n = 0;
	err[0] = 0;
	int rc = codec_decl_encode(d, j, out, cap, &n, err, sizeof(err));
	if (rc)
		fail_msg("encode failed (%d): %s\n%s", rc, err, req);
	json_decref(j);
	return n;
}

static void encode_fails(struct codec_decl *d, const char *req, size_t cap, int rc,
			 const char *needle)
{
	json_t *j = json_loads(req, 0, NULL);
	assert_non_null(j);
	uint8_t out[CODEC_MAX_PAYLOAD];
	size_t n = 12345;
	err[0] = 0;
	assert_int_equal(codec_decl_encode(d, j, out, cap, &n, err, sizeof(err)), rc);
	assert_int_equal(n, 12345);
	if (!strstr(err, needle))
		fail_msg("error \"%s\" does not name \"%s\"", err, needle);
	json_decref(j);
}

static void test_water_meter(void **state)
{
	(void)state;
	struct codec_decl *d = create_ok(water_meter);
	static const uint8_t report[] = {0x00, 87, 0x00, 0x01, 0x86, 0xA0};
	decode_is(d, report, sizeof(report),
		  "{\"msgType\":\"deviceReq\",\"data\":[{\"serviceId\":\"WaterMeter\","
		  "\"serviceData\":{\"battery\":87,\"flow\":100000}}]}");
	/* Bytes after the last field are ignored. */
	static const uint8_t longer[] = {0x00, 1, 0xFF, 0xFF, 0xFF, 0xFF, 9, 9, 9};
	decode_is(d, longer, sizeof(longer),
		  "{\"msgType\":\"deviceReq\",\"data\":[{\"serviceId\":\"WaterMeter\","
		  "\"serviceData\":{\"battery\":1,\"flow\":4294967295}}]}");

	uint8_t out[16];
	size_t n = encode_ok(d,
			     "{\"msgType\":\"cloudReq\",\"serviceId\":\"WaterMeter\","
			     "\"cmd\":\"SET_INTERVAL\",\"paras\":{\"interval\":600},\"mid\":258}",
			     out, sizeof(out));
	static const uint8_t cmd[] = {0x01, 0x01, 0x02, 0x02, 0x58};
	assert_int_equal(n, sizeof(cmd));
	assert_memory_equal(out, cmd, sizeof(cmd));

	static const uint8_t rsp[] = {0x02, 0x01, 0x02, 0x00, 0x01};
	decode_is(d, rsp, sizeof(rsp),
		  "{\"msgType\":\"deviceRsp\",\"mid\":258,\"errcode\":0,\"body\":{\"result\":1}}");
	static const uint8_t rsp_err[] = {0x02, 0xFF, 0xFF, 0x07, 0x00};
	decode_is(
	    d, rsp_err, sizeof(rsp_err),
	    "{\"msgType\":\"deviceRsp\",\"mid\":65535,\"errcode\":7,\"body\":{\"result\":0}}");
	/* mid 0 cannot answer anything: the platform's mids are 1..65535. */
	static const uint8_t rsp_mid0[] = {0x02, 0x00, 0x00, 0x00, 0x01};
	decode_fails(d, rsp_mid0, sizeof(rsp_mid0), -EINVAL, "\"mid\"", "offset 1", NULL);
	codec_decl_destroy(d);
	codec_decl_destroy(NULL);
}

static void test_byte_orders(void **state)
{
	(void)state;
	struct codec_decl *d = create_ok(
	    "{\"byte_order\":\"little\",\"message_id\":{\"offset\":2,\"type\":\"uint16\"},"
	    "\"messages\":[{\"id\":513,\"kind\":\"report\",\"service_id\":\"S\",\"fields\":["
	    "{\"name\":\"le\",\"offset\":0,\"type\":\"uint16\"},"
	    "{\"name\":\"be\",\"offset\":4,\"type\":\"uint32\",\"byte_order\":\"big\"},"
	    "{\"name\":\"le32\",\"offset\":8,\"type\":\"int32\"}]},"
	    "{\"id\":258,\"kind\":\"command\",\"service_id\":\"S\",\"command\":\"C\",\"fields\":["
	    "{\"name\":\"m\",\"offset\":0,\"type\":\"uint16\",\"role\":\"mid\",\"byte_order\":"
	    "\"big\"},"
	    "{\"name\":\"v\",\"offset\":4,\"type\":\"int16\"}]}]}");
	static const uint8_t p[] = {0x34, 0x12, 0x01, 0x02, 0x11, 0x22,
				    0x33, 0x44, 0xFE, 0xFF, 0xFF, 0xFF};
	decode_is(d, p, sizeof(p),
		  "{\"msgType\":\"deviceReq\",\"data\":[{\"serviceId\":\"S\",\"serviceData\":"
		  "{\"le\":4660,\"be\":287454020,\"le32\":-2}}]}");
	/* The same bytes with the id in the other order are not message 513. */
	static const uint8_t q[] = {0, 0, 0x02, 0x02};
	decode_fails(d, q, sizeof(q), -EINVAL, "unknown message id 514", NULL);
	uint8_t out[8];
	size_t n =
	    encode_ok(d, "{\"serviceId\":\"S\",\"cmd\":\"C\",\"paras\":{\"v\":-3},\"mid\":5}", out,
		      sizeof(out));
	static const uint8_t cmd[] = {0x00, 0x05, 0x02, 0x01, 0xFD, 0xFF};
	assert_int_equal(n, sizeof(cmd));
	assert_memory_equal(out, cmd, sizeof(cmd));
	codec_decl_destroy(d);
}

/* Every integer type at its extremes, both ways (a command and a report of one layout). */
static const char all_ints[] =
    "{\"message_id\":{\"offset\":0,\"type\":\"int8\"},\"messages\":["
    "{\"id\":-128,\"kind\":\"report\",\"service_id\":\"S\",\"fields\":["
    "{\"name\":\"i8\",\"offset\":1,\"type\":\"int8\"},"
    "{\"name\":\"u8\",\"offset\":2,\"type\":\"uint8\"},"
    "{\"name\":\"i16\",\"offset\":3,\"type\":\"int16\"},"
    "{\"name\":\"u16\",\"offset\":5,\"type\":\"uint16\"},"
    "{\"name\":\"i32\",\"offset\":7,\"type\":\"int32\"},"
    "{\"name\":\"u32\",\"offset\":11,\"type\":\"uint32\"}]},"
    "{\"id\":127,\"kind\":\"command\",\"service_id\":\"S\",\"command\":\"C\",\"fields\":["
    "{\"name\":\"i8\",\"offset\":1,\"type\":\"int8\"},"
    "{\"name\":\"u8\",\"offset\":2,\"type\":\"uint8\"},"
    "{\"name\":\"i16\",\"offset\":3,\"type\":\"int16\"},"
    "{\"name\":\"u16\",\"offset\":5,\"type\":\"uint16\"},"
    "{\"name\":\"i32\",\"offset\":7,\"type\":\"int32\"},"
    "{\"name\":\"u32\",\"offset\":11,\"type\":\"uint32\"},"
    "{\"name\":\"m\",\"offset\":15,\"type\":\"uint8\",\"role\":\"mid\"}]}]}";

static void test_signed_values(void **state)
{
	(void)state;
	struct codec_decl *d = create_ok(all_ints);
	static const uint8_t lo[] = {0x80, 0x80, 0x00, 0x80, 0x00, 0x00, 0x00, 0x80,
				     0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
	decode_is(
	    d, lo, sizeof(lo),
	    "{\"msgType\":\"deviceReq\",\"data\":[{\"serviceId\":\"S\",\"serviceData\":"
	    "{\"i8\":-128,\"u8\":0,\"i16\":-32768,\"u16\":0,\"i32\":-2147483648,\"u32\":0}}]}");
	static const uint8_t hi[] = {0x80, 0x7F, 0xFF, 0x7F, 0xFF, 0xFF, 0xFF, 0x7F,
				     0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
	decode_is(d, hi, sizeof(hi),
		  "{\"msgType\":\"deviceReq\",\"data\":[{\"serviceId\":\"S\",\"serviceData\":"
		  "{\"i8\":127,\"u8\":255,\"i16\":32767,\"u16\":65535,\"i32\":2147483647,"
		  "\"u32\":4294967295}}]}");
	static const uint8_t minus1[] = {0x80, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
					 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
	decode_is(d, minus1, sizeof(minus1),
		  "{\"msgType\":\"deviceReq\",\"data\":[{\"serviceId\":\"S\",\"serviceData\":"
		  "{\"i8\":-1,\"u8\":255,\"i16\":-1,\"u16\":65535,\"i32\":-1,"
		  "\"u32\":4294967295}}]}");

	uint8_t out[32];
	size_t n = encode_ok(d,
			     "{\"serviceId\":\"S\",\"cmd\":\"C\",\"mid\":9,\"paras\":{\"i8\":-128,"
			     "\"u8\":255,\"i16\":-32768,\"u16\":65535,\"i32\":-2147483648,"
			     "\"u32\":4294967295}}",
			     out, sizeof(out));
	static const uint8_t cmd[] = {0x7F, 0x80, 0xFF, 0x80, 0x00, 0xFF, 0xFF, 0x80,
				      0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0x09};
	assert_int_equal(n, sizeof(cmd));
	assert_memory_equal(out, cmd, sizeof(cmd));

	/* One past each end of each type, named by the para. */
	static const struct {
		const char *name;
		long long bad;
	} over[] = {
	    {"i8", -129},	    {"i8", 128},	   {"u8", -1},	{"u8", 256},
	    {"i16", -32769},	    {"i16", 32768},	   {"u16", -1}, {"u16", 65536},
	    {"i32", -2147483649LL}, {"i32", 2147483648LL}, {"u32", -1}, {"u32", 4294967296LL},
	};
	for (size_t i = 0; i < sizeof(over) / sizeof(over[0]); i++) {
		json_t *req = json_pack("{s:s, s:s, s:i, s:{s:i, s:i, s:i, s:i, s:i, s:i}}",
					"serviceId", "S", "cmd", "C", "mid", 1, "paras", "i8", 0,
					"u8", 0, "i16", 0, "u16", 0, "i32", 0, "u32", 0);
		json_object_set_new(json_object_get(req, "paras"), over[i].name,
				    json_integer(over[i].bad));
		char *s = json_dumps(req, 0);
		char needle[64];
		snprintf(needle, sizeof(needle), "para \"%s\": %lld is out of range", over[i].name,
			 over[i].bad);
		encode_fails(d, s, sizeof(out), -EINVAL, needle);
		free(s);
		json_decref(req);
	}
	/* The mid must fit its field too. */
	encode_fails(d,
		     "{\"serviceId\":\"S\",\"cmd\":\"C\",\"mid\":256,\"paras\":{\"i8\":0,\"u8\":0,"
		     "\"i16\":0,\"u16\":0,\"i32\":0,\"u32\":0}}",
		     sizeof(out), -EINVAL, "\"mid\" (field \"m\"): 256 is out of range for uint8");
	codec_decl_destroy(d);
}

static const char floats[] =
    "{\"message_id\":{\"offset\":0,\"type\":\"uint8\"},\"messages\":["
    "{\"id\":1,\"kind\":\"report\",\"service_id\":\"S\",\"fields\":["
    "{\"name\":\"f\",\"offset\":1,\"type\":\"float\"},"
    "{\"name\":\"d\",\"offset\":5,\"type\":\"double\"},"
    "{\"name\":\"fl\",\"offset\":13,\"type\":\"float\",\"byte_order\":\"little\"}]},"
    "{\"id\":2,\"kind\":\"command\",\"service_id\":\"S\",\"command\":\"C\",\"fields\":["
    "{\"name\":\"f\",\"offset\":1,\"type\":\"float\"},"
    "{\"name\":\"d\",\"offset\":5,\"type\":\"double\",\"byte_order\":\"little\"},"
    "{\"name\":\"m\",\"offset\":13,\"type\":\"uint16\",\"role\":\"mid\"}]}]}";

static void test_float_double(void **state)
{
	(void)state;
	struct codec_decl *d = create_ok(floats);
	static const uint8_t p[] = {1,	  0x3F, 0xC0, 0x00, 0x00, 0x3F, 0xB9, 0x99, 0x99,
				    0x99, 0x99, 0x99, 0x9A, 0x00, 0x00, 0x20, 0xC1};
	decode_is(d, p, sizeof(p),
		  "{\"msgType\":\"deviceReq\",\"data\":[{\"serviceId\":\"S\",\"serviceData\":"
		  "{\"f\":1.5,\"d\":0.1,\"fl\":-10.0}}]}");
	/* NaN and infinities have no JSON form: they decode as null. */
	static const uint8_t nan[] = {1,    0x7F, 0xC0, 0x00, 0x00, 0xFF, 0xF0, 0x00, 0x00,
				      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80, 0x7F};
	decode_is(d, nan, sizeof(nan),
		  "{\"msgType\":\"deviceReq\",\"data\":[{\"serviceId\":\"S\",\"serviceData\":"
		  "{\"f\":null,\"d\":null,\"fl\":null}}]}");

	uint8_t out[32];
	size_t n = encode_ok(d,
			     "{\"serviceId\":\"S\",\"cmd\":\"C\",\"mid\":3,"
			     "\"paras\":{\"f\":-2.25,\"d\":1}}",
			     out, sizeof(out));
	static const uint8_t cmd[] = {2,    0xC0, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00,
				      0x00, 0x00, 0x00, 0xF0, 0x3F, 0x00, 0x03};
	assert_int_equal(n, sizeof(cmd));
	assert_memory_equal(out, cmd, sizeof(cmd));
	encode_fails(d,
		     "{\"serviceId\":\"S\",\"cmd\":\"C\",\"mid\":3,\"paras\":{\"f\":1e39,\"d\":1}}",
		     sizeof(out), -EINVAL, "para \"f\": 1e+39 is out of range for float");
	encode_fails(
	    d, "{\"serviceId\":\"S\",\"cmd\":\"C\",\"mid\":3,\"paras\":{\"f\":\"1\",\"d\":1}}",
	    sizeof(out), -EINVAL, "para \"f\": float needs a number, not a string");
	/* A double takes any JSON number, and 1e300 does not fit a float. */
	encode_ok(
	    d, "{\"serviceId\":\"S\",\"cmd\":\"C\",\"mid\":3,\"paras\":{\"f\":3.4e38,\"d\":1e300}}",
	    out, sizeof(out));
	codec_decl_destroy(d);
}

static const char strings[] =
    "{\"message_id\":{\"offset\":0,\"type\":\"uint8\"},\"messages\":["
    "{\"id\":1,\"kind\":\"report\",\"service_id\":\"S\",\"fields\":["
    "{\"name\":\"fixed\",\"offset\":1,\"type\":\"string\",\"length\":6},"
    "{\"name\":\"n\",\"offset\":7,\"type\":\"uint8\"},"
    "{\"name\":\"var\",\"offset\":8,\"type\":\"varstring\",\"length_field\":\"n\"}]},"
    "{\"id\":2,\"kind\":\"report\",\"service_id\":\"S\",\"fields\":["
    "{\"name\":\"tail\",\"offset\":1,\"type\":\"varstring\",\"length\":\"rest\"}]},"
    "{\"id\":3,\"kind\":\"report\",\"service_id\":\"S\",\"fields\":["
    "{\"name\":\"len\",\"offset\":1,\"type\":\"int8\"},"
    "{\"name\":\"s\",\"offset\":2,\"type\":\"varstring\",\"length_field\":\"len\"}]},"
    "{\"id\":4,\"kind\":\"command\",\"service_id\":\"S\",\"command\":\"C\",\"fields\":["
    "{\"name\":\"m\",\"offset\":1,\"type\":\"uint16\",\"role\":\"mid\"},"
    "{\"name\":\"fixed\",\"offset\":3,\"type\":\"string\",\"length\":4,\"default\":\"ab\"},"
    "{\"name\":\"n\",\"offset\":7,\"type\":\"uint8\"},"
    "{\"name\":\"var\",\"offset\":8,\"type\":\"varstring\",\"length_field\":\"n\"}]},"
    "{\"id\":5,\"kind\":\"command\",\"service_id\":\"S\",\"command\":\"R\",\"fields\":["
    "{\"name\":\"m\",\"offset\":1,\"type\":\"uint16\",\"role\":\"mid\"},"
    "{\"name\":\"tail\",\"offset\":3,\"type\":\"varstring\",\"length\":\"rest\"}]}]}";

static void test_strings(void **state)
{
	(void)state;
	struct codec_decl *d = create_ok(strings);
	static const uint8_t p[] = {1, 'a', 'b', 'c', 0, 0, 0, 3, 'x', 'y', 'z', '!'};
	decode_is(d, p, sizeof(p),
		  "{\"msgType\":\"deviceReq\",\"data\":[{\"serviceId\":\"S\",\"serviceData\":"
		  "{\"fixed\":\"abc\",\"n\":3,\"var\":\"xyz\"}}]}");
	/* Only trailing NULs go; a full field has none. */
	static const uint8_t full[] = {1, 'a', 0, 'c', 'd', 'e', 'f', 0};
	decode_is(d, full, sizeof(full),
		  "{\"msgType\":\"deviceReq\",\"data\":[{\"serviceId\":\"S\",\"serviceData\":"
		  "{\"fixed\":\"a\\u0000cdef\",\"n\":0,\"var\":\"\"}}]}");
	static const uint8_t rest[] = {2, 'h', 'e', 'l', 'l', 'o'};
	decode_is(d, rest, sizeof(rest),
		  "{\"msgType\":\"deviceReq\",\"data\":[{\"serviceId\":\"S\",\"serviceData\":"
		  "{\"tail\":\"hello\"}}]}");
	decode_is(d, rest, 1,
		  "{\"msgType\":\"deviceReq\",\"data\":[{\"serviceId\":\"S\",\"serviceData\":"
		  "{\"tail\":\"\"}}]}");
	static const uint8_t utf8[] = {2, 0xC3, 0xA9};
	decode_is(d, utf8, sizeof(utf8),
		  "{\"msgType\":\"deviceReq\",\"data\":[{\"serviceId\":\"S\",\"serviceData\":"
		  "{\"tail\":\"\\u00e9\"}}]}");
	static const uint8_t bad_utf8[] = {2, 'a', 0xC3};
	decode_fails(d, bad_utf8, sizeof(bad_utf8), -EINVAL, "\"tail\"", "offset 1", "UTF-8", NULL);
	/* A length that lies, and one that is negative. */
	static const uint8_t lies[] = {1, 'a', 'b', 'c', 0, 0, 0, 5, 'x', 'y', 'z'};
	decode_fails(d, lies, sizeof(lies), -EINVAL, "\"var\"", "offset 8", "needs 5 bytes", NULL);
	static const uint8_t neg[] = {3, 0xFF, 'a'};
	decode_fails(d, neg, sizeof(neg), -EINVAL, "\"s\"", "-1", "\"len\"", NULL);

	uint8_t out[64];
	size_t n = encode_ok(d,
			     "{\"serviceId\":\"S\",\"cmd\":\"C\",\"mid\":1,"
			     "\"paras\":{\"fixed\":\"hi\",\"var\":\"hello\"}}",
			     out, sizeof(out));
	static const uint8_t cmd[] = {4, 0, 1, 'h', 'i', 0, 0, 5, 'h', 'e', 'l', 'l', 'o'};
	assert_int_equal(n, sizeof(cmd));
	assert_memory_equal(out, cmd, sizeof(cmd));
	/* The default, a full string, an empty varstring; a given length is overridden. */
	n = encode_ok(d,
		      "{\"serviceId\":\"S\",\"cmd\":\"C\",\"mid\":1,\"paras\":{\"var\":\"\","
		      "\"n\":99}}",
		      out, sizeof(out));
	static const uint8_t cmd2[] = {4, 0, 1, 'a', 'b', 0, 0, 0};
	assert_int_equal(n, sizeof(cmd2));
	assert_memory_equal(out, cmd2, sizeof(cmd2));
	n = encode_ok(d,
		      "{\"serviceId\":\"S\",\"cmd\":\"R\",\"mid\":2,\"paras\":{\"tail\":\"xy\"}}",
		      out, sizeof(out));
	static const uint8_t cmd3[] = {5, 0, 2, 'x', 'y'};
	assert_int_equal(n, sizeof(cmd3));
	assert_memory_equal(out, cmd3, sizeof(cmd3));
	encode_fails(d,
		     "{\"serviceId\":\"S\",\"cmd\":\"C\",\"mid\":1,"
		     "\"paras\":{\"fixed\":\"hello\",\"var\":\"\"}}",
		     sizeof(out), -EINVAL, "para \"fixed\": 5 bytes do not fit the 4-byte string");
	encode_fails(d, "{\"serviceId\":\"S\",\"cmd\":\"C\",\"mid\":1,\"paras\":{\"var\":7}}",
		     sizeof(out), -EINVAL,
		     "para \"var\": varstring needs a string, not an integer");
	/* 256 bytes do not fit the uint8 length field. */
	char big[400];
	memset(big, 'x', 256);
	big[256] = 0;
	char req[600];
	snprintf(req, sizeof(req),
		 "{\"serviceId\":\"S\",\"cmd\":\"C\",\"mid\":1,\"paras\":{\"var\":\"%s\"}}", big);
	encode_fails(d, req, sizeof(out), -EINVAL, "length field \"n\"");
	codec_decl_destroy(d);
}

static const char bytes_layout[] =
    "{\"message_id\":{\"offset\":0,\"type\":\"uint8\"},\"messages\":["
    "{\"id\":1,\"kind\":\"report\",\"service_id\":\"S\",\"fields\":["
    "{\"name\":\"mac\",\"offset\":1,\"type\":\"bytes\",\"length\":3},"
    "{\"name\":\"blob\",\"offset\":4,\"type\":\"bytes\",\"length\":\"rest\"}]},"
    "{\"id\":2,\"kind\":\"command\",\"service_id\":\"S\",\"command\":\"C\",\"fields\":["
    "{\"name\":\"m\",\"offset\":1,\"type\":\"uint16\",\"role\":\"mid\"},"
    "{\"name\":\"key\",\"offset\":3,\"type\":\"bytes\",\"length\":2},"
    "{\"name\":\"blob\",\"offset\":5,\"type\":\"bytes\",\"length\":\"rest\"}]}]}";

static void test_bytes(void **state)
{
	(void)state;
	struct codec_decl *d = create_ok(bytes_layout);
	static const uint8_t p[] = {1, 0x00, 0xAB, 0xFF, 0x01, 0x9C};
	decode_is(d, p, sizeof(p),
		  "{\"msgType\":\"deviceReq\",\"data\":[{\"serviceId\":\"S\",\"serviceData\":"
		  "{\"mac\":\"00ABFF\",\"blob\":\"019C\"}}]}");
	decode_is(d, p, 4,
		  "{\"msgType\":\"deviceReq\",\"data\":[{\"serviceId\":\"S\",\"serviceData\":"
		  "{\"mac\":\"00ABFF\",\"blob\":\"\"}}]}");
	uint8_t out[16];
	size_t n = encode_ok(d,
			     "{\"serviceId\":\"S\",\"cmd\":\"C\",\"mid\":1,"
			     "\"paras\":{\"key\":\"beEF\",\"blob\":\"00ff10\"}}",
			     out, sizeof(out));
	static const uint8_t cmd[] = {2, 0, 1, 0xBE, 0xEF, 0x00, 0xFF, 0x10};
	assert_int_equal(n, sizeof(cmd));
	assert_memory_equal(out, cmd, sizeof(cmd));
	encode_fails(d,
		     "{\"serviceId\":\"S\",\"cmd\":\"C\",\"mid\":1,"
		     "\"paras\":{\"key\":\"BEEF00\",\"blob\":\"\"}}",
		     sizeof(out), -EINVAL, "para \"key\": 3 bytes, the field has 2");
	encode_fails(d,
		     "{\"serviceId\":\"S\",\"cmd\":\"C\",\"mid\":1,"
		     "\"paras\":{\"key\":\"BEEF\",\"blob\":\"ABC\"}}",
		     sizeof(out), -EINVAL, "para \"blob\": odd number of hex digits");
	encode_fails(d,
		     "{\"serviceId\":\"S\",\"cmd\":\"C\",\"mid\":1,"
		     "\"paras\":{\"key\":\"BEEG\",\"blob\":\"\"}}",
		     sizeof(out), -EINVAL, "para \"key\": not a hex digit at 3");
	codec_decl_destroy(d);
}

/* The layout checks: each document must be refused with an error containing the text. */
static void test_layout_errors(void **state)
{
	(void)state;
#define HEAD "{\"message_id\":{\"offset\":0,\"type\":\"uint8\"},\"messages\":["
#define REPORT(fields) "{\"id\":1,\"kind\":\"report\",\"service_id\":\"S\",\"fields\":[" fields "]}"
#define COMMAND(id, fields)                                                                        \
	"{\"id\":" #id ",\"kind\":\"command\",\"service_id\":\"S\",\"command\":\"C\","             \
	"\"fields\":[" fields "]}"
#define MID "{\"name\":\"m\",\"offset\":1,\"type\":\"uint16\",\"role\":\"mid\"}"
	static const struct {
		const char *doc;
		const char *error;
	} cases[] = {
	    {"", "not JSON"},
	    {"{\"messages\":[", "not JSON"},
	    {"[]", "layout: must be a JSON object"},
	    {"{\"message_id\":{\"offset\":0,\"type\":\"uint8\"},\"message_id\":{}}", "not JSON"},
	    {"{\"byte_order\":\"big\",\"mesages\":[]}", "layout: unknown key \"mesages\""},
	    {"{\"byte_order\":\"middle\"}", "layout: \"byte_order\" must be"},
	    {"{\"messages\":[]}", "message_id: must be an object"},
	    {"{\"message_id\":{\"offset\":0,\"type\":\"float\"}}",
	     "message_id: type float is not an integer type"},
	    {"{\"message_id\":{\"offset\":1023,\"type\":\"uint16\"}}",
	     "message_id: offset 1023 goes past 1024"},
	    {"{\"message_id\":{\"offset\":-1,\"type\":\"uint8\"}}",
	     "message_id: \"offset\" -1 is not in 0..1024"},
	    {"{\"message_id\":{\"type\":\"uint8\"}}", "message_id: \"offset\" is missing"},
	    {"{\"message_id\":{\"offset\":0,\"type\":\"uint8\",\"x\":1}}",
	     "message_id: unknown key \"x\""},
	    {HEAD "]}", "messages: must be an array of 1..256"},
	    {HEAD "7]}", "messages[0]: must be an object"},
	    {HEAD "{\"id\":1,\"kind\":\"event\",\"service_id\":\"S\",\"fields\":[]}]}",
	     "messages[0]: unknown kind \"event\""},
	    {HEAD "{\"id\":1,\"service_id\":\"S\",\"fields\":[]}]}", "messages[0]: \"kind\""},
	    {HEAD "{\"id\":256,\"kind\":\"report\",\"service_id\":\"S\",\"fields\":[]}]}",
	     "messages[0]: id 256 is out of range for uint8 (0..255)"},
	    {HEAD "{\"id\":-1,\"kind\":\"report\",\"service_id\":\"S\",\"fields\":[]}]}",
	     "messages[0]: id -1 is out of range for uint8"},
	    {HEAD "{\"id\":\"1\",\"kind\":\"report\",\"service_id\":\"S\",\"fields\":[]}]}",
	     "messages[0]: \"id\" must be an integer"},
	    {HEAD "{\"id\":1,\"kind\":\"report\",\"fields\":[]}]}",
	     "messages[0]: \"service_id\" is missing"},
	    {HEAD "{\"id\":1,\"kind\":\"report\",\"service_id\":\"\",\"fields\":[]}]}",
	     "messages[0]: \"service_id\" must have 1..64 bytes"},
	    {HEAD "{\"id\":1,\"kind\":\"report\",\"service_id\":\"S\",\"fields\":[],\"x\":0}]}",
	     "messages[0]: unknown key \"x\""},
	    {HEAD "{\"id\":1,\"kind\":\"report\",\"service_id\":\"S\",\"command\":\"C\","
		  "\"fields\":[]}]}",
	     "messages[0]: a report has no \"command\""},
	    {HEAD "{\"id\":1,\"kind\":\"command\",\"service_id\":\"S\",\"fields\":[" MID "]}]}",
	     "messages[0]: \"command\" is missing"},
	    {HEAD "{\"id\":1,\"kind\":\"report\",\"service_id\":\"S\"}]}",
	     "messages[0]: \"fields\" must be an array"},
	    {HEAD REPORT("") "," REPORT("") "]}",
	     "messages[1]: duplicate message id 1 (messages[0])"},
	    {HEAD COMMAND(1, MID) "," COMMAND(2, MID) "]}",
	     "messages[1]: command \"C\" of service \"S\" is also messages[0]"},
	    {HEAD REPORT("{\"name\":\"a\",\"offset\":1,\"type\":\"uint12\"}") "]}",
	     "messages[0].fields[0]: unknown type \"uint12\""},
	    {HEAD REPORT("{\"name\":\"a\",\"offset\":1,\"type\":\"uint8\"},"
			 "{\"name\":\"a\",\"offset\":2,\"type\":\"uint8\"}") "]}",
	     "messages[0].fields[1]: duplicate field name \"a\""},
	    {HEAD REPORT("{\"name\":\"a\",\"offset\":1,\"type\":\"uint8\",\"size\":1}") "]}",
	     "messages[0].fields[0]: unknown key \"size\""},
	    {HEAD REPORT("{\"offset\":1,\"type\":\"uint8\"}") "]}",
	     "messages[0].fields[0]: \"name\" is missing"},
	    {HEAD REPORT("{\"name\":\"a\",\"type\":\"uint8\"}") "]}",
	     "messages[0].fields[0]: \"offset\" is missing"},
	    {HEAD REPORT("{\"name\":\"a\",\"offset\":1}") "]}",
	     "messages[0].fields[0]: \"type\" is missing"},
	    {HEAD REPORT("{\"name\":\"a\",\"offset\":1.5,\"type\":\"uint8\"}") "]}",
	     "messages[0].fields[0]: \"offset\" must be an integer"},
	    {HEAD REPORT("{\"name\":\"a\",\"offset\":1025,\"type\":\"uint8\"}") "]}",
	     "messages[0].fields[0]: \"offset\" 1025 is not in 0..1024"},
	    {HEAD REPORT("{\"name\":\"a\",\"offset\":1021,\"type\":\"uint32\"}") "]}",
	     "messages[0].fields[0]: offset 1021 + 4 bytes goes past 1024"},
	    {HEAD REPORT("{\"name\":\"a\",\"offset\":1000,\"type\":\"string\",\"length\":25}") "]}",
	     "messages[0].fields[0]: \"length\" 25 at offset 1000 goes past 1024"},
	    {HEAD REPORT("{\"name\":\"a\",\"offset\":1,\"type\":\"bytes\",\"length\":0}") "]}",
	     "messages[0].fields[0]: \"length\" 0"},
	    {HEAD REPORT("{\"name\":\"a\",\"offset\":1,\"type\":\"string\"}") "]}",
	     "messages[0].fields[0]: string needs \"length\""},
	    {HEAD REPORT(
		 "{\"name\":\"a\",\"offset\":1,\"type\":\"string\",\"length\":\"rest\"}") "]}",
	     "messages[0].fields[0]: a string has a fixed \"length\""},
	    {HEAD REPORT("{\"name\":\"a\",\"offset\":1,\"type\":\"uint8\",\"length\":1}") "]}",
	     "messages[0].fields[0]: uint8 has a fixed size"},
	    {HEAD REPORT("{\"name\":\"a\",\"offset\":1,\"type\":\"varstring\"}") "]}",
	     "messages[0].fields[0]: a varstring needs \"length_field\""},
	    {HEAD REPORT("{\"name\":\"a\",\"offset\":1,\"type\":\"varstring\",\"length\":3}") "]}",
	     "messages[0].fields[0]: a varstring's \"length\" can only be \"rest\""},
	    {HEAD REPORT("{\"name\":\"n\",\"offset\":1,\"type\":\"uint8\"},"
			 "{\"name\":\"a\",\"offset\":2,\"type\":\"varstring\","
			 "\"length\":\"rest\",\"length_field\":\"n\"}") "]}",
	     "messages[0].fields[1]: \"length_field\" and \"length\":\"rest\""},
	    {HEAD REPORT("{\"name\":\"a\",\"offset\":1,\"type\":\"string\",\"length\":2,"
			 "\"length_field\":\"n\"}") "]}",
	     "messages[0].fields[0]: only a varstring has a \"length_field\""},
	    {HEAD REPORT("{\"name\":\"a\",\"offset\":2,\"type\":\"varstring\","
			 "\"length_field\":\"n\"},"
			 "{\"name\":\"n\",\"offset\":1,\"type\":\"uint8\"}") "]}",
	     "messages[0].fields[0]: \"length_field\" must name an earlier field"},
	    {HEAD REPORT("{\"name\":\"n\",\"offset\":1,\"type\":\"string\",\"length\":1},"
			 "{\"name\":\"a\",\"offset\":2,\"type\":\"varstring\","
			 "\"length_field\":\"n\"}") "]}",
	     "messages[0].fields[1]: \"length_field\" \"n\" must be an integer field"},
	    {HEAD REPORT("{\"name\":\"a\",\"offset\":1,\"type\":\"varstring\","
			 "\"length\":\"rest\"},"
			 "{\"name\":\"b\",\"offset\":4,\"type\":\"uint8\"}") "]}",
	     "messages[0].fields[1]: \"b\" overlaps field \"a\" (a variable-length field"},
	    {HEAD REPORT("{\"name\":\"a\",\"offset\":1,\"type\":\"uint16\"},"
			 "{\"name\":\"b\",\"offset\":2,\"type\":\"uint8\"}") "]}",
	     "messages[0].fields[1]: \"b\" overlaps field \"a\""},
	    {HEAD REPORT("{\"name\":\"a\",\"offset\":0,\"type\":\"uint8\"}") "]}",
	     "messages[0].fields[0]: \"a\" overlaps the message id (offset 0, 1 bytes)"},
	    {HEAD REPORT("{\"name\":\"a\",\"offset\":1,\"type\":\"uint8\",\"byte_order\":\"big\","
			 "\"role\":\"mid\"}") "]}",
	     "messages[0].fields[0]: a report has no role:\"mid\""},
	    {HEAD COMMAND(1, "{\"name\":\"a\",\"offset\":1,\"type\":\"uint8\"}") "]}",
	     "messages[0]: a command needs one role:\"mid\" field"},
	    {HEAD "{\"id\":1,\"kind\":\"response\",\"service_id\":\"S\",\"fields\":[]}]}",
	     "messages[0]: a response needs one role:\"mid\" field"},
	    {HEAD COMMAND(1, MID ",{\"name\":\"b\",\"offset\":3,\"type\":\"uint8\","
				 "\"role\":\"mid\"}") "]}",
	     "messages[0].fields[1]: a second role:\"mid\" field"},
	    {HEAD COMMAND(1, MID ",{\"name\":\"b\",\"offset\":3,\"type\":\"uint8\","
				 "\"role\":\"errcode\"}") "]}",
	     "messages[0].fields[1]: only a response has a role:\"errcode\""},
	    {HEAD COMMAND(1, "{\"name\":\"m\",\"offset\":1,\"type\":\"string\",\"length\":2,"
			     "\"role\":\"mid\"}") "]}",
	     "messages[0].fields[0]: a role:\"mid\" field must be an integer"},
	    {HEAD COMMAND(1, MID ",{\"name\":\"b\",\"offset\":3,\"type\":\"uint8\","
				 "\"role\":\"owner\"}") "]}",
	     "messages[0].fields[1]: \"role\" must be \"mid\" or \"errcode\""},
	    {HEAD COMMAND(1, MID ",{\"name\":\"b\",\"offset\":3,\"type\":\"string\","
				 "\"length\":2,\"byte_order\":\"little\"}") "]}",
	     "messages[0].fields[1]: \"byte_order\" has no meaning for string"},
	    {HEAD COMMAND(1, MID ",{\"name\":\"b\",\"offset\":3,\"type\":\"uint8\","
				 "\"default\":300}") "]}",
	     "messages[0].fields[1]: \"default\": 300 is out of range for uint8"},
	    {HEAD COMMAND(1, MID ",{\"name\":\"b\",\"offset\":3,\"type\":\"uint8\","
				 "\"default\":\"3\"}") "]}",
	     "messages[0].fields[1]: \"default\": uint8 needs an integer, not a string"},
	    {HEAD REPORT("{\"name\":\"b\",\"offset\":3,\"type\":\"uint8\",\"default\":3}") "]}",
	     "messages[0].fields[0]: \"default\" only for a command's fields"},
	    {HEAD "{\"id\":1,\"kind\":\"report\",\"service_id\":\"S\",\"fields\":[7]}]}",
	     "messages[0].fields[0]: must be an object"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct codec_decl *d = (struct codec_decl *)&d; /* must stay untouched or NULL */
		err[0] = 0;
		int rc =
		    codec_decl_create(cases[i].doc, strlen(cases[i].doc), &d, err, sizeof(err));
		if (rc != -EINVAL || d != NULL || !strstr(err, cases[i].error))
			fail_msg("case %zu: rc %d, error \"%s\", expected \"%s\"\n%s", i, rc, err,
				 cases[i].error, cases[i].doc);
	}
	/* And the ones a valid layout is made of, so the cases above fail for their reason. */
	codec_decl_destroy(create_ok(HEAD REPORT("") "]}"));
	codec_decl_destroy(create_ok(HEAD COMMAND(1, MID) "]}"));
	codec_decl_destroy(
	    create_ok(HEAD REPORT("{\"name\":\"a\",\"offset\":1021,\"type\":\"uint16\"},"
				  "{\"name\":\"b\",\"offset\":1023,\"type\":\"uint8\"},"
				  "{\"name\":\"c\",\"offset\":1024,\"type\":\"bytes\","
				  "\"length\":\"rest\"}") "]}"));
	/* 257 messages are too many. */
	const size_t size = 64 * 300;
	char *doc = malloc(size);
	assert_non_null(doc);
	size_t n = (size_t)snprintf(doc, size,
				    "{\"message_id\":{\"offset\":0,\"type\":\"uint16\"},"
				    "\"messages\":[");
	for (int i = 0; i < 257; i++)
		n += (size_t)snprintf(doc + n, size - n,
				      "%s{\"id\":%d,\"kind\":\"report\",\"service_id\":\"S\","
				      "\"fields\":[]}",
				      i ? "," : "", i);
	assert_true(n + 3 < size);
	memcpy(doc + n, "]}", 3);
	struct codec_decl *d = NULL;
	assert_int_equal(codec_decl_create(doc, strlen(doc), &d, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "messages: must be an array of 1..256"));
	free(doc);
	/* The length is what counts, not a NUL: the document ends where len says. */
	const char *two = HEAD REPORT("") "]}garbage";
	assert_int_equal(codec_decl_create(two, strlen(two) - 7, &d, err, sizeof(err)), 0);
	codec_decl_destroy(d);
	assert_int_equal(codec_decl_create(two, strlen(two), &d, err, sizeof(err)), -EINVAL);
#undef HEAD
#undef REPORT
#undef COMMAND
#undef MID
}

/* A payload cut short anywhere: before the id, or inside any field. */
static void test_truncated(void **state)
{
	(void)state;
	struct codec_decl *d = create_ok(water_meter);
	static const uint8_t report[] = {0x00, 87, 0x00, 0x01, 0x86, 0xA0};
	decode_fails(d, report, 0, -EINVAL, "ends before the message id (offset 0, 1 bytes)", NULL);
	decode_fails(d, NULL, 0, -EINVAL, "message id", NULL);
	decode_fails(d, report, 1, -EINVAL, "\"battery\" at offset 1 needs 1 bytes", NULL);
	for (size_t len = 2; len < sizeof(report); len++)
		decode_fails(d, report, len, -EINVAL, "message 0: field \"flow\" at offset 2",
			     "needs 4 bytes", NULL);
	static const uint8_t rsp[] = {0x02, 0x01, 0x02, 0x00, 0x01};
	static const char *const rsp_fields[] = {"\"mid\" at offset 1", "\"mid\" at offset 1",
						 "\"mid\" at offset 1", "\"errcode\" at offset 3",
						 "\"result\" at offset 4"};
	for (size_t len = 1; len < sizeof(rsp); len++)
		decode_fails(d, rsp, len, -EINVAL, rsp_fields[len], NULL);
	codec_decl_destroy(d);

	d = create_ok(strings);
	static const uint8_t p[] = {1, 'a', 'b', 'c', 0, 0, 0, 3, 'x', 'y', 'z'};
	for (size_t len = 1; len < sizeof(p); len++)
		decode_fails(d, p, len, -EINVAL,
			     len < 7   ? "\"fixed\" at offset 1"
			     : len < 8 ? "\"n\""
				       : "\"var\"",
			     NULL);
	codec_decl_destroy(d);

	/* An id at an offset past the other fields: the id is checked first. */
	d = create_ok(
	    "{\"message_id\":{\"offset\":4,\"type\":\"uint16\",\"byte_order\":\"little\"},"
	    "\"messages\":[{\"id\":7,\"kind\":\"report\",\"service_id\":\"S\",\"fields\":"
	    "[{\"name\":\"a\",\"offset\":0,\"type\":\"int32\"}]}]}");
	static const uint8_t q[] = {0, 0, 0, 5, 7, 0};
	decode_is(d, q, sizeof(q),
		  "{\"msgType\":\"deviceReq\",\"data\":[{\"serviceId\":\"S\",\"serviceData\":"
		  "{\"a\":5}}]}");
	for (size_t len = 0; len < sizeof(q); len++)
		decode_fails(d, q, len, -EINVAL, "ends before the message id (offset 4, 2 bytes)",
			     NULL);
	uint8_t big[CODEC_MAX_PAYLOAD + 1] = {0};
	decode_fails(d, big, sizeof(big), -EINVAL, "over 1024", NULL);
	codec_decl_destroy(d);
}

static void test_unknown_ids(void **state)
{
	(void)state;
	struct codec_decl *d = create_ok(water_meter);
	for (unsigned id = 3; id < 256; id++) {
		uint8_t p[8] = {(uint8_t)id, 1, 2, 3, 4, 5, 6, 7};
		char needle[48];
		snprintf(needle, sizeof(needle), "unknown message id %u (at offset 0)", id);
		decode_fails(d, p, sizeof(p), -EINVAL, needle, NULL);
	}
	/* A command goes to the device; a device sending one is an error, not a report. */
	static const uint8_t cmd[] = {0x01, 0x01, 0x02, 0x02, 0x58};
	decode_fails(d, cmd, sizeof(cmd), -EINVAL, "message id 1 is a command", NULL);
	codec_decl_destroy(d);
}

static void test_encode_errors(void **state)
{
	(void)state;
	struct codec_decl *d = create_ok(water_meter);
	uint8_t out[16];
	encode_fails(d, "{\"serviceId\":\"Gas\",\"cmd\":\"SET_INTERVAL\",\"paras\":{},\"mid\":1}",
		     sizeof(out), -EINVAL, "no command \"SET_INTERVAL\" of service \"Gas\"");
	encode_fails(d, "{\"serviceId\":\"WaterMeter\",\"cmd\":\"RESET\",\"paras\":{},\"mid\":1}",
		     sizeof(out), -EINVAL, "no command \"RESET\" of service \"WaterMeter\"");
	encode_fails(
	    d, "{\"serviceId\":\"WaterMeter\",\"cmd\":\"SET_INTERVAL\",\"paras\":{},\"mid\":1}",
	    sizeof(out), -EINVAL, "para \"interval\": missing, and no default");
	encode_fails(d, "{\"serviceId\":\"WaterMeter\",\"cmd\":\"SET_INTERVAL\",\"mid\":1}",
		     sizeof(out), -EINVAL, "para \"interval\": missing, and no default");
	encode_fails(d,
		     "{\"serviceId\":\"WaterMeter\",\"cmd\":\"SET_INTERVAL\","
		     "\"paras\":{\"interval\":\"60\"},\"mid\":1}",
		     sizeof(out), -EINVAL,
		     "para \"interval\": uint16 needs an integer, not a string");
	encode_fails(d,
		     "{\"serviceId\":\"WaterMeter\",\"cmd\":\"SET_INTERVAL\","
		     "\"paras\":{\"interval\":60.5},\"mid\":1}",
		     sizeof(out), -EINVAL,
		     "para \"interval\": uint16 needs an integer, not a real");
	encode_fails(d,
		     "{\"serviceId\":\"WaterMeter\",\"cmd\":\"SET_INTERVAL\","
		     "\"paras\":{\"interval\":65536},\"mid\":1}",
		     sizeof(out), -EINVAL, "para \"interval\": 65536 is out of range for uint16");
	encode_fails(d,
		     "{\"serviceId\":\"WaterMeter\",\"cmd\":\"SET_INTERVAL\","
		     "\"paras\":{\"interval\":60,\"color\":1},\"mid\":1}",
		     sizeof(out), -EINVAL, "para \"color\": SET_INTERVAL has no such field");
	encode_fails(d,
		     "{\"serviceId\":\"WaterMeter\",\"cmd\":\"SET_INTERVAL\","
		     "\"paras\":{\"interval\":60},\"mid\":0}",
		     sizeof(out), -EINVAL, "\"mid\" must be an integer in 1..65535");
	encode_fails(d,
		     "{\"serviceId\":\"WaterMeter\",\"cmd\":\"SET_INTERVAL\","
		     "\"paras\":{\"interval\":60}}",
		     sizeof(out), -EINVAL, "\"mid\" must be an integer in 1..65535");
	encode_fails(d,
		     "{\"msgType\":\"deviceReq\",\"serviceId\":\"WaterMeter\","
		     "\"cmd\":\"SET_INTERVAL\",\"paras\":{\"interval\":60},\"mid\":1}",
		     sizeof(out), -EINVAL, "\"msgType\" must be \"cloudReq\"");
	encode_fails(d, "{\"cmd\":\"SET_INTERVAL\",\"paras\":{\"interval\":60},\"mid\":1}",
		     sizeof(out), -EINVAL, "\"serviceId\" and \"cmd\" must be strings");
	encode_fails(d,
		     "{\"serviceId\":\"WaterMeter\",\"cmd\":\"SET_INTERVAL\",\"paras\":[],"
		     "\"mid\":1}",
		     sizeof(out), -EINVAL, "\"paras\" must be an object, not an array");
	encode_fails(d, "[1]", sizeof(out), -EINVAL, "not a JSON object");
	/* -ENOSPC at every cap short of the 5 bytes, and nothing written. */
	const char *req = "{\"serviceId\":\"WaterMeter\",\"cmd\":\"SET_INTERVAL\","
			  "\"paras\":{\"interval\":60},\"mid\":1}";
	for (size_t cap = 0; cap < 5; cap++) {
		memset(out, 0xEE, sizeof(out));
		encode_fails(d, req, cap, -ENOSPC, "5 bytes");
		for (size_t i = 0; i < sizeof(out); i++)
			assert_int_equal(out[i], 0xEE);
	}
	assert_int_equal(encode_ok(d, req, out, 5), 5);
	codec_decl_destroy(d);

	/* A varstring that would run past CODEC_MAX_PAYLOAD is -ENOSPC as well. */
	d = create_ok(strings);
	char *big = malloc(2000);
	assert_non_null(big);
	int n = snprintf(big, 2000,
			 "{\"serviceId\":\"S\",\"cmd\":\"R\",\"mid\":2,\"paras\":{\"tail\":\"");
	memset(big + n, 'x', 1022);
	memcpy(big + n + 1022, "\"}}", 4);
	encode_fails(d, big, CODEC_MAX_PAYLOAD, -ENOSPC, "para \"tail\": 1022 bytes at offset 3");
	big[n + 1021] = '"';
	memcpy(big + n + 1022, "}}", 3);
	assert_int_equal(encode_ok(d, big, (uint8_t[CODEC_MAX_PAYLOAD]){0}, CODEC_MAX_PAYLOAD),
			 CODEC_MAX_PAYLOAD);
	free(big);
	codec_decl_destroy(d);
}

/* Every type, fixed and variable: what a command encodes, the report of the same layout
 * decodes to the same values. */
static const char every_type[] =
    "{\"byte_order\":\"little\",\"message_id\":{\"offset\":0,\"type\":\"uint8\"},"
    "\"messages\":[%s,%s]}";
static const char every_type_fields[] =
    "{\"id\":%d,\"kind\":\"%s\",\"service_id\":\"S\"%s,\"fields\":["
    "{\"name\":\"a\",\"offset\":1,\"type\":\"int8\"},"
    "{\"name\":\"b\",\"offset\":2,\"type\":\"uint16\",\"byte_order\":\"big\"},"
    "{\"name\":\"c\",\"offset\":4,\"type\":\"int32\"},"
    "{\"name\":\"d\",\"offset\":8,\"type\":\"float\"},"
    "{\"name\":\"e\",\"offset\":12,\"type\":\"double\",\"byte_order\":\"big\"},"
    "{\"name\":\"f\",\"offset\":20,\"type\":\"string\",\"length\":5},"
    "{\"name\":\"g\",\"offset\":25,\"type\":\"bytes\",\"length\":3},"
    "{\"name\":\"%s\",\"offset\":28,\"type\":\"uint16\"%s},"
    "{\"name\":\"n\",\"offset\":30,\"type\":\"uint8\"},"
    "{\"name\":\"s\",\"offset\":31,\"type\":\"varstring\",\"length_field\":\"n\"}]}";

static char *every_type_doc(void)
{
	char rep[1024], cmd[1024];
	snprintf(rep, sizeof(rep), every_type_fields, 1, "report", "", "h", "");
	snprintf(cmd, sizeof(cmd), every_type_fields, 2, "command", ",\"command\":\"C\"", "m",
		 ",\"role\":\"mid\"");
	char *doc = malloc(4096);
	assert_non_null(doc);
	snprintf(doc, 4096, every_type, rep, cmd);
	return doc;
}

static void test_round_trip(void **state)
{
	(void)state;
	char *doc = every_type_doc();
	struct codec_decl *d = create_ok(doc);
	uint8_t out[64];
	size_t n = encode_ok(d,
			     "{\"serviceId\":\"S\",\"cmd\":\"C\",\"mid\":4660,\"paras\":{\"a\":-5,"
			     "\"b\":513,\"c\":-100000,\"d\":0.25,\"e\":-1e-300,\"f\":\"ab\","
			     "\"g\":\"0A0B0C\",\"s\":\"tail\"}}",
			     out, sizeof(out));
	assert_int_equal(n, 35);
	assert_int_equal(out[0], 2);
	assert_int_equal(out[28], 0x34); /* the mid, little-endian like the document */
	assert_int_equal(out[29], 0x12);
	out[0] = 1;
	decode_is(d, out, n,
		  "{\"msgType\":\"deviceReq\",\"data\":[{\"serviceId\":\"S\",\"serviceData\":"
		  "{\"a\":-5,\"b\":513,\"c\":-100000,\"d\":0.25,\"e\":-1e-300,\"f\":\"ab\","
		  "\"g\":\"0A0B0C\",\"h\":4660,\"n\":4,\"s\":\"tail\"}}]}");
	codec_decl_destroy(d);
	free(doc);
}

static uint32_t rnd(uint32_t *seed)
{
	*seed = *seed * 1103515245u + 12345u;
	return *seed >> 8;
}

/* The shape codec_check_decoded (codec.c) requires, checked here without linking it. */
static void assert_shape(const json_t *msg)
{
	const char *t = json_string_value(json_object_get(msg, "msgType"));
	assert_non_null(t);
	if (strcmp(t, "deviceReq") == 0) {
		const json_t *item = json_array_get(json_object_get(msg, "data"), 0);
		assert_non_null(json_string_value(json_object_get(item, "serviceId")));
		assert_true(json_is_object(json_object_get(item, "serviceData")));
	} else {
		assert_string_equal(t, "deviceRsp");
		json_int_t mid = json_integer_value(json_object_get(msg, "mid"));
		assert_true(mid >= 1 && mid <= 65535);
		assert_true(json_is_integer(json_object_get(msg, "errcode")));
		assert_true(json_is_object(json_object_get(msg, "body")));
	}
}

static void mutate(uint8_t *d, size_t *len, size_t max, uint32_t *seed)
{
	for (uint32_t m = 1 + rnd(seed) % 3; m > 0; m--) {
		size_t at = *len ? rnd(seed) % *len : 0;
		switch (rnd(seed) % 4) {
		case 0:
			if (*len)
				d[at] ^= (uint8_t)(1u << (rnd(seed) % 8));
			break;
		case 1:
			if (*len)
				d[at] = (uint8_t)rnd(seed);
			break;
		case 2:
			*len = at;
			break;
		default:
			if (*len < max) {
				memmove(d + at + 1, d + at, *len - at);
				d[at] = (uint8_t)rnd(seed);
				(*len)++;
			}
		}
	}
}

static void test_fuzz_payloads(void **state)
{
	(void)state;
	char *doc = every_type_doc();
	struct codec_decl *layouts[] = {create_ok(water_meter),	 create_ok(strings),
					create_ok(bytes_layout), create_ok(floats),
					create_ok(all_ints),	 create_ok(doc)};
	free(doc);
	static const uint8_t seeds[][12] = {
	    {0x00, 87, 0x00, 0x01, 0x86, 0xA0},
	    {0x02, 0x01, 0x02, 0x00, 0x01},
	    {1, 'a', 'b', 'c', 0, 0, 0, 3, 'x', 'y', 'z'},
	    {2, 'h', 'e', 'l', 'l', 'o'},
	    {3, 2, 'h', 'i'},
	    {1, 0x00, 0xAB, 0xFF, 0x01, 0x9C},
	};
	uint32_t seed = 20261125;
	uint8_t p[96];
	int accepted = 0, refused = 0;
	for (int round = 0; round < 200000; round++) {
		struct codec_decl *d = layouts[rnd(&seed) % 6];
		size_t len;
		if (round % 2) {
			len = rnd(&seed) % sizeof(p);
			for (size_t i = 0; i < len; i++)
				p[i] = (uint8_t)rnd(&seed);
			if (len && rnd(&seed) % 2)
				p[0] = (uint8_t)(rnd(&seed) % 4); /* a known id more often */
		} else {
			size_t s = rnd(&seed) % (sizeof(seeds) / sizeof(seeds[0]));
			len = sizeof(seeds[s]);
			memcpy(p, seeds[s], len);
			mutate(p, &len, sizeof(p), &seed);
		}
		json_t *msg = NULL;
		int rc = codec_decl_decode(d, p, len, &msg, err, sizeof(err));
		assert_true(rc == 0 || rc == -EINVAL);
		if (rc == 0) {
			assert_shape(msg);
			json_decref(msg);
			accepted++;
		} else {
			assert_null(msg);
			assert_true(err[0] != 0);
			refused++;
		}
	}
	/* Only worth its time if both sides were reached often. */
	assert_true(accepted > 10000);
	assert_true(refused > 10000);
	for (size_t i = 0; i < 6; i++)
		codec_decl_destroy(layouts[i]);
}

/* Layout documents changed at random, as text and as JSON: create answers 0 or -EINVAL,
 * and what it accepts decodes and encodes without harm. */
static void test_fuzz_layouts(void **state)
{
	(void)state;
	char *every = every_type_doc();
	const char *docs[] = {water_meter, strings, bytes_layout, floats, all_ints, every};
	static const char *const keys[] = {
	    "offset", "type", "length", "length_field", "role",	   "byte_order", "default",
	    "name",   "id",   "kind",	"service_id",	"command", "fields",	 "x"};
	json_t *values[] = {json_integer(0),
			    json_integer(1),
			    json_integer(-1),
			    json_integer(3),
			    json_integer(1023),
			    json_integer(1024),
			    json_integer(65536),
			    json_string("rest"),
			    json_string("uint8"),
			    json_string("int32"),
			    json_string("varstring"),
			    json_string("bytes"),
			    json_string("string"),
			    json_string("mid"),
			    json_string("errcode"),
			    json_string("little"),
			    json_string("n"),
			    json_string("m"),
			    json_string("report"),
			    json_string("command"),
			    json_string("response"),
			    json_real(2.5),
			    json_null(),
			    json_array(),
			    json_string("")};
	const size_t nvalues = sizeof(values) / sizeof(values[0]);
	const size_t nkeys = sizeof(keys) / sizeof(keys[0]);
	uint32_t seed = 4242;
	int accepted = 0;
	char text[8192];
	for (int round = 0; round < 20000; round++) {
		const char *base = docs[rnd(&seed) % 6];
		size_t len;
		if (round % 4 == 0) {
			len = strlen(base);
			memcpy(text, base, len);
			mutate((uint8_t *)text, &len, sizeof(text) - 1, &seed);
		} else {
			json_t *j = json_loads(base, 0, NULL);
			assert_non_null(j);
			for (uint32_t m = 1 + rnd(&seed) % 2; m > 0; m--) {
				json_t *msgs = json_object_get(j, "messages");
				json_t *target;
				if (rnd(&seed) % 8 == 0)
					target = json_object_get(j, "message_id");
				else {
					json_t *msg = json_array_get(
					    msgs, rnd(&seed) % json_array_size(msgs));
					json_t *fields = json_object_get(msg, "fields");
					target =
					    rnd(&seed) % 3 == 0 || !json_array_size(fields)
						? msg
						: json_array_get(
						      fields, rnd(&seed) % json_array_size(fields));
				}
				const char *k = keys[rnd(&seed) % nkeys];
				if (rnd(&seed) % 5 == 0)
					json_object_del(target, k);
				else
					json_object_set(target, k, values[rnd(&seed) % nvalues]);
			}
			char *s = json_dumps(j, 0);
			len = strlen(s);
			assert_true(len < sizeof(text));
			memcpy(text, s, len);
			free(s);
			json_decref(j);
		}
		struct codec_decl *d = NULL;
		err[0] = 0;
		int rc = codec_decl_create(text, len, &d, err, sizeof(err));
		assert_true(rc == 0 || rc == -EINVAL);
		if (rc) {
			assert_null(d);
			assert_true(err[0] != 0);
			continue;
		}
		accepted++;
		uint8_t p[64];
		for (int k = 0; k < 8; k++) {
			size_t plen = rnd(&seed) % sizeof(p);
			for (size_t i = 0; i < plen; i++)
				p[i] = (uint8_t)(rnd(&seed) % 8);
			json_t *msg = NULL;
			rc = codec_decl_decode(d, p, plen, &msg, err, sizeof(err));
			assert_true(rc == 0 || rc == -EINVAL);
			if (rc == 0)
				assert_shape(msg);
			json_decref(msg);
		}
		json_t *req = json_pack("{s:s, s:s, s:i, s:{s:i, s:i, s:s, s:s, s:s}}", "serviceId",
					"S", "cmd", rnd(&seed) % 2 ? "C" : "R", "mid", 7, "paras",
					"n", 3, "b", 1, "s", "abc", "f", "x", "g", "000000");
		uint8_t out[CODEC_MAX_PAYLOAD];
		size_t n;
		rc = codec_decl_encode(d, req, out, rnd(&seed) % sizeof(out), &n, err, sizeof(err));
		assert_true(rc == 0 || rc == -EINVAL || rc == -ENOSPC);
		json_decref(req);
		codec_decl_destroy(d);
	}
	assert_true(accepted > 1000);
	for (size_t i = 0; i < nvalues; i++)
		json_decref(values[i]);
	free(every);
}

/* Not a test of speed (the machine is shared): prints the rate, asserts only success. */
static void test_decode_rate(void **state)
{
	(void)state;
	struct codec_decl *d = create_ok(water_meter);
	static const uint8_t report[] = {0x00, 87, 0x00, 0x01, 0x86, 0xA0};
	struct timespec t0, t1;
	const int rounds = 200000;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < rounds; i++) {
		json_t *msg = NULL;
		assert_int_equal(
		    codec_decl_decode(d, report, sizeof(report), &msg, err, sizeof(err)), 0);
		json_decref(msg);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("water-meter report: %d decodes in %.3f s = %.0f decodes/s\n", rounds, s,
	       rounds / s);
	codec_decl_destroy(d);
}

/* A layout that is not JSON names its line, the way a script's syntax error does. */
static void test_not_json_names_the_line(void **state)
{
	(void)state;
	const char *src = "{\n  \"byte_order\": \"big\",\n  \"messages\": [,]\n}\n";
	struct codec *c = NULL;
	char msg[256] = "";
	assert_int_equal(codec_create(CODEC_DECLARATIVE, src, strlen(src), NULL, &c, msg,
				      sizeof(msg)),
			 -EINVAL);
	assert_null(c);
	assert_non_null(strstr(msg, "not JSON"));
	assert_int_equal(codec_error_line(msg), 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_water_meter),	  cmocka_unit_test(test_byte_orders),
	    cmocka_unit_test(test_signed_values), cmocka_unit_test(test_float_double),
	    cmocka_unit_test(test_strings),	  cmocka_unit_test(test_bytes),
	    cmocka_unit_test(test_layout_errors), cmocka_unit_test(test_truncated),
	    cmocka_unit_test(test_unknown_ids),	  cmocka_unit_test(test_encode_errors),
	    cmocka_unit_test(test_round_trip),	  cmocka_unit_test(test_fuzz_payloads),
	    cmocka_unit_test(test_fuzz_layouts),  cmocka_unit_test(test_decode_rate),
		cmocka_unit_test(test_not_json_names_the_line),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
