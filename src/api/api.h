/*
 * api: the REST API for applications, shaped like the IoTDA v5 API (docs/api.md).
 *
 * libmicrohttpd serves it from the daemon's libuv loop (MHD's epoll fd watched with
 * uv_poll, its timeout with a uv_timer): no extra thread touches device state. Every
 * /v5 route needs an X-Auth-Token scoped to the path's project.
 */
#ifndef LWM2MD_API_H
#define LWM2MD_API_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <uv.h>

#include "util/addr.h"

struct store;
struct lwm2m_server;
struct lwm2m_requests;
struct lwm2m_observations;
struct api_server;

struct iot_platform;
struct push;
struct project_stats_table;
struct fw_campaigns;

/*
 * What one client may hold of the API, so that nobody can starve /health and the other
 * projects (docs/api.md "Limits"). A field left 0 takes its default (api_limits_defaults).
 */
struct api_limits {
	unsigned max_connections;        /* open HTTP connections (256) */
	unsigned max_connections_per_ip; /* of them from one client address (128) */
	unsigned request_timeout_s;      /* to receive a whole request (10) */
	unsigned max_streams;            /* open event streams (64) */
	unsigned max_streams_per_token;  /* of them on one X-Auth-Token (16) */
	unsigned heartbeat_s;            /* between heartbeat comments on a stream (15) */
};

/* Fills the fields that are 0 with the defaults. */
void api_limits_defaults(struct api_limits *limits);
/* Connections kept free for new clients: when fewer are left, the oldest connection still
 * sending its request is closed. A sixteenth of max_connections, at least 2. */
unsigned api_limits_reserve(const struct api_limits *limits);

struct api_deps {
	struct store *store;
	/* Live registrations, shown in a device's GET. */
	struct lwm2m_server *lwm2m;
	/* Device Management requests to registered devices (the /lwm2m routes); NULL answers
	 * those routes 503. */
	struct lwm2m_requests *requests;
	/* Observations made through the API (with requests). */
	struct lwm2m_observations *observations;
	/* Called after a device was deleted, or its secret reset, so that its live
	 * registration (and later its DTLS sessions) end. May be NULL. */
	void (*device_removed)(void *ctx, const char *node_id);
	void (*secret_reset)(void *ctx, const char *node_id);
	/* The platform layer (codecs, commands); NULL answers its routes 503. */
	struct iot_platform *platform;
	/* Push to applications: the forwarding rules' URL policy and limits; may be NULL
	 * (the default policy). */
	struct push *push;
	/* Per-project counters and the census of sleeping queue-mode devices (GET
	 * …/statistics); NULL answers zeros. */
	struct project_stats_table *stats;
	/* Firmware campaigns (docs/firmware.md); NULL answers their routes 503. */
	struct fw_campaigns *firmware;
	int64_t started_ms;       /* when the daemon started (wall clock): "since" */
	uint32_t queue_window_ms; /* a queue-mode device silent this long is asleep */
	/* The ciphersuite of node_id's DTLS session ("TLS-PSK-WITH-AES-128-CCM-8"), or NULL
	 * when it has none; may be NULL. */
	const char *(*cipher_suite)(void *ctx, const char *node_id);
	/* Writes the daemon's Prometheus metrics (everything but the API's own). */
	void (*metrics)(void *ctx, FILE *out);
	void *ctx;
	struct api_limits limits;
	/* Firmware packages (docs/firmware.md): the directory of their files ("" answers
	 * uploads 503) and the largest upload (0: FW_PACKAGE_DEFAULT_MAX_BYTES). */
	char firmware_dir[512];
	uint64_t firmware_max_bytes;
};

/* Starts serving on bind (port 0 picks a free port). deps is copied. Returns 0 or a
 * negative errno (-EADDRINUSE, ...). */
int api_server_start(struct api_server **out, uv_loop_t *loop, const struct addr *bind,
		     const struct api_deps *deps);
/* The address actually bound. */
int api_server_local_addr(const struct api_server *api, struct addr *out);
/* Whether anyone listens to the event stream (so that publishers can skip the work). */
bool api_server_has_subscribers(const struct api_server *api);
/* Sends an event (SSE "event: <event>", data json) to the project's subscribers, those of
 * device_id or of every device. */
void api_server_publish(struct api_server *api, const char *project_id, const char *device_id,
			const char *event, const char *json);

struct lwm2m_observation;
/* Publishes a notification of observation o (decoded like a Read) as a "notification"
 * event. */
void api_server_publish_notification(struct api_server *api, const char *project_id,
				     const char *device_id, const struct lwm2m_observation *o);

/* Publishes a device's Send (POST /dp) as a "send" event with its decoded values. */
void api_server_publish_send(struct api_server *api, const char *project_id,
			     const char *device_id, const char *node_id, int format,
			     const uint8_t *payload, size_t len);

/* The daemon committed the loop turn's writes (rc 0) or failed to (rc < 0). Answers held
 * because they report a change of that turn are sent now: as they are after a commit, as
 * 500 after a failed one (the change was rolled back). */
void api_server_committed(struct api_server *api, int rc);

/* Stops serving and frees; close callbacks run on the next loop turn. Accepts NULL. */
void api_server_stop(struct api_server *api);

#endif
