/*
 * push_target: the address policy of push (push_target.h). The ranges are those of the
 * IANA special-purpose address registries (RFC 6890 and its updates); IPv6 forms that
 * carry an IPv4 address are judged by that address, since they reach it.
 */
#include "iot/push_target.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <curl/curl.h>

static enum push_target_class classify_v4(const uint8_t b[4])
{
	if (b[0] == 0)
		return PUSH_TARGET_UNSPECIFIED; /* "this network"; 0.0.0.0 connects to this host */
	if (b[0] == 127)
		return PUSH_TARGET_LOOPBACK;
	if (b[0] == 10 || (b[0] == 172 && (b[1] & 0xf0) == 16) || (b[0] == 192 && b[1] == 168) ||
	    (b[0] == 100 && (b[1] & 0xc0) == 64)) /* RFC 1918; RFC 6598 shared (CGN) */
		return PUSH_TARGET_PRIVATE;
	if (b[0] == 169 && b[1] == 254)
		return PUSH_TARGET_LINK_LOCAL;
	if ((b[0] == 192 && b[1] == 0 && (b[2] == 0 || b[2] == 2)) || /* IETF; TEST-NET-1 */
	    (b[0] == 192 && b[1] == 88 && b[2] == 99) ||               /* 6to4 relay */
	    (b[0] == 198 && (b[1] & 0xfe) == 18) ||                    /* benchmarking */
	    (b[0] == 198 && b[1] == 51 && b[2] == 100) || (b[0] == 203 && b[1] == 0 && b[2] == 113) ||
	    b[0] >= 224) /* multicast, 240/4, broadcast */
		return PUSH_TARGET_RESERVED;
	return PUSH_TARGET_PUBLIC;
}

static bool all_zero(const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

/* The IPv4 address an IPv6 one carries and reaches (mapped ::ffff:0:0/96, translated
 * ::ffff:0:0:0/96, compatible ::/96, NAT64 64:ff9b::/96, 6to4 2002::/16), or NULL. */
static const uint8_t *embedded_v4(const uint8_t *ip)
{
	static const uint8_t nat64[12] = { 0x00, 0x64, 0xff, 0x9b };
	if (all_zero(ip, 10) && ip[10] == 0xff && ip[11] == 0xff)
		return ip + 12;
	if (all_zero(ip, 8) && ip[8] == 0xff && ip[9] == 0xff && ip[10] == 0 && ip[11] == 0)
		return ip + 12;
	if (all_zero(ip, 12) && !all_zero(ip + 12, 3)) /* not :: or ::1 */
		return ip + 12;
	if (memcmp(ip, nat64, 12) == 0)
		return ip + 12;
	if (ip[0] == 0x20 && ip[1] == 0x02)
		return ip + 2;
	return NULL;
}

enum push_target_class push_target_classify(const struct addr *a)
{
	const uint8_t *ip = a->ip;
	if (a->family == AF_INET)
		return classify_v4(ip);
	if (a->family != AF_INET6)
		return PUSH_TARGET_RESERVED;
	const uint8_t *v4 = embedded_v4(ip);
	if (v4)
		return classify_v4(v4);
	if (all_zero(ip, 16))
		return PUSH_TARGET_UNSPECIFIED;
	if (all_zero(ip, 15) && ip[15] == 1)
		return PUSH_TARGET_LOOPBACK;
	if ((ip[0] & 0xfe) == 0xfc || (ip[0] == 0xfe && (ip[1] & 0xc0) == 0xc0) || /* ULA; site */
	    (ip[0] == 0x00 && ip[1] == 0x64 && ip[2] == 0xff && ip[3] == 0x9b && ip[4] == 0 &&
	     ip[5] == 1)) /* 64:ff9b:1::/48, local-use NAT64 */
		return PUSH_TARGET_PRIVATE;
	if (ip[0] == 0xfe && (ip[1] & 0xc0) == 0x80)
		return PUSH_TARGET_LINK_LOCAL;
	if (ip[0] == 0xff ||                                                  /* multicast */
	    (ip[0] == 0x20 && ip[1] == 0x01 && ip[2] == 0x0d && ip[3] == 0xb8) || /* docs */
	    (ip[0] == 0x20 && ip[1] == 0x01 && ip[2] == 0 && ip[3] == 0) ||  /* Teredo */
	    (ip[0] == 0x01 && all_zero(ip + 1, 7)) ||                        /* discard */
	    all_zero(ip, 1))                       /* the rest of ::/8 is reserved */
		return PUSH_TARGET_RESERVED;
	return PUSH_TARGET_PUBLIC;
}

const char *push_target_class_name(enum push_target_class c)
{
	switch (c) {
	case PUSH_TARGET_PUBLIC:
		return "public";
	case PUSH_TARGET_LOOPBACK:
		return "loopback";
	case PUSH_TARGET_PRIVATE:
		return "private";
	case PUSH_TARGET_LINK_LOCAL:
		return "link-local";
	case PUSH_TARGET_UNSPECIFIED:
		return "unspecified";
	case PUSH_TARGET_RESERVED:
		return "reserved";
	case PUSH_TARGET_SELF:
		return "own API";
	}
	return "?";
}

/* a with an embedded-IPv4 mapped form (::ffff:a.b.c.d) turned into plain IPv4, so that
 * both spellings of one address compare equal. */
static struct addr unmapped(const struct addr *a)
{
	struct addr out = *a;
	if (a->family == AF_INET6 && all_zero(a->ip, 10) && a->ip[10] == 0xff && a->ip[11] == 0xff) {
		out.family = AF_INET;
		memmove(out.ip, a->ip + 12, 4);
		memset(out.ip + 4, 0, 12);
	}
	return out;
}

static bool same_ip(const struct addr *a, const struct addr *b)
{
	size_t n = a->family == AF_INET ? 4 : 16;
	return a->family == b->family && memcmp(a->ip, b->ip, n) == 0;
}

/* Is a one of this machine's addresses (any interface, loopback, unspecified)? */
static bool is_local(const struct addr *a)
{
	enum push_target_class c = push_target_classify(a);
	if (c == PUSH_TARGET_LOOPBACK || c == PUSH_TARGET_UNSPECIFIED)
		return true;
	struct ifaddrs *list;
	if (getifaddrs(&list) != 0)
		return true; /* cannot tell: refusing is the safe side */
	bool found = false;
	for (struct ifaddrs *i = list; i && !found; i = i->ifa_next) {
		struct addr x;
		if (i->ifa_addr && addr_from_sockaddr(&x, i->ifa_addr) == 0) {
			x = unmapped(&x);
			found = same_ip(&x, a);
		}
	}
	freeifaddrs(list);
	return found;
}

/* Does connecting to a reach the daemon's own API? The API bound to a wildcard address
 * listens on every address of the machine; bound to loopback, on loopback. */
static bool is_self(const struct push_target_policy *pol, const struct addr *a)
{
	if (!pol || !pol->api.family || a->port != pol->api.port)
		return false;
	struct addr api = unmapped(&pol->api), to = unmapped(a);
	enum push_target_class api_class = push_target_classify(&api);
	if (api_class == PUSH_TARGET_UNSPECIFIED)
		return is_local(&to);
	if (api_class == PUSH_TARGET_LOOPBACK && push_target_classify(&to) == PUSH_TARGET_LOOPBACK)
		return true;
	return same_ip(&api, &to);
}

enum push_target_class push_target_check(const struct push_target_policy *pol,
					 const struct addr *a)
{
	if (is_self(pol, a))
		return PUSH_TARGET_SELF;
	if (pol && pol->allow_private)
		return PUSH_TARGET_PUBLIC;
	return push_target_classify(a);
}

/* The URL's host as an address when it is a literal in any form a resolver takes: 0, or
 * -ENOENT for a name. inet_aton() is what getaddrinfo() uses for IPv4, so "127.1",
 * "0x7f.1" and "2130706433" are the literals they are (libcurl also normalises them). */
static int literal_host(const char *host, struct addr *a)
{
	char buf[256];
	size_t n = strlen(host);
	if (n == 0 || n >= sizeof(buf))
		return -ENOENT;
	memcpy(buf, host, n + 1);
	if (buf[0] == '[') {
		char *end = strchr(buf, ']');
		if (!end)
			return -ENOENT;
		*end = '\0';
		char *zone = strchr(buf, '%');
		if (zone)
			*zone = '\0';
		a->family = AF_INET6;
		return inet_pton(AF_INET6, buf + 1, a->ip) == 1 ? 0 : -ENOENT;
	}
	if (buf[n - 1] == '.') /* "127.0.0.1." is the same address */
		buf[n - 1] = '\0';
	struct in_addr in;
	if (inet_aton(buf, &in) == 0)
		return -ENOENT;
	a->family = AF_INET;
	memcpy(a->ip, &in, 4);
	return 0;
}

int push_target_check_url(const struct push_target_policy *pol, const char *url,
			  size_t max_len, char *err, size_t cap)
{
	int rc = -EINVAL;
	char *host = NULL, *port = NULL, *user = NULL, *password = NULL;
	CURLU *u = NULL;
	if (!url || (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0) ||
	    strlen(url) > max_len || strpbrk(url, " \t\r\n")) {
		snprintf(err, cap, "url must be an http:// or https:// URL of at most %zu characters",
			 max_len);
		return -EINVAL;
	}
	/* libcurl's own parser: what it will connect to is what is checked. */
	if (!(u = curl_url()) || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK) {
		snprintf(err, cap, "url must be an http:// or https:// URL of at most %zu characters",
			 max_len);
		goto cleanup;
	}
	/* Credentials in a URL end up in logs, in GET …/forwarding-rules and in metrics
	 * scrapers' hands; an application authenticates its endpoint by other means. */
	if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PASSWORD, &password, 0) == CURLUE_OK) {
		snprintf(err, cap, "url must not contain a user name or password");
		goto cleanup;
	}
	struct addr a;
	memset(&a, 0, sizeof(a));
	if (literal_host(host, &a) == 0) {
		a.port = (uint16_t)strtoul(port, NULL, 10);
		enum push_target_class c = push_target_check(pol, &a);
		if (c == PUSH_TARGET_SELF) {
			snprintf(err, cap, "url points at this daemon's own API");
			goto cleanup;
		}
		if (c != PUSH_TARGET_PUBLIC) {
			snprintf(err, cap,
				 "url points at a %s address (%s), which push refuses; the operator "
				 "may allow such targets with --push-allow-private",
				 push_target_class_name(c), host);
			goto cleanup;
		}
	}
	rc = 0;
cleanup:
	curl_free(host);
	curl_free(port);
	curl_free(user);
	curl_free(password);
	curl_url_cleanup(u);
	return rc;
}
