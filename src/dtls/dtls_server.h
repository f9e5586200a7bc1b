/*
 * dtls_server: DTLS 1.2 with pre-shared keys for every peer of one UDP socket (mbedTLS).
 *
 * It sits between net/ and coap/ in docs/architecture.md: datagrams from the socket go in
 * through dtls_server_input, decrypted application data comes out through the recv hook
 * (to the CoAP endpoint), and CoAP datagrams go back through dtls_server_send. Like
 * coap_ep it has no clock or socket of its own: every entry point takes "now".
 *
 * What it guards:
 *  - Nothing is allocated for a peer until it has echoed a cookie: a ClientHello from an
 *    unknown address is answered by one shared mbedTLS context with a HelloVerifyRequest
 *    (no bigger than the ClientHello) and forgotten. Only a ClientHello carrying a valid
 *    cookie gets a session, and at most max_handshakes may be in progress at once,
 *    max_handshakes_per_addr from one address; a newcomer past either limit takes the
 *    slot of the handshake that has waited longest for its peer (if that peer has been
 *    silent for a second; else the newcomer is refused, before anything is sent to it),
 *    so sources that complete the cookie exchange and go silent cannot keep real
 *    devices out.
 *  - The PSK identity is looked up through the psk hook (the device's node_id → its
 *    secret); an unknown identity or a device not allowed DTLS fails the handshake with an
 *    alert. The identity of each session is what the CoAP layer above is told.
 *  - Handshakes have a deadline, and a shorter one for a peer that stops moving the
 *    handshake on; flights are retransmitted by mbedTLS on our clock.
 *  - Wrong keys: after psk_max_failures for one identity within a window, that
 *    identity's handshakes are refused for a backoff that doubles up to a cap; the
 *    right key works again when it ends (a brute-force throttle, not a lockout).
 *  - One session per identity: a device that handshakes again (new address, restart)
 *    replaces its old session.
 *  - Idle sessions hibernate: after idle_ms without traffic the mbedTLS context is
 *    serialized (mbedtls_ssl_context_save, a few hundred bytes) and freed; the next record
 *    from the peer, or the next datagram the server sends it, restores it.
 *  - Resumption: session ids (an in-memory cache, a hash: O(1) per lookup) and session
 *    tickets, so a device waking from sleep pays an abbreviated handshake.
 *  - Memory reuse: a context whose session ends or hibernates is reset and pooled (up to
 *    context_pool) for the next handshake, so new sessions do not fault in fresh pages.
 */
#ifndef LWM2MD_DTLS_SERVER_H
#define LWM2MD_DTLS_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/addr.h"

#define DTLS_IDENTITY_MAX 64
#define DTLS_PSK_MAX 32 /* bytes: a secret of up to 64 hex characters */

/* IANA ids of the two suites LwM2M 1.1 devices use (Transport §5.2.8.2). */
#define DTLS_PSK_AES_128_CCM_8 0xC0A8
#define DTLS_PSK_AES_128_CBC_SHA256 0x00AE

struct dtls_server;

struct dtls_server_config {
	/* Suites offered, in the server's order of preference, 0-terminated; only the two
	 * above are accepted. Default: CCM_8 then CBC_SHA256. */
	int ciphersuites[3];
	/* Handshakes in progress (docs/internals/dtls.md, "Handshake slots"): at most
	 * max_handshakes in all and max_handshakes_per_addr from one IP address; past
	 * either, the one the peer moved on least recently makes room for the new one if
	 * its peer has been silent for a second, else the new one is refused. */
	size_t max_handshakes;          /* default 256 */
	size_t max_handshakes_per_addr; /* default 16 */
	uint32_t handshake_timeout_ms;  /* whole handshake; default 30000 */
	uint32_t handshake_stall_ms;    /* without progress from the peer; default 10000 */
	/* Wrong keys ("Wrong keys"): psk_max_failures within psk_failure_window_ms refuse
	 * the identity for psk_backoff_ms, doubling with each further backoff up to
	 * psk_backoff_max_ms; at most psk_backoff_entries identities are tracked. */
	uint32_t psk_max_failures;      /* default 5 */
	uint32_t psk_failure_window_ms; /* default 60000 */
	uint32_t psk_backoff_ms;        /* default 30000 */
	uint32_t psk_backoff_max_ms;    /* default 300000 */
	size_t psk_backoff_entries;     /* default 65536 */
	uint32_t idle_ms;              /* hibernate after this long idle; default 60000 */
	size_t session_cache;          /* session-id cache entries; default 10000 */
	/* Reset mbedTLS contexts (~36 KB each with their record buffers) kept for new
	 * handshakes and wake-ups to reuse; default 256 (as max_handshakes), 0: none. */
	size_t context_pool;
};

struct dtls_server_hooks {
	/* The key of identity: 0 with key/key_len filled, or -ENOENT (unknown identity,
	 * or a device not allowed DTLS) which fails the handshake. */
	int (*psk)(void *ctx, const char *identity, uint8_t key[DTLS_PSK_MAX], size_t *key_len);
	/* Decrypted application data (one CoAP datagram) from an established session. */
	void (*recv)(void *ctx, const struct addr *peer, const uint8_t *data, size_t len);
	/* A datagram to put on the wire. */
	void (*send)(void *ctx, const struct addr *peer, const uint8_t *data, size_t len);
};

struct dtls_server_stats {
	uint64_t hello_verify_sent;    /* cookie requests to unverified ClientHellos */
	uint64_t dropped_unverified;   /* datagrams from unknown peers that were not a hello */
	uint64_t handshakes_started;   /* cookie verified: a session was allocated */
	uint64_t handshakes_refused;   /* cookie verified but no slot could be freed */
	uint64_t handshakes_evicted;   /* ended to make room for a newer one */
	uint64_t handshakes_done;      /* full handshakes completed */
	uint64_t handshakes_resumed;   /* abbreviated handshakes completed */
	uint64_t fail_unknown_identity;
	uint64_t fail_bad_key;         /* the peer's Finished or MAC did not verify */
	uint64_t fail_timeout;
	uint64_t fail_stalled;         /* no progress from the peer for handshake_stall_ms */
	uint64_t fail_throttled;       /* the identity was backing off after wrong keys */
	uint64_t fail_other;
	uint64_t closed_by_peer;       /* close_notify or a fatal alert */
	uint64_t hibernations;
	uint64_t wakeups;
	uint64_t sessions_live;        /* gauge: sessions with an mbedTLS context */
	uint64_t sessions_hibernated;  /* gauge */
	uint64_t handshakes_in_progress; /* gauge */
	uint64_t hibernated_bytes;     /* gauge: the hibernated sessions' records and structs */
	uint64_t psk_lockouts;         /* backoffs started after wrong keys */
	uint64_t psk_identities_tracked; /* gauge: identities with recent wrong keys */
	uint64_t contexts_created;     /* mbedTLS contexts allocated and set up */
	uint64_t contexts_reused;      /* ... taken from the pool instead */
	uint64_t contexts_pooled;      /* gauge: reset contexts in the pool */
	uint64_t cache_entries;        /* gauge: sessions in the session-id cache */
	uint64_t cache_hits;           /* ClientHellos whose session id was found */
};

void dtls_server_config_defaults(struct dtls_server_config *cfg);
/* Sets cfg->ciphersuites from a comma-separated list of mbedTLS names
 * (TLS-PSK-WITH-AES-128-CCM-8, TLS-PSK-WITH-AES-128-CBC-SHA256). Returns 0 or -EINVAL. */
int dtls_server_parse_ciphersuites(struct dtls_server_config *cfg, const char *list);

/* Returns 0, -ENOMEM, or -EIO when mbedTLS could not be set up (logged). */
int dtls_server_create(struct dtls_server **out, const struct dtls_server_config *cfg,
		       const struct dtls_server_hooks *hooks, void *ctx);
/* Frees everything without sending anything (call dtls_server_close_all first for a
 * polite shutdown). Accepts NULL. */
void dtls_server_destroy(struct dtls_server *srv);

/* A datagram from peer. */
void dtls_server_input(struct dtls_server *srv, const struct addr *peer, const uint8_t *data,
		       size_t len, uint64_t now_ms);
/* Encrypts one datagram for peer's session (restoring it if hibernated). Returns 0, or
 * -ENOTCONN when the peer has no established session. */
int dtls_server_send(struct dtls_server *srv, const struct addr *peer, const uint8_t *data,
		     size_t len, uint64_t now_ms);
/* Retransmits handshake flights, ends handshakes past their deadline, hibernates idle
 * sessions. */
void dtls_server_tick(struct dtls_server *srv, uint64_t now_ms);

/* The PSK identity of peer's established session, or NULL. Valid until the next call. */
const char *dtls_server_peer_identity(struct dtls_server *srv, const struct addr *peer);
/* The ciphersuite of identity's established session, live or hibernated, by its IANA
 * name as mbedTLS spells it ("TLS-PSK-WITH-AES-128-CCM-8"); NULL when it has none. The
 * string is static. */
const char *dtls_server_identity_ciphersuite(struct dtls_server *srv, const char *identity);
/* Ends the session of identity (live or hibernated), with close_notify when live.
 * Returns 0 or -ENOENT. */
int dtls_server_close_identity(struct dtls_server *srv, const char *identity, uint64_t now_ms);

/* Persistence across a restart: dtls_server_save_all serializes every established
 * session (hibernating the live ones) and calls cb for each; dtls_server_restore adds a
 * hibernated session from such a record. */
int dtls_server_save_all(struct dtls_server *srv,
			 int (*cb)(void *ctx, const char *identity, const struct addr *peer,
				   const uint8_t *data, size_t len),
			 void *ctx);
int dtls_server_restore(struct dtls_server *srv, const char *identity, const struct addr *peer,
			const uint8_t *data, size_t len, uint64_t now_ms);

/* The counters; the pool's and the cache's are brought up to date by the call. */
const struct dtls_server_stats *dtls_server_stats(struct dtls_server *srv);

#endif
