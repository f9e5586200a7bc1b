/*
 * daemon: the running server — sockets, DTLS, the LwM2M server, DM requests,
 * observations and the REST API on one libuv loop — and how they are wired together.
 * daemon.c wires; metrics.c and sessions.c hold the parts that only read the wiring.
 */
#ifndef LWM2MD_DAEMON_DAEMON_H
#define LWM2MD_DAEMON_DAEMON_H

#include <stdint.h>
#include <stdio.h>

#include <uv.h>

#include "api/api.h"
#include "coap/coap_ep.h"
#include "daemon/config.h"
#include "dtls/dtls_server.h"
#include "iot/iot_devices.h"
#include "iot/iot_platform.h"
#include "iot/project_stats.h"
#include "iot/push.h"
#include "lwm2m/lwm2m_observe.h"
#include "lwm2m/lwm2m_requests.h"
#include "lwm2m/lwm2m_server.h"
#include "net/udp.h"
#include "store/store.h"

/* One CoAP socket and its message layer; on a DTLS socket, the sessions between them. */
struct listener {
	struct daemon *d;
	enum lwm2m_transport transport;
	struct net_udp *udp;
	struct dtls_server *dtls; /* NULL on plain CoAP */
	struct coap_ep *ep;
};

struct daemon {
	uv_loop_t *loop;
	struct store *store;
	struct iot_devices *devices;
	struct lwm2m_server *lwm2m;
	struct lwm2m_requests *requests;
	struct lwm2m_observations *observations;
	struct api_server *api;
	struct coap_block_pool *block_pool; /* Block1 memory of every listener */
	struct listener listeners[MAX_BINDS];
	int listener_count;
	uv_timer_t tick;
	uv_signal_t sigint, sigterm;
	uint64_t ticks;
	int dtls_restored;
	uint64_t sends; /* LwM2M Send requests accepted */
	uint64_t sends_refused; /* from peers not registered */
	uint32_t queue_window_ms;
	struct iot_platform *platform;
	struct push *push;
	/* Devices that registered or updated, handed to the platform on the next loop turn
	 * (after their answer went out: its requests must not overtake the 2.01/2.04). */
	struct active_node *active;
	uv_timer_t active_timer;
	uv_prepare_t batch;      /* commits each loop turn's writes (store_batch_commit) */
	struct project_stats_table *stats; /* per project, since started_ms (GET …/statistics) */
	int64_t started_ms;
	int lock_fd; /* flock on "<db>.lock" for the process's life (daemon_start); -1 */
	struct fw_engine *fw_engine;       /* firmware updates (daemon_firmware.c) */
	struct fw_campaigns *fw_campaigns;
};

/* Binds every socket (the API's port only checked), then locks and opens the store and
 * starts the API. 0, or a negative errno after printing
 * what failed (the caller still calls daemon_stop). */
int daemon_start(struct daemon *d, const struct config *cfg);
/* Saves what must survive, closes everything in order. */
void daemon_stop(struct daemon *d);

/* Wall-clock milliseconds; clock_ms is the same as the unsigned clock the CoAP endpoints
 * run on. */
int64_t now_ms(void);
uint64_t clock_ms(void);

void daemon_write_metrics(void *ctx, FILE *out);
void daemon_restore_dtls_sessions(struct daemon *d);
void daemon_save_dtls_sessions(struct daemon *d);
/* Creates the directory holding path when it does not exist (./var on a fresh clone). */
void ensure_parent_dir(const char *path);

#endif
