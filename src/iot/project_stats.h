/*
 * project_stats: what each project's devices did since the daemon started, and how many
 * of its queue-mode devices are asleep now — kept as it happens, so that reading it
 * (GET …/statistics, docs/api.md "Statistics") costs the same at a million devices as
 * at ten.
 *
 * The iot layer counts into it: iot_devices (registrations, updates, de-registrations,
 * the queue-mode census), the platform (property reports, commands). A registration
 * carries its project's entry (lwm2m_registration.owner) from its Register on, so that
 * counting an Update or a message costs no lookup.
 *
 * The census of sleepers: a queue-mode device is asleep once nothing came from it for
 * the queue window (docs/api.md "Queue mode"). Rather than look at every device, each
 * project keeps how many of its queue-mode registrations were last seen in each slice of
 * time (a ring of at most PROJECT_STATS_SLICES slices, a second or a 256th of the window
 * wide): those seen within the window are awake, the others asleep. A registration's
 * slice is in its owner_mark, so that moving it when the device speaks again is O(1).
 * The count is exact to within one slice.
 *
 * Entries live as long as the table (one per project that had devices). All of it runs
 * on the loop thread.
 */
#ifndef LWM2MD_IOT_PROJECT_STATS_H
#define LWM2MD_IOT_PROJECT_STATS_H

#include <stdint.h>

/* Slices of the queue window the census keeps apart. */
#define PROJECT_STATS_SLICES 256

/* A project's counters since the daemon started. */
struct project_counters {
	uint64_t registrations;   /* Registers accepted */
	uint64_t updates;         /* Updates accepted */
	uint64_t deregistrations; /* registrations ended: De-register, expiry, device removed */
	uint64_t reports;         /* services' property reports applied to shadows */
	uint64_t commands_created;
	uint64_t commands_successful;
	uint64_t commands_failed;
	uint64_t commands_timeout;
	uint64_t commands_expired;
};

/* Registered queue-mode devices, and those of them asleep now. */
struct project_queue_census {
	uint64_t registered;
	uint64_t asleep;
};

struct project_stats;
struct project_stats_table;

/* queue_window_ms: how long a queue-mode device listens after it spoke. 0 or -ENOMEM. */
int project_stats_table_create(struct project_stats_table **out, uint32_t queue_window_ms);
/* Accepts NULL. */
void project_stats_table_destroy(struct project_stats_table *t);

/* The project's entry, made (zeroed) the first time; NULL only when out of memory. */
struct project_stats *project_stats_get(struct project_stats_table *t, const char *project_id);
/* The project's entry when it has one, else NULL (nothing happened in it yet). */
const struct project_stats *project_stats_find(const struct project_stats_table *t,
					       const char *project_id);

/* The project's id; NULL for NULL. */
const char *project_stats_id(const struct project_stats *ps);
/* The counters, to add to (accepts NULL: then a scratch copy nobody reads). */
struct project_counters *project_stats_counters(struct project_stats *ps);
void project_stats_read(const struct project_stats *ps, struct project_counters *out);

/*
 * The census. *mark is the registration's owner_mark (0: not counted): add a queue-mode
 * registration last seen at last_seen_ms (0 when never: it is asleep), move it when the
 * device speaks at now_ms, remove it when it ends or leaves queue mode. Each accepts a
 * NULL ps (and does nothing).
 */
void project_stats_queue_add(struct project_stats *ps, uint32_t *mark, int64_t last_seen_ms);
void project_stats_queue_seen(struct project_stats *ps, uint32_t *mark, int64_t now_ms);
void project_stats_queue_remove(struct project_stats *ps, uint32_t *mark);
/* O(PROJECT_STATS_SLICES). ps may be NULL (zeros). */
void project_stats_queue_count(const struct project_stats *ps, int64_t now_ms,
			       struct project_queue_census *out);

#endif
