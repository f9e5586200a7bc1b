/*
 * iot_mapped: products of standard objects, whose resource_mappings tie resource paths to
 * service properties (3303/0/5700 → Temperature.value). Upwards, a notification of a
 * mapped resource is a property report; downwards, desired properties become LwM2M Writes
 * of their resources.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "content/content.h"
#include "iot/iot_platform_internal.h"
#include "iot/product_model.h"
#include "model/model.h"

int iot_mapping_path(const json_t *m, struct lwm2m_path *out)
{
	const char *path = json_string_value(json_object_get(m, "path"));
	char full[64];
	if (!path || snprintf(full, sizeof(full), "/%s", path[0] == '/' ? path + 1 : path) >=
			     (int)sizeof(full))
		return -1;
	return lwm2m_path_parse(full, strlen(full), out) == 0 && out->len == 3 ? 0 : -1;
}

static bool same_path(const struct lwm2m_path *a, const struct lwm2m_path *b)
{
	return a->len == b->len && memcmp(a->ids, b->ids, sizeof(a->ids[0]) * a->len) == 0;
}

/* An LwM2M value as the JSON value a property holds. */
static json_t *value_to_json(const struct lwm2m_value *v)
{
	switch (v->type) {
	case LWM2M_TYPE_INTEGER:
	case LWM2M_TYPE_TIME:
		return json_integer((json_int_t)v->v.i);
	case LWM2M_TYPE_UNSIGNED:
		return v->v.u <= INT64_MAX ? json_integer((json_int_t)v->v.u)
					   : json_real((double)v->v.u);
	case LWM2M_TYPE_FLOAT:
		return json_real(v->v.f);
	case LWM2M_TYPE_BOOLEAN:
		return json_boolean(v->v.b);
	case LWM2M_TYPE_STRING:
	case LWM2M_TYPE_CORELNK:
		return json_stringn((const char *)v->v.bytes.data, v->v.bytes.len);
	default:
		return NULL;
	}
}

/* A resource the object models do not know decodes as text; the property's data_type
 * says what it is ("21.5" for a decimal is 21.5). Takes value; returns the value to use. */
static json_t *coerce(const json_t *def, json_t *value)
{
	const char *type = json_string_value(json_object_get(def, "data_type"));
	const char *text = json_string_value(value);
	if (!type || !text || !*text)
		return value;
	char *end;
	json_t *out = NULL;
	if (strcmp(type, "int") == 0 || strcmp(type, "long") == 0) {
		long long v = strtoll(text, &end, 10);
		if (!*end)
			out = json_integer(v);
	} else if (strcmp(type, "decimal") == 0) {
		double v = strtod(text, &end);
		if (!*end)
			out = json_real(v);
	} else if (strcmp(type, "boolean") == 0) {
		if (strcmp(text, "1") == 0 || strcmp(text, "true") == 0)
			out = json_true();
		else if (strcmp(text, "0") == 0 || strcmp(text, "false") == 0)
			out = json_false();
	}
	if (!out)
		return value; /* the model's check names what is wrong */
	json_decref(value);
	return out;
}

bool iot_mapped_report(struct iot_platform *p, const struct store_device *dev,
			  const struct lwm2m_observation *o, int format, const uint8_t *payload,
			  size_t len)
{
	struct product_entry *e = iot_product(p, dev->project_id, dev->product_id);
	size_t i;
	const json_t *m;
	struct lwm2m_path path;
	json_array_foreach(e ? e->mappings : NULL, i, m) {
		if (iot_mapping_path(m, &path) != 0 || !same_path(&path, &o->path))
			continue;
		struct lwm2m_values values;
		lwm2m_values_init(&values);
		int rc = content_decode((uint16_t)(format < 0 ? CONTENT_TEXT : format), &o->path,
					payload, len, model_type_of, NULL, &values);
		json_t *value = NULL;
		for (size_t k = 0; rc == 0 && k < values.count && !value; k++)
			if (same_path(&values.items[k].path, &path))
				value = value_to_json(&values.items[k]);
		lwm2m_values_free(&values);
		const char *sid = json_string_value(json_object_get(m, "service_id"));
		const char *prop = json_string_value(json_object_get(m, "property_name"));
		if (!value) {
			iot_codec_error(p, dev, "content", "%s: no value decoded (%s)",
				    json_string_value(json_object_get(m, "path")),
				    rc ? strerror(-rc) : "not in the payload");
			return true;
		}
		value = coerce(product_model_property(product_model_service(e->caps, sid), prop),
			       value);
		json_t *data = json_object();
		json_object_set_new(data, prop, value);
		json_t *msg = json_pack("{s:[{s:s, s:o}]}", "data", "serviceId", sid, "serviceData",
					data);
		iot_report(p, dev, e, msg);
		json_decref(msg);
		return true;
	}
	return false;
}

const json_t *iot_mapping_of(const struct product_entry *e, const char *service_id,
			     const char *property)
{
	size_t i;
	const json_t *m;
	json_array_foreach(e->mappings, i, m) {
		const char *sid = json_string_value(json_object_get(m, "service_id"));
		const char *prop = json_string_value(json_object_get(m, "property_name"));
		if (sid && prop && strcmp(sid, service_id) == 0 && strcmp(prop, property) == 0)
			return m;
	}
	return NULL;
}

/* A property's JSON value as the resource's type (the object model's, else the JSON
 * value's own). Strings point into value. 0 or -EINVAL. */
static int json_to_value(const json_t *value, struct lwm2m_value *v)
{
	int t = (int)model_type_of(NULL, v->path.ids[0], v->path.ids[2], NULL);
	if (t == LWM2M_TYPE_OPAQUE || t == LWM2M_TYPE_OBJLNK)
		return -EINVAL; /* not something a property sets */
	return content_value_from_json(value, t, v, NULL, 0);
}

int iot_mapped_write(const struct product_entry *e, const char *service_id,
		     const json_t *paras, struct lwm2m_dm_request *dm, uint8_t *buf, size_t cap,
		     char *err, size_t errlen)
{
	struct lwm2m_values values;
	lwm2m_values_init(&values);
	const char *name;
	const json_t *value;
	int rc = 0;
	json_object_foreach((json_t *)paras, name, value) {
		const json_t *m = iot_mapping_of(e, service_id, name);
		struct lwm2m_value v = { 0 };
		if (!m || iot_mapping_path(m, &v.path) != 0) {
			rc = iot_fail(err, errlen, -EINVAL, "%s.%s is not mapped to a resource",
				      service_id, name);
			break;
		}
		if (json_to_value(value, &v) != 0) {
			rc = iot_fail(err, errlen, -EINVAL,
				      "%s.%s: the value does not fit its resource's type", service_id,
				      name);
			break;
		}
		rc = lwm2m_values_add(&values, &v);
		if (rc) {
			snprintf(err, errlen, "%s", strerror(-rc));
			break;
		}
	}
	if (rc == 0 && values.count == 0)
		rc = iot_fail(err, errlen, -EINVAL, "%s: nothing to write", service_id);
	if (rc) {
		lwm2m_values_free(&values);
		return rc;
	}
	/* The smallest Write that carries them all: a resource, an instance, or composite. */
	const struct lwm2m_path *first = &values.items[0].path;
	bool one_instance = true;
	for (size_t i = 1; i < values.count; i++)
		one_instance &= values.items[i].path.ids[0] == first->ids[0] &&
				values.items[i].path.ids[1] == first->ids[1];
	uint16_t format;
	if (values.count == 1) {
		dm->op = LWM2M_OP_WRITE_REPLACE;
		dm->path = *first;
		format = CONTENT_TEXT;
	} else if (one_instance) {
		/* Core §6.3.3: POST on the instance is a partial update of its resources. */
		dm->op = LWM2M_OP_WRITE_UPDATE;
		dm->path = *first;
		dm->path.len = 2;
		format = CONTENT_TLV;
	} else {
		dm->op = LWM2M_OP_WRITE_COMPOSITE;
		memset(&dm->path, 0, sizeof(dm->path));
		format = CONTENT_SENML_JSON;
	}
	int n = content_encode(format, &dm->path, &values, model_type_of, NULL, buf, cap);
	lwm2m_values_free(&values);
	if (n < 0) {
		snprintf(err, errlen, "%s: the values do not encode (%s)", service_id,
			 strerror(-n));
		return -EINVAL;
	}
	dm->content_format = format;
	dm->accept = -1;
	dm->payload = buf;
	dm->payload_len = (size_t)n;
	return 0;
}
