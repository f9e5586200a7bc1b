/*
 * daemon_firmware: the firmware engine and campaigns (src/firmware/) wired into the
 * daemon — which address devices pull packages from, the once-a-second tick, and the
 * order of start and stop.
 */
#include "daemon/daemon_firmware.h"

#include <stdio.h>
#include <string.h>

#include "daemon/daemon.h"
#include "firmware/fw_campaign.h"
#include "firmware/fw_engine.h"
#include "net/udp.h"
#include "util/log.h"

static bool is_wildcard(const struct addr *a)
{
	static const uint8_t zero[16];
	return memcmp(a->ip, zero, a->family == AF_INET ? 4 : 16) == 0;
}

/* "coap://HOST:PORT" for the first listener of transport with an address devices can
 * use: --public-host with the socket's port, or the socket's own address when it
 * is not a wildcard. "" when there is none. */
void daemon_uri_base(const struct daemon *d, const struct config *cfg, int transport,
		     char *out, size_t cap)
{
	const char *scheme = transport == LWM2M_TRANSPORT_DTLS ? "coaps" : "coap";
	const char *host = cfg->public_host;
	out[0] = '\0';
	for (int i = 0; i < d->listener_count; i++) {
		const struct listener *l = &d->listeners[i];
		struct addr local;
		char buf[ADDR_STR_MAX];
		if ((int)l->transport != transport)
			continue;
		net_udp_local_addr(l->udp, &local);
		if (host[0]) {
			/* An IPv6 literal goes in brackets (RFC 3986 §3.2.2). */
			bool v6 = strchr(host, ':') && host[0] != '[';
			snprintf(out, cap, "%s://%s%s%s:%u", scheme, v6 ? "[" : "", host,
				 v6 ? "]" : "", local.port);
			return;
		}
		if (!is_wildcard(&local)) {
			snprintf(out, cap, "%s://%s", scheme, addr_format(&local, buf));
			return;
		}
	}
}

static void on_job_changed(void *ctx, struct fw_job *job)
{
	struct daemon *d = ctx;
	fw_campaigns_job_changed(d->fw_campaigns, job);
}

int daemon_firmware_start(struct daemon *d, const struct config *cfg)
{
	struct fw_engine_config ecfg;
	memset(&ecfg, 0, sizeof(ecfg));
	daemon_uri_base(d, cfg, LWM2M_TRANSPORT_UDP, ecfg.coap_base, sizeof(ecfg.coap_base));
	daemon_uri_base(d, cfg, LWM2M_TRANSPORT_DTLS, ecfg.coaps_base, sizeof(ecfg.coaps_base));
	if (!ecfg.coap_base[0] && !ecfg.coaps_base[0])
		LOG_INFO("firmware", "no address for devices to pull firmware from (the sockets "
				     "are wildcards): firmware goes by push unless "
				     "--public-host is set");
	static const struct fw_engine_hooks hooks = { .changed = on_job_changed };
	int rc = fw_engine_create(&d->fw_engine, d->loop, d->lwm2m, d->requests,
				  d->observations, &ecfg, &hooks, d);
	if (rc != 0)
		return rc;
	struct fw_campaigns_deps deps = {
		.store = d->store, .engine = d->fw_engine, .firmware_dir = cfg->firmware_dir,
		.push = d->push,
	};
	return fw_campaigns_create(&d->fw_campaigns, d->loop, &deps);
}

int daemon_firmware_load(struct daemon *d)
{
	fw_campaigns_set_api(d->fw_campaigns, d->api);
	int rc = fw_campaigns_load(d->fw_campaigns);
	if (rc != 0)
		LOG_ERROR("firmware", "stored campaigns not loaded: %s", strerror(-rc));
	return rc;
}

void daemon_firmware_poll(struct daemon *d, int64_t now)
{
	fw_campaigns_poll(d->fw_campaigns, now);
}

void daemon_firmware_tick(struct daemon *d, int64_t now)
{
	if (!d->fw_engine)
		return;
	fw_engine_tick(d->fw_engine, now);
	fw_campaigns_tick(d->fw_campaigns, now);
}

void daemon_firmware_stop(struct daemon *d)
{
	/* The engine first: its index points into the campaigns' jobs; it cancels what is
	 * still in flight and lets go of them (the stored rows keep where each device was).
	 * Then the campaigns free the jobs. */
	fw_engine_destroy(d->fw_engine);
	d->fw_engine = NULL;
	fw_campaigns_destroy(d->fw_campaigns);
	d->fw_campaigns = NULL;
}
