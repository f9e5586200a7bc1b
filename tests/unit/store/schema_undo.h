/*
 * schema_undo: for the store's migration tests, a registry taken back to an older schema
 * version — made by this store, then each newer step of src/store/store_schema.c undone.
 * A new schema step adds its undo here once, and every migration test of an older step
 * keeps working without an edit.
 */
#ifndef LWM2MD_TEST_SCHEMA_UNDO_H
#define LWM2MD_TEST_SCHEMA_UNDO_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "store/store.h"

/* What step N added, undone (SQLite drops a column only when no index names it). */
static const char *const schema_undo_steps[] = {
	[10] = "DROP INDEX outbox_by_rule; DROP INDEX outbox_by_project;"
	       "ALTER TABLE outbox DROP COLUMN project_id;"
	       "ALTER TABLE outbox DROP COLUMN rule_id;"
	       "CREATE INDEX outbox_due ON outbox(state, next_ms);",
	[11] = "ALTER TABLE observations DROP COLUMN format;"
	       "ALTER TABLE observations DROP COLUMN paths;",
	[12] = "DROP TRIGGER device_counts_insert; DROP TRIGGER device_counts_delete;"
	       "DROP TRIGGER device_counts_status; DROP TABLE device_counts;"
	       "DROP INDEX devices_by_product; DROP INDEX devices_by_status;"
	       "DROP INDEX devices_by_product_status; DROP INDEX devices_by_name;"
	       "DROP INDEX devices_by_node; DROP INDEX devices_by_project;"
	       "CREATE INDEX devices_by_project ON devices(project_id, create_time, device_id);"
	       "ALTER TABLE products DROP COLUMN codec_examples;",
	[13] = "DROP INDEX tokens_by_id; DROP INDEX tokens_by_project;"
	       "ALTER TABLE tokens DROP COLUMN token_id;"
	       "ALTER TABLE tokens DROP COLUMN name;"
	       "ALTER TABLE tokens DROP COLUMN expire_time;"
	       "ALTER TABLE tokens DROP COLUMN last_used;",
	[14] = "DROP TABLE fw_targets; DROP TABLE fw_campaigns; DROP TABLE fw_packages;",
	[15] = "DROP TRIGGER bs_template_gone; DROP TRIGGER bs_device_gone; DROP TABLE bs_history; DROP TABLE bs_templates; DROP TABLE bs_devices;",
};
#define SCHEMA_UNDO_NEWEST ((int)(sizeof(schema_undo_steps) / sizeof(schema_undo_steps[0])) - 1)

static inline void schema_exec_ok(sqlite3 *db, const char *sql)
{
	char *err = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
		fail_msg("%s: %s", sql, err);
}

/* A new registry at path (a mkstemp template, filled in) at schema version: the caller
 * adds the rows of that version, closes db and opens the store on path to migrate it. */
static inline sqlite3 *schema_registry_at(char *path, int version)
{
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	struct store *s;
	assert_int_equal(store_open(&s, path), 0);
	store_close(s);
	sqlite3 *db;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	/* A schema step without its undo above would leave its changes in the old registry. */
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	int newest = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (newest != SCHEMA_UNDO_NEWEST)
		fail_msg("the store is at schema %d, schema_undo.h undoes up to %d", newest,
			 SCHEMA_UNDO_NEWEST);
	assert_true(version >= 9);
	for (int step = SCHEMA_UNDO_NEWEST; step > version; step--)
		schema_exec_ok(db, schema_undo_steps[step]);
	char pragma[48];
	snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d;", version);
	schema_exec_ok(db, pragma);
	return db;
}

#endif
