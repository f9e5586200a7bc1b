/*
 * api_create: creates the benchmark's devices through the REST API, fast.
 *
 * A curl process per device costs a fork, an exec and a TCP handshake each, which makes
 * setting up 100k devices take minutes. This opens one keep-alive HTTP/1.1 connection and
 * POSTs the devices one after another on it (reconnecting if the server closes it), with
 * just enough HTTP: a Content-Length body out, a status line, headers and a Content-Length
 * body in. Only libc.
 *
 *   api_create --api IPV4:PORT --token TOKEN [--project bench] [--product bench]
 *              [--prefix bench] [--devices N] [--start I] [--timeout-s S]
 *              [--secret HEX]   (secure_access devices with that secret, for DTLS)
 *              [--batch N]      (N devices per request through POST .../devices/batch,
 *                                1..1000; 0, the default: one POST .../devices each)
 *
 * With --batch the answer's totals are read ("created", "failed") and its item errors
 * with code IOTDA.000409 count as existing, as a single create's 409 does.
 *
 * Devices are named like lwm2m_load's: PREFIX followed by six zero-padded digits, from
 * --start on. Prints one line:
 *   phase=api_create devices=N created=N existed=0 failed=0 seconds=S per_second=R
 * and exits 0 when every device was created or already existed (HTTP 409).
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
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define DEVICES_MAX 10000000u
#define NAME_MAX_LEN 32
#define TOKEN_MAX_LEN 512
#define REQ_MAX 2048
/* Devices per bulk request at most: the server's limit (docs/api.md). */
#define BATCH_MAX 1000
/* One device of a bulk body at most (the single create's body below fits in 384). */
#define BATCH_ITEM_MAX 400
/* Response headers must fit here; bodies may be longer (the excess is skipped). */
#define RESP_BUF 16384
/* The start of an error body kept to show what went wrong. */
#define BODY_KEEP 300
/* Failures in a row after which the server is taken to be gone. */
#define FAILURES_IN_A_ROW_MAX 10
/* Failures whose details are printed; later ones are only counted. */
#define FAILURES_SHOWN 5

struct options {
	struct sockaddr_in api;
	const char *api_text;
	const char *token;
	const char *project;
	const char *product;
	const char *prefix;
	uint32_t devices;
	uint32_t start;
	uint32_t timeout_s;
	const char *secret; /* when set: secure_access devices with this secret (DTLS) */
	uint32_t batch;     /* devices per request through .../devices/batch; 0: one each */
};

struct conn {
	int fd;
	size_t len; /* bytes in buf not yet consumed */
	char buf[RESP_BUF];
};

struct response {
	int status;
	bool close; /* the server will close the connection after this response */
	size_t body_len;
	char body[BODY_KEEP + 1]; /* the start of the body, NUL terminated */
	/* The whole body, NUL terminated, when the caller asked for it (a bulk answer):
	 * malloc'd, kept across responses and grown as needed. */
	bool want_all;
	char *all;
	size_t all_cap;
};

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
	if (s == NULL || *s < '0' || *s > '9')
		return -EINVAL;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

static int parse_addr(const char *s, struct sockaddr_in *sin)
{
	char host[INET_ADDRSTRLEN];
	const char *colon = strrchr(s, ':');
	if (colon == NULL)
		return -EINVAL;
	size_t hlen = (size_t)(colon - s);
	if (hlen == 0 || hlen >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	uint32_t port;
	if (parse_u32(colon + 1, 1, 65535, &port) < 0)
		return -EINVAL;
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_port = htons((uint16_t)port);
	return inet_pton(AF_INET, host, &sin->sin_addr) == 1 ? 0 : -EINVAL;
}

/* Names go into the URL and the JSON unescaped, so only plain characters are allowed. */
static bool plain_name(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > NAME_MAX_LEN)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-'))
			return false;
	}
	return true;
}

static bool plain_token(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > TOKEN_MAX_LEN)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] <= ' ' || s[i] > '~')
			return false;
	}
	return true;
}

static void conn_close(struct conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->len = 0;
}

static int conn_open(struct conn *c, const struct options *o)
{
	conn_close(c);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* Every socket call is bounded in time: a hung server fails the run, not hangs it. */
	struct timeval tv = {.tv_sec = (time_t)o->timeout_s, .tv_usec = 0};
	int one = 1;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0 ||
	    connect(fd, (const struct sockaddr *)&o->api, sizeof(o->api)) < 0) {
		int err = -errno;
		close(fd);
		return err;
	}
	c->fd = fd;
	c->len = 0;
	return 0;
}

static int send_all(int fd, const char *buf, size_t len)
{
	size_t done = 0;
	while (done < len) {
		ssize_t n = send(fd, buf + done, len - done, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		done += (size_t)n;
	}
	return 0;
}

/* Reads more bytes into c->buf. Returns the count, or -errno; EOF is -ECONNRESET. */
static int fill(struct conn *c)
{
	if (c->len >= sizeof(c->buf))
		return -EMSGSIZE;
	for (;;) {
		/* A server that writes its response in pieces would otherwise wait for our
		 * delayed ACK (Nagle) for 40 ms per device. TCP_QUICKACK does not stick, so
		 * it is set before every read. */
		int one = 1;
		(void)setsockopt(c->fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
		ssize_t n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ? -ETIMEDOUT : -errno;
		if (n == 0)
			return -ECONNRESET;
		c->len += (size_t)n;
		return (int)n;
	}
}

static void consume(struct conn *c, size_t n)
{
	memmove(c->buf, c->buf + n, c->len - n);
	c->len -= n;
}

/* The value of header name in the header block [hdr, end), or NULL. *vlen is its length. */
static const char *find_header(const char *hdr, const char *end, const char *name,
			       size_t *vlen)
{
	size_t nlen = strlen(name);
	const char *line = hdr;
	while (line < end) {
		const char *eol = memchr(line, '\n', (size_t)(end - line));
		if (eol == NULL)
			eol = end;
		if ((size_t)(eol - line) > nlen && line[nlen] == ':' &&
		    strncasecmp(line, name, nlen) == 0) {
			const char *v = line + nlen + 1;
			const char *ve = eol;
			while (v < ve && (*v == ' ' || *v == '\t'))
				v++;
			while (ve > v && (ve[-1] == '\r' || ve[-1] == ' ' || ve[-1] == '\t'))
				ve--;
			*vlen = (size_t)(ve - v);
			return v;
		}
		line = eol + 1;
	}
	return NULL;
}

static bool value_is(const char *v, size_t vlen, const char *want)
{
	return v != NULL && vlen == strlen(want) && strncasecmp(v, want, vlen) == 0;
}

/* Reads one response: status line, headers, and a Content-Length body. Returns 0 or -errno
 * (-EPROTO for what this minimal parser does not handle, such as chunked bodies). */
static int read_response(struct conn *c, struct response *r)
{
	bool want_all = r->want_all;
	char *all = r->all;
	size_t all_cap = r->all_cap;
	memset(r, 0, sizeof(*r));
	r->want_all = want_all;
	r->all = all;
	r->all_cap = all_cap;
	char *hdr_end = NULL;
	while ((hdr_end = memmem(c->buf, c->len, "\r\n\r\n", 4)) == NULL) {
		int n = fill(c);
		if (n < 0)
			return n;
	}
	size_t hdr_len = (size_t)(hdr_end - c->buf) + 4;
	/* "HTTP/1.1 201 Created" */
	if (hdr_len < 12 || memcmp(c->buf, "HTTP/1.", 7) != 0 || c->buf[8] != ' ')
		return -EPROTO;
	r->status = 0;
	for (int k = 9; k < 12; k++) {
		if (c->buf[k] < '0' || c->buf[k] > '9')
			return -EPROTO;
		r->status = r->status * 10 + (c->buf[k] - '0');
	}
	bool http10 = c->buf[7] == '0';

	size_t vlen = 0;
	const char *v = find_header(c->buf, hdr_end + 2, "Transfer-Encoding", &vlen);
	if (v != NULL && !value_is(v, vlen, "identity"))
		return -EPROTO;
	v = find_header(c->buf, hdr_end + 2, "Connection", &vlen);
	r->close = http10 ? !value_is(v, vlen, "keep-alive") : value_is(v, vlen, "close");
	v = find_header(c->buf, hdr_end + 2, "Content-Length", &vlen);
	uint64_t body = 0;
	if (v != NULL) {
		if (vlen == 0 || vlen > 12)
			return -EPROTO;
		for (size_t k = 0; k < vlen; k++) {
			if (v[k] < '0' || v[k] > '9')
				return -EPROTO;
			body = body * 10 + (uint64_t)(v[k] - '0');
		}
	} else if (r->status != 204 && r->status != 304 && r->status >= 200) {
		/* A body delimited by the end of the connection is more than we handle. */
		return -EPROTO;
	}
	consume(c, hdr_len);
	r->body_len = (size_t)body;
	if (r->want_all) {
		if (body + 1 > r->all_cap) {
			char *p = realloc(r->all, (size_t)body + 1);
			if (p == NULL)
				return -ENOMEM;
			r->all = p;
			r->all_cap = (size_t)body + 1;
		}
		r->all[0] = '\0';
	}

	/* Keep the start of the body and skip the rest. */
	uint64_t left = body;
	while (left > 0) {
		if (c->len == 0) {
			int n = fill(c);
			if (n < 0)
				return n;
		}
		size_t take = c->len < left ? c->len : (size_t)left;
		size_t off = (size_t)(body - left);
		if (off < BODY_KEEP) {
			size_t keep = BODY_KEEP - off < take ? BODY_KEEP - off : take;
			memcpy(r->body + off, c->buf, keep);
		}
		if (r->want_all)
			memcpy(r->all + off, c->buf, take);
		consume(c, take);
		left -= take;
	}
	r->body[body < BODY_KEEP ? body : BODY_KEEP] = '\0';
	if (r->want_all)
		r->all[body] = '\0';
	return 0;
}

/* One device's JSON object into body (cap bytes). Returns its length, or -ENOBUFS. */
static int device_body(char *body, size_t cap, const struct options *o, uint32_t i)
{
	int blen = o->secret
			   ? snprintf(body, cap,
				      "{\"node_id\":\"%s%06" PRIu32 "\",\"product_id\":\"%s\","
				      "\"auth_info\":{\"secure_access\":true,\"secret\":\"%s\"}}",
				      o->prefix, i, o->product, o->secret)
			   : snprintf(body, cap,
				      "{\"node_id\":\"%s%06" PRIu32 "\",\"product_id\":\"%s\","
				      "\"auth_info\":{\"secure_access\":false,\"timeout\":0}}",
				      o->prefix, i, o->product);
	return blen < 0 || (size_t)blen >= cap ? -ENOBUFS : blen;
}

/* Sends req (len bytes) and reads its response, on a fresh connection once more if the
 * kept-alive one was closed meanwhile. Returns 0 with r filled, or -errno. */
static int exchange(struct conn *c, const struct options *o, const char *req, size_t len,
		    struct response *r)
{
	/* A kept-alive connection may have been closed by the server meanwhile: one fresh
	 * connection and one more try. A request that got no response at all was not
	 * acted on as far as we can tell; a 409 on the retry is counted as existing. */
	int rc = -ENOTCONN;
	for (int attempt = 0; attempt < 2; attempt++) {
		if (c->fd < 0) {
			rc = conn_open(c, o);
			if (rc < 0)
				return rc;
		}
		rc = send_all(c->fd, req, len);
		if (rc == 0)
			rc = read_response(c, r);
		if (rc == 0) {
			if (r->close)
				conn_close(c);
			return 0;
		}
		conn_close(c);
		if (rc == -EPROTO || rc == -ETIMEDOUT)
			return rc;
	}
	return rc;
}

/* POSTs one device. Returns 0 with r filled, or -errno when no response came. */
static int post_device(struct conn *c, const struct options *o, uint32_t i, struct response *r)
{
	char body[384];
	int blen = device_body(body, sizeof(body), o, i);
	if (blen < 0)
		return blen;
	char req[REQ_MAX];
	int len = snprintf(req, sizeof(req),
			   "POST /v5/iot/%s/devices HTTP/1.1\r\n"
			   "Host: %s\r\n"
			   "X-Auth-Token: %s\r\n"
			   "Content-Type: application/json\r\n"
			   "Content-Length: %d\r\n"
			   "\r\n"
			   "%s",
			   o->project, o->api_text, o->token, blen, body);
	if (len < 0 || (size_t)len >= sizeof(req))
		return -ENOBUFS;
	return exchange(c, o, req, (size_t)len, r);
}

/* POSTs devices first..first+n-1 in one bulk request; req is the caller's buffer of
 * REQ_MAX + n * BATCH_ITEM_MAX bytes. Returns 0 with r filled, or -errno. */
static int post_batch(struct conn *c, const struct options *o, uint32_t first, uint32_t n,
		      char *req, size_t cap, struct response *r)
{
	/* The body goes after room for the headers, which are written once its length is
	 * known and then moved up against it. */
	char *body = req + REQ_MAX;
	size_t bcap = cap - REQ_MAX, blen = 0;
	blen += (size_t)snprintf(body, bcap, "{\"devices\":[");
	for (uint32_t k = 0; k < n; k++) {
		if (k > 0)
			body[blen++] = ',';
		int m = device_body(body + blen, bcap - blen - 3, o, first + k);
		if (m < 0)
			return m;
		blen += (size_t)m;
	}
	memcpy(body + blen, "]}", 3);
	blen += 2;
	char hdr[REQ_MAX];
	int hlen = snprintf(hdr, sizeof(hdr),
			    "POST /v5/iot/%s/devices/batch HTTP/1.1\r\n"
			    "Host: %s\r\n"
			    "X-Auth-Token: %s\r\n"
			    "Content-Type: application/json\r\n"
			    "Content-Length: %zu\r\n"
			    "\r\n",
			    o->project, o->api_text, o->token, blen);
	if (hlen < 0 || (size_t)hlen >= sizeof(hdr))
		return -ENOBUFS;
	memcpy(body - hlen, hdr, (size_t)hlen);
	return exchange(c, o, body - hlen, (size_t)hlen + blen, r);
}

/* A number after "key": in text, or -1. */
static long long json_number_after(const char *text, const char *key)
{
	const char *p = strstr(text, key);
	if (p == NULL)
		return -1;
	p += strlen(key);
	if (*p < '0' || *p > '9')
		return -1;
	return strtoll(p, NULL, 10);
}

static size_t count_occurrences(const char *text, const char *needle)
{
	size_t n = 0;
	for (const char *p = strstr(text, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: api_create --api IPV4:PORT --token TOKEN [--project P] [--product P]\n"
		"                  [--prefix P] [--devices N] [--start I] [--timeout-s S]\n"
		"                  [--secret HEX] [--batch N]\n");
}

static int parse_options(int argc, char **argv, struct options *o)
{
	*o = (struct options){
		.project = "bench",
		.product = "bench",
		.prefix = "bench",
		.devices = 1000,
		.start = 0,
		.timeout_s = 10,
	};
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (v == NULL)
			return -EINVAL;
		i++;
		int rc = 0;
		if (strcmp(a, "--api") == 0) {
			o->api_text = v;
			rc = parse_addr(v, &o->api);
		} else if (strcmp(a, "--token") == 0) {
			o->token = v;
			rc = plain_token(v) ? 0 : -EINVAL;
		} else if (strcmp(a, "--project") == 0) {
			o->project = v;
			rc = plain_name(v) ? 0 : -EINVAL;
		} else if (strcmp(a, "--product") == 0) {
			o->product = v;
			rc = plain_name(v) ? 0 : -EINVAL;
		} else if (strcmp(a, "--prefix") == 0) {
			o->prefix = v;
			rc = plain_name(v) ? 0 : -EINVAL;
		} else if (strcmp(a, "--devices") == 0) {
			rc = parse_u32(v, 1, DEVICES_MAX, &o->devices);
		} else if (strcmp(a, "--start") == 0) {
			rc = parse_u32(v, 0, DEVICES_MAX, &o->start);
		} else if (strcmp(a, "--secret") == 0) {
			o->secret = v;
			rc = strlen(v) >= 8 && strlen(v) <= 64 ? 0 : -EINVAL;
		} else if (strcmp(a, "--batch") == 0) {
			rc = parse_u32(v, 0, BATCH_MAX, &o->batch);
		} else if (strcmp(a, "--timeout-s") == 0) {
			rc = parse_u32(v, 1, 3600, &o->timeout_s);
		} else {
			rc = -EINVAL;
		}
		if (rc < 0) {
			fprintf(stderr, "api_create: bad %s\n", a);
			return rc;
		}
	}
	if (o->api_text == NULL || o->token == NULL)
		return -EINVAL;
	/* Node ids have six digits. */
	if ((uint64_t)o->start + o->devices > 1000000u) {
		fprintf(stderr, "api_create: --start + --devices must stay under 1000000\n");
		return -EINVAL;
	}
	return 0;
}

struct totals {
	uint64_t created, existed, failed;
	uint32_t in_a_row; /* requests in a row that failed outright */
};

/* One device per request: 201 created, 409 existed. */
static void run_single(struct conn *c, const struct options *o, struct response *r,
		       struct totals *t, uint32_t *done)
{
	uint32_t i;
	for (i = 0; i < o->devices && t->in_a_row < FAILURES_IN_A_ROW_MAX; i++) {
		uint32_t n = o->start + i;
		int rc = post_device(c, o, n, r);
		if (rc == 0 && (r->status == 201 || r->status == 409)) {
			if (r->status == 201)
				t->created++;
			else
				t->existed++;
			t->in_a_row = 0;
			continue;
		}
		t->failed++;
		t->in_a_row++;
		if (t->failed <= FAILURES_SHOWN) {
			if (rc < 0)
				fprintf(stderr, "api_create: %s%06" PRIu32 ": %s\n", o->prefix, n,
					strerror(-rc));
			else
				fprintf(stderr, "api_create: %s%06" PRIu32 ": HTTP %d %s\n",
					o->prefix, n, r->status, r->body);
		}
	}
	*done = i;
}

/* o->batch devices per request: the answer's totals, its 409 items counted as existing. */
static int run_batch(struct conn *c, const struct options *o, struct response *r,
		     struct totals *t, uint32_t *done)
{
	size_t cap = REQ_MAX + (size_t)o->batch * BATCH_ITEM_MAX;
	char *req = malloc(cap);
	if (req == NULL)
		return -ENOMEM;
	r->want_all = true;
	uint32_t i = 0;
	while (i < o->devices && t->in_a_row < FAILURES_IN_A_ROW_MAX) {
		uint32_t n = o->devices - i < o->batch ? o->devices - i : o->batch;
		int rc = post_batch(c, o, o->start + i, n, req, cap, r);
		long long created = rc == 0 ? json_number_after(r->all, "\"created\":") : -1;
		long long failed = rc == 0 ? json_number_after(r->all, "\"failed\":") : -1;
		if (rc == 0 && r->status == 200 && created >= 0 && failed >= 0 &&
		    (uint64_t)created + (uint64_t)failed == n) {
			uint64_t existed = count_occurrences(r->all, "\"IOTDA.000409\"");
			t->created += (uint64_t)created;
			t->existed += existed;
			t->failed += (uint64_t)failed - existed;
			if ((uint64_t)failed > existed && t->failed <= FAILURES_SHOWN)
				fprintf(stderr, "api_create: batch at %s%06" PRIu32 ": %.*s\n",
					o->prefix, o->start + i, BODY_KEEP, r->all);
			t->in_a_row = 0;
		} else {
			t->failed += n;
			t->in_a_row++;
			if (rc < 0)
				fprintf(stderr, "api_create: batch at %s%06" PRIu32 ": %s\n",
					o->prefix, o->start + i, strerror(-rc));
			else
				fprintf(stderr, "api_create: batch at %s%06" PRIu32 ": HTTP %d %s\n",
					o->prefix, o->start + i, r->status, r->body);
		}
		i += n;
	}
	*done = i;
	free(req);
	free(r->all);
	r->all = NULL;
	r->all_cap = 0;
	r->want_all = false;
	return 0;
}

int main(int argc, char **argv)
{
	struct options o;
	if (parse_options(argc, argv, &o) < 0) {
		usage();
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	static struct conn c;
	c.fd = -1;
	static struct response r;
	struct totals t = {0, 0, 0, 0};
	uint32_t done = 0;
	uint64_t t0 = now_ns();
	if (o.batch == 0) {
		run_single(&c, &o, &r, &t, &done);
	} else if (run_batch(&c, &o, &r, &t, &done) < 0) {
		fprintf(stderr, "api_create: out of memory\n");
		return 1;
	}
	double secs = (double)(now_ns() - t0) / 1e9;
	if (t.in_a_row >= FAILURES_IN_A_ROW_MAX) {
		fprintf(stderr, "api_create: %u failed requests in a row, stopping\n", t.in_a_row);
		t.failed += o.devices - done;
	}
	conn_close(&c);
	printf("phase=api_create devices=%u created=%" PRIu64 " existed=%" PRIu64
	       " failed=%" PRIu64 " seconds=%.3f per_second=%.0f batch=%u\n",
	       o.devices, t.created, t.existed, t.failed, secs,
	       secs > 0 ? (double)(t.created + t.existed) / secs : 0.0, o.batch);
	return t.failed == 0 ? 0 : 1;
}
