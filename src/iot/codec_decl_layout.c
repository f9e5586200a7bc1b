/*
 * codec_decl_layout: the layout half of the declarative codec. codec_decl_create checks a
 * product's layout document (docs/codec-declarative.md) once, all of it, and compiles it
 * into the tables of codec_decl_internal.h, so that decode and encode (codec_decl.c) only
 * walk tables they can trust. Every error names its place in the document, as
 * "messages[1].fields[0]: unknown type \"uint12\"".
 */
#include "iot/codec_decl_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(int rc, char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(int rc, char *err, size_t errlen, const char *fmt, ...)
{
	if (err && errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return rc;
}

static int check_keys(const json_t *obj, const char *const *allowed, const char *place, char *err,
		      size_t errlen)
{
	const char *key;
	const json_t *v;
	json_object_foreach((json_t *)obj, key, v)
	{
		const char *const *a = allowed;
		while (*a && strcmp(*a, key) != 0)
			a++;
		if (!*a)
			return fail(-EINVAL, err, errlen, "%s: unknown key \"%s\"", place, key);
	}
	return 0;
}

/* obj[key] as an integer in 0..max; absent is an error if required, else *out stays. */
static int get_uint(const json_t *obj, const char *key, long long max, bool required, unsigned *out,
		    const char *place, char *err, size_t errlen)
{
	const json_t *v = json_object_get(obj, key);
	if (!v) {
		if (required)
			return fail(-EINVAL, err, errlen, "%s: \"%s\" is missing", place, key);
		return 0;
	}
	if (!json_is_integer(v))
		return fail(-EINVAL, err, errlen, "%s: \"%s\" must be an integer, not %s", place,
			    key, codec_decl_json_kind(v));
	json_int_t x = json_integer_value(v);
	if (x < 0 || x > max)
		return fail(-EINVAL, err, errlen, "%s: \"%s\" %lld is not in 0..%lld", place, key,
			    (long long)x, max);
	*out = (unsigned)x;
	return 0;
}

/* obj[key] as a non-empty string of at most DECL_MAX_NAME bytes without NULs. */
static int get_name(const json_t *obj, const char *key, bool required, const char **out,
		    const char *place, char *err, size_t errlen)
{
	const json_t *v = json_object_get(obj, key);
	if (!v) {
		if (required)
			return fail(-EINVAL, err, errlen, "%s: \"%s\" is missing", place, key);
		return 0;
	}
	if (!json_is_string(v))
		return fail(-EINVAL, err, errlen, "%s: \"%s\" must be a string, not %s", place, key,
			    codec_decl_json_kind(v));
	size_t n = json_string_length(v);
	if (n == 0 || n > DECL_MAX_NAME || strlen(json_string_value(v)) != n)
		return fail(-EINVAL, err, errlen, "%s: \"%s\" must have 1..%d bytes and no NUL",
			    place, key, DECL_MAX_NAME);
	*out = json_string_value(v);
	return 0;
}

static int get_byte_order(const json_t *obj, bool inherited, bool *little, const char *place,
			  char *err, size_t errlen)
{
	const json_t *v = json_object_get(obj, "byte_order");
	*little = inherited;
	if (!v)
		return 0;
	const char *s = json_string_value(v);
	if (s && strcmp(s, "big") == 0)
		*little = false;
	else if (s && strcmp(s, "little") == 0)
		*little = true;
	else
		return fail(-EINVAL, err, errlen,
			    "%s: \"byte_order\" must be \"big\" or \"little\"", place);
	return 0;
}

static int get_type(const json_t *obj, enum decl_type *out, const char *place, char *err,
		    size_t errlen)
{
	const json_t *v = json_object_get(obj, "type");
	if (!v)
		return fail(-EINVAL, err, errlen, "%s: \"type\" is missing", place);
	const char *s = json_string_value(v);
	if (!s)
		return fail(-EINVAL, err, errlen, "%s: \"type\" must be a string, not %s", place,
			    codec_decl_json_kind(v));
	for (size_t t = 0; t < DECL_NTYPES; t++) {
		if (strcmp(codec_decl_types[t].name, s) == 0) {
			*out = (enum decl_type)t;
			return 0;
		}
	}
	return fail(-EINVAL, err, errlen, "%s: unknown type \"%s\"", place, s);
}

/* One field's own keys; what needs the other fields (length_field, overlaps) comes after. */
static int parse_field(const json_t *jf, bool little, struct decl_field *f, const char *place,
		       char *err, size_t errlen)
{
	static const char *const keys[] = {"name",   "offset",	     "type",
					   "length", "length_field", "byte_order",
					   "role",   "default",	     NULL};
	if (!json_is_object(jf))
		return fail(-EINVAL, err, errlen, "%s: must be an object", place);
	int rc = check_keys(jf, keys, place, err, errlen);
	if (!rc)
		rc = get_name(jf, "name", true, &f->name, place, err, errlen);
	if (!rc)
		rc =
		    get_uint(jf, "offset", CODEC_MAX_PAYLOAD, true, &f->offset, place, err, errlen);
	if (!rc)
		rc = get_type(jf, &f->type, place, err, errlen);
	if (rc)
		return rc;
	f->length_field = -1;
	bool numeric = codec_decl_types[f->type].size != 0;
	if (json_object_get(jf, "byte_order") && !numeric)
		return fail(-EINVAL, err, errlen, "%s: \"byte_order\" has no meaning for %s", place,
			    codec_decl_types[f->type].name);
	rc = get_byte_order(jf, little, &f->little, place, err, errlen);
	if (rc)
		return rc;

	const json_t *len = json_object_get(jf, "length");
	const json_t *lenf = json_object_get(jf, "length_field");
	if (numeric && (len || lenf))
		return fail(-EINVAL, err, errlen, "%s: %s has a fixed size; no \"length\"", place,
			    codec_decl_types[f->type].name);
	if (f->type != DECL_VARSTRING && lenf)
		return fail(-EINVAL, err, errlen, "%s: only a varstring has a \"length_field\"",
			    place);
	if (json_is_string(len) && strcmp(json_string_value(len), "rest") == 0) {
		if (f->type == DECL_STRING)
			return fail(
			    -EINVAL, err, errlen,
			    "%s: a string has a fixed \"length\"; use varstring for \"rest\"",
			    place);
		f->rest = true;
	} else if (f->type == DECL_STRING || f->type == DECL_BYTES) {
		if (!json_is_integer(len))
			return fail(-EINVAL, err, errlen,
				    "%s: %s needs \"length\": a number of bytes%s", place,
				    codec_decl_types[f->type].name,
				    f->type == DECL_BYTES ? " or \"rest\"" : "");
		json_int_t n = json_integer_value(len);
		if (n < 1 || n > CODEC_MAX_PAYLOAD - (json_int_t)f->offset)
			return fail(-EINVAL, err, errlen,
				    "%s: \"length\" %lld at offset %u goes past %d bytes or is < 1",
				    place, (long long)n, f->offset, CODEC_MAX_PAYLOAD);
		f->length = (unsigned)n;
	} else if (f->type == DECL_VARSTRING) {
		if (len)
			return fail(-EINVAL, err, errlen,
				    "%s: a varstring's \"length\" can only be \"rest\"", place);
		if (!lenf)
			return fail(-EINVAL, err, errlen,
				    "%s: a varstring needs \"length_field\" or \"length\":\"rest\"",
				    place);
	}
	if (lenf && f->rest)
		return fail(-EINVAL, err, errlen,
			    "%s: \"length_field\" and \"length\":\"rest\" exclude each other",
			    place);
	if (numeric && f->offset + codec_decl_types[f->type].size > CODEC_MAX_PAYLOAD)
		return fail(-EINVAL, err, errlen, "%s: offset %u + %u bytes goes past %d", place,
			    f->offset, codec_decl_types[f->type].size, CODEC_MAX_PAYLOAD);

	const json_t *role = json_object_get(jf, "role");
	if (role) {
		const char *s = json_string_value(role);
		if (s && strcmp(s, "mid") == 0)
			f->role = DECL_ROLE_MID;
		else if (s && strcmp(s, "errcode") == 0)
			f->role = DECL_ROLE_ERRCODE;
		else
			return fail(-EINVAL, err, errlen,
				    "%s: \"role\" must be \"mid\" or \"errcode\"", place);
		if (!codec_decl_types[f->type].integer)
			return fail(-EINVAL, err, errlen,
				    "%s: a role:\"%s\" field must be an integer", place, s);
	}
	f->def = json_object_get(jf, "default");
	return 0;
}

/* The rules between the fields of one message; fields[i] parsed already. */
static int check_message_fields(struct decl_msg *m, const json_t *jfields,
				const struct decl_field *msg_id, const char *mplace, char *err,
				size_t errlen)
{
	char place[64];
	unsigned id_end = codec_decl_field_end(msg_id);
	for (size_t i = 0; i < m->n_fields; i++) {
		struct decl_field *f = &m->fields[i];
		snprintf(place, sizeof(place), "%s.fields[%zu]", mplace, i);
		unsigned end = codec_decl_field_end(f);
		if (f->offset < id_end && end > msg_id->offset)
			return fail(-EINVAL, err, errlen,
				    "%s: \"%s\" overlaps the message id (offset %u, %u bytes)",
				    place, f->name, msg_id->offset,
				    codec_decl_types[msg_id->type].size);
		for (size_t j = 0; j < i; j++) {
			const struct decl_field *g = &m->fields[j];
			if (strcmp(f->name, g->name) == 0)
				return fail(-EINVAL, err, errlen, "%s: duplicate field name \"%s\"",
					    place, f->name);
			if (f->offset < codec_decl_field_end(g) && end > g->offset)
				return fail(
				    -EINVAL, err, errlen, "%s: \"%s\" overlaps field \"%s\"%s",
				    place, f->name, g->name,
				    end == DECL_VARIABLE || codec_decl_field_end(g) == DECL_VARIABLE
					? " (a variable-length field must be the last in "
					  "the payload)"
					: "");
		}
		if (f->role == DECL_ROLE_MID) {
			if (m->kind == DECL_REPORT)
				return fail(-EINVAL, err, errlen,
					    "%s: a report has no role:\"mid\"", place);
			if (m->mid >= 0)
				return fail(-EINVAL, err, errlen, "%s: a second role:\"mid\" field",
					    place);
			m->mid = (int)i;
		} else if (f->role == DECL_ROLE_ERRCODE) {
			if (m->kind != DECL_RESPONSE)
				return fail(-EINVAL, err, errlen,
					    "%s: only a response has a role:\"errcode\"", place);
			if (m->errcode >= 0)
				return fail(-EINVAL, err, errlen,
					    "%s: a second role:\"errcode\" field", place);
			m->errcode = (int)i;
		}
		const json_t *lenf = json_object_get(json_array_get(jfields, i), "length_field");
		if (lenf) {
			const char *s = json_string_value(lenf);
			size_t j = 0;
			while (s && j < i && strcmp(m->fields[j].name, s) != 0)
				j++;
			if (!s || j == i)
				return fail(-EINVAL, err, errlen,
					    "%s: \"length_field\" must name an earlier field",
					    place);
			struct decl_field *g = &m->fields[j];
			if (!codec_decl_types[g->type].integer || g->role != DECL_ROLE_NONE ||
			    g->is_length)
				return fail(
				    -EINVAL, err, errlen,
				    "%s: \"length_field\" \"%s\" must be an integer field of "
				    "no role and the length of one field only",
				    place, s);
			f->length_field = (int)j;
			g->is_length = true;
		}
	}
	if (m->kind != DECL_REPORT && m->mid < 0)
		return fail(-EINVAL, err, errlen, "%s: a %s needs one role:\"mid\" field", mplace,
			    m->kind == DECL_COMMAND ? "command" : "response");
	/* Defaults last: a varstring's default needs its length field known. */
	uint8_t scratch[CODEC_MAX_PAYLOAD];
	for (size_t i = 0; i < m->n_fields; i++) {
		const struct decl_field *f = &m->fields[i];
		if (!f->def)
			continue;
		snprintf(place, sizeof(place), "%s.fields[%zu]", mplace, i);
		if (f->role != DECL_ROLE_NONE || f->is_length || m->kind != DECL_COMMAND)
			return fail(-EINVAL, err, errlen,
				    "%s: \"default\" only for a command's fields that take paras",
				    place);
		size_t end = 0;
		char what[96];
		snprintf(what, sizeof(what), "%s: \"default\"", place);
		if (codec_decl_put_value(m, f, f->def, scratch, &end, what, err, errlen))
			return -EINVAL;
	}
	return 0;
}

static int parse_message(const json_t *jm, const struct codec_decl *d, bool little,
			 struct decl_msg *m, const char *place, char *err, size_t errlen)
{
	static const char *const keys[] = {"id", "kind", "service_id", "command", "fields", NULL};
	if (!json_is_object(jm))
		return fail(-EINVAL, err, errlen, "%s: must be an object", place);
	int rc = check_keys(jm, keys, place, err, errlen);
	if (rc)
		return rc;
	m->mid = m->errcode = -1;
	const json_t *id = json_object_get(jm, "id");
	const struct decl_field *mid = &d->msg_id;
	if (!json_is_integer(id))
		return fail(-EINVAL, err, errlen, "%s: \"id\" must be an integer", place);
	m->id = json_integer_value(id);
	if (m->id < codec_decl_types[mid->type].min || m->id > codec_decl_types[mid->type].max)
		return fail(-EINVAL, err, errlen, "%s: id %lld is out of range for %s (%lld..%lld)",
			    place, m->id, codec_decl_types[mid->type].name,
			    codec_decl_types[mid->type].min, codec_decl_types[mid->type].max);
	const char *kind = json_string_value(json_object_get(jm, "kind"));
	if (kind && strcmp(kind, "report") == 0)
		m->kind = DECL_REPORT;
	else if (kind && strcmp(kind, "response") == 0)
		m->kind = DECL_RESPONSE;
	else if (kind && strcmp(kind, "command") == 0)
		m->kind = DECL_COMMAND;
	else if (kind)
		return fail(-EINVAL, err, errlen, "%s: unknown kind \"%s\"", place, kind);
	else
		return fail(-EINVAL, err, errlen,
			    "%s: \"kind\" must be \"report\", \"response\" or \"command\"", place);
	rc = get_name(jm, "service_id", true, &m->service_id, place, err, errlen);
	if (!rc)
		rc = get_name(jm, "command", m->kind == DECL_COMMAND, &m->command, place, err,
			      errlen);
	if (rc)
		return rc;
	if (m->kind == DECL_REPORT && m->command)
		return fail(-EINVAL, err, errlen, "%s: a report has no \"command\"", place);

	const json_t *jfields = json_object_get(jm, "fields");
	if (!json_is_array(jfields))
		return fail(-EINVAL, err, errlen, "%s: \"fields\" must be an array", place);
	m->n_fields = json_array_size(jfields);
	if (m->n_fields > DECL_MAX_FIELDS)
		return fail(-EINVAL, err, errlen, "%s: %zu fields, more than %d", place,
			    m->n_fields, DECL_MAX_FIELDS);
	if (m->n_fields) {
		m->fields = calloc(m->n_fields, sizeof(*m->fields));
		if (!m->fields)
			return fail(-ENOMEM, err, errlen, "out of memory");
	}
	char fplace[64];
	for (size_t i = 0; i < m->n_fields; i++) {
		snprintf(fplace, sizeof(fplace), "%s.fields[%zu]", place, i);
		rc = parse_field(json_array_get(jfields, i), little, &m->fields[i], fplace, err,
				 errlen);
		if (rc)
			return rc;
	}
	return check_message_fields(m, jfields, &d->msg_id, place, err, errlen);
}

static int parse_message_id(const json_t *doc, struct codec_decl *d, bool little, char *err,
			    size_t errlen)
{
	static const char *const keys[] = {"offset", "type", "byte_order", NULL};
	const json_t *j = json_object_get(doc, "message_id");
	if (!json_is_object(j))
		return fail(-EINVAL, err, errlen, "message_id: must be an object");
	int rc = check_keys(j, keys, "message_id", err, errlen);
	if (!rc)
		rc = get_uint(j, "offset", CODEC_MAX_PAYLOAD, true, &d->msg_id.offset, "message_id",
			      err, errlen);
	if (!rc)
		rc = get_type(j, &d->msg_id.type, "message_id", err, errlen);
	if (!rc)
		rc = get_byte_order(j, little, &d->msg_id.little, "message_id", err, errlen);
	if (rc)
		return rc;
	if (!codec_decl_types[d->msg_id.type].integer)
		return fail(-EINVAL, err, errlen, "message_id: type %s is not an integer type",
			    codec_decl_types[d->msg_id.type].name);
	if (codec_decl_field_end(&d->msg_id) > CODEC_MAX_PAYLOAD)
		return fail(-EINVAL, err, errlen, "message_id: offset %u goes past %d",
			    d->msg_id.offset, CODEC_MAX_PAYLOAD);
	d->msg_id.name = "message id";
	d->msg_id.length_field = -1;
	return 0;
}

int codec_decl_create(const char *source, size_t len, struct codec_decl **out, char *err,
		      size_t errlen)
{
	static const char *const keys[] = {"byte_order", "message_id", "messages", NULL};
	if (!out || (!source && len))
		return fail(-EINVAL, err, errlen, "no layout");
	*out = NULL;
	json_error_t jerr;
	json_t *doc = json_loadb(source ? source : "", len, JSON_REJECT_DUPLICATES, &jerr);
	if (!doc)
		return fail(-EINVAL, err, errlen, "layout is not JSON: %s (line %d, column %d)",
			    jerr.text, jerr.line, jerr.column);
	int rc;
	struct codec_decl *d = calloc(1, sizeof(*d));
	if (!d) {
		rc = fail(-ENOMEM, err, errlen, "out of memory");
		goto cleanup;
	}
	d->doc = doc;
	doc = NULL;
	if (!json_is_object(d->doc)) {
		rc = fail(-EINVAL, err, errlen, "layout: must be a JSON object");
		goto cleanup;
	}
	bool little = false;
	rc = check_keys(d->doc, keys, "layout", err, errlen);
	if (!rc)
		rc = get_byte_order(d->doc, false, &little, "layout", err, errlen);
	if (!rc)
		rc = parse_message_id(d->doc, d, little, err, errlen);
	if (rc)
		goto cleanup;
	const json_t *jmsgs = json_object_get(d->doc, "messages");
	if (!json_is_array(jmsgs) || json_array_size(jmsgs) == 0 ||
	    json_array_size(jmsgs) > DECL_MAX_MESSAGES) {
		rc = fail(-EINVAL, err, errlen, "messages: must be an array of 1..%d messages",
			  DECL_MAX_MESSAGES);
		goto cleanup;
	}
	d->msgs = calloc(json_array_size(jmsgs), sizeof(*d->msgs));
	if (!d->msgs) {
		rc = fail(-ENOMEM, err, errlen, "out of memory");
		goto cleanup;
	}
	char place[32];
	for (size_t i = 0; i < json_array_size(jmsgs); i++) {
		struct decl_msg *m = &d->msgs[i];
		d->n_msgs = i + 1; /* so that cleanup frees m->fields */
		snprintf(place, sizeof(place), "messages[%zu]", i);
		rc = parse_message(json_array_get(jmsgs, i), d, little, m, place, err, errlen);
		if (rc)
			goto cleanup;
		for (size_t j = 0; j < i; j++) {
			const struct decl_msg *o = &d->msgs[j];
			if (o->id == m->id) {
				rc = fail(-EINVAL, err, errlen,
					  "%s: duplicate message id %lld (messages[%zu])", place,
					  m->id, j);
				goto cleanup;
			}
			if (m->kind == DECL_COMMAND && o->kind == DECL_COMMAND &&
			    strcmp(m->service_id, o->service_id) == 0 &&
			    strcmp(m->command, o->command) == 0) {
				rc = fail(
				    -EINVAL, err, errlen,
				    "%s: command \"%s\" of service \"%s\" is also messages[%zu]",
				    place, m->command, m->service_id, j);
				goto cleanup;
			}
		}
	}
	*out = d;
	d = NULL;
	rc = 0;
cleanup:
	json_decref(doc);
	codec_decl_destroy(d);
	return rc;
}

void codec_decl_destroy(struct codec_decl *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n_msgs; i++)
		free(d->msgs[i].fields);
	free(d->msgs);
	json_decref(d->doc);
	free(d);
}
