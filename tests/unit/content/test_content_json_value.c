/*
 * Tests of content_value_from_json (src/content/content_json_value.c): each LwM2M type
 * from the JSON values that fit it, untyped values taking their JSON type, and the
 * refusals — wrong JSON kinds, negative unsigned, bad base64, a buffer too small, objlnk
 * out of range or with trailing text.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "content/content.h"

static uint8_t buf[8];

/* content_value_from_json of the JSON text as type; v filled. */
static int from(const char *text, int type, struct lwm2m_value *v)
{
	json_t *j = json_loads(text, JSON_DECODE_ANY, NULL);
	assert_non_null(j);
	memset(v, 0, sizeof(*v));
	int rc = content_value_from_json(j, type, v, buf, sizeof(buf));
	json_decref(j); /* strings must not be used after this */
	return rc;
}

static void test_typed(void **state)
{
	(void)state;
	struct lwm2m_value v;
	assert_int_equal(from("-5", LWM2M_TYPE_INTEGER, &v), 0);
	assert_int_equal(v.v.i, -5);
	assert_int_equal(from("7", LWM2M_TYPE_UNSIGNED, &v), 0);
	assert_int_equal(v.v.u, 7);
	assert_int_equal(from("2", LWM2M_TYPE_FLOAT, &v), 0); /* an integer is a number */
	assert_true(v.v.f == 2.0);
	assert_int_equal(from("true", LWM2M_TYPE_BOOLEAN, &v), 0);
	assert_true(v.v.b);
	assert_int_equal(from("\"AQID\"", LWM2M_TYPE_OPAQUE, &v), 0);
	assert_int_equal(v.v.bytes.len, 3);
	assert_int_equal(v.v.bytes.data[2], 3);
	assert_int_equal(from("\"3:0\"", LWM2M_TYPE_OBJLNK, &v), 0);
	assert_int_equal(v.v.objlnk.obj, 3);
	assert_int_equal(v.type, LWM2M_TYPE_OBJLNK);
	assert_int_equal(from("1700000000", LWM2M_TYPE_TIME, &v), 0);
	assert_int_equal(v.v.i, 1700000000);
}

static void test_untyped(void **state)
{
	(void)state;
	struct lwm2m_value v;
	assert_int_equal(from("\"hi\"", 0, &v), 0);
	assert_int_equal(v.type, LWM2M_TYPE_STRING);
	assert_int_equal(from("3", -1, &v), 0);
	assert_int_equal(v.type, LWM2M_TYPE_INTEGER);
	assert_int_equal(from("3.5", 0, &v), 0);
	assert_int_equal(v.type, LWM2M_TYPE_FLOAT);
	assert_int_equal(from("false", 0, &v), 0);
	assert_int_equal(v.type, LWM2M_TYPE_BOOLEAN);
	assert_int_equal(from("null", 0, &v), -EINVAL);
	assert_int_equal(from("[1]", 0, &v), -EINVAL);
	assert_int_equal(from("{}", 0, &v), -EINVAL);
}

static void test_refused(void **state)
{
	(void)state;
	struct lwm2m_value v;
	assert_int_equal(from("1.5", LWM2M_TYPE_INTEGER, &v), -EINVAL);
	assert_int_equal(from("\"1\"", LWM2M_TYPE_INTEGER, &v), -EINVAL);
	assert_int_equal(from("-1", LWM2M_TYPE_UNSIGNED, &v), -EINVAL);
	assert_int_equal(from("\"x\"", LWM2M_TYPE_FLOAT, &v), -EINVAL);
	assert_int_equal(from("1", LWM2M_TYPE_BOOLEAN, &v), -EINVAL);
	assert_int_equal(from("5", LWM2M_TYPE_STRING, &v), -EINVAL);
	assert_int_equal(from("\"not base64!\"", LWM2M_TYPE_OPAQUE, &v), -EINVAL);
	assert_int_equal(from("\"AAAAAAAAAAAAAAAA\"", LWM2M_TYPE_OPAQUE, &v), -EINVAL); /* 12 > 8 */
	assert_int_equal(from("\"70000:0\"", LWM2M_TYPE_OBJLNK, &v), -EINVAL);
	assert_int_equal(from("\"3:0x\"", LWM2M_TYPE_OBJLNK, &v), -EINVAL);
	assert_int_equal(from("\"3\"", LWM2M_TYPE_OBJLNK, &v), -EINVAL);
	assert_int_equal(from("\"x\"", 200, &v), -EINVAL); /* no such type */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_typed),
		cmocka_unit_test(test_untyped),
		cmocka_unit_test(test_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
