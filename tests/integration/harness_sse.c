/*
 * harness_sse: a Server-Sent Events client for the tests, on a plain TCP socket.
 */
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

void stream_open(struct stream *s, struct daemon_proc *d, const char *query)
{
	memset(s, 0, sizeof(*s));
	s->fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_storage ss;
	size_t sl = addr_to_sockaddr(&d->http, &ss);
	assert_int_equal(connect(s->fd, (struct sockaddr *)&ss, (socklen_t)sl), 0);
	char req[512];
	int n = snprintf(req, sizeof(req),
			 "GET /v5/iot/p1/events%s HTTP/1.1\r\nHost: x\r\nX-Auth-Token: %s\r\n\r\n",
			 query, d->token);
	assert_int_equal(write(s->fd, req, (size_t)n), n);
}

int stream_wait(struct stream *s, const char *needle, int timeout_ms)
{
	for (int waited = 0; waited <= timeout_ms; waited += 50) {
		if (strstr(s->buf, needle))
			return 0;
		struct pollfd p = { .fd = s->fd, .events = POLLIN };
		if (poll(&p, 1, 50) > 0) {
			ssize_t n = read(s->fd, s->buf + s->len, sizeof(s->buf) - 1 - s->len);
			if (n <= 0)
				return strstr(s->buf, needle) ? 0 : -1;
			s->len += (size_t)n;
			s->buf[s->len] = '\0';
		}
	}
	return -1;
}

