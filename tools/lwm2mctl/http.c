/*
 * http: lwm2mctl's side of the REST API, one libcurl easy handle reused for every call.
 * The token goes in X-Auth-Token; bodies are JSON. A call that gets no HTTP answer at all
 * (connection refused, a name that does not resolve, a timeout) has status 0 and says why.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "ctl.h"

/* An answer bigger than this is cut (the API's largest are a few MiB of device list). */
#define CTL_BODY_MAX (64u << 20)

static size_t collect(char *data, size_t size, size_t n, void *ctx)
{
	struct ctl_resp *r = ctx;
	size_t len = size * n;
	if (r->len + len > CTL_BODY_MAX)
		return 0;
	char *b = realloc(r->body, r->len + len + 1);
	if (!b)
		return 0;
	memcpy(b + r->len, data, len);
	r->body = b;
	r->len += len;
	r->body[r->len] = '\0';
	return len;
}

static CURL *handle(struct ctl *c)
{
	if (!c->curl) {
		curl_global_init(CURL_GLOBAL_DEFAULT);
		c->curl = curl_easy_init();
	} else {
		curl_easy_reset(c->curl);
	}
	return c->curl;
}

static struct curl_slist *headers(const struct ctl *c, bool json_body)
{
	char auth[300];
	snprintf(auth, sizeof(auth), "X-Auth-Token: %s", c->token);
	struct curl_slist *h = curl_slist_append(NULL, auth);
	/* Without a body, no Content-Type (libcurl would say a form for an empty POST). */
	h = curl_slist_append(h, json_body ? "Content-Type: application/json" : "Content-Type:");
	return h;
}

long ctl_http(struct ctl *c, const char *method, const char *path, const char *body,
	      int timeout_s, struct ctl_resp *resp)
{
	memset(resp, 0, sizeof(*resp));
	resp->body = calloc(1, 1);
	CURL *h = handle(c);
	if (!h || !resp->body) {
		snprintf(resp->error, sizeof(resp->error), "out of memory");
		return 0;
	}
	char url[2048];
	snprintf(url, sizeof(url), "%s%s", c->url, path);
	struct curl_slist *hdr = headers(c, body != NULL);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, resp);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, (long)timeout_s);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	if (body) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	} else if (strcmp(method, "GET") != 0) {
		/* A POST without a body (reset-secret, execute) still says it has none. */
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, 0L);
	}
	if (strcmp(method, "GET") == 0)
		curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
	CURLcode rc = curl_easy_perform(h);
	curl_slist_free_all(hdr);
	if (rc != CURLE_OK) {
		snprintf(resp->error, sizeof(resp->error), "%s: %s", c->url, curl_easy_strerror(rc));
		resp->status = 0;
		return 0;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
	return resp->status;
}

/* Upload bodies are read from their file as libcurl sends them. */
static size_t read_file(char *buf, size_t size, size_t n, void *ctx)
{
	FILE *f = ctx;
	size_t got = fread(buf, 1, size * n, f);
	return got == 0 && ferror(f) ? CURL_READFUNC_ABORT : got;
}

long ctl_call_upload(struct ctl *c, const char *path, FILE *f, long long size,
		     struct ctl_resp *resp)
{
	int rc = ctl_resolve_project(c);
	memset(resp, 0, sizeof(*resp));
	resp->body = calloc(1, 1);
	if (rc != CTL_OK) {
		resp->status = rc == CTL_UNREACHABLE ? -2 : -1; /* said why; as ctl_call */
		return resp->status;
	}
	CURL *h = handle(c);
	if (!h || !resp->body) {
		snprintf(resp->error, sizeof(resp->error), "out of memory");
		return 0;
	}
	char project[480], url[2048];
	ctl_escape(c->project, project, sizeof(project));
	snprintf(url, sizeof(url), "%s/v5/iot/%s%s", c->url, project, path);
	struct curl_slist *hdr = headers(c, false);
	hdr = curl_slist_append(hdr, "Content-Type: application/octet-stream");
	/* The daemon answers no 100 Continue: without this libcurl would wait a second. */
	hdr = curl_slist_append(hdr, "Expect:");
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_POST, 1L);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(h, CURLOPT_READFUNCTION, read_file);
	curl_easy_setopt(h, CURLOPT_READDATA, f);
	/* A known size is sent as Content-Length (checked by the daemon before any byte),
	 * an unknown one (a pipe) chunked. */
	curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)size);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, resp);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
	/* No overall deadline (a large file on a slow link takes what it takes), but a
	 * transfer stalled for 60 s is given up. */
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 60L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	CURLcode cr = curl_easy_perform(h);
	curl_slist_free_all(hdr);
	if (cr != CURLE_OK) {
		snprintf(resp->error, sizeof(resp->error), "%s: %s", c->url, curl_easy_strerror(cr));
		resp->status = 0;
		return 0;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
	return resp->status;
}

void ctl_resp_free(struct ctl_resp *resp)
{
	free(resp->body);
	resp->body = NULL;
	resp->len = 0;
}

int ctl_resolve_project(struct ctl *c)
{
	if (c->project[0])
		return CTL_OK;
	struct ctl_resp r;
	ctl_http(c, "GET", "/v5/token", NULL, 30, &r);
	int rc = ctl_check(&r, false);
	if (rc == CTL_OK) {
		json_t *j = ctl_parse(&r);
		const char *p = json_string_value(json_object_get(j, "project_id"));
		if (p && strlen(p) < sizeof(c->project)) {
			snprintf(c->project, sizeof(c->project), "%s", p);
		} else {
			fprintf(stderr, "lwm2mctl: GET /v5/token did not name a project\n");
			rc = CTL_API_ERROR;
		}
		json_decref(j);
	}
	ctl_resp_free(&r);
	return rc;
}

long ctl_call(struct ctl *c, const char *method, const char *path, const char *body,
	      int timeout_s, struct ctl_resp *resp)
{
	int rc = ctl_resolve_project(c);
	if (rc != CTL_OK) {
		/* The error is printed; make ctl_check quiet about it but keep the code. */
		memset(resp, 0, sizeof(*resp));
		resp->body = calloc(1, 1);
		resp->status = rc == CTL_UNREACHABLE ? -2 : -1;
		return resp->status;
	}
	char project[480], full[2048];
	ctl_escape(c->project, project, sizeof(project));
	snprintf(full, sizeof(full), "/v5/iot/%s%s", project, path);
	return ctl_http(c, method, full, body, timeout_s, resp);
}

void ctl_escape(const char *in, char *out, size_t cap)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = 0;
	for (const unsigned char *p = (const unsigned char *)in; *p && n + 4 < cap; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.' || *p == '~') {
			out[n++] = (char)*p;
		} else {
			out[n++] = '%';
			out[n++] = hex[*p >> 4];
			out[n++] = hex[*p & 15];
		}
	}
	out[n] = '\0';
}

/* Server-Sent Events: lines gathered until a blank line ends an event. */
struct sse {
	char line[1 << 16];
	size_t len;
	char event[64];
	char *data;
	size_t data_len;
	bool stopped;
	bool (*on_event)(void *ctx, const char *event, const char *data);
	void *ctx;
};

static void sse_line(struct sse *s)
{
	s->line[s->len] = '\0';
	if (s->len && s->line[s->len - 1] == '\r')
		s->line[--s->len] = '\0';
	if (s->len == 0) {
		if (s->data && !s->stopped && !s->on_event(s->ctx, s->event[0] ? s->event : "message",
							    s->data))
			s->stopped = true;
		free(s->data);
		s->data = NULL;
		s->data_len = 0;
		s->event[0] = '\0';
	} else if (strncmp(s->line, "event:", 6) == 0) {
		const char *v = s->line + 6 + (s->line[6] == ' ');
		snprintf(s->event, sizeof(s->event), "%s", v);
	} else if (strncmp(s->line, "data:", 5) == 0) {
		const char *v = s->line + 5 + (s->line[5] == ' ');
		size_t vl = strlen(v);
		char *d = realloc(s->data, s->data_len + vl + 2);
		if (!d)
			return;
		if (s->data_len)
			d[s->data_len++] = '\n';
		memcpy(d + s->data_len, v, vl + 1);
		s->data = d;
		s->data_len += vl;
	} /* comments (": heartbeat") and other fields are ignored */
	s->len = 0;
}

static size_t sse_write(char *data, size_t size, size_t n, void *ctx)
{
	struct sse *s = ctx;
	size_t len = size * n;
	for (size_t i = 0; i < len && !s->stopped; i++) {
		if (data[i] == '\n')
			sse_line(s);
		else if (s->len + 1 < sizeof(s->line))
			s->line[s->len++] = data[i];
	}
	return s->stopped ? 0 : len;
}

/* An error answer to a stream comes as a body, not events: kept to be printed. */
struct stream_ctx {
	struct sse *sse;
	struct ctl_resp *err;
	CURL *h;
	bool checked, ok;
};

static size_t stream_write(char *data, size_t size, size_t n, void *ctx)
{
	struct stream_ctx *s = ctx;
	if (!s->checked) {
		long status = 0;
		curl_easy_getinfo(s->h, CURLINFO_RESPONSE_CODE, &status);
		s->ok = status >= 200 && status < 300;
		s->checked = true;
	}
	if (!s->ok)
		return collect(data, size, n, s->err);
	return sse_write(data, size, n, s->sse);
}

int ctl_stream(struct ctl *c, const char *path,
	       bool (*on_event)(void *ctx, const char *event, const char *data), void *ctx)
{
	int rc = ctl_resolve_project(c);
	if (rc != CTL_OK)
		return rc;
	CURL *h = handle(c);
	struct sse *s = calloc(1, sizeof(*s));
	struct ctl_resp err = { 0 };
	err.body = calloc(1, 1);
	if (!h || !s || !err.body) {
		free(s);
		free(err.body);
		fprintf(stderr, "lwm2mctl: out of memory\n");
		return CTL_API_ERROR;
	}
	s->on_event = on_event;
	s->ctx = ctx;
	struct stream_ctx sc = { s, &err, h, false, false };
	char project[480], url[2048];
	ctl_escape(c->project, project, sizeof(project));
	snprintf(url, sizeof(url), "%s/v5/iot/%s%s", c->url, project, path);
	struct curl_slist *hdr = headers(c, false);
	hdr = curl_slist_append(hdr, "Accept: text/event-stream");
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, stream_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &sc);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	/* A vanished daemon: the stream has a heartbeat every 15 s; 3 missed end it. */
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 50L);
	CURLcode cr = curl_easy_perform(h);
	curl_slist_free_all(hdr);
	if (s->stopped) {
		rc = CTL_OK;
	} else if (cr != CURLE_OK && !(sc.checked && !sc.ok)) {
		fprintf(stderr, "lwm2mctl: the event stream from %s ended: %s\n", c->url,
			curl_easy_strerror(cr));
		rc = CTL_UNREACHABLE;
	} else {
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &err.status);
		rc = ctl_check(&err, false);
	}
	free(s->data);
	free(s);
	ctl_resp_free(&err);
	return rc;
}

void ctl_http_cleanup(struct ctl *c)
{
	if (c->curl) {
		curl_easy_cleanup(c->curl);
		curl_global_cleanup();
		c->curl = NULL;
	}
}
