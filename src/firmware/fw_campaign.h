/*
 * fw_campaign: firmware campaigns — one package to many devices, paced (docs/firmware.md
 * "Campaigns").
 *
 * A campaign resolves its targets when created (every device of a product, or a list of
 * device ids) into one stored row per device (store_fw_target), then starts them through
 * the engine (fw_engine.h) no faster than its start rate and with no more than its
 * concurrency updating at once; retries transient failures after a doubling backoff; and
 * stops itself when the share of failures passes its threshold. Pause, resume and cancel
 * act at once. Its counts are kept as targets change, so reading a campaign costs nothing
 * per device; a campaign and each target's place survive a restart.
 *
 * Memory: a campaign keeps in memory only the jobs that are running or waiting for a
 * retry (at most max_concurrent + retries due); the rest are rows, read in seq order
 * from a cursor.
 */
#ifndef LWM2MD_FW_CAMPAIGN_H
#define LWM2MD_FW_CAMPAIGN_H

#include <stdbool.h>
#include <stdint.h>

#include "firmware/fw_engine.h"
#include "store/store_firmware.h"

#define FW_CAMPAIGN_MAX_TARGETS 1000000   /* devices one campaign may name */
#define FW_CAMPAIGN_MAX_DEVICE_IDS 10000  /* in an explicit list */
#define FW_CAMPAIGN_MAX_FROM_VERSIONS 16
#define FW_CAMPAIGN_MAX_ACTIVE 100        /* campaigns running or paused, per project */
/* Campaigns a project keeps, ended ones included, until it deletes them: each is held in
 * memory (a few KiB) and has its target rows, so a project may not pile them up. */
#define FW_CAMPAIGN_MAX_KEPT 1000

enum fw_campaign_status {
	FW_CAMPAIGN_RUNNING = 0,
	FW_CAMPAIGN_PAUSED = 1,
	FW_CAMPAIGN_STOPPED = 2,   /* the failure threshold was passed */
	FW_CAMPAIGN_CANCELLED = 3,
	FW_CAMPAIGN_FINISHED = 4,  /* every target ended */
};

const char *fw_campaign_status_name(enum fw_campaign_status s);

/* A campaign's settings, as the API gives them (defaults in fw_campaign_spec_defaults). */
struct fw_campaign_spec {
	char name[STORE_NAME_MAX + 1];
	char package_id[STORE_ID_MAX + 1];
	/* Targets: every device of product_id (non-empty), or the device_ids list. */
	char product_id[STORE_ID_MAX + 1];
	char (*device_ids)[STORE_ID_MAX + 1]; /* borrowed during create */
	unsigned device_id_count;
	char from_versions[FW_CAMPAIGN_MAX_FROM_VERSIONS][STORE_FW_VERSION_MAX + 1];
	unsigned from_version_count;
	enum fw_delivery delivery;          /* default auto */
	uint32_t max_concurrent;            /* 1..100000, default 100 */
	uint32_t rate_per_minute;           /* starts per minute, 1..1000000, default 600 */
	uint32_t retries;                   /* 0..10, default 2 */
	uint32_t retry_backoff_s;           /* first retry's wait, doubling; 1..86400, default 60 */
	uint32_t failure_threshold_percent; /* 1..100, default 20; 100: never stops */
	uint32_t failure_min_devices;       /* ended targets before it applies; default 10 */
	uint32_t download_timeout_s;        /* 10..604800, default 3600 */
	uint32_t update_timeout_s;          /* 10..86400, default 600 */
};

void fw_campaign_spec_defaults(struct fw_campaign_spec *spec);

/* A campaign as the API shows it. */
struct fw_campaign_view {
	char project_id[STORE_ID_MAX + 1];
	char campaign_id[STORE_ID_MAX + 1];
	struct fw_campaign_spec spec;       /* device_ids NULL */
	enum fw_campaign_status status;
	char stop_reason[STORE_FW_REASON_MAX + 1];
	uint32_t targets;
	uint32_t counts[FW_STATE_COUNT];    /* targets by state */
	uint64_t bytes_served;
	int64_t create_time;                /* Unix seconds */
	int64_t start_ms, end_ms;           /* end_ms 0 while it runs */
	double devices_per_minute;          /* ended targets per minute, recent */
	int64_t estimated_end_ms;           /* 0 when unknown */
};

struct fw_campaigns;
struct store;
struct push;
struct api_server;

struct fw_campaigns_deps {
	struct store *store;
	struct fw_engine *engine;
	const char *firmware_dir;  /* where package files are */
	/* Where firmware events go (either may be NULL). */
	struct push *push;
	struct api_server *api;
};

int fw_campaigns_create(struct fw_campaigns **out, uv_loop_t *loop,
			const struct fw_campaigns_deps *deps);
/* The API server, once started (it is given the campaigns first): where "firmware" and
 * "firmware_campaign" events go from now on. */
void fw_campaigns_set_api(struct fw_campaigns *fc, struct api_server *api);
/* Loads every stored campaign; running ones go on. */
int fw_campaigns_load(struct fw_campaigns *fc);
/* Frees every campaign and job without telling the engine: destroy the engine first. */
void fw_campaigns_destroy(struct fw_campaigns *fc);
/* The engine's fw_engine_hooks.changed (the daemon passes the job here). */
void fw_campaigns_job_changed(struct fw_campaigns *fc, struct fw_job *job);

/*
 * Creates and starts a campaign. Returns 0 with id (STORE_ID_MAX + 1 bytes) set; -ENOENT
 * when the package or the product does not exist (*why says which); -EINVAL with *why
 * for a bad setting or target (a device id of another project, none at all); -E2BIG over
 * the limits above; -EBUSY when the project has FW_CAMPAIGN_MAX_ACTIVE campaigns.
 */
int fw_campaigns_start(struct fw_campaigns *fc, const char *project_id,
		       const struct fw_campaign_spec *spec, char *id, const char **why);
int fw_campaigns_get(struct fw_campaigns *fc, const char *project_id, const char *id,
		     struct fw_campaign_view *out);
/* Newest first; fn returns non-zero to stop. */
int fw_campaigns_list(struct fw_campaigns *fc, const char *project_id,
		      int (*fn)(const struct fw_campaign_view *v, void *ctx), void *ctx);
/* -ENOENT, or -EINVAL when the campaign's status does not allow it (resume of a
 * cancelled one...). Cancel ends every running job (their targets: cancelled). */
int fw_campaigns_pause(struct fw_campaigns *fc, const char *project_id, const char *id);
int fw_campaigns_resume(struct fw_campaigns *fc, const char *project_id, const char *id);
int fw_campaigns_cancel(struct fw_campaigns *fc, const char *project_id, const char *id);
/* Deletes a campaign that has ended (-EBUSY while running or paused). */
int fw_campaigns_delete(struct fw_campaigns *fc, const char *project_id, const char *id);
/* The targets of a campaign in seq order after after_seq, those in state when state >= 0,
 * at most limit. */
int fw_campaigns_targets(struct fw_campaigns *fc, const char *project_id, const char *id,
			 int state, int64_t after_seq, unsigned limit,
			 int (*fn)(const struct store_fw_target *t, void *ctx), void *ctx);

/* Once a second: pacing, retries, the failure threshold, progress events. */
void fw_campaigns_tick(struct fw_campaigns *fc, int64_t now_ms);
/* Every loop tick (50 ms): when an update ended since, the campaigns start their next
 * devices now (as the rate and concurrency allow) rather than at the next second, so
 * that a campaign does not run in waves of max_concurrent. Cheap when nothing ended. */
void fw_campaigns_poll(struct fw_campaigns *fc, int64_t now_ms);

#endif
