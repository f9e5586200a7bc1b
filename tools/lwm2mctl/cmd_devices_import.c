/*
 * devices import FILE: bulk device registration from a file (docs/cli.md), through
 * POST /v5/iot/{project}/devices/batch (docs/api.md "Create devices in bulk").
 *
 * FILE ("-": stdin) is read line by line, never whole: each line is either a JSON object,
 * the body a single create takes, or CSV "node_id,product_id[,secret]" (a first line
 * starting "node_id," is a header). Blank lines and lines starting with '#' are skipped.
 * Lines are sent --batch (1000, the API's maximum) at a time. Each created device is
 * printed with its secret when the daemon generated it — the only time it is shown —
 * each failure as "line N: …" on stderr, and the totals last. A line that cannot be read
 * is a failure of its own and is not sent; a batch the API refuses as a whole stops the
 * import.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

/* The API's maximum devices per request (API_BATCH_DEVICES_MAX). */
#define IMPORT_BATCH_MAX 1000
/* A line longer than this is refused (a device's JSON with every field at its longest is
 * about 2 KB). */
#define IMPORT_LINE_MAX 8192

struct import {
	struct ctl *c;
	json_t *items;		      /* the batch being gathered */
	long lines[IMPORT_BATCH_MAX]; /* the file's line of each item */
	size_t batch;		      /* --batch */
	unsigned long created, failed;
};

static void trim(char *s)
{
	size_t n = strlen(s);
	while (n && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
}

/* A CSV line as a device body: "node_id,product_id[,secret]", fields trimmed of spaces.
 * NULL with why when it is not one. */
static json_t *csv_device(char *line, const char **why)
{
	char *field[4];
	int n = 0;
	for (char *p = line; n < 4;) {
		while (*p == ' ' || *p == '\t')
			p++;
		field[n++] = p;
		char *comma = strchr(p, ',');
		if (!comma)
			break;
		*comma = '\0';
		p = comma + 1;
	}
	for (int i = 0; i < n; i++)
		trim(field[i]);
	if (n < 2 || n > 3 || !field[0][0] || !field[1][0]) {
		*why = "expected node_id,product_id[,secret] or a JSON object";
		return NULL;
	}
	json_t *d = json_pack("{s:s, s:s}", "node_id", field[0], "product_id", field[1]);
	if (d && n == 3 && field[2][0])
		json_object_set_new(d, "auth_info", json_pack("{s:s}", "secret", field[2]));
	if (!d)
		*why = "out of memory";
	return d;
}

/* Prints one batch's results; returns the exit code of the request. */
static int print_results(struct import *im, struct ctl_resp *r)
{
	json_t *j = ctl_parse(r);
	if (!j)
		return CTL_API_ERROR;
	if (im->c->json)
		ctl_print_raw(r);
	size_t i;
	const json_t *it;
	json_array_foreach(json_object_get(j, "devices"), i, it)
	{
		json_int_t idx = json_integer_value(json_object_get(it, "index"));
		long line =
		    idx >= 0 && (size_t)idx < json_array_size(im->items) ? im->lines[idx] : 0;
		const char *id = json_string_value(json_object_get(it, "device_id"));
		if (id) {
			im->created++;
			const char *secret = json_string_value(json_object_get(it, "secret"));
			if (!im->c->json)
				printf("created %s%s%s\n", id, secret ? " secret " : "",
				       secret ? secret : "");
			continue;
		}
		im->failed++;
		const json_t *node =
		    json_object_get(json_array_get(im->items, (size_t)idx), "node_id");
		fprintf(stderr, "line %ld: %s: %s\n", line,
			json_is_string(node) ? json_string_value(node) : "-",
			json_string_value(json_object_get(it, "error_msg")));
	}
	json_decref(j);
	return CTL_OK;
}

/* Sends the gathered items, if any. Returns the exit code. */
static int flush(struct import *im)
{
	if (json_array_size(im->items) == 0)
		return CTL_OK;
	json_t *body = json_pack("{s:O}", "devices", im->items);
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	json_decref(body);
	if (!text) {
		fprintf(stderr, "lwm2mctl: out of memory\n");
		return CTL_API_ERROR;
	}
	struct ctl_resp r;
	ctl_call(im->c, "POST", "/devices/batch", text, 120, &r);
	free(text);
	int rc = ctl_check(&r, false);
	if (rc == CTL_OK)
		rc = print_results(im, &r);
	ctl_resp_free(&r);
	json_array_clear(im->items);
	return rc;
}

/* Reads one line into an item (or a failure). Returns the exit code of a flush it made. */
static int take_line(struct import *im, char *line, long no)
{
	const char *why = NULL;
	json_t *d;
	trim(line);
	const char *p = line + strspn(line, " \t");
	if (!*p || *p == '#' || (no == 1 && strncmp(p, "node_id,", 8) == 0))
		return CTL_OK;
	if (*p == '{') {
		json_error_t err;
		d = json_loads(p, JSON_REJECT_DUPLICATES, &err);
		if (!d || !json_is_object(d)) {
			json_decref(d);
			d = NULL;
			why = "not a JSON object";
		}
	} else {
		d = csv_device(line, &why);
	}
	if (!d) {
		im->failed++;
		fprintf(stderr, "line %ld: %s\n", no, why);
		return CTL_OK;
	}
	im->lines[json_array_size(im->items)] = no;
	json_array_append_new(im->items, d);
	return json_array_size(im->items) >= im->batch ? flush(im) : CTL_OK;
}

int ctl_devices_import(struct ctl *c, const struct ctl_args *a)
{
	long batch;
	if (!ctl_opt_int(a, "batch", 1, IMPORT_BATCH_MAX, IMPORT_BATCH_MAX, &batch))
		return CTL_USAGE;
	const char *path = a->pos[0];
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	if (!f) {
		fprintf(stderr, "lwm2mctl: %s: %s\n", path, strerror(errno));
		return CTL_USAGE;
	}
	struct import im = {.c = c, .items = json_array(), .batch = (size_t)batch};
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	long no = 0;
	int rc = im.items ? CTL_OK : CTL_API_ERROR;
	while (rc == CTL_OK && (len = getline(&line, &cap, f)) >= 0) {
		no++;
		if (len > IMPORT_LINE_MAX) {
			im.failed++;
			fprintf(stderr, "line %ld: longer than %d bytes\n", no, IMPORT_LINE_MAX);
			continue;
		}
		rc = take_line(&im, line, no);
	}
	if (rc == CTL_OK && ferror(f)) {
		fprintf(stderr, "lwm2mctl: %s: %s\n", path, strerror(errno));
		rc = CTL_USAGE;
	}
	if (rc == CTL_OK)
		rc = flush(&im);
	free(line);
	if (f != stdin)
		fclose(f);
	json_decref(im.items);
	/* The totals go to stderr with --json, whose stdout is the API's answers alone. */
	fprintf(c->json ? stderr : stdout, "imported %lu devices, %lu failed\n", im.created,
		im.failed);
	if (rc == CTL_OK && im.failed)
		rc = CTL_API_ERROR;
	return rc;
}
