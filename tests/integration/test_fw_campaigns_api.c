/*
 * Integration test: the firmware campaign routes (docs/firmware.md "Campaigns") on the
 * real daemon. A package is uploaded, a campaign created over the three devices of a
 * product none of which is registered (so they stay waiting or starting), then listed,
 * read, its devices listed by state, paused, resumed, refused deletion while it runs,
 * cancelled (every device cancelled) and deleted; a campaign over a device list; the
 * validation errors name their field; another project's campaign is a 404.
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
#include <jansson.h>

#include "harness.h"

static json_t *parse(const char *text)
{
	json_t *o = json_loads(text, 0, NULL);
	if (!o)
		fail_msg("not JSON: %s", text);
	return o;
}

static void str_field(const char *json, const char *name, char *out, size_t cap)
{
	json_t *o = parse(json);
	const char *v = json_string_value(json_object_get(o, name));
	if (!v) {
		fail_msg("no %s in %s", name, json);
		return;
	}
	snprintf(out, cap, "%s", v);
	json_decref(o);
}

static json_int_t count_of(const char *campaign_json, const char *state)
{
	json_t *o = parse(campaign_json);
	json_int_t n = json_integer_value(json_object_get(json_object_get(o, "counts"), state));
	json_decref(o);
	return n;
}

static void assert_status(const char *campaign_json, const char *want)
{
	char status[32];
	str_field(campaign_json, "status", status, sizeof(status));
	assert_string_equal(status, want);
}

/* Creates a device of the product, and gives its id. */
static void create_device(struct daemon_proc *d, const char *product, const char *node,
			  char id[160])
{
	char body[256], resp[4096];
	snprintf(body, sizeof(body), "{\"node_id\":\"%s\",\"product_id\":\"%s\"}", node,
		 product);
	int status = http_call(d, "POST", "/v5/iot/p1/devices", body, resp, sizeof(resp));
	if (status != 201)
		fail_msg("device create: %d %s", status, resp);
	str_field(resp, "device_id", id, 160);
}

static void upload_package(struct daemon_proc *d, char id[160])
{
	static const char bytes[] = "firmware 2.0 bytes, a few of them";
	char resp[4096];
	int status = http_call_type(d, "POST", "/v5/iot/p1/firmware?product_id=meter&version=2.0",
				    "application/octet-stream", bytes, sizeof(bytes) - 1, resp,
				    sizeof(resp));
	if (status != 201)
		fail_msg("package upload: %d %s", status, resp);
	str_field(resp, "package_id", id, 160);
}

/* The campaign's devices in state (NULL: all): how many. */
static size_t devices_in(struct daemon_proc *d, const char *id, const char *state)
{
	char path[256], resp[16384];
	snprintf(path, sizeof(path), "/v5/iot/p1/firmware-campaigns/%s/devices%s%s", id,
		 state ? "?state=" : "", state ? state : "");
	assert_int_equal(http_call(d, "GET", path, NULL, resp, sizeof(resp)), 200);
	json_t *o = parse(resp);
	size_t n = json_array_size(json_object_get(o, "devices"));
	json_decref(o);
	return n;
}

static int campaign_call(struct daemon_proc *d, const char *method, const char *id,
			 const char *action, char *resp, size_t cap)
{
	char path[256];
	snprintf(path, sizeof(path), "/v5/iot/p1/firmware-campaigns/%s%s%s", id,
		 action ? "/" : "", action ? action : "");
	return http_call(d, method, path, NULL, resp, cap);
}

static void expect_400(struct daemon_proc *d, const char *body, const char *needle)
{
	char resp[4096];
	int status = http_call(d, "POST", "/v5/iot/p1/firmware-campaigns", body, resp,
			       sizeof(resp));
	if (status != 400)
		fail_msg("%s: %d %s", body, status, resp);
	assert_in(resp, "error_code");
	assert_in(resp, needle);
}

static void test_campaign_lifecycle(void **state)
{
	(void)state;
	struct daemon_proc d;
	char resp[16384], body[1024], pkg[160], id[160], dev[3][160], other[160];
	daemon_start(&d, NULL);
	api_create_product(&d, "meter");
	api_create_product(&d, "tracker");
	for (int i = 0; i < 3; i++) {
		char node[32];
		snprintf(node, sizeof(node), "fwc-node-%d", i);
		create_device(&d, "meter", node, dev[i]);
	}
	create_device(&d, "tracker", "fwc-tracker", other);
	upload_package(&d, pkg);

	/* Validation: each error names its field. */
	expect_400(&d, "{\"targets\":{\"product_id\":\"meter\"}}", "package_id");
	snprintf(body, sizeof(body), "{\"package_id\":\"%s\"}", pkg);
	expect_400(&d, body, "targets");
	snprintf(body, sizeof(body),
		 "{\"package_id\":\"%s\",\"targets\":{\"product_id\":\"meter\"},"
		 "\"max_concurrent\":0}",
		 pkg);
	expect_400(&d, body, "max_concurrent");
	snprintf(body, sizeof(body),
		 "{\"package_id\":\"%s\",\"targets\":{\"product_id\":\"meter\"},"
		 "\"delivery\":\"carrier-pigeon\"}",
		 pkg);
	expect_400(&d, body, "delivery");
	snprintf(body, sizeof(body),
		 "{\"package_id\":\"%s\",\"targets\":{\"product_id\":\"meter\"},\"retrys\":1}",
		 pkg);
	expect_400(&d, body, "retrys");
	snprintf(body, sizeof(body),
		 "{\"package_id\":\"%s\",\"targets\":{\"device_ids\":[\"%s\",\"%s\"]}}", pkg,
		 dev[0], other);
	expect_400(&d, body, "targets.device_ids[1]");
	snprintf(body, sizeof(body),
		 "{\"package_id\":\"%s\",\"targets\":{\"product_id\":\"meter\","
		 "\"from_versions\":[\"\"]}}",
		 pkg);
	expect_400(&d, body, "targets.from_versions[0]");
	assert_int_equal(http_call(&d, "POST", "/v5/iot/p1/firmware-campaigns",
				   "{\"package_id\":\"nope\",\"targets\":{\"product_id\":\"meter\"}}",
				   resp, sizeof(resp)),
			 404);
	assert_in(resp, "package_id");

	/* A campaign over the product: three devices, none registered. */
	snprintf(body, sizeof(body),
		 "{\"name\":\"meters to 2.0\",\"package_id\":\"%s\","
		 "\"targets\":{\"product_id\":\"meter\",\"from_versions\":[\"1.0\"]},"
		 "\"max_concurrent\":2,\"rate_per_minute\":600}",
		 pkg);
	assert_int_equal(http_call(&d, "POST", "/v5/iot/p1/firmware-campaigns", body, resp,
				   sizeof(resp)),
			 201);
	str_field(resp, "campaign_id", id, sizeof(id));
	assert_status(resp, "running");
	assert_in(resp, "\"targets\":3");
	assert_in(resp, "\"name\":\"meters to 2.0\"");
	assert_in(resp, "\"retries\":2"); /* the defaults filled in */
	assert_in(resp, "\"from_versions\":[\"1.0\"]");

	/* Within a few ticks two start (max_concurrent); none can end. */
	for (int i = 0; i < 50; i++) {
		assert_int_equal(campaign_call(&d, "GET", id, NULL, resp, sizeof(resp)), 200);
		if (count_of(resp, "waiting") == 1)
			break;
		sleep_ms(100);
	}
	assert_int_equal(count_of(resp, "waiting") + count_of(resp, "starting"), 3);
	assert_int_equal(count_of(resp, "waiting"), 1);
	assert_int_equal(devices_in(&d, id, NULL), 3);
	assert_int_equal(devices_in(&d, id, "starting"), 2);
	assert_int_equal(devices_in(&d, id, "waiting"), 1);
	assert_int_equal(devices_in(&d, id, "succeeded"), 0);
	assert_int_equal(campaign_call(&d, "GET", id, "devices?state=bogus", resp, sizeof(resp)),
			 400);
	assert_in(resp, "state");
	/* Paging by marker. */
	char path[256];
	snprintf(path, sizeof(path), "/v5/iot/p1/firmware-campaigns/%s/devices?limit=2", id);
	assert_int_equal(http_call(&d, "GET", path, NULL, resp, sizeof(resp)), 200);
	assert_in(resp, "\"marker\":\"1\"");
	snprintf(path, sizeof(path),
		 "/v5/iot/p1/firmware-campaigns/%s/devices?limit=2&marker=1", id);
	assert_int_equal(http_call(&d, "GET", path, NULL, resp, sizeof(resp)), 200);
	assert_in(resp, dev[2]);
	assert_in(resp, "\"marker\":null");

	assert_int_equal(http_call(&d, "GET", "/v5/iot/p1/firmware-campaigns", NULL, resp,
				   sizeof(resp)),
			 200);
	assert_in(resp, "\"count\":1");
	assert_in(resp, id);

	/* Pause, resume; delete refused while it runs. */
	assert_int_equal(campaign_call(&d, "POST", id, "pause", resp, sizeof(resp)), 200);
	assert_status(resp, "paused");
	assert_int_equal(campaign_call(&d, "POST", id, "pause", resp, sizeof(resp)), 409);
	assert_int_equal(campaign_call(&d, "DELETE", id, NULL, resp, sizeof(resp)), 409);
	assert_int_equal(campaign_call(&d, "POST", id, "resume", resp, sizeof(resp)), 200);
	assert_status(resp, "running");
	assert_int_equal(campaign_call(&d, "DELETE", id, NULL, resp, sizeof(resp)), 409);

	/* Another project sees nothing of it. */
	char token2[80];
	daemon_token_create(&d, "p2", token2);
	snprintf(path, sizeof(path), "/v5/iot/p2/firmware-campaigns/%s", id);
	assert_int_equal(http_call_auth(&d, "GET", path, NULL, token2, resp, sizeof(resp)), 404);
	snprintf(path, sizeof(path), "/v5/iot/p2/firmware-campaigns/%s/cancel", id);
	assert_int_equal(http_call_auth(&d, "POST", path, NULL, token2, resp, sizeof(resp)),
			 404);

	/* Cancel: every device not ended is cancelled. */
	assert_int_equal(campaign_call(&d, "POST", id, "cancel", resp, sizeof(resp)), 200);
	assert_status(resp, "cancelled");
	assert_int_equal(count_of(resp, "cancelled"), 3);
	assert_int_equal(count_of(resp, "waiting") + count_of(resp, "starting"), 0);
	assert_int_equal(devices_in(&d, id, "cancelled"), 3);
	assert_int_equal(campaign_call(&d, "POST", id, "resume", resp, sizeof(resp)), 409);
	assert_int_equal(campaign_call(&d, "DELETE", id, NULL, resp, sizeof(resp)), 204);
	assert_int_equal(campaign_call(&d, "GET", id, NULL, resp, sizeof(resp)), 404);

	/* A campaign of two listed devices. */
	snprintf(body, sizeof(body),
		 "{\"package_id\":\"%s\",\"targets\":{\"device_ids\":[\"%s\",\"%s\"]},"
		 "\"delivery\":\"push\"}",
		 pkg, dev[2], dev[0]);
	assert_int_equal(http_call(&d, "POST", "/v5/iot/p1/firmware-campaigns", body, resp,
				   sizeof(resp)),
			 201);
	assert_in(resp, "\"targets\":2");
	assert_in(resp, "\"delivery\":\"push\"");
	assert_in(resp, "\"device_count\":2");
	daemon_stop(&d);
	daemon_cleanup(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_campaign_lifecycle),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
