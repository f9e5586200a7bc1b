/*
 * api_devices: the /v5/iot/{project_id}/devices routes (IoTDA v5 "Device Management").
 *
 * A device is what may register over LwM2M (docs/architecture.md, security model): its node_id is
 * the endpoint name and the DTLS PSK identity, its secret the PSK key. The secret is shown
 * only when it is made (create, resetSecret); a GET shows the device's live registration,
 * if it has one, from the lwm2m server. Deleting a device or resetting its secret tells
 * the daemon (deps->device_removed / secret_reset) so that its registration ends.
 */
#include "api/api_internal.h"
#include "api/api_jsonw.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "iot/iot_platform.h"
#include "lwm2m/lwm2m_link.h"
#include "lwm2m/lwm2m_server.h"
#include "model/model.h"
#include "store/store_bootstrap.h"
#include "store/store_platform.h"
#include "store/store_search.h"
#include "util/log.h"
#include "util/str.h"
#include "util/token.h"

/* A generated secret: 16 random bytes, 32 hex characters. */
#define SECRET_RANDOM_BYTES 16
#define SECRET_MIN 8
/* Shorter secrets are accepted (IoTDA takes 8 hex digits) but warned about: a PSK of 32
 * bits falls to an offline search. */
#define SECRET_WARN_BELOW (2 * SECRET_RANDOM_BYTES)
/* Seconds a never-connected device may live: bounded so create_time + timeout fits. */
#define TIMEOUT_MAX 2147483647

static const char *status_name(int status)
{
	switch (status) {
	case STORE_DEVICE_ONLINE:
		return "ONLINE";
	case STORE_DEVICE_OFFLINE:
		return "OFFLINE";
	default:
		return "INACTIVE";
	}
}

static int status_parse(const char *s)
{
	if (strcmp(s, "ONLINE") == 0)
		return STORE_DEVICE_ONLINE;
	if (strcmp(s, "OFFLINE") == 0)
		return STORE_DEVICE_OFFLINE;
	if (strcmp(s, "INACTIVE") == 0)
		return STORE_DEVICE_INACTIVE;
	return -EINVAL;
}

/* The objects a registration announces that no model describes (their values stay
 * untyped), each once. */
struct unknown_objects {
	json_t *list;
	const char *alt_path; /* the registration's alternate path, "" when none */
};

static int note_unknown(const struct lwm2m_link *link, void *ctx)
{
	struct unknown_objects *u = ctx;
	struct lwm2m_path p;
	size_t alt = strlen(u->alt_path);
	if (link->uri_len <= alt || lwm2m_path_parse(link->uri + alt, link->uri_len - alt, &p) != 0 ||
	    p.len == 0 || model_object(p.ids[0]))
		return 0;
	size_t i;
	json_t *seen;
	json_array_foreach(u->list, i, seen)
	{
		if (json_integer_value(seen) == p.ids[0])
			return 0;
	}
	json_array_append_new(u->list, json_integer(p.ids[0]));
	return 0;
}

static json_t *unknown_objects_json(const char *links)
{
	struct lwm2m_reg_links info;
	struct unknown_objects u = { json_array(), "" };
	if (!u.list || !links || lwm2m_reg_links_check(links, strlen(links), &info) != 0)
		return u.list;
	u.alt_path = info.alt_path;
	lwm2m_link_parse(links, strlen(links), note_unknown, &u);
	return u.list;
}

/* Whether the daemon holds requests for reg until it next speaks (docs/api.md "Queue
 * mode"): a queue-mode device silent for the queue window, or not heard from since the
 * daemon started (last_seen_ms 0). The same test as the requests' route. */
static bool asleep(const struct api_deps *deps, const struct lwm2m_registration *reg)
{
	return reg->queue_mode && deps->queue_window_ms &&
	       api_now_ms() - reg->last_seen_ms > (int64_t)deps->queue_window_ms;
}

static json_t *lwm2m_json(struct api_call *c, const struct lwm2m_registration *reg)
{
	const struct api_deps *deps = &c->api->deps;
	char peer[ADDR_STR_MAX];
	char registered[API_TIME_MAX];
	char updated[API_TIME_MAX];
	char seen[API_TIME_MAX];
	json_t *o = json_object();
	int rc = 0;

	if (!o)
		return NULL;
	/* Restored at start: last heard from at its last Register or Update, as stored. */
	int64_t last_seen = reg->last_seen_ms ? reg->last_seen_ms : reg->updated_at_ms;
	const char *suite = reg->transport == LWM2M_TRANSPORT_DTLS && deps->cipher_suite
				    ? deps->cipher_suite(deps->ctx, reg->endpoint)
				    : NULL;
	rc |= json_object_set_new(o, "registration_id", api_json_str(reg->id));
	rc |= json_object_set_new(o, "lifetime", json_integer(reg->lifetime));
	rc |= json_object_set_new(o, "binding", api_json_str(reg->binding));
	rc |= json_object_set_new(o, "lwm2m_version", api_json_str(reg->version));
	rc |= json_object_set_new(o, "queue_mode", json_boolean(reg->queue_mode));
	rc |= json_object_set_new(o, "asleep", json_boolean(asleep(deps, reg)));
	rc |= json_object_set_new(o, "last_seen",
				  api_json_str(api_format_time(last_seen / 1000, seen)));
	if (suite)
		rc |= json_object_set_new(o, "cipher_suite", api_json_str(suite));
	rc |= json_object_set_new(o, "object_links", api_json_str(reg->links ? reg->links : ""));
	rc |= json_object_set_new(o, "unknown_objects", unknown_objects_json(reg->links));
	rc |= json_object_set_new(o, "peer_address", api_json_str(addr_format(&reg->peer, peer)));
	rc |= json_object_set_new(
		o, "transport",
		api_json_str(reg->transport == LWM2M_TRANSPORT_DTLS ? "dtls" : "udp"));
	rc |= json_object_set_new(
		o, "registered_time",
		api_json_str(api_format_time(reg->registered_at_ms / 1000, registered)));
	rc |= json_object_set_new(
		o, "last_update_time",
		api_json_str(api_format_time(reg->updated_at_ms / 1000, updated)));
	if (rc != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* The device's live registration, if any, and its status: the store's lags the live
 * table by up to one write-behind flush (100 ms); the live registration is the truth for
 * ONLINE/OFFLINE. */
static int live_status(struct api_call *c, const struct store_device *d,
		       struct lwm2m_registration **reg)
{
	*reg = NULL;
	if (!c->api->deps.lwm2m)
		return d->status;
	*reg = lwm2m_server_find_endpoint(c->api->deps.lwm2m, d->node_id);
	if (*reg)
		return STORE_DEVICE_ONLINE;
	return d->status == STORE_DEVICE_ONLINE ? STORE_DEVICE_OFFLINE : d->status;
}

/* The device as IoTDA shows it. The secret only when with_secret; the live registration
 * only when with_lwm2m and the daemon gave us its lwm2m server (tests pass none).
 * device_text writes the same for the routes that answer most (list, get). */
static json_t *device_json(struct api_call *c, const struct store_device *d, bool with_secret,
			   bool with_lwm2m)
{
	char t[API_TIME_MAX];
	json_t *o = json_object();
	json_t *auth = json_object();
	int rc = 0;
	struct lwm2m_registration *reg;
	int status = live_status(c, d, &reg);

	if (!o || !auth)
		goto fail;
	rc |= json_object_set_new(auth, "auth_type", json_string("SECRET"));
	if (with_secret)
		rc |= json_object_set_new(auth, "secret", api_json_str(d->secret));
	rc |= json_object_set_new(auth, "secure_access", json_boolean(d->secure_access));
	rc |= json_object_set_new(auth, "timeout", json_integer(d->timeout));

	rc |= json_object_set_new(o, "device_id", api_json_str(d->device_id));
	rc |= json_object_set_new(o, "node_id", api_json_str(d->node_id));
	rc |= json_object_set_new(o, "device_name", api_json_str(d->device_name));
	rc |= json_object_set_new(o, "product_id", api_json_str(d->product_id));
	rc |= json_object_set_new(o, "description", api_json_str(d->description));
	rc |= json_object_set_new(o, "status", api_json_str(status_name(status)));
	rc |= json_object_set_new(o, "read_format", api_read_format_json(d->read_format));
	rc |= json_object_set_new(o, "create_time",
				  api_json_str(api_format_time(d->create_time, t)));
	rc |= json_object_set_new(o, "auth_info", auth);
	auth = NULL;
	if (with_lwm2m && reg)
		rc |= json_object_set_new(o, "lwm2m", lwm2m_json(c, reg));
	if (rc != 0)
		goto fail;
	return o;
fail:
	json_decref(auth);
	json_decref(o);
	return NULL;
}

/* device_json(c, d, false, with_lwm2m) as text, byte for byte (the same members in the
 * same order; test_api_devices_text.c compares the two): a page of the list is written
 * without a jansson object per device. */
static void device_text(struct api_jsonw *w, struct api_call *c, const struct store_device *d,
			bool with_lwm2m)
{
	struct lwm2m_registration *reg;
	int status = live_status(c, d, &reg);
	const char *read_format = d->read_format >= 0 ? api_format_name(d->read_format) : NULL;

	api_jsonw_lit(w, "{\"device_id\":");
	api_jsonw_str(w, d->device_id);
	api_jsonw_lit(w, ",\"node_id\":");
	api_jsonw_str(w, d->node_id);
	api_jsonw_lit(w, ",\"device_name\":");
	api_jsonw_str(w, d->device_name);
	api_jsonw_lit(w, ",\"product_id\":");
	api_jsonw_str(w, d->product_id);
	api_jsonw_lit(w, ",\"description\":");
	api_jsonw_str(w, d->description);
	api_jsonw_lit(w, ",\"status\":");
	api_jsonw_str(w, status_name(status));
	api_jsonw_lit(w, ",\"read_format\":");
	if (read_format)
		api_jsonw_str(w, read_format);
	else
		api_jsonw_lit(w, "null");
	api_jsonw_lit(w, ",\"create_time\":");
	api_jsonw_time(w, d->create_time);
	api_jsonw_lit(w, ",\"auth_info\":{\"auth_type\":\"SECRET\",\"secure_access\":");
	api_jsonw_bool(w, d->secure_access);
	api_jsonw_lit(w, ",\"timeout\":");
	api_jsonw_int(w, d->timeout);
	api_jsonw_lit(w, "}");
	if (with_lwm2m && reg) {
		json_t *live = lwm2m_json(c, reg);
		api_jsonw_lit(w, ",\"lwm2m\":");
		api_jsonw_value(w, live);
		json_decref(live);
	}
	api_jsonw_lit(w, "}");
}

/*
 * Reads path as a device secret into secret, or makes one when it is absent: 8-64 hex
 * digits, an even count since they stand for the PSK's bytes. Returns 0, or -EINVAL with
 * the reply set.
 */
static int read_secret(struct api_call *c, const json_t *obj, const char *path,
		       char secret[STORE_SECRET_MAX + 1])
{
	int rc = api_field_string(c, obj, path, SECRET_MIN, STORE_SECRET_MAX, API_STR_HEX, secret,
				  STORE_SECRET_MAX + 1, false);
	if (rc != -ENOENT)
		return rc;
	if (token_random_hex(secret, STORE_SECRET_MAX + 1, SECRET_RANDOM_BYTES) != 0) {
		api_reply_error(c, 500, "no randomness for a secret");
		return -EINVAL;
	}
	return 0;
}

/* A secret given shorter than what we generate: the answer says so in "warnings". */
json_t *api_device_warn_short_secret(json_t *reply, const char *field, const char *secret)
{
	size_t len = strlen(secret);
	if (!reply || len >= SECRET_WARN_BELOW)
		return reply;
	char text[256];
	snprintf(text, sizeof(text),
		 "%s has only %zu bits: accepted, but a key this short can be found by trying "
		 "them all; use at least %d hex digits (%d bits), as generated secrets have",
		 field, len * 4, SECRET_WARN_BELOW, SECRET_WARN_BELOW * 4);
	json_object_set_new(reply, "warnings", json_pack("[s]", text));
	return reply;
}

/* Reads auth_info's updatable members; absent ones keep d's values. */
static int read_auth_info(struct api_call *c, const json_t *body, struct store_device *d)
{
	struct api_err err;
	int64_t timeout;

	if (api_json_object(body, "auth_info", &err) == -EINVAL) {
		api_reply_error(c, 400, "%s", err.msg);
		return -EINVAL;
	}
	if (api_field_bool(c, body, "auth_info.secure_access", &d->secure_access) == -EINVAL)
		return -EINVAL;
	int rc = api_field_int(c, body, "auth_info.timeout", 0, TIMEOUT_MAX, &timeout);
	if (rc == -EINVAL)
		return rc;
	if (rc == 0)
		d->timeout = timeout;
	return 0;
}

/* Reads a create's body into d (project_id already set). Returns 0 or -EINVAL. The bulk
 * create (api_devices_batch.c) reads each of its items with it too. */
int api_device_read_new(struct api_call *c, const json_t *body, struct store_device *d)
{
	char auth_type[16];
	int rc;

	if (api_field_string(c, body, "node_id", 1, STORE_NODE_ID_MAX, API_STR_ID, d->node_id,
			     sizeof(d->node_id), true) != 0)
		return -EINVAL;
	if (api_field_string(c, body, "product_id", 1, STORE_ID_MAX, API_STR_ID, d->product_id,
			     sizeof(d->product_id), true) != 0)
		return -EINVAL;
	rc = api_field_string(c, body, "device_id", 1, STORE_ID_MAX, API_STR_ID, d->device_id,
			      sizeof(d->device_id), false);
	if (rc == -EINVAL)
		return rc;
	if (rc == -ENOENT) {
		/* IoTDA's default: "{product_id}_{node_id}", which may not fit. */
		int n = snprintf(d->device_id, sizeof(d->device_id), "%s_%s", d->product_id,
				 d->node_id);
		if (n < 0 || (size_t)n >= sizeof(d->device_id)) {
			api_reply_error(c, 400,
					"device_id is required when \"{product_id}_{node_id}\" is "
					"longer than %d characters",
					STORE_ID_MAX);
			return -EINVAL;
		}
	}
	rc = api_field_string(c, body, "device_name", 1, STORE_NAME_MAX, API_STR_ANY,
			      d->device_name, sizeof(d->device_name), false);
	if (rc == -EINVAL)
		return rc;
	if (rc == -ENOENT)
		str_copy(d->device_name, sizeof(d->device_name), d->node_id);
	if (api_field_string(c, body, "description", 0, STORE_TEXT_MAX, API_STR_ANY,
			     d->description, sizeof(d->description), false) == -EINVAL)
		return -EINVAL;

	rc = api_field_string(c, body, "auth_info.auth_type", 1, sizeof(auth_type) - 1,
			      API_STR_ANY, auth_type, sizeof(auth_type), false);
	if (rc == -EINVAL)
		return rc;
	if (rc == 0 && strcmp(auth_type, "SECRET") != 0) {
		api_reply_error(c, 400, "auth_info.auth_type must be \"SECRET\"");
		return -EINVAL;
	}
	if (read_auth_info(c, body, d) != 0)
		return -EINVAL;
	return read_secret(c, body, "auth_info.secret", d->secret);
}

void api_devices_create(struct api_call *c)
{
	struct store *store = c->api->deps.store;
	struct store_product product;
	struct store_device d, other;
	json_t *body = api_body_object(c);
	int rc;

	if (!body)
		return;
	memset(&d, 0, sizeof(d));
	str_copy(d.project_id, sizeof(d.project_id), c->project_id);
	d.read_format = -1;
	if (api_device_read_new(c, body, &d) != 0 ||
	    api_read_format_field(c, body, &d.read_format) != 0)
		goto cleanup;

	rc = store_product_get(store, c->project_id, d.product_id, &product);
	if (rc == -ENOENT) {
		api_reply_error(c, 400, "product_id %s does not exist", d.product_id);
		goto cleanup;
	}
	if (rc != 0) {
		api_reply_store_error(c, rc, "product");
		goto cleanup;
	}
	/* A bootstrap identity is looked up before node IDs (a template's devices use their
	 * node ID): a new node ID another device bootstraps as could never bootstrap. */
	struct store_bs_device *bs = malloc(sizeof(*bs));
	if (!bs) {
		api_reply_error(c, 500, "out of memory");
		goto cleanup;
	}
	rc = store_bs_device_by_identity(store, d.node_id, bs);
	free(bs);
	if (rc == 0) {
		api_reply_error(c, 409, "node_id %s is another device's bootstrap identity",
				d.node_id);
		goto cleanup;
	}
	d.status = STORE_DEVICE_INACTIVE;
	d.create_time = (int64_t)time(NULL);
	rc = store_device_insert(store, &d);
	if (rc == -EEXIST) {
		/* node_id is unique across projects: say which key clashed, not where. */
		if (store_device_get_by_node_id(store, d.node_id, &other) == 0)
			api_reply_error(c, 409, "node_id %s already exists", d.node_id);
		else
			api_reply_error(c, 409, "device_id %s already exists", d.device_id);
		goto cleanup;
	}
	if (rc != 0) {
		api_reply_store_error(c, rc, "device");
		goto cleanup;
	}
	/* The model's default_value of writable properties: what the device should be set to
	 * when it first connects. The device exists either way. */
	if (c->api->deps.platform && (rc = iot_platform_shadow_seed(c->api->deps.platform, &d)))
		LOG_WARN("api", "device %s: desired defaults not seeded: %s", d.device_id,
			 strerror(-rc));
	api_reply(c, 201,
		  api_device_warn_short_secret(device_json(c, &d, true, false),
					       "auth_info.secret", d.secret));
cleanup:
	json_decref(body);
}

struct list_ctx {
	struct api_call *call;
	struct api_jsonw w;
	bool first;
};

static int list_one(const struct store_device *d, void *ctx)
{
	struct list_ctx *l = ctx;
	if (!l->first)
		api_jsonw_lit(&l->w, ",");
	l->first = false;
	device_text(&l->w, l->call, d, false);
	return l->w.failed ? -ENOMEM : 0;
}

/* A filter from the query: absent or empty means any. Returns 0 or -EINVAL. */
static int read_filter(struct api_call *c, const char *name, size_t max, enum api_str_rule rule,
		       const char **out)
{
	struct api_err err;
	const char *s = api_query(c, name);

	*out = "";
	if (!s || s[0] == '\0')
		return 0;
	if (api_check_string(name, s, strlen(s), 1, max, rule, &err) != 0) {
		api_reply_error(c, 400, "%s", err.msg);
		return -EINVAL;
	}
	*out = s;
	return 0;
}

/* The listing's query (docs/api.md "List devices"): filters, and where the page starts. */
static int read_list_query(struct api_call *c, struct store_device_filter *f)
{
	struct api_err err;
	const char *status;

	if (api_parse_paging(api_query(c, "limit"), api_query(c, "offset"), &f->limit, &f->offset,
			     &err) != 0) {
		api_reply_error(c, 400, "%s", err.msg);
		return -EINVAL;
	}
	/* An offset is walked row by row; deeper pages are reached with the marker. */
	if (f->offset > STORE_OFFSET_MAX) {
		api_reply_error(c, 400,
				"offset must be at most %d; page further with marker", STORE_OFFSET_MAX);
		return -EINVAL;
	}
	if (read_filter(c, "product_id", STORE_ID_MAX, API_STR_ID, &f->product_id) != 0 ||
	    read_filter(c, "node_id", STORE_NODE_ID_MAX, API_STR_ID, &f->node_id) != 0 ||
	    read_filter(c, "node_id_prefix", STORE_NODE_ID_MAX, API_STR_ID, &f->node_id_prefix) != 0 ||
	    read_filter(c, "name", STORE_NAME_MAX, API_STR_ANY, &f->name_prefix) != 0 ||
	    read_filter(c, "marker", STORE_MARKER_MAX, API_STR_ANY, &f->marker) != 0)
		return -EINVAL;
	status = api_query(c, "status");
	if (status && status[0] != '\0') {
		f->status = status_parse(status);
		if (f->status < 0) {
			api_reply_error(c, 400, "status must be ONLINE, OFFLINE or INACTIVE");
			return -EINVAL;
		}
	}
	return 0;
}

/* A page's text: about 350 bytes a device. */
#define LIST_BYTES_PER_DEVICE 384

/* {"devices":[...],"page":{"count":N,"count_capped":B[,"marker":M]}}, written as text (the
 * order of the members is the one jansson kept when this was built with it). */
void api_devices_list(struct api_call *c)
{
	struct store_device_filter f = {.status = -1};
	struct store_device_page page;
	struct list_ctx l = {.call = c, .first = true};

	if (read_list_query(c, &f) != 0)
		return;
	api_jsonw_init(&l.w, (size_t)f.limit * LIST_BYTES_PER_DEVICE + 128);
	api_jsonw_lit(&l.w, "{\"devices\":[");
	int rc = store_device_list(c->api->deps.store, c->project_id, &f, list_one, &l, &page);
	if (rc == -EINVAL) {
		api_jsonw_free(&l.w);
		api_reply_error(c, 400,
				"marker is not one this listing gave: pass page.marker back with the "
				"same filters");
		return;
	}
	if (rc != 0) {
		api_jsonw_free(&l.w);
		if (rc == -ENOMEM)
			api_reply_error(c, 500, "out of memory");
		else
			api_reply_store_error(c, rc, "devices");
		return;
	}
	api_jsonw_lit(&l.w, "],\"page\":{\"count\":");
	api_jsonw_int(&l.w, page.count);
	api_jsonw_lit(&l.w, ",\"count_capped\":");
	api_jsonw_bool(&l.w, page.count_capped);
	if (page.marker[0]) {
		api_jsonw_lit(&l.w, ",\"marker\":");
		api_jsonw_str(&l.w, page.marker);
	}
	api_jsonw_lit(&l.w, "}}");
	size_t len = 0;
	char *text = api_jsonw_take(&l.w, &len);
	api_reply_text(c, 200, text, len);
}

void api_devices_get(struct api_call *c)
{
	struct store_device d;
	int rc = store_device_get(c->api->deps.store, c->project_id, c->id, &d);
	if (rc != 0) {
		api_reply_store_error(c, rc, "device");
		return;
	}
	struct api_jsonw w;
	api_jsonw_init(&w, 0);
	device_text(&w, c, &d, true);
	size_t len = 0;
	char *text = api_jsonw_take(&w, &len);
	api_reply_text(c, 200, text, len);
}

void api_devices_update(struct api_call *c)
{
	struct store_device d;
	json_t *body = api_body_object(c);
	int rc;

	if (!body)
		return;
	rc = store_device_get(c->api->deps.store, c->project_id, c->id, &d);
	if (rc != 0) {
		api_reply_store_error(c, rc, "device");
		goto cleanup;
	}
	if (api_field_string(c, body, "device_name", 1, STORE_NAME_MAX, API_STR_ANY,
			     d.device_name, sizeof(d.device_name), false) == -EINVAL)
		goto cleanup;
	if (api_field_string(c, body, "description", 0, STORE_TEXT_MAX, API_STR_ANY,
			     d.description, sizeof(d.description), false) == -EINVAL)
		goto cleanup;
	bool was_secure = d.secure_access;
	if (read_auth_info(c, body, &d) != 0 || api_read_format_field(c, body, &d.read_format) != 0)
		goto cleanup;
	rc = store_device_update(c->api->deps.store, &d);
	if (rc != 0) {
		api_reply_store_error(c, rc, "device");
		goto cleanup;
	}
	/* A change of secure_access invalidates the transport the device registered over:
	 * its registration and DTLS sessions end, as when it is deleted. */
	if (was_secure != d.secure_access && c->api->deps.device_removed)
		c->api->deps.device_removed(c->api->deps.ctx, d.node_id);
	api_reply(c, 200, device_json(c, &d, false, true));
cleanup:
	json_decref(body);
}

void api_devices_delete(struct api_call *c)
{
	struct api_deps *deps = &c->api->deps;
	struct store_device d;
	int rc = store_device_get(deps->store, c->project_id, c->id, &d);
	if (rc == 0)
		rc = store_device_delete(deps->store, c->project_id, c->id);
	if (rc != 0) {
		api_reply_store_error(c, rc, "device");
		return;
	}
	/* Its shadow goes with it; its commands stay as history, the open ones FAILED. */
	if (store_shadow_delete_device(deps->store, d.device_id) != 0 ||
	    store_command_close_device(deps->store, d.device_id, (int64_t)time(NULL) * 1000) != 0)
		LOG_WARN("api", "device %s deleted; its shadow or commands were not cleaned up",
			 d.device_id);
	api_reply(c, 204, NULL);
	if (deps->device_removed)
		deps->device_removed(deps->ctx, d.node_id);
}

/* POST .../action?action_id=resetSecret: a new secret, given or generated. */
static void reset_secret(struct api_call *c)
{
	struct api_deps *deps = &c->api->deps;
	struct store_device d;
	char secret[STORE_SECRET_MAX + 1];
	json_t *body = NULL;
	int rc;

	/* The body is optional here: none means "generate one". */
	if (c->body_len > 0) {
		body = api_body_object(c);
		if (!body)
			return;
	}
	rc = body ? read_secret(c, body, "secret", secret)
		  : token_random_hex(secret, sizeof(secret), SECRET_RANDOM_BYTES);
	if (rc != 0) {
		if (c->status == 0)
			api_reply_error(c, 500, "no randomness for a secret");
		goto cleanup;
	}
	rc = store_device_get(deps->store, c->project_id, c->id, &d);
	if (rc != 0) {
		api_reply_store_error(c, rc, "device");
		goto cleanup;
	}
	memcpy(d.secret, secret, sizeof(d.secret));
	rc = store_device_update(deps->store, &d);
	if (rc != 0) {
		api_reply_store_error(c, rc, "device");
		goto cleanup;
	}
	api_reply(c, 200,
		  api_device_warn_short_secret(json_pack("{s:s, s:s}", "device_id", d.device_id,
							 "secret", d.secret),
					       "secret", d.secret));
	if (deps->secret_reset)
		deps->secret_reset(deps->ctx, d.node_id);
cleanup:
	json_decref(body);
}

void api_devices_action(struct api_call *c)
{
	const char *action = api_query(c, "action_id");
	if (!action || action[0] == '\0') {
		api_reply_error(c, 400, "action_id is required");
		return;
	}
	if (strcmp(action, "resetSecret") != 0) {
		api_reply_error(c, 400, "action_id must be resetSecret");
		return;
	}
	reset_secret(c);
}
