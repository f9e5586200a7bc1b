/*
 * daemon: wiring. CoAP requests go to the LwM2M server (or are a Send), responses that
 * match no request are notifications, registration changes become events; a 50 ms tick
 * drives retransmissions, DTLS timers, lifetimes and the registry's write-behind.
 */
#include "daemon/daemon.h"
#include "daemon/daemon_bootstrap.h"
#include "daemon/daemon_firmware.h"
#include "daemon/daemon_observations.h"
#include "firmware/fw_campaign.h"
#include "firmware/fw_engine.h"
#include "firmware/fw_serve.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "content/content.h"
#include "model/model.h"
#include "util/base64.h"
#include "util/log.h"
#include "util/str.h"
#include "util/timefmt.h"

#define TICK_MS 50
#define FLUSH_EVERY_TICKS 2  /* registrations reach the store within 100 ms */
#define SWEEP_EVERY_TICKS 20 /* activation timeouts are checked every second */

int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

uint64_t clock_ms(void)
{
	return (uint64_t)now_ms();
}

/* The device behind an endpoint, for events: 0 with project and device id, or -1. */
static int event_device(struct daemon *d, const char *node_id, struct store_device *dev)
{
	return store_device_get_by_node_id(d->store, node_id, dev) == 0 ? 0 : -1;
}

/* Is req an LwM2M 1.1 Send (POST /dp)? */
static bool is_send(const struct coap_msg *req)
{
	const struct coap_option *o = coap_msg_find_option(req, COAP_OPTION_URI_PATH);
	return req->code == COAP_CODE_POST && o && o->len == 2 && memcmp(o->value, "dp", 2) == 0 &&
	       coap_msg_count_options(req, COAP_OPTION_URI_PATH) == 1;
}

/* Core §6.4.6 (Send): a registered device reports values on its own. It must be
 * registered from this address (over DTLS: as its identity); the values must decode. */
static uint8_t handle_send(struct listener *l, const char *identity, const struct addr *peer,
			   const struct coap_msg *req)
{
	struct daemon *d = l->d;
	struct lwm2m_registration *reg =
		identity ? lwm2m_server_find_endpoint(d->lwm2m, identity)
			 : lwm2m_server_find_peer(d->lwm2m, l->transport, peer);
	if (!reg || reg->transport != l->transport) {
		char p[ADDR_STR_MAX];
		d->sends_refused++;
		LOG_WARN_RATE("lwm2m", "Send refused", "Send from %s refused: not registered",
			      addr_format(peer, p));
		return COAP_CODE_FORBIDDEN;
	}
	uint32_t ct;
	if (coap_msg_get_uint_option(req, COAP_OPTION_CONTENT_FORMAT, &ct) != 0 ||
	    (ct != CONTENT_SENML_JSON && ct != CONTENT_SENML_CBOR))
		return COAP_CODE_UNSUPPORTED_CONTENT_FORMAT;
	struct lwm2m_values values;
	struct lwm2m_path root = { .len = 0 };
	lwm2m_values_init(&values);
	int rc = content_decode((uint16_t)ct, &root, req->payload, req->payload_len,
				model_type_of, NULL, &values);
	lwm2m_values_free(&values);
	if (rc == -ENOTSUP)
		return COAP_CODE_UNSUPPORTED_CONTENT_FORMAT;
	if (rc != 0)
		return COAP_CODE_BAD_REQUEST;
	d->sends++;
	struct store_device dev;
	if (d->push && event_device(d, reg->endpoint, &dev) == 0) {
		json_t *header = iot_push_header(&dev);
		char *b64 = malloc(BASE64_ENCODED_LEN(req->payload_len) + 1);
		if (b64) {
			base64_encode(req->payload, req->payload_len, b64);
			push_event(d->push, dev.project_id, "device.message", "report", header,
				   json_pack("{s:s, s:i}", "content", b64, "content_format", (int)ct));
		}
		free(b64);
		json_decref(header);
	}
	if (api_server_has_subscribers(d->api) && event_device(d, reg->endpoint, &dev) == 0)
		api_server_publish_send(d->api, dev.project_id, dev.device_id, reg->endpoint,
					(int)ct, req->payload, req->payload_len);
	return COAP_CODE_CHANGED;
}

/* The device behind peer just spoke: a queue-mode device is awake now, and whatever was
 * held for it goes out. */
static void device_seen(struct daemon *d, enum lwm2m_transport transport, const char *identity,
			const struct addr *peer)
{
	struct lwm2m_registration *reg =
		identity ? lwm2m_server_find_endpoint(d->lwm2m, identity)
			 : lwm2m_server_find_peer(d->lwm2m, transport, peer);
	if (!reg || reg->transport != transport)
		return;
	iot_devices_seen(d->devices, reg, now_ms());
	if (reg->queue_mode && d->requests)
		lwm2m_requests_wake(d->requests, reg->endpoint);
	if (d->fw_engine)
		fw_engine_device_spoke(d->fw_engine, reg->endpoint);
}

static void on_request(void *ctx, const struct addr *peer, const struct coap_msg *req,
		       struct coap_msg *resp, uint64_t now)
{
	struct listener *l = ctx;
	const char *identity = l->dtls ? dtls_server_peer_identity(l->dtls, peer) : NULL;
	if (is_send(req))
		resp->code = handle_send(l, identity, peer, req);
	else if (fw_serve_wants(req) && l->d->fw_engine)
		fw_serve_handle(l->d->fw_engine, l->d->lwm2m, l->transport, identity, peer, req,
				resp, (int64_t)now);
	else
		lwm2m_server_handle(l->d->lwm2m, l->transport, identity, peer, req, resp,
				    (int64_t)now);
	device_seen(l->d, l->transport, identity, peer);
}

/* CoAP datagrams out: straight to the socket, or into the peer's DTLS session. */
static void on_send(void *ctx, const struct addr *peer, const uint8_t *data, size_t len)
{
	struct listener *l = ctx;
	if (l->dtls)
		dtls_server_send(l->dtls, peer, data, len, (uint64_t)now_ms());
	else
		net_udp_send(l->udp, peer, data, len);
}

static void on_datagram(void *ctx, const struct addr *from, const uint8_t *data, size_t len)
{
	struct listener *l = ctx;
	if (l->dtls)
		dtls_server_input(l->dtls, from, data, len, (uint64_t)now_ms());
	else
		coap_ep_input(l->ep, from, data, len, (uint64_t)now_ms());
}

struct active_node {
	struct active_node *next;
	bool registered;
	char node_id[LWM2M_ENDPOINT_MAX + 1];
};

static void on_active_timer(uv_timer_t *t)
{
	struct daemon *d = t->data;
	while (d->active) {
		struct active_node *a = d->active;
		d->active = a->next;
		if (d->platform)
			iot_platform_device_active(d->platform, a->node_id, a->registered);
		if (a->registered && d->fw_engine)
			fw_engine_registered(d->fw_engine, a->node_id);
		free(a);
	}
}

static void queue_active(struct daemon *d, const char *node_id, bool registered)
{
	if (!d->platform)
		return;
	struct active_node *a = calloc(1, sizeof(*a));
	if (!a)
		return;
	a->registered = registered;
	str_copy(a->node_id, sizeof(a->node_id), node_id);
	a->next = d->active;
	d->active = a;
	uv_timer_start(&d->active_timer, on_active_timer, 0, 0);
}

static void on_iot_event(void *ctx, enum iot_event event, const struct lwm2m_registration *reg,
			 int reason)
{
	static const char *const names[] = { "registration", "update", "deregistration" };
	static const char *const reasons[] = {
		[LWM2M_DEREG_REQUESTED] = "requested", [LWM2M_DEREG_EXPIRED] = "expired",
		[LWM2M_DEREG_REPLACED] = "replaced",   [LWM2M_DEREG_REMOVED] = "removed",
	};
	struct daemon *d = ctx;
	struct store_device dev;
	if (event == IOT_EVENT_REGISTERED ||
	    (event == IOT_EVENT_UPDATED && d->platform &&
	     iot_platform_has_waiting(d->platform, reg->endpoint)))
		queue_active(d, reg->endpoint, event == IOT_EVENT_REGISTERED);
	if (event == IOT_EVENT_DEREGISTERED && d->platform)
		iot_platform_device_forget(d->platform, reg->endpoint);
	/* The device is read only when a rule of its project wants its status (the project
	 * is the registration's owner's). */
	const char *project = project_stats_id(reg->owner);
	if (event != IOT_EVENT_UPDATED && d->push &&
	    (!project || push_wants(d->push, project, "device.status", "update")) &&
	    event_device(d, reg->endpoint, &dev) == 0) {
		json_t *header = iot_push_header(&dev);
		char t[TIME_TEXT_MAX];
		time_format(now_ms() / 1000, t);
		push_event(d->push, dev.project_id, "device.status", "update", header,
			   json_pack("{s:s, s:s}", "status",
				     event == IOT_EVENT_REGISTERED ? "ONLINE" : "OFFLINE",
				     "last_online_time", t));
		json_decref(header);
	}
	/* Nobody listening costs nothing: no lookup, no JSON. */
	if (!api_server_has_subscribers(d->api) || event_device(d, reg->endpoint, &dev) != 0)
		return;
	char peer[ADDR_STR_MAX];
	json_t *e = json_pack("{s:s, s:s, s:s, s:s, s:I, s:s, s:s, s:s, s:s, s:I}", "event",
			      names[event], "device_id", dev.device_id, "node_id", reg->endpoint,
			      "registration_id", reg->id, "lifetime", (json_int_t)reg->lifetime,
			      "binding", reg->binding, "lwm2m_version", reg->version, "transport",
			      reg->transport == LWM2M_TRANSPORT_DTLS ? "dtls" : "udp",
			      "peer_address", addr_format(&reg->peer, peer), "time_ms",
			      (json_int_t)now_ms());
	if (!e)
		return;
	if (event == IOT_EVENT_REGISTERED && reg->links)
		json_object_set_new(e, "object_links", json_string(reg->links));
	if (event == IOT_EVENT_DEREGISTERED && reason >= 0 && reason <= LWM2M_DEREG_REMOVED)
		json_object_set_new(e, "reason", json_string(reasons[reason]));
	char *text = json_dumps(e, JSON_COMPACT);
	if (text)
		api_server_publish(d->api, dev.project_id, dev.device_id, names[event], text);
	free(text);
	json_decref(e);
}

/* A response matching no request in flight: a notification of one of our observations,
 * from the device that made it, or refused (RST) — which also ends an observation the
 * application cancelled passively (RFC 7641 §3.6). */
static int on_notification(void *ctx, const struct addr *peer, const struct coap_msg *msg,
			   uint64_t now)
{
	struct listener *l = ctx;
	struct daemon *d = l->d;
	if (!d->observations)
		return -ENOENT; /* shutting down */
	struct lwm2m_observation *o =
		lwm2m_observations_find_token(d->observations, msg->token, msg->token_len);
	if (!o)
		return -ENOENT;
	struct lwm2m_registration *reg = lwm2m_server_find_endpoint(d->lwm2m, o->node_id);
	if (o->cancelled || !reg || !addr_equal(&reg->peer, peer)) {
		lwm2m_observations_remove(d->observations, o);
		return -ECANCELED;
	}
	uint32_t ct, seq = 0;
	int format = coap_msg_get_uint_option(msg, COAP_OPTION_CONTENT_FORMAT, &ct) == 0 ? (int)ct
											: -1;
	coap_msg_get_uint_option(msg, COAP_OPTION_OBSERVE, &seq);
	/* A notification is the device speaking: a queue-mode device is awake now. */
	iot_devices_seen(d->devices, reg, now_ms());
	if (reg->queue_mode && d->requests)
		lwm2m_requests_wake(d->requests, reg->endpoint);
	o->notifications++;
	lwm2m_observation_record(o, msg->code, format, seq, msg->payload, msg->payload_len,
				 (int64_t)now);
	struct store_device dev;
	if (api_server_has_subscribers(d->api) && event_device(d, o->node_id, &dev) == 0)
		api_server_publish_notification(d->api, dev.project_id, dev.device_id, o);
	if (d->platform && COAP_CODE_CLASS(msg->code) == 2)
		iot_platform_notification(d->platform, o, format, msg->payload, msg->payload_len);
	if (d->fw_engine && COAP_CODE_CLASS(msg->code) == 2)
		fw_engine_notification(d->fw_engine, o, format, msg->payload, msg->payload_len);
	/* RFC 7641 §3.2: a notification that is not 2.xx ends the observation. */
	if (COAP_CODE_CLASS(msg->code) != 2)
		lwm2m_observations_remove(d->observations, o);
	return 0;
}

/* DTLS hooks: records out, decrypted CoAP in, keys from the registry. */
static void on_dtls_send(void *ctx, const struct addr *peer, const uint8_t *data, size_t len)
{
	struct listener *l = ctx;
	net_udp_send(l->udp, peer, data, len);
}

static void on_dtls_recv(void *ctx, const struct addr *peer, const uint8_t *data, size_t len)
{
	struct listener *l = ctx;
	coap_ep_input(l->ep, peer, data, len, (uint64_t)now_ms());
}

static int on_dtls_psk(void *ctx, const char *identity, uint8_t key[DTLS_PSK_MAX],
		       size_t *key_len)
{
	struct listener *l = ctx;
	return iot_devices_psk(l->d->devices, identity, key, DTLS_PSK_MAX, key_len);
}

/* Deleting a device, resetting its secret or changing its secure_access ends its access:
 * the live registration and the DTLS sessions (the old key must not keep working). Saved
 * sessions are in the store only while the daemon is down. */
static void end_device_access(void *ctx, const char *node_id)
{
	struct daemon *d = ctx;
	for (int i = 0; i < d->listener_count; i++) {
		if (d->listeners[i].dtls)
			dtls_server_close_identity(d->listeners[i].dtls, node_id,
						   (uint64_t)now_ms());
	}
	if (d->observations)
		lwm2m_observations_forget(d->observations, node_id);
	if (d->platform)
		iot_platform_device_forget(d->platform, node_id);
	iot_devices_removed(d->devices, node_id);
}

/* Before the loop waits for I/O: the turn's writes are committed. */
static void on_batch(uv_prepare_t *h)
{
	struct daemon *d = h->data;
	/* A step of the registrations' write-behind, its status changes in this commit. */
	iot_devices_flush_step(d->devices, now_ms());
	int rc = store_batch_commit(d->store);
	if (rc != 0)
		LOG_ERROR("daemon", "a loop turn's writes were not committed");
	if (d->platform)
		iot_platform_committed(d->platform, rc);
	/* Only now may the API tell its callers that their changes are stored. */
	api_server_committed(d->api, rc);
}

static void on_tick(uv_timer_t *t)
{
	struct daemon *d = t->data;
	int64_t now = now_ms();
	d->ticks++;
	for (int i = 0; i < d->listener_count; i++) {
		if (d->listeners[i].dtls)
			dtls_server_tick(d->listeners[i].dtls, (uint64_t)now);
		coap_ep_tick(d->listeners[i].ep, (uint64_t)now);
	}
	lwm2m_server_tick(d->lwm2m, now);
	daemon_bootstrap_tick(d, (uint64_t)now);
	daemon_firmware_poll(d, now);
	iot_devices_settle(d->devices, now);
	if (d->ticks % SWEEP_EVERY_TICKS == 0) {
		log_rate_flush(); /* summaries of rate-limited log lines */
		iot_devices_sweep(d->devices, now);
		if (d->platform)
			iot_platform_tick(d->platform);
		daemon_firmware_tick(d, now);
	}
	if (d->ticks % FLUSH_EVERY_TICKS == 0)
		iot_devices_flush(d->devices, now);
}

static void on_signal(uv_signal_t *s, int signum)
{
	struct daemon *d = s->data;
	LOG_INFO("main", "signal %d: shutting down", signum);
	uv_stop(d->loop);
}

static int open_listener(struct daemon *d, const char *where, enum lwm2m_transport transport,
			 const struct coap_ep_config *epcfg, const struct dtls_server_config *dtls)
{
	struct addr bind;
	if (addr_parse(&bind, where) != 0) {
		fprintf(stderr, "lwm2md: bad address '%s' (expected HOST:PORT)\n", where);
		return -EINVAL;
	}
	struct listener *l = &d->listeners[d->listener_count];
	l->d = d;
	l->transport = transport;
	const char *scheme = transport == LWM2M_TRANSPORT_DTLS ? "coaps" : "coap";
	int rc = coap_ep_create(&l->ep, epcfg, on_send, on_request, l);
	if (rc != 0)
		return rc;
	coap_ep_set_notification_handler(l->ep, on_notification);
	if (transport == LWM2M_TRANSPORT_DTLS) {
		struct dtls_server_hooks hooks = {
			.psk = on_dtls_psk, .recv = on_dtls_recv, .send = on_dtls_send,
		};
		rc = dtls_server_create(&l->dtls, dtls, &hooks, l);
		if (rc != 0) {
			coap_ep_destroy(l->ep);
			l->ep = NULL;
			return rc;
		}
	}
	rc = net_udp_open(&l->udp, d->loop, &bind, on_datagram, l);
	if (rc != 0) {
		fprintf(stderr, "lwm2md: cannot bind %s %s: %s\n", scheme, where, uv_strerror(rc));
		coap_ep_destroy(l->ep);
		dtls_server_destroy(l->dtls);
		memset(l, 0, sizeof(*l));
		return rc;
	}
	d->listener_count++;
	struct addr local;
	char buf[ADDR_STR_MAX];
	net_udp_local_addr(l->udp, &local);
	printf("listening %s %s\n", scheme, addr_format(&local, buf));
	return 0;
}

static bool events_listened(void *ctx)
{
	struct daemon *d = ctx;
	return d->api && api_server_has_subscribers(d->api);
}

static void publish_event(void *ctx, const char *project_id, const char *device_id,
			  const char *event, const char *json)
{
	struct daemon *d = ctx;
	if (d->api)
		api_server_publish(d->api, project_id, device_id, event, json);
}

/* The API's device GET: the suite of the device's session on whichever DTLS socket has
 * it. */
static const char *device_cipher_suite(void *ctx, const char *node_id)
{
	struct daemon *d = ctx;
	for (int i = 0; i < d->listener_count; i++) {
		const char *suite = d->listeners[i].dtls ? dtls_server_identity_ciphersuite(
								   d->listeners[i].dtls, node_id)
							 : NULL;
		if (suite)
			return suite;
	}
	return NULL;
}

static int route_device(void *ctx, const char *node_id, struct lwm2m_route *route)
{
	struct daemon *d = ctx;
	struct lwm2m_registration *reg = lwm2m_server_find_endpoint(d->lwm2m, node_id);
	if (!reg)
		return -ENOTCONN;
	/* Queue mode (Core §6.5): the device listens for a while after each message. */
	route->asleep = reg->queue_mode && now_ms() - reg->last_seen_ms > (int64_t)d->queue_window_ms;
	/* The alternate path is in the links, checked when they came; not kept apart, since
	 * few devices have one and every registration's bytes count. */
	struct lwm2m_reg_links links;
	route->prefix[0] = '\0';
	if (reg->links && lwm2m_reg_links_check(reg->links, strlen(reg->links), &links) == 0)
		snprintf(route->prefix, sizeof(route->prefix), "%s", links.alt_path);
	for (int i = 0; i < d->listener_count; i++) {
		struct listener *l = &d->listeners[i];
		struct addr local;
		net_udp_local_addr(l->udp, &local);
		if (l->transport == reg->transport && local.family == reg->peer.family) {
			route->ep = l->ep;
			route->peer = reg->peer;
			return 0;
		}
	}
	return -ENOTCONN;
}

/* Whether another process already listens on the API's TCP address: a bind of our own
 * (SO_REUSEADDR, as libmicrohttpd's) fails then. Checked before the registry is opened,
 * so that a daemon that cannot serve leaves the database alone. Port 0 always binds. */
static int probe_tcp(const struct addr *where)
{
	if (where->port == 0)
		return 0;
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof(ss));
	addr_to_sockaddr(where, &ss);
	int fd = socket(where->family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	int one = 1, rc = 0;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (where->family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	socklen_t len = where->family == AF_INET6 ? sizeof(struct sockaddr_in6)
						  : sizeof(struct sockaddr_in);
	if (bind(fd, (struct sockaddr *)&ss, len) != 0)
		rc = -errno;
	close(fd);
	return rc;
}

/* After a port turned out to be taken: when another daemon holds this registry's lock,
 * that is most likely the port's owner, and worth saying. Only looks: a missing lock file
 * is not created, and a shared lock probe is dropped at once. */
static void hint_registry_in_use(const char *db)
{
	char path[600];
	if ((size_t)snprintf(path, sizeof(path), "%s.lock", db) >= sizeof(path))
		return;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return;
	if (flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK)
		fprintf(stderr, "lwm2md: another lwm2md is running on the registry %s (%s is "
				"locked): probably the one on that port\n",
			db, path);
	close(fd); /* drops the probe's lock, if it got one */
}

/* One daemon per registry: an exclusive flock on "<db>.lock", held (through the open
 * descriptor) for the life of the process and released by the kernel however it ends.
 * The file is left in place: removing it would let a third process lock a new file
 * while the second still holds the old one. */
static int lock_registry(struct daemon *d, const char *db)
{
	char path[600];
	if ((size_t)snprintf(path, sizeof(path), "%s.lock", db) >= sizeof(path))
		return -ENAMETOOLONG;
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		int rc = -errno;
		fprintf(stderr, "lwm2md: cannot open the lock file %s: %s\n", path, strerror(-rc));
		return rc;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		int rc = -errno;
		if (rc == -EWOULDBLOCK)
			fprintf(stderr,
				"lwm2md: the registry %s is in use by another lwm2md (%s is locked); "
				"stop that one first, or give this one its own --db\n",
				db, path);
		else
			fprintf(stderr, "lwm2md: cannot lock %s: %s\n", path, strerror(-rc));
		close(fd);
		return rc;
	}
	d->lock_fd = fd;
	return 0;
}

int daemon_start(struct daemon *d, const struct config *cfg)
{
	int rc;
	d->lock_fd = -1;
	if (cfg->models[0]) {
		char err[512];
		rc = model_load_dir(cfg->models, err, sizeof(err));
		if (rc < 0) {
			fprintf(stderr, "lwm2md: --models: %s\n", err);
			return rc;
		}
		LOG_INFO("main", "%d object definitions loaded from %s", rc, cfg->models);
	}
	struct addr http;
	if (addr_parse(&http, cfg->http) != 0) {
		fprintf(stderr, "lwm2md: bad address '%s' for --http\n", cfg->http);
		return -EINVAL;
	}

	/* The sockets first: a daemon that cannot serve fails before it creates, locks or
	 * migrates anything. Nothing is read from them until the loop runs, by which time
	 * the store is open. */
	struct coap_ep_config epcfg;
	coap_ep_config_defaults(&epcfg);
	epcfg.max_body = cfg->max_body;
	rc = coap_block_pool_create(&d->block_pool, cfg->block1_pool_bytes);
	if (rc != 0)
		return rc;
	epcfg.block_pool = d->block_pool;
	for (int i = 0; i < cfg->coap_count; i++) {
		rc = open_listener(d, cfg->coap[i], LWM2M_TRANSPORT_UDP, &epcfg, NULL);
		/* The IPv6 default is best effort: a host without IPv6 still serves IPv4. */
		if (rc != 0 && !cfg->coap_given && strcmp(cfg->coap[i], "[::]:5683") == 0) {
			LOG_WARN("main", "no IPv6 CoAP socket: %s", uv_strerror(rc));
			continue;
		}
		if (rc == UV_EADDRINUSE)
			hint_registry_in_use(cfg->db);
		if (rc != 0)
			return rc;
	}
	for (int i = 0; i < cfg->coaps_count; i++) {
		rc = open_listener(d, cfg->coaps[i], LWM2M_TRANSPORT_DTLS, &epcfg, &cfg->dtls);
		if (rc != 0 && !cfg->coaps_given && strcmp(cfg->coaps[i], "[::]:5684") == 0) {
			LOG_WARN("main", "no IPv6 CoAPS socket: %s", uv_strerror(rc));
			continue;
		}
		if (rc == UV_EADDRINUSE)
			hint_registry_in_use(cfg->db);
		if (rc != 0)
			return rc;
	}
	rc = probe_tcp(&http);
	if (rc != 0) {
		fprintf(stderr, "lwm2md: cannot start the API on %s: %s\n", cfg->http,
			strerror(-rc));
		if (rc == -EADDRINUSE)
			hint_registry_in_use(cfg->db);
		return rc;
	}

	ensure_parent_dir(cfg->db);
	rc = lock_registry(d, cfg->db);
	if (rc != 0)
		return rc;
	rc = store_open(&d->store, cfg->db);
	if (rc != 0) {
		fprintf(stderr, "lwm2md: cannot open the registry %s: %s\n", cfg->db,
			strerror(-rc));
		return rc;
	}
	d->started_ms = now_ms();
	rc = project_stats_table_create(&d->stats, cfg->queue_window_s * 1000);
	if (rc == 0)
		rc = iot_devices_create(&d->devices, d->store);
	if (rc != 0)
		return rc;
	iot_devices_set_stats(d->devices, d->stats);
	d->lwm2m = iot_devices_lwm2m(d->devices);
	rc = iot_devices_restore(d->devices, now_ms());
	if (rc < 0)
		return rc;
	LOG_INFO("main", "registry %s: %d live registrations restored", cfg->db, rc);

	daemon_restore_dtls_sessions(d);
	d->queue_window_ms = cfg->queue_window_s * 1000;
	rc = lwm2m_requests_create(&d->requests, d->loop, route_device, clock_ms, d);
	if (rc == 0)
		rc = daemon_observations_start(d);
	if (rc != 0)
		return rc;

	rc = push_create(&d->push, d->loop, d->store, &cfg->push, now_ms);
	if (rc != 0)
		return rc;
	struct iot_platform_deps pdeps = {
		.store = d->store, .requests = d->requests, .observations = d->observations,
		.publish = publish_event, .listening = events_listened, .ctx = d, .now_ms = now_ms,
		.push = d->push,
		.max_pending = cfg->max_pending_commands, .loop = d->loop, .codec = cfg->codec,
		.stats = d->stats,
	};
	rc = iot_platform_create(&d->platform, &pdeps);
	if (rc == 0)
		rc = iot_platform_restore(d->platform);
	if (rc != 0)
		return rc;
	uv_timer_init(d->loop, &d->active_timer);
	d->active_timer.data = d;
	rc = daemon_firmware_start(d, cfg);
	if (rc == 0)
		rc = daemon_bootstrap_start(d, cfg);
	if (rc != 0)
		return rc;

	struct api_deps deps = {
		.store = d->store,
		.lwm2m = d->lwm2m,
		.requests = d->requests,
		.observations = d->observations,
		.platform = d->platform,
		.firmware = d->fw_campaigns,
		.device_removed = end_device_access,
		.secret_reset = end_device_access,
		.metrics = daemon_write_metrics,
		.push = d->push,
		.stats = d->stats,
		.started_ms = d->started_ms,
		.queue_window_ms = d->queue_window_ms,
		.cipher_suite = device_cipher_suite,
		.ctx = d,
		.limits = cfg->api,
		.firmware_max_bytes = cfg->firmware_max_bytes,
	};
	str_copy(deps.firmware_dir, sizeof(deps.firmware_dir), cfg->firmware_dir);
	rc = api_server_start(&d->api, d->loop, &http, &deps);
	if (rc != 0) {
		fprintf(stderr, "lwm2md: cannot start the API on %s: %s\n", cfg->http,
			strerror(-rc));
		return rc;
	}
	daemon_firmware_load(d);
	iot_devices_set_event_handler(d->devices, on_iot_event, d);
	iot_devices_set_settle_ms(d->devices, cfg->register_settle_ms);
	struct addr local;
	char buf[ADDR_STR_MAX];
	api_server_local_addr(d->api, &local);
	push_set_api_addr(d->push, &local); /* push never sends to the daemon's own API */
	/* SIGTERM handled from before the last "listening" line: whoever starts the daemon
	 * and stops it as soon as it says it is listening gets a clean stop, not a kill. */
	uv_signal_init(d->loop, &d->sigint);
	uv_signal_init(d->loop, &d->sigterm);
	d->sigint.data = d->sigterm.data = d;
	uv_signal_start(&d->sigint, on_signal, SIGINT);
	uv_signal_start(&d->sigterm, on_signal, SIGTERM);
	printf("listening http %s\n", addr_format(&local, buf));
	fflush(stdout);

	/* Group commit: what one loop turn writes is one transaction (store_batch_enable). */
	store_batch_enable(d->store, true);
	uv_prepare_init(d->loop, &d->batch);
	d->batch.data = d;
	uv_prepare_start(&d->batch, on_batch);

	uv_timer_init(d->loop, &d->tick);
	d->tick.data = d;
	uv_timer_start(&d->tick, on_tick, TICK_MS, TICK_MS);
	return 0;
}

static void close_handle(uv_handle_t *h, void *arg)
{
	(void)arg;
	if (!uv_is_closing(h))
		uv_close(h, NULL);
}

/* Ends everything in order: sockets and API first, so nothing new arrives, then the
 * pending writes, then the store. */
void daemon_stop(struct daemon *d)
{
	daemon_save_dtls_sessions(d);
	/* The API first: it answers the calls still waiting for devices and cancels their
	 * requests; then the requests; then the endpoints they went through. */
	if (d->fw_campaigns)
		fw_campaigns_set_api(d->fw_campaigns, NULL); /* no events into a stopped API */
	api_server_stop(d->api);
	d->api = NULL;
	iot_platform_destroy(d->platform); /* cancels its requests */
	d->platform = NULL;
	daemon_firmware_stop(d); /* lets go of its requests too */
	push_destroy(d->push); /* what is in flight goes again at the next start */
	d->push = NULL;
	while (d->active) {
		struct active_node *a = d->active;
		d->active = a->next;
		free(a);
	}
	lwm2m_requests_destroy(d->requests);
	d->requests = NULL;
	lwm2m_observations_destroy(d->observations);
	d->observations = NULL;
	for (int i = 0; i < d->listener_count; i++) {
		net_udp_close(d->listeners[i].udp);
		coap_ep_destroy(d->listeners[i].ep);
		dtls_server_destroy(d->listeners[i].dtls);
	}
	daemon_bootstrap_stop(d); /* its endpoints use the pool too */
	coap_block_pool_destroy(d->block_pool); /* after the endpoints that use it */
	d->block_pool = NULL;
	uv_walk(d->loop, close_handle, NULL);
	uv_run(d->loop, UV_RUN_DEFAULT);
	iot_devices_destroy(d->devices); /* flushes */
	project_stats_table_destroy(d->stats); /* after everything that counts into it */
	d->stats = NULL;
	model_unload_all();
	store_close(d->store);
	d->store = NULL;
	if (d->lock_fd >= 0)
		close(d->lock_fd); /* after the store: the next daemon may open it at once */
	d->lock_fd = -1;
}

void ensure_parent_dir(const char *path)
{
	char dir[512];
	if (str_copy(dir, sizeof(dir), path) != 0)
		return;
	char *slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return;
	*slash = '\0';
	/* Ours alone: the registry in it holds device secrets (store_open). An existing
	 * directory is left as the operator made it. */
	mkdir(dir, 0700);
}
