/*
 * store_tokens: API tokens and projects as they are managed — listed, created with an id,
 * a name and an expiry, revoked; projects created, listed and deleted (never while they
 * hold products or devices). The token's secret never reaches the store: only its hash.
 */
#include "store/store_internal.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#include "util/token.h"

enum slot {
	ST_ADD = STORE_TOKENS_FIRST_STMT,
	ST_LOOKUP,
	ST_TOUCH,
	ST_LIST,
	ST_LIST_ALL,
	ST_DELETE,
	ST_DELETE_ANY,
	ST_PROJECT_CREATE,
	ST_PROJECT_LIST,
	ST_PROJECT_BUSY,
	ST_PROJECT_DELETE_TOKENS,
	ST_PROJECT_DELETE_RULES,
	ST_PROJECT_DELETE,
	ST_END,
};
_Static_assert(ST_END - STORE_TOKENS_FIRST_STMT <= STORE_TOKENS_STMTS, "token statements");

#define TOKEN_COLUMNS "token_id, project_id, name, create_time, expire_time, last_used"

static const char *const sql[] = {
	[ST_ADD - STORE_TOKENS_FIRST_STMT] =
		"INSERT INTO tokens (token_hash, project_id, create_time, token_id, name,"
		" expire_time) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	[ST_LOOKUP - STORE_TOKENS_FIRST_STMT] =
		"SELECT " TOKEN_COLUMNS " FROM tokens WHERE token_hash = ?1",
	[ST_TOUCH - STORE_TOKENS_FIRST_STMT] =
		"UPDATE tokens SET last_used = ?2 WHERE token_hash = ?1",
	[ST_LIST - STORE_TOKENS_FIRST_STMT] = "SELECT " TOKEN_COLUMNS " FROM tokens"
					      " WHERE project_id = ?1 ORDER BY create_time, token_id",
	[ST_LIST_ALL - STORE_TOKENS_FIRST_STMT] =
		"SELECT " TOKEN_COLUMNS " FROM tokens ORDER BY project_id, create_time, token_id",
	[ST_DELETE - STORE_TOKENS_FIRST_STMT] =
		"DELETE FROM tokens WHERE token_id = ?1 AND project_id = ?2 RETURNING token_hash",
	[ST_DELETE_ANY - STORE_TOKENS_FIRST_STMT] =
		"DELETE FROM tokens WHERE token_id = ?1 RETURNING token_hash",
	[ST_PROJECT_CREATE - STORE_TOKENS_FIRST_STMT] =
		"INSERT INTO projects (project_id, create_time) VALUES (?1, ?2)",
	[ST_PROJECT_LIST - STORE_TOKENS_FIRST_STMT] =
		"SELECT project_id, create_time,"
		" (SELECT count(*) FROM products p WHERE p.project_id = j.project_id),"
		" (SELECT count(*) FROM devices d WHERE d.project_id = j.project_id),"
		" (SELECT count(*) FROM tokens t WHERE t.project_id = j.project_id)"
		" FROM projects j ORDER BY project_id",
	[ST_PROJECT_BUSY - STORE_TOKENS_FIRST_STMT] =
		"SELECT EXISTS (SELECT 1 FROM products WHERE project_id = ?1)"
		" OR EXISTS (SELECT 1 FROM devices WHERE project_id = ?1)",
	[ST_PROJECT_DELETE_TOKENS - STORE_TOKENS_FIRST_STMT] =
		"DELETE FROM tokens WHERE project_id = ?1",
	[ST_PROJECT_DELETE_RULES - STORE_TOKENS_FIRST_STMT] =
		"DELETE FROM forwarding_rules WHERE project_id = ?1",
	[ST_PROJECT_DELETE - STORE_TOKENS_FIRST_STMT] = "DELETE FROM projects WHERE project_id = ?1",
};

static sqlite3_stmt *stmt(struct store *s, enum slot slot)
{
	return store_stmt_slot(s, slot, sql[slot - STORE_TOKENS_FIRST_STMT]);
}

static void read_token(sqlite3_stmt *st, struct store_token *t)
{
	memset(t, 0, sizeof(*t));
	store_copy_column(st, 0, t->token_id, sizeof(t->token_id));
	store_copy_column(st, 1, t->project_id, sizeof(t->project_id));
	store_copy_column(st, 2, t->name, sizeof(t->name));
	t->create_time = sqlite3_column_int64(st, 3);
	t->expire_time = sqlite3_column_int64(st, 4);
	t->last_used = sqlite3_column_int64(st, 5);
}

int store_token_add(struct store *s, struct store_token *t, const char *token_hash)
{
	/* The id is random; a clash (one in 2^48 per pair) is retried. */
	for (int attempt = 0; attempt < 4; attempt++) {
		if (token_random_hex(t->token_id, sizeof(t->token_id), STORE_TOKEN_ID_LEN / 2))
			return -EIO;
		sqlite3_stmt *st = stmt(s, ST_ADD);
		if (!st)
			return -EIO;
		t->create_time = (int64_t)time(NULL);
		store_bind_text(st, 1, token_hash);
		store_bind_text(st, 2, t->project_id);
		sqlite3_bind_int64(st, 3, t->create_time);
		store_bind_text(st, 4, t->token_id);
		store_bind_text(st, 5, t->name);
		sqlite3_bind_int64(st, 6, t->expire_time);
		int rc = sqlite3_step(st);
		if (rc == SQLITE_DONE) {
			sqlite3_reset(st);
			return 0;
		}
		if (rc != SQLITE_CONSTRAINT)
			return store_step_fail(s, st, "token insert");
		int ext = sqlite3_extended_errcode(store_db(s));
		/* A unique key names its column: the hash (the same token twice) or, rarely,
		 * the id, which another draw fixes. */
		bool id_clash = strstr(sqlite3_errmsg(store_db(s)), "token_id") != NULL;
		sqlite3_reset(st);
		if (ext == SQLITE_CONSTRAINT_FOREIGNKEY)
			return -ENOENT;
		if (!id_clash)
			return -EEXIST;
	}
	return -EEXIST;
}

int store_token_lookup(struct store *s, const char *token_hash, struct store_token *t)
{
	sqlite3_stmt *st = stmt(s, ST_LOOKUP);
	if (!st)
		return -EIO;
	store_bind_text(st, 1, token_hash);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		read_token(st, t);
		sqlite3_reset(st);
		return 0;
	}
	if (rc != SQLITE_DONE)
		return store_step_fail(s, st, "token lookup");
	sqlite3_reset(st);
	return -ENOENT;
}

int store_token_touch(struct store *s, const char *token_hash, int64_t now)
{
	sqlite3_stmt *st = stmt(s, ST_TOUCH);
	if (!st)
		return -EIO;
	store_bind_text(st, 1, token_hash);
	sqlite3_bind_int64(st, 2, now);
	return store_step_done(s, st, "token touch");
}

int store_token_list(struct store *s, const char *project_id,
		     int (*cb)(void *ctx, const struct store_token *t), void *ctx)
{
	sqlite3_stmt *st = stmt(s, project_id ? ST_LIST : ST_LIST_ALL);
	if (!st)
		return -EIO;
	if (project_id)
		store_bind_text(st, 1, project_id);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_token t;
		read_token(st, &t);
		int r = cb(ctx, &t);
		if (r) {
			sqlite3_reset(st);
			return r;
		}
	}
	if (rc != SQLITE_DONE)
		return store_step_fail(s, st, "token list");
	sqlite3_reset(st);
	return 0;
}

int store_token_delete(struct store *s, const char *project_id, const char *token_id,
		       char hash_out[STORE_TOKEN_HASH_MAX + 1])
{
	sqlite3_stmt *st = stmt(s, project_id ? ST_DELETE : ST_DELETE_ANY);
	if (!st)
		return -EIO;
	store_bind_text(st, 1, token_id);
	if (project_id)
		store_bind_text(st, 2, project_id);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		if (hash_out)
			store_copy_column(st, 0, hash_out, STORE_TOKEN_HASH_MAX + 1);
		rc = sqlite3_step(st);
		if (rc != SQLITE_DONE)
			return store_step_fail(s, st, "token delete");
		sqlite3_reset(st);
		return 0;
	}
	if (rc != SQLITE_DONE)
		return store_step_fail(s, st, "token delete");
	sqlite3_reset(st);
	return -ENOENT;
}

int store_project_create(struct store *s, const char *project_id)
{
	sqlite3_stmt *st = stmt(s, ST_PROJECT_CREATE);
	if (!st)
		return -EIO;
	store_bind_text(st, 1, project_id);
	sqlite3_bind_int64(st, 2, (int64_t)time(NULL));
	return store_step_done(s, st, "project create");
}

int store_project_list(struct store *s, int (*cb)(void *ctx, const struct store_project *p),
		       void *ctx)
{
	sqlite3_stmt *st = stmt(s, ST_PROJECT_LIST);
	if (!st)
		return -EIO;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_project p;
		memset(&p, 0, sizeof(p));
		store_copy_column(st, 0, p.project_id, sizeof(p.project_id));
		p.create_time = sqlite3_column_int64(st, 1);
		p.products = sqlite3_column_int64(st, 2);
		p.devices = sqlite3_column_int64(st, 3);
		p.tokens = sqlite3_column_int64(st, 4);
		int r = cb(ctx, &p);
		if (r) {
			sqlite3_reset(st);
			return r;
		}
	}
	if (rc != SQLITE_DONE)
		return store_step_fail(s, st, "project list");
	sqlite3_reset(st);
	return 0;
}

static int delete_by_project(struct store *s, enum slot slot, const char *project_id,
			     const char *what)
{
	sqlite3_stmt *st = stmt(s, slot);
	if (!st)
		return -EIO;
	store_bind_text(st, 1, project_id);
	return store_step_done(s, st, what);
}

int store_project_delete(struct store *s, const char *project_id)
{
	int rc = store_begin(s);
	if (rc)
		return rc;
	sqlite3_stmt *st = stmt(s, ST_PROJECT_BUSY);
	int64_t busy = 0;
	if (!st)
		rc = -EIO;
	else {
		store_bind_text(st, 1, project_id);
		rc = store_step_count(s, st, &busy, "project busy");
	}
	if (rc == 0 && busy)
		rc = -EBUSY;
	if (rc == 0)
		rc = delete_by_project(s, ST_PROJECT_DELETE_TOKENS, project_id, "project tokens");
	if (rc == 0)
		rc = delete_by_project(s, ST_PROJECT_DELETE_RULES, project_id, "project rules");
	if (rc == 0) {
		rc = delete_by_project(s, ST_PROJECT_DELETE, project_id, "project delete");
		if (rc == 0 && sqlite3_changes(store_db(s)) == 0)
			rc = -ENOENT;
	}
	if (rc) {
		store_rollback(s);
		return rc;
	}
	return store_commit(s);
}
