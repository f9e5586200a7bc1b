/*
 * Integration tests of one device's firmware update (docs/firmware.md): the real daemon,
 * lwm2m-sim with object 5 as the device, packages and campaigns of one through the REST
 * API. Pull over CoAP and over DTLS, push with Block1, a failure result, a timeout, a
 * queue-mode device, a daemon restart mid-download, and a download path nobody else
 * may use.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "harness_fw.h"

#define PKG_SIZE 20000

static int teardown(void **state)
{
	struct fw_fixture *f = *state;
	fw_teardown(f);
	free(f);
	return 0;
}

static int setup(void **state)
{
	struct fw_fixture *f = calloc(1, sizeof(*f));
	fw_setup(f, NULL);
	*state = f;
	return 0;
}

static const char *const queue_args[] = { "--queue-window", "1", NULL };

static int setup_queue(void **state)
{
	struct fw_fixture *f = calloc(1, sizeof(*f));
	fw_setup(f, queue_args);
	*state = f;
	return 0;
}

/* A campaign of the one device sims[i] (retries 0 unless the extra settings say). */
static void campaign_of_one(struct fw_fixture *f, int i, const char *pkg, const char *extra,
			    char id[64])
{
	char body[1024];
	snprintf(body, sizeof(body),
		 "{\"name\":\"one\",\"package_id\":\"%s\",\"targets\":{\"device_ids\":[\"%s\"]}%s%s}",
		 pkg, f->sims[i].dev, extra && extra[0] ? "," : "", extra ? extra : "");
	fw_campaign_create(f, body, id);
}

/* The campaign's only target, as listed (caller frees the returned document; *target
 * points into it). */
static json_t *only_target(struct fw_fixture *f, const char *id, json_t **target)
{
	json_t *devs = fw_campaign_devices(f, id);
	json_t *list = json_object_get(devs, "devices");
	assert_int_equal(json_array_size(list), 1);
	*target = json_array_get(list, 0);
	return devs;
}

static const char *field(json_t *o, const char *name)
{
	const char *v = json_string_value(json_object_get(o, name));
	return v ? v : "";
}

/* Updates sims[0] to 2.0.0 by method and checks everything the API and the device say. */
static void update_one(struct fw_fixture *f, const char *method, const char *want_method)
{
	char pkg[64], id[64], extra[128];
	fw_upload(f, "2.0.0", PKG_SIZE, pkg);
	snprintf(extra, sizeof(extra), "\"delivery\":\"%s\",\"retries\":0", method);
	campaign_of_one(f, 0, pkg, extra, id);
	json_t *c = fw_campaign_wait_status(f, id, "finished", 60000);
	assert_int_equal(fw_count(c, "succeeded"), 1);
	assert_int_equal(fw_count(c, "failed"), 0);
	assert_int_equal(json_integer_value(json_object_get(c, "targets")), 1);
	json_decref(c);
	json_t *t;
	json_t *devs = only_target(f, id, &t);
	assert_string_equal(field(t, "state"), "succeeded");
	assert_string_equal(field(t, "method"), want_method);
	assert_string_equal(field(t, "device_id"), f->sims[0].dev);
	assert_int_equal(json_integer_value(json_object_get(t, "bytes")), PKG_SIZE);
	assert_int_equal(json_integer_value(json_object_get(t, "result")), 1);
	json_decref(devs);
	/* The device rebooted into the package's version and said so. */
	assert_int_equal(fw_sim_wait(&f->sims[0], "fw rebooted version=2.0.0", 1000), 0);
}

static void test_pull_over_coap(void **state)
{
	struct fw_fixture *f = *state;
	fw_sim_start(f, "fwpull1", false, "", true);
	update_one(f, "pull", "pull");
	/* Every byte came from the daemon's own CoAP listener, in blocks. */
	assert_true(metric_value(&f->d, "lwm2md_firmware_bytes_served_total") >= PKG_SIZE);
	assert_true(metric_value(&f->d, "lwm2md_firmware_blocks_served_total") >=
		    (PKG_SIZE + 1023) / 1024);
	assert_int_equal(metric_value(&f->d, "lwm2md_firmware_updates_succeeded_total"), 1);
}

static void test_pull_over_dtls(void **state)
{
	struct fw_fixture *f = *state;
	fw_sim_start(f, "fwpulls", true, "", true);
	update_one(f, "pull", "pull");
	assert_true(metric_value(&f->d, "lwm2md_firmware_bytes_served_total") >= PKG_SIZE);
}

static void test_push_block1(void **state)
{
	struct fw_fixture *f = *state;
	fw_sim_start(f, "fwpush1", false, "", true);
	update_one(f, "push", "push");
	/* Nothing was pulled: it went to /5/0/0 in Block1 writes. */
	assert_int_equal(metric_value(&f->d, "lwm2md_firmware_bytes_served_total"), 0);
	assert_int_equal(metric_value(&f->d, "lwm2md_firmware_pushes_total"), 1);
	assert_non_null(strstr(fw_sim_output(&f->sims[0]), "fw downloaded bytes=20000"));
}

static void test_auto_picks_push_for_a_push_only_device(void **state)
{
	struct fw_fixture *f = *state;
	fw_sim_start(f, "fwpushonly", false, "--fw-delivery push", true);
	update_one(f, "auto", "push");
}

static void test_failure_result(void **state)
{
	struct fw_fixture *f = *state;
	char pkg[64], id[64];
	fw_sim_start(f, "fwbad", false, "--fw-outcome 5", true);
	fw_upload(f, "2.0.0", PKG_SIZE, pkg);
	campaign_of_one(f, 0, pkg, "\"retries\":0", id);
	json_t *c = fw_campaign_wait_status(f, id, "finished", 60000);
	assert_int_equal(fw_count(c, "failed"), 1);
	json_decref(c);
	json_t *t;
	json_t *devs = only_target(f, id, &t);
	assert_string_equal(field(t, "state"), "failed");
	assert_int_equal(json_integer_value(json_object_get(t, "result")), 5);
	assert_non_null(strstr(field(t, "reason"), "integrity check"));
	json_decref(devs);
	assert_null(strstr(fw_sim_output(&f->sims[0]), "fw rebooted"));
}

static void test_download_timeout(void **state)
{
	struct fw_fixture *f = *state;
	char pkg[64], id[64];
	/* 20 blocks at one every 2 s outlast a 10 s download phase. */
	fw_sim_start(f, "fwslow", false, "--fw-block-delay-ms 2000", true);
	fw_upload(f, "2.0.0", PKG_SIZE, pkg);
	campaign_of_one(f, 0, pkg, "\"retries\":0,\"download_timeout_s\":10,\"delivery\":\"pull\"",
			id);
	json_t *c = fw_campaign_wait_status(f, id, "finished", 30000);
	assert_int_equal(fw_count(c, "failed"), 1);
	json_decref(c);
	json_t *t;
	json_t *devs = only_target(f, id, &t);
	if (!strstr(field(t, "reason"), "timed out"))
		fail_msg("not a timeout: %s\nsim: %s", field(t, "reason"),
			 fw_sim_output(&f->sims[0]));
	/* It got somewhere, and no further: the token stopped working at the deadline. */
	json_int_t bytes = json_integer_value(json_object_get(t, "bytes"));
	assert_true(bytes > 0 && bytes < PKG_SIZE);
	json_decref(devs);
}

static void test_queue_mode_device(void **state)
{
	struct fw_fixture *f = *state;
	/* It sleeps 1.5 s after it last spoke and wakes every 4 s: every step of the update
	 * waits for it, and nothing is lost while it sleeps. */
	fw_sim_start(f, "fwsleepy", false,
		     "--binding UQ --sleep-after 1500 --wake-every 4000", true);
	update_one(f, "auto", "pull");
}

/* The stored download token of the campaign's first target (read from the registry: the
 * API never shows it). */
static void stored_token(struct fw_fixture *f, char *out, size_t cap)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_open_v2(f->d.db, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	sqlite3_busy_timeout(db, 2000);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT token FROM fw_targets WHERE token != ''",
					    -1, &st, NULL),
			 SQLITE_OK);
	out[0] = '\0';
	if (sqlite3_step(st) == SQLITE_ROW)
		snprintf(out, cap, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	sqlite3_close(db);
}

/* A request of method for path (under /) from socket fd; the answer's code. */
static uint8_t ask(struct fw_fixture *f, int fd, uint8_t method, const char *path)
{
	struct coap_msg m, r;
	uint8_t buf[2048];
	static uint16_t mid = 0x7100;
	coap_msg_init(&m, COAP_TYPE_CON, method, mid++, (const uint8_t *)"tk", 2);
	coap_msg_add_path(&m, COAP_OPTION_URI_PATH, path);
	if (coap_exchange(fd, &f->d.coap, &m, &r, buf, sizeof(buf)) != 0)
		fail_msg("no answer to /%s", path);
	return r.code;
}

/* A GET of /fw/<token> (block 0) from socket fd; the answer's code. */
static uint8_t fetch_block(struct fw_fixture *f, int fd, const char *token)
{
	char path[96];
	snprintf(path, sizeof(path), "fw/%s", token);
	return ask(f, fd, COAP_CODE_GET, path);
}

static void test_token_refused_to_others(void **state)
{
	struct fw_fixture *f = *state;
	char pkg[64], id[64], token[64];
	/* Slow, so that the download is open while others try the path. */
	fw_sim_start(f, "fwowner", false, "--fw-block-delay-ms 1000", true);
	fw_upload(f, "2.0.0", PKG_SIZE, pkg);
	campaign_of_one(f, 0, pkg, "\"delivery\":\"pull\"", id);
	assert_int_equal(fw_sim_wait(&f->sims[0], "fw block num=1", 15000), 0);
	stored_token(f, token, sizeof(token));
	assert_int_equal(strlen(token), 32);

	/* A stranger: not registered. */
	int fd = coap_socket("127.0.0.1:0");
	assert_int_equal(fetch_block(f, fd, token), COAP_CODE_FORBIDDEN);
	/* A guess. */
	assert_int_equal(fetch_block(f, fd, "00112233445566778899aabbccddeeff"),
			 COAP_CODE_NOT_FOUND);
	/* Malformed: another method, no token, more segments. */
	char path[96];
	snprintf(path, sizeof(path), "fw/%s", token);
	assert_int_equal(ask(f, fd, COAP_CODE_POST, path), COAP_CODE_METHOD_NOT_ALLOWED);
	assert_int_equal(ask(f, fd, COAP_CODE_GET, "fw"), COAP_CODE_NOT_FOUND);
	snprintf(path, sizeof(path), "fw/%s/0", token);
	assert_int_equal(ask(f, fd, COAP_CODE_GET, path), COAP_CODE_NOT_FOUND);
	close(fd);
	/* Another registered device of the same project. */
	int other = coap_socket("127.0.0.1:0");
	char rid[32];
	api_create_device(&f->d, "meter", "fwother", false, 0);
	assert_int_equal(coap_register(other, &f->d.coap, "fwother", "300", "</5/0>", rid),
			 COAP_CODE_CREATED);
	assert_int_equal(fetch_block(f, other, token), COAP_CODE_FORBIDDEN);
	close(other);
	assert_true(metric_value(&f->d, "lwm2md_firmware_downloads_refused_total") >= 6);
}

static void test_restart_mid_download_resumes(void **state)
{
	struct fw_fixture *f = *state;
	char pkg[64], id[64];
	const size_t size = 60000; /* 59 blocks */
	fw_sim_start(f, "fwresume", false, "--fw-block-delay-ms 100", true);
	fw_upload(f, "2.0.0", size, pkg);
	campaign_of_one(f, 0, pkg, "\"delivery\":\"pull\"", id);
	assert_int_equal(fw_sim_wait(&f->sims[0], "fw block num=20", 20000), 0);
	daemon_stop(&f->d);
	sleep_ms(500);
	daemon_restart(&f->d, NULL);
	json_t *c = fw_campaign_wait_status(f, id, "finished", 90000);
	assert_int_equal(fw_count(c, "succeeded"), 1);
	json_decref(c);
	/* This daemon served only what was left: the device went on from its block. */
	long long served = metric_value(&f->d, "lwm2md_firmware_bytes_served_total");
	assert_true(served > 0);
	assert_true(served < (long long)size - 15 * 1024);
}

static void test_device_restarts_mid_download(void **state)
{
	struct fw_fixture *f = *state;
	char pkg[64], id[64];
	fw_sim_start(f, "fwreboot", false, "--fw-block-delay-ms 100", true);
	fw_upload(f, "2.0.0", PKG_SIZE, pkg);
	campaign_of_one(f, 0, pkg, "\"delivery\":\"pull\",\"retries\":0", id);
	assert_int_equal(fw_sim_wait(&f->sims[0], "fw block num=5", 15000), 0);
	/* The device restarts: a new process, its download lost, a new Register. The
	 * update is picked up where it was — the device is Idle, so the URI goes again. */
	fw_sim_stop(&f->sims[0]);
	fw_sim_launch(f, 0, "", false);
	json_t *c = fw_campaign_wait_status(f, id, "finished", 60000);
	assert_int_equal(fw_count(c, "succeeded"), 1);
	json_decref(c);
	json_t *t;
	json_t *devs = only_target(f, id, &t);
	assert_int_equal(json_integer_value(json_object_get(t, "attempts")), 1);
	json_decref(devs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_pull_over_coap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pull_over_dtls, setup, teardown),
		cmocka_unit_test_setup_teardown(test_push_block1, setup, teardown),
		cmocka_unit_test_setup_teardown(test_auto_picks_push_for_a_push_only_device, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_failure_result, setup, teardown),
		cmocka_unit_test_setup_teardown(test_download_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_queue_mode_device, setup_queue, teardown),
		cmocka_unit_test_setup_teardown(test_token_refused_to_others, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart_mid_download_resumes, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_device_restarts_mid_download, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
