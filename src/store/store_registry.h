/*
 * store_registry: the registrations' own database file and the thread that writes it.
 *
 * Every Register and Update changes a registration, so registrations are written far more
 * often than anything else in the store, and they are read only when the daemon starts.
 * At 100 000 devices the event loop's write-behind wrote ~10 000 of them per 100 ms: a
 * third of the loop's time and a 40–60 ms stall that every request in flight waited out.
 * So they live in a database file of their own (<path>.registrations), written by one
 * thread with its own SQLite connection; the loop only hands it batches. A file of its
 * own because SQLite has one writer per database: in the main file every batch would hold
 * the write lock that the loop's group commit needs.
 *
 * What is lost when the process dies is what was not written yet (at most the batch being
 * built plus the one being written, ~100–200 ms of changes); a device whose registration
 * is lost gets 4.04 to its next Update and registers again, as the LwM2M client does.
 *
 * Threads: store_registry_add, _submit, _busy and _load run on the owner's thread (the
 * event loop); the writer thread only takes submitted batches. Used by store_sqlite.c.
 */
#ifndef LWM2MD_STORE_REGISTRY_H
#define LWM2MD_STORE_REGISTRY_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

struct store_registry;

/* Opens (creating) the registrations database at path (":memory:" for a private one) and
 * starts its writer thread. Rows still in legacy_db's own `registrations` table (databases
 * of lwm2md before the registrations had a file of their own; NULL to skip) are moved
 * over first. 0, -ENOMEM or -EIO (logged). */
int store_registry_open(struct store_registry **out, const char *path, sqlite3 *legacy_db);
/* Writes what was submitted or built, stops the thread, closes. Accepts NULL. */
void store_registry_close(struct store_registry *reg);

/* Adds a put (r copied, links included) or a delete (r NULL, node_id) to the batch being
 * built. 0 or -ENOMEM. */
int store_registry_add(struct store_registry *reg, const struct store_registration *r,
		       const char *node_id);
/* Hands the batch being built to the writer (appending it to one still waiting). */
void store_registry_submit(struct store_registry *reg);
/* Rows in the batch being built. */
size_t store_registry_building(const struct store_registry *reg);
/* Whether a submitted batch is still waiting or being written. */
bool store_registry_busy(struct store_registry *reg);
/* Submits what is built and waits until everything submitted is written. */
void store_registry_sync(struct store_registry *reg);

/* Calls cb for every stored registration after a sync; project_of fills a row's
 * project_id (from the main database). */
int store_registry_load(struct store_registry *reg,
			int (*cb)(const struct store_registration *, void *), void *ctx,
			void (*project_of)(void *pctx, struct store_registration *r),
			void *pctx);

void store_registry_stats(struct store_registry *reg, struct store_registry_stats *out);

#endif
