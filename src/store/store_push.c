/*
 * store_push: forwarding rules and the push outbox (schema v6 and v10; store_push.h).
 * Its prepared statements sit in the slots after store_platform.c's.
 */
#include "store/store_push.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_internal.h"
#include "util/log.h"
#include "util/str.h"

enum slot {
	SL_RULE_INSERT,
	SL_RULE_DELETE,
	SL_RULE_LIST,
	SL_RULE_COUNT,
	SL_OUT_ADD,
	SL_OUT_COUNT,
	SL_OUT_GROUPS,
	SL_OUT_DROP,
	SL_OUT_TAKE,
	SL_OUT_LEASE,
	SL_OUT_DONE,
	SL_OUT_DONE_MANY,
	SL_OUT_RETRY,
	SL_OUT_RESET,
	SL_OUT_NEXT,
	SL_OUT_TAKE_EX,
	SL_OUT_NEXT_EX,
	SL_COUNT
};

static const char *const sql[SL_COUNT] = {
	[SL_RULE_INSERT] = "INSERT INTO forwarding_rules (rule_id, project_id, url, events,"
			   " create_time) VALUES (?1, ?2, ?3, ?4, ?5)",
	[SL_RULE_DELETE] = "DELETE FROM forwarding_rules WHERE project_id = ?1 AND rule_id = ?2",
	[SL_RULE_LIST] = "SELECT rule_id, project_id, url, events, create_time"
			 " FROM forwarding_rules WHERE project_id = ?1 ORDER BY create_time, rule_id",
	[SL_RULE_COUNT] = "SELECT count(*) FROM forwarding_rules WHERE project_id = ?1",
	[SL_OUT_ADD] = "INSERT INTO outbox (project_id, rule_id, url, body, next_ms)"
		       " VALUES (?1, ?2, ?3, ?4, ?5)",
	[SL_OUT_COUNT] = "SELECT count(*) FROM outbox",
	[SL_OUT_GROUPS] = "SELECT project_id, rule_id, count(*),"
			  " min(CASE WHEN state = 0 THEN next_ms END)"
			  " FROM outbox GROUP BY project_id, rule_id",
	/* By the index (project_id, id): the project's oldest, without a sort. */
	[SL_OUT_DROP] = "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox"
			" WHERE project_id = ?1 ORDER BY id LIMIT ?2) RETURNING rule_id",
	/* In the index's order (project_id, rule_id, state, next_ms) and then id: ORDER BY
	 * id alone made SQLite sort every due row on each call — all 50 000 of a backlog,
	 * per event pushed (docs/benchmarks.md). */
	[SL_OUT_TAKE] = "SELECT id, url, body, attempts FROM outbox WHERE project_id = ?1"
			" AND rule_id = ?2 AND state = 0 AND next_ms <= ?3 ORDER BY next_ms, id"
			" LIMIT ?4",
	/* The same rows as SL_OUT_TAKE just read (same turn, same transaction): one
	 * statement leases them all. */
	[SL_OUT_LEASE] = "UPDATE outbox SET state = 1 WHERE id IN (SELECT id FROM outbox"
			 " WHERE project_id = ?1 AND rule_id = ?2 AND state = 0 AND next_ms <= ?3"
			 " ORDER BY next_ms, id LIMIT ?4)",
	[SL_OUT_DONE] = "DELETE FROM outbox WHERE id = ?1",
	/* ?1 is a JSON array of ids: one statement for a loop turn's deliveries. */
	[SL_OUT_DONE_MANY] = "DELETE FROM outbox WHERE id IN (SELECT value FROM json_each(?1))"
			     " RETURNING id",
	[SL_OUT_RETRY] = "UPDATE outbox SET state = 0, attempts = ?2, next_ms = ?3 WHERE id = ?1",
	[SL_OUT_RESET] = "UPDATE outbox SET state = 0 WHERE state = 1",
	[SL_OUT_NEXT] = "SELECT min(next_ms) FROM outbox WHERE project_id = ?1 AND rule_id = ?2"
			" AND state = 0",
	/* The same without leases: ?5 (?3) is a JSON array of the ids the caller has in
	 * flight. In the index's order, so the few in flight are skipped, not sorted. */
	[SL_OUT_TAKE_EX] = "SELECT id, url, body, attempts FROM outbox WHERE project_id = ?1"
			   " AND rule_id = ?2 AND state = 0 AND next_ms <= ?3"
			   " AND id NOT IN (SELECT value FROM json_each(?5))"
			   " ORDER BY next_ms, id LIMIT ?4",
	[SL_OUT_NEXT_EX] = "SELECT next_ms FROM outbox WHERE project_id = ?1 AND rule_id = ?2"
			   " AND state = 0 AND id NOT IN (SELECT value FROM json_each(?3))"
			   " ORDER BY next_ms LIMIT 1",
};

_Static_assert(SL_COUNT <= STORE_PUSH_STMTS, "more slots needed");

static int bind_ids(sqlite3_stmt *st, int i, const int64_t *ids, size_t n);

static sqlite3_stmt *prep(struct store *s, enum slot slot)
{
	return store_stmt_slot(s, STORE_PLATFORM_STMTS + (int)slot, sql[slot]);
}



/* Steps a statement that returns no rows; -ENOENT when it changed none and must_change. */
static int done(struct store *s, sqlite3_stmt *st, bool must_change, const char *what)
{
	int rc = store_step_done(s, st, what);
	if (rc == 0 && must_change && sqlite3_changes(store_db(s)) == 0)
		return -ENOENT;
	return rc;
}



/* Forwarding rules. */

/* Bumped by every rule inserted or deleted: push keeps each project's rules in memory
 * (an event used to cost a sorted query of them) and reads them again when it changes.
 * The loop's thread alone writes rules and reads this. */
static uint64_t rule_generation = 1;

uint64_t store_rule_generation(void)
{
	return rule_generation;
}

int store_rule_insert(struct store *s, const struct store_rule *r)
{
	sqlite3_stmt *st = prep(s, SL_RULE_INSERT);
	if (!st)
		return -EIO;
	store_bind_text(st, 1, r->rule_id);
	store_bind_text(st, 2, r->project_id);
	store_bind_text(st, 3, r->url);
	store_bind_text(st, 4, r->events);
	sqlite3_bind_int64(st, 5, r->create_time);
	rule_generation++;
	return done(s, st, false, "rule insert");
}

int store_rule_delete(struct store *s, const char *project_id, const char *rule_id)
{
	sqlite3_stmt *st = prep(s, SL_RULE_DELETE);
	if (!st)
		return -EIO;
	store_bind_text(st, 1, project_id);
	store_bind_text(st, 2, rule_id);
	rule_generation++;
	return done(s, st, true, "rule delete");
}

int store_rule_list(struct store *s, const char *project_id,
		    int (*cb)(const struct store_rule *, void *), void *ctx)
{
	sqlite3_stmt *st = prep(s, SL_RULE_LIST);
	if (!st)
		return -EIO;
	store_bind_text(st, 1, project_id);
	int rc, ret = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_rule r;
		memset(&r, 0, sizeof(r));
		store_copy_column(st, 0, r.rule_id, sizeof(r.rule_id));
		store_copy_column(st, 1, r.project_id, sizeof(r.project_id));
		store_copy_column(st, 2, r.url, sizeof(r.url));
		store_copy_column(st, 3, r.events, sizeof(r.events));
		r.create_time = sqlite3_column_int64(st, 4);
		ret = cb(&r, ctx);
		if (ret)
			break;
	}
	if (ret == 0 && rc != SQLITE_DONE)
		return store_step_fail(s, st, "rule list");
	sqlite3_reset(st);
	return ret;
}

int store_rule_count(struct store *s, const char *project_id, int64_t *n)
{
	sqlite3_stmt *st = prep(s, SL_RULE_COUNT);
	if (!st)
		return -EIO;
	store_bind_text(st, 1, project_id);
	return store_step_count(s, st, n, "rule count");
}

/* The outbox. */

int store_outbox_add(struct store *s, const char *project_id, const char *rule_id,
		     const char *url, const char *body, int64_t next_ms)
{
	sqlite3_stmt *st = prep(s, SL_OUT_ADD);
	if (!st)
		return -EIO;
	store_bind_text(st, 1, project_id);
	store_bind_text(st, 2, rule_id);
	store_bind_text(st, 3, url);
	store_bind_text(st, 4, body);
	sqlite3_bind_int64(st, 5, next_ms);
	return done(s, st, false, "outbox add");
}

int store_outbox_count(struct store *s, int64_t *n)
{
	sqlite3_stmt *st = prep(s, SL_OUT_COUNT);
	return st ? store_step_count(s, st, n, "outbox count") : -EIO;
}

int store_outbox_groups(struct store *s,
			int (*cb)(const char *project_id, const char *rule_id, int64_t rows,
				  int64_t next_ms, void *ctx),
			void *ctx)
{
	sqlite3_stmt *st = prep(s, SL_OUT_GROUPS);
	if (!st)
		return -EIO;
	int rc, ret = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *project = (const char *)sqlite3_column_text(st, 0);
		const char *rule = (const char *)sqlite3_column_text(st, 1);
		int64_t next = sqlite3_column_type(st, 3) == SQLITE_NULL
				       ? INT64_MAX
				       : sqlite3_column_int64(st, 3);
		ret = cb(project ? project : "", rule ? rule : "", sqlite3_column_int64(st, 2),
			 next, ctx);
		if (ret)
			break;
	}
	if (ret == 0 && rc != SQLITE_DONE)
		return store_step_fail(s, st, "outbox groups");
	sqlite3_reset(st);
	return ret;
}

int store_outbox_drop_oldest(struct store *s, const char *project_id, int64_t n,
			     void (*cb)(const char *rule_id, void *ctx), void *ctx,
			     int64_t *dropped)
{
	*dropped = 0;
	sqlite3_stmt *st = prep(s, SL_OUT_DROP);
	if (!st)
		return -EIO;
	store_bind_text(st, 1, project_id);
	sqlite3_bind_int64(st, 2, n);
	/* RETURNING: SQLite deletes every row at the first step, then hands them out. */
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *rule = (const char *)sqlite3_column_text(st, 0);
		(*dropped)++;
		if (cb)
			cb(rule ? rule : "", ctx);
	}
	if (rc != SQLITE_DONE) {
		*dropped = 0;
		return store_step_fail(s, st, "outbox drop");
	}
	sqlite3_reset(st);
	return 0;
}

static int outbox_set(struct store *s, enum slot slot, int64_t id, const char *what)
{
	sqlite3_stmt *st = prep(s, slot);
	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, id);
	return done(s, st, true, what);
}

/* A row read by store_outbox_take, copied out of its statement. */
struct taken {
	int64_t id;
	int attempts;
	char *url, *body;
};

/* Binds the four parameters SL_OUT_TAKE and SL_OUT_LEASE share. */
static void bind_take(sqlite3_stmt *st, const char *project_id, const char *rule_id,
		      int64_t now_ms, int limit)
{
	store_bind_text(st, 1, project_id);
	store_bind_text(st, 2, rule_id);
	sqlite3_bind_int64(st, 3, now_ms);
	sqlite3_bind_int(st, 4, limit);
}

/* store_outbox_take (busy NULL: leases what it hands out) and store_outbox_take_except. */
static int take(struct store *s, const char *project_id, const char *rule_id, int64_t now_ms,
		int limit, const int64_t *busy, size_t nbusy,
		int (*cb)(const struct store_outbox_item *, void *), void *ctx)
{
	if (limit > STORE_OUTBOX_TAKE_MAX)
		limit = STORE_OUTBOX_TAKE_MAX;
	sqlite3_stmt *st = prep(s, busy ? SL_OUT_TAKE_EX : SL_OUT_TAKE);
	if (!st)
		return -EIO;
	bind_take(st, project_id, rule_id, now_ms, limit);
	if (busy && bind_ids(st, 5, busy, nbusy) != 0)
		return -ENOMEM;
	/* Three statements per call, however many rows: read them (copied, since the lease
	 * and the callbacks' own writes come after), lease them, hand them out. */
	struct taken rows[STORE_OUTBOX_TAKE_MAX];
	int n = 0, rc, ret = 0;
	while (n < limit && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *url = (const char *)sqlite3_column_text(st, 1);
		const char *body = (const char *)sqlite3_column_text(st, 2);
		struct taken *t = &rows[n];
		t->id = sqlite3_column_int64(st, 0);
		t->attempts = sqlite3_column_int(st, 3);
		t->url = strdup(url ? url : "");
		t->body = strdup(body ? body : "");
		if (!t->url || !t->body) {
			free(t->url);
			free(t->body);
			break; /* out of memory: what was read goes; the rest waits */
		}
		n++;
	}
	sqlite3_reset(st);
	if (n > 0 && !busy) {
		sqlite3_stmt *lease = prep(s, SL_OUT_LEASE);
		if (!lease) {
			ret = -EIO;
			goto out;
		}
		bind_take(lease, project_id, rule_id, now_ms, n);
		if ((ret = done(s, lease, false, "outbox lease")) != 0)
			goto out;
	}
	for (int i = 0; i < n && ret == 0; i++) {
		struct store_outbox_item it = { .id = rows[i].id, .url = rows[i].url,
						.body = rows[i].body, .attempts = rows[i].attempts };
		ret = cb(&it, ctx);
	}
out:
	for (int i = 0; i < n; i++) {
		free(rows[i].url);
		free(rows[i].body);
	}
	return ret ? ret : n;
}

int store_outbox_take(struct store *s, const char *project_id, const char *rule_id,
		      int64_t now_ms, int limit,
		      int (*cb)(const struct store_outbox_item *, void *), void *ctx)
{
	return take(s, project_id, rule_id, now_ms, limit, NULL, 0, cb, ctx);
}

int store_outbox_take_except(struct store *s, const char *project_id, const char *rule_id,
			     int64_t now_ms, int limit, const int64_t *busy, size_t nbusy,
			     int (*cb)(const struct store_outbox_item *, void *), void *ctx)
{
	static const int64_t none[1] = { 0 };
	return take(s, project_id, rule_id, now_ms, limit, busy ? busy : none, busy ? nbusy : 0,
		    cb, ctx);
}

int store_outbox_done(struct store *s, int64_t id)
{
	return outbox_set(s, SL_OUT_DONE, id, "outbox done");
}

/* Binds ids as a JSON array (for json_each) to parameter i; -ENOMEM. */
static int bind_ids(sqlite3_stmt *st, int i, const int64_t *ids, size_t n)
{
	/* "[" + n ids of at most 20 digits and a comma + "]" */
	char *list = malloc(n * 21 + 3);
	if (!list)
		return -ENOMEM;
	size_t len = 0;
	list[len++] = '[';
	for (size_t k = 0; k < n; k++)
		len += (size_t)sprintf(list + len, "%s%lld", k ? "," : "", (long long)ids[k]);
	list[len++] = ']';
	sqlite3_bind_text(st, i, list, (int)len, free);
	return 0;
}

int store_outbox_done_many(struct store *s, const int64_t *ids, size_t n,
			   void (*cb)(int64_t id, void *ctx), void *ctx)
{
	if (n == 0)
		return 0;
	sqlite3_stmt *st = prep(s, SL_OUT_DONE_MANY);
	if (!st)
		return -EIO;
	if (bind_ids(st, 1, ids, n) != 0)
		return -ENOMEM;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		cb(sqlite3_column_int64(st, 0), ctx);
	if (rc != SQLITE_DONE)
		return store_step_fail(s, st, "outbox done");
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return 0;
}

int store_outbox_retry(struct store *s, int64_t id, int attempts, int64_t next_ms)
{
	sqlite3_stmt *st = prep(s, SL_OUT_RETRY);
	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int(st, 2, attempts);
	sqlite3_bind_int64(st, 3, next_ms);
	return done(s, st, true, "outbox retry");
}

int store_outbox_reset(struct store *s)
{
	sqlite3_stmt *st = prep(s, SL_OUT_RESET);
	return st ? done(s, st, false, "outbox reset") : -EIO;
}

int store_outbox_next_due(struct store *s, const char *project_id, const char *rule_id,
			  int64_t *when)
{
	sqlite3_stmt *st = prep(s, SL_OUT_NEXT);
	if (!st)
		return -EIO;
	store_bind_text(st, 1, project_id);
	store_bind_text(st, 2, rule_id);
	if (sqlite3_step(st) != SQLITE_ROW)
		return store_step_fail(s, st, "outbox next");
	int rc = sqlite3_column_type(st, 0) == SQLITE_NULL ? -ENOENT : 0;
	*when = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return rc;
}

int store_outbox_next_due_except(struct store *s, const char *project_id, const char *rule_id,
				 const int64_t *busy, size_t nbusy, int64_t *when)
{
	sqlite3_stmt *st = prep(s, SL_OUT_NEXT_EX);
	if (!st)
		return -EIO;
	store_bind_text(st, 1, project_id);
	store_bind_text(st, 2, rule_id);
	if (bind_ids(st, 3, busy, nbusy) != 0)
		return -ENOMEM;
	int rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		sqlite3_reset(st);
		return -ENOENT;
	}
	if (rc != SQLITE_ROW)
		return store_step_fail(s, st, "outbox next");
	*when = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return 0;
}
