/*
 * Tests of the SQLite store: tokens, product and device CRUD with their unique keys and
 * references, listing with filters and paging, the activation timeout, registrations,
 * nested transactions, and that data survives closing and reopening a file.
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

#include "store/store.h"
#include "store/store_search.h"

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

static struct store_product product(const char *project, const char *id, int64_t t)
{
	struct store_product p;
	memset(&p, 0, sizeof(p));
	snprintf(p.project_id, sizeof(p.project_id), "%s", project);
	snprintf(p.product_id, sizeof(p.product_id), "%s", id);
	snprintf(p.name, sizeof(p.name), "name of %s", id);
	snprintf(p.protocol_type, sizeof(p.protocol_type), "LwM2M");
	snprintf(p.data_format, sizeof(p.data_format), "binary");
	p.create_time = t;
	return p;
}

static struct store_device device(const char *project, const char *product, const char *node,
				  int64_t t, int64_t timeout)
{
	struct store_device d;
	memset(&d, 0, sizeof(d));
	snprintf(d.project_id, sizeof(d.project_id), "%s", project);
	snprintf(d.product_id, sizeof(d.product_id), "%s", product);
	snprintf(d.node_id, sizeof(d.node_id), "%s", node);
	snprintf(d.device_id, sizeof(d.device_id), "%s_%s", product, node);
	snprintf(d.device_name, sizeof(d.device_name), "dev %s", node);
	snprintf(d.secret, sizeof(d.secret), "00112233445566778899aabbccddeeff");
	d.timeout = timeout;
	d.create_time = t;
	return d;
}

static void test_tokens(void **state)
{
	struct store *s = *state;
	char project[STORE_ID_MAX + 1];
	assert_int_equal(store_project_ensure(s, "p1"), 0);
	assert_int_equal(store_project_ensure(s, "p1"), 0); /* idempotent */
	assert_int_equal(store_token_insert(s, "p1", "aa"), 0);
	assert_int_equal(store_token_insert(s, "p1", "aa"), -EEXIST);
	assert_int_equal(store_token_find(s, "aa", project), 0);
	assert_string_equal(project, "p1");
	assert_int_equal(store_token_find(s, "bb", project), -ENOENT);
	/* A token of a project that does not exist violates the reference. */
	assert_int_equal(store_token_insert(s, "nope", "cc"), -ENOENT);
}

static int count_product(const struct store_product *p, void *ctx)
{
	(void)p;
	(*(int *)ctx)++;
	return 0;
}

static void test_products(void **state)
{
	struct store *s = *state;
	struct store_product p = product("p1", "meter", 100), got;
	snprintf(p.description, sizeof(p.description), "a water meter");
	assert_int_equal(store_product_insert(s, &p), 0);
	assert_int_equal(store_product_insert(s, &p), -EEXIST);
	/* The same product_id in another project is another product. */
	struct store_product other = product("p2", "meter", 100);
	assert_int_equal(store_product_insert(s, &other), 0);

	assert_int_equal(store_product_get(s, "p1", "meter", &got), 0);
	assert_string_equal(got.name, "name of meter");
	assert_string_equal(got.description, "a water meter");
	assert_int_equal(got.create_time, 100);
	assert_int_equal(store_product_get(s, "p3", "meter", &got), -ENOENT);

	snprintf(p.name, sizeof(p.name), "renamed");
	p.create_time = 999; /* not updatable */
	assert_int_equal(store_product_update(s, &p), 0);
	assert_int_equal(store_product_get(s, "p1", "meter", &got), 0);
	assert_string_equal(got.name, "renamed");
	assert_int_equal(got.create_time, 100);
	struct store_product missing = product("p1", "nope", 1);
	assert_int_equal(store_product_update(s, &missing), -ENOENT);

	for (int i = 0; i < 5; i++) {
		char id[16];
		snprintf(id, sizeof(id), "x%d", i);
		struct store_product x = product("p1", id, 200 + i);
		assert_int_equal(store_product_insert(s, &x), 0);
	}
	int n = 0;
	int64_t total = 0;
	assert_int_equal(store_product_list(s, "p1", 2, 2, count_product, &n, &total), 0);
	assert_int_equal(n, 2);
	assert_int_equal(total, 6);

	/* A product with devices cannot be deleted. */
	struct store_device d = device("p1", "meter", "n1", 1, 0);
	assert_int_equal(store_device_insert(s, &d), 0);
	assert_int_equal(store_product_delete(s, "p1", "meter"), -EBUSY);
	assert_int_equal(store_device_delete(s, "p1", d.device_id), 0);
	assert_int_equal(store_product_delete(s, "p1", "meter"), 0);
	assert_int_equal(store_product_delete(s, "p1", "meter"), -ENOENT);
	assert_int_equal(store_product_get(s, "p2", "meter", &got), 0);
}

struct seen {
	int count;
	char ids[16][STORE_ID_MAX + 1];
};

static int collect_device(const struct store_device *d, void *ctx)
{
	struct seen *seen = ctx;
	if (seen->count < 16)
		snprintf(seen->ids[seen->count], sizeof(seen->ids[0]), "%s", d->device_id);
	seen->count++;
	return 0;
}

static void test_devices(void **state)
{
	struct store *s = *state;
	struct store_product p = product("p1", "meter", 1), q = product("p1", "tracker", 1);
	assert_int_equal(store_product_insert(s, &p), 0);
	assert_int_equal(store_product_insert(s, &q), 0);

	struct store_device d = device("p1", "meter", "imei1", 10, 0), got;
	d.secure_access = true;
	assert_int_equal(store_device_insert(s, &d), 0);
	assert_int_equal(store_device_insert(s, &d), -EEXIST);
	/* node_id is unique across projects and device ids. */
	struct store_device same_node = device("p1", "tracker", "imei1", 10, 0);
	assert_int_equal(store_device_insert(s, &same_node), -EEXIST);
	/* A device of a product that does not exist. */
	struct store_device orphan = device("p1", "nope", "imei9", 10, 0);
	assert_int_equal(store_device_insert(s, &orphan), -ENOENT);

	assert_int_equal(store_device_get(s, "p1", "meter_imei1", &got), 0);
	assert_string_equal(got.node_id, "imei1");
	assert_true(got.secure_access);
	assert_int_equal(got.status, STORE_DEVICE_INACTIVE);
	assert_int_equal(store_device_get(s, "p2", "meter_imei1", &got), -ENOENT);
	assert_int_equal(store_device_get_by_node_id(s, "imei1", &got), 0);
	assert_string_equal(got.device_id, "meter_imei1");

	snprintf(d.device_name, sizeof(d.device_name), "kitchen");
	snprintf(d.secret, sizeof(d.secret), "abcdef0123");
	d.secure_access = false;
	d.status = STORE_DEVICE_OFFLINE; /* not changed by update */
	assert_int_equal(store_device_update(s, &d), 0);
	assert_int_equal(store_device_get(s, "p1", "meter_imei1", &got), 0);
	assert_string_equal(got.device_name, "kitchen");
	assert_string_equal(got.secret, "abcdef0123");
	assert_false(got.secure_access);
	assert_int_equal(got.status, STORE_DEVICE_INACTIVE);

	assert_int_equal(store_device_set_status(s, "imei1", STORE_DEVICE_ONLINE), 0);
	assert_int_equal(store_device_set_status(s, "nobody", STORE_DEVICE_ONLINE), 0);
	assert_int_equal(store_device_set_status(s, "imei1", STORE_DEVICE_ONLINE), 0); /* again */

	for (int i = 2; i <= 6; i++) {
		char node[16];
		snprintf(node, sizeof(node), "imei%d", i);
		struct store_device x = device("p1", i % 2 ? "meter" : "tracker", node, 10 + i, 0);
		assert_int_equal(store_device_insert(s, &x), 0);
	}
	struct seen seen = { 0 };
	struct store_device_page page;
	struct store_device_filter all = { .status = -1, .limit = 100 };
	assert_int_equal(store_device_list(s, "p1", &all, collect_device, &seen, &page), 0);
	assert_int_equal(seen.count, 6);
	assert_int_equal(page.count, 6);
	assert_string_equal(seen.ids[0], "meter_imei1"); /* in creation order */
	assert_string_equal(seen.ids[5], "tracker_imei6");

	memset(&seen, 0, sizeof(seen));
	struct store_device_filter meters = { .product_id = "meter", .status = -1, .offset = 1,
					      .limit = 1 };
	assert_int_equal(store_device_list(s, "p1", &meters, collect_device, &seen, &page), 0);
	assert_int_equal(page.count, 3); /* imei1, imei3, imei5 */
	assert_int_equal(seen.count, 1);
	assert_string_equal(seen.ids[0], "meter_imei3");

	memset(&seen, 0, sizeof(seen));
	struct store_device_filter online = { .status = STORE_DEVICE_ONLINE, .limit = 10 };
	assert_int_equal(store_device_list(s, "p1", &online, collect_device, &seen, &page), 0);
	assert_int_equal(page.count, 1);
	memset(&seen, 0, sizeof(seen));
	struct store_device_filter by_node = { .node_id = "imei4", .status = -1, .limit = 10 };
	assert_int_equal(store_device_list(s, "p1", &by_node, collect_device, &seen, &page), 0);
	assert_int_equal(page.count, 1);
	assert_string_equal(seen.ids[0], "tracker_imei4");
	/* Another project sees none. */
	assert_int_equal(store_device_list(s, "p2", &all, collect_device, &seen, &page), 0);
	assert_int_equal(page.count, 0);

	assert_int_equal(store_device_delete(s, "p2", "meter_imei1"), -ENOENT);
	assert_int_equal(store_device_delete(s, "p1", "meter_imei1"), 0);
	assert_int_equal(store_device_get_by_node_id(s, "imei1", &got), -ENOENT);
}

static void note_expired(const struct store_device *d, void *ctx)
{
	struct seen *seen = ctx;
	collect_device(d, seen);
}

static void test_activation_timeout(void **state)
{
	struct store *s = *state;
	struct store_product p = product("p1", "meter", 1);
	assert_int_equal(store_product_insert(s, &p), 0);
	struct store_device forever = device("p1", "meter", "a", 1000, 0);
	struct store_device soon = device("p1", "meter", "b", 1000, 60);
	struct store_device later = device("p1", "meter", "c", 1000, 600);
	struct store_device online = device("p1", "meter", "d", 1000, 30);
	assert_int_equal(store_device_insert(s, &forever), 0);
	assert_int_equal(store_device_insert(s, &soon), 0);
	assert_int_equal(store_device_insert(s, &later), 0);
	assert_int_equal(store_device_insert(s, &online), 0);
	assert_int_equal(store_device_set_status(s, "d", STORE_DEVICE_ONLINE), 0);

	int64_t when = 0;
	assert_int_equal(store_device_next_expiry(s, &when), 0);
	assert_int_equal(when, 1060);

	struct seen seen = { 0 };
	assert_int_equal(store_device_delete_expired(s, 1059, note_expired, &seen), 0);
	assert_int_equal(seen.count, 0);
	assert_int_equal(store_device_delete_expired(s, 1060, note_expired, &seen), 1);
	assert_int_equal(seen.count, 1);
	assert_string_equal(seen.ids[0], "meter_b");
	assert_int_equal(store_device_next_expiry(s, &when), 0);
	assert_int_equal(when, 1600);
	assert_int_equal(store_device_delete_expired(s, 100000, NULL, NULL), 1);
	assert_int_equal(store_device_next_expiry(s, &when), -ENOENT);

	struct store_device got;
	assert_int_equal(store_device_get_by_node_id(s, "a", &got), 0);
	assert_int_equal(store_device_get_by_node_id(s, "d", &got), 0); /* ONLINE is kept */
}

static int copy_registration(const struct store_registration *r, void *ctx)
{
	struct store_registration *out = ctx;
	*out = *r;
	out->links = strdup(r->links);
	return 0;
}

static void test_registrations(void **state)
{
	struct store *s = *state;
	struct store_product p = product("p1", "meter", 1);
	assert_int_equal(store_product_insert(s, &p), 0);
	struct store_device d = device("p1", "meter", "ep1", 1, 0);
	assert_int_equal(store_device_insert(s, &d), 0);

	char links[] = "</1/0>,</3/0>";
	struct store_registration r = {
		.node_id = "ep1", .reg_id = "abcdefghij", .lifetime = 300, .binding = "UQ",
		.lwm2m_version = "1.1", .links = links, .peer = "[::1]:5683", .transport = "udp",
		.queue_mode = true, .registered_at_ms = 1000, .updated_at_ms = 2000,
	};
	assert_int_equal(store_registration_put(s, &r), 0);
	r.lifetime = 600; /* put replaces */
	assert_int_equal(store_registration_put(s, &r), 0);

	struct store_registration got = { 0 };
	assert_int_equal(store_registration_load_all(s, copy_registration, &got), 0);
	assert_string_equal(got.reg_id, "abcdefghij");
	assert_int_equal(got.lifetime, 600);
	assert_string_equal(got.binding, "UQ");
	assert_string_equal(got.links, links);
	assert_string_equal(got.peer, "[::1]:5683");
	assert_true(got.queue_mode);
	assert_int_equal(got.updated_at_ms, 2000);
	store_registration_clear(&got);
	assert_null(got.links);
	store_registration_clear(NULL);

	/* Deleting the device deletes its registration. */
	assert_int_equal(store_device_delete(s, "p1", d.device_id), 0);
	assert_int_equal(store_registration_delete(s, "ep1"), 0); /* queued: a delete of nothing is no error */
	memset(&got, 0, sizeof(got));
	assert_int_equal(store_registration_load_all(s, copy_registration, &got), 0);
	assert_null(got.links);
}

static void test_nested_transactions(void **state)
{
	struct store *s = *state;
	char project[STORE_ID_MAX + 1];
	assert_int_equal(store_project_ensure(s, "p1"), 0);

	assert_int_equal(store_begin(s), 0);
	assert_int_equal(store_token_insert(s, "p1", "t1"), 0);
	assert_int_equal(store_begin(s), 0);
	assert_int_equal(store_token_insert(s, "p1", "t2"), 0);
	assert_int_equal(store_commit(s), 0);
	assert_int_equal(store_commit(s), 0);
	assert_int_equal(store_token_find(s, "t2", project), 0);

	/* An inner rollback undoes the inner writes only (a savepoint). */
	assert_int_equal(store_begin(s), 0);
	assert_int_equal(store_token_insert(s, "p1", "t3"), 0);
	assert_int_equal(store_begin(s), 0);
	assert_int_equal(store_token_insert(s, "p1", "t4"), 0);
	assert_int_equal(store_rollback(s), 0);
	assert_int_equal(store_commit(s), 0);
	assert_int_equal(store_token_find(s, "t3", project), 0);
	assert_int_equal(store_token_find(s, "t4", project), -ENOENT);

	/* An outer rollback undoes everything, committed inner levels included. */
	assert_int_equal(store_begin(s), 0);
	assert_int_equal(store_token_insert(s, "p1", "t5"), 0);
	assert_int_equal(store_begin(s), 0);
	assert_int_equal(store_token_insert(s, "p1", "t6"), 0);
	assert_int_equal(store_commit(s), 0);
	assert_int_equal(store_rollback(s), 0);
	assert_int_equal(store_token_find(s, "t5", project), -ENOENT);
	assert_int_equal(store_token_find(s, "t6", project), -ENOENT);

	assert_int_equal(store_commit(s), -EINVAL);
	assert_int_equal(store_rollback(s), -EINVAL);
}

/* Group commit: in batch mode the writes outside any transaction wait in one until
 * store_batch_commit; another connection sees them only then. */
static void test_batch(void **state)
{
	(void)state;
	char dir[] = "/tmp/lwm2md-store-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[64], project[STORE_ID_MAX + 1];
	snprintf(path, sizeof(path), "%s/db", dir);
	struct store *s, *other;
	assert_int_equal(store_open(&s, path), 0);
	assert_int_equal(store_open(&other, path), 0);
	assert_int_equal(store_project_ensure(s, "p1"), 0);

	store_batch_enable(s, true);
	assert_int_equal(store_batch_commit(s), 0); /* nothing open: nothing to do */
	assert_false(store_batch_dirty(s));
	/* A turn that only reads has nothing an answer must wait for. */
	assert_int_equal(store_token_find(s, "b1", project), -ENOENT);
	assert_false(store_batch_dirty(s));
	assert_int_equal(store_token_insert(s, "p1", "b1"), 0);
	assert_true(store_batch_dirty(s));
	assert_int_equal(store_token_find(s, "b1", project), 0);      /* its own writes */
	assert_int_equal(store_token_find(other, "b1", project), -ENOENT);
	/* A transaction inside the batch is a savepoint; its rollback spares the batch. */
	assert_int_equal(store_begin(s), 0);
	assert_int_equal(store_token_insert(s, "p1", "b2"), 0);
	assert_int_equal(store_rollback(s), 0);
	assert_int_equal(store_begin(s), 0);
	assert_int_equal(store_token_insert(s, "p1", "b3"), 0);
	assert_int_equal(store_commit(s), 0);
	assert_int_equal(store_commit(s), -EINVAL); /* the batch is not store_begin's */
	/* A batch cannot end under an open store_begin. */
	assert_int_equal(store_begin(s), 0);
	assert_int_equal(store_batch_commit(s), -EINVAL);
	assert_int_equal(store_commit(s), 0);
	assert_int_equal(store_batch_commit(s), 0);
	assert_false(store_batch_dirty(s));
	assert_int_equal(store_token_find(other, "b1", project), 0);
	assert_int_equal(store_token_find(other, "b2", project), -ENOENT);
	assert_int_equal(store_token_find(other, "b3", project), 0);

	/* What is open at close is committed. */
	assert_int_equal(store_token_insert(s, "p1", "b4"), 0);
	store_close(s);
	assert_int_equal(store_token_find(other, "b4", project), 0);
	store_close(other);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

static mode_t mode_of(const char *dir, const char *name)
{
	char path[128];
	struct stat st;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_int_equal(stat(path, &st), 0);
	return st.st_mode & 0777;
}

/* The registry holds device secrets: its files are the daemon user's alone, whatever
 * the umask, and an existing database readable by others is narrowed. */
static void test_files_private(void **state)
{
	(void)state;
	mode_t old_umask = umask(022);
	char dir[] = "/tmp/lwm2md-store-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[64];
	snprintf(path, sizeof(path), "%s/db", dir);
	struct store *s;
	assert_int_equal(store_open(&s, path), 0);
	assert_int_equal(store_project_ensure(s, "p1"), 0); /* WAL: -wal and -shm exist now */
	assert_int_equal(mode_of(dir, "db"), 0600);
	assert_int_equal(mode_of(dir, "db-wal"), 0600);
	assert_int_equal(mode_of(dir, "db-shm"), 0600);
	store_close(s);

	/* A database (and a left-over -wal) made readable by others is narrowed at open. */
	assert_int_equal(chmod(path, 0644), 0);
	char wal[80];
	snprintf(wal, sizeof(wal), "%s-wal", path);
	FILE *f = fopen(wal, "a");
	assert_non_null(f);
	fclose(f);
	assert_int_equal(chmod(wal, 0664), 0);
	assert_int_equal(store_open(&s, path), 0);
	assert_int_equal(mode_of(dir, "db"), 0600);
	assert_int_equal(mode_of(dir, "db-wal"), 0600);
	store_close(s);
	umask(old_umask);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

static void test_reopen_keeps_data(void **state)
{
	(void)state;
	char dir[] = "/tmp/lwm2md-store-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[64];
	snprintf(path, sizeof(path), "%s/db", dir);

	struct store *s;
	assert_int_equal(store_open(&s, path), 0);
	struct store_product p = product("p1", "meter", 1);
	assert_int_equal(store_product_insert(s, &p), 0);
	struct store_device d = device("p1", "meter", "n1", 1, 0);
	assert_int_equal(store_device_insert(s, &d), 0);
	store_close(s);

	assert_int_equal(store_open(&s, path), 0); /* the schema is not applied twice */
	struct store_device got;
	assert_int_equal(store_device_get_by_node_id(s, "n1", &got), 0);
	store_close(s);

	/* A file that is not a database is refused, not overwritten. */
	char junk[80];
	snprintf(junk, sizeof(junk), "%s/junk", dir);
	FILE *f = fopen(junk, "w");
	assert_non_null(f);
	fputs("this is not an SQLite database, but it is long enough to have a header......",
	      f);
	fclose(f);
	assert_int_equal(store_open(&s, junk), -EIO);

	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

static int count_observation(void *ctx, const uint8_t *token, size_t len, uint64_t id,
			     const char *node_id, const char *path, int format, const char *paths)
{
	(void)token;
	assert_int_equal(len, 4);
	assert_int_equal(id, 7);
	assert_string_equal(node_id, "ep1");
	assert_string_equal(path, "/");
	assert_int_equal(format, 112);
	assert_string_equal(paths, "/3/0/9,/1/0/1");
	(*(int *)ctx)++;
	return 0;
}

static void test_observations(void **state)
{
	struct store *s = *state;
	static const uint8_t token[] = { 1, 2, 3, 4 };
	/* An Observe-Composite in SenML CBOR: the format and paths come back as they went. */
	assert_int_equal(store_observation_put(s, token, 4, 7, "ep1", "/", -1, ""), 0);
	assert_int_equal(store_observation_put(s, token, 4, 7, "ep1", "/", 112, "/3/0/9,/1/0/1"),
			 0); /* replace */
	int n = 0;
	assert_int_equal(store_observation_load_all(s, count_observation, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(store_observation_delete(s, token, 4), 0);
	n = 0;
	assert_int_equal(store_observation_load_all(s, count_observation, &n), 0);
	assert_int_equal(n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_tokens, setup, teardown),
		cmocka_unit_test_setup_teardown(test_products, setup, teardown),
		cmocka_unit_test_setup_teardown(test_devices, setup, teardown),
		cmocka_unit_test_setup_teardown(test_activation_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_registrations, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nested_transactions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_observations, setup, teardown),
		cmocka_unit_test(test_batch),
		cmocka_unit_test(test_reopen_keeps_data),
		cmocka_unit_test(test_files_private),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
