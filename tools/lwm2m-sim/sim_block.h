/*
 * sim_block: the simulated device's side of block-wise transfers (RFC 7959) in the
 * server's requests, so that values of up to 64 KiB can be written and read back:
 *  - a request body that comes in Block1 blocks is gathered, each block but the last
 *    answered 2.31 Continue (§2.5), and the whole request is handled once the last one
 *    came, its answer carrying the last block's Block1;
 *  - an answer longer than one block goes back in Block2 blocks (§2.4): the first one,
 *    or the one the request asks for. Later blocks are asked for by plain GET/FETCH with
 *    Block2, which the device answers afresh and slices, as §2.4 lets a server do when
 *    the representation does not change.
 *
 * It knows no sockets: main.c hands it the parsed request and the response to fill.
 */
#ifndef LWM2M_SIM_BLOCK_H
#define LWM2M_SIM_BLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "coap/coap_msg.h"

/* The largest request body gathered, and so the largest value that can be written. */
#define SIM_BLOCK_BODY_MAX 65536
/* Block size of answers when the request does not ask for one (RFC 7959 szx 6). */
#define SIM_BLOCK_SZX 6

struct sim_block {
	uint8_t *body;   /* the Block1 body gathered so far (SIM_BLOCK_BODY_MAX) */
	size_t len;
	uint8_t code;    /* of the request it belongs to */
	char path[64];
	bool active;
};

void sim_block_free(struct sim_block *b);

/*
 * A request of the server. Without Block1, or with its last block, *whole is the request
 * to handle (with the gathered body as its payload) and 0 is returned. For a block that is
 * not the last, resp (initialised by the caller) is filled — 2.31 Continue, or an error:
 * 4.08 for a block out of order, 4.13 for a body over SIM_BLOCK_BODY_MAX — and the
 * response code is returned.
 */
uint8_t sim_block_request(struct sim_block *b, const struct coap_msg *req,
			  struct coap_msg *whole, struct coap_msg *resp);

/* After the request was handled into resp: adds the final Block1 when the request came
 * block-wise, and when resp's payload is over one block (or the request asked for a
 * Block2 block) keeps only the block asked for, with its Block2 option. */
void sim_block_response(const struct coap_msg *req, struct coap_msg *resp);

#endif
