/*
 * Tests of push_target.c: the class of addresses (each special-purpose range, and the
 * IPv6 forms that carry an IPv4 address), the daemon's own API refused even with
 * --push-allow-private, and forwarding-rule URLs — every spelling of loopback a resolver
 * takes, link-local, private, credentials — refused with a message naming `url`.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "iot/push_target.h"

static struct addr ip(const char *text, uint16_t port)
{
	struct addr a;
	memset(&a, 0, sizeof(a));
	a.port = port;
	if (inet_pton(AF_INET, text, a.ip) == 1) {
		a.family = AF_INET;
	} else {
		assert_int_equal(inet_pton(AF_INET6, text, a.ip), 1);
		a.family = AF_INET6;
	}
	return a;
}

static void test_classify(void **state)
{
	(void)state;
	static const struct {
		const char *ip;
		enum push_target_class want;
	} cases[] = {
		{ "8.8.8.8", PUSH_TARGET_PUBLIC },
		{ "93.184.216.34", PUSH_TARGET_PUBLIC },
		{ "127.0.0.1", PUSH_TARGET_LOOPBACK },
		{ "127.255.255.254", PUSH_TARGET_LOOPBACK },
		{ "10.1.2.3", PUSH_TARGET_PRIVATE },
		{ "172.16.0.1", PUSH_TARGET_PRIVATE },
		{ "172.31.255.255", PUSH_TARGET_PRIVATE },
		{ "172.32.0.1", PUSH_TARGET_PUBLIC },
		{ "192.168.1.1", PUSH_TARGET_PRIVATE },
		{ "100.64.0.1", PUSH_TARGET_PRIVATE },
		{ "100.128.0.1", PUSH_TARGET_PUBLIC },
		{ "169.254.169.254", PUSH_TARGET_LINK_LOCAL },
		{ "0.0.0.0", PUSH_TARGET_UNSPECIFIED },
		{ "0.1.2.3", PUSH_TARGET_UNSPECIFIED },
		{ "192.0.2.1", PUSH_TARGET_RESERVED },
		{ "198.18.0.1", PUSH_TARGET_RESERVED },
		{ "203.0.113.9", PUSH_TARGET_RESERVED },
		{ "224.0.0.1", PUSH_TARGET_RESERVED },
		{ "255.255.255.255", PUSH_TARGET_RESERVED },
		{ "2001:4860:4860::8888", PUSH_TARGET_PUBLIC },
		{ "::1", PUSH_TARGET_LOOPBACK },
		{ "::", PUSH_TARGET_UNSPECIFIED },
		{ "::ffff:127.0.0.1", PUSH_TARGET_LOOPBACK },
		{ "::ffff:8.8.8.8", PUSH_TARGET_PUBLIC },
		{ "::127.0.0.1", PUSH_TARGET_LOOPBACK },
		{ "64:ff9b::a9fe:a9fe", PUSH_TARGET_LINK_LOCAL }, /* NAT64 of 169.254.169.254 */
		{ "2002:c0a8:0101::1", PUSH_TARGET_PRIVATE },     /* 6to4 of 192.168.1.1 */
		{ "fc00::1", PUSH_TARGET_PRIVATE },
		{ "fd12:3456::1", PUSH_TARGET_PRIVATE },
		{ "fe80::1", PUSH_TARGET_LINK_LOCAL },
		{ "ff02::1", PUSH_TARGET_RESERVED },
		{ "2001:db8::1", PUSH_TARGET_RESERVED },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct addr a = ip(cases[i].ip, 80);
		enum push_target_class got = push_target_classify(&a);
		if (got != cases[i].want)
			fail_msg("%s: %s, not %s", cases[i].ip, push_target_class_name(got),
				 push_target_class_name(cases[i].want));
		/* The default policy allows exactly the public ones. */
		assert_int_equal(push_target_check(NULL, &a) == PUSH_TARGET_PUBLIC,
				 cases[i].want == PUSH_TARGET_PUBLIC);
	}
}

static void test_allow_private_but_not_self(void **state)
{
	(void)state;
	struct push_target_policy pol = { .allow_private = true, .api = ip("127.0.0.1", 8080) };
	struct addr a = ip("127.0.0.1", 9000);
	assert_int_equal(push_target_check(&pol, &a), PUSH_TARGET_PUBLIC);
	a = ip("10.0.0.1", 8080);
	assert_int_equal(push_target_check(&pol, &a), PUSH_TARGET_PUBLIC);
	/* The API's own address and port, in any spelling. */
	a = ip("127.0.0.1", 8080);
	assert_int_equal(push_target_check(&pol, &a), PUSH_TARGET_SELF);
	a = ip("::ffff:127.0.0.1", 8080);
	assert_int_equal(push_target_check(&pol, &a), PUSH_TARGET_SELF);
	a = ip("127.0.0.2", 8080); /* loopback is the host's, whichever address */
	assert_int_equal(push_target_check(&pol, &a), PUSH_TARGET_SELF);
	/* Bound to every address: every address of this host is the API. */
	pol.api = ip("0.0.0.0", 8080);
	a = ip("::1", 8080);
	assert_int_equal(push_target_check(&pol, &a), PUSH_TARGET_SELF);
	a = ip("0.0.0.0", 8080);
	assert_int_equal(push_target_check(&pol, &a), PUSH_TARGET_SELF);
	a = ip("8.8.8.8", 8080);
	assert_int_equal(push_target_check(&pol, &a), PUSH_TARGET_PUBLIC);
}

static void url_refused(const struct push_target_policy *pol, const char *url,
			const char *want)
{
	char err[256] = "";
	int rc = push_target_check_url(pol, url, 1023, err, sizeof(err));
	if (rc != -EINVAL)
		fail_msg("%s: accepted", url);
	if (strncmp(err, "url ", 4) != 0 || !strstr(err, want))
		fail_msg("%s: \"%s\" lacks \"%s\"", url, err, want);
}

static void url_ok(const struct push_target_policy *pol, const char *url)
{
	char err[256] = "";
	if (push_target_check_url(pol, url, 1023, err, sizeof(err)) != 0)
		fail_msg("%s: refused: %s", url, err);
}

static void test_urls(void **state)
{
	(void)state;
	struct push_target_policy strict = { .allow_private = false, .api = ip("127.0.0.1", 8080) };
	static const char *const loopbacks[] = {
		"http://127.0.0.1:9000/x", "http://127.1/", "http://0x7f.1/",
		"http://2130706433/",      "http://017700000001/", "http://127.0.0.1./",
		"http://[::1]:9000/",      "http://[::ffff:127.0.0.1]/", "https://[::ffff:7f00:1]/",
	};
	for (size_t i = 0; i < sizeof(loopbacks) / sizeof(loopbacks[0]); i++)
		url_refused(&strict, loopbacks[i], "loopback");
	url_refused(&strict, "http://169.254.169.254/latest/meta-data/", "link-local");
	url_refused(&strict, "http://[fe80::1%25eth0]/", "link-local");
	url_refused(&strict, "http://10.0.0.1/", "private");
	url_refused(&strict, "http://192.168.0.10:8443/", "private");
	url_refused(&strict, "http://[fd00::1]/", "private");
	url_refused(&strict, "http://0/", "unspecified");
	url_refused(&strict, "http://0.0.0.0:9000/", "unspecified");
	url_refused(&strict, "http://[::]/", "unspecified");
	url_refused(&strict, "http://127.0.0.1:8080/v5/iot/p1/devices", "own API");
	/* Credentials, always. */
	url_refused(&strict, "http://user:secret@app.example.com/", "user name or password");
	url_refused(&strict, "http://user@app.example.com/", "user name or password");
	url_refused(&strict, "http://:secret@app.example.com/", "user name or password");
	url_refused(&strict, "http://@app.example.com/", "user name or password");
	/* Not a URL push can use. */
	url_refused(&strict, "ftp://app.example.com/", "http:// or https://");
	url_refused(&strict, "http://app.example.com:99999/", "http:// or https://");
	url_refused(&strict, "http://app.example.com/a b", "http:// or https://");
	url_refused(&strict, NULL, "http:// or https://");
	/* Names are judged when connecting (push.c), public literals pass. */
	url_ok(&strict, "https://app.example.com/iot");
	url_ok(&strict, "http://localhost:9000/");
	url_ok(&strict, "http://93.184.216.34/iot");
	url_ok(&strict, "http://[2001:4860:4860::8888]:8080/");

	struct push_target_policy open = strict;
	open.allow_private = true;
	url_ok(&open, "http://127.0.0.1:9000/x");
	url_ok(&open, "http://0x7f.1:9000/");
	url_ok(&open, "http://169.254.169.254/");
	url_ok(&open, "http://[::1]:9000/");
	url_refused(&open, "http://127.0.0.1:8080/", "own API");
	url_refused(&open, "http://[::ffff:127.0.0.1]:8080/", "own API");
	url_refused(&open, "http://u:p@127.0.0.1:9000/", "user name or password");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_allow_private_but_not_self),
		cmocka_unit_test(test_urls),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
