/*
 * lwm2m_observe: the server's observations (RFC 7641, LwM2M Core §6.4): which device and
 * path each token observes, and the latest notification of each.
 *
 * An observation is added when a device answers an Observe request with 2.05 and an
 * Observe option; every later response carrying its token is a notification. Cancelling
 * either marks it so that the next notification is refused with RST (passive), or is done
 * by the caller sending the request again with Observe 1 and the token (active: GET, or
 * for an Observe-Composite FETCH with the same paths), after which it is removed. That is
 * why an observation keeps what it asked with: RFC 7641 §3.6 wants every option of the
 * cancel as in the registration. Lookups by token, by id and of one device's observations
 * are O(1) (a device's are a bucket of a node index, never a walk of the table).
 */
#ifndef LWM2MD_LWM2M_OBSERVE_H
#define LWM2MD_LWM2M_OBSERVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lwm2m/lwm2m_link.h"
#include "util/hash.h"

#define LWM2M_OBSERVE_PAYLOAD_MAX 1024
/* The most paths one Observe-Composite names (the API's limit too). */
#define LWM2M_OBSERVE_PATHS_MAX 64
/* Room for lwm2m_observation_paths_format: every path at its longest, comma-separated. */
#define LWM2M_OBSERVE_PATHS_TEXT_MAX (LWM2M_OBSERVE_PATHS_MAX * 25 + 1)

/* What an Observe asked with, kept so that its cancellation can ask the same way. */
struct lwm2m_observe_request {
	int format;                     /* its Accept; a composite's paths were in it too; -1 */
	const struct lwm2m_path *paths; /* Observe-Composite: the observed paths */
	size_t path_count;              /* 0 for a plain Observe */
};

struct lwm2m_observation {
	struct hmap_node by_token;
	struct hmap_node by_id;
	struct hmap_node by_node;
	uint64_t id;
	char node_id[65];
	struct lwm2m_path path;  /* the root for an Observe-Composite */
	int format;              /* lwm2m_observe_request.format */
	struct lwm2m_path *paths; /* Observe-Composite: its paths (owned), else NULL */
	uint8_t path_count;
	uint8_t token[8];
	uint8_t token_len;
	bool cancelled;          /* refuse the next notification with RST */
	uint64_t notifications;  /* counted after the first response */
	int64_t last_ms;         /* wall clock of the latest response */
	uint8_t last_code;
	int last_format;         /* -1 when the latest had none */
	uint32_t last_seq;       /* its Observe option value */
	uint8_t last_payload[LWM2M_OBSERVE_PAYLOAD_MAX];
	size_t last_len;
};

struct lwm2m_observations;

/* The owner's persistence: told of each observation added and removed (or cancelled), so
 * that notifications after a restart still find their observation. */
struct lwm2m_observe_hooks {
	void (*added)(void *ctx, const struct lwm2m_observation *o);
	void (*removed)(void *ctx, const struct lwm2m_observation *o);
};

int lwm2m_observations_create(struct lwm2m_observations **out);
void lwm2m_observations_set_hooks(struct lwm2m_observations *obs,
				  const struct lwm2m_observe_hooks *hooks, void *ctx);
/* Adds a stored observation back (at start), keeping its id; no hook is called. req may
 * be NULL (no Accept, not a composite). */
struct lwm2m_observation *lwm2m_observations_restore(struct lwm2m_observations *obs, uint64_t id,
						     const char *node_id,
						     const struct lwm2m_path *path,
						     const uint8_t *token, size_t token_len,
						     const struct lwm2m_observe_request *req);
/* Passive cancellation: refuse the next notification with RST (and forget it in the
 * store now, so that a restart does not bring it back). */
void lwm2m_observations_cancel(struct lwm2m_observations *obs, struct lwm2m_observation *o);
void lwm2m_observations_destroy(struct lwm2m_observations *obs);

/* Adds an observation of path on node_id known by token, made without an Accept. Returns
 * it, or NULL (-ENOMEM). */
struct lwm2m_observation *lwm2m_observations_add(struct lwm2m_observations *obs,
						 const char *node_id,
						 const struct lwm2m_path *path,
						 const uint8_t *token, size_t token_len);
/* The same, keeping what the Observe asked with (copied; req may be NULL). NULL also when
 * req names more than LWM2M_OBSERVE_PATHS_MAX paths. */
struct lwm2m_observation *lwm2m_observations_add_request(struct lwm2m_observations *obs,
							 const char *node_id,
							 const struct lwm2m_path *path,
							 const uint8_t *token, size_t token_len,
							 const struct lwm2m_observe_request *req);
/* A composite's paths as text, "/3/0/9,/1/0/1" ("" for a plain observation), for the
 * store; buf needs LWM2M_OBSERVE_PATHS_TEXT_MAX bytes. Returns the length. */
int lwm2m_observation_paths_format(const struct lwm2m_observation *o, char *buf, size_t cap);
/* Parses that text into paths (at most max). Returns the count (0 for ""), or -EINVAL. */
int lwm2m_observe_paths_parse(const char *s, struct lwm2m_path *paths, size_t max);
struct lwm2m_observation *lwm2m_observations_find_token(struct lwm2m_observations *obs,
							const uint8_t *token, size_t len);
struct lwm2m_observation *lwm2m_observations_find_id(struct lwm2m_observations *obs,
						     uint64_t id);
void lwm2m_observations_remove(struct lwm2m_observations *obs, struct lwm2m_observation *o);
/* Records a response (the first or a notification) in o. */
void lwm2m_observation_record(struct lwm2m_observation *o, uint8_t code, int format,
			      uint32_t seq, const uint8_t *payload, size_t len, int64_t now_ms);
/* Calls fn for each observation of node_id (all when NULL); fn may not remove. */
void lwm2m_observations_each(struct lwm2m_observations *obs, const char *node_id,
			     void (*fn)(const struct lwm2m_observation *o, void *ctx), void *ctx);
/* Removes every observation of node_id (its registration ended). Returns how many. */
size_t lwm2m_observations_forget(struct lwm2m_observations *obs, const char *node_id);

#endif
