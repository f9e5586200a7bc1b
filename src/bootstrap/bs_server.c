/*
 * bs_server: the Bootstrap-Server's listeners, its Bootstrap-Request (POST /bs) and the
 * credentials it takes (bs_server.h). The sequence itself is bs_session.c.
 */
#include "bootstrap/bs_server.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bootstrap/bs_internal.h"
#include "lwm2m/lwm2m_requests.h"
#include "net/udp.h"
#include "store/store_bootstrap.h"
#include "util/log.h"
#include "util/timefmt.h"
#include "util/str.h"

static uint64_t clock_u64(void)
{
	return (uint64_t)time_now_ms();
}

/* Which configuration applies to a device: its own, else its product's template. 0 with
 * cfg filled (and *is_template), or -ENOENT when neither exists or is readable. */
static int effective_config(struct bs_server *bs, const struct store_device *dev,
			    struct bs_config *cfg, bool *is_template)
{
	static struct store_bs_device row; /* loop thread only: too big for the stack */
	static struct store_bs_template tmpl;
	if (store_bs_device_get(bs->deps.store, dev->project_id, dev->device_id, &row) == 0) {
		*is_template = false;
		return bs_config_parse(row.config, false, cfg) == 0 ? 0 : -ENOENT;
	}
	if (store_bs_template_get(bs->deps.store, dev->project_id, dev->product_id, &tmpl) == 0) {
		*is_template = true;
		return bs_config_parse(tmpl.config, true, cfg) == 0 ? 0 : -ENOENT;
	}
	return -ENOENT;
}

/* The bootstrap key of a PSK identity: a device's own (its bs_identity), or, for a node
 * ID under its product's template, derived from the template's master key. */
static int on_psk(void *ctx, const char *identity, uint8_t key[DTLS_PSK_MAX], size_t *key_len)
{
	struct bs_listener *l = ctx;
	struct bs_server *bs = l->bs;
	static struct store_bs_device row;
	struct bs_config cfg;
	if (store_bs_device_by_identity(bs->deps.store, identity, &row) == 0) {
		if (bs_config_parse(row.config, false, &cfg) != 0 || cfg.bs_key_len == 0 ||
		    cfg.bs_key_len > DTLS_PSK_MAX)
			return -ENOENT;
		memcpy(key, cfg.bs_key, cfg.bs_key_len);
		*key_len = cfg.bs_key_len;
		return 0;
	}
	struct store_device dev;
	bool is_template;
	if (store_device_get_by_node_id(bs->deps.store, identity, &dev) != 0 ||
	    effective_config(bs, &dev, &cfg, &is_template) != 0 || !is_template ||
	    cfg.master_key_len == 0)
		return -ENOENT;
	bs_config_derive_key(&cfg, identity, key);
	*key_len = BS_DERIVED_KEY_LEN;
	return 0;
}

/* The device a Bootstrap-Request is from: over DTLS by its identity (ep, when given,
 * must be its node ID), over CoAP by ep. 0 with dev, or a CoAP code to answer. */
static uint8_t who_asks(struct bs_server *bs, const char *identity, const char *ep,
			struct store_device *dev)
{
	if (identity) {
		static struct store_bs_device row;
		const char *node = identity;
		if (store_bs_device_by_identity(bs->deps.store, identity, &row) == 0)
			node = row.node_id;
		if (store_device_get_by_node_id(bs->deps.store, node, dev) != 0)
			return COAP_CODE_FORBIDDEN;
		if (ep[0] && strcmp(ep, dev->node_id) != 0)
			return COAP_CODE_FORBIDDEN;
		return 0;
	}
	if (!ep[0])
		return COAP_CODE_BAD_REQUEST;
	return store_device_get_by_node_id(bs->deps.store, ep, dev) == 0 ? 0
									   : COAP_CODE_FORBIDDEN;
}

/* The Uri-Query values of a Bootstrap-Request: ep (required over CoAP) and pct. */
static int read_query(const struct coap_msg *req, char *ep, size_t cap, int *pct)
{
	ep[0] = '\0';
	*pct = -1;
	for (size_t i = 0; i < req->option_count; i++) {
		const struct coap_option *o = &req->options[i];
		if (o->number != COAP_OPTION_URI_QUERY)
			continue;
		size_t len = o->len;
		if (len > 3 && memcmp(o->value, "ep=", 3) == 0) {
			if (len - 3 >= cap)
				return -EINVAL;
			memcpy(ep, o->value + 3, len - 3);
			ep[len - 3] = '\0';
			if (strlen(ep) != len - 3)
				return -EINVAL;
		} else if (len > 4 && memcmp(o->value, "pct=", 4) == 0) {
			char num[8];
			if (len - 4 >= sizeof(num))
				return -EINVAL;
			memcpy(num, o->value + 4, len - 4);
			num[len - 4] = '\0';
			long v = 0;
			for (const char *c = num; *c; c++) {
				if (*c < '0' || *c > '9')
					return -EINVAL; /* digits only: no sign, no space */
				v = v * 10 + (*c - '0');
			}
			if (v > 65535)
				return -EINVAL;
			*pct = (int)v;
		}
	}
	return 0;
}

static bool is_bootstrap_request(const struct coap_msg *req)
{
	const struct coap_option *o = coap_msg_find_option(req, COAP_OPTION_URI_PATH);
	return req->code == COAP_CODE_POST && o && o->len == 2 && memcmp(o->value, "bs", 2) == 0 &&
	       coap_msg_count_options(req, COAP_OPTION_URI_PATH) == 1;
}

static void refuse(struct bs_server *bs, struct coap_msg *resp, uint8_t code, const char *ep,
		   const struct addr *peer, const char *why)
{
	char p[ADDR_STR_MAX];
	bs->stats.refused++;
	resp->code = code;
	LOG_WARN_RATE("bootstrap", "refused", "bootstrap of '%s' from %s refused: %s",
		      ep[0] ? ep : "?", addr_format(peer, p), why);
}

static void on_kick(uv_timer_t *t)
{
	struct bs_server *bs = t->data;
	while (bs->starting) {
		struct bs_session *s = bs->starting;
		bs->starting = s->next_start;
		s->next_start = NULL;
		bs_session_begin(s);
	}
}

/* POST /bs?ep=…: who it is, whether it may, then 2.04 and the sequence next turn. */
static void bootstrap_request(struct bs_listener *l, const struct addr *peer,
			      const struct coap_msg *req, struct coap_msg *resp)
{
	struct bs_server *bs = l->bs;
	char ep[STORE_NODE_ID_MAX + 1];
	int pct;
	bs->stats.requests++;
	const char *identity = l->dtls_srv ? dtls_server_peer_identity(l->dtls_srv, peer) : NULL;
	if (read_query(req, ep, sizeof(ep), &pct) != 0) {
		refuse(bs, resp, COAP_CODE_BAD_REQUEST, "", peer, "malformed query");
		return;
	}
	struct store_device dev;
	uint8_t code = who_asks(bs, identity, ep, &dev);
	if (code) {
		refuse(bs, resp, code, ep, peer, "no such device, or not this credential's");
		return;
	}
	struct bs_config cfg;
	bool is_template;
	if (effective_config(bs, &dev, &cfg, &is_template) != 0) {
		refuse(bs, resp, COAP_CODE_FORBIDDEN, dev.node_id, peer,
		       "no bootstrap configuration for the device or its product");
		return;
	}
	if (!l->dtls_srv && !cfg.allow_plain) {
		refuse(bs, resp, COAP_CODE_FORBIDDEN, dev.node_id, peer,
		       "plain CoAP bootstrap not allowed (allow_plain)");
		return;
	}
	struct bs_session *s = bs_session_find(bs, dev.node_id);
	if (s) {
		/* It asks again (it restarted): the old sequence goes. */
		bs_session_free(s);
	} else if (bs->stats.in_progress >= bs->deps.max_sessions) {
		refuse(bs, resp, COAP_CODE_SERVICE_UNAVAILABLE, dev.node_id, peer,
		       "too many bootstraps in progress");
		coap_msg_add_uint_option(resp, COAP_OPTION_MAX_AGE, 10);
		return;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		resp->code = COAP_CODE_INTERNAL_SERVER_ERROR;
		return;
	}
	s->bs = bs;
	s->l = l;
	s->peer = *peer;
	s->cfg = cfg;
	s->pct = pct;
	s->started_ms = time_now_ms();
	str_copy(s->node_id, sizeof(s->node_id), dev.node_id);
	str_copy(s->project_id, sizeof(s->project_id), dev.project_id);
	str_copy(s->device_id, sizeof(s->device_id), dev.device_id);
	str_copy(s->secret, sizeof(s->secret), dev.secret);
	hmap_insert(&bs->sessions, &s->by_node, hash_str(s->node_id));
	bs->stats.in_progress++;
	/* The sequence's requests must not overtake this 2.04: they start next turn. */
	s->next_start = bs->starting;
	bs->starting = s;
	uv_timer_start(&bs->kick, on_kick, 0, 0);
	resp->code = COAP_CODE_CHANGED;
}

static void on_request(void *ctx, const struct addr *peer, const struct coap_msg *req,
		       struct coap_msg *resp, uint64_t now)
{
	struct bs_listener *l = ctx;
	(void)now;
	if (is_bootstrap_request(req))
		bootstrap_request(l, peer, req, resp);
	else
		resp->code = COAP_CODE_NOT_FOUND;
}

static void on_send(void *ctx, const struct addr *peer, const uint8_t *data, size_t len)
{
	struct bs_listener *l = ctx;
	if (l->dtls_srv)
		dtls_server_send(l->dtls_srv, peer, data, len, clock_u64());
	else
		net_udp_send(l->udp, peer, data, len);
}

static void on_datagram(void *ctx, const struct addr *from, const uint8_t *data, size_t len)
{
	struct bs_listener *l = ctx;
	if (l->dtls_srv)
		dtls_server_input(l->dtls_srv, from, data, len, clock_u64());
	else
		coap_ep_input(l->ep, from, data, len, clock_u64());
}

static void on_dtls_send(void *ctx, const struct addr *peer, const uint8_t *data, size_t len)
{
	struct bs_listener *l = ctx;
	net_udp_send(l->udp, peer, data, len);
}

static void on_dtls_recv(void *ctx, const struct addr *peer, const uint8_t *data, size_t len)
{
	struct bs_listener *l = ctx;
	coap_ep_input(l->ep, peer, data, len, clock_u64());
}

/* Where a bootstrapping device's requests go: its session's listener and address. */
static int route(void *ctx, const char *node_id, struct lwm2m_route *r)
{
	struct bs_session *s = bs_session_find(ctx, node_id);
	if (!s)
		return -ENOTCONN;
	r->ep = s->l->ep;
	r->peer = s->peer;
	r->asleep = false;
	r->prefix[0] = '\0';
	return 0;
}

int bs_server_create(struct bs_server **out, const struct bs_server_deps *deps)
{
	struct bs_server *bs = calloc(1, sizeof(*bs));
	if (!bs)
		return -ENOMEM;
	bs->deps = *deps;
	if (!bs->deps.max_sessions)
		bs->deps.max_sessions = BS_DEFAULT_MAX_SESSIONS;
	int rc = hmap_init(&bs->sessions);
	if (rc == 0)
		rc = lwm2m_requests_create(&bs->requests, deps->loop, route, clock_u64, bs);
	if (rc) {
		hmap_destroy(&bs->sessions);
		free(bs);
		return rc;
	}
	uv_timer_init(deps->loop, &bs->kick);
	bs->kick.data = bs;
	*out = bs;
	return 0;
}

int bs_server_listen(struct bs_server *bs, const char *where, bool dtls)
{
	struct addr bind;
	if (bs->listener_count >= BS_MAX_LISTENERS)
		return -E2BIG;
	if (addr_parse(&bind, where) != 0) {
		fprintf(stderr, "lwm2md: bad bootstrap address '%s' (expected HOST:PORT)\n", where);
		return -EINVAL;
	}
	struct bs_listener *l = &bs->listeners[bs->listener_count];
	memset(l, 0, sizeof(*l));
	l->bs = bs;
	l->dtls = dtls;
	int rc = coap_ep_create(&l->ep, &bs->deps.coap, on_send, on_request, l);
	if (rc)
		return rc;
	if (dtls) {
		struct dtls_server_hooks hooks = { .psk = on_psk, .recv = on_dtls_recv,
						   .send = on_dtls_send };
		rc = dtls_server_create(&l->dtls_srv, &bs->deps.dtls, &hooks, l);
		if (rc) {
			coap_ep_destroy(l->ep);
			return rc;
		}
	}
	rc = net_udp_open(&l->udp, bs->deps.loop, &bind, on_datagram, l);
	const char *scheme = dtls ? "bootstrap-coaps" : "bootstrap-coap";
	if (rc) {
		fprintf(stderr, "lwm2md: cannot bind %s %s: %s\n", scheme, where, uv_strerror(rc));
		coap_ep_destroy(l->ep);
		dtls_server_destroy(l->dtls_srv);
		memset(l, 0, sizeof(*l));
		return rc;
	}
	bs->listener_count++;
	struct addr local;
	char buf[ADDR_STR_MAX];
	net_udp_local_addr(l->udp, &local);
	printf("listening %s %s\n", scheme, addr_format(&local, buf));
	return 0;
}

void bs_server_tick(struct bs_server *bs, uint64_t now_ms)
{
	for (int i = 0; i < bs->listener_count; i++) {
		if (bs->listeners[i].dtls_srv)
			dtls_server_tick(bs->listeners[i].dtls_srv, now_ms);
		coap_ep_tick(bs->listeners[i].ep, now_ms);
	}
	bs_sessions_expire(bs, (int64_t)now_ms);
}

static void free_session(struct hmap_node *n, void *ctx)
{
	(void)ctx;
	free(container_of(n, struct bs_session, by_node));
}

static void free_server(uv_handle_t *h)
{
	free(h->data);
}

void bs_server_destroy(struct bs_server *bs)
{
	if (!bs)
		return;
	/* The requests first (no callbacks), then the endpoints they went through. */
	lwm2m_requests_destroy(bs->requests);
	hmap_for_each(&bs->sessions, free_session, NULL);
	hmap_destroy(&bs->sessions);
	for (int i = 0; i < bs->listener_count; i++) {
		net_udp_close(bs->listeners[i].udp);
		coap_ep_destroy(bs->listeners[i].ep);
		dtls_server_destroy(bs->listeners[i].dtls_srv);
	}
	/* bs goes once the loop has closed its timer (the daemon's stop runs the loop). */
	uv_close((uv_handle_t *)&bs->kick, free_server);
}

const struct bs_server_stats *bs_server_stats(const struct bs_server *bs)
{
	return &bs->stats;
}
