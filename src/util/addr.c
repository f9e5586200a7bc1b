/* addr: see addr.h. */
#include "util/addr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "util/hash.h"

int addr_from_sockaddr(struct addr *a, const struct sockaddr *sa)
{
	memset(a, 0, sizeof(*a));
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
		a->family = AF_INET;
		a->port = ntohs(in->sin_port);
		memcpy(a->ip, &in->sin_addr, 4);
		return 0;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
		a->family = AF_INET6;
		a->port = ntohs(in6->sin6_port);
		memcpy(a->ip, &in6->sin6_addr, 16);
		return 0;
	}
	return -EAFNOSUPPORT;
}

size_t addr_to_sockaddr(const struct addr *a, void *storage)
{
	if (a->family == AF_INET6) {
		struct sockaddr_in6 *in6 = storage;
		memset(in6, 0, sizeof(*in6));
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(a->port);
		memcpy(&in6->sin6_addr, a->ip, 16);
		return sizeof(*in6);
	}
	struct sockaddr_in *in = storage;
	memset(in, 0, sizeof(*in));
	in->sin_family = AF_INET;
	in->sin_port = htons(a->port);
	memcpy(&in->sin_addr, a->ip, 4);
	return sizeof(*in);
}

static int parse_port(const char *s, uint16_t *port)
{
	if (*s == '\0' || strlen(s) > 5)
		return -EINVAL;
	unsigned long v = 0;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		v = v * 10 + (unsigned long)(*p - '0');
	}
	if (v > 65535)
		return -EINVAL;
	*port = (uint16_t)v;
	return 0;
}

int addr_parse(struct addr *a, const char *s)
{
	char host[64];
	const char *colon;
	memset(a, 0, sizeof(*a));
	if (s[0] == '[') {
		const char *end = strchr(s, ']');
		if (!end || end[1] != ':' || (size_t)(end - s - 1) >= sizeof(host))
			return -EINVAL;
		memcpy(host, s + 1, (size_t)(end - s - 1));
		host[end - s - 1] = '\0';
		a->family = AF_INET6;
		if (inet_pton(AF_INET6, host, a->ip) != 1)
			return -EINVAL;
		return parse_port(end + 2, &a->port);
	}
	colon = strrchr(s, ':');
	if (!colon || (size_t)(colon - s) >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	a->family = AF_INET;
	if (host[0] != '\0' && strcmp(host, "*") != 0) {
		if (strcmp(host, "localhost") == 0)
			strcpy(host, "127.0.0.1");
		if (inet_pton(AF_INET, host, a->ip) != 1)
			return -EINVAL;
	}
	return parse_port(colon + 1, &a->port);
}

const char *addr_format(const struct addr *a, char buf[ADDR_STR_MAX])
{
	char ip[INET6_ADDRSTRLEN];
	if (a->family == AF_INET6) {
		inet_ntop(AF_INET6, a->ip, ip, sizeof(ip));
		snprintf(buf, ADDR_STR_MAX, "[%s]:%u", ip, a->port);
	} else {
		inet_ntop(AF_INET, a->ip, ip, sizeof(ip));
		snprintf(buf, ADDR_STR_MAX, "%s:%u", ip, a->port);
	}
	return buf;
}

bool addr_equal(const struct addr *a, const struct addr *b)
{
	size_t n = a->family == AF_INET6 ? 16 : 4;
	return a->family == b->family && a->port == b->port && memcmp(a->ip, b->ip, n) == 0;
}

uint64_t addr_hash(const struct addr *a)
{
	size_t n = a->family == AF_INET6 ? 16 : 4;
	uint64_t h = hash_bytes(a->ip, n, a->family);
	return hash_mix(h ^ a->port);
}
