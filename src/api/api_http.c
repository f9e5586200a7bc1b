/*
 * api_http: one HTTP request, from MHD's access handler to its response.
 *
 * It gathers the body (at most API_BODY_MAX bytes, API_BATCH_BODY_MAX for the bulk create;
 * more is a 413), finds the route, checks the method (405) and the X-Auth-Token (401; a token of another project sees 404, as if
 * nothing existed — docs/architecture.md: one project never sees another's devices),
 * calls the route with a struct api_call and turns the call's reply into the MHD
 * response. It also serves /health and /metrics and counts every response by status code.
 *
 * One route's body is never gathered: a firmware upload's goes to the route piece by piece
 * as MHD reads it (stream_begin, stream_chunk, stream_end), checked when its headers
 * arrive, so that a package of many MiB never sits in memory.
 *
 * What a route uses to read its call and answer it is in api_call.c.
 */
#include "api/api_internal.h"

#include "api/api_console.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/log.h"
#include "util/token.h"

#define CONTENT_TYPE_JSON "application/json"
#define CONTENT_TYPE_PROMETHEUS "text/plain; version=0.0.4"
/* Longest request path we route; ours are far shorter. */
#define API_PATH_MAX 512
#define API_SEGMENTS_MAX 12
/* Query parameters a request may carry; ours take at most a handful. */
#define API_QUERY_MAX 32


enum api_method { API_GET, API_POST, API_PUT, API_DELETE, API_METHODS };

static const char *const method_names[API_METHODS] = {"GET", "POST", "PUT", "DELETE"};

static void api_health(struct api_call *c);
static void api_metrics(struct api_call *c);

/* A path pattern: "*" matches one segment, which becomes a parameter (at most two). */
struct api_route {
	const char *pattern;
	bool auth;
	void (*fn[API_METHODS])(struct api_call *c);
};

static const struct api_route routes[] = {
	{"/health", false, {[API_GET] = api_health}},
	{"/metrics", false, {[API_GET] = api_metrics}},
	{"/v5/iot/*/products",
	 true,
	 {[API_GET] = api_products_list, [API_POST] = api_products_create}},
	{"/v5/iot/*/products/*",
	 true,
	 {[API_GET] = api_products_get,
	  [API_PUT] = api_products_update,
	  [API_DELETE] = api_products_delete}},
	{"/v5/iot/*/products/*/codec",
	 true,
	 {[API_GET] = api_codec_get, [API_PUT] = api_codec_put, [API_DELETE] = api_codec_delete}},
	{"/v5/iot/*/products/*/codec/test", true, {[API_POST] = api_codec_test}},
	{"/v5/iot/*/products/*/bootstrap",
	 true,
	 {[API_GET] = api_bootstrap_template_get,
	  [API_PUT] = api_bootstrap_template_put,
	  [API_DELETE] = api_bootstrap_template_delete}},
	{"/v5/iot/*/products/*/codec/examples",
	 true,
	 {[API_GET] = api_examples_get, [API_PUT] = api_examples_put}},
	{"/v5/iot/*/devices", true, {[API_GET] = api_devices_list, [API_POST] = api_devices_create}},
	{"/v5/iot/*/events", true, {[API_GET] = api_events_stream}},
	{"/v5/iot/*/statistics", true, {[API_GET] = api_statistics}},
	{"/v5/token", true, {[API_GET] = api_token_get}},
	{"/v5/iot/*/tokens", true, {[API_GET] = api_tokens_list, [API_POST] = api_tokens_create}},
	{"/v5/iot/*/tokens/*", true, {[API_DELETE] = api_tokens_delete}},
	{"/v5/iot/*/forwarding-rules",
	 true,
	 {[API_GET] = api_rules_list, [API_POST] = api_rules_create}},
	{"/v5/iot/*/forwarding-rules/*", true, {[API_DELETE] = api_rules_delete}},
	/* POST is streamed: api_firmware_create runs when the headers are known. */
	{"/v5/iot/*/firmware",
	 true,
	 {[API_GET] = api_firmware_list, [API_POST] = api_firmware_create}},
	{"/v5/iot/*/firmware/*",
	 true,
	 {[API_GET] = api_firmware_get, [API_DELETE] = api_firmware_delete}},
	{"/v5/iot/*/models", true, {[API_GET] = api_models_list}},
	{"/v5/iot/*/models/*", true, {[API_GET] = api_models_get}},
	/* POST serves only /devices/batch, the bulk create (api_devices_batch.c). */
	{"/v5/iot/*/devices/*",
	 true,
	 {[API_GET] = api_devices_get,
	  [API_POST] = api_devices_item_post,
	  [API_PUT] = api_devices_update,
	  [API_DELETE] = api_devices_delete}},
	{"/v5/iot/*/devices/*/action", true, {[API_POST] = api_devices_action}},
	{"/v5/iot/*/devices/*/async-commands",
	 true,
	 {[API_GET] = api_commands_list, [API_POST] = api_commands_create}},
	{"/v5/iot/*/devices/*/async-commands/*", true, {[API_GET] = api_commands_get}},
	{"/v5/iot/*/devices/*/shadow", true, {[API_GET] = api_shadow_get, [API_PUT] = api_shadow_put}},
	{"/v5/iot/*/devices/*/bootstrap",
	 true,
	 {[API_GET] = api_bootstrap_device_get,
	  [API_PUT] = api_bootstrap_device_put,
	  [API_DELETE] = api_bootstrap_device_delete}},
	{"/v5/iot/*/devices/*/observations", true, {[API_GET] = api_observations_list}},
	{"/v5/iot/*/devices/*/lwm2m-composite", true, {[API_POST] = api_lwm2m_composite}},
	{"/v5/iot/*/devices/*/observations/*", true, {[API_DELETE] = api_observations_cancel}},
	{"/v5/iot/*/firmware-campaigns",
	 true,
	 {[API_GET] = api_fw_campaigns_list, [API_POST] = api_fw_campaigns_create}},
	{"/v5/iot/*/firmware-campaigns/*",
	 true,
	 {[API_GET] = api_fw_campaigns_get, [API_DELETE] = api_fw_campaigns_delete}},
	{"/v5/iot/*/firmware-campaigns/*/devices", true, {[API_GET] = api_fw_campaigns_devices}},
	{"/v5/iot/*/firmware-campaigns/*/pause", true, {[API_POST] = api_fw_campaigns_pause}},
	{"/v5/iot/*/firmware-campaigns/*/resume", true, {[API_POST] = api_fw_campaigns_resume}},
	{"/v5/iot/*/firmware-campaigns/*/cancel", true, {[API_POST] = api_fw_campaigns_cancel}},
#define LWM2M_METHODS                                                                      \
	{[API_GET] = api_lwm2m_get,                                                        \
	 [API_PUT] = api_lwm2m_put,                                                        \
	 [API_POST] = api_lwm2m_post,                                                      \
	 [API_DELETE] = api_lwm2m_delete}
	{"/v5/iot/*/devices/*/lwm2m/*", true, LWM2M_METHODS},
	{"/v5/iot/*/devices/*/lwm2m/*/*", true, LWM2M_METHODS},
	{"/v5/iot/*/devices/*/lwm2m/*/*/*", true, LWM2M_METHODS},
	{"/v5/iot/*/devices/*/lwm2m/*/*/*/*", true, LWM2M_METHODS},
#undef LWM2M_METHODS
};

static void api_health(struct api_call *c)
{
	api_reply(c, 200, json_pack("{s:s}", "status", "ok"));
}

/* Prometheus text format 0.0.4: the daemon's metrics, then the API's own. */
static void api_metrics(struct api_call *c)
{
	struct api_server *api = c->api;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f) {
		api_reply_error(c, 500, "out of memory");
		return;
	}
	if (api->deps.metrics)
		api->deps.metrics(api->deps.ctx, f);
	fputs("# HELP lwm2md_http_requests_total HTTP requests answered by the REST API, by "
	      "status code.\n# TYPE lwm2md_http_requests_total counter\n",
	      f);
	for (unsigned code = 100; code < API_STATUS_MAX; code++) {
		if (api->responses[code])
			fprintf(f, "lwm2md_http_requests_total{code=\"%u\"} %" PRIu64 "\n", code,
				api->responses[code]);
	}
	api_conn_metrics(api, f);
	api_events_metrics(api, f);
	if (fclose(f) != 0 || !buf) {
		free(buf);
		api_reply_error(c, 500, "out of memory");
		return;
	}
	c->status = 200;
	c->text = buf;
	c->text_len = len;
	c->content_type = CONTENT_TYPE_PROMETHEUS;
}

/*
 * Matches segs against pattern. Returns true on a match with params filled; a parameter
 * longer than any id we store still matches and sets *too_long, so that the caller can
 * answer 404 rather than "no such route".
 */
static bool route_match(const char *pattern, char *const *segs, int nsegs, const char **params,
			bool *too_long)
{
	int n = 0;
	int nparams = 0;
	const char *p = pattern;

	*too_long = false;
	params[0] = params[1] = NULL;
	while (*p == '/') {
		p++;
		const char *end = strchr(p, '/');
		size_t plen = end ? (size_t)(end - p) : strlen(p);
		if (n >= nsegs)
			return false;
		if (plen == 1 && p[0] == '*') {
			if (nparams < 2)
				params[nparams++] = segs[n];
			if (strlen(segs[n]) > STORE_ID_MAX)
				*too_long = true;
		} else if (strlen(segs[n]) != plen || memcmp(segs[n], p, plen) != 0) {
			return false;
		}
		n++;
		p += plen;
	}
	return n == nsegs;
}

/* Splits "/a/b/c" in place; empty segments (a "//" or a trailing '/') match nothing. */
static int split_path(char *path, char **segs, int max)
{
	int n = 0;
	if (path[0] != '/')
		return -EINVAL;
	char *p = path + 1;
	for (;;) {
		if (n >= max)
			return -E2BIG;
		char *slash = strchr(p, '/');
		if (slash)
			*slash = '\0';
		if (*p == '\0')
			return -EINVAL;
		segs[n++] = p;
		if (!slash)
			return n;
		p = slash + 1;
	}
}

static void set_allow(char *allow, size_t cap, const struct api_route *r)
{
	size_t used = 0;
	allow[0] = '\0';
	for (int m = 0; m < API_METHODS; m++) {
		if (!r->fn[m])
			continue;
		int w = snprintf(allow + used, cap - used, "%s%s", used ? ", " : "",
				 method_names[m]);
		if (w < 0 || (size_t)w >= cap - used)
			return;
		used += (size_t)w;
	}
}

/* What check_query found wrong, if anything. */
struct query_scan {
	const char *names[API_QUERY_MAX];
	int count;
	const char *bad;   /* the parameter's name */
	const char *why;   /* the rest of the message */
};

static enum MHD_Result query_scan_one(void *cls, enum MHD_ValueKind kind, const char *key,
				      size_t key_size, const char *value, size_t value_size)
{
	struct query_scan *q = cls;
	(void)kind;
	if (!key)
		return MHD_YES;
	/* MHD has decoded %00 into a NUL: the C string is shorter than what was sent, so
	 * "limit=5%00" would read as 5 (and a name would match a shorter one). */
	if (strlen(key) != key_size || (value && strlen(value) != value_size)) {
		q->bad = key;
		q->why = "contains a NUL byte (%00)";
		return MHD_NO;
	}
	if (q->count == API_QUERY_MAX) {
		q->bad = NULL;
		q->why = "too many query parameters";
		return MHD_NO;
	}
	/* api_query reads the first of a repeated name, a route may mean the last: refuse. */
	for (int i = 0; i < q->count; i++) {
		if (strcmp(q->names[i], key) == 0) {
			q->bad = key;
			q->why = "is given more than once";
			return MHD_NO;
		}
	}
	q->names[q->count++] = key;
	return MHD_YES;
}

/*
 * Refuses a query no route could read unambiguously: a decoded NUL in a name or value, a
 * name given twice, more than API_QUERY_MAX parameters. Every route goes through it, so
 * none has to think about it. Sets a 400 naming the parameter and returns -EINVAL.
 */
static int check_query(struct api_call *c)
{
	struct query_scan q = { .count = 0 };
	char name[33];

	MHD_get_connection_values_n(c->conn, MHD_GET_ARGUMENT_KIND, query_scan_one, &q);
	if (!q.why)
		return 0;
	if (!q.bad) {
		api_reply_error(c, 400, "%s (at most %d)", q.why, API_QUERY_MAX);
		return -EINVAL;
	}
	/* The name goes into the message as printable ASCII only (it may be anything). */
	size_t n = 0;
	for (; q.bad[n] && n < sizeof(name) - 1; n++)
		name[n] = q.bad[n] > 0x20 && q.bad[n] < 0x7f ? q.bad[n] : '?';
	name[n] = '\0';
	api_reply_error(c, 400, "query parameter %s %s", name, q.why);
	return -EINVAL;
}

/* Checks X-Auth-Token against the path's project; sets the error reply when it fails. */
static int check_auth(struct api_call *c, const char *project_id)
{
	char hash[TOKEN_HEX_LEN + 1];
	char project[STORE_ID_MAX + 1];
	const char *token =
		MHD_lookup_connection_value(c->conn, MHD_HEADER_KIND, "X-Auth-Token");

	if (!token || token[0] == '\0') {
		api_reply_error(c, 401, "X-Auth-Token header is required");
		return -EACCES;
	}
	if (strnlen(token, API_TOKEN_MAX + 1) > API_TOKEN_MAX) {
		api_reply_error(c, 401, "X-Auth-Token is not valid");
		return -EACCES;
	}
	token_hash(token, hash);
	struct store_token t;
	int rc = api_token_verify(c->api, hash, &t); /* a cache, then the store */
	if (rc == -ENOENT) {
		api_reply_error(c, 401, "X-Auth-Token is not valid");
		return -EACCES;
	}
	if (rc != 0) {
		api_reply_store_error(c, rc, "token");
		return rc;
	}
	int64_t now = (int64_t)time(NULL);
	if (t.expire_time > 0 && now >= t.expire_time) {
		api_reply_error(c, 401, "X-Auth-Token has expired");
		return -EACCES;
	}
	memcpy(project, t.project_id, sizeof(project));
	/* A route without a project in its path (GET /v5/token) serves the token's own. */
	if (project_id && strcmp(project, project_id) != 0) {
		api_reply_error(c, 404, "project %s not found", project_id);
		return -ENOENT;
	}
	memcpy(c->token_hash, hash, sizeof(c->token_hash));
	memcpy(c->token_project, project, sizeof(c->token_project));
	memcpy(c->token_id, t.token_id, sizeof(c->token_id));
	c->token_expire = t.expire_time;
	return 0;
}

static void route(struct api_call *c, const char *url, const char *method, char *allow,
		  size_t allow_cap)
{
	char path[API_PATH_MAX];
	char *segs[API_SEGMENTS_MAX];
	const char *params[2] = {NULL, NULL};
	const struct api_route *r = NULL;
	bool too_long = false;
	int nsegs;

	if (strnlen(url, sizeof(path)) >= sizeof(path)) {
		api_reply_error(c, 404, "no such resource");
		return;
	}
	memcpy(path, url, strlen(url) + 1);
	nsegs = split_path(path, segs, API_SEGMENTS_MAX);
	for (size_t i = 0; nsegs > 0 && i < sizeof(routes) / sizeof(routes[0]); i++) {
		if (route_match(routes[i].pattern, segs, nsegs, params, &too_long)) {
			r = &routes[i];
			break;
		}
	}
	if (!r) {
		api_reply_error(c, 404, "no such resource");
		return;
	}
	int m = 0;
	while (m < API_METHODS && strcmp(method, method_names[m]) != 0)
		m++;
	if (m == API_METHODS || !r->fn[m]) {
		set_allow(allow, allow_cap, r);
		api_reply_error(c, 405, "method %s not allowed here (allowed: %s)", method, allow);
		return;
	}
	if (too_long) {
		api_reply_error(c, 404, "no such resource");
		return;
	}
	if (r->auth && check_auth(c, params[0]) != 0)
		return;
	if (check_query(c) != 0)
		return;
	if (r->auth) {
		c->project_id = params[0] ? params[0] : c->token_project;
		c->id = params[1];
	}
	r->fn[m](c);
	if (c->status == 0 && !(c->req && (c->req->deferred || c->req->upload)))
		api_reply_error(c, 500, "the route set no reply");
}

/* Queues the call's reply; frees what the call owned. */
static enum MHD_Result respond(struct api_call *c, const char *allow)
{
	static const char oom[] = "{\"error_code\":\"IOTDA.000500\",\"error_msg\":\"out of memory\"}\n";
	struct MHD_Response *resp = NULL;
	const char *type = CONTENT_TYPE_JSON;
	unsigned status = c->status;

	if (c->stream) {
		resp = c->stream;
		c->stream = NULL;
		api_console_headers(resp, c);
		enum MHD_Result r = MHD_queue_response(c->conn, status, resp);
		MHD_destroy_response(resp);
		if (status < API_STATUS_MAX)
			c->api->responses[status]++;
		return r;
	} else if (c->text) {
		resp = MHD_create_response_from_buffer(c->text_len, c->text, MHD_RESPMEM_MUST_FREE);
		if (!resp)
			free(c->text);
		c->text = NULL;
		type = c->content_type;
	} else if (c->reply_text) {
		resp = MHD_create_response_from_buffer(c->reply_text_len, c->reply_text,
						       MHD_RESPMEM_MUST_FREE);
		if (!resp)
			free(c->reply_text);
		c->reply_text = NULL;
	} else if (c->reply) {
		/* Compact JSON and a line end, as a terminal and line-based tools want it. */
		size_t len = json_dumpb(c->reply, NULL, 0, JSON_COMPACT);
		char *s = len ? malloc(len + 1) : NULL;
		if (s && json_dumpb(c->reply, s, len, JSON_COMPACT) == len) {
			s[len] = '\n';
			resp = MHD_create_response_from_buffer(len + 1, s, MHD_RESPMEM_MUST_FREE);
			if (!resp)
				free(s);
		} else {
			free(s);
		}
	} else if (c->asset && status == 200) {
		const unsigned char *data = c->asset_gzip ? c->asset->gzip : c->asset->data;
		size_t len = c->asset_gzip ? c->asset->gzip_len : c->asset->len;
		resp = MHD_create_response_from_buffer(len, (void *)data, MHD_RESPMEM_PERSISTENT);
		type = c->asset->content_type;
	} else if (status == 204 || status == 304 || status == 302) {
		resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
	}
	json_decref(c->reply);
	c->reply = NULL;
	if (!resp) {
		status = 500;
		type = CONTENT_TYPE_JSON;
		resp = MHD_create_response_from_buffer(sizeof(oom) - 1, (void *)oom,
						       MHD_RESPMEM_PERSISTENT);
		if (!resp)
			return MHD_NO;
	}
	if (status != 204 && status != 304 && status != 302)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (status == 405 && (c->allow || allow[0]))
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, c->allow ? c->allow : allow);
	api_console_headers(resp, c);
	enum MHD_Result ret = MHD_queue_response(c->conn, status, resp);
	MHD_destroy_response(resp);
	if (status < API_STATUS_MAX)
		c->api->responses[status]++;
	return ret;
}

/* Declared Content-Length over max? Garbage is left to MHD, which refuses it. */
static bool declared_too_large(struct MHD_Connection *conn, uint64_t max)
{
	const char *cl =
		MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (!cl)
		return false;
	size_t digits = strspn(cl, "0123456789");
	if (digits == 0)
		return false;
	/* More digits than any limit of ours has is too large whatever they say. */
	if (digits > 15)
		return true;
	return strtoull(cl, NULL, 10) > max;
}

/*
 * A streamed request's headers are here: the route checks the token and the query and
 * opens what the body goes to. What it refuses now is answered only once the body was
 * read and dropped (as a too-large body is): a client mid-send may not read an early
 * answer. The request deadline bounds how long a refused body is read.
 */
static enum MHD_Result stream_begin(struct api_server *api, struct api_request *req,
				    struct MHD_Connection *conn, const char *url,
				    const char *method)
{
	char allow[64] = "";
	struct api_call c = {.api = api, .conn = conn, .url = url, .method = method, .req = req};
	route(&c, url, method, allow, sizeof(allow));
	if (!req->upload) {
		if (c.status == 0)
			api_reply_error(&c, 500, "the route set no reply");
		req->status = c.status;
		req->reply = c.reply;
		c.reply = NULL;
	}
	return MHD_YES;
}

/* A piece of a streamed body: to the route while it takes it, else dropped. */
static void stream_chunk(struct api_server *api, struct api_request *req,
			 struct MHD_Connection *conn, const char *data, size_t len)
{
	if (!req->upload)
		return;
	api_firmware_upload_chunk(api, req, data, len);
	if (req->upload)
		api_conn_request_progress(conn, len);
}

/* The streamed body is all here: the route answers, or the error kept answers. */
static void stream_end(struct api_call *c)
{
	struct api_request *req = c->req;
	if (req->upload) {
		api_firmware_upload_end(c);
		return;
	}
	c->status = req->status;
	c->reply = req->reply;
	req->reply = NULL;
	req->status = 0;
}

static int body_append(struct api_request *req, const char *data, size_t len)
{
	if (len > req->max - req->len)
		return -EMSGSIZE;
	if (req->len + len > req->cap) {
		size_t cap = req->cap ? req->cap : 1024;
		while (cap < req->len + len)
			cap *= 2;
		if (cap > req->max)
			cap = req->max;
		char *body = realloc(req->body, cap);
		if (!body)
			return -ENOMEM;
		req->body = body;
		req->cap = cap;
	}
	memcpy(req->body + req->len, data, len);
	req->len += len;
	return 0;
}

/*
 * Group commit (store_batch_enable) makes a loop turn's writes one transaction, committed
 * just before the loop waits for I/O again — but MHD may write an answer earlier in that
 * turn, so a client could be told "201 Created" of a command that a crash a moment later
 * loses. An answer given while the turn's batch has changed rows is therefore held: the
 * connection is suspended with its reply, and api_server_committed releases it once the
 * daemon has committed (or turns it into a 500 if the commit failed). The batch may hold
 * other callers' writes too; waiting for them costs one loop turn, never correctness.
 */
/* Only a success reports a stored change; an error (a 405 with its Allow, a 4xx) goes at
 * once, and so do streams, text answers (/metrics) and console files, which report none
 * (and which a held answer, kept as JSON, could not carry). */
static bool must_wait_commit(struct api_server *api, const struct api_call *c)
{
	return c->status >= 200 && c->status < 300 && !c->stream && !c->text && !c->asset &&
	       !api->stopping && store_batch_dirty(api->deps.store);
}

static enum MHD_Result hold_until_commit(struct api_server *api, struct api_request *req,
					 struct api_call *c)
{
	req->api = api;
	req->conn = c->conn;
	req->status = c->status;
	req->reply = c->reply;
	c->reply = NULL;
	req->reply_text = c->reply_text;
	req->reply_text_len = c->reply_text_len;
	c->reply_text = NULL;
	req->held = true;
	req->next_held = api->held;
	api->held = req;
	MHD_suspend_connection(c->conn);
	return MHD_YES;
}

void api_server_committed(struct api_server *api, int rc)
{
	if (!api || !api->held)
		return;
	while (api->held) {
		struct api_request *req = api->held;
		api->held = req->next_held;
		req->next_held = NULL;
		req->held = false;
		req->committed = true;
		if (rc != 0) {
			json_decref(req->reply);
			free(req->reply_text);
			req->reply_text = NULL;
			req->status = 500;
			req->reply = json_pack("{s:s, s:s}", "error_code", "IOTDA.000500",
					       "error_msg", "the store failed to commit the change");
		}
		req->reply_ready = true;
		MHD_resume_connection(req->conn);
	}
	api_server_kick(api);
}

enum MHD_Result api_http_handle(void *cls, struct MHD_Connection *conn, const char *url,
				const char *method, const char *version, const char *upload,
				size_t *upload_size, void **con_cls)
{
	struct api_server *api = cls;
	struct api_request *req = *con_cls;
	char allow[64] = "";
	(void)version;

	if (!req) {
		req = calloc(1, sizeof(*req));
		if (!req)
			return MHD_NO;
		*con_cls = req;
		req->streamed = api_firmware_is_upload(url, method);
		req->max = api_devices_batch_is_route(url, method) ? API_BATCH_BODY_MAX : API_BODY_MAX;
		uint64_t max = req->streamed ? api_firmware_max_bytes(api) : req->max;
		if (!declared_too_large(conn, max))
			return req->streamed ? stream_begin(api, req, conn, url, method) : MHD_YES;
		/* Refused before a byte of it is read; MHD closes the connection after. */
		req->too_large = true;
	} else if (*upload_size > 0) {
		if (req->streamed && !req->too_large && !req->answered) {
			stream_chunk(api, req, conn, upload, *upload_size);
		} else if (!req->too_large && !req->answered) {
			int rc = body_append(req, upload, *upload_size);
			if (rc == -ENOMEM)
				return MHD_NO;
			if (rc != 0) {
				/* Read on but keep nothing, then answer 413 once it ended. */
				req->too_large = true;
				free(req->body);
				req->body = NULL;
				req->len = req->cap = 0;
			}
		}
		*upload_size = 0;
		return MHD_YES;
	}
	if (req->answered) {
		if (!req->reply_ready)
			return MHD_YES;
		/* A deferred call resumed with its reply, or a held answer after the commit. */
		struct api_call done = {.api = api, .conn = conn, .status = req->status,
					.reply = req->reply, .reply_text = req->reply_text,
					.reply_text_len = req->reply_text_len};
		req->reply = NULL;
		req->reply_text = NULL;
		req->reply_ready = false;
		if (!req->committed && must_wait_commit(api, &done))
			return hold_until_commit(api, req, &done);
		LOG_DEBUG("api", "%s %s -> %u (after waiting)", method, url, done.status);
		return respond(&done, allow);
	}
	req->answered = true;
	/* The request is all here: no read deadline while it is answered. */
	api_conn_request_received(conn);

	struct api_call c = {.api = api, .conn = conn, .body = req->body, .body_len = req->len,
			     .url = url, .method = method, .req = req};
	if (req->too_large)
		api_reply_error(&c, 413, "request body is larger than %" PRIu64 " bytes",
				req->streamed ? api_firmware_max_bytes(api) : (uint64_t)req->max);
	else if (req->streamed)
		stream_end(&c);
	else if (!api_console_route(&c, url, method))
		route(&c, url, method, allow, sizeof(allow));
	if (req->deferred && c.status == 0) {
		MHD_suspend_connection(conn);
		return MHD_YES;
	}
	if (must_wait_commit(api, &c))
		return hold_until_commit(api, req, &c);
	LOG_DEBUG("api", "%s %s -> %u", method, url, c.status);
	return respond(&c, allow);
}

void api_http_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			enum MHD_RequestTerminationCode toe)
{
	struct api_request *req = *con_cls;
	(void)cls;
	(void)toe;
	api_conn_request_done(conn);
	if (!req)
		return;
	if (req->held) {
		struct api_request **p = &req->api->held;
		while (*p && *p != req)
			p = &(*p)->next_held;
		if (*p)
			*p = req->next_held;
	}
	if (req->deferred) {
		if (req->dm_handle)
			api_lwm2m_abandon(req);
		if (req->codec_call)
			api_codec_abandon(req);
		if (req->prev_deferred) {
			*req->prev_deferred = req->next_deferred;
			if (req->next_deferred)
				req->next_deferred->prev_deferred = req->prev_deferred;
		}
	}
	api_firmware_upload_free(req); /* a client gone mid-upload: the temporary file goes */
	json_decref(req->reply);
	free(req->reply_text);
	free(req->body);
	free(req);
	*con_cls = NULL;
}

/*
 * A deferred call's client went away (api_conn_watch saw the close): stop waiting for the
 * device or the codec thread and answer at once, so that MHD finds the closed socket and
 * frees the connection now, not when the device answers (up to the call's timeout, or
 * never for a device asleep): a client that gives up no longer holds a connection.
 */
static void on_deferred_gone(void *ctx)
{
	struct api_request *req = ctx;
	if (!req->deferred || req->reply_ready || !req->prev_deferred)
		return;
	if (req->dm_handle)
		api_lwm2m_abandon(req);
	if (req->codec_call)
		api_codec_abandon(req);
	req->api->deferred_gone++;
	api_deferred_error(req, 499, "the client closed the connection");
}

struct api_request *api_defer(struct api_call *c)
{
	struct api_request *req = c->req;
	struct api_server *api = c->api;
	req->deferred = true;
	req->api = api;
	req->conn = c->conn;
	req->next_deferred = api->deferred;
	if (api->deferred)
		api->deferred->prev_deferred = &req->next_deferred;
	req->prev_deferred = &api->deferred;
	api->deferred = req;
	req->cc = api_conn_of(c->conn);
	if (api_conn_watch(req->cc, 0, on_deferred_gone, req) != 0)
		req->cc = NULL; /* it still works; a closed client holds it until the answer */
	return req;
}

void api_deferred_reply(struct api_request *req, unsigned status, json_t *body)
{
	api_conn_unwatch(req->cc); /* answered: MHD sees a close by itself from now on */
	req->cc = NULL;
	req->dm_handle = 0;
	json_decref(req->reply);
	req->reply = body;
	req->status = body || status == 204 ? status : 500;
	req->reply_ready = true;
	/* Out of the waiting list: the call is answered. */
	if (req->prev_deferred) {
		*req->prev_deferred = req->next_deferred;
		if (req->next_deferred)
			req->next_deferred->prev_deferred = req->prev_deferred;
		req->prev_deferred = NULL;
		req->next_deferred = NULL;
	}
	MHD_resume_connection(req->conn);
	api_server_kick(req->api);
}

void api_deferred_error(struct api_request *req, unsigned status, const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	api_deferred_reply(req, status, api_error_json(status, msg));
}

void api_http_abort_deferred(struct api_server *api)
{
	while (api->deferred) {
		struct api_request *req = api->deferred;
		if (req->dm_handle)
			api_lwm2m_abandon(req);
		if (req->codec_call)
			api_codec_abandon(req);
		api_deferred_error(req, 503, "the server is shutting down");
	}
}
