/*
 * Integration tests of the codec threads (src/iot/codec_worker.c, iot_codec.c): one
 * tenant's JavaScript codec must not stall anyone else. Two projects on one daemon: A
 * (project p1, the platform fixture's product wm and device wm_meter1) and B (project p2,
 * product bm with the meter's JavaScript codec, device bm_meter2), each device played by
 * the test on its own UDP socket.
 *
 * Covered: 16 concurrent codec tests of a `while (true) {}` codec in A while /health, B's
 * API and B's device reports go on; a looping uplink codec of A suspended (API status,
 * codec_suspended event, counters) while B goes on, and resumed by an upload; eval and the
 * Function constructor refused; a device's reports applied in order through the threads,
 * also across a switch from a JavaScript codec to a declarative one with reports still
 * queued; reports queued at shutdown decoded before the daemon exits.
 *
 * "Goes on" is asserted as /health and B's API under 1 s (they take milliseconds; a loop
 * thread held by A's codec made them wait 1.6 s) and as B's report reaching B's shadow
 * before A's tests are all answered — never as a tight duration.
 */
#include <errno.h>
#include <poll.h>
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

#include "harness.h"
#include "harness_platform.h"
#include "meter_fixture.h"

static const char looping[] = "function decode(p) { while (true) {} }";

struct fixture {
	struct platform_fixture *a; /* project p1: product wm, device wm_meter1 (meter1) */
	struct platform_fixture b;  /* project p2: product bm, device bm_meter2 (meter2) */
	char b_token[80];
};

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* An API call of project B; fails the test unless the status is want. body is taken. */
static void b_call(struct fixture *f, const char *method, const char *path, json_t *body,
		   int want, char *resp, size_t cap)
{
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	int status = http_call_auth(&f->b.d, method, path, text, f->b_token, resp, cap);
	free(text);
	json_decref(body);
	if (status != want)
		fail_msg("%s %s: %d, not %d: %s", method, path, status, want, resp);
}

/* Registers meter2 and answers the platform's Observe of /19/0/0 with a first report
 * (register_and_observe, for another endpoint). */
static void b_register(struct fixture *f, const uint8_t *first, size_t len)
{
	struct platform_fixture *b = &f->b;
	assert_int_equal(coap_register(b->fd, &b->d.coap, "meter2", "300", "</3/0>,</19/0>",
				       b->reg_id),
			 COAP_CODE_CREATED);
	struct coap_msg m;
	uint8_t buf[1500];
	coap_receive_request(b->fd, &m, buf, sizeof(buf));
	coap_assert_path(&m, "/19/0/0");
	memcpy(b->obs_token, m.token, m.token_len);
	b->obs_token_len = m.token_len;
	b->obs_seq = 1;
	device_send(b, COAP_TYPE_ACK, COAP_CODE_CONTENT, m.mid, m.token, m.token_len, b->obs_seq,
		    first, len);
}

/* B's shadow version (0 when none yet) and its flow. */
static int b_shadow(struct fixture *f, json_int_t *flow)
{
	char resp[8192];
	b_call(f, "GET", "/v5/iot/p2/devices/bm_meter2/shadow", NULL, 200, resp, sizeof(resp));
	json_t *j = json_loads(resp, 0, NULL);
	json_t *rep = json_object_get(json_array_get(json_object_get(j, "shadow"), 0), "reported");
	int version = (int)json_integer_value(json_object_get(rep, "version"));
	if (flow)
		*flow = json_integer_value(json_object_get(json_object_get(rep, "properties"), "flow"));
	json_decref(j);
	return version;
}

static struct fixture *start(const char *const *args)
{
	struct fixture *f = calloc(1, sizeof(*f));
	f->a = platform_start("js", meter_model, meter_script, args);
	/* Project B's token, made on the running daemon's database. */
	char cmd[1024], out[256];
	snprintf(cmd, sizeof(cmd), "%s token create --db %s --project p2 2>/dev/null",
		 getenv("LWM2MD_BIN"), f->a->d.db);
	assert_int_equal(run_command(cmd, out, sizeof(out), 30), 0);
	out[strcspn(out, "\n")] = '\0';
	assert_int_equal(strlen(out), 64);
	memcpy(f->b_token, out, 65);
	f->b.d = f->a->d; /* the same daemon, seen from B's device */
	f->b.kind = "js";
	f->b.fd = coap_socket("127.0.0.1:0");
	char resp[16384];
	b_call(f, "POST", "/v5/iot/p2/products",
	       json_pack("{s:s, s:s, s:s, s:o}", "product_id", "bm", "name", "B's meter",
			 "data_format", "binary", "service_capabilities",
			 json_loads(meter_model, 0, NULL)),
	       201, resp, sizeof(resp));
	b_call(f, "PUT", "/v5/iot/p2/products/bm/codec",
	       json_pack("{s:s, s:s}", "kind", "js", "source", meter_script), 200, resp,
	       sizeof(resp));
	b_call(f, "POST", "/v5/iot/p2/devices",
	       json_pack("{s:s, s:s, s:s}", "device_id", "bm_meter2", "node_id", "meter2",
			 "product_id", "bm"),
	       201, resp, sizeof(resp));
	static const uint8_t first[] = { 0, 90, 0, 0, 0, 1 };
	b_register(f, first, sizeof(first));
	for (int i = 0; i < 250 && b_shadow(f, NULL) < 1; i++)
		usleep(20000);
	assert_int_equal(b_shadow(f, NULL), 1);
	return f;
}

static int setup(void **state)
{
	*state = start(NULL);
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	close(f->b.fd);
	void *a = f->a;
	platform_teardown(&a);
	free(f);
	return 0;
}

/* An HTTP request left waiting: sent now, its answer read later (no threads: the
 * harness's client is not reentrant). */
static int http_send(struct daemon_proc *d, const char *method, const char *path,
		     const char *body)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	struct sockaddr_storage ss;
	size_t sl = addr_to_sockaddr(&d->http, &ss);
	assert_int_equal(connect(fd, (struct sockaddr *)&ss, (socklen_t)sl), 0);
	char req[4096];
	int n = snprintf(req, sizeof(req),
			 "%s %s HTTP/1.1\r\nHost: x\r\nX-Auth-Token: %s\r\nContent-Length: %zu\r\n"
			 "Connection: close\r\n\r\n%s",
			 method, path, d->token, strlen(body), body);
	assert_true(n > 0 && (size_t)n < sizeof(req));
	assert_int_equal(write(fd, req, (size_t)n), n);
	return fd;
}

/* Reads the answer to the end (the server closes); returns its status, the body in resp. */
static int http_finish(int fd, char *resp, size_t cap, int timeout_ms)
{
	char raw[8192];
	size_t got = 0;
	int64_t until = now_ms() + timeout_ms;
	while (now_ms() < until) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, 100) <= 0)
			continue;
		ssize_t r = read(fd, raw + got, sizeof(raw) - 1 - got);
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	raw[got] = '\0';
	int status = 0;
	if (sscanf(raw, "HTTP/1.%*d %d", &status) != 1)
		fail_msg("no HTTP answer: %.80s", raw);
	const char *b = strstr(raw, "\r\n\r\n");
	snprintf(resp, cap, "%s", b ? b + 4 : "");
	return status;
}

/* One timed call: its duration in ms; the status must be want. */
static int64_t timed_call(struct daemon_proc *d, const char *path, const char *token, int want)
{
	char resp[8192];
	int64_t t0 = now_ms();
	int status = http_call_auth(d, "GET", path, NULL, token, resp, sizeof(resp));
	int64_t took = now_ms() - t0;
	if (status != want)
		fail_msg("GET %s: %d, not %d: %s", path, status, want, resp);
	return took;
}

#define TESTS 16

/* (a) Sixteen tests of a looping codec in A at once: each runs its 100 ms on a codec
 * thread, one after the other (one job of a product at a time); the loop, B's API and
 * B's reports, on the other thread, go on meanwhile. */
static void test_looping_tests_do_not_stall(void **state)
{
	struct fixture *f = *state;
	char body[256];
	snprintf(body, sizeof(body), "{\"kind\":\"js\",\"source\":\"%s\",\"payload_hex\":\"00\"}",
		 looping);
	int fds[TESTS];
	int64_t t0 = now_ms();
	for (int i = 0; i < TESTS; i++)
		fds[i] = http_send(&f->a->d, "POST", "/v5/iot/p1/products/wm/codec/test", body);
	usleep(50000); /* the daemon has them all */

	int64_t worst_health = 0, worst_b = 0;
	for (int i = 0; i < 3; i++) {
		int64_t h = timed_call(&f->a->d, "/health", NULL, 200);
		int64_t b = timed_call(&f->b.d, "/v5/iot/p2/products/bm", f->b_token, 200);
		worst_health = h > worst_health ? h : worst_health;
		worst_b = b > worst_b ? b : worst_b;
	}
	/* B's device reports; it reaches B's shadow. */
	static const uint8_t report[] = { 0, 80, 0, 0, 0x30, 0x39 };
	device_notify(&f->b, report, sizeof(report));
	json_int_t flow = 0;
	for (int i = 0; i < 250 && b_shadow(f, &flow) < 2; i++)
		usleep(20000);
	int64_t b_reported = now_ms() - t0;
	assert_int_equal(b_shadow(f, &flow), 2);
	assert_int_equal(flow, 12345);

	/* Every test is answered: each ran out of its time, none took the daemon down. */
	int64_t last = 0;
	for (int i = 0; i < TESTS; i++) {
		char resp[4096];
		int status = http_finish(fds[i], resp, sizeof(resp), 20000);
		if (status != 400 || !strstr(resp, "ran over its 100 ms"))
			fail_msg("test %d: %d %s", i, status, resp);
		last = now_ms() - t0;
	}
	print_message("16 looping tests answered within %lld ms; meanwhile /health took at most "
		      "%lld ms, B's API %lld ms, B's report was in its shadow after %lld ms\n",
		      (long long)last, (long long)worst_health, (long long)worst_b,
		      (long long)b_reported);
	assert_true(worst_health < 1000);
	assert_true(worst_b < 1000);
	/* The sixteen ran one after the other (1.6 s at least); B's report did not wait. */
	assert_true(last >= TESTS * 100);
	assert_true(b_reported < last);
	/* Tests bring their own source: they never count against A's codec. */
	char resp[65536];
	api_ok(&f->a->d, "GET", "/v5/iot/p1/products/wm/codec", NULL, 200, resp, sizeof(resp));
	assert_non_null(strstr(resp, "\"status\":\"ACTIVE\""));
}

static long metric(struct daemon_proc *d, const char *name)
{
	static char resp[65536];
	assert_int_equal(http_call(d, "GET", "/metrics", NULL, resp, sizeof(resp)), 200);
	char line[160];
	snprintf(line, sizeof(line), "\n%s ", name);
	const char *p = strstr(resp, line);
	return p ? strtol(p + strlen(line), NULL, 10) : -1;
}

/* (b) A's uplink codec loops: after 5 timeouts within a minute it is suspended — the API
 * says so, a codec_suspended event says so, its reports are counted and not decoded — while
 * B's reports and the API go on. Uploading the codec again resumes it. */
static void test_looping_uplink_suspended(void **state)
{
	struct fixture *f = *state;
	struct platform_fixture *a = f->a;
	static const uint8_t first[] = { 0, 40, 0, 0, 0, 1 };
	register_and_observe(a, first, sizeof(first));
	json_decref(shadow_reported(a, 1));
	struct stream s;
	stream_open(&s, &a->d, "");
	assert_int_equal(stream_wait(&s, "200 OK", 5000), 0);

	put_codec(a, "js", looping);
	static const uint8_t report[] = { 0, 41, 0, 0, 0, 2 };
	for (int i = 0; i < 7; i++)
		device_notify(a, report, sizeof(report)); /* ACKed at once: decoded later */
	if (stream_wait(&s, "event: codec_suspended", 15000) != 0)
		fail_msg("no codec_suspended event: %s", s.buf);
	assert_non_null(strstr(s.buf, "5 timeouts within 60 s"));
	assert_non_null(strstr(s.buf, "\"product_id\":\"wm\""));

	char resp[65536];
	api_ok(&a->d, "GET", "/v5/iot/p1/products/wm/codec", NULL, 200, resp, sizeof(resp));
	json_t *codec = json_loads(resp, 0, NULL);
	assert_string_equal(json_string_value(json_object_get(codec, "status")), "SUSPENDED");
	const char *reason = json_string_value(json_object_get(codec, "reason"));
	assert_non_null(reason);
	assert_non_null(strstr(reason, "5 timeouts within 60 s; the last: decode() ran over its"));
	assert_int_equal(strlen(json_string_value(json_object_get(codec, "since"))), 16);
	json_decref(codec);

	/* Its reports are counted, not decoded: 7 sent, 5 ran, the rest refused. */
	for (int i = 0; i < 100 && metric(&a->d, "lwm2md_reports_dropped_total{reason=\"suspended\"}") < 2; i++)
		usleep(20000);
	assert_int_equal(metric(&a->d, "lwm2md_reports_dropped_total{reason=\"suspended\"}"), 2);
	device_notify(a, report, sizeof(report));
	for (int i = 0; i < 100 && metric(&a->d, "lwm2md_reports_dropped_total{reason=\"suspended\"}") < 3; i++)
		usleep(20000);
	assert_int_equal(metric(&a->d, "lwm2md_reports_dropped_total{reason=\"suspended\"}"), 3);
	assert_int_equal(metric(&a->d, "lwm2md_codec_suspensions_total"), 1);
	assert_int_equal(metric(&a->d, "lwm2md_codec_products_suspended"), 1);
	json_t *props = shadow_reported(a, 1);
	assert_int_equal(prop(props, "battery"), 40);
	json_decref(props);

	/* B goes on. */
	assert_true(timed_call(&a->d, "/health", NULL, 200) < 1000);
	static const uint8_t b_report[] = { 0, 70, 0, 0, 0, 77 };
	device_notify(&f->b, b_report, sizeof(b_report));
	json_int_t flow = 0;
	for (int i = 0; i < 250 && b_shadow(f, &flow) < 2; i++)
		usleep(20000);
	assert_int_equal(flow, 77);
	b_call(f, "GET", "/v5/iot/p2/products/bm/codec", NULL, 200, resp, sizeof(resp));
	assert_non_null(strstr(resp, "\"status\":\"ACTIVE\""));

	/* An upload resumes it. */
	put_codec(a, "js", meter_script);
	api_ok(&a->d, "GET", "/v5/iot/p1/products/wm/codec", NULL, 200, resp, sizeof(resp));
	assert_non_null(strstr(resp, "\"status\":\"ACTIVE\""));
	static const uint8_t good[] = { 0, 42, 0, 0, 0, 3 };
	device_notify(a, good, sizeof(good));
	props = shadow_reported(a, 2);
	assert_int_equal(prop(props, "battery"), 42);
	json_decref(props);
	assert_int_equal(metric(&a->d, "lwm2md_codec_products_suspended"), 0);
	close(s.fd);
}

/* (c) eval and the Function constructor are refused with a clear error: in a test, and
 * at upload. */
static void test_eval_refused(void **state)
{
	struct fixture *f = *state;
	static const char *const calls[] = {
		"eval('1+1')",
		"new Function('return 1')()",
		"(function () {}).constructor('return 1')()",
		"Object.getPrototypeOf(function () {}).constructor('return 1')()",
	};
	char resp[8192];
	for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
		char src[512];
		snprintf(src, sizeof(src), "function decode(p) { return String(%s); }", calls[i]);
		api_ok(&f->a->d, "POST", "/v5/iot/p1/products/wm/codec/test",
		       json_pack("{s:s, s:s, s:s}", "kind", "js", "source", src, "payload_hex", "00"),
		       400, resp, sizeof(resp));
		if (!strstr(resp, "eval() and the Function constructor are not available to codecs"))
			fail_msg("%s: %s", calls[i], resp);
	}
	api_ok(&f->a->d, "PUT", "/v5/iot/p1/products/wm/codec",
	       json_pack("{s:s, s:s}", "kind", "js", "source",
			 "var decode = new Function('p', 'return \"{}\"');"),
	       400, resp, sizeof(resp));
	assert_non_null(strstr(resp, "the codec does not compile"));
	assert_non_null(strstr(resp, "not available to codecs"));
	/* The stored codec is still the meter's. */
	api_ok(&f->a->d, "POST", "/v5/iot/p1/products/wm/codec/test",
	       json_pack("{s:s}", "payload_hex", "005700000064"), 200, resp, sizeof(resp));
	assert_non_null(strstr(resp, "\"battery\":87"));
}

#define REPORTS 60

/* (d) One device's reports, sent faster than a slow codec decodes them, are applied in
 * the order they came — also when the product switches to a declarative codec (which
 * decodes on the loop) while some are still queued for a thread. */
static void test_reports_in_order(void **state)
{
	struct fixture *f = *state;
	struct platform_fixture *a = f->a;
	static const uint8_t first[] = { 0, 50, 0, 0, 0, 0 };
	register_and_observe(a, first, sizeof(first));
	json_decref(shadow_reported(a, 1));
	/* The meter's codec, 4 ms a report. */
	char slow[4096];
	snprintf(slow, sizeof(slow),
		 "%s\nvar fast_decode = decode;\n"
		 "decode = function (p, t) { var s = Date.now(); while (Date.now() - s < 4) {}\n"
		 "  return fast_decode(p, t); };\n",
		 meter_script);
	put_codec(a, "js", slow);
	struct stream s;
	stream_open(&s, &a->d, "?device_id=wm_meter1");
	assert_int_equal(stream_wait(&s, "200 OK", 5000), 0);
	for (int i = 1; i <= REPORTS; i++) {
		uint8_t report[] = { 0, 50, 0, 0, (uint8_t)(i >> 8), (uint8_t)i };
		device_notify(a, report, sizeof(report));
		if (i == REPORTS / 2)
			put_codec(a, "declarative", meter_layout);
	}
	json_t *props = shadow_reported(a, REPORTS + 1);
	assert_int_equal(prop(props, "flow"), REPORTS);
	json_decref(props);
	char last[64];
	snprintf(last, sizeof(last), "\"flow\":%d}", REPORTS);
	assert_int_equal(stream_wait(&s, last, 10000), 0);
	/* The property events, in order: flow 1, 2, … REPORTS. */
	int want = 1;
	for (const char *p = strstr(s.buf, "event: property"); p;
	     p = strstr(p + 1, "event: property")) {
		const char *fl = strstr(p, "\"flow\":");
		assert_non_null(fl);
		int got = atoi(fl + 7);
		if (got == 0)
			continue; /* the first report, before the loop */
		if (got != want)
			fail_msg("report %d came as number %d", got, want);
		want++;
	}
	assert_int_equal(want, REPORTS + 1);
	close(s.fd);
}

/* Reports queued for a slow codec when the daemon is told to stop are decoded and applied
 * before it exits (within --codec-drain-ms), not lost. */
static void test_reports_drained_at_shutdown(void **state)
{
	struct fixture *f = *state;
	struct platform_fixture *a = f->a;
	static const uint8_t first[] = { 0, 50, 0, 0, 0, 0 };
	register_and_observe(a, first, sizeof(first));
	json_decref(shadow_reported(a, 1));
	char slow[4096];
	snprintf(slow, sizeof(slow),
		 "%s\nvar fast_decode = decode;\n"
		 "decode = function (p, t) { var s = Date.now(); while (Date.now() - s < 40) {}\n"
		 "  return fast_decode(p, t); };\n",
		 meter_script);
	put_codec(a, "js", slow);
	for (int i = 1; i <= 20; i++) {
		uint8_t report[] = { 0, 50, 0, 0, 0, (uint8_t)i };
		device_notify(a, report, sizeof(report));
	}
	/* 20 × 40 ms queued: most are still waiting now. */
	daemon_stop(&a->d);
	daemon_restart(&a->d, NULL);
	f->b.d = a->d;
	json_t *props = shadow_reported(a, 21);
	assert_int_equal(prop(props, "flow"), 20);
	json_decref(props);
}

/* The flags: one thread, two jobs waiting per product, 300 ms per call, never suspend.
 * A report past the queue is dropped (codec_error of stage queue, counted), a test
 * past it answers 429; a looping codec times out again and again and stays ACTIVE. A bad
 * value is refused at start. */
static void test_flags_and_queue_bound(void **state)
{
	struct fixture *f = *state;
	struct platform_fixture *a = f->a;
	assert_int_equal(metric(&a->d, "lwm2md_codec_threads"), 1);
	static const uint8_t first[] = { 0, 50, 0, 0, 0, 0 };
	register_and_observe(a, first, sizeof(first));
	json_decref(shadow_reported(a, 1));
	char slow[4096];
	snprintf(slow, sizeof(slow),
		 "%s\nvar fast_decode = decode;\n"
		 "decode = function (p, t) { var s = Date.now(); while (Date.now() - s < 150) {}\n"
		 "  return fast_decode(p, t); };\n",
		 meter_script);
	put_codec(a, "js", slow);
	struct stream s;
	stream_open(&s, &a->d, "");
	assert_int_equal(stream_wait(&s, "200 OK", 5000), 0);
	for (int i = 1; i <= 6; i++) {
		uint8_t report[] = { 0, 50, 0, 0, 0, (uint8_t)i };
		device_notify(a, report, sizeof(report));
	}
	char resp[8192];
	api_ok(&a->d, "POST", "/v5/iot/p1/products/wm/codec/test",
	       json_pack("{s:s}", "payload_hex", "005700000064"), 429, resp, sizeof(resp));
	assert_non_null(strstr(resp, "the codec queue of product wm is full"));
	assert_int_equal(stream_wait(&s, "\"stage\":\"queue\"", 5000), 0);
	/* At most one running and two waiting: 3 dropped, or 4 when the thread had not taken
	 * the first yet when the third came. */
	long dropped = metric(&a->d, "lwm2md_reports_dropped_total{reason=\"queue_full\"}");
	assert_true(dropped >= 3 && dropped <= 4);
	/* The others were decoded, in order: the shadow ends with the last one taken. */
	json_t *props = shadow_reported(a, 1 + (int)(6 - dropped));
	assert_true(prop(props, "flow") >= 2);
	json_decref(props);

	put_codec(a, "js", looping);
	for (int i = 0; i < 3; i++) {
		static const uint8_t report[] = { 0, 41, 0, 0, 0, 2 };
		device_notify(a, report, sizeof(report));
		usleep(350000);
	}
	for (int i = 0; i < 100 && metric(&a->d, "lwm2md_codec_timeouts_total") < 3; i++)
		usleep(20000);
	assert_true(metric(&a->d, "lwm2md_codec_timeouts_total") >= 3);
	api_ok(&a->d, "GET", "/v5/iot/p1/products/wm/codec", NULL, 200, resp, sizeof(resp));
	assert_non_null(strstr(resp, "\"status\":\"ACTIVE\""));
	assert_int_equal(stream_wait(&s, "ran over its 300 ms", 5000), 0);
	close(s.fd);

	char cmd[1024], out[1024];
	snprintf(cmd, sizeof(cmd), "%s --db %s/other.db --codec-threads 0", getenv("LWM2MD_BIN"),
		 a->d.dir);
	assert_int_not_equal(run_command(cmd, out, sizeof(out), 30), 0);
	assert_non_null(strstr(out, "bad value '0' for --codec-threads"));
}

static int setup_flags(void **state)
{
	static const char *const args[] = { "--codec-threads", "1", "--codec-queue-max", "2",
					     "--codec-time-ms", "300", "--codec-suspend-after",
					     "0", NULL };
	*state = start(args);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_looping_tests_do_not_stall, setup, teardown),
		cmocka_unit_test_setup_teardown(test_looping_uplink_suspended, setup, teardown),
		cmocka_unit_test_setup_teardown(test_eval_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reports_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reports_drained_at_shutdown, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flags_and_queue_bound, setup_flags, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
