/*
 * coap_ep: one CoAP endpoint's message layer (RFC 7252 §4, RFC 7959 block-wise).
 *
 * It sits between net/ (which gives it datagrams and the time) and lwm2m/ (which serves
 * requests and issues its own), and knows no sockets and no clock of its own: every entry
 * point takes "now" in milliseconds and every datagram leaves through the send callback.
 * That is what makes retransmission and deduplication testable with a mock clock.
 *
 * What it does:
 *  - parses datagrams; a format error in a CON gets RST, other bad datagrams are dropped;
 *  - answers CoAP ping (Empty CON) with RST;
 *  - deduplicates: a duplicate CON or NON request within EXCHANGE_LIFETIME gets the cached
 *    response again and is not served twice (two slots per peer: with NSTART 1 a client
 *    has at most one exchange in flight, so two is enough to cover reordering);
 *  - rejects unsupported critical options with 4.02, bodies over max_body without
 *    block-wise with 4.13 + Size1, and serves Block1 uploads (assembled up to
 *    max_block_body) and Block2 downloads (sliced from the handler's response);
 *  - sends the server's own requests: CON with retransmission (ACK_TIMEOUT × random factor,
 *    doubling, MAX_RETRANSMIT), NSTART 1 per peer (later requests queue), piggybacked or
 *    separate responses matched by token, RST and timeouts reported.
 *
 * Memory: a peer entry exists while the peer has been heard from within EXCHANGE_LIFETIME
 * or has requests outstanding; its size is fixed (no per-message allocation) except for a
 * cached response over COAP_EP_INLINE_RESPONSE bytes or a Block1 upload in progress, whose
 * memory comes from a bounded pool (coap_block_pool.h).
 */
#ifndef LWM2MD_COAP_EP_H
#define LWM2MD_COAP_EP_H

#include <stddef.h>
#include <stdint.h>

#include "coap/coap_block_pool.h"
#include "coap/coap_msg.h"
#include "util/addr.h"

/* RFC 7252 §4.8 transmission parameters. */
#define COAP_ACK_TIMEOUT_MS 2000
#define COAP_ACK_RANDOM_FACTOR 1.5
#define COAP_MAX_RETRANSMIT 4
#define COAP_EXCHANGE_LIFETIME_MS 247000
/* Responses up to this size are cached inside the peer entry without an allocation. */
#define COAP_EP_INLINE_RESPONSE 40
/* Largest datagram the endpoint builds: header, token, options, a 1 KiB block. */
#define COAP_EP_MAX_DATAGRAM 1400

struct coap_ep;

struct coap_ep_config {
	size_t max_body;          /* largest body accepted without block-wise; default 1024 */
	size_t max_block_body;    /* largest body assembled from Block1; default 65536 */
	/* Where Block1 uploads keep their bytes: a pool shared by endpoints (it must outlive
	 * them), or NULL for one of the endpoint's own of COAP_BLOCK_POOL_DEFAULT_BYTES. */
	struct coap_block_pool *block_pool;
	size_t max_peers;         /* hard cap on peer entries; the oldest idle is evicted */
	uint32_t ack_timeout_ms;  /* default COAP_ACK_TIMEOUT_MS */
	uint32_t max_retransmit;  /* default COAP_MAX_RETRANSMIT */
	uint32_t exchange_lifetime_ms; /* default COAP_EXCHANGE_LIFETIME_MS */
	/* How long a request may wait for a separate response after its empty ACK, and
	 * how long a NON request waits for its response; default 60000. */
	uint32_t response_timeout_ms;
	uint64_t random_seed;     /* 0: seeded from the system */
};

struct coap_ep_stats {
	uint64_t rx_datagrams;
	uint64_t tx_datagrams;
	uint64_t rx_malformed;     /* parse errors */
	uint64_t rx_duplicates;    /* requests answered from the dedup cache */
	uint64_t requests_served;  /* requests passed to the handler */
	uint64_t responses_by_code[256]; /* responses sent to requests, by CoAP code */
	uint64_t retransmissions;
	uint64_t tx_timeouts;
	uint64_t peers;            /* live peer entries */
};

/* Sends one datagram to peer. The data is only valid during the call. */
typedef void (*coap_ep_send_fn)(void *ctx, const struct addr *peer, const uint8_t *data,
				size_t len);

/*
 * Serves one request. req is complete (a Block1 upload is assembled first). resp comes
 * initialised with the right type, message id and token, and code 5.00; the handler sets
 * resp->code and may add options and a payload, whose memory must stay valid until the
 * handler returns to the endpoint (the endpoint encodes resp right after the call).
 */
typedef void (*coap_ep_request_fn)(void *ctx, const struct addr *peer,
				   const struct coap_msg *req, struct coap_msg *resp,
				   uint64_t now_ms);

/*
 * Reports the end of a request the server sent. status is 0 with resp the response;
 * -ECONNRESET when the peer answered RST; -ETIMEDOUT when retransmissions or the wait
 * for a response ran out; -ECANCELED when coap_ep_cancel or coap_ep_destroy ended it.
 * resp is NULL unless status is 0, and only valid during the call.
 */
typedef void (*coap_ep_response_fn)(void *ctx, int status, const struct coap_msg *resp);

/*
 * A response that matches no request in flight — an Observe notification (RFC 7641 §4.2)
 * after the first response has ended its request. Returns 0 to accept it (a CON is
 * ACKed) or a negative errno to reject it (a CON or NON gets RST, which also cancels the
 * observation at the peer, §3.6). msg is only valid during the call.
 */
typedef int (*coap_ep_notification_fn)(void *ctx, const struct addr *peer,
				       const struct coap_msg *msg, uint64_t now_ms);

/* Fills cfg with the defaults above. */
void coap_ep_config_defaults(struct coap_ep_config *cfg);

/* Creates an endpoint. cfg may be NULL for the defaults. Returns 0 or -ENOMEM. */
int coap_ep_create(struct coap_ep **out, const struct coap_ep_config *cfg,
		   coap_ep_send_fn send, coap_ep_request_fn handler, void *ctx);

/* Sets the handler of unmatched responses (notifications); ctx is the endpoint's. */
void coap_ep_set_notification_handler(struct coap_ep *ep, coap_ep_notification_fn fn);
/* Cancels outstanding requests (their callbacks get -ECANCELED) and frees everything.
 * Accepts NULL. */
void coap_ep_destroy(struct coap_ep *ep);

/* Processes one datagram from peer at time now_ms. */
void coap_ep_input(struct coap_ep *ep, const struct addr *peer, const uint8_t *data,
		   size_t len, uint64_t now_ms);

/* Runs what is due at now_ms: retransmissions, timeouts, expiry of idle peers. */
void coap_ep_tick(struct coap_ep *ep, uint64_t now_ms);

/* The time (ms) coap_ep_tick next has work, or UINT64_MAX when nothing is pending. */
uint64_t coap_ep_next_deadline(const struct coap_ep *ep);

/*
 * Sends a request to peer. req's type must be CON or NON and its code a method; the
 * endpoint assigns its message id, and a random 8-byte token unless req carries one
 * (token_len > 0: an Observe cancellation reuses the observation's token); the token used
 * is left in req. The encoded request is
 * copied, so req and its option values may be freed after the call. cb is called exactly
 * once, later (never from inside this call). *id, when not NULL, gets a handle for
 * coap_ep_cancel. Returns 0, -EINVAL (not a request, or not encodable), -ENOMEM.
 */
int coap_ep_request(struct coap_ep *ep, const struct addr *peer, struct coap_msg *req,
		    uint64_t now_ms, coap_ep_response_fn cb, void *cb_ctx, uint64_t *id);

/* Ends a request sent with coap_ep_request: its callback gets -ECANCELED now. Returns 0
 * or -ENOENT when it has already ended. */
int coap_ep_cancel(struct coap_ep *ep, uint64_t id);

const struct coap_ep_stats *coap_ep_stats(const struct coap_ep *ep);

#endif
