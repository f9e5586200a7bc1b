/*
 * lwm2m_server: the LwM2M 1.1 registration interface (OMA-TS-LightweightM2M_Core §6.2,
 * Transport §6.2.1): Register, Update and De-register on /rd, the table of live
 * registrations, and lifetime expiry.
 *
 * It sits above coap/ in docs/architecture.md and below iot/: it serves the requests a
 * coap_ep hands it, and asks its owner (through struct lwm2m_hooks) whether an endpoint
 * may register and what to do when registrations come and go. It knows no devices,
 * products or database. Registrations are found in O(1) by endpoint name and by
 * registration id; their lifetimes sit in a min-heap.
 */
#ifndef LWM2MD_LWM2M_SERVER_H
#define LWM2MD_LWM2M_SERVER_H

#include <stdbool.h>
#include <stdint.h>

#include "coap/coap_msg.h"
#include "util/addr.h"
#include "util/hash.h"
#include "util/heap.h"

#define LWM2M_ENDPOINT_MAX 64
#define LWM2M_REG_ID_LEN 10
#define LWM2M_DEFAULT_LIFETIME 86400
#define LWM2M_MAX_LIFETIME 0x7FFFFFFF

enum lwm2m_transport {
	LWM2M_TRANSPORT_UDP = 0,  /* CoAP on 5683 */
	LWM2M_TRANSPORT_DTLS = 1, /* CoAP over DTLS on 5684 */
};

enum lwm2m_dereg_reason {
	LWM2M_DEREG_REQUESTED, /* the device sent De-register */
	LWM2M_DEREG_EXPIRED,   /* its lifetime ran out */
	LWM2M_DEREG_REPLACED,  /* a new Register of the same endpoint */
	LWM2M_DEREG_REMOVED,   /* the owner removed it (device deleted) */
};

struct lwm2m_registration {
	struct hmap_node by_endpoint;
	struct hmap_node by_id;
	struct hmap_node by_peer;
	struct heap_node expiry;
	char endpoint[LWM2M_ENDPOINT_MAX + 1];
	char id[LWM2M_REG_ID_LEN + 1];
	uint32_t lifetime;         /* seconds */
	char binding[8];           /* e.g. "U", "UQ" */
	char version[8];           /* "1.0", "1.1" */
	bool queue_mode;           /* binding Q (1.0) or the Q parameter (1.1) */
	uint8_t transport;         /* enum lwm2m_transport */
	struct addr peer;
	/* The owner's own per-registration word (iot/: its place in the queue-mode census);
	 * never read here. */
	uint32_t owner_mark;
	char *links;               /* NUL-terminated link payload, owned */
	int64_t registered_at_ms;  /* wall clock */
	int64_t updated_at_ms;
	int64_t last_seen_ms;      /* the device's latest message of any kind (queue mode) */
	/* What the owner attached at authorize (iot/: the device's project entry); never
	 * read here. */
	void *owner;
};

struct lwm2m_hooks {
	/* May endpoint register over transport? psk_identity is the DTLS identity (NULL on
	 * plain UDP). Returns 0 to allow, or the CoAP error code to answer (4.03) with *why
	 * set to a static text saying why, for the log. When it allows, *owner (NULL on
	 * entry) becomes the registration's owner pointer. */
	uint8_t (*authorize)(void *ctx, const char *endpoint, enum lwm2m_transport transport,
			     const char *psk_identity, const struct addr *peer, void **owner,
			     const char **why);
	/* The hooks may change the registration's owner and owner_mark, nothing else. */
	void (*registered)(void *ctx, struct lwm2m_registration *reg);
	void (*updated)(void *ctx, struct lwm2m_registration *reg);
	/* Called before the registration is freed. */
	void (*deregistered)(void *ctx, struct lwm2m_registration *reg,
			     enum lwm2m_dereg_reason reason);
};

struct lwm2m_server_stats {
	uint64_t registrations;          /* successful Registers */
	uint64_t updates;
	uint64_t deregistrations;
	uint64_t expirations;
	uint64_t rejected_registrations; /* Registers refused (4.xx) */
};

struct lwm2m_server;

/* Creates a server with the owner's hooks. Returns 0 or -ENOMEM. */
int lwm2m_server_create(struct lwm2m_server **out, const struct lwm2m_hooks *hooks, void *ctx);
/* Frees every registration without calling hooks. Accepts NULL. */
void lwm2m_server_destroy(struct lwm2m_server *srv);

/*
 * Serves one CoAP request that arrived over transport (a coap_ep_request_fn body).
 * psk_identity is the peer's DTLS identity or NULL. Sets resp's code and options.
 */
void lwm2m_server_handle(struct lwm2m_server *srv, enum lwm2m_transport transport,
			 const char *psk_identity, const struct addr *peer,
			 const struct coap_msg *req, struct coap_msg *resp, int64_t now_ms);

/* Expires registrations whose lifetime ended at or before now_ms. */
void lwm2m_server_tick(struct lwm2m_server *srv, int64_t now_ms);
/* When lwm2m_server_tick next has work (ms), or INT64_MAX. */
int64_t lwm2m_server_next_deadline(const struct lwm2m_server *srv);

/*
 * Puts back a registration loaded from the store at start (no hooks are called). Its
 * expiry is updated_at_ms + lifetime. Returns 0, -EEXIST for a duplicate endpoint or id,
 * -EINVAL for a bad field, -ENOMEM.
 */
int lwm2m_server_restore(struct lwm2m_server *srv, const struct lwm2m_registration *reg);

struct lwm2m_registration *lwm2m_server_find_endpoint(struct lwm2m_server *srv,
						      const char *endpoint);
struct lwm2m_registration *lwm2m_server_find_id(struct lwm2m_server *srv, const char *id);
/* The registration whose device last spoke from peer over transport (for requests such as
 * Send that name no endpoint), or NULL. */
struct lwm2m_registration *lwm2m_server_find_peer(struct lwm2m_server *srv,
						  enum lwm2m_transport transport,
						  const struct addr *peer);
/* Removes a registration (the device was deleted): deregistered hook with REMOVED. */
void lwm2m_server_remove(struct lwm2m_server *srv, struct lwm2m_registration *reg);

size_t lwm2m_server_count(const struct lwm2m_server *srv);
const struct lwm2m_server_stats *lwm2m_server_stats(const struct lwm2m_server *srv);

#endif
