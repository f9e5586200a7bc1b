/*
 * Integration test: firmware packages (docs/firmware.md "Packages") against the real
 * daemon — a 5 MiB upload streamed to disk (its SHA-256 and size as computed here, the
 * file under the firmware directory, the daemon's peak RSS not grown by the upload's
 * size), the limit (413 declared up front, 413 mid-stream for a chunked body, no
 * temporary file left), 409 for a version taken, 404 for an unknown product, 400 for
 * malformed queries, 401 without a token, list and get, delete removing the file, a
 * package surviving a restart, and an upload that keeps flowing past the request
 * deadline.
 */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <mbedtls/sha256.h>

#include "harness.h"

#define MIB (1024 * 1024)
#define UPLOAD_BYTES (5 * MIB)
#define MAX_BYTES (6 * MIB)
#define RSS_GROWTH_MAX_KB 2048

static const char *const args[] = {"--firmware-max-bytes", "6291456", NULL};

static void fill(uint8_t *buf, size_t len, uint32_t seed)
{
	for (size_t i = 0; i < len; i++) {
		seed = seed * 1103515245u + 12345u;
		buf[i] = (uint8_t)(seed >> 16);
	}
}

static void sha_hex(const uint8_t *data, size_t len, char out[65])
{
	uint8_t d[32];
	mbedtls_sha256_ret(data, len, d, 0);
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static long vm_hwm_kb(pid_t pid)
{
	char path[64], line[256];
	long kb = -1;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, "VmHWM:", 6) == 0)
			kb = strtol(line + 6, NULL, 10);
	if (f)
		fclose(f);
	return kb;
}

static void fw_dir(const struct daemon_proc *d, char *out, size_t cap)
{
	snprintf(out, cap, "%s.firmware", d->db);
}

/* Files of the firmware directory: all, and of them the temporary ones. */
static int dir_files(const struct daemon_proc *d, int *temporary)
{
	char dir[400];
	fw_dir(d, dir, sizeof(dir));
	DIR *dh = opendir(dir);
	int n = 0;
	*temporary = 0;
	if (!dh)
		return 0;
	for (struct dirent *e; (e = readdir(dh));) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		n++;
		*temporary += e->d_name[0] == '.';
	}
	closedir(dh);
	return n;
}

static int connect_api(struct daemon_proc *d)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	struct sockaddr_storage ss;
	size_t sl = addr_to_sockaddr(&d->http, &ss);
	if (connect(fd, (struct sockaddr *)&ss, (socklen_t)sl) != 0)
		fail_msg("connect to the API: %s", strerror(errno));
	return fd;
}

static void send_all(int fd, const void *data, size_t len)
{
	const uint8_t *p = data;
	while (len > 0) {
		ssize_t w = send(fd, p, len, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			fail_msg("send: %s", strerror(errno));
		p += w;
		len -= (size_t)w;
	}
}

/* Reads the answer until the daemon closes: its status, the body into resp. */
static int read_answer(int fd, char *resp, size_t cap)
{
	static char raw[65536];
	size_t got = 0;
	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, 20000) <= 0)
			fail_msg("the API did not answer");
		ssize_t r = read(fd, raw + got, sizeof(raw) - 1 - got);
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	raw[got] = '\0';
	int status = 0;
	if (sscanf(raw, "HTTP/1.%*d %d", &status) != 1)
		fail_msg("not an HTTP response: %.80s", raw);
	const char *b = strstr(raw, "\r\n\r\n");
	if (resp && cap)
		snprintf(resp, cap, "%s", b ? b + 4 : "");
	return status;
}

/*
 * POSTs len bytes to path in pieces of piece bytes, pause_ms apart: with Content-Length,
 * or chunked (Transfer-Encoding) when chunked. Returns the status.
 */
static int upload(struct daemon_proc *d, const char *path, const uint8_t *data, size_t len,
		  bool chunked, size_t piece, int pause_ms, char *resp, size_t cap)
{
	char head[1024], size_line[32];
	int fd = connect_api(d);
	int n = snprintf(head, sizeof(head),
			 "POST %s HTTP/1.1\r\nHost: localhost\r\nX-Auth-Token: %s\r\n"
			 "Content-Type: application/octet-stream\r\nConnection: close\r\n",
			 path, d->token);
	if (chunked)
		n += snprintf(head + n, sizeof(head) - (size_t)n,
			      "Transfer-Encoding: chunked\r\n\r\n");
	else
		n += snprintf(head + n, sizeof(head) - (size_t)n, "Content-Length: %zu\r\n\r\n",
			      len);
	send_all(fd, head, (size_t)n);
	for (size_t off = 0; off < len; off += piece) {
		size_t k = len - off < piece ? len - off : piece;
		if (chunked) {
			int s = snprintf(size_line, sizeof(size_line), "%zx\r\n", k);
			send_all(fd, size_line, (size_t)s);
		}
		send_all(fd, data + off, k);
		if (chunked)
			send_all(fd, "\r\n", 2);
		if (pause_ms)
			usleep((useconds_t)pause_ms * 1000);
	}
	if (chunked)
		send_all(fd, "0\r\n\r\n", 5);
	return read_answer(fd, resp, cap);
}

static const char *str_of(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	if (!s)
		fail_msg("no string %s", key);
	return s;
}

/* Uploads, expecting 201: the package's JSON (the caller decrefs). */
static json_t *upload_ok(struct daemon_proc *d, const char *query, const uint8_t *data,
			 size_t len)
{
	char path[512], resp[4096];
	snprintf(path, sizeof(path), "/v5/iot/p1/firmware?%s", query);
	int status = upload(d, path, data, len, false, 64 * 1024, 0, resp, sizeof(resp));
	if (status != 201)
		fail_msg("upload %s: %d %s", query, status, resp);
	json_t *o = json_loads(resp, 0, NULL);
	assert_non_null(o);
	return o;
}

static void test_upload_big_package(void **state)
{
	(void)state;
	struct daemon_proc d;
	char want[65], path[512], resp[8192];
	struct stat st;
	int tmp;

	daemon_start(&d, args);
	api_create_product(&d, "meter");
	uint8_t *data = malloc(UPLOAD_BYTES);
	assert_non_null(data);
	fill(data, UPLOAD_BYTES, 7);
	sha_hex(data, UPLOAD_BYTES, want);

	/* A small upload first, so that the peak before counts the route's own memory. */
	json_t *small = upload_ok(&d, "product_id=meter&version=0.9", data, 100000);
	json_decref(small);
	long hwm_before = vm_hwm_kb(d.pid);
	json_t *p = upload_ok(&d, "product_id=meter&version=1.2.0&description=first%20one",
			      data, UPLOAD_BYTES);
	long hwm_after = vm_hwm_kb(d.pid);
	assert_true(hwm_before > 0 && hwm_after > 0);
	print_message("peak RSS %ld KiB before, %ld KiB after a %d KiB upload\n", hwm_before,
		      hwm_after, UPLOAD_BYTES / 1024);
	if (hwm_after - hwm_before >= RSS_GROWTH_MAX_KB)
		fail_msg("peak RSS grew by %ld KiB for a %d KiB upload", hwm_after - hwm_before,
			 UPLOAD_BYTES / 1024);

	assert_string_equal(str_of(p, "sha256"), want);
	assert_int_equal(json_integer_value(json_object_get(p, "size")), UPLOAD_BYTES);
	assert_string_equal(str_of(p, "product_id"), "meter");
	assert_string_equal(str_of(p, "version"), "1.2.0");
	assert_string_equal(str_of(p, "description"), "first one");
	assert_int_equal(strlen(str_of(p, "create_time")), 16); /* 20261203T101500Z */
	char id[64];
	snprintf(id, sizeof(id), "%s", str_of(p, "package_id"));

	/* The file, named by the hash, holds the bytes. */
	char dir[400];
	fw_dir(&d, dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/%s", dir, want);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, UPLOAD_BYTES);
	assert_int_equal(dir_files(&d, &tmp), 2);
	assert_int_equal(tmp, 0);

	/* Get and list (newest first; by product). */
	snprintf(path, sizeof(path), "/v5/iot/p1/firmware/%s", id);
	assert_int_equal(http_call(&d, "GET", path, NULL, resp, sizeof(resp)), 200);
	json_t *g = json_loads(resp, 0, NULL);
	assert_non_null(g);
	assert_string_equal(str_of(g, "sha256"), want);
	json_decref(g);
	assert_int_equal(http_call(&d, "GET", "/v5/iot/p1/firmware", NULL, resp, sizeof(resp)),
			 200);
	json_t *l = json_loads(resp, 0, NULL);
	assert_non_null(l);
	assert_int_equal(json_integer_value(json_object_get(l, "count")), 2);
	assert_string_equal(str_of(json_array_get(json_object_get(l, "packages"), 0),
				   "version"), "1.2.0");
	json_decref(l);
	api_create_product(&d, "tracker");
	assert_int_equal(http_call(&d, "GET", "/v5/iot/p1/firmware?product_id=tracker", NULL,
				   resp, sizeof(resp)), 200);
	assert_non_null(strstr(resp, "\"count\":0"));
	assert_int_equal(http_call(&d, "GET", "/v5/iot/p1/firmware/nope", NULL, resp,
				   sizeof(resp)), 404);

	/* It survives a restart, row and file. */
	daemon_stop(&d);
	daemon_restart(&d, args);
	assert_int_equal(http_call(&d, "GET", path, NULL, resp, sizeof(resp)), 200);
	assert_non_null(strstr(resp, want));

	/* The same bytes as another version share the file; the file goes with the last. */
	json_t *again = upload_ok(&d, "product_id=tracker&version=1.2.0", data, UPLOAD_BYTES);
	assert_string_equal(str_of(again, "sha256"), want);
	assert_int_equal(dir_files(&d, &tmp), 2);
	assert_int_equal(http_call(&d, "DELETE", path, NULL, resp, sizeof(resp)), 204);
	snprintf(path, sizeof(path), "%s/%s", dir, want);
	assert_int_equal(stat(path, &st), 0); /* tracker's 1.2.0 has the same bytes */
	char path2[512];
	snprintf(path2, sizeof(path2), "/v5/iot/p1/firmware/%s", str_of(again, "package_id"));
	assert_int_equal(http_call(&d, "DELETE", path2, NULL, resp, sizeof(resp)), 204);
	assert_int_equal(stat(path, &st), -1);
	assert_int_equal(http_call(&d, "DELETE", path2, NULL, resp, sizeof(resp)), 404);
	assert_int_equal(dir_files(&d, &tmp), 1); /* 0.9 */

	json_decref(again);
	json_decref(p);
	free(data);
	daemon_stop(&d); /* exits 0: under ASan, no leak */
	daemon_cleanup(&d);
}

static void test_refusals(void **state)
{
	(void)state;
	struct daemon_proc d;
	char resp[4096];
	int tmp;
	static uint8_t data[100000];

	daemon_start(&d, args);
	api_create_product(&d, "meter");
	fill(data, sizeof(data), 9);
	json_t *p = upload_ok(&d, "product_id=meter&version=1.0", data, sizeof(data));
	json_decref(p);

	/* Version taken: 409, refused before the body; nothing new on disk. */
	assert_int_equal(upload(&d, "/v5/iot/p1/firmware?product_id=meter&version=1.0", data,
				sizeof(data), false, 8192, 0, resp, sizeof(resp)), 409);
	assert_int_equal(upload(&d, "/v5/iot/p1/firmware?product_id=ghost&version=1.0", data,
				sizeof(data), false, 8192, 0, resp, sizeof(resp)), 404);
	assert_non_null(strstr(resp, "product ghost not found"));

	/* Malformed queries. */
	static const char *const bad[] = {
		"product_id=meter",                         /* no version */
		"version=2.0",                              /* no product */
		"product_id=meter&version=",                /* empty version */
		"product_id=meter&version=2%200",           /* a space */
		"product_id=meter&version=2%C3%A9",         /* not ASCII */
		"product_id=meter&version=2%00",            /* a NUL */
		"product_id=me%2Fter&version=2",            /* not an id */
		"product_id=meter&version=2&version=3",     /* twice */
		("product_id=meter&version="
		 "12345678901234567890123456789012345678901234567890123456789012345"), /* 65 */
		"product_id=meter&version=2&description=%FF", /* not UTF-8 */
	};
	char path[512];
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(path, sizeof(path), "/v5/iot/p1/firmware?%s", bad[i]);
		int status = upload(&d, path, data, 1000, false, 1000, 0, resp, sizeof(resp));
		if (status != 400)
			fail_msg("%s: %d %s", bad[i], status, resp);
	}
	/* 64 characters is a version. */
	p = upload_ok(&d, "product_id=meter&version="
			  "1234567890123456789012345678901234567890123456789012345678901234",
		      data, 1000);
	json_decref(p);

	/* Without a token, or another project's path. */
	assert_int_equal(http_call_auth(&d, "POST", "/v5/iot/p1/firmware?product_id=meter&"
				       "version=9", "x", NULL, resp, sizeof(resp)), 401);
	assert_int_equal(http_call_auth(&d, "GET", "/v5/iot/p1/firmware", NULL, NULL, resp,
					sizeof(resp)), 401);
	assert_int_equal(http_call_type(&d, "POST", "/v5/iot/p2/firmware?product_id=meter&"
				       "version=9", "application/octet-stream", "x", 1, resp,
				       sizeof(resp)), 404);
	/* An empty body is no package. */
	assert_int_equal(http_call_type(&d, "POST", "/v5/iot/p1/firmware?product_id=meter&"
				       "version=9", "application/octet-stream", NULL, 0, resp,
				       sizeof(resp)), 400);
	assert_int_equal(dir_files(&d, &tmp), 2);
	assert_int_equal(tmp, 0);
	daemon_stop(&d); /* exits 0: under ASan, no leak */
	daemon_cleanup(&d);
}

static void test_over_limit(void **state)
{
	(void)state;
	struct daemon_proc d;
	char resp[4096], head[512];
	int tmp;

	daemon_start(&d, args);
	api_create_product(&d, "meter");
	size_t len = MAX_BYTES + 1;
	uint8_t *data = malloc(len);
	assert_non_null(data);
	fill(data, len, 11);

	/* Declared too large: refused before a byte of the body. */
	int fd = connect_api(&d);
	int n = snprintf(head, sizeof(head),
			 "POST /v5/iot/p1/firmware?product_id=meter&version=2 HTTP/1.1\r\n"
			 "Host: localhost\r\nX-Auth-Token: %s\r\nContent-Length: %zu\r\n\r\n",
			 d.token, len);
	send_all(fd, head, (size_t)n);
	assert_int_equal(read_answer(fd, resp, sizeof(resp)), 413);

	/* Chunked, so nobody knew: refused once it passed, the partial file removed. */
	assert_int_equal(upload(&d, "/v5/iot/p1/firmware?product_id=meter&version=2", data, len,
				true, 256 * 1024, 0, resp, sizeof(resp)), 413);
	assert_non_null(strstr(resp, "larger than 6291456"));
	assert_int_equal(dir_files(&d, &tmp), 0);
	assert_int_equal(tmp, 0);
	/* Exactly the limit, chunked, is fine. */
	json_t *p = NULL;
	assert_int_equal(upload(&d, "/v5/iot/p1/firmware?product_id=meter&version=2", data,
				MAX_BYTES, true, 256 * 1024, 0, resp, sizeof(resp)), 201);
	p = json_loads(resp, 0, NULL);
	assert_non_null(p);
	assert_int_equal(json_integer_value(json_object_get(p, "size")), MAX_BYTES);
	json_decref(p);
	assert_int_equal(dir_files(&d, &tmp), 1);
	free(data);
	daemon_stop(&d); /* exits 0: under ASan, no leak */
	daemon_cleanup(&d);
}

/* A request deadline of 1 s; an upload of 3 s that keeps flowing is not cut, while an
 * ordinary request that slow would be. */
static void test_upload_outlives_request_deadline(void **state)
{
	(void)state;
	struct daemon_proc d;
	char resp[4096];
	static const char *const slow[] = {"--http-request-timeout", "1", NULL};
	static uint8_t data[12 * 128 * 1024];

	daemon_start(&d, slow);
	api_create_product(&d, "meter");
	fill(data, sizeof(data), 13);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	int status = upload(&d, "/v5/iot/p1/firmware?product_id=meter&version=slow", data,
			    sizeof(data), false, 128 * 1024, 250, resp, sizeof(resp));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (status != 201)
		fail_msg("slow upload: %d %s", status, resp);
	assert_true(t1.tv_sec - t0.tv_sec >= 2);
	/* A trickle that brings less than the floor in a deadline is ended (408). */
	int fd = connect_api(&d);
	char head[512];
	int n = snprintf(head, sizeof(head),
			 "POST /v5/iot/p1/firmware?product_id=meter&version=trickle HTTP/1.1\r\n"
			 "Host: localhost\r\nX-Auth-Token: %s\r\nContent-Length: 100000\r\n\r\n",
			 d.token);
	send_all(fd, head, (size_t)n);
	for (int i = 0; i < 6; i++) {
		if (send(fd, data, 100, MSG_NOSIGNAL) <= 0)
			break;
		usleep(500 * 1000);
	}
	assert_int_equal(read_answer(fd, resp, sizeof(resp)), 408);
	/* MHD closes it on its next turn, and the temporary file goes with it. */
	int tmp = -1;
	for (int i = 0; i < 100 && dir_files(&d, &tmp) >= 0 && tmp != 0; i++)
		usleep(20 * 1000);
	assert_int_equal(tmp, 0);
	assert_int_equal(dir_files(&d, &tmp), 1);
	daemon_stop(&d); /* exits 0: under ASan, no leak */
	daemon_cleanup(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_upload_big_package),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_over_limit),
		cmocka_unit_test(test_upload_outlives_request_deadline),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
