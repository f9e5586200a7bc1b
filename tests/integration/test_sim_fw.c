/*
 * Integration tests of the simulator's Firmware Update object (lwm2m-sim --fw, sim_fw.c)
 * against the real daemon, driven through the REST API's Device Management routes as the
 * firmware engine will drive it: push (Write /5/0/0 with Block1), Execute /5/0/2, the
 * reboot and new registration with the new /3/0/3, the failure outcomes, and pull.
 *
 * The daemon does not serve packages by pull yet, so pull is tested against a small CoAP
 * Block2 server thread of this test (fw_server below), which the simulator is pointed at
 * with its test aid --fw-pull-server; the URI checks are tested against the daemon itself
 * (a URI naming the registered server is fetched from it, over DTLS inside the session).
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
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "harness.h"

#define KEY_HEX "73696d2d7365637265742d31"
#define PKG_LEN 3072

struct fixture {
	struct daemon_proc d;
	bool secure;
	pid_t sim;
	char sim_out[320];
	char node[16];
	char dev[32];
};

static int setup_with(void **state, bool secure, const char *const *args)
{
	struct fixture *f = calloc(1, sizeof(*f));
	daemon_start(&f->d, args);
	api_create_product(&f->d, "meter");
	f->secure = secure;
	snprintf(f->node, sizeof(f->node), "%s", secure ? "fwsec" : "fwudp");
	snprintf(f->dev, sizeof(f->dev), "meter_%s", f->node);
	char body[256], resp[1024];
	snprintf(body, sizeof(body),
		 "{\"node_id\":\"%s\",\"product_id\":\"meter\",\"auth_info\":"
		 "{\"secure_access\":%s,\"secret\":\"" KEY_HEX "\"}}",
		 f->node, secure ? "true" : "false");
	int status = http_call(&f->d, "POST", "/v5/iot/p1/devices", body, resp, sizeof(resp));
	if (status != 201)
		fail_msg("device create: %d %s", status, resp);
	snprintf(f->sim_out, sizeof(f->sim_out), "%s/sim.out", f->d.dir);
	*state = f;
	return 0;
}

static int setup_udp(void **state)
{
	return setup_with(state, false, NULL);
}

static int setup_dtls(void **state)
{
	return setup_with(state, true, NULL);
}

static const char *const queue_args[] = { "--queue-window", "1", NULL };

static int setup_queue_udp(void **state)
{
	return setup_with(state, false, queue_args);
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	if (f->sim > 0) {
		kill(f->sim, SIGTERM);
		waitpid(f->sim, NULL, 0);
	}
	daemon_cleanup(&f->d);
	free(f);
	return 0;
}

static const char *sim_output(struct fixture *f)
{
	return sim_output_of(f->sim_out);
}

/* How often needle is in the simulator's output. */
static int sim_count(struct fixture *f, const char *needle)
{
	int n = 0;
	const char *out = sim_output(f);
	for (const char *p = strstr(out, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

/* Waits until the simulator printed needle at least `times` times. Returns 0 or -1. */
static int sim_wait_n(struct fixture *f, const char *needle, int times, int timeout_ms)
{
	for (int waited = 0; waited <= timeout_ms; waited += 20) {
		if (sim_count(f, needle) >= times)
			return 0;
		sleep_ms(20);
	}
	return -1;
}

static void sim_expect(struct fixture *f, const char *needle, int timeout_ms)
{
	if (sim_wait_n(f, needle, 1, timeout_ms) != 0)
		fail_msg("the simulator did not print \"%s\":\n%s", needle, sim_output(f));
}

/* Starts lwm2m-sim --fw as this fixture's device with extra args; waits until it is
 * registered and online. */
static void sim_start(struct fixture *f, const char *extra)
{
	char addr[ADDR_STR_MAX], cmd[1536];
	addr_format(f->secure ? &f->d.coaps : &f->d.coap, addr);
	if (f->secure)
		snprintf(cmd, sizeof(cmd),
			 "exec %s --server %s --psk-identity %s --psk " KEY_HEX
			 " --lifetime 300 --serve 60 --fw %s > %s 2>&1",
			 sim_bin(), addr, f->node, extra, f->sim_out);
	else
		snprintf(cmd, sizeof(cmd),
			 "exec %s --server %s --ep %s --lifetime 300 --serve 60 --fw %s > %s 2>&1",
			 sim_bin(), addr, f->node, extra, f->sim_out);
	f->sim = fork();
	assert_true(f->sim >= 0);
	if (f->sim == 0) {
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	if (sim_wait_n(f, "registered rd/", 1, 10000) != 0)
		fail_msg("the simulator did not register: %s", sim_output(f));
	assert_int_equal(api_wait_status(&f->d, f->dev, "ONLINE", 3000), 0);
}

/* One DM call on the device (body as JSON, or raw with content_type); the JSON answer
 * (caller frees). Fails the test unless the HTTP status is 200. */
static json_t *dm(struct fixture *f, const char *method, const char *route,
		  const char *content_type, const void *body, size_t len)
{
	static char resp[65536];
	char path[512];
	snprintf(path, sizeof(path), "/v5/iot/p1/devices/%s/lwm2m/%s", f->dev, route);
	int status = content_type ? http_call_type(&f->d, method, path, content_type, body, len,
						   resp, sizeof(resp))
				  : http_call(&f->d, method, path, body, resp, sizeof(resp));
	if (status != 200)
		fail_msg("%s %s: HTTP %d %s\nsim: %s", method, route, status, resp, sim_output(f));
	json_t *j = json_loads(resp, 0, NULL);
	if (!j)
		fail_msg("%s %s: not JSON: %s", method, route, resp);
	return j;
}

static const char *code_of(const json_t *a)
{
	const char *s = json_string_value(json_object_get(a, "code"));
	return s ? s : "";
}

/* The first value of a Read answer. */
static json_t *first_value(const json_t *a)
{
	return json_object_get(json_array_get(json_object_get(a, "values"), 0), "value");
}

static void expect_int(struct fixture *f, const char *path, json_int_t want)
{
	char route[64];
	snprintf(route, sizeof(route), "%s?timeout=5", path);
	json_t *a = dm(f, "GET", route, NULL, NULL, 0);
	json_t *v = first_value(a);
	if (strcmp(code_of(a), "2.05") != 0 || !json_is_integer(v) ||
	    json_integer_value(v) != want) {
		char *text = json_dumps(a, JSON_COMPACT);
		fail_msg("%s should be %lld: %s\nsim: %s", path, (long long)want, text,
			 sim_output(f));
	}
	json_decref(a);
}

static void expect_str(struct fixture *f, const char *path, const char *want)
{
	char route[64];
	snprintf(route, sizeof(route), "%s?timeout=5", path);
	json_t *a = dm(f, "GET", route, NULL, NULL, 0);
	json_t *v = first_value(a);
	if (strcmp(code_of(a), "2.05") != 0 || !json_is_string(v) ||
	    strcmp(json_string_value(v), want) != 0) {
		char *text = json_dumps(a, JSON_COMPACT);
		fail_msg("%s should be \"%s\": %s\nsim: %s", path, want, text, sim_output(f));
	}
	json_decref(a);
}

/* A package of len bytes whose first line is "LWM2MFW version=<version>". */
static uint8_t *make_package(const char *version, size_t len)
{
	uint8_t *p = malloc(len);
	assert_non_null(p);
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(i * 7 + 3);
	int n = snprintf((char *)p, len, "LWM2MFW version=%s\n", version);
	assert_true(n > 0 && (size_t)n < len);
	return p;
}

/* The FNV-1a the simulator prints of what it received: the bytes arrived whole. */
static uint32_t fnv(const uint8_t *p, size_t len)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

static void expect_downloaded(struct fixture *f, const uint8_t *pkg, size_t len)
{
	char line[96];
	snprintf(line, sizeof(line), "fw downloaded bytes=%zu fnv=%08x", len, fnv(pkg, len));
	sim_expect(f, line, 10000);
}

static void push(struct fixture *f, const uint8_t *pkg, size_t len)
{
	json_t *a = dm(f, "PUT", "5/0/0?timeout=10", "application/octet-stream", pkg, len);
	if (strcmp(code_of(a), "2.04") != 0)
		fail_msg("push: %s\nsim: %s", json_dumps(a, JSON_COMPACT), sim_output(f));
	json_decref(a);
}

static void execute_update(struct fixture *f, const char *want_code)
{
	json_t *a = dm(f, "POST", "5/0/2?timeout=5", NULL, NULL, 0);
	if (strcmp(code_of(a), want_code) != 0)
		fail_msg("execute /5/0/2: want %s: %s\nsim: %s", want_code,
			 json_dumps(a, JSON_COMPACT), sim_output(f));
	json_decref(a);
}

/* Writes the Package URI: as text/plain, or (the API sends no empty raw body) "" in a
 * values body. */
static void write_uri(struct fixture *f, const char *uri)
{
	json_t *a = uri[0] ? dm(f, "PUT", "5/0/1?timeout=5", "text/plain", uri, strlen(uri))
			   : dm(f, "PUT", "5/0/1?timeout=5", NULL,
				"{\"values\":[{\"path\":\"/5/0/1\",\"value\":\"\"}]}", 0);
	if (strcmp(code_of(a), "2.04") != 0)
		fail_msg("write /5/0/1 %s: %s\nsim: %s", uri, json_dumps(a, JSON_COMPACT),
			 sim_output(f));
	json_decref(a);
}

/* Notifications of observation id on the event stream so far. */
static int count_notifications(struct stream *s, json_int_t id)
{
	char needle[64];
	snprintf(needle, sizeof(needle), "\"observation_id\":%lld,", (long long)id);
	int n = 0;
	for (const char *p = strstr(s->buf, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

/* After the update the device registers anew (a second "registered"), with the new
 * version; its result is 1 and its state 0. */
static void expect_rebooted(struct fixture *f, const char *version)
{
	char line[96];
	snprintf(line, sizeof(line), "fw rebooted version=%s", version);
	sim_expect(f, line, 5000);
	if (sim_wait_n(f, "registered rd/", 2, 10000) != 0)
		fail_msg("no new registration after the reboot:\n%s", sim_output(f));
	if (f->secure)
		assert_int_equal(sim_count(f, "handshake TLS-PSK"), 2);
	assert_int_equal(api_wait_status(&f->d, f->dev, "ONLINE", 3000), 0);
	expect_str(f, "3/0/3", version);
	expect_int(f, "5/0/5", 1);
	expect_int(f, "5/0/3", 0);
}

/* Push: Block1 blocks to /5/0/0, State observed 0 → 1 → 2, Update, reboot, version. */
static void test_push(void **state)
{
	struct fixture *f = *state;
	struct stream s;
	char q[64];
	snprintf(q, sizeof(q), "?device_id=%s", f->dev);
	stream_open(&s, &f->d, q);
	sim_start(f, "--fw-version 1.0.0");
	char path[128], resp[8192];
	snprintf(path, sizeof(path), "/v5/iot/p1/devices/%s", f->dev);
	assert_int_equal(http_call(&f->d, "GET", path, NULL, resp, sizeof(resp)), 200);
	assert_in(resp, "</5/0>"); /* in the Register's links */
	expect_str(f, "3/0/3", "1.0.0");
	expect_int(f, "5/0/9", 2);
	json_t *a = dm(f, "GET", "5/0/3?op=observe&timeout=5", NULL, NULL, 0);
	json_int_t id = json_integer_value(json_object_get(a, "observation_id"));
	assert_true(id > 0);
	assert_int_equal(json_integer_value(first_value(a)), 0);
	json_decref(a);

	uint8_t *pkg = make_package("2.0.0", PKG_LEN);
	push(f, pkg, PKG_LEN);
	expect_downloaded(f, pkg, PKG_LEN);
	free(pkg);
	sim_expect(f, "fw block num=2 szx=6", 1000); /* three blocks of 1024 */
	/* State went 0 → 1 → 2, each change notified. */
	for (int waited = 0; count_notifications(&s, id) < 2 && waited < 3000; waited += 50)
		stream_wait(&s, "\x01never", 50);
	if (count_notifications(&s, id) < 2)
		fail_msg("two notifications of /5/0/3: %s\nsim: %s", s.buf, sim_output(f));
	sim_expect(f, "notified /5/0/3 seq=2", 1000);
	expect_int(f, "5/0/3", 2);
	expect_str(f, "5/0/7", "2.0.0");
	expect_int(f, "5/0/5", 0);

	execute_update(f, "2.04");
	sim_expect(f, "fw updating", 1000);
	expect_rebooted(f, "2.0.0");
	close(s.fd);
}

/* A download that ends in a failure result; Update is refused outside Downloaded. */
static void test_push_failure(void **state)
{
	struct fixture *f = *state;
	sim_start(f, "--fw-outcome 5");
	execute_update(f, "4.05"); /* state 0 */
	uint8_t *pkg = make_package("2.0.0", PKG_LEN);
	push(f, pkg, PKG_LEN);
	expect_downloaded(f, pkg, PKG_LEN);
	free(pkg);
	sim_expect(f, "fw failed outcome 5", 1000);
	expect_int(f, "5/0/3", 0);
	expect_int(f, "5/0/5", 5);
	execute_update(f, "4.05");
	/* A package of one '\0' resets (§E.6): state 0, result 0. */
	push(f, (const uint8_t *)"", 1);
	expect_int(f, "5/0/5", 0);
	expect_int(f, "5/0/3", 0);
}

/* An Update that fails (result 8): back to Downloaded, no reboot, the old version. */
static void test_update_failure(void **state)
{
	struct fixture *f = *state;
	sim_start(f, "--fw-outcome 8 --fw-apply-ms 100 --fw-new-version 3.1.4");
	uint8_t *pkg = make_package("2.0.0", PKG_LEN);
	push(f, pkg, PKG_LEN);
	free(pkg);
	expect_int(f, "5/0/3", 2);
	expect_str(f, "5/0/7", "3.1.4"); /* --fw-new-version over the package's line */
	execute_update(f, "2.04");
	sim_expect(f, "fw failed update", 3000);
	expect_int(f, "5/0/3", 2);
	expect_int(f, "5/0/5", 8);
	expect_str(f, "3/0/3", "1.0.0");
	assert_null(strstr(sim_output(f), "fw rebooted"));
	assert_int_equal(sim_count(f, "registered rd/"), 1);
}

/*
 * fw_server: a CoAP server on a thread that serves one package with Block2 (RFC 7959
 * §2.4), as the daemon's firmware serving will: at most max_szx whatever the device asks,
 * and, to play a server that restarts, no answer to block drop_num for drop_ms after it
 * is first asked.
 */
struct fw_server {
	int fd;
	struct addr addr;
	pthread_t thread;
	volatile bool stop;
	const uint8_t *pkg;
	size_t len;
	uint8_t max_szx;
	uint32_t drop_num;
	int drop_ms;
	volatile int64_t drop_until;
	volatile int requests;
	volatile int dropped;
	char path[128]; /* of the first request, "/fw/tok1?x=1" */
};

static void *fw_server_run(void *arg)
{
	struct fw_server *srv = arg;
	uint8_t buf[2048];
	while (!srv->stop) {
		struct sockaddr_storage from;
		socklen_t fl = sizeof(from);
		struct timeval tv = { 0, 100000 };
		setsockopt(srv->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		ssize_t n = recvfrom(srv->fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
		struct coap_msg req;
		struct addr to;
		if (n <= 0 || coap_msg_parse(&req, buf, (size_t)n) != 0 ||
		    req.code != COAP_CODE_GET || addr_from_sockaddr(&to, (struct sockaddr *)&from))
			continue;
		struct coap_block b = { .num = 0, .more = false, .szx = 6 };
		uint32_t v;
		if (coap_msg_get_uint_option(&req, COAP_OPTION_BLOCK2, &v) == 0)
			coap_block_decode(v, &b);
		if (srv->requests++ == 0) {
			char q[64] = "";
			const struct coap_option *o = coap_msg_find_option(&req, COAP_OPTION_URI_QUERY);
			if (o)
				snprintf(q, sizeof(q), "?%.*s", o->len, (const char *)o->value);
			coap_msg_get_path(&req, srv->path, sizeof(srv->path) - sizeof(q));
			strcat(srv->path, q);
		}
		if (srv->drop_ms && b.num == srv->drop_num) {
			if (srv->drop_until == 0)
				srv->drop_until = mono_ms() + srv->drop_ms;
			if (mono_ms() < srv->drop_until) {
				srv->dropped++;
				continue;
			}
		}
		/* A smaller block than asked: the offset stays the one the device asked. */
		if (b.szx > srv->max_szx) {
			b.num = (uint32_t)(b.num * COAP_BLOCK_SIZE(b.szx) / COAP_BLOCK_SIZE(srv->max_szx));
			b.szx = srv->max_szx;
		}
		size_t size = COAP_BLOCK_SIZE(b.szx), off = (size_t)b.num * size;
		if (off >= srv->len) {
			coap_answer(srv->fd, &to, &req, COAP_CODE_BAD_OPTION, -1, 0, NULL, NULL, 0);
			continue;
		}
		size_t len = srv->len - off < size ? srv->len - off : size;
		b.more = off + len < srv->len;
		coap_answer(srv->fd, &to, &req, COAP_CODE_CONTENT, 42, COAP_OPTION_BLOCK2, &b,
			    srv->pkg + off, len);
	}
	return NULL;
}

static void fw_server_start(struct fw_server *srv, const uint8_t *pkg, size_t len,
			    uint8_t max_szx)
{
	memset(srv, 0, sizeof(*srv));
	srv->fd = coap_socket("127.0.0.1:0");
	assert_true(srv->fd >= 0);
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	assert_int_equal(getsockname(srv->fd, (struct sockaddr *)&ss, &sl), 0);
	assert_int_equal(addr_from_sockaddr(&srv->addr, (struct sockaddr *)&ss), 0);
	srv->pkg = pkg;
	srv->len = len;
	srv->max_szx = max_szx;
}

static void fw_server_run_thread(struct fw_server *srv)
{
	assert_int_equal(pthread_create(&srv->thread, NULL, fw_server_run, srv), 0);
}

static void fw_server_stop(struct fw_server *srv)
{
	srv->stop = true;
	pthread_join(srv->thread, NULL);
	close(srv->fd);
}

/* Pull: the device fetches the URI block by block, taking the server's smaller block
 * size, then updates to the package's version. */
static void test_pull(void **state)
{
	struct fixture *f = *state;
	enum { LEN = 5000 };
	uint8_t *pkg = make_package("2.1.0", LEN);
	struct fw_server srv;
	fw_server_start(&srv, pkg, LEN, 5);
	fw_server_run_thread(&srv);
	char addr[ADDR_STR_MAX], extra[128], uri[128];
	addr_format(&srv.addr, addr);
	snprintf(extra, sizeof(extra), "--fw-pull-server %s --fw-block-delay-ms 20", addr);
	sim_start(f, extra);
	snprintf(uri, sizeof(uri), "coap://%s/fw/tok1?x=1", addr);
	write_uri(f, uri);
	expect_downloaded(f, pkg, LEN);
	sim_expect(f, "fw block num=0 szx=5", 100); /* asked 1024, took 512 */
	sim_expect(f, "fw block num=9 szx=5", 100);
	assert_string_equal(srv.path, "/fw/tok1?x=1");
	assert_int_equal(srv.requests, 10);
	expect_int(f, "5/0/3", 2);
	expect_str(f, "5/0/1", uri);
	execute_update(f, "2.04");
	expect_rebooted(f, "2.1.0");
	fw_server_stop(&srv);
	free(pkg);
}

/* A package far over the simulator's 64 KiB request buffer: 1 MiB, streamed. */
static void test_pull_large(void **state)
{
	struct fixture *f = *state;
	enum { LEN = 1 << 20 };
	uint8_t *pkg = make_package("3.0.0", LEN);
	struct fw_server srv;
	fw_server_start(&srv, pkg, LEN, 6);
	fw_server_run_thread(&srv);
	char addr[ADDR_STR_MAX], extra[128], uri[128];
	addr_format(&srv.addr, addr);
	snprintf(extra, sizeof(extra), "--fw-pull-server %s", addr);
	sim_start(f, extra);
	snprintf(uri, sizeof(uri), "coap://%s/fw/big", addr);
	write_uri(f, uri);
	char line[96];
	snprintf(line, sizeof(line), "fw downloaded bytes=%d fnv=%08x", LEN, fnv(pkg, LEN));
	sim_expect(f, line, 60000);
	assert_int_equal(srv.requests, LEN / 1024);
	expect_int(f, "5/0/3", 2);
	expect_str(f, "5/0/7", "3.0.0");
	fw_server_stop(&srv);
	free(pkg);
}

/* A block that gets no answer (the server restarting) is asked again every 2 s until it
 * is answered; with a short --fw-retry-s the device gives up: result 4. */
static void test_pull_retry(void **state)
{
	struct fixture *f = *state;
	enum { LEN = 2500 };
	uint8_t *pkg = make_package("2.2.0", LEN);
	struct fw_server srv;
	fw_server_start(&srv, pkg, LEN, 6);
	srv.drop_num = 1;
	srv.drop_ms = 3000;
	fw_server_run_thread(&srv);
	char addr[ADDR_STR_MAX], extra[128], uri[128];
	addr_format(&srv.addr, addr);
	snprintf(extra, sizeof(extra), "--fw-pull-server %s --fw-retry-s 4", addr);
	sim_start(f, extra);
	snprintf(uri, sizeof(uri), "coap://%s/fw/tok2", addr);
	write_uri(f, uri);
	expect_downloaded(f, pkg, LEN);
	assert_true(sim_count(f, "fw retry num=1") >= 1);
	assert_true(srv.dropped >= 2);
	expect_int(f, "5/0/3", 2);

	/* Again, with block 0 unanswered for longer than --fw-retry-s. */
	srv.drop_num = 0;
	srv.drop_ms = 60000;
	srv.drop_until = 0;
	write_uri(f, uri);
	sim_expect(f, "fw failed no answer for 4 s", 8000);
	expect_int(f, "5/0/3", 0);
	expect_int(f, "5/0/5", 4);
	fw_server_stop(&srv);
	free(pkg);
}

/* A queue-mode device stays awake while it fetches by pull, though the pauses between
 * its blocks are longer than its --sleep-after; then it sleeps again. */
static void test_pull_queue_mode(void **state)
{
	struct fixture *f = *state;
	enum { LEN = 2500 };
	uint8_t *pkg = make_package("2.3.0", LEN);
	struct fw_server srv;
	fw_server_start(&srv, pkg, LEN, 6);
	fw_server_run_thread(&srv);
	char addr[ADDR_STR_MAX], extra[256], uri[128];
	addr_format(&srv.addr, addr);
	snprintf(extra, sizeof(extra),
		 "--binding UQ --sleep-after 300 --wake-every 2500 --fw-pull-server %s "
		 "--fw-block-delay-ms 600",
		 addr);
	sim_start(f, extra);
	sim_expect(f, "sleeping", 3000);
	sleep_ms(1100); /* past the daemon's queue window: the write waits for the wake */
	snprintf(uri, sizeof(uri), "coap://%s/fw/tok3", addr);
	json_t *a = dm(f, "PUT", "5/0/1?timeout=10", "text/plain", uri, strlen(uri));
	assert_string_equal(code_of(a), "2.04");
	json_decref(a);
	expect_downloaded(f, pkg, LEN);
	const char *out = sim_output(f);
	const char *from = strstr(out, "fw state 1"), *to = strstr(out, "fw downloaded");
	assert_non_null(from);
	const char *slept = strstr(from, "sleeping");
	if (slept && slept < to)
		fail_msg("the device slept while it fetched:\n%s", out);
	assert_int_equal(srv.requests, 3);
	sim_expect(f, "fw downloaded", 0);
	if (sim_wait_n(f, "sleeping", 2, 3000) != 0)
		fail_msg("the device did not sleep again:\n%s", sim_output(f));
	fw_server_stop(&srv);
	free(pkg);
}

/* The Package URI must name the registered server with the transport's scheme; a URI of
 * the daemon is fetched from it (inside the DTLS session over DTLS), which does not serve
 * /fw/ yet: a 4.xx answer is result 4. */
static void test_pull_uri_checks(void **state)
{
	struct fixture *f = *state;
	sim_start(f, "");
	char server[ADDR_STR_MAX], uri[128];
	addr_format(f->secure ? &f->d.coaps : &f->d.coap, server);
	const char *scheme = f->secure ? "coaps" : "coap", *other = f->secure ? "coap" : "coaps";

	snprintf(uri, sizeof(uri), "%s://127.0.0.1:1/fw/x", scheme); /* not the server */
	write_uri(f, uri);
	sim_expect(f, "fw result 7", 3000);
	expect_int(f, "5/0/3", 0);
	expect_int(f, "5/0/5", 7);

	snprintf(uri, sizeof(uri), "%s://%s/fw/x", other, server); /* not the transport */
	write_uri(f, uri);
	sim_expect(f, "fw result 9", 3000);
	expect_int(f, "5/0/5", 9);

	write_uri(f, "http://example.com/fw.bin");
	assert_int_equal(sim_wait_n(f, "fw result 9", 2, 3000), 0);
	write_uri(f, "not a uri");
	assert_int_equal(sim_wait_n(f, "fw result 7", 2, 3000), 0);

	write_uri(f, ""); /* back to Idle, result 0 */
	expect_int(f, "5/0/5", 0);
	expect_int(f, "5/0/3", 0);

	snprintf(uri, sizeof(uri), "%s://%s/fw/none", scheme, server);
	write_uri(f, uri);
	sim_expect(f, "fw failed answer 4.", 5000);
	expect_int(f, "5/0/3", 0);
	expect_int(f, "5/0/5", 4);
}

#define BOTH(fn)                                                                               \
	cmocka_unit_test_setup_teardown(fn, setup_udp, teardown),                              \
		cmocka_unit_test_setup_teardown(fn, setup_dtls, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		BOTH(test_push),
		cmocka_unit_test_setup_teardown(test_push_failure, setup_udp, teardown),
		cmocka_unit_test_setup_teardown(test_update_failure, setup_udp, teardown),
		cmocka_unit_test_setup_teardown(test_pull, setup_udp, teardown),
		cmocka_unit_test_setup_teardown(test_pull_large, setup_udp, teardown),
		cmocka_unit_test_setup_teardown(test_pull_retry, setup_udp, teardown),
		cmocka_unit_test_setup_teardown(test_pull_queue_mode, setup_queue_udp, teardown),
		BOTH(test_pull_uri_checks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
