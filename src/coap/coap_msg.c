/*
 * coap_msg: the CoAP message format (RFC 7252 §3), parsed without allocation and encoded
 * into a caller's buffer. See coap_msg.h for the contract.
 */
#include "coap/coap_msg.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* RFC 7252 §3.1: the 4-bit option delta/length nibbles and their extended forms. */
#define NIBBLE_1BYTE 13
#define NIBBLE_2BYTE 14
#define NIBBLE_RESERVED 15
#define EXT_1BYTE_BASE 13
#define EXT_2BYTE_BASE 269
#define OPTION_LEN_MAX (65535 + EXT_2BYTE_BASE)

/* Reads an option delta or length whose nibble is n, from p (end e). Returns 0 and
 * advances *p, or -EBADMSG. */
static int read_extended(uint8_t n, const uint8_t **p, const uint8_t *e, uint32_t *out)
{
	if (n < NIBBLE_1BYTE) {
		*out = n;
		return 0;
	}
	if (n == NIBBLE_1BYTE) {
		if (e - *p < 1)
			return -EBADMSG;
		*out = (uint32_t)(*p)[0] + EXT_1BYTE_BASE;
		*p += 1;
		return 0;
	}
	if (n == NIBBLE_2BYTE) {
		if (e - *p < 2)
			return -EBADMSG;
		*out = ((uint32_t)(*p)[0] << 8 | (*p)[1]) + EXT_2BYTE_BASE;
		*p += 2;
		return 0;
	}
	return -EBADMSG; /* 15 is reserved except as the payload marker (§3.1) */
}

int coap_msg_parse(struct coap_msg *msg, const uint8_t *data, size_t len)
{
	memset(msg, 0, offsetof(struct coap_msg, options));
	msg->option_count = 0;
	msg->payload = NULL;
	msg->payload_len = 0;
	msg->scratch_used = 0;
	if (len < COAP_HEADER_LEN)
		return -EBADMSG;
	msg->type = (data[0] >> 4) & 3;
	msg->code = data[1];
	msg->mid = (uint16_t)(data[2] << 8 | data[3]);
	if ((data[0] >> 6) != COAP_VERSION)
		return -EPROTO;
	uint8_t tkl = data[0] & 0x0F;
	if (tkl > COAP_TOKEN_MAX)
		return -EBADMSG; /* §3: lengths 9–15 are reserved, a format error */
	if (msg->code == COAP_CODE_EMPTY && (len != COAP_HEADER_LEN || tkl != 0))
		return -EBADMSG; /* §4.1: an Empty message has nothing after the header */
	const uint8_t *p = data + COAP_HEADER_LEN;
	const uint8_t *e = data + len;
	if ((size_t)(e - p) < tkl)
		return -EBADMSG;
	memcpy(msg->token, p, tkl);
	msg->token_len = tkl;
	p += tkl;

	uint32_t number = 0;
	while (p < e) {
		if (*p == COAP_PAYLOAD_MARKER) {
			p++;
			if (p == e)
				return -EBADMSG; /* §3: a marker with no payload */
			msg->payload = p;
			msg->payload_len = (size_t)(e - p);
			return 0;
		}
		uint8_t delta_nibble = *p >> 4, len_nibble = *p & 0x0F;
		p++;
		uint32_t delta, olen;
		if (read_extended(delta_nibble, &p, e, &delta) != 0 ||
		    read_extended(len_nibble, &p, e, &olen) != 0)
			return -EBADMSG;
		number += delta;
		if (number > UINT16_MAX || (size_t)(e - p) < olen)
			return -EBADMSG;
		if (msg->option_count == COAP_MAX_OPTIONS)
			return -E2BIG;
		struct coap_option *o = &msg->options[msg->option_count++];
		o->number = (uint16_t)number;
		o->len = (uint16_t)olen;
		o->value = p;
		p += olen;
	}
	return 0;
}

int coap_msg_init(struct coap_msg *msg, uint8_t type, uint8_t code, uint16_t mid,
		  const uint8_t *token, size_t token_len)
{
	if (token_len > COAP_TOKEN_MAX || (token_len && !token))
		return -EINVAL;
	msg->type = type;
	msg->code = code;
	msg->mid = mid;
	msg->token_len = (uint8_t)token_len;
	if (token_len)
		memcpy(msg->token, token, token_len);
	msg->option_count = 0;
	msg->payload = NULL;
	msg->payload_len = 0;
	msg->scratch_used = 0;
	return 0;
}

int coap_msg_add_option(struct coap_msg *msg, uint16_t number, const void *value, size_t len)
{
	if (len > 65535)
		return -EINVAL;
	if (msg->option_count == COAP_MAX_OPTIONS)
		return -E2BIG;
	/* Insert after every option with a number <= this one: sorted and stable. */
	size_t i = msg->option_count;
	while (i > 0 && msg->options[i - 1].number > number) {
		msg->options[i] = msg->options[i - 1];
		i--;
	}
	msg->options[i].number = number;
	msg->options[i].len = (uint16_t)len;
	msg->options[i].value = value;
	msg->option_count++;
	return 0;
}

int coap_msg_add_uint_option(struct coap_msg *msg, uint16_t number, uint32_t value)
{
	uint8_t n = 0;
	for (uint32_t v = value; v; v >>= 8)
		n++;
	if (msg->scratch_used + n > COAP_MSG_SCRATCH)
		return -E2BIG;
	uint8_t *dst = msg->scratch + msg->scratch_used;
	for (uint8_t i = 0; i < n; i++)
		dst[i] = (uint8_t)(value >> (8 * (n - 1 - i)));
	int rc = coap_msg_add_option(msg, number, dst, n);
	if (rc == 0)
		msg->scratch_used = (uint8_t)(msg->scratch_used + n);
	return rc;
}

int coap_msg_add_path(struct coap_msg *msg, uint16_t number, const char *path)
{
	const char *p = path;
	while (*p) {
		while (*p == '/')
			p++;
		const char *start = p;
		while (*p && *p != '/')
			p++;
		if (p > start) {
			int rc = coap_msg_add_option(msg, number, start, (size_t)(p - start));
			if (rc != 0)
				return rc;
		}
	}
	return 0;
}

void coap_msg_set_payload(struct coap_msg *msg, const void *payload, size_t len)
{
	msg->payload = len ? payload : NULL;
	msg->payload_len = len;
}

/* The nibble and extended bytes for a delta or length v (§3.1). */
static size_t ext_size(uint32_t v, uint8_t *nibble)
{
	if (v < EXT_1BYTE_BASE) {
		*nibble = (uint8_t)v;
		return 0;
	}
	if (v < EXT_2BYTE_BASE) {
		*nibble = NIBBLE_1BYTE;
		return 1;
	}
	*nibble = NIBBLE_2BYTE;
	return 2;
}

static void ext_write(uint8_t *p, uint32_t v, size_t n)
{
	if (n == 1)
		p[0] = (uint8_t)(v - EXT_1BYTE_BASE);
	else if (n == 2) {
		v -= EXT_2BYTE_BASE;
		p[0] = (uint8_t)(v >> 8);
		p[1] = (uint8_t)v;
	}
}

int coap_msg_encode(const struct coap_msg *msg, uint8_t *buf, size_t cap)
{
	if (msg->token_len > COAP_TOKEN_MAX || msg->type > COAP_TYPE_RST)
		return -EINVAL;
	if (msg->code == COAP_CODE_EMPTY &&
	    (msg->token_len || msg->option_count || msg->payload_len))
		return -EINVAL;
	size_t need = COAP_HEADER_LEN + msg->token_len;
	if (cap < need)
		return -ENOBUFS;
	buf[0] = (uint8_t)(COAP_VERSION << 6 | msg->type << 4 | msg->token_len);
	buf[1] = msg->code;
	buf[2] = (uint8_t)(msg->mid >> 8);
	buf[3] = (uint8_t)msg->mid;
	memcpy(buf + COAP_HEADER_LEN, msg->token, msg->token_len);
	size_t off = need;
	uint16_t last = 0;
	for (size_t i = 0; i < msg->option_count; i++) {
		const struct coap_option *o = &msg->options[i];
		if (o->number < last)
			return -EINVAL;
		uint32_t delta = (uint32_t)(o->number - last);
		uint8_t dn, ln;
		size_t dx = ext_size(delta, &dn), lx = ext_size(o->len, &ln);
		size_t n = 1 + dx + lx + o->len;
		if (cap - off < n)
			return -ENOBUFS;
		buf[off] = (uint8_t)(dn << 4 | ln);
		ext_write(buf + off + 1, delta, dx);
		ext_write(buf + off + 1 + dx, o->len, lx);
		if (o->len)
			memcpy(buf + off + 1 + dx + lx, o->value, o->len);
		off += n;
		last = o->number;
	}
	if (msg->payload_len) {
		if (cap - off < 1 + msg->payload_len)
			return -ENOBUFS;
		buf[off++] = COAP_PAYLOAD_MARKER;
		memcpy(buf + off, msg->payload, msg->payload_len);
		off += msg->payload_len;
	}
	if (off > INT32_MAX)
		return -EINVAL;
	return (int)off;
}

const struct coap_option *coap_msg_find_option(const struct coap_msg *msg, uint16_t number)
{
	for (size_t i = 0; i < msg->option_count; i++)
		if (msg->options[i].number == number)
			return &msg->options[i];
	return NULL;
}

size_t coap_msg_count_options(const struct coap_msg *msg, uint16_t number)
{
	size_t n = 0;
	for (size_t i = 0; i < msg->option_count; i++)
		n += msg->options[i].number == number;
	return n;
}

int coap_option_get_uint(const struct coap_option *opt, uint32_t *value)
{
	if (opt->len > 4)
		return -EINVAL;
	uint32_t v = 0;
	for (size_t i = 0; i < opt->len; i++)
		v = v << 8 | opt->value[i];
	*value = v;
	return 0;
}

int coap_msg_get_uint_option(const struct coap_msg *msg, uint16_t number, uint32_t *value)
{
	const struct coap_option *o = coap_msg_find_option(msg, number);
	if (!o)
		return -ENOENT;
	return coap_option_get_uint(o, value);
}

int coap_msg_get_path(const struct coap_msg *msg, char *buf, size_t cap)
{
	size_t off = 0;
	bool any = false;
	for (size_t i = 0; i < msg->option_count; i++) {
		const struct coap_option *o = &msg->options[i];
		if (o->number != COAP_OPTION_URI_PATH)
			continue;
		any = true;
		if (cap - off < (size_t)o->len + 2)
			return -ENOBUFS;
		buf[off++] = '/';
		memcpy(buf + off, o->value, o->len);
		off += o->len;
	}
	if (!any) {
		if (cap < 2)
			return -ENOBUFS;
		buf[off++] = '/';
	}
	buf[off] = '\0';
	return (int)off;
}

int coap_block_decode(uint32_t value, struct coap_block *block)
{
	if (value > 0xFFFFFF || (value & 7) == 7)
		return -EINVAL;
	block->num = value >> 4;
	block->more = (value & 8) != 0;
	block->szx = (uint8_t)(value & 7);
	return 0;
}

uint32_t coap_block_encode(const struct coap_block *block)
{
	return block->num << 4 | (block->more ? 8u : 0u) | (block->szx & 7u);
}

const char *coap_code_format(uint8_t code, char buf[5])
{
	snprintf(buf, 5, "%u.%02u", (unsigned)COAP_CODE_CLASS(code),
		 (unsigned)COAP_CODE_DETAIL(code) % 100u);
	return buf;
}
