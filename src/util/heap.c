/* heap: see heap.h. A textbook array heap whose nodes remember their index. */
#include "util/heap.h"

#include <errno.h>
#include <stdlib.h>

static void heap_place(struct heap *h, size_t i, struct heap_node *n)
{
	h->items[i] = n;
	n->index = i;
}

static void sift_up(struct heap *h, size_t i)
{
	struct heap_node *n = h->items[i];
	while (i > 0) {
		size_t parent = (i - 1) / 2;
		if (h->items[parent]->key <= n->key)
			break;
		heap_place(h, i, h->items[parent]);
		i = parent;
	}
	heap_place(h, i, n);
}

static void sift_down(struct heap *h, size_t i)
{
	struct heap_node *n = h->items[i];
	for (;;) {
		size_t child = 2 * i + 1;
		if (child >= h->count)
			break;
		if (child + 1 < h->count && h->items[child + 1]->key < h->items[child]->key)
			child++;
		if (n->key <= h->items[child]->key)
			break;
		heap_place(h, i, h->items[child]);
		i = child;
	}
	heap_place(h, i, n);
}

void heap_destroy(struct heap *h)
{
	for (size_t i = 0; i < h->count; i++)
		h->items[i]->index = HEAP_NOT_QUEUED;
	free(h->items);
	h->items = NULL;
	h->count = h->cap = 0;
}

int heap_set(struct heap *h, struct heap_node *n, uint64_t key)
{
	if (heap_node_queued(n)) {
		uint64_t old = n->key;
		n->key = key;
		if (key < old)
			sift_up(h, n->index);
		else
			sift_down(h, n->index);
		return 0;
	}
	if (h->count == h->cap) {
		size_t cap = h->cap ? h->cap * 2 : 64;
		struct heap_node **items = realloc(h->items, cap * sizeof(*items));
		if (!items)
			return -ENOMEM;
		h->items = items;
		h->cap = cap;
	}
	n->key = key;
	heap_place(h, h->count++, n);
	sift_up(h, n->index);
	return 0;
}

void heap_remove(struct heap *h, struct heap_node *n)
{
	if (!heap_node_queued(n))
		return;
	size_t i = n->index;
	struct heap_node *last = h->items[--h->count];
	n->index = HEAP_NOT_QUEUED;
	if (last == n)
		return;
	heap_place(h, i, last);
	sift_down(h, i);
	sift_up(h, last->index);
}
