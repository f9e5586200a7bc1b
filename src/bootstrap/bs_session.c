/*
 * bs_session: one device's bootstrap sequence (Core §6.1.7; docs/bootstrap.md "The
 * sequence"): Discover, Delete /0 and /1, Write the management server's Security and
 * Server instances, Finish — each answer checked before the next request.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "bootstrap/bs_internal.h"
#include "content/content.h"
#include "lwm2m/lwm2m_link.h"
#include "lwm2m/lwm2m_requests.h"
#include "model/model.h"
#include "store/store_bootstrap.h"
#include "util/log.h"
#include "util/timefmt.h"

/* The most bytes one instance's Bootstrap-Write takes: URIs, a key, a few numbers. */
#define BS_WRITE_MAX 1024

struct bs_session *bs_session_find(struct bs_server *bs, const char *node_id)
{
	uint64_t h = hash_str(node_id);
	struct hmap_node *n;
	HMAP_FOR_EACH_WITH_HASH(n, h, &bs->sessions)
	{
		struct bs_session *s = container_of(n, struct bs_session, by_node);
		if (strcmp(s->node_id, node_id) == 0)
			return s;
	}
	return NULL;
}

void bs_session_free(struct bs_session *s)
{
	struct bs_server *bs = s->bs;
	if (s->request)
		lwm2m_requests_cancel(bs->requests, s->request);
	struct bs_session **pp = &bs->starting;
	while (*pp && *pp != s)
		pp = &(*pp)->next_start;
	if (*pp)
		*pp = s->next_start;
	hmap_remove(&bs->sessions, &s->by_node);
	bs->stats.in_progress--;
	free(s);
}

void bs_session_end(struct bs_session *s, bool ok, const char *fmt, ...)
{
	struct bs_server *bs = s->bs;
	struct store_bs_event e = { .time_ms = time_now_ms() };
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e.reason, sizeof(e.reason), fmt, ap);
	va_end(ap);
	snprintf(e.result, sizeof(e.result), "%s", ok ? "succeeded" : "failed");
	snprintf(e.transport, sizeof(e.transport), "%s", s->l->dtls ? "coaps" : "coap");
	if (store_bs_history_add(bs->deps.store, s->project_id, s->device_id, &e) != 0)
		LOG_WARN("bootstrap", "the bootstrap of '%s' was not recorded", s->node_id);
	if (ok)
		bs->stats.succeeded++;
	else
		bs->stats.failed++;
	LOG_INFO_RATE_N("bootstrap", "bootstrap ended", 100, "bootstrap of '%s' over %s %s%s%s",
			s->node_id, e.transport, e.result, e.reason[0] ? ": " : "", e.reason);
	if (bs->deps.publish) {
		json_t *ev = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I}", "device_id", s->device_id,
				       "node_id", s->node_id, "result", e.result, "reason", e.reason,
				       "transport", e.transport, "time_ms", (json_int_t)e.time_ms);
		char *text = ev ? json_dumps(ev, JSON_COMPACT) : NULL;
		if (text)
			bs->deps.publish(bs->deps.ctx, s->project_id, s->device_id, text);
		free(text);
		json_decref(ev);
	}
	bs_session_free(s);
}

/* The content format the Writes go in: what the device asked for with pct, when we
 * write it, else TLV. */
static uint16_t write_format(const struct bs_session *s)
{
	if (s->pct == CONTENT_SENML_CBOR || s->pct == CONTENT_SENML_JSON)
		return (uint16_t)s->pct;
	return CONTENT_TLV;
}

static int add_int(struct lwm2m_values *vals, const struct lwm2m_path *base, uint16_t res,
		   int64_t v)
{
	struct lwm2m_value x = { .path = *base, .type = LWM2M_TYPE_INTEGER };
	x.path.ids[x.path.len++] = res;
	x.v.i = v;
	return lwm2m_values_add(vals, &x);
}

static int add_bool(struct lwm2m_values *vals, const struct lwm2m_path *base, uint16_t res,
		    bool v)
{
	struct lwm2m_value x = { .path = *base, .type = LWM2M_TYPE_BOOLEAN };
	x.path.ids[x.path.len++] = res;
	x.v.b = v;
	return lwm2m_values_add(vals, &x);
}

static int add_bytes(struct lwm2m_values *vals, const struct lwm2m_path *base, uint16_t res,
		     uint8_t type, const void *data, size_t len)
{
	struct lwm2m_value x = { .path = *base, .type = type };
	x.path.ids[x.path.len++] = res;
	x.v.bytes.data = (uint8_t *)data;
	x.v.bytes.len = len;
	return lwm2m_values_add(vals, &x);
}

/* The hex management secret as the PSK key's bytes. */
static size_t secret_bytes(const char *hex, uint8_t *out, size_t cap)
{
	size_t n = strlen(hex) / 2;
	if (n > cap)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		if (sscanf(hex + 2 * i, "%2x", &v) != 1)
			return 0;
		out[i] = (uint8_t)v;
	}
	return n;
}

/* The URI the Security instance names: the configuration's, else this lwm2md's. */
static const char *server_uri(const struct bs_session *s)
{
	if (s->cfg.server_uri[0])
		return s->cfg.server_uri;
	return s->cfg.security == BS_SECURITY_PSK ? s->bs->deps.mgmt_coaps_uri
						  : s->bs->deps.mgmt_coap_uri;
}

/* The Security (/0/x) or Server (/1/0) instance's values, encoded into buf. The length,
 * or a negative errno. */
static int encode_instance(struct bs_session *s, bool security, const struct lwm2m_path *base,
			   uint8_t *buf, size_t cap)
{
	struct lwm2m_values vals;
	uint8_t key[STORE_SECRET_MAX / 2];
	lwm2m_values_init(&vals);
	int rc = 0;
	const struct bs_config *c = &s->cfg;
	if (security) {
		const char *uri = server_uri(s);
		rc |= add_bytes(&vals, base, 0, LWM2M_TYPE_STRING, uri, strlen(uri));
		rc |= add_bool(&vals, base, 1, false);
		rc |= add_int(&vals, base, 2, c->security);
		if (c->security == BS_SECURITY_PSK) {
			size_t n = secret_bytes(s->secret, key, sizeof(key));
			rc |= add_bytes(&vals, base, 3, LWM2M_TYPE_OPAQUE, s->node_id,
					strlen(s->node_id));
			rc |= add_bytes(&vals, base, 5, LWM2M_TYPE_OPAQUE, key, n);
		}
		rc |= add_int(&vals, base, 10, c->short_server_id);
	} else {
		rc |= add_int(&vals, base, 0, c->short_server_id);
		rc |= add_int(&vals, base, 1, c->lifetime);
		if (c->pmin)
			rc |= add_int(&vals, base, 2, c->pmin);
		if (c->pmax)
			rc |= add_int(&vals, base, 3, c->pmax);
		rc |= add_bool(&vals, base, 6, false);
		rc |= add_bytes(&vals, base, 7, LWM2M_TYPE_STRING, c->binding, strlen(c->binding));
	}
	if (rc == 0)
		rc = content_encode(write_format(s), base, &vals, model_type_of, NULL, buf, cap);
	lwm2m_values_free(&vals);
	return rc;
}

static void on_answer(void *ctx, const struct lwm2m_dm_result *res);

static void send_step(struct bs_session *s, enum bs_step step)
{
	struct lwm2m_dm_request req = { .accept = -1, .content_format = -1,
					.timeout_ms = BS_REQUEST_TIMEOUT_MS };
	uint8_t buf[BS_WRITE_MAX];
	s->step = step;
	switch (step) {
	case BS_STEP_DISCOVER:
		req.op = LWM2M_OP_BOOTSTRAP_DISCOVER;
		break;
	case BS_STEP_DELETE_SECURITY:
	case BS_STEP_DELETE_SERVER:
		req.op = LWM2M_OP_BOOTSTRAP_DELETE;
		req.path = (struct lwm2m_path){ .len = 1,
						.ids = { step == BS_STEP_DELETE_SECURITY ? 0 : 1 } };
		break;
	case BS_STEP_WRITE_SECURITY:
	case BS_STEP_WRITE_SERVER: {
		bool security = step == BS_STEP_WRITE_SECURITY;
		req.op = LWM2M_OP_BOOTSTRAP_WRITE;
		req.path = (struct lwm2m_path){
			.len = 2, .ids = { security ? 0 : 1, security ? s->security_instance : 0 }
		};
		int n = encode_instance(s, security, &req.path, buf, sizeof(buf));
		if (n <= 0) {
			bs_session_end(s, false, "the %s instance could not be encoded (%d)",
				       security ? "Security" : "Server", n);
			return;
		}
		req.content_format = write_format(s);
		req.payload = buf;
		req.payload_len = (size_t)n;
		break;
	}
	case BS_STEP_FINISH:
		req.op = LWM2M_OP_BOOTSTRAP_FINISH;
		break;
	case BS_STEP_START:
		return;
	}
	int rc = lwm2m_requests_send(s->bs->requests, s->node_id, &req, false, on_answer, s,
				     &s->request);
	if (rc) {
		s->request = 0;
		bs_session_end(s, false, "%s could not be sent: %s", lwm2m_op_name(req.op),
			       strerror(-rc));
	}
}

void bs_session_begin(struct bs_session *s)
{
	if (!server_uri(s)[0]) {
		bs_session_end(s, false, "no management server URI to write: give server_uri, "
					 "or start lwm2md with --public-host");
		return;
	}
	if (s->cfg.security == BS_SECURITY_PSK && strlen(s->secret) < 2) {
		bs_session_end(s, false, "the device has no secret to write as its PSK key");
		return;
	}
	/* Without Discover the Bootstrap-Server's own account is taken to be /0/0 (the
	 * usual place), and the management server's goes to /0/1. */
	s->security_instance = 1;
	send_step(s, s->cfg.discover ? BS_STEP_DISCOVER : BS_STEP_DELETE_SECURITY);
}

/* Discover's links: the Security instances (/0/x). The one without ssid is the
 * Bootstrap-Server's own account (Core §6.1.7.3): the management one goes elsewhere. */
struct discovered {
	bool bootstrap_known;
	uint16_t bootstrap_instance;
};

static int on_link(const struct lwm2m_link *link, void *ctx)
{
	struct discovered *d = ctx;
	struct lwm2m_path p;
	const char *v;
	size_t vlen;
	if (lwm2m_path_parse(link->uri, link->uri_len, &p) != 0 || p.len != 2 || p.ids[0] != 0)
		return 0;
	if (lwm2m_link_find_attr(link, "ssid", &v, &vlen) != 0) {
		d->bootstrap_known = true;
		d->bootstrap_instance = p.ids[1];
	}
	return 0;
}

static bool expect(struct bs_session *s, const struct lwm2m_dm_result *res, uint8_t want)
{
	char code[8];
	if (res->status != 0) {
		bs_session_end(s, false, "no answer to %s: %s", lwm2m_op_name(
			       s->step == BS_STEP_DISCOVER ? LWM2M_OP_BOOTSTRAP_DISCOVER
			       : s->step == BS_STEP_FINISH ? LWM2M_OP_BOOTSTRAP_FINISH
			       : s->step <= BS_STEP_DELETE_SERVER ? LWM2M_OP_BOOTSTRAP_DELETE
								  : LWM2M_OP_BOOTSTRAP_WRITE),
			       strerror(-res->status));
		return false;
	}
	if (res->code == want)
		return true;
	static const char *const what[] = {
		[BS_STEP_DISCOVER] = "Bootstrap-Discover /",
		[BS_STEP_DELETE_SECURITY] = "Bootstrap-Delete /0",
		[BS_STEP_DELETE_SERVER] = "Bootstrap-Delete /1",
		[BS_STEP_WRITE_SECURITY] = "Bootstrap-Write of the Security instance",
		[BS_STEP_WRITE_SERVER] = "Bootstrap-Write /1/0",
		[BS_STEP_FINISH] = "Bootstrap-Finish",
	};
	bs_session_end(s, false, "%s answered %s", what[s->step], coap_code_format(res->code, code));
	return false;
}

static void on_answer(void *ctx, const struct lwm2m_dm_result *res)
{
	struct bs_session *s = ctx;
	s->request = 0;
	switch (s->step) {
	case BS_STEP_DISCOVER:
		if (expect(s, res, COAP_CODE_CONTENT)) {
			struct discovered d = { 0 };
			lwm2m_link_parse((const char *)res->payload, res->payload_len, on_link, &d);
			if (d.bootstrap_known && d.bootstrap_instance == s->security_instance)
				s->security_instance = d.bootstrap_instance == 0 ? 1 : 0;
			send_step(s, BS_STEP_DELETE_SECURITY);
		}
		break;
	case BS_STEP_DELETE_SECURITY:
		if (expect(s, res, COAP_CODE_DELETED))
			send_step(s, BS_STEP_DELETE_SERVER);
		break;
	case BS_STEP_DELETE_SERVER:
		if (expect(s, res, COAP_CODE_DELETED))
			send_step(s, BS_STEP_WRITE_SECURITY);
		break;
	case BS_STEP_WRITE_SECURITY:
		if (expect(s, res, COAP_CODE_CHANGED))
			send_step(s, BS_STEP_WRITE_SERVER);
		break;
	case BS_STEP_WRITE_SERVER:
		if (expect(s, res, COAP_CODE_CHANGED))
			send_step(s, BS_STEP_FINISH);
		break;
	case BS_STEP_FINISH:
		if (expect(s, res, COAP_CODE_CHANGED))
			bs_session_end(s, true, "%s", "");
		break;
	case BS_STEP_START:
		break;
	}
}

struct expiry {
	int64_t now;
	struct bs_session *late[64];
	size_t count;
};

static void collect_late(struct hmap_node *n, void *ctx)
{
	struct expiry *x = ctx;
	struct bs_session *s = container_of(n, struct bs_session, by_node);
	if (x->now - s->started_ms > BS_SESSION_TIMEOUT_MS &&
	    x->count < sizeof(x->late) / sizeof(x->late[0]))
		x->late[x->count++] = s;
}

void bs_sessions_expire(struct bs_server *bs, int64_t now_ms)
{
	struct expiry x = { .now = now_ms };
	hmap_for_each(&bs->sessions, collect_late, &x);
	for (size_t i = 0; i < x.count; i++)
		bs_session_end(x.late[i], false, "timed out after %d s",
			       BS_SESSION_TIMEOUT_MS / 1000);
}
