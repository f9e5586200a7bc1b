/*
 * devices: list, get, create, delete, reset-secret (docs/api.md, "Devices").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

static const char *const device_cols[] = {
	"DEVICE_ID=device_id", "NODE_ID=node_id", "PRODUCT=product_id",
	"STATUS=status",       "NAME=device_name", NULL,
};

static int devices_list(struct ctl *c, const struct ctl_args *a)
{
	long limit;
	if (!ctl_opt_int(a, "limit", 1, 50, 50, &limit))
		return CTL_USAGE;
	char q[2048] = "", n[16];
	snprintf(n, sizeof(n), "%ld", limit);
	ctl_query_add(q, sizeof(q), "limit", n);
	ctl_query_add(q, sizeof(q), "product_id", ctl_opt(a, "product"));
	ctl_query_add(q, sizeof(q), "status", ctl_opt(a, "status"));
	ctl_query_add(q, sizeof(q), "name", ctl_opt(a, "name"));
	ctl_query_add(q, sizeof(q), "node_id_prefix", ctl_opt(a, "node-id-prefix"));
	ctl_query_add(q, sizeof(q), "marker", ctl_opt(a, "marker"));
	char path[2200];
	snprintf(path, sizeof(path), "/devices%s", q);
	struct ctl_resp r;
	ctl_call(c, "GET", path, NULL, 60, &r);
	int rc = ctl_check(&r, false);
	if (rc == CTL_OK && c->json) {
		ctl_print_raw(&r);
	} else if (rc == CTL_OK) {
		json_t *j = ctl_parse(&r);
		if (j) {
			ctl_table(c, json_object_get(j, "devices"), device_cols);
			const char *marker = json_string_value(ctl_field(j, "page.marker"));
			if (marker)
				fprintf(stderr, "(%lld in all; next page: --marker %s)\n",
					(long long)json_integer_value(ctl_field(j, "page.count")),
					marker);
		} else {
			rc = CTL_API_ERROR;
		}
		json_decref(j);
	}
	ctl_resp_free(&r);
	return rc;
}

static int device_path(char *out, size_t cap, const char *id, const char *rest)
{
	char esc[400];
	ctl_escape(id, esc, sizeof(esc));
	return snprintf(out, cap, "/devices/%s%s", esc, rest);
}

static int devices_get(struct ctl *c, const struct ctl_args *a)
{
	char path[512];
	device_path(path, sizeof(path), a->pos[0], "");
	struct ctl_resp r;
	ctl_call(c, "GET", path, NULL, 60, &r);
	return ctl_print_answer(c, &r, false);
}

static int devices_create(struct ctl *c, const struct ctl_args *a)
{
	const char *node = ctl_opt(a, "node-id"), *product = ctl_opt(a, "product");
	if (!node || !product)
		return ctl_usage_error("devices create needs --node-id and --product");
	long timeout;
	if (!ctl_opt_int(a, "inactive-timeout", 0, 2147483647, 0, &timeout))
		return CTL_USAGE;
	json_t *body = json_pack("{s:s, s:s}", "node_id", node, "product_id", product);
	json_t *auth = json_object();
	if (ctl_opt(a, "id"))
		json_object_set_new(body, "device_id", json_string(ctl_opt(a, "id")));
	if (ctl_opt(a, "name"))
		json_object_set_new(body, "device_name", json_string(ctl_opt(a, "name")));
	if (ctl_opt(a, "description"))
		json_object_set_new(body, "description", json_string(ctl_opt(a, "description")));
	if (ctl_opt(a, "secret"))
		json_object_set_new(auth, "secret", json_string(ctl_opt(a, "secret")));
	if (ctl_flag(a, "secure"))
		json_object_set_new(auth, "secure_access", json_true());
	if (ctl_opt(a, "inactive-timeout"))
		json_object_set_new(auth, "timeout", json_integer(timeout));
	json_object_set_new(body, "auth_info", auth);
	char *text = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	struct ctl_resp r;
	ctl_call(c, "POST", "/devices", text, 60, &r);
	free(text);
	return ctl_print_answer(c, &r, false);
}

static int devices_delete(struct ctl *c, const struct ctl_args *a)
{
	return ctl_delete_each(c, a, "devices", "device");
}

static int devices_reset_secret(struct ctl *c, const struct ctl_args *a)
{
	char path[512];
	device_path(path, sizeof(path), a->pos[0], "/action?action_id=resetSecret");
	char *text = NULL;
	if (ctl_opt(a, "secret")) {
		json_t *body = json_pack("{s:s}", "secret", ctl_opt(a, "secret"));
		text = json_dumps(body, JSON_COMPACT);
		json_decref(body);
	}
	struct ctl_resp r;
	ctl_call(c, "POST", path, text, 60, &r);
	free(text);
	return ctl_print_answer(c, &r, false);
}

const struct ctl_command ctl_devices_commands[] = {
	{ "devices", "list", devices_list, 0, 0,
	  "limit=,product=,status=,name=,node-id-prefix=,marker=",
	  "[--product P] [--status S] [--name PREFIX] [--node-id-prefix P] [--limit N] "
	  "[--marker M]",
	  "list devices (a page of up to --limit; the next with --marker)", false },
	{ "devices", "get", devices_get, 1, 1, "", "DEVICE", "show a device", false },
	{ "devices", "create", devices_create, 0, 0,
	  "node-id=,product=,id=,name=,description=,secret=,secure,inactive-timeout=",
	  "--node-id N --product P [--id D] [--name NAME] [--description TEXT] [--secret HEX] "
	  "[--secure] [--inactive-timeout S]",
	  "create a device (its secret is shown once)", false },
	{ "devices", "import", ctl_devices_import, 1, 1, "batch=", "FILE [--batch N]",
	  "create the devices of a file (JSON lines or CSV node_id,product_id[,secret]; - for "
	  "stdin) in batches",
	  false },
	{ "devices", "delete", devices_delete, 1, CTL_MAX_ARGS, "", "DEVICE...",
	  "delete devices", false },
	{ "devices", "reset-secret", devices_reset_secret, 1, 1, "secret=",
	  "DEVICE [--secret HEX]", "give a device a new secret (generated unless given)", false },
	{ NULL, NULL, NULL, 0, 0, NULL, NULL, NULL, false },
};
