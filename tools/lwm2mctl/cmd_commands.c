/*
 * commands: send, list, get a device's asynchronous commands; shadow: get, set its
 * desired properties — docs/api.md, "Commands", "Device shadow".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

static void device_route(char *out, size_t cap, const char *device, const char *rest)
{
	char esc[400];
	ctl_escape(device, esc, sizeof(esc));
	snprintf(out, cap, "/devices/%s%s", esc, rest);
}

/* NAME=VALUE arguments (from index first) into an object; values as ctl_value. */
static json_t *assignments(const struct ctl_args *a, int first)
{
	json_t *o = json_object();
	for (int i = first; i < a->npos; i++) {
		const char *eq = strchr(a->pos[i], '=');
		if (!eq || eq == a->pos[i]) {
			ctl_usage_error("%s is not NAME=VALUE", a->pos[i]);
			json_decref(o);
			return NULL;
		}
		char name[128];
		snprintf(name, sizeof(name), "%.*s", (int)(eq - a->pos[i]), a->pos[i]);
		json_object_set_new(o, name, ctl_value(eq + 1));
	}
	return o;
}

/* commands send DEVICE SERVICE COMMAND [NAME=VALUE...] [--paras JSON] [--immediately]
 * [--expire S] */
static int commands_send(struct ctl *c, const struct ctl_args *a)
{
	long expire;
	if (!ctl_opt_int(a, "expire", 0, 172800, 86400, &expire))
		return CTL_USAGE;
	json_t *paras;
	if (ctl_opt(a, "paras")) {
		if (a->npos > 3)
			return ctl_usage_error("give either --paras or NAME=VALUE arguments");
		paras = json_loads(ctl_opt(a, "paras"), 0, NULL);
		if (!json_is_object(paras)) {
			json_decref(paras);
			return ctl_usage_error("--paras wants a JSON object");
		}
	} else if (!(paras = assignments(a, 3))) {
		return CTL_USAGE;
	}
	json_t *body = json_pack("{s:s, s:s, s:o, s:s}", "service_id", a->pos[1], "command_name",
				 a->pos[2], "paras", paras, "send_strategy",
				 ctl_flag(a, "immediately") ? "immediately" : "delay");
	if (ctl_opt(a, "expire"))
		json_object_set_new(body, "expire_time", json_integer(expire));
	char *text = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	char route[512];
	device_route(route, sizeof(route), a->pos[0], "/async-commands");
	struct ctl_resp r;
	ctl_call(c, "POST", route, text, 60, &r);
	free(text);
	return ctl_print_answer(c, &r, false);
}

static int commands_list(struct ctl *c, const struct ctl_args *a)
{
	long limit, offset;
	if (!ctl_opt_int(a, "limit", 1, 50, 50, &limit) ||
	    !ctl_opt_int(a, "offset", 0, 2147483647, 0, &offset))
		return CTL_USAGE;
	char rest[96], route[512];
	snprintf(rest, sizeof(rest), "/async-commands?limit=%ld&offset=%ld", limit, offset);
	device_route(route, sizeof(route), a->pos[0], rest);
	struct ctl_resp r;
	ctl_call(c, "GET", route, NULL, 60, &r);
	int rc = ctl_check(&r, false);
	if (rc == CTL_OK && c->json) {
		ctl_print_raw(&r);
	} else if (rc == CTL_OK) {
		json_t *j = ctl_parse(&r);
		static const char *const cols[] = {
			"COMMAND_ID=command_id", "SERVICE=service_id", "COMMAND=command_name",
			"STATUS=status",         "CREATED=created_time", NULL,
		};
		ctl_table(c, json_object_get(j, "commands"), cols);
		json_decref(j);
	}
	ctl_resp_free(&r);
	return rc;
}

static int commands_get(struct ctl *c, const struct ctl_args *a)
{
	char esc[400], rest[460], route[900];
	ctl_escape(a->pos[1], esc, sizeof(esc));
	snprintf(rest, sizeof(rest), "/async-commands/%s", esc);
	device_route(route, sizeof(route), a->pos[0], rest);
	struct ctl_resp r;
	ctl_call(c, "GET", route, NULL, 60, &r);
	return ctl_print_answer(c, &r, false);
}

/* shadow get: one row per property, reported and desired side by side. */
static void shadow_table(struct ctl *c, const json_t *shadow)
{
	json_t *rows = json_array();
	size_t i;
	json_t *svc;
	json_array_foreach(json_object_get(shadow, "shadow"), i, svc)
	{
		const json_t *rep = ctl_field(svc, "reported.properties");
		const json_t *des = ctl_field(svc, "desired.properties");
		json_t *names = json_object();
		const char *k;
		json_t *v;
		json_object_foreach((json_t *)rep, k, v)
			json_object_set_new(names, k, json_true());
		json_object_foreach((json_t *)des, k, v)
			json_object_set_new(names, k, json_true());
		json_object_foreach(names, k, v)
		{
			json_t *row = json_pack("{s:O, s:s}", "service_id",
						json_object_get(svc, "service_id"), "property", k);
			json_t *rv = json_object_get(rep, k), *dv = json_object_get(des, k);
			if (rv)
				json_object_set(row, "reported", rv);
			if (dv)
				json_object_set(row, "desired", dv);
			json_array_append_new(rows, row);
		}
		json_decref(names);
	}
	static const char *const cols[] = { "SERVICE=service_id", "PROPERTY=property",
					    "REPORTED=reported", "DESIRED=desired", NULL };
	ctl_table(c, rows, cols);
	json_decref(rows);
}

static int shadow_answer(struct ctl *c, struct ctl_resp *r)
{
	int rc = ctl_check(r, false);
	if (rc == CTL_OK && c->json) {
		ctl_print_raw(r);
	} else if (rc == CTL_OK) {
		json_t *j = ctl_parse(r);
		if (j)
			shadow_table(c, j);
		json_decref(j);
	}
	ctl_resp_free(r);
	return rc;
}

static int shadow_get(struct ctl *c, const struct ctl_args *a)
{
	char route[512];
	device_route(route, sizeof(route), a->pos[0], "/shadow");
	struct ctl_resp r;
	ctl_call(c, "GET", route, NULL, 60, &r);
	return shadow_answer(c, &r);
}

/* shadow set DEVICE SERVICE NAME=VALUE... [--version N]; VALUE null takes it out. */
static int shadow_set(struct ctl *c, const struct ctl_args *a)
{
	long version;
	if (!ctl_opt_int(a, "version", 0, 2147483647, 0, &version))
		return CTL_USAGE;
	json_t *desired = assignments(a, 2);
	if (!desired)
		return CTL_USAGE;
	json_t *svc = json_pack("{s:s, s:o}", "service_id", a->pos[1], "desired", desired);
	if (ctl_opt(a, "version"))
		json_object_set_new(svc, "version", json_integer(version));
	json_t *body = json_pack("{s:[o]}", "shadow", svc);
	char *text = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	char route[512];
	device_route(route, sizeof(route), a->pos[0], "/shadow");
	struct ctl_resp r;
	ctl_call(c, "PUT", route, text, 60, &r);
	free(text);
	return shadow_answer(c, &r);
}

const struct ctl_command ctl_commands_commands[] = {
	{ "commands", "send", commands_send, 3, CTL_MAX_ARGS, "paras=,immediately,expire=",
	  "DEVICE SERVICE COMMAND [NAME=VALUE...] [--paras JSON] [--immediately] [--expire S]",
	  "send a command of the product model to a device", false },
	{ "commands", "list", commands_list, 1, 1, "limit=,offset=",
	  "DEVICE [--limit N] [--offset N]", "list a device's commands", false },
	{ "commands", "get", commands_get, 2, 2, "", "DEVICE COMMAND_ID", "show a command",
	  false },
	{ "shadow", "get", shadow_get, 1, 1, "", "DEVICE",
	  "show a device's shadow (reported and desired properties)", false },
	{ "shadow", "set", shadow_set, 3, CTL_MAX_ARGS, "version=",
	  "DEVICE SERVICE NAME=VALUE... [--version N]",
	  "set desired properties (VALUE null takes one out)", false },
	{ NULL, NULL, NULL, 0, 0, NULL, NULL, NULL, false },
};
