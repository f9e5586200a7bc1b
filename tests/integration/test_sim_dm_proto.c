/*
 * End-to-end tests of the protocol gaps real clients found, with the project's simulator
 * (lwm2m-sim --serve) as the device, over plain CoAP and over DTLS:
 *  - an Observe-Composite cancelled through the API ends at the device (it prints so) and
 *    no notification comes after, in SenML JSON and CBOR;
 *  - opaque values of 1025 bytes (JSON) and 60 KiB (a raw body) are written block-wise,
 *    stored by the device, and read back whole (its Block2 answer);
 *  - a Create that lets the device choose the instance says which it chose, and the new
 *    instance reads back.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "harness.h"
#include "util/base64.h"

#define KEY_HEX "73696d2d7365637265742d32"

struct fixture {
	struct daemon_proc d;
	bool secure;
	pid_t sim;
	char sim_out[320];
	char node[16];
	char dev[32];
};

static int setup_with(void **state, bool secure)
{
	struct fixture *f = calloc(1, sizeof(*f));
	daemon_start(&f->d, NULL);
	api_create_product(&f->d, "meter");
	f->secure = secure;
	snprintf(f->node, sizeof(f->node), "%s", secure ? "protosec" : "protoudp");
	snprintf(f->dev, sizeof(f->dev), "meter_%s", f->node);
	char body[256], resp[1024];
	snprintf(body, sizeof(body),
		 "{\"node_id\":\"%s\",\"product_id\":\"meter\",\"auth_info\":"
		 "{\"secure_access\":%s,\"secret\":\"" KEY_HEX "\"}}",
		 f->node, secure ? "true" : "false");
	int status = http_call(&f->d, "POST", "/v5/iot/p1/devices", body, resp, sizeof(resp));
	if (status != 201)
		fail_msg("device create: %d %s", status, resp);
	snprintf(f->sim_out, sizeof(f->sim_out), "%s/sim.out", f->d.dir);
	*state = f;
	return 0;
}

static int setup_udp(void **state)
{
	return setup_with(state, false);
}

static int setup_dtls(void **state)
{
	return setup_with(state, true);
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	if (f->sim > 0) {
		kill(f->sim, SIGTERM);
		waitpid(f->sim, NULL, 0);
	}
	daemon_stop(&f->d); /* under ASan, the exit status says whether it leaked */
	daemon_cleanup(&f->d);
	free(f);
	return 0;
}

static const char *sim_output(struct fixture *f)
{
	return sim_output_of(f->sim_out);
}

static int sim_wait(struct fixture *f, const char *needle, int timeout_ms)
{
	for (int waited = 0; waited <= timeout_ms; waited += 20) {
		if (strstr(sim_output(f), needle))
			return 0;
		sleep_ms(20);
	}
	return -1;
}

static void sim_start(struct fixture *f, const char *extra)
{
	char addr[ADDR_STR_MAX], cmd[1536];
	addr_format(f->secure ? &f->d.coaps : &f->d.coap, addr);
	if (f->secure)
		snprintf(cmd, sizeof(cmd),
			 "exec %s --server %s --psk-identity %s --psk " KEY_HEX
			 " --lifetime 300 --serve 60 %s > %s 2>&1",
			 sim_bin(), addr, f->node, extra, f->sim_out);
	else
		snprintf(cmd, sizeof(cmd),
			 "exec %s --server %s --ep %s --lifetime 300 --serve 60 %s > %s 2>&1",
			 sim_bin(), addr, f->node, extra, f->sim_out);
	f->sim = fork();
	assert_true(f->sim >= 0);
	if (f->sim == 0) {
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	if (sim_wait(f, "registered rd/", 10000) != 0)
		fail_msg("the simulator did not register: %s", sim_output(f));
	assert_int_equal(api_wait_status(&f->d, f->dev, "ONLINE", 3000), 0);
}

/* An API call on the device's routes with a body of content_type (NULL: JSON); the JSON
 * answer (caller frees). Fails the test unless the HTTP status is want. */
static json_t *api_typed(struct fixture *f, const char *method, const char *route,
			 const char *content_type, const void *body, size_t len, int want)
{
	static char resp[256 * 1024];
	char path[512];
	snprintf(path, sizeof(path), "/v5/iot/p1/devices/%s%s", f->dev, route);
	int status = content_type
			     ? http_call_type(&f->d, method, path, content_type, body, len, resp,
					      sizeof(resp))
			     : http_call(&f->d, method, path, body, resp, sizeof(resp));
	if (status != want)
		fail_msg("%s %s: HTTP %d (want %d) %.300s\nsim: %s", method, route, status, want,
			 resp, sim_output(f));
	if (status == 204)
		return NULL;
	json_t *j = json_loads(resp, 0, NULL);
	if (!j)
		fail_msg("%s %s: not JSON: %.300s", method, route, resp);
	return j;
}

static json_t *api(struct fixture *f, const char *method, const char *route, const char *body,
		   int want)
{
	return api_typed(f, method, route, NULL, body, 0, want);
}

static const char *str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "";
}

static void expect_code(const json_t *a, const char *code, const char *what)
{
	if (strcmp(str(a, "code"), code) != 0) {
		char *text = json_dumps(a, JSON_COMPACT);
		fail_msg("%s: want %s, got %.300s", what, code, text);
	}
}

/* The value of path in an answer's "values" (NULL when absent). */
static json_t *value_of(const json_t *answer, const char *path)
{
	size_t i;
	json_t *v;
	json_array_foreach(json_object_get(answer, "values"), i, v)
	{
		if (strcmp(str(v, "path"), path) == 0)
			return json_object_get(v, "value");
	}
	return NULL;
}

static int count_notifications(const struct stream *s, json_int_t id)
{
	char needle[64];
	snprintf(needle, sizeof(needle), "\"observation_id\":%lld,", (long long)id);
	int n = 0;
	for (const char *p = strstr(s->buf, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

static void wait_notifications(struct fixture *f, struct stream *s, json_int_t id, int want)
{
	for (int waited = 0; waited < 4000; waited += 50) {
		if (count_notifications(s, id) >= want)
			return;
		stream_wait(s, "\x01never", 50);
	}
	fail_msg("%d notifications of %lld: %s\nsim: %s", want, (long long)id, s->buf,
		 sim_output(f));
}

/* Observe-Composite in format, two notifications, then the API's cancel: the device ends
 * it, and nothing more comes. */
static void cancel_composite_in(struct fixture *f, struct stream *s, const char *format)
{
	char body[256], route[64], line[64];
	snprintf(body, sizeof(body),
		 "{\"operation\":\"observe\",\"format\":\"%s\",\"paths\":[\"/3/0/9\",\"/3/0/10\"]}",
		 format);
	json_t *a = api(f, "POST", "/lwm2m-composite?timeout=5", body, 200);
	expect_code(a, "2.05", "observe-composite");
	assert_string_equal(str(a, "format"), format);
	json_int_t id = json_integer_value(json_object_get(a, "observation_id"));
	assert_true(id > 0);
	json_decref(a);
	wait_notifications(f, s, id, 2);

	snprintf(route, sizeof(route), "/observations/%lld?timeout=5", (long long)id);
	a = api(f, "DELETE", route, NULL, 200);
	assert_string_equal(str(a, "operation"), "observe-composite-cancel");
	expect_code(a, "2.05", "cancel observe-composite");
	assert_true(json_is_integer(value_of(a, "/3/0/10")));
	json_decref(a);
	assert_int_equal(sim_wait(f, "cancelled observation (composite) by FETCH Observe 1",
				  2000),
			 0);
	a = api(f, "GET", "/observations", NULL, 200);
	assert_int_equal(json_array_size(json_object_get(a, "observations")), 0);
	json_decref(a);
	/* The battery drains every 250 ms: an observation still alive would notify. */
	int before = count_notifications(s, id);
	stream_wait(s, "\x01never", 1500);
	assert_int_equal(count_notifications(s, id), before);
	snprintf(line, sizeof(line), "notified (composite) seq=%d", before + 2);
	assert_null(strstr(sim_output(f), line));
}

static void test_cancel_observe_composite(void **state)
{
	struct fixture *f = *state;
	struct stream s;
	char q[64];
	snprintf(q, sizeof(q), "?device_id=%s", f->dev);
	stream_open(&s, &f->d, q);
	sim_start(f, "--notify-ms 250");
	cancel_composite_in(f, &s, "senml-json");
	cancel_composite_in(f, &s, "senml-cbor");
	close(s.fd);
}

static uint8_t *pattern(size_t len, unsigned seed)
{
	uint8_t *p = malloc(len);
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(i * seed + i / 253);
	return p;
}

static char *base64_of(const uint8_t *data, size_t len)
{
	char *s = malloc(BASE64_ENCODED_LEN(len) + 1);
	base64_encode(data, len, s);
	return s;
}

/* Reads path in format and checks the value is data. */
static void expect_read_back(struct fixture *f, const char *path, const char *format,
			     const uint8_t *data, size_t len)
{
	char route[128];
	snprintf(route, sizeof(route), "/lwm2m%s?timeout=10&format=%s", path, format);
	json_t *a = api(f, "GET", route, NULL, 200);
	expect_code(a, "2.05", route);
	char *want = base64_of(data, len);
	json_t *v = value_of(a, path);
	if (!json_is_string(v) || strcmp(json_string_value(v), want) != 0)
		fail_msg("%s: the value read back is not the %zu bytes written", route, len);
	free(want);
	json_decref(a);
}

static void test_big_opaque(void **state)
{
	struct fixture *f = *state;
	sim_start(f, "");
	/* 1025 bytes in JSON (TLV on the wire): one byte over a block. */
	uint8_t *small = pattern(1025, 7);
	char *b64 = base64_of(small, 1025);
	char *body = malloc(strlen(b64) + 128);
	sprintf(body, "{\"values\":[{\"path\":\"/19/0/0/0\",\"value\":\"%s\"}]}", b64);
	json_t *a = api(f, "PUT", "/lwm2m/19/0/0/0?timeout=10", body, 200);
	expect_code(a, "2.04", "write 1025 bytes");
	json_decref(a);
	expect_read_back(f, "/19/0/0/0", "opaque", small, 1025);
	free(body);
	free(b64);
	free(small);

	/* 60 KiB as the body itself; read back in opaque and in TLV. */
	size_t len = 60 * 1024;
	uint8_t *big = pattern(len, 13);
	a = api_typed(f, "PUT", "/lwm2m/19/1/0/0?timeout=20", "application/octet-stream", big,
		      len, 200);
	expect_code(a, "2.04", "write 60 KiB");
	json_decref(a);
	expect_read_back(f, "/19/1/0/0", "opaque", big, len);
	expect_read_back(f, "/19/1/0/0", "tlv", big, len);
	free(big);
	assert_int_equal(sim_wait(f, "answered PUT /19/1/0/0 2.04", 1000), 0);
}

static void test_create_without_instance(void **state)
{
	struct fixture *f = *state;
	sim_start(f, "");
	/* The device has /19/0 and /19/1: it picks 2. */
	json_t *a = api(f, "POST", "/lwm2m/19?timeout=5",
			"{\"values\":[{\"path\":\"0/0\",\"value\":\"AAE=\"},"
			"{\"path\":\"3\",\"value\":\"picked\"}]}",
			200);
	expect_code(a, "2.01", "create");
	assert_string_equal(str(a, "location"), "/19/2");
	assert_int_equal(json_integer_value(json_object_get(a, "instance_id")), 2);
	json_decref(a);
	a = api(f, "GET", "/lwm2m/19/2?timeout=5&format=senml-json", NULL, 200);
	expect_code(a, "2.05", "read the new instance");
	assert_string_equal(json_string_value(value_of(a, "/19/2/0/0")), "AAE=");
	assert_string_equal(json_string_value(value_of(a, "/19/2/3")), "picked");
	json_decref(a);
	/* And again: 3. */
	a = api(f, "POST", "/lwm2m/19?timeout=5",
		"{\"values\":[{\"path\":\"3\",\"value\":\"again\"}]}", 200);
	assert_int_equal(json_integer_value(json_object_get(a, "instance_id")), 3);
	json_decref(a);
	assert_int_equal(sim_wait(f, "updated 2.04", 3000), 0);
}

#define BOTH(fn)                                                                               \
	cmocka_unit_test_setup_teardown(fn, setup_udp, teardown),                              \
		cmocka_unit_test_setup_teardown(fn, setup_dtls, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		BOTH(test_cancel_observe_composite),
		BOTH(test_big_opaque),
		BOTH(test_create_without_instance),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
