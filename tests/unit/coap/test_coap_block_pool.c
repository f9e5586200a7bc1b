/*
 * Tests of the Block1 pool through the endpoints that use it (coap_ep + coap_block_pool):
 * memory grows with what arrives, one bound holds across endpoints, the upload fed least
 * recently is dropped for room (its next block is 4.08), and completion and peer expiry
 * give the memory back. A mock clock, and a send callback that keeps the last answer.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "coap/coap_block_pool.h"
#include "coap/coap_ep.h"
#include "coap/coap_ep_internal.h" /* for the sizes the pool counts */

/* What one upload of n segments costs the pool. */
#define UPLOAD_COST(n) (sizeof(struct block1_upload) + (n) * sizeof(struct block1_segment))

static uint8_t last_code;
static int handler_calls;
static size_t body_len;
static uint8_t body[8192];

static void on_send(void *ctx, const struct addr *to, const uint8_t *data, size_t len)
{
	(void)ctx;
	(void)to;
	struct coap_msg m;
	assert_int_equal(coap_msg_parse(&m, data, len), 0);
	last_code = m.code;
}

static void on_request(void *ctx, const struct addr *peer, const struct coap_msg *req,
		       struct coap_msg *resp, uint64_t now)
{
	(void)ctx;
	(void)peer;
	(void)now;
	handler_calls++;
	body_len = req->payload_len;
	assert_true(body_len <= sizeof(body));
	if (body_len)
		memcpy(body, req->payload, body_len);
	resp->code = COAP_CODE_CREATED;
}

struct fixture {
	struct coap_block_pool *pool;
	struct coap_ep *ep1, *ep2;
};

static struct fixture fx;

static void make(size_t pool_bytes)
{
	assert_int_equal(coap_block_pool_create(&fx.pool, pool_bytes), 0);
	struct coap_ep_config cfg;
	coap_ep_config_defaults(&cfg);
	cfg.random_seed = 7;
	cfg.block_pool = fx.pool;
	assert_int_equal(coap_ep_create(&fx.ep1, &cfg, on_send, on_request, NULL), 0);
	assert_int_equal(coap_ep_create(&fx.ep2, &cfg, on_send, on_request, NULL), 0);
	handler_calls = 0;
	last_code = 0;
}

static int teardown(void **state)
{
	(void)state;
	coap_ep_destroy(fx.ep1);
	coap_ep_destroy(fx.ep2);
	coap_block_pool_destroy(fx.pool);
	memset(&fx, 0, sizeof(fx));
	return 0;
}

static const struct coap_block_pool_stats *stats(void)
{
	return coap_block_pool_stats(fx.pool);
}

/* Feeds block num (of size 16 << szx, or n bytes when last) of a POST /rd from peer. */
static uint8_t block(struct coap_ep *ep, const char *peer, uint32_t num, bool more, uint8_t szx,
		     size_t n, uint64_t now, uint32_t size1)
{
	static uint16_t mid = 100;
	struct addr a;
	assert_int_equal(addr_parse(&a, peer), 0);
	uint8_t payload[1024], buf[COAP_EP_MAX_DATAGRAM];
	for (size_t i = 0; i < n; i++)
		payload[i] = (uint8_t)(num * 131 + i);
	struct coap_msg m;
	coap_msg_init(&m, COAP_TYPE_CON, COAP_CODE_POST, mid++, (const uint8_t *)"t", 1);
	coap_msg_add_option(&m, COAP_OPTION_URI_PATH, "rd", 2);
	struct coap_block b = { .num = num, .more = more, .szx = szx };
	coap_msg_add_uint_option(&m, COAP_OPTION_BLOCK1, coap_block_encode(&b));
	if (size1)
		coap_msg_add_uint_option(&m, COAP_OPTION_SIZE1, size1);
	coap_msg_set_payload(&m, payload, n);
	int len = coap_msg_encode(&m, buf, sizeof(buf));
	assert_true(len > 0);
	last_code = 0;
	coap_ep_input(ep, &a, buf, (size_t)len, now);
	return last_code;
}

static void test_memory_grows_with_what_arrives(void **state)
{
	(void)state;
	make(COAP_BLOCK_POOL_DEFAULT_BYTES);
	/* A first block announcing 64 KiB reserves nothing for it: one segment. */
	assert_int_equal(block(fx.ep1, "10.0.0.1:1", 0, true, 2, 64, 1000, 65536),
			 COAP_CODE_CONTINUE);
	assert_int_equal(stats()->bytes, UPLOAD_COST(1));
	assert_int_equal(stats()->uploads, 1);
	for (uint32_t num = 1; num < 17; num++)
		assert_int_equal(block(fx.ep1, "10.0.0.1:1", num, true, 2, 64, 1000, 0),
				 COAP_CODE_CONTINUE);
	assert_int_equal(stats()->bytes, UPLOAD_COST(2)); /* 1088 bytes: two segments */
	/* The last block: the handler gets the body whole, across segments. */
	assert_int_equal(block(fx.ep1, "10.0.0.1:1", 17, false, 2, 10, 1000, 0),
			 COAP_CODE_CREATED);
	assert_int_equal(handler_calls, 1);
	assert_int_equal(body_len, 17 * 64 + 10);
	for (size_t i = 0; i < body_len; i++)
		assert_int_equal(body[i], (uint8_t)((i / 64) * 131 + i % 64));
	assert_int_equal(stats()->bytes, 0);
	assert_int_equal(stats()->uploads, 0);
	assert_int_equal(stats()->dropped, 0);
}

static void test_one_bound_for_all_endpoints(void **state)
{
	(void)state;
	/* Room for two uploads of one segment each (512-byte blocks: a first block and a
	 * short last one share a segment). */
	make(2 * UPLOAD_COST(1));
	assert_int_equal(block(fx.ep1, "10.0.0.1:1", 0, true, 5, 512, 1000, 0),
			 COAP_CODE_CONTINUE);
	assert_int_equal(block(fx.ep2, "10.0.0.2:1", 0, true, 5, 512, 1001, 0),
			 COAP_CODE_CONTINUE);
	/* A third, on the first endpoint: the oldest (10.0.0.1) makes room. */
	assert_int_equal(block(fx.ep1, "10.0.0.3:1", 0, true, 5, 512, 1002, 0),
			 COAP_CODE_CONTINUE);
	assert_int_equal(stats()->uploads, 2);
	assert_int_equal(stats()->dropped, 1);
	assert_true(stats()->bytes <= stats()->max_bytes);
	/* The dropped upload's next block is out of sequence (RFC 7959 §2.9.2). */
	assert_int_equal(block(fx.ep1, "10.0.0.1:1", 1, false, 5, 5, 1003, 0),
			 COAP_CODE_REQUEST_ENTITY_INCOMPLETE);
	/* The others complete. */
	assert_int_equal(block(fx.ep2, "10.0.0.2:1", 1, false, 5, 5, 1004, 0), COAP_CODE_CREATED);
	assert_int_equal(block(fx.ep1, "10.0.0.3:1", 1, false, 5, 5, 1005, 0), COAP_CODE_CREATED);
	assert_int_equal(handler_calls, 2);
	assert_int_equal(stats()->bytes, 0);
}

static void test_the_stalled_upload_is_dropped_first(void **state)
{
	(void)state;
	make(3 * UPLOAD_COST(1) + sizeof(struct block1_segment));
	assert_int_equal(block(fx.ep1, "10.0.0.1:1", 0, true, 6, 1024, 1000, 0),
			 COAP_CODE_CONTINUE);
	assert_int_equal(block(fx.ep1, "10.0.0.2:1", 0, true, 6, 1024, 1000, 0),
			 COAP_CODE_CONTINUE);
	assert_int_equal(block(fx.ep1, "10.0.0.3:1", 0, true, 6, 1024, 1000, 0),
			 COAP_CODE_CONTINUE);
	/* 10.0.0.1 goes on (a second segment fills the pool); 10.0.0.2 has stalled. */
	assert_int_equal(block(fx.ep1, "10.0.0.1:1", 1, true, 6, 1024, 1100, 0),
			 COAP_CODE_CONTINUE);
	assert_int_equal(stats()->dropped, 0);
	assert_int_equal(block(fx.ep2, "10.0.0.4:1", 0, true, 6, 1024, 1200, 0),
			 COAP_CODE_CONTINUE);
	assert_int_equal(stats()->dropped, 1);
	assert_int_equal(block(fx.ep1, "10.0.0.2:1", 1, false, 6, 1, 1300, 0),
			 COAP_CODE_REQUEST_ENTITY_INCOMPLETE);
	assert_int_equal(block(fx.ep1, "10.0.0.1:1", 2, false, 6, 1, 1300, 0),
			 COAP_CODE_CREATED);
	assert_int_equal(body_len, 2049);
}

static void test_expiry_gives_the_memory_back(void **state)
{
	(void)state;
	make(COAP_BLOCK_POOL_DEFAULT_BYTES);
	for (int i = 0; i < 100; i++) {
		char peer[32];
		snprintf(peer, sizeof(peer), "10.0.1.%d:7", i + 1);
		assert_int_equal(block(i % 2 ? fx.ep1 : fx.ep2, peer, 0, true, 6, 1024, 1000, 0),
				 COAP_CODE_CONTINUE);
	}
	assert_int_equal(stats()->uploads, 100);
	assert_int_equal(stats()->bytes, 100 * UPLOAD_COST(1));
	/* Peers unheard from for EXCHANGE_LIFETIME are forgotten, their uploads with them. */
	coap_ep_tick(fx.ep1, 1000 + COAP_EXCHANGE_LIFETIME_MS);
	assert_int_equal(stats()->uploads, 50);
	coap_ep_tick(fx.ep2, 1000 + COAP_EXCHANGE_LIFETIME_MS);
	assert_int_equal(stats()->uploads, 0);
	assert_int_equal(stats()->bytes, 0);
}

static void test_an_upload_the_pool_cannot_hold(void **state)
{
	(void)state;
	/* Two segments' room: the third KiB of an upload cannot fit even alone. */
	make(UPLOAD_COST(2));
	assert_int_equal(block(fx.ep1, "10.0.0.1:1", 0, true, 6, 1024, 1000, 0),
			 COAP_CODE_CONTINUE);
	assert_int_equal(block(fx.ep1, "10.0.0.1:1", 1, true, 6, 1024, 1000, 0),
			 COAP_CODE_CONTINUE);
	assert_int_equal(block(fx.ep1, "10.0.0.1:1", 2, true, 6, 1024, 1000, 0),
			 COAP_CODE_SERVICE_UNAVAILABLE);
	assert_int_equal(stats()->uploads, 0);
	assert_int_equal(stats()->bytes, 0);
	struct coap_block_pool *none = NULL;
	assert_int_equal(coap_block_pool_create(&none, 0), -EINVAL);
	assert_null(none);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_memory_grows_with_what_arrives, teardown),
		cmocka_unit_test_teardown(test_one_bound_for_all_endpoints, teardown),
		cmocka_unit_test_teardown(test_the_stalled_upload_is_dropped_first, teardown),
		cmocka_unit_test_teardown(test_expiry_gives_the_memory_back, teardown),
		cmocka_unit_test_teardown(test_an_upload_the_pool_cannot_hold, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
