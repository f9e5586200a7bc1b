/*
 * push: the outbox, drained by libcurl multi on libuv (the "multi socket" interface:
 * curl tells us which sockets to watch and when to call it back). The pump walks the
 * rules round robin and starts what is due within three bounds: the slots in all, the
 * project's slots, and the rule's breaker (push_ep.c). Every socket curl opens is
 * checked against push_target.h's policy first.
 */
#include "iot/push.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "iot/push_internal.h"
#include "store/store_push.h"
#include "util/log.h"
#include "util/str.h"
#include "util/timefmt.h"
#include "util/token.h"

#define BACKOFF_FIRST_MS 1000
#define BACKOFF_MAX_MS (300 * 1000)

/* One POST in flight. */
struct delivery {
	struct delivery *next, **prev;
	struct push *p;
	struct push_endpoint *ep;
	int64_t id;
	int attempts;
	char *body;
	CURL *easy;
	/* Set when the policy refused an address curl was about to connect to. */
	enum push_target_class refused;
	struct addr refused_addr;
};

/* One socket curl asked us to watch. */
struct watch {
	struct watch *next, **prev;
	uv_poll_t poll;
	curl_socket_t fd;
	struct push *p;
};

static void pump(struct push *p);
static curl_socket_t open_socket(void *ctx, curlsocktype purpose, struct curl_sockaddr *a);
static int close_socket(void *ctx, curl_socket_t fd);

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
	free(d->body);
	free(d);
}

/* Easy handles are kept between POSTs (at most max_in_flight idle): making one and
 * setting its constant options cost more than the request itself on a keep-alive
 * connection. The connections live in the multi handle's cache either way. */
static CURL *easy_get(struct push *p)
{
	if (p->idle_count)
		return p->idle[--p->idle_count];
	CURL *easy = curl_easy_init();
	if (!easy)
		return NULL;
	/* A black-holed endpoint costs a slot for the connect timeout, a hanging one for the
	 * whole timeout; never longer. */
	curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, (long)p->cfg.connect_timeout_ms);
	curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, (long)p->cfg.timeout_ms);
	curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(easy, CURLOPT_OPENSOCKETFUNCTION, open_socket);
	curl_easy_setopt(easy, CURLOPT_CLOSESOCKETFUNCTION, close_socket);
	curl_easy_setopt(easy, CURLOPT_CLOSESOCKETDATA, p);
	curl_easy_setopt(easy, CURLOPT_HTTPHEADER, p->headers);
	return easy;
}

static void easy_put(struct push *p, CURL *easy)
{
	if (p->idle_count < p->cfg.max_in_flight && !p->closing)
		p->idle[p->idle_count++] = easy;
	else
		curl_easy_cleanup(easy);
}

static enum push_failure failure_of(const struct delivery *d, CURLcode result)
{
	if (result == CURLE_OK)
		return PUSH_FAIL_STATUS;
	if (d->refused != PUSH_TARGET_PUBLIC)
		return PUSH_FAIL_ADDRESS;
	switch (result) {
	case CURLE_OPERATION_TIMEDOUT:
		return PUSH_FAIL_TIMEOUT;
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
		return PUSH_FAIL_CONNECT;
	default:
		return PUSH_FAIL_OTHER;
	}
}

static void row_deleted(int64_t id, void *ctx)
{
	struct push *p = ctx;
	for (unsigned i = 0; i < p->done_count; i++) {
		if (p->done_ids[i] != id)
			continue;
		struct push_endpoint *e = p->done_eps[i];
		p->outbox_len--;
		e->project->outbox--;
		e->backlog--;
		return;
	}
}

/* Deletes the delivered rows in one statement. A row dropped by its project's quota while
 * in flight is gone already, and counted then. An endpoint with rows here is not freed
 * (done_pending; push_endpoints_collect). */
static void flush_done(struct push *p)
{
	if (p->done_count == 0)
		return;
	store_outbox_done_many(p->store, p->done_ids, p->done_count, row_deleted, p);
	for (unsigned i = 0; i < p->done_count; i++)
		p->done_eps[i]->done_pending--;
	p->done_count = 0;
}

static void on_pump_idle(uv_idle_t *i)
{
	(void)i; /* only there to keep poll from blocking; the check phase does the work */
}

/* The check phase of this loop turn has work (pump_soon, rows to delete): it runs after
 * the turn's I/O callbacks and before the store's group commit of the turn (the next
 * prepare phase), so its writes share that transaction. The idle handle keeps the loop
 * from blocking in poll first when the work came from a timer. */
static void check_soon(struct push *p)
{
	if (!uv_is_active((uv_handle_t *)&p->pump_idle))
		uv_idle_start(&p->pump_idle, on_pump_idle);
}

/* One transfer ended: delivered, or due again later. */
static void finished(struct push *p, struct delivery *d, CURLcode result, long status)
{
	struct push_endpoint *e = d->ep;
	struct push_project *proj = e->project;
	int64_t now = p->now_ms();
	p->stats.in_flight--;
	proj->in_flight--;
	e->in_flight--;
	if (result == CURLE_OK && status >= 200 && status < 300) {
		p->stats.delivered++;
		proj->delivered++;
		e->delivered++;
		/* Deleted with the turn's other deliveries, in its check phase. */
		if (p->done_count == p->cfg.max_in_flight)
			flush_done(p);
		p->done_ids[p->done_count] = d->id;
		p->done_eps[p->done_count++] = e;
		e->done_pending++;
		check_soon(p);
		push_breaker_result(p, e, true, now);
		return;
	}
	enum push_failure why = failure_of(d, result);
	p->stats.failures++;
	p->failure_reasons[why]++;
	proj->failures++;
	e->failures++;
	int64_t wait = BACKOFF_FIRST_MS;
	for (int i = 0; i < d->attempts && wait < BACKOFF_MAX_MS; i++)
		wait *= 2;
	if (wait > BACKOFF_MAX_MS)
		wait = BACKOFF_MAX_MS;
	if (why == PUSH_FAIL_ADDRESS) {
		char a[ADDR_STR_MAX];
		LOG_WARN("push", "project %s rule %s: not sent to %s, a %s address "
				 "(--push-allow-private); again in %lld ms",
			 proj->id, e->rule_id, addr_format(&d->refused_addr, a),
			 push_target_class_name(d->refused), (long long)wait);
	} else {
		LOG_DEBUG("push", "project %s rule %s item %lld: %s (%s, HTTP %ld); again in %lld ms",
			  proj->id, e->rule_id, (long long)d->id, push_failure_name(why),
			  result == CURLE_OK ? "answered" : curl_easy_strerror(result), status,
			  (long long)wait);
	}
	if (store_outbox_retry(p->store, d->id, d->attempts + 1, now + wait) == 0 &&
	    now + wait < e->due)
		e->due = now + wait;
	push_breaker_result(p, e, false, now);
}

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
		easy_put(p, msg->easy_handle);
		finished(p, d, result, status);
		delivery_free(d);
	}
	/* At once, not in the check phase: the next POST then goes out with curl's next
	 * socket action, still in this poll phase, while the receiver answers quickly — a
	 * pump deferred to the check phase made it one round of POSTs per loop turn, far
	 * slower than the events came under load. */
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

/* The watch of one of curl's sockets, kept while the socket is open: between two POSTs on
 * a keep-alive connection curl stops watching it (CURL_POLL_REMOVE), and making and
 * closing a poll handle each time cost more syscalls than the request. The list holds
 * at most the sockets curl has open: the transfers and its idle connections. */
static struct watch *watch_find(struct push *p, curl_socket_t fd)
{
	for (struct watch *w = p->watches; w; w = w->next)
		if (w->fd == fd)
			return w;
	return NULL;
}

static int on_socket(CURL *easy, curl_socket_t fd, int action, void *userp, void *socketp)
{
	(void)easy;
	struct push *p = userp;
	struct watch *w = socketp;
	if (action == CURL_POLL_REMOVE) {
		if (w) {
			uv_poll_stop(&w->poll); /* closed with the socket (close_socket) */
			curl_multi_assign(p->multi, fd, NULL);
		}
		return 0;
	}
	if (!w && (w = watch_find(p, fd)) != NULL) {
		curl_multi_assign(p->multi, fd, w);
	} else if (!w) {
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

/* curl closes a socket (a connection ends): its watch goes first. */
static int close_socket(void *ctx, curl_socket_t fd)
{
	struct push *p = ctx;
	struct watch *w = watch_find(p, fd);
	if (w) {
		LIST_UNLINK(w);
		uv_poll_stop(&w->poll);
		uv_close((uv_handle_t *)&w->poll, handle_closed);
	}
	return close(fd);
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

/* curl is about to connect to an address it resolved (or was given): the policy decides,
 * here rather than on the URL alone, so that a name resolving to 127.0.0.1 is refused. */
static curl_socket_t open_socket(void *ctx, curlsocktype purpose, struct curl_sockaddr *a)
{
	struct delivery *d = ctx;
	struct addr to;
	if (purpose != CURLSOCKTYPE_IPCXN || addr_from_sockaddr(&to, &a->addr) != 0)
		return CURL_SOCKET_BAD;
	enum push_target_class c = push_target_check(&d->p->policy, &to);
	if (c != PUSH_TARGET_PUBLIC) {
		d->refused = c;
		d->refused_addr = to;
		return CURL_SOCKET_BAD;
	}
	return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

struct take_ctx {
	struct push *p;
	struct push_endpoint *e;
};

/* Starts the POST of one outbox item. */
static int start_one(const struct store_outbox_item *it, void *ctx)
{
	struct take_ctx *t = ctx;
	struct push *p = t->p;
	struct delivery *d = calloc(1, sizeof(*d));
	CURL *easy = d ? easy_get(p) : NULL;
	if (!easy || !(d->body = strdup(it->body))) {
		if (easy)
			easy_put(p, easy);
		free(d);
		goto later;
	}
	LIST_PUSH(p->deliveries, d);
	d->p = p;
	d->ep = t->e;
	d->id = it->id;
	d->attempts = it->attempts;
	d->easy = easy;
	curl_easy_setopt(easy, CURLOPT_URL, it->url);
	curl_easy_setopt(easy, CURLOPT_POSTFIELDS, d->body);
	curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE, (long)strlen(d->body));
	curl_easy_setopt(easy, CURLOPT_PRIVATE, d);
	curl_easy_setopt(easy, CURLOPT_OPENSOCKETDATA, d);
	if (curl_multi_add_handle(p->multi, easy) != CURLM_OK) {
		easy_put(p, easy);
		delivery_free(d);
		goto later;
	}
	p->stats.in_flight++;
	t->e->project->in_flight++;
	t->e->in_flight++;
	return 0;
later:; /* out of memory, or curl refused the handle: the item waits a moment */
	int64_t when = p->now_ms() + BACKOFF_FIRST_MS;
	if (store_outbox_retry(p->store, it->id, it->attempts, when) == 0 && when < t->e->due)
		t->e->due = when;
	return 0;
}

static void on_pump_timer(uv_timer_t *t)
{
	pump(t->data);
}

static void on_pump_check(uv_check_t *c)
{
	struct push *p = c->data;
	flush_done(p);
	if (p->pump_soon)
		pump(p);
	uv_idle_stop(&p->pump_idle);
}

static unsigned min_u(unsigned a, unsigned b)
{
	return a < b ? a : b;
}

/* The ids of e's rows that are in flight or delivered and not yet deleted, in p->busy:
 * the outbox's take skips them (there are no leases on disk; see store_outbox_take_except).
 * At most max_in_flight of each. */
static size_t busy_ids(struct push *p, const struct push_endpoint *e)
{
	size_t n = 0;
	for (const struct delivery *d = p->deliveries; d; d = d->next)
		if (d->ep == e)
			p->busy[n++] = d->id;
	for (unsigned i = 0; i < p->done_count; i++)
		if (p->done_eps[i] == e)
			p->busy[n++] = p->done_ids[i];
	return n;
}

/* Starts what may start of one rule; returns when it wants the pump again (INT64_MAX:
 * when a transfer ends). */
static int64_t pump_endpoint(struct push *p, struct push_endpoint *e, int64_t now)
{
	struct push_project *proj = e->project;
	if (e->due == INT64_MAX)
		return INT64_MAX;
	int64_t wake;
	unsigned room = push_breaker_room(p, e, now, &wake);
	if (room == 0)
		return wake; /* cooling (its items untouched), or a probe under way */
	if (e->due > now)
		return e->due;
	if (p->stats.in_flight >= p->cfg.max_in_flight ||
	    proj->in_flight >= p->cfg.project_in_flight)
		return INT64_MAX; /* a slot frees when a transfer ends, which pumps */
	room = min_u(room, p->cfg.max_in_flight - (unsigned)p->stats.in_flight);
	room = min_u(room, p->cfg.project_in_flight - (unsigned)proj->in_flight);
	room = min_u(room, STORE_OUTBOX_TAKE_MAX);
	struct take_ctx t = { p, e };
	size_t nbusy = busy_ids(p, e);
	int n = store_outbox_take_except(p->store, proj->id, e->rule_id, now, (int)room, p->busy,
					 nbusy, start_one, &t);
	if (n < 0)
		return now + BACKOFF_FIRST_MS; /* the store failed (logged): try again soon */
	if ((unsigned)n < room) {
		/* Fewer than asked: nothing else is due now; when is the next? */
		int64_t when;
		nbusy = busy_ids(p, e); /* with what just started */
		e->due = store_outbox_next_due_except(p->store, proj->id, e->rule_id, p->busy, nbusy,
						      &when) == 0
				 ? when
				 : INT64_MAX;
		if (e->due <= now)
			e->due = now + 1; /* what failed to start just now waits a moment */
	}
	return e->due > now ? e->due : INT64_MAX;
}

/* Starts what is due, rule by rule round robin (so no rule always gets the free slots
 * first); wakes up again for the next due item or breaker probe. */
static void pump(struct push *p)
{
	p->pump_soon = false;
	if (p->closing)
		return;
	int64_t now = p->now_ms(), wake = INT64_MAX;
	size_t n = p->eps_count;
	for (size_t k = 0; k < n; k++) {
		int64_t w = pump_endpoint(p, p->eps[(p->eps_cursor + k) % n], now);
		if (w < wake)
			wake = w;
	}
	if (n)
		p->eps_cursor = (p->eps_cursor + 1) % n;
	push_endpoints_collect(p);
	if (wake == INT64_MAX)
		uv_timer_stop(&p->pump_timer);
	else
		uv_timer_start(&p->pump_timer, on_pump_timer, wake > now ? (uint64_t)(wake - now) : 1,
			       0);
}

/* Pumps once for all the events of this loop turn, in its check phase: a burst of events
 * then costs one outbox query, not one each. */
void push_pump_soon(struct push *p)
{
	if (p->pump_soon || p->closing)
		return;
	p->pump_soon = true;
	check_soon(p);
}

/* At start: the projects' and rules' counts from the rows the outbox holds. */
static int load_group(const char *project_id, const char *rule_id, int64_t rows,
		      int64_t next_ms, void *ctx)
{
	struct push *p = ctx;
	struct push_project *proj = push_project_find(p, project_id, true);
	struct push_endpoint *e = proj ? push_endpoint_find(p, proj, rule_id, true) : NULL;
	if (!e)
		return -ENOMEM;
	e->collectable = true; /* until an event shows its rule still exists */
	e->due = next_ms;
	e->backlog = rows;
	proj->outbox += rows;
	p->outbox_len += rows;
	return 0;
}

void push_config_defaults(struct push_config *c)
{
	if (!c->max_in_flight)
		c->max_in_flight = 16;
	if (!c->project_in_flight)
		c->project_in_flight = 8;
	if (c->project_in_flight > c->max_in_flight)
		c->project_in_flight = c->max_in_flight;
	if (!c->max_outbox)
		c->max_outbox = 100000;
	if (!c->project_outbox)
		c->project_outbox = 10000;
	if (!c->connect_timeout_ms)
		c->connect_timeout_ms = 3000;
	if (!c->timeout_ms)
		c->timeout_ms = 10000;
	if (!c->breaker_failures)
		c->breaker_failures = 5;
	if (!c->breaker_cooldown_ms)
		c->breaker_cooldown_ms = 30 * 1000;
	if (!c->max_rules)
		c->max_rules = PUSH_MAX_RULES_DEFAULT;
	if (!c->breaker_cooldown_max_ms)
		c->breaker_cooldown_max_ms = 600 * 1000;
	if (c->breaker_cooldown_max_ms < c->breaker_cooldown_ms)
		c->breaker_cooldown_max_ms = c->breaker_cooldown_ms;
}

int push_create(struct push **out, uv_loop_t *loop, struct store *store,
		const struct push_config *cfg, int64_t (*now_ms)(void))
{
	struct push *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	if (push_tables_init(p) != 0 || curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		push_tables_destroy(p);
		free(p);
		return -ENOMEM;
	}
	if (!(p->multi = curl_multi_init())) {
		curl_global_cleanup();
		push_tables_destroy(p);
		free(p);
		return -ENOMEM;
	}
	p->loop = loop;
	p->store = store;
	p->now_ms = now_ms;
	p->cfg = *cfg;
	push_config_defaults(&p->cfg);
	p->policy.allow_private = p->cfg.allow_private;
	if (token_random_hex(p->request_prefix, sizeof(p->request_prefix), 8) != 0)
		snprintf(p->request_prefix, sizeof(p->request_prefix), "%016llx",
			 (unsigned long long)now_ms());
	p->headers = curl_slist_append(NULL, "Content-Type: application/json");
	p->idle = calloc(p->cfg.max_in_flight, sizeof(*p->idle));
	p->done_ids = calloc(p->cfg.max_in_flight, sizeof(*p->done_ids));
	p->done_eps = calloc(p->cfg.max_in_flight, sizeof(*p->done_eps));
	p->busy = calloc(2 * (size_t)p->cfg.max_in_flight, sizeof(*p->busy));
	if (!p->headers || !p->idle || !p->done_ids || !p->done_eps || !p->busy) {
		free(p->busy);
		curl_slist_free_all(p->headers);
		free(p->idle);
		free(p->done_ids);
		free(p->done_eps);
		curl_multi_cleanup(p->multi);
		curl_global_cleanup();
		push_tables_destroy(p);
		free(p);
		return -ENOMEM;
	}
	/* Idle keep-alive connections kept: one per slot. A rule's endpoint gets at most its
	 * project's slots of them (--push-project-in-flight), each reused POST after POST. */
	curl_multi_setopt(p->multi, CURLMOPT_MAXCONNECTS, (long)p->cfg.max_in_flight);
	curl_multi_setopt(p->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
	curl_multi_setopt(p->multi, CURLMOPT_SOCKETDATA, p);
	curl_multi_setopt(p->multi, CURLMOPT_TIMERFUNCTION, on_timer_change);
	curl_multi_setopt(p->multi, CURLMOPT_TIMERDATA, p);
	uv_timer_init(loop, &p->curl_timer);
	uv_timer_init(loop, &p->pump_timer);
	uv_check_init(loop, &p->pump_check);
	uv_idle_init(loop, &p->pump_idle);
	p->curl_timer.data = p->pump_timer.data = p->pump_check.data = p->pump_idle.data = p;
	p->handles_open = 4;
	uv_check_start(&p->pump_check, on_pump_check);
	uv_unref((uv_handle_t *)&p->pump_check); /* it alone keeps no loop running */
	store_outbox_reset(p->store);
	if (store_outbox_groups(p->store, load_group, p) != 0)
		LOG_ERROR("push", "the outbox was not read; what it holds waits for a restart");
	*out = p;
	pump(p);
	return 0;
}

void push_destroy(struct push *p)
{
	if (!p)
		return;
	flush_done(p); /* or they would go again at the next start */
	free(p->done_ids);
	free(p->done_eps);
	free(p->busy);
	p->closing = true;
	/* Removing the handles makes curl ask us to stop watching their sockets; whatever it
	 * still has open is closed here. */
	while (p->deliveries) {
		struct delivery *d = p->deliveries;
		curl_multi_remove_handle(p->multi, d->easy);
		curl_easy_cleanup(d->easy);
		delivery_free(d);
	}
	while (p->idle_count)
		curl_easy_cleanup(p->idle[--p->idle_count]);
	free(p->idle);
	curl_multi_cleanup(p->multi);
	curl_slist_free_all(p->headers);
	while (p->watches) {
		struct watch *w = p->watches;
		LIST_UNLINK(w);
		uv_poll_stop(&w->poll);
		uv_close((uv_handle_t *)&w->poll, handle_closed);
	}
	curl_global_cleanup();
	push_tables_destroy(p);
	uv_close((uv_handle_t *)&p->curl_timer, handle_closed);
	uv_close((uv_handle_t *)&p->pump_timer, handle_closed);
	uv_close((uv_handle_t *)&p->pump_check, handle_closed);
	uv_close((uv_handle_t *)&p->pump_idle, handle_closed);
}

void push_set_api_addr(struct push *p, const struct addr *api)
{
	p->policy.api = *api;
}

int push_check_url(const struct push *p, const char *url, size_t max_len, char *err,
		   size_t cap)
{
	return push_target_check_url(p ? &p->policy : NULL, url, max_len, err, cap);
}

unsigned push_max_rules(const struct push *p)
{
	return p ? p->cfg.max_rules : PUSH_MAX_RULES_DEFAULT;
}

void push_rule_deleted(struct push *p, const char *project_id, const char *rule_id)
{
	struct push_project *proj = push_project_find(p, project_id, false);
	struct push_endpoint *e = proj ? push_endpoint_find(p, proj, rule_id, false) : NULL;
	if (e) {
		e->collectable = true;
		push_endpoints_collect(p);
	}
}

const struct push_stats *push_stats(const struct push *p)
{
	return &p->stats;
}
