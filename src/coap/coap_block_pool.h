/*
 * coap_block_pool: the memory of Block1 uploads in progress (RFC 7959 §2.5), with one hard
 * bound shared by every CoAP endpoint that is given the pool.
 *
 * A peer that starts a block-wise upload makes the server keep what has arrived until the
 * last block. Each upload is bounded (max_block_body), but peers are many and cheap to
 * make: 15 000 sources that each sent part of an upload and went silent once held about
 * 1 GB. The pool bounds the sum: an upload's buffer grows with what arrives (at most twice
 * what has arrived), and when a new block needs room past the bound, the uploads that
 * have waited longest for their next block are dropped to make it. A dropped upload's
 * next block gets 4.08 Request Entity Incomplete (RFC 7959 §2.9.2), and the client starts
 * over. The pool knows no devices, only uploads, which keeps it in the coap/ layer of
 * docs/architecture.md.
 *
 * Not thread-safe: every endpoint sharing a pool runs on the same loop.
 */
#ifndef LWM2MD_COAP_BLOCK_POOL_H
#define LWM2MD_COAP_BLOCK_POOL_H

#include <stddef.h>
#include <stdint.h>

/* Default bound on all Block1 uploads together: room for 256 full 64 KiB uploads. */
#define COAP_BLOCK_POOL_DEFAULT_BYTES (16u << 20)

struct coap_block_pool;

struct coap_block_pool_stats {
	uint64_t max_bytes; /* the bound */
	uint64_t bytes;     /* gauge: buffers and bookkeeping of the uploads in progress */
	uint64_t uploads;   /* gauge: uploads in progress */
	uint64_t dropped;   /* uploads dropped to make room for a newer block */
};

/* Creates an empty pool bounded by max_bytes (which must hold at least one upload of the
 * endpoints' max_block_body). Returns 0, -EINVAL (max_bytes 0) or -ENOMEM. */
int coap_block_pool_create(struct coap_block_pool **out, size_t max_bytes);

/* Frees the pool. Every endpoint using it must have been destroyed first (their uploads
 * are gone then). Accepts NULL. */
void coap_block_pool_destroy(struct coap_block_pool *pool);

const struct coap_block_pool_stats *coap_block_pool_stats(const struct coap_block_pool *pool);

#endif
