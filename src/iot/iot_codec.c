/*
 * iot_codec: the platform's codecs — what goes to the codec threads (codec_worker.c) and
 * what is done, on the loop, with what comes back (docs/internals/iot.md, "Codecs").
 *
 * - Uplink. A payload of a product with a JavaScript codec is copied into a decode job on
 *   the product's queue. When it comes back the device is read again (it may be gone by
 *   then) and the message applied as it always was: a deviceReq's services into the shadow,
 *   a deviceRsp settling its command; then the device's next command may go. A declarative
 *   codec (pure C, bounded, about a microsecond) decodes on the loop at once — unless
 *   decode jobs of the product are still out (it was JavaScript a moment ago): then the
 *   payload queues behind them, so that a device's reports are applied in the order they
 *   came.
 * - Downlink. A command of such a product is encoded by a job; meanwhile the device's
 *   in-flight entry (marked `encoding`) holds its place, so no other command of the device
 *   overtakes it, and the command stays PENDING until it is sent (SENT) or the codec fails
 *   (FAILED).
 * - The API. The codec test and the upload's compile check of a JavaScript source are jobs
 *   with a codec of their own, on the product's queue; the API answers when they return.
 * - Refusals. A full queue drops the report (a "codec_error" event of stage "queue", a
 *   counter); a suspended codec's reports are counted and dropped, and the job whose
 *   timeout suspended it publishes "codec_suspended".
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "content/content.h"
#include "iot/iot_platform_internal.h"
#include "util/log.h"
#include "util/str.h"
#include "util/timefmt.h"

static const struct lwm2m_path downlink_path = { .len = 3, .ids = { 19, 1, 0 } };

static void product_key(const char *project_id, const char *product_id,
			char key[CODEC_WORKER_KEY_MAX + 1])
{
	snprintf(key, CODEC_WORKER_KEY_MAX + 1, "%s/%s", project_id, product_id);
}

/* Products with decode jobs out: a declarative decode of theirs must queue behind them. */
struct busy {
	struct hmap_node node;
	unsigned jobs;
	char key[CODEC_WORKER_KEY_MAX + 1];
};

static struct busy *busy_find(struct iot_platform *p, const char *key)
{
	struct hmap_node *n;
	if (p->busy.count == 0)
		return NULL;
	HMAP_FOR_EACH_WITH_HASH(n, hash_str(key), &p->busy)
	{
		struct busy *b = container_of(n, struct busy, node);
		if (strcmp(b->key, key) == 0)
			return b;
	}
	return NULL;
}

/* One more job of key out; false when out of memory (the caller does not queue). */
static bool busy_hold(struct iot_platform *p, const char *key)
{
	struct busy *b = busy_find(p, key);
	if (!b) {
		b = calloc(1, sizeof(*b));
		if (!b)
			return false;
		str_copy(b->key, sizeof(b->key), key);
		hmap_insert(&p->busy, &b->node, hash_str(b->key));
	}
	b->jobs++;
	return true;
}

static void busy_release(struct iot_platform *p, const char *key)
{
	struct busy *b = busy_find(p, key);
	if (b && --b->jobs == 0) {
		hmap_remove(&p->busy, &b->node);
		free(b);
	}
}

static void free_busy(struct hmap_node *n, void *ctx)
{
	(void)ctx;
	free(container_of(n, struct busy, node));
}

int iot_codec_start(struct iot_platform *p)
{
	int rc = hmap_init(&p->busy);
	if (rc == 0)
		rc = codec_worker_create(&p->worker, p->deps.loop, &p->deps.codec);
	return rc;
}

void iot_codec_stop(struct iot_platform *p)
{
	uint64_t before = p->stats.reports_cancelled;
	codec_worker_destroy(p->worker);
	p->worker = NULL;
	if (p->stats.reports_cancelled > before)
		LOG_WARN("iot", "%llu reports were not decoded: the daemon stopped before their turn",
			 (unsigned long long)(p->stats.reports_cancelled - before));
	hmap_for_each(&p->busy, free_busy, NULL);
	hmap_destroy(&p->busy);
}

void iot_codec_load(struct iot_platform *p, struct product_entry *e, const char *kind,
		    const char *source)
{
	product_key(e->project_id, e->product_id, e->key);
	if (!kind[0] || !source) {
		codec_worker_set(p->worker, e->key, 0, NULL, 0, false);
		return;
	}
	size_t len = strlen(source);
	if (strcmp(kind, "js") == 0) {
		e->codec_kind = CODEC_JS;
		if (codec_worker_set(p->worker, e->key, CODEC_JS, source, len, true) != 0)
			LOG_WARN("iot", "product %s: no memory for its codec", e->product_id);
		return;
	}
	char err[256];
	if (codec_create(CODEC_DECLARATIVE, source, len, NULL, &e->codec, err, sizeof(err)) != 0) {
		LOG_WARN("iot", "product %s: codec does not load: %s", e->product_id, err);
		return;
	}
	e->codec_kind = CODEC_DECLARATIVE;
	/* Only a product the threads know already (it was JavaScript, and decode jobs may
	 * still be out): those decode it from now on, in order. */
	codec_worker_set(p->worker, e->key, CODEC_DECLARATIVE, source, len, false);
}

void iot_codec_forget(struct iot_platform *p, const char *project_id, const char *product_id)
{
	char key[CODEC_WORKER_KEY_MAX + 1];
	product_key(project_id, product_id, key);
	codec_worker_forget(p->worker, key);
}

/* The job's timeout suspended the product's codec: say so, once. */
static void announce_suspension(struct iot_platform *p, const struct store_device *dev,
				const char *key)
{
	struct codec_worker_status st;
	if (codec_worker_status(p->worker, key, &st) != 0 || !st.suspended)
		return;
	char since[TIME_TEXT_MAX];
	time_format(st.suspended_ms / 1000, since);
	LOG_WARN("iot", "product %s: codec suspended: %s", dev->product_id, st.reason);
	iot_publish(p, dev, "codec_suspended",
		    json_pack("{s:s, s:s}", "reason", st.reason, "since", since));
}

/* Uplink. */

static void command_answer(struct iot_platform *p, const struct store_device *dev,
			   const json_t *msg)
{
	int mid = (int)json_integer_value(json_object_get(msg, "mid"));
	struct store_command c;
	json_int_t errcode = json_integer_value(json_object_get(msg, "errcode"));
	if (store_command_find_mid(p->deps.store, dev->node_id, mid, &c) != 0) {
		/* The codec did its part; the device answered a command that is not waiting
		 * (settled already, or never sent): its own counter, not a codec error. */
		p->stats.unmatched_answers++;
		LOG_WARN("iot", "%s: an answer with mid %d matches no command in flight",
			 dev->node_id, mid);
		iot_publish(p, dev, "unmatched_answer",
			    json_pack("{s:i, s:I}", "mid", mid, "errcode", errcode));
		return;
	}
	json_t *body = json_object_get(msg, "body");
	iot_command_set(p, &c, errcode == 0 ? "SUCCESSFUL" : "FAILED",
			json_pack("{s:I, s:O}", "errcode", errcode, "body",
				  body ? body : json_null()));
	store_command_clear(&c);
}

/* A decode's outcome (rc, and msg or err) for dev. */
static void apply(struct iot_platform *p, const struct store_device *dev,
		  struct product_entry *e, int rc, const json_t *msg, const char *err)
{
	if (rc == -EPERM) {
		p->stats.reports_suspended++;
		return;
	}
	if (rc == -ENOENT)
		return; /* the product has no codec any more: nothing to decode */
	if (rc) {
		iot_codec_error(p, dev, "decode", "%s", err ? err : strerror(-rc));
		return;
	}
	p->stats.uplinks++;
	if (strcmp(json_string_value(json_object_get(msg, "msgType")), "deviceRsp") == 0)
		command_answer(p, dev, msg);
	else if (e)
		iot_report(p, dev, e, msg);
}

struct decode_job {
	struct codec_job job;
	struct iot_platform *p;
	char key[CODEC_WORKER_KEY_MAX + 1];
	char project_id[STORE_ID_MAX + 1];
	char device_id[STORE_ID_MAX + 1];
	char node_id[STORE_NODE_ID_MAX + 1];
};

static void decode_done(struct codec_job *job)
{
	struct decode_job *j = container_of(job, struct decode_job, job);
	struct iot_platform *p = j->p;
	struct store_device dev;
	busy_release(p, j->key);
	if (job->rc == -ECANCELED) {
		p->stats.reports_cancelled++;
	} else if (iot_device_by_id(p, j->project_id, j->device_id, j->node_id, &dev) == 0) {
		/* (A device deleted meanwhile gets nothing: its report goes with it.) */
		struct product_entry *e = iot_product(p, dev.project_id, dev.product_id);
		if (job->suspended_now)
			announce_suspension(p, &dev, j->key);
		apply(p, &dev, e, job->rc, job->decoded, job->err);
		iot_dispatch(p, dev.node_id); /* it spoke: it is awake */
	}
	codec_job_clear(job);
	free(j);
}

/* A report the threads would not take. */
static void uplink_refused(struct iot_platform *p, const struct store_device *dev, int rc)
{
	if (rc == -EPERM) {
		p->stats.reports_suspended++;
		return;
	}
	if (rc == -ENOENT)
		return;
	if (rc != -ENOBUFS) {
		p->stats.reports_cancelled++;
		return;
	}
	p->stats.reports_queue_full++;
	iot_publish(p, dev, "codec_error",
		    json_pack("{s:s, s:s}", "stage", "queue", "error",
			      "the codec's queue is full: this report is not decoded"));
	/* A product flooded past its queue would flood the log too: once a second. */
	int64_t now = p->deps.now_ms();
	p->drops_unlogged++;
	if (now - p->last_drop_log_ms >= 1000) {
		LOG_WARN("iot", "%llu reports not decoded: codec queue full (the last of product %s)",
			 (unsigned long long)p->drops_unlogged, dev->product_id);
		p->last_drop_log_ms = now;
		p->drops_unlogged = 0;
	}
}

bool iot_uplink(struct iot_platform *p, const struct store_device *dev,
		struct product_entry *e, const uint8_t *bytes, size_t len)
{
	if (!iot_has_codec(e))
		return false; /* an application's own observation of /19/0/0: nothing to decode */
	if (e->codec_kind == CODEC_DECLARATIVE && !busy_find(p, e->key)) {
		char err[512];
		json_t *msg = NULL;
		int rc = codec_decode(e->codec, bytes, len, NULL, &msg, err, sizeof(err));
		apply(p, dev, e, rc, msg, err);
		json_decref(msg);
		return false;
	}
	if (len > CODEC_MAX_PAYLOAD) {
		iot_codec_error(p, dev, "decode", "payload of %zu bytes is over %d", len,
				CODEC_MAX_PAYLOAD);
		return false;
	}
	struct decode_job *j = calloc(1, sizeof(*j));
	uint8_t *copy = malloc(len ? len : 1);
	int rc = j && copy && busy_hold(p, e->key) ? 0 : -ENOMEM;
	if (rc == 0) {
		memcpy(copy, bytes, len);
		j->p = p;
		str_copy(j->key, sizeof(j->key), e->key);
		str_copy(j->project_id, sizeof(j->project_id), dev->project_id);
		str_copy(j->device_id, sizeof(j->device_id), dev->device_id);
		str_copy(j->node_id, sizeof(j->node_id), dev->node_id);
		j->job.op = CODEC_JOB_DECODE;
		j->job.drain = true;
		j->job.payload = copy;
		j->job.len = len;
		j->job.done = decode_done;
		rc = codec_worker_submit(p->worker, e->key, &j->job);
		if (rc == 0)
			return true;
		busy_release(p, e->key);
		codec_job_clear(&j->job); /* frees copy */
	} else {
		free(copy);
	}
	free(j);
	uplink_refused(p, dev, rc);
	return false;
}

/* Downlink. */

struct encode_job {
	struct codec_job job;
	struct iot_platform *p;
	char key[CODEC_WORKER_KEY_MAX + 1];
	char node_id[STORE_NODE_ID_MAX + 1];
	char command_id[40];
	bool immediately;
	bool holds_place; /* the device's in-flight entry is this job's */
};

static void downlink_request(struct lwm2m_dm_request *dm, const uint8_t *payload, size_t len)
{
	*dm = (struct lwm2m_dm_request){ .op = LWM2M_OP_WRITE_REPLACE, .path = downlink_path,
					 .accept = -1, .content_format = CONTENT_OPAQUE,
					 .payload = payload, .payload_len = len,
					 .timeout_ms = 60000 };
}

/* The codec could not encode c (rc, err): FAILED, and the device's next command. */
static int encode_failed(struct iot_platform *p, struct store_command *c,
			 const struct store_device *dev, int rc, const char *err)
{
	/* A suspension was announced once; each refused command says so in its result. */
	if (dev && rc != -EPERM)
		iot_codec_error(p, dev, "encode", "%s", err);
	iot_command_set(p, c, "FAILED",
			json_pack("{s:s, s:s}", "error", "codec encode failed", "detail", err));
	return rc;
}

static void encode_done(struct codec_job *job)
{
	struct encode_job *j = container_of(job, struct encode_job, job);
	struct iot_platform *p = j->p;
	struct in_flight *f = iot_in_flight(p, j->node_id);
	if (j->holds_place && f && f->encoding && strcmp(f->command_id, j->command_id) == 0) {
		hmap_remove(&p->in_flight, &f->node);
		free(f);
	}
	struct store_command c;
	/* Stopping (cancelled, or an encode that ended during the drain): it stays PENDING
	 * and goes after the restart. Sent now, it would be SENT when the daemon exits, and
	 * TIMEOUT, never sent again, after the restart. */
	if (job->rc == -ECANCELED || p->stopping ||
	    store_command_get(p->deps.store, j->command_id, &c) != 0)
		goto out;
	int rc = -EALREADY;
	struct store_device dev;
	bool have_dev = iot_device_by_id(p, c.project_id, c.device_id, c.node_id, &dev) == 0;
	if (job->suspended_now && have_dev)
		announce_suspension(p, &dev, j->key);
	if (strcmp(c.status, "PENDING") != 0) {
		/* Settled meanwhile (expired; its device deleted): nothing to send. */
	} else if (job->rc == 0 && !j->holds_place && iot_in_flight(p, j->node_id)) {
		rc = -EAGAIN; /* another went first after all: this one follows it */
	} else if (job->rc == 0) {
		struct lwm2m_dm_request dm;
		downlink_request(&dm, job->payload, job->len);
		rc = iot_transmit(p, &c, &dm, false, j->immediately);
	} else {
		rc = encode_failed(p, &c, have_dev ? &dev : NULL, job->rc,
				   job->err ? job->err : strerror(-job->rc));
	}
	store_command_clear(&c);
	/* Sent: the next goes once it is settled; -EAGAIN: when the device next speaks; else
	 * the queue goes on (if this job held its place). */
	if (rc != 0 && rc != -EAGAIN && j->holds_place)
		iot_dispatch(p, j->node_id);
out:
	codec_job_clear(job);
	free(j);
}

static int encode_start(struct iot_platform *p, struct store_command *c,
			const struct store_device *dev, struct product_entry *e,
			bool immediately, bool holds_place);

int iot_encode_and_send(struct iot_platform *p, struct store_command *c,
			const struct store_device *dev, struct product_entry *e,
			bool immediately)
{
	return encode_start(p, c, dev, e, immediately, true);
}

void iot_encode_behind(struct iot_platform *p, struct store_command *c,
		       const struct store_device *dev, struct product_entry *e)
{
	encode_start(p, c, dev, e, true, false);
}

/* Encodes c (a thread's job for JavaScript, holding the device's place in flight or not)
 * and transmits it: iot_encode_and_send. */
static int encode_start(struct iot_platform *p, struct store_command *c,
			const struct store_device *dev, struct product_entry *e,
			bool immediately, bool holds_place)
{
	json_t *paras = json_loads(c->paras, 0, NULL);
	if (!paras)
		paras = json_object();
	json_t *req = json_pack("{s:s, s:s, s:s, s:o, s:i}", "msgType", "cloudReq", "serviceId",
				c->service_id, "cmd", c->command_name, "paras", paras, "mid",
				c->mid);
	if (!req)
		return encode_failed(p, c, dev, -ENOMEM, "out of memory");
	if (e->codec_kind == CODEC_DECLARATIVE) {
		uint8_t payload[CODEC_MAX_PAYLOAD];
		struct lwm2m_dm_request dm;
		char err[256];
		downlink_request(&dm, payload, 0);
		int rc = codec_encode(e->codec, req, payload, sizeof(payload), &dm.payload_len, err,
				      sizeof(err));
		json_decref(req);
		return rc ? encode_failed(p, c, dev, rc, err)
			  : iot_transmit(p, c, &dm, false, immediately);
	}
	struct encode_job *j = calloc(1, sizeof(*j));
	struct in_flight *f = calloc(1, sizeof(*f));
	int rc = j && f ? 0 : -ENOMEM;
	if (rc == 0) {
		j->p = p;
		str_copy(j->key, sizeof(j->key), e->key);
		str_copy(j->node_id, sizeof(j->node_id), c->node_id);
		str_copy(j->command_id, sizeof(j->command_id), c->command_id);
		j->immediately = immediately;
		j->holds_place = holds_place;
		j->job.op = CODEC_JOB_ENCODE;
		j->job.cloud_req = req;
		req = NULL;
		j->job.done = encode_done;
		rc = codec_worker_submit(p->worker, e->key, &j->job);
	}
	if (rc == 0) {
		if (!holds_place) {
			free(f);
			return -EINPROGRESS;
		}
		f->p = p;
		f->encoding = true;
		str_copy(f->node_id, sizeof(f->node_id), c->node_id);
		str_copy(f->command_id, sizeof(f->command_id), c->command_id);
		hmap_insert(&p->in_flight, &f->node, hash_str(f->node_id));
		return -EINPROGRESS;
	}
	json_decref(req);
	if (j)
		codec_job_clear(&j->job);
	free(j);
	free(f);
	if (!immediately && (rc == -ENOBUFS || rc == -ESHUTDOWN || rc == -ENOMEM))
		return -EAGAIN; /* it goes when the device next speaks */
	char err[CODEC_WORKER_REASON_MAX + 64];
	if (rc == -EPERM) {
		struct codec_worker_status st;
		codec_worker_status(p->worker, e->key, &st);
		snprintf(err, sizeof(err), "the product's codec is suspended: %s", st.reason);
	} else {
		snprintf(err, sizeof(err), "%s",
			 rc == -ENOBUFS ? "the codec's queue is full" : strerror(-rc));
	}
	return encode_failed(p, c, dev, rc, err);
}

/* The API's calls. */

struct iot_codec_call {
	struct codec_job job;
	iot_codec_reply_fn reply; /* NULL once abandoned */
	void *ctx;
};

/* What the API shows of a run: {"decoded"} (msg taken), {"payload_hex"}, or NULL. */
static json_t *run_result(enum codec_job_op op, json_t *msg, const uint8_t *bytes, size_t n)
{
	if (op == CODEC_JOB_DECODE)
		return json_pack("{s:o}", "decoded", msg);
	if (op != CODEC_JOB_ENCODE)
		return NULL;
	char hex[2 * CODEC_MAX_PAYLOAD + 1];
	for (size_t i = 0; i < n && i < CODEC_MAX_PAYLOAD; i++)
		snprintf(hex + 2 * i, 3, "%02X", bytes[i]);
	hex[2 * (n < CODEC_MAX_PAYLOAD ? n : CODEC_MAX_PAYLOAD)] = '\0';
	return json_pack("{s:s}", "payload_hex", hex);
}

static void call_done(struct codec_job *job)
{
	struct iot_codec_call *cc = container_of(job, struct iot_codec_call, job);
	if (cc->reply) {
		json_t *result = NULL;
		if (job->rc == 0) {
			result = run_result(job->op, job->decoded, job->payload, job->len);
			job->decoded = NULL;
		}
		cc->reply(cc->ctx, job->rc, result, job->err ? job->err : "");
		json_decref(result);
	}
	codec_job_clear(job);
	free(cc);
}

/* A declarative codec, on the loop: it is bounded like any parser. */
static int run_declarative(const char *source, const uint8_t *payload, size_t len,
			   const json_t *cloud_req, iot_codec_reply_fn reply, void *ctx)
{
	struct codec *c = NULL;
	char err[512] = "";
	int rc = codec_create(CODEC_DECLARATIVE, source, strlen(source), NULL, &c, err,
			      sizeof(err));
	json_t *result = NULL;
	if (rc == 0 && cloud_req) {
		uint8_t bytes[CODEC_MAX_PAYLOAD];
		size_t n = 0;
		rc = codec_encode(c, cloud_req, bytes, sizeof(bytes), &n, err, sizeof(err));
		if (rc == 0)
			result = run_result(CODEC_JOB_ENCODE, NULL, bytes, n);
	} else if (rc == 0 && payload) {
		json_t *msg;
		rc = codec_decode(c, payload, len, NULL, &msg, err, sizeof(err));
		if (rc == 0)
			result = run_result(CODEC_JOB_DECODE, msg, NULL, 0);
	}
	codec_destroy(c);
	reply(ctx, rc, result, err);
	json_decref(result);
	return 0;
}

int iot_platform_codec_run(struct iot_platform *p, const char *project_id,
			   const char *product_id, const char *kind, const char *source,
			   const uint8_t *payload, size_t len, const json_t *cloud_req,
			   iot_codec_reply_fn reply, void *ctx, struct iot_codec_call **call)
{
	*call = NULL;
	if (strcmp(kind, "js") != 0)
		return run_declarative(source, payload, len, cloud_req, reply, ctx);
	struct iot_codec_call *cc = calloc(1, sizeof(*cc));
	if (!cc)
		return -ENOMEM;
	cc->reply = reply;
	cc->ctx = ctx;
	cc->job.done = call_done;
	cc->job.kind = CODEC_JS;
	cc->job.source = strdup(source);
	cc->job.source_len = strlen(source);
	cc->job.op = cloud_req ? CODEC_JOB_ENCODE : payload ? CODEC_JOB_DECODE : CODEC_JOB_COMPILE;
	/* The thread gets copies: jansson's values are not to be shared between threads. */
	if (cloud_req)
		cc->job.cloud_req = json_deep_copy(cloud_req);
	if (payload) {
		cc->job.payload = malloc(len ? len : 1);
		if (cc->job.payload)
			memcpy(cc->job.payload, payload, len);
		cc->job.len = len;
	}
	int rc = cc->job.source && (!cloud_req || cc->job.cloud_req) &&
				 (!payload || cc->job.payload)
			 ? 0
			 : -ENOMEM;
	char key[CODEC_WORKER_KEY_MAX + 1];
	product_key(project_id, product_id, key);
	if (rc == 0)
		rc = codec_worker_submit(p->worker, key, &cc->job);
	if (rc) {
		codec_job_clear(&cc->job);
		free(cc);
		return rc;
	}
	*call = cc;
	return 0;
}

void iot_platform_codec_abandon(struct iot_codec_call *call)
{
	if (call)
		call->reply = NULL;
}

json_t *iot_platform_codec_status(struct iot_platform *p, const char *project_id,
				  const char *product_id)
{
	char key[CODEC_WORKER_KEY_MAX + 1];
	product_key(project_id, product_id, key);
	struct codec_worker_status st;
	if (codec_worker_status(p->worker, key, &st) != 0 || !st.suspended)
		return json_pack("{s:s}", "status", "ACTIVE");
	char since[TIME_TEXT_MAX];
	time_format(st.suspended_ms / 1000, since);
	return json_pack("{s:s, s:s, s:s}", "status", "SUSPENDED", "reason", st.reason, "since",
			 since);
}

void iot_platform_codec_resume(struct iot_platform *p, const char *project_id,
			       const char *product_id)
{
	char key[CODEC_WORKER_KEY_MAX + 1];
	product_key(project_id, product_id, key);
	codec_worker_resume(p->worker, key);
}

void iot_platform_codec_stats(struct iot_platform *p, struct codec_worker_stats *out)
{
	codec_worker_stats(p->worker, out);
}
