/*
 * Device management on a registered device: read, write, execute, discover, observe,
 * cancel — docs/api.md, "Device Management". Each waits for the device's answer, up to
 * --timeout seconds; no answer is exit 3. A device's CoAP error (4.04, …) is exit 1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

#define DM_OPTS "timeout=,format="

static int code_check(const json_t *answer, bool quiet)
{
	const char *code = json_string_value(json_object_get(answer, "code"));
	if (code && (code[0] == '4' || code[0] == '5')) {
		if (!quiet)
			fprintf(stderr, "lwm2mctl: the device answered %s\n", code);
		return CTL_API_ERROR;
	}
	return CTL_OK;
}

int ctl_dm_check_code(const json_t *answer)
{
	return code_check(answer, false);
}

/* "/devices/{id}/lwm2m/{path}?timeout=…[&format=…]" followed by extra ("&op=…"). */
static bool dm_path(const struct ctl_args *a, char *out, size_t cap, const char *extra,
		    long *timeout)
{
	if (!ctl_opt_int(a, "timeout", 1, 300, 30, timeout))
		return false;
	const char *p = a->pos[1];
	while (*p == '/')
		p++;
	for (const char *q = p; *q; q++)
		if (!((*q >= '0' && *q <= '9') || *q == '/')) {
			ctl_usage_error("%s is not an LwM2M path (e.g. 3/0/9)", a->pos[1]);
			return false;
		}
	if (!*p) {
		ctl_usage_error("an LwM2M path is needed (e.g. 3/0/9)");
		return false;
	}
	char dev[400], q[256] = "";
	ctl_escape(a->pos[0], dev, sizeof(dev));
	ctl_query_add(q, sizeof(q), "format", ctl_opt(a, "format"));
	snprintf(out, cap, "/devices/%s/lwm2m/%s?timeout=%ld%s%s%s", dev, p, *timeout,
		 q[0] ? "&" : "", q[0] ? q + 1 : "", extra);
	return true;
}

/* Prints a device call's answer: values as a table, links one a line, else the code. */
static int dm_print(struct ctl *c, struct ctl_resp *r)
{
	int rc = ctl_check(r, true);
	json_t *j = rc == CTL_OK ? ctl_parse(r) : NULL;
	if (rc == CTL_OK && !j)
		rc = CTL_API_ERROR;
	if (rc == CTL_OK && c->json)
		ctl_print_raw(r);
	if (rc == CTL_OK && !c->json) {
		json_t *values = json_object_get(j, "values");
		const char *links = json_string_value(json_object_get(j, "links"));
		json_t *oid = json_object_get(j, "observation_id");
		if (oid)
			printf("observation %lld\n", (long long)json_integer_value(oid));
		if (values) {
			static const char *const cols[] = { "PATH=path", "TYPE=type", "VALUE=value",
							    NULL };
			ctl_table(c, values, cols);
		} else if (links) {
			for (const char *p = links; *p;) {
				size_t n = strcspn(p, ",");
				printf("%.*s\n", (int)n, p);
				p += n + (p[n] == ',');
			}
		} else if (json_object_get(j, "payload_base64")) {
			ctl_print_object(c, j);
		} else if (!oid && code_check(j, true) == CTL_OK) {
			/* only the code (a write, an execute); an error code goes to stderr below */
			const char *code = json_string_value(json_object_get(j, "code"));
			printf("%s\n", code ? code : "done");
		}
	}
	if (rc == CTL_OK)
		rc = ctl_dm_check_code(j);
	json_decref(j);
	ctl_resp_free(r);
	return rc;
}

static int dm_call(struct ctl *c, const struct ctl_args *a, const char *method,
		   const char *extra, const char *body)
{
	char path[1024];
	long timeout;
	if (!dm_path(a, path, sizeof(path), extra, &timeout))
		return CTL_USAGE;
	struct ctl_resp r;
	ctl_call(c, method, path, body, (int)timeout + 15, &r);
	return dm_print(c, &r);
}

static int dm_read(struct ctl *c, const struct ctl_args *a)
{
	return dm_call(c, a, "GET", "", NULL);
}

static int dm_discover(struct ctl *c, const struct ctl_args *a)
{
	return dm_call(c, a, "GET", "&op=discover", NULL);
}

static int dm_observe(struct ctl *c, const struct ctl_args *a)
{
	return dm_call(c, a, "GET", "&op=observe", NULL);
}

/* write DEVICE PATH VALUE: one value (a number, true/false, or a string; --type names
 * its type), or write DEVICE PATH --values FILE: a JSON array of {"path","value"}. With
 * --update, a partial update (POST) of an instance instead of a replace. */
static int dm_write(struct ctl *c, const struct ctl_args *a)
{
	json_t *values;
	if (ctl_opt(a, "values")) {
		if (a->npos != 2)
			return ctl_usage_error("give either VALUE or --values FILE");
		char *text = ctl_read_file(ctl_opt(a, "values"), NULL);
		if (!text)
			return CTL_USAGE;
		values = json_loads(text, 0, NULL);
		free(text);
		if (!json_is_array(values)) {
			json_decref(values);
			return ctl_usage_error("--values wants a JSON array of {\"path\",\"value\"}");
		}
	} else {
		if (a->npos != 3)
			return ctl_usage_error("write needs DEVICE PATH VALUE (or --values FILE)");
		const char *p = a->pos[1];
		while (*p == '/')
			p++;
		char full[256];
		snprintf(full, sizeof(full), "/%s", p);
		json_t *v = ctl_flag(a, "string") ? json_string(a->pos[2]) : ctl_value(a->pos[2]);
		json_t *item = json_pack("{s:s, s:o}", "path", full, "value", v);
		if (ctl_opt(a, "type"))
			json_object_set_new(item, "type", json_string(ctl_opt(a, "type")));
		values = json_pack("[o]", item);
	}
	json_t *body = json_pack("{s:o}", "values", values);
	if (ctl_opt(a, "format"))
		json_object_set_new(body, "format", json_string(ctl_opt(a, "format")));
	char *text = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	int rc = dm_call(c, a, ctl_flag(a, "update") ? "POST" : "PUT", "", text);
	free(text);
	return rc;
}

static int dm_execute(struct ctl *c, const struct ctl_args *a)
{
	char *text = NULL;
	if (a->npos == 3) {
		json_t *body = json_pack("{s:s}", "arguments", a->pos[2]);
		text = json_dumps(body, JSON_COMPACT);
		json_decref(body);
	}
	int rc = dm_call(c, a, "POST", "", text);
	free(text);
	return rc;
}

/* The observation of DEVICE on path (its id, or 0 when none). */
static long observation_of(struct ctl *c, const char *dev_esc, const char *path, int *rc)
{
	char route[512];
	snprintf(route, sizeof(route), "/devices/%s/observations", dev_esc);
	struct ctl_resp r;
	ctl_call(c, "GET", route, NULL, 60, &r);
	*rc = ctl_check(&r, false);
	json_t *j = *rc == CTL_OK ? ctl_parse(&r) : NULL;
	ctl_resp_free(&r);
	long id = 0;
	size_t i;
	json_t *o;
	json_array_foreach(json_object_get(j, "observations"), i, o)
	{
		const char *p = json_string_value(json_object_get(o, "path"));
		if (p && strcmp(p + (p[0] == '/'), path + (path[0] == '/')) == 0 &&
		    !json_is_true(json_object_get(o, "cancelled")))
			id = (long)json_integer_value(json_object_get(o, "observation_id"));
	}
	json_decref(j);
	return id;
}

/* cancel DEVICE PATH|OBSERVATION_ID [--passive] */
static int dm_cancel(struct ctl *c, const struct ctl_args *a)
{
	long timeout;
	if (!ctl_opt_int(a, "timeout", 1, 300, 30, &timeout))
		return CTL_USAGE;
	char dev[400];
	ctl_escape(a->pos[0], dev, sizeof(dev));
	const char *what = a->pos[1];
	long id;
	int rc = CTL_OK;
	if (strchr(what, '/')) {
		id = observation_of(c, dev, what, &rc);
		if (rc != CTL_OK)
			return rc;
		if (id == 0) {
			fprintf(stderr, "lwm2mctl: %s has no observation of %s\n", a->pos[0], what);
			return CTL_API_ERROR;
		}
	} else {
		char *end;
		id = strtol(what, &end, 10);
		if (!*what || *end || id <= 0)
			return ctl_usage_error("%s is neither an LwM2M path nor an observation id",
					       what);
	}
	char route[640];
	snprintf(route, sizeof(route), "/devices/%s/observations/%ld?timeout=%ld%s", dev, id,
		 timeout, ctl_flag(a, "passive") ? "&mode=passive" : "");
	struct ctl_resp r;
	ctl_call(c, "DELETE", route, NULL, (int)timeout + 15, &r);
	rc = ctl_check(&r, true);
	json_t *j = rc == CTL_OK && r.len ? ctl_parse(&r) : NULL;
	if (rc == CTL_OK && c->json)
		ctl_print_raw(&r);
	if (rc == CTL_OK)
		rc = ctl_dm_check_code(j);
	if (rc == CTL_OK && !c->json) {
		/* Active: the device's answer to the Observe 1; passive: 204, nothing asked. */
		const char *code = json_string_value(json_object_get(j, "code"));
		if (code)
			printf("observation %ld cancelled (the device answered %s)\n", id, code);
		else
			printf("observation %ld cancelled\n", id);
	}
	json_decref(j);
	ctl_resp_free(&r);
	return rc;
}

/* observations DEVICE: the device's observations. */
static int dm_observations(struct ctl *c, const struct ctl_args *a)
{
	char dev[400], route[512];
	ctl_escape(a->pos[0], dev, sizeof(dev));
	snprintf(route, sizeof(route), "/devices/%s/observations", dev);
	struct ctl_resp r;
	ctl_call(c, "GET", route, NULL, 60, &r);
	int rc = ctl_check(&r, false);
	if (rc == CTL_OK && c->json) {
		ctl_print_raw(&r);
	} else if (rc == CTL_OK) {
		json_t *j = ctl_parse(&r);
		static const char *const cols[] = { "ID=observation_id", "PATH=path",
						    "NOTIFICATIONS=notifications",
						    "LAST=last_time", "CODE=last_code", NULL };
		ctl_table(c, json_object_get(j, "observations"), cols);
		json_decref(j);
	}
	ctl_resp_free(&r);
	return rc;
}

const struct ctl_command ctl_dm_commands[] = {
	{ "read", NULL, dm_read, 2, 2, DM_OPTS, "DEVICE PATH [--format F] [--timeout S]",
	  "read a path of a device", false },
	{ "write", NULL, dm_write, 2, 3, DM_OPTS ",type=,values=,update,string",
	  "DEVICE PATH VALUE [--type T] [--string] [--format F] [--update] [--timeout S]\n"
	  "       lwm2mctl write DEVICE PATH --values FILE [--format F] [--update]",
	  "write a value (or values) to a device", false },
	{ "execute", NULL, dm_execute, 2, 3, "timeout=", "DEVICE PATH [ARGUMENTS] [--timeout S]",
	  "execute a resource of a device", false },
	{ "discover", NULL, dm_discover, 2, 2, "timeout=", "DEVICE PATH [--timeout S]",
	  "discover what a device has below a path", false },
	{ "observe", NULL, dm_observe, 2, 2, DM_OPTS, "DEVICE PATH [--format F] [--timeout S]",
	  "observe a path (notifications: lwm2mctl events --device DEVICE)", false },
	{ "cancel", NULL, dm_cancel, 2, 2, "timeout=,passive",
	  "DEVICE PATH|OBSERVATION_ID [--passive] [--timeout S]", "cancel an observation",
	  false },
	{ "observations", NULL, dm_observations, 1, 1, "", "DEVICE",
	  "list a device's observations", false },
	{ NULL, NULL, NULL, 0, 0, NULL, NULL, NULL, false },
};
