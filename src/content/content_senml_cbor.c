/*
 * content_senml_cbor: SenML CBOR (RFC 8428 §6), content format 112 — the same records as
 * SenML JSON with integer labels: bn -2, bt -3, n 0, v 2, vs 3, vb 4, vd 8 (a byte
 * string), t 6, and LwM2M's object link under the text label "vlo".
 *
 * Decoding turns the CBOR into the JSON shape content_senml_decode_doc reads (vd as
 * base64url), so both encodings share one set of rules. Only definite-length items are
 * accepted, and nothing nested below a record.
 */
#include "content/content.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cbor.h>
#include <jansson.h>

#include "util/base64.h"

enum { L_BN = -2, L_BT = -3, L_N = 0, L_V = 2, L_VS = 3, L_VB = 4, L_T = 6, L_VD = 8 };

/* An integer label, or INT32_MIN for a text or unknown one. */
static int64_t label_of(cbor_item_t *key)
{
	if (cbor_isa_uint(key))
		return cbor_get_int(key) <= 64 ? (int64_t)cbor_get_int(key) : INT32_MIN;
	if (cbor_isa_negint(key))
		return cbor_get_int(key) <= 64 ? -1 - (int64_t)cbor_get_int(key) : INT32_MIN;
	return INT32_MIN;
}

static json_t *text_json(cbor_item_t *v)
{
	if (!cbor_isa_string(v) || !cbor_string_is_definite(v))
		return NULL;
	return json_stringn((const char *)cbor_string_handle(v), cbor_string_length(v));
}

static json_t *number_json(cbor_item_t *v)
{
	if (cbor_isa_uint(v))
		return cbor_get_int(v) <= INT64_MAX ? json_integer((json_int_t)cbor_get_int(v))
						    : json_real((double)cbor_get_int(v));
	if (cbor_isa_negint(v))
		return cbor_get_int(v) <= INT64_MAX ? json_integer(-1 - (json_int_t)cbor_get_int(v))
						    : NULL;
	if (cbor_isa_float_ctrl(v) && !cbor_float_ctrl_is_ctrl(v)) {
		double d = cbor_float_get_float(v);
		return isfinite(d) ? json_real(d) : NULL;
	}
	return NULL;
}

static json_t *base64url_json(cbor_item_t *v)
{
	if (!cbor_isa_bytestring(v) || !cbor_bytestring_is_definite(v))
		return NULL;
	size_t len = cbor_bytestring_length(v);
	char *s = malloc(BASE64_ENCODED_LEN(len) + 1);
	if (!s)
		return NULL;
	size_t n = base64_encode(cbor_bytestring_handle(v), len, s);
	while (n > 0 && s[n - 1] == '=')
		s[--n] = '\0';
	for (size_t i = 0; i < n; i++)
		s[i] = s[i] == '+' ? '-' : s[i] == '/' ? '_' : s[i];
	json_t *j = json_string(s);
	free(s);
	return j;
}

/* One CBOR record as a JSON object with SenML's names, or NULL when malformed. */
static json_t *record_json(cbor_item_t *map)
{
	if (!cbor_isa_map(map) || !cbor_map_is_definite(map))
		return NULL;
	json_t *rec = json_object();
	struct cbor_pair *pairs = cbor_map_handle(map);
	for (size_t i = 0; rec && i < cbor_map_size(map); i++) {
		cbor_item_t *k = pairs[i].key, *v = pairs[i].value;
		const char *name = NULL;
		json_t *val = NULL;
		switch (label_of(k)) {
		case L_BN: name = "bn"; val = text_json(v); break;
		case L_N: name = "n"; val = text_json(v); break;
		case L_VS: name = "vs"; val = text_json(v); break;
		case L_BT: name = "bt"; val = number_json(v); break;
		case L_T: name = "t"; val = number_json(v); break;
		case L_V: name = "v"; val = number_json(v); break;
		case L_VB:
			name = "vb";
			/* libcbor asserts on cbor_is_bool of a float: check the kind first. */
			val = cbor_isa_float_ctrl(v) && cbor_float_ctrl_is_ctrl(v) && cbor_is_bool(v)
				      ? json_boolean(cbor_get_bool(v))
				      : NULL;
			break;
		case L_VD: name = "vd"; val = base64url_json(v); break;
		default:
			if (cbor_isa_string(k) && cbor_string_is_definite(k) &&
			    cbor_string_length(k) == 3 &&
			    memcmp(cbor_string_handle(k), "vlo", 3) == 0) {
				name = "vlo";
				val = text_json(v);
			} else if (cbor_isa_uint(k) || cbor_isa_negint(k) ||
				   (cbor_isa_string(k) && cbor_string_is_definite(k))) {
				continue; /* other SenML fields (unit, sum, ...) mean nothing here */
			} else {
				json_decref(rec); /* RFC 8428: labels are integers or text */
				return NULL;
			}
		}
		/* A label given twice or a value of the wrong kind: malformed. */
		if (!val || json_object_get(rec, name)) {
			json_decref(val);
			json_decref(rec);
			return NULL;
		}
		json_object_set_new(rec, name, val);
	}
	return rec;
}

/*
 * Walks one CBOR item's headers without building anything: definite lengths only, every
 * declared length within the bytes left, at most `depth` levels. libcbor's cbor_load
 * allocates what a header declares before it reads the contents, so an array header
 * claiming 2^32 items would cost gigabytes; this walk is what makes cbor_load safe on
 * bytes from a device. Returns the item's size in bytes, or -1.
 */
long content_cbor_check(const uint8_t *p, size_t len, int depth)
{
	if (len == 0 || depth < 0)
		return -1;
	uint8_t major = p[0] >> 5, info = p[0] & 31;
	size_t used = 1;
	uint64_t arg = info;
	if (info >= 24 && info <= 27) {
		size_t n = (size_t)1 << (info - 24);
		if (len < 1 + n)
			return -1;
		arg = 0;
		for (size_t i = 0; i < n; i++)
			arg = arg << 8 | p[1 + i];
		used += n;
	} else if (info > 27) {
		return -1; /* reserved, or indefinite length (31) */
	}
	size_t left = len - used;
	switch (major) {
	case 0: /* unsigned */
	case 1: /* negative */
	case 7: /* simple values and floats: the argument was the value */
		return (long)used;
	case 2: /* byte string */
	case 3: /* text string */
		return arg <= left ? (long)(used + arg) : -1;
	case 4: /* array */
	case 5: /* map */ {
		uint64_t items = major == 5 ? arg * 2 : arg;
		if (arg > left || items > left)
			return -1; /* each item takes at least one byte */
		for (uint64_t i = 0; i < items; i++) {
			long n = content_cbor_check(p + used, len - used, depth - 1);
			if (n < 0)
				return -1;
			used += (size_t)n;
		}
		return (long)used;
	}
	case 6: { /* tag: one item follows */
		long n = content_cbor_check(p + used, len - used, depth - 1);
		return n < 0 ? -1 : (long)(used + (size_t)n);
	}
	}
	return -1;
}

int content_senml_cbor_decode(const struct lwm2m_path *base, const uint8_t *p, size_t len,
			      content_type_fn type_of, void *ctx, struct lwm2m_values *out)
{
	/* An array of records of plain values: three levels are all SenML needs. */
	long checked = content_cbor_check(p, len, 3);
	if (checked < 0 || (size_t)checked != len)
		return -EBADMSG;
	struct cbor_load_result result;
	cbor_item_t *item = cbor_load(p, len, &result);
	if (!item)
		return -EBADMSG;
	int rc = -EBADMSG;
	/* The whole payload must be that one array. */
	if (result.read == len && cbor_isa_array(item) && cbor_array_is_definite(item) &&
	    cbor_array_size(item) <= CONTENT_MAX_VALUES) {
		json_t *doc = json_array();
		cbor_item_t **records = cbor_array_handle(item);
		rc = doc ? 0 : -ENOMEM;
		for (size_t i = 0; rc == 0 && i < cbor_array_size(item); i++) {
			json_t *rec = record_json(records[i]);
			rc = rec ? json_array_append_new(doc, rec) == 0 ? 0 : -ENOMEM : -EBADMSG;
		}
		if (rc == 0)
			rc = content_senml_decode_doc(base, doc, type_of, ctx, out);
		json_decref(doc);
	}
	cbor_decref(&item);
	return rc;
}

static bool put(cbor_item_t *map, cbor_item_t *key, cbor_item_t *value)
{
	if (!key || !value) {
		if (key)
			cbor_decref(&key);
		if (value)
			cbor_decref(&value);
		return false;
	}
	return cbor_map_add(map, (struct cbor_pair){ .key = cbor_move(key),
						     .value = cbor_move(value) });
}

static cbor_item_t *label(int l)
{
	return l >= 0 ? cbor_build_uint8((uint8_t)l) : cbor_build_negint8((uint8_t)(-1 - l));
}

/* libcbor serializes an integer in the width it was built with: pick the smallest. */
static cbor_item_t *uint_item(uint64_t u)
{
	return u <= 0xff ? cbor_build_uint8((uint8_t)u)
	       : u <= 0xffff ? cbor_build_uint16((uint16_t)u)
	       : u <= 0xffffffffu ? cbor_build_uint32((uint32_t)u)
				  : cbor_build_uint64(u);
}

static cbor_item_t *int_item(int64_t i)
{
	if (i >= 0)
		return uint_item((uint64_t)i);
	uint64_t n = (uint64_t)(-1 - i);
	return n <= 0xff ? cbor_build_negint8((uint8_t)n)
	       : n <= 0xffff ? cbor_build_negint16((uint16_t)n)
	       : n <= 0xffffffffu ? cbor_build_negint32((uint32_t)n)
				  : cbor_build_negint64(n);
}

static cbor_item_t *float_item(double f)
{
	float g = (float)f;
	return (double)g == f ? cbor_build_float4(g) : cbor_build_float8(f);
}

int content_senml_cbor_encode(const struct lwm2m_path *base,
			      const struct lwm2m_values *values, uint8_t *buf, size_t cap)
{
	char base_name[40];
	if (values->count == 0 || lwm2m_path_format(base, base_name, sizeof(base_name) - 1) < 0)
		return -EINVAL;
	cbor_item_t *doc = cbor_new_definite_array(values->count);
	if (!doc)
		return -ENOMEM;
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < values->count; i++) {
		const struct lwm2m_value *v = &values->items[i];
		if (!lwm2m_path_under(&v->path, base)) {
			rc = -EINVAL; /* its name would not be below the base name */
			break;
		}
		cbor_item_t *rec = cbor_new_definite_map(3);
		char full[40], bn[42];
		lwm2m_path_format(&v->path, full, sizeof(full));
		bool exact = v->path.len == base->len;
		bool ok = rec != NULL;
		if (ok && i == 0) {
			snprintf(bn, sizeof(bn), "%s%s", exact ? full : base_name,
				 !exact && base->len ? "/" : "");
			ok = put(rec, label(L_BN), cbor_build_string(bn));
		}
		if (ok && !exact) {
			size_t skip = base->len ? strlen(base_name) + 1 : 1;
			ok = put(rec, label(L_N), cbor_build_string(full + skip));
		}
		if (ok) {
			switch (v->type) {
			case LWM2M_TYPE_STRING:
			case LWM2M_TYPE_CORELNK:
				ok = put(rec, label(L_VS),
					 cbor_build_stringn((const char *)v->v.bytes.data,
							    v->v.bytes.len));
				break;
			case LWM2M_TYPE_OPAQUE:
				ok = put(rec, label(L_VD),
					 cbor_build_bytestring(v->v.bytes.data, v->v.bytes.len));
				break;
			case LWM2M_TYPE_INTEGER:
			case LWM2M_TYPE_TIME:
				ok = put(rec, label(L_V), int_item(v->v.i));
				break;
			case LWM2M_TYPE_UNSIGNED:
				ok = put(rec, label(L_V), uint_item(v->v.u));
				break;
			case LWM2M_TYPE_FLOAT:
				ok = isfinite(v->v.f) && put(rec, label(L_V), float_item(v->v.f));
				break;
			case LWM2M_TYPE_BOOLEAN:
				ok = put(rec, label(L_VB), cbor_build_bool(v->v.b));
				break;
			case LWM2M_TYPE_OBJLNK: {
				char link[16];
				snprintf(link, sizeof(link), "%u:%u", v->v.objlnk.obj,
					 v->v.objlnk.inst);
				ok = put(rec, cbor_build_string("vlo"), cbor_build_string(link));
				break;
			}
			default:
				ok = false;
			}
		}
		if (!ok || !cbor_array_push(doc, rec))
			rc = -EINVAL;
		if (rec)
			cbor_decref(&rec);
	}
	size_t n = 0;
	if (rc == 0) {
		n = cbor_serialize(doc, buf, cap);
		if (n == 0)
			rc = -ENOBUFS;
	}
	cbor_decref(&doc);
	return rc ? rc : (int)n;
}

int content_senml_cbor_encode_paths(const struct lwm2m_path *paths, size_t count, uint8_t *buf,
				    size_t cap)
{
	if (count == 0)
		return -EINVAL;
	cbor_item_t *doc = cbor_new_definite_array(count);
	if (!doc)
		return -ENOMEM;
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < count; i++) {
		char name[40];
		cbor_item_t *rec = cbor_new_definite_map(1);
		bool ok = rec && lwm2m_path_format(&paths[i], name, sizeof(name)) >= 0 &&
			  put(rec, label(L_N), cbor_build_string(name)) && cbor_array_push(doc, rec);
		if (rec)
			cbor_decref(&rec);
		if (!ok)
			rc = -EINVAL;
	}
	size_t n = 0;
	if (rc == 0) {
		n = cbor_serialize(doc, buf, cap);
		if (n == 0)
			rc = -ENOBUFS;
	}
	cbor_decref(&doc);
	return rc ? rc : (int)n;
}
