/*
 * bs_load: N devices bootstrapping against lwm2md's Bootstrap-Server (docs/bootstrap.md),
 * over plain CoAP or over DTLS-PSK, a window of them at once.
 *
 *   bs_load --target IPV4:PORT --devices N [--transport plain|dtls] [--prefix bench]
 *           [--master HEX] [--window W] [--timeout-ms MS] [--retries R]
 *           [--deadline-s S] [--max-seconds S] [--pid PID] [--net B] [--sample-ms MS]
 *           [--hold 0|1]
 *
 * Device i (node ID PREFIX + six digits) lives on its own loopback address, 127.B.*.*, over
 * the shared sockets of bench_common.h (bench_net_*), as lwm2m_load's devices do. Over DTLS
 * its mbedTLS client does a full PSK handshake (cookie exchange included) with identity =
 * its node ID and key = the first 16 bytes of HMAC-SHA256(master, node ID) (the product
 * template's derivation), through a BIO over those sockets. Then each device:
 *   sends CON POST /bs?ep=<node ID>             expects 2.04 (5.03: refused, failed)
 *   answers the server's requests, piggybacked on the ACK:
 *     GET /   (Bootstrap-Discover)              2.05 link-format </0/0>,</1/0>;ssid=1,</3/0>
 *     DELETE /0, DELETE /1                      2.02
 *     PUT /0/x, PUT /1/0 (Bootstrap-Write)      2.04
 *     POST /bs (Bootstrap-Finish)               2.04, and the device is done
 *     anything else                             4.04
 * and, over DTLS, closes its session (close_notify) and frees its mbedTLS context: only the
 * window's devices hold one. A retransmitted server request is answered again, the same.
 * At most W devices are between their start and their end at once. A device that has not
 * ended --deadline-s (60) after its start fails.
 *
 * The memory per bootstrap in progress (--hold 1, the default): the first W devices keep
 * the server's Discover unanswered until all W hold one (or for 1 s after the first), so
 * that the daemon holds W bootstraps in progress (and, over DTLS, W sessions) at once;
 * 100 ms later the daemon's VmRSS is read (--pid), and the devices answer and go on:
 * bytes_per_bootstrap = (held - before) * 1024 / W. The hold's time is taken out of
 * `elapsed` (it stays in the first window's latencies).
 *
 * With --pid, VmRSS is also read every --sample-ms (20; 10 000 plain bootstraps take about
 * a second, so once a second would see almost nothing): rss_peak_kb is the highest sample
 * and in_progress_at_peak the devices in progress then (the daemon's memory grows with
 * every bootstrap that ended too, so the peak is usually at the end, not in the hold);
 * and at the end: bytes_per_device_end = (end - before) * 1024 / done, what a bootstrap
 * leaves behind (its history row, SQLite's page cache, the allocator's free lists).
 *
 * Prints one line:
 *   phase=bootstrap transport=T devices=N done= failed= refused= incomplete= retransmits=
 *     elapsed= rate= peak_in_progress= p50_ms= p99_ms= server_requests= hold_s=
 *     rss_before_kb= rss_held_kb= held= bytes_per_bootstrap= rss_peak_kb=
 *     in_progress_at_peak= rss_end_kb= bytes_per_device_end= window= daemon_cpu_s=
 *     load_cpu_s=
 * (the CPU time the daemon, with --pid, and bs_load itself spent during the run, hold
 * included: the one near `elapsed` is the one that set the rate).
 * `incomplete` counts done devices whose sequence missed one of Discover, Delete /0,
 * Delete /1, Write /0/x, Write /1/0. Exits 0 when every device was done.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/ssl.h>
#include <mbedtls/timing.h>

#include "bs_load.h"

static mbedtls_entropy_context entropy;
static mbedtls_ctr_drbg_context drbg;
static int suites[2] = {0xC0A8, 0}; /* TLS-PSK-WITH-AES-128-CCM-8, as dtls_load */

static void node_id(const struct run *r, uint32_t i, char *out, size_t cap)
{
	snprintf(out, cap, "%s%06" PRIu32, r->o.prefix, i);
}

/* ---- sending ---- */

static void dev_send(struct run *r, uint32_t i, const struct coap_msg *m)
{
	uint8_t out[DGRAM_MAX];
	int len = coap_msg_encode(m, out, sizeof(out));
	if (len <= 0)
		return;
	struct device *d = &r->dev[i];
	if (d->dtls)
		(void)mbedtls_ssl_write(&d->dtls->ssl, out, (size_t)len);
	else
		bench_net_send(&r->bn, i, out, (size_t)len);
}

static void send_bs_request(struct run *r, uint32_t i)
{
	struct device *d = &r->dev[i];
	char node[48], q[64];
	node_id(r, i, node, sizeof(node));
	snprintf(q, sizeof(q), "ep=%s", node);
	uint8_t token[4] = {(uint8_t)(i >> 24), (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i};
	struct coap_msg m;
	coap_msg_init(&m, COAP_TYPE_CON, COAP_CODE_POST, d->mid, token, sizeof(token));
	coap_msg_add_option(&m, COAP_OPTION_URI_PATH, "bs", 2);
	coap_msg_add_option(&m, COAP_OPTION_URI_QUERY, q, strlen(q));
	dev_send(r, i, &m);
	d->tries++;
	d->next_rtx_ns = now_ns() + ((uint64_t)r->o.timeout_ms << (d->tries - 1)) * 1000000ull;
}

/* ---- ending ---- */

static void dev_end(struct run *r, uint32_t i, bool ok)
{
	struct device *d = &r->dev[i];
	if (d->state == DEV_DONE || d->state == DEV_FAILED || d->state == DEV_IDLE)
		return;
	if (ok) {
		r->done++;
		hist_add(&r->lat, (now_ns() - d->started_ns) / 1000);
		if ((d->seen & SEEN_ALL) != SEEN_ALL)
			r->incomplete++;
	} else {
		r->failed++;
	}
	d->state = ok ? DEV_DONE : DEV_FAILED;
	r->active--;
	if (d->dtls) {
		if (ok)
			(void)mbedtls_ssl_close_notify(&d->dtls->ssl);
		mbedtls_ssl_free(&d->dtls->ssl);
		mbedtls_ssl_config_free(&d->dtls->conf);
		free(d->dtls);
		d->dtls = NULL;
	}
}

/* ---- the device's side of the sequence ---- */

/* Answers a request of the server (piggybacked); returns true when it was Finish. */
static bool serve(struct run *r, uint32_t i, const struct coap_msg *q)
{
	struct device *d = &r->dev[i];
	uint32_t ids[3];
	int n = bench_lwm2m_path(q, ids);
	uint8_t code = COAP_CODE_NOT_FOUND;
	bool finish = false, discover = false;
	if (q->code == COAP_CODE_GET && n == 0) {
		code = COAP_CODE_CONTENT;
		discover = true;
		d->seen |= SEEN_DISCOVER;
	} else if (q->code == COAP_CODE_DELETE && n == 1 && (ids[0] == 0 || ids[0] == 1)) {
		code = COAP_CODE_DELETED;
		d->seen |= ids[0] == 0 ? SEEN_DEL0 : SEEN_DEL1;
	} else if (q->code == COAP_CODE_PUT && n == 2 && ids[0] == 0) {
		code = COAP_CODE_CHANGED;
		d->seen |= SEEN_WRITE0;
	} else if (q->code == COAP_CODE_PUT && n == 2 && ids[0] == 1 && ids[1] == 0) {
		code = COAP_CODE_CHANGED;
		d->seen |= SEEN_WRITE1;
	} else if (q->code == COAP_CODE_POST && path_is_bs(q)) {
		code = COAP_CODE_CHANGED;
		finish = true;
	}
	struct coap_msg a;
	coap_msg_init(&a, COAP_TYPE_ACK, code, q->mid, q->token, q->token_len);
	if (discover) {
		coap_msg_add_uint_option(&a, COAP_OPTION_CONTENT_FORMAT, COAP_CT_LINK_FORMAT);
		coap_msg_set_payload(&a, DISCOVER_ANSWER, strlen(DISCOVER_ANSWER));
	}
	dev_send(r, i, &a);
	return finish;
}

/* The answer to the device's POST /bs (piggybacked, or a separate CON response). */
static void on_bs_answer(struct run *r, uint32_t i, const struct coap_msg *m)
{
	struct device *d = &r->dev[i];
	if (m->code == COAP_CODE_EMPTY) { /* empty ACK: the answer comes separately */
		d->next_rtx_ns = UINT64_MAX;
		return;
	}
	if (m->code == COAP_CODE_CHANGED) {
		d->state = DEV_SERVING;
		return;
	}
	if (m->code == COAP_CODE_SERVICE_UNAVAILABLE)
		r->refused++;
	else
		fprintf(stderr, "bs_load: device %u: POST /bs answered %u.%02u\n", i,
			COAP_CODE_CLASS(m->code), COAP_CODE_DETAIL(m->code));
	dev_end(r, i, false);
}

/* Keeps device i's Discover unanswered (once: a retransmission is dropped meanwhile). */
static void hold(struct run *r, uint32_t i, const struct coap_msg *m)
{
	for (uint32_t k = 0; k < r->nheld; k++)
		if (r->held[k].dev == i)
			return;
	struct held *h = &r->held[r->nheld++];
	h->dev = i;
	h->mid = m->mid;
	h->token_len = m->token_len;
	memcpy(h->token, m->token, m->token_len);
}

/* Ends the hold: reads VmRSS (the held bootstraps in progress), then answers them. */
static void release(struct run *r)
{
	long kb = -1;
	if (r->o.pid > 0)
		(void)bench_proc_kb(r->o.pid, "VmRSS", &kb);
	r->rss_held = kb;
	r->holding = false;
	for (uint32_t k = 0; k < r->nheld; k++) {
		struct held *h = &r->held[k];
		struct coap_msg q;
		coap_msg_init(&q, COAP_TYPE_CON, COAP_CODE_GET, h->mid, h->token, h->token_len);
		if (r->dev[h->dev].state == DEV_SERVING)
			(void)serve(r, h->dev, &q);
	}
}

static void on_coap(struct run *r, uint32_t i, const uint8_t *buf, size_t len)
{
	struct device *d = &r->dev[i];
	struct coap_msg m;
	if (coap_msg_parse(&m, buf, len) != 0)
		return;
	bool request = COAP_CODE_CLASS(m.code) == 0 && m.code != COAP_CODE_EMPTY;
	if (request && m.type == COAP_TYPE_CON) {
		r->server_requests++;
		if (d->state == DEV_REQUEST) /* the 2.04 was lost or overtaken */
			d->state = DEV_SERVING;
		if (r->holding && m.code == COAP_CODE_GET &&
		    !coap_msg_find_option(&m, COAP_OPTION_URI_PATH)) {
			hold(r, i, &m);
			return;
		}
		bool finish = serve(r, i, &m);
		if (finish && d->state == DEV_SERVING)
			dev_end(r, i, true);
		return;
	}
	if (d->state != DEV_REQUEST)
		return;
	if ((m.type == COAP_TYPE_ACK || m.type == COAP_TYPE_RST) && m.mid == d->mid) {
		if (m.type == COAP_TYPE_RST) {
			dev_end(r, i, false);
			return;
		}
		on_bs_answer(r, i, &m);
	} else if (m.type == COAP_TYPE_CON && !request && m.token_len == 4 &&
		   m.token[3] == (uint8_t)i && m.token[2] == (uint8_t)(i >> 8)) {
		struct coap_msg ack;
		coap_msg_init(&ack, COAP_TYPE_ACK, COAP_CODE_EMPTY, m.mid, NULL, 0);
		dev_send(r, i, &ack);
		on_bs_answer(r, i, &m);
	}
}

/* ---- DTLS: mbedTLS over the shared sockets ---- */

struct bio_ctx {
	struct run *r;
	uint32_t i;
};

static struct bio_ctx *bios; /* one per device: the BIO's context must stay put */

static int bio_send(void *ctx, const unsigned char *buf, size_t len)
{
	struct bio_ctx *b = ctx;
	bench_net_send(&b->r->bn, b->i, buf, len);
	return (int)len;
}

static int bio_recv(void *ctx, unsigned char *buf, size_t len)
{
	struct bio_ctx *b = ctx;
	struct device *d = &b->r->dev[b->i];
	if (d->inbox == NULL)
		return MBEDTLS_ERR_SSL_WANT_READ;
	size_t n = d->inbox_len < len ? d->inbox_len : len;
	memcpy(buf, d->inbox, n);
	d->inbox = NULL;
	return (int)n;
}

static int dtls_start(struct run *r, uint32_t i)
{
	struct device *d = &r->dev[i];
	char node[48];
	node_id(r, i, node, sizeof(node));
	struct dtls_dev *t = calloc(1, sizeof(*t));
	if (t == NULL)
		return -ENOMEM;
	d->dtls = t;
	mbedtls_ssl_config_init(&t->conf);
	mbedtls_ssl_init(&t->ssl);
	bios[i] = (struct bio_ctx){r, i};
	if (bs_derive_key(r->o.master, r->o.master_len, node, t->key) != 0 ||
	    mbedtls_ssl_config_defaults(&t->conf, MBEDTLS_SSL_IS_CLIENT,
					MBEDTLS_SSL_TRANSPORT_DATAGRAM, MBEDTLS_SSL_PRESET_DEFAULT))
		return -EIO;
	mbedtls_ssl_conf_rng(&t->conf, mbedtls_ctr_drbg_random, &drbg);
	mbedtls_ssl_conf_ciphersuites(&t->conf, suites);
	/* Retransmit a flight after timeout_ms, as CoAP does its CONs. */
	mbedtls_ssl_conf_handshake_timeout(&t->conf, r->o.timeout_ms, r->o.timeout_ms * 8);
	if (mbedtls_ssl_conf_psk(&t->conf, t->key, BS_KEY_LEN, (const unsigned char *)node,
				 strlen(node)) ||
	    mbedtls_ssl_setup(&t->ssl, &t->conf))
		return -EIO;
	mbedtls_ssl_set_bio(&t->ssl, &bios[i], bio_send, bio_recv, NULL);
	mbedtls_ssl_set_timer_cb(&t->ssl, &t->timer, mbedtls_timing_set_delay,
				 mbedtls_timing_get_delay);
	return 0;
}

/* Drives device i's DTLS client: the handshake, then the records it holds. */
static void dtls_step(struct run *r, uint32_t i)
{
	struct device *d = &r->dev[i];
	if (d->state == DEV_HANDSHAKE) {
		int rc = mbedtls_ssl_handshake(&d->dtls->ssl);
		if (rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE)
			return;
		if (rc != 0) {
			fprintf(stderr, "bs_load: device %u: handshake -0x%04x\n", i,
				(unsigned)-rc);
			dev_end(r, i, false);
			return;
		}
		d->state = DEV_REQUEST;
		send_bs_request(r, i);
	}
	uint8_t buf[DGRAM_MAX];
	while (d->dtls && (d->state == DEV_REQUEST || d->state == DEV_SERVING)) {
		int rc = mbedtls_ssl_read(&d->dtls->ssl, buf, sizeof(buf));
		if (rc <= 0)
			return;
		on_coap(r, i, buf, (size_t)rc);
	}
}

/* ---- the loop ---- */

static void dev_start(struct run *r, uint32_t i)
{
	struct device *d = &r->dev[i];
	d->started_ns = now_ns();
	d->mid = (uint16_t)(i * 7 + 1);
	r->active++;
	if (r->active > r->peak_active)
		r->peak_active = r->active;
	if (!r->o.dtls) {
		d->state = DEV_REQUEST;
		send_bs_request(r, i);
		return;
	}
	d->state = DEV_HANDSHAKE;
	if (dtls_start(r, i) != 0) {
		fprintf(stderr, "bs_load: device %u: DTLS setup failed\n", i);
		dev_end(r, i, false);
		return;
	}
	dtls_step(r, i);
}

static void on_datagram(struct run *r, uint32_t i, const uint8_t *buf, size_t len)
{
	struct device *d = &r->dev[i];
	if (!r->o.dtls) {
		on_coap(r, i, buf, len); /* a plain device answers even once done */
		return;
	}
	if (d->dtls == NULL)
		return;
	d->inbox = buf;
	d->inbox_len = len;
	dtls_step(r, i);
	if (d->dtls)
		d->inbox = NULL;
}

/* Retransmissions and deadlines of the devices in progress. */
static void scan(struct run *r)
{
	uint64_t now = now_ns();
	uint64_t deadline = (uint64_t)r->o.deadline_s * 1000000000ull;
	for (uint32_t i = 0; i < r->next; i++) {
		struct device *d = &r->dev[i];
		if (d->state != DEV_HANDSHAKE && d->state != DEV_REQUEST && d->state != DEV_SERVING)
			continue;
		if (now - d->started_ns > deadline) {
			dev_end(r, i, false);
		} else if (d->state == DEV_HANDSHAKE &&
			   mbedtls_timing_get_delay(&d->dtls->timer) == 2) {
			dtls_step(r, i);
		} else if (d->state == DEV_REQUEST && now >= d->next_rtx_ns) {
			if (d->tries > r->o.retries) {
				dev_end(r, i, false);
			} else {
				r->retransmits++;
				send_bs_request(r, i);
			}
		}
	}
}

static void sample_rss(struct run *r)
{
	long kb = 0;
	if (r->o.pid <= 0 || bench_proc_kb(r->o.pid, "VmRSS", &kb) != 0)
		return;
	if (kb > r->rss_peak) {
		r->rss_peak = kb;
		r->active_at_peak = r->active;
	}
}

static int run(struct run *r)
{
	r->bn.target = r->o.target;
	r->bn.net = r->o.net;
	r->bn.devices = r->o.devices;
	r->dev = calloc(r->o.devices, sizeof(*r->dev));
	bios = calloc(r->o.devices, sizeof(*bios));
	if (r->dev == NULL || bios == NULL || bench_net_open(&r->bn) != 0) {
		fprintf(stderr, "bs_load: setup failed\n");
		return 2;
	}
	r->rss_before = r->rss_peak = r->rss_held = -1;
	if (r->o.hold) {
		r->hold_target = r->o.window < r->o.devices ? r->o.window : r->o.devices;
		r->held = calloc(r->hold_target, sizeof(*r->held));
		r->holding = r->held != NULL;
	}
	if (r->o.pid > 0)
		(void)bench_proc_kb(r->o.pid, "VmRSS", &r->rss_before);
	r->rss_peak = r->rss_before;
	double cpu0 = proc_cpu_s(r->o.pid), self0 = self_cpu_s();
	uint64_t t0 = now_ns(), last_scan = t0, last_sample = t0;
	uint64_t limit = t0 + (uint64_t)r->o.max_seconds * 1000000000ull;
	struct epoll_event evs[64];
	uint8_t buf[DGRAM_MAX];
	for (;;) {
		while (r->active < r->o.window && r->next < r->o.devices)
			dev_start(r, r->next++);
		if (r->active == 0 && r->next >= r->o.devices)
			break;
		int n = epoll_wait(r->bn.epfd, evs, 64, 5);
		for (int k = 0; k < n; k++) {
			uint32_t s = evs[k].data.u32, dev;
			ssize_t len;
			for (int burst = 0; burst < 64; burst++) {
				len = bench_net_recv(&r->bn, s, buf, sizeof(buf), &dev);
				if (len < 0)
					break;
				if (dev != UINT32_MAX)
					on_datagram(r, dev, buf, (size_t)len);
			}
		}
		uint64_t now = now_ns();
		if (r->holding && r->nheld > 0 && r->hold_since_ns == 0)
			r->hold_since_ns = now;
		if (r->holding && (r->nheld >= r->hold_target ||
				   (r->hold_since_ns && now - r->hold_since_ns > 1000000000ull))) {
			/* Let the daemon's last allocations land (its 2.04s are out by now). */
			usleep(100000);
			release(r);
			r->hold_ns = now_ns() - r->hold_since_ns;
		}
		if (now - last_scan >= 50000000ull) {
			last_scan = now;
			scan(r);
		}
		if (now - last_sample >= (uint64_t)r->o.sample_ms * 1000000ull) {
			last_sample = now;
			sample_rss(r);
		}
		if (now > limit) {
			for (uint32_t i = 0; i < r->next; i++)
				dev_end(r, i, false);
			r->failed += r->o.devices - r->next; /* never started */
			break;
		}
	}
	/* The hold stalls the window: its time is not bootstrapping time. */
	double hold_s = (double)r->hold_ns / 1e9;
	double secs = (double)(now_ns() - t0) / 1e9 - hold_s;
	double cpu = cpu0 >= 0 ? proc_cpu_s(r->o.pid) - cpu0 : -1, self = self_cpu_s() - self0;
	long end = -1;
	if (r->o.pid > 0)
		(void)bench_proc_kb(r->o.pid, "VmRSS", &end);
	long per = r->rss_before >= 0 && r->rss_held >= 0 && r->nheld > 0
		       ? (r->rss_held - r->rss_before) * 1024 / (long)r->nheld
		       : -1;
	long per_dev = r->rss_before >= 0 && end >= 0 && r->done > 0
			   ? (end - r->rss_before) * 1024 / (long)r->done
			   : -1;
	printf("phase=bootstrap transport=%s devices=%u done=%u failed=%u refused=%u "
	       "incomplete=%u retransmits=%u elapsed=%.3f rate=%.0f peak_in_progress=%u "
	       "p50_ms=%.1f p99_ms=%.1f server_requests=%u hold_s=%.3f rss_before_kb=%ld "
	       "rss_held_kb=%ld held=%u bytes_per_bootstrap=%ld rss_peak_kb=%ld "
	       "in_progress_at_peak=%u rss_end_kb=%ld bytes_per_device_end=%ld window=%u "
	       "daemon_cpu_s=%.2f load_cpu_s=%.2f\n",
	       r->o.dtls ? "dtls" : "plain", r->o.devices, r->done, r->failed, r->refused,
	       r->incomplete, r->retransmits, secs, secs > 0 ? r->done / secs : 0.0, r->peak_active,
	       hist_quantile(&r->lat, 0.5) / 1000.0, hist_quantile(&r->lat, 0.99) / 1000.0,
	       r->server_requests, hold_s, r->rss_before, r->rss_held, r->nheld, per, r->rss_peak,
	       r->active_at_peak, end, per_dev, r->o.window, cpu, self);
	free(r->held);
	bench_net_close(&r->bn);
	free(r->dev);
	free(bios);
	return r->done == r->o.devices ? 0 : 1;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: bs_load --target IPV4:PORT --devices N [--transport plain|dtls]\n"
		"               [--prefix P] [--master HEX] [--window W] [--timeout-ms MS]\n"
		"               [--retries R] [--deadline-s S] [--max-seconds S] [--pid PID]\n"
		"               [--net B] [--sample-ms MS] [--hold 0|1]\n");
}

int main(int argc, char **argv)
{
	static struct run r;
	struct opts *o = &r.o;
	*o = (struct opts){.devices = 10000,
			   .window = 256,
			   .timeout_ms = 2000,
			   .retries = 4,
			   .deadline_s = 60,
			   .max_seconds = 600,
			   .net = 1,
			   .sample_ms = 20,
			   .hold = true,
			   .prefix = "bench"};
	const char *master = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
	bool target = false;
	int rc = 0;
	for (int i = 1; i + 1 < argc && rc == 0; i += 2) {
		const char *a = argv[i], *v = argv[i + 1];
		if (strcmp(a, "--target") == 0) {
			rc = parse_target(v, &o->target);
			target = true;
		} else if (strcmp(a, "--devices") == 0) {
			rc = parse_u32(v, 1, DEVICES_MAX, &o->devices);
		} else if (strcmp(a, "--window") == 0) {
			rc = parse_u32(v, 1, WINDOW_MAX, &o->window);
		} else if (strcmp(a, "--timeout-ms") == 0) {
			rc = parse_u32(v, 10, 60000, &o->timeout_ms);
		} else if (strcmp(a, "--retries") == 0) {
			rc = parse_u32(v, 0, 8, &o->retries);
		} else if (strcmp(a, "--deadline-s") == 0) {
			rc = parse_u32(v, 1, 3600, &o->deadline_s);
		} else if (strcmp(a, "--max-seconds") == 0) {
			rc = parse_u32(v, 1, 86400, &o->max_seconds);
		} else if (strcmp(a, "--hold") == 0 &&
			   (strcmp(v, "0") == 0 || strcmp(v, "1") == 0)) {
			o->hold = strcmp(v, "1") == 0;
		} else if (strcmp(a, "--sample-ms") == 0) {
			rc = parse_u32(v, 1, 10000, &o->sample_ms);
		} else if (strcmp(a, "--net") == 0) {
			rc = parse_u32(v, 1, 254, &o->net);
		} else if (strcmp(a, "--pid") == 0) {
			uint32_t p;
			rc = parse_u32(v, 1, 1u << 30, &p);
			o->pid = (long)p;
		} else if (strcmp(a, "--prefix") == 0 && strlen(v) < 40) {
			o->prefix = v;
		} else if (strcmp(a, "--master") == 0) {
			master = v;
		} else if (strcmp(a, "--transport") == 0 &&
			   (strcmp(v, "plain") == 0 || strcmp(v, "dtls") == 0)) {
			o->dtls = strcmp(v, "dtls") == 0;
		} else {
			rc = -EINVAL;
		}
	}
	if (argc % 2 == 0 || rc != 0 || !target || parse_master(master, o) != 0 ||
	    !bench_net_fits(o->net, o->devices)) {
		usage();
		return 2;
	}
	mbedtls_entropy_init(&entropy);
	mbedtls_ctr_drbg_init(&drbg);
	if (mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &entropy, NULL, 0) != 0)
		return 2;
	return run(&r);
}
