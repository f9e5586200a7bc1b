/*
 * Integration test: the daemon serves the web console from its own binary on the API's
 * port — `/` and `/console` redirect to `/console/`, files carry a strong ETag and come
 * back 304 when unchanged, gzipped to a browser that accepts it, HTML pages a strict Content-Security-Policy, and every answer
 * (the API's too) nosniff and no framing; and GET /v5/token, with which the console signs
 * in from a token alone.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

static struct daemon_proc d;

/* The length of raw()'s last answer (a gzipped body holds NULs). */
static size_t raw_len;

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
	raw_len = got;
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

struct writer {
	pthread_t thread;
	atomic_bool stop;
	int n;
};

/* Creates devices as fast as it can: every loop turn then has writes to commit. */
static void *write_devices(void *arg)
{
	struct writer *w = arg;
	char req[512], body[128], out[4096];
	while (!atomic_load(&w->stop)) {
		int bl = snprintf(body, sizeof(body), "{\"node_id\":\"load-%d\",\"product_id\":\"p\"}",
				  w->n++);
		snprintf(req, sizeof(req),
			 "POST /v5/iot/p1/devices HTTP/1.1\r\nHost: x\r\nX-Auth-Token: %s\r\n"
			 "Content-Length: %d\r\nConnection: close\r\n\r\n%s",
			 d.token, bl, body);
		int fd = tcp_connect_from(&d.http, NULL, 3000);
		if (fd < 0)
			break;
		if (write(fd, req, strlen(req)) > 0)
			while (read(fd, out, sizeof(out)) > 0)
				;
		close(fd);
	}
	return NULL;
}

/* Console files are never held for the store's commit, whatever else the turn wrote (a
 * held answer is kept as JSON: a file held with it came back as a JSON 500). */
static void test_files_while_the_store_writes(void **state)
{
	(void)state;
	daemon_start(&d, NULL);
	api_create_product(&d, "p");
	struct writer w = {.n = 0};
	pthread_create(&w.thread, NULL, write_devices, &w);
	char out[65536], v[128];
	int bad = 0;
	for (int i = 0; i < 300; i++) {
		int status = raw("GET /console/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
				 out, sizeof(out));
		if (status != 200 || header(out, "Content-Type", v, sizeof(v)) != 0 ||
		    strcmp(v, "text/html; charset=utf-8") != 0)
			bad++;
	}
	atomic_store(&w.stop, true);
	pthread_join(w.thread, NULL);
	print_message("300 console loads beside %d device creations: %d wrong\n", w.n, bad);
	assert_true(w.n > 0);
	assert_int_equal(bad, 0);
	daemon_stop(&d);
	daemon_cleanup(&d);
}

/* The body of raw()'s last answer, written to a file in the daemon's directory; its path. */
static void save_body(const char *answer, const char *name, char *path, size_t cap)
{
	const char *body = strstr(answer, "\r\n\r\n");
	assert_non_null(body);
	body += 4;
	snprintf(path, cap, "%s/%s", d.dir, name);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(body, 1, raw_len - (size_t)(body - answer), f),
			 raw_len - (size_t)(body - answer));
	fclose(f);
}

/* What GET /console/app.js answers with this Accept-Encoding: the status, and whether it
 * came gzipped. */
static int get_app_js(const char *accept, char *out, size_t cap, bool *gzipped)
{
	char req[256], v[64];
	snprintf(req, sizeof(req),
		 "GET /console/app.js HTTP/1.1\r\nHost: x\r\nAccept-Encoding: %s\r\n"
		 "Connection: close\r\n\r\n",
		 accept);
	int status = raw(req, out, cap);
	*gzipped = header(out, "Content-Encoding", v, sizeof(v)) == 0 && strcmp(v, "gzip") == 0;
	return status;
}

/* A browser that accepts gzip gets the file gzipped (the same bytes once unzipped), under
 * its own ETag and with Vary; "q=0" refuses gzip, and a client that names none gets the
 * file as it is. */
static void test_files_gzipped_when_accepted(void **state)
{
	(void)state;
	daemon_start(&d, NULL);
	static char plain[262144], zipped[262144];
	char v[128], etag[128], req[512], plain_path[600], zipped_path[600], cmd[1400];
	bool gz;

	assert_int_equal(raw("GET /console/app.js HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
			     plain, sizeof(plain)),
			 200);
	assert_int_not_equal(header(plain, "Content-Encoding", v, sizeof(v)), 0);
	assert_int_equal(header(plain, "Vary", v, sizeof(v)), 0);
	assert_string_equal(v, "Accept-Encoding");
	save_body(plain, "plain.js", plain_path, sizeof(plain_path));
	size_t plain_len = raw_len;

	assert_int_equal(get_app_js("gzip, deflate, br", zipped, sizeof(zipped), &gz), 200);
	assert_true(gz);
	assert_true(raw_len < plain_len);
	assert_int_equal(header(zipped, "Vary", v, sizeof(v)), 0);
	assert_int_equal(header(zipped, "Content-Type", v, sizeof(v)), 0);
	assert_string_equal(v, "text/javascript; charset=utf-8");
	save_body(zipped, "zipped.js.gz", zipped_path, sizeof(zipped_path));
	snprintf(cmd, sizeof(cmd), "gzip -dc '%s' | cmp -s - '%s'", zipped_path, plain_path);
	assert_int_equal(system(cmd), 0);

	/* Its ETag is not the plain file's; each revalidates as itself. */
	assert_int_equal(header(zipped, "ETag", etag, sizeof(etag)), 0);
	assert_int_equal(header(plain, "ETag", v, sizeof(v)), 0);
	assert_string_not_equal(etag, v);
	snprintf(req, sizeof(req),
		 "GET /console/app.js HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n"
		 "If-None-Match: %s\r\nConnection: close\r\n\r\n",
		 etag);
	assert_int_equal(raw(req, zipped, sizeof(zipped)), 304);
	snprintf(req, sizeof(req),
		 "GET /console/app.js HTTP/1.1\r\nHost: x\r\nIf-None-Match: %s\r\n"
		 "Connection: close\r\n\r\n",
		 etag);
	assert_int_equal(raw(req, zipped, sizeof(zipped)), 200);

	static const struct {
		const char *accept;
		bool gzipped;
	} cases[] = {
		{"*", true},
		{"x-gzip", true},
		{"GZIP ; q=0.5", true},
		{"br;q=1, gzip", true},
		{"gzip;q=0.001", true},
		{"gzip;q=0", false},
		{"gzip; q=0.000", false},
		{"br, gzip;q=0.", false},
		{"identity", false},
		{"gzipped", false},
		{"deflate, br", false},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(get_app_js(cases[i].accept, zipped, sizeof(zipped), &gz), 200);
		if (gz != cases[i].gzipped)
			fail_msg("Accept-Encoding: %s answered %s", cases[i].accept,
				 gz ? "gzipped" : "plain");
	}
	daemon_stop(&d);
	daemon_cleanup(&d);
}

/* The console signs in with a token alone: GET /v5/token names the token's project (and
 * the token's id), each token its own; no token or an unknown one is a 401. */
static void test_token_names_its_project(void **state)
{
	(void)state;
	daemon_start(&d, NULL);
	char other[80], resp[512];
	daemon_token_create(&d, "elsewhere", other);

	/* With the token's id (12 hex characters), never the token. */
	assert_int_equal(http_call(&d, "GET", "/v5/token", NULL, resp, sizeof(resp)), 200);
	/* The answer ends with a newline, as every JSON answer does. */
	assert_int_equal(strlen(resp), strlen("{\"project_id\":\"p1\",\"token_id\":\"\"}\n") + 12);
	assert_in(resp, "{\"project_id\":\"p1\",\"token_id\":\"");
	assert_int_equal(http_call_auth(&d, "GET", "/v5/token", NULL, other, resp, sizeof(resp)),
			 200);
	assert_in(resp, "{\"project_id\":\"elsewhere\",\"token_id\":\"");
	assert_int_equal(http_call_auth(&d, "GET", "/v5/token", NULL, "not-a-token", resp,
					sizeof(resp)),
			 401);
	assert_non_null(strstr(resp, "X-Auth-Token is not valid"));
	assert_int_equal(http_call_auth(&d, "GET", "/v5/token", NULL, NULL, resp, sizeof(resp)),
			 401);
	assert_int_equal(http_call(&d, "DELETE", "/v5/token", NULL, resp, sizeof(resp)), 405);
	daemon_stop(&d);
	daemon_cleanup(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_console_served),
		cmocka_unit_test(test_files_while_the_store_writes),
		cmocka_unit_test(test_token_names_its_project),
		cmocka_unit_test(test_files_gzipped_when_accepted),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
