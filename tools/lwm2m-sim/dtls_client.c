/*
 * dtls_client: mbedTLS glue for the simulator (see dtls_client.h).
 *
 * mbedTLS does the DTLS work, including the retransmission of handshake flights on its
 * timer; this file supplies the socket I/O it calls (no mbedtls_net, so the caller keeps
 * its own socket) and bounds every blocking call with a deadline, so that the handshake
 * and each CoAP wait end on time whatever the peer does.
 */
#include "dtls_client.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h> /* its error codes only: the socket I/O is ours */
#include <mbedtls/ssl.h>
#include <mbedtls/timing.h>

#include "util/addr.h"

struct dtls_client {
	int fd;
	bool established; /* handshake over: close_notify is due on close */
	int64_t deadline; /* CLOCK_MONOTONIC ms at which the current blocking call ends */
	int suites[3];	  /* 0-terminated, as mbedtls_ssl_conf_ciphersuites wants */
	mbedtls_entropy_context entropy;
	mbedtls_ctr_drbg_context drbg;
	mbedtls_ssl_config conf;
	mbedtls_ssl_context ssl;
	mbedtls_timing_delay_context timer;
};

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int bio_send(void *ctx, const unsigned char *buf, size_t len)
{
	struct dtls_client *c = ctx;
	ssize_t n = send(c->fd, buf, len, 0);
	if (n < 0)
		/* ECONNREFUSED is an earlier ICMP port unreachable: the datagram is lost, as on
		 * any UDP path, and retransmission deals with it. */
		return errno == ECONNREFUSED ? (int)len : MBEDTLS_ERR_NET_SEND_FAILED;
	return (int)n;
}

/* mbedTLS's f_recv_timeout: waits up to timeout ms (0: no limit of its own), but never
 * past c->deadline. MBEDTLS_ERR_SSL_TIMEOUT makes mbedTLS resend its last flight during
 * the handshake, and makes mbedtls_ssl_read return it afterwards. */
static int bio_recv_timeout(void *ctx, unsigned char *buf, size_t len, uint32_t timeout)
{
	struct dtls_client *c = ctx;
	int64_t left = c->deadline - now_ms();
	if (left < 0)
		left = 0;
	if (timeout != 0 && timeout < left)
		left = timeout;
	struct pollfd p = {.fd = c->fd, .events = POLLIN};
	int r = poll(&p, 1, (int)left);
	if (r == 0)
		return MBEDTLS_ERR_SSL_TIMEOUT;
	if (r < 0)
		return errno == EINTR ? MBEDTLS_ERR_SSL_WANT_READ : MBEDTLS_ERR_NET_RECV_FAILED;
	ssize_t n = recv(c->fd, buf, len, 0);
	/* ECONNREFUSED: an ICMP port unreachable (no server yet); wait on, the timer will
	 * retransmit. */
	if (n < 0)
		return errno == ECONNREFUSED || errno == EINTR ? MBEDTLS_ERR_SSL_WANT_READ
							       : MBEDTLS_ERR_NET_RECV_FAILED;
	return (int)n;
}

static void format_error(int rc, char *err, size_t err_cap)
{
	char why[128];
	mbedtls_strerror(rc, why, sizeof(why));
	snprintf(err, err_cap, "-0x%04X %s", (unsigned)-rc, why);
}

/* Sets up the config and the session; 0 or a negative mbedTLS error. */
static int setup(struct dtls_client *c, const char *identity, const uint8_t *key, size_t key_len)
{
	int rc = mbedtls_ctr_drbg_seed(&c->drbg, mbedtls_entropy_func, &c->entropy,
				       (const unsigned char *)"lwm2m-sim", 9);
	if (rc != 0)
		return rc;
	rc =
	    mbedtls_ssl_config_defaults(&c->conf, MBEDTLS_SSL_IS_CLIENT,
					MBEDTLS_SSL_TRANSPORT_DATAGRAM, MBEDTLS_SSL_PRESET_DEFAULT);
	if (rc != 0)
		return rc;
	mbedtls_ssl_conf_rng(&c->conf, mbedtls_ctr_drbg_random, &c->drbg);
	mbedtls_ssl_conf_ciphersuites(&c->conf, c->suites);
	/* read_timeout stays 0: bio_recv_timeout bounds each read by c->deadline instead,
	 * which lets every call have its own timeout without touching the shared config. */
	rc = mbedtls_ssl_conf_psk(&c->conf, key, key_len, (const unsigned char *)identity,
				  strlen(identity));
	if (rc != 0)
		return rc;
	rc = mbedtls_ssl_setup(&c->ssl, &c->conf);
	if (rc != 0)
		return rc;
	mbedtls_ssl_set_bio(&c->ssl, c, bio_send, NULL, bio_recv_timeout);
	mbedtls_ssl_set_timer_cb(&c->ssl, &c->timer, mbedtls_timing_set_delay,
				 mbedtls_timing_get_delay);
	return 0;
}

int dtls_client_connect(struct dtls_client **out, int fd, const struct addr *server,
			const char *identity, const uint8_t *key, size_t key_len, int suite,
			int timeout_ms, char *err, size_t err_cap)
{
	*out = NULL;
	struct sockaddr_storage ss;
	size_t sl = addr_to_sockaddr(server, &ss);
	/* Connected, the socket only hears the server, and send()/recv() suffice. */
	if (connect(fd, (struct sockaddr *)&ss, (socklen_t)sl) != 0) {
		int e = errno;
		snprintf(err, err_cap, "connect: %s", strerror(e));
		return -e;
	}
	struct dtls_client *c = calloc(1, sizeof(*c));
	if (!c) {
		format_error(MBEDTLS_ERR_SSL_ALLOC_FAILED, err, err_cap);
		return MBEDTLS_ERR_SSL_ALLOC_FAILED;
	}
	c->fd = fd;
	if (suite) {
		c->suites[0] = suite;
	} else {
		c->suites[0] = DTLS_CLIENT_SUITE_CCM_8;
		c->suites[1] = DTLS_CLIENT_SUITE_CBC;
	}
	mbedtls_entropy_init(&c->entropy);
	mbedtls_ctr_drbg_init(&c->drbg);
	mbedtls_ssl_config_init(&c->conf);
	mbedtls_ssl_init(&c->ssl);

	int rc = setup(c, identity, key, key_len);
	c->deadline = now_ms() + timeout_ms;
	while (rc == 0) {
		rc = mbedtls_ssl_handshake(&c->ssl);
		/* WANT_READ: a flight was resent, or an ICMP error came; go on until the
		 * deadline. mbedTLS itself gives up (MBEDTLS_ERR_SSL_TIMEOUT) after its 60 s
		 * maximum retransmission interval. */
		if (rc != MBEDTLS_ERR_SSL_WANT_READ && rc != MBEDTLS_ERR_SSL_WANT_WRITE)
			break;
		rc = now_ms() < c->deadline ? 0 : MBEDTLS_ERR_SSL_TIMEOUT;
	}
	if (rc != 0) {
		format_error(rc, err, err_cap);
		dtls_client_free(c);
		return rc;
	}
	c->established = true;
	*out = c;
	return 0;
}

const char *dtls_client_suite(const struct dtls_client *c)
{
	return mbedtls_ssl_get_ciphersuite(&c->ssl);
}

int dtls_client_send(struct dtls_client *c, const uint8_t *data, size_t len)
{
	int rc;
	do
		rc = mbedtls_ssl_write(&c->ssl, data, len);
	while (rc == MBEDTLS_ERR_SSL_WANT_WRITE);
	return rc < 0 ? rc : 0;
}

int dtls_client_recv(struct dtls_client *c, uint8_t *buf, size_t cap, int timeout_ms)
{
	c->deadline = now_ms() + timeout_ms;
	for (;;) {
		int rc = mbedtls_ssl_read(&c->ssl, buf, cap);
		if (rc == MBEDTLS_ERR_SSL_TIMEOUT)
			return -ETIMEDOUT;
		/* WANT_READ: an ICMP error or a record that carried no application data. */
		if (rc != MBEDTLS_ERR_SSL_WANT_READ && rc != MBEDTLS_ERR_SSL_WANT_WRITE)
			return rc;
		if (now_ms() >= c->deadline)
			return -ETIMEDOUT;
	}
}

void dtls_client_close(struct dtls_client *c)
{
	if (!c || !c->established)
		return;
	/* One alert datagram; if it is lost, the server's idle timeout cleans up. */
	mbedtls_ssl_close_notify(&c->ssl);
	c->established = false;
}

void dtls_client_free(struct dtls_client *c)
{
	if (!c)
		return;
	/* The *_free functions zeroize what they held (keys, DRBG state). */
	mbedtls_ssl_free(&c->ssl);
	mbedtls_ssl_config_free(&c->conf);
	mbedtls_ctr_drbg_free(&c->drbg);
	mbedtls_entropy_free(&c->entropy);
	free(c);
}
