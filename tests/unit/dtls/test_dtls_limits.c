/*
 * Tests of dtls_server's limits, with in-memory mbedTLS clients and a mock clock:
 * handshake slots (sources that complete the cookie exchange and go silent lose their
 * slots to newcomers, per address and in all, while handshakes that move are kept; a
 * stalled handshake ends; established sessions are untouched) and the backoff of an identity after wrong keys (refused even
 * with the right key, doubling up to a cap, forgiven by success, other identities free).
 */
#include "dtls_wire.h"

static const uint8_t wrong_key[] = { 9, 9, 9, 9, 9, 9 };

static struct dtls_server_config limits;

static int setup(void **state)
{
	struct wire *w = calloc(1, sizeof(*w));
	struct dtls_server_hooks hooks = { hook_psk, hook_recv, hook_send };
	if (dtls_server_create(&w->srv, &limits, &hooks, w) != 0)
		return -1;
	w->now = 1000;
	*state = w;
	return 0;
}

static int teardown(void **state)
{
	struct wire *w = *state;
	dtls_server_destroy(w->srv);
	free(w);
	dtls_server_config_defaults(&limits);
	return 0;
}

static const struct dtls_server_stats *stats(struct wire *w)
{
	return dtls_server_stats(w->srv);
}

/* A client at peer that completes the cookie exchange and then goes silent. Returns
 * whether the server gave it a handshake slot. */
static bool try_stalled_client(struct wire *w, const char *peer)
{
	struct client c;
	assert_int_equal(addr_parse(&w->client_addr, peer), 0);
	w->count = 0;
	uint64_t started = stats(w)->handshakes_started;
	uint64_t refused = stats(w)->handshakes_refused;
	client_init(&c, w, "dev1", the_key, sizeof(the_key), DTLS_PSK_AES_128_CCM_8);
	for (int i = 0; i < 10 && stats(w)->handshakes_started == started &&
			stats(w)->handshakes_refused == refused;
	     i++) {
		int rc = mbedtls_ssl_handshake_step(&c.ssl);
		assert_true(rc == 0 || rc == MBEDTLS_ERR_SSL_WANT_READ);
	}
	client_free(&c);
	w->count = 0;
	return stats(w)->handshakes_started == started + 1;
}

static void stalled_client(struct wire *w, const char *peer)
{
	assert_true(try_stalled_client(w, peer));
}

/* A full handshake from peer with key; returns mbedTLS's result. */
static int handshake(struct wire *w, const char *peer, const char *identity,
		     const uint8_t *key, size_t key_len)
{
	struct client c;
	assert_int_equal(addr_parse(&w->client_addr, peer), 0);
	w->count = 0;
	client_init(&c, w, identity, key, key_len, DTLS_PSK_AES_128_CCM_8);
	int rc = client_handshake(&c);
	client_free(&c);
	w->count = 0;
	return rc;
}

static void test_stalled_handshake_ends(void **state)
{
	struct wire *w = *state;
	stalled_client(w, "10.0.0.1:1000");
	assert_int_equal(stats(w)->handshakes_in_progress, 1);
	/* mbedTLS retransmits its flight meanwhile: that is not progress. */
	w->now += 4999;
	dtls_server_tick(w->srv, w->now);
	assert_int_equal(stats(w)->handshakes_in_progress, 1);
	w->now += 1;
	dtls_server_tick(w->srv, w->now);
	assert_int_equal(stats(w)->handshakes_in_progress, 0);
	assert_int_equal(stats(w)->fail_stalled, 1);
	assert_int_equal(stats(w)->sessions_live, 0);
}

static void test_one_address_cannot_hold_the_slots(void **state)
{
	struct wire *w = *state;
	char peer[32];
	for (int i = 0; i < 10; i++) {
		snprintf(peer, sizeof(peer), "10.0.0.9:%d", 2000 + i);
		stalled_client(w, peer);
		w->now += 1000;
	}
	/* Three per address: each newcomer took the slot of that address's oldest, silent
	 * for a second by then. */
	assert_int_equal(stats(w)->handshakes_in_progress, 3);
	assert_int_equal(stats(w)->handshakes_evicted, 7);
	/* Another address is not limited by this one. */
	stalled_client(w, "10.0.0.10:2000");
	assert_int_equal(stats(w)->handshakes_in_progress, 4);
	/* A real device behind the same address gets through at once. */
	assert_int_equal(handshake(w, "10.0.0.9:3000", "dev2", the_key, sizeof(the_key)), 0);
	assert_int_equal(stats(w)->handshakes_done, 1);
	assert_int_equal(stats(w)->handshakes_in_progress, 3);
}

static void test_a_burst_is_refused_not_churned(void **state)
{
	struct wire *w = *state;
	/* Three handshakes from one address within the same second fill its slots. */
	stalled_client(w, "10.0.0.9:2000");
	stalled_client(w, "10.0.0.9:2001");
	w->now += 999;
	stalled_client(w, "10.0.0.9:2002");
	/* A fourth: none of them has been silent for a second, so it is refused and they
	 * keep theirs. */
	assert_false(try_stalled_client(w, "10.0.0.9:2003"));
	assert_int_equal(stats(w)->handshakes_refused, 1);
	assert_int_equal(stats(w)->handshakes_evicted, 0);
	assert_int_equal(stats(w)->handshakes_in_progress, 3);
	/* Its retransmitted ClientHello a second later takes the oldest one's slot. */
	w->now += 1;
	assert_true(try_stalled_client(w, "10.0.0.9:2003"));
	assert_int_equal(stats(w)->handshakes_evicted, 1);
	assert_int_equal(stats(w)->handshakes_in_progress, 3);
}

static void test_full_table_gives_way_oldest_first(void **state)
{
	struct wire *w = *state;
	/* An established session first: the flood must not touch it. */
	struct client live;
	assert_int_equal(addr_parse(&w->client_addr, "10.0.1.1:4000"), 0);
	client_init(&live, w, "dev1", the_key, sizeof(the_key), DTLS_PSK_AES_128_CCM_8);
	assert_int_equal(client_handshake(&live), 0);
	w->count = 0;
	char peer[32];
	for (int i = 0; i < 6; i++) {
		snprintf(peer, sizeof(peer), "10.0.2.%d:5000", i + 1);
		stalled_client(w, peer);
		w->now += 1000;
	}
	assert_int_equal(stats(w)->handshakes_in_progress, 4);
	assert_int_equal(stats(w)->handshakes_evicted, 2);
	/* The real device from a fresh address. */
	assert_int_equal(handshake(w, "10.0.3.1:6000", "dev2", the_key, sizeof(the_key)), 0);
	assert_int_equal(stats(w)->handshakes_evicted, 3);
	assert_int_equal(stats(w)->handshakes_in_progress, 3);
	/* The oldest three went (10.0.2.1-3): a record from one of them is a stranger's now,
	 * while the newest still have their handshakes. */
	struct addr a;
	uint64_t dropped = stats(w)->dropped_unverified;
	addr_parse(&a, "10.0.2.6:5000");
	dtls_server_input(w->srv, &a, (const uint8_t *)"x", 1, w->now);
	assert_int_equal(stats(w)->dropped_unverified, dropped);
	addr_parse(&a, "10.0.2.3:5000");
	dtls_server_input(w->srv, &a, (const uint8_t *)"x", 1, w->now);
	assert_int_equal(stats(w)->dropped_unverified, dropped + 1);
	/* The established session still carries data both ways. */
	assert_int_equal(addr_parse(&w->client_addr, "10.0.1.1:4000"), 0);
	assert_int_equal(mbedtls_ssl_write(&live.ssl, (const unsigned char *)"ping", 4), 4);
	assert_memory_equal(w->app, "ping", 4);
	assert_int_equal(dtls_server_send(w->srv, &w->client_addr, (const uint8_t *)"pong", 4,
					  w->now),
			 0);
	unsigned char buf[16];
	assert_int_equal(mbedtls_ssl_read(&live.ssl, buf, sizeof(buf)), 4);
	client_free(&live);
	assert_int_equal(stats(w)->handshakes_done, 2);
}

static void test_wrong_keys_back_off(void **state)
{
	struct wire *w = *state;
	for (int i = 0; i < 3; i++)
		assert_int_not_equal(handshake(w, "10.0.0.1:7000", "dev1", wrong_key,
					       sizeof(wrong_key)),
				     0);
	assert_int_equal(stats(w)->fail_bad_key, 3);
	assert_int_equal(stats(w)->psk_lockouts, 1);
	/* Backing off: the right key is refused too, without being tried. */
	assert_int_not_equal(handshake(w, "10.0.0.1:7001", "dev1", the_key, sizeof(the_key)), 0);
	assert_int_equal(stats(w)->fail_throttled, 1);
	assert_int_equal(stats(w)->fail_bad_key, 3);
	/* Another identity is not affected. */
	assert_int_equal(handshake(w, "10.0.0.2:7000", "dev2", the_key, sizeof(the_key)), 0);
	/* The backoff ends: the right key works, and forgives the identity. */
	w->now += 1000;
	assert_int_equal(handshake(w, "10.0.0.1:7002", "dev1", the_key, sizeof(the_key)), 0);
	assert_int_equal(stats(w)->psk_identities_tracked, 0);
}

static void test_backoff_doubles_up_to_its_cap(void **state)
{
	struct wire *w = *state;
	/* 1 s, 2 s, 4 s, then 4 s again: the cap. */
	const uint64_t expect[] = { 1000, 2000, 4000, 4000 };
	for (int round = 0; round < 4; round++) {
		for (int i = 0; i < 3; i++)
			assert_int_not_equal(handshake(w, "10.0.0.1:7100", "dev1", wrong_key,
						       sizeof(wrong_key)),
					     0);
		assert_int_equal(stats(w)->psk_lockouts, (uint64_t)round + 1);
		w->now += expect[round] - 1;
		dtls_server_tick(w->srv, w->now);
		assert_int_not_equal(handshake(w, "10.0.0.1:7101", "dev1", the_key,
					       sizeof(the_key)),
				     0);
		w->now += 1;
	}
	assert_int_equal(stats(w)->fail_throttled, 4);
	/* Failures spread wider than the window never start a backoff... */
	w->now += 60000;
	for (int i = 0; i < 2; i++)
		assert_int_not_equal(handshake(w, "10.0.0.1:7102", "dev1", wrong_key,
					       sizeof(wrong_key)),
				     0);
	w->now += 60000;
	assert_int_not_equal(handshake(w, "10.0.0.1:7102", "dev1", wrong_key, sizeof(wrong_key)),
			     0);
	assert_int_equal(stats(w)->psk_lockouts, 4);
	/* ...and an identity quiet for window + cap is forgotten: its next backoff is short
	 * again. */
	w->now += 60000 + 4000;
	dtls_server_tick(w->srv, w->now);
	assert_int_equal(stats(w)->psk_identities_tracked, 0);
	for (int i = 0; i < 3; i++)
		assert_int_not_equal(handshake(w, "10.0.0.1:7103", "dev1", wrong_key,
					       sizeof(wrong_key)),
				     0);
	w->now += 1000;
	assert_int_equal(handshake(w, "10.0.0.1:7104", "dev1", the_key, sizeof(the_key)), 0);
}

/* Each test's limits, set before its setup runs. */
static int with_stall(void **state)
{
	limits.handshake_stall_ms = 5000;
	return setup(state);
}

static int with_three_per_address(void **state)
{
	limits.max_handshakes_per_addr = 3;
	return setup(state);
}

static int with_four_slots(void **state)
{
	limits.max_handshakes = 4;
	return setup(state);
}

static int with_fast_backoff(void **state)
{
	limits.psk_max_failures = 3;
	limits.psk_backoff_ms = 1000;
	limits.psk_backoff_max_ms = 4000;
	return setup(state);
}

int main(void)
{
	dtls_server_config_defaults(&limits);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_stalled_handshake_ends, with_stall, teardown),
		cmocka_unit_test_setup_teardown(test_one_address_cannot_hold_the_slots,
						with_three_per_address, teardown),
		cmocka_unit_test_setup_teardown(test_a_burst_is_refused_not_churned,
						with_three_per_address, teardown),
		cmocka_unit_test_setup_teardown(test_full_table_gives_way_oldest_first,
						with_four_slots, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_keys_back_off, with_fast_backoff,
						teardown),
		cmocka_unit_test_setup_teardown(test_backoff_doubles_up_to_its_cap,
						with_fast_backoff, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
