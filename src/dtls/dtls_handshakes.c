/*
 * dtls_handshakes: the handshake slots of a DTLS server — who gets one, who loses one, and
 * when a handshake that stopped moving ends (docs/internals/dtls.md, "Handshake slots").
 *
 * A handshake costs a full mbedTLS context (~35 KB) from the moment its peer echoes a
 * cookie. The cookie proves the peer owns its address, not that it means to finish: 300
 * ports of one host that complete the cookie exchange and go silent once held every slot
 * for 30 s, and no device could handshake meanwhile. So:
 *
 *  - slots are kept in the order their peers last moved the handshake on (mbedTLS's state
 *    advanced on the peer's datagram), globally and per IP address;
 *  - a newcomer past max_handshakes_per_addr takes the slot of its own address's most
 *    stalled handshake, and past max_handshakes that of the most stalled of all: sources
 *    that go silent lose their slots first, and a device whose flights keep coming is the
 *    last to lose one. A handshake moved on within EVICT_SILENCE_MS keeps its slot and
 *    the newcomer is refused instead (its client retransmits the ClientHello): a burst
 *    of real devices behind one address is slowed to what the slots allow, not churned;
 *  - a handshake its peer has not moved on for handshake_stall_ms ends, as one past
 *    handshake_timeout_ms does.
 *
 * Sessions that are established or hibernated hold no slot and are never touched here.
 */
#include <stdlib.h>

#include "dtls/dtls_internal.h"
#include "util/log.h"

/* How long a handshake's peer must have been silent before the handshake may give its
 * slot to a newcomer. Silent sources qualify within a second; a client's retransmitted
 * ClientHello (1 s and more apart, RFC 6347 §4.2.4.1) then finds their slots. */
#define EVICT_SILENCE_MS 1000

/* The key of peer's address: the same address with port 0. */
static struct addr ip_of(const struct addr *peer)
{
	struct addr ip = *peer;
	ip.port = 0;
	return ip;
}

static struct dtls_source *source_find(struct dtls_server *srv, const struct addr *ip)
{
	uint64_t h = addr_hash(ip);
	struct hmap_node *n;
	HMAP_FOR_EACH_WITH_HASH(n, h, &srv->sources)
	{
		struct dtls_source *src = container_of(n, struct dtls_source, node);
		if (addr_equal(&src->ip, ip))
			return src;
	}
	return NULL;
}

/* Ends the handshake that has waited longest for its peer in list (a list of sessions by
 * `link` when global, by `source_link` for one address), if its peer has been silent for
 * EVICT_SILENCE_MS. Returns whether it did. */
static bool evict_oldest(struct dtls_server *srv, struct list *list, bool per_source)
{
	if (list_empty(list))
		return false;
	struct dtls_session *s =
		per_source ? container_of(list->next, struct dtls_session, source_link)
			   : container_of(list->next, struct dtls_session, link);
	if (srv->now - s->progress_at < EVICT_SILENCE_MS)
		return false;
	char peer[ADDR_STR_MAX];
	LOG_INFO_RATE("dtls", "handshake ended to make room",
		      "%s: handshake ended to make room (%s limit reached)",
		 addr_format(&s->peer, peer), per_source ? "per-address" : "global");
	srv->stats.handshakes_evicted++;
	dtls_session_free(s);
	return true;
}

struct dtls_source *dtls_handshake_admit(struct dtls_server *srv, const struct addr *peer)
{
	struct addr ip = ip_of(peer);
	struct dtls_source *src = source_find(srv, &ip);
	if (src && src->count >= srv->cfg.max_handshakes_per_addr) {
		if (!evict_oldest(srv, &src->handshakes, true))
			return NULL;
		src = source_find(srv, &ip); /* freed if that was its last handshake */
	}
	if (srv->stats.handshakes_in_progress >= srv->cfg.max_handshakes) {
		if (!evict_oldest(srv, &srv->handshakes, false))
			return NULL;
		src = source_find(srv, &ip);
	}
	if (src)
		return src;
	src = calloc(1, sizeof(*src));
	if (!src)
		return NULL;
	src->ip = ip;
	list_init(&src->handshakes);
	hmap_insert(&srv->sources, &src->node, addr_hash(&ip));
	return src;
}

void dtls_handshake_begin(struct dtls_session *s, struct dtls_source *source)
{
	s->source = source;
	source->count++;
	list_init(&s->source_link);
	list_push_back(&source->handshakes, &s->source_link);
	s->progress_at = s->srv->now;
}

void dtls_handshake_end(struct dtls_session *s)
{
	struct dtls_source *src = s->source;
	if (!src)
		return;
	list_remove(&s->source_link);
	s->source = NULL;
	if (--src->count == 0) {
		hmap_remove(&s->srv->sources, &src->node);
		free(src);
	}
}

void dtls_handshake_progress(struct dtls_session *s)
{
	s->progress_at = s->srv->now;
	list_remove(&s->link);
	list_push_back(&s->srv->handshakes, &s->link);
	list_remove(&s->source_link);
	list_push_back(&s->source->handshakes, &s->source_link);
}

void dtls_handshakes_tick(struct dtls_server *srv)
{
	uint64_t now = srv->now;
	struct list *n = srv->handshakes.next;
	while (n != &srv->handshakes) {
		struct dtls_session *s = container_of(n, struct dtls_session, link);
		n = n->next; /* s may be freed below */
		if (now >= s->deadline) {
			dtls_session_fail(s, MBEDTLS_ERR_SSL_TIMEOUT);
		} else if (now - s->progress_at >= srv->cfg.handshake_stall_ms) {
			char peer[ADDR_STR_MAX];
			LOG_INFO_RATE("dtls", "handshake ended: no progress",
				      "%s: handshake ended: no progress for %u ms",
				 addr_format(&s->peer, peer), srv->cfg.handshake_stall_ms);
			srv->stats.fail_stalled++;
			dtls_session_free(s);
		} else if (s->timer_set && now >= s->timer_fin_at) {
			dtls_session_step(s, false); /* retransmits the flight, or gives up */
		}
	}
}

static void free_source(struct hmap_node *node, void *ctx)
{
	struct dtls_server *srv = ctx;
	hmap_remove(&srv->sources, node);
	free(container_of(node, struct dtls_source, node));
}

void dtls_handshakes_destroy(struct dtls_server *srv)
{
	/* A source lives while it has handshakes, and dtls_server_destroy frees the
	 * sessions first: this normally finds none. */
	if (srv->sources.buckets)
		hmap_for_each(&srv->sources, free_source, srv);
	hmap_destroy(&srv->sources);
}
