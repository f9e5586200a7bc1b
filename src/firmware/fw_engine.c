/*
 * fw_engine: one device's update over object 5, step by step (fw_engine.h; the states and
 * reasons are in docs/firmware.md).
 *
 * A job is in one state (row.state) and, within it, at one step: the request in flight
 * (Read, Observe, Write, Execute), or STEP_WAIT — waiting for the device to say
 * something (a notification of /5/0/3 or /5/0/5, a new registration) or for the phase's
 * deadline. Every request goes through lwm2m_requests with hold: a sleeping queue-mode
 * device gets it when it wakes, and the request's own timeout is what is left of the
 * phase.
 */
#include "firmware/fw_engine.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "content/content.h"
#include "firmware/fw_engine_internal.h"
#include "firmware/fw_package.h"
#include "lwm2m/lwm2m_observe.h"
#include "lwm2m/lwm2m_requests.h"
#include "lwm2m/lwm2m_server.h"
#include "model/model.h"
#include "util/log.h"
#include "util/str.h"
#include "util/timefmt.h"
#include "util/token.h"

/* A request is given at least this long, even when its phase is nearly over. */
#define MIN_REQUEST_MS 1000
/* Bytes served are reported (and so stored) at most this often per job. */
#define BYTES_REPORT_MS 5000

static const struct lwm2m_path PATH_VERSION = { .len = 3, .ids = { 3, 0, 3 } };
static const struct lwm2m_path PATH_OBJECT5 = { .len = 2, .ids = { 5, 0 } };
static const struct lwm2m_path PATH_PACKAGE = { .len = 3, .ids = { 5, 0, 0 } };
static const struct lwm2m_path PATH_URI = { .len = 3, .ids = { 5, 0, 1 } };
static const struct lwm2m_path PATH_UPDATE = { .len = 3, .ids = { 5, 0, 2 } };
static const struct lwm2m_path PATH_STATE = { .len = 3, .ids = { 5, 0, 3 } };
static const struct lwm2m_path PATH_RESULT = { .len = 3, .ids = { 5, 0, 5 } };

static void issue(struct fw_engine *e, struct fw_job *job, enum fw_step step, int64_t now);

int64_t fw_engine_now(const struct fw_engine *e)
{
	return e->now_ms();
}

/* Indexes. */

static struct fw_job *find_node(struct fw_engine *e, const char *node_id)
{
	uint64_t h = hash_str(node_id);
	struct hmap_node *n;
	HMAP_FOR_EACH_WITH_HASH(n, h, &e->by_node)
	{
		struct fw_job *job = container_of(n, struct fw_job, by_node);
		if (strcmp(job->row.node_id, node_id) == 0)
			return job;
	}
	return NULL;
}

struct fw_job *fw_engine_find_token(struct fw_engine *e, const char *token)
{
	uint64_t h = hash_str(token);
	struct hmap_node *n;
	HMAP_FOR_EACH_WITH_HASH(n, h, &e->by_token)
	{
		struct fw_job *job = container_of(n, struct fw_job, by_token);
		if (strcmp(job->row.token, token) == 0)
			return job;
	}
	return NULL;
}

static void index_token(struct fw_engine *e, struct fw_job *job)
{
	if (!job->token_indexed && job->row.token[0]) {
		hmap_insert(&e->by_token, &job->by_token, hash_str(job->row.token));
		job->token_indexed = true;
	}
}

static int index_job(struct fw_engine *e, struct fw_job *job)
{
	if (find_node(e, job->row.node_id))
		return -EBUSY;
	hmap_insert(&e->by_node, &job->by_node, hash_str(job->row.node_id));
	job->indexed = true;
	index_token(e, job);
	e->stats.jobs++;
	return 0;
}

/* Forgets the job: no request, no token, not in the indexes. */
static void let_go(struct fw_engine *e, struct fw_job *job)
{
	if (job->request) {
		lwm2m_requests_cancel(e->requests, job->request);
		job->request = 0;
	}
	if (job->token_indexed) {
		hmap_remove(&e->by_token, &job->by_token);
		job->token_indexed = false;
	}
	if (job->indexed) {
		hmap_remove(&e->by_node, &job->by_node);
		job->indexed = false;
		e->stats.jobs--;
	}
}

/* Our observations of /5/0/3 and /5/0/5 of node_id (collected, then cancelled: the
 * table may not change while it is walked). */
struct obs_walk {
	const struct lwm2m_path *path; /* NULL: both */
	struct lwm2m_observation *found[8];
	size_t count;
};

static bool same_path(const struct lwm2m_path *a, const struct lwm2m_path *b)
{
	return lwm2m_path_under(a, b) && a->len == b->len;
}

static void collect_obs(const struct lwm2m_observation *o, void *ctx)
{
	struct obs_walk *w = ctx;
	bool ours = w->path ? same_path(&o->path, w->path)
			    : same_path(&o->path, &PATH_STATE) || same_path(&o->path, &PATH_RESULT);
	if (ours && !o->cancelled && w->count < sizeof(w->found) / sizeof(w->found[0]))
		w->found[w->count++] = (struct lwm2m_observation *)o;
}

static void cancel_observations(struct fw_engine *e, const char *node_id,
				const struct lwm2m_path *path)
{
	struct obs_walk w = { .path = path };
	lwm2m_observations_each(e->obs, node_id, collect_obs, &w);
	for (size_t i = 0; i < w.count; i++)
		lwm2m_observations_cancel(e->obs, w.found[i]);
}

/* Reports a change to the campaign, with the phase's deadline as the row's next_ms. */
static void report(struct fw_engine *e, struct fw_job *job)
{
	job->row.next_ms = job->phase_deadline_ms;
	job->row.updated_ms = e->now_ms();
	if (e->hooks.changed)
		e->hooks.changed(e->ctx, job);
}

static void enter(struct fw_engine *e, struct fw_job *job, enum fw_state state)
{
	job->row.state = state;
	report(e, job);
}

void fw_engine_finish(struct fw_engine *e, struct fw_job *job, enum fw_state state,
		      bool transient, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(job->row.reason, sizeof(job->row.reason), fmt, ap);
	va_end(ap);
	cancel_observations(e, job->row.node_id, NULL);
	let_go(e, job);
	job->transient = transient;
	job->step = STEP_WAIT;
	if (state == FW_SUCCEEDED)
		e->stats.succeeded++;
	else if (state == FW_FAILED)
		e->stats.failed++;
	else if (state == FW_SKIPPED)
		e->stats.skipped++;
	LOG_INFO_RATE_N("firmware", "update ended", 100, "firmware update of '%s' %s%s%s",
			job->row.node_id, fw_state_name(state), job->row.reason[0] ? ": " : "",
			job->row.reason);
	job->phase_deadline_ms = 0;
	enter(e, job, state); /* the campaign may free the job here */
}

/* Starting and resuming. */

/* The engine's own fields of a job, from `engine` to the end, start from zero. */
static void clear_private(struct fw_engine *e, struct fw_job *job)
{
	memset(&job->engine, 0, sizeof(*job) - offsetof(struct fw_job, engine));
	job->engine = e;
	job->delivery_method = -1;
}

int fw_engine_start(struct fw_engine *e, struct fw_job *job)
{
	clear_private(e, job);
	int rc = index_job(e, job);
	if (rc)
		return rc;
	int64_t now = e->now_ms();
	e->stats.started++;
	job->row.reason[0] = '\0';
	job->row.result = 0;
	job->row.bytes = 0;
	job->row.method = 0;
	job->row.token[0] = '\0';
	job->resync = false;
	job->phase_deadline_ms = now + (int64_t)job->pkg->download_timeout_s * 1000;
	enter(e, job, FW_STARTING);
	issue(e, job, STEP_READ_VERSION, now);
	return 0;
}

int fw_engine_resume(struct fw_engine *e, struct fw_job *job)
{
	clear_private(e, job);
	int rc = index_job(e, job);
	if (rc)
		return rc;
	int64_t now = e->now_ms();
	job->phase_deadline_ms = job->row.next_ms > 0 ? job->row.next_ms : now;
	job->resync = true;
	switch (job->row.state) {
	case FW_STARTING:
		issue(e, job, STEP_READ_VERSION, now);
		break;
	case FW_DOWNLOADING:
	case FW_DOWNLOADED:
		/* The download goes on by itself (pull); what the device did meanwhile is read
		 * again, and its state observed again. */
		issue(e, job, STEP_OBSERVE_STATE, now);
		break;
	default:
		/* Updating: it may have rebooted and registered again while the daemon was
		 * down (no hook for that): its version says, and if it is not the new one
		 * yet, its result is observed again (check_version). */
		issue(e, job, STEP_CHECK_VERSION, now);
		break;
	}
	return 0;
}

void fw_engine_stop(struct fw_engine *e, struct fw_job *job)
{
	if (job->indexed)
		cancel_observations(e, job->row.node_id, NULL);
	let_go(e, job);
}

/* Choosing pull or push from what the device says it can (/5/0/8, /5/0/9). */

static bool has_protocol(const struct fw_job *job, int protocol)
{
	if (job->protocol_count == 0)
		return true; /* LwM2M 1.0 devices have no /5/0/8: CoAP it is */
	for (unsigned i = 0; i < job->protocol_count; i++)
		if (job->protocols[i] == protocol)
			return true;
	return false;
}

/* 0 with row.method set, or a reason in why. */
static int choose_method(struct fw_engine *e, struct fw_job *job, enum lwm2m_transport transport,
			 char *why, size_t cap)
{
	const char *base = transport == LWM2M_TRANSPORT_DTLS ? e->cfg.coaps_base : e->cfg.coap_base;
	/* Protocol 0 is CoAP, 1 CoAPS (Core §E.6, /5/0/8). */
	bool can_pull = job->delivery_method != 1 &&
			has_protocol(job, transport == LWM2M_TRANSPORT_DTLS ? 1 : 0);
	bool can_push = job->delivery_method != 0;
	enum fw_delivery want = job->pkg->delivery;
	if (want == FW_DELIVERY_PULL || (want == FW_DELIVERY_AUTO && can_pull && base[0])) {
		if (!can_pull) {
			snprintf(why, cap, "the device cannot pull over %s (delivery method %d)",
				 transport == LWM2M_TRANSPORT_DTLS ? "CoAPS" : "CoAP",
				 job->delivery_method);
			return -1;
		}
		if (!base[0]) {
			snprintf(why, cap, "no address for devices to pull from: set "
					   "--public-host");
			return -1;
		}
		job->row.method = FW_DELIVERY_PULL;
		return 0;
	}
	if (!can_push) {
		snprintf(why, cap, "the device takes no push (delivery method %d)%s",
			 job->delivery_method, base[0] ? "" : " and no --public-host is set");
		return -1;
	}
	job->row.method = FW_DELIVERY_PUSH;
	return 0;
}

static int make_token(struct fw_engine *e, struct fw_job *job)
{
	if (job->token_indexed) {
		hmap_remove(&e->by_token, &job->by_token);
		job->token_indexed = false;
	}
	/* 16 random bytes: nobody guesses another device's download. */
	int rc = token_random_hex(job->row.token, sizeof(job->row.token), 16);
	if (rc == 0)
		index_token(e, job);
	return rc;
}

/* What a device's /5/0/3 (and /5/0/5) says, from a read or a notification. */
void fw_engine_device_state(struct fw_engine *e, struct fw_job *job, int state, int64_t now)
{
	job->device_state = (uint8_t)state;
	int result = job->row.result;
	switch (job->row.state) {
	case FW_DOWNLOADING:
		if (state == 2) {
			job->row.bytes = job->pkg->size;
			enter(e, job, FW_DOWNLOADED);
			if (!job->request)
				issue(e, job, STEP_EXECUTE, now);
		} else if (state == 0 && result >= 2) {
			fw_engine_fail_result(e, job, result);
		} else if (state == 0 && job->resync && !job->request) {
			/* It lost its download (a restart): deliver it again. */
			issue(e, job, STEP_DELIVER, now);
		}
		break;
	case FW_DOWNLOADED:
		if (state == 2 && !job->request)
			issue(e, job, STEP_EXECUTE, now);
		else if (state == 3)
			fw_engine_updating(e, job, now);
		break;
	case FW_UPDATING:
		if (result == 1 && !job->request)
			issue(e, job, STEP_CHECK_VERSION, now);
		else if (result >= 2)
			fw_engine_fail_result(e, job, result);
		break;
	default:
		break;
	}
}

void fw_engine_updating(struct fw_engine *e, struct fw_job *job, int64_t now)
{
	if (job->row.state == FW_UPDATING)
		return;
	job->phase_deadline_ms = now + (int64_t)job->pkg->update_timeout_s * 1000;
	enter(e, job, FW_UPDATING);
}

/* Requests. */

static void on_answer(void *ctx, const struct lwm2m_dm_result *res);

static void issue(struct fw_engine *e, struct fw_job *job, enum fw_step step, int64_t now)
{
	struct lwm2m_dm_request req = { .content_format = -1, .accept = -1 };
	char uri[256];
	job->step = step;
	switch (step) {
	case STEP_READ_VERSION:
	case STEP_CHECK_VERSION:
		req.op = LWM2M_OP_READ;
		req.path = PATH_VERSION;
		break;
	case STEP_READ_OBJECT:
		req.op = LWM2M_OP_READ;
		req.path = PATH_OBJECT5;
		break;
	case STEP_OBSERVE_STATE:
	case STEP_OBSERVE_RESULT:
		cancel_observations(e, job->row.node_id,
				    step == STEP_OBSERVE_STATE ? &PATH_STATE : &PATH_RESULT);
		req.op = LWM2M_OP_OBSERVE;
		req.path = step == STEP_OBSERVE_STATE ? PATH_STATE : PATH_RESULT;
		break;
	case STEP_READ_STATE:
		req.op = LWM2M_OP_READ;
		req.path = PATH_STATE;
		break;
	case STEP_RESET:
		/* An empty Package URI takes the state machine back to Idle (§E.6). */
		req.op = LWM2M_OP_WRITE_REPLACE;
		req.path = PATH_URI;
		req.content_format = CONTENT_TEXT;
		req.payload = (const uint8_t *)"";
		break;
	case STEP_DELIVER:
		req.op = LWM2M_OP_WRITE_REPLACE;
		/* The device's transport now (after a restart of either side too): the URI's
		 * scheme must be the one it registered over. */
		if (lwm2m_server_find_endpoint(e->lwm2m, job->row.node_id))
			job->transport =
				lwm2m_server_find_endpoint(e->lwm2m, job->row.node_id)->transport;
		if (job->row.method == FW_DELIVERY_PULL) {
			const char *base = job->transport == LWM2M_TRANSPORT_DTLS ? e->cfg.coaps_base
										  : e->cfg.coap_base;
			int n = snprintf(uri, sizeof(uri), "%s/fw/%s", base, job->row.token);
			req.path = PATH_URI;
			req.content_format = CONTENT_TEXT;
			req.payload = (const uint8_t *)uri;
			req.payload_len = n > 0 && (size_t)n < sizeof(uri) ? (size_t)n : 0;
		} else {
			req.path = PATH_PACKAGE;
			req.content_format = CONTENT_OPAQUE;
			req.payload = fw_file_map(job->pkg->file);
			req.payload_len = (size_t)job->pkg->size;
			req.payload_borrowed = true;
			if (!req.payload) {
				fw_engine_finish(e, job, FW_FAILED, true,
						 "the package file cannot be mapped: %s",
						 strerror(errno));
				return;
			}
			e->stats.pushes++;
		}
		if (job->row.state != FW_DOWNLOADING)
			enter(e, job, FW_DOWNLOADING);
		break;
	case STEP_EXECUTE:
		req.op = LWM2M_OP_EXECUTE;
		req.path = PATH_UPDATE;
		break;
	case STEP_WAIT:
		return;
	}
	int64_t left = job->phase_deadline_ms - now;
	req.timeout_ms = (uint32_t)(left > MIN_REQUEST_MS ? (left < INT32_MAX ? left : INT32_MAX)
							  : MIN_REQUEST_MS);
	int rc = lwm2m_requests_send(e->requests, job->row.node_id, &req, true, on_answer, job,
				     &job->request);
	if (rc == -ENOTCONN) {
		/* Not registered now: its next registration picks the update up. */
		job->request = 0;
		job->waiting_registration = true;
		return;
	}
	if (rc) {
		job->request = 0;
		fw_engine_finish(e, job, FW_FAILED, rc == -ENOMEM, "%s of %s could not be sent: %s",
				 lwm2m_op_name(req.op), fw_step_path(step), strerror(-rc));
	}
}

static void on_answer(void *ctx, const struct lwm2m_dm_result *res)
{
	struct fw_job *job = ctx;
	struct fw_engine *e = job->engine;
	job->request = 0;
	int64_t now = e->now_ms();
	if (res->status == -ENOTCONN) {
		job->waiting_registration = true;
		return;
	}
	if (res->status != 0) {
		if (now >= job->phase_deadline_ms) {
			fw_engine_timed_out(e, job);
			return;
		}
		/* No answer in time (a device in a dead spot): the next registration or
		 * wake tries again; the phase's deadline bounds it all. */
		LOG_INFO_RATE("firmware", "no answer", "firmware update of '%s': %s: %s",
			      job->row.node_id, fw_step_path(job->step), strerror(-res->status));
		job->waiting_registration = true;
		return;
	}
	fw_engine_step_answered(e, job, res, now);
}

void fw_engine_issue(struct fw_engine *e, struct fw_job *job, enum fw_step step, int64_t now)
{
	issue(e, job, step, now);
}

int fw_engine_pick_method(struct fw_engine *e, struct fw_job *job, char *why, size_t cap)
{
	struct lwm2m_registration *reg = lwm2m_server_find_endpoint(e->lwm2m, job->row.node_id);
	job->transport = reg ? reg->transport : LWM2M_TRANSPORT_UDP;
	if (choose_method(e, job, job->transport, why, cap) != 0)
		return -1;
	if (job->row.method == FW_DELIVERY_PULL && make_token(e, job) != 0) {
		snprintf(why, cap, "no randomness for a download token");
		return -1;
	}
	return 0;
}

/* The daemon's events. */

void fw_engine_registered(struct fw_engine *e, const char *node_id)
{
	struct fw_job *job = find_node(e, node_id);
	if (!job)
		return;
	int64_t now = e->now_ms();
	job->waiting_registration = false;
	if (job->request) {
		/* What was in flight went to the device's old registration. */
		lwm2m_requests_cancel(e->requests, job->request);
		job->request = 0;
	}
	switch (job->row.state) {
	case FW_STARTING:
		issue(e, job, STEP_READ_VERSION, now);
		break;
	case FW_DOWNLOADING:
	case FW_DOWNLOADED:
		/* Registered again mid-update (it restarted): read where it is, observe again. */
		job->resync = true;
		issue(e, job, STEP_OBSERVE_STATE, now);
		break;
	case FW_UPDATING:
		/* Its reboot into the new firmware: is it the package's version? */
		issue(e, job, STEP_CHECK_VERSION, now);
		break;
	default:
		break;
	}
}

/* The device spoke without registering (an Update, a notification): a step that found it
 * unreachable is tried again. */
void fw_engine_device_spoke(struct fw_engine *e, const char *node_id)
{
	/* Called for every datagram of every device: nothing to look up when no update
	 * runs. */
	if (e->stats.jobs == 0)
		return;
	struct fw_job *job = find_node(e, node_id);
	if (!job || !job->waiting_registration || job->request)
		return;
	job->waiting_registration = false;
	issue(e, job, job->step == STEP_WAIT ? STEP_READ_STATE : job->step, e->now_ms());
}

void fw_engine_notification(struct fw_engine *e, const struct lwm2m_observation *o, int format,
			    const uint8_t *payload, size_t len)
{
	bool is_state = same_path(&o->path, &PATH_STATE);
	if (!is_state && !same_path(&o->path, &PATH_RESULT))
		return;
	struct fw_job *job = find_node(e, o->node_id);
	if (!job || format < 0)
		return;
	int64_t value;
	if (fw_engine_decode_int(format, &o->path, payload, len, &value) != 0)
		return;
	int64_t now = e->now_ms();
	if (is_state) {
		fw_engine_device_state(e, job, (int)value, now);
	} else {
		job->row.result = (int)value;
		fw_engine_device_state(e, job, job->device_state, now);
	}
}

void fw_engine_timed_out(struct fw_engine *e, struct fw_job *job)
{
	static const char *const phase[FW_STATE_COUNT] = {
		[FW_STARTING] = "starting",     [FW_DOWNLOADING] = "the download",
		[FW_DOWNLOADED] = "the update", [FW_UPDATING] = "the update",
	};
	uint32_t s = job->row.state == FW_UPDATING ? job->pkg->update_timeout_s
						   : job->pkg->download_timeout_s;
	const char *what = job->row.state < FW_STATE_COUNT && phase[job->row.state]
				   ? phase[job->row.state]
				   : "the update";
	fw_engine_finish(e, job, FW_FAILED, true, "%s timed out after %u s", what, s);
}

bool fw_engine_expire_if_late(struct fw_engine *e, struct fw_job *job, int64_t now_ms)
{
	if (!job->indexed || !job->phase_deadline_ms || now_ms < job->phase_deadline_ms)
		return false;
	fw_engine_timed_out(e, job);
	return true;
}

struct expired {
	int64_t now;
	struct fw_job *jobs[64];
	size_t count;
};

static void collect_expired(struct hmap_node *n, void *ctx)
{
	struct expired *x = ctx;
	struct fw_job *job = container_of(n, struct fw_job, by_node);
	if (job->phase_deadline_ms && x->now >= job->phase_deadline_ms &&
	    x->count < sizeof(x->jobs) / sizeof(x->jobs[0]))
		x->jobs[x->count++] = job;
}

void fw_engine_tick(struct fw_engine *e, int64_t now_ms)
{
	struct expired x;
	do {
		x.now = now_ms;
		x.count = 0;
		hmap_for_each(&e->by_node, collect_expired, &x);
		for (size_t i = 0; i < x.count; i++)
			fw_engine_timed_out(e, x.jobs[i]);
	} while (x.count == sizeof(x.jobs) / sizeof(x.jobs[0]));
}

void fw_engine_served(struct fw_engine *e, struct fw_job *job, uint64_t end, size_t n,
		      int64_t now_ms)
{
	e->stats.blocks_served++;
	e->stats.bytes_served += n;
	if (end <= job->row.bytes)
		return;
	job->row.bytes = end;
	if (now_ms - job->bytes_saved_ms >= BYTES_REPORT_MS || end == job->pkg->size) {
		job->bytes_saved_ms = now_ms;
		report(e, job);
	}
}

void fw_engine_refused(struct fw_engine *e)
{
	e->stats.downloads_refused++;
}

void fw_engine_etag(const struct fw_job *job, uint8_t out[8])
{
	for (int i = 0; i < 8; i++) {
		unsigned v = 0;
		sscanf(job->pkg->sha256 + 2 * i, "%2x", &v);
		out[i] = (uint8_t)v;
	}
}

const struct fw_engine_stats *fw_engine_stats(const struct fw_engine *e)
{
	return &e->stats;
}

/* Life. */

int fw_engine_create(struct fw_engine **out, uv_loop_t *loop, struct lwm2m_server *lwm2m,
		     struct lwm2m_requests *requests, struct lwm2m_observations *obs,
		     const struct fw_engine_config *cfg, const struct fw_engine_hooks *hooks,
		     void *ctx)
{
	struct fw_engine *e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	if (hmap_init(&e->by_node) || hmap_init(&e->by_token)) {
		hmap_destroy(&e->by_node);
		free(e);
		return -ENOMEM;
	}
	e->loop = loop;
	e->lwm2m = lwm2m;
	e->requests = requests;
	e->obs = obs;
	e->cfg = *cfg;
	e->hooks = *hooks;
	e->ctx = ctx;
	e->now_ms = time_now_ms;
	*out = e;
	return 0;
}

static void drop(struct hmap_node *n, void *ctx)
{
	struct fw_engine *e = ctx;
	struct fw_job *job = container_of(n, struct fw_job, by_node);
	if (job->request)
		lwm2m_requests_cancel(e->requests, job->request);
	job->request = 0;
	job->indexed = job->token_indexed = false;
}

void fw_engine_destroy(struct fw_engine *e)
{
	if (!e)
		return;
	hmap_for_each(&e->by_node, drop, e);
	hmap_destroy(&e->by_node);
	hmap_destroy(&e->by_token);
	free(e);
}
