/*
 * lwm2md: the daemon's entry point. Reads flags and an optional config file, starts the
 * daemon (src/daemon/) and runs its loop until SIGINT/SIGTERM, after which everything
 * pending is flushed to the store.
 *
 *   lwm2md [--config FILE] [--db PATH] [--coap HOST:PORT]... [--coaps HOST:PORT]
 *          [--http HOST:PORT] [--max-body N] [--log-level LEVEL] ... (--help)
 *   lwm2md token create --db PATH --project P
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/daemon.h"
#include "util/log.h"
#include "util/token.h"

static int token_create(int argc, char **argv)
{
	const char *db = NULL, *project = NULL;
	for (int i = 3; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--db") == 0)
			db = argv[i + 1];
		else if (strcmp(argv[i], "--project") == 0)
			project = argv[i + 1];
	}
	if (!db || !project || argc % 2 == 0) {
		fprintf(stderr, "usage: lwm2md token create --db PATH --project PROJECT\n");
		return 2;
	}
	size_t plen = strlen(project);
	if (plen == 0 || plen > STORE_ID_MAX || strspn(project, "abcdefghijklmnopqrstuvwxyz"
							   "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
							   "0123456789_-") != plen) {
		fprintf(stderr, "lwm2md: project must be 1-%d of [A-Za-z0-9_-]\n", STORE_ID_MAX);
		return 2;
	}
	ensure_parent_dir(db);
	struct store *store;
	int rc = store_open(&store, db);
	if (rc != 0) {
		fprintf(stderr, "lwm2md: cannot open %s: %s\n", db, strerror(-rc));
		return 1;
	}
	char token[TOKEN_HEX_LEN + 1], hash[TOKEN_HEX_LEN + 1];
	rc = token_random_hex(token, sizeof(token), TOKEN_HEX_LEN / 2);
	if (rc == 0) {
		token_hash(token, hash);
		rc = store_project_ensure(store, project);
	}
	if (rc == 0)
		rc = store_token_insert(store, project, hash);
	store_close(store);
	if (rc != 0) {
		fprintf(stderr, "lwm2md: token not created: %s\n", strerror(-rc));
		return 1;
	}
	printf("%s\n", token);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 3 && strcmp(argv[1], "token") == 0 && strcmp(argv[2], "create") == 0)
		return token_create(argc, argv);

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
