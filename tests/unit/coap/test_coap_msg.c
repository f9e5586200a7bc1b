/*
 * Tests of coap_msg: byte-exact vectors from RFC 7252 and RFC 7959, every option delta and
 * length form in both directions, and malformed datagrams (truncated header, token length
 * 9–15, reserved nibbles, truncated options, payload marker without payload, Empty
 * messages with content, too many options).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "coap/coap_msg.h"

static int parse(struct coap_msg *m, const uint8_t *b, size_t n)
{
	return coap_msg_parse(m, b, n);
}

/* RFC 7252 Appendix A figure 2 style: CON GET /temperature, MID 0x7d34, no token. */
static void test_parse_get_with_path(void **state)
{
	(void)state;
	const uint8_t dgram[] = { 0x40, 0x01, 0x7d, 0x34, 0xbb, 't', 'e', 'm', 'p',
				  'e',  'r',  'a',  't',  'u',  'r', 'e' };
	struct coap_msg m;
	assert_int_equal(parse(&m, dgram, sizeof(dgram)), 0);
	assert_int_equal(m.type, COAP_TYPE_CON);
	assert_int_equal(m.code, COAP_CODE_GET);
	assert_int_equal(m.mid, 0x7d34);
	assert_int_equal(m.token_len, 0);
	assert_int_equal(m.option_count, 1);
	assert_int_equal(m.options[0].number, COAP_OPTION_URI_PATH);
	assert_int_equal(m.options[0].len, 11);
	assert_memory_equal(m.options[0].value, "temperature", 11);
	assert_null(m.payload);
	assert_int_equal(m.payload_len, 0);
	char path[64];
	assert_int_equal(coap_msg_get_path(&m, path, sizeof(path)), 12);
	assert_string_equal(path, "/temperature");
}

/* ACK 2.05 with token 0x71 and payload "22.3 C" (RFC 7252 figure 3 shape). */
static void test_encode_piggybacked_response(void **state)
{
	(void)state;
	const uint8_t token[] = { 0x71 };
	struct coap_msg m;
	assert_int_equal(coap_msg_init(&m, COAP_TYPE_ACK, COAP_CODE_CONTENT, 0x7d35, token, 1),
			 0);
	coap_msg_set_payload(&m, "22.3 C", 6);
	uint8_t buf[64];
	const uint8_t want[] = { 0x61, 0x45, 0x7d, 0x35, 0x71, 0xff, '2', '2', '.', '3', ' ', 'C' };
	assert_int_equal(coap_msg_encode(&m, buf, sizeof(buf)), sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
}

/* Every delta and length form: 0–12 in the nibble, 13 + 1 byte, 14 + 2 bytes. */
static void test_option_forms_round_trip(void **state)
{
	(void)state;
	static uint8_t big[1000];
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)i;
	struct {
		uint16_t number;
		size_t len;
	} cases[] = {
		{ 1, 0 },      /* delta 1, length 0 */
		{ 12, 12 },    /* delta 11, length 12: both nibbles direct */
		{ 13, 13 },    /* delta 1, length 13: extended length 1 byte (0) */
		{ 40, 268 },   /* delta 27: 1-byte delta; length 268: 1-byte ext (255) */
		{ 300, 269 },  /* delta 260: 1-byte ext 247... */
		{ 600, 1000 }, /* delta 300: 2-byte ext; length 2-byte ext */
		{ 65535, 1 },  /* the largest option number */
	};
	struct coap_msg m;
	uint8_t tok[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	assert_int_equal(coap_msg_init(&m, COAP_TYPE_NON, COAP_CODE_POST, 1, tok, 8), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(coap_msg_add_option(&m, cases[i].number, big, cases[i].len), 0);
	coap_msg_set_payload(&m, "x", 1);
	uint8_t buf[4096];
	int n = coap_msg_encode(&m, buf, sizeof(buf));
	assert_true(n > 0);

	struct coap_msg back;
	assert_int_equal(parse(&back, buf, (size_t)n), 0);
	assert_int_equal(back.token_len, 8);
	assert_memory_equal(back.token, tok, 8);
	assert_int_equal(back.option_count, sizeof(cases) / sizeof(cases[0]));
	for (size_t i = 0; i < back.option_count; i++) {
		assert_int_equal(back.options[i].number, cases[i].number);
		assert_int_equal(back.options[i].len, cases[i].len);
		if (cases[i].len)
			assert_memory_equal(back.options[i].value, big, cases[i].len);
	}
	assert_int_equal(back.payload_len, 1);
	assert_memory_equal(back.payload, "x", 1);

	/* Re-encoding the parsed message gives the same bytes. */
	uint8_t again[4096];
	assert_int_equal(coap_msg_encode(&back, again, sizeof(again)), n);
	assert_memory_equal(again, buf, (size_t)n);
}

/* The exact bytes of the extended forms (RFC 7252 §3.1). */
static void test_option_extended_bytes(void **state)
{
	(void)state;
	struct coap_msg m;
	uint8_t buf[600];
	assert_int_equal(coap_msg_init(&m, COAP_TYPE_CON, COAP_CODE_GET, 0, NULL, 0), 0);
	static const uint8_t v[300];
	assert_int_equal(coap_msg_add_option(&m, 13, v, 13), 0);
	assert_int_equal(coap_msg_add_option(&m, 13 + 269, v, 269), 0);
	int n = coap_msg_encode(&m, buf, sizeof(buf));
	assert_int_equal(n, 4 + 3 + 13 + 5 + 269);
	assert_int_equal(buf[4], 0xdd); /* delta 13 → nibble 13, length 13 → nibble 13 */
	assert_int_equal(buf[5], 0x00); /* extended delta 13 - 13 */
	assert_int_equal(buf[6], 0x00); /* extended length 13 - 13 */
	const uint8_t *second = buf + 4 + 3 + 13;
	assert_int_equal(second[0], 0xee); /* delta 269 and length 269: 2-byte forms */
	assert_int_equal(second[1], 0x00);
	assert_int_equal(second[2], 0x00);
	assert_int_equal(second[3], 0x00);
	assert_int_equal(second[4], 0x00);
}

static void test_options_sorted_and_repeated(void **state)
{
	(void)state;
	struct coap_msg m;
	assert_int_equal(coap_msg_init(&m, COAP_TYPE_CON, COAP_CODE_POST, 9, NULL, 0), 0);
	assert_int_equal(coap_msg_add_option(&m, COAP_OPTION_URI_QUERY, "ep=a", 4), 0);
	assert_int_equal(coap_msg_add_path(&m, COAP_OPTION_URI_PATH, "/rd/abc"), 0);
	assert_int_equal(coap_msg_add_uint_option(&m, COAP_OPTION_CONTENT_FORMAT, 40), 0);
	assert_int_equal(coap_msg_add_option(&m, COAP_OPTION_URI_QUERY, "lt=60", 5), 0);
	uint8_t buf[128];
	int n = coap_msg_encode(&m, buf, sizeof(buf));
	assert_true(n > 0);
	struct coap_msg back;
	assert_int_equal(parse(&back, buf, (size_t)n), 0);
	assert_int_equal(back.option_count, 5);
	assert_int_equal(back.options[0].number, COAP_OPTION_URI_PATH);
	assert_memory_equal(back.options[0].value, "rd", 2);
	assert_memory_equal(back.options[1].value, "abc", 3);
	assert_int_equal(back.options[2].number, COAP_OPTION_CONTENT_FORMAT);
	assert_memory_equal(back.options[3].value, "ep=a", 4);
	assert_memory_equal(back.options[4].value, "lt=60", 5);
	assert_int_equal(coap_msg_count_options(&back, COAP_OPTION_URI_QUERY), 2);
	uint32_t ct;
	assert_int_equal(coap_msg_get_uint_option(&back, COAP_OPTION_CONTENT_FORMAT, &ct), 0);
	assert_int_equal(ct, 40);
	assert_int_equal(coap_msg_get_uint_option(&back, COAP_OPTION_ACCEPT, &ct), -ENOENT);
}

static void test_uint_option_shortest_form(void **state)
{
	(void)state;
	struct coap_msg m;
	const uint32_t values[] = { 0, 1, 255, 256, 65535, 65536, 0xffffffffu };
	const uint16_t lens[] = { 0, 1, 1, 2, 2, 3, 4 };
	assert_int_equal(coap_msg_init(&m, COAP_TYPE_CON, COAP_CODE_GET, 0, NULL, 0), 0);
	for (size_t i = 0; i < 7; i++)
		assert_int_equal(coap_msg_add_uint_option(&m, (uint16_t)(100 + i), values[i]), 0);
	for (size_t i = 0; i < 7; i++) {
		assert_int_equal(m.options[i].len, lens[i]);
		uint32_t v;
		assert_int_equal(coap_option_get_uint(&m.options[i], &v), 0);
		assert_int_equal(v, values[i]);
	}
	/* A 5-byte value is not a uint. */
	struct coap_option five = { .number = 12, .len = 5, .value = (const uint8_t *)"abcde" };
	uint32_t v;
	assert_int_equal(coap_option_get_uint(&five, &v), -EINVAL);
}

static void test_empty_messages(void **state)
{
	(void)state;
	struct coap_msg m;
	const uint8_t ping[] = { 0x40, 0x00, 0x12, 0x34 };
	assert_int_equal(parse(&m, ping, sizeof(ping)), 0);
	assert_int_equal(m.type, COAP_TYPE_CON);
	assert_int_equal(m.code, COAP_CODE_EMPTY);
	assert_int_equal(m.mid, 0x1234);

	/* An Empty message with a token, an option or a payload is a format error. */
	const uint8_t with_token[] = { 0x41, 0x00, 0x12, 0x34, 0xaa };
	assert_int_equal(parse(&m, with_token, sizeof(with_token)), -EBADMSG);
	assert_int_equal(m.mid, 0x1234);
	const uint8_t with_option[] = { 0x60, 0x00, 0x12, 0x34, 0x10 };
	assert_int_equal(parse(&m, with_option, sizeof(with_option)), -EBADMSG);
	const uint8_t with_payload[] = { 0x70, 0x00, 0x12, 0x34, 0xff, 0x01 };
	assert_int_equal(parse(&m, with_payload, sizeof(with_payload)), -EBADMSG);

	/* Encoding an Empty message with content is refused. */
	assert_int_equal(coap_msg_init(&m, COAP_TYPE_RST, COAP_CODE_EMPTY, 1, NULL, 0), 0);
	coap_msg_set_payload(&m, "x", 1);
	uint8_t buf[16];
	assert_int_equal(coap_msg_encode(&m, buf, sizeof(buf)), -EINVAL);
}

static void test_malformed_header_and_token(void **state)
{
	(void)state;
	struct coap_msg m;
	const uint8_t hdr[] = { 0x40, 0x01, 0x00 };
	for (size_t n = 0; n < sizeof(hdr) + 1; n++)
		assert_int_equal(parse(&m, hdr, n < 4 ? n : 3), -EBADMSG);

	/* Version 2 and 0: silently ignored. */
	const uint8_t v2[] = { 0x80, 0x01, 0x00, 0x01 };
	assert_int_equal(parse(&m, v2, sizeof(v2)), -EPROTO);
	const uint8_t v0[] = { 0x00, 0x01, 0x00, 0x01 };
	assert_int_equal(parse(&m, v0, sizeof(v0)), -EPROTO);

	/* Token lengths 9–15 are reserved; the header is still reported for the RST. */
	for (uint8_t tkl = 9; tkl <= 15; tkl++) {
		uint8_t d[4 + 15] = { (uint8_t)(0x40 | tkl), 0x01, 0xab, 0xcd };
		memset(&m, 0, sizeof(m));
		assert_int_equal(parse(&m, d, sizeof(d)), -EBADMSG);
		assert_int_equal(m.type, COAP_TYPE_CON);
		assert_int_equal(m.mid, 0xabcd);
	}
	/* A token shorter than its length says. */
	const uint8_t short_token[] = { 0x44, 0x01, 0x00, 0x01, 1, 2, 3 };
	assert_int_equal(parse(&m, short_token, sizeof(short_token)), -EBADMSG);

	/* Tokens of 0–8 bytes are all fine. */
	for (uint8_t tkl = 0; tkl <= 8; tkl++) {
		uint8_t d[12] = { (uint8_t)(0x40 | tkl), 0x01, 0x00, 0x01, 1, 2, 3, 4, 5, 6, 7, 8 };
		assert_int_equal(parse(&m, d, 4u + tkl), 0);
		assert_int_equal(m.token_len, tkl);
	}
	/* Encoding a 9-byte token is refused at init. */
	uint8_t tok[9] = { 0 };
	assert_int_equal(coap_msg_init(&m, COAP_TYPE_CON, COAP_CODE_GET, 1, tok, 9), -EINVAL);
}

static void test_malformed_options(void **state)
{
	(void)state;
	struct coap_msg m;
	struct {
		const char *why;
		uint8_t bytes[12];
		size_t len;
	} cases[] = {
		{ "delta nibble 15 without marker", { 0x40, 0x01, 0, 1, 0xf0 }, 5 },
		{ "length nibble 15", { 0x40, 0x01, 0, 1, 0x1f }, 5 },
		{ "1-byte extended delta missing", { 0x40, 0x01, 0, 1, 0xd0 }, 5 },
		{ "2-byte extended delta truncated", { 0x40, 0x01, 0, 1, 0xe0, 0x01 }, 6 },
		{ "1-byte extended length missing", { 0x40, 0x01, 0, 1, 0x1d }, 5 },
		{ "2-byte extended length truncated", { 0x40, 0x01, 0, 1, 0x1e, 0x00 }, 6 },
		{ "value shorter than its length", { 0x40, 0x01, 0, 1, 0xb4, 'a', 'b' }, 7 },
		{ "option number over 65535",
		  { 0x40, 0x01, 0, 1, 0xe0, 0xff, 0xff, 0xe0, 0xff, 0xff },
		  10 },
		{ "payload marker without payload", { 0x40, 0x01, 0, 1, 0xff }, 5 },
		{ "marker after options without payload", { 0x40, 0x01, 0, 1, 0xb1, 'a', 0xff }, 7 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = parse(&m, cases[i].bytes, cases[i].len);
		if (rc != -EBADMSG)
			fail_msg("%s: got %d", cases[i].why, rc);
	}
}

static void test_too_many_options(void **state)
{
	(void)state;
	uint8_t d[4 + COAP_MAX_OPTIONS + 1] = { 0x40, 0x01, 0, 1 };
	/* COAP_MAX_OPTIONS + 1 empty options: one of number 1, then repeats (delta 0). */
	d[4] = 0x10;
	for (size_t i = 5; i < sizeof(d); i++)
		d[i] = 0x00;
	struct coap_msg m;
	assert_int_equal(parse(&m, d, sizeof(d)), -E2BIG);
	assert_int_equal(m.mid, 1);
	assert_int_equal(parse(&m, d, sizeof(d) - 1), 0);
	assert_int_equal(m.option_count, COAP_MAX_OPTIONS);

	assert_int_equal(coap_msg_init(&m, COAP_TYPE_CON, COAP_CODE_GET, 0, NULL, 0), 0);
	for (int i = 0; i < COAP_MAX_OPTIONS; i++)
		assert_int_equal(coap_msg_add_option(&m, 11, "a", 1), 0);
	assert_int_equal(coap_msg_add_option(&m, 11, "a", 1), -E2BIG);
}

static void test_encode_buffer_too_small(void **state)
{
	(void)state;
	struct coap_msg m;
	assert_int_equal(coap_msg_init(&m, COAP_TYPE_CON, COAP_CODE_GET, 0, NULL, 0), 0);
	assert_int_equal(coap_msg_add_path(&m, COAP_OPTION_URI_PATH, "a/b"), 0);
	coap_msg_set_payload(&m, "hello", 5);
	uint8_t buf[32];
	int n = coap_msg_encode(&m, buf, sizeof(buf));
	assert_int_equal(n, 4 + 2 + 2 + 1 + 5);
	for (int cap = 0; cap < n; cap++)
		assert_int_equal(coap_msg_encode(&m, buf, (size_t)cap), -ENOBUFS);
}

/* RFC 7959 §2.2: NUM | M | SZX. */
static void test_block_option(void **state)
{
	(void)state;
	struct coap_block b;
	assert_int_equal(coap_block_decode(0x0e, &b), 0); /* num 0, M 1, SZX 6 (1024) */
	assert_int_equal(b.num, 0);
	assert_true(b.more);
	assert_int_equal(COAP_BLOCK_SIZE(b.szx), 1024);
	assert_int_equal(coap_block_decode(0x1a, &b), 0); /* num 1, M 1, SZX 2 (64) */
	assert_int_equal(b.num, 1);
	assert_int_equal(COAP_BLOCK_SIZE(b.szx), 64);
	assert_int_equal(coap_block_decode(0x07, &b), -EINVAL);      /* SZX 7 reserved */
	assert_int_equal(coap_block_decode(0x1000000, &b), -EINVAL); /* over 3 bytes */

	struct coap_block w = { .num = 0xfffff, .more = false, .szx = 4 };
	uint32_t v = coap_block_encode(&w);
	assert_int_equal(v, (0xfffffu << 4) | 4);
	assert_int_equal(coap_block_decode(v, &b), 0);
	assert_int_equal(b.num, 0xfffff);
	assert_false(b.more);
	assert_int_equal(b.szx, 4);
}

static void test_code_format(void **state)
{
	(void)state;
	char buf[5];
	assert_string_equal(coap_code_format(COAP_CODE(2, 1), buf), "2.01");
	assert_string_equal(coap_code_format(COAP_CODE(4, 13), buf), "4.13");
	assert_string_equal(coap_code_format(COAP_CODE(7, 31), buf), "7.31");
	assert_string_equal(coap_code_format(0, buf), "0.00");
}

/* Random bytes never crash the parser, and whatever parses re-encodes to a message that
 * parses to the same fields. */
static void test_random_bytes(void **state)
{
	(void)state;
	uint32_t seed = 12345;
	uint8_t d[64], out[256];
	for (int round = 0; round < 200000; round++) {
		size_t n = 0;
		seed = seed * 1103515245u + 12345u;
		size_t len = (seed >> 16) % sizeof(d);
		for (n = 0; n < len; n++) {
			seed = seed * 1103515245u + 12345u;
			d[n] = (uint8_t)(seed >> 16);
		}
		if (len > 0)
			d[0] = (uint8_t)(0x40 | (d[0] & 0x3f)); /* mostly version 1 */
		struct coap_msg m, back;
		if (parse(&m, d, len) != 0)
			continue;
		int e = coap_msg_encode(&m, out, sizeof(out));
		assert_true(e > 0);
		assert_int_equal(parse(&back, out, (size_t)e), 0);
		assert_int_equal(back.option_count, m.option_count);
		assert_int_equal(back.payload_len, m.payload_len);
		assert_int_equal(back.code, m.code);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_get_with_path),
		cmocka_unit_test(test_encode_piggybacked_response),
		cmocka_unit_test(test_option_forms_round_trip),
		cmocka_unit_test(test_option_extended_bytes),
		cmocka_unit_test(test_options_sorted_and_repeated),
		cmocka_unit_test(test_uint_option_shortest_form),
		cmocka_unit_test(test_empty_messages),
		cmocka_unit_test(test_malformed_header_and_token),
		cmocka_unit_test(test_malformed_options),
		cmocka_unit_test(test_too_many_options),
		cmocka_unit_test(test_encode_buffer_too_small),
		cmocka_unit_test(test_block_option),
		cmocka_unit_test(test_code_format),
		cmocka_unit_test(test_random_bytes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
