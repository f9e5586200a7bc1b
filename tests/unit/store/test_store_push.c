/*
 * Tests of store_push.c: the outbox hands out one rule's due rows longest due first (a
 * retried row waits behind newer ones until its time) and never another rule's; a
 * project's quota drops only its own oldest rows, in flight or not; the groups that the
 * push module counts at start; rules counted per project; and schema v10 giving the rows
 * of a v9 database their project and rule.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "schema_undo.h"
#include <sqlite3.h>

#include "store/store.h"
#include "store/store_push.h"

static int setup(void **state)
{
	struct store *s;
	if (store_open(&s, ":memory:") != 0)
		return -1;
	*state = s;
	return 0;
}

static int teardown(void **state)
{
	store_close(*state);
	return 0;
}

struct taken {
	char bodies[8][16];
	int count;
};

static int take_one(const struct store_outbox_item *it, void *ctx)
{
	struct taken *t = ctx;
	snprintf(t->bodies[t->count++], sizeof(t->bodies[0]), "%s", it->body);
	return 0;
}

static struct taken take(struct store *s, const char *project, const char *rule, int64_t now,
			 int limit)
{
	struct taken t = { .count = 0 };
	int n = store_outbox_take(s, project, rule, now, limit, take_one, &t);
	assert_int_equal(n, t.count); /* it returns how many it handed out */
	return t;
}

/* The rules store_outbox_drop_oldest names, as it drops their rows. */
struct dropped_rules {
	int count;
	char last[40];
};

static void note_rule(const char *rule_id, void *ctx)
{
	struct dropped_rules *r = ctx;
	r->count++;
	snprintf(r->last, sizeof(r->last), "%s", rule_id);
}

static void test_outbox_order(void **state)
{
	struct store *s = *state;
	assert_int_equal(store_outbox_add(s, "A", "r1", "http://a/", "e1", 10), 0);
	assert_int_equal(store_outbox_add(s, "A", "r1", "http://a/", "e2", 10), 0); /* by id */
	assert_int_equal(store_outbox_add(s, "A", "r1", "http://a/", "e3", 11), 0);
	assert_int_equal(store_outbox_add(s, "A", "r1", "http://a/", "e4", 50), 0); /* not due */
	assert_int_equal(store_outbox_add(s, "A", "r2", "http://b/", "x1", 5), 0);  /* other rule */

	struct taken t = take(s, "A", "r1", 20, 2);
	assert_int_equal(t.count, 2);
	assert_string_equal(t.bodies[0], "e1");
	assert_string_equal(t.bodies[1], "e2");
	/* In flight: not handed out again. e1 failed and waits until 60. */
	assert_int_equal(store_outbox_retry(s, 1, 1, 60), 0);
	t = take(s, "A", "r1", 20, 8);
	assert_int_equal(t.count, 1);
	assert_string_equal(t.bodies[0], "e3");
	int64_t when = 0;
	assert_int_equal(store_outbox_next_due(s, "A", "r1", &when), 0);
	assert_int_equal(when, 50);
	t = take(s, "A", "r1", 60, 8); /* e4 (due 50) before the retried e1 (due 60) */
	assert_int_equal(t.count, 2);
	assert_string_equal(t.bodies[0], "e4");
	assert_string_equal(t.bodies[1], "e1");
	assert_int_equal(store_outbox_next_due(s, "A", "r1", &when), -ENOENT); /* all in flight */

	/* The other rule's row was never handed out with r1's. */
	assert_int_equal(store_outbox_next_due(s, "A", "r2", &when), 0);
	assert_int_equal(when, 5);
	t = take(s, "A", "r2", 60, 8);
	assert_int_equal(t.count, 1);
	assert_string_equal(t.bodies[0], "x1");

	int64_t n = 0;
	assert_int_equal(store_outbox_count(s, &n), 0);
	assert_int_equal(n, 5);
	assert_int_equal(store_outbox_done(s, 2), 0);
	assert_int_equal(store_outbox_done(s, 2), -ENOENT); /* gone already */
	assert_int_equal(store_outbox_retry(s, 2, 1, 70), -ENOENT);
	assert_int_equal(store_outbox_count(s, &n), 0);
	assert_int_equal(n, 4);
	/* After a restart what was in flight is due again. */
	assert_int_equal(store_outbox_reset(s), 0);
	t = take(s, "A", "r1", 60, 8);
	assert_int_equal(t.count, 3);
}

/* Push's take: no lease; the caller's busy ids are skipped; a batch of deliveries is
 * deleted in one call that names the rows still there. */
static void note_id(int64_t id, void *ctx)
{
	int64_t *sum = ctx;
	*sum += id;
}

static void test_outbox_take_except(void **state)
{
	struct store *s = *state;
	assert_int_equal(store_outbox_add(s, "A", "r1", "http://a/", "e1", 10), 0);
	assert_int_equal(store_outbox_add(s, "A", "r1", "http://a/", "e2", 10), 0);
	assert_int_equal(store_outbox_add(s, "A", "r1", "http://a/", "e3", 30), 0);
	struct taken t = { .count = 0 };
	const int64_t busy1[] = { 1 };
	assert_int_equal(store_outbox_take_except(s, "A", "r1", 20, 8, busy1, 1, take_one, &t), 1);
	assert_string_equal(t.bodies[0], "e2"); /* e1 busy, e3 not due */
	/* Nothing was leased: without busy ids the same rows come again, in order. */
	t.count = 0;
	assert_int_equal(store_outbox_take_except(s, "A", "r1", 40, 8, NULL, 0, take_one, &t), 3);
	assert_string_equal(t.bodies[0], "e1");
	assert_string_equal(t.bodies[2], "e3");
	int64_t when = 0;
	const int64_t busy12[] = { 1, 2 }, busy123[] = { 1, 2, 3 };
	assert_int_equal(store_outbox_next_due_except(s, "A", "r1", busy12, 2, &when), 0);
	assert_int_equal(when, 30);
	assert_int_equal(store_outbox_next_due_except(s, "A", "r1", busy123, 3, &when), -ENOENT);
	assert_int_equal(store_outbox_next_due_except(s, "A", "r2", busy1, 1, &when), -ENOENT);
	/* Rows 1 and 3 delivered, 99 never existed (or was dropped): only 1 and 3 named. */
	const int64_t done[] = { 1, 99, 3 };
	int64_t sum = 0;
	assert_int_equal(store_outbox_done_many(s, done, 3, note_id, &sum), 0);
	assert_int_equal(sum, 4);
	int64_t n = 0;
	assert_int_equal(store_outbox_count(s, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(store_outbox_done_many(s, done, 0, note_id, &sum), 0); /* nothing */
}

struct group {
	char project[8], rule[8];
	int64_t rows, next;
};
struct groups {
	struct group g[8];
	int count;
};

static int group_one(const char *project, const char *rule, int64_t rows, int64_t next,
		     void *ctx)
{
	struct groups *gs = ctx;
	struct group *g = &gs->g[gs->count++];
	snprintf(g->project, sizeof(g->project), "%s", project);
	snprintf(g->rule, sizeof(g->rule), "%s", rule);
	g->rows = rows;
	g->next = next;
	return 0;
}

static struct group *find_group(struct groups *gs, const char *project, const char *rule)
{
	for (int i = 0; i < gs->count; i++)
		if (strcmp(gs->g[i].project, project) == 0 && strcmp(gs->g[i].rule, rule) == 0)
			return &gs->g[i];
	return NULL;
}

/* A project's quota takes its own oldest rows — the one in flight too — and never
 * another project's, however old those are. */
static void test_outbox_drop_own(void **state)
{
	struct store *s = *state;
	assert_int_equal(store_outbox_add(s, "B", "rb", "http://b/", "b-old", 1), 0);
	assert_int_equal(store_outbox_add(s, "A", "ra", "http://a/", "a1", 2), 0);
	assert_int_equal(store_outbox_add(s, "A", "ra", "http://a/", "a2", 3), 0);
	assert_int_equal(store_outbox_add(s, "A", "rc", "http://c/", "a3", 4), 0);
	struct taken t = take(s, "A", "ra", 10, 1); /* a1 in flight */
	assert_int_equal(t.count, 1);

	int64_t dropped = -1;
	struct dropped_rules rules = { 0 };
	assert_int_equal(store_outbox_drop_oldest(s, "A", 2, note_rule, &rules, &dropped), 0);
	assert_int_equal(dropped, 2); /* a1 (in flight) and a2, both of rule ra */
	assert_int_equal(rules.count, 2);
	assert_string_equal(rules.last, "ra");
	assert_int_equal(store_outbox_drop_oldest(s, "C", 5, NULL, NULL, &dropped), 0);
	assert_int_equal(dropped, 0);

	struct groups gs = { .count = 0 };
	assert_int_equal(store_outbox_groups(s, group_one, &gs), 0);
	assert_int_equal(gs.count, 2);
	struct group *b = find_group(&gs, "B", "rb"), *c = find_group(&gs, "A", "rc");
	assert_non_null(b);
	assert_non_null(c);
	assert_int_equal(b->rows, 1);
	assert_int_equal(b->next, 1);
	assert_int_equal(c->rows, 1);
	assert_int_equal(c->next, 4);
	t = take(s, "A", "rc", 10, 1);
	gs.count = 0;
	assert_int_equal(store_outbox_groups(s, group_one, &gs), 0);
	c = find_group(&gs, "A", "rc");
	assert_non_null(c);
	assert_int_equal(c->next, INT64_MAX); /* its only row is in flight */
}

static void test_rule_count(void **state)
{
	struct store *s = *state;
	struct store_rule r = { .rule_id = "r1", .project_id = "A", .url = "http://a/" };
	assert_int_equal(store_rule_insert(s, &r), 0);
	snprintf(r.rule_id, sizeof(r.rule_id), "r2");
	assert_int_equal(store_rule_insert(s, &r), 0);
	snprintf(r.rule_id, sizeof(r.rule_id), "r3");
	snprintf(r.project_id, sizeof(r.project_id), "B");
	assert_int_equal(store_rule_insert(s, &r), 0);
	int64_t n = 0;
	assert_int_equal(store_rule_count(s, "A", &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(store_rule_delete(s, "A", "r3"), -ENOENT); /* B's */
	assert_int_equal(store_rule_delete(s, "B", "r3"), 0);
	assert_int_equal(store_rule_count(s, "B", &n), 0);
	assert_int_equal(n, 0);
}

/* A database of schema v9 (the outbox without project and rule) opened by this store:
 * its rows get the project and rule of the first rule with their URL, or ''. */
static void test_migration_v10(void **state)
{
	(void)state;
	char path[] = "/tmp/lwm2md-store-push-XXXXXX";
	sqlite3 *db = schema_registry_at(path, 9);
	schema_exec_ok(db, "INSERT INTO forwarding_rules VALUES ('r1', 'A', 'http://a/', '', 1);"
			   "INSERT INTO forwarding_rules VALUES ('r0', 'A', 'http://a/', '', 2);"
			   "INSERT INTO outbox (url, body, next_ms) VALUES ('http://a/', 'e1', 7);"
			   "INSERT INTO outbox (url, body, next_ms) VALUES ('http://gone/', 'e2', 8);");
	struct store *s;
	sqlite3_close(db);
	assert_int_equal(store_open(&s, path), 0);
	struct groups gs = { .count = 0 };
	assert_int_equal(store_outbox_groups(s, group_one, &gs), 0);
	assert_int_equal(gs.count, 2);
	struct group *a = find_group(&gs, "A", "r1"), *orphan = find_group(&gs, "", "");
	assert_non_null(a); /* r1: created first */
	assert_non_null(orphan);
	assert_int_equal(a->next, 7);
	assert_int_equal(orphan->next, 8);
	store_close(s);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_outbox_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_outbox_drop_own, setup, teardown),
		cmocka_unit_test_setup_teardown(test_outbox_take_except, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rule_count, setup, teardown),
		cmocka_unit_test(test_migration_v10),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
