/*
 * api_conn: the API's HTTP connections, as libmicrohttpd opens and closes them — so that no
 * client can hold the API for everyone else (docs/api.md "Limits").
 *
 * MHD's own connection timeout is an idle timeout: a byte every few seconds keeps a
 * connection forever, and 256 such connections take every slot while real clients wait in
 * the listen backlog. So each connection is tracked from MHD_CONNECTION_NOTIFY_STARTED to
 * _CLOSED, with the time it began to owe us its current request:
 *
 *  - a request must arrive whole within request_timeout_s of the connection's start (or of
 *    the previous answer on a kept-alive connection);
 *  - one client address holds at most max_connections_per_ip connections;
 *  - when fewer than api_limits_reserve() connections are free, the oldest connection
 *    still sending its request is closed, so a new client always gets in.
 *
 * A connection is ended by shutdown(2) on its socket: MHD sees the end on its next read
 * and closes it the usual way (only MHD ever closes the fd). Connections that have their
 * request — being answered, waiting for a device, streaming events — are never picked.
 *
 * It also watches a suspended connection's socket for the peer's close (api_conn_watch):
 * MHD takes suspended connections out of its epoll set, so without that an event stream
 * whose client went away would hold its slot until the next event.
 */
#include "api/api_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "util/log.h"

struct api_conn {
	struct api_conn *next, *prev; /* api->conns, in the order they opened */
	struct api_server *api;
	int fd;
	struct addr peer;
	uint64_t since_ms;  /* when it began to owe us its current request */
	unsigned requests;  /* answered so far */
	bool receiving;     /* its current request is not all here */
	size_t progress;    /* bytes of a streamed upload since since_ms last moved */
	bool closing;       /* shut down by us; MHD has yet to close it */
	bool watch_init;
	uv_poll_t watch;    /* api_conn_watch */
	void (*gone)(void *ctx);
	void *gone_ctx;
};

void api_limits_defaults(struct api_limits *l)
{
	if (!l->max_connections)
		l->max_connections = 256;
	if (!l->max_connections_per_ip)
		l->max_connections_per_ip = 128;
	if (!l->request_timeout_s)
		l->request_timeout_s = 10;
	if (!l->max_streams)
		l->max_streams = 64;
	if (!l->max_streams_per_token)
		l->max_streams_per_token = 16;
	if (!l->heartbeat_s)
		l->heartbeat_s = 15;
}

unsigned api_limits_reserve(const struct api_limits *l)
{
	unsigned r = l->max_connections / 16;
	return r < 2 ? 2 : r;
}

static bool same_ip(const struct addr *a, const struct addr *b)
{
	return a->family == b->family && memcmp(a->ip, b->ip, sizeof(a->ip)) == 0;
}

/*
 * Ends c: a connection that has not sent a byte of a request we answered yet is told why
 * (a client waiting for an answer learns it was too slow); a kept-alive one between
 * requests is closed silently, as clients expect of idle connections. Then the socket is
 * shut down, and MHD closes it on its next turn.
 */
static void conn_end(struct api_conn *c, uint64_t *counter, unsigned status, const char *why)
{
	char body[256], msg[512];
	if (c->closing)
		return;
	c->closing = true;
	(*counter)++;
	if (c->requests == 0 && status) {
		int b = snprintf(body, sizeof(body),
				 "{\"error_code\":\"IOTDA.000%u\",\"error_msg\":\"%s\"}\n", status, why);
		int m = snprintf(msg, sizeof(msg),
				 "HTTP/1.1 %u %s\r\nContent-Type: application/json\r\n"
				 "Content-Length: %d\r\nConnection: close\r\n\r\n%s",
				 status, status == 408 ? "Request Timeout" : "Too Many Requests", b,
				 body);
		/* Best effort: the socket buffer of a connection that sent little is empty. */
		if (m > 0 && (size_t)m < sizeof(msg) &&
		    send(c->fd, msg, (size_t)m, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
			LOG_DEBUG("api", "telling a connection why it ends: %s", strerror(errno));
	}
	shutdown(c->fd, SHUT_RDWR);
}

/* The connection that has owed us its request the longest, of ip when not NULL. */
static struct api_conn *oldest_receiving(struct api_server *api, const struct addr *ip)
{
	struct api_conn *best = NULL;
	for (struct api_conn *c = api->conns; c; c = c->next) {
		if (!c->receiving || c->closing || (ip && !same_ip(&c->peer, ip)))
			continue;
		if (!best || c->since_ms < best->since_ms)
			best = c;
	}
	return best;
}

/* Makes room for c before it joins the list: its address's share, then the reserve. */
static void conn_admit(struct api_server *api, struct api_conn *c)
{
	const struct api_limits *l = &api->limits;
	unsigned from_ip = 0, live = 0;
	char ip[INET6_ADDRSTRLEN], why[160];

	for (struct api_conn *o = api->conns; o; o = o->next) {
		if (o->closing)
			continue;
		live++;
		from_ip += same_ip(&o->peer, &c->peer);
	}
	if (from_ip >= l->max_connections_per_ip) {
		struct api_conn *victim = oldest_receiving(api, &c->peer);
		if (victim) {
			conn_end(victim, &api->closed_per_ip, 408,
				 "the request was not received in time");
			live--;
		} else {
			/* All of its connections are busy (answers, streams, device calls). */
			if (!inet_ntop(c->peer.family, c->peer.ip, ip, sizeof(ip)))
				snprintf(ip, sizeof(ip), "this address");
			snprintf(why, sizeof(why), "too many connections from %s (at most %u)", ip,
				 l->max_connections_per_ip);
			conn_end(c, &api->closed_per_ip, 429, why);
			return;
		}
	}
	if (live + 1 + api_limits_reserve(l) > l->max_connections) {
		struct api_conn *victim = oldest_receiving(api, NULL);
		if (victim)
			conn_end(victim, &api->closed_reserve, 408,
				 "the request was not received in time");
	}
}

static void conn_open(struct api_server *api, struct MHD_Connection *mhd, void **socket_context)
{
	const union MHD_ConnectionInfo *fd =
		MHD_get_connection_info(mhd, MHD_CONNECTION_INFO_CONNECTION_FD);
	const union MHD_ConnectionInfo *peer =
		MHD_get_connection_info(mhd, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	struct api_conn *c = calloc(1, sizeof(*c));

	/* Untracked, it is still served; only the limits do not see it. */
	if (!c || !fd || !peer || addr_from_sockaddr(&c->peer, peer->client_addr) != 0) {
		free(c);
		return;
	}
	c->api = api;
	c->fd = fd->connect_fd;
	c->since_ms = uv_now(api->loop);
	c->receiving = true;
	conn_admit(api, c);
	c->prev = api->conns_tail;
	if (api->conns_tail)
		api->conns_tail->next = c;
	else
		api->conns = c;
	api->conns_tail = c;
	api->conn_count++;
	*socket_context = c;
}

static void on_watch_closed(uv_handle_t *handle)
{
	free(handle->data);
}

static void conn_close(struct api_server *api, struct api_conn *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		api->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	else
		api->conns_tail = c->prev;
	api->conn_count--;
	/* MHD closes the fd after this returns, so the watch stops now. MHD destroys a
	 * connection's response (whose owner called api_conn_unwatch) before it reports the
	 * connection closed, so nobody is waiting on gone any more. */
	c->gone = NULL;
	if (c->watch_init) {
		uv_poll_stop(&c->watch);
		uv_close((uv_handle_t *)&c->watch, on_watch_closed);
	} else {
		free(c);
	}
}

void api_conn_notify(void *cls, struct MHD_Connection *mhd, void **socket_context,
		     enum MHD_ConnectionNotificationCode toe)
{
	struct api_server *api = cls;
	if (toe == MHD_CONNECTION_NOTIFY_STARTED)
		conn_open(api, mhd, socket_context);
	else if (toe == MHD_CONNECTION_NOTIFY_CLOSED && *socket_context) {
		conn_close(api, *socket_context);
		*socket_context = NULL;
	}
}

struct api_conn *api_conn_of(struct MHD_Connection *mhd)
{
	const union MHD_ConnectionInfo *info =
		MHD_get_connection_info(mhd, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return info ? info->socket_context : NULL;
}

void api_conn_request_received(struct MHD_Connection *mhd)
{
	struct api_conn *c = api_conn_of(mhd);
	if (c)
		c->receiving = false;
}

void api_conn_request_done(struct MHD_Connection *mhd)
{
	struct api_conn *c = api_conn_of(mhd);
	if (!c)
		return;
	/* A kept-alive connection owes us its next request from now on. */
	c->requests++;
	c->receiving = true;
	c->progress = 0;
	c->since_ms = uv_now(c->api->loop);
}

/*
 * A streamed upload (already authenticated: api_http.c calls this only while a route
 * writes the body somewhere) may take longer than request_timeout_s: a big package over a
 * slow link. Its deadline restarts each time API_UPLOAD_PROGRESS_BYTES more arrived, so a
 * transfer that keeps flowing is never cut, while one that trickles slower than that per
 * request_timeout_s is ended as any late request is.
 */
void api_conn_request_progress(struct MHD_Connection *mhd, size_t bytes)
{
	struct api_conn *c = api_conn_of(mhd);
	if (!c || !c->receiving)
		return;
	c->progress += bytes;
	if (c->progress >= API_UPLOAD_PROGRESS_BYTES) {
		c->progress = 0;
		c->since_ms = uv_now(c->api->loop);
	}
}

void api_conn_sweep(struct api_server *api)
{
	uint64_t now = uv_now(api->loop);
	uint64_t limit = (uint64_t)api->limits.request_timeout_s * 1000;
	char why[96];
	snprintf(why, sizeof(why), "the request was not received within %u s",
		 api->limits.request_timeout_s);
	for (struct api_conn *c = api->conns; c; c = c->next) {
		if (c->receiving && !c->closing && now - c->since_ms >= limit)
			conn_end(c, &api->closed_deadline, 408, why);
	}
}

static void on_watch(uv_poll_t *poll, int status, int events)
{
	struct api_conn *c = poll->data;
	void (*gone)(void *ctx) = c->gone;
	(void)status;
	(void)events;
	/* Only UV_DISCONNECT (or an error) is asked for: the peer closed or reset. */
	uv_poll_stop(poll);
	c->gone = NULL;
	if (gone)
		gone(c->gone_ctx);
}

int api_conn_watch(struct api_conn *c, unsigned dead_after_ms, void (*gone)(void *ctx),
		   void *ctx)
{
	int rc;
	if (!c)
		return -EINVAL;
	if (dead_after_ms) {
		/* Data the peer has not acknowledged for this long ends the connection, so a
		 * peer that vanished without a FIN is noticed at the next heartbeat. */
		unsigned v = dead_after_ms;
		setsockopt(c->fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &v, sizeof(v));
	}
	if (!c->watch_init) {
		rc = uv_poll_init(c->api->loop, &c->watch, c->fd);
		if (rc != 0)
			return rc;
		c->watch.data = c;
		c->watch_init = true;
	}
	c->gone = gone;
	c->gone_ctx = ctx;
	return uv_poll_start(&c->watch, UV_DISCONNECT, on_watch);
}

void api_conn_unwatch(struct api_conn *c)
{
	if (!c || !c->watch_init)
		return;
	uv_poll_stop(&c->watch);
	c->gone = NULL;
}

void api_conn_metrics(const struct api_server *api, FILE *f)
{
	fprintf(f,
		"# HELP lwm2md_http_connections Open connections to the REST API.\n"
		"# TYPE lwm2md_http_connections gauge\n"
		"lwm2md_http_connections %u\n"
		"# HELP lwm2md_http_connections_closed_total Connections the REST API closed "
		"itself: a request not received within --http-request-timeout, over "
		"--http-max-connections-per-ip, or the oldest unfinished request when few "
		"connections were free.\n"
		"# TYPE lwm2md_http_connections_closed_total counter\n"
		"lwm2md_http_connections_closed_total{reason=\"request_timeout\"} %" PRIu64 "\n"
		"lwm2md_http_connections_closed_total{reason=\"per_ip\"} %" PRIu64 "\n"
		"lwm2md_http_connections_closed_total{reason=\"reserve\"} %" PRIu64 "\n"
		"# HELP lwm2md_http_calls_abandoned_total Calls waiting for a device or a codec "
		"whose client closed the connection first.\n"
		"# TYPE lwm2md_http_calls_abandoned_total counter\n"
		"lwm2md_http_calls_abandoned_total %" PRIu64 "\n",
		api->conn_count, api->closed_deadline, api->closed_per_ip, api->closed_reserve,
		api->deferred_gone);
}
