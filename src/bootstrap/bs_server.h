/*
 * bs_server: the LwM2M 1.1 Bootstrap-Server (Core §6.1, Transport §6.1):
 * client-initiated bootstrap on its own listeners, plain CoAP and DTLS-PSK
 * (docs/bootstrap.md).
 *
 * A device sends POST /bs?ep=<node ID>[&pct=<format>]; over DTLS its PSK identity is its
 * bootstrap identity (a device's own configuration, or its node ID under its product's
 * template, the key then derived from the template's master key). The server answers
 * 2.04, then runs the sequence against the device: Bootstrap-Discover (optional),
 * Bootstrap-Delete of /0 and /1 but the Bootstrap-Server's own Security instance,
 * Bootstrap-Write of the management server's Security and Server instances (TLV, or
 * SenML CBOR when pct asked for it), Bootstrap-Finish. Every answer is checked; the
 * outcome is kept in the device's history and published.
 *
 * It owns its sockets, DTLS sessions and CoAP endpoints, apart from the management
 * listeners: a bootstrap credential is refused on the management port and a management
 * secret here.
 */
#ifndef LWM2MD_BS_SERVER_H
#define LWM2MD_BS_SERVER_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "coap/coap_ep.h"
#include "dtls/dtls_server.h"

struct store;
struct bs_server;

struct bs_server_deps {
	uv_loop_t *loop;
	struct store *store;
	struct coap_ep_config coap;      /* as the management listeners' */
	struct dtls_server_config dtls;  /* limits, ciphersuites */
	/* This lwm2md's management server URIs ("coap://HOST:PORT", "coaps://HOST:PORT";
	 * "" when unknown), written when a configuration names no server_uri. */
	char mgmt_coap_uri[192];
	char mgmt_coaps_uri[192];
	/* A bootstrap ended: event "bootstrap" with its JSON (docs/bootstrap.md). May be
	 * NULL. */
	void (*publish)(void *ctx, const char *project_id, const char *device_id,
			const char *json);
	void *ctx;
	uint32_t max_sessions;           /* bootstraps in progress at once; default 1000 */
};

struct bs_server_stats {
	uint64_t requests;        /* POST /bs received */
	uint64_t refused;         /* unknown endpoint, not allowed, too many in progress */
	uint64_t succeeded;
	uint64_t failed;
	uint64_t in_progress;     /* gauge */
};

int bs_server_create(struct bs_server **out, const struct bs_server_deps *deps);
/* Opens a listener on where ("HOST:PORT"), DTLS when dtls; prints "listening
 * bootstrap-coap[s] ADDR" as the management listeners print theirs. 0 or a negative
 * errno. */
int bs_server_listen(struct bs_server *bs, const char *where, bool dtls);
/* Every 50 ms or so: the endpoints' and sessions' timers. */
void bs_server_tick(struct bs_server *bs, uint64_t now_ms);
/* Closes the sockets and frees. Accepts NULL. */
void bs_server_destroy(struct bs_server *bs);
const struct bs_server_stats *bs_server_stats(const struct bs_server *bs);

#endif
