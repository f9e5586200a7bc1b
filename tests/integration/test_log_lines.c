/*
 * Integration test: what an operator reads in the log at --log-level info. One line per
 * registration (endpoint, address, transport, lifetime), de-registration, expiry and
 * removal, at most 100 of each kind a 10 s window; none per Update (those are DEBUG); each
 * refused Register says why; and the
 * start says the schema version in one line, not one per migration step. With
 * --log-format json each line is one JSON object.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "coap/coap_msg.h"
#include "harness.h"

/* Lines of the log at path holding every one of the needles (NULL-terminated). */
static int lines_with(const char *path, const char *const *needles)
{
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	char line[2048];
	int n = 0;
	while (fgets(line, sizeof(line), f)) {
		bool all = true;
		for (int i = 0; needles[i]; i++)
			all = all && strstr(line, needles[i]) != NULL;
		n += all;
	}
	fclose(f);
	return n;
}

#define LINES(path, ...) lines_with(path, (const char *const[]){__VA_ARGS__, NULL})

/* Waits up to timeout_ms for a line holding needle. */
static int wait_line(const char *path, const char *needle, int timeout_ms)
{
	for (int waited = 0; waited <= timeout_ms; waited += 50) {
		if (LINES(path, needle) > 0)
			return 0;
		sleep_ms(50);
	}
	return -1;
}

static void test_info_lines(void **state)
{
	(void)state;
	char log_path[] = "/tmp/lwm2md-log-lines-XXXXXX";
	int log_fd = mkstemp(log_path);
	assert_true(log_fd >= 0);
	close(log_fd);
	setenv("LWM2MD_TEST_STDERR", log_path, 1);
	static const char *const args[] = {"--log-level", "info", NULL};
	struct daemon_proc d;
	daemon_start(&d, args);
	unsetenv("LWM2MD_TEST_STDERR");
	api_create_product(&d, "meter");
	api_create_device(&d, "meter", "log01", false, 0);
	api_create_device(&d, "meter", "log02", true, 0);
	api_create_device(&d, "meter", "log03", false, 0);

	int fd = coap_socket("127.0.0.1:0");
	char id[32], resp[512];
	assert_int_equal(coap_register(fd, &d.coap, "log01", "300", "</3/0>", id),
			 COAP_CODE_CREATED);
	assert_int_equal(coap_update(fd, &d.coap, id, ""), COAP_CODE_CHANGED);
	assert_int_equal(coap_deregister(fd, &d.coap, id), COAP_CODE_DELETED);
	assert_int_equal(coap_register(fd, &d.coap, "nobody01", "300", "</3/0>", id),
			 COAP_CODE_FORBIDDEN);
	assert_int_equal(coap_register(fd, &d.coap, "log02", "300", "</3/0>", id),
			 COAP_CODE_FORBIDDEN);
	assert_int_equal(coap_register(fd, &d.coap, "log03", "1", "</3/0>", id),
			 COAP_CODE_CREATED);
	assert_int_equal(wait_line(log_path, "expired: no Update within its lifetime of 1 s", 5000),
			 0);
	assert_int_equal(coap_register(fd, &d.coap, "log01", "300", "</3/0>", id),
			 COAP_CODE_CREATED);
	assert_int_equal(http_call(&d, "DELETE", "/v5/iot/p1/devices/meter_log01", NULL, resp,
				   sizeof(resp)),
			 204);
	assert_int_equal(wait_line(log_path, "ended: the device was deleted", 3000), 0);

	/* A device registering again and again (or a replayed plain Register) writes at
	 * most 100 lines a 10 s window; the rest are counted, and summarised later. */
	long long held = metric_value(&d, "lwm2md_log_lines_suppressed_total");
	for (int i = 0; i < 150; i++)
		assert_int_equal(coap_register(fd, &d.coap, "log03", "300", "</3/0>", id),
				 COAP_CODE_CREATED);
	assert_true(metric_value(&d, "lwm2md_log_lines_suppressed_total") - held >= 50);
	close(fd);
	daemon_stop(&d);
	int storm = LINES(log_path, "INFO lwm2m: registered 'log03'");
	print_message("151 Registers of log03: %d lines\n", storm);
	assert_true(storm >= 90 && storm <= 100);

	assert_int_equal(LINES(log_path, "INFO lwm2m: registered 'log01' (rd/", "from 127.0.0.1:",
			       "over udp, lifetime 300 s, binding U, LwM2M 1.1"),
			 2);
	assert_int_equal(LINES(log_path, "update of"), 0);
	assert_int_equal(LINES(log_path, "INFO lwm2m: de-registered 'log01' (rd/"), 1);
	assert_int_equal(LINES(log_path, "registration of 'nobody01' from 127.0.0.1:",
			       "refused (4.03): no device has this node ID"),
			 1);
	assert_int_equal(LINES(log_path, "registration of 'log02'",
			       "refused (4.03): the device has secure access: DTLS only"),
			 1);
	assert_int_equal(LINES(log_path, "INFO lwm2m: registration of 'log03'", "expired"), 1);
	assert_int_equal(LINES(log_path, "schema at version"), 1);
	unlink(log_path);
	daemon_cleanup(&d);
}

/* --log-format json: every line one JSON object with time, level, module and msg — also
 * one quoting a path that holds a quote, a backslash and a control byte. */
static void test_json_lines(void **state)
{
	(void)state;
	char log_path[] = "/tmp/lwm2md-log-json-XXXXXX", models[] = "/tmp/lwm2md-m\"q\\b\001-XXXXXX";
	int log_fd = mkstemp(log_path);
	assert_true(log_fd >= 0);
	close(log_fd);
	assert_non_null(mkdtemp(models));
	setenv("LWM2MD_TEST_STDERR", log_path, 1);
	const char *const args[] = {"--log-level", "info", "--log-format", "json", "--models", models,
				    NULL};
	struct daemon_proc d;
	daemon_start(&d, args);
	unsetenv("LWM2MD_TEST_STDERR");
	int fd = coap_socket("127.0.0.1:0");
	char id[32];
	assert_int_equal(coap_register(fd, &d.coap, "nobody02", "300", "</3/0>", id),
			 COAP_CODE_FORBIDDEN);
	close(fd);
	daemon_stop(&d);

	FILE *f = fopen(log_path, "r");
	assert_non_null(f);
	char line[4096], loaded[256];
	snprintf(loaded, sizeof(loaded), "0 object definitions loaded from %s", models);
	int lines = 0, refused = 0, quoted = 0;
	while (fgets(line, sizeof(line), f)) {
		json_error_t err;
		json_t *o = json_loads(line, 0, &err);
		if (!o)
			fail_msg("not JSON (%s): %s", err.text, line);
		const char *level = json_string_value(json_object_get(o, "level"));
		const char *msg = json_string_value(json_object_get(o, "msg"));
		assert_non_null(json_string_value(json_object_get(o, "time")));
		assert_non_null(json_string_value(json_object_get(o, "module")));
		assert_non_null(level);
		assert_non_null(msg);
		if (strstr(msg, "registration of 'nobody02' from")) {
			assert_string_equal(level, "warn");
			refused++;
		}
		quoted += strcmp(msg, loaded) == 0;
		lines++;
		json_decref(o);
	}
	fclose(f);
	print_message("%d JSON lines\n", lines);
	assert_true(lines >= 3);
	assert_int_equal(refused, 1);
	assert_int_equal(quoted, 1);
	unlink(log_path);
	rmdir(models);
	daemon_cleanup(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_info_lines),
		cmocka_unit_test(test_json_lines),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
