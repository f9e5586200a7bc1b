/*
 * api_call: what a route uses to read its call and to answer it — query parameters and
 * headers, the JSON body and its typed fields (a 400 naming the field when one is wrong),
 * and the reply, a JSON body or an IoTDA-shaped error.
 *
 * Errors are {"error_code":"IOTDA.000<status>","error_msg":"..."}: the code carries the
 * HTTP status so a client can switch on either, the message says what was wrong
 * (docs/api.md lists them). A message is scrubbed to valid UTF-8, since it may quote what
 * the client sent.
 */
#include "api/api_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"
#include "util/str.h"

json_t *api_json_str(const char *s)
{
	json_t *v = json_string(s);
	return v ? v : json_string("");
}

void api_reply(struct api_call *c, unsigned status, json_t *body)
{
	free(c->reply_text);
	c->reply_text = NULL;
	json_decref(c->reply);
	c->reply = body;
	c->status = status;
	/* A reply that should have a body but has none ran out of memory building it. */
	if (!body && status != 204)
		api_reply_error(c, 500, "out of memory");
}

void api_reply_text(struct api_call *c, unsigned status, char *json, size_t len)
{
	if (!json) {
		api_reply_error(c, 500, "out of memory");
		return;
	}
	json_decref(c->reply);
	c->reply = NULL;
	free(c->reply_text);
	c->reply_text = json;
	c->reply_text_len = len;
	c->status = status;
}

/* Replaces each byte of msg that is not part of well-formed UTF-8 with '?'. An error
 * message may quote the client's bytes (jansson's "near '...'" can end inside a character)
 * or be cut inside a character by its buffer; jansson refuses such a string, and the 400
 * would have become a 500 with no message. */
static void utf8_scrub(char *msg)
{
	unsigned char *p = (unsigned char *)msg;
	while (*p) {
		size_t n = str_utf8_len(p);
		if (n == 0)
			*p++ = '?';
		else
			p += n;
	}
}

json_t *api_error_json(unsigned status, const char *msg)
{
	char text[768];
	char code[16];
	snprintf(text, sizeof(text), "%s", msg);
	utf8_scrub(text);
	snprintf(code, sizeof(code), "IOTDA.000%03u", status % 1000);
	return json_pack("{s:s, s:s}", "error_code", code, "error_msg", text);
}

void api_reply_error(struct api_call *c, unsigned status, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_decref(c->reply);
	free(c->reply_text);
	c->reply_text = NULL;
	c->reply = api_error_json(status, msg);
	c->status = status;
	if (status >= 500)
		LOG_ERROR("api", "%u: %s", status, msg);
}

void api_reply_store_error(struct api_call *c, int rc, const char *what)
{
	switch (rc) {
	case -ENOENT:
		api_reply_error(c, 404, "%s not found", what);
		break;
	case -EEXIST:
		api_reply_error(c, 409, "%s already exists", what);
		break;
	case -EBUSY:
		api_reply_error(c, 409, "%s is still in use", what);
		break;
	default:
		api_reply_error(c, 500, "store error: %s", strerror(rc < 0 ? -rc : rc));
		break;
	}
}

const char *api_query(const struct api_call *c, const char *name)
{
	return MHD_lookup_connection_value(c->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *api_header(const struct api_call *c, const char *name)
{
	return MHD_lookup_connection_value(c->conn, MHD_HEADER_KIND, name);
}

struct query_find {
	const char *name;
	const char *value;
	bool found;
};

static enum MHD_Result query_match(void *cls, enum MHD_ValueKind kind, const char *key,
				   const char *value)
{
	(void)kind;
	struct query_find *q = cls;
	if (key && strcmp(key, q->name) == 0) {
		q->found = true;
		q->value = value;
		return MHD_NO; /* the first one */
	}
	return MHD_YES;
}

const char *api_query_flag(const struct api_call *c, const char *name)
{
	/* MHD_lookup_connection_value gives NULL both for "absent" and for "?st" (a name
	 * without '='); walking the arguments tells them apart. */
	struct query_find q = { .name = name };
	MHD_get_connection_values(c->conn, MHD_GET_ARGUMENT_KIND, query_match, &q);
	if (!q.found)
		return NULL;
	return q.value ? q.value : "";
}

json_t *api_body_object(struct api_call *c)
{
	struct api_err err;
	json_t *obj;

	if (!c->body || c->body_len == 0) {
		api_reply_error(c, 400, "a JSON object body is required");
		return NULL;
	}
	if (api_json_parse_object(c->body, c->body_len, &obj, &err) != 0) {
		api_reply_error(c, 400, "%s", err.msg);
		return NULL;
	}
	return obj;
}

int api_field_string(struct api_call *c, const json_t *obj, const char *path, size_t min,
		     size_t max, enum api_str_rule rule, char *out, size_t cap, bool required)
{
	struct api_err err;
	int rc = api_json_string(obj, path, min, max, rule, out, cap, &err);
	if (rc == -ENOENT && required) {
		api_reply_error(c, 400, "%s is required", path);
		return -EINVAL;
	}
	if (rc != 0 && rc != -ENOENT) {
		api_reply_error(c, 400, "%s", err.msg);
		return -EINVAL;
	}
	return rc;
}

int api_field_bool(struct api_call *c, const json_t *obj, const char *path, bool *out)
{
	struct api_err err;
	int rc = api_json_bool(obj, path, out, &err);
	if (rc != 0 && rc != -ENOENT) {
		api_reply_error(c, 400, "%s", err.msg);
		return -EINVAL;
	}
	return rc;
}

int api_field_int(struct api_call *c, const json_t *obj, const char *path, int64_t min,
		  int64_t max, int64_t *out)
{
	struct api_err err;
	int rc = api_json_int(obj, path, min, max, out, &err);
	if (rc != 0 && rc != -ENOENT) {
		api_reply_error(c, 400, "%s", err.msg);
		return -EINVAL;
	}
	return rc;
}
