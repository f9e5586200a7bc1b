/*
 * fw_engine: one device's firmware update over LwM2M object 5 (Core 1.1 §E.6, the
 * Firmware Update object), from "start" to succeeded or failed. docs/firmware.md has the
 * states and every reason.
 *
 *   starting     Read /3/0/3 (is it current already? is it a version the campaign
 *                targets?) and /5/0 (its protocols /5/0/8, delivery method /5/0/9 and
 *                state /5/0/3); Observe /5/0/3 and /5/0/5
 *   downloading  pull: Write /5/0/1 Package URI = coap[s]://<this server>/fw/<token>, the
 *                device fetches it block by block (fw_serve); push: Write /5/0/0 with
 *                Block1 from the package file
 *   downloaded   the device said State 2: Execute /5/0/2 Update
 *   updating     until Update Result 1 or its next registration, then Read /3/0/3: the
 *                package's version is success, anything else a failure
 *   succeeded | failed (reason, result 2–9) | skipped (already current, not targeted)
 *
 * Each phase has a deadline. The engine does not pace or retry — the campaign does
 * (fw_campaign.h); it says whether a failure is worth a retry (transient). Requests to a
 * sleeping queue-mode device are held by lwm2m_requests until it wakes. A device that
 * registers again mid-update is picked up where it was (its state is read again).
 *
 * The engine owns no job memory: the campaign owns each struct fw_job and its life; the
 * engine only keeps its own index of the jobs it follows, by node_id and by token.
 */
#ifndef LWM2MD_FW_ENGINE_H
#define LWM2MD_FW_ENGINE_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "store/store_firmware.h"
#include "util/hash.h"

enum fw_state {
	FW_WAITING = 0,     /* not started (or waiting for a retry) */
	FW_STARTING = 1,    /* reading the device's version and object 5 */
	FW_DOWNLOADING = 2,
	FW_DOWNLOADED = 3,  /* Execute /5/0/2 sent or about to be */
	FW_UPDATING = 4,
	FW_SUCCEEDED = 5,
	FW_FAILED = 6,
	FW_SKIPPED = 7,     /* already current, or its version is not targeted */
	FW_CANCELLED = 8,   /* the campaign was cancelled before it ended */
	FW_STATE_COUNT
};

enum fw_delivery {
	FW_DELIVERY_AUTO = 0, /* pull when the device can, else push */
	FW_DELIVERY_PULL = 1, /* Package URI (/5/0/1), served by fw_serve */
	FW_DELIVERY_PUSH = 2, /* Package (/5/0/0) written with Block1 */
};

/* "waiting", "downloading", ... */
const char *fw_state_name(enum fw_state s);
/* Parses a name; -1 when unknown. */
int fw_state_parse(const char *name);
const char *fw_delivery_name(enum fw_delivery d);
int fw_delivery_parse(const char *name);
/* The terminal states: succeeded, failed, skipped, cancelled. */
bool fw_state_done(enum fw_state s);

struct fw_file;

/* What a job updates to, shared by all jobs of a campaign. */
struct fw_target_package {
	struct fw_file *file;   /* open for the campaign's life */
	uint64_t size;
	char sha256[STORE_FW_SHA256_HEX + 1];
	char version[STORE_FW_VERSION_MAX + 1];
	/* Update only devices reporting one of these (/3/0/3); none: any version. */
	char (*from_versions)[STORE_FW_VERSION_MAX + 1];
	unsigned from_version_count;
	enum fw_delivery delivery;
	uint32_t download_timeout_s;
	uint32_t update_timeout_s;
};

/* One device's update, owned by its campaign. The engine writes state, reason, result,
 * bytes, method, token and deadline; the campaign persists them when told (changed). */
struct fw_job {
	struct store_fw_target row;        /* node_id, device_id, state, ... as stored */
	const struct fw_target_package *pkg;
	char project_id[STORE_ID_MAX + 1];
	void *owner;                       /* the campaign's */
	bool transient;                    /* a failure worth a retry */
	/* The engine's own (zeroed by the campaign before start, never touched by it). */
	struct fw_engine *engine;
	struct hmap_node by_node;
	struct hmap_node by_token;
	bool indexed, token_indexed;
	uint64_t request;                  /* the DM request in flight, 0 when none */
	uint8_t step;                      /* where in its state (fw_engine_internal.h) */
	uint8_t device_state;              /* latest /5/0/3 heard */
	uint8_t transport;                 /* enum lwm2m_transport of its registration */
	bool resync;                       /* re-reading where the device is */
	bool waiting_registration;         /* a step found it unreachable: retried when
					    * it next speaks or registers */
	int8_t delivery_method;            /* its /5/0/9: 0 pull, 1 push, 2 both, -1 */
	uint8_t protocol_count;            /* its /5/0/8 */
	uint8_t protocols[8];
	int64_t phase_deadline_ms;
	int64_t bytes_saved_ms;            /* when bytes were last reported as changed */
	char device_version[STORE_FW_VERSION_MAX + 1]; /* its /3/0/3 after the update */
};

struct fw_engine;
struct lwm2m_requests;
struct lwm2m_observations;
struct lwm2m_observation;
struct lwm2m_server;

struct fw_engine_hooks {
	/* The job's state, reason, bytes or token changed (persist it); called for every
	 * state change and at most every few seconds for bytes. When the state is terminal
	 * the engine has already let go of the job. */
	void (*changed)(void *ctx, struct fw_job *job);
};

struct fw_engine_config {
	/* The Package URI's authority as devices reach this server, per transport:
	 * "coap://192.0.2.1:5683" and "coaps://192.0.2.1:5684" ("" when that transport has
	 * no listener or no address to give; pull over it then fails with a reason). */
	char coap_base[192];
	char coaps_base[192];
};

int fw_engine_create(struct fw_engine **out, uv_loop_t *loop, struct lwm2m_server *lwm2m,
		     struct lwm2m_requests *requests, struct lwm2m_observations *obs,
		     const struct fw_engine_config *cfg, const struct fw_engine_hooks *hooks,
		     void *ctx);
/* Lets go of every job (no hooks called) and frees. Accepts NULL. */
void fw_engine_destroy(struct fw_engine *e);

/* Starts job (state WAITING) from the beginning. Returns 0 or a negative errno (-EBUSY:
 * the device already has an update running). */
int fw_engine_start(struct fw_engine *e, struct fw_job *job);
/* Takes back a job that was running when the daemon stopped (state, token and deadline
 * from its row): it goes on from there once the device speaks. */
int fw_engine_resume(struct fw_engine *e, struct fw_job *job);
/* Lets go of a job now (its campaign was cancelled or paused): its request is cancelled,
 * its token stops working. No hook is called. */
void fw_engine_stop(struct fw_engine *e, struct fw_job *job);

/* The daemon's events the engine follows. */
void fw_engine_registered(struct fw_engine *e, const char *node_id);
/* A notification of an observation (the engine's own of /5/0/3 and /5/0/5 among
 * them); format and payload as the device sent them. */
void fw_engine_notification(struct fw_engine *e, const struct lwm2m_observation *o, int format,
			    const uint8_t *payload, size_t len);
/* node_id spoke (an Update, a notification, any request): a step that found it
 * unreachable is tried again. */
void fw_engine_device_spoke(struct fw_engine *e, const char *node_id);
/* Checks the phase deadlines; the daemon calls it every second or so. */
void fw_engine_tick(struct fw_engine *e, int64_t now_ms);

/* Ends job as timed out when its phase's deadline has passed (the job may be freed by
 * then): true when it did. fw_serve asks before refusing a late block, so that the
 * reason is the deadline, not the device's "connection lost" at the refusal. */
bool fw_engine_expire_if_late(struct fw_engine *e, struct fw_job *job, int64_t now_ms);
/* The job whose pull token this is (fw_serve), or NULL. */
struct fw_job *fw_engine_find_token(struct fw_engine *e, const char *token);
/* fw_serve served n bytes of job's package, up to offset end. */
void fw_engine_served(struct fw_engine *e, struct fw_job *job, uint64_t end, size_t n,
		      int64_t now_ms);
/* The ETag a download of job's package carries: the first 8 bytes of its SHA-256. */
void fw_engine_etag(const struct fw_job *job, uint8_t out[8]);
/* fw_serve refused a download request (unknown, expired or another device's token, or
 * a block past the end). */
void fw_engine_refused(struct fw_engine *e);

struct fw_engine_stats {
	uint64_t jobs;            /* gauge: updates the engine follows */
	uint64_t started, succeeded, failed, skipped;
	uint64_t blocks_served;   /* pull: Block2 blocks of packages */
	uint64_t bytes_served;
	uint64_t downloads_refused;
	uint64_t pushes;          /* Block1 writes of /5/0/0 started */
};
const struct fw_engine_stats *fw_engine_stats(const struct fw_engine *e);

#endif
