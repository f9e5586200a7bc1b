/*
 * Integration test: bulk device registration, POST /v5/iot/{p}/devices/batch (docs/api.md
 * "Create devices in bulk").
 *
 * A batch of 1000 is created and every device reads back one by one, the project's count
 * says 1000, and the secrets the daemon made are in the answer once (never in a GET, not
 * in a repeated batch's answer). Item errors — a node ID twice in the batch, one the store
 * has, an unknown product, a bad field, a missing node_id — leave the other items
 * created. Refused as a whole, with nothing created: 1001 devices, an empty list,
 * malformed JSON, "devices" absent or not an array, an element not an object, a body over
 * the route's limit, no token. A device whose device_id is "batch" keeps its GET. And a
 * SIGKILL right after a 200 loses none of its devices.
 */
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "harness.h"

#define BATCH_PATH "/v5/iot/p1/devices/batch"
#define RESP_MAX (1024 * 1024)
/* One item of the bodies built here at most. */
#define ITEM_MAX 200

/* A body of devices PREFIX<first>..PREFIX<first+n-1> of product meter; those with an odd
 * number bring their own secret. The caller frees it. */
static char *batch_body(const char *prefix, int first, int n)
{
	size_t cap = 64 + (size_t)n * ITEM_MAX;
	char *b = malloc(cap);
	assert_non_null(b);
	size_t len = (size_t)snprintf(b, cap, "{\"devices\":[");
	for (int i = first; i < first + n; i++) {
		int m;
		if (i % 2)
			m = snprintf(b + len, cap - len,
				     "%s{\"node_id\":\"%s%d\",\"product_id\":\"meter\","
				     "\"auth_info\":{\"secure_access\":true,"
				     "\"secret\":\"00112233445566778899aabbccddeeff\"}}",
				     i > first ? "," : "", prefix, i);
		else
			m = snprintf(b + len, cap - len,
				     "%s{\"node_id\":\"%s%d\",\"product_id\":\"meter\"}",
				     i > first ? "," : "", prefix, i);
		assert_true(m > 0 && (size_t)m < cap - len);
		len += (size_t)m;
	}
	snprintf(b + len, cap - len, "]}");
	return b;
}

/* POSTs body to the batch route; the status, the answer parsed into *out when it is JSON. */
static int post_batch(struct daemon_proc *d, const char *body, json_t **out)
{
	char *resp = malloc(RESP_MAX);
	assert_non_null(resp);
	int status = http_call(d, "POST", BATCH_PATH, body, resp, RESP_MAX);
	*out = json_loads(resp, 0, NULL);
	if (!*out)
		print_message("not JSON (%d): %.300s\n", status, resp);
	free(resp);
	return status;
}

static int get_status(struct daemon_proc *d, const char *device_id)
{
	char path[256], resp[8192];
	snprintf(path, sizeof(path), "/v5/iot/p1/devices/%s", device_id);
	return http_call(d, "GET", path, NULL, resp, sizeof(resp));
}

static json_int_t total_devices(struct daemon_proc *d)
{
	char resp[4096];
	assert_int_equal(http_call(d, "GET", "/v5/iot/p1/statistics", NULL, resp, sizeof(resp)),
			 200);
	json_t *j = json_loads(resp, 0, NULL);
	assert_non_null(j);
	json_int_t n = json_integer_value(json_object_get(json_object_get(j, "devices"), "total"));
	json_decref(j);
	return n;
}

static void assert_totals(const json_t *j, json_int_t created, json_int_t failed)
{
	assert_int_equal(json_integer_value(json_object_get(j, "created")), created);
	assert_int_equal(json_integer_value(json_object_get(j, "failed")), failed);
	assert_int_equal(json_array_size(json_object_get(j, "devices")), created + failed);
}

/* Item i of the answer: its index is i. */
static const json_t *item(const json_t *j, size_t i)
{
	const json_t *it = json_array_get(json_object_get(j, "devices"), i);
	assert_non_null(it);
	assert_int_equal(json_integer_value(json_object_get(it, "index")), (json_int_t)i);
	return it;
}

static void assert_item_error(const json_t *j, size_t i, const char *code, const char *msg_part)
{
	const json_t *it = item(j, i);
	assert_null(json_object_get(it, "device_id"));
	assert_string_equal(json_string_value(json_object_get(it, "error_code")), code);
	const char *msg = json_string_value(json_object_get(it, "error_msg"));
	assert_non_null(msg);
	if (!strstr(msg, msg_part))
		fail_msg("item %zu: \"%s\" does not say \"%s\"", i, msg, msg_part);
}

static void test_thousand_created_and_readable(void **state)
{
	(void)state;
	struct daemon_proc d;
	daemon_start(&d, NULL);
	api_create_product(&d, "meter");

	char *body = batch_body("bulk", 0, 1000);
	json_t *j;
	int64_t t0 = mono_ms();
	assert_int_equal(post_batch(&d, body, &j), 200);
	print_message("a batch of 1000 answered in %lld ms\n", (long long)(mono_ms() - t0));
	assert_totals(j, 1000, 0);
	for (size_t i = 0; i < 1000; i++) {
		const json_t *it = item(j, i);
		char want[64];
		snprintf(want, sizeof(want), "bulk%zu", i);
		assert_string_equal(json_string_value(json_object_get(it, "node_id")), want);
		snprintf(want, sizeof(want), "meter_bulk%zu", i);
		assert_string_equal(json_string_value(json_object_get(it, "device_id")), want);
		/* The secret only when the daemon made it: 32 hex digits. */
		const char *secret = json_string_value(json_object_get(it, "secret"));
		if (i % 2) {
			assert_null(secret);
		} else {
			assert_non_null(secret);
			assert_int_equal(strlen(secret), 32);
			assert_int_equal(strspn(secret, "0123456789abcdef"), 32);
		}
		assert_null(json_object_get(it, "error_code"));
	}
	/* Two generated secrets are not the same. */
	assert_string_not_equal(json_string_value(json_object_get(item(j, 0), "secret")),
				json_string_value(json_object_get(item(j, 2), "secret")));
	json_decref(j);

	for (int i = 0; i < 1000; i++) {
		char id[64];
		snprintf(id, sizeof(id), "meter_bulk%d", i);
		assert_int_equal(get_status(&d, id), 200);
	}
	/* A GET never shows the secret. */
	char resp[8192];
	assert_int_equal(
	    http_call(&d, "GET", "/v5/iot/p1/devices/meter_bulk0", NULL, resp, sizeof(resp)), 200);
	assert_null(strstr(resp, "\"secret\""));
	assert_in(resp, "\"secure_access\":false");
	assert_int_equal(
	    http_call(&d, "GET", "/v5/iot/p1/devices/meter_bulk1", NULL, resp, sizeof(resp)), 200);
	assert_in(resp, "\"secure_access\":true");
	assert_int_equal(total_devices(&d), 1000);

	/* The same batch again: each item is a 409, no secret is shown again, nothing added. */
	assert_int_equal(post_batch(&d, body, &j), 200);
	assert_totals(j, 0, 1000);
	for (size_t i = 0; i < 1000; i += 111) {
		assert_item_error(j, i, "IOTDA.000409", "already exists");
		assert_null(json_object_get(item(j, i), "secret"));
	}
	json_decref(j);
	assert_int_equal(total_devices(&d), 1000);
	free(body);
	daemon_stop(&d);
	daemon_cleanup(&d);
}

static void test_item_errors_leave_others_created(void **state)
{
	(void)state;
	struct daemon_proc d;
	daemon_start(&d, NULL);
	api_create_product(&d, "meter");
	api_create_device(&d, "meter", "stored1", false, 0);

	const char *body =
	    "{\"devices\":["
	    "{\"node_id\":\"ok1\",\"product_id\":\"meter\",\"device_name\":\"first\"},"
	    "{\"node_id\":\"ok1\",\"product_id\":\"meter\",\"device_id\":\"other1\"},"
	    "{\"node_id\":\"stored1\",\"product_id\":\"meter\",\"device_id\":\"other2\"},"
	    "{\"node_id\":\"noproduct\",\"product_id\":\"nope\"},"
	    "{\"node_id\":\"badsecret\",\"product_id\":\"meter\","
	    "\"auth_info\":{\"secret\":\"xyz\"}},"
	    "{\"product_id\":\"meter\"},"
	    "{\"node_id\":\"bad node\",\"product_id\":\"meter\"},"
	    "{\"node_id\":\"badfmt\",\"product_id\":\"meter\",\"read_format\":\"nope\"},"
	    "{\"node_id\":\"ok2\",\"product_id\":\"meter\",\"device_id\":\"dev2\","
	    "\"auth_info\":{\"secret\":\"0011223344556677\"}},"
	    /* device_id taken by an earlier item; then its node_id, free, in another. */
	    "{\"node_id\":\"ok3\",\"product_id\":\"meter\",\"device_id\":\"dev2\"},"
	    "{\"node_id\":\"ok3\",\"product_id\":\"meter\"}"
	    "]}";
	json_t *j;
	assert_int_equal(post_batch(&d, body, &j), 200);
	assert_totals(j, 3, 8);
	assert_string_equal(json_string_value(json_object_get(item(j, 0), "device_id")),
			    "meter_ok1");
	assert_item_error(j, 1, "IOTDA.000409", "node_id ok1 already exists");
	assert_item_error(j, 2, "IOTDA.000409", "node_id stored1 already exists");
	assert_item_error(j, 3, "IOTDA.000400", "product_id nope does not exist");
	assert_item_error(j, 4, "IOTDA.000400", "auth_info.secret");
	assert_item_error(j, 5, "IOTDA.000400", "node_id is required");
	assert_item_error(j, 6, "IOTDA.000400", "node_id");
	assert_item_error(j, 7, "IOTDA.000400", "read_format");
	const json_t *last = item(j, 8);
	assert_string_equal(json_string_value(json_object_get(last, "device_id")), "dev2");
	/* A given secret is not echoed; a short one is warned about, as a single create does. */
	assert_null(json_object_get(last, "secret"));
	assert_true(json_is_array(json_object_get(last, "warnings")));
	assert_item_error(j, 9, "IOTDA.000409", "device_id dev2 already exists");
	assert_string_equal(json_string_value(json_object_get(item(j, 10), "device_id")),
			    "meter_ok3");
	json_decref(j);

	assert_int_equal(get_status(&d, "meter_ok1"), 200);
	assert_int_equal(get_status(&d, "dev2"), 200);
	assert_int_equal(get_status(&d, "other1"), 404);
	assert_int_equal(get_status(&d, "other2"), 404);
	assert_int_equal(get_status(&d, "nope_noproduct"), 404);
	assert_int_equal(get_status(&d, "meter_badsecret"), 404);
	assert_int_equal(get_status(&d, "meter_badfmt"), 404);
	/* The first of the two ok1 items is the one stored. */
	char name[64];
	assert_int_equal(api_device_field(&d, "meter_ok1", "device_name", name, sizeof(name)), 0);
	assert_string_equal(name, "first");
	assert_int_equal(get_status(&d, "meter_ok3"), 200);
	assert_int_equal(total_devices(&d), 4);

	/* All items failing: a 200 all the same, nothing created. */
	assert_int_equal(
	    post_batch(&d, "{\"devices\":[{\"node_id\":\"x\",\"product_id\":\"nope\"}]}", &j), 200);
	assert_totals(j, 0, 1);
	json_decref(j);
	assert_int_equal(total_devices(&d), 4);
	daemon_stop(&d);
	daemon_cleanup(&d);
}

/* body is refused with status, and nothing of it is created. */
static void assert_refused(struct daemon_proc *d, const char *body, int status,
			   const char *msg_part)
{
	char resp[4096];
	assert_int_equal(http_call(d, "POST", BATCH_PATH, body, resp, sizeof(resp)), status);
	char code[32];
	snprintf(code, sizeof(code), "\"IOTDA.000%d\"", status);
	assert_in(resp, code);
	assert_in(resp, msg_part);
}

/* Sends only the headers of a POST declaring a body of len bytes; what came back. */
static void declared_length(struct daemon_proc *d, const char *path, size_t len, char *out,
			    size_t cap)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	struct sockaddr_storage ss;
	size_t sl = addr_to_sockaddr(&d->http, &ss);
	assert_int_equal(connect(fd, (struct sockaddr *)&ss, (socklen_t)sl), 0);
	char req[1024];
	int n = snprintf(req, sizeof(req),
			 "POST %s HTTP/1.1\r\nHost: localhost\r\nX-Auth-Token: %s\r\n"
			 "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
			 path, d->token, len);
	assert_int_equal(write(fd, req, (size_t)n), n);
	size_t got = 0;
	while (got + 1 < cap) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, 10000) <= 0)
			break;
		ssize_t r = read(fd, out + got, cap - 1 - got);
		if (r <= 0)
			break;
		got += (size_t)r;
		out[got] = '\0';
		if (strstr(out, "}\n")) /* the whole JSON error */
			break;
	}
	out[got] = '\0';
	close(fd);
}

static void test_whole_body_refused(void **state)
{
	(void)state;
	struct daemon_proc d;
	daemon_start(&d, NULL);
	api_create_product(&d, "meter");

	char *body = batch_body("over", 0, 1001);
	assert_refused(&d, body, 400, "devices must hold 1 to 1000 devices, not 1001");
	free(body);
	assert_refused(&d, "{\"devices\":[]}", 400, "devices must hold 1 to 1000");
	assert_refused(&d, "{\"devices\":[{\"node_id\":\"m1\",\"product_id\":\"meter\"}", 400,
		       "error_msg");
	assert_refused(&d, "[{\"node_id\":\"m1\",\"product_id\":\"meter\"}]", 400, "error_msg");
	assert_refused(&d, "{}", 400, "devices is required");
	assert_refused(&d, "{\"devices\":{\"node_id\":\"m1\",\"product_id\":\"meter\"}}", 400,
		       "devices must be an array");
	assert_refused(&d, "{\"devices\":[{\"node_id\":\"m1\",\"product_id\":\"meter\"},7]}", 400,
		       "devices[1] must be an object");
	assert_refused(&d, "{\"devices\":[{\"node_id\":\"m1\",\"product_id\":\"meter\"},[]]}", 400,
		       "devices[1] must be an object");
	assert_int_equal(get_status(&d, "meter_m1"), 404);
	assert_int_equal(get_status(&d, "meter_over0"), 404);

	/* Over the route's 2 MiB: 413, refused by its declared length before any of it is
	 * sent; the other routes' limit is still 64 KiB. */
	char answer[4096];
	declared_length(&d, BATCH_PATH, 2 * 1024 * 1024 + 1, answer, sizeof(answer));
	assert_in(answer, "HTTP/1.1 413");
	assert_in(answer, "request body is larger than 2097152 bytes");
	declared_length(&d, "/v5/iot/p1/devices", 64 * 1024 + 1, answer, sizeof(answer));
	assert_in(answer, "HTTP/1.1 413");
	assert_in(answer, "request body is larger than 65536 bytes");
	/* A batch over the other routes' 64 KiB is fine here (1000 devices are ~100 KB). */
	body = batch_body("big", 0, 1000);
	assert_true(strlen(body) > 64 * 1024);
	json_t *j;
	assert_int_equal(post_batch(&d, body, &j), 200);
	assert_totals(j, 1000, 0);
	json_decref(j);
	free(body);

	/* Without a token: 401. */
	char resp[4096];
	assert_int_equal(
	    http_call_auth(&d, "POST", BATCH_PATH,
			   "{\"devices\":[{\"node_id\":\"m2\",\"product_id\":\"meter\"}]}", NULL,
			   resp, sizeof(resp)),
	    401);
	assert_int_equal(get_status(&d, "meter_m2"), 404);

	/* A device may be called "batch": its GET, PUT and DELETE are untouched; POST on
	 * another device is a 405. */
	assert_int_equal(
	    http_call(&d, "POST", "/v5/iot/p1/devices",
		      "{\"node_id\":\"b1\",\"product_id\":\"meter\",\"device_id\":\"batch\"}", resp,
		      sizeof(resp)),
	    201);
	assert_int_equal(get_status(&d, "batch"), 200);
	assert_int_equal(
	    http_call(&d, "POST", "/v5/iot/p1/devices/meter_big0", "{}", resp, sizeof(resp)), 405);
	assert_int_equal(
	    http_call(&d, "DELETE", "/v5/iot/p1/devices/batch", NULL, resp, sizeof(resp)), 204);
	daemon_stop(&d);
	daemon_cleanup(&d);
}

static void test_sigkill_after_200_loses_nothing(void **state)
{
	(void)state;
	struct daemon_proc d;
	daemon_start(&d, NULL);
	api_create_product(&d, "meter");

	char *body = batch_body("kill", 0, 1000);
	json_t *j;
	assert_int_equal(post_batch(&d, body, &j), 200);
	/* At once: the answer came after the commit, so nothing is left to write. */
	kill(d.pid, SIGKILL);
	waitpid(d.pid, NULL, 0);
	d.pid = 0;
	close(d.stdout_fd);
	assert_totals(j, 1000, 0);
	json_decref(j);
	free(body);

	daemon_restart(&d, NULL);
	for (int i = 0; i < 1000; i++) {
		char id[64];
		snprintf(id, sizeof(id), "meter_kill%d", i);
		assert_int_equal(get_status(&d, id), 200);
	}
	assert_int_equal(total_devices(&d), 1000);
	daemon_stop(&d);
	daemon_cleanup(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_thousand_created_and_readable),
	    cmocka_unit_test(test_item_errors_leave_others_created),
	    cmocka_unit_test(test_whole_body_refused),
	    cmocka_unit_test(test_sigkill_after_200_loses_nothing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
