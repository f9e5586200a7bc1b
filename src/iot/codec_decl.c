/*
 * codec_decl: the declarative codec. A product describes its devices' binary payloads on
 * object 19 with a JSON layout document (docs/codec-declarative.md): where the message id
 * sits, and for each message id the kind (report, response, command), the service and the
 * fields at fixed offsets. codec_decl_create checks the whole document once and compiles
 * it to tables; decode and encode then only walk those tables, so that nothing a device
 * sends can make the codec allocate more than the decoded JSON of at most
 * CODEC_MAX_PAYLOAD bytes, or read outside the payload.
 *
 * This file is the codec half (the tables, decode, encode); codec_decl_layout.c is the
 * layout half (create, destroy). It sits under codec.c, which dispatches to it and checks
 * what decode returns (codec_check_decoded); the error texts name the place (field,
 * offset, para).
 */
#include "iot/codec_decl_internal.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct codec_decl_type codec_decl_types[] = {
    [DECL_INT8] = {"int8", 1, true, INT8_MIN, INT8_MAX},
    [DECL_UINT8] = {"uint8", 1, true, 0, UINT8_MAX},
    [DECL_INT16] = {"int16", 2, true, INT16_MIN, INT16_MAX},
    [DECL_UINT16] = {"uint16", 2, true, 0, UINT16_MAX},
    [DECL_INT32] = {"int32", 4, true, INT32_MIN, INT32_MAX},
    [DECL_UINT32] = {"uint32", 4, true, 0, UINT32_MAX},
    [DECL_FLOAT] = {"float", 4, false, 0, 0},
    [DECL_DOUBLE] = {"double", 8, false, 0, 0},
    [DECL_STRING] = {"string", 0, false, 0, 0},
    [DECL_VARSTRING] = {"varstring", 0, false, 0, 0},
    [DECL_BYTES] = {"bytes", 0, false, 0, 0},
};

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

/* Byte 0 .. n-1 of an unsigned integer of n bytes, in either order. */
static uint64_t bytes_get(const uint8_t *p, unsigned n, bool little)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < n; i++)
		v = v << 8 | p[little ? n - 1 - i : i];
	return v;
}

static void bytes_put(uint8_t *p, unsigned n, bool little, uint64_t v)
{
	for (unsigned i = 0; i < n; i++)
		p[little ? i : n - 1 - i] = (uint8_t)(v >> (8 * i));
}

/* The integer field f of p (which holds it), sign-extended if its type is signed. */
static long long int_get(const struct decl_field *f, const uint8_t *p)
{
	unsigned n = codec_decl_types[f->type].size;
	uint64_t v = bytes_get(p + f->offset, n, f->little);
	if (codec_decl_types[f->type].min == 0)
		return (long long)v;
	uint64_t sign = (uint64_t)1 << (8 * n - 1);
	return (long long)(v ^ sign) - (long long)sign;
}

const char *codec_decl_json_kind(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "an integer";
	case JSON_REAL:
		return "a real";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	default:
		return "null";
	}
}

/* ---- decode ---------------------------------------------------------------------- */

/* The JSON value of field f of payload p (len bytes) in *out (a new reference). */
static int get_value(const struct decl_msg *m, const struct decl_field *f, const uint8_t *p,
		     size_t len, json_t **out, char *err, size_t errlen)
{
	size_t n; /* bytes the field takes in this payload */
	if (codec_decl_types[f->type].size)
		n = codec_decl_types[f->type].size;
	else if (f->rest || f->type == DECL_VARSTRING) {
		if (f->offset > len)
			return fail(
			    -EINVAL, err, errlen,
			    "message %lld: field \"%s\" at offset %u starts past the %zu-byte "
			    "payload",
			    m->id, f->name, f->offset, len);
		if (f->rest)
			n = len - f->offset;
		else {
			/* Decoded (so inside p) before f: length_field names an earlier field. */
			const struct decl_field *lf = &m->fields[f->length_field];
			long long v = int_get(lf, p);
			if (v < 0)
				return fail(
				    -EINVAL, err, errlen,
				    "message %lld: field \"%s\": length %lld from \"%s\" is "
				    "negative",
				    m->id, f->name, v, lf->name);
			n = (size_t)v;
		}
	} else
		n = f->length;
	if (f->offset > len || n > len - f->offset)
		return fail(-EINVAL, err, errlen,
			    "message %lld: field \"%s\" at offset %u needs %zu bytes; the payload "
			    "has %zu",
			    m->id, f->name, f->offset, n, len);
	const uint8_t *at = p + f->offset;
	json_t *v = NULL;
	switch (f->type) {
	case DECL_FLOAT:
	case DECL_DOUBLE: {
		uint64_t bits = bytes_get(at, (unsigned)n, f->little);
		double x;
		if (f->type == DECL_FLOAT) {
			uint32_t b32 = (uint32_t)bits;
			float x32;
			memcpy(&x32, &b32, sizeof(x32));
			x = x32;
		} else
			memcpy(&x, &bits, sizeof(x));
		/* JSON has no NaN or infinity: the device sent "no number". */
		v = isfinite(x) ? json_real(x) : json_null();
		break;
	}
	case DECL_STRING:
	case DECL_VARSTRING:
		if (f->type == DECL_STRING)
			while (n > 0 && at[n - 1] == 0)
				n--;
		v = json_stringn((const char *)at, n);
		if (!v)
			return fail(-EINVAL, err, errlen,
				    "message %lld: field \"%s\" at offset %u is not UTF-8", m->id,
				    f->name, f->offset);
		break;
	case DECL_BYTES: {
		static const char hex[] = "0123456789ABCDEF";
		char s[2 * CODEC_MAX_PAYLOAD + 1];
		for (size_t i = 0; i < n; i++) {
			s[2 * i] = hex[at[i] >> 4];
			s[2 * i + 1] = hex[at[i] & 15];
		}
		v = json_stringn(s, 2 * n);
		break;
	}
	default:
		v = json_integer(int_get(f, p));
	}
	if (!v)
		return fail(-ENOMEM, err, errlen, "out of memory");
	*out = v;
	return 0;
}

int codec_decl_decode(struct codec_decl *d, const uint8_t *payload, size_t len, json_t **out,
		      char *err, size_t errlen)
{
	if (!d || !out || (!payload && len))
		return fail(-EINVAL, err, errlen, "no codec, payload or output");
	if (len > CODEC_MAX_PAYLOAD)
		return fail(-EINVAL, err, errlen, "payload of %zu bytes is over %d", len,
			    CODEC_MAX_PAYLOAD);
	const struct decl_field *idf = &d->msg_id;
	if (codec_decl_field_end(idf) > len)
		return fail(-EINVAL, err, errlen,
			    "payload of %zu bytes ends before the message id (offset %u, %u bytes)",
			    len, idf->offset, codec_decl_types[idf->type].size);
	long long id = int_get(idf, payload);
	const struct decl_msg *m = NULL;
	for (size_t i = 0; i < d->n_msgs && !m; i++)
		if (d->msgs[i].id == id)
			m = &d->msgs[i];
	if (!m)
		return fail(-EINVAL, err, errlen, "unknown message id %lld (at offset %u)", id,
			    idf->offset);
	if (m->kind == DECL_COMMAND)
		return fail(-EINVAL, err, errlen,
			    "message id %lld is a command (platform to device), not an uplink", id);

	int rc = -ENOMEM;
	json_t *msg = NULL;
	json_t *vals = json_object();
	long long mid = 0, errcode = 0;
	if (!vals)
		goto nomem;
	for (size_t i = 0; i < m->n_fields; i++) {
		const struct decl_field *f = &m->fields[i];
		json_t *v;
		rc = get_value(m, f, payload, len, &v, err, errlen);
		if (rc)
			goto cleanup;
		if (f->role != DECL_ROLE_NONE) {
			long long x = json_integer_value(v);
			json_decref(v);
			if (f->role == DECL_ROLE_ERRCODE) {
				errcode = x;
				continue;
			}
			if (x < 1 || x > 65535) {
				rc = fail(-EINVAL, err, errlen,
					  "message %lld: field \"%s\" (mid) at offset %u is %lld, "
					  "not in 1..65535",
					  m->id, f->name, f->offset, x);
				goto cleanup;
			}
			mid = x;
			continue;
		}
		if (json_object_set_new(vals, f->name, v))
			goto nomem;
	}
	if (m->kind == DECL_REPORT) {
		msg = json_pack("{s:s, s:[{s:s, s:O}]}", "msgType", "deviceReq", "data",
				"serviceId", m->service_id, "serviceData", vals);
	} else {
		msg = json_pack("{s:s, s:I, s:I, s:O}", "msgType", "deviceRsp", "mid",
				(json_int_t)mid, "errcode", (json_int_t)errcode, "body", vals);
	}
	if (!msg)
		goto nomem;
	*out = msg;
	rc = 0;
	goto cleanup;
nomem:
	rc = fail(-ENOMEM, err, errlen, "out of memory");
cleanup:
	json_decref(vals);
	return rc;
}

/* ---- encode ---------------------------------------------------------------------- */

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* See codec_decl_internal.h. */
int codec_decl_put_value(const struct decl_msg *m, const struct decl_field *f, const json_t *v,
			 uint8_t *buf, size_t *end, const char *what, char *err, size_t errlen)
{
	const char *tname = codec_decl_types[f->type].name;
	uint8_t *at = buf + f->offset;
	size_t n;
	if (codec_decl_types[f->type].integer) {
		if (!json_is_integer(v))
			return fail(-EINVAL, err, errlen, "%s: %s needs an integer, not %s", what,
				    tname, codec_decl_json_kind(v));
		json_int_t x = json_integer_value(v);
		if (x < codec_decl_types[f->type].min || x > codec_decl_types[f->type].max)
			return fail(-EINVAL, err, errlen,
				    "%s: %lld is out of range for %s (%lld..%lld)", what,
				    (long long)x, tname, codec_decl_types[f->type].min,
				    codec_decl_types[f->type].max);
		n = codec_decl_types[f->type].size;
		bytes_put(at, (unsigned)n, f->little, (uint64_t)x);
	} else if (f->type == DECL_FLOAT || f->type == DECL_DOUBLE) {
		if (!json_is_number(v))
			return fail(-EINVAL, err, errlen, "%s: %s needs a number, not %s", what,
				    tname, codec_decl_json_kind(v));
		double x = json_number_value(v);
		uint64_t bits;
		if (f->type == DECL_FLOAT) {
			/* Converting a double outside float's range is undefined (C11 6.3.1.5). */
			if (!(fabs(x) <= FLT_MAX))
				return fail(-EINVAL, err, errlen,
					    "%s: %g is out of range for float", what, x);
			float x32 = (float)x;
			uint32_t b32;
			memcpy(&b32, &x32, sizeof(b32));
			bits = b32;
			n = 4;
		} else {
			memcpy(&bits, &x, sizeof(bits));
			n = 8;
		}
		bytes_put(at, (unsigned)n, f->little, bits);
	} else if (f->type == DECL_BYTES) {
		if (!json_is_string(v))
			return fail(-EINVAL, err, errlen, "%s: bytes need a hex string, not %s",
				    what, codec_decl_json_kind(v));
		const char *s = json_string_value(v);
		size_t slen = json_string_length(v);
		if (slen % 2)
			return fail(-EINVAL, err, errlen, "%s: odd number of hex digits", what);
		n = slen / 2;
		if (!f->rest && n != f->length)
			return fail(-EINVAL, err, errlen, "%s: %zu bytes, the field has %u", what,
				    n, f->length);
		if (n > CODEC_MAX_PAYLOAD - f->offset)
			return fail(-ENOSPC, err, errlen, "%s: %zu bytes at offset %u go past %d",
				    what, n, f->offset, CODEC_MAX_PAYLOAD);
		for (size_t i = 0; i < n; i++) {
			int hi = hex_digit(s[2 * i]), lo = hex_digit(s[2 * i + 1]);
			if (hi < 0 || lo < 0)
				return fail(-EINVAL, err, errlen, "%s: not a hex digit at %zu",
					    what, 2 * i + (hi < 0 ? 0 : 1));
			at[i] = (uint8_t)(hi << 4 | lo);
		}
	} else {
		if (!json_is_string(v))
			return fail(-EINVAL, err, errlen, "%s: %s needs a string, not %s", what,
				    tname, codec_decl_json_kind(v));
		n = json_string_length(v);
		if (f->type == DECL_STRING) {
			if (n > f->length)
				return fail(-EINVAL, err, errlen,
					    "%s: %zu bytes do not fit the %u-byte string", what, n,
					    f->length);
		} else if (n > CODEC_MAX_PAYLOAD - f->offset) {
			return fail(-ENOSPC, err, errlen, "%s: %zu bytes at offset %u go past %d",
				    what, n, f->offset, CODEC_MAX_PAYLOAD);
		}
		memcpy(at, json_string_value(v), n);
		if (f->type == DECL_STRING) {
			memset(at + n, 0, f->length - n);
			n = f->length;
		} else if (f->length_field >= 0) {
			const struct decl_field *lf = &m->fields[f->length_field];
			if ((long long)n > codec_decl_types[lf->type].max)
				return fail(
				    -EINVAL, err, errlen,
				    "%s: %zu bytes are too many for its length field \"%s\" "
				    "(%s)",
				    what, n, lf->name, codec_decl_types[lf->type].name);
			bytes_put(buf + lf->offset, codec_decl_types[lf->type].size, lf->little, n);
		}
	}
	if (f->offset + n > *end)
		*end = f->offset + n;
	return 0;
}

int codec_decl_encode(struct codec_decl *d, const json_t *req, uint8_t *out, size_t cap,
		      size_t *out_len, char *err, size_t errlen)
{
	if (!d || !out_len || (!out && cap))
		return fail(-EINVAL, err, errlen, "no codec or output");
	if (!json_is_object(req))
		return fail(-EINVAL, err, errlen, "the command is not a JSON object");
	const json_t *type = json_object_get(req, "msgType");
	if (type && !(json_is_string(type) && strcmp(json_string_value(type), "cloudReq") == 0))
		return fail(-EINVAL, err, errlen, "\"msgType\" must be \"cloudReq\"");
	const char *service = json_string_value(json_object_get(req, "serviceId"));
	const char *cmd = json_string_value(json_object_get(req, "cmd"));
	if (!service || !cmd)
		return fail(-EINVAL, err, errlen, "\"serviceId\" and \"cmd\" must be strings");
	const json_t *paras = json_object_get(req, "paras");
	if (paras && !json_is_object(paras) && !json_is_null(paras))
		return fail(-EINVAL, err, errlen, "\"paras\" must be an object, not %s",
			    codec_decl_json_kind(paras));
	const json_t *mid = json_object_get(req, "mid");
	if (!json_is_integer(mid) || json_integer_value(mid) < 1 || json_integer_value(mid) > 65535)
		return fail(-EINVAL, err, errlen, "\"mid\" must be an integer in 1..65535");

	const struct decl_msg *m = NULL;
	for (size_t i = 0; i < d->n_msgs && !m; i++) {
		const struct decl_msg *c = &d->msgs[i];
		if (c->kind == DECL_COMMAND && strcmp(c->service_id, service) == 0 &&
		    strcmp(c->command, cmd) == 0)
			m = c;
	}
	if (!m)
		return fail(-EINVAL, err, errlen,
			    "no command \"%s\" of service \"%s\" in the layout", cmd, service);
	const char *key;
	const json_t *pv;
	json_object_foreach((json_t *)paras, key, pv)
	{
		size_t i = 0;
		while (i < m->n_fields && strcmp(m->fields[i].name, key) != 0)
			i++;
		if (i == m->n_fields)
			return fail(-EINVAL, err, errlen, "para \"%s\": %s has no such field", key,
				    cmd);
	}

	uint8_t buf[CODEC_MAX_PAYLOAD];
	memset(buf, 0, sizeof(buf));
	const struct decl_field *idf = &d->msg_id;
	bytes_put(buf + idf->offset, codec_decl_types[idf->type].size, idf->little,
		  (uint64_t)m->id);
	size_t end = codec_decl_field_end(idf);
	char what[DECL_MAX_NAME + 32];
	for (size_t i = 0; i < m->n_fields; i++) {
		const struct decl_field *f = &m->fields[i];
		if (f->is_length) { /* written with its varstring, which always follows */
			if (codec_decl_field_end(f) > end)
				end = codec_decl_field_end(f);
			continue;
		}
		const json_t *v = f->role == DECL_ROLE_MID ? mid : json_object_get(paras, f->name);
		if (!v)
			v = f->def;
		snprintf(what, sizeof(what), "para \"%s\"", f->name);
		if (f->role == DECL_ROLE_MID)
			snprintf(what, sizeof(what), "\"mid\" (field \"%s\")", f->name);
		if (!v)
			return fail(-EINVAL, err, errlen, "%s: missing, and no default", what);
		int rc = codec_decl_put_value(m, f, v, buf, &end, what, err, errlen);
		if (rc)
			return rc;
	}
	if (end > cap)
		return fail(-ENOSPC, err, errlen, "the %s payload has %zu bytes, more than %zu",
			    cmd, end, cap);
	memcpy(out, buf, end);
	*out_len = end;
	return 0;
}
