/*
 * store_search: device counts and the device listing (store_search.h). Its prepared
 * statements sit in the slots after store_push.c's.
 *
 * A listing has one of three orders, each an index walk that starts where the marker
 * says and stops after the page: creation (rowid) when no key narrows the search, else
 * node_id, or device_name then node_id. Every statement below was checked with EXPLAIN
 * QUERY PLAN to SEARCH its index with no temporary B-tree (no sort of the matches):
 * SQLite keeps an index's entries in (columns, rowid) order, so "project_id = ? AND
 * product_id = ? AND rowid > ? ORDER BY rowid" is a range of devices_by_product. The
 * key orders walk a COVERING index (devices_by_name, devices_by_node hold node_id,
 * device_name, product_id and status): the filters are checked on index entries, and
 * only the page's devices are read whole, by rowid.
 *
 * A listing reads in one transaction: outside the group commit's, every statement that
 * starts with no other one running opens a read transaction of its own, and that costs
 * more than the reads (file locks, a few µs each: most of what a device GET or a page of
 * the list cost the loop). So each listing starts its walk first and runs its other
 * statements — the count, the page's devices read by rowid — while the walk is still
 * stepping, inside the transaction the walk opened.
 */
#include "store/store_search.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_internal.h"
#include "util/str.h"

enum slot {
	SL_COUNTS_PROJECT,
	SL_COUNTS_PRODUCT,
	SL_LIST_ALL,
	SL_LIST_PRODUCT,
	SL_LIST_STATUS,
	SL_LIST_PRODUCT_STATUS,
	SL_SCAN_NAME,
	SL_SCAN_NODE,
	SL_COUNT_NAME,
	SL_COUNT_NODE,
	SL_GET_ROWID,
	SL_COUNT_SCAN_NAME, /* the same as SL_SCAN_*, for a count while a page walks */
	SL_COUNT_SCAN_NODE,
	SL_COUNT
};

#define LIST_TAIL " AND rowid > ?4 ORDER BY rowid LIMIT ?5 OFFSET ?6"
#define LIST_HEAD "SELECT " STORE_DEVICE_COLUMNS ", rowid FROM devices WHERE project_id = ?1"
/* Index entries only: the columns the filters and the marker need. ?2..?3: the key's
 * range [lo, hi); ?4, ?5: after (device_name, node_id) or node_id; ?6: rows examined. */
#define SCAN_HEAD "SELECT node_id, device_name, product_id, status, rowid FROM devices"       \
		  " WHERE project_id = ?1"
/* Counting index entries only (a covering index: no row is read). */
#define COUNT(key)                                                                         \
	"SELECT count(*) FROM (SELECT 1 FROM devices WHERE project_id = ?1 AND " key " >= ?2" \
	" AND " key " < ?3 LIMIT ?4)"

#define SCAN_NAME                                                                          \
	SCAN_HEAD " AND device_name >= ?2 AND device_name < ?3"                              \
		  " AND (device_name > ?4 OR (device_name = ?4 AND node_id > ?5))"            \
		  " ORDER BY device_name, node_id LIMIT ?6"
#define SCAN_NODE SCAN_HEAD " AND node_id >= ?2 AND node_id < ?3 AND node_id > ?5 ORDER BY node_id LIMIT ?6"

static const char *const sql[SL_COUNT] = {
	/* Summed here rather than by GROUP BY status, which sorts (a temporary B-tree). */
	[SL_COUNTS_PROJECT] = "SELECT status, n FROM device_counts WHERE project_id = ?1",
	[SL_COUNTS_PRODUCT] = "SELECT status, n FROM device_counts WHERE project_id = ?1"
			      " AND product_id = ?2",
	[SL_LIST_ALL] = LIST_HEAD LIST_TAIL,
	[SL_LIST_PRODUCT] = LIST_HEAD " AND product_id = ?2" LIST_TAIL,
	/* "+?3", not "?3": a bare parameter compared with status is checked against the
	 * partial index devices_inactive (WHERE status = 0), which marks the statement to be
	 * prepared again whenever ?3 is bound — every page. The plan is the same. */
	[SL_LIST_STATUS] = LIST_HEAD " AND status = +?3" LIST_TAIL,
	[SL_LIST_PRODUCT_STATUS] = LIST_HEAD " AND product_id = ?2 AND status = +?3" LIST_TAIL,
	[SL_SCAN_NAME] = SCAN_NAME,
	[SL_SCAN_NODE] = SCAN_NODE,
	[SL_COUNT_SCAN_NAME] = SCAN_NAME,
	[SL_COUNT_SCAN_NODE] = SCAN_NODE,
	[SL_COUNT_NAME] = COUNT("device_name"),
	[SL_COUNT_NODE] = COUNT("node_id"),
	[SL_GET_ROWID] = "SELECT " STORE_DEVICE_COLUMNS " FROM devices WHERE rowid = ?1",
};

_Static_assert(SL_COUNT <= STORE_SEARCH_STMTS, "more slots needed");

/* The rowid follows the device's columns in the creation order's statements. */
#define COL_ROWID 12
/* The key orders' index entries. */
enum { SC_NODE, SC_NAME, SC_PRODUCT, SC_STATUS, SC_ROWID };

static sqlite3_stmt *prep(struct store *s, enum slot slot)
{
	return store_stmt_slot(s, STORE_SEARCH_FIRST_STMT + (int)slot, sql[slot]);
}

static bool set(const char *s)
{
	return s && s[0];
}

int store_device_counts(struct store *s, const char *project_id, const char *product_id,
			struct store_device_counts *out)
{
	bool one = set(product_id);
	sqlite3_stmt *st = prep(s, one ? SL_COUNTS_PRODUCT : SL_COUNTS_PROJECT);
	if (!st)
		return -EIO;
	store_bind_text(st, 1, project_id);
	if (one)
		store_bind_text(st, 2, product_id);
	memset(out, 0, sizeof(*out));
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t n = sqlite3_column_int64(st, 1);
		switch (sqlite3_column_int(st, 0)) {
		case STORE_DEVICE_ONLINE:
			out->online += n;
			break;
		case STORE_DEVICE_OFFLINE:
			out->offline += n;
			break;
		default:
			out->inactive += n;
			break;
		}
		out->total += n;
	}
	if (rc != SQLITE_DONE)
		return store_step_fail(s, st, "device counts");
	sqlite3_reset(st);
	return 0;
}

/* Orders, and the letter that starts their markers. */
enum order { ORDER_CREATED = 'r', ORDER_NAME = 'n', ORDER_NODE = 'i' };

/* Where a page starts: after rowid (creation order), after (name, node_id) (name
 * order), after node_id (node order). A first page starts after -1, or ("", ""): every
 * name and node_id has at least one byte. */
struct position {
	int64_t rowid;
	char name[STORE_NAME_MAX + 1];
	char node[STORE_NODE_ID_MAX + 1];
};

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static bool id_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-';
}

/* "r123"; "n6b6974.n0042" (the name's bytes in lowercase hex, then the node_id);
 * "in0042". -EINVAL unless it is one of this order's. */
static int marker_parse(const char *m, enum order order, struct position *pos)
{
	memset(pos, 0, sizeof(*pos));
	pos->rowid = -1;
	if (!set(m))
		return 0;
	if (m[0] != (char)order)
		return -EINVAL;
	const char *p = m + 1;
	if (order == ORDER_CREATED) {
		int64_t rowid = 0;
		int digits = 0;
		for (; *p >= '0' && *p <= '9'; p++, digits++) {
			if (digits == 18) /* rowids stay far below 10^18 */
				return -EINVAL;
			rowid = rowid * 10 + (*p - '0');
		}
		pos->rowid = rowid;
		return digits && *p == '\0' ? 0 : -EINVAL;
	}
	if (order == ORDER_NAME) {
		size_t n = 0;
		for (; p[0] != '.'; p += 2) {
			int hi = hex_digit(p[0]), lo = hi < 0 ? -1 : hex_digit(p[1]);
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0) || n == STORE_NAME_MAX)
				return -EINVAL;
			pos->name[n++] = (char)(hi << 4 | lo);
		}
		pos->name[n] = '\0';
		p++;
		if (n == 0)
			return -EINVAL;
	}
	size_t n = strlen(p);
	if (n == 0 || n > STORE_NODE_ID_MAX)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (!id_char(p[i]))
			return -EINVAL;
	memcpy(pos->node, p, n + 1);
	return 0;
}

static void marker_format(char out[STORE_MARKER_MAX + 1], enum order order,
			  const struct position *pos)
{
	static const char digits[] = "0123456789abcdef";
	if (order == ORDER_CREATED) {
		snprintf(out, STORE_MARKER_MAX + 1, "%c%lld", (char)order, (long long)pos->rowid);
		return;
	}
	size_t at = 0;
	out[at++] = (char)order;
	if (order == ORDER_NAME) {
		for (const unsigned char *k = (const unsigned char *)pos->name; *k; k++) {
			out[at++] = digits[*k >> 4];
			out[at++] = digits[*k & 15];
		}
		out[at++] = '.';
	}
	snprintf(out + at, STORE_MARKER_MAX + 1 - at, "%s", pos->node);
}

static bool has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static const char *text(sqlite3_stmt *st, int col)
{
	const char *v = (const char *)sqlite3_column_text(st, col);
	return v ? v : "";
}

/* The filters an index walk does not apply by itself, checked on an index entry of the
 * key orders (SC_ columns). */
static bool matches(const struct store_device_filter *f, sqlite3_stmt *st)
{
	return (!set(f->product_id) || strcmp(text(st, SC_PRODUCT), f->product_id) == 0) &&
	       (f->status < 0 || sqlite3_column_int(st, SC_STATUS) == f->status) &&
	       (!set(f->node_id) || strcmp(text(st, SC_NODE), f->node_id) == 0) &&
	       (!set(f->node_id_prefix) || has_prefix(text(st, SC_NODE), f->node_id_prefix)) &&
	       (!set(f->name_prefix) || has_prefix(text(st, SC_NAME), f->name_prefix));
}

/* A key order's range [lo, hi): the keys that start with prefix (or equal it, when
 * exact). hi_len 0 means "no upper end". */
struct range {
	char lo[STORE_NAME_MAX + 1];
	char hi[STORE_NAME_MAX + 2];
	size_t hi_len;
};

static void range_of(const char *prefix, bool exact, struct range *r)
{
	str_copy(r->lo, sizeof(r->lo), prefix);
	size_t n = strlen(r->lo);
	memcpy(r->hi, r->lo, n + 1);
	if (exact) {
		/* Only the key itself sorts in [key, key "\x01"): keys hold no byte below 0x20. */
		r->hi[n] = '\x01';
		r->hi[n + 1] = '\0';
		r->hi_len = n + 1;
		return;
	}
	/* The first string after every one that starts with prefix: its last byte that can
	 * grow, grown, and what follows it dropped. */
	while (n > 0 && (unsigned char)r->hi[n - 1] == 0xFF)
		n--;
	r->hi_len = n;
	if (n > 0) {
		r->hi[n - 1] = (char)((unsigned char)r->hi[n - 1] + 1);
		r->hi[n] = '\0';
	}
}

static void bind_range(sqlite3_stmt *st, const struct range *r)
{
	store_bind_text(st, 2, r->lo);
	if (r->hi_len)
		sqlite3_bind_text(st, 3, r->hi, (int)r->hi_len, SQLITE_STATIC);
	else /* SQLite sorts every blob after every text: no upper end */
		sqlite3_bind_blob(st, 3, "\xFF", 1, SQLITE_STATIC);
}

/* A text column into dst, as store_copy_column copies it but with the length SQLite
 * knows (no strnlen). */
static void column_into(sqlite3_stmt *st, int col, char *dst, size_t cap)
{
	const char *v = (const char *)sqlite3_column_text(st, col);
	str_copy_n(dst, cap, v ? v : "", v ? strnlen(v, (size_t)sqlite3_column_bytes(st, col)) : 0);
}

/* store_read_device for a page's rows: the same columns (STORE_DEVICE_COLUMNS) without
 * clearing the whole struct first (every member is written; its 1.7 KB are most of a
 * device's description) — a page reads 50 of them. */
static void read_device(sqlite3_stmt *st, struct store_device *d)
{
	column_into(st, 0, d->project_id, sizeof(d->project_id));
	column_into(st, 1, d->device_id, sizeof(d->device_id));
	column_into(st, 2, d->node_id, sizeof(d->node_id));
	column_into(st, 3, d->device_name, sizeof(d->device_name));
	column_into(st, 4, d->product_id, sizeof(d->product_id));
	column_into(st, 5, d->description, sizeof(d->description));
	column_into(st, 6, d->secret, sizeof(d->secret));
	d->secure_access = sqlite3_column_int(st, 7) != 0;
	d->timeout = sqlite3_column_int64(st, 8);
	d->status = sqlite3_column_int(st, 9);
	d->create_time = sqlite3_column_int64(st, 10);
	d->read_format = sqlite3_column_int(st, 11);
}

/* Creation order: one index range per filter, an exact count from device_counts. The
 * statement asks for one device more than the page, to know whether a marker is due. */
static int list_created(struct store *s, const char *project_id,
			const struct store_device_filter *f,
			int (*cb)(const struct store_device *, void *), void *ctx,
			struct store_device_page *page)
{
	struct position pos;
	if (marker_parse(f->marker, ORDER_CREATED, &pos) != 0)
		return -EINVAL;
	enum slot slot = set(f->product_id) ? (f->status >= 0 ? SL_LIST_PRODUCT_STATUS
							       : SL_LIST_PRODUCT)
					    : (f->status >= 0 ? SL_LIST_STATUS : SL_LIST_ALL);
	sqlite3_stmt *st = prep(s, slot);
	if (!st)
		return -EIO;
	store_bind_text(st, 1, project_id);
	store_bind_text(st, 2, f->product_id);
	sqlite3_bind_int(st, 3, f->status);
	sqlite3_bind_int64(st, 4, pos.rowid);
	sqlite3_bind_int64(st, 5, f->limit + 1);
	sqlite3_bind_int64(st, 6, f->offset);
	/* The walk's first step opens the read transaction the count then reads in. */
	int rc = sqlite3_step(st);
	struct store_device_counts counts;
	int crc = store_device_counts(s, project_id, f->product_id, &counts);
	if (crc) {
		sqlite3_reset(st);
		return crc;
	}
	switch (f->status) {
	case STORE_DEVICE_ONLINE:
		page->count = counts.online;
		break;
	case STORE_DEVICE_OFFLINE:
		page->count = counts.offline;
		break;
	case STORE_DEVICE_INACTIVE:
		page->count = counts.inactive;
		break;
	default:
		page->count = counts.total;
		break;
	}
	int64_t n = 0;
	struct position last = { .rowid = -1 };
	int ret = 0;
	struct store_device d;
	for (; rc == SQLITE_ROW; rc = sqlite3_step(st)) {
		if (n == f->limit) {
			marker_format(page->marker, ORDER_CREATED, &last);
			break;
		}
		read_device(st, &d);
		last.rowid = sqlite3_column_int64(st, COL_ROWID);
		n++;
		if ((ret = cb(&d, ctx)) != 0)
			break;
	}
	if (ret == 0 && rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_step_fail(s, st, "device list");
	sqlite3_reset(st);
	return ret;
}

static void bind_scan(sqlite3_stmt *st, const char *project_id, const struct range *r,
		      const char *lo, const struct position *after, int64_t rows)
{
	store_bind_text(st, 1, project_id);
	store_bind_text(st, 2, lo);
	if (r->hi_len)
		sqlite3_bind_text(st, 3, r->hi, (int)r->hi_len, SQLITE_STATIC);
	else /* SQLite sorts every blob after every text: no upper end */
		sqlite3_bind_blob(st, 3, "\xFF", 1, SQLITE_STATIC);
	store_bind_text(st, 4, after->name);
	store_bind_text(st, 5, after->node);
	sqlite3_bind_int64(st, 6, rows);
}

/* The count of a key order's search, from the start of its range: index entries alone
 * either way, counted when the range is the whole filter, else checked one by one; at
 * most STORE_COUNT_MAX. */
static int count_range(struct store *s, const char *project_id,
		       const struct store_device_filter *f, enum order order,
		       const struct range *r, bool range_is_filter,
		       struct store_device_page *page)
{
	sqlite3_stmt *st;
	if (range_is_filter) {
		st = prep(s, order == ORDER_NAME ? SL_COUNT_NAME : SL_COUNT_NODE);
		if (!st)
			return -EIO;
		store_bind_text(st, 1, project_id);
		bind_range(st, r);
		sqlite3_bind_int64(st, 4, STORE_COUNT_MAX + 1);
		int64_t n;
		int rc = store_step_count(s, st, &n, "device count");
		if (rc)
			return rc;
		page->count_capped = n > STORE_COUNT_MAX;
		page->count = page->count_capped ? STORE_COUNT_MAX : n;
		return 0;
	}
	st = prep(s, order == ORDER_NAME ? SL_COUNT_SCAN_NAME : SL_COUNT_SCAN_NODE);
	if (!st)
		return -EIO;
	struct position start = { .rowid = -1 };
	bind_scan(st, project_id, r, r->lo, &start, STORE_COUNT_MAX);
	int64_t examined = 0, n = 0;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		examined++;
		n += matches(f, st);
	}
	if (rc != SQLITE_DONE)
		return store_step_fail(s, st, "device count");
	sqlite3_reset(st);
	page->count = n;
	page->count_capped = examined == STORE_COUNT_MAX;
	return 0;
}

/* Reads a device of the page whole, by rowid, and hands it to cb (while the walk that
 * found it steps: in its read transaction). */
static int emit(struct store *s, int64_t rowid,
		int (*cb)(const struct store_device *, void *), void *ctx)
{
	sqlite3_stmt *st = prep(s, SL_GET_ROWID);
	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, rowid);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		sqlite3_reset(st);
		return 0; /* the walk's index entry has its row: cannot happen, skip */
	}
	if (rc != SQLITE_ROW)
		return store_step_fail(s, st, "device list");
	struct store_device d;
	read_device(st, &d);
	sqlite3_reset(st);
	return cb(&d, ctx);
}

/* A key order: the key's index range from the marker on, the other filters checked on
 * its entries, at most STORE_SEARCH_SCAN_MAX examined, each match of the page read whole
 * as it is found. */
static int list_by_key(struct store *s, const char *project_id,
		       const struct store_device_filter *f, enum order order,
		       int (*cb)(const struct store_device *, void *), void *ctx,
		       struct store_device_page *page)
{
	struct position pos, last;
	struct range r;
	if (marker_parse(f->marker, order, &pos) != 0)
		return -EINVAL;
	bool range_is_filter = !set(f->product_id) && f->status < 0;
	if (order == ORDER_NAME) {
		range_of(f->name_prefix, false, &r);
		range_is_filter = range_is_filter && !set(f->node_id_prefix) && !set(f->node_id);
	} else {
		range_of(set(f->node_id) ? f->node_id : f->node_id_prefix, set(f->node_id), &r);
		range_is_filter = range_is_filter && !set(f->name_prefix) &&
				  (!set(f->node_id) || !set(f->node_id_prefix));
	}
	/* A first page whose filters are checked entry by entry walks the range once: its
	 * count is the same walk's (both bounds are the same), which halves what the
	 * costliest search costs. Other pages count from the range's start on their own. */
	_Static_assert(STORE_SEARCH_SCAN_MAX == STORE_COUNT_MAX, "one walk counts and pages");
	bool counting = !range_is_filter && !set(f->marker) && f->offset == 0;
	sqlite3_stmt *st = prep(s, order == ORDER_NAME ? SL_SCAN_NAME : SL_SCAN_NODE);
	if (!st)
		return -EIO;
	/* The walk starts at the marker's key, not the range's start: an index seek. */
	const char *key = order == ORDER_NAME ? pos.name : pos.node;
	bind_scan(st, project_id, &r, strcmp(key, r.lo) > 0 ? key : r.lo, &pos,
		  STORE_SEARCH_SCAN_MAX);
	/* Its first step opens the read transaction the count and the devices read in. */
	int rc = sqlite3_step(st);
	int ret = counting ? 0 : count_range(s, project_id, f, order, &r, range_is_filter, page);
	int64_t examined = 0, skipped = 0, n = 0;
	bool full = false; /* a match came after the page */
	memset(&last, 0, sizeof(last));
	for (; ret == 0 && rc == SQLITE_ROW; rc = sqlite3_step(st)) {
		examined++;
		bool match = matches(f, st);
		if (counting)
			page->count += match;
		if (full)
			continue; /* only counting now */
		if (match && n == f->limit) {
			full = true; /* the next page starts after this one's last device */
			if (counting)
				continue;
			break;
		}
		if (match && skipped < f->offset) {
			skipped++;
		} else if (match) {
			n++;
			ret = emit(s, sqlite3_column_int64(st, SC_ROWID), cb, ctx);
		} else if (examined < STORE_SEARCH_SCAN_MAX) {
			continue;
		}
		/* Where the page ends, as far as it got (copied only for a device or the
		 * walk's last entry, not for every entry examined). */
		str_copy(last.node, sizeof(last.node), text(st, SC_NODE));
		str_copy(last.name, sizeof(last.name), text(st, SC_NAME));
	}
	if (ret == 0 && rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_step_fail(s, st, "device list");
	sqlite3_reset(st);
	if (ret)
		return ret;
	if (counting)
		page->count_capped = examined == STORE_COUNT_MAX;
	/* More may follow a match left over, or the walk's bound (the next page goes on
	 * from the last entry examined). */
	if (full || examined == STORE_SEARCH_SCAN_MAX)
		marker_format(page->marker, order, &last);
	return 0;
}

int store_device_list(struct store *s, const char *project_id,
		      const struct store_device_filter *f,
		      int (*cb)(const struct store_device *, void *), void *ctx,
		      struct store_device_page *page)
{
	memset(page, 0, sizeof(*page));
	if (f->offset < 0 || f->offset > STORE_OFFSET_MAX || f->limit < 1 || f->limit > 1000)
		return -ERANGE;
	if (set(f->node_id) || set(f->node_id_prefix))
		return list_by_key(s, project_id, f, ORDER_NODE, cb, ctx, page);
	if (set(f->name_prefix))
		return list_by_key(s, project_id, f, ORDER_NAME, cb, ctx, page);
	return list_created(s, project_id, f, cb, ctx, page);
}
