/*
 * push: the outbox, drained by libcurl multi on libuv (the "multi socket" interface:
 * curl tells us which sockets to watch and when to call it back).
 */
#include "iot/push.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "store/store_platform.h"
#include "util/hash.h"
#include "util/log.h"
#include "util/str.h"
#include "util/timefmt.h"
#include "util/token.h"

#define BACKOFF_FIRST_MS 1000
#define BACKOFF_MAX_MS (300 * 1000)

struct push {
	uv_loop_t *loop;
	struct store *store;
	struct push_config cfg;
	int64_t (*now_ms)(void);
	CURLM *multi;
	uv_timer_t curl_timer; /* curl's own timeouts */
	uv_timer_t pump_timer; /* the next due item */
	struct push_stats stats;
	int handles_open;      /* libuv handles not yet closed */
	bool closing;
	struct delivery *deliveries; /* in flight */
	struct watch *watches;
	int64_t outbox_len; /* items in the outbox: counted here, not by a table scan */
};

/* One POST in flight. */
struct delivery {
	struct delivery *next, **prev;
	struct push *p;
	int64_t id;
	int attempts;
	char *body;
	struct curl_slist *headers;
	CURL *easy;
};

/* One socket curl asked us to watch. */
struct watch {
	struct watch *next, **prev;
	uv_poll_t poll;
	curl_socket_t fd;
	struct push *p;
};

static void pump(struct push *p);

static void handle_closed(uv_handle_t *h)
{
	struct push *p = h->data;
	if (h->type == UV_POLL)
		free(container_of((uv_poll_t *)h, struct watch, poll));
	if (--p->handles_open == 0 && p->closing)
		free(p);
}

/* Intrusive doubly linked lists: O(1) unlink. */
#define LIST_PUSH(head, item)                                                              \
	do {                                                                               \
		(item)->next = (head);                                                     \
		if (head)                                                                  \
			(head)->prev = &(item)->next;                                      \
		(head) = (item);                                                           \
		(item)->prev = &(head);                                                    \
	} while (0)
#define LIST_UNLINK(item)                                                                  \
	do {                                                                               \
		*(item)->prev = (item)->next;                                              \
		if ((item)->next)                                                          \
			(item)->next->prev = (item)->prev;                                 \
	} while (0)

static void delivery_free(struct delivery *d)
{
	LIST_UNLINK(d);
	curl_slist_free_all(d->headers);
	free(d->body);
	free(d);
}

/* What curl finished: delivered, or due again later. */
static void check_done(struct push *p)
{
	CURLMsg *msg;
	int left;
	while ((msg = curl_multi_info_read(p->multi, &left))) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		struct delivery *d = NULL;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&d);
		long status = 0;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &status);
		CURLcode result = msg->data.result;
		curl_multi_remove_handle(p->multi, msg->easy_handle);
		curl_easy_cleanup(msg->easy_handle);
		p->stats.in_flight--;
		if (result == CURLE_OK && status >= 200 && status < 300) {
			p->stats.delivered++;
			if (store_outbox_done(p->store, d->id) == 0 && p->outbox_len > 0)
				p->outbox_len--;
		} else {
			p->stats.failures++;
			int64_t wait = BACKOFF_FIRST_MS;
			for (int i = 0; i < d->attempts && wait < BACKOFF_MAX_MS; i++)
				wait *= 2;
			if (wait > BACKOFF_MAX_MS)
				wait = BACKOFF_MAX_MS;
			LOG_DEBUG("push", "item %lld: %s (HTTP %ld); again in %lld ms", (long long)d->id,
				  result == CURLE_OK ? "refused" : curl_easy_strerror(result), status,
				  (long long)wait);
			store_outbox_retry(p->store, d->id, d->attempts + 1, p->now_ms() + wait);
		}
		delivery_free(d);
	}
	pump(p);
}

static void on_poll(uv_poll_t *h, int status, int events)
{
	struct watch *w = container_of(h, struct watch, poll);
	int flags = 0;
	if (status < 0)
		flags = CURL_CSELECT_ERR;
	if (events & UV_READABLE)
		flags |= CURL_CSELECT_IN;
	if (events & UV_WRITABLE)
		flags |= CURL_CSELECT_OUT;
	int running;
	curl_multi_socket_action(w->p->multi, w->fd, flags, &running);
	check_done(w->p);
}

static int on_socket(CURL *easy, curl_socket_t fd, int action, void *userp, void *socketp)
{
	(void)easy;
	struct push *p = userp;
	struct watch *w = socketp;
	if (action == CURL_POLL_REMOVE) {
		if (w) {
			uv_poll_stop(&w->poll);
			curl_multi_assign(p->multi, fd, NULL);
			LIST_UNLINK(w);
			uv_close((uv_handle_t *)&w->poll, handle_closed);
		}
		return 0;
	}
	if (!w) {
		w = calloc(1, sizeof(*w));
		if (!w || uv_poll_init_socket(p->loop, &w->poll, fd) != 0) {
			free(w);
			return -1;
		}
		w->fd = fd;
		w->p = p;
		w->poll.data = p;
		p->handles_open++;
		LIST_PUSH(p->watches, w);
		curl_multi_assign(p->multi, fd, w);
	}
	int events = (action & CURL_POLL_IN ? UV_READABLE : 0) |
		     (action & CURL_POLL_OUT ? UV_WRITABLE : 0);
	uv_poll_start(&w->poll, events, on_poll);
	return 0;
}

static void on_curl_timer(uv_timer_t *t)
{
	struct push *p = t->data;
	int running;
	curl_multi_socket_action(p->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	check_done(p);
}

static int on_timer_change(CURLM *multi, long timeout_ms, void *userp)
{
	(void)multi;
	struct push *p = userp;
	if (timeout_ms < 0)
		uv_timer_stop(&p->curl_timer);
	else
		uv_timer_start(&p->curl_timer, on_curl_timer, (uint64_t)timeout_ms, 0);
	return 0;
}

/* Starts the POST of one outbox item. */
static int start_one(const struct store_outbox_item *it, void *ctx)
{
	struct push *p = ctx;
	struct delivery *d = calloc(1, sizeof(*d));
	CURL *easy = curl_easy_init();
	if (!d || !easy || !(d->body = strdup(it->body))) {
		if (d)
			free(d->body);
		free(d);
		curl_easy_cleanup(easy);
		store_outbox_retry(p->store, it->id, it->attempts, p->now_ms() + BACKOFF_FIRST_MS);
		return 0;
	}
	LIST_PUSH(p->deliveries, d);
	d->p = p;
	d->id = it->id;
	d->attempts = it->attempts;
	d->easy = easy;
	d->headers = curl_slist_append(NULL, "Content-Type: application/json");
	curl_easy_setopt(easy, CURLOPT_URL, it->url);
	curl_easy_setopt(easy, CURLOPT_POSTFIELDS, d->body);
	curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE, (long)strlen(d->body));
	curl_easy_setopt(easy, CURLOPT_HTTPHEADER, d->headers);
	curl_easy_setopt(easy, CURLOPT_PRIVATE, d);
	curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, (long)p->cfg.timeout_ms);
	curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
	if (curl_multi_add_handle(p->multi, easy) != CURLM_OK) {
		curl_easy_cleanup(easy);
		delivery_free(d);
		store_outbox_retry(p->store, it->id, it->attempts, p->now_ms() + BACKOFF_FIRST_MS);
		return 0;
	}
	p->stats.in_flight++;
	return 0;
}

static void on_pump_timer(uv_timer_t *t)
{
	pump(t->data);
}

/* Starts what is due, up to max_in_flight; wakes up again for the next due item. */
static void pump(struct push *p)
{
	if (p->closing)
		return;
	int64_t now = p->now_ms();
	if (p->stats.in_flight < p->cfg.max_in_flight) {
		int room = (int)(p->cfg.max_in_flight - p->stats.in_flight);
		store_outbox_take(p->store, now, room, start_one, p);
	}
	int64_t when;
	if (store_outbox_next_due(p->store, &when) == 0) {
		uint64_t wait = when > now ? (uint64_t)(when - now) : 0;
		/* When the window is full, a finished delivery pumps again anyway. */
		if (p->stats.in_flight < p->cfg.max_in_flight || wait > 0)
			uv_timer_start(&p->pump_timer, on_pump_timer, wait ? wait : 1, 0);
	}
}

int push_create(struct push **out, uv_loop_t *loop, struct store *store,
		const struct push_config *cfg, int64_t (*now_ms)(void))
{
	struct push *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || !(p->multi = curl_multi_init())) {
		free(p);
		return -ENOMEM;
	}
	p->loop = loop;
	p->store = store;
	p->now_ms = now_ms;
	p->cfg = *cfg;
	if (!p->cfg.max_in_flight)
		p->cfg.max_in_flight = 16;
	if (!p->cfg.max_outbox)
		p->cfg.max_outbox = 100000;
	if (!p->cfg.timeout_ms)
		p->cfg.timeout_ms = 10000;
	curl_multi_setopt(p->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
	curl_multi_setopt(p->multi, CURLMOPT_SOCKETDATA, p);
	curl_multi_setopt(p->multi, CURLMOPT_TIMERFUNCTION, on_timer_change);
	curl_multi_setopt(p->multi, CURLMOPT_TIMERDATA, p);
	uv_timer_init(loop, &p->curl_timer);
	uv_timer_init(loop, &p->pump_timer);
	p->curl_timer.data = p->pump_timer.data = p;
	p->handles_open = 2;
	store_outbox_reset(p->store);
	store_outbox_count(p->store, &p->outbox_len);
	*out = p;
	pump(p);
	return 0;
}


void push_destroy(struct push *p)
{
	if (!p)
		return;
	p->closing = true;
	/* Removing the handles makes curl ask us to stop watching their sockets; whatever it
	 * still has open is closed here. */
	while (p->deliveries) {
		struct delivery *d = p->deliveries;
		curl_multi_remove_handle(p->multi, d->easy);
		curl_easy_cleanup(d->easy);
		delivery_free(d);
	}
	curl_multi_cleanup(p->multi);
	while (p->watches) {
		struct watch *w = p->watches;
		LIST_UNLINK(w);
		uv_poll_stop(&w->poll);
		uv_close((uv_handle_t *)&w->poll, handle_closed);
	}
	curl_global_cleanup();
	uv_close((uv_handle_t *)&p->curl_timer, handle_closed);
	uv_close((uv_handle_t *)&p->pump_timer, handle_closed);
}

const struct push_stats *push_stats(const struct push *p)
{
	return &p->stats;
}

/* Does a rule's event list ("" = all) name this event? */
static bool wants(const char *events, const char *name)
{
	if (!events[0])
		return true;
	size_t n = strlen(name);
	for (const char *s = events; *s;) {
		const char *comma = strchr(s, ',');
		size_t len = comma ? (size_t)(comma - s) : strlen(s);
		if (len == n && memcmp(s, name, n) == 0)
			return true;
		s += len + (comma ? 1 : 0);
	}
	return false;
}

struct queue_ctx {
	struct push *p;
	const char *name;
	const char *body;
	int queued;
};

static int queue_for_rule(const struct store_rule *r, void *ctx)
{
	struct queue_ctx *q = ctx;
	if (!wants(r->events, q->name))
		return 0;
	struct push *p = q->p;
	if (p->outbox_len >= p->cfg.max_outbox) {
		int64_t drop = p->outbox_len - p->cfg.max_outbox + 1;
		if (store_outbox_drop_oldest(p->store, drop) == 0) {
			p->stats.dropped += (uint64_t)drop;
			p->outbox_len -= drop;
		}
	}
	if (store_outbox_add(p->store, r->url, q->body, p->now_ms()) == 0) {
		p->stats.queued++;
		p->outbox_len++;
		q->queued++;
	}
	return 0;
}

void push_event(struct push *p, const char *project_id, const char *resource,
		const char *event, const json_t *header, json_t *body)
{
	char name[96], request_id[33], t[TIME_TEXT_MAX];
	snprintf(name, sizeof(name), "%s/%s", resource, event);
	int64_t now = p->now_ms();
	time_format(now / 1000, t);
	if (token_random_hex(request_id, sizeof(request_id), 16) != 0)
		request_id[0] = '\0';
	json_t *msg = json_pack("{s:s, s:s, s:s, s:I, s:s, s:{s:O, s:o}}", "resource", resource,
				"event", event, "event_time", t, "event_time_ms", (json_int_t)now,
				"request_id", request_id, "notify_data", "header", header, "body",
				body ? body : json_object());
	char *text = msg ? json_dumps(msg, JSON_COMPACT) : NULL;
	json_decref(msg);
	if (!text)
		return;
	struct queue_ctx q = { .p = p, .name = name, .body = text };
	store_rule_list(p->store, project_id, queue_for_rule, &q);
	free(text);
	if (q.queued)
		pump(p);
}
