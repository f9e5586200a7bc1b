/*
 * Integration tests of the event streams' limits (docs/api.md "Events" and "Limits"):
 * 256 streams opened with four projects' tokens get at most --events-max-streams-per-token
 * each (429 beyond) and --events-max-streams in all (503 beyond), while /health and
 * another project's calls are answered promptly; streams whose clients close are released
 * at once (the daemon's sockets and lwm2md_http_event_streams fall back); an idle stream
 * gets a heartbeat comment.
 */
#include <poll.h>
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

#define PROMPT_MS 3000

/* The daemon under test; teardown kills it even when a test failed half-way. */
static struct daemon_proc d;

static int teardown(void **state)
{
	(void)state;
	daemon_cleanup(&d);
	memset(&d, 0, sizeof(d));
	return 0;
}

/* Opens GET /v5/iot/{project}/events with token; the socket, the request sent. */
static int stream_request(struct daemon_proc *dp, const char *project, const char *token)
{
	char req[512];
	int fd = tcp_connect_from(&dp->http, NULL, 5000);
	assert_true(fd >= 0);
	int n = snprintf(req, sizeof(req),
			 "GET /v5/iot/%s/events HTTP/1.1\r\nHost: x\r\nX-Auth-Token: %s\r\n\r\n",
			 project, token);
	assert_int_equal(write(fd, req, (size_t)n), n);
	return fd;
}

/* Reads the answer's head (and, for an error, its JSON body) into buf; the status. */
static int stream_status(int fd, char *buf, size_t cap)
{
	size_t got = 0;
	int64_t deadline = mono_ms() + 10000;
	buf[0] = '\0';
	while (got + 1 < cap && mono_ms() < deadline) {
		const char *head_end = strstr(buf, "\r\n\r\n");
		if (head_end && (strncmp(buf, "HTTP/1.1 200", 12) == 0 || strchr(head_end, '}')))
			break;
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, 200) != 1)
			continue;
		ssize_t r = read(fd, buf + got, cap - 1 - got);
		if (r <= 0)
			break;
		got += (size_t)r;
		buf[got] = '\0';
	}
	int status = -1;
	if (sscanf(buf, "HTTP/1.%*d %d", &status) != 1)
		fail_msg("no answer to an event stream request: '%s'", buf);
	return status;
}

static void assert_prompt(struct daemon_proc *dp, const char *path, const char *token, int want)
{
	char resp[4096];
	int64_t t0 = mono_ms();
	int status = http_get_within(dp, path, token, PROMPT_MS, resp, sizeof(resp));
	if (status != want)
		fail_msg("GET %s: %d after %lld ms (wanted %d within %d ms)", path, status,
			 (long long)(mono_ms() - t0), want, PROMPT_MS);
}

/* Waits up to timeout_ms for the series to be at most want. */
static int wait_metric_at_most(struct daemon_proc *dp, const char *series, long long want,
			       int timeout_ms)
{
	long long v = -1;
	for (int64_t end = mono_ms() + timeout_ms; mono_ms() < end; sleep_ms(100)) {
		v = metric_value(dp, series);
		if (v >= 0 && v <= want)
			return 0;
	}
	print_message("%s is %lld, wanted at most %lld\n", series, v, want);
	return -1;
}

static int wait_fds_at_most(struct daemon_proc *dp, int want, int timeout_ms)
{
	int n = -1;
	for (int64_t end = mono_ms() + timeout_ms; mono_ms() < end; sleep_ms(100)) {
		n = daemon_fd_count(dp);
		if (n >= 0 && n <= want)
			return 0;
	}
	print_message("the daemon has %d open files, wanted at most %d\n", n, want);
	return -1;
}

static void test_stream_caps(void **state)
{
	(void)state;
	char tokens[5][80], buf[2048];
	static int fds[256];
	daemon_start(&d, NULL);
	/* p2..p5 attack (empty projects are enough); p6 comes late; p1 is the bystander. */
	for (int t = 0; t < 5; t++) {
		char project[8];
		snprintf(project, sizeof(project), "p%d", t + 2);
		daemon_token_create(&d, project, tokens[t]);
	}
	api_create_product(&d, "meter");
	int base_fds = daemon_fd_count(&d);

	/* 64 stream requests per token, all kept open: 16 of each are streams. */
	int ok = 0, refused = 0;
	for (int i = 0; i < 256; i++) {
		char project[8];
		snprintf(project, sizeof(project), "p%d", i / 64 + 2);
		fds[i] = stream_request(&d, project, tokens[i / 64]);
		int status = stream_status(fds[i], buf, sizeof(buf));
		if (status == 200) {
			ok++;
		} else {
			assert_int_equal(status, 429);
			assert_in(buf, "{\"error_code\":\"IOTDA.000429\",\"error_msg\":\"too many event "
				       "streams for this X-Auth-Token (at most 16)");
			refused++;
		}
	}
	assert_int_equal(ok, 64);
	assert_int_equal(refused, 192);

	/* The total is reached: a fifth project's stream, and the bystander's, get 503. */
	int late = stream_request(&d, "p6", tokens[4]);
	assert_int_equal(stream_status(late, buf, sizeof(buf)), 503);
	assert_in(buf, "\"error_code\":\"IOTDA.000503\"");
	assert_in(buf, "too many event streams open (at most 64)");
	close(late);
	late = stream_request(&d, "p1", d.token);
	assert_int_equal(stream_status(late, buf, sizeof(buf)), 503);
	close(late);

	/* Everything else is answered at once. */
	for (int i = 0; i < 3; i++) {
		assert_prompt(&d, "/health", NULL, 200);
		assert_prompt(&d, "/v5/iot/p1/products", d.token, 200);
		assert_prompt(&d, "/v5/iot/p2/devices", tokens[0], 200);
	}
	assert_int_equal(metric_value(&d, "lwm2md_http_event_streams"), 64);
	assert_int_equal(metric_value(&d, "lwm2md_http_event_streams_refused_total{reason="
					  "\"per_token\"}"),
			 192);
	assert_int_equal(metric_value(&d, "lwm2md_http_event_streams_refused_total{reason="
					  "\"total\"}"),
			 2);

	/* The clients go away: their streams and sockets are released within seconds. */
	for (int i = 0; i < 256; i++)
		close(fds[i]);
	assert_int_equal(wait_metric_at_most(&d, "lwm2md_http_event_streams", 0, PROMPT_MS), 0);
	assert_int_equal(wait_fds_at_most(&d, base_fds + 2, PROMPT_MS), 0);

	/* And the bystander's stream now opens. */
	late = stream_request(&d, "p1", d.token);
	assert_int_equal(stream_status(late, buf, sizeof(buf)), 200);
	close(late);
	daemon_stop(&d);
}

/* Without the caps' help: streams closed by their clients while idle (suspended in
 * libmicrohttpd) give their sockets back at once. */
static void test_closed_streams_released(void **state)
{
	(void)state;
	struct stream s[12];
	daemon_start(&d, NULL);
	int base_fds = daemon_fd_count(&d);
	for (int i = 0; i < 12; i++) {
		stream_open(&s[i], &d, "");
		assert_int_equal(stream_wait(&s[i], ": lwm2md events", 5000), 0);
	}
	/* Idle for a moment: every stream is asleep. */
	sleep_ms(300);
	assert_true(daemon_fd_count(&d) >= base_fds + 12);
	for (int i = 0; i < 12; i++)
		close(s[i].fd);
	assert_int_equal(wait_fds_at_most(&d, base_fds + 1, PROMPT_MS), 0);
	assert_int_equal(metric_value(&d, "lwm2md_http_event_streams"), 0);
	daemon_stop(&d);
}

static void test_heartbeat(void **state)
{
	(void)state;
	struct stream s;
	const char *args[] = {"--events-heartbeat", "1", NULL};
	daemon_start(&d, args);
	stream_open(&s, &d, "");
	assert_int_equal(stream_wait(&s, ": lwm2md events", 5000), 0);
	assert_int_equal(stream_wait(&s, ": heartbeat\n\n", 4000), 0);
	/* Again: each idle period gets one (in a chunk of its own after the first). */
	char *first = strstr(s.buf, ": heartbeat\n\n");
	assert_non_null(first);
	size_t at = (size_t)(first - s.buf) + 1;
	int64_t end = mono_ms() + 4000;
	while (!strstr(s.buf + at, ": heartbeat\n\n") && mono_ms() < end)
		stream_wait(&s, "never", 100);
	assert_non_null(strstr(s.buf + at, ": heartbeat\n\n"));
	close(s.fd);
	daemon_stop(&d);
}

/* The flags, and a combination that would leave no room for anything but streams. */
static void test_flags(void **state)
{
	(void)state;
	char out[4096], cmd[1024];
	const char *bin = getenv("LWM2MD_BIN");
	assert_non_null(bin);
	snprintf(cmd, sizeof(cmd), "%s --help", bin);
	assert_int_equal(run_command(cmd, out, sizeof(out), 10), 0);
	assert_in(out, "--events-max-streams N");
	assert_in(out, "--events-max-streams-per-token N");
	assert_in(out, "--events-heartbeat N");
	snprintf(cmd, sizeof(cmd), "%s --http-max-connections 64 --events-max-streams 62", bin);
	assert_int_not_equal(run_command(cmd, out, sizeof(out), 10), 0);
	assert_in(out, "--events-max-streams (62) must be below");
	snprintf(cmd, sizeof(cmd), "%s --events-max-streams-per-token 0", bin);
	assert_int_not_equal(run_command(cmd, out, sizeof(out), 10), 0);
	assert_in(out, "bad value '0'");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_stream_caps, teardown),
		cmocka_unit_test_teardown(test_closed_streams_released, teardown),
		cmocka_unit_test_teardown(test_heartbeat, teardown),
		cmocka_unit_test_teardown(test_flags, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
