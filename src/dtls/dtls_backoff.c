/*
 * dtls_backoff: a throttle on guessing a device's key (docs/internals/dtls.md, "Wrong
 * keys").
 *
 * Every full handshake tests one guess of the PSK of the identity it names, and node ids
 * (IMEIs) are easy to know. After psk_max_failures wrong keys for one identity within
 * psk_failure_window_ms, its handshakes are refused for psk_backoff_ms — the right key
 * too, since the server cannot tell a guess from the device — and each further backoff
 * doubles, up to psk_backoff_max_ms. It is a throttle, never a lockout: a backoff always
 * ends, a successful full handshake forgives the identity, and an identity quiet for
 * psk_failure_window_ms + psk_backoff_max_ms is forgotten. Only known identities are
 * tracked (an unknown one has no key to guess), at most psk_backoff_entries of them; past
 * that the one with the oldest failure is forgotten. Other identities, and the sessions
 * an identity already has, are unaffected.
 */
#include <stdlib.h>
#include <string.h>

#include "dtls/dtls_internal.h"
#include "util/log.h"

/* Doublings of the backoff before it is certainly past any cap. */
#define LEVEL_MAX 32

struct backoff_entry {
	struct hmap_node node;
	struct list lru; /* in srv->backoff_lru, least recent failure first */
	char identity[DTLS_IDENTITY_MAX + 1];
	uint32_t failures;     /* wrong keys in the window that began at window_start */
	uint8_t level;         /* backoffs so far: the next lasts psk_backoff_ms << level */
	uint64_t window_start;
	uint64_t last_failure;
	uint64_t until;        /* handshakes are refused before this */
};

static struct backoff_entry *entry_find(struct dtls_server *srv, const char *identity)
{
	uint64_t h = hash_str(identity);
	struct hmap_node *n;
	HMAP_FOR_EACH_WITH_HASH(n, h, &srv->backoff)
	{
		struct backoff_entry *e = container_of(n, struct backoff_entry, node);
		if (strcmp(e->identity, identity) == 0)
			return e;
	}
	return NULL;
}

static void entry_free(struct dtls_server *srv, struct backoff_entry *e)
{
	hmap_remove(&srv->backoff, &e->node);
	list_remove(&e->lru);
	srv->stats.psk_identities_tracked--;
	free(e);
}

static struct backoff_entry *entry_get(struct dtls_server *srv, const char *identity)
{
	struct backoff_entry *e = entry_find(srv, identity);
	if (e)
		return e;
	if (srv->stats.psk_identities_tracked >= srv->cfg.psk_backoff_entries &&
	    !list_empty(&srv->backoff_lru))
		entry_free(srv, container_of(srv->backoff_lru.next, struct backoff_entry, lru));
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	strcpy(e->identity, identity); /* the caller's identity fits: DTLS_IDENTITY_MAX */
	list_init(&e->lru);
	list_push_back(&srv->backoff_lru, &e->lru);
	hmap_insert(&srv->backoff, &e->node, hash_str(identity));
	srv->stats.psk_identities_tracked++;
	e->window_start = srv->now;
	return e;
}

bool dtls_backoff_active(struct dtls_server *srv, const char *identity)
{
	const struct backoff_entry *e = entry_find(srv, identity);
	return e && srv->now < e->until;
}

/* How long the backoff at level lasts: psk_backoff_ms doubled level times, capped. */
static uint64_t backoff_ms(const struct dtls_server_config *cfg, uint8_t level)
{
	uint64_t ms = cfg->psk_backoff_ms;
	for (uint8_t i = 0; i < level && ms < cfg->psk_backoff_max_ms; i++)
		ms *= 2;
	return ms < cfg->psk_backoff_max_ms ? ms : cfg->psk_backoff_max_ms;
}

void dtls_backoff_failure(struct dtls_server *srv, const char *identity)
{
	const struct dtls_server_config *cfg = &srv->cfg;
	struct backoff_entry *e = entry_get(srv, identity);
	if (!e)
		return;
	uint64_t now = srv->now;
	if (now - e->window_start >= cfg->psk_failure_window_ms) {
		e->window_start = now;
		e->failures = 0;
	}
	e->failures++;
	e->last_failure = now;
	list_remove(&e->lru);
	list_push_back(&srv->backoff_lru, &e->lru);
	if (e->failures < cfg->psk_max_failures)
		return;
	uint64_t ms = backoff_ms(cfg, e->level);
	e->until = now + ms;
	if (e->level < LEVEL_MAX)
		e->level++;
	e->failures = 0;
	e->window_start = now;
	srv->stats.psk_lockouts++;
	LOG_WARN("dtls", "identity '%s': %u wrong keys within %u s; its handshakes are refused "
		 "for %llu s", identity, cfg->psk_max_failures, cfg->psk_failure_window_ms / 1000,
		 (unsigned long long)(ms / 1000));
}

void dtls_backoff_success(struct dtls_server *srv, const char *identity)
{
	struct backoff_entry *e = entry_find(srv, identity);
	if (e)
		entry_free(srv, e);
}

void dtls_backoff_tick(struct dtls_server *srv)
{
	/* An identity quiet this long has no backoff running (each ends within
	 * psk_backoff_max_ms of its failure) and no failures in its window. */
	uint64_t quiet = (uint64_t)srv->cfg.psk_failure_window_ms + srv->cfg.psk_backoff_max_ms;
	while (!list_empty(&srv->backoff_lru)) {
		struct backoff_entry *e =
			container_of(srv->backoff_lru.next, struct backoff_entry, lru);
		if (srv->now - e->last_failure < quiet)
			break;
		entry_free(srv, e);
	}
}

void dtls_backoff_destroy(struct dtls_server *srv)
{
	while (!list_empty(&srv->backoff_lru))
		entry_free(srv, container_of(srv->backoff_lru.next, struct backoff_entry, lru));
	hmap_destroy(&srv->backoff);
}
