/*
 * Tests of iot/iot_platform_cache.c through the platform's internal calls, on an in-memory
 * store: the bound (least recently used out), hits and misses, forgetting a device, a
 * product's change dropping its devices, a lookup by ids that do not match the cached
 * device going to the store, shadows kept in line with what was written.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <uv.h>

#include "iot/iot_platform.h"
#include "iot/iot_platform_internal.h"
#include "store/store.h"
#include "store/store_platform.h"

struct env {
	uv_loop_t loop;
	struct store *store;
	struct iot_platform *p;
};

static int64_t clock_ms(void)
{
	return 1764500000000;
}

static int setup(void **state)
{
	static struct env e;
	memset(&e, 0, sizeof(e));
	if (uv_loop_init(&e.loop) != 0 || store_open(&e.store, ":memory:") != 0 ||
	    store_project_ensure(e.store, "p1") != 0)
		return -1;
	struct store_product prod = { .project_id = "p1", .product_id = "wm", .name = "wm",
				      .protocol_type = "LwM2M", .data_format = "binary",
				      .read_format = -1 };
	if (store_product_insert(e.store, &prod) != 0)
		return -1;
	for (int i = 0; i < 10; i++) {
		struct store_device d = { .project_id = "p1", .product_id = "wm", .read_format = -1 };
		snprintf(d.node_id, sizeof(d.node_id), "n%d", i);
		snprintf(d.device_id, sizeof(d.device_id), "wm_n%d", i);
		snprintf(d.device_name, sizeof(d.device_name), "n%d", i);
		if (store_device_insert(e.store, &d) != 0)
			return -1;
	}
	struct iot_platform_deps deps = { .store = e.store, .now_ms = clock_ms, .loop = &e.loop,
					  .codec = { .threads = 1 } };
	if (iot_platform_create(&e.p, &deps) != 0)
		return -1;
	/* A cache of 4, so that the bound is reached with a few devices. */
	iot_cache_destroy(e.p->cache);
	if (iot_cache_create(&e.p->cache, 4) != 0)
		return -1;
	*state = &e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;
	iot_platform_destroy(e->p);
	uv_run(&e->loop, UV_RUN_DEFAULT); /* the codec threads' handles close */
	store_close(e->store);
	assert_int_equal(uv_loop_close(&e->loop), 0);
	return 0;
}

static int lookup(struct env *e, const char *node_id)
{
	struct store_device dev;
	struct product_entry *prod;
	int rc = iot_device_by_node(e->p, node_id, &dev, &prod);
	if (rc == 0) {
		char want[32];
		snprintf(want, sizeof(want), "wm_%s", node_id);
		assert_string_equal(dev.device_id, want);
		assert_string_equal(dev.project_id, "p1");
		assert_string_equal(dev.product_id, "wm");
		assert_non_null(prod);
		assert_string_equal(prod->product_id, "wm");
	}
	return rc;
}

static void test_bound_and_lru(void **state)
{
	struct env *e = *state;
	const struct iot_platform_stats *st = iot_platform_stats(e->p);
	for (int i = 0; i < 10; i++) {
		char node[8];
		snprintf(node, sizeof(node), "n%d", i);
		assert_int_equal(lookup(e, node), 0);
		assert_true(iot_cache_size(e->p) <= 4);
	}
	assert_int_equal(iot_cache_size(e->p), 4);
	assert_int_equal(st->device_cache_misses, 10);
	assert_int_equal(lookup(e, "n9"), 0); /* the newest: cached */
	assert_int_equal(st->device_cache_hits, 1);
	assert_int_equal(lookup(e, "n6"), 0); /* the oldest of the four: still cached ... */
	assert_int_equal(st->device_cache_hits, 2);
	assert_int_equal(lookup(e, "n0"), 0); /* ... gone long ago: read, and n7 goes out */
	assert_int_equal(st->device_cache_misses, 11);
	assert_int_equal(lookup(e, "n6"), 0); /* used lately: it stayed */
	assert_int_equal(st->device_cache_hits, 3);
	assert_int_equal(lookup(e, "n7"), 0);
	assert_int_equal(st->device_cache_misses, 12);
	/* Unknown devices are not cached. */
	assert_int_equal(lookup(e, "nobody"), -ENOENT);
	assert_int_equal(iot_cache_size(e->p), 4);
}

static void test_forget_and_product_change(void **state)
{
	struct env *e = *state;
	const struct iot_platform_stats *st = iot_platform_stats(e->p);
	assert_int_equal(lookup(e, "n1"), 0);
	assert_int_equal(lookup(e, "n2"), 0);
	iot_platform_device_forget(e->p, "n1");
	iot_platform_device_forget(e->p, "n5"); /* not cached: nothing */
	assert_int_equal(iot_cache_size(e->p), 1);
	uint64_t misses = st->device_cache_misses;
	assert_int_equal(lookup(e, "n1"), 0);
	assert_int_equal(st->device_cache_misses, misses + 1);
	/* By ids: a cached node with another device_id is not that device: the store says. */
	struct store_device dev;
	assert_int_equal(iot_device_by_id(e->p, "p1", "wm_n2", "n2", &dev), 0);
	assert_int_equal(iot_device_by_id(e->p, "p1", "other", "n2", &dev), -ENOENT);
	assert_int_equal(iot_device_by_id(e->p, "p2", "wm_n2", "n2", &dev), -ENOENT);
	/* The product changes: its devices' entries go (they point at its entry). */
	iot_platform_product_changed(e->p, "p1", "wm");
	assert_int_equal(iot_cache_size(e->p), 0);
	assert_int_equal(lookup(e, "n2"), 0);
	assert_int_equal(iot_cache_size(e->p), 1);
}

static void test_shadow_in_line(void **state)
{
	struct env *e = *state;
	struct store_device dev;
	struct product_entry *prod;
	assert_int_equal(iot_device_by_node(e->p, "n3", &dev, &prod), 0);
	struct store_shadow sh;
	assert_int_equal(iot_cache_shadow_get(e->p, &dev, "WaterMeter", &sh), -ENOENT);
	memset(&sh, 0, sizeof(sh));
	snprintf(sh.device_id, sizeof(sh.device_id), "%s", dev.device_id);
	snprintf(sh.service_id, sizeof(sh.service_id), "WaterMeter");
	sh.reported = "{\"flow\":1}";
	sh.reported_version = 1;
	assert_int_equal(store_shadow_put(e->store, &sh), 0);
	iot_cache_shadow_stored(e->p, &dev, &sh);
	/* The store changes behind the cache's back: the cached copy is what comes (this is
	 * why every writer of a shadow keeps the cache in line) ... */
	sh.reported = "{\"flow\":2}";
	sh.reported_version = 2;
	assert_int_equal(store_shadow_put(e->store, &sh), 0);
	struct store_shadow got;
	assert_int_equal(iot_cache_shadow_get(e->p, &dev, "WaterMeter", &got), 0);
	assert_string_equal(got.reported, "{\"flow\":1}");
	assert_string_equal(got.desired, "{}");
	store_shadow_clear(&got);
	/* ... and once the writer says so, the store's. */
	iot_cache_shadow_forget(e->p, &dev);
	assert_int_equal(iot_cache_shadow_get(e->p, &dev, "WaterMeter", &got), 0);
	assert_string_equal(got.reported, "{\"flow\":2}");
	assert_int_equal(got.reported_version, 2);
	store_shadow_clear(&got);
	/* A failed commit drops every cached shadow: what the turn wrote (here version 3, as
	 * if written and then rolled back) is not what the store has. */
	sh.reported = "{\"flow\":3}";
	sh.reported_version = 3;
	iot_cache_shadow_stored(e->p, &dev, &sh);
	iot_platform_committed(e->p, 0); /* committed: kept */
	assert_int_equal(iot_cache_shadow_get(e->p, &dev, "WaterMeter", &got), 0);
	assert_int_equal(got.reported_version, 3);
	store_shadow_clear(&got);
	iot_platform_committed(e->p, -EIO);
	assert_int_equal(iot_cache_shadow_get(e->p, &dev, "WaterMeter", &got), 0);
	assert_int_equal(got.reported_version, 2);
	store_shadow_clear(&got);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_bound_and_lru, setup, teardown),
		cmocka_unit_test_setup_teardown(test_forget_and_product_change, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shadow_in_line, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
