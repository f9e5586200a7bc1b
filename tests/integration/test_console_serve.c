/*
 * Integration test: the daemon serves the web console from its own binary on the API's
 * port — `/` and `/console` redirect to `/console/`, files carry a strong ETag and come
 * back 304 when unchanged, HTML pages a strict Content-Security-Policy, and every answer
 * (the API's too) nosniff and no framing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

static struct daemon_proc d;

/* One raw request; the whole answer (head and body) into out. Returns the status. */
static int raw(const char *request, char *out, size_t cap)
{
	int fd = tcp_connect_from(&d.http, NULL, 3000);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, request, strlen(request)), (ssize_t)strlen(request));
	size_t got = 0;
	for (;;) {
		ssize_t n = read(fd, out + got, cap - 1 - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	out[got] = '\0';
	int status = 0;
	sscanf(out, "HTTP/1.1 %d", &status);
	return status;
}

/* The value of header name in a raw answer, into value; 0 or -1. */
static int header(const char *answer, const char *name, char *value, size_t cap)
{
	size_t n = strlen(name);
	for (const char *p = strstr(answer, "\r\n"); p && p[2] != '\r'; p = strstr(p + 2, "\r\n")) {
		if (strncasecmp(p + 2, name, n) == 0 && p[2 + n] == ':') {
			const char *v = p + 2 + n + 1;
			while (*v == ' ')
				v++;
			size_t len = strcspn(v, "\r");
			snprintf(value, cap, "%.*s", (int)len, v);
			return 0;
		}
	}
	return -1;
}

static void test_console_served(void **state)
{
	(void)state;
	daemon_start(&d, NULL);
	char out[65536], v[512], req[512];

	assert_int_equal(raw("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", out,
			     sizeof(out)),
			 302);
	assert_int_equal(header(out, "Location", v, sizeof(v)), 0);
	assert_string_equal(v, "/console/");
	assert_int_equal(raw("GET /console HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
			     out, sizeof(out)),
			 302);

	assert_int_equal(raw("GET /console/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
			     out, sizeof(out)),
			 200);
	assert_int_equal(header(out, "Content-Type", v, sizeof(v)), 0);
	assert_string_equal(v, "text/html; charset=utf-8");
	assert_int_equal(header(out, "Content-Security-Policy", v, sizeof(v)), 0);
	assert_non_null(strstr(v, "script-src 'self'"));
	assert_null(strstr(v, "unsafe-inline"));
	assert_non_null(strstr(v, "frame-ancestors 'none'"));
	assert_int_equal(header(out, "X-Frame-Options", v, sizeof(v)), 0);
	assert_string_equal(v, "DENY");
	assert_int_equal(header(out, "X-Content-Type-Options", v, sizeof(v)), 0);
	assert_string_equal(v, "nosniff");
	assert_non_null(strstr(out, "<!doctype html>"));

	/* Unchanged: 304 without a body. */
	char etag[128];
	assert_int_equal(header(out, "ETag", etag, sizeof(etag)), 0);
	snprintf(req, sizeof(req),
		 "GET /console/index.html HTTP/1.1\r\nHost: x\r\nIf-None-Match: %s\r\n"
		 "Connection: close\r\n\r\n",
		 etag);
	assert_int_equal(raw(req, out, sizeof(out)), 304);
	assert_null(strstr(out, "<!doctype html>"));

	assert_int_equal(raw("GET /console/nothing.js HTTP/1.1\r\nHost: x\r\nConnection: "
			     "close\r\n\r\n",
			     out, sizeof(out)),
			 404);
	assert_int_equal(raw("POST /console/ HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n"
			     "Connection: close\r\n\r\n",
			     out, sizeof(out)),
			 405);
	assert_int_equal(header(out, "Allow", v, sizeof(v)), 0);

	/* The API's answers say nosniff and DENY too. */
	assert_int_equal(raw("GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", out,
			     sizeof(out)),
			 200);
	assert_int_equal(header(out, "X-Content-Type-Options", v, sizeof(v)), 0);
	assert_int_equal(header(out, "X-Frame-Options", v, sizeof(v)), 0);
	daemon_stop(&d);
	daemon_cleanup(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_console_served),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
