/*
 * Tests of api_jsonw: the text it writes must be what jansson's compact dump writes for
 * the same value, byte for byte — every byte value alone, pairs of them, random strings
 * of quotes, backslashes, control characters and UTF-8 both well-formed and not (which
 * api_json_str turns into ""), integers at their ends, times across the calendar's edges
 * (against util/timefmt's time_format) — since answers built either way must not differ.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "api/api_jsonw.h"
#include "util/timefmt.h"

/* What jansson writes for the string s, as api_json_str makes it. */
static char *jansson_str(const char *s)
{
	json_t *v = json_string(s);
	if (!v)
		v = json_string("");
	char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	json_decref(v);
	assert_non_null(text);
	return text;
}

/* api_jsonw's text for one call of write, without the line end take adds. */
static char *written(void (*write)(struct api_jsonw *, const void *), const void *arg)
{
	struct api_jsonw w;
	api_jsonw_init(&w, 0);
	write(&w, arg);
	size_t len = 0;
	char *text = api_jsonw_take(&w, &len);
	assert_non_null(text);
	assert_true(len >= 1);
	assert_int_equal(text[len - 1], '\n');
	text[len - 1] = '\0';
	assert_int_equal(strlen(text), len - 1);
	return text;
}

static void write_str(struct api_jsonw *w, const void *s)
{
	api_jsonw_str(w, s);
}

static void same_str(const char *s)
{
	char *want = jansson_str(s);
	char *got = written(write_str, s);
	if (strcmp(want, got) != 0)
		fail_msg("string of %zu bytes: jansson %s, api_jsonw %s", strlen(s), want, got);
	free(want);
	free(got);
}

static void test_every_byte(void **state)
{
	(void)state;
	char s[3] = "";
	for (int a = 1; a < 256; a++) {
		s[0] = (char)a;
		s[1] = '\0';
		same_str(s);
		for (int b = 1; b < 256; b++) {
			s[1] = (char)b;
			same_str(s);
		}
	}
	same_str("");
	char *null_str = written(write_str, NULL); /* NULL is written as "" */
	assert_string_equal(null_str, "\"\"");
	free(null_str);
}

static void test_utf8_edges(void **state)
{
	(void)state;
	static const char *const cases[] = {
		"plain", "quote \" back \\ slash / tab \t nl \n cr \r ff \f bs \b del \x7f",
		"\x01\x1f\x1e", "h\xc3\xa9", "\xe2\x82\xac euro", "\xf0\x9f\x98\x80 smile",
		"\xef\xbf\xbf", "\xf4\x8f\xbf\xbf",   /* the last code point */
		"\xf4\x90\x80\x80",                   /* past it */
		"\xed\x9f\xbf", "\xed\xa0\x80",       /* before and at the surrogates */
		"\xc0\xaf", "\xe0\x80\xaf", "\xf0\x80\x80\xaf", /* overlong */
		"\xc2", "\xe2\x82", "\xf0\x9f\x98",   /* cut short */
		"\x80", "\xbf x", "ok \xff", "\xf5\x80\x80\x80", "a\xc3\xa9\xc3",
		"\xe2\x80\xa8 line separator \xe2\x80\xa9",
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		same_str(cases[i]);
}

static void test_random_strings(void **state)
{
	(void)state;
	/* Bytes that matter to escaping and to UTF-8, and some that do not. */
	static const unsigned char pool[] = { '"', '\\', '/', 'a', ' ', 0x01, 0x08, 0x09, 0x0a,
					      0x0c, 0x0d, 0x1f, 0x7f, 0x80, 0xbf, 0xc2, 0xc3,
					      0xa9, 0xe2, 0x82, 0xac, 0xed, 0xa0, 0xf0, 0x9f,
					      0x98, 0xf4, 0x90, 0xff };
	srand(15);
	char s[40];
	for (int round = 0; round < 200000; round++) {
		int n = rand() % 12;
		for (int i = 0; i < n; i++)
			s[i] = (char)pool[rand() % sizeof(pool)];
		s[n] = '\0';
		same_str(s);
	}
	/* Long strings: the buffer grows past its first allocation. */
	char *big = malloc(5000);
	assert_non_null(big);
	for (int i = 0; i < 4999; i++)
		big[i] = (char)(i % 3 == 0 ? '\n' : 'x');
	big[4999] = '\0';
	same_str(big);
	free(big);
}

static void write_int(struct api_jsonw *w, const void *v)
{
	api_jsonw_int(w, *(const int64_t *)v);
}

static void test_integers(void **state)
{
	(void)state;
	int64_t values[] = { 0, 1, -1, 9, 10, -10, 2147483647, -2147483648LL, INT64_MAX,
			     INT64_MIN, 1000000000000LL, -999999999999LL };
	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		json_t *v = json_integer(values[i]);
		char *want = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
		char *got = written(write_int, &values[i]);
		assert_string_equal(got, want);
		free(want);
		free(got);
		json_decref(v);
	}
}

static void write_time(struct api_jsonw *w, const void *v)
{
	api_jsonw_time(w, *(const int64_t *)v);
}

static void same_time(int64_t t)
{
	char want[TIME_TEXT_MAX + 2];
	char text[TIME_TEXT_MAX];
	snprintf(want, sizeof(want), "\"%s\"", time_format(t, text));
	char *got = written(write_time, &t);
	if (strcmp(want, got) != 0)
		fail_msg("time %lld: time_format %s, api_jsonw %s", (long long)t, want, got);
	free(got);
}

static void test_times(void **state)
{
	(void)state;
	int64_t edges[] = { 0, 59, 60, 3599, 86399, 86400, 951782399, 951782400 /* 2000-02-29 */,
			    951868800, 1709164800 /* 2024-02-29 */, 4107542400 /* 2100-03-01 */,
			    4102444800, 253402300799 /* 9999-12-31T23:59:59 */, 253402300800,
			    -1, -86400, -62167219200, 1764720000, 2147483647, 2147483648 };
	for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]); i++)
		same_time(edges[i]);
	/* Every day of 1970..2500 at a varying second. */
	for (int64_t day = 0; day < 194000; day++)
		same_time(day * 86400 + (day * 7919) % 86400);
}

static void write_mixed(struct api_jsonw *w, const void *arg)
{
	(void)arg;
	json_t *o = json_pack("{s:[i,n,b],s:s}", "a", 1, 0, "b", "x\"y");
	api_jsonw_lit(w, "{\"k\":");
	api_jsonw_bool(w, true);
	api_jsonw_lit(w, ",\"f\":");
	api_jsonw_bool(w, false);
	api_jsonw_lit(w, ",\"o\":");
	api_jsonw_value(w, o);
	api_jsonw_lit(w, "}");
	json_decref(o);
}

static void write_null_value(struct api_jsonw *w, const void *arg)
{
	(void)arg;
	api_jsonw_lit(w, "{}");
	api_jsonw_value(w, NULL);
}

static void test_values_and_failure(void **state)
{
	(void)state;
	char *got = written(write_mixed, NULL);
	assert_string_equal(got, "{\"k\":true,\"f\":false,\"o\":{\"a\":[1,null,false],\"b\":\"x\\\"y\"}}");
	free(got);
	/* A NULL value (a failed allocation building it) fails the whole text. */
	struct api_jsonw w;
	api_jsonw_init(&w, 16);
	write_null_value(&w, NULL);
	size_t len = 1234;
	assert_null(api_jsonw_take(&w, &len));
	assert_int_equal(len, 1234);
	/* Freed either way; a writer freed twice is harmless. */
	api_jsonw_free(&w);
	api_jsonw_free(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_byte),
		cmocka_unit_test(test_utf8_edges),
		cmocka_unit_test(test_random_strings),
		cmocka_unit_test(test_integers),
		cmocka_unit_test(test_times),
		cmocka_unit_test(test_values_and_failure),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
