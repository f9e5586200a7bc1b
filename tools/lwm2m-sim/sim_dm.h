/*
 * sim_dm: the simulated device's side of Device Management and Information Reporting
 * (OMA-TS-LightweightM2M_Core 1.1 §6.3, §6.4): one server request in, one response out,
 * against the object tree of sim_tree.h; and the observations, whose notifications
 * sim_dm_tick sends when their values change or pmax passes.
 *
 * It knows no sockets: the caller hands it parsed requests and a function that sends a
 * CON message, so that it works alike over plain UDP and inside the DTLS session.
 */
#ifndef LWM2M_SIM_DM_H
#define LWM2M_SIM_DM_H

#include <stdbool.h>
#include <stdint.h>

#include "coap/coap_msg.h"
#include "sim_tree.h"

#define SIM_DM_MAX_OBSERVATIONS 16
#define SIM_DM_MAX_COMPOSITE 8
#define SIM_DM_PAYLOAD_MAX 1200

struct sim_observation {
	bool used;
	uint8_t token[COAP_TOKEN_MAX];
	uint8_t token_len;
	bool composite;
	struct lwm2m_path paths[SIM_DM_MAX_COMPOSITE]; /* one unless composite */
	size_t path_count;
	int format;          /* of every notification: the first answer's */
	uint32_t seq;        /* the Observe value of the latest message */
	int64_t last_ms;     /* when the latest was sent */
	uint16_t last_mid;   /* its message id: an RST to it cancels (RFC 7641 §3.6) */
	bool touched;        /* set anew (sim_dm_touch): notify even if the bytes repeat */
	bool last_numeric;   /* single numeric value: gt/lt/st apply */
	double last_number;
	uint8_t last[SIM_DM_PAYLOAD_MAX];
	size_t last_len;
};

struct sim_dm {
	struct sim_tree *tree;
	/* Content formats whose Reads get a malformed payload (--bad-content), 0-terminated
	 * list; a Read answered in another format is answered well. */
	int bad_content[5];
	bool update_requested;  /* /1/0/8 was executed: send an Update */
	bool links_changed;     /* Create/Delete: send an Update with the new links */
	struct sim_observation obs[SIM_DM_MAX_OBSERVATIONS];
};

/* Sends m (CON; the callee sets the message id) and returns the id it used. */
typedef uint16_t (*sim_send_con_fn)(void *ctx, struct coap_msg *m);

/*
 * Answers one request (code class 0). resp must be initialised by the caller (type, mid,
 * token); this adds the code, options and payload, which points into out (cap bytes) and
 * scratch (64 bytes, for Location-Path and option values) — both must outlive the
 * encoding of resp. Prints "answered GET /3/0 2.05 ct=11542". Returns the code.
 */
uint8_t sim_dm_handle(struct sim_dm *dm, const struct coap_msg *req, struct coap_msg *resp,
		      uint8_t *out, size_t cap, char scratch[64], int64_t now_ms);

/* Sends the notifications that are due (a change past pmin, or pmax), printing
 * "notified /3/0/9 seq=3". */
void sim_dm_tick(struct sim_dm *dm, int64_t now_ms, sim_send_con_fn send, void *ctx);

/* The value at p was set anew (a new report of the same bytes is still a new report):
 * the observations of p, or of a path above or below it, notify at the next
 * sim_dm_tick (pmin permitting) whether or not their bytes changed. */
void sim_dm_touch(struct sim_dm *dm, const struct lwm2m_path *p);

/* An RST came with message id mid: the observation whose notification it was ends. */
void sim_dm_on_rst(struct sim_dm *dm, uint16_t mid);

/* Parses a content format name (text opaque cbor senml-json senml-cbor tlv oma-json) or
 * number: the number, or -1. */
int sim_format_parse(const char *s);

/* --bad-content tlv,senml-json,...: up to four of tlv, senml-json, senml-cbor, oma-json
 * into list, 0-terminated. Returns 0 or -1. */
int sim_dm_parse_bad_content(int list[5], const char *arg);

#endif
