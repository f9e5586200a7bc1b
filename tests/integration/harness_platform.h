/*
 * harness_platform: the platform tests' device — the test itself on a raw UDP socket,
 * playing device "wm_meter1" (node "meter1") of product "wm" in project "p1" — and the API
 * calls those tests share. Every byte the platform sends is seen by the test.
 */
#ifndef LWM2MD_HARNESS_PLATFORM_H
#define LWM2MD_HARNESS_PLATFORM_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "harness.h"

struct platform_fixture {
	struct daemon_proc d;
	int fd;
	char reg_id[32];
	uint8_t obs_token[8];
	size_t obs_token_len;
	uint32_t obs_seq;
	const char *kind; /* "declarative" or "js" */
};

/* One API call; fails the test unless the status is want. body is taken. */
void api_ok(struct daemon_proc *d, const char *method, const char *path, json_t *body,
	    int want, char *resp, size_t cap);
/* Uploads product wm's codec. */
void put_codec(struct platform_fixture *f, const char *kind, const char *source);
/* Starts the daemon (extra args may be NULL), creates product wm (binary, the model given)
 * with a codec of kind (source), device wm_meter1, and the device's socket. */
struct platform_fixture *platform_start(const char *kind, const char *model,
					const char *source, const char *const *args);
/* A cmocka teardown: stops the daemon, which must exit 0 (under the sanitizers: no leak,
 * no report), and frees the fixture. */
int platform_teardown(void **state);

/* Sends a message of type/code with token, Content-Format opaque, Observe (when >= 0). */
void device_send(struct platform_fixture *f, uint8_t type, uint8_t code, uint16_t mid,
		 const uint8_t *token, size_t token_len, long observe, const void *payload,
		 size_t len);
/* Registers, and answers the platform's Observe of /19/0/0 with a first report. */
void register_and_observe(struct platform_fixture *f, const uint8_t *first, size_t len);
/* A report or answer on the uplink: a CON notification, ACKed by the server. */
void device_notify(struct platform_fixture *f, const uint8_t *payload, size_t len);
/* The shadow's reported properties of WaterMeter, polled until version reaches want. */
json_t *shadow_reported(struct platform_fixture *f, int want_version);
/* An integer property's value. */
json_int_t prop(json_t *props, const char *name);
/* The command's JSON, polled until its status is want. */
json_t *command_wait(struct platform_fixture *f, const char *id, const char *want);
/* Creates a SET_INTERVAL command (expire < 0: the default); returns its JSON when
 * want_status is 201. */
json_t *command_create(struct platform_fixture *f, int interval, const char *strategy,
		       int expire, int want_status, char *resp, size_t cap);
/* The device takes PUT /19/1/0 and checks its bytes: [1, mid, interval]. Returns mid. */
int device_take_command(struct platform_fixture *f, int interval);

#endif
