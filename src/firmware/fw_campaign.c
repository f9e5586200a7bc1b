/*
 * fw_campaign: firmware campaigns (fw_campaign.h, docs/firmware.md "Campaigns").
 *
 * Each campaign is a struct in memory with its counts by state, kept as targets change,
 * and its jobs: those running in the engine and those waiting for a retry. The waiting
 * targets stay rows, read in seq order from a cursor a batch at a time.
 *
 * Pacing, once a tick (fw_campaigns_tick, every second): while fewer than max_concurrent
 * jobs run and the token bucket of rate_per_minute has a start (fw_pace.h: a burst of
 * FW_PACE_BURST_S seconds of the rate), the next target starts — a retry that is due
 * first, else the cursor's next row.
 *
 * What each status means for jobs:
 *  - paused: no job starts; the running ones go on to their end (stopping a device
 *    halfway through a download or an update helps nobody), a retry waits for resume;
 *  - stopped (the failure threshold): the same, but for good — the running jobs end,
 *    nothing else starts; the waiting targets stay waiting (cancel marks them);
 *  - cancelled: every running job is stopped in the engine at once and every target not
 *    ended becomes cancelled (one UPDATE, whatever the campaign's size);
 *  - finished: every target ended.
 *
 * "now" is the last tick's time (the daemon's wall clock, a second's resolution): start,
 * end and retry times are as exact as the tick, and the tests drive the clock.
 */
#include "firmware/fw_campaign.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "firmware/fw_campaign_internal.h"
#include "firmware/fw_campaign_json.h"
#include "firmware/fw_package.h"
#include "util/log.h"
#include "util/timefmt.h"
#include "util/str.h"
#include "util/token.h"

_Static_assert(FW_WAITING == STORE_FW_WAITING && FW_UPDATING == STORE_FW_LAST_RUNNING &&
		       FW_CANCELLED == STORE_FW_CANCELLED && FW_STATE_COUNT == STORE_FW_STATES,
	       "store_firmware.h names the states of fw_engine.h");

void fw_campaign_spec_defaults(struct fw_campaign_spec *spec)
{
	memset(spec, 0, sizeof(*spec));
	spec->delivery = FW_DELIVERY_AUTO;
	spec->max_concurrent = 100;
	spec->rate_per_minute = 600;
	spec->retries = 2;
	spec->retry_backoff_s = 60;
	spec->failure_threshold_percent = 20;
	spec->failure_min_devices = 10;
	spec->download_timeout_s = 3600;
	spec->update_timeout_s = 600;
}

int fw_campaigns_create(struct fw_campaigns **out, uv_loop_t *loop,
			const struct fw_campaigns_deps *deps)
{
	struct fw_campaigns *fc = calloc(1, sizeof(*fc));
	if (!fc)
		return -ENOMEM;
	fc->loop = loop;
	fc->deps = *deps;
	fc->firmware_dir = strdup(deps->firmware_dir ? deps->firmware_dir : ".");
	if (!fc->firmware_dir) {
		free(fc);
		return -ENOMEM;
	}
	fc->deps.firmware_dir = fc->firmware_dir;
	fc->now_ms = time_now_ms();
	*out = fc;
	return 0;
}

void fw_campaigns_set_api(struct fw_campaigns *fc, struct api_server *api)
{
	fc->deps.api = api;
}

static void job_unlink(struct fw_campaign *c, struct cjob *cj)
{
	struct cjob **head = cj->running ? &c->jobs : &c->retries;
	if (cj->prev)
		cj->prev->next = cj->next;
	else
		*head = cj->next;
	if (cj->next)
		cj->next->prev = cj->prev;
	else if (!cj->running)
		c->retries_tail = cj->prev;
	cj->prev = cj->next = NULL;
}

/* Into the running list (the caller sets running). */
static void job_link_running(struct fw_campaign *c, struct cjob *cj)
{
	cj->prev = NULL;
	cj->next = c->jobs;
	if (c->jobs)
		c->jobs->prev = cj;
	c->jobs = cj;
}

/* Into the retries, in next_ms order: a new retry is most often the latest, so the walk
 * from the tail is short. */
static void job_link_retry(struct fw_campaign *c, struct cjob *cj)
{
	struct cjob *after = c->retries_tail;
	while (after && after->job.row.next_ms > cj->job.row.next_ms)
		after = after->prev;
	cj->prev = after;
	cj->next = after ? after->next : c->retries;
	if (cj->next)
		cj->next->prev = cj;
	else
		c->retries_tail = cj;
	if (after)
		after->next = cj;
	else
		c->retries = cj;
}

/* Lets go of a job: out of the engine (when running there) and freed. */
static void job_free(struct fw_campaign *c, struct cjob *cj, bool stop_engine)
{
	job_unlink(c, cj);
	if (cj->running) {
		if (stop_engine)
			fw_engine_stop(c->fc->deps.engine, &cj->job);
		c->running--;
	}
	free(cj);
}

struct cjob *fw_campaign_job_new(struct fw_campaign *c, const struct store_fw_target *row)
{
	struct cjob *cj = calloc(1, sizeof(*cj));
	if (!cj)
		return NULL;
	cj->job.row = *row;
	cj->job.pkg = &c->pkg;
	str_copy(cj->job.project_id, sizeof(cj->job.project_id), c->project_id);
	cj->job.owner = cj;
	cj->c = c;
	cj->stored_state = row->state;
	cj->stored_bytes = row->bytes;
	job_link_retry(c, cj);
	return cj;
}

void fw_campaign_job_running(struct fw_campaign *c, struct cjob *cj)
{
	job_unlink(c, cj);
	cj->running = true;
	c->running++;
	job_link_running(c, cj);
}

static void campaign_free(struct fw_campaign *c, bool stop_engine)
{
	while (c->jobs)
		job_free(c, c->jobs, stop_engine);
	while (c->retries)
		job_free(c, c->retries, false);
	fw_file_release(c->pkg.file);
	free(c->batch);
	free(c);
}

void fw_campaigns_destroy(struct fw_campaigns *fc)
{
	if (!fc)
		return;
	/* The engine let go of its jobs when it was destroyed, before this (its index
	 * points into the jobs freed here): nothing to stop. */
	while (fc->head) {
		struct fw_campaign *c = fc->head;
		fc->head = c->next;
		campaign_free(c, false);
	}
	free(fc->firmware_dir);
	free(fc);
}

struct fw_campaign *fw_campaign_find(struct fw_campaigns *fc, const char *project_id,
				     const char *id)
{
	for (struct fw_campaign *c = fc->head; c; c = c->next)
		if (strcmp(c->campaign_id, id) == 0)
			return project_id && strcmp(c->project_id, project_id) != 0 ? NULL : c;
	return NULL;
}

void fw_campaign_link(struct fw_campaigns *fc, struct fw_campaign *c)
{
	c->fc = fc;
	c->prev = fc->tail;
	if (fc->tail)
		fc->tail->next = c;
	else
		fc->head = c;
	fc->tail = c;
}

static void campaign_unlink(struct fw_campaigns *fc, struct fw_campaign *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		fc->head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	else
		fc->tail = c->prev;
}

bool fw_campaign_ended(const struct fw_campaign *c)
{
	return c->status == FW_CAMPAIGN_STOPPED || c->status == FW_CAMPAIGN_CANCELLED ||
	       c->status == FW_CAMPAIGN_FINISHED;
}

/* Targets that ended (succeeded, failed, skipped, cancelled). */
static uint32_t ended_count(const struct fw_campaign *c)
{
	return c->counts[FW_SUCCEEDED] + c->counts[FW_FAILED] + c->counts[FW_SKIPPED] +
	       c->counts[FW_CANCELLED];
}

void fw_campaign_view(const struct fw_campaign *c, int64_t now_ms, struct fw_campaign_view *v)
{
	memset(v, 0, sizeof(*v));
	str_copy(v->project_id, sizeof(v->project_id), c->project_id);
	str_copy(v->campaign_id, sizeof(v->campaign_id), c->campaign_id);
	v->spec = c->spec;
	v->spec.device_ids = NULL;
	v->status = c->status;
	str_copy(v->stop_reason, sizeof(v->stop_reason), c->stop_reason);
	v->targets = c->targets;
	memcpy(v->counts, c->counts, sizeof(v->counts));
	v->bytes_served = c->bytes_served;
	v->create_time = c->create_time;
	v->start_ms = c->start_ms;
	v->end_ms = c->end_ms;
	v->devices_per_minute = fw_rate_per_minute(&c->rate, now_ms, c->start_ms);
	uint32_t ended = ended_count(c);
	uint32_t left = c->targets > ended ? c->targets - ended : 0;
	if (fw_campaign_ended(c))
		v->estimated_end_ms = c->end_ms;
	else if (c->status == FW_CAMPAIGN_RUNNING && v->devices_per_minute > 0.0)
		v->estimated_end_ms = now_ms + (int64_t)((double)left / v->devices_per_minute *
							 60000.0);
}

/* Events. */

/* Whether anyone hears of the campaign's events: nobody listening costs no JSON. */
static bool heard(const struct fw_campaigns *fc)
{
	return fc->deps.push || (fc->deps.api && api_server_has_subscribers(fc->deps.api));
}

/* Sends o (taken) on the event stream as event, with "event" and "time_ms", and pushes
 * it as resource/update under header (taken; NULL when there is no push). */
static void emit(struct fw_campaign *c, const char *device_id, const char *event, json_t *o,
		 const char *resource, json_t *header)
{
	struct fw_campaigns *fc = c->fc;
	if (o && fc->deps.api && api_server_has_subscribers(fc->deps.api)) {
		json_t *e = json_deep_copy(o);
		if (e && json_object_set_new(e, "event", json_string(event)) == 0 &&
		    json_object_set_new(e, "time_ms", json_integer(fc->now_ms)) == 0) {
			char *text = json_dumps(e, JSON_COMPACT);
			if (text)
				api_server_publish(fc->deps.api, c->project_id, device_id, event,
						   text);
			free(text);
		}
		json_decref(e);
	}
	if (o && header && fc->deps.push)
		push_event(fc->deps.push, c->project_id, resource, "update", header,
			   json_incref(o));
	json_decref(header);
	json_decref(o);
}

void fw_campaign_publish(struct fw_campaign *c)
{
	if (!heard(c->fc))
		return;
	struct fw_campaign_view v;
	fw_campaign_view(c, c->fc->now_ms, &v);
	json_t *header = c->fc->deps.push ? json_pack("{s:s, s:s}", "product_id", c->product_id,
						       "app_id", c->project_id)
					  : NULL;
	emit(c, "", "firmware_campaign", fw_campaign_view_json(&v), "firmware.campaign", header);
}

static void publish_target(struct fw_campaign *c, const struct store_fw_target *t)
{
	if (!heard(c->fc))
		return;
	json_t *o = fw_target_json(t);
	if (o && json_object_set_new(o, "campaign_id", json_string(c->campaign_id)) != 0) {
		json_decref(o);
		return;
	}
	json_t *header = NULL;
	if (c->fc->deps.push) {
		/* The header of every pushed event about a device (iot_push_header): the
		 * campaign knows all of it, no lookup needed. */
		struct store_device dev;
		memset(&dev, 0, sizeof(dev));
		str_copy(dev.project_id, sizeof(dev.project_id), c->project_id);
		str_copy(dev.device_id, sizeof(dev.device_id), t->device_id);
		str_copy(dev.node_id, sizeof(dev.node_id), t->node_id);
		str_copy(dev.product_id, sizeof(dev.product_id), c->product_id);
		header = iot_push_header(&dev);
	}
	emit(c, t->device_id, "firmware", o, "device.firmware", header);
}

/* Status. */

/* Retries waiting in a campaign that will start nothing more are let go of (their rows
 * stay waiting); the package file goes once no job reads it. */
void fw_campaign_release_ended(struct fw_campaign *c)
{
	if (!fw_campaign_ended(c) || c->fc->loading)
		return;
	while (c->retries)
		job_free(c, c->retries, false);
	free(c->batch);
	c->batch = NULL;
	c->batch_len = c->batch_pos = 0;
	if (c->running == 0) {
		fw_file_release(c->pkg.file);
		c->pkg.file = NULL;
	}
}

void fw_campaign_set_status(struct fw_campaign *c, enum fw_campaign_status status,
			    const char *reason)
{
	struct fw_campaigns *fc = c->fc;
	c->status = status;
	str_copy(c->stop_reason, sizeof(c->stop_reason), reason ? reason : "");
	if (fw_campaign_ended(c) && c->end_ms == 0)
		c->end_ms = fc->now_ms;
	struct store_fw_campaign row;
	memset(&row, 0, sizeof(row));
	str_copy(row.campaign_id, sizeof(row.campaign_id), c->campaign_id);
	row.status = (int)c->status;
	str_copy(row.stop_reason, sizeof(row.stop_reason), c->stop_reason);
	row.start_ms = c->start_ms;
	row.end_ms = c->end_ms;
	int rc = store_fw_campaign_set_status(fc->deps.store, &row);
	if (rc)
		LOG_ERROR("firmware", "campaign %s: status not stored (%d)", c->campaign_id, rc);
	LOG_INFO("firmware", "campaign %s: %s%s%s", c->campaign_id,
		 fw_campaign_status_name(status), c->stop_reason[0] ? ": " : "", c->stop_reason);
	fw_campaign_publish(c);
	fw_campaign_release_ended(c);
}

/* After a target ended: the failure threshold, then the end of the campaign. */
static void check_end(struct fw_campaign *c)
{
	if (c->status != FW_CAMPAIGN_RUNNING && c->status != FW_CAMPAIGN_PAUSED)
		return;
	uint64_t failed = c->counts[FW_FAILED];
	uint64_t ended = failed + c->counts[FW_SUCCEEDED] + c->counts[FW_SKIPPED];
	uint64_t pct = c->spec.failure_threshold_percent;
	if (ended > 0 && ended >= c->spec.failure_min_devices && failed * 100 > pct * ended) {
		char why[STORE_FW_REASON_MAX + 1];
		snprintf(why, sizeof(why),
			 "failure threshold: %" PRIu64 " of %" PRIu64 " failed (%" PRIu64
			 "%% > %" PRIu64 "%%)",
			 failed, ended, failed * 100 / ended, pct);
		fw_campaign_set_status(c, FW_CAMPAIGN_STOPPED, why);
		return;
	}
	if (ended_count(c) >= c->targets)
		fw_campaign_set_status(c, FW_CAMPAIGN_FINISHED, NULL);
}

/* Jobs. */

/* Persists the job's row and keeps the counts: the previous state is the one stored. */
static void job_store(struct fw_campaign *c, struct cjob *cj)
{
	struct store_fw_target *row = &cj->job.row;
	row->updated_ms = c->fc->now_ms;
	int rc = store_fw_target_put(c->fc->deps.store, row);
	if (rc)
		LOG_ERROR("firmware", "campaign %s: target %s not stored (%d)", c->campaign_id,
			  row->node_id, rc);
	/* A state out of range (never from the engine) is stored but not counted. */
	if (row->state >= 0 && row->state < FW_STATE_COUNT && cj->stored_state != row->state) {
		c->counts[cj->stored_state]--;
		c->counts[row->state]++;
		cj->stored_state = row->state;
	}
	if (row->bytes > cj->stored_bytes)
		c->bytes_served += row->bytes - cj->stored_bytes;
	cj->stored_bytes = row->bytes;
}

void fw_campaigns_job_changed(struct fw_campaigns *fc, struct fw_job *job)
{
	struct cjob *cj = job->owner;
	struct fw_campaign *c = cj->c;
	struct store_fw_target *row = &job->row;
	(void)fc;
	bool done = fw_state_done((enum fw_state)row->state);
	bool retry = row->state == FW_FAILED && job->transient &&
		     row->attempts <= c->spec.retries && !fw_campaign_ended(c);
	if (retry) {
		/* attempts counts starts: the first retry waits retry_backoff_s, each next
		 * one twice the one before. */
		uint32_t shift = row->attempts > 0 ? row->attempts - 1 : 0;
		row->state = FW_WAITING;
		row->token[0] = '\0';
		row->next_ms = c->fc->now_ms + (int64_t)c->spec.retry_backoff_s * 1000 * (1LL << shift);
	}
	job_store(c, cj);
	publish_target(c, row);
	if (!done)
		return;
	if (retry) {
		job_unlink(c, cj);
		cj->running = false;
		c->running--;
		job_link_retry(c, cj);
		return;
	}
	fw_rate_note(&c->rate, c->fc->now_ms, 1);
	c->fc->ended_since_pace = true;
	job_free(c, cj, false);
	check_end(c);
	fw_campaign_release_ended(c);
}

/* Starts a target: a new job (row from the cursor) or a retry (cj). */
static void job_start(struct fw_campaign *c, struct cjob *cj)
{
	struct fw_job *job = &cj->job;
	struct store_fw_target *row = &job->row;
	/* What the engine writes starts afresh; the engine's own fields are zeroed. */
	row->attempts++;
	row->state = FW_WAITING;
	row->reason[0] = '\0';
	row->result = 0;
	row->bytes = 0;
	row->method = 0;
	row->token[0] = '\0';
	row->next_ms = 0;
	cj->stored_bytes = 0;
	job->transient = false;
	/* (The engine clears its own fields when it starts the job.) */
	/* Stored before the engine hears of it: after a restart a started target is found
	 * again (attempts > 0) even if the engine never reported it. */
	job_store(c, cj);
	fw_campaign_job_running(c, cj);
	int rc = fw_engine_start(c->fc->deps.engine, job);
	if (rc == 0)
		return; /* cj may be gone already: the engine may end a job at once */
	row->state = FW_FAILED;
	str_copy(row->reason, sizeof(row->reason),
		 rc == -EBUSY ? "another firmware update of this device is running"
			      : "the update could not start");
	job->transient = true;
	fw_campaigns_job_changed(c->fc, job);
}

static int batch_one(const struct store_fw_target *t, void *ctx)
{
	struct fw_campaign *c = ctx;
	c->batch[c->batch_len++] = *t;
	return c->batch_len == FW_CURSOR_BATCH ? 1 : 0;
}

/* The cursor's next waiting row, or NULL when none is left. */
static const struct store_fw_target *cursor_next(struct fw_campaign *c)
{
	for (;;) {
		if (c->batch_pos < c->batch_len)
			return &c->batch[c->batch_pos++];
		if (c->cursor_done)
			return NULL;
		if (!c->batch) {
			c->batch = malloc(FW_CURSOR_BATCH * sizeof(*c->batch));
			if (!c->batch)
				return NULL;
		}
		c->batch_len = c->batch_pos = 0;
		int64_t after = c->cursor;
		int rc = store_fw_target_each(c->fc->deps.store, c->campaign_id, after, batch_one,
					      c);
		if (rc < 0)
			return NULL; /* logged by the store; the next tick tries again */
		if (c->batch_len < FW_CURSOR_BATCH)
			c->cursor_done = true;
		if (c->batch_len == 0)
			return NULL;
	}
}

/* The retry that is due first, or NULL. */
static struct cjob *retry_due(struct fw_campaign *c, int64_t now_ms)
{
	return c->retries && c->retries->job.row.next_ms <= now_ms ? c->retries : NULL;
}

/* Starts what the campaign's limits allow now. */
static void campaign_pace(struct fw_campaign *c, int64_t now_ms)
{
	while (c->status == FW_CAMPAIGN_RUNNING && c->running < c->spec.max_concurrent) {
		struct cjob *cj = retry_due(c, now_ms);
		const struct store_fw_target *row = NULL;
		if (!cj) {
			row = cursor_next(c);
			if (!row)
				break;
			c->cursor = row->seq;
			if (row->state != FW_WAITING)
				continue; /* ended or running already (a restart's leftovers) */
		}
		if (!fw_bucket_take(&c->bucket, now_ms)) {
			if (row)
				c->batch_pos--; /* taken at the next tick */
			break;
		}
		if (!cj) {
			cj = fw_campaign_job_new(c, row);
			if (!cj)
				break;
			if (row->attempts > 0 && row->next_ms > now_ms) {
				/* A retry read back from its row: it waits for its time. */
				c->bucket.tokens += 1.0;
				continue;
			}
		}
		job_start(c, cj);
	}
}

void fw_campaigns_tick(struct fw_campaigns *fc, int64_t now_ms)
{
	fc->now_ms = now_ms;
	for (struct fw_campaign *c = fc->head; c; c = c->next) {
		if (c->status != FW_CAMPAIGN_RUNNING)
			continue;
		campaign_pace(c, now_ms);
		/* A campaign whose targets all ended without a job (none waiting, none
		 * running: e.g. all were cancelled rows) finishes here. */
		if (c->status == FW_CAMPAIGN_RUNNING && c->running == 0 && !c->retries &&
		    c->cursor_done && c->batch_pos >= c->batch_len)
			check_end(c);
	}
}

void fw_campaigns_poll(struct fw_campaigns *fc, int64_t now_ms)
{
	if (!fc || !fc->ended_since_pace)
		return;
	fc->ended_since_pace = false;
	fc->now_ms = now_ms;
	for (struct fw_campaign *c = fc->head; c; c = c->next)
		if (c->status == FW_CAMPAIGN_RUNNING)
			campaign_pace(c, now_ms);
}

/* The API's calls. */

int fw_campaigns_get(struct fw_campaigns *fc, const char *project_id, const char *id,
		     struct fw_campaign_view *out)
{
	struct fw_campaign *c = fw_campaign_find(fc, project_id, id);
	if (!c)
		return -ENOENT;
	fw_campaign_view(c, fc->now_ms, out);
	return 0;
}

int fw_campaigns_list(struct fw_campaigns *fc, const char *project_id,
		      int (*fn)(const struct fw_campaign_view *v, void *ctx), void *ctx)
{
	struct fw_campaign_view *v = malloc(sizeof(*v));
	if (!v)
		return -ENOMEM;
	int rc = 0;
	for (struct fw_campaign *c = fc->tail; c && rc == 0; c = c->prev) {
		if (strcmp(c->project_id, project_id) != 0)
			continue;
		fw_campaign_view(c, fc->now_ms, v);
		rc = fn(v, ctx);
	}
	free(v);
	return rc;
}

int fw_campaigns_pause(struct fw_campaigns *fc, const char *project_id, const char *id)
{
	struct fw_campaign *c = fw_campaign_find(fc, project_id, id);
	if (!c)
		return -ENOENT;
	if (c->status != FW_CAMPAIGN_RUNNING)
		return -EINVAL;
	fw_campaign_set_status(c, FW_CAMPAIGN_PAUSED, NULL);
	return 0;
}

int fw_campaigns_resume(struct fw_campaigns *fc, const char *project_id, const char *id)
{
	struct fw_campaign *c = fw_campaign_find(fc, project_id, id);
	if (!c)
		return -ENOENT;
	if (c->status != FW_CAMPAIGN_PAUSED)
		return -EINVAL;
	fw_campaign_set_status(c, FW_CAMPAIGN_RUNNING, NULL);
	/* Targets may all have ended while it was paused. */
	if (ended_count(c) >= c->targets)
		check_end(c);
	return 0;
}

int fw_campaigns_cancel(struct fw_campaigns *fc, const char *project_id, const char *id)
{
	struct fw_campaign *c = fw_campaign_find(fc, project_id, id);
	if (!c)
		return -ENOENT;
	if (c->status == FW_CAMPAIGN_CANCELLED || c->status == FW_CAMPAIGN_FINISHED)
		return -EINVAL;
	int rc = store_fw_targets_cancel(fc->deps.store, c->campaign_id, fc->now_ms);
	if (rc)
		return rc;
	while (c->jobs)
		job_free(c, c->jobs, true);
	while (c->retries)
		job_free(c, c->retries, false);
	for (int s = FW_WAITING; s <= FW_UPDATING; s++) {
		c->counts[FW_CANCELLED] += c->counts[s];
		c->counts[s] = 0;
	}
	c->cursor_done = true;
	fw_campaign_set_status(c, FW_CAMPAIGN_CANCELLED, NULL);
	return 0;
}

int fw_campaigns_delete(struct fw_campaigns *fc, const char *project_id, const char *id)
{
	struct fw_campaign *c = fw_campaign_find(fc, project_id, id);
	if (!c)
		return -ENOENT;
	if (!fw_campaign_ended(c))
		return -EBUSY;
	int rc = store_fw_campaign_delete(fc->deps.store, c->campaign_id);
	if (rc && rc != -ENOENT)
		return rc;
	campaign_unlink(fc, c);
	/* A stopped campaign's last jobs may still run: the engine lets go of them. */
	campaign_free(c, true);
	return 0;
}

int fw_campaigns_targets(struct fw_campaigns *fc, const char *project_id, const char *id,
			 int state, int64_t after_seq, unsigned limit,
			 int (*fn)(const struct store_fw_target *t, void *ctx), void *ctx)
{
	struct fw_campaign *c = fw_campaign_find(fc, project_id, id);
	if (!c)
		return -ENOENT;
	return store_fw_target_list(fc->deps.store, c->campaign_id, state, after_seq, limit, fn,
				    ctx);
}
