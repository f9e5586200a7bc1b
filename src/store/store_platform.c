/*
 * store_platform: products' models, codecs and codec examples, shadows, commands (schema
 * v4, v5, v9 and v12).
 */
#include "store/store_platform.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_internal.h"
#include "util/log.h"
#include "util/str.h"

enum slot {
	SL_MODEL_GET,
	SL_MODEL_SET,
	SL_CODEC_GET,
	SL_CODEC_SET,
	SL_SHADOW_GET,
	SL_SHADOW_PUT,
	SL_SHADOW_LIST,
	SL_SHADOW_DELETE,
	SL_CMD_INSERT,
	SL_CMD_UPDATE,
	SL_CMD_GET,
	SL_CMD_LIST,
	SL_CMD_COUNT,
	SL_CMD_COUNT_OPEN,
	SL_CMD_LOAD_OPEN,
	SL_CMD_NEXT_PENDING,
	SL_CMD_FIND_MID,
	SL_CMD_DUE,
	SL_CMD_CLOSE_DEVICE,
	SL_MAP_GET,
	SL_MAP_SET,
	SL_MAP_ANY,
	SL_CMD_PENDING_NAMED,
	SL_CMD_SET_PARAS,
	SL_EXAMPLES_GET,
	SL_EXAMPLES_SET,
	SL_DEVICE_CLASH,
	SL_DEVICES_CHUNK,
	SL_CMD_COUNT_OPEN_NODE,
	SL_CMD_NEXT_SEQ,
	SL_SHADOW_UPDATE,
};

#define OPEN_STATUSES "('PENDING','SENT','DELIVERED')"
#define COMMAND_COLUMNS                                                                    \
	"seq, command_id, project_id, device_id, node_id, service_id, command_name, paras," \
	" send_strategy, status, mid, created_ms, expire_ms, sent_ms, delivered_ms,"          \
	" response_ms, result"
#define SHADOW_COLUMNS                                                                     \
	"device_id, service_id, reported, reported_version, reported_time_ms, desired,"     \
	" desired_version, desired_time_ms"

/* The bulk insert: chunks of DEVICES_CHUNK rows through one cached statement (parsing
 * an INSERT of 1000 rows cost as much as a sixth of the whole batch), the rest through a
 * statement made for it. */
#define DEVICES_CHUNK 100
#define ROW1 "(?,?,?,?,?,?,?,?,?,?,?,?)"
#define ROW10                                                                              \
	ROW1 "," ROW1 "," ROW1 "," ROW1 "," ROW1 "," ROW1 "," ROW1 "," ROW1 "," ROW1 "," ROW1
#define ROW100                                                                             \
	ROW10 "," ROW10 "," ROW10 "," ROW10 "," ROW10 "," ROW10 "," ROW10 "," ROW10 "," ROW10 \
	      "," ROW10
#define INSERT_HEAD "INSERT INTO devices (" STORE_DEVICE_COLUMNS ") VALUES "

static const char *const sql[] = {
	[SL_MODEL_GET] = "SELECT service_capabilities FROM products"
			 " WHERE project_id = ?1 AND product_id = ?2",
	[SL_MODEL_SET] = "UPDATE products SET service_capabilities = ?3"
			 " WHERE project_id = ?1 AND product_id = ?2",
	[SL_CODEC_GET] = "SELECT codec_kind, codec_source FROM products"
			 " WHERE project_id = ?1 AND product_id = ?2",
	[SL_CODEC_SET] = "UPDATE products SET codec_kind = ?3, codec_source = ?4"
			 " WHERE project_id = ?1 AND product_id = ?2",
	[SL_SHADOW_GET] = "SELECT " SHADOW_COLUMNS " FROM shadows"
			  " WHERE device_id = ?1 AND service_id = ?2",
	[SL_SHADOW_PUT] = "INSERT OR REPLACE INTO shadows (" SHADOW_COLUMNS ")"
			  " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
	[SL_SHADOW_LIST] = "SELECT " SHADOW_COLUMNS " FROM shadows WHERE device_id = ?1"
			   " ORDER BY service_id",
	[SL_SHADOW_DELETE] = "DELETE FROM shadows WHERE device_id = ?1",
	[SL_CMD_INSERT] = "INSERT INTO commands (command_id, project_id, device_id, node_id,"
			  " service_id, command_name, paras, send_strategy, status, mid,"
			  " created_ms, expire_ms, sent_ms, delivered_ms, response_ms, result)"
			  " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14,"
			  " ?15, ?16)",
	[SL_CMD_UPDATE] = "UPDATE commands SET status = ?2, mid = ?3, sent_ms = ?4,"
			  " delivered_ms = ?5, response_ms = ?6, result = ?7"
			  " WHERE command_id = ?1",
	[SL_CMD_GET] = "SELECT " COMMAND_COLUMNS " FROM commands WHERE command_id = ?1",
	[SL_CMD_LIST] = "SELECT " COMMAND_COLUMNS " FROM commands WHERE device_id = ?1"
			" ORDER BY seq LIMIT ?3 OFFSET ?2",
	[SL_CMD_COUNT] = "SELECT count(*) FROM commands WHERE device_id = ?1",
	[SL_CMD_COUNT_OPEN] = "SELECT count(*) FROM commands WHERE device_id = ?1"
			      " AND status IN " OPEN_STATUSES,
	[SL_CMD_LOAD_OPEN] = "SELECT " COMMAND_COLUMNS " FROM commands"
			     " WHERE status IN " OPEN_STATUSES " ORDER BY seq",
	[SL_CMD_NEXT_PENDING] = "SELECT " COMMAND_COLUMNS " FROM commands"
				" WHERE node_id = ?1 AND status = 'PENDING' ORDER BY seq LIMIT 1",
	[SL_CMD_FIND_MID] = "SELECT " COMMAND_COLUMNS " FROM commands"
			    " WHERE node_id = ?1 AND mid = ?2 AND status IN ('SENT','DELIVERED')"
			    " ORDER BY seq DESC LIMIT 1",
	[SL_CMD_DUE] = "SELECT " COMMAND_COLUMNS " FROM commands"
		       " WHERE (status = 'PENDING' AND expire_ms <= ?1)"
		       " OR (status = 'DELIVERED' AND delivered_ms <= ?2) ORDER BY seq LIMIT 256",
	[SL_CMD_CLOSE_DEVICE] = "UPDATE commands SET status = 'FAILED', response_ms = ?2,"
				" result = '{\"error\":\"the device was deleted\"}'"
				" WHERE device_id = ?1 AND status IN " OPEN_STATUSES,
	[SL_MAP_GET] = "SELECT resource_mappings FROM products"
		       " WHERE project_id = ?1 AND product_id = ?2",
	[SL_MAP_SET] = "UPDATE products SET resource_mappings = ?3"
		       " WHERE project_id = ?1 AND product_id = ?2",
	[SL_MAP_ANY] = "SELECT 1 FROM products WHERE resource_mappings != '[]' LIMIT 1",
	[SL_CMD_PENDING_NAMED] = "SELECT " COMMAND_COLUMNS " FROM commands"
				 " WHERE device_id = ?1 AND status = 'PENDING' AND service_id = ?2"
				 " AND command_name = ?3 ORDER BY seq DESC LIMIT 1",
	[SL_CMD_SET_PARAS] = "UPDATE commands SET paras = ?2 WHERE command_id = ?1",
	[SL_EXAMPLES_GET] = "SELECT codec_examples FROM products"
			    " WHERE project_id = ?1 AND product_id = ?2",
	[SL_EXAMPLES_SET] = "UPDATE products SET codec_examples = ?3"
			    " WHERE project_id = ?1 AND product_id = ?2",
	/* Both keys are unique across projects; the node_id's clash is the one named first. */
	[SL_DEVICE_CLASH] = "SELECT max(node_id = ?2) FROM devices"
			    " WHERE device_id = ?1 OR node_id = ?2 HAVING count(*) > 0",
	[SL_DEVICES_CHUNK] = INSERT_HEAD ROW100,
	/* commands_by_node (node_id, status, seq) covers it: the device's history of closed
	 * commands is not read, as it is by device_id. */
	[SL_CMD_COUNT_OPEN_NODE] = "SELECT count(*) FROM commands WHERE node_id = ?1"
				   " AND status IN " OPEN_STATUSES,
	/* AUTOINCREMENT: the next row's seq is one past the larger of these two. */
	[SL_CMD_NEXT_SEQ] = "SELECT max(IFNULL((SELECT seq FROM sqlite_sequence"
			    " WHERE name = 'commands'), 0), IFNULL((SELECT max(seq) FROM commands),"
			    " 0)) + 1",
	/* In place: REPLACE deletes the row and its key and inserts both again. */
	[SL_SHADOW_UPDATE] = "UPDATE shadows SET reported = ?3, reported_version = ?4,"
			     " reported_time_ms = ?5, desired = ?6, desired_version = ?7,"
			     " desired_time_ms = ?8 WHERE device_id = ?1 AND service_id = ?2",
};

/* Slots 0 .. STORE_PLATFORM_STMTS - 1; store_push.c has the ones after. */
_Static_assert(sizeof(sql) / sizeof(sql[0]) <= STORE_PLATFORM_STMTS, "more slots needed");

static sqlite3_stmt *prep(struct store *s, enum slot slot)
{
	return store_stmt_slot(s, (int)slot, sql[slot]);
}




static char *dup_column(sqlite3_stmt *st, int col, const char *dflt)
{
	const char *v = (const char *)sqlite3_column_text(st, col);
	return strdup(v ? v : dflt);
}


static int changed(struct store *s, int rc)
{
	return rc == 0 && sqlite3_changes(store_db(s)) == 0 ? -ENOENT : rc;
}

/* Steps a statement expected to return at most one row: 0 with the row ready to read
 * (the caller resets), -ENOENT (reset) when there is none, -EIO (logged, reset). */
static int step_row(struct store *s, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		return 0;
	if (rc == SQLITE_DONE) {
		sqlite3_reset(st);
		return -ENOENT;
	}
	return store_step_fail(s, st, what);
}

/* Sets one text column of a product (slot: UPDATE products SET x = ?3 WHERE key). */
static int set_product_text(struct store *s, enum slot slot, const char *project_id,
			    const char *product_id, const char *value, const char *what)
{
	sqlite3_stmt *st = prep(s, slot);
	if (!st)
		return -EIO;
	store_bind_text(st, 1, project_id);
	store_bind_text(st, 2, product_id);
	store_bind_text(st, 3, value);
	return changed(s, store_step_done(s, st, what));
}

/* Products' models and codecs. */

static int text_column_get(struct store *s, enum slot slot, const char *project_id,
			   const char *product_id, char **out, const char *what);

int store_product_mappings_get(struct store *s, const char *project_id,
			       const char *product_id, char **json)
{
	return text_column_get(s, SL_MAP_GET, project_id, product_id, json, "mappings get");
}

int store_product_mappings_set(struct store *s, const char *project_id,
			       const char *product_id, const char *json)
{
	return set_product_text(s, SL_MAP_SET, project_id, product_id, json, "mappings set");
}

int store_product_examples_get(struct store *s, const char *project_id,
			       const char *product_id, char **json)
{
	return text_column_get(s, SL_EXAMPLES_GET, project_id, product_id, json, "examples get");
}

int store_product_examples_set(struct store *s, const char *project_id,
			       const char *product_id, const char *json)
{
	return set_product_text(s, SL_EXAMPLES_SET, project_id, product_id, json, "examples set");
}

int store_product_model_get(struct store *s, const char *project_id, const char *product_id,
			    char **caps_json)
{
	return text_column_get(s, SL_MODEL_GET, project_id, product_id, caps_json, "model get");
}

static int text_column_get(struct store *s, enum slot slot, const char *project_id,
			   const char *product_id, char **out, const char *what)
{
	sqlite3_stmt *st = prep(s, slot);
	if (!st)
		return -EIO;
	store_bind_text(st, 1, project_id);
	store_bind_text(st, 2, product_id);
	int rc = step_row(s, st, what);
	if (rc)
		return rc;
	*out = dup_column(st, 0, "[]");
	sqlite3_reset(st);
	return *out ? 0 : -ENOMEM;
}

int store_product_model_set(struct store *s, const char *project_id, const char *product_id,
			    const char *caps_json)
{
	return set_product_text(s, SL_MODEL_SET, project_id, product_id, caps_json,
				"product model set");
}

int store_product_codec_get(struct store *s, const char *project_id, const char *product_id,
			    char kind[16], char **source)
{
	sqlite3_stmt *st = prep(s, SL_CODEC_GET);
	if (!st)
		return -EIO;
	store_bind_text(st, 1, project_id);
	store_bind_text(st, 2, product_id);
	int rc = step_row(s, st, "product codec get");
	if (rc)
		return rc;
	store_copy_column(st, 0, kind, 16);
	*source = dup_column(st, 1, "");
	sqlite3_reset(st);
	return *source ? 0 : -ENOMEM;
}

int store_product_codec_set(struct store *s, const char *project_id, const char *product_id,
			    const char *kind, const char *source)
{
	sqlite3_stmt *st = prep(s, SL_CODEC_SET);
	if (!st)
		return -EIO;
	store_bind_text(st, 1, project_id);
	store_bind_text(st, 2, product_id);
	store_bind_text(st, 3, kind);
	store_bind_text(st, 4, source);
	return changed(s, store_step_done(s, st, "product codec set"));
}

/* Shadows. */

void store_shadow_clear(struct store_shadow *sh)
{
	if (!sh)
		return;
	free(sh->reported);
	free(sh->desired);
	sh->reported = sh->desired = NULL;
}

static int read_shadow(sqlite3_stmt *st, struct store_shadow *sh)
{
	memset(sh, 0, sizeof(*sh));
	store_copy_column(st, 0, sh->device_id, sizeof(sh->device_id));
	store_copy_column(st, 1, sh->service_id, sizeof(sh->service_id));
	sh->reported = dup_column(st, 2, "{}");
	sh->reported_version = sqlite3_column_int64(st, 3);
	sh->reported_time_ms = sqlite3_column_int64(st, 4);
	sh->desired = dup_column(st, 5, "{}");
	sh->desired_version = sqlite3_column_int64(st, 6);
	sh->desired_time_ms = sqlite3_column_int64(st, 7);
	if (!sh->reported || !sh->desired) {
		store_shadow_clear(sh);
		return -ENOMEM;
	}
	return 0;
}

int store_shadow_get(struct store *s, const char *device_id, const char *service_id,
		     struct store_shadow *out)
{
	sqlite3_stmt *st = prep(s, SL_SHADOW_GET);
	if (!st)
		return -EIO;
	store_bind_text(st, 1, device_id);
	store_bind_text(st, 2, service_id);
	int rc = step_row(s, st, "shadow get");
	if (rc)
		return rc;
	rc = read_shadow(st, out);
	sqlite3_reset(st);
	return rc;
}

static int shadow_write(struct store *s, const struct store_shadow *sh, enum slot slot)
{
	sqlite3_stmt *st = prep(s, slot);
	if (!st)
		return -EIO;
	store_bind_text(st, 1, sh->device_id);
	store_bind_text(st, 2, sh->service_id);
	store_bind_text(st, 3, sh->reported ? sh->reported : "{}");
	sqlite3_bind_int64(st, 4, sh->reported_version);
	sqlite3_bind_int64(st, 5, sh->reported_time_ms);
	store_bind_text(st, 6, sh->desired ? sh->desired : "{}");
	sqlite3_bind_int64(st, 7, sh->desired_version);
	sqlite3_bind_int64(st, 8, sh->desired_time_ms);
	return store_step_done(s, st, "shadow put");
}

int store_shadow_put(struct store *s, const struct store_shadow *sh)
{
	return shadow_write(s, sh, SL_SHADOW_PUT);
}

int store_shadow_update(struct store *s, const struct store_shadow *sh)
{
	int rc = shadow_write(s, sh, SL_SHADOW_UPDATE);
	if (rc == 0 && sqlite3_changes(store_db(s)) == 0)
		rc = -ENOENT;
	return rc;
}

int store_shadow_list(struct store *s, const char *device_id,
		      int (*cb)(const struct store_shadow *, void *), void *ctx)
{
	sqlite3_stmt *st = prep(s, SL_SHADOW_LIST);
	if (!st)
		return -EIO;
	store_bind_text(st, 1, device_id);
	int rc, ret = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_shadow sh;
		ret = read_shadow(st, &sh);
		if (ret == 0)
			ret = cb(&sh, ctx);
		store_shadow_clear(&sh);
		if (ret)
			break;
	}
	if (ret == 0 && rc != SQLITE_DONE)
		return store_step_fail(s, st, "shadow list");
	sqlite3_reset(st);
	return ret;
}

int store_shadow_delete_device(struct store *s, const char *device_id)
{
	sqlite3_stmt *st = prep(s, SL_SHADOW_DELETE);
	if (!st)
		return -EIO;
	store_bind_text(st, 1, device_id);
	return store_step_done(s, st, "shadow delete");
}

/* Commands. */

void store_command_clear(struct store_command *c)
{
	if (!c)
		return;
	free(c->paras);
	free(c->result);
	c->paras = c->result = NULL;
}

static int read_command(sqlite3_stmt *st, struct store_command *c)
{
	memset(c, 0, sizeof(*c));
	c->seq = sqlite3_column_int64(st, 0);
	store_copy_column(st, 1, c->command_id, sizeof(c->command_id));
	store_copy_column(st, 2, c->project_id, sizeof(c->project_id));
	store_copy_column(st, 3, c->device_id, sizeof(c->device_id));
	store_copy_column(st, 4, c->node_id, sizeof(c->node_id));
	store_copy_column(st, 5, c->service_id, sizeof(c->service_id));
	store_copy_column(st, 6, c->command_name, sizeof(c->command_name));
	c->paras = dup_column(st, 7, "{}");
	store_copy_column(st, 8, c->send_strategy, sizeof(c->send_strategy));
	store_copy_column(st, 9, c->status, sizeof(c->status));
	c->mid = sqlite3_column_int(st, 10);
	c->created_ms = sqlite3_column_int64(st, 11);
	c->expire_ms = sqlite3_column_int64(st, 12);
	c->sent_ms = sqlite3_column_int64(st, 13);
	c->delivered_ms = sqlite3_column_int64(st, 14);
	c->response_ms = sqlite3_column_int64(st, 15);
	c->result = dup_column(st, 16, "null");
	if (!c->paras || !c->result) {
		store_command_clear(c);
		return -ENOMEM;
	}
	return 0;
}

int store_command_insert(struct store *s, struct store_command *c)
{
	sqlite3_stmt *st = prep(s, SL_CMD_INSERT);
	if (!st)
		return -EIO;
	store_bind_text(st, 1, c->command_id);
	store_bind_text(st, 2, c->project_id);
	store_bind_text(st, 3, c->device_id);
	store_bind_text(st, 4, c->node_id);
	store_bind_text(st, 5, c->service_id);
	store_bind_text(st, 6, c->command_name);
	store_bind_text(st, 7, c->paras ? c->paras : "{}");
	store_bind_text(st, 8, c->send_strategy);
	store_bind_text(st, 9, c->status);
	sqlite3_bind_int(st, 10, c->mid);
	sqlite3_bind_int64(st, 11, c->created_ms);
	sqlite3_bind_int64(st, 12, c->expire_ms);
	sqlite3_bind_int64(st, 13, c->sent_ms);
	sqlite3_bind_int64(st, 14, c->delivered_ms);
	sqlite3_bind_int64(st, 15, c->response_ms);
	store_bind_text(st, 16, c->result ? c->result : "null");
	int rc = store_step_done(s, st, "command insert");
	if (rc == 0)
		c->seq = sqlite3_last_insert_rowid(store_db(s));
	return rc;
}

int store_command_update(struct store *s, const struct store_command *c)
{
	sqlite3_stmt *st = prep(s, SL_CMD_UPDATE);
	if (!st)
		return -EIO;
	store_bind_text(st, 1, c->command_id);
	store_bind_text(st, 2, c->status);
	sqlite3_bind_int(st, 3, c->mid);
	sqlite3_bind_int64(st, 4, c->sent_ms);
	sqlite3_bind_int64(st, 5, c->delivered_ms);
	sqlite3_bind_int64(st, 6, c->response_ms);
	store_bind_text(st, 7, c->result ? c->result : "null");
	return changed(s, store_step_done(s, st, "command update"));
}

static int one_command(struct store *s, sqlite3_stmt *st, struct store_command *out,
		       const char *what);

int store_command_get(struct store *s, const char *command_id, struct store_command *out)
{
	sqlite3_stmt *st = prep(s, SL_CMD_GET);
	if (!st)
		return -EIO;
	store_bind_text(st, 1, command_id);
	return one_command(s, st, out, "command get");
}

static int each_command(struct store *s, sqlite3_stmt *st,
			int (*cb)(const struct store_command *, void *), void *ctx,
			const char *what)
{
	int rc, ret = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_command c;
		ret = read_command(st, &c);
		if (ret == 0)
			ret = cb(&c, ctx);
		store_command_clear(&c);
		if (ret)
			break;
	}
	if (ret == 0 && rc != SQLITE_DONE)
		return store_step_fail(s, st, what);
	sqlite3_reset(st);
	return ret;
}


int store_command_list(struct store *s, const char *device_id, int64_t offset, int64_t limit,
		       int (*cb)(const struct store_command *, void *), void *ctx,
		       int64_t *total)
{
	sqlite3_stmt *st = prep(s, SL_CMD_COUNT);
	if (!st)
		return -EIO;
	store_bind_text(st, 1, device_id);
	int rc = store_step_count(s, st, total, "command count");
	if (rc)
		return rc;
	st = prep(s, SL_CMD_LIST);
	if (!st)
		return -EIO;
	store_bind_text(st, 1, device_id);
	sqlite3_bind_int64(st, 2, offset);
	sqlite3_bind_int64(st, 3, limit);
	return each_command(s, st, cb, ctx, "command list");
}

int store_command_count_open(struct store *s, const char *device_id, int64_t *n)
{
	sqlite3_stmt *st = prep(s, SL_CMD_COUNT_OPEN);
	if (!st)
		return -EIO;
	store_bind_text(st, 1, device_id);
	return store_step_count(s, st, n, "command count open");
}

int store_command_count_open_node(struct store *s, const char *node_id, int64_t *n)
{
	sqlite3_stmt *st = prep(s, SL_CMD_COUNT_OPEN_NODE);
	if (!st)
		return -EIO;
	store_bind_text(st, 1, node_id);
	return store_step_count(s, st, n, "command count open by node");
}

int store_command_next_seq(struct store *s, int64_t *seq)
{
	sqlite3_stmt *st = prep(s, SL_CMD_NEXT_SEQ);
	if (!st)
		return -EIO;
	return store_step_count(s, st, seq, "command next seq");
}

int store_command_load_open(struct store *s, int (*cb)(const struct store_command *, void *),
			    void *ctx)
{
	sqlite3_stmt *st = prep(s, SL_CMD_LOAD_OPEN);
	if (!st)
		return -EIO;
	return each_command(s, st, cb, ctx, "command load");
}

/* Steps a statement expected to return at most one command. */
static int one_command(struct store *s, sqlite3_stmt *st, struct store_command *out,
		       const char *what)
{
	int rc = step_row(s, st, what);
	if (rc)
		return rc;
	rc = read_command(st, out);
	sqlite3_reset(st);
	return rc;
}

int store_command_next_pending(struct store *s, const char *node_id, struct store_command *out)
{
	sqlite3_stmt *st = prep(s, SL_CMD_NEXT_PENDING);
	if (!st)
		return -EIO;
	store_bind_text(st, 1, node_id);
	return one_command(s, st, out, "command next");
}

int store_command_pending_named(struct store *s, const char *device_id,
				const char *service_id, const char *command_name,
				struct store_command *out)
{
	sqlite3_stmt *st = prep(s, SL_CMD_PENDING_NAMED);
	if (!st)
		return -EIO;
	store_bind_text(st, 1, device_id);
	store_bind_text(st, 2, service_id);
	store_bind_text(st, 3, command_name);
	return one_command(s, st, out, "command pending named");
}

int store_command_set_paras(struct store *s, const char *command_id, const char *paras)
{
	sqlite3_stmt *st = prep(s, SL_CMD_SET_PARAS);
	if (!st)
		return -EIO;
	store_bind_text(st, 1, command_id);
	store_bind_text(st, 2, paras);
	return store_step_done(s, st, "command set paras");
}

int store_command_find_mid(struct store *s, const char *node_id, int mid,
			   struct store_command *out)
{
	sqlite3_stmt *st = prep(s, SL_CMD_FIND_MID);
	if (!st)
		return -EIO;
	store_bind_text(st, 1, node_id);
	sqlite3_bind_int(st, 2, mid);
	return one_command(s, st, out, "command find mid");
}

int store_command_due(struct store *s, int64_t now_ms, int64_t delivered_before_ms,
		      int (*cb)(const struct store_command *, void *), void *ctx)
{
	sqlite3_stmt *st = prep(s, SL_CMD_DUE);
	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, now_ms);
	sqlite3_bind_int64(st, 2, delivered_before_ms);
	return each_command(s, st, cb, ctx, "command due");
}

int store_command_close_device(struct store *s, const char *device_id, int64_t now_ms)
{
	sqlite3_stmt *st = prep(s, SL_CMD_CLOSE_DEVICE);
	if (!st)
		return -EIO;
	store_bind_text(st, 1, device_id);
	sqlite3_bind_int64(st, 2, now_ms);
	return store_step_done(s, st, "command close device");
}

int store_product_any_mappings(struct store *s, bool *any)
{
	sqlite3_stmt *st = prep(s, SL_MAP_ANY);
	if (!st)
		return -EIO;
	int rc = sqlite3_step(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_step_fail(s, st, "mappings any");
	*any = rc == SQLITE_ROW;
	sqlite3_reset(st);
	return 0;
}

int store_device_clash(struct store *s, const char *device_id, const char *node_id)
{
	sqlite3_stmt *st = prep(s, SL_DEVICE_CLASH);
	if (!st)
		return -EIO;
	store_bind_text(st, 1, device_id);
	store_bind_text(st, 2, node_id);
	int rc = sqlite3_step(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_step_fail(s, st, "device clash");
	int ret = rc == SQLITE_DONE ? 0 : sqlite3_column_int(st, 0) ? 1 : 2;
	sqlite3_reset(st);
	return ret;
}

/* An INSERT of n rows, malloc'd; NULL when out of memory. */
static char *insert_rows_sql(size_t n)
{
	static const char head[] = INSERT_HEAD, row[] = ROW1;
	char *text = malloc(sizeof(head) + n * sizeof(row));
	if (!text)
		return NULL;
	char *p = text + (sizeof(head) - 1);
	memcpy(text, head, sizeof(head) - 1);
	for (size_t i = 0; i < n; i++) {
		if (i)
			*p++ = ',';
		memcpy(p, row, sizeof(row) - 1);
		p += sizeof(row) - 1;
	}
	*p = '\0';
	return text;
}

/* Binds n devices to st, twelve columns a row in STORE_DEVICE_COLUMNS' order, and runs
 * it: 0, -EEXIST (a constraint) or -EIO. */
static int insert_rows(struct store *s, sqlite3_stmt *st, const struct store_device *const *d,
		       size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int k = (int)(i * 12);
		store_bind_text(st, k + 1, d[i]->project_id);
		store_bind_text(st, k + 2, d[i]->device_id);
		store_bind_text(st, k + 3, d[i]->node_id);
		store_bind_text(st, k + 4, d[i]->device_name);
		store_bind_text(st, k + 5, d[i]->product_id);
		store_bind_text(st, k + 6, d[i]->description);
		store_bind_text(st, k + 7, d[i]->secret);
		sqlite3_bind_int(st, k + 8, d[i]->secure_access);
		sqlite3_bind_int64(st, k + 9, d[i]->timeout);
		sqlite3_bind_int(st, k + 10, d[i]->status);
		sqlite3_bind_int64(st, k + 11, d[i]->create_time);
		sqlite3_bind_int(st, k + 12, d[i]->read_format);
	}
	return store_step_done(s, st, "devices insert");
}

/* The rows that do not fill a chunk, through a statement made for them. */
static int insert_rest(struct store *s, const struct store_device *const *d, size_t n)
{
	char *text = insert_rows_sql(n);
	if (!text)
		return -ENOMEM;
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(store_db(s), text, -1, &st, NULL);
	free(text);
	if (rc != SQLITE_OK) {
		LOG_ERROR("store", "devices insert: %s", sqlite3_errmsg(store_db(s)));
		sqlite3_finalize(st);
		return -EIO;
	}
	rc = insert_rows(s, st, d, n);
	sqlite3_finalize(st);
	return rc;
}

static int savepoint(struct store *s, const char *what)
{
	char *err = NULL;
	if (sqlite3_exec(store_db(s), what, NULL, NULL, &err) == SQLITE_OK)
		return 0;
	LOG_ERROR("store", "%s: %s", what, err ? err : "?");
	sqlite3_free(err);
	return -EIO;
}

int store_devices_insert_many(struct store *s, const struct store_device *const *d, size_t n)
{
	if (n == 0 || n > STORE_DEVICES_INSERT_MAX)
		return -EINVAL;
	/* Taken first, even when n fills no chunk: store_stmt_slot opens the loop turn's
	 * transaction (group commit), which the savepoint must sit in. */
	sqlite3_stmt *chunk = prep(s, SL_DEVICES_CHUNK);
	if (!chunk)
		return -EIO;
	/* All or none: a chunk that fails undoes those before it. */
	if (savepoint(s, "SAVEPOINT devices_many") != 0)
		return -EIO;
	int rc = 0;
	size_t done = 0;
	for (; rc == 0 && n - done >= DEVICES_CHUNK; done += DEVICES_CHUNK) {
		sqlite3_reset(chunk);
		rc = insert_rows(s, chunk, d + done, DEVICES_CHUNK);
	}
	if (rc == 0 && done < n)
		rc = insert_rest(s, d + done, n - done);
	sqlite3_clear_bindings(chunk); /* they point into the caller's devices */
	if (rc != 0 && savepoint(s, "ROLLBACK TO devices_many") != 0)
		rc = -EIO;
	if (savepoint(s, "RELEASE devices_many") != 0)
		rc = -EIO;
	return rc;
}
