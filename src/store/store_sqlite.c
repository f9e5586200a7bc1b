/*
 * store_sqlite: the registry on SQLite (docs/architecture.md: the embedded default).
 *
 * WAL with synchronous=NORMAL: a commit is a write into the log without an fsync, so a
 * burst of device traffic grouped by the caller into one store_begin/store_commit costs one
 * write, and a crash loses at most the last commits, never the database. Every statement is
 * prepared once, on first use, and kept for the life of the connection.
 */
#include "store/store.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store/store_internal.h"
#include "store/store_registry.h"
#include "util/log.h"
#include "util/str.h"

enum stmt_id {
	ST_PROJECT_ENSURE,
	ST_TOKEN_FIND,
	ST_PRODUCT_INSERT,
	ST_PRODUCT_GET,
	ST_PRODUCT_UPDATE,
	ST_PRODUCT_DEVICES,
	ST_PRODUCT_DELETE,
	ST_PRODUCT_LIST,
	ST_PRODUCT_COUNT,
	ST_DEVICE_INSERT,
	ST_DEVICE_GET,
	ST_DEVICE_GET_BY_NODE,
	ST_DEVICE_UPDATE,
	ST_DEVICE_SET_STATUS,
	ST_DEVICE_DELETE,
	ST_DEVICE_EXPIRED,
	ST_DEVICE_NEXT_EXPIRY,
	ST_DEVICE_PROJECT,
	ST_DTLS_PUT,
	ST_DTLS_DELETE,
	ST_DTLS_TAKE,
	ST_DTLS_CLEAR,
	ST_OBS_PUT,
	ST_OBS_DELETE,
	ST_OBS_LOAD,
	ST_COUNT
};

#define DEVICE_COLUMNS STORE_DEVICE_COLUMNS
#define PRODUCT_COLUMNS                                                                   \
	"project_id, product_id, name, device_type, manufacturer_name, protocol_type,"   \
	" data_format, description, create_time, read_format"

static const char *const stmt_sql[ST_COUNT] = {
	[ST_PROJECT_ENSURE] = "INSERT OR IGNORE INTO projects (project_id, create_time) VALUES (?1, ?2)",
	[ST_TOKEN_FIND] = "SELECT project_id FROM tokens WHERE token_hash = ?1",
	[ST_PRODUCT_INSERT] = "INSERT INTO products (" PRODUCT_COLUMNS ")"
			      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
	[ST_PRODUCT_GET] = "SELECT " PRODUCT_COLUMNS " FROM products"
			   " WHERE project_id = ?1 AND product_id = ?2",
	[ST_PRODUCT_UPDATE] = "UPDATE products SET name = ?3, device_type = ?4,"
			      " manufacturer_name = ?5, protocol_type = ?6, data_format = ?7,"
			      " description = ?8, read_format = ?10"
			      " WHERE project_id = ?1 AND product_id = ?2",
	[ST_PRODUCT_DEVICES] = "SELECT 1 FROM devices WHERE project_id = ?1 AND product_id = ?2 LIMIT 1",
	[ST_PRODUCT_DELETE] = "DELETE FROM products WHERE project_id = ?1 AND product_id = ?2",
	[ST_PRODUCT_LIST] = "SELECT " PRODUCT_COLUMNS " FROM products WHERE project_id = ?1"
			    " ORDER BY create_time, product_id LIMIT ?3 OFFSET ?2",
	[ST_PRODUCT_COUNT] = "SELECT count(*) FROM products WHERE project_id = ?1",
	[ST_DEVICE_INSERT] = "INSERT INTO devices (" DEVICE_COLUMNS ")"
			     " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
	[ST_DEVICE_GET] = "SELECT " DEVICE_COLUMNS " FROM devices"
			  " WHERE project_id = ?1 AND device_id = ?2",
	[ST_DEVICE_GET_BY_NODE] = "SELECT " DEVICE_COLUMNS " FROM devices WHERE node_id = ?1",
	[ST_DEVICE_UPDATE] = "UPDATE devices SET device_name = ?3, description = ?4, secret = ?5,"
			     " secure_access = ?6, timeout = ?7, read_format = ?8"
			     " WHERE project_id = ?1 AND device_id = ?2",
	/* A device already in that status is not rewritten (a re-Register of an online
	 * device would otherwise cost a page in the WAL). */
	[ST_DEVICE_SET_STATUS] = "UPDATE devices SET status = ?2 WHERE node_id = ?1"
				 " AND status <> ?2",
	[ST_DEVICE_DELETE] = "DELETE FROM devices WHERE project_id = ?1 AND device_id = ?2"
			     " RETURNING node_id",
	[ST_DEVICE_EXPIRED] = "SELECT " DEVICE_COLUMNS " FROM devices"
			      " WHERE status = 0 AND timeout > 0 AND create_time + timeout <= ?1",
	[ST_DEVICE_NEXT_EXPIRY] = "SELECT min(create_time + timeout) FROM devices"
				  " WHERE status = 0 AND timeout > 0",
	[ST_DEVICE_PROJECT] = "SELECT project_id FROM devices WHERE node_id = ?1",
	[ST_DTLS_PUT] = "INSERT OR REPLACE INTO dtls_sessions (identity, peer, data, saved_at)"
			" VALUES (?1, ?2, ?3, ?4)",
	[ST_DTLS_DELETE] = "DELETE FROM dtls_sessions WHERE identity = ?1",
	[ST_DTLS_TAKE] = "SELECT identity, peer, data FROM dtls_sessions",
	[ST_DTLS_CLEAR] = "DELETE FROM dtls_sessions",
	[ST_OBS_PUT] = "INSERT OR REPLACE INTO observations (token, id, node_id, path, format,"
		       " paths) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	[ST_OBS_DELETE] = "DELETE FROM observations WHERE token = ?1",
	[ST_OBS_LOAD] = "SELECT token, id, node_id, path, format, paths FROM observations",
};

struct store {
	sqlite3 *db;
	sqlite3_stmt *stmts[ST_COUNT];
	sqlite3_stmt *more_stmts[STORE_MORE_STMTS]; /* store_platform.c's */
	/* Transactions: depth 1 is BEGIN (the batch's or store_begin's), each deeper level a
	 * SAVEPOINT named s<depth-1>. */
	int tx_depth;
	bool batching;   /* store_batch_enable: statements outside a transaction open one */
	bool batch_open; /* depth 1 is the batch's, committed by store_batch_commit */
	sqlite3_int64 batch_changes; /* sqlite3_total_changes64 when the batch opened */
	struct store_registry *registry; /* the registrations' file and writer */
};

static int exec(struct store *s, const char *sql);

/* A statement is about to run: in batch mode, outside any transaction, it opens the
 * batch's. Deferred (plain BEGIN): a turn that only reads takes no write lock. */
static void batch_touch(struct store *s)
{
	if (!s->batching || s->tx_depth > 0)
		return;
	if (exec(s, "BEGIN") == 0) {
		s->tx_depth = 1;
		s->batch_open = true;
		s->batch_changes = sqlite3_total_changes64(s->db);
	}
}

bool store_batching(const struct store *s)
{
	return s->batching;
}

sqlite3 *store_db(struct store *s)
{
	return s->db;
}

sqlite3_stmt *store_stmt_slot(struct store *s, int slot, const char *sql)
{
	batch_touch(s);
	sqlite3_stmt *st = s->more_stmts[slot];
	if (st == NULL) {
		if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) !=
		    SQLITE_OK) {
			LOG_ERROR("store", "prepare: %s", sqlite3_errmsg(s->db));
			return NULL;
		}
		s->more_stmts[slot] = st;
	} else {
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
	}
	return st;
}

static int db_error(struct store *s, const char *what)
{
	LOG_ERROR("store", "%s: %s", what, sqlite3_errmsg(s->db));
	return -EIO;
}

/* The prepared statement for id, reset and with its bindings cleared, or NULL (logged). */
static sqlite3_stmt *stmt(struct store *s, enum stmt_id id)
{
	batch_touch(s);
	sqlite3_stmt *st = s->stmts[id];
	if (st == NULL) {
		if (sqlite3_prepare_v3(s->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT, &st,
				       NULL) != SQLITE_OK) {
			db_error(s, "prepare");
			return NULL;
		}
		s->stmts[id] = st;
	} else {
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
	}
	return st;
}

static void bind_text(sqlite3_stmt *st, int i, const char *v)
{
	sqlite3_bind_text(st, i, v ? v : "", -1, SQLITE_STATIC);
}

/* Runs a statement that returns no rows. Maps constraint failures to -EEXIST. */
static int run_done(struct store *s, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);
	int ret = 0;
	if (rc == SQLITE_CONSTRAINT)
		ret = sqlite3_extended_errcode(s->db) == SQLITE_CONSTRAINT_FOREIGNKEY ? -ENOENT
										    : -EEXIST;
	else if (rc != SQLITE_DONE)
		ret = db_error(s, what);
	sqlite3_reset(st);
	return ret;
}

static int exec(struct store *s, const char *sql)
{
	char *err = NULL;
	if (sqlite3_exec(s->db, sql, NULL, NULL, &err) != SQLITE_OK) {
		LOG_ERROR("store", "%s: %s", sql, err ? err : "?");
		sqlite3_free(err);
		return -EIO;
	}
	return 0;
}

static void column_text(sqlite3_stmt *st, int col, char *dst, size_t cap)
{
	const char *v = (const char *)sqlite3_column_text(st, col);
	str_copy(dst, cap, v ? v : "");
}

/*
 * The registry holds device secrets in clear (they are the DTLS keys), so its files are
 * for the daemon's user alone, whatever the umask: the database is created 0600 before
 * SQLite opens it, and an existing one readable by others is narrowed (and said so).
 * SQLite gives the -wal and -shm files it creates the database's own mode; ones left from
 * an earlier, wider database are narrowed too. ":memory:" and URIs are left alone.
 */
static int protect_files(const char *path)
{
	static const char *const suffixes[] = {"", "-wal", "-shm"};
	if (strcmp(path, ":memory:") == 0 || strncmp(path, "file:", 5) == 0)
		return 0;
	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		char name[4096];
		if (snprintf(name, sizeof(name), "%s%s", path, suffixes[i]) >= (int)sizeof(name))
			return -ENAMETOOLONG;
		int flags = O_RDWR | O_CLOEXEC | O_NOFOLLOW | (i == 0 ? O_CREAT : 0);
		int fd = open(name, flags, 0600);
		if (fd < 0) {
			if (i > 0 && errno == ENOENT)
				continue;
			int err = errno;
			LOG_ERROR("store", "cannot open %s: %s", name, strerror(err));
			return -err;
		}
		struct stat st;
		if (fstat(fd, &st) == 0 && (st.st_mode & 077) != 0) {
			if (fchmod(fd, st.st_mode & 0700) == 0)
				LOG_WARN("store", "%s was readable by others (mode %03o): now %03o", name,
					 (unsigned)(st.st_mode & 0777), (unsigned)(st.st_mode & 0700));
			else
				LOG_WARN("store", "%s is readable by others (mode %03o): %s", name,
					 (unsigned)(st.st_mode & 0777), strerror(errno));
		}
		close(fd);
	}
	return 0;
}

/* The registrations' file sits beside the database: <path>.registrations, with its own
 * -wal and -shm, for the daemon's user alone like the database (store_registry.h). */
static int open_registry(struct store *s, const char *path)
{
	bool memory = strcmp(path, ":memory:") == 0 || strncmp(path, "file:", 5) == 0;
	char name[4096];
	if (memory) {
		str_copy(name, sizeof(name), ":memory:");
	} else {
		if (snprintf(name, sizeof(name), "%s.registrations", path) >= (int)sizeof(name))
			return -ENAMETOOLONG;
		int rc = protect_files(name);
		if (rc != 0)
			return rc;
	}
	int rc = store_registry_open(&s->registry, name, s->db);
	if (rc != -EIO || memory)
		return rc;
	/* Registrations are soft state (store_registry.h): a file SQLite cannot use is moved
	 * aside, for whoever wants to look at it, and the daemon starts without them. */
	char aside[4200];
	snprintf(aside, sizeof(aside), "%s.broken-%lld", name, (long long)time(NULL));
	if (rename(name, aside) != 0)
		return rc;
	static const char *const sidecars[] = {"-wal", "-shm"};
	for (size_t i = 0; i < 2; i++) {
		char from[4200], to[4300];
		snprintf(from, sizeof(from), "%s%s", name, sidecars[i]);
		snprintf(to, sizeof(to), "%s%s", aside, sidecars[i]);
		(void)rename(from, to);
	}
	LOG_ERROR("store", "%s could not be used: moved to %s; the devices register again", name,
		  aside);
	rc = protect_files(name);
	return rc != 0 ? rc : store_registry_open(&s->registry, name, s->db);
}

int store_open(struct store **out, const char *path)
{
	int rc = protect_files(path);
	if (rc != 0)
		return rc;
	struct store *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	if (sqlite3_open_v2(path, &s->db,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK) {
		LOG_ERROR("store", "cannot open %s: %s", path,
			  s->db ? sqlite3_errmsg(s->db) : "out of memory");
		sqlite3_close(s->db);
		free(s);
		return -EIO;
	}
	sqlite3_busy_timeout(s->db, 5000);
	/* WAL fails quietly to "memory" for :memory:, which is what tests want. Statement
	 * journals (a statement inside the turn's transaction whose triggers write) stay in
	 * memory instead of a temp file in /var/tmp. */
	if (exec(s, "PRAGMA journal_mode = WAL") || exec(s, "PRAGMA synchronous = NORMAL") ||
	    exec(s, "PRAGMA temp_store = MEMORY") || exec(s, "PRAGMA foreign_keys = ON") ||
	    store_schema_migrate(s->db)) {
		store_close(s);
		return -EIO;
	}
	rc = open_registry(s, path);
	if (rc != 0) {
		store_close(s);
		return rc;
	}
	*out = s;
	return 0;
}

void store_close(struct store *s)
{
	if (!s)
		return;
	store_registry_close(s->registry); /* writes what it was given first */
	if (s->batch_open && s->tx_depth == 1) {
		store_batch_commit(s);
	} else if (s->tx_depth > 0) {
		LOG_WARN("store", "closing inside a transaction; committing it");
		exec(s, "COMMIT");
	}
	for (int i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(s->stmts[i]);
	for (int i = 0; i < STORE_MORE_STMTS; i++)
		sqlite3_finalize(s->more_stmts[i]);
	if (sqlite3_close(s->db) != SQLITE_OK)
		LOG_ERROR("store", "close: %s", sqlite3_errmsg(s->db));
	free(s);
}

/* SAVEPOINT, RELEASE or ROLLBACK TO of the savepoint at depth. */
static int savepoint(struct store *s, const char *verb, int depth)
{
	char sql[64];
	snprintf(sql, sizeof(sql), "%s s%d", verb, depth);
	return exec(s, sql) ? -EIO : 0;
}

int store_begin(struct store *s)
{
	batch_touch(s);
	if (s->tx_depth > 0) {
		if (savepoint(s, "SAVEPOINT", s->tx_depth) != 0)
			return -EIO;
		s->tx_depth++;
		return 0;
	}
	if (exec(s, "BEGIN IMMEDIATE"))
		return -EIO;
	s->tx_depth = 1;
	return 0;
}

int store_commit(struct store *s)
{
	if (s->tx_depth == 0 || (s->tx_depth == 1 && s->batch_open))
		return -EINVAL; /* no store_begin to match */
	if (--s->tx_depth > 0)
		return savepoint(s, "RELEASE", s->tx_depth);
	if (exec(s, "COMMIT")) {
		exec(s, "ROLLBACK");
		return -EIO;
	}
	return 0;
}

int store_rollback(struct store *s)
{
	if (s->tx_depth == 0 || (s->tx_depth == 1 && s->batch_open))
		return -EINVAL;
	if (--s->tx_depth > 0) {
		/* Undo this level's writes only; the enclosing transaction goes on. */
		int rc = savepoint(s, "ROLLBACK TO", s->tx_depth);
		return savepoint(s, "RELEASE", s->tx_depth) || rc ? -EIO : 0;
	}
	return exec(s, "ROLLBACK") ? -EIO : 0;
}

void store_batch_enable(struct store *s, bool on)
{
	if (!on)
		store_batch_commit(s);
	s->batching = on;
}

bool store_batch_dirty(struct store *s)
{
	/* total_changes64 counts every row an INSERT, UPDATE or DELETE changed (triggers
	 * included); a batch that only read changed none and has nothing to make durable. */
	return s && s->batch_open && sqlite3_total_changes64(s->db) != s->batch_changes;
}

int store_batch_commit(struct store *s)
{
	if (!s->batch_open)
		return 0;
	if (s->tx_depth != 1) {
		/* A store_begin without its commit: the batch cannot end under it. */
		LOG_ERROR("store", "batch commit inside an open transaction (depth %d)",
			  s->tx_depth);
		return -EINVAL;
	}
	s->tx_depth = 0;
	s->batch_open = false;
	if (exec(s, "COMMIT")) {
		exec(s, "ROLLBACK");
		return -EIO;
	}
	return 0;
}

int store_project_ensure(struct store *s, const char *project_id)
{
	sqlite3_stmt *st = stmt(s, ST_PROJECT_ENSURE);
	if (!st)
		return -EIO;
	bind_text(st, 1, project_id);
	sqlite3_bind_int64(st, 2, (int64_t)time(NULL));
	return run_done(s, st, "project insert");
}

int store_token_insert(struct store *s, const char *project_id, const char *token_hash)
{
	struct store_token t;
	memset(&t, 0, sizeof(t));
	str_copy(t.project_id, sizeof(t.project_id), project_id);
	return store_token_add(s, &t, token_hash); /* store_tokens.c: with an id */
}

int store_token_find(struct store *s, const char *token_hash, char project_id[STORE_ID_MAX + 1])
{
	sqlite3_stmt *st = stmt(s, ST_TOKEN_FIND);
	if (!st)
		return -EIO;
	bind_text(st, 1, token_hash);
	int rc = sqlite3_step(st);
	int ret = 0;
	if (rc == SQLITE_ROW)
		column_text(st, 0, project_id, STORE_ID_MAX + 1);
	else
		ret = rc == SQLITE_DONE ? -ENOENT : db_error(s, "token find");
	sqlite3_reset(st);
	return ret;
}

/* Products. */

static void bind_product(sqlite3_stmt *st, const struct store_product *p)
{
	bind_text(st, 1, p->project_id);
	bind_text(st, 2, p->product_id);
	bind_text(st, 3, p->name);
	bind_text(st, 4, p->device_type);
	bind_text(st, 5, p->manufacturer_name);
	bind_text(st, 6, p->protocol_type);
	bind_text(st, 7, p->data_format);
	bind_text(st, 8, p->description);
	sqlite3_bind_int(st, 10, p->read_format);
}

static void read_product(sqlite3_stmt *st, struct store_product *p)
{
	memset(p, 0, sizeof(*p));
	column_text(st, 0, p->project_id, sizeof(p->project_id));
	column_text(st, 1, p->product_id, sizeof(p->product_id));
	column_text(st, 2, p->name, sizeof(p->name));
	column_text(st, 3, p->device_type, sizeof(p->device_type));
	column_text(st, 4, p->manufacturer_name, sizeof(p->manufacturer_name));
	column_text(st, 5, p->protocol_type, sizeof(p->protocol_type));
	column_text(st, 6, p->data_format, sizeof(p->data_format));
	column_text(st, 7, p->description, sizeof(p->description));
	p->create_time = sqlite3_column_int64(st, 8);
	p->read_format = sqlite3_column_int(st, 9);
}

int store_product_insert(struct store *s, const struct store_product *p)
{
	int rc = store_project_ensure(s, p->project_id);
	if (rc)
		return rc;
	sqlite3_stmt *st = stmt(s, ST_PRODUCT_INSERT);
	if (!st)
		return -EIO;
	bind_product(st, p);
	sqlite3_bind_int64(st, 9, p->create_time);
	return run_done(s, st, "product insert");
}

int store_product_get(struct store *s, const char *project_id, const char *product_id,
		      struct store_product *out)
{
	sqlite3_stmt *st = stmt(s, ST_PRODUCT_GET);
	if (!st)
		return -EIO;
	bind_text(st, 1, project_id);
	bind_text(st, 2, product_id);
	int rc = sqlite3_step(st);
	int ret = 0;
	if (rc == SQLITE_ROW)
		read_product(st, out);
	else
		ret = rc == SQLITE_DONE ? -ENOENT : db_error(s, "product get");
	sqlite3_reset(st);
	return ret;
}

int store_product_update(struct store *s, const struct store_product *p)
{
	sqlite3_stmt *st = stmt(s, ST_PRODUCT_UPDATE);
	if (!st)
		return -EIO;
	bind_product(st, p);
	int rc = run_done(s, st, "product update");
	if (rc == 0 && sqlite3_changes(s->db) == 0)
		return -ENOENT;
	return rc;
}

int store_product_delete(struct store *s, const char *project_id, const char *product_id)
{
	sqlite3_stmt *st = stmt(s, ST_PRODUCT_DEVICES);
	if (!st)
		return -EIO;
	bind_text(st, 1, project_id);
	bind_text(st, 2, product_id);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return -EBUSY;
	if (rc != SQLITE_DONE)
		return db_error(s, "product devices");
	st = stmt(s, ST_PRODUCT_DELETE);
	if (!st)
		return -EIO;
	bind_text(st, 1, project_id);
	bind_text(st, 2, product_id);
	rc = run_done(s, st, "product delete");
	if (rc == 0 && sqlite3_changes(s->db) == 0)
		return -ENOENT;
	return rc;
}

/* Reads one count(*) row from a prepared, bound statement. */
static int read_count(struct store *s, sqlite3_stmt *st, int64_t *total)
{
	int rc = sqlite3_step(st);
	int ret = 0;
	if (rc == SQLITE_ROW)
		*total = sqlite3_column_int64(st, 0);
	else
		ret = db_error(s, "count");
	sqlite3_reset(st);
	return ret;
}

int store_product_list(struct store *s, const char *project_id, int64_t offset, int64_t limit,
		       int (*cb)(const struct store_product *, void *), void *ctx,
		       int64_t *total)
{
	sqlite3_stmt *st = stmt(s, ST_PRODUCT_COUNT);
	if (!st)
		return -EIO;
	bind_text(st, 1, project_id);
	int rc = read_count(s, st, total);
	if (rc)
		return rc;
	st = stmt(s, ST_PRODUCT_LIST);
	if (!st)
		return -EIO;
	bind_text(st, 1, project_id);
	sqlite3_bind_int64(st, 2, offset);
	sqlite3_bind_int64(st, 3, limit);
	struct store_product p;
	int ret = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		read_product(st, &p);
		ret = cb(&p, ctx);
		if (ret)
			break;
	}
	if (ret == 0 && rc != SQLITE_DONE)
		ret = db_error(s, "product list");
	sqlite3_reset(st);
	return ret;
}

/* Devices. */

static void bind_device_key(sqlite3_stmt *st, const char *project_id, const char *device_id)
{
	bind_text(st, 1, project_id);
	bind_text(st, 2, device_id);
}

void store_read_device(sqlite3_stmt *st, struct store_device *d)
{
	memset(d, 0, sizeof(*d));
	column_text(st, 0, d->project_id, sizeof(d->project_id));
	column_text(st, 1, d->device_id, sizeof(d->device_id));
	column_text(st, 2, d->node_id, sizeof(d->node_id));
	column_text(st, 3, d->device_name, sizeof(d->device_name));
	column_text(st, 4, d->product_id, sizeof(d->product_id));
	column_text(st, 5, d->description, sizeof(d->description));
	column_text(st, 6, d->secret, sizeof(d->secret));
	d->secure_access = sqlite3_column_int(st, 7) != 0;
	d->timeout = sqlite3_column_int64(st, 8);
	d->status = sqlite3_column_int(st, 9);
	d->create_time = sqlite3_column_int64(st, 10);
	d->read_format = sqlite3_column_int(st, 11);
}

int store_device_insert(struct store *s, const struct store_device *d)
{
	sqlite3_stmt *st = stmt(s, ST_DEVICE_INSERT);
	if (!st)
		return -EIO;
	bind_device_key(st, d->project_id, d->device_id);
	bind_text(st, 3, d->node_id);
	bind_text(st, 4, d->device_name);
	bind_text(st, 5, d->product_id);
	bind_text(st, 6, d->description);
	bind_text(st, 7, d->secret);
	sqlite3_bind_int(st, 8, d->secure_access);
	sqlite3_bind_int64(st, 9, d->timeout);
	sqlite3_bind_int(st, 10, d->status);
	sqlite3_bind_int64(st, 11, d->create_time);
	sqlite3_bind_int(st, 12, d->read_format);
	return run_done(s, st, "device insert");
}

/* Steps a statement expected to return at most one device row. */
static int one_device(struct store *s, sqlite3_stmt *st, struct store_device *out)
{
	int rc = sqlite3_step(st);
	int ret = 0;
	if (rc == SQLITE_ROW)
		store_read_device(st, out);
	else
		ret = rc == SQLITE_DONE ? -ENOENT : db_error(s, "device get");
	sqlite3_reset(st);
	return ret;
}

int store_device_get(struct store *s, const char *project_id, const char *device_id,
		     struct store_device *out)
{
	sqlite3_stmt *st = stmt(s, ST_DEVICE_GET);
	if (!st)
		return -EIO;
	bind_device_key(st, project_id, device_id);
	return one_device(s, st, out);
}

int store_device_get_by_node_id(struct store *s, const char *node_id, struct store_device *out)
{
	sqlite3_stmt *st = stmt(s, ST_DEVICE_GET_BY_NODE);
	if (!st)
		return -EIO;
	bind_text(st, 1, node_id);
	return one_device(s, st, out);
}

int store_device_update(struct store *s, const struct store_device *d)
{
	sqlite3_stmt *st = stmt(s, ST_DEVICE_UPDATE);
	if (!st)
		return -EIO;
	bind_device_key(st, d->project_id, d->device_id);
	bind_text(st, 3, d->device_name);
	bind_text(st, 4, d->description);
	bind_text(st, 5, d->secret);
	sqlite3_bind_int(st, 6, d->secure_access);
	sqlite3_bind_int64(st, 7, d->timeout);
	sqlite3_bind_int(st, 8, d->read_format);
	int rc = run_done(s, st, "device update");
	if (rc == 0 && sqlite3_changes(s->db) == 0)
		return -ENOENT;
	return rc;
}

int store_device_set_status(struct store *s, const char *node_id, int status)
{
	sqlite3_stmt *st = stmt(s, ST_DEVICE_SET_STATUS);
	if (!st)
		return -EIO;
	bind_text(st, 1, node_id);
	sqlite3_bind_int(st, 2, status);
	return run_done(s, st, "device status");
}

int store_device_delete(struct store *s, const char *project_id, const char *device_id)
{
	int rc = store_begin(s);
	if (rc)
		return rc;
	sqlite3_stmt *st = stmt(s, ST_DEVICE_DELETE);
	if (!st) {
		store_rollback(s);
		return -EIO;
	}
	bind_device_key(st, project_id, device_id);
	char node_id[STORE_NODE_ID_MAX + 1] = "";
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		column_text(st, 0, node_id, sizeof(node_id));
		rc = sqlite3_step(st);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		rc = db_error(s, "device delete");
	} else if (node_id[0] == '\0') {
		rc = -ENOENT;
	} else {
		rc = store_registration_delete(s, node_id);
		if (rc == -ENOENT)
			rc = 0;
	}
	if (rc) {
		store_rollback(s);
		return rc;
	}
	return store_commit(s);
}

int store_device_delete_expired(struct store *s, int64_t now,
				void (*cb)(const struct store_device *, void *), void *ctx)
{
	/* Collect first: deleting while the SELECT is still stepping would work in SQLite
	 * but is easy to get wrong; the batch is small (devices past their timeout). */
	struct store_device *found = NULL;
	size_t count = 0, cap = 0;
	sqlite3_stmt *st = stmt(s, ST_DEVICE_EXPIRED);
	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, now);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (count == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			struct store_device *n = realloc(found, ncap * sizeof(*n));
			if (!n) {
				rc = SQLITE_NOMEM;
				break;
			}
			found = n;
			cap = ncap;
		}
		store_read_device(st, &found[count++]);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		free(found);
		return rc == SQLITE_NOMEM ? -ENOMEM : db_error(s, "expired devices");
	}
	if (count == 0) {
		free(found);
		return 0;
	}
	int ret = store_begin(s);
	if (ret) {
		free(found);
		return ret;
	}
	for (size_t i = 0; ret == 0 && i < count; i++) {
		if (cb)
			cb(&found[i], ctx);
		ret = store_device_delete(s, found[i].project_id, found[i].device_id);
		if (ret == -ENOENT)
			ret = 0;
	}
	if (ret == 0)
		ret = store_commit(s);
	else
		store_rollback(s);
	free(found);
	return ret ? ret : (int)count;
}

int store_device_next_expiry(struct store *s, int64_t *when)
{
	sqlite3_stmt *st = stmt(s, ST_DEVICE_NEXT_EXPIRY);
	if (!st)
		return -EIO;
	int rc = sqlite3_step(st);
	int ret = 0;
	if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
		*when = sqlite3_column_int64(st, 0);
	else if (rc == SQLITE_ROW || rc == SQLITE_DONE)
		ret = -ENOENT;
	else
		ret = db_error(s, "next expiry");
	sqlite3_reset(st);
	return ret;
}

/* Registrations. */

int store_registration_put(struct store *s, const struct store_registration *r)
{
	return store_registry_add(s->registry, r, r->node_id);
}

int store_registration_delete(struct store *s, const char *node_id)
{
	return store_registry_add(s->registry, NULL, node_id);
}

/* A loaded registration's project: its device's, "" when the device is gone. */
static void registration_project(void *ctx, struct store_registration *r)
{
	struct store *s = ctx;
	r->project_id[0] = '\0';
	sqlite3_stmt *st = stmt(s, ST_DEVICE_PROJECT);
	if (!st)
		return;
	bind_text(st, 1, r->node_id);
	if (sqlite3_step(st) == SQLITE_ROW)
		column_text(st, 0, r->project_id, sizeof(r->project_id));
	sqlite3_reset(st);
}

int store_registration_load_all(struct store *s,
				int (*cb)(const struct store_registration *, void *), void *ctx)
{
	return store_registry_load(s->registry, cb, ctx, registration_project, s);
}

bool store_registrations_busy(struct store *s)
{
	return store_registry_busy(s->registry);
}

void store_registrations_submit(struct store *s)
{
	store_registry_submit(s->registry);
}

size_t store_registrations_building(struct store *s)
{
	return store_registry_building(s->registry);
}

void store_registrations_sync(struct store *s)
{
	store_registry_sync(s->registry);
}

void store_registrations_stats(struct store *s, struct store_registry_stats *out)
{
	store_registry_stats(s->registry, out);
}

void store_registration_clear(struct store_registration *r)
{
	if (!r)
		return;
	free(r->links);
	r->links = NULL;
}

/* Saved DTLS sessions. */

int store_dtls_session_put(struct store *s, const char *identity, const char *peer,
			   const uint8_t *data, size_t len)
{
	sqlite3_stmt *st = stmt(s, ST_DTLS_PUT);
	if (!st)
		return -EIO;
	bind_text(st, 1, identity);
	bind_text(st, 2, peer);
	sqlite3_bind_blob(st, 3, data, (int)len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, (int64_t)time(NULL));
	return run_done(s, st, "dtls session put");
}

int store_dtls_session_delete(struct store *s, const char *identity)
{
	sqlite3_stmt *st = stmt(s, ST_DTLS_DELETE);
	if (!st)
		return -EIO;
	bind_text(st, 1, identity);
	return run_done(s, st, "dtls session delete");
}

int store_dtls_session_take_all(struct store *s,
				int (*cb)(void *ctx, const char *identity, const char *peer,
					  const uint8_t *data, size_t len),
				void *ctx)
{
	int rc = store_begin(s);
	if (rc)
		return rc;
	sqlite3_stmt *st = stmt(s, ST_DTLS_TAKE);
	if (!st) {
		store_rollback(s);
		return -EIO;
	}
	int ret = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *identity = (const char *)sqlite3_column_text(st, 0);
		const char *peer = (const char *)sqlite3_column_text(st, 1);
		const uint8_t *data = sqlite3_column_blob(st, 2);
		size_t len = (size_t)sqlite3_column_bytes(st, 2);
		ret = cb(ctx, identity ? identity : "", peer ? peer : "", data, len);
		if (ret)
			break;
	}
	if (ret == 0 && rc != SQLITE_DONE)
		ret = db_error(s, "dtls session load");
	sqlite3_reset(st);
	if (ret == 0) {
		st = stmt(s, ST_DTLS_CLEAR);
		ret = st ? run_done(s, st, "dtls session clear") : -EIO;
	}
	if (ret) {
		store_rollback(s);
		return ret;
	}
	return store_commit(s);
}

/* Observations. */

int store_observation_put(struct store *s, const uint8_t *token, size_t token_len, uint64_t id,
			  const char *node_id, const char *path, int format, const char *paths)
{
	sqlite3_stmt *st = stmt(s, ST_OBS_PUT);
	if (!st)
		return -EIO;
	sqlite3_bind_blob(st, 1, token, (int)token_len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (int64_t)id);
	bind_text(st, 3, node_id);
	bind_text(st, 4, path);
	sqlite3_bind_int(st, 5, format);
	bind_text(st, 6, paths);
	return run_done(s, st, "observation put");
}

int store_observation_delete(struct store *s, const uint8_t *token, size_t token_len)
{
	sqlite3_stmt *st = stmt(s, ST_OBS_DELETE);
	if (!st)
		return -EIO;
	sqlite3_bind_blob(st, 1, token, (int)token_len, SQLITE_STATIC);
	return run_done(s, st, "observation delete");
}

int store_observation_load_all(struct store *s,
			       int (*cb)(void *ctx, const uint8_t *token, size_t token_len,
					 uint64_t id, const char *node_id, const char *path,
					 int format, const char *paths),
			       void *ctx)
{
	sqlite3_stmt *st = stmt(s, ST_OBS_LOAD);
	if (!st)
		return -EIO;
	int rc, ret = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const uint8_t *token = sqlite3_column_blob(st, 0);
		size_t len = (size_t)sqlite3_column_bytes(st, 0);
		const char *node = (const char *)sqlite3_column_text(st, 2);
		const char *path = (const char *)sqlite3_column_text(st, 3);
		const char *paths = (const char *)sqlite3_column_text(st, 5);
		ret = cb(ctx, token, len, (uint64_t)sqlite3_column_int64(st, 1), node ? node : "",
			 path ? path : "", sqlite3_column_int(st, 4), paths ? paths : "");
		if (ret)
			break;
	}
	if (ret == 0 && rc != SQLITE_DONE)
		ret = db_error(s, "observation load");
	sqlite3_reset(st);
	return ret;
}
