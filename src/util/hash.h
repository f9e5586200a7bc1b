/*
 * hash: an intrusive chained hash map and the hash functions the tables use.
 *
 * The map never allocates per entry: the caller embeds a struct hmap_node in its own
 * struct (a device, a peer, a registration) and may sit in several maps at once (by
 * endpoint, by registration id, by peer address). Lookups walk one bucket, comparing the
 * stored 64-bit hash before calling the caller's equality test. The bucket array doubles
 * when the load passes 1, so lookups stay O(1) from 1 to millions of entries.
 */
#ifndef LWM2MD_HASH_H
#define LWM2MD_HASH_H

#include <stddef.h>
#include <stdint.h>

struct hmap_node {
	struct hmap_node *next;
	uint64_t hash;
};

struct hmap {
	struct hmap_node **buckets;
	size_t mask; /* bucket count - 1; the count is a power of two */
	size_t count;
};

#define container_of(ptr, type, member) ((type *)(void *)((char *)(ptr)-offsetof(type, member)))

/* Returns 0 or -ENOMEM. */
int hmap_init(struct hmap *map);
/* Frees the bucket array; the entries are the caller's. Accepts a zeroed map. */
void hmap_destroy(struct hmap *map);
/* Inserts node with hash. Never fails: when growing fails the map just gets longer
 * chains. */
void hmap_insert(struct hmap *map, struct hmap_node *node, uint64_t hash);
/* Removes a node that is in the map. */
void hmap_remove(struct hmap *map, struct hmap_node *node);
/* The first node of hash's bucket; walk on with ->next and compare ->hash. */
static inline struct hmap_node *hmap_bucket(const struct hmap *map, uint64_t hash)
{
	return map->buckets[hash & map->mask];
}

#define HMAP_FOR_EACH_WITH_HASH(node, h, map)                                              \
	for ((node) = hmap_bucket((map), (h)); (node); (node) = (node)->next)               \
		if ((node)->hash == (h))

/* Calls fn for every node; fn may remove the node it is given. */
void hmap_for_each(struct hmap *map, void (*fn)(struct hmap_node *node, void *ctx), void *ctx);

/* 64-bit finaliser (splitmix64): spreads the bits of x. */
static inline uint64_t hash_mix(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

uint64_t hash_bytes(const void *data, size_t len, uint64_t seed);
uint64_t hash_str(const char *s);

#endif
