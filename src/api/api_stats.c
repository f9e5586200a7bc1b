/*
 * api_stats: GET /v5/iot/{project_id}/statistics (docs/api.md "Statistics"), the
 * console's overview of a project: its devices by status, how many of its queue-mode
 * devices sleep, and what happened since the daemon started — counters a client turns
 * into rates by taking two samples (time_ms says when each was taken).
 *
 * Every number is kept as things happen (device_counts by triggers in the store,
 * project_stats and push in memory), so this costs the same at a million devices as at
 * ten: a few rows of device_counts per product and 258 census slots at most.
 */
#include "api/api_internal.h"

#include <time.h>

#include "iot/project_stats.h"
#include "iot/push.h"
#include "store/store_search.h"

int64_t api_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static json_t *commands_json(const struct project_counters *pc)
{
	return json_pack("{s:I, s:I, s:I, s:I, s:I}", "created", (json_int_t)pc->commands_created,
			 "successful", (json_int_t)pc->commands_successful, "failed",
			 (json_int_t)pc->commands_failed, "timeout", (json_int_t)pc->commands_timeout,
			 "expired", (json_int_t)pc->commands_expired);
}

static json_t *push_json(const struct push_counts *pc)
{
	return json_pack("{s:I, s:I, s:I, s:I}", "delivered", (json_int_t)pc->delivered, "failed",
			 (json_int_t)pc->failed, "dropped", (json_int_t)pc->dropped, "backlog",
			 (json_int_t)pc->backlog);
}

void api_statistics(struct api_call *c)
{
	struct api_deps *deps = &c->api->deps;
	struct store_device_counts devices;
	int rc = store_device_counts(deps->store, c->project_id, NULL, &devices);
	if (rc) {
		api_reply_store_error(c, rc, "devices");
		return;
	}
	int64_t now = api_now_ms();
	const struct project_stats *ps = project_stats_find(deps->stats, c->project_id);
	struct project_counters pc;
	struct project_queue_census census;
	struct push_counts push;
	project_stats_read(ps, &pc);
	project_stats_queue_count(ps, now, &census);
	push_project_counts(deps->push, c->project_id, &push);
	char since[API_TIME_MAX];
	api_format_time((deps->started_ms ? deps->started_ms : now) / 1000, since);
	api_reply(c, 200,
		  json_pack("{s:{s:I, s:I, s:I, s:I, s:I},"
			    " s:{s:I, s:I, s:I, s:I, s:o, s:o}, s:s, s:I}",
			    "devices", "total", (json_int_t)devices.total, "online",
			    (json_int_t)devices.online, "offline", (json_int_t)devices.offline,
			    "inactive", (json_int_t)devices.inactive, "asleep",
			    (json_int_t)census.asleep, "counters", "registrations",
			    (json_int_t)pc.registrations, "updates", (json_int_t)pc.updates,
			    "deregistrations", (json_int_t)pc.deregistrations, "reports",
			    (json_int_t)pc.reports, "commands", commands_json(&pc), "push",
			    push_json(&push), "since", since, "time_ms", (json_int_t)now));
}
