/*
 * sim_bootstrap: the device's side of client-initiated bootstrap (see sim_bootstrap.h).
 */
#include "sim_bootstrap.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "coap/coap_msg.h"
#include "dtls_client.h"
#include "model/model.h"

#define BS_DATAGRAM_MAX 2048
#define BS_LINKS_MAX 1024
/* RFC 7252 §4.2: the POST /bs is resent at 2, 4, 8, 16 s before the device gives up. */
#define BS_ACK_TIMEOUT_MS 2000
#define BS_RETRANSMITS 4

const char sim_bs_usage[] =
	"  --bootstrap URI        bootstrap first (coap://HOST:PORT or coaps://HOST:PORT with\n"
	"                         --bs-psk-identity ID --bs-psk HEX), then register to the\n"
	"                         server the Bootstrap-Server wrote (no --server; with\n"
	"                         --bootstrap, --psk-identity/--psk mean --bs-psk-*)\n"
	"  --bs-pct N             ask for this content format in Bootstrap-Write (&pct=N)\n"
	"  --bs-timeout-s S       give up when no request comes for S s (default 30)\n"
	"  --bs-fail-finish       answer Bootstrap-Finish 4.06 (an inconsistent configuration)\n";

void sim_bs_config_default(struct sim_bs_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->pct = -1;
	cfg->timeout_s = 30;
}

int sim_bs_option(struct sim_bs_config *cfg, const char *a, const char *v)
{
	if (strcmp(a, "--bootstrap") == 0)
		cfg->uri = v;
	else if (strcmp(a, "--bs-psk-identity") == 0)
		cfg->identity = v;
	else if (strcmp(a, "--bs-psk") == 0)
		cfg->psk_hex = v;
	else if (strcmp(a, "--bs-pct") == 0)
		return (cfg->pct = atoi(v)) > 0 && cfg->pct <= 65535 ? 1 : -1;
	else if (strcmp(a, "--bs-timeout-s") == 0)
		return (cfg->timeout_s = atoi(v)) > 0 ? 1 : -1;
	else
		return 0;
	return 1;
}

int sim_bs_split_uri(const char *uri, char *host_port, size_t cap, bool *secure)
{
	const char *rest;
	if (strncmp(uri, "coaps://", 8) == 0) {
		*secure = true;
		rest = uri + 8;
	} else if (strncmp(uri, "coap://", 7) == 0) {
		*secure = false;
		rest = uri + 7;
	} else {
		return -1;
	}
	size_t n = strcspn(rest, "/"); /* a path after HOST:PORT is not ours to use */
	if (n == 0 || n >= cap)
		return -1;
	memcpy(host_port, rest, n);
	host_port[n] = '\0';
	return 0;
}

int sim_hex_key(const char *hex, uint8_t key[SIM_BS_KEY_MAX])
{
	size_t n = hex ? strlen(hex) : 0;
	if (n == 0 || n % 2 != 0 || n / 2 > SIM_BS_KEY_MAX)
		return -1;
	for (size_t i = 0; i < n / 2; i++) {
		unsigned b;
		if (sscanf(hex + 2 * i, "%2x", &b) != 1)
			return -1;
		key[i] = (uint8_t)b;
	}
	return (int)(n / 2);
}

int sim_bs_settle(struct sim_bs_config *cfg, const char **server, const char **identity,
		  const char **psk_hex, char *host, size_t cap)
{
	uint8_t key[SIM_BS_KEY_MAX];
	bool secure = false;
	if (*identity && !cfg->identity) {
		cfg->identity = *identity;
		cfg->psk_hex = *psk_hex;
		*identity = *psk_hex = NULL;
	}
	bool bad = *server || *identity || *psk_hex ||
		   sim_bs_split_uri(cfg->uri, host, cap, &secure) != 0 ||
		   secure != (cfg->identity != NULL) ||
		   (cfg->identity != NULL) != (cfg->psk_hex != NULL) ||
		   (cfg->identity && sim_hex_key(cfg->psk_hex, key) < 0);
	*server = host;
	return bad ? -1 : 0;
}

static struct lwm2m_path res_path(uint16_t obj, uint16_t inst, uint16_t res)
{
	struct lwm2m_path p = { .len = 3, .ids = { obj, inst, res, 0 } };
	return p;
}

static int set_bytes(struct sim_tree *t, uint16_t res, uint8_t type, const void *data,
		     size_t len)
{
	struct lwm2m_value v = { .path = res_path(0, 0, res), .type = type };
	v.v.bytes.data = (uint8_t *)data;
	v.v.bytes.len = len;
	return sim_tree_set(t, &v);
}

int sim_bs_prepare(struct sim_tree *t, const struct sim_bs_config *cfg)
{
	uint8_t key[SIM_BS_KEY_MAX];
	int key_len = cfg->identity ? sim_hex_key(cfg->psk_hex, key) : 0;
	if (key_len < 0)
		return -EINVAL;
	/* The factory device: its Bootstrap-Server account alone, no management server. */
	sim_tree_remove_instance(t, 0, 0);
	sim_tree_remove_instance(t, 1, 0);
	int rc = sim_tree_add_instance(t, 0, 0);
	rc = rc ? rc : set_bytes(t, 0, LWM2M_TYPE_STRING, cfg->uri, strlen(cfg->uri));
	struct lwm2m_value b = { .path = res_path(0, 0, 1), .type = LWM2M_TYPE_BOOLEAN };
	b.v.b = true;
	rc = rc ? rc : sim_tree_set(t, &b);
	struct lwm2m_value m = { .path = res_path(0, 0, 2), .type = LWM2M_TYPE_INTEGER };
	m.v.i = cfg->identity ? 0 : 3;
	rc = rc ? rc : sim_tree_set(t, &m);
	if (cfg->identity) {
		rc = rc ? rc : set_bytes(t, 3, LWM2M_TYPE_OPAQUE, cfg->identity,
					 strlen(cfg->identity));
		rc = rc ? rc : set_bytes(t, 5, LWM2M_TYPE_OPAQUE, key, (size_t)key_len);
	}
	return rc;
}

/* The single value at /obj/inst/res, copied (bytes still the tree's), or false. */
static bool get_value(const struct sim_tree *t, uint16_t obj, uint16_t inst, uint16_t res,
		      struct lwm2m_value *out)
{
	for (size_t i = 0; i < t->values.count; i++) {
		const struct lwm2m_value *v = &t->values.items[i];
		if (v->path.len == 3 && v->path.ids[0] == obj && v->path.ids[1] == inst &&
		    v->path.ids[2] == res) {
			*out = *v;
			return true;
		}
	}
	return false;
}

static bool get_int(const struct sim_tree *t, uint16_t obj, uint16_t inst, uint16_t res,
		    int64_t *out)
{
	struct lwm2m_value v;
	if (!get_value(t, obj, inst, res, &v))
		return false;
	if (v.type == LWM2M_TYPE_BOOLEAN)
		*out = v.v.b;
	else if (v.type == LWM2M_TYPE_INTEGER || v.type == LWM2M_TYPE_UNSIGNED)
		*out = v.v.i;
	else
		return false;
	return true;
}

/* Bytes of a string or opaque value into buf as a C string (cap bytes); its length or -1. */
static int get_bytes(const struct sim_tree *t, uint16_t obj, uint16_t inst, uint16_t res,
		     void *buf, size_t cap, bool nul)
{
	struct lwm2m_value v;
	if (!get_value(t, obj, inst, res, &v) ||
	    (v.type != LWM2M_TYPE_STRING && v.type != LWM2M_TYPE_OPAQUE) ||
	    v.v.bytes.len + (nul ? 1 : 0) > cap)
		return -1;
	if (v.v.bytes.len)
		memcpy(buf, v.v.bytes.data, v.v.bytes.len);
	if (nul)
		((char *)buf)[v.v.bytes.len] = '\0';
	return (int)v.v.bytes.len;
}

static bool is_bs_account(const struct sim_tree *t, uint16_t inst)
{
	int64_t b = 0;
	return get_int(t, 0, inst, 1, &b) && b != 0;
}

/* The management server's account (see sim_bootstrap.h). 0, or -1 with why set. */
static int find_account(const struct sim_tree *t, struct sim_bs_account *a, const char **why)
{
	memset(a, 0, sizeof(*a));
	*why = "no management server Security instance (/0/x with /0/x/1 false)";
	for (size_t i = 0; i < t->instance_count; i++) {
		uint16_t inst = t->instances[i].inst;
		int64_t ssid, mode, v;
		if (t->instances[i].obj != 0 || is_bs_account(t, inst))
			continue;
		*why = "the management Security instance has no Short Server ID (/0/x/10)";
		if (!get_int(t, 0, inst, 10, &ssid))
			continue;
		*why = "no Server instance (/1/y) with the Short Server ID of /0/x/10";
		for (size_t j = 0; j < t->instance_count; j++) {
			uint16_t sv = t->instances[j].inst;
			if (t->instances[j].obj != 1 || !get_int(t, 1, sv, 0, &v) || v != ssid)
				continue;
			bool secure;
			*why = "the management server URI /0/x/0 is not coap:// or coaps://";
			if (get_bytes(t, 0, inst, 0, a->uri, sizeof(a->uri), true) < 0 ||
			    sim_bs_split_uri(a->uri, a->host_port, sizeof(a->host_port),
					     &secure) != 0)
				return -1;
			*why = "security mode /0/x/2 is neither 0 (PSK) with coaps:// nor 3 (NoSec)"
			       " with coap://";
			if (!get_int(t, 0, inst, 2, &mode) || (mode == 0) != secure ||
			    (mode != 0 && mode != 3))
				return -1;
			a->psk = mode == 0;
			int n = a->psk ? get_bytes(t, 0, inst, 5, a->key, sizeof(a->key), false) : 0;
			*why = "PSK without an identity (/0/x/3) and a key of 1..32 bytes (/0/x/5)";
			if (a->psk && (n <= 0 || get_bytes(t, 0, inst, 3, a->identity,
							   sizeof(a->identity), true) <= 0))
				return -1;
			a->key_len = n > 0 ? (size_t)n : 0;
			a->ssid = (uint16_t)ssid;
			a->lifetime = get_int(t, 1, sv, 1, &v) && v > 0 ? (unsigned)v : 86400;
			if (get_bytes(t, 1, sv, 7, a->binding, sizeof(a->binding), true) <= 0)
				snprintf(a->binding, sizeof(a->binding), "U");
			return 0;
		}
	}
	return -1;
}

static void append(char *buf, size_t cap, size_t *used, const char *fmt, const char *s,
		   long long a, long long b)
{
	if (*used >= cap)
		return;
	int n = s ? snprintf(buf + *used, cap - *used, fmt, s)
		  : snprintf(buf + *used, cap - *used, fmt, a, b);
	*used += n > 0 ? (size_t)n : 0;
}

/* Bootstrap-Discover (Core 1.1 §5.2.7.3) of / or /obj: lwm2m="1.1" (at the root), every
 * instance (</obj> for an object without one), Security instances with their ssid (not
 * the Bootstrap-Server's) and uri, Server instances with their ssid. Returns the
 * length, or -1 when it does not fit. */
static int discover(const struct sim_tree *t, const struct lwm2m_path *p, char *buf, size_t cap)
{
	size_t used = 0;
	if (p->len == 0)
		append(buf, cap, &used, "lwm2m=\"%s\"", "1.1", 0, 0);
	for (size_t i = 0; i < t->object_count; i++) {
		uint16_t obj = t->objects[i];
		bool any = false;
		if (p->len == 1 && obj != p->ids[0])
			continue;
		for (size_t j = 0; j < t->instance_count; j++) {
			uint16_t inst = t->instances[j].inst;
			if (t->instances[j].obj != obj)
				continue;
			any = true;
			append(buf, cap, &used, used ? ",</%lld/%lld>" : "</%lld/%lld>", NULL, obj,
			       inst);
			int64_t ssid;
			char uri[SIM_BS_URI_MAX];
			if ((obj == 0 && !is_bs_account(t, inst) && get_int(t, 0, inst, 10, &ssid)) ||
			    (obj == 1 && get_int(t, 1, inst, 0, &ssid)))
				append(buf, cap, &used, ";ssid=%lld", NULL, ssid, 0);
			if (obj == 0 && get_bytes(t, 0, inst, 0, uri, sizeof(uri), true) >= 0)
				append(buf, cap, &used, ";uri=\"%s\"", uri, 0, 0);
		}
		if (!any)
			append(buf, cap, &used, used ? ",</%lld>" : "</%lld>", NULL, obj, 0);
	}
	return used < cap ? (int)used : -1;
}

/* Whether Bootstrap-Delete leaves /obj/inst alone (Core 1.1 §5.2.7.5): the Bootstrap-
 * Server Account and the Device object's instance are "not affected by any Delete". */
static bool undeletable(const struct sim_tree *t, uint16_t obj, uint16_t inst)
{
	return obj == 3 || (obj == 0 && is_bs_account(t, inst));
}

/* Bootstrap-Delete: /, /obj or /obj/inst, all but what is undeletable — which, named
 * alone, is answered 4.00 (Transport §6.1: a bad URI for this operation). */
static uint8_t bs_delete(struct sim_tree *t, const struct lwm2m_path *p)
{
	if (p->len > 2 || (p->len == 2 && undeletable(t, p->ids[0], p->ids[1])))
		return COAP_CODE_BAD_REQUEST;
	for (size_t i = t->instance_count; i-- > 0;) {
		uint16_t obj = t->instances[i].obj, inst = t->instances[i].inst;
		if ((p->len >= 1 && obj != p->ids[0]) || (p->len == 2 && inst != p->ids[1]) ||
		    undeletable(t, obj, inst))
			continue;
		sim_tree_remove_instance(t, obj, inst);
	}
	return COAP_CODE_DELETED;
}

/* Bootstrap-Write (Core 1.1 §5.2.7.4): PUT on /obj, /obj/inst or a resource, whether or
 * not the instance exists (it is created); the values in the payload replace theirs. */
static uint8_t bs_write(struct sim_tree *t, const struct coap_msg *req, const struct lwm2m_path *p)
{
	uint32_t ct;
	if (p->len == 0)
		return COAP_CODE_BAD_REQUEST;
	if (coap_msg_get_uint_option(req, COAP_OPTION_CONTENT_FORMAT, &ct) != 0 || ct > 65535)
		return COAP_CODE_BAD_REQUEST;
	struct lwm2m_values vals;
	lwm2m_values_init(&vals);
	int rc = content_decode((uint16_t)ct, p, req->payload, req->payload_len, model_type_of,
				NULL, &vals);
	uint8_t code = rc == -ENOTSUP ? COAP_CODE_UNSUPPORTED_CONTENT_FORMAT
		       : rc != 0 || vals.count == 0 ? COAP_CODE_BAD_REQUEST
						    : COAP_CODE_CHANGED;
	for (size_t i = 0; code == COAP_CODE_CHANGED && i < vals.count; i++) {
		const struct lwm2m_value *v = &vals.items[i];
		if (v->path.len < 3) {
			code = COAP_CODE_BAD_REQUEST;
			break;
		}
		if (!sim_tree_has_instance(t, v->path.ids[0], v->path.ids[1]) &&
		    sim_tree_add_instance(t, v->path.ids[0], v->path.ids[1]) != 0)
			code = COAP_CODE_INTERNAL_SERVER_ERROR; /* SIM_TREE_MAX_INSTANCES */
		else if (sim_tree_set(t, v) != 0)
			code = COAP_CODE_INTERNAL_SERVER_ERROR;
	}
	lwm2m_values_free(&vals);
	return code;
}

struct bs_run {
	struct sim_tree *t;
	const struct sim_bs_config *cfg;
	const struct sim_bs_io *io;
	bool finished;      /* Finish answered 2.04 */
	bool refused;       /* Finish answered 4.06 */
	const char *why;    /* of a refused Finish */
	struct sim_bs_account *acct;
	uint16_t last_mid;  /* the latest CON served and its answer, resent on a duplicate */
	bool have_last;
	uint8_t last[BS_DATAGRAM_MAX];
	size_t last_len;
};

/* Bootstrap-Finish (Core 1.1 §5.2.7.6): 2.04 when the configuration gives a management
 * server to register to, 4.06 otherwise (or with --bs-fail-finish). */
static uint8_t bs_finish(struct bs_run *r)
{
	if (r->cfg->fail_finish) {
		r->why = "configuration refused (--bs-fail-finish)";
	} else if (find_account(r->t, r->acct, &r->why) == 0) {
		r->finished = true;
		return COAP_CODE_CHANGED;
	}
	r->refused = true;
	return COAP_CODE_NOT_ACCEPTABLE;
}

/* One request of the Bootstrap-Server, answered (piggybacked on the ACK of a CON). */
static void serve_request(struct bs_run *r, const struct coap_msg *req)
{
	if (req->type == COAP_TYPE_CON && r->have_last && req->mid == r->last_mid) {
		r->io->send(r->io->ctx, r->last, r->last_len); /* our ACK was lost */
		return;
	}
	struct coap_msg resp;
	char path_str[64], links[BS_LINKS_MAX], code_str[8];
	const char *what = "request";
	struct lwm2m_path p = { .len = 0 };
	uint8_t code;
	uint32_t accept;
	int n = -1;
	if (req->type == COAP_TYPE_CON)
		coap_msg_init(&resp, COAP_TYPE_ACK, 0, req->mid, req->token, req->token_len);
	else
		coap_msg_init(&resp, COAP_TYPE_NON, 0, (*r->io->mid)++, req->token,
			      req->token_len);
	bool path_ok = coap_msg_get_path(req, path_str, sizeof(path_str)) >= 0;
	if (path_ok && req->code == COAP_CODE_POST && strcmp(path_str, "/bs") == 0) {
		what = "finish";
		code = bs_finish(r);
	} else if (!path_ok || (strcmp(path_str, "/") != 0 &&
				lwm2m_path_parse(path_str, strlen(path_str), &p) != 0)) {
		code = COAP_CODE_NOT_FOUND;
	} else if (req->code == COAP_CODE_GET &&
		   coap_msg_get_uint_option(req, COAP_OPTION_ACCEPT, &accept) == 0 &&
		   accept == CONTENT_LINK) {
		what = "discover";
		n = p.len <= 1 ? discover(r->t, &p, links, sizeof(links)) : -1;
		code = p.len > 1 ? COAP_CODE_BAD_REQUEST
		       : p.len == 1 && !sim_tree_has_object(r->t, p.ids[0]) ? COAP_CODE_NOT_FOUND
		       : n < 0	  ? COAP_CODE_INTERNAL_SERVER_ERROR
				  : COAP_CODE_CONTENT;
	} else if (req->code == COAP_CODE_DELETE) {
		what = "delete";
		code = bs_delete(r->t, &p);
	} else if (req->code == COAP_CODE_PUT) {
		what = "write";
		code = bs_write(r->t, req, &p);
	} else {
		what = req->code == COAP_CODE_GET ? "read" : "request";
		code = COAP_CODE_METHOD_NOT_ALLOWED; /* Bootstrap-Read is optional */
	}
	resp.code = code;
	if (code == COAP_CODE_CONTENT) {
		coap_msg_add_uint_option(&resp, COAP_OPTION_CONTENT_FORMAT, CONTENT_LINK);
		coap_msg_set_payload(&resp, links, (size_t)n);
	}
	coap_code_format(code, code_str);
	if (strcmp(what, "finish") == 0)
		printf("bs finish %s\n", code_str);
	else if (COAP_CODE_CLASS(code) == 2)
		printf("bs %s %s\n", what, path_ok ? path_str : "?");
	else
		printf("bs %s %s %s\n", what, path_ok ? path_str : "?", code_str);
	uint8_t out[BS_DATAGRAM_MAX];
	int len = coap_msg_encode(&resp, out, sizeof(out));
	if (len <= 0)
		return;
	r->io->send(r->io->ctx, out, (size_t)len);
	if (req->type == COAP_TYPE_CON) {
		r->have_last = true;
		r->last_mid = req->mid;
		memcpy(r->last, out, (size_t)len);
		r->last_len = (size_t)len;
	}
}

/* A datagram: a request is served; anything else (an ACK of nothing, an RST) ignored. */
static void on_datagram(struct bs_run *r, const uint8_t *data, size_t len)
{
	struct coap_msg m;
	if (coap_msg_parse(&m, data, len) != 0 || COAP_CODE_CLASS(m.code) != 0 ||
	    m.code == COAP_CODE_EMPTY || (m.type != COAP_TYPE_CON && m.type != COAP_TYPE_NON))
		return;
	serve_request(r, &m);
}

static int64_t mono_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Whether m answers our POST /bs (sent with mid and token "bs"): the piggybacked ACK, or
 * a separate response after an empty ACK (RFC 7252 §5.2.2), which a CON asks us to ACK. */
static bool is_answer(const struct bs_run *r, const struct coap_msg *m, uint16_t mid,
		      bool *empty_ack)
{
	if (m->type == COAP_TYPE_ACK && m->mid == mid) {
		*empty_ack = m->code == COAP_CODE_EMPTY;
		return !*empty_ack;
	}
	if (!*empty_ack || COAP_CODE_CLASS(m->code) == 0 || m->token_len != 2 ||
	    memcmp(m->token, "bs", 2) != 0)
		return false;
	if (m->type == COAP_TYPE_CON) {
		struct coap_msg ack;
		uint8_t out[16];
		coap_msg_init(&ack, COAP_TYPE_ACK, COAP_CODE_EMPTY, m->mid, NULL, 0);
		int n = coap_msg_encode(&ack, out, sizeof(out));
		if (n > 0)
			r->io->send(r->io->ctx, out, (size_t)n);
	}
	return true;
}

/* POST /bs?ep=NAME[&pct=N] as CON, resent per RFC 7252 §4.2; the server's requests that
 * come meanwhile are served. Returns the answer's code, 0 without one, or -1 when the
 * session ended. */
static int request_bootstrap(struct bs_run *r, const char *ep)
{
	struct coap_msg m, a;
	char q_ep[160], q_pct[24];
	uint8_t out[BS_DATAGRAM_MAX], buf[BS_DATAGRAM_MAX];
	uint16_t mid = (*r->io->mid)++;
	coap_msg_init(&m, COAP_TYPE_CON, COAP_CODE_POST, mid, (const uint8_t *)"bs", 2);
	coap_msg_add_option(&m, COAP_OPTION_URI_PATH, "bs", 2);
	int n = snprintf(q_ep, sizeof(q_ep), "ep=%s", ep);
	coap_msg_add_option(&m, COAP_OPTION_URI_QUERY, q_ep, (size_t)n);
	if (r->cfg->pct > 0) {
		n = snprintf(q_pct, sizeof(q_pct), "pct=%d", r->cfg->pct);
		coap_msg_add_option(&m, COAP_OPTION_URI_QUERY, q_pct, (size_t)n);
	}
	int len = coap_msg_encode(&m, out, sizeof(out));
	if (len <= 0)
		return 0;
	bool empty_ack = false;
	int timeout = BS_ACK_TIMEOUT_MS;
	for (int attempt = 0; attempt <= BS_RETRANSMITS; attempt++, timeout *= 2) {
		if (!empty_ack)
			r->io->send(r->io->ctx, out, (size_t)len);
		int64_t deadline = mono_now_ms() + timeout;
		for (int64_t left; (left = deadline - mono_now_ms()) > 0;) {
			int got = r->io->receive(r->io->ctx, buf, sizeof(buf), (int)left);
			if (got == -ETIMEDOUT)
				break;
			if (got < 0)
				return -1;
			if (coap_msg_parse(&a, buf, (size_t)got) == 0 &&
			    is_answer(r, &a, mid, &empty_ack))
				return a.code;
			on_datagram(r, buf, (size_t)got);
		}
	}
	return 0;
}

/* The DTLS session with the Bootstrap-Server, as main.c's with the management server.
 * Returns 0 or -1 (printed why). */
static int handshake(const struct sim_bs_config *cfg, const struct sim_bs_io *io,
		     const struct addr *bs_server)
{
	uint8_t key[SIM_BS_KEY_MAX];
	int key_len = sim_hex_key(cfg->psk_hex, key);
	char err[192];
	if (key_len < 0 ||
	    dtls_client_connect(io->dtls, io->fd, bs_server, cfg->identity, key, (size_t)key_len,
				io->suite, io->handshake_timeout_ms, err, sizeof(err)) != 0) {
		printf("bootstrap failed handshake %s\n", key_len < 0 ? "bad key" : err);
		return -1;
	}
	printf("handshake %s\n", dtls_client_suite(*io->dtls));
	return 0;
}

int sim_bs_run(struct sim_tree *t, const char *ep, const struct sim_bs_config *cfg,
	       const struct sim_bs_io *io, const struct addr *bs_server,
	       struct sim_bs_account *acct)
{
	if (cfg->identity && handshake(cfg, io, bs_server) != 0)
		return -1;
	char code_str[8];
	int rc = -1, code;
	uint8_t buf[BS_DATAGRAM_MAX];
	struct bs_run *r = calloc(1, sizeof(*r));
	if (!r) {
		printf("bootstrap failed out of memory\n");
		goto out;
	}
	*r = (struct bs_run){ .t = t, .cfg = cfg, .io = io, .acct = acct };
	code = request_bootstrap(r, ep);
	if (code <= 0) {
		printf("bootstrap failed request %s\n", code < 0 ? "session closed" : "timeout");
		goto out;
	}
	printf("bs requested %s\n", coap_code_format((uint8_t)code, code_str));
	if (code != COAP_CODE_CHANGED) {
		printf("bootstrap failed request refused %s\n", code_str);
		goto out;
	}
	while (!r->finished && !r->refused) {
		int got = io->receive(io->ctx, buf, sizeof(buf), cfg->timeout_s * 1000);
		if (got == -ETIMEDOUT) {
			printf("bootstrap failed no request from the server within %d s\n",
			       cfg->timeout_s);
			goto out;
		}
		if (got < 0) {
			printf("bootstrap failed session closed by the server\n");
			goto out;
		}
		on_datagram(r, buf, (size_t)got);
	}
	if (r->refused) {
		printf("bootstrap failed finish refused 4.06: %s\n", r->why);
		goto out;
	}
	printf("bootstrapped server=%s security=%s ssid=%u lifetime=%u\n", acct->uri,
	       acct->psk ? "psk" : "nosec", acct->ssid, acct->lifetime);
	rc = 0;
out:
	free(r);
	if (cfg->identity) {
		/* The bootstrap session ends here (close_notify, RFC 5246 §7.2.1). */
		dtls_client_close(*io->dtls);
		dtls_client_free(*io->dtls);
		*io->dtls = NULL;
	}
	return rc;
}
