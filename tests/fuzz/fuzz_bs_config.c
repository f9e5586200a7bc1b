/*
 * libFuzzer target for bootstrap configurations (src/bootstrap/bs_config.c): the API's
 * PUT bodies (bs_config_from_json) and the text a bs_devices or bs_templates row keeps
 * (bs_config_parse), which the Bootstrap-Server reads back at every bootstrap — a store
 * edited by hand or damaged is outside input all the same.
 *
 * Input: [mode][bytes]. Mode bit 0: a template (else a device's configuration); bit 1: the
 * bytes as stored text through bs_config_parse (else parsed by jansson, duplicates and
 * NULs allowed, and handed to bs_config_from_json as the API does).
 *
 * What must hold: the answer is 0 or -EINVAL, and a refusal from bs_config_from_json says
 * why; an accepted configuration obeys every documented limit (field ranges, key lengths,
 * pmin <= pmax, a way to bootstrap) and comes back unchanged from the stored form
 * (bs_config_to_json → json_dumps → bs_config_parse), which written twice is the same
 * text; the API's form holds no key; a template derives keys; nothing crashes or leaks.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "bootstrap/bs_config.h"
#include "fuzz_common.h"
#include "store/store_bootstrap.h"

/* Bigger inputs are neither API bodies (64 KiB) nor stored rows (8 KiB) worth more. */
#define MAX_INPUT 65536

static void check_limits(const struct bs_config *c, bool is_template)
{
	FUZZ_CHECK(memchr(c->bs_identity, '\0', sizeof(c->bs_identity)) != NULL,
		   "bs_identity unterminated");
	FUZZ_CHECK(memchr(c->server_uri, '\0', sizeof(c->server_uri)) != NULL,
		   "server_uri unterminated");
	FUZZ_CHECK(strcmp(c->binding, "U") == 0 || strcmp(c->binding, "UQ") == 0, "binding %s",
		   c->binding);
	FUZZ_CHECK(c->security == BS_SECURITY_PSK || c->security == BS_SECURITY_NOSEC,
		   "security %d", (int)c->security);
	FUZZ_CHECK(c->short_server_id >= 1 && c->short_server_id <= 65534, "ssid %u",
		   c->short_server_id);
	FUZZ_CHECK(c->lifetime >= 60 && c->lifetime <= 31536000, "lifetime %u", c->lifetime);
	FUZZ_CHECK(c->pmin <= 86400 && c->pmax <= 86400, "periods %u %u", c->pmin, c->pmax);
	FUZZ_CHECK(!c->pmin || !c->pmax || c->pmin <= c->pmax, "pmin %u > pmax %u", c->pmin,
		   c->pmax);
	if (is_template) {
		FUZZ_CHECK(c->bs_key_len == 0 && !c->bs_identity[0], "a template with a device's key");
		FUZZ_CHECK(c->master_key_len == 0 ||
				   (c->master_key_len >= 16 && c->master_key_len <= BS_KEY_MAX),
			   "master_key_len %zu", c->master_key_len);
		FUZZ_CHECK(c->master_key_len || c->allow_plain, "a template no device can use");
	} else {
		FUZZ_CHECK(c->master_key_len == 0, "a device with a master key");
		FUZZ_CHECK(c->bs_key_len == 0 || (c->bs_key_len >= 8 && c->bs_key_len <= BS_KEY_MAX),
			   "bs_key_len %zu", c->bs_key_len);
		FUZZ_CHECK(c->bs_key_len || c->allow_plain, "a device that cannot bootstrap");
	}
}

static void check_same(const struct bs_config *a, const struct bs_config *b)
{
	FUZZ_CHECK(a->allow_plain == b->allow_plain, "allow_plain");
	FUZZ_CHECK(strcmp(a->bs_identity, b->bs_identity) == 0, "bs_identity: %s / %s",
		   a->bs_identity, b->bs_identity);
	FUZZ_CHECK(a->bs_key_len == b->bs_key_len &&
			   memcmp(a->bs_key, b->bs_key, a->bs_key_len) == 0,
		   "bs_key");
	FUZZ_CHECK(a->master_key_len == b->master_key_len &&
			   memcmp(a->master_key, b->master_key, a->master_key_len) == 0,
		   "master_key");
	FUZZ_CHECK(strcmp(a->server_uri, b->server_uri) == 0, "server_uri: %s / %s",
		   a->server_uri, b->server_uri);
	FUZZ_CHECK(a->security == b->security, "security");
	FUZZ_CHECK(a->short_server_id == b->short_server_id, "short_server_id");
	FUZZ_CHECK(a->lifetime == b->lifetime, "lifetime");
	FUZZ_CHECK(strcmp(a->binding, b->binding) == 0, "binding");
	FUZZ_CHECK(a->pmin == b->pmin && a->pmax == b->pmax, "periods");
	FUZZ_CHECK(a->discover == b->discover, "discover");
}

/* The stored text, as api_bootstrap.c writes it. */
static char *stored(const struct bs_config *c, bool is_template)
{
	json_t *o = bs_config_to_json(c, is_template, false);
	FUZZ_CHECK(o != NULL, "an accepted configuration is not written");
	char *text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	FUZZ_CHECK(text != NULL && strlen(text) <= STORE_BS_CONFIG_MAX, "stored text too big");
	return text;
}

static int read_input(const uint8_t *data, size_t size, bool is_template, bool as_text,
		      struct bs_config *out)
{
	if (as_text) {
		char *text = malloc(size + 1);
		if (!text)
			return -ENOMEM;
		memcpy(text, data, size);
		text[size] = '\0';
		int rc = bs_config_parse(text, is_template, out);
		free(text);
		return rc;
	}
	json_t *obj = json_loadb((const char *)data, size, JSON_ALLOW_NUL | JSON_DECODE_ANY, NULL);
	if (!obj)
		return -EINVAL;
	char why[256];
	memset(why, 0x55, sizeof(why));
	int rc = bs_config_from_json(obj, is_template, out, why, sizeof(why));
	json_decref(obj);
	if (rc != 0) {
		FUZZ_CHECK(memchr(why, '\0', sizeof(why)) != NULL, "why unterminated");
		FUZZ_CHECK(why[0] != '\0', "refused without a reason");
	}
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > MAX_INPUT)
		return 0;
	bool is_template = data[0] & 1, as_text = data[0] & 2;
	struct bs_config first;
	int rc = read_input(data + 1, size - 1, is_template, as_text, &first);
	if (rc == -ENOMEM)
		return 0;
	FUZZ_CHECK(rc == 0 || rc == -EINVAL, "read: %d", rc);
	if (rc != 0)
		return 0;
	check_limits(&first, is_template);

	char *written = stored(&first, is_template);
	struct bs_config again;
	FUZZ_CHECK(bs_config_parse(written, is_template, &again) == 0,
		   "the stored text is refused: %s", written);
	check_same(&first, &again);
	char *rewritten = stored(&again, is_template);
	FUZZ_CHECK(strcmp(written, rewritten) == 0, "written twice: %s / %s", written, rewritten);
	free(written);
	free(rewritten);

	json_t *api = bs_config_to_json(&first, is_template, true);
	FUZZ_CHECK(api != NULL, "the API's form is not written");
	FUZZ_CHECK(!json_object_get(api, "bs_key") && !json_object_get(api, "master_key"),
		   "a key in the API's form");
	json_decref(api);
	if (is_template) {
		uint8_t key[BS_DERIVED_KEY_LEN];
		bs_config_derive_key(&first, "node-1", key);
	}
	return 0;
}
