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
 * means every item it reports as created is stored. Within the route, every item is
 * checked first (check_one: the single create's checks, and its keys against the store
 * and the batch's earlier items), then the accepted ones are inserted together
 * (store_devices_insert_many, 100 rows a statement): a statement per row cost SQLite a
 * statement journal of a dozen index pages per device (bench/api_batch.sh: about half
 * the daemon's CPU per device).
 *
 * What the body may hold is checked before anything is written: not an object, no
 * "devices" array, more than API_BATCH_DEVICES_MAX items, or an item that is not an
 * object is a 400 for the whole request, and nothing is created.
 */
#include "api/api_internal.h"

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "iot/iot_platform.h"
#include "store/store_bootstrap.h"
#include "store/store_platform.h"
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

/* Keys of the items accepted so far, to find a node_id or device_id that an earlier item
 * of the same batch has: open addressing over item numbers, twice the batch's size. */
#define SEEN_SLOTS (2 * API_BATCH_DEVICES_MAX)

struct seen {
	int16_t slot[SEEN_SLOTS]; /* item number + 1; 0: empty */
};

/* Whether item i's key (at offset off in its device) is an earlier accepted item's; when
 * not, and add is set, it is noted as item i's. */
static bool seen_has(struct seen *s, const struct store_device *devs, size_t off, size_t i,
		     bool add)
{
	const char *key = (const char *)&devs[i] + off;
	uint32_t h = 2166136261u; /* FNV-1a */
	for (const char *p = key; *p; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	for (size_t k = h % SEEN_SLOTS;; k = (k + 1) % SEEN_SLOTS) {
		if (s->slot[k] == 0) {
			if (add)
				s->slot[k] = (int16_t)(i + 1);
			return false;
		}
		if (strcmp((const char *)&devs[s->slot[k] - 1] + off, key) == 0)
			return true;
	}
}

/* One batch's work: the devices read from its items, each item's state, and what the
 * checks need, allocated once (a bootstrap row holds its configuration: too big for the
 * stack). */
struct batch {
	struct api_call *c;
	size_t n;
	struct store_device *devs;	  /* [n] */
	const struct store_device **rows; /* [n]: the accepted ones, for the insert */
	unsigned *status;		  /* [n]: 0 accepted (then created), else the error's */
	json_t **error;			  /* [n]: the error's body when status is not 0 */
	bool *secret_made;		  /* [n] */
	struct product_memo memo;
	struct seen nodes, ids;
	struct store_product product;
	struct store_bs_device bs;
};

static void item_fail(struct batch *b, size_t i, unsigned status, const char *fmt, const char *arg)
{
	char msg[256];
	snprintf(msg, sizeof(msg), fmt, arg);
	b->status[i] = status;
	b->error[i] = api_error_json(status, msg);
}

/* Takes the error a field reader set on the item's call. */
static void item_fail_from_call(struct batch *b, size_t i, struct api_call *ic)
{
	b->status[i] = ic->status ? ic->status : 500;
	b->error[i] = ic->reply;
	ic->reply = NULL;
	ic->status = 0;
}

/*
 * Checks item i as api_devices_create does before its insert: its fields, its product in
 * the project, no clash with a bootstrap identity, neither key taken — in the store or by
 * an earlier item of the batch. Accepted: status[i] stays 0.
 */
static void check_one(struct batch *b, size_t i, const json_t *elem)
{
	struct store *store = b->c->api->deps.store;
	struct store_device *d = &b->devs[i];
	struct api_call ic = *b->c; /* collects a field reader's 400 */
	ic.status = 0;
	ic.reply = NULL;

	str_copy(d->project_id, sizeof(d->project_id), b->c->project_id);
	d->read_format = -1;
	/* Absent or null: read_secret makes one. */
	const json_t *given = json_object_get(json_object_get(elem, "auth_info"), "secret");
	b->secret_made[i] = !given || json_is_null(given);
	if (api_device_read_new(&ic, elem, d) != 0 ||
	    api_read_format_field(&ic, elem, &d->read_format) != 0) {
		item_fail_from_call(b, i, &ic);
		return;
	}
	json_decref(ic.reply);
	struct product_memo *memo = &b->memo;
	if (strcmp(memo->product_id, d->product_id) != 0) {
		memo->rc = store_product_get(store, b->c->project_id, d->product_id, &b->product);
		str_copy(memo->product_id, sizeof(memo->product_id), d->product_id);
	}
	if (memo->rc == -ENOENT)
		return item_fail(b, i, 400, "product_id %s does not exist", d->product_id);
	if (memo->rc != 0) {
		memo->product_id[0] = '\0'; /* a store error is not remembered */
		return item_fail(b, i, 500, "the store failed to read product %s", d->product_id);
	}
	if (store_bs_device_by_identity(store, d->node_id, &b->bs) == 0)
		return item_fail(b, i, 409, "node_id %s is another device's bootstrap identity",
				 d->node_id);
	/* As a single create says it: which key clashed, not where (both are unique across
	 * projects). An earlier item of this batch counts as existing. */
	int clash = store_device_clash(store, d->device_id, d->node_id);
	if (clash < 0)
		return item_fail(b, i, 500, "the store failed to look up device %s", d->device_id);
	const size_t node = offsetof(struct store_device, node_id);
	const size_t id = offsetof(struct store_device, device_id);
	if (clash == 1 || seen_has(&b->nodes, b->devs, node, i, false))
		return item_fail(b, i, 409, "node_id %s already exists", d->node_id);
	if (clash == 2 || seen_has(&b->ids, b->devs, id, i, false))
		return item_fail(b, i, 409, "device_id %s already exists", d->device_id);
	/* Accepted: its keys are taken for the items after it (only then: a refused item's
	 * node_id stays free for a later one). */
	seen_has(&b->nodes, b->devs, node, i, true);
	seen_has(&b->ids, b->devs, id, i, true);
	d->status = STORE_DEVICE_INACTIVE;
	d->create_time = (int64_t)time(NULL);
}

/*
 * Inserts the accepted items: one statement for all of them (one statement journal in the
 * turn's transaction, instead of one per row), and, should it fail anyway, one insert
 * per item so that each gets its own answer.
 */
static void insert_accepted(struct batch *b)
{
	struct store *store = b->c->api->deps.store;
	size_t n = 0;
	for (size_t i = 0; i < b->n; i++)
		if (b->status[i] == 0)
			b->rows[n++] = &b->devs[i];
	if (n == 0 || store_devices_insert_many(store, b->rows, n) == 0)
		return;
	LOG_WARN("api", "a batch's insert failed after its checks: inserting item by item");
	for (size_t i = 0; i < b->n; i++) {
		if (b->status[i] != 0)
			continue;
		int rc = store_device_insert(store, &b->devs[i]);
		if (rc == -EEXIST)
			item_fail(b, i, 409, "device %s already exists", b->devs[i].device_id);
		else if (rc != 0)
			item_fail(b, i, 500, "the store failed to insert device %s",
				  b->devs[i].device_id);
	}
}

static void batch_free(struct batch *b)
{
	if (b->error)
		for (size_t i = 0; i < b->n; i++)
			json_decref(b->error[i]);
	free(b->devs);
	free(b->rows);
	free(b->status);
	free(b->error);
	free(b->secret_made);
	free(b);
}

static struct batch *batch_new(struct api_call *c, size_t n)
{
	struct batch *b = calloc(1, sizeof(*b));
	if (!b)
		return NULL;
	b->c = c;
	b->n = n;
	b->devs = calloc(n, sizeof(*b->devs));
	b->rows = calloc(n, sizeof(*b->rows));
	b->status = calloc(n, sizeof(*b->status));
	b->error = calloc(n, sizeof(*b->error));
	b->secret_made = calloc(n, sizeof(*b->secret_made));
	if (!b->devs || !b->rows || !b->status || !b->error || !b->secret_made) {
		batch_free(b);
		return NULL;
	}
	return b;
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
	struct batch *b = NULL;
	size_t created = 0, i;
	const json_t *elem;

	if (!body)
		return;
	const json_t *items = read_items(c, body);
	if (!items)
		goto cleanup;
	results = json_array();
	b = batch_new(c, json_array_size(items));
	if (!results || !b) {
		api_reply_error(c, 500, "out of memory");
		goto cleanup;
	}
	json_array_foreach(items, i, elem)
	{
		check_one(b, i, elem);
	}
	insert_accepted(b);
	for (i = 0; i < b->n; i++) {
		json_t *r;
		if (b->status[i] == 0) {
			/* The model's default_value of writable properties, as a single create
			 * seeds them; the device exists either way. */
			int rc = c->api->deps.platform
				     ? iot_platform_shadow_seed(c->api->deps.platform, &b->devs[i])
				     : 0;
			if (rc)
				LOG_WARN("api", "device %s: desired defaults not seeded: %s",
					 b->devs[i].device_id, strerror(-rc));
			created++;
			r = created_json(i, &b->devs[i], b->secret_made[i]);
		} else {
			r = failed_json(i, b->error[i]);
			b->error[i] = NULL;
		}
		/* A result lost to memory is still counted: the device exists either way. */
		if (json_array_append_new(results, r) != 0)
			LOG_WARN("api", "batch item %zu: its result did not fit in memory", i);
	}
	if (created)
		LOG_DEBUG("api", "project %s: %zu devices created in a batch, %zu failed",
			  c->project_id, created, b->n - created);
	/* The totals first: a client reading the answer as it streams in sees them at once. */
	api_reply(c, 200,
		  json_pack("{s:I, s:I, s:O}", "created", (json_int_t)created, "failed",
			    (json_int_t)(b->n - created), "devices", results));
cleanup:
	if (b)
		batch_free(b);
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
