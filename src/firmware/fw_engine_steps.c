/*
 * fw_engine_steps: what each of a job's requests answered, and what comes next
 * (fw_engine_internal.h has the steps; docs/firmware.md the reasons).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "content/content.h"
#include "firmware/fw_engine_internal.h"
#include "lwm2m/lwm2m_observe.h"
#include "model/model.h"

const char *fw_step_path(enum fw_step step)
{
	switch (step) {
	case STEP_READ_VERSION:
	case STEP_CHECK_VERSION:
		return "/3/0/3";
	case STEP_READ_OBJECT:
		return "/5/0";
	case STEP_OBSERVE_STATE:
	case STEP_READ_STATE:
		return "/5/0/3";
	case STEP_OBSERVE_RESULT:
		return "/5/0/5";
	case STEP_RESET:
		return "/5/0/1";
	case STEP_DELIVER:
		return "/5/0/0 or /5/0/1";
	case STEP_EXECUTE:
		return "/5/0/2";
	case STEP_WAIT:
		break;
	}
	return "-";
}

/* Update Result (/5/0/5, Core §E.6) 2–9: what it means, and whether another try may
 * do better (a full flash or a lost connection may clear; a bad package will not). */
static const struct {
	const char *text;
	bool transient;
} results[10] = {
	[2] = { "not enough flash memory for the package", true },
	[3] = { "out of RAM while downloading", true },
	[4] = { "connection lost while downloading", true },
	[5] = { "integrity check of the package failed", false },
	[6] = { "unsupported package type", false },
	[7] = { "invalid URI", false },
	[8] = { "the firmware update failed", false },
	[9] = { "unsupported protocol", false },
};

void fw_engine_fail_result(struct fw_engine *e, struct fw_job *job, int result)
{
	bool known = result >= 2 && result <= 9;
	fw_engine_finish(e, job, FW_FAILED, known && results[result].transient,
			 "update result %d: %s", result,
			 known ? results[result].text : "unknown update result");
}

static const struct lwm2m_value *find_value(const struct lwm2m_values *values,
					    const struct lwm2m_path *path)
{
	for (size_t i = 0; i < values->count; i++) {
		const struct lwm2m_value *v = &values->items[i];
		if (v->path.len == path->len &&
		    memcmp(v->path.ids, path->ids, path->len * sizeof(path->ids[0])) == 0)
			return v;
	}
	return NULL;
}

static bool value_int(const struct lwm2m_value *v, int64_t *out)
{
	switch (v->type) {
	case LWM2M_TYPE_INTEGER:
	case LWM2M_TYPE_TIME:
		*out = v->v.i;
		return true;
	case LWM2M_TYPE_UNSIGNED:
		*out = v->v.u > INT64_MAX ? INT64_MAX : (int64_t)v->v.u;
		return true;
	default:
		return false;
	}
}

int fw_engine_decode_int(int format, const struct lwm2m_path *path, const uint8_t *payload,
			 size_t len, int64_t *out)
{
	struct lwm2m_values values;
	lwm2m_values_init(&values);
	int rc = -1;
	if (format >= 0 &&
	    content_decode((uint16_t)format, path, payload, len, model_type_of, NULL, &values) == 0) {
		const struct lwm2m_value *v = find_value(&values, path);
		if (v && value_int(v, out))
			rc = 0;
	}
	lwm2m_values_free(&values);
	return rc;
}

int fw_engine_decode_string(int format, const struct lwm2m_path *path, const uint8_t *payload,
			    size_t len, char *out, size_t cap)
{
	struct lwm2m_values values;
	lwm2m_values_init(&values);
	int rc = -1;
	if (format >= 0 &&
	    content_decode((uint16_t)format, path, payload, len, model_type_of, NULL, &values) == 0) {
		const struct lwm2m_value *v = find_value(&values, path);
		if (v && v->type == LWM2M_TYPE_STRING) {
			size_t n = v->v.bytes.len < cap - 1 ? v->v.bytes.len : cap - 1;
			memcpy(out, v->v.bytes.data, n);
			out[n] = '\0';
			rc = 0;
		}
	}
	lwm2m_values_free(&values);
	return rc;
}

/* /5/0 as read: protocols (/5/0/8/i), delivery method (/5/0/9), state, result. */
static void take_object(struct fw_job *job, const struct lwm2m_dm_result *res)
{
	struct lwm2m_values values;
	struct lwm2m_path base = { .len = 2, .ids = { 5, 0 } };
	lwm2m_values_init(&values);
	job->protocol_count = 0;
	job->delivery_method = -1;
	if (res->content_format >= 0 &&
	    content_decode((uint16_t)res->content_format, &base, res->payload, res->payload_len,
			   model_type_of, NULL, &values) == 0) {
		for (size_t i = 0; i < values.count; i++) {
			const struct lwm2m_value *v = &values.items[i];
			int64_t n;
			if (v->path.len < 3 || !value_int(v, &n))
				continue;
			switch (v->path.ids[2]) {
			case 3:
				job->device_state = (uint8_t)n;
				break;
			case 5:
				job->row.result = (int)n;
				break;
			case 8:
				if (job->protocol_count < sizeof(job->protocols))
					job->protocols[job->protocol_count++] = (uint8_t)n;
				break;
			case 9:
				job->delivery_method = (int8_t)n;
				break;
			}
		}
	}
	lwm2m_values_free(&values);
}

static bool targeted(const struct fw_job *job, const char *version)
{
	const struct fw_target_package *pkg = job->pkg;
	if (pkg->from_version_count == 0)
		return true;
	for (unsigned i = 0; i < pkg->from_version_count; i++)
		if (strcmp(pkg->from_versions[i], version) == 0)
			return true;
	return false;
}

static void read_version(struct fw_engine *e, struct fw_job *job,
			 const struct lwm2m_dm_result *res, int64_t now)
{
	char version[STORE_FW_VERSION_MAX + 1] = "";
	struct lwm2m_path path = { .len = 3, .ids = { 3, 0, 3 } };
	if (res->code == COAP_CODE_CONTENT)
		fw_engine_decode_string(res->content_format, &path, res->payload, res->payload_len,
					version, sizeof(version));
	if (version[0] && strcmp(version, job->pkg->version) == 0) {
		/* On a retry, an earlier attempt's update did take (its end was missed: a
		 * timeout, a restart of the daemon while the device rebooted). */
		if (job->row.attempts > 1)
			fw_engine_finish(e, job, FW_SUCCEEDED, false, "%s", "");
		else
			fw_engine_finish(e, job, FW_SKIPPED, false, "already at version %s",
					 version);
		return;
	}
	if (!targeted(job, version)) {
		fw_engine_finish(e, job, FW_SKIPPED, false, "version '%s' is not targeted",
				 version[0] ? version : "(unknown)");
		return;
	}
	fw_engine_issue(e, job, STEP_READ_OBJECT, now);
}

static void read_object(struct fw_engine *e, struct fw_job *job,
			const struct lwm2m_dm_result *res, int64_t now)
{
	char code[8], why[STORE_FW_REASON_MAX + 1];
	if (res->code != COAP_CODE_CONTENT) {
		fw_engine_finish(e, job, FW_FAILED, COAP_CODE_CLASS(res->code) == 5,
				 "the device has no Firmware Update object (Read /5/0: %s)",
				 coap_code_format(res->code, code));
		return;
	}
	take_object(job, res);
	if (fw_engine_pick_method(e, job, why, sizeof(why)) != 0) {
		fw_engine_finish(e, job, FW_FAILED, false, "%s", why);
		return;
	}
	fw_engine_issue(e, job, STEP_OBSERVE_STATE, now);
}

/* The first answer to one of our Observes: the observation is kept (and stored), its
 * value taken. */
static void observed(struct fw_engine *e, struct fw_job *job, const struct lwm2m_dm_result *res,
		     int64_t now)
{
	bool state = job->step == STEP_OBSERVE_STATE;
	struct lwm2m_path path = { .len = 3, .ids = { 5, 0, state ? 3 : 5 } };
	char code[8];
	if (res->code != COAP_CODE_CONTENT) {
		fw_engine_finish(e, job, FW_FAILED, COAP_CODE_CLASS(res->code) == 5,
				 "Observe %s answered %s", state ? "/5/0/3" : "/5/0/5",
				 coap_code_format(res->code, code));
		return;
	}
	if (res->observing) {
		struct lwm2m_observation *o = lwm2m_observations_add(
			e->obs, job->row.node_id, &path, res->token, res->token_len);
		if (o)
			lwm2m_observation_record(o, res->code, res->content_format, 0, res->payload,
						 res->payload_len, now);
	}
	int64_t v;
	if (fw_engine_decode_int(res->content_format, &path, res->payload, res->payload_len, &v) ==
	    0) {
		if (state)
			job->device_state = (uint8_t)v;
		else
			job->row.result = (int)v;
	}
	if (state) {
		fw_engine_issue(e, job, STEP_OBSERVE_RESULT, now);
		return;
	}
	job->step = STEP_WAIT;
	if (job->row.state == FW_STARTING) {
		/* A fresh start: a device left in another state by an earlier try is taken
		 * back to Idle first. */
		fw_engine_issue(e, job, job->device_state != 0 ? STEP_RESET : STEP_DELIVER, now);
		return;
	}
	if (job->row.state == FW_UPDATING) {
		/* Registered again with another version: its result says whether it failed. */
		if (job->row.result == 1)
			fw_engine_finish(e, job, FW_FAILED, false,
					 "after the update the device reports version '%s', not '%s'",
					 job->device_version, job->pkg->version);
		else if (job->row.result >= 2)
			fw_engine_fail_result(e, job, job->row.result);
		return;
	}
	fw_engine_device_state(e, job, job->device_state, now);
}

static void delivered(struct fw_engine *e, struct fw_job *job, const struct lwm2m_dm_result *res,
		      int64_t now)
{
	char code[8];
	bool pull = job->row.method == FW_DELIVERY_PULL;
	if (res->code != COAP_CODE_CHANGED) {
		fw_engine_finish(e, job, FW_FAILED, COAP_CODE_CLASS(res->code) == 5,
				 "the device refused the %s: Write %s answered %s",
				 pull ? "package URI" : "package", pull ? "/5/0/1" : "/5/0/0",
				 coap_code_format(res->code, code));
		return;
	}
	job->resync = false;
	if (pull) {
		job->step = STEP_WAIT; /* it downloads; /5/0/3 tells when it is done */
		return;
	}
	job->row.bytes = job->pkg->size;
	fw_engine_issue(e, job, STEP_READ_STATE, now);
}

static void check_version(struct fw_engine *e, struct fw_job *job,
			  const struct lwm2m_dm_result *res, int64_t now)
{
	struct lwm2m_path path = { .len = 3, .ids = { 3, 0, 3 } };
	job->device_version[0] = '\0';
	if (res->code == COAP_CODE_CONTENT)
		fw_engine_decode_string(res->content_format, &path, res->payload, res->payload_len,
					job->device_version, sizeof(job->device_version));
	if (strcmp(job->device_version, job->pkg->version) == 0) {
		job->row.result = 1;
		fw_engine_finish(e, job, FW_SUCCEEDED, false, "%s", "");
		return;
	}
	/* Not (yet) the new version: its Update Result says whether it failed or is still
	 * at it; observing it again reads it and follows it. */
	job->resync = true;
	fw_engine_issue(e, job, STEP_OBSERVE_RESULT, now);
}

void fw_engine_step_answered(struct fw_engine *e, struct fw_job *job,
			     const struct lwm2m_dm_result *res, int64_t now)
{
	char code[8];
	int64_t v;
	struct lwm2m_path state_path = { .len = 3, .ids = { 5, 0, 3 } };
	switch ((enum fw_step)job->step) {
	case STEP_READ_VERSION:
		read_version(e, job, res, now);
		break;
	case STEP_READ_OBJECT:
		read_object(e, job, res, now);
		break;
	case STEP_OBSERVE_STATE:
	case STEP_OBSERVE_RESULT:
		observed(e, job, res, now);
		break;
	case STEP_RESET:
		if (res->code != COAP_CODE_CHANGED) {
			fw_engine_finish(e, job, FW_FAILED, false,
					 "resetting the device's update (Write /5/0/1 \"\") "
					 "answered %s",
					 coap_code_format(res->code, code));
			break;
		}
		job->device_state = 0;
		job->row.result = 0;
		fw_engine_issue(e, job, STEP_DELIVER, now);
		break;
	case STEP_DELIVER:
		delivered(e, job, res, now);
		break;
	case STEP_READ_STATE:
		job->step = STEP_WAIT;
		if (res->code == COAP_CODE_CONTENT &&
		    fw_engine_decode_int(res->content_format, &state_path, res->payload,
					 res->payload_len, &v) == 0)
			fw_engine_device_state(e, job, (int)v, now);
		break;
	case STEP_EXECUTE:
		job->step = STEP_WAIT;
		if (res->code == COAP_CODE_CHANGED)
			fw_engine_updating(e, job, now);
		else if (res->code == COAP_CODE_METHOD_NOT_ALLOWED)
			fw_engine_issue(e, job, STEP_READ_STATE, now); /* not Downloaded (yet) */
		else
			fw_engine_finish(e, job, FW_FAILED, COAP_CODE_CLASS(res->code) == 5,
					 "Execute /5/0/2 answered %s",
					 coap_code_format(res->code, code));
		break;
	case STEP_CHECK_VERSION:
		check_version(e, job, res, now);
		break;
	case STEP_WAIT:
		break;
	}
}
