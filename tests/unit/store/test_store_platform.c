/*
 * Tests of store_platform.c's newer calls on an in-memory store: the shadow's desired
 * side round trip (desired_time_ms, schema v9), a device's PENDING command found by
 * service and name and its paras replaced, a product's codec examples (schema v12) kept
 * and deleted with it. (The outbox's are in test_store_push.c.)
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

#include <sqlite3.h>

#include "store/store.h"
#include "store/store_internal.h"
#include "store/store_platform.h"

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

static void test_shadow_desired(void **state)
{
	struct store *s = *state;
	struct store_shadow sh = { .device_id = "d1", .service_id = "WaterMeter" };
	sh.reported = "{\"flow\":1}";
	sh.reported_version = 3;
	sh.desired = "{\"interval\":900}";
	sh.desired_version = 2;
	sh.desired_time_ms = 1764500000123;
	assert_int_equal(store_shadow_put(s, &sh), 0);
	struct store_shadow got;
	assert_int_equal(store_shadow_get(s, "d1", "WaterMeter", &got), 0);
	assert_string_equal(got.desired, "{\"interval\":900}");
	assert_int_equal(got.desired_version, 2);
	assert_int_equal(got.desired_time_ms, 1764500000123);
	assert_int_equal(got.reported_version, 3);
	store_shadow_clear(&got);
	assert_int_equal(store_shadow_get(s, "d1", "Other", &got), -ENOENT);

	/* An update rewrites the row; of a row that does not exist, it is -ENOENT. */
	sh.reported = "{\"flow\":2}";
	sh.reported_version = 4;
	assert_int_equal(store_shadow_update(s, &sh), 0);
	assert_int_equal(store_shadow_get(s, "d1", "WaterMeter", &got), 0);
	assert_string_equal(got.reported, "{\"flow\":2}");
	assert_int_equal(got.reported_version, 4);
	assert_string_equal(got.desired, "{\"interval\":900}");
	store_shadow_clear(&got);
	struct store_shadow other = sh;
	snprintf(other.service_id, sizeof(other.service_id), "Other");
	assert_int_equal(store_shadow_update(s, &other), -ENOENT);
	assert_int_equal(store_shadow_get(s, "d1", "Other", &got), -ENOENT);
}

/* Inserts a PENDING command of d1 (node n1) named name for service sid. */
static void command(struct store *s, const char *id, const char *sid, const char *name,
		    const char *status)
{
	struct store_command c = { .created_ms = 1, .expire_ms = 100000 };
	snprintf(c.command_id, sizeof(c.command_id), "%s", id);
	snprintf(c.project_id, sizeof(c.project_id), "p1");
	snprintf(c.device_id, sizeof(c.device_id), "d1");
	snprintf(c.node_id, sizeof(c.node_id), "n1");
	snprintf(c.service_id, sizeof(c.service_id), "%s", sid);
	snprintf(c.command_name, sizeof(c.command_name), "%s", name);
	snprintf(c.send_strategy, sizeof(c.send_strategy), "delay");
	snprintf(c.status, sizeof(c.status), "%s", status);
	c.paras = "{}";
	c.result = "null";
	assert_int_equal(store_command_insert(s, &c), 0);
}

static void test_pending_named(void **state)
{
	struct store *s = *state;
	struct store_command c;
	assert_int_equal(store_command_pending_named(s, "d1", "WaterMeter", "$properties", &c),
			 -ENOENT);
	command(s, "c1", "WaterMeter", "$properties", "SENT");       /* not PENDING */
	command(s, "c2", "WaterMeter", "SET_INTERVAL", "PENDING");   /* another name */
	command(s, "c3", "Valve", "$properties", "PENDING");         /* another service */
	assert_int_equal(store_command_pending_named(s, "d1", "WaterMeter", "$properties", &c),
			 -ENOENT);
	command(s, "c4", "WaterMeter", "$properties", "PENDING");
	assert_int_equal(store_command_pending_named(s, "d1", "WaterMeter", "$properties", &c),
			 0);
	assert_string_equal(c.command_id, "c4");
	store_command_clear(&c);

	assert_int_equal(store_command_set_paras(s, "c4", "{\"interval\":1200}"), 0);
	assert_int_equal(store_command_get(s, "c4", &c), 0);
	assert_string_equal(c.paras, "{\"interval\":1200}");
	assert_string_equal(c.status, "PENDING");
	store_command_clear(&c);
	assert_int_equal(store_command_get(s, "c3", &c), 0);
	assert_string_equal(c.paras, "{}"); /* only c4's */
	store_command_clear(&c);
}

/* Open commands counted by node_id: PENDING, SENT and DELIVERED, not the closed ones, and
 * as many as by device_id. */
static void test_count_open_node(void **state)
{
	struct store *s = *state;
	int64_t n = -1;
	assert_int_equal(store_command_count_open_node(s, "n1", &n), 0);
	assert_int_equal(n, 0);
	const char *statuses[] = { "PENDING", "SENT", "DELIVERED", "SUCCESSFUL", "FAILED",
				   "TIMEOUT", "EXPIRED", "PENDING" };
	for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
		char id[16];
		snprintf(id, sizeof(id), "c%zu", i);
		command(s, id, "WaterMeter", "SET_INTERVAL", statuses[i]);
	}
	assert_int_equal(store_command_count_open_node(s, "n1", &n), 0);
	assert_int_equal(n, 4);
	int64_t by_device = -1;
	assert_int_equal(store_command_count_open(s, "d1", &by_device), 0);
	assert_int_equal(by_device, n);
	assert_int_equal(store_command_count_open_node(s, "n2", &n), 0);
	assert_int_equal(n, 0);
	/* The device deleted: its open commands are closed, the node counts none. */
	assert_int_equal(store_command_close_device(s, "d1", 5), 0);
	assert_int_equal(store_command_count_open_node(s, "n1", &n), 0);
	assert_int_equal(n, 0);
}

/* The seq an insert will get is known before it: AUTOINCREMENT never reuses one, even
 * after the last rows are gone. */
static void test_next_seq(void **state)
{
	struct store *s = *state;
	int64_t next = 0;
	assert_int_equal(store_command_next_seq(s, &next), 0);
	assert_int_equal(next, 1);
	struct store_command c = { .created_ms = 1, .expire_ms = 2, .paras = "{}",
				   .result = "null" };
	for (int i = 0; i < 3; i++) {
		snprintf(c.command_id, sizeof(c.command_id), "k%d", i);
		assert_int_equal(store_command_next_seq(s, &next), 0);
		assert_int_equal(store_command_insert(s, &c), 0);
		assert_int_equal(c.seq, next);
	}
	/* The last row gone (as a project's deletion takes its commands): not reused. */
	assert_int_equal(sqlite3_exec(store_db(s), "DELETE FROM commands WHERE command_id = 'k2'",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	assert_int_equal(store_command_next_seq(s, &next), 0);
	assert_int_equal(next, 4);
}

static void test_codec_examples(void **state)
{
	struct store *s = *state;
	struct store_product p = { .project_id = "p1", .product_id = "meter", .name = "m",
				   .protocol_type = "LwM2M", .data_format = "binary",
				   .read_format = -1 };
	assert_int_equal(store_product_insert(s, &p), 0);
	char *json = NULL;
	assert_int_equal(store_product_examples_get(s, "p1", "meter", &json), 0);
	assert_string_equal(json, "[]");
	free(json);
	const char *ex = "[{\"name\":\"report\",\"payload_hex\":\"0057000186A0\"}]";
	assert_int_equal(store_product_examples_set(s, "p1", "meter", ex), 0);
	assert_int_equal(store_product_examples_get(s, "p1", "meter", &json), 0);
	assert_string_equal(json, ex);
	free(json);
	/* Another project's product of the same id is another product. */
	assert_int_equal(store_product_examples_get(s, "p2", "meter", &json), -ENOENT);
	assert_int_equal(store_product_examples_set(s, "p2", "meter", ex), -ENOENT);
	/* They go with the product. */
	assert_int_equal(store_product_delete(s, "p1", "meter"), 0);
	assert_int_equal(store_product_examples_get(s, "p1", "meter", &json), -ENOENT);
	assert_int_equal(store_product_insert(s, &p), 0);
	assert_int_equal(store_product_examples_get(s, "p1", "meter", &json), 0);
	assert_string_equal(json, "[]");
	free(json);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_shadow_desired, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pending_named, setup, teardown),
		cmocka_unit_test_setup_teardown(test_codec_examples, setup, teardown),
		cmocka_unit_test_setup_teardown(test_count_open_node, setup, teardown),
		cmocka_unit_test_setup_teardown(test_next_seq, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
