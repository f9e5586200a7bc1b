/*
 * iot_platform: what turns the LwM2M server into a device-access platform
 * (docs/architecture.md, iot/): products' models and codecs, uplink into the device
 * shadow, commands.
 *
 * Uplink: when a device of a product with a codec registers, the platform observes
 * /19/0/0 (Accept: opaque). Every notification's bytes go through the codec; a deviceReq's
 * services and properties are checked against the product model, merged into the shadow
 * (reported, with a version and the event time) and published as a "property" event; a
 * deviceRsp settles the command with the same mid. Whatever goes wrong (no codec, a script
 * that throws or loops, properties the model refuses) is a "codec_error" event and a
 * counter, and changes nothing.
 *
 * Commands (IoTDA async-commands): checked against the model, stored PENDING, then sent
 * one at a time per device, in order — at once for send_strategy "immediately" (FAILED
 * when the device is not reachable now), when the device next registers, updates or
 * reports for "delay". Sending is codec encode → CON PUT /19/1/0 (opaque) → SENT; the
 * device's 2.04 → DELIVERED (anything else FAILED, no answer TIMEOUT); its deviceRsp with
 * the command's mid → SUCCESSFUL (errcode 0) or FAILED. A PENDING command past its
 * expire_time is EXPIRED; a DELIVERED one unanswered for IOT_COMMAND_ANSWER_MS, TIMEOUT.
 * Every change is written to the store before it is published, and at start a command
 * left SENT (its ACK unknown) becomes TIMEOUT rather than go out twice.
 *
 * Codecs (iot_codec.c): a JavaScript codec runs on the codec threads (codec_worker.c), not
 * on the loop: payloads to decode and commands to encode are handed over as jobs, per
 * product in order, and applied on the loop when they come back. A codec that keeps running
 * out of time is suspended (a "codec_suspended" event) until it is uploaded again.
 * Declarative codecs, pure C and bounded, run on the loop.
 *
 * Shadow (iot_shadow.c): reports merge into `reported`; applications set `desired`, which
 * goes to the device as a "$properties" command — through the codec, or as LwM2M Writes of
 * mapped resources — and leaves `desired` once the device reports the same value.
 */
#ifndef LWM2MD_IOT_PLATFORM_H
#define LWM2MD_IOT_PLATFORM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <uv.h>

#include "iot/codec_worker.h"
#include "lwm2m/lwm2m_observe.h"
#include "lwm2m/lwm2m_requests.h"
#include "store/store.h"
#include "store/store_platform.h"

#define IOT_COMMAND_ANSWER_MS (300 * 1000)
#define IOT_DEFAULT_MAX_PENDING 20
#define IOT_EXPIRE_DEFAULT_S 86400
#define IOT_EXPIRE_MAX_S 172800

struct iot_platform;
struct push;

struct iot_platform_deps {
	struct store *store;
	struct lwm2m_requests *requests;
	struct lwm2m_observations *observations;
	/* Publishes an event (SSE) for a device: event name and its JSON text. */
	void (*publish)(void *ctx, const char *project_id, const char *device_id,
			const char *event, const char *json);
	void *ctx;
	/* Whether anyone subscribes to the event stream now; NULL: assume so. Nobody listening
	 * saves each event's JSON text (a push still gets its own). */
	bool (*listening)(void *ctx);
	int64_t (*now_ms)(void);
	struct push *push;      /* forwarding to applications; may be NULL */
	unsigned max_pending;   /* open commands per device; 0 = IOT_DEFAULT_MAX_PENDING */
	uv_loop_t *loop;        /* the codec threads hand their jobs back on it */
	struct codec_worker_config codec; /* threads, queues, budget, limits (0: defaults) */
	/* Per-project counters of reports and commands (project_stats.h); may be NULL. */
	struct project_stats_table *stats;
};

struct iot_platform_stats {
	uint64_t uplinks;          /* payloads decoded */
	uint64_t properties;       /* service reports stored in shadows */
	uint64_t codec_errors;     /* payloads or results refused */
	uint64_t unmatched_answers; /* deviceRsp whose mid no command in flight has */
	uint64_t commands_created;
	uint64_t commands_sent;
	uint64_t commands_succeeded;
	uint64_t commands_failed;  /* FAILED, TIMEOUT or EXPIRED */
	uint64_t reports_queue_full; /* payloads not decoded: the codec's queue was full */
	uint64_t reports_suspended;  /* payloads not decoded: the codec was suspended */
	uint64_t reports_cancelled;  /* payloads not decoded: stopping, or product gone */
	uint64_t device_cache_hits;  /* device lookups answered by the cache ... */
	uint64_t device_cache_misses; /* ... and read from the store */
};

int iot_platform_create(struct iot_platform **out, const struct iot_platform_deps *deps);
/* Stops the codec threads first: reports they hold are decoded and applied for up to
 * deps->codec.drain_ms, the rest dropped (counted and logged); commands being encoded stay
 * PENDING. Then cancels commands in flight (they stay SENT in the store and become TIMEOUT
 * at the next start). Accepts NULL. */
void iot_platform_destroy(struct iot_platform *p);

/* Rebuilds from the store at start (SENT → TIMEOUT). Returns 0 or a negative errno. */
int iot_platform_restore(struct iot_platform *p);

/* node_id registered (registered true: observe its uplink and mapped resources) or updated
 * (send its next queued command, if it may have one). */
void iot_platform_device_active(struct iot_platform *p, const char *node_id, bool registered);

/* Whether node_id may have queued commands: the daemon hands over Updates only then, so
 * an Update of a device without commands costs one hash lookup. */
bool iot_platform_has_waiting(struct iot_platform *p, const char *node_id);

/* A notification of observation o (daemon's handler): uplink when o is /19/0/0 or /19/0. */
void iot_platform_notification(struct iot_platform *p, const struct lwm2m_observation *o,
			       int format, const uint8_t *payload, size_t len);

/* node_id's device was deleted, its credentials changed or its registration ended: the
 * platform forgets what it cached of it (the next report reads the store). */
void iot_platform_device_forget(struct iot_platform *p, const char *node_id);

/* The loop turn's transaction was committed (rc 0) or failed: on failure, what the
 * platform cached of shadows written in it goes. */
void iot_platform_committed(struct iot_platform *p, int rc);

/* A product's model or codec changed (or it was deleted): forget the cached copies. */
void iot_platform_product_changed(struct iot_platform *p, const char *project_id,
				  const char *product_id);

/* Creates a command from an API body for dev: 0 with *out filled (the caller clears it),
 * or -EINVAL / -ENOSPC (too many open) / -ENOENT (no model or codec) with err set, or
 * -EIO. */
int iot_platform_command_create(struct iot_platform *p, const struct store_device *dev,
				const json_t *body, struct store_command *out, char *err,
				size_t errlen);

/* Sets desired shadow properties from an API body {"shadow":[{"service_id","desired":
 * {name: value | null},"version"?}]} and queues their delivery (see iot_shadow.c). 0, or
 * -EINVAL (a refused body; err says why), -ESTALE (version is not the current one),
 * -ENOSPC (no room for another open command), or a store error. */
int iot_platform_shadow_put(struct iot_platform *p, const struct store_device *dev,
			    const json_t *body, char *err, size_t errlen);

/* A new device's desired properties from its model's default_value (writable properties
 * only), queued for delivery like a PUT's. 0 or a negative errno. */
int iot_platform_shadow_seed(struct iot_platform *p, const struct store_device *dev);

/* The command as the API shows it. */
json_t *iot_platform_command_json(const struct store_command *c);

/* The API's codec calls. reply gets rc 0 and a new result (or NULL), or a negative errno
 * and err; result and err are only valid during the call. */
typedef void (*iot_codec_reply_fn)(void *ctx, int rc, json_t *result, const char *err);
struct iot_codec_call;

/*
 * Runs a codec of kind ("js" or "declarative") and source, for the product, on sample
 * input: payload bytes to decode ({"decoded":…}), a cloudReq to encode ({"payload_hex":…}),
 * or neither, to check that it compiles (result NULL). A declarative codec runs at once:
 * reply is called before this returns and *call is NULL. A JavaScript one runs on a codec
 * thread, in the product's queue: *call is the call in progress and reply comes later, on
 * the loop, unless iot_platform_codec_abandon was called first. 0, or -ENOBUFS (the
 * product's queue is full), -ESHUTDOWN, -ENOMEM: reply is not called.
 */
int iot_platform_codec_run(struct iot_platform *p, const char *project_id,
			   const char *product_id, const char *kind, const char *source,
			   const uint8_t *payload, size_t len, const json_t *cloud_req,
			   iot_codec_reply_fn reply, void *ctx, struct iot_codec_call **call);
/* The caller of a call in progress is gone: reply will not be called. Accepts NULL. */
void iot_platform_codec_abandon(struct iot_codec_call *call);
/* The product's codec state: {"status":"ACTIVE"} or {"status":"SUSPENDED","reason":…,
 * "since":"yyyyMMddTHHmmssZ"}; a new object, NULL when out of memory. */
json_t *iot_platform_codec_status(struct iot_platform *p, const char *project_id,
				  const char *product_id);
/* Lifts the product's codec suspension (an upload of the codec does). */
void iot_platform_codec_resume(struct iot_platform *p, const char *project_id,
			       const char *product_id);
/* The codec threads' counters. */
void iot_platform_codec_stats(struct iot_platform *p, struct codec_worker_stats *out);

/* Expiry and answer timeouts; call about once a second. */
void iot_platform_tick(struct iot_platform *p);

const struct iot_platform_stats *iot_platform_stats(const struct iot_platform *p);

/* The notify_data.header of a pushed event about dev. */
json_t *iot_push_header(const struct store_device *dev);

#endif
