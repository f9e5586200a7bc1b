/*
 * Tests of lwm2m_link: the link-format parser on what real clients send (Wakaama, Anjay,
 * Leshan's client, the OMA spec examples), malformed payloads, LwM2M paths, and the
 * Register payload check.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lwm2m/lwm2m_link.h"

struct collected {
	int count;
	char uris[8][32];
	size_t attrs[8];
};

static int collect(const struct lwm2m_link *link, void *ctx)
{
	struct collected *c = ctx;
	if (c->count < 8) {
		size_t n = link->uri_len < 31 ? link->uri_len : 31;
		memcpy(c->uris[c->count], link->uri, n);
		c->uris[c->count][n] = '\0';
		c->attrs[c->count] = link->attr_count;
	}
	c->count++;
	return 0;
}

static int parse_str(const char *s, struct collected *c)
{
	memset(c, 0, sizeof(*c));
	return lwm2m_link_parse(s, strlen(s), collect, c);
}

static void test_parse_spec_example(void **state)
{
	(void)state;
	/* OMA-TS-LightweightM2M_Core 1.1 §6.2.1 example payload. */
	struct collected c;
	assert_int_equal(parse_str("</>;rt=\"oma.lwm2m\";ct=11543,</1/0>,</3/0>,</4/0>,</5>", &c),
			 0);
	assert_int_equal(c.count, 5);
	assert_string_equal(c.uris[0], "/");
	assert_int_equal(c.attrs[0], 2);
	assert_string_equal(c.uris[4], "/5");
	assert_int_equal(c.attrs[4], 0);
}

static int first_link_attrs(const struct lwm2m_link *link, void *ctx)
{
	const char **want = ctx;
	const char *v;
	size_t n;
	assert_int_equal(lwm2m_link_find_attr(link, "rt", &v, &n), 0);
	assert_int_equal(n, strlen(want[0]));
	assert_memory_equal(v, want[0], n);
	assert_int_equal(lwm2m_link_find_attr(link, "ver", &v, &n), 0);
	assert_int_equal(n, 3);
	assert_memory_equal(v, "1.1", 3);
	assert_int_equal(lwm2m_link_find_attr(link, "obs", &v, &n), 0);
	assert_null(v);
	assert_int_equal(lwm2m_link_find_attr(link, "ct", &v, &n), -ENOENT);
	return 1; /* stop after the first */
}

static void test_attributes(void **state)
{
	(void)state;
	const char *want[] = { "oma.lwm2m" };
	const char *s = "</>; rt=\"oma.lwm2m\";ver=1.1;obs, </3/0>";
	/* The callback's non-zero return stops the walk and is returned. */
	assert_int_equal(lwm2m_link_parse(s, strlen(s), first_link_attrs, want), 1);
}

static void test_whitespace_tolerated(void **state)
{
	(void)state;
	struct collected c;
	assert_int_equal(parse_str("  </1/0>, </3/0>,\n</5/0> \r\n", &c), 0);
	assert_int_equal(c.count, 3);
	assert_string_equal(c.uris[2], "/5/0");
}

static void test_malformed(void **state)
{
	(void)state;
	const char *bad[] = {
		"",                       /* empty */
		"   ",                    /* only spaces */
		"/3/0",                   /* no '<' */
		"</3/0",                  /* unterminated URI */
		"</3/0>,",                /* trailing ',' */
		"</3/0>,,</4/0>",         /* empty link */
		"</3/0>x",                /* garbage after a link */
		"</3/0>;",                /* empty attribute */
		"</3/0>;=1",              /* attribute without a name */
		"</3/0>;ct=",             /* empty value */
		"</3/0>;rt=\"oma.lwm2m",  /* unterminated quoted string */
		"<</3/0>",                /* '<' inside the URI */
		"</3 /0>",                /* space inside the URI */
		"</3/0>;a;b;c;d;e;f;g;h;i;j;k;l;m;n;o;p;q", /* 17 attributes */
	};
	struct collected c;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = parse_str(bad[i], &c);
		if (rc != -EBADMSG)
			fail_msg("\"%s\": got %d", bad[i], rc);
	}
	/* 16 attributes is the limit, not an error. */
	assert_int_equal(parse_str("</3/0>;a;b;c;d;e;f;g;h;i;j;k;l;m;n;o;p", &c), 0);
	assert_int_equal(c.attrs[0], 16);
	/* A payload with embedded NUL is refused at the NUL. */
	const char nul[] = "</3/0>\0,</4/0>";
	assert_int_equal(lwm2m_link_parse(nul, sizeof(nul) - 1, collect, &c), -EBADMSG);
	/* No payload at all, as a Register without one gives it (coap_msg's payload is NULL):
	 * the parser did NULL + 0 first, undefined behaviour that clang's UBSan reports
	 * (found by fuzz_uplink; gcc's sanitizer says nothing, so this test alone cannot). */
	assert_int_equal(lwm2m_link_parse(NULL, 0, collect, &c), -EBADMSG);
	struct lwm2m_reg_links r;
	assert_int_equal(lwm2m_reg_links_check(NULL, 0, &r), -EBADMSG);
}

static void test_paths(void **state)
{
	(void)state;
	struct lwm2m_path p;
	char buf[32];
	assert_int_equal(lwm2m_path_parse("/", 1, &p), 0);
	assert_int_equal(p.len, 0);
	assert_int_equal(lwm2m_path_format(&p, buf, sizeof(buf)), 1);
	assert_string_equal(buf, "/");

	assert_int_equal(lwm2m_path_parse("/3/0/1/65534", 12, &p), 0);
	assert_int_equal(p.len, 4);
	assert_int_equal(p.ids[0], 3);
	assert_int_equal(p.ids[3], 65534);
	assert_int_equal(lwm2m_path_format(&p, buf, sizeof(buf)), 12);
	assert_string_equal(buf, "/3/0/1/65534");
	/* Too small a buffer. */
	assert_int_equal(lwm2m_path_format(&p, buf, 12), -ENOBUFS);

	const char *bad[] = { "", "3/0", "/3/", "//3", "/3//0", "/65535", "/123456",
			      "/-1", "/+1", "/a", "/3/0/1/2/3", "/3 " };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (lwm2m_path_parse(bad[i], strlen(bad[i]), &p) != -EINVAL)
			fail_msg("\"%s\" parsed", bad[i]);
	}
}

static void test_reg_links_check(void **state)
{
	(void)state;
	struct lwm2m_reg_links r;
	const char *s = "</>;rt=\"oma.lwm2m\";ct=11543,</1/0>,</3/0>,</3303>;ver=1.1";
	assert_int_equal(lwm2m_reg_links_check(s, strlen(s), &r), 0);
	assert_string_equal(r.alt_path, "");
	assert_int_equal(r.object_count, 3);
	assert_int_equal(r.content_format, 11543);

	/* An alternate path, and LwM2M 1.1's list of content formats. */
	s = "</lwm2m>;rt=\"oma.lwm2m\";ct=\"60 110 112 11542\",</lwm2m/1/0>,</lwm2m/3/0>";
	assert_int_equal(lwm2m_reg_links_check(s, strlen(s), &r), 0);
	assert_string_equal(r.alt_path, "/lwm2m");
	assert_int_equal(r.object_count, 2);
	assert_int_equal(r.content_format, 60);

	/* Without the root link. */
	s = "</1/0>,</3/0>";
	assert_int_equal(lwm2m_reg_links_check(s, strlen(s), &r), 0);
	assert_int_equal(r.object_count, 2);
	assert_int_equal(r.content_format, -1);

	const char *bad[] = {
		"</3/0/1>",                                /* a resource link */
		"</3/a>",                                  /* non-numeric */
		"</65535>",                                /* id out of range */
		"</foo>",                                  /* not a path */
		"</lwm2m>;rt=\"oma.lwm2m\",</3/0>",        /* object outside the alternate path */
		"</>;rt=\"oma.lwm2m\",</>;rt=\"oma.lwm2m\"", /* two roots */
		"</3/0>,</>;rt=\"oma.lwm2m\"",             /* root after objects */
		"</>;rt=\"oma.lwm2m\";ct=abc,</3/0>",      /* bad ct */
		"</3/0",                                   /* malformed */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (lwm2m_reg_links_check(bad[i], strlen(bad[i]), &r) != -EBADMSG)
			fail_msg("\"%s\" accepted", bad[i]);
	}
}

static void test_random_bytes(void **state)
{
	(void)state;
	const char alphabet[] = "<>/;,=\"0123 abc\\";
	uint32_t seed = 7;
	char buf[48];
	struct collected c;
	struct lwm2m_reg_links r;
	for (int round = 0; round < 200000; round++) {
		seed = seed * 1103515245u + 12345u;
		size_t len = (seed >> 16) % sizeof(buf);
		for (size_t i = 0; i < len; i++) {
			seed = seed * 1103515245u + 12345u;
			buf[i] = alphabet[(seed >> 16) % (sizeof(alphabet) - 1)];
		}
		memset(&c, 0, sizeof(c));
		int rc = lwm2m_link_parse(buf, len, collect, &c);
		assert_true(rc == 0 || rc == -EBADMSG);
		rc = lwm2m_reg_links_check(buf, len, &r);
		assert_true(rc == 0 || rc == -EBADMSG);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_spec_example), cmocka_unit_test(test_attributes),
		cmocka_unit_test(test_whitespace_tolerated), cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_paths),		     cmocka_unit_test(test_reg_links_check),
		cmocka_unit_test(test_random_bytes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
