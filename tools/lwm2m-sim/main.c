/*
 * lwm2m-sim: the project's own LwM2M client, playing one device against a server.
 *
 * It registers (block-wise when the object list is over one block), sends Updates at an
 * interval and de-registers, over real UDP with CON retransmission (RFC 7252 §4.2), and
 * prints one line per step so that tests and people can follow it:
 *   registered rd/<id>    updated 2.04    deregistered 2.02    failed <step> <code>
 * It exits 0 when every step got the answer LwM2M prescribes, 1 otherwise.
 *
 * With --serve it stays registered for that long and answers every Device Management
 * request of the server from its object tree (sim_tree.c: /0/0, /1/0, /3/0, /19/0, /19/1
 * and --tree's values): Read at each level in every format the values fit, Discover,
 * Write (replace and update), Write-Attributes, Execute, Create, Delete, Read-/Write-/
 * Observe-Composite and Observe, with notifications on change and at pmax (sim_dm.c). It
 * prints one line per request and notification:
 *   answered GET /3/0 2.05 ct=11542    executed /3/0/4 args=<...>    notified /3/0/9 seq=3
 *   cancelled observation /3/0/9 by RST    sent /dp 2.04    sleeping    dropped datagram
 *
 * With --psk-identity and --psk it talks CoAP over DTLS 1.2 (mbedTLS, dtls_client.c), with
 * the same CON retransmission inside the session, printing "handshake <suite>" or
 * "failed handshake -0xXXXX <mbedTLS's text>"; --no-ep registers without
 * the ep parameter, as LwM2M 1.1 allows over DTLS (the server takes the PSK identity).
 *
 * With --meter (and --serve) it plays a binary NB-IoT water meter over object 19
 * (sim_meter.c): /19/0/0 holds its latest report [0, battery %, flow in litres (uint32,
 * big-endian)], a new one every --report-every MS (default 10000; battery from --battery,
 * default 90, drops by 1 every third report, the flow grows with each), which the
 * server's observation of /19/0/0 carries up as notifications; a Write of /19/1/0
 * [1, mid, interval] (SET_INTERVAL) is taken (2.04) and answered by the next
 * notification, [2, mid, errcode, result]; the platform's desired-shadow command
 * $properties [3, mid, interval] likewise, followed by the report [4, interval]. It prints
 * one line per event:
 *   meter report seq=3 battery=89 flow=1039    meter command mid=7 interval=300
 *   meter answer mid=7 errcode=0
 *
 * --bad-content FORMATS makes Reads answered in those formats (tlv, senml-json,
 * senml-cbor, oma-json) carry a malformed payload, for the server's error path.
 *
 * Queue mode (--binding UQ --sleep-after MS --wake-every MS) plays a sleeping NB-IoT
 * device: MS after the last datagram it sent it stops listening (what arrives is read and
 * dropped), and every --wake-every it wakes with an Update and answers what comes; a
 * notification that comes due wakes it too — a meter's report among them, so that a
 * server holding a command for the sleeping meter can send it right after the report.
 *
 * With --fw it plays the Firmware Update object /5/0 (sim_fw.c, Core 1.1 §E.6): a package
 * pushed to /5/0/0 in Block1 blocks is taken as a stream (any size: counted and checked,
 * never gathered), a Package URI written to /5/0/1 is fetched with GET and Block2 from the
 * server the device registered with (coap:// over UDP, coaps:// inside the DTLS session;
 * an unanswered block is asked again every 2 s for up to --fw-retry-s, over DTLS after a
 * new handshake and Update from the second time on, as a restarted server lost the
 * session; --fw-pull-server, a test aid, names another server to pull from), and Execute
 * /5/0/2 in state Downloaded "reboots" the device after --fw-apply-ms: /3/0/3 becomes the
 * new version, /5/0/5 1, it forgets its observations, handshakes anew over DTLS and
 * registers from scratch. --fw-outcome N makes the download (or, 8, the Update) fail with
 * result N. State and result notify their observers at each change. It prints:
 *   fw state 1    fw block num=3 szx=6    fw downloaded bytes=3072 fnv=1a2b3c4d
 *   fw updating    fw rebooted version=2.0.0    fw result 1    fw failed <why>
 * A queue-mode device stays awake while it fetches by pull.
 *
 * Requests of the server may come block-wise (Block1, up to 64 KiB) and answers over
 * one block go back block-wise (Block2), so that large values are written and read back
 * whole (sim_block.c).
 *
 * With --bootstrap URI it first bootstraps (sim_bootstrap.h), then registers to the
 * management server written into /0 and /1, with its security mode, PSK, lifetime and
 * binding, as if they had been given with --server, --psk-identity and --psk.
 *
 * Limits, on purpose: notifications are CON but sent once (no retransmission) and must
 * fit one datagram (1200 bytes); epmin/epmax are stored and shown by Discover but do not
 * drive notifications.
 */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "coap/coap_msg.h"
#include "dtls_client.h"
#include "model/model.h"
#include "sim_block.h"
#include "sim_bootstrap.h"
#include "sim_dm.h"
#include "sim_fw.h"
#include "sim_meter.h"
#include "sim_tree.h"
#include "sim_usage.h"
#include "util/addr.h"

/* How long the DTLS handshake may take in all. mbedTLS resends its flights at doubling
 * intervals from 1 s (RFC 6347 §4.2.4.1): 1+2+4+8+16 s make five resends, and a silent
 * server (or a wrong key, which a DTLS server may answer with silence) fails after 32 s
 * rather than after the two minutes mbedTLS's own limits (1 s..60 s) allow. */
#define HANDSHAKE_TIMEOUT_MS 32000
/* How often the serve loop looks at its timers (changes, notifications, sleep). */
#define TICK_MS 20
#define MAX_CHANGES 16
#define DATAGRAM_MAX 2048

struct change {
	struct lwm2m_value value; /* bytes owned here */
	int at_ms;                /* after registering */
	bool done;
};

struct sim {
	int fd;
	struct addr server;
	const char *ep;
	unsigned lifetime;
	const char *binding;
	const char *version;
	const char *objects;
	int updates;
	int interval_ms;
	bool deregister;
	size_t block_size;
	uint16_t mid;
	char reg_id[64];
	bool no_ep;
	struct dtls_client *dtls; /* NULL over plain CoAP */
	struct sim_tree tree;
	struct sim_dm dm;
	char links[1024];
	int64_t last_tx_ms;       /* when we last sent anything (queue mode) */
	int sleep_after_ms;       /* queue mode: 0 = always listening */
	int wake_every_ms;
	bool asleep;
	int notify_ms;            /* battery changes every notify_ms (0: never) */
	struct change changes[MAX_CHANGES];
	int change_count;
	struct sim_block block;   /* a request coming in Block1 blocks */
	const char *send_paths;   /* --send: comma-separated paths, or NULL */
	int send_format;
	bool meter_on;            /* --meter: plays the water meter over object 19 */
	struct sim_meter meter;
	bool fw_on;               /* --fw: plays the Firmware Update object /5/0 */
	struct sim_fw fw;
	bool stop;                /* the session is gone (a failed reboot): serve no more */
	/* What a new handshake needs (a firmware update's reboot); identity is set once the
	 * first handshake succeeded, and then the device talks over DTLS only. */
	const char *identity;
	uint8_t key[32];
	size_t key_len;
	int suite;
};

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

/* Sends one datagram to the server, over the session when there is one. */
static void send_datagram(struct sim *s, const uint8_t *data, size_t len)
{
	s->last_tx_ms = now_ms();
	if (s->identity && !s->dtls)
		return; /* a new handshake failed: no session, nothing goes in clear */
	if (s->dtls) {
		dtls_client_send(s->dtls, data, len);
		return;
	}
	struct sockaddr_storage ss;
	size_t sl = addr_to_sockaddr(&s->server, &ss);
	sendto(s->fd, data, len, 0, (struct sockaddr *)&ss, (socklen_t)sl);
}

/* Waits up to timeout_ms for one datagram (decrypted when over DTLS). Returns its length,
 * -ETIMEDOUT, or another negative error (the session ended). */
static int receive(struct sim *s, uint8_t *buf, size_t cap, int timeout_ms)
{
	if (s->dtls)
		return dtls_client_recv(s->dtls, buf, cap, timeout_ms);
	struct pollfd p = { .fd = s->fd, .events = POLLIN };
	int r = poll(&p, 1, timeout_ms);
	if (r == 0)
		return -ETIMEDOUT;
	if (r < 0)
		return -errno;
	ssize_t n = recv(s->fd, buf, cap, 0);
	return n < 0 ? -errno : (int)n;
}

/* A datagram that is not the answer someone waits for: a request of the server (answered
 * from the tree), or the ACK/RST of one of our notifications. */
static void dispatch(struct sim *s, const uint8_t *data, size_t len)
{
	struct coap_msg req, resp;
	if (coap_msg_parse(&req, data, len) != 0)
		return;
	if (s->fw_on && sim_fw_response(&s->fw, &req, now_ms()))
		return; /* a block of the firmware the device fetches */
	if (req.type == COAP_TYPE_RST) {
		sim_dm_on_rst(&s->dm, req.mid);
		return;
	}
	if (COAP_CODE_CLASS(req.code) != 0 || req.code == COAP_CODE_EMPTY ||
	    (req.type != COAP_TYPE_CON && req.type != COAP_TYPE_NON))
		return;
	/* An answer may be as large as the largest value written, and more in TLV or SenML:
	 * it goes back block-wise (sim_block). */
	static uint8_t payload[SIM_BLOCK_BODY_MAX + 1024];
	uint8_t out[DATAGRAM_MAX];
	char scratch[64];
	struct coap_msg whole;
	/* RFC 7252 §5.2: a CON gets a piggybacked ACK, a NON a NON response. */
	if (req.type == COAP_TYPE_CON)
		coap_msg_init(&resp, COAP_TYPE_ACK, 0, req.mid, req.token, req.token_len);
	else
		coap_msg_init(&resp, COAP_TYPE_NON, 0, s->mid++, req.token, req.token_len);
	if (s->fw_on && sim_fw_request(&s->fw, &req, &resp, now_ms()) != 0) {
		/* /5/0/0, /5/0/1, /5/0/2: answered by sim_fw (a package is never gathered). */
	} else if (sim_block_request(&s->block, &req, &whole, &resp) == 0) {
		uint8_t code = sim_dm_handle(&s->dm, &whole, &resp, payload, sizeof(payload),
					     scratch, now_ms());
		if (s->meter_on)
			sim_meter_on_request(&s->meter, &whole, code);
		sim_block_response(&req, &resp);
	}
	int n = coap_msg_encode(&resp, out, sizeof(out));
	if (n > 0)
		send_datagram(s, out, (size_t)n);
}

static uint16_t send_con(void *ctx, struct coap_msg *m)
{
	struct sim *s = ctx;
	uint8_t out[DATAGRAM_MAX];
	m->mid = s->mid++;
	int n = coap_msg_encode(m, out, sizeof(out));
	if (n > 0)
		send_datagram(s, out, (size_t)n);
	return m->mid;
}

/* sim_fw's datagrams: to the registered server, or (--fw-pull-server) to the test's. */
static void fw_send(void *ctx, const uint8_t *data, size_t len, bool to_pull_server)
{
	struct sim *s = ctx;
	if (!to_pull_server) {
		send_datagram(s, data, len);
		return;
	}
	struct sockaddr_storage ss;
	size_t sl = addr_to_sockaddr(&s->fw.cfg.pull_server, &ss);
	s->last_tx_ms = now_ms();
	sendto(s->fd, data, len, 0, (struct sockaddr *)&ss, (socklen_t)sl);
}

/* /5/0/3 or /5/0/5 changed: their observers hear of it now, not at the next tick, so
 * that two changes in a row are two notifications. */
static void fw_changed(void *ctx)
{
	struct sim *s = ctx;
	sim_dm_tick(&s->dm, now_ms(), send_con, s);
}

/* Sends msg as CON and waits for its ACK, retransmitting per RFC 7252 §4.2 (2 s initial
 * timeout, doubling, 4 retransmissions). Whatever else arrives meanwhile (a request the
 * server sends before it acknowledges, e.g. one it held for a sleeping device) is
 * dispatched. The response is parsed into resp (pointing into buf). Returns 0 or
 * -ETIMEDOUT. */
static int exchange(struct sim *s, struct coap_msg *msg, struct coap_msg *resp, uint8_t *buf,
		    size_t cap)
{
	uint8_t out[DATAGRAM_MAX];
	msg->mid = s->mid++;
	int len = coap_msg_encode(msg, out, sizeof(out));
	if (len < 0)
		return len;
	int timeout = 2000;
	for (int attempt = 0; attempt <= 4; attempt++, timeout *= 2) {
		send_datagram(s, out, (size_t)len);
		int64_t deadline = now_ms() + timeout;
		int n;
		while ((n = receive(s, buf, cap, (int)(deadline - now_ms() > 0
							  ? deadline - now_ms()
							  : 0))) >= 0) {
			if (coap_msg_parse(resp, buf, (size_t)n) == 0 && resp->mid == msg->mid &&
			    resp->type == COAP_TYPE_ACK)
				return 0;
			dispatch(s, buf, (size_t)n);
		}
		/* Anything but a timeout (e.g. the server's close_notify) ends it. */
		if (n != -ETIMEDOUT)
			return -EIO;
	}
	return -ETIMEDOUT;
}

static void add_query(struct coap_msg *m, char *storage, size_t cap, const char *name,
		      const char *value)
{
	int n = snprintf(storage, cap, "%s=%s", name, value);
	coap_msg_add_option(m, COAP_OPTION_URI_QUERY, storage, (size_t)n);
}

static uint8_t szx_of(size_t size)
{
	uint8_t szx = 0;
	while (szx < 6 && COAP_BLOCK_SIZE(szx) < size)
		szx++;
	return szx;
}

static int do_register(struct sim *s)
{
	char q_ep[128], q_lt[32], q_v[32], q_b[32], lt[16];
	snprintf(lt, sizeof(lt), "%u", s->lifetime);
	size_t total = strlen(s->objects);
	uint8_t szx = szx_of(s->block_size);
	size_t block = COAP_BLOCK_SIZE(szx);
	bool blockwise = total > block;
	uint8_t buf[DATAGRAM_MAX];
	struct coap_msg m, r;
	uint32_t num = 0;
	size_t off = 0;
	do {
		size_t n = blockwise ? (total - off < block ? total - off : block) : total;
		coap_msg_init(&m, COAP_TYPE_CON, COAP_CODE_POST, 0, (const uint8_t *)"sim", 3);
		coap_msg_add_option(&m, COAP_OPTION_URI_PATH, "rd", 2);
		coap_msg_add_uint_option(&m, COAP_OPTION_CONTENT_FORMAT, COAP_CT_LINK_FORMAT);
		if (!s->no_ep)
			add_query(&m, q_ep, sizeof(q_ep), "ep", s->ep);
		add_query(&m, q_lt, sizeof(q_lt), "lt", lt);
		add_query(&m, q_v, sizeof(q_v), "lwm2m", s->version);
		add_query(&m, q_b, sizeof(q_b), "b", s->binding);
		if (blockwise) {
			struct coap_block b = {.num = num, .more = off + n < total, .szx = szx};
			coap_msg_add_uint_option(&m, COAP_OPTION_BLOCK1, coap_block_encode(&b));
		}
		coap_msg_set_payload(&m, s->objects + off, n);
		if (exchange(s, &m, &r, buf, sizeof(buf)) != 0) {
			printf("failed register timeout\n");
			return -1;
		}
		off += n;
		num++;
		if (off < total && r.code != COAP_CODE_CONTINUE)
			break;
	} while (off < total);
	char code[5];
	if (r.code != COAP_CODE_CREATED) {
		printf("failed register %s\n", coap_code_format(r.code, code));
		return -1;
	}
	int seg = 0;
	for (size_t i = 0; i < r.option_count; i++) {
		const struct coap_option *o = &r.options[i];
		if (o->number == COAP_OPTION_LOCATION_PATH && seg++ == 1)
			snprintf(s->reg_id, sizeof(s->reg_id), "%.*s", o->len,
				 (const char *)o->value);
	}
	printf("registered rd/%s\n", s->reg_id);
	return s->reg_id[0] ? 0 : -1;
}

/* An Update (POST, with links when given) or De-register (DELETE) of our registration. */
static int rd_request(struct sim *s, uint8_t method, uint8_t want, const char *what,
		      const char *links)
{
	uint8_t buf[DATAGRAM_MAX];
	struct coap_msg m, r;
	coap_msg_init(&m, COAP_TYPE_CON, method, 0, (const uint8_t *)"sim", 3);
	coap_msg_add_option(&m, COAP_OPTION_URI_PATH, "rd", 2);
	coap_msg_add_option(&m, COAP_OPTION_URI_PATH, s->reg_id, strlen(s->reg_id));
	if (links) {
		coap_msg_add_uint_option(&m, COAP_OPTION_CONTENT_FORMAT, COAP_CT_LINK_FORMAT);
		coap_msg_set_payload(&m, links, strlen(links));
	}
	if (exchange(s, &m, &r, buf, sizeof(buf)) != 0) {
		printf("failed %s timeout\n", what);
		return -1;
	}
	char code[5];
	coap_code_format(r.code, code);
	if (r.code != want) {
		printf("failed %s %s\n", what, code);
		return -1;
	}
	printf("%s %s\n", what, code);
	return 0;
}

/* LwM2M 1.1 Send (Core §6.4.6): POST /dp with the values of s->send_paths in SenML. */
static int do_send(struct sim *s)
{
	struct lwm2m_values vals;
	struct lwm2m_path root = { .len = 0 };
	char list[256];
	uint8_t payload[SIM_DM_PAYLOAD_MAX], buf[DATAGRAM_MAX];
	lwm2m_values_init(&vals);
	snprintf(list, sizeof(list), "%s", s->send_paths);
	for (char *save = NULL, *tok = strtok_r(list, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		struct lwm2m_path p;
		if (lwm2m_path_parse(tok, strlen(tok), &p) == 0)
			sim_tree_collect(&s->tree, &p, &vals);
	}
	int n = content_encode((uint16_t)s->send_format, &root, &vals, model_type_of, NULL,
			       payload, sizeof(payload));
	lwm2m_values_free(&vals);
	if (n <= 0) {
		printf("failed send: nothing to send\n");
		return -1;
	}
	struct coap_msg m, r;
	coap_msg_init(&m, COAP_TYPE_CON, COAP_CODE_POST, 0, (const uint8_t *)"snd", 3);
	coap_msg_add_option(&m, COAP_OPTION_URI_PATH, "dp", 2);
	coap_msg_add_uint_option(&m, COAP_OPTION_CONTENT_FORMAT, (uint32_t)s->send_format);
	coap_msg_set_payload(&m, payload, (size_t)n);
	char code[5];
	if (exchange(s, &m, &r, buf, sizeof(buf)) != 0) {
		printf("failed send timeout\n");
		return -1;
	}
	printf("sent /dp %s ct=%d\n", coap_code_format(r.code, code), s->send_format);
	return r.code == COAP_CODE_CHANGED ? 0 : -1;
}

/* A new DTLS session with the server, the old one closed first (close_notify). */
static int rehandshake(struct sim *s, int timeout_ms)
{
	char err[192];
	dtls_client_close(s->dtls);
	dtls_client_free(s->dtls);
	s->dtls = NULL;
	if (dtls_client_connect(&s->dtls, s->fd, &s->server, s->identity, s->key, s->key_len,
				s->suite, timeout_ms, err, sizeof(err)) != 0) {
		printf("failed handshake %s\n", err);
		return -1;
	}
	printf("handshake %s\n", dtls_client_suite(s->dtls));
	return 0;
}

/* The device "reboots" into its new firmware: it forgets its observations and any
 * transfer, renews its DTLS session, and registers from scratch. */
static void reboot(struct sim *s)
{
	memset(s->dm.obs, 0, sizeof(s->dm.obs));
	s->block.active = false;
	sim_fw_rebooted(&s->fw);
	if ((s->identity && rehandshake(s, HANDSHAKE_TIMEOUT_MS) != 0) || do_register(s) != 0)
		s->stop = true;
}

/* sim_fw: a block went unanswered over DTLS for a while — the server may have restarted
 * and lost the session. A new handshake and an Update (a new Register when the server
 * does not know the registration) bring the device back. */
static bool fw_reconnect(void *ctx, int timeout_ms)
{
	struct sim *s = ctx;
	if (!s->identity || rehandshake(s, timeout_ms) != 0)
		return false;
	return rd_request(s, COAP_CODE_POST, COAP_CODE_CHANGED, "updated", NULL) == 0 ||
	       do_register(s) == 0;
}

/* The timed things of the serve loop: --change values, the battery, Updates the server
 * asked for (or that new instances need), notifications, and queue mode's sleep. */
static void tick(struct sim *s, int64_t start, int64_t *next_battery, int64_t *next_wake)
{
	int64_t now = now_ms();
	for (int i = 0; i < s->change_count; i++) {
		struct change *c = &s->changes[i];
		if (!c->done && now - start >= c->at_ms) {
			char p[40];
			c->done = true;
			if (sim_tree_set(&s->tree, &c->value) == 0)
				printf("changed %s\n", sim_path_str(&c->value.path, p));
		}
	}
	if (s->notify_ms > 0 && now >= *next_battery) {
		struct lwm2m_value v = { .path = { .len = 3, .ids = { 3, 0, 9 } },
					 .type = LWM2M_TYPE_INTEGER };
		struct lwm2m_values cur;
		lwm2m_values_init(&cur);
		sim_tree_collect(&s->tree, &v.path, &cur);
		int64_t level = cur.count ? cur.items[0].v.i : 100;
		lwm2m_values_free(&cur);
		v.v.i = level > 1 ? level - 1 : 100;
		sim_tree_set(&s->tree, &v);
		*next_battery = now + s->notify_ms;
	}
	if (s->sleep_after_ms > 0) {
		/* A device fetching its firmware is speaking: it stays awake. */
		if (!s->asleep && now - s->last_tx_ms > s->sleep_after_ms &&
		    !(s->fw_on && sim_fw_busy(&s->fw))) {
			s->asleep = true;
			printf("sleeping\n");
		}
		if (s->asleep && now >= *next_wake) {
			s->asleep = false;
			*next_wake = now + s->wake_every_ms;
			printf("woke\n");
			rd_request(s, COAP_CODE_POST, COAP_CODE_CHANGED, "updated", NULL);
		}
	}
	/* A sleeping device wakes to send a notification that is due (Core §6.5), and then
	 * listens for sleep_after_ms like after any other message. The meter's new report
	 * (or answer) is one: it goes into the tree here, and sim_dm_tick notifies it. */
	int64_t tx = s->last_tx_ms;
	if (s->meter_on)
		sim_meter_tick(&s->meter, &s->tree, &s->dm, now);
	if (s->fw_on) {
		sim_fw_tick(&s->fw, now);
		if (s->fw.reboot_due)
			reboot(s);
	}
	sim_dm_tick(&s->dm, now, send_con, s);
	if (s->asleep && s->last_tx_ms != tx) {
		s->asleep = false;
		printf("woke (notification)\n");
	}
	if (s->asleep)
		return;
	if (s->dm.links_changed) {
		s->dm.links_changed = false;
		if (sim_tree_links(&s->tree, s->links, sizeof(s->links)) > 0)
			rd_request(s, COAP_CODE_POST, COAP_CODE_CHANGED, "updated", s->links);
	}
	if (s->dm.update_requested) {
		s->dm.update_requested = false;
		rd_request(s, COAP_CODE_POST, COAP_CODE_CHANGED, "updated", NULL);
	}
}

/* Plays the device side of Device Management for seconds: answers every request from
 * the object tree and sends the notifications that come due. */
static void serve(struct sim *s, int seconds)
{
	uint8_t buf[DATAGRAM_MAX];
	int64_t start = now_ms(), end = start + (int64_t)seconds * 1000;
	int64_t next_battery = start + s->notify_ms, next_wake = start + s->wake_every_ms;
	for (int64_t now = start; now < end && !s->stop; now = now_ms()) {
		tick(s, start, &next_battery, &next_wake);
		int wait = end - now < TICK_MS ? (int)(end - now) : TICK_MS;
		if (s->asleep) {
			/* Asleep, the radio is off: what arrives is lost. */
			struct pollfd p = { .fd = s->fd, .events = POLLIN };
			if (poll(&p, 1, wait) > 0 && recv(s->fd, buf, sizeof(buf), 0) >= 0)
				printf("dropped datagram (asleep)\n");
			continue;
		}
		int n = receive(s, buf, sizeof(buf), wait);
		if (n == -ETIMEDOUT)
			continue;
		if (n < 0)
			return;
		dispatch(s, buf, (size_t)n);
	}
}

/* A UDP socket bound to bind_to (or any address of the server's family). 0 or -1. */
static int open_socket(struct sim *s, const char *bind_to)
{
	struct addr local;
	if (addr_parse(&local, bind_to ? bind_to
				       : (s->server.family == AF_INET6 ? "[::]:0" : "0.0.0.0:0")) != 0) {
		sim_usage();
		return -1;
	}
	s->fd = socket(local.family, SOCK_DGRAM, 0);
	struct sockaddr_storage ss;
	size_t sl = addr_to_sockaddr(&local, &ss);
	if (s->fd < 0 || bind(s->fd, (struct sockaddr *)&ss, (socklen_t)sl) != 0) {
		perror("lwm2m-sim: socket");
		return -1;
	}
	return 0;
}

static void bs_send(void *ctx, const uint8_t *data, size_t len)
{
	send_datagram(ctx, data, len);
}

static int bs_receive(void *ctx, uint8_t *buf, size_t cap, int timeout_ms)
{
	return receive(ctx, buf, cap, timeout_ms);
}

/* --bootstrap: bootstraps from s->server (over DTLS with the bootstrap PSK), closes that
 * session and its socket (close_notify first), and points s at the management server
 * the bootstrap wrote. Returns 0 or -1 (printed why). */
static int bootstrap(struct sim *s, const struct sim_bs_config *cfg, const char *bind_to,
		     struct sim_bs_account *acct)
{
	struct sim_bs_io io = { .send = bs_send, .receive = bs_receive, .ctx = s, .mid = &s->mid,
				.fd = -1, .dtls = &s->dtls, .suite = s->suite,
				.handshake_timeout_ms = HANDSHAKE_TIMEOUT_MS };
	int rc = open_socket(s, bind_to);
	io.fd = s->fd;
	if (rc == 0)
		rc = sim_bs_run(&s->tree, s->ep, cfg, &io, &s->server, acct);
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	if (rc != 0)
		return -1;
	if (addr_parse(&s->server, acct->host_port) != 0) {
		printf("bootstrap failed server address %s (numeric HOST:PORT only)\n",
		       acct->host_port);
		return -1;
	}
	s->lifetime = acct->lifetime;
	s->binding = acct->binding;
	return 0;
}

/* --change PATH=VALUE@MS. */
static int parse_change(struct change *c, const char *arg)
{
	return sim_tree_parse_change(arg, &c->value, &c->at_ms);
}

int main(int argc, char **argv)
{
	struct sim s = {
		.lifetime = 86400,
		.binding = "U",
		.version = "1.1",
		.interval_ms = 1000,
		.block_size = 1024,
		.send_format = CONTENT_SENML_CBOR,
		.fd = -1,
	};
	const char *server = NULL, *bind_to = NULL, *identity = NULL, *psk_hex = NULL;
	const char *tree_file = NULL;
	int serve_seconds = 0;
	int suite = 0;
	int report_every_ms = 10000, battery = 90, fw_opt;
	bool bad_args = false;
	struct sim_fw_config fw_cfg;
	sim_fw_config_default(&fw_cfg);
	struct sim_bs_config bs_cfg;
	struct sim_bs_account acct;
	sim_bs_config_default(&bs_cfg);
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "--deregister") == 0) {
			s.deregister = true;
			continue;
		}
		if (strcmp(a, "--no-ep") == 0) {
			s.no_ep = true;
			continue;
		}
		if (strcmp(a, "--meter") == 0) {
			s.meter_on = true;
			continue;
		}
		if (strcmp(a, "--fw") == 0) {
			s.fw_on = true;
			continue;
		}
		if (strcmp(a, "--bs-fail-finish") == 0) {
			bs_cfg.fail_finish = true;
			continue;
		}
		if (!v) {
			sim_usage();
			return 2;
		}
		i++;
		if (strcmp(a, "--server") == 0)
			server = v;
		else if (strcmp(a, "--ep") == 0)
			s.ep = v;
		else if (strcmp(a, "--lifetime") == 0)
			s.lifetime = (unsigned)strtoul(v, NULL, 10);
		else if (strcmp(a, "--binding") == 0)
			s.binding = v;
		else if (strcmp(a, "--version") == 0)
			s.version = v;
		else if (strcmp(a, "--objects") == 0)
			s.objects = v;
		else if (strcmp(a, "--updates") == 0)
			s.updates = atoi(v);
		else if (strcmp(a, "--interval") == 0)
			s.interval_ms = atoi(v);
		else if (strcmp(a, "--block-size") == 0)
			s.block_size = strtoul(v, NULL, 10);
		else if (strcmp(a, "--bind") == 0)
			bind_to = v;
		else if (strcmp(a, "--serve") == 0)
			serve_seconds = atoi(v);
		else if (strcmp(a, "--tree") == 0)
			tree_file = v;
		else if (strcmp(a, "--change") == 0 && s.change_count < MAX_CHANGES)
			bad_args |= parse_change(&s.changes[s.change_count++], v) != 0;
		else if (strcmp(a, "--notify-ms") == 0)
			s.notify_ms = atoi(v);
		else if (strcmp(a, "--send") == 0)
			s.send_paths = v;
		else if (strcmp(a, "--send-format") == 0)
			s.send_format = strcmp(v, "json") == 0 ? CONTENT_SENML_JSON
							       : CONTENT_SENML_CBOR;
		else if (strcmp(a, "--bad-content") == 0)
			bad_args |= sim_dm_parse_bad_content(s.dm.bad_content, v) != 0;
		else if (strcmp(a, "--sleep-after") == 0)
			s.sleep_after_ms = atoi(v);
		else if (strcmp(a, "--wake-every") == 0)
			s.wake_every_ms = atoi(v);
		else if (strcmp(a, "--report-every") == 0)
			report_every_ms = atoi(v);
		else if (strcmp(a, "--battery") == 0)
			battery = atoi(v);
		else if (strcmp(a, "--psk-identity") == 0)
			identity = v;
		else if (strcmp(a, "--psk") == 0)
			psk_hex = v;
		else if (strcmp(a, "--ciphersuite") == 0 && strcmp(v, "ccm8") == 0)
			suite = DTLS_CLIENT_SUITE_CCM_8;
		else if (strcmp(a, "--ciphersuite") == 0 && strcmp(v, "cbc") == 0)
			suite = DTLS_CLIENT_SUITE_CBC;
		else if ((fw_opt = sim_fw_option(&fw_cfg, a, v)) != 0)
			bad_args |= fw_opt < 0;
		else if ((fw_opt = sim_bs_option(&bs_cfg, a, v)) != 0)
			bad_args |= fw_opt < 0;
		else {
			sim_usage();
			return 2;
		}
	}
	char bs_host[SIM_BS_URI_MAX];
	if (bs_cfg.uri)
		bad_args |= sim_bs_settle(&bs_cfg, &server, &identity, &psk_hex, bs_host,
					  sizeof(bs_host)) != 0;
	uint8_t key[SIM_BS_KEY_MAX];
	int hex_len = psk_hex ? sim_hex_key(psk_hex, key) : 0;
	size_t key_len = hex_len > 0 ? (size_t)hex_len : 0;
	if (hex_len < 0)
		psk_hex = NULL; /* malformed: refused below */
	if (!s.ep && (identity || bs_cfg.identity))
		s.ep = identity ? identity : bs_cfg.identity;
	s.suite = suite;
	if (bad_args || !server || !s.ep || addr_parse(&s.server, server) != 0 ||
	    s.block_size < 16 || s.block_size > 1024 || (identity != NULL) != (psk_hex != NULL) ||
	    (s.sleep_after_ms > 0) != (s.wake_every_ms > 0) ||
	    (s.meter_on && (serve_seconds <= 0 || report_every_ms <= 0)) ||
	    (fw_cfg.pull_server_set && identity)) {
		sim_usage();
		return 2;
	}
	if (sim_tree_init(&s.tree, s.binding, s.lifetime) != 0 ||
	    (tree_file && sim_tree_load_file(&s.tree, tree_file) != 0))
		return 2;
	s.dm.tree = &s.tree;
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (getrandom(&s.mid, sizeof(s.mid), 0) != sizeof(s.mid))
		s.mid = (uint16_t)getpid();
	if (bs_cfg.uri) {
		if (sim_bs_prepare(&s.tree, &bs_cfg) != 0 ||
		    bootstrap(&s, &bs_cfg, bind_to, &acct) != 0) {
			sim_tree_free(&s.tree);
			return 1;
		}
		if (acct.psk) {
			identity = acct.identity;
			memcpy(key, acct.key, acct.key_len);
			key_len = acct.key_len;
		}
	}
	if (s.fw_on) {
		struct sim_fw_io io = { .send = fw_send, .changed = fw_changed,
					.reconnect = fw_reconnect, .ctx = &s, .mid = &s.mid };
		if (sim_fw_init(&s.fw, &fw_cfg, &io, &s.tree, &s.server, identity != NULL) != 0)
			return 2;
	}
	if (s.meter_on) {
		sim_meter_init(&s.meter, report_every_ms, battery);
		if (sim_meter_start(&s.meter, &s.tree, now_ms()) != 0)
			return 2;
	}
	if (!s.objects) {
		if (sim_tree_links(&s.tree, s.links, sizeof(s.links)) < 0) {
			fprintf(stderr, "lwm2m-sim: too many objects for the Register payload\n");
			return 2;
		}
		s.objects = s.links;
	}
	if (open_socket(&s, bind_to) != 0)
		return 1;
	int rc = 0;
	if (identity) {
		char err[192];
		if (dtls_client_connect(&s.dtls, s.fd, &s.server, identity, key, key_len, suite,
					HANDSHAKE_TIMEOUT_MS, err, sizeof(err)) != 0) {
			printf("failed handshake %s\n", err);
			rc = -1;
			goto cleanup;
		}
		printf("handshake %s\n", dtls_client_suite(s.dtls));
		s.identity = identity; /* for the handshake after a firmware update's reboot */
		memcpy(s.key, key, key_len);
		s.key_len = key_len;
		s.suite = suite;
	}

	rc = do_register(&s);
	if (rc == 0 && s.send_paths)
		rc = do_send(&s);
	if (rc == 0 && serve_seconds > 0)
		serve(&s, serve_seconds);
	for (int i = 0; rc == 0 && i < s.updates; i++) {
		sleep_ms(s.interval_ms);
		rc = rd_request(&s, COAP_CODE_POST, COAP_CODE_CHANGED, "updated", NULL);
	}
	if (rc == 0 && s.deregister)
		rc = rd_request(&s, COAP_CODE_DELETE, COAP_CODE_DELETED, "deregistered", NULL);
cleanup:
	dtls_client_close(s.dtls);
	dtls_client_free(s.dtls);
	close(s.fd);
	for (int i = 0; i < s.change_count; i++) {
		uint8_t t = s.changes[i].value.type;
		if (t == LWM2M_TYPE_STRING || t == LWM2M_TYPE_OPAQUE || t == LWM2M_TYPE_CORELNK)
			free(s.changes[i].value.v.bytes.data);
	}
	sim_tree_free(&s.tree);
	sim_block_free(&s.block);
	return rc == 0 ? 0 : 1;
}
