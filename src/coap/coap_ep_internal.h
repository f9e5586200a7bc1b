/*
 * coap_ep_internal: the structures shared by coap_ep.c (peers, serving) and coap_ep_tx.c
 * (the server's own requests). Not for use outside src/coap.
 */
#ifndef LWM2MD_COAP_EP_INTERNAL_H
#define LWM2MD_COAP_EP_INTERNAL_H

#include "coap/coap_ep.h"
#include "util/hash.h"
#include "util/heap.h"

#define COAP_EP_DEDUP_SLOTS 2

/* A cached response to the request with message id mid, valid until expires_ms. */
struct dedup_slot {
	uint64_t expires_ms; /* 0: empty */
	uint16_t mid;
	uint16_t len;
	union {
		uint8_t *heap; /* when len > COAP_EP_INLINE_RESPONSE */
		uint8_t inline_bytes[COAP_EP_INLINE_RESPONSE];
	} data;
};

/* A Block1 upload being assembled (one per peer: RFC 7959 lets a server limit this). */
struct block1_upload {
	uint64_t uri_hash;
	uint8_t *body;
	size_t len;
	size_t cap;
};

struct coap_tx;

struct coap_peer {
	struct hmap_node by_addr;
	struct addr addr;
	struct coap_peer *lru_prev, *lru_next; /* oldest first */
	uint64_t last_seen_ms;
	struct dedup_slot slots[COAP_EP_DEDUP_SLOTS];
	uint8_t next_slot;
	struct block1_upload *block1;
	struct coap_tx *tx_head, *tx_tail; /* the server's requests to this peer, in order */
};

struct coap_ep {
	struct coap_ep_config cfg;
	coap_ep_send_fn send;
	coap_ep_request_fn handler;
	coap_ep_notification_fn notification; /* NULL: unmatched responses get RST */
	void *ctx;
	uint64_t rng;
	uint16_t next_mid;
	uint64_t next_tx_id;
	struct hmap peers;
	struct coap_peer *lru_head, *lru_tail;
	struct hmap tx_by_id;
	struct heap timers;
	struct coap_ep_stats stats;
	/* Scratch messages: large structs kept off the stack of the per-packet path. */
	struct coap_msg request;
	struct coap_msg response;
	struct coap_msg assembled;
};

uint64_t coap_ep_random(struct coap_ep *ep);
uint16_t coap_ep_next_mid(struct coap_ep *ep);
struct coap_peer *coap_ep_peer_find(struct coap_ep *ep, const struct addr *addr);
/* Finds or creates the peer entry; NULL when the table is full of busy peers or on OOM. */
struct coap_peer *coap_ep_peer_get(struct coap_ep *ep, const struct addr *addr,
				   uint64_t now_ms);
void coap_ep_peer_touch(struct coap_ep *ep, struct coap_peer *peer, uint64_t now_ms);
void coap_ep_send_raw(struct coap_ep *ep, const struct addr *peer, const uint8_t *data,
		      size_t len);
void coap_ep_send_empty(struct coap_ep *ep, const struct addr *peer, uint8_t type,
			uint16_t mid);

/* coap_ep_tx.c */
void coap_ep_tx_on_ack_or_rst(struct coap_ep *ep, const struct addr *from,
			      const struct coap_msg *msg, uint64_t now_ms);
void coap_ep_tx_on_separate_response(struct coap_ep *ep, const struct addr *from,
				     const struct coap_msg *msg, uint64_t now_ms);
void coap_ep_tx_tick(struct coap_ep *ep, uint64_t now_ms);
void coap_ep_tx_cancel_all(struct coap_ep *ep);

#endif
