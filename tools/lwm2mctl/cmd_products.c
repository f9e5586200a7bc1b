/*
 * products: list, get, create, delete; model: get and set a product's model
 * (service_capabilities, and resource_mappings) — docs/api.md, "Products", "Product models".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

static void product_path(char *out, size_t cap, const char *id)
{
	char esc[400];
	ctl_escape(id, esc, sizeof(esc));
	snprintf(out, cap, "/products/%s", esc);
}

static int products_list(struct ctl *c, const struct ctl_args *a)
{
	static const char *const cols[] = {
		"PRODUCT_ID=product_id", "NAME=name",         "TYPE=device_type",
		"FORMAT=data_format",    "DEVICES=device_count", "CREATED=create_time", NULL,
	};
	long limit, offset;
	if (!ctl_opt_int(a, "limit", 1, 50, 50, &limit) ||
	    !ctl_opt_int(a, "offset", 0, 2147483647, 0, &offset))
		return CTL_USAGE;
	char path[128];
	snprintf(path, sizeof(path), "/products?limit=%ld&offset=%ld", limit, offset);
	struct ctl_resp r;
	ctl_call(c, "GET", path, NULL, 60, &r);
	int rc = ctl_check(&r, false);
	if (rc == CTL_OK && c->json) {
		ctl_print_raw(&r);
	} else if (rc == CTL_OK) {
		json_t *j = ctl_parse(&r);
		rc = j ? CTL_OK : CTL_API_ERROR;
		if (j)
			ctl_table(c, json_object_get(j, "products"), cols);
		json_decref(j);
	}
	ctl_resp_free(&r);
	return rc;
}

/* A product for people: its model summed up (the services' ids, the mappings' number);
 * `model get` shows it whole. */
static int product_print(struct ctl *c, struct ctl_resp *r)
{
	if (c->json || r->status < 200 || r->status >= 300)
		return ctl_print_answer(c, r, false);
	json_t *p = ctl_parse(r);
	ctl_resp_free(r);
	if (!p)
		return CTL_API_ERROR;
	json_t *ids = json_array();
	size_t i;
	json_t *svc;
	json_array_foreach(json_object_get(p, "service_capabilities"), i, svc)
		json_array_append(ids, json_object_get(svc, "service_id"));
	json_object_set_new(p, "service_capabilities", ids);
	json_t *maps = json_object_get(p, "resource_mappings");
	if (maps)
		json_object_set_new(p, "resource_mappings", json_integer((json_int_t)json_array_size(maps)));
	ctl_print_object(c, p);
	json_decref(p);
	return CTL_OK;
}

static int products_get(struct ctl *c, const struct ctl_args *a)
{
	char path[512];
	product_path(path, sizeof(path), a->pos[0]);
	struct ctl_resp r;
	ctl_call(c, "GET", path, NULL, 60, &r);
	return product_print(c, &r);
}

/* A model file: an array (the service_capabilities) or an object holding
 * service_capabilities and/or resource_mappings. Returns the object to send, or NULL. */
static json_t *model_body(const char *file)
{
	char *text = ctl_read_file(file, NULL);
	if (!text)
		return NULL;
	json_error_t err;
	json_t *m = json_loads(text, 0, &err);
	free(text);
	if (!m) {
		fprintf(stderr, "lwm2mctl: %s: not JSON: %s (line %d)\n", file, err.text, err.line);
		return NULL;
	}
	if (json_is_array(m))
		return json_pack("{s:o}", "service_capabilities", m);
	json_t *body = json_object();
	json_t *caps = json_object_get(m, "service_capabilities");
	json_t *maps = json_object_get(m, "resource_mappings");
	if (caps)
		json_object_set(body, "service_capabilities", caps);
	if (maps)
		json_object_set(body, "resource_mappings", maps);
	json_decref(m);
	if (json_object_size(body) == 0) {
		fprintf(stderr, "lwm2mctl: %s: want an array of services or an object with "
				"service_capabilities or resource_mappings\n",
			file);
		json_decref(body);
		return NULL;
	}
	return body;
}

static int products_create(struct ctl *c, const struct ctl_args *a)
{
	const char *name = ctl_opt(a, "name");
	if (!name)
		return ctl_usage_error("products create needs --name");
	json_t *body = json_pack("{s:s}", "name", name);
	if (ctl_opt(a, "model")) {
		json_t *m = model_body(ctl_opt(a, "model"));
		if (!m) {
			json_decref(body);
			return CTL_USAGE;
		}
		json_object_update(body, m);
		json_decref(m);
	}
	static const char *const fields[][2] = {
		{ "id", "product_id" },
		{ "type", "device_type" },
		{ "manufacturer", "manufacturer_name" },
		{ "format", "data_format" },
		{ "description", "description" },
		{ "read-format", "read_format" },
	};
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (ctl_opt(a, fields[i][0]))
			json_object_set_new(body, fields[i][1], json_string(ctl_opt(a, fields[i][0])));
	char *text = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	struct ctl_resp r;
	ctl_call(c, "POST", "/products", text, 60, &r);
	free(text);
	return product_print(c, &r);
}

static int products_delete(struct ctl *c, const struct ctl_args *a)
{
	return ctl_delete_each(c, a, "products", "product");
}

/* model get: --json the product's model as a document ({"service_capabilities":…,
 * "resource_mappings":…}), which `model set` takes back; else a table of its properties
 * and commands. */
static int model_get(struct ctl *c, const struct ctl_args *a)
{
	char path[512];
	product_path(path, sizeof(path), a->pos[0]);
	struct ctl_resp r;
	ctl_call(c, "GET", path, NULL, 60, &r);
	int rc = ctl_check(&r, false);
	json_t *p = rc == CTL_OK ? ctl_parse(&r) : NULL;
	ctl_resp_free(&r);
	if (rc != CTL_OK || !p)
		return rc != CTL_OK ? rc : CTL_API_ERROR;
	json_t *caps = json_object_get(p, "service_capabilities");
	json_t *maps = json_object_get(p, "resource_mappings");
	if (c->json) {
		json_t *doc = json_object();
		json_object_set_new(doc, "service_capabilities",
				    caps ? json_incref(caps) : json_array());
		if (maps)
			json_object_set(doc, "resource_mappings", maps);
		json_dumpf(doc, stdout, JSON_INDENT(2));
		putchar('\n');
		json_decref(doc);
		json_decref(p);
		return CTL_OK;
	}
	json_t *rows = json_array();
	size_t i, k;
	json_t *svc, *item;
	json_array_foreach(caps, i, svc)
	{
		json_array_foreach(json_object_get(svc, "properties"), k, item)
		{
			json_array_append_new(
				rows, json_pack("{s:O?, s:s, s:O?, s:O?, s:O?}", "service",
						json_object_get(svc, "service_id"), "kind", "property",
						"name", json_object_get(item, "property_name"), "type",
						json_object_get(item, "data_type"), "method",
						json_object_get(item, "method")));
		}
		json_array_foreach(json_object_get(svc, "commands"), k, item)
		{
			json_array_append_new(rows, json_pack("{s:O?, s:s, s:O?}", "service",
							      json_object_get(svc, "service_id"),
							      "kind", "command", "name",
							      json_object_get(item, "command_name")));
		}
	}
	json_array_foreach(maps, i, item)
	{
		const char *sv = json_string_value(json_object_get(item, "service_id"));
		const char *pn = json_string_value(json_object_get(item, "property_name"));
		char to[160];
		snprintf(to, sizeof(to), "%s.%s", sv ? sv : "?", pn ? pn : "?");
		json_array_append_new(rows, json_pack("{s:s, s:s, s:O?, s:s}", "service", "-",
						      "kind", "mapping", "name",
						      json_object_get(item, "path"), "type", to));
	}
	static const char *const cols[] = { "SERVICE=service", "KIND=kind", "NAME=name",
					    "TYPE=type", "METHOD=method", NULL };
	ctl_table(c, rows, cols);
	json_decref(rows);
	json_decref(p);
	return CTL_OK;
}

static int model_set(struct ctl *c, const struct ctl_args *a)
{
	json_t *body = model_body(a->pos[1]);
	if (!body)
		return CTL_USAGE;
	char path[512];
	product_path(path, sizeof(path), a->pos[0]);
	char *text = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	struct ctl_resp r;
	ctl_call(c, "PUT", path, text, 60, &r);
	free(text);
	int rc = ctl_check(&r, false);
	if (rc == CTL_OK && c->json)
		ctl_print_raw(&r);
	else if (rc == CTL_OK)
		printf("model of product %s set\n", a->pos[0]);
	ctl_resp_free(&r);
	return rc;
}

const struct ctl_command ctl_products_commands[] = {
	{ "products", "list", products_list, 0, 0, "limit=,offset=",
	  "[--limit N] [--offset N]", "list products", false },
	{ "products", "get", products_get, 1, 1, "", "PRODUCT", "show a product", false },
	{ "products", "create", products_create, 0, 0,
	  "id=,name=,type=,manufacturer=,format=,description=,read-format=,model=",
	  "--name NAME [--id P] [--type T] [--manufacturer M] [--format binary|json] "
	  "[--description TEXT] [--read-format F] [--model FILE]",
	  "create a product", false },
	{ "products", "delete", products_delete, 1, CTL_MAX_ARGS, "", "PRODUCT...",
	  "delete products (that have no devices)", false },
	{ "model", "get", model_get, 1, 1, "", "PRODUCT",
	  "show a product's model (--json: the document model set takes)", false },
	{ "model", "set", model_set, 2, 2, "", "PRODUCT FILE",
	  "set a product's model from a JSON file ('-': stdin)", false },
	{ NULL, NULL, NULL, 0, 0, NULL, NULL, NULL, false },
};
