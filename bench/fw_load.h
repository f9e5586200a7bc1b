/*
 * fw_load.h: the devices of bench/fw_load.c — their limits and state, and what a device
 * answers the server (Read, Observe, Write /5/0/1, Execute /5/0/2) and does about it.
 * Only fw_load.c includes it (one program; the header keeps each file readable).
 */
#ifndef LWM2MD_BENCH_FW_LOAD_H
#define LWM2MD_BENCH_FW_LOAD_H

#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "bench_common.h"
#include "coap/coap_msg.h"

/* Bounds on the command line; they keep every table below bounded. */
#define DEVICES_MAX 1000000u
#define WINDOW_MAX 65536u
#define RETRIES_MAX 8u
#define TIMEOUT_MS_MAX 60000u
#define SECONDS_MAX 86400u
#define PREFIX_MAX 32
#define NODE_MAX (PREFIX_MAX + 8)
#define VERSION_MAX 32
/* The daemon's registration ids are 10 characters; room to spare. */
#define REG_ID_MAX 32
/* The Package URI's path: "fw/" and a 32-character token in lwm2md; room to spare. */
#define URI_PATH_MAX 96
#define TOKEN_LEN 4
/* A Register with the longest prefix, or a block GET with the longest path. */
#define REQ_MAX 256
/* A 1024-byte block and its header and options. */
#define RESP_MAX 2048
#define RECV_BURST 64
#define EPOLL_BATCH 512
#define WAIT_MS_MAX 100
/* Notifications a device has yet to send; at most 4 are ever owed at once. */
#define NOTE_QUEUE 8
#define NS_PER_MS 1000000ull
#define NS_PER_US 1000ull

#define REGISTER_LINKS "</1/0>,</3/0>,</5/0>"
/* Object 5's resources (Core §E.6) and states. */
#define RES_STATE 3
#define RES_RESULT 5
#define STATE_IDLE 0
#define STATE_DOWNLOADING 1
#define STATE_DOWNLOADED 2
#define STATE_UPDATING 3
#define RESULT_SUCCESS 1
#define RESULT_CONNECTION_LOST 4

struct options {
	struct bench_net net;
	const char *target_text;
	const char *prefix;
	uint32_t window;
	uint32_t block_szx;
	uint32_t timeout_ms;
	uint32_t retries;
	uint32_t max_seconds;
	uint32_t linger_seconds;
	const char *old_version;
	const char *new_version;
};

struct note {
	uint8_t res;   /* RES_STATE or RES_RESULT */
	uint8_t value;
};

/* One observation the server holds on this device: of State ([0]) or Update Result ([1]). */
struct observation {
	bool on;
	uint8_t token_len;
	uint8_t token[COAP_TOKEN_MAX];
	uint32_t seq;
};

struct device {
	int32_t slot;       /* index in ld->slots while a message is in flight, else -1 */
	uint16_t next_mid;
	bool queued;        /* in the ready ring */
	bool registered;
	bool reg_pending;   /* a Register to send: at the start and after the reboot */
	bool rebooting;     /* executed; its next Register completes the update */
	bool updated;       /* came back with the new version */
	bool downloading;
	bool exec_seen;
	uint16_t exec_mid;  /* the last Execute's message ID: a retransmission gets 2.04 again */
	uint8_t fw_state, fw_result;
	uint8_t nnotes;
	struct note notes[NOTE_QUEUE];
	struct observation obs[2];
	uint32_t next_block;
	char reg_id[REG_ID_MAX];
	char uri[URI_PATH_MAX]; /* the Package URI's path, "" when none */
};

enum req_kind { REQ_REGISTER, REQ_NOTE, REQ_BLOCK };

/* One message in flight, kept encoded for retransmission: memory for messages is bounded by
 * the window, not by the device count. */
struct slot {
	bool used;
	bool acked; /* an empty ACK came: the response follows separately */
	uint8_t kind;
	uint8_t tries;
	uint16_t mid;
	uint16_t len;
	uint32_t dev;
	uint32_t block;
	uint8_t token_len;
	uint8_t token[COAP_TOKEN_MAX];
	uint64_t first_ns;
	uint64_t deadline_ns;
	uint8_t data[REQ_MAX];
};

struct stats {
	uint64_t registers, register_failures, reregisters;
	uint64_t notes, note_failures, notes_dropped;
	uint64_t blocks, bytes, block_failures, retransmits;
	uint64_t downloads, downloads_done, executes;
	uint64_t server_requests, refused, bad_uris;
	uint64_t first_block_ns, last_block_ns;
	/* Time and blocks while at least a window's worth of devices were downloading: the
	 * block rate when the daemon, not the campaign's pacing, is what limits it. */
	uint64_t busy_ns, busy_blocks, busy_since_ns, busy_blocks_at;
	uint32_t downloading, peak_downloading, updated;
	struct hist block_lat;
};

struct load {
	struct options opt;
	uint32_t devices;
	struct device *dev;
	struct slot *slots;
	uint32_t nslots;
	uint32_t *free_slots;
	uint32_t nfree;
	uint32_t *ready;
	uint32_t ready_head, ready_count;
	uint64_t next_check_ns;
	uint32_t token_seq;
	uint64_t reg_done; /* first Registers answered or given up on */
	uint64_t all_updated_ns; /* when the last device came back updated, 0 before */
	struct stats st;
};


static bool has_work(const struct device *d)
{
	return d->nnotes > 0 || d->reg_pending || d->downloading;
}

/* Queues device i to send when it has something to send and nothing in flight; a device is
 * in the ring at most once, so the ring (sized by the device count) never overflows. */
static void wake(struct load *ld, uint32_t i)
{
	struct device *d = &ld->dev[i];
	if (d->queued || d->slot >= 0 || !has_work(d))
		return;
	d->queued = true;
	ld->ready[(ld->ready_head + ld->ready_count) % ld->devices] = i;
	ld->ready_count++;
}

static void add_note(struct load *ld, struct device *d, uint8_t res, uint8_t value)
{
	if (d->nnotes == NOTE_QUEUE) {
		ld->st.notes_dropped++;
		return;
	}
	d->notes[d->nnotes++] = (struct note){.res = res, .value = value};
}

static struct observation *obs_of(struct device *d, uint32_t res)
{
	return res == RES_STATE ? &d->obs[0] : res == RES_RESULT ? &d->obs[1] : NULL;
}

static void stop_download(struct load *ld, struct device *d)
{
	if (d->downloading) {
		d->downloading = false;
		ld->st.downloading--;
	}
}

/* The download failed: Update Result 4 then State 0, which the engine reads as a
 * transient failure (Core §E.6: connection lost during the download). */
static void download_failed(struct load *ld, struct device *d)
{
	ld->st.block_failures++;
	stop_download(ld, d);
	d->fw_state = STATE_IDLE;
	d->fw_result = RESULT_CONNECTION_LOST;
	add_note(ld, d, RES_RESULT, d->fw_result);
	add_note(ld, d, RES_STATE, d->fw_state);
}


/* /5/0 in TLV (Core §7.4.3): State, Update Result, Protocol Support [0] (a multiple
 * resource of one instance), Delivery Method 2. 8-bit ids, lengths in the type byte. */
static size_t encode_object5(const struct device *d, uint8_t *buf)
{
	const uint8_t tlv[] = {0xC1, RES_STATE, d->fw_state, 0xC1, RES_RESULT, d->fw_result,
			       0x83, 8,         0x41,        0x00, 0x00,       0xC1,
			       9,    2};
	memcpy(buf, tlv, sizeof(tlv));
	return sizeof(tlv);
}

/*
 * Write /5/0/1: "" resets; a URI on the target ("coap://HOST:PORT/PATH", the same address
 * and port as --target) starts the download of PATH. A retransmitted Write of the URI
 * being fetched changes nothing. Returns the answer's code.
 */
static uint8_t write_uri(struct load *ld, uint32_t i, const struct coap_msg *r)
{
	struct device *d = &ld->dev[i];
	if (r->payload_len == 0) {
		stop_download(ld, d);
		d->uri[0] = '\0';
		d->fw_state = STATE_IDLE;
		d->fw_result = 0;
		return COAP_CODE_CHANGED;
	}
	char uri[URI_PATH_MAX + 32], host[40];
	struct sockaddr_in sin;
	size_t len = r->payload_len;
	const char *slash;
	if (len >= sizeof(uri))
		goto bad;
	memcpy(uri, r->payload, len);
	uri[len] = '\0';
	slash = strchr(uri + 7, '/');
	if (strncmp(uri, "coap://", 7) != 0 || slash == NULL ||
	    (size_t)(slash - (uri + 7)) >= sizeof(host) || strlen(slash + 1) >= URI_PATH_MAX)
		goto bad;
	memcpy(host, uri + 7, (size_t)(slash - (uri + 7)));
	host[slash - (uri + 7)] = '\0';
	if (parse_target(host, &sin) < 0 || sin.sin_port != ld->opt.net.target.sin_port ||
	    sin.sin_addr.s_addr != ld->opt.net.target.sin_addr.s_addr)
		goto bad;
	if (strcmp(d->uri, slash + 1) == 0 && (d->downloading || d->fw_state == STATE_DOWNLOADED))
		return COAP_CODE_CHANGED;
	snprintf(d->uri, sizeof(d->uri), "%s", slash + 1);
	if (!d->downloading) {
		d->downloading = true;
		if (++ld->st.downloading > ld->st.peak_downloading)
			ld->st.peak_downloading = ld->st.downloading;
	}
	ld->st.downloads++;
	d->next_block = 0;
	d->fw_state = STATE_DOWNLOADING;
	d->fw_result = 0;
	add_note(ld, d, RES_STATE, d->fw_state);
	return COAP_CODE_CHANGED;
bad:
	if (ld->st.bad_uris++ < 5)
		fprintf(stderr, "fw_load: device %u: a Package URI not on the target: %.*s\n", i,
			(int)r->payload_len, (const char *)r->payload);
	return COAP_CODE_BAD_REQUEST;
}

/* Execute /5/0/2 when Downloaded: State 3, then the reboot into the new version (Update
 * Result 1, a new Register). */
static uint8_t execute(struct load *ld, uint32_t i, const struct coap_msg *r)
{
	struct device *d = &ld->dev[i];
	if (d->fw_state != STATE_DOWNLOADED)
		return d->exec_seen && d->exec_mid == r->mid ? COAP_CODE_CHANGED
							     : COAP_CODE_METHOD_NOT_ALLOWED;
	d->exec_seen = true;
	d->exec_mid = r->mid;
	ld->st.executes++;
	add_note(ld, d, RES_STATE, STATE_UPDATING);
	d->fw_state = STATE_IDLE;
	d->fw_result = RESULT_SUCCESS;
	d->rebooting = true;
	d->reg_pending = true;
	add_note(ld, d, RES_RESULT, d->fw_result);
	return COAP_CODE_CHANGED;
}

/*
 * Answers a request of the server to device i, piggybacked on the ACK (module header).
 * The server sends no Accept; one given is ignored: these devices speak one format per
 * resource.
 */
static void answer_request(struct load *ld, uint32_t i, const struct coap_msg *r)
{
	struct device *d = &ld->dev[i];
	uint32_t ids[3], observe;
	int n = bench_lwm2m_path(r, ids);
	uint8_t content[64];
	size_t clen = 0;
	int format = -1;
	uint8_t code = COAP_CODE_NOT_FOUND;
	struct observation *o = NULL;
	bool has_observe = coap_msg_get_uint_option(r, COAP_OPTION_OBSERVE, &observe) == 0;
	bool obj5 = n >= 2 && ids[0] == 5 && ids[1] == 0;
	ld->st.server_requests++;
	if (r->code == COAP_CODE_GET && n == 3 && ids[0] == 3 && ids[1] == 0 && ids[2] == 3) {
		const char *v = d->updated || d->rebooting ? ld->opt.new_version : ld->opt.old_version;
		clen = strlen(v);
		memcpy(content, v, clen);
		format = COAP_CT_TEXT_PLAIN;
	} else if (r->code == COAP_CODE_GET && obj5 && n == 2) {
		clen = encode_object5(d, content);
		format = COAP_CT_LWM2M_TLV;
	} else if (r->code == COAP_CODE_GET && obj5 && n == 3 && (o = obs_of(d, ids[2]))) {
		clen = (size_t)snprintf((char *)content, sizeof(content), "%u",
					ids[2] == RES_STATE ? d->fw_state : d->fw_result);
		format = COAP_CT_TEXT_PLAIN;
	} else if (r->code == COAP_CODE_PUT && obj5 && n == 3 && ids[2] == 1) {
		code = write_uri(ld, i, r);
	} else if (r->code == COAP_CODE_POST && obj5 && n == 3 && ids[2] == 2) {
		code = execute(ld, i, r);
	}
	if (format >= 0)
		code = COAP_CODE_CONTENT;
	if (COAP_CODE_CLASS(code) != 2)
		ld->st.refused++;
	struct coap_msg m;
	if (coap_msg_init(&m, COAP_TYPE_ACK, code, r->mid, r->token, r->token_len) < 0)
		return;
	if (o != NULL && has_observe && observe == 0) {
		/* RFC 7641 §3.1: observed from now on; the answer carries an Observe option. */
		o->on = true;
		o->token_len = r->token_len;
		memcpy(o->token, r->token, r->token_len);
		o->seq = 1;
		(void)coap_msg_add_uint_option(&m, COAP_OPTION_OBSERVE, o->seq);
	} else if (o != NULL && has_observe && observe == 1) {
		o->on = false;
	}
	if (format >= 0) {
		(void)coap_msg_add_uint_option(&m, COAP_OPTION_CONTENT_FORMAT, (uint32_t)format);
		coap_msg_set_payload(&m, content, clen);
	}
	bench_net_send_msg(&ld->opt.net, i, &m);
}

/* A message of the server's own: a request is answered, a CoAP ping gets RST, a CON
 * response we no longer wait for an empty ACK (so the server stops retransmitting it). */
static void from_server(struct load *ld, uint32_t i, const struct coap_msg *r)
{
	if (r->type != COAP_TYPE_CON)
		return;
	if (COAP_CODE_CLASS(r->code) == 0 && r->code != COAP_CODE_EMPTY) {
		answer_request(ld, i, r);
		return;
	}
	struct coap_msg m;
	uint8_t type = r->code == COAP_CODE_EMPTY ? COAP_TYPE_RST : COAP_TYPE_ACK;
	if (coap_msg_init(&m, type, COAP_CODE_EMPTY, r->mid, NULL, 0) == 0)
		bench_net_send_msg(&ld->opt.net, i, &m);
}

#endif
