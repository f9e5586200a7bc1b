/*
 * api_internal: what the API's files share — the server struct, one call's context, the
 * reply helpers and the route handlers.
 *
 * The split: api_server.c glues libmicrohttpd to the libuv loop; api_http.c turns an MHD
 * request into a struct api_call (body, route, auth) and the call's reply into an MHD
 * response; api_products.c and api_devices.c are the routes, which see only the call,
 * JSON and the store — never MHD.
 */
#ifndef LWM2MD_API_INTERNAL_H
#define LWM2MD_API_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <microhttpd.h>
#include <uv.h>

#include "api/api.h"
#include "api/api_json.h"
#include "store/store.h"
#include "util/addr.h"
#include "util/token.h"

struct lwm2m_path;

/* Hard maximum of a request body; a bigger one gets 413. */
#define API_BODY_MAX (64 * 1024)
/* Devices one bulk create (POST .../devices/batch) may carry; more is a 400. */
#define API_BATCH_DEVICES_MAX 1000
/* That route's body limit instead of API_BODY_MAX: API_BATCH_DEVICES_MAX devices with every
 * field at its longest (about 1.9 KB of JSON each, plain ASCII) fit. */
#define API_BATCH_BODY_MAX (2 * 1024 * 1024)
/* A header value we accept as X-Auth-Token; longer ones cannot be ours. */
#define API_TOKEN_MAX 512
/* Firmware packages a project holds at most (docs/firmware.md "Packages"). */
#define API_FW_PACKAGES_MAX 1000
/* A streamed upload (a firmware package) keeps its connection past request_timeout_s as
 * long as every request_timeout_s brings at least this many bytes (api_conn.c). */
#define API_UPLOAD_PROGRESS_BYTES (64 * 1024)
/* HTTP status codes counted for /metrics. */
#define API_STATUS_MAX 600

struct api_conn;

/* A token verified against the store, kept for API_TOKEN_CACHE_MS (api_token.c). */
#define API_TOKEN_CACHE_SLOTS 32
#define API_TOKEN_CACHE_MS 500
struct api_token_cached {
	char hash[TOKEN_HEX_LEN + 1]; /* "" for an empty slot */
	struct store_token t;
	uint64_t read_ms; /* the loop's time when it was read from the store */
};

struct api_server {
	uv_loop_t *loop;
	struct MHD_Daemon *mhd;
	uv_poll_t poll;   /* MHD's epoll fd */
	uv_timer_t timer; /* MHD's timeout, and at least once a second */
	uv_timer_t sweep; /* every second: request deadlines, stream heartbeats */
	int open_handles; /* closed handles free the struct when this reaches 0 */
	struct api_deps deps;
	struct api_limits limits; /* deps.limits with the defaults filled in */
	struct addr local;
	uint64_t responses[API_STATUS_MAX]; /* by status code */
	struct api_request *deferred;       /* calls waiting for a device, linked */
	struct api_request *held;           /* answers waiting for the store's commit */
	bool stopping;                      /* api_server_stop: nothing is held any more */
	struct api_subscriber *subscribers; /* event streams (api_events.c) */
	unsigned stream_count;
	uint64_t next_heartbeat_ms;
	uint64_t streams_refused_token, streams_refused_total;
	uint64_t events_truncated, events_too_big;
	/* Open connections, in the order they opened (api_conn.c). */
	struct api_conn *conns, *conns_tail;
	/* Tokens verified lately, by their hash's first bits (api_token.c). */
	struct api_token_cached token_cache[API_TOKEN_CACHE_SLOTS];
	unsigned conn_count;
	uint64_t closed_deadline, closed_per_ip, closed_reserve;
	uint64_t deferred_gone; /* calls waiting for a device whose client closed first */
	/* MHD's messages logged in the current window, and those left out (api_server.c). */
	uint64_t mhd_log_window_ms;
	unsigned mhd_log_count, mhd_log_suppressed;
};

/* Per-request state MHD keeps for us (its con_cls) between the handler's calls. A call
 * that waits for a device is "deferred": its connection is suspended, and the reply set
 * later with api_deferred_reply resumes it. */
struct api_request {
	char *body;
	size_t len;
	size_t cap;
	size_t max;  /* the body's limit: API_BODY_MAX, or the bulk create's */
	bool too_large;
	bool answered;
	/* A body streamed to its route as it comes, never gathered (a firmware upload):
	 * upload is the route's state (api_firmware.c) while the body is written; an error
	 * found first is kept in status and reply and answered once the body is read. */
	bool streamed;
	void *upload;
	/* Deferred calls. */
	struct api_server *api;
	struct MHD_Connection *conn;
	struct api_request *next_deferred, **prev_deferred; /* in api->deferred */
	bool deferred;
	bool reply_ready;
	bool held;          /* in api->held: answered, waiting for the turn's commit */
	bool committed;     /* released by api_server_committed: not held again */
	struct api_conn *cc; /* a deferred call's connection, watched for the client's close */
	struct api_request *next_held;
	unsigned status;
	json_t *reply;
	char *reply_text; /* or the reply already written as JSON text (owned), see api_call */
	size_t reply_text_len;
	uint64_t dm_handle; /* the device request it waits for, 0 when none */
	uint8_t dm_op;      /* enum lwm2m_op, for the reply */
	uint8_t dm_path_len;
	uint16_t dm_path[4];
	char dm_node[65];   /* the device's node_id */
	uint64_t dm_observation; /* Observe-cancel: the observation it ends */
	/* An Observe's Accept and an Observe-Composite's paths (owned; api_lwm2m.c frees
	 * them when the answer comes or the call is abandoned), kept for its cancellation. */
	int dm_format;
	struct lwm2m_path *dm_paths;
	uint8_t dm_path_count;
	void *codec_call;   /* a codec test or upload waiting for a codec thread, or NULL */
};

/* One request being served: what api_http.c hands a route, and the reply it fills. */
struct api_call {
	struct api_server *api;
	struct MHD_Connection *conn;
	const char *project_id; /* checked against the token; NULL on routes without auth */
	const char *id;         /* the path's product_id or device_id, or NULL */
	const char *body;       /* the request body, not NUL-terminated; NULL when empty */
	size_t body_len;
	const char *url;        /* the path, without the query */
	const char *method;
	struct api_request *req; /* for api_defer */
	char token_hash[TOKEN_HEX_LEN + 1]; /* of the X-Auth-Token; "" on routes without auth */
	char token_project[STORE_ID_MAX + 1]; /* the project the token belongs to */
	char token_id[STORE_TOKEN_ID_LEN + 1]; /* the token's id (not secret) */
	int64_t token_expire; /* the token's expiry (Unix seconds), 0 for never */

	unsigned status; /* 0 until a reply is set */
	json_t *reply;   /* owned; NULL for an empty body */
	/* Or a JSON reply already written as text (owned, malloc; api_jsonw.h): answered
	 * and held for the commit as reply would be. */
	char *reply_text;
	size_t reply_text_len;
	char *text;      /* owned (malloc); a non-JSON reply, e.g. /metrics */
	size_t text_len;
	const char *content_type; /* of text */
	struct MHD_Response *stream; /* a streaming response (events), queued as is */
	const struct api_asset *asset; /* a console file (api_console.c): 200, or 304 */
	bool asset_gzip;               /* ... sent gzipped (Content-Encoding: gzip) */
	const char *location;          /* a redirect's target (302) */
	const char *allow;             /* a 405's Allow, when the route table did not set it */
};

struct api_asset;
/* The console (api_console.c): serves `/`, `/console` and `/console/...` (true), or leaves
 * the path to the REST routes (false). */
bool api_console_route(struct api_call *c, const char *url, const char *method);
/* Headers of every answer (nosniff, no framing) and, for a console file, its caching and
 * Content-Security-Policy. */
void api_console_headers(struct MHD_Response *resp, const struct api_call *c);

/* Sets the reply: status and a JSON body (owned from now on; NULL for none, e.g. 204).
 * A NULL body with a status that needs one (allocation failure) becomes a 500. */
void api_reply(struct api_call *c, unsigned status, json_t *body);
/* Sets the reply: status and a JSON body already written as text (owned from now on:
 * api_jsonw_take's); NULL (out of memory) becomes a 500. */
void api_reply_text(struct api_call *c, unsigned status, char *json, size_t len);
/* Sets an error reply {"error_code":"IOTDA.000<status>","error_msg":msg}. */
void api_reply_error(struct api_call *c, unsigned status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* An error body {"error_code","error_msg":msg} (msg made valid UTF-8), for a route that
 * adds members of its own; NULL when out of memory. */
json_t *api_error_json(unsigned status, const char *msg);
/* Maps a store error: -ENOENT → 404 "<what> not found", -EEXIST and -EBUSY → 409 with
 * msg, anything else → 500. */
void api_reply_store_error(struct api_call *c, int rc, const char *what);
/* A query parameter's value, or NULL when absent. */
const char *api_query(const struct api_call *c, const char *name);
/* As api_query, but "" for a name given without '=' ("?st"), NULL only when absent. */
const char *api_query_flag(const struct api_call *c, const char *name);
/* A request header's value (name case-insensitive), or NULL when absent. */
const char *api_header(const struct api_call *c, const char *name);
/* Parses the body as a JSON object; on failure sets a 400 and returns NULL. */
json_t *api_body_object(struct api_call *c);

/*
 * The api_json getters, answering 400 themselves: 0 when the field was read, -ENOENT when
 * it is absent (and required is false), -EINVAL when the reply is set ("<field> is
 * required" or the getter's message).
 */
int api_field_string(struct api_call *c, const json_t *obj, const char *path, size_t min,
		     size_t max, enum api_str_rule rule, char *out, size_t cap, bool required);
int api_field_bool(struct api_call *c, const json_t *obj, const char *path, bool *out);
int api_field_int(struct api_call *c, const json_t *obj, const char *path, int64_t min,
		  int64_t max, int64_t *out);

/* json_string that never fails on what the store holds: bad UTF-8 becomes "". */
json_t *api_json_str(const char *s);

/* Defers the call: the route sets no reply now; api_deferred_reply answers later (once).
 * Returns the request to answer. */
struct api_request *api_defer(struct api_call *c);
/* The deferred call's reply (body owned from now on); resumes its connection. */
void api_deferred_reply(struct api_request *req, unsigned status, json_t *body);
/* The same as api_reply_error, for a deferred call. */
void api_deferred_error(struct api_request *req, unsigned status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Runs MHD on the next loop turn (a resumed connection has something to send). */
void api_server_kick(struct api_server *api);
/* api_server_stop: answers every deferred call 503 and resumes it. */
void api_http_abort_deferred(struct api_server *api);

/* Routes. Each sets the call's reply. */
void api_products_create(struct api_call *c);
void api_products_list(struct api_call *c);
void api_products_get(struct api_call *c);
void api_products_update(struct api_call *c);
void api_products_delete(struct api_call *c);

void api_devices_create(struct api_call *c);
void api_devices_list(struct api_call *c);
void api_devices_get(struct api_call *c);
void api_devices_update(struct api_call *c);
void api_devices_delete(struct api_call *c);
void api_devices_action(struct api_call *c);
/* Bulk create (api_devices_batch.c): POST /v5/iot/{p}/devices/{id} serves {id} "batch"
 * and is a 405 for any other; api_devices_batch_is_route tells api_http.c which requests
 * get the bigger body limit. */
void api_devices_item_post(struct api_call *c);
bool api_devices_batch_is_route(const char *url, const char *method);
/* A create's body read into d (project_id set), the 400 set on the call when a field is
 * wrong: 0 or -EINVAL (api_devices.c). */
int api_device_read_new(struct api_call *c, const json_t *body, struct store_device *d);
/* reply with "warnings" added when secret is shorter than a generated one (api_devices.c);
 * field names the secret's member. Returns reply. */
json_t *api_device_warn_short_secret(json_t *reply, const char *field, const char *secret);

/* /v5/iot/{project}/devices/{device}/lwm2m/{path}: DM operations (api_lwm2m.c). */
void api_lwm2m_get(struct api_call *c);
void api_lwm2m_put(struct api_call *c);
void api_lwm2m_post(struct api_call *c);
void api_lwm2m_delete(struct api_call *c);
void api_observations_list(struct api_call *c);
void api_lwm2m_composite(struct api_call *c);
void api_models_list(struct api_call *c);
void api_models_get(struct api_call *c);
void api_events_stream(struct api_call *c);
/* api_server_stop: ends every event stream. */
void api_events_close_all(struct api_server *api);
/* A token was revoked: ends its event streams now. */
void api_events_close_token(struct api_server *api, const char *token_hash);
/* Ends the streams whose token has expired by now_s, or that a lookup every few seconds
 * finds revoked (the sweep, every second). */
void api_events_expire(struct api_server *api, int64_t now_s);
void api_observations_cancel(struct api_call *c);
void api_codec_get(struct api_call *c);
void api_codec_put(struct api_call *c);
void api_codec_delete(struct api_call *c);
void api_codec_test(struct api_call *c);
/* GET /v5/token: the project the caller's token belongs to (api_token.c). */
void api_token_get(struct api_call *c);
/* GET, POST /v5/iot/{p}/tokens and DELETE /v5/iot/{p}/tokens/{id} (api_token.c). */
void api_tokens_list(struct api_call *c);
void api_tokens_create(struct api_call *c);
void api_tokens_delete(struct api_call *c);
/* The token whose SHA-256 (hex) is hash, from the tokens verified in the last
 * API_TOKEN_CACHE_MS or else the store; records its use (last_used, to the minute).
 * 0, -ENOENT for no such token, or a store error (api_token.c). */
int api_token_verify(struct api_server *api, const char *hash, struct store_token *t);
/* GET /v5/iot/{p}/statistics (api_stats.c). */
void api_statistics(struct api_call *c);
/* Wall-clock milliseconds. */
int64_t api_now_ms(void);
/* A product's codec examples (api_examples.c). */
void api_examples_get(struct api_call *c);
void api_examples_put(struct api_call *c);
void api_commands_create(struct api_call *c);
void api_commands_list(struct api_call *c);
void api_commands_get(struct api_call *c);
void api_shadow_get(struct api_call *c);
void api_shadow_put(struct api_call *c);
void api_rules_create(struct api_call *c);
void api_rules_list(struct api_call *c);
void api_rules_delete(struct api_call *c);
/* Firmware campaigns (api_fw_campaigns.c). */
void api_fw_campaigns_create(struct api_call *c);
void api_fw_campaigns_list(struct api_call *c);
void api_fw_campaigns_get(struct api_call *c);
void api_fw_campaigns_delete(struct api_call *c);
void api_fw_campaigns_devices(struct api_call *c);
void api_fw_campaigns_pause(struct api_call *c);
void api_fw_campaigns_resume(struct api_call *c);
void api_fw_campaigns_cancel(struct api_call *c);
/* /v5/iot/{p}/devices/{id}/bootstrap and /v5/iot/{p}/products/{id}/bootstrap
 * (api_bootstrap.c, docs/bootstrap.md). */
void api_bootstrap_device_put(struct api_call *c);
void api_bootstrap_device_get(struct api_call *c);
void api_bootstrap_device_delete(struct api_call *c);
void api_bootstrap_template_put(struct api_call *c);
void api_bootstrap_template_get(struct api_call *c);
void api_bootstrap_template_delete(struct api_call *c);
/* /v5/iot/{p}/firmware (api_firmware.c). api_firmware_create runs when an upload's
 * headers are known: it sets an error reply, or req->upload and no reply. Each piece of
 * the body goes to api_firmware_upload_chunk (which, failing, frees the upload and puts
 * its error in req->status and req->reply); api_firmware_upload_end answers once the
 * body is all here; api_firmware_upload_free drops an unfinished one. */
void api_firmware_create(struct api_call *c);
void api_firmware_upload_chunk(struct api_server *api, struct api_request *req,
			       const void *data, size_t len);
void api_firmware_upload_end(struct api_call *c);
void api_firmware_upload_free(struct api_request *req);
void api_firmware_list(struct api_call *c);
void api_firmware_get(struct api_call *c);
void api_firmware_delete(struct api_call *c);
/* POST /v5/iot/{project}/firmware: the request whose body is streamed to its route. */
bool api_firmware_is_upload(const char *url, const char *method);
/* --firmware-max-bytes, or its default. */
uint64_t api_firmware_max_bytes(const struct api_server *api);
/* A deferred call's connection went away: stop waiting for the device. */
void api_lwm2m_abandon(struct api_request *req);
/* The same for a codec test or upload waiting for a codec thread (api_platform.c). */
void api_codec_abandon(struct api_request *req);

/*
 * Connections (api_conn.c). api_conn_notify is MHD's connection callback (cls: the
 * server); the access handler reports when a request is all received and when it is done,
 * and the server's sweep timer calls api_conn_sweep every second.
 */
void api_conn_notify(void *cls, struct MHD_Connection *mhd, void **socket_context,
		     enum MHD_ConnectionNotificationCode toe);
/* The connection's state, or NULL when it is not tracked (out of memory). */
struct api_conn *api_conn_of(struct MHD_Connection *mhd);
void api_conn_request_received(struct MHD_Connection *mhd);
void api_conn_request_done(struct MHD_Connection *mhd);
/* bytes more of a streamed upload arrived: each API_UPLOAD_PROGRESS_BYTES restarts its
 * request deadline. */
void api_conn_request_progress(struct MHD_Connection *mhd, size_t bytes);
/* Ends the connections whose request is late (request_timeout_s). */
void api_conn_sweep(struct api_server *api);
/*
 * Watches c's socket while MHD may not (a suspended connection): gone(ctx) runs once when
 * the peer closes or resets it. dead_after_ms, when not 0, also ends the connection when
 * data sent is not acknowledged for that long (TCP_USER_TIMEOUT). The owner must call
 * api_conn_unwatch before its response is destroyed. Returns 0 or a negative errno.
 */
int api_conn_watch(struct api_conn *c, unsigned dead_after_ms, void (*gone)(void *ctx),
		   void *ctx);
void api_conn_unwatch(struct api_conn *c);
/* Writes the connection gauges and counters (Prometheus text). */
void api_conn_metrics(const struct api_server *api, FILE *f);
/* Writes the event-stream gauges and counters (api_events.c). */
void api_events_metrics(const struct api_server *api, FILE *f);
/* Puts a heartbeat comment on every idle stream (api_events.c). */
void api_events_heartbeat(struct api_server *api);

/* The MHD access handler and completion callback (api_http.c), given to MHD by
 * api_server.c with the server as cls. */
enum MHD_Result api_http_handle(void *cls, struct MHD_Connection *conn, const char *url,
				const char *method, const char *version, const char *upload,
				size_t *upload_size, void **con_cls);
void api_http_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			enum MHD_RequestTerminationCode toe);

/* Content formats by API name ("tlv", "senml-cbor", ...) or number: -1 when unknown;
 * the name of one, or NULL. */
int api_format_parse(const char *s);
const char *api_format_name(int format);
/* The optional "read_format" of a product or device body: a format name, or null for
 * none. 0 (with *read_format set when present), or -EINVAL with the 400 set. */
int api_read_format_field(struct api_call *c, const json_t *body, int *read_format);
json_t *api_read_format_json(int read_format);

#endif
