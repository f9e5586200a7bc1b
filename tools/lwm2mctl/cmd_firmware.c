/*
 * firmware: packages (upload, list, get, delete); campaigns: firmware update campaigns
 * (create, list, get, devices, pause, resume, cancel, delete, watch). docs/firmware.md is
 * the API, docs/cli.md the commands.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"

/* The page size campaigns devices asks for: --limit, else the API's largest. */
#define DEVICES_PAGE_MAX 1000
/* campaigns watch: seconds between two looks (--interval; 2 unless given). */
#define WATCH_DEFAULT_S 2
#define WATCH_MAX_S 3600

/* The device states in the order a device goes through them (docs/firmware.md). */
static const char *const states[] = {
	"waiting", "starting",  "downloading", "downloaded", "updating",
	"succeeded", "failed", "skipped",     "cancelled",  NULL,
};

static int fw_upload(struct ctl *c, const struct ctl_args *a)
{
	const char *product = ctl_opt(a, "product"), *version = ctl_opt(a, "version");
	if (!product || !version)
		return ctl_usage_error("firmware upload needs --product and --version");
	const char *file = a->pos[0];
	bool in = strcmp(file, "-") == 0;
	FILE *f = in ? stdin : fopen(file, "rb");
	if (!f) {
		fprintf(stderr, "lwm2mctl: %s: %s\n", file, strerror(errno));
		return CTL_USAGE;
	}
	/* A regular file's size goes in Content-Length; anything else is sent chunked. */
	struct stat st;
	long long size = fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) ? (long long)st.st_size
									   : -1;
	char q[2048] = "", path[2100];
	ctl_query_add(q, sizeof(q), "product_id", product);
	ctl_query_add(q, sizeof(q), "version", version);
	ctl_query_add(q, sizeof(q), "description", ctl_opt(a, "description"));
	snprintf(path, sizeof(path), "/firmware%s", q);
	struct ctl_resp r;
	ctl_call_upload(c, path, f, size, &r);
	if (!in)
		fclose(f);
	return ctl_print_answer(c, &r, false);
}

/* GET route and a table of the array member of its answer (--json: as it came). */
static int list(struct ctl *c, const char *route, const char *member, const char *const *cols)
{
	struct ctl_resp r;
	ctl_call(c, "GET", route, NULL, 60, &r);
	int rc = ctl_check(&r, false);
	if (rc == CTL_OK && c->json) {
		ctl_print_raw(&r);
	} else if (rc == CTL_OK) {
		json_t *j = ctl_parse(&r);
		if (j)
			ctl_table(c, json_object_get(j, member), cols);
		else
			rc = CTL_API_ERROR;
		json_decref(j);
	}
	ctl_resp_free(&r);
	return rc;
}

static int fw_list(struct ctl *c, const struct ctl_args *a)
{
	static const char *const cols[] = {
		"PACKAGE_ID=package_id", "PRODUCT=product_id",   "VERSION=version", "SIZE=size",
		"CREATED=create_time",   "DESCRIPTION=description", NULL,
	};
	char q[1024] = "", route[1100];
	ctl_query_add(q, sizeof(q), "product_id", ctl_opt(a, "product"));
	snprintf(route, sizeof(route), "/firmware%s", q);
	return list(c, route, "packages", cols);
}

/* GET or POST /<collection>/<id><rest>. */
static void call_id(struct ctl *c, const char *method, const char *collection, const char *id,
		    const char *rest, struct ctl_resp *r)
{
	char esc[400], route[2048];
	ctl_escape(id, esc, sizeof(esc));
	snprintf(route, sizeof(route), "/%s/%s%s", collection, esc, rest);
	ctl_call(c, method, route, NULL, 60, r);
}

static int fw_get(struct ctl *c, const struct ctl_args *a)
{
	struct ctl_resp r;
	call_id(c, "GET", "firmware", a->pos[0], "", &r);
	return ctl_print_answer(c, &r, false);
}

static int fw_delete(struct ctl *c, const struct ctl_args *a)
{
	return ctl_delete_each(c, a, "firmware", "package");
}

/* Every value of a repeatable option (each may also be a comma-separated list) appended
 * to arr as strings. Returns how many. */
static size_t opt_list(const struct ctl_args *a, const char *name, json_t *arr)
{
	size_t n = 0;
	for (int i = 0; i < a->nopt; i++) {
		if (strcmp(a->opt_name[i], name) != 0)
			continue;
		for (const char *p = a->opt_value[i]; *p;) {
			size_t len = strcspn(p, ",");
			if (len) {
				json_array_append_new(arr, json_stringn(p, len));
				n++;
			}
			p += len + (p[len] == ',');
		}
	}
	return n;
}

/* The campaign's numeric settings: option and field. Their bounds are the daemon's, which
 * names the one passed (docs/firmware.md); here a value need only be a whole number. */
static const struct {
	const char *opt, *field;
} int_settings[] = {
	{ "max-concurrent", "max_concurrent" },
	{ "rate", "rate_per_minute" },
	{ "retries", "retries" },
	{ "retry-backoff", "retry_backoff_s" },
	{ "failure-threshold", "failure_threshold_percent" },
	{ "failure-min", "failure_min_devices" },
	{ "download-timeout", "download_timeout_s" },
	{ "update-timeout", "update_timeout_s" },
};
#define SETTING_MAX 4294967295L /* the API's settings are unsigned 32-bit */

/* The create request's body from the command line; NULL (having said why) on a usage
 * error. */
static json_t *campaign_body(const struct ctl_args *a)
{
	const char *pkg = ctl_opt(a, "package"), *product = ctl_opt(a, "product");
	const char *delivery = ctl_opt(a, "delivery");
	bool devices = ctl_opt(a, "device") != NULL;
	if (!pkg || (!product && !devices) || (product && devices)) {
		ctl_usage_error("campaigns create needs --package and either --product or --device");
		return NULL;
	}
	if (devices && ctl_opt(a, "from-version")) {
		ctl_usage_error("--from-version goes with --product, not --device");
		return NULL;
	}
	if (delivery && strcmp(delivery, "auto") != 0 && strcmp(delivery, "pull") != 0 &&
	    strcmp(delivery, "push") != 0) {
		ctl_usage_error("--delivery must be auto, pull or push");
		return NULL;
	}
	json_t *body = json_pack("{s:s}", "package_id", pkg);
	json_t *targets = json_object();
	if (product) {
		json_object_set_new(targets, "product_id", json_string(product));
		json_t *from = json_array();
		if (opt_list(a, "from-version", from))
			json_object_set(targets, "from_versions", from);
		json_decref(from);
	} else {
		json_t *ids = json_array();
		opt_list(a, "device", ids);
		json_object_set_new(targets, "device_ids", ids);
	}
	json_object_set_new(body, "targets", targets);
	if (ctl_opt(a, "name"))
		json_object_set_new(body, "name", json_string(ctl_opt(a, "name")));
	if (delivery)
		json_object_set_new(body, "delivery", json_string(delivery));
	for (size_t i = 0; i < sizeof(int_settings) / sizeof(int_settings[0]); i++) {
		long v;
		if (!ctl_opt_int(a, int_settings[i].opt, 0, SETTING_MAX, 0, &v)) {
			json_decref(body);
			return NULL;
		}
		if (ctl_opt(a, int_settings[i].opt))
			json_object_set_new(body, int_settings[i].field, json_integer(v));
	}
	return body;
}

/* "waiting 3, downloading 1, succeeded 6": the states that have devices, in order. */
static void counts_text(const json_t *campaign, char *out, size_t cap)
{
	const json_t *counts = json_object_get(campaign, "counts");
	size_t n = 0;
	out[0] = '\0';
	for (int i = 0; states[i] && n < cap; i++) {
		json_int_t v = json_integer_value(json_object_get(counts, states[i]));
		if (v)
			n += (size_t)snprintf(out + n, cap - n, "%s%s %lld", n ? ", " : "", states[i],
					      (long long)v);
	}
	if (!out[0])
		snprintf(out, cap, "none");
}

static void copy_field(json_t *to, const json_t *from, const char *key, const char *as)
{
	json_t *v = json_object_get(from, key);
	json_object_set(to, as ? as : key, v ? v : json_null());
}

/* A campaign for people: what it is, where it stands, when it ends. */
static void print_campaign(struct ctl *c, const json_t *j)
{
	char counts[512];
	counts_text(j, counts, sizeof(counts));
	json_t *o = json_object();
	copy_field(o, j, "campaign_id", NULL);
	copy_field(o, j, "name", NULL);
	copy_field(o, j, "package_id", NULL);
	copy_field(o, j, "status", NULL);
	const char *reason = json_string_value(json_object_get(j, "stop_reason"));
	if (reason && *reason)
		copy_field(o, j, "stop_reason", NULL);
	copy_field(o, j, "targets", NULL);
	json_object_set_new(o, "counts", json_string(counts));
	copy_field(o, j, "bytes_served", NULL);
	copy_field(o, j, "devices_per_minute", "devices/min");
	copy_field(o, j, "estimated_end_time", "estimated_end");
	copy_field(o, j, "create_time", NULL);
	copy_field(o, j, "start_time", NULL);
	copy_field(o, j, "end_time", NULL);
	ctl_print_object(c, o);
	json_decref(o);
}

/* A campaign answer: --json as it is, else the summary. Frees r. */
static int campaign_answer(struct ctl *c, struct ctl_resp *r)
{
	int rc = ctl_check(r, false);
	if (rc == CTL_OK && c->json) {
		ctl_print_raw(r);
	} else if (rc == CTL_OK) {
		json_t *j = ctl_parse(r);
		if (j)
			print_campaign(c, j);
		else
			rc = CTL_API_ERROR;
		json_decref(j);
	}
	ctl_resp_free(r);
	return rc;
}

static int campaigns_create(struct ctl *c, const struct ctl_args *a)
{
	json_t *body = campaign_body(a);
	if (!body)
		return CTL_USAGE;
	char *text = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	struct ctl_resp r;
	ctl_call(c, "POST", "/firmware-campaigns", text, 60, &r);
	free(text);
	return campaign_answer(c, &r);
}

static int campaigns_list(struct ctl *c, const struct ctl_args *a)
{
	(void)a;
	static const char *const cols[] = {
		"CAMPAIGN_ID=campaign_id", "NAME=name",
		"PACKAGE=package_id",      "STATUS=status",
		"TARGETS=targets",         "SUCCEEDED=counts.succeeded",
		"FAILED=counts.failed",    "CREATED=create_time",
		NULL,
	};
	return list(c, "/firmware-campaigns", "campaigns", cols);
}

static int campaigns_get(struct ctl *c, const struct ctl_args *a)
{
	struct ctl_resp r;
	call_id(c, "GET", "firmware-campaigns", a->pos[0], "", &r);
	return campaign_answer(c, &r);
}

/* One page of the campaign's devices after marker (NULL: the first) appended to all; the
 * next marker (malloc'd) in *next, NULL after the last page. Returns the exit code. */
static int devices_page(struct ctl *c, const char *id, const char *state, long limit,
			const char *marker, json_t *all, char **next)
{
	char q[1024] = "", lim[24], rest[1100];
	snprintf(lim, sizeof(lim), "%ld", limit);
	ctl_query_add(q, sizeof(q), "state", state);
	ctl_query_add(q, sizeof(q), "limit", lim);
	ctl_query_add(q, sizeof(q), "marker", marker);
	snprintf(rest, sizeof(rest), "/devices%s", q);
	struct ctl_resp r;
	call_id(c, "GET", "firmware-campaigns", id, rest, &r);
	*next = NULL;
	int rc = ctl_check(&r, false);
	json_t *j = rc == CTL_OK ? ctl_parse(&r) : NULL;
	if (rc == CTL_OK && !j)
		rc = CTL_API_ERROR;
	if (j) {
		json_array_extend(all, json_object_get(j, "devices"));
		/* The marker is a seq: a number (a string is taken as well). */
		const json_t *m = json_object_get(j, "marker");
		char buf[32];
		if (json_is_integer(m)) {
			snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(m));
			*next = strdup(buf);
		} else if (json_is_string(m)) {
			*next = strdup(json_string_value(m));
		}
	}
	json_decref(j);
	ctl_resp_free(&r);
	return rc;
}

/* Every page, following the marker: the whole list is gathered before it is printed (one
 * table, or one JSON document of the API's shape with marker null), so memory grows with
 * the campaign (about 1 KiB a device). --limit is the size of each page asked for. */
static int campaigns_devices(struct ctl *c, const struct ctl_args *a)
{
	static const char *const cols[] = {
		"DEVICE_ID=device_id", "NODE_ID=node_id",   "STATE=state",
		"METHOD=method",       "BYTES=bytes",       "ATTEMPTS=attempts",
		"UPDATED=update_time", "REASON=reason",     NULL,
	};
	long limit;
	if (!ctl_opt_int(a, "limit", 1, DEVICES_PAGE_MAX, DEVICES_PAGE_MAX, &limit))
		return CTL_USAGE;
	json_t *all = json_array();
	char *marker = NULL;
	int rc;
	do {
		char *next;
		rc = devices_page(c, a->pos[0], ctl_opt(a, "state"), limit, marker, all, &next);
		free(marker);
		marker = next;
	} while (rc == CTL_OK && marker);
	free(marker);
	if (rc == CTL_OK && c->json) {
		json_t *doc = json_pack("{s:O, s:I, s:n}", "devices", all, "count",
					(json_int_t)json_array_size(all), "marker");
		char *text = json_dumps(doc, JSON_COMPACT);
		puts(text ? text : "{}");
		free(text);
		json_decref(doc);
	} else if (rc == CTL_OK) {
		ctl_table(c, all, cols);
	}
	json_decref(all);
	return rc;
}

/* POST …/{id}/<action>; "campaign ID <done>" for people. */
static int campaign_action(struct ctl *c, const struct ctl_args *a, const char *action,
			   const char *done)
{
	char rest[64];
	snprintf(rest, sizeof(rest), "/%s", action);
	struct ctl_resp r;
	call_id(c, "POST", "firmware-campaigns", a->pos[0], rest, &r);
	int rc = ctl_check(&r, false);
	if (rc == CTL_OK && c->json)
		ctl_print_raw(&r);
	else if (rc == CTL_OK)
		printf("campaign %s %s\n", a->pos[0], done);
	ctl_resp_free(&r);
	return rc;
}

static int campaigns_pause(struct ctl *c, const struct ctl_args *a)
{
	return campaign_action(c, a, "pause", "paused");
}

static int campaigns_resume(struct ctl *c, const struct ctl_args *a)
{
	return campaign_action(c, a, "resume", "resumed");
}

static int campaigns_cancel(struct ctl *c, const struct ctl_args *a)
{
	return campaign_action(c, a, "cancel", "cancelled");
}

static int campaigns_delete(struct ctl *c, const struct ctl_args *a)
{
	return ctl_delete_each(c, a, "firmware-campaigns", "campaign");
}

static long long count_of(const json_t *j, const char *state)
{
	return (long long)json_integer_value(ctl_field(j, state));
}

/* One progress line: the time, the status, how many ended how, how many are under way,
 * the rate and the estimated end. */
static void watch_line(const json_t *j)
{
	char now[16];
	time_t t = time(NULL);
	struct tm tm;
	strftime(now, sizeof(now), "%H:%M:%S", localtime_r(&t, &tm));
	const char *status = json_string_value(json_object_get(j, "status"));
	const char *eta = json_string_value(json_object_get(j, "estimated_end_time"));
	long long ok = count_of(j, "counts.succeeded"), failed = count_of(j, "counts.failed");
	long long skipped = count_of(j, "counts.skipped");
	long long cancelled = count_of(j, "counts.cancelled");
	long long active = count_of(j, "counts.starting") + count_of(j, "counts.downloading") +
			   count_of(j, "counts.downloaded") + count_of(j, "counts.updating");
	printf("%s  %-9s  %lld/%lld ended: %lld succeeded, %lld failed, %lld skipped, "
	       "%lld cancelled; %lld updating, %lld waiting; %.1f/min, end %s\n",
	       now, status ? status : "?", ok + failed + skipped + cancelled,
	       count_of(j, "targets"), ok, failed, skipped, cancelled, active,
	       count_of(j, "counts.waiting"),
	       json_number_value(json_object_get(j, "devices_per_minute")), eta ? eta : "-");
	fflush(stdout);
}

/* A progress line every --interval seconds (--json: the campaign, one document a line)
 * until the campaign ends: exit 0 when it finished with no failed device, 1 when it
 * finished with failures, stopped or was cancelled (or on an API error). */
static int campaigns_watch(struct ctl *c, const struct ctl_args *a)
{
	long interval;
	if (!ctl_opt_int(a, "interval", 1, WATCH_MAX_S, WATCH_DEFAULT_S, &interval))
		return CTL_USAGE;
	for (;;) {
		struct ctl_resp r;
		call_id(c, "GET", "firmware-campaigns", a->pos[0], "", &r);
		int rc = ctl_check(&r, false);
		json_t *j = rc == CTL_OK ? ctl_parse(&r) : NULL;
		if (rc == CTL_OK && !j)
			rc = CTL_API_ERROR;
		if (j && c->json) {
			char *text = json_dumps(j, JSON_COMPACT);
			puts(text ? text : "{}");
			free(text);
			fflush(stdout);
		} else if (j) {
			watch_line(j);
		}
		ctl_resp_free(&r);
		const char *status = j ? json_string_value(json_object_get(j, "status")) : NULL;
		bool ended = status && (strcmp(status, "finished") == 0 ||
					strcmp(status, "stopped") == 0 ||
					strcmp(status, "cancelled") == 0);
		bool clean = ended && strcmp(status, "finished") == 0 &&
			     count_of(j, "counts.failed") == 0;
		if (ended && !c->json) {
			const char *reason = json_string_value(json_object_get(j, "stop_reason"));
			fprintf(stderr, "campaign %s %s%s%s\n", a->pos[0], status,
				reason && *reason ? ": " : "", reason && *reason ? reason : "");
		}
		json_decref(j);
		if (rc != CTL_OK)
			return rc;
		if (ended)
			return clean ? CTL_OK : CTL_API_ERROR;
		sleep((unsigned)interval);
	}
}

#define CREATE_OPTS                                                                        \
	"package=,product=,from-version=,device=,delivery=,max-concurrent=,rate=,retries=,"  \
	"retry-backoff=,failure-threshold=,failure-min=,download-timeout=,update-timeout=,"  \
	"name="

const struct ctl_command ctl_firmware_commands[] = {
	{ "firmware", "upload", fw_upload, 1, 1, "product=,version=,description=",
	  "--product P --version V [--description TEXT] FILE",
	  "upload a firmware package (FILE \"-\": stdin), streamed", false },
	{ "firmware", "list", fw_list, 0, 0, "product=", "[--product P]",
	  "list the firmware packages", false },
	{ "firmware", "get", fw_get, 1, 1, "", "PACKAGE_ID", "show a firmware package", false },
	{ "firmware", "delete", fw_delete, 1, CTL_MAX_ARGS, "", "PACKAGE_ID...",
	  "delete firmware packages", false },
	{ "campaigns", "create", campaigns_create, 0, 0, CREATE_OPTS,
	  "--package ID (--product P [--from-version V]... | --device ID...) "
	  "[--delivery auto|pull|push] [--max-concurrent N] [--rate N] [--retries N] "
	  "[--retry-backoff S] [--failure-threshold PCT] [--failure-min N] "
	  "[--download-timeout S] [--update-timeout S] [--name NAME]",
	  "start a firmware update campaign", false },
	{ "campaigns", "list", campaigns_list, 0, 0, "", "", "list the firmware campaigns", false },
	{ "campaigns", "get", campaigns_get, 1, 1, "", "CAMPAIGN_ID",
	  "show a campaign's status and progress", false },
	{ "campaigns", "devices", campaigns_devices, 1, 1, "state=,limit=",
	  "CAMPAIGN_ID [--state S] [--limit N]",
	  "list a campaign's devices (every page)", false },
	{ "campaigns", "pause", campaigns_pause, 1, 1, "", "CAMPAIGN_ID",
	  "pause a campaign (devices updating finish)", false },
	{ "campaigns", "resume", campaigns_resume, 1, 1, "", "CAMPAIGN_ID",
	  "resume a paused campaign", false },
	{ "campaigns", "cancel", campaigns_cancel, 1, 1, "", "CAMPAIGN_ID",
	  "cancel a campaign", false },
	{ "campaigns", "delete", campaigns_delete, 1, CTL_MAX_ARGS, "", "CAMPAIGN_ID...",
	  "delete ended campaigns", false },
	{ "campaigns", "watch", campaigns_watch, 1, 1, "interval=", "CAMPAIGN_ID [--interval S]",
	  "follow a campaign until it ends (exit 0: finished, no failures)", false },
	{ NULL, NULL, NULL, 0, 0, NULL, NULL, NULL, false },
};
