/*
 * Integration tests of the platform layer end to end with the project's simulator as the
 * device: lwm2m-sim --meter plays the binary NB-IoT water meter of meter_fixture.h, the
 * real daemon decodes its reports and encodes its commands, and a small HTTP receiver
 * (harness_receiver.c) stands in for the application the daemon pushes events to.
 * Every scenario runs once with the declarative codec and once with the JavaScript one.
 *
 * Covered: reports into the shadow and pushed as property reports (with the values the
 * simulator printed); device status pushed; a command immediately, answered by the
 * meter, SUCCESSFUL, each status pushed; a bad command refused; a delayed command to a
 * sleeping (queue-mode) meter held PENDING and sent right after the meter's next report;
 * expiry; delayed commands across a daemon restart, each delivered exactly once; the
 * desired shadow's interval delivered as $properties, reported back, desired cleared.
 * Everything waits by polling with a timeout: nothing asserts how fast it went.
 */
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
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
#include "meter_fixture.h"

#define DEVICE "wm_meter1"
#define NODE "meter1"

struct fixture {
	struct daemon_proc d;
	const char *kind; /* "declarative" or "js" */
	struct receiver r;
	pid_t sim;
	char sim_out[320];
};

/* The simulator and its output. */

/* The simulator's output so far (a static buffer, overwritten by the next call). */
static const char *sim_output(struct fixture *f)
{
	return sim_output_of(f->sim_out);
}

/* Waits until the simulator printed needle; fails the test after timeout_ms. */
static void sim_wait(struct fixture *f, const char *needle, int timeout_ms)
{
	for (int waited = 0; waited <= timeout_ms; waited += 20) {
		if (strstr(sim_output(f), needle))
			return;
		sleep_ms(20);
	}
	fail_msg("the simulator never printed \"%s\":\n%s", needle, sim_output(f));
}

static int count_of(const char *haystack, const char *needle)
{
	int n = 0;
	for (const char *p = haystack; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

/* Starts lwm2m-sim --meter as meter1 (output into the daemon's temp dir, appended, so
 * that a second run follows the first) and waits until it registered. */
static void sim_start(struct fixture *f, const char *extra)
{
	char addr[ADDR_STR_MAX], cmd[1024];
	addr_format(&f->d.coap, addr);
	snprintf(cmd, sizeof(cmd),
		 "exec %s --server %s --ep " NODE " --lifetime 300 --serve 60 --meter %s >> %s 2>&1",
		 sim_bin(), addr, extra, f->sim_out);
	int registered = count_of(sim_output(f), "registered rd/");
	f->sim = fork();
	assert_true(f->sim >= 0);
	if (f->sim == 0) {
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	for (int waited = 0; count_of(sim_output(f), "registered rd/") == registered; waited += 20) {
		if (waited > 10000)
			fail_msg("the simulator did not register: %s", sim_output(f));
		sleep_ms(20);
	}
}

static void sim_stop(struct fixture *f)
{
	if (f->sim > 0) {
		kill(f->sim, SIGTERM);
		waitpid(f->sim, NULL, 0);
		f->sim = 0;
	}
}

/* The report the simulator printed as "meter report seq=<seq> battery=B flow=F". */
static void sim_report(struct fixture *f, unsigned seq, int *battery, unsigned *flow,
		       int timeout_ms)
{
	char needle[48];
	snprintf(needle, sizeof(needle), "meter report seq=%u ", seq);
	sim_wait(f, needle, timeout_ms);
	const char *line = strstr(sim_output(f), needle) + strlen(needle);
	if (sscanf(line, "battery=%d flow=%u", battery, flow) != 2)
		fail_msg("unreadable report line: %s", line);
}

/* The API. */

static void api_ok(struct fixture *f, const char *method, const char *path, json_t *body,
		   int want, char *resp, size_t cap)
{
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	int status = http_call(&f->d, method, path, text, resp, cap);
	free(text);
	json_decref(body);
	if (status != want)
		fail_msg("%s %s: %d, not %d: %s\nsim: %s", method, path, status, want, resp,
			 sim_output(f));
}

/* Creates a SET_INTERVAL command (expire < 0: the default expiry); returns its JSON
 * when want is 201, else NULL. */
static json_t *command_create(struct fixture *f, int interval, const char *strategy,
			      int expire, int want)
{
	char resp[8192];
	json_t *body = json_pack("{s:s, s:s, s:{s:i}, s:s}", "service_id", "WaterMeter",
				 "command_name", "SET_INTERVAL", "paras", "interval", interval,
				 "send_strategy", strategy);
	if (expire >= 0)
		json_object_set_new(body, "expire_time", json_integer(expire));
	api_ok(f, "POST", "/v5/iot/p1/devices/" DEVICE "/async-commands", body, want, resp,
	       sizeof(resp));
	return want == 201 ? json_loads(resp, 0, NULL) : NULL;
}

static const char *str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "";
}

static json_t *command_get(struct fixture *f, const char *id)
{
	char path[256], resp[8192];
	snprintf(path, sizeof(path), "/v5/iot/p1/devices/" DEVICE "/async-commands/%s", id);
	api_ok(f, "GET", path, NULL, 200, resp, sizeof(resp));
	return json_loads(resp, 0, NULL);
}

/* The command's JSON, polled until its status is want (up to timeout_ms). */
static json_t *command_wait(struct fixture *f, const char *id, const char *want,
			    int timeout_ms)
{
	json_t *c = NULL;
	for (int waited = 0; waited <= timeout_ms; waited += 20) {
		json_decref(c);
		c = command_get(f, id);
		if (strcmp(str(c, "status"), want) == 0)
			return c;
		sleep_ms(20);
	}
	char *text = json_dumps(c, JSON_COMPACT);
	fail_msg("command %s never became %s: %s\nsim: %s", id, want, text, sim_output(f));
	return NULL;
}

/* A SUCCESSFUL command's result: errcode 0 and the meter's ACK {result: 1}. */
static void expect_result_ok(const json_t *cmd)
{
	const json_t *result = json_object_get(cmd, "result");
	assert_int_equal(json_integer_value(json_object_get(result, "errcode")), 0);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(result, "body"),
							    "result")),
			 1);
}

/* The shadow's reported WaterMeter properties, polled until flow reaches min_flow. */
static json_t *shadow_wait(struct fixture *f, unsigned min_flow, int timeout_ms)
{
	char resp[8192];
	for (int waited = 0; waited <= timeout_ms; waited += 20) {
		api_ok(f, "GET", "/v5/iot/p1/devices/" DEVICE "/shadow", NULL, 200, resp,
		       sizeof(resp));
		json_t *j = json_loads(resp, 0, NULL);
		json_t *svc = json_array_get(json_object_get(j, "shadow"), 0);
		json_t *props = json_object_get(json_object_get(svc, "reported"), "properties");
		if (props && json_integer_value(json_object_get(props, "flow")) >= min_flow) {
			assert_string_equal(str(svc, "service_id"), "WaterMeter");
			json_incref(props);
			json_decref(j);
			return props;
		}
		json_decref(j);
		sleep_ms(20);
	}
	fail_msg("the shadow's flow never reached %u: %s", min_flow, resp);
	return NULL;
}

/* Pushed events. */

/* A pushed event's body holding every needle (NULL-terminated), parsed; its header must
 * name the meter. Fails the test after timeout_ms. */
static json_t *pushed(struct fixture *f, int timeout_ms, ...)
{
	const char *n[6] = { 0 };
	va_list ap;
	va_start(ap, timeout_ms);
	for (int i = 0; i < 5 && (n[i] = va_arg(ap, const char *)); i++)
		;
	va_end(ap);
	char *body = receiver_wait(&f->r, timeout_ms, n[0], n[1], n[2], n[3], n[4], NULL);
	if (!body)
		fail_msg("nothing pushed with %s %s %s %s %s\nsim: %s", n[0], n[1] ? n[1] : "",
			 n[2] ? n[2] : "", n[3] ? n[3] : "", n[4] ? n[4] : "", sim_output(f));
	json_t *event = json_loads(body, 0, NULL);
	free(body);
	assert_non_null(event);
	assert_true(json_is_string(json_object_get(event, "request_id")));
	assert_true(json_is_string(json_object_get(event, "event_time")));
	const json_t *header = json_object_get(json_object_get(event, "notify_data"), "header");
	assert_string_equal(str(header, "node_id"), NODE);
	assert_string_equal(str(header, "device_id"), DEVICE);
	assert_string_equal(str(header, "product_id"), "wm");
	return event;
}

static const json_t *pushed_body(const json_t *event)
{
	return json_object_get(json_object_get(event, "notify_data"), "body");
}

/* How many pushed bodies so far hold both needles. */
static int pushed_count(struct fixture *f, const char *a, const char *b)
{
	int n = 0;
	pthread_mutex_lock(&f->r.lock);
	for (int i = 0; i < f->r.count; i++)
		n += strstr(f->r.bodies[i], a) && strstr(f->r.bodies[i], b);
	pthread_mutex_unlock(&f->r.lock);
	return n;
}

/* The property report of battery and flow was pushed. */
static void expect_pushed_report(struct fixture *f, int battery, unsigned flow)
{
	char b[32], fl[32];
	snprintf(b, sizeof(b), "\"battery\":%d", battery);
	snprintf(fl, sizeof(fl), "\"flow\":%u", flow);
	json_t *e = pushed(f, 8000, "\"resource\":\"device.property\"", b, fl, NULL);
	assert_string_equal(str(e, "event"), "report");
	const json_t *svc = json_array_get(json_object_get(pushed_body(e), "services"), 0);
	assert_string_equal(str(svc, "service_id"), "WaterMeter");
	const json_t *props = json_object_get(svc, "properties");
	assert_int_equal(json_integer_value(json_object_get(props, "battery")), battery);
	assert_int_equal(json_integer_value(json_object_get(props, "flow")), flow);
	json_decref(e);
}

/* The command's status update to status was pushed; returns its body's command. */
static json_t *expect_pushed_status(struct fixture *f, const char *id, const char *status)
{
	char want_id[96], want_status[48];
	snprintf(want_id, sizeof(want_id), "\"command_id\":\"%s\"", id);
	snprintf(want_status, sizeof(want_status), "\"status\":\"%s\"", status);
	json_t *e = pushed(f, 10000, "\"resource\":\"device.command.status\"", want_id,
			   want_status, NULL);
	assert_string_equal(str(e, "event"), "update");
	json_t *cmd = json_incref((json_t *)pushed_body(e));
	json_decref(e);
	assert_string_equal(str(cmd, "command_id"), id);
	assert_string_equal(str(cmd, "status"), status);
	assert_string_equal(str(cmd, "command_name"), "SET_INTERVAL");
	return cmd;
}

/* Fixtures: the product (binary, the meter model, a codec of f->kind), the device, and a
 * forwarding rule of every event to the receiver. */

static struct fixture *start(const char *kind, const char *const *args)
{
	struct fixture *f = calloc(1, sizeof(*f));
	f->kind = kind;
	daemon_start(&f->d, args);
	snprintf(f->sim_out, sizeof(f->sim_out), "%s/sim.out", f->d.dir);
	char resp[16384];
	json_t *caps = json_loads(meter_model, 0, NULL);
	assert_non_null(caps);
	api_ok(f, "POST", "/v5/iot/p1/products",
	       json_pack("{s:s, s:s, s:s, s:o}", "product_id", "wm", "name", "Water meter",
			 "data_format", "binary", "service_capabilities", caps),
	       201, resp, sizeof(resp));
	api_ok(f, "PUT", "/v5/iot/p1/products/wm/codec",
	       json_pack("{s:s, s:s}", "kind", kind, "source",
			 strcmp(kind, "js") == 0 ? meter_script : meter_layout),
	       200, resp, sizeof(resp));
	api_ok(f, "POST", "/v5/iot/p1/devices",
	       json_pack("{s:s, s:s, s:s}", "device_id", DEVICE, "node_id", NODE, "product_id",
			 "wm"),
	       201, resp, sizeof(resp));
	receiver_start(&f->r, 0, 0);
	char body[256];
	snprintf(body, sizeof(body),
		 "{\"url\":\"http://127.0.0.1:%d/events\",\"events\":[\"device.property/report\","
		 "\"device.message/report\",\"device.command.status/update\","
		 "\"device.status/update\"]}",
		 f->r.port);
	int status = http_call(&f->d, "POST", "/v5/iot/p1/forwarding-rules", body, resp,
			       sizeof(resp));
	if (status != 201)
		fail_msg("forwarding rule: %d %s", status, resp);
	return f;
}

static const char *const queue_args[] = { "--queue-window", "1", NULL };

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

static int setup_decl_queue(void **state)
{
	*state = start("declarative", queue_args);
	return 0;
}

static int setup_js_queue(void **state)
{
	*state = start("js", queue_args);
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	sim_stop(f);
	receiver_stop(&f->r);
	daemon_stop(&f->d); /* exits 0: no leak, no sanitizer report */
	daemon_cleanup(&f->d);
	free(f);
	return 0;
}

/* The tests. */

/* Reports reach the shadow and the application; a command goes out at once and the
 * meter's answer makes it SUCCESSFUL, every step pushed. */
static void test_reports_and_command(void **state)
{
	struct fixture *f = *state;
	sim_start(f, "--report-every 1000 --battery 88");
	json_decref(pushed(f, 8000, "\"resource\":\"device.status\"", "\"event\":\"update\"",
			   "\"status\":\"ONLINE\"", NULL));

	/* The first report answers the Observe; two more come as notifications. */
	int battery[3];
	unsigned flow[3];
	for (unsigned seq = 0; seq < 3; seq++) {
		sim_report(f, seq, &battery[seq], &flow[seq], 8000);
		expect_pushed_report(f, battery[seq], flow[seq]);
	}
	assert_int_equal(battery[0], 88);
	assert_true(flow[0] < flow[1] && flow[1] < flow[2]);
	json_t *props = shadow_wait(f, flow[2], 5000);
	/* The shadow holds a report the meter made: its battery is that report's. */
	char line[64];
	snprintf(line, sizeof(line), "battery=%d flow=%u\n",
		 (int)json_integer_value(json_object_get(props, "battery")),
		 (unsigned)json_integer_value(json_object_get(props, "flow")));
	if (!strstr(sim_output(f), line))
		fail_msg("the shadow's %s is no report of the meter:\n%s", line, sim_output(f));
	json_decref(props);

	/* SET_INTERVAL, immediately: the meter takes interval and mid, and answers. */
	json_t *cmd = command_create(f, 300, "immediately", -1, 201);
	const char *id = str(cmd, "command_id");
	int mid = (int)json_integer_value(json_object_get(cmd, "mid"));
	char want[64];
	snprintf(want, sizeof(want), "meter command mid=%d interval=300\n", mid);
	sim_wait(f, want, 8000);
	snprintf(want, sizeof(want), "meter answer mid=%d errcode=0\n", mid);
	sim_wait(f, want, 8000);
	json_t *done = command_wait(f, id, "SUCCESSFUL", 8000);
	expect_result_ok(done);
	assert_true(json_is_string(json_object_get(done, "delivered_time")));
	assert_true(json_is_string(json_object_get(done, "response_time")));
	json_decref(done);
	json_decref(expect_pushed_status(f, id, "SENT"));
	json_decref(expect_pushed_status(f, id, "DELIVERED"));
	done = expect_pushed_status(f, id, "SUCCESSFUL");
	char want_id[96];
	snprintf(want_id, sizeof(want_id), "\"command_id\":\"%s\"", id);
	assert_int_equal(pushed_count(f, want_id, "\"status\":\"SUCCESSFUL\""), 1);
	expect_result_ok(done);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(done, "paras"),
							    "interval")),
			 300);
	json_decref(done);
	json_decref(cmd);

	/* Bytes that are no SET_INTERVAL, written through the DM API ([1, 0x12, 0x34, 0]:
	 * one byte short): the meter takes them (2.04) and answers errcode 1 for mid 0x1234,
	 * which no command has; the daemon shrugs it off. */
	char resp[4096];
	api_ok(f, "PUT", "/v5/iot/p1/devices/" DEVICE "/lwm2m/19/1/0?timeout=5",
	       json_pack("{s:s, s:[{s:s, s:s, s:s}]}", "format", "opaque", "values", "path",
			 "/19/1/0", "type", "opaque", "value", "ARI0AA=="),
	       200, resp, sizeof(resp));
	assert_in(resp, "\"code\":\"2.04\"");
	sim_wait(f, "meter command mid=4660 refused len=4 id=1\n", 5000);
	sim_wait(f, "meter answer mid=4660 errcode=1\n", 5000);
	/* Counted as an answer nobody waited for, not as a codec error. */
	for (int waited = 0;; waited += 20) {
		char metrics[32768];
		assert_int_equal(http_call(&f->d, "GET", "/metrics", NULL, metrics, sizeof(metrics)),
				 200);
		if (strstr(metrics, "\nlwm2md_unmatched_answers_total 1\n")) {
			assert_in(metrics, "\nlwm2md_codec_errors_total 0\n");
			break;
		}
		if (waited > 5000)
			fail_msg("the unmatched answer was not counted:\n%s", metrics);
		sleep_ms(20);
	}

	/* Reports go on after the commands: the next one is pushed too. */
	int b;
	unsigned fl;
	sim_report(f, (unsigned)count_of(sim_output(f), "meter report seq="), &b, &fl, 8000);
	expect_pushed_report(f, b, fl);

	/* A command the model refuses never reaches the meter. */
	json_t *bad = json_pack("{s:s, s:s, s:{s:i}, s:s}", "service_id", "WaterMeter",
				"command_name", "SET_INTERVAL", "paras", "interval", 0,
				"send_strategy", "immediately");
	api_ok(f, "POST", "/v5/iot/p1/devices/" DEVICE "/async-commands", bad, 400, resp,
	       sizeof(resp));
	assert_in(resp, "paras.interval");
	assert_int_equal(count_of(sim_output(f), "meter command mid="), 2);
}

/* Queue mode: the meter sleeps between reports and never sends an Update meanwhile
 * (--wake-every 60 s). A delayed command made while it sleeps waits PENDING, and goes out
 * right after its next report, in the short time it listens. */
static void test_command_to_sleeping_meter(void **state)
{
	struct fixture *f = *state;
	sim_start(f, "--binding UQ --sleep-after 300 --wake-every 60000 --report-every 3000");
	int battery;
	unsigned flow;
	sim_report(f, 1, &battery, &flow, 8000);
	/* Asleep after that report, and past the daemon's 1 s queue window. */
	for (int waited = 0; !strstr(strstr(sim_output(f), "meter report seq=1 "), "sleeping");
	     waited += 20) {
		if (waited > 3000)
			fail_msg("the meter did not sleep: %s", sim_output(f));
		sleep_ms(20);
	}
	sleep_ms(900);
	json_t *cmd = command_create(f, 120, "delay", -1, 201);
	const char *id = str(cmd, "command_id");
	int mid = (int)json_integer_value(json_object_get(cmd, "mid"));
	assert_string_equal(str(cmd, "status"), "PENDING");
	json_t *now = command_get(f, id);
	assert_string_equal(str(now, "status"), "PENDING");
	json_decref(now);

	char want[64];
	snprintf(want, sizeof(want), "meter command mid=%d interval=120\n", mid);
	sim_wait(f, want, 8000);
	json_t *done = command_wait(f, id, "SUCCESSFUL", 8000);
	expect_result_ok(done);
	json_decref(done);
	/* The application saw it wait, then go once. */
	json_decref(expect_pushed_status(f, id, "PENDING"));
	json_decref(expect_pushed_status(f, id, "SUCCESSFUL"));
	char want_id[96];
	snprintf(want_id, sizeof(want_id), "\"command_id\":\"%s\"", id);
	assert_int_equal(pushed_count(f, want_id, "\"status\":\"SENT\""), 1);
	json_decref(cmd);

	/* The meter's output: it slept, a report woke it, and the command came after that
	 * report — not after an Update, and nothing was sent to it while it slept. */
	const char *out = sim_output(f);
	const char *command = strstr(out, want);
	const char *report = strstr(out, "meter report seq=2 ");
	if (!report || report > command)
		fail_msg("the command did not come after report 2:\n%s", out);
	const char *woke = strstr(report, "woke (notification)");
	if (!woke || woke > command)
		fail_msg("the report did not wake the meter before the command:\n%s", out);
	assert_int_equal(count_of(out, "updated"), 0);
	assert_null(strstr(out, "dropped datagram"));
}

/* A delayed command the meter does not take before expire_time is EXPIRED, pushed, and
 * never sent when the meter comes. */
static void test_expiry(void **state)
{
	struct fixture *f = *state;
	json_t *cmd = command_create(f, 30, "delay", 1, 201);
	const char *id = str(cmd, "command_id");
	json_decref(command_wait(f, id, "EXPIRED", 10000));
	json_decref(expect_pushed_status(f, id, "EXPIRED"));
	json_decref(cmd);
	sim_start(f, "--report-every 500");
	int battery;
	unsigned flow;
	sim_report(f, 2, &battery, &flow, 8000);
	expect_pushed_report(f, battery, flow); /* the daemon heard it speak */
	assert_null(strstr(sim_output(f), "meter command"));
}

/* Delayed commands made while the meter is away wait across a daemon restart, and each
 * is delivered exactly once, oldest first, when it comes. */
static void test_pending_across_restart(void **state)
{
	struct fixture *f = *state;
	enum { N = 3 };
	char ids[N][64];
	int mids[N];
	for (int i = 0; i < N; i++) {
		json_t *cmd = command_create(f, 200 + i, "delay", -1, 201);
		assert_string_equal(str(cmd, "status"), "PENDING");
		snprintf(ids[i], sizeof(ids[i]), "%s", str(cmd, "command_id"));
		mids[i] = (int)json_integer_value(json_object_get(cmd, "mid"));
		json_decref(cmd);
	}
	daemon_stop(&f->d);
	daemon_restart(&f->d, NULL);
	for (int i = 0; i < N; i++) {
		json_t *c = command_get(f, ids[i]);
		assert_string_equal(str(c, "status"), "PENDING");
		json_decref(c);
	}
	sim_start(f, "--report-every 1000");
	for (int i = 0; i < N; i++) {
		json_t *done = command_wait(f, ids[i], "SUCCESSFUL", 10000);
		expect_result_ok(done);
		json_decref(done);
		json_decref(expect_pushed_status(f, ids[i], "SUCCESSFUL"));
	}
	/* A report later, still once each, in the order they were made. */
	const char *out = sim_output(f);
	unsigned seq = (unsigned)count_of(out, "meter report seq=");
	int battery;
	unsigned flow;
	sim_report(f, seq, &battery, &flow, 8000);
	out = sim_output(f);
	const char *prev = out;
	for (int i = 0; i < N; i++) {
		char want[64];
		snprintf(want, sizeof(want), "meter command mid=%d interval=%d\n", mids[i], 200 + i);
		if (count_of(out, want) != 1)
			fail_msg("want \"%s\" once:\n%s", want, out);
		const char *at = strstr(out, want);
		if (at < prev)
			fail_msg("command %d came out of order:\n%s", i, out);
		prev = at;
		/* Sent once, answered once: one SENT and one SUCCESSFUL pushed. */
		char want_id[96];
		snprintf(want_id, sizeof(want_id), "\"command_id\":\"%s\"", ids[i]);
		assert_int_equal(pushed_count(f, want_id, "\"status\":\"SENT\""), 1);
		assert_int_equal(pushed_count(f, want_id, "\"status\":\"SUCCESSFUL\""), 1);
	}
	assert_int_equal(count_of(out, "meter command"), N);
}

/* The desired shadow through the meter: a PUT of the writable interval goes out as the
 * $properties command, the meter takes it, answers, and reports its new interval — and
 * desired clears, every step pushed. */
static void test_desired_interval(void **state)
{
	struct fixture *f = *state;
	sim_start(f, "--report-every 1000");
	int battery;
	unsigned flow;
	sim_report(f, 0, &battery, &flow, 8000);
	char resp[8192];
	api_ok(f, "PUT", "/v5/iot/p1/devices/" DEVICE "/shadow",
	       json_pack("{s:[{s:s, s:{s:i}, s:i}]}", "shadow", "service_id", "WaterMeter",
			 "desired", "interval", 120, "version", 0),
	       200, resp, sizeof(resp));
	json_t *put = json_loads(resp, 0, NULL);
	json_t *desired = json_object_get(json_array_get(json_object_get(put, "shadow"), 0),
					  "desired");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(desired, "properties"),
							    "interval")),
			 120);
	assert_int_equal(json_integer_value(json_object_get(desired, "version")), 1);
	json_decref(put);

	sim_wait(f, "interval=120\n", 8000);
	assert_in(sim_output(f), "meter properties mid=");
	sim_wait(f, "meter interval report interval=120\n", 8000);
	json_decref(pushed(f, 8000, "\"resource\":\"device.property\"", "\"interval\":120",
			   NULL));
	json_decref(pushed(f, 8000, "\"resource\":\"device.command.status\"",
			   "\"command_name\":\"$properties\"", "\"status\":\"SUCCESSFUL\"", NULL));

	/* Reported now, so no longer desired: desired is empty at version 2. */
	for (int waited = 0;; waited += 20) {
		api_ok(f, "GET", "/v5/iot/p1/devices/" DEVICE "/shadow", NULL, 200, resp,
		       sizeof(resp));
		if (strstr(resp, "\"desired\":{\"properties\":{}") && strstr(resp, "\"version\":2}"))
			break;
		if (waited > 5000)
			fail_msg("desired did not clear: %s\nsim: %s", resp, sim_output(f));
		sleep_ms(20);
	}
	assert_in(resp, "\"interval\":120");
}

#define BOTH_KINDS(fn)                                                                         \
	cmocka_unit_test_setup_teardown(fn, setup_decl, teardown),                             \
		cmocka_unit_test_setup_teardown(fn, setup_js, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		BOTH_KINDS(test_reports_and_command),
		cmocka_unit_test_setup_teardown(test_command_to_sleeping_meter, setup_decl_queue,
						teardown),
		cmocka_unit_test_setup_teardown(test_command_to_sleeping_meter, setup_js_queue,
						teardown),
		BOTH_KINDS(test_expiry),
		BOTH_KINDS(test_pending_across_restart),
		BOTH_KINDS(test_desired_interval),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
