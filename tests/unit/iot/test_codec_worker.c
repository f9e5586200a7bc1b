/*
 * Tests of iot/codec_worker.c: the codec threads, through their API only, with real
 * JavaScript codecs on a real libuv loop. Order of a product's jobs, round robin between
 * products, a looping codec holding one thread, the queue bounds, the budget (suspension,
 * resume), forgetting a product, and shutdown (drained, cancelled, nothing leaked).
 *
 * No assertion is on a duration: "B was not held up by A" is asserted as an order of
 * completions, with margins of several A jobs.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <uv.h>

#include "iot/codec_worker.h"

/* decode([k, a, b]) reports {k, n: a*256+b}; encode gives [mid, 7]. */
static const char FAST[] =
	"function decode(p) { return JSON.stringify({msgType: 'deviceReq', data: [{serviceId: 'S',"
	" serviceData: {k: p[0], n: p[1] * 256 + p[2]}}]}); }\n"
	"function encode(j) { var r = JSON.parse(j); return [r.mid, 7]; }\n";
/* The same after spinning p[0] ms: a codec that takes its time but stays in it. */
static const char SLOW[] =
	"function decode(p) { var t = Date.now(); while (Date.now() - t < p[0]) {}\n"
	" return JSON.stringify({msgType: 'deviceReq', data: [{serviceId: 'S',"
	" serviceData: {k: p[0], n: p[1] * 256 + p[2]}}]}); }\n";
static const char LOOP[] = "function decode(p) { while (true) {} }";

#define MAX_DONE 512

struct rec_job {
	struct codec_job job;
	char tag; /* 'A', 'B', ... */
	int n;
};

static struct {
	int count;
	char tag[MAX_DONE];
	int n[MAX_DONE];
	int rc[MAX_DONE];
	int value[MAX_DONE]; /* decoded n, or encoded first byte */
	bool suspended_now[MAX_DONE];
	char err[MAX_DONE][160];
} done;

static void on_done(struct codec_job *job)
{
	struct rec_job *r = (struct rec_job *)job;
	int i = done.count++;
	assert_true(i < MAX_DONE);
	done.tag[i] = r->tag;
	done.n[i] = r->n;
	done.rc[i] = job->rc;
	done.suspended_now[i] = job->suspended_now;
	snprintf(done.err[i], sizeof(done.err[i]), "%s", job->err ? job->err : "");
	done.value[i] = -1;
	if (job->rc == 0 && job->op == CODEC_JOB_DECODE) {
		json_t *sd = json_object_get(
			json_array_get(json_object_get(job->decoded, "data"), 0), "serviceData");
		done.value[i] = (int)json_integer_value(json_object_get(sd, "n"));
	} else if (job->rc == 0 && job->op == CODEC_JOB_ENCODE && job->len) {
		done.value[i] = job->payload[0];
	}
	codec_job_clear(job);
	free(r);
}

static struct rec_job *decode_job(char tag, int n, uint8_t first)
{
	struct rec_job *r = calloc(1, sizeof(*r));
	r->tag = tag;
	r->n = n;
	r->job.op = CODEC_JOB_DECODE;
	r->job.drain = true;
	r->job.payload = malloc(3);
	r->job.payload[0] = first;
	r->job.payload[1] = (uint8_t)(n >> 8);
	r->job.payload[2] = (uint8_t)n;
	r->job.len = 3;
	r->job.done = on_done;
	return r;
}

/* A job with a codec of its own (the API's codec test). */
static struct rec_job *own_job(char tag, int n, const char *source, uint8_t first)
{
	struct rec_job *r = decode_job(tag, n, first);
	r->job.source = strdup(source);
	r->job.source_len = strlen(source);
	r->job.kind = CODEC_JS;
	r->job.drain = false;
	return r;
}

static void submit_ok(struct codec_worker *w, const char *key, struct rec_job *r)
{
	int rc = codec_worker_submit(w, key, &r->job);
	if (rc)
		fail_msg("submit %c%d: %d", r->tag, r->n, rc);
}

static int submit_rc(struct codec_worker *w, const char *key, struct rec_job *r)
{
	int rc = codec_worker_submit(w, key, &r->job);
	if (rc) {
		codec_job_clear(&r->job);
		free(r);
	}
	return rc;
}

static uv_loop_t loop;
static uv_timer_t ticker;

static void on_tick(uv_timer_t *t)
{
	(void)t;
}

/* Runs the loop until `want` jobs came back (fails after 30 s). */
static void wait_done(int want)
{
	for (int i = 0; done.count < want && i < 3000; i++)
		uv_run(&loop, UV_RUN_ONCE);
	if (done.count < want)
		fail_msg("only %d of %d jobs came back", done.count, want);
}

static int position(char tag, int n)
{
	for (int i = 0; i < done.count; i++)
		if (done.tag[i] == tag && done.n[i] == n)
			return i;
	return -1;
}

static struct codec_worker *start(unsigned threads, unsigned time_ms,
				  const struct codec_worker_config *more)
{
	memset(&done, 0, sizeof(done));
	assert_int_equal(uv_loop_init(&loop), 0);
	uv_timer_init(&loop, &ticker);
	uv_timer_start(&ticker, on_tick, 10, 10);
	struct codec_worker_config cfg = { 0 };
	if (more)
		cfg = *more;
	cfg.threads = threads;
	cfg.limits.time_ms = time_ms;
	struct codec_worker *w = NULL;
	assert_int_equal(codec_worker_create(&w, &loop, &cfg), 0);
	return w;
}

static void set(struct codec_worker *w, const char *key, const char *source)
{
	assert_int_equal(codec_worker_set(w, key, CODEC_JS, source, strlen(source), true), 0);
}

/* Destroys the worker and closes the loop (every handle closed: nothing leaks). */
static void finish(struct codec_worker *w)
{
	codec_worker_destroy(w);
	uv_close((uv_handle_t *)&ticker, NULL);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
}

/* A product's jobs come back in the order they were queued, whatever the threads. */
static void test_product_order(void **state)
{
	struct codec_worker *w = start(4, 0, NULL);
	set(w, "p/A", SLOW);
	set(w, "p/B", FAST);
	for (int i = 0; i < 200; i++) {
		/* A's jobs take 0-2 ms each; B's none: they finish in every interleaving. */
		submit_ok(w, "p/A", decode_job('A', i, (uint8_t)(i % 3)));
		submit_ok(w, "p/B", decode_job('B', i, 0));
	}
	wait_done(400);
	int last_a = -1, last_b = -1;
	for (int i = 0; i < done.count; i++) {
		assert_int_equal(done.rc[i], 0);
		assert_int_equal(done.value[i], done.n[i]);
		int *last = done.tag[i] == 'A' ? &last_a : &last_b;
		assert_int_equal(done.n[i], *last + 1);
		*last = done.n[i];
	}
	struct codec_worker_stats st;
	codec_worker_stats(w, &st);
	assert_int_equal(st.jobs, 400);
	assert_int_equal(st.queued, 0);
	finish(w);
}

/* One thread, A's backlog queued first: B's job runs at the next turn, not after A's. */
static void test_round_robin(void **state)
{
	struct codec_worker *w = start(1, 0, NULL);
	set(w, "p/A", SLOW);
	set(w, "p/B", FAST);
	for (int i = 0; i < 10; i++)
		submit_ok(w, "p/A", decode_job('A', i, 20));
	submit_ok(w, "p/B", decode_job('B', 0, 0));
	submit_ok(w, "p/B", decode_job('B', 1, 0));
	wait_done(12);
	/* A0 may have started before B was queued; then B0, A1, B1 alternate. */
	assert_true(position('B', 0) <= 2);
	assert_true(position('B', 1) <= 4);
	assert_int_equal(position('A', 9), 11);
	finish(w);
}

/* A codec that loops holds one thread: with two, B's jobs all come back while A's are
 * still timing out one after the other. */
static void test_looping_codec_holds_one_thread(void **state)
{
	struct codec_worker_config cfg = { .suspend_after = UINT32_MAX };
	struct codec_worker *w = start(2, 150, &cfg);
	set(w, "p/A", LOOP);
	set(w, "p/B", FAST);
	for (int i = 0; i < 6; i++)
		submit_ok(w, "p/A", decode_job('A', i, 0));
	for (int i = 0; i < 30; i++)
		submit_ok(w, "p/B", decode_job('B', i, 0));
	wait_done(36);
	/* A's six take 0.9 s one after the other; B's thirty none. */
	assert_true(position('B', 29) < position('A', 4));
	for (int i = 0; i < 6; i++)
		assert_int_equal(done.rc[position('A', i)], -ETIMEDOUT);
	struct codec_worker_stats st;
	codec_worker_stats(w, &st);
	assert_int_equal(st.timeouts, 6);
	assert_int_equal(st.suspensions, 0);
	finish(w);
}

static void wait_running(struct codec_worker *w, unsigned want)
{
	struct codec_worker_stats st;
	for (int i = 0; i < 3000; i++) {
		codec_worker_stats(w, &st);
		if (st.running == want)
			return;
		usleep(10000);
	}
	fail_msg("never %u jobs running", want);
}

/* queue_max per product, queue_total over all: past either, submit refuses and the job is
 * still the caller's. */
static void test_bounds(void **state)
{
	struct codec_worker_config cfg = { .queue_max = 4, .queue_total = 7 };
	struct codec_worker *w = start(1, 0, &cfg);
	set(w, "p/A", SLOW);
	set(w, "p/B", FAST);
	submit_ok(w, "p/A", decode_job('A', 0, 200)); /* holds the thread 200 ms */
	wait_running(w, 1);
	for (int i = 1; i <= 4; i++)
		submit_ok(w, "p/A", decode_job('A', i, 0));
	assert_int_equal(submit_rc(w, "p/A", decode_job('A', 5, 0)), -ENOBUFS);
	submit_ok(w, "p/B", decode_job('B', 0, 0));
	submit_ok(w, "p/B", decode_job('B', 1, 0));
	/* 7 outstanding: B is refused too, for all the products together. */
	assert_int_equal(submit_rc(w, "p/B", decode_job('B', 2, 0)), -ENOBUFS);
	struct codec_worker_stats st;
	codec_worker_stats(w, &st);
	assert_int_equal(st.refused_full, 2);
	wait_done(7);
	/* Handed back, they make room again. */
	submit_ok(w, "p/B", decode_job('B', 3, 0));
	wait_done(8);
	/* Unknown products, and products without a codec, take no jobs of theirs. */
	assert_int_equal(submit_rc(w, "p/C", decode_job('C', 0, 0)), -ENOENT);
	assert_int_equal(codec_worker_set(w, "p/B", 0, NULL, 0, true), 0);
	assert_int_equal(submit_rc(w, "p/B", decode_job('B', 4, 0)), -ENOENT);
	finish(w);
}

/* suspend_after timeouts within the window suspend the product's codec; its own-source
 * jobs still run; resume, or another source, lift it. */
static void test_suspension(void **state)
{
	struct codec_worker_config cfg = { .suspend_after = 3, .suspend_window_ms = 60000 };
	struct codec_worker *w = start(2, 30, &cfg);
	set(w, "p/A", LOOP);
	set(w, "p/B", FAST);
	for (int i = 0; i < 5; i++)
		submit_ok(w, "p/A", decode_job('A', i, 0));
	wait_done(5);
	for (int i = 0; i < 3; i++)
		assert_int_equal(done.rc[position('A', i)], -ETIMEDOUT);
	assert_false(done.suspended_now[position('A', 1)]);
	assert_true(done.suspended_now[position('A', 2)]);
	/* Queued before the suspension: refused at their turn, not run. */
	assert_int_equal(done.rc[position('A', 3)], -EPERM);
	assert_non_null(strstr(done.err[position('A', 4)], "suspended: 3 timeouts within 60 s"));
	/* Refused at submit now; B is not touched. */
	assert_int_equal(submit_rc(w, "p/A", decode_job('A', 5, 0)), -EPERM);
	submit_ok(w, "p/B", decode_job('B', 0, 0));
	/* The API's test of a source runs, and its timeout does not count. */
	submit_ok(w, "p/A", own_job('T', 0, LOOP, 0));
	wait_done(7);
	assert_int_equal(done.rc[position('B', 0)], 0);
	assert_int_equal(done.rc[position('T', 0)], -ETIMEDOUT);
	struct codec_worker_status status;
	assert_int_equal(codec_worker_status(w, "p/A", &status), 0);
	assert_true(status.suspended);
	assert_true(status.suspended_ms > 1700000000000LL);
	assert_non_null(strstr(status.reason, "decode() ran over its 30 ms"));
	struct codec_worker_stats st;
	codec_worker_stats(w, &st);
	assert_int_equal(st.suspensions, 1);
	assert_int_equal(st.suspended, 1);
	assert_int_equal(st.refused_suspended, 3);
	assert_int_equal(st.timeouts, 4);

	/* Resume: decoded (and timing out) again. */
	codec_worker_resume(w, "p/A");
	submit_ok(w, "p/A", decode_job('A', 6, 0));
	wait_done(8);
	assert_int_equal(done.rc[position('A', 6)], -ETIMEDOUT);
	/* Another source lifts it too, and is the one that runs. */
	for (int i = 7; i < 9; i++)
		submit_ok(w, "p/A", decode_job('A', i, 0));
	wait_done(10);
	assert_int_equal(codec_worker_status(w, "p/A", &status), 0);
	assert_true(status.suspended);
	set(w, "p/A", FAST);
	assert_int_equal(codec_worker_status(w, "p/A", &status), 0);
	assert_false(status.suspended);
	submit_ok(w, "p/A", decode_job('A', 9, 0));
	wait_done(11);
	assert_int_equal(done.rc[position('A', 9)], 0);
	assert_int_equal(done.value[position('A', 9)], 9);
	codec_worker_stats(w, &st);
	assert_int_equal(st.suspended, 0);
	finish(w);
}

/* Timeouts further apart than the window do not suspend. */
static void test_timeouts_outside_window(void **state)
{
	struct codec_worker_config cfg = { .suspend_after = 2, .suspend_window_ms = 100 };
	struct codec_worker *w = start(1, 20, &cfg);
	set(w, "p/A", LOOP);
	for (int i = 0; i < 3; i++) {
		submit_ok(w, "p/A", decode_job('A', i, 0));
		wait_done(i + 1);
		usleep(150000);
	}
	for (int i = 0; i < 3; i++)
		assert_int_equal(done.rc[i], -ETIMEDOUT);
	struct codec_worker_status status;
	assert_int_equal(codec_worker_status(w, "p/A", &status), 0);
	assert_false(status.suspended);
	finish(w);
}

/* Encoding, compiling a source of the job's own, and a product codec that does not load. */
static void test_encode_compile_and_bad_codec(void **state)
{
	struct codec_worker *w = start(1, 0, NULL);
	set(w, "p/A", FAST);
	struct rec_job *e = calloc(1, sizeof(*e));
	e->tag = 'E';
	e->job.op = CODEC_JOB_ENCODE;
	e->job.cloud_req = json_pack("{s:s, s:i}", "msgType", "cloudReq", "mid", 42);
	e->job.done = on_done;
	submit_ok(w, "p/A", e);
	struct rec_job *c = own_job('C', 0, "function decode( {", 0);
	c->job.op = CODEC_JOB_COMPILE;
	submit_ok(w, "p/A", c);
	c = own_job('C', 1, FAST, 0);
	c->job.op = CODEC_JOB_COMPILE;
	submit_ok(w, "p/A", c);
	wait_done(3);
	assert_int_equal(done.rc[position('E', 0)], 0);
	assert_int_equal(done.value[position('E', 0)], 42);
	assert_int_equal(done.rc[position('C', 0)], -EINVAL);
	assert_non_null(strstr(done.err[position('C', 0)], "SyntaxError"));
	assert_int_equal(done.rc[position('C', 1)], 0);

	set(w, "p/B", "function decode( {");
	submit_ok(w, "p/B", decode_job('B', 0, 0));
	submit_ok(w, "p/B", decode_job('B', 1, 0));
	wait_done(5);
	assert_int_equal(done.rc[position('B', 1)], -EINVAL);
	assert_non_null(strstr(done.err[position('B', 1)], "the codec does not load: "));
	finish(w);
}

/* A forgotten product's queued jobs come back cancelled; it takes no more. */
static void test_forget(void **state)
{
	struct codec_worker *w = start(1, 0, NULL);
	set(w, "p/A", SLOW);
	submit_ok(w, "p/A", decode_job('A', 0, 100));
	wait_running(w, 1);
	for (int i = 1; i < 4; i++)
		submit_ok(w, "p/A", decode_job('A', i, 0));
	codec_worker_forget(w, "p/A");
	wait_done(4);
	assert_int_equal(done.rc[position('A', 0)], 0); /* it was running */
	for (int i = 1; i < 4; i++)
		assert_int_equal(done.rc[position('A', i)], -ECANCELED);
	assert_int_equal(submit_rc(w, "p/A", decode_job('A', 4, 0)), -ENOENT);
	assert_int_equal(codec_worker_status(w, "p/A", &(struct codec_worker_status){ 0 }),
			 -ENOENT);
	/* A product known again starts afresh. */
	set(w, "p/A", FAST);
	submit_ok(w, "p/A", decode_job('A', 5, 0));
	wait_done(5);
	assert_int_equal(done.rc[position('A', 5)], 0);
	finish(w);
}

/* Shutdown: drain jobs (reports) are finished within drain_ms and handed back; the others
 * (tests, commands) are cancelled at once; what is left at the deadline is cancelled.
 * Every job comes back exactly once, and ASan sees no leak. */
static void test_shutdown(void **state)
{
	struct codec_worker_config cfg = { .drain_ms = 10000 };
	struct codec_worker *w = start(1, 0, &cfg);
	set(w, "p/A", SLOW);
	for (int i = 0; i < 5; i++)
		submit_ok(w, "p/A", decode_job('A', i, 20));
	for (int i = 0; i < 3; i++)
		submit_ok(w, "p/A", own_job('T', i, FAST, 0));
	codec_worker_destroy(w);
	assert_int_equal(done.count, 8);
	for (int i = 0; i < 5; i++)
		assert_int_equal(done.rc[position('A', i)], 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(done.rc[position('T', i)], -ECANCELED);
	uv_close((uv_handle_t *)&ticker, NULL);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);

	/* A short drain: the rest is cancelled, still handed back once each. */
	cfg.drain_ms = 100;
	w = start(1, 0, &cfg);
	set(w, "p/A", SLOW);
	set(w, "p/B", LOOP);
	for (int i = 0; i < 20; i++)
		submit_ok(w, "p/A", decode_job('A', i, 50));
	submit_ok(w, "p/B", decode_job('B', 0, 0));
	finish(w);
	assert_int_equal(done.count, 21);
	int ran = 0, cancelled = 0;
	for (int i = 0; i < done.count; i++) {
		ran += done.rc[i] == 0;
		cancelled += done.rc[i] == -ECANCELED;
	}
	assert_true(cancelled >= 10);
	assert_int_equal(ran + cancelled + (done.rc[position('B', 0)] == -ETIMEDOUT), 21);
	/* After destroy: nothing is taken. */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_product_order),
		cmocka_unit_test(test_round_robin),
		cmocka_unit_test(test_looping_codec_holds_one_thread),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_suspension),
		cmocka_unit_test(test_timeouts_outside_window),
		cmocka_unit_test(test_encode_compile_and_bad_codec),
		cmocka_unit_test(test_forget),
		cmocka_unit_test(test_shutdown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
