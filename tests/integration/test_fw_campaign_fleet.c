/*
 * Integration tests of firmware campaigns over a fleet (docs/firmware.md "Campaigns"):
 * 50 simulated devices updated by one campaign that never has more updating at once than
 * its concurrency nor starts faster than its rate, and ends with the right counts; and a
 * campaign that stops itself at its failure threshold.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "harness_fw.h"

/* The starts a campaign may make at once before its rate applies (docs/firmware.md). */
#define FW_TEST_BURST 4

static int setup(void **state)
{
	struct fw_fixture *f = calloc(1, sizeof(*f));
	fw_setup(f, NULL);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fw_fixture *f = *state;
	fw_teardown(f);
	free(f);
	return 0;
}

static double mono_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int active_of(json_t *c)
{
	return fw_count(c, "starting") + fw_count(c, "downloading") + fw_count(c, "downloaded") +
	       fw_count(c, "updating");
}

static void test_fifty_devices_paced(void **state)
{
	struct fw_fixture *f = *state;
	enum { DEVICES = 50, CONCURRENT = 5, RATE = 120 /* a minute: 2 a second */ };
	char node[32], pkg[64], id[64], body[512];
	for (int i = 0; i < DEVICES; i++) {
		snprintf(node, sizeof(node), "fleet%02d", i);
		fw_sim_start(f, node, false, "--fw-apply-ms 100", true);
	}
	fw_upload(f, "2.0.0", 4096, pkg);
	snprintf(body, sizeof(body),
		 "{\"name\":\"fleet\",\"package_id\":\"%s\",\"targets\":{\"product_id\":\"meter\"},"
		 "\"max_concurrent\":%d,\"rate_per_minute\":%d,\"retries\":0}",
		 pkg, CONCURRENT, RATE);
	double t0 = mono_s();
	fw_campaign_create(f, body, id);
	int max_active = 0;
	json_t *c = NULL;
	for (;;) {
		json_decref(c);
		c = fw_campaign_get(f, id);
		double elapsed = mono_s() - t0;
		int active = active_of(c);
		int started = (int)json_integer_value(json_object_get(c, "targets")) -
			      fw_count(c, "waiting");
		if (active > max_active)
			max_active = active;
		if (active > CONCURRENT)
			fail_msg("%d devices updating at once, more than %d", active, CONCURRENT);
		/* The start rate with its burst (docs/firmware.md): at most the burst at once,
		 * then RATE a minute. One second of slack for the poll's own delay. */
		double allowed = FW_TEST_BURST + RATE * (elapsed + 1.0) / 60.0;
		if (started > allowed)
			fail_msg("%d started after %.1f s: faster than %d a minute", started,
				 elapsed, RATE);
		const char *status = json_string_value(json_object_get(c, "status"));
		if (status && strcmp(status, "finished") == 0)
			break;
		if (elapsed > 150)
			fail_msg("the campaign did not finish in 150 s: %s", json_dumps(c, 0));
		sleep_ms(100);
	}
	assert_int_equal(json_integer_value(json_object_get(c, "targets")), DEVICES);
	assert_int_equal(fw_count(c, "succeeded"), DEVICES);
	assert_int_equal(fw_count(c, "failed"), 0);
	assert_int_equal(fw_count(c, "waiting"), 0);
	/* It used its concurrency (the rate let at least two run at once). */
	assert_true(max_active >= 2);
	/* 50 starts at 2 a second take some 25 s: the rate held it back. */
	assert_true(mono_s() - t0 >= (DEVICES - FW_TEST_BURST) * 60.0 / RATE - 1.0);
	json_decref(c);
	for (int i = 0; i < DEVICES; i++)
		assert_int_equal(fw_sim_wait(&f->sims[i], "fw rebooted version=2.0.0", 0), 0);
}

static void test_stops_at_failure_threshold(void **state)
{
	struct fw_fixture *f = *state;
	enum { DEVICES = 20 };
	char node[32], pkg[64], id[64], body[512];
	/* Every other device fails its integrity check (a permanent failure). */
	for (int i = 0; i < DEVICES; i++) {
		snprintf(node, sizeof(node), "thr%02d", i);
		fw_sim_start(f, node, false, i % 2 ? "--fw-apply-ms 100" : "--fw-outcome 5", true);
	}
	fw_upload(f, "2.0.0", 4096, pkg);
	snprintf(body, sizeof(body),
		 "{\"package_id\":\"%s\",\"targets\":{\"product_id\":\"meter\"},"
		 "\"max_concurrent\":2,\"rate_per_minute\":6000,\"retries\":0,"
		 "\"failure_threshold_percent\":30,\"failure_min_devices\":4}",
		 pkg);
	fw_campaign_create(f, body, id);
	json_t *c = fw_campaign_wait_status(f, id, "stopped", 90000);
	const char *reason = json_string_value(json_object_get(c, "stop_reason"));
	assert_non_null(reason);
	assert_non_null(strstr(reason, "threshold"));
	int failed = fw_count(c, "failed");
	int ended = failed + fw_count(c, "succeeded") + fw_count(c, "skipped");
	assert_true(ended >= 4);
	assert_true(failed * 100 > 30 * ended);
	/* It stopped starting devices: the rest wait, and stay waiting. */
	int waiting = fw_count(c, "waiting");
	assert_true(waiting > 0);
	json_decref(c);
	sleep_ms(3000);
	c = fw_campaign_get(f, id);
	assert_int_equal(fw_count(c, "waiting"), waiting);
	assert_string_equal(json_string_value(json_object_get(c, "status")), "stopped");
	json_decref(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_fifty_devices_paced, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stops_at_failure_threshold, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
