/* iot_settle: see iot_settle.h. */
#include "iot/iot_settle.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/str.h"

struct iot_settle_entry {
	struct hmap_node node;
	struct iot_settle_entry *next, *prev;
	int64_t due_ms;
	char endpoint[LWM2M_ENDPOINT_MAX + 1];
};

int iot_settle_init(struct iot_settle *s)
{
	memset(s, 0, sizeof(*s));
	return hmap_init(&s->map);
}

void iot_settle_destroy(struct iot_settle *s)
{
	while (s->head) {
		struct iot_settle_entry *e = s->head;
		s->head = e->next;
		free(e);
	}
	s->tail = NULL;
	hmap_destroy(&s->map);
}

static struct iot_settle_entry *find(const struct iot_settle *s, const char *endpoint)
{
	uint64_t h = hash_str(endpoint);
	struct hmap_node *n;
	HMAP_FOR_EACH_WITH_HASH(n, h, &s->map)
	{
		struct iot_settle_entry *e = container_of(n, struct iot_settle_entry, node);
		if (strcmp(e->endpoint, endpoint) == 0)
			return e;
	}
	return NULL;
}

bool iot_settle_contains(const struct iot_settle *s, const char *endpoint)
{
	return s->map.buckets && find(s, endpoint) != NULL;
}

int iot_settle_add(struct iot_settle *s, const char *endpoint, int64_t due_ms)
{
	if (find(s, endpoint))
		return 0;
	struct iot_settle_entry *e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	str_copy(e->endpoint, sizeof(e->endpoint), endpoint);
	e->due_ms = due_ms;
	hmap_insert(&s->map, &e->node, hash_str(e->endpoint));
	e->prev = s->tail;
	if (s->tail)
		s->tail->next = e;
	else
		s->head = e;
	s->tail = e;
	return 0;
}

static void unlink_entry(struct iot_settle *s, struct iot_settle_entry *e)
{
	hmap_remove(&s->map, &e->node);
	if (e->prev)
		e->prev->next = e->next;
	else
		s->head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		s->tail = e->prev;
	free(e);
}

void iot_settle_remove(struct iot_settle *s, const char *endpoint)
{
	struct iot_settle_entry *e = s->map.buckets ? find(s, endpoint) : NULL;
	if (e)
		unlink_entry(s, e);
}

int iot_settle_pop_due(struct iot_settle *s, int64_t now_ms,
		       char endpoint[LWM2M_ENDPOINT_MAX + 1])
{
	struct iot_settle_entry *e = s->head;
	if (!e || e->due_ms > now_ms)
		return -ENOENT;
	memcpy(endpoint, e->endpoint, sizeof(e->endpoint));
	unlink_entry(s, e);
	return 0;
}
