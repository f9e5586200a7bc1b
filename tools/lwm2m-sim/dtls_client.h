/*
 * dtls_client: the simulator's DTLS 1.2 PSK client on mbedTLS, over a UDP socket
 * connect()ed to the server, with blocking calls bounded by timeouts (a device does one
 * thing at a time, so the simulator needs no event loop).
 */
#ifndef LWM2M_SIM_DTLS_CLIENT_H
#define LWM2M_SIM_DTLS_CLIENT_H

#include <stddef.h>
#include <stdint.h>

struct addr;
struct dtls_client;

/* IANA ids of the two suites LwM2M 1.1 PSK devices use (as src/dtls/dtls_server.h). */
#define DTLS_CLIENT_SUITE_CCM_8 0xC0A8 /* TLS-PSK-WITH-AES-128-CCM-8 (RFC 6655) */
#define DTLS_CLIENT_SUITE_CBC 0x00AE   /* TLS-PSK-WITH-AES-128-CBC-SHA256 (RFC 5487) */

/* connect()s fd (a bound UDP socket) to server and handshakes with the PSK identity/key,
 * offering only suite, or both suites (CCM_8 first) when suite is 0. The key is copied.
 * The handshake gives up after timeout_ms in all (mbedTLS retransmits its flights
 * meanwhile, RFC 6347 §4.2.4). On success *out holds a client that the caller frees with
 * dtls_client_free; fd stays the caller's. Returns 0, or a negative mbedTLS error with
 * "-0xXXXX <mbedtls_strerror text>" written to err (-errno and "connect: <strerror>" when
 * connect() failed). */
int dtls_client_connect(struct dtls_client **out, int fd, const struct addr *server,
			const char *identity, const uint8_t *key, size_t key_len, int suite,
			int timeout_ms, char *err, size_t err_cap);

/* The suite the handshake settled on, e.g. "TLS-PSK-WITH-AES-128-CCM-8". */
const char *dtls_client_suite(const struct dtls_client *c);

/* Sends one datagram of application data. Returns 0 or a negative mbedTLS error. */
int dtls_client_send(struct dtls_client *c, const uint8_t *data, size_t len);

/* Waits up to timeout_ms for one datagram of application data, copied into buf. Returns
 * its length, -ETIMEDOUT, or a negative mbedTLS error (e.g. the peer's close_notify). */
int dtls_client_recv(struct dtls_client *c, uint8_t *buf, size_t cap, int timeout_ms);

/* Sends close_notify (RFC 5246 §7.2.1) if the session is up. Accepts NULL. */
void dtls_client_close(struct dtls_client *c);

/* Frees the session and its keys; does not close the socket. Accepts NULL. */
void dtls_client_free(struct dtls_client *c);

#endif
