/*
 * daemon_bootstrap: the LwM2M Bootstrap-Server (src/bootstrap/) in the daemon — its
 * sockets from --bootstrap-coap/--bootstrap-coaps, the management server URIs it writes,
 * its events, its tick.
 */
#include "daemon/daemon_bootstrap.h"

#include <string.h>

#include "api/api.h"
#include "bootstrap/bs_server.h"
#include "daemon/daemon.h"
#include "daemon/daemon_firmware.h"

static void publish(void *ctx, const char *project_id, const char *device_id, const char *json)
{
	struct daemon *d = ctx;
	if (d->api)
		api_server_publish(d->api, project_id, device_id, "bootstrap", json);
}

int daemon_bootstrap_start(struct daemon *d, const struct config *cfg)
{
	if (!cfg->bootstrap_coap[0] && !cfg->bootstrap_coaps[0])
		return 0; /* off */
	struct bs_server_deps deps = {
		.loop = d->loop, .store = d->store, .dtls = cfg->dtls, .publish = publish, .ctx = d,
	};
	coap_ep_config_defaults(&deps.coap);
	deps.coap.max_body = cfg->max_body;
	deps.coap.block_pool = d->block_pool;
	daemon_uri_base(d, cfg, LWM2M_TRANSPORT_UDP, deps.mgmt_coap_uri,
			sizeof(deps.mgmt_coap_uri));
	daemon_uri_base(d, cfg, LWM2M_TRANSPORT_DTLS, deps.mgmt_coaps_uri,
			sizeof(deps.mgmt_coaps_uri));
	int rc = bs_server_create(&d->bootstrap, &deps);
	if (rc == 0 && cfg->bootstrap_coap[0])
		rc = bs_server_listen(d->bootstrap, cfg->bootstrap_coap, false);
	if (rc == 0 && cfg->bootstrap_coaps[0])
		rc = bs_server_listen(d->bootstrap, cfg->bootstrap_coaps, true);
	return rc;
}

void daemon_bootstrap_tick(struct daemon *d, uint64_t now)
{
	if (d->bootstrap)
		bs_server_tick(d->bootstrap, now);
}

void daemon_bootstrap_stop(struct daemon *d)
{
	bs_server_destroy(d->bootstrap);
	d->bootstrap = NULL;
}
