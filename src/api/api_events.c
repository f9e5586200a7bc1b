/*
 * api_events: the live event stream, GET /v5/iot/{project_id}/events[?device_id=…], as
 * Server-Sent Events (text/event-stream): registrations, updates, de-registrations and
 * notifications, as they happen.
 *
 * Each subscriber has a bounded buffer of formatted events. MHD pulls from it through a
 * content-reader callback; when the buffer is empty the reader suspends the connection
 * (MHD allows that from the reader), and publishing resumes it, so an idle stream costs
 * no CPU. A subscriber too slow to keep up loses its oldest events, and is told how many
 * with a "dropped" event, rather than slowing the daemon or growing without bound.
 */
#include "api/api_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SUBSCRIBER_BUFFER (64 * 1024)
#define EVENT_MAX 4096

struct api_subscriber {
	struct api_subscriber *next, **prev;
	struct api_server *api;
	struct MHD_Connection *conn;
	char project_id[STORE_ID_MAX + 1];
	char device_id[STORE_ID_MAX + 1]; /* "" for every device */
	char buf[SUBSCRIBER_BUFFER];
	size_t head, len; /* a ring */
	uint64_t dropped;
	bool suspended;
	bool closing;
};

static void ring_put(struct api_subscriber *s, const char *data, size_t n)
{
	for (size_t i = 0; i < n; i++)
		s->buf[(s->head + s->len + i) % SUBSCRIBER_BUFFER] = data[i];
	s->len += n;
}

static ssize_t reader(void *cls, uint64_t pos, char *out, size_t max)
{
	struct api_subscriber *s = cls;
	(void)pos;
	if (s->len == 0) {
		if (s->closing)
			return MHD_CONTENT_READER_END_OF_STREAM;
		/* Nothing to send: sleep until api_server_publish has something. */
		s->suspended = true;
		MHD_suspend_connection(s->conn);
		return 0;
	}
	size_t n = s->len < max ? s->len : max;
	for (size_t i = 0; i < n; i++)
		out[i] = s->buf[(s->head + i) % SUBSCRIBER_BUFFER];
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
	}
}

/* MHD is done with the response (the client went away, or the stream ended). */
static void free_subscriber(void *cls)
{
	struct api_subscriber *s = cls;
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

void api_events_stream(struct api_call *c)
{
	const char *device = api_query(c, "device_id");
	if (device && (strlen(device) == 0 || strlen(device) > STORE_ID_MAX)) {
		api_reply_error(c, 400, "device_id must be 1-%d characters", STORE_ID_MAX);
		return;
	}
	struct api_subscriber *s = calloc(1, sizeof(*s));
	if (!s) {
		api_reply_error(c, 500, "out of memory");
		return;
	}
	s->api = c->api;
	s->conn = c->conn;
	snprintf(s->project_id, sizeof(s->project_id), "%s", c->project_id);
	snprintf(s->device_id, sizeof(s->device_id), "%s", device ? device : "");
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
	c->stream = resp;
	c->status = 200;
}

bool api_server_has_subscribers(const struct api_server *api)
{
	return api && api->subscribers;
}

void api_server_publish(struct api_server *api, const char *project_id, const char *device_id,
			const char *event, const char *json)
{
	if (!api)
		return;
	char text[EVENT_MAX];
	int n = snprintf(text, sizeof(text), "event: %s\ndata: %s\n\n", event, json);
	if (n < 0 || (size_t)n >= sizeof(text))
		return; /* an event bigger than any we make */
	for (struct api_subscriber *s = api->subscribers; s; s = s->next) {
		if (s->closing || strcmp(s->project_id, project_id) != 0 ||
		    (s->device_id[0] && strcmp(s->device_id, device_id) != 0))
			continue;
		if (SUBSCRIBER_BUFFER - s->len < (size_t)n) {
			/* Too slow: drop everything queued, say so, keep the stream. */
			s->dropped += 1;
			s->head = s->len = 0;
			char note[96];
			int m = snprintf(note, sizeof(note),
					 "event: dropped\ndata: {\"dropped_since_start\":%llu}\n\n",
					 (unsigned long long)s->dropped);
			ring_put(s, note, (size_t)m);
		}
		ring_put(s, text, (size_t)n);
		wake(s);
	}
}

void api_events_close_all(struct api_server *api)
{
	for (struct api_subscriber *s = api->subscribers; s; s = s->next) {
		s->closing = true;
		wake(s);
	}
}
