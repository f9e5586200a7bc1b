/*
 * content_oma_json: OMA LwM2M JSON (11543), LwM2M 1.0 Core §6.4.4 — the format LwM2M 1.0
 * devices use for multiple values:
 *
 *   {"bn":"/3/0/","bt":1000,"e":[{"n":"0","sv":"Open Mobile Alliance"},{"n":"6/0","v":1},
 *                                {"n":"13","v":1367491215},{"n":"x","bv":true},
 *                                {"n":"y","ov":"3:0"},{"n":"z","t":-5,"v":2}]}
 *
 * Its records are SenML's under other names (sv, bv, ov for vs, vb, vlo; opaque values are
 * base64 in sv), so decoding rewrites the document into SenML's shape and shares
 * content_senml_decode_doc's rules; the model says which sv are opaque.
 */
#include "content/content.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "util/base64.h"

/* Standard base64 (as OMA JSON carries opaque values) to base64url (as SenML does). */
static json_t *to_base64url(const char *s)
{
	size_t n = strlen(s);
	char *u = malloc(n + 1);
	if (!u)
		return NULL;
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '=')
			break;
		u[k++] = s[i] == '+' ? '-' : s[i] == '/' ? '_' : s[i];
	}
	u[k] = '\0';
	json_t *j = json_string(u);
	free(u);
	return j;
}

/* One "e" record in SenML's shape; NULL when malformed. */
static json_t *senml_record(const char *bn, json_t *e, content_type_fn type_of, void *ctx)
{
	if (!json_is_object(e))
		return NULL;
	json_t *rec = json_object();
	const json_t *n = json_object_get(e, "n"), *t = json_object_get(e, "t");
	if (n && !json_is_string(n))
		goto bad;
	if (n)
		json_object_set(rec, "n", (json_t *)n);
	if (t)
		json_object_set(rec, "t", (json_t *)t);
	const json_t *v = json_object_get(e, "v"), *sv = json_object_get(e, "sv"),
		     *bv = json_object_get(e, "bv"), *ov = json_object_get(e, "ov");
	if (!!v + !!sv + !!bv + !!ov != 1)
		goto bad;
	if (v)
		json_object_set(rec, "v", (json_t *)v);
	if (bv)
		json_object_set(rec, "vb", (json_t *)bv);
	if (ov)
		json_object_set(rec, "vlo", (json_t *)ov);
	if (sv) {
		if (!json_is_string(sv))
			goto bad;
		/* An opaque resource carries base64 in sv. */
		char name[160];
		struct lwm2m_path path;
		snprintf(name, sizeof(name), "%s%s", bn, n ? json_string_value(n) : "");
		bool opaque = lwm2m_path_parse(name, strlen(name), &path) == 0 && path.len >= 3 &&
			      type_of &&
			      type_of(ctx, path.ids[0], path.ids[2], NULL) == LWM2M_TYPE_OPAQUE;
		json_object_set_new(rec, opaque ? "vd" : "vs",
				    opaque ? to_base64url(json_string_value(sv))
					   : json_incref((json_t *)sv));
	}
	return rec;
bad:
	json_decref(rec);
	return NULL;
}

int content_oma_json_decode(const struct lwm2m_path *base, const uint8_t *p, size_t len,
			    content_type_fn type_of, void *ctx, struct lwm2m_values *out)
{
	json_error_t jerr;
	json_t *doc = json_loadb((const char *)p, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!doc)
		return -EBADMSG;
	const json_t *bn = json_object_get(doc, "bn"), *bt = json_object_get(doc, "bt"),
		     *e = json_object_get(doc, "e");
	int rc = -EBADMSG;
	json_t *senml = json_array();
	if (!json_is_object(doc) || !json_is_array(e) || (bn && !json_is_string(bn)) ||
	    (bt && !json_is_number(bt)) || !senml || json_array_size(e) > CONTENT_MAX_VALUES)
		goto out;
	const char *base_name = bn ? json_string_value(bn) : "";
	size_t i;
	json_t *item;
	rc = 0;
	json_array_foreach(e, i, item)
	{
		json_t *rec = senml_record(base_name, item, type_of, ctx);
		if (!rec) {
			rc = -EBADMSG;
			break;
		}
		if (i == 0) {
			if (bn)
				json_object_set(rec, "bn", (json_t *)bn);
			if (bt)
				json_object_set(rec, "bt", (json_t *)bt);
		}
		json_array_append_new(senml, rec);
	}
	if (rc == 0)
		rc = content_senml_decode_doc(base, senml, type_of, ctx, out);
out:
	json_decref(senml);
	json_decref(doc);
	return rc;
}

int content_oma_json_encode(const struct lwm2m_path *base, const struct lwm2m_values *values,
			    uint8_t *buf, size_t cap)
{
	char bn[42];
	if (values->count == 0 || lwm2m_path_format(base, bn, sizeof(bn) - 1) < 0)
		return -EINVAL;
	/* Below an object or instance the names are relative ("0", "6/1"); a resource or
	 * resource instance is named whole by bn, its instances by "/1". */
	if (base->len && base->len < 3)
		strcat(bn, "/");
	json_t *e = json_array();
	json_t *doc = json_pack("{s:s, s:o}", "bn", bn, "e", e);
	if (!doc)
		return -ENOMEM;
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < values->count; i++) {
		const struct lwm2m_value *v = &values->items[i];
		char full[40];
		lwm2m_path_format(&v->path, full, sizeof(full));
		json_t *val = NULL;
		const char *key = "v";
		switch (v->type) {
		case LWM2M_TYPE_STRING:
		case LWM2M_TYPE_CORELNK:
			key = "sv";
			val = json_stringn((const char *)v->v.bytes.data, v->v.bytes.len);
			break;
		case LWM2M_TYPE_OPAQUE: {
			char *b64 = malloc(BASE64_ENCODED_LEN(v->v.bytes.len) + 1);
			if (b64) {
				base64_encode(v->v.bytes.data, v->v.bytes.len, b64);
				val = json_string(b64);
				free(b64);
			}
			key = "sv";
			break;
		}
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
			key = "bv";
			val = json_boolean(v->v.b);
			break;
		case LWM2M_TYPE_OBJLNK: {
			char link[16];
			snprintf(link, sizeof(link), "%u:%u", v->v.objlnk.obj, v->v.objlnk.inst);
			key = "ov";
			val = json_string(link);
			break;
		}
		default:
			break;
		}
		/* The name below the base ("" when the value is the base itself). */
		size_t skip = strlen(bn);
		json_t *rec = val ? json_pack("{s:s, s:o}", "n",
					      strlen(full) > skip ? full + skip : "", key, val)
				  : NULL;
		if (!rec || json_array_append_new(e, rec) != 0)
			rc = -EINVAL;
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
