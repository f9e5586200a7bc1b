/*
 * bench_common: what the load generators share (lwm2m_load, http_load, fw_load): the clock,
 * the latency histogram, option parsing, and (bench_net_*) many devices on loopback
 * addresses behind a few shared sockets. Header-only: each bench C file is its own program.
 */
#ifndef LWM2MD_BENCH_COMMON_H
#define LWM2MD_BENCH_COMMON_H

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "coap/coap_msg.h"

/* Latency histogram: exact below 2 * HIST_SUB microseconds, then HIST_SUB buckets per
 * power of two (under 1.6 % error), up to 2^HIST_EXP_MAX us; fixed size whatever the
 * request count. */
#define HIST_SUB_BITS 6
#define HIST_SUB (1u << HIST_SUB_BITS)
#define HIST_EXP_MIN (HIST_SUB_BITS + 1)
#define HIST_EXP_MAX 40
#define HIST_BUCKETS (2 * HIST_SUB + (HIST_EXP_MAX - HIST_EXP_MIN) * HIST_SUB)

struct hist {
	uint64_t count;
	uint64_t max;
	uint64_t buckets[HIST_BUCKETS];
};

static inline uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline size_t hist_index(uint64_t v)
{
	if (v < 2 * HIST_SUB)
		return (size_t)v;
	if (v >= (1ull << HIST_EXP_MAX))
		v = (1ull << HIST_EXP_MAX) - 1;
	unsigned e = 63u - (unsigned)__builtin_clzll(v);
	uint64_t m = v >> (e - HIST_SUB_BITS); /* HIST_SUB .. 2 * HIST_SUB - 1 */
	return 2 * HIST_SUB + (size_t)(e - HIST_EXP_MIN) * HIST_SUB + (size_t)(m - HIST_SUB);
}

/* The middle of the bucket's range. */
static inline uint64_t hist_value(size_t idx)
{
	if (idx < 2 * HIST_SUB)
		return idx;
	size_t k = idx - 2 * HIST_SUB;
	unsigned e = HIST_EXP_MIN + (unsigned)(k / HIST_SUB);
	uint64_t m = HIST_SUB + k % HIST_SUB;
	unsigned shift = e - HIST_SUB_BITS;
	return (m << shift) + ((1ull << shift) >> 1);
}

static inline void hist_add(struct hist *h, uint64_t v)
{
	h->buckets[hist_index(v)]++;
	h->count++;
	if (v > h->max)
		h->max = v;
}

/* The q-quantile (0 < q <= 1), or 0 for an empty histogram. */
static inline uint64_t hist_quantile(const struct hist *h, double q)
{
	if (h->count == 0)
		return 0;
	uint64_t rank = (uint64_t)(q * (double)h->count + 0.999999);
	if (rank < 1)
		rank = 1;
	uint64_t seen = 0;
	for (size_t i = 0; i < HIST_BUCKETS; i++) {
		seen += h->buckets[i];
		if (seen >= rank) {
			uint64_t v = hist_value(i);
			return v < h->max ? v : h->max;
		}
	}
	return h->max;
}

/* Parses a decimal number in [min, max]. Returns 0 or -EINVAL. */
static inline int parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
	if (s == NULL || *s < '0' || *s > '9')
		return -EINVAL;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

/* Parses "1.2.3.4:5683". Only IPv4: the devices live on 127.0.0.0/8. */
static inline int parse_target(const char *s, struct sockaddr_in *sin)
{
	char host[INET_ADDRSTRLEN];
	const char *colon = strrchr(s, ':');
	if (colon == NULL)
		return -EINVAL;
	size_t hlen = (size_t)(colon - s);
	if (hlen == 0 || hlen >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	uint32_t port;
	if (parse_u32(colon + 1, 1, 65535, &port) < 0)
		return -EINVAL;
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_port = htons((uint16_t)port);
	return inet_pton(AF_INET, host, &sin->sin_addr) == 1 ? 0 : -EINVAL;
}

/*
 * Many devices, each from its own loopback address, over a few shared UDP sockets bound
 * to the wildcard address (as lwm2m_load's header describes): a send picks the device's
 * source address with IP_PKTINFO, a receive learns from the same ancillary data which
 * device a datagram is for. Device i lives at 127.(net + i / 65024).((i / 254) % 256).
 * (1 + i % 254) — host octets 1..254, so that no address looks like a network or
 * broadcast one — and always uses socket i % nfds, so the server sees one address and
 * port per device.
 */
#define BENCH_NET_SOCKETS 32u
#define BENCH_NET_HOSTS 254u

struct bench_net {
	struct sockaddr_in target;
	uint32_t net;     /* the second octet of device 0's address */
	uint32_t devices;
	int epfd;
	int fds[BENCH_NET_SOCKETS];
	uint32_t nfds;
};

static inline void bench_net_addr(const struct bench_net *bn, uint32_t i, struct in_addr *a)
{
	uint32_t b = bn->net + i / (BENCH_NET_HOSTS * 256u);
	uint32_t c = (i / BENCH_NET_HOSTS) % 256u;
	uint32_t d = 1u + i % BENCH_NET_HOSTS;
	a->s_addr = htonl((127u << 24) | (b << 16) | (c << 8) | d);
}

/* The device whose address is a (the inverse of bench_net_addr), or UINT32_MAX. */
static inline uint32_t bench_net_device_of(const struct bench_net *bn, const struct in_addr *a)
{
	uint32_t v = ntohl(a->s_addr);
	uint32_t b = (v >> 16) & 0xff, c = (v >> 8) & 0xff, d = v & 0xff;
	if ((v >> 24) != 127 || b < bn->net || d == 0 || d > BENCH_NET_HOSTS)
		return UINT32_MAX;
	uint64_t i = (uint64_t)(b - bn->net) * BENCH_NET_HOSTS * 256u + c * BENCH_NET_HOSTS +
		     (d - 1);
	return i < bn->devices ? (uint32_t)i : UINT32_MAX;
}

/* Does the address plan of devices from net stay inside 127.0.0.0/8? */
static inline bool bench_net_fits(uint32_t net, uint32_t devices)
{
	return net >= 1 && devices >= 1 && net + (devices - 1) / (BENCH_NET_HOSTS * 256u) <= 254;
}

/* Opens the epoll set and the shared sockets (4 MiB receive buffers). 0 or -errno. */
static inline int bench_net_open(struct bench_net *bn)
{
	bn->nfds = 0;
	bn->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (bn->epfd < 0)
		return -errno;
	uint32_t want = bn->devices < BENCH_NET_SOCKETS ? bn->devices : BENCH_NET_SOCKETS;
	for (uint32_t k = 0; k < want; k++) {
		int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -errno;
		bn->fds[bn->nfds++] = fd;
		int on = 1, size = 4 * 1024 * 1024;
		struct sockaddr_in any = {.sin_family = AF_INET};
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size));
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size));
		struct epoll_event ev = {.events = EPOLLIN, .data.u32 = k};
		if (setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &on, sizeof(on)) < 0 ||
		    bind(fd, (struct sockaddr *)&any, sizeof(any)) < 0 ||
		    epoll_ctl(bn->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
			return -errno;
	}
	return 0;
}

static inline void bench_net_close(struct bench_net *bn)
{
	for (uint32_t k = 0; k < bn->nfds; k++)
		close(bn->fds[k]);
	if (bn->epfd >= 0)
		close(bn->epfd);
	bn->nfds = 0;
	bn->epfd = -1;
}

/* Sends a datagram to the target from device i's address. A failure is left to the
 * retransmission timer, like a datagram lost on the way. */
static inline void bench_net_send(const struct bench_net *bn, uint32_t i, const void *data,
				  size_t len)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(struct in_pktinfo))];
	} ctl;
	memset(&ctl, 0, sizeof(ctl));
	struct iovec iov = {.iov_base = (void *)data, .iov_len = len};
	struct msghdr mh = {
		.msg_name = (void *)&bn->target,
		.msg_namelen = sizeof(bn->target),
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = ctl.buf,
		.msg_controllen = sizeof(ctl.buf),
	};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = IPPROTO_IP;
	cm->cmsg_type = IP_PKTINFO;
	cm->cmsg_len = CMSG_LEN(sizeof(struct in_pktinfo));
	struct in_pktinfo pi;
	memset(&pi, 0, sizeof(pi));
	bench_net_addr(bn, i, &pi.ipi_spec_dst);
	memcpy(CMSG_DATA(cm), &pi, sizeof(pi));
	(void)sendmsg(bn->fds[i % bn->nfds], &mh, MSG_DONTWAIT);
}

/* Receives one datagram from socket k: its length, with *dev the device it was addressed
 * to (UINT32_MAX when it is none of ours or did not come from the target); -1 when the
 * socket is drained (or has an error, which the retransmission timer takes care of). */
static inline ssize_t bench_net_recv(const struct bench_net *bn, uint32_t k, uint8_t *buf,
				     size_t cap, uint32_t *dev)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(struct in_pktinfo)) + 64];
	} ctl;
	struct sockaddr_in from;
	struct iovec iov = {.iov_base = buf, .iov_len = cap};
	struct msghdr mh = {
		.msg_name = &from,
		.msg_namelen = sizeof(from),
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = ctl.buf,
		.msg_controllen = sizeof(ctl.buf),
	};
	ssize_t n = recvmsg(bn->fds[k], &mh, MSG_DONTWAIT);
	if (n < 0)
		return -1;
	*dev = UINT32_MAX;
	if (from.sin_port != bn->target.sin_port ||
	    from.sin_addr.s_addr != bn->target.sin_addr.s_addr)
		return n;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
		if (cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo pi;
			memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
			*dev = bench_net_device_of(bn, &pi.ipi_addr);
		}
	}
	if (*dev != UINT32_MAX && *dev % bn->nfds != k)
		*dev = UINT32_MAX;
	return n;
}

/* A "Vm...:" field of /proc/<pid>/status in kB (VmRSS, VmHWM). 0 or -errno. */
static inline int bench_proc_kb(long pid, const char *field, long *kb)
{
	char path[64], line[256];
	size_t flen = strlen(field);
	snprintf(path, sizeof(path), "/proc/%ld/status", pid);
	FILE *f = fopen(path, "re");
	if (f == NULL)
		return -errno;
	int rc = -ENOENT;
	for (int n = 0; n < 200 && fgets(line, sizeof(line), f) != NULL; n++) {
		if (strncmp(line, field, flen) == 0 && line[flen] == ':') {
			*kb = strtol(line + flen + 1, NULL, 10);
			rc = 0;
			break;
		}
	}
	fclose(f);
	return rc;
}

/*
 * What a simulated LwM2M client needs in any generator (coap_msg.h does the encoding).
 */

/* Adds a Register's options and payload to m (Core §6.2.1: POST /rd?ep=&lt=&lwm2m=&b=U,
 * link-format object links). ep and links must outlive the encoding. */
static inline int bench_lwm2m_register(struct coap_msg *m, const char *q_ep, const char *links)
{
	const char *queries[] = {q_ep, "lt=86400", "lwm2m=1.1", "b=U"};
	int rc = coap_msg_add_option(m, COAP_OPTION_URI_PATH, "rd", 2);
	for (size_t q = 0; rc == 0 && q < sizeof(queries) / sizeof(queries[0]); q++)
		rc = coap_msg_add_option(m, COAP_OPTION_URI_QUERY, queries[q], strlen(queries[q]));
	if (rc == 0)
		rc = coap_msg_add_uint_option(m, COAP_OPTION_CONTENT_FORMAT, COAP_CT_LINK_FORMAT);
	coap_msg_set_payload(m, links, strlen(links));
	return rc;
}

/* A Register's answer: 2.01 with Location-Path "rd", "<id>"; copies the id (NUL-terminated)
 * into id. Returns its length, or -1 when the answer is not that. */
static inline int bench_lwm2m_location(const struct coap_msg *r, char *id, size_t cap)
{
	const struct coap_option *seg[2];
	size_t n = 0;
	for (size_t k = 0; k < r->option_count; k++) {
		if (r->options[k].number != COAP_OPTION_LOCATION_PATH)
			continue;
		if (n == 2)
			return -1;
		seg[n++] = &r->options[k];
	}
	if (r->code != COAP_CODE_CREATED || n != 2 || seg[0]->len != 2 ||
	    memcmp(seg[0]->value, "rd", 2) != 0 || seg[1]->len == 0 || seg[1]->len >= cap)
		return -1;
	memcpy(id, seg[1]->value, seg[1]->len);
	id[seg[1]->len] = '\0';
	return (int)seg[1]->len;
}

/* A request's Uri-Path as up to 3 numeric ids (/5/0/3): their count, or -1 for any other
 * path. */
static inline int bench_lwm2m_path(const struct coap_msg *r, uint32_t ids[3])
{
	int n = 0;
	for (size_t k = 0; k < r->option_count; k++) {
		const struct coap_option *o = &r->options[k];
		if (o->number != COAP_OPTION_URI_PATH)
			continue;
		if (n == 3 || o->len == 0 || o->len > 5)
			return -1;
		uint32_t v = 0;
		for (size_t c = 0; c < o->len; c++) {
			if (o->value[c] < '0' || o->value[c] > '9')
				return -1;
			v = v * 10 + (uint32_t)(o->value[c] - '0');
		}
		ids[n++] = v;
	}
	return n;
}

/* Sends m, encoded, from device i. */
static inline void bench_net_send_msg(const struct bench_net *bn, uint32_t i,
				      const struct coap_msg *m)
{
	uint8_t out[2048];
	int len = coap_msg_encode(m, out, sizeof(out));
	if (len > 0)
		bench_net_send(bn, i, out, (size_t)len);
}

#endif
