/*
 * Tests of the store's firmware campaigns and targets (store_fw_campaigns.c): a campaign
 * row put, read back, its status changed, deleted with its targets; targets put, walked
 * from a cursor, listed by state a page at a time; a product's devices resolved into
 * targets by one statement; the cancel of every target not ended; the counts by state and
 * the targets a restart takes back.
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
#include "store/store_firmware.h"

static int setup(void **state)
{
	char path[] = "/tmp/lwm2md-fwc-XXXXXX";
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

static void add_device(struct store *s, const char *project, const char *product,
		       const char *node)
{
	struct store_device d;
	memset(&d, 0, sizeof(d));
	snprintf(d.project_id, sizeof(d.project_id), "%s", project);
	snprintf(d.product_id, sizeof(d.product_id), "%s", product);
	snprintf(d.node_id, sizeof(d.node_id), "%s", node);
	snprintf(d.device_id, sizeof(d.device_id), "id-%s", node);
	snprintf(d.device_name, sizeof(d.device_name), "%s", node);
	snprintf(d.secret, sizeof(d.secret), "00112233445566778899aabbccddeeff");
	d.read_format = -1;
	assert_int_equal(store_device_insert(s, &d), 0);
}

struct seen {
	struct store_fw_target t[32];
	int n;
};

static int collect(const struct store_fw_target *t, void *ctx)
{
	struct seen *s = ctx;
	if (s->n == 32)
		return -ENOSPC;
	s->t[s->n++] = *t;
	return 0;
}

struct campaigns_seen {
	struct store_fw_campaign c[4];
	char spec[4][64];
	int n;
};

static int collect_campaign(const struct store_fw_campaign *c, void *ctx)
{
	struct campaigns_seen *s = ctx;
	if (s->n == 4)
		return -ENOSPC;
	s->c[s->n] = *c;
	snprintf(s->spec[s->n], sizeof(s->spec[0]), "%s", c->spec);
	s->c[s->n].spec = NULL; /* freed by the store after the call */
	s->n++;
	return 0;
}

static void put_campaign(struct store *s, const char *id, int64_t create_time)
{
	struct store_fw_campaign c;
	memset(&c, 0, sizeof(c));
	snprintf(c.project_id, sizeof(c.project_id), "p1");
	snprintf(c.campaign_id, sizeof(c.campaign_id), "%s", id);
	snprintf(c.package_id, sizeof(c.package_id), "pkg");
	c.spec = (char *)"{\"name\":\"x\"}";
	c.create_time = create_time;
	c.start_ms = create_time * 1000;
	assert_int_equal(store_fw_campaign_put(s, &c), 0);
}

static void put_target(struct store *s, const char *campaign, uint32_t seq, int state,
		       uint32_t attempts, uint64_t bytes)
{
	struct store_fw_target t;
	memset(&t, 0, sizeof(t));
	snprintf(t.campaign_id, sizeof(t.campaign_id), "%s", campaign);
	t.seq = seq;
	snprintf(t.device_id, sizeof(t.device_id), "d%u", seq);
	snprintf(t.node_id, sizeof(t.node_id), "n%u", seq);
	t.state = state;
	t.attempts = attempts;
	t.bytes = bytes;
	snprintf(t.reason, sizeof(t.reason), "r%u", seq);
	snprintf(t.token, sizeof(t.token), "tok%u", seq);
	t.method = 1;
	t.result = 2;
	t.next_ms = 77;
	t.updated_ms = 88;
	assert_int_equal(store_fw_target_put(s, &t), 0);
}

static void test_campaign_rows(void **state)
{
	struct store *s = *state;
	put_campaign(s, "c2", 200);
	put_campaign(s, "c1", 100);
	struct campaigns_seen seen = {.n = 0};
	assert_int_equal(store_fw_campaign_each(s, collect_campaign, &seen), 0);
	assert_int_equal(seen.n, 2);
	assert_string_equal(seen.c[0].campaign_id, "c1"); /* oldest first */
	assert_string_equal(seen.spec[0], "{\"name\":\"x\"}");
	assert_string_equal(seen.c[0].package_id, "pkg");
	assert_int_equal(seen.c[0].start_ms, 100000);

	struct store_fw_campaign c;
	memset(&c, 0, sizeof(c));
	snprintf(c.campaign_id, sizeof(c.campaign_id), "c1");
	c.status = 2;
	snprintf(c.stop_reason, sizeof(c.stop_reason), "failure threshold");
	c.start_ms = 5;
	c.end_ms = 9;
	assert_int_equal(store_fw_campaign_set_status(s, &c), 0);
	snprintf(c.campaign_id, sizeof(c.campaign_id), "nope");
	assert_int_equal(store_fw_campaign_set_status(s, &c), -ENOENT);
	seen.n = 0;
	assert_int_equal(store_fw_campaign_each(s, collect_campaign, &seen), 0);
	assert_int_equal(seen.c[0].status, 2);
	assert_string_equal(seen.c[0].stop_reason, "failure threshold");
	assert_int_equal(seen.c[0].end_ms, 9);
	assert_string_equal(seen.spec[0], "{\"name\":\"x\"}"); /* untouched */

	put_target(s, "c1", 0, 0, 0, 0);
	put_target(s, "c2", 0, 0, 0, 0);
	assert_int_equal(store_fw_campaign_delete(s, "c1"), 0);
	assert_int_equal(store_fw_campaign_delete(s, "c1"), -ENOENT);
	struct seen t = {.n = 0};
	assert_int_equal(store_fw_target_each(s, "c1", -1, collect, &t), 0);
	assert_int_equal(t.n, 0); /* its targets went with it */
	assert_int_equal(store_fw_target_each(s, "c2", -1, collect, &t), 0);
	assert_int_equal(t.n, 1);
}

static int stop_after_two(const struct store_fw_target *t, void *ctx)
{
	(void)t;
	return ++*(int *)ctx == 2 ? 1 : 0;
}

static void test_targets_cursor_and_list(void **state)
{
	struct store *s = *state;
	for (uint32_t i = 0; i < 10; i++)
		put_target(s, "c", i, i % 2 ? 6 : 0, 0, 10);
	put_target(s, "other", 0, 0, 0, 0);
	struct seen t = {.n = 0};
	assert_int_equal(store_fw_target_each(s, "c", 6, collect, &t), 0);
	assert_int_equal(t.n, 3);
	assert_int_equal(t.t[0].seq, 7);
	assert_string_equal(t.t[0].device_id, "d7");
	assert_string_equal(t.t[0].node_id, "n7");
	assert_string_equal(t.t[0].reason, "r7");
	assert_string_equal(t.t[0].token, "tok7");
	assert_int_equal(t.t[0].state, 6);
	assert_int_equal(t.t[0].method, 1);
	assert_int_equal(t.t[0].result, 2);
	assert_int_equal(t.t[0].bytes, 10);
	assert_int_equal(t.t[0].next_ms, 77);
	assert_int_equal(t.t[0].updated_ms, 88);
	int calls = 0;
	assert_int_equal(store_fw_target_each(s, "c", -1, stop_after_two, &calls), 1);
	assert_int_equal(calls, 2);

	/* Failed ones (odd seqs), two a page. */
	t.n = 0;
	assert_int_equal(store_fw_target_list(s, "c", 6, -1, 2, collect, &t), 0);
	assert_int_equal(t.n, 2);
	assert_int_equal(t.t[0].seq, 1);
	assert_int_equal(t.t[1].seq, 3);
	t.n = 0;
	assert_int_equal(store_fw_target_list(s, "c", 6, 3, 2, collect, &t), 0);
	assert_int_equal(t.t[0].seq, 5);
	assert_int_equal(t.t[1].seq, 7);
	t.n = 0;
	assert_int_equal(store_fw_target_list(s, "c", -1, 7, 10, collect, &t), 0);
	assert_int_equal(t.n, 2);

	/* A put replaces the row of (campaign, seq). */
	put_target(s, "c", 0, 5, 1, 99);
	t.n = 0;
	assert_int_equal(store_fw_target_list(s, "c", 5, -1, 10, collect, &t), 0);
	assert_int_equal(t.n, 1);
	assert_int_equal(t.t[0].bytes, 99);
}

static void test_targets_of_a_product(void **state)
{
	struct store *s = *state;
	add_product(s, "p1", "meter");
	add_product(s, "p1", "tracker");
	add_product(s, "p2", "meter");
	add_device(s, "p1", "meter", "m0");
	add_device(s, "p1", "tracker", "t0");
	add_device(s, "p1", "meter", "m1");
	add_device(s, "p2", "meter", "x0");
	add_device(s, "p1", "meter", "m2");
	uint32_t n = 0;
	assert_int_equal(store_fw_targets_add_product(s, "c", "p1", "meter", 100, 42, &n), 0);
	assert_int_equal(n, 3);
	struct seen t = {.n = 0};
	assert_int_equal(store_fw_target_each(s, "c", -1, collect, &t), 0);
	assert_int_equal(t.n, 3);
	const char *nodes[] = {"m0", "m1", "m2"}; /* creation order, seq from 0 */
	for (int i = 0; i < 3; i++) {
		assert_int_equal(t.t[i].seq, i);
		assert_string_equal(t.t[i].node_id, nodes[i]);
		assert_int_equal(t.t[i].state, STORE_FW_WAITING);
		assert_int_equal(t.t[i].updated_ms, 42);
	}
	assert_string_equal(t.t[0].device_id, "id-m0");
	/* The bound. */
	assert_int_equal(store_fw_targets_add_product(s, "c2", "p1", "meter", 2, 0, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(store_fw_targets_add_product(s, "c3", "p1", "none", 2, 0, &n), 0);
	assert_int_equal(n, 0);
}

static void test_cancel_stats_active(void **state)
{
	struct store *s = *state;
	put_target(s, "c", 0, 5, 1, 100);  /* succeeded */
	put_target(s, "c", 1, 6, 3, 50);   /* failed */
	put_target(s, "c", 2, 2, 1, 30);   /* downloading */
	put_target(s, "c", 3, 0, 1, 0);    /* waiting for a retry */
	put_target(s, "c", 4, 4, 1, 100);  /* updating */
	put_target(s, "c", 5, 0, 0, 0);    /* waiting */
	put_target(s, "c", 6, 0, 0, 0);    /* waiting */
	struct store_fw_target_stats st;
	assert_int_equal(store_fw_target_stats(s, "c", &st), 0);
	assert_int_equal(st.counts[0], 3);
	assert_int_equal(st.counts[2], 1);
	assert_int_equal(st.counts[4], 1);
	assert_int_equal(st.counts[5], 1);
	assert_int_equal(st.counts[6], 1);
	assert_int_equal(st.bytes, 280);
	assert_int_equal(st.last_started, 4);
	assert_int_equal(store_fw_target_stats(s, "none", &st), 0);
	assert_int_equal(st.last_started, -1);
	assert_int_equal(st.counts[0], 0);

	struct seen t = {.n = 0};
	assert_int_equal(store_fw_target_each_active(s, "c", collect, &t), 0);
	assert_int_equal(t.n, 3);
	assert_int_equal(t.t[0].seq, 2);
	assert_int_equal(t.t[1].seq, 3);
	assert_int_equal(t.t[2].seq, 4);

	assert_int_equal(store_fw_targets_cancel(s, "c", 1234), 0);
	assert_int_equal(store_fw_target_stats(s, "c", &st), 0);
	assert_int_equal(st.counts[STORE_FW_CANCELLED], 5);
	assert_int_equal(st.counts[5], 1);
	assert_int_equal(st.counts[6], 1);
	assert_int_equal(st.counts[0], 0);
	t.n = 0;
	assert_int_equal(store_fw_target_list(s, "c", STORE_FW_CANCELLED, -1, 10, collect, &t),
			 0);
	assert_int_equal(t.n, 5);
	assert_int_equal(t.t[0].updated_ms, 1234);
	assert_string_equal(t.t[0].token, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_campaign_rows, setup, teardown),
		cmocka_unit_test_setup_teardown(test_targets_cursor_and_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_targets_of_a_product, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cancel_stats_active, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
