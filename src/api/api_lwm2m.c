/*
 * api_lwm2m: Device Management over REST — /v5/iot/{project}/devices/{device}/lwm2m/{path}.
 *
 *   GET    …/lwm2m/3/0[?format=tlv&timeout=10]       Read (op=discover: Discover)
 *   PUT    …/lwm2m/3/0/14   {"values":[…]}            Write (replace)
 *   PUT    …/lwm2m/3/0/9?pmin=10&pmax=60              Write-Attributes (no body)
 *   POST   …/lwm2m/3/0      {"values":[…]}            Write (partial update)
 *   POST   …/lwm2m/3/0/4    [{"arguments":"…"}]       Execute
 *   POST   …/lwm2m/19       {"values":[…]}            Create
 *   DELETE …/lwm2m/19/1                               Delete
 *
 * The call waits for the device without blocking the loop: the HTTP connection is
 * suspended (api_defer) and answered when the device's response, an RST or the deadline
 * comes. The answer is 200 with the CoAP code and the decoded content whenever the device
 * answered — a 4.04 from the device is the device's answer, not a missing route — 409
 * when the device is not registered, 504 when it did not answer in time, 502 on RST.
 */
#include "api/api_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "content/content.h"
#include "lwm2m/lwm2m_observe.h"
#include "lwm2m/lwm2m_requests.h"
#include "model/model.h"
#include "util/base64.h"

#define TIMEOUT_DEFAULT_S 30
#define TIMEOUT_MAX_S 300
/* The largest single value a write takes from the API (a whole payload may be up to
 * LWM2M_DM_MAX_BODY: lwm2m_requests sends it block-wise). */
#define WRITE_MAX 1024

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

/* What every /lwm2m call starts with: the device, the path, the deadline. */
struct target {
	struct store_device device;
	struct lwm2m_path path;
	uint32_t timeout_ms;
	int format; /* ?format=, or -1 */
};

static int read_target(struct api_call *c, struct target *t)
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
	/* The LwM2M path follows ".../devices/{id}/lwm2m" (the router matched that much; a
	 * device may itself be called "lwm2m", so count rather than search). */
	size_t skip = strlen("/v5/iot/") + strlen(c->project_id) + strlen("/devices/") +
		      strlen(c->id) + strlen("/lwm2m");
	const char *p = strlen(c->url) > skip ? c->url + skip : NULL;
	if (!p || lwm2m_path_parse(p, strlen(p), &t->path) != 0 || t->path.len == 0) {
		api_reply_error(c, 400, "path must be /obj[/inst[/res[/ri]]] with ids 0-65534");
		return -1;
	}
	t->timeout_ms = TIMEOUT_DEFAULT_S * 1000;
	const char *timeout = api_query(c, "timeout");
	if (timeout) {
		char *end;
		long v = strtol(timeout, &end, 10);
		if (!*timeout || *end || v < 1 || v > TIMEOUT_MAX_S) {
			api_reply_error(c, 400, "timeout must be 1-%d seconds", TIMEOUT_MAX_S);
			return -1;
		}
		t->timeout_ms = (uint32_t)v * 1000;
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
static int read_accept(struct api_call *c, const struct target *t)
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

/* One value as JSON: {"path":"/3/0/0","type":"string","value":…}. */
static json_t *value_json(const struct lwm2m_value *v)
{
	char path[40];
	lwm2m_path_format(&v->path, path, sizeof(path));
	json_t *value = NULL;
	switch (v->type) {
	case LWM2M_TYPE_STRING:
	case LWM2M_TYPE_CORELNK:
		value = json_stringn((const char *)v->v.bytes.data, v->v.bytes.len);
		if (!value) /* not UTF-8: show the bytes */
			goto as_base64;
		break;
	case LWM2M_TYPE_OPAQUE:
	as_base64: {
		char *b64 = malloc(BASE64_ENCODED_LEN(v->v.bytes.len) + 1);
		if (b64) {
			base64_encode(v->v.bytes.data, v->v.bytes.len, b64);
			value = json_string(b64);
			free(b64);
		}
		break;
	}
	case LWM2M_TYPE_INTEGER:
	case LWM2M_TYPE_TIME:
		value = json_integer(v->v.i);
		break;
	case LWM2M_TYPE_UNSIGNED:
		value = v->v.u <= INT64_MAX ? json_integer((json_int_t)v->v.u)
					    : json_real((double)v->v.u);
		break;
	case LWM2M_TYPE_FLOAT:
		value = json_real(v->v.f);
		break;
	case LWM2M_TYPE_BOOLEAN:
		value = json_boolean(v->v.b);
		break;
	case LWM2M_TYPE_OBJLNK: {
		char link[16];
		snprintf(link, sizeof(link), "%u:%u", v->v.objlnk.obj, v->v.objlnk.inst);
		value = json_string(link);
		break;
	}
	default:
		value = json_null();
	}
	json_t *o = json_pack("{s:s, s:s, s:o*}", "path", path, "type", model_type_name(v->type),
			      "value", value);
	if (o && v->has_time)
		json_object_set_new(o, "time", json_integer(v->time));
	return o;
}

static void decoded_json(json_t *o, const struct lwm2m_path *path,
			 const struct lwm2m_dm_result *res);

/* Adds format and the decoded content (or the raw bytes) of an answer to o. */
static void content_json(json_t *o, const struct lwm2m_path *p, int content_format,
			 const uint8_t *payload, size_t len)
{
	if (content_format >= 0) {
		const char *name = api_format_name(content_format);
		json_object_set_new(o, "format", name ? json_string(name)
						       : json_integer(content_format));
	}
	if (len == 0)
		return;
	if (content_format == CONTENT_LINK) {
		json_object_set_new(o, "links", json_stringn((const char *)payload, len));
		return;
	}
	struct lwm2m_dm_result res = { .content_format = content_format, .payload = payload,
				       .payload_len = len };
	decoded_json(o, p, &res);
}

/* The device's answer as JSON. */
static json_t *answer_json(struct api_request *req, const struct lwm2m_dm_result *res)
{
	char code[8], path[40];
	struct lwm2m_path p = { .len = req->dm_path_len };
	memcpy(p.ids, req->dm_path, sizeof(p.ids));
	lwm2m_path_format(&p, path, sizeof(path));
	json_t *o = json_pack("{s:s, s:s, s:s}", "operation", lwm2m_op_name(req->dm_op), "path",
			      path, "code", coap_code_format(res->code, code));
	if (!o)
		return NULL;
	content_json(o, &p, res->content_format, res->payload, res->payload_len);
	return o;
}

static void decoded_json(json_t *o, const struct lwm2m_path *path,
			 const struct lwm2m_dm_result *res)
{
	struct lwm2m_path p = *path;
	struct lwm2m_values values;
	lwm2m_values_init(&values);
	/* A response without Content-Format is, by CoAP's rules, opaque to us; LwM2M clients
	 * that omit it for text are read as text. */
	int format = res->content_format >= 0 ? res->content_format : CONTENT_TEXT;
	int rc = content_decode((uint16_t)format, &p, res->payload, res->payload_len,
				model_type_of, NULL, &values);
	if (rc == 0) {
		json_t *list = json_array();
		for (size_t i = 0; list && i < values.count; i++)
			json_array_append_new(list, value_json(&values.items[i]));
		json_object_set_new(o, "values", list);
	} else {
		char *b64 = malloc(BASE64_ENCODED_LEN(res->payload_len) + 1);
		if (b64) {
			base64_encode(res->payload, res->payload_len, b64);
			json_object_set_new(o, "payload_base64", json_string(b64));
			free(b64);
		}
		json_object_set_new(o, "decode_error",
				    json_string(rc == -ENOTSUP ? "content format not supported"
							       : "malformed content"));
	}
	lwm2m_values_free(&values);
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
		return;
	}
	if (res->status == -ECONNRESET) {
		api_deferred_error(req, 502, "the device reset the request (CoAP RST)");
		return;
	}
	if (res->status == -EMSGSIZE) {
		api_deferred_error(req, 502, "the device's block-wise answer is over %d bytes",
				   LWM2M_DM_MAX_BODY);
		return;
	}
	if (res->status == -EPROTO) {
		api_deferred_error(req, 502, "the device sent a block other than the one asked for "
					     "(RFC 7959 Block2)");
		return;
	}
	if (res->status != 0) {
		api_deferred_error(req, 502, "the request to the device failed: %s",
				   strerror(-res->status));
		return;
	}
	json_t *answer = answer_json(req, res);
	if (answer && res->held_ms)
		json_object_set_new(answer, "held_ms", json_integer((json_int_t)res->held_ms));
	struct lwm2m_observations *obs = req->api->deps.observations;
	if ((req->dm_op == LWM2M_OP_OBSERVE || req->dm_op == LWM2M_OP_OBSERVE_COMPOSITE) && obs &&
	    answer &&
	    COAP_CODE_CLASS(res->code) == 2 && res->observing) {
		/* The device accepted: notifications with this token are now expected. */
		struct lwm2m_path p = { .len = req->dm_path_len };
		memcpy(p.ids, req->dm_path, sizeof(p.ids));
		struct lwm2m_observation *o =
			lwm2m_observations_add(obs, req->dm_node, &p, res->token, res->token_len);
		if (o) {
			lwm2m_observation_record(o, res->code, res->content_format, 0, res->payload,
						 res->payload_len, 0);
			json_object_set_new(answer, "observation_id", json_integer((json_int_t)o->id));
		}
	}
	if (req->dm_op == LWM2M_OP_OBSERVE_CANCEL && obs) {
		struct lwm2m_observation *o = lwm2m_observations_find_id(obs, req->dm_observation);
		if (o)
			lwm2m_observations_remove(obs, o);
	}
	api_deferred_reply(req, 200, answer);
}

void api_lwm2m_abandon(struct api_request *req)
{
	if (req->dm_handle && req->api->deps.requests)
		lwm2m_requests_cancel(req->api->deps.requests, req->dm_handle);
	req->dm_handle = 0;
}

/* Sends the request; on success the call waits (deferred), otherwise it is answered. */
static void send_request(struct api_call *c, struct target *t, struct lwm2m_dm_request *dm)
{
	uint64_t handle;
	dm->path = t->path;
	dm->timeout_ms = t->timeout_ms;
	/* A device in queue mode may be asleep: by default the call waits for it to wake
	 * (within the timeout); ?wait=false refuses at once. */
	const char *wait = api_query(c, "wait");
	bool hold = !(wait && strcmp(wait, "false") == 0);
	int rc = lwm2m_requests_send(c->api->deps.requests, t->device.node_id, dm, hold,
				     on_answer, c->req, &handle);
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
}

void api_lwm2m_get(struct api_call *c)
{
	struct target t;
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
	send_request(c, &t, &dm);
}

/* Reads body.values into values, typed by "type" or the model. Returns 0 or sets a 400. */
static int read_values(struct api_call *c, const json_t *body, const struct lwm2m_path *base,
		       struct lwm2m_values *values)
{
	const json_t *list = json_object_get(body, "values");
	size_t i;
	const json_t *item;
	if (!json_is_array(list) || json_array_size(list) == 0) {
		api_reply_error(c, 400, "values must be a non-empty array");
		return -1;
	}
	json_array_foreach(list, i, item)
	{
		struct lwm2m_value v = { 0 };
		const char *path = json_string_value(json_object_get(item, "path"));
		const json_t *value = json_object_get(item, "value");
		const char *type = json_string_value(json_object_get(item, "type"));
		uint8_t buf[WRITE_MAX];
		if (!path || lwm2m_path_parse(path, strlen(path), &v.path) != 0 || v.path.len < 3 ||
		    !lwm2m_path_under(&v.path, base)) {
			api_reply_error(c, 400, "values[%zu].path must be a resource under the "
						"request's path", i);
			return -1;
		}
		int t = type ? model_type_parse(type)
			     : (int)model_type_of(NULL, v.path.ids[0], v.path.ids[2], NULL);
		bool ok = content_value_from_json(value, t, &v, buf, sizeof(buf)) == 0;
		if (!ok) {
			api_reply_error(c, 400, "values[%zu].value is not a valid %s", i,
					t > 0 ? model_type_name((uint8_t)t) : "value");
			return -1;
		}
		if (lwm2m_values_add(values, &v) != 0) {
			api_reply_error(c, 400, "too many values");
			return -1;
		}
	}
	return 0;
}

/* Write, Write-update or Create: values from the body, encoded (TLV by default). */
static void send_values(struct api_call *c, struct target *t, enum lwm2m_op op)
{
	json_t *body = api_body_object(c);
	if (!body)
		return;
	struct lwm2m_values values;
	lwm2m_values_init(&values);
	/* Over one block (1 KiB), lwm2m_requests sends it block-wise. */
	uint8_t *payload = malloc(LWM2M_DM_MAX_BODY);
	if (!payload) {
		api_reply_error(c, 503, "out of memory");
		json_decref(body);
		return;
	}
	int format = t->format >= 0 ? t->format : CONTENT_TLV;
	const char *f = json_string_value(json_object_get(body, "format"));
	if (f && (format = api_format_parse(f)) < 0) {
		api_reply_error(c, 400, "format is not a content format we know");
		goto out;
	}
	if (read_values(c, body, &t->path, &values) != 0)
		goto out;
	int n = content_encode((uint16_t)format, &t->path, &values, model_type_of, NULL, payload,
			       LWM2M_DM_MAX_BODY);
	if (n < 0) {
		api_reply_error(c, n == -ENOBUFS ? 413 : 400, "the values cannot be sent as %s%s",
				api_format_name(format) ? api_format_name(format) : "that format",
				n == -ENOBUFS ? ": over 65536 bytes" : "");
		goto out;
	}
	struct lwm2m_dm_request dm = { .op = op, .accept = -1, .content_format = format,
				       .payload = payload, .payload_len = (size_t)n };
	send_request(c, t, &dm); /* lwm2m_requests keeps its own copy */
out:
	free(payload);
	lwm2m_values_free(&values);
	json_decref(body);
}

void api_lwm2m_put(struct api_call *c)
{
	struct target t;
	if (read_target(c, &t) != 0)
		return;
	if (c->body_len > 0) {
		send_values(c, &t, LWM2M_OP_WRITE_REPLACE);
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
	send_request(c, &t, &dm);
}

void api_lwm2m_post(struct api_call *c)
{
	struct target t;
	if (read_target(c, &t) != 0)
		return;
	if (t.path.len == 1) {
		send_values(c, &t, LWM2M_OP_CREATE);
		return;
	}
	if (t.path.len == 2) {
		send_values(c, &t, LWM2M_OP_WRITE_UPDATE);
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
	send_request(c, &t, &dm);
	json_decref(body);
}

void api_lwm2m_delete(struct api_call *c)
{
	struct target t;
	if (read_target(c, &t) != 0)
		return;
	struct lwm2m_dm_request dm = { .op = LWM2M_OP_DELETE, .accept = -1, .content_format = -1 };
	send_request(c, &t, &dm);
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
	json_object_set_new(item, "last_code", json_string(coap_code_format(o->last_code, code)));
	if (o->last_ms > 0)
		json_object_set_new(item, "last_time",
				    json_string(api_format_time(o->last_ms / 1000, when)));
	content_json(item, &o->path, o->last_format, o->last_payload, o->last_len);
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
	struct store_device d;
	int rc = store_device_get(c->api->deps.store, c->project_id, c->id, &d);
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
	if (!o || strcmp(o->node_id, d.node_id) != 0) {
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
	/* Active: GET with Observe 1 and the observation's token. */
	struct target t = { .device = d, .path = o->path, .timeout_ms = TIMEOUT_DEFAULT_S * 1000,
			    .format = -1 };
	struct lwm2m_dm_request dm = { .op = LWM2M_OP_OBSERVE_CANCEL, .accept = -1,
				       .content_format = -1, .token = o->token,
				       .token_len = o->token_len };
	uint64_t observation = o->id;
	send_request(c, &t, &dm);
	if (c->req->deferred)
		c->req->dm_observation = observation;
	else if (c->status == 409)
		lwm2m_observations_remove(obs, o); /* not registered: nothing left to cancel */
}

void api_server_publish_notification(struct api_server *api, const char *project_id,
				     const char *device_id, const struct lwm2m_observation *o)
{
	char path[40], code[8];
	lwm2m_path_format(&o->path, path, sizeof(path));
	json_t *e = json_pack("{s:s, s:s, s:s, s:I, s:s, s:s, s:I, s:I}", "event", "notification",
			      "device_id", device_id, "node_id", o->node_id, "observation_id",
			      (json_int_t)o->id, "path", path, "code",
			      coap_code_format(o->last_code, code), "seq", (json_int_t)o->last_seq,
			      "time_ms", (json_int_t)o->last_ms);
	if (!e)
		return;
	content_json(e, &o->path, o->last_format, o->last_payload, o->last_len);
	char *text = json_dumps(e, JSON_COMPACT);
	if (text)
		api_server_publish(api, project_id, device_id, "notification", text);
	free(text);
	json_decref(e);
}

void api_server_publish_send(struct api_server *api, const char *project_id,
			     const char *device_id, const char *node_id, int format,
			     const uint8_t *payload, size_t len)
{
	struct lwm2m_path root = { .len = 0 };
	json_t *e = json_pack("{s:s, s:s, s:s}", "event", "send", "device_id", device_id,
			      "node_id", node_id);
	if (!e)
		return;
	content_json(e, &root, format, payload, len);
	char *text = json_dumps(e, JSON_COMPACT);
	if (text)
		api_server_publish(api, project_id, device_id, "send", text);
	free(text);
	json_decref(e);
}

/* POST …/devices/{id}/lwm2m-composite: Read-, Observe- and Write-Composite (Core §6.3.8,
 * §6.3.9, §6.4.3) in SenML JSON:
 *   {"operation":"read"|"observe","paths":["/3/0/9","/1/0/1"]}
 *   {"operation":"write","values":[{"path":"/1/0/1","value":300}, …]} */
void api_lwm2m_composite(struct api_call *c)
{
	struct target t = { .format = CONTENT_SENML_JSON };
	if (!c->api->deps.requests) {
		api_reply_error(c, 503, "device management is not available");
		return;
	}
	int rc = store_device_get(c->api->deps.store, c->project_id, c->id, &t.device);
	if (rc != 0) {
		api_reply_store_error(c, rc, "device");
		return;
	}
	t.timeout_ms = TIMEOUT_DEFAULT_S * 1000;
	const char *timeout = api_query(c, "timeout");
	if (timeout) {
		char *end;
		long v = strtol(timeout, &end, 10);
		if (!*timeout || *end || v < 1 || v > TIMEOUT_MAX_S) {
			api_reply_error(c, 400, "timeout must be 1-%d seconds", TIMEOUT_MAX_S);
			return;
		}
		t.timeout_ms = (uint32_t)v * 1000;
	}
	json_t *body = api_body_object(c);
	if (!body)
		return;
	const char *op = json_string_value(json_object_get(body, "operation"));
	const char *f = json_string_value(json_object_get(body, "format"));
	uint8_t payload[WRITE_MAX];
	struct lwm2m_values values;
	lwm2m_values_init(&values);
	if (f && api_format_parse(f) != CONTENT_SENML_JSON) {
		api_reply_error(c, 400, "format: composite operations use senml-json here");
		goto out;
	}
	struct lwm2m_dm_request dm = { .accept = CONTENT_SENML_JSON,
				       .content_format = CONTENT_SENML_JSON, .payload = payload };
	if (op && (strcmp(op, "read") == 0 || strcmp(op, "observe") == 0)) {
		dm.op = op[0] == 'r' ? LWM2M_OP_READ_COMPOSITE : LWM2M_OP_OBSERVE_COMPOSITE;
		const json_t *list = json_object_get(body, "paths");
		struct lwm2m_path paths[64];
		size_t n = json_array_size(list), i;
		const json_t *item;
		if (!json_is_array(list) || n == 0 || n > 64) {
			api_reply_error(c, 400, "paths must be an array of 1-64 LwM2M paths");
			goto out;
		}
		json_array_foreach(list, i, item)
		{
			const char *p = json_string_value(item);
			if (!p || lwm2m_path_parse(p, strlen(p), &paths[i]) != 0 ||
			    paths[i].len == 0) {
				api_reply_error(c, 400, "paths[%zu] is not an LwM2M path", i);
				goto out;
			}
		}
		rc = content_senml_json_encode_paths(paths, n, payload, sizeof(payload));
	} else if (op && strcmp(op, "write") == 0) {
		dm.op = LWM2M_OP_WRITE_COMPOSITE;
		dm.accept = -1;
		struct lwm2m_path root = { .len = 0 };
		if (read_values(c, body, &root, &values) != 0)
			goto out;
		rc = content_senml_json_encode(&root, &values, payload, sizeof(payload));
	} else {
		api_reply_error(c, 400, "operation must be read, observe or write");
		goto out;
	}
	if (rc < 0) {
		api_reply_error(c, rc == -ENOBUFS ? 413 : 400, "the request cannot be encoded%s",
				rc == -ENOBUFS ? ": over 1024 bytes" : "");
		goto out;
	}
	dm.payload_len = (size_t)rc;
	t.path.len = 0;
	send_request(c, &t, &dm);
out:
	lwm2m_values_free(&values);
	json_decref(body);
}

/* Object models: GET /v5/iot/{project}/models and /models/{object_id}. */

static json_t *model_json(const struct model_object *obj, bool loaded, bool with_resources)
{
	json_t *o = json_pack("{s:i, s:s, s:s, s:b, s:b, s:s}", "object_id", obj->id, "name",
			      obj->name, "version", obj->version, "multiple_instances",
			      obj->multiple, "mandatory", obj->mandatory, "source",
			      loaded ? "ddf" : "built-in");
	if (!o || !with_resources)
		return o;
	json_t *list = json_array();
	for (size_t i = 0; list && i < obj->resource_count; i++) {
		const struct model_resource *r = &obj->resources[i];
		char ops[4];
		size_t n = 0;
		if (r->ops & MODEL_OP_R)
			ops[n++] = 'R';
		if (r->ops & MODEL_OP_W)
			ops[n++] = 'W';
		if (r->ops & MODEL_OP_E)
			ops[n++] = 'E';
		ops[n] = '\0';
		json_array_append_new(list, json_pack("{s:i, s:s, s:s, s:s, s:b, s:b}", "id", r->id,
						      "name", r->name, "type",
						      model_type_name(r->type), "operations", ops,
						      "multiple_instances", r->multiple, "mandatory",
						      r->mandatory));
	}
	json_object_set_new(o, "resources", list);
	return o;
}

static void add_model(const struct model_object *obj, bool loaded, void *ctx)
{
	json_array_append_new(ctx, model_json(obj, loaded, false));
}

void api_models_list(struct api_call *c)
{
	json_t *list = json_array();
	if (list)
		model_each(add_model, list);
	api_reply(c, 200, json_pack("{s:o}", "models", list));
}

void api_models_get(struct api_call *c)
{
	char *end;
	long id = strtol(c->id, &end, 10);
	const struct model_object *obj =
		*end || id < 0 || id > LWM2M_ID_MAX ? NULL : model_object((uint16_t)id);
	if (!obj) {
		api_reply_error(c, 404, "object %s is not known (built in, or loaded with --models)",
				c->id);
		return;
	}
	api_reply(c, 200, model_json(obj, model_is_loaded((uint16_t)id), true));
}
