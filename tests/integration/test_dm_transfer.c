/*
 * Integration tests of how DM requests reach a device, beyond one datagram each way:
 *  - a device registered with an alternate path (</lwm2m>;rt="oma.lwm2m") gets its
 *    requests below that path;
 *  - an answer over one block (RFC 7959 Block2) is fetched block by block and handed to
 *    the API whole; a block other than the one asked for is an error;
 *  - a write over 1 KiB goes out block-wise (Block1), at the smaller block size the device
 *    asks for in its 2.31 Continue;
 *  - the Accept of reads comes from ?format=, else the device's read_format, else its
 *    product's.
 * The device is the test, on a raw UDP socket, so every byte the server sends is checked.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

struct fixture {
	struct daemon_proc d;
	int fd;
	char reg_id[32];
};

static struct fixture *start(const char *links)
{
	struct fixture *f = calloc(1, sizeof(*f));
	daemon_start(&f->d, NULL);
	api_create_product(&f->d, "meter");
	api_create_device(&f->d, "meter", "tx01", false, 0);
	f->fd = coap_socket("127.0.0.1:0");
	assert_int_equal(coap_register(f->fd, &f->d.coap, "tx01", "300", links, f->reg_id),
			 COAP_CODE_CREATED);
	return f;
}

static int setup(void **state)
{
	*state = start("</1/0>,</3/0>,</19/0>");
	return 0;
}

static int setup_alt(void **state)
{
	*state = start("</lwm2m>;rt=\"oma.lwm2m\";ct=11543,</lwm2m/1/0>,</lwm2m/3/0>");
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	close(f->fd);
	daemon_cleanup(&f->d);
	free(f);
	return 0;
}

static void call_start(struct api_async *c, struct daemon_proc *d, const char *method,
		       const char *path, const char *body)
{
	char full[256];
	snprintf(full, sizeof(full), "/v5/iot/p1/devices/meter_tx01/lwm2m%s", path);
	api_async_start(c, d, method, full, body);
}

static void device_answer(struct fixture *f, const struct coap_msg *req, uint8_t code, int ct,
			  uint16_t block_option, const struct coap_block *block,
			  const void *payload, size_t len)
{
	coap_answer(f->fd, &f->d.coap, req, code, ct, block_option, block, payload, len);
}

/* The block option of m, decoded; fails the test when absent. */
static struct coap_block block_of(const struct coap_msg *m, uint16_t option)
{
	uint32_t v;
	struct coap_block b;
	if (coap_msg_get_uint_option(m, option, &v) != 0)
		fail_msg("no block option %u", option);
	assert_int_equal(coap_block_decode(v, &b), 0);
	return b;
}

static int accept_of(const struct coap_msg *m)
{
	uint32_t v;
	return coap_msg_get_uint_option(m, COAP_OPTION_ACCEPT, &v) == 0 ? (int)v : -1;
}

static void test_alternate_path(void **state)
{
	struct fixture *f = *state;
	struct api_async c;
	struct coap_msg req;
	uint8_t buf[1500];
	call_start(&c, &f->d, "GET", "/3/0/0?format=text", NULL);
	coap_receive_request(f->fd, &req, buf, sizeof(buf));
	coap_assert_path(&req, "/lwm2m/3/0/0");
	device_answer(f, &req, COAP_CODE_CONTENT, 0, 0, NULL, "ACME", 4);
	api_async_wait(&c);
	assert_int_equal(c.status, 200);
	assert_in(c.resp, "\"value\":\"ACME\"");

	/* An Update without links keeps the alternate path. */
	assert_int_equal(coap_update(f->fd, &f->d.coap, f->reg_id, NULL), COAP_CODE_CHANGED);
	call_start(&c, &f->d, "PUT", "/3/0?pmin=10", NULL);
	coap_receive_request(f->fd, &req, buf, sizeof(buf));
	coap_assert_path(&req, "/lwm2m/3/0");
	device_answer(f, &req, COAP_CODE_CHANGED, -1, 0, NULL, NULL, 0);
	api_async_wait(&c);
	assert_int_equal(c.status, 200);
}

/* A SenML JSON answer of n records, long enough to need several blocks. */
static size_t long_senml(char *out, size_t cap, int n)
{
	size_t used = (size_t)snprintf(out, cap, "[");
	for (int i = 0; i < n; i++)
		used += (size_t)snprintf(out + used, cap - used,
					 "%s{\"n\":\"/3/0/11/%d\",\"v\":%d}", i ? "," : "", i,
					 1000 + i);
	used += (size_t)snprintf(out + used, cap - used, "]");
	return used;
}

static void test_block2_read(void **state)
{
	struct fixture *f = *state;
	static char body[8192];
	size_t len = long_senml(body, sizeof(body), 100); /* about 2.7 KB */
	assert_true(len > 2048);
	struct api_async c;
	struct coap_msg req;
	uint8_t buf[1500];
	call_start(&c, &f->d, "GET", "/3/0/11?format=senml-json", NULL);

	/* The device answers in 512-byte blocks; the server asks for each next one. */
	const size_t size = 512;
	size_t off = 0;
	uint8_t first_token[8];
	size_t first_token_len = 0;
	for (uint32_t num = 0; off < len; num++) {
		coap_receive_request(f->fd, &req, buf, sizeof(buf));
		assert_int_equal(req.code, COAP_CODE_GET);
		coap_assert_path(&req, "/3/0/11");
		assert_int_equal(accept_of(&req), 110);
		if (num == 0) {
			assert_null(coap_msg_find_option(&req, COAP_OPTION_BLOCK2));
			memcpy(first_token, req.token, req.token_len);
			first_token_len = req.token_len;
		} else {
			struct coap_block asked = block_of(&req, COAP_OPTION_BLOCK2);
			assert_int_equal(asked.num, num);
			assert_int_equal(asked.szx, 5);
			assert_false(asked.more);
		}
		size_t n = len - off < size ? len - off : size;
		struct coap_block b = { .num = num, .more = off + n < len, .szx = 5 };
		device_answer(f, &req, COAP_CODE_CONTENT, 110, COAP_OPTION_BLOCK2, &b, body + off, n);
		off += n;
	}
	assert_true(first_token_len > 0);
	api_async_wait(&c);
	assert_int_equal(c.status, 200);
	assert_in(c.resp, "\"code\":\"2.05\"");
	assert_in(c.resp, "{\"path\":\"/3/0/11/0\",\"type\":\"integer\",\"value\":1000}");
	assert_in(c.resp, "{\"path\":\"/3/0/11/99\",\"type\":\"integer\",\"value\":1099}");
}

static void test_block2_wrong_block(void **state)
{
	struct fixture *f = *state;
	static char body[4096];
	long_senml(body, sizeof(body), 40);
	struct api_async c;
	struct coap_msg req;
	uint8_t buf[1500];
	call_start(&c, &f->d, "GET", "/3/0/11?format=senml-json", NULL);
	coap_receive_request(f->fd, &req, buf, sizeof(buf));
	struct coap_block b = { .num = 0, .more = true, .szx = 4 };
	device_answer(f, &req, COAP_CODE_CONTENT, 110, COAP_OPTION_BLOCK2, &b, body, 256);
	coap_receive_request(f->fd, &req, buf, sizeof(buf));
	assert_int_equal(block_of(&req, COAP_OPTION_BLOCK2).num, 1);
	/* Block 2 instead of 1: the transfer cannot be trusted. */
	b = (struct coap_block){ .num = 2, .more = true, .szx = 4 };
	device_answer(f, &req, COAP_CODE_CONTENT, 110, COAP_OPTION_BLOCK2, &b, body + 512, 256);
	api_async_wait(&c);
	assert_int_equal(c.status, 502);
	assert_in(c.resp, "Block2");

	/* The daemon is fine: the next read works. */
	call_start(&c, &f->d, "GET", "/3/0/9?format=text", NULL);
	coap_receive_request(f->fd, &req, buf, sizeof(buf));
	device_answer(f, &req, COAP_CODE_CONTENT, 0, 0, NULL, "77", 2);
	api_async_wait(&c);
	assert_int_equal(c.status, 200);
	assert_in(c.resp, "\"value\":77");
}

static void test_block1_write(void **state)
{
	struct fixture *f = *state;
	/* A 1500-character Timezone (/3/0/15, a string): a TLV of 1504 bytes. */
	static char body[4096];
	char value[1501];
	for (int i = 0; i < 1500; i++)
		value[i] = (char)('a' + i % 26);
	value[1500] = '\0';
	snprintf(body, sizeof(body), "{\"values\":[{\"path\":\"/3/0/15\",\"value\":\"%s\"}]}", value);
	struct api_async c;
	struct coap_msg req;
	uint8_t buf[1500];
	call_start(&c, &f->d, "POST", "/3/0", body);

	static uint8_t got[4096];
	size_t got_len = 0;
	/* Block 0 comes at 1024 bytes; the device asks for 256-byte blocks from then on. */
	coap_receive_request(f->fd, &req, buf, sizeof(buf));
	assert_int_equal(req.code, COAP_CODE_POST);
	coap_assert_path(&req, "/3/0");
	struct coap_block b = block_of(&req, COAP_OPTION_BLOCK1);
	assert_int_equal(b.num, 0);
	assert_int_equal(b.szx, 6);
	assert_true(b.more);
	assert_int_equal(req.payload_len, 1024);
	memcpy(got, req.payload, req.payload_len);
	got_len = req.payload_len;
	struct coap_block cont = { .num = 0, .more = true, .szx = 4 };
	device_answer(f, &req, COAP_CODE_CONTINUE, -1, COAP_OPTION_BLOCK1, &cont, NULL, 0);
	for (;;) {
		coap_receive_request(f->fd, &req, buf, sizeof(buf));
		b = block_of(&req, COAP_OPTION_BLOCK1);
		assert_int_equal(b.szx, 4);
		assert_int_equal((size_t)b.num * 256, got_len); /* 1024 / 256 = 4, then 5 */
		uint32_t ct;
		assert_int_equal(coap_msg_get_uint_option(&req, COAP_OPTION_CONTENT_FORMAT, &ct), 0);
		assert_int_equal(ct, 11542);
		memcpy(got + got_len, req.payload, req.payload_len);
		got_len += req.payload_len;
		if (!b.more)
			break;
		assert_int_equal(req.payload_len, 256);
		device_answer(f, &req, COAP_CODE_CONTINUE, -1, COAP_OPTION_BLOCK1, &b, NULL, 0);
	}
	device_answer(f, &req, COAP_CODE_CHANGED, -1, COAP_OPTION_BLOCK1, &b, NULL, 0);
	api_async_wait(&c);
	assert_int_equal(c.status, 200);
	assert_in(c.resp, "\"code\":\"2.04\"");
	/* What arrived is one TLV resource: 0xC0|24-bit length... no: id 15, length 1500
	 * needs a 16-bit length field (type 0xD0), then the characters. */
	assert_int_equal(got_len, 4 + 1500);
	assert_int_equal(got[0], 0xD0);
	assert_int_equal(got[1], 15);
	assert_int_equal((got[2] << 8) | got[3], 1500);
	assert_memory_equal(got + 4, value, 1500);
}

static void read_expect_accept(struct fixture *f, const char *query, int want)
{
	struct api_async c;
	struct coap_msg req;
	uint8_t buf[1500];
	char path[64];
	snprintf(path, sizeof(path), "/3/0/9%s", query);
	call_start(&c, &f->d, "GET", path, NULL);
	coap_receive_request(f->fd, &req, buf, sizeof(buf));
	assert_int_equal(accept_of(&req), want);
	device_answer(f, &req, COAP_CODE_CONTENT, 0, 0, NULL, "5", 1);
	api_async_wait(&c);
	assert_int_equal(c.status, 200);
}

static void test_read_format_settings(void **state)
{
	struct fixture *f = *state;
	char resp[4096];
	/* None set: no Accept, the device picks. */
	read_expect_accept(f, "", -1);

	assert_int_equal(http_call(&f->d, "PUT", "/v5/iot/p1/products/meter",
				   "{\"read_format\":\"senml-cbor\"}", resp, sizeof(resp)),
			 200);
	assert_in(resp, "\"read_format\":\"senml-cbor\"");
	read_expect_accept(f, "", 112);

	assert_int_equal(http_call(&f->d, "PUT", "/v5/iot/p1/devices/meter_tx01",
				   "{\"read_format\":\"tlv\"}", resp, sizeof(resp)),
			 200);
	assert_in(resp, "\"read_format\":\"tlv\"");
	read_expect_accept(f, "", 11542);
	/* ?format= wins over both. */
	read_expect_accept(f, "?format=text", 0);

	/* null clears the device's: the product's applies again. */
	assert_int_equal(http_call(&f->d, "PUT", "/v5/iot/p1/devices/meter_tx01",
				   "{\"read_format\":null}", resp, sizeof(resp)),
			 200);
	assert_in(resp, "\"read_format\":null");
	read_expect_accept(f, "", 112);

	/* Bad values are refused and change nothing. */
	assert_int_equal(http_call(&f->d, "PUT", "/v5/iot/p1/devices/meter_tx01",
				   "{\"read_format\":\"xml\"}", resp, sizeof(resp)),
			 400);
	assert_in(resp, "read_format");
	assert_int_equal(http_call(&f->d, "PUT", "/v5/iot/p1/products/meter",
				   "{\"read_format\":42}", resp, sizeof(resp)),
			 400);
	read_expect_accept(f, "", 112);

	/* The setting is stored: it survives a restart. */
	assert_int_equal(http_call(&f->d, "PUT", "/v5/iot/p1/devices/meter_tx01",
				   "{\"read_format\":\"json\"}", resp, sizeof(resp)),
			 200);
	daemon_stop(&f->d);
	daemon_restart(&f->d, NULL);
	assert_int_equal(http_call(&f->d, "GET", "/v5/iot/p1/devices/meter_tx01", NULL, resp,
				   sizeof(resp)),
			 200);
	assert_in(resp, "\"read_format\":\"json\"");
	/* The registration was restored; the device's socket is the same. */
	read_expect_accept(f, "", 11543);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_alternate_path, setup_alt, teardown),
		cmocka_unit_test_setup_teardown(test_block2_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_block2_wrong_block, setup, teardown),
		cmocka_unit_test_setup_teardown(test_block1_write, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_format_settings, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
