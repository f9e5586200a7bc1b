/*
 * dtls_load: the DTLS benchmark's client and its baseline.
 *
 *   dtls_load --mode inmem [--count N] [--suite ccm8|cbc]
 *       mbedTLS's own cost of a full PSK handshake (with the cookie exchange, as our
 *       server does it): an mbedTLS client and an mbedTLS server in one process, talking
 *       through memory, N times. No sockets, no daemon: the ceiling for one core doing
 *       both sides. Prints: phase=inmem handshakes=N seconds=S per_second=R
 *
 *   dtls_load --mode e2e --target IPV4:PORT --devices N [--prefix bench] --key HEX
 *             [--updates K] [--window W] [--suite ccm8|cbc] [--pid PID] [--keep-open 1]
 *       N devices (identity PREFIX + six digits, all with key HEX) each open a UDP socket,
 *       do a full handshake with the daemon and Register over it, at most W at once;
 *       then every device sends K Updates over its session. Prints a line per phase:
 *         phase=handshake_register devices=N ok=N failed=F seconds=S per_second=R
 *             p50_ms=.. p99_ms=.. rss_before_kb=.. rss_after_kb=.. rss_per_session_bytes=..
 *         phase=update requests=.. ok=.. failed=.. seconds=.. per_second=..
 *       (RSS is the daemon's, from /proc/PID/status, when --pid is given.)
 *
 * Sessions stay open until the end, so the daemon holds N live sessions when the RSS is
 * read (run the daemon with a --dtls-idle-seconds longer than the run).
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
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/ssl.h>
#include <mbedtls/ssl_cookie.h>
#include <mbedtls/timing.h>

#include "coap/coap_msg.h"

#define DEVICE_DEADLINE_MS 20000
#define DGRAM_MAX 2048

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static mbedtls_entropy_context entropy;
static mbedtls_ctr_drbg_context drbg;
static int suites[2] = { 0xC0A8, 0 };
static uint8_t key[32];
static size_t key_len;

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

/* ---- in memory: an mbedTLS client and server through two queues ---- */

struct queue {
	uint8_t d[8][DGRAM_MAX];
	size_t len[8];
	int head, count;
};

/* One side's view of the two queues: it writes to out and reads from in. */
struct duplex {
	struct queue *out, *in;
};

static int duplex_send(void *ctx, const unsigned char *buf, size_t len)
{
	struct queue *q = ((struct duplex *)ctx)->out;
	if (q->count == 8 || len > DGRAM_MAX)
		return (int)len; /* dropped, like a full socket */
	int slot = (q->head + q->count) % 8;
	memcpy(q->d[slot], buf, len);
	q->len[slot] = len;
	q->count++;
	return (int)len;
}

static int duplex_recv(void *ctx, unsigned char *buf, size_t len)
{
	struct queue *q = ((struct duplex *)ctx)->in;
	if (q->count == 0)
		return MBEDTLS_ERR_SSL_WANT_READ;
	size_t n = q->len[q->head] < len ? q->len[q->head] : len;
	memcpy(buf, q->d[q->head], n);
	q->head = (q->head + 1) % 8;
	q->count--;
	return (int)n;
}

static int inmem_psk(void *ctx, mbedtls_ssl_context *ssl, const unsigned char *id, size_t len)
{
	(void)ctx;
	(void)id;
	(void)len;
	return mbedtls_ssl_set_hs_psk(ssl, key, key_len);
}

/* One full handshake, cookie exchange included; returns true when both sides finished. */
static bool inmem_handshake(mbedtls_ssl_config *sconf, mbedtls_ssl_config *cconf, uint32_t i)
{
	static struct queue to_server, to_client;
	memset(&to_server, 0, sizeof(to_server));
	memset(&to_client, 0, sizeof(to_client));
	struct duplex sd = { &to_client, &to_server }, cd = { &to_server, &to_client };
	mbedtls_ssl_context srv, cli;
	mbedtls_timing_delay_context st, ct;
	mbedtls_ssl_init(&srv);
	mbedtls_ssl_init(&cli);
	bool ok = mbedtls_ssl_setup(&srv, sconf) == 0 && mbedtls_ssl_setup(&cli, cconf) == 0;
	mbedtls_ssl_set_bio(&srv, &sd, duplex_send, duplex_recv, NULL);
	mbedtls_ssl_set_bio(&cli, &cd, duplex_send, duplex_recv, NULL);
	mbedtls_ssl_set_timer_cb(&srv, &st, mbedtls_timing_set_delay, mbedtls_timing_get_delay);
	mbedtls_ssl_set_timer_cb(&cli, &ct, mbedtls_timing_set_delay, mbedtls_timing_get_delay);
	uint8_t id[4] = { (uint8_t)(i >> 24), (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i };
	mbedtls_ssl_set_client_transport_id(&srv, id, sizeof(id));
	int rc_s = MBEDTLS_ERR_SSL_WANT_READ, rc_c = MBEDTLS_ERR_SSL_WANT_READ;
	for (int step = 0; ok && step < 40 && (rc_s != 0 || rc_c != 0); step++) {
		if (rc_c != 0)
			rc_c = mbedtls_ssl_handshake(&cli);
		if (rc_s != 0) {
			rc_s = mbedtls_ssl_handshake(&srv);
			if (rc_s == MBEDTLS_ERR_SSL_HELLO_VERIFY_REQUIRED) {
				mbedtls_ssl_session_reset(&srv);
				mbedtls_ssl_set_client_transport_id(&srv, id, sizeof(id));
				rc_s = MBEDTLS_ERR_SSL_WANT_READ;
			}
		}
		if ((rc_c != 0 && rc_c != MBEDTLS_ERR_SSL_WANT_READ) ||
		    (rc_s != 0 && rc_s != MBEDTLS_ERR_SSL_WANT_READ))
			ok = false;
	}
	mbedtls_ssl_free(&srv);
	mbedtls_ssl_free(&cli);
	return ok && rc_s == 0 && rc_c == 0;
}

static int run_inmem(uint32_t count)
{
	mbedtls_ssl_config sconf, cconf;
	mbedtls_ssl_cookie_ctx cookies;
	mbedtls_ssl_config_init(&sconf);
	mbedtls_ssl_config_init(&cconf);
	mbedtls_ssl_cookie_init(&cookies);
	if (mbedtls_ssl_config_defaults(&sconf, MBEDTLS_SSL_IS_SERVER,
					MBEDTLS_SSL_TRANSPORT_DATAGRAM,
					MBEDTLS_SSL_PRESET_DEFAULT) ||
	    mbedtls_ssl_config_defaults(&cconf, MBEDTLS_SSL_IS_CLIENT,
					MBEDTLS_SSL_TRANSPORT_DATAGRAM,
					MBEDTLS_SSL_PRESET_DEFAULT) ||
	    mbedtls_ssl_cookie_setup(&cookies, mbedtls_ctr_drbg_random, &drbg))
		return 1;
	mbedtls_ssl_conf_rng(&sconf, mbedtls_ctr_drbg_random, &drbg);
	mbedtls_ssl_conf_rng(&cconf, mbedtls_ctr_drbg_random, &drbg);
	mbedtls_ssl_conf_ciphersuites(&sconf, suites);
	mbedtls_ssl_conf_ciphersuites(&cconf, suites);
	mbedtls_ssl_conf_dtls_cookies(&sconf, mbedtls_ssl_cookie_write, mbedtls_ssl_cookie_check,
				      &cookies);
	mbedtls_ssl_conf_psk_cb(&sconf, inmem_psk, NULL);
	mbedtls_ssl_conf_psk(&cconf, key, key_len, (const unsigned char *)"bench000000", 11);

	uint64_t t0 = now_ms();
	uint32_t done = 0;
	for (uint32_t i = 0; i < count; i++)
		done += inmem_handshake(&sconf, &cconf, i);
	double secs = (double)(now_ms() - t0) / 1000.0;
	printf("phase=inmem handshakes=%u failed=%u seconds=%.3f per_second=%.0f\n", done,
	       count - done, secs, secs > 0 ? done / secs : 0.0);
	mbedtls_ssl_cookie_free(&cookies);
	mbedtls_ssl_config_free(&sconf);
	mbedtls_ssl_config_free(&cconf);
	return done == count ? 0 : 1;
}

/* ---- end to end: devices over UDP to the daemon ---- */

enum dev_state { DEV_IDLE, DEV_HANDSHAKE, DEV_REGISTER, DEV_READY, DEV_UPDATE, DEV_FAILED };

struct device {
	int fd;
	uint8_t state;
	char identity[48];
	mbedtls_ssl_config conf;
	mbedtls_ssl_context ssl;
	mbedtls_timing_delay_context timer;
	uint64_t started, deadline;
	uint16_t mid;
	char reg_id[32];
	uint8_t reg_len;
	uint32_t updates_left;
};

struct e2e {
	struct sockaddr_in target;
	struct device *dev;
	uint32_t n;
	int epfd;
	uint32_t active; /* devices with an exchange in flight */
	uint32_t ok, failed;
	uint64_t *lat; /* ms, per completed exchange of the current phase */
	uint32_t nlat;
};

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
}

/* Sends a Register (ep = identity) or an Update over the device's session. */
static int send_coap(struct device *d, bool reg)
{
	struct coap_msg m;
	uint8_t buf[256];
	char ep[64];
	uint8_t token[2] = { (uint8_t)(d->mid >> 8), (uint8_t)d->mid };
	coap_msg_init(&m, COAP_TYPE_CON, COAP_CODE_POST, ++d->mid, token, 2);
	coap_msg_add_option(&m, COAP_OPTION_URI_PATH, "rd", 2);
	if (reg) {
		snprintf(ep, sizeof(ep), "ep=%s", d->identity);
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
	return mbedtls_ssl_write(&d->ssl, buf, (size_t)n) == n ? 0 : -EIO;
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
			if (send_coap(d, false) != 0)
				finish(e, d, false, DEV_READY);
		}
	}
}

static void step(struct e2e *e, struct device *d)
{
	if (d->state == DEV_HANDSHAKE) {
		int rc = mbedtls_ssl_handshake(&d->ssl);
		if (rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE)
			return;
		if (rc != 0 || send_coap(d, true) != 0) {
			finish(e, d, false, DEV_FAILED);
			return;
		}
		d->state = DEV_REGISTER;
	}
	uint8_t buf[DGRAM_MAX];
	while (d->state == DEV_REGISTER || d->state == DEV_UPDATE) {
		int rc = mbedtls_ssl_read(&d->ssl, buf, sizeof(buf));
		if (rc <= 0)
			return;
		on_coap(e, d, buf, (size_t)rc);
	}
}

static int dev_start(struct e2e *e, uint32_t i, const char *prefix)
{
	struct device *d = &e->dev[i];
	snprintf(d->identity, sizeof(d->identity), "%s%06" PRIu32, prefix, i);
	d->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (d->fd < 0 || connect(d->fd, (struct sockaddr *)&e->target, sizeof(e->target)) < 0)
		return -errno;
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = i };
	epoll_ctl(e->epfd, EPOLL_CTL_ADD, d->fd, &ev);
	mbedtls_ssl_config_init(&d->conf);
	mbedtls_ssl_init(&d->ssl);
	if (mbedtls_ssl_config_defaults(&d->conf, MBEDTLS_SSL_IS_CLIENT,
					MBEDTLS_SSL_TRANSPORT_DATAGRAM, MBEDTLS_SSL_PRESET_DEFAULT))
		return -EIO;
	mbedtls_ssl_conf_rng(&d->conf, mbedtls_ctr_drbg_random, &drbg);
	mbedtls_ssl_conf_ciphersuites(&d->conf, suites);
	mbedtls_ssl_conf_psk(&d->conf, key, key_len, (const unsigned char *)d->identity,
			     strlen(d->identity));
	if (mbedtls_ssl_setup(&d->ssl, &d->conf))
		return -EIO;
	mbedtls_ssl_set_bio(&d->ssl, d, dev_send, dev_recv, NULL);
	mbedtls_ssl_set_timer_cb(&d->ssl, &d->timer, mbedtls_timing_set_delay,
				 mbedtls_timing_get_delay);
	d->state = DEV_HANDSHAKE;
	d->started = now_ms();
	d->deadline = d->started + DEVICE_DEADLINE_MS;
	e->active++;
	step(e, d);
	return 0;
}

/* Runs until every started exchange ended; start(i) begins device i's exchange. */
static void drive(struct e2e *e, uint32_t window, bool (*start)(struct e2e *, uint32_t, void *),
		  void *ctx)
{
	uint32_t next = 0;
	struct epoll_event evs[256];
	for (;;) {
		while (e->active < window && next < e->n)
			start(e, next++, ctx);
		if (e->active == 0 && next >= e->n)
			return;
		int n = epoll_wait(e->epfd, evs, 256, 5);
		for (int k = 0; k < n; k++)
			step(e, &e->dev[evs[k].data.u32]);
		/* Handshake retransmissions and deadlines: rare, so a scan is fine. */
		static uint64_t last_scan;
		uint64_t now = now_ms();
		if (now - last_scan >= 100) {
			last_scan = now;
			for (uint32_t i = 0; i < next; i++) {
				struct device *d = &e->dev[i];
				if (d->state == DEV_HANDSHAKE &&
				    mbedtls_timing_get_delay(&d->timer) == 2)
					step(e, d);
				if ((d->state == DEV_HANDSHAKE || d->state == DEV_REGISTER ||
				     d->state == DEV_UPDATE) &&
				    now > d->deadline)
					finish(e, d, false, DEV_FAILED);
			}
		}
	}
}

struct start_ctx {
	const char *prefix;
	uint32_t updates;
};

static bool start_register(struct e2e *e, uint32_t i, void *ctx)
{
	struct start_ctx *sc = ctx;
	if (dev_start(e, i, sc->prefix) != 0) {
		e->failed++;
		e->dev[i].state = DEV_FAILED;
		return false;
	}
	return true;
}

static bool start_updates(struct e2e *e, uint32_t i, void *ctx)
{
	struct start_ctx *sc = ctx;
	struct device *d = &e->dev[i];
	if (d->state != DEV_READY || sc->updates == 0)
		return false;
	d->state = DEV_UPDATE;
	d->updates_left = sc->updates;
	d->started = now_ms();
	d->deadline = d->started + DEVICE_DEADLINE_MS;
	e->active++;
	if (send_coap(d, false) != 0)
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

static int run_e2e(struct e2e *e, const char *prefix, uint32_t window, uint32_t updates,
		   long pid, bool keep_open)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < e->n + 64) {
		rl.rlim_cur = rl.rlim_max < e->n + 64 ? rl.rlim_max : e->n + 64;
		setrlimit(RLIMIT_NOFILE, &rl);
		if (rl.rlim_cur < e->n + 64) {
			fprintf(stderr, "dtls_load: %u devices need %u file descriptors\n", e->n,
				e->n + 64);
			return 2;
		}
	}
	e->dev = calloc(e->n, sizeof(*e->dev));
	e->lat = calloc((size_t)e->n * (updates + 1), sizeof(*e->lat));
	e->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (!e->dev || !e->lat || e->epfd < 0)
		return 2;
	struct start_ctx sc = { prefix, updates };
	long before = pid > 0 ? rss_kb(pid) : -1;
	uint64_t t0 = now_ms();
	drive(e, window, start_register, &sc);
	double secs = (double)(now_ms() - t0) / 1000.0;
	long after = pid > 0 ? rss_kb(pid) : -1;
	printf("phase=handshake_register devices=%u ok=%u failed=%u seconds=%.3f per_second=%.0f "
	       "p50_ms=%" PRIu64 " p99_ms=%" PRIu64 " rss_before_kb=%ld rss_after_kb=%ld "
	       "rss_per_session_bytes=%ld\n",
	       e->n, e->ok, e->failed, secs, secs > 0 ? e->ok / secs : 0.0, quantile(e, 0.5),
	       quantile(e, 0.99), before, after,
	       e->ok && before >= 0 ? (after - before) * 1024 / (long)e->ok : -1);
	fflush(stdout);
	uint32_t reg_failed = e->failed;

	e->ok = e->failed = e->nlat = 0;
	t0 = now_ms();
	drive(e, window, start_updates, &sc);
	secs = (double)(now_ms() - t0) / 1000.0;
	printf("phase=update requests=%u ok=%u failed=%u seconds=%.3f per_second=%.0f "
	       "p50_ms=%" PRIu64 " p99_ms=%" PRIu64 "\n",
	       e->ok + e->failed, e->ok, e->failed, secs, secs > 0 ? e->ok / secs : 0.0,
	       quantile(e, 0.5), quantile(e, 0.99));
	int status = reg_failed || e->failed ? 1 : 0;
	for (uint32_t i = 0; i < e->n; i++) {
		struct device *d = &e->dev[i];
		if (d->fd > 0) {
			/* keep_open leaves the daemon's sessions established (to be saved). */
			if (!keep_open)
				mbedtls_ssl_close_notify(&d->ssl);
			close(d->fd);
		}
		mbedtls_ssl_free(&d->ssl);
		mbedtls_ssl_config_free(&d->conf);
	}
	free(e->dev);
	free(e->lat);
	close(e->epfd);
	return status;
}

static void usage(void)
{
	fprintf(stderr, "usage: dtls_load --mode inmem [--count N] [--suite ccm8|cbc] [--key HEX]\n"
			"       dtls_load --mode e2e --target IPV4:PORT --devices N --key HEX\n"
			"                 [--prefix P] [--updates K] [--window W] [--suite ccm8|cbc]\n"
			"                 [--pid PID] [--keep-open 0|1]\n");
}

int main(int argc, char **argv)
{
	const char *mode = NULL, *target = NULL, *prefix = "bench", *hex = "00112233445566778899aabbccddeeff";
	uint32_t count = 1000, devices = 1000, updates = 10, window = 64;
	long pid = 0;
	bool keep_open = false;
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
		else if (strcmp(a, "--keep-open") == 0)
			keep_open = strcmp(v, "0") != 0;
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
	struct e2e e = { .n = devices };
	char host[64];
	const char *colon = target ? strrchr(target, ':') : NULL;
	if (strcmp(mode, "e2e") != 0 || !colon || (size_t)(colon - target) >= sizeof(host)) {
		usage();
		return 2;
	}
	memcpy(host, target, (size_t)(colon - target));
	host[colon - target] = '\0';
	e.target.sin_family = AF_INET;
	e.target.sin_port = htons((uint16_t)atoi(colon + 1));
	if (inet_pton(AF_INET, host, &e.target.sin_addr) != 1) {
		usage();
		return 2;
	}
	return run_e2e(&e, prefix, window, updates, pid, keep_open);
}
