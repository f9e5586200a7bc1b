/* hash: see hash.h. */
#include "util/hash.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define HMAP_INITIAL_BUCKETS 64

int hmap_init(struct hmap *map)
{
	map->buckets = calloc(HMAP_INITIAL_BUCKETS, sizeof(*map->buckets));
	if (!map->buckets)
		return -ENOMEM;
	map->mask = HMAP_INITIAL_BUCKETS - 1;
	map->count = 0;
	return 0;
}

void hmap_destroy(struct hmap *map)
{
	free(map->buckets);
	map->buckets = NULL;
	map->mask = 0;
	map->count = 0;
}

static void hmap_grow(struct hmap *map)
{
	size_t new_count = (map->mask + 1) * 2;
	struct hmap_node **nb = calloc(new_count, sizeof(*nb));
	if (!nb)
		return;
	for (size_t i = 0; i <= map->mask; i++) {
		struct hmap_node *n = map->buckets[i];
		while (n) {
			struct hmap_node *next = n->next;
			size_t b = n->hash & (new_count - 1);
			n->next = nb[b];
			nb[b] = n;
			n = next;
		}
	}
	free(map->buckets);
	map->buckets = nb;
	map->mask = new_count - 1;
}

void hmap_insert(struct hmap *map, struct hmap_node *node, uint64_t hash)
{
	if (map->count >= map->mask + 1)
		hmap_grow(map);
	node->hash = hash;
	struct hmap_node **b = &map->buckets[hash & map->mask];
	node->next = *b;
	*b = node;
	map->count++;
}

void hmap_remove(struct hmap *map, struct hmap_node *node)
{
	struct hmap_node **p = &map->buckets[node->hash & map->mask];
	while (*p && *p != node)
		p = &(*p)->next;
	if (*p) {
		*p = node->next;
		node->next = NULL;
		map->count--;
	}
}

void hmap_for_each(struct hmap *map, void (*fn)(struct hmap_node *node, void *ctx), void *ctx)
{
	for (size_t i = 0; map->buckets && i <= map->mask; i++) {
		struct hmap_node *n = map->buckets[i];
		while (n) {
			struct hmap_node *next = n->next;
			fn(n, ctx);
			n = next;
		}
	}
}

/* FNV-1a over the bytes, then mixed: good enough spread for short keys (addresses,
 * endpoint names) and cheap on the per-packet path. */
uint64_t hash_bytes(const void *data, size_t len, uint64_t seed)
{
	const unsigned char *p = data;
	uint64_t h = 0xcbf29ce484222325ULL ^ seed;
	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return hash_mix(h);
}

uint64_t hash_str(const char *s)
{
	return hash_bytes(s, strlen(s), 0);
}
