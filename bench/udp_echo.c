/*
 * udp_echo: the baseline the daemon's benchmarks are measured against.
 *
 * One thread, one UDP socket, datagrams received and sent back in batches with
 * recvmmsg/sendmmsg. Every datagram goes back to its sender unchanged, so the load
 * generator can count the echo as the response to its request. Nothing a real server
 * does (parsing, lookup, storage) happens here: what this server sustains on a machine is
 * the ceiling for any single-threaded UDP server there, and bench/run.sh reports the
 * daemon's throughput as a fraction of it.
 *
 *   udp_echo HOST:PORT        HOST is an IPv4 address or [IPv6]; PORT 0 picks a free one
 *
 * Prints "listening udp HOST:PORT" (the bound address) on stdout once it is ready, runs
 * until SIGTERM or SIGINT, then prints its counters on stderr.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Datagrams per recvmmsg/sendmmsg call. */
#define BATCH 64
/* The largest datagram echoed whole; longer ones are echoed truncated (MSG_TRUNC is not
 * asked for). CoAP over UDP stays well under this. */
#define DGRAM_MAX 2048
/* Socket buffers large enough to absorb a load generator's window without drops. */
#define SOCK_BUF_BYTES (8 * 1024 * 1024)
#define ADDR_TEXT_MAX 64

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

/* Parses "1.2.3.4:5683" or "[::1]:5683" into ss. Returns 0 or -EINVAL. */
static int parse_addr(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[ADDR_TEXT_MAX];
	const char *colon = strrchr(s, ':');
	if (colon == NULL || colon == s)
		return -EINVAL;
	const char *h = s;
	size_t hlen = (size_t)(colon - s);
	if (h[0] == '[') {
		if (hlen < 2 || h[hlen - 1] != ']')
			return -EINVAL;
		h++;
		hlen -= 2;
	}
	if (hlen == 0 || hlen >= sizeof(host))
		return -EINVAL;
	memcpy(host, h, hlen);
	host[hlen] = '\0';

	char *end;
	errno = 0;
	unsigned long port = strtoul(colon + 1, &end, 10);
	if (errno != 0 || end == colon + 1 || *end != '\0' || port > 65535)
		return -EINVAL;

	memset(ss, 0, sizeof(*ss));
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		*len = sizeof(*sin);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*sin6);
		return 0;
	}
	return -EINVAL;
}

/* Writes the address as "1.2.3.4:5683" or "[::1]:5683" into buf. Returns 0 or -errno. */
static int format_addr(const struct sockaddr_storage *ss, char *buf, size_t cap)
{
	char host[INET6_ADDRSTRLEN];
	int n;
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;
		if (inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host)) == NULL)
			return -errno;
		n = snprintf(buf, cap, "%s:%u", host, ntohs(sin->sin_port));
	} else {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;
		if (inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host)) == NULL)
			return -errno;
		n = snprintf(buf, cap, "[%s]:%u", host, ntohs(sin6->sin6_port));
	}
	return (n < 0 || (size_t)n >= cap) ? -ENOBUFS : 0;
}

/* Asks for big socket buffers. As root the *FORCE variants pass net.core.rmem_max; as
 * anyone else the plain ones get what the sysctl allows, which is still worth having. */
static void grow_buffers(int fd)
{
	int v = SOCK_BUF_BYTES;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &v, sizeof(v)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &v, sizeof(v)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v));
}

static int open_socket(const char *spec, char *bound, size_t bound_cap)
{
	struct sockaddr_storage ss;
	socklen_t len;
	if (parse_addr(spec, &ss, &len) < 0) {
		fprintf(stderr, "udp_echo: bad address '%s' (want HOST:PORT)\n", spec);
		return -EINVAL;
	}
	int fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	grow_buffers(fd);
	if (bind(fd, (struct sockaddr *)&ss, len) < 0) {
		int err = -errno;
		fprintf(stderr, "udp_echo: bind %s: %s\n", spec, strerror(errno));
		close(fd);
		return err;
	}
	len = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0 ||
	    format_addr(&ss, bound, bound_cap) < 0) {
		int err = errno ? -errno : -EINVAL;
		close(fd);
		return err;
	}
	return fd;
}

struct batch {
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	struct sockaddr_storage peers[BATCH];
	uint8_t data[BATCH][DGRAM_MAX];
};

struct counters {
	unsigned long long received;
	unsigned long long sent;
	unsigned long long send_dropped;
	unsigned long long batches;
};

/* Receives one batch without blocking and echoes it. Returns the number of datagrams
 * received (0 when the socket is drained) or -errno. */
static int echo_batch(int fd, struct batch *b, struct counters *c)
{
	for (int i = 0; i < BATCH; i++) {
		b->iov[i].iov_base = b->data[i];
		b->iov[i].iov_len = DGRAM_MAX;
		memset(&b->msgs[i].msg_hdr, 0, sizeof(b->msgs[i].msg_hdr));
		b->msgs[i].msg_hdr.msg_name = &b->peers[i];
		b->msgs[i].msg_hdr.msg_namelen = sizeof(b->peers[i]);
		b->msgs[i].msg_hdr.msg_iov = &b->iov[i];
		b->msgs[i].msg_hdr.msg_iovlen = 1;
	}
	int n = recvmmsg(fd, b->msgs, BATCH, MSG_DONTWAIT, NULL);
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return 0;
		return -errno;
	}
	/* The received headers already name the sender; only the lengths change. */
	for (int i = 0; i < n; i++)
		b->iov[i].iov_len = b->msgs[i].msg_len;
	c->received += (unsigned)n;
	c->batches++;

	int done = 0;
	/* A full send buffer means the client is not reading; UDP may drop, so after a few
	 * tries the rest of the batch is dropped rather than spinning on it. */
	for (int tries = 0; done < n && tries < 4; tries++) {
		int s = sendmmsg(fd, b->msgs + done, (unsigned)(n - done), MSG_DONTWAIT);
		if (s < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ||
			    errno == ENOBUFS)
				continue;
			/* An unreachable peer fails its own datagram only: skip it. */
			done++;
			c->send_dropped++;
			continue;
		}
		done += s;
		c->sent += (unsigned)s;
	}
	c->send_dropped += (unsigned)(n - done);
	return n;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: udp_echo HOST:PORT\n");
		return 2;
	}

	/* SIGTERM/SIGINT stay blocked except inside ppoll, so a signal can never slip in
	 * between checking stop_requested and going to sleep. */
	sigset_t block, wait_mask;
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	if (sigprocmask(SIG_BLOCK, &block, &wait_mask) < 0)
		return 1;
	sigdelset(&wait_mask, SIGTERM);
	sigdelset(&wait_mask, SIGINT);
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	char bound[ADDR_TEXT_MAX];
	int fd = open_socket(argv[1], bound, sizeof(bound));
	if (fd < 0)
		return 1;
	printf("listening udp %s\n", bound);
	fflush(stdout);

	static struct batch b;
	struct counters c = {0};
	int rc = 0;
	while (!stop_requested) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int r = ppoll(&p, 1, NULL, &wait_mask);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			perror("udp_echo: ppoll");
			rc = 1;
			break;
		}
		/* Drain what is queued before sleeping again, but give a signal a chance
		 * every so often under sustained load. */
		for (int rounds = 0; rounds < 1024 && !stop_requested; rounds++) {
			int n = echo_batch(fd, &b, &c);
			if (n < 0) {
				fprintf(stderr, "udp_echo: recvmmsg: %s\n", strerror(-n));
				rc = 1;
				break;
			}
			if (n == 0)
				break;
		}
		if (rc != 0)
			break;
	}
	fprintf(stderr,
		"udp_echo: received=%llu sent=%llu dropped=%llu batches=%llu avg_batch=%.1f\n",
		c.received, c.sent, c.send_dropped, c.batches,
		c.batches ? (double)c.received / (double)c.batches : 0.0);
	close(fd);
	return rc;
}
