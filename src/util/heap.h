/*
 * heap: an intrusive binary min-heap of deadlines, the timer structure of the cores.
 *
 * Each timed thing (a registration's lifetime, a retransmission) embeds a struct
 * heap_node. Arming, re-arming and cancelling are O(log n); finding the next deadline is
 * O(1), so the loop's per-tick work does not grow with the number of devices.
 */
#ifndef LWM2MD_HEAP_H
#define LWM2MD_HEAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HEAP_NOT_QUEUED SIZE_MAX

struct heap_node {
	uint64_t key;  /* the deadline, in ms of the owner's clock */
	size_t index;  /* position in the heap, HEAP_NOT_QUEUED when not queued */
};

struct heap {
	struct heap_node **items;
	size_t count;
	size_t cap;
};

static inline void heap_node_init(struct heap_node *n)
{
	n->index = HEAP_NOT_QUEUED;
}

static inline bool heap_node_queued(const struct heap_node *n)
{
	return n->index != HEAP_NOT_QUEUED;
}

/* Frees the heap's array; the nodes are the caller's. */
void heap_destroy(struct heap *h);
/* Queues n with key, or moves it to key when already queued. Returns 0 or -ENOMEM. */
int heap_set(struct heap *h, struct heap_node *n, uint64_t key);
/* Removes n when queued. */
void heap_remove(struct heap *h, struct heap_node *n);
/* The node with the smallest key, or NULL. */
static inline struct heap_node *heap_top(const struct heap *h)
{
	return h->count ? h->items[0] : NULL;
}

#endif
