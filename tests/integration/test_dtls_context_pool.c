/*
 * Integration tests of the DTLS context pool (--dtls-context-pool) with the real daemon
 * and the project's own DTLS client (lwm2m-sim): devices one after another, each session
 * over before the next device comes, so the next handshake runs on the previous device's
 * reset context; each device still gets its own identity, a wrong key still
 * fails on a pooled context, and with a pool of 0 nothing is reused.
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

#include "harness.h"

#define KEY_HEX "7365637265746b657931"

static int start(void **state, const char *pool)
{
	const char *const args[] = { "--dtls-idle-seconds", "1", "--dtls-context-pool", pool, NULL };
	struct daemon_proc *d = calloc(1, sizeof(*d));
	daemon_start(d, args);
	api_create_product(d, "meter");
	*state = d;
	return 0;
}

static int setup_pool(void **state)
{
	return start(state, "2");
}

static int setup_no_pool(void **state)
{
	return start(state, "0");
}

static int teardown(void **state)
{
	struct daemon_proc *d = *state;
	daemon_cleanup(d);
	free(d);
	return 0;
}

static void create_secure_device(struct daemon_proc *d, const char *node_id)
{
	char body[512], resp[1024];
	snprintf(body, sizeof(body),
		 "{\"node_id\":\"%s\",\"product_id\":\"meter\",\"auth_info\":"
		 "{\"secure_access\":true,\"secret\":\"" KEY_HEX "\"}}",
		 node_id);
	int status = http_call(d, "POST", "/v5/iot/p1/devices", body, resp, sizeof(resp));
	if (status != 201)
		fail_msg("device create: %d %s", status, resp);
}

/* A /metrics series' value, or -1. */
static long metric(struct daemon_proc *d, const char *name)
{
	static char resp[65536];
	if (http_call_auth(d, "GET", "/metrics", NULL, NULL, resp, sizeof(resp)) != 200)
		return -1;
	size_t n = strlen(name);
	for (char *p = strstr(resp, name); p; p = strstr(p + 1, name)) {
		if ((p == resp || p[-1] == '\n') && (p[n] == ' '))
			return strtol(p + n + 1, NULL, 10);
	}
	return -1;
}

/* One device's handshake, Register and Update with key; returns lwm2m-sim's status. */
static int device_run(struct daemon_proc *d, const char *identity, const char *key,
		      char *out, size_t cap)
{
	char cmd[1024], addr[ADDR_STR_MAX];
	addr_format(&d->coaps, addr);
	snprintf(cmd, sizeof(cmd),
		 "%s --server %s --psk-identity %s --psk %s --ciphersuite ccm8 --updates 1 "
		 "--interval 100",
		 sim_bin(), addr, identity, key);
	return run_command(cmd, out, cap, 60);
}

/* Three devices one after another, each session over (its context pooled) before the
 * next device's handshake. */
static void three_devices(struct daemon_proc *d)
{
	char out[4096];
	const char *ids[] = { "sec1", "sec2", "sec3" };
	for (int i = 0; i < 3; i++) {
		create_secure_device(d, ids[i]);
		if (device_run(d, ids[i], KEY_HEX, out, sizeof(out)) != 0)
			fail_msg("lwm2m-sim %s: %s", ids[i], out);
		assert_non_null(strstr(out, "registered rd/"));
		assert_non_null(strstr(out, "updated 2.04"));
		/* lwm2m-sim ends its session with close_notify as it exits (else idle 1 s
		 * and the tick hibernate it): its context is given back either way. */
		for (int k = 0; k < 40 && metric(d, "lwm2md_dtls_sessions_live") != 0; k++)
			usleep(100 * 1000);
		assert_int_equal(metric(d, "lwm2md_dtls_sessions_live"), 0);
	}
	assert_int_equal(metric(d, "lwm2md_dtls_handshakes_total"), 3);
}

static void test_next_devices_reuse_contexts(void **state)
{
	struct daemon_proc *d = *state;
	three_devices(d);
	assert_true(metric(d, "lwm2md_dtls_contexts_reused_total") >= 2);

	/* A wrong key on a pooled context fails as on a new one. */
	char out[4096];
	create_secure_device(d, "sec4");
	assert_int_equal(device_run(d, "sec4", "00112233", out, sizeof(out)), 1);
	assert_non_null(strstr(out, "failed handshake"));
	assert_int_equal(metric(d, "lwm2md_dtls_handshake_failures_total{reason=\"bad_key\"}"), 1);
	assert_int_equal(metric(d, "lwm2md_dtls_handshakes_total"), 3);
	/* Then the right one works. */
	assert_int_equal(device_run(d, "sec4", KEY_HEX, out, sizeof(out)), 0);
	assert_int_equal(metric(d, "lwm2md_dtls_handshakes_total"), 4);
}

static void test_pool_of_zero_reuses_nothing(void **state)
{
	struct daemon_proc *d = *state;
	three_devices(d);
	assert_int_equal(metric(d, "lwm2md_dtls_contexts_reused_total"), 0);
	assert_true(metric(d, "lwm2md_dtls_contexts_created_total") >= 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_next_devices_reuse_contexts, setup_pool,
						teardown),
		cmocka_unit_test_setup_teardown(test_pool_of_zero_reuses_nothing, setup_no_pool,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
