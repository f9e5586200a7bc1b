/*
 * coap_ep: the CoAP message layer of one endpoint. See coap_ep.h for what it does; this
 * file keeps the peer table (dedup cache, Block1 uploads, outgoing request queue), and
 * serves requests. Outgoing requests live in coap_ep_tx.c.
 */
#include "coap/coap_ep.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "coap/coap_ep_internal.h"

void coap_ep_config_defaults(struct coap_ep_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->max_body = 1024;
	cfg->max_block_body = 65536;
	cfg->max_peers = 4u << 20;
	cfg->ack_timeout_ms = COAP_ACK_TIMEOUT_MS;
	cfg->max_retransmit = COAP_MAX_RETRANSMIT;
	cfg->exchange_lifetime_ms = COAP_EXCHANGE_LIFETIME_MS;
	cfg->response_timeout_ms = 60000;
}

uint64_t coap_ep_random(struct coap_ep *ep)
{
	/* xorshift64*: only for message ids, tokens and retransmission jitter, where
	 * unpredictability across restarts matters but cryptographic strength does not. */
	uint64_t x = ep->rng;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	ep->rng = x;
	return x * 0x2545F4914F6CDD1DULL;
}

int coap_ep_create(struct coap_ep **out, const struct coap_ep_config *cfg, coap_ep_send_fn send,
		   coap_ep_request_fn handler, void *ctx)
{
	struct coap_ep *ep = calloc(1, sizeof(*ep));
	if (!ep)
		return -ENOMEM;
	if (cfg)
		ep->cfg = *cfg;
	else
		coap_ep_config_defaults(&ep->cfg);
	ep->send = send;
	ep->handler = handler;
	ep->ctx = ctx;
	ep->rng = ep->cfg.random_seed;
	if (ep->rng == 0 && getrandom(&ep->rng, sizeof(ep->rng), 0) != sizeof(ep->rng))
		ep->rng = (uint64_t)(uintptr_t)ep ^ 0x9E3779B97F4A7C15ULL;
	if (ep->rng == 0)
		ep->rng = 1;
	ep->next_mid = (uint16_t)coap_ep_random(ep);
	ep->pool = ep->cfg.block_pool;
	if (!ep->pool && coap_block_pool_create(&ep->own_pool, COAP_BLOCK_POOL_DEFAULT_BYTES) != 0)
		goto nomem;
	if (!ep->pool)
		ep->pool = ep->own_pool;
	if (hmap_init(&ep->peers) != 0 || hmap_init(&ep->tx_by_id) != 0)
		goto nomem;
	*out = ep;
	return 0;

nomem:
	hmap_destroy(&ep->peers);
	hmap_destroy(&ep->tx_by_id);
	coap_block_pool_destroy(ep->own_pool);
	free(ep);
	return -ENOMEM;
}

static void slot_clear(struct dedup_slot *slot)
{
	if (slot->len > COAP_EP_INLINE_RESPONSE)
		free(slot->data.heap);
	slot->len = 0;
	slot->expires_ms = 0;
}

static void block1_free(struct coap_ep *ep, struct coap_peer *peer)
{
	coap_block_pool_release(ep->pool, peer->block1);
}

static void lru_unlink(struct coap_ep *ep, struct coap_peer *peer)
{
	if (peer->lru_prev)
		peer->lru_prev->lru_next = peer->lru_next;
	else
		ep->lru_head = peer->lru_next;
	if (peer->lru_next)
		peer->lru_next->lru_prev = peer->lru_prev;
	else
		ep->lru_tail = peer->lru_prev;
	peer->lru_prev = peer->lru_next = NULL;
}

static void lru_append(struct coap_ep *ep, struct coap_peer *peer)
{
	peer->lru_prev = ep->lru_tail;
	peer->lru_next = NULL;
	if (ep->lru_tail)
		ep->lru_tail->lru_next = peer;
	else
		ep->lru_head = peer;
	ep->lru_tail = peer;
}

/* Marks the peer as heard from (or sent to) now: it moves to the young end of the list. */
void coap_ep_peer_touch(struct coap_ep *ep, struct coap_peer *peer, uint64_t now_ms)
{
	peer->last_seen_ms = now_ms;
	if (ep->lru_tail != peer) {
		lru_unlink(ep, peer);
		lru_append(ep, peer);
	}
}

static void peer_free(struct coap_ep *ep, struct coap_peer *peer)
{
	hmap_remove(&ep->peers, &peer->by_addr);
	lru_unlink(ep, peer);
	for (size_t i = 0; i < COAP_EP_DEDUP_SLOTS; i++)
		slot_clear(&peer->slots[i]);
	block1_free(ep, peer);
	free(peer);
	ep->stats.peers--;
}

struct coap_peer *coap_ep_peer_find(struct coap_ep *ep, const struct addr *addr)
{
	uint64_t h = addr_hash(addr);
	struct hmap_node *n;
	HMAP_FOR_EACH_WITH_HASH(n, h, &ep->peers)
	{
		struct coap_peer *peer = container_of(n, struct coap_peer, by_addr);
		if (addr_equal(&peer->addr, addr))
			return peer;
	}
	return NULL;
}

struct coap_peer *coap_ep_peer_get(struct coap_ep *ep, const struct addr *addr, uint64_t now_ms)
{
	struct coap_peer *peer = coap_ep_peer_find(ep, addr);
	if (peer)
		return peer;
	/* The table has a hard bound: past it the longest-idle peer without requests in
	 * flight makes room. A flood of spoofed sources can thus only evict dedup state,
	 * never grow memory. */
	if (ep->stats.peers >= ep->cfg.max_peers) {
		struct coap_peer *old = ep->lru_head;
		if (!old || old->tx_head)
			return NULL;
		peer_free(ep, old);
	}
	peer = calloc(1, sizeof(*peer));
	if (!peer)
		return NULL;
	peer->addr = *addr;
	peer->last_seen_ms = now_ms;
	hmap_insert(&ep->peers, &peer->by_addr, addr_hash(addr));
	lru_append(ep, peer);
	ep->stats.peers++;
	return peer;
}

void coap_ep_send_raw(struct coap_ep *ep, const struct addr *peer, const uint8_t *data,
		      size_t len)
{
	ep->stats.tx_datagrams++;
	ep->send(ep->ctx, peer, data, len);
}

/* Sends an Empty message (ACK or RST) with mid: RFC 7252 §4.2, §4.3. */
void coap_ep_send_empty(struct coap_ep *ep, const struct addr *peer, uint8_t type, uint16_t mid)
{
	uint8_t buf[COAP_HEADER_LEN] = {
		(uint8_t)(COAP_VERSION << 6 | type << 4),
		COAP_CODE_EMPTY,
		(uint8_t)(mid >> 8),
		(uint8_t)mid,
	};
	coap_ep_send_raw(ep, peer, buf, sizeof(buf));
}

static struct dedup_slot *dedup_find(struct coap_peer *peer, uint16_t mid, uint64_t now_ms)
{
	for (size_t i = 0; i < COAP_EP_DEDUP_SLOTS; i++) {
		struct dedup_slot *slot = &peer->slots[i];
		if (slot->expires_ms > now_ms && slot->mid == mid)
			return slot;
	}
	return NULL;
}

static const uint8_t *slot_bytes(const struct dedup_slot *slot)
{
	return slot->len > COAP_EP_INLINE_RESPONSE ? slot->data.heap : slot->data.inline_bytes;
}

/* Remembers the response to request mid so that a duplicate gets it again. */
static void dedup_store(struct coap_ep *ep, struct coap_peer *peer, uint16_t mid,
			const uint8_t *data, size_t len, uint64_t now_ms)
{
	struct dedup_slot *slot = &peer->slots[peer->next_slot];
	peer->next_slot = (uint8_t)((peer->next_slot + 1) % COAP_EP_DEDUP_SLOTS);
	slot_clear(slot);
	if (len > COAP_EP_INLINE_RESPONSE) {
		slot->data.heap = malloc(len);
		if (!slot->data.heap)
			return;
		memcpy(slot->data.heap, data, len);
	} else {
		memcpy(slot->data.inline_bytes, data, len);
	}
	slot->len = (uint16_t)len;
	slot->mid = mid;
	slot->expires_ms = now_ms + ep->cfg.exchange_lifetime_ms;
}

/* RFC 7252 §5.4.1: a request with a critical option the server does not understand is
 * rejected with 4.02. These are the critical options we act on. If-Match, If-None-Match
 * and the proxy options are deliberately absent: we implement neither conditional
 * requests nor proxying, so they must be refused rather than ignored. */
static int first_unsupported_critical(const struct coap_msg *msg)
{
	for (size_t i = 0; i < msg->option_count; i++) {
		uint16_t num = msg->options[i].number;
		if (!coap_option_is_critical(num))
			continue;
		switch (num) {
		case COAP_OPTION_URI_HOST:
		case COAP_OPTION_URI_PORT:
		case COAP_OPTION_URI_PATH:
		case COAP_OPTION_URI_QUERY:
		case COAP_OPTION_ACCEPT:
		case COAP_OPTION_BLOCK2:
		case COAP_OPTION_BLOCK1:
			continue;
		default:
			return num;
		}
	}
	return -1;
}

/* A hash of the request's URI (path and query), to tie Block1 blocks together. */
static uint64_t request_uri_hash(const struct coap_msg *msg)
{
	uint64_t h = 0;
	for (size_t i = 0; i < msg->option_count; i++) {
		const struct coap_option *o = &msg->options[i];
		if (o->number == COAP_OPTION_URI_PATH || o->number == COAP_OPTION_URI_QUERY)
			h = hash_bytes(o->value, o->len, h ^ o->number);
	}
	return h;
}

/* The block size exponent the server prefers: the largest block not over max_body. */
static uint8_t preferred_szx(const struct coap_ep *ep)
{
	uint8_t szx = 6;
	while (szx > 0 && COAP_BLOCK_SIZE(szx) > ep->cfg.max_body)
		szx--;
	return szx;
}

/* The answer to a block the pool could not take: 4.13 when the body is over the limit,
 * 5.03 when there is no memory for it now (RFC 7252 §5.9.3.4: a transient condition). */
static void block1_refuse(struct coap_ep *ep, int rc, struct coap_msg *resp)
{
	if (rc == -EFBIG) {
		resp->code = COAP_CODE_REQUEST_ENTITY_TOO_LARGE;
		coap_msg_add_uint_option(resp, COAP_OPTION_SIZE1, (uint32_t)ep->cfg.max_block_body);
	} else {
		resp->code = COAP_CODE_SERVICE_UNAVAILABLE;
	}
}

/*
 * RFC 7959 §2.5: one block of a Block1 upload. Returns 1 when the upload is complete and
 * the assembled body is in peer->block1 (freed by block1_free), 0 when resp has been
 * filled (2.31 Continue or an error). The body's memory comes from the block pool, which
 * may have dropped this peer's upload for room since its last block.
 */
static int block1_receive(struct coap_ep *ep, struct coap_peer *peer, const struct coap_msg *req,
			  const struct coap_block *blk, struct coap_msg *resp)
{
	size_t size = COAP_BLOCK_SIZE(blk->szx);
	uint64_t uri = request_uri_hash(req);
	uint32_t size1;
	int rc;

	if (!peer) {
		resp->code = COAP_CODE_SERVICE_UNAVAILABLE;
		return 0;
	}
	if (blk->more && req->payload_len != size) {
		resp->code = COAP_CODE_BAD_REQUEST;
		return 0;
	}
	if (blk->num == 0) {
		block1_free(ep, peer);
		/* Size1 in the first block announces the whole size (RFC 7959 §4); it is
		 * only checked, never reserved: the buffer grows with what arrives. */
		if (coap_msg_get_uint_option(req, COAP_OPTION_SIZE1, &size1) == 0 &&
		    size1 > ep->cfg.max_block_body) {
			block1_refuse(ep, -EFBIG, resp);
			return 0;
		}
		rc = coap_block_pool_start(ep->pool, &peer->block1, uri);
		if (rc != 0) {
			block1_refuse(ep, rc, resp);
			return 0;
		}
	}
	struct block1_upload *up = peer->block1;
	if (!up || up->uri_hash != uri || (size_t)blk->num * size != up->len) {
		/* RFC 7959 §2.9.2: a block out of sequence (or of an upload the pool dropped)
		 * is 4.08. */
		block1_free(ep, peer);
		resp->code = COAP_CODE_REQUEST_ENTITY_INCOMPLETE;
		return 0;
	}
	rc = coap_block_pool_append(ep->pool, up, req->payload, req->payload_len,
				    ep->cfg.max_block_body);
	if (rc != 0) {
		block1_free(ep, peer);
		block1_refuse(ep, rc, resp);
		return 0;
	}
	if (blk->more) {
		resp->code = COAP_CODE_CONTINUE;
		coap_msg_add_uint_option(resp, COAP_OPTION_BLOCK1, coap_block_encode(blk));
		return 0;
	}
	return 1;
}

/* RFC 7959 §2.4: serves block num of the handler's response when it is larger than one
 * block or the client asked for blocks. The handler recomputes the whole representation
 * on every block request, which keeps the server stateless. A handler that served the
 * block itself (a firmware package read from its file, block by block) set Block2 on its
 * response, which then goes as it is. */
static void block2_slice(struct coap_ep *ep, const struct coap_msg *req, struct coap_msg *resp)
{
	struct coap_block want = {.num = 0, .more = false, .szx = preferred_szx(ep)};
	uint32_t value;
	if (coap_msg_find_option(resp, COAP_OPTION_BLOCK2)) {
		ep->own_block2 = true;
		return;
	}
	bool asked = coap_msg_get_uint_option(req, COAP_OPTION_BLOCK2, &value) == 0;
	if (asked) {
		struct coap_block b;
		if (coap_block_decode(value, &b) != 0) {
			resp->code = COAP_CODE_BAD_OPTION;
			resp->payload = NULL;
			resp->payload_len = 0;
			return;
		}
		want.num = b.num;
		if (b.szx < want.szx)
			want.szx = b.szx;
	}
	size_t size = COAP_BLOCK_SIZE(want.szx);
	if (!asked && resp->payload_len <= size)
		return;
	if (COAP_CODE_CLASS(resp->code) != 2)
		return;
	size_t offset = (size_t)want.num * size;
	if (offset >= resp->payload_len && !(offset == 0 && resp->payload_len == 0)) {
		resp->code = COAP_CODE_BAD_OPTION;
		resp->payload = NULL;
		resp->payload_len = 0;
		return;
	}
	size_t total = resp->payload_len;
	size_t n = total - offset < size ? total - offset : size;
	want.more = offset + n < total;
	coap_msg_add_uint_option(resp, COAP_OPTION_BLOCK2, coap_block_encode(&want));
	if (want.num == 0)
		coap_msg_add_uint_option(resp, COAP_OPTION_SIZE2, (uint32_t)total);
	/* An empty response asked for block 0 has no payload to slice (and NULL + 0 would be
	 * undefined behaviour, C11 §6.5.6). */
	resp->payload = n ? resp->payload + offset : NULL;
	resp->payload_len = n;
}

/* Removes every option with this number from msg (used on a request copy). */
static void drop_option(struct coap_msg *msg, uint16_t number)
{
	size_t w = 0;
	for (size_t r = 0; r < msg->option_count; r++)
		if (msg->options[r].number != number)
			msg->options[w++] = msg->options[r];
	msg->option_count = (uint16_t)w;
}

/* Decides the response to a fresh (non-duplicate) request and lets the handler serve it
 * when it passes the checks. */
static void serve(struct coap_ep *ep, struct coap_peer *peer, const struct addr *from,
		  const struct coap_msg *req, struct coap_msg *resp, uint64_t now_ms)
{
	uint32_t value;
	int bad = first_unsupported_critical(req);
	if (bad >= 0) {
		resp->code = COAP_CODE_BAD_OPTION;
		return;
	}
	int rc = coap_msg_get_uint_option(req, COAP_OPTION_BLOCK1, &value);
	if (rc == -EINVAL) {
		resp->code = COAP_CODE_BAD_OPTION;
		return;
	}
	if (rc == 0) {
		struct coap_block blk;
		if (coap_block_decode(value, &blk) != 0) {
			resp->code = COAP_CODE_BAD_OPTION;
			return;
		}
		if (!block1_receive(ep, peer, req, &blk, resp))
			return;
		/* The upload is complete: serve it as one request. */
		struct coap_msg *whole = &ep->assembled;
		*whole = *req;
		drop_option(whole, COAP_OPTION_BLOCK1);
		drop_option(whole, COAP_OPTION_SIZE1);
		whole->payload = coap_block_pool_body(peer->block1, &rc);
		whole->payload_len = peer->block1->len;
		if (rc != 0) {
			block1_free(ep, peer);
			resp->code = COAP_CODE_SERVICE_UNAVAILABLE;
			return;
		}
		ep->stats.requests_served++;
		ep->handler(ep->ctx, from, whole, resp, now_ms);
		block1_free(ep, peer);
		coap_msg_add_uint_option(resp, COAP_OPTION_BLOCK1, coap_block_encode(&blk));
		block2_slice(ep, req, resp);
		return;
	}
	if (req->payload_len > ep->cfg.max_body) {
		/* RFC 7252 §5.9.2.9 and RFC 7959 §2.9.3: 4.13 with Size1 giving the limit. */
		resp->code = COAP_CODE_REQUEST_ENTITY_TOO_LARGE;
		coap_msg_add_uint_option(resp, COAP_OPTION_SIZE1, (uint32_t)ep->cfg.max_body);
		return;
	}
	ep->stats.requests_served++;
	ep->handler(ep->ctx, from, req, resp, now_ms);
	block2_slice(ep, req, resp);
}

static void handle_request(struct coap_ep *ep, const struct addr *from,
			   const struct coap_msg *req, uint64_t now_ms)
{
	struct coap_peer *peer = coap_ep_peer_get(ep, from, now_ms);
	if (peer) {
		coap_ep_peer_touch(ep, peer, now_ms);
		struct dedup_slot *slot = dedup_find(peer, req->mid, now_ms);
		if (slot) {
			/* RFC 7252 §4.5: a duplicate gets the same response; the request is
			 * not processed again. */
			ep->stats.rx_duplicates++;
			coap_ep_send_raw(ep, from, slot_bytes(slot), slot->len);
			return;
		}
	}

	struct coap_msg *resp = &ep->response;
	bool con = req->type == COAP_TYPE_CON;
	/* RFC 7252 §5.2.3: a NON request gets a NON response with a fresh message id. */
	coap_msg_init(resp, con ? COAP_TYPE_ACK : COAP_TYPE_NON, COAP_CODE_INTERNAL_SERVER_ERROR,
		      con ? req->mid : coap_ep_next_mid(ep), req->token, req->token_len);
	ep->own_block2 = false;
	serve(ep, peer, from, req, resp, now_ms);

	uint8_t buf[COAP_EP_MAX_DATAGRAM];
	int len = coap_msg_encode(resp, buf, sizeof(buf));
	if (len < 0) {
		/* The handler built something unencodable: answer 5.00 bare. */
		coap_msg_init(resp, resp->type, COAP_CODE_INTERNAL_SERVER_ERROR, resp->mid,
			      req->token, req->token_len);
		len = coap_msg_encode(resp, buf, sizeof(buf));
		if (len < 0)
			return;
	}
	ep->stats.responses_by_code[resp->code]++;
	/* RFC 7252 §4.5 lets a server process a duplicate of an idempotent request again.
	 * A block a handler read for a GET (a firmware download) is served again rather than
	 * kept: keeping it would cost a 1 KiB copy per block and its memory for
	 * EXCHANGE_LIFETIME per downloading device. */
	if (peer && !(ep->own_block2 && req->code == COAP_CODE_GET))
		dedup_store(ep, peer, req->mid, buf, (size_t)len, now_ms);
	coap_ep_send_raw(ep, from, buf, (size_t)len);
}

void coap_ep_input(struct coap_ep *ep, const struct addr *from, const uint8_t *data, size_t len,
		   uint64_t now_ms)
{
	struct coap_msg *msg = &ep->request;
	ep->stats.rx_datagrams++;
	int rc = coap_msg_parse(msg, data, len);
	if (rc == -EPROTO)
		return; /* RFC 7252 §3: unknown version numbers are silently ignored. */
	if (rc < 0) {
		ep->stats.rx_malformed++;
		/* RFC 7252 §4.2: a CON with a format error is rejected with RST. */
		if (len >= COAP_HEADER_LEN && msg->type == COAP_TYPE_CON)
			coap_ep_send_empty(ep, from, COAP_TYPE_RST, msg->mid);
		return;
	}

	uint8_t cls = COAP_CODE_CLASS(msg->code);
	switch (msg->type) {
	case COAP_TYPE_ACK:
	case COAP_TYPE_RST:
		coap_ep_tx_on_ack_or_rst(ep, from, msg, now_ms);
		return;
	case COAP_TYPE_CON:
	case COAP_TYPE_NON:
		if (msg->code == COAP_CODE_EMPTY) {
			/* RFC 7252 §4.3: an Empty CON is a ping, answered with RST; an
			 * Empty NON is a format error and ignored. */
			if (msg->type == COAP_TYPE_CON)
				coap_ep_send_empty(ep, from, COAP_TYPE_RST, msg->mid);
			return;
		}
		if (cls == 0) {
			handle_request(ep, from, msg, now_ms);
			return;
		}
		if (cls == 2 || cls == 4 || cls == 5) {
			coap_ep_tx_on_separate_response(ep, from, msg, now_ms);
			return;
		}
		/* Reserved code classes 1, 3, 6, 7: reject a CON, ignore a NON. */
		if (msg->type == COAP_TYPE_CON)
			coap_ep_send_empty(ep, from, COAP_TYPE_RST, msg->mid);
		return;
	}
}

uint16_t coap_ep_next_mid(struct coap_ep *ep)
{
	return ep->next_mid++;
}

void coap_ep_tick(struct coap_ep *ep, uint64_t now_ms)
{
	coap_ep_tx_tick(ep, now_ms);
	/* Peers idle for EXCHANGE_LIFETIME can no longer send a duplicate we must
	 * recognise; without requests in flight they are forgotten. */
	while (ep->lru_head &&
	       ep->lru_head->last_seen_ms + ep->cfg.exchange_lifetime_ms <= now_ms) {
		struct coap_peer *peer = ep->lru_head;
		if (peer->tx_head) {
			coap_ep_peer_touch(ep, peer, now_ms);
			continue;
		}
		peer_free(ep, peer);
	}
}

uint64_t coap_ep_next_deadline(const struct coap_ep *ep)
{
	uint64_t next = UINT64_MAX;
	struct heap_node *top = heap_top(&ep->timers);
	if (top)
		next = top->key;
	if (ep->lru_head) {
		uint64_t expiry = ep->lru_head->last_seen_ms + ep->cfg.exchange_lifetime_ms;
		if (expiry < next)
			next = expiry;
	}
	return next;
}

const struct coap_ep_stats *coap_ep_stats(const struct coap_ep *ep)
{
	return &ep->stats;
}

static void free_peer_node(struct hmap_node *node, void *ctx)
{
	struct coap_peer *peer = container_of(node, struct coap_peer, by_addr);
	peer_free(ctx, peer);
}

void coap_ep_set_notification_handler(struct coap_ep *ep, coap_ep_notification_fn fn)
{
	ep->notification = fn;
}

void coap_ep_destroy(struct coap_ep *ep)
{
	if (!ep)
		return;
	coap_ep_tx_cancel_all(ep);
	hmap_for_each(&ep->peers, free_peer_node, ep);
	hmap_destroy(&ep->peers);
	hmap_destroy(&ep->tx_by_id);
	heap_destroy(&ep->timers);
	coap_block_pool_destroy(ep->own_pool);
	free(ep);
}
