/*
 * lwm2mctl: the command-line client of lwm2md's REST API (docs/cli.md).
 *
 * main.c parses the global options and finds the command in the table; http.c talks to
 * the daemon with libcurl; output.c prints tables for people and the API's JSON for
 * scripts; cmd_*.c hold one command group each. A command returns an exit code.
 */
#ifndef LWM2MCTL_CTL_H
#define LWM2MCTL_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

/* The exit codes (docs/cli.md). */
enum {
	CTL_OK = 0,
	CTL_API_ERROR = 1,   /* the API answered an error: its error_msg is printed */
	CTL_USAGE = 2,       /* a bad command line */
	CTL_NO_ANSWER = 3,   /* the device did not answer (504 from a device call) */
	CTL_UNREACHABLE = 4, /* the daemon could not be reached */
};

#define CTL_MAX_ARGS 32

/* A parsed command line: the command's positional arguments and its options. */
struct ctl_args {
	const char *pos[CTL_MAX_ARGS];
	int npos;
	char opt_name[CTL_MAX_ARGS][48]; /* without the leading "--" */
	const char *opt_value[CTL_MAX_ARGS]; /* "" for a flag */
	int nopt;
};

struct ctl {
	char url[512];     /* without a trailing '/' */
	char token[256];
	char project[160];
	bool json;         /* --json: print the API's JSON as it is */
	bool color;        /* stdout is a terminal and NO_COLOR is not set */
	void *curl;        /* CURL *, created on first use */
};

/* The value of option name, or NULL when not given. */
const char *ctl_opt(const struct ctl_args *a, const char *name);
bool ctl_flag(const struct ctl_args *a, const char *name);
/* Parses option name as an integer in [min, max]; def when absent. Prints a usage error
 * and returns false when it is not one. */
bool ctl_opt_int(const struct ctl_args *a, const char *name, long min, long max, long def,
		 long *out);
/* Prints "lwm2mctl: <message>" to stderr and returns CTL_USAGE. */
int ctl_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* http.c. An API answer: the HTTP status (0 when the daemon could not be reached) and the
 * body (NUL-terminated, may be empty). */
struct ctl_resp {
	long status;
	char *body;
	size_t len;
	char error[800]; /* why the daemon could not be reached: "URL: reason" */
};

/* A request to the daemon: path is below the URL, "/v5/…"; body (may be NULL) is sent as
 * JSON. timeout_s bounds the whole call (0: none). Returns the status (resp->status). */
long ctl_http(struct ctl *c, const char *method, const char *path, const char *body,
	      int timeout_s, struct ctl_resp *resp);
/* The same below /v5/iot/{project}: finds the project first (from the token, unless
 * --project was given). path starts with '/'. */
long ctl_call(struct ctl *c, const char *method, const char *path, const char *body,
	      int timeout_s, struct ctl_resp *resp);
/* POST path (below /v5/iot/{project}) with the open file f as the body, size bytes (-1:
 * unknown, sent chunked), read as it is sent: a file is never held whole in memory. */
long ctl_call_upload(struct ctl *c, const char *path, FILE *f, long long size,
		     struct ctl_resp *resp);
void ctl_resp_free(struct ctl_resp *resp);
/* Finds c->project from the token (GET /v5/token) unless it is set. Returns CTL_OK or the
 * exit code, having printed why. */
int ctl_resolve_project(struct ctl *c);
/* Streams GET path (below /v5/iot/{project}) as Server-Sent Events: on_event gets each
 * event's name and data; it returns false to stop. Returns the exit code. */
int ctl_stream(struct ctl *c, const char *path,
	       bool (*on_event)(void *ctx, const char *event, const char *data), void *ctx);
/* A path segment (an id) percent-encoded into out. */
void ctl_escape(const char *in, char *out, size_t cap);
void ctl_http_cleanup(struct ctl *c);

/* output.c. */
/* The exit code for an answer: CTL_OK for 2xx, else prints the error (error_msg of the
 * API, or why the daemon could not be reached) and returns 1, 3 (a 504 when device_call)
 * or 4. */
int ctl_check(const struct ctl_resp *r, bool device_call);
/* Parses the answer's body as JSON; prints why and returns NULL when it is not. */
json_t *ctl_parse(const struct ctl_resp *r);
/* --json: prints the body as it is (with a newline). */
void ctl_print_raw(const struct ctl_resp *r);
/* A JSON value as text for a table cell: strings as they are, others as compact JSON,
 * null and absent as "-". Returns a malloc'd string. */
char *ctl_cell(const json_t *v);
/* An aligned table: cols are "HEADER=key" (key may be dotted, "auth_info.timeout"). */
void ctl_table(struct ctl *c, const json_t *items, const char *const *cols);
/* An object as aligned "key  value" lines, nested objects flattened with dots. */
void ctl_print_object(struct ctl *c, const json_t *obj);
/* The field at a dotted key (NULL when absent). */
const json_t *ctl_field(const json_t *obj, const char *key);
/* Reads a file ("-": stdin) whole; NULL (having printed why) on error. Free the result. */
char *ctl_read_file(const char *path, size_t *len);
/* A command line value as JSON: a number, true, false, null, an object or an array when it
 * parses as one, else the string. */
json_t *ctl_value(const char *text);

/* Prints a whole answer and frees it: --json as it is, else the object as key/value
 * lines. Returns the exit code. */
int ctl_print_answer(struct ctl *c, struct ctl_resp *r, bool device_call);
/* DELETE /<collection>/<id> for each positional argument, in order, stopping at the
 * first error; "<what> <id> deleted" for each. Returns the exit code. */
int ctl_delete_each(struct ctl *c, const struct ctl_args *a, const char *collection,
		    const char *what);
/* Appends "?name=value" or "&name=value" (value percent-encoded) to q when value is not
 * NULL. */
void ctl_query_add(char *q, size_t cap, const char *name, const char *value);

/* A command of the table. group is the first word; verb the second (NULL for one-word
 * commands such as read). opts lists its options: "name" is a flag, "name=" takes a value. */
struct ctl_command {
	const char *group;
	const char *verb;
	int (*run)(struct ctl *c, const struct ctl_args *a);
	int min_pos, max_pos;
	const char *opts;   /* comma-separated */
	const char *usage;  /* the arguments, e.g. "DEVICE PATH [--format F]" */
	const char *help;   /* one line */
	bool local;         /* needs no daemon */
};

/* The command groups (cmd_*.c), each a NULL-terminated array. */
extern const struct ctl_command ctl_devices_commands[];
/* devices import FILE (cmd_devices_import.c). */
int ctl_devices_import(struct ctl *c, const struct ctl_args *a);
extern const struct ctl_command ctl_products_commands[];
extern const struct ctl_command ctl_codec_commands[];
extern const struct ctl_command ctl_dm_commands[];
extern const struct ctl_command ctl_commands_commands[];
extern const struct ctl_command ctl_events_commands[];
extern const struct ctl_command ctl_rules_commands[];
extern const struct ctl_command ctl_firmware_commands[];
extern const struct ctl_command ctl_completion_commands[];

/* Every group's commands (main.c), *n arrays. */
const struct ctl_command *const *ctl_groups(size_t *n);

/* The exit code of a device call's answer: besides ctl_check's, a CoAP error code from the
 * device (4.xx, 5.xx) is printed and gives CTL_API_ERROR. */
int ctl_dm_check_code(const json_t *answer);

#endif
