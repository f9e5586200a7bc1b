/*
 * Integration tests of the platform layer: a binary NB-IoT water meter that reports
 * [msg id 0, battery %, flow in litres (uint32, big-endian)] on 19/0/0 and takes
 * SET_INTERVAL on 19/1/0 ([1, mid, interval]) answering [2, mid, errcode, result].
 * The same scenario runs with a declarative codec and with a JavaScript codec. The
 * device is the test on a raw UDP socket, so every byte the platform sends is checked.
 *
 * Covered: product model and codec validation through the API; the codec test route;
 * the uplink observation, reports into the shadow; a command immediately (PUT /19/1/0,
 * 2.04 → DELIVERED, deviceRsp → SUCCESSFUL); a delayed command to an offline device
 * going out when it registers, across a daemon restart; expiry; the per-device limit;
 * codecs that throw, loop forever or return nonsense — error counted, daemon fine; writes
 * committed while the daemon runs (group commit), surviving SIGKILL.
 */
#include <errno.h>
#include <pthread.h>
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
#include "harness_platform.h"
#include "meter_fixture.h"
#include "store/store.h"
#include "store/store_platform.h"

/* The meter's product with the codec of that kind, its device, and the device's socket. */
static struct platform_fixture *start(const char *kind, const char *const *args)
{
	return platform_start(kind, meter_model,
			      strcmp(kind, "js") == 0 ? meter_script : meter_layout, args);
}

/* Group commit: what a loop turn wrote is committed when the turn ends, not at shutdown —
 * another connection sees a new command while the daemon runs, and it survives SIGKILL. */
static void test_writes_committed_while_running(void **state)
{
	struct platform_fixture *f = *state;
	char resp[8192];
	json_t *cmd = command_create(f, 42, "delay", -1, 201, resp, sizeof(resp));
	char id[64];
	snprintf(id, sizeof(id), "%s", json_string_value(json_object_get(cmd, "command_id")));
	json_decref(cmd);
	struct store *other;
	assert_int_equal(store_open(&other, f->d.db), 0);
	struct store_command c;
	int rc = -ENOENT;
	for (int waited = 0; rc != 0 && waited < 5000; waited += 20) {
		rc = store_command_get(other, id, &c);
		if (rc != 0)
			usleep(20000);
	}
	assert_int_equal(rc, 0);
	assert_string_equal(c.status, "PENDING");
	store_command_clear(&c);
	store_close(other);

	kill(f->d.pid, SIGKILL);
	waitpid(f->d.pid, NULL, 0);
	f->d.pid = 0;
	daemon_restart(&f->d, NULL);
	json_decref(command_wait(f, id, "PENDING"));
}

/* An application cancels the platform's own observation of /19/0/0: the cancel repeats
 * the Accept (opaque) the Observe was made with (RFC 7641 §3.6), as for any observation. */
static void test_cancel_uplink_observation(void **state)
{
	struct platform_fixture *f = *state;
	static const uint8_t first[] = {0, 87, 0x00, 0x01, 0x86, 0xA0};
	register_and_observe(f, first, sizeof(first));
	char resp[4096], path[160];
	api_ok(&f->d, "GET", "/v5/iot/p1/devices/wm_meter1/observations", NULL, 200, resp,
	       sizeof(resp));
	const char *id = strstr(resp, "\"observation_id\":");
	assert_non_null(id);
	snprintf(path, sizeof(path), "/v5/iot/p1/devices/wm_meter1/observations/%ld",
		 strtol(id + strlen("\"observation_id\":"), NULL, 10));
	struct api_async c;
	api_async_start(&c, &f->d, "DELETE", path, NULL);
	struct coap_msg m;
	uint8_t buf[1500];
	coap_receive_request(f->fd, &m, buf, sizeof(buf));
	assert_int_equal(m.code, COAP_CODE_GET);
	coap_assert_path(&m, "/19/0/0");
	assert_memory_equal(m.token, f->obs_token, f->obs_token_len);
	uint32_t v;
	assert_int_equal(coap_msg_get_uint_option(&m, COAP_OPTION_OBSERVE, &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(coap_msg_get_uint_option(&m, COAP_OPTION_ACCEPT, &v), 0);
	assert_int_equal(v, 42);
	device_send(f, COAP_TYPE_ACK, COAP_CODE_CONTENT, m.mid, m.token, m.token_len, -1, first,
		    sizeof(first));
	api_async_wait(&c);
	assert_int_equal(c.status, 200);
}

static int setup_decl(void **state)
{
	*state = start("declarative", NULL);
	return 0;
}

static int setup_js(void **state)
{
	*state = start("js", NULL);
	return 0;
}

static void test_report_and_command(void **state)
{
	struct platform_fixture *f = *state;
	char resp[8192];
	static const uint8_t first[] = { 0, 87, 0x00, 0x01, 0x86, 0xA0 }; /* 87 %, 100000 l */
	register_and_observe(f, first, sizeof(first));
	json_t *props = shadow_reported(f, 1);
	assert_int_equal(prop(props, "battery"), 87);
	assert_int_equal(prop(props, "flow"), 100000);
	json_decref(props);

	static const uint8_t second[] = { 0, 86, 0xFF, 0xFF, 0xFF, 0xFF };
	device_notify(f, second, sizeof(second));
	props = shadow_reported(f, 2);
	assert_int_equal(prop(props, "battery"), 86);
	assert_int_equal(prop(props, "flow"), 4294967295LL);
	json_decref(props);

	/* A report the model refuses (battery 101) changes nothing. */
	static const uint8_t bad[] = { 0, 101, 0, 0, 0, 1 };
	device_notify(f, bad, sizeof(bad));
	usleep(100000);
	props = shadow_reported(f, 2);
	assert_int_equal(prop(props, "battery"), 86);
	json_decref(props);

	/* A command, immediately: PUT /19/1/0 → 2.04 DELIVERED → deviceRsp SUCCESSFUL. */
	json_t *cmd = command_create(f, 300, "immediately", -1, 201, resp, sizeof(resp));
	const char *id = json_string_value(json_object_get(cmd, "command_id"));
	int mid = device_take_command(f, 300);
	assert_int_equal(mid, json_integer_value(json_object_get(cmd, "mid")));
	json_decref(command_wait(f, id, "DELIVERED"));
	uint8_t answer[] = { 2, (uint8_t)(mid >> 8), (uint8_t)mid, 0, 1 };
	device_notify(f, answer, sizeof(answer));
	json_t *done = command_wait(f, id, "SUCCESSFUL");
	json_t *result = json_object_get(done, "result");
	assert_int_equal(json_integer_value(json_object_get(result, "errcode")), 0);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(result, "body"),
							    "result")),
			 1);
	assert_true(json_is_string(json_object_get(done, "sent_time")));
	assert_true(json_is_string(json_object_get(done, "delivered_time")));
	assert_true(json_is_string(json_object_get(done, "response_time")));
	json_decref(done);
	json_decref(cmd);

	/* Bad commands are refused with the field named. */
	json_decref(command_create(f, 0, "immediately", -1, 400, resp, sizeof(resp)));
	assert_non_null(strstr(resp, "paras.interval: 0 is below min 1"));
	json_decref(command_create(f, 5, "sometime", -1, 400, resp, sizeof(resp)));
	assert_non_null(strstr(resp, "send_strategy"));
	json_decref(command_create(f, 5, "delay", 172801, 400, resp, sizeof(resp)));
	assert_non_null(strstr(resp, "expire_time"));

	/* The commands list has the one command. */
	api_ok(&f->d, "GET", "/v5/iot/p1/devices/wm_meter1/async-commands", NULL, 200, resp,
	       sizeof(resp));
	assert_non_null(strstr(resp, "\"count\":1"));
}

static void test_delayed_command_survives_restart(void **state)
{
	struct platform_fixture *f = *state;
	char resp[8192];
	/* The device is offline: a delayed command waits, PENDING. */
	json_t *cmd = command_create(f, 60, "delay", -1, 201, resp, sizeof(resp));
	char id[64];
	snprintf(id, sizeof(id), "%s", json_string_value(json_object_get(cmd, "command_id")));
	assert_string_equal(json_string_value(json_object_get(cmd, "status")), "PENDING");
	json_decref(cmd);
	/* An immediate command to an offline device fails at once. */
	cmd = command_create(f, 61, "immediately", -1, 201, resp, sizeof(resp));
	json_decref(command_wait(f, json_string_value(json_object_get(cmd, "command_id")), "FAILED"));
	json_decref(cmd);

	daemon_stop(&f->d);
	daemon_restart(&f->d, NULL);

	/* It registers: the observation, then the command. */
	static const uint8_t first[] = { 0, 50, 0, 0, 0, 7 };
	register_and_observe(f, first, sizeof(first));
	int mid = device_take_command(f, 60);
	json_decref(command_wait(f, id, "DELIVERED"));
	uint8_t answer[] = { 2, (uint8_t)(mid >> 8), (uint8_t)mid, 3, 0 };
	device_notify(f, answer, sizeof(answer));
	json_t *done = command_wait(f, id, "FAILED"); /* errcode 3 */
	assert_int_equal(json_integer_value(json_object_get(json_object_get(done, "result"),
							    "errcode")),
			 3);
	json_decref(done);
}

/* A queue-mode device asleep: a delayed command waits PENDING, and goes out when the
 * device next speaks (an Update). */
static void test_delayed_command_to_sleeping_device(void **state)
{
	struct platform_fixture *f = *state;
	char resp[8192];
	static const uint8_t first[] = { 0, 70, 0, 0, 0, 1 };
	register_and_observe(f, first, sizeof(first));
	assert_int_equal(coap_update(f->fd, &f->d.coap, f->reg_id, "b=UQ"), COAP_CODE_CHANGED);
	usleep(1300 * 1000); /* past --queue-window 1: asleep */
	json_t *cmd = command_create(f, 90, "delay", -1, 201, resp, sizeof(resp));
	const char *id = json_string_value(json_object_get(cmd, "command_id"));
	usleep(200 * 1000);
	json_t *now = command_wait(f, id, "PENDING");
	json_decref(now);
	uint8_t buf[256];
	assert_true(coap_recv_raw(f->fd, buf, sizeof(buf), 300) < 0); /* nothing sent */
	assert_int_equal(coap_update(f->fd, &f->d.coap, f->reg_id, NULL), COAP_CODE_CHANGED);
	device_take_command(f, 90);
	json_decref(command_wait(f, id, "DELIVERED"));
	json_decref(cmd);
}

static int setup_queue(void **state)
{
	static const char *const args[] = { "--queue-window", "1", NULL };
	*state = start("js", args);
	return 0;
}

/* A command the device never acknowledged when the daemon stopped is TIMEOUT after the
 * restart, and is not sent again (it might have run). */
static void test_sent_command_not_sent_twice(void **state)
{
	struct platform_fixture *f = *state;
	char resp[8192];
	static const uint8_t first[] = { 0, 60, 0, 0, 0, 1 };
	register_and_observe(f, first, sizeof(first));
	json_t *cmd = command_create(f, 77, "immediately", -1, 201, resp, sizeof(resp));
	char id[64];
	snprintf(id, sizeof(id), "%s", json_string_value(json_object_get(cmd, "command_id")));
	json_decref(cmd);
	struct coap_msg m;
	uint8_t buf[1500];
	coap_receive_request(f->fd, &m, buf, sizeof(buf)); /* the PUT, left unanswered */
	coap_assert_path(&m, "/19/1/0");
	daemon_stop(&f->d);
	daemon_restart(&f->d, NULL);
	json_t *c = command_wait(f, id, "TIMEOUT");
	assert_non_null(strstr(json_string_value(json_object_get(json_object_get(c, "result"),
								     "error")),
			       "not sent again"));
	json_decref(c);
	/* The device comes back: only the uplink observation, no PUT. */
	register_and_observe(f, first, sizeof(first));
	assert_true(coap_recv_raw(f->fd, buf, sizeof(buf), 500) < 0);
}

static const char *const slow_encode_args[] = { "--codec-time-ms", "3000", NULL };

static int setup_slow_encode(void **state)
{
	*state = start("js", slow_encode_args);
	return 0;
}

/* A command whose JavaScript encode is still running when the daemon is told to stop is
 * left PENDING (iot_codec_stop): not sent on the way out — which made it SENT, and TIMEOUT
 * "not sent again" after the restart — but sent when the device is back. */
static void test_encoding_at_shutdown_stays_pending(void **state)
{
	struct platform_fixture *f = *state;
	char resp[8192], slow[4096];
	static const uint8_t first[] = { 0, 60, 0, 0, 0, 1 };
	register_and_observe(f, first, sizeof(first));
	snprintf(slow, sizeof(slow),
		 "%s\nvar fast_encode = encode;\n"
		 "encode = function (j) { var s = Date.now(); while (Date.now() - s < 1200) {}\n"
		 "  return fast_encode(j); };\n",
		 meter_script);
	put_codec(f, "js", slow);
	json_t *cmd = command_create(f, 55, "delay", -1, 201, resp, sizeof(resp));
	char id[64];
	snprintf(id, sizeof(id), "%s", json_string_value(json_object_get(cmd, "command_id")));
	json_decref(cmd);
	usleep(300 * 1000); /* the encode is under way on a codec thread */
	daemon_stop(&f->d);
	daemon_restart(&f->d, slow_encode_args);
	api_ok(&f->d, "GET", "/v5/iot/p1/devices/wm_meter1/async-commands", NULL, 200, resp,
	       sizeof(resp));
	if (!strstr(resp, "\"status\":\"PENDING\""))
		fail_msg("not PENDING after the restart: %s", resp);
	register_and_observe(f, first, sizeof(first));
	device_take_command(f, 55);
	json_decref(command_wait(f, id, "DELIVERED"));
}

static void test_expiry_and_limit(void **state)
{
	struct platform_fixture *f = *state;
	char resp[8192];
	json_t *cmd = command_create(f, 10, "delay", 1, 201, resp, sizeof(resp));
	json_decref(command_wait(f, json_string_value(json_object_get(cmd, "command_id")),
				 "EXPIRED"));
	json_decref(cmd);
	/* --max-pending-commands 2: the third open command is refused. */
	json_decref(command_create(f, 11, "delay", -1, 201, resp, sizeof(resp)));
	json_decref(command_create(f, 12, "delay", -1, 201, resp, sizeof(resp)));
	json_decref(command_create(f, 13, "delay", -1, 400, resp, sizeof(resp)));
	assert_non_null(strstr(resp, "already has 2 open commands"));

	/* Deleting the device closes its open commands: a new device of the same id and
	 * node_id never receives them, and starts with room for new ones. */
	api_ok(&f->d, "DELETE", "/v5/iot/p1/devices/wm_meter1", NULL, 204, resp, sizeof(resp));
	api_ok(&f->d, "POST", "/v5/iot/p1/devices",
	       json_pack("{s:s, s:s, s:s}", "device_id", "wm_meter1", "node_id", "meter1",
			 "product_id", "wm"),
	       201, resp, sizeof(resp));
	api_ok(&f->d, "GET", "/v5/iot/p1/devices/wm_meter1/async-commands", NULL, 200, resp,
	       sizeof(resp));
	if (strstr(resp, "\"PENDING\""))
		fail_msg("still pending: %s", resp);
	assert_non_null(strstr(resp, "the device was deleted"));
	api_ok(&f->d, "GET", "/v5/iot/p1/devices/wm_meter1/shadow", NULL, 200, resp, sizeof(resp));
	assert_non_null(strstr(resp, "\"shadow\":[]"));
	json_decref(command_create(f, 14, "delay", -1, 201, resp, sizeof(resp)));
}

static int setup_limit(void **state)
{
	static const char *const args[] = { "--max-pending-commands", "2", NULL };
	*state = start("declarative", args);
	return 0;
}

static long metric(struct platform_fixture *f, const char *name)
{
	char resp[32768];
	assert_int_equal(http_call(&f->d, "GET", "/metrics", NULL, resp, sizeof(resp)), 200);
	/* The sample line, not the # HELP / # TYPE lines naming it. */
	char line[128];
	snprintf(line, sizeof(line), "\n%s ", name);
	const char *p = strstr(resp, line);
	return p ? strtol(p + strlen(line), NULL, 10) : -1;
}

/* Codecs that throw, loop or return nonsense: an error each, the daemon fine. */
static void test_bad_scripts(void **state)
{
	struct platform_fixture *f = *state;
	static const uint8_t first[] = { 0, 40, 0, 0, 0, 1 };
	register_and_observe(f, first, sizeof(first));
	json_decref(shadow_reported(f, 1));
	static const char *const scripts[] = {
		"function decode(p) { throw new Error('broken meter'); }",
		"function decode(p) { while (true) {} }",
		"function decode(p) { return '{not json'; }",
		"function decode(p) { return JSON.stringify({msgType: 'deviceReq', data: 5}); }",
	};
	long before = metric(f, "lwm2md_codec_errors_total");
	for (size_t i = 0; i < sizeof(scripts) / sizeof(scripts[0]); i++) {
		put_codec(f, "js", scripts[i]);
		static const uint8_t report[] = { 0, 41, 0, 0, 0, 2 };
		device_notify(f, report, sizeof(report));
	}
	long after = -1;
	for (int i = 0; i < 100 && after < before + 4; i++) {
		usleep(20000);
		after = metric(f, "lwm2md_codec_errors_total");
	}
	assert_int_equal(after, before + 4);
	/* Nothing reached the shadow; a good codec again, and reports flow. */
	put_codec(f, "js", meter_script);
	static const uint8_t good[] = { 0, 42, 0, 0, 0, 3 };
	device_notify(f, good, sizeof(good));
	json_t *props = shadow_reported(f, 2);
	assert_int_equal(prop(props, "battery"), 42);
	json_decref(props);

	/* What does not compile is refused at upload, naming the problem. */
	char resp[4096];
	api_ok(&f->d, "PUT", "/v5/iot/p1/products/wm/codec",
	       json_pack("{s:s, s:s}", "kind", "js", "source", "function decode( {"), 400, resp,
	       sizeof(resp));
	assert_non_null(strstr(resp, "does not compile"));
	api_ok(&f->d, "PUT", "/v5/iot/p1/products/wm/codec",
	       json_pack("{s:s, s:s}", "kind", "declarative", "source", "{\"messages\":[{\"id\":0,"
							"\"kind\":\"report\",\"service_id\":\"S\",\"fields\":[{\"name\":\"x\","
							"\"offset\":1,\"type\":\"uint12\"}]}],"
							"\"message_id\":{\"offset\":0,\"type\":\"uint8\"}}"),
	       400, resp, sizeof(resp));
	assert_non_null(strstr(resp, "uint12"));
}

static void test_codec_test_route_and_model_errors(void **state)
{
	struct platform_fixture *f = *state;
	char resp[8192];
	api_ok(&f->d, "POST", "/v5/iot/p1/products/wm/codec/test",
	       json_pack("{s:s}", "payload_hex", "005700000064"), 200, resp, sizeof(resp));
	assert_non_null(strstr(resp, "\"battery\":87"));
	assert_non_null(strstr(resp, "\"flow\":100"));
	api_ok(&f->d, "POST", "/v5/iot/p1/products/wm/codec/test",
	       json_pack("{s:{s:s, s:s, s:s, s:{s:i}, s:i}}", "cloud_req", "msgType", "cloudReq",
			 "serviceId", "WaterMeter", "cmd", "SET_INTERVAL", "paras", "interval", 600,
			 "mid", 258),
	       200, resp, sizeof(resp));
	assert_non_null(strstr(resp, "\"payload_hex\":\"0101020258\""));
	api_ok(&f->d, "POST", "/v5/iot/p1/products/wm/codec/test",
	       json_pack("{s:s}", "payload_hex", "07"), 400, resp, sizeof(resp));
	api_ok(&f->d, "POST", "/v5/iot/p1/products/wm/codec/test",
	       json_pack("{s:s}", "payload_hex", "zz"), 400, resp, sizeof(resp));
	assert_non_null(strstr(resp, "payload_hex"));

	/* A bad model is refused, naming the field, and the stored one stays. */
	json_t *bad = json_loads("[{\"service_id\":\"S\",\"properties\":[{\"property_name\":\"p\","
				 "\"data_type\":\"float\"}]}]",
				 0, NULL);
	api_ok(&f->d, "PUT", "/v5/iot/p1/products/wm", json_pack("{s:o}", "service_capabilities", bad),
	       400, resp, sizeof(resp));
	assert_non_null(strstr(resp, "service_capabilities[0].properties[0].data_type"));
	api_ok(&f->d, "GET", "/v5/iot/p1/products/wm", NULL, 200, resp, sizeof(resp));
	assert_non_null(strstr(resp, "\"service_id\":\"WaterMeter\""));
	api_ok(&f->d, "GET", "/v5/iot/p1/products/wm/codec", NULL, 200, resp, sizeof(resp));
	assert_non_null(strstr(resp, strcmp(f->kind, "js") == 0 ? "\"kind\":\"js\""
								: "\"kind\":\"declarative\""));
	/* Without a codec: 404 on read, the test route asks for one, commands are refused. */
	api_ok(&f->d, "DELETE", "/v5/iot/p1/products/wm/codec", NULL, 204, resp, sizeof(resp));
	api_ok(&f->d, "GET", "/v5/iot/p1/products/wm/codec", NULL, 404, resp, sizeof(resp));
	api_ok(&f->d, "POST", "/v5/iot/p1/products/wm/codec/test",
	       json_pack("{s:s}", "payload_hex", "00"), 400, resp, sizeof(resp));
	assert_non_null(strstr(resp, "has no codec"));
	json_decref(command_create(f, 5, "delay", -1, 400, resp, sizeof(resp)));
	assert_non_null(strstr(resp, "has no codec"));
}

static void rule_create(struct platform_fixture *f, int port, const char *events_json, int want,
			char *resp, size_t cap)
{
	char body[512];
	snprintf(body, sizeof(body), "{\"url\":\"http://127.0.0.1:%d/events\"%s%s}", port,
		 events_json ? ",\"events\":" : "", events_json ? events_json : "");
	int status = http_call(&f->d, "POST", "/v5/iot/p1/forwarding-rules", body, resp, cap);
	if (status != want)
		fail_msg("rule: %d, not %d: %s", status, want, resp);
}

static void expect_pushed(struct receiver *r, int timeout_ms, const char *a, const char *b,
			  const char *c)
{
	char *body = receiver_wait(r, timeout_ms, a, b, c, "\"node_id\":\"meter1\"",
				   "\"product_id\":\"wm\"", "\"request_id\":", "\"event_time_ms\":",
				   NULL);
	if (!body)
		fail_msg("nothing pushed with %s %s %s", a, b, c);
	free(body);
}

/* Push: every kind of event reaches the application's endpoint, through failures. */
static void test_push(void **state)
{
	struct platform_fixture *f = *state;
	char resp[8192];
	struct receiver r;
	receiver_start(&r, 0, 2); /* the first two POSTs get 500: retried with backoff */
	rule_create(f, r.port, NULL, 201, resp, sizeof(resp));
	assert_non_null(strstr(resp, "\"rule_id\":"));
	/* Bad rules are refused. */
	int status = http_call(&f->d, "POST", "/v5/iot/p1/forwarding-rules",
			       "{\"url\":\"ftp://example.com/\"}", resp, sizeof(resp));
	assert_int_equal(status, 400);
	assert_non_null(strstr(resp, "url must be"));
	rule_create(f, r.port, "[\"device.everything\"]", 400, resp, sizeof(resp));
	assert_non_null(strstr(resp, "events[0]"));

	static const uint8_t first[] = { 0, 87, 0x00, 0x01, 0x86, 0xA0 };
	register_and_observe(f, first, sizeof(first));
	expect_pushed(&r, 8000, "\"resource\":\"device.status\"", "\"event\":\"update\"",
		      "\"status\":\"ONLINE\"");
	expect_pushed(&r, 8000, "\"resource\":\"device.property\"", "\"event\":\"report\"",
		      "\"properties\":{\"battery\":87,\"flow\":100000}");

	json_t *cmd = command_create(f, 300, "immediately", -1, 201, resp, sizeof(resp));
	int mid = device_take_command(f, 300);
	uint8_t answer[] = { 2, (uint8_t)(mid >> 8), (uint8_t)mid, 0, 1 };
	json_decref(command_wait(f, json_string_value(json_object_get(cmd, "command_id")),
				 "DELIVERED"));
	device_notify(f, answer, sizeof(answer));
	char want_id[80];
	snprintf(want_id, sizeof(want_id), "\"command_id\":\"%s\"",
		 json_string_value(json_object_get(cmd, "command_id")));
	expect_pushed(&r, 8000, "\"resource\":\"device.command.status\"", want_id,
		      "\"status\":\"SUCCESSFUL\"");
	json_decref(cmd);

	/* A Send (POST /dp) is a message report: the raw content, base64. */
	assert_int_equal(coap_send_dp(f->fd, &f->d, 0x7001, 110, "[{\"n\":\"/3/0/9\",\"v\":5}]"),
			 COAP_CODE_CHANGED);
	expect_pushed(&r, 8000, "\"resource\":\"device.message\"", "\"content_format\":110",
		      "\"content\":\"W3sibiI6Ii8zLzAvOSIsInYiOjV9XQ==\"");

	assert_int_equal(coap_deregister(f->fd, &f->d.coap, f->reg_id), COAP_CODE_DELETED);
	expect_pushed(&r, 8000, "\"resource\":\"device.status\"", "\"status\":\"OFFLINE\"",
		      "\"event\":\"update\"");
	assert_true(metric(f, "lwm2md_push_failures_total") >= 2);
	assert_true(metric(f, "lwm2md_push_delivered_total") >= 5);

	/* The rule is listed with every event (the four above and the two firmware ones), and
	 * once deleted nothing more is pushed. */
	api_ok(&f->d, "GET", "/v5/iot/p1/forwarding-rules", NULL, 200, resp, sizeof(resp));
	json_t *list = json_loads(resp, 0, NULL);
	json_t *rule = json_array_get(json_object_get(list, "rules"), 0);
	assert_int_equal(json_array_size(json_object_get(list, "rules")), 1);
	assert_int_equal(json_array_size(json_object_get(rule, "events")), 6);
	char path[128];
	snprintf(path, sizeof(path), "/v5/iot/p1/forwarding-rules/%s",
		 json_string_value(json_object_get(rule, "rule_id")));
	json_decref(list);
	api_ok(&f->d, "DELETE", path, NULL, 204, resp, sizeof(resp));
	api_ok(&f->d, "DELETE", path, NULL, 404, resp, sizeof(resp));
	long queued = metric(f, "lwm2md_push_queued_total");
	assert_int_equal(coap_register(f->fd, &f->d.coap, "meter1", "300", "</3/0>", f->reg_id),
			 COAP_CODE_CREATED);
	usleep(200 * 1000);
	assert_int_equal(metric(f, "lwm2md_push_queued_total"), queued);
	receiver_stop(&r);
}

/* Events for an endpoint that is down wait in the outbox, across a restart. */
static void test_push_outbox_survives_restart(void **state)
{
	struct platform_fixture *f = *state;
	char resp[8192];
	struct receiver r;
	receiver_start(&r, 0, 0);
	int port = r.port;
	receiver_stop(&r); /* nobody listens: connection refused */
	rule_create(f, port, "[\"device.property/report\"]", 201, resp, sizeof(resp));
	static const uint8_t first[] = { 0, 55, 0, 0, 0, 9 };
	register_and_observe(f, first, sizeof(first));
	json_decref(shadow_reported(f, 1));
	for (int i = 0; i < 100 && metric(f, "lwm2md_push_failures_total") < 1; i++)
		usleep(20000);
	assert_true(metric(f, "lwm2md_push_failures_total") >= 1);

	daemon_stop(&f->d);
	daemon_restart(&f->d, NULL);
	receiver_start(&r, port, 0);
	char *body = receiver_wait(&r, 10000, "\"device.property\"", "\"battery\":55", NULL);
	assert_non_null(body);
	free(body);
	/* Only the event the rule asked for: no status events. */
	char *status_event = receiver_wait(&r, 0, "\"device.status\"", NULL);
	assert_null(status_event);
	receiver_stop(&r);
}

/* A full outbox drops its oldest events, counted; the daemon goes on. */
static void test_push_outbox_bound(void **state)
{
	struct platform_fixture *f = *state;
	char resp[4096];
	struct receiver r;
	receiver_start(&r, 0, 0);
	int port = r.port;
	receiver_stop(&r); /* down: everything stays in the outbox */
	rule_create(f, port, NULL, 201, resp, sizeof(resp));
	static const uint8_t first[] = { 0, 10, 0, 0, 0, 1 };
	register_and_observe(f, first, sizeof(first)); /* status ONLINE + a property report */
	static const uint8_t more[] = { 0, 11, 0, 0, 0, 2 };
	device_notify(f, more, sizeof(more));
	device_notify(f, more, sizeof(more));
	json_decref(shadow_reported(f, 3));
	long queued = metric(f, "lwm2md_push_queued_total");
	long dropped = metric(f, "lwm2md_push_dropped_total");
	assert_int_equal(queued, 4);
	assert_int_equal(dropped, 2); /* --push-outbox-max 2 */
}

static int setup_bound(void **state)
{
	static const char *const args[] = { "--push-outbox-max", "2", NULL };
	*state = start("declarative", args);
	return 0;
}

/* A product of standard objects: IPSO temperature 3303/0/5700 is property
 * Temperature.value, with the same shadow as binary products. */
static void test_mapped_resources(void **state)
{
	struct platform_fixture *f = *state;
	char resp[8192];
	json_t *caps = json_loads("[{\"service_id\":\"Temperature\",\"properties\":["
				  "{\"property_name\":\"value\",\"data_type\":\"decimal\"}]}]",
				  0, NULL);
	/* A mapping to a service the model lacks is refused. */
	api_ok(&f->d, "POST", "/v5/iot/p1/products",
	       json_pack("{s:s, s:s, s:O, s:[{s:s, s:s, s:s}]}", "product_id", "tp", "name", "T",
			 "service_capabilities", caps, "resource_mappings", "path", "3303/0/5700",
			 "service_id", "Humidity", "property_name", "value"),
	       400, resp, sizeof(resp));
	assert_non_null(strstr(resp, "resource_mappings[0].service_id"));
	api_ok(&f->d, "POST", "/v5/iot/p1/products",
	       json_pack("{s:s, s:s, s:o, s:[{s:s, s:s, s:s}]}", "product_id", "tp", "name", "T",
			 "service_capabilities", caps, "resource_mappings", "path", "3303/0/5700",
			 "service_id", "Temperature", "property_name", "value"),
	       201, resp, sizeof(resp));
	assert_non_null(strstr(resp, "\"resource_mappings\":[{"));
	api_ok(&f->d, "POST", "/v5/iot/p1/devices",
	       json_pack("{s:s, s:s, s:s}", "device_id", "tp_therm1", "node_id", "therm1",
			 "product_id", "tp"),
	       201, resp, sizeof(resp));
	assert_int_equal(coap_register(f->fd, &f->d.coap, "therm1", "300", "</3/0>,</3303/0>",
				       f->reg_id),
			 COAP_CODE_CREATED);
	struct coap_msg m;
	uint8_t buf[1500];
	coap_receive_request(f->fd, &m, buf, sizeof(buf));
	coap_assert_path(&m, "/3303/0/5700");
	uint32_t v;
	assert_int_equal(coap_msg_get_uint_option(&m, COAP_OPTION_OBSERVE, &v), 0);
	/* Answer in text (Content-Format 0). */
	struct coap_msg a;
	uint8_t out[256];
	assert_int_equal(coap_msg_init(&a, COAP_TYPE_ACK, COAP_CODE_CONTENT, m.mid, m.token,
				       m.token_len),
			 0);
	coap_msg_add_uint_option(&a, COAP_OPTION_OBSERVE, 1);
	coap_msg_add_uint_option(&a, COAP_OPTION_CONTENT_FORMAT, 0);
	coap_msg_set_payload(&a, "21.5", 4);
	int n = coap_msg_encode(&a, out, sizeof(out));
	coap_send_raw(f->fd, &f->d.coap, out, (size_t)n);
	for (int i = 0; i < 100; i++) {
		api_ok(&f->d, "GET", "/v5/iot/p1/devices/tp_therm1/shadow", NULL, 200, resp,
		       sizeof(resp));
		if (strstr(resp, "\"value\":21.5"))
			break;
		usleep(20000);
	}
	assert_non_null(strstr(resp, "\"service_id\":\"Temperature\""));
	assert_non_null(strstr(resp, "\"value\":21.5"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_writes_committed_while_running, setup_decl,
					    platform_teardown),
	    cmocka_unit_test_setup_teardown(test_report_and_command, setup_decl, platform_teardown),
	    cmocka_unit_test_setup_teardown(test_cancel_uplink_observation, setup_decl,
					    platform_teardown),
	    cmocka_unit_test_setup_teardown(test_report_and_command, setup_js, platform_teardown),
	    cmocka_unit_test_setup_teardown(test_delayed_command_survives_restart, setup_decl,
					    platform_teardown),
	    cmocka_unit_test_setup_teardown(test_delayed_command_survives_restart, setup_js,
					    platform_teardown),
	    cmocka_unit_test_setup_teardown(test_expiry_and_limit, setup_limit, platform_teardown),
	    cmocka_unit_test_setup_teardown(test_sent_command_not_sent_twice, setup_decl,
					    platform_teardown),
	    cmocka_unit_test_setup_teardown(test_encoding_at_shutdown_stays_pending,
					    setup_slow_encode, platform_teardown),
	    cmocka_unit_test_setup_teardown(test_delayed_command_to_sleeping_device, setup_queue,
					    platform_teardown),
	    cmocka_unit_test_setup_teardown(test_codec_test_route_and_model_errors, setup_decl,
					    platform_teardown),
	    cmocka_unit_test_setup_teardown(test_codec_test_route_and_model_errors, setup_js,
					    platform_teardown),
	    cmocka_unit_test_setup_teardown(test_bad_scripts, setup_js, platform_teardown),
	    cmocka_unit_test_setup_teardown(test_push, setup_decl, platform_teardown),
	    cmocka_unit_test_setup_teardown(test_mapped_resources, setup_decl, platform_teardown),
	    cmocka_unit_test_setup_teardown(test_push_outbox_bound, setup_bound, platform_teardown),
	    cmocka_unit_test_setup_teardown(test_push_outbox_survives_restart, setup_js,
					    platform_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
