/*
 * Tests of the TLV codec (src/content/content_tlv.c) against OMA LwM2M Core 1.1 §7.4.3:
 * the specification's example payloads byte for byte in both directions, every header
 * form (8/16-bit ids, lengths in the type byte or in 8/16/24-bit fields) and every value
 * width, the nesting the format forbids and lengths that lie, and a mutation fuzz loop
 * that checks decode only ever returns 0 or a negative errno and that what it accepts
 * encodes back to something it accepts again.
 *
 * The type callback is a small fixed model, so that these tests do not move when the
 * built-in object models do.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "content/content.h"

#define TEST_OBJ 9999 /* resource n has type n (1 STRING ... 9 CORELNK); 2 is multiple */

/* Object 3 (Device), 2 (Access Control), 1 (Server) as far as the examples need them. */
static enum lwm2m_type test_type_of(void *ctx, uint16_t obj, uint16_t res, bool *multiple)
{
	(void)ctx;
	bool multi = false;
	enum lwm2m_type t = LWM2M_TYPE_NONE;
	switch (obj) {
	case 3:
		if (res <= 3 || res == 14 || res == 15 || res == 16)
			t = LWM2M_TYPE_STRING;
		else if (res == 6 || res == 7 || res == 8 || res == 11)
			t = LWM2M_TYPE_INTEGER, multi = true;
		else if (res == 9 || res == 10)
			t = LWM2M_TYPE_INTEGER;
		else if (res == 13)
			t = LWM2M_TYPE_TIME;
		break;
	case 2:
		if (res <= 3)
			t = LWM2M_TYPE_INTEGER, multi = res == 2;
		break;
	case 1:
		t = res == 1 ? LWM2M_TYPE_INTEGER : res == 6 ? LWM2M_TYPE_BOOLEAN : LWM2M_TYPE_NONE;
		break;
	case TEST_OBJ:
		if (res >= 1 && res <= 9)
			t = (enum lwm2m_type)res, multi = res == 2;
		break;
	}
	if (multiple)
		*multiple = multi;
	return t;
}

static struct lwm2m_path P(const char *s)
{
	struct lwm2m_path p;
	assert_int_equal(lwm2m_path_parse(s, strlen(s), &p), 0);
	return p;
}

static bool is_bytes(uint8_t type)
{
	return type == LWM2M_TYPE_STRING || type == LWM2M_TYPE_OPAQUE ||
	       type == LWM2M_TYPE_CORELNK;
}

static void assert_value_equal(const struct lwm2m_value *a, const struct lwm2m_value *b)
{
	assert_int_equal(a->path.len, b->path.len);
	for (uint8_t i = 0; i < a->path.len; i++)
		assert_int_equal(a->path.ids[i], b->path.ids[i]);
	assert_int_equal(a->type, b->type);
	switch (a->type) {
	case LWM2M_TYPE_INTEGER:
	case LWM2M_TYPE_TIME:
		assert_true(a->v.i == b->v.i);
		break;
	case LWM2M_TYPE_UNSIGNED:
		assert_true(a->v.u == b->v.u);
		break;
	case LWM2M_TYPE_FLOAT:
		/* Bitwise, so that -0.0 and 0.0 differ. */
		assert_memory_equal(&a->v.f, &b->v.f, sizeof(double));
		break;
	case LWM2M_TYPE_BOOLEAN:
		assert_int_equal(a->v.b, b->v.b);
		break;
	case LWM2M_TYPE_OBJLNK:
		assert_int_equal(a->v.objlnk.obj, b->v.objlnk.obj);
		assert_int_equal(a->v.objlnk.inst, b->v.objlnk.inst);
		break;
	default:
		assert_int_equal(a->v.bytes.len, b->v.bytes.len);
		if (a->v.bytes.len)
			assert_memory_equal(a->v.bytes.data, b->v.bytes.data, a->v.bytes.len);
	}
}

/* The Core specification's single-instance example: a Read of /3/0 answered in TLV. */
static const char device_tlv[] =
	"\xC8\x00\x14" "Open Mobile Alliance"
	"\xC8\x01\x16" "Lightweight M2M Client"
	"\xC8\x02\x09" "345000123"
	"\xC3\x03" "1.0"
	"\x86\x06" "\x41\x00\x01" "\x41\x01\x05"                 /* 6 Power Sources [1, 5] */
	"\x88\x07\x08" "\x42\x00\x0E\xD8" "\x42\x01\x13\x88"     /* 7 Voltage [3800, 5000] */
	"\x87\x08" "\x41\x00\x7D" "\x42\x01\x03\x84"             /* 8 Current [125, 900] */
	"\xC1\x09\x64"                                           /* 9 Battery Level 100 */
	"\xC1\x0A\x0F"                                           /* 10 Memory Free 15 */
	"\x83\x0B" "\x41\x00\x00"                                /* 11 Error Code [0] */
	"\xC4\x0D\x51\x82\x42\x8F"                               /* 13 Current Time */
	"\xC6\x0E" "+02:00"                                      /* 14 UTC Offset */
	"\xC1\x10" "U";                                          /* 16 Binding */
#define DEVICE_TLV_LEN (sizeof(device_tlv) - 1)

struct expect {
	const char *path;
	uint8_t type;
	int64_t i;
	const char *s;
};

static const struct expect device_values[] = {
	{ "/3/0/0", LWM2M_TYPE_STRING, 0, "Open Mobile Alliance" },
	{ "/3/0/1", LWM2M_TYPE_STRING, 0, "Lightweight M2M Client" },
	{ "/3/0/2", LWM2M_TYPE_STRING, 0, "345000123" },
	{ "/3/0/3", LWM2M_TYPE_STRING, 0, "1.0" },
	{ "/3/0/6/0", LWM2M_TYPE_INTEGER, 1, NULL },
	{ "/3/0/6/1", LWM2M_TYPE_INTEGER, 5, NULL },
	{ "/3/0/7/0", LWM2M_TYPE_INTEGER, 3800, NULL },
	{ "/3/0/7/1", LWM2M_TYPE_INTEGER, 5000, NULL },
	{ "/3/0/8/0", LWM2M_TYPE_INTEGER, 125, NULL },
	{ "/3/0/8/1", LWM2M_TYPE_INTEGER, 900, NULL },
	{ "/3/0/9", LWM2M_TYPE_INTEGER, 100, NULL },
	{ "/3/0/10", LWM2M_TYPE_INTEGER, 15, NULL },
	{ "/3/0/11/0", LWM2M_TYPE_INTEGER, 0, NULL },
	{ "/3/0/13", LWM2M_TYPE_TIME, 1367491215, NULL },
	{ "/3/0/14", LWM2M_TYPE_STRING, 0, "+02:00" },
	{ "/3/0/16", LWM2M_TYPE_STRING, 0, "U" },
};

static void assert_expected(const struct lwm2m_values *v, const struct expect *e, size_t n)
{
	assert_int_equal(v->count, n);
	for (size_t k = 0; k < n; k++) {
		struct lwm2m_value want = { .path = P(e[k].path), .type = e[k].type };
		if (e[k].s) {
			want.v.bytes.data = (uint8_t *)e[k].s;
			want.v.bytes.len = strlen(e[k].s);
		} else {
			want.v.i = e[k].i;
		}
		assert_value_equal(&v->items[k], &want);
	}
}

static void test_spec_device_instance(void **state)
{
	(void)state;
	const uint8_t *payload = (const uint8_t *)device_tlv;
	/* The hand-computed first header: resource (11), 8-bit id, 8-bit length, 20. */
	static const uint8_t first[] = { 0xC8, 0x00, 0x14 };
	assert_memory_equal(payload, first, 3);
	assert_int_equal(DEVICE_TLV_LEN, 121);

	struct lwm2m_values v;
	lwm2m_values_init(&v);
	struct lwm2m_path inst = P("/3/0");
	assert_int_equal(content_tlv_decode(&inst, payload, DEVICE_TLV_LEN, test_type_of, NULL, &v),
			 0);
	size_t n = sizeof(device_values) / sizeof(device_values[0]);
	assert_expected(&v, device_values, n);
	/* Strings are copies and NUL-terminated (content.c adds the byte). */
	assert_string_equal((const char *)v.items[0].v.bytes.data, "Open Mobile Alliance");

	/* The encoder picks the same shortest forms and the same order: the spec's bytes. */
	uint8_t out[256];
	int len = content_tlv_encode(&inst, &v, test_type_of, NULL, out, sizeof(out));
	assert_int_equal(len, DEVICE_TLV_LEN);
	assert_memory_equal(out, payload, DEVICE_TLV_LEN);

	/* Read at object level: the same resources inside instance 0 (121 = 8-bit length). */
	struct lwm2m_path obj = P("/3");
	len = content_tlv_encode(&obj, &v, test_type_of, NULL, out, sizeof(out));
	assert_int_equal(len, 3 + DEVICE_TLV_LEN);
	static const uint8_t wrapper[] = { 0x08, 0x00, 0x79 };
	assert_memory_equal(out, wrapper, 3);
	assert_memory_equal(out + 3, payload, DEVICE_TLV_LEN);

	struct lwm2m_values back;
	lwm2m_values_init(&back);
	assert_int_equal(content_tlv_decode(&obj, out, (size_t)len, test_type_of, NULL, &back), 0);
	assert_expected(&back, device_values, n);
	lwm2m_values_free(&back);

	/* Clients answering /3/0 with the instance wrapped once are accepted too. */
	assert_int_equal(content_tlv_decode(&inst, out, (size_t)len, test_type_of, NULL, &back), 0);
	assert_expected(&back, device_values, n);
	lwm2m_values_free(&back);
	lwm2m_values_free(&v);
}

/* The Core specification's multiple-instance example: a Read of /2 (Access Control). */
static const char acl_tlv[] =
	"\x08\x00\x0E"
	"\xC1\x00\x01" "\xC1\x01\x00" "\x83\x02" "\x41\x7F\x07" "\xC1\x03\x7F"
	"\x08\x02\x12"
	"\xC1\x00\x03" "\xC1\x01\x00" "\x87\x02" "\x41\x7F\x07" "\x61\x01\x36\x01"
	"\xC1\x03\x7F";
#define ACL_TLV_LEN (sizeof(acl_tlv) - 1)

static void test_spec_access_control_instances(void **state)
{
	(void)state;
	static const struct expect want[] = {
		{ "/2/0/0", LWM2M_TYPE_INTEGER, 1, NULL },
		{ "/2/0/1", LWM2M_TYPE_INTEGER, 0, NULL },
		{ "/2/0/2/127", LWM2M_TYPE_INTEGER, 7, NULL },
		{ "/2/0/3", LWM2M_TYPE_INTEGER, 127, NULL },
		{ "/2/2/0", LWM2M_TYPE_INTEGER, 3, NULL },
		{ "/2/2/1", LWM2M_TYPE_INTEGER, 0, NULL },
		{ "/2/2/2/127", LWM2M_TYPE_INTEGER, 7, NULL },
		{ "/2/2/2/310", LWM2M_TYPE_INTEGER, 1, NULL }, /* a 16-bit resource instance id */
		{ "/2/2/3", LWM2M_TYPE_INTEGER, 127, NULL },
	};
	struct lwm2m_values v;
	lwm2m_values_init(&v);
	struct lwm2m_path obj = P("/2");
	assert_int_equal(content_tlv_decode(&obj, (const uint8_t *)acl_tlv, ACL_TLV_LEN,
					    test_type_of, NULL, &v),
			 0);
	assert_expected(&v, want, sizeof(want) / sizeof(want[0]));
	uint8_t out[64];
	int len = content_tlv_encode(&obj, &v, test_type_of, NULL, out, sizeof(out));
	assert_int_equal(len, ACL_TLV_LEN);
	assert_memory_equal(out, acl_tlv, ACL_TLV_LEN);
	lwm2m_values_free(&v);
}

/* Reads of one resource, one multiple resource, one resource instance. */
static void test_spec_single_resources(void **state)
{
	(void)state;
	struct {
		const char *base;
		const char *tlv;
		size_t len;
		struct expect want[2];
		size_t count;
	} cases[] = {
		{ "/3/0/9", "\xC1\x09\x64", 3, { { "/3/0/9", LWM2M_TYPE_INTEGER, 100, NULL } }, 1 },
		{ "/3/0/6", "\x86\x06\x41\x00\x01\x41\x01\x05", 8,
		  { { "/3/0/6/0", LWM2M_TYPE_INTEGER, 1, NULL },
		    { "/3/0/6/1", LWM2M_TYPE_INTEGER, 5, NULL } }, 2 },
		{ "/3/0/6/1", "\x41\x01\x05", 3, { { "/3/0/6/1", LWM2M_TYPE_INTEGER, 5, NULL } }, 1 },
		{ "/1/0/1", "\xC2\x01\x0E\x10", 4, { { "/1/0/1", LWM2M_TYPE_INTEGER, 3600, NULL } }, 1 },
		{ "/1/0/6", "\xC1\x06\x01", 3, { { "/1/0/6", LWM2M_TYPE_BOOLEAN, 1, NULL } }, 1 },
	};
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		struct lwm2m_values v;
		lwm2m_values_init(&v);
		struct lwm2m_path base = P(cases[k].base);
		const uint8_t *tlv = (const uint8_t *)cases[k].tlv;
		assert_int_equal(content_tlv_decode(&base, tlv, cases[k].len, test_type_of, NULL, &v),
				 0);
		if (cases[k].want[0].type == LWM2M_TYPE_BOOLEAN) {
			assert_int_equal(v.count, 1);
			assert_true(v.items[0].v.b);
		} else {
			assert_expected(&v, cases[k].want, cases[k].count);
		}
		uint8_t out[32];
		int len = content_tlv_encode(&base, &v, test_type_of, NULL, out, sizeof(out));
		assert_int_equal(len, cases[k].len);
		assert_memory_equal(out, tlv, cases[k].len);
		lwm2m_values_free(&v);
	}

	/* The resource instances of /3/0/6 without their multiple-resource wrapper. */
	struct lwm2m_values v;
	lwm2m_values_init(&v);
	struct lwm2m_path res = P("/3/0/6");
	assert_int_equal(content_tlv_decode(&res, (const uint8_t *)"\x41\x00\x01\x41\x01\x05", 6,
					    test_type_of, NULL, &v),
			 0);
	assert_expected(&v, device_values + 4, 2);
	lwm2m_values_free(&v);
}

/* One opaque value of `len` bytes at /9999/0/<id>: its header must be `hdr`. */
static void check_header(uint16_t id, size_t len, const uint8_t *hdr, size_t hdr_len)
{
	uint8_t *data = malloc(len ? len : 1);
	uint8_t *out = malloc(len + 8);
	assert_non_null(data);
	assert_non_null(out);
	for (size_t i = 0; i < len; i++)
		data[i] = (uint8_t)(i * 7);
	char path[32];
	snprintf(path, sizeof(path), "/%d/0/%u", TEST_OBJ, id);
	struct lwm2m_value x = { .path = P(path), .type = LWM2M_TYPE_OPAQUE };
	x.v.bytes.data = data;
	x.v.bytes.len = len;
	struct lwm2m_values v, back;
	lwm2m_values_init(&v);
	lwm2m_values_init(&back);
	assert_int_equal(lwm2m_values_add(&v, &x), 0);
	struct lwm2m_path inst = P("/9999/0");
	int n = content_tlv_encode(&inst, &v, test_type_of, NULL, out, len + 8);
	assert_int_equal(n, hdr_len + len);
	assert_memory_equal(out, hdr, hdr_len);
	assert_int_equal(content_tlv_decode(&inst, out, (size_t)n, test_type_of, NULL, &back), 0);
	assert_int_equal(back.count, 1);
	assert_value_equal(&back.items[0], &x);
	lwm2m_values_free(&back);
	lwm2m_values_free(&v);
	free(out);
	free(data);
}

static void test_header_forms(void **state)
{
	(void)state;
	/* Resource 6 is OPAQUE; 255, 256 and 65534 are unknown and so decode as OPAQUE. */
	check_header(6, 0, (const uint8_t *)"\xC0\x06", 2);
	check_header(6, 7, (const uint8_t *)"\xC7\x06", 2);
	check_header(6, 8, (const uint8_t *)"\xC8\x06\x08", 3);
	check_header(6, 255, (const uint8_t *)"\xC8\x06\xFF", 3);
	check_header(6, 256, (const uint8_t *)"\xD0\x06\x01\x00", 4);
	check_header(6, 65535, (const uint8_t *)"\xD0\x06\xFF\xFF", 4);
	check_header(6, 65536, (const uint8_t *)"\xD8\x06\x01\x00\x00", 5);
	check_header(255, 1, (const uint8_t *)"\xC1\xFF", 2);
	check_header(256, 1, (const uint8_t *)"\xE1\x01\x00", 3);
	check_header(65534, 300, (const uint8_t *)"\xF0\xFF\xFE\x01\x2C", 5);

	/* Longer forms than needed are legal on input. */
	struct {
		const char *tlv;
		size_t len;
		int64_t want;
	} wide[] = {
		{ "\xC8\x09\x01\x64", 4, 100 },          /* 8-bit length field for 1 byte */
		{ "\xD0\x09\x00\x01\x64", 5, 100 },      /* 16-bit */
		{ "\xD8\x09\x00\x00\x01\x64", 6, 100 },  /* 24-bit */
		{ "\xE1\x00\x09\x64", 4, 100 },          /* 16-bit id 9 */
	};
	for (size_t k = 0; k < sizeof(wide) / sizeof(wide[0]); k++) {
		struct lwm2m_values v;
		lwm2m_values_init(&v);
		struct lwm2m_path inst = P("/3/0");
		assert_int_equal(content_tlv_decode(&inst, (const uint8_t *)wide[k].tlv, wide[k].len,
						    test_type_of, NULL, &v),
				 0);
		assert_int_equal(v.count, 1);
		assert_int_equal(v.items[0].path.ids[2], 9);
		assert_int_equal(v.items[0].v.i, wide[k].want);
		lwm2m_values_free(&v);
	}

	/* An object instance with a 16-bit id (256) holding boolean resource 5. */
	struct lwm2m_values v;
	lwm2m_values_init(&v);
	struct lwm2m_path obj = P("/9999");
	static const uint8_t inst256[] = { 0x23, 0x01, 0x00, 0xC1, 0x05, 0x01 };
	assert_int_equal(content_tlv_decode(&obj, inst256, sizeof(inst256), test_type_of, NULL, &v),
			 0);
	assert_int_equal(v.count, 1);
	assert_int_equal(v.items[0].path.ids[1], 256);
	assert_int_equal(v.items[0].type, LWM2M_TYPE_BOOLEAN);
	assert_true(v.items[0].v.b);
	uint8_t out[16];
	assert_int_equal(content_tlv_encode(&obj, &v, test_type_of, NULL, out, sizeof(out)),
			 sizeof(inst256));
	assert_memory_equal(out, inst256, sizeof(inst256));
	lwm2m_values_free(&v);
}

/* Encodes x alone at its own path and expects header + want; decodes it back. */
static void check_value(struct lwm2m_value x, const char *want, size_t want_len)
{
	struct lwm2m_values v, back;
	lwm2m_values_init(&v);
	lwm2m_values_init(&back);
	assert_int_equal(lwm2m_values_add(&v, &x), 0);
	uint8_t out[32];
	int n = content_tlv_encode(&x.path, &v, test_type_of, NULL, out, sizeof(out));
	/* Resource, 8-bit id; a length under 8 in the type byte, else an 8-bit field. */
	size_t hdr = want_len < 8 ? 2 : 3;
	assert_int_equal(n, hdr + want_len);
	assert_int_equal(out[0], want_len < 8 ? 0xC0 | want_len : 0xC8);
	assert_int_equal(out[1], x.path.ids[2]);
	if (hdr == 3)
		assert_int_equal(out[2], want_len);
	assert_memory_equal(out + hdr, want, want_len);
	assert_int_equal(content_tlv_decode(&x.path, out, (size_t)n, test_type_of, NULL, &back), 0);
	assert_int_equal(back.count, 1);
	assert_value_equal(&back.items[0], &x);
	lwm2m_values_free(&back);
	lwm2m_values_free(&v);
}

#define INT_CASE(value, bytes) \
	check_value((struct lwm2m_value){ .path = P("/9999/0/2"), .type = LWM2M_TYPE_INTEGER, \
					  .v.i = (value) }, bytes, sizeof(bytes) - 1)
#define UINT_CASE(value, bytes) \
	check_value((struct lwm2m_value){ .path = P("/9999/0/3"), .type = LWM2M_TYPE_UNSIGNED, \
					  .v.u = (value) }, bytes, sizeof(bytes) - 1)

static void test_value_widths(void **state)
{
	(void)state;
	/* Integers: the shortest of 1, 2, 4, 8 bytes of two's complement. */
	INT_CASE(0, "\x00");
	INT_CASE(127, "\x7F");
	INT_CASE(128, "\x00\x80");
	INT_CASE(-1, "\xFF");
	INT_CASE(-128, "\x80");
	INT_CASE(-129, "\xFF\x7F");
	INT_CASE(32767, "\x7F\xFF");
	INT_CASE(32768, "\x00\x00\x80\x00");
	INT_CASE(-32768, "\x80\x00");
	INT_CASE(-32769, "\xFF\xFF\x7F\xFF");
	INT_CASE(INT32_MAX, "\x7F\xFF\xFF\xFF");
	INT_CASE(INT32_MIN, "\x80\x00\x00\x00");
	INT_CASE((int64_t)INT32_MAX + 1, "\x00\x00\x00\x00\x80\x00\x00\x00");
	INT_CASE((int64_t)INT32_MIN - 1, "\xFF\xFF\xFF\xFF\x7F\xFF\xFF\xFF");
	INT_CASE(INT64_MAX, "\x7F\xFF\xFF\xFF\xFF\xFF\xFF\xFF");
	INT_CASE(INT64_MIN, "\x80\x00\x00\x00\x00\x00\x00\x00");
	/* Time is an integer on the wire. */
	check_value((struct lwm2m_value){ .path = P("/9999/0/7"), .type = LWM2M_TYPE_TIME,
					  .v.i = 1367491215 },
		    "\x51\x82\x42\x8F", 4);

	/* Unsigned: the shortest of 1, 2, 4, 8 bytes, with no sign bit to keep clear. */
	UINT_CASE(0, "\x00");
	UINT_CASE(255, "\xFF");
	UINT_CASE(256, "\x01\x00");
	UINT_CASE(65535, "\xFF\xFF");
	UINT_CASE(65536, "\x00\x01\x00\x00");
	UINT_CASE(UINT32_MAX, "\xFF\xFF\xFF\xFF");
	UINT_CASE((uint64_t)UINT32_MAX + 1, "\x00\x00\x00\x01\x00\x00\x00\x00");
	UINT_CASE(UINT64_MAX, "\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF");

	/* Floats: 4 bytes when single precision holds the value exactly, else 8. */
	struct lwm2m_value f = { .path = P("/9999/0/4"), .type = LWM2M_TYPE_FLOAT };
	f.v.f = 1.5;
	check_value(f, "\x3F\xC0\x00\x00", 4);
	f.v.f = -0.0;
	check_value(f, "\x80\x00\x00\x00", 4);
	f.v.f = 0.1;
	check_value(f, "\x3F\xB9\x99\x99\x99\x99\x99\x9A", 8);

	/* Booleans one byte, object links 16-bit object then 16-bit instance. */
	struct lwm2m_value b = { .path = P("/9999/0/5"), .type = LWM2M_TYPE_BOOLEAN };
	check_value(b, "\x00", 1);
	b.v.b = true;
	check_value(b, "\x01", 1);
	struct lwm2m_value l = { .path = P("/9999/0/8"), .type = LWM2M_TYPE_OBJLNK };
	l.v.objlnk.obj = 3;
	l.v.objlnk.inst = 0;
	check_value(l, "\x00\x03\x00\x00", 4);
	l.v.objlnk.obj = 65535;
	l.v.objlnk.inst = 65535;
	check_value(l, "\xFF\xFF\xFF\xFF", 4);
	/* An empty string is a zero-length value. */
	check_value((struct lwm2m_value){ .path = P("/9999/0/1"), .type = LWM2M_TYPE_STRING,
					  .v.bytes = { (uint8_t *)"", 0 } },
		    "", 0);

	/* Decoding accepts every legal width, not only the shortest. */
	struct {
		const char *tlv;
		size_t len;
		uint8_t type;
		uint64_t bits; /* i, u or the double's bits */
	} in[] = {
		{ "\xC8\x02\x08\x00\x00\x00\x00\x00\x00\x00\x01", 11, LWM2M_TYPE_INTEGER, 1 },
		{ "\xC2\x02\xFF\xFF", 4, LWM2M_TYPE_INTEGER, (uint64_t)-1 },
		{ "\xC4\x02\xFF\xFF\xFF\xFE", 6, LWM2M_TYPE_INTEGER, (uint64_t)-2 },
		{ "\xC2\x03\x00\xFF", 4, LWM2M_TYPE_UNSIGNED, 255 },
		{ "\xC1\x03\x80", 3, LWM2M_TYPE_UNSIGNED, 128 }, /* not -128 */
		{ "\xC4\x03\x80\x00\x00\x00", 6, LWM2M_TYPE_UNSIGNED, 0x80000000u },
	};
	for (size_t k = 0; k < sizeof(in) / sizeof(in[0]); k++) {
		struct lwm2m_values v;
		lwm2m_values_init(&v);
		struct lwm2m_path inst = P("/9999/0");
		assert_int_equal(content_tlv_decode(&inst, (const uint8_t *)in[k].tlv, in[k].len,
						    test_type_of, NULL, &v),
				 0);
		assert_int_equal(v.count, 1);
		assert_int_equal(v.items[0].type, in[k].type);
		assert_true(v.items[0].v.u == in[k].bits);
		lwm2m_values_free(&v);
	}
	/* Floats: pi in single and double precision. */
	struct lwm2m_values v;
	lwm2m_values_init(&v);
	struct lwm2m_path inst = P("/9999/0");
	assert_int_equal(content_tlv_decode(&inst, (const uint8_t *)"\xC4\x04\x40\x49\x0F\xDB", 6,
					    test_type_of, NULL, &v),
			 0);
	assert_true(v.items[0].v.f == (double)3.14159265f);
	assert_int_equal(content_tlv_decode(&inst,
					    (const uint8_t *)"\xC8\x04\x08\x40\x09\x21\xFB\x54\x44"
							     "\x2D\x18",
					    11, test_type_of, NULL, &v),
			 0);
	assert_true(v.items[1].v.f == 3.141592653589793);
	lwm2m_values_free(&v);
}

/* Every type, several instances, 16-bit ids and a multiple resource, through /9999. */
static void test_round_trip_every_type(void **state)
{
	(void)state;
	static uint8_t long_text[300];
	memset(long_text, 'x', sizeof(long_text));
	struct lwm2m_value x[] = {
		{ .path = P("/9999/0/1"), .type = LWM2M_TYPE_STRING,
		  .v.bytes = { (uint8_t *)"h\xC3\xA9llo", 6 } },
		{ .path = P("/9999/0/2/0"), .type = LWM2M_TYPE_INTEGER, .v.i = INT64_MIN },
		{ .path = P("/9999/0/2/1"), .type = LWM2M_TYPE_INTEGER, .v.i = -5 },
		{ .path = P("/9999/0/2/65534"), .type = LWM2M_TYPE_INTEGER, .v.i = 70000 },
		{ .path = P("/9999/0/3"), .type = LWM2M_TYPE_UNSIGNED, .v.u = UINT64_MAX },
		{ .path = P("/9999/0/4"), .type = LWM2M_TYPE_FLOAT, .v.f = -2.25e300 },
		{ .path = P("/9999/0/5"), .type = LWM2M_TYPE_BOOLEAN, .v.b = true },
		{ .path = P("/9999/0/6"), .type = LWM2M_TYPE_OPAQUE,
		  .v.bytes = { (uint8_t *)"\0\1\2", 3 } },
		{ .path = P("/9999/0/7"), .type = LWM2M_TYPE_TIME, .v.i = 1764050000 },
		{ .path = P("/9999/0/8"), .type = LWM2M_TYPE_OBJLNK, .v.objlnk = { 65535, 3 } },
		{ .path = P("/9999/0/9"), .type = LWM2M_TYPE_CORELNK,
		  .v.bytes = { (uint8_t *)"</3/0>", 6 } },
		{ .path = P("/9999/300/1"), .type = LWM2M_TYPE_STRING,
		  .v.bytes = { long_text, sizeof(long_text) } },
		{ .path = P("/9999/300/4"), .type = LWM2M_TYPE_FLOAT, .v.f = 0.5 },
		{ .path = P("/9999/65534/5"), .type = LWM2M_TYPE_BOOLEAN, .v.b = false },
	};
	size_t n = sizeof(x) / sizeof(x[0]);
	struct lwm2m_values v, back;
	lwm2m_values_init(&v);
	lwm2m_values_init(&back);
	/* Added out of order: the encoder groups by instance and resource itself. */
	for (size_t k = n; k > 0; k--)
		assert_int_equal(lwm2m_values_add(&v, &x[k - 1]), 0);
	uint8_t out[1024];
	struct lwm2m_path obj = P("/9999");
	int len = content_tlv_encode(&obj, &v, test_type_of, NULL, out, sizeof(out));
	assert_true(len > 0);
	assert_int_equal(content_tlv_decode(&obj, out, (size_t)len, test_type_of, NULL, &back), 0);
	assert_int_equal(back.count, n);
	for (size_t k = 0; k < n; k++)
		assert_value_equal(&back.items[k], &x[k]);
	lwm2m_values_free(&back);
	lwm2m_values_free(&v);
}

/* Resources the model does not know, or no model at all: opaque bytes, copied. */
static void test_untyped_is_opaque(void **state)
{
	(void)state;
	uint8_t payload[] = { 0xC3, 0x05, 'a', 'b', 'c', 0x43, 0x07, 1, 2, 3 };
	struct lwm2m_values v;
	lwm2m_values_init(&v);
	struct lwm2m_path res = P("/4242/0/5");
	/* Not a valid /4242/0/5 (two TLVs): only the first belongs here. */
	assert_int_equal(content_tlv_decode(&res, payload, sizeof(payload), NULL, NULL, &v),
			 -EBADMSG);
	lwm2m_values_free(&v);

	struct lwm2m_path inst = P("/4242/0");
	assert_int_equal(content_tlv_decode(&inst, payload, 5, NULL, NULL, &v), 0);
	struct lwm2m_path ri = P("/4242/0/9/7");
	assert_int_equal(content_tlv_decode(&ri, payload + 5, 5, test_type_of, NULL, &v), 0);
	assert_int_equal(v.count, 2);
	assert_int_equal(v.items[0].type, LWM2M_TYPE_OPAQUE);
	assert_int_equal(v.items[1].type, LWM2M_TYPE_OPAQUE);
	assert_int_equal(v.items[1].path.len, 4);
	/* The list owns copies: the datagram can go. */
	memset(payload, 0, sizeof(payload));
	assert_memory_equal(v.items[0].v.bytes.data, "abc", 3);
	assert_memory_equal(v.items[1].v.bytes.data, "\1\2\3", 3);
	lwm2m_values_free(&v);

	/* Decoding appends to what the list already holds. */
	lwm2m_values_init(&v);
	struct lwm2m_path inst3 = P("/3/0");
	assert_int_equal(content_tlv_decode(&inst3, (const uint8_t *)"\xC1\x09\x64", 3,
					    test_type_of, NULL, &v),
			 0);
	assert_int_equal(content_tlv_decode(&inst3, (const uint8_t *)"\xC1\x0A\x0F", 3,
					    test_type_of, NULL, &v),
			 0);
	assert_int_equal(v.count, 2);
	assert_int_equal(v.items[1].v.i, 15);
	lwm2m_values_free(&v);

	/* An empty object or instance is no values, not an error. NULL, as an answer without a
	 * payload gives it, used to be offset before the length was looked at: undefined
	 * behaviour that clang's UBSan reports (build-fuzz builds the core so). */
	assert_int_equal(content_tlv_decode(&inst3, NULL, 0, test_type_of, NULL, &v), 0);
	struct lwm2m_path obj = P("/3");
	assert_int_equal(content_tlv_decode(&obj, (const uint8_t *)"", 0, test_type_of, NULL, &v),
			 0);
	assert_int_equal(v.count, 0);
	lwm2m_values_free(&v);
}

static void test_malformed(void **state)
{
	(void)state;
	struct {
		const char *why;
		const char *base;
		const char *tlv;
		size_t len;
	} bad[] = {
		/* Empty where a value is required. */
		{ "empty resource", "/3/0/9", "", 0 },
		{ "empty resource instance", "/3/0/6/1", "", 0 },
		/* Truncated headers. */
		{ "type byte only", "/3/0", "\xC1", 1 },
		{ "16-bit id truncated", "/3/0", "\xE1\x00", 2 },
		{ "8-bit length missing", "/3/0", "\xC8\x00", 2 },
		{ "16-bit length truncated", "/3/0", "\xD0\x00\x01", 3 },
		{ "24-bit length truncated", "/3/0", "\xD8\x00\x00\x01", 4 },
		{ "a truncated header after a good TLV", "/3/0", "\xC1\x09\x64\xC8", 4 },
		/* Lengths past the end, of the payload or of the enclosing TLV. */
		{ "inline length past the end", "/3/0", "\xC4\x09\x01", 3 },
		{ "8-bit length past the end", "/3/0", "\xC8\x00\x05" "abcd", 7 },
		{ "16-bit length past the end", "/3/0", "\xD0\x00\x01\x00" "a", 5 },
		{ "24-bit length of 65536 with 3 bytes", "/3/0", "\xD8\x00\x01\x00\x00" "abc", 8 },
		{ "24-bit length of 16M with 3 bytes", "/3/0", "\xD8\x00\xFF\xFF\xFF" "abc", 8 },
		{ "multiple resource past the end", "/3/0", "\x86\x06\x41\x00\x01\x41\x01", 7 },
		{ "instance past the end", "/3", "\x03\x00\xC1\x09", 4 },
		{ "resource overruns its instance", "/3", "\x02\x00\xC1\x09\x64", 5 },
		{ "instance overruns its multiple resource", "/3/0", "\x82\x06\x41\x00\x01", 5 },
		/* Nesting the format does not allow. */
		{ "resource instance nested in a resource instance", "/3/0/6",
		  "\x43\x00\x41\x00\x01", 5 },
		{ "resource instance in a resource instance in a multiple resource", "/3/0",
		  "\x85\x06\x43\x00\x41\x00\x01", 7 },
		{ "object instance inside a multiple resource", "/3/0",
		  "\x85\x06\x03\x00\xC1\x09\x01", 7 },
		{ "multiple resource inside a multiple resource", "/3/0",
		  "\x85\x06\x83\x00\x41\x00\x01", 7 },
		{ "resource inside a multiple resource", "/3/0", "\x83\x06\xC1\x00\x01", 5 },
		{ "object instance inside an object instance", "/3",
		  "\x05\x00\x03\x00\xC1\x09\x01", 7 },
		{ "resource instance directly in an instance", "/3/0", "\x41\x00\x01", 3 },
		{ "resource at object level", "/3", "\xC1\x09\x64", 3 },
		{ "multiple resource at object level", "/3", "\x83\x06\x41\x00\x01", 5 },
		{ "object instance at resource level", "/3/0/9", "\x03\x00\xC1\x09\x64", 5 },
		{ "multiple resource at resource-instance level", "/3/0/6/1",
		  "\x86\x06\x41\x00\x01\x41\x01\x05", 8 },
		/* Other paths than the request named. */
		{ "wrapped in another instance", "/3/0", "\x03\x01\xC1\x09\x64", 5 },
		{ "two instance wrappers for one instance", "/3/0",
		  "\x03\x00\xC1\x09\x64\x03\x00\xC1\x09\x64", 10 },
		{ "another resource than asked", "/3/0/9", "\xC1\x0A\x0F", 3 },
		{ "two resources for one", "/3/0/9", "\xC1\x09\x64\xC1\x09\x64", 6 },
		{ "another multiple resource than asked", "/3/0/6",
		  "\x86\x07\x41\x00\x01\x41\x01\x05", 8 },
		{ "another resource instance than asked", "/3/0/6/1", "\x41\x00\x01", 3 },
		{ "two resource instances for one", "/3/0/6/1", "\x41\x01\x05\x41\x01\x05", 6 },
		/* Value sizes the type cannot have. */
		{ "integer of 0 bytes", "/3/0", "\xC0\x09", 2 },
		{ "integer of 3 bytes", "/3/0", "\xC3\x09\x00\x00\x64", 5 },
		{ "integer of 16 bytes", "/3/0",
		  "\xC8\x09\x10" "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x64", 19 },
		{ "time of 5 bytes", "/3/0", "\xC5\x0D\x00\x51\x82\x42\x8F", 7 },
		{ "resource instance integer of 3 bytes", "/3/0/6/0", "\x43\x00\x00\x00\x01", 5 },
		{ "unsigned of 3 bytes", "/9999/0", "\xC3\x03\x00\x00\x01", 5 },
		{ "float of 2 bytes", "/9999/0", "\xC2\x04\x3F\xC0", 4 },
		{ "float of 0 bytes", "/9999/0", "\xC0\x04", 2 },
		{ "boolean of 0 bytes", "/9999/0", "\xC0\x05", 2 },
		{ "boolean of 2 bytes", "/9999/0", "\xC2\x05\x00\x01", 4 },
		{ "boolean 2", "/9999/0", "\xC1\x05\x02", 3 },
		{ "object link of 3 bytes", "/9999/0", "\xC3\x08\x00\x03\x00", 5 },
		{ "object link of 5 bytes", "/9999/0", "\xC5\x08\x00\x03\x00\x00\x00", 7 },
		/* Id 65535 is reserved (Core §7.1), whatever the TLV (found by fuzz_content_tlv). */
		{ "resource id 65535", "/3/0", "\xE1\xFF\xFF\x01", 4 },
		{ "object instance id 65535", "/3", "\x23\xFF\xFF\xC1\x09\x64", 6 },
		{ "resource instance id 65535", "/3/0", "\x84\x06\x61\xFF\xFF\x01", 6 },
		/* Floats no other format decodes either (found by fuzz_content_tlv). */
		{ "float NaN", "/9999/0", "\xC4\x04\x7F\xC0\x00\x00", 6 },
		{ "float -infinity", "/9999/0", "\xC4\x04\xFF\x80\x00\x00", 6 },
		{ "double infinity", "/9999/0", "\xC8\x04\x08\x7F\xF0\0\0\0\0\0\0", 11 },
	};
	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		struct lwm2m_values v;
		lwm2m_values_init(&v);
		struct lwm2m_path base = P(bad[k].base);
		int rc = content_tlv_decode(&base, (const uint8_t *)bad[k].tlv, bad[k].len,
					    test_type_of, NULL, &v);
		lwm2m_values_free(&v);
		if (rc != -EBADMSG)
			fail_msg("%s: %d", bad[k].why, rc);
	}

	/* TLV at the root (composite operations) is not defined. */
	struct lwm2m_path root = { .len = 0 };
	struct lwm2m_values v;
	lwm2m_values_init(&v);
	assert_int_equal(content_tlv_decode(&root, (const uint8_t *)"\xC1\x09\x64", 3, test_type_of,
					    NULL, &v),
			 -EBADMSG);
	lwm2m_values_free(&v);
}

/* A payload of more values than CONTENT_MAX_VALUES is refused, not truncated. */
static void test_too_many_values(void **state)
{
	(void)state;
	size_t count = CONTENT_MAX_VALUES + 1;
	uint8_t *p = malloc(8 + count * 4);
	assert_non_null(p);
	size_t inner = 0;
	for (size_t i = 0; i < count; i++) {
		uint8_t *q = p + 4 + inner;
		if (i < 256) {
			q[0] = 0x41, q[1] = (uint8_t)i, q[2] = 1;
			inner += 3;
		} else {
			q[0] = 0x61, q[1] = (uint8_t)(i >> 8), q[2] = (uint8_t)i, q[3] = 1;
			inner += 4;
		}
	}
	/* Multiple resource 6, 8-bit id, 16-bit length. */
	p[0] = 0x90, p[1] = 6, p[2] = (uint8_t)(inner >> 8), p[3] = (uint8_t)inner;
	struct lwm2m_values v;
	lwm2m_values_init(&v);
	struct lwm2m_path inst = P("/3/0");
	assert_int_equal(content_tlv_decode(&inst, p, 4 + inner, test_type_of, NULL, &v), -E2BIG);
	lwm2m_values_free(&v);
	free(p);
}

static void test_encode_errors(void **state)
{
	(void)state;
	struct lwm2m_values v;
	lwm2m_values_init(&v);
	uint8_t out[256];
	struct lwm2m_path inst = P("/3/0");
	/* Nothing to encode. */
	assert_int_equal(content_tlv_encode(&inst, &v, test_type_of, NULL, out, sizeof(out)),
			 -EINVAL);

	/* A value without a type. */
	struct lwm2m_value none = { .path = P("/3/0/9"), .type = LWM2M_TYPE_NONE };
	assert_int_equal(lwm2m_values_add(&v, &none), 0);
	assert_int_equal(content_tlv_encode(&inst, &v, test_type_of, NULL, out, sizeof(out)),
			 -EINVAL);
	lwm2m_values_free(&v);

	/* A resource given both as a single value and as instances. */
	struct lwm2m_value a = { .path = P("/3/0/6"), .type = LWM2M_TYPE_INTEGER, .v.i = 1 };
	struct lwm2m_value b = { .path = P("/3/0/6/0"), .type = LWM2M_TYPE_INTEGER, .v.i = 1 };
	assert_int_equal(lwm2m_values_add(&v, &a), 0);
	assert_int_equal(lwm2m_values_add(&v, &b), 0);
	assert_int_equal(content_tlv_encode(&inst, &v, test_type_of, NULL, out, sizeof(out)),
			 -EINVAL);
	lwm2m_values_free(&v);

	/* Two values at one resource path. */
	assert_int_equal(lwm2m_values_add(&v, &a), 0);
	assert_int_equal(lwm2m_values_add(&v, &a), 0);
	assert_int_equal(content_tlv_encode(&inst, &v, test_type_of, NULL, out, sizeof(out)),
			 -EINVAL);
	lwm2m_values_free(&v);

	/* A resource-instance base takes exactly one resource-instance value. */
	struct lwm2m_path ri = P("/3/0/6/0");
	assert_int_equal(lwm2m_values_add(&v, &a), 0);
	assert_int_equal(content_tlv_encode(&ri, &v, test_type_of, NULL, out, sizeof(out)),
			 -EINVAL);
	lwm2m_values_free(&v);
	assert_int_equal(lwm2m_values_add(&v, &b), 0);
	assert_int_equal(lwm2m_values_add(&v, &b), 0);
	assert_int_equal(content_tlv_encode(&ri, &v, test_type_of, NULL, out, sizeof(out)),
			 -EINVAL);
	lwm2m_values_free(&v);

	/* Through the dispatcher, a value outside the base is refused. */
	struct lwm2m_value other = { .path = P("/3/1/9"), .type = LWM2M_TYPE_INTEGER, .v.i = 1 };
	assert_int_equal(lwm2m_values_add(&v, &other), 0);
	assert_int_equal(content_encode(CONTENT_TLV, &inst, &v, test_type_of, NULL, out,
					sizeof(out)),
			 -EINVAL);
	lwm2m_values_free(&v);
}

/* Every buffer too small by any amount gives -ENOBUFS and nothing written past cap. */
static void test_encode_buffer_bounds(void **state)
{
	(void)state;
	struct lwm2m_values v;
	lwm2m_values_init(&v);
	struct lwm2m_path obj = P("/3");
	struct lwm2m_path inst = P("/3/0");
	assert_int_equal(content_tlv_decode(&inst, (const uint8_t *)device_tlv, DEVICE_TLV_LEN,
					    test_type_of, NULL, &v),
			 0);
	const size_t need = 3 + DEVICE_TLV_LEN;
	uint8_t out[3 + DEVICE_TLV_LEN + 16];
	for (size_t cap = 0; cap < need; cap++) {
		memset(out, 0xAA, sizeof(out));
		assert_int_equal(content_tlv_encode(&obj, &v, test_type_of, NULL, out, cap),
				 -ENOBUFS);
		for (size_t i = cap; i < sizeof(out); i++)
			assert_int_equal(out[i], 0xAA);
	}
	assert_int_equal(content_tlv_encode(&obj, &v, test_type_of, NULL, out, need), need);
	lwm2m_values_free(&v);
}

/*
 * Random bytes, and the example payloads with bytes flipped, cut and inserted: decode
 * returns 0 or a negative errno, what it accepts is well-formed (paths under the base,
 * typed), and encodes to something that decodes to as many values again.
 */
static uint32_t rnd(uint32_t *seed)
{
	*seed = *seed * 1103515245u + 12345u;
	return *seed >> 8;
}

static void test_random_and_mutated(void **state)
{
	(void)state;
	static const struct {
		const char *base;
		const char *tlv;
		size_t len;
	} seeds[] = {
		{ "/3/0", device_tlv, DEVICE_TLV_LEN },
		{ "/2", acl_tlv, ACL_TLV_LEN },
		{ "/3/0/6", "\x86\x06\x41\x00\x01\x41\x01\x05", 8 },
		{ "/9999/0", "\xC1\x05\x01\xC4\x04\x3F\xC0\x00\x00\xC4\x08\x00\x03\x00\x00", 15 },
	};
	static const char *const bases[] = { "/3", "/3/0", "/3/0/6", "/3/0/6/1", "/3/0/9",
					     "/2", "/9999/0", "/9999/0/2", "/4242/1" };
	const size_t nbases = sizeof(bases) / sizeof(bases[0]);
	uint32_t seed = 20251125;
	uint8_t d[160];
	uint8_t out[512];
	int accepted = 0;
	for (int round = 0; round < 100000; round++) {
		size_t len;
		const char *base_s;
		if (round % 2 == 0) {
			len = rnd(&seed) % 64;
			for (size_t i = 0; i < len; i++)
				d[i] = (uint8_t)rnd(&seed);
			base_s = bases[rnd(&seed) % nbases];
		} else {
			size_t s = rnd(&seed) % (sizeof(seeds) / sizeof(seeds[0]));
			len = seeds[s].len;
			memcpy(d, seeds[s].tlv, len);
			base_s = rnd(&seed) % 4 ? seeds[s].base : bases[rnd(&seed) % nbases];
			for (uint32_t m = 1 + rnd(&seed) % 3; m > 0 && len > 0; m--) {
				size_t at = rnd(&seed) % len;
				switch (rnd(&seed) % 4) {
				case 0:
					d[at] ^= (uint8_t)(1u << (rnd(&seed) % 8));
					break;
				case 1:
					d[at] = (uint8_t)rnd(&seed);
					break;
				case 2:
					len = at;
					break;
				default:
					if (len < sizeof(d)) {
						memmove(d + at + 1, d + at, len - at);
						d[at] = (uint8_t)rnd(&seed);
						len++;
					}
				}
			}
		}
		struct lwm2m_path base = P(base_s);
		struct lwm2m_values v, back;
		lwm2m_values_init(&v);
		lwm2m_values_init(&back);
		int rc = content_tlv_decode(&base, d, len, test_type_of, NULL, &v);
		assert_true(rc == 0 || rc == -EBADMSG || rc == -E2BIG);
		if (rc == 0 && v.count > 0) {
			accepted++;
			for (size_t k = 0; k < v.count; k++) {
				const struct lwm2m_value *x = &v.items[k];
				assert_true(x->path.len == 3 || x->path.len == 4);
				assert_true(lwm2m_path_under(&x->path, &base));
				assert_int_not_equal(x->type, LWM2M_TYPE_NONE);
				if (is_bytes(x->type))
					assert_int_equal(x->v.bytes.data[x->v.bytes.len], 0);
			}
			/* -EINVAL: a resource repeated in the input cannot be written back. */
			int n = content_tlv_encode(&base, &v, test_type_of, NULL, out, sizeof(out));
			assert_true(n > 0 || n == -EINVAL);
			if (n > 0) {
				assert_int_equal(content_tlv_decode(&base, out, (size_t)n,
								    test_type_of, NULL, &back),
						 0);
				assert_int_equal(back.count, v.count);
			}
		}
		lwm2m_values_free(&back);
		lwm2m_values_free(&v);
	}
	/* The loop is only worth its time if a fair share of inputs got through. */
	assert_true(accepted > 1000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spec_device_instance),
		cmocka_unit_test(test_spec_access_control_instances),
		cmocka_unit_test(test_spec_single_resources),
		cmocka_unit_test(test_header_forms),
		cmocka_unit_test(test_value_widths),
		cmocka_unit_test(test_round_trip_every_type),
		cmocka_unit_test(test_untyped_is_opaque),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_too_many_values),
		cmocka_unit_test(test_encode_errors),
		cmocka_unit_test(test_encode_buffer_bounds),
		cmocka_unit_test(test_random_and_mutated),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
