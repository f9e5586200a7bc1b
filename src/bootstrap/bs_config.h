/*
 * bs_config: a bootstrap configuration — how a device may bootstrap and what the
 * Bootstrap-Server writes to it (docs/bootstrap.md "Configurations"). The API reads it
 * from JSON and validates it; the store keeps the JSON text; the server reads it back.
 *
 * A device's own configuration carries its bootstrap credential (a PSK identity and key,
 * apart from its management secret). A product's template carries, instead, a master key
 * from which each device's bootstrap key is derived (bs_config_derive_key), so that a
 * product of 100 000 devices needs one template and no row per device; its devices'
 * bootstrap identity is their node ID.
 */
#ifndef LWM2MD_BS_CONFIG_H
#define LWM2MD_BS_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "store/store.h"

#define BS_URI_MAX 255
#define BS_KEY_MAX 32          /* PSK and master key bytes */
#define BS_DERIVED_KEY_LEN 16  /* a device key derived from a template's master key */

/* Security modes of /0/x/2 (Core §E.1). */
enum bs_security {
	BS_SECURITY_PSK = 0,
	BS_SECURITY_NOSEC = 3,
};

struct bs_config {
	/* How the device may bootstrap. */
	bool allow_plain;          /* over plain CoAP, without a credential ("false") */
	char bs_identity[STORE_NODE_ID_MAX + 1]; /* device: its bootstrap PSK identity; ""
						  * means its node ID */
	uint8_t bs_key[BS_KEY_MAX];              /* device: its bootstrap PSK key */
	size_t bs_key_len;                       /* 0: none (then only allow_plain) */
	uint8_t master_key[BS_KEY_MAX];          /* template: devices' keys derive from it */
	size_t master_key_len;
	/* What the server writes: the management server's Security (/0) and Server (/1)
	 * instances. */
	char server_uri[BS_URI_MAX + 1]; /* "" = this lwm2md: coaps://… for PSK, coap://…
					  * for NoSec (the addresses it was started with) */
	enum bs_security security;       /* PSK: identity = node ID, key = management secret */
	uint16_t short_server_id;        /* 1..65534, default 1 */
	uint32_t lifetime;               /* seconds, default 86400 */
	char binding[4];                 /* "U" (default) or "UQ" */
	uint32_t pmin, pmax;             /* default periods; 0: not written */
	bool discover;                   /* Bootstrap-Discover first (default true) */
};

/* The defaults above. */
void bs_config_defaults(struct bs_config *c);
/*
 * Reads a configuration from the API's JSON (docs/bootstrap.md): 0, or -EINVAL with why
 * (a text naming the field). is_template: a product's template (master_key allowed,
 * bs_identity and bs_key not), else a device's.
 */
int bs_config_from_json(const json_t *obj, bool is_template, struct bs_config *out,
			char *why, size_t cap);
/* The same from stored text. */
int bs_config_parse(const char *text, bool is_template, struct bs_config *out);
/* As stored (keys in hex), or as the API shows it (keys left out, "has_bs_key" and
 * "has_master_key" instead) when for_api. NULL on allocation failure. */
json_t *bs_config_to_json(const struct bs_config *c, bool is_template, bool for_api);
/* A device's bootstrap key from a template's master key: the first BS_DERIVED_KEY_LEN
 * bytes of HMAC-SHA256(master_key, identity). */
void bs_config_derive_key(const struct bs_config *tmpl, const char *identity,
			  uint8_t key[BS_DERIVED_KEY_LEN]);

#endif
