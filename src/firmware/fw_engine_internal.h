/*
 * fw_engine_internal: what fw_engine.c (jobs, requests, the daemon's events) and
 * fw_engine_steps.c (what each answer means) share. Not for other modules.
 */
#ifndef LWM2MD_FW_ENGINE_INTERNAL_H
#define LWM2MD_FW_ENGINE_INTERNAL_H

#include <stdarg.h>

#include "firmware/fw_engine.h"
#include "lwm2m/lwm2m_dm.h"

/* Where a job is within its state: the request in flight, or waiting. */
enum fw_step {
	STEP_WAIT = 0,        /* for a notification, a registration or the deadline */
	STEP_READ_VERSION,    /* Read /3/0/3: current already? targeted? */
	STEP_READ_OBJECT,     /* Read /5/0: protocols, delivery method, state */
	STEP_OBSERVE_STATE,   /* Observe /5/0/3 */
	STEP_OBSERVE_RESULT,  /* Observe /5/0/5 */
	STEP_RESET,           /* Write /5/0/1 "": back to Idle before a fresh download */
	STEP_DELIVER,         /* Write /5/0/1 the URI (pull) or /5/0/0 the package (push) */
	STEP_READ_STATE,      /* Read /5/0/3 (after a push, after a resync) */
	STEP_EXECUTE,         /* Execute /5/0/2 Update */
	STEP_CHECK_VERSION,   /* Read /3/0/3 after the update */
};

struct fw_engine {
	uv_loop_t *loop;
	struct lwm2m_server *lwm2m;
	struct lwm2m_requests *requests;
	struct lwm2m_observations *obs;
	struct fw_engine_config cfg;
	struct fw_engine_hooks hooks;
	void *ctx;
	struct hmap by_node;  /* jobs followed, by node_id */
	struct hmap by_token; /* pull jobs, by download token */
	int64_t (*now_ms)(void);
	struct fw_engine_stats stats;
};

int64_t fw_engine_now(const struct fw_engine *e);

/* fw_engine.c */
void fw_engine_issue(struct fw_engine *e, struct fw_job *job, enum fw_step step, int64_t now);
/* Ends the job in state with a reason (printf-style); the campaign may free it inside. */
void fw_engine_finish(struct fw_engine *e, struct fw_job *job, enum fw_state state,
		      bool transient, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
void fw_engine_timed_out(struct fw_engine *e, struct fw_job *job);
/* The device's /5/0/3 is state (its /5/0/5 is in row.result). */
void fw_engine_device_state(struct fw_engine *e, struct fw_job *job, int state, int64_t now);
void fw_engine_updating(struct fw_engine *e, struct fw_job *job, int64_t now);
/* Sets row.method (and a token for a pull): 0, or -1 with why. */
int fw_engine_pick_method(struct fw_engine *e, struct fw_job *job, char *why, size_t cap);

/* fw_engine_steps.c */
void fw_engine_step_answered(struct fw_engine *e, struct fw_job *job,
			     const struct lwm2m_dm_result *res, int64_t now);
void fw_engine_fail_result(struct fw_engine *e, struct fw_job *job, int result);
/* "/5/0/3" and the like, for messages. */
const char *fw_step_path(enum fw_step step);
/* The integer (or string) at path in a payload of format. 0 or -1. */
int fw_engine_decode_int(int format, const struct lwm2m_path *path, const uint8_t *payload,
			 size_t len, int64_t *out);
int fw_engine_decode_string(int format, const struct lwm2m_path *path, const uint8_t *payload,
			    size_t len, char *out, size_t cap);

#endif
