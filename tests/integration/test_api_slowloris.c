/*
 * Integration tests of the API's connection limits (docs/api.md "Limits"): 300 connections
 * that send one byte every two seconds, from 127.0.0.1 and from 127.0.0.2–127.0.0.5 (so
 * that the per-address cap alone cannot explain the outcome), while /health and an
 * authenticated GET are answered promptly, again and again; the per-address cap on its
 * own; a request not received within --http-request-timeout gets 408.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

#define PROMPT_MS 3000
#define SLOW_MAX 300
#define SLOW_BYTE_EVERY_MS 2000
/* A closed attacker waits this long before it connects again (keeps the machine usable). */
#define SLOW_RECONNECT_MS 1000

static struct daemon_proc d;

static int teardown(void **state)
{
	(void)state;
	daemon_cleanup(&d);
	memset(&d, 0, sizeof(d));
	return 0;
}

/* Connections that send a request one byte at a time and never finish it. */
struct slow_attack {
	pthread_t thread;
	int count;
	const char *from[SLOW_MAX]; /* source address of each */
	int fd[SLOW_MAX];
	size_t sent[SLOW_MAX];
	int64_t next_ms[SLOW_MAX]; /* next byte, or next connect when fd < 0 */
	atomic_bool stop;
	atomic_int closed_by_server;
	atomic_int open;
};

static const char slow_request[] = "GET /health HTTP/1.1\r\nHost: x\r\n";
static const char slow_header[] = "X-Slow: 1\r\n";

static void slow_connect(struct slow_attack *a, int i, int64_t now)
{
	a->fd[i] = tcp_connect_from(&d.http, a->from[i], 200);
	a->sent[i] = 0;
	a->next_ms[i] = now + (a->fd[i] < 0 ? SLOW_RECONNECT_MS : 0);
}

static void slow_step(struct slow_attack *a, int i, int64_t now)
{
	if (a->fd[i] < 0) {
		if (now >= a->next_ms[i])
			slow_connect(a, i, now);
		return;
	}
	if (now < a->next_ms[i])
		return;
	/* The request line, then one more header, forever. */
	size_t k = a->sent[i];
	char c = k < sizeof(slow_request) - 1
			 ? slow_request[k]
			 : slow_header[(k - (sizeof(slow_request) - 1)) % (sizeof(slow_header) - 1)];
	if (send(a->fd[i], &c, 1, MSG_NOSIGNAL | MSG_DONTWAIT) == 1 || errno == EAGAIN) {
		a->sent[i]++;
		a->next_ms[i] = now + SLOW_BYTE_EVERY_MS;
		return;
	}
	close(a->fd[i]);
	a->fd[i] = -1;
	a->next_ms[i] = now + SLOW_RECONNECT_MS;
	atomic_fetch_add(&a->closed_by_server, 1);
}

static void *slow_main(void *arg)
{
	struct slow_attack *a = arg;
	struct pollfd p[SLOW_MAX];
	while (!atomic_load(&a->stop)) {
		int64_t now = mono_ms();
		int open = 0;
		for (int i = 0; i < a->count; i++) {
			slow_step(a, i, now);
			p[i].fd = a->fd[i];
			p[i].events = POLLIN;
			p[i].revents = 0;
			open += a->fd[i] >= 0;
		}
		atomic_store(&a->open, open);
		/* Whatever the server sends (a 408) or its close ends that connection. */
		if (poll(p, (nfds_t)a->count, 100) <= 0)
			continue;
		for (int i = 0; i < a->count; i++) {
			if (a->fd[i] >= 0 && p[i].revents) {
				close(a->fd[i]);
				a->fd[i] = -1;
				a->next_ms[i] = mono_ms() + SLOW_RECONNECT_MS;
				atomic_fetch_add(&a->closed_by_server, 1);
			}
		}
	}
	for (int i = 0; i < a->count; i++) {
		if (a->fd[i] >= 0)
			close(a->fd[i]);
	}
	return NULL;
}

/* Opens every connection first (spreading the first bytes over SLOW_BYTE_EVERY_MS), then
 * keeps them going on a thread. */
static void slow_start(struct slow_attack *a)
{
	int64_t now = mono_ms();
	for (int i = 0; i < a->count; i++) {
		slow_connect(a, i, now);
		a->next_ms[i] = now + (int64_t)i * SLOW_BYTE_EVERY_MS / a->count;
	}
	assert_int_equal(pthread_create(&a->thread, NULL, slow_main, a), 0);
}

static void slow_stop(struct slow_attack *a)
{
	atomic_store(&a->stop, true);
	pthread_join(a->thread, NULL);
}

/* The slowest answer to a probe so far, for the log. */
static int64_t slowest_ms;

static void assert_prompt(const char *path, const char *token, int want)
{
	char resp[4096];
	int64_t t0 = mono_ms();
	int status = http_get_within(&d, path, token, PROMPT_MS, resp, sizeof(resp));
	int64_t took = mono_ms() - t0;
	if (status != want)
		fail_msg("GET %s: %d after %lld ms (wanted %d within %d ms)", path, status,
			 (long long)took, want, PROMPT_MS);
	if (took > slowest_ms)
		slowest_ms = took;
}

static void test_slow_connections(void **state)
{
	(void)state;
	static struct slow_attack a;
	static const char *const sources[] = {"127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.4",
					      "127.0.0.5"};
	memset(&a, 0, sizeof(a));
	daemon_start(&d, NULL);
	api_create_product(&d, "meter");
	a.count = SLOW_MAX;
	for (int i = 0; i < a.count; i++)
		a.from[i] = sources[i % 5];
	slow_start(&a);

	/* 15 s of attack (past the 10 s request deadline): every probe answered promptly. */
	int probes = 0;
	int64_t end = mono_ms() + 15000;
	while (mono_ms() < end) {
		assert_prompt("/health", NULL, 200);
		assert_prompt("/v5/iot/p1/products?limit=1", d.token, 200);
		probes++;
		sleep_ms(300);
	}
	print_message("%d probe pairs answered, the slowest in %lld ms; %d attacker connections "
		      "open, %d closed by the server\n",
		      probes, (long long)slowest_ms, atomic_load(&a.open),
		      atomic_load(&a.closed_by_server));
	long long reserve =
		metric_value(&d, "lwm2md_http_connections_closed_total{reason=\"reserve\"}");
	long long late =
		metric_value(&d, "lwm2md_http_connections_closed_total{reason=\"request_timeout\"}");
	long long open = metric_value(&d, "lwm2md_http_connections");
	print_message("closed: %lld for the reserve, %lld past the deadline; %lld open\n", reserve,
		      late, open);
	slow_stop(&a);
	/* The reserve did the work (reconnecting attackers push the oldest out before their
	 * deadline; test_request_timeout covers that). */
	assert_true(reserve > 0);
	assert_true(open <= 256);
	daemon_stop(&d);
}

/* One address over --http-max-connections-per-ip: its oldest unfinished connection goes,
 * and when all of its connections are busy, the new one is refused with a 429. */
static void test_per_ip(void **state)
{
	(void)state;
	static struct slow_attack a;
	const char *args[] = {"--http-max-connections-per-ip", "20", NULL};
	memset(&a, 0, sizeof(a));
	daemon_start(&d, args);
	a.count = 60;
	for (int i = 0; i < a.count; i++)
		a.from[i] = "127.0.0.2";
	slow_start(&a);
	sleep_ms(1500);
	/* Another address is not affected; the attacker's own address still gets in. */
	for (int i = 0; i < 5; i++) {
		assert_prompt("/health", NULL, 200);
		int fd = tcp_connect_from(&d.http, "127.0.0.2", PROMPT_MS);
		assert_true(fd >= 0);
		const char req[] = "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
		assert_int_equal(write(fd, req, sizeof(req) - 1), (ssize_t)sizeof(req) - 1);
		char buf[1024] = "";
		struct pollfd p = {.fd = fd, .events = POLLIN};
		assert_int_equal(poll(&p, 1, PROMPT_MS), 1);
		assert_true(read(fd, buf, sizeof(buf) - 1) > 0);
		assert_in(buf, "HTTP/1.1 200");
		close(fd);
	}
	long long per_ip =
		metric_value(&d, "lwm2md_http_connections_closed_total{reason=\"per_ip\"}");
	long long open = metric_value(&d, "lwm2md_http_connections");
	slow_stop(&a);
	print_message("closed for the per-address cap: %lld; open: %lld\n", per_ip, open);
	assert_true(per_ip >= 40);
	assert_true(open <= 21 + 1); /* the attacker's 20, the /metrics call, one closing */

	/* Three streams fill 127.0.0.3's share of 3; its fourth connection is refused. */
	daemon_stop(&d);
	const char *args3[] = {"--http-max-connections-per-ip", "3", NULL};
	daemon_restart(&d, args3);
	int fds[3];
	char buf[2048];
	for (int i = 0; i < 3; i++) {
		fds[i] = tcp_connect_from(&d.http, "127.0.0.3", PROMPT_MS);
		assert_true(fds[i] >= 0);
		int n = snprintf(buf, sizeof(buf),
				 "GET /v5/iot/p1/events HTTP/1.1\r\nHost: x\r\nX-Auth-Token: %s\r\n\r\n",
				 d.token);
		assert_int_equal(write(fds[i], buf, (size_t)n), n);
		struct pollfd p = {.fd = fds[i], .events = POLLIN};
		assert_int_equal(poll(&p, 1, PROMPT_MS), 1);
		assert_true(read(fds[i], buf, sizeof(buf) - 1) > 0);
	}
	int fd = tcp_connect_from(&d.http, "127.0.0.3", PROMPT_MS);
	assert_true(fd >= 0);
	struct pollfd p = {.fd = fd, .events = POLLIN};
	assert_int_equal(poll(&p, 1, PROMPT_MS), 1);
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	assert_true(n > 0);
	buf[n] = '\0';
	assert_in(buf, "HTTP/1.1 429");
	assert_in(buf, "\"error_msg\":\"too many connections from 127.0.0.3 (at most 3)\"");
	close(fd);
	for (int i = 0; i < 3; i++)
		close(fds[i]);
	assert_prompt("/health", NULL, 200);
	daemon_stop(&d);
}

/* A request that does not arrive whole within --http-request-timeout gets a 408. */
static void test_request_timeout(void **state)
{
	(void)state;
	const char *args[] = {"--http-request-timeout", "2", NULL};
	daemon_start(&d, args);
	int fd = tcp_connect_from(&d.http, NULL, PROMPT_MS);
	assert_true(fd >= 0);
	/* Headers, then a body that never comes. */
	const char req[] = "POST /v5/iot/p1/products HTTP/1.1\r\nHost: x\r\n"
			   "Content-Length: 100\r\n\r\n{\"pro";
	assert_int_equal(write(fd, req, sizeof(req) - 1), (ssize_t)sizeof(req) - 1);
	int64_t t0 = mono_ms();
	char buf[1024] = "";
	struct pollfd p = {.fd = fd, .events = POLLIN};
	assert_int_equal(poll(&p, 1, 6000), 1);
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	int64_t waited = mono_ms() - t0;
	assert_true(n > 0);
	assert_in(buf, "HTTP/1.1 408");
	assert_in(buf, "\"error_code\":\"IOTDA.000408\"");
	assert_in(buf, "the request was not received within 2 s");
	assert_true(waited >= 1500 && waited < 5000);
	close(fd);
	assert_int_equal(
		metric_value(&d, "lwm2md_http_connections_closed_total{reason=\"request_timeout\"}"),
		1);
	daemon_stop(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_slow_connections, teardown),
		cmocka_unit_test_teardown(test_per_ip, teardown),
		cmocka_unit_test_teardown(test_request_timeout, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
