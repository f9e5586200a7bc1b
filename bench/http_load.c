/*
 * http_load: the REST API load generator of the device-management benchmark.
 *
 * C keep-alive HTTP/1.1 connections to the daemon's API, driven by one thread with epoll;
 * each connection has one request in flight (no pipelining) and sends the next as soon as
 * the answer is in. Request k goes to device k % N, so consecutive requests of one
 * connection name different devices. Each request's latency (first byte out to last byte
 * in) goes into a histogram. Just enough HTTP, as in api_create: a GET out, a status
 * line, headers and a Content-Length body in. Only libc.
 *
 *   http_load --api IPV4:PORT --route health|device|lwm2m|command|list [--token T]
 *             [--project P] [--product P] [--prefix P] [--path 3/0/9] [--query Q]
 *             [--devices N] [--requests R] [--connections C] [--expect STR]
 *             [--timeout-s S] [--max-seconds S] [--name NAME] [--random 0|1]
 *             [--walk 0|1] [--spread N]
 *
 * The routes: health is GET /health (no store, no device: the API's own floor); device is
 * GET /v5/iot/P/devices/<product>_<prefix><i> (one SQLite read); lwm2m is GET
 * .../devices/<id>/lwm2m/<path>[?<query>] (a CoAP request to the device and its answer);
 * command is POST .../devices/<id>/async-commands with the water meter's SET_INTERVAL
 * (docs/api.md "Commands"; interval 1 + k % 65535, send_strategy immediately).
 * list is GET /v5/iot/P/devices?<query> (default limit=50): with --walk 1 each connection
 * follows the answers' page.marker (appending &marker=M) and starts again at the first
 * page after the last; --spread N starts connection c's walk at the creation order's
 * marker r<c*N/C> instead (a fleet of N rowids, so that the connections read different
 * parts of it). --random 1 sends request k to a device drawn from k (a fixed
 * pseudo-random sequence) instead of k % N.
 * A request is ok when the answer is 200 (201 for command) and, with --expect, its body
 * contains STR (for a Read: "code":"2.05"). Prints one line of key=value pairs (see bench/README.md) and exits
 * 0 when every request was ok.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bench_common.h"

#define CONNECTIONS_MAX 1024u
#define DEVICES_MAX 10000000u
#define REQUESTS_MAX 100000000u
#define ARG_MAX_LEN 256
#define REQ_MAX 2048
/* A whole answer (headers and body) must fit here; a Read of /3/0 is under 1 KB, a page
 * of the device list about 400 bytes a device (so up to ~600 a page). */
#define RESP_BUF (256 * 1024)
/* A page's marker (the longest is a 256-byte name in hex and a node_id). */
#define MARKER_MAX 640
#define EPOLL_BATCH 256
#define WAIT_MS 100
/* Failures whose details are printed; later ones are only counted. */
#define FAILURES_SHOWN 5
#define BODY_SHOWN 200
#define NS_PER_US 1000ull
#define NS_PER_S 1000000000ull


enum route { ROUTE_HEALTH, ROUTE_DEVICE, ROUTE_LWM2M, ROUTE_COMMAND, ROUTE_LIST };

struct options {
	struct sockaddr_in api;
	const char *api_text;
	enum route route;
	const char *route_text;
	const char *token;
	const char *project;
	const char *product;
	const char *prefix;
	const char *path;
	const char *query;
	const char *expect;
	const char *name;
	uint32_t devices;
	uint32_t requests;
	uint32_t connections;
	uint32_t timeout_s;
	uint32_t max_seconds;
	uint32_t random;  /* device k drawn pseudo-randomly, not k % N */
	uint32_t walk;    /* list: follow page.marker */
	uint32_t spread;  /* list: connection c starts at marker r<c * spread / C> */
};

struct conn {
	int fd;
	bool busy;          /* a request is in flight */
	uint64_t start_ns;  /* when it was sent */
	size_t len;         /* bytes in buf */
	char marker[MARKER_MAX + 1]; /* list --walk: where the next page starts, "" = first */
	char buf[RESP_BUF + 1];
};


struct load {
	struct options opt;
	int epfd;
	struct conn *conns;
	uint64_t issued;
	uint64_t ok;
	uint64_t err;    /* answered, but not 200 with the expected body */
	uint64_t lost;   /* no answer: the connection broke or the request timed out */
	uint64_t reconnects;
	uint64_t walks_ended; /* list --walk: pages without a marker (a walk's last) */
	uint64_t shown;
	uint64_t status[6]; /* answers by status class, 1xx..5xx */
	struct hist lat;
};


/* Opens (blocking connect: loopback, quick) and registers connection c. Returns 0 or
 * -errno. */
static int conn_open(struct load *ld, struct conn *c, uint32_t index)
{
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return -errno;
	int on = 1;
	(void)setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	if (connect(c->fd, (const struct sockaddr *)&ld->opt.api, sizeof(ld->opt.api)) < 0) {
		int err = -errno;
		close(c->fd);
		c->fd = -1;
		return err;
	}
	struct epoll_event ev = {.events = EPOLLIN, .data.u32 = index};
	if (epoll_ctl(ld->epfd, EPOLL_CTL_ADD, c->fd, &ev) < 0) {
		int err = -errno;
		close(c->fd);
		c->fd = -1;
		return err;
	}
	c->busy = false;
	c->len = 0;
	return 0;
}

static void conn_close(struct conn *c)
{
	if (c->fd >= 0)
		close(c->fd); /* closing also removes it from the epoll set */
	c->fd = -1;
	c->busy = false;
	c->len = 0;
}

/* splitmix64: a fixed pseudo-random sequence, so that runs ask for the same devices. */
static uint64_t mix(uint64_t x)
{
	x += 0x9E3779B97F4A7C15ull;
	x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
	x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
	return x ^ (x >> 31);
}

/* Writes request k's text into buf (marker: a list page's, "" for the first). Returns its
 * length or -ENOBUFS. */
static int format_request(const struct options *o, uint64_t k, const char *marker, char *buf,
			  size_t cap)
{
	char target[REQ_MAX / 2];
	uint32_t dev = (uint32_t)((o->random ? mix(k) : k) % o->devices);
	int n;
	switch (o->route) {
	case ROUTE_HEALTH:
		n = snprintf(target, sizeof(target), "/health");
		break;
	case ROUTE_LIST:
		n = snprintf(target, sizeof(target), "/v5/iot/%s/devices?%s%s%s", o->project,
			     o->query ? o->query : "limit=50", marker[0] ? "&marker=" : "", marker);
		break;
	case ROUTE_DEVICE:
		n = snprintf(target, sizeof(target), "/v5/iot/%s/devices/%s_%s%06" PRIu32,
			     o->project, o->product, o->prefix, dev);
		break;
	case ROUTE_COMMAND:
		n = snprintf(target, sizeof(target),
			     "/v5/iot/%s/devices/%s_%s%06" PRIu32 "/async-commands", o->project,
			     o->product, o->prefix, dev);
		break;
	default:
		n = snprintf(target, sizeof(target), "/v5/iot/%s/devices/%s_%s%06" PRIu32
			     "/lwm2m/%s%s%s", o->project, o->product, o->prefix, dev, o->path,
			     o->query ? "?" : "", o->query ? o->query : "");
		break;
	}
	if (n < 0 || (size_t)n >= sizeof(target))
		return -ENOBUFS;
	if (o->route == ROUTE_COMMAND) {
		char body[256];
		int blen = snprintf(body, sizeof(body),
				    "{\"service_id\":\"WaterMeter\",\"command_name\":\"SET_INTERVAL\","
				    "\"paras\":{\"interval\":%u},\"send_strategy\":\"immediately\"}",
				    (unsigned)(1 + k % 65535));
		if (blen < 0 || (size_t)blen >= sizeof(body))
			return -ENOBUFS;
		n = snprintf(buf, cap,
			     "POST %s HTTP/1.1\r\nHost: %s\r\nX-Auth-Token: %s\r\n"
			     "Content-Type: application/json\r\nContent-Length: %d\r\n"
			     "Connection: keep-alive\r\n\r\n%s",
			     target, o->api_text, o->token ? o->token : "", blen, body);
		return n > 0 && (size_t)n < cap ? n : -ENOBUFS;
	}
	n = snprintf(buf, cap,
		     "GET %s HTTP/1.1\r\nHost: %s\r\nX-Auth-Token: %s\r\n"
		     "Connection: keep-alive\r\n\r\n",
		     target, o->api_text, o->token ? o->token : "");
	return n > 0 && (size_t)n < cap ? n : -ENOBUFS;
}

static void failure(struct load *ld, const char *what, const char *body, size_t len)
{
	if (ld->shown++ >= FAILURES_SHOWN)
		return;
	int show = len < BODY_SHOWN ? (int)len : BODY_SHOWN;
	fprintf(stderr, "http_load: %s%s%.*s\n", what, show ? ": " : "", show, body ? body : "");
}

/* Sends the next request on c, if any is left. Returns 0, or -errno (c is broken). */
static int conn_issue(struct load *ld, struct conn *c)
{
	if (ld->issued >= ld->opt.requests)
		return 0;
	char req[REQ_MAX];
	int n = format_request(&ld->opt, ld->issued, c->marker, req, sizeof(req));
	if (n < 0)
		return n;
	ld->issued++;
	c->busy = true;
	c->len = 0;
	c->start_ns = now_ns();
	/* A request is a few hundred bytes: the socket buffer of a fresh or idle connection
	 * takes it whole. */
	ssize_t w = send(c->fd, req, (size_t)n, MSG_NOSIGNAL);
	if (w != n) {
		ld->lost++;
		c->busy = false;
		failure(ld, "send failed", NULL, 0);
		return w < 0 ? -errno : -EIO;
	}
	return 0;
}

/* The value of header name in the header block h (NUL terminated), or NULL. */
static const char *header_value(const char *h, const char *name)
{
	size_t nlen = strlen(name);
	for (const char *line = strstr(h, "\r\n"); line && line[2] != '\r';
	     line = strstr(line + 2, "\r\n")) {
		const char *l = line + 2;
		if (strncasecmp(l, name, nlen) == 0 && l[nlen] == ':') {
			const char *v = l + nlen + 1;
			while (*v == ' ' || *v == '\t')
				v++;
			return v;
		}
	}
	return NULL;
}

/* The three-digit status code at s, or 0. */
static int parse_status(const char *s)
{
	if (s[0] < '1' || s[0] > '5' || s[1] < '0' || s[1] > '9' || s[2] < '0' || s[2] > '9')
		return 0;
	return (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
}

/* Has c's buffer a whole answer? Returns 1 (and sets *status, *body, *body_len, *close),
 * 0 for not yet, -EPROTO for what this client does not understand. */
static int answer_complete(struct conn *c, int *status, const char **body, size_t *body_len,
			   bool *close_after)
{
	c->buf[c->len] = '\0';
	char *end = strstr(c->buf, "\r\n\r\n");
	if (end == NULL)
		return c->len >= RESP_BUF ? -EPROTO : 0;
	if (strncmp(c->buf, "HTTP/1.", 7) != 0 || c->len < 12)
		return -EPROTO;
	*status = parse_status(c->buf + 9);
	end[2] = '\0'; /* the header block, for header_value */
	const char *cl = header_value(c->buf, "Content-Length");
	const char *conn = header_value(c->buf, "Connection");
	end[2] = '\r';
	if (cl == NULL)
		return -EPROTO;
	char *stop;
	unsigned long long len = strtoull(cl, &stop, 10);
	size_t head = (size_t)(end + 4 - c->buf);
	if (stop == cl || len > RESP_BUF - head)
		return -EPROTO;
	if (c->len < head + len)
		return 0;
	*close_after = conn != NULL && strncasecmp(conn, "close", 5) == 0;
	*body = c->buf + head;
	*body_len = (size_t)len;
	return 1;
}

/* list --walk: the page's marker becomes the connection's next, or the walk starts over. */
static void next_marker(struct load *ld, struct conn *c, const char *body, size_t len)
{
	static const char key[] = "\"marker\":\"";
	const char *m = memmem(body, len, key, sizeof(key) - 1);
	c->marker[0] = '\0';
	if (m == NULL) {
		ld->walks_ended++;
		return;
	}
	m += sizeof(key) - 1;
	const char *end = memchr(m, '"', len - (size_t)(m - body));
	if (end == NULL || end - m > MARKER_MAX) {
		failure(ld, "a marker not understood", m, len - (size_t)(m - body));
		return;
	}
	memcpy(c->marker, m, (size_t)(end - m));
	c->marker[end - m] = '\0';
}

/* Reads what connection k has; completes its request when the answer is whole. */
static void on_readable(struct load *ld, uint32_t k)
{
	struct conn *c = &ld->conns[k];
	if (c->fd < 0)
		return;
	ssize_t n = recv(c->fd, c->buf + c->len, RESP_BUF - c->len, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		/* Closed or broken: what was in flight is lost; open a fresh connection. */
		if (c->busy) {
			ld->lost++;
			failure(ld, n == 0 ? "connection closed by the server" : "recv failed",
				NULL, 0);
		}
		conn_close(c);
		ld->reconnects++;
		if (conn_open(ld, c, k) == 0 && conn_issue(ld, c) < 0)
			conn_close(c);
		return;
	}
	c->len += (size_t)n;
	if (!c->busy) {
		c->len = 0; /* nothing asked: ignore */
		return;
	}
	int status = 0;
	const char *body = NULL;
	size_t body_len = 0;
	bool close_after = false;
	int rc = answer_complete(c, &status, &body, &body_len, &close_after);
	if (rc == 0)
		return;
	uint64_t now = now_ns();
	if (rc < 0) {
		ld->err++;
		failure(ld, "answer not understood", c->buf, c->len);
		close_after = true;
	} else {
		ld->status[status / 100]++;
		bool ok = status == (ld->opt.route == ROUTE_COMMAND ? 201 : 200) &&
			  (ld->opt.expect == NULL ||
			   memmem(body, body_len, ld->opt.expect, strlen(ld->opt.expect)) != NULL);
		if (ok) {
			ld->ok++;
			hist_add(&ld->lat, (now - c->start_ns) / NS_PER_US);
			if (ld->opt.walk)
				next_marker(ld, c, body, body_len);
		} else {
			char what[32];
			snprintf(what, sizeof(what), "HTTP %d", status);
			ld->err++;
			failure(ld, what, body, body_len);
		}
	}
	c->busy = false;
	c->len = 0;
	if (close_after) {
		conn_close(c);
		ld->reconnects++;
		if (conn_open(ld, c, k) < 0)
			return;
	}
	if (conn_issue(ld, c) < 0)
		conn_close(c);
}

/* Gives up on requests older than the timeout (their connection is replaced). */
static void check_timeouts(struct load *ld, uint64_t now)
{
	uint64_t limit = (uint64_t)ld->opt.timeout_s * NS_PER_S;
	for (uint32_t k = 0; k < ld->opt.connections; k++) {
		struct conn *c = &ld->conns[k];
		if (!c->busy || now - c->start_ns < limit)
			continue;
		ld->lost++;
		failure(ld, "no answer within the timeout", NULL, 0);
		conn_close(c);
		ld->reconnects++;
		if (conn_open(ld, c, k) == 0 && conn_issue(ld, c) < 0)
			conn_close(c);
	}
}

static uint32_t busy_count(const struct load *ld)
{
	uint32_t n = 0;
	for (uint32_t k = 0; k < ld->opt.connections; k++)
		n += ld->conns[k].busy ? 1 : 0;
	return n;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: http_load --api IPV4:PORT --route health|device|lwm2m|command|list\n"
		"                 [--token T] [--project P] [--product P] [--prefix P]\n"
		"                 [--path 3/0/9] [--query Q] [--devices N] [--requests R]\n"
		"                 [--connections C] [--expect STR] [--timeout-s S]\n"
		"                 [--max-seconds S] [--name NAME] [--random 0|1] [--walk 0|1]\n"
		"                 [--spread N]\n");
}

static int parse_options(int argc, char **argv, struct options *o)
{
	*o = (struct options){
		.project = "bench",
		.product = "bench",
		.prefix = "bench",
		.path = "3/0/9",
		.devices = 1000,
		.requests = 10000,
		.connections = 64,
		.timeout_s = 60,
		.max_seconds = 300,
	};
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (v == NULL)
			return -EINVAL;
		i++;
		int rc = strlen(v) < ARG_MAX_LEN ? 0 : -EINVAL;
		if (rc < 0) {
			/* every text option is bounded */
		} else if (strcmp(a, "--api") == 0) {
			o->api_text = v;
			rc = parse_target(v, &o->api);
		} else if (strcmp(a, "--route") == 0) {
			o->route_text = v;
			if (strcmp(v, "health") == 0)
				o->route = ROUTE_HEALTH;
			else if (strcmp(v, "device") == 0)
				o->route = ROUTE_DEVICE;
			else if (strcmp(v, "lwm2m") == 0)
				o->route = ROUTE_LWM2M;
			else if (strcmp(v, "command") == 0)
				o->route = ROUTE_COMMAND;
			else if (strcmp(v, "list") == 0)
				o->route = ROUTE_LIST;
			else
				rc = -EINVAL;
		} else if (strcmp(a, "--token") == 0) {
			o->token = v;
		} else if (strcmp(a, "--project") == 0) {
			o->project = v;
		} else if (strcmp(a, "--product") == 0) {
			o->product = v;
		} else if (strcmp(a, "--prefix") == 0) {
			o->prefix = v;
		} else if (strcmp(a, "--path") == 0) {
			o->path = v;
		} else if (strcmp(a, "--query") == 0) {
			o->query = v;
		} else if (strcmp(a, "--expect") == 0) {
			o->expect = v;
		} else if (strcmp(a, "--name") == 0) {
			o->name = v;
		} else if (strcmp(a, "--devices") == 0) {
			rc = parse_u32(v, 1, DEVICES_MAX, &o->devices);
		} else if (strcmp(a, "--requests") == 0) {
			rc = parse_u32(v, 1, REQUESTS_MAX, &o->requests);
		} else if (strcmp(a, "--connections") == 0) {
			rc = parse_u32(v, 1, CONNECTIONS_MAX, &o->connections);
		} else if (strcmp(a, "--timeout-s") == 0) {
			rc = parse_u32(v, 1, 3600, &o->timeout_s);
		} else if (strcmp(a, "--max-seconds") == 0) {
			rc = parse_u32(v, 1, 86400, &o->max_seconds);
		} else if (strcmp(a, "--random") == 0) {
			rc = parse_u32(v, 0, 1, &o->random);
		} else if (strcmp(a, "--walk") == 0) {
			rc = parse_u32(v, 0, 1, &o->walk);
		} else if (strcmp(a, "--spread") == 0) {
			rc = parse_u32(v, 0, DEVICES_MAX, &o->spread);
		} else {
			rc = -EINVAL;
		}
		if (rc < 0) {
			fprintf(stderr, "http_load: bad %s '%s'\n", a, v);
			return rc;
		}
	}
	if (o->api_text == NULL || o->route_text == NULL)
		return -EINVAL;
	if (o->name == NULL)
		o->name = o->route_text;
	return 0;
}

int main(int argc, char **argv)
{
	static struct load ld;
	if (parse_options(argc, argv, &ld.opt) < 0) {
		usage();
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	const struct options *o = &ld.opt;
	int status = 1;
	ld.epfd = epoll_create1(EPOLL_CLOEXEC);
	ld.conns = calloc(o->connections, sizeof(*ld.conns));
	if (ld.epfd < 0 || ld.conns == NULL) {
		fprintf(stderr, "http_load: out of resources\n");
		goto cleanup;
	}
	for (uint32_t k = 0; k < o->connections; k++) {
		ld.conns[k].fd = -1;
		if (o->walk && o->spread)
			snprintf(ld.conns[k].marker, sizeof(ld.conns[k].marker), "r%" PRIu64,
				 (uint64_t)k * o->spread / o->connections);
	}
	for (uint32_t k = 0; k < o->connections; k++) {
		int rc = conn_open(&ld, &ld.conns[k], k);
		if (rc < 0) {
			fprintf(stderr, "http_load: connect to %s: %s\n", o->api_text,
				strerror(-rc));
			goto cleanup;
		}
	}
	uint64_t start = now_ns();
	uint64_t stop = start + (uint64_t)o->max_seconds * NS_PER_S;
	bool aborted = false;
	for (uint32_t k = 0; k < o->connections; k++) {
		if (conn_issue(&ld, &ld.conns[k]) < 0)
			conn_close(&ld.conns[k]);
	}
	struct epoll_event events[EPOLL_BATCH];
	for (;;) {
		if (busy_count(&ld) == 0) {
			if (ld.issued >= o->requests)
				break;
			/* Every connection broke: try to open them again, once per round. */
			uint32_t open = 0;
			for (uint32_t k = 0; k < o->connections; k++) {
				struct conn *c = &ld.conns[k];
				if (c->fd < 0 && conn_open(&ld, c, k) < 0)
					continue;
				if (conn_issue(&ld, c) < 0)
					conn_close(c);
				else
					open++;
			}
			if (open == 0) {
				fprintf(stderr, "http_load: cannot reach %s, giving up\n", o->api_text);
				aborted = true;
				break;
			}
		}
		uint64_t now = now_ns();
		if (now >= stop) {
			fprintf(stderr, "http_load: out of time, giving up on the rest\n");
			aborted = true;
			break;
		}
		int n = epoll_wait(ld.epfd, events, EPOLL_BATCH, WAIT_MS);
		for (int k = 0; k < n; k++)
			on_readable(&ld, events[k].data.u32);
		check_timeouts(&ld, now_ns());
	}
	uint64_t end = now_ns();
	uint64_t unanswered = o->requests - ld.ok - ld.err - ld.lost;
	double secs = (double)(end - start) / 1e9;
	printf("phase=http name=%s route=%s devices=%u connections=%u requests=%u ok=%" PRIu64
	       " err=%" PRIu64 " lost=%" PRIu64 " seconds=%.3f rps=%.0f p50_us=%" PRIu64
	       " p90_us=%" PRIu64 " p99_us=%" PRIu64 " p999_us=%" PRIu64 " max_us=%" PRIu64
	       " http_2xx=%" PRIu64 " http_4xx=%" PRIu64 " http_5xx=%" PRIu64
	       " reconnects=%" PRIu64 " walks_ended=%" PRIu64 " aborted=%d\n",
	       o->name, o->route_text, o->devices, o->connections, o->requests, ld.ok, ld.err,
	       ld.lost + unanswered, secs, secs > 0 ? (double)ld.ok / secs : 0.0,
	       hist_quantile(&ld.lat, 0.50), hist_quantile(&ld.lat, 0.90),
	       hist_quantile(&ld.lat, 0.99), hist_quantile(&ld.lat, 0.999), ld.lat.max,
	       ld.status[2], ld.status[4], ld.status[5], ld.reconnects, ld.walks_ended,
	       aborted ? 1 : 0);
	fflush(stdout);
	status = ld.ok == o->requests ? 0 : 1;
cleanup:
	if (ld.conns != NULL) {
		for (uint32_t k = 0; k < o->connections; k++)
			conn_close(&ld.conns[k]);
	}
	free(ld.conns);
	if (ld.epfd >= 0)
		close(ld.epfd);
	return status;
}
