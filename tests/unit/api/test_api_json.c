/*
 * Tests of api_json, the API's input checks: body parsing, the field getters (types,
 * bounds, character rules, dotted paths), query integers and paging, and the IoTDA time
 * format — mostly with malformed input, since refusing it clearly is their job.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "api/api_json.h"

static json_t *parse(const char *text)
{
	json_error_t jerr;
	json_t *v = json_loads(text, 0, &jerr);
	assert_non_null(v);
	return v;
}

static void test_parse_object(void **state)
{
	struct api_err err;
	json_t *obj = NULL;
	(void)state;

	assert_int_equal(api_json_parse_object("{\"a\":1}", 7, &obj, &err), 0);
	assert_true(json_is_object(obj));
	json_decref(obj);

	assert_int_equal(api_json_parse_object("{\"a\":", 5, &obj, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "not valid JSON"));
	assert_int_equal(api_json_parse_object("[1,2]", 5, &obj, &err), -EINVAL);
	assert_string_equal(err.msg, "body must be a JSON object");
	assert_int_equal(api_json_parse_object("\"x\"", 3, &obj, &err), -EINVAL);
	assert_int_equal(api_json_parse_object("", 0, &obj, &err), -EINVAL);
	assert_int_equal(api_json_parse_object("{\"a\":1,\"a\":2}", 13, &obj, &err), -EINVAL);
	/* The length bounds the parse: trailing bytes beyond it are not read. */
	assert_int_equal(api_json_parse_object("{}garbage", 2, &obj, &err), 0);
	json_decref(obj);
}

static void test_string_types_and_absence(void **state)
{
	struct api_err err;
	char out[16] = "untouched";
	json_t *o = parse("{\"n\":5,\"b\":true,\"z\":null,\"a\":[],\"s\":\"ok\"}");
	(void)state;

	assert_int_equal(api_json_string(o, "n", 1, 8, API_STR_ANY, out, sizeof(out), &err),
			 -EINVAL);
	assert_string_equal(err.msg, "n must be a string");
	assert_int_equal(api_json_string(o, "b", 1, 8, API_STR_ANY, out, sizeof(out), &err),
			 -EINVAL);
	assert_int_equal(api_json_string(o, "a", 1, 8, API_STR_ANY, out, sizeof(out), &err),
			 -EINVAL);
	/* Absent and null are the same: the field keeps its default. */
	assert_int_equal(api_json_string(o, "missing", 1, 8, API_STR_ANY, out, sizeof(out), &err),
			 -ENOENT);
	assert_int_equal(api_json_string(o, "z", 1, 8, API_STR_ANY, out, sizeof(out), &err),
			 -ENOENT);
	assert_string_equal(out, "untouched");
	assert_int_equal(api_json_string(o, "s", 1, 8, API_STR_ANY, out, sizeof(out), &err), 0);
	assert_string_equal(out, "ok");
	json_decref(o);
}

static void test_string_lengths(void **state)
{
	struct api_err err;
	char out[9];
	json_t *o = parse("{\"long\":\"123456789\",\"empty\":\"\",\"max\":\"12345678\"}");
	(void)state;

	assert_int_equal(api_json_string(o, "long", 1, 8, API_STR_ANY, out, sizeof(out), &err),
			 -EINVAL);
	assert_string_equal(err.msg, "long must be 1-8 characters long");
	assert_int_equal(api_json_string(o, "empty", 1, 8, API_STR_ANY, out, sizeof(out), &err),
			 -EINVAL);
	assert_int_equal(api_json_string(o, "empty", 0, 8, API_STR_ANY, out, sizeof(out), &err),
			 0);
	assert_string_equal(out, "");
	assert_int_equal(api_json_string(o, "max", 1, 8, API_STR_ANY, out, sizeof(out), &err), 0);
	assert_string_equal(out, "12345678");
	/* A buffer too small for max is refused rather than truncated. */
	assert_int_equal(api_json_string(o, "max", 1, 8, API_STR_ANY, out, 4, &err), -EINVAL);
	json_decref(o);
}

static void test_string_embedded_nul(void **state)
{
	struct api_err err;
	char out[16];
	json_t *o = json_object();
	(void)state;

	json_object_set_new(o, "s", json_stringn("ab\0cd", 5));
	assert_int_equal(api_json_string(o, "s", 1, 8, API_STR_ANY, out, sizeof(out), &err),
			 -EINVAL);
	assert_non_null(strstr(err.msg, "NUL"));
	json_decref(o);
}

static void test_id_characters(void **state)
{
	struct api_err err;
	char out[65];
	json_t *o = parse("{\"ok\":\"Node_01-a\",\"space\":\"node 1\",\"slash\":\"a/b\","
			  "\"utf8\":\"n\\u00f6de\",\"dot\":\"a.b\"}");
	(void)state;

	assert_int_equal(api_json_string(o, "ok", 1, 64, API_STR_ID, out, sizeof(out), &err), 0);
	assert_string_equal(out, "Node_01-a");
	assert_int_equal(api_json_string(o, "space", 1, 64, API_STR_ID, out, sizeof(out), &err),
			 -EINVAL);
	assert_string_equal(err.msg, "space may contain only A-Z, a-z, 0-9, '_' and '-'");
	assert_int_equal(api_json_string(o, "slash", 1, 64, API_STR_ID, out, sizeof(out), &err),
			 -EINVAL);
	assert_int_equal(api_json_string(o, "utf8", 1, 64, API_STR_ID, out, sizeof(out), &err),
			 -EINVAL);
	assert_int_equal(api_json_string(o, "dot", 1, 64, API_STR_ID, out, sizeof(out), &err),
			 -EINVAL);
	/* 65 characters of a 64 limit. */
	char id[66];
	memset(id, 'a', 65);
	id[65] = '\0';
	assert_int_equal(api_check_string("node_id", id, 65, 1, 64, API_STR_ID, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "node_id"));
	assert_int_equal(api_check_string("node_id", id, 64, 1, 64, API_STR_ID, &err), 0);
	json_decref(o);
}

static void test_hex_secret(void **state)
{
	struct api_err err;
	char out[65];
	json_t *o = parse("{\"ok\":\"00112233aAbBcCdD\",\"odd\":\"001122334\",\"bad\":\"0011223g\","
			  "\"short\":\"001122\",\"long\":\"00000000000000000000000000000000000000"
			  "000000000000000000000000000000\"}");
	(void)state;

	assert_int_equal(api_json_string(o, "ok", 8, 64, API_STR_HEX, out, sizeof(out), &err), 0);
	assert_string_equal(out, "00112233aAbBcCdD");
	assert_int_equal(api_json_string(o, "odd", 8, 64, API_STR_HEX, out, sizeof(out), &err),
			 -EINVAL);
	assert_string_equal(err.msg, "odd must have an even number of hex digits");
	assert_int_equal(api_json_string(o, "bad", 8, 64, API_STR_HEX, out, sizeof(out), &err),
			 -EINVAL);
	assert_non_null(strstr(err.msg, "hex"));
	assert_int_equal(api_json_string(o, "short", 8, 64, API_STR_HEX, out, sizeof(out), &err),
			 -EINVAL);
	assert_int_equal(api_json_string(o, "long", 8, 64, API_STR_HEX, out, sizeof(out), &err),
			 -EINVAL);
	json_decref(o);
}

static void test_dotted_paths(void **state)
{
	struct api_err err;
	char out[65];
	bool b = false;
	int64_t n = -1;
	json_t *o = parse("{\"auth_info\":{\"secret\":5,\"secure_access\":true,\"timeout\":60},"
			  "\"bad\":\"x\"}");
	(void)state;

	assert_int_equal(api_json_string(o, "auth_info.secret", 8, 64, API_STR_HEX, out,
					 sizeof(out), &err),
			 -EINVAL);
	assert_string_equal(err.msg, "auth_info.secret must be a string");
	assert_int_equal(api_json_bool(o, "auth_info.secure_access", &b, &err), 0);
	assert_true(b);
	assert_int_equal(api_json_int(o, "auth_info.timeout", 0, 100, &n, &err), 0);
	assert_int_equal(n, 60);
	assert_int_equal(api_json_int(o, "auth_info.missing", 0, 100, &n, &err), -ENOENT);
	assert_int_equal(api_json_int(o, "nothing.timeout", 0, 100, &n, &err), -ENOENT);
	/* An intermediate that is not an object is named. */
	assert_int_equal(api_json_bool(o, "bad.secure_access", &b, &err), -EINVAL);
	assert_string_equal(err.msg, "bad must be an object");
	assert_int_equal(api_json_object(o, "bad", &err), -EINVAL);
	assert_int_equal(api_json_object(o, "auth_info", &err), 0);
	assert_int_equal(api_json_object(o, "none", &err), -ENOENT);
	json_decref(o);
}

static void test_bool_and_int_types(void **state)
{
	struct api_err err;
	bool b = false;
	int64_t n = 0;
	json_t *o = parse("{\"s\":\"true\",\"i\":1,\"f\":1.5,\"neg\":-1,\"big\":99999999999,"
			  "\"str\":\"5\"}");
	(void)state;

	assert_int_equal(api_json_bool(o, "s", &b, &err), -EINVAL);
	assert_string_equal(err.msg, "s must be true or false");
	assert_int_equal(api_json_bool(o, "i", &b, &err), -EINVAL);
	assert_int_equal(api_json_int(o, "f", 0, 100, &n, &err), -EINVAL);
	assert_string_equal(err.msg, "f must be an integer");
	assert_int_equal(api_json_int(o, "str", 0, 100, &n, &err), -EINVAL);
	assert_int_equal(api_json_int(o, "neg", 0, 100, &n, &err), -EINVAL);
	assert_string_equal(err.msg, "neg must be between 0 and 100");
	assert_int_equal(api_json_int(o, "big", 0, 2147483647, &n, &err), -EINVAL);
	assert_int_equal(n, 0);
	json_decref(o);
}

static void test_parse_int_and_paging(void **state)
{
	struct api_err err;
	int64_t limit, offset, n;
	(void)state;

	assert_int_equal(api_parse_paging(NULL, NULL, &limit, &offset, &err), 0);
	assert_int_equal(limit, API_LIMIT_DEFAULT);
	assert_int_equal(offset, 0);
	assert_int_equal(api_parse_paging("50", "7", &limit, &offset, &err), 0);
	assert_int_equal(limit, 50);
	assert_int_equal(offset, 7);

	const char *bad_limits[] = {"0", "51", "-1", "", "1x", " 5", "+5", "5.0", "abc",
				    "99999999999999999999999"};
	for (size_t i = 0; i < sizeof(bad_limits) / sizeof(bad_limits[0]); i++) {
		assert_int_equal(api_parse_paging(bad_limits[i], NULL, &limit, &offset, &err),
				 -EINVAL);
		assert_non_null(strstr(err.msg, "limit"));
	}
	assert_int_equal(api_parse_paging("10", "-1", &limit, &offset, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "offset"));
	assert_int_equal(api_parse_paging("10", "2147483648", &limit, &offset, &err), -EINVAL);
	assert_int_equal(api_parse_int("x", "2147483647", 0, 2147483647, 0, &n, &err), 0);
	assert_int_equal(n, 2147483647);
}

static void test_format_time(void **state)
{
	char t[API_TIME_MAX];
	(void)state;

	assert_string_equal(api_format_time(0, t), "19700101T000000Z");
	/* 2026-11-25 04:53:21 UTC */
	assert_string_equal(api_format_time(1795582401, t), "20261125T045321Z");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_object),
		cmocka_unit_test(test_string_types_and_absence),
		cmocka_unit_test(test_string_lengths),
		cmocka_unit_test(test_string_embedded_nul),
		cmocka_unit_test(test_id_characters),
		cmocka_unit_test(test_hex_secret),
		cmocka_unit_test(test_dotted_paths),
		cmocka_unit_test(test_bool_and_int_types),
		cmocka_unit_test(test_parse_int_and_paging),
		cmocka_unit_test(test_format_time),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
