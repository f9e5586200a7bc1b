/*
 * push_target: which endpoints push may reach. A forwarding rule is an application's
 * request that the daemon make HTTP requests for it; pointed at the daemon's own network
 * (its loopback, the machine's link-local metadata service at 169.254.169.254, a private
 * LAN) it would make the daemon a proxy into places the application cannot reach itself.
 *
 * So by default push refuses loopback, private (RFC 1918, RFC 6598, fc00::/7), link-local,
 * unspecified and reserved (multicast, broadcast, documentation, benchmarking, 240/4)
 * addresses — checked twice: on the URL's literal address when a rule is created
 * (push_target_check_url), and on every address libcurl is about to connect to
 * (push_target_check), so that a hostname resolving to 127.0.0.1 is refused as well.
 * An operator lifts that with --push-allow-private; the daemon's own API stays refused
 * either way. A user name or password in the URL is always refused.
 */
#ifndef LWM2MD_IOT_PUSH_TARGET_H
#define LWM2MD_IOT_PUSH_TARGET_H

#include <stdbool.h>
#include <stddef.h>

#include "util/addr.h"

/* What an address is, as far as push cares; PUSH_TARGET_PUBLIC is the only one allowed
 * by default. */
enum push_target_class {
	PUSH_TARGET_PUBLIC = 0,
	PUSH_TARGET_LOOPBACK,    /* 127/8, ::1 */
	PUSH_TARGET_PRIVATE,     /* 10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7 */
	PUSH_TARGET_LINK_LOCAL,  /* 169.254/16, fe80::/10 */
	PUSH_TARGET_UNSPECIFIED, /* 0/8, :: */
	PUSH_TARGET_RESERVED,    /* multicast, broadcast, documentation, 240/4, ... */
	PUSH_TARGET_SELF,        /* the daemon's own API */
};

struct push_target_policy {
	bool allow_private; /* --push-allow-private: every class but SELF is allowed */
	struct addr api;    /* where the API listens; family 0 while unknown */
};

/* The class of a: IPv4 embedded in IPv6 (::ffff:a.b.c.d, ::a.b.c.d, 64:ff9b::/96,
 * 2002::/16) is classed as that IPv4 address. Never SELF. */
enum push_target_class push_target_classify(const struct addr *a);

/* PUSH_TARGET_PUBLIC when the policy lets push connect to a (address and port), else the
 * class that refuses it. pol may be NULL (the defaults). */
enum push_target_class push_target_check(const struct push_target_policy *pol,
					 const struct addr *a);

/* "loopback", "private", ... for logs, metrics and API errors. */
const char *push_target_class_name(enum push_target_class c);

/* Checks a forwarding rule's URL: http:// or https://, at most max_len characters, no
 * spaces, a user name or password never, and a literal address (in any of the forms a
 * resolver takes: 127.1, 0x7f.1, 2130706433, [::ffff:127.0.0.1]) only when the policy
 * allows it. Returns 0, or -EINVAL with a message naming `url` in err. */
int push_target_check_url(const struct push_target_policy *pol, const char *url,
			  size_t max_len, char *err, size_t cap);

#endif
