/*
 * Tests of dtls_server with an in-memory mbedTLS client: full handshakes with each suite,
 * wrong keys and unknown identities, garbage and cookie-less hellos from many peers
 * (nothing allocated), hibernation and wake-up on both directions, and the saved-session
 * round trip the daemon does across a restart.
 */
#include <inttypes.h>

#include "dtls_wire.h"

static int setup(void **state)
{
	struct wire *w = calloc(1, sizeof(*w));
	struct dtls_server_config cfg;
	dtls_server_config_defaults(&cfg);
	cfg.idle_ms = 1000;
	struct dtls_server_hooks hooks = { hook_psk, hook_recv, hook_send };
	if (dtls_server_create(&w->srv, &cfg, &hooks, w) != 0)
		return -1;
	addr_parse(&w->client_addr, "10.0.0.1:40000");
	w->now = 1000;
	*state = w;
	return 0;
}

static int teardown(void **state)
{
	struct wire *w = *state;
	dtls_server_destroy(w->srv);
	free(w);
	return 0;
}

static void test_handshake_each_suite(void **state)
{
	struct wire *w = *state;
	const int suites[] = { DTLS_PSK_AES_128_CCM_8, DTLS_PSK_AES_128_CBC_SHA256 };
	const char *const names[] = { "TLS-PSK-WITH-AES-128-CCM-8",
				      "TLS-PSK-WITH-AES-128-CBC-SHA256" };
	assert_null(dtls_server_identity_ciphersuite(w->srv, "dev1"));
	for (int i = 0; i < 2; i++) {
		struct client c;
		w->client_addr.port = (uint16_t)(40000 + i);
		client_init(&c, w, "dev1", the_key, sizeof(the_key), suites[i]);
		assert_int_equal(client_handshake(&c), 0);
		assert_int_equal(mbedtls_ssl_get_ciphersuite_id(mbedtls_ssl_get_ciphersuite(&c.ssl)),
				 suites[i]);
		assert_string_equal(dtls_server_identity_ciphersuite(w->srv, "dev1"), names[i]);
		assert_string_equal(dtls_server_peer_identity(w->srv, &w->client_addr), "dev1");
		/* Application data both ways. */
		assert_int_equal(mbedtls_ssl_write(&c.ssl, (const unsigned char *)"ping", 4), 4);
		assert_int_equal(w->app_len, 4);
		assert_memory_equal(w->app, "ping", 4);
		assert_int_equal(dtls_server_send(w->srv, &w->client_addr, (const uint8_t *)"pong",
						  4, w->now),
				 0);
		unsigned char buf[64];
		assert_int_equal(mbedtls_ssl_read(&c.ssl, buf, sizeof(buf)), 4);
		assert_memory_equal(buf, "pong", 4);
		client_free(&c);
	}
	const struct dtls_server_stats *st = dtls_server_stats(w->srv);
	assert_int_equal(st->handshakes_done, 2);
	/* One session per identity: the second replaced the first. */
	assert_int_equal(st->sessions_live, 1);
	assert_int_equal(st->hello_verify_sent, 2);
}

static void test_wrong_key_and_unknown_identity(void **state)
{
	struct wire *w = *state;
	struct client c;
	const uint8_t wrong[] = { 1, 2, 3, 4, 5, 6 };
	client_init(&c, w, "dev1", wrong, sizeof(wrong), DTLS_PSK_AES_128_CCM_8);
	assert_int_not_equal(client_handshake(&c), 0);
	client_free(&c);
	w->count = 0;
	w->client_addr.port++;
	client_init(&c, w, "stranger", the_key, sizeof(the_key), DTLS_PSK_AES_128_CCM_8);
	assert_int_not_equal(client_handshake(&c), 0);
	assert_string_equal(w->psk_asked, "stranger");
	client_free(&c);
	const struct dtls_server_stats *st = dtls_server_stats(w->srv);
	assert_int_equal(st->fail_bad_key, 1);
	assert_int_equal(st->fail_unknown_identity, 1);
	assert_int_equal(st->sessions_live, 0);
	assert_int_equal(st->handshakes_in_progress, 0);
	assert_null(dtls_server_peer_identity(w->srv, &w->client_addr));
	assert_int_equal(dtls_server_send(w->srv, &w->client_addr, (const uint8_t *)"x", 1, 0),
			 -ENOTCONN);
}

static void test_garbage_allocates_nothing(void **state)
{
	struct wire *w = *state;
	uint32_t seed = 99;
	uint8_t d[200];
	for (int i = 0; i < 20000; i++) {
		struct addr peer;
		addr_parse(&peer, "192.0.2.1:1");
		peer.port = (uint16_t)(1 + i);
		seed = seed * 1103515245u + 12345u;
		size_t len = (seed >> 16) % sizeof(d);
		for (size_t k = 0; k < len; k++) {
			seed = seed * 1103515245u + 12345u;
			d[k] = (uint8_t)(seed >> 16);
		}
		/* Every other one looks like the start of a ClientHello. */
		if (i % 2 && len > 26) {
			d[0] = 22;
			d[1] = 0xfe;
			d[3] = d[4] = 0;
			d[13] = 1;
		}
		dtls_server_input(w->srv, &peer, d, len, w->now);
	}
	const struct dtls_server_stats *st = dtls_server_stats(w->srv);
	assert_int_equal(st->sessions_live, 0);
	assert_int_equal(st->handshakes_started, 0);
	assert_true(st->dropped_unverified > 0);
}

/* What dtls_server_save_all gave: one session. */
static uint8_t saved[4096];
static size_t saved_len;
static char saved_identity[80];

static int save_session(void *ctx, const char *identity, const struct addr *peer,
			const uint8_t *data, size_t len)
{
	(void)ctx;
	(void)peer;
	assert_true(len <= sizeof(saved));
	memcpy(saved, data, len);
	saved_len = len;
	snprintf(saved_identity, sizeof(saved_identity), "%s", identity);
	return 0;
}

static void test_hibernate_wake_save_restore(void **state)
{
	struct wire *w = *state;
	struct client c;
	unsigned char buf[64];
	client_init(&c, w, "dev2", the_key, sizeof(the_key), DTLS_PSK_AES_128_CCM_8);
	assert_int_equal(client_handshake(&c), 0);
	/* mbedTLS keeps the server's last flight (to retransmit it) until the client's first
	 * record shows the Finished arrived; only then can the context be serialized. */
	assert_int_equal(mbedtls_ssl_write(&c.ssl, (const unsigned char *)"first", 5), 5);

	/* Idle past idle_ms: serialized, and small. */
	w->now += 1500;
	dtls_server_tick(w->srv, w->now);
	const struct dtls_server_stats *st = dtls_server_stats(w->srv);
	assert_int_equal(st->sessions_hibernated, 1);
	assert_int_equal(st->sessions_live, 0);
	assert_true(st->hibernated_bytes > 0 && st->hibernated_bytes < 1024);
	assert_string_equal(dtls_server_identity_ciphersuite(w->srv, "dev2"),
			    "TLS-PSK-WITH-AES-128-CCM-8");
	print_message("hibernated session: %" PRIu64 " bytes with its entry\n", st->hibernated_bytes);
	/* A record from the client wakes it. */
	assert_int_equal(mbedtls_ssl_write(&c.ssl, (const unsigned char *)"hello", 5), 5);
	assert_memory_equal(w->app, "hello", 5);
	assert_int_equal(st->wakeups, 1);

	/* Hibernate again; a send from the server wakes it too. */
	w->now += 1500;
	dtls_server_tick(w->srv, w->now);
	assert_int_equal(st->sessions_hibernated, 1);
	assert_int_equal(dtls_server_send(w->srv, &w->client_addr, (const uint8_t *)"abc", 3,
					  w->now),
			 0);
	assert_int_equal(mbedtls_ssl_read(&c.ssl, buf, sizeof(buf)), 3);

	/* Save as at shutdown, into a new server as at start. */
	assert_int_equal(dtls_server_save_all(w->srv, save_session, NULL), 0);
	assert_true(saved_len > 0);
	assert_string_equal(saved_identity, "dev2");
	dtls_server_destroy(w->srv);
	struct dtls_server_hooks hooks = { hook_psk, hook_recv, hook_send };
	assert_int_equal(dtls_server_create(&w->srv, NULL, &hooks, w), 0);
	assert_int_equal(dtls_server_restore(w->srv, "dev2", &w->client_addr, saved, saved_len,
					     w->now),
			 0);
	/* Restored, still hibernated: known all the same. */
	assert_string_equal(dtls_server_identity_ciphersuite(w->srv, "dev2"),
			    "TLS-PSK-WITH-AES-128-CCM-8");
	w->app_count = 0;
	assert_int_equal(mbedtls_ssl_write(&c.ssl, (const unsigned char *)"again", 5), 5);
	assert_int_equal(w->app_count, 1);
	assert_memory_equal(w->app, "again", 5);
	assert_string_equal(dtls_server_peer_identity(w->srv, &w->client_addr), "dev2");
	assert_int_equal(dtls_server_close_identity(w->srv, "dev2", w->now), 0);
	assert_null(dtls_server_identity_ciphersuite(w->srv, "dev2"));
	assert_int_equal(dtls_server_close_identity(w->srv, "dev2", w->now), -ENOENT);
	client_free(&c);
}

static void test_parse_ciphersuites(void **state)
{
	(void)state;
	struct dtls_server_config cfg;
	dtls_server_config_defaults(&cfg);
	assert_int_equal(dtls_server_parse_ciphersuites(&cfg, "TLS-PSK-WITH-AES-128-CBC-SHA256"), 0);
	assert_int_equal(cfg.ciphersuites[0], DTLS_PSK_AES_128_CBC_SHA256);
	assert_int_equal(cfg.ciphersuites[1], 0);
	assert_int_equal(dtls_server_parse_ciphersuites(&cfg, "TLS-PSK-WITH-AES-128-CCM-8,"
							      "TLS-PSK-WITH-AES-128-CBC-SHA256"),
			 0);
	assert_int_equal(cfg.ciphersuites[0], DTLS_PSK_AES_128_CCM_8);
	const char *bad[] = { "", ",", "TLS-PSK-WITH-AES-128-GCM-SHA256", "nonsense",
			      "TLS-PSK-WITH-AES-128-CCM-8,TLS-PSK-WITH-AES-128-CCM-8",
			      "TLS-PSK-WITH-AES-128-CCM-8," };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (dtls_server_parse_ciphersuites(&cfg, bad[i]) != -EINVAL)
			fail_msg("accepted '%s'", bad[i]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_handshake_each_suite, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_key_and_unknown_identity, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_garbage_allocates_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hibernate_wake_save_restore, setup, teardown),
		cmocka_unit_test(test_parse_ciphersuites),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
