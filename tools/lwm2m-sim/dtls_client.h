/*
 * dtls_client: the simulator's DTLS 1.2 PSK client on mbedTLS, over a connected UDP
 * socket, with blocking calls bounded by timeouts (a device does one thing at a time).
 */
#ifndef LWM2M_SIM_DTLS_CLIENT_H
#define LWM2M_SIM_DTLS_CLIENT_H

#include <stddef.h>
#include <stdint.h>

struct dtls_client;

/* suite: 0xC0A8 (CCM_8), 0x00AE (CBC_SHA256), or 0 to offer both. Handshakes on fd (a
 * UDP socket connect()ed to the server). Returns 0, or an mbedTLS error code (negative)
 * with a description in err. */
int dtls_client_connect(struct dtls_client **out, int fd, const char *identity,
			const uint8_t *key, size_t key_len, int suite, char *err, size_t err_cap);
/* The suite the handshake settled on, e.g. "TLS-PSK-WITH-AES-128-CCM-8". */
const char *dtls_client_suite(const struct dtls_client *c);
/* Sends one datagram of application data. Returns 0 or a negative mbedTLS error. */
int dtls_client_send(struct dtls_client *c, const uint8_t *data, size_t len);
/* Waits up to timeout_ms for one datagram: its length, 0 on timeout, < 0 on error. */
int dtls_client_recv(struct dtls_client *c, uint8_t *buf, size_t cap, int timeout_ms);
/* Sends close_notify and frees. Accepts NULL. */
void dtls_client_close(struct dtls_client *c);

#endif
