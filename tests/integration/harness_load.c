/*
 * harness_load: what the tests of the API's limits need — more projects' tokens, a request
 * that may time out without failing the test, raw connections from a chosen loopback
 * address, the daemon's open sockets and its metrics.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
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

#include "harness.h"

int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void daemon_token_create(struct daemon_proc *d, const char *project, char token[80])
{
	char cmd[1024], out[256];
	const char *bin = getenv("LWM2MD_BIN");
	assert_non_null(bin);
	snprintf(cmd, sizeof(cmd), "%s token create --db %s --project %s 2>/dev/null", bin, d->db,
		 project);
	assert_int_equal(run_command(cmd, out, sizeof(out), 30), 0);
	out[strcspn(out, "\n")] = '\0';
	assert_int_equal(strlen(out), 64);
	memcpy(token, out, 65);
}

int tcp_connect_from(const struct addr *to, const char *from_ip, int timeout_ms)
{
	/* CLOEXEC: a daemon started later must not inherit a failed test's connections. */
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (from_ip) {
		struct sockaddr_in src = {.sin_family = AF_INET};
		if (inet_pton(AF_INET, from_ip, &src.sin_addr) != 1 ||
		    bind(fd, (struct sockaddr *)&src, sizeof(src)) != 0) {
			close(fd);
			return -1;
		}
	}
	struct sockaddr_storage ss;
	size_t sl = addr_to_sockaddr(to, &ss);
	if (connect(fd, (struct sockaddr *)&ss, (socklen_t)sl) != 0 && errno != EINPROGRESS) {
		close(fd);
		return -1;
	}
	struct pollfd p = {.fd = fd, .events = POLLOUT};
	int err = 0;
	socklen_t elen = sizeof(err);
	if (poll(&p, 1, timeout_ms) != 1 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) != 0 ||
	    err != 0) {
		close(fd);
		return -1;
	}
	/* Blocking again: callers write small requests and poll before they read. */
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	return fd;
}

int http_get_within(struct daemon_proc *d, const char *path, const char *token, int timeout_ms,
		    char *resp, size_t cap)
{
	int64_t deadline = mono_ms() + timeout_ms;
	int fd = tcp_connect_from(&d->http, NULL, timeout_ms);
	if (fd < 0)
		return -1;
	char req[512], auth[128] = "";
	if (token)
		snprintf(auth, sizeof(auth), "X-Auth-Token: %s\r\n", token);
	int n = snprintf(req, sizeof(req),
			 "GET %s HTTP/1.1\r\nHost: localhost\r\n%sConnection: close\r\n\r\n", path,
			 auth);
	if (write(fd, req, (size_t)n) != n) {
		close(fd);
		return -1;
	}
	static char raw[1 << 16];
	size_t got = 0;
	int status = -1;
	for (;;) {
		int left = (int)(deadline - mono_ms());
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (left <= 0 || poll(&p, 1, left) != 1)
			break; /* too late */
		ssize_t r = read(fd, raw + got, sizeof(raw) - 1 - got);
		if (r <= 0) {
			raw[got] = '\0';
			if (sscanf(raw, "HTTP/1.%*d %d", &status) != 1)
				status = -1;
			break;
		}
		got += (size_t)r;
	}
	close(fd);
	raw[got] = '\0';
	if (resp && cap) {
		const char *b = strstr(raw, "\r\n\r\n");
		snprintf(resp, cap, "%s", b ? b + 4 : "");
	}
	return status;
}

int daemon_fd_count(const struct daemon_proc *d)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/fd", (int)d->pid);
	DIR *dir = opendir(path);
	if (!dir)
		return -1;
	int n = 0;
	struct dirent *e;
	while ((e = readdir(dir)))
		n += e->d_name[0] != '.';
	closedir(dir);
	return n;
}

long long metric_value(struct daemon_proc *d, const char *series)
{
	static char text[1 << 17];
	char want[256];
	if (http_get_within(d, "/metrics", NULL, 5000, text, sizeof(text)) != 200)
		return -1;
	snprintf(want, sizeof(want), "\n%s ", series);
	const char *p = strstr(text, want);
	return p ? strtoll(p + strlen(want), NULL, 10) : -1;
}
