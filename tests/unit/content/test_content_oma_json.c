/*
 * Tests of the OMA LwM2M JSON codec (11543): the LwM2M 1.0 specification's Device object
 * example, opaque values in sv, round trips at every depth, and malformed documents.
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
	return content_oma_json_decode(&b, (const uint8_t *)doc, strlen(doc), model_type_of, NULL,
				       v);
}

static void test_spec_example(void **state)
{
	(void)state;
	const char *doc =
		"{\"bn\":\"/3/0/\",\"e\":[{\"n\":\"0\",\"sv\":\"Open Mobile Alliance\"},"
		"{\"n\":\"1\",\"sv\":\"Lightweight M2M Client\"},{\"n\":\"2\",\"sv\":\"345000123\"},"
		"{\"n\":\"3\",\"sv\":\"1.0\"},{\"n\":\"6/0\",\"v\":1},{\"n\":\"6/1\",\"v\":5},"
		"{\"n\":\"7/0\",\"v\":3800},{\"n\":\"7/1\",\"v\":5000},{\"n\":\"8/0\",\"v\":125},"
		"{\"n\":\"8/1\",\"v\":900},{\"n\":\"9\",\"v\":100},{\"n\":\"10\",\"v\":15},"
		"{\"n\":\"11/0\",\"v\":0},{\"n\":\"13\",\"v\":1367491215},"
		"{\"n\":\"14\",\"sv\":\"+02:00\"},{\"n\":\"16\",\"sv\":\"U\"}]}";
	struct lwm2m_values v;
	assert_int_equal(decode("/3/0", doc, &v), 0);
	assert_int_equal(v.count, 16);
	assert_memory_equal(v.items[0].v.bytes.data, "Open Mobile Alliance", 20);
	assert_int_equal(v.items[13].type, LWM2M_TYPE_TIME);
	assert_int_equal(v.items[13].v.i, 1367491215);
	uint8_t out[1024];
	struct lwm2m_path base = P("/3/0");
	int n = content_oma_json_encode(&base, &v, out, sizeof(out));
	assert_true(n > 0);
	struct lwm2m_values back;
	lwm2m_values_init(&back);
	assert_int_equal(content_oma_json_decode(&base, out, (size_t)n, model_type_of, NULL, &back),
			 0);
	assert_int_equal(back.count, 16);
	lwm2m_values_free(&back);
	lwm2m_values_free(&v);
}

static void test_opaque_objlnk_and_depths(void **state)
{
	(void)state;
	struct lwm2m_values v;
	/* 19/0/0 is opaque: its sv is base64. 1/0/10 is an object link. */
	assert_int_equal(decode("/19/0", "{\"bn\":\"/19/0/\",\"e\":[{\"n\":\"0/0\",\"sv\":\"AQID\"}]}",
				&v),
			 0);
	assert_int_equal(v.items[0].type, LWM2M_TYPE_OPAQUE);
	assert_int_equal(v.items[0].v.bytes.len, 3);
	assert_int_equal(v.items[0].v.bytes.data[2], 3);
	uint8_t out[256];
	struct lwm2m_path base = P("/19/0");
	int n = content_oma_json_encode(&base, &v, out, sizeof(out));
	assert_true(n > 0);
	assert_non_null(strstr((char *)out, "\"sv\":\"AQID\""));
	lwm2m_values_free(&v);

	assert_int_equal(decode("/1/0", "{\"bn\":\"/1/0/\",\"e\":[{\"n\":\"10\",\"ov\":\"11:0\"},"
					"{\"n\":\"6\",\"bv\":false}]}",
				&v),
			 0);
	assert_int_equal(v.items[0].v.objlnk.obj, 11);
	assert_false(v.items[1].v.b);
	lwm2m_values_free(&v);

	/* A single resource, and a resource's instances, round trip. */
	const char *bases[] = { "/3/0/9", "/3/0/6" };
	const char *docs[] = { "{\"bn\":\"/3/0/9\",\"e\":[{\"v\":88}]}",
			       "{\"bn\":\"/3/0/6\",\"e\":[{\"n\":\"/0\",\"v\":1},{\"n\":\"/1\",\"v\":5}]}" };
	for (int i = 0; i < 2; i++) {
		assert_int_equal(decode(bases[i], docs[i], &v), 0);
		struct lwm2m_path b = P(bases[i]);
		n = content_oma_json_encode(&b, &v, out, sizeof(out));
		assert_true(n > 0);
		struct lwm2m_values back;
		lwm2m_values_init(&back);
		assert_int_equal(content_oma_json_decode(&b, out, (size_t)n, model_type_of, NULL,
							 &back),
				 0);
		assert_int_equal(back.count, v.count);
		lwm2m_values_free(&back);
		lwm2m_values_free(&v);
	}
}

static void test_malformed(void **state)
{
	(void)state;
	const char *bad[] = {
		"",
		"[]",
		"{\"bn\":\"/3/0/\"}",                                  /* no e */
		"{\"bn\":\"/3/0/\",\"e\":{}}",                         /* e not an array */
		"{\"bn\":3,\"e\":[]}",                                 /* bn not a string */
		"{\"bn\":\"/3/0/\",\"e\":[1]}",                        /* record not an object */
		"{\"bn\":\"/3/0/\",\"e\":[{\"n\":\"9\"}]}",            /* no value */
		"{\"bn\":\"/3/0/\",\"e\":[{\"n\":\"9\",\"v\":1,\"bv\":true}]}", /* two */
		"{\"bn\":\"/3/0/\",\"e\":[{\"n\":\"9\",\"sv\":\"1\"}]}",  /* sv for an integer */
		"{\"bn\":\"/3/0/\",\"e\":[{\"n\":\"0\",\"v\":1}]}",       /* v for a string */
		"{\"bn\":\"/19/0/\",\"e\":[{\"n\":\"0/0\",\"sv\":\"%%\"}]}", /* bad base64 */
		"{\"bn\":\"/4/0/\",\"e\":[{\"n\":\"0\",\"v\":1}]}",       /* outside /3/0 */
		"{\"bn\":\"/3/0/\",\"e\":[{\"n\":7,\"v\":1}]}",           /* n not a string */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct lwm2m_values v;
		const char *base = strstr(bad[i], "/19/0/") ? "/19/0" : "/3/0";
		int rc = decode(base, bad[i], &v);
		lwm2m_values_free(&v);
		if (rc != -EBADMSG)
			fail_msg("accepted %s (%d)", bad[i], rc);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spec_example),
		cmocka_unit_test(test_opaque_objlnk_and_depths),
		cmocka_unit_test(test_malformed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
