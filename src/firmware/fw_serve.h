/*
 * fw_serve: the pull side of a firmware update — lwm2md as the CoAP server a device
 * downloads its package from (docs/firmware.md "Pull").
 *
 * The engine writes /5/0/1 Package URI = coap[s]://<this server>/fw/<token>, a random
 * token bound to that device's update. The device then GETs it block by block (RFC 7959
 * Block2) on the listener it registered on — over DTLS inside its own session. Each block
 * is read from the package file (pread into one buffer of the loop thread), so a thousand
 * devices downloading the same package share one file and no copy. Any block size the
 * device asks (16–1024 bytes) and any order: a device that restarts its download asks
 * for the block it wants next, after a daemon restart too (the token is stored).
 *
 * Who may fetch: only the device the token was made for (over DTLS its PSK identity,
 * over plain CoAP the address it registered from), only while its download may run.
 * Anyone else gets 4.04 for an unknown or expired token and 4.03 for another device's.
 */
#ifndef LWM2MD_FW_SERVE_H
#define LWM2MD_FW_SERVE_H

#include <stdbool.h>
#include <stdint.h>

#include "coap/coap_msg.h"
#include "lwm2m/lwm2m_server.h"
#include "util/addr.h"

struct fw_engine;

/* The first Uri-Path segment of a download. */
#define FW_SERVE_PATH "fw"

/* Is req for /fw/...? (The daemon routes it here rather than to the registration
 * interface.) */
bool fw_serve_wants(const struct coap_msg *req);

/*
 * Serves req (a fw_serve_wants request) that came over transport from peer (identity:
 * its DTLS PSK identity, NULL on plain CoAP). Sets resp's code, options and payload; the
 * payload points into a buffer valid until the next call.
 */
void fw_serve_handle(struct fw_engine *e, struct lwm2m_server *lwm2m,
		     enum lwm2m_transport transport, const char *identity,
		     const struct addr *peer, const struct coap_msg *req, struct coap_msg *resp,
		     int64_t now_ms);

#endif
