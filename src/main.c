/*
 * lwm2md: configuration and wiring. Reads flags and an optional config file, opens the
 * store, binds the CoAP sockets and the REST API on one libuv loop, and runs until
 * SIGINT/SIGTERM, after which everything pending is flushed to the store.
 *
 *   lwm2md [--config FILE] [--db PATH] [--coap HOST:PORT]... [--coaps HOST:PORT]
 *          [--http HOST:PORT] [--max-body N] [--log-level LEVEL]
 *   lwm2md token create --db PATH --project P
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <jansson.h>
#include <uv.h>

#include "api/api.h"
#include "coap/coap_ep.h"
#include "dtls/dtls_server.h"
#include "content/content.h"
#include "lwm2m/lwm2m_observe.h"
#include "model/model.h"
#include "lwm2m/lwm2m_requests.h"
#include "iot/iot_devices.h"
#include "lwm2m/lwm2m_server.h"
#include "net/udp.h"
#include "store/store.h"
#include "util/log.h"
#include "util/str.h"
#include "util/token.h"

#define VERSION "0.1.0"
#define MAX_BINDS 8
#define TICK_MS 50
#define FLUSH_EVERY_TICKS 2  /* registrations reach the store within 100 ms */
#define SWEEP_EVERY_TICKS 20 /* activation timeouts are checked every second */

struct config {
	char db[512];
	char coap[MAX_BINDS][64];
	int coap_count;
	char coaps[MAX_BINDS][64];
	int coaps_count;
	char http[64];
	size_t max_body;
	bool coap_given;
	bool coaps_given;
	uint32_t queue_window_s;
	char models[512]; /* a directory of DDF XML files, or "" */
	struct dtls_server_config dtls;
};

/* One CoAP socket and its message layer; on a DTLS socket, the sessions between them. */
struct listener {
	struct daemon *d;
	enum lwm2m_transport transport;
	struct net_udp *udp;
	struct dtls_server *dtls; /* NULL on plain CoAP */
	struct coap_ep *ep;
};

struct daemon {
	uv_loop_t *loop;
	struct store *store;
	struct iot_devices *devices;
	struct lwm2m_server *lwm2m;
	struct lwm2m_requests *requests;
	struct lwm2m_observations *observations;
	struct api_server *api;
	struct listener listeners[MAX_BINDS];
	int listener_count;
	uv_timer_t tick;
	uv_signal_t sigint, sigterm;
	uint64_t ticks;
	int dtls_restored;
	uint64_t sends; /* LwM2M Send requests accepted */
	uint32_t queue_window_ms;
};

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* now_ms as the unsigned clock the CoAP endpoints run on. */
static uint64_t clock_ms(void)
{
	return (uint64_t)now_ms();
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: lwm2md [options]\n"
		"       lwm2md token create --db PATH --project PROJECT\n"
		"options:\n"
		"  --config FILE      read 'name = value' lines (names as the long options)\n"
		"  --db PATH          SQLite registry (default ./var/lwm2md.db)\n"
		"  --coap HOST:PORT   plain CoAP socket; repeatable (default 0.0.0.0:5683 and "
		"[::]:5683)\n"
		"  --coaps HOST:PORT  CoAP over DTLS 1.2 (PSK) socket; repeatable (default "
		"0.0.0.0:5684 and [::]:5684)\n"
		"  --dtls-ciphersuites LIST  comma-separated, in order of preference (default\n"
		"                     TLS-PSK-WITH-AES-128-CCM-8,TLS-PSK-WITH-AES-128-CBC-SHA256)\n"
		"  --dtls-idle-seconds N  idle time before a DTLS session hibernates (default 60)\n"
		"  --dtls-max-handshakes N  concurrent DTLS handshakes (default 256)\n"
		"  --http HOST:PORT   REST API (default 127.0.0.1:8080)\n"
		"  --max-body N       largest CoAP body without block-wise (default 1024)\n"
		"  --models DIR       load object definitions (OMA DDF XML, *.xml) from DIR\n"
		"  --queue-window N   seconds a queue-mode device listens after each message "
		"(default 93)\n"
		"  --log-level LEVEL  debug, info, warn or error (default info)\n"
		"A port of 0 picks a free port; each bound socket is printed as\n"
		"'listening <coap|coaps|http> HOST:PORT' on standard output.\n");
}

/* Applies one setting; the names are the long options without the dashes. */
static int config_set(struct config *cfg, const char *name, const char *value)
{
	if (strcmp(name, "db") == 0)
		return str_copy(cfg->db, sizeof(cfg->db), value);
	if (strcmp(name, "coap") == 0) {
		if (!cfg->coap_given)
			cfg->coap_count = 0; /* the first one given replaces the defaults */
		cfg->coap_given = true;
		if (cfg->coap_count == MAX_BINDS)
			return -E2BIG;
		return str_copy(cfg->coap[cfg->coap_count++], sizeof(cfg->coap[0]), value);
	}
	if (strcmp(name, "coaps") == 0) {
		if (!cfg->coaps_given)
			cfg->coaps_count = 0;
		cfg->coaps_given = true;
		if (cfg->coaps_count == MAX_BINDS)
			return -E2BIG;
		return str_copy(cfg->coaps[cfg->coaps_count++], sizeof(cfg->coaps[0]), value);
	}
	if (strcmp(name, "http") == 0)
		return str_copy(cfg->http, sizeof(cfg->http), value);
	if (strcmp(name, "max-body") == 0) {
		char *end;
		errno = 0;
		unsigned long v = strtoul(value, &end, 10);
		if (errno || *end || v < 16 || v > 65536)
			return -EINVAL;
		cfg->max_body = v;
		return 0;
	}
	if (strcmp(name, "dtls-ciphersuites") == 0)
		return dtls_server_parse_ciphersuites(&cfg->dtls, value);
	if (strcmp(name, "dtls-idle-seconds") == 0 || strcmp(name, "dtls-max-handshakes") == 0) {
		char *end;
		errno = 0;
		unsigned long v = strtoul(value, &end, 10);
		if (errno || *end || v < 1 || v > 86400)
			return -EINVAL;
		if (name[5] == 'i')
			cfg->dtls.idle_ms = (uint32_t)v * 1000;
		else
			cfg->dtls.max_handshakes = v;
		return 0;
	}
	if (strcmp(name, "models") == 0)
		return str_copy(cfg->models, sizeof(cfg->models), value);
	if (strcmp(name, "queue-window") == 0) {
		char *end;
		errno = 0;
		unsigned long v = strtoul(value, &end, 10);
		if (errno || *end || v < 1 || v > 86400)
			return -EINVAL;
		cfg->queue_window_s = (uint32_t)v;
		return 0;
	}
	if (strcmp(name, "log-level") == 0)
		return log_level_parse(value, &log_threshold);
	return -ENOENT;
}

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r'))
		s[--n] = '\0';
	return s;
}

static int config_load(struct config *cfg, const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "lwm2md: cannot open config %s: %s\n", path, strerror(errno));
		return -errno;
	}
	char line[1024];
	int lineno = 0, rc = 0;
	while (rc == 0 && fgets(line, sizeof(line), f)) {
		lineno++;
		char *s = trim(line);
		if (*s == '\0' || *s == '#')
			continue;
		char *eq = strchr(s, '=');
		if (!eq) {
			fprintf(stderr, "lwm2md: %s:%d: expected 'name = value'\n", path, lineno);
			rc = -EINVAL;
			break;
		}
		*eq = '\0';
		rc = config_set(cfg, trim(s), trim(eq + 1));
		if (rc != 0)
			fprintf(stderr, "lwm2md: %s:%d: bad setting '%s'\n", path, lineno, trim(s));
	}
	fclose(f);
	return rc;
}

static void config_defaults(struct config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	str_copy(cfg->db, sizeof(cfg->db), "var/lwm2md.db");
	str_copy(cfg->coap[0], sizeof(cfg->coap[0]), "0.0.0.0:5683");
	str_copy(cfg->coap[1], sizeof(cfg->coap[1]), "[::]:5683");
	cfg->coap_count = 2;
	str_copy(cfg->coaps[0], sizeof(cfg->coaps[0]), "0.0.0.0:5684");
	str_copy(cfg->coaps[1], sizeof(cfg->coaps[1]), "[::]:5684");
	cfg->coaps_count = 2;
	dtls_server_config_defaults(&cfg->dtls);
	cfg->queue_window_s = 93; /* LwM2M Transport: CoAP MAX_TRANSMIT_WAIT */
	str_copy(cfg->http, sizeof(cfg->http), "127.0.0.1:8080");
	cfg->max_body = 1024;
}

/* Parses argv from index first. Returns 0, 1 when --help/--version was answered, or
 * a negative errno after printing what was wrong. */
static int config_from_args(struct config *cfg, int argc, char **argv, int first)
{
	for (int i = first; i < argc; i++) {
		const char *arg = argv[i];
		if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
			usage(stdout);
			return 1;
		}
		if (strcmp(arg, "--version") == 0) {
			printf("lwm2md %s\n", VERSION);
			return 1;
		}
		if (strncmp(arg, "--", 2) != 0 || i + 1 >= argc) {
			fprintf(stderr, "lwm2md: unexpected argument '%s'\n", arg);
			usage(stderr);
			return -EINVAL;
		}
		const char *value = argv[++i];
		int rc = strcmp(arg, "--config") == 0 ? config_load(cfg, value)
						     : config_set(cfg, arg + 2, value);
		if (rc == -ENOENT) {
			fprintf(stderr, "lwm2md: unknown option '%s'\n", arg);
			usage(stderr);
			return rc;
		}
		if (rc != 0) {
			fprintf(stderr, "lwm2md: bad value '%s' for %s\n", value, arg);
			return rc;
		}
	}
	return 0;
}

/* Creates the directory holding path when it does not exist (./var on a fresh clone). */
static void ensure_parent_dir(const char *path)
{
	char dir[512];
	if (str_copy(dir, sizeof(dir), path) != 0)
		return;
	char *slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return;
	*slash = '\0';
	mkdir(dir, 0750);
}

static int token_create(int argc, char **argv)
{
	const char *db = NULL, *project = NULL;
	for (int i = 3; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--db") == 0)
			db = argv[i + 1];
		else if (strcmp(argv[i], "--project") == 0)
			project = argv[i + 1];
	}
	if (!db || !project || argc % 2 == 0) {
		fprintf(stderr, "usage: lwm2md token create --db PATH --project PROJECT\n");
		return 2;
	}
	size_t plen = strlen(project);
	if (plen == 0 || plen > STORE_ID_MAX || strspn(project, "abcdefghijklmnopqrstuvwxyz"
							   "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
							   "0123456789_-") != plen) {
		fprintf(stderr, "lwm2md: project must be 1-%d of [A-Za-z0-9_-]\n", STORE_ID_MAX);
		return 2;
	}
	ensure_parent_dir(db);
	struct store *store;
	int rc = store_open(&store, db);
	if (rc != 0) {
		fprintf(stderr, "lwm2md: cannot open %s: %s\n", db, strerror(-rc));
		return 1;
	}
	char token[TOKEN_HEX_LEN + 1], hash[TOKEN_HEX_LEN + 1];
	rc = token_random_hex(token, sizeof(token), TOKEN_HEX_LEN / 2);
	if (rc == 0) {
		token_hash(token, hash);
		rc = store_project_ensure(store, project);
	}
	if (rc == 0)
		rc = store_token_insert(store, project, hash);
	store_close(store);
	if (rc != 0) {
		fprintf(stderr, "lwm2md: token not created: %s\n", strerror(-rc));
		return 1;
	}
	printf("%s\n", token);
	return 0;
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
		LOG_WARN("lwm2m", "Send from %s refused: not registered", addr_format(peer, p));
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
	reg->last_seen_ms = now_ms();
	if (reg->queue_mode && d->requests)
		lwm2m_requests_wake(d->requests, reg->endpoint);
}

static void on_request(void *ctx, const struct addr *peer, const struct coap_msg *req,
		       struct coap_msg *resp, uint64_t now)
{
	struct listener *l = ctx;
	const char *identity = l->dtls ? dtls_server_peer_identity(l->dtls, peer) : NULL;
	if (is_send(req))
		resp->code = handle_send(l, identity, peer, req);
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
	reg->last_seen_ms = now_ms();
	o->notifications++;
	lwm2m_observation_record(o, msg->code, format, seq, msg->payload, msg->payload_len,
				 (int64_t)now);
	struct store_device dev;
	if (api_server_has_subscribers(d->api) && event_device(d, o->node_id, &dev) == 0)
		api_server_publish_notification(d->api, dev.project_id, dev.device_id, o);
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

static void write_metrics(void *ctx, FILE *out)
{
	struct daemon *d = ctx;
	struct coap_ep_stats sum = {0};
	for (int i = 0; i < d->listener_count; i++) {
		const struct coap_ep_stats *s = coap_ep_stats(d->listeners[i].ep);
		sum.rx_datagrams += s->rx_datagrams;
		sum.tx_datagrams += s->tx_datagrams;
		sum.rx_malformed += s->rx_malformed;
		sum.rx_duplicates += s->rx_duplicates;
		sum.requests_served += s->requests_served;
		sum.retransmissions += s->retransmissions;
		sum.tx_timeouts += s->tx_timeouts;
		sum.peers += s->peers;
		for (int c = 0; c < 256; c++)
			sum.responses_by_code[c] += s->responses_by_code[c];
	}
	const struct lwm2m_server_stats *ls = lwm2m_server_stats(d->lwm2m);
	const struct iot_devices_stats *is = iot_devices_stats(d->devices);
#define COUNTER(name, help, value)                                                          \
	fprintf(out, "# HELP " name " " help "\n# TYPE " name " counter\n" name " %" PRIu64 "\n", \
		(uint64_t)(value))
#define GAUGE(name, help, value)                                                            \
	fprintf(out, "# HELP " name " " help "\n# TYPE " name " gauge\n" name " %" PRIu64 "\n",   \
		(uint64_t)(value))
	COUNTER("lwm2md_coap_datagrams_in_total", "CoAP datagrams received.", sum.rx_datagrams);
	COUNTER("lwm2md_coap_datagrams_out_total", "CoAP datagrams sent.", sum.tx_datagrams);
	COUNTER("lwm2md_coap_malformed_total", "Datagrams that were not valid CoAP.",
		sum.rx_malformed);
	COUNTER("lwm2md_coap_duplicates_total", "Duplicate requests answered from the cache.",
		sum.rx_duplicates);
	COUNTER("lwm2md_coap_retransmissions_total", "Retransmitted server requests.",
		sum.retransmissions);
	fprintf(out, "# HELP lwm2md_coap_responses_total CoAP responses to requests, by code.\n"
		     "# TYPE lwm2md_coap_responses_total counter\n");
	for (int c = 0; c < 256; c++) {
		char code[5];
		if (sum.responses_by_code[c])
			fprintf(out, "lwm2md_coap_responses_total{code=\"%s\"} %" PRIu64 "\n",
				coap_code_format((uint8_t)c, code), sum.responses_by_code[c]);
	}
	GAUGE("lwm2md_coap_peers", "Peers in the CoAP exchange cache.", sum.peers);
	COUNTER("lwm2md_registrations_total", "Successful LwM2M Registers.", ls->registrations);
	COUNTER("lwm2md_registration_updates_total", "LwM2M Updates.", ls->updates);
	COUNTER("lwm2md_deregistrations_total", "LwM2M De-registers.", ls->deregistrations);
	COUNTER("lwm2md_registration_expirations_total", "Registrations whose lifetime ended.",
		ls->expirations);
	COUNTER("lwm2md_registrations_rejected_total", "Registers refused.",
		ls->rejected_registrations);
	GAUGE("lwm2md_registrations_active", "Live registrations.", lwm2m_server_count(d->lwm2m));
	COUNTER("lwm2md_store_errors_total", "Failed registry writes.", is->store_errors);
	COUNTER("lwm2md_store_flushes_total", "Registry write batches.", is->flushes);
	struct dtls_server_stats ds = {0};
	for (int i = 0; i < d->listener_count; i++) {
		if (!d->listeners[i].dtls)
			continue;
		const struct dtls_server_stats *x = dtls_server_stats(d->listeners[i].dtls);
		ds.hello_verify_sent += x->hello_verify_sent;
		ds.dropped_unverified += x->dropped_unverified;
		ds.handshakes_refused += x->handshakes_refused;
		ds.handshakes_done += x->handshakes_done;
		ds.handshakes_resumed += x->handshakes_resumed;
		ds.fail_unknown_identity += x->fail_unknown_identity;
		ds.fail_bad_key += x->fail_bad_key;
		ds.fail_timeout += x->fail_timeout;
		ds.fail_other += x->fail_other;
		ds.hibernations += x->hibernations;
		ds.wakeups += x->wakeups;
		ds.sessions_live += x->sessions_live;
		ds.sessions_hibernated += x->sessions_hibernated;
		ds.handshakes_in_progress += x->handshakes_in_progress;
		ds.hibernated_bytes += x->hibernated_bytes;
	}
	COUNTER("lwm2md_dtls_hello_verify_sent_total",
		"HelloVerifyRequests sent to ClientHellos without a valid cookie.",
		ds.hello_verify_sent);
	COUNTER("lwm2md_dtls_dropped_unverified_total",
		"Datagrams from peers without a session that were not a ClientHello.",
		ds.dropped_unverified);
	COUNTER("lwm2md_dtls_handshakes_total", "Full DTLS handshakes completed.",
		ds.handshakes_done);
	COUNTER("lwm2md_dtls_resumptions_total", "Abbreviated (resumed) DTLS handshakes completed.",
		ds.handshakes_resumed);
	fprintf(out, "# HELP lwm2md_dtls_handshake_failures_total DTLS handshakes that failed, by "
		     "reason.\n# TYPE lwm2md_dtls_handshake_failures_total counter\n");
	fprintf(out, "lwm2md_dtls_handshake_failures_total{reason=\"unknown_identity\"} %" PRIu64
		     "\n", ds.fail_unknown_identity);
	fprintf(out, "lwm2md_dtls_handshake_failures_total{reason=\"bad_key\"} %" PRIu64 "\n",
		ds.fail_bad_key);
	fprintf(out, "lwm2md_dtls_handshake_failures_total{reason=\"timeout\"} %" PRIu64 "\n",
		ds.fail_timeout);
	fprintf(out, "lwm2md_dtls_handshake_failures_total{reason=\"too_many\"} %" PRIu64 "\n",
		ds.handshakes_refused);
	fprintf(out, "lwm2md_dtls_handshake_failures_total{reason=\"other\"} %" PRIu64 "\n",
		ds.fail_other);
	COUNTER("lwm2md_dtls_hibernations_total", "Idle DTLS sessions serialized and freed.",
		ds.hibernations);
	COUNTER("lwm2md_dtls_wakeups_total", "Hibernated DTLS sessions restored.", ds.wakeups);
	GAUGE("lwm2md_dtls_sessions_live", "DTLS sessions with a live mbedTLS context.",
	      ds.sessions_live);
	GAUGE("lwm2md_dtls_sessions_hibernated", "DTLS sessions kept serialized.",
	      ds.sessions_hibernated);
	GAUGE("lwm2md_dtls_handshakes_in_progress", "DTLS handshakes under way.",
	      ds.handshakes_in_progress);
	GAUGE("lwm2md_dtls_hibernated_bytes", "Memory of the hibernated DTLS sessions: serialized records and their entries.",
	      ds.hibernated_bytes);
	COUNTER("lwm2md_sends_total", "LwM2M Send (POST /dp) requests accepted.", d->sends);
	if (d->requests) {
		const struct lwm2m_requests_stats *rs = lwm2m_requests_stats(d->requests);
		COUNTER("lwm2md_dm_requests_total", "Device Management requests sent to devices.",
			rs->sent);
		COUNTER("lwm2md_dm_answers_total", "Device Management requests the device answered.",
			rs->answered);
		COUNTER("lwm2md_dm_timeouts_total", "Device Management requests without an answer "
			"in time.", rs->timed_out);
		GAUGE("lwm2md_dm_requests_in_flight", "Device Management requests waiting.",
		      rs->in_flight);
	}
	COUNTER("lwm2md_devices_expired_inactive_total",
		"Devices deleted because they never connected in time.", is->expired_inactive);
#undef COUNTER
#undef GAUGE
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
	iot_devices_removed(d->devices, node_id);
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
	if (d->ticks % SWEEP_EVERY_TICKS == 0)
		iot_devices_sweep(d->devices, now);
	if (d->ticks % FLUSH_EVERY_TICKS == 0)
		iot_devices_flush(d->devices);
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

/* Sessions saved at the last shutdown go back to the socket of their address family
 * (the first DTLS listener of that family); they are deleted from the store as they are
 * read, since a saved session must never be loaded twice. */
static int restore_one_session(void *ctx, const char *identity, const char *peer_str,
			       const uint8_t *data, size_t len)
{
	struct daemon *d = ctx;
	struct addr peer;
	if (addr_parse(&peer, peer_str) != 0)
		return 0;
	for (int i = 0; i < d->listener_count; i++) {
		struct listener *l = &d->listeners[i];
		struct addr local;
		if (!l->dtls)
			continue;
		net_udp_local_addr(l->udp, &local);
		if (local.family != peer.family)
			continue;
		if (dtls_server_restore(l->dtls, identity, &peer, data, len, (uint64_t)now_ms()) == 0)
			d->dtls_restored++;
		break;
	}
	return 0;
}

static void restore_dtls_sessions(struct daemon *d)
{
	int rc = store_dtls_session_take_all(d->store, restore_one_session, d);
	if (rc != 0)
		LOG_WARN("main", "saved DTLS sessions not restored: %s", strerror(-rc));
	else if (d->dtls_restored)
		LOG_INFO("main", "%d saved DTLS sessions restored", d->dtls_restored);
}

struct save_ctx {
	struct daemon *d;
	int saved;
};

static int save_one_session(void *ctx, const char *identity, const struct addr *peer,
			    const uint8_t *data, size_t len)
{
	struct save_ctx *sc = ctx;
	char buf[ADDR_STR_MAX];
	int rc = store_dtls_session_put(sc->d->store, identity, addr_format(peer, buf), data, len);
	if (rc == 0)
		sc->saved++;
	return rc;
}

/* At shutdown: every established session into the store, in one transaction. */
static void save_dtls_sessions(struct daemon *d)
{
	struct save_ctx sc = { d, 0 };
	if (!d->store || store_begin(d->store) != 0)
		return;
	int rc = 0;
	for (int i = 0; i < d->listener_count && rc == 0; i++) {
		if (d->listeners[i].dtls)
			rc = dtls_server_save_all(d->listeners[i].dtls, save_one_session, &sc);
	}
	if (rc == 0 && store_commit(d->store) == 0) {
		if (sc.saved)
			LOG_INFO("main", "%d DTLS sessions saved", sc.saved);
	} else {
		if (rc != 0)
			store_rollback(d->store);
		LOG_WARN("main", "DTLS sessions not saved; devices will handshake again");
	}
}

/* Where a device's DM requests go: the socket (plain, or DTLS with its session) of the
 * transport it registered over, in the address family of its address. */
/* Observations are written through to the store as they come and go (one row each, rare
 * next to device traffic), and read back at start. */
static void observation_added(void *ctx, const struct lwm2m_observation *o)
{
	struct daemon *d = ctx;
	char path[40];
	lwm2m_path_format(&o->path, path, sizeof(path));
	if (store_observation_put(d->store, o->token, o->token_len, o->id, o->node_id, path) != 0)
		LOG_WARN("main", "observation %llu of '%s' not stored: a restart will lose it",
			 (unsigned long long)o->id, o->node_id);
}

static void observation_removed(void *ctx, const struct lwm2m_observation *o)
{
	struct daemon *d = ctx;
	store_observation_delete(d->store, o->token, o->token_len);
}

static int restore_observation(void *ctx, const uint8_t *token, size_t token_len, uint64_t id,
			       const char *node_id, const char *path_str)
{
	struct daemon *d = ctx;
	struct lwm2m_path path;
	if (lwm2m_path_parse(path_str, strlen(path_str), &path) != 0 ||
	    !lwm2m_observations_restore(d->observations, id, node_id, &path, token, token_len))
		LOG_WARN("main", "stored observation %llu of '%s' is not valid; ignored",
			 (unsigned long long)id, node_id);
	return 0;
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

static int daemon_start(struct daemon *d, const struct config *cfg)
{
	int rc;
	if (cfg->models[0]) {
		char err[512];
		rc = model_load_dir(cfg->models, err, sizeof(err));
		if (rc < 0) {
			fprintf(stderr, "lwm2md: --models: %s\n", err);
			return rc;
		}
		LOG_INFO("main", "%d object definitions loaded from %s", rc, cfg->models);
	}
	ensure_parent_dir(cfg->db);
	rc = store_open(&d->store, cfg->db);
	if (rc != 0) {
		fprintf(stderr, "lwm2md: cannot open the registry %s: %s\n", cfg->db,
			strerror(-rc));
		return rc;
	}
	rc = iot_devices_create(&d->devices, d->store);
	if (rc != 0)
		return rc;
	d->lwm2m = iot_devices_lwm2m(d->devices);
	rc = iot_devices_restore(d->devices, now_ms());
	if (rc < 0)
		return rc;
	LOG_INFO("main", "registry %s: %d live registrations restored", cfg->db, rc);

	struct coap_ep_config epcfg;
	coap_ep_config_defaults(&epcfg);
	epcfg.max_body = cfg->max_body;
	for (int i = 0; i < cfg->coap_count; i++) {
		rc = open_listener(d, cfg->coap[i], LWM2M_TRANSPORT_UDP, &epcfg, NULL);
		/* The IPv6 default is best effort: a host without IPv6 still serves IPv4. */
		if (rc != 0 && !cfg->coap_given && strcmp(cfg->coap[i], "[::]:5683") == 0) {
			LOG_WARN("main", "no IPv6 CoAP socket: %s", uv_strerror(rc));
			continue;
		}
		if (rc != 0)
			return rc;
	}
	for (int i = 0; i < cfg->coaps_count; i++) {
		rc = open_listener(d, cfg->coaps[i], LWM2M_TRANSPORT_DTLS, &epcfg, &cfg->dtls);
		if (rc != 0 && !cfg->coaps_given && strcmp(cfg->coaps[i], "[::]:5684") == 0) {
			LOG_WARN("main", "no IPv6 CoAPS socket: %s", uv_strerror(rc));
			continue;
		}
		if (rc != 0)
			return rc;
	}
	restore_dtls_sessions(d);
	d->queue_window_ms = cfg->queue_window_s * 1000;
	rc = lwm2m_requests_create(&d->requests, d->loop, route_device, clock_ms, d);
	if (rc == 0)
		rc = lwm2m_observations_create(&d->observations);
	if (rc != 0)
		return rc;
	if (store_observation_load_all(d->store, restore_observation, d) != 0)
		LOG_WARN("main", "stored observations not read; their notifications will get RST");
	static const struct lwm2m_observe_hooks observe_hooks = {
		.added = observation_added, .removed = observation_removed,
	};
	lwm2m_observations_set_hooks(d->observations, &observe_hooks, d);

	struct addr http;
	if (addr_parse(&http, cfg->http) != 0) {
		fprintf(stderr, "lwm2md: bad address '%s' for --http\n", cfg->http);
		return -EINVAL;
	}
	struct api_deps deps = {
		.store = d->store,
		.lwm2m = d->lwm2m,
		.requests = d->requests,
		.observations = d->observations,
		.device_removed = end_device_access,
		.secret_reset = end_device_access,
		.metrics = write_metrics,
		.ctx = d,
	};
	rc = api_server_start(&d->api, d->loop, &http, &deps);
	if (rc != 0) {
		fprintf(stderr, "lwm2md: cannot start the API on %s: %s\n", cfg->http,
			strerror(-rc));
		return rc;
	}
	iot_devices_set_event_handler(d->devices, on_iot_event, d);
	struct addr local;
	char buf[ADDR_STR_MAX];
	api_server_local_addr(d->api, &local);
	printf("listening http %s\n", addr_format(&local, buf));
	fflush(stdout);

	uv_timer_init(d->loop, &d->tick);
	d->tick.data = d;
	uv_timer_start(&d->tick, on_tick, TICK_MS, TICK_MS);
	uv_signal_init(d->loop, &d->sigint);
	uv_signal_init(d->loop, &d->sigterm);
	d->sigint.data = d->sigterm.data = d;
	uv_signal_start(&d->sigint, on_signal, SIGINT);
	uv_signal_start(&d->sigterm, on_signal, SIGTERM);
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
static void daemon_stop(struct daemon *d)
{
	save_dtls_sessions(d);
	/* The API first: it answers the calls still waiting for devices and cancels their
	 * requests; then the requests; then the endpoints they went through. */
	api_server_stop(d->api);
	d->api = NULL;
	lwm2m_requests_destroy(d->requests);
	d->requests = NULL;
	lwm2m_observations_destroy(d->observations);
	d->observations = NULL;
	for (int i = 0; i < d->listener_count; i++) {
		net_udp_close(d->listeners[i].udp);
		coap_ep_destroy(d->listeners[i].ep);
		dtls_server_destroy(d->listeners[i].dtls);
	}
	uv_walk(d->loop, close_handle, NULL);
	uv_run(d->loop, UV_RUN_DEFAULT);
	iot_devices_destroy(d->devices); /* flushes */
	model_unload_all();
	store_close(d->store);
}

int main(int argc, char **argv)
{
	if (argc >= 3 && strcmp(argv[1], "token") == 0 && strcmp(argv[2], "create") == 0)
		return token_create(argc, argv);

	struct config cfg;
	config_defaults(&cfg);
	int rc = config_from_args(&cfg, argc, argv, 1);
	if (rc != 0)
		return rc > 0 ? 0 : 2;

	struct daemon d;
	memset(&d, 0, sizeof(d));
	d.loop = uv_default_loop();
	rc = daemon_start(&d, &cfg);
	if (rc == 0) {
		LOG_INFO("main", "lwm2md %s ready", VERSION);
		uv_run(d.loop, UV_RUN_DEFAULT);
	}
	daemon_stop(&d);
	uv_loop_close(d.loop);
	LOG_INFO("main", "stopped");
	return rc == 0 ? 0 : 1;
}
