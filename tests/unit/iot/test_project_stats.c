/*
 * Tests of project_stats: entries per project, and the census of sleeping queue-mode
 * devices checked against a brute-force count over random traffic (a device is awake
 * when it was seen in the slice one window ago or later).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "iot/project_stats.h"

static void test_entries(void **state)
{
	(void)state;
	struct project_stats_table *t;
	assert_int_equal(project_stats_table_create(&t, 93000), 0);
	assert_null(project_stats_find(t, "p1"));
	struct project_stats *p1 = project_stats_get(t, "p1");
	assert_non_null(p1);
	assert_ptr_equal(project_stats_get(t, "p1"), p1);
	assert_ptr_equal(project_stats_find(t, "p1"), p1);
	project_stats_counters(p1)->registrations += 2;
	project_stats_counters(NULL)->registrations++; /* nobody's */
	struct project_counters c;
	project_stats_read(p1, &c);
	assert_int_equal(c.registrations, 2);
	project_stats_read(project_stats_get(t, "p2"), &c);
	assert_int_equal(c.registrations, 0);
	project_stats_read(NULL, &c);
	assert_int_equal(c.registrations, 0);
	struct project_queue_census q;
	project_stats_queue_count(NULL, 1, &q);
	assert_int_equal(q.registered, 0);
	project_stats_table_destroy(t);
}

static void census(const struct project_stats *ps, int64_t now, uint64_t registered,
		   uint64_t asleep)
{
	struct project_queue_census q;
	project_stats_queue_count(ps, now, &q);
	assert_int_equal(q.registered, registered);
	assert_int_equal(q.asleep, asleep);
}

static void test_census_by_hand(void **state)
{
	(void)state;
	struct project_stats_table *t;
	assert_int_equal(project_stats_table_create(&t, 10000), 0);
	struct project_stats *ps = project_stats_get(t, "p");
	uint32_t a = 0, b = 0, c = 0;
	const int64_t t0 = 1764000000000;
	project_stats_queue_add(ps, &a, t0);
	project_stats_queue_add(ps, &b, t0 + 2000);
	project_stats_queue_add(ps, &c, 0); /* restored: never seen since */
	project_stats_queue_add(ps, &c, t0); /* counted once */
	census(ps, t0 + 5000, 3, 1);
	census(ps, t0 + 10999, 3, 1);
	census(ps, t0 + 11000, 3, 2);  /* a: 11 s ago */
	project_stats_queue_seen(ps, &c, t0 + 11500);
	census(ps, t0 + 12000, 3, 1);
	census(ps, t0 + 60000, 3, 3);
	project_stats_queue_seen(ps, &a, t0 + 60000);
	project_stats_queue_seen(ps, &a, t0 + 60400); /* the same slice */
	census(ps, t0 + 61000, 3, 2);
	project_stats_queue_remove(ps, &a);
	assert_int_equal(a, 0);
	project_stats_queue_remove(ps, &a); /* not counted any more: nothing */
	census(ps, t0 + 61000, 2, 2);
	/* A clock that went back: a device seen "in the future" is not awake yet. */
	project_stats_queue_seen(ps, &b, t0 + 100000);
	census(ps, t0 + 61000, 2, 2);
	census(ps, t0 + 100000, 2, 1);
	project_stats_table_destroy(t);
}

#define DEVICES 300

/* Random registrations, messages and de-registrations over many windows (the ring wraps
 * thousands of times), against a brute-force count. */
static void test_census_against_brute_force(void **state)
{
	(void)state;
	static const uint32_t windows[] = { 93000, 5000, 86400000 };
	for (size_t w = 0; w < sizeof(windows) / sizeof(windows[0]); w++) {
		struct project_stats_table *t;
		assert_int_equal(project_stats_table_create(&t, windows[w]), 0);
		struct project_stats *ps = project_stats_get(t, "p");
		uint32_t mark[DEVICES] = { 0 };
		int64_t seen[DEVICES];
		bool in[DEVICES] = { false };
		/* The slice width the table picked, as project_stats.c picks it. */
		int64_t width = (windows[w] + PROJECT_STATS_SLICES - 1) / PROJECT_STATS_SLICES;
		if (width < 1000)
			width = 1000;
		int64_t now = 1764000000000;
		srand(7 + (unsigned)w);
		for (int step = 0; step < 200000; step++) {
			now += rand() % (int)(windows[w] / 20 + 1);
			int d = rand() % DEVICES;
			switch (rand() % 4) {
			case 0:
				if (!in[d]) {
					project_stats_queue_add(ps, &mark[d], now);
					in[d] = true;
					seen[d] = now;
				}
				break;
			case 1:
				if (in[d]) {
					project_stats_queue_remove(ps, &mark[d]);
					in[d] = false;
				}
				break;
			default:
				if (in[d]) {
					project_stats_queue_seen(ps, &mark[d], now);
					seen[d] = now;
				}
				break;
			}
			if (step % 97)
				continue;
			uint64_t registered = 0, asleep = 0;
			for (int i = 0; i < DEVICES; i++) {
				if (!in[i])
					continue;
				registered++;
				asleep += seen[i] / width < (now - windows[w]) / width;
			}
			census(ps, now, registered, asleep);
		}
		project_stats_table_destroy(t);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_entries),
		cmocka_unit_test(test_census_by_hand),
		cmocka_unit_test(test_census_against_brute_force),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
