/* store_registry: see store_registry.h. */
#include "store/store_registry.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/log.h"
#include "util/str.h"

/* A put carries a copy of the registration (links owned); a delete only its node_id. */
struct reg_entry {
	bool is_delete;
	struct store_registration r;
};

struct reg_batch {
	struct reg_entry *v;
	size_t n, cap;
};

struct store_registry {
	sqlite3 *db;          /* the writer thread's, except before it starts and in _load */
	sqlite3_stmt *put, *del;
	struct reg_batch building; /* owner thread only */

	pthread_t thread;
	bool thread_started;
	pthread_mutex_t mu;
	pthread_cond_t work; /* a batch was submitted, or stop */
	pthread_cond_t idle; /* the writer finished a batch */
	/* Under mu. */
	struct reg_batch waiting; /* submitted, not taken yet */
	bool writing;             /* the writer holds a batch */
	bool stop;
	struct store_registry_stats stats;
};

static const char *const SCHEMA =
	"CREATE TABLE IF NOT EXISTS registrations ("
	"  node_id TEXT PRIMARY KEY,"
	"  reg_id TEXT NOT NULL,"
	"  lifetime INTEGER NOT NULL,"
	"  binding TEXT NOT NULL,"
	"  lwm2m_version TEXT NOT NULL,"
	"  links TEXT NOT NULL,"
	"  peer TEXT NOT NULL,"
	"  transport TEXT NOT NULL,"
	"  queue_mode INTEGER NOT NULL,"
	"  registered_at_ms INTEGER NOT NULL,"
	"  updated_at_ms INTEGER NOT NULL) WITHOUT ROWID";

#define REG_COLUMNS                                                                        \
	"node_id, reg_id, lifetime, binding, lwm2m_version, links, peer, transport,"         \
	" queue_mode, registered_at_ms, updated_at_ms"

static const char *const PUT_SQL = "INSERT OR REPLACE INTO registrations (" REG_COLUMNS
				   ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)";
static const char *const DEL_SQL = "DELETE FROM registrations WHERE node_id = ?1";
static const char *const LOAD_SQL = "SELECT " REG_COLUMNS " FROM registrations";

static int exec(sqlite3 *db, const char *sql)
{
	char *err = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
		LOG_ERROR("store", "registrations: %s: %s", sql, err ? err : "?");
		sqlite3_free(err);
		return -EIO;
	}
	return 0;
}

static void batch_clear(struct reg_batch *b)
{
	for (size_t i = 0; i < b->n; i++)
		free(b->v[i].r.links);
	b->n = 0;
}

static void batch_free(struct reg_batch *b)
{
	batch_clear(b);
	free(b->v);
	memset(b, 0, sizeof(*b));
}

/* Moves src's entries to the end of dst (src left empty, its array kept). */
static int batch_append(struct reg_batch *dst, struct reg_batch *src)
{
	if (dst->n == 0) {
		struct reg_batch t = *dst;
		*dst = *src;
		*src = t;
		return 0;
	}
	if (dst->n + src->n > dst->cap) {
		size_t cap = dst->n + src->n;
		void *p = realloc(dst->v, cap * sizeof(*dst->v));
		if (!p)
			return -ENOMEM;
		dst->v = p;
		dst->cap = cap;
	}
	memcpy(dst->v + dst->n, src->v, src->n * sizeof(*src->v));
	dst->n += src->n;
	src->n = 0;
	return 0;
}

/* A text column, "" for NULL (the columns are NOT NULL; a damaged file is not trusted). */
static const char *col(sqlite3_stmt *st, int i)
{
	const char *v = (const char *)sqlite3_column_text(st, i);
	return v ? v : "";
}

/* A row selected with REG_COLUMNS; links points into the statement (valid until its next
 * step). */
static void read_row(sqlite3_stmt *st, struct store_registration *r)
{
	memset(r, 0, sizeof(*r));
	str_copy(r->node_id, sizeof(r->node_id), col(st, 0));
	str_copy(r->reg_id, sizeof(r->reg_id), col(st, 1));
	r->lifetime = sqlite3_column_int64(st, 2);
	str_copy(r->binding, sizeof(r->binding), col(st, 3));
	str_copy(r->lwm2m_version, sizeof(r->lwm2m_version), col(st, 4));
	r->links = (char *)col(st, 5);
	str_copy(r->peer, sizeof(r->peer), col(st, 6));
	str_copy(r->transport, sizeof(r->transport), col(st, 7));
	r->queue_mode = sqlite3_column_int(st, 8) != 0;
	r->registered_at_ms = sqlite3_column_int64(st, 9);
	r->updated_at_ms = sqlite3_column_int64(st, 10);
}

static void bind_text(sqlite3_stmt *st, int i, const char *v)
{
	sqlite3_bind_text(st, i, v ? v : "", -1, SQLITE_STATIC);
}

static int write_entry(struct store_registry *reg, const struct reg_entry *e)
{
	sqlite3_stmt *st = e->is_delete ? reg->del : reg->put;
	const struct store_registration *r = &e->r;
	bind_text(st, 1, r->node_id);
	if (!e->is_delete) {
		bind_text(st, 2, r->reg_id);
		sqlite3_bind_int64(st, 3, r->lifetime);
		bind_text(st, 4, r->binding);
		bind_text(st, 5, r->lwm2m_version);
		bind_text(st, 6, r->links);
		bind_text(st, 7, r->peer);
		bind_text(st, 8, r->transport);
		sqlite3_bind_int(st, 9, r->queue_mode);
		sqlite3_bind_int64(st, 10, r->registered_at_ms);
		sqlite3_bind_int64(st, 11, r->updated_at_ms);
	}
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		LOG_ERROR("store", "registrations: writing '%s': %s", r->node_id,
			  sqlite3_errmsg(reg->db));
		return -EIO;
	}
	return 0;
}

static uint64_t mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* One transaction per batch; a failed batch is rolled back and counted (its rows are
 * written again with the next change of each device, or lost as a crash would lose them). */
static int write_batch(struct store_registry *reg, const struct reg_batch *b)
{
	int rc = exec(reg->db, "BEGIN");
	for (size_t i = 0; rc == 0 && i < b->n; i++)
		rc = write_entry(reg, &b->v[i]);
	if (rc == 0)
		rc = exec(reg->db, "COMMIT");
	if (rc != 0)
		(void)exec(reg->db, "ROLLBACK");
	return rc;
}

static void *writer_main(void *arg)
{
	struct store_registry *reg = arg;
	struct reg_batch mine = {0};
	pthread_mutex_lock(&reg->mu);
	for (;;) {
		while (!reg->stop && reg->waiting.n == 0)
			pthread_cond_wait(&reg->work, &reg->mu);
		if (reg->waiting.n == 0)
			break; /* stop, and nothing left */
		struct reg_batch t = mine;
		mine = reg->waiting;
		reg->waiting = t;
		reg->writing = true;
		pthread_mutex_unlock(&reg->mu);

		uint64_t t0 = mono_us();
		int rc = write_batch(reg, &mine);
		uint64_t took = mono_us() - t0;
		size_t rows = mine.n;
		batch_clear(&mine);

		pthread_mutex_lock(&reg->mu);
		reg->writing = false;
		reg->stats.batches++;
		if (rc == 0)
			reg->stats.rows += rows;
		else
			reg->stats.errors++;
		reg->stats.last_batch_us = took;
		if (took > reg->stats.max_batch_us)
			reg->stats.max_batch_us = took;
		pthread_cond_broadcast(&reg->idle);
	}
	pthread_mutex_unlock(&reg->mu);
	batch_free(&mine);
	return NULL;
}

/* Copies the rows of the main database's old `registrations` table over, then empties
 * it. Two commits, in that order: a crash between them leaves rows in both files, and the
 * next start copies them again (a put replaces), so nothing is lost either way. */
static int import_legacy(struct store_registry *reg, sqlite3 *legacy)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(legacy, LOAD_SQL, -1, &st, NULL) != SQLITE_OK) {
		sqlite3_finalize(st);
		return 0; /* no such table (a database made after the move): nothing to do */
	}
	int rc = exec(reg->db, "BEGIN");
	size_t moved = 0;
	while (rc == 0 && sqlite3_step(st) == SQLITE_ROW) {
		struct reg_entry e = {0};
		read_row(st, &e.r);
		rc = write_entry(reg, &e);
		moved++;
	}
	sqlite3_finalize(st);
	if (rc == 0)
		rc = exec(reg->db, "COMMIT");
	if (rc != 0) {
		(void)exec(reg->db, "ROLLBACK");
		return rc;
	}
	if (moved == 0)
		return 0;
	rc = exec(legacy, "DELETE FROM registrations");
	if (rc == 0)
		LOG_INFO("store", "moved %zu registrations to their own file", moved);
	return rc;
}

static int open_db(struct store_registry *reg, const char *path)
{
	if (sqlite3_open_v2(path, &reg->db,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK) {
		LOG_ERROR("store", "cannot open %s: %s", path,
			  reg->db ? sqlite3_errmsg(reg->db) : "out of memory");
		return -EIO;
	}
	/* Only this connection writes the file; the timeout covers an external reader such
	 * as a backup. */
	sqlite3_busy_timeout(reg->db, 5000);
	if (exec(reg->db, "PRAGMA journal_mode = WAL") ||
	    exec(reg->db, "PRAGMA synchronous = NORMAL") || exec(reg->db, SCHEMA))
		return -EIO;
	if (sqlite3_prepare_v2(reg->db, PUT_SQL, -1, &reg->put, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(reg->db, DEL_SQL, -1, &reg->del, NULL) != SQLITE_OK) {
		LOG_ERROR("store", "registrations: %s", sqlite3_errmsg(reg->db));
		return -EIO;
	}
	return 0;
}

int store_registry_open(struct store_registry **out, const char *path, sqlite3 *legacy_db)
{
	struct store_registry *reg = calloc(1, sizeof(*reg));
	if (!reg)
		return -ENOMEM;
	pthread_mutex_init(&reg->mu, NULL);
	pthread_cond_init(&reg->work, NULL);
	pthread_cond_init(&reg->idle, NULL);
	int rc = open_db(reg, path);
	if (rc == 0 && legacy_db)
		rc = import_legacy(reg, legacy_db);
	if (rc == 0) {
		rc = -pthread_create(&reg->thread, NULL, writer_main, reg);
		reg->thread_started = rc == 0;
		if (rc != 0)
			LOG_ERROR("store", "cannot start the registrations writer: %s", strerror(-rc));
	}
	if (rc != 0) {
		store_registry_close(reg);
		return rc;
	}
	*out = reg;
	return 0;
}

void store_registry_close(struct store_registry *reg)
{
	if (!reg)
		return;
	if (reg->thread_started) {
		store_registry_submit(reg);
		pthread_mutex_lock(&reg->mu);
		reg->stop = true;
		pthread_cond_signal(&reg->work);
		pthread_mutex_unlock(&reg->mu);
		pthread_join(reg->thread, NULL);
	}
	batch_free(&reg->building);
	batch_free(&reg->waiting);
	sqlite3_finalize(reg->put);
	sqlite3_finalize(reg->del);
	sqlite3_close(reg->db);
	pthread_cond_destroy(&reg->idle);
	pthread_cond_destroy(&reg->work);
	pthread_mutex_destroy(&reg->mu);
	free(reg);
}

int store_registry_add(struct store_registry *reg, const struct store_registration *r,
		       const char *node_id)
{
	struct reg_batch *b = &reg->building;
	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 256;
		void *p = realloc(b->v, cap * sizeof(*b->v));
		if (!p)
			return -ENOMEM;
		b->v = p;
		b->cap = cap;
	}
	struct reg_entry *e = &b->v[b->n];
	memset(e, 0, sizeof(*e));
	if (r) {
		e->r = *r;
		e->r.links = strdup(r->links ? r->links : "");
		if (!e->r.links)
			return -ENOMEM;
	} else {
		e->is_delete = true;
		str_copy(e->r.node_id, sizeof(e->r.node_id), node_id);
	}
	b->n++;
	return 0;
}

void store_registry_submit(struct store_registry *reg)
{
	if (reg->building.n == 0)
		return;
	pthread_mutex_lock(&reg->mu);
	if (batch_append(&reg->waiting, &reg->building) != 0) {
		/* Out of memory: the rows are dropped as a crash would drop them. */
		reg->stats.errors++;
		batch_clear(&reg->building);
	}
	pthread_cond_signal(&reg->work);
	pthread_mutex_unlock(&reg->mu);
}

size_t store_registry_building(const struct store_registry *reg)
{
	return reg->building.n;
}

bool store_registry_busy(struct store_registry *reg)
{
	pthread_mutex_lock(&reg->mu);
	bool busy = reg->writing || reg->waiting.n > 0;
	pthread_mutex_unlock(&reg->mu);
	return busy;
}

void store_registry_sync(struct store_registry *reg)
{
	store_registry_submit(reg);
	pthread_mutex_lock(&reg->mu);
	while (reg->writing || reg->waiting.n > 0)
		pthread_cond_wait(&reg->idle, &reg->mu);
	pthread_mutex_unlock(&reg->mu);
}

int store_registry_load(struct store_registry *reg,
			int (*cb)(const struct store_registration *, void *), void *ctx,
			void (*project_of)(void *pctx, struct store_registration *r),
			void *pctx)
{
	store_registry_sync(reg);
	/* Holding mu with nothing waiting keeps the writer away from the connection. Puts and
	 * deletes the callback adds go to the batch being built, which needs no lock. */
	pthread_mutex_lock(&reg->mu);
	sqlite3_stmt *st = NULL;
	int ret = 0, rc;
	if (sqlite3_prepare_v2(reg->db, LOAD_SQL, -1, &st, NULL) != SQLITE_OK) {
		LOG_ERROR("store", "registrations load: %s", sqlite3_errmsg(reg->db));
		pthread_mutex_unlock(&reg->mu);
		return -EIO;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_registration r;
		read_row(st, &r);
		project_of(pctx, &r);
		ret = cb(&r, ctx);
		if (ret)
			break;
	}
	if (ret == 0 && rc != SQLITE_DONE) {
		LOG_ERROR("store", "registrations load: %s", sqlite3_errmsg(reg->db));
		ret = -EIO;
	}
	sqlite3_finalize(st);
	pthread_mutex_unlock(&reg->mu);
	return ret;
}

void store_registry_stats(struct store_registry *reg, struct store_registry_stats *out)
{
	pthread_mutex_lock(&reg->mu);
	*out = reg->stats;
	out->waiting = reg->waiting.n;
	pthread_mutex_unlock(&reg->mu);
}
