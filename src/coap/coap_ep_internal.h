/*
 * coap_ep_internal: the structures shared by coap_ep.c (peers, serving) and coap_ep_tx.c
 * (the server's own requests). Not for use outside src/coap.
 */
#ifndef LWM2MD_COAP_EP_INTERNAL_H
#define LWM2MD_COAP_EP_INTERNAL_H

#include "coap/coap_block_pool.h"
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

/* Block1 bodies are kept in segments of one size, whatever the block size: the allocator
 * reuses a freed segment for the next, so the process's memory follows the pool's bound
 * instead of fragmenting into buffers of every size. */
#define COAP_BLOCK_SEGMENT 1024

struct block1_segment {
	struct block1_segment *next;
	uint8_t data[COAP_BLOCK_SEGMENT];
};

/* A Block1 upload being assembled (one per peer: RFC 7959 lets a server limit this). Its
 * memory belongs to the endpoint's block pool (coap_block_pool.c), which may drop it to
 * make room for another: owner is the peer's pointer to it, which the pool then clears. */
struct block1_upload {
	struct block1_upload *older, *newer; /* the pool's list, least recently fed first */
	struct block1_upload **owner;
	uint64_t uri_hash;
	struct block1_segment *first, *last;
	size_t len;      /* body bytes received */
	size_t segments;
	uint8_t *whole;  /* the body in one piece, made by coap_block_pool_body */
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
	struct coap_block_pool *pool; /* Block1 memory: cfg.block_pool, or own_pool */
	struct coap_block_pool *own_pool;
	/* Scratch messages: large structs kept off the stack of the per-packet path. */
	struct coap_msg request;
	struct coap_msg response;
	/* The handler served its own Block2 block (block2_slice): a GET's answer then is
	 * not kept for duplicates — it is read again more cheaply than kept. */
	bool own_block2;
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

/* coap_block_pool.c */
/* Starts an upload for the peer whose upload pointer is *owner (NULL on entry); on success
 * *owner points to it. Older uploads may be dropped to make room. Returns 0, -ENOBUFS or
 * -ENOMEM. */
int coap_block_pool_start(struct coap_block_pool *pool, struct block1_upload **owner,
			  uint64_t uri_hash);
/* Appends data to up, adding segments as it needs them and dropping other uploads, least
 * recently fed first, when the pool needs the room. Returns 0, -EFBIG (the body would pass
 * max_total), -ENOBUFS (the pool cannot hold it even alone) or -ENOMEM; after an error the
 * caller releases up. */
int coap_block_pool_append(struct coap_block_pool *pool, struct block1_upload *up,
			   const uint8_t *data, size_t len, size_t max_total);
/* The whole body of a complete upload, contiguous (len bytes; NULL when len is 0 or on
 * -ENOMEM, which *rc tells). Owned by up until its release; a body over one segment is
 * copied into one buffer that lives only until then. */
const uint8_t *coap_block_pool_body(struct block1_upload *up, int *rc);
/* Frees up and clears its owner's pointer. Accepts NULL. */
void coap_block_pool_release(struct coap_block_pool *pool, struct block1_upload *up);

/* coap_ep_tx.c */
void coap_ep_tx_on_ack_or_rst(struct coap_ep *ep, const struct addr *from,
			      const struct coap_msg *msg, uint64_t now_ms);
void coap_ep_tx_on_separate_response(struct coap_ep *ep, const struct addr *from,
				     const struct coap_msg *msg, uint64_t now_ms);
void coap_ep_tx_tick(struct coap_ep *ep, uint64_t now_ms);
void coap_ep_tx_cancel_all(struct coap_ep *ep);

#endif
