/*
 * daemon_observations: the daemon's observations, written through to the store and read
 * back at start (daemon_observations.c).
 */
#ifndef LWM2MD_DAEMON_OBSERVATIONS_H
#define LWM2MD_DAEMON_OBSERVATIONS_H

struct daemon;

/* Creates d->observations, loads the stored ones and hooks the store to it. 0 or a
 * negative errno. */
int daemon_observations_start(struct daemon *d);

#endif
