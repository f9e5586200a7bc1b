/*
 * api_devices_batch: POST /v5/iot/{project_id}/devices/batch, bulk device registration
 * (docs/api.md "Create devices in bulk").
 *
 * One request carries up to API_BATCH_DEVICES_MAX devices, each exactly what
 * POST .../devices takes (read by api_device_read_new, so every field rule, default and
 * secret rule is the single create's). Each item succeeds or fails on its own: a bad
 * field, an unknown product or a node_id that exists (in the store or earlier in the same
 * batch) is that item's error and the others are still created. The answer is a 200 with
 * one result per item, in order.
 *
 * Why a batch is fast: the whole route runs in one loop turn, so its inserts are one
 * transaction of the group commit, and the answer waits for that one commit
 * (api_http.c's hold_until_commit) instead of one commit per device. A 200 therefore
 * means every item it reports as created is stored.
 *
 * What the body may hold is checked before anything is written: not an object, no
 * "devices" array, more than API_BATCH_DEVICES_MAX items, or an item that is not an
 * object is a 400 for the whole request, and nothing is created.
 */
#include "api/api_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "iot/iot_platform.h"
#include "store/store_bootstrap.h"
#include "util/log.h"
#include "util/str.h"

bool api_devices_batch_is_route(const char *url, const char *method)
{
	static const char prefix[] = "/v5/iot/", suffix[] = "/devices/batch";
	const size_t pre = sizeof(prefix) - 1, suf = sizeof(suffix) - 1;
	size_t n = strlen(url);
	if (strcmp(method, "POST") != 0 || n <= pre + suf || strncmp(url, prefix, pre) != 0 ||
	    strcmp(url + n - suf, suffix) != 0)
		return false;
	/* One segment between them: the project. */
	return memchr(url + pre, '/', n - pre - suf) == NULL;
}

/* The product an item names, looked up once per batch while items repeat it (they
 * usually all name one). */
struct product_memo {
	char product_id[STORE_ID_MAX + 1];
	int rc; /* store_product_get's answer for it */
};

/* What checking and inserting one item needs, allocated once per batch (a bootstrap row
 * holds its configuration: too big for the stack, and reused item after item). */
struct batch_scratch {
	struct store_device d, other;
	struct store_product product;
	struct store_bs_device bs;
};

/* The outcome of one item: 0 with d created, or an HTTP status with the error's JSON in
 * *error (owned by the caller from then on). */
struct item_outcome {
	unsigned status;
	json_t *error;
};

static void item_fail(struct item_outcome *out, unsigned status, const char *msg)
{
	out->status = status;
	out->error = api_error_json(status, msg);
}

/* Takes the error a field reader set on the item's call. */
static void item_fail_from_call(struct item_outcome *out, struct api_call *ic)
{
	out->status = ic->status ? ic->status : 500;
	out->error = ic->reply;
	ic->reply = NULL;
	ic->status = 0;
}

/*
 * Creates one device from elem, as api_devices_create does: its fields, its product in
 * the project, no clash with a bootstrap identity, the insert, the shadow's defaults.
 * ic is a copy of the batch's call whose reply collects a field's error.
 */
static void create_one(struct api_call *ic, const json_t *elem, struct product_memo *memo,
		       struct batch_scratch *w, struct item_outcome *out)
{
	struct store *store = ic->api->deps.store;
	struct store_device *d = &w->d;
	char msg[256];
	int rc;

	memset(d, 0, sizeof(*d));
	str_copy(d->project_id, sizeof(d->project_id), ic->project_id);
	d->read_format = -1;
	if (api_device_read_new(ic, elem, d) != 0 ||
	    api_read_format_field(ic, elem, &d->read_format) != 0) {
		item_fail_from_call(out, ic);
		return;
	}
	if (strcmp(memo->product_id, d->product_id) != 0) {
		memo->rc = store_product_get(store, ic->project_id, d->product_id, &w->product);
		str_copy(memo->product_id, sizeof(memo->product_id), d->product_id);
	}
	if (memo->rc == -ENOENT) {
		snprintf(msg, sizeof(msg), "product_id %s does not exist", d->product_id);
		item_fail(out, 400, msg);
		return;
	}
	if (memo->rc != 0) {
		memo->product_id[0] = '\0'; /* a store error is not remembered */
		item_fail(out, 500, "the store failed to read the product");
		return;
	}
	rc = store_bs_device_by_identity(store, d->node_id, &w->bs);
	if (rc == 0) {
		snprintf(msg, sizeof(msg), "node_id %s is another device's bootstrap identity",
			 d->node_id);
		item_fail(out, 409, msg);
		return;
	}
	d->status = STORE_DEVICE_INACTIVE;
	d->create_time = (int64_t)time(NULL);
	rc = store_device_insert(store, d);
	if (rc == -EEXIST) {
		/* As a single create says it: which key clashed, not where (node_id is unique
		 * across projects). An earlier item of this batch counts as existing. */
		if (store_device_get_by_node_id(store, d->node_id, &w->other) == 0)
			snprintf(msg, sizeof(msg), "node_id %s already exists", d->node_id);
		else
			snprintf(msg, sizeof(msg), "device_id %s already exists", d->device_id);
		item_fail(out, 409, msg);
		return;
	}
	if (rc != 0) {
		item_fail(out, 500, "the store failed to insert the device");
		return;
	}
	if (ic->api->deps.platform && (rc = iot_platform_shadow_seed(ic->api->deps.platform, d)))
		LOG_WARN("api", "device %s: desired defaults not seeded: %s", d->device_id,
			 strerror(-rc));
	out->status = 0;
	out->error = NULL;
}

/* The result of a created item: its ids, and its secret only when the daemon made it
 * (one the client sent, it knows; a short one is warned about as a single create does). */
static json_t *created_json(size_t index, const struct store_device *d, bool secret_made)
{
	json_t *o = json_pack("{s:I, s:o, s:o}", "index", (json_int_t)index, "device_id",
			      api_json_str(d->device_id), "node_id", api_json_str(d->node_id));
	if (!o)
		return NULL;
	if (!secret_made)
		return api_device_warn_short_secret(o, "auth_info.secret", d->secret);
	if (json_object_set_new(o, "secret", api_json_str(d->secret)) != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* The result of a failed item: its index before the error's members. */
static json_t *failed_json(size_t index, json_t *error)
{
	json_t *o = json_pack("{s:I}", "index", (json_int_t)index);
	if (!o || !error || json_object_update(o, error) != 0) {
		json_decref(o);
		o = NULL;
	}
	json_decref(error);
	return o;
}

/* The whole request's checks: an object with "devices", an array of 1..max objects.
 * Returns the array (borrowed from body), or NULL with the 400 set. */
static const json_t *read_items(struct api_call *c, const json_t *body)
{
	const json_t *items = json_object_get(body, "devices");
	size_t i;
	const json_t *elem;

	if (!items) {
		api_reply_error(c, 400, "devices is required");
		return NULL;
	}
	if (!json_is_array(items)) {
		api_reply_error(c, 400, "devices must be an array");
		return NULL;
	}
	if (json_array_size(items) == 0 || json_array_size(items) > API_BATCH_DEVICES_MAX) {
		api_reply_error(c, 400, "devices must hold 1 to %d devices, not %zu",
				API_BATCH_DEVICES_MAX, json_array_size(items));
		return NULL;
	}
	json_array_foreach(items, i, elem)
	{
		if (!json_is_object(elem)) {
			api_reply_error(c, 400, "devices[%zu] must be an object", i);
			return NULL;
		}
	}
	return items;
}

static void devices_batch(struct api_call *c)
{
	json_t *body = api_body_object(c);
	json_t *results = NULL;
	struct batch_scratch *w = NULL;
	struct product_memo memo = {"", 0};
	size_t created = 0, failed = 0, i;
	const json_t *elem;

	if (!body)
		return;
	const json_t *items = read_items(c, body);
	if (!items)
		goto cleanup;
	results = json_array();
	w = malloc(sizeof(*w));
	if (!results || !w) {
		api_reply_error(c, 500, "out of memory");
		goto cleanup;
	}
	json_array_foreach(items, i, elem)
	{
		struct api_call ic = *c;
		struct item_outcome out;
		ic.status = 0;
		ic.reply = NULL;
		/* Absent or null: read_secret makes one. */
		const json_t *given = json_object_get(json_object_get(elem, "auth_info"), "secret");
		bool secret_made = !given || json_is_null(given);
		create_one(&ic, elem, &memo, w, &out);
		json_decref(ic.reply);
		json_t *r = out.status == 0 ? created_json(i, &w->d, secret_made)
					    : failed_json(i, out.error);
		if (out.status == 0)
			created++;
		else
			failed++;
		/* A result lost to memory is still counted: the device exists either way. */
		if (json_array_append_new(results, r) != 0)
			LOG_WARN("api", "batch item %zu: its result did not fit in memory", i);
	}
	if (created)
		LOG_DEBUG("api", "project %s: %zu devices created in a batch, %zu failed",
			  c->project_id, created, failed);
	/* The totals first: a client reading the answer as it streams in sees them at once. */
	api_reply(c, 200,
		  json_pack("{s:I, s:I, s:O}", "created", (json_int_t)created, "failed",
			    (json_int_t)failed, "devices", results));
cleanup:
	free(w);
	json_decref(results);
	json_decref(body);
}

/* POST /v5/iot/{p}/devices/{id}: only {id} "batch" is a route; another device_id keeps
 * its GET, PUT and DELETE (a device may be called "batch"), and POST on it is a 405. */
void api_devices_item_post(struct api_call *c)
{
	if (c->id && strcmp(c->id, "batch") == 0) {
		devices_batch(c);
		return;
	}
	c->allow = "GET, PUT, DELETE";
	api_reply_error(c, 405, "method POST not allowed here (allowed: GET, PUT, DELETE)");
}
