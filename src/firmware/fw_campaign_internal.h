/*
 * fw_campaign_internal: what fw_campaign.c (pacing, jobs, status) and
 * fw_campaign_start.c (creating and loading campaigns) share.
 */
#ifndef LWM2MD_FW_CAMPAIGN_INTERNAL_H
#define LWM2MD_FW_CAMPAIGN_INTERNAL_H

#include "firmware/fw_campaign.h"
#include "firmware/fw_pace.h"

#include "api/api.h"
#include "iot/iot_platform.h"
#include "iot/push.h"

/* Rows the cursor reads at a time. */
#define FW_CURSOR_BATCH 64

/* A job of the campaign: running in the engine, or waiting for a retry. */
struct cjob {
	struct fw_job job;
	struct fw_campaign *c;
	struct cjob *prev, *next; /* in c->jobs (running) or c->retries (not) */
	int stored_state;         /* the row's state as last stored (the counts') */
	uint64_t stored_bytes;    /* the row's bytes as last counted in bytes_served */
	bool running;             /* in the engine */
};

struct fw_campaign {
	struct fw_campaigns *fc;
	struct fw_campaign *prev, *next; /* in fc's list, oldest first */
	char project_id[STORE_ID_MAX + 1];
	char campaign_id[STORE_ID_MAX + 1];
	char product_id[STORE_ID_MAX + 1]; /* the package's */
	struct fw_campaign_spec spec;      /* device_ids NULL */
	enum fw_campaign_status status;
	char stop_reason[STORE_FW_REASON_MAX + 1];
	int64_t create_time;
	int64_t start_ms, end_ms;
	uint32_t targets;
	uint32_t counts[FW_STATE_COUNT];
	uint64_t bytes_served;
	struct fw_target_package pkg;      /* pkg.from_versions: spec.from_versions */
	struct cjob *jobs;                 /* running in the engine, newest first */
	/* Waiting for a retry, by next_ms (then by when they failed): the one due first is
	 * the head, whatever their number. */
	struct cjob *retries, *retries_tail;
	unsigned running;                  /* jobs in the engine */
	/* The cursor: the largest seq taken, and a batch of rows read after it. */
	int64_t cursor;
	bool cursor_done;
	struct store_fw_target *batch;     /* FW_CURSOR_BATCH rows, or NULL */
	unsigned batch_len, batch_pos;
	struct fw_bucket bucket;
	struct fw_rate rate;
};

struct fw_campaigns {
	uv_loop_t *loop;
	struct fw_campaigns_deps deps;
	char *firmware_dir;
	struct fw_campaign *head, *tail;
	int64_t now_ms;   /* the last tick's */
	bool loading;     /* fw_campaigns_load resumes jobs: nothing else is freed */
	bool ended_since_pace; /* a job ended: fw_campaigns_poll starts the next ones */
	char why[512]; /* a refusal's message (*why points here) */
};

struct fw_campaign *fw_campaign_find(struct fw_campaigns *fc, const char *project_id,
				     const char *id);
void fw_campaign_link(struct fw_campaigns *fc, struct fw_campaign *c);
bool fw_campaign_ended(const struct fw_campaign *c);
void fw_campaign_view(const struct fw_campaign *c, int64_t now_ms, struct fw_campaign_view *v);
void fw_campaign_set_status(struct fw_campaign *c, enum fw_campaign_status status,
			    const char *reason);
/* Publishes the campaign (a "firmware_campaign" event, a push). */
void fw_campaign_publish(struct fw_campaign *c);
/* An ended campaign lets go of its retries, its cursor and (once no job runs) its
 * package file. */
void fw_campaign_release_ended(struct fw_campaign *c);
/* A job for a target row (running false), linked into c->retries until it starts. */
struct cjob *fw_campaign_job_new(struct fw_campaign *c, const struct store_fw_target *row);
/* The job is running in the engine now (out of the retries, counted in c->running). */
void fw_campaign_job_running(struct fw_campaign *c, struct cjob *cj);

#endif
