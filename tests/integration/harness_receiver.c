/*
 * harness_receiver: a minimal HTTP/1.1 server standing in for an application's endpoint,
 * so that pushed events cross a real socket. One connection at a time; each request is
 * read whole (headers, then Content-Length bytes), answered, and the connection closed.
 * A hanging one accepts connections and keeps them open without reading or answering —
 * the endpoint that holds a push slot until the daemon's timeout.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

/* Reads one request; returns its body (malloc'd) or NULL. */
static char *read_request(int fd)
{
	char buf[65536];
	size_t len = 0;
	char *end = NULL;
	while (len < sizeof(buf) - 1) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, 2000) <= 0)
			return NULL;
		ssize_t n = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (n <= 0)
			return NULL;
		len += (size_t)n;
		buf[len] = '\0';
		end = strstr(buf, "\r\n\r\n");
		if (!end)
			continue;
		const char *cl = strcasestr(buf, "Content-Length:");
		size_t want = cl ? strtoul(cl + 15, NULL, 10) : 0;
		size_t have = len - (size_t)(end + 4 - buf);
		if (have >= want)
			return strndup(end + 4, want);
	}
	return NULL;
}

static void *serve(void *arg)
{
	struct receiver *r = arg;
	for (;;) {
		struct pollfd p = { .fd = r->listen_fd, .events = POLLIN };
		int ready = poll(&p, 1, 100);
		pthread_mutex_lock(&r->lock);
		bool stop = r->stop;
		pthread_mutex_unlock(&r->lock);
		if (stop)
			return NULL;
		if (ready <= 0)
			continue;
		int fd = accept(r->listen_fd, NULL, NULL);
		if (fd < 0)
			continue;
		if (r->hang) {
			pthread_mutex_lock(&r->lock);
			r->requests++;
			if (r->held_count < RECEIVER_MAX)
				r->held[r->held_count++] = fd;
			else
				close(fd);
			pthread_mutex_unlock(&r->lock);
			continue;
		}
		char *body = read_request(fd);
		pthread_mutex_lock(&r->lock);
		bool fail = r->requests++ < r->fail_first;
		if (body && !fail && r->count < RECEIVER_MAX)
			r->bodies[r->count++] = body;
		else
			free(body);
		pthread_mutex_unlock(&r->lock);
		const char *answer = fail ? "HTTP/1.1 500 Internal Server Error\r\n"
					    "Content-Length: 0\r\nConnection: close\r\n\r\n"
					  : "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n"
					    "Connection: close\r\n\r\n";
		ssize_t w = write(fd, answer, strlen(answer));
		(void)w;
		close(fd);
	}
}

static void start(struct receiver *r, int port, int fail_first, bool hang)
{
	memset(r, 0, sizeof(*r));
	r->fail_first = fail_first;
	r->hang = hang;
	r->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(r->listen_fd >= 0);
	int one = 1;
	setsockopt(r->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(r->listen_fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(r->listen_fd, 16), 0);
	socklen_t alen = sizeof(a);
	getsockname(r->listen_fd, (struct sockaddr *)&a, &alen);
	r->port = ntohs(a.sin_port);
	pthread_mutex_init(&r->lock, NULL);
	assert_int_equal(pthread_create(&r->thread, NULL, serve, r), 0);
}

void receiver_start(struct receiver *r, int port, int fail_first)
{
	start(r, port, fail_first, false);
}

void receiver_start_hanging(struct receiver *r, int port)
{
	start(r, port, 0, true);
}

int receiver_requests(struct receiver *r)
{
	pthread_mutex_lock(&r->lock);
	int n = r->requests;
	pthread_mutex_unlock(&r->lock);
	return n;
}

void receiver_stop(struct receiver *r)
{
	pthread_mutex_lock(&r->lock);
	r->stop = true;
	pthread_mutex_unlock(&r->lock);
	pthread_join(r->thread, NULL);
	close(r->listen_fd);
	for (int i = 0; i < r->held_count; i++)
		close(r->held[i]);
	r->held_count = 0;
	for (int i = 0; i < r->count; i++)
		free(r->bodies[i]);
	pthread_mutex_destroy(&r->lock);
	r->count = 0;
}

char *receiver_wait(struct receiver *r, int timeout_ms, ...)
{
	for (int waited = 0; waited <= timeout_ms; waited += 20) {
		pthread_mutex_lock(&r->lock);
		for (int i = 0; i < r->count; i++) {
			va_list ap;
			va_start(ap, timeout_ms);
			bool all = true;
			for (const char *needle; (needle = va_arg(ap, const char *));)
				all = all && strstr(r->bodies[i], needle);
			va_end(ap);
			if (all) {
				char *copy = strdup(r->bodies[i]);
				pthread_mutex_unlock(&r->lock);
				return copy;
			}
		}
		pthread_mutex_unlock(&r->lock);
		usleep(20000);
	}
	return NULL;
}
