/*
 * Tests of the routes that answer most, at fleet size (issue 15): a device GET and a page
 * of the device list are written as text (api_jsonw), and their answers must be byte for
 * byte what jansson wrote before — the same as the device update's answer, which jansson
 * still builds — whatever the device's strings hold; and the token a request verified is
 * kept for API_TOKEN_CACHE_MS: a revocation through the API is seen at once, one behind
 * the daemon's back (the store changed directly, as `lwm2md token revoke` does) within the
 * bound.
 *
 * api_server on 127.0.0.1:0 on a real libuv loop with an in-memory store, one request a
 * connection (Connection: close), as test_api_server.c does.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <uv.h>

#include "api/api.h"
#include "api/api_internal.h"
#include "store/store.h"
#include "util/addr.h"
#include "util/token.h"

#define RESP_MAX (512 * 1024)

static uv_loop_t loop;
static struct store *store;
static struct api_server *api;
static struct addr api_addr;

struct resp {
	int status;
	char *body; /* NUL-terminated */
	size_t body_len;
};

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One request on a connection of its own; the server's answer until it closes. */
static int http(const char *method, const char *path, const char *token, const char *body,
		struct resp *r)
{
	char req[16384];
	int len = snprintf(req, sizeof(req),
			   "%s %s HTTP/1.1\r\nHost: test\r\nConnection: close\r\n"
			   "X-Auth-Token: %s\r\nContent-Length: %zu\r\n\r\n%s",
			   method, path, token, body ? strlen(body) : 0, body ? body : "");
	assert_true(len > 0 && (size_t)len < sizeof(req));
	struct sockaddr_storage ss;
	size_t sslen = addr_to_sockaddr(&api_addr, &ss);
	char *buf = malloc(RESP_MAX + 1);
	assert_non_null(buf);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&ss, (socklen_t)sslen), 0);
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	size_t sent = 0, got = 0;
	int64_t deadline = now_ms() + 5000;
	for (;;) {
		assert_true(now_ms() < deadline);
		if (sent < (size_t)len) {
			ssize_t n = send(fd, req + sent, (size_t)len - sent, MSG_NOSIGNAL);
			if (n > 0)
				sent += (size_t)n;
		}
		uv_run(&loop, UV_RUN_NOWAIT);
		ssize_t n = recv(fd, buf + got, RESP_MAX - got, 0);
		if (n == 0)
			break;
		if (n > 0) {
			got += (size_t)n;
			assert_true(got < RESP_MAX);
		} else if (errno != EAGAIN && errno != EWOULDBLOCK) {
			break;
		} else {
			usleep(200);
		}
	}
	close(fd);
	buf[got] = '\0';
	char *end = strstr(buf, "\r\n\r\n");
	assert_non_null(end);
	assert_int_equal(sscanf(buf, "HTTP/1.1 %d", &r->status), 1);
	r->body_len = got - (size_t)(end + 4 - buf);
	r->body = malloc(r->body_len + 1);
	assert_non_null(r->body);
	memcpy(r->body, end + 4, r->body_len + 1);
	free(buf);
	return r->status;
}

static int call(const char *method, const char *path, const char *body, struct resp *r)
{
	return http(method, path, "tok", body, r);
}

static void post(const char *path, const char *body)
{
	struct resp r;
	if (call("POST", path, body, &r) != 201)
		fail_msg("POST %s: %d %s", path, r.status, r.body);
	free(r.body);
}

static int setup(void **state)
{
	struct addr bind;
	char hash[TOKEN_HEX_LEN + 1];
	(void)state;
	if (uv_loop_init(&loop) != 0 || store_open(&store, ":memory:") != 0 ||
	    store_project_ensure(store, "p1") != 0)
		return -1;
	token_hash("tok", hash);
	if (store_token_insert(store, "p1", hash) != 0)
		return -1;
	struct api_deps deps = {.store = store};
	if (addr_parse(&bind, "127.0.0.1:0") != 0 || api_server_start(&api, &loop, &bind, &deps) ||
	    api_server_local_addr(api, &api_addr) != 0)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	api_server_stop(api);
	uv_run(&loop, UV_RUN_DEFAULT);
	int rc = uv_loop_close(&loop);
	store_close(store);
	return rc;
}

/* Devices whose strings need every kind of escaping; returns how many. */
static int create_devices(void)
{
	static const char *const bodies[] = {
		"{\"product_id\":\"m\",\"node_id\":\"plain\"}",
		"{\"product_id\":\"m\",\"node_id\":\"esc\",\"device_name\":\"q\\\" b\\\\ s/ t\\t "
		"n\\n r\\r f\\f b\\b c\\u0001\\u001f d\\u007f\","
		"\"description\":\"caf\\u00e9 \\u20ac \\ud83d\\ude00 \\u2028\"}",
		"{\"product_id\":\"m\",\"node_id\":\"fmt\",\"read_format\":\"tlv\","
		"\"auth_info\":{\"secure_access\":true,\"timeout\":3600,"
		"\"secret\":\"00112233445566778899aabbccddeeff\"}}",
	};
	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++)
		post("/v5/iot/p1/devices", bodies[i]);
	/* A name of the longest length, and one that is not UTF-8 (only the store can hold
	 * it: the API refuses such a body), which both writers show as "". */
	char name[STORE_NAME_MAX + 1];
	memset(name, 'x', STORE_NAME_MAX);
	name[STORE_NAME_MAX] = '\0';
	char body[512];
	snprintf(body, sizeof(body), "{\"product_id\":\"m\",\"node_id\":\"long\",\"device_name\":\"%s\"}",
		 name);
	post("/v5/iot/p1/devices", body);
	struct store_device d;
	memset(&d, 0, sizeof(d));
	snprintf(d.project_id, sizeof(d.project_id), "p1");
	snprintf(d.product_id, sizeof(d.product_id), "m");
	snprintf(d.node_id, sizeof(d.node_id), "bad");
	snprintf(d.device_id, sizeof(d.device_id), "m_bad");
	snprintf(d.device_name, sizeof(d.device_name), "bad \xff name");
	snprintf(d.secret, sizeof(d.secret), "00112233445566778899aabbccddeeff");
	d.read_format = -1;
	d.create_time = 253402300799; /* 9999-12-31T23:59:59Z */
	assert_int_equal(store_device_insert(store, &d), 0);
	return 5;
}

static void test_get_and_list_are_what_jansson_wrote(void **state)
{
	(void)state;
	post("/v5/iot/p1/products", "{\"product_id\":\"m\",\"name\":\"Meter\"}");
	int n = create_devices();
	struct resp list;
	assert_int_equal(call("GET", "/v5/iot/p1/devices?limit=50", NULL, &list), 200);
	json_t *page = json_loads(list.body, 0, NULL);
	assert_non_null(page);
	/* The whole page: jansson's compact dump of what it reads (jansson keeps the
	 * members' order), and a line end. */
	char *again = json_dumps(page, JSON_COMPACT);
	assert_non_null(again);
	assert_int_equal(list.body_len, strlen(again) + 1);
	assert_memory_equal(list.body, again, strlen(again));
	assert_int_equal(list.body[list.body_len - 1], '\n');
	free(again);
	json_t *devices = json_object_get(page, "devices");
	assert_int_equal(json_array_size(devices), n);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(page, "page"), "count")),
			 n);
	size_t i;
	json_t *item;
	json_array_foreach(devices, i, item)
	{
		const char *id = json_string_value(json_object_get(item, "device_id"));
		char path[128];
		snprintf(path, sizeof(path), "/v5/iot/p1/devices/%s", id);
		struct resp get, put;
		assert_int_equal(call("GET", path, NULL, &get), 200);
		/* An update that changes nothing answers the device as jansson builds it. */
		assert_int_equal(call("PUT", path, "{}", &put), 200);
		if (get.body_len != put.body_len || memcmp(get.body, put.body, get.body_len) != 0)
			fail_msg("%s: GET %s\nPUT %s", id, get.body, put.body);
		/* The list's item is the GET's device (no registration: the same members). */
		get.body[get.body_len - 1] = '\0';
		assert_non_null(strstr(list.body, get.body));
		free(get.body);
		free(put.body);
	}
	assert_non_null(strstr(list.body, "\"device_name\":\"\""));    /* not UTF-8 */
	assert_non_null(strstr(list.body, "\"9999123" "1T235959Z\"")); /* the last time */
	assert_non_null(strstr(list.body, "c\\u0001\\u001F d\x7f"));   /* jansson's escapes */
	json_decref(page);
	free(list.body);
	/* A page with a marker, and an empty one. */
	struct resp r;
	assert_int_equal(call("GET", "/v5/iot/p1/devices?limit=2", NULL, &r), 200);
	assert_non_null(strstr(r.body, "],\"page\":{\"count\":5,\"count_capped\":false,"
				       "\"marker\":\"r2\"}}\n"));
	free(r.body);
	assert_int_equal(call("GET", "/v5/iot/p1/devices?limit=2&status=ONLINE", NULL, &r), 200);
	assert_string_equal(r.body, "{\"devices\":[],\"page\":{\"count\":0,\"count_capped\":false}}\n");
	free(r.body);
	/* Errors stay jansson's. */
	assert_int_equal(call("GET", "/v5/iot/p1/devices?marker=zz", NULL, &r), 400);
	assert_non_null(strstr(r.body, "\"error_code\":\"IOTDA.000400\""));
	free(r.body);
	assert_int_equal(call("GET", "/v5/iot/p1/devices/none", NULL, &r), 404);
	free(r.body);
}

/* The token's id, from GET /v5/token. */
static void token_id(char id[STORE_TOKEN_ID_LEN + 1])
{
	struct resp r;
	assert_int_equal(call("GET", "/v5/token", NULL, &r), 200);
	json_t *o = json_loads(r.body, 0, NULL);
	assert_non_null(o);
	snprintf(id, STORE_TOKEN_ID_LEN + 1, "%s", json_string_value(json_object_get(o, "token_id")));
	json_decref(o);
	free(r.body);
}

static void test_token_revoked_behind_the_daemon(void **state)
{
	(void)state;
	char id[STORE_TOKEN_ID_LEN + 1];
	token_id(id); /* verified: kept */
	/* Gone from the store, as another process revokes it: seen within the bound. */
	assert_int_equal(store_token_delete(store, NULL, id, NULL), 0);
	usleep(2 * API_TOKEN_CACHE_MS * 1000);
	struct resp r;
	assert_int_equal(call("GET", "/v5/token", NULL, &r), 401);
	free(r.body);
	/* And an unknown token is never kept: put back, it works at once. */
	char hash[TOKEN_HEX_LEN + 1];
	token_hash("tok", hash);
	assert_int_equal(store_token_insert(store, "p1", hash), 0);
	assert_int_equal(call("GET", "/v5/token", NULL, &r), 200);
	free(r.body);
}

static void test_token_revoked_through_the_api(void **state)
{
	(void)state;
	char id[STORE_TOKEN_ID_LEN + 1], path[64];
	token_id(id);
	snprintf(path, sizeof(path), "/v5/iot/p1/tokens/%s", id);
	struct resp r;
	/* It revokes itself; its next request, in the same breath, is refused. */
	assert_int_equal(call("DELETE", path, NULL, &r), 204);
	free(r.body);
	assert_int_equal(call("GET", "/v5/token", NULL, &r), 401);
	free(r.body);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_get_and_list_are_what_jansson_wrote, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_token_revoked_behind_the_daemon, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_token_revoked_through_the_api, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
