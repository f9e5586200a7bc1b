/*
 * content_tlv: OMA LwM2M TLV (11542), OMA-TS-LightweightM2M_Core 1.1 §7.4.3.
 *
 * A TLV is a type byte, an 8- or 16-bit identifier and a length (in the type byte, or an
 * 8/16/24-bit field), then the value:
 *
 *   type bits 7-6: 00 object instance   (contains resources and multiple resources)
 *                  01 resource instance (a value, inside a multiple resource)
 *                  10 multiple resource (contains resource instances)
 *                  11 resource          (a value)
 *        bit 5:    identifier is 16 bits
 *        bits 4-3: 0 = length in bits 2-0; 1, 2, 3 = length field of 8, 16, 24 bits
 *
 * Values carry no type: integers are 1/2/4/8-byte big-endian two's complement, floats 4 or
 * 8 bytes IEEE 754, booleans one byte, object links 4 bytes, strings and opaque raw. The
 * object model gives the type; unknown resources decode as opaque.
 */
#include "content/content.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum tlv_kind { TLV_INSTANCE = 0, TLV_RESOURCE_INSTANCE = 1, TLV_MULTIPLE = 2, TLV_RESOURCE = 3 };

struct tlv {
	uint8_t kind;
	uint16_t id;
	const uint8_t *value;
	size_t len;
};

/* Reads one TLV from *p (at most end); advances *p. Returns 0 or -EBADMSG. */
static int tlv_next(const uint8_t **p, const uint8_t *end, struct tlv *t)
{
	const uint8_t *q = *p;
	if (q >= end)
		return -EBADMSG;
	uint8_t type = *q++;
	t->kind = type >> 6;
	size_t id_len = type & 0x20 ? 2 : 1;
	size_t len_len = (type >> 3) & 3;
	if ((size_t)(end - q) < id_len + len_len)
		return -EBADMSG;
	t->id = id_len == 2 ? (uint16_t)(q[0] << 8 | q[1]) : q[0];
	if (t->id > LWM2M_ID_MAX)
		return -EBADMSG; /* Core §7.1: 65535 is reserved, never an instance or resource */
	q += id_len;
	size_t len = type & 7;
	if (len_len) {
		len = 0;
		for (size_t i = 0; i < len_len; i++)
			len = len << 8 | *q++;
	}
	if ((size_t)(end - q) < len)
		return -EBADMSG;
	t->value = q;
	t->len = len;
	*p = q + len;
	return 0;
}

static int64_t read_int(const uint8_t *p, size_t len)
{
	uint64_t u = 0;
	for (size_t i = 0; i < len; i++)
		u = u << 8 | p[i];
	/* Sign-extend from the top bit of the first byte. */
	if (len < 8 && (p[0] & 0x80))
		u |= ~(uint64_t)0 << (8 * len);
	return (int64_t)u;
}

/* Turns the bytes of a value TLV into a typed value at path. */
static int add_value(const struct lwm2m_path *path, const struct tlv *t, content_type_fn type_of,
		     void *ctx, struct lwm2m_values *out)
{
	struct lwm2m_value v = { .path = *path };
	enum lwm2m_type type =
		type_of ? type_of(ctx, path->ids[0], path->ids[2], NULL) : LWM2M_TYPE_NONE;
	v.type = (uint8_t)(type == LWM2M_TYPE_NONE ? LWM2M_TYPE_OPAQUE : type);
	size_t n = t->len;
	switch (v.type) {
	case LWM2M_TYPE_STRING:
	case LWM2M_TYPE_CORELNK:
	case LWM2M_TYPE_OPAQUE:
		v.v.bytes.data = (uint8_t *)t->value;
		v.v.bytes.len = n;
		break;
	case LWM2M_TYPE_INTEGER:
	case LWM2M_TYPE_TIME:
		if (n != 1 && n != 2 && n != 4 && n != 8)
			return -EBADMSG;
		v.v.i = read_int(t->value, n);
		break;
	case LWM2M_TYPE_UNSIGNED:
		if (n != 1 && n != 2 && n != 4 && n != 8)
			return -EBADMSG;
		v.v.u = 0;
		for (size_t i = 0; i < n; i++)
			v.v.u = v.v.u << 8 | t->value[i];
		break;
	case LWM2M_TYPE_FLOAT:
		if (n == 4) {
			uint32_t b = (uint32_t)read_int(t->value, 4);
			float f;
			memcpy(&f, &b, 4);
			v.v.f = f;
		} else if (n == 8) {
			uint64_t b = (uint64_t)read_int(t->value, 8);
			memcpy(&v.v.f, &b, 8);
		} else {
			return -EBADMSG;
		}
		/* As every other format here: no NaN or infinity, which no JSON can carry. */
		if (!isfinite(v.v.f))
			return -EBADMSG;
		break;
	case LWM2M_TYPE_BOOLEAN:
		if (n != 1 || t->value[0] > 1)
			return -EBADMSG;
		v.v.b = t->value[0] == 1;
		break;
	case LWM2M_TYPE_OBJLNK:
		if (n != 4)
			return -EBADMSG;
		v.v.objlnk.obj = (uint16_t)(t->value[0] << 8 | t->value[1]);
		v.v.objlnk.inst = (uint16_t)(t->value[2] << 8 | t->value[3]);
		break;
	default:
		return -EBADMSG;
	}
	return lwm2m_values_add(out, &v);
}

/* The resource instances inside a multiple resource at path (/o/i/r). */
static int decode_multiple(const struct lwm2m_path *path, const uint8_t *p, size_t len,
			   content_type_fn type_of, void *ctx, struct lwm2m_values *out)
{
	const uint8_t *end = p + len;
	while (p < end) {
		struct tlv t;
		if (tlv_next(&p, end, &t) != 0 || t.kind != TLV_RESOURCE_INSTANCE)
			return -EBADMSG;
		struct lwm2m_path ri = *path;
		ri.ids[3] = t.id;
		ri.len = 4;
		int rc = add_value(&ri, &t, type_of, ctx, out);
		if (rc)
			return rc;
	}
	return 0;
}

/* Resources and multiple resources of instance path (/o/i). */
static int decode_resources(const struct lwm2m_path *path, const uint8_t *p, size_t len,
			    content_type_fn type_of, void *ctx, struct lwm2m_values *out)
{
	const uint8_t *end = p + len;
	while (p < end) {
		struct tlv t;
		if (tlv_next(&p, end, &t) != 0)
			return -EBADMSG;
		struct lwm2m_path r = *path;
		r.ids[2] = t.id;
		r.len = 3;
		int rc;
		if (t.kind == TLV_RESOURCE)
			rc = add_value(&r, &t, type_of, ctx, out);
		else if (t.kind == TLV_MULTIPLE)
			rc = decode_multiple(&r, t.value, t.len, type_of, ctx, out);
		else
			rc = -EBADMSG;
		if (rc)
			return rc;
	}
	return 0;
}

int content_tlv_decode(const struct lwm2m_path *base, const uint8_t *p, size_t len,
		       content_type_fn type_of, void *ctx, struct lwm2m_values *out)
{
	/* An empty object or instance (an answer without a payload may hand NULL: no
	 * arithmetic on it before this, NULL + 0 being undefined in C11 §6.5.6). */
	if (len == 0)
		return base->len <= 2 ? 0 : -EBADMSG;
	const uint8_t *end = p + len;
	switch (base->len) {
	case 1:
		/* Object instances. */
		while (p < end) {
			struct tlv t;
			if (tlv_next(&p, end, &t) != 0 || t.kind != TLV_INSTANCE)
				return -EBADMSG;
			struct lwm2m_path inst = { .len = 2, .ids = { base->ids[0], t.id } };
			int rc = decode_resources(&inst, t.value, t.len, type_of, ctx, out);
			if (rc)
				return rc;
		}
		return 0;
	case 2: {
		/* Resources, or (as some clients send) the instance wrapped once. */
		struct tlv t;
		const uint8_t *q = p;
		if (tlv_next(&q, end, &t) == 0 && t.kind == TLV_INSTANCE) {
			if (t.id != base->ids[1] || q != end)
				return -EBADMSG;
			return decode_resources(base, t.value, t.len, type_of, ctx, out);
		}
		return decode_resources(base, p, len, type_of, ctx, out);
	}
	case 3: {
		struct tlv t;
		const uint8_t *q = p;
		if (tlv_next(&q, end, &t) != 0)
			return -EBADMSG;
		if (t.kind == TLV_RESOURCE_INSTANCE) /* the instances without their wrapper */
			return decode_multiple(base, p, len, type_of, ctx, out);
		if (t.id != base->ids[2] || q != end)
			return -EBADMSG;
		if (t.kind == TLV_RESOURCE)
			return add_value(base, &t, type_of, ctx, out);
		if (t.kind == TLV_MULTIPLE)
			return decode_multiple(base, t.value, t.len, type_of, ctx, out);
		return -EBADMSG;
	}
	case 4: {
		struct tlv t;
		if (tlv_next(&p, end, &t) != 0 || p != end || t.id != base->ids[3] ||
		    (t.kind != TLV_RESOURCE_INSTANCE && t.kind != TLV_RESOURCE))
			return -EBADMSG;
		return add_value(base, &t, type_of, ctx, out);
	}
	default:
		return -EBADMSG;
	}
}

/* Encoding. */

struct writer {
	uint8_t *buf;
	size_t cap, len;
	bool overflow;
};

static void put(struct writer *w, const void *data, size_t n)
{
	if (w->overflow || n > w->cap - w->len) {
		w->overflow = true;
		return;
	}
	memcpy(w->buf + w->len, data, n);
	w->len += n;
}

static size_t header_len(uint16_t id, size_t len)
{
	return 1 + (id > 255 ? 2 : 1) + (len < 8 ? 0 : len < 256 ? 1 : len < 65536 ? 2 : 3);
}

static void put_header(struct writer *w, uint8_t kind, uint16_t id, size_t len)
{
	uint8_t h[6];
	size_t n = 0;
	size_t len_len = len < 8 ? 0 : len < 256 ? 1 : len < 65536 ? 2 : 3;
	h[n++] = (uint8_t)(kind << 6 | (id > 255 ? 0x20 : 0) | len_len << 3 |
			   (len_len ? 0 : len));
	if (id > 255)
		h[n++] = (uint8_t)(id >> 8);
	h[n++] = (uint8_t)id;
	for (size_t i = len_len; i > 0; i--)
		h[n++] = (uint8_t)(len >> (8 * (i - 1)));
	put(w, h, n);
}

/* The value bytes of v into tmp (scalars) or pointing at its data. */
static int value_bytes(const struct lwm2m_value *v, uint8_t tmp[8], const uint8_t **data,
		       size_t *len)
{
	switch (v->type) {
	case LWM2M_TYPE_STRING:
	case LWM2M_TYPE_CORELNK:
	case LWM2M_TYPE_OPAQUE:
		*data = v->v.bytes.data;
		*len = v->v.bytes.len;
		return 0;
	case LWM2M_TYPE_INTEGER:
	case LWM2M_TYPE_TIME: {
		int64_t i = v->v.i;
		size_t n = i >= INT8_MIN && i <= INT8_MAX	? 1
			   : i >= INT16_MIN && i <= INT16_MAX ? 2
			   : i >= INT32_MIN && i <= INT32_MAX ? 4
								: 8;
		for (size_t k = 0; k < n; k++)
			tmp[k] = (uint8_t)((uint64_t)i >> (8 * (n - 1 - k)));
		*data = tmp;
		*len = n;
		return 0;
	}
	case LWM2M_TYPE_UNSIGNED: {
		uint64_t u = v->v.u;
		size_t n = u <= 0xff ? 1 : u <= 0xffff ? 2 : u <= 0xffffffffu ? 4 : 8;
		for (size_t k = 0; k < n; k++)
			tmp[k] = (uint8_t)(u >> (8 * (n - 1 - k)));
		*data = tmp;
		*len = n;
		return 0;
	}
	case LWM2M_TYPE_FLOAT: {
		/* 4 bytes when a float holds the value exactly, else 8. */
		float f = (float)v->v.f;
		if ((double)f == v->v.f) {
			uint32_t b;
			memcpy(&b, &f, 4);
			for (size_t k = 0; k < 4; k++)
				tmp[k] = (uint8_t)(b >> (8 * (3 - k)));
			*len = 4;
		} else {
			uint64_t b;
			memcpy(&b, &v->v.f, 8);
			for (size_t k = 0; k < 8; k++)
				tmp[k] = (uint8_t)(b >> (8 * (7 - k)));
			*len = 8;
		}
		*data = tmp;
		return 0;
	}
	case LWM2M_TYPE_BOOLEAN:
		tmp[0] = v->v.b ? 1 : 0;
		*data = tmp;
		*len = 1;
		return 0;
	case LWM2M_TYPE_OBJLNK:
		tmp[0] = (uint8_t)(v->v.objlnk.obj >> 8);
		tmp[1] = (uint8_t)v->v.objlnk.obj;
		tmp[2] = (uint8_t)(v->v.objlnk.inst >> 8);
		tmp[3] = (uint8_t)v->v.objlnk.inst;
		*data = tmp;
		*len = 4;
		return 0;
	default:
		return -EINVAL;
	}
}

static int path_cmp(const void *a, const void *b)
{
	const struct lwm2m_value *x = *(const struct lwm2m_value *const *)a;
	const struct lwm2m_value *y = *(const struct lwm2m_value *const *)b;
	for (uint8_t i = 0; i < 4; i++) {
		int xi = i < x->path.len ? x->path.ids[i] : -1;
		int yi = i < y->path.len ? y->path.ids[i] : -1;
		if (xi != yi)
			return xi < yi ? -1 : 1;
	}
	return 0;
}

/* The encoded size of the values sorted[from, to) as TLVs at `depth` (2: resources of an
 * instance, 3: one resource), writing them when w is not NULL. */
static int emit(const struct lwm2m_value *const *sorted, size_t from, size_t to, uint8_t depth,
		struct writer *w, size_t *size);

static int emit_resource(const struct lwm2m_value *const *sorted, size_t from, size_t to,
			 struct writer *w, size_t *size)
{
	const struct lwm2m_value *first = sorted[from];
	uint8_t tmp[8];
	const uint8_t *data;
	size_t len;
	if (first->path.len == 3) {
		if (to - from != 1 || value_bytes(first, tmp, &data, &len) != 0)
			return -EINVAL;
		*size = header_len(first->path.ids[2], len) + len;
		if (w) {
			put_header(w, TLV_RESOURCE, first->path.ids[2], len);
			put(w, data, len);
		}
		return 0;
	}
	/* Resource instances inside a multiple resource. */
	size_t inner = 0;
	for (size_t i = from; i < to; i++) {
		if (sorted[i]->path.len != 4 || value_bytes(sorted[i], tmp, &data, &len) != 0)
			return -EINVAL;
		inner += header_len(sorted[i]->path.ids[3], len) + len;
	}
	*size = header_len(first->path.ids[2], inner) + inner;
	if (w) {
		put_header(w, TLV_MULTIPLE, first->path.ids[2], inner);
		for (size_t i = from; i < to; i++) {
			value_bytes(sorted[i], tmp, &data, &len);
			put_header(w, TLV_RESOURCE_INSTANCE, sorted[i]->path.ids[3], len);
			put(w, data, len);
		}
	}
	return 0;
}

static int emit(const struct lwm2m_value *const *sorted, size_t from, size_t to, uint8_t depth,
		struct writer *w, size_t *size)
{
	*size = 0;
	size_t i = from;
	while (i < to) {
		/* The run of values sharing the id at this depth. */
		size_t j = i + 1;
		while (j < to && sorted[j]->path.ids[depth - 1] == sorted[i]->path.ids[depth - 1])
			j++;
		size_t part;
		int rc;
		if (depth == 2) {
			/* An object instance: its resources inside. */
			size_t inner;
			rc = emit(sorted, i, j, 3, NULL, &inner);
			if (rc)
				return rc;
			part = header_len(sorted[i]->path.ids[1], inner) + inner;
			if (w) {
				put_header(w, TLV_INSTANCE, sorted[i]->path.ids[1], inner);
				emit(sorted, i, j, 3, w, &inner);
			}
		} else {
			rc = emit_resource(sorted, i, j, w, &part);
			if (rc)
				return rc;
		}
		*size += part;
		i = j;
	}
	return 0;
}

int content_tlv_encode(const struct lwm2m_path *base, const struct lwm2m_values *values,
		       content_type_fn type_of, void *ctx, uint8_t *buf, size_t cap)
{
	(void)type_of;
	(void)ctx;
	if (values->count == 0 || base->len == 0)
		return -EINVAL;
	const struct lwm2m_value **sorted = malloc(values->count * sizeof(*sorted));
	if (!sorted)
		return -ENOMEM;
	for (size_t i = 0; i < values->count; i++) {
		sorted[i] = &values->items[i];
		if (sorted[i]->path.len < 3) {
			free(sorted);
			return -EINVAL;
		}
	}
	qsort(sorted, values->count, sizeof(*sorted), path_cmp);
	struct writer w = { .buf = buf, .cap = cap };
	size_t size;
	int rc;
	if (base->len == 4) {
		/* One resource instance. */
		uint8_t tmp[8];
		const uint8_t *data;
		size_t len;
		rc = values->count == 1 && sorted[0]->path.len == 4 &&
				     value_bytes(sorted[0], tmp, &data, &len) == 0
			     ? 0
			     : -EINVAL;
		if (rc == 0) {
			put_header(&w, TLV_RESOURCE_INSTANCE, base->ids[3], len);
			put(&w, data, len);
		}
	} else {
		/* /o: instances; /o/i: resources; /o/i/r: the one resource. */
		uint8_t depth = base->len == 1 ? 2 : 3;
		rc = emit((const struct lwm2m_value *const *)sorted, 0, values->count, depth, &w,
			  &size);
	}
	free(sorted);
	if (rc)
		return rc;
	return w.overflow ? -ENOBUFS : (int)w.len;
}
