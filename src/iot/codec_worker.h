/*
 * codec_worker: the threads that run products' codecs, so that no codec runs on the event
 * loop (docs/architecture.md, "Who owns what at run time"; docs/internals/iot.md).
 *
 * The loop hands over jobs — decode these bytes, encode this command, compile this source
 * — each on its product's queue, with copies of everything the job needs; a small pool of
 * threads runs them, and each job comes back to the loop through uv_async, in its `done`
 * callback, on the loop thread. The threads touch nothing but the job and the product's
 * codec; all device state stays on the loop.
 *
 * - One job of a product at a time: a product's jobs run, and come back, in the order they
 *   were queued — so a device's reports keep their order — and a codec that loops holds
 *   one thread at most.
 * - Round robin: products with work take turns, one job each, so a product's backlog
 *   delays another product's job by at most one of its own jobs per thread.
 * - Bounds: at most queue_max jobs wait per product, and queue_total jobs are queued,
 *   running or done and not yet handed back, over all products; past either, submit
 *   refuses (-ENOBUFS) and the caller still owns the job.
 * - Budget: a product's codec that runs out of time suspend_after times within
 *   suspend_window_ms is suspended: its decode and encode jobs are refused (-EPERM) — at
 *   submit, or when their turn comes — until codec_worker_set installs another source or
 *   codec_worker_resume is called. Jobs with a source of their own (the API's codec test
 *   and upload check) are never refused for it and do not count.
 *
 * A product's codec is compiled by the thread that runs the first job needing it after
 * codec_worker_set gave a new source, and destroyed by a thread too, so neither Duktape's
 * compiler (which cannot be interrupted) nor a script's finalizers run on the loop.
 *
 * Every function here is called on the loop thread.
 */
#ifndef LWM2MD_IOT_CODEC_WORKER_H
#define LWM2MD_IOT_CODEC_WORKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <uv.h>

#include "iot/codec.h"

#define CODEC_WORKER_DEFAULT_THREADS 2
#define CODEC_WORKER_MAX_THREADS 16
#define CODEC_WORKER_DEFAULT_QUEUE_MAX 4096     /* jobs waiting, per product */
#define CODEC_WORKER_DEFAULT_QUEUE_TOTAL 32768  /* jobs outstanding, all products */
#define CODEC_WORKER_DEFAULT_SUSPEND_AFTER 5    /* timeouts ... */
#define CODEC_WORKER_DEFAULT_SUSPEND_WINDOW_MS 60000 /* ... within this */
#define CODEC_WORKER_MAX_SUSPEND_AFTER 1000
#define CODEC_WORKER_DEFAULT_DRAIN_MS 3000      /* at shutdown */
/* A product's key: "project_id/product_id". */
#define CODEC_WORKER_KEY_MAX 260
#define CODEC_WORKER_REASON_MAX 384

struct codec_worker_config {
	unsigned threads;           /* 0 = CODEC_WORKER_DEFAULT_THREADS */
	unsigned queue_max;         /* 0 = CODEC_WORKER_DEFAULT_QUEUE_MAX */
	unsigned queue_total;       /* 0 = CODEC_WORKER_DEFAULT_QUEUE_TOTAL */
	unsigned suspend_after;     /* 0 = the default; UINT_MAX (or over the max): never */
	unsigned suspend_window_ms; /* 0 = CODEC_WORKER_DEFAULT_SUSPEND_WINDOW_MS */
	unsigned drain_ms;          /* 0 = CODEC_WORKER_DEFAULT_DRAIN_MS */
	struct codec_limits limits; /* of every codec the threads compile */
};

enum codec_job_op {
	CODEC_JOB_DECODE,  /* payload -> decoded */
	CODEC_JOB_ENCODE,  /* cloud_req -> payload */
	CODEC_JOB_COMPILE, /* only whether source compiles */
};

/*
 * A job. The submitter allocates it (usually inside a struct of its own, to find its
 * context again in done) and fills the first part; the worker fills the second. Whatever
 * the pointers hold belongs to the job from submit on and is freed by codec_job_clear.
 */
struct codec_job {
	enum codec_job_op op;
	/* NULL: run the product's codec (codec_worker_set). Else a codec of the job's own,
	 * compiled for it and destroyed after it. */
	char *source;
	size_t source_len;
	enum codec_kind kind;   /* of source */
	bool drain;             /* at shutdown: run within drain_ms rather than cancelled */
	uint8_t *payload;       /* DECODE: the bytes (len); ENCODE: the result (len) */
	size_t len;
	json_t *cloud_req;      /* ENCODE: the command */
	/* Called on the loop thread, exactly once for a job that submit took. It owns the job
	 * again: it calls codec_job_clear and frees it. */
	void (*done)(struct codec_job *job);

	/* Set by the worker. */
	int rc;                 /* 0, the codec's error (-EINVAL, -ETIMEDOUT, -ENOMEM, -ENOSPC),
				 * -ENOENT (the product has no codec), -EPERM (suspended),
				 * -ECANCELED (the product was forgotten, or shutdown) */
	json_t *decoded;        /* DECODE, rc 0: the message */
	char *err;              /* rc != 0: what went wrong */
	bool suspended_now;     /* this job's timeout suspended the product */

	struct codec_job *next; /* the worker's */
};

/* Frees what the job's pointers hold and sets them to NULL; not the job itself. */
void codec_job_clear(struct codec_job *job);

struct codec_worker_stats {
	uint64_t jobs;              /* run to their end, whatever the outcome */
	uint64_t timeouts;          /* of which the codec ran out of time */
	uint64_t refused_full;      /* submit found a queue full */
	uint64_t refused_suspended; /* decode or encode of a suspended codec */
	uint64_t cancelled;         /* product forgotten, or left at shutdown */
	uint64_t suspensions;
	unsigned queued;            /* jobs waiting now */
	unsigned running;           /* jobs running now */
	unsigned suspended;         /* products suspended now */
	unsigned threads;
};

struct codec_worker_status {
	bool suspended;
	int64_t suspended_ms;  /* wall clock, ms since the epoch */
	char reason[CODEC_WORKER_REASON_MAX];
	unsigned queued;
};

struct codec_worker;

/* Starts the threads. The loop gets the jobs back; it must run until
 * codec_worker_destroy's handle is closed. 0, -ENOMEM or another negative errno. */
int codec_worker_create(struct codec_worker **out, uv_loop_t *loop,
			const struct codec_worker_config *cfg);

/*
 * Stops, on the loop thread, outside the loop's callbacks: refuses new jobs, cancels the
 * queued jobs that are not `drain`, lets the threads finish the others for up to drain_ms
 * (handing each back as it finishes), cancels what is left, joins the threads, hands back
 * everything (cancelled jobs with -ECANCELED) and frees. The loop must run once more to
 * close the uv_async handle. Accepts NULL.
 */
void codec_worker_destroy(struct codec_worker *w);

/*
 * Gives the product key its codec: kind and source (copied; NULL or kind 0: none). A
 * source different from the current one is a new generation, compiled at the next job
 * that needs it, and clears a suspension. create false: only when the product is known
 * already. 0, -EINVAL (key too long) or -ENOMEM.
 */
int codec_worker_set(struct codec_worker *w, const char *key, enum codec_kind kind,
		     const char *source, size_t len, bool create);

/* Clears the product's suspension and its count of recent timeouts. */
void codec_worker_resume(struct codec_worker *w, const char *key);

/* The product is gone: its queued jobs are handed back cancelled, its codec destroyed (by
 * a thread). */
void codec_worker_forget(struct codec_worker *w, const char *key);

/*
 * Queues job on the product's queue. 0: done will be called. Else the job stays the
 * caller's: -ENOENT (no codec for key, and the job brings none), -EPERM (the product's
 * codec is suspended), -ENOBUFS (a queue is full), -ESHUTDOWN, -EINVAL or -ENOMEM.
 */
int codec_worker_submit(struct codec_worker *w, const char *key, struct codec_job *job);

/* The product's state: 0, or -ENOENT when the worker does not know it. */
int codec_worker_status(struct codec_worker *w, const char *key,
			struct codec_worker_status *out);

void codec_worker_stats(struct codec_worker *w, struct codec_worker_stats *out);

#endif
