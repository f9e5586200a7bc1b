/*
 * dtls_wire: an in-memory mbedTLS client wired straight to a dtls_server, shared by the
 * dtls unit tests. The server's datagrams to client_addr are queued for the client; the
 * client's go into dtls_server_input at w->now (the mock clock). Header-only: each test
 * is its own executable.
 */
#ifndef LWM2MD_TEST_DTLS_WIRE_H
#define LWM2MD_TEST_DTLS_WIRE_H

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/ssl.h>
#include <mbedtls/timing.h>

#include "dtls/dtls_server.h"

#define QUEUE 32
#define DGRAM 2048

static const uint8_t the_key[] = { 0x73, 0x65, 0x63, 0x72, 0x65, 0x74 };

/* The server side of the wire and what its hooks saw. */
struct wire {
	struct dtls_server *srv;
	uint64_t now;
	struct addr client_addr;
	uint8_t q[QUEUE][DGRAM]; /* datagrams from the server to the client */
	size_t qlen[QUEUE];
	int head, count;
	uint8_t app[DGRAM]; /* the last decrypted datagram the server got */
	size_t app_len;
	int app_count;
	char psk_asked[80];
};

static int hook_psk(void *ctx, const char *identity, uint8_t key[DTLS_PSK_MAX], size_t *len)
{
	struct wire *w = ctx;
	snprintf(w->psk_asked, sizeof(w->psk_asked), "%s", identity);
	if (strcmp(identity, "dev1") != 0 && strcmp(identity, "dev2") != 0)
		return -ENOENT;
	memcpy(key, the_key, sizeof(the_key));
	*len = sizeof(the_key);
	return 0;
}

static void hook_recv(void *ctx, const struct addr *peer, const uint8_t *data, size_t len)
{
	struct wire *w = ctx;
	(void)peer;
	memcpy(w->app, data, len);
	w->app_len = len;
	w->app_count++;
}

static void hook_send(void *ctx, const struct addr *peer, const uint8_t *data, size_t len)
{
	struct wire *w = ctx;
	if (!addr_equal(peer, &w->client_addr) || w->count == QUEUE || len > DGRAM)
		return;
	int slot = (w->head + w->count) % QUEUE;
	memcpy(w->q[slot], data, len);
	w->qlen[slot] = len;
	w->count++;
}

static int client_send(void *ctx, const unsigned char *buf, size_t len)
{
	struct wire *w = ctx;
	dtls_server_input(w->srv, &w->client_addr, buf, len, w->now);
	return (int)len;
}

static int client_recv(void *ctx, unsigned char *buf, size_t len)
{
	struct wire *w = ctx;
	if (w->count == 0)
		return MBEDTLS_ERR_SSL_WANT_READ;
	size_t n = w->qlen[w->head] < len ? w->qlen[w->head] : len;
	memcpy(buf, w->q[w->head], n);
	w->head = (w->head + 1) % QUEUE;
	w->count--;
	return (int)n;
}

struct client {
	mbedtls_entropy_context entropy;
	mbedtls_ctr_drbg_context drbg;
	mbedtls_ssl_config conf;
	mbedtls_ssl_context ssl;
	mbedtls_timing_delay_context timer;
	int suites[2];
};

static void client_init(struct client *c, struct wire *w, const char *identity,
			const uint8_t *key, size_t key_len, int suite)
{
	memset(c, 0, sizeof(*c));
	mbedtls_entropy_init(&c->entropy);
	mbedtls_ctr_drbg_init(&c->drbg);
	mbedtls_ssl_config_init(&c->conf);
	mbedtls_ssl_init(&c->ssl);
	assert_int_equal(mbedtls_ctr_drbg_seed(&c->drbg, mbedtls_entropy_func, &c->entropy,
					       NULL, 0),
			 0);
	assert_int_equal(mbedtls_ssl_config_defaults(&c->conf, MBEDTLS_SSL_IS_CLIENT,
						     MBEDTLS_SSL_TRANSPORT_DATAGRAM,
						     MBEDTLS_SSL_PRESET_DEFAULT),
			 0);
	mbedtls_ssl_conf_rng(&c->conf, mbedtls_ctr_drbg_random, &c->drbg);
	assert_int_equal(mbedtls_ssl_conf_psk(&c->conf, key, key_len,
					      (const unsigned char *)identity, strlen(identity)),
			 0);
	c->suites[0] = suite;
	mbedtls_ssl_conf_ciphersuites(&c->conf, c->suites);
	assert_int_equal(mbedtls_ssl_setup(&c->ssl, &c->conf), 0);
	mbedtls_ssl_set_bio(&c->ssl, w, client_send, client_recv, NULL);
	mbedtls_ssl_set_timer_cb(&c->ssl, &c->timer, mbedtls_timing_set_delay,
				 mbedtls_timing_get_delay);
}

static void client_free(struct client *c)
{
	mbedtls_ssl_free(&c->ssl);
	mbedtls_ssl_config_free(&c->conf);
	mbedtls_ctr_drbg_free(&c->drbg);
	mbedtls_entropy_free(&c->entropy);
}

/* Runs the client's handshake against the server; returns mbedTLS's last result. */
static int client_handshake(struct client *c)
{
	for (int i = 0; i < 20; i++) {
		int rc = mbedtls_ssl_handshake(&c->ssl);
		if (rc != MBEDTLS_ERR_SSL_WANT_READ && rc != MBEDTLS_ERR_SSL_WANT_WRITE)
			return rc;
	}
	return MBEDTLS_ERR_SSL_TIMEOUT;
}

#endif
