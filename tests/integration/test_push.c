/*
 * Integration tests of push's hardening (docs/api.md "Push to applications"): the real
 * daemon, real HTTP endpoints in the test — one that answers, one that hangs (accepts and
 * never answers), one that refuses (nobody listens), one whose SYNs go unanswered — and
 * devices on raw UDP sockets whose Registers and Sends are the events.
 *
 * Covered: one project's hanging and refusing endpoints and its overflowing outbox cost
 * another project nothing (its events arrive promptly, none dropped), and /metrics shows
 * the drops and the breakers; a breaker stops attempts while it cools, probes once, and
 * lets the waiting events go when the endpoint is back; the connect timeout; rules to
 * loopback in every spelling, link-local, private addresses, the daemon's own API, or
 * with credentials refused at creation; a name resolving to loopback refused at connect;
 * --push-allow-private; the number of rules per project.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
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

struct fixture {
	struct daemon_proc d;
	char token2[80]; /* project p2's */
};

/* A sample of /metrics: name with its labels (e.g. `x{project="p1"}`); -1 when absent. */
static long metric(struct daemon_proc *d, const char *series)
{
	static char resp[262144];
	assert_int_equal(http_call(d, "GET", "/metrics", NULL, resp, sizeof(resp)), 200);
	char line[256];
	snprintf(line, sizeof(line), "\n%s ", series);
	const char *p = strstr(resp, line);
	return p ? strtol(p + strlen(line), NULL, 10) : -1;
}

/* Polls until the series reaches at least want; returns the last value. */
static long metric_wait(struct daemon_proc *d, const char *series, long want, int timeout_ms)
{
	long v = -1;
	for (int waited = 0; waited <= timeout_ms; waited += 100) {
		v = metric(d, series);
		if (v >= want)
			break;
		usleep(100 * 1000);
	}
	return v;
}

static int received(struct receiver *r)
{
	pthread_mutex_lock(&r->lock);
	int n = r->count;
	pthread_mutex_unlock(&r->lock);
	return n;
}

/* Waits until r kept want bodies; returns how long that took (ms), or -1. */
static long wait_received(struct receiver *r, int want, int timeout_ms)
{
	int64_t start = mono_ms();
	while (mono_ms() - start <= timeout_ms) {
		if (received(r) >= want)
			return (long)(mono_ms() - start);
		usleep(10 * 1000);
	}
	return -1;
}

static void call(struct daemon_proc *d, const char *token, const char *method,
		 const char *path, const char *body, int want, char *resp, size_t cap)
{
	int status = http_call_auth(d, method, path, body, token, resp, cap);
	if (status != want)
		fail_msg("%s %s: %d, not %d: %s", method, path, status, want, resp);
}

/* A product and a device of node_id in project (with its token). */
static void make_device(struct daemon_proc *d, const char *token, const char *project,
			const char *node_id)
{
	char path[128], body[256], resp[4096];
	snprintf(path, sizeof(path), "/v5/iot/%s/products", project);
	snprintf(body, sizeof(body), "{\"product_id\":\"prod_%s\",\"name\":\"M\","
				     "\"protocol_type\":\"LwM2M\",\"data_format\":\"binary\"}",
		 node_id);
	call(d, token, "POST", path, body, 201, resp, sizeof(resp));
	snprintf(path, sizeof(path), "/v5/iot/%s/devices", project);
	snprintf(body, sizeof(body), "{\"node_id\":\"%s\",\"product_id\":\"prod_%s\","
				     "\"auth_info\":{\"secure_access\":false}}",
		 node_id, node_id);
	call(d, token, "POST", path, body, 201, resp, sizeof(resp));
}

/* Creates a rule of project to url; returns its rule_id in id. */
static void make_rule(struct daemon_proc *d, const char *token, const char *project,
		      const char *url, char id[64])
{
	char path[128], body[512], resp[4096];
	snprintf(path, sizeof(path), "/v5/iot/%s/forwarding-rules", project);
	snprintf(body, sizeof(body), "{\"url\":\"%s\"}", url);
	call(d, token, "POST", path, body, 201, resp, sizeof(resp));
	json_t *j = json_loads(resp, 0, NULL);
	assert_non_null(j);
	snprintf(id, 64, "%s", json_string_value(json_object_get(j, "rule_id")));
	json_decref(j);
}

/* POSTs a rule of p1 that must be refused 400 with a message naming `url`. */
static void rule_refused(struct daemon_proc *d, const char *url, const char *want)
{
	char body[512], resp[4096];
	snprintf(body, sizeof(body), "{\"url\":\"%s\"}", url);
	int status = http_call(d, "POST", "/v5/iot/p1/forwarding-rules", body, resp, sizeof(resp));
	if (status != 400 || !strstr(resp, "\"error_msg\":\"url ") || !strstr(resp, want))
		fail_msg("%s: %d %s (wanted 400 naming url, \"%s\")", url, status, resp, want);
}

/* POSTs a rule of p1 that must be refused 400 with want in the message. */
static void rule_refused_status(struct daemon_proc *d, const char *url, const char *want)
{
	char body[512], resp[4096];
	snprintf(body, sizeof(body), "{\"url\":\"%s\"}", url);
	int status = http_call(d, "POST", "/v5/iot/p1/forwarding-rules", body, resp, sizeof(resp));
	if (status != 400 || !strstr(resp, want))
		fail_msg("%s: %d %s (wanted 400, \"%s\")", url, status, resp, want);
}

/* A port nobody listens on: connections to it are refused. */
static int refusing_port(void)
{
	struct receiver r;
	receiver_start(&r, 0, 0);
	int port = r.port;
	receiver_stop(&r);
	return port;
}

/* A device on its own socket, registered. */
static int device_up(struct daemon_proc *d, const char *node_id)
{
	int fd = coap_socket("127.0.0.1:0");
	char reg_id[32];
	assert_int_equal(coap_register(fd, &d->coap, node_id, "300", "</3/0>", reg_id),
			 COAP_CODE_CREATED);
	return fd;
}

/* One event: a Send (device.message/report). */
static void device_event(int fd, struct daemon_proc *d, uint16_t mid)
{
	char payload[64];
	snprintf(payload, sizeof(payload), "[{\"n\":\"/3/0/9\",\"v\":%u}]", mid);
	assert_int_equal(coap_send_dp(fd, d, mid, 110, payload), COAP_CODE_CHANGED);
}

static void project_token(struct fixture *f, const char *project)
{
	char cmd[1024], out[256];
	snprintf(cmd, sizeof(cmd), "%s token create --db %s --project %s 2>/dev/null",
		 getenv("LWM2MD_BIN"), f->d.db, project);
	assert_int_equal(run_command(cmd, out, sizeof(out), 30), 0);
	out[strcspn(out, "\n")] = '\0';
	assert_int_equal(strlen(out), 64);
	memcpy(f->token2, out, 65);
}

static struct fixture *start(bool strict, const char *const *args)
{
	struct fixture *f = calloc(1, sizeof(*f));
	if (strict)
		daemon_start_push_strict(&f->d, args);
	else
		daemon_start(&f->d, args);
	return f;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	daemon_stop(&f->d);
	daemon_cleanup(&f->d);
	free(f);
	return 0;
}

/* Project p2's endpoints hang and refuse and its outbox overflows its quota; p1's events
 * still arrive promptly (main: ~19 s behind p2's hanging requests) and none is dropped. */
static void test_projects_isolated(void **state)
{
	struct fixture *f = *state;
	struct daemon_proc *d = &f->d;
	char url[128], rule_a[64], rule_hang[64], rule_refuse[64];
	project_token(f, "p2");
	struct receiver ra, rh;
	receiver_start(&ra, 0, 0);
	receiver_start_hanging(&rh, 0);
	int refused = refusing_port();
	make_device(d, d->token, "p1", "a1");
	make_device(d, f->token2, "p2", "b1");
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/a", ra.port);
	make_rule(d, d->token, "p1", url, rule_a);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/hang", rh.port);
	make_rule(d, f->token2, "p2", url, rule_hang);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/refuse", refused);
	make_rule(d, f->token2, "p2", url, rule_refuse);

	/* p2: 2 rules x (ONLINE + 60 Sends) = 122 items against a quota of 20. */
	int fdb = device_up(d, "b1");
	for (uint16_t i = 1; i <= 30; i++)
		device_event(fdb, d, (uint16_t)(0x100 + i));

	/* p1: ONLINE — with p2 flooding on right after it — and five Sends, each expected
	 * within 3 s. */
	long worst = 0;
	int64_t t0 = mono_ms();
	int fda = device_up(d, "a1");
	for (uint16_t i = 31; i <= 60; i++)
		device_event(fdb, d, (uint16_t)(0x100 + i));
	long took = wait_received(&ra, 1, 3000);
	if (took >= 0)
		took = (long)(mono_ms() - t0);
	if (took < 0)
		fail_msg("p1's ONLINE event did not arrive within 3 s");
	worst = took;
	for (int i = 1; i <= 5; i++) {
		device_event(fda, d, (uint16_t)(0x200 + i));
		took = wait_received(&ra, 1 + i, 3000);
		if (took < 0)
			fail_msg("p1's event %d did not arrive within 3 s", i);
		if (took > worst)
			worst = took;
	}
	print_message("p1's slowest event took %ld ms with p2's endpoints hanging\n", worst);
	char *body = receiver_wait(&ra, 0, "\"node_id\":\"a1\"", NULL);
	assert_non_null(body);
	free(body);

	/* p2 dropped its own (122 - 20), p1 nothing. */
	assert_int_equal(metric(d, "lwm2md_push_project_dropped_total{project=\"p1\"}"), 0);
	assert_true(metric(d, "lwm2md_push_project_dropped_total{project=\"p2\"}") >= 100);
	assert_true(metric(d, "lwm2md_push_project_outbox{project=\"p2\"}") <= 20);
	assert_int_equal(metric(d, "lwm2md_push_project_outbox{project=\"p1\"}"), 0);
	assert_true(metric(d, "lwm2md_push_project_in_flight{project=\"p2\"}") <= 4);

	/* Both of p2's breakers open (the hanging one after its timeouts). */
	char series[256];
	snprintf(series, sizeof(series),
		 "lwm2md_push_breaker_state{project=\"p2\",rule=\"%s\"}", rule_refuse);
	assert_int_equal(metric_wait(d, series, 1, 15000), 1);
	snprintf(series, sizeof(series),
		 "lwm2md_push_breaker_state{project=\"p2\",rule=\"%s\"}", rule_hang);
	assert_int_equal(metric_wait(d, series, 1, 20000), 1);
	snprintf(series, sizeof(series),
		 "lwm2md_push_breaker_state{project=\"p2\",rule=\"%s\"}", rule_a);
	assert_int_equal(metric(d, series), -1); /* p1's rule is p1's */
	snprintf(series, sizeof(series),
		 "lwm2md_push_breaker_state{project=\"p1\",rule=\"%s\"}", rule_a);
	assert_int_equal(metric(d, series), 0);
	/* While they cool, p2's events wait untouched: no attempt, nothing dropped — once
	 * the requests under way when the breakers opened have ended. */
	for (int i = 0; i < 100 && metric(d, "lwm2md_push_project_in_flight{project=\"p2\"}"); i++)
		sleep_ms(100);
	assert_int_equal(metric(d, "lwm2md_push_project_in_flight{project=\"p2\"}"), 0);
	long failures = metric(d, "lwm2md_push_project_failures_total{project=\"p2\"}");
	long outbox = metric(d, "lwm2md_push_project_outbox{project=\"p2\"}");
	assert_true(outbox > 0);
	sleep_ms(1500);
	assert_int_equal(metric(d, "lwm2md_push_project_failures_total{project=\"p2\"}"), failures);
	assert_int_equal(metric(d, "lwm2md_push_project_outbox{project=\"p2\"}"), outbox);
	assert_int_equal(received(&ra), 6); /* p1's six, nothing of p2's */
	close(fda);
	close(fdb);
	receiver_stop(&ra);
	receiver_stop(&rh);
}

static int setup_isolated(void **state)
{
	static const char *const args[] = {
		"--push-project-outbox-max", "20", "--push-project-in-flight", "4",
		"--push-max-in-flight", "8", "--push-timeout-ms", "3000",
		"--push-breaker-failures", "3", "--push-breaker-cooldown", "60", NULL,
	};
	*state = start(false, args);
	return 0;
}

/* A breaker opens after its failures, holds its events (one probe per cooling period,
 * the period doubling), and lets them all go once the endpoint answers. */
static void test_breaker_probe(void **state)
{
	struct fixture *f = *state;
	struct daemon_proc *d = &f->d;
	char url[128], rule[64], series[256];
	int port = refusing_port();
	make_device(d, d->token, "p1", "a1");
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/x", port);
	make_rule(d, d->token, "p1", url, rule);
	int fd = device_up(d, "a1");
	for (uint16_t i = 1; i <= 4; i++)
		device_event(fd, d, i);
	snprintf(series, sizeof(series), "lwm2md_push_breaker_opens_total{project=\"p1\",rule=\"%s\"}",
		 rule);
	assert_true(metric_wait(d, series, 1, 10000) >= 1);
	/* Cooling 1 s, then 2 s: at most a probe a second, where five events with their own
	 * backoff would fail five times and more. */
	char failures_series[256];
	snprintf(failures_series, sizeof(failures_series),
		 "lwm2md_push_rule_failures_total{project=\"p1\",rule=\"%s\"}", rule);
	for (int i = 0; i < 100 && metric(d, "lwm2md_push_project_in_flight{project=\"p1\"}"); i++)
		sleep_ms(100); /* what was under way when it opened has ended */
	long before = metric(d, failures_series);
	sleep_ms(3000);
	long after = metric(d, failures_series);
	if (after - before > 3)
		fail_msg("%ld attempts in 3 s while the breaker was open", after - before);
	assert_true(metric_wait(d, series, 2, 10000) >= 2); /* a probe failed: open again */
	assert_int_equal(metric(d, "lwm2md_push_project_outbox{project=\"p1\"}"), 5);

	struct receiver r;
	receiver_start(&r, port, 0);
	if (wait_received(&r, 5, 15000) < 0)
		fail_msg("only %d of 5 events once the endpoint was back", received(&r));
	snprintf(series, sizeof(series), "lwm2md_push_breaker_state{project=\"p1\",rule=\"%s\"}",
		 rule);
	assert_int_equal(metric(d, series), 0);
	assert_int_equal(metric(d, "lwm2md_push_project_dropped_total{project=\"p1\"}"), 0);
	close(fd);
	receiver_stop(&r);
}

static int setup_breaker(void **state)
{
	static const char *const args[] = {
		"--push-breaker-failures", "2", "--push-breaker-cooldown", "1",
		"--push-breaker-cooldown-max", "2", NULL,
	};
	*state = start(false, args);
	return 0;
}

/* An endpoint whose SYNs go unanswered (its accept queue is full) costs the connect
 * timeout, not the whole request's. */
static void test_connect_timeout(void **state)
{
	struct fixture *f = *state;
	struct daemon_proc *d = &f->d;
	int l = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(l, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(l, 0), 0);
	socklen_t alen = sizeof(a);
	getsockname(l, (struct sockaddr *)&a, &alen);
	int fill[3];
	for (int i = 0; i < 3; i++) {
		fill[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		connect(fill[i], (struct sockaddr *)&a, sizeof(a));
	}
	sleep_ms(200);
	char url[128], rule[64];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/x", ntohs(a.sin_port));
	make_device(d, d->token, "p1", "a1");
	make_rule(d, d->token, "p1", url, rule);
	int64_t t0 = mono_ms();
	int fd = device_up(d, "a1");
	long n = metric_wait(d, "lwm2md_push_failure_reasons_total{reason=\"timeout\"}", 1, 6000);
	if (n < 1)
		fail_msg("no timeout within 6 s (the request's own timeout is 30 s)");
	print_message("the connect timeout (500 ms) counted after %lld ms\n",
		      (long long)(mono_ms() - t0));
	close(fd);
	for (int i = 0; i < 3; i++)
		close(fill[i]);
	close(l);
}

static int setup_connect_timeout(void **state)
{
	static const char *const args[] = {
		"--push-connect-timeout-ms", "500", "--push-timeout-ms", "30000", NULL,
	};
	*state = start(false, args);
	return 0;
}

/* By default: every spelling of loopback, link-local, private, the API itself and
 * credentials are refused when the rule is made; a name resolving to loopback when
 * connecting. */
static void test_targets_refused(void **state)
{
	struct fixture *f = *state;
	struct daemon_proc *d = &f->d;
	static const char *const loopbacks[] = {
		"http://127.0.0.1:9000/x", "http://2130706433/", "http://0x7f.1/", "http://127.1/",
		"http://[::1]/", "http://[::ffff:127.0.0.1]/", "http://0177.0.0.1/",
	};
	for (size_t i = 0; i < sizeof(loopbacks) / sizeof(loopbacks[0]); i++)
		rule_refused(d, loopbacks[i], "loopback");
	rule_refused(d, "http://169.254.169.254/latest/meta-data/", "link-local");
	rule_refused(d, "http://10.1.2.3/", "private");
	rule_refused(d, "http://192.168.1.20:8080/", "private");
	rule_refused(d, "http://[fd00::1]/", "private");
	rule_refused(d, "http://0.0.0.0:9000/", "unspecified");
	rule_refused(d, "http://user:password@app.example.com/iot", "user name or password");
	char url[128];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/v5/iot/p1/products", d->http.port);
	rule_refused(d, url, "own API");
	char resp[4096];
	assert_int_equal(http_call(d, "GET", "/v5/iot/p1/forwarding-rules", NULL, resp,
				   sizeof(resp)),
			 200);
	assert_in(resp, "\"rules\":[]");

	/* localhost passes as a name and is refused at connect; the receiver sees nothing. */
	struct receiver r;
	receiver_start(&r, 0, 0);
	char rule[64];
	snprintf(url, sizeof(url), "http://localhost:%d/events", r.port);
	make_rule(d, d->token, "p1", url, rule);
	make_device(d, d->token, "p1", "a1");
	int fd = device_up(d, "a1");
	long n = metric_wait(d, "lwm2md_push_failure_reasons_total{reason=\"address_refused\"}",
			     1, 10000);
	assert_true(n >= 1);
	assert_true(metric(d, "lwm2md_push_project_failures_total{project=\"p1\"}") >= 1);
	assert_int_equal(metric(d, "lwm2md_push_delivered_total"), 0);
	assert_int_equal(receiver_requests(&r), 0);
	close(fd);
	receiver_stop(&r);
}

static int setup_strict(void **state)
{
	*state = start(true, NULL);
	return 0;
}

/* --push-allow-private: loopback, by name or literal, works; the API itself and
 * credentials stay refused. */
static void test_allow_private(void **state)
{
	struct fixture *f = *state;
	struct daemon_proc *d = &f->d;
	char url[128], rule[64];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/v5/iot/p1/products", d->http.port);
	rule_refused(d, url, "own API");
	snprintf(url, sizeof(url), "http://[::ffff:127.0.0.1]:%d/", d->http.port);
	rule_refused(d, url, "own API");
	rule_refused(d, "http://user:password@127.0.0.1:9000/", "user name or password");
	struct receiver r;
	receiver_start(&r, 0, 0);
	snprintf(url, sizeof(url), "http://localhost:%d/events", r.port);
	make_rule(d, d->token, "p1", url, rule);
	make_device(d, d->token, "p1", "a1");
	int fd = device_up(d, "a1");
	char *body = receiver_wait(&r, 10000, "\"status\":\"ONLINE\"", "\"node_id\":\"a1\"", NULL);
	assert_non_null(body);
	free(body);
	assert_int_equal(metric(d, "lwm2md_push_failure_reasons_total{reason=\"address_refused\"}"),
			 0);
	close(fd);
	receiver_stop(&r);
}

static int setup_open(void **state)
{
	*state = start(false, NULL);
	return 0;
}

/* Rules multiply a project's events: --push-max-rules bounds them. */
static void test_max_rules(void **state)
{
	struct fixture *f = *state;
	struct daemon_proc *d = &f->d;
	char rule[64], resp[4096];
	make_rule(d, d->token, "p1", "http://127.0.0.1:9001/", rule);
	make_rule(d, d->token, "p1", "http://127.0.0.1:9002/", rule);
	rule_refused_status(d, "http://127.0.0.1:9003/", "at most 2 forwarding rules");
	char path[128];
	snprintf(path, sizeof(path), "/v5/iot/p1/forwarding-rules/%s", rule);
	call(d, d->token, "DELETE", path, NULL, 204, resp, sizeof(resp));
	make_rule(d, d->token, "p1", "http://127.0.0.1:9003/", rule);
}

static int setup_max_rules(void **state)
{
	static const char *const args[] = { "--push-max-rules", "2", NULL };
	*state = start(false, args);
	return 0;
}

/* The flags' bounds, and the config file's form of the switch. */
static void test_flags(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"--push-max-in-flight 0",        "--push-max-in-flight 257",
		"--push-project-in-flight x",    "--push-project-outbox-max 0",
		"--push-connect-timeout-ms 99",  "--push-timeout-ms -5",
		"--push-breaker-failures 0",     "--push-breaker-cooldown 86401",
		"--push-breaker-cooldown-max 0", "--push-max-rules 1001",
	};
	char cmd[1024], out[4096];
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(cmd, sizeof(cmd), "%s --db /nonexistent/x.db %s", getenv("LWM2MD_BIN"),
			 bad[i]);
		int rc = run_command(cmd, out, sizeof(out), 30);
		if (rc == 0 || !strstr(out, "bad value"))
			fail_msg("%s: %d %s", bad[i], rc, out);
	}
	/* push-allow-private = true in a file lets a strict daemon take a loopback rule. */
	struct daemon_proc d;
	char conf[300], rule[64];
	char dir[] = "/tmp/lwm2md-push-conf-XXXXXX";
	assert_non_null(mkdtemp(dir));
	snprintf(conf, sizeof(conf), "%s/lwm2md.conf", dir);
	FILE *fp = fopen(conf, "w");
	assert_non_null(fp);
	fputs("push-allow-private = true\npush-max-rules = 1\n", fp);
	fclose(fp);
	const char *const args[] = { "--config", conf, NULL };
	daemon_start_push_strict(&d, args);
	make_rule(&d, d.token, "p1", "http://127.0.0.1:9000/", rule);
	rule_refused_status(&d, "http://127.0.0.1:9001/", "at most 1 forwarding rules");
	daemon_stop(&d);
	daemon_cleanup(&d);
	unlink(conf);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_projects_isolated, setup_isolated, teardown),
		cmocka_unit_test_setup_teardown(test_breaker_probe, setup_breaker, teardown),
		cmocka_unit_test_setup_teardown(test_connect_timeout, setup_connect_timeout,
						teardown),
		cmocka_unit_test_setup_teardown(test_targets_refused, setup_strict, teardown),
		cmocka_unit_test_setup_teardown(test_allow_private, setup_open, teardown),
		cmocka_unit_test_setup_teardown(test_max_rules, setup_max_rules, teardown),
		cmocka_unit_test(test_flags),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
