/*
 * Integration tests of events bigger than a few KiB on the event stream (docs/api.md
 * "Events"): a device registering with 6 KiB of object links (block-wise, through the
 * project's simulator) shows up whole; one whose links would not fit a stream's 64 KiB
 * buffer shows up with object_links cut and "truncated":["object_links"].
 */
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

#define BIG_LINKS_MAX 65536

static struct daemon_proc d;

static int teardown(void **state)
{
	(void)state;
	daemon_cleanup(&d);
	memset(&d, 0, sizeof(d));
	return 0;
}

/* An event stream read with its chunked transfer coding undone. */
struct sse {
	int fd;
	char raw[1 << 18];
	size_t raw_len, raw_pos; /* bytes received; parsed up to */
	size_t chunk_left;       /* of the current chunk */
	char body[1 << 18];      /* the events, NUL-terminated */
	size_t body_len;
};

static void sse_open(struct sse *s)
{
	char req[256];
	memset(s, 0, sizeof(*s));
	s->fd = tcp_connect_from(&d.http, NULL, 3000);
	assert_true(s->fd >= 0);
	int n = snprintf(req, sizeof(req),
			 "GET /v5/iot/p1/events HTTP/1.1\r\nHost: x\r\nX-Auth-Token: %s\r\n\r\n",
			 d.token);
	assert_int_equal(write(s->fd, req, (size_t)n), n);
}

/* Moves what whole chunks hold from raw to body. */
static void sse_dechunk(struct sse *s)
{
	if (s->raw_pos == 0) {
		char *end = strstr(s->raw, "\r\n\r\n");
		if (!end)
			return;
		s->raw_pos = (size_t)(end + 4 - s->raw);
	}
	while (s->raw_pos < s->raw_len) {
		if (s->chunk_left == 0) {
			char *eol = strstr(s->raw + s->raw_pos, "\r\n");
			if (!eol)
				return;
			s->chunk_left = strtoul(s->raw + s->raw_pos, NULL, 16);
			s->raw_pos = (size_t)(eol + 2 - s->raw);
			if (s->chunk_left == 0)
				return; /* the last chunk */
			s->chunk_left += 2; /* its CRLF */
		}
		size_t n = s->raw_len - s->raw_pos;
		if (n > s->chunk_left)
			n = s->chunk_left;
		size_t data = s->chunk_left > 2 ? s->chunk_left - 2 : 0;
		size_t copy = n < data ? n : data;
		assert_true(s->body_len + copy < sizeof(s->body));
		memcpy(s->body + s->body_len, s->raw + s->raw_pos, copy);
		s->body_len += copy;
		s->body[s->body_len] = '\0';
		s->raw_pos += n;
		s->chunk_left -= n;
	}
}

static int sse_wait(struct sse *s, const char *needle, int timeout_ms)
{
	for (int64_t end = mono_ms() + timeout_ms; mono_ms() < end;) {
		if (strstr(s->body, needle))
			return 0;
		struct pollfd p = {.fd = s->fd, .events = POLLIN};
		if (poll(&p, 1, 50) != 1)
			continue;
		ssize_t n = read(s->fd, s->raw + s->raw_len, sizeof(s->raw) - 1 - s->raw_len);
		if (n <= 0)
			break;
		s->raw_len += (size_t)n;
		s->raw[s->raw_len] = '\0';
		sse_dechunk(s);
	}
	return strstr(s->body, needle) ? 0 : -1;
}

/* Object links of about len bytes: "</3303/0>,</3303/1>,...". */
static void make_links(char *out, size_t len)
{
	size_t n = (size_t)snprintf(out, len, "</1/0>,</3/0>");
	for (int i = 0; n + 16 < len; i++)
		n += (size_t)snprintf(out + n, len - n, ",</%d/%d>", 3303 + i / 60000, i % 60000);
}

/* Registers node_id with links through the simulator (block-wise when they are big). */
static void sim_register(const char *node_id, const char *links)
{
	char path[400], cmd[1024], addr[ADDR_STR_MAX], out[1024];
	snprintf(path, sizeof(path), "%s/links-%s", d.dir, node_id);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(links, f);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "%s --server %s --ep %s --lifetime 300 --objects \"$(cat %s)\"",
		 sim_bin(), addr_format(&d.coap, addr), node_id, path);
	int rc = run_command(cmd, out, sizeof(out), 20);
	if (rc != 0 || !strstr(out, "registered rd/"))
		fail_msg("the simulator did not register %s: %s", node_id, out);
}

static void test_large_registration(void **state)
{
	(void)state;
	static struct sse s;
	static char links[BIG_LINKS_MAX], want[BIG_LINKS_MAX + 64];
	const char *args[] = {"--max-body", "1024", NULL};
	daemon_start(&d, args);
	api_create_product(&d, "meter");
	api_create_device(&d, "meter", "big01", false, 0);
	api_create_device(&d, "meter", "big02", false, 0);
	sse_open(&s);
	assert_int_equal(sse_wait(&s, ": lwm2md events", 3000), 0);

	/* 6 KiB of links: the event comes whole. */
	make_links(links, 6 * 1024);
	sim_register("big01", links);
	snprintf(want, sizeof(want), "\"object_links\":\"%s\"", links);
	assert_int_equal(sse_wait(&s, "\"device_id\":\"meter_big01\"", 5000), 0);
	assert_int_equal(sse_wait(&s, want, 2000), 0);
	assert_null(strstr(s.body, "truncated"));

	/* 65,500 bytes: more than a stream holds with the rest of the event. Cut, and said so. */
	make_links(links, 65500);
	sim_register("big02", links);
	if (sse_wait(&s, "\"device_id\":\"meter_big02\"", 5000) != 0)
		fail_msg("no event: truncated %lld, too big %lld; %zu bytes of events, raw %zu",
			 metric_value(&d, "lwm2md_http_events_truncated_total"),
			 metric_value(&d, "lwm2md_http_events_too_big_total"), s.body_len, s.raw_len);
	assert_int_equal(sse_wait(&s, "\"truncated\":[\"object_links\"]}\n\n", 3000), 0);
	char *event = strstr(s.body, "event: registration\ndata: {\"event\":\"registration\","
				     "\"device_id\":\"meter_big02\"");
	assert_non_null(event);
	char *end = strstr(event, "\n\n");
	assert_non_null(end);
	assert_true(end - event < 64 * 1024);
	/* What is kept is the links' beginning. */
	char *value = strstr(event, "\"object_links\":\"");
	assert_non_null(value);
	value += strlen("\"object_links\":\"");
	assert_int_equal(strncmp(value, links, 1000), 0);
	assert_true(end - value > 60000);
	assert_int_equal(metric_value(&d, "lwm2md_http_events_truncated_total"), 1);
	assert_int_equal(metric_value(&d, "lwm2md_http_events_too_big_total"), 0);

	/* The stream goes on. */
	int fd = coap_socket("127.0.0.1:0");
	char id[32];
	api_create_device(&d, "meter", "small01", false, 0);
	assert_int_equal(coap_register(fd, &d.coap, "small01", "300", "</3/0>", id),
			 COAP_CODE_CREATED);
	assert_int_equal(sse_wait(&s, "\"device_id\":\"meter_small01\"", 3000), 0);
	close(fd);
	close(s.fd);
	daemon_stop(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_large_registration, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
