/*
 * Integration tests of push's connections and batching (docs/api.md "Push to
 * applications"): the real daemon and a keep-alive HTTP/1.1 endpoint in the test that
 * counts the connections it accepts.
 *
 * Covered: many events over one rule reuse at most --push-project-in-flight connections
 * (keep-alive, one easy handle per slot); an endpoint that closes after every answer
 * still gets every event; every delivered row leaves the outbox (deleted in batches)
 * and none goes again after a restart; a rule added or deleted while events flow is
 * seen by the next event (the rules are cached per project).
 */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "harness.h"

#define KA_CONNS 32

/* An endpoint answering 200 to every whole request on any of its connections; with
 * close_each, "Connection: close" and a close after each answer. */
struct ka_server {
	int listen_fd, port;
	bool close_each, stop;
	pthread_t thread;
	pthread_mutex_t lock;
	int accepted, requests;
	int fds[KA_CONNS];
	size_t lens[KA_CONNS];
	char bufs[KA_CONNS][8192];
};

/* Answers every whole request buffered on connection i; false when it must close. */
static bool ka_serve(struct ka_server *s, int i)
{
	for (;;) {
		char *buf = s->bufs[i];
		buf[s->lens[i]] = '\0';
		char *end = strstr(buf, "\r\n\r\n");
		if (!end)
			return s->lens[i] < sizeof(s->bufs[i]) - 1;
		const char *cl = strcasestr(buf, "Content-Length:");
		size_t head = (size_t)(end + 4 - buf);
		size_t body = cl && cl < end ? strtoul(cl + 15, NULL, 10) : 0;
		if (s->lens[i] < head + body)
			return head + body < sizeof(s->bufs[i]);
		const char *answer = s->close_each ? "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n"
						     "Connection: close\r\n\r\n"
						   : "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
		if (write(s->fds[i], answer, strlen(answer)) != (ssize_t)strlen(answer))
			return false;
		pthread_mutex_lock(&s->lock);
		s->requests++;
		pthread_mutex_unlock(&s->lock);
		memmove(buf, buf + head + body, s->lens[i] - head - body);
		s->lens[i] -= head + body;
		if (s->close_each)
			return false;
	}
}

static void *ka_run(void *arg)
{
	struct ka_server *s = arg;
	for (;;) {
		pthread_mutex_lock(&s->lock);
		bool stop = s->stop;
		pthread_mutex_unlock(&s->lock);
		if (stop)
			return NULL;
		struct pollfd p[KA_CONNS + 1];
		p[0] = (struct pollfd){ .fd = s->listen_fd, .events = POLLIN };
		for (int i = 0; i < KA_CONNS; i++)
			p[i + 1] = (struct pollfd){ .fd = s->fds[i], .events = POLLIN };
		if (poll(p, KA_CONNS + 1, 50) <= 0)
			continue;
		if (p[0].revents & POLLIN) {
			int fd = accept(s->listen_fd, NULL, NULL);
			int slot = 0;
			while (slot < KA_CONNS && s->fds[slot] >= 0)
				slot++;
			if (fd >= 0 && slot < KA_CONNS) {
				s->fds[slot] = fd;
				s->lens[slot] = 0;
				pthread_mutex_lock(&s->lock);
				s->accepted++;
				pthread_mutex_unlock(&s->lock);
			} else if (fd >= 0) {
				close(fd);
			}
		}
		for (int i = 0; i < KA_CONNS; i++) {
			if (s->fds[i] < 0 || !(p[i + 1].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			ssize_t n = read(s->fds[i], s->bufs[i] + s->lens[i],
					 sizeof(s->bufs[i]) - 1 - s->lens[i]);
			if (n > 0)
				s->lens[i] += (size_t)n;
			if (n <= 0 || !ka_serve(s, i)) {
				close(s->fds[i]);
				s->fds[i] = -1;
			}
		}
	}
}

static struct ka_server *ka_start(bool close_each)
{
	struct ka_server *s = calloc(1, sizeof(*s));
	assert_non_null(s);
	s->close_each = close_each;
	for (int i = 0; i < KA_CONNS; i++)
		s->fds[i] = -1;
	s->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(s->listen_fd >= 0);
	int one = 1;
	setsockopt(s->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	struct sockaddr_in a = { .sin_family = AF_INET };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(s->listen_fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(s->listen_fd, 64), 0);
	socklen_t alen = sizeof(a);
	getsockname(s->listen_fd, (struct sockaddr *)&a, &alen);
	s->port = ntohs(a.sin_port);
	pthread_mutex_init(&s->lock, NULL);
	assert_int_equal(pthread_create(&s->thread, NULL, ka_run, s), 0);
	return s;
}

static void ka_counts(struct ka_server *s, int *accepted, int *requests)
{
	pthread_mutex_lock(&s->lock);
	*accepted = s->accepted;
	*requests = s->requests;
	pthread_mutex_unlock(&s->lock);
}

/* Waits until s answered want requests; returns how many it answered. */
static int ka_wait(struct ka_server *s, int want, int timeout_ms)
{
	int accepted, requests = 0;
	for (int64_t start = mono_ms(); mono_ms() - start <= timeout_ms; usleep(20 * 1000)) {
		ka_counts(s, &accepted, &requests);
		if (requests >= want)
			break;
	}
	return requests;
}

static void ka_stop(struct ka_server *s)
{
	pthread_mutex_lock(&s->lock);
	s->stop = true;
	pthread_mutex_unlock(&s->lock);
	pthread_join(s->thread, NULL);
	for (int i = 0; i < KA_CONNS; i++)
		if (s->fds[i] >= 0)
			close(s->fds[i]);
	close(s->listen_fd);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

/* An unlabelled series of /metrics; -1 when absent. */
static long metric(struct daemon_proc *d, const char *series)
{
	static char resp[262144];
	assert_int_equal(http_call(d, "GET", "/metrics", NULL, resp, sizeof(resp)), 200);
	char line[256];
	snprintf(line, sizeof(line), "\n%s ", series);
	const char *p = strstr(resp, line);
	return p ? strtol(p + strlen(line), NULL, 10) : -1;
}

static long metric_wait(struct daemon_proc *d, const char *series, long want, int timeout_ms)
{
	long v = -1;
	for (int waited = 0; waited <= timeout_ms; waited += 50) {
		if ((v = metric(d, series)) == want)
			break;
		usleep(50 * 1000);
	}
	return v;
}

static void make_rule(struct daemon_proc *d, int port, const char *events, char id[64])
{
	char body[256], resp[4096];
	snprintf(body, sizeof(body), "{\"url\":\"http://127.0.0.1:%d/in\",\"events\":%s}", port,
		 events);
	int status = http_call(d, "POST", "/v5/iot/p1/forwarding-rules", body, resp, sizeof(resp));
	if (status != 201)
		fail_msg("rule: %d %s", status, resp);
	json_t *j = json_loads(resp, 0, NULL);
	assert_non_null(j);
	snprintf(id, 64, "%s", json_string_value(json_object_get(j, "rule_id")));
	json_decref(j);
}

static int device_up(struct daemon_proc *d, const char *node_id)
{
	api_create_product(d, "meter");
	api_create_device(d, "meter", node_id, false, 300);
	int fd = coap_socket("127.0.0.1:0");
	char reg_id[32];
	assert_int_equal(coap_register(fd, &d->coap, node_id, "300", "</3/0>", reg_id),
			 COAP_CODE_CREATED);
	return fd;
}

/* n Sends (device.message/report events) from fd, mids from first. */
static void send_events(int fd, struct daemon_proc *d, uint16_t first, int n)
{
	for (int i = 0; i < n; i++) {
		char payload[64];
		snprintf(payload, sizeof(payload), "[{\"n\":\"/3/0/9\",\"v\":%d}]", i);
		assert_int_equal(coap_send_dp(fd, d, (uint16_t)(first + i), 110, payload),
				 COAP_CODE_CHANGED);
	}
}

static const char *const in_flight_4[] = { "--push-project-in-flight", "4", NULL };

/* 300 events over one rule: every one delivered over at most 4 connections (the
 * project's slots), the outbox empty after, and nothing sent again after a restart. */
static void test_keepalive_reuse(void **state)
{
	(void)state;
	struct daemon_proc d;
	daemon_start(&d, in_flight_4);
	struct ka_server *s = ka_start(false);
	char rule[64];
	make_rule(&d, s->port, "[\"device.message/report\"]", rule);
	int fd = device_up(&d, "ka1");
	send_events(fd, &d, 100, 300);
	assert_int_equal(ka_wait(s, 300, 20000), 300);
	assert_int_equal(metric_wait(&d, "lwm2md_push_outbox", 0, 5000), 0);
	assert_int_equal(metric(&d, "lwm2md_push_delivered_total"), 300);
	int accepted, requests;
	ka_counts(s, &accepted, &requests);
	if (accepted < 1 || accepted > 4)
		fail_msg("%d connections for %d requests (at most 4 wanted)", accepted, requests);
	/* The delivered rows are gone from the store too: a restart sends nothing again. */
	daemon_stop(&d);
	daemon_restart(&d, in_flight_4);
	usleep(1500 * 1000);
	ka_counts(s, &accepted, &requests);
	assert_int_equal(requests, 300);
	assert_int_equal(metric(&d, "lwm2md_push_outbox"), 0);
	close(fd);
	ka_stop(s);
	daemon_stop(&d);
	daemon_cleanup(&d);
}

/* An endpoint that closes after every answer still gets every event, one connection
 * each. */
static void test_close_each(void **state)
{
	(void)state;
	struct daemon_proc d;
	daemon_start(&d, in_flight_4);
	struct ka_server *s = ka_start(true);
	char rule[64];
	make_rule(&d, s->port, "[\"device.message/report\"]", rule);
	int fd = device_up(&d, "ka2");
	send_events(fd, &d, 100, 100);
	assert_int_equal(ka_wait(s, 100, 20000), 100);
	assert_int_equal(metric_wait(&d, "lwm2md_push_outbox", 0, 5000), 0);
	assert_int_equal(metric(&d, "lwm2md_push_failures_total"), 0);
	int accepted, requests;
	ka_counts(s, &accepted, &requests);
	assert_int_equal(accepted, 100);
	close(fd);
	ka_stop(s);
	daemon_stop(&d);
	daemon_cleanup(&d);
}

/* Rules added and deleted while events flow: the next event follows the change. */
static void test_rules_change(void **state)
{
	(void)state;
	struct daemon_proc d;
	daemon_start(&d, NULL);
	struct ka_server *a = ka_start(false), *b = ka_start(false);
	char rule_a[64], rule_b[64], path[160], resp[4096];
	make_rule(&d, a->port, "[\"device.message/report\"]", rule_a);
	int fd = device_up(&d, "ka3");
	send_events(fd, &d, 100, 3);
	assert_int_equal(ka_wait(a, 3, 10000), 3);
	/* A second rule: the next events go to both. */
	make_rule(&d, b->port, "[\"device.message/report\"]", rule_b);
	send_events(fd, &d, 200, 2);
	assert_int_equal(ka_wait(a, 5, 10000), 5);
	assert_int_equal(ka_wait(b, 2, 10000), 2);
	/* The first deleted: only the second gets the next ones. */
	snprintf(path, sizeof(path), "/v5/iot/p1/forwarding-rules/%s", rule_a);
	assert_int_equal(http_call(&d, "DELETE", path, NULL, resp, sizeof(resp)), 204);
	send_events(fd, &d, 300, 4);
	assert_int_equal(ka_wait(b, 6, 10000), 6);
	usleep(300 * 1000);
	int accepted, requests;
	ka_counts(a, &accepted, &requests);
	assert_int_equal(requests, 5);
	/* An event its rule does not want goes nowhere: a rule for status events only. */
	snprintf(path, sizeof(path), "/v5/iot/p1/forwarding-rules/%s", rule_b);
	assert_int_equal(http_call(&d, "DELETE", path, NULL, resp, sizeof(resp)), 204);
	make_rule(&d, b->port, "[\"device.status/update\"]", rule_b);
	send_events(fd, &d, 400, 2);
	usleep(300 * 1000);
	ka_counts(b, &accepted, &requests);
	assert_int_equal(requests, 6);
	close(fd);
	ka_stop(a);
	ka_stop(b);
	daemon_stop(&d);
	daemon_cleanup(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keepalive_reuse),
		cmocka_unit_test(test_close_each),
		cmocka_unit_test(test_rules_change),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
