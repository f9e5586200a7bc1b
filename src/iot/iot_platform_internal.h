/*
 * The platform layer's insides, shared by its files and by nothing else:
 *   iot_platform.c  products, uplink, the command queue (send, dispatch, settle)
 *   iot_codec.c     codecs: decode and encode on the codec threads (codec_worker.c) or,
 *                   declarative, on the loop; the API's codec test and upload check
 *   iot_shadow.c    the device shadow: reports into `reported`, `desired` and its delivery
 *   iot_mapped.c    products of standard objects: resource paths ↔ service properties
 *   iot_platform_cache.c  the devices (and their shadows) that spoke lately, bounded
 *   iot_platform_events.c events to subscribers and push, unless nobody wants them
 */
#ifndef LWM2MD_IOT_PLATFORM_INTERNAL_H
#define LWM2MD_IOT_PLATFORM_INTERNAL_H

#include <stdbool.h>

#include "iot/codec.h"
#include "iot/codec_worker.h"
#include "iot/iot_platform.h"
#include "lwm2m/lwm2m_dm.h"
#include "util/hash.h"

/* The command that carries desired-shadow changes to a device (IoTDA: "device shadow
 * configuration is delivered as an asynchronous command"). Product models may not name a
 * command so: "$" is reserved. */
#define IOT_DESIRED_COMMAND "$properties"

/* A product's parsed model and compiled codec, kept until the product changes. Products
 * are few next to devices: a list is enough. */
struct product_entry {
	struct product_entry *next;
	char project_id[STORE_ID_MAX + 1];
	char product_id[STORE_ID_MAX + 1];
	json_t *caps;          /* service_capabilities */
	json_t *mappings;      /* resource_mappings: [{"path","service_id","property_name"}] */
	/* 0 when the product has none. A JavaScript codec lives on the codec threads (keyed by
	 * `key`); a declarative one is compiled here (NULL when it does not compile). */
	enum codec_kind codec_kind;
	struct codec *codec;
	char key[CODEC_WORKER_KEY_MAX + 1]; /* "project_id/product_id" */
};

/* The one command of a device in flight (SENT, waiting for the 2.04). */
struct in_flight {
	struct hmap_node node; /* by node_id */
	struct iot_platform *p;
	char node_id[STORE_NODE_ID_MAX + 1];
	char command_id[40];
	uint64_t handle;
	/* An LwM2M Write has no answer beyond its 2.04: that is SUCCESSFUL too. */
	bool settles_on_ack;
	/* Not sent yet: a codec thread encodes it (iot_codec.c). Holds the device's place. */
	bool encoding;
};

/* A device that may have PENDING commands: the only devices whose Updates and reports
 * cost a look at the store. */
struct waiting {
	struct hmap_node node; /* by node_id */
	char node_id[STORE_NODE_ID_MAX + 1];
};

/* Entries of the device cache (iot_platform_cache.c): ~250 bytes each with a small
 * shadow, so at most a few MB whatever the fleet's size. */
#define IOT_DEVICE_CACHE_MAX 16384

struct iot_cache;

struct iot_platform {
	struct iot_platform_deps deps;
	struct iot_cache *cache;        /* devices and shadows that spoke lately */
	struct product_entry *products;
	bool any_mappings;      /* some product maps resources: notifications may be reports */
	struct hmap in_flight;
	struct hmap waiting;
	struct observe_ctx *observing; /* Observes sent, not answered yet */
	struct iot_platform_stats stats;
	struct codec_worker *worker;    /* the codec threads */
	bool stopping;                  /* destroy: jobs come back, no command goes out */
	struct hmap busy;               /* products with decode jobs out (iot_codec.c) */
	int64_t last_drop_log_ms;       /* reports dropped are logged once a second */
	uint64_t drops_unlogged;
};

/* iot_platform.c */

/* Writes the message into err and returns rc: `return iot_fail(err, errlen, -EINVAL,
 * "service_id is required");`. */
int iot_fail(char *err, size_t errlen, int rc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* The product's cached model and codec (loaded on first use); NULL when out of memory. */
struct product_entry *iot_product(struct iot_platform *p, const char *project_id,
				  const char *product_id);
/* A decoded deviceReq ({"data":[{"serviceId","serviceData","eventTime"}]}): each
 * service's properties checked against the model, merged into the shadow, published. */
void iot_report(struct iot_platform *p, const struct store_device *dev,
		struct product_entry *e, const json_t *msg);
/* Sends node_id's oldest pending command, unless one is in flight. */
void iot_dispatch(struct iot_platform *p, const char *node_id);
/* Writes c's new status (and result, taken) and tells the subscribers. */
void iot_command_set(struct iot_platform *p, struct store_command *c, const char *status,
		     json_t *result);
/* Stores a new PENDING command (paras borrowed) and publishes it; does not send it.
 * 0 with *out filled (the caller clears it), -ENOMEM or a store error. */
int iot_command_add(struct iot_platform *p, const struct store_device *dev,
		    const char *service_id, const char *command_name, const json_t *paras,
		    const char *strategy, int64_t expire_s, struct store_command *out);
/* -ENOSPC with err filled when dev has no room for `more` open commands. */
int iot_command_room(struct iot_platform *p, const struct store_device *dev, int more,
		     char *err, size_t errlen);

/* Finds node_id's command in flight (or being encoded), or NULL. */
struct in_flight *iot_in_flight(struct iot_platform *p, const char *node_id);
/* Sends c, encoded into dm, as CON PUT /19/1/0 (or the mapped Write) and makes it SENT;
 * on failure FAILED, or -EAGAIN (left PENDING) when the device is not reachable now and
 * immediately is false. 0 or a negative errno. */
int iot_transmit(struct iot_platform *p, struct store_command *c,
		 const struct lwm2m_dm_request *dm, bool settles_on_ack, bool immediately);

/* iot_platform_events.c */

/* Whether an event of the project reaches anyone: a subscriber of the event stream, or
 * (property and command events) a forwarding rule. Callers skip building one nobody
 * wants. */
bool iot_event_wanted(struct iot_platform *p, const char *project_id, const char *event);
/* Publishes event about dev with body (taken; NULL is nothing) to subscribers and push. */
void iot_publish(struct iot_platform *p, const struct store_device *dev, const char *event,
		 json_t *body);
/* Counts, logs and publishes a codec_error event. */
void iot_codec_error(struct iot_platform *p, const struct store_device *dev,
		     const char *stage, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* iot_codec.c */

static inline bool iot_has_codec(const struct product_entry *e)
{
	return e && e->codec_kind != 0;
}
/* Starts the codec threads (deps->codec); 0 or a negative errno. */
int iot_codec_start(struct iot_platform *p);
/* Stops them: reports queued are decoded and applied for up to deps->codec.drain_ms, the
 * rest dropped and counted; encodes in progress leave their command PENDING. */
void iot_codec_stop(struct iot_platform *p);
/* The product's codec as the store has it (kind "" for none), loaded into e: compiled
 * here (declarative) or handed to the codec threads (js). */
void iot_codec_load(struct iot_platform *p, struct product_entry *e, const char *kind,
		    const char *source);
/* The product is deleted: its codec threads' state goes too. */
void iot_codec_forget(struct iot_platform *p, const char *project_id, const char *product_id);
/* Decodes a payload of dev (uplink) and applies it. Returns true when it was queued for a
 * codec thread (it is applied later, and the device's next command is dispatched then). */
bool iot_uplink(struct iot_platform *p, const struct store_device *dev,
		struct product_entry *e, const uint8_t *bytes, size_t len);
/* Encodes c with e's codec and transmits it; for a JavaScript codec the encoding is a job
 * and -EINPROGRESS is returned (the device's in-flight entry holds its place meanwhile).
 * As iot_transmit otherwise; a codec failure makes c FAILED. */
int iot_encode_and_send(struct iot_platform *p, struct store_command *c,
			const struct store_device *dev, struct product_entry *e,
			bool immediately);
/* An `immediately` command c created while the device's command ahead is being encoded
 * (e's codec is JavaScript): encoded behind it without holding the device's place; when it
 * comes back it goes at once if nothing is in flight then (FAILED if the device is not
 * reachable), else it stays PENDING for the queue. */
void iot_encode_behind(struct iot_platform *p, struct store_command *c,
		       const struct store_device *dev, struct product_entry *e);

/* iot_shadow.c */

/* Merges one service's reported properties into the device's shadow, and takes out of
 * `desired` what the device now reports. 0 or a store error. */
int iot_shadow_report(struct iot_platform *p, const struct store_device *dev,
		      const char *service_id, const json_t *data, int64_t event_ms);

/* iot_platform_cache.c */

/* A cache of at most max entries (0: IOT_DEVICE_CACHE_MAX). 0 or -ENOMEM. */
int iot_cache_create(struct iot_cache **out, size_t max);
void iot_cache_destroy(struct iot_cache *c);
/* node_id's device (only its ids filled: project, device, node, product) and its product's
 * entry (*e, NULL when out of memory): from the cache, else read from the store and
 * remembered. 0, -ENOENT or a store error. */
int iot_device_by_node(struct iot_platform *p, const char *node_id, struct store_device *dev,
		       struct product_entry **e);
/* A device by its ids: from the cache when node_id (may be NULL) is there with these ids
 * (only the ids filled then), else the store's whole row. */
int iot_device_by_id(struct iot_platform *p, const char *project_id, const char *device_id,
		     const char *node_id, struct store_device *dev);
/* node_id's entry goes (deleted, re-keyed, deregistered). */
void iot_cache_forget(struct iot_platform *p, const char *node_id);
/* Every entry of product e goes (before e is freed). */
void iot_cache_forget_product(struct iot_platform *p, const struct product_entry *e);
/* The shadow of dev's service: the cached copy when dev is cached and has it, else the
 * store's. As store_shadow_get. */
int iot_cache_shadow_get(struct iot_platform *p, const struct store_device *dev,
			 const char *service_id, struct store_shadow *out);
/* sh was just written to the store: the cached device keeps a copy. */
void iot_cache_shadow_stored(struct iot_platform *p, const struct store_device *dev,
			     const struct store_shadow *sh);
/* dev's cached shadows go (an API call wrote one). */
void iot_cache_shadow_forget(struct iot_platform *p, const struct store_device *dev);
/* Every cached shadow goes (a loop turn's transaction failed: the store lost them). */
void iot_cache_clear_shadows(struct iot_platform *p);
size_t iot_cache_size(const struct iot_platform *p);

/* iot_mapped.c */

/* A mapping's path ("3303/0/5700" or "/3303/0/5700") as a path; -1 when malformed. */
int iot_mapping_path(const json_t *mapping, struct lwm2m_path *out);
/* The resource mapped to service_id's property, or NULL. */
const json_t *iot_mapping_of(const struct product_entry *e, const char *service_id,
			     const char *property);
/* A notification of a mapped resource: its value becomes the property. Returns true when
 * o's path is mapped. */
bool iot_mapped_report(struct iot_platform *p, const struct store_device *dev,
		       const struct lwm2m_observation *o, int format, const uint8_t *payload,
		       size_t len);
/* Builds the LwM2M Write that sets a $properties command's paras on their mapped
 * resources: one resource → PUT text/plain; several of one instance → Write-Update
 * (POST, TLV); across instances → Write-Composite (iPATCH /, SenML JSON). The payload is
 * written into buf. 0, or -EINVAL (-ENOMEM, -E2BIG: too many values) with err filled. */
int iot_mapped_write(const struct product_entry *e, const char *service_id,
		     const json_t *paras, struct lwm2m_dm_request *dm, uint8_t *buf, size_t cap,
		     char *err, size_t errlen);

#endif
