/*
 * sim_dm: the simulated device's answers to Device Management requests and its
 * observations (see sim_dm.h). Every answer goes through the project's own codecs
 * (content/), typed by the project's object models (model/).
 */
#include "sim_dm.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cbor.h>
#include <jansson.h>

#include "model/model.h"

static const struct {
	const char *name;
	int format;
} format_names[] = {
	{ "text", CONTENT_TEXT },	       { "opaque", CONTENT_OPAQUE },
	{ "cbor", CONTENT_CBOR },	       { "senml-json", CONTENT_SENML_JSON },
	{ "senml-cbor", CONTENT_SENML_CBOR }, { "tlv", CONTENT_TLV },
	{ "oma-json", CONTENT_OMA_JSON },     { "link", CONTENT_LINK },
};

int sim_format_parse(const char *s)
{
	for (size_t i = 0; i < sizeof(format_names) / sizeof(format_names[0]); i++) {
		if (strcmp(s, format_names[i].name) == 0)
			return format_names[i].format;
	}
	char *end;
	long v = strtol(s, &end, 10);
	return *s && !*end && v >= 0 && v <= 65535 ? (int)v : -1;
}

int sim_dm_parse_bad_content(int list[5], const char *arg)
{
	char buf[128];
	int n = 0;
	snprintf(buf, sizeof(buf), "%s", arg);
	for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		int f = sim_format_parse(tok);
		if (n == 4 || (f != CONTENT_TLV && f != CONTENT_SENML_JSON &&
			       f != CONTENT_SENML_CBOR && f != CONTENT_OMA_JSON))
			return -1;
		list[n++] = f;
	}
	list[n] = 0;
	return n > 0 ? 0 : -1;
}

/* Malformed payloads for --bad-content: each looks like its format but is cut short or
 * lies about a length, so a server must refuse to decode it. */
static int bad_payload(int format, uint8_t *out, size_t cap)
{
	static const uint8_t tlv[] = { 0xC8, 0x09, 0x10, 0x01 }; /* 16 bytes said, 1 given */
	static const char senml_json[] = "[{\"n\":\"/3/0/9\",\"v\":";
	static const uint8_t senml_cbor[] = { 0x81, 0xA2, 0x00, 0x66, '/', '3' };
	static const char oma_json[] = "{\"bn\":\"/3/0/\",\"e\":[{\"n\":\"9\",\"v\":}";
	const void *p;
	size_t n;
	switch (format) {
	case CONTENT_TLV: p = tlv; n = sizeof(tlv); break;
	case CONTENT_SENML_JSON: p = senml_json; n = sizeof(senml_json) - 1; break;
	case CONTENT_SENML_CBOR: p = senml_cbor; n = sizeof(senml_cbor); break;
	case CONTENT_OMA_JSON: p = oma_json; n = sizeof(oma_json) - 1; break;
	default: return -EINVAL;
	}
	if (n > cap)
		return -ENOBUFS;
	memcpy(out, p, n);
	return (int)n;
}

static const char *method_name(uint8_t code)
{
	switch (code) {
	case COAP_CODE_GET: return "GET";
	case COAP_CODE_POST: return "POST";
	case COAP_CODE_PUT: return "PUT";
	case COAP_CODE_DELETE: return "DELETE";
	case COAP_CODE_FETCH: return "FETCH";
	case COAP_CODE_PATCH: return "PATCH";
	case COAP_CODE_IPATCH: return "iPATCH";
	default: return "?";
	}
}

/* Whether the path names something the tree has (object, instance, resource, resource
 * instance). Returns 0 or a CoAP error code (4.04). */
static uint8_t check_exists(const struct sim_tree *t, const struct lwm2m_path *p)
{
	if (p->len >= 1 && !sim_tree_has_object(t, p->ids[0]))
		return COAP_CODE_NOT_FOUND;
	if (p->len >= 2 && !sim_tree_has_instance(t, p->ids[0], p->ids[1]))
		return COAP_CODE_NOT_FOUND;
	if (p->len >= 3) {
		bool exec = sim_tree_resource_ops(p->ids[0], p->ids[2]) & MODEL_OP_E;
		if (!exec && !sim_tree_has_resource(t, p->ids[0], p->ids[1], p->ids[2]))
			return COAP_CODE_NOT_FOUND;
	}
	if (p->len == 4) {
		struct lwm2m_values v;
		lwm2m_values_init(&v);
		sim_tree_collect(t, p, &v);
		size_t n = v.count;
		lwm2m_values_free(&v);
		if (n == 0)
			return COAP_CODE_NOT_FOUND;
	}
	return 0;
}

/* The readable values under p (Read, Observe, Read-Composite). Returns 0 or a CoAP error
 * code: 4.04 when p does not exist, 4.05 when the model does not let it be read. */
static uint8_t read_values(const struct sim_tree *t, const struct lwm2m_path *p,
			   struct lwm2m_values *out)
{
	if (p->len == 0)
		return COAP_CODE_METHOD_NOT_ALLOWED;
	uint8_t code = check_exists(t, p);
	if (code)
		return code;
	/* The Security object is the Bootstrap-Server's alone (Core §E.1): the model gives
	 * its resources no operation, so the DM server may read none of them. */
	if (p->len >= 3 && !(sim_tree_resource_ops(p->ids[0], p->ids[2]) & MODEL_OP_R))
		return COAP_CODE_METHOD_NOT_ALLOWED;
	struct lwm2m_values all;
	lwm2m_values_init(&all);
	sim_tree_collect(t, p, &all);
	for (size_t i = 0; i < all.count; i++) {
		const struct lwm2m_value *v = &all.items[i];
		if ((sim_tree_resource_ops(v->path.ids[0], v->path.ids[2]) & MODEL_OP_R) &&
		    lwm2m_values_add(out, v) != 0)
			code = COAP_CODE_INTERNAL_SERVER_ERROR;
	}
	if (p->len < 3 && out->count == 0 && all.count > 0)
		code = COAP_CODE_METHOD_NOT_ALLOWED; /* e.g. /0: nothing readable */
	lwm2m_values_free(&all);
	return code;
}

/* Encodes values under base as a Read answer. accept -1 lets the device choose as Core
 * §7.4 prescribes: text/plain (opaque for an opaque value) for a single resource or
 * resource instance, TLV otherwise. Returns the length with *format set, or a negative
 * CoAP code (-4.06 when the format cannot carry these values). */
static int encode_read(const struct lwm2m_path *base, const struct lwm2m_values *vals,
		       int accept, int *format, uint8_t *out, size_t cap)
{
	int f = accept;
	if (f < 0) {
		bool single = base->len == 4 ||
			      (base->len == 3 && vals->count == 1 && vals->items[0].path.len == 3);
		f = !single ? CONTENT_TLV
		    : vals->count == 1 && vals->items[0].type == LWM2M_TYPE_OPAQUE ? CONTENT_OPAQUE
										     : CONTENT_TEXT;
	}
	if (f == CONTENT_LINK)
		return -COAP_CODE_NOT_ACCEPTABLE;
	/* text, opaque and CBOR carry exactly one value, of a resource (instance). */
	if ((f == CONTENT_TEXT || f == CONTENT_OPAQUE || f == CONTENT_CBOR) &&
	    (vals->count != 1 || base->len < 3 ||
	     (base->len == 3 && vals->items[0].path.len == 4)))
		return -COAP_CODE_NOT_ACCEPTABLE;
	int n = content_encode((uint16_t)f, base, vals, model_type_of, NULL, out, cap);
	if (n == -ENOBUFS)
		return -COAP_CODE_INTERNAL_SERVER_ERROR;
	if (n < 0)
		return -COAP_CODE_NOT_ACCEPTABLE;
	*format = f;
	return n;
}

/* Decodes a Write/Create payload under base. Returns 0 or a CoAP error code. */
static uint8_t decode_payload(const struct coap_msg *req, const struct lwm2m_path *base,
			      struct lwm2m_values *out)
{
	uint32_t ct;
	if (coap_msg_get_uint_option(req, COAP_OPTION_CONTENT_FORMAT, &ct) != 0)
		return COAP_CODE_BAD_REQUEST; /* a payload must say its format */
	if (ct == CONTENT_LINK || ct > 65535)
		return COAP_CODE_UNSUPPORTED_CONTENT_FORMAT;
	int rc = content_decode((uint16_t)ct, base, req->payload, req->payload_len,
				model_type_of, NULL, out);
	if (rc == -ENOTSUP)
		return COAP_CODE_UNSUPPORTED_CONTENT_FORMAT;
	if (rc == -E2BIG)
		return COAP_CODE_REQUEST_ENTITY_TOO_LARGE;
	return rc == 0 ? 0 : COAP_CODE_BAD_REQUEST;
}

/* Every value may be written: its instance exists, the model lets it be written (create
 * lets the server set read-only resources too). Returns 0 or a CoAP error code. */
static uint8_t check_writable(const struct sim_tree *t, const struct lwm2m_values *vals,
			      bool create)
{
	for (size_t i = 0; i < vals->count; i++) {
		const struct lwm2m_path *p = &vals->items[i].path;
		if (!create && !sim_tree_has_instance(t, p->ids[0], p->ids[1]))
			return COAP_CODE_NOT_FOUND;
		uint8_t ops = sim_tree_resource_ops(p->ids[0], p->ids[2]);
		if (ops == 0 && model_object(p->ids[0]) &&
		    !model_resource(model_object(p->ids[0]), p->ids[2]))
			return COAP_CODE_NOT_FOUND;
		if (ops & MODEL_OP_E)
			return COAP_CODE_METHOD_NOT_ALLOWED;
		if (!create && !(ops & MODEL_OP_W))
			return COAP_CODE_METHOD_NOT_ALLOWED;
	}
	return 0;
}

static uint8_t apply_values(struct sim_tree *t, const struct lwm2m_values *vals)
{
	for (size_t i = 0; i < vals->count; i++) {
		if (sim_tree_set(t, &vals->items[i]) != 0)
			return COAP_CODE_INTERNAL_SERVER_ERROR;
	}
	return 0;
}

/* Write (replace, PUT) of an instance, a resource or a resource instance (Core §6.3.3). */
static uint8_t do_write_replace(struct sim_tree *t, const struct coap_msg *req,
				const struct lwm2m_path *p)
{
	if (p->len < 2)
		return COAP_CODE_METHOD_NOT_ALLOWED; /* Write on an object: Bootstrap only */
	uint8_t code = check_exists(t, p);
	if (code == COAP_CODE_NOT_FOUND && p->len >= 3 &&
	    sim_tree_has_instance(t, p->ids[0], p->ids[1]) &&
	    (sim_tree_resource_ops(p->ids[0], p->ids[2]) & MODEL_OP_W))
		code = 0; /* writing a resource the instance has no value for yet */
	if (code)
		return code;
	struct lwm2m_values vals;
	lwm2m_values_init(&vals);
	if ((code = decode_payload(req, p, &vals)) == 0 && p->len >= 3 &&
	    !(sim_tree_resource_ops(p->ids[0], p->ids[2]) & MODEL_OP_W))
		code = COAP_CODE_METHOD_NOT_ALLOWED;
	if (code == 0)
		code = check_writable(t, &vals, false);
	if (code == 0) {
		if (p->len == 2) {
			/* Replace the instance: its writable resources not in the payload go. */
			struct lwm2m_values old;
			lwm2m_values_init(&old);
			sim_tree_collect(t, p, &old);
			for (size_t i = 0; i < old.count; i++) {
				struct lwm2m_path rp = old.items[i].path;
				rp.len = 3;
				if (sim_tree_resource_ops(rp.ids[0], rp.ids[2]) & MODEL_OP_W)
					sim_tree_remove(t, &rp);
			}
			lwm2m_values_free(&old);
		} else {
			sim_tree_remove(t, p);
		}
		code = apply_values(t, &vals);
	}
	lwm2m_values_free(&vals);
	return code ? code : COAP_CODE_CHANGED;
}

/* Write-Attributes (Core §6.3.4): PUT with only Uri-Query. */
static uint8_t do_write_attributes(struct sim_tree *t, const struct coap_msg *req,
				   const struct lwm2m_path *p)
{
	if (p->len == 0)
		return COAP_CODE_METHOD_NOT_ALLOWED;
	uint8_t code = check_exists(t, p);
	if (code)
		return code;
	/* Check all before applying any, so that a bad item changes nothing. */
	struct sim_tree copy_attrs;
	memcpy(copy_attrs.attrs, t->attrs, sizeof(t->attrs));
	copy_attrs.attr_count = t->attr_count;
	for (size_t i = 0; i < req->option_count; i++) {
		const struct coap_option *o = &req->options[i];
		if (o->number == COAP_OPTION_URI_QUERY &&
		    sim_tree_write_attr(&copy_attrs, p, (const char *)o->value, o->len) != 0)
			return COAP_CODE_BAD_REQUEST;
	}
	memcpy(t->attrs, copy_attrs.attrs, sizeof(t->attrs));
	t->attr_count = copy_attrs.attr_count;
	return COAP_CODE_CHANGED;
}

/* Create (Core §6.3.6): POST /obj with the new instance's values. */
static uint8_t do_create(struct sim_dm *dm, const struct coap_msg *req,
			 const struct lwm2m_path *p, struct coap_msg *resp, char scratch[64])
{
	struct sim_tree *t = dm->tree;
	if (!sim_tree_has_object(t, p->ids[0]))
		return COAP_CODE_NOT_FOUND;
	if (p->ids[0] == 0)
		return COAP_CODE_UNAUTHORIZED;
	const struct model_object *mo = model_object(p->ids[0]);
	struct lwm2m_values vals;
	lwm2m_values_init(&vals);
	/* Core §6.3.6: a TLV whose top level holds resources, not an Object Instance (type
	 * bits 00), names no instance: the device picks one. */
	uint32_t ct;
	struct lwm2m_path base = *p;
	if (req->payload_len && (req->payload[0] & 0xC0) != 0 &&
	    coap_msg_get_uint_option(req, COAP_OPTION_CONTENT_FORMAT, &ct) == 0 &&
	    ct == CONTENT_TLV)
		base = (struct lwm2m_path){ .len = 2,
					    .ids = { p->ids[0], sim_tree_free_instance(t, p->ids[0]) } };
	uint8_t code = req->payload_len ? decode_payload(req, &base, &vals) : 0;
	uint16_t inst = vals.count ? vals.items[0].path.ids[1]
				   : sim_tree_free_instance(t, p->ids[0]);
	for (size_t i = 0; code == 0 && i < vals.count; i++) {
		if (vals.items[i].path.ids[1] != inst)
			code = COAP_CODE_BAD_REQUEST; /* one instance per Create */
	}
	if (code == 0 && (sim_tree_has_instance(t, p->ids[0], inst) ||
			  (mo && !mo->multiple && sim_tree_free_instance(t, p->ids[0]) > 0)))
		code = COAP_CODE_BAD_REQUEST; /* Core §6.3.6: the instance exists */
	if (code == 0)
		code = check_writable(t, &vals, true);
	if (code == 0) {
		sim_tree_add_instance(t, p->ids[0], inst);
		code = apply_values(t, &vals);
	}
	lwm2m_values_free(&vals);
	if (code)
		return code;
	int n = snprintf(scratch, 64, "%u", p->ids[0]);
	snprintf(scratch + n + 1, 64 - (size_t)n - 1, "%u", inst);
	coap_msg_add_option(resp, COAP_OPTION_LOCATION_PATH, scratch, (size_t)n);
	coap_msg_add_option(resp, COAP_OPTION_LOCATION_PATH, scratch + n + 1,
			    strlen(scratch + n + 1));
	dm->links_changed = true;
	return COAP_CODE_CREATED;
}

/* Execute (Core §6.3.5): POST on a resource the model makes executable. */
static uint8_t do_execute(struct sim_dm *dm, const struct coap_msg *req,
			  const struct lwm2m_path *p)
{
	struct sim_tree *t = dm->tree;
	if (p->len != 3)
		return COAP_CODE_METHOD_NOT_ALLOWED;
	uint8_t code = check_exists(t, p);
	if (code)
		return code;
	if (!(sim_tree_resource_ops(p->ids[0], p->ids[2]) & MODEL_OP_E))
		return COAP_CODE_METHOD_NOT_ALLOWED;
	char ps[40];
	printf("executed %s args=<%.*s>\n", sim_path_str(p, ps), (int)req->payload_len,
	       req->payload ? (const char *)req->payload : "");
	if (p->ids[0] == 1 && p->ids[2] == 8)
		dm->update_requested = true; /* Registration Update Trigger */
	if (p->ids[0] == 3 && p->ids[2] == 12) {
		/* Reset Error Code: one instance, 0 (no error). */
		struct lwm2m_path ep = { .len = 3, .ids = { 3, p->ids[1], 11 } };
		sim_tree_remove(t, &ep);
		struct lwm2m_value v = { .path = { .len = 4, .ids = { 3, p->ids[1], 11, 0 } },
					 .type = LWM2M_TYPE_INTEGER };
		sim_tree_set(t, &v);
	}
	return COAP_CODE_CHANGED;
}

/* Delete (Core §6.3.7): instances only; the mandatory single instances stay. */
static uint8_t do_delete(struct sim_dm *dm, const struct lwm2m_path *p)
{
	if (p->len != 2)
		return COAP_CODE_METHOD_NOT_ALLOWED;
	uint8_t code = check_exists(dm->tree, p);
	if (code)
		return code;
	const struct model_object *mo = model_object(p->ids[0]);
	if (p->ids[0] == 0 || p->ids[0] == 1 || (mo && mo->mandatory && !mo->multiple))
		return COAP_CODE_METHOD_NOT_ALLOWED;
	sim_tree_remove_instance(dm->tree, p->ids[0], p->ids[1]);
	dm->links_changed = true;
	return COAP_CODE_DELETED;
}

/* The paths of a Read-/Observe-Composite request body: SenML records with "n" (and "bn"),
 * in JSON (110) or CBOR (112, labels 0 and -2). Returns the count or -1. */
static int composite_paths(const struct coap_msg *req, uint32_t ct, struct lwm2m_path *paths,
			   size_t max)
{
	json_t *doc = NULL;
	if (ct == CONTENT_SENML_JSON) {
		doc = json_loadb((const char *)req->payload, req->payload_len, 0, NULL);
	} else {
		long ok = content_cbor_check(req->payload, req->payload_len, 3);
		struct cbor_load_result r;
		cbor_item_t *item = ok == (long)req->payload_len
					    ? cbor_load(req->payload, req->payload_len, &r)
					    : NULL;
		if (item && cbor_isa_array(item) && cbor_array_is_definite(item)) {
			doc = json_array();
			for (size_t i = 0; i < cbor_array_size(item); i++) {
				cbor_item_t *rec = cbor_array_handle(item)[i];
				json_t *o = json_object();
				json_array_append_new(doc, o);
				if (!cbor_isa_map(rec) || !cbor_map_is_definite(rec))
					continue;
				struct cbor_pair *pairs = cbor_map_handle(rec);
				for (size_t k = 0; k < cbor_map_size(rec); k++) {
					cbor_item_t *key = pairs[k].key, *v = pairs[k].value;
					if (!cbor_isa_string(v) || !cbor_string_is_definite(v))
						continue;
					const char *name = NULL;
					if (cbor_isa_uint(key) && cbor_get_int(key) == 0)
						name = "n";
					if (cbor_isa_negint(key) && cbor_get_int(key) == 1)
						name = "bn";
					if (name)
						json_object_set_new(
							o, name,
							json_stringn((const char *)cbor_string_handle(v),
								     cbor_string_length(v)));
				}
			}
		}
		if (item)
			cbor_decref(&item);
	}
	int count = -1;
	if (json_is_array(doc) && json_array_size(doc) > 0 && json_array_size(doc) <= max) {
		char bn[64] = "";
		size_t i;
		json_t *rec;
		count = 0;
		json_array_foreach(doc, i, rec)
		{
			const char *b = json_string_value(json_object_get(rec, "bn"));
			const char *n = json_string_value(json_object_get(rec, "n"));
			if (b)
				snprintf(bn, sizeof(bn), "%s", b);
			char full[128];
			snprintf(full, sizeof(full), "%s%s", bn, n ? n : "");
			if (lwm2m_path_parse(full, strlen(full), &paths[count]) != 0) {
				count = -1;
				break;
			}
			count++;
		}
	}
	json_decref(doc);
	return count;
}

/* The values of a composite: every path's readable values (paths that do not exist are
 * left out, Core §6.3.8). */
static void composite_values(const struct sim_tree *t, const struct lwm2m_path *paths,
			     size_t count, struct lwm2m_values *out)
{
	for (size_t i = 0; i < count; i++) {
		struct lwm2m_values one;
		lwm2m_values_init(&one);
		if (read_values(t, &paths[i], &one) == 0) {
			for (size_t k = 0; k < one.count; k++)
				lwm2m_values_add(out, &one.items[k]);
		}
		lwm2m_values_free(&one);
	}
}

static struct sim_observation *obs_find(struct sim_dm *dm, const uint8_t *token, size_t len)
{
	for (int i = 0; i < SIM_DM_MAX_OBSERVATIONS; i++) {
		struct sim_observation *o = &dm->obs[i];
		if (o->used && o->token_len == len && memcmp(o->token, token, len) == 0)
			return o;
	}
	return NULL;
}

/* A single numeric value, for gt/lt/st. */
static bool numeric(const struct lwm2m_values *v, double *d)
{
	if (v->count != 1)
		return false;
	const struct lwm2m_value *x = &v->items[0];
	switch (x->type) {
	case LWM2M_TYPE_INTEGER: *d = (double)x->v.i; return true;
	case LWM2M_TYPE_UNSIGNED: *d = (double)x->v.u; return true;
	case LWM2M_TYPE_FLOAT: *d = x->v.f; return true;
	default: return false;
	}
}

/* Starts (or, for a known token, restarts) an observation whose first answer is payload. */
static void obs_start(struct sim_dm *dm, const struct coap_msg *req, bool composite,
		      const struct lwm2m_path *paths, size_t count, int format,
		      const struct lwm2m_values *vals, const uint8_t *payload, size_t len,
		      int64_t now_ms, struct coap_msg *resp)
{
	struct sim_observation *o = obs_find(dm, req->token, req->token_len);
	for (int i = 0; !o && i < SIM_DM_MAX_OBSERVATIONS; i++) {
		if (!dm->obs[i].used)
			o = &dm->obs[i];
	}
	if (!o || len > sizeof(o->last))
		return; /* full: answered as a plain Read (no Observe option) */
	memset(o, 0, sizeof(*o));
	o->used = true;
	memcpy(o->token, req->token, req->token_len);
	o->token_len = req->token_len;
	o->composite = composite;
	memcpy(o->paths, paths, count * sizeof(paths[0]));
	o->path_count = count;
	o->format = format;
	o->last_ms = now_ms;
	o->seq = 0;
	memcpy(o->last, payload, len);
	o->last_len = len;
	o->last_numeric = numeric(vals, &o->last_number);
	coap_msg_add_uint_option(resp, COAP_OPTION_OBSERVE, o->seq);
}

static void obs_stop(struct sim_dm *dm, struct sim_observation *o, const char *how)
{
	char ps[40];
	printf("cancelled observation %s by %s\n",
	       o->composite ? "(composite)" : sim_path_str(&o->paths[0], ps), how);
	o->used = false;
}

uint8_t sim_dm_handle(struct sim_dm *dm, const struct coap_msg *req, struct coap_msg *resp,
		      uint8_t *out, size_t cap, char scratch[64], int64_t now_ms)
{
	struct sim_tree *t = dm->tree;
	char path_str[64];
	struct lwm2m_path p;
	uint8_t code = 0;
	int format = -1, n = 0;
	uint32_t accept_u, observe = 2;
	int accept = coap_msg_get_uint_option(req, COAP_OPTION_ACCEPT, &accept_u) == 0
			     ? (int)accept_u
			     : -1;
	bool has_observe = coap_msg_get_uint_option(req, COAP_OPTION_OBSERVE, &observe) == 0;
	bool has_query = coap_msg_find_option(req, COAP_OPTION_URI_QUERY) != NULL;
	const char *what = method_name(req->code);
	struct lwm2m_values vals;
	lwm2m_values_init(&vals);
	if (coap_msg_get_path(req, path_str, sizeof(path_str)) < 0 ||
	    lwm2m_path_parse(path_str, strlen(path_str), &p) != 0) {
		code = COAP_CODE_NOT_FOUND;
		goto done;
	}
	if (p.len >= 1 && p.ids[0] == 0 && req->code != COAP_CODE_FETCH &&
	    req->code != COAP_CODE_IPATCH && check_exists(t, &p) == 0) {
		code = COAP_CODE_UNAUTHORIZED; /* Security: the Bootstrap-Server's alone */
		goto done;
	}
	switch (req->code) {
	case COAP_CODE_GET:
		if (accept == CONTENT_LINK) {
			what = "GET(discover)";
			n = sim_tree_discover(t, &p, (char *)out, cap);
			code = n >= 0		? COAP_CODE_CONTENT
			       : n == -ENOENT ? COAP_CODE_NOT_FOUND
			       : n == -EINVAL ? COAP_CODE_METHOD_NOT_ALLOWED
					      : COAP_CODE_INTERNAL_SERVER_ERROR;
			format = CONTENT_LINK;
			break;
		}
		if (has_observe && observe == 1) {
			struct sim_observation *o = obs_find(dm, req->token, req->token_len);
			if (o)
				obs_stop(dm, o, "GET Observe 1");
			has_observe = false;
		}
		if ((code = read_values(t, &p, &vals)) != 0)
			break;
		n = encode_read(&p, &vals, accept, &format, out, cap);
		if (n < 0) {
			code = (uint8_t)-n;
			break;
		}
		code = COAP_CODE_CONTENT;
		if (has_observe && observe == 0) {
			what = "GET(observe)";
			obs_start(dm, req, false, &p, 1, format, &vals, out, (size_t)n, now_ms,
				  resp);
		} else {
			for (int i = 0; i < 4 && dm->bad_content[i]; i++) {
				if (dm->bad_content[i] == format)
					n = bad_payload(format, out, cap);
			}
		}
		break;
	case COAP_CODE_PUT:
		if (req->payload_len == 0 && has_query) {
			what = "PUT(attributes)";
			code = do_write_attributes(t, req, &p);
		} else if (req->payload_len == 0) {
			code = COAP_CODE_BAD_REQUEST;
		} else {
			code = do_write_replace(t, req, &p);
		}
		break;
	case COAP_CODE_POST:
		if (p.len == 1) {
			what = "POST(create)";
			code = do_create(dm, req, &p, resp, scratch);
		} else if (p.len == 2) {
			what = "POST(update)";
			code = check_exists(t, &p);
			if (code == 0 && (code = decode_payload(req, &p, &vals)) == 0 &&
			    (code = check_writable(t, &vals, false)) == 0)
				code = apply_values(t, &vals);
			code = code ? code : COAP_CODE_CHANGED;
		} else {
			what = "POST(execute)";
			code = do_execute(dm, req, &p);
		}
		break;
	case COAP_CODE_DELETE:
		code = do_delete(dm, &p);
		break;
	case COAP_CODE_FETCH: {
		/* Read-Composite (Core §6.3.8) and Observe-Composite (§6.4.4). */
		uint32_t ct;
		struct lwm2m_path paths[SIM_DM_MAX_COMPOSITE];
		if (p.len != 0) {
			code = COAP_CODE_METHOD_NOT_ALLOWED;
			break;
		}
		if (coap_msg_get_uint_option(req, COAP_OPTION_CONTENT_FORMAT, &ct) != 0 ||
		    (ct != CONTENT_SENML_JSON && ct != CONTENT_SENML_CBOR)) {
			code = COAP_CODE_UNSUPPORTED_CONTENT_FORMAT;
			break;
		}
		int count = composite_paths(req, ct, paths, SIM_DM_MAX_COMPOSITE);
		if (count <= 0) {
			code = COAP_CODE_BAD_REQUEST;
			break;
		}
		format = accept >= 0 ? accept : (int)ct;
		if (format != CONTENT_SENML_JSON && format != CONTENT_SENML_CBOR) {
			code = COAP_CODE_NOT_ACCEPTABLE;
			break;
		}
		composite_values(t, paths, (size_t)count, &vals);
		if (has_observe && observe == 1) {
			struct sim_observation *o = obs_find(dm, req->token, req->token_len);
			if (o)
				obs_stop(dm, o, "FETCH Observe 1");
			has_observe = false;
		}
		struct lwm2m_path root = { .len = 0 };
		n = content_encode((uint16_t)format, &root, &vals, model_type_of, NULL, out, cap);
		if (n < 0) {
			code = COAP_CODE_INTERNAL_SERVER_ERROR;
			break;
		}
		code = COAP_CODE_CONTENT;
		if (has_observe && observe == 0) {
			what = "FETCH(observe)";
			obs_start(dm, req, true, paths, (size_t)count, format, &vals, out,
				  (size_t)n, now_ms, resp);
		}
		break;
	}
	case COAP_CODE_IPATCH: {
		/* Write-Composite (Core §6.3.9): all values or none. */
		uint32_t ct;
		if (p.len != 0) {
			code = COAP_CODE_METHOD_NOT_ALLOWED;
			break;
		}
		if (coap_msg_get_uint_option(req, COAP_OPTION_CONTENT_FORMAT, &ct) == 0 &&
		    ct != CONTENT_SENML_JSON && ct != CONTENT_SENML_CBOR) {
			code = COAP_CODE_UNSUPPORTED_CONTENT_FORMAT;
			break;
		}
		if ((code = decode_payload(req, &p, &vals)) == 0 &&
		    (code = check_writable(t, &vals, false)) == 0)
			code = apply_values(t, &vals);
		code = code ? code : COAP_CODE_CHANGED;
		break;
	}
	default:
		code = COAP_CODE_METHOD_NOT_ALLOWED;
	}
done:
	lwm2m_values_free(&vals);
	resp->code = code;
	if (COAP_CODE_CLASS(code) == 2 && format >= 0 && n > 0) {
		coap_msg_add_uint_option(resp, COAP_OPTION_CONTENT_FORMAT, (uint32_t)format);
		coap_msg_set_payload(resp, out, (size_t)n);
	} else if (COAP_CODE_CLASS(code) == 2 && format >= 0) {
		coap_msg_add_uint_option(resp, COAP_OPTION_CONTENT_FORMAT, (uint32_t)format);
	}
	char c[5];
	printf("answered %s %s %s", what, path_str, coap_code_format(code, c));
	if (COAP_CODE_CLASS(code) == 2 && format >= 0)
		printf(" ct=%d", format);
	printf("\n");
	return code;
}

void sim_dm_tick(struct sim_dm *dm, int64_t now_ms, sim_send_con_fn send, void *ctx)
{
	uint8_t out[SIM_DM_PAYLOAD_MAX];
	for (int i = 0; i < SIM_DM_MAX_OBSERVATIONS; i++) {
		struct sim_observation *o = &dm->obs[i];
		if (!o->used)
			continue;
		struct lwm2m_values vals;
		lwm2m_values_init(&vals);
		int n, format = o->format;
		struct lwm2m_path root = { .len = 0 };
		struct sim_attrs a = { 0 };
		if (o->composite) {
			composite_values(dm->tree, o->paths, o->path_count, &vals);
			n = content_encode((uint16_t)format, &root, &vals, model_type_of, NULL, out,
					   sizeof(out));
		} else {
			sim_tree_effective_attrs(dm->tree, &o->paths[0], &a);
			uint8_t code = read_values(dm->tree, &o->paths[0], &vals);
			n = code ? -1 : encode_read(&o->paths[0], &vals, format, &format, out,
						    sizeof(out));
		}
		double number = 0;
		bool is_num = n >= 0 && numeric(&vals, &number);
		lwm2m_values_free(&vals);
		if (n < 0)
			continue;
		bool changed = (size_t)n != o->last_len || memcmp(out, o->last, (size_t)n) != 0;
		/* Core §5.1.2: gt/lt notify when the value crosses them, st when it moved by
		 * at least st since the last notification. */
		if (changed && is_num && o->last_numeric &&
		    (a.set & ((1u << SIM_ATTR_GT) | (1u << SIM_ATTR_LT) | (1u << SIM_ATTR_ST)))) {
			bool cross = false;
			double old = o->last_number;
			if (a.set & (1u << SIM_ATTR_GT))
				cross |= (old <= a.value[SIM_ATTR_GT]) != (number <= a.value[SIM_ATTR_GT]);
			if (a.set & (1u << SIM_ATTR_LT))
				cross |= (old < a.value[SIM_ATTR_LT]) != (number < a.value[SIM_ATTR_LT]);
			if (a.set & (1u << SIM_ATTR_ST))
				cross |= fabs(number - old) >= a.value[SIM_ATTR_ST];
			changed = cross;
		}
		changed = changed || o->touched;
		int64_t since = now_ms - o->last_ms;
		bool pmin_ok = !(a.set & (1u << SIM_ATTR_PMIN)) ||
			       since >= (int64_t)(a.value[SIM_ATTR_PMIN] * 1000);
		bool pmax_due = (a.set & (1u << SIM_ATTR_PMAX)) && a.value[SIM_ATTR_PMAX] > 0 &&
				since >= (int64_t)(a.value[SIM_ATTR_PMAX] * 1000);
		if (!((changed && pmin_ok) || pmax_due))
			continue;
		struct coap_msg m;
		coap_msg_init(&m, COAP_TYPE_CON, COAP_CODE_CONTENT, 0, o->token, o->token_len);
		o->seq++;
		coap_msg_add_uint_option(&m, COAP_OPTION_OBSERVE, o->seq);
		coap_msg_add_uint_option(&m, COAP_OPTION_CONTENT_FORMAT, (uint32_t)format);
		coap_msg_set_payload(&m, out, (size_t)n);
		memcpy(o->last, out, (size_t)n);
		o->last_len = (size_t)n;
		o->last_ms = now_ms;
		o->touched = false;
		o->last_numeric = is_num;
		o->last_number = number;
		o->last_mid = send(ctx, &m);
		char ps[40];
		printf("notified %s seq=%u%s\n",
		       o->composite ? "(composite)" : sim_path_str(&o->paths[0], ps), o->seq,
		       changed ? "" : " (pmax)");
	}
}

void sim_dm_touch(struct sim_dm *dm, const struct lwm2m_path *p)
{
	for (int i = 0; i < SIM_DM_MAX_OBSERVATIONS; i++) {
		struct sim_observation *o = &dm->obs[i];
		for (size_t k = 0; o->used && k < o->path_count; k++) {
			const struct lwm2m_path *q = &o->paths[k];
			size_t common = q->len < p->len ? q->len : p->len;
			if (memcmp(q->ids, p->ids, common * sizeof(q->ids[0])) == 0)
				o->touched = true;
		}
	}
}

void sim_dm_on_rst(struct sim_dm *dm, uint16_t mid)
{
	for (int i = 0; i < SIM_DM_MAX_OBSERVATIONS; i++) {
		if (dm->obs[i].used && dm->obs[i].seq > 0 && dm->obs[i].last_mid == mid)
			obs_stop(dm, &dm->obs[i], "RST");
	}
}
