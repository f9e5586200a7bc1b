/*
 * store_platform: the platform layer's part of the registry — a product's model and
 * codec, device shadows, commands. Same conventions as store.h: 0 or a negative errno
 * (-ENOENT: no such row; -EIO: the database failed, logged). Strings a call returns in a
 * struct are malloc'd and freed by the matching _clear.
 */
#ifndef LWM2MD_STORE_PLATFORM_H
#define LWM2MD_STORE_PLATFORM_H

#include <stdbool.h>
#include <stdint.h>

#include "store/store.h"

/* A product's service_capabilities (JSON text, "[]" when none). */
int store_product_model_get(struct store *s, const char *project_id, const char *product_id,
			    char **caps_json);
int store_product_model_set(struct store *s, const char *project_id, const char *product_id,
			    const char *caps_json);
/* A product's resource mappings (JSON text, "[]" when none). */
int store_product_mappings_get(struct store *s, const char *project_id,
			       const char *product_id, char **json);
int store_product_mappings_set(struct store *s, const char *project_id,
			       const char *product_id, const char *json);
/* Whether any product maps resources (so notifications may be property reports). */
int store_product_any_mappings(struct store *s, bool *any);
/* A product's codec: kind "" (none), "declarative" or "js", and its source. */
int store_product_codec_get(struct store *s, const char *project_id, const char *product_id,
			    char kind[16], char **source);
int store_product_codec_set(struct store *s, const char *project_id, const char *product_id,
			    const char *kind, const char *source);

/* A product's codec examples (JSON text of an array, "[]" when none; the API checks
 * them): kept for whoever tests the codec, deleted with the product. */
int store_product_examples_get(struct store *s, const char *project_id,
			       const char *product_id, char **json);
int store_product_examples_set(struct store *s, const char *project_id,
			       const char *product_id, const char *json);

/* One service's shadow of one device: properties as JSON objects, with versions. */
struct store_shadow {
	char device_id[STORE_ID_MAX + 1];
	char service_id[65];
	char *reported;            /* JSON object text */
	int64_t reported_version;
	int64_t reported_time_ms;  /* event time of the latest report */
	char *desired;             /* JSON object text: what applications want set */
	int64_t desired_version;
	int64_t desired_time_ms;   /* when desired last changed */
};

void store_shadow_clear(struct store_shadow *sh);
int store_shadow_get(struct store *s, const char *device_id, const char *service_id,
		     struct store_shadow *out);
/* Inserts or replaces the row. */
int store_shadow_put(struct store *s, const struct store_shadow *sh);
/* Rewrites an existing row in place (cheaper than put's delete and insert); -ENOENT when
 * there is none. */
int store_shadow_update(struct store *s, const struct store_shadow *sh);
/* Every service's shadow of a device, in service_id order. */
int store_shadow_list(struct store *s, const char *device_id,
		      int (*cb)(const struct store_shadow *, void *), void *ctx);
int store_shadow_delete_device(struct store *s, const char *device_id);

/* A command to a device, and where it is (IoTDA's async-commands). */
struct store_command {
	int64_t seq;                   /* order of creation; set by insert */
	char command_id[40];
	char project_id[STORE_ID_MAX + 1];
	char device_id[STORE_ID_MAX + 1];
	char node_id[STORE_NODE_ID_MAX + 1];
	char service_id[65];
	char command_name[65];
	char *paras;                   /* JSON object text */
	char send_strategy[16];        /* "immediately" | "delay" */
	char status[16];               /* PENDING SENT DELIVERED SUCCESSFUL FAILED TIMEOUT EXPIRED */
	int mid;                       /* 1..65535 */
	int64_t created_ms, expire_ms, sent_ms, delivered_ms, response_ms;
	char *result;                  /* JSON text, "null" until answered */
};

void store_command_clear(struct store_command *c);
/* Inserts c (c->seq is set). -EEXIST when command_id exists. */
int store_command_insert(struct store *s, struct store_command *c);
/* The seq the next insert will get (so that what derives from it, the mid, goes in with
 * the row instead of an update after it). */
int store_command_next_seq(struct store *s, int64_t *seq);
/* Writes status, mid, the times and result of c->command_id. */
int store_command_update(struct store *s, const struct store_command *c);
int store_command_get(struct store *s, const char *command_id, struct store_command *out);
/* A device's commands, oldest first, paged; *total counts them all. */
int store_command_list(struct store *s, const char *device_id, int64_t offset, int64_t limit,
		       int (*cb)(const struct store_command *, void *), void *ctx,
		       int64_t *total);
/* How many of a device's commands are still open (PENDING, SENT or DELIVERED). */
int store_command_count_open(struct store *s, const char *device_id, int64_t *count);
/* The same by node_id, from an index that holds only what it counts (cost independent of
 * the device's history). A deleted device's open commands are closed with it, so the open
 * commands of a node_id are its current device's. */
int store_command_count_open_node(struct store *s, const char *node_id, int64_t *count);
/* Every open command of every device, oldest first (to rebuild queues at start). */
int store_command_load_open(struct store *s, int (*cb)(const struct store_command *, void *),
			    void *ctx);

/* The latest PENDING command of a device with that service and command name; -ENOENT
 * when none. (The platform folds desired-shadow changes into one such command.) */
int store_command_pending_named(struct store *s, const char *device_id,
				const char *service_id, const char *command_name,
				struct store_command *out);
/* Replaces the paras of command_id (a PENDING command's, before it is sent). */
int store_command_set_paras(struct store *s, const char *command_id, const char *paras);
/* The oldest PENDING command of a device (by node_id); -ENOENT when none. */
int store_command_next_pending(struct store *s, const char *node_id, struct store_command *out);
/* The latest SENT or DELIVERED command of a device with that mid; -ENOENT when none. */
int store_command_find_mid(struct store *s, const char *node_id, int mid,
			   struct store_command *out);
/* Commands whose time is up: PENDING with expire_ms <= now_ms, DELIVERED with
 * delivered_ms <= delivered_before_ms (no answer came); at most 256 per call. */
int store_command_due(struct store *s, int64_t now_ms, int64_t delivered_before_ms,
		      int (*cb)(const struct store_command *, void *), void *ctx);

/* A deleted device's open commands become FAILED ("the device was deleted"), so that a
 * new device with the same node_id never receives them. */
int store_command_close_device(struct store *s, const char *device_id, int64_t now_ms);

/* Rows store_devices_insert_many takes at once: the bulk create's limit (API). */
#define STORE_DEVICES_INSERT_MAX 1000
/*
 * Whether a new device's keys are taken (both are unique across projects): 0 when
 * neither, 1 when node_id is, 2 when device_id is (and node_id not); -EIO.
 */
int store_device_clash(struct store *s, const char *device_id, const char *node_id);
/*
 * Inserts n (1..STORE_DEVICES_INSERT_MAX) devices, 100 rows a statement, all or none (a
 * savepoint): 0, -EEXIST when a key is taken (checked first with store_device_clash, this
 * does not say which), -EINVAL, -ENOMEM or -EIO. Inside the loop turn's transaction each
 * statement has a statement journal that gets every page it touches: a statement per row
 * wrote each row's dozen index pages to it (spilled to a file past 64 KiB).
 */
int store_devices_insert_many(struct store *s, const struct store_device *const *d, size_t n);

#endif
