/*
 * store_bootstrap: the bootstrap rows (store_bootstrap.h, schema step 15): devices' own
 * configurations, products' templates, devices' recent bootstraps. A device's rows go
 * with it by the schema's trigger bs_device_gone, so nothing here watches deletes.
 */
#include "store/store_internal.h"
#include "store/store_bootstrap.h"

#include <errno.h>
#include <string.h>

enum slot {
	ST_DEV_PUT = STORE_BOOTSTRAP_FIRST_STMT,
	ST_DEV_GET,
	ST_DEV_BY_IDENTITY,
	ST_DEV_BY_NODE,
	ST_DEV_DELETE,
	ST_TMPL_PUT,
	ST_TMPL_GET,
	ST_TMPL_DELETE,
	ST_HIST_ADD,
	ST_HIST_TRIM,
	ST_HIST_LIST,
	ST_END,
};
_Static_assert(ST_END - STORE_BOOTSTRAP_FIRST_STMT <= STORE_BOOTSTRAP_STMTS,
	       "bootstrap statements");

#define DEVICE_COLUMNS "project_id, device_id, node_id, bs_identity, config, update_time"
#define FIRST STORE_BOOTSTRAP_FIRST_STMT

static const char *const sql[] = {
	/* An upsert, not INSERT OR REPLACE: REPLACE would delete the other device's row
	 * whose bs_identity clashes, where we want -EEXIST. */
	[ST_DEV_PUT - FIRST] =
		"INSERT INTO bs_devices (" DEVICE_COLUMNS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
		" ON CONFLICT (project_id, device_id) DO UPDATE SET node_id = excluded.node_id,"
		" bs_identity = excluded.bs_identity, config = excluded.config,"
		" update_time = excluded.update_time",
	[ST_DEV_GET - FIRST] = "SELECT " DEVICE_COLUMNS " FROM bs_devices WHERE project_id = ?1"
			       " AND device_id = ?2",
	[ST_DEV_BY_IDENTITY - FIRST] = "SELECT " DEVICE_COLUMNS " FROM bs_devices"
				       " WHERE bs_identity = ?1",
	/* node_id is unique among devices, so at most one row (LIMIT for a stale one). */
	[ST_DEV_BY_NODE - FIRST] = "SELECT " DEVICE_COLUMNS " FROM bs_devices WHERE node_id = ?1"
				   " LIMIT 1",
	[ST_DEV_DELETE - FIRST] = "DELETE FROM bs_devices WHERE project_id = ?1 AND device_id = ?2",
	[ST_TMPL_PUT - FIRST] =
		"INSERT OR REPLACE INTO bs_templates (project_id, product_id, config, update_time)"
		" VALUES (?1, ?2, ?3, ?4)",
	[ST_TMPL_GET - FIRST] = "SELECT project_id, product_id, config, update_time"
				" FROM bs_templates WHERE project_id = ?1 AND product_id = ?2",
	[ST_TMPL_DELETE - FIRST] = "DELETE FROM bs_templates WHERE project_id = ?1"
				   " AND product_id = ?2",
	[ST_HIST_ADD - FIRST] = "INSERT INTO bs_history (project_id, device_id, time_ms, result,"
				" reason, transport) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	/* rowid breaks ties between bootstraps of the same millisecond: the later one is
	 * newer. */
	[ST_HIST_TRIM - FIRST] =
		"DELETE FROM bs_history WHERE project_id = ?1 AND device_id = ?2 AND rowid NOT IN"
		" (SELECT rowid FROM bs_history WHERE project_id = ?1 AND device_id = ?2"
		" ORDER BY time_ms DESC, rowid DESC LIMIT ?3)",
	[ST_HIST_LIST - FIRST] = "SELECT time_ms, result, reason, transport FROM bs_history"
				 " WHERE project_id = ?1 AND device_id = ?2"
				 " ORDER BY time_ms DESC, rowid DESC",
};

static sqlite3_stmt *stmt(struct store *s, enum slot slot)
{
	return store_stmt_slot(s, slot, sql[slot - FIRST]);
}

static void read_device(sqlite3_stmt *st, struct store_bs_device *d)
{
	memset(d, 0, sizeof(*d));
	store_copy_column(st, 0, d->project_id, sizeof(d->project_id));
	store_copy_column(st, 1, d->device_id, sizeof(d->device_id));
	store_copy_column(st, 2, d->node_id, sizeof(d->node_id));
	store_copy_column(st, 3, d->bs_identity, sizeof(d->bs_identity));
	store_copy_column(st, 4, d->config, sizeof(d->config));
	d->update_time = sqlite3_column_int64(st, 5);
}

/* Steps a statement whose one row (if any) is a device: 0, -ENOENT or -EIO. */
static int one_device(struct store *s, sqlite3_stmt *st, struct store_bs_device *out,
		      const char *what)
{
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		read_device(st, out);
		sqlite3_reset(st);
		return 0;
	}
	if (rc != SQLITE_DONE)
		return store_step_fail(s, st, what);
	sqlite3_reset(st);
	return -ENOENT;
}

/* Runs a delete: 0 when it removed a row, -ENOENT when none, -EIO. */
static int delete_one(struct store *s, sqlite3_stmt *st, const char *what)
{
	int rc = store_step_done(s, st, what);
	if (rc != 0)
		return rc;
	return sqlite3_changes(store_db(s)) > 0 ? 0 : -ENOENT;
}

int store_bs_device_put(struct store *s, const struct store_bs_device *d)
{
	sqlite3_stmt *st = stmt(s, ST_DEV_PUT);
	if (!st)
		return -EIO;
	store_bind_text(st, 1, d->project_id);
	store_bind_text(st, 2, d->device_id);
	store_bind_text(st, 3, d->node_id);
	store_bind_text(st, 4, d->bs_identity);
	store_bind_text(st, 5, d->config);
	sqlite3_bind_int64(st, 6, d->update_time);
	/* The only constraint left to fail is bs_devices_by_identity: -EEXIST. */
	return store_step_done(s, st, "bootstrap device put");
}

int store_bs_device_get(struct store *s, const char *project_id, const char *device_id,
			struct store_bs_device *out)
{
	sqlite3_stmt *st = stmt(s, ST_DEV_GET);
	if (!st)
		return -EIO;
	store_bind_text(st, 1, project_id);
	store_bind_text(st, 2, device_id);
	return one_device(s, st, out, "bootstrap device get");
}

int store_bs_device_by_identity(struct store *s, const char *bs_identity,
				struct store_bs_device *out)
{
	sqlite3_stmt *st = stmt(s, ST_DEV_BY_IDENTITY);
	if (!st)
		return -EIO;
	store_bind_text(st, 1, bs_identity);
	return one_device(s, st, out, "bootstrap device by identity");
}

int store_bs_device_by_node(struct store *s, const char *node_id, struct store_bs_device *out)
{
	sqlite3_stmt *st = stmt(s, ST_DEV_BY_NODE);
	if (!st)
		return -EIO;
	store_bind_text(st, 1, node_id);
	return one_device(s, st, out, "bootstrap device by node");
}

int store_bs_device_delete(struct store *s, const char *project_id, const char *device_id)
{
	sqlite3_stmt *st = stmt(s, ST_DEV_DELETE);
	if (!st)
		return -EIO;
	store_bind_text(st, 1, project_id);
	store_bind_text(st, 2, device_id);
	return delete_one(s, st, "bootstrap device delete");
}

int store_bs_template_put(struct store *s, const struct store_bs_template *t)
{
	sqlite3_stmt *st = stmt(s, ST_TMPL_PUT);
	if (!st)
		return -EIO;
	store_bind_text(st, 1, t->project_id);
	store_bind_text(st, 2, t->product_id);
	store_bind_text(st, 3, t->config);
	sqlite3_bind_int64(st, 4, t->update_time);
	return store_step_done(s, st, "bootstrap template put");
}

int store_bs_template_get(struct store *s, const char *project_id, const char *product_id,
			  struct store_bs_template *out)
{
	sqlite3_stmt *st = stmt(s, ST_TMPL_GET);
	if (!st)
		return -EIO;
	store_bind_text(st, 1, project_id);
	store_bind_text(st, 2, product_id);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		memset(out, 0, sizeof(*out));
		store_copy_column(st, 0, out->project_id, sizeof(out->project_id));
		store_copy_column(st, 1, out->product_id, sizeof(out->product_id));
		store_copy_column(st, 2, out->config, sizeof(out->config));
		out->update_time = sqlite3_column_int64(st, 3);
		sqlite3_reset(st);
		return 0;
	}
	if (rc != SQLITE_DONE)
		return store_step_fail(s, st, "bootstrap template get");
	sqlite3_reset(st);
	return -ENOENT;
}

int store_bs_template_delete(struct store *s, const char *project_id, const char *product_id)
{
	sqlite3_stmt *st = stmt(s, ST_TMPL_DELETE);
	if (!st)
		return -EIO;
	store_bind_text(st, 1, project_id);
	store_bind_text(st, 2, product_id);
	return delete_one(s, st, "bootstrap template delete");
}

static int history_insert(struct store *s, const char *project_id, const char *device_id,
			  const struct store_bs_event *e)
{
	sqlite3_stmt *st = stmt(s, ST_HIST_ADD);
	if (!st)
		return -EIO;
	store_bind_text(st, 1, project_id);
	store_bind_text(st, 2, device_id);
	sqlite3_bind_int64(st, 3, e->time_ms);
	store_bind_text(st, 4, e->result);
	store_bind_text(st, 5, e->reason);
	store_bind_text(st, 6, e->transport);
	int rc = store_step_done(s, st, "bootstrap history add");
	if (rc != 0)
		return rc;
	st = stmt(s, ST_HIST_TRIM);
	if (!st)
		return -EIO;
	store_bind_text(st, 1, project_id);
	store_bind_text(st, 2, device_id);
	sqlite3_bind_int(st, 3, STORE_BS_HISTORY_KEPT);
	return store_step_done(s, st, "bootstrap history trim");
}

int store_bs_history_add(struct store *s, const char *project_id, const char *device_id,
			 const struct store_bs_event *e)
{
	/* The insert and the trim together (a savepoint inside the daemon's batch), so a
	 * device never keeps more than STORE_BS_HISTORY_KEPT rows. */
	int rc = store_begin(s);
	if (rc != 0)
		return rc;
	rc = history_insert(s, project_id, device_id, e);
	if (rc != 0) {
		store_rollback(s);
		return rc;
	}
	return store_commit(s);
}

int store_bs_history_list(struct store *s, const char *project_id, const char *device_id,
			  int (*fn)(const struct store_bs_event *e, void *ctx), void *ctx)
{
	sqlite3_stmt *st = stmt(s, ST_HIST_LIST);
	if (!st)
		return -EIO;
	store_bind_text(st, 1, project_id);
	store_bind_text(st, 2, device_id);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_bs_event e;
		memset(&e, 0, sizeof(e));
		e.time_ms = sqlite3_column_int64(st, 0);
		store_copy_column(st, 1, e.result, sizeof(e.result));
		store_copy_column(st, 2, e.reason, sizeof(e.reason));
		store_copy_column(st, 3, e.transport, sizeof(e.transport));
		if (fn(&e, ctx) != 0) {
			sqlite3_reset(st);
			return 0;
		}
	}
	if (rc != SQLITE_DONE)
		return store_step_fail(s, st, "bootstrap history list");
	sqlite3_reset(st);
	return 0;
}
