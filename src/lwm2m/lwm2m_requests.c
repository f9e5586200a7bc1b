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
	uint64_t coap_id;
	uv_timer_t timer;
	lwm2m_done_fn done; /* NULL once the caller cancelled */
	void *done_ctx;
	uint8_t token[8];
	uint8_t token_len;
	bool timed_out;
	/* While held for a sleeping device: the request, with its own copies. */
	bool held;
	struct pending *next_held; /* in rq->held, in arrival order */
	char node_id[65];
	struct lwm2m_dm_request req;
	uint8_t *payload;
	char *attributes;
	uint64_t held_since, held_ms;
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
	p->payload = NULL;
	p->attributes = NULL;
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

/* coap_ep's answer: the device's response, an RST, its own timeout, or our cancel. */
static void on_answer(void *ctx, int status, const struct coap_msg *resp)
{
	struct pending *p = ctx;
	struct lwm2m_dm_result res = { .status = status, .content_format = -1,
				       .held_ms = p->held_ms, .never_sent = p->held };
	memcpy(res.token, p->token, p->token_len);
	res.token_len = p->token_len;
	if (status == 0 && resp) {
		res.code = resp->code;
		res.content_format = first_content_format(resp);
		res.payload = resp->payload;
		res.payload_len = resp->payload_len;
		res.observing = coap_msg_find_option(resp, COAP_OPTION_OBSERVE) != NULL;
		p->rq->stats.answered++;
	} else if (status == -ECONNRESET) {
		p->rq->stats.reset++;
	} else if (status == -ETIMEDOUT || p->timed_out) {
		res.status = -ETIMEDOUT;
		p->rq->stats.timed_out++;
	}
	if (p->done)
		p->done(p->done_ctx, &res);
	finish(p);
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

/* Builds and sends p's request through ep to peer. */
static int transmit(struct pending *p, const struct lwm2m_dm_request *req, struct coap_ep *ep,
		    const struct addr *peer)
{
	struct coap_msg msg;
	char scratch[LWM2M_DM_SCRATCH];
	int rc = lwm2m_dm_build(req, &msg, scratch);
	if (rc)
		return rc;
	rc = coap_ep_request(ep, peer, &msg, p->rq->now_ms(), on_answer, p, &p->coap_id);
	if (rc)
		return rc;
	p->ep = ep;
	memcpy(p->token, msg.token, msg.token_len);
	p->token_len = msg.token_len;
	return 0;
}

/* Keeps copies of what req points to, for sending later. */
static int hold(struct pending *p, const char *node_id, const struct lwm2m_dm_request *req)
{
	p->req = *req;
	if (req->payload_len) {
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
	snprintf(p->node_id, sizeof(p->node_id), "%s", node_id);
	p->held = true;
	p->held_since = p->rq->now_ms();
	struct pending **pp = &p->rq->held;
	while (*pp)
		pp = &(*pp)->next_held;
	*pp = p;
	p->rq->stats.held++;
	return 0;
}

int lwm2m_requests_send(struct lwm2m_requests *rq, const char *node_id,
			const struct lwm2m_dm_request *req, bool may_hold, lwm2m_done_fn done,
			void *done_ctx, uint64_t *handle)
{
	struct coap_ep *ep;
	struct addr peer;
	bool asleep = false;
	int rc = rq->route(rq->ctx, node_id, &ep, &peer, &asleep);
	if (rc)
		return rc;
	if (asleep && !may_hold)
		return -EAGAIN;
	/* Refuse what cannot be built now rather than when the device wakes. */
	struct coap_msg check;
	char scratch[LWM2M_DM_SCRATCH];
	rc = lwm2m_dm_build(req, &check, scratch);
	if (rc)
		return rc;
	struct pending *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->rq = rq;
	p->done = done;
	p->done_ctx = done_ctx;
	p->handle = rq->next_handle++;
	rc = asleep ? hold(p, node_id, req) : transmit(p, req, ep, &peer);
	if (rc) {
		free(p->payload);
		free(p->attributes);
		if (p->held)
			unhold(p);
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
		struct coap_ep *ep;
		struct addr peer;
		bool asleep;
		int rc = rq->route(rq->ctx, node_id, &ep, &peer, &asleep);
		if (rc == 0)
			rc = transmit(p, &p->req, ep, &peer);
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
