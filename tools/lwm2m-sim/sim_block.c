/*
 * sim_block: block-wise transfers on the simulated device's side (see sim_block.h).
 */
#include "sim_block.h"

#include <stdlib.h>
#include <string.h>

void sim_block_free(struct sim_block *b)
{
	free(b->body);
	b->body = NULL;
	b->active = false;
}

static bool get_block(const struct coap_msg *m, uint16_t option, struct coap_block *b)
{
	uint32_t v;
	return coap_msg_get_uint_option(m, option, &v) == 0 && coap_block_decode(v, b) == 0;
}

uint8_t sim_block_request(struct sim_block *b, const struct coap_msg *req,
			  struct coap_msg *whole, struct coap_msg *resp)
{
	struct coap_block b1;
	char path[64];
	*whole = *req;
	if (!get_block(req, COAP_OPTION_BLOCK1, &b1))
		return 0;
	size_t size = COAP_BLOCK_SIZE(b1.szx);
	if (coap_msg_get_path(req, path, sizeof(path)) < 0)
		path[0] = '\0';
	if (b1.num == 0) {
		if (!b->body && !(b->body = malloc(SIM_BLOCK_BODY_MAX)))
			return resp->code = COAP_CODE_INTERNAL_SERVER_ERROR;
		b->active = true;
		b->len = 0;
		b->code = req->code;
		memcpy(b->path, path, sizeof(path));
	}
	/* §2.5: a block of another transfer, or not the next one, cannot be put together. */
	if (!b->active || b->code != req->code || strcmp(b->path, path) != 0 ||
	    (size_t)b1.num * size != b->len || (b1.more && req->payload_len != size)) {
		b->active = false;
		return resp->code = COAP_CODE_REQUEST_ENTITY_INCOMPLETE;
	}
	if (b->len + req->payload_len > SIM_BLOCK_BODY_MAX) {
		b->active = false;
		coap_msg_add_uint_option(resp, COAP_OPTION_SIZE1, SIM_BLOCK_BODY_MAX);
		return resp->code = COAP_CODE_REQUEST_ENTITY_TOO_LARGE;
	}
	if (req->payload_len)
		memcpy(b->body + b->len, req->payload, req->payload_len);
	b->len += req->payload_len;
	if (b1.more) {
		coap_msg_add_uint_option(resp, COAP_OPTION_BLOCK1, coap_block_encode(&b1));
		return resp->code = COAP_CODE_CONTINUE;
	}
	b->active = false;
	coap_msg_set_payload(whole, b->body, b->len);
	return 0;
}

void sim_block_response(const struct coap_msg *req, struct coap_msg *resp)
{
	struct coap_block b1, b2 = { .szx = SIM_BLOCK_SZX };
	if (get_block(req, COAP_OPTION_BLOCK1, &b1))
		coap_msg_add_uint_option(resp, COAP_OPTION_BLOCK1, coap_block_encode(&b1));
	bool asked = get_block(req, COAP_OPTION_BLOCK2, &b2);
	if (COAP_CODE_CLASS(resp->code) != 2)
		return; /* an error goes back whole */
	if (b2.szx > SIM_BLOCK_SZX)
		b2.szx = SIM_BLOCK_SZX; /* szx 7 is reserved (RFC 7959 §2.2) */
	size_t size = COAP_BLOCK_SIZE(b2.szx);
	if (!asked && resp->payload_len <= size)
		return;
	size_t off = (size_t)b2.num * size;
	if (off > resp->payload_len || (off == resp->payload_len && off > 0)) {
		/* §2.4: a block beyond the end of the answer. */
		resp->code = COAP_CODE_BAD_OPTION;
		coap_msg_set_payload(resp, NULL, 0);
		return;
	}
	size_t n = resp->payload_len - off < size ? resp->payload_len - off : size;
	b2.more = off + n < resp->payload_len;
	coap_msg_add_uint_option(resp, COAP_OPTION_BLOCK2, coap_block_encode(&b2));
	coap_msg_set_payload(resp, resp->payload + off, n);
}
