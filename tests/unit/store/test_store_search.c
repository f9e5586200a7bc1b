/*
 * Tests of store_search: the device counts the triggers keep (and the migration fills),
 * and the listing — every order, every filter, paged by marker and by offset — checked
 * against a brute-force walk of the same devices: each device exactly once, in order.
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
#include "store/store_internal.h"
#include "store/store_search.h"

#define MAX_DEVICES 12500

struct fixture {
	struct store *s;
	int count;
	struct store_device devices[MAX_DEVICES]; /* in creation (rowid) order */
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	if (!f || store_open(&f->s, ":memory:") != 0)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	store_close(f->s);
	free(f);
	return 0;
}

static void add_product(struct store *s, const char *project, const char *id)
{
	struct store_product p;
	memset(&p, 0, sizeof(p));
	snprintf(p.project_id, sizeof(p.project_id), "%s", project);
	snprintf(p.product_id, sizeof(p.product_id), "%s", id);
	snprintf(p.name, sizeof(p.name), "%s", id);
	snprintf(p.protocol_type, sizeof(p.protocol_type), "LwM2M");
	snprintf(p.data_format, sizeof(p.data_format), "binary");
	assert_int_equal(store_product_insert(s, &p), 0);
}

static void add_device(struct fixture *f, const char *project, const char *product,
		       const char *node, const char *name, int status)
{
	struct store_device *d = &f->devices[f->count++];
	memset(d, 0, sizeof(*d));
	snprintf(d->project_id, sizeof(d->project_id), "%s", project);
	snprintf(d->product_id, sizeof(d->product_id), "%s", product);
	snprintf(d->node_id, sizeof(d->node_id), "%s", node);
	snprintf(d->device_id, sizeof(d->device_id), "%s_%s", product, node);
	snprintf(d->device_name, sizeof(d->device_name), "%s", name);
	snprintf(d->secret, sizeof(d->secret), "00112233445566778899aabbccddeeff");
	d->read_format = -1;
	d->create_time = 1000;
	assert_int_equal(store_device_insert(f->s, d), 0);
	if (status != STORE_DEVICE_INACTIVE)
		assert_int_equal(store_device_set_status(f->s, node, status), 0);
	d->status = status;
}

static void assert_counts(struct store *s, const char *project, const char *product,
			  int64_t inactive, int64_t online, int64_t offline)
{
	struct store_device_counts c;
	assert_int_equal(store_device_counts(s, project, product, &c), 0);
	assert_int_equal(c.inactive, inactive);
	assert_int_equal(c.online, online);
	assert_int_equal(c.offline, offline);
	assert_int_equal(c.total, inactive + online + offline);
}

static void test_counts_follow_changes(void **state)
{
	struct fixture *f = *state;
	add_product(f->s, "p1", "meter");
	add_product(f->s, "p1", "tracker");
	add_product(f->s, "p2", "meter");
	assert_counts(f->s, "p1", NULL, 0, 0, 0);
	add_device(f, "p1", "meter", "m1", "a", STORE_DEVICE_INACTIVE);
	add_device(f, "p1", "meter", "m2", "b", STORE_DEVICE_ONLINE);
	add_device(f, "p1", "tracker", "t1", "c", STORE_DEVICE_OFFLINE);
	add_device(f, "p2", "meter", "x1", "d", STORE_DEVICE_ONLINE);
	assert_counts(f->s, "p1", NULL, 1, 1, 1);
	assert_counts(f->s, "p1", "meter", 1, 1, 0);
	assert_counts(f->s, "p1", "tracker", 0, 0, 1);
	assert_counts(f->s, "p2", "", 0, 1, 0);
	assert_counts(f->s, "p3", NULL, 0, 0, 0);
	/* A status set again to what it is changes nothing. */
	assert_int_equal(store_device_set_status(f->s, "m2", STORE_DEVICE_ONLINE), 0);
	assert_int_equal(store_device_set_status(f->s, "m2", STORE_DEVICE_OFFLINE), 0);
	assert_counts(f->s, "p1", "meter", 1, 0, 1);
	/* An update of the other fields leaves the counts alone. */
	struct store_device d = f->devices[0];
	snprintf(d.device_name, sizeof(d.device_name), "renamed");
	assert_int_equal(store_device_update(f->s, &d), 0);
	assert_counts(f->s, "p1", NULL, 1, 0, 2);
	assert_int_equal(store_device_delete(f->s, "p1", "meter_m1"), 0);
	assert_int_equal(store_device_delete(f->s, "p1", "tracker_t1"), 0);
	assert_counts(f->s, "p1", NULL, 0, 0, 1);
	assert_counts(f->s, "p1", "tracker", 0, 0, 0);
	/* A transaction rolled back takes its counts with it. */
	assert_int_equal(store_begin(f->s), 0);
	add_device(f, "p1", "meter", "m3", "e", STORE_DEVICE_ONLINE);
	assert_counts(f->s, "p1", NULL, 0, 1, 1);
	assert_int_equal(store_rollback(f->s), 0);
	assert_counts(f->s, "p1", NULL, 0, 0, 1);
}

/* A registry of schema v11 with devices: step 12 counts them. */
static void test_migration_counts_existing_devices(void **state)
{
	(void)state;
	char path[] = "/tmp/lwm2md-store-search-XXXXXX";
	sqlite3 *db = schema_registry_at(path, 11);
	schema_exec_ok(db, "INSERT INTO projects VALUES ('p1', 1);"
			   "INSERT INTO products (project_id, product_id, name, device_type,"
			   " manufacturer_name, protocol_type, data_format, description, create_time)"
			   " VALUES ('p1', 'm', 'm', '', '', 'LwM2M', 'binary', '', 1);"
			   "INSERT INTO devices (project_id, device_id, node_id, device_name, product_id,"
			   " description, secret, secure_access, timeout, status, create_time) VALUES"
			   " ('p1', 'a', 'a', 'a', 'm', '', '00', 0, 0, 0, 1),"
			   " ('p1', 'b', 'b', 'b', 'm', '', '00', 0, 0, 1, 1),"
			   " ('p1', 'c', 'c', 'c', 'm', '', '00', 0, 0, 1, 1);");
	struct store *s;
	sqlite3_close(db);
	assert_int_equal(store_open(&s, path), 0);
	assert_counts(s, "p1", "m", 1, 2, 0);
	store_close(s);
	unlink(path);
}

/* What a listing returned, page after page. */
struct walk {
	char ids[MAX_DEVICES][STORE_ID_MAX + 1];
	int count;
	int pages;
	int short_pages; /* pages with fewer than limit devices, yet a marker */
};

static int collect(const struct store_device *d, void *ctx)
{
	struct walk *w = ctx;
	if (w->count == MAX_DEVICES)
		return -ENOSPC;
	snprintf(w->ids[w->count++], STORE_ID_MAX + 1, "%s", d->device_id);
	return 0;
}

/* Pages through filter f by marker; returns the first page's count in *count. */
static void walk_all(struct fixture *fx, const char *project, struct store_device_filter f,
		     struct walk *w, struct store_device_page *first)
{
	char marker[STORE_MARKER_MAX + 1] = "";
	memset(w, 0, sizeof(*w));
	for (;;) {
		struct store_device_page page;
		int before = w->count;
		f.marker = marker;
		assert_int_equal(store_device_list(fx->s, project, &f, collect, w, &page), 0);
		if (w->pages++ == 0 && first)
			*first = page;
		assert_true(w->count - before <= f.limit);
		if (!page.marker[0])
			break;
		if (w->count - before < f.limit)
			w->short_pages++;
		snprintf(marker, sizeof(marker), "%s", page.marker);
		assert_true(w->pages < 100000);
	}
}

static bool has_prefix(const char *s, const char *p)
{
	return p == NULL || strncmp(s, p, strlen(p)) == 0;
}

static bool want(const struct store_device *d, const char *project,
		 const struct store_device_filter *f)
{
	return strcmp(d->project_id, project) == 0 &&
	       (!f->product_id || strcmp(d->product_id, f->product_id) == 0) &&
	       (f->status < 0 || d->status == f->status) &&
	       (!f->node_id || strcmp(d->node_id, f->node_id) == 0) &&
	       has_prefix(d->node_id, f->node_id_prefix) &&
	       has_prefix(d->device_name, f->name_prefix);
}

static const struct store_device *by_id(struct fixture *fx, const char *id)
{
	for (int i = 0; i < fx->count; i++)
		if (strcmp(fx->devices[i].device_id, id) == 0)
			return &fx->devices[i];
	return NULL;
}

/* The walk holds exactly the devices f wants, each once, in the filter's order. */
static void check_walk(struct fixture *fx, const char *project,
		       const struct store_device_filter *f, const struct walk *w)
{
	int expected = 0;
	for (int i = 0; i < fx->count; i++)
		expected += want(&fx->devices[i], project, f);
	assert_int_equal(w->count, expected);
	for (int i = 0; i < w->count; i++) {
		const struct store_device *d = by_id(fx, w->ids[i]);
		assert_non_null(d);
		assert_true(want(d, project, f));
		if (i == 0)
			continue;
		const struct store_device *prev = by_id(fx, w->ids[i - 1]);
		/* Keys ascend; equal names in node_id order; else creation order (rowid =
		 * fixture index). */
		if (f->node_id_prefix || f->node_id)
			assert_true(strcmp(prev->node_id, d->node_id) < 0);
		else if (f->name_prefix)
			assert_true(strcmp(prev->device_name, d->device_name) < 0 ||
				    (strcmp(prev->device_name, d->device_name) == 0 &&
				     strcmp(prev->node_id, d->node_id) < 0));
		else
			assert_true(prev < d);
	}
}

/* A few hundred devices over two projects and three products, names repeating. */
static void fill(struct fixture *fx)
{
	add_product(fx->s, "p1", "meter");
	add_product(fx->s, "p1", "tracker");
	add_product(fx->s, "p1", "valve");
	add_product(fx->s, "p2", "meter");
	static const char *const products[] = { "meter", "tracker", "valve" };
	static const char *const names[] = { "kitchen", "hall", "kit", "Kitchen", "h\xc3\xa9" };
	for (int i = 0; i < 600; i++) {
		char node[32], name[64];
		/* Creation order is not node order. */
		snprintf(node, sizeof(node), "n%04d", (i * 7919) % 600);
		snprintf(name, sizeof(name), "%s %d", names[i % 5], i % 40);
		add_device(fx, "p1", products[i % 3], node, name, i % 4 == 0 ? STORE_DEVICE_ONLINE
							      : i % 4 == 1 ? STORE_DEVICE_OFFLINE
									   : STORE_DEVICE_INACTIVE);
	}
	for (int i = 0; i < 50; i++) {
		char node[32];
		snprintf(node, sizeof(node), "q%04d", i);
		add_device(fx, "p2", "meter", node, "kitchen 1", STORE_DEVICE_ONLINE);
	}
}

static void test_every_filter_pages_each_device_once(void **state)
{
	struct fixture *fx = *state;
	fill(fx);
	const char *products[] = { NULL, "meter", "valve", "nothing" };
	int statuses[] = { -1, STORE_DEVICE_ONLINE, STORE_DEVICE_INACTIVE };
	const char *names[] = { NULL, "kit", "kitchen 1", "K", "h\xc3", "zzz" };
	const char *nodes[] = { NULL, "n01", "n0", "q" };
	int64_t limits[] = { 3, 7, 50 };
	for (size_t a = 0; a < 4; a++)
		for (size_t b = 0; b < 3; b++)
			for (size_t c = 0; c < 6; c++)
				for (size_t e = 0; e < 4; e++) {
					struct store_device_filter f = {
						.product_id = products[a], .status = statuses[b],
						.name_prefix = names[c], .node_id_prefix = nodes[e],
						.limit = limits[(a + b + c + e) % 3],
					};
					struct walk w;
					struct store_device_page first;
					walk_all(fx, "p1", f, &w, &first);
					check_walk(fx, "p1", &f, &w);
					/* Below the cap every count is exact. */
					assert_false(first.count_capped);
					assert_int_equal(first.count, w.count);
					assert_int_equal(w.short_pages, 0);
				}
	/* An exact node_id, with and without other filters. */
	struct store_device_filter exact = { .node_id = "n0042", .status = -1, .limit = 10 };
	struct walk w;
	struct store_device_page first;
	walk_all(fx, "p1", exact, &w, &first);
	check_walk(fx, "p1", &exact, &w);
	assert_int_equal(w.count, 1);
	assert_int_equal(first.count, 1);
	exact.node_id = "n004"; /* a prefix of others, but exact */
	walk_all(fx, "p1", exact, &w, &first);
	assert_int_equal(w.count, 0);
	/* Another project's devices never show. */
	struct store_device_filter all = { .status = -1, .limit = 50 };
	walk_all(fx, "p2", all, &w, &first);
	assert_int_equal(w.count, 50);
	assert_int_equal(first.count, 50);
}

static void test_offset_and_markers(void **state)
{
	struct fixture *fx = *state;
	fill(fx);
	struct walk w;
	memset(&w, 0, sizeof(w));
	struct store_device_page page;
	/* An offset after a marker skips that many matching devices. */
	struct store_device_filter f = { .status = STORE_DEVICE_ONLINE, .limit = 3 };
	assert_int_equal(store_device_list(fx->s, "p1", &f, collect, &w, &page), 0);
	assert_int_equal(w.count, 3);
	char marker[STORE_MARKER_MAX + 1];
	snprintf(marker, sizeof(marker), "%s", page.marker);
	f.marker = marker;
	f.offset = 2;
	assert_int_equal(store_device_list(fx->s, "p1", &f, collect, &w, &page), 0);
	assert_int_equal(w.count, 6);
	/* devices 0, 4, 8 on the first page; 12, 16 skipped; then 20, 24, 28. */
	assert_string_equal(w.ids[3], fx->devices[20].device_id);
	f.name_prefix = "kit"; /* a marker of another order */
	assert_int_equal(store_device_list(fx->s, "p1", &f, collect, &w, &page), -EINVAL);
	f.name_prefix = NULL;
	const char *bad[] = { "x1", "r", "r12a", "r1234567890123456789", "n12", "n1.6", "n1.zz",
			      "n00.a", "n.a", "n61.", "n61.a b", "i1.", "i", "r-1" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		f.marker = bad[i];
		f.name_prefix = bad[i][0] == 'n' ? "k" : NULL;
		f.node_id_prefix = bad[i][0] == 'i' ? "n" : NULL;
		assert_int_equal(store_device_list(fx->s, "p1", &f, collect, &w, &page), -EINVAL);
	}
	f.marker = NULL;
	f.name_prefix = f.node_id_prefix = NULL;
	f.offset = STORE_OFFSET_MAX + 1;
	assert_int_equal(store_device_list(fx->s, "p1", &f, collect, &w, &page), -ERANGE);
	f.offset = 0;
	f.limit = 0;
	assert_int_equal(store_device_list(fx->s, "p1", &f, collect, &w, &page), -ERANGE);
	/* A marker of a device deleted since still finds the ones after it. */
	memset(&w, 0, sizeof(w));
	struct store_device_filter g = { .name_prefix = "hall", .status = -1, .limit = 5 };
	assert_int_equal(store_device_list(fx->s, "p1", &g, collect, &w, &page), 0);
	const struct store_device *last = by_id(fx, w.ids[4]);
	assert_int_equal(store_device_delete(fx->s, "p1", last->device_id), 0);
	snprintf(marker, sizeof(marker), "%s", page.marker);
	g.marker = marker;
	assert_int_equal(store_device_list(fx->s, "p1", &g, collect, &w, &page), 0);
	assert_int_equal(w.count, 10);
	assert_true(strcmp(by_id(fx, w.ids[5])->device_name, last->device_name) >= 0);
}

/* Past the bounds: a search's count stops at STORE_COUNT_MAX, its pages examine at most
 * STORE_SEARCH_SCAN_MAX rows (short pages with markers), and still every device comes
 * once. */
static void test_bounds(void **state)
{
	struct fixture *fx = *state;
	add_product(fx->s, "p1", "meter");
	add_product(fx->s, "p1", "valve");
	assert_int_equal(store_begin(fx->s), 0);
	for (int i = 0; i < 12010; i++) {
		char node[32], name[32];
		snprintf(node, sizeof(node), "d%05d", i);
		snprintf(name, sizeof(name), "dev %05d", i);
		/* 11 valves, far apart */
		add_device(fx, "p1", i % 1200 == 7 ? "valve" : "meter", node, name,
			   STORE_DEVICE_INACTIVE);
	}
	assert_int_equal(store_commit(fx->s), 0);
	struct walk *w = calloc(1, sizeof(*w));
	assert_non_null(w);
	struct store_device_page first;
	struct store_device_filter all = { .name_prefix = "dev", .status = -1, .limit = 50 };
	walk_all(fx, "p1", all, w, &first);
	check_walk(fx, "p1", &all, w);
	assert_true(first.count_capped);
	assert_int_equal(first.count, STORE_COUNT_MAX);
	/* The creation order counts exactly, whatever the number. */
	struct store_device_filter created = { .status = -1, .limit = 50 };
	walk_all(fx, "p1", created, w, &first);
	assert_false(first.count_capped);
	assert_int_equal(first.count, 12010);
	/* Rare matches: pages stop at the scan bound. */
	struct store_device_filter valves = { .name_prefix = "dev", .product_id = "valve",
					      .status = -1, .limit = 50 };
	walk_all(fx, "p1", valves, w, &first);
	check_walk(fx, "p1", &valves, w);
	assert_int_equal(w->count, 11);
	assert_true(w->short_pages >= 1);
	assert_true(first.count_capped); /* 9 of them in the first 10 000 rows */
	assert_int_equal(first.count, 9);
	free(w);
}

/* Times the store's statements were prepared again (SQLite does when a bound parameter
 * can change the plan): none of a listing's should be, page after page. */
static int reprepared(struct store *s)
{
	int n = 0;
	for (sqlite3_stmt *st = sqlite3_next_stmt(store_db(s), NULL); st;
	     st = sqlite3_next_stmt(store_db(s), st))
		n += sqlite3_stmt_status(st, SQLITE_STMTSTATUS_REPREPARE, 0);
	return n;
}

/* 10 000 devices over three products and three statuses, paged by marker through every
 * filter of the creation order: each device exactly once, in order, the count exact; and
 * no statement prepared again (a status listing was, at each page: "+?3"). */
static void test_ten_thousand_by_marker(void **state)
{
	struct fixture *fx = *state;
	static const char *const products[] = { "meter", "tracker", "valve" };
	for (int i = 0; i < 3; i++) {
		add_product(fx->s, "p1", products[i]);
		add_product(fx->s, "p2", products[i]);
	}
	assert_int_equal(store_begin(fx->s), 0);
	for (int i = 0; i < 10000; i++) {
		char node[32];
		snprintf(node, sizeof(node), "d%05d", i);
		/* Products in runs, statuses scattered: filters interleave. */
		int status = i % 7 == 0 ? STORE_DEVICE_ONLINE
			   : i % 11 == 0 ? STORE_DEVICE_OFFLINE : STORE_DEVICE_INACTIVE;
		add_device(fx, i % 10 == 9 ? "p2" : "p1", products[(i / 100) % 3], node, node,
			   status);
	}
	assert_int_equal(store_commit(fx->s), 0);
	struct walk *w = calloc(1, sizeof(*w));
	assert_non_null(w);
	int before = -1;
	for (int p = -1; p < 3; p++) {
		for (int status = -1; status <= STORE_DEVICE_OFFLINE; status++) {
			struct store_device_filter f = { .product_id = p < 0 ? NULL : products[p],
							 .status = status, .limit = 97 };
			struct store_device_page first;
			walk_all(fx, "p1", f, w, &first);
			check_walk(fx, "p1", &f, w);
			assert_int_equal(first.count, w->count);
			assert_false(first.count_capped);
			assert_int_equal(w->short_pages, 0);
			assert_int_equal(w->pages, w->count / 97 + 1);
			if (before < 0)
				before = reprepared(fx->s); /* the first walk prepared them */
		}
	}
	assert_int_equal(reprepared(fx->s), before);
	free(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_counts_follow_changes, setup, teardown),
		cmocka_unit_test(test_migration_counts_existing_devices),
		cmocka_unit_test_setup_teardown(test_every_filter_pages_each_device_once, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_offset_and_markers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bounds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ten_thousand_by_marker, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
