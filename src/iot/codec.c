/*
 * codec: dispatch to the kind, and the one check of what a decode produced.
 */
#include "iot/codec.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct codec {
	enum codec_kind kind;
	union {
		struct codec_js *js;
		struct codec_decl *decl;
	} u;
};

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	if (err && errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

int codec_error_line(const char *err)
{
	const char *last = NULL;
	for (const char *p = err ? strstr(err, "(line ") : NULL; p; p = strstr(p + 1, "(line "))
		last = p;
	if (!last)
		return 0;
	long line = 0;
	const char *d = last + strlen("(line ");
	for (; *d >= '0' && *d <= '9' && line <= 1000000000L; d++)
		line = line * 10 + (*d - '0');
	return (*d == ')' || *d == ',') && line >= 1 && line <= 1000000000L ? (int)line : 0;
}

int codec_create(enum codec_kind kind, const char *source, size_t len,
		 const struct codec_limits *limits, struct codec **out, char *err, size_t errlen)
{
	struct codec *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->kind = kind;
	int rc;
	switch (kind) {
	case CODEC_JS:
		rc = codec_js_create(source, len, limits, &c->u.js, err, errlen);
		break;
	case CODEC_DECLARATIVE:
		rc = codec_decl_create(source, len, &c->u.decl, err, errlen);
		break;
	default:
		rc = fail(err, errlen, "unknown codec kind %d", (int)kind);
	}
	if (rc) {
		free(c);
		return rc;
	}
	*out = c;
	return 0;
}

void codec_destroy(struct codec *c)
{
	if (!c)
		return;
	if (c->kind == CODEC_JS)
		codec_js_destroy(c->u.js);
	else
		codec_decl_destroy(c->u.decl);
	free(c);
}

int codec_decode(struct codec *c, const uint8_t *payload, size_t len, const char *topic,
		 json_t **out, char *err, size_t errlen)
{
	if (len > CODEC_MAX_PAYLOAD)
		return fail(err, errlen, "payload of %zu bytes is over %d", len, CODEC_MAX_PAYLOAD);
	json_t *msg = NULL;
	int rc = c->kind == CODEC_JS ? codec_js_decode(c->u.js, payload, len, topic, &msg, err, errlen)
				     : codec_decl_decode(c->u.decl, payload, len, &msg, err, errlen);
	if (rc)
		return rc;
	rc = codec_check_decoded(msg, err, errlen);
	if (rc) {
		json_decref(msg);
		return rc;
	}
	*out = msg;
	return 0;
}

int codec_encode(struct codec *c, const json_t *cloud_req, uint8_t *out, size_t cap,
		 size_t *out_len, char *err, size_t errlen)
{
	if (cap > CODEC_MAX_PAYLOAD)
		cap = CODEC_MAX_PAYLOAD;
	if (c->kind == CODEC_JS)
		return codec_js_encode(c->u.js, cloud_req, out, cap, out_len, err, errlen);
	return codec_decl_encode(c->u.decl, cloud_req, out, cap, out_len, err, errlen);
}

static int check_mid(const json_t *mid, char *err, size_t errlen)
{
	if (!json_is_integer(mid))
		return fail(err, errlen, "deviceRsp: \"mid\" must be an integer");
	json_int_t v = json_integer_value(mid);
	if (v < 1 || v > 65535)
		return fail(err, errlen, "deviceRsp: \"mid\" %lld is not in 1..65535", (long long)v);
	return 0;
}

static int check_report(const json_t *msg, char *err, size_t errlen)
{
	const json_t *data = json_object_get(msg, "data");
	if (!json_is_array(data) || json_array_size(data) == 0)
		return fail(err, errlen, "deviceReq: \"data\" must be a non-empty array");
	size_t i;
	const json_t *item;
	json_array_foreach(data, i, item) {
		if (!json_is_object(item))
			return fail(err, errlen, "deviceReq: data[%zu] is not an object", i);
		const json_t *sid = json_object_get(item, "serviceId");
		if (!json_is_string(sid) || json_string_length(sid) == 0)
			return fail(err, errlen, "deviceReq: data[%zu].serviceId must be a non-empty string", i);
		if (!json_is_object(json_object_get(item, "serviceData")))
			return fail(err, errlen, "deviceReq: data[%zu].serviceData must be an object", i);
		const json_t *t = json_object_get(item, "eventTime");
		if (t && !json_is_null(t) && !json_is_string(t))
			return fail(err, errlen, "deviceReq: data[%zu].eventTime must be a string", i);
	}
	return 0;
}

int codec_check_decoded(const json_t *msg, char *err, size_t errlen)
{
	if (!json_is_object(msg))
		return fail(err, errlen, "the decoded message is not a JSON object");
	const char *type = json_string_value(json_object_get(msg, "msgType"));
	if (!type)
		return fail(err, errlen, "the decoded message has no \"msgType\" string");
	if (strcmp(type, "deviceReq") == 0)
		return check_report(msg, err, errlen);
	if (strcmp(type, "deviceRsp") == 0) {
		int rc = check_mid(json_object_get(msg, "mid"), err, errlen);
		if (rc)
			return rc;
		const json_t *code = json_object_get(msg, "errcode");
		if (code && !json_is_integer(code))
			return fail(err, errlen, "deviceRsp: \"errcode\" must be an integer");
		const json_t *body = json_object_get(msg, "body");
		if (body && !json_is_object(body) && !json_is_null(body))
			return fail(err, errlen, "deviceRsp: \"body\" must be an object");
		return 0;
	}
	return fail(err, errlen, "unknown msgType \"%s\" (deviceReq or deviceRsp)", type);
}
