/*
 * bench_common: what the load generators share (lwm2m_load, http_load): the clock, the
 * latency histogram, and option parsing. Header-only: each bench C file is its own program.
 */
#ifndef LWM2MD_BENCH_COMMON_H
#define LWM2MD_BENCH_COMMON_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

#endif
