/*
 * Tests of the SenML CBOR codec: a hand-checked byte vector, round trips of every type,
 * both naming styles, and malformed CBOR (truncated, trailing bytes, wrong kinds,
 * indefinite lengths, duplicate labels) plus random bytes.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "content/content.h"
#include "model/model.h"

static struct lwm2m_path P(const char *s)
{
	struct lwm2m_path p;
	assert_int_equal(lwm2m_path_parse(s, strlen(s), &p), 0);
	return p;
}

/* [{-2: "/3/0/", 0: "9", 2: 100}] */
static const uint8_t battery[] = { 0x81, 0xa3, 0x21, 0x65, '/', '3', '/', '0', '/', 0x00,
				   0x61, '9', 0x02, 0x18, 0x64 };

static void test_vector(void **state)
{
	(void)state;
	struct lwm2m_values v;
	lwm2m_values_init(&v);
	struct lwm2m_path base = P("/3/0");
	assert_int_equal(content_senml_cbor_decode(&base, battery, sizeof(battery), model_type_of,
						   NULL, &v),
			 0);
	assert_int_equal(v.count, 1);
	assert_int_equal(v.items[0].path.ids[2], 9);
	assert_int_equal(v.items[0].v.i, 100);
	uint8_t out[64];
	int n = content_senml_cbor_encode(&base, &v, out, sizeof(out));
	assert_int_equal(n, sizeof(battery));
	assert_memory_equal(out, battery, sizeof(battery));
	assert_int_equal(content_senml_cbor_encode(&base, &v, out, 5), -ENOBUFS);
	lwm2m_values_free(&v);
}

static enum lwm2m_type all_types(void *ctx, uint16_t obj, uint16_t res, bool *multiple)
{
	(void)ctx;
	(void)obj;
	if (multiple)
		*multiple = false;
	return res < 10 ? (enum lwm2m_type)res : LWM2M_TYPE_NONE;
}

static void test_round_trip(void **state)
{
	(void)state;
	struct lwm2m_values v, back;
	lwm2m_values_init(&v);
	lwm2m_values_init(&back);
	struct lwm2m_value x[] = {
		{ .path = P("/9/0/1"), .type = LWM2M_TYPE_STRING, .v.bytes = { (uint8_t *)"hi", 2 } },
		{ .path = P("/9/0/2"), .type = LWM2M_TYPE_INTEGER, .v.i = INT64_MIN },
		{ .path = P("/9/0/3"), .type = LWM2M_TYPE_UNSIGNED, .v.u = 42 },
		{ .path = P("/9/0/4"), .type = LWM2M_TYPE_FLOAT, .v.f = 3.25 },
		{ .path = P("/9/0/5"), .type = LWM2M_TYPE_BOOLEAN, .v.b = false },
		{ .path = P("/9/0/6/3"), .type = LWM2M_TYPE_OPAQUE, .v.bytes = { (uint8_t *)"\0\xff", 2 } },
		{ .path = P("/9/0/7"), .type = LWM2M_TYPE_TIME, .v.i = 1764050000 },
		{ .path = P("/9/0/8"), .type = LWM2M_TYPE_OBJLNK, .v.objlnk = { 3, 0 } },
	};
	for (size_t i = 0; i < 8; i++)
		assert_int_equal(lwm2m_values_add(&v, &x[i]), 0);
	uint8_t out[512];
	struct lwm2m_path base = P("/9/0");
	int n = content_senml_cbor_encode(&base, &v, out, sizeof(out));
	assert_true(n > 0);
	assert_int_equal(content_senml_cbor_decode(&base, out, (size_t)n, all_types, NULL, &back),
			 0);
	assert_int_equal(back.count, 8);
	assert_memory_equal(back.items[0].v.bytes.data, "hi", 2);
	assert_true(back.items[1].v.i == INT64_MIN);
	assert_true(back.items[3].v.f == 3.25);
	assert_false(back.items[4].v.b);
	assert_int_equal(back.items[5].path.ids[3], 3);
	assert_int_equal(back.items[5].v.bytes.data[1], 0xff);
	assert_int_equal(back.items[7].v.objlnk.obj, 3);
	lwm2m_values_free(&back);
	/* At the root, for Send and composite operations. */
	struct lwm2m_path root = P("/");
	n = content_senml_cbor_encode(&root, &v, out, sizeof(out));
	assert_int_equal(content_senml_cbor_decode(&root, out, (size_t)n, all_types, NULL, &back),
			 0);
	assert_int_equal(back.count, 8);
	lwm2m_values_free(&back);
	lwm2m_values_free(&v);
}

static void test_malformed(void **state)
{
	(void)state;
	struct {
		const char *why;
		uint8_t bytes[16];
		size_t len;
	} bad[] = {
		{ "empty", { 0 }, 0 },
		{ "truncated", { 0x81, 0xa3, 0x21, 0x65, '/' }, 5 },
		{ "trailing bytes", { 0x81, 0xa2, 0x00, 0x66, '/', '3', '/', '0', '/', '9', 0x02,
				      0x01, 0x00 }, 13 },
		{ "not an array", { 0xa1, 0x00, 0x61, 'x' }, 4 },
		{ "record not a map", { 0x81, 0x01 }, 2 },
		{ "name not text", { 0x81, 0xa2, 0x00, 0x01, 0x02, 0x01 }, 6 },
		{ "v not a number", { 0x81, 0xa2, 0x00, 0x66, '/', '3', '/', '0', '/', '9', 0x02,
				      0x61, '1' }, 13 },
		{ "label twice", { 0x81, 0xa3, 0x00, 0x61, 'x', 0x00, 0x61, 'y', 0x02, 0x01 }, 10 },
		{ "indefinite array", { 0x9f, 0xa1, 0x02, 0x01, 0xff }, 5 },
		{ "no value", { 0x81, 0xa1, 0x00, 0x66, '/', '3', '/', '0', '/', '9' }, 10 },
		{ "vb a float (libcbor would assert)", { 0x81, 0xa1, 0x04, 0xf9, 0x3e, 0x00 }, 6 },
		{ "a byte-string label", { 0x81, 0xa2, 0x41, 0x00, 0x01, 0x02, 0x01 }, 7 },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct lwm2m_values v;
		lwm2m_values_init(&v);
		struct lwm2m_path root = P("/");
		int rc = content_senml_cbor_decode(&root, bad[i].bytes, bad[i].len, model_type_of,
						   NULL, &v);
		lwm2m_values_free(&v);
		if (rc != -EBADMSG)
			fail_msg("%s: %d", bad[i].why, rc);
	}
}

/* The path list of a Read-/Observe-Composite (Core §6.3.8): [{0: "/3/0/9"}, {0: "/1"}],
 * byte for byte; the JSON one for comparison; no paths, or a format without path lists,
 * refused. */
static void test_paths(void **state)
{
	(void)state;
	static const uint8_t want[] = { 0x82, 0xa1, 0x00, 0x66, '/', '3', '/', '0', '/', '9',
					0xa1, 0x00, 0x62, '/', '1' };
	struct lwm2m_path paths[2] = { P("/3/0/9"), P("/1") };
	uint8_t buf[64];
	assert_int_equal(content_encode_paths(CONTENT_SENML_CBOR, paths, 2, buf, sizeof(buf)),
			 (int)sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
	static const char json[] = "[{\"n\":\"/3/0/9\"},{\"n\":\"/1\"}]";
	assert_int_equal(content_encode_paths(CONTENT_SENML_JSON, paths, 2, buf, sizeof(buf)),
			 (int)strlen(json));
	assert_memory_equal(buf, json, strlen(json));
	assert_int_equal(content_encode_paths(CONTENT_SENML_CBOR, paths, 0, buf, sizeof(buf)),
			 -EINVAL);
	assert_int_equal(content_encode_paths(CONTENT_SENML_CBOR, paths, 2, buf, 8), -ENOBUFS);
	assert_int_equal(content_encode_paths(CONTENT_TLV, paths, 2, buf, sizeof(buf)), -ENOTSUP);
}

static void test_random_bytes(void **state)
{
	(void)state;
	uint32_t seed = 31337;
	uint8_t d[48];
	for (int round = 0; round < 100000; round++) {
		seed = seed * 1103515245u + 12345u;
		size_t len = (seed >> 16) % sizeof(d);
		for (size_t i = 0; i < len; i++) {
			seed = seed * 1103515245u + 12345u;
			d[i] = (uint8_t)(seed >> 16);
		}
		if (len > 0)
			d[0] = (uint8_t)(0x80 | (d[0] & 0x07)); /* mostly small arrays */
		struct lwm2m_values v;
		lwm2m_values_init(&v);
		struct lwm2m_path root = P("/");
		int rc = content_senml_cbor_decode(&root, d, len, model_type_of, NULL, &v);
		assert_true(rc == 0 || rc == -EBADMSG);
		lwm2m_values_free(&v);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vector),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_paths),
		cmocka_unit_test(test_random_bytes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
