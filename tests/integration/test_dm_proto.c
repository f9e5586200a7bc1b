/*
 * Integration tests of the protocol gaps real clients (Wakaama, Anjay) found, with the
 * test playing the device on a raw UDP socket so that every byte the server sends is
 * checked:
 *  - Cancel Observation-Composite (Core §6.4.5): FETCH / with Observe 1, the
 *    observation's token, and the Content-Format, Accept and path list of the
 *    Observe-Composite, in SenML JSON and CBOR, also after a restart; passive cancel;
 *  - writes over 1 KiB of every kind — an opaque value in JSON (TLV, SenML CBOR), a raw
 *    opaque or text body — go out whole in Block1 blocks, up to 64 KiB; more is refused;
 *  - Create without an instance id (Core §6.3.6): the resources at the top level of the
 *    TLV, and the device's Location-Path in the answer.
 */
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
#include "util/base64.h"

struct fixture {
	struct daemon_proc d;
	int fd;
	char reg_id[32];
};

static struct fixture *start(const char *links)
{
	struct fixture *f = calloc(1, sizeof(*f));
	daemon_start(&f->d, NULL);
	api_create_product(&f->d, "meter");
	api_create_device(&f->d, "meter", "pr01", false, 0);
	f->fd = coap_socket("127.0.0.1:0");
	assert_int_equal(coap_register(f->fd, &f->d.coap, "pr01", "300", links, f->reg_id),
			 COAP_CODE_CREATED);
	return f;
}

static int setup(void **state)
{
	*state = start("</1/0>,</3/0>,</19/0>");
	return 0;
}

static int setup_alt(void **state)
{
	*state = start("</lwm2m>;rt=\"oma.lwm2m\",</lwm2m/3/0>,</lwm2m/19/0>");
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	close(f->fd);
	/* A clean stop: under ASan the daemon's exit status says whether it leaked. */
	daemon_stop(&f->d);
	daemon_cleanup(&f->d);
	free(f);
	return 0;
}

#define DEV "/v5/iot/p1/devices/meter_pr01"

/* The device's next request, for API call c: its bytes in buf (returned length), parsed
 * into m. When none comes, the test fails with what the API answered instead. */
static size_t receive_for(struct fixture *f, struct api_async *c, struct coap_msg *m,
			  uint8_t *buf, size_t cap)
{
	ssize_t n = coap_recv_raw(f->fd, buf, cap, 5000);
	if (n <= 0) {
		api_async_wait(c);
		fail_msg("the device got no request; the API answered %d %s", c->status, c->resp);
	}
	assert_int_equal(coap_msg_parse(m, buf, (size_t)n), 0);
	assert_int_equal(m->type, COAP_TYPE_CON);
	return (size_t)n;
}

/* What one request must be, byte for byte: CON code with the received message id and
 * token (coap_ep's to choose), then these options and payload. A uint option of -1 is
 * left out. */
struct want {
	uint8_t code;
	const char *path; /* Uri-Path segments "19/0/0/0", or NULL */
	long observe, content_format, accept;
	const struct coap_block *block1;
	const void *payload;
	size_t len;
};

static void expect_bytes(const uint8_t *got, size_t got_len, const struct coap_msg *req,
			 const struct want *w)
{
	struct coap_msg m;
	uint8_t out[1500];
	coap_msg_init(&m, COAP_TYPE_CON, w->code, req->mid, req->token, req->token_len);
	if (w->observe >= 0)
		coap_msg_add_uint_option(&m, COAP_OPTION_OBSERVE, (uint32_t)w->observe);
	if (w->path)
		coap_msg_add_path(&m, COAP_OPTION_URI_PATH, w->path);
	if (w->content_format >= 0)
		coap_msg_add_uint_option(&m, COAP_OPTION_CONTENT_FORMAT,
					 (uint32_t)w->content_format);
	if (w->accept >= 0)
		coap_msg_add_uint_option(&m, COAP_OPTION_ACCEPT, (uint32_t)w->accept);
	if (w->block1)
		coap_msg_add_uint_option(&m, COAP_OPTION_BLOCK1, coap_block_encode(w->block1));
	if (w->len)
		coap_msg_set_payload(&m, w->payload, w->len);
	int n = coap_msg_encode(&m, out, sizeof(out));
	assert_true(n > 0);
	if ((size_t)n != got_len || memcmp(out, got, got_len) != 0) {
		char hex[200] = "";
		for (size_t i = 0; i < got_len && i < 48; i++)
			snprintf(hex + 3 * i, sizeof(hex) - 3 * i, "%02x ", got[i]);
		fail_msg("request is %zu bytes, want %d: %s...", got_len, n, hex);
	}
}

static void answer(struct fixture *f, const struct coap_msg *req, uint8_t code, int ct,
		   uint32_t observe, const void *payload, size_t len)
{
	struct coap_msg m;
	uint8_t out[1500];
	coap_msg_init(&m, COAP_TYPE_ACK, code, req->mid, req->token, req->token_len);
	if (observe)
		coap_msg_add_uint_option(&m, COAP_OPTION_OBSERVE, observe);
	if (ct >= 0)
		coap_msg_add_uint_option(&m, COAP_OPTION_CONTENT_FORMAT, (uint32_t)ct);
	if (len)
		coap_msg_set_payload(&m, payload, len);
	int n = coap_msg_encode(&m, out, sizeof(out));
	coap_send_raw(f->fd, &f->d.coap, out, (size_t)n);
}

/* A notification (CON 2.05) with token; returns the daemon's answer type (ACK or RST). */
static int notify(struct fixture *f, const uint8_t *token, size_t token_len, uint16_t mid,
		  int ct, const char *payload)
{
	struct coap_msg m, a;
	uint8_t out[256], in[256];
	coap_msg_init(&m, COAP_TYPE_CON, COAP_CODE_CONTENT, mid, token, token_len);
	coap_msg_add_uint_option(&m, COAP_OPTION_OBSERVE, mid);
	coap_msg_add_uint_option(&m, COAP_OPTION_CONTENT_FORMAT, (uint32_t)ct);
	coap_msg_set_payload(&m, payload, strlen(payload));
	int n = coap_msg_encode(&m, out, sizeof(out));
	coap_send_raw(f->fd, &f->d.coap, out, (size_t)n);
	ssize_t r = coap_recv_raw(f->fd, in, sizeof(in), 3000);
	if (r <= 0 || coap_msg_parse(&a, in, (size_t)r) != 0 || a.mid != mid)
		return -1;
	return a.type;
}

struct observed {
	long id;
	uint8_t token[8];
	size_t token_len;
};

/* Observe-Composite of body's paths; checks the FETCH (Observe 0, Content-Format and
 * Accept ct, payload want) byte for byte and accepts it. */
static struct observed observe_composite(struct fixture *f, const char *body, int ct,
					 const void *want, size_t want_len)
{
	struct api_async c;
	struct coap_msg req;
	uint8_t buf[1500];
	struct observed o;
	api_async_start(&c, &f->d, "POST", DEV "/lwm2m-composite", body);
	size_t n = receive_for(f, &c, &req, buf, sizeof(buf));
	struct want w = { .code = COAP_CODE_FETCH, .observe = 0, .content_format = ct,
			  .accept = ct, .payload = want, .len = want_len };
	expect_bytes(buf, n, &req, &w);
	memcpy(o.token, req.token, req.token_len);
	o.token_len = req.token_len;
	static const char first[] = "[{\"n\":\"/3/0/9\",\"v\":80}]";
	answer(f, &req, COAP_CODE_CONTENT, 110, 7, first, strlen(first));
	api_async_wait(&c);
	assert_int_equal(c.status, 200);
	assert_in(c.resp, "\"operation\":\"observe-composite\"");
	const char *id = strstr(c.resp, "\"observation_id\":");
	assert_non_null(id);
	o.id = strtol(id + 17, NULL, 10);
	return o;
}

/* DELETE of the observation; the device must get the cancel FETCH (Observe 1, the same
 * token, options and paths) and answers code. Returns the API's answer. */
static void cancel_composite(struct fixture *f, const struct observed *o, int ct,
			     const void *want, size_t want_len, uint8_t code, struct api_async *c)
{
	char path[128];
	struct coap_msg req;
	uint8_t buf[1500];
	snprintf(path, sizeof(path), DEV "/observations/%ld", o->id);
	api_async_start(c, &f->d, "DELETE", path, NULL);
	size_t n = receive_for(f, c, &req, buf, sizeof(buf));
	assert_int_equal(req.token_len, o->token_len);
	assert_memory_equal(req.token, o->token, o->token_len);
	struct want w = { .code = COAP_CODE_FETCH, .observe = 1, .content_format = ct,
			  .accept = ct, .payload = want, .len = want_len };
	expect_bytes(buf, n, &req, &w);
	static const char last[] = "[{\"n\":\"/3/0/9\",\"v\":79}]";
	if (COAP_CODE_CLASS(code) == 2)
		answer(f, &req, code, 110, 0, last, strlen(last));
	else
		answer(f, &req, code, -1, 0, NULL, 0);
	api_async_wait(c);
	assert_int_equal(c->status, 200);
	assert_in(c->resp, "\"operation\":\"observe-composite-cancel\"");
}

static void observations(struct fixture *f, char *resp, size_t cap)
{
	assert_int_equal(http_call(&f->d, "GET", DEV "/observations", NULL, resp, cap), 200);
}

static void test_cancel_observe_composite(void **state)
{
	struct fixture *f = *state;
	struct api_async c;
	char resp[4096];
	static const char paths[] = "[{\"n\":\"/3/0/9\"},{\"n\":\"/1/0/1\"}]";
	struct observed o = observe_composite(
		f, "{\"operation\":\"observe\",\"paths\":[\"/3/0/9\",\"/1/0/1\"]}", 110, paths,
		strlen(paths));

	/* The device refuses the cancel: the observation stays, notifications still count. */
	cancel_composite(f, &o, 110, paths, strlen(paths), COAP_CODE_BAD_REQUEST, &c);
	assert_in(c.resp, "\"code\":\"4.00\"");
	observations(f, resp, sizeof(resp));
	assert_in(resp, "\"paths\":[\"/3/0/9\",\"/1/0/1\"]");
	assert_int_equal(notify(f, o.token, o.token_len, 0x7001, 110,
				"[{\"n\":\"/3/0/9\",\"v\":78}]"),
			 COAP_TYPE_ACK);
	observations(f, resp, sizeof(resp));
	assert_in(resp, "\"notifications\":1");

	/* It agrees (2.05): the observation is gone, and so are its notifications. */
	cancel_composite(f, &o, 110, paths, strlen(paths), COAP_CODE_CONTENT, &c);
	assert_in(c.resp, "\"code\":\"2.05\"");
	assert_in(c.resp, "{\"path\":\"/3/0/9\",\"type\":\"integer\",\"value\":79}");
	observations(f, resp, sizeof(resp));
	assert_in(resp, "{\"observations\":[]}");
	assert_int_equal(notify(f, o.token, o.token_len, 0x7002, 110,
				"[{\"n\":\"/3/0/9\",\"v\":77}]"),
			 COAP_TYPE_RST);

	/* Passive cancel still works for a composite: the next notification gets RST. */
	static const char one[] = "[{\"n\":\"/3/0/9\"}]";
	o = observe_composite(f, "{\"operation\":\"observe\",\"paths\":[\"/3/0/9\"]}", 110, one,
			      strlen(one));
	char path[128];
	snprintf(path, sizeof(path), DEV "/observations/%ld?mode=passive", o.id);
	assert_int_equal(http_call(&f->d, "DELETE", path, NULL, resp, sizeof(resp)), 204);
	assert_int_equal(notify(f, o.token, o.token_len, 0x7003, 110,
				"[{\"n\":\"/3/0/9\",\"v\":76}]"),
			 COAP_TYPE_RST);
}

/* In SenML CBOR, and after a restart: the stored observation is cancelled with the same
 * token, format and path list. */
static void test_cancel_observe_composite_cbor_after_restart(void **state)
{
	struct fixture *f = *state;
	struct api_async c;
	char resp[4096];
	/* [{0: "/3/0/9"}, {0: "/19/0/0"}] */
	static const uint8_t paths[] = { 0x82, 0xa1, 0x00, 0x66, '/', '3', '/', '0', '/', '9',
					 0xa1, 0x00, 0x67, '/', '1', '9', '/', '0', '/', '0' };
	struct observed o = observe_composite(f,
					      "{\"operation\":\"observe\",\"format\":\"senml-cbor\","
					      "\"paths\":[\"/3/0/9\",\"/19/0/0\"]}",
					      112, paths, sizeof(paths));
	daemon_stop(&f->d);
	daemon_restart(&f->d, NULL);
	cancel_composite(f, &o, 112, paths, sizeof(paths), COAP_CODE_CONTENT, &c);
	observations(f, resp, sizeof(resp));
	assert_in(resp, "{\"observations\":[]}");
	daemon_stop(&f->d);
	daemon_restart(&f->d, NULL);
	observations(f, resp, sizeof(resp));
	assert_in(resp, "{\"observations\":[]}");
}

/* An Observe-Composite still waiting for the device when the daemon stops: the call gets
 * 503 and what it kept for the observation is freed (ASan checks the exit). */
static void test_shutdown_while_observing_composite(void **state)
{
	struct fixture *f = *state;
	struct api_async c;
	struct coap_msg req;
	uint8_t buf[1500];
	api_async_start(&c, &f->d, "POST", DEV "/lwm2m-composite?timeout=30",
			"{\"operation\":\"observe\",\"paths\":[\"/3/0/9\",\"/1/0/1\"]}");
	receive_for(f, &c, &req, buf, sizeof(buf));
	daemon_stop(&f->d);
	api_async_wait(&c);
	assert_true(c.status == 503 || c.status < 0);
}

/* A plain cancel asks the way the Observe did: with its Accept (RFC 7641 §3.6). */
static void test_cancel_observe_repeats_accept(void **state)
{
	struct fixture *f = *state;
	struct api_async c;
	struct coap_msg req;
	uint8_t buf[1500];
	api_async_start(&c, &f->d, "GET", DEV "/lwm2m/3/0/9?op=observe&format=senml-json", NULL);
	size_t n = receive_for(f, &c, &req, buf, sizeof(buf));
	struct want w = { .code = COAP_CODE_GET, .path = "3/0/9", .observe = 0,
			  .content_format = -1, .accept = 110 };
	expect_bytes(buf, n, &req, &w);
	uint8_t token[8];
	size_t token_len = req.token_len;
	memcpy(token, req.token, token_len);
	static const char v[] = "[{\"n\":\"/3/0/9\",\"v\":80}]";
	answer(f, &req, COAP_CODE_CONTENT, 110, 3, v, strlen(v));
	api_async_wait(&c);
	const char *id = strstr(c.resp, "\"observation_id\":");
	assert_non_null(id);
	char path[128];
	snprintf(path, sizeof(path), DEV "/observations/%ld", strtol(id + 17, NULL, 10));
	api_async_start(&c, &f->d, "DELETE", path, NULL);
	n = receive_for(f, &c, &req, buf, sizeof(buf));
	assert_memory_equal(req.token, token, token_len);
	w.observe = 1;
	expect_bytes(buf, n, &req, &w);
	answer(f, &req, COAP_CODE_CONTENT, 110, 0, v, strlen(v));
	api_async_wait(&c);
	assert_int_equal(c.status, 200);
}

/* Plays the device's side of a block-wise write: every block checked byte for byte
 * (method, Uri-Path, Content-Format, Block1 with 1024-byte blocks, its slice of want),
 * 2.31 Continue after each but the last, then 2.04. */
static void receive_blocks(struct fixture *f, struct api_async *c, uint8_t code,
			   const char *path, int ct, const uint8_t *want, size_t len)
{
	uint8_t buf[1500];
	struct coap_msg req;
	size_t off = 0;
	for (uint32_t num = 0; off < len; num++) {
		size_t n = receive_for(f, c, &req, buf, sizeof(buf));
		size_t part = len - off < 1024 ? len - off : 1024;
		struct coap_block b = { .num = num, .more = off + part < len, .szx = 6 };
		struct want w = { .code = code, .path = path, .observe = -1, .content_format = ct,
				  .accept = -1, .block1 = &b, .payload = want + off, .len = part };
		expect_bytes(buf, n, &req, &w);
		off += part;
		coap_answer(f->fd, &f->d.coap, &req, b.more ? COAP_CODE_CONTINUE : COAP_CODE_CHANGED,
			    -1, COAP_OPTION_BLOCK1, &b, NULL, 0);
	}
	assert_true(coap_recv_raw(f->fd, buf, sizeof(buf), 100) < 0); /* nothing more */
}

static uint8_t *pattern(size_t len)
{
	uint8_t *p = malloc(len);
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(i * 7 + i / 251);
	return p;
}

/* {"values":[{"path":path,"value":base64(data)}], "format":format} */
static char *values_body(const char *path, const uint8_t *data, size_t len, const char *format)
{
	size_t cap = BASE64_ENCODED_LEN(len) + 256;
	char *body = malloc(cap);
	int n = snprintf(body, cap, "{\"format\":\"%s\",\"values\":[{\"path\":\"%s\",\"value\":\"",
			 format, path);
	n += (int)base64_encode(data, len, body + n);
	snprintf(body + n, cap - (size_t)n, "\"}]}");
	return body;
}

/* 1025 bytes of opaque in JSON used to be "not a valid opaque": it goes out in TLV, in
 * two blocks. */
static void test_write_opaque_1025(void **state)
{
	struct fixture *f = *state;
	struct api_async c;
	uint8_t *data = pattern(1025);
	char *body = values_body("/19/0/0/0", data, 1025, "tlv");
	api_async_start(&c, &f->d, "PUT", DEV "/lwm2m/19/0/0/0", body);
	/* A resource instance (01), 8-bit id, 16-bit length: 0x50 0x00 0x04 0x01. */
	uint8_t *tlv = malloc(1029);
	memcpy(tlv, "\x50\x00\x04\x01", 4);
	memcpy(tlv + 4, data, 1025);
	receive_blocks(f, &c, COAP_CODE_PUT, "19/0/0/0", 11542, tlv, 1029);
	api_async_wait(&c);
	assert_int_equal(c.status, 200);
	assert_in(c.resp, "\"code\":\"2.04\"");
	free(tlv);
	free(body);
	free(data);
}

/* 20000 bytes of opaque in SenML CBOR: [{-2: "/19/0/0/0", 8: h'…'}]; a long string in
 * SenML JSON. */
static void test_write_large_senml(void **state)
{
	struct fixture *f = *state;
	struct api_async c;
	uint8_t *data = pattern(20000);
	char *body = values_body("/19/0/0/0", data, 20000, "senml-cbor");
	api_async_start(&c, &f->d, "PUT", DEV "/lwm2m/19/0/0/0", body);
	static const uint8_t head[] = { 0x81, 0xa2, 0x21, 0x69, '/', '1', '9', '/', '0', '/', '0',
					'/', '0', 0x08, 0x59, 0x4e, 0x20 };
	uint8_t *cbor = malloc(sizeof(head) + 20000);
	memcpy(cbor, head, sizeof(head));
	memcpy(cbor + sizeof(head), data, 20000);
	receive_blocks(f, &c, COAP_CODE_PUT, "19/0/0/0", 112, cbor, sizeof(head) + 20000);
	api_async_wait(&c);
	assert_int_equal(c.status, 200);
	free(cbor);
	free(body);
	free(data);

	/* A string of 30000 characters in SenML JSON: [{"bn":"/3/0/15","vs":"…"}]. */
	char *text = malloc(30001);
	for (int i = 0; i < 30000; i++)
		text[i] = (char)('a' + i % 26);
	text[30000] = '\0';
	body = malloc(30100);
	snprintf(body, 30100, "{\"format\":\"senml-json\",\"values\":[{\"path\":\"/3/0/15\","
			      "\"value\":\"%s\"}]}",
		 text);
	api_async_start(&c, &f->d, "PUT", DEV "/lwm2m/3/0/15", body);
	char *senml = malloc(30100);
	int n = snprintf(senml, 30100, "[{\"bn\":\"/3/0/15\",\"vs\":\"%s\"}]", text);
	receive_blocks(f, &c, COAP_CODE_PUT, "3/0/15", 110, (const uint8_t *)senml, (size_t)n);
	api_async_wait(&c);
	assert_int_equal(c.status, 200);
	free(senml);
	free(body);
	free(text);
}

/* A raw body is the value: opaque of 60 KiB and of exactly 64 KiB (the limit), and text;
 * one byte over the limit is refused before anything is sent. */
static void test_write_raw_bodies(void **state)
{
	struct fixture *f = *state;
	struct api_async c;
	char resp[2048];
	uint8_t buf[64];
	const size_t sizes[] = { 60 * 1024, 64 * 1024 };
	for (int i = 0; i < 2; i++) {
		uint8_t *data = pattern(sizes[i]);
		api_async_start_raw(&c, &f->d, "PUT", DEV "/lwm2m/19/0/0/0?timeout=20",
				    "application/octet-stream", data, sizes[i]);
		receive_blocks(f, &c, COAP_CODE_PUT, "19/0/0/0", 42, data, sizes[i]);
		api_async_wait(&c);
		assert_int_equal(c.status, 200);
		assert_in(c.resp, "\"code\":\"2.04\"");
		free(data);
	}
	char *text = malloc(5000);
	for (int i = 0; i < 5000; i++)
		text[i] = (char)('a' + i % 26);
	api_async_start_raw(&c, &f->d, "PUT", DEV "/lwm2m/3/0/15", "text/plain; charset=utf-8",
			    text, 5000);
	receive_blocks(f, &c, COAP_CODE_PUT, "3/0/15", 0, (const uint8_t *)text, 5000);
	api_async_wait(&c);
	assert_int_equal(c.status, 200);
	free(text);

	uint8_t *big = pattern(64 * 1024 + 1);
	assert_int_equal(http_call_type(&f->d, "PUT", DEV "/lwm2m/19/0/0/0",
					"application/octet-stream", big, 64 * 1024 + 1, resp,
					sizeof(resp)),
			 413);
	assert_in(resp, "larger than 65536 bytes");
	free(big);
	/* In JSON the value is base64, a third larger: 49200 bytes make a body over 64 KiB. */
	uint8_t *data = pattern(49200);
	char *body = values_body("/19/0/0/0", data, 49200, "opaque");
	assert_true(strlen(body) > 64 * 1024);
	assert_int_equal(http_call(&f->d, "PUT", DEV "/lwm2m/19/0/0/0", body, resp, sizeof(resp)),
			 413);
	assert_in(resp, "larger than 65536 bytes");
	free(body);
	free(data);
	/* A raw body is one value: not on an instance; its format is its Content-Type. */
	assert_int_equal(http_call_type(&f->d, "PUT", DEV "/lwm2m/19/0", "text/plain", "x", 1,
					resp, sizeof(resp)),
			 400);
	assert_int_equal(http_call_type(&f->d, "PUT", DEV "/lwm2m/3/0/15?format=tlv",
					"text/plain", "x", 1, resp, sizeof(resp)),
			 400);
	assert_true(coap_recv_raw(f->fd, buf, sizeof(buf), 200) < 0); /* nothing was sent */
}

/* Create without an instance id: TLV with the resources at the top level; the device's
 * Location-Path says where it put them. */
static void test_create_without_instance(void **state)
{
	struct fixture *f = *state;
	struct api_async c;
	struct coap_msg req;
	uint8_t buf[1500];
	char resp[2048];
	api_async_start(&c, &f->d, "POST", DEV "/lwm2m/19",
			"{\"values\":[{\"path\":\"3\",\"value\":\"new\"},"
			"{\"path\":\"0/0\",\"value\":\"AQID\"}]}");
	size_t n = receive_for(f, &c, &req, buf, sizeof(buf));
	/* Multiple resource 0 (0x85: 10, 8-bit id, 5 bytes) holding instance 0 (0x43: 01,
	 * 3 bytes); resource 3, the string "new" (0xc3). */
	static const uint8_t tlv[] = { 0x85, 0x00, 0x43, 0x00, 0x01, 0x02, 0x03,
				       0xc3, 0x03, 'n',	 'e',  'w' };
	struct want w = { .code = COAP_CODE_POST, .path = "19", .observe = -1,
			  .content_format = 11542, .accept = -1, .payload = tlv,
			  .len = sizeof(tlv) };
	expect_bytes(buf, n, &req, &w);
	struct coap_msg m;
	uint8_t out[64];
	coap_msg_init(&m, COAP_TYPE_ACK, COAP_CODE_CREATED, req.mid, req.token, req.token_len);
	coap_msg_add_option(&m, COAP_OPTION_LOCATION_PATH, "19", 2);
	coap_msg_add_option(&m, COAP_OPTION_LOCATION_PATH, "7", 1);
	int len = coap_msg_encode(&m, out, sizeof(out));
	coap_send_raw(f->fd, &f->d.coap, out, (size_t)len);
	api_async_wait(&c);
	assert_int_equal(c.status, 200);
	assert_in(c.resp, "\"operation\":\"create\"");
	assert_in(c.resp, "\"code\":\"2.01\"");
	assert_in(c.resp, "\"location\":\"/19/7\"");
	assert_in(c.resp, "\"instance_id\":7");

	/* Only TLV can leave the instance out; paths of both kinds do not mix; relative
	 * paths are for a Create only. */
	assert_int_equal(http_call(&f->d, "POST", DEV "/lwm2m/19",
				   "{\"format\":\"senml-json\",\"values\":[{\"path\":\"3\","
				   "\"value\":\"x\"}]}",
				   resp, sizeof(resp)),
			 400);
	assert_in(resp, "tlv only");
	assert_int_equal(http_call(&f->d, "POST", DEV "/lwm2m/19",
				   "{\"values\":[{\"path\":\"3\",\"value\":\"x\"},"
				   "{\"path\":\"/19/4/3\",\"value\":\"y\"}]}",
				   resp, sizeof(resp)),
			 400);
	assert_int_equal(http_call(&f->d, "POST", DEV "/lwm2m/19",
				   "{\"values\":[{\"path\":\"3/0/1\",\"value\":\"x\"}]}", resp,
				   sizeof(resp)),
			 400);
	assert_int_equal(http_call(&f->d, "POST", DEV "/lwm2m/19/0",
				   "{\"values\":[{\"path\":\"3\",\"value\":\"x\"}]}", resp,
				   sizeof(resp)),
			 400);
	assert_true(coap_recv_raw(f->fd, buf, sizeof(buf), 200) < 0); /* nothing was sent */
}

/* Below an alternate path, the device's Location-Path repeats it; the answer does not. */
static void test_create_location_below_alternate_path(void **state)
{
	struct fixture *f = *state;
	struct api_async c;
	struct coap_msg req;
	uint8_t buf[1500];
	api_async_start(&c, &f->d, "POST", DEV "/lwm2m/19",
			"{\"values\":[{\"path\":\"3\",\"value\":\"new\"}]}");
	size_t n = receive_for(f, &c, &req, buf, sizeof(buf));
	static const uint8_t tlv[] = { 0xc3, 0x03, 'n', 'e', 'w' };
	struct want w = { .code = COAP_CODE_POST, .path = "lwm2m/19", .observe = -1,
			  .content_format = 11542, .accept = -1, .payload = tlv,
			  .len = sizeof(tlv) };
	expect_bytes(buf, n, &req, &w);
	struct coap_msg m;
	uint8_t out[64];
	coap_msg_init(&m, COAP_TYPE_ACK, COAP_CODE_CREATED, req.mid, req.token, req.token_len);
	coap_msg_add_option(&m, COAP_OPTION_LOCATION_PATH, "lwm2m", 5);
	coap_msg_add_option(&m, COAP_OPTION_LOCATION_PATH, "19", 2);
	coap_msg_add_option(&m, COAP_OPTION_LOCATION_PATH, "12", 2);
	int len = coap_msg_encode(&m, out, sizeof(out));
	coap_send_raw(f->fd, &f->d.coap, out, (size_t)len);
	api_async_wait(&c);
	assert_int_equal(c.status, 200);
	assert_in(c.resp, "\"location\":\"/19/12\"");
	assert_in(c.resp, "\"instance_id\":12");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_cancel_observe_composite, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cancel_observe_composite_cbor_after_restart,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_cancel_observe_repeats_accept, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_shutdown_while_observing_composite, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_write_opaque_1025, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_large_senml, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_raw_bodies, setup, teardown),
		cmocka_unit_test_setup_teardown(test_create_without_instance, setup, teardown),
		cmocka_unit_test_setup_teardown(test_create_location_below_alternate_path,
						setup_alt, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
