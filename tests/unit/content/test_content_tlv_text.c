/*
 * Tests of the TLV, text and opaque codecs: the OMA Core's TLV rules byte for byte, round
 * trips of every type, and malformed payloads (truncated headers and lengths, nesting the
 * format forbids, numbers that are not numbers) plus random bytes.
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

/* Device object instance 0, as the Core spec's TLV example lays it out. */
static const uint8_t device_tlv[] = {
	0xc8, 0x00, 0x14, 'O', 'p', 'e', 'n', ' ', 'M', 'o', 'b', 'i', 'l', 'e', ' ', 'A', 'l',
	'l', 'i', 'a', 'n', 'c', 'e', /* 0 Manufacturer */
	0xc8, 0x01, 0x16, 'L', 'i', 'g', 'h', 't', 'w', 'e', 'i', 'g', 'h', 't', ' ', 'M', '2',
	'M', ' ', 'C', 'l', 'i', 'e', 'n', 't', /* 1 Model Number */
	0xc1, 0x09, 0x64,                       /* 9 Battery Level = 100 */
	0x86, 0x06, 0x41, 0x00, 0x01, 0x41, 0x01, 0x05, /* 6 Power Sources [1, 5] */
	0xc4, 0x0d, 0x5a, 0x6a, 0x3b, 0x60,     /* 13 Current Time (4-byte integer) */
	0xe2, 0x01, 0x2c, 0x01, 0xf4,           /* resource 300 (16-bit id), 2 bytes */
};

static void test_decode_device_instance(void **state)
{
	(void)state;
	struct lwm2m_values v;
	lwm2m_values_init(&v);
	struct lwm2m_path base = P("/3/0");
	assert_int_equal(content_tlv_decode(&base, device_tlv, sizeof(device_tlv), model_type_of,
					    NULL, &v),
			 0);
	assert_int_equal(v.count, 7);
	assert_int_equal(v.items[0].type, LWM2M_TYPE_STRING);
	assert_memory_equal(v.items[0].v.bytes.data, "Open Mobile Alliance", 20);
	assert_int_equal(v.items[2].path.ids[2], 9);
	assert_int_equal(v.items[2].v.i, 100);
	assert_int_equal(v.items[3].path.len, 4);
	assert_int_equal(v.items[3].path.ids[3], 0);
	assert_int_equal(v.items[4].v.i, 5);
	assert_int_equal(v.items[5].type, LWM2M_TYPE_TIME);
	assert_int_equal(v.items[5].v.i, 0x5a6a3b60);
	/* Resource 300 is not in the model: opaque. */
	assert_int_equal(v.items[6].path.ids[2], 300);
	assert_int_equal(v.items[6].type, LWM2M_TYPE_OPAQUE);
	assert_int_equal(v.items[6].v.bytes.len, 2);

	/* Re-encoded, the same bytes come back (the encoder picks the same shortest forms;
	 * resource 300 stays opaque, 13 is written as 4 bytes since it fits). */
	uint8_t out[256];
	int n = content_tlv_encode(&base, &v, model_type_of, NULL, out, sizeof(out));
	assert_int_equal(n, sizeof(device_tlv));
	/* The encoder sorts by id: 0, 1, 6, 9, 13, 300. Compare by decoding again. */
	struct lwm2m_values back;
	lwm2m_values_init(&back);
	assert_int_equal(content_tlv_decode(&base, out, (size_t)n, model_type_of, NULL, &back), 0);
	assert_int_equal(back.count, v.count);
	lwm2m_values_free(&back);

	/* The same instance read at object level is wrapped in an instance TLV. */
	struct lwm2m_path obj = P("/3");
	n = content_tlv_encode(&obj, &v, model_type_of, NULL, out, sizeof(out));
	assert_int_equal(out[0], 0x08); /* instance (00), 8-bit id, 8-bit length field (01) */
	assert_int_equal(out[1], 0);
	assert_int_equal(out[2], sizeof(device_tlv));
	assert_int_equal(content_tlv_decode(&obj, out, (size_t)n, model_type_of, NULL, &back), 0);
	assert_int_equal(back.count, 7);
	lwm2m_values_free(&back);
	lwm2m_values_free(&v);
}

static void test_encode_exact(void **state)
{
	(void)state;
	struct lwm2m_values v;
	lwm2m_values_init(&v);
	struct lwm2m_value x = { .path = P("/1/0/1"), .type = LWM2M_TYPE_INTEGER, .v.i = 300 };
	assert_int_equal(lwm2m_values_add(&v, &x), 0);
	uint8_t out[64];
	struct lwm2m_path inst = P("/1/0");
	assert_int_equal(content_tlv_encode(&inst, &v, NULL, NULL, out, sizeof(out)), 4);
	static const uint8_t want[] = { 0xc2, 0x01, 0x01, 0x2c };
	assert_memory_equal(out, want, 4);
	/* -1 is one byte 0xff; a float that fits 4 bytes takes 4. */
	v.items[0].v.i = -1;
	assert_int_equal(content_tlv_encode(&inst, &v, NULL, NULL, out, sizeof(out)), 3);
	assert_int_equal(out[2], 0xff);
	v.items[0].type = LWM2M_TYPE_FLOAT;
	v.items[0].v.f = 1.5;
	assert_int_equal(content_tlv_encode(&inst, &v, NULL, NULL, out, sizeof(out)), 6);
	static const uint8_t f15[] = { 0xc4, 0x01, 0x3f, 0xc0, 0x00, 0x00 };
	assert_memory_equal(out, f15, 6);
	v.items[0].v.f = 0.1; /* needs 8 bytes */
	assert_int_equal(content_tlv_encode(&inst, &v, NULL, NULL, out, sizeof(out)), 11);
	/* Too small a buffer. */
	assert_int_equal(content_tlv_encode(&inst, &v, NULL, NULL, out, 5), -ENOBUFS);
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

static void test_round_trip_every_type(void **state)
{
	(void)state;
	struct lwm2m_values v, back;
	lwm2m_values_init(&v);
	lwm2m_values_init(&back);
	struct lwm2m_value x[] = {
		{ .path = P("/9/0/1"), .type = LWM2M_TYPE_STRING,
		  .v.bytes = { (uint8_t *)"hello", 5 } },
		{ .path = P("/9/0/2"), .type = LWM2M_TYPE_INTEGER, .v.i = INT64_MIN },
		{ .path = P("/9/0/3"), .type = LWM2M_TYPE_UNSIGNED, .v.u = UINT64_MAX },
		{ .path = P("/9/0/4"), .type = LWM2M_TYPE_FLOAT, .v.f = -2.25e300 },
		{ .path = P("/9/0/5"), .type = LWM2M_TYPE_BOOLEAN, .v.b = true },
		{ .path = P("/9/0/6"), .type = LWM2M_TYPE_OPAQUE, .v.bytes = { (uint8_t *)"\0\1", 2 } },
		{ .path = P("/9/0/7"), .type = LWM2M_TYPE_TIME, .v.i = 1764050000 },
		{ .path = P("/9/0/8"), .type = LWM2M_TYPE_OBJLNK, .v.objlnk = { 65535, 3 } },
	};
	for (size_t i = 0; i < 8; i++)
		assert_int_equal(lwm2m_values_add(&v, &x[i]), 0);
	uint8_t out[256];
	struct lwm2m_path base = P("/9/0");
	int n = content_tlv_encode(&base, &v, all_types, NULL, out, sizeof(out));
	assert_true(n > 0);
	assert_int_equal(content_tlv_decode(&base, out, (size_t)n, all_types, NULL, &back), 0);
	assert_int_equal(back.count, 8);
	assert_memory_equal(back.items[0].v.bytes.data, "hello", 5);
	assert_true(back.items[1].v.i == INT64_MIN);
	assert_true(back.items[2].v.u == UINT64_MAX);
	assert_true(back.items[3].v.f == -2.25e300);
	assert_true(back.items[4].v.b);
	assert_int_equal(back.items[5].v.bytes.len, 2);
	assert_int_equal(back.items[6].v.i, 1764050000);
	assert_int_equal(back.items[7].v.objlnk.obj, 65535);
	lwm2m_values_free(&back);

	/* Each one through text too (one value per payload). */
	for (size_t i = 0; i < 8; i++) {
		struct lwm2m_values one;
		lwm2m_values_init(&one);
		assert_int_equal(lwm2m_values_add(&one, &x[i]), 0);
		char text[128];
		n = content_text_encode(&x[i].path, &one, (uint8_t *)text, sizeof(text));
		assert_true(n >= 0);
		assert_int_equal(content_text_decode(&x[i].path, (uint8_t *)text, (size_t)n,
						     all_types, NULL, &back),
				 0);
		lwm2m_values_free(&one);
	}
	assert_int_equal(back.count, 8);
	assert_true(back.items[1].v.i == INT64_MIN);
	assert_true(back.items[3].v.f == -2.25e300);
	assert_int_equal(back.items[5].v.bytes.len, 2);
	lwm2m_values_free(&back);

	/* A subnormal double: the encoder writes it, the decoder used to refuse it because
	 * strtod reports underflow (found by fuzz_content_cbor's cross-format check). */
	struct lwm2m_value tiny = { .path = P("/9/0/4"), .type = LWM2M_TYPE_FLOAT,
				    .v.f = 7.4109846876187e-323 };
	struct lwm2m_values one;
	lwm2m_values_init(&one);
	assert_int_equal(lwm2m_values_add(&one, &tiny), 0);
	char text[64];
	n = content_text_encode(&tiny.path, &one, (uint8_t *)text, sizeof(text));
	assert_true(n > 0);
	assert_int_equal(content_text_decode(&tiny.path, (uint8_t *)text, (size_t)n, all_types,
					     NULL, &back),
			 0);
	assert_true(back.items[0].v.f == tiny.v.f);
	lwm2m_values_free(&back);
	lwm2m_values_free(&one);
	lwm2m_values_free(&v);
}

static void test_malformed_tlv(void **state)
{
	(void)state;
	struct {
		const char *why;
		const char *base;
		uint8_t bytes[12];
		size_t len;
	} bad[] = {
		{ "no id byte", "/3/0", { 0xc1 }, 1 },
		{ "value past the end", "/3/0", { 0xc4, 0x09, 0x01 }, 3 },
		{ "8-bit length missing", "/3/0", { 0xc8, 0x00 }, 2 },
		{ "24-bit length past the end", "/3/0", { 0xd8, 0x00, 0xff, 0xff, 0xff, 0x41 }, 6 },
		{ "16-bit id truncated", "/3/0", { 0xe1, 0x00 }, 2 },
		{ "integer of 3 bytes", "/3/0", { 0xc3, 0x09, 1, 2, 3 }, 5 },
		{ "boolean 2", "/1/0", { 0xc1, 0x06, 0x02 }, 3 },
		{ "instance inside an instance", "/3/0",
		  { 0x05, 0x00, 0x03, 0x00, 0xc1, 0x09, 0x01 }, 7 },
		{ "wrapped in another instance", "/3/0", { 0x03, 0x01, 0xc1, 0x09, 0x01 }, 5 },
		{ "resource inside a multiple resource", "/3/0", { 0x83, 0x06, 0xc1, 0x00, 0x01 }, 5 },
		{ "resource instance at instance level", "/3/0", { 0x41, 0x00, 0x01 }, 3 },
		{ "resource at object level", "/3", { 0xc1, 0x09, 0x01 }, 3 },
		{ "another resource than asked", "/3/0/9", { 0xc1, 0x08, 0x01 }, 3 },
		{ "trailing bytes after the resource", "/3/0/9", { 0xc1, 0x09, 0x01, 0x00 }, 4 },
		{ "empty resource payload", "/3/0/9", { 0 }, 0 },
		{ "objlnk of 3 bytes", "/1/0", { 0xc3, 0x0a, 0, 1, 2 }, 5 },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct lwm2m_values v;
		lwm2m_values_init(&v);
		struct lwm2m_path base = P(bad[i].base);
		int rc = content_tlv_decode(&base, bad[i].bytes, bad[i].len, model_type_of, NULL,
					    &v);
		lwm2m_values_free(&v);
		if (rc != -EBADMSG)
			fail_msg("%s: %d", bad[i].why, rc);
	}
}

static void test_malformed_text(void **state)
{
	(void)state;
	struct {
		const char *path;
		const char *text;
	} bad[] = {
		{ "/3/0/9", "" },	  { "/3/0/9", "12a" },	     { "/3/0/9", " 12" },
		{ "/3/0/9", "99999999999999999999" }, { "/6/0/0", "nan" }, { "/6/0/0", "1e999" },
		{ "/1/0/6", "2" },	  { "/1/0/6", "true" },      { "/1/0/10", "3" },
		{ "/1/0/10", "70000:1" }, { "/1/0/10", "1:2:3" },    { "/19/0/0/0", "not base64!" },
		{ "/3/0", "5" }, /* text needs a resource */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct lwm2m_values v;
		lwm2m_values_init(&v);
		struct lwm2m_path p = P(bad[i].path);
		int rc = content_text_decode(&p, (const uint8_t *)bad[i].text, strlen(bad[i].text),
					     model_type_of, NULL, &v);
		lwm2m_values_free(&v);
		if (rc != -EBADMSG)
			fail_msg("%s '%s': %d", bad[i].path, bad[i].text, rc);
	}
	/* Opaque: one value, raw. */
	struct lwm2m_values v;
	lwm2m_values_init(&v);
	struct lwm2m_path p = P("/19/0/0/1");
	assert_int_equal(content_opaque_decode(&p, (const uint8_t *)"\x01\x02", 2, &v), 0);
	uint8_t out[8];
	assert_int_equal(content_opaque_encode(&p, &v, out, sizeof(out)), 2);
	assert_int_equal(content_opaque_encode(&p, &v, out, 1), -ENOBUFS);
	struct lwm2m_path inst = P("/19/0");
	assert_int_equal(content_opaque_decode(&inst, out, 2, &v), -EBADMSG);
	/* The value must be the base itself: a resource instance under a resource would be
	 * written to the whole resource (found by cross-format fuzzing of the decoders). */
	struct lwm2m_path res = P("/19/0/0");
	assert_int_equal(content_opaque_encode(&res, &v, out, sizeof(out)), -EINVAL);
	assert_int_equal(content_text_encode(&res, &v, out, sizeof(out)), -EINVAL);
	assert_int_equal(content_encode(CONTENT_TEXT, &res, &v, NULL, NULL, out, sizeof(out)),
			 -EINVAL);
	lwm2m_values_free(&v);
}

static void test_random_bytes(void **state)
{
	(void)state;
	const char *bases[] = { "/3", "/3/0", "/3/0/6", "/3/0/6/1", "/1/0", "/19/0/0" };
	uint32_t seed = 4242;
	uint8_t d[48];
	for (int round = 0; round < 100000; round++) {
		seed = seed * 1103515245u + 12345u;
		size_t len = (seed >> 16) % sizeof(d);
		for (size_t i = 0; i < len; i++) {
			seed = seed * 1103515245u + 12345u;
			d[i] = (uint8_t)(seed >> 16);
		}
		struct lwm2m_path base = P(bases[round % 6]);
		struct lwm2m_values v;
		lwm2m_values_init(&v);
		int rc = content_tlv_decode(&base, d, len, model_type_of, NULL, &v);
		assert_true(rc == 0 || rc == -EBADMSG || rc == -E2BIG);
		if (rc == 0 && v.count > 0) {
			uint8_t out[512];
			int n = content_tlv_encode(&base, &v, model_type_of, NULL, out, sizeof(out));
			assert_true(n > 0 || n == -EINVAL);
		}
		lwm2m_values_free(&v);
		rc = content_text_decode(&base, d, len, model_type_of, NULL, &v);
		assert_true(rc == 0 || rc == -EBADMSG);
		lwm2m_values_free(&v);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode_device_instance),
		cmocka_unit_test(test_encode_exact),
		cmocka_unit_test(test_round_trip_every_type),
		cmocka_unit_test(test_malformed_tlv),
		cmocka_unit_test(test_malformed_text),
		cmocka_unit_test(test_random_bytes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
