/*
 * store_bootstrap: the registry's bootstrap rows (docs/bootstrap.md): each device's own
 * bootstrap configuration with its bootstrap credential's identity, each product's
 * template, and each device's recent bootstraps.
 *
 * Configurations are JSON texts (bootstrap/bs_config.h owns their shape); the store only
 * keeps them. Conventions as in store.h: 0 or a negative errno; -ENOENT no such row;
 * -EEXIST a unique key taken (a bootstrap identity another device has); -EIO.
 */
#ifndef LWM2MD_STORE_BOOTSTRAP_H
#define LWM2MD_STORE_BOOTSTRAP_H

#include <stdint.h>

#include "store/store.h"

#define STORE_BS_CONFIG_MAX 8192   /* a configuration's JSON text */
#define STORE_BS_REASON_MAX 160
#define STORE_BS_HISTORY_KEPT 10   /* bootstraps kept per device, newest */

/* A device's own configuration. */
struct store_bs_device {
	char project_id[STORE_ID_MAX + 1];
	char device_id[STORE_ID_MAX + 1];
	char node_id[STORE_NODE_ID_MAX + 1];
	char bs_identity[STORE_NODE_ID_MAX + 1]; /* its bootstrap PSK identity */
	char config[STORE_BS_CONFIG_MAX + 1];    /* JSON text */
	int64_t update_time;                     /* Unix seconds */
};

/* Inserts or replaces the device's row. -EEXIST when bs_identity is another device's. */
int store_bs_device_put(struct store *s, const struct store_bs_device *d);
int store_bs_device_get(struct store *s, const char *project_id, const char *device_id,
			struct store_bs_device *out);
/* The device whose bootstrap identity this is (the DTLS handshake), or -ENOENT. */
int store_bs_device_by_identity(struct store *s, const char *bs_identity,
				struct store_bs_device *out);
/* The device's row by its node ID (a plain CoAP bootstrap names only its endpoint). */
int store_bs_device_by_node(struct store *s, const char *node_id, struct store_bs_device *out);
int store_bs_device_delete(struct store *s, const char *project_id, const char *device_id);

/* A product's template. */
struct store_bs_template {
	char project_id[STORE_ID_MAX + 1];
	char product_id[STORE_ID_MAX + 1];
	char config[STORE_BS_CONFIG_MAX + 1];
	int64_t update_time;
};

int store_bs_template_put(struct store *s, const struct store_bs_template *t);
int store_bs_template_get(struct store *s, const char *project_id, const char *product_id,
			  struct store_bs_template *out);
int store_bs_template_delete(struct store *s, const char *project_id, const char *product_id);

/* One bootstrap of a device, as it ended. */
struct store_bs_event {
	int64_t time_ms;
	char result[16];   /* "succeeded" | "failed" */
	char reason[STORE_BS_REASON_MAX + 1];
	char transport[8]; /* "coap" | "coaps" */
};

/* Adds one, keeping the STORE_BS_HISTORY_KEPT newest of the device. */
int store_bs_history_add(struct store *s, const char *project_id, const char *device_id,
			 const struct store_bs_event *e);
/* Newest first; fn returns non-zero to stop. */
int store_bs_history_list(struct store *s, const char *project_id, const char *device_id,
			  int (*fn)(const struct store_bs_event *e, void *ctx), void *ctx);

#endif
