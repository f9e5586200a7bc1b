/*
 * push_internal: what push.c (the transfers and the pump) and push_ep.c (per-project and
 * per-rule state: quotas, slots, breakers, metrics) share. Nothing else includes it.
 */
#ifndef LWM2MD_IOT_PUSH_INTERNAL_H
#define LWM2MD_IOT_PUSH_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include <curl/curl.h>

#include "iot/push.h"
#include "iot/push_target.h"
#include "store/store_push.h"
#include "util/hash.h"

/* Why an attempt failed, for the log and lwm2md_push_failure_reasons_total. */
enum push_failure {
	PUSH_FAIL_STATUS,   /* the endpoint answered, not 2xx */
	PUSH_FAIL_TIMEOUT,  /* no connection or no answer in time */
	PUSH_FAIL_CONNECT,  /* refused, unreachable, name not found, TLS failed */
	PUSH_FAIL_ADDRESS,  /* the address is one push refuses (push_target.h) */
	PUSH_FAIL_OTHER,
	PUSH_FAIL_COUNT
};

enum push_breaker {
	PUSH_BREAKER_CLOSED,    /* items go */
	PUSH_BREAKER_OPEN,      /* items wait until open_until */
	PUSH_BREAKER_HALF_OPEN, /* one item goes, as a probe */
};

/* One project's share of the outbox and of the delivery slots. Kept for the daemon's
 * life: there are as many as projects that pushed. */
struct push_project {
	struct hmap_node node;
	char id[STORE_ID_MAX + 1];
	int64_t outbox;     /* its rows in the outbox */
	uint64_t in_flight;
	uint64_t queued, delivered, failures, dropped;
};

/* A project's forwarding rules, as the store had them at generation gen
 * (store_rule_generation): read once per change instead of once per event. One per
 * project that had an event since the daemon started, at most max_rules rules each. */
struct push_rules {
	struct hmap_node node;
	char project_id[STORE_ID_MAX + 1];
	uint64_t gen;
	size_t count, cap;
	struct store_rule *rules;
};

/* One forwarding rule: where its items stand, and its circuit breaker. */
struct push_endpoint {
	struct hmap_node node;
	size_t index; /* in push.eps */
	struct push_project *project;
	char rule_id[40];
	/* No waiting item is due before this (a lower bound, corrected when a take finds
	 * fewer than it asked for); INT64_MAX: none waits. */
	int64_t due;
	unsigned in_flight;
	unsigned done_pending; /* its delivered rows not yet deleted (push.done_ids) */
	/* Freed once idle: the rule was deleted, or the endpoint was made at start from
	 * rows whose rule may be gone. An event for the rule clears it. */
	bool collectable;
	enum push_breaker breaker;
	unsigned failures_in_row;
	int64_t open_until;
	int64_t cooldown_ms; /* the current cooling period; doubles while probes fail */
	uint64_t delivered, failures, opens;
	uint64_t dropped;   /* its items dropped by its project's quota or the outbox's bound */
	int64_t backlog;    /* its items in the outbox, in flight or not */
};

struct push {
	uv_loop_t *loop;
	struct store *store;
	struct push_config cfg;
	struct push_target_policy policy;
	int64_t (*now_ms)(void);
	CURLM *multi;
	uv_timer_t curl_timer; /* curl's own timeouts */
	uv_timer_t pump_timer; /* the next due item or breaker probe */
	uv_check_t pump_check; /* a turn's deletions, and its pump when one was asked for */
	uv_idle_t pump_idle;   /* active while the check phase has work */
	struct push_stats stats;
	uint64_t failure_reasons[PUSH_FAIL_COUNT];
	int handles_open; /* libuv handles not yet closed */
	bool closing;
	char request_prefix[17]; /* an event's request_id: these 16 random hex digits, */
	uint64_t request_seq;    /* then this count's 16 */
	bool pump_soon; /* a pump comes in this turn's check phase */
	struct curl_slist *headers; /* the same for every POST */
	CURL **idle; /* easy handles between POSTs, at most cfg.max_in_flight */
	unsigned idle_count;
	/* Delivered items whose rows this turn's check phase deletes, at most
	 * cfg.max_in_flight. */
	int64_t *done_ids;
	struct push_endpoint **done_eps;
	unsigned done_count;
	int64_t *busy; /* room for 2 * cfg.max_in_flight ids (busy_ids in push.c) */
	struct delivery *deliveries; /* in flight */
	struct watch *watches;
	int64_t outbox_len; /* items in the outbox: counted here, not by a table scan */
	struct hmap projects; /* push_project by id */
	struct hmap endpoints; /* push_endpoint by (project, rule) */
	struct hmap rules;     /* push_rules by project */
	struct push_endpoint **eps; /* the same, for the pump's round robin */
	size_t eps_count, eps_cap, eps_cursor;
};

/* push.c: pumps once for all the events of this loop turn, in its check phase. */
void push_pump_soon(struct push *p);

/* push_ep.c */
int push_tables_init(struct push *p);
/* Frees every project and endpoint. */
void push_tables_destroy(struct push *p);
/* The project (made when create, with zeroed counters); NULL when absent or out of
 * memory. */
struct push_project *push_project_find(struct push *p, const char *id, bool create);
struct push_endpoint *push_endpoint_find(struct push *p, struct push_project *proj,
					 const char *rule_id, bool create);
/* The project's rules, read again from the store when they changed; NULL when they could
 * not be read (out of memory, the store failed): then ask the store. */
const struct push_rules *push_rules_of(struct push *p, const char *project_id);
/* Frees the collectable endpoints that are idle (nothing waits, nothing in flight). */
void push_endpoints_collect(struct push *p);
/* How many of e's items may start now: UINT32_MAX when its breaker is closed, 1 for a
 * probe, 0 while it cools (*wake then says until when; INT64_MAX: until a completion). */
unsigned push_breaker_room(struct push *p, struct push_endpoint *e, int64_t now,
			   int64_t *wake);
/* An attempt of e's finished. */
void push_breaker_result(struct push *p, struct push_endpoint *e, bool ok, int64_t now);
const char *push_failure_name(enum push_failure f);

#endif
