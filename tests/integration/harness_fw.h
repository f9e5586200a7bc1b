/*
 * harness_fw: what the firmware tests share — a daemon with a product "meter", devices
 * played by lwm2m-sim with object 5 (--fw), packages uploaded and campaigns run through
 * the REST API (docs/firmware.md).
 */
#ifndef LWM2MD_TEST_HARNESS_FW_H
#define LWM2MD_TEST_HARNESS_FW_H

#include <stdbool.h>
#include <sys/types.h>

#include <jansson.h>

#include "harness.h"

#define FW_MAX_SIMS 64
#define FW_KEY_HEX "73696d2d7365637265742d31"

struct fw_sim {
	pid_t pid;
	char node[32];
	char dev[48];
	char out[320];
	bool secure;
};

struct fw_fixture {
	struct daemon_proc d;
	struct fw_sim sims[FW_MAX_SIMS];
	int sim_count;
};

/* Starts the daemon (extra args may be NULL) with product "meter". */
void fw_setup(struct fw_fixture *f, const char *const *args);
/* Stops every simulator and the daemon. */
void fw_teardown(struct fw_fixture *f);

/* Creates device node (secure: DTLS with FW_KEY_HEX) and starts lwm2m-sim for it with
 * --fw and extra; waits until it registered unless wait is false. Returns its index. */
int fw_sim_start(struct fw_fixture *f, const char *node, bool secure, const char *extra,
		 bool wait);
/* Starts sims[i]'s simulator (again: a device that restarted, its output appended). */
void fw_sim_launch(struct fw_fixture *f, int i, const char *extra, bool wait);
void fw_sim_stop(struct fw_sim *s);
const char *fw_sim_output(const struct fw_sim *s);
/* Waits for needle in the simulator's output: 0 or -1. */
int fw_sim_wait(const struct fw_sim *s, const char *needle, int timeout_ms);

/* Uploads a package for "meter" whose bytes start "LWM2MFW version=<version>\n" and are
 * size bytes long; the package id goes into id (64 bytes). */
void fw_upload(struct fw_fixture *f, const char *version, size_t size, char id[64]);
/* POSTs a campaign (JSON body) and returns its id (64 bytes); fails the test unless 201. */
void fw_campaign_create(struct fw_fixture *f, const char *body, char id[64]);
/* GET of the campaign (caller json_decref's). */
json_t *fw_campaign_get(struct fw_fixture *f, const char *id);
/* counts.<state> of a campaign document. */
int fw_count(json_t *campaign, const char *state);
/* Polls the campaign until its status is want (or timeout): the last document (caller
 * frees); fails the test on timeout, showing it. */
json_t *fw_campaign_wait_status(struct fw_fixture *f, const char *id, const char *want,
				int timeout_ms);
/* The campaign's targets, GET …/devices (caller frees). */
json_t *fw_campaign_devices(struct fw_fixture *f, const char *id);

#endif
