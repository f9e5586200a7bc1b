/*
 * store_stmt: the small steps every file of the store takes with a prepared statement —
 * bind a text, run a statement that returns no rows, read a count, copy a column — so
 * that their error handling (a constraint is -EEXIST, anything else is logged and -EIO)
 * is written once.
 */
#include "store/store_internal.h"

#include <errno.h>

#include "util/log.h"
#include "util/str.h"

void store_bind_text(sqlite3_stmt *st, int i, const char *v)
{
	sqlite3_bind_text(st, i, v ? v : "", -1, SQLITE_STATIC);
}

int store_step_fail(struct store *s, sqlite3_stmt *st, const char *what)
{
	LOG_ERROR("store", "%s: %s", what, sqlite3_errmsg(store_db(s)));
	sqlite3_reset(st);
	return -EIO;
}

int store_step_done(struct store *s, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);
	if (rc == SQLITE_CONSTRAINT) {
		sqlite3_reset(st);
		return -EEXIST;
	}
	if (rc != SQLITE_DONE)
		return store_step_fail(s, st, what);
	sqlite3_reset(st);
	return 0;
}

int store_step_count(struct store *s, sqlite3_stmt *st, int64_t *out, const char *what)
{
	if (sqlite3_step(st) != SQLITE_ROW)
		return store_step_fail(s, st, what);
	*out = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return 0;
}

void store_copy_column(sqlite3_stmt *st, int col, char *dst, size_t cap)
{
	const char *v = (const char *)sqlite3_column_text(st, col);
	str_copy(dst, cap, v ? v : "");
}
