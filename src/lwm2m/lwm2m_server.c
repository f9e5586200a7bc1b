/*
 * lwm2m_server: the registration interface. See lwm2m_server.h.
 *
 * Requests it serves (OMA-TS-LightweightM2M_Transport 1.1 §6.2.1, Core §6.2):
 *   POST   /rd?ep=&lt=&lwm2m=&b=&Q   Register     → 2.01, Location-Path rd/{id}
 *   POST   /rd/{id}?lt=&b=           Update       → 2.04
 *   DELETE /rd/{id}                  De-register  → 2.02
 * Anything else under /rd is 4.05 (wrong method) or 4.04; other paths are 4.04.
 */
#include "lwm2m/lwm2m_server.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "lwm2m/lwm2m_link.h"
#include "util/log.h"

/* Registration lines a call site writes per log window (10 s) before it only counts them
 * and writes a summary: a device (or someone replaying its plain-CoAP Register) cannot
 * fill the disk with them, and a fleet re-registering after a restart still shows its
 * first hundred. */
#define LOG_REGISTRATION_LINES 100

struct lwm2m_server {
	struct lwm2m_hooks hooks;
	void *ctx;
	struct hmap by_endpoint;
	struct hmap by_id;
	struct hmap by_peer;
	struct heap expiries;
	struct lwm2m_server_stats stats;
	char location_id[LWM2M_REG_ID_LEN + 1]; /* Location-Path value of the last 2.01 */
};

/* What a Register or Update's Uri-Query options say. Pointers into the datagram. */
struct reg_query {
	const uint8_t *ep;
	size_t ep_len;
	bool has_lt;
	uint32_t lt;
	const uint8_t *version;
	size_t version_len;
	const uint8_t *binding;
	size_t binding_len;
	bool queue;
};

int lwm2m_server_create(struct lwm2m_server **out, const struct lwm2m_hooks *hooks, void *ctx)
{
	struct lwm2m_server *srv = calloc(1, sizeof(*srv));
	if (!srv)
		return -ENOMEM;
	srv->hooks = *hooks;
	srv->ctx = ctx;
	if (hmap_init(&srv->by_endpoint) != 0 || hmap_init(&srv->by_id) != 0 ||
	    hmap_init(&srv->by_peer) != 0) {
		hmap_destroy(&srv->by_endpoint);
		free(srv);
		return -ENOMEM;
	}
	*out = srv;
	return 0;
}

static void reg_free(struct lwm2m_registration *reg)
{
	free(reg->links);
	free(reg);
}

static void free_reg_node(struct hmap_node *node, void *ctx)
{
	(void)ctx;
	reg_free(container_of(node, struct lwm2m_registration, by_endpoint));
}

void lwm2m_server_destroy(struct lwm2m_server *srv)
{
	if (!srv)
		return;
	/* The heap points into the registrations: empty it before they are freed. */
	heap_destroy(&srv->expiries);
	hmap_for_each(&srv->by_endpoint, free_reg_node, NULL);
	hmap_destroy(&srv->by_endpoint);
	hmap_destroy(&srv->by_id);
	hmap_destroy(&srv->by_peer);
	free(srv);
}

struct lwm2m_registration *lwm2m_server_find_endpoint(struct lwm2m_server *srv,
						      const char *endpoint)
{
	uint64_t h = hash_str(endpoint);
	struct hmap_node *n;
	HMAP_FOR_EACH_WITH_HASH(n, h, &srv->by_endpoint)
	{
		struct lwm2m_registration *reg =
			container_of(n, struct lwm2m_registration, by_endpoint);
		if (strcmp(reg->endpoint, endpoint) == 0)
			return reg;
	}
	return NULL;
}

struct lwm2m_registration *lwm2m_server_find_id(struct lwm2m_server *srv, const char *id)
{
	uint64_t h = hash_str(id);
	struct hmap_node *n;
	HMAP_FOR_EACH_WITH_HASH(n, h, &srv->by_id)
	{
		struct lwm2m_registration *reg = container_of(n, struct lwm2m_registration, by_id);
		if (strcmp(reg->id, id) == 0)
			return reg;
	}
	return NULL;
}

struct lwm2m_registration *lwm2m_server_find_peer(struct lwm2m_server *srv,
						  enum lwm2m_transport transport,
						  const struct addr *peer)
{
	uint64_t h = addr_hash(peer);
	struct hmap_node *n;
	HMAP_FOR_EACH_WITH_HASH(n, h, &srv->by_peer)
	{
		struct lwm2m_registration *reg =
			container_of(n, struct lwm2m_registration, by_peer);
		if (reg->transport == transport && addr_equal(&reg->peer, peer))
			return reg;
	}
	return NULL;
}

/* Moves reg to a new peer address in the by-peer table. */
static void reg_set_peer(struct lwm2m_server *srv, struct lwm2m_registration *reg,
			 const struct addr *peer)
{
	if (addr_equal(&reg->peer, peer))
		return;
	hmap_remove(&srv->by_peer, &reg->by_peer);
	reg->peer = *peer;
	hmap_insert(&srv->by_peer, &reg->by_peer, addr_hash(peer));
}

static int reg_insert(struct lwm2m_server *srv, struct lwm2m_registration *reg)
{
	int64_t expires = reg->updated_at_ms + (int64_t)reg->lifetime * 1000;
	heap_node_init(&reg->expiry);
	if (heap_set(&srv->expiries, &reg->expiry, (uint64_t)expires) != 0)
		return -ENOMEM;
	hmap_insert(&srv->by_endpoint, &reg->by_endpoint, hash_str(reg->endpoint));
	hmap_insert(&srv->by_id, &reg->by_id, hash_str(reg->id));
	hmap_insert(&srv->by_peer, &reg->by_peer, addr_hash(&reg->peer));
	return 0;
}

/* Takes reg out of the tables, tells the owner why, and frees it. */
static void reg_drop(struct lwm2m_server *srv, struct lwm2m_registration *reg,
		     enum lwm2m_dereg_reason reason)
{
	char peer_str[ADDR_STR_MAX];
	addr_format(&reg->peer, peer_str);
	switch (reason) {
	case LWM2M_DEREG_REQUESTED:
		LOG_INFO_RATE_N("lwm2m", "de-registered", LOG_REGISTRATION_LINES,
				"de-registered '%s' (rd/%s) from %s", reg->endpoint, reg->id,
				peer_str);
		break;
	case LWM2M_DEREG_EXPIRED:
		LOG_INFO_RATE_N("lwm2m", "registration expired", LOG_REGISTRATION_LINES,
				"registration of '%s' (rd/%s, last from %s) expired: no Update "
				"within its lifetime of %u s",
				reg->endpoint, reg->id, peer_str, reg->lifetime);
		break;
	case LWM2M_DEREG_REMOVED:
		LOG_INFO_RATE_N("lwm2m", "registration removed", LOG_REGISTRATION_LINES,
				"registration of '%s' (rd/%s) ended: the device was deleted",
				reg->endpoint, reg->id);
		break;
	case LWM2M_DEREG_REPLACED: /* the new registration's line says enough */
		LOG_DEBUG("lwm2m", "registration rd/%s of '%s' replaced by a new Register", reg->id,
			  reg->endpoint);
		break;
	}
	hmap_remove(&srv->by_endpoint, &reg->by_endpoint);
	hmap_remove(&srv->by_id, &reg->by_id);
	hmap_remove(&srv->by_peer, &reg->by_peer);
	heap_remove(&srv->expiries, &reg->expiry);
	if (srv->hooks.deregistered)
		srv->hooks.deregistered(srv->ctx, reg, reason);
	reg_free(reg);
}

void lwm2m_server_remove(struct lwm2m_server *srv, struct lwm2m_registration *reg)
{
	reg_drop(srv, reg, LWM2M_DEREG_REMOVED);
}

size_t lwm2m_server_count(const struct lwm2m_server *srv)
{
	return srv->by_endpoint.count;
}

const struct lwm2m_server_stats *lwm2m_server_stats(const struct lwm2m_server *srv)
{
	return &srv->stats;
}

/* A fresh registration id: LWM2M_REG_ID_LEN characters of [0-9A-Za-z] from the system's
 * CSPRNG, so that ids cannot be guessed to update or delete another device's
 * registration. */
static void new_reg_id(struct lwm2m_server *srv, char id[LWM2M_REG_ID_LEN + 1])
{
	static const char alphabet[] =
		"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
	do {
		uint8_t rnd[LWM2M_REG_ID_LEN];
		if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
			for (size_t i = 0; i < sizeof(rnd); i++)
				rnd[i] = (uint8_t)rand();
		for (size_t i = 0; i < LWM2M_REG_ID_LEN; i++)
			id[i] = alphabet[rnd[i] % 62];
		id[LWM2M_REG_ID_LEN] = '\0';
	} while (lwm2m_server_find_id(srv, id));
}

static bool parse_u32(const uint8_t *s, size_t len, uint32_t *out)
{
	uint64_t v = 0;
	if (len == 0 || len > 10)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v > UINT32_MAX)
		return false;
	*out = (uint32_t)v;
	return true;
}

static bool option_has_prefix(const struct coap_option *o, const char *prefix, size_t n)
{
	return o->len >= n && memcmp(o->value, prefix, n) == 0;
}

/* Reads the Uri-Query options. Unknown parameters are tolerated (Core §6.2.1 lists
 * optional ones such as sms and pid); malformed known ones make it fail with -EINVAL. */
static int parse_query(const struct coap_msg *req, struct reg_query *q)
{
	memset(q, 0, sizeof(*q));
	for (size_t i = 0; i < req->option_count; i++) {
		const struct coap_option *o = &req->options[i];
		if (o->number != COAP_OPTION_URI_QUERY)
			continue;
		if (option_has_prefix(o, "ep=", 3)) {
			q->ep = o->value + 3;
			q->ep_len = o->len - 3u;
		} else if (option_has_prefix(o, "lt=", 3)) {
			if (!parse_u32(o->value + 3, o->len - 3u, &q->lt) || q->lt == 0 ||
			    q->lt > LWM2M_MAX_LIFETIME)
				return -EINVAL;
			q->has_lt = true;
		} else if (option_has_prefix(o, "lwm2m=", 6)) {
			q->version = o->value + 6;
			q->version_len = o->len - 6u;
		} else if (option_has_prefix(o, "b=", 2)) {
			q->binding = o->value + 2;
			q->binding_len = o->len - 2u;
		} else if (o->len == 1 && o->value[0] == 'Q') {
			q->queue = true;
		}
	}
	return 0;
}

/* Endpoint names: printable ASCII without spaces, 1–64 bytes. Whether a device of that
 * name exists is the owner's call (authorize). */
static bool endpoint_valid(const uint8_t *s, size_t len)
{
	if (len == 0 || len > LWM2M_ENDPOINT_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (s[i] <= ' ' || s[i] > '~')
			return false;
	return true;
}

/* Core §6.2.1: binding letters U, S, N, T (1.1) and Q (1.0 queue mode), each once. */
static bool binding_valid(const uint8_t *s, size_t len)
{
	if (len == 0 || len > 4)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (!strchr("USNTQ", s[i]) || s[i] == '\0')
			return false;
		if (memchr(s, s[i], i))
			return false;
	}
	return true;
}

/* "1.0", "1.1", ...: 0 when supported, 1 when newer than 1.1, -1 when malformed. */
static int version_check(const uint8_t *s, size_t len)
{
	uint32_t major = 0, minor = 0;
	const uint8_t *dot = memchr(s, '.', len);
	if (!dot || !parse_u32(s, (size_t)(dot - s), &major) ||
	    !parse_u32(dot + 1, len - (size_t)(dot - s) - 1, &minor))
		return -1;
	if (major == 1 && minor <= 1)
		return 0;
	return major == 0 ? -1 : 1;
}

static void copy_str(char *dst, size_t cap, const uint8_t *src, size_t len)
{
	if (len >= cap)
		len = cap - 1;
	memcpy(dst, src, len);
	dst[len] = '\0';
}

static char *dup_links(const struct coap_msg *req)
{
	char *links = malloc(req->payload_len + 1);
	if (links) {
		memcpy(links, req->payload, req->payload_len);
		links[req->payload_len] = '\0';
	}
	return links;
}

/* The payload of a Register/Update must be link-format when it says what it is. */
static bool links_acceptable(const struct coap_msg *req)
{
	uint32_t ct;
	if (coap_msg_get_uint_option(req, COAP_OPTION_CONTENT_FORMAT, &ct) == 0 &&
	    ct != COAP_CT_LINK_FORMAT)
		return false;
	struct lwm2m_reg_links info;
	return lwm2m_reg_links_check((const char *)req->payload, req->payload_len, &info) == 0;
}

static uint8_t handle_register(struct lwm2m_server *srv, enum lwm2m_transport transport,
			       const char *psk_identity, const struct addr *peer,
			       const struct coap_msg *req, struct coap_msg *resp, int64_t now_ms)
{
	struct reg_query q;
	char endpoint[LWM2M_ENDPOINT_MAX + 1];
	char peer_str[ADDR_STR_MAX];

	if (parse_query(req, &q) != 0)
		return COAP_CODE_BAD_REQUEST;
	if (!q.ep && psk_identity) {
		/* Transport §5.2.1 (1.1): without ep the endpoint is the DTLS identity. */
		q.ep = (const uint8_t *)psk_identity;
		q.ep_len = strlen(psk_identity);
	}
	if (!q.ep || !endpoint_valid(q.ep, q.ep_len))
		return COAP_CODE_BAD_REQUEST;
	if (q.version) {
		int v = version_check(q.version, q.version_len);
		if (v < 0)
			return COAP_CODE_BAD_REQUEST;
		/* Core §6.2.1.1: a version the server does not support is 4.12, so that the
		 * client can fall back to an older one. */
		if (v > 0)
			return COAP_CODE_PRECONDITION_FAILED;
	}
	if (q.binding && !binding_valid(q.binding, q.binding_len))
		return COAP_CODE_BAD_REQUEST;
	if (!links_acceptable(req))
		return COAP_CODE_BAD_REQUEST;
	copy_str(endpoint, sizeof(endpoint), q.ep, q.ep_len);

	void *owner = NULL;
	const char *why = "refused by the owner";
	uint8_t denied = srv->hooks.authorize(srv->ctx, endpoint, transport, psk_identity, peer,
					      &owner, &why);
	if (denied) {
		LOG_WARN_RATE("lwm2m", "registration refused",
			      "registration of '%s' from %s refused (%u.%02u): %s", endpoint,
			      addr_format(peer, peer_str), COAP_CODE_CLASS(denied),
			      COAP_CODE_DETAIL(denied), why);
		return denied;
	}

	struct lwm2m_registration *reg = calloc(1, sizeof(*reg));
	if (!reg)
		return COAP_CODE_SERVICE_UNAVAILABLE;
	reg->links = dup_links(req);
	if (!reg->links) {
		free(reg);
		return COAP_CODE_SERVICE_UNAVAILABLE;
	}
	memcpy(reg->endpoint, endpoint, sizeof(endpoint));
	reg->owner = owner;
	reg->lifetime = q.has_lt ? q.lt : LWM2M_DEFAULT_LIFETIME;
	copy_str(reg->version, sizeof(reg->version), q.version ? q.version : (const uint8_t *)"1.0",
		 q.version ? q.version_len : 3);
	copy_str(reg->binding, sizeof(reg->binding), q.binding ? q.binding : (const uint8_t *)"U",
		 q.binding ? q.binding_len : 1);
	reg->queue_mode = q.queue || strchr(reg->binding, 'Q') != NULL;
	reg->transport = (uint8_t)transport;
	reg->peer = *peer;
	reg->registered_at_ms = reg->updated_at_ms = reg->last_seen_ms = now_ms;

	/* Core §6.2.1: a Register of an endpoint already registered replaces it. */
	struct lwm2m_registration *old = lwm2m_server_find_endpoint(srv, endpoint);
	if (old)
		reg_drop(srv, old, LWM2M_DEREG_REPLACED);
	new_reg_id(srv, reg->id);
	if (reg_insert(srv, reg) != 0) {
		reg_free(reg);
		return COAP_CODE_SERVICE_UNAVAILABLE;
	}
	srv->stats.registrations++;
	LOG_INFO_RATE_N("lwm2m", "registered", LOG_REGISTRATION_LINES,
			"registered '%s' (rd/%s) from %s over %s, lifetime %u s, binding %s, LwM2M %s",
			reg->endpoint, reg->id, addr_format(peer, peer_str),
			transport == LWM2M_TRANSPORT_DTLS ? "dtls" : "udp", reg->lifetime,
			reg->binding, reg->version);
	if (srv->hooks.registered)
		srv->hooks.registered(srv->ctx, reg);

	memcpy(srv->location_id, reg->id, sizeof(srv->location_id));
	coap_msg_add_option(resp, COAP_OPTION_LOCATION_PATH, "rd", 2);
	coap_msg_add_option(resp, COAP_OPTION_LOCATION_PATH, srv->location_id,
			    LWM2M_REG_ID_LEN);
	return COAP_CODE_CREATED;
}

/* The registration named by /rd/{id}, if the requester may act on it: the transport must
 * be the one it registered over (a plain-UDP peer must not touch a DTLS registration),
 * and over DTLS the identity must be its endpoint. */
static struct lwm2m_registration *find_own(struct lwm2m_server *srv,
					   enum lwm2m_transport transport,
					   const char *psk_identity, const struct coap_option *id)
{
	char idbuf[LWM2M_REG_ID_LEN + 1];
	if (id->len != LWM2M_REG_ID_LEN)
		return NULL;
	copy_str(idbuf, sizeof(idbuf), id->value, id->len);
	struct lwm2m_registration *reg = lwm2m_server_find_id(srv, idbuf);
	if (!reg || reg->transport != transport)
		return NULL;
	if (psk_identity && strcmp(psk_identity, reg->endpoint) != 0)
		return NULL;
	return reg;
}

static uint8_t handle_update(struct lwm2m_server *srv, struct lwm2m_registration *reg,
			     const struct addr *peer, const struct coap_msg *req, int64_t now_ms)
{
	struct reg_query q;
	if (parse_query(req, &q) != 0)
		return COAP_CODE_BAD_REQUEST;
	if (q.binding && !binding_valid(q.binding, q.binding_len))
		return COAP_CODE_BAD_REQUEST;
	char *links = NULL;
	if (req->payload_len) {
		if (!links_acceptable(req))
			return COAP_CODE_BAD_REQUEST;
		links = dup_links(req);
		if (!links)
			return COAP_CODE_SERVICE_UNAVAILABLE;
	}
	if (links) {
		free(reg->links);
		reg->links = links;
	}
	if (q.has_lt)
		reg->lifetime = q.lt;
	if (q.binding) {
		copy_str(reg->binding, sizeof(reg->binding), q.binding, q.binding_len);
		reg->queue_mode = q.queue || strchr(reg->binding, 'Q') != NULL;
	}
	/* A NAT may have given the device a new address since the last message. */
	reg_set_peer(srv, reg, peer);
	reg->updated_at_ms = reg->last_seen_ms = now_ms;
	/* The heap keeps the expiry a registration had when it was queued; an Update that
	 * moves it later leaves the heap alone and lwm2m_server_tick queues it again when the
	 * old time comes. With a million registrations a re-sift per Update was a walk of ~20
	 * cache-missing levels; this way it is one per lifetime. Only an earlier expiry (a
	 * shorter lifetime) re-queues now. */
	uint64_t expires = (uint64_t)(now_ms + (int64_t)reg->lifetime * 1000);
	if (!heap_node_queued(&reg->expiry) || expires < reg->expiry.key)
		heap_set(&srv->expiries, &reg->expiry, expires);
	srv->stats.updates++;
	if (log_threshold <= LOG_LEVEL_DEBUG) {
		char peer_str[ADDR_STR_MAX];
		LOG_DEBUG("lwm2m", "update of '%s' (rd/%s) from %s, lifetime %u s", reg->endpoint,
			  reg->id, addr_format(peer, peer_str), reg->lifetime);
	}
	if (srv->hooks.updated)
		srv->hooks.updated(srv->ctx, reg);
	return COAP_CODE_CHANGED;
}

void lwm2m_server_handle(struct lwm2m_server *srv, enum lwm2m_transport transport,
			 const char *psk_identity, const struct addr *peer,
			 const struct coap_msg *req, struct coap_msg *resp, int64_t now_ms)
{
	const struct coap_option *path[3];
	size_t depth = 0;
	for (size_t i = 0; i < req->option_count; i++) {
		if (req->options[i].number != COAP_OPTION_URI_PATH)
			continue;
		if (depth == 3) {
			resp->code = COAP_CODE_NOT_FOUND;
			return;
		}
		path[depth++] = &req->options[i];
	}
	if (depth == 0 || path[0]->len != 2 || memcmp(path[0]->value, "rd", 2) != 0 ||
	    depth > 2) {
		resp->code = COAP_CODE_NOT_FOUND;
		return;
	}
	if (depth == 1) {
		if (req->code != COAP_CODE_POST) {
			resp->code = COAP_CODE_METHOD_NOT_ALLOWED;
			return;
		}
		resp->code = handle_register(srv, transport, psk_identity, peer, req, resp, now_ms);
		if (resp->code != COAP_CODE_CREATED)
			srv->stats.rejected_registrations++;
		return;
	}
	struct lwm2m_registration *reg = find_own(srv, transport, psk_identity, path[1]);
	if (req->code != COAP_CODE_POST && req->code != COAP_CODE_DELETE) {
		resp->code = COAP_CODE_METHOD_NOT_ALLOWED;
		return;
	}
	if (!reg) {
		resp->code = COAP_CODE_NOT_FOUND;
		return;
	}
	if (req->code == COAP_CODE_POST) {
		resp->code = handle_update(srv, reg, peer, req, now_ms);
		return;
	}
	srv->stats.deregistrations++;
	reg_drop(srv, reg, LWM2M_DEREG_REQUESTED);
	resp->code = COAP_CODE_DELETED;
}

void lwm2m_server_tick(struct lwm2m_server *srv, int64_t now_ms)
{
	struct heap_node *top;
	while ((top = heap_top(&srv->expiries)) && (int64_t)top->key <= now_ms) {
		struct lwm2m_registration *reg =
			container_of(top, struct lwm2m_registration, expiry);
		int64_t expires = reg->updated_at_ms + (int64_t)reg->lifetime * 1000;
		if (expires > now_ms) { /* updated since it was queued (handle_update) */
			heap_set(&srv->expiries, &reg->expiry, (uint64_t)expires);
			continue;
		}
		srv->stats.expirations++;
		reg_drop(srv, reg, LWM2M_DEREG_EXPIRED);
	}
}

/* May be earlier than any registration really expires (an Update does not re-queue): the
 * tick at that time then only re-queues. */
int64_t lwm2m_server_next_deadline(const struct lwm2m_server *srv)
{
	struct heap_node *top = heap_top(&srv->expiries);
	return top ? (int64_t)top->key : INT64_MAX;
}

int lwm2m_server_restore(struct lwm2m_server *srv, const struct lwm2m_registration *src)
{
	if (!endpoint_valid((const uint8_t *)src->endpoint, strlen(src->endpoint)) ||
	    strlen(src->id) != LWM2M_REG_ID_LEN || src->lifetime == 0)
		return -EINVAL;
	if (lwm2m_server_find_endpoint(srv, src->endpoint) || lwm2m_server_find_id(srv, src->id))
		return -EEXIST;
	struct lwm2m_registration *reg = calloc(1, sizeof(*reg));
	if (!reg)
		return -ENOMEM;
	*reg = *src;
	reg->links = strdup(src->links ? src->links : "");
	if (!reg->links || reg_insert(srv, reg) != 0) {
		reg_free(reg);
		return -ENOMEM;
	}
	return 0;
}
