/*
 * dtls_client: mbedTLS glue for the simulator.
 */
#include "dtls_client.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/ssl.h>
#include <mbedtls/timing.h>

#define HANDSHAKE_READ_TIMEOUT_MS 1000

struct dtls_client {
	int fd;
	int suites[3];
	mbedtls_entropy_context entropy;
	mbedtls_ctr_drbg_context drbg;
	mbedtls_ssl_config conf;
	mbedtls_ssl_context ssl;
	mbedtls_timing_delay_context timer;
};

static int bio_send(void *ctx, const unsigned char *buf, size_t len)
{
	struct dtls_client *c = ctx;
	ssize_t n = send(c->fd, buf, len, 0);
	return n < 0 ? MBEDTLS_ERR_SSL_INTERNAL_ERROR : (int)n;
}

/* Blocking receive with a timeout, as mbedTLS's f_recv_timeout wants it. */
static int bio_recv_timeout(void *ctx, unsigned char *buf, size_t len, uint32_t timeout)
{
	struct dtls_client *c = ctx;
	struct pollfd p = { .fd = c->fd, .events = POLLIN };
	int r = poll(&p, 1, timeout ? (int)timeout : -1);
	if (r == 0)
		return MBEDTLS_ERR_SSL_TIMEOUT;
	if (r < 0)
		return MBEDTLS_ERR_SSL_INTERNAL_ERROR;
	ssize_t n = recv(c->fd, buf, len, 0);
	/* ECONNREFUSED: an ICMP port unreachable; let the timer retransmit. */
	return n < 0 ? MBEDTLS_ERR_SSL_WANT_READ : (int)n;
}

int dtls_client_connect(struct dtls_client **out, int fd, const char *identity,
			const uint8_t *key, size_t key_len, int suite, char *err, size_t err_cap)
{
	struct dtls_client *c = calloc(1, sizeof(*c));
	if (!c) {
		snprintf(err, err_cap, "out of memory");
		return MBEDTLS_ERR_SSL_ALLOC_FAILED;
	}
	c->fd = fd;
	if (suite) {
		c->suites[0] = suite;
	} else {
		c->suites[0] = 0xC0A8;
		c->suites[1] = 0x00AE;
	}
	mbedtls_entropy_init(&c->entropy);
	mbedtls_ctr_drbg_init(&c->drbg);
	mbedtls_ssl_config_init(&c->conf);
	mbedtls_ssl_init(&c->ssl);
	int rc = mbedtls_ctr_drbg_seed(&c->drbg, mbedtls_entropy_func, &c->entropy, NULL, 0);
	if (rc == 0)
		rc = mbedtls_ssl_config_defaults(&c->conf, MBEDTLS_SSL_IS_CLIENT,
						 MBEDTLS_SSL_TRANSPORT_DATAGRAM,
						 MBEDTLS_SSL_PRESET_DEFAULT);
	if (rc == 0) {
		mbedtls_ssl_conf_rng(&c->conf, mbedtls_ctr_drbg_random, &c->drbg);
		mbedtls_ssl_conf_ciphersuites(&c->conf, c->suites);
		mbedtls_ssl_conf_read_timeout(&c->conf, HANDSHAKE_READ_TIMEOUT_MS);
		rc = mbedtls_ssl_conf_psk(&c->conf, key, key_len, (const unsigned char *)identity,
					  strlen(identity));
	}
	if (rc == 0)
		rc = mbedtls_ssl_setup(&c->ssl, &c->conf);
	if (rc == 0) {
		mbedtls_ssl_set_bio(&c->ssl, c, bio_send, NULL, bio_recv_timeout);
		mbedtls_ssl_set_timer_cb(&c->ssl, &c->timer, mbedtls_timing_set_delay,
					 mbedtls_timing_get_delay);
		/* mbedTLS retransmits flights on its timer; a read timeout just loops. */
		do
			rc = mbedtls_ssl_handshake(&c->ssl);
		while (rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE);
	}
	if (rc != 0) {
		char why[100];
		mbedtls_strerror(rc, why, sizeof(why));
		snprintf(err, err_cap, "-0x%04x %s", (unsigned)-rc, why);
		dtls_client_close(c);
		return rc;
	}
	*out = c;
	return 0;
}

const char *dtls_client_suite(const struct dtls_client *c)
{
	return mbedtls_ssl_get_ciphersuite(&c->ssl);
}

int dtls_client_send(struct dtls_client *c, const uint8_t *data, size_t len)
{
	int rc = mbedtls_ssl_write(&c->ssl, data, len);
	return rc < 0 ? rc : 0;
}

int dtls_client_recv(struct dtls_client *c, uint8_t *buf, size_t cap, int timeout_ms)
{
	mbedtls_ssl_conf_read_timeout(&c->conf, (uint32_t)timeout_ms);
	int rc;
	do
		rc = mbedtls_ssl_read(&c->ssl, buf, cap);
	while (rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE);
	if (rc == MBEDTLS_ERR_SSL_TIMEOUT)
		return 0;
	return rc;
}

void dtls_client_close(struct dtls_client *c)
{
	if (!c)
		return;
	if (c->ssl.state == MBEDTLS_SSL_HANDSHAKE_OVER)
		mbedtls_ssl_close_notify(&c->ssl);
	mbedtls_ssl_free(&c->ssl);
	mbedtls_ssl_config_free(&c->conf);
	mbedtls_ctr_drbg_free(&c->drbg);
	mbedtls_entropy_free(&c->entropy);
	free(c);
}
