/*
 * coap_ep_tx: the requests the server sends to a peer (reads, writes, observes and
 * commands, issued by lwm2m/), RFC 7252 §4.2 and §5.2.
 *
 * A request is queued on its peer; NSTART 1 (§4.7) lets one request be outstanding per
 * peer, so the next one is transmitted only when the current one is acknowledged or done.
 * A CON is retransmitted after ACK_TIMEOUT × a random factor in [1, ACK_RANDOM_FACTOR],
 * doubling each time, MAX_RETRANSMIT times. The response comes piggybacked in the ACK or
 * later as a separate CON/NON response matched by token (after an Empty ACK).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "coap/coap_ep_internal.h"

enum tx_state {
	TX_QUEUED,
	TX_WAIT_ACK,      /* CON sent, not yet acknowledged */
	TX_WAIT_RESPONSE, /* Empty ACK received (or a NON sent): the response is to come */
};

struct coap_tx {
	struct hmap_node by_id;
	struct heap_node timer;
	struct coap_peer *peer;
	struct coap_tx *next;
	uint64_t id;
	coap_ep_response_fn cb;
	void *cb_ctx;
	uint32_t timeout_ms;
	uint16_t mid;
	uint8_t type;
	uint8_t state;
	uint8_t retransmits;
	uint8_t token_len;
	uint8_t token[COAP_TOKEN_MAX];
	uint16_t len;
	uint8_t bytes[];
};

/* Is a request of this peer outstanding in the sense of NSTART (RFC 7252 §4.7)? */
static bool peer_busy(const struct coap_peer *peer)
{
	for (const struct coap_tx *tx = peer->tx_head; tx; tx = tx->next) {
		if (tx->state == TX_WAIT_ACK)
			return true;
		if (tx->state == TX_WAIT_RESPONSE && tx->type == COAP_TYPE_NON)
			return true;
	}
	return false;
}

static void transmit_next(struct coap_ep *ep, struct coap_peer *peer, uint64_t now_ms)
{
	if (peer_busy(peer))
		return;
	struct coap_tx *tx = peer->tx_head;
	while (tx && tx->state != TX_QUEUED)
		tx = tx->next;
	if (!tx)
		return;
	uint64_t wait;
	if (tx->type == COAP_TYPE_CON) {
		/* RFC 7252 §4.2: the initial timeout is random in
		 * [ACK_TIMEOUT, ACK_TIMEOUT * ACK_RANDOM_FACTOR]. */
		uint64_t spread = (uint64_t)(ep->cfg.ack_timeout_ms * (COAP_ACK_RANDOM_FACTOR - 1));
		tx->timeout_ms = ep->cfg.ack_timeout_ms +
				 (uint32_t)(spread ? coap_ep_random(ep) % (spread + 1) : 0);
		tx->state = TX_WAIT_ACK;
		wait = tx->timeout_ms;
	} else {
		tx->state = TX_WAIT_RESPONSE;
		wait = ep->cfg.response_timeout_ms;
	}
	heap_set(&ep->timers, &tx->timer, now_ms + wait);
	coap_ep_peer_touch(ep, peer, now_ms);
	coap_ep_send_raw(ep, &peer->addr, tx->bytes, tx->len);
}

static void unlink_tx(struct coap_ep *ep, struct coap_tx *tx)
{
	struct coap_peer *peer = tx->peer;
	struct coap_tx **p = &peer->tx_head;
	struct coap_tx *prev = NULL;
	while (*p && *p != tx) {
		prev = *p;
		p = &(*p)->next;
	}
	if (*p) {
		*p = tx->next;
		if (peer->tx_tail == tx)
			peer->tx_tail = prev;
	}
	heap_remove(&ep->timers, &tx->timer);
	hmap_remove(&ep->tx_by_id, &tx->by_id);
}

/* Ends tx: reports status to its owner, frees it and lets the peer's next request go. */
static void finish(struct coap_ep *ep, struct coap_tx *tx, int status,
		   const struct coap_msg *resp, uint64_t now_ms, bool send_next)
{
	struct coap_peer *peer = tx->peer;
	unlink_tx(ep, tx);
	tx->cb(tx->cb_ctx, status, status == 0 ? resp : NULL);
	free(tx);
	if (send_next)
		transmit_next(ep, peer, now_ms);
}

int coap_ep_request(struct coap_ep *ep, const struct addr *to, struct coap_msg *req,
		    uint64_t now_ms, coap_ep_response_fn cb, void *cb_ctx, uint64_t *id)
{
	if ((req->type != COAP_TYPE_CON && req->type != COAP_TYPE_NON) ||
	    req->code == COAP_CODE_EMPTY || COAP_CODE_CLASS(req->code) != 0 || !cb)
		return -EINVAL;
	req->mid = coap_ep_next_mid(ep);
	if (req->token_len == 0) {
		uint64_t token = coap_ep_random(ep);
		req->token_len = COAP_TOKEN_MAX;
		memcpy(req->token, &token, COAP_TOKEN_MAX);
	}

	uint8_t buf[COAP_EP_MAX_DATAGRAM];
	int len = coap_msg_encode(req, buf, sizeof(buf));
	if (len < 0)
		return -EINVAL;
	struct coap_peer *peer = coap_ep_peer_get(ep, to, now_ms);
	if (!peer)
		return -ENOMEM;
	struct coap_tx *tx = calloc(1, sizeof(*tx) + (size_t)len);
	if (!tx)
		return -ENOMEM;
	heap_node_init(&tx->timer);
	tx->peer = peer;
	tx->id = ++ep->next_tx_id;
	tx->cb = cb;
	tx->cb_ctx = cb_ctx;
	tx->mid = req->mid;
	tx->type = req->type;
	tx->state = TX_QUEUED;
	tx->token_len = req->token_len;
	memcpy(tx->token, req->token, req->token_len);
	tx->len = (uint16_t)len;
	memcpy(tx->bytes, buf, (size_t)len);
	if (peer->tx_tail)
		peer->tx_tail->next = tx;
	else
		peer->tx_head = tx;
	peer->tx_tail = tx;
	hmap_insert(&ep->tx_by_id, &tx->by_id, hash_mix(tx->id));
	if (id)
		*id = tx->id;
	transmit_next(ep, peer, now_ms);
	return 0;
}

static struct coap_tx *find_by_mid(struct coap_peer *peer, uint16_t mid)
{
	for (struct coap_tx *tx = peer->tx_head; tx; tx = tx->next)
		if (tx->state != TX_QUEUED && tx->mid == mid)
			return tx;
	return NULL;
}

static struct coap_tx *find_by_token(struct coap_peer *peer, const struct coap_msg *msg)
{
	for (struct coap_tx *tx = peer->tx_head; tx; tx = tx->next)
		if (tx->state != TX_QUEUED && tx->token_len == msg->token_len &&
		    memcmp(tx->token, msg->token, msg->token_len) == 0)
			return tx;
	return NULL;
}

void coap_ep_tx_on_ack_or_rst(struct coap_ep *ep, const struct addr *from,
			      const struct coap_msg *msg, uint64_t now_ms)
{
	struct coap_peer *peer = coap_ep_peer_find(ep, from);
	if (!peer)
		return;
	struct coap_tx *tx = find_by_mid(peer, msg->mid);
	if (!tx)
		return; /* a late or stray ACK/RST: nothing to match, nothing to do */
	coap_ep_peer_touch(ep, peer, now_ms);
	if (msg->type == COAP_TYPE_RST) {
		finish(ep, tx, -ECONNRESET, NULL, now_ms, true);
		return;
	}
	if (tx->type != COAP_TYPE_CON || tx->state != TX_WAIT_ACK)
		return;
	if (msg->code == COAP_CODE_EMPTY) {
		/* RFC 7252 §5.2.2: an Empty ACK; the response will come separately. */
		tx->state = TX_WAIT_RESPONSE;
		heap_set(&ep->timers, &tx->timer, now_ms + ep->cfg.response_timeout_ms);
		transmit_next(ep, peer, now_ms);
		return;
	}
	/* RFC 7252 §5.3.2: a piggybacked response must echo the request's token. */
	if (msg->token_len != tx->token_len || memcmp(msg->token, tx->token, tx->token_len) != 0)
		return;
	finish(ep, tx, 0, msg, now_ms, true);
}

void coap_ep_tx_on_separate_response(struct coap_ep *ep, const struct addr *from,
				     const struct coap_msg *msg, uint64_t now_ms)
{
	struct coap_peer *peer = coap_ep_peer_find(ep, from);
	struct coap_tx *tx = peer ? find_by_token(peer, msg) : NULL;
	if (!tx) {
		/* An Observe notification belongs to no request in flight: the owner says
		 * whether it knows the observation. */
		if (ep->notification && ep->notification(ep->ctx, from, msg, now_ms) == 0) {
			if (peer)
				coap_ep_peer_touch(ep, peer, now_ms);
			if (msg->type == COAP_TYPE_CON)
				coap_ep_send_empty(ep, from, COAP_TYPE_ACK, msg->mid);
			return;
		}
		/* RFC 7252 §5.3.2: a response matching nothing is rejected with RST (RFC 7641
		 * §3.6: for a notification that is how a client stops an observation).
		 * A retransmitted separate response whose ACK was lost also lands here,
		 * and its RST tells the peer to stop retransmitting just as well. */
		if (msg->type == COAP_TYPE_CON || msg->type == COAP_TYPE_NON)
			coap_ep_send_empty(ep, from, COAP_TYPE_RST, msg->mid);
		return;
	}
	coap_ep_peer_touch(ep, peer, now_ms);
	if (msg->type == COAP_TYPE_CON)
		coap_ep_send_empty(ep, from, COAP_TYPE_ACK, msg->mid);
	finish(ep, tx, 0, msg, now_ms, true);
}

void coap_ep_tx_tick(struct coap_ep *ep, uint64_t now_ms)
{
	struct heap_node *top;
	while ((top = heap_top(&ep->timers)) && top->key <= now_ms) {
		struct coap_tx *tx = container_of(top, struct coap_tx, timer);
		if (tx->state == TX_WAIT_ACK && tx->retransmits < ep->cfg.max_retransmit) {
			tx->retransmits++;
			tx->timeout_ms *= 2;
			ep->stats.retransmissions++;
			heap_set(&ep->timers, &tx->timer, now_ms + tx->timeout_ms);
			coap_ep_send_raw(ep, &tx->peer->addr, tx->bytes, tx->len);
			continue;
		}
		ep->stats.tx_timeouts++;
		finish(ep, tx, -ETIMEDOUT, NULL, now_ms, true);
	}
}

int coap_ep_cancel(struct coap_ep *ep, uint64_t id)
{
	uint64_t h = hash_mix(id);
	struct hmap_node *n;
	HMAP_FOR_EACH_WITH_HASH(n, h, &ep->tx_by_id)
	{
		struct coap_tx *tx = container_of(n, struct coap_tx, by_id);
		if (tx->id == id) {
			finish(ep, tx, -ECANCELED, NULL, tx->peer->last_seen_ms, true);
			return 0;
		}
	}
	return -ENOENT;
}

static void cancel_node(struct hmap_node *node, void *ctx)
{
	struct coap_tx *tx = container_of(node, struct coap_tx, by_id);
	finish(ctx, tx, -ECANCELED, NULL, 0, false);
}

void coap_ep_tx_cancel_all(struct coap_ep *ep)
{
	hmap_for_each(&ep->tx_by_id, cancel_node, ep);
}
