/*
 * daemon_observations: the observations table of the daemon, kept in the store — each
 * one added or removed is written through, and they are read back at start, so that a
 * device's notifications after a restart still find their observation.
 */
#include "daemon/daemon_observations.h"

#include <string.h>

#include "daemon/daemon.h"
#include "lwm2m/lwm2m_observe.h"
#include "store/store.h"
#include "util/log.h"

static void observation_added(void *ctx, const struct lwm2m_observation *o)
{
	struct daemon *d = ctx;
	char path[40], paths[LWM2M_OBSERVE_PATHS_TEXT_MAX];
	lwm2m_path_format(&o->path, path, sizeof(path));
	if (lwm2m_observation_paths_format(o, paths, sizeof(paths)) < 0 ||
	    store_observation_put(d->store, o->token, o->token_len, o->id, o->node_id, path,
				  o->format, paths) != 0)
		LOG_WARN("main", "observation %llu of '%s' not stored: a restart will lose it",
			 (unsigned long long)o->id, o->node_id);
}

static void observation_removed(void *ctx, const struct lwm2m_observation *o)
{
	struct daemon *d = ctx;
	store_observation_delete(d->store, o->token, o->token_len);
}

static int restore_observation(void *ctx, const uint8_t *token, size_t token_len, uint64_t id,
			       const char *node_id, const char *path_str, int format,
			       const char *paths_str)
{
	struct daemon *d = ctx;
	struct lwm2m_path path, paths[LWM2M_OBSERVE_PATHS_MAX];
	int count = lwm2m_observe_paths_parse(paths_str, paths, LWM2M_OBSERVE_PATHS_MAX);
	struct lwm2m_observe_request req = { .format = format, .paths = paths,
					     .path_count = count > 0 ? (size_t)count : 0 };
	if (count < 0 || lwm2m_path_parse(path_str, strlen(path_str), &path) != 0 ||
	    !lwm2m_observations_restore(d->observations, id, node_id, &path, token, token_len,
					&req))
		LOG_WARN("main", "stored observation %llu of '%s' is not valid; ignored",
			 (unsigned long long)id, node_id);
	return 0;
}

int daemon_observations_start(struct daemon *d)
{
	int rc = lwm2m_observations_create(&d->observations);
	if (rc != 0)
		return rc;
	if (store_observation_load_all(d->store, restore_observation, d) != 0)
		LOG_WARN("main", "stored observations not read; their notifications will get RST");
	static const struct lwm2m_observe_hooks observe_hooks = {
		.added = observation_added, .removed = observation_removed,
	};
	lwm2m_observations_set_hooks(d->observations, &observe_hooks, d);
	return 0;
}
