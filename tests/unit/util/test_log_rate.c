/*
 * Tests of util/log's rate-limited lines: a call site writes at most LOG_RATE_LINES per
 * window, counts what it held back, and writes one summary line once the window is over.
 * stderr goes to a temporary file, so the lines themselves are counted.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "util/log.h"

/* Counts the lines of the file holding stderr that contain needle. */
static int count_lines(FILE *f, const char *needle)
{
	fflush(stderr);
	rewind(f);
	char line[1200];
	int n = 0;
	while (fgets(line, sizeof(line), f))
		n += strstr(line, needle) != NULL;
	return n;
}

static void refuse(int i)
{
	LOG_WARN_RATE("test", "refused thing", "thing %d refused", i);
}

static void test_lines_limited_and_summarised(void **state)
{
	(void)state;
	FILE *f = tmpfile();
	assert_non_null(f);
	int saved = dup(fileno(stderr));
	fflush(stderr);
	dup2(fileno(f), fileno(stderr));
	log_rate_window_ms = 200;

	unsigned long long before = log_rate_suppressed_total();
	for (int i = 0; i < 5000; i++)
		refuse(i);
	assert_int_equal(count_lines(f, "refused"), LOG_RATE_LINES);
	assert_int_equal(log_rate_suppressed_total() - before, 5000 - LOG_RATE_LINES);
	assert_int_equal(count_lines(f, "more lines of 'refused thing'"), 0);

	/* Within the window nothing is summarised yet; after it, the flush does it once. */
	log_rate_flush();
	assert_int_equal(count_lines(f, "more lines of 'refused thing'"), 0);
	struct timespec ts = {.tv_sec = 0, .tv_nsec = 250 * 1000000L};
	nanosleep(&ts, NULL);
	log_rate_flush();
	log_rate_flush();
	assert_int_equal(count_lines(f, "4990 more lines of 'refused thing'"), 1);

	/* A new window writes lines again. */
	refuse(1);
	assert_int_equal(count_lines(f, "thing 1 refused"), 2);

	/* A site with lines held back that speaks again after its window summarises first. */
	for (int i = 0; i < 20; i++)
		refuse(i);
	nanosleep(&ts, NULL);
	refuse(99);
	assert_int_equal(count_lines(f, "11 more lines of 'refused thing'"), 1);
	assert_int_equal(count_lines(f, "thing 99 refused"), 1);

	fflush(stderr);
	dup2(saved, fileno(stderr));
	close(saved);
	fclose(f);
	log_rate_window_ms = 10000;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lines_limited_and_summarised),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
