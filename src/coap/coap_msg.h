/*
 * coap_msg: the CoAP message format of RFC 7252 §3, parsed and encoded.
 *
 * This is the bottom of the coap/ layer in docs/architecture.md: it turns a datagram into a
 * struct coap_msg and back, and knows nothing of transactions, peers or LwM2M. Parsing does
 * not allocate: option values and the payload point into the caller's datagram, which must
 * outlive the parsed message. Encoding writes into a caller-supplied buffer.
 */
#ifndef LWM2MD_COAP_MSG_H
#define LWM2MD_COAP_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define COAP_VERSION 1
#define COAP_HEADER_LEN 4
#define COAP_TOKEN_MAX 8
#define COAP_PAYLOAD_MARKER 0xFF
/* A datagram with more options than this is refused (-E2BIG); LwM2M needs about a dozen. */
#define COAP_MAX_OPTIONS 40
/* Room in struct coap_msg for the values of options added with coap_msg_add_uint_option. */
#define COAP_MSG_SCRATCH 32

/* RFC 7252 §3: message types. */
enum coap_type {
	COAP_TYPE_CON = 0,
	COAP_TYPE_NON = 1,
	COAP_TYPE_ACK = 2,
	COAP_TYPE_RST = 3,
};

/* A code is class.detail packed as cccddddd (RFC 7252 §3). */
#define COAP_CODE(cls, detail) ((uint8_t)(((cls) << 5) | (detail)))
#define COAP_CODE_CLASS(code) ((code) >> 5)
#define COAP_CODE_DETAIL(code) ((code)&0x1F)

enum coap_code {
	COAP_CODE_EMPTY = COAP_CODE(0, 0),
	COAP_CODE_GET = COAP_CODE(0, 1),
	COAP_CODE_POST = COAP_CODE(0, 2),
	COAP_CODE_PUT = COAP_CODE(0, 3),
	COAP_CODE_DELETE = COAP_CODE(0, 4),
	COAP_CODE_FETCH = COAP_CODE(0, 5),
	COAP_CODE_PATCH = COAP_CODE(0, 6),
	COAP_CODE_IPATCH = COAP_CODE(0, 7),

	COAP_CODE_CREATED = COAP_CODE(2, 1),
	COAP_CODE_DELETED = COAP_CODE(2, 2),
	COAP_CODE_VALID = COAP_CODE(2, 3),
	COAP_CODE_CHANGED = COAP_CODE(2, 4),
	COAP_CODE_CONTENT = COAP_CODE(2, 5),
	COAP_CODE_CONTINUE = COAP_CODE(2, 31),

	COAP_CODE_BAD_REQUEST = COAP_CODE(4, 0),
	COAP_CODE_UNAUTHORIZED = COAP_CODE(4, 1),
	COAP_CODE_BAD_OPTION = COAP_CODE(4, 2),
	COAP_CODE_FORBIDDEN = COAP_CODE(4, 3),
	COAP_CODE_NOT_FOUND = COAP_CODE(4, 4),
	COAP_CODE_METHOD_NOT_ALLOWED = COAP_CODE(4, 5),
	COAP_CODE_NOT_ACCEPTABLE = COAP_CODE(4, 6),
	COAP_CODE_REQUEST_ENTITY_INCOMPLETE = COAP_CODE(4, 8),
	COAP_CODE_PRECONDITION_FAILED = COAP_CODE(4, 12),
	COAP_CODE_REQUEST_ENTITY_TOO_LARGE = COAP_CODE(4, 13),
	COAP_CODE_UNSUPPORTED_CONTENT_FORMAT = COAP_CODE(4, 15),

	COAP_CODE_INTERNAL_SERVER_ERROR = COAP_CODE(5, 0),
	COAP_CODE_NOT_IMPLEMENTED = COAP_CODE(5, 1),
	COAP_CODE_SERVICE_UNAVAILABLE = COAP_CODE(5, 3),
};

/* RFC 7252 §12.2, RFC 7641, RFC 7959: option numbers. Odd numbers are critical. */
enum coap_option_number {
	COAP_OPTION_IF_MATCH = 1,
	COAP_OPTION_URI_HOST = 3,
	COAP_OPTION_ETAG = 4,
	COAP_OPTION_IF_NONE_MATCH = 5,
	COAP_OPTION_OBSERVE = 6,
	COAP_OPTION_URI_PORT = 7,
	COAP_OPTION_LOCATION_PATH = 8,
	COAP_OPTION_URI_PATH = 11,
	COAP_OPTION_CONTENT_FORMAT = 12,
	COAP_OPTION_MAX_AGE = 14,
	COAP_OPTION_URI_QUERY = 15,
	COAP_OPTION_ACCEPT = 17,
	COAP_OPTION_LOCATION_QUERY = 20,
	COAP_OPTION_BLOCK2 = 23,
	COAP_OPTION_BLOCK1 = 27,
	COAP_OPTION_SIZE2 = 28,
	COAP_OPTION_PROXY_URI = 35,
	COAP_OPTION_PROXY_SCHEME = 39,
	COAP_OPTION_SIZE1 = 60,
};

/* Content-Format numbers used by LwM2M 1.1. */
enum coap_content_format {
	COAP_CT_TEXT_PLAIN = 0,
	COAP_CT_LINK_FORMAT = 40,
	COAP_CT_OCTET_STREAM = 42,
	COAP_CT_CBOR = 60,
	COAP_CT_SENML_JSON = 110,
	COAP_CT_SENML_CBOR = 112,
	COAP_CT_LWM2M_TLV = 11542,
	COAP_CT_LWM2M_JSON = 11543,
};

struct coap_option {
	uint16_t number;
	uint16_t len;
	const uint8_t *value; /* points into the datagram (parse) or caller memory (encode) */
};

struct coap_msg {
	uint8_t type;  /* enum coap_type */
	uint8_t code;  /* enum coap_code */
	uint16_t mid;  /* message ID */
	uint8_t token_len;
	uint8_t token[COAP_TOKEN_MAX];
	uint16_t option_count;
	struct coap_option options[COAP_MAX_OPTIONS]; /* sorted by number, stable */
	const uint8_t *payload;                       /* NULL when payload_len is 0 */
	size_t payload_len;
	uint8_t scratch[COAP_MSG_SCRATCH]; /* backing store for coap_msg_add_uint_option */
	uint8_t scratch_used;
};

/*
 * Parses a datagram. On success fills *msg (whose options and payload point into data) and
 * returns 0. Errors:
 *   -EPROTO   the version is not 1: RFC 7252 §3 says to silently ignore the datagram;
 *   -EBADMSG  a message format error (short header, token length 9–15, truncated or
 *             reserved option delta/length nibble 15 without the payload marker, an option
 *             number over 65535, payload marker with no payload, an Empty message with a
 *             token, options or payload): RFC 7252 §4.2/§4.3 say to reject with RST;
 *   -E2BIG    more than COAP_MAX_OPTIONS options.
 * On -EBADMSG and -E2BIG, msg->type and msg->mid are filled when the 4-byte header was
 * present, so that the caller can send a matching RST or 4.xx.
 */
int coap_msg_parse(struct coap_msg *msg, const uint8_t *data, size_t len);

/*
 * Sets up an outgoing message with no options and no payload. token may be NULL when
 * token_len is 0; token_len must be at most COAP_TOKEN_MAX (otherwise -EINVAL).
 */
int coap_msg_init(struct coap_msg *msg, uint8_t type, uint8_t code, uint16_t mid,
		  const uint8_t *token, size_t token_len);

/*
 * Adds an option, keeping options sorted by number (an option of a number already present
 * goes after the existing ones, so repeated options keep their order). The value is not
 * copied: it must outlive coap_msg_encode. Returns 0, -E2BIG when full, -EINVAL when len
 * exceeds 65535 + 269.
 */
int coap_msg_add_option(struct coap_msg *msg, uint16_t number, const void *value, size_t len);

/* Adds an option carrying an unsigned integer in its shortest form (0 is zero bytes),
 * stored in msg->scratch. Returns 0, -E2BIG when the options or the scratch are full. */
int coap_msg_add_uint_option(struct coap_msg *msg, uint16_t number, uint32_t value);

/* Adds one Uri-Path (or Location-Path, ...) option per '/'-separated segment of path;
 * a leading '/' is ignored, empty segments are skipped. path must outlive encode. */
int coap_msg_add_path(struct coap_msg *msg, uint16_t number, const char *path);

/* Sets the payload (not copied; must outlive coap_msg_encode). */
void coap_msg_set_payload(struct coap_msg *msg, const void *payload, size_t len);

/*
 * Encodes msg into buf. Returns the encoded length (> 0), or -ENOBUFS when cap is too small,
 * -EINVAL when the message is not encodable (token too long, Empty message with content).
 */
int coap_msg_encode(const struct coap_msg *msg, uint8_t *buf, size_t cap);

/* The first option with this number, or NULL. */
const struct coap_option *coap_msg_find_option(const struct coap_msg *msg, uint16_t number);

/* The number of options with this number. */
size_t coap_msg_count_options(const struct coap_msg *msg, uint16_t number);

/* Decodes an option's value as an unsigned integer (0–4 bytes, big-endian).
 * Returns 0 or -EINVAL when longer than 4 bytes. */
int coap_option_get_uint(const struct coap_option *opt, uint32_t *value);

/* Finds the option and decodes it: 0, -ENOENT when absent, -EINVAL when too long. */
int coap_msg_get_uint_option(const struct coap_msg *msg, uint16_t number, uint32_t *value);

/* RFC 7252 §5.4.1: an option is critical when its number is odd. */
static inline bool coap_option_is_critical(uint16_t number)
{
	return (number & 1) != 0;
}

/*
 * Writes the Uri-Path options as "/a/b/c" (or "/" when there is none) into buf, NUL
 * terminated. Returns the length, or -ENOBUFS if it does not fit.
 */
int coap_msg_get_path(const struct coap_msg *msg, char *buf, size_t cap);

/* RFC 7959 §2.2: the Block1/Block2 option value. */
struct coap_block {
	uint32_t num;  /* block number, < 2^20 */
	bool more;     /* M bit */
	uint8_t szx;   /* size exponent 0–6: block size is 16 << szx */
};

#define COAP_BLOCK_SIZE(szx) ((size_t)16 << (szx))

/* Decodes a Block option value. Returns 0, or -EINVAL when szx is 7 (reserved) or the
 * value has more than 24 bits. */
int coap_block_decode(uint32_t value, struct coap_block *block);

/* Encodes a block (szx 0–6, num < 2^20) to its option value. */
uint32_t coap_block_encode(const struct coap_block *block);

/* "2.05"-style name of a code into buf (at least 5 bytes). Returns buf. */
const char *coap_code_format(uint8_t code, char buf[5]);

#endif
