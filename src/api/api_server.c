/*
 * api_server: libmicrohttpd served from the daemon's libuv loop. See api.h.
 *
 * docs/architecture.md wants one event-loop thread owning all device state, so MHD runs
 * without a thread of its own: in its external epoll mode it keeps one epoll fd for the
 * listening socket and every connection, the loop watches that fd with a uv_poll, and
 * each readiness calls MHD_run, which does not block. MHD also has deadlines (connection
 * timeouts, connections it must come back to without new readiness), so after each run a
 * uv_timer is re-armed from MHD_get_timeout — and never later than a second, a cheap guard
 * against a missed wake-up. What requests mean is api_http.c's business.
 *
 * A third handle, the sweep timer, ticks every second for what MHD does not do: it ends
 * connections whose request is late (api_conn.c) and sends event streams their heartbeat
 * (api_events.c).
 */
#include "api/api_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>

#include "util/log.h"

#define API_TIMER_FALLBACK_MS 1000
#define API_SWEEP_MS 1000
#define API_MHD_LOG_BURST 10
#define API_MHD_LOG_WINDOW_MS 10000
/* Idle time that closes a connection being answered (a reader that stopped reading);
 * requests themselves have the shorter limits.request_timeout_s. */
#define API_CONNECTION_TIMEOUT_S 30

static void on_timer(uv_timer_t *timer);

/*
 * MHD's own complaints (a bad request line, a client that closed mid-request, out of
 * memory) go to our log — at most API_MHD_LOG_BURST in each API_MHD_LOG_WINDOW_MS, since
 * most are about one client's connection and a client can cause them by the thousand.
 */
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	struct api_server *api = cls;
	char line[256];
	uint64_t now = uv_now(api->loop);
	if (now - api->mhd_log_window_ms >= API_MHD_LOG_WINDOW_MS) {
		if (api->mhd_log_suppressed)
			LOG_WARN("api", "microhttpd: %u more messages not logged",
				 api->mhd_log_suppressed);
		api->mhd_log_window_ms = now;
		api->mhd_log_count = 0;
		api->mhd_log_suppressed = 0;
	}
	if (api->mhd_log_count == API_MHD_LOG_BURST) {
		api->mhd_log_suppressed++;
		return;
	}
	api->mhd_log_count++;
	vsnprintf(line, sizeof(line), fmt, ap);
	size_t len = strlen(line);
	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		line[--len] = '\0';
	LOG_WARN("api", "microhttpd: %s", line);
}

/* Lets MHD do whatever is ready, then sleeps until its next deadline. */
static void run_mhd(struct api_server *api)
{
	MHD_UNSIGNED_LONG_LONG mhd_ms;
	uint64_t ms = API_TIMER_FALLBACK_MS;

	MHD_run(api->mhd);
	if (MHD_get_timeout(api->mhd, &mhd_ms) == MHD_YES && mhd_ms < ms)
		ms = mhd_ms;
	uv_timer_start(&api->timer, on_timer, ms, 0);
}

static void on_poll(uv_poll_t *poll, int status, int events)
{
	struct api_server *api = poll->data;
	(void)events;
	if (status < 0)
		LOG_WARN("api", "poll on the HTTP epoll fd: %s", uv_strerror(status));
	run_mhd(api);
}

static void on_timer(uv_timer_t *timer)
{
	run_mhd(timer->data);
}

static void on_sweep(uv_timer_t *timer)
{
	struct api_server *api = timer->data;
	uint64_t now = uv_now(api->loop);
	api_conn_sweep(api);
	api_events_expire(api, (int64_t)time(NULL));
	if (now >= api->next_heartbeat_ms) {
		api_events_heartbeat(api);
		api->next_heartbeat_ms = now + (uint64_t)api->limits.heartbeat_s * 1000;
	}
	/* What was shut down or woken is MHD's to see now. */
	run_mhd(api);
}

/* The handles share the struct; the last one closed frees it. */
static void on_close(uv_handle_t *handle)
{
	struct api_server *api = handle->data;
	if (--api->open_handles == 0)
		free(api);
}

static int read_local_addr(struct api_server *api)
{
	const union MHD_DaemonInfo *info =
		MHD_get_daemon_info(api->mhd, MHD_DAEMON_INFO_LISTEN_FD);
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (!info)
		return -EIO;
	if (getsockname(info->listen_fd, (struct sockaddr *)&ss, &len) != 0)
		return -errno;
	return addr_from_sockaddr(&api->local, (struct sockaddr *)&ss);
}

int api_server_start(struct api_server **out, uv_loop_t *loop, const struct addr *bind,
		     const struct api_deps *deps)
{
	struct sockaddr_storage ss;
	unsigned int flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME;
	const union MHD_DaemonInfo *info;
	int rc;

	if (!out || !loop || !bind || !deps || !deps->store)
		return -EINVAL;
	struct api_server *api = calloc(1, sizeof(*api));
	if (!api)
		return -ENOMEM;
	api->loop = loop;
	api->deps = *deps;
	api->limits = deps->limits;
	api_limits_defaults(&api->limits);
	api->next_heartbeat_ms = uv_now(loop) + (uint64_t)api->limits.heartbeat_s * 1000;

	memset(&ss, 0, sizeof(ss));
	addr_to_sockaddr(bind, &ss);
	if (bind->family == AF_INET6)
		flags |= MHD_USE_IPv6;
	/* MHD reports no error code; a failed bind leaves its errno behind. */
	errno = 0;
	/* The logger goes first, so that MHD's complaints about the rest reach it. */
	api->mhd = MHD_start_daemon(
		flags, bind->port, NULL, NULL, api_http_handle, api, MHD_OPTION_EXTERNAL_LOGGER,
		mhd_log, api, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned int)api->limits.max_connections,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)API_CONNECTION_TIMEOUT_S,
		MHD_OPTION_NOTIFY_CONNECTION, api_conn_notify, api,
		MHD_OPTION_NOTIFY_COMPLETED, api_http_completed, api, MHD_OPTION_END);
	if (!api->mhd) {
		rc = errno > 0 ? -errno : -EIO;
		free(api);
		return rc;
	}
	rc = read_local_addr(api);
	info = MHD_get_daemon_info(api->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	if (rc == 0 && !info)
		rc = -EIO;
	if (rc == 0)
		rc = uv_poll_init(loop, &api->poll, info->epoll_fd);
	if (rc != 0) {
		MHD_stop_daemon(api->mhd);
		free(api);
		return rc;
	}
	uv_timer_init(loop, &api->timer);
	uv_timer_init(loop, &api->sweep);
	api->poll.data = api;
	api->timer.data = api;
	api->sweep.data = api;
	api->open_handles = 3;

	rc = uv_poll_start(&api->poll, UV_READABLE, on_poll);
	if (rc != 0) {
		api_server_stop(api);
		return rc;
	}
	/* The first run picks up anything already pending and arms the timer. */
	uv_timer_start(&api->timer, on_timer, 0, 0);
	uv_timer_start(&api->sweep, on_sweep, API_SWEEP_MS, API_SWEEP_MS);
	*out = api;
	return 0;
}

void api_server_kick(struct api_server *api)
{
	uv_timer_start(&api->timer, on_timer, 0, 0);
}

int api_server_local_addr(const struct api_server *api, struct addr *out)
{
	if (!api || !out)
		return -EINVAL;
	*out = api->local;
	return 0;
}

void api_server_stop(struct api_server *api)
{
	if (!api)
		return;
	/* The poll goes first: MHD_stop_daemon closes the fd it watches. */
	uv_poll_stop(&api->poll);
	uv_close((uv_handle_t *)&api->poll, on_close);
	uv_timer_stop(&api->timer);
	uv_close((uv_handle_t *)&api->timer, on_close);
	uv_timer_stop(&api->sweep);
	uv_close((uv_handle_t *)&api->sweep, on_close);
	/* MHD must not stop with connections suspended: answer the waiting calls first, and
	 * give MHD a few turns to write those answers (their sockets are writable at once). */
	bool suspended = api->deferred || api->subscribers || api->held;
	/* From here no answer is held: the loop will not commit again, so each MHD run below
	 * commits what came before it itself. */
	api->stopping = true;
	if (api->held)
		api_server_committed(api, store_batch_commit(api->deps.store));
	if (suspended) {
		api_http_abort_deferred(api);
		api_events_close_all(api);
		for (int i = 0; i < 4; i++) {
			if (store_batch_commit(api->deps.store) != 0)
				LOG_ERROR("api", "writes before shutdown were not committed");
			MHD_run(api->mhd);
		}
	}
	/* Completion callbacks of open connections run here; api lives until the closes. */
	MHD_stop_daemon(api->mhd);
	api->mhd = NULL;
}
