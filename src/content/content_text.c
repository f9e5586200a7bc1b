/*
 * content_text: text/plain (0) and application/octet-stream (42), one value each
 * (OMA LwM2M 1.1 Core §7.4.1, §7.4.2). Numbers are decimal, booleans "0"/"1", object links
 * "obj:inst", and an opaque resource in text is base64.
 */
#include "content/content.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/base64.h"

/* The longest number we parse as text: 64-bit values and doubles fit well within. */
#define NUMBER_MAX 64

static int single_path(const struct lwm2m_path *base)
{
	return base->len == 3 || base->len == 4 ? 0 : -EBADMSG;
}

/* The one value these formats carry is the base itself: the payload names no path, so a
 * value below the base (/3/0/7/1 under /3/0/7) would reach the device as the base's. */
static bool is_base(const struct lwm2m_value *v, const struct lwm2m_path *base)
{
	return v->path.len == base->len && lwm2m_path_under(&v->path, base);
}

/* Copies a number into a NUL-terminated buffer for strto*; refuses spaces and signs
 * where C would accept them silently. */
static int number_text(const uint8_t *p, size_t len, char out[NUMBER_MAX])
{
	if (len == 0 || len >= NUMBER_MAX)
		return -EBADMSG;
	for (size_t i = 0; i < len; i++) {
		if (p[i] <= ' ' || p[i] > '~')
			return -EBADMSG;
	}
	memcpy(out, p, len);
	out[len] = '\0';
	return 0;
}

int content_text_decode(const struct lwm2m_path *base, const uint8_t *p, size_t len,
			content_type_fn type_of, void *ctx, struct lwm2m_values *out)
{
	if (single_path(base) != 0)
		return -EBADMSG;
	struct lwm2m_value v = { .path = *base };
	enum lwm2m_type type = type_of ? type_of(ctx, base->ids[0], base->ids[2], NULL)
				       : LWM2M_TYPE_NONE;
	char num[NUMBER_MAX];
	char *end;
	v.type = (uint8_t)(type == LWM2M_TYPE_NONE ? LWM2M_TYPE_STRING : type);
	switch (v.type) {
	case LWM2M_TYPE_STRING:
	case LWM2M_TYPE_CORELNK:
		v.v.bytes.data = (uint8_t *)p;
		v.v.bytes.len = len;
		break;
	case LWM2M_TYPE_OPAQUE: {
		uint8_t *buf = malloc(len ? len : 1);
		if (!buf)
			return -ENOMEM;
		long n = base64_decode((const char *)p, len, buf, len ? len : 1);
		if (n < 0) {
			free(buf);
			return -EBADMSG;
		}
		v.v.bytes.data = buf;
		v.v.bytes.len = (size_t)n;
		int rc = lwm2m_values_add(out, &v);
		free(buf);
		return rc;
	}
	case LWM2M_TYPE_INTEGER:
	case LWM2M_TYPE_TIME:
		if (number_text(p, len, num) != 0)
			return -EBADMSG;
		errno = 0;
		v.v.i = strtoll(num, &end, 10);
		if (errno || *end)
			return -EBADMSG;
		break;
	case LWM2M_TYPE_UNSIGNED:
		if (number_text(p, len, num) != 0 || num[0] == '-' || num[0] == '+')
			return -EBADMSG;
		errno = 0;
		v.v.u = strtoull(num, &end, 10);
		if (errno || *end)
			return -EBADMSG;
		break;
	case LWM2M_TYPE_FLOAT:
		if (number_text(p, len, num) != 0)
			return -EBADMSG;
		/* Overflow gives an infinity, refused; underflow (ERANGE with a subnormal or a
		 * zero) is a value, one the encoder writes for a subnormal double. */
		v.v.f = strtod(num, &end);
		if (*end || !isfinite(v.v.f))
			return -EBADMSG;
		break;
	case LWM2M_TYPE_BOOLEAN:
		if (len != 1 || (p[0] != '0' && p[0] != '1'))
			return -EBADMSG;
		v.v.b = p[0] == '1';
		break;
	case LWM2M_TYPE_OBJLNK: {
		unsigned obj, inst;
		char extra;
		if (number_text(p, len, num) != 0 ||
		    sscanf(num, "%5u:%5u%c", &obj, &inst, &extra) != 2 || obj > 65535 ||
		    inst > 65535 || !strchr(num, ':') || num[0] == '+' || num[0] == '-')
			return -EBADMSG;
		v.v.objlnk.obj = (uint16_t)obj;
		v.v.objlnk.inst = (uint16_t)inst;
		break;
	}
	default:
		return -EBADMSG;
	}
	return lwm2m_values_add(out, &v);
}

int content_text_encode(const struct lwm2m_path *base, const struct lwm2m_values *values,
			uint8_t *buf, size_t cap)
{
	if (values->count != 1 || single_path(base) != 0 || !is_base(&values->items[0], base))
		return -EINVAL;
	const struct lwm2m_value *v = &values->items[0];
	char text[NUMBER_MAX];
	int n = 0;
	switch (v->type) {
	case LWM2M_TYPE_STRING:
	case LWM2M_TYPE_CORELNK:
		if (v->v.bytes.len > cap)
			return -ENOBUFS;
		memcpy(buf, v->v.bytes.data, v->v.bytes.len);
		return (int)v->v.bytes.len;
	case LWM2M_TYPE_OPAQUE:
		if (BASE64_ENCODED_LEN(v->v.bytes.len) + 1 > cap)
			return -ENOBUFS;
		return (int)base64_encode(v->v.bytes.data, v->v.bytes.len, (char *)buf);
	case LWM2M_TYPE_INTEGER:
	case LWM2M_TYPE_TIME:
		n = snprintf(text, sizeof(text), "%" PRId64, v->v.i);
		break;
	case LWM2M_TYPE_UNSIGNED:
		n = snprintf(text, sizeof(text), "%" PRIu64, v->v.u);
		break;
	case LWM2M_TYPE_FLOAT:
		if (!isfinite(v->v.f))
			return -EINVAL;
		/* The shortest of 15 or 17 digits that reads back as the same double. */
		n = snprintf(text, sizeof(text), "%.15g", v->v.f);
		if (strtod(text, NULL) != v->v.f)
			n = snprintf(text, sizeof(text), "%.17g", v->v.f);
		break;
	case LWM2M_TYPE_BOOLEAN:
		n = snprintf(text, sizeof(text), "%d", v->v.b ? 1 : 0);
		break;
	case LWM2M_TYPE_OBJLNK:
		n = snprintf(text, sizeof(text), "%u:%u", v->v.objlnk.obj, v->v.objlnk.inst);
		break;
	default:
		return -EINVAL;
	}
	if (n < 0 || (size_t)n > cap)
		return -ENOBUFS;
	memcpy(buf, text, (size_t)n);
	return n;
}

int content_opaque_decode(const struct lwm2m_path *base, const uint8_t *p, size_t len,
			  struct lwm2m_values *out)
{
	if (single_path(base) != 0)
		return -EBADMSG;
	struct lwm2m_value v = { .path = *base, .type = LWM2M_TYPE_OPAQUE };
	v.v.bytes.data = (uint8_t *)p;
	v.v.bytes.len = len;
	return lwm2m_values_add(out, &v);
}

int content_opaque_encode(const struct lwm2m_path *base, const struct lwm2m_values *values,
			  uint8_t *buf, size_t cap)
{
	if (values->count != 1 || single_path(base) != 0 || !is_base(&values->items[0], base))
		return -EINVAL;
	const struct lwm2m_value *v = &values->items[0];
	if (v->type != LWM2M_TYPE_OPAQUE && v->type != LWM2M_TYPE_STRING)
		return -EINVAL;
	if (v->v.bytes.len > cap)
		return -ENOBUFS;
	memcpy(buf, v->v.bytes.data, v->v.bytes.len);
	return (int)v->v.bytes.len;
}
