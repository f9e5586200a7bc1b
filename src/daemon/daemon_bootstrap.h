/*
 * daemon_bootstrap: the Bootstrap-Server in the daemon (daemon_bootstrap.c).
 */
#ifndef LWM2MD_DAEMON_BOOTSTRAP_H
#define LWM2MD_DAEMON_BOOTSTRAP_H

#include <stdint.h>

struct daemon;
struct config;

/* After the management listeners (their addresses are what bootstrap writes) and the
 * store: opens the bootstrap sockets when configured. 0 or a negative errno. */
int daemon_bootstrap_start(struct daemon *d, const struct config *cfg);
/* Every tick: the bootstrap endpoints' and sessions' timers. */
void daemon_bootstrap_tick(struct daemon *d, uint64_t now);
/* Before the loop's handles are closed. */
void daemon_bootstrap_stop(struct daemon *d);

#endif
