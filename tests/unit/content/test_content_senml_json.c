/*
 * Tests of the SenML JSON codec: the LwM2M 1.1 specification's example, both naming
 * styles clients use, every value field, base times, round trips, and malformed documents.
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

static int decode(const char *base, const char *doc, struct lwm2m_values *v)
{
	struct lwm2m_path b = P(base);
	lwm2m_values_init(v);
	return content_senml_json_decode(&b, (const uint8_t *)doc, strlen(doc), model_type_of,
					 NULL, v);
}

static void test_spec_example(void **state)
{
	(void)state;
	/* Core 1.1 §7.4.5: Read /3/0 answered in SenML JSON. */
	const char *doc =
		"[{\"bn\":\"/3/0/\",\"n\":\"0\",\"vs\":\"Open Mobile Alliance\"},"
		"{\"n\":\"1\",\"vs\":\"Lightweight M2M Client\"},"
		"{\"n\":\"2\",\"vs\":\"345000123\"},{\"n\":\"3\",\"vs\":\"1.0\"},"
		"{\"n\":\"6/0\",\"v\":1},{\"n\":\"6/1\",\"v\":5},"
		"{\"n\":\"7/0\",\"v\":3800},{\"n\":\"7/1\",\"v\":5000},"
		"{\"n\":\"9\",\"v\":100},{\"n\":\"13\",\"v\":1367491215},"
		"{\"n\":\"14\",\"vs\":\"+02:00\"},{\"n\":\"16\",\"vs\":\"U\"}]";
	struct lwm2m_values v;
	assert_int_equal(decode("/3/0", doc, &v), 0);
	assert_int_equal(v.count, 12);
	assert_memory_equal(v.items[0].v.bytes.data, "Open Mobile Alliance", 20);
	assert_int_equal(v.items[5].path.len, 4);
	assert_int_equal(v.items[5].path.ids[3], 1);
	assert_int_equal(v.items[5].v.i, 5);
	assert_int_equal(v.items[9].type, LWM2M_TYPE_TIME);
	assert_int_equal(v.items[9].v.i, 1367491215);

	/* Encoded again it reads back the same. */
	uint8_t out[1024];
	struct lwm2m_path base = P("/3/0");
	int n = content_senml_json_encode(&base, &v, out, sizeof(out));
	assert_true(n > 0);
	const char *start = "[{\"bn\":\"/3/0/\",\"n\":\"0\",\"vs\":\"Open";
	assert_int_equal(strncmp((char *)out, start, strlen(start)), 0);
	struct lwm2m_values back;
	lwm2m_values_init(&back);
	assert_int_equal(content_senml_json_decode(&base, out, (size_t)n, model_type_of, NULL,
						   &back),
			 0);
	assert_int_equal(back.count, 12);
	assert_int_equal(back.items[9].v.i, 1367491215);
	lwm2m_values_free(&back);
	lwm2m_values_free(&v);
}

static void test_naming_styles_and_fields(void **state)
{
	(void)state;
	struct lwm2m_values v;
	/* bn without the trailing slash, n with a leading one. */
	assert_int_equal(decode("/3/0", "[{\"bn\":\"/3/0\",\"n\":\"/9\",\"v\":42}]", &v), 0);
	assert_int_equal(v.items[0].path.ids[2], 9);
	lwm2m_values_free(&v);
	/* Only bn, only n. */
	assert_int_equal(decode("/3/0/9", "[{\"bn\":\"/3/0/9\",\"v\":7}]", &v), 0);
	lwm2m_values_free(&v);
	assert_int_equal(decode("/", "[{\"n\":\"/3/0/9\",\"v\":7},{\"n\":\"/1/0/1\",\"v\":60}]",
				&v),
			 0);
	assert_int_equal(v.count, 2);
	lwm2m_values_free(&v);
	/* Every value field, on resources the model does not know. */
	assert_int_equal(decode("/5000/0",
				"[{\"bn\":\"/5000/0/\",\"bt\":1000,\"n\":\"1\",\"v\":1.5,\"t\":-5},"
				"{\"n\":\"2\",\"vs\":\"x\"},{\"n\":\"3\",\"vb\":true},"
				"{\"n\":\"4\",\"vd\":\"AQID_w\"},{\"n\":\"5\",\"vlo\":\"3:0\"},"
				"{\"n\":\"6\",\"v\":-3}]",
				&v),
			 0);
	assert_int_equal(v.count, 6);
	assert_int_equal(v.items[0].type, LWM2M_TYPE_FLOAT);
	assert_true(v.items[0].has_time);
	assert_int_equal(v.items[0].time, 995);
	assert_true(v.items[1].has_time); /* bt carries over */
	assert_int_equal(v.items[2].type, LWM2M_TYPE_BOOLEAN);
	assert_int_equal(v.items[3].type, LWM2M_TYPE_OPAQUE);
	assert_int_equal(v.items[3].v.bytes.len, 4);
	assert_int_equal(v.items[3].v.bytes.data[3], 0xff);
	assert_int_equal(v.items[4].v.objlnk.obj, 3);
	assert_int_equal(v.items[5].type, LWM2M_TYPE_INTEGER);
	assert_int_equal(v.items[5].v.i, -3);
	/* Opaque and object links survive a round trip. */
	uint8_t out[512];
	struct lwm2m_path base = P("/5000/0");
	int n = content_senml_json_encode(&base, &v, out, sizeof(out));
	assert_true(n > 0);
	assert_non_null(strstr((char *)out, "\"vd\":\"AQID_w\""));
	assert_non_null(strstr((char *)out, "\"vlo\":\"3:0\""));
	assert_int_equal(content_senml_json_encode(&base, &v, out, 10), -ENOBUFS);
	lwm2m_values_free(&v);
}

static void test_malformed(void **state)
{
	(void)state;
	const char *bad[] = {
		"",
		"not json",
		"{\"bn\":\"/3/0/\"}",                               /* not an array */
		"[1]",                                              /* record not an object */
		"[{\"bn\":\"/3/0/\",\"n\":\"x\",\"v\":1}]",         /* name not a path */
		"[{\"bn\":\"/3/0/\",\"n\":\"9\"}]",                 /* no value */
		"[{\"bn\":\"/3/0/\",\"n\":\"9\",\"v\":1,\"vs\":\"1\"}]", /* two values */
		"[{\"bn\":\"/3/1/\",\"n\":\"9\",\"v\":1}]",         /* outside /3/0 */
		"[{\"bn\":\"/3/0/\",\"n\":\"0\",\"v\":1}]",         /* v for a string resource */
		"[{\"bn\":\"/3/0/\",\"n\":\"9\",\"v\":1.5}]",       /* 1.5 for an integer */
		"[{\"bn\":\"/3/0/\",\"n\":\"9\",\"vs\":\"100\"}]",  /* a string for an integer */
		"[{\"bn\":\"/19/0/\",\"n\":\"0/0\",\"vd\":\"!!\"}]",/* bad base64url */
		"[{\"bn\":\"/5000/0/\",\"n\":\"1\",\"vlo\":\"3\"}]",/* bad object link */
		"[{\"bn\":7,\"n\":\"9\",\"v\":1}]",                 /* bn not a string */
		"[{\"bn\":\"/3/0/\",\"bn\":\"/3/0/\",\"n\":\"9\",\"v\":1}]", /* duplicate key */
		"[{\"bn\":\"/3/0/\",\"n\":\"9\",\"v\":1,\"t\":\"x\"}]",     /* t not a number */
		"[{\"bn\":\"/3\",\"n\":\"/0\",\"v\":1}]",          /* an instance, not a resource */
		"[{\"bn\":\"/3/0/\",\"n\":\"9\",\"v\":1,\"t\":1e300}]", /* a time past int64 */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct lwm2m_values v;
		int rc = decode("/3/0", bad[i], &v);
		lwm2m_values_free(&v);
		if (rc != -EBADMSG)
			fail_msg("accepted %s (%d)", bad[i], rc);
	}
}

static void test_random_bytes(void **state)
{
	(void)state;
	const char alphabet[] = "[]{}\",:0123/abnvstd -.e";
	uint32_t seed = 77;
	char d[64];
	for (int round = 0; round < 100000; round++) {
		seed = seed * 1103515245u + 12345u;
		size_t len = (seed >> 16) % sizeof(d);
		for (size_t i = 0; i < len; i++) {
			seed = seed * 1103515245u + 12345u;
			d[i] = alphabet[(seed >> 16) % (sizeof(alphabet) - 1)];
		}
		struct lwm2m_values v;
		lwm2m_values_init(&v);
		struct lwm2m_path base = P("/");
		int rc = content_senml_json_decode(&base, (uint8_t *)d, len, model_type_of, NULL, &v);
		assert_true(rc == 0 || rc == -EBADMSG);
		lwm2m_values_free(&v);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spec_example),
		cmocka_unit_test(test_naming_styles_and_fields),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_random_bytes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
