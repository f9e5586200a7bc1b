/*
 * api_products: the /v5/iot/{project_id}/products routes (IoTDA v5 "Product Management").
 *
 * A product names a kind of device and how its payloads are formatted; devices are
 * created under one. These handlers validate the body with the api_json getters, call the
 * store and shape the IoTDA JSON; the project was already checked against the token.
 */
#include "api/api_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "iot/iot_platform.h"
#include "iot/product_model.h"
#include "store/store_platform.h"
#include "store/store_search.h"
#include "util/str.h"
#include "util/token.h"

#define PRODUCT_NAME_MAX 128
/* A generated product_id: 12 random bytes, 24 hex characters. */
#define PRODUCT_ID_RANDOM_BYTES 12

static json_t *product_json(const struct store_product *p)
{
	char t[API_TIME_MAX];
	json_t *o = json_object();
	int rc = 0;

	if (!o)
		return NULL;
	rc |= json_object_set_new(o, "product_id", api_json_str(p->product_id));
	rc |= json_object_set_new(o, "name", api_json_str(p->name));
	rc |= json_object_set_new(o, "device_type", api_json_str(p->device_type));
	rc |= json_object_set_new(o, "manufacturer_name", api_json_str(p->manufacturer_name));
	rc |= json_object_set_new(o, "protocol_type", api_json_str(p->protocol_type));
	rc |= json_object_set_new(o, "data_format", api_json_str(p->data_format));
	rc |= json_object_set_new(o, "description", api_json_str(p->description));
	rc |= json_object_set_new(o, "read_format", api_read_format_json(p->read_format));
	rc |= json_object_set_new(o, "create_time",
				  api_json_str(api_format_time(p->create_time, t)));
	if (rc != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* The body's service_capabilities, checked: a new reference, NULL when absent (0), or
 * -EINVAL with the 400 set. */
static int read_model(struct api_call *c, const json_t *body, json_t **caps)
{
	*caps = NULL;
	json_t *v = json_object_get(body, "service_capabilities");
	if (!v)
		return 0;
	char err[512];
	if (product_model_check(v, err, sizeof(err)) != 0) {
		api_reply_error(c, 400, "%s", err);
		return -EINVAL;
	}
	*caps = json_incref(v);
	return 0;
}

/* The body's resource_mappings, checked against caps (the body's) or the stored model:
 * a new reference, NULL when absent (0), or -EINVAL with the 400 set. */
static int read_mappings(struct api_call *c, const json_t *body, const json_t *caps,
			 const struct store_product *p, json_t **mappings)
{
	*mappings = NULL;
	json_t *v = json_object_get(body, "resource_mappings");
	if (!v)
		return 0;
	json_t *stored = NULL;
	if (!caps) {
		char *text = NULL;
		if (store_product_model_get(c->api->deps.store, p->project_id, p->product_id,
					    &text) == 0)
			stored = json_loads(text, 0, NULL);
		free(text);
	}
	char err[512];
	int rc = product_model_check_mappings(caps ? caps : stored, v, err, sizeof(err));
	json_decref(stored);
	if (rc != 0) {
		api_reply_error(c, 400, "%s", err);
		return -EINVAL;
	}
	*mappings = json_incref(v);
	return 0;
}

static int store_mappings(struct api_call *c, const struct store_product *p, json_t *mappings)
{
	if (!mappings)
		return 0;
	char *text = json_dumps(mappings, JSON_COMPACT);
	int rc = text ? store_product_mappings_set(c->api->deps.store, p->project_id,
						   p->product_id, text)
		      : -ENOMEM;
	free(text);
	return rc;
}

/* Stores caps (when given) and tells the platform the product changed. */
static int store_model(struct api_call *c, const struct store_product *p, json_t *caps)
{
	if (caps) {
		char *text = json_dumps(caps, JSON_COMPACT);
		int rc = text ? store_product_model_set(c->api->deps.store, p->project_id,
							 p->product_id, text)
			      : -ENOMEM;
		free(text);
		if (rc)
			return rc;
	}
	if (c->api->deps.platform)
		iot_platform_product_changed(c->api->deps.platform, p->project_id, p->product_id);
	return 0;
}

/* product_json with how many devices the product has (from the counts the store keeps:
 * no scan), so that a console can show it and knows whether it may be deleted. */
static json_t *product_counted_json(struct store *store, const struct store_product *p)
{
	json_t *o = product_json(p);
	struct store_device_counts counts;
	if (o && store_device_counts(store, p->project_id, p->product_id, &counts) == 0)
		json_object_set_new(o, "device_count", json_integer(counts.total));
	return o;
}

/* product_json with its device count, service_capabilities and resource mappings. */
static json_t *product_full_json(struct api_call *c, const struct store_product *p)
{
	json_t *o = product_counted_json(c->api->deps.store, p);
	char *text = NULL;
	if (o && store_product_model_get(c->api->deps.store, p->project_id, p->product_id,
					 &text) == 0) {
		json_t *caps = json_loads(text, 0, NULL);
		json_object_set_new(o, "service_capabilities", caps ? caps : json_array());
	}
	free(text);
	text = NULL;
	if (o && store_product_mappings_get(c->api->deps.store, p->project_id, p->product_id,
					    &text) == 0) {
		json_t *maps = json_loads(text, 0, NULL);
		json_object_set_new(o, "resource_mappings", maps ? maps : json_array());
	}
	free(text);
	return o;
}

/*
 * Reads the fields a create and an update share into p, keeping p's value for each absent
 * one. Returns 0, or -EINVAL with the 400 set.
 */
static int read_product_fields(struct api_call *c, const json_t *body, struct store_product *p,
			       bool create)
{
	char protocol[sizeof(p->protocol_type)];
	int rc;

	rc = api_field_string(c, body, "name", 1, PRODUCT_NAME_MAX, API_STR_ANY, p->name,
			      sizeof(p->name), create);
	if (rc == -EINVAL)
		return rc;
	if (api_field_string(c, body, "device_type", 0, STORE_NAME_MAX, API_STR_ANY,
			     p->device_type, sizeof(p->device_type), false) == -EINVAL)
		return -EINVAL;
	if (api_field_string(c, body, "manufacturer_name", 0, STORE_NAME_MAX, API_STR_ANY,
			     p->manufacturer_name, sizeof(p->manufacturer_name), false) == -EINVAL)
		return -EINVAL;
	if (api_field_string(c, body, "description", 0, STORE_TEXT_MAX, API_STR_ANY,
			     p->description, sizeof(p->description), false) == -EINVAL)
		return -EINVAL;
	/* LwM2M is the only protocol this server speaks; a product of another would never
	 * see a device. It cannot change once the product exists. */
	rc = api_field_string(c, body, "protocol_type", 1, sizeof(protocol) - 1, API_STR_ANY,
			      protocol, sizeof(protocol), false);
	if (rc == -EINVAL)
		return rc;
	if (rc == 0 && strcmp(protocol, "LwM2M") != 0) {
		api_reply_error(c, 400, "protocol_type must be \"LwM2M\"");
		return -EINVAL;
	}
	rc = api_field_string(c, body, "data_format", 1, sizeof(p->data_format) - 1, API_STR_ANY,
			      p->data_format, sizeof(p->data_format), false);
	if (rc == -EINVAL)
		return rc;
	if (strcmp(p->data_format, "binary") != 0 && strcmp(p->data_format, "json") != 0) {
		api_reply_error(c, 400, "data_format must be \"binary\" or \"json\"");
		return -EINVAL;
	}
	return api_read_format_field(c, body, &p->read_format);
}

void api_products_create(struct api_call *c)
{
	struct store_product p;
	json_t *body = api_body_object(c);
	json_t *caps = NULL, *maps = NULL;
	int rc;

	if (!body)
		return;
	memset(&p, 0, sizeof(p));
	str_copy(p.project_id, sizeof(p.project_id), c->project_id);
	str_copy(p.protocol_type, sizeof(p.protocol_type), "LwM2M");
	str_copy(p.data_format, sizeof(p.data_format), "binary");
	p.read_format = -1;
	rc = api_field_string(c, body, "product_id", 1, STORE_ID_MAX, API_STR_ID, p.product_id,
			      sizeof(p.product_id), false);
	if (rc == -EINVAL)
		goto cleanup;
	if (rc == -ENOENT &&
	    token_random_hex(p.product_id, sizeof(p.product_id), PRODUCT_ID_RANDOM_BYTES) != 0) {
		api_reply_error(c, 500, "no randomness for a product_id");
		goto cleanup;
	}
	if (read_product_fields(c, body, &p, true) != 0 || read_model(c, body, &caps) != 0 ||
	    read_mappings(c, body, caps, &p, &maps) != 0)
		goto cleanup;
	p.create_time = (int64_t)time(NULL);

	rc = store_product_insert(c->api->deps.store, &p);
	if (rc == -EEXIST) {
		api_reply_error(c, 409, "product %s already exists", p.product_id);
		goto cleanup;
	}
	if (rc == 0)
		rc = store_mappings(c, &p, maps);
	if (rc == 0)
		rc = store_model(c, &p, caps);
	if (rc != 0) {
		api_reply_store_error(c, rc, "product");
		goto cleanup;
	}
	api_reply(c, 201, product_full_json(c, &p));
cleanup:
	json_decref(maps);
	json_decref(caps);
	json_decref(body);
}

struct list_ctx {
	json_t *items;
	struct store *store;
};

static int list_one(const struct store_product *p, void *ctx)
{
	struct list_ctx *l = ctx;
	return json_array_append_new(l->items, product_counted_json(l->store, p)) == 0 ? 0
										     : -ENOMEM;
}

void api_products_list(struct api_call *c)
{
	struct api_err err;
	struct list_ctx l;
	int64_t limit, offset, total = 0;

	if (api_parse_paging(api_query(c, "limit"), api_query(c, "offset"), &limit, &offset,
			     &err) != 0) {
		api_reply_error(c, 400, "%s", err.msg);
		return;
	}
	l.items = json_array();
	l.store = c->api->deps.store;
	if (!l.items) {
		api_reply_error(c, 500, "out of memory");
		return;
	}
	int rc = store_product_list(c->api->deps.store, c->project_id, offset, limit, list_one, &l,
				    &total);
	if (rc != 0) {
		json_decref(l.items);
		api_reply_store_error(c, rc, "products");
		return;
	}
	api_reply(c, 200,
		  json_pack("{s:o, s:{s:I}}", "products", l.items, "page", "count",
			    (json_int_t)total));
}

void api_products_get(struct api_call *c)
{
	struct store_product p;
	int rc = store_product_get(c->api->deps.store, c->project_id, c->id, &p);
	if (rc != 0) {
		api_reply_store_error(c, rc, "product");
		return;
	}
	api_reply(c, 200, product_full_json(c, &p));
}

void api_products_update(struct api_call *c)
{
	struct store_product p;
	json_t *body = api_body_object(c);
	json_t *caps = NULL, *maps = NULL;
	int rc;

	if (!body)
		return;
	rc = store_product_get(c->api->deps.store, c->project_id, c->id, &p);
	if (rc != 0) {
		api_reply_store_error(c, rc, "product");
		goto cleanup;
	}
	if (read_product_fields(c, body, &p, false) != 0 || read_model(c, body, &caps) != 0 ||
	    read_mappings(c, body, caps, &p, &maps) != 0)
		goto cleanup;
	rc = store_product_update(c->api->deps.store, &p);
	if (rc == 0)
		rc = store_mappings(c, &p, maps);
	if (rc == 0)
		rc = store_model(c, &p, caps);
	if (rc != 0) {
		api_reply_store_error(c, rc, "product");
		goto cleanup;
	}
	api_reply(c, 200, product_full_json(c, &p));
cleanup:
	json_decref(maps);
	json_decref(caps);
	json_decref(body);
}

void api_products_delete(struct api_call *c)
{
	int rc = store_product_delete(c->api->deps.store, c->project_id, c->id);
	if (rc == -EBUSY) {
		api_reply_error(c, 409, "product %s still has devices; delete them first", c->id);
		return;
	}
	if (rc != 0) {
		api_reply_store_error(c, rc, "product");
		return;
	}
	if (c->api->deps.platform)
		iot_platform_product_changed(c->api->deps.platform, c->project_id, c->id);
	api_reply(c, 204, NULL);
}
