/*
 * daemon_firmware: the firmware engine and campaigns in the daemon (daemon_firmware.c).
 */
#ifndef LWM2MD_DAEMON_FIRMWARE_H
#define LWM2MD_DAEMON_FIRMWARE_H

#include <stdint.h>

struct daemon;
struct config;

/* After the requests and observations, before the API: creates the engine (with the
 * Package URI's addresses from the sockets or --firmware-uri-host) and the campaigns. */
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
