/*
 * lwm2m_observe: observations by token and by id.
 */
#include "lwm2m/lwm2m_observe.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct lwm2m_observations {
	struct hmap by_token;
	struct hmap by_node; /* a device's observations, found without walking them all */
	struct hmap by_id;
	uint64_t next_id;
	struct lwm2m_observe_hooks hooks;
	void *ctx;
};

void lwm2m_observations_set_hooks(struct lwm2m_observations *obs,
				  const struct lwm2m_observe_hooks *hooks, void *ctx)
{
	obs->hooks = *hooks;
	obs->ctx = ctx;
}

int lwm2m_observations_create(struct lwm2m_observations **out)
{
	struct lwm2m_observations *obs = calloc(1, sizeof(*obs));
	if (!obs || hmap_init(&obs->by_token) || hmap_init(&obs->by_id) ||
	    hmap_init(&obs->by_node)) {
		lwm2m_observations_destroy(obs);
		return -ENOMEM;
	}
	obs->next_id = 1;
	*out = obs;
	return 0;
}

static void observation_free(struct lwm2m_observation *o)
{
	free(o->paths);
	free(o);
}

static void free_node(struct hmap_node *n, void *ctx)
{
	(void)ctx;
	observation_free(container_of(n, struct lwm2m_observation, by_id));
}

void lwm2m_observations_destroy(struct lwm2m_observations *obs)
{
	if (!obs)
		return;
	if (obs->by_id.buckets)
		hmap_for_each(&obs->by_id, free_node, NULL);
	hmap_destroy(&obs->by_token);
	hmap_destroy(&obs->by_id);
	hmap_destroy(&obs->by_node);
	free(obs);
}

static struct lwm2m_observation *insert(struct lwm2m_observations *obs, uint64_t id,
				       const char *node_id, const struct lwm2m_path *path,
				       const uint8_t *token, size_t token_len,
				       const struct lwm2m_observe_request *req)
{
	if (token_len == 0 || token_len > 8 || strlen(node_id) > 64 ||
	    (req && req->path_count > LWM2M_OBSERVE_PATHS_MAX))
		return NULL;
	struct lwm2m_observation *o = calloc(1, sizeof(*o));
	if (!o)
		return NULL;
	o->format = req ? req->format : -1;
	if (req && req->path_count) {
		o->paths = malloc(req->path_count * sizeof(*o->paths));
		if (!o->paths) {
			free(o);
			return NULL;
		}
		memcpy(o->paths, req->paths, req->path_count * sizeof(*o->paths));
		o->path_count = (uint8_t)req->path_count;
	}
	o->id = id;
	strcpy(o->node_id, node_id);
	o->path = *path;
	memcpy(o->token, token, token_len);
	o->token_len = (uint8_t)token_len;
	o->last_format = -1;
	hmap_insert(&obs->by_token, &o->by_token, hash_bytes(token, token_len, 0));
	hmap_insert(&obs->by_id, &o->by_id, hash_mix(o->id));
	hmap_insert(&obs->by_node, &o->by_node, hash_str(o->node_id));
	return o;
}

struct lwm2m_observation *lwm2m_observations_add(struct lwm2m_observations *obs,
						 const char *node_id,
						 const struct lwm2m_path *path,
						 const uint8_t *token, size_t token_len)
{
	return lwm2m_observations_add_request(obs, node_id, path, token, token_len, NULL);
}

struct lwm2m_observation *lwm2m_observations_add_request(struct lwm2m_observations *obs,
							 const char *node_id,
							 const struct lwm2m_path *path,
							 const uint8_t *token, size_t token_len,
							 const struct lwm2m_observe_request *req)
{
	struct lwm2m_observation *o =
		insert(obs, obs->next_id, node_id, path, token, token_len, req);
	if (!o)
		return NULL;
	obs->next_id++;
	if (obs->hooks.added)
		obs->hooks.added(obs->ctx, o);
	return o;
}

struct lwm2m_observation *lwm2m_observations_restore(struct lwm2m_observations *obs, uint64_t id,
						     const char *node_id,
						     const struct lwm2m_path *path,
						     const uint8_t *token, size_t token_len,
						     const struct lwm2m_observe_request *req)
{
	if (lwm2m_observations_find_id(obs, id) || lwm2m_observations_find_token(obs, token,
										   token_len))
		return NULL;
	struct lwm2m_observation *o = insert(obs, id, node_id, path, token, token_len, req);
	if (o && id >= obs->next_id)
		obs->next_id = id + 1;
	return o;
}

void lwm2m_observations_cancel(struct lwm2m_observations *obs, struct lwm2m_observation *o)
{
	if (o->cancelled)
		return;
	o->cancelled = true;
	if (obs->hooks.removed)
		obs->hooks.removed(obs->ctx, o);
}

struct lwm2m_observation *lwm2m_observations_find_token(struct lwm2m_observations *obs,
							const uint8_t *token, size_t len)
{
	uint64_t h = hash_bytes(token, len, 0);
	struct hmap_node *n;
	HMAP_FOR_EACH_WITH_HASH(n, h, &obs->by_token)
	{
		struct lwm2m_observation *o = container_of(n, struct lwm2m_observation, by_token);
		if (o->token_len == len && memcmp(o->token, token, len) == 0)
			return o;
	}
	return NULL;
}

struct lwm2m_observation *lwm2m_observations_find_id(struct lwm2m_observations *obs,
						     uint64_t id)
{
	uint64_t h = hash_mix(id);
	struct hmap_node *n;
	HMAP_FOR_EACH_WITH_HASH(n, h, &obs->by_id)
	{
		struct lwm2m_observation *o = container_of(n, struct lwm2m_observation, by_id);
		if (o->id == id)
			return o;
	}
	return NULL;
}

void lwm2m_observations_remove(struct lwm2m_observations *obs, struct lwm2m_observation *o)
{
	if (!o->cancelled && obs->hooks.removed)
		obs->hooks.removed(obs->ctx, o);
	hmap_remove(&obs->by_token, &o->by_token);
	hmap_remove(&obs->by_id, &o->by_id);
	hmap_remove(&obs->by_node, &o->by_node);
	observation_free(o);
}

int lwm2m_observation_paths_format(const struct lwm2m_observation *o, char *buf, size_t cap)
{
	size_t used = 0;
	if (cap == 0)
		return -ENOBUFS;
	buf[0] = '\0';
	for (size_t i = 0; i < o->path_count; i++) {
		if (i > 0) {
			if (used + 1 >= cap)
				return -ENOBUFS;
			buf[used++] = ',';
		}
		int n = lwm2m_path_format(&o->paths[i], buf + used, cap - used);
		if (n < 0)
			return n;
		used += (size_t)n;
	}
	return (int)used;
}

int lwm2m_observe_paths_parse(const char *s, struct lwm2m_path *paths, size_t max)
{
	size_t count = 0;
	while (*s) {
		size_t n = strcspn(s, ",");
		if (count == max || lwm2m_path_parse(s, n, &paths[count]) != 0)
			return -EINVAL;
		count++;
		s += n;
		if (*s == ',' && *++s == '\0')
			return -EINVAL; /* a trailing comma */
	}
	return (int)count;
}

void lwm2m_observation_record(struct lwm2m_observation *o, uint8_t code, int format,
			      uint32_t seq, const uint8_t *payload, size_t len, int64_t now_ms)
{
	o->last_code = code;
	o->last_format = format;
	o->last_seq = seq;
	o->last_ms = now_ms;
	/* A notification bigger than we keep is counted but not kept. */
	o->last_len = len <= sizeof(o->last_payload) ? len : 0;
	if (o->last_len)
		memcpy(o->last_payload, payload, len);
}

struct each_ctx {
	const char *node_id;
	void (*fn)(const struct lwm2m_observation *o, void *ctx);
	void *ctx;
	struct lwm2m_observations *obs;
	size_t removed;
};

static void each_node(struct hmap_node *n, void *ctx)
{
	struct each_ctx *e = ctx;
	struct lwm2m_observation *o = container_of(n, struct lwm2m_observation, by_id);
	if (!e->node_id || strcmp(o->node_id, e->node_id) == 0)
		e->fn(o, e->ctx);
}

void lwm2m_observations_each(struct lwm2m_observations *obs, const char *node_id,
			     void (*fn)(const struct lwm2m_observation *o, void *ctx), void *ctx)
{
	if (!node_id) {
		struct each_ctx e = { node_id, fn, ctx, obs, 0 };
		hmap_for_each(&obs->by_id, each_node, &e);
		return;
	}
	/* One device's: its bucket of the node index, not the whole table. */
	uint64_t h = hash_str(node_id);
	struct hmap_node *n;
	HMAP_FOR_EACH_WITH_HASH(n, h, &obs->by_node)
	{
		struct lwm2m_observation *o = container_of(n, struct lwm2m_observation, by_node);
		if (strcmp(o->node_id, node_id) == 0)
			fn(o, ctx);
	}
}

size_t lwm2m_observations_forget(struct lwm2m_observations *obs, const char *node_id)
{
	uint64_t h = hash_str(node_id);
	size_t removed = 0;
	for (;;) {
		/* Looked up again after each removal: a removal changes the bucket. */
		struct lwm2m_observation *found = NULL;
		struct hmap_node *n;
		HMAP_FOR_EACH_WITH_HASH(n, h, &obs->by_node)
		{
			struct lwm2m_observation *o =
				container_of(n, struct lwm2m_observation, by_node);
			if (strcmp(o->node_id, node_id) == 0) {
				found = o;
				break;
			}
		}
		if (!found)
			return removed;
		lwm2m_observations_remove(obs, found);
		removed++;
	}
}
