/*
 * lwm2m_requests: pending DM requests, each with its own deadline timer.
 */
#include "lwm2m/lwm2m_requests.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util/hash.h"

#define DEFAULT_TIMEOUT_MS 30000

struct pending {
	struct hmap_node node; /* by handle */
	struct lwm2m_requests *rq;
	uint64_t handle;
	struct coap_ep *ep;
	struct addr peer;
	uint64_t coap_id;
	uv_timer_t timer;
	lwm2m_done_fn done; /* NULL once the caller cancelled */
	void *done_ctx;
	uint8_t token[8];   /* of the first message: an observation is known by it */
	uint8_t token_len;
	bool timed_out;
	/* The request, with its own copies: held requests go out later, and block-wise
	 * transfers build one message per block. */
	struct lwm2m_dm_request req;
	uint8_t *payload;
	char *attributes;
	char prefix[64];
	char node_id[65];
	bool held;
	struct pending *next_held; /* in rq->held, in arrival order */
	uint64_t held_since, held_ms;
	/* Block1: bytes of the payload the device has taken, the block size it wants, and the
	 * size of the block in flight. */
	size_t sent;
	uint8_t b1_szx;
	size_t in_flight_len;
	/* Block2: the answer assembled so far, and what its first block said. */
	uint8_t *body;
	size_t body_len;
	uint8_t b2_szx;
	bool b2_active;
	uint8_t first_code;
	int first_format;
	bool first_observing;
};

struct lwm2m_requests {
	uv_loop_t *loop;
	lwm2m_route_fn route;
	uint64_t (*now_ms)(void);
	void *ctx;
	struct hmap pending;
	struct pending *held; /* requests waiting for their device to wake */
	uint64_t next_handle;
	struct lwm2m_requests_stats stats;
	bool destroying;
};

static void free_pending(uv_handle_t *h)
{
	free(h->data);
}

static void unhold(struct pending *p)
{
	struct pending **pp = &p->rq->held;
	while (*pp && *pp != p)
		pp = &(*pp)->next_held;
	if (*pp)
		*pp = p->next_held;
	p->held = false;
}

static void finish(struct pending *p)
{
	if (p->held)
		unhold(p);
	free(p->payload);
	free(p->attributes);
	free(p->body);
	p->payload = NULL;
	p->attributes = NULL;
	p->body = NULL;
	hmap_remove(&p->rq->pending, &p->node);
	p->rq->stats.in_flight--;
	uv_timer_stop(&p->timer);
	uv_close((uv_handle_t *)&p->timer, free_pending);
}

static int first_content_format(const struct coap_msg *resp)
{
	uint32_t ct;
	return coap_msg_get_uint_option(resp, COAP_OPTION_CONTENT_FORMAT, &ct) == 0 ? (int)ct
										    : -1;
}

static int transmit(struct pending *p);

/* The answer's Location-Path as "/19/3", without the device's alternate path in front
 * (a Create is answered with the new instance's path, Transport §6.4.4); "" when it has
 * none or one longer than the result keeps. */
static void location_of(const struct coap_msg *resp, const char *prefix,
			char out[LWM2M_DM_LOCATION_MAX])
{
	size_t used = 0;
	out[0] = '\0';
	for (size_t i = 0; i < resp->option_count; i++) {
		const struct coap_option *o = &resp->options[i];
		if (o->number != COAP_OPTION_LOCATION_PATH)
			continue;
		if (used + 1 + o->len >= LWM2M_DM_LOCATION_MAX) {
			out[0] = '\0';
			return;
		}
		out[used++] = '/';
		memcpy(out + used, o->value, o->len);
		used += o->len;
		out[used] = '\0';
	}
	size_t n = prefix ? strlen(prefix) : 0;
	if (n > 1 && strncmp(out, prefix, n) == 0 && out[n] == '/')
		memmove(out, out + n, used - n + 1);
}

static void deliver(struct pending *p, const struct lwm2m_dm_result *res)
{
	if (p->done)
		p->done(p->done_ctx, res);
	finish(p);
}

static bool get_block(const struct coap_msg *m, uint16_t option, struct coap_block *b)
{
	uint32_t v;
	return coap_msg_get_uint_option(m, option, &v) == 0 && coap_block_decode(v, b) == 0;
}

/* A 2.31 Continue for a Block1 block: the next block goes out (at the size the device
 * asked for, RFC 7959 §2.5). Returns true when the transfer goes on. */
static bool block1_continue(struct pending *p, const struct coap_msg *resp)
{
	struct coap_block b;
	if (p->req.payload_len <= COAP_BLOCK_SIZE(LWM2M_DM_BLOCK_SZX) ||
	    resp->code != COAP_CODE_CONTINUE || !get_block(resp, COAP_OPTION_BLOCK1, &b))
		return false;
	p->sent += p->in_flight_len;
	if (b.szx < p->b1_szx)
		p->b1_szx = b.szx;
	return p->sent < p->req.payload_len && transmit(p) == 0;
}

/* A block of a Block2 answer: kept, and the next one asked for. Returns 1 when the
 * transfer goes on, 0 when this was the last block (or no block-wise answer), or a
 * negative errno. */
static int block2_collect(struct pending *p, const struct coap_msg *resp)
{
	struct coap_block b;
	if (COAP_CODE_CLASS(resp->code) != 2 || !get_block(resp, COAP_OPTION_BLOCK2, &b))
		return 0;
	if (!p->b2_active && !b.more && b.num == 0)
		return 0; /* all of it in one block */
	size_t size = COAP_BLOCK_SIZE(b.szx);
	if ((size_t)b.num * size != p->body_len || (b.more && resp->payload_len != size))
		return -EPROTO; /* not the block asked for, or a short middle block */
	if (p->body_len + resp->payload_len > LWM2M_DM_MAX_BODY)
		return -EMSGSIZE;
	if (!p->b2_active) {
		p->b2_active = true;
		p->first_code = resp->code;
		p->first_format = first_content_format(resp);
		p->first_observing = coap_msg_find_option(resp, COAP_OPTION_OBSERVE) != NULL;
	}
	uint8_t *body = realloc(p->body, p->body_len + resp->payload_len + 1);
	if (!body)
		return -ENOMEM;
	p->body = body;
	if (resp->payload_len)
		memcpy(body + p->body_len, resp->payload, resp->payload_len);
	p->body_len += resp->payload_len;
	p->b2_szx = b.szx;
	if (!b.more)
		return 0;
	int rc = transmit(p);
	return rc ? rc : 1;
}

/* coap_ep's answer: the device's response, an RST, its own timeout, or our cancel. */
static void on_answer(void *ctx, int status, const struct coap_msg *resp)
{
	struct pending *p = ctx;
	struct lwm2m_dm_result res = { .status = status, .content_format = -1,
				       .held_ms = p->held_ms, .never_sent = p->held };
	memcpy(res.token, p->token, p->token_len);
	res.token_len = p->token_len;
	if (status == 0 && resp) {
		if (block1_continue(p, resp))
			return;
		int rc = block2_collect(p, resp);
		if (rc == 1)
			return;
		if (rc < 0) {
			res.status = rc;
			deliver(p, &res);
			return;
		}
		res.code = resp->code;
		res.content_format = first_content_format(resp);
		res.payload = resp->payload;
		res.payload_len = resp->payload_len;
		res.observing = coap_msg_find_option(resp, COAP_OPTION_OBSERVE) != NULL;
		location_of(resp, p->prefix, res.location);
		if (p->b2_active) {
			res.code = p->first_code;
			res.content_format = p->first_format;
			res.observing = p->first_observing;
			res.payload = p->body;
			res.payload_len = p->body_len;
		}
		p->rq->stats.answered++;
	} else if (status == -ECONNRESET) {
		p->rq->stats.reset++;
	} else if (status == -ETIMEDOUT || p->timed_out) {
		res.status = -ETIMEDOUT;
		p->rq->stats.timed_out++;
	}
	deliver(p, &res);
}

static void on_deadline(uv_timer_t *t)
{
	struct pending *p = t->data;
	p->timed_out = true;
	if (p->held) {
		/* Still asleep: the device never woke within the caller's deadline. */
		p->held_ms = p->rq->now_ms() - p->held_since;
		on_answer(p, -ETIMEDOUT, NULL);
		return;
	}
	coap_ep_cancel(p->ep, p->coap_id); /* on_answer runs now, with -ECANCELED */
}

int lwm2m_requests_create(struct lwm2m_requests **out, uv_loop_t *loop, lwm2m_route_fn route,
			  uint64_t (*now_ms)(void), void *ctx)
{
	struct lwm2m_requests *rq = calloc(1, sizeof(*rq));
	if (!rq)
		return -ENOMEM;
	if (hmap_init(&rq->pending) != 0) {
		free(rq);
		return -ENOMEM;
	}
	rq->loop = loop;
	rq->route = route;
	rq->now_ms = now_ms;
	rq->ctx = ctx;
	rq->next_handle = 1;
	*out = rq;
	return 0;
}

static struct pending *find(struct lwm2m_requests *rq, uint64_t handle)
{
	uint64_t h = hash_mix(handle);
	struct hmap_node *n;
	HMAP_FOR_EACH_WITH_HASH(n, h, &rq->pending)
	{
		struct pending *p = container_of(n, struct pending, node);
		if (p->handle == handle)
			return p;
	}
	return NULL;
}

/* Builds and sends p's next message: the request, or its next Block1 block, or the
 * request for the next Block2 block of the answer. */
static int transmit(struct pending *p)
{
	struct lwm2m_dm_request req = p->req;
	struct coap_block b1, b2;
	if (p->req.payload_len > COAP_BLOCK_SIZE(LWM2M_DM_BLOCK_SZX)) {
		size_t size = COAP_BLOCK_SIZE(p->b1_szx);
		size_t left = p->req.payload_len - p->sent;
		p->in_flight_len = left < size ? left : size;
		b1 = (struct coap_block){ .num = (uint32_t)(p->sent / size),
					  .more = p->sent + p->in_flight_len < p->req.payload_len,
					  .szx = p->b1_szx };
		req.block1 = &b1;
		req.payload = p->req.payload + p->sent;
		req.payload_len = p->in_flight_len;
	}
	if (p->b2_active) {
		/* Later blocks are plain reads: an observation is made, or ended, by the first
		 * request alone (RFC 7959 §2.6), and only that one carries its token. */
		if (req.op == LWM2M_OP_OBSERVE || req.op == LWM2M_OP_OBSERVE_CANCEL)
			req.op = LWM2M_OP_READ;
		else if (req.op == LWM2M_OP_OBSERVE_COMPOSITE ||
			 req.op == LWM2M_OP_OBSERVE_COMPOSITE_CANCEL)
			req.op = LWM2M_OP_READ_COMPOSITE;
		size_t size = COAP_BLOCK_SIZE(p->b2_szx);
		b2 = (struct coap_block){ .num = (uint32_t)(p->body_len / size), .szx = p->b2_szx };
		req.block2 = &b2;
		req.token = NULL;
		req.token_len = 0;
	}
	struct coap_msg msg;
	char scratch[LWM2M_DM_SCRATCH];
	int rc = lwm2m_dm_build(&req, &msg, scratch);
	if (rc)
		return rc;
	rc = coap_ep_request(p->ep, &p->peer, &msg, p->rq->now_ms(), on_answer, p, &p->coap_id);
	if (rc)
		return rc;
	if (p->token_len == 0) {
		memcpy(p->token, msg.token, msg.token_len);
		p->token_len = msg.token_len;
	}
	return 0;
}

/* Keeps copies of what req points to. */
static int keep(struct pending *p, const char *node_id, const struct lwm2m_dm_request *req,
		const struct lwm2m_route *route)
{
	p->req = *req;
	if (req->payload_len && !req->payload_borrowed) {
		p->payload = malloc(req->payload_len);
		if (!p->payload)
			return -ENOMEM;
		memcpy(p->payload, req->payload, req->payload_len);
		p->req.payload = p->payload;
	}
	if (req->attributes) {
		p->attributes = strdup(req->attributes);
		if (!p->attributes)
			return -ENOMEM;
		p->req.attributes = p->attributes;
	}
	if (req->token_len > sizeof(p->token))
		return -EINVAL;
	if (req->token_len)
		memcpy(p->token, req->token, req->token_len);
	p->token_len = (uint8_t)req->token_len;
	p->req.token = p->token;
	snprintf(p->prefix, sizeof(p->prefix), "%s", route->prefix);
	p->req.prefix = p->prefix;
	p->req.block1 = p->req.block2 = NULL;
	snprintf(p->node_id, sizeof(p->node_id), "%s", node_id);
	p->ep = route->ep;
	p->peer = route->peer;
	p->b1_szx = LWM2M_DM_BLOCK_SZX;
	return 0;
}

/* Puts p at the end of the requests waiting for their device to wake. */
static void hold(struct pending *p)
{
	p->held = true;
	p->held_since = p->rq->now_ms();
	struct pending **pp = &p->rq->held;
	while (*pp)
		pp = &(*pp)->next_held;
	*pp = p;
	p->rq->stats.held++;
}

int lwm2m_requests_send(struct lwm2m_requests *rq, const char *node_id,
			const struct lwm2m_dm_request *req, bool may_hold, lwm2m_done_fn done,
			void *done_ctx, uint64_t *handle)
{
	struct lwm2m_route route = { 0 };
	int rc = rq->route(rq->ctx, node_id, &route);
	if (rc)
		return rc;
	if (route.asleep && !may_hold)
		return -EAGAIN;
	if (req->payload_len > LWM2M_DM_MAX_BODY && !req->payload_borrowed)
		return -EMSGSIZE;
	struct pending *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->rq = rq;
	p->done = done;
	p->done_ctx = done_ctx;
	p->handle = rq->next_handle++;
	rc = keep(p, node_id, req, &route);
	if (rc == 0) {
		/* Refuse what cannot be built now rather than when the device wakes. */
		struct coap_msg check;
		char scratch[LWM2M_DM_SCRATCH];
		struct lwm2m_dm_request first = p->req;
		first.payload_len = first.payload_len > COAP_BLOCK_SIZE(LWM2M_DM_BLOCK_SZX)
					    ? COAP_BLOCK_SIZE(LWM2M_DM_BLOCK_SZX)
					    : first.payload_len;
		rc = lwm2m_dm_build(&first, &check, scratch);
	}
	if (rc == 0) {
		if (route.asleep)
			hold(p);
		else
			rc = transmit(p);
	}
	if (rc) {
		if (p->held)
			unhold(p);
		free(p->payload);
		free(p->attributes);
		free(p);
		return rc;
	}
	uv_timer_init(rq->loop, &p->timer);
	p->timer.data = p;
	uv_timer_start(&p->timer, on_deadline, req->timeout_ms ? req->timeout_ms : DEFAULT_TIMEOUT_MS,
		       0);
	hmap_insert(&rq->pending, &p->node, hash_mix(p->handle));
	rq->stats.sent++;
	rq->stats.in_flight++;
	*handle = p->handle;
	return 0;
}

void lwm2m_requests_wake(struct lwm2m_requests *rq, const char *node_id)
{
	struct pending **pp = &rq->held;
	while (*pp) {
		struct pending *p = *pp;
		if (strcmp(p->node_id, node_id) != 0) {
			pp = &p->next_held;
			continue;
		}
		*pp = p->next_held;
		p->held = false;
		p->held_ms = rq->now_ms() - p->held_since;
		struct lwm2m_route route = { 0 };
		int rc = rq->route(rq->ctx, node_id, &route);
		if (rc == 0) {
			/* It may have come back from another address or session. */
			p->ep = route.ep;
			p->peer = route.peer;
			rc = transmit(p);
		}
		if (rc)
			on_answer(p, rc, NULL); /* finishes p */
		/* coap_ep queues them behind each other (NSTART 1): order is kept. */
	}
}

/* Ends p without telling its caller. */
static void drop(struct pending *p)
{
	p->done = NULL;
	if (p->held)
		on_answer(p, -ECANCELED, NULL);
	else
		coap_ep_cancel(p->ep, p->coap_id); /* on_answer finishes it */
}

void lwm2m_requests_cancel(struct lwm2m_requests *rq, uint64_t handle)
{
	struct pending *p = find(rq, handle);
	if (p)
		drop(p);
}

static void cancel_node(struct hmap_node *n, void *ctx)
{
	(void)ctx;
	drop(container_of(n, struct pending, node));
}

void lwm2m_requests_destroy(struct lwm2m_requests *rq)
{
	if (!rq)
		return;
	hmap_for_each(&rq->pending, cancel_node, NULL);
	hmap_destroy(&rq->pending);
	free(rq);
}

const struct lwm2m_requests_stats *lwm2m_requests_stats(const struct lwm2m_requests *rq)
{
	return &rq->stats;
}
