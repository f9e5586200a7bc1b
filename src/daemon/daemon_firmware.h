/*
 * daemon_firmware: the firmware engine and campaigns in the daemon (daemon_firmware.c).
 */
#ifndef LWM2MD_DAEMON_FIRMWARE_H
#define LWM2MD_DAEMON_FIRMWARE_H

#include <stddef.h>
#include <stdint.h>

struct daemon;
struct config;

/* "coap://HOST:PORT" (or coaps) of this server as devices reach it over transport:
 * --public-host with the first such socket's port, or that socket's own address when it
 * is not a wildcard; "" when there is none. */
void daemon_uri_base(const struct daemon *d, const struct config *cfg, int transport,
		     char *out, size_t cap);
/* After the requests and observations, before the API: creates the engine (with the
 * Package URI's addresses from the sockets or --public-host) and the campaigns. */
int daemon_firmware_start(struct daemon *d, const struct config *cfg);
/* After the API: stored campaigns go on where they were. */
int daemon_firmware_load(struct daemon *d);
/* Every loop tick: campaigns start devices where updates ended. */
void daemon_firmware_poll(struct daemon *d, int64_t now);
/* Every second: phase deadlines, pacing, retries. */
void daemon_firmware_tick(struct daemon *d, int64_t now);
/* Before the requests are destroyed. */
void daemon_firmware_stop(struct daemon *d);

#endif
