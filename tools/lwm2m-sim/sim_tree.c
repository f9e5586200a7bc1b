/*
 * sim_tree: the simulated device's object tree (see sim_tree.h).
 */
#include "sim_tree.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "model/model.h"

const char *const sim_attr_names[SIM_ATTR_COUNT] = { "pmin", "pmax", "gt", "lt",
						     "st",   "epmin", "epmax" };

const char *sim_path_str(const struct lwm2m_path *p, char buf[40])
{
	if (lwm2m_path_format(p, buf, 40) < 0)
		snprintf(buf, 40, "?");
	return buf;
}

static int path_cmp(const struct lwm2m_path *a, const struct lwm2m_path *b)
{
	for (uint8_t i = 0; i < a->len && i < b->len; i++) {
		if (a->ids[i] != b->ids[i])
			return a->ids[i] < b->ids[i] ? -1 : 1;
	}
	return a->len == b->len ? 0 : (a->len < b->len ? -1 : 1);
}

static int value_cmp(const void *a, const void *b)
{
	return path_cmp(&((const struct lwm2m_value *)a)->path,
			&((const struct lwm2m_value *)b)->path);
}

static struct lwm2m_path mkpath(uint8_t len, int a, int b, int c, int d)
{
	struct lwm2m_path p = { .len = len, .ids = { (uint16_t)a, (uint16_t)b, (uint16_t)c,
						      (uint16_t)d } };
	return p;
}

static int set_str(struct sim_tree *t, struct lwm2m_path p, uint8_t type, const void *s,
		   size_t len)
{
	struct lwm2m_value v = { .path = p, .type = type };
	v.v.bytes.data = (uint8_t *)s;
	v.v.bytes.len = len;
	return sim_tree_set(t, &v);
}

static int set_int(struct sim_tree *t, struct lwm2m_path p, uint8_t type, int64_t i)
{
	struct lwm2m_value v = { .path = p, .type = type };
	if (type == LWM2M_TYPE_BOOLEAN)
		v.v.b = i != 0;
	else
		v.v.i = i;
	return sim_tree_set(t, &v);
}

int sim_tree_init(struct sim_tree *t, const char *binding, unsigned lifetime)
{
	memset(t, 0, sizeof(*t));
	lwm2m_values_init(&t->values);
	static const uint8_t data0[] = { 1, 2, 3 };
	static const uint8_t data1[] = { 0xCA, 0xFE };
	const uint16_t inst[][2] = { { 0, 0 }, { 1, 0 }, { 3, 0 }, { 19, 0 }, { 19, 1 } };
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < sizeof(inst) / sizeof(inst[0]); i++)
		rc = sim_tree_add_instance(t, inst[i][0], inst[i][1]);
	const char *uri = "coap://127.0.0.1:5683";
	/* Security /0/0: the server account (not readable by the DM server). */
	rc = rc ? rc : set_str(t, mkpath(3, 0, 0, 0, 0), LWM2M_TYPE_STRING, uri, strlen(uri));
	rc = rc ? rc : set_int(t, mkpath(3, 0, 0, 1, 0), LWM2M_TYPE_BOOLEAN, 0);
	rc = rc ? rc : set_int(t, mkpath(3, 0, 0, 2, 0), LWM2M_TYPE_INTEGER, 3);
	rc = rc ? rc : set_int(t, mkpath(3, 0, 0, 10, 0), LWM2M_TYPE_INTEGER, 1);
	/* Server /1/0. */
	rc = rc ? rc : set_int(t, mkpath(3, 1, 0, 0, 0), LWM2M_TYPE_INTEGER, 1);
	rc = rc ? rc : set_int(t, mkpath(3, 1, 0, 1, 0), LWM2M_TYPE_INTEGER, lifetime);
	rc = rc ? rc : set_int(t, mkpath(3, 1, 0, 6, 0), LWM2M_TYPE_BOOLEAN, 0);
	rc = rc ? rc : set_str(t, mkpath(3, 1, 0, 7, 0), LWM2M_TYPE_STRING, binding,
			       strlen(binding));
	/* Device /3/0. Manufacturer and battery keep the values older tests expect. */
	static const struct {
		uint16_t res;
		const char *s;
	} strs[] = { { 0, "lwm2md simulator" }, { 1, "lwm2m-sim" }, { 2, "SIM-0001" },
		     { 3, "1.0.0" } };
	for (size_t i = 0; rc == 0 && i < sizeof(strs) / sizeof(strs[0]); i++)
		rc = set_str(t, mkpath(3, 3, 0, strs[i].res, 0), LWM2M_TYPE_STRING, strs[i].s,
			     strlen(strs[i].s));
	rc = rc ? rc : set_int(t, mkpath(4, 3, 0, 6, 0), LWM2M_TYPE_INTEGER, 1);
	rc = rc ? rc : set_int(t, mkpath(4, 3, 0, 6, 1), LWM2M_TYPE_INTEGER, 5);
	rc = rc ? rc : set_int(t, mkpath(4, 3, 0, 7, 0), LWM2M_TYPE_INTEGER, 3800);
	rc = rc ? rc : set_int(t, mkpath(4, 3, 0, 7, 1), LWM2M_TYPE_INTEGER, 5000);
	rc = rc ? rc : set_int(t, mkpath(3, 3, 0, 9, 0), LWM2M_TYPE_INTEGER, 87);
	rc = rc ? rc : set_int(t, mkpath(3, 3, 0, 10, 0), LWM2M_TYPE_INTEGER, 15);
	rc = rc ? rc : set_int(t, mkpath(4, 3, 0, 11, 0), LWM2M_TYPE_INTEGER, 0);
	rc = rc ? rc : set_int(t, mkpath(3, 3, 0, 13, 0), LWM2M_TYPE_TIME, (int64_t)time(NULL));
	rc = rc ? rc : set_str(t, mkpath(3, 3, 0, 16, 0), LWM2M_TYPE_STRING, binding,
			       strlen(binding));
	/* BinaryAppDataContainer /19/0 and /19/1: resource 0 is multi-instance opaque. */
	rc = rc ? rc : set_str(t, mkpath(4, 19, 0, 0, 0), LWM2M_TYPE_OPAQUE, data0, sizeof(data0));
	rc = rc ? rc : set_str(t, mkpath(4, 19, 1, 0, 0), LWM2M_TYPE_OPAQUE, data1, sizeof(data1));
	return rc;
}

void sim_tree_free(struct sim_tree *t)
{
	lwm2m_values_free(&t->values);
}

/* The type of an untyped value: what the decoder chose (it never leaves NONE). */
int sim_tree_load_senml(struct sim_tree *t, const uint8_t *doc, size_t len, char *err,
			size_t err_cap)
{
	struct lwm2m_values vals;
	struct lwm2m_path root = { .len = 0 };
	lwm2m_values_init(&vals);
	int rc = content_senml_json_decode(&root, doc, len, model_type_of, NULL, &vals);
	if (rc != 0) {
		snprintf(err, err_cap, "not a SenML JSON document of LwM2M values (%s)",
			 strerror(-rc));
		goto out;
	}
	for (size_t i = 0; i < vals.count; i++) {
		const struct lwm2m_value *v = &vals.items[i];
		char p[40];
		if (!sim_tree_has_instance(t, v->path.ids[0], v->path.ids[1]) &&
		    (rc = sim_tree_add_instance(t, v->path.ids[0], v->path.ids[1])) != 0) {
			snprintf(err, err_cap, "%s: too many instances", sim_path_str(&v->path, p));
			goto out;
		}
		if ((rc = sim_tree_set(t, v)) != 0) {
			snprintf(err, err_cap, "%s: %s", sim_path_str(&v->path, p), strerror(-rc));
			goto out;
		}
	}
out:
	lwm2m_values_free(&vals);
	return rc;
}

bool sim_tree_has_object(const struct sim_tree *t, uint16_t obj)
{
	for (size_t i = 0; i < t->object_count; i++) {
		if (t->objects[i] == obj)
			return true;
	}
	return false;
}

bool sim_tree_has_instance(const struct sim_tree *t, uint16_t obj, uint16_t inst)
{
	for (size_t i = 0; i < t->instance_count; i++) {
		if (t->instances[i].obj == obj && t->instances[i].inst == inst)
			return true;
	}
	return false;
}

int sim_tree_add_instance(struct sim_tree *t, uint16_t obj, uint16_t inst)
{
	if (sim_tree_has_instance(t, obj, inst))
		return -EEXIST;
	if (t->instance_count == SIM_TREE_MAX_INSTANCES)
		return -ENOSPC;
	if (!sim_tree_has_object(t, obj)) {
		if (t->object_count == SIM_TREE_MAX_OBJECTS)
			return -ENOSPC;
		t->objects[t->object_count++] = obj;
	}
	/* Keep instances sorted, so that links and Discover list them in order. */
	size_t at = t->instance_count;
	while (at > 0 && (t->instances[at - 1].obj > obj ||
			  (t->instances[at - 1].obj == obj && t->instances[at - 1].inst > inst))) {
		t->instances[at] = t->instances[at - 1];
		at--;
	}
	t->instances[at].obj = obj;
	t->instances[at].inst = inst;
	t->instance_count++;
	return 0;
}

int sim_tree_remove_instance(struct sim_tree *t, uint16_t obj, uint16_t inst)
{
	for (size_t i = 0; i < t->instance_count; i++) {
		if (t->instances[i].obj == obj && t->instances[i].inst == inst) {
			memmove(&t->instances[i], &t->instances[i + 1],
				(t->instance_count - i - 1) * sizeof(t->instances[0]));
			t->instance_count--;
			struct lwm2m_path p = mkpath(2, obj, inst, 0, 0);
			sim_tree_remove(t, &p);
			return 0;
		}
	}
	return -ENOENT;
}

uint16_t sim_tree_free_instance(const struct sim_tree *t, uint16_t obj)
{
	uint16_t id = 0;
	while (sim_tree_has_instance(t, obj, id))
		id++;
	return id;
}

bool sim_tree_has_resource(const struct sim_tree *t, uint16_t obj, uint16_t inst, uint16_t res)
{
	struct lwm2m_path p = mkpath(3, obj, inst, res, 0);
	for (size_t i = 0; i < t->values.count; i++) {
		if (lwm2m_path_under(&t->values.items[i].path, &p))
			return true;
	}
	return false;
}

uint8_t sim_tree_resource_ops(uint16_t obj, uint16_t res)
{
	const struct model_object *o = model_object(obj);
	if (!o)
		return MODEL_OP_R | MODEL_OP_W;
	const struct model_resource *r = model_resource(o, res);
	return r ? r->ops : 0;
}

int sim_tree_collect(const struct sim_tree *t, const struct lwm2m_path *base,
		     struct lwm2m_values *out)
{
	for (size_t i = 0; i < t->values.count; i++) {
		if (!lwm2m_path_under(&t->values.items[i].path, base))
			continue;
		int rc = lwm2m_values_add(out, &t->values.items[i]);
		if (rc)
			return rc;
	}
	return 0;
}

/* Removes the values i with pred(i) true, freeing their bytes. */
static void remove_where(struct sim_tree *t, const struct lwm2m_path *p, bool exact_or_below,
			 bool also_parent)
{
	size_t keep = 0;
	for (size_t i = 0; i < t->values.count; i++) {
		struct lwm2m_value *v = &t->values.items[i];
		bool drop = exact_or_below ? lwm2m_path_under(&v->path, p) : false;
		/* A resource instance replaces the single value of its resource. */
		if (also_parent && p->len == 4 && v->path.len == 3 &&
		    lwm2m_path_under(p, &v->path))
			drop = true;
		if (drop) {
			if (v->type == LWM2M_TYPE_STRING || v->type == LWM2M_TYPE_OPAQUE ||
			    v->type == LWM2M_TYPE_CORELNK)
				free(v->v.bytes.data);
			continue;
		}
		t->values.items[keep++] = *v;
	}
	t->values.count = keep;
}

void sim_tree_remove(struct sim_tree *t, const struct lwm2m_path *base)
{
	remove_where(t, base, true, false);
}

int sim_tree_set(struct sim_tree *t, const struct lwm2m_value *v)
{
	if (v->path.len < 3 || !sim_tree_has_instance(t, v->path.ids[0], v->path.ids[1]))
		return -ENOENT;
	remove_where(t, &v->path, true, true);
	int rc = lwm2m_values_add(&t->values, v);
	if (rc)
		return rc;
	t->values.items[t->values.count - 1].has_time = false;
	qsort(t->values.items, t->values.count, sizeof(t->values.items[0]), value_cmp);
	return 0;
}

const struct sim_attrs *sim_tree_attrs(const struct sim_tree *t, const struct lwm2m_path *p)
{
	for (size_t i = 0; i < t->attr_count; i++) {
		if (path_cmp(&t->attrs[i].path, p) == 0)
			return &t->attrs[i];
	}
	return NULL;
}

void sim_tree_effective_attrs(const struct sim_tree *t, const struct lwm2m_path *p,
			      struct sim_attrs *out)
{
	memset(out, 0, sizeof(*out));
	out->path = *p;
	for (int len = p->len; len >= 1; len--) {
		struct lwm2m_path q = *p;
		q.len = (uint8_t)len;
		const struct sim_attrs *a = sim_tree_attrs(t, &q);
		for (int i = 0; a && i < SIM_ATTR_COUNT; i++) {
			if ((a->set & (1u << i)) && !(out->set & (1u << i))) {
				out->set |= (uint8_t)(1u << i);
				out->value[i] = a->value[i];
			}
		}
	}
}

int sim_tree_write_attr(struct sim_tree *t, const struct lwm2m_path *p, const char *item,
			size_t len)
{
	char buf[64];
	if (len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, item, len);
	buf[len] = '\0';
	char *eq = strchr(buf, '=');
	if (eq)
		*eq = '\0';
	int which = -1;
	for (int i = 0; i < SIM_ATTR_COUNT; i++) {
		if (strcmp(buf, sim_attr_names[i]) == 0)
			which = i;
	}
	if (which < 0)
		return -EINVAL;
	double value = 0;
	if (eq) {
		char *end;
		value = strtod(eq + 1, &end);
		bool signed_ok = which == SIM_ATTR_GT || which == SIM_ATTR_LT;
		if (!eq[1] || *end || !isfinite(value) || (value < 0 && !signed_ok))
			return -EINVAL;
	}
	struct sim_attrs *a = (struct sim_attrs *)sim_tree_attrs(t, p);
	if (!a) {
		if (!eq)
			return 0; /* clearing what was never set */
		if (t->attr_count == SIM_TREE_MAX_ATTRS)
			return -ENOSPC;
		a = &t->attrs[t->attr_count++];
		memset(a, 0, sizeof(*a));
		a->path = *p;
	}
	if (eq) {
		a->set |= (uint8_t)(1u << which);
		a->value[which] = value;
	} else {
		a->set &= (uint8_t)~(1u << which);
	}
	return 0;
}

/* snprintf at buf + *used; on overflow *used becomes cap (the caller checks). */
static void append(char *buf, size_t cap, size_t *used, const char *fmt, ...)
{
	if (*used >= cap)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf + *used, cap - *used, fmt, ap);
	va_end(ap);
	*used = n < 0 || (size_t)n >= cap - *used ? cap : *used + (size_t)n;
}

void sim_tree_format_attrs(const struct sim_tree *t, const struct lwm2m_path *p, char *buf,
			   size_t cap, size_t *used)
{
	const struct sim_attrs *a = sim_tree_attrs(t, p);
	for (int i = 0; a && i < SIM_ATTR_COUNT; i++) {
		if (a->set & (1u << i))
			append(buf, cap, used, ";%s=%g", sim_attr_names[i], a->value[i]);
	}
}

int sim_tree_links(const struct sim_tree *t, char *buf, size_t cap)
{
	size_t used = 0;
	char p[40];
	int n = snprintf(buf, cap, "</>;rt=\"oma.lwm2m\";ct=110");
	if (n < 0 || (size_t)n >= cap)
		return -ENOBUFS;
	used = (size_t)n;
	for (size_t o = 0; o < t->object_count; o++) {
		uint16_t obj = t->objects[o];
		if (obj == 0)
			continue;
		bool any = false;
		for (size_t i = 0; i < t->instance_count; i++) {
			if (t->instances[i].obj != obj)
				continue;
			struct lwm2m_path ip = mkpath(2, obj, t->instances[i].inst, 0, 0);
			n = snprintf(buf + used, cap - used, ",<%s>", sim_path_str(&ip, p));
			if (n < 0 || (size_t)n >= cap - used)
				return -ENOBUFS;
			used += (size_t)n;
			any = true;
		}
		if (!any) {
			n = snprintf(buf + used, cap - used, ",</%u>", obj);
			if (n < 0 || (size_t)n >= cap - used)
				return -ENOBUFS;
			used += (size_t)n;
		}
	}
	return (int)used;
}

/* One resource of an instance in a Discover answer: "</3/0/6>;dim=2" and its attributes,
 * then (LwM2M 1.1) its resource instances when deep is set. */
static void discover_resource(const struct sim_tree *t, const struct lwm2m_path *rp, bool deep,
			      char *buf, size_t cap, size_t *used)
{
	char p[40];
	size_t dim = 0;
	bool multiple = false;
	model_type_of(NULL, rp->ids[0], rp->ids[2], &multiple);
	for (size_t i = 0; i < t->values.count; i++) {
		const struct lwm2m_value *v = &t->values.items[i];
		if (v->path.len == 4 && lwm2m_path_under(&v->path, rp)) {
			dim++;
			multiple = true;
		}
	}
	append(buf, cap, used, "%s<%s>", *used ? "," : "", sim_path_str(rp, p));
	if (multiple)
		append(buf, cap, used, ";dim=%zu", dim);
	sim_tree_format_attrs(t, rp, buf, cap, used);
	for (size_t i = 0; deep && i < t->values.count; i++) {
		const struct lwm2m_value *v = &t->values.items[i];
		if (v->path.len == 4 && lwm2m_path_under(&v->path, rp)) {
			append(buf, cap, used, ",<%s>", sim_path_str(&v->path, p));
			sim_tree_format_attrs(t, &v->path, buf, cap, used);
		}
	}
}

/* The resources an instance has, in id order: those with values, and the model's
 * executable ones. */
static void discover_instance(const struct sim_tree *t, uint16_t obj, uint16_t inst,
			      char *buf, size_t cap, size_t *used)
{
	const struct model_object *mo = model_object(obj);
	for (uint32_t res = 0; res <= LWM2M_ID_MAX; res++) {
		bool has = sim_tree_has_resource(t, obj, inst, (uint16_t)res);
		const struct model_resource *mr = mo ? model_resource(mo, (uint16_t)res) : NULL;
		if (!has && !(mr && (mr->ops & MODEL_OP_E)))
			continue;
		struct lwm2m_path rp = mkpath(3, obj, inst, (int)res, 0);
		discover_resource(t, &rp, false, buf, cap, used);
		/* Past the model's ids and the values', nothing more can come. */
		if (res > 64 && !has) {
			bool later = false;
			for (size_t i = 0; i < t->values.count; i++) {
				const struct lwm2m_path *vp = &t->values.items[i].path;
				if (vp->ids[0] == obj && vp->ids[1] == inst && vp->ids[2] > res)
					later = true;
			}
			if (!later)
				break;
		}
	}
}

int sim_tree_discover(const struct sim_tree *t, const struct lwm2m_path *p, char *buf,
		      size_t cap)
{
	size_t used = 0;
	char s[40];
	if (p->len == 0 || !sim_tree_has_object(t, p->ids[0]))
		return -ENOENT;
	if (p->len >= 2 && !sim_tree_has_instance(t, p->ids[0], p->ids[1]))
		return -ENOENT;
	if (p->len == 1) {
		const struct model_object *mo = model_object(p->ids[0]);
		append(buf, cap, &used, "<%s>", sim_path_str(p, s));
		if (mo && strcmp(mo->version, "1.0") != 0)
			append(buf, cap, &used, ";ver=%s", mo->version);
		sim_tree_format_attrs(t, p, buf, cap, &used);
		for (size_t i = 0; i < t->instance_count; i++) {
			if (t->instances[i].obj != p->ids[0])
				continue;
			struct lwm2m_path ip = mkpath(2, p->ids[0], t->instances[i].inst, 0, 0);
			append(buf, cap, &used, ",<%s>", sim_path_str(&ip, s));
			sim_tree_format_attrs(t, &ip, buf, cap, &used);
			discover_instance(t, p->ids[0], t->instances[i].inst, buf, cap, &used);
		}
	} else if (p->len == 2) {
		append(buf, cap, &used, "<%s>", sim_path_str(p, s));
		sim_tree_format_attrs(t, p, buf, cap, &used);
		discover_instance(t, p->ids[0], p->ids[1], buf, cap, &used);
	} else if (p->len == 3) {
		const struct model_resource *mr =
			model_resource(model_object(p->ids[0]), p->ids[2]);
		if (!sim_tree_has_resource(t, p->ids[0], p->ids[1], p->ids[2]) &&
		    !(mr && (mr->ops & MODEL_OP_E)))
			return -ENOENT;
		discover_resource(t, p, true, buf, cap, &used);
	} else {
		return -EINVAL; /* Core §6.3.2: Discover stops at resources */
	}
	return used >= cap ? -ENOBUFS : (int)used;
}

int sim_tree_parse_change(const char *arg, struct lwm2m_value *out, int *at_ms)
{
	const char *eq = strchr(arg, '='), *at = strrchr(arg, '@');
	struct lwm2m_path p;
	if (!eq || !at || at < eq || lwm2m_path_parse(arg, (size_t)(eq - arg), &p) != 0 ||
	    p.len < 3)
		return -1;
	struct lwm2m_values v;
	lwm2m_values_init(&v);
	int rc = content_text_decode(&p, (const uint8_t *)eq + 1, (size_t)(at - eq - 1),
				     model_type_of, NULL, &v);
	if (rc == 0 && v.count == 1) {
		*out = v.items[0]; /* takes over the bytes */
		free(v.items);
	} else {
		lwm2m_values_free(&v);
		return -1;
	}
	*at_ms = atoi(at + 1);
	return 0;
}

int sim_tree_load_file(struct sim_tree *t, const char *path)
{
	static uint8_t doc[65536];
	FILE *f = fopen(path, "rb");
	if (!f) {
		perror("lwm2m-sim: --tree");
		return -1;
	}
	size_t n = fread(doc, 1, sizeof(doc), f);
	fclose(f);
	char err[128];
	if (n == sizeof(doc) || sim_tree_load_senml(t, doc, n, err, sizeof(err)) != 0) {
		fprintf(stderr, "lwm2m-sim: --tree %s: %s\n", path,
			n == sizeof(doc) ? "over 64 KiB" : err);
		return -1;
	}
	return 0;
}
