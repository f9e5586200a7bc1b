/*
 * content_senml_json: SenML JSON (RFC 8428) as LwM2M 1.1 carries values in it
 * (OMA-TS-LightweightM2M_Core 1.1 §7.4.5), content format 110.
 *
 * A payload is an array of records. A record's name is the current base name (bn, which
 * carries over to later records until redefined) followed by its own name (n); the full
 * name must be an LwM2M path of a resource or resource instance. Both ways clients split
 * it are accepted: {"bn":"/3/0","n":"/0"} and {"bn":"/3/0/","n":"0"}. Each record has
 * exactly one value field: v (number), vs (string), vb (boolean), vd (opaque, base64url)
 * or vlo (object link, "obj:inst"). Times are bt + t.
 */
#include "content/content.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "util/base64.h"

#define NAME_MAX_LEN 64

/* Decodes base64url (RFC 4648 §5), padding optional, into a malloc'd buffer. */
static long base64url_decode(const char *s, size_t len, uint8_t **out)
{
	char *std = malloc(len + 1);
	uint8_t *buf = malloc(len + 1);
	long n = -ENOMEM;
	if (std && buf) {
		for (size_t i = 0; i < len; i++)
			std[i] = s[i] == '-' ? '+' : s[i] == '_' ? '/' : s[i];
		n = base64_decode(std, len, buf, len + 1);
	}
	free(std);
	if (n < 0) {
		free(buf);
		return n;
	}
	*out = buf;
	return n;
}

/* The typed value of one record; *owned gets a buffer to free after the value is added. */
static int record_value(json_t *rec, enum lwm2m_type model, struct lwm2m_value *v,
			uint8_t **owned)
{
	json_t *jv = json_object_get(rec, "v"), *vs = json_object_get(rec, "vs"),
	       *vb = json_object_get(rec, "vb"), *vd = json_object_get(rec, "vd"),
	       *vlo = json_object_get(rec, "vlo");
	int present = !!jv + !!vs + !!vb + !!vd + !!vlo;
	if (present != 1)
		return -EBADMSG;
	if (jv) {
		if (!json_is_number(jv))
			return -EBADMSG;
		double d = json_number_value(jv);
		switch (model) {
		case LWM2M_TYPE_INTEGER:
		case LWM2M_TYPE_TIME:
			if (!json_is_integer(jv))
				return -EBADMSG;
			v->type = (uint8_t)model;
			v->v.i = json_integer_value(jv);
			return 0;
		case LWM2M_TYPE_UNSIGNED:
			if (!json_is_integer(jv) || json_integer_value(jv) < 0)
				return -EBADMSG;
			v->type = LWM2M_TYPE_UNSIGNED;
			v->v.u = (uint64_t)json_integer_value(jv);
			return 0;
		case LWM2M_TYPE_FLOAT:
			v->type = LWM2M_TYPE_FLOAT;
			v->v.f = d;
			return 0;
		case LWM2M_TYPE_NONE:
			if (json_is_integer(jv)) {
				v->type = LWM2M_TYPE_INTEGER;
				v->v.i = json_integer_value(jv);
			} else {
				v->type = LWM2M_TYPE_FLOAT;
				v->v.f = d;
			}
			return isfinite(d) ? 0 : -EBADMSG;
		default:
			return -EBADMSG;
		}
	}
	if (vs) {
		if (!json_is_string(vs) || (model != LWM2M_TYPE_NONE && model != LWM2M_TYPE_STRING &&
					    model != LWM2M_TYPE_CORELNK))
			return -EBADMSG;
		v->type = (uint8_t)(model == LWM2M_TYPE_CORELNK ? model : LWM2M_TYPE_STRING);
		v->v.bytes.data = (uint8_t *)json_string_value(vs);
		v->v.bytes.len = json_string_length(vs);
		return 0;
	}
	if (vb) {
		if (!json_is_boolean(vb) || (model != LWM2M_TYPE_NONE && model != LWM2M_TYPE_BOOLEAN))
			return -EBADMSG;
		v->type = LWM2M_TYPE_BOOLEAN;
		v->v.b = json_is_true(vb);
		return 0;
	}
	if (vd) {
		if (!json_is_string(vd) || (model != LWM2M_TYPE_NONE && model != LWM2M_TYPE_OPAQUE))
			return -EBADMSG;
		long n = base64url_decode(json_string_value(vd), json_string_length(vd), owned);
		if (n < 0)
			return n == -ENOMEM ? -ENOMEM : -EBADMSG;
		v->type = LWM2M_TYPE_OPAQUE;
		v->v.bytes.data = *owned;
		v->v.bytes.len = (size_t)n;
		return 0;
	}
	unsigned obj, inst;
	char extra;
	if (!json_is_string(vlo) || (model != LWM2M_TYPE_NONE && model != LWM2M_TYPE_OBJLNK) ||
	    sscanf(json_string_value(vlo), "%5u:%5u%c", &obj, &inst, &extra) != 2 || obj > 65535 ||
	    inst > 65535)
		return -EBADMSG;
	v->type = LWM2M_TYPE_OBJLNK;
	v->v.objlnk.obj = (uint16_t)obj;
	v->v.objlnk.inst = (uint16_t)inst;
	return 0;
}

/* Optional string field: 0 with *s (NULL when absent), or -EBADMSG when not a string. */
static int opt_string(json_t *rec, const char *key, const char **s)
{
	json_t *j = json_object_get(rec, key);
	*s = j ? json_string_value(j) : NULL;
	return j && !*s ? -EBADMSG : 0;
}

static int opt_number(json_t *rec, const char *key, double *d, bool *present)
{
	json_t *j = json_object_get(rec, key);
	*present = j != NULL;
	if (!j)
		return 0;
	if (!json_is_number(j))
		return -EBADMSG;
	*d = json_number_value(j);
	return 0;
}

int content_senml_json_decode(const struct lwm2m_path *base, const uint8_t *p, size_t len,
			      content_type_fn type_of, void *ctx, struct lwm2m_values *out)
{
	json_error_t jerr;
	json_t *doc = json_loadb((const char *)p, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!doc)
		return -EBADMSG;
	int rc = content_senml_decode_doc(base, doc, type_of, ctx, out);
	json_decref(doc);
	return rc;
}

/* The records of a SenML document already parsed into JSON (SenML CBOR converts to this
 * shape too, with vd as base64url). */
int content_senml_decode_doc(const struct lwm2m_path *base, json_t *doc,
			     content_type_fn type_of, void *ctx, struct lwm2m_values *out)
{
	if (!json_is_array(doc) || json_array_size(doc) > CONTENT_MAX_VALUES)
		return -EBADMSG;
	char bn[NAME_MAX_LEN + 1] = "";
	double bt = 0;
	bool bt_seen = false; /* a base time applies to the records after it too */
	int rc = 0;
	size_t i;
	json_t *rec;
	json_array_foreach(doc, i, rec)
	{
		const char *rbn, *n;
		double t = 0, rbt = 0;
		bool has_t, has_bt;
		if (!json_is_object(rec) || opt_string(rec, "bn", &rbn) ||
		    opt_string(rec, "n", &n) || opt_number(rec, "bt", &rbt, &has_bt) ||
		    opt_number(rec, "t", &t, &has_t)) {
			rc = -EBADMSG;
			break;
		}
		if (rbn) {
			if (strlen(rbn) > NAME_MAX_LEN) {
				rc = -EBADMSG;
				break;
			}
			strcpy(bn, rbn);
		}
		if (has_bt) {
			bt = rbt;
			bt_seen = true;
		}
		char name[2 * NAME_MAX_LEN + 2];
		size_t bl = strlen(bn), nl = n ? strlen(n) : 0;
		if (nl > NAME_MAX_LEN) {
			rc = -EBADMSG;
			break;
		}
		/* "/3/0" + "/0" and "/3/0/" + "0" name the same resource. */
		if (bl && nl && bn[bl - 1] == '/' && n[0] == '/')
			bl--;
		memcpy(name, bn, bl);
		memcpy(name + bl, n ? n : "", nl);
		name[bl + nl] = '\0';
		struct lwm2m_value v = { 0 };
		if (lwm2m_path_parse(name, strlen(name), &v.path) != 0 || v.path.len < 3 ||
		    !lwm2m_path_under(&v.path, base)) {
			rc = -EBADMSG;
			break;
		}
		enum lwm2m_type model =
			type_of ? type_of(ctx, v.path.ids[0], v.path.ids[2], NULL) : LWM2M_TYPE_NONE;
		uint8_t *owned = NULL;
		rc = record_value(rec, model, &v, &owned);
		if (rc == 0 && (has_t || bt_seen)) {
			/* A time that does not fit an int64 would make the conversion undefined. */
			double when = bt + t;
			if (!isfinite(when) || when < -9.2e18 || when > 9.2e18)
				rc = -EBADMSG;
			v.has_time = true;
			v.time = rc == 0 ? (int64_t)when : 0;
		}
		if (rc == 0)
			rc = lwm2m_values_add(out, &v);
		free(owned);
		if (rc)
			break;
	}
	return rc;
}

static json_t *base64url(const uint8_t *data, size_t len)
{
	char *s = malloc(BASE64_ENCODED_LEN(len) + 1);
	if (!s)
		return NULL;
	size_t n = base64_encode(data, len, s);
	while (n > 0 && s[n - 1] == '=')
		s[--n] = '\0';
	for (size_t i = 0; i < n; i++)
		s[i] = s[i] == '+' ? '-' : s[i] == '/' ? '_' : s[i];
	json_t *j = json_string(s);
	free(s);
	return j;
}

int content_senml_json_encode(const struct lwm2m_path *base, const struct lwm2m_values *values,
			      uint8_t *buf, size_t cap)
{
	char base_name[40];
	if (lwm2m_path_format(base, base_name, sizeof(base_name) - 1) < 0 || values->count == 0)
		return -EINVAL;
	json_t *doc = json_array();
	int rc = doc ? 0 : -ENOMEM;
	for (size_t i = 0; rc == 0 && i < values->count; i++) {
		const struct lwm2m_value *v = &values->items[i];
		if (!lwm2m_path_under(&v->path, base)) {
			rc = -EINVAL; /* its name would not be below the base name */
			break;
		}
		json_t *rec = json_object();
		if (!rec) {
			rc = -ENOMEM;
			break;
		}
		char full[40];
		lwm2m_path_format(&v->path, full, sizeof(full));
		bool exact = v->path.len == base->len;
		if (i == 0) {
			if (exact) {
				json_object_set_new(rec, "bn", json_string(full));
			} else {
				char bn[42];
				snprintf(bn, sizeof(bn), "%s%s", base_name,
					 base->len ? "/" : "");
				json_object_set_new(rec, "bn", json_string(bn));
			}
		}
		if (!exact) {
			/* The name below the base, without its leading '/'. */
			size_t skip = base->len ? strlen(base_name) + 1 : 1;
			json_object_set_new(rec, "n", json_string(full + skip));
		}
		json_t *val = NULL;
		const char *key = "v";
		switch (v->type) {
		case LWM2M_TYPE_STRING:
		case LWM2M_TYPE_CORELNK:
			key = "vs";
			val = json_stringn((const char *)v->v.bytes.data, v->v.bytes.len);
			break;
		case LWM2M_TYPE_OPAQUE:
			key = "vd";
			val = base64url(v->v.bytes.data, v->v.bytes.len);
			break;
		case LWM2M_TYPE_INTEGER:
		case LWM2M_TYPE_TIME:
			val = json_integer(v->v.i);
			break;
		case LWM2M_TYPE_UNSIGNED:
			val = v->v.u <= INT64_MAX ? json_integer((json_int_t)v->v.u)
						  : json_real((double)v->v.u);
			break;
		case LWM2M_TYPE_FLOAT:
			val = isfinite(v->v.f) ? json_real(v->v.f) : NULL;
			break;
		case LWM2M_TYPE_BOOLEAN:
			key = "vb";
			val = json_boolean(v->v.b);
			break;
		case LWM2M_TYPE_OBJLNK: {
			char link[16];
			snprintf(link, sizeof(link), "%u:%u", v->v.objlnk.obj, v->v.objlnk.inst);
			key = "vlo";
			val = json_string(link);
			break;
		}
		default:
			break;
		}
		if (!val) {
			json_decref(rec);
			rc = -EINVAL;
			break;
		}
		json_object_set_new(rec, key, val);
		json_array_append_new(doc, rec);
	}
	size_t n = 0;
	if (rc == 0) {
		n = json_dumpb(doc, (char *)buf, cap, JSON_COMPACT | JSON_PRESERVE_ORDER);
		if (n == 0 || n > cap)
			rc = -ENOBUFS;
	}
	json_decref(doc);
	return rc ? rc : (int)n;
}

int content_senml_json_encode_paths(const struct lwm2m_path *paths, size_t count, uint8_t *buf,
				    size_t cap)
{
	if (count == 0)
		return -EINVAL;
	json_t *doc = json_array();
	for (size_t i = 0; doc && i < count; i++) {
		char name[40];
		if (lwm2m_path_format(&paths[i], name, sizeof(name)) < 0) {
			json_decref(doc);
			return -EINVAL;
		}
		json_array_append_new(doc, json_pack("{s:s}", "n", name));
	}
	if (!doc)
		return -ENOMEM;
	size_t n = json_dumpb(doc, (char *)buf, cap, JSON_COMPACT);
	json_decref(doc);
	return n == 0 || n > cap ? -ENOBUFS : (int)n;
}
