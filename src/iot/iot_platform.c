/*
 * iot_platform: uplink through codecs into shadows, and commands down.
 */
#include "iot/iot_platform.h"
#include "iot/iot_platform_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "content/content.h"
#include "iot/codec.h"
#include "iot/product_model.h"
#include "iot/project_stats.h"
#include "iot/push.h"
#include "lwm2m/lwm2m_link.h"
#include "model/model.h"
#include "util/hash.h"
#include "util/log.h"
#include "util/str.h"
#include "util/timefmt.h"
#include "util/token.h"

static const struct lwm2m_path uplink_path = { .len = 3, .ids = { 19, 0, 0 } };
static const struct lwm2m_path downlink_path = { .len = 3, .ids = { 19, 1, 0 } };

int iot_platform_create(struct iot_platform **out, const struct iot_platform_deps *deps)
{
	struct iot_platform *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->deps = *deps;
	if (!p->deps.max_pending)
		p->deps.max_pending = IOT_DEFAULT_MAX_PENDING;
	if (hmap_init(&p->in_flight) != 0 || hmap_init(&p->waiting) != 0 ||
	    iot_cache_create(&p->cache, 0) != 0) {
		hmap_destroy(&p->in_flight);
		hmap_destroy(&p->waiting);
		free(p);
		return -ENOMEM;
	}
	int rc = iot_codec_start(p);
	if (rc != 0) {
		iot_platform_destroy(p);
		return rc;
	}
	store_product_any_mappings(p->deps.store, &p->any_mappings);
	*out = p;
	return 0;
}

static void free_entry(struct product_entry *e)
{
	json_decref(e->caps);
	json_decref(e->mappings);
	codec_destroy(e->codec);
	free(e);
}

static void drop_in_flight(struct hmap_node *n, void *ctx)
{
	struct iot_platform *p = ctx;
	struct in_flight *f = container_of(n, struct in_flight, node);
	if (!f->encoding)
		lwm2m_requests_cancel(p->deps.requests, f->handle);
	free(f);
}

static void free_waiting(struct hmap_node *n, void *ctx)
{
	(void)ctx;
	free(container_of(n, struct waiting, node));
}

/* An Observe the platform sent and whose answer has not come. Listed so that shutdown
 * frees those still waiting (a cancelled request never calls back). */
struct observe_ctx {
	struct observe_ctx *prev, *next;
	struct iot_platform *p;
	uint64_t handle;
	char node_id[STORE_NODE_ID_MAX + 1];
	struct lwm2m_path path;
	int accept; /* kept with the observation, so that a cancel asks alike */
};

static void observe_unlink(struct iot_platform *p, struct observe_ctx *oc)
{
	if (oc->prev)
		oc->prev->next = oc->next;
	else
		p->observing = oc->next;
	if (oc->next)
		oc->next->prev = oc->prev;
}

static struct waiting *find_waiting(struct iot_platform *p, const char *node_id)
{
	struct hmap_node *n;
	HMAP_FOR_EACH_WITH_HASH(n, hash_str(node_id), &p->waiting)
	{
		struct waiting *w = container_of(n, struct waiting, node);
		if (strcmp(w->node_id, node_id) == 0)
			return w;
	}
	return NULL;
}

static void mark_waiting(struct iot_platform *p, const char *node_id)
{
	if (find_waiting(p, node_id))
		return;
	struct waiting *w = calloc(1, sizeof(*w));
	if (!w)
		return; /* its commands go at the next Register instead */
	str_copy(w->node_id, sizeof(w->node_id), node_id);
	hmap_insert(&p->waiting, &w->node, hash_str(w->node_id));
}

bool iot_platform_has_waiting(struct iot_platform *p, const char *node_id)
{
	return find_waiting(p, node_id) != NULL;
}

void iot_platform_destroy(struct iot_platform *p)
{
	if (!p)
		return;
	/* First the codec threads: the reports they hand back are applied to the rest. */
	p->stopping = true;
	if (p->worker)
		iot_codec_stop(p);
	hmap_for_each(&p->in_flight, drop_in_flight, p);
	hmap_destroy(&p->in_flight);
	hmap_for_each(&p->waiting, free_waiting, NULL);
	hmap_destroy(&p->waiting);
	while (p->observing) {
		struct observe_ctx *oc = p->observing;
		p->observing = oc->next;
		lwm2m_requests_cancel(p->deps.requests, oc->handle);
		free(oc);
	}
	iot_cache_destroy(p->cache); /* its entries point at the products */
	while (p->products) {
		struct product_entry *e = p->products;
		p->products = e->next;
		free_entry(e);
	}
	free(p);
}

const struct iot_platform_stats *iot_platform_stats(const struct iot_platform *p)
{
	return &p->stats;
}

/* Products. */

struct product_entry *iot_product(struct iot_platform *p, const char *project_id,
				  const char *product_id)
{
	for (struct product_entry *e = p->products; e; e = e->next)
		if (strcmp(e->project_id, project_id) == 0 && strcmp(e->product_id, product_id) == 0)
			return e;
	struct product_entry *e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	str_copy(e->project_id, sizeof(e->project_id), project_id);
	str_copy(e->product_id, sizeof(e->product_id), product_id);
	char *caps = NULL, *source = NULL, kind[16];
	if (store_product_model_get(p->deps.store, project_id, product_id, &caps) == 0)
		e->caps = json_loads(caps, 0, NULL);
	if (!e->caps)
		e->caps = json_array();
	char *maps = NULL;
	if (store_product_mappings_get(p->deps.store, project_id, product_id, &maps) == 0)
		e->mappings = json_loads(maps, 0, NULL);
	free(maps);
	if (!e->mappings)
		e->mappings = json_array();
	if (store_product_codec_get(p->deps.store, project_id, product_id, kind, &source) != 0)
		kind[0] = '\0';
	iot_codec_load(p, e, kind, source);
	free(caps);
	free(source);
	e->next = p->products;
	p->products = e;
	return e;
}

void iot_platform_product_changed(struct iot_platform *p, const char *project_id,
				  const char *product_id)
{
	store_product_any_mappings(p->deps.store, &p->any_mappings);
	for (struct product_entry **pp = &p->products; *pp; pp = &(*pp)->next) {
		struct product_entry *e = *pp;
		if (strcmp(e->project_id, project_id) == 0 && strcmp(e->product_id, product_id) == 0) {
			*pp = e->next;
			iot_cache_forget_product(p, e);
			free_entry(e);
			break;
		}
	}
	/* Loaded again now, not at the next report: the codec threads get the new source (and
	 * drop the old heap) at once. */
	struct store_product prod;
	if (store_product_get(p->deps.store, project_id, product_id, &prod) == -ENOENT)
		iot_codec_forget(p, project_id, product_id);
	else
		iot_product(p, project_id, product_id);
}

void iot_platform_device_forget(struct iot_platform *p, const char *node_id)
{
	iot_cache_forget(p, node_id);
}

void iot_platform_committed(struct iot_platform *p, int rc)
{
	if (rc != 0)
		iot_cache_clear_shadows(p);
}

/* Shadow. */

/* yyyyMMdd'T'HHmmss'Z' of ms. */
static void format_time(int64_t ms, char out[TIME_TEXT_MAX])
{
	time_format(ms / 1000, out);
}

/* Commands: status changes. */

static void command_event(struct iot_platform *p, const struct store_command *c)
{
	struct store_device dev;
	if (!iot_event_wanted(p, c->project_id, "command") ||
	    iot_device_by_id(p, c->project_id, c->device_id, c->node_id, &dev) != 0)
		return;
	iot_publish(p, &dev, "command", iot_platform_command_json(c));
}

/* Writes c's new status and tells the subscribers. */
void iot_command_set(struct iot_platform *p, struct store_command *c, const char *status,
		     json_t *result)
{
	str_copy(c->status, sizeof(c->status), status);
	int64_t now = p->deps.now_ms();
	if (strcmp(status, "SENT") == 0)
		c->sent_ms = now;
	else if (strcmp(status, "DELIVERED") == 0)
		c->delivered_ms = now;
	else if (strcmp(status, "SUCCESSFUL") == 0 || strcmp(status, "FAILED") == 0)
		c->response_ms = now;
	if (result) {
		char *text = json_dumps(result, JSON_COMPACT | JSON_ENCODE_ANY);
		if (text) {
			free(c->result);
			c->result = text;
		}
		json_decref(result);
	}
	struct project_counters *pc =
		project_stats_counters(project_stats_get(p->deps.stats, c->project_id));
	if (strcmp(status, "SUCCESSFUL") == 0) {
		p->stats.commands_succeeded++;
		pc->commands_successful++;
	} else if (strcmp(status, "FAILED") == 0) {
		p->stats.commands_failed++;
		pc->commands_failed++;
	} else if (strcmp(status, "TIMEOUT") == 0) {
		p->stats.commands_failed++;
		pc->commands_timeout++;
	} else if (strcmp(status, "EXPIRED") == 0) {
		p->stats.commands_failed++;
		pc->commands_expired++;
	}
	if (store_command_update(p->deps.store, c) != 0)
		LOG_ERROR("iot", "command %s: status %s not stored", c->command_id, status);
	command_event(p, c);
}

struct in_flight *iot_in_flight(struct iot_platform *p, const char *node_id)
{
	struct hmap_node *n;
	HMAP_FOR_EACH_WITH_HASH(n, hash_str(node_id), &p->in_flight)
	{
		struct in_flight *f = container_of(n, struct in_flight, node);
		if (strcmp(f->node_id, node_id) == 0)
			return f;
	}
	return NULL;
}

/* The device's answer to PUT /19/1/0. */
static void on_delivered(void *ctx, const struct lwm2m_dm_result *res)
{
	struct in_flight *f = ctx;
	struct iot_platform *p = f->p;
	char node_id[sizeof(f->node_id)];
	str_copy(node_id, sizeof(node_id), f->node_id);
	bool settles_on_ack = f->settles_on_ack;
	struct store_command c;
	int rc = store_command_get(p->deps.store, f->command_id, &c);
	hmap_remove(&p->in_flight, &f->node);
	free(f);
	if (rc != 0)
		return;
	if (strcmp(c.status, "SENT") != 0) {
		/* Settled meanwhile (its device was deleted): the answer changes nothing. */
		store_command_clear(&c);
		iot_dispatch(p, node_id);
		return;
	}
	char code[8];
	if (res->status == 0 && res->code == COAP_CODE_CHANGED) {
		iot_command_set(p, &c, "DELIVERED", NULL);
		if (settles_on_ack)
			iot_command_set(p, &c, "SUCCESSFUL", json_pack("{s:i}", "errcode", 0));
	} else if (res->status == 0) {
		iot_command_set(p, &c, "FAILED",
				json_pack("{s:s, s:s}", "error", "the device refused the command",
					  "coap_code", coap_code_format(res->code, code)));
	} else if (res->status == -ETIMEDOUT) {
		iot_command_set(p, &c, "TIMEOUT",
				json_pack("{s:s}", "error", "the device did not acknowledge"));
	} else {
		iot_command_set(p, &c, "FAILED",
				json_pack("{s:s}", "error", strerror(-res->status)));
	}
	store_command_clear(&c);
	/* One at a time: the next goes once this one is settled with the device. */
	iot_dispatch(p, node_id);
}

/* Encodes c and sends it. When the device cannot be reached now, a queued command
 * (immediately false) stays PENDING and -EAGAIN is returned; a JavaScript codec encodes on
 * a codec thread (-EINPROGRESS: iot_codec.c sends it when that is done); any other
 * failure makes c FAILED. */
static int send_command(struct iot_platform *p, struct store_command *c, bool immediately)
{
	/* Every path below either sends c, leaves it PENDING (-EAGAIN), hands it to a codec
	 * thread (-EINPROGRESS, holding the device's place) or settles it: dispatch must never
	 * find the same command PENDING again after an error. */
	struct store_device dev;
	int rc = iot_device_by_id(p, c->project_id, c->device_id, c->node_id, &dev);
	if (rc == -ENOENT) {
		iot_command_set(p, c, "FAILED", json_pack("{s:s}", "error", "the device was deleted"));
		return rc;
	}
	if (rc != 0)
		return -EAGAIN; /* the store failed; try again when the device next speaks */
	struct product_entry *e = iot_product(p, dev.project_id, dev.product_id);
	/* Desired properties of a product without a codec are its mapped resources. */
	bool mapped_write = e && !iot_has_codec(e) &&
			    strcmp(c->command_name, IOT_DESIRED_COMMAND) == 0;
	if (!e || (!iot_has_codec(e) && !mapped_write)) {
		iot_command_set(p, c, "FAILED",
				json_pack("{s:s}", "error", "the product has no codec"));
		return -ENOENT;
	}
	if (!mapped_write)
		return iot_encode_and_send(p, c, &dev, e, immediately);
	json_t *paras = json_loads(c->paras, 0, NULL);
	if (!paras)
		paras = json_object();
	uint8_t payload[CODEC_MAX_PAYLOAD];
	char err[256];
	struct lwm2m_dm_request dm = { .op = LWM2M_OP_WRITE_REPLACE, .path = downlink_path,
				       .accept = -1, .content_format = CONTENT_OPAQUE,
				       .payload = payload, .timeout_ms = 60000 };
	rc = iot_mapped_write(e, c->service_id, paras, &dm, payload, sizeof(payload), err,
			      sizeof(err));
	json_decref(paras);
	if (rc != 0) {
		iot_command_set(p, c, "FAILED", json_pack("{s:s}", "error", err));
		return rc;
	}
	return iot_transmit(p, c, &dm, true, immediately);
}

int iot_transmit(struct iot_platform *p, struct store_command *c,
		 const struct lwm2m_dm_request *dm, bool settles_on_ack, bool immediately)
{
	struct in_flight *f = calloc(1, sizeof(*f));
	if (!f)
		return -EAGAIN;
	f->p = p;
	str_copy(f->node_id, sizeof(f->node_id), c->node_id);
	str_copy(f->command_id, sizeof(f->command_id), c->command_id);
	f->settles_on_ack = settles_on_ack;
	int rc = lwm2m_requests_send(p->deps.requests, c->node_id, dm, false, on_delivered, f,
				     &f->handle);
	if (rc != 0) {
		free(f);
		if (!immediately && (rc == -ENOTCONN || rc == -EAGAIN))
			return -EAGAIN; /* it goes when the device next speaks */
		iot_command_set(p, c, "FAILED",
			    json_pack("{s:s}", "error",
				      rc == -ENOTCONN || rc == -EAGAIN ? "the device is not reachable now"
								       : strerror(-rc)));
		return rc;
	}
	hmap_insert(&p->in_flight, &f->node, hash_str(f->node_id));
	p->stats.commands_sent++;
	iot_command_set(p, c, "SENT", NULL);
	return 0;
}

/* Sends node_id's oldest pending command, unless one is in flight. */
void iot_dispatch(struct iot_platform *p, const char *node_id)
{
	struct waiting *w = p->stopping ? NULL : find_waiting(p, node_id);
	while (w && !iot_in_flight(p, node_id)) {
		struct store_command c;
		int rc = store_command_next_pending(p->deps.store, node_id, &c);
		if (rc == -ENOENT) {
			hmap_remove(&p->waiting, &w->node);
			free(w);
		}
		if (rc != 0)
			return;
		rc = send_command(p, &c, false);
		store_command_clear(&c);
		if (rc == 0 || rc == -EAGAIN || rc == -EINPROGRESS)
			return;
		/* That one FAILED: go on with the next. */
	}
}

/* Uplink. */

void iot_report(struct iot_platform *p, const struct store_device *dev,
		struct product_entry *e, const json_t *msg)
{
	size_t i;
	const json_t *item;
	json_array_foreach(json_object_get(msg, "data"), i, item) {
		const char *sid = json_string_value(json_object_get(item, "serviceId"));
		const json_t *data = json_object_get(item, "serviceData");
		const json_t *svc = product_model_service(e->caps, sid);
		char err[256];
		if (!svc) {
			iot_codec_error(p, dev, "model", "service %s is not in the product model", sid);
			continue;
		}
		if (product_model_check_properties(svc, data, err, sizeof(err)) != 0) {
			iot_codec_error(p, dev, "model", "%s", err);
			continue;
		}
		const char *when = json_string_value(json_object_get(item, "eventTime"));
		int64_t event_s = time_parse(when);
		int64_t event_ms = event_s < 0 ? p->deps.now_ms() : event_s * 1000;
		if (iot_shadow_report(p, dev, sid, data, event_ms) != 0) {
			LOG_ERROR("iot", "%s: shadow of %s not stored", dev->node_id, sid);
			continue;
		}
		p->stats.properties++;
		project_stats_counters(project_stats_get(p->deps.stats, dev->project_id))->reports++;
		if (!iot_event_wanted(p, dev->project_id, "property"))
			continue;
		char t[TIME_TEXT_MAX];
		format_time(event_ms, t);
		iot_publish(p, dev, "property",
			json_pack("{s:s, s:O, s:s}", "service_id", sid, "properties", data,
				  "event_time", t));
	}
}

void iot_platform_notification(struct iot_platform *p, const struct lwm2m_observation *o,
			       int format, const uint8_t *payload, size_t len)
{
	struct store_device dev;
	struct product_entry *e;
	if (o->path.len == 3 && o->path.ids[0] != 19) {
		if (len && p->any_mappings && iot_device_by_node(p, o->node_id, &dev, &e) == 0 &&
		    iot_mapped_report(p, &dev, o, format, payload, len))
			iot_dispatch(p, o->node_id);
		return;
	}
	if (o->path.len < 2 || o->path.ids[0] != 19 || o->path.ids[1] != 0 ||
	    (o->path.len == 3 && o->path.ids[2] != 0) || o->path.len > 3)
		return;
	if (iot_device_by_node(p, o->node_id, &dev, &e) != 0)
		return;
	if (len == 0)
		return; /* the first answer of an empty container */
	bool queued = false;
	if (format < 0 || format == CONTENT_OPAQUE) {
		queued = iot_uplink(p, &dev, e, payload, len);
	} else {
		/* Multiple-instance /19/0/0 in TLV or SenML: each instance is one message. */
		struct lwm2m_values values;
		lwm2m_values_init(&values);
		int rc = content_decode((uint16_t)format, &o->path, payload, len, model_type_of, NULL,
					&values);
		if (rc != 0)
			iot_codec_error(p, &dev, "content", "the /19/0/0 payload does not decode (%s)",
				    strerror(-rc));
		for (size_t i = 0; rc == 0 && i < values.count; i++) {
			const struct lwm2m_value *v = &values.items[i];
			if (v->type == LWM2M_TYPE_OPAQUE && v->path.len >= 3 && v->path.ids[2] == 0)
				queued |= iot_uplink(p, &dev, e, v->v.bytes.data, v->v.bytes.len);
		}
		lwm2m_values_free(&values);
	}
	/* It spoke: it is awake. A report on a codec thread dispatches when it is applied, so
	 * that what it reports (a desired value reached) counts before the next command. */
	if (!queued)
		iot_dispatch(p, o->node_id);
}

/* Observing the uplink. */

static void on_observed(void *ctx, const struct lwm2m_dm_result *res)
{
	struct observe_ctx *oc = ctx;
	struct iot_platform *p = oc->p;
	observe_unlink(p, oc);
	if (res->status == 0 && COAP_CODE_CLASS(res->code) == 2 && res->observing) {
		struct lwm2m_observe_request what = { .format = oc->accept };
		struct lwm2m_observation *o = lwm2m_observations_add_request(
			p->deps.observations, oc->node_id, &oc->path, res->token, res->token_len,
			&what);
		if (o) {
			lwm2m_observation_record(o, res->code, res->content_format, 0, res->payload,
						 res->payload_len, p->deps.now_ms());
			/* The first answer carries the current value: it is a report too. */
			iot_platform_notification(p, o, res->content_format, res->payload,
						  res->payload_len);
		}
	} else {
		struct store_device dev;
		char code[8];
		if (store_device_get_by_node_id(p->deps.store, oc->node_id, &dev) == 0)
		{
			char path[40];
			lwm2m_path_format(&oc->path, path, sizeof(path));
			iot_codec_error(p, &dev, "observe", "observing %s failed: %s", path,
				    res->status ? strerror(-res->status)
						: coap_code_format(res->code, code));
		}
	}
	free(oc);
}

static void observe(struct iot_platform *p, const char *node_id, const struct lwm2m_path *path,
		    int accept)
{
	struct observe_ctx *oc = calloc(1, sizeof(*oc));
	if (!oc)
		return;
	oc->p = p;
	oc->path = *path;
	oc->accept = accept;
	str_copy(oc->node_id, sizeof(oc->node_id), node_id);
	struct lwm2m_dm_request dm = { .op = LWM2M_OP_OBSERVE, .path = *path, .accept = accept,
				       .content_format = -1, .timeout_ms = 60000 };
	if (lwm2m_requests_send(p->deps.requests, node_id, &dm, true, on_observed, oc,
				&oc->handle) != 0) {
		free(oc);
		return;
	}
	oc->next = p->observing;
	if (oc->next)
		oc->next->prev = oc;
	p->observing = oc;
}

void iot_platform_device_active(struct iot_platform *p, const char *node_id, bool registered)
{
	if (!registered) {
		iot_dispatch(p, node_id);
		return;
	}
	struct store_device dev;
	struct product_entry *e;
	if (iot_device_by_node(p, node_id, &dev, &e) != 0)
		return;
	if (iot_has_codec(e))
		observe(p, node_id, &uplink_path, CONTENT_OPAQUE);
	size_t i;
	const json_t *m;
	struct lwm2m_path path;
	json_array_foreach(e ? e->mappings : NULL, i, m) {
		if (iot_mapping_path(m, &path) == 0)
			observe(p, node_id, &path, -1);
	}
	iot_dispatch(p, node_id);
}

/* Commands from the API. */

json_t *iot_platform_command_json(const struct store_command *c)
{
	char t[TIME_TEXT_MAX];
	json_t *o = json_object();
	json_object_set_new(o, "command_id", json_string(c->command_id));
	json_object_set_new(o, "service_id", json_string(c->service_id));
	json_object_set_new(o, "command_name", json_string(c->command_name));
	json_t *paras = json_loads(c->paras, 0, NULL);
	json_object_set_new(o, "paras", paras ? paras : json_object());
	json_object_set_new(o, "send_strategy", json_string(c->send_strategy));
	json_object_set_new(o, "status", json_string(c->status));
	json_object_set_new(o, "mid", json_integer(c->mid));
	format_time(c->created_ms, t);
	json_object_set_new(o, "created_time", json_string(t));
	format_time(c->expire_ms, t);
	json_object_set_new(o, "expire_time", json_string(t));
	const struct {
		const char *name;
		int64_t ms;
	} times[] = { { "sent_time", c->sent_ms },
		      { "delivered_time", c->delivered_ms },
		      { "response_time", c->response_ms } };
	for (size_t i = 0; i < 3; i++) {
		if (times[i].ms) {
			format_time(times[i].ms, t);
			json_object_set_new(o, times[i].name, json_string(t));
		} else {
			json_object_set_new(o, times[i].name, json_null());
		}
	}
	json_t *result = json_loads(c->result, JSON_DECODE_ANY, NULL);
	json_object_set_new(o, "result", result ? result : json_null());
	return o;
}

int iot_fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return rc;
}

int iot_command_room(struct iot_platform *p, const struct store_device *dev, int more,
		     char *err, size_t errlen)
{
	int64_t open = 0;
	int rc = store_command_count_open_node(p->deps.store, dev->node_id, &open);
	if (rc)
		return rc;
	if (open + more > p->deps.max_pending)
		return iot_fail(err, errlen, -ENOSPC,
			    "device %s already has %lld open commands (at most %u)", dev->device_id,
			    (long long)open, p->deps.max_pending);
	return 0;
}

int iot_command_add(struct iot_platform *p, const struct store_device *dev,
		    const char *service_id, const char *command_name, const json_t *paras,
		    const char *strategy, int64_t expire_s, struct store_command *out)
{
	memset(out, 0, sizeof(*out));
	if (token_random_hex(out->command_id, sizeof(out->command_id), 16) != 0)
		return -EIO;
	str_copy(out->project_id, sizeof(out->project_id), dev->project_id);
	str_copy(out->device_id, sizeof(out->device_id), dev->device_id);
	str_copy(out->node_id, sizeof(out->node_id), dev->node_id);
	str_copy(out->service_id, sizeof(out->service_id), service_id);
	str_copy(out->command_name, sizeof(out->command_name), command_name);
	out->paras = json_is_object(paras) ? json_dumps(paras, JSON_COMPACT) : strdup("{}");
	out->result = strdup("null");
	str_copy(out->send_strategy, sizeof(out->send_strategy), strategy);
	str_copy(out->status, sizeof(out->status), "PENDING");
	out->created_ms = p->deps.now_ms();
	out->expire_ms = out->created_ms + expire_s * 1000;
	if (!out->paras || !out->result) {
		store_command_clear(out);
		return -ENOMEM;
	}
	/* mid 1..65535 from the store's sequence: distinct among a device's recent commands,
	 * and across restarts. Known before the insert, it goes in with the row. */
	int64_t next = 0;
	if (store_command_next_seq(p->deps.store, &next) == 0)
		out->mid = (int)(next % 65535) + 1;
	int rc = store_command_insert(p->deps.store, out);
	if (rc == 0 && out->mid != (int)(out->seq % 65535) + 1) {
		out->mid = (int)(out->seq % 65535) + 1; /* not the seq foreseen: set it after */
		rc = store_command_update(p->deps.store, out);
	}
	if (rc) {
		store_command_clear(out);
		return rc;
	}
	p->stats.commands_created++;
	project_stats_counters(project_stats_get(p->deps.stats, dev->project_id))->commands_created++;
	mark_waiting(p, dev->node_id);
	command_event(p, out);
	return 0;
}

int iot_platform_command_create(struct iot_platform *p, const struct store_device *dev,
				const json_t *body, struct store_command *out, char *err,
				size_t errlen)
{
	const char *sid = json_string_value(json_object_get(body, "service_id"));
	const char *name = json_string_value(json_object_get(body, "command_name"));
	const json_t *paras = json_object_get(body, "paras");
	const char *strategy = json_string_value(json_object_get(body, "send_strategy"));
	const json_t *expire = json_object_get(body, "expire_time");
	if (!sid || !*sid)
		return iot_fail(err, errlen, -EINVAL, "service_id is required");
	if (!name || !*name)
		return iot_fail(err, errlen, -EINVAL, "command_name is required");
	if (json_object_get(body, "send_strategy") && !strategy)
		return iot_fail(err, errlen, -EINVAL, "send_strategy must be immediately or delay");
	if (!strategy)
		strategy = "delay";
	if (strcmp(strategy, "immediately") != 0 && strcmp(strategy, "delay") != 0)
		return iot_fail(err, errlen, -EINVAL, "send_strategy must be immediately or delay");
	json_int_t expire_s = IOT_EXPIRE_DEFAULT_S;
	if (expire) {
		if (!json_is_integer(expire) || json_integer_value(expire) < 0 ||
		    json_integer_value(expire) > IOT_EXPIRE_MAX_S)
			return iot_fail(err, errlen, -EINVAL, "expire_time must be 0-%d seconds",
				    IOT_EXPIRE_MAX_S);
		expire_s = json_integer_value(expire);
	}
	struct product_entry *e = iot_product(p, dev->project_id, dev->product_id);
	if (!e)
		return -ENOMEM;
	const json_t *svc = product_model_service(e->caps, sid);
	if (!svc)
		return iot_fail(err, errlen, -EINVAL, "service_id %s is not in the product model", sid);
	const json_t *cmd = product_model_command(svc, name);
	if (!cmd)
		return iot_fail(err, errlen, -EINVAL, "command_name %s is not a command of service %s",
			    name, sid);
	int rc = product_model_check_paras(cmd, paras, err, errlen);
	if (rc)
		return rc;
	if (!iot_has_codec(e))
		return iot_fail(err, errlen, -ENOENT, "product %s has no codec to encode commands",
			    dev->product_id);
	rc = iot_command_room(p, dev, 1, err, errlen);
	if (rc)
		return rc;
	rc = iot_command_add(p, dev, sid, name, paras, strategy, expire_s, out);
	if (rc)
		return rc;
	if (strcmp(strategy, "immediately") == 0) {
		struct in_flight *f = iot_in_flight(p, dev->node_id);
		if (!f)
			send_command(p, out, true);
		else if (f->encoding && e->codec_kind == CODEC_JS)
			/* The one ahead is only being encoded: this one is encoded right behind it,
			 * then goes or fails as it would have a moment after that one. */
			iot_encode_behind(p, out, dev, e);
		/* Else in order behind the one in flight; it goes when that one settles. */
		/* out is the command as it is now: whatever happened to it was done to out. */
		return 0;
	}
	iot_dispatch(p, dev->node_id);
	/* The caller shows the command as it is now: dispatch may have sent it (from its own
	 * copy). */
	struct store_command now;
	if (store_command_get(p->deps.store, out->command_id, &now) == 0) {
		store_command_clear(out);
		*out = now;
	}
	return 0;
}

/* Time. */

/* Settles a command the store handed to a callback (const, and only valid during it). */
static void settle(struct iot_platform *p, const struct store_command *c, const char *status,
		   const char *error)
{
	struct store_command copy = *c;
	copy.paras = strdup(c->paras);
	copy.result = strdup(c->result);
	iot_command_set(p, &copy, status, json_pack("{s:s}", "error", error));
	store_command_clear(&copy);
}

static int settle_due(const struct store_command *c, void *ctx)
{
	if (strcmp(c->status, "PENDING") == 0)
		settle(ctx, c, "EXPIRED", "the device did not take it before expire_time");
	else
		settle(ctx, c, "TIMEOUT", "the device did not answer the command");
	return 0;
}

void iot_platform_tick(struct iot_platform *p)
{
	int64_t now = p->deps.now_ms();
	store_command_due(p->deps.store, now, now - IOT_COMMAND_ANSWER_MS, settle_due, p);
}

static int restore_one(const struct store_command *c, void *ctx)
{
	struct iot_platform *p = ctx;
	if (strcmp(c->status, "PENDING") == 0)
		mark_waiting(p, c->node_id);
	if (strcmp(c->status, "SENT") == 0)
		settle(p, c, "TIMEOUT",
		       "the daemon stopped before the device acknowledged; not sent again");
	return 0;
}

int iot_platform_restore(struct iot_platform *p)
{
	return store_command_load_open(p->deps.store, restore_one, p);
}
