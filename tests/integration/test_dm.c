/*
 * Integration tests of Device Management through the REST API: the real daemon, and a
 * device played by the test on a raw UDP socket, so that every request the server sends
 * is checked byte for byte (method, Uri-Path, Accept, Content-Format, payload) and every
 * answer is one we chose (success, error codes, RST, silence).
 *
 * The HTTP call blocks until the device answers, so it runs on a thread while the test's
 * main thread plays the device.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

static const char links[] = "</1/0>,</3/0>,</19/0>";

struct fixture {
	struct daemon_proc d;
	int fd; /* the device's socket */
	char reg_id[32];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	daemon_start(&f->d, NULL);
	api_create_product(&f->d, "meter");
	api_create_device(&f->d, "meter", "dm01", false, 0);
	f->fd = coap_socket("127.0.0.1:0");
	assert_int_equal(coap_register(f->fd, &f->d.coap, "dm01", "300", links, f->reg_id),
			 COAP_CODE_CREATED);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	close(f->fd);
	daemon_cleanup(&f->d);
	free(f);
	return 0;
}

/* An API call to dm01's /lwm2m{path}, on a thread while the test plays the device. */
static void call_start(struct api_async *c, struct daemon_proc *d, const char *method,
		       const char *path, const char *body)
{
	char full[256];
	snprintf(full, sizeof(full), "/v5/iot/p1/devices/meter_dm01/lwm2m%s", path);
	api_async_start(c, d, method, full, body);
}

static void device_answer(struct fixture *f, const struct coap_msg *req, uint8_t code, int ct,
			  const void *payload, size_t len)
{
	coap_answer(f->fd, &f->d.coap, req, code, ct, 0, NULL, payload, len);
}

static void test_read_text(void **state)
{
	struct fixture *f = *state;
	struct api_async c;
	struct coap_msg req;
	uint8_t buf[1500];
	call_start(&c, &f->d, "GET", "/3/0/0?format=text&timeout=5", NULL);
	coap_receive_request(f->fd, &req, buf, sizeof(buf));
	assert_int_equal(req.code, COAP_CODE_GET);
	coap_assert_path(&req, "/3/0/0");
	uint32_t accept;
	assert_int_equal(coap_msg_get_uint_option(&req, COAP_OPTION_ACCEPT, &accept), 0);
	assert_int_equal(accept, 0);
	device_answer(f, &req, COAP_CODE_CONTENT, 0, "Open Mobile Alliance", 20);
	api_async_wait(&c);
	assert_int_equal(c.status, 200);
	assert_in(c.resp, "\"code\":\"2.05\"");
	assert_in(c.resp, "\"operation\":\"read\"");
	assert_in(c.resp, "{\"path\":\"/3/0/0\",\"type\":\"string\","
				"\"value\":\"Open Mobile Alliance\"}");
}

static void test_read_tlv_instance(void **state)
{
	struct fixture *f = *state;
	struct api_async c;
	struct coap_msg req;
	uint8_t buf[1500];
	call_start(&c, &f->d, "GET", "/3/0?format=tlv", NULL);
	coap_receive_request(f->fd, &req, buf, sizeof(buf));
	coap_assert_path(&req, "/3/0");
	/* Manufacturer "Open Mobile Alliance" (resource 0), Battery Level 100 (resource 9),
	 * Available Power Sources [1, 5] (multiple resource 6). */
	static const uint8_t tlv[] = {
		0xc8, 0x00, 0x14, 'O', 'p', 'e', 'n', ' ', 'M', 'o', 'b', 'i', 'l', 'e', ' ',
		'A', 'l', 'l', 'i', 'a', 'n', 'c', 'e', 0xc1, 0x09, 0x64, 0x86, 0x06, 0x41,
		0x00, 0x01, 0x41, 0x01, 0x05,
	};
	device_answer(f, &req, COAP_CODE_CONTENT, 11542, tlv, sizeof(tlv));
	api_async_wait(&c);
	assert_int_equal(c.status, 200);
	assert_in(c.resp, "\"format\":\"tlv\"");
	assert_in(c.resp, "{\"path\":\"/3/0/9\",\"type\":\"integer\",\"value\":100}");
	assert_in(c.resp, "{\"path\":\"/3/0/6/1\",\"type\":\"integer\",\"value\":5}");
}

static void test_read_senml_json(void **state)
{
	struct fixture *f = *state;
	struct api_async c;
	struct coap_msg req;
	uint8_t buf[1500];
	call_start(&c, &f->d, "GET", "/3/0?format=senml-json", NULL);
	coap_receive_request(f->fd, &req, buf, sizeof(buf));
	uint32_t accept;
	assert_int_equal(coap_msg_get_uint_option(&req, COAP_OPTION_ACCEPT, &accept), 0);
	assert_int_equal(accept, 110);
	const char *senml = "[{\"bn\":\"/3/0\",\"n\":\"/9\",\"v\":87},"
			    "{\"n\":\"/6/0\",\"v\":1}]";
	device_answer(f, &req, COAP_CODE_CONTENT, 110, senml, strlen(senml));
	api_async_wait(&c);
	assert_int_equal(c.status, 200);
	assert_in(c.resp, "\"format\":\"senml-json\"");
	assert_in(c.resp, "{\"path\":\"/3/0/9\",\"type\":\"integer\",\"value\":87}");
	assert_in(c.resp, "{\"path\":\"/3/0/6/0\",\"type\":\"integer\",\"value\":1}");
}

static void test_discover(void **state)
{
	struct fixture *f = *state;
	struct api_async c;
	struct coap_msg req;
	uint8_t buf[1500];
	call_start(&c, &f->d, "GET", "/3?op=discover", NULL);
	coap_receive_request(f->fd, &req, buf, sizeof(buf));
	uint32_t accept;
	assert_int_equal(coap_msg_get_uint_option(&req, COAP_OPTION_ACCEPT, &accept), 0);
	assert_int_equal(accept, 40);
	const char *l = "</3>;ver=1.1,</3/0/0>,</3/0/9>;pmin=10";
	device_answer(f, &req, COAP_CODE_CONTENT, 40, l, strlen(l));
	api_async_wait(&c);
	assert_int_equal(c.status, 200);
	assert_in(c.resp, "\"links\":\"</3>;ver=1.1,</3/0/0>,</3/0/9>;pmin=10\"");

	/* Objects no model describes are named in the device's registration. */
	char id[32], resp[4096];
	assert_int_equal(coap_register(f->fd, &f->d.coap, "dm01", "300",
				       "</3/0>,</3303/0>,</3303/1>,</10241/0>", id),
			 COAP_CODE_CREATED);
	assert_int_equal(http_call(&f->d, "GET", "/v5/iot/p1/devices/meter_dm01", NULL, resp,
				   sizeof(resp)),
			 200);
	assert_in(resp, "\"unknown_objects\":[3303,10241]");
}

static void test_write_execute_delete_attributes(void **state)
{
	struct fixture *f = *state;
	struct api_async c;
	struct coap_msg req;
	uint8_t buf[1500];

	/* Write (replace) a string resource as text. */
	call_start(&c, &f->d, "PUT", "/3/0/14",
		   "{\"format\":\"text\",\"values\":[{\"path\":\"/3/0/14\",\"value\":\"+02\"}]}");
	coap_receive_request(f->fd, &req, buf, sizeof(buf));
	assert_int_equal(req.code, COAP_CODE_PUT);
	coap_assert_path(&req, "/3/0/14");
	uint32_t ct;
	assert_int_equal(coap_msg_get_uint_option(&req, COAP_OPTION_CONTENT_FORMAT, &ct), 0);
	assert_int_equal(ct, 0);
	assert_int_equal(req.payload_len, 3);
	assert_memory_equal(req.payload, "+02", 3);
	device_answer(f, &req, COAP_CODE_CHANGED, -1, NULL, 0);
	api_async_wait(&c);
	assert_int_equal(c.status, 200);
	assert_in(c.resp, "\"code\":\"2.04\"");

	/* Write-update of an instance, TLV by default: Lifetime (1/0/1) = 300. */
	call_start(&c, &f->d, "POST", "/1/0",
		   "{\"values\":[{\"path\":\"/1/0/1\",\"value\":300}]}");
	coap_receive_request(f->fd, &req, buf, sizeof(buf));
	assert_int_equal(req.code, COAP_CODE_POST);
	assert_int_equal(coap_msg_get_uint_option(&req, COAP_OPTION_CONTENT_FORMAT, &ct), 0);
	assert_int_equal(ct, 11542);
	static const uint8_t lifetime[] = { 0xc2, 0x01, 0x01, 0x2c };
	assert_int_equal(req.payload_len, sizeof(lifetime));
	assert_memory_equal(req.payload, lifetime, sizeof(lifetime));
	device_answer(f, &req, COAP_CODE_CHANGED, -1, NULL, 0);
	api_async_wait(&c);
	assert_int_equal(c.status, 200);

	/* Execute with arguments. */
	call_start(&c, &f->d, "POST", "/3/0/4", "{\"arguments\":\"0='now'\"}");
	coap_receive_request(f->fd, &req, buf, sizeof(buf));
	assert_int_equal(req.code, COAP_CODE_POST);
	coap_assert_path(&req, "/3/0/4");
	assert_int_equal(req.payload_len, 7);
	assert_memory_equal(req.payload, "0='now'", 7);
	device_answer(f, &req, COAP_CODE_CHANGED, -1, NULL, 0);
	api_async_wait(&c);
	assert_int_equal(c.status, 200);
	assert_in(c.resp, "\"operation\":\"execute\"");

	/* Write-Attributes. */
	call_start(&c, &f->d, "PUT", "/3/0/9?pmin=10&pmax=60", NULL);
	coap_receive_request(f->fd, &req, buf, sizeof(buf));
	assert_int_equal(req.code, COAP_CODE_PUT);
	assert_int_equal(coap_msg_count_options(&req, COAP_OPTION_URI_QUERY), 2);
	assert_int_equal(req.payload_len, 0);
	device_answer(f, &req, COAP_CODE_CHANGED, -1, NULL, 0);
	api_async_wait(&c);
	assert_int_equal(c.status, 200);

	/* Delete; the device says 4.04, which is its answer, not ours. */
	call_start(&c, &f->d, "DELETE", "/19/7", NULL);
	coap_receive_request(f->fd, &req, buf, sizeof(buf));
	assert_int_equal(req.code, COAP_CODE_DELETE);
	coap_assert_path(&req, "/19/7");
	device_answer(f, &req, COAP_CODE_NOT_FOUND, -1, NULL, 0);
	api_async_wait(&c);
	assert_int_equal(c.status, 200);
	assert_in(c.resp, "\"code\":\"4.04\"");
}

/* A notification from the device: a CON 2.05 with the observation's token. Returns the
 * daemon's answer (ACK or RST) type. */
static int device_notify(struct fixture *f, const uint8_t *token, size_t token_len,
			 uint16_t mid, uint32_t seq, const char *value)
{
	struct coap_msg m;
	uint8_t out[256], in[256];
	coap_msg_init(&m, COAP_TYPE_CON, COAP_CODE_CONTENT, mid, token, token_len);
	coap_msg_add_uint_option(&m, COAP_OPTION_OBSERVE, seq);
	coap_msg_add_uint_option(&m, COAP_OPTION_CONTENT_FORMAT, 0);
	coap_msg_set_payload(&m, value, strlen(value));
	int n = coap_msg_encode(&m, out, sizeof(out));
	coap_send_raw(f->fd, &f->d.coap, out, (size_t)n);
	ssize_t r = coap_recv_raw(f->fd, in, sizeof(in), 3000);
	struct coap_msg a;
	if (r <= 0 || coap_msg_parse(&a, in, (size_t)r) != 0 || a.mid != mid)
		return -1;
	return a.type;
}

/* Observe /3/0/9; returns the observation id, with the token in token. */
static long observe_battery(struct fixture *f, uint8_t token[8], size_t *token_len)
{
	struct api_async c;
	struct coap_msg req;
	uint8_t buf[1500];
	call_start(&c, &f->d, "GET", "/3/0/9?op=observe&format=text", NULL);
	coap_receive_request(f->fd, &req, buf, sizeof(buf));
	uint32_t obs;
	assert_int_equal(coap_msg_get_uint_option(&req, COAP_OPTION_OBSERVE, &obs), 0);
	assert_int_equal(obs, 0);
	memcpy(token, req.token, req.token_len);
	*token_len = req.token_len;
	struct coap_msg m;
	uint8_t out[64];
	coap_msg_init(&m, COAP_TYPE_ACK, COAP_CODE_CONTENT, req.mid, req.token, req.token_len);
	coap_msg_add_uint_option(&m, COAP_OPTION_OBSERVE, 1);
	coap_msg_add_uint_option(&m, COAP_OPTION_CONTENT_FORMAT, 0);
	coap_msg_set_payload(&m, "90", 2);
	int n = coap_msg_encode(&m, out, sizeof(out));
	coap_send_raw(f->fd, &f->d.coap, out, (size_t)n);
	api_async_wait(&c);
	assert_int_equal(c.status, 200);
	assert_in(c.resp, "\"value\":90");
	const char *id = strstr(c.resp, "\"observation_id\":");
	assert_non_null(id);
	return strtol(id + 17, NULL, 10);
}

static void test_observe_notify_cancel(void **state)
{
	struct fixture *f = *state;
	uint8_t token[8];
	size_t token_len;
	char path[128], resp[4096];
	long id = observe_battery(f, token, &token_len);
	struct stream events;
	stream_open(&events, &f->d, "?device_id=meter_dm01");
	assert_int_equal(stream_wait(&events, ": lwm2md events", 3000), 0);

	/* Notifications are ACKed, kept, and streamed to applications. */
	assert_int_equal(device_notify(f, token, token_len, 0x5001, 2, "85"), COAP_TYPE_ACK);
	assert_int_equal(stream_wait(&events, "event: notification", 3000), 0);
	assert_int_equal(stream_wait(&events, "\"seq\":2", 1000), 0);
	assert_int_equal(stream_wait(&events, "{\"path\":\"/3/0/9\",\"type\":\"integer\","
					      "\"value\":85}",
				     1000),
			 0);
	close(events.fd);
	assert_int_equal(device_notify(f, token, token_len, 0x5002, 3, "80"), COAP_TYPE_ACK);
	assert_int_equal(http_call(&f->d, "GET", "/v5/iot/p1/devices/meter_dm01/observations",
				   NULL, resp, sizeof(resp)),
			 200);
	assert_in(resp, "\"notifications\":2");
	assert_in(resp, "{\"path\":\"/3/0/9\",\"type\":\"integer\",\"value\":80}");
	/* A notification with a token nobody observes gets RST. */
	static const uint8_t stranger[] = { 9, 9, 9, 9 };
	assert_int_equal(device_notify(f, stranger, sizeof(stranger), 0x5003, 4, "1"),
			 COAP_TYPE_RST);

	/* Passive cancel: the next notification is refused with RST. */
	snprintf(path, sizeof(path), "/v5/iot/p1/devices/meter_dm01/observations/%ld?mode=passive",
		 id);
	assert_int_equal(http_call(&f->d, "DELETE", path, NULL, resp, sizeof(resp)), 204);
	assert_int_equal(device_notify(f, token, token_len, 0x5004, 5, "75"), COAP_TYPE_RST);

	/* Active cancel: GET with Observe 1 and the same token. */
	id = observe_battery(f, token, &token_len);
	snprintf(path, sizeof(path), "/observations/%ld", id);
	struct api_async c;
	char full[256];
	snprintf(full, sizeof(full), "/v5/iot/p1/devices/meter_dm01%s", path);
	api_async_start(&c, &f->d, "DELETE", full, NULL);
	struct coap_msg req;
	uint8_t buf[1500];
	coap_receive_request(f->fd, &req, buf, sizeof(buf));
	uint32_t obs;
	assert_int_equal(coap_msg_get_uint_option(&req, COAP_OPTION_OBSERVE, &obs), 0);
	assert_int_equal(obs, 1);
	assert_int_equal(req.token_len, token_len);
	assert_memory_equal(req.token, token, token_len);
	device_answer(f, &req, COAP_CODE_CONTENT, 0, "70", 2);
	api_async_wait(&c);
	assert_int_equal(c.status, 200);
	assert_in(c.resp, "\"operation\":\"observe-cancel\"");
	assert_int_equal(http_call(&f->d, "GET", "/v5/iot/p1/devices/meter_dm01/observations",
				   NULL, resp, sizeof(resp)),
			 200);
	assert_in(resp, "{\"observations\":[]}");
	assert_int_equal(device_notify(f, token, token_len, 0x5005, 6, "65"), COAP_TYPE_RST);
}

/* Observations are stored: a notification after a restart still finds its observation. */
static void test_observation_survives_restart(void **state)
{
	struct fixture *f = *state;
	uint8_t token[8];
	size_t token_len;
	char resp[4096], path[128];
	long id = observe_battery(f, token, &token_len);
	daemon_stop(&f->d);
	daemon_restart(&f->d, NULL);
	assert_int_equal(device_notify(f, token, token_len, 0x6001, 2, "66"), COAP_TYPE_ACK);
	assert_int_equal(http_call(&f->d, "GET", "/v5/iot/p1/devices/meter_dm01/observations",
				   NULL, resp, sizeof(resp)),
			 200);
	snprintf(path, sizeof(path), "\"observation_id\":%ld", id);
	assert_in(resp, path);
	assert_in(resp, "{\"path\":\"/3/0/9\",\"type\":\"integer\",\"value\":66}");
	/* A passive cancel is remembered across a restart too. */
	snprintf(path, sizeof(path), "/v5/iot/p1/devices/meter_dm01/observations/%ld?mode=passive",
		 id);
	assert_int_equal(http_call(&f->d, "DELETE", path, NULL, resp, sizeof(resp)), 204);
	daemon_stop(&f->d);
	daemon_restart(&f->d, NULL);
	assert_int_equal(device_notify(f, token, token_len, 0x6002, 3, "65"), COAP_TYPE_RST);
}

static void test_errors(void **state)
{
	struct fixture *f = *state;
	struct api_async c;
	struct coap_msg req;
	uint8_t buf[1500];
	char resp[2048];

	/* Silence: 504 after the timeout (the device ACKs nothing). */
	call_start(&c, &f->d, "GET", "/3/0/9?timeout=1", NULL);
	coap_receive_request(f->fd, &req, buf, sizeof(buf));
	api_async_wait(&c);
	assert_int_equal(c.status, 504);

	/* RST: 502. */
	call_start(&c, &f->d, "GET", "/3/0/9", NULL);
	coap_receive_request(f->fd, &req, buf, sizeof(buf));
	struct coap_msg rst;
	uint8_t out[16];
	coap_msg_init(&rst, COAP_TYPE_RST, COAP_CODE_EMPTY, req.mid, NULL, 0);
	int n = coap_msg_encode(&rst, out, sizeof(out));
	coap_send_raw(f->fd, &f->d.coap, out, (size_t)n);
	api_async_wait(&c);
	assert_int_equal(c.status, 502);

	/* Malformed content from the device: 200 with the raw bytes and the decode error. */
	call_start(&c, &f->d, "GET", "/3/0", NULL);
	coap_receive_request(f->fd, &req, buf, sizeof(buf));
	static const uint8_t bad_tlv[] = { 0xc8, 0x00, 0x14, 'O', 'p' }; /* truncated */
	device_answer(f, &req, COAP_CODE_CONTENT, 11542, bad_tlv, sizeof(bad_tlv));
	api_async_wait(&c);
	assert_int_equal(c.status, 200);
	assert_in(c.resp, "\"decode_error\":\"malformed content\"");
	assert_in(c.resp, "\"payload_base64\":\"yAAUT3A=\"");

	/* Requests the API refuses itself. */
	assert_int_equal(http_call(&f->d, "GET", "/v5/iot/p1/devices/meter_dm01/lwm2m/3/x", NULL,
				   resp, sizeof(resp)),
			 400);
	assert_int_equal(http_call(&f->d, "DELETE", "/v5/iot/p1/devices/meter_dm01/lwm2m/3/0/1",
				   NULL, resp, sizeof(resp)),
			 400);
	assert_int_equal(http_call(&f->d, "PUT", "/v5/iot/p1/devices/meter_dm01/lwm2m/3/0/14",
				   "{\"values\":[{\"path\":\"/3/0/14\",\"value\":5}]}", resp,
				   sizeof(resp)),
			 400);
	assert_int_equal(http_call(&f->d, "GET", "/v5/iot/p1/devices/meter_nope/lwm2m/3/0",
				   NULL, resp, sizeof(resp)),
			 404);
	/* A device that is not registered: 409. */
	assert_int_equal(coap_deregister(f->fd, &f->d.coap, f->reg_id), COAP_CODE_DELETED);
	assert_int_equal(http_call(&f->d, "GET", "/v5/iot/p1/devices/meter_dm01/lwm2m/3/0",
				   NULL, resp, sizeof(resp)),
			 409);
}

/* A call still waiting when the daemon stops gets 503, and the daemon exits cleanly. */
static void test_shutdown_while_waiting(void **state)
{
	struct fixture *f = *state;
	struct api_async c;
	struct coap_msg req;
	uint8_t buf[1500];
	call_start(&c, &f->d, "GET", "/3/0/9?timeout=30", NULL);
	coap_receive_request(f->fd, &req, buf, sizeof(buf));
	daemon_stop(&f->d);
	api_async_wait(&c);
	assert_true(c.status == 503 || c.status < 0);
}

static void composite_call(struct api_async *c, struct daemon_proc *d, const char *body)
{
	api_async_start(c, d, "POST", "/v5/iot/p1/devices/meter_dm01/lwm2m-composite", body);
}

static void test_composite(void **state)
{
	struct fixture *f = *state;
	struct api_async c;
	struct coap_msg req;
	uint8_t buf[1500];
	uint32_t v;

	/* Read-Composite: FETCH / with the paths in SenML JSON. */
	composite_call(&c, &f->d, "{\"operation\":\"read\",\"paths\":[\"/3/0/9\",\"/1/0/1\"]}");
	coap_receive_request(f->fd, &req, buf, sizeof(buf));
	assert_int_equal(req.code, COAP_CODE_FETCH);
	assert_int_equal(coap_msg_count_options(&req, COAP_OPTION_URI_PATH), 0);
	assert_int_equal(coap_msg_get_uint_option(&req, COAP_OPTION_CONTENT_FORMAT, &v), 0);
	assert_int_equal(v, 110);
	assert_int_equal(coap_msg_get_uint_option(&req, COAP_OPTION_ACCEPT, &v), 0);
	assert_int_equal(v, 110);
	const char *paths = "[{\"n\":\"/3/0/9\"},{\"n\":\"/1/0/1\"}]";
	assert_int_equal(req.payload_len, strlen(paths));
	assert_memory_equal(req.payload, paths, strlen(paths));
	const char *answer = "[{\"n\":\"/3/0/9\",\"v\":70},{\"n\":\"/1/0/1\",\"v\":300}]";
	device_answer(f, &req, COAP_CODE_CONTENT, 110, answer, strlen(answer));
	api_async_wait(&c);
	assert_int_equal(c.status, 200);
	assert_in(c.resp, "\"operation\":\"read-composite\"");
	assert_in(c.resp, "{\"path\":\"/1/0/1\",\"type\":\"integer\",\"value\":300}");

	/* Write-Composite: iPATCH / with the values. */
	composite_call(&c, &f->d,
		       "{\"operation\":\"write\",\"values\":[{\"path\":\"/1/0/1\",\"value\":600},"
		       "{\"path\":\"/3/0/14\",\"value\":\"+01\"}]}");
	coap_receive_request(f->fd, &req, buf, sizeof(buf));
	assert_int_equal(req.code, COAP_CODE_IPATCH);
	assert_int_equal(coap_msg_get_uint_option(&req, COAP_OPTION_CONTENT_FORMAT, &v), 0);
	assert_int_equal(v, 110);
	const char *values = "[{\"bn\":\"/\",\"n\":\"1/0/1\",\"v\":600},"
			     "{\"n\":\"3/0/14\",\"vs\":\"+01\"}]";
	assert_int_equal(req.payload_len, strlen(values));
	assert_memory_equal(req.payload, values, strlen(values));
	device_answer(f, &req, COAP_CODE_CHANGED, -1, NULL, 0);
	api_async_wait(&c);
	assert_int_equal(c.status, 200);
	assert_in(c.resp, "\"code\":\"2.04\"");

	/* Observe-Composite: the same FETCH with Observe 0; an observation on "/". */
	composite_call(&c, &f->d, "{\"operation\":\"observe\",\"paths\":[\"/3/0/9\"]}");
	coap_receive_request(f->fd, &req, buf, sizeof(buf));
	assert_int_equal(req.code, COAP_CODE_FETCH);
	assert_int_equal(coap_msg_get_uint_option(&req, COAP_OPTION_OBSERVE, &v), 0);
	assert_int_equal(v, 0);
	struct coap_msg m;
	uint8_t out[256];
	coap_msg_init(&m, COAP_TYPE_ACK, COAP_CODE_CONTENT, req.mid, req.token, req.token_len);
	coap_msg_add_uint_option(&m, COAP_OPTION_OBSERVE, 1);
	coap_msg_add_uint_option(&m, COAP_OPTION_CONTENT_FORMAT, 110);
	const char *first = "[{\"n\":\"/3/0/9\",\"v\":69}]";
	coap_msg_set_payload(&m, first, strlen(first));
	int n = coap_msg_encode(&m, out, sizeof(out));
	coap_send_raw(f->fd, &f->d.coap, out, (size_t)n);
	api_async_wait(&c);
	assert_int_equal(c.status, 200);
	assert_in(c.resp, "\"operation\":\"observe-composite\"");
	assert_in(c.resp, "\"observation_id\":");

	/* Refused before anything is sent. */
	char resp[1024];
	assert_int_equal(http_call(&f->d, "POST", "/v5/iot/p1/devices/meter_dm01/lwm2m-composite",
				   "{\"operation\":\"read\",\"paths\":[\"/3/x\"]}", resp,
				   sizeof(resp)),
			 400);
	assert_int_equal(http_call(&f->d, "POST", "/v5/iot/p1/devices/meter_dm01/lwm2m-composite",
				   "{\"operation\":\"delete\"}", resp, sizeof(resp)),
			 400);
}

static int setup_queue(void **state)
{
	static const char *const args[] = { "--queue-window", "1", NULL };
	struct fixture *f = calloc(1, sizeof(*f));
	daemon_start(&f->d, args);
	api_create_product(&f->d, "meter");
	api_create_device(&f->d, "meter", "dm01", false, 0);
	f->fd = coap_socket("127.0.0.1:0");
	assert_int_equal(coap_register(f->fd, &f->d.coap, "dm01", "300", links, f->reg_id),
			 COAP_CODE_CREATED);
	/* Queue mode from now on (LwM2M 1.0 binding UQ). */
	assert_int_equal(coap_update(f->fd, &f->d.coap, f->reg_id, "b=UQ"), COAP_CODE_CHANGED);
	*state = f;
	return 0;
}

/* A request to a sleeping queue-mode device waits for its next message. */
static void test_queue_mode(void **state)
{
	struct fixture *f = *state;
	char resp[2048];
	uint8_t buf[1500];
	sleep_ms(1500); /* past the 1 s window: asleep */

	/* The caller may refuse to wait. */
	assert_int_equal(http_call(&f->d, "GET", "/v5/iot/p1/devices/meter_dm01/lwm2m/3/0/9"
						  "?wait=false",
				   NULL, resp, sizeof(resp)),
			 409);
	/* Not woken within the timeout: 504, and nothing was sent. */
	assert_int_equal(http_call(&f->d, "GET", "/v5/iot/p1/devices/meter_dm01/lwm2m/3/0/9"
						  "?timeout=1",
				   NULL, resp, sizeof(resp)),
			 504);
	assert_non_null(strstr(resp, "did not wake"));
	assert_true(coap_recv_raw(f->fd, buf, sizeof(buf), 300) < 0);

	/* Held until the device speaks: an Update wakes it and the Read goes out. */
	struct api_async c;
	call_start(&c, &f->d, "GET", "/3/0/9?format=text&timeout=20", NULL);
	sleep_ms(700);
	assert_true(coap_recv_raw(f->fd, buf, sizeof(buf), 200) < 0); /* still held */
	/* The Update's exchange may swallow the Read if it comes first; coap_ep then sends it
	 * again after its ACK timeout, so the device gets it either way. */
	assert_int_equal(coap_update(f->fd, &f->d.coap, f->reg_id, NULL), COAP_CODE_CHANGED);
	struct coap_msg req;
	coap_receive_request(f->fd, &req, buf, sizeof(buf));
	assert_int_equal(req.code, COAP_CODE_GET);
	coap_assert_path(&req, "/3/0/9");
	device_answer(f, &req, COAP_CODE_CONTENT, 0, "42", 2);
	api_async_wait(&c);
	assert_int_equal(c.status, 200);
	assert_in(c.resp, "\"value\":42");
	assert_in(c.resp, "\"held_ms\":");

	/* A client that gives up on a held call frees its connection at once, and the Read
	 * is not sent when the device next wakes. */
	sleep_ms(1500);
	long long open_before = metric_value(&f->d, "lwm2md_http_connections");
	int fd = tcp_connect_from(&f->d.http, NULL, 2000);
	assert_true(fd >= 0);
	char req_text[512];
	int n = snprintf(req_text, sizeof(req_text),
			 "GET /v5/iot/p1/devices/meter_dm01/lwm2m/3/0/9?timeout=60 HTTP/1.1\r\n"
			 "Host: x\r\nX-Auth-Token: %s\r\n\r\n",
			 f->d.token);
	assert_int_equal(write(fd, req_text, (size_t)n), n);
	sleep_ms(300);
	close(fd);
	long long abandoned = 0, open_now = -1;
	for (int waited = 0; waited < 3000 && (abandoned < 1 || open_now > open_before);
	     waited += 100) {
		sleep_ms(100);
		abandoned = metric_value(&f->d, "lwm2md_http_calls_abandoned_total");
		open_now = metric_value(&f->d, "lwm2md_http_connections");
	}
	assert_int_equal(abandoned, 1);
	assert_true(open_now <= open_before);
	assert_int_equal(coap_update(f->fd, &f->d.coap, f->reg_id, NULL), COAP_CODE_CHANGED);
	assert_true(coap_recv_raw(f->fd, buf, sizeof(buf), 500) < 0);
}

static int setup_models(void **state)
{
	static char dir[600];
	const char *data = getenv("LWM2MD_TEST_DATA");
	if (!data)
		return -1;
	snprintf(dir, sizeof(dir), "%s/models", data);
	static const char *args[3];
	args[0] = "--models";
	args[1] = dir;
	args[2] = NULL;
	struct fixture *f = calloc(1, sizeof(*f));
	daemon_start(&f->d, args);
	api_create_product(&f->d, "meter");
	api_create_device(&f->d, "meter", "dm01", false, 0);
	f->fd = coap_socket("127.0.0.1:0");
	assert_int_equal(coap_register(f->fd, &f->d.coap, "dm01", "300", "</3303/0>",
				       f->reg_id),
			 COAP_CODE_CREATED);
	*state = f;
	return 0;
}

/* An object loaded from a DDF file is listed and types its values. */
static void test_models_from_ddf(void **state)
{
	struct fixture *f = *state;
	char resp[8192];
	assert_int_equal(http_call(&f->d, "GET", "/v5/iot/p1/models/3303", NULL, resp,
				   sizeof(resp)),
			 200);
	assert_in(resp, "\"name\":\"Temperature\"");
	assert_in(resp, "\"source\":\"ddf\"");
	assert_in(resp, "{\"id\":5700,\"name\":\"Sensor Value\",\"type\":\"float\"");
	assert_int_equal(http_call(&f->d, "GET", "/v5/iot/p1/models", NULL, resp, sizeof(resp)),
			 200);
	assert_in(resp, "\"object_id\":3303");
	assert_in(resp, "\"source\":\"built-in\"");
	assert_int_equal(http_call(&f->d, "GET", "/v5/iot/p1/models/4242", NULL, resp,
				   sizeof(resp)),
			 404);
	/* The device's registration names the objects no model describes. */
	assert_int_equal(http_call(&f->d, "GET", "/v5/iot/p1/devices/meter_dm01", NULL, resp,
				   sizeof(resp)),
			 200);
	assert_in(resp, "\"unknown_objects\":[]");

	/* A TLV float read of 3303/0/5700 comes back typed. */
	struct api_async c;
	struct coap_msg req;
	uint8_t buf[1500];
	call_start(&c, &f->d, "GET", "/3303/0/5700?format=tlv", NULL);
	coap_receive_request(f->fd, &req, buf, sizeof(buf));
	static const uint8_t tlv[] = { 0xe4, 0x16, 0x44, 0x41, 0xb8, 0x00, 0x00 }; /* 23.0 */
	device_answer(f, &req, COAP_CODE_CONTENT, 11542, tlv, sizeof(tlv));
	api_async_wait(&c);
	assert_int_equal(c.status, 200);
	assert_in(c.resp, "{\"path\":\"/3303/0/5700\",\"type\":\"float\",\"value\":23");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_read_text, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_tlv_instance, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_senml_json, setup, teardown),
		cmocka_unit_test_setup_teardown(test_discover, setup, teardown),
		cmocka_unit_test_setup_teardown(test_composite, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_execute_delete_attributes, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_observe_notify_cancel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_observation_survives_restart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shutdown_while_waiting, setup, teardown),
		cmocka_unit_test_setup_teardown(test_queue_mode, setup_queue, teardown),
		cmocka_unit_test_setup_teardown(test_models_from_ddf, setup_models, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
