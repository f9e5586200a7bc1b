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
 * the timeout) retries it later with doubling backoff (1 s .. 5 min). Delivery is at
 * least once: an item in flight when the daemon stops goes again.
 *
 * Projects are kept apart (docs/api.md "Push to applications"): each has an outbox quota
 * (over it, the project's own oldest items are dropped, never another's) and a share of
 * the delivery slots; each rule has a circuit breaker (after breaker_failures failures in
 * a row its items wait, untouched, for a cooling period that doubles while probes fail).
 * Where a request may go is push_target.h's policy, checked again on every connect.
 */
#ifndef LWM2MD_IOT_PUSH_H
#define LWM2MD_IOT_PUSH_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>
#include <uv.h>

#include "store/store.h"
#include "util/addr.h"

struct push;

#define PUSH_MAX_RULES_DEFAULT 16

/* 0 in a field means its default. */
struct push_config {
	unsigned max_in_flight;         /* concurrent POSTs in all; default 16 */
	unsigned project_in_flight;     /* concurrent POSTs of one project; default 8 */
	int64_t max_outbox;             /* items kept in all; default 100000 */
	int64_t project_outbox;         /* items kept per project; default 10000 */
	unsigned connect_timeout_ms;    /* TCP (and TLS) connect; default 3000 */
	unsigned timeout_ms;            /* a whole POST; default 10000 */
	unsigned breaker_failures;      /* failures in a row that open a breaker; default 5 */
	unsigned breaker_cooldown_ms;   /* first cooling period; default 30 s */
	unsigned breaker_cooldown_max_ms; /* longest, after failed probes; default 10 min */
	unsigned max_rules;             /* forwarding rules per project; default 16 */
	bool allow_private;             /* --push-allow-private (push_target.h) */
};

struct push_stats {
	uint64_t queued;     /* items written to the outbox */
	uint64_t delivered;  /* 2xx answers */
	uint64_t failures;   /* attempts that failed (each retried) */
	uint64_t dropped;    /* items dropped by a quota or the whole outbox's bound */
	uint64_t in_flight;  /* gauge */
};

/* One project's or one rule's push since the daemon started (the backlog: now). */
struct push_counts {
	uint64_t delivered; /* events its endpoint(s) took (2xx) */
	uint64_t failed;    /* attempts that failed (each retried) */
	uint64_t dropped;   /* events dropped by the project's quota or the outbox's bound */
	int64_t backlog;    /* events in the outbox, waiting or in flight */
};

/* Fills the fields that are 0 with the defaults above. */
void push_config_defaults(struct push_config *c);

int push_create(struct push **out, uv_loop_t *loop, struct store *store,
		const struct push_config *cfg, int64_t (*now_ms)(void));
/* Stops the transfers in flight (their items go again at the next start); frees once
 * the loop has closed its handles. Accepts NULL. */
void push_destroy(struct push *p);

/* Where the daemon's own API listens: push never sends there (push_target.h). */
void push_set_api_addr(struct push *p, const struct addr *api);

/* Checks a forwarding rule's URL against the policy (push_target_check_url); p may be
 * NULL (the default policy). 0, or -EINVAL with a message naming `url` in err. */
int push_check_url(const struct push *p, const char *url, size_t max_len, char *err,
		   size_t cap);

/* How many forwarding rules a project may have (each multiplies its events). */
unsigned push_max_rules(const struct push *p);

/* A rule was deleted: its breaker and counters go once its last item has. */
void push_rule_deleted(struct push *p, const char *project_id, const char *rule_id);

/* Whether a rule of project_id wants "resource/event", from the rules push keeps in
 * memory (no store query once they are read): a caller can skip building an event
 * nobody takes. p may be NULL (false). */
bool push_wants(struct push *p, const char *project_id, const char *resource,
		const char *event);

/* Queues an event for every rule of project_id that wants "resource/event". header is
 * borrowed; body is stolen. */
void push_event(struct push *p, const char *project_id, const char *resource,
		const char *event, const json_t *header, json_t *body);

const struct push_stats *push_stats(const struct push *p);
/* A project's counts (zeros for one that never pushed). p may be NULL (zeros). */
void push_project_counts(const struct push *p, const char *project_id,
			 struct push_counts *out);
/* A rule's counts and its circuit breaker: "closed", "open" or "half_open" (docs/api.md
 * "Push to applications"). A rule without events since the daemon started: zeros and
 * "closed". p may be NULL (the same). */
void push_rule_counts(const struct push *p, const char *project_id, const char *rule_id,
		      struct push_counts *out, const char **breaker);
/* Writes the push metrics in the Prometheus text format: the totals, by failure reason,
 * per project and per rule (its breaker). */
void push_write_metrics(const struct push *p, FILE *out);

#endif
