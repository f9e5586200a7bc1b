/*
 * bs_config: bootstrap configurations read from JSON, checked, and written back
 * (bs_config.h; every field and limit is in docs/bootstrap.md "Configurations").
 *
 * One reader serves the API and the store: what the store keeps was written by
 * bs_config_to_json from a configuration this reader accepted, so reading it again checks
 * nothing new; a row edited by hand into nonsense is refused rather than half-used.
 * Nothing here depends on the API's helpers (the API depends on us); messages name the
 * field the same way ("lifetime must be ...").
 */
#include "bootstrap/bs_config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <mbedtls/md.h>
#include <mbedtls/platform_util.h>

#include "store/store_bootstrap.h"

/* Limits of the fields (docs/bootstrap.md). */
#define BS_KEY_HEX_MIN 16     /* bs_key: 8..32 bytes */
#define MASTER_KEY_HEX_MIN 32 /* master_key: 16..32 bytes */
#define LIFETIME_MIN 60
#define LIFETIME_MAX 31536000 /* a year */
#define PERIOD_MAX 86400      /* pmin, pmax */
#define SSID_MAX 65534        /* 65535 is reserved (Core §E.2) */
#define DEFAULT_LIFETIME 86400
/* An unknown field's name as quoted back in a message. */
#define NAME_QUOTED_MAX 64

void bs_config_defaults(struct bs_config *c)
{
	memset(c, 0, sizeof(*c));
	c->security = BS_SECURITY_PSK;
	c->short_server_id = 1;
	c->lifetime = DEFAULT_LIFETIME;
	strcpy(c->binding, "U");
	c->discover = true;
}

static int fail(char *why, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *why, size_t cap, const char *fmt, ...)
{
	if (why && cap) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(why, cap, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static int hex_digit(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* A key of min_hex..2*BS_KEY_MAX hex digits (an even count) into out: its length in
 * bytes, or -EINVAL. */
static int read_key(const json_t *v, const char *name, size_t min_hex, uint8_t out[BS_KEY_MAX],
		    char *why, size_t cap)
{
	const char *s = json_is_string(v) ? json_string_value(v) : NULL;
	size_t len = s ? json_string_length(v) : 0;
	bool ok = s && len >= min_hex && len <= 2 * BS_KEY_MAX && len % 2 == 0;
	for (size_t i = 0; ok && i < len; i++)
		ok = hex_digit(s[i]) >= 0;
	if (!ok)
		return fail(why, cap, "%s must be %zu-%d hex digits (an even count)", name,
			    min_hex, 2 * BS_KEY_MAX);
	for (size_t i = 0; i < len / 2; i++)
		out[i] = (uint8_t)(hex_digit(s[2 * i]) << 4 | hex_digit(s[2 * i + 1]));
	return (int)(len / 2);
}

static int read_bool(const json_t *v, const char *name, bool *out, char *why, size_t cap)
{
	if (!json_is_boolean(v))
		return fail(why, cap, "%s must be true or false", name);
	*out = json_is_true(v);
	return 0;
}

static int read_uint(const json_t *v, const char *name, uint32_t min, uint32_t max,
		     uint32_t *out, char *why, size_t cap)
{
	json_int_t n = json_is_integer(v) ? json_integer_value(v) : -1;
	if (!json_is_integer(v) || n < (json_int_t)min || n > (json_int_t)max)
		return fail(why, cap, "%s must be an integer in %u-%u", name, min, max);
	*out = (uint32_t)n;
	return 0;
}

/* The node-id alphabet [A-Za-z0-9_-], 0..STORE_NODE_ID_MAX ("" is the node ID). */
static int read_identity(const json_t *v, char out[STORE_NODE_ID_MAX + 1], char *why,
			 size_t cap)
{
	const char *s = json_is_string(v) ? json_string_value(v) : NULL;
	size_t len = s ? json_string_length(v) : 0;
	bool ok = s && len <= STORE_NODE_ID_MAX;
	for (size_t i = 0; ok && i < len; i++) {
		char ch = s[i];
		ok = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		     (ch >= '0' && ch <= '9') || ch == '_' || ch == '-';
	}
	if (!ok)
		return fail(why, cap,
			    "bs_identity must be 0-%d of [A-Za-z0-9_-] (\"\": the node ID)",
			    STORE_NODE_ID_MAX);
	memcpy(out, s, len + 1);
	return 0;
}

static bool host_char(char ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
	       ch == '.' || ch == '-';
}

/* "coap://host:port" or "coaps://host:port": host a name or address of [A-Za-z0-9.-], or an
 * IPv6 address in brackets; port 1-65535; nothing after it. Returns the scheme's length
 * (4 or 5) or 0. */
static int uri_scheme(const char *s)
{
	int scheme = strncmp(s, "coaps://", 8) == 0 ? 5 : strncmp(s, "coap://", 7) == 0 ? 4 : 0;
	if (!scheme)
		return 0;
	const char *p = s + scheme + 3, *host = p;
	if (*p == '[') {
		for (p++; *p && *p != ']'; p++)
			if (hex_digit(*p) < 0 && *p != ':' && *p != '.')
				return 0;
		if (*p != ']' || p == host + 1)
			return 0;
		p++;
	} else {
		while (host_char(*p))
			p++;
		if (p == host)
			return 0;
	}
	if (*p++ != ':')
		return 0;
	unsigned port = 0;
	const char *digits = p;
	while (*p >= '0' && *p <= '9' && p - digits < 5)
		port = port * 10 + (unsigned)(*p++ - '0');
	if (p == digits || *p || port == 0 || port > 65535)
		return 0;
	return scheme;
}

static int read_uri(const json_t *v, char out[BS_URI_MAX + 1], char *why, size_t cap)
{
	const char *s = json_is_string(v) ? json_string_value(v) : NULL;
	size_t len = s ? json_string_length(v) : 0;
	if (!s || len > BS_URI_MAX || strlen(s) != len || (len > 0 && !uri_scheme(s)))
		return fail(why, cap,
			    "server_uri must be \"\" (this lwm2md) or coap://host:port or "
			    "coaps://host:port, at most %d bytes",
			    BS_URI_MAX);
	memcpy(out, s, len + 1);
	return 0;
}

/* One member of the object; is_template decides which of the credential fields apply. */
static int read_field(const char *key, const json_t *v, bool is_template, struct bs_config *c,
		      char *why, size_t cap)
{
	int n;
	if (strcmp(key, "allow_plain") == 0)
		return read_bool(v, key, &c->allow_plain, why, cap);
	if (strcmp(key, "discover") == 0)
		return read_bool(v, key, &c->discover, why, cap);
	if (!is_template && strcmp(key, "bs_identity") == 0)
		return read_identity(v, c->bs_identity, why, cap);
	if (!is_template && strcmp(key, "bs_key") == 0) {
		if ((n = read_key(v, key, BS_KEY_HEX_MIN, c->bs_key, why, cap)) < 0)
			return n;
		c->bs_key_len = (size_t)n;
		return 0;
	}
	if (is_template && strcmp(key, "master_key") == 0) {
		if ((n = read_key(v, key, MASTER_KEY_HEX_MIN, c->master_key, why, cap)) < 0)
			return n;
		c->master_key_len = (size_t)n;
		return 0;
	}
	if (strcmp(key, "server_uri") == 0)
		return read_uri(v, c->server_uri, why, cap);
	if (strcmp(key, "security") == 0) {
		const char *s = json_is_string(v) ? json_string_value(v) : "";
		if (strcmp(s, "psk") == 0)
			c->security = BS_SECURITY_PSK;
		else if (strcmp(s, "nosec") == 0)
			c->security = BS_SECURITY_NOSEC;
		else
			return fail(why, cap, "security must be \"psk\" or \"nosec\"");
		return 0;
	}
	if (strcmp(key, "short_server_id") == 0) {
		uint32_t id = 0;
		if (read_uint(v, key, 1, SSID_MAX, &id, why, cap) != 0)
			return -EINVAL;
		c->short_server_id = (uint16_t)id;
		return 0;
	}
	if (strcmp(key, "lifetime") == 0)
		return read_uint(v, key, LIFETIME_MIN, LIFETIME_MAX, &c->lifetime, why, cap);
	if (strcmp(key, "pmin") == 0)
		return read_uint(v, key, 0, PERIOD_MAX, &c->pmin, why, cap);
	if (strcmp(key, "pmax") == 0)
		return read_uint(v, key, 0, PERIOD_MAX, &c->pmax, why, cap);
	if (strcmp(key, "binding") == 0) {
		const char *s = json_is_string(v) ? json_string_value(v) : "";
		if (strcmp(s, "U") != 0 && strcmp(s, "UQ") != 0)
			return fail(why, cap, "binding must be \"U\" or \"UQ\"");
		strcpy(c->binding, s);
		return 0;
	}
	if (strcmp(key, "bs_identity") == 0 || strcmp(key, "bs_key") == 0)
		return fail(why, cap, "%s is a device's field, not a template's (whose devices' "
				      "identity is their node ID)", key);
	if (strcmp(key, "master_key") == 0)
		return fail(why, cap, "master_key is a template's field, not a device's");
	return fail(why, cap, "unknown field \"%.*s\"", NAME_QUOTED_MAX, key);
}

/* What holds between fields once all are read. */
static int check_whole(const struct bs_config *c, bool is_template, char *why, size_t cap)
{
	if (c->pmin && c->pmax && c->pmin > c->pmax)
		return fail(why, cap, "pmin must not exceed pmax");
	/* A URI given must match the security mode written with it; "" is this lwm2md's
	 * listener of the right kind. */
	if (c->server_uri[0]) {
		int scheme = uri_scheme(c->server_uri);
		if (c->security == BS_SECURITY_PSK && scheme != 5)
			return fail(why, cap, "security \"psk\" needs a coaps:// server_uri");
		if (c->security == BS_SECURITY_NOSEC && scheme != 4)
			return fail(why, cap, "security \"nosec\" needs a coap:// server_uri");
	}
	if (!is_template && !c->bs_key_len && !c->allow_plain)
		return fail(why, cap, "the device could not bootstrap: give bs_key or allow_plain");
	if (is_template && !c->master_key_len && !c->allow_plain)
		return fail(why, cap,
			    "the product's devices could not bootstrap: give master_key or "
			    "allow_plain");
	return 0;
}

int bs_config_from_json(const json_t *obj, bool is_template, struct bs_config *out,
			char *why, size_t cap)
{
	struct bs_config c;
	bs_config_defaults(&c);
	if (!json_is_object(obj))
		return fail(why, cap, "a bootstrap configuration must be a JSON object");
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)obj, key, v)
	{
		/* null is absent, as for the API's other bodies: the default applies. */
		if (json_is_null(v))
			continue;
		if (read_field(key, v, is_template, &c, why, cap) != 0)
			return -EINVAL;
	}
	if (check_whole(&c, is_template, why, cap) != 0)
		return -EINVAL;
	*out = c;
	return 0;
}

int bs_config_parse(const char *text, bool is_template, struct bs_config *out)
{
	if (!text || strlen(text) > STORE_BS_CONFIG_MAX)
		return -EINVAL;
	json_t *obj = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
	if (!obj)
		return -EINVAL;
	int rc = bs_config_from_json(obj, is_template, out, NULL, 0);
	json_decref(obj);
	return rc;
}

static json_t *hex_json(const uint8_t *b, size_t len)
{
	char hex[2 * BS_KEY_MAX + 1];
	static const char digits[] = "0123456789abcdef";
	if (len > BS_KEY_MAX)
		len = BS_KEY_MAX;
	for (size_t i = 0; i < len; i++) {
		hex[2 * i] = digits[b[i] >> 4];
		hex[2 * i + 1] = digits[b[i] & 15];
	}
	hex[2 * len] = '\0';
	return json_string(hex);
}

json_t *bs_config_to_json(const struct bs_config *c, bool is_template, bool for_api)
{
	json_t *o = json_object();
	if (!o)
		return NULL;
	int rc = 0;
	rc |= json_object_set_new(o, "allow_plain", json_boolean(c->allow_plain));
	if (!is_template) {
		rc |= json_object_set_new(o, "bs_identity", json_string(c->bs_identity));
		/* Keys are secrets: the API says whether there is one, only the store keeps
		 * it. */
		if (for_api)
			rc |= json_object_set_new(o, "has_bs_key", json_boolean(c->bs_key_len > 0));
		else if (c->bs_key_len)
			rc |= json_object_set_new(o, "bs_key", hex_json(c->bs_key, c->bs_key_len));
	} else if (for_api) {
		rc |= json_object_set_new(o, "has_master_key", json_boolean(c->master_key_len > 0));
	} else if (c->master_key_len) {
		rc |= json_object_set_new(o, "master_key",
					  hex_json(c->master_key, c->master_key_len));
	}
	rc |= json_object_set_new(o, "server_uri", json_string(c->server_uri));
	rc |= json_object_set_new(
		o, "security", json_string(c->security == BS_SECURITY_NOSEC ? "nosec" : "psk"));
	rc |= json_object_set_new(o, "short_server_id", json_integer(c->short_server_id));
	rc |= json_object_set_new(o, "lifetime", json_integer(c->lifetime));
	rc |= json_object_set_new(o, "binding", json_string(c->binding));
	rc |= json_object_set_new(o, "pmin", json_integer(c->pmin));
	rc |= json_object_set_new(o, "pmax", json_integer(c->pmax));
	rc |= json_object_set_new(o, "discover", json_boolean(c->discover));
	if (rc != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

void bs_config_derive_key(const struct bs_config *tmpl, const char *identity,
			  uint8_t key[BS_DERIVED_KEY_LEN])
{
	uint8_t mac[32];
	const mbedtls_md_info_t *md = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
	if (!md || mbedtls_md_hmac(md, tmpl->master_key, tmpl->master_key_len,
				   (const unsigned char *)identity, strlen(identity), mac) != 0) {
		/* Cannot happen: SHA-256 is always in mbedTLS, and HMAC only fails on a bad
		 * md. */
		memset(mac, 0, sizeof(mac));
	}
	memcpy(key, mac, BS_DERIVED_KEY_LEN);
	mbedtls_platform_zeroize(mac, sizeof(mac));
}
