/*
 * api_lwm2m_json: what devices answer and report, as the API's JSON — the answers of
 * Device Management calls, the notifications of observations and the Sends on the event
 * stream. One representation of values whatever the content format (docs/api.md,
 * "Values"); content that does not decode comes back raw with the reason.
 */
#include "api/api_lwm2m_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "model/model.h"
#include "util/base64.h"

static json_t *base64_json(const uint8_t *data, size_t len)
{
	char *b64 = malloc(BASE64_ENCODED_LEN(len) + 1);
	if (!b64)
		return NULL;
	base64_encode(data, len, b64);
	json_t *s = json_string(b64);
	free(b64);
	return s;
}

json_t *api_dm_value_json(const struct lwm2m_value *v)
{
	char path[40];
	lwm2m_path_format(&v->path, path, sizeof(path));
	json_t *value = NULL;
	switch (v->type) {
	case LWM2M_TYPE_STRING:
	case LWM2M_TYPE_CORELNK:
		value = json_stringn((const char *)v->v.bytes.data, v->v.bytes.len);
		if (!value) /* not UTF-8: show the bytes */
			value = base64_json(v->v.bytes.data, v->v.bytes.len);
		break;
	case LWM2M_TYPE_OPAQUE:
		value = base64_json(v->v.bytes.data, v->v.bytes.len);
		break;
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

/* Adds "values", or "payload_base64" and "decode_error", to o. */
static void decoded_json(json_t *o, const struct lwm2m_path *path, int content_format,
			 const uint8_t *payload, size_t len)
{
	struct lwm2m_values values;
	lwm2m_values_init(&values);
	/* A response without Content-Format is, by CoAP's rules, opaque to us; LwM2M clients
	 * that omit it for text are read as text. */
	int format = content_format >= 0 ? content_format : CONTENT_TEXT;
	int rc = content_decode((uint16_t)format, path, payload, len, model_type_of, NULL,
				&values);
	if (rc == 0) {
		json_t *list = json_array();
		for (size_t i = 0; list && i < values.count; i++)
			json_array_append_new(list, api_dm_value_json(&values.items[i]));
		json_object_set_new(o, "values", list);
	} else {
		json_object_set_new(o, "payload_base64", base64_json(payload, len));
		json_object_set_new(o, "decode_error",
				    json_string(rc == -ENOTSUP ? "content format not supported"
							       : "malformed content"));
	}
	lwm2m_values_free(&values);
}

void api_dm_content_json(json_t *o, const struct lwm2m_path *p, int content_format,
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
	decoded_json(o, p, content_format, payload, len);
}

/* Where the device says it put what the request made: its Location-Path, and for a
 * Create the new instance's id when that path is /{obj}/{inst} of the object asked for. */
static void location_json(json_t *o, enum lwm2m_op op, const struct lwm2m_path *path,
			  const char *location)
{
	json_t *s = location[0] ? json_string(location) : NULL;
	if (!s)
		return; /* none, or not UTF-8 */
	json_object_set_new(o, "location", s);
	struct lwm2m_path made;
	if (op == LWM2M_OP_CREATE && lwm2m_path_parse(location, strlen(location), &made) == 0 &&
	    made.len == 2 && made.ids[0] == path->ids[0])
		json_object_set_new(o, "instance_id", json_integer(made.ids[1]));
}

json_t *api_dm_answer_json(enum lwm2m_op op, const struct lwm2m_path *path,
			   const struct lwm2m_dm_result *res)
{
	char code[8], p[40];
	lwm2m_path_format(path, p, sizeof(p));
	json_t *o = json_pack("{s:s, s:s, s:s}", "operation", lwm2m_op_name(op), "path", p,
			      "code", coap_code_format(res->code, code));
	if (!o)
		return NULL;
	location_json(o, op, path, res->location);
	api_dm_content_json(o, path, res->content_format, res->payload, res->payload_len);
	return o;
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
	api_dm_content_json(e, &o->path, o->last_format, o->last_payload, o->last_len);
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
	api_dm_content_json(e, &root, format, payload, len);
	char *text = json_dumps(e, JSON_COMPACT);
	if (text)
		api_server_publish(api, project_id, device_id, "send", text);
	free(text);
	json_decref(e);
}
