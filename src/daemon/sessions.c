/*
 * sessions: DTLS sessions saved to the store at shutdown and taken back at start, so
 * devices keep their sessions across a restart (docs/internals/dtls.md).
 */
#include <stdio.h>
#include <string.h>

#include "daemon/daemon.h"
#include "util/log.h"

static int restore_one_session(void *ctx, const char *identity, const char *peer_str,
			       const uint8_t *data, size_t len)
{
	struct daemon *d = ctx;
	struct addr peer;
	if (addr_parse(&peer, peer_str) != 0)
		return 0;
	for (int i = 0; i < d->listener_count; i++) {
		struct listener *l = &d->listeners[i];
		struct addr local;
		if (!l->dtls)
			continue;
		net_udp_local_addr(l->udp, &local);
		if (local.family != peer.family)
			continue;
		if (dtls_server_restore(l->dtls, identity, &peer, data, len, (uint64_t)now_ms()) == 0)
			d->dtls_restored++;
		break;
	}
	return 0;
}

void daemon_restore_dtls_sessions(struct daemon *d)
{
	int rc = store_dtls_session_take_all(d->store, restore_one_session, d);
	if (rc != 0)
		LOG_WARN("main", "saved DTLS sessions not restored: %s", strerror(-rc));
	else if (d->dtls_restored)
		LOG_INFO("main", "%d saved DTLS sessions restored", d->dtls_restored);
}

struct save_ctx {
	struct daemon *d;
	int saved;
};

static int save_one_session(void *ctx, const char *identity, const struct addr *peer,
			    const uint8_t *data, size_t len)
{
	struct save_ctx *sc = ctx;
	char buf[ADDR_STR_MAX];
	int rc = store_dtls_session_put(sc->d->store, identity, addr_format(peer, buf), data, len);
	if (rc == 0)
		sc->saved++;
	return rc;
}

/* At shutdown: every established session into the store, in one transaction. */
void daemon_save_dtls_sessions(struct daemon *d)
{
	struct save_ctx sc = { d, 0 };
	if (!d->store || store_begin(d->store) != 0)
		return;
	int rc = 0;
	for (int i = 0; i < d->listener_count && rc == 0; i++) {
		if (d->listeners[i].dtls)
			rc = dtls_server_save_all(d->listeners[i].dtls, save_one_session, &sc);
	}
	if (rc == 0 && store_commit(d->store) == 0) {
		if (sc.saved)
			LOG_INFO("main", "%d DTLS sessions saved", sc.saved);
	} else {
		if (rc != 0)
			store_rollback(d->store);
		LOG_WARN("main", "DTLS sessions not saved; devices will handshake again");
	}
}

/* Where a device's DM requests go: the socket (plain, or DTLS with its session) of the
 * transport it registered over, in the address family of its address. */
/* Observations are written through to the store as they come and go (one row each, rare
 * next to device traffic), and read back at start. */
