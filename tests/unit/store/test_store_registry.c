/*
 * Tests of the registrations' own file and its writer thread (store_registry.h): changes
 * reach the file once synced and survive a reopen, a close writes what was only built,
 * many batches in a row keep their order, the rows of a database from before the move are
 * moved over exactly once, and the file is for the daemon's user alone.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "store/store.h"

struct seen {
	int count;
	int64_t lifetime_of_ep7; /* -1 until seen */
	char project_of_ep7[STORE_ID_MAX + 1];
};

static int count_rows(const struct store_registration *r, void *ctx)
{
	struct seen *s = ctx;
	s->count++;
	if (strcmp(r->node_id, "ep7") == 0) {
		s->lifetime_of_ep7 = r->lifetime;
		snprintf(s->project_of_ep7, sizeof(s->project_of_ep7), "%s", r->project_id);
	}
	return 0;
}

static struct seen load(struct store *s)
{
	struct seen seen = {.lifetime_of_ep7 = -1};
	assert_int_equal(store_registration_load_all(s, count_rows, &seen), 0);
	return seen;
}

static struct store_registration reg(const char *node, int64_t lifetime)
{
	struct store_registration r;
	memset(&r, 0, sizeof(r));
	snprintf(r.node_id, sizeof(r.node_id), "%s", node);
	snprintf(r.reg_id, sizeof(r.reg_id), "abcdefghij");
	snprintf(r.binding, sizeof(r.binding), "U");
	snprintf(r.lwm2m_version, sizeof(r.lwm2m_version), "1.1");
	snprintf(r.peer, sizeof(r.peer), "127.0.0.1:5683");
	snprintf(r.transport, sizeof(r.transport), "udp");
	r.links = "</1/0>,</3/0>";
	r.lifetime = lifetime;
	r.registered_at_ms = 1000;
	r.updated_at_ms = 2000;
	return r;
}

static void make_dir(char *dir, char *db, size_t cap)
{
	assert_non_null(mkdtemp(dir));
	snprintf(db, cap, "%s/r.db", dir);
}

static void remove_dir(const char *dir)
{
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

static void test_written_by_the_thread_and_reloaded(void **state)
{
	(void)state;
	char dir[] = "/tmp/lwm2md-registry-XXXXXX", db[128];
	make_dir(dir, db, sizeof(db));
	struct store *s;
	assert_int_equal(store_open(&s, db), 0);
	/* 50 batches of 200 puts, each submitted while the previous may still be written. */
	for (int b = 0; b < 50; b++) {
		for (int i = 0; i < 200; i++) {
			char node[32];
			snprintf(node, sizeof(node), "ep%d", i);
			struct store_registration r = reg(node, 100 + b);
			assert_int_equal(store_registration_put(s, &r), 0);
		}
		store_registrations_submit(s);
	}
	assert_int_equal(store_registration_delete(s, "ep199"), 0);
	store_registrations_sync(s);
	assert_false(store_registrations_busy(s));
	struct store_registry_stats st;
	store_registrations_stats(s, &st);
	assert_int_equal(st.rows, 50 * 200 + 1);
	assert_int_equal(st.errors, 0);
	assert_int_equal(st.waiting, 0);
	struct seen seen = load(s);
	assert_int_equal(seen.count, 199);
	assert_int_equal(seen.lifetime_of_ep7, 149); /* the last batch's value */
	assert_string_equal(seen.project_of_ep7, ""); /* no such device */

	/* Built but not submitted: the close writes it. */
	struct store_registration r = reg("ep7", 4242);
	assert_int_equal(store_registration_put(s, &r), 0);
	store_close(s);

	char name[160];
	snprintf(name, sizeof(name), "%s.registrations", db);
	struct stat sb;
	assert_int_equal(stat(name, &sb), 0);
	assert_int_equal(sb.st_mode & 077, 0);

	assert_int_equal(store_open(&s, db), 0);
	seen = load(s);
	assert_int_equal(seen.count, 199);
	assert_int_equal(seen.lifetime_of_ep7, 4242);
	store_close(s);
	remove_dir(dir);
}

/* A database of an lwm2md from before the move keeps its registrations in its own table:
 * they are moved to the new file at the first open, once. */
static void test_legacy_rows_moved(void **state)
{
	(void)state;
	char dir[] = "/tmp/lwm2md-registry-XXXXXX", db[128];
	make_dir(dir, db, sizeof(db));
	struct store *s;
	assert_int_equal(store_open(&s, db), 0);
	struct store_product p = {.project_id = "p1", .product_id = "meter", .name = "m",
				  .protocol_type = "LwM2M", .data_format = "binary"};
	assert_int_equal(store_product_insert(s, &p), 0);
	struct store_device d = {.project_id = "p1", .product_id = "meter", .node_id = "ep7",
				 .device_id = "meter_ep7", .secret = "00112233445566778899aabb"};
	assert_int_equal(store_device_insert(s, &d), 0);
	store_close(s);

	/* What the old daemon left: rows in the main file's table, none in the new file. */
	char name[160];
	snprintf(name, sizeof(name), "%s.registrations", db);
	assert_int_equal(unlink(name), 0);
	sqlite3 *raw;
	assert_int_equal(sqlite3_open(db, &raw), SQLITE_OK);
	assert_int_equal(sqlite3_exec(raw,
				      "INSERT INTO registrations VALUES ('ep7', 'abcdefghij', 77,"
				      " 'U', '1.1', '</3/0>', '1.2.3.4:5', 'udp', 0, 1, 2),"
				      " ('ep8', 'bcdefghijk', 88, 'U', '1.1', '</3/0>',"
				      " '1.2.3.4:6', 'udp', 0, 1, 2)",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	sqlite3_close(raw);

	for (int round = 0; round < 2; round++) {
		assert_int_equal(store_open(&s, db), 0);
		struct seen seen = load(s);
		assert_int_equal(seen.count, 2);
		assert_int_equal(seen.lifetime_of_ep7, 77);
		assert_string_equal(seen.project_of_ep7, "p1");
		store_close(s);
	}
	assert_int_equal(sqlite3_open(db, &raw), SQLITE_OK);
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_prepare_v2(raw, "SELECT count(*) FROM registrations", -1, &st,
					    NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(st, 0), 0); /* emptied after the move */
	sqlite3_finalize(st);
	sqlite3_close(raw);
	remove_dir(dir);
}

/* The registrations are soft state: a file that is not a database is moved aside and the
 * store opens without them, rather than the daemon refusing to start. */
static void test_broken_file_moved_aside(void **state)
{
	(void)state;
	char dir[] = "/tmp/lwm2md-registry-XXXXXX", db[128], name[160];
	make_dir(dir, db, sizeof(db));
	snprintf(name, sizeof(name), "%s.registrations", db);
	FILE *f = fopen(name, "w");
	assert_non_null(f);
	for (int i = 0; i < 512; i++)
		fputs("this is not an SQLite database. ", f);
	fclose(f);
	struct store *s;
	assert_int_equal(store_open(&s, db), 0);
	struct seen seen = load(s);
	assert_int_equal(seen.count, 0);
	struct store_registration r = reg("ep7", 9);
	assert_int_equal(store_registration_put(s, &r), 0);
	seen = load(s);
	assert_int_equal(seen.count, 1);
	store_close(s);
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "ls %s.broken-* >/dev/null 2>&1", name);
	assert_int_equal(system(cmd), 0);
	remove_dir(dir);
}

/* A private in-memory store has a private in-memory registrations database. */
static void test_memory(void **state)
{
	(void)state;
	struct store *s;
	assert_int_equal(store_open(&s, ":memory:"), 0);
	struct store_registration r = reg("ep7", 5);
	assert_int_equal(store_registration_put(s, &r), 0);
	struct seen seen = load(s);
	assert_int_equal(seen.count, 1);
	assert_int_equal(seen.lifetime_of_ep7, 5);
	store_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_written_by_the_thread_and_reloaded),
		cmocka_unit_test(test_legacy_rows_moved),
		cmocka_unit_test(test_memory),
		cmocka_unit_test(test_broken_file_moved_aside),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
