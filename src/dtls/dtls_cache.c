/*
 * dtls_cache: the session-id cache behind mbedTLS's cache callbacks
 * (mbedtls_ssl_conf_session_cache), in place of mbedtls_ssl_cache, whose lookups walk a
 * linked list (O(n) per ClientHello that offers a session id). Here an entry is found by
 * a hash of its id and the entries are in one list in the order they were set, so get,
 * set, expiry and eviction are each O(1) (expiry amortised: each entry expires once).
 *
 * An entry holds the session as mbedtls_ssl_session_save serialised it (a PSK session:
 * about 100 bytes, no pointers to share), so a get hands mbedTLS a deep copy that it owns.
 * Bounded: at most `max` entries; setting one more evicts the oldest. An entry older
 * than timeout_ms is not returned (and is dropped when seen), as mbedtls_ssl_cache's
 * timeout did (a day).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dtls/dtls_internal.h"

struct cache_entry {
	struct hmap_node node;
	struct list order; /* in cache->order, oldest set first */
	uint64_t set_at;
	uint8_t id[32];
	uint8_t id_len;
	size_t len;
	uint8_t data[]; /* mbedtls_ssl_session_save's output */
};

int dtls_cache_init(struct dtls_cache *c, size_t max, uint64_t timeout_ms, const uint64_t *now)
{
	memset(c, 0, sizeof(*c));
	list_init(&c->order);
	c->max = max;
	c->timeout_ms = timeout_ms;
	c->now = now;
	return hmap_init(&c->by_id) == 0 ? 0 : -ENOMEM;
}

static void drop(struct dtls_cache *c, struct cache_entry *e)
{
	hmap_remove(&c->by_id, &e->node);
	list_remove(&e->order);
	c->count--;
	c->bytes -= sizeof(*e) + e->len;
	/* It held a master secret. */
	mbedtls_platform_zeroize(e->data, e->len);
	free(e);
}

void dtls_cache_destroy(struct dtls_cache *c)
{
	if (!c->order.next)
		return; /* never initialised */
	while (!list_empty(&c->order))
		drop(c, container_of(c->order.next, struct cache_entry, order));
	hmap_destroy(&c->by_id);
}

static bool expired(const struct dtls_cache *c, const struct cache_entry *e)
{
	return c->timeout_ms != 0 && *c->now - e->set_at >= c->timeout_ms;
}

/* Drops the expired entries at the old end of the list. */
static void expire(struct dtls_cache *c)
{
	while (!list_empty(&c->order)) {
		struct cache_entry *e = container_of(c->order.next, struct cache_entry, order);
		if (!expired(c, e))
			return;
		drop(c, e);
		c->expired++;
	}
}

static struct cache_entry *find(struct dtls_cache *c, const uint8_t *id, size_t id_len)
{
	uint64_t h = hash_bytes(id, id_len, 0);
	struct hmap_node *n;
	HMAP_FOR_EACH_WITH_HASH(n, h, &c->by_id)
	{
		struct cache_entry *e = container_of(n, struct cache_entry, node);
		if (e->id_len == id_len && memcmp(e->id, id, id_len) == 0)
			return e;
	}
	return NULL;
}

int dtls_cache_get(void *data, mbedtls_ssl_session *session)
{
	struct dtls_cache *c = data;
	if (session->id_len == 0 || session->id_len > sizeof(session->id))
		return 1;
	struct cache_entry *e = find(c, session->id, session->id_len);
	if (!e) {
		c->misses++;
		return 1;
	}
	if (expired(c, e)) {
		drop(c, e);
		c->expired++;
		c->misses++;
		return 1;
	}
	/* mbedTLS passes a session holding only the id (ssl_srv.c); load overwrites it. */
	if (mbedtls_ssl_session_load(session, e->data, e->len) != 0) {
		c->misses++;
		return 1;
	}
	c->hits++;
	return 0;
}

int dtls_cache_set(void *data, const mbedtls_ssl_session *session)
{
	struct dtls_cache *c = data;
	if (c->max == 0 || session->id_len == 0 || session->id_len > sizeof(session->id))
		return 1;
	size_t need = 0;
	if (mbedtls_ssl_session_save(session, NULL, 0, &need) !=
	    MBEDTLS_ERR_SSL_BUFFER_TOO_SMALL)
		return 1;
	expire(c);
	struct cache_entry *old = find(c, session->id, session->id_len);
	if (old)
		drop(c, old);
	else if (c->count >= c->max) {
		drop(c, container_of(c->order.next, struct cache_entry, order));
		c->evicted++;
	}
	struct cache_entry *e = malloc(sizeof(*e) + need);
	if (!e)
		return 1;
	if (mbedtls_ssl_session_save(session, e->data, need, &e->len) != 0) {
		free(e);
		return 1;
	}
	memcpy(e->id, session->id, session->id_len);
	e->id_len = (uint8_t)session->id_len;
	e->set_at = *c->now;
	hmap_insert(&c->by_id, &e->node, hash_bytes(e->id, e->id_len, 0));
	list_push_back(&c->order, &e->order);
	c->count++;
	c->bytes += sizeof(*e) + e->len;
	return 0;
}
