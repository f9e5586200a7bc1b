/*
 * Tests of the campaign manager (fw_campaign.c, fw_campaign_start.c) on a real store with
 * a fake engine (fw_fakes.h) and a driven clock: the concurrency is never exceeded, the
 * start rate holds over any minute, transient failures are retried after a doubling
 * backoff, the failure threshold stops a campaign, pause, resume and cancel, the
 * counts and the bytes served, a restart that takes running jobs back, and what a
 * campaign refuses to start with.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "fw_fakes.h"
#include "firmware/fw_pace.h"
#include "store/store.h"

#define T0 1700000000000LL
/* Stand-ins the manager only passes on (never dereferenced by the fakes). */
#define FAKE_API ((struct api_server *)&fake)
#define FAKE_PUSH ((struct push *)&fake)

struct fixture {
	struct store *store;
	char id[STORE_ID_MAX + 1];
};

static void add_product(struct store *s, const char *project, const char *id)
{
	struct store_product p;
	memset(&p, 0, sizeof(p));
	snprintf(p.project_id, sizeof(p.project_id), "%s", project);
	snprintf(p.product_id, sizeof(p.product_id), "%s", id);
	snprintf(p.name, sizeof(p.name), "%s", id);
	snprintf(p.protocol_type, sizeof(p.protocol_type), "LwM2M");
	snprintf(p.data_format, sizeof(p.data_format), "binary");
	assert_int_equal(store_product_insert(s, &p), 0);
}

static void add_devices(struct store *s, const char *project, const char *product,
			const char *prefix, int n)
{
	for (int i = 0; i < n; i++) {
		struct store_device d;
		memset(&d, 0, sizeof(d));
		snprintf(d.project_id, sizeof(d.project_id), "%s", project);
		snprintf(d.product_id, sizeof(d.product_id), "%s", product);
		snprintf(d.node_id, sizeof(d.node_id), "%s%d", prefix, i);
		snprintf(d.device_id, sizeof(d.device_id), "id-%s%d", prefix, i);
		snprintf(d.device_name, sizeof(d.device_name), "%s%d", prefix, i);
		snprintf(d.secret, sizeof(d.secret), "00112233445566778899aabbccddeeff");
		d.read_format = -1;
		assert_int_equal(store_device_insert(s, &d), 0);
	}
}

static void new_manager(struct fixture *f)
{
	struct fw_campaigns_deps deps = {
		.store = f->store, .firmware_dir = "/nonexistent", .push = FAKE_PUSH,
		.api = FAKE_API,
	};
	assert_int_equal(fw_campaigns_create(&fake.fc, NULL, &deps), 0);
	fw_campaigns_tick(fake.fc, fake.now);
}

static int setup(void **state)
{
	memset(&fake, 0, sizeof(fake));
	fake.now = T0;
	struct fixture *f = calloc(1, sizeof(*f));
	char path[] = "/tmp/lwm2md-fwcamp-XXXXXX";
	int fd = mkstemp(path);
	if (!f || fd < 0)
		return -1;
	close(fd);
	if (store_open(&f->store, path) != 0)
		return -1;
	unlink(path);
	add_product(f->store, "p1", "meter");
	add_product(f->store, "p1", "tracker");
	add_product(f->store, "p1", "empty");
	add_product(f->store, "p2", "meter");
	add_devices(f->store, "p1", "tracker", "t", 2);
	add_devices(f->store, "p2", "meter", "x", 2);
	new_manager(f);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	fw_campaigns_destroy(fake.fc);
	assert_int_equal(fake.files_open, 0);
	store_close(f->store);
	free(f);
	return 0;
}

static void tick(int64_t ms)
{
	fake.now += ms;
	fw_campaigns_tick(fake.fc, fake.now);
}

static struct fw_campaign_spec spec_of_product(uint32_t max_concurrent, uint32_t rate)
{
	struct fw_campaign_spec s;
	fw_campaign_spec_defaults(&s);
	snprintf(s.name, sizeof(s.name), "to 2.0");
	snprintf(s.package_id, sizeof(s.package_id), "pkg");
	snprintf(s.product_id, sizeof(s.product_id), "meter");
	s.max_concurrent = max_concurrent;
	s.rate_per_minute = rate;
	return s;
}

static void start(struct fixture *f, const struct fw_campaign_spec *s)
{
	const char *why = NULL;
	int rc = fw_campaigns_start(fake.fc, "p1", s, f->id, &why);
	if (rc)
		fail_msg("start: %d %s", rc, why);
}

static struct fw_campaign_view view(struct fixture *f)
{
	struct fw_campaign_view v;
	assert_int_equal(fw_campaigns_get(fake.fc, "p1", f->id, &v), 0);
	return v;
}

static void test_concurrency(void **state)
{
	struct fixture *f = *state;
	add_devices(f->store, "p1", "meter", "m", 30);
	struct fw_campaign_spec s = spec_of_product(4, 100000);
	start(f, &s);
	assert_int_equal(fake.events_campaign, 1);
	assert_int_equal(view(f).targets, 30);
	assert_int_equal(view(f).counts[FW_WAITING], 30);
	tick(1000);
	assert_int_equal(fake.nrunning, 4);
	assert_int_equal(view(f).counts[FW_STARTING], 4);
	assert_int_equal(view(f).counts[FW_WAITING], 26);
	for (int i = 0; i < 60 && fake.nrunning > 0; i++) {
		/* The engine reports some bytes, then the end. */
		struct fw_job *job = fake.running[0];
		job->row.bytes = 1000;
		fake_job_report(job, FW_DOWNLOADING, false);
		fake_job_report(job, i % 5 == 4 ? FW_SKIPPED : FW_SUCCEEDED, false);
		tick(1000);
		assert_true(fake.nrunning <= 4);
	}
	assert_int_equal(fake.max_running, 4);
	assert_int_equal(fake.starts, 30);
	struct fw_campaign_view v = view(f);
	assert_int_equal(v.status, FW_CAMPAIGN_FINISHED);
	assert_int_equal(v.counts[FW_SUCCEEDED] + v.counts[FW_SKIPPED], 30);
	assert_int_equal(v.counts[FW_SKIPPED], 6);
	assert_int_equal(v.bytes_served, 30000);
	assert_true(v.end_ms > 0);
	assert_true(v.devices_per_minute > 0.0);
	assert_string_equal(fake.last_campaign_status, "finished");
	assert_int_equal(fake.events_target, 30 * 3); /* starting, downloading, the end */
	assert_int_equal(fake.pushes_target, 30 * 3);
	assert_int_equal(fake.files_open, 0); /* let go of once it ended */
	/* Seq order. */
	for (int i = 0; i < 30; i++)
		assert_int_equal(fake.start_seq[i], i);
}

static void test_start_rate(void **state)
{
	struct fixture *f = *state;
	add_devices(f->store, "p1", "meter", "m", 400);
	struct fw_campaign_spec s = spec_of_product(100000, 60);
	start(f, &s);
	for (int i = 0; i < 300; i++)
		tick(1000);
	/* Any 60 s window: at most the rate plus the burst (2 s of it, at least 1). */
	int burst = 60 * FW_PACE_BURST_S / 60;
	int n = fake.starts;
	for (int a = 0; a < n; a++) {
		int in = 0;
		for (int b = a; b < n && fake.start_ms[b] < fake.start_ms[a] + 60000; b++)
			in++;
		assert_true(in <= 60 + burst);
	}
	/* And the rate is kept: 300 s at 1/s, and the burst. */
	assert_true(n >= 298 && n <= 302);
}

static void test_retry_backoff(void **state)
{
	struct fixture *f = *state;
	add_devices(f->store, "p1", "meter", "m", 2);
	struct fw_campaign_spec s = spec_of_product(10, 600);
	s.retries = 2;
	s.retry_backoff_s = 10;
	start(f, &s);
	tick(0);
	assert_int_equal(fake.starts, 2);
	/* seq 1 fails for good: not transient. */
	fake_job_report(fake_job(1), FW_FAILED, false);
	assert_int_equal(view(f).counts[FW_FAILED], 1);
	int64_t t = fake.now;
	fake_job_report(fake_job(0), FW_FAILED, true);
	assert_int_equal(view(f).counts[FW_WAITING], 1);
	assert_int_equal(view(f).counts[FW_FAILED], 1);
	tick(9000);
	assert_int_equal(fake.starts, 2);
	tick(1000); /* t + 10 s */
	assert_int_equal(fake.starts, 3);
	assert_int_equal(fake.start_ms[2], t + 10000);
	assert_int_equal(fake_job(0)->row.attempts, 2);
	fake_job_report(fake_job(0), FW_FAILED, true);
	t = fake.now;
	tick(19000);
	assert_int_equal(fake.starts, 3);
	tick(1000); /* doubled: 20 s */
	assert_int_equal(fake.starts, 4);
	assert_int_equal(fake.start_ms[3], t + 20000);
	assert_int_equal(fake_job(0)->row.attempts, 3);
	/* The third attempt was the last (retries 2). */
	fake_job_report(fake_job(0), FW_FAILED, true);
	tick(100000);
	assert_int_equal(fake.starts, 4);
	struct fw_campaign_view v = view(f);
	assert_int_equal(v.counts[FW_FAILED], 2);
	assert_int_equal(v.status, FW_CAMPAIGN_FINISHED); /* fewer than 10 ended: no stop */
}

/* Retries start in the order they fall due, not in the order they failed. */
static void test_retry_order(void **state)
{
	struct fixture *f = *state;
	add_devices(f->store, "p1", "meter", "m", 2);
	struct fw_campaign_spec s = spec_of_product(10, 600);
	s.retries = 3;
	s.retry_backoff_s = 10;
	start(f, &s);
	tick(0);
	fake_job_report(fake_job(0), FW_FAILED, true);
	tick(10000);
	assert_int_equal(fake.starts, 3);
	fake_job_report(fake_job(0), FW_FAILED, true); /* its second retry: in 20 s */
	fake_job_report(fake_job(1), FW_FAILED, true); /* its first: in 10 s */
	tick(10000);
	assert_int_equal(fake.starts, 4);
	assert_int_equal(fake.start_seq[3], 1);
	tick(9000);
	assert_int_equal(fake.starts, 4);
	tick(1000);
	assert_int_equal(fake.starts, 5);
	assert_int_equal(fake.start_seq[4], 0);
	assert_int_equal(fake_job(0)->row.attempts, 3);
}

struct seen {
	int n;
	uint32_t attempts;
	char reason[STORE_FW_REASON_MAX + 1];
};

static int count_target(const struct store_fw_target *t, void *ctx)
{
	struct seen *s = ctx;
	s->n++;
	s->attempts = t->attempts;
	snprintf(s->reason, sizeof(s->reason), "%s", t->reason);
	return 0;
}

static void test_failure_threshold(void **state)
{
	struct fixture *f = *state;
	add_devices(f->store, "p1", "meter", "m", 30);
	struct fw_campaign_spec s = spec_of_product(20, 100000);
	s.failure_min_devices = 10;
	s.failure_threshold_percent = 20;
	s.retries = 0;
	start(f, &s);
	tick(0);
	assert_int_equal(fake.nrunning, 20);
	for (uint32_t i = 0; i < 3; i++) {
		struct fw_job *job = fake_job(i);
		snprintf(job->row.reason, sizeof(job->row.reason), "timeout");
		fake_job_report(job, FW_FAILED, true); /* transient, but no retries */
	}
	for (uint32_t i = 3; i < 9; i++)
		fake_job_report(fake_job(i), FW_SUCCEEDED, false);
	assert_int_equal(view(f).status, FW_CAMPAIGN_RUNNING); /* 9 ended: not yet */
	fake_job_report(fake_job(9), FW_SUCCEEDED, false);
	struct fw_campaign_view v = view(f);
	assert_int_equal(v.status, FW_CAMPAIGN_STOPPED);
	assert_string_equal(v.stop_reason, "failure threshold: 3 of 10 failed (30% > 20%)");
	assert_string_equal(fake.last_campaign_status, "stopped");
	/* Nothing starts any more; the running ones go on to their end. */
	int starts = fake.starts;
	tick(1000);
	assert_int_equal(fake.starts, starts);
	assert_int_equal(fake.nrunning, 10);
	fake_job_report(fake_job(10), FW_SUCCEEDED, false);
	assert_int_equal(view(f).counts[FW_SUCCEEDED], 8);
	assert_int_equal(view(f).counts[FW_WAITING], 10);
	struct seen failed = {0};
	assert_int_equal(fw_campaigns_targets(fake.fc, "p1", f->id, FW_FAILED, -1, 100,
					      count_target, &failed),
			 0);
	assert_int_equal(failed.n, 3);
	assert_string_equal(failed.reason, "timeout");
	assert_int_equal(fw_campaigns_resume(fake.fc, "p1", f->id), -EINVAL);
	/* A stopped campaign is ended: it may be deleted, its last jobs stopped. */
	assert_int_equal(fw_campaigns_delete(fake.fc, "p1", f->id), 0);
	assert_int_equal(fake.stops, 9);
	assert_int_equal(fake.nrunning, 0);
	assert_int_equal(fw_campaigns_get(fake.fc, "p1", f->id, &v), -ENOENT);
}

static void test_pause_resume_cancel(void **state)
{
	struct fixture *f = *state;
	add_devices(f->store, "p1", "meter", "m", 10);
	struct fw_campaign_spec s = spec_of_product(2, 100000);
	start(f, &s);
	tick(0);
	assert_int_equal(fake.nrunning, 2);
	assert_int_equal(fw_campaigns_pause(fake.fc, "p1", f->id), 0);
	assert_int_equal(fw_campaigns_pause(fake.fc, "p1", f->id), -EINVAL);
	assert_string_equal(fake.last_campaign_status, "paused");
	fake_job_report(fake_job(0), FW_SUCCEEDED, false);
	tick(1000);
	assert_int_equal(fake.nrunning, 1); /* the running one went on, none started */
	assert_int_equal(fake.starts, 2);
	assert_int_equal(fw_campaigns_resume(fake.fc, "p1", f->id), 0);
	tick(1000);
	assert_int_equal(fake.nrunning, 2);
	assert_int_equal(fake.starts, 3);
	/* Another project sees nothing. */
	assert_int_equal(fw_campaigns_cancel(fake.fc, "p2", f->id), -ENOENT);
	assert_int_equal(fw_campaigns_delete(fake.fc, "p1", f->id), -EBUSY);
	assert_int_equal(fw_campaigns_cancel(fake.fc, "p1", f->id), 0);
	assert_int_equal(fake.stops, 2);
	assert_int_equal(fake.nrunning, 0);
	struct fw_campaign_view v = view(f);
	assert_int_equal(v.status, FW_CAMPAIGN_CANCELLED);
	assert_int_equal(v.counts[FW_CANCELLED], 9);
	assert_int_equal(v.counts[FW_SUCCEEDED], 1);
	for (int st = FW_WAITING; st <= FW_UPDATING; st++)
		assert_int_equal(v.counts[st], 0);
	struct seen cancelled = {0};
	assert_int_equal(fw_campaigns_targets(fake.fc, "p1", f->id, FW_CANCELLED, -1, 100,
					      count_target, &cancelled),
			 0);
	assert_int_equal(cancelled.n, 9);
	tick(1000);
	assert_int_equal(fake.starts, 3);
	assert_int_equal(fw_campaigns_resume(fake.fc, "p1", f->id), -EINVAL);
	assert_int_equal(fw_campaigns_cancel(fake.fc, "p1", f->id), -EINVAL);
	assert_int_equal(fw_campaigns_delete(fake.fc, "p1", f->id), 0);
}

static void test_restart(void **state)
{
	struct fixture *f = *state;
	add_devices(f->store, "p1", "meter", "m", 10);
	struct fw_campaign_spec s = spec_of_product(3, 100000);
	s.retry_backoff_s = 30;
	start(f, &s);
	tick(0);
	fake.running[0]->row.bytes = 100;
	fake_job_report(fake_job(0), FW_SUCCEEDED, false);
	fake_job_report(fake_job(1), FW_FAILED, true); /* a retry in 30 s */
	tick(1000);
	assert_int_equal(fake.starts, 5); /* 0, 1, 2, then 3 and 4 */
	fake_job(3)->row.bytes = 50;
	fake_job_report(fake_job(3), FW_DOWNLOADING, false);
	fake_job_report(fake_job(4), FW_SUCCEEDED, false);

	/* The daemon stops (the engine lets go of its jobs) and starts again. */
	fw_campaigns_destroy(fake.fc);
	fake.nrunning = 0;
	fake.starts = 0;
	new_manager(f);
	assert_int_equal(fw_campaigns_load(fake.fc), 0);
	assert_int_equal(fake.resumes, 2); /* seq 2 starting, seq 3 downloading */
	assert_non_null(fake_job(2));
	assert_non_null(fake_job(3));
	struct fw_campaign_view v = view(f);
	assert_int_equal(v.status, FW_CAMPAIGN_RUNNING);
	assert_int_equal(v.targets, 10);
	assert_int_equal(v.counts[FW_SUCCEEDED], 2);
	assert_int_equal(v.counts[FW_STARTING], 1);
	assert_int_equal(v.counts[FW_DOWNLOADING], 1);
	assert_int_equal(v.counts[FW_WAITING], 6);
	assert_int_equal(v.bytes_served, 150);
	assert_string_equal(v.spec.name, "to 2.0");
	assert_int_equal(v.spec.max_concurrent, 3);
	/* One slot free: the cursor goes on after seq 4; the retry waits for its time. */
	tick(1000);
	assert_int_equal(fake.starts, 1);
	assert_int_equal(fake.start_seq[0], 5);
	fake_job_report(fake_job(5), FW_SUCCEEDED, false);
	tick(30000);
	assert_int_equal(fake.starts, 2);
	assert_int_equal(fake.start_seq[1], 1); /* the retry, due, before seq 6 */
	assert_int_equal(fake_job(1)->row.attempts, 2);
}

/* A paused campaign comes back paused: its running job goes on, nothing else starts. */
static void test_restart_paused(void **state)
{
	struct fixture *f = *state;
	add_devices(f->store, "p1", "meter", "m", 3);
	struct fw_campaign_spec s = spec_of_product(1, 100000);
	start(f, &s);
	tick(0);
	assert_int_equal(fw_campaigns_pause(fake.fc, "p1", f->id), 0);
	fw_campaigns_destroy(fake.fc);
	fake.nrunning = 0;
	fake.starts = 0;
	new_manager(f);
	assert_int_equal(fw_campaigns_load(fake.fc), 0);
	assert_int_equal(fake.resumes, 1);
	assert_int_equal(view(f).status, FW_CAMPAIGN_PAUSED);
	fake_job_report(fake_job(0), FW_SUCCEEDED, false);
	tick(1000);
	assert_int_equal(fake.starts, 0);
	assert_int_equal(fw_campaigns_resume(fake.fc, "p1", f->id), 0);
	tick(1000);
	assert_int_equal(fake.starts, 1);
	assert_int_equal(fake.start_seq[0], 1);
	assert_int_equal(view(f).counts[FW_SUCCEEDED], 1);
}

static void test_refusals(void **state)
{
	struct fixture *f = *state;
	add_devices(f->store, "p1", "meter", "m", 3);
	const char *why = NULL;
	char id[STORE_ID_MAX + 1];
	struct fw_campaign_spec s = spec_of_product(0, 600);
	assert_int_equal(fw_campaigns_start(fake.fc, "p1", &s, id, &why), -EINVAL);
	assert_string_equal(why, "max_concurrent must be 1-100000");
	s = spec_of_product(1, 600);
	snprintf(s.package_id, sizeof(s.package_id), "nope");
	assert_int_equal(fw_campaigns_start(fake.fc, "p1", &s, id, &why), -ENOENT);
	assert_string_equal(why, "package_id: no such package");
	s = spec_of_product(1, 600);
	assert_int_equal(fw_campaigns_start(fake.fc, "p2", &s, id, &why), -ENOENT);
	snprintf(s.product_id, sizeof(s.product_id), "tracker");
	assert_int_equal(fw_campaigns_start(fake.fc, "p1", &s, id, &why), -EINVAL);
	assert_string_equal(why, "targets.product_id: the package is of product meter");
	snprintf(s.package_id, sizeof(s.package_id), "lost");
	snprintf(s.product_id, sizeof(s.product_id), "meter");
	assert_int_equal(fw_campaigns_start(fake.fc, "p1", &s, id, &why), -ENOENT);
	assert_string_equal(why, "the package's file cannot be opened");

	/* Device lists. */
	char ids[3][STORE_ID_MAX + 1] = {"id-m0", "id-m2", "id-x0"};
	s = spec_of_product(1, 600);
	s.product_id[0] = '\0';
	s.device_ids = ids;
	s.device_id_count = 3;
	assert_int_equal(fw_campaigns_start(fake.fc, "p1", &s, id, &why), -EINVAL);
	assert_string_equal(why, "targets.device_ids[2]: no device id-x0 in this project");
	snprintf(ids[2], sizeof(ids[2]), "id-t0");
	assert_int_equal(fw_campaigns_start(fake.fc, "p1", &s, id, &why), -EINVAL);
	assert_non_null(strstr(why, "device id-t0 is of product tracker"));
	snprintf(ids[2], sizeof(ids[2]), "id-m0");
	assert_int_equal(fw_campaigns_start(fake.fc, "p1", &s, id, &why), -EINVAL);
	assert_string_equal(why, "targets.device_ids: id-m0 is given twice");
	snprintf(s.product_id, sizeof(s.product_id), "meter");
	assert_int_equal(fw_campaigns_start(fake.fc, "p1", &s, id, &why), -EINVAL);
	assert_string_equal(why, "targets: give product_id or device_ids, not both");
	/* Nothing was left behind by the refusals. */
	assert_int_equal(fake.files_open, 0);

	/* A good list: its devices in the list's order. */
	s.product_id[0] = '\0';
	s.device_id_count = 2;
	s.max_concurrent = 2;
	start(f, &s);
	assert_int_equal(view(f).targets, 2);
	assert_int_equal(view(f).spec.device_id_count, 2);
	tick(0);
	assert_string_equal(fake_job(0)->row.device_id, "id-m0");
	assert_string_equal(fake_job(1)->row.device_id, "id-m2");
	assert_string_equal(fake_job(1)->pkg->version, "2.0");
	assert_string_equal(fake_job(1)->project_id, "p1");
}

/* 100 000 devices: resolved in one statement, started a slot at a time, cancelled in
 * one UPDATE; the campaign holds no more jobs than its concurrency. */
static void test_fleet(void **state)
{
	struct fixture *f = *state;
	enum { FLEET = 100000 };
	assert_int_equal(store_begin(f->store), 0);
	add_devices(f->store, "p1", "meter", "m", FLEET);
	assert_int_equal(store_commit(f->store), 0);
	struct fw_campaign_spec s = spec_of_product(100, 1000000);
	start(f, &s);
	assert_int_equal(view(f).targets, FLEET);
	assert_int_equal(view(f).counts[FW_WAITING], FLEET);
	tick(1000);
	assert_int_equal(fake.nrunning, 100);
	for (int round = 0; round < 20; round++) {
		while (fake.nrunning > 50)
			fake_job_report(fake.running[0], FW_SUCCEEDED, false);
		tick(1000);
		assert_int_equal(fake.nrunning, 100);
	}
	assert_int_equal(fake.start_seq[fake.starts - 1], fake.starts - 1); /* in order */
	assert_int_equal(fw_campaigns_cancel(fake.fc, "p1", f->id), 0);
	struct fw_campaign_view v = view(f);
	assert_int_equal(v.counts[FW_SUCCEEDED], 20 * 50);
	assert_int_equal(v.counts[FW_CANCELLED], FLEET - v.counts[FW_SUCCEEDED]);
	assert_int_equal(fake.nrunning, 0);
}

static int count_view(const struct fw_campaign_view *v, void *ctx)
{
	char (*last)[STORE_ID_MAX + 1] = ctx;
	snprintf(*last, sizeof(*last), "%s", v->campaign_id);
	return 0;
}

struct collected_ids {
	char (*ids)[STORE_ID_MAX + 1];
	unsigned n;
};

static int collect_id(const struct fw_campaign_view *v, void *ctx)
{
	struct collected_ids *c = ctx;
	if (c->n < FW_CAMPAIGN_MAX_ACTIVE + 1)
		snprintf(c->ids[c->n++], STORE_ID_MAX + 1, "%s", v->campaign_id);
	return 0;
}

static void test_list_and_limits(void **state)
{
	struct fixture *f = *state;
	add_devices(f->store, "p1", "meter", "m", 1);
	struct fw_campaign_spec s = spec_of_product(1, 600);
	char first[STORE_ID_MAX + 1];
	start(f, &s);
	snprintf(first, sizeof(first), "%s", f->id);
	for (int i = 1; i < FW_CAMPAIGN_MAX_ACTIVE; i++)
		start(f, &s);
	const char *why = NULL;
	char id[STORE_ID_MAX + 1];
	assert_int_equal(fw_campaigns_start(fake.fc, "p1", &s, id, &why), -EBUSY);
	/* Newest first: the last one the walk sees is the oldest. */
	char last[STORE_ID_MAX + 1] = "";
	assert_int_equal(fw_campaigns_list(fake.fc, "p1", count_view, &last), 0);
	assert_string_equal(last, first);
	last[0] = '\0';
	assert_int_equal(fw_campaigns_list(fake.fc, "p2", count_view, &last), 0);
	assert_string_equal(last, "");
	/* An ended campaign frees a place. */
	assert_int_equal(fw_campaigns_cancel(fake.fc, "p1", first), 0);
	start(f, &s);
	/* Ended campaigns are kept until deleted, FW_CAMPAIGN_MAX_KEPT at most. */
	static char ids[FW_CAMPAIGN_MAX_ACTIVE + 1][STORE_ID_MAX + 1];
	struct collected_ids all = { ids, 0 };
	assert_int_equal(fw_campaigns_list(fake.fc, "p1", collect_id, &all), 0);
	for (unsigned i = 0; i < all.n; i++)
		fw_campaigns_cancel(fake.fc, "p1", ids[i]); /* the one already ended: -EINVAL */
	unsigned kept = all.n;
	while (fw_campaigns_start(fake.fc, "p1", &s, id, &why) == 0) {
		assert_int_equal(fw_campaigns_cancel(fake.fc, "p1", id), 0);
		kept++;
		assert_true(kept <= FW_CAMPAIGN_MAX_KEPT);
	}
	assert_int_equal(kept, FW_CAMPAIGN_MAX_KEPT);
	assert_non_null(strstr(why, "delete ended ones"));
	assert_int_equal(fw_campaigns_delete(fake.fc, "p1", first), 0);
	start(f, &s);
}

static void test_pace_arithmetic(void **state)
{
	(void)state;
	struct fw_bucket b;
	fw_bucket_init(&b, 600, 0); /* 10 a second, 20 of burst */
	int n = 0;
	while (fw_bucket_take(&b, 0))
		n++;
	assert_int_equal(n, 20);
	assert_false(fw_bucket_take(&b, 99));
	assert_true(fw_bucket_take(&b, 100));
	fw_bucket_init(&b, 1, 0); /* 1 a minute: a burst of 1 */
	assert_true(fw_bucket_take(&b, 0));
	assert_false(fw_bucket_take(&b, 59999));
	assert_true(fw_bucket_take(&b, 60000));

	struct fw_rate r;
	memset(&r, 0, sizeof(r));
	fw_rate_note(&r, T0, 30);
	fw_rate_note(&r, T0 + 30000, 30);
	/* 60 ended in the minute since the start. */
	double pm = fw_rate_per_minute(&r, T0 + 60000, T0);
	assert_true(pm > 59.0 && pm < 61.0);
	/* 10 minutes on, nothing recent. */
	assert_true(fw_rate_per_minute(&r, T0 + 600000, T0) == 0.0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_concurrency, setup, teardown),
		cmocka_unit_test_setup_teardown(test_start_rate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retry_backoff, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retry_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failure_threshold, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pause_resume_cancel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart_paused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_and_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fleet, setup, teardown),
		cmocka_unit_test(test_pace_arithmetic),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
