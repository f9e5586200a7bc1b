/*
 * store_search: counting and listing a project's devices at any fleet size (schema v12;
 * docs/api.md "List devices" and "Statistics"). Same conventions as store.h.
 *
 * Nothing here costs O(devices). Counts come from device_counts, a table SQLite's
 * triggers keep per (project, product, status) in the same transaction as the change.
 * A listing walks one index from where the previous page ended (keyset paging: the page
 * hands back a marker), so page 1000 costs what page 1 does:
 *
 *  - without a prefix, devices come in creation order (rowid), each filter of product and
 *    status served by its own index, and the count is exact;
 *  - with a node_id (exact or prefix) they come in node_id order, with a device_name
 *    prefix in name order (bytes, then node_id). The other filters are checked on the
 *    index's entries one by one, so a page examines at most STORE_SEARCH_SCAN_MAX of them
 *    — it may then hold fewer than `limit` devices and still have a marker — and the
 *    count stops at STORE_COUNT_MAX (count_capped: it is then a lower bound).
 */
#ifndef LWM2MD_STORE_SEARCH_H
#define LWM2MD_STORE_SEARCH_H

#include <stdbool.h>
#include <stdint.h>

#include "store/store.h"

/* A page's marker: the order's letter, then a rowid, or a name in hex and a node_id, or a
 * node_id. */
#define STORE_MARKER_MAX (2 + 2 * STORE_NAME_MAX + STORE_NODE_ID_MAX)
/* Rows one page of a prefix or node_id search examines, and a count of one counts. */
#define STORE_SEARCH_SCAN_MAX 10000
#define STORE_COUNT_MAX 10000
/* Devices skipped by an offset: an offset is walked row by row. */
#define STORE_OFFSET_MAX 10000

/* A project's devices (or one product's) by status. */
struct store_device_counts {
	int64_t total;
	int64_t inactive, online, offline;
};

/* From device_counts: O(the project's products), never a scan of its devices. product_id
 * NULL or "" counts the whole project. 0 (zeros for a project without devices) or -EIO. */
int store_device_counts(struct store *s, const char *project_id, const char *product_id,
			struct store_device_counts *out);

/* What to list; NULL or "" strings and a negative status mean "any". */
struct store_device_filter {
	const char *product_id;
	const char *node_id;        /* exact */
	const char *node_id_prefix; /* bytes */
	const char *name_prefix;    /* device_name, bytes (case-sensitive) */
	int status;                 /* enum store_device_status, -1 = any */
	const char *marker;         /* a previous page's: the devices after it */
	int64_t offset;             /* 0..STORE_OFFSET_MAX, devices skipped (after marker) */
	int64_t limit;              /* 1..1000 */
};

struct store_device_page {
	int64_t count;     /* the devices the filter matches (from the start, not marker) */
	bool count_capped; /* count is a lower bound: counting stopped at STORE_COUNT_MAX */
	char marker[STORE_MARKER_MAX + 1]; /* where the next page starts; "" when none can */
};

/*
 * Calls cb for each device of the page (a non-zero return stops the walk and is
 * returned) and fills page. The order is set by the filter: node_id, else node_id_prefix,
 * else name_prefix, else creation. Returns 0, -EINVAL for a marker that is malformed or
 * comes from a listing of another order, -ERANGE for an offset or limit out of bounds,
 * or -EIO.
 */
int store_device_list(struct store *s, const char *project_id,
		      const struct store_device_filter *f,
		      int (*cb)(const struct store_device *, void *), void *ctx,
		      struct store_device_page *page);

#endif
