/*
 * libFuzzer target for the CoAP message format (src/coap/coap_msg.c): every datagram either
 * parses or is refused with one of the documented errors, and what parses re-encodes to
 * the very same bytes.
 *
 * RFC 7252 §3.1 gives each option delta and length exactly one encoding (the nibble and
 * its extension are fixed by the value), so encode(parse(x)) == x byte for byte. The same
 * message built up again with coap_msg_add_option, its options added out of order, must
 * encode to x too (options are kept sorted, repeated ones in their order). The helpers
 * callers use on a parsed request — path, uint options, Block — run on every message.
 *
 * Input: a datagram, as is.
 */
#include <errno.h>
#include <string.h>

#include "coap/coap_msg.h"
#include "fuzz_common.h"

#define DGRAM_MAX 4096

static void check_helpers(const struct coap_msg *m)
{
	char path[DGRAM_MAX + 2];
	int n = coap_msg_get_path(m, path, sizeof(path));
	FUZZ_CHECK(n > 0 && path[n] == '\0' && path[0] == '/', "path %d", n);
	char tiny[4];
	n = coap_msg_get_path(m, tiny, sizeof(tiny));
	FUZZ_CHECK(n == -ENOBUFS || (n > 0 && (size_t)n < sizeof(tiny)), "small path %d", n);

	static const uint16_t numbers[] = { COAP_OPTION_CONTENT_FORMAT, COAP_OPTION_ACCEPT,
					    COAP_OPTION_OBSERVE,	COAP_OPTION_BLOCK1,
					    COAP_OPTION_BLOCK2,		COAP_OPTION_SIZE1,
					    COAP_OPTION_URI_PATH };
	for (size_t i = 0; i < sizeof(numbers) / sizeof(numbers[0]); i++) {
		uint32_t v = 0;
		const struct coap_option *o = coap_msg_find_option(m, numbers[i]);
		int rc = coap_msg_get_uint_option(m, numbers[i], &v);
		FUZZ_CHECK((o == NULL) == (rc == -ENOENT), "find and get disagree");
		FUZZ_CHECK(rc != -EINVAL || o->len > 4, "uint option of %u bytes refused", o->len);
		FUZZ_CHECK((coap_msg_count_options(m, numbers[i]) == 0) == (o == NULL), "count");
		if (rc == 0 &&
		    (numbers[i] == COAP_OPTION_BLOCK1 || numbers[i] == COAP_OPTION_BLOCK2)) {
			struct coap_block b;
			if (coap_block_decode(v, &b) == 0) {
				FUZZ_CHECK(b.szx <= 6 && b.num < (1u << 20), "block %u/%u", b.num,
					   b.szx);
				FUZZ_CHECK(coap_block_encode(&b) == v, "block round trip of %u", v);
			}
		}
	}
	char code[5];
	coap_code_format(m->code, code);
	FUZZ_CHECK(strlen(code) == 4 && code[1] == '.', "code '%s'", code);
}

/* Builds m again with coap_msg_add_option, adding the runs of equal numbers from the last
 * to the first, and checks that it encodes to want. */
static void check_rebuilt(const struct coap_msg *m, const uint8_t *want, size_t want_len)
{
	struct coap_msg b;
	FUZZ_CHECK(coap_msg_init(&b, m->type, m->code, m->mid, m->token, m->token_len) == 0,
		   "init");
	size_t end = m->option_count;
	while (end > 0) {
		size_t start = end - 1;
		while (start > 0 && m->options[start - 1].number == m->options[end - 1].number)
			start--;
		for (size_t i = start; i < end; i++)
			FUZZ_CHECK(coap_msg_add_option(&b, m->options[i].number,
						       m->options[i].value, m->options[i].len) == 0,
				   "add option %u", m->options[i].number);
		end = start;
	}
	coap_msg_set_payload(&b, m->payload, m->payload_len);
	uint8_t out[DGRAM_MAX];
	int n = coap_msg_encode(&b, out, sizeof(out));
	FUZZ_CHECK(n >= 0 && (size_t)n == want_len && memcmp(out, want, want_len) == 0,
		   "rebuilt message encodes differently (%d bytes, want %zu)", n, want_len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > DGRAM_MAX)
		return 0;
	struct coap_msg m;
	int rc = coap_msg_parse(&m, data, size);
	if (rc == -EPROTO || rc == -EBADMSG || rc == -E2BIG)
		return 0;
	FUZZ_CHECK(rc == 0, "coap_msg_parse returned %d", rc);
	FUZZ_CHECK(m.token_len <= COAP_TOKEN_MAX && m.option_count <= COAP_MAX_OPTIONS, "bounds");
	FUZZ_CHECK((m.payload == NULL) == (m.payload_len == 0), "payload pointer and length");
	for (size_t i = 0; i < m.option_count; i++) {
		const struct coap_option *o = &m.options[i];
		FUZZ_CHECK(o->value >= data && o->value + o->len <= data + size, "option %zu", i);
		FUZZ_CHECK(i == 0 || o->number >= m.options[i - 1].number, "options out of order");
	}
	check_helpers(&m);

	uint8_t out[DGRAM_MAX];
	int n = coap_msg_encode(&m, out, sizeof(out));
	FUZZ_CHECK(n >= 0 && (size_t)n == size && memcmp(out, data, size) == 0,
		   "re-encoding gives %d bytes, not the %zu parsed", n, size);
	/* One byte short of room is -ENOBUFS, never a partial message. */
	FUZZ_CHECK(coap_msg_encode(&m, out, size - 1) == -ENOBUFS, "encode into %zu", size - 1);
	check_rebuilt(&m, data, size);
	return 0;
}
