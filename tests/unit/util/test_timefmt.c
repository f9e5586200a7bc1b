/*
 * Tests of util/timefmt: the platform's yyyyMMdd'T'HHmmss'Z' both ways, and what
 * time_parse must refuse (eventTime comes from codecs, i.e. from device payloads).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "util/timefmt.h"

static void test_round_trip(void **state)
{
	(void)state;
	char t[TIME_TEXT_MAX];
	assert_string_equal(time_format(0, t), "19700101T000000Z");
	assert_string_equal(time_format(1764065700, t), "20251125T101500Z");
	assert_int_equal(time_parse("20251125T101500Z"), 1764065700);
	assert_int_equal(time_parse(time_format(4102444799, t)), 4102444799); /* 2099-12-31 */
}

static void test_refused(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"", "2025", "20251125T101500", "20251125T101500Zx", "2025-11-25T10:15", "20251125 101500Z",
		"20251325T101500Z", "2025112xT101500Z", "20251125T251500Z", "abcdefghijklmnop",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (time_parse(bad[i]) != -1)
			fail_msg("'%s' was accepted", bad[i]);
	assert_int_equal(time_parse(NULL), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
