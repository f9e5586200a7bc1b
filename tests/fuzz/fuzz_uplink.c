/*
 * libFuzzer target for the whole uplink path below the store: a sequence of datagrams
 * from a few peers goes through coap_ep (dedup, block-wise, option checks) into
 * lwm2m_server (Register/Update/De-register), with the clock moving forward, so that
 * state carried between datagrams (Block1 uploads, registrations, expiry) is exercised.
 *
 * Input: records of [peer index (1 byte)][time step (1 byte)][length (2 bytes)][bytes].
 * The peer byte's low three bits pick one of 8 peers. When its bit 3 is set, a datagram
 * that parses as CoAP has its Uri-Path options after "rd" replaced by one of the last
 * four locations the server gave (bits 4-5 pick which), so that Updates and De-registers
 * can name a live registration, whose id is random. FUZZ_VERBOSE=1 prints every answer.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coap/coap_ep.h"
#include "lwm2m/lwm2m_server.h"

static struct lwm2m_server *srv;

/* The registration ids of the last 2.01 Created answers (Location-Path rd/<id>). */
#define LOCATIONS 4
static char locations[LOCATIONS][32];
static size_t location_next;

static void note_location(const struct coap_msg *m)
{
	if (m->code != COAP_CODE_CREATED)
		return;
	size_t seen = 0;
	for (size_t i = 0; i < m->option_count; i++) {
		const struct coap_option *o = &m->options[i];
		if (o->number != COAP_OPTION_LOCATION_PATH || seen++ != 1)
			continue;
		if (o->len == 0 || o->len >= sizeof(locations[0]))
			return;
		memcpy(locations[location_next], o->value, o->len);
		locations[location_next][o->len] = '\0';
		location_next = (location_next + 1) % LOCATIONS;
	}
}

/* Re-encodes the datagram with its Uri-Path "rd/<anything>..." made "rd/<location>". */
static size_t aim(const uint8_t *in, size_t len, const char *location, uint8_t *out, size_t cap)
{
	struct coap_msg m, b;
	if (!location[0] || coap_msg_parse(&m, in, len) != 0 ||
	    coap_msg_init(&b, m.type, m.code, m.mid, m.token, m.token_len) != 0)
		return 0;
	bool rd = false, placed = false;
	for (size_t i = 0; i < m.option_count; i++) {
		const struct coap_option *o = &m.options[i];
		if (o->number == COAP_OPTION_URI_PATH && rd) {
			if (!placed &&
			    coap_msg_add_option(&b, o->number, location, strlen(location)))
				return 0;
			placed = true;
			continue;
		}
		if (o->number == COAP_OPTION_URI_PATH && o->len == 2 &&
		    memcmp(o->value, "rd", 2) == 0)
			rd = true;
		if (coap_msg_add_option(&b, o->number, o->value, o->len) != 0)
			return 0;
	}
	if (rd && !placed &&
	    coap_msg_add_option(&b, COAP_OPTION_URI_PATH, location, strlen(location)) != 0)
		return 0;
	coap_msg_set_payload(&b, m.payload, m.payload_len);
	int n = coap_msg_encode(&b, out, cap);
	return n > 0 ? (size_t)n : 0;
}

static uint8_t authorize(void *ctx, const char *endpoint, enum lwm2m_transport transport,
			 const char *psk_identity, const struct addr *peer, void **owner,
			 const char **why)
{
	(void)ctx;
	(void)owner;
	*why = "an endpoint starting with x";
	(void)transport;
	(void)psk_identity;
	(void)peer;
	return endpoint[0] == 'x' ? COAP_CODE_FORBIDDEN : 0;
}

static void on_send(void *ctx, const struct addr *to, const uint8_t *data, size_t len)
{
	(void)ctx;
	/* Whatever the endpoint sends must itself be valid CoAP. */
	struct coap_msg m;
	if (coap_msg_parse(&m, data, len) != 0)
		__builtin_trap();
	note_location(&m);
	if (getenv("FUZZ_VERBOSE")) { /* to see what an input does: FUZZ_VERBOSE=1 */
		char code[5], path[64] = "";
		for (size_t i = 0; i < m.option_count; i++)
			if (m.options[i].number == COAP_OPTION_LOCATION_PATH)
				snprintf(path + strlen(path), sizeof(path) - strlen(path), "/%.*s",
					 (int)m.options[i].len, (const char *)m.options[i].value);
		fprintf(stderr, "-> port %u: %s %s\n", to->port, coap_code_format(m.code, code),
			path);
	}
}

static void on_request(void *ctx, const struct addr *peer, const struct coap_msg *req,
		       struct coap_msg *resp, uint64_t now)
{
	(void)ctx;
	lwm2m_server_handle(srv, LWM2M_TRANSPORT_UDP, NULL, peer, req, resp, (int64_t)now);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct lwm2m_hooks hooks = { .authorize = authorize };
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
	memset(locations, 0, sizeof(locations));
	location_next = 0;
	static uint8_t aimed[4096 + 64];
	while (off + 4 <= size) {
		uint8_t peer = data[off] & 7, flags = data[off];
		now += (uint64_t)data[off + 1] * 1000;
		size_t len = (size_t)data[off + 2] << 8 | data[off + 3];
		off += 4;
		if (len > size - off)
			len = size - off;
		size_t n = flags & 8 ? aim(data + off, len, locations[(flags >> 4) % LOCATIONS],
					   aimed, sizeof(aimed))
				     : 0;
		if (n)
			coap_ep_input(ep, &peers[peer], aimed, n, now);
		else
			coap_ep_input(ep, &peers[peer], data + off, len, now);
		coap_ep_tick(ep, now);
		lwm2m_server_tick(srv, (int64_t)now);
		off += len;
	}
	coap_ep_destroy(ep);
	lwm2m_server_destroy(srv);
	return 0;
}
