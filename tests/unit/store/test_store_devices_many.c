/*
 * Tests of the bulk create's store calls (store_platform.c) on an in-memory store:
 * store_devices_insert_many stores all its rows (100 a statement), kept by the device
 * counts' triggers like single inserts, and stores none of them when one key is taken or a
 * product is missing, whichever statement meets it; store_device_clash names the key that is taken,
 * node_id first, across projects.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "store/store.h"
#include "store/store_platform.h"
#include "store/store_search.h"

static int setup(void **state)
{
	struct store *s;
	if (store_open(&s, ":memory:") != 0)
		return -1;
	struct store_product p;
	memset(&p, 0, sizeof(p));
	strcpy(p.project_id, "p1");
	strcpy(p.product_id, "meter");
	strcpy(p.name, "meter");
	p.read_format = -1;
	if (store_product_insert(s, &p) != 0)
		return -1;
	strcpy(p.project_id, "p2");
	if (store_product_insert(s, &p) != 0)
		return -1;
	*state = s;
	return 0;
}

static int teardown(void **state)
{
	store_close(*state);
	return 0;
}

static void device(struct store_device *d, const char *project, int i)
{
	memset(d, 0, sizeof(*d));
	strcpy(d->project_id, project);
	strcpy(d->product_id, "meter");
	snprintf(d->node_id, sizeof(d->node_id), "n%d", i);
	snprintf(d->device_id, sizeof(d->device_id), "d%d", i);
	snprintf(d->device_name, sizeof(d->device_name), "name %d", i);
	strcpy(d->secret, "00112233445566778899aabbccddeeff");
	d->timeout = 60;
	d->create_time = 1764500000 + i;
	d->read_format = -1;
}

static int64_t total(struct store *s, const char *project)
{
	struct store_device_counts c;
	assert_int_equal(store_device_counts(s, project, "", &c), 0);
	return c.total;
}

static void test_insert_many(void **state)
{
	struct store *s = *state;
	size_t n = STORE_DEVICES_INSERT_MAX;
	struct store_device *devs = calloc(n, sizeof(*devs));
	const struct store_device **rows = calloc(n, sizeof(*rows));
	assert_non_null(devs);
	assert_non_null(rows);
	for (size_t i = 0; i < n; i++) {
		device(&devs[i], "p1", (int)i);
		rows[i] = &devs[i];
	}
	devs[7].secure_access = true;
	devs[7].read_format = 11542;
	assert_int_equal(store_devices_insert_many(s, rows, n), 0);
	assert_int_equal(total(s, "p1"), (int64_t)n);

	/* Every column as inserted. */
	struct store_device got;
	assert_int_equal(store_device_get(s, "p1", "d7", &got), 0);
	assert_string_equal(got.node_id, "n7");
	assert_string_equal(got.device_name, "name 7");
	assert_string_equal(got.secret, "00112233445566778899aabbccddeeff");
	assert_true(got.secure_access);
	assert_int_equal(got.timeout, 60);
	assert_int_equal(got.create_time, 1764500007);
	assert_int_equal(got.read_format, 11542);
	assert_int_equal(store_device_get_by_node_id(s, "n999", &got), 0);
	assert_string_equal(got.device_id, "d999");

	/* Bounds. */
	assert_int_equal(store_devices_insert_many(s, rows, 0), -EINVAL);
	assert_int_equal(store_devices_insert_many(s, rows, n + 1), -EINVAL);
	free(rows);
	free(devs);
}

static void test_insert_many_all_or_none(void **state)
{
	struct store *s = *state;
	struct store_device devs[3];
	const struct store_device *rows[3] = {&devs[0], &devs[1], &devs[2]};
	device(&devs[0], "p1", 1);
	assert_int_equal(store_device_insert(s, &devs[0]), 0);

	/* The last row's node_id is taken: none of the three is stored. */
	device(&devs[0], "p1", 10);
	device(&devs[1], "p1", 11);
	device(&devs[2], "p1", 12);
	strcpy(devs[2].node_id, "n1");
	assert_int_equal(store_devices_insert_many(s, rows, 3), -EEXIST);
	struct store_device got;
	assert_int_equal(store_device_get(s, "p1", "d10", &got), -ENOENT);
	assert_int_equal(total(s, "p1"), 1);

	/* Twice the same device_id within the rows. */
	device(&devs[2], "p1", 12);
	strcpy(devs[2].device_id, "d10");
	assert_int_equal(store_devices_insert_many(s, rows, 3), -EEXIST);
	assert_int_equal(total(s, "p1"), 1);

	/* A product that does not exist (the foreign key). */
	device(&devs[2], "p1", 12);
	strcpy(devs[2].product_id, "nope");
	assert_not_in_range(store_devices_insert_many(s, rows, 3), 0, 0);
	assert_int_equal(total(s, "p1"), 1);

	device(&devs[2], "p1", 12);
	assert_int_equal(store_devices_insert_many(s, rows, 3), 0);
	assert_int_equal(total(s, "p1"), 4);
}

/* Inserted 100 rows at a time, the rest in a statement of their own: a clash in the rest
 * undoes the full chunks before it; sizes around a chunk store every row. */
static void test_insert_many_chunks(void **state)
{
	struct store *s = *state;
	size_t n = 250;
	struct store_device *devs = calloc(n, sizeof(*devs));
	const struct store_device **rows = calloc(n, sizeof(*rows));
	assert_non_null(devs);
	assert_non_null(rows);
	for (size_t i = 0; i < n; i++) {
		device(&devs[i], "p1", (int)i);
		rows[i] = &devs[i];
	}
	strcpy(devs[240].node_id, "n3");
	assert_int_equal(store_devices_insert_many(s, rows, n), -EEXIST);
	assert_int_equal(total(s, "p1"), 0);
	struct store_device got;
	assert_int_equal(store_device_get(s, "p1", "d0", &got), -ENOENT);

	/* A clash in a full chunk after another. */
	device(&devs[240], "p1", 240);
	strcpy(devs[150].device_id, "d1");
	assert_int_equal(store_devices_insert_many(s, rows, n), -EEXIST);
	assert_int_equal(total(s, "p1"), 0);

	device(&devs[150], "p1", 150);
	size_t sizes[] = {1, 99, 100, 50}; /* 250 in all */
	size_t at = 0;
	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		assert_int_equal(store_devices_insert_many(s, rows + at, sizes[k]), 0);
		at += sizes[k];
		assert_int_equal(total(s, "p1"), (int64_t)at);
	}
	assert_int_equal(store_device_get(s, "p1", "d249", &got), 0);
	assert_int_equal(store_device_get(s, "p1", "d99", &got), 0);
	free(rows);
	free(devs);
}

static void test_clash(void **state)
{
	struct store *s = *state;
	struct store_device d;
	device(&d, "p2", 1);
	assert_int_equal(store_device_insert(s, &d), 0);
	assert_int_equal(store_device_clash(s, "d2", "n2"), 0);
	/* Across projects: both keys are unique everywhere. */
	assert_int_equal(store_device_clash(s, "d2", "n1"), 1);
	assert_int_equal(store_device_clash(s, "d1", "n2"), 2);
	/* Both taken (by one device or two): the node_id is named. */
	assert_int_equal(store_device_clash(s, "d1", "n1"), 1);
	device(&d, "p2", 2);
	assert_int_equal(store_device_insert(s, &d), 0);
	assert_int_equal(store_device_clash(s, "d1", "n2"), 1);
	assert_int_equal(store_device_clash(s, "d2", "n1"), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_insert_many, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_insert_many_all_or_none, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_insert_many_chunks, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_clash, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
