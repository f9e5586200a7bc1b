/*
 * admin: the daemon binary's subcommands on a database, run instead of the daemon:
 *
 *   lwm2md token create --db PATH --project P [--name NAME] [--expires DURATION|DATE]
 *   lwm2md token list --db PATH [--project P]
 *   lwm2md token revoke --db PATH ID
 *   lwm2md project list|create P|delete P --db PATH
 */
#ifndef LWM2MD_DAEMON_ADMIN_H
#define LWM2MD_DAEMON_ADMIN_H

#include <stdint.h>

/* Runs the subcommand argv names, returning its exit status; -1 when argv names none
 * (argv is the daemon's). */
int admin_main(int argc, char **argv);

/* An expiry as given to --expires, relative to now (Unix seconds): a duration ("90d",
 * "12h", "30m", "3600s", or seconds alone) or a date ("2027-01-31", "2027-01-31T12:00:00Z"
 * or "20270131T120000Z", UTC). The Unix time it names, or -1 when it is not one or not to
 * come. */
int64_t admin_parse_expiry(const char *s, int64_t now);

#endif
