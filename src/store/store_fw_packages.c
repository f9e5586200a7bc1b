/*
 * store_fw_packages: firmware packages' rows (store_firmware.h; the campaigns and their
 * targets are store_fw_campaigns.c's). A row is a package's metadata; its bytes are the
 * file named by sha256 in the firmware directory (firmware/fw_package.h), which several
 * rows may share — store_fw_sha_refs says when the last one is gone.
 */
#include "store/store_internal.h"
#include "store/store_firmware.h"

#include <errno.h>
#include <string.h>

enum slot {
	ST_PUT = STORE_FW_PACKAGES_FIRST_STMT,
	ST_GET,
	ST_LIST,
	ST_LIST_PRODUCT,
	ST_DELETE,
	ST_EXISTS,
	ST_SHA_REFS,
	ST_END,
};
_Static_assert(ST_END - STORE_FW_PACKAGES_FIRST_STMT <= STORE_FW_PACKAGES_STMTS,
	       "firmware package statements");

#define PACKAGE_COLUMNS                                                                    \
	"project_id, package_id, product_id, version, description, sha256, size, create_time"

/* Campaign status 0 (running) and 1 (paused): enum fw_campaign_status. */
#define CAMPAIGN_IN_USE                                                                    \
	"SELECT 1 FROM fw_campaigns c WHERE c.project_id = ?1 AND c.package_id = ?2"      \
	" AND c.status IN (0, 1)"

/* Newest first; rowid orders the packages of one second as they were made. */
static const char *const sql[] = {
	[ST_PUT - STORE_FW_PACKAGES_FIRST_STMT] =
		"INSERT INTO fw_packages (" PACKAGE_COLUMNS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6,"
		" ?7, ?8)",
	[ST_GET - STORE_FW_PACKAGES_FIRST_STMT] =
		"SELECT " PACKAGE_COLUMNS " FROM fw_packages WHERE project_id = ?1"
		" AND package_id = ?2",
	[ST_LIST - STORE_FW_PACKAGES_FIRST_STMT] =
		"SELECT " PACKAGE_COLUMNS " FROM fw_packages WHERE project_id = ?1"
		" ORDER BY create_time DESC, rowid DESC",
	[ST_LIST_PRODUCT - STORE_FW_PACKAGES_FIRST_STMT] =
		"SELECT " PACKAGE_COLUMNS " FROM fw_packages WHERE project_id = ?1"
		" AND product_id = ?2 ORDER BY create_time DESC, rowid DESC",
	/* In one statement, so that nothing can start a campaign between the check and
	 * the delete. */
	[ST_DELETE - STORE_FW_PACKAGES_FIRST_STMT] =
		"DELETE FROM fw_packages WHERE project_id = ?1 AND package_id = ?2"
		" AND NOT EXISTS (" CAMPAIGN_IN_USE ")",
	[ST_EXISTS - STORE_FW_PACKAGES_FIRST_STMT] =
		"SELECT count(*) FROM fw_packages WHERE project_id = ?1 AND package_id = ?2",
	[ST_SHA_REFS - STORE_FW_PACKAGES_FIRST_STMT] =
		"SELECT count(*) FROM fw_packages WHERE sha256 = ?1",
};

static sqlite3_stmt *stmt(struct store *s, enum slot slot)
{
	return store_stmt_slot(s, slot, sql[slot - STORE_FW_PACKAGES_FIRST_STMT]);
}

static void read_package(sqlite3_stmt *st, struct store_fw_package *p)
{
	memset(p, 0, sizeof(*p));
	store_copy_column(st, 0, p->project_id, sizeof(p->project_id));
	store_copy_column(st, 1, p->package_id, sizeof(p->package_id));
	store_copy_column(st, 2, p->product_id, sizeof(p->product_id));
	store_copy_column(st, 3, p->version, sizeof(p->version));
	store_copy_column(st, 4, p->description, sizeof(p->description));
	store_copy_column(st, 5, p->sha256, sizeof(p->sha256));
	p->size = (uint64_t)sqlite3_column_int64(st, 6);
	p->create_time = sqlite3_column_int64(st, 7);
}

int store_fw_package_put(struct store *s, const struct store_fw_package *p)
{
	sqlite3_stmt *st = stmt(s, ST_PUT);
	if (!st)
		return -EIO;
	store_bind_text(st, 1, p->project_id);
	store_bind_text(st, 2, p->package_id);
	store_bind_text(st, 3, p->product_id);
	store_bind_text(st, 4, p->version);
	store_bind_text(st, 5, p->description);
	store_bind_text(st, 6, p->sha256);
	sqlite3_bind_int64(st, 7, (sqlite3_int64)p->size);
	sqlite3_bind_int64(st, 8, p->create_time);
	/* Both unique keys (the id, the product's version) are -EEXIST. */
	return store_step_done(s, st, "firmware package insert");
}

int store_fw_package_get(struct store *s, const char *project_id, const char *package_id,
			 struct store_fw_package *out)
{
	sqlite3_stmt *st = stmt(s, ST_GET);
	if (!st)
		return -EIO;
	store_bind_text(st, 1, project_id);
	store_bind_text(st, 2, package_id);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		read_package(st, out);
		sqlite3_reset(st);
		return 0;
	}
	if (rc != SQLITE_DONE)
		return store_step_fail(s, st, "firmware package get");
	sqlite3_reset(st);
	return -ENOENT;
}

int store_fw_package_list(struct store *s, const char *project_id, const char *product_id,
			  int (*fn)(const struct store_fw_package *p, void *ctx), void *ctx)
{
	sqlite3_stmt *st = stmt(s, product_id ? ST_LIST_PRODUCT : ST_LIST);
	if (!st)
		return -EIO;
	store_bind_text(st, 1, project_id);
	if (product_id)
		store_bind_text(st, 2, product_id);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_fw_package p;
		read_package(st, &p);
		if (fn(&p, ctx) != 0) {
			sqlite3_reset(st);
			return 0;
		}
	}
	if (rc != SQLITE_DONE)
		return store_step_fail(s, st, "firmware package list");
	sqlite3_reset(st);
	return 0;
}

int store_fw_package_delete(struct store *s, const char *project_id, const char *package_id)
{
	sqlite3_stmt *st = stmt(s, ST_DELETE);
	if (!st)
		return -EIO;
	store_bind_text(st, 1, project_id);
	store_bind_text(st, 2, package_id);
	int rc = store_step_done(s, st, "firmware package delete");
	if (rc != 0)
		return rc;
	if (sqlite3_changes(store_db(s)) > 0)
		return 0;
	/* Nothing deleted: no such package, or a campaign still uses it. */
	st = stmt(s, ST_EXISTS);
	if (!st)
		return -EIO;
	store_bind_text(st, 1, project_id);
	store_bind_text(st, 2, package_id);
	int64_t n = 0;
	rc = store_step_count(s, st, &n, "firmware package exists");
	if (rc != 0)
		return rc;
	return n > 0 ? -EBUSY : -ENOENT;
}

int store_fw_sha_refs(struct store *s, const char *sha256, int *count)
{
	sqlite3_stmt *st = stmt(s, ST_SHA_REFS);
	if (!st)
		return -EIO;
	store_bind_text(st, 1, sha256);
	int64_t n = 0;
	int rc = store_step_count(s, st, &n, "firmware package references");
	if (rc == 0)
		*count = (int)n;
	return rc;
}
