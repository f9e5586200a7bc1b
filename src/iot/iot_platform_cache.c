/*
 * iot_platform_cache: the devices that reported or registered lately, so that a report
 * reads neither the device nor its shadow from the store (issue 15, aim 5).
 *
 * Why a bounded cache and not a field per registration: a million registered devices cost
 * ~530 bytes each, and the registration belongs to lwm2m/ and iot_devices.c; a cache of
 * at most IOT_DEVICE_CACHE_MAX entries costs the same few MB whether 1 000 or 1 000 000
 * devices are registered. It pays for devices that speak again while their entry is
 * still here: a device reporting in bursts, a device that registered a moment ago (its
 * first answer to the uplink Observe), a command's several status changes. A fleet that
 * reports once an hour, spread evenly, misses it and pays the store read as before.
 *
 * An entry is small: the node_id and device_id (one allocation), a pointer to the
 * product's entry (its model and codec, shared by all its devices) and the shadows of
 * the services the device reported, as the store's text (the merge parses ~30 bytes,
 * the store read it replaces costs ~10 µs). Least recently used goes first.
 *
 * It is never stale, because everything that changes what it holds says so:
 *   - a product's model, codec or mappings changed, or the product deleted
 *     (iot_platform_product_changed): every entry of that product goes;
 *   - a device deleted, its secret reset or its secure_access changed (the daemon's
 *     device_removed hook), or its registration ended: iot_platform_device_forget;
 *   - a shadow written by an API call (desired): that device's cached shadows go.
 * A device's node_id, device_id, project and product never change while it exists (the
 * API cannot change them), so nothing else can make an entry wrong. Shadows are written
 * through (the store has every report within the loop turn's transaction, as before):
 * the cache saves the read, not the write.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "iot/iot_platform_internal.h"
#include "util/str.h"

/* One service's shadow as stored; desired NULL is "{}" (most shadows desire nothing). */
struct cached_shadow {
	struct cached_shadow *next;
	char *reported;
	char *desired;
	int64_t reported_version, reported_time_ms;
	int64_t desired_version, desired_time_ms;
	char service_id[];
};

struct iot_cached {
	struct hmap_node node;          /* by node_id */
	struct iot_cached *newer, *older; /* the LRU list */
	struct product_entry *product;
	struct cached_shadow *shadows;
	const char *device_id;          /* into ids, after node_id */
	char ids[];                     /* node_id \0 device_id \0 */
};

struct iot_cache {
	struct hmap map;
	struct iot_cached *newest, *oldest;
	size_t max;
};

int iot_cache_create(struct iot_cache **out, size_t max)
{
	struct iot_cache *c = calloc(1, sizeof(*c));
	if (!c || hmap_init(&c->map) != 0) {
		free(c);
		return -ENOMEM;
	}
	c->max = max ? max : IOT_DEVICE_CACHE_MAX;
	*out = c;
	return 0;
}

static void shadow_free(struct cached_shadow *s)
{
	free(s->reported);
	free(s->desired);
	free(s);
}

static void shadows_free(struct iot_cached *d)
{
	while (d->shadows) {
		struct cached_shadow *s = d->shadows;
		d->shadows = s->next;
		shadow_free(s);
	}
}

static void unlink_lru(struct iot_cache *c, struct iot_cached *d)
{
	if (d->newer)
		d->newer->older = d->older;
	else
		c->newest = d->older;
	if (d->older)
		d->older->newer = d->newer;
	else
		c->oldest = d->newer;
	d->newer = d->older = NULL;
}

static void push_newest(struct iot_cache *c, struct iot_cached *d)
{
	d->older = c->newest;
	d->newer = NULL;
	if (c->newest)
		c->newest->newer = d;
	c->newest = d;
	if (!c->oldest)
		c->oldest = d;
}

static void drop(struct iot_cache *c, struct iot_cached *d)
{
	unlink_lru(c, d);
	hmap_remove(&c->map, &d->node);
	shadows_free(d);
	free(d);
}

void iot_cache_destroy(struct iot_cache *c)
{
	if (!c)
		return;
	while (c->newest)
		drop(c, c->newest);
	hmap_destroy(&c->map);
	free(c);
}

static struct iot_cached *find(struct iot_cache *c, const char *node_id)
{
	struct hmap_node *n;
	HMAP_FOR_EACH_WITH_HASH(n, hash_str(node_id), &c->map)
	{
		struct iot_cached *d = container_of(n, struct iot_cached, node);
		if (strcmp(d->ids, node_id) == 0)
			return d;
	}
	return NULL;
}

/* dev as the platform's functions take it: only its identity is filled. */
static void fill_device(const struct iot_cached *d, struct store_device *dev)
{
	memset(dev, 0, sizeof(*dev));
	str_copy(dev->project_id, sizeof(dev->project_id), d->product->project_id);
	str_copy(dev->product_id, sizeof(dev->product_id), d->product->product_id);
	str_copy(dev->node_id, sizeof(dev->node_id), d->ids);
	str_copy(dev->device_id, sizeof(dev->device_id), d->device_id);
	dev->status = -1; /* unknown here: no caller of the cache reads it */
}

static void remember(struct iot_cache *c, const struct store_device *dev,
		     struct product_entry *e)
{
	size_t nlen = strlen(dev->node_id), dlen = strlen(dev->device_id);
	struct iot_cached *d = calloc(1, sizeof(*d) + nlen + dlen + 2);
	if (!d)
		return; /* the next report reads the store again */
	memcpy(d->ids, dev->node_id, nlen + 1);
	memcpy(d->ids + nlen + 1, dev->device_id, dlen + 1);
	d->device_id = d->ids + nlen + 1;
	d->product = e;
	hmap_insert(&c->map, &d->node, hash_str(d->ids));
	push_newest(c, d);
	while (c->map.count > c->max)
		drop(c, c->oldest);
}

int iot_device_by_node(struct iot_platform *p, const char *node_id, struct store_device *dev,
		       struct product_entry **e)
{
	struct iot_cache *c = p->cache;
	struct iot_cached *d = find(c, node_id);
	if (d) {
		p->stats.device_cache_hits++;
		unlink_lru(c, d);
		push_newest(c, d);
		fill_device(d, dev);
		*e = d->product;
		return 0;
	}
	p->stats.device_cache_misses++;
	int rc = store_device_get_by_node_id(p->deps.store, node_id, dev);
	if (rc != 0)
		return rc;
	*e = iot_product(p, dev->project_id, dev->product_id);
	if (*e)
		remember(c, dev, *e);
	return 0;
}

int iot_device_by_id(struct iot_platform *p, const char *project_id, const char *device_id,
		     const char *node_id, struct store_device *dev)
{
	struct iot_cached *d = node_id ? find(p->cache, node_id) : NULL;
	if (d && strcmp(d->device_id, device_id) == 0 &&
	    strcmp(d->product->project_id, project_id) == 0) {
		p->stats.device_cache_hits++;
		fill_device(d, dev);
		return 0;
	}
	p->stats.device_cache_misses++;
	return store_device_get(p->deps.store, project_id, device_id, dev);
}

void iot_cache_forget(struct iot_platform *p, const char *node_id)
{
	struct iot_cached *d = find(p->cache, node_id);
	if (d)
		drop(p->cache, d);
}

void iot_cache_forget_product(struct iot_platform *p, const struct product_entry *e)
{
	struct iot_cache *c = p->cache;
	for (struct iot_cached *d = c->newest, *next; d; d = next) {
		next = d->older;
		if (d->product == e)
			drop(c, d);
	}
}

/* The cached shadow of (dev, service_id): the entry must be dev's (same device_id). */
static struct cached_shadow **shadow_slot(struct iot_platform *p,
					  const struct store_device *dev,
					  const char *service_id, struct iot_cached **owner)
{
	struct iot_cached *d = find(p->cache, dev->node_id);
	*owner = d && strcmp(d->device_id, dev->device_id) == 0 ? d : NULL;
	if (!*owner)
		return NULL;
	struct cached_shadow **sp = &d->shadows;
	while (*sp && strcmp((*sp)->service_id, service_id) != 0)
		sp = &(*sp)->next;
	return sp;
}

int iot_cache_shadow_get(struct iot_platform *p, const struct store_device *dev,
			 const char *service_id, struct store_shadow *out)
{
	struct iot_cached *d;
	struct cached_shadow **sp = shadow_slot(p, dev, service_id, &d);
	if (!sp || !*sp)
		return store_shadow_get(p->deps.store, dev->device_id, service_id, out);
	const struct cached_shadow *s = *sp;
	memset(out, 0, sizeof(*out));
	str_copy(out->device_id, sizeof(out->device_id), dev->device_id);
	str_copy(out->service_id, sizeof(out->service_id), service_id);
	out->reported = strdup(s->reported);
	out->desired = strdup(s->desired ? s->desired : "{}");
	out->reported_version = s->reported_version;
	out->reported_time_ms = s->reported_time_ms;
	out->desired_version = s->desired_version;
	out->desired_time_ms = s->desired_time_ms;
	if (!out->reported || !out->desired) {
		store_shadow_clear(out);
		return -ENOMEM;
	}
	return 0;
}

void iot_cache_shadow_stored(struct iot_platform *p, const struct store_device *dev,
			     const struct store_shadow *sh)
{
	struct iot_cached *d;
	struct cached_shadow **sp = shadow_slot(p, dev, sh->service_id, &d);
	if (!sp)
		return; /* not a cached device: nothing to keep in line */
	struct cached_shadow *s = *sp;
	if (!s) {
		size_t len = strlen(sh->service_id);
		s = calloc(1, sizeof(*s) + len + 1);
		if (!s)
			return;
		memcpy(s->service_id, sh->service_id, len + 1);
		*sp = s;
	}
	char *reported = strdup(sh->reported ? sh->reported : "{}");
	char *desired = sh->desired && strcmp(sh->desired, "{}") != 0 ? strdup(sh->desired)
								       : NULL;
	if (!reported || (sh->desired && strcmp(sh->desired, "{}") != 0 && !desired)) {
		/* No memory for the copy: the next report reads the store. */
		free(reported);
		free(desired);
		*sp = s->next;
		shadow_free(s);
		return;
	}
	free(s->reported);
	free(s->desired);
	s->reported = reported;
	s->desired = desired;
	s->reported_version = sh->reported_version;
	s->reported_time_ms = sh->reported_time_ms;
	s->desired_version = sh->desired_version;
	s->desired_time_ms = sh->desired_time_ms;
}

void iot_cache_shadow_forget(struct iot_platform *p, const struct store_device *dev)
{
	struct iot_cached *d = find(p->cache, dev->node_id);
	if (d)
		shadows_free(d);
}

size_t iot_cache_size(const struct iot_platform *p)
{
	return p->cache->map.count;
}

void iot_cache_clear_shadows(struct iot_platform *p)
{
	for (struct iot_cached *d = p->cache->newest; d; d = d->older)
		shadows_free(d);
}
