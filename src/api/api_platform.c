/*
 * api_platform: the platform layer's routes (docs/api.md "Codecs", "Commands", "Shadow").
 *
 *   GET|PUT|DELETE /v5/iot/{p}/products/{id}/codec        {"kind":"js"|"declarative","source"}
 *   POST           /v5/iot/{p}/products/{id}/codec/test   {"payload_hex"} or {"cloud_req"},
 *                                                          optionally with kind and source
 * A JavaScript codec's test, and the compile check of its upload, run on a codec thread
 * (iot_codec.c): those calls are deferred and answered when the thread is done.
 *   POST|GET       /v5/iot/{p}/devices/{id}/async-commands
 *   GET            /v5/iot/{p}/devices/{id}/async-commands/{command_id}
 *   GET|PUT        /v5/iot/{p}/devices/{id}/shadow
 *   POST|GET       /v5/iot/{p}/forwarding-rules, DELETE …/forwarding-rules/{rule_id}
 */
#include "api/api_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "iot/codec.h"
#include "iot/iot_platform.h"
#include "iot/push.h"
#include "store/store_platform.h"
#include "store/store_push.h"
#include "util/str.h"
#include "util/token.h"

/* Largest codec source accepted: Duktape's compiler is not bounded in time, so the size
 * is what bounds it. */
#define CODEC_SOURCE_MAX (64 * 1024)

static bool platform_ready(struct api_call *c)
{
	if (!c->api->deps.platform) {
		api_reply_error(c, 503, "the platform layer is not available");
		return false;
	}
	return true;
}

static int product_exists(struct api_call *c)
{
	struct store_product p;
	int rc = store_product_get(c->api->deps.store, c->project_id, c->id, &p);
	if (rc)
		api_reply_store_error(c, rc, "product");
	return rc;
}

/* kind and source from body; 0, or -EINVAL with the 400 set. */
static int read_codec(struct api_call *c, const json_t *body, const char **kind,
		      const char **source)
{
	*kind = json_string_value(json_object_get(body, "kind"));
	*source = json_string_value(json_object_get(body, "source"));
	if (!*kind || (strcmp(*kind, "js") != 0 && strcmp(*kind, "declarative") != 0)) {
		api_reply_error(c, 400, "kind must be \"js\" or \"declarative\"");
		return -EINVAL;
	}
	if (!*source || json_string_length(json_object_get(body, "source")) == 0 ||
	    json_string_length(json_object_get(body, "source")) > CODEC_SOURCE_MAX) {
		api_reply_error(c, 400, "source must be a string of 1-%d characters",
				CODEC_SOURCE_MAX);
		return -EINVAL;
	}
	return 0;
}

void api_codec_get(struct api_call *c)
{
	char kind[16], *source = NULL;
	int rc = store_product_codec_get(c->api->deps.store, c->project_id, c->id, kind, &source);
	if (rc) {
		api_reply_store_error(c, rc, "product");
		return;
	}
	if (!kind[0]) {
		free(source);
		api_reply_error(c, 404, "product %s has no codec", c->id);
		return;
	}
	json_t *o = json_pack("{s:s, s:s}", "kind", kind, "source", source);
	free(source);
	/* Whether it runs, or is suspended for running out of time too often. */
	json_t *status = c->api->deps.platform && o ? iot_platform_codec_status(
							     c->api->deps.platform, c->project_id, c->id)
						   : NULL;
	if (status)
		json_object_update(o, status);
	json_decref(status);
	api_reply(c, 200, o);
}

/* A codec call (test, or upload's compile check) that may wait for a codec thread: it is
 * answered through the route's call while the route runs (a declarative codec), or, once
 * deferred, through req. */
struct codec_wait {
	struct api_call *c;     /* while the route runs */
	struct api_request *req; /* once deferred */
	struct api_server *api;
	struct iot_codec_call *call;
	char project_id[STORE_ID_MAX + 1];
	char product_id[STORE_ID_MAX + 1];
	char kind[16];
	char *source; /* an upload's, to store once it compiles */
};

static void wait_free(struct codec_wait *w)
{
	free(w->source);
	free(w);
}

static void wait_reply(struct codec_wait *w, unsigned status, json_t *body)
{
	if (!w->req) {
		api_reply(w->c, status, body);
		return;
	}
	w->req->codec_call = NULL;
	api_deferred_reply(w->req, status, body);
}

static void wait_error(struct codec_wait *w, unsigned status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void wait_error(struct codec_wait *w, unsigned status, const char *fmt, ...)
{
	char msg[768];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!w->req) {
		api_reply_error(w->c, status, "%s", msg);
		return;
	}
	w->req->codec_call = NULL;
	api_deferred_error(w->req, status, "%s", msg);
}

void api_codec_abandon(struct api_request *req)
{
	struct codec_wait *w = req->codec_call;
	req->codec_call = NULL;
	iot_platform_codec_abandon(w->call);
	wait_free(w);
}

/* A codec that failed on its source or its input: 400, with "error_line" beside the
 * message when the error comes from a line of the source (codec_error_line), so that an
 * editor can point at it. */
static void wait_codec_error(struct codec_wait *w, const char *prefix, const char *err)
{
	char msg[768];
	snprintf(msg, sizeof(msg), "%s%s", prefix, err ? err : "");
	json_t *body = api_error_json(400, msg);
	int line = codec_error_line(err);
	if (body && line > 0)
		json_object_set_new(body, "error_line", json_integer(line));
	wait_reply(w, 400, body);
}

static void on_tested(void *ctx, int rc, json_t *result, const char *err)
{
	struct codec_wait *w = ctx;
	if (rc)
		wait_codec_error(w, "", err);
	else
		wait_reply(w, 200, json_incref(result));
	if (w->req)
		wait_free(w);
}

/* The upload compiled: stored, and the platform told. */
static void on_compiled(void *ctx, int rc, json_t *result, const char *err)
{
	struct codec_wait *w = ctx;
	struct iot_platform *platform = w->api->deps.platform;
	(void)result;
	if (rc)
		wait_codec_error(w, "the codec does not compile: ", err);
	else if ((rc = store_product_codec_set(w->api->deps.store, w->project_id, w->product_id,
					       w->kind, w->source)) != 0)
		wait_error(w, rc == -ENOENT ? 404 : 500, rc == -ENOENT ? "product %s not found"
									: "product %s not stored",
			   w->product_id);
	else {
		iot_platform_product_changed(platform, w->project_id, w->product_id);
		/* Uploading a codec again is how a suspended one is resumed. */
		iot_platform_codec_resume(platform, w->project_id, w->product_id);
		wait_reply(w, 200, json_pack("{s:s, s:s}", "kind", w->kind, "source", w->source));
	}
	if (w->req)
		wait_free(w);
}

/* Runs kind/source on the input (none: the upload's compile check); answers now, or
 * defers the call until a codec thread is done. Takes w. */
static void codec_start(struct api_call *c, struct codec_wait *w, const char *source,
			const uint8_t *payload, size_t len, const json_t *cloud_req)
{
	w->c = c;
	w->api = c->api;
	str_copy(w->project_id, sizeof(w->project_id), c->project_id);
	str_copy(w->product_id, sizeof(w->product_id), c->id);
	int rc = iot_platform_codec_run(c->api->deps.platform, c->project_id, c->id, w->kind,
					source, payload, len, cloud_req,
					w->source ? on_compiled : on_tested, w, &w->call);
	if (rc == -ENOBUFS)
		api_reply_error(c, 429, "the codec queue of product %s is full; try again later",
				c->id);
	else if (rc)
		api_reply_error(c, 503, "the codec cannot run now: %s", strerror(-rc));
	if (rc || !w->call) {
		wait_free(w);
		return;
	}
	w->c = NULL;
	w->req = api_defer(c);
	w->req->codec_call = w;
}

void api_codec_put(struct api_call *c)
{
	if (!platform_ready(c) || product_exists(c) != 0)
		return;
	json_t *body = api_body_object(c);
	if (!body)
		return;
	const char *kind, *source;
	if (read_codec(c, body, &kind, &source) == 0) {
		/* It must compile before devices depend on it. */
		struct codec_wait *w = calloc(1, sizeof(*w));
		if (w)
			w->source = strdup(source);
		if (!w || !w->source) {
			free(w);
			api_reply_error(c, 500, "out of memory");
		} else {
			str_copy(w->kind, sizeof(w->kind), kind);
			codec_start(c, w, source, NULL, 0, NULL);
		}
	}
	json_decref(body);
}

void api_codec_delete(struct api_call *c)
{
	if (!platform_ready(c))
		return;
	int rc = store_product_codec_set(c->api->deps.store, c->project_id, c->id, "", "");
	if (rc) {
		api_reply_store_error(c, rc, "product");
		return;
	}
	iot_platform_product_changed(c->api->deps.platform, c->project_id, c->id);
	api_reply(c, 204, NULL);
}

static int hex_decode(const char *hex, uint8_t *out, size_t cap, size_t *len)
{
	size_t n = strlen(hex);
	if (n % 2 || n / 2 > cap)
		return -EINVAL;
	for (size_t i = 0; i < n / 2; i++) {
		unsigned v;
		if (sscanf(hex + 2 * i, "%2x", &v) != 1 || !strchr("0123456789abcdefABCDEF", hex[2 * i]) ||
		    !strchr("0123456789abcdefABCDEF", hex[2 * i + 1]))
			return -EINVAL;
		out[i] = (uint8_t)v;
	}
	*len = n / 2;
	return 0;
}

void api_codec_test(struct api_call *c)
{
	if (!platform_ready(c) || product_exists(c) != 0)
		return;
	json_t *body = api_body_object(c);
	if (!body)
		return;
	char stored_kind[16] = "", *stored = NULL;
	const char *kind, *source;
	if (json_object_get(body, "source")) {
		if (read_codec(c, body, &kind, &source) != 0)
			goto out;
	} else {
		int rc = store_product_codec_get(c->api->deps.store, c->project_id, c->id,
						 stored_kind, &stored);
		if (rc || !stored_kind[0]) {
			api_reply_error(c, 400, "product %s has no codec; give kind and source",
					c->id);
			goto out;
		}
		kind = stored_kind;
		source = stored;
	}
	const char *hex = json_string_value(json_object_get(body, "payload_hex"));
	const json_t *req = json_object_get(body, "cloud_req");
	uint8_t payload[CODEC_MAX_PAYLOAD];
	size_t len = 0;
	if (!!hex == !!req || (req && !json_is_object(req))) {
		api_reply_error(c, 400, "give either payload_hex (to decode) or cloud_req (to encode)");
		goto out;
	}
	if (hex && hex_decode(hex, payload, sizeof(payload), &len) != 0) {
		api_reply_error(c, 400, "payload_hex must be hex digits, at most %d bytes",
				CODEC_MAX_PAYLOAD);
		goto out;
	}
	struct codec_wait *w = calloc(1, sizeof(*w));
	if (!w) {
		api_reply_error(c, 500, "out of memory");
		goto out;
	}
	str_copy(w->kind, sizeof(w->kind), kind);
	codec_start(c, w, source, hex ? payload : NULL, len, req);
out:
	free(stored);
	json_decref(body);
}

/* Commands. */

static int device_of(struct api_call *c, struct store_device *dev)
{
	int rc = store_device_get(c->api->deps.store, c->project_id, c->id, dev);
	if (rc)
		api_reply_store_error(c, rc, "device");
	return rc;
}

void api_commands_create(struct api_call *c)
{
	struct store_device dev;
	if (!platform_ready(c) || device_of(c, &dev) != 0)
		return;
	json_t *body = api_body_object(c);
	if (!body)
		return;
	struct store_command cmd;
	char err[512] = "";
	int rc = iot_platform_command_create(c->api->deps.platform, &dev, body, &cmd, err,
					     sizeof(err));
	if (rc == 0) {
		api_reply(c, 201, iot_platform_command_json(&cmd));
		store_command_clear(&cmd);
	} else if (rc == -EINVAL || rc == -ENOENT || rc == -ENOSPC) {
		api_reply_error(c, 400, "%s", err);
	} else {
		api_reply_store_error(c, rc, "command");
	}
	json_decref(body);
}

static int list_one(const struct store_command *cmd, void *ctx)
{
	return json_array_append_new(ctx, iot_platform_command_json(cmd)) == 0 ? 0 : -ENOMEM;
}

void api_commands_list(struct api_call *c)
{
	struct store_device dev;
	struct api_err err;
	int64_t limit, offset, total = 0;
	if (device_of(c, &dev) != 0)
		return;
	if (api_parse_paging(api_query(c, "limit"), api_query(c, "offset"), &limit, &offset,
			     &err) != 0) {
		api_reply_error(c, 400, "%s", err.msg);
		return;
	}
	json_t *items = json_array();
	int rc = store_command_list(c->api->deps.store, dev.device_id, offset, limit, list_one,
				    items, &total);
	if (rc) {
		json_decref(items);
		api_reply_store_error(c, rc, "commands");
		return;
	}
	api_reply(c, 200, json_pack("{s:o, s:{s:I}}", "commands", items, "page", "count",
				    (json_int_t)total));
}

void api_commands_get(struct api_call *c)
{
	struct store_device dev;
	if (device_of(c, &dev) != 0)
		return;
	const char *id = strrchr(c->url, '/') + 1;
	struct store_command cmd;
	int rc = store_command_get(c->api->deps.store, id, &cmd);
	if (rc == 0 && strcmp(cmd.device_id, dev.device_id) != 0) {
		store_command_clear(&cmd);
		rc = -ENOENT; /* another device's: as if it did not exist */
	}
	if (rc) {
		api_reply_store_error(c, rc, "command");
		return;
	}
	api_reply(c, 200, iot_platform_command_json(&cmd));
	store_command_clear(&cmd);
}

/* Shadow. */

static int shadow_one(const struct store_shadow *sh, void *ctx)
{
	char t[API_TIME_MAX];
	json_t *reported = json_loads(sh->reported, 0, NULL);
	json_t *desired = json_loads(sh->desired, 0, NULL);
	char dt[API_TIME_MAX];
	json_t *o = json_pack("{s:s, s:{s:o, s:s?, s:I}, s:{s:o, s:s?, s:I}}", "service_id",
			      sh->service_id, "reported", "properties",
			      reported ? reported : json_object(), "event_time",
			      sh->reported_time_ms ? api_format_time(sh->reported_time_ms / 1000, t)
						   : NULL,
			      "version", (json_int_t)sh->reported_version, "desired", "properties",
			      desired ? desired : json_object(), "event_time",
			      sh->desired_time_ms ? api_format_time(sh->desired_time_ms / 1000, dt)
						  : NULL,
			      "version",
			      (json_int_t)sh->desired_version);
	return json_array_append_new(ctx, o) == 0 ? 0 : -ENOMEM;
}

/* The device's shadow, as GET answers it (and PUT after its change). */
static void reply_shadow(struct api_call *c, const struct store_device *dev)
{
	json_t *shadow = json_array();
	int rc = store_shadow_list(c->api->deps.store, dev->device_id, shadow_one, shadow);
	if (rc) {
		json_decref(shadow);
		api_reply_store_error(c, rc, "shadow");
		return;
	}
	api_reply(c, 200, json_pack("{s:s, s:o}", "device_id", dev->device_id, "shadow", shadow));
}

void api_shadow_get(struct api_call *c)
{
	struct store_device dev;
	if (device_of(c, &dev) == 0)
		reply_shadow(c, &dev);
}

void api_shadow_put(struct api_call *c)
{
	struct store_device dev;
	if (!platform_ready(c) || device_of(c, &dev) != 0)
		return;
	json_t *body = api_body_object(c);
	if (!body)
		return;
	char err[512] = "";
	int rc = iot_platform_shadow_put(c->api->deps.platform, &dev, body, err, sizeof(err));
	if (rc == 0)
		reply_shadow(c, &dev);
	else if (rc == -EINVAL || rc == -ENOSPC)
		api_reply_error(c, 400, "%s", err);
	else if (rc == -ESTALE)
		api_reply_error(c, 409, "%s", err);
	else
		api_reply_store_error(c, rc, "shadow");
	json_decref(body);
}

/* Forwarding rules. */

static const char *const push_events[] = {
	"device.property/report", "device.message/report", "device.command.status/update",
	"device.status/update",   "device.firmware/update", "firmware.campaign/update",
};

/* How the rule's pushing goes since the daemon started, and its circuit breaker. */
static json_t *rule_stats_json(const struct push *push, const struct store_rule *r)
{
	struct push_counts pc;
	const char *breaker;
	push_rule_counts(push, r->project_id, r->rule_id, &pc, &breaker);
	return json_pack("{s:I, s:I, s:I, s:I, s:s}", "delivered", (json_int_t)pc.delivered,
			 "failed", (json_int_t)pc.failed, "dropped", (json_int_t)pc.dropped,
			 "backlog", (json_int_t)pc.backlog, "breaker", breaker);
}

static json_t *rule_json(const struct push *push, const struct store_rule *r)
{
	char t[API_TIME_MAX];
	json_t *events = json_array();
	if (!r->events[0]) /* none named: all of them */
		for (size_t i = 0; i < sizeof(push_events) / sizeof(push_events[0]); i++)
			json_array_append_new(events, json_string(push_events[i]));
	for (const char *s = r->events; *s;) {
		const char *comma = strchr(s, ',');
		size_t len = comma ? (size_t)(comma - s) : strlen(s);
		json_array_append_new(events, json_stringn(s, len));
		s += len + (comma ? 1 : 0);
	}
	return json_pack("{s:s, s:s, s:o, s:s, s:o}", "rule_id", r->rule_id, "url", r->url,
			 "events", events, "create_time", api_format_time(r->create_time, t),
			 "stats", rule_stats_json(push, r));
}

void api_rules_create(struct api_call *c)
{
	json_t *body = api_body_object(c);
	if (!body)
		return;
	struct store_rule r;
	memset(&r, 0, sizeof(r));
	const char *url = json_string_value(json_object_get(body, "url"));
	const json_t *events = json_object_get(body, "events");
	char err[256];
	/* Where the daemon may be sent: push_target.h (loopback, private, link-local and the
	 * daemon's own API refused unless the operator allows them; credentials never). */
	if (push_check_url(c->api->deps.push, url, sizeof(r.url) - 1, err, sizeof(err)) != 0) {
		api_reply_error(c, 400, "%s", err);
		goto out;
	}
	if (events && !json_is_null(events) && !json_is_array(events)) {
		api_reply_error(c, 400, "events must be an array of event names");
		goto out;
	}
	size_t i, used = 0;
	const json_t *e;
	json_array_foreach(events, i, e) {
		const char *name = json_string_value(e);
		bool known = false;
		for (size_t k = 0; name && k < sizeof(push_events) / sizeof(push_events[0]); k++)
			known |= strcmp(name, push_events[k]) == 0;
		if (!known) {
			api_reply_error(c, 400, "events[%zu] must be one of device.property/report, "
						"device.message/report, device.command.status/update, "
						"device.status/update, device.firmware/update, "
						"firmware.campaign/update",
					i);
			goto out;
		}
		used += (size_t)snprintf(r.events + used, sizeof(r.events) - used, "%s%s",
					 used ? "," : "", name);
		if (used >= sizeof(r.events)) {
			api_reply_error(c, 400, "too many events");
			goto out;
		}
	}
	/* Each rule multiplies the project's events: their number is bounded. */
	int64_t rules = 0;
	unsigned max_rules = push_max_rules(c->api->deps.push);
	int rc = store_rule_count(c->api->deps.store, c->project_id, &rules);
	if (rc) {
		api_reply_store_error(c, rc, "rules");
		goto out;
	}
	if (rules >= (int64_t)max_rules) {
		api_reply_error(c, 400, "a project has at most %u forwarding rules", max_rules);
		goto out;
	}
	if (token_random_hex(r.rule_id, sizeof(r.rule_id), 12) != 0) {
		api_reply_error(c, 500, "no randomness for a rule_id");
		goto out;
	}
	str_copy(r.project_id, sizeof(r.project_id), c->project_id);
	str_copy(r.url, sizeof(r.url), url);
	r.create_time = (int64_t)time(NULL);
	rc = store_rule_insert(c->api->deps.store, &r);
	if (rc)
		api_reply_store_error(c, rc, "rule");
	else
		api_reply(c, 201, rule_json(c->api->deps.push, &r));
out:
	json_decref(body);
}

struct rules_ctx {
	const struct push *push;
	json_t *rules;
};

static int rule_one(const struct store_rule *r, void *ctx)
{
	struct rules_ctx *rc = ctx;
	return json_array_append_new(rc->rules, rule_json(rc->push, r)) == 0 ? 0 : -ENOMEM;
}

void api_rules_list(struct api_call *c)
{
	json_t *rules = json_array();
	struct rules_ctx rctx = { c->api->deps.push, rules };
	int rc = store_rule_list(c->api->deps.store, c->project_id, rule_one, &rctx);
	if (rc) {
		json_decref(rules);
		api_reply_store_error(c, rc, "rules");
		return;
	}
	api_reply(c, 200, json_pack("{s:o}", "rules", rules));
}

void api_rules_delete(struct api_call *c)
{
	int rc = store_rule_delete(c->api->deps.store, c->project_id, c->id);
	if (rc) {
		api_reply_store_error(c, rc, "rule");
		return;
	}
	if (c->api->deps.push)
		push_rule_deleted(c->api->deps.push, c->project_id, c->id);
	api_reply(c, 204, NULL);
}
