/*
 * harness_platform: the raw-socket device of the platform tests (harness_platform.h).
 */
#include "harness_platform.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "coap/coap_msg.h"

void api_ok(struct daemon_proc *d, const char *method, const char *path, json_t *body,
		   int want, char *resp, size_t cap)
{
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	int status = http_call(d, method, path, text, resp, cap);
	free(text);
	json_decref(body);
	if (status != want)
		fail_msg("%s %s: %d, not %d: %s", method, path, status, want, resp);
}

void put_codec(struct platform_fixture *f, const char *kind, const char *source)
{
	char resp[16384];
	api_ok(&f->d, "PUT", "/v5/iot/p1/products/wm/codec",
	       json_pack("{s:s, s:s}", "kind", kind, "source", source), 200, resp, sizeof(resp));
}

struct platform_fixture *platform_start(const char *kind, const char *model,
					const char *source, const char *const *args)
{
	struct platform_fixture *f = calloc(1, sizeof(*f));
	f->kind = kind;
	daemon_start(&f->d, args);
	char resp[16384];
	json_error_t e;
	json_t *caps = json_loads(model, 0, &e);
	assert_non_null(caps);
	api_ok(&f->d, "POST", "/v5/iot/p1/products",
	       json_pack("{s:s, s:s, s:s, s:o}", "product_id", "wm", "name", "Water meter",
			 "data_format", "binary", "service_capabilities", caps),
	       201, resp, sizeof(resp));
	put_codec(f, kind, source);
	api_ok(&f->d, "POST", "/v5/iot/p1/devices",
	       json_pack("{s:s, s:s, s:s}", "device_id", "wm_meter1", "node_id", "meter1",
			 "product_id", "wm"),
	       201, resp, sizeof(resp));
	f->fd = coap_socket("127.0.0.1:0");
	return f;
}

/* Sends a message of type/code with token, Content-Format opaque, Observe (when >= 0). */
void device_send(struct platform_fixture *f, uint8_t type, uint8_t code, uint16_t mid,
			const uint8_t *token, size_t token_len, long observe, const void *payload,
			size_t len)
{
	struct coap_msg m;
	uint8_t out[1500];
	assert_int_equal(coap_msg_init(&m, type, code, mid, token, token_len), 0);
	if (observe >= 0)
		assert_int_equal(coap_msg_add_uint_option(&m, COAP_OPTION_OBSERVE, (uint32_t)observe), 0);
	if (len) {
		assert_int_equal(coap_msg_add_uint_option(&m, COAP_OPTION_CONTENT_FORMAT, 42), 0);
		coap_msg_set_payload(&m, payload, len);
	}
	int n = coap_msg_encode(&m, out, sizeof(out));
	assert_true(n > 0);
	coap_send_raw(f->fd, &f->d.coap, out, (size_t)n);
}

/* Registers, and answers the platform's Observe of /19/0/0 with a first report. */
void register_and_observe(struct platform_fixture *f, const uint8_t *first, size_t len)
{
	assert_int_equal(coap_register(f->fd, &f->d.coap, "meter1", "300", "</3/0>,</19/0>,</19/1>",
				       f->reg_id),
			 COAP_CODE_CREATED);
	struct coap_msg m;
	uint8_t buf[1500];
	coap_receive_request(f->fd, &m, buf, sizeof(buf));
	assert_int_equal(m.code, COAP_CODE_GET);
	coap_assert_path(&m, "/19/0/0");
	uint32_t v;
	assert_int_equal(coap_msg_get_uint_option(&m, COAP_OPTION_OBSERVE, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(coap_msg_get_uint_option(&m, COAP_OPTION_ACCEPT, &v), 0);
	assert_int_equal(v, 42);
	memcpy(f->obs_token, m.token, m.token_len);
	f->obs_token_len = m.token_len;
	f->obs_seq = 1;
	device_send(f, COAP_TYPE_ACK, COAP_CODE_CONTENT, m.mid, m.token, m.token_len, f->obs_seq,
		    first, len);
}

/* A report or answer on the uplink: a CON notification, ACKed by the server. */
void device_notify(struct platform_fixture *f, const uint8_t *payload, size_t len)
{
	static uint16_t mid = 0x4000;
	device_send(f, COAP_TYPE_CON, COAP_CODE_CONTENT, ++mid, f->obs_token, f->obs_token_len,
		    ++f->obs_seq, payload, len);
	uint8_t buf[256];
	struct coap_msg ack;
	ssize_t n = coap_recv_raw(f->fd, buf, sizeof(buf), 3000);
	assert_true(n > 0);
	assert_int_equal(coap_msg_parse(&ack, buf, (size_t)n), 0);
	assert_int_equal(ack.type, COAP_TYPE_ACK);
	assert_int_equal(ack.mid, mid);
}

/* The shadow's reported properties of WaterMeter, polled until version reaches want. */
json_t *shadow_reported(struct platform_fixture *f, int want_version)
{
	char resp[8192];
	for (int i = 0; i < 100; i++) {
		api_ok(&f->d, "GET", "/v5/iot/p1/devices/wm_meter1/shadow", NULL, 200, resp,
		       sizeof(resp));
		json_t *j = json_loads(resp, 0, NULL);
		json_t *svc = json_array_get(json_object_get(j, "shadow"), 0);
		json_t *rep = json_object_get(svc, "reported");
		if (rep && json_integer_value(json_object_get(rep, "version")) >= want_version) {
			assert_string_equal(json_string_value(json_object_get(svc, "service_id")),
					    "WaterMeter");
			json_t *props = json_incref(json_object_get(rep, "properties"));
			json_decref(j);
			return props;
		}
		json_decref(j);
		usleep(20000);
	}
	fail_msg("the shadow never reached version %d: %s", want_version, resp);
	return NULL;
}

json_int_t prop(json_t *props, const char *name)
{
	return json_integer_value(json_object_get(props, name));
}

/* The command's JSON, polled until its status is want. */
json_t *command_wait(struct platform_fixture *f, const char *id, const char *want)
{
	char path[256], resp[8192];
	snprintf(path, sizeof(path), "/v5/iot/p1/devices/wm_meter1/async-commands/%s", id);
	for (int i = 0; i < 150; i++) {
		api_ok(&f->d, "GET", path, NULL, 200, resp, sizeof(resp));
		json_t *j = json_loads(resp, 0, NULL);
		if (strcmp(json_string_value(json_object_get(j, "status")), want) == 0)
			return j;
		json_decref(j);
		usleep(20000);
	}
	fail_msg("command %s never became %s: %s", id, want, resp);
	return NULL;
}

/* Creates a SET_INTERVAL command; returns its JSON. */
json_t *command_create(struct platform_fixture *f, int interval, const char *strategy,
			      int expire, int want_status, char *resp, size_t cap)
{
	json_t *body = json_pack("{s:s, s:s, s:{s:i}, s:s}", "service_id", "WaterMeter",
				 "command_name", "SET_INTERVAL", "paras", "interval", interval,
				 "send_strategy", strategy);
	if (expire >= 0)
		json_object_set_new(body, "expire_time", json_integer(expire));
	api_ok(&f->d, "POST", "/v5/iot/p1/devices/wm_meter1/async-commands", body, want_status,
	       resp, cap);
	return want_status == 201 ? json_loads(resp, 0, NULL) : NULL;
}

/* The device takes PUT /19/1/0 and checks its bytes: [1, mid, interval]. Returns mid. */
int device_take_command(struct platform_fixture *f, int interval)
{
	struct coap_msg m;
	uint8_t buf[1500];
	coap_receive_request(f->fd, &m, buf, sizeof(buf));
	assert_int_equal(m.code, COAP_CODE_PUT);
	coap_assert_path(&m, "/19/1/0");
	uint32_t ct;
	assert_int_equal(coap_msg_get_uint_option(&m, COAP_OPTION_CONTENT_FORMAT, &ct), 0);
	assert_int_equal(ct, 42);
	assert_int_equal(m.payload_len, 5);
	assert_int_equal(m.payload[0], 1);
	assert_int_equal((m.payload[3] << 8) | m.payload[4], interval);
	int mid = (m.payload[1] << 8) | m.payload[2];
	device_send(f, COAP_TYPE_ACK, COAP_CODE_CHANGED, m.mid, m.token, m.token_len, -1, NULL, 0);
	return mid;
}


int platform_teardown(void **state)
{
	struct platform_fixture *f = *state;
	daemon_stop(&f->d);
	close(f->fd);
	daemon_cleanup(&f->d);
	free(f);
	return 0;
}
