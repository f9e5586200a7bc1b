/*
 * Integration tests of the desired shadow (PUT …/shadow), with the test as the device on a
 * raw UDP socket (harness_platform.c).
 *
 * The meter is meter_fixture.h's, its writable property WaterMeter.interval given a
 * default_value (600) here; its codecs carry it as message 3 ([3, mid, interval], the
 * "$properties" command) and report it as message 4 ([4, interval]).
 *
 * Covered, with a declarative and a JavaScript codec: default_value seeds desired at device creation; the $properties command goes
 * when the device registers, 2.04 → DELIVERED, its answer → SUCCESSFUL; a matching report
 * clears desired; a PUT to a reachable device goes at once; version conflicts (409), bad
 * bodies (400 naming the field), null removing a property; changes to an unreachable
 * device fold into one PENDING command, sent once when it comes back; a change needing a
 * command past --max-pending-commands is refused, nothing stored. And a product of
 * standard objects without a codec, whose desired properties become LwM2M Writes of the
 * mapped resources (Write-Update of an instance, PUT of one resource) → SUCCESSFUL.
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

#include "content/content.h"
#include "harness_platform.h"
#include "meter_fixture.h"
#include "model/model.h"

/* meter_model with interval's default_value, and without SET_INTERVAL. */
static const char model[] =
	"[{\"service_id\":\"WaterMeter\","
	"  \"properties\":[{\"property_name\":\"battery\",\"data_type\":\"int\",\"min\":0,"
	"                   \"max\":100,\"method\":\"R\"},"
	"                  {\"property_name\":\"flow\",\"data_type\":\"long\",\"method\":\"R\"},"
	"                  {\"property_name\":\"interval\",\"data_type\":\"int\",\"min\":1,"
	"                   \"max\":65535,\"method\":\"RW\",\"default_value\":600}]}]";

static const uint8_t first_report[] = { 0, 80, 0, 0, 0x10, 0 };

static int setup_decl(void **state)
{
	*state = platform_start("declarative", model, meter_layout, NULL);
	return 0;
}

static int setup_js(void **state)
{
	*state = platform_start("js", model, meter_script, NULL);
	return 0;
}

/* The device's shadow of service (a new object), and its JSON text in resp. */
static json_t *shadow_of(struct platform_fixture *f, const char *device_id,
			 const char *service_id, char *resp, size_t cap)
{
	char path[128];
	snprintf(path, sizeof(path), "/v5/iot/p1/devices/%s/shadow", device_id);
	api_ok(&f->d, "GET", path, NULL, 200, resp, cap);
	json_t *j = json_loads(resp, 0, NULL);
	size_t i;
	json_t *svc;
	json_array_foreach(json_object_get(j, "shadow"), i, svc) {
		if (strcmp(json_string_value(json_object_get(svc, "service_id")), service_id) == 0) {
			json_incref(svc);
			json_decref(j);
			return svc;
		}
	}
	fail_msg("no shadow of %s: %s", service_id, resp);
	return NULL;
}

static json_t *desired_props(json_t *svc)
{
	return json_object_get(json_object_get(svc, "desired"), "properties");
}

static json_int_t desired_version(json_t *svc)
{
	return json_integer_value(json_object_get(json_object_get(svc, "desired"), "version"));
}

/* Polls until WaterMeter's desired version is at least want; returns the service. */
static json_t *desired_wait(struct platform_fixture *f, int want)
{
	char resp[8192];
	for (int i = 0; i < 150; i++) {
		json_t *svc = shadow_of(f, "wm_meter1", "WaterMeter", resp, sizeof(resp));
		if (desired_version(svc) >= want)
			return svc;
		json_decref(svc);
		usleep(20000);
	}
	fail_msg("desired never reached version %d: %s", want, resp);
	return NULL;
}

/* PUT of WaterMeter's desired properties (a JSON object text) with version (< 0: none). */
static int shadow_put(struct platform_fixture *f, const char *desired, int version, char *resp,
		      size_t cap)
{
	char body[512];
	if (version >= 0)
		snprintf(body, sizeof(body),
			 "{\"shadow\":[{\"service_id\":\"WaterMeter\",\"desired\":%s,"
			 "\"version\":%d}]}",
			 desired, version);
	else
		snprintf(body, sizeof(body),
			 "{\"shadow\":[{\"service_id\":\"WaterMeter\",\"desired\":%s}]}", desired);
	return http_call(&f->d, "PUT", "/v5/iot/p1/devices/wm_meter1/shadow", body, resp, cap);
}

/* The device takes PUT /19/1/0 carrying $properties: [3, mid, interval]; ACKs it 2.04.
 * Returns mid. */
static int device_take_properties(struct platform_fixture *f, int interval)
{
	struct coap_msg m;
	uint8_t buf[1500];
	coap_receive_request(f->fd, &m, buf, sizeof(buf));
	assert_int_equal(m.code, COAP_CODE_PUT);
	coap_assert_path(&m, "/19/1/0");
	assert_int_equal(m.payload_len, 5);
	assert_int_equal(m.payload[0], 3);
	assert_int_equal((m.payload[3] << 8) | m.payload[4], interval);
	device_send(f, COAP_TYPE_ACK, COAP_CODE_CHANGED, m.mid, m.token, m.token_len, -1, NULL, 0);
	return (m.payload[1] << 8) | m.payload[2];
}

/* The device's $properties commands (JSON array of them) and their count. */
static json_t *properties_commands(struct platform_fixture *f)
{
	char resp[16384];
	api_ok(&f->d, "GET", "/v5/iot/p1/devices/wm_meter1/async-commands", NULL, 200, resp,
	       sizeof(resp));
	json_t *j = json_loads(resp, 0, NULL);
	json_t *out = json_array();
	size_t i;
	json_t *c;
	json_array_foreach(json_object_get(j, "commands"), i, c) {
		if (strcmp(json_string_value(json_object_get(c, "command_name")), "$properties") == 0)
			json_array_append(out, c);
	}
	json_decref(j);
	return out;
}

static void test_desired_delivered_and_cleared(void **state)
{
	struct platform_fixture *f = *state;
	char resp[8192];

	/* default_value seeded desired at creation, with a $properties command queued. */
	json_t *svc = shadow_of(f, "wm_meter1", "WaterMeter", resp, sizeof(resp));
	assert_int_equal(json_integer_value(json_object_get(desired_props(svc), "interval")), 600);
	assert_int_equal(desired_version(svc), 1);
	assert_true(json_is_string(json_object_get(json_object_get(svc, "desired"), "event_time")));
	json_decref(svc);
	json_t *cmds = properties_commands(f);
	assert_int_equal(json_array_size(cmds), 1);
	json_t *cmd = json_array_get(cmds, 0);
	assert_string_equal(json_string_value(json_object_get(cmd, "status")), "PENDING");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(cmd, "paras"),
							    "interval")),
			 600);
	char id[64];
	snprintf(id, sizeof(id), "%s", json_string_value(json_object_get(cmd, "command_id")));
	json_decref(cmds);

	/* It goes when the device registers; its answer settles it. */
	register_and_observe(f, first_report, sizeof(first_report));
	int mid = device_take_properties(f, 600);
	json_decref(command_wait(f, id, "DELIVERED"));
	uint8_t answer[] = { 2, (uint8_t)(mid >> 8), (uint8_t)mid, 0, 1 };
	device_notify(f, answer, sizeof(answer));
	json_decref(command_wait(f, id, "SUCCESSFUL"));

	/* The device reports the interval: desired has nothing left. */
	static const uint8_t reported[] = { 4, 0x02, 0x58 }; /* 600 */
	device_notify(f, reported, sizeof(reported));
	svc = desired_wait(f, 2);
	assert_int_equal(json_object_size(desired_props(svc)), 0);
	assert_int_equal(json_integer_value(json_object_get(
				 json_object_get(json_object_get(svc, "reported"), "properties"),
				 "interval")),
			 600);
	json_decref(svc);

	/* A PUT to the reachable device goes at once; the answer shows the new desired. */
	assert_int_equal(shadow_put(f, "{\"interval\":900}", 2, resp, sizeof(resp)), 200);
	json_t *put = json_loads(resp, 0, NULL);
	json_t *psvc = json_array_get(json_object_get(put, "shadow"), 0);
	assert_int_equal(json_integer_value(json_object_get(desired_props(psvc), "interval")), 900);
	assert_int_equal(desired_version(psvc), 3);
	json_decref(put);
	device_take_properties(f, 900);

	/* Conflicts and bad bodies change nothing. */
	assert_int_equal(shadow_put(f, "{\"interval\":901}", 2, resp, sizeof(resp)), 409);
	assert_non_null(strstr(resp, "shadow[0].version 2 is not the current desired version 3"));
	assert_int_equal(shadow_put(f, "{\"battery\":50}", -1, resp, sizeof(resp)), 400);
	assert_non_null(strstr(resp, "shadow[0].desired.battery: the property is not writable"));
	assert_int_equal(shadow_put(f, "{\"interval\":0}", -1, resp, sizeof(resp)), 400);
	assert_non_null(strstr(resp, "shadow[0].desired.interval"));
	assert_int_equal(shadow_put(f, "{\"volume\":1}", -1, resp, sizeof(resp)), 400);
	assert_non_null(strstr(resp, "not a property of service WaterMeter"));
	assert_int_equal(shadow_put(f, "[1]", -1, resp, sizeof(resp)), 400);
	assert_non_null(strstr(resp, "shadow[0].desired must be an object"));
	static const char *const bad_bodies[] = {
		"{}", "{\"shadow\":{}}", "{\"shadow\":[]}", "{\"shadow\":[7]}",
		"{\"shadow\":[{\"service_id\":\"Nope\",\"desired\":{}}]}",
		"{\"shadow\":[{\"service_id\":\"WaterMeter\",\"desired\":{},\"version\":\"x\"}]}",
		"{\"shadow\":[{\"service_id\":\"WaterMeter\",\"desired\":{}},"
		"{\"service_id\":\"WaterMeter\",\"desired\":{}}]}",
		"not json",
	};
	for (size_t i = 0; i < sizeof(bad_bodies) / sizeof(bad_bodies[0]); i++) {
		int status = http_call(&f->d, "PUT", "/v5/iot/p1/devices/wm_meter1/shadow",
				       bad_bodies[i], resp, sizeof(resp));
		if (status != 400)
			fail_msg("%s: %d %s", bad_bodies[i], status, resp);
	}
	svc = shadow_of(f, "wm_meter1", "WaterMeter", resp, sizeof(resp));
	assert_int_equal(desired_version(svc), 3);
	json_decref(svc);

	/* null takes a property out of desired. */
	assert_int_equal(shadow_put(f, "{\"interval\":null}", 3, resp, sizeof(resp)), 200);
	svc = desired_wait(f, 4);
	assert_int_equal(json_object_size(desired_props(svc)), 0);
	json_decref(svc);
	uint8_t buf[256];
	assert_true(coap_recv_raw(f->fd, buf, sizeof(buf), 300) < 0); /* nothing to send */
}

/* Changes while the device is away fold into one PENDING command, sent once. */
static void test_desired_folds_while_away(void **state)
{
	struct platform_fixture *f = *state;
	char resp[8192];
	register_and_observe(f, first_report, sizeof(first_report));
	int mid = device_take_properties(f, 600); /* the seeded default */
	uint8_t answer[] = { 2, (uint8_t)(mid >> 8), (uint8_t)mid, 0, 1 };
	device_notify(f, answer, sizeof(answer));
	assert_int_equal(coap_deregister(f->fd, &f->d.coap, f->reg_id), COAP_CODE_DELETED);

	assert_int_equal(shadow_put(f, "{\"interval\":1000}", -1, resp, sizeof(resp)), 200);
	assert_int_equal(shadow_put(f, "{\"interval\":1200}", -1, resp, sizeof(resp)), 200);
	json_t *cmds = properties_commands(f);
	size_t pending = 0, i;
	json_t *c;
	json_array_foreach(cmds, i, c) {
		if (strcmp(json_string_value(json_object_get(c, "status")), "PENDING") == 0) {
			pending++;
			assert_int_equal(json_integer_value(json_object_get(
						 json_object_get(c, "paras"), "interval")),
					 1200);
		}
	}
	assert_int_equal(pending, 1);
	json_decref(cmds);

	register_and_observe(f, first_report, sizeof(first_report));
	device_take_properties(f, 1200);
	uint8_t buf[256];
	assert_true(coap_recv_raw(f->fd, buf, sizeof(buf), 300) < 0); /* once */
}

/* --max-pending-commands 1: the seeded $properties, delivered but unanswered, is open; a
 * change that needs another command is refused and stores nothing. */
static void test_desired_limit(void **state)
{
	struct platform_fixture *f = *state;
	char resp[8192];
	register_and_observe(f, first_report, sizeof(first_report));
	device_take_properties(f, 600); /* 2.04, no answer: DELIVERED, still open */
	json_t *cmds = properties_commands(f);
	char id[64];
	snprintf(id, sizeof(id), "%s",
		 json_string_value(json_object_get(json_array_get(cmds, 0), "command_id")));
	json_decref(cmds);
	json_decref(command_wait(f, id, "DELIVERED"));
	assert_int_equal(shadow_put(f, "{\"interval\":800}", -1, resp, sizeof(resp)), 400);
	assert_non_null(strstr(resp, "already has 1 open commands (at most 1)"));
	json_t *svc = shadow_of(f, "wm_meter1", "WaterMeter", resp, sizeof(resp));
	assert_int_equal(desired_version(svc), 1);
	assert_int_equal(json_integer_value(json_object_get(desired_props(svc), "interval")), 600);
	json_decref(svc);
}

static int setup_limit(void **state)
{
	static const char *const args[] = { "--max-pending-commands", "1", NULL };
	*state = platform_start("declarative", model, meter_layout, args);
	return 0;
}

/* Answers the platform's requests to a device of standard objects until it has taken
 * one Write: Observes get 2.05 with "21.5", the Write 2.04. Returns the Write's code and
 * copies its path, content format and payload. */
static uint8_t take_write(struct platform_fixture *f, char *path, size_t path_cap,
			  uint32_t *format, uint8_t *payload, size_t *len)
{
	for (int i = 0; i < 10; i++) {
		struct coap_msg m, a;
		uint8_t buf[1500], out[256];
		coap_receive_request(f->fd, &m, buf, sizeof(buf));
		uint32_t obs;
		if (m.code == COAP_CODE_GET &&
		    coap_msg_get_uint_option(&m, COAP_OPTION_OBSERVE, &obs) == 0) {
			coap_msg_init(&a, COAP_TYPE_ACK, COAP_CODE_CONTENT, m.mid, m.token, m.token_len);
			coap_msg_add_uint_option(&a, COAP_OPTION_OBSERVE, 1);
			coap_msg_add_uint_option(&a, COAP_OPTION_CONTENT_FORMAT, 0);
			coap_msg_set_payload(&a, "21.5", 4);
			int n = coap_msg_encode(&a, out, sizeof(out));
			coap_send_raw(f->fd, &f->d.coap, out, (size_t)n);
			continue;
		}
		assert_true(coap_msg_get_path(&m, path, path_cap) > 0);
		assert_int_equal(coap_msg_get_uint_option(&m, COAP_OPTION_CONTENT_FORMAT, format), 0);
		memcpy(payload, m.payload, m.payload_len);
		*len = m.payload_len;
		device_send(f, COAP_TYPE_ACK, COAP_CODE_CHANGED, m.mid, m.token, m.token_len, -1, NULL,
			    0);
		return m.code;
	}
	fail_msg("no Write came");
	return 0;
}

/* The $properties command of device tp_therm1, polled until it is SUCCESSFUL. */
static void mapped_wait_successful(struct platform_fixture *f, int want_count)
{
	char resp[16384];
	for (int i = 0; i < 150; i++) {
		api_ok(&f->d, "GET", "/v5/iot/p1/devices/tp_therm1/async-commands", NULL, 200, resp,
		       sizeof(resp));
		int n = 0;
		for (const char *p = resp; (p = strstr(p, "\"SUCCESSFUL\"")); p++)
			n++;
		if (n >= want_count)
			return;
		usleep(20000);
	}
	fail_msg("the writes never became SUCCESSFUL: %s", resp);
}

/* A product of standard objects: desired properties are Writes of mapped resources. */
static void test_desired_mapped_resources(void **state)
{
	struct platform_fixture *f = *state;
	char resp[8192];
	json_t *caps = json_loads(
		"[{\"service_id\":\"Temperature\",\"properties\":["
		"{\"property_name\":\"value\",\"data_type\":\"decimal\",\"method\":\"R\"},"
		"{\"property_name\":\"app_type\",\"data_type\":\"string\",\"method\":\"RW\","
		" \"default_value\":\"outdoor\"},"
		"{\"property_name\":\"units\",\"data_type\":\"string\",\"method\":\"RW\","
		" \"default_value\":\"Cel\"},"
		"{\"property_name\":\"note\",\"data_type\":\"string\",\"method\":\"RW\"}]}]",
		0, NULL);
	json_t *maps = json_loads(
		"[{\"path\":\"3303/0/5700\",\"service_id\":\"Temperature\",\"property_name\":\"value\"},"
		"{\"path\":\"3303/0/5750\",\"service_id\":\"Temperature\",\"property_name\":\"app_type\"},"
		"{\"path\":\"3303/0/5701\",\"service_id\":\"Temperature\",\"property_name\":\"units\"}]",
		0, NULL);
	api_ok(&f->d, "POST", "/v5/iot/p1/products",
	       json_pack("{s:s, s:s, s:o, s:o}", "product_id", "tp", "name", "T",
			 "service_capabilities", caps, "resource_mappings", maps),
	       201, resp, sizeof(resp));
	api_ok(&f->d, "POST", "/v5/iot/p1/devices",
	       json_pack("{s:s, s:s, s:s}", "device_id", "tp_therm1", "node_id", "therm1",
			 "product_id", "tp"),
	       201, resp, sizeof(resp));
	/* An unmapped property has no way to the device without a codec. */
	assert_int_equal(http_call(&f->d, "PUT", "/v5/iot/p1/devices/tp_therm1/shadow",
				   "{\"shadow\":[{\"service_id\":\"Temperature\","
				   "\"desired\":{\"note\":\"x\"}}]}",
				   resp, sizeof(resp)),
			 400);
	assert_non_null(strstr(resp, "not mapped to a resource"));

	/* The seeded defaults, two resources of one instance: a Write-Update in TLV. */
	assert_int_equal(coap_register(f->fd, &f->d.coap, "therm1", "300", "</3/0>,</3303/0>",
				       f->reg_id),
			 COAP_CODE_CREATED);
	char path[64];
	uint32_t format;
	uint8_t payload[1024];
	size_t len;
	uint8_t code = take_write(f, path, sizeof(path), &format, payload, &len);
	assert_string_equal(path, "/3303/0");
	assert_int_equal(code, COAP_CODE_POST);
	assert_int_equal(format, CONTENT_TLV);
	struct lwm2m_values values;
	lwm2m_values_init(&values);
	struct lwm2m_path base = { .len = 2, .ids = { 3303, 0 } };
	assert_int_equal(content_decode(CONTENT_TLV, &base, payload, len, model_type_of, NULL,
					&values),
			 0);
	assert_int_equal(values.count, 2);
	for (size_t i = 0; i < values.count; i++) {
		const struct lwm2m_value *v = &values.items[i];
		const char *want = v->path.ids[2] == 5750 ? "outdoor" : "Cel";
		assert_int_equal(v->v.bytes.len, strlen(want));
		assert_memory_equal(v->v.bytes.data, want, strlen(want));
	}
	lwm2m_values_free(&values);
	mapped_wait_successful(f, 1);

	/* One property: a PUT of its resource in plain text. (The device never reported the
	 * units it was given, so they stay desired until null takes them out.) */
	api_ok(&f->d, "PUT", "/v5/iot/p1/devices/tp_therm1/shadow",
	       json_pack("{s:[{s:s, s:{s:s, s:n}}]}", "shadow", "service_id", "Temperature",
			 "desired", "app_type", "indoor", "units"),
	       200, resp, sizeof(resp));
	assert_int_equal(take_write(f, path, sizeof(path), &format, payload, &len),
			 COAP_CODE_PUT);
	assert_string_equal(path, "/3303/0/5750");
	assert_int_equal(format, CONTENT_TEXT);
	assert_int_equal(len, 6);
	assert_memory_equal(payload, "indoor", 6);
	mapped_wait_successful(f, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_desired_delivered_and_cleared, setup_decl,
					    platform_teardown),
	    cmocka_unit_test_setup_teardown(test_desired_delivered_and_cleared, setup_js,
					    platform_teardown),
	    cmocka_unit_test_setup_teardown(test_desired_folds_while_away, setup_decl,
					    platform_teardown),
	    cmocka_unit_test_setup_teardown(test_desired_limit, setup_limit, platform_teardown),
	    cmocka_unit_test_setup_teardown(test_desired_mapped_resources, setup_decl,
					    platform_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
