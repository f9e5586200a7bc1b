/*
 * config: flags, the config file, defaults.
 */
#include "daemon/config.h"

#include <errno.h>
#include <stddef.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"
#include "util/str.h"

void config_usage(FILE *out)
{
	fprintf(out,
		"usage: lwm2md [options]\n"
		"       lwm2md token create --db PATH --project PROJECT\n"
		"options:\n"
		"  --config FILE      read 'name = value' lines (names as the long options)\n"
		"  --db PATH          SQLite registry (default ./var/lwm2md.db)\n"
		"  --coap HOST:PORT   plain CoAP socket; repeatable (default 0.0.0.0:5683 and "
		"[::]:5683)\n"
		"  --coaps HOST:PORT  CoAP over DTLS 1.2 (PSK) socket; repeatable (default "
		"0.0.0.0:5684 and [::]:5684)\n"
		"  --dtls-ciphersuites LIST  comma-separated, in order of preference (default\n"
		"                     TLS-PSK-WITH-AES-128-CCM-8,TLS-PSK-WITH-AES-128-CBC-SHA256)\n"
		"  --dtls-idle-seconds N  idle time before a DTLS session hibernates (default 60)\n"
		"  --dtls-max-handshakes N  concurrent DTLS handshakes (default 256)\n"
		"  --http HOST:PORT   REST API (default 127.0.0.1:8080)\n"
		"  --http-max-connections N  open API connections (default 256)\n"
		"  --http-max-connections-per-ip N  of them from one address (default 128)\n"
		"  --http-request-timeout N  seconds to receive a whole request (default 10)\n"
		"  --events-max-streams N  open event streams (default 64)\n"
		"  --events-max-streams-per-token N  of them on one API token (default 16)\n"
		"  --events-heartbeat N  seconds between heartbeats on a stream (default 15)\n"
		"  --max-body N       largest CoAP body without block-wise (default 1024)\n"
		"  --models DIR       load object definitions (OMA DDF XML, *.xml) from DIR\n"
		"  --max-pending-commands N  open commands per device (default 20)\n"
		"  --push-outbox-max N  events kept for applications' endpoints in all; past it a\n"
		"                     project's new event drops its own oldest (default 100000)\n"
		"  --push-project-outbox-max N  events kept per project; past it the project's\n"
		"                     oldest are dropped (default 10000)\n"
		"  --push-max-in-flight N  concurrent push requests (default 16)\n"
		"  --push-project-in-flight N  concurrent push requests of one project (default 8)\n"
		"  --push-connect-timeout-ms N  to connect to an endpoint (default 3000)\n"
		"  --push-timeout-ms N  for a whole push request (default 10000)\n"
		"  --push-breaker-failures N  failures in a row after which a rule's events wait\n"
		"                     (default 5)\n"
		"  --push-breaker-cooldown N  seconds they first wait before a probe (default 30;\n"
		"                     doubles while probes fail)\n"
		"  --push-breaker-cooldown-max N  longest wait, seconds (default 600)\n"
		"  --push-max-rules N  forwarding rules per project (default 16)\n"
		"  --push-allow-private  let push reach loopback, private and link-local addresses\n"
		"                     (in a config file: push-allow-private = true)\n"
		"  --queue-window N   seconds a queue-mode device listens after each message "
		"(default 93)\n"
		"  --codec-threads N  threads running JavaScript codecs (default 2)\n"
		"  --codec-time-ms N  time per codec call (default 100)\n"
		"  --codec-memory-kb N  heap of one JavaScript codec (default 4096)\n"
		"  --codec-queue-max N  codec jobs waiting per product; more reports are dropped\n"
		"                     (default 4096)\n"
		"  --codec-queue-total N  codec jobs outstanding over all products (default 32768)\n"
		"  --codec-suspend-after N  timeouts within --codec-suspend-window that suspend a\n"
		"                     codec (default 5; 0: never)\n"
		"  --codec-suspend-window N  seconds (default 60)\n"
		"  --codec-drain-ms N  at shutdown, how long queued reports may still be decoded\n"
		"                     (default 3000)\n"
		"  --log-level LEVEL  debug, info, warn or error (default info)\n"
		"A port of 0 picks a free port; each bound socket is printed as\n"
		"'listening <coap|coaps|http> HOST:PORT' on standard output.\n");
}

/* The API's limits: name, field, and the range accepted. */
static const struct {
	const char *name;
	size_t offset;
	unsigned long min, max;
} api_limit_options[] = {
	{"http-max-connections", offsetof(struct api_limits, max_connections), 16, 100000},
	{"http-max-connections-per-ip", offsetof(struct api_limits, max_connections_per_ip), 1,
	 100000},
	{"http-request-timeout", offsetof(struct api_limits, request_timeout_s), 1, 3600},
	{"events-max-streams", offsetof(struct api_limits, max_streams), 1, 100000},
	{"events-max-streams-per-token", offsetof(struct api_limits, max_streams_per_token), 1,
	 100000},
	{"events-heartbeat", offsetof(struct api_limits, heartbeat_s), 1, 3600},
};

/* 1 when name is not one of the API's limits, else 0 or -EINVAL as config_set. */
static int config_set_api_limit(struct config *cfg, const char *name, const char *value)
{
	for (size_t i = 0; i < sizeof(api_limit_options) / sizeof(api_limit_options[0]); i++) {
		if (strcmp(name, api_limit_options[i].name) != 0)
			continue;
		char *end;
		errno = 0;
		unsigned long v = strtoul(value, &end, 10);
		if (errno || end == value || *end || v < api_limit_options[i].min ||
		    v > api_limit_options[i].max)
			return -EINVAL;
		*(unsigned *)((char *)&cfg->api + api_limit_options[i].offset) = (unsigned)v;
		return 0;
	}
	return 1;
}

/* value as an integer in min..max, or -EINVAL. */
static int parse_uint(const char *value, unsigned long min, unsigned long max,
		      unsigned long *out)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(value, &end, 10);
	if (errno || end == value || *end || v < min || v > max || value[0] == '-')
		return -EINVAL;
	*out = v;
	return 0;
}

/* Flags that take no value on the command line; "true"/"false" in a config file. */
static bool is_switch(const char *name)
{
	return strcmp(name, "push-allow-private") == 0;
}

/* The --push-* settings (name without "push-"); docs/api.md "Push to applications". */
static int config_set_push(struct push_config *c, const char *name, const char *value)
{
	unsigned long v;
	if (strcmp(name, "allow-private") == 0) {
		if (strcmp(value, "true") == 0 || strcmp(value, "yes") == 0 || strcmp(value, "1") == 0)
			c->allow_private = true;
		else if (strcmp(value, "false") == 0 || strcmp(value, "no") == 0 ||
			 strcmp(value, "0") == 0)
			c->allow_private = false;
		else
			return -EINVAL;
		return 0;
	}
	static const struct {
		const char *name;
		unsigned long min, max, scale;
		size_t offset;
		bool wide;
	} nums[] = {
		{ "outbox-max", 1, 100000000, 1, offsetof(struct push_config, max_outbox), true },
		{ "project-outbox-max", 1, 100000000, 1,
		  offsetof(struct push_config, project_outbox), true },
		{ "max-in-flight", 1, 256, 1, offsetof(struct push_config, max_in_flight), false },
		{ "project-in-flight", 1, 256, 1, offsetof(struct push_config, project_in_flight),
		  false },
		{ "connect-timeout-ms", 100, 600000, 1,
		  offsetof(struct push_config, connect_timeout_ms), false },
		{ "timeout-ms", 100, 3600000, 1, offsetof(struct push_config, timeout_ms), false },
		{ "breaker-failures", 1, 1000, 1, offsetof(struct push_config, breaker_failures),
		  false },
		{ "breaker-cooldown", 1, 86400, 1000,
		  offsetof(struct push_config, breaker_cooldown_ms), false },
		{ "breaker-cooldown-max", 1, 86400, 1000,
		  offsetof(struct push_config, breaker_cooldown_max_ms), false },
		{ "max-rules", 1, 1000, 1, offsetof(struct push_config, max_rules), false },
	};
	for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
		if (strcmp(name, nums[i].name) != 0)
			continue;
		if (parse_uint(value, nums[i].min, nums[i].max, &v) != 0)
			return -EINVAL;
		char *field = (char *)c + nums[i].offset;
		if (nums[i].wide) {
			int64_t x = (int64_t)v;
			memcpy(field, &x, sizeof(x));
		} else {
			unsigned x = (unsigned)(v * nums[i].scale);
			memcpy(field, &x, sizeof(x));
		}
		return 0;
	}
	return -ENOENT;
}

/* The codec threads' settings (docs/codec-js.md, "Limits"): name without "codec-". */
static int config_set_codec(struct codec_worker_config *c, const char *name, const char *value)
{
	enum { THREADS, TIME_MS, MEMORY_KB, QUEUE_MAX, QUEUE_TOTAL, SUSPEND_AFTER, SUSPEND_WINDOW,
	       DRAIN_MS, COUNT };
	static const struct {
		const char *name;
		unsigned long min, max;
	} opts[COUNT] = {
		[THREADS] = { "threads", 1, CODEC_WORKER_MAX_THREADS },
		[TIME_MS] = { "time-ms", 1, 60000 },
		[MEMORY_KB] = { "memory-kb", 256, 1048576 },
		[QUEUE_MAX] = { "queue-max", 1, 10000000 },
		[QUEUE_TOTAL] = { "queue-total", 1, 10000000 },
		[SUSPEND_AFTER] = { "suspend-after", 0, CODEC_WORKER_MAX_SUSPEND_AFTER },
		[SUSPEND_WINDOW] = { "suspend-window", 1, 86400 },
		[DRAIN_MS] = { "drain-ms", 1, 600000 },
	};
	int i = 0;
	while (i < COUNT && strcmp(opts[i].name, name) != 0)
		i++;
	unsigned long v;
	if (i == COUNT)
		return -ENOENT;
	if (parse_uint(value, opts[i].min, opts[i].max, &v) != 0)
		return -EINVAL;
	switch (i) {
	case THREADS: c->threads = (unsigned)v; break;
	case TIME_MS: c->limits.time_ms = (unsigned)v; break;
	case MEMORY_KB: c->limits.memory_bytes = (size_t)v * 1024; break;
	case QUEUE_MAX: c->queue_max = (unsigned)v; break;
	case QUEUE_TOTAL: c->queue_total = (unsigned)v; break;
	case SUSPEND_AFTER: c->suspend_after = v ? (unsigned)v : UINT_MAX; break; /* 0: never */
	case SUSPEND_WINDOW: c->suspend_window_ms = (unsigned)v * 1000; break;
	default: c->drain_ms = (unsigned)v; break;
	}
	return 0;
}

/* Applies one setting; the names are the long options without the dashes. */
static int config_set(struct config *cfg, const char *name, const char *value)
{
	int rc = config_set_api_limit(cfg, name, value);
	if (rc <= 0)
		return rc;
	if (strcmp(name, "db") == 0)
		return str_copy(cfg->db, sizeof(cfg->db), value);
	if (strcmp(name, "coap") == 0) {
		if (!cfg->coap_given)
			cfg->coap_count = 0; /* the first one given replaces the defaults */
		cfg->coap_given = true;
		if (cfg->coap_count == MAX_BINDS)
			return -E2BIG;
		return str_copy(cfg->coap[cfg->coap_count++], sizeof(cfg->coap[0]), value);
	}
	if (strcmp(name, "coaps") == 0) {
		if (!cfg->coaps_given)
			cfg->coaps_count = 0;
		cfg->coaps_given = true;
		if (cfg->coaps_count == MAX_BINDS)
			return -E2BIG;
		return str_copy(cfg->coaps[cfg->coaps_count++], sizeof(cfg->coaps[0]), value);
	}
	if (strcmp(name, "http") == 0)
		return str_copy(cfg->http, sizeof(cfg->http), value);
	if (strcmp(name, "max-body") == 0) {
		char *end;
		errno = 0;
		unsigned long v = strtoul(value, &end, 10);
		if (errno || *end || v < 16 || v > 65536)
			return -EINVAL;
		cfg->max_body = v;
		return 0;
	}
	if (strcmp(name, "dtls-ciphersuites") == 0)
		return dtls_server_parse_ciphersuites(&cfg->dtls, value);
	if (strcmp(name, "dtls-idle-seconds") == 0 || strcmp(name, "dtls-max-handshakes") == 0) {
		char *end;
		errno = 0;
		unsigned long v = strtoul(value, &end, 10);
		if (errno || *end || v < 1 || v > 86400)
			return -EINVAL;
		if (name[5] == 'i')
			cfg->dtls.idle_ms = (uint32_t)v * 1000;
		else
			cfg->dtls.max_handshakes = v;
		return 0;
	}
	if (strcmp(name, "max-pending-commands") == 0) {
		char *end;
		errno = 0;
		unsigned long v = strtoul(value, &end, 10);
		if (errno || *end || v < 1 || v > 10000)
			return -EINVAL;
		cfg->max_pending_commands = (unsigned)v;
		return 0;
	}
	if (strncmp(name, "push-", 5) == 0)
		return config_set_push(&cfg->push, name + 5, value);
	if (strncmp(name, "codec-", 6) == 0)
		return config_set_codec(&cfg->codec, name + 6, value);
	if (strcmp(name, "models") == 0)
		return str_copy(cfg->models, sizeof(cfg->models), value);
	if (strcmp(name, "queue-window") == 0) {
		char *end;
		errno = 0;
		unsigned long v = strtoul(value, &end, 10);
		if (errno || *end || v < 1 || v > 86400)
			return -EINVAL;
		cfg->queue_window_s = (uint32_t)v;
		return 0;
	}
	if (strcmp(name, "log-level") == 0)
		return log_level_parse(value, &log_threshold);
	return -ENOENT;
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

static int config_load(struct config *cfg, const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "lwm2md: cannot open config %s: %s\n", path, strerror(errno));
		return -errno;
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
		rc = config_set(cfg, trim(s), trim(eq + 1));
		if (rc != 0)
			fprintf(stderr, "lwm2md: %s:%d: bad setting '%s'\n", path, lineno, trim(s));
	}
	fclose(f);
	return rc;
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
	cfg->max_pending_commands = 20;
	/* push: push.h's defaults (0 fields), the address policy strict. */
	api_limits_defaults(&cfg->api);
	cfg->codec = (struct codec_worker_config){
		.threads = CODEC_WORKER_DEFAULT_THREADS,
		.queue_max = CODEC_WORKER_DEFAULT_QUEUE_MAX,
		.queue_total = CODEC_WORKER_DEFAULT_QUEUE_TOTAL,
		.suspend_after = CODEC_WORKER_DEFAULT_SUSPEND_AFTER,
		.suspend_window_ms = CODEC_WORKER_DEFAULT_SUSPEND_WINDOW_MS,
		.drain_ms = CODEC_WORKER_DEFAULT_DRAIN_MS,
		.limits = { .time_ms = CODEC_DEFAULT_TIME_MS, .memory_bytes = CODEC_DEFAULT_MEMORY },
	};
}

/* Settings that are fine alone but not together. */
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
	return config_check(cfg);
}
