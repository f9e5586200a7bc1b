/*
 * The platform's device cache (src/iot/iot_platform_cache.c) is never stale: a report
 * after a change uses the new state. The water meter of test_platform.c reports; between
 * its reports the test changes, through the API, what the cache holds of it — the
 * product's model, its codec, the device itself (deleted and created again with the same
 * node_id, under another product), the product (deleted and created again) — and checks
 * the next report's effect in the shadow. Each change comes right after a report, so the
 * device is in the cache when it happens (the hit counter says so).
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
#include "harness_platform.h"
#include "meter_fixture.h"

/* The meter's layout with the report's flow one byte at offset 2 instead of four:
 * [0, 10, 5, 0, 0, 20] is flow 83886100 with the meter's codec, 5 with this one. */
static char *short_flow_layout(void)
{
	json_t *layout = json_loads(meter_layout, 0, NULL);
	assert_non_null(layout);
	size_t i, k;
	json_t *msg, *field;
	int moved = 0;
	json_array_foreach(json_object_get(layout, "messages"), i, msg) {
		if (json_integer_value(json_object_get(msg, "id")) != 0)
			continue;
		json_array_foreach(json_object_get(msg, "fields"), k, field) {
			if (strcmp(json_string_value(json_object_get(field, "name")), "flow") == 0) {
				json_object_set_new(field, "type", json_string("uint8"));
				moved++;
			}
		}
	}
	assert_int_equal(moved, 1);
	char *text = json_dumps(layout, JSON_COMPACT);
	json_decref(layout);
	return text;
}

/* The meter's model with battery's max lowered to max. */
static json_t *model_with_battery_max(int max)
{
	json_t *caps = json_loads(meter_model, 0, NULL);
	assert_non_null(caps);
	json_t *props = json_object_get(json_array_get(caps, 0), "properties");
	size_t i;
	json_t *def;
	json_array_foreach(props, i, def) {
		if (strcmp(json_string_value(json_object_get(def, "property_name")), "battery") == 0)
			json_object_set_new(def, "max", json_integer(max));
	}
	return caps;
}

/* device_id's reported WaterMeter properties once its version reaches want. */
static json_t *reported_of(struct platform_fixture *f, const char *device_id, int want)
{
	char path[160], resp[8192];
	snprintf(path, sizeof(path), "/v5/iot/p1/devices/%s/shadow", device_id);
	for (int i = 0; i < 150; i++) {
		api_ok(&f->d, "GET", path, NULL, 200, resp, sizeof(resp));
		json_t *j = json_loads(resp, 0, NULL);
		json_t *rep = json_object_get(json_array_get(json_object_get(j, "shadow"), 0),
					      "reported");
		if (rep && json_integer_value(json_object_get(rep, "version")) >= want) {
			assert_int_equal(json_integer_value(json_object_get(rep, "version")), want);
			json_t *props = json_incref(json_object_get(rep, "properties"));
			json_decref(j);
			return props;
		}
		json_decref(j);
		usleep(20000);
	}
	fail_msg("the shadow of %s never reached version %d: %s", device_id, want, resp);
	return NULL;
}

static long long hits(struct platform_fixture *f)
{
	return metric_value(&f->d, "lwm2md_platform_device_cache_hits_total");
}

static const uint8_t report_10_20[] = { 0, 10, 5, 0, 0, 20 };

/* Registered and reported twice: the device is cached (the second report was a hit). */
static void warm(struct platform_fixture *f)
{
	static const uint8_t first[] = { 0, 87, 0x00, 0x01, 0x86, 0xA0 };
	register_and_observe(f, first, sizeof(first));
	json_decref(reported_of(f, "wm_meter1", 1));
	long long before = hits(f);
	static const uint8_t second[] = { 0, 86, 0, 0, 0, 1 };
	device_notify(f, second, sizeof(second));
	json_t *props = reported_of(f, "wm_meter1", 2);
	assert_int_equal(prop(props, "battery"), 86);
	json_decref(props);
	assert_true(hits(f) > before);
}

static int setup_decl(void **state)
{
	*state = platform_start("declarative", meter_model, meter_layout, NULL);
	return 0;
}

static int setup_js(void **state)
{
	*state = platform_start("js", meter_model, meter_script, NULL);
	return 0;
}

/* The product's model changes: the next report is checked against the new one. */
static void test_model_changed(void **state)
{
	struct platform_fixture *f = *state;
	char resp[16384];
	warm(f);
	api_ok(&f->d, "PUT", "/v5/iot/p1/products/wm",
	       json_pack("{s:o}", "service_capabilities", model_with_battery_max(5)), 200, resp,
	       sizeof(resp));
	long long errors = metric_value(&f->d, "lwm2md_codec_errors_total");
	device_notify(f, report_10_20, sizeof(report_10_20)); /* battery 10 > 5: refused */
	for (int i = 0; i < 150 && metric_value(&f->d, "lwm2md_codec_errors_total") == errors; i++)
		usleep(20000);
	assert_int_equal(metric_value(&f->d, "lwm2md_codec_errors_total"), errors + 1);
	static const uint8_t ok[] = { 0, 3, 0, 0, 0, 9 };
	device_notify(f, ok, sizeof(ok));
	json_t *props = reported_of(f, "wm_meter1", 3); /* the refused one did not count */
	assert_int_equal(prop(props, "battery"), 3);
	assert_int_equal(prop(props, "flow"), 9);
	json_decref(props);
}

/* The product's codec is replaced (JavaScript by a declarative one that reads battery
 * elsewhere; declarative by another): the next report decodes with the new one. */
static void test_codec_replaced(void **state)
{
	struct platform_fixture *f = *state;
	warm(f);
	char *layout = short_flow_layout();
	put_codec(f, "declarative", layout);
	free(layout);
	device_notify(f, report_10_20, sizeof(report_10_20));
	json_t *props = reported_of(f, "wm_meter1", 3);
	assert_int_equal(prop(props, "battery"), 10);
	assert_int_equal(prop(props, "flow"), 5);
	json_decref(props);
}

/* The device is deleted and created again with the same node_id, as another device of
 * another product: its reports go to the new device, through the new product's codec. */
static void test_device_recreated(void **state)
{
	struct platform_fixture *f = *state;
	char resp[16384];
	warm(f);
	char *layout = short_flow_layout();
	api_ok(&f->d, "POST", "/v5/iot/p1/products",
	       json_pack("{s:s, s:s, s:s, s:o}", "product_id", "wm2", "name", "Water meter 2",
			 "data_format", "binary", "service_capabilities",
			 json_loads(meter_model, 0, NULL)),
	       201, resp, sizeof(resp));
	api_ok(&f->d, "PUT", "/v5/iot/p1/products/wm2/codec",
	       json_pack("{s:s, s:s}", "kind", "declarative", "source", layout), 200, resp,
	       sizeof(resp));
	free(layout);
	api_ok(&f->d, "DELETE", "/v5/iot/p1/devices/wm_meter1", NULL, 204, resp, sizeof(resp));
	api_ok(&f->d, "POST", "/v5/iot/p1/devices",
	       json_pack("{s:s, s:s, s:s}", "device_id", "other1", "node_id", "meter1",
			 "product_id", "wm2"),
	       201, resp, sizeof(resp));
	/* The deletion ended the registration: the device registers again. */
	register_and_observe(f, report_10_20, sizeof(report_10_20));
	json_t *props = reported_of(f, "other1", 1);
	assert_int_equal(prop(props, "flow"), 5);
	json_decref(props);
	static const uint8_t next[] = { 0, 1, 7, 0, 0, 0 };
	device_notify(f, next, sizeof(next));
	props = reported_of(f, "other1", 2);
	assert_int_equal(prop(props, "battery"), 1);
	assert_int_equal(prop(props, "flow"), 7);
	json_decref(props);
	assert_int_equal(http_call(&f->d, "GET", "/v5/iot/p1/devices/wm_meter1/shadow", NULL,
				   resp, sizeof(resp)),
			 404);
}

/* The product is deleted (its device first) and created again with the same id and
 * another codec; so is the device: the next report uses the new product's codec. */
static void test_product_recreated(void **state)
{
	struct platform_fixture *f = *state;
	char resp[16384];
	warm(f);
	api_ok(&f->d, "DELETE", "/v5/iot/p1/devices/wm_meter1", NULL, 204, resp, sizeof(resp));
	api_ok(&f->d, "DELETE", "/v5/iot/p1/products/wm", NULL, 204, resp, sizeof(resp));
	api_ok(&f->d, "POST", "/v5/iot/p1/products",
	       json_pack("{s:s, s:s, s:s, s:o}", "product_id", "wm", "name", "Water meter",
			 "data_format", "binary", "service_capabilities",
			 json_loads(meter_model, 0, NULL)),
	       201, resp, sizeof(resp));
	char *layout = short_flow_layout();
	put_codec(f, "declarative", layout);
	free(layout);
	api_ok(&f->d, "POST", "/v5/iot/p1/devices",
	       json_pack("{s:s, s:s, s:s}", "device_id", "wm_meter1", "node_id", "meter1",
			 "product_id", "wm"),
	       201, resp, sizeof(resp));
	register_and_observe(f, report_10_20, sizeof(report_10_20));
	json_t *props = reported_of(f, "wm_meter1", 1); /* a new shadow: version 1 again */
	assert_int_equal(prop(props, "flow"), 5);
	json_decref(props);
}

/* An application sets a desired value while the device's shadow is cached: the next
 * report merges into the shadow as stored, so the desired value stays (a stale cached copy
 * would write `desired` back empty). */
static void test_desired_while_cached(void **state)
{
	struct platform_fixture *f = *state;
	char resp[16384];
	warm(f);
	api_ok(&f->d, "PUT", "/v5/iot/p1/devices/wm_meter1/shadow",
	       json_pack("{s:[{s:s, s:{s:i}}]}", "shadow", "service_id", "WaterMeter", "desired",
			 "interval", 30),
	       200, resp, sizeof(resp));
	/* The device is reachable: the desired value goes as a $properties command. */
	struct coap_msg m;
	uint8_t buf[1500];
	coap_receive_request(f->fd, &m, buf, sizeof(buf));
	assert_int_equal(m.code, COAP_CODE_PUT);
	coap_assert_path(&m, "/19/1/0");
	device_send(f, COAP_TYPE_ACK, COAP_CODE_CHANGED, m.mid, m.token, m.token_len, -1, NULL, 0);
	device_notify(f, report_10_20, sizeof(report_10_20));
	json_decref(reported_of(f, "wm_meter1", 3));
	api_ok(&f->d, "GET", "/v5/iot/p1/devices/wm_meter1/shadow", NULL, 200, resp, sizeof(resp));
	json_t *j = json_loads(resp, 0, NULL);
	json_t *desired = json_object_get(json_array_get(json_object_get(j, "shadow"), 0),
					  "desired");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(desired, "properties"),
							    "interval")),
			 30);
	json_decref(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_model_changed, setup_decl, platform_teardown),
		cmocka_unit_test_setup_teardown(test_codec_replaced, setup_js, platform_teardown),
		cmocka_unit_test_setup_teardown(test_codec_replaced, setup_decl, platform_teardown),
		cmocka_unit_test_setup_teardown(test_device_recreated, setup_decl,
						platform_teardown),
		cmocka_unit_test_setup_teardown(test_product_recreated, setup_js, platform_teardown),
		cmocka_unit_test_setup_teardown(test_desired_while_cached, setup_decl,
						platform_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
