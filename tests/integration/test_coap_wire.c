/*
 * Integration: the CoAP layer of the real daemon on the wire — ping, duplicates, body
 * limit, block-wise Register, unknown critical options, garbage datagrams, IPv6.
 */
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

static const char *links = "</1/0>,</3/0>";

static int setup(void **state)
{
	static struct daemon_proc d;
	daemon_start(&d, NULL);
	api_create_product(&d, "meter");
	*state = &d;
	return 0;
}

static int teardown(void **state)
{
	struct daemon_proc *d = *state;
	daemon_stop(d);
	daemon_cleanup(d);
	return 0;
}

static void expect_ping_answered(struct daemon_proc *d, int fd, uint16_t mid)
{
	uint8_t ping[4] = {0x40, 0x00, (uint8_t)(mid >> 8), (uint8_t)mid};
	uint8_t buf[64];
	coap_send_raw(fd, &d->coap, ping, sizeof(ping));
	ssize_t n = coap_recv_raw(fd, buf, sizeof(buf), 3000);
	assert_int_equal(n, 4);
	assert_int_equal(buf[0], 0x70); /* RST */
	assert_int_equal(buf[2], ping[2]);
	assert_int_equal(buf[3], ping[3]);
}

static void test_ping(void **state)
{
	int fd = coap_socket("127.0.0.1:0");
	expect_ping_answered(*state, fd, 0x1234);
	close(fd);
}

static void test_duplicate_con_answered_from_cache(void **state)
{
	struct daemon_proc *d = *state;
	api_create_device(d, "meter", "dup01", false, 0);
	int fd = coap_socket("127.0.0.1:0");
	struct coap_msg m;
	uint8_t out[2048], a[2048], b[2048];
	coap_build_register(&m, 0x5555, "dup01", "300", links);
	int len = coap_msg_encode(&m, out, sizeof(out));
	coap_send_raw(fd, &d->coap, out, (size_t)len);
	ssize_t na = coap_recv_raw(fd, a, sizeof(a), 3000);
	coap_send_raw(fd, &d->coap, out, (size_t)len);
	ssize_t nb = coap_recv_raw(fd, b, sizeof(b), 3000);
	assert_true(na > 0);
	/* The same bytes, so the same registration id: the request was served once. */
	assert_int_equal(na, nb);
	assert_memory_equal(a, b, (size_t)na);
	char body[8192];
	assert_int_equal(http_call(d, "GET", "/metrics", NULL, body, sizeof(body)), 200);
	assert_non_null(strstr(body, "\nlwm2md_registrations_total 1\n"));
	assert_non_null(strstr(body, "\nlwm2md_coap_duplicates_total 1\n"));
	close(fd);
}

static void test_body_over_limit_is_413(void **state)
{
	struct daemon_proc *d = *state;
	api_create_device(d, "meter", "big01", false, 0);
	int fd = coap_socket("127.0.0.1:0");
	char payload[1026];
	memset(payload, 'x', 1025);
	payload[1025] = '\0';
	struct coap_msg m, r;
	uint8_t buf[2048];
	coap_build_register(&m, 0x6000, "big01", "300", payload);
	assert_int_equal(coap_exchange(fd, &d->coap, &m, &r, buf, sizeof(buf)), 0);
	assert_int_equal(r.code, COAP_CODE_REQUEST_ENTITY_TOO_LARGE);
	uint32_t size1 = 0;
	assert_int_equal(coap_msg_get_uint_option(&r, COAP_OPTION_SIZE1, &size1), 0);
	assert_int_equal(size1, 1024);
	close(fd);
}

static void test_blockwise_register_of_long_object_list(void **state)
{
	struct daemon_proc *d = *state;
	api_create_device(d, "meter", "many01", false, 0);
	/* 300 object instances: about 3 KB of links. */
	static char big[8192];
	size_t n = 0;
	n += (size_t)snprintf(big + n, sizeof(big) - n, "</>;rt=\"oma.lwm2m\"");
	for (int i = 0; i < 300; i++)
		n += (size_t)snprintf(big + n, sizeof(big) - n, ",</%d/0>", 3300 + i);
	assert_true(n > 2048);

	int fd = coap_socket("127.0.0.1:0");
	struct coap_msg m, r;
	uint8_t buf[2048];
	const size_t block = 512; /* szx 5 */
	uint32_t num = 0;
	for (size_t off = 0; off < n; off += block, num++) {
		size_t len = n - off < block ? n - off : block;
		bool more = off + len < n;
		coap_build_register(&m, (uint16_t)(0x7000 + num), "many01", "300", "");
		struct coap_block b = {.num = num, .more = more, .szx = 5};
		coap_msg_add_uint_option(&m, COAP_OPTION_BLOCK1, coap_block_encode(&b));
		if (num == 0)
			coap_msg_add_uint_option(&m, COAP_OPTION_SIZE1, (uint32_t)n);
		coap_msg_set_payload(&m, big + off, len);
		assert_int_equal(coap_exchange(fd, &d->coap, &m, &r, buf, sizeof(buf)), 0);
		assert_int_equal(r.code, more ? COAP_CODE_CONTINUE : COAP_CODE_CREATED);
	}
	assert_int_equal(api_wait_status(d, "meter_many01", "ONLINE", 3000), 0);
	char v[8192];
	assert_int_equal(api_device_field(d, "meter_many01", "object_links", v, sizeof(v)), 0);
	assert_non_null(strstr(v, "</3599/0>"));
	close(fd);
}

static void test_unknown_critical_option_is_402(void **state)
{
	struct daemon_proc *d = *state;
	api_create_device(d, "meter", "crit01", false, 0);
	int fd = coap_socket("127.0.0.1:0");
	struct coap_msg m, r;
	uint8_t buf[2048];
	coap_build_register(&m, 0x7100, "crit01", "300", links);
	coap_msg_add_option(&m, 2049, "z", 1);
	assert_int_equal(coap_exchange(fd, &d->coap, &m, &r, buf, sizeof(buf)), 0);
	assert_int_equal(r.code, COAP_CODE_BAD_OPTION);
	close(fd);
}

static void test_garbage_datagrams_do_not_hurt(void **state)
{
	struct daemon_proc *d = *state;
	api_create_device(d, "meter", "after01", false, 0);
	int fd = coap_socket("127.0.0.1:0");
	srand(7);
	uint8_t junk[1500];
	for (int i = 0; i < 3000; i++) {
		size_t len = (size_t)(rand() % (int)sizeof(junk));
		for (size_t j = 0; j < len; j++)
			junk[j] = (uint8_t)rand();
		/* Half of them look like CoAP version 1, so they reach the option parser. */
		if (len && i % 2)
			junk[0] = (uint8_t)(0x40 | (junk[0] & 0x3F));
		coap_send_raw(fd, &d->coap, junk, len);
		if (i % 200 == 0) {
			uint8_t sink[2048];
			while (coap_recv_raw(fd, sink, sizeof(sink), 0) > 0)
				;
		}
	}
	uint8_t sink[2048];
	while (coap_recv_raw(fd, sink, sizeof(sink), 100) > 0)
		;
	/* Still answering, and still registering. */
	expect_ping_answered(d, fd, 0x0BAD);
	char id[32];
	assert_int_equal(coap_register(fd, &d->coap, "after01", "300", links, id),
			 COAP_CODE_CREATED);
	char body[8192];
	assert_int_equal(http_call(d, "GET", "/health", NULL, body, sizeof(body)), 200);
	close(fd);
}

static void test_ipv6(void **state)
{
	(void)state;
	static struct daemon_proc d6;
	daemon_start_on(&d6, "[::1]:0", NULL);
	api_create_product(&d6, "meter");
	api_create_device(&d6, "meter", "six01", false, 0);
	int fd = coap_socket("[::1]:0");
	char id[32], v[128];
	assert_int_equal(coap_register(fd, &d6.coap, "six01", "300", links, id),
			 COAP_CODE_CREATED);
	assert_int_equal(api_wait_status(&d6, "meter_six01", "ONLINE", 3000), 0);
	assert_int_equal(api_device_field(&d6, "meter_six01", "peer_address", v, sizeof(v)), 0);
	assert_non_null(strstr(v, "[::1]:"));
	assert_int_equal(coap_update(fd, &d6.coap, id, NULL), COAP_CODE_CHANGED);
	close(fd);
	daemon_stop(&d6);
	daemon_cleanup(&d6);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ping, setup, teardown),
		cmocka_unit_test_setup_teardown(test_duplicate_con_answered_from_cache, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_body_over_limit_is_413, setup, teardown),
		cmocka_unit_test_setup_teardown(test_blockwise_register_of_long_object_list, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_unknown_critical_option_is_402, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_garbage_datagrams_do_not_hurt, setup,
						teardown),
		cmocka_unit_test(test_ipv6),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
