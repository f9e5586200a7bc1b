/*
 * Tests of dtls_pool, the reset mbedTLS contexts new sessions reuse: bounded, last in
 * first out, and nothing of a session survives into the next (no keys, no handshake
 * PSK, no peer id, no callbacks, zeroed buffers); through a dtls_server, a second device
 * on the first one's pooled context gets its own identity's keys, and a wrong key still
 * fails on it; a context whose saved session failed to load is freed, not pooled.
 */
#include "dtls_wire.h"

#include <mbedtls/ssl_internal.h> /* to look inside a pooled context */

#include "dtls/dtls_internal.h"

static bool all_zero(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

static void test_bound_and_reuse(void **state)
{
	(void)state;
	mbedtls_ssl_config conf;
	mbedtls_ssl_config_init(&conf);
	assert_int_equal(mbedtls_ssl_config_defaults(&conf, MBEDTLS_SSL_IS_SERVER,
						     MBEDTLS_SSL_TRANSPORT_DATAGRAM,
						     MBEDTLS_SSL_PRESET_DEFAULT),
			 0);
	struct dtls_pool p;
	assert_int_equal(dtls_pool_init(&p, 2), 0);
	mbedtls_ssl_context *a = dtls_pool_get(&p, &conf), *b = dtls_pool_get(&p, &conf),
			    *c = dtls_pool_get(&p, &conf);
	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(c);
	assert_int_equal(p.created, 3);
	dtls_pool_put(&p, a);
	dtls_pool_put(&p, b);
	dtls_pool_put(&p, c); /* full: freed */
	dtls_pool_put(&p, NULL);
	assert_int_equal(p.count, 2);
	assert_ptr_equal(dtls_pool_get(&p, &conf), b); /* last in, first out */
	assert_ptr_equal(dtls_pool_get(&p, &conf), a);
	assert_int_equal(p.reused, 2);
	dtls_pool_put(&p, a);
	dtls_pool_put(&p, b);
	dtls_pool_destroy(&p);

	/* A pool of 0 keeps nothing. */
	assert_int_equal(dtls_pool_init(&p, 0), 0);
	a = dtls_pool_get(&p, &conf);
	assert_non_null(a);
	dtls_pool_put(&p, a);
	assert_int_equal(p.count, 0);
	dtls_pool_destroy(&p);
	mbedtls_ssl_config_free(&conf);
}

static int setup(void **state)
{
	struct wire *w = calloc(1, sizeof(*w));
	struct dtls_server_hooks hooks = { hook_psk, hook_recv, hook_send };
	if (dtls_server_create(&w->srv, NULL, &hooks, w) != 0)
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

/* dev1 handshakes and closes: its context goes to the pool, reset. */
static mbedtls_ssl_context *first_session_pooled(struct wire *w)
{
	struct client c;
	client_init(&c, w, "dev1", the_key, sizeof(the_key), DTLS_PSK_AES_128_CCM_8);
	assert_int_equal(client_handshake(&c), 0);
	assert_int_equal(mbedtls_ssl_write(&c.ssl, (const unsigned char *)"one", 3), 3);
	assert_int_equal(mbedtls_ssl_close_notify(&c.ssl), 0);
	client_free(&c);
	struct dtls_server *srv = w->srv;
	assert_int_equal(dtls_server_stats(srv)->sessions_live, 0);
	assert_int_equal(srv->pool.count, 1);
	mbedtls_ssl_context *ssl = srv->pool.free[0];
	/* Nothing of dev1's session is left in it. */
	assert_int_equal(ssl->state, MBEDTLS_SSL_HELLO_REQUEST);
	assert_null(ssl->session);
	assert_null(ssl->transform_in);
	assert_null(ssl->transform_out);
	assert_null(ssl->transform);
	assert_non_null(ssl->handshake); /* fresh, for the next handshake */
	assert_null(ssl->handshake->psk);
	assert_int_equal(ssl->handshake->psk_len, 0);
	assert_null(ssl->cli_id);
	assert_null(ssl->p_bio);
	assert_null(ssl->p_timer);
	assert_true(all_zero(ssl->in_buf, MBEDTLS_SSL_IN_BUFFER_LEN));
	assert_true(all_zero(ssl->out_buf, MBEDTLS_SSL_OUT_BUFFER_LEN));
	assert_true(all_zero(ssl->session_negotiate->master, 48));
	return ssl;
}

static void test_next_device_gets_its_own_keys(void **state)
{
	struct wire *w = *state;
	mbedtls_ssl_context *pooled = first_session_pooled(w);
	const struct dtls_server_stats *st = dtls_server_stats(w->srv);
	uint64_t reused = st->contexts_reused;

	/* dev2 from another address with dev1's key bytes but its own identity: the server
	 * looks dev2 up, and the keys are dev2's. (Both test identities share the_key, so
	 * a wrong key shows the PSK is the one looked up now, not one left behind.) */
	w->client_addr.port = 40001;
	w->count = 0;
	struct client c;
	static const uint8_t wrong[] = { 1, 2, 3, 4, 5, 6 };
	client_init(&c, w, "dev2", wrong, sizeof(wrong), DTLS_PSK_AES_128_CCM_8);
	assert_int_not_equal(client_handshake(&c), 0);
	client_free(&c);
	st = dtls_server_stats(w->srv);
	assert_int_equal(st->fail_bad_key, 1);
	assert_true(st->contexts_reused > reused);

	w->client_addr.port = 40002;
	w->count = 0;
	client_init(&c, w, "dev2", the_key, sizeof(the_key), DTLS_PSK_AES_128_CCM_8);
	assert_int_equal(client_handshake(&c), 0);
	assert_string_equal(w->psk_asked, "dev2");
	assert_string_equal(dtls_server_peer_identity(w->srv, &w->client_addr), "dev2");
	assert_int_equal(mbedtls_ssl_write(&c.ssl, (const unsigned char *)"two", 3), 3);
	assert_memory_equal(w->app, "two", 3);
	assert_int_equal(dtls_server_send(w->srv, &w->client_addr, (const uint8_t *)"ok", 2,
					  w->now),
			 0);
	unsigned char buf[16];
	assert_int_equal(mbedtls_ssl_read(&c.ssl, buf, sizeof(buf)), 2);
	assert_memory_equal(buf, "ok", 2);
	/* dev1's address has no session on the pooled context. */
	struct addr first;
	addr_parse(&first, "10.0.0.1:40000");
	assert_null(dtls_server_peer_identity(w->srv, &first));
	assert_int_equal(dtls_server_send(w->srv, &first, (const uint8_t *)"x", 1, w->now),
			 -ENOTCONN);
	client_free(&c);
	(void)pooled;
}

/* Hibernation gives the context back; the wake-up takes one from the pool. */
static void test_hibernate_and_wake_through_the_pool(void **state)
{
	struct wire *w = *state;
	struct dtls_server_config cfg;
	dtls_server_config_defaults(&cfg);
	cfg.idle_ms = 1000;
	cfg.context_pool = 4;
	dtls_server_destroy(w->srv);
	struct dtls_server_hooks hooks = { hook_psk, hook_recv, hook_send };
	assert_int_equal(dtls_server_create(&w->srv, &cfg, &hooks, w), 0);
	struct client c;
	client_init(&c, w, "dev1", the_key, sizeof(the_key), DTLS_PSK_AES_128_CCM_8);
	assert_int_equal(client_handshake(&c), 0);
	assert_int_equal(mbedtls_ssl_write(&c.ssl, (const unsigned char *)"a", 1), 1);
	w->now += 1500;
	dtls_server_tick(w->srv, w->now);
	const struct dtls_server_stats *st = dtls_server_stats(w->srv);
	assert_int_equal(st->sessions_hibernated, 1);
	assert_int_equal(st->contexts_pooled, 1);
	uint64_t created = st->contexts_created;
	for (int i = 0; i < 3; i++) {
		assert_int_equal(mbedtls_ssl_write(&c.ssl, (const unsigned char *)"wake", 4), 4);
		assert_memory_equal(w->app, "wake", 4);
		w->now += 1500;
		dtls_server_tick(w->srv, w->now);
	}
	st = dtls_server_stats(w->srv);
	assert_int_equal(st->wakeups, 3);
	assert_int_equal(st->contexts_created, created); /* every wake-up reused one */
	client_free(&c);
}

/* A saved session that does not load (corrupt, or from another mbedTLS build) leaves
 * mbedTLS's context unusable: it is freed, not pooled, and the device handshakes anew. */
static void test_failed_wake_is_not_pooled(void **state)
{
	struct wire *w = *state;
	static const uint8_t garbage[] = { 2, 28, 3, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };
	assert_int_equal(dtls_server_restore(w->srv, "dev1", &w->client_addr, garbage,
					     sizeof(garbage), w->now),
			 0);
	/* Fill the pool with one good context first. */
	mbedtls_ssl_context *ssl = dtls_pool_get(&w->srv->pool, &w->srv->conf);
	assert_non_null(ssl);
	dtls_pool_put(&w->srv->pool, ssl);
	assert_int_equal(w->srv->pool.count, 1);
	assert_int_equal(dtls_server_send(w->srv, &w->client_addr, (const uint8_t *)"x", 1,
					  w->now),
			 -ENOTCONN);
	/* The pooled context went to the failed wake-up and was freed, not given back. */
	assert_int_equal(w->srv->pool.count, 0);
	assert_null(dtls_server_identity_ciphersuite(w->srv, "dev1"));
	/* The device's next handshake works, on a context from the pool or a new one. */
	struct client c;
	client_init(&c, w, "dev1", the_key, sizeof(the_key), DTLS_PSK_AES_128_CCM_8);
	assert_int_equal(client_handshake(&c), 0);
	assert_string_equal(dtls_server_peer_identity(w->srv, &w->client_addr), "dev1");
	client_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bound_and_reuse),
		cmocka_unit_test_setup_teardown(test_next_device_gets_its_own_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hibernate_and_wake_through_the_pool, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_failed_wake_is_not_pooled, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
