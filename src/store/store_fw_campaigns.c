/*
 * store_fw_campaigns: firmware campaigns and their target devices (store_firmware.h's
 * second half; schema step 14). A campaign's settings are one JSON text the firmware
 * module owns; each target is a row keyed by (campaign_id, seq), so that a campaign walks
 * its targets in order from a cursor and never needs them all in memory.
 */
#include "store/store_firmware.h"
#include "store/store_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

enum slot {
	ST_CAMPAIGN_PUT = STORE_FW_CAMPAIGNS_FIRST_STMT,
	ST_CAMPAIGN_STATUS,
	ST_CAMPAIGN_EACH,
	ST_CAMPAIGN_DELETE_TARGETS,
	ST_CAMPAIGN_DELETE,
	ST_TARGET_PUT,
	ST_TARGET_EACH,
	ST_TARGET_LIST,
	ST_TARGETS_ADD_PRODUCT,
	ST_TARGETS_CANCEL,
	ST_TARGET_STATS,
	ST_TARGET_ACTIVE,
	ST_END,
};
_Static_assert(ST_END - STORE_FW_CAMPAIGNS_FIRST_STMT <= STORE_FW_CAMPAIGNS_STMTS,
	       "firmware campaign statements");

#define CAMPAIGN_COLUMNS                                                                   \
	"project_id, campaign_id, package_id, spec, status, stop_reason, create_time,"     \
	" start_ms, end_ms"
#define TARGET_COLUMNS                                                                     \
	"campaign_id, seq, device_id, node_id, state, reason, result, attempts, bytes,"    \
	" method, token, next_ms, updated_ms"

/* Stringified so that the SQL names the same states as the header. */
#define STR_(x) #x
#define STR(x) STR_(x)

static const char *const sql[] = {
	[ST_CAMPAIGN_PUT - STORE_FW_CAMPAIGNS_FIRST_STMT] =
		"INSERT OR REPLACE INTO fw_campaigns (" CAMPAIGN_COLUMNS ")"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
	[ST_CAMPAIGN_STATUS - STORE_FW_CAMPAIGNS_FIRST_STMT] =
		"UPDATE fw_campaigns SET status = ?2, stop_reason = ?3, start_ms = ?4,"
		" end_ms = ?5 WHERE campaign_id = ?1",
	[ST_CAMPAIGN_EACH - STORE_FW_CAMPAIGNS_FIRST_STMT] =
		"SELECT " CAMPAIGN_COLUMNS " FROM fw_campaigns ORDER BY create_time, rowid",
	[ST_CAMPAIGN_DELETE_TARGETS - STORE_FW_CAMPAIGNS_FIRST_STMT] =
		"DELETE FROM fw_targets WHERE campaign_id = ?1",
	[ST_CAMPAIGN_DELETE - STORE_FW_CAMPAIGNS_FIRST_STMT] =
		"DELETE FROM fw_campaigns WHERE campaign_id = ?1",
	[ST_TARGET_PUT - STORE_FW_CAMPAIGNS_FIRST_STMT] =
		"INSERT OR REPLACE INTO fw_targets (" TARGET_COLUMNS ") VALUES (?1, ?2, ?3, ?4,"
		" ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
	[ST_TARGET_EACH - STORE_FW_CAMPAIGNS_FIRST_STMT] =
		"SELECT " TARGET_COLUMNS " FROM fw_targets WHERE campaign_id = ?1 AND seq > ?2"
		" ORDER BY seq",
	[ST_TARGET_LIST - STORE_FW_CAMPAIGNS_FIRST_STMT] =
		"SELECT " TARGET_COLUMNS " FROM fw_targets WHERE campaign_id = ?1 AND seq > ?2"
		" AND (?3 < 0 OR state = ?3) ORDER BY seq LIMIT ?4",
	/* The devices_by_product index holds (project_id, product_id, rowid): the product's
	 * devices come in creation order without a sort. */
	[ST_TARGETS_ADD_PRODUCT - STORE_FW_CAMPAIGNS_FIRST_STMT] =
		"INSERT INTO fw_targets (campaign_id, seq, device_id, node_id, state, updated_ms)"
		" SELECT ?1, row_number() OVER (ORDER BY rowid) - 1, device_id, node_id,"
		" " STR(STORE_FW_WAITING) ", ?4 FROM devices"
		" WHERE project_id = ?2 AND product_id = ?3 ORDER BY rowid LIMIT ?5",
	[ST_TARGETS_CANCEL - STORE_FW_CAMPAIGNS_FIRST_STMT] =
		"UPDATE fw_targets SET state = " STR(STORE_FW_CANCELLED) ", token = '',"
		" updated_ms = ?2 WHERE campaign_id = ?1"
		" AND state <= " STR(STORE_FW_LAST_RUNNING),
	[ST_TARGET_STATS - STORE_FW_CAMPAIGNS_FIRST_STMT] =
		"SELECT state, count(*), sum(bytes), max(CASE WHEN state != "
		STR(STORE_FW_WAITING) " OR attempts > 0 THEN seq END)"
		" FROM fw_targets WHERE campaign_id = ?1 GROUP BY state",
	[ST_TARGET_ACTIVE - STORE_FW_CAMPAIGNS_FIRST_STMT] =
		"SELECT " TARGET_COLUMNS " FROM fw_targets WHERE campaign_id = ?1"
		" AND (state BETWEEN " STR(STORE_FW_WAITING) " + 1 AND "
		STR(STORE_FW_LAST_RUNNING) " OR (state = " STR(STORE_FW_WAITING)
		" AND attempts > 0)) ORDER BY seq",
};

static sqlite3_stmt *stmt(struct store *s, enum slot slot)
{
	return store_stmt_slot(s, slot, sql[slot - STORE_FW_CAMPAIGNS_FIRST_STMT]);
}

int store_fw_campaign_put(struct store *s, const struct store_fw_campaign *c)
{
	sqlite3_stmt *st = stmt(s, ST_CAMPAIGN_PUT);
	if (!st)
		return -EIO;
	store_bind_text(st, 1, c->project_id);
	store_bind_text(st, 2, c->campaign_id);
	store_bind_text(st, 3, c->package_id);
	store_bind_text(st, 4, c->spec);
	sqlite3_bind_int(st, 5, c->status);
	store_bind_text(st, 6, c->stop_reason);
	sqlite3_bind_int64(st, 7, c->create_time);
	sqlite3_bind_int64(st, 8, c->start_ms);
	sqlite3_bind_int64(st, 9, c->end_ms);
	return store_step_done(s, st, "firmware campaign put");
}

int store_fw_campaign_set_status(struct store *s, const struct store_fw_campaign *c)
{
	sqlite3_stmt *st = stmt(s, ST_CAMPAIGN_STATUS);
	if (!st)
		return -EIO;
	store_bind_text(st, 1, c->campaign_id);
	sqlite3_bind_int(st, 2, c->status);
	store_bind_text(st, 3, c->stop_reason);
	sqlite3_bind_int64(st, 4, c->start_ms);
	sqlite3_bind_int64(st, 5, c->end_ms);
	int rc = store_step_done(s, st, "firmware campaign status");
	if (rc == 0 && sqlite3_changes(store_db(s)) == 0)
		return -ENOENT;
	return rc;
}

int store_fw_campaign_each(struct store *s,
			   int (*fn)(const struct store_fw_campaign *c, void *ctx), void *ctx)
{
	sqlite3_stmt *st = stmt(s, ST_CAMPAIGN_EACH);
	if (!st)
		return -EIO;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_fw_campaign c;
		memset(&c, 0, sizeof(c));
		store_copy_column(st, 0, c.project_id, sizeof(c.project_id));
		store_copy_column(st, 1, c.campaign_id, sizeof(c.campaign_id));
		store_copy_column(st, 2, c.package_id, sizeof(c.package_id));
		const char *spec = (const char *)sqlite3_column_text(st, 3);
		c.spec = strdup(spec ? spec : "");
		if (!c.spec) {
			sqlite3_reset(st);
			return -ENOMEM;
		}
		c.status = sqlite3_column_int(st, 4);
		store_copy_column(st, 5, c.stop_reason, sizeof(c.stop_reason));
		c.create_time = sqlite3_column_int64(st, 6);
		c.start_ms = sqlite3_column_int64(st, 7);
		c.end_ms = sqlite3_column_int64(st, 8);
		int r = fn(&c, ctx);
		free(c.spec);
		if (r) {
			sqlite3_reset(st);
			return r;
		}
	}
	if (rc != SQLITE_DONE)
		return store_step_fail(s, st, "firmware campaign each");
	sqlite3_reset(st);
	return 0;
}

int store_fw_campaign_delete(struct store *s, const char *campaign_id)
{
	int rc = store_begin(s);
	if (rc)
		return rc;
	sqlite3_stmt *st = stmt(s, ST_CAMPAIGN_DELETE_TARGETS);
	rc = st ? 0 : -EIO;
	if (rc == 0) {
		store_bind_text(st, 1, campaign_id);
		rc = store_step_done(s, st, "firmware targets delete");
	}
	if (rc == 0 && !(st = stmt(s, ST_CAMPAIGN_DELETE)))
		rc = -EIO;
	if (rc == 0) {
		store_bind_text(st, 1, campaign_id);
		rc = store_step_done(s, st, "firmware campaign delete");
		if (rc == 0 && sqlite3_changes(store_db(s)) == 0)
			rc = -ENOENT;
	}
	if (rc) {
		store_rollback(s);
		return rc;
	}
	return store_commit(s);
}

int store_fw_target_put(struct store *s, const struct store_fw_target *t)
{
	sqlite3_stmt *st = stmt(s, ST_TARGET_PUT);
	if (!st)
		return -EIO;
	store_bind_text(st, 1, t->campaign_id);
	sqlite3_bind_int64(st, 2, t->seq);
	store_bind_text(st, 3, t->device_id);
	store_bind_text(st, 4, t->node_id);
	sqlite3_bind_int(st, 5, t->state);
	store_bind_text(st, 6, t->reason);
	sqlite3_bind_int(st, 7, t->result);
	sqlite3_bind_int64(st, 8, t->attempts);
	sqlite3_bind_int64(st, 9, (sqlite3_int64)t->bytes);
	sqlite3_bind_int(st, 10, t->method);
	store_bind_text(st, 11, t->token);
	sqlite3_bind_int64(st, 12, t->next_ms);
	sqlite3_bind_int64(st, 13, t->updated_ms);
	return store_step_done(s, st, "firmware target put");
}

static void read_target(sqlite3_stmt *st, struct store_fw_target *t)
{
	memset(t, 0, sizeof(*t));
	store_copy_column(st, 0, t->campaign_id, sizeof(t->campaign_id));
	t->seq = (uint32_t)sqlite3_column_int64(st, 1);
	store_copy_column(st, 2, t->device_id, sizeof(t->device_id));
	store_copy_column(st, 3, t->node_id, sizeof(t->node_id));
	t->state = sqlite3_column_int(st, 4);
	store_copy_column(st, 5, t->reason, sizeof(t->reason));
	t->result = sqlite3_column_int(st, 6);
	t->attempts = (uint32_t)sqlite3_column_int64(st, 7);
	t->bytes = (uint64_t)sqlite3_column_int64(st, 8);
	t->method = sqlite3_column_int(st, 9);
	store_copy_column(st, 10, t->token, sizeof(t->token));
	t->next_ms = sqlite3_column_int64(st, 11);
	t->updated_ms = sqlite3_column_int64(st, 12);
}

/* Steps st to its end, handing each target to fn. */
static int walk_targets(struct store *s, sqlite3_stmt *st,
			int (*fn)(const struct store_fw_target *t, void *ctx), void *ctx,
			const char *what)
{
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_fw_target t;
		read_target(st, &t);
		int r = fn(&t, ctx);
		if (r) {
			sqlite3_reset(st);
			return r;
		}
	}
	if (rc != SQLITE_DONE)
		return store_step_fail(s, st, what);
	sqlite3_reset(st);
	return 0;
}

int store_fw_target_each(struct store *s, const char *campaign_id, int64_t after_seq,
			 int (*fn)(const struct store_fw_target *t, void *ctx), void *ctx)
{
	sqlite3_stmt *st = stmt(s, ST_TARGET_EACH);
	if (!st)
		return -EIO;
	store_bind_text(st, 1, campaign_id);
	sqlite3_bind_int64(st, 2, after_seq);
	return walk_targets(s, st, fn, ctx, "firmware target each");
}

int store_fw_target_list(struct store *s, const char *campaign_id, int state,
			 int64_t after_seq, unsigned limit,
			 int (*fn)(const struct store_fw_target *t, void *ctx), void *ctx)
{
	sqlite3_stmt *st = stmt(s, ST_TARGET_LIST);
	if (!st)
		return -EIO;
	store_bind_text(st, 1, campaign_id);
	sqlite3_bind_int64(st, 2, after_seq);
	sqlite3_bind_int(st, 3, state < 0 ? -1 : state);
	sqlite3_bind_int64(st, 4, limit);
	return walk_targets(s, st, fn, ctx, "firmware target list");
}

int store_fw_targets_add_product(struct store *s, const char *campaign_id,
				 const char *project_id, const char *product_id, uint32_t max,
				 int64_t now_ms, uint32_t *count)
{
	sqlite3_stmt *st = stmt(s, ST_TARGETS_ADD_PRODUCT);
	if (!st)
		return -EIO;
	store_bind_text(st, 1, campaign_id);
	store_bind_text(st, 2, project_id);
	store_bind_text(st, 3, product_id);
	sqlite3_bind_int64(st, 4, now_ms);
	sqlite3_bind_int64(st, 5, max);
	int rc = store_step_done(s, st, "firmware targets of a product");
	if (rc == 0)
		*count = (uint32_t)sqlite3_changes(store_db(s));
	return rc;
}

int store_fw_targets_cancel(struct store *s, const char *campaign_id, int64_t now_ms)
{
	sqlite3_stmt *st = stmt(s, ST_TARGETS_CANCEL);
	if (!st)
		return -EIO;
	store_bind_text(st, 1, campaign_id);
	sqlite3_bind_int64(st, 2, now_ms);
	return store_step_done(s, st, "firmware targets cancel");
}

int store_fw_target_stats(struct store *s, const char *campaign_id,
			  struct store_fw_target_stats *out)
{
	memset(out, 0, sizeof(*out));
	out->last_started = -1;
	sqlite3_stmt *st = stmt(s, ST_TARGET_STATS);
	if (!st)
		return -EIO;
	store_bind_text(st, 1, campaign_id);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int state = sqlite3_column_int(st, 0);
		if (state >= 0 && state < STORE_FW_STATES)
			out->counts[state] = (uint32_t)sqlite3_column_int64(st, 1);
		out->bytes += (uint64_t)sqlite3_column_int64(st, 2);
		if (sqlite3_column_type(st, 3) != SQLITE_NULL &&
		    sqlite3_column_int64(st, 3) > out->last_started)
			out->last_started = sqlite3_column_int64(st, 3);
	}
	if (rc != SQLITE_DONE)
		return store_step_fail(s, st, "firmware target stats");
	sqlite3_reset(st);
	return 0;
}

int store_fw_target_each_active(struct store *s, const char *campaign_id,
				int (*fn)(const struct store_fw_target *t, void *ctx), void *ctx)
{
	sqlite3_stmt *st = stmt(s, ST_TARGET_ACTIVE);
	if (!st)
		return -EIO;
	store_bind_text(st, 1, campaign_id);
	return walk_targets(s, st, fn, ctx, "firmware active targets");
}
