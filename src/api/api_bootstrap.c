/*
 * api_bootstrap: the bootstrap configuration routes (docs/bootstrap.md "The API"):
 * PUT|GET|DELETE /v5/iot/{p}/devices/{id}/bootstrap, a device's own configuration with
 * its status and history, and /v5/iot/{p}/products/{id}/bootstrap, a product's template.
 *
 * bootstrap/bs_config.c reads and checks a configuration; this file finds the device or
 * product (404 when it is not the project's), resolves the bootstrap identity, and keeps
 * the configuration's stored JSON text. Keys are never shown back: the device API shows
 * a device's secret only when it makes one, and a bootstrap key is always given by the
 * caller, so there is nothing to show that the caller does not already hold.
 */
#include "api/api_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bootstrap/bs_config.h"
#include "store/store_bootstrap.h"

static int device_of(struct api_call *c, struct store_device *dev)
{
	int rc = store_device_get(c->api->deps.store, c->project_id, c->id, dev);
	if (rc)
		api_reply_store_error(c, rc, "device");
	return rc;
}

static int product_of(struct api_call *c, struct store_product *p)
{
	int rc = store_product_get(c->api->deps.store, c->project_id, c->id, p);
	if (rc)
		api_reply_store_error(c, rc, "product");
	return rc;
}

/* The body as a configuration: 0, or -EINVAL with the 400 set. */
static int read_config(struct api_call *c, bool is_template, struct bs_config *cfg)
{
	json_t *body = api_body_object(c);
	if (!body)
		return -EINVAL;
	char why[256] = "";
	int rc = bs_config_from_json(body, is_template, cfg, why, sizeof(why));
	json_decref(body);
	if (rc != 0)
		api_reply_error(c, 400, "%s", why);
	return rc;
}

/* The configuration's stored text into out (cap STORE_BS_CONFIG_MAX + 1): 0 or -ENOMEM
 * (the 500 set). Its fields are bounded, so it always fits. */
static int stored_text(struct api_call *c, const struct bs_config *cfg, bool is_template,
		       char out[STORE_BS_CONFIG_MAX + 1])
{
	json_t *o = bs_config_to_json(cfg, is_template, false);
	char *text = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(o);
	if (!text || strlen(text) > STORE_BS_CONFIG_MAX) {
		free(text);
		api_reply_error(c, 500, "out of memory");
		return -ENOMEM;
	}
	strcpy(out, text);
	free(text);
	return 0;
}

/* The configuration as the API shows it, with its update time; NULL on no memory. */
static json_t *shown(const struct bs_config *cfg, bool is_template, int64_t update_time)
{
	char t[API_TIME_MAX];
	json_t *o = bs_config_to_json(cfg, is_template, true);
	if (o && json_object_set_new(o, "update_time",
				     api_json_str(api_format_time(update_time, t))) != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* A bootstrap identity must not be another device's node ID either: that device, if it
 * bootstraps by its product's template, presents its node ID as its identity, and would
 * be taken for this one. 0, or -EEXIST with the 409 set. */
static int identity_free(struct api_call *c, const struct store_device *dev,
			 const char *identity)
{
	struct store_device other;
	int rc = store_device_get_by_node_id(c->api->deps.store, identity, &other);
	if (rc == -ENOENT ||
	    (rc == 0 && strcmp(other.project_id, dev->project_id) == 0 &&
	     strcmp(other.device_id, dev->device_id) == 0))
		return 0;
	if (rc == 0)
		api_reply_error(c, 409, "bs_identity %s is another device's node ID", identity);
	else
		api_reply_store_error(c, rc, "device");
	return rc == 0 ? -EEXIST : rc;
}

void api_bootstrap_device_put(struct api_call *c)
{
	struct store_device dev;
	struct bs_config cfg;
	if (device_of(c, &dev) != 0 || read_config(c, false, &cfg) != 0)
		return;
	/* "" is the node ID: stored resolved, so that the row's identity (what a handshake
	 * looks up) and the configuration's agree. */
	if (!cfg.bs_identity[0])
		memcpy(cfg.bs_identity, dev.node_id, sizeof(cfg.bs_identity));
	if (identity_free(c, &dev, cfg.bs_identity) != 0)
		return;
	struct store_bs_device *row = calloc(1, sizeof(*row));
	if (!row) {
		api_reply_error(c, 500, "out of memory");
		return;
	}
	memcpy(row->project_id, dev.project_id, sizeof(row->project_id));
	memcpy(row->device_id, dev.device_id, sizeof(row->device_id));
	memcpy(row->node_id, dev.node_id, sizeof(row->node_id));
	memcpy(row->bs_identity, cfg.bs_identity, sizeof(row->bs_identity));
	row->update_time = (int64_t)time(NULL);
	if (stored_text(c, &cfg, false, row->config) == 0) {
		int rc = store_bs_device_put(c->api->deps.store, row);
		if (rc == -EEXIST)
			api_reply_error(c, 409, "bs_identity %s is another device's",
					cfg.bs_identity);
		else if (rc != 0)
			api_reply_store_error(c, rc, "bootstrap configuration");
		else
			api_reply(c, 200, shown(&cfg, false, row->update_time));
	}
	free(row);
}

static int add_event(const struct store_bs_event *e, void *ctx)
{
	char t[API_TIME_MAX];
	json_t *o = json_pack("{s:o, s:o, s:o, s:o}", "time",
			      api_json_str(api_format_time(e->time_ms / 1000, t)), "result",
			      api_json_str(e->result), "reason", api_json_str(e->reason),
			      "transport", api_json_str(e->transport));
	return o ? json_array_append_new(ctx, o) : -1;
}

/* What applies to the device: its own configuration, else its product's template, shown
 * (into *out, owned), and which (*effective). 0, or a store error. */
static int effective_config(struct api_call *c, const struct store_device *dev,
			    json_t **out, const char **effective)
{
	struct store *s = c->api->deps.store;
	struct bs_config cfg;
	/* Both rows are large (a config text each): on the heap, not the stack. */
	struct store_bs_device *own = calloc(1, sizeof(*own));
	struct store_bs_template *tmpl = calloc(1, sizeof(*tmpl));
	int rc = own && tmpl ? 0 : -ENOMEM;
	*out = NULL;
	*effective = "none";
	if (rc == 0 && (rc = store_bs_device_get(s, dev->project_id, dev->device_id, own)) == 0) {
		*effective = "device";
		if (bs_config_parse(own->config, false, &cfg) == 0)
			*out = shown(&cfg, false, own->update_time);
	} else if (rc == -ENOENT &&
		   (rc = store_bs_template_get(s, dev->project_id, dev->product_id, tmpl)) == 0) {
		/* The template's fields, with the identity its devices present. */
		*effective = "template";
		if (bs_config_parse(tmpl->config, true, &cfg) == 0)
			*out = shown(&cfg, true, tmpl->update_time);
		if (*out)
			json_object_set_new(*out, "bs_identity", api_json_str(dev->node_id));
	}
	if (rc == -ENOENT)
		rc = 0;
	free(own);
	free(tmpl);
	return rc;
}

void api_bootstrap_device_get(struct api_call *c)
{
	struct store_device dev;
	if (device_of(c, &dev) != 0)
		return;
	json_t *o = NULL;
	const char *effective;
	int rc = effective_config(c, &dev, &o, &effective);
	if (rc != 0) {
		api_reply_store_error(c, rc, "bootstrap configuration");
		return;
	}
	json_t *history = json_array();
	if (!o)
		o = json_object(); /* "none", or a stored row that no longer reads */
	if (!o || !history ||
	    store_bs_history_list(c->api->deps.store, dev.project_id, dev.device_id, add_event,
				  history) != 0) {
		json_decref(o);
		json_decref(history);
		api_reply_error(c, 500, "bootstrap history not read");
		return;
	}
	json_t *last = json_array_size(history) ? json_incref(json_array_get(history, 0))
						: json_null();
	int set = json_object_set_new(o, "effective", json_string(effective));
	set |= json_object_set_new(o, "status", last);
	set |= json_object_set_new(o, "history", history);
	if (set != 0) {
		json_decref(o);
		o = NULL;
	}
	api_reply(c, 200, o);
}

void api_bootstrap_device_delete(struct api_call *c)
{
	struct store_device dev;
	if (device_of(c, &dev) != 0)
		return;
	int rc = store_bs_device_delete(c->api->deps.store, dev.project_id, dev.device_id);
	if (rc != 0)
		api_reply_store_error(c, rc, "bootstrap configuration");
	else
		api_reply(c, 204, NULL);
}

void api_bootstrap_template_put(struct api_call *c)
{
	struct store_product p;
	struct bs_config cfg;
	if (product_of(c, &p) != 0 || read_config(c, true, &cfg) != 0)
		return;
	struct store_bs_template *row = calloc(1, sizeof(*row));
	if (!row) {
		api_reply_error(c, 500, "out of memory");
		return;
	}
	memcpy(row->project_id, p.project_id, sizeof(row->project_id));
	memcpy(row->product_id, p.product_id, sizeof(row->product_id));
	row->update_time = (int64_t)time(NULL);
	if (stored_text(c, &cfg, true, row->config) == 0) {
		int rc = store_bs_template_put(c->api->deps.store, row);
		if (rc != 0)
			api_reply_store_error(c, rc, "bootstrap template");
		else
			api_reply(c, 200, shown(&cfg, true, row->update_time));
	}
	free(row);
}

void api_bootstrap_template_get(struct api_call *c)
{
	struct store_product p;
	if (product_of(c, &p) != 0)
		return;
	struct store_bs_template *row = calloc(1, sizeof(*row));
	if (!row) {
		api_reply_error(c, 500, "out of memory");
		return;
	}
	struct bs_config cfg;
	int rc = store_bs_template_get(c->api->deps.store, p.project_id, p.product_id, row);
	if (rc != 0)
		api_reply_store_error(c, rc, "bootstrap template");
	else if (bs_config_parse(row->config, true, &cfg) != 0)
		api_reply_error(c, 500, "the stored bootstrap template does not read");
	else
		api_reply(c, 200, shown(&cfg, true, row->update_time));
	free(row);
}

void api_bootstrap_template_delete(struct api_call *c)
{
	struct store_product p;
	if (product_of(c, &p) != 0)
		return;
	int rc = store_bs_template_delete(c->api->deps.store, p.project_id, p.product_id);
	if (rc != 0)
		api_reply_store_error(c, rc, "bootstrap template");
	else
		api_reply(c, 204, NULL);
}
