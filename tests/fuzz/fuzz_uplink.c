/*
 * libFuzzer target for the whole uplink path below the store: a sequence of datagrams
 * from a few peers goes through coap_ep (dedup, block-wise, option checks) into
 * lwm2m_server (Register/Update/De-register), with the clock moving forward, so that
 * state carried between datagrams (Block1 uploads, registrations, expiry) is exercised.
 *
 * Input: records of [peer index (1 byte)][time step (1 byte)][length (2 bytes)][bytes].
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "coap/coap_ep.h"
#include "lwm2m/lwm2m_server.h"

static struct lwm2m_server *srv;

static uint8_t authorize(void *ctx, const char *endpoint, enum lwm2m_transport transport,
			 const char *psk_identity, const struct addr *peer)
{
	(void)ctx;
	(void)transport;
	(void)psk_identity;
	(void)peer;
	return endpoint[0] == 'x' ? COAP_CODE_FORBIDDEN : 0;
}

static void on_send(void *ctx, const struct addr *to, const uint8_t *data, size_t len)
{
	(void)ctx;
	(void)to;
	/* Whatever the endpoint sends must itself be valid CoAP. */
	struct coap_msg m;
	if (coap_msg_parse(&m, data, len) != 0)
		__builtin_trap();
}

static void on_request(void *ctx, const struct addr *peer, const struct coap_msg *req,
		       struct coap_msg *resp, uint64_t now)
{
	(void)ctx;
	lwm2m_server_handle(srv, LWM2M_TRANSPORT_UDP, NULL, peer, req, resp, (int64_t)now);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct lwm2m_hooks hooks = {.authorize = authorize};
	struct coap_ep_config cfg;
	coap_ep_config_defaults(&cfg);
	cfg.random_seed = 1;
	cfg.max_block_body = 4096;
	cfg.max_peers = 4;
	struct coap_ep *ep;
	if (lwm2m_server_create(&srv, &hooks, NULL) != 0)
		return 0;
	if (coap_ep_create(&ep, &cfg, on_send, on_request, NULL) != 0) {
		lwm2m_server_destroy(srv);
		return 0;
	}
	struct addr peers[8];
	for (int i = 0; i < 8; i++) {
		addr_parse(&peers[i], "10.0.0.1:1000");
		peers[i].port = (uint16_t)(1000 + i);
	}
	uint64_t now = 1000;
	size_t off = 0;
	while (off + 4 <= size) {
		uint8_t peer = data[off] & 7;
		now += (uint64_t)data[off + 1] * 1000;
		size_t len = (size_t)data[off + 2] << 8 | data[off + 3];
		off += 4;
		if (len > size - off)
			len = size - off;
		coap_ep_input(ep, &peers[peer], data + off, len, now);
		coap_ep_tick(ep, now);
		lwm2m_server_tick(srv, (int64_t)now);
		off += len;
	}
	coap_ep_destroy(ep);
	lwm2m_server_destroy(srv);
	return 0;
}
