/*
 * lwm2md: the daemon's entry point. Reads flags and an optional config file, starts the
 * daemon (src/daemon/) and runs its loop until SIGINT/SIGTERM, after which everything
 * pending is flushed to the store.
 *
 *   lwm2md [--config FILE] [--db PATH] [--coap HOST:PORT]... [--coaps HOST:PORT]
 *          [--http HOST:PORT] [--max-body N] [--log-level LEVEL] ... (--help)
 *   lwm2md token create|list|revoke ..., lwm2md project list|create|delete ... (admin.h)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/admin.h"
#include "daemon/daemon.h"
#include "util/log.h"

int main(int argc, char **argv)
{
	int admin = admin_main(argc, argv); /* token and project subcommands (admin.h) */
	if (admin >= 0)
		return admin;

	struct config cfg;
	config_defaults(&cfg);
	int rc = config_from_args(&cfg, argc, argv, 1);
	if (rc != 0)
		return rc > 0 ? 0 : 2;

	struct daemon d;
	memset(&d, 0, sizeof(d));
	d.loop = uv_default_loop();
	rc = daemon_start(&d, &cfg);
	if (rc == 0) {
		LOG_INFO("main", "lwm2md %s ready", LWM2MD_VERSION);
		uv_run(d.loop, UV_RUN_DEFAULT);
	}
	daemon_stop(&d);
	uv_loop_close(d.loop);
	LOG_INFO("main", "stopped");
	return rc == 0 ? 0 : 1;
}
