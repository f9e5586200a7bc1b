/*
 * coap_block_pool: the bounded memory of Block1 uploads. See coap_block_pool.h for why;
 * coap_ep.c decides what a block means (RFC 7959 §2.5), this file only where its bytes go.
 *
 * Invariant: stats.bytes is the sum, over the uploads in the list, of sizeof(struct
 * block1_upload) and sizeof(struct block1_segment) per segment, and it never exceeds
 * max_bytes after a call returns. The list runs from the upload that has waited longest
 * for its next block to the one fed last, so the uploads dropped for room are the stalled
 * ones first. A body's segments are only joined into one buffer once the upload is
 * complete, for the one handler call that follows (coap_block_pool_body).
 */
#include "coap/coap_block_pool.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "coap/coap_ep_internal.h"

struct coap_block_pool {
	struct coap_block_pool_stats stats;
	struct block1_upload *oldest, *newest;
};

int coap_block_pool_create(struct coap_block_pool **out, size_t max_bytes)
{
	if (max_bytes == 0)
		return -EINVAL;
	struct coap_block_pool *pool = calloc(1, sizeof(*pool));
	if (!pool)
		return -ENOMEM;
	pool->stats.max_bytes = max_bytes;
	*out = pool;
	return 0;
}

void coap_block_pool_destroy(struct coap_block_pool *pool)
{
	if (!pool)
		return;
	while (pool->oldest)
		coap_block_pool_release(pool, pool->oldest);
	free(pool);
}

const struct coap_block_pool_stats *coap_block_pool_stats(const struct coap_block_pool *pool)
{
	return &pool->stats;
}

static void unlink_upload(struct coap_block_pool *pool, struct block1_upload *up)
{
	if (up->older)
		up->older->newer = up->newer;
	else
		pool->oldest = up->newer;
	if (up->newer)
		up->newer->older = up->older;
	else
		pool->newest = up->older;
	up->older = up->newer = NULL;
}

static void append_newest(struct coap_block_pool *pool, struct block1_upload *up)
{
	up->older = pool->newest;
	up->newer = NULL;
	if (pool->newest)
		pool->newest->newer = up;
	else
		pool->oldest = up;
	pool->newest = up;
}

static size_t upload_bytes(const struct block1_upload *up)
{
	return sizeof(*up) + up->segments * sizeof(struct block1_segment);
}

void coap_block_pool_release(struct coap_block_pool *pool, struct block1_upload *up)
{
	if (!up)
		return;
	unlink_upload(pool, up);
	pool->stats.bytes -= upload_bytes(up);
	pool->stats.uploads--;
	*up->owner = NULL;
	while (up->first) {
		struct block1_segment *seg = up->first;
		up->first = seg->next;
		free(seg);
	}
	free(up->whole);
	free(up);
}

/* Drops uploads other than keep, least recently fed first, until need more bytes fit.
 * Returns 0, or -ENOBUFS when they would not fit even with keep alone in the pool. */
static int make_room(struct coap_block_pool *pool, const struct block1_upload *keep,
		     size_t need)
{
	size_t kept = keep ? upload_bytes(keep) : 0;
	if (need > pool->stats.max_bytes || kept > pool->stats.max_bytes - need)
		return -ENOBUFS;
	while (pool->stats.bytes + need > pool->stats.max_bytes) {
		struct block1_upload *victim = pool->oldest;
		if (victim == keep)
			victim = victim->newer;
		/* Not NULL: the uploads other than keep hold more than is missing. */
		coap_block_pool_release(pool, victim);
		pool->stats.dropped++;
	}
	return 0;
}

int coap_block_pool_start(struct coap_block_pool *pool, struct block1_upload **owner,
			  uint64_t uri_hash)
{
	int rc = make_room(pool, NULL, sizeof(struct block1_upload));
	if (rc != 0)
		return rc;
	struct block1_upload *up = calloc(1, sizeof(*up));
	if (!up)
		return -ENOMEM;
	up->owner = owner;
	up->uri_hash = uri_hash;
	append_newest(pool, up);
	pool->stats.bytes += sizeof(*up);
	pool->stats.uploads++;
	*owner = up;
	return 0;
}

/* Adds one empty segment at the end of up's body. */
static int add_segment(struct coap_block_pool *pool, struct block1_upload *up)
{
	int rc = make_room(pool, up, sizeof(struct block1_segment));
	if (rc != 0)
		return rc;
	struct block1_segment *seg = malloc(sizeof(*seg));
	if (!seg)
		return -ENOMEM;
	seg->next = NULL;
	if (up->last)
		up->last->next = seg;
	else
		up->first = seg;
	up->last = seg;
	up->segments++;
	pool->stats.bytes += sizeof(*seg);
	return 0;
}

int coap_block_pool_append(struct coap_block_pool *pool, struct block1_upload *up,
			   const uint8_t *data, size_t len, size_t max_total)
{
	if (len > max_total || up->len > max_total - len)
		return -EFBIG;
	/* A block is fed last now: it is the last the pool would drop. */
	unlink_upload(pool, up);
	append_newest(pool, up);
	while (len > 0) {
		if (up->len == up->segments * COAP_BLOCK_SEGMENT) {
			int rc = add_segment(pool, up); /* the last one is full */
			if (rc != 0)
				return rc;
		}
		size_t used = up->len % COAP_BLOCK_SEGMENT;
		size_t n = COAP_BLOCK_SEGMENT - used;
		if (n > len)
			n = len;
		memcpy(up->last->data + used, data, n);
		up->len += n;
		data += n;
		len -= n;
	}
	return 0;
}

const uint8_t *coap_block_pool_body(struct block1_upload *up, int *rc)
{
	*rc = 0;
	if (up->len == 0)
		return NULL;
	if (up->segments == 1)
		return up->first->data;
	if (!up->whole) {
		up->whole = malloc(up->len);
		if (!up->whole) {
			*rc = -ENOMEM;
			return NULL;
		}
		size_t off = 0;
		for (const struct block1_segment *seg = up->first; seg; seg = seg->next) {
			size_t n = up->len - off < COAP_BLOCK_SEGMENT ? up->len - off
								     : COAP_BLOCK_SEGMENT;
			memcpy(up->whole + off, seg->data, n);
			off += n;
		}
	}
	return up->whole;
}
