/*
 * dtls_internal: the structures shared by the files of src/dtls, not for use outside it.
 *
 *   dtls_server.c      mbedTLS glue: the verifier, sessions, records in and out,
 *                      hibernation (docs/internals/dtls.md, "A session's life")
 *   dtls_setup.c       configuration, mbedTLS set-up and teardown
 *   dtls_handshakes.c  the handshake slots: who gets one, who loses one, and when a
 *                      handshake that stopped moving ends ("Handshake slots")
 *   dtls_backoff.c     the per-identity backoff after wrong keys ("Wrong keys")
 *   dtls_cache.c       the session-id cache (a hash, O(1) per operation)
 *   dtls_pool.c        the pool of reset mbedTLS contexts new sessions reuse
 */
#ifndef LWM2MD_DTLS_INTERNAL_H
#define LWM2MD_DTLS_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/ssl.h>
#include <mbedtls/ssl_cookie.h>
#include <mbedtls/ssl_ticket.h>

#include "dtls/dtls_server.h"
#include "util/hash.h"

enum session_state { SESSION_HANDSHAKE, SESSION_LIVE, SESSION_HIBERNATED };

/* Why the PSK callback failed a handshake, beside mbedTLS's own error codes (which are
 * negative). */
#define DTLS_FAIL_THROTTLED 1

/* A doubly linked list with a sentinel; a node not in a list points to itself. */
struct list {
	struct list *prev, *next;
};

static inline void list_init(struct list *l)
{
	l->prev = l->next = l;
}

static inline bool list_empty(const struct list *l)
{
	return l->next == l;
}

static inline void list_remove(struct list *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	list_init(n);
}

static inline void list_push_back(struct list *head, struct list *n)
{
	n->prev = head->prev;
	n->next = head;
	head->prev->next = n;
	head->prev = n;
}

/* dtls_cache.c: the session-id cache behind mbedtls_ssl_conf_session_cache. */
struct dtls_cache {
	struct hmap by_id;
	struct list order;     /* entries, oldest set first */
	size_t count, max;
	uint64_t timeout_ms;   /* 0: entries never expire */
	const uint64_t *now;   /* the owner's clock, in ms */
	size_t bytes;          /* the entries' memory */
	uint64_t hits, misses, evicted, expired;
};

/* An empty cache of at most max entries (0: nothing is cached). 0 or -ENOMEM. */
int dtls_cache_init(struct dtls_cache *c, size_t max, uint64_t timeout_ms, const uint64_t *now);
void dtls_cache_destroy(struct dtls_cache *c);
/* mbedTLS's f_get_cache: 0 with the session of session->id loaded into session, else 1. */
int dtls_cache_get(void *cache, mbedtls_ssl_session *session);
/* mbedTLS's f_set_cache: keeps a copy of session under its id (replacing one of the same
 * id; evicting the oldest when full). 0, or 1 when it was not kept. */
int dtls_cache_set(void *cache, const mbedtls_ssl_session *session);

/* dtls_pool.c: mbedTLS contexts set up on the server's config (record buffers included),
 * reset and kept for the next session, so that a new handshake reuses memory already
 * touched instead of faulting in fresh pages. */
struct dtls_pool {
	mbedtls_ssl_context **free; /* reset contexts, up to max */
	size_t count, max;
	uint64_t reused, created;
};

/* The pool keeps at most max contexts (0: none). 0 or -ENOMEM. */
int dtls_pool_init(struct dtls_pool *p, size_t max);
/* Frees the kept contexts. */
void dtls_pool_destroy(struct dtls_pool *p);
/* A context ready for a new session (reset, nothing of any earlier session in it; its
 * bio and timer callbacks are the caller's to set), or NULL on -ENOMEM. */
mbedtls_ssl_context *dtls_pool_get(struct dtls_pool *p, const mbedtls_ssl_config *conf);
/* Gives ssl back (NULL is ignored): reset and kept, or freed when the pool is full. */
void dtls_pool_put(struct dtls_pool *p, mbedtls_ssl_context *ssl);
/* Frees ssl without keeping it: for a context mbedTLS left in an unspecified state (a
 * failed mbedtls_ssl_context_load), which a reset cannot be trusted to clean (it crashes
 * on one). */
void dtls_pool_discard(mbedtls_ssl_context *ssl);

/* The handshakes in progress from one IP address (any port), least recently moved first. */
struct dtls_source {
	struct hmap_node node;
	struct addr ip; /* port 0 */
	size_t count;
	struct list handshakes;
};

struct dtls_session {
	struct hmap_node by_peer;
	struct hmap_node by_identity; /* only while in_identity_map */
	/* In srv->handshakes (least recently moved first) or srv->live (least recently
	 * used first). */
	struct list link;
	struct dtls_server *srv;
	struct addr peer;
	char identity[DTLS_IDENTITY_MAX + 1];
	uint8_t state;       /* enum session_state */
	bool in_identity_map;
	bool psk_looked_up;  /* this handshake ran the PSK callback: a full handshake */
	bool no_hibernate;   /* a CBC suite: mbedTLS serializes AEAD sessions only */
	uint16_t suite;      /* the IANA id of its ciphersuite once established, else 0 */
	int fail_reason;     /* what the PSK callback saw, for the failure count */
	mbedtls_ssl_context *ssl; /* NULL while hibernated */
	uint8_t *saved;      /* the serialized context while hibernated */
	size_t saved_len;
	const uint8_t *in;   /* the datagram being fed to mbedTLS */
	size_t in_len;
	bool timer_set;
	uint64_t timer_int_at, timer_fin_at;
	uint64_t deadline;    /* end of the handshake */
	uint64_t last_active;
	/* While in SESSION_HANDSHAKE: its address's entry, its place in that entry's list,
	 * and when the peer last moved the handshake on. */
	struct dtls_source *source;
	struct list source_link;
	uint64_t progress_at;
};

struct dtls_server {
	struct dtls_server_config cfg;
	struct dtls_server_hooks hooks;
	void *ctx;
	mbedtls_entropy_context entropy;
	mbedtls_ctr_drbg_context drbg;
	mbedtls_ssl_config conf;
	mbedtls_ssl_cookie_ctx cookies;
	struct dtls_cache cache;
	struct dtls_pool pool;
	mbedtls_ssl_ticket_context tickets;
	struct hmap by_peer;
	struct hmap by_identity;
	struct list handshakes;
	struct list live;
	struct hmap sources;          /* struct dtls_source by IP address */
	struct dtls_session verifier; /* the shared context for unverified ClientHellos */
	struct hmap masters;
	struct list masters_fifo;
	size_t masters_count;
	struct hmap backoff;          /* dtls_backoff.c: identities with wrong keys */
	struct list backoff_lru;      /* least recent failure first */
	uint64_t now;
	struct dtls_session *current; /* the session mbedTLS is working on, for on_psk */
	struct dtls_server_stats stats;
	unsigned char buf[MBEDTLS_SSL_IN_CONTENT_LEN]; /* decrypted records */
};

/* dtls_server.c */
/* mbedTLS's PSK callback (ctx is the server): the identity's key, or a failed handshake. */
int dtls_on_psk(void *ctx, mbedtls_ssl_context *ssl, const unsigned char *id, size_t len);
void dtls_masters_destroy(struct dtls_server *srv);
/* Runs the handshake on what mbedTLS has: a datagram from the peer (from_peer), or a timer
 * that fired. May free s. */
void dtls_session_step(struct dtls_session *s, bool from_peer);
/* Frees s in whatever state, sending nothing (the caller counts why). */
void dtls_session_free(struct dtls_session *s);
/* Ends a handshake that failed with rc (an mbedTLS error or -ETIMEDOUT), counted by
 * reason. Frees s. */
void dtls_session_fail(struct dtls_session *s, int rc);

/* dtls_handshakes.c */
/* Makes room for one more handshake from peer (ending the least recently moved handshake
 * of peer's address, or of all, when their limit is reached) and returns the address's
 * entry for dtls_handshake_begin; NULL when the slots' peers have all been heard from too
 * recently to give way, or on -ENOMEM: the newcomer is refused. */
struct dtls_source *dtls_handshake_admit(struct dtls_server *srv, const struct addr *peer);
/* s enters SESSION_HANDSHAKE (as admitted for source): it is counted and listed. */
void dtls_handshake_begin(struct dtls_session *s, struct dtls_source *source);
/* s leaves SESSION_HANDSHAKE. */
void dtls_handshake_end(struct dtls_session *s);
/* The peer moved the handshake on (mbedTLS's state advanced on its datagram). */
void dtls_handshake_progress(struct dtls_session *s);
/* Ends handshakes past their deadline or stalled, and runs mbedTLS's flight timers. */
void dtls_handshakes_tick(struct dtls_server *srv);
void dtls_handshakes_destroy(struct dtls_server *srv);

/* dtls_backoff.c */
/* Is identity backing off after wrong keys (its handshakes refused)? */
bool dtls_backoff_active(struct dtls_server *srv, const char *identity);
/* A full handshake of identity failed on its key. */
void dtls_backoff_failure(struct dtls_server *srv, const char *identity);
/* A full handshake of identity succeeded: its failures are forgiven. */
void dtls_backoff_success(struct dtls_server *srv, const char *identity);
/* Forgets identities whose failures are old enough. */
void dtls_backoff_tick(struct dtls_server *srv);
void dtls_backoff_destroy(struct dtls_server *srv);

#endif
