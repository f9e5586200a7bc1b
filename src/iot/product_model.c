/*
 * product_model: service_capabilities validation and value checks.
 */
#include "iot/product_model.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	if (err && errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* Writes the place of a nested item ("service_capabilities[0].properties[2]"); a place
 * too long for the buffer is cut short, which only shortens an error text. */
static void place(char *buf, size_t cap, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, cap, fmt, ap);
	va_end(ap);
}

static const char *const data_types[] = {
	"int", "long", "decimal", "string", "DateTime", "jsonObject", "enum", "boolean",
	"string list",
};

static bool known_type(const char *t)
{
	for (size_t i = 0; i < sizeof(data_types) / sizeof(data_types[0]); i++)
		if (strcmp(data_types[i], t) == 0)
			return true;
	return false;
}

static bool is_numeric_type(const char *t)
{
	return strcmp(t, "int") == 0 || strcmp(t, "long") == 0 || strcmp(t, "decimal") == 0;
}

/* A number given as a JSON number or a numeric string (IoTDA writes "0"). */
static bool number_of(const json_t *v, double *out)
{
	if (json_is_number(v)) {
		*out = json_number_value(v);
		return true;
	}
	const char *s = json_string_value(v);
	if (!s || !*s)
		return false;
	char *end;
	double d = strtod(s, &end);
	if (*end || !isfinite(d))
		return false;
	*out = d;
	return true;
}

/* A name field: a non-empty string of at most 64 characters. */
static int check_name(const json_t *obj, const char *key, const char *where, char *err,
		      size_t errlen)
{
	const json_t *v = json_object_get(obj, key);
	if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > 64)
		return fail(err, errlen, "%s.%s: must be a string of 1-64 characters", where, key);
	return 0;
}

static int check_optional_string(const json_t *obj, const char *key, const char *where,
				 size_t max, char *err, size_t errlen)
{
	const json_t *v = json_object_get(obj, key);
	if (v && !json_is_null(v) && (!json_is_string(v) || json_string_length(v) > max))
		return fail(err, errlen, "%s.%s: must be a string of at most %zu characters", where,
			    key, max);
	return 0;
}

/* One property (or para) definition. */
static int check_definition(const json_t *def, const char *name_key, const char *where,
			    char *err, size_t errlen)
{
	if (!json_is_object(def))
		return fail(err, errlen, "%s: must be an object", where);
	int rc = check_name(def, name_key, where, err, errlen);
	if (rc)
		return rc;
	const char *type = json_string_value(json_object_get(def, "data_type"));
	if (!type || !known_type(type))
		return fail(err, errlen,
			    "%s.data_type: must be one of int, long, decimal, string, DateTime, "
			    "jsonObject, enum, boolean, string list",
			    where);
	const json_t *req = json_object_get(def, "required");
	if (req && !json_is_boolean(req))
		return fail(err, errlen, "%s.required: must be true or false", where);
	double min = 0, max = 0;
	const json_t *jmin = json_object_get(def, "min"), *jmax = json_object_get(def, "max");
	bool has_min = jmin && !json_is_null(jmin), has_max = jmax && !json_is_null(jmax);
	if (has_min && !number_of(jmin, &min))
		return fail(err, errlen, "%s.min: must be a number", where);
	if (has_max && !number_of(jmax, &max))
		return fail(err, errlen, "%s.max: must be a number", where);
	if (has_min && has_max && min > max)
		return fail(err, errlen, "%s: min is greater than max", where);
	if ((has_min || has_max) && !is_numeric_type(type))
		return fail(err, errlen, "%s: min and max apply to int, long and decimal only", where);
	const json_t *step = json_object_get(def, "step");
	double s;
	if (step && !json_is_null(step) && (!number_of(step, &s) || s < 0))
		return fail(err, errlen, "%s.step: must be a number >= 0", where);
	const json_t *ml = json_object_get(def, "max_length");
	if (ml && !json_is_null(ml) &&
	    (!json_is_integer(ml) || json_integer_value(ml) < 0 || json_integer_value(ml) > 1048576))
		return fail(err, errlen, "%s.max_length: must be an integer 0-1048576", where);
	const json_t *list = json_object_get(def, "enum_list");
	if (strcmp(type, "enum") == 0) {
		if (!json_is_array(list) || json_array_size(list) == 0)
			return fail(err, errlen, "%s.enum_list: an enum needs a non-empty list", where);
		size_t i;
		const json_t *e;
		json_array_foreach(list, i, e) {
			if (!json_is_string(e))
				return fail(err, errlen, "%s.enum_list[%zu]: must be a string", where, i);
		}
	} else if (list && !json_is_null(list) && !json_is_array(list)) {
		return fail(err, errlen, "%s.enum_list: must be an array or null", where);
	}
	const char *method = json_string_value(json_object_get(def, "method"));
	if (json_object_get(def, "method") && !json_is_null(json_object_get(def, "method")) &&
	    (!method || !*method || strspn(method, "RWE") != strlen(method)))
		return fail(err, errlen, "%s.method: must be letters of R, W, E (e.g. \"RW\")", where);
	if ((rc = check_optional_string(def, "unit", where, 64, err, errlen)) ||
	    (rc = check_optional_string(def, "description", where, 1024, err, errlen)))
		return rc;
	const json_t *dflt = json_object_get(def, "default_value");
	if (dflt && !json_is_null(dflt)) {
		char w[160];
		place(w, sizeof(w), "%s.default_value", where);
		return product_model_check_value(def, dflt, w, err, errlen);
	}
	return 0;
}

/* An array of definitions with unique names. */
static int check_list(const json_t *list, const char *key, const char *name_key,
		      const char *where, bool required, char *err, size_t errlen)
{
	if (!list || json_is_null(list)) {
		if (required)
			return fail(err, errlen, "%s.%s: required", where, key);
		return 0;
	}
	if (!json_is_array(list) || json_array_size(list) > PRODUCT_MODEL_MAX_ITEMS)
		return fail(err, errlen, "%s.%s: must be an array of at most %d", where, key,
			    PRODUCT_MODEL_MAX_ITEMS);
	size_t i;
	const json_t *item;
	json_array_foreach(list, i, item) {
		char w[160];
		place(w, sizeof(w), "%s.%s[%zu]", where, key, i);
		int rc = check_definition(item, name_key, w, err, errlen);
		if (rc)
			return rc;
		const char *name = json_string_value(json_object_get(item, name_key));
		for (size_t j = 0; j < i; j++) {
			const char *other = json_string_value(
				json_object_get(json_array_get(list, j), name_key));
			if (strcmp(name, other) == 0)
				return fail(err, errlen, "%s.%s: \"%s\" is defined twice", w, name_key,
					    name);
		}
	}
	return 0;
}

static int check_command(const json_t *cmd, const char *where, char *err, size_t errlen)
{
	if (!json_is_object(cmd))
		return fail(err, errlen, "%s: must be an object", where);
	int rc = check_name(cmd, "command_name", where, err, errlen);
	if (rc)
		return rc;
	/* "$properties" and its kind are the platform's own (desired-shadow delivery). */
	if (json_string_value(json_object_get(cmd, "command_name"))[0] == '$')
		return fail(err, errlen, "%s.command_name: names starting with $ are reserved",
			    where);
	if ((rc = check_list(json_object_get(cmd, "paras"), "paras", "para_name", where,
				   false, err, errlen)))
		return rc;
	const json_t *responses = json_object_get(cmd, "responses");
	if (!responses || json_is_null(responses))
		return 0;
	if (!json_is_array(responses) || json_array_size(responses) > PRODUCT_MODEL_MAX_ITEMS)
		return fail(err, errlen, "%s.responses: must be an array", where);
	size_t i;
	const json_t *r;
	json_array_foreach(responses, i, r) {
		char w[200];
		place(w, sizeof(w), "%s.responses[%zu]", where, i);
		if (!json_is_object(r))
			return fail(err, errlen, "%s: must be an object", w);
		if ((rc = check_name(r, "response_name", w, err, errlen)) ||
		    (rc = check_list(json_object_get(r, "paras"), "paras", "para_name", w, false, err,
				     errlen)))
			return rc;
	}
	return 0;
}

int product_model_check(const json_t *caps, char *err, size_t errlen)
{
	if (!json_is_array(caps) || json_array_size(caps) > PRODUCT_MODEL_MAX_SERVICES)
		return fail(err, errlen, "service_capabilities: must be an array of at most %d services",
			    PRODUCT_MODEL_MAX_SERVICES);
	size_t i;
	const json_t *svc;
	json_array_foreach(caps, i, svc) {
		char w[64];
		place(w, sizeof(w), "service_capabilities[%zu]", i);
		if (!json_is_object(svc))
			return fail(err, errlen, "%s: must be an object", w);
		int rc = check_name(svc, "service_id", w, err, errlen);
		if (rc)
			return rc;
		const char *id = json_string_value(json_object_get(svc, "service_id"));
		for (size_t j = 0; j < i; j++) {
			if (strcmp(id, json_string_value(json_object_get(json_array_get(caps, j),
									 "service_id"))) == 0)
				return fail(err, errlen, "%s.service_id: \"%s\" is defined twice", w, id);
		}
		const char *option = json_string_value(json_object_get(svc, "option"));
		if (json_object_get(svc, "option") &&
		    (!option || (strcmp(option, "Master") && strcmp(option, "Mandatory") &&
				 strcmp(option, "Optional"))))
			return fail(err, errlen, "%s.option: must be Master, Mandatory or Optional", w);
		if ((rc = check_optional_string(svc, "service_type", w, 64, err, errlen)) ||
		    (rc = check_optional_string(svc, "description", w, 1024, err, errlen)) ||
		    (rc = check_list(json_object_get(svc, "properties"), "properties",
				     "property_name", w, false, err, errlen)))
			return rc;
		const json_t *cmds = json_object_get(svc, "commands");
		if (cmds && !json_is_null(cmds)) {
			if (!json_is_array(cmds) || json_array_size(cmds) > PRODUCT_MODEL_MAX_ITEMS)
				return fail(err, errlen, "%s.commands: must be an array", w);
			size_t k;
			const json_t *cmd;
			json_array_foreach(cmds, k, cmd) {
				char cw[100];
				place(cw, sizeof(cw), "%s.commands[%zu]", w, k);
				if ((rc = check_command(cmd, cw, err, errlen)))
					return rc;
				const char *name = json_string_value(json_object_get(cmd, "command_name"));
				for (size_t j = 0; j < k; j++) {
					if (strcmp(name, json_string_value(json_object_get(
								 json_array_get(cmds, j), "command_name"))) == 0)
						return fail(err, errlen,
							    "%s.command_name: \"%s\" is defined twice", cw,
							    name);
				}
			}
		}
	}
	return 0;
}

static const json_t *find_named(const json_t *list, const char *key, const char *name)
{
	size_t i;
	const json_t *item;
	json_array_foreach(list, i, item) {
		const char *n = json_string_value(json_object_get(item, key));
		if (n && strcmp(n, name) == 0)
			return item;
	}
	return NULL;
}

const json_t *product_model_service(const json_t *caps, const char *service_id)
{
	return find_named(caps, "service_id", service_id);
}

const json_t *product_model_command(const json_t *service, const char *command_name)
{
	return find_named(json_object_get(service, "commands"), "command_name", command_name);
}

const json_t *product_model_property(const json_t *service, const char *property_name)
{
	return find_named(json_object_get(service, "properties"), "property_name", property_name);
}

/* yyyyMMdd'T'HHmmss'Z' */
static bool is_datetime(const char *s)
{
	if (strlen(s) != 16 || s[8] != 'T' || s[15] != 'Z')
		return false;
	for (int i = 0; i < 15; i++)
		if (i != 8 && (s[i] < '0' || s[i] > '9'))
			return false;
	return true;
}

int product_model_check_value(const json_t *def, const json_t *value, const char *where,
			      char *err, size_t errlen)
{
	const char *type = json_string_value(json_object_get(def, "data_type"));
	if (!type)
		return fail(err, errlen, "%s: the model gives no data_type", where);
	if (is_numeric_type(type)) {
		if (!json_is_number(value))
			return fail(err, errlen, "%s: must be a number (%s)", where, type);
		double v = json_number_value(value);
		if (strcmp(type, "int") == 0 &&
		    (!json_is_integer(value) || v < INT32_MIN || v > INT32_MAX))
			return fail(err, errlen, "%s: must be a 32-bit integer (int)", where);
		if (strcmp(type, "long") == 0 && !json_is_integer(value))
			return fail(err, errlen, "%s: must be an integer (long)", where);
		double bound;
		if (number_of(json_object_get(def, "min"), &bound) && v < bound)
			return fail(err, errlen, "%s: %g is below min %g", where, v, bound);
		if (number_of(json_object_get(def, "max"), &bound) && v > bound)
			return fail(err, errlen, "%s: %g is above max %g", where, v, bound);
		return 0;
	}
	if (strcmp(type, "boolean") == 0)
		return json_is_boolean(value) ? 0 : fail(err, errlen, "%s: must be true or false", where);
	if (strcmp(type, "jsonObject") == 0)
		return json_is_object(value) ? 0 : fail(err, errlen, "%s: must be a JSON object", where);
	if (strcmp(type, "string list") == 0) {
		if (!json_is_array(value))
			return fail(err, errlen, "%s: must be an array of strings", where);
		size_t i;
		const json_t *e;
		json_array_foreach(value, i, e) {
			if (!json_is_string(e))
				return fail(err, errlen, "%s[%zu]: must be a string", where, i);
		}
		return 0;
	}
	/* string, DateTime, enum */
	if (!json_is_string(value))
		return fail(err, errlen, "%s: must be a string (%s)", where, type);
	const char *s = json_string_value(value);
	const json_t *ml = json_object_get(def, "max_length");
	if (json_is_integer(ml) && json_string_length(value) > (size_t)json_integer_value(ml))
		return fail(err, errlen, "%s: longer than max_length %lld", where,
			    (long long)json_integer_value(ml));
	if (strcmp(type, "DateTime") == 0 && !is_datetime(s))
		return fail(err, errlen, "%s: must be a time as yyyyMMdd'T'HHmmss'Z'", where);
	if (strcmp(type, "enum") == 0) {
		size_t i;
		const json_t *e;
		json_array_foreach(json_object_get(def, "enum_list"), i, e) {
			if (strcmp(json_string_value(e), s) == 0)
				return 0;
		}
		return fail(err, errlen, "%s: \"%s\" is not in enum_list", where, s);
	}
	return 0;
}

int product_model_check_properties(const json_t *service, const json_t *data, char *err,
				   size_t errlen)
{
	const char *sid = json_string_value(json_object_get(service, "service_id"));
	if (!json_is_object(data))
		return fail(err, errlen, "%s: the properties must be a JSON object", sid);
	const char *name;
	const json_t *value;
	json_object_foreach((json_t *)data, name, value) {
		const json_t *def = product_model_property(service, name);
		char where[160];
		if (!def) {
			place(where, sizeof(where), "%s.%s", sid, name);
			return fail(err, errlen, "%s: not a property of service %s", where, sid);
		}
		/* Every report checks here: the message's "service.property" is only written when
		 * there is an error to say (the check runs again with it). */
		if (product_model_check_value(def, value, name, err, errlen) != 0) {
			place(where, sizeof(where), "%s.%s", sid, name);
			return product_model_check_value(def, value, where, err, errlen);
		}
	}
	return 0;
}

int product_model_check_paras(const json_t *command, const json_t *paras, char *err,
			      size_t errlen)
{
	const char *cname = json_string_value(json_object_get(command, "command_name"));
	const json_t *defs = json_object_get(command, "paras");
	if (paras && !json_is_null(paras) && !json_is_object(paras))
		return fail(err, errlen, "paras: must be a JSON object");
	const char *name;
	const json_t *value;
	if (json_is_object(paras)) {
		json_object_foreach((json_t *)paras, name, value) {
			const json_t *def = find_named(defs, "para_name", name);
			char where[160];
			place(where, sizeof(where), "paras.%s", name);
			if (!def)
				return fail(err, errlen, "%s: not a para of command %s", where, cname);
			int rc = product_model_check_value(def, value, where, err, errlen);
			if (rc)
				return rc;
		}
	}
	size_t i;
	const json_t *def;
	json_array_foreach(defs, i, def) {
		const char *pname = json_string_value(json_object_get(def, "para_name"));
		if (json_is_true(json_object_get(def, "required")) &&
		    !json_object_get(paras, pname))
			return fail(err, errlen, "paras.%s: required by command %s", pname, cname);
	}
	return 0;
}

#include "lwm2m/lwm2m_link.h"

int product_model_check_mappings(const json_t *caps, const json_t *mappings, char *err,
				 size_t errlen)
{
	if (!json_is_array(mappings) || json_array_size(mappings) > PRODUCT_MODEL_MAX_ITEMS)
		return fail(err, errlen, "resource_mappings: must be an array of at most %d",
			    PRODUCT_MODEL_MAX_ITEMS);
	size_t i;
	const json_t *m;
	json_array_foreach(mappings, i, m) {
		const char *path = json_string_value(json_object_get(m, "path"));
		const char *sid = json_string_value(json_object_get(m, "service_id"));
		const char *prop = json_string_value(json_object_get(m, "property_name"));
		struct lwm2m_path p;
		const char *s = path && path[0] == '/' ? path + 1 : path;
		char full[64];
		if (!s || snprintf(full, sizeof(full), "/%s", s) >= (int)sizeof(full) ||
		    lwm2m_path_parse(full, strlen(full), &p) != 0 || p.len != 3)
			return fail(err, errlen, "resource_mappings[%zu].path: must be obj/inst/res, "
						 "e.g. \"3303/0/5700\"", i);
		const json_t *svc = sid ? product_model_service(caps, sid) : NULL;
		if (!svc)
			return fail(err, errlen, "resource_mappings[%zu].service_id: not a service "
						 "of the product model", i);
		if (!prop || !product_model_property(svc, prop))
			return fail(err, errlen, "resource_mappings[%zu].property_name: not a "
						 "property of service %s", i, sid);
		for (size_t j = 0; j < i; j++) {
			const char *other = json_string_value(
				json_object_get(json_array_get(mappings, j), "path"));
			const char *o = other[0] == '/' ? other + 1 : other;
			if (strcmp(o, s) == 0)
				return fail(err, errlen, "resource_mappings[%zu].path: %s is mapped twice",
					    i, path);
		}
	}
	return 0;
}
