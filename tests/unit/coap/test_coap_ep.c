/*
 * Tests of coap_ep, the CoAP message layer: deduplication, ping, error answers,
 * block-wise, and the server's own requests (retransmission, NSTART, separate responses),
 * all with a mock clock (the "now" arguments) and a send callback that records datagrams.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "coap/coap_ep.h"

#define MAX_SENT 32

struct sent {
	uint8_t data[COAP_EP_MAX_DATAGRAM];
	size_t len;
	struct addr to;
};

static struct sent sent[MAX_SENT];
static int sent_count;
static int handler_calls;
static size_t last_body_len;
static uint8_t last_body[4096];
static uint8_t handler_code = COAP_CODE_CONTENT;
static size_t handler_payload_len;
static bool handler_own_block2; /* the handler sets its own Block2 */
static uint8_t big_payload[2000];

static int cb_calls;
static int cb_status;
static uint8_t cb_code;

static void on_send(void *ctx, const struct addr *to, const uint8_t *data, size_t len)
{
	(void)ctx;
	assert_true(sent_count < MAX_SENT);
	assert_true(len <= COAP_EP_MAX_DATAGRAM);
	memcpy(sent[sent_count].data, data, len);
	sent[sent_count].len = len;
	sent[sent_count].to = *to;
	sent_count++;
}

static void on_request(void *ctx, const struct addr *peer, const struct coap_msg *req,
		       struct coap_msg *resp, uint64_t now)
{
	(void)ctx;
	(void)peer;
	(void)now;
	handler_calls++;
	last_body_len = req->payload_len;
	if (req->payload_len <= sizeof(last_body) && req->payload_len)
		memcpy(last_body, req->payload, req->payload_len);
	resp->code = handler_code;
	if (handler_payload_len)
		coap_msg_set_payload(resp, big_payload, handler_payload_len);
	if (handler_own_block2)
		coap_msg_add_uint_option(resp, COAP_OPTION_BLOCK2, 0x16); /* 1, M=0, 1024 */
}

static void on_response(void *ctx, int status, const struct coap_msg *resp)
{
	(void)ctx;
	cb_calls++;
	cb_status = status;
	cb_code = resp ? resp->code : 0;
}

static struct addr peer_a, peer_b;

static int setup(void **state)
{
	struct coap_ep_config cfg;
	coap_ep_config_defaults(&cfg);
	cfg.random_seed = 42;
	cfg.max_block_body = 4096;
	struct coap_ep *ep;
	assert_int_equal(coap_ep_create(&ep, &cfg, on_send, on_request, NULL), 0);
	*state = ep;
	sent_count = 0;
	handler_calls = 0;
	handler_code = COAP_CODE_CONTENT;
	handler_payload_len = 0;
	cb_calls = 0;
	cb_status = 1;
	cb_code = 0;
	for (size_t i = 0; i < sizeof(big_payload); i++)
		big_payload[i] = (uint8_t)i;
	assert_int_equal(addr_parse(&peer_a, "10.0.0.1:5000"), 0);
	assert_int_equal(addr_parse(&peer_b, "[2001:db8::1]:5000"), 0);
	return 0;
}

static int teardown(void **state)
{
	coap_ep_destroy(*state);
	return 0;
}

/* Encodes a request to /rd with the given type, mid and optional payload. */
static size_t make_request(uint8_t *buf, uint8_t type, uint16_t mid, const void *payload,
			   size_t payload_len)
{
	struct coap_msg m;
	static const uint8_t token[] = {1, 2, 3, 4};
	coap_msg_init(&m, type, COAP_CODE_POST, mid, token, sizeof(token));
	coap_msg_add_option(&m, COAP_OPTION_URI_PATH, "rd", 2);
	if (payload_len)
		coap_msg_set_payload(&m, payload, payload_len);
	int len = coap_msg_encode(&m, buf, COAP_EP_MAX_DATAGRAM);
	assert_true(len > 0);
	return (size_t)len;
}

static void parse_sent(int i, struct coap_msg *m)
{
	assert_true(i < sent_count);
	assert_int_equal(coap_msg_parse(m, sent[i].data, sent[i].len), 0);
}

static void test_ping_gets_rst(void **state)
{
	uint8_t ping[] = {0x40, 0x00, 0x12, 0x34};
	coap_ep_input(*state, &peer_a, ping, sizeof(ping), 1000);
	assert_int_equal(sent_count, 1);
	struct coap_msg m;
	parse_sent(0, &m);
	assert_int_equal(m.type, COAP_TYPE_RST);
	assert_int_equal(m.mid, 0x1234);
	assert_int_equal(m.code, COAP_CODE_EMPTY);
	assert_int_equal(handler_calls, 0);
}

static void test_con_request_gets_piggybacked_response(void **state)
{
	uint8_t buf[COAP_EP_MAX_DATAGRAM];
	size_t len = make_request(buf, COAP_TYPE_CON, 7, NULL, 0);
	coap_ep_input(*state, &peer_a, buf, len, 1000);
	assert_int_equal(handler_calls, 1);
	assert_int_equal(sent_count, 1);
	struct coap_msg m;
	parse_sent(0, &m);
	assert_int_equal(m.type, COAP_TYPE_ACK);
	assert_int_equal(m.mid, 7);
	assert_int_equal(m.code, COAP_CODE_CONTENT);
	assert_int_equal(m.token_len, 4);
	assert_memory_equal(m.token, "\x01\x02\x03\x04", 4);
	assert_true(addr_equal(&sent[0].to, &peer_a));
}

static void test_duplicate_con_answered_from_cache(void **state)
{
	uint8_t buf[COAP_EP_MAX_DATAGRAM];
	size_t len = make_request(buf, COAP_TYPE_CON, 9, "x", 1);
	coap_ep_input(*state, &peer_a, buf, len, 1000);
	coap_ep_input(*state, &peer_a, buf, len, 3000);
	assert_int_equal(handler_calls, 1);
	assert_int_equal(sent_count, 2);
	assert_int_equal(sent[0].len, sent[1].len);
	assert_memory_equal(sent[0].data, sent[1].data, sent[0].len);
	assert_int_equal(coap_ep_stats(*state)->rx_duplicates, 1);
	/* The same message id from another peer is a different exchange. */
	coap_ep_input(*state, &peer_b, buf, len, 3000);
	assert_int_equal(handler_calls, 2);
}

static void test_large_cached_response_replayed(void **state)
{
	uint8_t buf[COAP_EP_MAX_DATAGRAM];
	handler_payload_len = 500; /* over the inline cache size */
	size_t len = make_request(buf, COAP_TYPE_CON, 10, NULL, 0);
	coap_ep_input(*state, &peer_a, buf, len, 1000);
	coap_ep_input(*state, &peer_a, buf, len, 1001);
	assert_int_equal(handler_calls, 1);
	assert_int_equal(sent_count, 2);
	assert_int_equal(sent[0].len, sent[1].len);
	assert_memory_equal(sent[0].data, sent[1].data, sent[0].len);
}

/* A handler that serves its own Block2 block (a firmware download): a duplicate GET is
 * served again, not from a kept copy. */
static void test_own_block2_get_not_kept(void **state)
{
	uint8_t buf[COAP_EP_MAX_DATAGRAM];
	handler_payload_len = 500;
	handler_own_block2 = true;
	struct coap_msg get;
	coap_msg_init(&get, COAP_TYPE_CON, COAP_CODE_GET, 13, (const uint8_t *)"\x01", 1);
	coap_msg_add_option(&get, COAP_OPTION_URI_PATH, "fw", 2);
	int n = coap_msg_encode(&get, buf, sizeof(buf));
	assert_true(n > 0);
	size_t len = (size_t)n;
	coap_ep_input(*state, &peer_a, buf, len, 1000);
	coap_ep_input(*state, &peer_a, buf, len, 1001);
	handler_own_block2 = false;
	assert_int_equal(handler_calls, 2);
	assert_int_equal(sent_count, 2);
	assert_int_equal(coap_ep_stats(*state)->rx_duplicates, 0);
	/* Served as the handler built it: its own Block2, not sliced again. */
	struct coap_msg m;
	parse_sent(1, &m);
	uint32_t v;
	assert_int_equal(coap_msg_get_uint_option(&m, COAP_OPTION_BLOCK2, &v), 0);
	assert_int_equal(v, 0x16);
	assert_int_equal(m.payload_len, 500);
}

static void test_duplicate_after_exchange_lifetime_is_new(void **state)
{
	uint8_t buf[COAP_EP_MAX_DATAGRAM];
	size_t len = make_request(buf, COAP_TYPE_CON, 11, NULL, 0);
	coap_ep_input(*state, &peer_a, buf, len, 1000);
	assert_int_equal(coap_ep_stats(*state)->peers, 1);
	coap_ep_tick(*state, 1000 + COAP_EXCHANGE_LIFETIME_MS);
	assert_int_equal(coap_ep_stats(*state)->peers, 0);
	coap_ep_input(*state, &peer_a, buf, len, 1000 + COAP_EXCHANGE_LIFETIME_MS + 1);
	assert_int_equal(handler_calls, 2);
}

static void test_non_request_gets_non_response(void **state)
{
	uint8_t buf[COAP_EP_MAX_DATAGRAM];
	size_t len = make_request(buf, COAP_TYPE_NON, 12, NULL, 0);
	coap_ep_input(*state, &peer_a, buf, len, 1000);
	struct coap_msg m;
	parse_sent(0, &m);
	assert_int_equal(m.type, COAP_TYPE_NON);
	assert_int_equal(m.token_len, 4);
	assert_int_equal(m.code, COAP_CODE_CONTENT);
	/* A duplicate NON is not served twice either. */
	coap_ep_input(*state, &peer_a, buf, len, 1001);
	assert_int_equal(handler_calls, 1);
}

static void test_unknown_critical_option_is_402(void **state)
{
	uint16_t critical[] = {9, COAP_OPTION_IF_MATCH, COAP_OPTION_IF_NONE_MATCH,
			       COAP_OPTION_PROXY_URI, 2049};
	for (size_t i = 0; i < sizeof(critical) / sizeof(critical[0]); i++) {
		struct coap_msg m;
		uint8_t buf[COAP_EP_MAX_DATAGRAM];
		coap_msg_init(&m, COAP_TYPE_CON, COAP_CODE_POST, (uint16_t)(100 + i), NULL, 0);
		coap_msg_add_option(&m, COAP_OPTION_URI_PATH, "rd", 2);
		coap_msg_add_option(&m, critical[i], "a", 1);
		int len = coap_msg_encode(&m, buf, sizeof(buf));
		coap_ep_input(*state, &peer_a, buf, (size_t)len, 1000);
		struct coap_msg r;
		parse_sent(sent_count - 1, &r);
		assert_int_equal(r.code, COAP_CODE_BAD_OPTION);
	}
	assert_int_equal(handler_calls, 0);
	/* An unknown elective option is ignored. */
	struct coap_msg m;
	uint8_t buf[COAP_EP_MAX_DATAGRAM];
	coap_msg_init(&m, COAP_TYPE_CON, COAP_CODE_POST, 200, NULL, 0);
	coap_msg_add_option(&m, 2048, "a", 1);
	int len = coap_msg_encode(&m, buf, sizeof(buf));
	coap_ep_input(*state, &peer_a, buf, (size_t)len, 1000);
	assert_int_equal(handler_calls, 1);
}

static void test_body_over_limit_is_413_with_size1(void **state)
{
	uint8_t body[1025];
	memset(body, 'a', sizeof(body));
	uint8_t buf[COAP_EP_MAX_DATAGRAM];
	size_t len = make_request(buf, COAP_TYPE_CON, 13, body, sizeof(body));
	coap_ep_input(*state, &peer_a, buf, len, 1000);
	assert_int_equal(handler_calls, 0);
	struct coap_msg r;
	parse_sent(0, &r);
	assert_int_equal(r.code, COAP_CODE_REQUEST_ENTITY_TOO_LARGE);
	uint32_t size1;
	assert_int_equal(coap_msg_get_uint_option(&r, COAP_OPTION_SIZE1, &size1), 0);
	assert_int_equal(size1, 1024);
	/* Exactly the limit is fine. */
	len = make_request(buf, COAP_TYPE_CON, 14, body, 1024);
	coap_ep_input(*state, &peer_a, buf, len, 1000);
	assert_int_equal(handler_calls, 1);
}

static size_t make_block1(uint8_t *buf, uint16_t mid, uint32_t num, bool more, uint8_t szx,
			  const uint8_t *payload, size_t n)
{
	struct coap_msg m;
	coap_msg_init(&m, COAP_TYPE_CON, COAP_CODE_POST, mid, (const uint8_t *)"tk", 2);
	coap_msg_add_option(&m, COAP_OPTION_URI_PATH, "rd", 2);
	struct coap_block b = {.num = num, .more = more, .szx = szx};
	coap_msg_add_uint_option(&m, COAP_OPTION_BLOCK1, coap_block_encode(&b));
	coap_msg_set_payload(&m, payload, n);
	int len = coap_msg_encode(&m, buf, COAP_EP_MAX_DATAGRAM);
	assert_true(len > 0);
	return (size_t)len;
}

static void test_block1_upload_is_assembled(void **state)
{
	uint8_t body[150];
	for (size_t i = 0; i < sizeof(body); i++)
		body[i] = (uint8_t)(i * 7);
	uint8_t buf[COAP_EP_MAX_DATAGRAM];
	struct coap_msg r;
	uint32_t v;
	struct coap_block b;

	/* szx 2: 64-byte blocks: 64 + 64 + 22. */
	for (uint32_t num = 0; num < 2; num++) {
		size_t len = make_block1(buf, (uint16_t)(20 + num), num, true, 2, body + num * 64,
					 64);
		coap_ep_input(*state, &peer_a, buf, len, 1000);
		parse_sent(sent_count - 1, &r);
		assert_int_equal(r.code, COAP_CODE_CONTINUE);
		assert_int_equal(coap_msg_get_uint_option(&r, COAP_OPTION_BLOCK1, &v), 0);
		assert_int_equal(coap_block_decode(v, &b), 0);
		assert_int_equal(b.num, num);
		assert_true(b.more);
	}
	assert_int_equal(handler_calls, 0);
	size_t len = make_block1(buf, 22, 2, false, 2, body + 128, 22);
	coap_ep_input(*state, &peer_a, buf, len, 1000);
	assert_int_equal(handler_calls, 1);
	assert_int_equal(last_body_len, 150);
	assert_memory_equal(last_body, body, 150);
	parse_sent(sent_count - 1, &r);
	assert_int_equal(r.code, COAP_CODE_CONTENT);
	assert_int_equal(coap_msg_get_uint_option(&r, COAP_OPTION_BLOCK1, &v), 0);
	assert_int_equal(coap_block_decode(v, &b), 0);
	assert_int_equal(b.num, 2);
	assert_false(b.more);
}

static void test_block1_out_of_order_is_408(void **state)
{
	uint8_t body[64] = {0};
	uint8_t buf[COAP_EP_MAX_DATAGRAM];
	struct coap_msg r;
	size_t len = make_block1(buf, 30, 0, true, 2, body, 64);
	coap_ep_input(*state, &peer_a, buf, len, 1000);
	len = make_block1(buf, 31, 2, true, 2, body, 64); /* block 1 skipped */
	coap_ep_input(*state, &peer_a, buf, len, 1000);
	parse_sent(sent_count - 1, &r);
	assert_int_equal(r.code, COAP_CODE_REQUEST_ENTITY_INCOMPLETE);
	/* A continuation with no upload started is 4.08 too. */
	len = make_block1(buf, 32, 1, false, 2, body, 10);
	coap_ep_input(*state, &peer_b, buf, len, 1000);
	parse_sent(sent_count - 1, &r);
	assert_int_equal(r.code, COAP_CODE_REQUEST_ENTITY_INCOMPLETE);
	/* A middle block shorter than the block size is malformed. */
	len = make_block1(buf, 33, 0, true, 2, body, 10);
	coap_ep_input(*state, &peer_a, buf, len, 1000);
	parse_sent(sent_count - 1, &r);
	assert_int_equal(r.code, COAP_CODE_BAD_REQUEST);
	assert_int_equal(handler_calls, 0);
}

static void test_block1_over_max_block_body_is_413(void **state)
{
	uint8_t body[1024] = {0};
	uint8_t buf[COAP_EP_MAX_DATAGRAM];
	struct coap_msg r;
	int answered = 0;
	for (uint32_t num = 0; num < 6; num++) {
		size_t len = make_block1(buf, (uint16_t)(40 + num), num, true, 6, body, 1024);
		coap_ep_input(*state, &peer_a, buf, len, 1000);
		parse_sent(sent_count - 1, &r);
		if (r.code == COAP_CODE_REQUEST_ENTITY_TOO_LARGE) {
			uint32_t size1;
			assert_int_equal(coap_msg_get_uint_option(&r, COAP_OPTION_SIZE1, &size1),
					 0);
			assert_int_equal(size1, 4096);
			answered = 1;
			break;
		}
		assert_int_equal(r.code, COAP_CODE_CONTINUE);
	}
	assert_true(answered);
	assert_int_equal(handler_calls, 0);
}

static void test_block2_response_is_sliced(void **state)
{
	handler_payload_len = 2000;
	uint8_t buf[COAP_EP_MAX_DATAGRAM];
	size_t len = make_request(buf, COAP_TYPE_CON, 50, NULL, 0);
	coap_ep_input(*state, &peer_a, buf, len, 1000);
	struct coap_msg r;
	uint32_t v;
	struct coap_block b;
	parse_sent(0, &r);
	assert_int_equal(r.code, COAP_CODE_CONTENT);
	assert_int_equal(r.payload_len, 1024);
	assert_memory_equal(r.payload, big_payload, 1024);
	assert_int_equal(coap_msg_get_uint_option(&r, COAP_OPTION_BLOCK2, &v), 0);
	assert_int_equal(coap_block_decode(v, &b), 0);
	assert_int_equal(b.num, 0);
	assert_true(b.more);
	assert_int_equal(b.szx, 6);
	assert_int_equal(coap_msg_get_uint_option(&r, COAP_OPTION_SIZE2, &v), 0);
	assert_int_equal(v, 2000);

	struct coap_msg m;
	coap_msg_init(&m, COAP_TYPE_CON, COAP_CODE_GET, 51, NULL, 0);
	struct coap_block want = {.num = 1, .more = false, .szx = 6};
	coap_msg_add_uint_option(&m, COAP_OPTION_BLOCK2, coap_block_encode(&want));
	int n = coap_msg_encode(&m, buf, sizeof(buf));
	coap_ep_input(*state, &peer_a, buf, (size_t)n, 1000);
	parse_sent(1, &r);
	assert_int_equal(r.payload_len, 2000 - 1024);
	assert_memory_equal(r.payload, big_payload + 1024, 2000 - 1024);
	assert_int_equal(coap_msg_get_uint_option(&r, COAP_OPTION_BLOCK2, &v), 0);
	assert_int_equal(coap_block_decode(v, &b), 0);
	assert_false(b.more);

	/* A block past the end is refused. */
	want.num = 5;
	coap_msg_init(&m, COAP_TYPE_CON, COAP_CODE_GET, 52, NULL, 0);
	coap_msg_add_uint_option(&m, COAP_OPTION_BLOCK2, coap_block_encode(&want));
	n = coap_msg_encode(&m, buf, sizeof(buf));
	coap_ep_input(*state, &peer_a, buf, (size_t)n, 1000);
	parse_sent(2, &r);
	assert_int_equal(r.code, COAP_CODE_BAD_OPTION);
}

/* Block2 asked of a response with no payload: block 0, empty, no more. The slicing did
 * NULL + 0 first, undefined behaviour that clang's UBSan reports (found by fuzz_uplink;
 * gcc's sanitizer does not flag it, the fuzz build's clang does). */
static void test_block2_of_an_empty_response(void **state)
{
	handler_code = COAP_CODE_CHANGED;
	uint8_t buf[COAP_EP_MAX_DATAGRAM];
	struct coap_msg m, r;
	coap_msg_init(&m, COAP_TYPE_CON, COAP_CODE_POST, 60, NULL, 0);
	struct coap_block want = {.num = 0, .more = false, .szx = 2};
	coap_msg_add_uint_option(&m, COAP_OPTION_BLOCK2, coap_block_encode(&want));
	int n = coap_msg_encode(&m, buf, sizeof(buf));
	coap_ep_input(*state, &peer_a, buf, (size_t)n, 1000);
	parse_sent(0, &r);
	assert_int_equal(r.code, COAP_CODE_CHANGED);
	assert_int_equal(r.payload_len, 0);
	uint32_t v;
	struct coap_block b;
	assert_int_equal(coap_msg_get_uint_option(&r, COAP_OPTION_BLOCK2, &v), 0);
	assert_int_equal(coap_block_decode(v, &b), 0);
	assert_int_equal(b.num, 0);
	assert_false(b.more);
}

static void test_malformed_datagrams(void **state)
{
	/* CON with token length 9: format error, answered with RST. */
	uint8_t tkl9[] = {0x49, 0x01, 0x00, 0x05, 1, 2, 3, 4, 5, 6, 7, 8, 9};
	coap_ep_input(*state, &peer_a, tkl9, sizeof(tkl9), 1000);
	assert_int_equal(sent_count, 1);
	struct coap_msg r;
	parse_sent(0, &r);
	assert_int_equal(r.type, COAP_TYPE_RST);
	assert_int_equal(r.mid, 5);
	/* NON with a format error: ignored. */
	uint8_t non_bad[] = {0x59, 0x01, 0x00, 0x06};
	coap_ep_input(*state, &peer_a, non_bad, sizeof(non_bad), 1000);
	/* Version 2: silently ignored. */
	uint8_t v2[] = {0x80, 0x01, 0x00, 0x07};
	coap_ep_input(*state, &peer_a, v2, sizeof(v2), 1000);
	/* Too short for a header. */
	coap_ep_input(*state, &peer_a, v2, 3, 1000);
	coap_ep_input(*state, &peer_a, v2, 0, 1000);
	assert_int_equal(sent_count, 1);
	/* A reserved code class in a CON: RST. */
	uint8_t cls7[] = {0x40, 0xE1, 0x00, 0x08};
	coap_ep_input(*state, &peer_a, cls7, sizeof(cls7), 1000);
	assert_int_equal(sent_count, 2);
	parse_sent(1, &r);
	assert_int_equal(r.type, COAP_TYPE_RST);
	assert_int_equal(handler_calls, 0);
	assert_true(coap_ep_stats(*state)->rx_malformed >= 2);
}

static void test_unmatched_con_response_is_rst(void **state)
{
	uint8_t resp[] = {0x41, 0x45, 0x00, 0x09, 0xAA}; /* CON 2.05, token AA */
	coap_ep_input(*state, &peer_a, resp, sizeof(resp), 1000);
	assert_int_equal(sent_count, 1);
	struct coap_msg r;
	parse_sent(0, &r);
	assert_int_equal(r.type, COAP_TYPE_RST);
	assert_int_equal(r.mid, 9);
}

static void send_get(struct coap_ep *ep, const struct addr *to, uint64_t now, uint64_t *id)
{
	struct coap_msg m;
	coap_msg_init(&m, COAP_TYPE_CON, COAP_CODE_GET, 0, NULL, 0);
	coap_msg_add_path(&m, COAP_OPTION_URI_PATH, "/3/0/0");
	assert_int_equal(coap_ep_request(ep, to, &m, now, on_response, NULL, id), 0);
}

/* Builds the device's answer to sent datagram i: an ACK (piggybacked when code != 0). */
static size_t make_ack(int i, uint8_t type, uint8_t code, uint8_t *buf)
{
	struct coap_msg req, m;
	parse_sent(i, &req);
	if (code == COAP_CODE_EMPTY)
		coap_msg_init(&m, type, code, req.mid, NULL, 0);
	else
		coap_msg_init(&m, type, code, req.mid, req.token, req.token_len);
	int len = coap_msg_encode(&m, buf, COAP_EP_MAX_DATAGRAM);
	assert_true(len > 0);
	return (size_t)len;
}

static void test_request_piggybacked_response(void **state)
{
	send_get(*state, &peer_a, 1000, NULL);
	assert_int_equal(sent_count, 1);
	struct coap_msg req;
	parse_sent(0, &req);
	assert_int_equal(req.type, COAP_TYPE_CON);
	assert_int_equal(req.code, COAP_CODE_GET);
	char path[32];
	assert_true(coap_msg_get_path(&req, path, sizeof(path)) > 0);
	assert_string_equal(path, "/3/0/0");
	assert_int_equal(cb_calls, 0);
	uint8_t buf[COAP_EP_MAX_DATAGRAM];
	size_t len = make_ack(0, COAP_TYPE_ACK, COAP_CODE_CONTENT, buf);
	coap_ep_input(*state, &peer_a, buf, len, 1100);
	assert_int_equal(cb_calls, 1);
	assert_int_equal(cb_status, 0);
	assert_int_equal(cb_code, COAP_CODE_CONTENT);
	/* A late duplicate ACK changes nothing. */
	coap_ep_input(*state, &peer_a, buf, len, 1200);
	assert_int_equal(cb_calls, 1);
}

static void test_request_retransmits_then_times_out(void **state)
{
	struct coap_ep *ep = *state;
	send_get(ep, &peer_a, 0, NULL);
	assert_int_equal(sent_count, 1);
	uint64_t first = coap_ep_next_deadline(ep);
	/* RFC 7252 §4.2: initial timeout in [ACK_TIMEOUT, ACK_TIMEOUT * 1.5]. */
	assert_in_range(first, COAP_ACK_TIMEOUT_MS, COAP_ACK_TIMEOUT_MS * 3 / 2);
	uint64_t now = 0, timeout = first;
	for (int i = 1; i <= COAP_MAX_RETRANSMIT; i++) {
		now += timeout;
		coap_ep_tick(ep, now - 1);
		assert_int_equal(sent_count, i); /* not yet */
		coap_ep_tick(ep, now);
		assert_int_equal(sent_count, i + 1);
		assert_int_equal(sent[i].len, sent[0].len);
		assert_memory_equal(sent[i].data, sent[0].data, sent[0].len);
		timeout *= 2;
		assert_int_equal(coap_ep_next_deadline(ep), now + timeout);
	}
	assert_int_equal(cb_calls, 0);
	coap_ep_tick(ep, now + timeout);
	assert_int_equal(cb_calls, 1);
	assert_int_equal(cb_status, -ETIMEDOUT);
	assert_int_equal(coap_ep_stats(ep)->retransmissions, COAP_MAX_RETRANSMIT);
}

static void test_request_separate_response(void **state)
{
	send_get(*state, &peer_a, 1000, NULL);
	uint8_t buf[COAP_EP_MAX_DATAGRAM];
	size_t len = make_ack(0, COAP_TYPE_ACK, COAP_CODE_EMPTY, buf);
	coap_ep_input(*state, &peer_a, buf, len, 1100);
	assert_int_equal(cb_calls, 0);
	/* No retransmission after the Empty ACK. */
	coap_ep_tick(*state, 10000);
	assert_int_equal(sent_count, 1);
	/* The separate response: a CON 2.05 with the token, and a new message id. */
	struct coap_msg req, m;
	parse_sent(0, &req);
	coap_msg_init(&m, COAP_TYPE_CON, COAP_CODE_CONTENT, 0x7777, req.token, req.token_len);
	coap_msg_set_payload(&m, "42", 2);
	len = (size_t)coap_msg_encode(&m, buf, sizeof(buf));
	coap_ep_input(*state, &peer_a, buf, len, 12000);
	assert_int_equal(cb_calls, 1);
	assert_int_equal(cb_status, 0);
	assert_int_equal(cb_code, COAP_CODE_CONTENT);
	struct coap_msg ack;
	parse_sent(1, &ack);
	assert_int_equal(ack.type, COAP_TYPE_ACK);
	assert_int_equal(ack.mid, 0x7777);
	assert_int_equal(ack.code, COAP_CODE_EMPTY);
}

static void test_separate_response_wait_times_out(void **state)
{
	send_get(*state, &peer_a, 1000, NULL);
	uint8_t buf[COAP_EP_MAX_DATAGRAM];
	size_t len = make_ack(0, COAP_TYPE_ACK, COAP_CODE_EMPTY, buf);
	coap_ep_input(*state, &peer_a, buf, len, 1100);
	coap_ep_tick(*state, 1100 + 60000);
	assert_int_equal(cb_calls, 1);
	assert_int_equal(cb_status, -ETIMEDOUT);
}

static void test_request_rst(void **state)
{
	send_get(*state, &peer_a, 1000, NULL);
	uint8_t buf[COAP_EP_MAX_DATAGRAM];
	size_t len = make_ack(0, COAP_TYPE_RST, COAP_CODE_EMPTY, buf);
	coap_ep_input(*state, &peer_a, buf, len, 1100);
	assert_int_equal(cb_calls, 1);
	assert_int_equal(cb_status, -ECONNRESET);
}

static void test_nstart_one_per_peer(void **state)
{
	send_get(*state, &peer_a, 1000, NULL);
	send_get(*state, &peer_a, 1000, NULL);
	send_get(*state, &peer_b, 1000, NULL);
	/* One to each peer; the second to peer_a waits. */
	assert_int_equal(sent_count, 2);
	assert_true(addr_equal(&sent[0].to, &peer_a));
	assert_true(addr_equal(&sent[1].to, &peer_b));
	uint8_t buf[COAP_EP_MAX_DATAGRAM];
	size_t len = make_ack(0, COAP_TYPE_ACK, COAP_CODE_CONTENT, buf);
	coap_ep_input(*state, &peer_a, buf, len, 1100);
	assert_int_equal(cb_calls, 1);
	assert_int_equal(sent_count, 3);
	assert_true(addr_equal(&sent[2].to, &peer_a));
	struct coap_msg a, c;
	parse_sent(0, &a);
	parse_sent(2, &c);
	assert_int_not_equal(a.mid, c.mid);
	assert_memory_not_equal(a.token, c.token, 8);
}

static void test_cancel(void **state)
{
	uint64_t id1, id2;
	send_get(*state, &peer_a, 1000, &id1);
	send_get(*state, &peer_a, 1000, &id2);
	assert_int_equal(coap_ep_cancel(*state, id1), 0);
	assert_int_equal(cb_calls, 1);
	assert_int_equal(cb_status, -ECANCELED);
	assert_int_equal(sent_count, 2); /* the queued one went out */
	assert_int_equal(coap_ep_cancel(*state, id1), -ENOENT);
	/* Destroying the endpoint ends the other one (teardown); count it here. */
	coap_ep_destroy(*state);
	*state = NULL;
	assert_int_equal(cb_calls, 2);
	assert_int_equal(cb_status, -ECANCELED);
}

static void test_request_rejects_non_requests(void **state)
{
	struct coap_msg m;
	coap_msg_init(&m, COAP_TYPE_ACK, COAP_CODE_GET, 0, NULL, 0);
	assert_int_equal(coap_ep_request(*state, &peer_a, &m, 0, on_response, NULL, NULL),
			 -EINVAL);
	coap_msg_init(&m, COAP_TYPE_CON, COAP_CODE_CONTENT, 0, NULL, 0);
	assert_int_equal(coap_ep_request(*state, &peer_a, &m, 0, on_response, NULL, NULL),
			 -EINVAL);
	assert_int_equal(sent_count, 0);
}

static void test_peer_table_is_bounded(void **state)
{
	coap_ep_destroy(*state);
	struct coap_ep_config cfg;
	coap_ep_config_defaults(&cfg);
	cfg.max_peers = 8;
	struct coap_ep *ep;
	assert_int_equal(coap_ep_create(&ep, &cfg, on_send, on_request, NULL), 0);
	*state = ep;
	uint8_t buf[COAP_EP_MAX_DATAGRAM];
	size_t len = make_request(buf, COAP_TYPE_CON, 1, NULL, 0);
	for (int i = 0; i < 100; i++) {
		struct addr a = peer_a;
		a.port = (uint16_t)(1000 + i);
		sent_count = 0;
		coap_ep_input(ep, &a, buf, len, 1000);
		assert_int_equal(sent_count, 1);
	}
	assert_int_equal(coap_ep_stats(ep)->peers, 8);
	assert_int_equal(handler_calls, 100);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ping_gets_rst, setup, teardown),
		cmocka_unit_test_setup_teardown(test_con_request_gets_piggybacked_response, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_duplicate_con_answered_from_cache, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_large_cached_response_replayed, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_own_block2_get_not_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(test_duplicate_after_exchange_lifetime_is_new,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_non_request_gets_non_response, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_unknown_critical_option_is_402, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_body_over_limit_is_413_with_size1, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_block1_upload_is_assembled, setup, teardown),
		cmocka_unit_test_setup_teardown(test_block2_of_an_empty_response, setup, teardown),
		cmocka_unit_test_setup_teardown(test_block1_out_of_order_is_408, setup, teardown),
		cmocka_unit_test_setup_teardown(test_block1_over_max_block_body_is_413, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_block2_response_is_sliced, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed_datagrams, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unmatched_con_response_is_rst, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_request_piggybacked_response, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_request_retransmits_then_times_out, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_request_separate_response, setup, teardown),
		cmocka_unit_test_setup_teardown(test_separate_response_wait_times_out, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_request_rst, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nstart_one_per_peer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cancel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_request_rejects_non_requests, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_peer_table_is_bounded, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
