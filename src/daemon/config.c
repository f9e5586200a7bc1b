/*
 * config: flags, the config file, defaults.
 */
#include "daemon/config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "coap/coap_block_pool.h"
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
		"  --dtls-max-handshakes-per-address N  of them from one IP address (default 16)\n"
		"  --dtls-handshake-stall-seconds N  end a handshake its peer has not moved on\n"
		"                     for N s (default 10)\n"
		"  --dtls-psk-max-failures N  wrong keys for one identity within 60 s that make it\n"
		"                     back off (default 5)\n"
		"  --dtls-psk-backoff-seconds N  the first backoff; each further one doubles\n"
		"                     (default 30)\n"
		"  --dtls-psk-backoff-max-seconds N  the longest backoff (default 300)\n"
		"  --http HOST:PORT   REST API (default 127.0.0.1:8080)\n"
		"  --max-body N       largest CoAP body without block-wise (default 1024)\n"
		"  --block1-pool-mib N  memory for all block-wise uploads in progress together;\n"
		"                     the longest-stalled are dropped for room (default 16)\n"
		"  --models DIR       load object definitions (OMA DDF XML, *.xml) from DIR\n"
		"  --max-pending-commands N  open commands per device (default 20)\n"
		"  --push-outbox-max N  events kept for applications' endpoints before the oldest\n"
		"                     are dropped (default 100000)\n"
		"  --queue-window N   seconds a queue-mode device listens after each message "
		"(default 93)\n"
		"  --log-level LEVEL  debug, info, warn or error (default info)\n"
		"A port of 0 picks a free port; each bound socket is printed as\n"
		"'listening <coap|coaps|http> HOST:PORT' on standard output.\n");
}

/* value as a whole decimal number in [min, max]: 0 or -EINVAL. */
static int parse_range(const char *value, unsigned long min, unsigned long max,
		       unsigned long *out)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(value, &end, 10);
	if (errno || end == value || *end || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

/* The DTLS server's limits on handshakes and wrong keys (docs/internals/dtls.md):
 * 0, -EINVAL, or -ENOENT when name is none of them. */
static int config_set_dtls_limit(struct dtls_server_config *dtls, const char *name,
				 const char *value)
{
	unsigned long v;
	if (strcmp(name, "dtls-max-handshakes-per-address") == 0) {
		if (parse_range(value, 1, 86400, &v) != 0)
			return -EINVAL;
		dtls->max_handshakes_per_addr = v;
	} else if (strcmp(name, "dtls-handshake-stall-seconds") == 0) {
		if (parse_range(value, 1, 3600, &v) != 0)
			return -EINVAL;
		dtls->handshake_stall_ms = (uint32_t)v * 1000;
	} else if (strcmp(name, "dtls-psk-max-failures") == 0) {
		if (parse_range(value, 1, 1000, &v) != 0)
			return -EINVAL;
		dtls->psk_max_failures = (uint32_t)v;
	} else if (strcmp(name, "dtls-psk-backoff-seconds") == 0) {
		if (parse_range(value, 1, 86400, &v) != 0)
			return -EINVAL;
		dtls->psk_backoff_ms = (uint32_t)v * 1000;
	} else if (strcmp(name, "dtls-psk-backoff-max-seconds") == 0) {
		if (parse_range(value, 1, 86400, &v) != 0)
			return -EINVAL;
		dtls->psk_backoff_max_ms = (uint32_t)v * 1000;
	} else {
		return -ENOENT;
	}
	return 0;
}

/* Applies one setting; the names are the long options without the dashes. */
static int config_set(struct config *cfg, const char *name, const char *value)
{
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
	if (strcmp(name, "block1-pool-mib") == 0) {
		unsigned long v;
		/* 1 MiB holds 15 uploads of the 64 KiB maximum; 4 GiB is past any sane need. */
		if (parse_range(value, 1, 4096, &v) != 0)
			return -EINVAL;
		cfg->block1_pool_bytes = (size_t)v << 20;
		return 0;
	}
	if (strcmp(name, "dtls-ciphersuites") == 0)
		return dtls_server_parse_ciphersuites(&cfg->dtls, value);
	int rc = config_set_dtls_limit(&cfg->dtls, name, value);
	if (rc != -ENOENT)
		return rc;
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
	if (strcmp(name, "push-outbox-max") == 0) {
		char *end;
		errno = 0;
		unsigned long v = strtoul(value, &end, 10);
		if (errno || *end || v < 1 || v > 100000000)
			return -EINVAL;
		cfg->push_outbox_max = (int64_t)v;
		return 0;
	}
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
	cfg->block1_pool_bytes = COAP_BLOCK_POOL_DEFAULT_BYTES;
	cfg->max_pending_commands = 20;
	cfg->push_outbox_max = 100000;
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
	return 0;
}
