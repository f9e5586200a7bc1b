/*
 * codec_worker: products' codecs on a pool of threads (codec_worker.h says what and why).
 *
 * One mutex guards the shared state: the products ("slots") by key, each slot's queue,
 * the ring of slots ready to run, the list of finished jobs and the counters. It is held
 * only to move jobs and slots between those lists, never while a codec runs. What a slot
 * compiled (its struct codec) belongs to the thread that runs the slot's job: a slot runs
 * on one thread at a time (`running`), and the mutex hand-over orders its uses.
 *
 * A slot is in the ready ring when it has something for a thread to do — a job, or a
 * compiled codec that is stale or whose product is gone — and is not running; a thread
 * takes it from the head, runs one job, and puts it back at the tail if it has more. That
 * is the round robin.
 */
#include "iot/codec_worker.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/hash.h"
#include "util/str.h"

/* A product's codec source, shared by the slot and a thread compiling it. */
struct codec_source {
	unsigned refs; /* under the lock */
	enum codec_kind kind;
	size_t len;
	char text[];
};

struct codec_slot {
	struct hmap_node node; /* in w->slots, until forgotten */
	char key[CODEC_WORKER_KEY_MAX + 1];
	/* Under the lock. */
	struct codec_source *source; /* NULL: the product has no codec */
	uint64_t gen;                /* of source; 0 before the first */
	struct codec_job *head, *tail;
	unsigned queued;
	bool running, in_ready, dying;
	struct codec_slot *ready_next;
	int64_t timeouts[CODEC_WORKER_MAX_SUSPEND_AFTER]; /* a ring of the last ones, ms */
	unsigned timeouts_seen;
	bool suspended;
	int64_t suspended_ms;
	char reason[CODEC_WORKER_REASON_MAX];
	/* The running thread's. */
	bool compiled;         /* codec / compile_err are those of codec_gen */
	uint64_t codec_gen;
	struct codec *codec;
	int compile_rc;
	char *compile_err;
};

struct codec_worker {
	struct codec_worker_config cfg;
	uv_async_t *async; /* freed by its close callback */
	pthread_t threads[CODEC_WORKER_MAX_THREADS];
	unsigned nthreads;

	pthread_mutex_t lock;
	pthread_cond_t wake; /* work in the ready ring, or quit */
	pthread_cond_t idle; /* a job finished (destroy's drain waits on it) */
	struct hmap slots;
	struct codec_slot *ready_head, *ready_tail;
	struct codec_job *done_head, *done_tail;
	unsigned outstanding; /* submitted and not handed back */
	bool stopping;        /* submit refuses */
	bool quit;            /* threads leave */
	struct codec_worker_stats stats;
};

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void codec_job_clear(struct codec_job *job)
{
	free(job->source);
	free(job->payload);
	free(job->err);
	json_decref(job->cloud_req);
	json_decref(job->decoded);
	job->source = NULL;
	job->payload = NULL;
	job->err = NULL;
	job->cloud_req = NULL;
	job->decoded = NULL;
}

static void job_fail(struct codec_job *job, int rc, const char *text)
{
	job->rc = rc;
	free(job->err);
	job->err = strdup(text);
}

/* Sources and slots. */

static void source_release(struct codec_source *src)
{
	if (src && --src->refs == 0)
		free(src);
}

static struct codec_slot *slot_find(struct codec_worker *w, const char *key)
{
	struct hmap_node *n;
	HMAP_FOR_EACH_WITH_HASH(n, hash_str(key), &w->slots)
	{
		struct codec_slot *s = container_of(n, struct codec_slot, node);
		if (strcmp(s->key, key) == 0)
			return s;
	}
	return NULL;
}

static struct codec_slot *slot_new(struct codec_worker *w, const char *key)
{
	struct codec_slot *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	str_copy(s->key, sizeof(s->key), key);
	hmap_insert(&w->slots, &s->node, hash_str(s->key));
	return s;
}

/* Frees a slot no thread runs and no list holds; destroys its codec (here: callers make
 * sure that is on a worker thread, or at destroy). */
static void slot_free(struct codec_slot *s)
{
	codec_destroy(s->codec);
	free(s->compile_err);
	source_release(s->source);
	free(s);
}

static void ready_push(struct codec_worker *w, struct codec_slot *s)
{
	if (s->in_ready || s->running)
		return;
	s->in_ready = true;
	s->ready_next = NULL;
	if (w->ready_tail)
		w->ready_tail->ready_next = s;
	else
		w->ready_head = s;
	w->ready_tail = s;
	pthread_cond_signal(&w->wake);
}

static struct codec_slot *ready_pop(struct codec_worker *w)
{
	struct codec_slot *s = w->ready_head;
	if (!s)
		return NULL;
	w->ready_head = s->ready_next;
	if (!w->ready_head)
		w->ready_tail = NULL;
	s->in_ready = false;
	return s;
}

static void done_push(struct codec_worker *w, struct codec_job *job)
{
	job->next = NULL;
	if (w->done_tail)
		w->done_tail->next = job;
	else
		w->done_head = job;
	w->done_tail = job;
}

static struct codec_job *queue_pop(struct codec_worker *w, struct codec_slot *s)
{
	struct codec_job *job = s->head;
	if (!job)
		return NULL;
	s->head = job->next;
	if (!s->head)
		s->tail = NULL;
	s->queued--;
	w->stats.queued--;
	job->next = NULL;
	return job;
}

/* Hands back s's queued jobs (all, or those not `drain` when keep_drain) cancelled. */
static void queue_cancel(struct codec_worker *w, struct codec_slot *s, bool keep_drain,
			 const char *why)
{
	struct codec_job *keep_head = NULL, *keep_tail = NULL, *job;
	while ((job = queue_pop(w, s))) {
		if (keep_drain && job->drain) {
			if (keep_tail)
				keep_tail->next = job;
			else
				keep_head = job;
			keep_tail = job;
			continue;
		}
		job_fail(job, -ECANCELED, why);
		w->stats.cancelled++;
		done_push(w, job);
	}
	for (job = keep_head; job; job = job->next) {
		s->queued++;
		w->stats.queued++;
	}
	s->head = keep_head;
	s->tail = keep_tail;
}

static void slot_clear_budget(struct codec_worker *w, struct codec_slot *s)
{
	if (s->suspended)
		w->stats.suspended--;
	s->suspended = false;
	s->suspended_ms = 0;
	s->reason[0] = '\0';
	s->timeouts_seen = 0;
}

/* The next job a thread should run, or NULL; refuses (hands back) on the way the product
 * jobs of a suspended codec. */
static struct codec_job *slot_take(struct codec_worker *w, struct codec_slot *s)
{
	struct codec_job *job;
	while ((job = queue_pop(w, s))) {
		if (job->source || !s->suspended)
			return job;
		char text[CODEC_WORKER_REASON_MAX + 64];
		snprintf(text, sizeof(text), "the product's codec is suspended: %s", s->reason);
		job_fail(job, -EPERM, text);
		w->stats.refused_suspended++;
		done_push(w, job);
	}
	return NULL;
}

/* Running a job (on a thread, without the lock). */

/*
 * Brings the slot's compiled codec to generation gen (src): drops a stale one, and
 * compiles src when need is set. Returns true when compiling ran out of time here.
 */
static bool slot_refresh(struct codec_worker *w, struct codec_slot *s,
			 const struct codec_source *src, uint64_t gen, bool need)
{
	if (s->compiled && s->codec_gen != gen) {
		codec_destroy(s->codec);
		free(s->compile_err);
		s->codec = NULL;
		s->compile_err = NULL;
		s->compiled = false;
	}
	if (s->compiled || !need || !src)
		return false;
	char err[512] = "";
	s->compiled = true;
	s->codec_gen = gen;
	s->compile_rc = codec_create(src->kind, src->text, src->len, &w->cfg.limits, &s->codec,
				     err, sizeof(err));
	if (s->compile_rc) {
		char text[600];
		snprintf(text, sizeof(text), "the codec does not load: %s", err);
		s->compile_err = strdup(text);
		s->codec = NULL;
	}
	return s->compile_rc == -ETIMEDOUT;
}

/* Runs job with codec c; fills its result. */
static void job_run_with(struct codec *c, struct codec_job *job)
{
	char err[512] = "";
	int rc = 0;
	if (job->op == CODEC_JOB_DECODE) {
		rc = codec_decode(c, job->payload, job->len, NULL, &job->decoded, err, sizeof(err));
	} else if (job->op == CODEC_JOB_ENCODE) {
		uint8_t out[CODEC_MAX_PAYLOAD];
		size_t n = 0;
		rc = codec_encode(c, job->cloud_req, out, sizeof(out), &n, err, sizeof(err));
		free(job->payload);
		job->payload = NULL;
		job->len = 0;
		if (rc == 0 && n) {
			job->payload = malloc(n);
			if (!job->payload)
				rc = -ENOMEM;
			else
				memcpy(job->payload, out, n);
		}
		if (rc == 0)
			job->len = n;
	}
	job->rc = rc;
	if (rc)
		job_fail(job, rc, err[0] ? err : strerror(-rc));
}

/* Runs job for slot s; returns true when it ran out of time (compiling or calling). */
static bool job_run(struct codec_worker *w, struct codec_slot *s, struct codec_job *job,
		    bool compile_timed_out)
{
	if (job->source) {
		struct codec *own = NULL;
		char err[512] = "";
		int rc = codec_create(job->kind, job->source, job->source_len, &w->cfg.limits, &own,
				      err, sizeof(err));
		if (rc) {
			job_fail(job, rc, err[0] ? err : strerror(-rc));
		} else {
			job_run_with(own, job);
			codec_destroy(own);
		}
		return job->rc == -ETIMEDOUT;
	}
	if (!s->compiled) {
		job_fail(job, -ENOENT, "the product has no codec");
		return false;
	}
	if (!s->codec) {
		job_fail(job, s->compile_rc, s->compile_err ? s->compile_err : "the codec does not load");
		return compile_timed_out;
	}
	job_run_with(s->codec, job);
	return job->rc == -ETIMEDOUT;
}

/* Under the lock, after job ran: its counters, and the product's budget. */
static void account(struct codec_worker *w, struct codec_slot *s, struct codec_job *job,
		    bool timed_out)
{
	w->stats.jobs++;
	if (!timed_out)
		return;
	w->stats.timeouts++;
	unsigned n = w->cfg.suspend_after;
	if (job->source || n == 0 || n > CODEC_WORKER_MAX_SUSPEND_AFTER || s->suspended)
		return;
	int64_t now = mono_ms();
	s->timeouts[s->timeouts_seen % n] = now;
	s->timeouts_seen++;
	if (s->timeouts_seen < n)
		return;
	/* The ring's next slot holds the oldest of the last n. */
	int64_t oldest = s->timeouts[s->timeouts_seen % n];
	if (now - oldest > (int64_t)w->cfg.suspend_window_ms)
		return;
	s->suspended = true;
	s->suspended_ms = wall_ms();
	snprintf(s->reason, sizeof(s->reason), "%u timeouts within %u s; the last: %s", n,
		 (w->cfg.suspend_window_ms + 999) / 1000, job->err ? job->err : "");
	job->suspended_now = true;
	w->stats.suspensions++;
	w->stats.suspended++;
}

/* One turn of a thread: slot s taken from the ready ring, with the lock held; returns with
 * the lock held. */
static void slot_turn(struct codec_worker *w, struct codec_slot *s)
{
	struct codec_job *job = slot_take(w, s);
	struct codec_source *src = s->source;
	uint64_t gen = s->gen;
	if (src)
		src->refs++;
	s->running = true;
	w->stats.running++;
	pthread_mutex_unlock(&w->lock);

	bool timed_out = slot_refresh(w, s, src, gen, job && !job->source);
	if (job)
		timed_out = job_run(w, s, job, timed_out);

	pthread_mutex_lock(&w->lock);
	source_release(src);
	s->running = false;
	w->stats.running--;
	if (job) {
		account(w, s, job, timed_out);
		done_push(w, job);
	}
	if (s->dying && !s->head) {
		pthread_mutex_unlock(&w->lock);
		slot_free(s); /* out of every list: no one else can reach it */
		pthread_mutex_lock(&w->lock);
	} else if (s->head || s->dying || (s->compiled && s->codec_gen != s->gen)) {
		ready_push(w, s);
	}
	pthread_cond_broadcast(&w->idle);
}

static void *thread_main(void *arg)
{
	struct codec_worker *w = arg;
	pthread_setname_np(pthread_self(), "lwm2md-codec"); /* as top -H and ps -L show it */
	pthread_mutex_lock(&w->lock);
	while (!w->quit) {
		struct codec_slot *s = ready_pop(w);
		if (!s) {
			pthread_cond_wait(&w->wake, &w->lock);
			continue;
		}
		slot_turn(w, s);
		if (w->done_head) {
			pthread_mutex_unlock(&w->lock);
			uv_async_send(w->async);
			pthread_mutex_lock(&w->lock);
		}
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

/* Handing jobs back (on the loop thread). */

static void deliver(struct codec_worker *w)
{
	pthread_mutex_lock(&w->lock);
	struct codec_job *list = w->done_head;
	w->done_head = w->done_tail = NULL;
	for (struct codec_job *j = list; j; j = j->next)
		w->outstanding--;
	pthread_mutex_unlock(&w->lock);
	while (list) {
		struct codec_job *job = list;
		list = job->next;
		job->next = NULL;
		job->done(job);
	}
}

static void on_async(uv_async_t *a)
{
	deliver(a->data);
}

static void free_handle(uv_handle_t *h)
{
	free(h);
}

/* The API. */

static void config_fill(struct codec_worker_config *c)
{
	if (!c->threads)
		c->threads = CODEC_WORKER_DEFAULT_THREADS;
	if (c->threads > CODEC_WORKER_MAX_THREADS)
		c->threads = CODEC_WORKER_MAX_THREADS;
	if (!c->queue_max)
		c->queue_max = CODEC_WORKER_DEFAULT_QUEUE_MAX;
	if (!c->queue_total)
		c->queue_total = CODEC_WORKER_DEFAULT_QUEUE_TOTAL;
	if (!c->suspend_after)
		c->suspend_after = CODEC_WORKER_DEFAULT_SUSPEND_AFTER;
	if (!c->suspend_window_ms)
		c->suspend_window_ms = CODEC_WORKER_DEFAULT_SUSPEND_WINDOW_MS;
	if (!c->drain_ms)
		c->drain_ms = CODEC_WORKER_DEFAULT_DRAIN_MS;
}

static void stop_threads(struct codec_worker *w)
{
	pthread_mutex_lock(&w->lock);
	w->quit = true;
	pthread_cond_broadcast(&w->wake);
	pthread_mutex_unlock(&w->lock);
	for (unsigned i = 0; i < w->nthreads; i++)
		pthread_join(w->threads[i], NULL);
	w->nthreads = 0;
}

int codec_worker_create(struct codec_worker **out, uv_loop_t *loop,
			const struct codec_worker_config *cfg)
{
	struct codec_worker *w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	if (cfg)
		w->cfg = *cfg;
	config_fill(&w->cfg);
	w->stats.threads = w->cfg.threads;
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->wake, NULL);
	pthread_cond_init(&w->idle, &ca);
	pthread_condattr_destroy(&ca);
	w->async = calloc(1, sizeof(*w->async));
	int rc = w->async && hmap_init(&w->slots) == 0 ? 0 : -ENOMEM;
	if (rc == 0)
		rc = uv_async_init(loop, w->async, on_async);
	if (rc != 0) {
		free(w->async);
		w->async = NULL;
		codec_worker_destroy(w);
		return rc;
	}
	w->async->data = w;
	for (unsigned i = 0; i < w->cfg.threads; i++) {
		rc = -pthread_create(&w->threads[i], NULL, thread_main, w);
		if (rc) {
			codec_worker_destroy(w);
			return rc;
		}
		w->nthreads++;
	}
	*out = w;
	return 0;
}

/* destroy: waits, handing jobs back as they finish, until no job is queued or running or
 * drain_ms have passed. */
static void drain(struct codec_worker *w)
{
	int64_t deadline = mono_ms() + w->cfg.drain_ms;
	pthread_mutex_lock(&w->lock);
	while ((w->stats.queued || w->stats.running) && mono_ms() < deadline && w->nthreads) {
		int64_t wake = mono_ms() + 50;
		if (wake > deadline)
			wake = deadline;
		struct timespec ts = { .tv_sec = wake / 1000, .tv_nsec = (wake % 1000) * 1000000 };
		pthread_cond_timedwait(&w->idle, &w->lock, &ts);
		pthread_mutex_unlock(&w->lock);
		deliver(w);
		pthread_mutex_lock(&w->lock);
	}
	pthread_mutex_unlock(&w->lock);
}

static void cancel_all(struct codec_worker *w, bool keep_drain, const char *why)
{
	for (size_t b = 0; b <= w->slots.mask; b++)
		for (struct hmap_node *n = w->slots.buckets[b]; n; n = n->next)
			queue_cancel(w, container_of(n, struct codec_slot, node), keep_drain, why);
	for (struct codec_slot *s = w->ready_head; s; s = s->ready_next)
		if (s->dying)
			queue_cancel(w, s, keep_drain, why);
}

static void free_slot_node(struct hmap_node *n, void *ctx)
{
	(void)ctx;
	slot_free(container_of(n, struct codec_slot, node));
}

void codec_worker_destroy(struct codec_worker *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	w->stopping = true;
	if (w->slots.buckets)
		cancel_all(w, true, "the daemon is stopping");
	pthread_mutex_unlock(&w->lock);
	deliver(w);
	drain(w);
	pthread_mutex_lock(&w->lock);
	if (w->slots.buckets)
		cancel_all(w, false, "the daemon stopped before its turn");
	pthread_mutex_unlock(&w->lock);
	stop_threads(w);
	deliver(w);
	/* Dying slots are in the ready ring (not in the map); the rest are in the map. */
	struct codec_slot *s;
	while ((s = ready_pop(w)))
		if (s->dying)
			slot_free(s);
	hmap_for_each(&w->slots, free_slot_node, NULL);
	hmap_destroy(&w->slots);
	if (w->async)
		uv_close((uv_handle_t *)w->async, free_handle);
	pthread_cond_destroy(&w->wake);
	pthread_cond_destroy(&w->idle);
	pthread_mutex_destroy(&w->lock);
	free(w);
}

static bool same_source(const struct codec_source *src, enum codec_kind kind,
			const char *text, size_t len)
{
	if (!src)
		return !text || !kind;
	return text && kind && src->kind == kind && src->len == len &&
	       memcmp(src->text, text, len) == 0;
}

int codec_worker_set(struct codec_worker *w, const char *key, enum codec_kind kind,
		     const char *source, size_t len, bool create)
{
	if (strlen(key) > CODEC_WORKER_KEY_MAX)
		return -EINVAL;
	struct codec_source *src = NULL;
	if (source && kind) {
		src = malloc(sizeof(*src) + len + 1);
		if (!src)
			return -ENOMEM;
		src->refs = 1;
		src->kind = kind;
		src->len = len;
		memcpy(src->text, source, len);
		src->text[len] = '\0';
	}
	int rc = 0;
	pthread_mutex_lock(&w->lock);
	struct codec_slot *s = slot_find(w, key);
	if (!s && create && src)
		s = slot_new(w, key);
	if (!s) {
		rc = create && src ? -ENOMEM : 0;
	} else if (!same_source(s->source, kind, source, len)) {
		source_release(s->source);
		s->source = src;
		src = NULL;
		s->gen++;
		slot_clear_budget(w, s);
		/* The stale heap goes now, on a thread, rather than at the next job. (`compiled`
		 * is the running thread's: a running slot is pushed when its job ends.) */
		if (!s->running && s->compiled)
			ready_push(w, s);
	}
	source_release(src);
	pthread_mutex_unlock(&w->lock);
	return rc;
}

void codec_worker_resume(struct codec_worker *w, const char *key)
{
	pthread_mutex_lock(&w->lock);
	struct codec_slot *s = slot_find(w, key);
	if (s)
		slot_clear_budget(w, s);
	pthread_mutex_unlock(&w->lock);
}

void codec_worker_forget(struct codec_worker *w, const char *key)
{
	pthread_mutex_lock(&w->lock);
	struct codec_slot *s = slot_find(w, key);
	bool cancelled = false;
	if (s) {
		hmap_remove(&w->slots, &s->node);
		slot_clear_budget(w, s);
		s->dying = true;
		cancelled = s->head != NULL;
		queue_cancel(w, s, false, "the product's codec is gone");
		if (!s->running && !s->in_ready) {
			if (s->codec)
				ready_push(w, s); /* a thread destroys the heap */
			else
				slot_free(s);
		}
	}
	pthread_mutex_unlock(&w->lock);
	if (cancelled)
		uv_async_send(w->async);
}

int codec_worker_submit(struct codec_worker *w, const char *key, struct codec_job *job)
{
	if (strlen(key) > CODEC_WORKER_KEY_MAX)
		return -EINVAL;
	job->rc = 0;
	job->suspended_now = false;
	job->next = NULL;
	int rc = 0;
	pthread_mutex_lock(&w->lock);
	struct codec_slot *s = slot_find(w, key);
	if (w->stopping) {
		rc = -ESHUTDOWN;
	} else if (!job->source && (!s || !s->source)) {
		rc = -ENOENT;
	} else if (!job->source && s->suspended) {
		w->stats.refused_suspended++;
		rc = -EPERM;
	} else if (w->outstanding >= w->cfg.queue_total || (s && s->queued >= w->cfg.queue_max)) {
		w->stats.refused_full++;
		rc = -ENOBUFS;
	} else if (!s && !(s = slot_new(w, key))) {
		rc = -ENOMEM;
	} else {
		if (s->tail)
			s->tail->next = job;
		else
			s->head = job;
		s->tail = job;
		s->queued++;
		w->stats.queued++;
		w->outstanding++;
		ready_push(w, s);
	}
	pthread_mutex_unlock(&w->lock);
	return rc;
}

int codec_worker_status(struct codec_worker *w, const char *key,
			struct codec_worker_status *out)
{
	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&w->lock);
	struct codec_slot *s = slot_find(w, key);
	if (s) {
		out->suspended = s->suspended;
		out->suspended_ms = s->suspended_ms;
		str_copy(out->reason, sizeof(out->reason), s->reason);
		out->queued = s->queued;
	}
	pthread_mutex_unlock(&w->lock);
	return s ? 0 : -ENOENT;
}

void codec_worker_stats(struct codec_worker *w, struct codec_worker_stats *out)
{
	pthread_mutex_lock(&w->lock);
	*out = w->stats;
	pthread_mutex_unlock(&w->lock);
}
