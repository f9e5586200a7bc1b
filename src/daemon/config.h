/*
 * config: the daemon's settings, from flags and an optional 'name = value' file (names as
 * the long options). Defaults are what `make run` needs on a fresh machine.
 */
#ifndef LWM2MD_DAEMON_CONFIG_H
#define LWM2MD_DAEMON_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "api/api.h"
#include "dtls/dtls_server.h"
#include "iot/push.h"
#include "iot/codec_worker.h"

#define LWM2MD_VERSION "0.1.0"
#define MAX_BINDS 8

struct config {
	char db[512];
	char coap[MAX_BINDS][64];
	int coap_count;
	char coaps[MAX_BINDS][64];
	int coaps_count;
	char http[64];
	size_t max_body;
	size_t block1_pool_bytes; /* all Block1 uploads together (default 16 MiB) */
	bool coap_given;
	bool coaps_given;
	uint32_t queue_window_s;
	unsigned max_pending_commands; /* open commands per device (default 20) */
	unsigned register_settle_ms;   /* re-Register storms (iot_devices.h); 0: off */
	struct push_config push;       /* the --push-* flags; 0 fields take push.h's defaults */
	char models[512]; /* a directory of DDF XML files, or "" */
	char firmware_uri_host[128]; /* the Package URI's host for pulls, or "" (daemon_firmware.c) */
	struct codec_worker_config codec; /* the codec threads: --codec-* */
	struct dtls_server_config dtls;
	struct api_limits api; /* --http-max-connections, --events-max-streams, ... */
	char firmware_dir[512];    /* package files; "" until config_from_args: <db>.firmware */
	size_t firmware_max_bytes; /* the largest package upload (default 64 MiB) */
};

void config_defaults(struct config *cfg);
/* Parses argv from index first. Returns 0, 1 when --help/--version was answered, or
 * a negative errno after printing what was wrong. */
int config_from_args(struct config *cfg, int argc, char **argv, int first);
void config_usage(FILE *out);
/* A config file with every setting commented out at its default, each under its help
 * (`lwm2md --print-config`; the installed example lwm2md.conf). */
void config_print_file(FILE *out);

#endif
