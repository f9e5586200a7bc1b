/*
 * http_sink: the application end of the platform benchmark's push variant.
 *
 * A forwarding rule (docs/api.md "Forwarding rules", src/iot/push.h) makes the daemon POST
 * every property report to an application's URL; this is that application reduced to
 * nothing: it answers every request 200 with an empty body and counts them, so what the
 * benchmark sees is the daemon's cost of pushing, not a receiver's. One thread, epoll,
 * keep-alive HTTP/1.1, just enough parsing (a header block and a Content-Length body).
 * Only libc.
 *
 *   http_sink HOST:PORT            (port 0: any free one)
 *
 * Prints "listening http HOST:PORT" once ready; on SIGTERM/SIGINT prints
 * "sink requests=N bytes=B connections=C" on stdout and exits 0.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define CONNS_MAX 1024
/* A request (headers and body) must fit; the daemon's pushes are well under 2 KB. */
#define BUF_MAX 65536
#define EPOLL_BATCH 64
#define LISTEN_ID UINT32_MAX

static const char answer[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";

struct conn {
	int fd;
	size_t len;
	char buf[BUF_MAX + 1];
};

static volatile sig_atomic_t stop_requested;
static uint64_t requests, bytes, accepted;

static void on_stop_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static int parse_addr(const char *s, struct sockaddr_in *sin)
{
	char host[INET_ADDRSTRLEN];
	const char *colon = strrchr(s, ':');
	if (colon == NULL || colon == s || (size_t)(colon - s) >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	char *end;
	unsigned long port = strtoul(colon + 1, &end, 10);
	if (*end != '\0' || end == colon + 1 || port > 65535)
		return -EINVAL;
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_port = htons((uint16_t)port);
	return inet_pton(AF_INET, host, &sin->sin_addr) == 1 ? 0 : -EINVAL;
}

static void conn_close(struct conn **slot)
{
	if (*slot == NULL)
		return;
	close((*slot)->fd);
	free(*slot);
	*slot = NULL;
}

/* Answers every whole request in c's buffer. Returns 0, or -EPROTO when the client must
 * be dropped (no Content-Length on a request with a body is fine: then it has none). */
static int conn_serve(struct conn *c)
{
	for (;;) {
		c->buf[c->len] = '\0';
		char *end = strstr(c->buf, "\r\n\r\n");
		if (end == NULL)
			return c->len >= BUF_MAX ? -EPROTO : 0;
		size_t head = (size_t)(end + 4 - c->buf);
		size_t body = 0;
		for (char *line = strstr(c->buf, "\r\n"); line && line < end;
		     line = strstr(line + 2, "\r\n")) {
			if (strncasecmp(line + 2, "Content-Length:", 15) == 0)
				body = strtoul(line + 17, NULL, 10);
		}
		if (body > BUF_MAX - head)
			return -EPROTO;
		if (c->len < head + body)
			return 0;
		ssize_t w = send(c->fd, answer, sizeof(answer) - 1, MSG_NOSIGNAL);
		if (w != (ssize_t)(sizeof(answer) - 1))
			return -EPROTO; /* an answer this small fits any idle socket buffer */
		requests++;
		bytes += head + body;
		memmove(c->buf, c->buf + head + body, c->len - head - body);
		c->len -= head + body;
	}
}

int main(int argc, char **argv)
{
	struct sockaddr_in sin;
	if (argc != 2 || parse_addr(argv[1], &sin) < 0) {
		fprintf(stderr, "usage: http_sink HOST:PORT\n");
		return 2;
	}
	struct sigaction sa = {.sa_handler = on_stop_signal};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	static struct conn *conns[CONNS_MAX];
	int status = 1;
	int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int epfd = epoll_create1(EPOLL_CLOEXEC);
	int on = 1;
	socklen_t slen = sizeof(sin);
	if (lfd < 0 || epfd < 0 ||
	    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) < 0 ||
	    bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) < 0 || listen(lfd, 128) < 0 ||
	    getsockname(lfd, (struct sockaddr *)&sin, &slen) < 0) {
		fprintf(stderr, "http_sink: %s: %s\n", argv[1], strerror(errno));
		goto cleanup;
	}
	struct epoll_event lev = {.events = EPOLLIN, .data.u32 = LISTEN_ID};
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, lfd, &lev) < 0)
		goto cleanup;
	char host[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &sin.sin_addr, host, sizeof(host));
	printf("listening http %s:%u\n", host, ntohs(sin.sin_port));
	fflush(stdout);

	struct epoll_event events[EPOLL_BATCH];
	while (!stop_requested) {
		int n = epoll_wait(epfd, events, EPOLL_BATCH, 100);
		for (int k = 0; k < n; k++) {
			uint32_t id = events[k].data.u32;
			if (id == LISTEN_ID) {
				int fd;
				while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
					uint32_t slot = 0;
					while (slot < CONNS_MAX && conns[slot] != NULL)
						slot++;
					struct conn *c = slot < CONNS_MAX ? malloc(sizeof(*c)) : NULL;
					struct epoll_event ev = {.events = EPOLLIN, .data.u32 = slot};
					if (c == NULL || epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
						free(c);
						close(fd);
						continue;
					}
					c->fd = fd;
					c->len = 0;
					conns[slot] = c;
					accepted++;
				}
				continue;
			}
			struct conn *c = conns[id];
			if (c == NULL)
				continue;
			ssize_t r = recv(c->fd, c->buf + c->len, BUF_MAX - c->len, 0);
			if (r < 0 && (errno == EAGAIN || errno == EINTR))
				continue;
			if (r <= 0 || (c->len += (size_t)r, conn_serve(c) < 0))
				conn_close(&conns[id]);
		}
	}
	printf("sink requests=%" PRIu64 " bytes=%" PRIu64 " connections=%" PRIu64 "\n", requests,
	       bytes, accepted);
	fflush(stdout);
	status = 0;
cleanup:
	for (uint32_t k = 0; k < CONNS_MAX; k++)
		conn_close(&conns[k]);
	if (epfd >= 0)
		close(epfd);
	if (lfd >= 0)
		close(lfd);
	return status;
}
