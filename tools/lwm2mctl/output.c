/*
 * output: what lwm2mctl prints. For people, aligned tables and "key  value" listings
 * (bold headers and coloured statuses only on a terminal); for scripts (--json), the
 * API's JSON as it came. Errors go to stderr as "lwm2mctl: …".
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

#define BOLD "\033[1m"
#define RESET "\033[0m"

int ctl_check(const struct ctl_resp *r, bool device_call)
{
	if (r->status >= 200 && r->status < 300)
		return CTL_OK;
	if (r->status == -1) /* the project lookup failed and said why */
		return CTL_API_ERROR;
	if (r->status == -2)
		return CTL_UNREACHABLE;
	if (r->status == 0) {
		fprintf(stderr, "lwm2mctl: cannot reach the daemon at %s\n", r->error);
		return CTL_UNREACHABLE;
	}
	json_t *j = json_loads(r->body ? r->body : "", 0, NULL);
	const char *msg = json_string_value(json_object_get(j, "error_msg"));
	fprintf(stderr, "lwm2mctl: %s (HTTP %ld)\n", msg ? msg : "the API answered an error",
		r->status);
	json_decref(j);
	return r->status == 504 && device_call ? CTL_NO_ANSWER : CTL_API_ERROR;
}

json_t *ctl_parse(const struct ctl_resp *r)
{
	json_error_t err;
	json_t *j = json_loads(r->body ? r->body : "", 0, &err);
	if (!j)
		fprintf(stderr, "lwm2mctl: the answer is not JSON: %s\n", err.text);
	return j;
}

void ctl_print_raw(const struct ctl_resp *r)
{
	if (r->len == 0)
		return;
	fwrite(r->body, 1, r->len, stdout);
	if (r->body[r->len - 1] != '\n')
		putchar('\n');
}

char *ctl_cell(const json_t *v)
{
	if (!v || json_is_null(v))
		return strdup("-");
	if (json_is_string(v))
		return strdup(json_string_value(v));
	char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	return s ? s : strdup("?");
}

const json_t *ctl_field(const json_t *obj, const char *key)
{
	char part[128];
	const json_t *v = obj;
	while (v && *key) {
		const char *dot = strchr(key, '.');
		size_t n = dot ? (size_t)(dot - key) : strlen(key);
		if (n >= sizeof(part))
			return NULL;
		memcpy(part, key, n);
		part[n] = '\0';
		v = json_object_get(v, part);
		key += n + (dot != NULL);
	}
	return v;
}

/* The display width of a UTF-8 string: its code points (no East Asian widths). */
static size_t width(const char *s)
{
	size_t w = 0;
	for (; *s; s++)
		w += ((unsigned char)*s & 0xC0) != 0x80;
	return w;
}

static const char *status_color(const char *s)
{
	if (strcmp(s, "ONLINE") == 0 || strcmp(s, "SUCCESSFUL") == 0 || strcmp(s, "ACTIVE") == 0)
		return "\033[32m";
	if (strcmp(s, "OFFLINE") == 0 || strcmp(s, "FAILED") == 0 || strcmp(s, "TIMEOUT") == 0 ||
	    strcmp(s, "SUSPENDED") == 0 || strcmp(s, "EXPIRED") == 0)
		return "\033[31m";
	if (strcmp(s, "PENDING") == 0 || strcmp(s, "SENT") == 0 || strcmp(s, "DELIVERED") == 0)
		return "\033[33m";
	return NULL;
}

static void print_cell(const struct ctl *c, const char *text, size_t pad, bool header)
{
	const char *col = c->color ? (header ? BOLD : status_color(text)) : NULL;
	if (col)
		fputs(col, stdout);
	fputs(text, stdout);
	if (col)
		fputs(RESET, stdout);
	for (size_t i = 0; i < pad; i++)
		putchar(' ');
}

void ctl_table(struct ctl *c, const json_t *items, const char *const *cols)
{
	size_t ncols = 0;
	while (cols[ncols])
		ncols++;
	size_t rows = json_array_size(items);
	char **cell = calloc((rows + 1) * ncols, sizeof(char *));
	size_t *w = calloc(ncols, sizeof(size_t));
	if (!cell || !w) {
		free(cell);
		free(w);
		return;
	}
	for (size_t k = 0; k < ncols; k++) {
		const char *eq = strchr(cols[k], '=');
		cell[k] = strndup(cols[k], eq ? (size_t)(eq - cols[k]) : strlen(cols[k]));
		for (size_t r = 0; r < rows; r++)
			cell[(r + 1) * ncols + k] =
				ctl_cell(ctl_field(json_array_get(items, r), eq ? eq + 1 : cols[k]));
	}
	for (size_t i = 0; i < (rows + 1) * ncols; i++) {
		if (!cell[i])
			cell[i] = strdup("?");
		/* A cell is one line: newlines and tabs (a description) become spaces. */
		for (char *p = cell[i]; p && *p; p++)
			if (*p == '\n' || *p == '\t' || *p == '\r')
				*p = ' ';
		if (cell[i] && width(cell[i]) > w[i % ncols])
			w[i % ncols] = width(cell[i]);
	}
	for (size_t r = 0; r <= rows; r++) {
		for (size_t k = 0; k < ncols; k++) {
			const char *t = cell[r * ncols + k] ? cell[r * ncols + k] : "";
			size_t pad = k + 1 < ncols ? w[k] - width(t) + 2 : 0;
			print_cell(c, t, pad, r == 0);
		}
		putchar('\n');
	}
	for (size_t i = 0; i < (rows + 1) * ncols; i++)
		free(cell[i]);
	free(cell);
	free(w);
}

/* Flattens obj into keys/values ("auth_info.secure_access"). */
static void flatten(const json_t *obj, const char *prefix, json_t *keys, json_t *values)
{
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)obj, k, v)
	{
		char key[256];
		snprintf(key, sizeof(key), "%s%s%s", prefix, prefix[0] ? "." : "", k);
		if (json_is_object(v) && json_object_size(v) > 0) {
			flatten(v, key, keys, values);
		} else {
			json_array_append_new(keys, json_string(key));
			json_array_append(values, v);
		}
	}
}

void ctl_print_object(struct ctl *c, const json_t *obj)
{
	json_t *keys = json_array(), *values = json_array();
	flatten(obj, "", keys, values);
	size_t w = 0;
	for (size_t i = 0; i < json_array_size(keys); i++) {
		size_t kw = width(json_string_value(json_array_get(keys, i)));
		if (kw > w)
			w = kw;
	}
	for (size_t i = 0; i < json_array_size(keys); i++) {
		const char *k = json_string_value(json_array_get(keys, i));
		char *v = ctl_cell(json_array_get(values, i));
		print_cell(c, k, w - width(k) + 2, true);
		print_cell(c, v, 0, false);
		putchar('\n');
		free(v);
	}
	json_decref(keys);
	json_decref(values);
}

char *ctl_read_file(const char *path, size_t *len)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "lwm2mctl: %s: %s\n", path, strerror(errno));
		return NULL;
	}
	size_t n = 0, cap = 4096;
	char *buf = malloc(cap);
	size_t r;
	while (buf && (r = fread(buf + n, 1, cap - n - 1, f)) > 0) {
		n += r;
		if (n + 1 == cap) {
			char *b = cap < (16u << 20) ? realloc(buf, cap * 2) : NULL;
			if (!b) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = b;
			cap *= 2;
		}
	}
	bool failed = ferror(f) != 0;
	if (f != stdin)
		fclose(f);
	if (!buf || failed) {
		fprintf(stderr, "lwm2mctl: %s: %s\n", path, buf ? "read error" : "too large");
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

json_t *ctl_value(const char *text)
{
	json_t *v = json_loads(text, JSON_DECODE_ANY, NULL);
	return v ? v : json_string(text);
}

/* Appends "&name=value" (value percent-encoded) to q when the option is given. */
void ctl_query_add(char *q, size_t cap, const char *name, const char *value)
{
	if (!value)
		return;
	char esc[768];
	ctl_escape(value, esc, sizeof(esc));
	size_t n = strlen(q);
	snprintf(q + n, cap - n, "%s%s=%s", q[0] ? "&" : "?", name, esc);
}

/* Prints a whole answer: --json as it is, else the object as key/value lines. */
int ctl_print_answer(struct ctl *c, struct ctl_resp *r, bool device_call)
{
	int rc = ctl_check(r, device_call);
	if (rc == CTL_OK && c->json) {
		ctl_print_raw(r);
	} else if (rc == CTL_OK && r->len) {
		json_t *j = ctl_parse(r);
		if (j)
			ctl_print_object(c, j);
		else
			rc = CTL_API_ERROR;
		json_decref(j);
	}
	ctl_resp_free(r);
	return rc;
}

int ctl_delete_each(struct ctl *c, const struct ctl_args *a, const char *collection,
		    const char *what)
{
	int rc = CTL_OK;
	for (int i = 0; i < a->npos && rc == CTL_OK; i++) {
		char esc[400], route[512];
		ctl_escape(a->pos[i], esc, sizeof(esc));
		snprintf(route, sizeof(route), "/%s/%s", collection, esc);
		struct ctl_resp r;
		ctl_call(c, "DELETE", route, NULL, 60, &r);
		rc = ctl_check(&r, false);
		if (rc == CTL_OK && c->json)
			ctl_print_raw(&r);
		else if (rc == CTL_OK)
			printf("%s %s deleted\n", what, a->pos[i]);
		ctl_resp_free(&r);
	}
	return rc;
}
