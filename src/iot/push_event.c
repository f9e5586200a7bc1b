/*
 * push_event: an event becomes outbox rows — one per forwarding rule of its project that
 * wants it — within the project's quota and the outbox's bound (push.h); the pump
 * (push.c) sends them.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "iot/push_internal.h"
#include "store/store_push.h"
#include "util/log.h"
#include "util/timefmt.h"

/* Does a rule's event list ("" = all) name this event? */
static bool wants(const char *events, const char *name)
{
	if (!events[0])
		return true;
	size_t n = strlen(name);
	for (const char *s = events; *s;) {
		const char *comma = strchr(s, ',');
		size_t len = comma ? (size_t)(comma - s) : strlen(s);
		if (len == n && memcmp(s, name, n) == 0)
			return true;
		s += len + (comma ? 1 : 0);
	}
	return false;
}

struct queue_ctx {
	struct push *p;
	const char *name;
	const char *body;
	int queued;
};

static int log2_floor(uint64_t v)
{
	int n = -1;
	for (; v; v >>= 1)
		n++;
	return n;
}

/* Counts drops; logs when a project's total reaches 1, 2, 4, 8 …, so that a project
 * dropping all day is seen without a line per event. */
static void count_dropped(struct push *p, struct push_project *proj, int64_t n)
{
	uint64_t before = proj->dropped;
	proj->dropped += (uint64_t)n;
	p->stats.dropped += (uint64_t)n;
	if (log2_floor(proj->dropped) > log2_floor(before))
		LOG_WARN("push", "project %s: %llu events dropped so far (its quota is %lld, the "
				 "outbox's %lld)",
			 proj->id, (unsigned long long)proj->dropped,
			 (long long)p->cfg.project_outbox, (long long)p->cfg.max_outbox);
}

struct drop_ctx {
	struct push *p;
	struct push_project *proj;
};

/* One of proj's rows was dropped: its rule's backlog and drops (push_rule_stats). */
static void dropped_row(const char *rule_id, void *ctx)
{
	struct drop_ctx *dc = ctx;
	struct push_endpoint *e = push_endpoint_find(dc->p, dc->proj, rule_id, false);
	if (e) {
		e->backlog--;
		e->dropped++;
	}
}

/* Makes room for one more row of proj: over its quota, or when the whole outbox is full,
 * its own oldest rows go — never another project's. false when it has none to give (the
 * new event is then the one dropped). */
static bool make_room(struct push *p, struct push_project *proj)
{
	int64_t over = proj->outbox + 1 - p->cfg.project_outbox;
	if (p->outbox_len + 1 - p->cfg.max_outbox > over)
		over = p->outbox_len + 1 - p->cfg.max_outbox;
	if (over <= 0)
		return true;
	int64_t dropped = 0;
	struct drop_ctx dc = { p, proj };
	store_outbox_drop_oldest(p->store, proj->id, over, dropped_row, &dc, &dropped);
	proj->outbox -= dropped;
	p->outbox_len -= dropped;
	if (dropped)
		count_dropped(p, proj, dropped);
	return dropped >= over;
}

static int queue_for_rule(const struct store_rule *r, void *ctx)
{
	struct queue_ctx *q = ctx;
	if (!wants(r->events, q->name))
		return 0;
	struct push *p = q->p;
	struct push_project *proj = push_project_find(p, r->project_id, true);
	struct push_endpoint *e = proj ? push_endpoint_find(p, proj, r->rule_id, true) : NULL;
	if (!e)
		return 0; /* out of memory: the event is lost, as when the store fails */
	e->collectable = false;
	if (!make_room(p, proj)) {
		count_dropped(p, proj, 1);
		e->dropped++;
		return 0;
	}
	int64_t now = p->now_ms();
	if (store_outbox_add(p->store, r->project_id, r->rule_id, r->url, q->body, now) == 0) {
		p->stats.queued++;
		proj->queued++;
		p->outbox_len++;
		proj->outbox++;
		e->backlog++;
		if (now < e->due)
			e->due = now;
		q->queued++;
	}
	return 0;
}

/* Whether one of rs's rules wants the event; true when rs is NULL (the cache failed:
 * the store decides). */
static bool any_wants(const struct push_rules *rs, const char *name)
{
	bool wanted = !rs;
	for (size_t i = 0; rs && i < rs->count && !wanted; i++)
		wanted = wants(rs->rules[i].events, name);
	return wanted;
}

bool push_wants(struct push *p, const char *project_id, const char *resource,
		const char *event)
{
	if (!p)
		return false;
	char name[96];
	snprintf(name, sizeof(name), "%s/%s", resource, event);
	return any_wants(push_rules_of(p, project_id), name);
}

void push_event(struct push *p, const char *project_id, const char *resource,
		const char *event, const json_t *header, json_t *body)
{
	char name[96], request_id[33], t[TIME_TEXT_MAX];
	snprintf(name, sizeof(name), "%s/%s", resource, event);
	/* Most projects push nothing: then the event is not even shaped. */
	const struct push_rules *rs = push_rules_of(p, project_id);
	if (!any_wants(rs, name)) {
		json_decref(body);
		return;
	}
	int64_t now = p->now_ms();
	time_format(now / 1000, t);
	/* Unique without a getrandom per event: the daemon's random half, then a count. */
	snprintf(request_id, sizeof(request_id), "%s%016llx", p->request_prefix,
		 (unsigned long long)++p->request_seq);
	json_t *msg = json_pack("{s:s, s:s, s:s, s:I, s:s, s:{s:O, s:o}}", "resource", resource,
				"event", event, "event_time", t, "event_time_ms", (json_int_t)now,
				"request_id", request_id, "notify_data", "header", header, "body",
				body ? body : json_object());
	char *text = msg ? json_dumps(msg, JSON_COMPACT) : NULL;
	json_decref(msg);
	if (!text)
		return;
	struct queue_ctx q = { .p = p, .name = name, .body = text };
	if (rs) {
		for (size_t i = 0; i < rs->count; i++)
			queue_for_rule(&rs->rules[i], &q);
	} else {
		store_rule_list(p->store, project_id, queue_for_rule, &q);
	}
	free(text);
	if (q.queued)
		push_pump_soon(p);
}
