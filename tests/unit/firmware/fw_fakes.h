/*
 * The campaign manager's surroundings, faked for its unit tests: an engine that only
 * follows which jobs run (a job reports "starting" at once, as the real one may), a
 * package and its file, and the event sinks (the API's stream and push), which count
 * what they are given. The test's definitions take the place of the library's: nothing
 * else in the test needs those objects.
 */
#ifndef TEST_FW_FAKES_H
#define TEST_FW_FAKES_H

#include <jansson.h>

#include "api/api.h"
#include "firmware/fw_campaign.h"
#include "firmware/fw_package.h"
#include "iot/iot_platform.h"
#include "iot/push.h"
#include "store/store_firmware.h"

#define FAKE_MAX_JOBS 4096
#define FAKE_MAX_STARTS 100000

struct fake {
	struct fw_campaigns *fc;
	int64_t now;
	struct fw_job *running[FAKE_MAX_JOBS];
	int nrunning, max_running;
	int starts, resumes, stops;
	int64_t start_ms[FAKE_MAX_STARTS];
	uint32_t start_seq[FAKE_MAX_STARTS];
	int files_open;
	int events_target, events_campaign, pushes_target, pushes_campaign;
	char last_campaign_status[32];
};
static struct fake fake;

static void fake_add(struct fw_job *job)
{
	fake.running[fake.nrunning++] = job;
	if (fake.nrunning > fake.max_running)
		fake.max_running = fake.nrunning;
}

static void fake_remove(struct fw_job *job)
{
	for (int i = 0; i < fake.nrunning; i++)
		if (fake.running[i] == job) {
			fake.running[i] = fake.running[--fake.nrunning];
			return;
		}
}

int fw_engine_start(struct fw_engine *e, struct fw_job *job)
{
	(void)e;
	if (job->row.state != FW_WAITING || fake.nrunning == FAKE_MAX_JOBS)
		return -EINVAL;
	if (fake.starts < FAKE_MAX_STARTS) {
		fake.start_ms[fake.starts] = fake.now;
		fake.start_seq[fake.starts] = job->row.seq;
	}
	fake.starts++;
	fake_add(job);
	job->row.state = FW_STARTING;
	fw_campaigns_job_changed(fake.fc, job);
	return 0;
}

int fw_engine_resume(struct fw_engine *e, struct fw_job *job)
{
	(void)e;
	fake.resumes++;
	fake_add(job);
	return 0;
}

void fw_engine_stop(struct fw_engine *e, struct fw_job *job)
{
	(void)e;
	fake.stops++;
	fake_remove(job);
}

/* The engine reports the job ended (or changed) in state. */
static void fake_job_report(struct fw_job *job, int state, bool transient)
{
	if (fw_state_done((enum fw_state)state))
		fake_remove(job);
	job->row.state = state;
	job->transient = transient;
	fw_campaigns_job_changed(fake.fc, job);
}

/* The running job of target seq, or NULL. */
static struct fw_job *fake_job(uint32_t seq)
{
	for (int i = 0; i < fake.nrunning; i++)
		if (fake.running[i]->row.seq == seq)
			return fake.running[i];
	return NULL;
}

struct fw_file {
	int dummy;
};

int fw_file_open(const char *dir, const char *sha256, struct fw_file **out)
{
	(void)dir;
	if (strcmp(sha256, "gone") == 0)
		return -ENOENT;
	*out = calloc(1, sizeof(**out));
	fake.files_open++;
	return 0;
}

void fw_file_release(struct fw_file *f)
{
	if (!f)
		return;
	fake.files_open--;
	free(f);
}

/* Packages: "pkg" of product meter in project p1, version 2.0; "lost" has no file. */
int store_fw_package_get(struct store *s, const char *project_id, const char *package_id,
			 struct store_fw_package *out)
{
	(void)s;
	if (strcmp(project_id, "p1") != 0 ||
	    (strcmp(package_id, "pkg") != 0 && strcmp(package_id, "lost") != 0))
		return -ENOENT;
	memset(out, 0, sizeof(*out));
	snprintf(out->project_id, sizeof(out->project_id), "p1");
	snprintf(out->package_id, sizeof(out->package_id), "%s", package_id);
	snprintf(out->product_id, sizeof(out->product_id), "meter");
	snprintf(out->version, sizeof(out->version), "2.0");
	snprintf(out->sha256, sizeof(out->sha256), "%s",
		 strcmp(package_id, "lost") == 0 ? "gone" : "abcd");
	out->size = 1000;
	return 0;
}

bool api_server_has_subscribers(const struct api_server *api)
{
	return api != NULL;
}

void api_server_publish(struct api_server *api, const char *project_id, const char *device_id,
			const char *event, const char *json)
{
	(void)api;
	(void)device_id;
	assert_string_equal(project_id, "p1");
	json_t *o = json_loads(json, 0, NULL);
	assert_non_null(o);
	assert_string_equal(json_string_value(json_object_get(o, "event")), event);
	if (strcmp(event, "firmware") == 0) {
		fake.events_target++;
		assert_non_null(json_string_value(json_object_get(o, "campaign_id")));
		assert_non_null(json_string_value(json_object_get(o, "state")));
	} else {
		fake.events_campaign++;
		snprintf(fake.last_campaign_status, sizeof(fake.last_campaign_status), "%s",
			 json_string_value(json_object_get(o, "status")));
	}
	json_decref(o);
}

void push_event(struct push *p, const char *project_id, const char *resource,
		const char *event, const json_t *header, json_t *body)
{
	(void)p;
	(void)project_id;
	assert_string_equal(event, "update");
	assert_non_null(header);
	if (strcmp(resource, "device.firmware") == 0)
		fake.pushes_target++;
	else if (strcmp(resource, "firmware.campaign") == 0)
		fake.pushes_campaign++;
	else
		fail_msg("resource %s", resource);
	json_decref(body);
}

json_t *iot_push_header(const struct store_device *dev)
{
	return json_pack("{s:s}", "device_id", dev->device_id);
}

#endif
