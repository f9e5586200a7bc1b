/*
 * store_firmware: the registry's firmware rows (docs/firmware.md): packages (their
 * metadata; the bytes are a file named by the SHA-256, see firmware/fw_package.h),
 * campaigns and each campaign's target devices.
 *
 * Conventions as in store.h: 0 or a negative errno; -ENOENT no such row; -EEXIST a unique
 * key taken; -EBUSY still referenced; -EIO the database failed.
 */
#ifndef LWM2MD_STORE_FIRMWARE_H
#define LWM2MD_STORE_FIRMWARE_H

#include <stdint.h>

#include "store/store.h"

#define STORE_FW_VERSION_MAX 64   /* a package's version: 1–64 printable characters */
#define STORE_FW_SHA256_HEX 64    /* lowercase hex */
#define STORE_FW_REASON_MAX 160   /* a target's failure or skip reason */
#define STORE_FW_TOKEN_MAX 32     /* a pull download's path token (hex) */
#define STORE_FW_SPEC_MAX 65536   /* a campaign's settings (JSON text) */

struct store_fw_package {
	char project_id[STORE_ID_MAX + 1];
	char package_id[STORE_ID_MAX + 1];
	char product_id[STORE_ID_MAX + 1];
	char version[STORE_FW_VERSION_MAX + 1];
	char description[STORE_TEXT_MAX + 1];
	char sha256[STORE_FW_SHA256_HEX + 1];
	uint64_t size;
	int64_t create_time;
};

/* -EEXIST when the package id, or the product's version, is taken. */
int store_fw_package_put(struct store *s, const struct store_fw_package *p);
int store_fw_package_get(struct store *s, const char *project_id, const char *package_id,
			 struct store_fw_package *out);
/* Calls fn for each package of the project (of product_id only when not NULL), newest
 * first; fn returns non-zero to stop. */
int store_fw_package_list(struct store *s, const char *project_id, const char *product_id,
			  int (*fn)(const struct store_fw_package *p, void *ctx), void *ctx);
/* -EBUSY while a campaign that has not ended (running or paused) names it. */
int store_fw_package_delete(struct store *s, const char *project_id, const char *package_id);
/* How many packages (of any project) have these bytes: 0 means the file may go. */
int store_fw_sha_refs(struct store *s, const char *sha256, int *count);

/* A campaign's row; status is enum fw_campaign_status (firmware/fw_campaign.h). */
struct store_fw_campaign {
	char project_id[STORE_ID_MAX + 1];
	char campaign_id[STORE_ID_MAX + 1];
	char package_id[STORE_ID_MAX + 1];
	char *spec;         /* JSON text, owned (malloc) when read; NUL-terminated */
	int status;
	char stop_reason[STORE_FW_REASON_MAX + 1];
	int64_t create_time;
	int64_t start_ms, end_ms;
};

/* Inserts or replaces the campaign (spec included). */
int store_fw_campaign_put(struct store *s, const struct store_fw_campaign *c);
/* Only status, stop_reason, start_ms and end_ms. */
int store_fw_campaign_set_status(struct store *s, const struct store_fw_campaign *c);
/* Calls fn for every campaign of every project, oldest first (the daemon's start); the
 * row's spec is freed after fn returns. */
int store_fw_campaign_each(struct store *s,
			   int (*fn)(const struct store_fw_campaign *c, void *ctx), void *ctx);
/* Deletes the campaign and its targets. */
int store_fw_campaign_delete(struct store *s, const char *campaign_id);

/* One device of a campaign; state is enum fw_state (firmware/fw_engine.h). */
struct store_fw_target {
	char campaign_id[STORE_ID_MAX + 1];
	uint32_t seq;       /* its order in the campaign, from 0 */
	char device_id[STORE_ID_MAX + 1];
	char node_id[STORE_NODE_ID_MAX + 1];
	int state;
	char reason[STORE_FW_REASON_MAX + 1];
	int result;         /* the device's /5/0/5 Update Result, 0 when none */
	uint32_t attempts;
	uint64_t bytes;     /* of the package delivered */
	int method;         /* enum fw_delivery it is updated by, 0 until chosen */
	char token[STORE_FW_TOKEN_MAX + 1]; /* its pull path token, "" when none */
	int64_t next_ms;    /* a retry's earliest start, or the running phase's deadline */
	int64_t updated_ms;
};

/* Inserts or replaces the target (campaign_id, seq). */
int store_fw_target_put(struct store *s, const struct store_fw_target *t);
/* Calls fn for each target of the campaign in seq order, from seq after_seq + 1 (-1: the
 * first); fn returns non-zero to stop. */
int store_fw_target_each(struct store *s, const char *campaign_id, int64_t after_seq,
			 int (*fn)(const struct store_fw_target *t, void *ctx), void *ctx);

/* The target states the statements below name (enum fw_state, which asserts them). */
#define STORE_FW_WAITING 0
#define STORE_FW_LAST_RUNNING 4 /* 1..4: starting, downloading, downloaded, updating */
#define STORE_FW_CANCELLED 8
#define STORE_FW_STATES 9

/* One statement (INSERT ... SELECT) adds a waiting target for every device of the
 * product in creation order, seq from 0, at most max of them; *count gets how many. No
 * device row crosses into C: 100 000 devices cost one pass over the product's index. */
int store_fw_targets_add_product(struct store *s, const char *campaign_id,
				 const char *project_id, const char *product_id, uint32_t max,
				 int64_t now_ms, uint32_t *count);
/* As store_fw_target_each, but only targets in state (any when state < 0) and at most
 * limit of them. A state filter walks the campaign's rows in seq order (no index by
 * state): a page costs at most the rows between after_seq and its last match. */
int store_fw_target_list(struct store *s, const char *campaign_id, int state,
			 int64_t after_seq, unsigned limit,
			 int (*fn)(const struct store_fw_target *t, void *ctx), void *ctx);
/* Every target not ended (waiting or running) becomes cancelled, in one UPDATE. */
int store_fw_targets_cancel(struct store *s, const char *campaign_id, int64_t now_ms);

/* A campaign's targets summed up (one GROUP BY over its rows; the daemon's start). */
struct store_fw_target_stats {
	uint32_t counts[STORE_FW_STATES]; /* by state */
	uint64_t bytes;                   /* the sum of every target's bytes */
	int64_t last_started;             /* the largest seq ever started, -1 when none */
};
int store_fw_target_stats(struct store *s, const char *campaign_id,
			  struct store_fw_target_stats *out);
/* Calls fn, in seq order, for the targets that were started and have not ended: those
 * running (starting..updating) and those waiting for a retry (waiting, attempts > 0). */
int store_fw_target_each_active(struct store *s, const char *campaign_id,
				int (*fn)(const struct store_fw_target *t, void *ctx),
				void *ctx);

#endif
