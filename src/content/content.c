/*
 * content: the value list and the dispatch by content format. The codecs themselves live
 * one per file (content_<format>.c).
 */
#include "content/content.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void lwm2m_values_init(struct lwm2m_values *l)
{
	memset(l, 0, sizeof(*l));
}

static bool owns_bytes(uint8_t type)
{
	return type == LWM2M_TYPE_STRING || type == LWM2M_TYPE_OPAQUE ||
	       type == LWM2M_TYPE_CORELNK;
}

void lwm2m_values_free(struct lwm2m_values *l)
{
	for (size_t i = 0; i < l->count; i++) {
		if (owns_bytes(l->items[i].type))
			free(l->items[i].v.bytes.data);
	}
	free(l->items);
	lwm2m_values_init(l);
}

int lwm2m_values_add(struct lwm2m_values *l, const struct lwm2m_value *v)
{
	if (l->count == CONTENT_MAX_VALUES)
		return -E2BIG;
	if (l->count == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 8;
		struct lwm2m_value *items = realloc(l->items, cap * sizeof(*items));
		if (!items)
			return -ENOMEM;
		l->items = items;
		l->cap = cap;
	}
	struct lwm2m_value *dst = &l->items[l->count];
	*dst = *v;
	if (owns_bytes(v->type)) {
		/* One extra byte so that strings can be used as C strings by callers. */
		dst->v.bytes.data = malloc(v->v.bytes.len + 1);
		if (!dst->v.bytes.data)
			return -ENOMEM;
		if (v->v.bytes.len)
			memcpy(dst->v.bytes.data, v->v.bytes.data, v->v.bytes.len);
		dst->v.bytes.data[v->v.bytes.len] = '\0';
	}
	l->count++;
	return 0;
}

bool lwm2m_path_under(const struct lwm2m_path *path, const struct lwm2m_path *base)
{
	if (path->len < base->len)
		return false;
	for (uint8_t i = 0; i < base->len; i++) {
		if (path->ids[i] != base->ids[i])
			return false;
	}
	return true;
}

int content_decode(uint16_t format, const struct lwm2m_path *base, const uint8_t *payload,
		   size_t len, content_type_fn type_of, void *ctx, struct lwm2m_values *out)
{
	switch (format) {
	case CONTENT_TEXT:
		return content_text_decode(base, payload, len, type_of, ctx, out);
	case CONTENT_OPAQUE:
		return content_opaque_decode(base, payload, len, out);
	case CONTENT_TLV:
		return content_tlv_decode(base, payload, len, type_of, ctx, out);
	case CONTENT_SENML_JSON:
		return content_senml_json_decode(base, payload, len, type_of, ctx, out);
	case CONTENT_SENML_CBOR:
		return content_senml_cbor_decode(base, payload, len, type_of, ctx, out);
	case CONTENT_OMA_JSON:
		return content_oma_json_decode(base, payload, len, type_of, ctx, out);
	case CONTENT_CBOR:
		return content_cbor_decode(base, payload, len, type_of, ctx, out);
	default:
		return -ENOTSUP;
	}
}

int content_encode(uint16_t format, const struct lwm2m_path *base,
		   const struct lwm2m_values *values, content_type_fn type_of, void *ctx,
		   uint8_t *buf, size_t cap)
{
	for (size_t i = 0; i < values->count; i++) {
		if (!lwm2m_path_under(&values->items[i].path, base))
			return -EINVAL;
	}
	switch (format) {
	case CONTENT_TEXT:
		return content_text_encode(base, values, buf, cap);
	case CONTENT_OPAQUE:
		return content_opaque_encode(base, values, buf, cap);
	case CONTENT_TLV:
		return content_tlv_encode(base, values, type_of, ctx, buf, cap);
	case CONTENT_SENML_JSON:
		return content_senml_json_encode(base, values, buf, cap);
	case CONTENT_SENML_CBOR:
		return content_senml_cbor_encode(base, values, buf, cap);
	case CONTENT_OMA_JSON:
		return content_oma_json_encode(base, values, buf, cap);
	case CONTENT_CBOR:
		return content_cbor_encode(base, values, buf, cap);
	default:
		return -ENOTSUP;
	}
}

int content_encode_paths(uint16_t format, const struct lwm2m_path *paths, size_t count,
			 uint8_t *buf, size_t cap)
{
	switch (format) {
	case CONTENT_SENML_JSON:
		return content_senml_json_encode_paths(paths, count, buf, cap);
	case CONTENT_SENML_CBOR:
		return content_senml_cbor_encode_paths(paths, count, buf, cap);
	default:
		return -ENOTSUP;
	}
}
