/*
 * The body of the content-format targets (fuzz_content_<format>.c): each defines
 * FUZZ_CONTENT_FORMAT and includes this file, so that every decoder of src/content gets
 * its own target, corpus and coverage, checked by the same rules.
 *
 * Input: [mode][type][4 ids, 16 bits each][payload]. The mode's low bits give the depth of
 * the base path (0-4: "/", /o, /o/i, /o/i/r, /o/i/r/ri) built from the ids; the next bits
 * say where resource types come from: the built-in object models (model_type_of), nothing
 * (every resource untyped), or `type` for every resource, so that each decoder meets each
 * LwM2M type on any path. The payload is decoded under that base (an empty one is NULL,
 * as the CoAP layer hands it over).
 *
 * What must hold:
 *  - the decoder answers 0, -EBADMSG or -E2BIG (or -ENOMEM), nothing else;
 *  - every value it gives is a resource or resource instance under the base, of a real
 *    type, the model's type when the model gives one, with its bytes NUL-terminated;
 *  - what it decoded, encoded again in the same format under the same base, is either
 *    refused as a whole (-EINVAL: e.g. the same resource twice, which TLV cannot carry)
 *    or decodes to the same values (paths, types, values; SenML times are not written
 *    back, so they are not compared) — the round trip every format here promises;
 *  - when every value is typed (the type function knows each one), the same holds
 *    encoded in each of the other formats: what an encoder accepts, our decoder of that
 *    format reads back unchanged. Values no format here promises to carry everywhere are
 *    left out of this cross check: strings that are not UTF-8 or hold NUL (a JSON
 *    decoder refuses \u0000; CBOR text must be UTF-8) and unsigned integers over
 *    INT64_MAX (JSON numbers go through jansson's int64) — docs/fuzzing.md.
 */
#ifndef LWM2MD_FUZZ_CONTENT_TARGET_H
#define LWM2MD_FUZZ_CONTENT_TARGET_H

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "content/content.h"
#include "fuzz_common.h"
#include "model/model.h"

#define CONTENT_FUZZ_OUT (256 * 1024)

static uint8_t fixed_type;

static enum lwm2m_type fixed_type_of(void *ctx, uint16_t obj, uint16_t res, bool *multiple)
{
	(void)ctx;
	(void)obj;
	(void)res;
	if (multiple)
		*multiple = false;
	return (enum lwm2m_type)fixed_type;
}

/* Where no model gives the type, a format need not carry the difference between these:
 * an untyped time is an integer, an untyped core link a string. */
static content_type_fn current_type_of;

static uint8_t comparable_type(const struct lwm2m_value *v)
{
	bool untyped = !current_type_of || current_type_of(NULL, v->path.ids[0], v->path.ids[2],
							   NULL) == LWM2M_TYPE_NONE;
	if (untyped && v->type == LWM2M_TYPE_TIME)
		return LWM2M_TYPE_INTEGER;
	if (untyped && v->type == LWM2M_TYPE_CORELNK)
		return LWM2M_TYPE_STRING;
	return v->type;
}

static int value_cmp(const void *a, const void *b)
{
	const struct lwm2m_value *x = a, *y = b;
	if (x->path.len != y->path.len)
		return x->path.len < y->path.len ? -1 : 1;
	for (uint8_t i = 0; i < x->path.len; i++) {
		if (x->path.ids[i] != y->path.ids[i])
			return x->path.ids[i] < y->path.ids[i] ? -1 : 1;
	}
	uint8_t tx = comparable_type(x), ty = comparable_type(y);
	if (tx != ty)
		return tx < ty ? -1 : 1;
	switch (tx) {
	case LWM2M_TYPE_STRING:
	case LWM2M_TYPE_OPAQUE:
	case LWM2M_TYPE_CORELNK: {
		size_t n = x->v.bytes.len < y->v.bytes.len ? x->v.bytes.len : y->v.bytes.len;
		int c = n ? memcmp(x->v.bytes.data, y->v.bytes.data, n) : 0;
		if (c)
			return c;
		return x->v.bytes.len == y->v.bytes.len	 ? 0
		       : x->v.bytes.len < y->v.bytes.len ? -1
							 : 1;
	}
	case LWM2M_TYPE_INTEGER:
	case LWM2M_TYPE_TIME:
		return x->v.i == y->v.i ? 0 : x->v.i < y->v.i ? -1 : 1;
	case LWM2M_TYPE_UNSIGNED:
		return x->v.u == y->v.u ? 0 : x->v.u < y->v.u ? -1 : 1;
	case LWM2M_TYPE_FLOAT: {
		/* Bit patterns, so that -0 and 0 differ; every NaN is one value. */
		if (isnan(x->v.f) || isnan(y->v.f))
			return isnan(x->v.f) - isnan(y->v.f);
		uint64_t p, q;
		memcpy(&p, &x->v.f, 8);
		memcpy(&q, &y->v.f, 8);
		return p == q ? 0 : p < q ? -1 : 1;
	}
	case LWM2M_TYPE_BOOLEAN:
		return (int)x->v.b - (int)y->v.b;
	case LWM2M_TYPE_OBJLNK:
		if (x->v.objlnk.obj != y->v.objlnk.obj)
			return x->v.objlnk.obj < y->v.objlnk.obj ? -1 : 1;
		return (int)x->v.objlnk.inst - (int)y->v.objlnk.inst;
	default:
		return 0;
	}
}

static void check_values(const struct lwm2m_values *l, const struct lwm2m_path *base,
			 content_type_fn type_of)
{
	FUZZ_CHECK(l->count <= CONTENT_MAX_VALUES, "%zu values", l->count);
	for (size_t i = 0; i < l->count; i++) {
		const struct lwm2m_value *v = &l->items[i];
		FUZZ_CHECK(v->path.len == 3 || v->path.len == 4, "value %zu: depth %u", i,
			   v->path.len);
		FUZZ_CHECK(lwm2m_path_under(&v->path, base), "value %zu is outside the base", i);
		for (uint8_t k = 0; k < v->path.len; k++)
			FUZZ_CHECK(v->path.ids[k] <= LWM2M_ID_MAX, "value %zu: id %u", i,
				   v->path.ids[k]);
		FUZZ_CHECK(v->type > LWM2M_TYPE_NONE && v->type <= LWM2M_TYPE_CORELNK,
			   "value %zu: type %u", i, v->type);
		enum lwm2m_type model =
		    type_of ? type_of(NULL, v->path.ids[0], v->path.ids[2], NULL) : LWM2M_TYPE_NONE;
		/* The opaque format has one type, whatever the model says. */
		if (FUZZ_CONTENT_FORMAT == CONTENT_OPAQUE)
			model = LWM2M_TYPE_OPAQUE;
		FUZZ_CHECK(model == LWM2M_TYPE_NONE || model == v->type,
			   "value %zu: type %u where the model says %u", i, v->type, model);
		if (v->type == LWM2M_TYPE_STRING || v->type == LWM2M_TYPE_OPAQUE ||
		    v->type == LWM2M_TYPE_CORELNK)
			FUZZ_CHECK(v->v.bytes.data && v->v.bytes.data[v->v.bytes.len] == '\0',
				   "value %zu: bytes", i);
		if (v->type == LWM2M_TYPE_FLOAT)
			FUZZ_CHECK(isfinite(v->v.f), "value %zu: float %g", i, v->v.f);
	}
}

static void check_same(struct lwm2m_values *a, struct lwm2m_values *b, const uint8_t *encoded,
		       int n)
{
	FUZZ_CHECK(a->count == b->count, "%zu values came back as %zu from '%.*s'", a->count,
		   b->count, n, (const char *)encoded);
	qsort(a->items, a->count, sizeof(a->items[0]), value_cmp);
	qsort(b->items, b->count, sizeof(b->items[0]), value_cmp);
	for (size_t i = 0; i < a->count; i++) {
		char pa[40], pb[40];
		lwm2m_path_format(&a->items[i].path, pa, sizeof(pa));
		lwm2m_path_format(&b->items[i].path, pb, sizeof(pb));
		FUZZ_CHECK(value_cmp(&a->items[i], &b->items[i]) == 0,
			   "value %zu: %s of type %u came back as %s of type %u from '%.*s'", i, pa,
			   a->items[i].type, pb, b->items[i].type, n, (const char *)encoded);
	}
}

/* Well-formed UTF-8 without NUL (RFC 3629). */
static bool clean_utf8(const uint8_t *p, size_t len)
{
	size_t i = 0;
	while (i < len) {
		uint8_t c = p[i];
		size_t n = c == 0		    ? 0
			   : c < 0x80		    ? 1
			   : c >= 0xC2 && c <= 0xDF ? 2
			   : (c & 0xF0) == 0xE0	    ? 3
			   : c >= 0xF0 && c <= 0xF4 ? 4
						    : 0;
		if (n == 0 || len - i < n)
			return false;
		uint32_t cp = n == 1 ? c : n == 2 ? c & 0x1Fu : n == 3 ? c & 0x0Fu : c & 0x07u;
		for (size_t k = 1; k < n; k++) {
			if ((p[i + k] & 0xC0) != 0x80)
				return false;
			cp = cp << 6 | (p[i + k] & 0x3Fu);
		}
		if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
		    (cp >= 0xD800 && cp <= 0xDFFF))
			return false;
		i += n;
	}
	return true;
}

/* Whether every value is typed and one every format promises to carry. */
static bool portable(const struct lwm2m_values *l, content_type_fn type_of)
{
	if (!type_of)
		return false;
	for (size_t i = 0; i < l->count; i++) {
		const struct lwm2m_value *v = &l->items[i];
		if (type_of(NULL, v->path.ids[0], v->path.ids[2], NULL) != v->type)
			return false;
		if ((v->type == LWM2M_TYPE_STRING || v->type == LWM2M_TYPE_CORELNK) &&
		    !clean_utf8(v->v.bytes.data, v->v.bytes.len))
			return false;
		if (v->type == LWM2M_TYPE_UNSIGNED && v->v.u > INT64_MAX)
			return false;
	}
	return true;
}

static void check_cross(const struct lwm2m_values *first, const struct lwm2m_path *base,
			content_type_fn type_of, uint8_t *out, size_t cap)
{
	/* Opaque is not among them: it carries bytes, and reads back any type as opaque. */
	static const uint16_t formats[] = {
		CONTENT_TEXT,	    CONTENT_CBOR,	CONTENT_TLV,
		CONTENT_SENML_JSON, CONTENT_SENML_CBOR, CONTENT_OMA_JSON
	};
	if (!portable(first, type_of))
		return;
	for (size_t f = 0; f < sizeof(formats) / sizeof(formats[0]); f++) {
		if (formats[f] == FUZZ_CONTENT_FORMAT)
			continue;
		int n = content_encode(formats[f], base, first, type_of, NULL, out, cap);
		FUZZ_CHECK(n >= 0 || n == -EINVAL, "format %u: encoding: %d", formats[f], n);
		if (n < 0)
			continue;
		struct lwm2m_values again, copy;
		lwm2m_values_init(&again);
		lwm2m_values_init(&copy);
		int rc = content_decode(formats[f], base, n ? out : NULL, (size_t)n, type_of, NULL,
					&again);
		FUZZ_CHECK(rc == 0, "format %u: what was encoded does not decode (%d): '%.*s'",
			   formats[f], rc, n, (const char *)out);
		for (size_t i = 0; i < first->count; i++)
			FUZZ_CHECK(lwm2m_values_add(&copy, &first->items[i]) == 0, "copy");
		check_same(&copy, &again, out, n);
		lwm2m_values_free(&again);
		lwm2m_values_free(&copy);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[CONTENT_FUZZ_OUT];
	struct fuzz_in in = fuzz_in(data, size);
	uint8_t mode = fuzz_u8(&in);
	fixed_type = fuzz_u8(&in) % (LWM2M_TYPE_CORELNK + 1);
	struct lwm2m_path base = { .len = (uint8_t)(mode % 5) };
	for (int i = 0; i < LWM2M_PATH_MAX_DEPTH; i++)
		base.ids[i] = (uint16_t)(fuzz_u16(&in) % (LWM2M_ID_MAX + 1));
	content_type_fn type_of = NULL;
	switch (mode / 5 % 3) {
	case 0:
		type_of = model_type_of;
		break;
	case 1:
		type_of = NULL;
		break;
	default:
		type_of = fixed_type_of;
		break;
	}
	current_type_of = type_of;
	size_t len;
	const uint8_t *payload = fuzz_bytes(&in, in.left, &len);
	if (len == 0)
		payload = NULL; /* as coap_msg gives a response without a payload */

	struct lwm2m_values first, second;
	lwm2m_values_init(&first);
	lwm2m_values_init(&second);
	int rc = content_decode(FUZZ_CONTENT_FORMAT, &base, payload, len, type_of, NULL, &first);
	FUZZ_CHECK(rc == 0 || rc == -EBADMSG || rc == -E2BIG || rc == -ENOMEM, "decode: %d", rc);
	if (rc != 0 || first.count == 0)
		goto done;
	check_values(&first, &base, type_of);

	int n = content_encode(FUZZ_CONTENT_FORMAT, &base, &first, type_of, NULL, out, sizeof(out));
	FUZZ_CHECK(n >= 0 || n == -EINVAL, "encoding what was decoded: %d", n);
	if (n < 0)
		goto done;
	rc = content_decode(FUZZ_CONTENT_FORMAT, &base, out, (size_t)n, type_of, NULL, &second);
	FUZZ_CHECK(rc == 0, "what was encoded does not decode (%d): '%.*s'", rc, n,
		   (const char *)out);
	check_values(&second, &base, type_of);
	check_same(&first, &second, out, n);
	check_cross(&first, &base, type_of, out, sizeof(out));
done:
	lwm2m_values_free(&first);
	lwm2m_values_free(&second);
	return 0;
}

#endif
