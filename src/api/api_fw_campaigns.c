/*
 * api_fw_campaigns: the campaign routes of docs/firmware.md —
 * /v5/iot/{project}/firmware-campaigns[/{id}[/devices|/pause|/resume|/cancel]].
 *
 * The routes check what a client sends and name the field that is wrong; the campaign
 * manager (firmware/fw_campaign.h) checks it again and refuses what only it can know
 * (the package, the devices). Another project's campaign is a 404, as everything of
 * another project is.
 */
#include "api/api_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "firmware/fw_campaign.h"
#include "firmware/fw_campaign_json.h"
#include "util/str.h"

/* A page of a campaign's devices. */
#define DEVICES_LIMIT_DEFAULT 50
#define DEVICES_LIMIT_MAX 1000

static const char *const create_fields[] = {
	"name",
	"package_id",
	"targets",
	"delivery",
	"max_concurrent",
	"rate_per_minute",
	"retries",
	"retry_backoff_s",
	"failure_threshold_percent",
	"failure_min_devices",
	"download_timeout_s",
	"update_timeout_s",
};

static struct fw_campaigns *campaigns(struct api_call *c)
{
	struct fw_campaigns *fc = c->api->deps.firmware;
	if (!fc)
		api_reply_error(c, 503, "firmware updates are not enabled on this server");
	return fc;
}

/* A field the body may not carry (a typo would otherwise be a silent default). */
static const char *unknown_field(const json_t *body)
{
	const char *key;
	const json_t *v;
	json_object_foreach((json_t *)body, key, v) {
		bool known = false;
		for (size_t i = 0; i < sizeof(create_fields) / sizeof(create_fields[0]); i++)
			known |= strcmp(key, create_fields[i]) == 0;
		if (!known)
			return key;
	}
	return NULL;
}

/* The body's integer settings, each in its bounds (fw_campaign.h). */
static int read_numbers(struct api_call *c, const json_t *body, struct fw_campaign_spec *s)
{
	const struct {
		const char *name;
		int64_t min, max;
		uint32_t *out;
	} fields[] = {
		{"max_concurrent", 1, 100000, &s->max_concurrent},
		{"rate_per_minute", 1, 1000000, &s->rate_per_minute},
		{"retries", 0, 10, &s->retries},
		{"retry_backoff_s", 1, 86400, &s->retry_backoff_s},
		{"failure_threshold_percent", 1, 100, &s->failure_threshold_percent},
		{"failure_min_devices", 1, FW_CAMPAIGN_MAX_TARGETS, &s->failure_min_devices},
		{"download_timeout_s", 10, 604800, &s->download_timeout_s},
		{"update_timeout_s", 10, 86400, &s->update_timeout_s},
	};
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		int64_t v;
		int rc = api_field_int(c, body, fields[i].name, fields[i].min, fields[i].max, &v);
		if (rc == -EINVAL)
			return rc;
		if (rc == 0)
			*fields[i].out = (uint32_t)v;
	}
	return 0;
}

/* targets.from_versions: at most 16 versions of 1-64 printable characters. */
static int read_from_versions(struct api_call *c, const json_t *targets,
			      struct fw_campaign_spec *s)
{
	const json_t *from = json_object_get(targets, "from_versions");
	if (!from || json_is_null(from))
		return 0;
	if (!json_is_array(from) || json_array_size(from) > FW_CAMPAIGN_MAX_FROM_VERSIONS) {
		api_reply_error(c, 400, "targets.from_versions must be an array of at most %d "
					"versions",
				FW_CAMPAIGN_MAX_FROM_VERSIONS);
		return -EINVAL;
	}
	size_t i;
	const json_t *v;
	json_array_foreach(from, i, v) {
		const char *str = json_string_value(v);
		size_t len = str ? strlen(str) : 0;
		bool printable = len > 0 && len <= STORE_FW_VERSION_MAX;
		for (size_t k = 0; printable && k < len; k++)
			printable = (unsigned char)str[k] > 0x20 && (unsigned char)str[k] < 0x7f;
		if (!printable) {
			api_reply_error(c, 400,
					"targets.from_versions[%zu] must be 1-64 printable characters",
					i);
			return -EINVAL;
		}
		str_copy(s->from_versions[i], sizeof(s->from_versions[i]), str);
	}
	s->from_version_count = (unsigned)json_array_size(from);
	return 0;
}

/* targets: {"product_id"} or {"device_ids":[...]} (the list is allocated in s). */
static int read_targets(struct api_call *c, const json_t *body, struct fw_campaign_spec *s)
{
	const json_t *targets = json_object_get(body, "targets");
	if (!json_is_object(targets)) {
		api_reply_error(c, 400, "targets is required: {\"product_id\":…} or "
					"{\"device_ids\":[…]}");
		return -EINVAL;
	}
	int rc = api_field_string(c, targets, "product_id", 1, STORE_ID_MAX, API_STR_ID,
				  s->product_id, sizeof(s->product_id), false);
	if (rc == -EINVAL)
		return rc;
	const json_t *ids = json_object_get(targets, "device_ids");
	if (ids && !json_is_null(ids)) {
		if (s->product_id[0]) {
			api_reply_error(c, 400, "targets: give product_id or device_ids, not both");
			return -EINVAL;
		}
		size_t n = json_is_array(ids) ? json_array_size(ids) : 0;
		if (n == 0 || n > FW_CAMPAIGN_MAX_DEVICE_IDS) {
			api_reply_error(c, 400, "targets.device_ids must be an array of 1-%d device "
						"ids",
					FW_CAMPAIGN_MAX_DEVICE_IDS);
			return -EINVAL;
		}
		s->device_ids = calloc(n, sizeof(*s->device_ids));
		if (!s->device_ids) {
			api_reply_error(c, 500, "out of memory");
			return -ENOMEM;
		}
		for (size_t i = 0; i < n; i++) {
			const char *id = json_string_value(json_array_get(ids, i));
			struct api_err err;
			if (!id || api_check_string("device id", id, strlen(id), 1, STORE_ID_MAX,
						    API_STR_ID, &err) != 0) {
				api_reply_error(c, 400,
						"targets.device_ids[%zu] must be a device id", i);
				return -EINVAL;
			}
			str_copy(s->device_ids[i], sizeof(s->device_ids[i]), id);
		}
		s->device_id_count = (unsigned)n;
	} else if (!s->product_id[0]) {
		api_reply_error(c, 400, "targets needs product_id or device_ids");
		return -EINVAL;
	}
	return read_from_versions(c, targets, s);
}

static int read_spec(struct api_call *c, const json_t *body, struct fw_campaign_spec *s)
{
	fw_campaign_spec_defaults(s);
	const char *unknown = unknown_field(body);
	if (unknown) {
		api_reply_error(c, 400, "unknown field %.64s", unknown);
		return -EINVAL;
	}
	int rc = api_field_string(c, body, "name", 0, STORE_NAME_MAX, API_STR_ANY, s->name,
				  sizeof(s->name), false);
	if (rc == -EINVAL)
		return rc;
	rc = api_field_string(c, body, "package_id", 1, STORE_ID_MAX, API_STR_ID, s->package_id,
			      sizeof(s->package_id), true);
	if (rc)
		return rc;
	char delivery[8] = "";
	rc = api_field_string(c, body, "delivery", 1, 4, API_STR_ANY, delivery,
			      sizeof(delivery), false);
	if (rc == 0 && fw_delivery_parse(delivery) < 0)
		rc = -EINVAL;
	if (rc == -EINVAL) {
		if (c->status == 0)
			api_reply_error(c, 400, "delivery must be auto, pull or push");
		return rc;
	}
	if (rc == 0)
		s->delivery = (enum fw_delivery)fw_delivery_parse(delivery);
	rc = read_numbers(c, body, s);
	return rc ? rc : read_targets(c, body, s);
}

static void reply_campaign(struct api_call *c, unsigned status, struct fw_campaigns *fc,
			   const char *id)
{
	struct fw_campaign_view *v = malloc(sizeof(*v));
	int rc = v ? fw_campaigns_get(fc, c->project_id, id, v) : -ENOMEM;
	if (rc == 0)
		api_reply(c, status, fw_campaign_view_json(v));
	else if (rc == -ENOENT)
		api_reply_error(c, 404, "campaign not found");
	else
		api_reply_error(c, 500, "out of memory");
	free(v);
}

void api_fw_campaigns_create(struct api_call *c)
{
	struct fw_campaigns *fc = campaigns(c);
	if (!fc)
		return;
	json_t *body = api_body_object(c);
	if (!body)
		return;
	struct fw_campaign_spec *s = calloc(1, sizeof(*s));
	if (!s) {
		api_reply_error(c, 500, "out of memory");
		goto out;
	}
	if (read_spec(c, body, s) != 0)
		goto out;
	char id[STORE_ID_MAX + 1];
	const char *why = "";
	int rc = fw_campaigns_start(fc, c->project_id, s, id, &why);
	if (rc == 0)
		reply_campaign(c, 201, fc, id);
	else if (rc == -EINVAL || rc == -E2BIG)
		api_reply_error(c, 400, "%s", why[0] ? why : "bad campaign");
	else if (rc == -ENOENT)
		api_reply_error(c, 404, "%s", why[0] ? why : "not found");
	else if (rc == -EBUSY)
		api_reply_error(c, 409, "%s", why[0] ? why : "too many campaigns");
	else
		api_reply_error(c, 500, "the campaign could not be created (%s)",
				why[0] ? why : strerror(-rc));
out:
	if (s)
		free(s->device_ids);
	free(s);
	json_decref(body);
}

static int list_one(const struct fw_campaign_view *v, void *ctx)
{
	json_t *o = fw_campaign_view_json(v);
	if (!o || json_array_append_new(ctx, o) != 0)
		return -ENOMEM;
	return 0;
}

void api_fw_campaigns_list(struct api_call *c)
{
	struct fw_campaigns *fc = campaigns(c);
	if (!fc)
		return;
	json_t *list = json_array();
	if (!list || fw_campaigns_list(fc, c->project_id, list_one, list) != 0) {
		json_decref(list);
		api_reply_error(c, 500, "out of memory");
		return;
	}
	api_reply(c, 200,
		  json_pack("{s:o, s:I}", "campaigns", list, "count",
			    (json_int_t)json_array_size(list)));
}

void api_fw_campaigns_get(struct api_call *c)
{
	struct fw_campaigns *fc = campaigns(c);
	if (fc)
		reply_campaign(c, 200, fc, c->id);
}

/* Answers an action on a campaign: the campaign after it, or why it was refused. */
static void reply_action(struct api_call *c, struct fw_campaigns *fc, int rc, const char *verb)
{
	if (rc == 0) {
		reply_campaign(c, 200, fc, c->id);
		return;
	}
	struct fw_campaign_view *v = malloc(sizeof(*v));
	if (rc == -ENOENT)
		api_reply_error(c, 404, "campaign not found");
	else if ((rc == -EINVAL || rc == -EBUSY) && v &&
		 fw_campaigns_get(fc, c->project_id, c->id, v) == 0)
		api_reply_error(c, 409, "the campaign is %s: it cannot be %s",
				fw_campaign_status_name(v->status), verb);
	else
		api_reply_store_error(c, rc, "campaign");
	free(v);
}

void api_fw_campaigns_pause(struct api_call *c)
{
	struct fw_campaigns *fc = campaigns(c);
	if (fc)
		reply_action(c, fc, fw_campaigns_pause(fc, c->project_id, c->id), "paused");
}

void api_fw_campaigns_resume(struct api_call *c)
{
	struct fw_campaigns *fc = campaigns(c);
	if (fc)
		reply_action(c, fc, fw_campaigns_resume(fc, c->project_id, c->id), "resumed");
}

void api_fw_campaigns_cancel(struct api_call *c)
{
	struct fw_campaigns *fc = campaigns(c);
	if (fc)
		reply_action(c, fc, fw_campaigns_cancel(fc, c->project_id, c->id), "cancelled");
}

void api_fw_campaigns_delete(struct api_call *c)
{
	struct fw_campaigns *fc = campaigns(c);
	if (!fc)
		return;
	int rc = fw_campaigns_delete(fc, c->project_id, c->id);
	if (rc == 0)
		api_reply(c, 204, NULL);
	else if (rc == -EBUSY)
		reply_action(c, fc, rc, "deleted until it ended (cancel it first)");
	else
		reply_action(c, fc, rc, "deleted");
}

struct devices_page {
	json_t *devices;
	int64_t last_seq;
};

static int device_one(const struct store_fw_target *t, void *ctx)
{
	struct devices_page *p = ctx;
	json_t *o = fw_target_json(t);
	if (!o || json_array_append_new(p->devices, o) != 0)
		return -ENOMEM;
	p->last_seq = t->seq;
	return 0;
}

void api_fw_campaigns_devices(struct api_call *c)
{
	struct fw_campaigns *fc = campaigns(c);
	if (!fc)
		return;
	struct api_err err;
	int64_t limit, marker;
	const char *state_s = api_query(c, "state");
	int state = -1;
	if (state_s && (state = fw_state_parse(state_s)) < 0) {
		api_reply_error(c, 400, "state must be one of waiting, starting, downloading, "
					"downloaded, updating, succeeded, failed, skipped, cancelled");
		return;
	}
	if (api_parse_int("limit", api_query(c, "limit"), 1, DEVICES_LIMIT_MAX,
			  DEVICES_LIMIT_DEFAULT, &limit, &err) != 0 ||
	    api_parse_int("marker", api_query(c, "marker"), 0, UINT32_MAX, -1, &marker,
			  &err) != 0) {
		api_reply_error(c, 400, "%s", err.msg);
		return;
	}
	struct devices_page p = {json_array(), -1};
	int rc = p.devices ? fw_campaigns_targets(fc, c->project_id, c->id, state, marker,
						   (unsigned)limit, device_one, &p)
			   : -ENOMEM;
	if (rc) {
		json_decref(p.devices);
		if (rc == -ENOENT)
			api_reply_error(c, 404, "campaign not found");
		else
			api_reply_store_error(c, rc, "campaign devices");
		return;
	}
	/* A full page may have a next one: its marker is the last device's seq. */
	char next[24];
	snprintf(next, sizeof(next), "%lld", (long long)p.last_seq);
	api_reply(c, 200,
		  json_pack("{s:o, s:o}", "devices", p.devices, "marker",
			    (int64_t)json_array_size(p.devices) == limit ? json_string(next)
									: json_null()));
}
