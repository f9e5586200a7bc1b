/*
 * store_push: the registry's part of push to applications — forwarding rules and the
 * outbox of events not yet delivered (schema v6 and v10). Same conventions as store.h:
 * 0 or a negative errno (-ENOENT: no such row; -EIO: the database failed, logged).
 *
 * Every outbox row belongs to a project and a rule, so that the push module can bound,
 * pace and hold back one project's or one rule's rows without touching anyone else's.
 */
#ifndef LWM2MD_STORE_PUSH_H
#define LWM2MD_STORE_PUSH_H

#include <stdint.h>

#include "store/store.h"

/* Forwarding rules: where a project's events are pushed. events is a comma-separated list
 * of "resource/event" names (e.g. "device.property/report"), "" for all. */
struct store_rule {
	char rule_id[40];
	char project_id[STORE_ID_MAX + 1];
	char url[1024];
	char events[256];
	int64_t create_time;
};
int store_rule_insert(struct store *s, const struct store_rule *r);
int store_rule_delete(struct store *s, const char *project_id, const char *rule_id);
int store_rule_list(struct store *s, const char *project_id,
		    int (*cb)(const struct store_rule *, void *), void *ctx);
/* Changes whenever a rule is inserted or deleted (by any store of this process): a
 * cache of rules is stale when the generation it was read at is not this one. */
uint64_t store_rule_generation(void);
/* How many rules a project has. */
int store_rule_count(struct store *s, const char *project_id, int64_t *n);

/* One outbox row handed out by store_outbox_take; the strings are valid during the
 * callback only. */
struct store_outbox_item {
	int64_t id;
	const char *url;
	const char *body;
	int attempts;
};

int store_outbox_add(struct store *s, const char *project_id, const char *rule_id,
		     const char *url, const char *body, int64_t next_ms);
/* Every row, whatever its project. */
int store_outbox_count(struct store *s, int64_t *n);
/* For each (project, rule) with rows: how many, and the earliest next_ms of those not in
 * flight (INT64_MAX when all are). The strings are valid during the callback only; a
 * callback's non-zero return stops the walk and is returned. */
int store_outbox_groups(struct store *s,
			int (*cb)(const char *project_id, const char *rule_id, int64_t rows,
				  int64_t next_ms, void *ctx),
			void *ctx);
/* Deletes up to n of the project's oldest rows, in flight or not (a quota is a hard
 * bound); *dropped says how many went, and cb (may be NULL) is told each one's rule (the
 * string is valid during the call). Never touches another project's rows. */
int store_outbox_drop_oldest(struct store *s, const char *project_id, int64_t n,
			     void (*cb)(const char *rule_id, void *ctx), void *ctx,
			     int64_t *dropped);
/* The most rows one store_outbox_take hands out (a larger limit is cut to it). */
#define STORE_OUTBOX_TAKE_MAX 64
/* Marks up to limit due rows of one rule (next_ms <= now, not in flight) in flight and
 * calls cb for each, the longest due first (new events in the order they came). Returns
 * how many, or a negative errno (or what cb returned, when not 0). */
int store_outbox_take(struct store *s, const char *project_id, const char *rule_id,
		      int64_t now_ms, int limit,
		      int (*cb)(const struct store_outbox_item *, void *), void *ctx);
/* The same without leasing: the rows stay as they are, and those whose ids are in busy
 * (the caller's own in flight, at most a few) are skipped. For a caller that keeps what
 * is in flight in memory — push: a lease is a write of the whole row per event, and
 * store_outbox_reset clears every lease at start anyway. */
int store_outbox_take_except(struct store *s, const char *project_id, const char *rule_id,
			     int64_t now_ms, int limit, const int64_t *busy, size_t nbusy,
			     int (*cb)(const struct store_outbox_item *, void *), void *ctx);
/* The earliest next_ms of one rule's rows not leased and not in busy; -ENOENT: none. */
int store_outbox_next_due_except(struct store *s, const char *project_id, const char *rule_id,
				 const int64_t *busy, size_t nbusy, int64_t *when);
/* -ENOENT when the row is gone (dropped by its project's quota while in flight). */
int store_outbox_done(struct store *s, int64_t id);
/* Deletes the rows of ids (delivered), in one statement; cb is told each id that was still
 * there (the others were dropped by their project's quota while in flight). */
int store_outbox_done_many(struct store *s, const int64_t *ids, size_t n,
			   void (*cb)(int64_t id, void *ctx), void *ctx);
int store_outbox_retry(struct store *s, int64_t id, int attempts, int64_t next_ms);
/* Everything in flight when the daemon stopped is due again. */
int store_outbox_reset(struct store *s);
/* The earliest next_ms of one rule's rows not in flight; -ENOENT when none waits. */
int store_outbox_next_due(struct store *s, const char *project_id, const char *rule_id,
			  int64_t *when);

#endif
