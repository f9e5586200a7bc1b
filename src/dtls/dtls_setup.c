/*
 * dtls_setup: a DTLS server's configuration, its mbedTLS set-up (one config shared by
 * every session: DTLS 1.2 only, our PSK suites, cookies, anti-replay, flight timers on our
 * clock, the session-id cache (dtls_cache.c) and tickets) and its teardown. The sessions themselves are
 * dtls_server.c's.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/error.h>

#include "dtls/dtls_internal.h"
#include "util/log.h"

/* mbedTLS's flight retransmission: 1 s doubling up to 8 s, so 15 s before it gives up. */
#define FLIGHT_TIMEOUT_MIN_MS 1000
#define FLIGHT_TIMEOUT_MAX_MS 8000
#define TICKET_LIFETIME_S 86400
/* A cached session id is good for a day, as it was with mbedtls_ssl_cache. */
#define SESSION_CACHE_TIMEOUT_MS (86400 * 1000ULL)

void dtls_server_config_defaults(struct dtls_server_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->ciphersuites[0] = DTLS_PSK_AES_128_CCM_8;
	cfg->ciphersuites[1] = DTLS_PSK_AES_128_CBC_SHA256;
	cfg->max_handshakes = 256;
	cfg->max_handshakes_per_addr = 16;
	cfg->handshake_timeout_ms = 30000;
	cfg->handshake_stall_ms = 10000;
	cfg->psk_max_failures = 5;
	cfg->psk_failure_window_ms = 60000;
	cfg->psk_backoff_ms = 30000;
	cfg->psk_backoff_max_ms = 300000;
	cfg->psk_backoff_entries = 65536;
	cfg->idle_ms = 60000;
	cfg->session_cache = 10000;
	cfg->context_pool = 256;
}

int dtls_server_parse_ciphersuites(struct dtls_server_config *cfg, const char *list)
{
	int suites[3] = { 0 };
	size_t n = 0;
	const char *p = list;
	while (*p) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		char name[64];
		if (len == 0 || len >= sizeof(name) || n == 2 || (end && end[1] == '\0'))
			return -EINVAL;
		memcpy(name, p, len);
		name[len] = '\0';
		int id = mbedtls_ssl_get_ciphersuite_id(name);
		if (id != DTLS_PSK_AES_128_CCM_8 && id != DTLS_PSK_AES_128_CBC_SHA256)
			return -EINVAL;
		if (n == 1 && suites[0] == id)
			return -EINVAL;
		suites[n++] = id;
		p = end ? end + 1 : p + len;
	}
	if (n == 0)
		return -EINVAL;
	memcpy(cfg->ciphersuites, suites, sizeof(suites));
	return 0;
}

int dtls_server_create(struct dtls_server **out, const struct dtls_server_config *cfg,
		       const struct dtls_server_hooks *hooks, void *ctx)
{
	struct dtls_server *srv = calloc(1, sizeof(*srv));
	if (!srv)
		return -ENOMEM;
	if (cfg)
		srv->cfg = *cfg;
	else
		dtls_server_config_defaults(&srv->cfg);
	srv->hooks = *hooks;
	srv->ctx = ctx;
	srv->verifier.srv = srv;
	list_init(&srv->verifier.link);
	list_init(&srv->handshakes);
	list_init(&srv->live);
	list_init(&srv->masters_fifo);
	list_init(&srv->backoff_lru);
	mbedtls_entropy_init(&srv->entropy);
	mbedtls_ctr_drbg_init(&srv->drbg);
	mbedtls_ssl_config_init(&srv->conf);
	mbedtls_ssl_cookie_init(&srv->cookies);
	mbedtls_ssl_ticket_init(&srv->tickets);
	if (dtls_cache_init(&srv->cache, srv->cfg.session_cache, SESSION_CACHE_TIMEOUT_MS,
			    &srv->now) ||
	    dtls_pool_init(&srv->pool, srv->cfg.context_pool) || hmap_init(&srv->by_peer) || hmap_init(&srv->by_identity) || hmap_init(&srv->masters) ||
	    hmap_init(&srv->sources) || hmap_init(&srv->backoff)) {
		dtls_server_destroy(srv);
		return -ENOMEM;
	}

	static const char pers[] = "lwm2md dtls";
	int rc = mbedtls_ctr_drbg_seed(&srv->drbg, mbedtls_entropy_func, &srv->entropy,
				       (const unsigned char *)pers, sizeof(pers) - 1);
	if (rc == 0)
		rc = mbedtls_ssl_config_defaults(&srv->conf, MBEDTLS_SSL_IS_SERVER,
						 MBEDTLS_SSL_TRANSPORT_DATAGRAM,
						 MBEDTLS_SSL_PRESET_DEFAULT);
	if (rc == 0)
		rc = mbedtls_ssl_cookie_setup(&srv->cookies, mbedtls_ctr_drbg_random, &srv->drbg);
	if (rc == 0)
		rc = mbedtls_ssl_ticket_setup(&srv->tickets, mbedtls_ctr_drbg_random, &srv->drbg,
					      MBEDTLS_CIPHER_AES_256_GCM, TICKET_LIFETIME_S);
	if (rc != 0) {
		char why[128];
		mbedtls_strerror(rc, why, sizeof(why));
		LOG_ERROR("dtls", "mbedTLS set-up failed: %s", why);
		dtls_server_destroy(srv);
		return -EIO;
	}
	mbedtls_ssl_conf_rng(&srv->conf, mbedtls_ctr_drbg_random, &srv->drbg);
	/* DTLS 1.2 only (TLS 1.2 is minor version 3), and only our suites. */
	mbedtls_ssl_conf_min_version(&srv->conf, MBEDTLS_SSL_MAJOR_VERSION_3,
				     MBEDTLS_SSL_MINOR_VERSION_3);
	mbedtls_ssl_conf_max_version(&srv->conf, MBEDTLS_SSL_MAJOR_VERSION_3,
				     MBEDTLS_SSL_MINOR_VERSION_3);
	mbedtls_ssl_conf_ciphersuites(&srv->conf, srv->cfg.ciphersuites);
	mbedtls_ssl_conf_dtls_cookies(&srv->conf, mbedtls_ssl_cookie_write, mbedtls_ssl_cookie_check,
				      &srv->cookies);
	mbedtls_ssl_conf_dtls_anti_replay(&srv->conf, MBEDTLS_SSL_ANTI_REPLAY_ENABLED);
	mbedtls_ssl_conf_handshake_timeout(&srv->conf, FLIGHT_TIMEOUT_MIN_MS, FLIGHT_TIMEOUT_MAX_MS);
	mbedtls_ssl_conf_psk_cb(&srv->conf, dtls_on_psk, srv);
	mbedtls_ssl_conf_session_cache(&srv->conf, &srv->cache, dtls_cache_get, dtls_cache_set);
	mbedtls_ssl_conf_session_tickets_cb(&srv->conf, mbedtls_ssl_ticket_write,
					    mbedtls_ssl_ticket_parse, &srv->tickets);
	*out = srv;
	return 0;
}

static void free_session_node(struct hmap_node *node, void *ctx)
{
	(void)ctx;
	dtls_session_free(container_of(node, struct dtls_session, by_peer));
}

void dtls_server_destroy(struct dtls_server *srv)
{
	if (!srv)
		return;
	if (srv->by_peer.buckets)
		hmap_for_each(&srv->by_peer, free_session_node, NULL);
	hmap_destroy(&srv->by_peer);
	hmap_destroy(&srv->by_identity);
	dtls_masters_destroy(srv);
	dtls_handshakes_destroy(srv); /* the sessions went first, so no source is left */
	dtls_backoff_destroy(srv);
	if (srv->verifier.ssl) {
		mbedtls_ssl_free(srv->verifier.ssl);
		free(srv->verifier.ssl);
	}
	mbedtls_ssl_ticket_free(&srv->tickets);
	dtls_cache_destroy(&srv->cache);
	dtls_pool_destroy(&srv->pool);
	mbedtls_ssl_cookie_free(&srv->cookies);
	mbedtls_ssl_config_free(&srv->conf);
	mbedtls_ctr_drbg_free(&srv->drbg);
	mbedtls_entropy_free(&srv->entropy);
	free(srv);
}
