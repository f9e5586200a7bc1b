/*
 * store_internal: what the store's files share (store_sqlite.c owns the connection,
 * store_schema.c the tables; store_platform.c and store_push.c add the statements of the
 * platform layer's tables, store_stmt.c the helpers they all use).
 */
#ifndef LWM2MD_STORE_INTERNAL_H
#define LWM2MD_STORE_INTERNAL_H

#include <sqlite3.h>

#include "store/store.h"

/* Prepared statements slots: store_platform.c's first, then store_push.c's, then
 * store_search.c's, then store_tokens.c's, then store_fw_packages.c's, then
 * store_fw_campaigns.c's, then store_bootstrap.c's. */
#define STORE_PLATFORM_STMTS 32
#define STORE_PUSH_STMTS 18
#define STORE_SEARCH_STMTS 16
#define STORE_TOKENS_STMTS 16
#define STORE_FW_PACKAGES_STMTS 8
#define STORE_FW_CAMPAIGNS_STMTS 16
#define STORE_BOOTSTRAP_STMTS 12
#define STORE_SEARCH_FIRST_STMT (STORE_PLATFORM_STMTS + STORE_PUSH_STMTS)
#define STORE_TOKENS_FIRST_STMT (STORE_SEARCH_FIRST_STMT + STORE_SEARCH_STMTS)
#define STORE_FW_PACKAGES_FIRST_STMT (STORE_TOKENS_FIRST_STMT + STORE_TOKENS_STMTS)
#define STORE_FW_CAMPAIGNS_FIRST_STMT (STORE_FW_PACKAGES_FIRST_STMT + STORE_FW_PACKAGES_STMTS)
#define STORE_BOOTSTRAP_FIRST_STMT (STORE_FW_CAMPAIGNS_FIRST_STMT + STORE_FW_CAMPAIGNS_STMTS)
#define STORE_MORE_STMTS                                                                   \
	(STORE_PLATFORM_STMTS + STORE_PUSH_STMTS + STORE_SEARCH_STMTS + STORE_TOKENS_STMTS +  \
	 STORE_FW_PACKAGES_STMTS + STORE_FW_CAMPAIGNS_STMTS + STORE_BOOTSTRAP_STMTS)

/* A device row's columns, in the order store_read_device reads them. */
#define STORE_DEVICE_COLUMNS                                                               \
	"project_id, device_id, node_id, device_name, product_id, description, secret,"   \
	" secure_access, timeout, status, create_time, read_format"

sqlite3 *store_db(struct store *s);
/* store_schema.c: brings db's tables up to this daemon's schema. 0, or -EIO (logged) when
 * a step fails or the database is of a newer schema. */
int store_schema_migrate(sqlite3 *db);
/* The prepared statement in slot (prepared from sql the first time), reset and with its
 * bindings cleared; NULL (logged) when it does not prepare. */
sqlite3_stmt *store_stmt_slot(struct store *s, int slot, const char *sql);

/* store_stmt.c. Binds v (NULL as "") as a static text. */
void store_bind_text(sqlite3_stmt *st, int i, const char *v);
/* Logs what failed with SQLite's message, resets st: -EIO. */
int store_step_fail(struct store *s, sqlite3_stmt *st, const char *what);
/* Runs a statement that returns no rows: 0, -EEXIST (a constraint), or -EIO (logged). */
int store_step_done(struct store *s, sqlite3_stmt *st, const char *what);
/* Runs a statement whose one row is a count into *out: 0 or -EIO (logged). */
int store_step_count(struct store *s, sqlite3_stmt *st, int64_t *out, const char *what);
/* store_sqlite.c: the device of a row selected with STORE_DEVICE_COLUMNS first. */
void store_read_device(sqlite3_stmt *st, struct store_device *d);
/* Copies a text column ("" for NULL) into dst. */
void store_copy_column(sqlite3_stmt *st, int col, char *dst, size_t cap);

#endif
