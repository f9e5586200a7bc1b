/*
 * lwm2m_soak.h: lwm2m_load's --mode soak (bench/soak.sh), a fleet living for a while.
 * Only lwm2m_load.c includes it, after its request machinery (one program; the header
 * keeps each file readable).
 *
 * Phase "register": every device registers as --mode report's water meter does; phase
 * "observe": until each is observed (the daemon observes /19/0/0 on Register when the
 * product has a codec). Then phase "soak", for --soak-seconds, mixes at steady rates:
 *   - Updates (CON POST /rd/<id>), --rate a second, round-robin over the devices;
 *   - reports ([0, battery %, flow] on the observation, CON 2.05), --report-rate a second;
 *   - reboots, --reboot-rate a minute, round-robin over the last 1 % of the devices (so a
 *     script can send commands to the others only): odd ones Deregister (CON DELETE
 *     /rd/<id>, 2.02) and Register again, even ones just Register again, as a device that
 *     lost its state does; the daemon observes the new registration again;
 *   - the deviceRsp of every command (CON PUT /19/1/0) the server sends, as --mode report.
 * A device still has one request at a time (NSTART = 1): what comes due while one is in
 * flight waits in its pending bits; an Update or report that comes due while the previous
 * one still waits, or for a device not registered (observed) at that moment, is counted
 * "skipped", not sent. An Update answered 4.04 (the server forgot the registration) makes
 * the device Register again.
 *
 * Every --window-seconds it prints a line "window=K ..." of what happened in that window
 * (key=value pairs, latencies of the requests answered in it); after the soak, the
 * requests in flight and the deviceRsp reports owed get up to their full retransmission
 * time, "phase=soak ..." gives the totals, and the devices keep answering the server
 * (phase "serve") until SIGTERM/SIGINT or --max-seconds.
 */
#ifndef LWM2MD_BENCH_LWM2M_SOAK_H
#define LWM2MD_BENCH_LWM2M_SOAK_H

/* What a request of the soak phase is (slot.op). */
enum soak_op { OP_UPDATE, OP_REPORT, OP_RESPONSE, OP_REGISTER, OP_DEREGISTER, OP_COUNT };

/* device.soak_pending bits: what a device has to send, in this order of priority. */
#define SOAK_DEREGISTER 0x01u
#define SOAK_REGISTER 0x02u
#define SOAK_RESPONSE 0x04u
#define SOAK_UPDATE 0x08u
#define SOAK_REPORT 0x10u

/* The streams paced by rate: Updates, reports, reboots. */
enum soak_stream { STREAM_UPDATE, STREAM_REPORT, STREAM_REBOOT, STREAM_COUNT };

/* Reboots go round-robin over the last devices: 1 % of the fleet, at least one. */
#define REBOOT_POOL_DIVISOR 100u

static const char *const soak_op_name[OP_COUNT] = {"upd", "rep", "rsp", "reg", "dereg"};

struct soak_counts {
	uint64_t sent[OP_COUNT];
	uint64_t ok[OP_COUNT];
	uint64_t lost[OP_COUNT];
	uint64_t err[OP_COUNT];
	uint64_t skipped[STREAM_COUNT];
	uint64_t retransmits;
	uint64_t commands; /* PUTs of /19/1/0 taken */
};

struct soak {
	struct soak_counts win;   /* this window */
	struct soak_counts total; /* the whole soak */
	struct hist win_lat[OP_COUNT];
	struct hist total_lat[OP_COUNT];
	uint64_t made[STREAM_COUNT]; /* requests of each stream made due so far */
	uint32_t cursor[STREAM_COUNT];
	uint32_t reboot_first; /* the first device of the reboot pool */
	uint64_t retransmits_seen;
	uint64_t commands_seen;
	bool making; /* false once the soak's time is up: no new Updates, reports, reboots */
};

/* Histograms are 18 kB each: static, not on the stack. */
static struct soak soak;

static uint32_t stream_rate(const struct options *o, enum soak_stream k)
{
	return k == STREAM_UPDATE ? o->rate : k == STREAM_REPORT ? o->report_rate : o->reboot_rate;
}

/* The time stream k's next request is due; rates are a second except reboots (a minute),
 * which are half a period late so that none falls on a window's end (the window line
 * would catch its device between Register and the daemon's new Observe). */
static uint64_t stream_due_ns(const struct options *o, enum soak_stream k, uint64_t start)
{
	if (k == STREAM_REBOOT)
		return start + (2 * soak.made[k] + 1) * 60000000000ull / (2ull * o->reboot_rate);
	return start + (soak.made[k] + 1) * 1000000000ull / stream_rate(o, k);
}

/* The op device d would send now, or OP_COUNT when it has nothing it can send. */
static enum soak_op soak_next_op(const struct device *d)
{
	uint8_t p = d->soak_pending;
	if (p & SOAK_DEREGISTER)
		return OP_DEREGISTER;
	if (p & SOAK_REGISTER)
		return OP_REGISTER;
	bool can_notify = d->observed && d->obs_format == COAP_CT_OCTET_STREAM;
	if ((p & SOAK_RESPONSE) && can_notify && d->rsp_count > 0)
		return OP_RESPONSE;
	if ((p & SOAK_UPDATE) && d->registered)
		return OP_UPDATE;
	if ((p & SOAK_REPORT) && can_notify)
		return OP_REPORT;
	return OP_COUNT;
}

/* Puts device i in the ready ring when it can send something and is not busy. */
static void soak_kick(struct load *ld, uint32_t i)
{
	struct device *d = &ld->dev[i];
	if (d->rsp_count > 0)
		d->soak_pending |= SOAK_RESPONSE;
	if (d->slot >= 0 || d->soak_queued || soak_next_op(d) == OP_COUNT)
		return;
	d->soak_queued = true;
	ready_push(ld, i);
}

/* Stream k's next request comes due: on its next device, unless it cannot take it. */
static void soak_make(struct load *ld, enum soak_stream k)
{
	const struct options *o = &ld->opt;
	uint32_t pool = k == STREAM_REBOOT ? o->devices - soak.reboot_first : o->devices;
	uint32_t i = (k == STREAM_REBOOT ? soak.reboot_first : 0) + soak.cursor[k];
	soak.cursor[k] = (soak.cursor[k] + 1) % pool;
	soak.made[k]++;
	struct device *d = &ld->dev[i];
	uint8_t bit = k == STREAM_UPDATE ? SOAK_UPDATE : k == STREAM_REPORT ? SOAK_REPORT : 0;
	bool able = k == STREAM_UPDATE   ? d->registered
		    : k == STREAM_REPORT ? d->observed
					 : d->registered && !(d->soak_pending & SOAK_REGISTER);
	if (!able || (d->soak_pending & bit)) {
		soak.win.skipped[k]++;
		soak.total.skipped[k]++;
		return;
	}
	if (k == STREAM_REBOOT)
		bit = soak.made[k] % 2 ? SOAK_DEREGISTER : SOAK_REGISTER;
	d->soak_pending |= bit;
	soak_kick(ld, i);
}

/* A Register (as the register phase's), an Update or a Deregister of device i into s. */
static int soak_build_rd(struct load *ld, uint32_t i, struct slot *s)
{
	struct device *d = &ld->dev[i];
	struct coap_msg m;
	/* The message points into these until it is encoded. */
	char node[NODE_MAX];
	char q_ep[NODE_MAX + 4];
	uint8_t code = s->op == OP_DEREGISTER ? COAP_CODE_DELETE : COAP_CODE_POST;
	int rc = coap_msg_init(&m, COAP_TYPE_CON, code, s->mid, s->token, s->token_len);
	if (rc == 0)
		rc = add_text_option(&m, COAP_OPTION_URI_PATH, "rd");
	if (rc < 0)
		return rc;
	if (s->op == OP_REGISTER) {
		format_node_id(&ld->opt, i, node, sizeof(node));
		snprintf(q_ep, sizeof(q_ep), "ep=%s", node);
		const char *queries[] = {q_ep, REGISTER_LIFETIME, REGISTER_VERSION,
					 REGISTER_BINDING};
		for (size_t q = 0; q < sizeof(queries) / sizeof(queries[0]) && rc == 0; q++)
			rc = add_text_option(&m, COAP_OPTION_URI_QUERY, queries[q]);
		if (rc == 0)
			rc = coap_msg_add_uint_option(&m, COAP_OPTION_CONTENT_FORMAT,
						      COAP_CT_LINK_FORMAT);
		if (rc < 0)
			return rc;
		coap_msg_set_payload(&m, OBJECT_LINKS_REPORT, strlen(OBJECT_LINKS_REPORT));
	} else {
		rc = coap_msg_add_option(&m, COAP_OPTION_URI_PATH, d->reg_id, d->reg_id_len);
		if (rc < 0)
			return rc;
	}
	int n = coap_msg_encode(&m, s->data, sizeof(s->data));
	if (n < 0)
		return n;
	s->len = (uint16_t)n;
	return 0;
}

/* Device d lost its observation (Deregister, an RST): no reports until observed again. */
static void soak_unobserve(struct load *ld, struct device *d)
{
	if (d->observed)
		ld->observed--;
	d->observed = false;
}

/* Sends device i's most urgent pending request in a free slot (there is one). */
static void soak_issue(struct load *ld, uint32_t i, uint64_t now)
{
	struct device *d = &ld->dev[i];
	d->soak_queued = false;
	enum soak_op op = soak_next_op(d);
	if (op == OP_COUNT || d->slot >= 0)
		return;
	static const uint8_t bit[OP_COUNT] = {SOAK_UPDATE, SOAK_REPORT, SOAK_RESPONSE,
					      SOAK_REGISTER, SOAK_DEREGISTER};
	uint32_t si = ld->free_slots[--ld->nfree];
	struct slot *s = &ld->slots[si];
	memset(s, 0, offsetof(struct slot, data));
	s->used = true;
	s->dev = i;
	s->op = (uint8_t)op;
	s->mid = d->next_mid++;
	int rc;
	if (op == OP_REPORT || op == OP_RESPONSE) {
		s->token_len = d->obs_token_len;
		memcpy(s->token, d->obs_token, d->obs_token_len);
		rc = build_notification(d, s, op == OP_RESPONSE);
		if (op == OP_REPORT || d->rsp_count == 0)
			d->soak_pending &= (uint8_t)~bit[op];
	} else {
		/* A device that Registers or Deregisters forgets its observations; the
		 * server observes a new registration anew. */
		if (op != OP_UPDATE)
			soak_unobserve(ld, d);
		uint32_t t = ld->token_seq++;
		s->token_len = TOKEN_LEN;
		for (int k = 0; k < TOKEN_LEN; k++)
			s->token[k] = (uint8_t)(t >> (8 * (TOKEN_LEN - 1 - k)));
		rc = soak_build_rd(ld, i, s);
		d->soak_pending &= (uint8_t)~bit[op];
	}
	d->slot = (int32_t)si;
	soak.win.sent[op]++;
	soak.total.sent[op]++;
	if (rc < 0) {
		fprintf(stderr, "lwm2m_load: cannot encode request for device %u\n", i);
		s->len = 0;
	} else {
		transmit(ld, s);
	}
	s->first_ns = now;
	s->tries = 1;
	s->deadline_ns = now + (uint64_t)ld->opt.timeout_ms * NS_PER_MS;
	schedule_check(ld, s->deadline_ns);
}

/* The end of a soak request: counts it, and what it means for the device. */
static void soak_finish(struct load *ld, struct slot *s, enum outcome out, uint8_t code,
			uint64_t now)
{
	struct device *d = &ld->dev[s->dev];
	enum soak_op op = (enum soak_op)s->op;
	if (out == OUT_OK) {
		soak.win.ok[op]++;
		soak.total.ok[op]++;
		hist_add(&soak.win_lat[op], (now - s->first_ns) / NS_PER_US);
		hist_add(&soak.total_lat[op], (now - s->first_ns) / NS_PER_US);
	} else if (out == OUT_LOST) {
		soak.win.lost[op]++;
		soak.total.lost[op]++;
	} else {
		soak.win.err[op]++;
		soak.total.err[op]++;
		ld->ph->codes[code]++;
	}
	if (op == OP_DEREGISTER && out == OUT_OK) {
		/* Gone: Register again, and wait for the new observation. */
		d->registered = false;
		d->soak_pending |= SOAK_REGISTER;
	}
	if (op == OP_REGISTER && out != OUT_OK)
		d->soak_pending |= SOAK_REGISTER; /* a real device would keep trying */
	if (op == OP_UPDATE && out == OUT_ERR && code == COAP_CODE_NOT_FOUND) {
		d->soak_pending |= SOAK_REGISTER;
	}
	if ((op == OP_REPORT || op == OP_RESPONSE) && out == OUT_ERR && code == COAP_CODE_EMPTY)
		soak_unobserve(ld, d); /* an RST: the server does not know the observation */
	s->used = false;
	d->slot = -1;
	ld->free_slots[ld->nfree++] = (uint32_t)(s - ld->slots);
	if (!soak.making)
		d->soak_pending &= (uint8_t)~(SOAK_UPDATE | SOAK_REPORT);
	soak_kick(ld, s->dev);
}

/* One datagram from the server to device i during the soak (cf. on_datagram). */
static void soak_datagram(struct load *ld, uint32_t i, const struct coap_msg *r, uint64_t now)
{
	struct device *d = &ld->dev[i];
	struct slot *s = d->slot >= 0 ? &ld->slots[d->slot] : NULL;
	bool notifying = s != NULL && (s->op == OP_REPORT || s->op == OP_RESPONSE);
	if (s == NULL || notifying) {
		if (notifying && r->mid == s->mid &&
		    (r->type == COAP_TYPE_ACK || r->type == COAP_TYPE_RST)) {
			bool ok = r->type == COAP_TYPE_ACK && r->code == COAP_CODE_EMPTY;
			finish(ld, s, ok ? OUT_OK : OUT_ERR, r->code, now);
		} else {
			answer_server(ld, i, r);
		}
		return;
	}
	bool response = false;
	if (r->type == COAP_TYPE_ACK && r->mid == s->mid) {
		if (r->code == COAP_CODE_EMPTY) {
			s->acked = true;
			s->deadline_ns = now + give_up_ns(&ld->opt);
			schedule_check(ld, s->deadline_ns);
			return;
		}
		response = token_matches(s, r);
	} else if (r->type == COAP_TYPE_RST && r->mid == s->mid) {
		finish(ld, s, OUT_ERR, COAP_CODE_EMPTY, now);
		return;
	} else if ((r->type == COAP_TYPE_CON || r->type == COAP_TYPE_NON) &&
		   COAP_CODE_CLASS(r->code) >= 2 && token_matches(s, r)) {
		answer_server(ld, i, r);
		response = true;
	}
	if (!response) {
		answer_server(ld, i, r);
		return;
	}
	bool ok;
	if (s->op == OP_REGISTER)
		ok = r->code == COAP_CODE_CREATED && take_location(d, r);
	else
		ok = r->code == (s->op == OP_DEREGISTER ? COAP_CODE_DELETED : COAP_CODE_CHANGED);
	finish(ld, s, ok ? OUT_OK : OUT_ERR, r->code, now);
}

static void soak_print_counts(const struct soak_counts *c, const struct hist *lat)
{
	for (int op = 0; op < OP_COUNT; op++) {
		const char *n = soak_op_name[op];
		printf(" %s_sent=%" PRIu64 " %s_ok=%" PRIu64 " %s_lost=%" PRIu64 " %s_err=%" PRIu64,
		       n, c->sent[op], n, c->ok[op], n, c->lost[op], n, c->err[op]);
		if (op == OP_UPDATE || op == OP_REPORT)
			printf(" %s_p50_us=%" PRIu64 " %s_p99_us=%" PRIu64 " %s_max_us=%" PRIu64, n,
			       hist_quantile(&lat[op], 0.50), n, hist_quantile(&lat[op], 0.99), n,
			       lat[op].max);
	}
	printf(" upd_skipped=%" PRIu64 " rep_skipped=%" PRIu64 " reboot_skipped=%" PRIu64
	       " retransmits=%" PRIu64 " commands=%" PRIu64,
	       c->skipped[STREAM_UPDATE], c->skipped[STREAM_REPORT], c->skipped[STREAM_REBOOT],
	       c->retransmits, c->commands);
}

static uint32_t soak_registered(const struct load *ld)
{
	uint32_t n = 0;
	for (uint32_t i = 0; i < ld->opt.devices; i++)
		n += ld->dev[i].registered ? 1u : 0u;
	return n;
}

/* Prints window k's line and starts the next window. */
static void soak_window(struct load *ld, uint32_t k, double seconds)
{
	soak.win.retransmits = ld->ph->retransmits - soak.retransmits_seen;
	soak.retransmits_seen = ld->ph->retransmits;
	soak.win.commands = ld->commands - soak.commands_seen;
	soak.commands_seen = ld->commands;
	printf("window=%u seconds=%.1f registered=%u observed=%u in_flight=%u", k, seconds,
	       soak_registered(ld), ld->observed, ld->nslots - ld->nfree);
	soak_print_counts(&soak.win, soak.win_lat);
	printf("\n");
	fflush(stdout);
	memset(&soak.win, 0, sizeof(soak.win));
	memset(soak.win_lat, 0, sizeof(soak.win_lat));
}

/* The soak phase: the streams for --soak-seconds, then what is in flight or owed. With
 * tail_until (the "serve" phase after it), no streams: only the server's requests and
 * the deviceRsp reports of its commands, until a stop signal or tail_until. */
static void soak_run(struct load *ld, struct phase *ph, uint64_t tail_until)
{
	const struct options *o = &ld->opt;
	ld->ph = ph;
	ld->ready_head = 0;
	ld->ready_count = 0;
	ld->next_check_ns = UINT64_MAX;
	uint32_t pool = o->devices / REBOOT_POOL_DIVISOR > 0 ? o->devices / REBOOT_POOL_DIVISOR : 1;
	soak.reboot_first = o->devices - pool;
	soak.making = tail_until == 0;
	/* The ring starts empty (a phase ended with some queued perhaps); the deviceRsp
	 * reports owed since the previous phase can go. */
	for (uint32_t i = 0; i < o->devices; i++)
		ld->dev[i].soak_queued = false;
	for (uint32_t i = 0; i < o->devices; i++)
		soak_kick(ld, i);
	struct epoll_event events[EPOLL_BATCH];
	ph->start_ns = now_ns();
	uint64_t win_ns = (uint64_t)o->window_seconds * 1000 * NS_PER_MS;
	uint64_t end_ns = ph->start_ns + (uint64_t)o->soak_seconds * 1000 * NS_PER_MS;
	uint64_t win_end = ph->start_ns + win_ns;
	uint64_t drain_end = UINT64_MAX;
	uint32_t k = 1;
	for (;;) {
		uint64_t now = now_ns();
		uint64_t next_due = UINT64_MAX;
		for (int st = 0; soak.making && st < STREAM_COUNT; st++) {
			if (stream_rate(o, (enum soak_stream)st) == 0)
				continue;
			uint64_t due;
			while ((due = stream_due_ns(o, (enum soak_stream)st, ph->start_ns)) <= now)
				soak_make(ld, (enum soak_stream)st);
			if (due < next_due)
				next_due = due;
		}
		while (ld->nfree > 0 && ld->ready_count > 0)
			soak_issue(ld, ready_pop(ld), now);
		if (soak.making && now >= win_end && win_end <= end_ns) {
			soak_window(ld, k++, (double)(now - (win_end - win_ns)) / 1e9);
			win_end += win_ns;
		}
		if (soak.making && (now >= end_ns || stop_requested)) {
			/* Time is up: what is in flight and the deviceRsp reports owed get
			 * their full retransmission time. */
			soak.making = false;
			for (uint32_t i = 0; i < o->devices; i++)
				ld->dev[i].soak_pending &= (uint8_t)~(SOAK_UPDATE | SOAK_REPORT);
			drain_end = now + give_up_ns(o) + 1000 * NS_PER_MS;
		}
		if (tail_until > 0) {
			if (stop_requested || now >= tail_until) {
				if (ld->nfree != ld->nslots)
					abandon(ld, now);
				break;
			}
		} else if (!soak.making && ((ld->nfree == ld->nslots && ld->ready_count == 0) ||
					    now >= drain_end)) {
			if (ld->nfree != ld->nslots)
				abandon(ld, now);
			break;
		}
		int wait_ms = WAIT_MS_MAX;
		uint64_t wake = ld->next_check_ns < next_due ? ld->next_check_ns : next_due;
		if (soak.making && win_end < wake)
			wake = win_end;
		if (wake <= now)
			wait_ms = 0;
		else if (wake - now < (uint64_t)WAIT_MS_MAX * NS_PER_MS)
			wait_ms = (int)((wake - now + NS_PER_MS - 1) / NS_PER_MS);
		if (ld->ready_count > 0 && ld->nfree > 0)
			wait_ms = 0;
		int n = epoll_wait(ld->epfd, events, EPOLL_BATCH, wait_ms);
		for (int e = 0; e < n; e++)
			on_readable(ld, events[e].data.u32);
		now = now_ns();
		if (now >= ld->next_check_ns)
			check_timeouts(ld, now);
	}
	ph->end_ns = now_ns();
	soak.total.retransmits = ph->retransmits;
	soak.total.commands = ld->commands;
}

/* --mode soak: register, wait for the observations, soak, then serve until stopped. */
static int soak_main(struct load *ld)
{
	static struct phase reg = {.name = "register", .kind = PHASE_REGISTER};
	static struct phase obs = {.name = "observe", .kind = PHASE_SERVE};
	static struct phase sk = {.name = "soak", .kind = PHASE_SOAK};
	static struct phase srv = {.name = "serve", .kind = PHASE_SOAK};
	struct sigaction sa = {.sa_handler = on_stop_signal};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	run_phase(ld, &reg);
	print_phase(ld, &reg);
	uint64_t stop = now_ns() + (uint64_t)ld->opt.max_seconds * 1000 * NS_PER_MS;
	bool all = reg.ok > 0 && serve(ld, &obs, stop, (uint32_t)reg.ok);
	print_serve(ld, &obs, reg.ok);
	if (!all)
		return 1;
	soak_run(ld, &sk, 0);
	double secs = (double)(sk.end_ns - sk.start_ns) / 1e9;
	uint64_t sk_rsp = soak.total.sent[OP_RESPONSE];
	printf("phase=soak devices=%u seconds=%.3f registered=%u observed=%u aborted=%d",
	       ld->opt.devices, secs, soak_registered(ld), ld->observed, sk.aborted ? 1 : 0);
	soak_print_counts(&soak.total, soak.total_lat);
	printf("\n");
	fflush(stdout);
	for (int c = 0; c < 256; c++) {
		char name[5];
		if (sk.codes[c] > 0)
			fprintf(stderr, "lwm2m_load: soak: %" PRIu64 " answered %s\n", sk.codes[c],
				c == 0 ? "RST" : coap_code_format((uint8_t)c, name));
	}
	/* Until stopped: the script waits for the last commands and the outbox meanwhile. */
	uint64_t served = ld->commands;
	soak_run(ld, &srv, now_ns() + (uint64_t)ld->opt.max_seconds * 1000 * NS_PER_MS);
	printf("phase=serve devices=%u seconds=%.3f commands=%" PRIu64 " rsp_sent=%" PRIu64
	       " aborted=%d\n", ld->opt.devices, (double)(srv.end_ns - srv.start_ns) / 1e9,
	       ld->commands - served, soak.total.sent[OP_RESPONSE] - sk_rsp, srv.aborted ? 1 : 0);
	fflush(stdout);
	uint64_t lost = 0;
	for (int op = 0; op < OP_COUNT; op++)
		lost += soak.total.lost[op] + soak.total.err[op];
	return reg.ok == reg.requests && lost == 0 ? 0 : 1;
}

#endif
