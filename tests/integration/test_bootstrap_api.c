/*
 * Integration tests of the bootstrap configuration routes (api_bootstrap.c,
 * docs/bootstrap.md "The API") against the real daemon; no bootstrap listener is needed.
 *
 * Covered: a device's configuration put, shown without its key, read back with its
 * effective source, deleted; 400s naming the field; 404 for an unknown device or product
 * and for another project's; 409 for a bootstrap identity another device has, as its
 * identity or as its node ID; a product's template, which a device without its own
 * configuration shows as "template" (200, not 404); the device's status and history as
 * the store holds them (rows written with the daemon stopped, shown after a restart); and
 * a deleted device's configuration gone with it.
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
#include <jansson.h>

#include "harness.h"
#include "store/store.h"
#include "store/store_bootstrap.h"

#define KEY "00112233445566778899aabbccddeeff"
#define MASTER "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"

static struct daemon_proc daemon_;

static void create_device(const char *device_id, const char *node_id)
{
	char body[512], resp[4096];
	snprintf(body, sizeof(body),
		 "{\"device_id\":\"%s\",\"node_id\":\"%s\",\"product_id\":\"meter\"}", device_id,
		 node_id);
	int status = http_call(&daemon_, "POST", "/v5/iot/p1/devices", body, resp, sizeof(resp));
	if (status != 201)
		fail_msg("device create: %d %s", status, resp);
}

static int group_setup(void **state)
{
	(void)state;
	daemon_start(&daemon_, NULL);
	api_create_product(&daemon_, "meter");
	create_device("dev-a", "node-a");
	create_device("dev-b", "node-b");
	create_device("dev-c", "node-c");
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	daemon_cleanup(&daemon_);
	return 0;
}

/* method path [body] → want; the answer parsed (NULL for an empty one). */
static json_t *call(const char *method, const char *path, const char *body, int want)
{
	char resp[16384];
	int status = http_call(&daemon_, method, path, body, resp, sizeof(resp));
	if (status != want)
		fail_msg("%s %s: %d (wanted %d) %s", method, path, status, want, resp);
	return resp[0] ? json_loads(resp, 0, NULL) : NULL;
}

static void expect_error(const char *method, const char *path, const char *body, int want,
			 const char *msg)
{
	json_t *o = call(method, path, body, want);
	const char *got = json_string_value(json_object_get(o, "error_msg"));
	if (!got || !strstr(got, msg))
		fail_msg("%s %s: error_msg \"%s\", wanted \"%s\"", method, path, got ? got : "",
			 msg);
	json_decref(o);
}

static const char *str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	assert_non_null(s);
	return s;
}

static void test_device_config(void **state)
{
	(void)state;
	const char *path = "/v5/iot/p1/devices/dev-a/bootstrap";
	/* Nothing yet: 200, effective none. */
	json_t *o = call("GET", path, NULL, 200);
	assert_string_equal(str(o, "effective"), "none");
	assert_true(json_is_null(json_object_get(o, "status")));
	assert_int_equal(json_array_size(json_object_get(o, "history")), 0);
	json_decref(o);
	expect_error("DELETE", path, NULL, 404, "bootstrap configuration not found");

	o = call("PUT", path,
		 "{\"bs_key\":\"" KEY "\",\"bs_identity\":\"\",\"lifetime\":3600,"
		 "\"server_uri\":\"coaps://mgmt.example.com:5684\",\"pmin\":5,\"pmax\":60}",
		 200);
	assert_string_equal(str(o, "bs_identity"), "node-a"); /* "" is the node ID */
	assert_true(json_is_true(json_object_get(o, "has_bs_key")));
	assert_null(json_object_get(o, "bs_key"));
	assert_int_equal(json_integer_value(json_object_get(o, "lifetime")), 3600);
	assert_string_equal(str(o, "security"), "psk");
	assert_non_null(json_object_get(o, "update_time"));
	json_decref(o);

	char resp[16384];
	assert_int_equal(http_call(&daemon_, "GET", path, NULL, resp, sizeof(resp)), 200);
	assert_null(strstr(resp, KEY)); /* the key never comes back */
	o = json_loads(resp, 0, NULL);
	assert_string_equal(str(o, "effective"), "device");
	assert_string_equal(str(o, "server_uri"), "coaps://mgmt.example.com:5684");
	assert_int_equal(json_integer_value(json_object_get(o, "pmax")), 60);
	assert_true(json_is_true(json_object_get(o, "has_bs_key")));
	json_decref(o);

	/* A PUT replaces the whole configuration: absent fields are their defaults. */
	o = call("PUT", path, "{\"allow_plain\":true,\"bs_identity\":\"a-boot\"}", 200);
	assert_true(json_is_false(json_object_get(o, "has_bs_key")));
	assert_int_equal(json_integer_value(json_object_get(o, "lifetime")), 86400);
	assert_string_equal(str(o, "bs_identity"), "a-boot");
	json_decref(o);
}

static void test_bad_bodies(void **state)
{
	(void)state;
	const char *path = "/v5/iot/p1/devices/dev-b/bootstrap";
	expect_error("PUT", path, "{\"allow_plain\":true,\"colour\":1}", 400,
		     "unknown field \"colour\"");
	expect_error("PUT", path, "{\"bs_key\":\"abc\"}", 400, "bs_key must be 16-64 hex digits");
	expect_error("PUT", path, "{\"allow_plain\":true,\"lifetime\":10}", 400,
		     "lifetime must be an integer in 60-31536000");
	expect_error("PUT", path, "{\"allow_plain\":true,\"server_uri\":\"http://x:1\"}", 400,
		     "server_uri must be");
	expect_error("PUT", path, "{}", 400, "give bs_key or allow_plain");
	expect_error("PUT", path, "[1]", 400, "");
	expect_error("PUT", path, "{\"allow_plain\":true,\"master_key\":\"" MASTER "\"}", 400,
		     "master_key is a template's field");
	/* Nothing was stored. */
	json_t *o = call("GET", path, NULL, 200);
	assert_string_equal(str(o, "effective"), "none");
	json_decref(o);
}

static void test_not_found(void **state)
{
	(void)state;
	expect_error("PUT", "/v5/iot/p1/devices/nope/bootstrap", "{\"allow_plain\":true}", 404,
		     "device not found");
	expect_error("GET", "/v5/iot/p1/devices/nope/bootstrap", NULL, 404, "device not found");
	expect_error("GET", "/v5/iot/p1/products/nope/bootstrap", NULL, 404, "product not found");
	expect_error("PUT", "/v5/iot/p1/products/nope/bootstrap", "{\"allow_plain\":true}", 404,
		     "product not found");
	/* Another project's token sees none of p1's devices or products. */
	char token[80], resp[4096];
	daemon_token_create(&daemon_, "p2", token);
	assert_int_equal(http_call_auth(&daemon_, "GET", "/v5/iot/p2/devices/dev-a/bootstrap",
					NULL, token, resp, sizeof(resp)),
			 404);
	assert_int_equal(http_call_auth(&daemon_, "PUT", "/v5/iot/p2/products/meter/bootstrap",
					"{\"allow_plain\":true}", token, resp, sizeof(resp)),
			 404);
	assert_int_equal(http_call_auth(&daemon_, "GET", "/v5/iot/p1/devices/dev-a/bootstrap",
					NULL, token, resp, sizeof(resp)),
			 404);
	/* A method the route does not have. */
	assert_int_equal(http_call(&daemon_, "POST", "/v5/iot/p1/devices/dev-a/bootstrap", "{}",
				   resp, sizeof(resp)),
			 405);
}

static void test_identity_conflicts(void **state)
{
	(void)state;
	json_t *o = call("PUT", "/v5/iot/p1/devices/dev-a/bootstrap",
			 "{\"allow_plain\":true,\"bs_identity\":\"shared-id\"}", 200);
	json_decref(o);
	/* dev-a's identity, and dev-a's node ID (its identity under a template). */
	expect_error("PUT", "/v5/iot/p1/devices/dev-b/bootstrap",
		     "{\"allow_plain\":true,\"bs_identity\":\"shared-id\"}", 409,
		     "bs_identity shared-id is another device's");
	expect_error("PUT", "/v5/iot/p1/devices/dev-b/bootstrap",
		     "{\"allow_plain\":true,\"bs_identity\":\"node-a\"}", 409,
		     "bs_identity node-a is another device's node ID");
	/* And the other way round: a new device may not take dev-a's identity as its node
	 * ID (bootstrap identities are looked up first: it could never bootstrap). */
	expect_error("POST", "/v5/iot/p1/devices",
		     "{\"node_id\":\"shared-id\",\"product_id\":\"meter\"}", 409,
		     "node_id shared-id is another device's bootstrap identity");
	/* Its own node ID, and an identity freed by a delete, are fine. */
	json_decref(call("PUT", "/v5/iot/p1/devices/dev-b/bootstrap",
			 "{\"allow_plain\":true,\"bs_identity\":\"node-b\"}", 200));
	json_decref(call("DELETE", "/v5/iot/p1/devices/dev-a/bootstrap", NULL, 204));
	json_decref(call("PUT", "/v5/iot/p1/devices/dev-b/bootstrap",
			 "{\"allow_plain\":true,\"bs_identity\":\"shared-id\"}", 200));
	json_decref(call("DELETE", "/v5/iot/p1/devices/dev-b/bootstrap", NULL, 204));
}

static void test_template(void **state)
{
	(void)state;
	const char *tpath = "/v5/iot/p1/products/meter/bootstrap";
	expect_error("GET", tpath, NULL, 404, "bootstrap template not found");
	expect_error("PUT", tpath, "{\"bs_key\":\"" KEY "\"}", 400, "bs_key is a device's field");
	expect_error("PUT", tpath, "{\"master_key\":\"0011223344556677\"}", 400,
		     "master_key must be 32-64 hex digits");
	expect_error("PUT", tpath, "{\"lifetime\":600}", 400, "give master_key or allow_plain");
	json_t *o = call("PUT", tpath,
			 "{\"master_key\":\"" MASTER "\",\"security\":\"nosec\","
			 "\"server_uri\":\"coap://10.0.0.1:5683\"}",
			 200);
	assert_true(json_is_true(json_object_get(o, "has_master_key")));
	assert_null(json_object_get(o, "master_key"));
	assert_null(json_object_get(o, "bs_identity"));
	json_decref(o);
	char resp[16384];
	assert_int_equal(http_call(&daemon_, "GET", tpath, NULL, resp, sizeof(resp)), 200);
	assert_null(strstr(resp, MASTER));
	assert_in(resp, "\"security\":\"nosec\"");

	/* dev-c has no configuration of its own: its product's applies, with its node ID. */
	o = call("GET", "/v5/iot/p1/devices/dev-c/bootstrap", NULL, 200);
	assert_string_equal(str(o, "effective"), "template");
	assert_string_equal(str(o, "bs_identity"), "node-c");
	assert_string_equal(str(o, "server_uri"), "coap://10.0.0.1:5683");
	assert_true(json_is_array(json_object_get(o, "history")));
	json_decref(o);
	/* Its own, once given, wins. */
	json_decref(call("PUT", "/v5/iot/p1/devices/dev-c/bootstrap", "{\"allow_plain\":true}",
			 200));
	o = call("GET", "/v5/iot/p1/devices/dev-c/bootstrap", NULL, 200);
	assert_string_equal(str(o, "effective"), "device");
	json_decref(o);
	json_decref(call("DELETE", "/v5/iot/p1/devices/dev-c/bootstrap", NULL, 204));

	json_decref(call("DELETE", tpath, NULL, 204));
	expect_error("DELETE", tpath, NULL, 404, "bootstrap template not found");
	o = call("GET", "/v5/iot/p1/devices/dev-c/bootstrap", NULL, 200);
	assert_string_equal(str(o, "effective"), "none");
	json_decref(o);
}

static void add_event(struct store *s, const char *device, int64_t ms, const char *result,
		      const char *reason, const char *transport)
{
	struct store_bs_event e = {0};
	e.time_ms = ms;
	strcpy(e.result, result);
	strcpy(e.reason, reason);
	strcpy(e.transport, transport);
	assert_int_equal(store_bs_history_add(s, "p1", device, &e), 0);
}

/* The history the bootstrap server records, shown newest first with the newest as
 * "status"; and a deleted device's rows gone with it. */
static void test_history_and_device_delete(void **state)
{
	(void)state;
	json_decref(call("PUT", "/v5/iot/p1/devices/dev-c/bootstrap",
			 "{\"bs_key\":\"" KEY "\",\"bs_identity\":\"c-boot\"}", 200));
	daemon_stop(&daemon_);
	struct store *s;
	assert_int_equal(store_open(&s, daemon_.db), 0);
	add_event(s, "dev-c", 1767225600000LL, "failed", "Finish answered 4.06", "coaps");
	add_event(s, "dev-c", 1767225660000LL, "succeeded", "", "coaps");
	store_close(s);
	daemon_restart(&daemon_, NULL);

	json_t *o = call("GET", "/v5/iot/p1/devices/dev-c/bootstrap", NULL, 200);
	json_t *status = json_object_get(o, "status"), *history = json_object_get(o, "history");
	assert_string_equal(str(status, "result"), "succeeded");
	assert_string_equal(str(status, "time"), "20260101T000100Z");
	assert_string_equal(str(status, "transport"), "coaps");
	assert_int_equal(json_array_size(history), 2);
	json_t *older = json_array_get(history, 1);
	assert_string_equal(str(older, "result"), "failed");
	assert_string_equal(str(older, "reason"), "Finish answered 4.06");
	assert_string_equal(str(older, "time"), "20260101T000000Z");
	json_decref(o);

	/* The device goes, and its configuration and history with it: a new device of the
	 * same id starts with none, and the identity is free. */
	json_decref(call("DELETE", "/v5/iot/p1/devices/dev-c", NULL, 204));
	expect_error("GET", "/v5/iot/p1/devices/dev-c/bootstrap", NULL, 404, "device not found");
	create_device("dev-c", "node-c");
	o = call("GET", "/v5/iot/p1/devices/dev-c/bootstrap", NULL, 200);
	assert_string_equal(str(o, "effective"), "none");
	assert_int_equal(json_array_size(json_object_get(o, "history")), 0);
	json_decref(o);
	json_decref(call("PUT", "/v5/iot/p1/devices/dev-b/bootstrap",
			 "{\"allow_plain\":true,\"bs_identity\":\"c-boot\"}", 200));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_device_config),
		cmocka_unit_test(test_bad_bodies),
		cmocka_unit_test(test_not_found),
		cmocka_unit_test(test_identity_conflicts),
		cmocka_unit_test(test_template),
		cmocka_unit_test(test_history_and_device_delete),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
