/*
 * Tests of the store's firmware package rows (store_fw_packages.c): put and get, both
 * unique keys (the id, the product's version) as -EEXIST, the list newest first and by
 * product, the delete refused while a running or paused campaign names the package, and
 * the count of packages sharing one file.
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
#include <sqlite3.h>

#include "store/store.h"
#include "store/store_firmware.h"
#include "store/store_internal.h"
#include "util/str.h"

#define SHA_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define SHA_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

static int setup(void **state)
{
	char path[] = "/tmp/lwm2md-fwpkgs-XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0)
		return -1;
	close(fd);
	struct store *s;
	if (store_open(&s, path) != 0)
		return -1;
	unlink(path);
	*state = s;
	return 0;
}

static int teardown(void **state)
{
	store_close(*state);
	return 0;
}

static struct store_fw_package pkg(const char *project, const char *id, const char *product,
				   const char *version, const char *sha, int64_t t)
{
	struct store_fw_package p;
	memset(&p, 0, sizeof(p));
	str_copy(p.project_id, sizeof(p.project_id), project);
	str_copy(p.package_id, sizeof(p.package_id), id);
	str_copy(p.product_id, sizeof(p.product_id), product);
	str_copy(p.version, sizeof(p.version), version);
	str_copy(p.description, sizeof(p.description), "a description");
	str_copy(p.sha256, sizeof(p.sha256), sha);
	p.size = 5ull * 1024 * 1024 * 1024; /* past 32 bits: kept whole */
	p.create_time = t;
	return p;
}

struct seen {
	char ids[8][STORE_ID_MAX + 1];
	int n, stop_after;
};

static int collect(const struct store_fw_package *p, void *ctx)
{
	struct seen *s = ctx;
	if (s->n == 8)
		return 1;
	str_copy(s->ids[s->n++], sizeof(s->ids[0]), p->package_id);
	return s->stop_after && s->n == s->stop_after;
}

static void test_put_get_unique(void **state)
{
	struct store *s = *state;
	struct store_fw_package p = pkg("proj", "pk1", "meter", "1.0.0", SHA_A, 1000), out;

	assert_int_equal(store_fw_package_put(s, &p), 0);
	assert_int_equal(store_fw_package_get(s, "proj", "pk1", &out), 0);
	assert_string_equal(out.project_id, "proj");
	assert_string_equal(out.product_id, "meter");
	assert_string_equal(out.version, "1.0.0");
	assert_string_equal(out.description, "a description");
	assert_string_equal(out.sha256, SHA_A);
	assert_true(out.size == 5ull * 1024 * 1024 * 1024);
	assert_int_equal(out.create_time, 1000);

	/* The same package id again, even for another version: taken. */
	struct store_fw_package q = pkg("proj", "pk1", "meter", "2.0.0", SHA_B, 1001);
	assert_int_equal(store_fw_package_put(s, &q), -EEXIST);
	/* The product's version again under another id: taken. */
	q = pkg("proj", "pk2", "meter", "1.0.0", SHA_B, 1001);
	assert_int_equal(store_fw_package_put(s, &q), -EEXIST);
	/* The same version of another product, or in another project: fine. */
	q = pkg("proj", "pk2", "tracker", "1.0.0", SHA_B, 1001);
	assert_int_equal(store_fw_package_put(s, &q), 0);
	q = pkg("other", "pk1", "meter", "1.0.0", SHA_A, 1001);
	assert_int_equal(store_fw_package_put(s, &q), 0);

	/* Another project's package is not found from this one. */
	assert_int_equal(store_fw_package_get(s, "proj", "nope", &out), -ENOENT);
	assert_int_equal(store_fw_package_get(s, "third", "pk1", &out), -ENOENT);
}

static void test_list(void **state)
{
	struct store *s = *state;
	struct store_fw_package p;
	struct seen seen = {.n = 0};

	p = pkg("proj", "old", "meter", "1.0", SHA_A, 100);
	assert_int_equal(store_fw_package_put(s, &p), 0);
	p = pkg("proj", "mid", "tracker", "1.0", SHA_A, 200);
	assert_int_equal(store_fw_package_put(s, &p), 0);
	/* Two of one second: the later made is listed first. */
	p = pkg("proj", "new1", "meter", "2.0", SHA_B, 300);
	assert_int_equal(store_fw_package_put(s, &p), 0);
	p = pkg("proj", "new2", "meter", "3.0", SHA_B, 300);
	assert_int_equal(store_fw_package_put(s, &p), 0);
	p = pkg("elsewhere", "x", "meter", "1.0", SHA_B, 400);
	assert_int_equal(store_fw_package_put(s, &p), 0);

	assert_int_equal(store_fw_package_list(s, "proj", NULL, collect, &seen), 0);
	assert_int_equal(seen.n, 4);
	assert_string_equal(seen.ids[0], "new2");
	assert_string_equal(seen.ids[1], "new1");
	assert_string_equal(seen.ids[2], "mid");
	assert_string_equal(seen.ids[3], "old");

	seen = (struct seen){.n = 0};
	assert_int_equal(store_fw_package_list(s, "proj", "meter", collect, &seen), 0);
	assert_int_equal(seen.n, 3);
	assert_string_equal(seen.ids[2], "old");

	/* fn stops the walk. */
	seen = (struct seen){.n = 0, .stop_after = 1};
	assert_int_equal(store_fw_package_list(s, "proj", NULL, collect, &seen), 0);
	assert_int_equal(seen.n, 1);

	seen = (struct seen){.n = 0};
	assert_int_equal(store_fw_package_list(s, "proj", "nothing", collect, &seen), 0);
	assert_int_equal(seen.n, 0);
}

static void add_campaign(struct store *s, const char *project, const char *id,
			 const char *package, int status)
{
	char sql[512];
	snprintf(sql, sizeof(sql),
		 "INSERT INTO fw_campaigns (project_id, campaign_id, package_id, spec, status,"
		 " create_time) VALUES ('%s', '%s', '%s', '{}', %d, 1)",
		 project, id, package, status);
	assert_int_equal(sqlite3_exec(store_db(s), sql, NULL, NULL, NULL), SQLITE_OK);
}

static void set_campaign_status(struct store *s, const char *id, int status)
{
	char sql[256];
	snprintf(sql, sizeof(sql), "UPDATE fw_campaigns SET status = %d WHERE campaign_id = '%s'",
		 status, id);
	assert_int_equal(sqlite3_exec(store_db(s), sql, NULL, NULL, NULL), SQLITE_OK);
}

static void test_delete_and_refs(void **state)
{
	struct store *s = *state;
	struct store_fw_package p, out;
	int refs = -1;

	p = pkg("proj", "a", "meter", "1.0", SHA_A, 100);
	assert_int_equal(store_fw_package_put(s, &p), 0);
	p = pkg("proj", "b", "meter", "1.1", SHA_A, 101); /* the same bytes */
	assert_int_equal(store_fw_package_put(s, &p), 0);
	p = pkg("proj", "c", "meter", "1.2", SHA_B, 102);
	assert_int_equal(store_fw_package_put(s, &p), 0);
	assert_int_equal(store_fw_sha_refs(s, SHA_A, &refs), 0);
	assert_int_equal(refs, 2);
	assert_int_equal(store_fw_sha_refs(s, "ffff", &refs), 0);
	assert_int_equal(refs, 0);

	/* A running campaign holds a; a paused one holds b; an ended one does not hold c;
	 * another project's campaign of the same id holds nothing here. */
	add_campaign(s, "proj", "c1", "a", 0);
	add_campaign(s, "proj", "c2", "b", 1);
	add_campaign(s, "proj", "c3", "c", 4);
	add_campaign(s, "other", "c4", "c", 0);
	assert_int_equal(store_fw_package_delete(s, "proj", "a"), -EBUSY);
	assert_int_equal(store_fw_package_delete(s, "proj", "b"), -EBUSY);
	assert_int_equal(store_fw_package_get(s, "proj", "a", &out), 0);
	assert_int_equal(store_fw_package_delete(s, "proj", "c"), 0);
	assert_int_equal(store_fw_package_get(s, "proj", "c", &out), -ENOENT);
	assert_int_equal(store_fw_sha_refs(s, SHA_B, &refs), 0);
	assert_int_equal(refs, 0);
	assert_int_equal(store_fw_package_delete(s, "proj", "c"), -ENOENT);
	assert_int_equal(store_fw_package_delete(s, "nobody", "a"), -ENOENT);

	/* Stopped (2) and cancelled (3) campaigns let go. */
	set_campaign_status(s, "c1", 3);
	assert_int_equal(store_fw_package_delete(s, "proj", "a"), 0);
	assert_int_equal(store_fw_sha_refs(s, SHA_A, &refs), 0);
	assert_int_equal(refs, 1); /* b still names the file */
	set_campaign_status(s, "c2", 2);
	assert_int_equal(store_fw_package_delete(s, "proj", "b"), 0);
	assert_int_equal(store_fw_sha_refs(s, SHA_A, &refs), 0);
	assert_int_equal(refs, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_put_get_unique, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delete_and_refs, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
