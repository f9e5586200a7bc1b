/*
 * api_lwm2m: Device Management over REST — /v5/iot/{project}/devices/{device}/lwm2m/{path}.
 *
 *   GET    …/lwm2m/3/0[?format=tlv&timeout=10]       Read (op=discover: Discover,
 *                                                    op=observe: Observe)
 *   PUT    …/lwm2m/3/0/14   {"values":[…]}            Write (replace); a raw body
 *                                                    (octet-stream, text/plain) is the value
 *   PUT    …/lwm2m/3/0/9?pmin=10&pmax=60              Write-Attributes (no body)
 *   POST   …/lwm2m/3/0      {"values":[…]}            Write (partial update)
 *   POST   …/lwm2m/3/0/4    [{"arguments":"…"}]       Execute
 *   POST   …/lwm2m/19       {"values":[…]}            Create (paths "0", "0/1": the
 *                                                    device picks the instance)
 *   DELETE …/lwm2m/19/1                               Delete
 *   GET/DELETE …/observations[/{id}]                  the observations; cancel one
 *
 * The call waits for the device without blocking the loop: the HTTP connection is
 * suspended (api_defer) and answered when the device's response, an RST or the deadline
 * comes. The answer is 200 with the CoAP code and the decoded content whenever the device
 * answered — a 4.04 from the device is the device's answer, not a missing route — 409
 * when the device is not registered, 504 when it did not answer in time, 502 on RST.
 * The other DM files are listed in api_lwm2m_internal.h.
 */
#include "api/api_lwm2m_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lwm2m/lwm2m_requests.h"

static const struct {
	const char *name;
	int format;
} formats[] = {
	{ "text", CONTENT_TEXT },	{ "link", CONTENT_LINK },
	{ "opaque", CONTENT_OPAQUE },	{ "cbor", CONTENT_CBOR },
	{ "senml-json", CONTENT_SENML_JSON }, { "senml-cbor", CONTENT_SENML_CBOR },
	{ "tlv", CONTENT_TLV },		{ "json", CONTENT_OMA_JSON },
};

/* A format by name or number; -1 when unknown. */
int api_format_parse(const char *s)
{
	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
		if (strcmp(formats[i].name, s) == 0)
			return formats[i].format;
	}
	char *end;
	long v = strtol(s, &end, 10);
	for (size_t i = 0; *s && !*end && i < sizeof(formats) / sizeof(formats[0]); i++) {
		if (formats[i].format == v)
			return (int)v;
	}
	return -1;
}

const char *api_format_name(int format)
{
	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
		if (formats[i].format == format)
			return formats[i].name;
	}
	return NULL;
}

/* Requests can be sent, and ?timeout=. 0, or -1 with the reply set. */
static int read_timeout(struct api_call *c, struct api_dm_target *t)
{
	if (!c->api->deps.requests) {
		api_reply_error(c, 503, "device management is not available");
		return -1;
	}
	t->timeout_ms = API_DM_TIMEOUT_DEFAULT_S * 1000;
	const char *timeout = api_query(c, "timeout");
	if (timeout) {
		char *end;
		long v = strtol(timeout, &end, 10);
		if (!*timeout || *end || v < 1 || v > API_DM_TIMEOUT_MAX_S) {
			api_reply_error(c, 400, "timeout must be 1-%d seconds", API_DM_TIMEOUT_MAX_S);
			return -1;
		}
		t->timeout_ms = (uint32_t)v * 1000;
	}
	return 0;
}

int api_dm_device(struct api_call *c, struct api_dm_target *t)
{
	if (!c->api->deps.requests) {
		api_reply_error(c, 503, "device management is not available");
		return -1;
	}
	int rc = store_device_get(c->api->deps.store, c->project_id, c->id, &t->device);
	if (rc != 0) {
		api_reply_store_error(c, rc, "device");
		return -1;
	}
	return read_timeout(c, t);
}

/* The device, the LwM2M path of the URL and ?format=. 0, or -1 with the reply set. */
static int read_target(struct api_call *c, struct api_dm_target *t)
{
	if (api_dm_device(c, t) != 0)
		return -1;
	/* The LwM2M path follows ".../devices/{id}/lwm2m" (the router matched that much; a
	 * device may itself be called "lwm2m", so count rather than search). */
	size_t skip = strlen("/v5/iot/") + strlen(c->project_id) + strlen("/devices/") +
		      strlen(c->id) + strlen("/lwm2m");
	const char *p = strlen(c->url) > skip ? c->url + skip : NULL;
	if (!p || lwm2m_path_parse(p, strlen(p), &t->path) != 0 || t->path.len == 0) {
		api_reply_error(c, 400, "path must be /obj[/inst[/res[/ri]]] with ids 0-65534");
		return -1;
	}
	t->format = -1;
	const char *format = api_query(c, "format");
	if (format && (t->format = api_format_parse(format)) < 0) {
		api_reply_error(c, 400, "format must be one of text, link, opaque, cbor, senml-json, "
					"senml-cbor, tlv, json");
		return -1;
	}
	return 0;
}

/* The Accept of a read: ?format=, else the device's read_format, else its product's, else
 * none (the device picks, as LwM2M lets it). */
static int read_accept(struct api_call *c, const struct api_dm_target *t)
{
	if (t->format >= 0)
		return t->format;
	if (t->device.read_format >= 0)
		return t->device.read_format;
	struct store_product product;
	if (store_product_get(c->api->deps.store, t->device.project_id, t->device.product_id,
			      &product) == 0)
		return product.read_format;
	return -1;
}

int api_read_format_field(struct api_call *c, const json_t *body, int *read_format)
{
	const json_t *v = json_object_get(body, "read_format");
	if (!v)
		return 0;
	if (json_is_null(v)) {
		*read_format = -1;
		return 0;
	}
	int f = json_is_string(v) ? api_format_parse(json_string_value(v)) : -1;
	if (f < 0 || f == CONTENT_LINK) {
		api_reply_error(c, 400, "read_format must be null or one of text, opaque, cbor, "
					"senml-json, senml-cbor, tlv, json");
		return -EINVAL;
	}
	*read_format = f;
	return 0;
}

json_t *api_read_format_json(int read_format)
{
	const char *name = read_format >= 0 ? api_format_name(read_format) : NULL;
	return name ? json_string(name) : json_null();
}

static void forget_observe_request(struct api_request *req)
{
	free(req->dm_paths);
	req->dm_paths = NULL;
	req->dm_path_count = 0;
}

/* The device accepted an Observe: notifications with this token are expected from now on.
 * Adds "observation_id" to answer. */
static void observation_made(struct api_request *req, const struct lwm2m_path *path,
			     const struct lwm2m_dm_result *res, json_t *answer)
{
	struct lwm2m_observations *obs = req->api->deps.observations;
	struct lwm2m_observe_request what = { .format = req->dm_format, .paths = req->dm_paths,
					      .path_count = req->dm_path_count };
	struct lwm2m_observation *o = lwm2m_observations_add_request(
		obs, req->dm_node, path, res->token, res->token_len, &what);
	if (!o)
		return;
	lwm2m_observation_record(o, res->code, res->content_format, 0, res->payload,
				 res->payload_len, 0);
	json_object_set_new(answer, "observation_id", json_integer((json_int_t)o->id));
}

static void on_answer(void *ctx, const struct lwm2m_dm_result *res)
{
	struct api_request *req = ctx;
	req->dm_handle = 0;
	if (res->status == -ETIMEDOUT) {
		if (res->never_sent)
			api_deferred_error(req, 504, "the device (queue mode) did not wake within "
						     "the timeout (%llu ms)",
					   (unsigned long long)res->held_ms);
		else
			api_deferred_error(req, 504, "the device did not answer in time");
	} else if (res->status == -ECONNRESET) {
		api_deferred_error(req, 502, "the device reset the request (CoAP RST)");
	} else if (res->status == -EMSGSIZE) {
		api_deferred_error(req, 502, "the device's block-wise answer is over %d bytes",
				   LWM2M_DM_MAX_BODY);
	} else if (res->status == -EPROTO) {
		api_deferred_error(req, 502, "the device sent a block other than the one asked for "
					     "(RFC 7959 Block2)");
	} else if (res->status != 0) {
		api_deferred_error(req, 502, "the request to the device failed: %s",
				   strerror(-res->status));
	} else {
		struct lwm2m_path p = { .len = req->dm_path_len };
		memcpy(p.ids, req->dm_path, sizeof(p.ids));
		json_t *answer = api_dm_answer_json(req->dm_op, &p, res);
		if (answer && res->held_ms)
			json_object_set_new(answer, "held_ms",
					    json_integer((json_int_t)res->held_ms));
		struct lwm2m_observations *obs = req->api->deps.observations;
		bool ok = COAP_CODE_CLASS(res->code) == 2;
		if ((req->dm_op == LWM2M_OP_OBSERVE || req->dm_op == LWM2M_OP_OBSERVE_COMPOSITE) &&
		    obs && answer && ok && res->observing)
			observation_made(req, &p, res, answer);
		/* A cancellation ends the observation once the device agreed (2.xx); after an
		 * error it may still be there, and can be cancelled again or passively. */
		if ((req->dm_op == LWM2M_OP_OBSERVE_CANCEL ||
		     req->dm_op == LWM2M_OP_OBSERVE_COMPOSITE_CANCEL) &&
		    obs && ok) {
			struct lwm2m_observation *o =
				lwm2m_observations_find_id(obs, req->dm_observation);
			if (o)
				lwm2m_observations_remove(obs, o);
		}
		api_deferred_reply(req, 200, answer);
	}
	forget_observe_request(req);
}

void api_lwm2m_abandon(struct api_request *req)
{
	if (req->dm_handle && req->api->deps.requests)
		lwm2m_requests_cancel(req->api->deps.requests, req->dm_handle);
	req->dm_handle = 0;
	forget_observe_request(req);
}

void api_dm_send(struct api_call *c, struct api_dm_target *t, struct lwm2m_dm_request *dm,
		 const struct lwm2m_observe_request *observe)
{
	uint64_t handle;
	struct lwm2m_path *paths = NULL;
	if (observe && observe->path_count) {
		paths = malloc(observe->path_count * sizeof(*paths));
		if (!paths) {
			api_reply_error(c, 503, "out of memory");
			return;
		}
		memcpy(paths, observe->paths, observe->path_count * sizeof(*paths));
	}
	dm->path = t->path;
	dm->timeout_ms = t->timeout_ms;
	/* A device in queue mode may be asleep: by default the call waits for it to wake
	 * (within the timeout); ?wait=false refuses at once. */
	const char *wait = api_query(c, "wait");
	bool hold = !(wait && strcmp(wait, "false") == 0);
	int rc = lwm2m_requests_send(c->api->deps.requests, t->device.node_id, dm, hold,
				     on_answer, c->req, &handle);
	if (rc != 0)
		free(paths);
	if (rc == -EAGAIN) {
		api_reply_error(c, 409, "device %s is asleep (queue mode); retry without "
					"wait=false to have the request held until it wakes",
				t->device.device_id);
		return;
	}
	if (rc == -ENOTCONN) {
		api_reply_error(c, 409, "device %s is not registered", t->device.device_id);
		return;
	}
	if (rc == -EINVAL) {
		api_reply_error(c, 400, "%s is not possible on this path", lwm2m_op_name(dm->op));
		return;
	}
	if (rc != 0) {
		api_reply_error(c, 500, "cannot send the request: %s", strerror(-rc));
		return;
	}
	struct api_request *req = api_defer(c);
	snprintf(req->dm_node, sizeof(req->dm_node), "%s", t->device.node_id);
	req->dm_handle = handle;
	req->dm_op = (uint8_t)dm->op;
	req->dm_path_len = t->path.len;
	memcpy(req->dm_path, t->path.ids, sizeof(req->dm_path));
	req->dm_format = observe ? observe->format : -1;
	req->dm_paths = paths;
	req->dm_path_count = observe ? (uint8_t)observe->path_count : 0;
}

void api_lwm2m_get(struct api_call *c)
{
	struct api_dm_target t;
	if (read_target(c, &t) != 0)
		return;
	const char *op = api_query(c, "op");
	struct lwm2m_dm_request dm = { .op = LWM2M_OP_READ, .accept = read_accept(c, &t),
				       .content_format = -1 };
	if (op && strcmp(op, "discover") == 0) {
		dm.op = LWM2M_OP_DISCOVER;
	} else if (op && strcmp(op, "observe") == 0) {
		dm.op = LWM2M_OP_OBSERVE;
	} else if (op && strcmp(op, "read") != 0) {
		api_reply_error(c, 400, "op must be read, discover or observe");
		return;
	}
	struct lwm2m_observe_request observe = { .format = dm.accept };
	api_dm_send(c, &t, &dm, dm.op == LWM2M_OP_OBSERVE ? &observe : NULL);
}

void api_lwm2m_put(struct api_call *c)
{
	struct api_dm_target t;
	if (read_target(c, &t) != 0)
		return;
	if (c->body_len > 0 && api_dm_write_raw(c, &t))
		return;
	if (c->body_len > 0) {
		api_dm_write_values(c, &t, LWM2M_OP_WRITE_REPLACE);
		return;
	}
	/* No body: Write-Attributes from the query. */
	static const char *const names[] = { "pmin", "pmax", "gt", "lt", "st", "epmin", "epmax" };
	char attrs[256] = "";
	size_t used = 0;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const char *v = api_query_flag(c, names[i]);
		if (!v)
			continue;
		int n = snprintf(attrs + used, sizeof(attrs) - used, "%s%s%s%s", used ? "&" : "",
				 names[i], *v ? "=" : "", v);
		if (n < 0 || (size_t)n >= sizeof(attrs) - used) {
			api_reply_error(c, 400, "attributes too long");
			return;
		}
		used += (size_t)n;
	}
	if (used == 0) {
		api_reply_error(c, 400, "a body with values (Write) or attributes in the query "
					"(pmin, pmax, gt, lt, st, epmin, epmax) is required");
		return;
	}
	struct lwm2m_dm_request dm = { .op = LWM2M_OP_WRITE_ATTRIBUTES, .accept = -1,
				       .content_format = -1, .attributes = attrs };
	api_dm_send(c, &t, &dm, NULL);
}

void api_lwm2m_post(struct api_call *c)
{
	struct api_dm_target t;
	if (read_target(c, &t) != 0)
		return;
	if (t.path.len == 1) {
		api_dm_write_values(c, &t, LWM2M_OP_CREATE);
		return;
	}
	if (t.path.len == 2) {
		api_dm_write_values(c, &t, LWM2M_OP_WRITE_UPDATE);
		return;
	}
	/* Execute, with optional arguments (Core §5.4.5: text/plain). */
	const char *args = NULL;
	json_t *body = NULL;
	if (c->body_len > 0) {
		body = api_body_object(c);
		if (!body)
			return;
		const json_t *a = json_object_get(body, "arguments");
		if (a && !json_is_string(a)) {
			api_reply_error(c, 400, "arguments must be a string");
			json_decref(body);
			return;
		}
		args = json_string_value(a);
	}
	struct lwm2m_dm_request dm = { .op = LWM2M_OP_EXECUTE, .accept = -1,
				       .content_format = args ? CONTENT_TEXT : -1,
				       .payload = (const uint8_t *)args,
				       .payload_len = args ? strlen(args) : 0 };
	api_dm_send(c, &t, &dm, NULL);
	json_decref(body);
}

void api_lwm2m_delete(struct api_call *c)
{
	struct api_dm_target t;
	if (read_target(c, &t) != 0)
		return;
	struct lwm2m_dm_request dm = { .op = LWM2M_OP_DELETE, .accept = -1, .content_format = -1 };
	api_dm_send(c, &t, &dm, NULL);
}

/* Observations: GET …/devices/{id}/observations, DELETE …/observations/{observation_id}. */

struct list_ctx {
	json_t *list;
};

static void observation_item(const struct lwm2m_observation *o, void *ctx)
{
	struct list_ctx *l = ctx;
	char path[40], code[8], when[API_TIME_MAX];
	lwm2m_path_format(&o->path, path, sizeof(path));
	json_t *item = json_pack("{s:I, s:s, s:I, s:b}", "observation_id", (json_int_t)o->id,
				 "path", path, "notifications", (json_int_t)o->notifications,
				 "cancelled", o->cancelled);
	if (!item)
		return;
	if (o->path_count) {
		json_t *paths = json_array();
		for (size_t i = 0; paths && i < o->path_count; i++) {
			lwm2m_path_format(&o->paths[i], path, sizeof(path));
			json_array_append_new(paths, json_string(path));
		}
		json_object_set_new(item, "paths", paths);
	}
	json_object_set_new(item, "last_code", json_string(coap_code_format(o->last_code, code)));
	if (o->last_ms > 0)
		json_object_set_new(item, "last_time",
				    json_string(api_format_time(o->last_ms / 1000, when)));
	api_dm_content_json(item, &o->path, o->last_format, o->last_payload, o->last_len);
	json_array_append_new(l->list, item);
}

void api_observations_list(struct api_call *c)
{
	struct store_device d;
	int rc = store_device_get(c->api->deps.store, c->project_id, c->id, &d);
	if (rc != 0) {
		api_reply_store_error(c, rc, "device");
		return;
	}
	struct list_ctx l = { json_array() };
	if (c->api->deps.observations && l.list)
		lwm2m_observations_each(c->api->deps.observations, d.node_id, observation_item, &l);
	api_reply(c, 200, json_pack("{s:o}", "observations", l.list));
}

void api_observations_cancel(struct api_call *c)
{
	struct api_dm_target t = { .format = -1 };
	int rc = store_device_get(c->api->deps.store, c->project_id, c->id, &t.device);
	if (rc != 0) {
		api_reply_store_error(c, rc, "device");
		return;
	}
	const char *last = strrchr(c->url, '/');
	char *end;
	unsigned long long id = strtoull(last + 1, &end, 10);
	struct lwm2m_observations *obs = c->api->deps.observations;
	struct lwm2m_observation *o = obs && *end == '\0' ? lwm2m_observations_find_id(obs, id)
							   : NULL;
	if (!o || strcmp(o->node_id, t.device.node_id) != 0) {
		api_reply_error(c, 404, "observation not found");
		return;
	}
	const char *mode = api_query(c, "mode");
	if (mode && strcmp(mode, "passive") == 0) {
		/* RFC 7641 §3.6: forget it; the next notification is answered with RST. */
		lwm2m_observations_cancel(obs, o);
		api_reply(c, 204, NULL);
		return;
	}
	if (mode && strcmp(mode, "active") != 0) {
		api_reply_error(c, 400, "mode must be active or passive");
		return;
	}
	if (read_timeout(c, &t) != 0)
		return;
	/* Active: the Observe again with Observe 1 and its token (RFC 7641 §3.6) — GET, or
	 * for an Observe-Composite (on the root) FETCH with its paths. */
	t.path = o->path;
	uint64_t observation = o->id;
	if (o->path.len == 0) {
		api_dm_cancel_composite(c, &t, o);
	} else {
		struct lwm2m_dm_request dm = { .op = LWM2M_OP_OBSERVE_CANCEL, .accept = o->format,
					       .content_format = -1, .token = o->token,
					       .token_len = o->token_len };
		api_dm_send(c, &t, &dm, NULL);
	}
	if (c->req->deferred)
		c->req->dm_observation = observation;
	else if (c->status == 409)
		lwm2m_observations_remove(obs, o); /* not registered: nothing left to cancel */
}
