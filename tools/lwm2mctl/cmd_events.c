/*
 * events: follows the project's event stream (docs/api.md, "Events") until Ctrl-C, the
 * daemon stops, or --count events came. People get one line an event; --json gets each
 * event's JSON on a line of its own (NDJSON), as the daemon sent it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl.h"

struct follow {
	struct ctl *c;
	long count; /* events still wanted; < 0: no end */
};

/* The event's most telling fields, "name=value" one after another. */
static void summary(const json_t *e, char *out, size_t cap)
{
	static const char *const keys[] = {
		"registration_id", "reason", "path", "code", "service_id", "command_id",
		"status",          "stage",  "error", "count", "transport", "peer_address", NULL,
	};
	size_t n = 0;
	out[0] = '\0';
	for (size_t i = 0; keys[i] && n + 1 < cap; i++) {
		json_t *v = json_object_get(e, keys[i]);
		if (!v)
			continue;
		char *text = ctl_cell(v);
		n += (size_t)snprintf(out + n, cap - n, "%s%s=%s", n ? " " : "", keys[i], text);
		free(text);
	}
	json_t *values = json_object_get(e, "values");
	if (!values)
		values = json_object_get(e, "services");
	if (values && n + 1 < cap) {
		char *text = json_dumps(values, JSON_COMPACT);
		if (text)
			snprintf(out + n, cap - n, "%s%s", n ? " " : "", text);
		free(text);
	}
}

static bool on_event(void *ctx, const char *event, const char *data)
{
	struct follow *f = ctx;
	if (f->c->json) {
		printf("%s\n", data);
	} else {
		json_t *e = json_loads(data, 0, NULL);
		char when[32], what[1024];
		/* When it happened, or (an event without time_ms) when it arrived. */
		json_t *ms = json_object_get(e, "time_ms");
		time_t t = json_is_integer(ms) ? (time_t)(json_integer_value(ms) / 1000) : time(NULL);
		struct tm tm;
		gmtime_r(&t, &tm);
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
		summary(e, what, sizeof(what));
		const char *dev = json_string_value(json_object_get(e, "device_id"));
		const char *col = f->c->color ? "\033[1m" : "", *end = f->c->color ? "\033[0m" : "";
		printf("%s  %s%-16s%s %s  %s\n", when, col, event, end, dev ? dev : "-", what);
		json_decref(e);
	}
	fflush(stdout);
	if (f->count > 0 && --f->count == 0)
		return false;
	return true;
}

static int events(struct ctl *c, const struct ctl_args *a)
{
	long count;
	if (!ctl_opt_int(a, "count", 1, 2147483647, -1, &count))
		return CTL_USAGE;
	char q[1024] = "", path[1100];
	ctl_query_add(q, sizeof(q), "device_id", ctl_opt(a, "device"));
	ctl_query_add(q, sizeof(q), "types", ctl_opt(a, "types"));
	snprintf(path, sizeof(path), "/events%s", q);
	struct follow f = { c, count };
	return ctl_stream(c, path, on_event, &f);
}

const struct ctl_command ctl_events_commands[] = {
	{ "events", NULL, events, 0, 0, "device=,types=,count=",
	  "[--device D] [--types T,T...] [--count N]",
	  "follow the project's events until Ctrl-C (or N of them)", false },
	{ NULL, NULL, NULL, 0, 0, NULL, NULL, NULL, false },
};
