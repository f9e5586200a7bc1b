/*
 * lwm2m_requests: Device Management requests in flight, from the REST API to a device.
 *
 * A request names the device by endpoint; the owner's route callback says through which
 * CoAP endpoint and to which address it goes (the device's plain socket or its DTLS
 * session). Each request has a deadline on the libuv loop; the caller's done callback is
 * called exactly once, later, with the device's answer or an error — unless the caller
 * cancels it first, after which it is never called.
 *
 * Payloads over one block (1 KiB) go out block-wise (RFC 7959 Block1, at the block size the
 * device asks for); answers that come block-wise (Block2) are fetched block by block and
 * handed over whole, up to LWM2M_DM_MAX_BODY bytes.
 *
 * Queue mode (LwM2M Core §6.5): a device in queue mode listens only for a while after it
 * sent something. When the route says the device is asleep, the request is held (copied)
 * until the owner calls lwm2m_requests_wake for that device, then sent; the deadline
 * still bounds the whole wait, and the result says how long the request was held.
 */
#ifndef LWM2MD_LWM2M_REQUESTS_H
#define LWM2MD_LWM2M_REQUESTS_H

#include <stdint.h>

#include <uv.h>

#include "coap/coap_ep.h"
#include "lwm2m/lwm2m_dm.h"
#include "util/addr.h"

struct lwm2m_requests;

/* Where a device's requests go. */
struct lwm2m_route {
	struct coap_ep *ep;  /* its plain socket or its DTLS session's endpoint */
	struct addr peer;
	bool asleep;         /* queue mode, and not listening now */
	char prefix[64];     /* its alternate path ("/lwm2m"), "" for the root */
};

/* Fills route for node_id: 0, or -ENOTCONN when it is not registered. */
typedef int (*lwm2m_route_fn)(void *ctx, const char *node_id, struct lwm2m_route *route);
typedef void (*lwm2m_done_fn)(void *done_ctx, const struct lwm2m_dm_result *res);

struct lwm2m_requests_stats {
	uint64_t sent;
	uint64_t answered;   /* any CoAP answer, success or error code */
	uint64_t timed_out;
	uint64_t reset;      /* the device answered RST */
	uint64_t in_flight;  /* gauge */
	uint64_t held;       /* requests held for a sleeping device */
};

/* now_ms is the clock the owner drives the CoAP endpoints with (their timers compare
 * against it). */
int lwm2m_requests_create(struct lwm2m_requests **out, uv_loop_t *loop, lwm2m_route_fn route,
			  uint64_t (*now_ms)(void), void *ctx);
/* Cancels everything still in flight (no done callbacks) and frees after the loop has
 * closed the timers. Accepts NULL. */
void lwm2m_requests_destroy(struct lwm2m_requests *rq);

/* Sends req to node_id, or holds it while the device sleeps (unless hold is false: then
 * -EAGAIN). Returns 0 with *handle set, -ENOTCONN (not registered), -EAGAIN, -EINVAL
 * (lwm2m_dm_build refused it), -ENOMEM. */
int lwm2m_requests_send(struct lwm2m_requests *rq, const char *node_id,
			const struct lwm2m_dm_request *req, bool hold, lwm2m_done_fn done,
			void *done_ctx, uint64_t *handle);
/* node_id just sent something (it is awake): its held requests go out now, in order. */
void lwm2m_requests_wake(struct lwm2m_requests *rq, const char *node_id);
/* The caller no longer wants the answer (its HTTP client went away). */
void lwm2m_requests_cancel(struct lwm2m_requests *rq, uint64_t handle);

const struct lwm2m_requests_stats *lwm2m_requests_stats(const struct lwm2m_requests *rq);

#endif
