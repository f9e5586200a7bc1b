/*
 * fw_load: the devices of the firmware benchmark (bench/firmware.sh). It plays N LwM2M
 * devices with a Firmware Update object (/5/0, Core 1.1 §E.6) in one process, each from
 * its own loopback address over a few shared sockets (bench_common.h, bench_net_*), and
 * takes a pull update the way lwm2md's engine drives one (src/firmware/fw_engine.h):
 *
 *   phase "register"   every device registers: ep=<prefix>NNNNNN, lt, b=U, object links
 *                      </1/0>,</3/0>,</5/0>
 *   phase "firmware"   the devices answer the server (CON requests, answers piggybacked):
 *     Read /3/0/3               text: --old-version, after the update --new-version
 *     Read /5/0                 TLV: State /5/0/3, Update Result /5/0/5, protocols /5/0/8
 *                               [0] (CoAP), delivery method /5/0/9 = 2 (pull and push)
 *     Read or Observe /5/0/3 and /5/0/5   text, with an Observe option when observing
 *     Write /5/0/1 "coap://<the --target>/PATH"   2.04, State 1 notified, then CON GETs
 *                               of PATH with Block2 (--block-size), one block at a time per
 *                               device and at most --window requests in flight across all
 *                               devices; after the last block State 2 notified
 *     Write /5/0/1 ""           2.04, back to Idle
 *     Execute /5/0/2            2.04 when Downloaded (else 4.05); State 3 notified, then
 *                               the "reboot": Update Result 1 notified and a new Register;
 *                               /3/0/3 reads --new-version from then on
 *                               anything else: 4.04
 *
 * A device's own messages (Registers, CON notifications, block GETs) go one at a time
 * (CoAP NSTART = 1) through one ready ring, so the window is shared fairly; each is
 * retransmitted after --timeout-ms doubling and given up after --retries. A block that is
 * given up on or answered wrongly ends that device's download: Update Result 4
 * (connection lost) and State 0 are notified, which a campaign retries.
 *
 * The firmware phase ends --linger-seconds (10) after every registered device came back
 * with the new version (the server still reads its /3/0/3), on SIGTERM/SIGINT, or after
 * --max-seconds (600). It prints a "progress" line every second and
 * a "phase=firmware" line at the end (bench/README.md, "Firmware", says what each key
 * means); diagnostics go to stderr. Exit status 0 when every device was updated.
 *
 *   fw_load --target IPV4:PORT [--devices N] [--prefix P] [--window W] [--block-size B]
 *           [--timeout-ms MS] [--retries R] [--max-seconds S] [--linger-seconds S]
 *           [--net B] [--old-version V] [--new-version V]
 */
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_common.h"
#include "coap/coap_msg.h"
#include "fw_load.h"

static volatile sig_atomic_t stop_requested;

static void on_stop_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

/* Starts device i's next message (a notification it owes, a Register, or its next block) in
 * a free slot. */
static void issue(struct load *ld, uint32_t i, uint64_t now)
{
	struct device *d = &ld->dev[i];
	d->queued = false;
	/* A notification of something no longer observed is not sent (RFC 7641 §3.6). */
	while (d->nnotes > 0 && !obs_of(d, d->notes[0].res)->on) {
		memmove(d->notes, d->notes + 1, --d->nnotes * sizeof(d->notes[0]));
		ld->st.notes_dropped++;
	}
	if (d->slot >= 0 || !has_work(d))
		return;
	uint32_t si = ld->free_slots[--ld->nfree];
	struct slot *s = &ld->slots[si];
	memset(s, 0, offsetof(struct slot, data));
	s->used = true;
	s->dev = i;
	s->mid = d->next_mid++;
	d->slot = (int32_t)si;
	struct coap_msg m;
	struct observation *o = NULL;
	char digits[4], q_ep[NODE_MAX + 4];
	int rc;
	if (d->nnotes > 0) {
		s->kind = REQ_NOTE;
		o = obs_of(d, d->notes[0].res);
		s->token_len = o->token_len;
		memcpy(s->token, o->token, o->token_len);
	} else {
		s->kind = d->reg_pending ? REQ_REGISTER : REQ_BLOCK;
		uint32_t t = ld->token_seq++;
		s->token_len = TOKEN_LEN;
		for (int k = 0; k < TOKEN_LEN; k++)
			s->token[k] = (uint8_t)(t >> (8 * (TOKEN_LEN - 1 - k)));
	}
	rc = coap_msg_init(&m, COAP_TYPE_CON, s->kind == REQ_NOTE ? COAP_CODE_CONTENT
				   : s->kind == REQ_REGISTER ? COAP_CODE_POST
							     : COAP_CODE_GET,
			   s->mid, s->token, s->token_len);
	if (rc == 0 && s->kind == REQ_NOTE) {
		/* A CON notification: the observation's token, the next Observe number, the
		 * value as text. */
		struct note n = d->notes[0];
		memmove(d->notes, d->notes + 1, --d->nnotes * sizeof(d->notes[0]));
		o->seq = (o->seq + 1) & 0xFFFFFF;
		int len = snprintf(digits, sizeof(digits), "%u", n.value);
		rc = coap_msg_add_uint_option(&m, COAP_OPTION_OBSERVE, o->seq);
		if (rc == 0)
			rc = coap_msg_add_uint_option(&m, COAP_OPTION_CONTENT_FORMAT,
						      COAP_CT_TEXT_PLAIN);
		coap_msg_set_payload(&m, digits, (size_t)len);
		ld->st.notes++;
	} else if (rc == 0 && s->kind == REQ_REGISTER) {
		snprintf(q_ep, sizeof(q_ep), "ep=%s%06" PRIu32, ld->opt.prefix, i);
		rc = bench_lwm2m_register(&m, q_ep, REGISTER_LINKS);
		if (d->rebooting) {
			/* A rebooted device has forgotten the server's observations. */
			d->obs[0].on = d->obs[1].on = false;
		}
	} else if (rc == 0) {
		struct coap_block b = {.num = d->next_block, .szx = (uint8_t)ld->opt.block_szx};
		s->block = d->next_block;
		rc = coap_msg_add_path(&m, COAP_OPTION_URI_PATH, d->uri);
		if (rc == 0)
			rc = coap_msg_add_uint_option(&m, COAP_OPTION_BLOCK2, coap_block_encode(&b));
		if (ld->st.first_block_ns == 0)
			ld->st.first_block_ns = now;
	}
	int n = rc == 0 ? coap_msg_encode(&m, s->data, sizeof(s->data)) : rc;
	if (n < 0) {
		/* Only a codec bug gets here; the timer frees the slot. */
		fprintf(stderr, "fw_load: cannot encode a message of device %u\n", i);
		s->len = 0;
	} else {
		s->len = (uint16_t)n;
		bench_net_send(&ld->opt.net, i, s->data, s->len);
	}
	s->first_ns = now;
	s->tries = 1;
	s->deadline_ns = now + (uint64_t)ld->opt.timeout_ms * NS_PER_MS;
	if (s->deadline_ns < ld->next_check_ns)
		ld->next_check_ns = s->deadline_ns;
}

static void release(struct load *ld, struct slot *s)
{
	s->used = false;
	ld->dev[s->dev].slot = -1;
	ld->free_slots[ld->nfree++] = (uint32_t)(s - ld->slots);
	wake(ld, s->dev);
}

static void register_done(struct load *ld, struct device *d, bool ok)
{
	d->reg_pending = false;
	if (!d->registered)
		ld->reg_done++;
	if (!ok) {
		ld->st.register_failures++;
		return;
	}
	if (!d->registered) {
		d->registered = true;
		ld->st.registers++;
	} else {
		ld->st.reregisters++;
	}
	if (d->rebooting) {
		d->rebooting = false;
		d->updated = true;
		ld->st.updated++;
	}
}

/* A block's answer: 2.05 with the Block2 asked for, a full block unless it is the last. */
static void block_answered(struct load *ld, struct slot *s, struct device *d,
			   const struct coap_msg *r, uint64_t now)
{
	uint32_t v;
	struct coap_block b;
	size_t size = COAP_BLOCK_SIZE(ld->opt.block_szx);
	if (!d->downloading || s->block != d->next_block) /* reset or restarted meanwhile */
		return;
	if (r->code != COAP_CODE_CONTENT || coap_msg_get_uint_option(r, COAP_OPTION_BLOCK2, &v) ||
	    coap_block_decode(v, &b) || b.num != s->block || b.szx != ld->opt.block_szx ||
	    r->payload_len > size || (b.more && r->payload_len != size) || r->payload_len == 0) {
		char name[5];
		if (ld->st.block_failures < 10)
			fprintf(stderr, "fw_load: device %u block %u answered %s (%zu bytes)\n",
				s->dev, s->block, coap_code_format(r->code, name), r->payload_len);
		download_failed(ld, d);
		return;
	}
	ld->st.blocks++;
	ld->st.bytes += r->payload_len;
	ld->st.last_block_ns = now;
	hist_add(&ld->st.block_lat, (now - s->first_ns) / NS_PER_US);
	d->next_block++;
	if (!b.more) {
		stop_download(ld, d);
		ld->st.downloads_done++;
		d->fw_state = STATE_DOWNLOADED;
		add_note(ld, d, RES_STATE, d->fw_state);
	}
}

/* The answer to device i's message in slot s. */
static void answered(struct load *ld, struct slot *s, const struct coap_msg *r, uint64_t now)
{
	struct device *d = &ld->dev[s->dev];
	if (s->kind == REQ_REGISTER)
		register_done(ld, d, bench_lwm2m_location(r, d->reg_id, sizeof(d->reg_id)) > 0);
	else if (s->kind == REQ_BLOCK)
		block_answered(ld, s, d, r, now);
	release(ld, s);
}

/* A message given up on after its retransmissions. */
static void given_up(struct load *ld, struct slot *s)
{
	struct device *d = &ld->dev[s->dev];
	if (s->kind == REQ_REGISTER)
		register_done(ld, d, false);
	else if (s->kind == REQ_NOTE)
		ld->st.note_failures++;
	else if (d->downloading)
		download_failed(ld, d);
	release(ld, s);
}

static void check_timeouts(struct load *ld, uint64_t now)
{
	uint64_t next = UINT64_MAX;
	for (uint32_t k = 0; k < ld->nslots; k++) {
		struct slot *s = &ld->slots[k];
		if (!s->used)
			continue;
		if (s->deadline_ns <= now && (s->acked || s->tries > ld->opt.retries)) {
			given_up(ld, s);
			continue;
		}
		if (s->deadline_ns <= now) {
			/* RFC 7252 §4.2: the timeout doubles with each retransmission. */
			s->deadline_ns = now + ((uint64_t)ld->opt.timeout_ms * NS_PER_MS << s->tries);
			s->tries++;
			ld->st.retransmits++;
			if (s->len > 0)
				bench_net_send(&ld->opt.net, s->dev, s->data, s->len);
		}
		if (s->deadline_ns < next)
			next = s->deadline_ns;
	}
	ld->next_check_ns = next;
}

static bool token_matches(const struct slot *s, const struct coap_msg *r)
{
	return r->token_len == s->token_len && memcmp(r->token, s->token, s->token_len) == 0;
}

/* One datagram from the server to device i. */
static void on_datagram(struct load *ld, uint32_t i, const uint8_t *buf, size_t len,
			uint64_t now)
{
	struct coap_msg r;
	if (coap_msg_parse(&r, buf, len) < 0)
		return;
	struct device *d = &ld->dev[i];
	struct slot *s = d->slot >= 0 ? &ld->slots[d->slot] : NULL;
	if (s != NULL && r.mid == s->mid && (r.type == COAP_TYPE_ACK || r.type == COAP_TYPE_RST)) {
		if (r.type == COAP_TYPE_RST) {
			/* An RST to a notification: the server forgot that observation (RFC 7641
			 * §3.6). */
			for (int k = 0; k < 2 && s->kind == REQ_NOTE; k++)
				if (d->obs[k].token_len == s->token_len &&
				    memcmp(d->obs[k].token, s->token, s->token_len) == 0)
					d->obs[k].on = false;
			given_up(ld, s);
		} else if (s->kind == REQ_NOTE) {
			release(ld, s); /* RFC 7641 §4.5: the empty ACK of a CON notification */
		} else if (r.code == COAP_CODE_EMPTY) {
			/* A separate response follows (RFC 7252 §5.2.2): stop retransmitting. */
			s->acked = true;
			s->deadline_ns = now + (uint64_t)ld->opt.timeout_ms * NS_PER_MS
						       * ((2ull << ld->opt.retries) - 1);
			if (s->deadline_ns < ld->next_check_ns)
				ld->next_check_ns = s->deadline_ns;
		} else if (token_matches(s, &r)) {
			answered(ld, s, &r, now);
		}
	} else if (s != NULL && s->kind != REQ_NOTE && COAP_CODE_CLASS(r.code) >= 2 &&
		   (r.type == COAP_TYPE_CON || r.type == COAP_TYPE_NON) && token_matches(s, &r)) {
		from_server(ld, i, &r); /* the empty ACK of a CON separate response */
		answered(ld, s, &r, now);
	} else {
		from_server(ld, i, &r);
	}
	wake(ld, i);
}

static void on_readable(struct load *ld, uint32_t k)
{
	uint8_t buf[RESP_MAX];
	for (int burst = 0; burst < RECV_BURST; burst++) {
		uint32_t dev;
		ssize_t n = bench_net_recv(&ld->opt.net, k, buf, sizeof(buf), &dev);
		if (n < 0)
			return;
		if (dev != UINT32_MAX)
			on_datagram(ld, dev, buf, (size_t)n, now_ns());
	}
}

static void print_progress(const struct load *ld, uint64_t start)
{
	printf("progress seconds=%.0f downloading=%u peak_downloading=%u blocks=%" PRIu64
	       " updated=%u\n",
	       (double)(now_ns() - start) / 1e9, ld->st.downloading, ld->st.peak_downloading,
	       ld->st.blocks, ld->st.updated);
	fflush(stdout);
}

/* Keeps the busy time: while at least as many devices download as the window has slots,
 * the window can stay full, as the echo baseline's does. */
static void account_busy(struct load *ld, uint64_t now, bool ending)
{
	struct stats *st = &ld->st;
	bool busy = !ending && st->downloading >= ld->nslots;
	if (busy && st->busy_since_ns == 0) {
		st->busy_since_ns = now;
		st->busy_blocks_at = st->blocks;
	} else if (!busy && st->busy_since_ns != 0) {
		st->busy_ns += now - st->busy_since_ns;
		st->busy_blocks += st->blocks - st->busy_blocks_at;
		st->busy_since_ns = 0;
	}
}

/* Sends and answers until done(ld), a stop signal, or stop_ns; with progress, prints a
 * progress line every second. */
static void run(struct load *ld, bool (*done)(struct load *), uint64_t stop_ns,
		bool progress)
{
	struct epoll_event events[EPOLL_BATCH];
	uint64_t start = now_ns(), next_progress = start + 1000 * NS_PER_MS;
	for (;;) {
		uint64_t now = now_ns();
		while (ld->nfree > 0 && ld->ready_count > 0) {
			uint32_t i = ld->ready[ld->ready_head];
			ld->ready_head = (ld->ready_head + 1) % ld->devices;
			ld->ready_count--;
			issue(ld, i, now);
		}
		account_busy(ld, now, false);
		if (done(ld) || stop_requested || now >= stop_ns)
			break;
		int wait_ms = WAIT_MS_MAX;
		if (ld->next_check_ns <= now)
			wait_ms = 0;
		else if (ld->next_check_ns - now < (uint64_t)WAIT_MS_MAX * NS_PER_MS)
			wait_ms = (int)((ld->next_check_ns - now + NS_PER_MS - 1) / NS_PER_MS);
		int n = epoll_wait(ld->opt.net.epfd, events, EPOLL_BATCH, wait_ms);
		for (int k = 0; k < n; k++)
			on_readable(ld, events[k].data.u32);
		now = now_ns();
		if (now >= ld->next_check_ns)
			check_timeouts(ld, now);
		if (progress && now >= next_progress) {
			print_progress(ld, start);
			next_progress += 1000 * NS_PER_MS;
		}
	}
	account_busy(ld, now_ns(), true);
}

static bool registered_all(struct load *ld)
{
	return ld->reg_done == ld->devices;
}

/* Every registered device came back with the new version and said all it had to, and
 * --linger-seconds passed since: the server reads /3/0/3 after the new Register. */
static bool updated_all(struct load *ld)
{
	if (ld->all_updated_ns == 0 && ld->st.updated >= ld->st.registers &&
	    ld->nfree == ld->nslots)
		ld->all_updated_ns = now_ns();
	return ld->all_updated_ns != 0 &&
	       now_ns() >= ld->all_updated_ns + ld->opt.linger_seconds * 1000 * NS_PER_MS;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: fw_load --target IPV4:PORT [--devices N] [--prefix P] [--window W]\n"
		"               [--block-size 16..1024] [--timeout-ms MS] [--retries R]\n"
		"               [--max-seconds S] [--linger-seconds S] [--net B]\n"
		"               [--old-version V] [--new-version V]\n");
}

static int parse_options(int argc, char **argv, struct load *ld)
{
	struct options *o = &ld->opt;
	uint32_t block = 1024;
	*o = (struct options){
		.prefix = "bench", .window = 256, .timeout_ms = 1000, .retries = 4,
		.max_seconds = 600, .linger_seconds = 10, .old_version = "1.0.0",
		.new_version = "2.0.0",
	};
	o->net.net = 1;
	o->net.epfd = -1;
	ld->devices = 1000;
	const struct {
		const char *name;
		uint32_t min, max, *out;
	} counts[] = {
		{"--devices", 1, DEVICES_MAX, &ld->devices},
		{"--window", 1, WINDOW_MAX, &o->window},
		{"--block-size", 16, 1024, &block},
		{"--timeout-ms", 1, TIMEOUT_MS_MAX, &o->timeout_ms},
		{"--retries", 0, RETRIES_MAX, &o->retries},
		{"--max-seconds", 1, SECONDS_MAX, &o->max_seconds},
		{"--linger-seconds", 0, SECONDS_MAX, &o->linger_seconds},
		{"--net", 1, 254, &o->net.net},
	};
	for (int i = 1; i < argc; i += 2) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		int rc = -EINVAL;
		if (v == NULL)
			return -EINVAL;
		for (size_t k = 0; k < sizeof(counts) / sizeof(counts[0]); k++)
			if (strcmp(a, counts[k].name) == 0)
				rc = parse_u32(v, counts[k].min, counts[k].max, counts[k].out);
		if (strcmp(a, "--target") == 0) {
			o->target_text = v;
			rc = parse_target(v, &o->net.target);
		} else if (strcmp(a, "--prefix") == 0) {
			o->prefix = v;
			rc = strlen(v) <= PREFIX_MAX ? 0 : -EINVAL;
		} else if (strcmp(a, "--old-version") == 0 || strcmp(a, "--new-version") == 0) {
			*(a[2] == 'o' ? &o->old_version : &o->new_version) = v;
			rc = strlen(v) >= 1 && strlen(v) <= VERSION_MAX ? 0 : -EINVAL;
		}
		if (rc < 0) {
			fprintf(stderr, "fw_load: bad %s '%s'\n", a, v);
			return rc;
		}
	}
	/* SZX: a block is 16 << szx bytes (RFC 7959 §2.2). */
	while (COAP_BLOCK_SIZE(o->block_szx) < block)
		o->block_szx++;
	if (COAP_BLOCK_SIZE(o->block_szx) != block) {
		fprintf(stderr, "fw_load: --block-size must be a power of two\n");
		return -EINVAL;
	}
	if (o->target_text == NULL || !bench_net_fits(o->net.net, ld->devices))
		return -EINVAL;
	o->net.devices = ld->devices;
	return 0;
}

static int setup(struct load *ld)
{
	ld->nslots = ld->opt.window < ld->devices ? ld->opt.window : ld->devices;
	ld->dev = calloc(ld->devices, sizeof(*ld->dev));
	ld->ready = calloc(ld->devices, sizeof(*ld->ready));
	ld->slots = calloc(ld->nslots, sizeof(*ld->slots));
	ld->free_slots = calloc(ld->nslots, sizeof(*ld->free_slots));
	if (!ld->dev || !ld->ready || !ld->slots || !ld->free_slots)
		return -ENOMEM;
	for (uint32_t k = 0; k < ld->nslots; k++)
		ld->free_slots[k] = ld->nslots - 1 - k;
	ld->nfree = ld->nslots;
	ld->next_check_ns = UINT64_MAX;
	for (uint32_t i = 0; i < ld->devices; i++) {
		ld->dev[i].slot = -1;
		/* Message IDs start spread out so that peers do not all use the same ones. */
		ld->dev[i].next_mid = (uint16_t)(i * 7919u);
		ld->dev[i].reg_pending = true;
		wake(ld, i);
	}
	return bench_net_open(&ld->opt.net);
}

static void print_summary(const struct load *ld, double seconds, bool aborted)
{
	const struct stats *st = &ld->st;
	double dl = st->last_block_ns > st->first_block_ns
			    ? (double)(st->last_block_ns - st->first_block_ns) / 1e9
			    : 0.0;
	double busy = (double)st->busy_ns / 1e9;
	uint64_t failures = st->register_failures + st->block_failures + st->note_failures +
			    st->bad_uris;
	printf("phase=firmware devices=%u registered=%" PRIu64 " updated=%u downloads=%" PRIu64
	       " downloads_done=%" PRIu64 " executes=%" PRIu64 " blocks=%" PRIu64
	       " bytes=%" PRIu64 " block_seconds=%.3f blocks_per_s=%.0f bytes_per_s=%.0f"
	       " busy_seconds=%.3f busy_blocks_per_s=%.0f"
	       " seconds=%.3f peak_downloading=%u failures=%" PRIu64 " block_failures=%" PRIu64
	       " register_failures=%" PRIu64 " note_failures=%" PRIu64 " bad_uris=%" PRIu64
	       " notifications=%" PRIu64 " reregisters=%" PRIu64 " retransmits=%" PRIu64
	       " server_requests=%" PRIu64 " refused=%" PRIu64 " block_p50_us=%" PRIu64
	       " block_p99_us=%" PRIu64 " window=%u block_size=%zu aborted=%d\n",
	       ld->devices, st->registers, st->updated, st->downloads, st->downloads_done,
	       st->executes, st->blocks, st->bytes, dl, dl > 0 ? (double)st->blocks / dl : 0.0,
	       dl > 0 ? (double)st->bytes / dl : 0.0, busy,
	       busy > 0 ? (double)st->busy_blocks / busy : 0.0, seconds, st->peak_downloading, failures,
	       st->block_failures, st->register_failures, st->note_failures, st->bad_uris,
	       st->notes, st->reregisters, st->retransmits, st->server_requests, st->refused,
	       hist_quantile(&st->block_lat, 0.50), hist_quantile(&st->block_lat, 0.99),
	       ld->nslots, COAP_BLOCK_SIZE(ld->opt.block_szx), aborted ? 1 : 0);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	static struct load ld;
	if (parse_options(argc, argv, &ld) < 0) {
		usage();
		return 2;
	}
	struct sigaction sa = {.sa_handler = on_stop_signal};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	int rc = setup(&ld);
	if (rc < 0) {
		fprintf(stderr, "fw_load: setup: %s\n", strerror(-rc));
		bench_net_close(&ld.opt.net);
		return 1;
	}
	uint64_t t0 = now_ns();
	uint64_t stop = t0 + (uint64_t)ld.opt.max_seconds * 1000 * NS_PER_MS;
	run(&ld, registered_all, stop, false);
	printf("phase=register devices=%u ok=%" PRIu64 " failed=%" PRIu64 " seconds=%.3f\n",
	       ld.devices, ld.st.registers, ld.st.register_failures,
	       (double)(now_ns() - t0) / 1e9);
	fflush(stdout);
	uint64_t t1 = now_ns();
	if (ld.st.registers > 0 && !stop_requested)
		run(&ld, updated_all, stop, true);
	bool complete = ld.all_updated_ns != 0;
	print_summary(&ld, (double)((complete ? ld.all_updated_ns : now_ns()) - t1) / 1e9,
		      !complete);
	bench_net_close(&ld.opt.net);
	free(ld.dev);
	free(ld.ready);
	free(ld.slots);
	free(ld.free_slots);
	return complete && ld.st.registers == ld.devices ? 0 : 1;
}
