/*
 * content_json_value: a JSON value, as the REST API's Writes and the platform's desired
 * properties carry it, as one LwM2M value of a resource's type (content.h).
 */
#include "content/content.h"

#include <errno.h>
#include <stdio.h>

#include <jansson.h>

#include "util/base64.h"

int content_value_from_json(const json_t *value, int type, struct lwm2m_value *v,
			    uint8_t *buf, size_t cap)
{
	if (type <= 0) /* untyped: the JSON value's own type */
		type = json_is_string(value)    ? LWM2M_TYPE_STRING
		       : json_is_integer(value) ? LWM2M_TYPE_INTEGER
		       : json_is_real(value)    ? LWM2M_TYPE_FLOAT
		       : json_is_boolean(value) ? LWM2M_TYPE_BOOLEAN
						: -1;
	if (type <= 0)
		return -EINVAL;
	v->type = (uint8_t)type;
	switch (type) {
	case LWM2M_TYPE_STRING:
	case LWM2M_TYPE_CORELNK:
		if (!json_is_string(value))
			return -EINVAL;
		v->v.bytes.data = (uint8_t *)json_string_value(value);
		v->v.bytes.len = json_string_length(value);
		return 0;
	case LWM2M_TYPE_OPAQUE: {
		long n = json_is_string(value) ? base64_decode(json_string_value(value),
							       json_string_length(value), buf, cap)
					       : -EINVAL;
		if (n < 0)
			return -EINVAL;
		v->v.bytes.data = buf;
		v->v.bytes.len = (size_t)n;
		return 0;
	}
	case LWM2M_TYPE_INTEGER:
	case LWM2M_TYPE_TIME:
		if (!json_is_integer(value))
			return -EINVAL;
		v->v.i = json_integer_value(value);
		return 0;
	case LWM2M_TYPE_UNSIGNED:
		if (!json_is_integer(value) || json_integer_value(value) < 0)
			return -EINVAL;
		v->v.u = (uint64_t)json_integer_value(value);
		return 0;
	case LWM2M_TYPE_FLOAT:
		if (!json_is_number(value))
			return -EINVAL;
		v->v.f = json_number_value(value);
		return 0;
	case LWM2M_TYPE_BOOLEAN:
		if (!json_is_boolean(value))
			return -EINVAL;
		v->v.b = json_is_true(value);
		return 0;
	case LWM2M_TYPE_OBJLNK: {
		unsigned obj, inst;
		char end;
		if (!json_is_string(value) ||
		    sscanf(json_string_value(value), "%u:%u%c", &obj, &inst, &end) != 2 ||
		    obj > 65535 || inst > 65535)
			return -EINVAL;
		v->v.objlnk.obj = (uint16_t)obj;
		v->v.objlnk.inst = (uint16_t)inst;
		return 0;
	}
	default:
		return -EINVAL;
	}
}
