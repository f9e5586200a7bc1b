/*
 * config: flags, the config file, defaults.
 *
 * Every setting is one row of the options table: its name (the long flag without the
 * dashes, and the name in a config file), where it goes in struct config, the range it
 * accepts and a line of help. The usage text is printed from the same table, with each
 * default read from config_defaults, so the two never disagree.
 */
#include "daemon/config.h"

#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"
#include "coap/coap_block_pool.h"
#include "firmware/fw_package.h"
#include "iot/iot_devices.h"
#include "util/str.h"

enum opt_kind {
	OPT_UINT,   /* unsigned or uint32_t: value * scale */
	OPT_SIZE,   /* size_t: value * scale */
	OPT_I64,    /* int64_t */
	OPT_STR,    /* char[size] */
	OPT_SWITCH, /* bool: no value on the command line; true/false in a file */
	OPT_FN,     /* parsed by fn */
};

struct option {
	const char *name;
	const char *arg; /* what the value is, for the usage text */
	enum opt_kind kind;
	size_t offset;   /* of the field in struct config */
	size_t size;     /* OPT_STR: the field's capacity */
	unsigned long min, max;
	unsigned long scale; /* the field holds value * scale (seconds kept as ms, ...) */
	int (*fn)(struct config *cfg, const char *value);
	const char *help;
	const char *fn_default; /* OPT_FN: the default as a config file writes it */
};

static int set_coap(struct config *cfg, const char *value)
{
	if (!cfg->coap_given)
		cfg->coap_count = 0; /* the first one given replaces the defaults */
	cfg->coap_given = true;
	if (cfg->coap_count == MAX_BINDS)
		return -E2BIG;
	return str_copy(cfg->coap[cfg->coap_count++], sizeof(cfg->coap[0]), value);
}

static int set_coaps(struct config *cfg, const char *value)
{
	if (!cfg->coaps_given)
		cfg->coaps_count = 0;
	cfg->coaps_given = true;
	if (cfg->coaps_count == MAX_BINDS)
		return -E2BIG;
	return str_copy(cfg->coaps[cfg->coaps_count++], sizeof(cfg->coaps[0]), value);
}

static int set_ciphersuites(struct config *cfg, const char *value)
{
	return dtls_server_parse_ciphersuites(&cfg->dtls, value);
}

static int set_log_level(struct config *cfg, const char *value)
{
	(void)cfg;
	return log_level_parse(value, &log_threshold);
}

static int set_log_format(struct config *cfg, const char *value)
{
	(void)cfg;
	if (strcmp(value, "text") != 0 && strcmp(value, "json") != 0)
		return -EINVAL;
	log_json = strcmp(value, "json") == 0;
	return 0;
}

/* value as a whole decimal number in [min, max]: 0 or -EINVAL. */
static int parse_range(const char *value, unsigned long min, unsigned long max,
		       unsigned long *out)
{
	char *end;
	errno = 0;
	if (value[0] < '0' || value[0] > '9')
		return -EINVAL; /* strtoul would take "-1", " 1" and "+1" */
	unsigned long v = strtoul(value, &end, 10);
	if (errno || *end || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

/* 0 means "never", kept as UINT_MAX (codec_worker.h). */
static int set_codec_suspend_after(struct config *cfg, const char *value)
{
	unsigned long v;
	if (parse_range(value, 0, CODEC_WORKER_MAX_SUSPEND_AFTER, &v) != 0)
		return -EINVAL;
	cfg->codec.suspend_after = v ? (unsigned)v : UINT_MAX;
	return 0;
}

#define AT(field) offsetof(struct config, field)
#define NUM(nm, k, field, lo, hi, sc, text) \
	{.name = nm, .arg = "N", .kind = k, .offset = AT(field), .min = lo, .max = hi, \
	 .scale = sc, .help = text}
#define FN(nm, a, f, def, text) \
	{.name = nm, .arg = a, .kind = OPT_FN, .fn = f, .fn_default = def, .help = text}
#define STR(nm, a, field, text) \
	{.name = nm, .arg = a, .kind = OPT_STR, .offset = AT(field), \
	 .size = sizeof(((struct config *)0)->field), .help = text}

static const struct option options[] = {
	STR("db", "PATH", db, "the SQLite registry"),
	FN("coap", "HOST:PORT", set_coap, NULL,
	   "plain CoAP socket; repeatable (default 0.0.0.0:5683 and [::]:5683)"),
	FN("coaps", "HOST:PORT", set_coaps, NULL,
	   "CoAP over DTLS 1.2 (PSK) socket; repeatable (default 0.0.0.0:5684 and [::]:5684)"),
	STR("http", "HOST:PORT", http, "the REST API"),
	STR("models", "DIR", models, "load object definitions (OMA DDF XML, *.xml) from DIR"),
	FN("log-level", "LEVEL", set_log_level, "info", "debug, info, warn or error (default info)"),
	FN("log-format", "FORMAT", set_log_format, "text",
	   "text, or json: one JSON object per line for log shippers (default text)"),
	/* CoAP and LwM2M */
	NUM("max-body", OPT_SIZE, max_body, 16, 65536, 1,
	    "largest CoAP body without block-wise transfer"),
	NUM("block1-pool-mib", OPT_SIZE, block1_pool_bytes, 1, 4096, 1 << 20,
	    "MiB for all block-wise uploads in progress together; the longest stalled are "
	    "dropped for room"),
	NUM("queue-window", OPT_UINT, queue_window_s, 1, 86400, 1,
	    "seconds a queue-mode device listens after each message"),
	NUM("max-pending-commands", OPT_UINT, max_pending_commands, 1, 10000, 1,
	    "open commands per device"),
	NUM("register-settle-ms", OPT_UINT, register_settle_ms, 0, 60000, 1,
	    "a Register replacing a registration younger than this is announced (events, "
	    "uplink observation) only once the device has held still this long; 0: at once"),
	/* DTLS */
	FN("dtls-ciphersuites", "LIST", set_ciphersuites,
	   "TLS-PSK-WITH-AES-128-CCM-8,TLS-PSK-WITH-AES-128-CBC-SHA256",
	   "comma-separated, in order of preference (default "
	   "TLS-PSK-WITH-AES-128-CCM-8,TLS-PSK-WITH-AES-128-CBC-SHA256)"),
	NUM("dtls-idle-seconds", OPT_UINT, dtls.idle_ms, 1, 86400, 1000,
	    "idle time before a DTLS session hibernates"),
	NUM("dtls-max-handshakes", OPT_SIZE, dtls.max_handshakes, 1, 86400, 1,
	    "DTLS handshakes in progress at once"),
	NUM("dtls-context-pool", OPT_SIZE, dtls.context_pool, 0, 65536, 1,
	    "reset mbedTLS contexts (~36 KB each) kept for new DTLS sessions to reuse"),
	NUM("dtls-max-handshakes-per-address", OPT_SIZE, dtls.max_handshakes_per_addr, 1,
	    86400, 1, "of them from one IP address"),
	NUM("dtls-handshake-stall-seconds", OPT_UINT, dtls.handshake_stall_ms, 1, 3600, 1000,
	    "end a handshake its peer has not moved on for this long"),
	NUM("dtls-psk-max-failures", OPT_UINT, dtls.psk_max_failures, 1, 1000, 1,
	    "wrong keys for one identity within 60 s that make it back off"),
	NUM("dtls-psk-backoff-seconds", OPT_UINT, dtls.psk_backoff_ms, 1, 86400, 1000,
	    "the first backoff; each further one doubles"),
	NUM("dtls-psk-backoff-max-seconds", OPT_UINT, dtls.psk_backoff_max_ms, 1, 86400, 1000,
	    "the longest backoff"),
	/* The REST API */
	NUM("http-max-connections", OPT_UINT, api.max_connections, 16, 100000, 1,
	    "open API connections"),
	NUM("http-max-connections-per-ip", OPT_UINT, api.max_connections_per_ip, 1, 100000, 1,
	    "of them from one address"),
	NUM("http-request-timeout", OPT_UINT, api.request_timeout_s, 1, 3600, 1,
	    "seconds to receive a whole request"),
	NUM("events-max-streams", OPT_UINT, api.max_streams, 1, 100000, 1,
	    "open event streams"),
	NUM("events-max-streams-per-token", OPT_UINT, api.max_streams_per_token, 1, 100000, 1,
	    "of them on one API token"),
	NUM("events-heartbeat", OPT_UINT, api.heartbeat_s, 1, 3600, 1,
	    "seconds between heartbeats on an idle stream"),
	/* Firmware (docs/firmware.md) */
	STR("firmware-dir", "DIR", firmware_dir,
	    "firmware package files, named by their SHA-256 (default: the --db path with "
	    "\".firmware\" added)"),
	/* A CoAP Block2 transfer of 1024-byte blocks ends at 2^20 blocks: 1 GiB. */
	NUM("firmware-max-bytes", OPT_SIZE, firmware_max_bytes, 1, 1073741824, 1,
	    "the largest firmware package an upload may bring"),
	/* Bootstrap (docs/bootstrap.md) */
	STR("bootstrap-coap", "HOST:PORT", bootstrap_coap,
	    "the LwM2M Bootstrap-Server on plain CoAP (off unless given; conventionally port "
	    "5783)"),
	STR("bootstrap-coaps", "HOST:PORT", bootstrap_coaps,
	    "the LwM2M Bootstrap-Server on CoAP over DTLS 1.2 PSK (off unless given; "
	    "conventionally port 5784)"),
	STR("public-host", "HOST", public_host,
	    "the host (name or address) devices reach this server at: firmware Package URIs "
	    "coap[s]://HOST:PORT/fw/... and the server URI bootstrap writes; default: the CoAP "
	    "and CoAPS sockets' own addresses when they are not wildcards"),
	/* Push */
	NUM("push-outbox-max", OPT_I64, push.max_outbox, 1, 100000000, 1,
	    "events kept for applications' endpoints in all; past it a project's new event "
	    "drops its own oldest"),
	NUM("push-project-outbox-max", OPT_I64, push.project_outbox, 1, 100000000, 1,
	    "events kept per project; past it the project's oldest are dropped"),
	NUM("push-max-in-flight", OPT_UINT, push.max_in_flight, 1, 256, 1,
	    "concurrent push requests"),
	NUM("push-project-in-flight", OPT_UINT, push.project_in_flight, 1, 256, 1,
	    "concurrent push requests of one project"),
	NUM("push-connect-timeout-ms", OPT_UINT, push.connect_timeout_ms, 100, 600000, 1,
	    "to connect to an endpoint"),
	NUM("push-timeout-ms", OPT_UINT, push.timeout_ms, 100, 3600000, 1,
	    "for a whole push request"),
	NUM("push-breaker-failures", OPT_UINT, push.breaker_failures, 1, 1000, 1,
	    "failures in a row after which a rule's events wait"),
	NUM("push-breaker-cooldown", OPT_UINT, push.breaker_cooldown_ms, 1, 86400, 1000,
	    "seconds they first wait before a probe (doubles while probes fail)"),
	NUM("push-breaker-cooldown-max", OPT_UINT, push.breaker_cooldown_max_ms, 1, 86400, 1000,
	    "the longest wait, seconds"),
	NUM("push-max-rules", OPT_UINT, push.max_rules, 1, 1000, 1,
	    "forwarding rules per project"),
	{.name = "push-allow-private", .kind = OPT_SWITCH, .offset = AT(push.allow_private),
	 .help = "let push reach loopback, private and link-local addresses (in a config "
		 "file: push-allow-private = true)"},
	/* Codecs */
	NUM("codec-threads", OPT_UINT, codec.threads, 1, CODEC_WORKER_MAX_THREADS, 1,
	    "threads running JavaScript codecs"),
	NUM("codec-time-ms", OPT_UINT, codec.limits.time_ms, 1, 60000, 1,
	    "time per codec call"),
	NUM("codec-memory-kb", OPT_SIZE, codec.limits.memory_bytes, 256, 1048576, 1024,
	    "heap of one JavaScript codec"),
	NUM("codec-queue-max", OPT_UINT, codec.queue_max, 1, 10000000, 1,
	    "codec jobs waiting per product; more reports are dropped"),
	NUM("codec-queue-total", OPT_UINT, codec.queue_total, 1, 10000000, 1,
	    "codec jobs outstanding over all products"),
	FN("codec-suspend-after", "N", set_codec_suspend_after, "5",
	   "timeouts within --codec-suspend-window that suspend a codec (default 5; 0: never)"),
	NUM("codec-suspend-window", OPT_UINT, codec.suspend_window_ms, 1, 86400, 1000,
	    "seconds"),
	NUM("codec-drain-ms", OPT_UINT, codec.drain_ms, 1, 600000, 1,
	    "at shutdown, how long queued reports may still be decoded"),
};

#define OPTIONS_COUNT (sizeof(options) / sizeof(options[0]))

static const struct option *option_find(const char *name)
{
	for (size_t i = 0; i < OPTIONS_COUNT; i++) {
		if (strcmp(options[i].name, name) == 0)
			return &options[i];
	}
	return NULL;
}

/* A numeric option's value in cfg, in the option's own unit. */
static unsigned long long option_value(const struct option *o, const struct config *cfg)
{
	const char *field = (const char *)cfg + o->offset;
	unsigned long long v = 0;
	if (o->kind == OPT_UINT) {
		unsigned x;
		memcpy(&x, field, sizeof(x));
		v = x;
	} else if (o->kind == OPT_SIZE) {
		size_t x;
		memcpy(&x, field, sizeof(x));
		v = x;
	} else if (o->kind == OPT_I64) {
		int64_t x;
		memcpy(&x, field, sizeof(x));
		v = (unsigned long long)x;
	}
	return o->scale > 1 ? v / o->scale : v;
}

void config_usage(FILE *out)
{
	struct config defaults;
	config_defaults(&defaults);
	fprintf(out, "usage: lwm2md [options]\n"
		     "       lwm2md token create --db PATH --project PROJECT [--name N] [--expires D]\n"
		     "       lwm2md token list|revoke ..., lwm2md project list|create|delete ...\n"
		     "options:\n"
		     "  --config FILE\n      read 'name = value' lines (names as the long options)\n"
		     "  --print-config\n      print a config file listing every setting with its default\n");
	for (size_t i = 0; i < OPTIONS_COUNT; i++) {
		const struct option *o = &options[i];
		fprintf(out, "  --%s%s%s\n      %s", o->name, o->arg ? " " : "", o->arg ? o->arg : "",
			o->help);
		if (o->kind == OPT_UINT || o->kind == OPT_SIZE || o->kind == OPT_I64)
			fprintf(out, " (default %llu)", option_value(o, &defaults));
		else if (o->kind == OPT_STR && *((const char *)&defaults + o->offset))
			fprintf(out, " (default %s)", (const char *)&defaults + o->offset);
		fputc('\n', out);
	}
	fprintf(out, "A port of 0 picks a free port; each bound socket is printed as\n"
		     "'listening <coap|coaps|http> HOST:PORT' on standard output.\n");
}

/* help as '# ' comment lines of at most ~88 columns. */
static void print_comment(FILE *out, const char *help)
{
	const char *p = help;
	while (*p) {
		size_t n = strlen(p);
		if (n > 86) {
			n = 86;
			while (n > 0 && p[n] != ' ')
				n--;
			if (n == 0)
				n = strcspn(p, " ");
		}
		fprintf(out, "# %.*s\n", (int)n, p);
		p += n;
		while (*p == ' ')
			p++;
	}
}

void config_print_file(FILE *out)
{
	struct config defaults;
	config_defaults(&defaults);
	fprintf(out, "# lwm2md configuration: 'name = value' lines, names as the long options of\n"
		     "# `lwm2md --help`. Every setting is listed, commented out ('#name = value', as\n"
		     "# against '# ' before prose), at its default; flags given on the command line\n"
		     "# after --config override the file.\n"
		     "# Generated by `lwm2md --print-config` (lwm2md %s).\n",
		LWM2MD_VERSION);
	for (size_t i = 0; i < OPTIONS_COUNT; i++) {
		const struct option *o = &options[i];
		const char *field = (const char *)&defaults + o->offset;
		fputc('\n', out);
		print_comment(out, o->help);
		if (o->kind == OPT_UINT || o->kind == OPT_SIZE || o->kind == OPT_I64)
			fprintf(out, "#%s = %llu\n", o->name, option_value(o, &defaults));
		else if (o->kind == OPT_STR)
			fprintf(out, "#%s =%s%s\n", o->name, *field ? " " : "", field);
		else if (o->kind == OPT_SWITCH)
			fprintf(out, "#%s = %s\n", o->name, *(const bool *)field ? "true" : "false");
		else if (strcmp(o->name, "coap") == 0)
			for (int b = 0; b < defaults.coap_count; b++)
				fprintf(out, "#coap = %s\n", defaults.coap[b]);
		else if (strcmp(o->name, "coaps") == 0)
			for (int b = 0; b < defaults.coaps_count; b++)
				fprintf(out, "#coaps = %s\n", defaults.coaps[b]);
		else
			fprintf(out, "#%s = %s\n", o->name, o->fn_default ? o->fn_default : "");
	}
}

static int set_switch(bool *field, const char *value)
{
	if (strcmp(value, "true") == 0 || strcmp(value, "yes") == 0 || strcmp(value, "1") == 0)
		*field = true;
	else if (strcmp(value, "false") == 0 || strcmp(value, "no") == 0 ||
		 strcmp(value, "0") == 0)
		*field = false;
	else
		return -EINVAL;
	return 0;
}

/* Applies one setting: 0, -EINVAL (a bad value), -E2BIG, or -ENOENT (no such option). */
static int config_set(struct config *cfg, const char *name, const char *value)
{
	const struct option *o = option_find(name);
	if (!o)
		return -ENOENT;
	char *field = (char *)cfg + o->offset;
	unsigned long v;
	switch (o->kind) {
	case OPT_FN:
		return o->fn(cfg, value);
	case OPT_STR:
		return str_copy(field, o->size, value);
	case OPT_SWITCH:
		return set_switch((bool *)field, value);
	default:
		break;
	}
	if (parse_range(value, o->min, o->max, &v) != 0)
		return -EINVAL;
	if (o->kind == OPT_UINT) {
		unsigned x = (unsigned)(v * o->scale);
		memcpy(field, &x, sizeof(x));
	} else if (o->kind == OPT_SIZE) {
		size_t x = (size_t)v * o->scale;
		memcpy(field, &x, sizeof(x));
	} else {
		int64_t x = (int64_t)v;
		memcpy(field, &x, sizeof(x));
	}
	return 0;
}

static bool is_switch(const char *name)
{
	const struct option *o = option_find(name);
	return o && o->kind == OPT_SWITCH;
}

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r'))
		s[--n] = '\0';
	return s;
}
/* config_load's failure, whose message (file, line, setting) is printed already. */
#define CONFIG_FILE_REPORTED (-EBADMSG)

static int config_load(struct config *cfg, const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "lwm2md: cannot open config %s: %s\n", path, strerror(errno));
		return CONFIG_FILE_REPORTED;
	}
	char line[1024];
	int lineno = 0, rc = 0;
	while (rc == 0 && fgets(line, sizeof(line), f)) {
		lineno++;
		char *s = trim(line);
		if (*s == '\0' || *s == '#')
			continue;
		char *eq = strchr(s, '=');
		if (!eq) {
			fprintf(stderr, "lwm2md: %s:%d: expected 'name = value'\n", path, lineno);
			rc = -EINVAL;
			break;
		}
		*eq = '\0';
		char *name = trim(s);
		rc = config_set(cfg, name, trim(eq + 1));
		if (rc == -ENOENT)
			fprintf(stderr, "lwm2md: %s:%d: unknown setting '%s'\n", path, lineno, name);
		else if (rc != 0)
			fprintf(stderr, "lwm2md: %s:%d: bad value for '%s'\n", path, lineno, name);
	}
	fclose(f);
	/* Said already, with the file and line: the caller adds nothing. */
	return rc == 0 ? 0 : CONFIG_FILE_REPORTED;
}
void config_defaults(struct config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	str_copy(cfg->db, sizeof(cfg->db), "var/lwm2md.db");
	str_copy(cfg->coap[0], sizeof(cfg->coap[0]), "0.0.0.0:5683");
	str_copy(cfg->coap[1], sizeof(cfg->coap[1]), "[::]:5683");
	cfg->coap_count = 2;
	str_copy(cfg->coaps[0], sizeof(cfg->coaps[0]), "0.0.0.0:5684");
	str_copy(cfg->coaps[1], sizeof(cfg->coaps[1]), "[::]:5684");
	cfg->coaps_count = 2;
	dtls_server_config_defaults(&cfg->dtls);
	cfg->queue_window_s = 93; /* LwM2M Transport: CoAP MAX_TRANSMIT_WAIT */
	str_copy(cfg->http, sizeof(cfg->http), "127.0.0.1:8080");
	cfg->max_body = 1024;
	cfg->block1_pool_bytes = COAP_BLOCK_POOL_DEFAULT_BYTES;
	cfg->max_pending_commands = 20;
	cfg->register_settle_ms = IOT_SETTLE_DEFAULT_MS;
	push_config_defaults(&cfg->push); /* the address policy strict */
	api_limits_defaults(&cfg->api);
	cfg->firmware_max_bytes = FW_PACKAGE_DEFAULT_MAX_BYTES;
	cfg->codec = (struct codec_worker_config){
		.threads = CODEC_WORKER_DEFAULT_THREADS,
		.queue_max = CODEC_WORKER_DEFAULT_QUEUE_MAX,
		.queue_total = CODEC_WORKER_DEFAULT_QUEUE_TOTAL,
		.suspend_after = CODEC_WORKER_DEFAULT_SUSPEND_AFTER,
		.suspend_window_ms = CODEC_WORKER_DEFAULT_SUSPEND_WINDOW_MS,
		.drain_ms = CODEC_WORKER_DEFAULT_DRAIN_MS,
		.limits = {.time_ms = CODEC_DEFAULT_TIME_MS, .memory_bytes = CODEC_DEFAULT_MEMORY},
	};
}

static int config_check(const struct config *cfg)
{
	const struct api_limits *l = &cfg->api;
	unsigned room = l->max_connections - api_limits_reserve(l);
	/* Streams never give their connection back: /health and ordinary calls need some. */
	if (l->max_streams >= room) {
		fprintf(stderr,
			"lwm2md: --events-max-streams (%u) must be below --http-max-connections "
			"less its reserve (%u)\n",
			l->max_streams, room);
		return -EINVAL;
	}
	return 0;
}
int config_from_args(struct config *cfg, int argc, char **argv, int first)
{
	for (int i = first; i < argc; i++) {
		const char *arg = argv[i];
		if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
			config_usage(stdout);
			return 1;
		}
		if (strcmp(arg, "--print-config") == 0) {
			config_print_file(stdout);
			return 1;
		}
		if (strcmp(arg, "--version") == 0) {
			printf("lwm2md %s\n", LWM2MD_VERSION);
			return 1;
		}
		if (strncmp(arg, "--", 2) == 0 && is_switch(arg + 2)) {
			config_set(cfg, arg + 2, "true");
			continue;
		}
		if (strncmp(arg, "--", 2) != 0 || i + 1 >= argc) {
			fprintf(stderr, "lwm2md: unexpected argument '%s'\n", arg);
			config_usage(stderr);
			return -EINVAL;
		}
		const char *value = argv[++i];
		int rc = strcmp(arg, "--config") == 0 ? config_load(cfg, value)
						     : config_set(cfg, arg + 2, value);
		if (rc == CONFIG_FILE_REPORTED)
			return rc;
		if (rc == -ENOENT) {
			fprintf(stderr, "lwm2md: unknown option '%s'\n", arg);
			config_usage(stderr);
			return rc;
		}
		if (rc != 0) {
			fprintf(stderr, "lwm2md: bad value '%s' for %s\n", value, arg);
			return rc;
		}
	}
	/* The firmware directory beside the registry unless given: it follows --db. */
	if (!cfg->firmware_dir[0] &&
	    snprintf(cfg->firmware_dir, sizeof(cfg->firmware_dir), "%s.firmware", cfg->db) >=
		    (int)sizeof(cfg->firmware_dir)) {
		fprintf(stderr, "lwm2md: --db is too long to add .firmware: give --firmware-dir\n");
		return -ENAMETOOLONG;
	}
	return config_check(cfg);
}
