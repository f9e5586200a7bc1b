/*
 * fw_campaign_json: JSON of campaigns, settings and targets (fw_campaign_json.h).
 */
#include "firmware/fw_campaign_json.h"

#include <errno.h>
#include <string.h>

#include "util/str.h"
#include "util/timefmt.h"

json_t *fw_campaign_settings_json(const struct fw_campaign_spec *spec)
{
	json_t *targets = spec->product_id[0]
				  ? json_pack("{s:s}", "product_id", spec->product_id)
				  : json_pack("{s:I}", "device_count",
					      (json_int_t)spec->device_id_count);
	json_t *from = json_array();
	if (targets && from) {
		for (unsigned i = 0; i < spec->from_version_count; i++)
			json_array_append_new(from, json_string(spec->from_versions[i]));
		json_object_set(targets, "from_versions", from);
	}
	json_decref(from);
	if (!targets)
		return NULL;
	return json_pack("{s:s, s:s, s:o, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "name",
			 spec->name, "package_id", spec->package_id, "targets", targets,
			 "delivery", fw_delivery_name(spec->delivery), "max_concurrent",
			 (json_int_t)spec->max_concurrent, "rate_per_minute",
			 (json_int_t)spec->rate_per_minute, "retries", (json_int_t)spec->retries,
			 "retry_backoff_s", (json_int_t)spec->retry_backoff_s,
			 "failure_threshold_percent", (json_int_t)spec->failure_threshold_percent,
			 "failure_min_devices", (json_int_t)spec->failure_min_devices,
			 "download_timeout_s", (json_int_t)spec->download_timeout_s,
			 "update_timeout_s", (json_int_t)spec->update_timeout_s);
}

static int get_u32(const json_t *o, const char *key, uint32_t *out)
{
	const json_t *v = json_object_get(o, key);
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    json_integer_value(v) > UINT32_MAX)
		return -EINVAL;
	*out = (uint32_t)json_integer_value(v);
	return 0;
}

static int get_str(const json_t *o, const char *key, char *out, size_t cap)
{
	const char *s = json_string_value(json_object_get(o, key));
	if (!s || strlen(s) >= cap)
		return -EINVAL;
	str_copy(out, cap, s);
	return 0;
}

int fw_campaign_settings_parse(const char *text, struct fw_campaign_spec *spec)
{
	fw_campaign_spec_defaults(spec);
	json_t *o = json_loads(text, 0, NULL);
	if (!json_is_object(o)) {
		json_decref(o);
		return -EINVAL;
	}
	int rc = get_str(o, "name", spec->name, sizeof(spec->name));
	rc |= get_str(o, "package_id", spec->package_id, sizeof(spec->package_id));
	int delivery = fw_delivery_parse(json_string_value(json_object_get(o, "delivery")));
	if (delivery < 0)
		rc = -EINVAL;
	else
		spec->delivery = (enum fw_delivery)delivery;
	rc |= get_u32(o, "max_concurrent", &spec->max_concurrent);
	rc |= get_u32(o, "rate_per_minute", &spec->rate_per_minute);
	rc |= get_u32(o, "retries", &spec->retries);
	rc |= get_u32(o, "retry_backoff_s", &spec->retry_backoff_s);
	rc |= get_u32(o, "failure_threshold_percent", &spec->failure_threshold_percent);
	rc |= get_u32(o, "failure_min_devices", &spec->failure_min_devices);
	rc |= get_u32(o, "download_timeout_s", &spec->download_timeout_s);
	rc |= get_u32(o, "update_timeout_s", &spec->update_timeout_s);
	const json_t *t = json_object_get(o, "targets");
	if (json_object_get(t, "product_id"))
		rc |= get_str(t, "product_id", spec->product_id, sizeof(spec->product_id));
	else
		rc |= get_u32(t, "device_count", &spec->device_id_count);
	const json_t *from = json_object_get(t, "from_versions");
	size_t i;
	const json_t *v;
	json_array_foreach(from, i, v) {
		const char *s = json_string_value(v);
		if (i >= FW_CAMPAIGN_MAX_FROM_VERSIONS || !s ||
		    strlen(s) > STORE_FW_VERSION_MAX) {
			rc = -EINVAL;
			break;
		}
		str_copy(spec->from_versions[i], sizeof(spec->from_versions[i]), s);
		spec->from_version_count = (unsigned)i + 1;
	}
	json_decref(o);
	return rc ? -EINVAL : 0;
}

/* A time in the API's format, or null for 0. */
static json_t *time_or_null(int64_t unix_s)
{
	char t[TIME_TEXT_MAX];
	return unix_s > 0 ? json_string(time_format(unix_s, t)) : json_null();
}

json_t *fw_campaign_view_json(const struct fw_campaign_view *v)
{
	json_t *counts = json_object();
	for (int s = 0; counts && s < FW_STATE_COUNT; s++)
		json_object_set_new(counts, fw_state_name((enum fw_state)s),
				    json_integer(v->counts[s]));
	json_t *settings = fw_campaign_settings_json(&v->spec);
	if (!counts || !settings) {
		json_decref(counts);
		json_decref(settings);
		return NULL;
	}
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:o, s:I, s:f, s:o, s:o, s:o, s:o,"
			 " s:o}",
			 "campaign_id", v->campaign_id, "name", v->spec.name, "package_id",
			 v->spec.package_id, "status", fw_campaign_status_name(v->status),
			 "stop_reason", v->stop_reason, "targets", (json_int_t)v->targets,
			 "counts", counts, "bytes_served", (json_int_t)v->bytes_served,
			 "devices_per_minute", v->devices_per_minute, "create_time",
			 time_or_null(v->create_time), "start_time", time_or_null(v->start_ms / 1000),
			 "end_time", time_or_null(v->end_ms / 1000), "estimated_end_time",
			 time_or_null(v->estimated_end_ms / 1000), "settings", settings);
}

json_t *fw_target_json(const struct store_fw_target *t)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:i, s:I, s:I, s:s, s:o}", "device_id",
			 t->device_id, "node_id", t->node_id, "state",
			 fw_state_name((enum fw_state)t->state), "reason", t->reason, "result",
			 t->result, "bytes", (json_int_t)t->bytes, "attempts",
			 (json_int_t)t->attempts, "method",
			 t->method ? fw_delivery_name((enum fw_delivery)t->method) : "",
			 "update_time", time_or_null(t->updated_ms / 1000));
}
