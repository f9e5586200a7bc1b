/*
 * push_ep: push's per-project and per-rule state — the tables that let one project's
 * failing endpoints cost that project and nobody else — the circuit breakers, and the
 * metrics of all of it (docs/api.md "Push to applications", docs/internals/iot.md).
 */
#include "iot/push_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"
#include "util/str.h"

int push_tables_init(struct push *p)
{
	if (hmap_init(&p->projects) != 0 || hmap_init(&p->endpoints) != 0 ||
	    hmap_init(&p->rules) != 0)
		return -ENOMEM;
	return 0;
}

static void free_project(struct hmap_node *n, void *ctx)
{
	hmap_remove(ctx, n);
	free(container_of(n, struct push_project, node));
}

static void free_rules(struct hmap_node *n, void *ctx)
{
	struct push_rules *r = container_of(n, struct push_rules, node);
	hmap_remove(ctx, n);
	free(r->rules);
	free(r);
}

void push_tables_destroy(struct push *p)
{
	hmap_for_each(&p->rules, free_rules, &p->rules);
	hmap_destroy(&p->rules);
	for (size_t i = 0; i < p->eps_count; i++)
		free(p->eps[i]);
	free(p->eps);
	p->eps = NULL;
	p->eps_count = p->eps_cap = 0;
	hmap_destroy(&p->endpoints);
	hmap_for_each(&p->projects, free_project, &p->projects);
	hmap_destroy(&p->projects);
}

struct push_project *push_project_find(struct push *p, const char *id, bool create)
{
	uint64_t h = hash_str(id);
	struct hmap_node *n;
	HMAP_FOR_EACH_WITH_HASH(n, h, &p->projects)
	{
		struct push_project *x = container_of(n, struct push_project, node);
		if (strcmp(x->id, id) == 0)
			return x;
	}
	if (!create)
		return NULL;
	struct push_project *x = calloc(1, sizeof(*x));
	if (!x || str_copy(x->id, sizeof(x->id), id) != 0) {
		free(x);
		return NULL;
	}
	hmap_insert(&p->projects, &x->node, h);
	return x;
}

static int keep_rule(const struct store_rule *r, void *ctx)
{
	struct push_rules *rs = ctx;
	if (rs->count == rs->cap) {
		size_t cap = rs->cap ? rs->cap * 2 : 4;
		struct store_rule *x = realloc(rs->rules, cap * sizeof(*x));
		if (!x)
			return -ENOMEM;
		rs->rules = x;
		rs->cap = cap;
	}
	rs->rules[rs->count++] = *r;
	return 0;
}

const struct push_rules *push_rules_of(struct push *p, const char *project_id)
{
	uint64_t h = hash_str(project_id), gen = store_rule_generation();
	struct push_rules *rs = NULL;
	struct hmap_node *n;
	HMAP_FOR_EACH_WITH_HASH(n, h, &p->rules)
	{
		struct push_rules *x = container_of(n, struct push_rules, node);
		if (strcmp(x->project_id, project_id) == 0) {
			rs = x;
			break;
		}
	}
	if (rs && rs->gen == gen)
		return rs;
	if (!rs) {
		rs = calloc(1, sizeof(*rs));
		if (!rs || str_copy(rs->project_id, sizeof(rs->project_id), project_id) != 0) {
			free(rs);
			return NULL;
		}
		hmap_insert(&p->rules, &rs->node, h);
	}
	rs->count = 0;
	rs->gen = 0; /* stale until read whole */
	if (store_rule_list(p->store, project_id, keep_rule, rs) != 0)
		return NULL;
	rs->gen = gen;
	return rs;
}

static uint64_t endpoint_hash(const struct push_project *proj, const char *rule_id)
{
	return hash_mix(hash_str(proj->id) ^ hash_str(rule_id));
}

struct push_endpoint *push_endpoint_find(struct push *p, struct push_project *proj,
					 const char *rule_id, bool create)
{
	uint64_t h = endpoint_hash(proj, rule_id);
	struct hmap_node *n;
	HMAP_FOR_EACH_WITH_HASH(n, h, &p->endpoints)
	{
		struct push_endpoint *e = container_of(n, struct push_endpoint, node);
		if (e->project == proj && strcmp(e->rule_id, rule_id) == 0)
			return e;
	}
	if (!create)
		return NULL;
	if (p->eps_count == p->eps_cap) {
		size_t cap = p->eps_cap ? p->eps_cap * 2 : 16;
		struct push_endpoint **eps = realloc(p->eps, cap * sizeof(*eps));
		if (!eps)
			return NULL;
		p->eps = eps;
		p->eps_cap = cap;
	}
	struct push_endpoint *e = calloc(1, sizeof(*e));
	if (!e || str_copy(e->rule_id, sizeof(e->rule_id), rule_id) != 0) {
		free(e);
		return NULL;
	}
	e->project = proj;
	e->due = INT64_MAX;
	e->index = p->eps_count;
	p->eps[p->eps_count++] = e;
	hmap_insert(&p->endpoints, &e->node, h);
	return e;
}

void push_endpoints_collect(struct push *p)
{
	for (size_t i = p->eps_count; i-- > 0;) {
		struct push_endpoint *e = p->eps[i];
		if (!e->collectable || e->in_flight || e->done_pending || e->due != INT64_MAX)
			continue;
		hmap_remove(&p->endpoints, &e->node);
		/* The last one takes its place: the round robin's order changes, not its reach. */
		p->eps[i] = p->eps[--p->eps_count];
		p->eps[i]->index = i;
		free(e);
	}
	if (p->eps_cursor >= p->eps_count)
		p->eps_cursor = 0;
}

unsigned push_breaker_room(struct push *p, struct push_endpoint *e, int64_t now,
			   int64_t *wake)
{
	(void)p;
	*wake = INT64_MAX;
	if (e->breaker == PUSH_BREAKER_CLOSED)
		return UINT32_MAX;
	if (e->breaker == PUSH_BREAKER_OPEN) {
		if (now < e->open_until) {
			*wake = e->open_until;
			return 0;
		}
		e->breaker = PUSH_BREAKER_HALF_OPEN;
	}
	/* Half open: one probe at a time, and only once what was under way has ended. */
	return e->in_flight ? 0 : 1;
}

void push_breaker_result(struct push *p, struct push_endpoint *e, bool ok, int64_t now)
{
	if (ok) {
		if (e->breaker != PUSH_BREAKER_CLOSED)
			LOG_INFO("push", "project %s rule %s: the endpoint answers again; its items go",
				 e->project->id, e->rule_id);
		e->breaker = PUSH_BREAKER_CLOSED;
		e->failures_in_row = 0;
		e->cooldown_ms = 0;
		return;
	}
	e->failures_in_row++;
	if (e->breaker == PUSH_BREAKER_HALF_OPEN) {
		/* The probe failed: cool down again, twice as long. */
		e->cooldown_ms *= 2;
		if (e->cooldown_ms > (int64_t)p->cfg.breaker_cooldown_max_ms)
			e->cooldown_ms = p->cfg.breaker_cooldown_max_ms;
	} else if (e->breaker == PUSH_BREAKER_CLOSED &&
		   e->failures_in_row >= p->cfg.breaker_failures) {
		e->cooldown_ms = p->cfg.breaker_cooldown_ms;
	} else {
		return; /* closed under the threshold, or open already (a late answer) */
	}
	e->breaker = PUSH_BREAKER_OPEN;
	e->open_until = now + e->cooldown_ms;
	e->opens++;
	LOG_WARN("push", "project %s rule %s: %u failures in a row; its items wait %lld s",
		 e->project->id, e->rule_id, e->failures_in_row, (long long)e->cooldown_ms / 1000);
}

void push_project_counts(const struct push *p, const char *project_id,
			 struct push_counts *out)
{
	memset(out, 0, sizeof(*out));
	const struct push_project *x =
		p ? push_project_find((struct push *)p, project_id, false) : NULL;
	if (!x)
		return;
	out->delivered = x->delivered;
	out->failed = x->failures;
	out->dropped = x->dropped;
	out->backlog = x->outbox;
}

void push_rule_counts(const struct push *p, const char *project_id, const char *rule_id,
		      struct push_counts *out, const char **breaker)
{
	static const char *const names[] = {
		[PUSH_BREAKER_CLOSED] = "closed", [PUSH_BREAKER_OPEN] = "open",
		[PUSH_BREAKER_HALF_OPEN] = "half_open",
	};
	memset(out, 0, sizeof(*out));
	*breaker = names[PUSH_BREAKER_CLOSED];
	struct push_project *x = p ? push_project_find((struct push *)p, project_id, false) : NULL;
	const struct push_endpoint *e =
		x ? push_endpoint_find((struct push *)p, x, rule_id, false) : NULL;
	if (!e)
		return;
	out->delivered = e->delivered;
	out->failed = e->failures;
	out->dropped = e->dropped;
	out->backlog = e->backlog;
	/* As it stands: an open breaker whose cooling is over says "open" until the pump
	 * sends its probe. */
	*breaker = names[e->breaker];
}

const char *push_failure_name(enum push_failure f)
{
	static const char *const names[PUSH_FAIL_COUNT] = {
		[PUSH_FAIL_STATUS] = "status", [PUSH_FAIL_TIMEOUT] = "timeout",
		[PUSH_FAIL_CONNECT] = "connect", [PUSH_FAIL_ADDRESS] = "address_refused",
		[PUSH_FAIL_OTHER] = "other",
	};
	return f < PUSH_FAIL_COUNT ? names[f] : "other";
}

/* A label value in the text format: backslash, quote and newline escaped. Project ids
 * come from the operator's `token create`, so they may hold anything. */
static void label(FILE *out, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			fprintf(out, "\\%c", *s);
		else if (*s == '\n')
			fputs("\\n", out);
		else
			fputc(*s, out);
	}
}

static void head(FILE *out, const char *name, const char *type, const char *help)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

struct metric_walk {
	FILE *out;
	const char *name;
	size_t offset; /* of the uint64_t or int64_t field */
	bool is_signed;
};

static void project_line(struct hmap_node *n, void *ctx)
{
	struct metric_walk *w = ctx;
	const struct push_project *x = container_of(n, struct push_project, node);
	const char *field = (const char *)x + w->offset;
	uint64_t v;
	if (w->is_signed) {
		int64_t s;
		memcpy(&s, field, sizeof(s));
		v = s > 0 ? (uint64_t)s : 0;
	} else {
		memcpy(&v, field, sizeof(v));
	}
	fprintf(w->out, "%s{project=\"", w->name);
	label(w->out, x->id);
	fprintf(w->out, "\"} %" PRIu64 "\n", v);
}

static void endpoint_label(FILE *out, const char *name, const struct push_endpoint *e)
{
	fprintf(out, "%s{project=\"", name);
	label(out, e->project->id);
	fprintf(out, "\",rule=\"");
	label(out, e->rule_id);
	fputs("\"}", out);
}

void push_write_metrics(const struct push *p, FILE *out)
{
	const struct push_stats *s = &p->stats;
	head(out, "lwm2md_push_queued_total", "counter", "Events written to the push outbox.");
	fprintf(out, "lwm2md_push_queued_total %" PRIu64 "\n", s->queued);
	head(out, "lwm2md_push_delivered_total", "counter",
	     "Events an application endpoint took (2xx).");
	fprintf(out, "lwm2md_push_delivered_total %" PRIu64 "\n", s->delivered);
	head(out, "lwm2md_push_failures_total", "counter",
	     "Push attempts that failed (retried later).");
	fprintf(out, "lwm2md_push_failures_total %" PRIu64 "\n", s->failures);
	head(out, "lwm2md_push_failure_reasons_total", "counter",
	     "Push attempts that failed, by reason.");
	for (int f = 0; f < PUSH_FAIL_COUNT; f++)
		fprintf(out, "lwm2md_push_failure_reasons_total{reason=\"%s\"} %" PRIu64 "\n",
			push_failure_name((enum push_failure)f), p->failure_reasons[f]);
	head(out, "lwm2md_push_dropped_total", "counter",
	     "Events dropped by a project's quota or the whole outbox's bound.");
	fprintf(out, "lwm2md_push_dropped_total %" PRIu64 "\n", s->dropped);
	head(out, "lwm2md_push_in_flight", "gauge", "Push requests under way.");
	fprintf(out, "lwm2md_push_in_flight %" PRIu64 "\n", s->in_flight);
	head(out, "lwm2md_push_outbox", "gauge", "Events in the push outbox.");
	fprintf(out, "lwm2md_push_outbox %" PRId64 "\n", p->outbox_len);

	static const struct {
		const char *name, *type, *help;
		size_t offset;
		bool is_signed;
	} per_project[] = {
		{ "lwm2md_push_project_outbox", "gauge", "A project's events in the outbox.",
		  offsetof(struct push_project, outbox), true },
		{ "lwm2md_push_project_queued_total", "counter",
		  "A project's events written to the outbox.", offsetof(struct push_project, queued),
		  false },
		{ "lwm2md_push_project_delivered_total", "counter",
		  "A project's events its endpoints took.", offsetof(struct push_project, delivered),
		  false },
		{ "lwm2md_push_project_failures_total", "counter",
		  "A project's failed push attempts.", offsetof(struct push_project, failures),
		  false },
		{ "lwm2md_push_project_dropped_total", "counter",
		  "A project's events dropped by its quota (or the whole outbox's bound).",
		  offsetof(struct push_project, dropped), false },
		{ "lwm2md_push_project_in_flight", "gauge", "A project's push requests under way.",
		  offsetof(struct push_project, in_flight), false },
	};
	for (size_t i = 0; i < sizeof(per_project) / sizeof(per_project[0]); i++) {
		head(out, per_project[i].name, per_project[i].type, per_project[i].help);
		struct metric_walk w = { out, per_project[i].name, per_project[i].offset,
					 per_project[i].is_signed };
		hmap_for_each((struct hmap *)&p->projects, project_line, &w);
	}

	head(out, "lwm2md_push_breaker_state", "gauge",
	     "A rule's circuit breaker: 0 closed, 1 open (its events wait), 2 half open (probing).");
	for (size_t i = 0; i < p->eps_count; i++) {
		endpoint_label(out, "lwm2md_push_breaker_state", p->eps[i]);
		fprintf(out, " %d\n", (int)p->eps[i]->breaker);
	}
	head(out, "lwm2md_push_breaker_opens_total", "counter",
	     "Times a rule's circuit breaker opened (failed probes included).");
	for (size_t i = 0; i < p->eps_count; i++) {
		endpoint_label(out, "lwm2md_push_breaker_opens_total", p->eps[i]);
		fprintf(out, " %" PRIu64 "\n", p->eps[i]->opens);
	}
	head(out, "lwm2md_push_rule_failures_total", "counter", "A rule's failed push attempts.");
	for (size_t i = 0; i < p->eps_count; i++) {
		endpoint_label(out, "lwm2md_push_rule_failures_total", p->eps[i]);
		fprintf(out, " %" PRIu64 "\n", p->eps[i]->failures);
	}
	head(out, "lwm2md_push_rule_delivered_total", "counter", "A rule's delivered events.");
	for (size_t i = 0; i < p->eps_count; i++) {
		endpoint_label(out, "lwm2md_push_rule_delivered_total", p->eps[i]);
		fprintf(out, " %" PRIu64 "\n", p->eps[i]->delivered);
	}
}
