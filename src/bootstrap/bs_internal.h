/*
 * bs_internal: what bs_server.c (listeners, Bootstrap-Request, credentials) and
 * bs_session.c (the sequence run against one device) share. Not for other modules.
 */
#ifndef LWM2MD_BS_INTERNAL_H
#define LWM2MD_BS_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "bootstrap/bs_config.h"
#include "bootstrap/bs_server.h"
#include "lwm2m/lwm2m_dm.h"
#include "store/store.h"
#include "util/addr.h"
#include "util/hash.h"

#define BS_MAX_LISTENERS 4
/* A whole bootstrap, from the 2.04 to Finish's answer. */
#define BS_SESSION_TIMEOUT_MS 120000
/* Each request of the sequence (CoAP retransmits within it). */
#define BS_REQUEST_TIMEOUT_MS 60000
#define BS_DEFAULT_MAX_SESSIONS 1000

struct bs_listener {
	struct bs_server *bs;
	bool dtls;
	struct net_udp *udp;
	struct dtls_server *dtls_srv; /* NULL on plain CoAP */
	struct coap_ep *ep;
};

/* The steps of a bootstrap, in order (STEP_DISCOVER only when configured). */
enum bs_step {
	BS_STEP_START = 0,  /* answered 2.04; the sequence starts on the next loop turn */
	BS_STEP_DISCOVER,
	BS_STEP_DELETE_SECURITY,
	BS_STEP_DELETE_SERVER,
	BS_STEP_WRITE_SECURITY,
	BS_STEP_WRITE_SERVER,
	BS_STEP_FINISH,
};

/* One device bootstrapping. */
struct bs_session {
	struct hmap_node by_node;
	struct bs_server *bs;
	struct bs_session *next_start; /* in bs->starting */
	struct bs_listener *l;
	struct addr peer;
	char node_id[STORE_NODE_ID_MAX + 1];
	char project_id[STORE_ID_MAX + 1];
	char device_id[STORE_ID_MAX + 1];
	char secret[STORE_SECRET_MAX + 1]; /* the management secret (hex) */
	struct bs_config cfg;           /* the effective configuration */
	int pct;                        /* the device's preferred content format, or -1 */
	enum bs_step step;
	uint64_t request;               /* in flight, 0 when none */
	uint16_t security_instance;     /* where the management Security instance goes */
	int64_t started_ms;
};

struct bs_server {
	struct bs_server_deps deps;
	struct bs_listener listeners[BS_MAX_LISTENERS];
	int listener_count;
	struct lwm2m_requests *requests; /* our own, to devices bootstrapping */
	struct hmap sessions;            /* by node_id */
	struct bs_session *starting;     /* answered, to start on the next turn */
	uv_timer_t kick;
	struct bs_server_stats stats;
};

/* bs_session.c */
/* Starts the sequence (the 2.04 went out). */
void bs_session_begin(struct bs_session *s);
/* Ends it: history, event, stats; the session is freed. */
void bs_session_end(struct bs_session *s, bool ok, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
struct bs_session *bs_session_find(struct bs_server *bs, const char *node_id);
void bs_session_free(struct bs_session *s);
/* Ends sessions older than BS_SESSION_TIMEOUT_MS. */
void bs_sessions_expire(struct bs_server *bs, int64_t now_ms);


#endif
