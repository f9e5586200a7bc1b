/*
 * content_cbor: CBOR (60), LwM2M 1.1 Core §7.4.6 — a single resource or resource instance
 * value as one CBOR data item: an integer, a float, a boolean, a text string (string,
 * object link "obj:inst", core link), a byte string (opaque), and time as an integer or a
 * tag 1 epoch time.
 */
#include "content/content.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <cbor.h>

static int single_path(const struct lwm2m_path *base)
{
	return base->len == 3 || base->len == 4 ? 0 : -EBADMSG;
}

static int item_int(cbor_item_t *it, int64_t *out)
{
	if (cbor_isa_uint(it) && cbor_get_int(it) <= INT64_MAX) {
		*out = (int64_t)cbor_get_int(it);
		return 0;
	}
	/* A negative integer is -1 - n: n = INT64_MAX is INT64_MIN, still an int64. */
	if (cbor_isa_negint(it) && cbor_get_int(it) <= INT64_MAX) {
		*out = -1 - (int64_t)cbor_get_int(it);
		return 0;
	}
	return -EBADMSG;
}

int content_cbor_decode(const struct lwm2m_path *base, const uint8_t *p, size_t len,
			content_type_fn type_of, void *ctx, struct lwm2m_values *out)
{
	if (single_path(base) != 0)
		return -EBADMSG;
	long checked = content_cbor_check(p, len, 2);
	if (checked < 0 || (size_t)checked != len)
		return -EBADMSG;
	struct cbor_load_result result;
	cbor_item_t *it = cbor_load(p, len, &result);
	if (!it)
		return -EBADMSG;
	struct lwm2m_value v = { .path = *base };
	enum lwm2m_type model = type_of ? type_of(ctx, base->ids[0], base->ids[2], NULL)
					: LWM2M_TYPE_NONE;
	int rc = -EBADMSG;
	cbor_item_t *inner = it;
	if (cbor_isa_tag(it)) { /* tag 1: epoch time */
		if (cbor_tag_value(it) != 1 ||
		    (model != LWM2M_TYPE_TIME && model != LWM2M_TYPE_NONE))
			goto out;
		inner = cbor_tag_item(it); /* a new reference */
		v.type = LWM2M_TYPE_TIME;
		rc = item_int(inner, &v.v.i);
		cbor_decref(&inner);
		goto add;
	}
	if (cbor_isa_uint(it) || cbor_isa_negint(it)) {
		int64_t i;
		if (model == LWM2M_TYPE_UNSIGNED && cbor_isa_uint(it)) {
			v.type = LWM2M_TYPE_UNSIGNED;
			v.v.u = cbor_get_int(it);
			rc = 0;
		} else if (model == LWM2M_TYPE_FLOAT && item_int(it, &i) == 0) {
			v.type = LWM2M_TYPE_FLOAT;
			v.v.f = (double)i;
			rc = 0;
		} else if ((model == LWM2M_TYPE_INTEGER || model == LWM2M_TYPE_TIME ||
			    model == LWM2M_TYPE_NONE) &&
			   item_int(it, &i) == 0) {
			v.type = (uint8_t)(model == LWM2M_TYPE_NONE ? LWM2M_TYPE_INTEGER : model);
			v.v.i = i;
			rc = 0;
		}
	} else if (cbor_isa_float_ctrl(it)) {
		/* libcbor asserts when asked whether a float is a bool: ask is_ctrl first. */
		if (cbor_float_ctrl_is_ctrl(it) && cbor_is_bool(it) &&
		    (model == LWM2M_TYPE_BOOLEAN || model == LWM2M_TYPE_NONE)) {
			v.type = LWM2M_TYPE_BOOLEAN;
			v.v.b = cbor_get_bool(it);
			rc = 0;
		} else if (!cbor_float_ctrl_is_ctrl(it) && isfinite(cbor_float_get_float(it)) &&
			   (model == LWM2M_TYPE_FLOAT || model == LWM2M_TYPE_NONE)) {
			v.type = LWM2M_TYPE_FLOAT;
			v.v.f = cbor_float_get_float(it);
			rc = 0;
		}
	} else if (cbor_isa_bytestring(it) && cbor_bytestring_is_definite(it)) {
		if (model == LWM2M_TYPE_OPAQUE || model == LWM2M_TYPE_NONE) {
			v.type = LWM2M_TYPE_OPAQUE;
			v.v.bytes.data = cbor_bytestring_handle(it);
			v.v.bytes.len = cbor_bytestring_length(it);
			rc = 0;
		}
	} else if (cbor_isa_string(it) && cbor_string_is_definite(it)) {
		const char *s = (const char *)cbor_string_handle(it);
		size_t n = cbor_string_length(it);
		if (model == LWM2M_TYPE_OBJLNK) {
			char text[16];
			unsigned obj, inst;
			char extra;
			if (n < sizeof(text)) {
				memcpy(text, s, n);
				text[n] = '\0';
				if (sscanf(text, "%5u:%5u%c", &obj, &inst, &extra) == 2 &&
				    obj <= 65535 && inst <= 65535) {
					v.type = LWM2M_TYPE_OBJLNK;
					v.v.objlnk.obj = (uint16_t)obj;
					v.v.objlnk.inst = (uint16_t)inst;
					rc = 0;
				}
			}
		} else if (model == LWM2M_TYPE_STRING || model == LWM2M_TYPE_CORELNK ||
			   model == LWM2M_TYPE_NONE) {
			v.type = (uint8_t)(model == LWM2M_TYPE_CORELNK ? model : LWM2M_TYPE_STRING);
			v.v.bytes.data = (uint8_t *)s;
			v.v.bytes.len = n;
			rc = 0;
		}
	}
add:
	if (rc == 0)
		rc = lwm2m_values_add(out, &v);
out:
	cbor_decref(&it);
	return rc;
}

int content_cbor_encode(const struct lwm2m_path *base, const struct lwm2m_values *values,
			uint8_t *buf, size_t cap)
{
	const struct lwm2m_value *v = &values->items[0];
	/* One value, the base itself: the payload names no path, so a value below the base
	 * (/3/0/7/1 under /3/0/7) would reach the device as the base's. */
	if (values->count != 1 || single_path(base) != 0 || v->path.len != base->len ||
	    !lwm2m_path_under(&v->path, base))
		return -EINVAL;
	cbor_item_t *it = NULL;
	char link[16];
	switch (v->type) {
	case LWM2M_TYPE_STRING:
	case LWM2M_TYPE_CORELNK:
		it = cbor_build_stringn((const char *)v->v.bytes.data, v->v.bytes.len);
		break;
	case LWM2M_TYPE_OPAQUE:
		it = cbor_build_bytestring(v->v.bytes.data, v->v.bytes.len);
		break;
	case LWM2M_TYPE_INTEGER:
	case LWM2M_TYPE_TIME:
		it = v->v.i >= 0 ? cbor_build_uint64((uint64_t)v->v.i)
				 : cbor_build_negint64((uint64_t)(-1 - v->v.i));
		break;
	case LWM2M_TYPE_UNSIGNED:
		it = cbor_build_uint64(v->v.u);
		break;
	case LWM2M_TYPE_FLOAT:
		it = isfinite(v->v.f) ? cbor_build_float8(v->v.f) : NULL;
		break;
	case LWM2M_TYPE_BOOLEAN:
		it = cbor_build_bool(v->v.b);
		break;
	case LWM2M_TYPE_OBJLNK:
		snprintf(link, sizeof(link), "%u:%u", v->v.objlnk.obj, v->v.objlnk.inst);
		it = cbor_build_string(link);
		break;
	default:
		break;
	}
	if (!it)
		return -EINVAL;
	size_t n = cbor_serialize(it, buf, cap);
	cbor_decref(&it);
	return n ? (int)n : -ENOBUFS;
}
