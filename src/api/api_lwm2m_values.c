/*
 * api_lwm2m_values: the values a Write or Create carries, from the API's JSON to the
 * payload in the device's content format (docs/api.md, "Device Management").
 *
 * A JSON body names each value by its path ({"values":[{"path":"/3/0/14","value":"+02"}]}).
 * A Write of one resource may instead carry the value itself as the body (Content-Type
 * application/octet-stream: opaque, text/plain: text), which is how an opaque value close
 * to the 64 KiB a write may carry fits in a request at all: its base64 in JSON would be a
 * third larger than the body limit. Either way the payload may be up to LWM2M_DM_MAX_BODY
 * bytes, and lwm2m_requests sends what is over one block block-wise (RFC 7959 Block1).
 */
#include "api/api_lwm2m_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "model/model.h"

/* The instance of values whose Create names none: one above the largest id LwM2M allows,
 * so it is never a real one; encoding leaves it out. */
#define NO_INSTANCE (LWM2M_ID_MAX + 1)

/* The path of one value: an absolute resource (instance) path under base, or — when
 * relative_ok — "res" or "res/ri" below an instance the device will choose. *kind is -1
 * before the first value, then 0 (absolute) or 1 (relative): all must agree. Returns 0,
 * -EINVAL (a bad path) or -EXDEV (a mix of both kinds). */
static int value_path(const char *s, const struct lwm2m_path *base, bool relative_ok,
		      int *kind, struct lwm2m_path *out)
{
	int k;
	if (!s)
		return -EINVAL;
	if (*s == '/') {
		if (lwm2m_path_parse(s, strlen(s), out) != 0 || out->len < 3 ||
		    !lwm2m_path_under(out, base))
			return -EINVAL;
		k = 0;
	} else {
		char full[48];
		struct lwm2m_path rel;
		if (!relative_ok || strlen(s) > 40)
			return -EINVAL;
		snprintf(full, sizeof(full), "/%s", s);
		if (lwm2m_path_parse(full, strlen(full), &rel) != 0 || rel.len < 1 || rel.len > 2)
			return -EINVAL;
		*out = (struct lwm2m_path){ .len = (uint8_t)(rel.len + 2),
					    .ids = { base->ids[0], NO_INSTANCE, rel.ids[0],
						     rel.ids[1] } };
		k = 1;
	}
	if (*kind >= 0 && *kind != k)
		return -EXDEV;
	*kind = k;
	return 0;
}

/* values[i]: its path, then its value typed by "type" or the model. buf has room for an
 * opaque value decoded from base64 (lwm2m_values_add copies it). 0, or -1 with the 400. */
static int read_one(struct api_call *c, const json_t *item, size_t i,
		    const struct lwm2m_path *base, bool relative_ok, int *kind, uint8_t *buf,
		    struct lwm2m_values *values)
{
	struct lwm2m_value v = { 0 };
	const char *type = json_string_value(json_object_get(item, "type"));
	int rc = value_path(json_string_value(json_object_get(item, "path")), base, relative_ok,
			    kind, &v.path);
	if (rc == -EXDEV) {
		api_reply_error(c, 400, "values[%zu].path: either every value names the new "
					"instance (/%u/5/0) or none does (0)",
				i, base->ids[0]);
		return -1;
	}
	if (rc != 0) {
		api_reply_error(c, 400, "values[%zu].path must be a resource under the request's "
					"path%s",
				i, relative_ok ? ", or one of the instance the device creates (\"0\", "
						 "\"0/1\")"
					       : "");
		return -1;
	}
	int t = type ? model_type_parse(type)
		     : (int)model_type_of(NULL, v.path.ids[0], v.path.ids[2], NULL);
	if (content_value_from_json(json_object_get(item, "value"), t, &v, buf,
				    LWM2M_DM_MAX_BODY) != 0) {
		api_reply_error(c, 400, "values[%zu].value is not a valid %s", i,
				t > 0 ? model_type_name((uint8_t)t) : "value");
		return -1;
	}
	if (lwm2m_values_add(values, &v) != 0) {
		api_reply_error(c, 400, "too many values");
		return -1;
	}
	return 0;
}

int api_dm_read_values(struct api_call *c, const json_t *body, const struct lwm2m_path *base,
		       bool relative_ok, bool *relative, struct lwm2m_values *values)
{
	const json_t *list = json_object_get(body, "values");
	const json_t *item;
	size_t i;
	int kind = -1, rc = 0;
	if (!json_is_array(list) || json_array_size(list) == 0) {
		api_reply_error(c, 400, "values must be a non-empty array");
		return -1;
	}
	/* Room for the largest opaque value a request can carry, decoded. */
	uint8_t *buf = malloc(LWM2M_DM_MAX_BODY);
	if (!buf) {
		api_reply_error(c, 503, "out of memory");
		return -1;
	}
	json_array_foreach(list, i, item)
	{
		rc = read_one(c, item, i, base, relative_ok, &kind, buf, values);
		if (rc != 0)
			break;
	}
	free(buf);
	if (relative)
		*relative = kind == 1;
	return rc;
}

void api_dm_write_values(struct api_call *c, struct api_dm_target *t, enum lwm2m_op op)
{
	json_t *body = api_body_object(c);
	if (!body)
		return;
	struct lwm2m_values values;
	lwm2m_values_init(&values);
	uint8_t *payload = malloc(LWM2M_DM_MAX_BODY);
	int format = t->format >= 0 ? t->format : CONTENT_TLV;
	const char *f = json_string_value(json_object_get(body, "format"));
	bool relative = false;
	if (!payload) {
		api_reply_error(c, 503, "out of memory");
		goto out;
	}
	if (f && (format = api_format_parse(f)) < 0) {
		api_reply_error(c, 400, "format is not a content format we know");
		goto out;
	}
	if (api_dm_read_values(c, body, &t->path, op == LWM2M_OP_CREATE, &relative, &values) != 0)
		goto out;
	struct lwm2m_path base = t->path;
	if (relative) {
		/* Core §6.3.6: a Create with no instance in its payload lets the device pick
		 * one. TLV says so by carrying the resources without an Object Instance TLV
		 * around them; SenML and OMA JSON name every value by its full path, instance
		 * included, so there it cannot be said (OMA LwM2M issue #422). */
		if (format != CONTENT_TLV) {
			api_reply_error(c, 400, "a Create that lets the device choose the instance "
						"is sent as tlv only: %s names the instance in every "
						"value",
					api_format_name(format) ? api_format_name(format)
								: "that format");
			goto out;
		}
		base = (struct lwm2m_path){ .len = 2, .ids = { t->path.ids[0], NO_INSTANCE } };
	}
	int n = content_encode((uint16_t)format, &base, &values, model_type_of, NULL, payload,
			       LWM2M_DM_MAX_BODY);
	if (n < 0) {
		api_reply_error(c, n == -ENOBUFS ? 413 : 400, "the values cannot be sent as %s%s",
				api_format_name(format) ? api_format_name(format) : "that format",
				n == -ENOBUFS ? ": over 65536 bytes" : "");
		goto out;
	}
	struct lwm2m_dm_request dm = { .op = op, .accept = -1, .content_format = format,
				       .payload = payload, .payload_len = (size_t)n };
	api_dm_send(c, t, &dm, NULL); /* lwm2m_requests keeps its own copy */
out:
	free(payload);
	lwm2m_values_free(&values);
	json_decref(body);
}

/* The content format a raw body's Content-Type stands for, or -1 (media type compared
 * without its parameters, as RFC 9110 §8.3.1 wants). */
static int raw_format(const char *type)
{
	static const struct {
		const char *media;
		int format;
	} raw[] = { { "application/octet-stream", CONTENT_OPAQUE }, { "text/plain", CONTENT_TEXT } };
	for (size_t i = 0; type && i < sizeof(raw) / sizeof(raw[0]); i++) {
		size_t n = strlen(raw[i].media);
		if (strncasecmp(type, raw[i].media, n) == 0 &&
		    (type[n] == '\0' || type[n] == ';' || type[n] == ' '))
			return raw[i].format;
	}
	return -1;
}

bool api_dm_write_raw(struct api_call *c, struct api_dm_target *t)
{
	int format = raw_format(api_header(c, "Content-Type"));
	if (format < 0)
		return false;
	const char *name = api_format_name(format);
	if (t->path.len < 3) {
		api_reply_error(c, 400, "a raw %s body is one value: write it to a resource or a "
					"resource instance",
				name);
		return true;
	}
	if (t->format >= 0 && t->format != format) {
		api_reply_error(c, 400, "format %s does not match the body's Content-Type (%s)",
				api_format_name(t->format), name);
		return true;
	}
	if (c->body_len == 0) {
		api_reply_error(c, 400, "the body is empty: there is no value to write");
		return true;
	}
	struct lwm2m_dm_request dm = { .op = LWM2M_OP_WRITE_REPLACE, .accept = -1,
				       .content_format = format,
				       .payload = (const uint8_t *)c->body,
				       .payload_len = c->body_len };
	api_dm_send(c, t, &dm, NULL);
	return true;
}
