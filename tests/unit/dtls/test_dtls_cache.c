/*
 * Tests of dtls_cache, the session-id cache behind mbedTLS's cache callbacks: a get
 * after a set returns the session (a deep copy), the bound evicts the oldest, entries
 * expire, unknown and malformed ids miss, many ids all stay findable; and through a
 * dtls_server, a client resuming by session id gets an abbreviated handshake.
 */
#include "dtls_wire.h"

#include "dtls/dtls_internal.h"

static uint64_t clock_ms;

static void make_session(mbedtls_ssl_session *s, uint32_t n)
{
	mbedtls_ssl_session_init(s);
	s->id_len = 32;
	memset(s->id, 0, sizeof(s->id));
	for (int k = 0; k < 4; k++)
		s->id[k] = (uint8_t)(n >> (8 * k));
	s->ciphersuite = DTLS_PSK_AES_128_CCM_8;
	memset(s->master, (int)(n & 0xff), sizeof(s->master));
	s->master[0] = (uint8_t)(n >> 8);
}

/* Looks id n up; returns whether it was found, checking it is n's when it was. */
static bool lookup(struct dtls_cache *c, uint32_t n)
{
	mbedtls_ssl_session want, got;
	make_session(&want, n);
	mbedtls_ssl_session_init(&got);
	got.id_len = want.id_len;
	memcpy(got.id, want.id, want.id_len);
	int rc = dtls_cache_get(c, &got);
	if (rc == 0) {
		assert_int_equal(got.ciphersuite, want.ciphersuite);
		assert_memory_equal(got.master, want.master, sizeof(want.master));
		assert_memory_equal(got.id, want.id, want.id_len);
	}
	mbedtls_ssl_session_free(&got);
	mbedtls_ssl_session_free(&want);
	return rc == 0;
}

static void put(struct dtls_cache *c, uint32_t n)
{
	mbedtls_ssl_session s;
	make_session(&s, n);
	assert_int_equal(dtls_cache_set(c, &s), 0);
	mbedtls_ssl_session_free(&s);
}

static void test_get_after_set_and_unknown(void **state)
{
	(void)state;
	struct dtls_cache c;
	clock_ms = 5000;
	assert_int_equal(dtls_cache_init(&c, 10, 60000, &clock_ms), 0);
	assert_false(lookup(&c, 1)); /* empty */
	put(&c, 1);
	put(&c, 2);
	assert_true(lookup(&c, 1));
	assert_true(lookup(&c, 2));
	assert_false(lookup(&c, 3));
	/* The same id again replaces, not adds. */
	put(&c, 1);
	assert_int_equal(c.count, 2);
	assert_true(lookup(&c, 1));
	/* An empty or oversized id is refused both ways. */
	mbedtls_ssl_session s;
	make_session(&s, 7);
	s.id_len = 0;
	assert_int_equal(dtls_cache_set(&c, &s), 1);
	assert_int_equal(dtls_cache_get(&c, &s), 1);
	s.id_len = 33;
	assert_int_equal(dtls_cache_set(&c, &s), 1);
	assert_int_equal(dtls_cache_get(&c, &s), 1);
	/* A shorter id that is a prefix of a stored one is another id. */
	make_session(&s, 2);
	s.id_len = 16;
	assert_int_equal(dtls_cache_get(&c, &s), 1);
	mbedtls_ssl_session_free(&s);
	assert_int_equal(c.hits, 3);
	assert_true(c.bytes > 0);
	dtls_cache_destroy(&c);
}

static void test_eviction_at_the_bound(void **state)
{
	(void)state;
	struct dtls_cache c;
	clock_ms = 0;
	assert_int_equal(dtls_cache_init(&c, 3, 0, &clock_ms), 0);
	for (uint32_t n = 1; n <= 5; n++)
		put(&c, n);
	assert_int_equal(c.count, 3);
	assert_int_equal(c.evicted, 2);
	assert_false(lookup(&c, 1));
	assert_false(lookup(&c, 2));
	assert_true(lookup(&c, 3));
	assert_true(lookup(&c, 5));
	/* Setting 3 again makes it the newest: 4 goes next. */
	put(&c, 3);
	put(&c, 6);
	assert_false(lookup(&c, 4));
	assert_true(lookup(&c, 3));
	dtls_cache_destroy(&c);

	/* A cache of 0 entries keeps nothing. */
	assert_int_equal(dtls_cache_init(&c, 0, 0, &clock_ms), 0);
	mbedtls_ssl_session s;
	make_session(&s, 1);
	assert_int_equal(dtls_cache_set(&c, &s), 1);
	mbedtls_ssl_session_free(&s);
	assert_false(lookup(&c, 1));
	dtls_cache_destroy(&c);
}

static void test_expiry(void **state)
{
	(void)state;
	struct dtls_cache c;
	clock_ms = 1000;
	assert_int_equal(dtls_cache_init(&c, 100, 10000, &clock_ms), 0);
	put(&c, 1);
	clock_ms = 6000;
	put(&c, 2);
	clock_ms = 10999;
	assert_true(lookup(&c, 1));
	clock_ms = 11000; /* 1 is 10 s old */
	assert_false(lookup(&c, 1));
	assert_int_equal(c.expired, 1);
	assert_int_equal(c.count, 1);
	assert_true(lookup(&c, 2));
	/* A set drops the expired at the old end. */
	clock_ms = 17000;
	put(&c, 3);
	assert_int_equal(c.count, 1);
	assert_int_equal(c.expired, 2);
	assert_true(lookup(&c, 3));
	dtls_cache_destroy(&c);
}

static void test_many_ids(void **state)
{
	(void)state;
	struct dtls_cache c;
	const uint32_t n = 50000;
	clock_ms = 0;
	assert_int_equal(dtls_cache_init(&c, n, 0, &clock_ms), 0);
	for (uint32_t i = 0; i < n; i++)
		put(&c, i);
	assert_int_equal(c.count, n);
	for (uint32_t i = 0; i < n; i += 7)
		assert_true(lookup(&c, i));
	assert_false(lookup(&c, n));
	put(&c, n); /* full: the oldest goes */
	assert_false(lookup(&c, 0));
	assert_true(lookup(&c, n));
	print_message("%u sessions cached in %zu bytes\n", n, c.bytes);
	dtls_cache_destroy(&c);
}

/* Through the server: a client that offers the session id of its earlier session (no
 * ticket) resumes it, and the server knows who it is. */
static void test_resumption_by_session_id(void **state)
{
	(void)state;
	struct wire *w = calloc(1, sizeof(*w));
	struct dtls_server_hooks hooks = { hook_psk, hook_recv, hook_send };
	assert_int_equal(dtls_server_create(&w->srv, NULL, &hooks, w), 0);
	addr_parse(&w->client_addr, "10.0.0.1:40000");
	w->now = 1000;
	struct client c;
	mbedtls_ssl_session saved;
	mbedtls_ssl_session_init(&saved);
	client_init(&c, w, "dev1", the_key, sizeof(the_key), DTLS_PSK_AES_128_CCM_8);
	mbedtls_ssl_conf_session_tickets(&c.conf, MBEDTLS_SSL_SESSION_TICKETS_DISABLED);
	assert_int_equal(client_handshake(&c), 0);
	assert_int_equal(mbedtls_ssl_get_session(&c.ssl, &saved), 0);
	assert_int_equal(saved.id_len, 32);
	client_free(&c);
	assert_int_equal(dtls_server_stats(w->srv)->cache_entries, 1);

	w->client_addr.port = 40001;
	w->count = 0;
	w->psk_asked[0] = '\0';
	client_init(&c, w, "dev1", the_key, sizeof(the_key), DTLS_PSK_AES_128_CCM_8);
	mbedtls_ssl_conf_session_tickets(&c.conf, MBEDTLS_SSL_SESSION_TICKETS_DISABLED);
	assert_int_equal(mbedtls_ssl_set_session(&c.ssl, &saved), 0);
	assert_int_equal(client_handshake(&c), 0);
	const struct dtls_server_stats *st = dtls_server_stats(w->srv);
	assert_int_equal(st->handshakes_resumed, 1);
	assert_int_equal(st->cache_hits, 1);
	assert_string_equal(w->psk_asked, ""); /* no PSK lookup: abbreviated */
	assert_string_equal(dtls_server_peer_identity(w->srv, &w->client_addr), "dev1");
	assert_int_equal(mbedtls_ssl_write(&c.ssl, (const unsigned char *)"resumed", 7), 7);
	assert_memory_equal(w->app, "resumed", 7);
	client_free(&c);

	/* An id the server never issued: a full handshake. */
	w->client_addr.port = 40002;
	w->count = 0;
	saved.id[0] ^= 0xff;
	client_init(&c, w, "dev1", the_key, sizeof(the_key), DTLS_PSK_AES_128_CCM_8);
	mbedtls_ssl_conf_session_tickets(&c.conf, MBEDTLS_SSL_SESSION_TICKETS_DISABLED);
	assert_int_equal(mbedtls_ssl_set_session(&c.ssl, &saved), 0);
	/* The client expects to resume; the server starts a full handshake: the client's
	 * mbedTLS goes along with it (it checks the server's id). */
	assert_int_equal(client_handshake(&c), 0);
	assert_int_equal(st->handshakes_resumed, 1);
	assert_int_equal(st->handshakes_done, 2);
	assert_string_equal(w->psk_asked, "dev1");
	client_free(&c);
	mbedtls_ssl_session_free(&saved);
	dtls_server_destroy(w->srv);
	free(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_get_after_set_and_unknown),
		cmocka_unit_test(test_eviction_at_the_bound),
		cmocka_unit_test(test_expiry),
		cmocka_unit_test(test_many_ids),
		cmocka_unit_test(test_resumption_by_session_id),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
