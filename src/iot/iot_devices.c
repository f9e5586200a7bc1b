/*
 * iot_devices: access rules, device status and the write-behind of registrations.
 * See iot_devices.h.
 *
 * Write-behind: each hook marks the endpoint dirty (at most one entry per endpoint, found
 * by hash), remembering a status change if there is one. A flush hands the store, per
 * dirty endpoint, the live registration as it is then (or the deletion of the stored one
 * when there is none any more) and the status. Registrations go to the store's own writer
 * thread (store.h), status changes into the loop turn's transaction. Taking the state at
 * flush time rather than each event means ten Updates between flushes cost one row.
 */
#include "iot/iot_devices.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iot/iot_settle.h"
#include "iot/project_stats.h"
#include "store/store.h"
#include "util/hash.h"
#include "util/log.h"
#include "util/str.h"

enum status_change {
	STATUS_UNCHANGED = 0,
	STATUS_TO_ONLINE,
	STATUS_TO_OFFLINE,
};

struct dirty {
	struct hmap_node node;
	struct dirty *next; /* flush order: the order they were first marked in */
	int64_t since_ms;   /* when it was first marked (the layer's clock) */
	uint8_t status;     /* enum status_change */
	char endpoint[LWM2M_ENDPOINT_MAX + 1];
};

struct iot_devices {
	struct store *store;
	struct lwm2m_server *lwm2m;
	struct hmap dirty_map;
	struct dirty *dirty_head, *dirty_tail;
	struct iot_devices_stats stats;
	iot_event_fn on_event;
	void *event_ctx;
	/* Re-Register storms (iot_settle.h): a Register that replaces a registration younger
	 * than settle_ms is announced only once the endpoint has held still that long. The
	 * replaced registration's event waits in `replaced` for the Register right after. */
	int64_t settle_ms;
	struct iot_settle settling;
	struct lwm2m_registration replaced; /* a copy without its links */
	bool have_replaced;
	/* Per-project counters and the queue-mode census (project_stats.h); may be NULL. */
	struct project_stats_table *projects;
	int64_t clock_ms; /* the time of the last flush step: what marks are dated with */
};

static void emit(struct iot_devices *dev, enum iot_event event,
		 const struct lwm2m_registration *reg, int reason)
{
	if (dev->on_event)
		dev->on_event(dev->event_ctx, event, reg, reason);
}

void iot_devices_set_event_handler(struct iot_devices *dev, iot_event_fn fn, void *ctx)
{
	dev->on_event = fn;
	dev->event_ctx = ctx;
}

static struct dirty *dirty_find(struct iot_devices *dev, const char *endpoint, uint64_t h)
{
	struct hmap_node *n;
	HMAP_FOR_EACH_WITH_HASH(n, h, &dev->dirty_map)
	{
		struct dirty *d = container_of(n, struct dirty, node);
		if (strcmp(d->endpoint, endpoint) == 0)
			return d;
	}
	return NULL;
}

static void mark_dirty(struct iot_devices *dev, const char *endpoint, enum status_change st)
{
	uint64_t h = hash_str(endpoint);
	struct dirty *d = dirty_find(dev, endpoint, h);
	if (!d) {
		d = calloc(1, sizeof(*d));
		if (!d) {
			dev->stats.store_errors++;
			LOG_ERROR("iot", "out of memory: change of '%s' not persisted", endpoint);
			return;
		}
		str_copy(d->endpoint, sizeof(d->endpoint), endpoint);
		d->since_ms = dev->clock_ms;
		hmap_insert(&dev->dirty_map, &d->node, h);
		if (dev->dirty_tail)
			dev->dirty_tail->next = d;
		else
			dev->dirty_head = d;
		dev->dirty_tail = d;
	}
	if (st != STATUS_UNCHANGED)
		d->status = (uint8_t)st;
}

static uint8_t hook_authorize(void *ctx, const char *endpoint, enum lwm2m_transport transport,
			      const char *psk_identity, const struct addr *peer, void **owner,
			      const char **why)
{
	struct iot_devices *dev = ctx;
	struct store_device d;
	(void)peer; /* the caller logs refusals with the peer address */
	int rc = store_device_get_by_node_id(dev->store, endpoint, &d);
	if (rc == -ENOENT) {
		*why = "no device has this node ID";
		return COAP_CODE_FORBIDDEN;
	}
	if (rc != 0) {
		dev->stats.store_errors++;
		*why = "the registry could not be read";
		return COAP_CODE_SERVICE_UNAVAILABLE;
	}
	/* docs/architecture.md, security model: a secure device only over DTLS, a plain one
	 * only over plain CoAP, and over DTLS the endpoint must be the PSK identity. */
	if (transport == LWM2M_TRANSPORT_UDP && d.secure_access) {
		*why = "the device has secure access: DTLS only";
		return COAP_CODE_FORBIDDEN;
	}
	if (transport == LWM2M_TRANSPORT_DTLS && !d.secure_access) {
		*why = "the device has no secure access: plain CoAP only";
		return COAP_CODE_FORBIDDEN;
	}
	if (transport == LWM2M_TRANSPORT_DTLS &&
	    (!psk_identity || strcmp(psk_identity, endpoint) != 0)) {
		*why = "the endpoint is not the DTLS PSK identity";
		return COAP_CODE_FORBIDDEN;
	}
	/* The registration counts into its project's statistics from now on, without a
	 * lookup per message. */
	*owner = project_stats_get(dev->projects, d.project_id);
	return 0;
}

/* Keeps the census in step with reg's queue mode and last message (project_stats.h). */
static void census_update(struct lwm2m_registration *reg)
{
	if (reg->queue_mode && !reg->owner_mark)
		project_stats_queue_add(reg->owner, &reg->owner_mark, reg->last_seen_ms);
	else if (!reg->queue_mode)
		project_stats_queue_remove(reg->owner, &reg->owner_mark);
	else
		project_stats_queue_seen(reg->owner, &reg->owner_mark, reg->last_seen_ms);
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int iot_devices_psk(struct iot_devices *dev, const char *identity, uint8_t *key, size_t cap,
		    size_t *key_len)
{
	struct store_device d;
	int rc = store_device_get_by_node_id(dev->store, identity, &d);
	if (rc != 0) {
		if (rc != -ENOENT)
			dev->stats.store_errors++;
		return -ENOENT;
	}
	size_t hex_len = strlen(d.secret);
	if (!d.secure_access || hex_len == 0 || hex_len % 2 != 0 || hex_len / 2 > cap)
		return -ENOENT;
	for (size_t i = 0; i < hex_len / 2; i++) {
		int hi = hex_value(d.secret[2 * i]), lo = hex_value(d.secret[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -ENOENT;
		key[i] = (uint8_t)(hi << 4 | lo);
	}
	*key_len = hex_len / 2;
	return 0;
}

/* A replaced registration whose new one never came (its insert failed): announce it. */
static void flush_replaced(struct iot_devices *dev)
{
	if (!dev->have_replaced)
		return;
	dev->have_replaced = false;
	emit(dev, IOT_EVENT_DEREGISTERED, &dev->replaced, LWM2M_DEREG_REPLACED);
}

static void hook_registered(void *ctx, struct lwm2m_registration *reg)
{
	struct iot_devices *dev = ctx;
	bool storm = false;
	project_stats_counters(reg->owner)->registrations++;
	census_update(reg);
	if (dev->have_replaced && strcmp(dev->replaced.endpoint, reg->endpoint) == 0) {
		dev->have_replaced = false;
		storm = reg->registered_at_ms - dev->replaced.registered_at_ms < dev->settle_ms ||
			iot_settle_contains(&dev->settling, reg->endpoint);
		if (!storm)
			emit(dev, IOT_EVENT_DEREGISTERED, &dev->replaced, LWM2M_DEREG_REPLACED);
	} else {
		flush_replaced(dev);
	}
	mark_dirty(dev, reg->endpoint, STATUS_TO_ONLINE);
	if (storm && iot_settle_add(&dev->settling, reg->endpoint,
				    reg->registered_at_ms + dev->settle_ms) == 0) {
		dev->stats.registers_coalesced++;
		return;
	}
	iot_settle_remove(&dev->settling, reg->endpoint);
	emit(dev, IOT_EVENT_REGISTERED, reg, 0);
}

static void hook_updated(void *ctx, struct lwm2m_registration *reg)
{
	project_stats_counters(reg->owner)->updates++;
	census_update(reg); /* an Update may change the binding */
	flush_replaced(ctx);
	emit(ctx, IOT_EVENT_UPDATED, reg, 0);
	mark_dirty(ctx, reg->endpoint, STATUS_UNCHANGED);
}

static void hook_deregistered(void *ctx, struct lwm2m_registration *reg,
			      enum lwm2m_dereg_reason reason)
{
	struct iot_devices *dev = ctx;
	project_stats_queue_remove(reg->owner, &reg->owner_mark);
	/* A replaced registration goes on as the new one: not an end. */
	if (reason != LWM2M_DEREG_REPLACED)
		project_stats_counters(reg->owner)->deregistrations++;
	flush_replaced(dev);
	if (reason == LWM2M_DEREG_REPLACED && dev->settle_ms > 0) {
		/* The new registration's hook follows at once and decides (hook_registered). */
		dev->replaced = *reg;
		dev->replaced.links = NULL; /* freed with reg; no deregistration event shows it */
		dev->have_replaced = true;
		return;
	}
	iot_settle_remove(&dev->settling, reg->endpoint);
	emit(ctx, IOT_EVENT_DEREGISTERED, reg, (int)reason);
	switch (reason) {
	case LWM2M_DEREG_REQUESTED:
	case LWM2M_DEREG_EXPIRED:
		mark_dirty(ctx, reg->endpoint, STATUS_TO_OFFLINE);
		break;
	case LWM2M_DEREG_REPLACED:
		break; /* the new registration's hook follows at once */
	case LWM2M_DEREG_REMOVED:
		/* The device and its stored registration are already gone. */
		break;
	}
}

int iot_devices_create(struct iot_devices **out, struct store *store)
{
	static const struct lwm2m_hooks hooks = {
		.authorize = hook_authorize,
		.registered = hook_registered,
		.updated = hook_updated,
		.deregistered = hook_deregistered,
	};
	struct iot_devices *dev = calloc(1, sizeof(*dev));
	if (!dev)
		return -ENOMEM;
	dev->store = store;
	dev->settle_ms = IOT_SETTLE_DEFAULT_MS;
	int rc = hmap_init(&dev->dirty_map);
	if (rc == 0)
		rc = iot_settle_init(&dev->settling);
	if (rc == 0)
		rc = lwm2m_server_create(&dev->lwm2m, &hooks, dev);
	if (rc != 0) {
		hmap_destroy(&dev->dirty_map);
		free(dev);
		return rc;
	}
	*out = dev;
	return 0;
}

void iot_devices_destroy(struct iot_devices *dev)
{
	if (!dev)
		return;
	iot_devices_flush_all(dev);
	lwm2m_server_destroy(dev->lwm2m);
	hmap_destroy(&dev->dirty_map);
	iot_settle_destroy(&dev->settling);
	free(dev);
}

void iot_devices_set_stats(struct iot_devices *dev, struct project_stats_table *stats)
{
	dev->projects = stats;
}

void iot_devices_seen(struct iot_devices *dev, struct lwm2m_registration *reg, int64_t now_ms)
{
	(void)dev;
	reg->last_seen_ms = now_ms;
	project_stats_queue_seen(reg->owner, &reg->owner_mark, now_ms);
}

void iot_devices_set_settle_ms(struct iot_devices *dev, int64_t settle_ms)
{
	dev->settle_ms = settle_ms;
}

void iot_devices_settle(struct iot_devices *dev, int64_t now_ms)
{
	char endpoint[LWM2M_ENDPOINT_MAX + 1];
	flush_replaced(dev);
	while (iot_settle_pop_due(&dev->settling, now_ms, endpoint) == 0) {
		const struct lwm2m_registration *reg =
			lwm2m_server_find_endpoint(dev->lwm2m, endpoint);
		if (!reg)
			continue; /* it ended since; its deregistration was announced */
		if (now_ms - reg->registered_at_ms < dev->settle_ms) {
			/* Replaced again since it was added: wait for this one to hold still. */
			iot_settle_add(&dev->settling, endpoint,
				       reg->registered_at_ms + dev->settle_ms);
			continue;
		}
		emit(dev, IOT_EVENT_REGISTERED, reg, 0);
	}
}

struct lwm2m_server *iot_devices_lwm2m(struct iot_devices *dev)
{
	return dev->lwm2m;
}

static void to_store(const struct lwm2m_registration *reg, struct store_registration *out)
{
	memset(out, 0, sizeof(*out));
	str_copy(out->node_id, sizeof(out->node_id), reg->endpoint);
	str_copy(out->reg_id, sizeof(out->reg_id), reg->id);
	out->lifetime = reg->lifetime;
	str_copy(out->binding, sizeof(out->binding), reg->binding);
	str_copy(out->lwm2m_version, sizeof(out->lwm2m_version), reg->version);
	out->links = reg->links;
	char peer[ADDR_STR_MAX];
	str_copy(out->peer, sizeof(out->peer), addr_format(&reg->peer, peer));
	str_copy(out->transport, sizeof(out->transport),
		 reg->transport == LWM2M_TRANSPORT_DTLS ? "dtls" : "udp");
	out->queue_mode = reg->queue_mode;
	out->registered_at_ms = reg->registered_at_ms;
	out->updated_at_ms = reg->updated_at_ms;
}

/* Writes one dirty endpoint. Store errors other than a vanished device are counted. */
static void flush_one(struct iot_devices *dev, const struct dirty *d)
{
	struct lwm2m_registration *reg = lwm2m_server_find_endpoint(dev->lwm2m, d->endpoint);
	int rc;
	if (reg) {
		struct store_registration sr;
		to_store(reg, &sr);
		rc = store_registration_put(dev->store, &sr);
	} else {
		rc = store_registration_delete(dev->store, d->endpoint);
	}
	if (rc != 0 && rc != -ENOENT)
		dev->stats.store_errors++;
	if (d->status != STATUS_UNCHANGED) {
		int st = d->status == STATUS_TO_ONLINE ? STORE_DEVICE_ONLINE : STORE_DEVICE_OFFLINE;
		rc = store_device_set_status(dev->store, d->endpoint, st);
		if (rc != 0 && rc != -ENOENT)
			dev->stats.store_errors++;
	}
	dev->stats.flushed_writes++;
}

/* Hands up to max dirty endpoints first marked at or before older_than to the store:
 * their registrations to the batch the registrations writer gets next, their status
 * changes to the loop turn's transaction. */
static int move_dirty(struct iot_devices *dev, size_t max, int64_t older_than)
{
	if (!dev->dirty_head || max == 0 || dev->dirty_head->since_ms > older_than)
		return 0;
	/* Under group commit the status changes join the turn's transaction as they are. */
	bool own_tx = !store_batching(dev->store);
	int rc = own_tx ? store_begin(dev->store) : 0;
	size_t n = 0;
	while (dev->dirty_head && n < max && dev->dirty_head->since_ms <= older_than) {
		struct dirty *d = dev->dirty_head;
		dev->dirty_head = d->next;
		if (rc == 0)
			flush_one(dev, d);
		hmap_remove(&dev->dirty_map, &d->node);
		free(d);
		n++;
	}
	if (!dev->dirty_head)
		dev->dirty_tail = NULL;
	if (rc == 0 && own_tx)
		rc = store_commit(dev->store);
	if (rc != 0) {
		dev->stats.store_errors++;
		LOG_ERROR("iot", "flushing registrations failed: %d", rc);
		return -EIO;
	}
	return 0;
}

int iot_devices_flush_step(struct iot_devices *dev, int64_t now_ms)
{
	dev->clock_ms = now_ms;
	size_t building = store_registrations_building(dev->store);
	if (building >= IOT_FLUSH_MAX_ROWS)
		return 0;
	size_t room = IOT_FLUSH_MAX_ROWS - building;
	/* Only changes at least IOT_FLUSH_AGE_MS old: the Updates of a device within that
	 * time stay one row, however often the loop turns. */
	return move_dirty(dev, room < IOT_FLUSH_STEP_ROWS ? room : IOT_FLUSH_STEP_ROWS,
			  now_ms - IOT_FLUSH_AGE_MS);
}

int iot_devices_flush(struct iot_devices *dev, int64_t now_ms)
{
	/* While the writer still has the last batch, the next one keeps building (up to
	 * IOT_FLUSH_MAX_ROWS) and the rest of the changes wait in the dirty set, where ten
	 * Updates of one device stay one entry: the loop never queues more than one batch
	 * ahead of the writer, whatever the rate. */
	if (store_registrations_busy(dev->store)) {
		dev->stats.flushes_deferred++;
		return 0;
	}
	int rc = iot_devices_flush_step(dev, now_ms);
	store_registrations_submit(dev->store);
	dev->stats.flushes++;
	return rc;
}

int iot_devices_flush_all(struct iot_devices *dev)
{
	int rc = 0;
	while (dev->dirty_head) {
		rc |= move_dirty(dev, IOT_FLUSH_MAX_ROWS, INT64_MAX);
		store_registrations_submit(dev->store);
	}
	store_registrations_sync(dev->store);
	dev->stats.flushes++;
	return rc ? -EIO : 0;
}

struct restore_ctx {
	struct iot_devices *dev;
	int64_t now_ms;
	int restored;
	/* Registrations that ended while the daemon was down, dealt with after the walk:
	 * the walk's statement must not be disturbed by writes to the same table. */
	char (*expired)[STORE_NODE_ID_MAX + 1];
	size_t expired_count;
	size_t expired_cap;
};

static void note_expired(struct restore_ctx *rc, const char *node_id)
{
	if (rc->expired_count == rc->expired_cap) {
		size_t cap = rc->expired_cap ? rc->expired_cap * 2 : 64;
		void *p = realloc(rc->expired, cap * sizeof(*rc->expired));
		if (!p)
			return; /* stays stored; expires again at the next start */
		rc->expired = p;
		rc->expired_cap = cap;
	}
	str_copy(rc->expired[rc->expired_count++], STORE_NODE_ID_MAX + 1, node_id);
}

static int restore_one(const struct store_registration *sr, void *ctx)
{
	struct restore_ctx *rc = ctx;
	int64_t expires = sr->updated_at_ms + sr->lifetime * 1000;
	/* No project: the device is gone (deleted just before a crash, or the registrations
	 * file is newer than a restored database): the registration goes too. */
	if (expires <= rc->now_ms || sr->lifetime <= 0 || sr->lifetime > LWM2M_MAX_LIFETIME ||
	    sr->project_id[0] == '\0') {
		note_expired(rc, sr->node_id);
		return 0;
	}
	struct lwm2m_registration reg;
	memset(&reg, 0, sizeof(reg));
	str_copy(reg.endpoint, sizeof(reg.endpoint), sr->node_id);
	str_copy(reg.id, sizeof(reg.id), sr->reg_id);
	reg.lifetime = (uint32_t)sr->lifetime;
	str_copy(reg.binding, sizeof(reg.binding), sr->binding);
	str_copy(reg.version, sizeof(reg.version), sr->lwm2m_version);
	reg.queue_mode = sr->queue_mode;
	reg.transport = strcmp(sr->transport, "dtls") == 0 ? LWM2M_TRANSPORT_DTLS
							     : LWM2M_TRANSPORT_UDP;
	if (addr_parse(&reg.peer, sr->peer) != 0)
		memset(&reg.peer, 0, sizeof(reg.peer));
	reg.links = sr->links;
	reg.registered_at_ms = sr->registered_at_ms;
	reg.updated_at_ms = sr->updated_at_ms;
	/* Not heard from since the restart: a queue-mode device counts as asleep, as it is
	 * for the requests held for it (route_device). */
	reg.owner = project_stats_get(rc->dev->projects, sr->project_id);
	if (reg.queue_mode)
		project_stats_queue_add(reg.owner, &reg.owner_mark, 0);
	int err = lwm2m_server_restore(rc->dev->lwm2m, &reg);
	if (err == 0) {
		rc->restored++;
	} else {
		project_stats_queue_remove(reg.owner, &reg.owner_mark);
		LOG_WARN("iot", "stored registration of '%s' not restored: %d", sr->node_id, err);
	}
	return 0;
}

int iot_devices_restore(struct iot_devices *dev, int64_t now_ms)
{
	struct restore_ctx ctx = {.dev = dev, .now_ms = now_ms};
	int rc = store_registration_load_all(dev->store, restore_one, &ctx);
	if (rc == 0 && ctx.expired_count) {
		rc = store_begin(dev->store);
		for (size_t i = 0; rc == 0 && i < ctx.expired_count; i++) {
			store_registration_delete(dev->store, ctx.expired[i]);
			store_device_set_status(dev->store, ctx.expired[i], STORE_DEVICE_OFFLINE);
		}
		if (rc == 0)
			rc = store_commit(dev->store);
		LOG_INFO("iot", "%zu registrations ended while the daemon was down",
			 ctx.expired_count);
	}
	free(ctx.expired);
	return rc != 0 ? rc : ctx.restored;
}

struct sweep_ctx {
	int count;
};

static void swept(const struct store_device *d, void *ctx)
{
	struct sweep_ctx *sc = ctx;
	sc->count++;
	LOG_INFO("iot", "device '%s' (node %s) never connected within %lld s: deleted",
		 d->device_id, d->node_id, (long long)d->timeout);
}

int iot_devices_sweep(struct iot_devices *dev, int64_t now_ms)
{
	struct sweep_ctx sc = {0};
	int rc = store_device_delete_expired(dev->store, now_ms / 1000, swept, &sc);
	if (rc < 0) {
		dev->stats.store_errors++;
		return rc;
	}
	dev->stats.expired_inactive += (uint64_t)rc;
	return rc;
}

void iot_devices_removed(struct iot_devices *dev, const char *node_id)
{
	struct lwm2m_registration *reg = lwm2m_server_find_endpoint(dev->lwm2m, node_id);
	if (reg)
		lwm2m_server_remove(dev->lwm2m, reg);
}

const struct iot_devices_stats *iot_devices_stats(const struct iot_devices *dev)
{
	return &dev->stats;
}
