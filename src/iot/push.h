/*
 * push: events to applications' HTTP(S) endpoints, as IoTDA's data forwarding does.
 *
 * An event (device.property/report, device.message/report, device.command.status/update,
 * device.status/update) is shaped as
 *   {"resource","event","event_time","event_time_ms","request_id",
 *    "notify_data":{"header":{"device_id","node_id","product_id",...},"body":{...}}}
 * and written to the outbox in the store, once per forwarding rule of the project that
 * wants it — so it survives a restart and a slow receiver never blocks devices. The
 * outbox is drained by libcurl's multi interface on the libuv loop (no threads):
 * POST application/json, a 2xx deletes the item, anything else (or no answer within
 * the timeout) retries it later with doubling backoff (1 s .. 5 min). The outbox is
 * bounded: past max_outbox items the oldest are dropped and counted.
 * Delivery is at least once: an item in flight when the daemon stops goes again.
 */
#ifndef LWM2MD_IOT_PUSH_H
#define LWM2MD_IOT_PUSH_H

#include <stdint.h>

#include <jansson.h>
#include <uv.h>

#include "store/store.h"

struct push;

struct push_config {
	unsigned max_in_flight; /* concurrent POSTs; default 16 */
	int64_t max_outbox;     /* items kept; default 100000 */
	unsigned timeout_ms;    /* per POST; default 10000 */
};

struct push_stats {
	uint64_t queued;     /* items written to the outbox */
	uint64_t delivered;  /* 2xx answers */
	uint64_t failures;   /* attempts that failed (each retried) */
	uint64_t dropped;    /* items dropped because the outbox was full */
	uint64_t in_flight;  /* gauge */
};

int push_create(struct push **out, uv_loop_t *loop, struct store *store,
		const struct push_config *cfg, int64_t (*now_ms)(void));
/* Stops the transfers in flight (their items go again at the next start); frees once
 * the loop has closed its handles. Accepts NULL. */
void push_destroy(struct push *p);

/* Queues an event for every rule of project_id that wants "resource/event". header is
 * borrowed; body is stolen. */
void push_event(struct push *p, const char *project_id, const char *resource,
		const char *event, const json_t *header, json_t *body);

const struct push_stats *push_stats(const struct push *p);

#endif
