/*
 * iot_devices: what the platform does when devices come and go.
 *
 * It implements lwm2m_server's hooks on top of the store (docs/architecture.md, iot/):
 *  - who may register: only a device created through the API, on the transport its
 *    secure_access says (5683 plain, 5684 DTLS with identity = node_id = endpoint);
 *  - status: INACTIVE → ONLINE on the first Register, OFFLINE on De-register or expiry;
 *  - persistence: registrations are written behind (iot_devices_flush, every 100 ms from
 *    the daemon) by the store's own writer thread, so a burst of Updates costs one row,
 *    and the loop no row at all; a restart reloads them (iot_devices_restore);
 *  - the activation timeout: a device still INACTIVE `timeout` seconds after creation is
 *    deleted (iot_devices_sweep).
 */
#ifndef LWM2MD_IOT_DEVICES_H
#define LWM2MD_IOT_DEVICES_H

#include <stdint.h>

#include "lwm2m/lwm2m_server.h"

struct store;
struct iot_devices;

struct iot_devices_stats {
	uint64_t flushes;
	uint64_t flushes_deferred; /* ticks skipped: the registrations writer was still busy */
	uint64_t flushed_writes;
	uint64_t store_errors;
	uint64_t expired_inactive; /* devices deleted by the activation timeout */
	uint64_t registers_coalesced; /* Registers of a re-Register storm, not announced */
};

/* A Register replacing a registration younger than this is not announced (no event, no
 * uplink observation, no status push) until the endpoint has held still this long. */
#define IOT_SETTLE_DEFAULT_MS 2000

/* Creates the layer and its lwm2m_server (which it owns). Returns 0 or a negative
 * errno. */
int iot_devices_create(struct iot_devices **out, struct store *store);
/* Flushes pending writes, then frees. Accepts NULL. */
void iot_devices_destroy(struct iot_devices *dev);

struct lwm2m_server *iot_devices_lwm2m(struct iot_devices *dev);

/* Reloads stored registrations into the live table; those whose lifetime ended while the
 * daemon was down are dropped and their devices set OFFLINE. Returns the number
 * restored, or a negative errno. */
int iot_devices_restore(struct iot_devices *dev, int64_t now_ms);

/* The write-behind in two steps. Every loop turn (before its commit) iot_devices_flush_step
 * moves up to IOT_FLUSH_STEP_ROWS endpoints changed at least IOT_FLUSH_AGE_MS ago into the
 * batch being built, which holds at most IOT_FLUSH_MAX_ROWS: their registrations to the
 * registrations writer's next batch, their status changes into the turn's transaction, so
 * no turn pays for more than a step, and a device's Updates within IOT_FLUSH_AGE_MS stay
 * one row. Every 100 ms iot_devices_flush hands the built batch to the writer, unless the
 * writer is still busy with the previous one. now_ms is the caller's clock. Both return 0
 * or -EIO. */
#define IOT_FLUSH_STEP_ROWS 1024
#define IOT_FLUSH_MAX_ROWS 16384
#define IOT_FLUSH_AGE_MS 100
int iot_devices_flush_step(struct iot_devices *dev, int64_t now_ms);
int iot_devices_flush(struct iot_devices *dev, int64_t now_ms);
/* Hands everything over and waits until the writer has written it (shutdown). */
int iot_devices_flush_all(struct iot_devices *dev);

/* Deletes devices past their activation timeout. Returns how many, or a negative errno. */
int iot_devices_sweep(struct iot_devices *dev, int64_t now_ms);

/* Counts registrations, updates, ends and the queue-mode census per project into stats
 * (project_stats.h; NULL: not counted). Set before iot_devices_restore. */
struct project_stats_table;
void iot_devices_set_stats(struct iot_devices *dev, struct project_stats_table *stats);

/* reg's device just sent something (any request, a notification): its last_seen_ms, and
 * a queue-mode device's place in the census of sleepers. */
void iot_devices_seen(struct iot_devices *dev, struct lwm2m_registration *reg, int64_t now_ms);

/* Re-Register storms: settle_ms (0: announce every Register at once). */
void iot_devices_set_settle_ms(struct iot_devices *dev, int64_t settle_ms);
/* Announces the registrations of storms that have settled by now_ms (their
 * IOT_EVENT_REGISTERED, once). The daemon calls it every tick. */
void iot_devices_settle(struct iot_devices *dev, int64_t now_ms);

/* The API deleted a device: its live registration ends now. */
void iot_devices_removed(struct iot_devices *dev, const char *node_id);

/* The DTLS pre-shared key of identity (a node_id): the bytes of its hex secret. 0 with
 * key/key_len set, or -ENOENT when there is no such device, it is not a secure_access
 * device, or its secret does not fit cap. */
int iot_devices_psk(struct iot_devices *dev, const char *identity, uint8_t *key, size_t cap,
		    size_t *key_len);

/* Registration events for the owner (the event stream): reason is an enum
 * lwm2m_dereg_reason for IOT_EVENT_DEREGISTERED, else 0. */
enum iot_event { IOT_EVENT_REGISTERED, IOT_EVENT_UPDATED, IOT_EVENT_DEREGISTERED };
typedef void (*iot_event_fn)(void *ctx, enum iot_event event,
			     const struct lwm2m_registration *reg, int reason);
void iot_devices_set_event_handler(struct iot_devices *dev, iot_event_fn fn, void *ctx);

const struct iot_devices_stats *iot_devices_stats(const struct iot_devices *dev);

#endif
