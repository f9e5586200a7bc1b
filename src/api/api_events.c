/*
 * api_events: the live event stream, GET /v5/iot/{project_id}/events[?device_id=…]
 * [&types=…], as Server-Sent Events (text/event-stream): registrations, updates,
 * de-registrations, notifications and the platform's events, as they happen — of one
 * device, and of the named kinds, when the client asks.
 *
 * Each subscriber has a bounded buffer of formatted events. MHD pulls from it through a
 * content-reader callback; when the buffer is empty the reader suspends the connection
 * (MHD allows that from the reader), and publishing resumes it, so an idle stream costs
 * no CPU. A subscriber too slow to keep up loses its oldest events, and is told how many
 * with a "dropped" event, rather than slowing the daemon or growing without bound.
 *
 * A stream holds a connection for as long as it lasts, so streams are capped per token
 * and in all (api_limits), below the connection limit, so that /health and the other
 * projects always get in. A suspended stream's socket is watched for the client's close
 * (api_conn_watch), and a heartbeat comment every heartbeat_s makes a peer that vanished
 * show up as a failed write.
 *
 * A stream lasts no longer than its token: a revocation through the API ends the token's
 * streams at once (api_events_close_token); the sweep ends them when the token expires,
 * or within TOKEN_RECHECK_S of a revocation made on the database by another process.
 */
#include "api/api_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/log.h"

#define SUBSCRIBER_BUFFER (64 * 1024)
/* Room for a "dropped" note, which goes into an emptied buffer before an event. */
#define DROPPED_NOTE_MAX 96
/* The largest event text a stream takes; a bigger one is cut to fit (event_fit). */
#define EVENT_MAX (SUBSCRIBER_BUFFER - DROPPED_NOTE_MAX)
/* Rounds of cutting before an event is given up on. */
#define EVENT_FIT_ROUNDS 32
/* How often an open stream's token is looked up again, in seconds: a revocation on the
 * database (not through the API, which ends the streams at once) ends them this late. */
#define TOKEN_RECHECK_S 5

static const char heartbeat[] = ": heartbeat\n\n";

/* The events a stream may ask for by name (?types=), one bit each. An event published
 * under another name reaches only the streams that asked for none in particular. */
static const char *const event_types[] = {
	"registration", "update",  "deregistration", "notification",    "property",
	"command",      "send",    "codec_error",    "codec_suspended", "unmatched_answer",
	"firmware",     "firmware_campaign",
};
#define EVENT_TYPE_COUNT (sizeof(event_types) / sizeof(event_types[0]))
#define TYPES_MAX 512 /* the longest ?types= value taken */

/* The bit of event, or 0 when it has none. */
static uint32_t event_bit(const char *event)
{
	for (size_t i = 0; i < EVENT_TYPE_COUNT; i++) {
		if (strcmp(event_types[i], event) == 0)
			return 1u << i;
	}
	return 0;
}

struct api_subscriber {
	struct api_subscriber *next, **prev;
	struct api_server *api;
	struct MHD_Connection *conn;
	struct api_conn *cc; /* its connection's state, for the close watch; may be NULL */
	char token_hash[TOKEN_HEX_LEN + 1];
	int64_t token_expire; /* Unix seconds, 0 for never: the stream ends then */
	int64_t token_check;  /* when to look the token up again (revoked elsewhere?) */
	char project_id[STORE_ID_MAX + 1];
	char device_id[STORE_ID_MAX + 1]; /* "" for every device */
	uint32_t types;                   /* event_bit()s asked for; 0 for every event */
	char buf[SUBSCRIBER_BUFFER];
	size_t head, len; /* a ring */
	uint64_t dropped;
	bool suspended;
	bool closing; /* the daemon stops: end the stream once the buffer is sent */
	bool gone;    /* the client closed: end it now */
};

static void ring_put(struct api_subscriber *s, const char *data, size_t n)
{
	size_t at = (s->head + s->len) % SUBSCRIBER_BUFFER;
	size_t first = SUBSCRIBER_BUFFER - at < n ? SUBSCRIBER_BUFFER - at : n;
	memcpy(s->buf + at, data, first);
	memcpy(s->buf, data + first, n - first);
	s->len += n;
}

static ssize_t reader(void *cls, uint64_t pos, char *out, size_t max)
{
	struct api_subscriber *s = cls;
	(void)pos;
	/* A client that closed gets the end of the stream, which MHD follows by reading the
	 * close and closing too. */
	if (s->gone || (s->len == 0 && s->closing))
		return MHD_CONTENT_READER_END_OF_STREAM;
	if (s->len == 0) {
		/* Nothing to send: sleep until api_server_publish has something. */
		s->suspended = true;
		MHD_suspend_connection(s->conn);
		return 0;
	}
	size_t n = s->len < max ? s->len : max;
	size_t first = SUBSCRIBER_BUFFER - s->head < n ? SUBSCRIBER_BUFFER - s->head : n;
	memcpy(out, s->buf + s->head, first);
	memcpy(out + first, s->buf, n - first);
	s->head = (s->head + n) % SUBSCRIBER_BUFFER;
	s->len -= n;
	return (ssize_t)n;
}

static void unlink_subscriber(struct api_subscriber *s)
{
	if (s->prev) {
		*s->prev = s->next;
		if (s->next)
			s->next->prev = s->prev;
		s->prev = NULL;
		s->next = NULL;
		s->api->stream_count--;
	}
}

/* MHD is done with the response (the client went away, or the stream ended). */
static void free_subscriber(void *cls)
{
	struct api_subscriber *s = cls;
	api_conn_unwatch(s->cc);
	unlink_subscriber(s);
	free(s);
}

static void wake(struct api_subscriber *s)
{
	if (s->suspended) {
		s->suspended = false;
		MHD_resume_connection(s->conn);
		api_server_kick(s->api);
	}
}

/* The client closed or reset the connection while the stream slept. */
static void on_gone(void *ctx)
{
	struct api_subscriber *s = ctx;
	s->gone = true;
	wake(s);
}

/* 0 when the token may open one more stream; else the refusal is set. */
static int check_stream_caps(struct api_call *c)
{
	struct api_server *api = c->api;
	const struct api_limits *l = &api->limits;
	unsigned mine = 0;
	for (struct api_subscriber *s = api->subscribers; s; s = s->next)
		mine += strcmp(s->token_hash, c->token_hash) == 0;
	if (mine >= l->max_streams_per_token) {
		api->streams_refused_token++;
		api_reply_error(c, 429,
				"too many event streams for this X-Auth-Token (at most %u); close one "
				"first",
				l->max_streams_per_token);
		return -EBUSY;
	}
	if (api->stream_count >= l->max_streams) {
		api->streams_refused_total++;
		api_reply_error(c, 503, "too many event streams open (at most %u); try again later",
				l->max_streams);
		return -EBUSY;
	}
	return 0;
}

/* ?types=registration,update,…: the bits of the names, into *out. 0, or -EINVAL with the
 * 400 set. */
static int parse_types(struct api_call *c, const char *value, uint32_t *out)
{
	*out = 0;
	if (!value)
		return 0;
	size_t len = strlen(value);
	if (len == 0 || len > TYPES_MAX) {
		api_reply_error(c, 400, "types must be 1-%d characters: event names, comma-separated",
				TYPES_MAX);
		return -EINVAL;
	}
	for (const char *p = value;;) {
		size_t n = strcspn(p, ",");
		char name[32];
		uint32_t bit = 0;
		if (n > 0 && n < sizeof(name)) {
			memcpy(name, p, n);
			name[n] = '\0';
			bit = event_bit(name);
		}
		if (!bit) {
			api_reply_error(c, 400,
					"types: '%.*s' is not an event (registration, update, "
					"deregistration, notification, property, command, send, "
					"codec_error, codec_suspended, unmatched_answer, firmware, "
					"firmware_campaign)",
					(int)(n < 64 ? n : 64), p);
			return -EINVAL;
		}
		*out |= bit;
		if (p[n] == '\0')
			return 0;
		p += n + 1;
	}
}

void api_events_stream(struct api_call *c)
{
	const char *device = api_query(c, "device_id");
	uint32_t types;
	if (device && (strlen(device) == 0 || strlen(device) > STORE_ID_MAX)) {
		api_reply_error(c, 400, "device_id must be 1-%d characters", STORE_ID_MAX);
		return;
	}
	if (parse_types(c, api_query(c, "types"), &types) != 0)
		return;
	if (check_stream_caps(c) != 0)
		return;
	struct api_subscriber *s = calloc(1, sizeof(*s));
	if (!s) {
		api_reply_error(c, 500, "out of memory");
		return;
	}
	s->api = c->api;
	s->conn = c->conn;
	memcpy(s->token_hash, c->token_hash, sizeof(s->token_hash));
	s->token_expire = c->token_expire;
	s->token_check = (int64_t)time(NULL) + TOKEN_RECHECK_S;
	snprintf(s->project_id, sizeof(s->project_id), "%s", c->project_id);
	snprintf(s->device_id, sizeof(s->device_id), "%s", device ? device : "");
	s->types = types;
	/* A first comment so that clients see the stream is open. */
	ring_put(s, ": lwm2md events\n\n", 17);
	struct MHD_Response *resp =
		MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, reader, s, free_subscriber);
	if (!resp) {
		free(s);
		api_reply_error(c, 500, "out of memory");
		return;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
	s->next = c->api->subscribers;
	if (s->next)
		s->next->prev = &s->next;
	s->prev = &c->api->subscribers;
	c->api->subscribers = s;
	c->api->stream_count++;
	/* Without the watch a closed stream lingers until its next write; it still works. */
	s->cc = api_conn_of(c->conn);
	unsigned dead_after_ms = c->api->limits.heartbeat_s * 3000;
	if (api_conn_watch(s->cc, dead_after_ms, on_gone, s) != 0)
		LOG_WARN("api", "an event stream's socket cannot be watched for its close");
	c->stream = resp;
	c->status = 200;
}

bool api_server_has_subscribers(const struct api_server *api)
{
	return api && api->subscribers;
}

/* The top-level member of obj whose JSON text is the longest ("truncated" aside). */
static const char *largest_member(json_t *obj, size_t *size)
{
	const char *best = NULL, *key;
	json_t *v;
	*size = 0;
	json_object_foreach(obj, key, v) {
		size_t n = json_dumpb(v, NULL, 0, JSON_COMPACT | JSON_ENCODE_ANY);
		if (strcmp(key, "truncated") != 0 && n > *size) {
			best = key;
			*size = n;
		}
	}
	return best;
}

/* Cuts member key of obj by at least excess bytes of JSON: a string keeps its beginning
 * (whole UTF-8 characters), an array its first half, anything else becomes null. */
static void cut_member(json_t *obj, const char *key, size_t excess)
{
	json_t *v = json_object_get(obj, key);
	if (json_is_string(v)) {
		const char *str = json_string_value(v);
		size_t len = json_string_length(v);
		size_t keep = len > excess ? len - excess : 0;
		while (keep > 0 && ((unsigned char)str[keep] & 0xC0) == 0x80)
			keep--;
		json_object_set_new(obj, key, json_stringn(str, keep));
	} else if (json_is_array(v) && json_array_size(v) > 0) {
		size_t keep = json_array_size(v) / 2;
		while (json_array_size(v) > keep)
			json_array_remove(v, json_array_size(v) - 1);
	} else {
		json_object_set_new(obj, key, json_null());
	}
	json_t *list = json_object_get(obj, "truncated");
	if (!json_is_array(list)) {
		list = json_array();
		json_object_set_new(obj, "truncated", list);
	}
	size_t i;
	json_t *name;
	json_array_foreach(list, i, name) {
		if (strcmp(json_string_value(name), key) == 0)
			return;
	}
	json_array_append_new(list, json_string(key));
}

/*
 * An event too big for a stream's buffer: its largest fields are cut until its text fits
 * in max bytes, and it says which in "truncated":["object_links"]. Returns the new JSON
 * (free it), or NULL when it is not a JSON object or cannot be cut to fit.
 */
static char *event_fit(const char *json, size_t max)
{
	json_t *obj = json_loads(json, 0, NULL);
	char *out = NULL;
	if (!json_is_object(obj))
		goto cleanup;
	for (int round = 0; round < EVENT_FIT_ROUNDS; round++) {
		/* "truncated" itself may add ~30 bytes: ask for that much more. */
		size_t len = json_dumpb(obj, NULL, 0, JSON_COMPACT) + 64;
		if (len <= max) {
			out = json_dumps(obj, JSON_COMPACT);
			break;
		}
		size_t size;
		const char *key = largest_member(obj, &size);
		if (!key)
			break;
		cut_member(obj, key, len - max);
	}
cleanup:
	json_decref(obj);
	return out;
}

/* Queues text on s, making room by dropping what s has not read yet. */
static void subscriber_put(struct api_subscriber *s, const char *text, size_t n)
{
	if (SUBSCRIBER_BUFFER - s->len < n) {
		/* Too slow: drop everything queued, say so, keep the stream. */
		s->dropped += 1;
		s->head = s->len = 0;
		char note[DROPPED_NOTE_MAX];
		int m = snprintf(note, sizeof(note),
				 "event: dropped\ndata: {\"dropped_since_start\":%" PRIu64 "}\n\n",
				 s->dropped);
		ring_put(s, note, (size_t)m);
	}
	ring_put(s, text, n);
	wake(s);
}

void api_server_publish(struct api_server *api, const char *project_id, const char *device_id,
			const char *event, const char *json)
{
	static const char fmt[] = "event: %s\ndata: %s\n\n";
	char small[4096];
	char *fitted = NULL, *text = small;

	if (!api || !api->subscribers)
		return;
	size_t frame = sizeof(fmt) - 1 - 4 + strlen(event);
	size_t n = frame + strlen(json);
	if (n > EVENT_MAX) {
		fitted = frame < EVENT_MAX ? event_fit(json, EVENT_MAX - frame) : NULL;
		if (!fitted) {
			api->events_too_big++;
			LOG_WARN("api", "a %s event of %zu bytes cannot be cut to fit a stream", event,
				 n);
			return;
		}
		api->events_truncated++;
		json = fitted;
		n = frame + strlen(json);
	}
	if (n >= sizeof(small))
		text = malloc(n + 1);
	if (!text) {
		free(fitted);
		return;
	}
	snprintf(text, n + 1, fmt, event, json);
	uint32_t bit = event_bit(event);
	for (struct api_subscriber *s = api->subscribers; s; s = s->next) {
		if (s->closing || s->gone || strcmp(s->project_id, project_id) != 0 ||
		    (s->device_id[0] && strcmp(s->device_id, device_id) != 0) ||
		    (s->types && !(s->types & bit)))
			continue;
		subscriber_put(s, text, n);
	}
	if (text != small)
		free(text);
	free(fitted);
}

void api_events_heartbeat(struct api_server *api)
{
	/* Only idle streams need one: the others are writing anyway. */
	for (struct api_subscriber *s = api->subscribers; s; s = s->next) {
		if (!s->closing && !s->gone && s->len == 0)
			subscriber_put(s, heartbeat, sizeof(heartbeat) - 1);
	}
}

void api_events_close_all(struct api_server *api)
{
	for (struct api_subscriber *s = api->subscribers; s; s = s->next) {
		s->closing = true;
		wake(s);
	}
}

/* The client is cut off as if it had gone: the end of the stream, sent now. Its next
 * request with the token is a 401. */
static void end_stream(struct api_subscriber *s)
{
	if (!s->gone) {
		s->gone = true;
		wake(s);
	}
}

void api_events_close_token(struct api_server *api, const char *token_hash)
{
	for (struct api_subscriber *s = api->subscribers; s; s = s->next) {
		if (strcmp(s->token_hash, token_hash) == 0)
			end_stream(s);
	}
}

void api_events_expire(struct api_server *api, int64_t now_s)
{
	for (struct api_subscriber *s = api->subscribers; s; s = s->next) {
		if (s->gone)
			continue;
		if (s->token_expire > 0 && now_s >= s->token_expire) {
			end_stream(s);
			continue;
		}
		/* A token revoked on the database (lwm2md token revoke, another process) is
		 * seen here: one lookup by key per stream every few seconds. */
		if (now_s < s->token_check)
			continue;
		s->token_check = now_s + TOKEN_RECHECK_S;
		struct store_token t;
		if (store_token_lookup(api->deps.store, s->token_hash, &t) == -ENOENT)
			end_stream(s);
	}
}

void api_events_metrics(const struct api_server *api, FILE *f)
{
	fprintf(f,
		"# HELP lwm2md_http_event_streams Open event streams (GET .../events).\n"
		"# TYPE lwm2md_http_event_streams gauge\n"
		"lwm2md_http_event_streams %u\n"
		"# HELP lwm2md_http_event_streams_refused_total Event streams refused: 429 over "
		"--events-max-streams-per-token, 503 over --events-max-streams.\n"
		"# TYPE lwm2md_http_event_streams_refused_total counter\n"
		"lwm2md_http_event_streams_refused_total{reason=\"per_token\"} %" PRIu64 "\n"
		"lwm2md_http_event_streams_refused_total{reason=\"total\"} %" PRIu64 "\n"
		"# HELP lwm2md_http_events_truncated_total Events cut to fit a stream's buffer.\n"
		"# TYPE lwm2md_http_events_truncated_total counter\n"
		"lwm2md_http_events_truncated_total %" PRIu64 "\n"
		"# HELP lwm2md_http_events_too_big_total Events that could not be cut to fit.\n"
		"# TYPE lwm2md_http_events_too_big_total counter\n"
		"lwm2md_http_events_too_big_total %" PRIu64 "\n",
		api->stream_count, api->streams_refused_token, api->streams_refused_total,
		api->events_truncated, api->events_too_big);
}
