/*
 * Tests of bootstrap configurations (bootstrap/bs_config.c): every field's checks against
 * wrong types, out-of-range values, bad hex and bad URIs; unknown and misplaced fields;
 * the rule that a device or template can bootstrap somehow; the stored text read back
 * unchanged; the API's view without keys; and the key derivation against an HMAC computed
 * here with mbedTLS's one-shot HMAC steps (not bs_config's call).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <mbedtls/md.h>

#include "bootstrap/bs_config.h"

/* Reads text (a JSON object) as a device's (or a template's) configuration. */
static int from_text(const char *text, bool is_template, struct bs_config *c, char *why,
		     size_t cap)
{
	json_error_t err;
	json_t *o = json_loads(text, JSON_ALLOW_NUL, &err);
	assert_non_null(o);
	int rc = bs_config_from_json(o, is_template, c, why, cap);
	json_decref(o);
	return rc;
}

/* text is refused, with a message that contains want. */
static void refused(const char *text, bool is_template, const char *want)
{
	struct bs_config c;
	char why[256] = "";
	int rc = from_text(text, is_template, &c, why, sizeof(why));
	if (rc != -EINVAL || !strstr(why, want))
		fail_msg("%s: rc %d, \"%s\" (wanted \"%s\")", text, rc, why, want);
}

static void accepted(const char *text, bool is_template, struct bs_config *c)
{
	char why[256] = "";
	int rc = from_text(text, is_template, c, why, sizeof(why));
	if (rc != 0)
		fail_msg("%s: %s", text, why);
}

#define KEY16 "\"bs_key\":\"00112233445566778899aabbccddeeff\""

static void test_defaults(void **state)
{
	(void)state;
	struct bs_config c;
	accepted("{" KEY16 "}", false, &c);
	assert_false(c.allow_plain);
	assert_string_equal(c.bs_identity, "");
	assert_int_equal(c.bs_key_len, 16);
	assert_int_equal(c.bs_key[0], 0x00);
	assert_int_equal(c.bs_key[15], 0xff);
	assert_string_equal(c.server_uri, "");
	assert_int_equal(c.security, BS_SECURITY_PSK);
	assert_int_equal(c.short_server_id, 1);
	assert_int_equal(c.lifetime, 86400);
	assert_string_equal(c.binding, "U");
	assert_int_equal(c.pmin, 0);
	assert_int_equal(c.pmax, 0);
	assert_true(c.discover);
	/* null is absent: the default. */
	accepted("{\"allow_plain\":true,\"lifetime\":null}", false, &c);
	assert_int_equal(c.lifetime, 86400);
}

static void test_every_field(void **state)
{
	(void)state;
	struct bs_config c;
	accepted("{\"allow_plain\":true,\"bs_identity\":\"Dev_1-a\","
		 "\"bs_key\":\"AABBCCDDEEFF00112233445566778899AABBCCDDEEFF00112233445566778899\","
		 "\"server_uri\":\"coap://[fd00::1]:5683\",\"security\":\"nosec\","
		 "\"short_server_id\":65534,\"lifetime\":31536000,\"binding\":\"UQ\","
		 "\"pmin\":10,\"pmax\":86400,\"discover\":false}",
		 false, &c);
	assert_true(c.allow_plain);
	assert_string_equal(c.bs_identity, "Dev_1-a");
	assert_int_equal(c.bs_key_len, 32);
	assert_int_equal(c.bs_key[0], 0xaa);
	assert_string_equal(c.server_uri, "coap://[fd00::1]:5683");
	assert_int_equal(c.security, BS_SECURITY_NOSEC);
	assert_int_equal(c.short_server_id, 65534);
	assert_int_equal(c.lifetime, 31536000);
	assert_string_equal(c.binding, "UQ");
	assert_int_equal(c.pmin, 10);
	assert_int_equal(c.pmax, 86400);
	assert_false(c.discover);

	accepted("{\"master_key\":\"000102030405060708090a0b0c0d0e0f\","
		 "\"server_uri\":\"coaps://lwm2m.example.com:5684\",\"lifetime\":60}",
		 true, &c);
	assert_int_equal(c.master_key_len, 16);
	assert_int_equal(c.master_key[15], 0x0f);
	assert_int_equal(c.lifetime, 60);
}

static void test_types(void **state)
{
	(void)state;
	refused("{" KEY16 ",\"allow_plain\":1}", false, "allow_plain must be true or false");
	refused("{" KEY16 ",\"discover\":\"yes\"}", false, "discover must be true or false");
	refused("{" KEY16 ",\"bs_identity\":5}", false, "bs_identity must be");
	refused("{\"bs_key\":[1]}", false, "bs_key must be 16-64 hex digits");
	refused("{" KEY16 ",\"server_uri\":{}}", false, "server_uri must be");
	refused("{" KEY16 ",\"security\":0}", false, "security must be");
	refused("{" KEY16 ",\"lifetime\":\"3600\"}", false, "lifetime must be an integer");
	refused("{" KEY16 ",\"lifetime\":3600.0}", false, "lifetime must be an integer");
	refused("{" KEY16 ",\"pmin\":true}", false, "pmin must be an integer");
	refused("{" KEY16 ",\"binding\":1}", false, "binding must be");
	refused("[]", false, "must be a JSON object");
	struct bs_config c;
	char why[64];
	assert_int_equal(bs_config_from_json(NULL, false, &c, why, sizeof(why)), -EINVAL);
}

static void test_ranges(void **state)
{
	(void)state;
	struct bs_config c;
	refused("{" KEY16 ",\"short_server_id\":0}", false,
		"short_server_id must be an integer in 1-65534");
	refused("{" KEY16 ",\"short_server_id\":65535}", false, "short_server_id");
	refused("{" KEY16 ",\"lifetime\":59}", false, "lifetime must be an integer in 60-31536000");
	refused("{" KEY16 ",\"lifetime\":31536001}", false, "lifetime");
	refused("{" KEY16 ",\"lifetime\":-1}", false, "lifetime");
	refused("{" KEY16 ",\"lifetime\":99999999999999}", false, "lifetime");
	refused("{" KEY16 ",\"pmin\":-1}", false, "pmin must be an integer in 0-86400");
	refused("{" KEY16 ",\"pmax\":86401}", false, "pmax must be an integer in 0-86400");
	refused("{" KEY16 ",\"pmin\":20,\"pmax\":10}", false, "pmin must not exceed pmax");
	/* 0 is "not written": no order between them then. */
	accepted("{" KEY16 ",\"pmin\":20,\"pmax\":0}", false, &c);
	accepted("{" KEY16 ",\"pmin\":20,\"pmax\":20}", false, &c);
	refused("{" KEY16 ",\"binding\":\"T\"}", false, "binding must be \"U\" or \"UQ\"");
	refused("{" KEY16 ",\"binding\":\"u\"}", false, "binding");
	refused("{" KEY16 ",\"security\":\"x509\"}", false, "security must be \"psk\" or \"nosec\"");
	refused("{" KEY16 ",\"security\":\"PSK\"}", false, "security");
}

static void test_identity(void **state)
{
	(void)state;
	struct bs_config c;
	char id64[65 + 40], id65[66 + 40];
	memset(id64, 'a', 64);
	id64[64] = '\0';
	memset(id65, 'b', 65);
	id65[65] = '\0';
	char text[256];
	snprintf(text, sizeof(text), "{" KEY16 ",\"bs_identity\":\"%s\"}", id64);
	accepted(text, false, &c);
	assert_string_equal(c.bs_identity, id64);
	snprintf(text, sizeof(text), "{" KEY16 ",\"bs_identity\":\"%s\"}", id65);
	refused(text, false, "bs_identity must be 0-64 of [A-Za-z0-9_-]");
	refused("{" KEY16 ",\"bs_identity\":\"a b\"}", false, "bs_identity");
	refused("{" KEY16 ",\"bs_identity\":\"a/b\"}", false, "bs_identity");
	refused("{" KEY16 ",\"bs_identity\":\"a\\u0000b\"}", false, "bs_identity");
	refused("{" KEY16 ",\"bs_identity\":\"\xc3\xa9\"}", false, "bs_identity");
}

static void test_keys(void **state)
{
	(void)state;
	struct bs_config c;
	/* 8..32 bytes for a device's key, 16..32 for a master key, in hex of either case. */
	accepted("{\"bs_key\":\"0011223344556677\"}", false, &c);
	assert_int_equal(c.bs_key_len, 8);
	refused("{\"bs_key\":\"00112233445566\"}", false, "bs_key must be 16-64 hex digits");
	refused("{\"bs_key\":\"00112233445566778\"}", false, "bs_key"); /* odd count */
	refused("{\"bs_key\":\"0011223344556677g0\"}", false, "bs_key");
	refused("{\"bs_key\":\"0x11223344556677\"}", false, "bs_key");
	refused("{\"bs_key\":\"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff00\"}",
		false, "bs_key");
	refused("{\"bs_key\":\"\"}", false, "bs_key");
	refused("{\"master_key\":\"0011223344556677\"}", true, "master_key must be 32-64 hex digits");
	refused("{\"master_key\":\"zz112233445566778899aabbccddeeff\"}", true, "master_key");
	accepted("{\"master_key\":\"00112233445566778899AABBCCDDEEFF\"}", true, &c);
	assert_int_equal(c.master_key[10], 0xaa);
}

static void test_uris(void **state)
{
	(void)state;
	struct bs_config c;
	static const char *const good[] = {
		"coaps://lwm2m.example.com:5684", "coaps://10.0.0.1:1", "coaps://[::1]:65535",
		"coaps://h:5684",
	};
	static const char *const bad[] = {
		"http://h:80",       "coaps://h",        "coaps://:5684",     "coaps://h:",
		"coaps://h:0",       "coaps://h:65536",  "coaps://h:123456",  "coaps://h:5684/",
		"coaps://h:5684?x",  "coaps://h_x:5684", "coaps://[]:5684",   "coaps://[::1:5684",
		"coaps://[zz]:5684", "coaps:/h:5684",    "COAPS://h:5684",    "coaps://h:-1",
		"coaps://u@h:5684",  "coaps:// h:5684",
	};
	char text[512];
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(text, sizeof(text), "{" KEY16 ",\"server_uri\":\"%s\"}", good[i]);
		accepted(text, false, &c);
		assert_string_equal(c.server_uri, good[i]);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "{" KEY16 ",\"server_uri\":\"%s\"}", bad[i]);
		refused(text, false, "server_uri must be");
	}
	/* At most 255 bytes. */
	char host[300];
	memset(host, 'h', sizeof(host));
	snprintf(text, sizeof(text), "{" KEY16 ",\"server_uri\":\"coaps://%.*s:5684\"}", 255 - 13,
		 host);
	accepted(text, false, &c);
	assert_int_equal(strlen(c.server_uri), 255);
	snprintf(text, sizeof(text), "{" KEY16 ",\"server_uri\":\"coaps://%.*s:5684\"}", 256 - 13,
		 host);
	refused(text, false, "server_uri");
	refused("{" KEY16 ",\"server_uri\":\"coaps://h:5684\\u0000x\"}", false, "server_uri");
	refused("{" KEY16 ",\"bs_key\":\"0011223344556677\\u0000\"}", false, "bs_key");
	/* The scheme goes with the security mode. */
	refused("{" KEY16 ",\"server_uri\":\"coap://h:5683\"}", false,
		"security \"psk\" needs a coaps:// server_uri");
	refused("{" KEY16 ",\"security\":\"nosec\",\"server_uri\":\"coaps://h:5684\"}", false,
		"security \"nosec\" needs a coap:// server_uri");
	accepted("{" KEY16 ",\"security\":\"nosec\",\"server_uri\":\"\"}", false, &c);
}

static void test_unknown_and_misplaced(void **state)
{
	(void)state;
	refused("{" KEY16 ",\"lifetme\":60}", false, "unknown field \"lifetme\"");
	refused("{" KEY16 ",\"\":1}", false, "unknown field \"\"");
	refused("{" KEY16 ",\"master_key\":\"00112233445566778899aabbccddeeff\"}", false,
		"master_key is a template's field");
	refused("{\"allow_plain\":true," KEY16 "}", true, "bs_key is a device's field");
	refused("{\"allow_plain\":true,\"bs_identity\":\"x\"}", true, "bs_identity is a device's");
	/* A long unknown name is quoted shortened. */
	char name[200], text[300];
	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	snprintf(text, sizeof(text), "{\"%s\":1}", name);
	struct bs_config c;
	char why[256];
	assert_int_equal(from_text(text, false, &c, why, sizeof(why)), -EINVAL);
	assert_true(strlen(why) < 100);
}

static void test_must_bootstrap_somehow(void **state)
{
	(void)state;
	struct bs_config c;
	refused("{}", false, "the device could not bootstrap: give bs_key or allow_plain");
	refused("{\"allow_plain\":false}", false, "give bs_key or allow_plain");
	accepted("{\"allow_plain\":true}", false, &c);
	refused("{}", true, "give master_key or allow_plain");
	accepted("{\"allow_plain\":true}", true, &c);
}

/* Stored text → parse → the same text; the API's view leaves keys out. */
static void round_trip(const char *text, bool is_template)
{
	struct bs_config a, b;
	accepted(text, is_template, &a);
	json_t *stored = bs_config_to_json(&a, is_template, false);
	assert_non_null(stored);
	char *s1 = json_dumps(stored, JSON_COMPACT | JSON_SORT_KEYS);
	assert_int_equal(bs_config_parse(s1, is_template, &b), 0);
	json_t *again = bs_config_to_json(&b, is_template, false);
	char *s2 = json_dumps(again, JSON_COMPACT | JSON_SORT_KEYS);
	assert_string_equal(s1, s2);
	assert_memory_equal(a.bs_key, b.bs_key, sizeof(a.bs_key));
	assert_int_equal(a.bs_key_len, b.bs_key_len);
	assert_memory_equal(a.master_key, b.master_key, sizeof(a.master_key));
	assert_int_equal(a.master_key_len, b.master_key_len);

	json_t *api = bs_config_to_json(&a, is_template, true);
	char *shown = json_dumps(api, JSON_COMPACT);
	assert_null(strstr(shown, "\"bs_key\""));
	assert_null(strstr(shown, "\"master_key\""));
	assert_null(strstr(shown, "00112233"));
	assert_non_null(json_object_get(api, is_template ? "has_master_key" : "has_bs_key"));
	free(shown);
	free(s1);
	free(s2);
	json_decref(api);
	json_decref(stored);
	json_decref(again);
}

static void test_round_trip(void **state)
{
	(void)state;
	round_trip("{" KEY16 ",\"bs_identity\":\"node-7\",\"allow_plain\":true,"
		   "\"server_uri\":\"coaps://[::1]:5684\",\"short_server_id\":7,\"lifetime\":3600,"
		   "\"binding\":\"UQ\",\"pmin\":5,\"pmax\":60,\"discover\":false}",
		   false);
	round_trip("{\"allow_plain\":true,\"security\":\"nosec\"}", false);
	round_trip("{\"master_key\":\"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\"}",
		   true);
	/* The stored form keeps the key in lowercase hex. */
	struct bs_config c;
	accepted("{\"bs_key\":\"AABBCCDDEEFF0011\"}", false, &c);
	json_t *o = bs_config_to_json(&c, false, false);
	assert_string_equal(json_string_value(json_object_get(o, "bs_key")), "aabbccddeeff0011");
	json_decref(o);
	/* The API's flags say whether there is a key. */
	accepted("{\"allow_plain\":true}", false, &c);
	o = bs_config_to_json(&c, false, true);
	assert_true(json_is_false(json_object_get(o, "has_bs_key")));
	json_decref(o);
}

static void test_parse_refuses(void **state)
{
	(void)state;
	struct bs_config c;
	assert_int_equal(bs_config_parse("", false, &c), -EINVAL);
	assert_int_equal(bs_config_parse("{", false, &c), -EINVAL);
	assert_int_equal(bs_config_parse(NULL, false, &c), -EINVAL);
	assert_int_equal(bs_config_parse("{\"allow_plain\":true,\"allow_plain\":false}", false, &c),
			 -EINVAL);
	assert_int_equal(bs_config_parse("{\"allow_plain\":true,\"x\":1}", false, &c), -EINVAL);
	/* Bigger than a stored configuration may be. */
	size_t n = 9000;
	char *big = malloc(n + 1);
	memset(big, ' ', n);
	memcpy(big, "{\"allow_plain\":true}", 20);
	big[n] = '\0';
	assert_int_equal(bs_config_parse(big, false, &c), -EINVAL);
	free(big);
	assert_int_equal(bs_config_parse("{\"allow_plain\":true}", false, &c), 0);
}

/* HMAC-SHA256(master, id) by mbedTLS's streaming HMAC steps. */
static void expected_key(const uint8_t *master, size_t mlen, const char *id, uint8_t out[32])
{
	mbedtls_md_context_t ctx;
	mbedtls_md_init(&ctx);
	assert_int_equal(mbedtls_md_setup(&ctx, mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), 1), 0);
	assert_int_equal(mbedtls_md_hmac_starts(&ctx, master, mlen), 0);
	assert_int_equal(mbedtls_md_hmac_update(&ctx, (const unsigned char *)id, strlen(id)), 0);
	assert_int_equal(mbedtls_md_hmac_finish(&ctx, out), 0);
	mbedtls_md_free(&ctx);
}

static void test_derive_key(void **state)
{
	(void)state;
	struct bs_config t;
	accepted("{\"master_key\":\"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\"}",
		 true, &t);
	uint8_t key[BS_DERIVED_KEY_LEN], want[32];
	bs_config_derive_key(&t, "node-1", key);
	expected_key(t.master_key, t.master_key_len, "node-1", want);
	assert_memory_equal(key, want, BS_DERIVED_KEY_LEN);
	/* A fixed vector, as docs/bootstrap.md's openssl line prints it for this master key
	 * and node ID (381d867840059044c8ff6a7ad825ce7c). */
	static const uint8_t vector[BS_DERIVED_KEY_LEN] = {
		0x38, 0x1d, 0x86, 0x78, 0x40, 0x05, 0x90, 0x44,
		0xc8, 0xff, 0x6a, 0x7a, 0xd8, 0x25, 0xce, 0x7c,
	};
	assert_memory_equal(key, vector, BS_DERIVED_KEY_LEN);
	/* Another identity, another key. */
	uint8_t other[BS_DERIVED_KEY_LEN];
	bs_config_derive_key(&t, "node-2", other);
	assert_memory_not_equal(key, other, BS_DERIVED_KEY_LEN);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_every_field),
		cmocka_unit_test(test_types),
		cmocka_unit_test(test_ranges),
		cmocka_unit_test(test_identity),
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_uris),
		cmocka_unit_test(test_unknown_and_misplaced),
		cmocka_unit_test(test_must_bootstrap_somehow),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_parse_refuses),
		cmocka_unit_test(test_derive_key),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
