/*
 * dtls_load: the DTLS benchmark's client and its baseline.
 *
 *   dtls_load --mode inmem [--count N] [--suite ccm8|cbc]
 *       mbedTLS's own cost of a full PSK handshake (with the cookie exchange, as our
 *       server does it): an mbedTLS client and an mbedTLS server in one process, talking
 *       through memory, N times. No sockets, no daemon: the ceiling for one core doing
 *       both sides. Prints: phase=inmem handshakes=N seconds=S per_second=R
 *
 *   dtls_load --mode cache [--count N]
 *       The session-id cache: N sessions set then each looked up once in a cache of N,
 *       ours (dtls_cache: a hash) against mbedTLS's mbedtls_ssl_cache (a list), in CPU ns
 *       per operation. Prints: phase=cache entries=N mbedtls_ssl_cache_ns_per_op=..
 *       dtls_cache_ns_per_op=.. speedup=..
 *
 *   dtls_load --mode e2e --target IPV4:PORT --devices N [--prefix bench] --key HEX
 *             [--updates K] [--window W] [--suite ccm8|cbc] [--pid PID] [--after-restart 1]
 *             [--tickets 0]
 *       N devices (identity PREFIX + six digits, all with key HEX), each from its own
 *       address (127.1.x.1, a port below the ephemeral range), do a full handshake with
 *       the daemon and Register over it, at most W at once; then every device sends K
 *       Updates over its session. With --after-restart 1 it then prints
 *       phase=waiting_for_restart and reads the restarted daemon's "IPV4:PORT [PID]" from
 *       stdin,
 *       and every device sends one Update on its session as it was before the restart
 *       (no handshake). --tickets 0: the clients do not take session tickets, so the
 *       daemon keeps each session in its session-id cache. Prints a line per phase:
 *         phase=handshake_register devices=N ok=N failed=F seconds=S per_second=R
 *             p50_ms=.. p99_ms=.. rss_before_kb=.. rss_after_kb=.. rss_per_session_bytes=..
 *             client_saved_bytes_per_device=.. socket_failures=..
 *         phase=update|after_restart devices=.. requests=.. ok=.. failed=.. lost=..
 *             seconds=.. per_second=.. p50_ms=.. p99_ms=..
 *       (RSS is the daemon's, from /proc/PID/status, when --pid is given; lost: devices
 *       with a session before the phase that did not get their Updates through.)
 *
 * A device holds a live mbedTLS client and a socket only during an exchange; between
 * exchanges its session is serialized (mbedtls_ssl_context_save, ~200 bytes) and its
 * socket closed, and it comes back from the same address. So 100 000 devices need ~W
 * sockets and contexts, not 100 000 (a live client context is ~36 KB).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/ssl.h>
#include <mbedtls/ssl_cookie.h>
#include <mbedtls/timing.h>

#include <mbedtls/ssl_cache.h>

#include "coap/coap_msg.h"
#include "dtls/dtls_internal.h" /* dtls_cache, for --mode cache */

#define DEVICE_DEADLINE_MS 20000
#define DGRAM_MAX 2048

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static double cpu_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static mbedtls_entropy_context entropy;
static mbedtls_ctr_drbg_context drbg;
static int suites[2] = { 0xC0A8, 0 };
static uint8_t key[32];
static size_t key_len;
static bool no_tickets; /* --tickets 0: clients resume by session id only */

static int parse_hex(const char *hex)
{
	size_t n = strlen(hex);
	if (n == 0 || n % 2 || n / 2 > sizeof(key))
		return -EINVAL;
	for (size_t i = 0; i < n / 2; i++) {
		unsigned v;
		if (sscanf(hex + 2 * i, "%2x", &v) != 1)
			return -EINVAL;
		key[i] = (uint8_t)v;
	}
	key_len = n / 2;
	return 0;
}

#include "dtls_inmem.h" /* the in-memory baseline: run_inmem */

/* ---- the session-id cache: ours (a hash) against mbedtls_ssl_cache (a list) ---- */

/* N sessions set, then each looked up once, in a cache of N entries; returns ns per
 * operation. */
static double cache_round(uint32_t n, void *cache, int (*get)(void *, mbedtls_ssl_session *),
			  int (*set)(void *, const mbedtls_ssl_session *), uint32_t *found)
{
	mbedtls_ssl_session s;
	mbedtls_ssl_session_init(&s);
	s.id_len = 32;
	s.ciphersuite = suites[0];
	double t0 = cpu_seconds();
	for (uint32_t i = 0; i < n; i++) {
		memcpy(s.id, &i, sizeof(i));
		set(cache, &s);
	}
	*found = 0;
	for (uint32_t i = 0; i < n; i++) {
		mbedtls_ssl_session q;
		mbedtls_ssl_session_init(&q);
		q.id_len = 32;
		memcpy(q.id, &i, sizeof(i));
		*found += get(cache, &q) == 0;
		mbedtls_ssl_session_free(&q);
	}
	double secs = cpu_seconds() - t0;
	mbedtls_ssl_session_free(&s);
	return secs * 1e9 / (2.0 * n);
}

static int run_cache(uint32_t n)
{
	mbedtls_ssl_cache_context theirs;
	mbedtls_ssl_cache_init(&theirs);
	mbedtls_ssl_cache_set_max_entries(&theirs, (int)n);
	struct dtls_cache ours;
	uint64_t clock = 0;
	if (dtls_cache_init(&ours, n, 0, &clock) != 0)
		return 2;
	uint32_t found_theirs, found_ours;
	double ns_theirs = cache_round(n, &theirs, mbedtls_ssl_cache_get, mbedtls_ssl_cache_set,
				       &found_theirs);
	double ns_ours = cache_round(n, &ours, dtls_cache_get, dtls_cache_set, &found_ours);
	printf("phase=cache entries=%u mbedtls_ssl_cache_ns_per_op=%.0f dtls_cache_ns_per_op=%.0f "
	       "speedup=%.1f found=%u/%u\n",
	       n, ns_theirs, ns_ours, ns_ours > 0 ? ns_theirs / ns_ours : 0.0, found_ours,
	       found_theirs);
	mbedtls_ssl_cache_free(&theirs);
	dtls_cache_destroy(&ours);
	return found_ours == n && found_theirs == n ? 0 : 1;
}

/* ---- end to end: devices over UDP to the daemon ---- */

/* Device i's own source address, so that a device can close its socket between
 * exchanges and come back from the same address (the daemon knows a session by it):
 * 127.1.(i / PORTS_PER_IP + 1).1, port PORT_BASE + i % PORTS_PER_IP. The ports are
 * below Linux's ephemeral range, so nothing else on the machine is handed them. */
#define PORT_BASE 10000
#define PORTS_PER_IP 22000
#define RETRANSMIT_MS 2000
#define RETRANSMITS 3

enum dev_state { DEV_IDLE, DEV_HANDSHAKE, DEV_REGISTER, DEV_READY, DEV_UPDATE, DEV_FAILED };

/* A device's mbedTLS client while it has an exchange in flight (at most --window). */
struct client_live {
	mbedtls_ssl_config conf; /* its own for a handshake (the PSK identity); else unused */
	bool own_conf;
	mbedtls_ssl_context ssl;
	mbedtls_timing_delay_context timer;
};

/* Between exchanges a device holds only its serialized session (mbedtls_ssl_context_save,
 * as the daemon hibernates its side): 100 000 live clients would need 3.6 GB. */
struct device {
	int fd; /* -1 between exchanges */
	uint8_t state;
	uint8_t retries;
	uint8_t reg_len;
	struct client_live *live;
	uint8_t *saved;
	size_t saved_len;
	uint64_t started, sent_at, deadline;
	uint16_t mid;
	char reg_id[24];
	uint32_t updates_left;
};

struct e2e {
	struct sockaddr_in target;
	const char *prefix;
	struct device *dev;
	uint32_t n;
	int epfd;
	mbedtls_ssl_config wake_conf; /* the conf a hibernated client is loaded on */
	/* Reset clients on wake_conf for the next wake-up, as the daemon pools its
	 * contexts: the client would otherwise pay fresh pages for each one. */
	struct client_live **spare;
	uint32_t spare_count, spare_max;
	uint32_t active; /* devices with an exchange in flight */
	uint32_t ok, failed;
	uint64_t *lat; /* ms, per completed exchange of the current phase */
	uint32_t nlat;
	uint32_t open_failed, save_failed;
	long pid; /* the daemon's, for its CPU time; 0: unknown */
};

static void identity_of(const struct e2e *e, uint32_t i, char out[64])
{
	snprintf(out, 64, "%s%06" PRIu32, e->prefix, i);
}

static int dev_send(void *ctx, const unsigned char *buf, size_t len)
{
	struct device *d = ctx;
	ssize_t n = send(d->fd, buf, len, MSG_DONTWAIT);
	if (n < 0)
		return errno == EAGAIN ? MBEDTLS_ERR_SSL_WANT_WRITE : MBEDTLS_ERR_NET_SEND_FAILED;
	return (int)n;
}

static int dev_recv(void *ctx, unsigned char *buf, size_t len)
{
	struct device *d = ctx;
	ssize_t n = recv(d->fd, buf, len, MSG_DONTWAIT);
	if (n < 0)
		return errno == EAGAIN ? MBEDTLS_ERR_SSL_WANT_READ : MBEDTLS_ERR_NET_RECV_FAILED;
	return (int)n;
}

/* Opens device i's socket on its own address, connected to the target. */
static int dev_open(struct e2e *e, uint32_t i)
{
	struct device *d = &e->dev[i];
	struct sockaddr_in self = { .sin_family = AF_INET };
	self.sin_port = htons((uint16_t)(PORT_BASE + i % PORTS_PER_IP));
	self.sin_addr.s_addr = htonl((127u << 24) | (1u << 16) | ((i / PORTS_PER_IP + 1) << 8) | 1);
	int one = 1;
	d->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (d->fd < 0 || setsockopt(d->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(d->fd, (struct sockaddr *)&self, sizeof(self)) < 0 ||
	    connect(d->fd, (struct sockaddr *)&e->target, sizeof(e->target)) < 0) {
		if (e->open_failed++ == 0)
			fprintf(stderr, "dtls_load: device %u's socket: %s\n", i, strerror(errno));
		if (d->fd >= 0)
			close(d->fd);
		d->fd = -1;
		return -1;
	}
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = i };
	epoll_ctl(e->epfd, EPOLL_CTL_ADD, d->fd, &ev);
	return 0;
}

static void live_free(struct e2e *e, struct device *d)
{
	if (d->live && !d->live->own_conf && e->spare_count < e->spare_max &&
	    mbedtls_ssl_session_reset(&d->live->ssl) == 0) {
		e->spare[e->spare_count++] = d->live;
		d->live = NULL;
	}
	if (d->live) {
		mbedtls_ssl_free(&d->live->ssl);
		if (d->live->own_conf)
			mbedtls_ssl_config_free(&d->live->conf);
		free(d->live);
		d->live = NULL;
	}
	if (d->fd >= 0)
		close(d->fd);
	d->fd = -1;
}

static void bind_live(struct device *d)
{
	mbedtls_ssl_set_bio(&d->live->ssl, d, dev_send, dev_recv, NULL);
	mbedtls_ssl_set_timer_cb(&d->live->ssl, &d->live->timer, mbedtls_timing_set_delay,
				 mbedtls_timing_get_delay);
}

/* The exchange is over: the client's session is serialized, its context and socket
 * freed. The daemon's side of the session is untouched. */
static void dev_hibernate(struct e2e *e, struct device *d)
{
	size_t need = 0;
	if (mbedtls_ssl_context_save(&d->live->ssl, NULL, 0, &need) ==
	    MBEDTLS_ERR_SSL_BUFFER_TOO_SMALL) {
		uint8_t *buf = realloc(d->saved, need);
		if (buf && mbedtls_ssl_context_save(&d->live->ssl, buf, need, &d->saved_len) == 0) {
			d->saved = buf;
		} else {
			free(buf);
			d->saved = NULL;
			d->saved_len = 0;
		}
	}
	if (!d->saved) {
		e->save_failed++;
		d->state = DEV_FAILED;
	}
	live_free(e, d);
}

/* Back from hibernation: socket, context, session. */
static int dev_wake(struct e2e *e, uint32_t i)
{
	struct device *d = &e->dev[i];
	if (!d->saved || dev_open(e, i) != 0)
		return -1;
	if (e->spare_count > 0) {
		d->live = e->spare[--e->spare_count];
	} else {
		d->live = calloc(1, sizeof(*d->live));
		if (d->live && mbedtls_ssl_setup(&d->live->ssl, &e->wake_conf) != 0) {
			free(d->live);
			d->live = NULL;
		}
	}
	if (!d->live || mbedtls_ssl_context_load(&d->live->ssl, d->saved, d->saved_len) != 0) {
		live_free(e, d);
		return -1;
	}
	bind_live(d);
	return 0;
}

static void finish(struct e2e *e, struct device *d, bool ok, enum dev_state next)
{
	if (ok) {
		e->ok++;
		e->lat[e->nlat++] = now_ms() - d->started;
	} else {
		e->failed++;
	}
	d->state = (uint8_t)(ok ? next : DEV_FAILED);
	e->active--;
	if (ok && d->live)
		dev_hibernate(e, d);
	else
		live_free(e, d);
}

/* Sends a Register (ep = identity) or an Update over the device's session; again == true
 * retransmits the same message. */
static int send_coap(struct e2e *e, struct device *d, bool reg, bool again)
{
	struct coap_msg m;
	uint8_t buf[256];
	char identity[64], ep[80];
	if (!again)
		++d->mid;
	uint8_t token[2] = { (uint8_t)(d->mid >> 8), (uint8_t)d->mid };
	coap_msg_init(&m, COAP_TYPE_CON, COAP_CODE_POST, d->mid, token, 2);
	coap_msg_add_option(&m, COAP_OPTION_URI_PATH, "rd", 2);
	if (reg) {
		identity_of(e, (uint32_t)(d - e->dev), identity);
		snprintf(ep, sizeof(ep), "ep=%s", identity);
		coap_msg_add_uint_option(&m, COAP_OPTION_CONTENT_FORMAT, COAP_CT_LINK_FORMAT);
		coap_msg_add_option(&m, COAP_OPTION_URI_QUERY, ep, strlen(ep));
		coap_msg_add_option(&m, COAP_OPTION_URI_QUERY, "lt=86400", 8);
		coap_msg_set_payload(&m, "</1/0>,</3/0>,</19/0>", 21);
	} else {
		coap_msg_add_option(&m, COAP_OPTION_URI_PATH, d->reg_id, d->reg_len);
	}
	int n = coap_msg_encode(&m, buf, sizeof(buf));
	if (n < 0)
		return n;
	d->sent_at = now_ms();
	return mbedtls_ssl_write(&d->live->ssl, buf, (size_t)n) == n ? 0 : -EIO;
}

static void on_coap(struct e2e *e, struct device *d, const uint8_t *buf, size_t len)
{
	struct coap_msg r;
	if (coap_msg_parse(&r, buf, len) != 0 || r.mid != d->mid)
		return;
	if (d->state == DEV_REGISTER) {
		const struct coap_option *loc = NULL;
		for (size_t k = 0; k < r.option_count; k++)
			if (r.options[k].number == COAP_OPTION_LOCATION_PATH)
				loc = &r.options[k]; /* the last: the id */
		bool ok = r.code == COAP_CODE_CREATED && loc && loc->len < sizeof(d->reg_id);
		if (ok) {
			memcpy(d->reg_id, loc->value, loc->len);
			d->reg_len = (uint8_t)loc->len;
		}
		finish(e, d, ok, DEV_READY);
	} else if (d->state == DEV_UPDATE) {
		if (r.code != COAP_CODE_CHANGED) {
			finish(e, d, false, DEV_READY);
		} else if (--d->updates_left == 0) {
			finish(e, d, true, DEV_READY);
		} else {
			e->ok++;
			e->lat[e->nlat++] = now_ms() - d->started;
			d->started = now_ms();
			d->retries = 0;
			if (send_coap(e, d, false, false) != 0)
				finish(e, d, false, DEV_READY);
		}
	}
}

static void step(struct e2e *e, struct device *d)
{
	if (!d->live)
		return; /* a late datagram for a device between exchanges */
	if (d->state == DEV_HANDSHAKE) {
		int rc = mbedtls_ssl_handshake(&d->live->ssl);
		if (rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE)
			return;
		d->retries = 0;
		if (rc != 0 || send_coap(e, d, true, false) != 0) {
			finish(e, d, false, DEV_FAILED);
			return;
		}
		d->state = DEV_REGISTER;
	}
	uint8_t buf[DGRAM_MAX];
	while (d->live && (d->state == DEV_REGISTER || d->state == DEV_UPDATE)) {
		int rc = mbedtls_ssl_read(&d->live->ssl, buf, sizeof(buf));
		if (rc <= 0)
			return;
		on_coap(e, d, buf, (size_t)rc);
	}
}

static int dev_start(struct e2e *e, uint32_t i)
{
	struct device *d = &e->dev[i];
	char identity[64];
	identity_of(e, i, identity);
	if (dev_open(e, i) != 0)
		return -EIO;
	d->live = calloc(1, sizeof(*d->live));
	if (!d->live)
		return -ENOMEM;
	struct client_live *l = d->live;
	mbedtls_ssl_config_init(&l->conf);
	l->own_conf = true;
	mbedtls_ssl_init(&l->ssl);
	if (mbedtls_ssl_config_defaults(&l->conf, MBEDTLS_SSL_IS_CLIENT,
					MBEDTLS_SSL_TRANSPORT_DATAGRAM, MBEDTLS_SSL_PRESET_DEFAULT))
		return -EIO;
	mbedtls_ssl_conf_rng(&l->conf, mbedtls_ctr_drbg_random, &drbg);
	mbedtls_ssl_conf_ciphersuites(&l->conf, suites);
	mbedtls_ssl_conf_psk(&l->conf, key, key_len, (const unsigned char *)identity,
			     strlen(identity));
	if (no_tickets) /* the server then caches each session under its id */
		mbedtls_ssl_conf_session_tickets(&l->conf, MBEDTLS_SSL_SESSION_TICKETS_DISABLED);
	if (mbedtls_ssl_setup(&l->ssl, &l->conf))
		return -EIO;
	bind_live(d);
	d->state = DEV_HANDSHAKE;
	d->started = now_ms();
	d->deadline = d->started + DEVICE_DEADLINE_MS;
	e->active++;
	step(e, d);
	return 0;
}

/* Handshake flights and CoAP retransmissions, and deadlines. */
static void scan(struct e2e *e, uint32_t upto)
{
	uint64_t now = now_ms();
	for (uint32_t i = 0; i < upto; i++) {
		struct device *d = &e->dev[i];
		if (!d->live)
			continue;
		if (d->state == DEV_HANDSHAKE &&
		    mbedtls_timing_get_delay(&d->live->timer) == 2)
			step(e, d);
		if ((d->state == DEV_REGISTER || d->state == DEV_UPDATE) &&
		    now - d->sent_at >= RETRANSMIT_MS && d->retries < RETRANSMITS) {
			d->retries++;
			if (send_coap(e, d, d->state == DEV_REGISTER, true) != 0)
				finish(e, d, false, DEV_FAILED);
		}
		if (d->live && now > d->deadline)
			finish(e, d, false, DEV_FAILED);
	}
}

/* Runs until every started exchange ended; start(i) begins device i's exchange. */
static void drive(struct e2e *e, uint32_t window, bool (*start)(struct e2e *, uint32_t, void *),
		  void *ctx)
{
	uint32_t next = 0;
	uint64_t last_scan = now_ms();
	struct epoll_event evs[256];
	for (;;) {
		while (e->active < window && next < e->n)
			start(e, next++, ctx);
		if (e->active == 0 && next >= e->n)
			return;
		int n = epoll_wait(e->epfd, evs, 256, 5);
		for (int k = 0; k < n; k++)
			step(e, &e->dev[evs[k].data.u32]);
		/* Rare, so a scan of the started devices is fine. */
		if (now_ms() - last_scan >= 100) {
			last_scan = now_ms();
			scan(e, next);
		}
	}
}

static bool start_register(struct e2e *e, uint32_t i, void *ctx)
{
	(void)ctx;
	if (dev_start(e, i) != 0) {
		e->failed++;
		e->dev[i].state = DEV_FAILED;
		live_free(e, &e->dev[i]);
		return false;
	}
	return true;
}

static bool start_updates(struct e2e *e, uint32_t i, void *ctx)
{
	uint32_t updates = *(uint32_t *)ctx;
	struct device *d = &e->dev[i];
	if (d->state != DEV_READY || updates == 0)
		return false;
	if (dev_wake(e, i) != 0) {
		e->failed++;
		d->state = DEV_FAILED;
		return false;
	}
	d->state = DEV_UPDATE;
	d->updates_left = updates;
	d->started = now_ms();
	d->deadline = d->started + DEVICE_DEADLINE_MS;
	d->retries = 0;
	e->active++;
	if (send_coap(e, d, false, false) != 0)
		finish(e, d, false, DEV_READY);
	return true;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static uint64_t quantile(struct e2e *e, double q)
{
	if (e->nlat == 0)
		return 0;
	qsort(e->lat, e->nlat, sizeof(e->lat[0]), cmp_u64);
	size_t k = (size_t)(q * (e->nlat - 1));
	return e->lat[k];
}

static long rss_kb(long pid)
{
	char path[64], line[256];
	long kb = -1;
	snprintf(path, sizeof(path), "/proc/%ld/status", pid);
	FILE *f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, "VmRSS:", 6) == 0)
			kb = strtol(line + 6, NULL, 10);
	if (f)
		fclose(f);
	return kb;
}

/* The CPU time (user + system) process pid has used, in seconds; -1 if unknown. */
static double proc_cpu_seconds(long pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	FILE *f = fopen(path, "r");
	size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
	if (f)
		fclose(f);
	buf[n] = '\0';
	char *p = strrchr(buf, ')'); /* the command name may hold spaces */
	unsigned long ut, st;
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut,
			 &st) != 2)
		return -1;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static int parse_target(struct sockaddr_in *sa, const char *target)
{
	char host[64];
	const char *colon = target ? strrchr(target, ':') : NULL;
	if (!colon || (size_t)(colon - target) >= sizeof(host))
		return -EINVAL;
	memcpy(host, target, (size_t)(colon - target));
	host[colon - target] = '\0';
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)atoi(colon + 1));
	return inet_pton(AF_INET, host, &sa->sin_addr) == 1 ? 0 : -EINVAL;
}

/* One phase of Updates by every device that has a session; prints its line. */
static uint32_t update_phase(struct e2e *e, const char *name, uint32_t window, uint32_t updates)
{
	uint32_t ready = 0;
	for (uint32_t i = 0; i < e->n; i++)
		ready += e->dev[i].state == DEV_READY;
	e->ok = e->failed = e->nlat = 0;
	uint64_t t0 = now_ms();
	double cpu0 = e->pid > 0 ? proc_cpu_seconds(e->pid) : -1;
	drive(e, window, start_updates, &updates);
	double secs = (double)(now_ms() - t0) / 1000.0;
	double cpu = cpu0 >= 0 ? proc_cpu_seconds(e->pid) - cpu0 : -1;
	uint32_t back = 0;
	for (uint32_t i = 0; i < e->n; i++)
		back += e->dev[i].state == DEV_READY;
	printf("phase=%s devices=%u requests=%u ok=%u failed=%u lost=%u seconds=%.3f "
	       "per_second=%.0f p50_ms=%" PRIu64 " p99_ms=%" PRIu64 " daemon_cpu_seconds=%.2f\n",
	       name, ready, e->ok + e->failed, e->ok, e->failed, ready - back, secs,
	       secs > 0 ? e->ok / secs : 0.0, quantile(e, 0.5), quantile(e, 0.99), cpu);
	fflush(stdout);
	return ready - back;
}

static int run_e2e(struct e2e *e, uint32_t window, uint32_t updates, long pid,
		   bool after_restart)
{
	e->dev = calloc(e->n, sizeof(*e->dev));
	e->lat = calloc((size_t)e->n * (updates + 1), sizeof(*e->lat));
	e->epfd = epoll_create1(EPOLL_CLOEXEC);
	e->spare_max = window;
	e->spare = calloc(window, sizeof(*e->spare));
	e->pid = pid;
	mbedtls_ssl_config_init(&e->wake_conf);
	if (!e->dev || !e->lat || e->epfd < 0 || !e->spare ||
	    mbedtls_ssl_config_defaults(&e->wake_conf, MBEDTLS_SSL_IS_CLIENT,
					MBEDTLS_SSL_TRANSPORT_DATAGRAM, MBEDTLS_SSL_PRESET_DEFAULT))
		return 2;
	mbedtls_ssl_conf_rng(&e->wake_conf, mbedtls_ctr_drbg_random, &drbg);
	mbedtls_ssl_conf_ciphersuites(&e->wake_conf, suites);
	for (uint32_t i = 0; i < e->n; i++)
		e->dev[i].fd = -1;
	long before = pid > 0 ? rss_kb(pid) : -1;
	double cpu0 = pid > 0 ? proc_cpu_seconds(pid) : -1;
	uint64_t t0 = now_ms();
	drive(e, window, start_register, NULL);
	double secs = (double)(now_ms() - t0) / 1000.0;
	double cpu = pid > 0 && cpu0 >= 0 ? proc_cpu_seconds(pid) - cpu0 : -1;
	long after = pid > 0 ? rss_kb(pid) : -1;
	size_t client_bytes = 0;
	for (uint32_t i = 0; i < e->n; i++)
		client_bytes += e->dev[i].saved_len;
	printf("phase=handshake_register devices=%u ok=%u failed=%u seconds=%.3f per_second=%.0f "
	       "p50_ms=%" PRIu64 " p99_ms=%" PRIu64 " rss_before_kb=%ld rss_after_kb=%ld "
	       "rss_per_session_bytes=%ld client_saved_bytes_per_device=%zu socket_failures=%u "
	       "daemon_cpu_seconds=%.2f per_daemon_cpu_second=%.0f\n",
	       e->n, e->ok, e->failed, secs, secs > 0 ? e->ok / secs : 0.0, quantile(e, 0.5),
	       quantile(e, 0.99), before, after,
	       e->ok && before >= 0 ? (after - before) * 1024 / (long)e->ok : -1,
	       e->ok ? client_bytes / e->ok : 0, e->open_failed, cpu,
	       cpu > 0 ? e->ok / cpu : 0.0);
	fflush(stdout);
	uint32_t failed = e->failed + update_phase(e, "update", window, updates);

	if (after_restart) {
		/* The daemon is restarted meanwhile; the next line of stdin is its new
		 * address. Every device then sends one Update on its saved session. */
		char line[128];
		printf("phase=waiting_for_restart\n");
		fflush(stdout);
		if (!fgets(line, sizeof(line), stdin) ||
		    parse_target(&e->target, strtok(line, " \r\n")) != 0) {
			fprintf(stderr, "dtls_load: no new target on stdin\n");
			return 2;
		}
		const char *new_pid = strtok(NULL, " \r\n"); /* optional */
		e->pid = new_pid ? strtol(new_pid, NULL, 10) : 0;
		failed += update_phase(e, "after_restart", window, 1);
	}
	for (uint32_t i = 0; i < e->n; i++) {
		live_free(e, &e->dev[i]);
		free(e->dev[i].saved);
	}
	while (e->spare_count > 0) {
		struct client_live *l = e->spare[--e->spare_count];
		mbedtls_ssl_free(&l->ssl);
		free(l);
	}
	free(e->spare);
	mbedtls_ssl_config_free(&e->wake_conf);
	free(e->dev);
	free(e->lat);
	close(e->epfd);
	return failed ? 1 : 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: dtls_load --mode inmem [--count N] [--suite ccm8|cbc] [--key HEX]\n"
			"       dtls_load --mode cache [--count N]\n"
			"       dtls_load --mode e2e --target IPV4:PORT --devices N --key HEX\n"
			"                 [--prefix P] [--updates K] [--window W] [--suite ccm8|cbc]\n"
			"                 [--pid PID] [--after-restart 0|1] [--tickets 0|1]\n");
}

int main(int argc, char **argv)
{
	const char *mode = NULL, *target = NULL, *prefix = "bench", *hex = "00112233445566778899aabbccddeeff";
	uint32_t count = 1000, devices = 1000, updates = 10, window = 64;
	long pid = 0;
	bool after_restart = false;
	for (int i = 1; i + 1 < argc; i += 2) {
		const char *a = argv[i], *v = argv[i + 1];
		if (strcmp(a, "--mode") == 0)
			mode = v;
		else if (strcmp(a, "--target") == 0)
			target = v;
		else if (strcmp(a, "--prefix") == 0)
			prefix = v;
		else if (strcmp(a, "--key") == 0)
			hex = v;
		else if (strcmp(a, "--count") == 0)
			count = (uint32_t)strtoul(v, NULL, 10);
		else if (strcmp(a, "--devices") == 0)
			devices = (uint32_t)strtoul(v, NULL, 10);
		else if (strcmp(a, "--updates") == 0)
			updates = (uint32_t)strtoul(v, NULL, 10);
		else if (strcmp(a, "--window") == 0)
			window = (uint32_t)strtoul(v, NULL, 10);
		else if (strcmp(a, "--tickets") == 0)
			no_tickets = strcmp(v, "0") == 0;
		else if (strcmp(a, "--after-restart") == 0)
			after_restart = strcmp(v, "0") != 0;
		else if (strcmp(a, "--pid") == 0)
			pid = strtol(v, NULL, 10);
		else if (strcmp(a, "--suite") == 0 && strcmp(v, "cbc") == 0)
			suites[0] = 0x00AE;
		else if (strcmp(a, "--suite") == 0 && strcmp(v, "ccm8") == 0)
			suites[0] = 0xC0A8;
		else {
			usage();
			return 2;
		}
	}
	if (!mode || parse_hex(hex) != 0 || window == 0 || devices == 0 || count == 0) {
		usage();
		return 2;
	}
	mbedtls_entropy_init(&entropy);
	mbedtls_ctr_drbg_init(&drbg);
	if (mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &entropy, NULL, 0) != 0)
		return 2;
	if (strcmp(mode, "inmem") == 0)
		return run_inmem(count);
	if (strcmp(mode, "cache") == 0)
		return run_cache(count);
	struct e2e e = { .n = devices, .prefix = prefix };
	if (strcmp(mode, "e2e") != 0 || parse_target(&e.target, target) != 0 ||
	    devices > PORTS_PER_IP * 254u) {
		usage();
		return 2;
	}
	return run_e2e(&e, window, updates, pid, after_restart);
}
