/*
 * Tests of the store's bootstrap rows (store_bootstrap.c): a device's configuration put,
 * replaced, found by identity and by node, deleted; -EEXIST for an identity another device
 * has (and that device's row left alone); templates; the history kept to its newest 10,
 * newest first; and schema step 15's trigger removing a deleted device's rows.
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

#include "store/store.h"
#include "store/store_bootstrap.h"

static int setup(void **state)
{
	char path[] = "/tmp/lwm2md-bs-XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0)
		return -1;
	close(fd);
	struct store *s;
	if (store_open(&s, path) != 0)
		return -1;
	unlink(path);
	if (store_project_ensure(s, "p1") != 0)
		return -1;
	struct store_product p = {0};
	strcpy(p.project_id, "p1");
	strcpy(p.product_id, "prod");
	strcpy(p.name, "prod");
	if (store_product_insert(s, &p) != 0)
		return -1;
	static const char *const devs[][2] = {{"d1", "node1"}, {"d2", "node2"}};
	for (int i = 0; i < 2; i++) {
		struct store_device d = {0};
		strcpy(d.project_id, "p1");
		strcpy(d.device_id, devs[i][0]);
		strcpy(d.node_id, devs[i][1]);
		strcpy(d.product_id, "prod");
		strcpy(d.secret, "00112233445566778899aabbccddeeff");
		if (store_device_insert(s, &d) != 0)
			return -1;
	}
	*state = s;
	return 0;
}

static int teardown(void **state)
{
	store_close(*state);
	return 0;
}

static struct store_bs_device *row(const char *device, const char *node, const char *identity,
				   const char *config)
{
	static struct store_bs_device d;
	memset(&d, 0, sizeof(d));
	strcpy(d.project_id, "p1");
	strcpy(d.device_id, device);
	strcpy(d.node_id, node);
	strcpy(d.bs_identity, identity);
	strcpy(d.config, config);
	d.update_time = 1700000000;
	return &d;
}

static void test_device_rows(void **state)
{
	struct store *s = *state;
	struct store_bs_device *got = calloc(1, sizeof(*got));
	assert_int_equal(store_bs_device_get(s, "p1", "d1", got), -ENOENT);
	assert_int_equal(store_bs_device_put(s, row("d1", "node1", "bs-1", "{\"a\":1}")), 0);
	assert_int_equal(store_bs_device_get(s, "p1", "d1", got), 0);
	assert_string_equal(got->node_id, "node1");
	assert_string_equal(got->bs_identity, "bs-1");
	assert_string_equal(got->config, "{\"a\":1}");
	assert_int_equal(got->update_time, 1700000000);
	/* Replaced in place, identity and all. */
	assert_int_equal(store_bs_device_put(s, row("d1", "node1", "bs-1b", "{\"a\":2}")), 0);
	assert_int_equal(store_bs_device_by_identity(s, "bs-1", got), -ENOENT);
	assert_int_equal(store_bs_device_by_identity(s, "bs-1b", got), 0);
	assert_string_equal(got->device_id, "d1");
	assert_string_equal(got->config, "{\"a\":2}");
	assert_int_equal(store_bs_device_by_node(s, "node1", got), 0);
	assert_string_equal(got->bs_identity, "bs-1b");
	assert_int_equal(store_bs_device_by_node(s, "node2", got), -ENOENT);

	/* Another device may not take the identity; the holder's row stays. */
	assert_int_equal(store_bs_device_put(s, row("d2", "node2", "bs-1b", "{\"b\":1}")), -EEXIST);
	assert_int_equal(store_bs_device_get(s, "p1", "d2", got), -ENOENT);
	assert_int_equal(store_bs_device_by_identity(s, "bs-1b", got), 0);
	assert_string_equal(got->device_id, "d1");
	assert_int_equal(store_bs_device_put(s, row("d2", "node2", "node2", "{\"b\":1}")), 0);
	/* Nor by changing its own to one taken. */
	assert_int_equal(store_bs_device_put(s, row("d2", "node2", "bs-1b", "{\"b\":2}")), -EEXIST);
	assert_int_equal(store_bs_device_get(s, "p1", "d2", got), 0);
	assert_string_equal(got->config, "{\"b\":1}");

	/* Another project's view of it: nothing. */
	assert_int_equal(store_bs_device_get(s, "p2", "d1", got), -ENOENT);
	assert_int_equal(store_bs_device_delete(s, "p2", "d1"), -ENOENT);
	assert_int_equal(store_bs_device_delete(s, "p1", "d1"), 0);
	assert_int_equal(store_bs_device_delete(s, "p1", "d1"), -ENOENT);
	assert_int_equal(store_bs_device_get(s, "p1", "d1", got), -ENOENT);
	/* The identity is free again. */
	assert_int_equal(store_bs_device_put(s, row("d1", "node1", "bs-1b", "{}")), 0);
	free(got);
}

static void test_templates(void **state)
{
	struct store *s = *state;
	struct store_bs_template *t = calloc(1, sizeof(*t)), *got = calloc(1, sizeof(*got));
	strcpy(t->project_id, "p1");
	strcpy(t->product_id, "prod");
	strcpy(t->config, "{\"t\":1}");
	t->update_time = 5;
	assert_int_equal(store_bs_template_get(s, "p1", "prod", got), -ENOENT);
	assert_int_equal(store_bs_template_put(s, t), 0);
	strcpy(t->config, "{\"t\":2}");
	t->update_time = 6;
	assert_int_equal(store_bs_template_put(s, t), 0);
	assert_int_equal(store_bs_template_get(s, "p1", "prod", got), 0);
	assert_string_equal(got->config, "{\"t\":2}");
	assert_int_equal(got->update_time, 6);
	assert_string_equal(got->product_id, "prod");
	assert_int_equal(store_bs_template_get(s, "p2", "prod", got), -ENOENT);
	assert_int_equal(store_bs_template_delete(s, "p1", "prod"), 0);
	assert_int_equal(store_bs_template_delete(s, "p1", "prod"), -ENOENT);
	free(t);
	free(got);
}

struct seen {
	struct store_bs_event e[32];
	int n;
	int stop_after;
};

static int collect(const struct store_bs_event *e, void *ctx)
{
	struct seen *s = ctx;
	s->e[s->n++] = *e;
	return s->stop_after && s->n == s->stop_after;
}

static void add(struct store *s, const char *device, int64_t t, const char *result)
{
	struct store_bs_event e = {0};
	e.time_ms = t;
	strcpy(e.result, result);
	snprintf(e.reason, sizeof(e.reason), "r%lld", (long long)t);
	strcpy(e.transport, "coaps");
	assert_int_equal(store_bs_history_add(s, "p1", device, &e), 0);
}

static void test_history(void **state)
{
	struct store *s = *state;
	struct seen seen = {0};
	/* 15 bootstraps, out of order: the 10 newest stay, newest first. */
	for (int i = 0; i < 15; i++)
		add(s, "d1", 1000 + (i * 7) % 15, i % 2 ? "failed" : "succeeded");
	add(s, "d2", 1, "failed");
	assert_int_equal(store_bs_history_list(s, "p1", "d1", collect, &seen), 0);
	assert_int_equal(seen.n, STORE_BS_HISTORY_KEPT);
	for (int i = 0; i < seen.n; i++) {
		assert_int_equal(seen.e[i].time_ms, 1014 - i);
		char want[16];
		snprintf(want, sizeof(want), "r%d", 1014 - i);
		assert_string_equal(seen.e[i].reason, want);
		assert_string_equal(seen.e[i].transport, "coaps");
	}
	/* The same millisecond twice: the later added is newer. */
	struct store_bs_event e = {0};
	e.time_ms = 2000;
	strcpy(e.result, "failed");
	strcpy(e.reason, "first");
	assert_int_equal(store_bs_history_add(s, "p1", "d1", &e), 0);
	strcpy(e.result, "succeeded");
	strcpy(e.reason, "second");
	assert_int_equal(store_bs_history_add(s, "p1", "d1", &e), 0);
	memset(&seen, 0, sizeof(seen));
	seen.stop_after = 2;
	assert_int_equal(store_bs_history_list(s, "p1", "d1", collect, &seen), 0);
	assert_int_equal(seen.n, 2);
	assert_string_equal(seen.e[0].reason, "second");
	assert_string_equal(seen.e[1].reason, "first");
	/* Another device's are its own. */
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(store_bs_history_list(s, "p1", "d2", collect, &seen), 0);
	assert_int_equal(seen.n, 1);
	assert_string_equal(seen.e[0].result, "failed");
}

/* Deleting a device removes its configuration and history (schema step 15's trigger),
 * and only its. */
static void test_device_delete_trigger(void **state)
{
	struct store *s = *state;
	assert_int_equal(store_bs_device_put(s, row("d1", "node1", "id-1", "{}")), 0);
	assert_int_equal(store_bs_device_put(s, row("d2", "node2", "id-2", "{}")), 0);
	add(s, "d1", 1, "succeeded");
	add(s, "d2", 2, "succeeded");
	assert_int_equal(store_device_delete(s, "p1", "d1"), 0);
	struct store_bs_device *got = calloc(1, sizeof(*got));
	assert_int_equal(store_bs_device_get(s, "p1", "d1", got), -ENOENT);
	assert_int_equal(store_bs_device_by_identity(s, "id-1", got), -ENOENT);
	struct seen seen = {0};
	assert_int_equal(store_bs_history_list(s, "p1", "d1", collect, &seen), 0);
	assert_int_equal(seen.n, 0);
	assert_int_equal(store_bs_device_get(s, "p1", "d2", got), 0);
	assert_int_equal(store_bs_history_list(s, "p1", "d2", collect, &seen), 0);
	assert_int_equal(seen.n, 1);
	free(got);
}

/* Deleting a product removes its template (so a product made again under the same id
 * does not inherit it). */
static void test_product_delete_trigger(void **state)
{
	struct store *s = *state;
	struct store_product p = {0};
	strcpy(p.project_id, "p1");
	strcpy(p.product_id, "prod2");
	strcpy(p.name, "prod2");
	assert_int_equal(store_product_insert(s, &p), 0);
	struct store_bs_template *t = calloc(1, sizeof(*t));
	strcpy(t->project_id, "p1");
	strcpy(t->product_id, "prod2");
	strcpy(t->config, "{}");
	assert_int_equal(store_bs_template_put(s, t), 0);
	strcpy(t->product_id, "prod");
	assert_int_equal(store_bs_template_put(s, t), 0);
	assert_int_equal(store_product_delete(s, "p1", "prod2"), 0);
	assert_int_equal(store_bs_template_get(s, "p1", "prod2", t), -ENOENT);
	assert_int_equal(store_bs_template_get(s, "p1", "prod", t), 0);
	free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_device_rows, setup, teardown),
		cmocka_unit_test_setup_teardown(test_templates, setup, teardown),
		cmocka_unit_test_setup_teardown(test_history, setup, teardown),
		cmocka_unit_test_setup_teardown(test_device_delete_trigger, setup, teardown),
		cmocka_unit_test_setup_teardown(test_product_delete_trigger, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
