/*
 * sim_fw: the simulated device's Firmware Update object, /5/0 (OMA-TS-LightweightM2M_Core
 * 1.1 §E.6), so that the server's firmware engine can be tested against it.
 *
 *   /5/0/0 Package       push: Block1 blocks taken as a stream (never gathered: a package
 *                        may be far over sim_block's 64 KiB), 2.31 per block, 2.04 last
 *   /5/0/1 Package URI   pull: GET with Block2 from the server the device registered with
 *                        (coap:// over UDP, coaps:// inside the DTLS session)
 *   /5/0/2 Update        only in state 2 (else 4.05); after --fw-apply-ms the device
 *                        "reboots" with the new /3/0/3 and registers anew (main.c)
 *   /5/0/3 State, /5/0/5 Update Result, /5/0/6 PkgName, /5/0/7 PkgVersion,
 *   /5/0/8 protocols, /5/0/9 delivery method
 *
 * The outcome is configurable: success, a download that ends in a failure result (2..9
 * but 8), or an Update that fails (8). Every step prints one line: "fw state 1",
 * "fw block num=3 szx=6", "fw downloaded bytes=N fnv=XXXXXXXX", "fw updating",
 * "fw rebooted version=V", "fw result N", "fw failed <why>".
 *
 * It knows no sockets: main.c hands it the server's requests and answers, calls its tick,
 * and gives it functions to send a datagram and to notify observers at once.
 */
#ifndef LWM2M_SIM_FW_H
#define LWM2M_SIM_FW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "coap/coap_msg.h"
#include "sim_dm.h"
#include "sim_tree.h"
#include "util/addr.h"

/* The longest Package URI (the object's own limit, §E.6: 0-255 bytes). */
#define SIM_FW_URI_MAX 255
/* How much of the package's first line is kept (for "LWM2MFW version=<V>"). */
#define SIM_FW_LINE_MAX 128
/* A block fetch that got no answer is sent again this often (the server may restart). */
#define SIM_FW_RESEND_MS 2000
/* Over DTLS, from the second resend on, each resend follows a new handshake (a restarted
 * server lost the session), which may take this long at most. */
#define SIM_FW_HANDSHAKE_MS 10000

struct sim_fw_config {
	const char *new_version;  /* --fw-new-version, or NULL: from the package */
	const char *version;      /* --fw-version: the first /3/0/3, or NULL: the tree's */
	int outcome;              /* 1 success, 2..9 failure result (8: the Update fails) */
	int apply_ms;             /* --fw-apply-ms */
	uint8_t block_szx;        /* --fw-block-szx */
	int retry_s;              /* --fw-retry-s */
	int block_delay_ms;       /* --fw-block-delay-ms */
	int protocols[4];         /* --fw-protocols, -1 terminated */
	int delivery;             /* --fw-delivery: 0 pull, 1 push, 2 both */
	bool pull_server_set;     /* --fw-pull-server (a test aid) */
	struct addr pull_server;
};

/* What main.c provides: sending a datagram (to the pull server when to_pull_server, else
 * to the registered server, over the session when there is one), sending the
 * notifications that a change of the tree made due, at once, and renewing the session. */
struct sim_fw_io {
	void (*send)(void *ctx, const uint8_t *data, size_t len, bool to_pull_server);
	void (*changed)(void *ctx);
	/* Over DTLS: a new handshake within timeout_ms and a registration Update (or a new
	 * Register); true when the device is back. */
	bool (*reconnect)(void *ctx, int timeout_ms);
	void *ctx;
	uint16_t *mid;            /* the device's next message id */
};

struct sim_fw {
	struct sim_fw_config cfg;
	struct sim_fw_io io;
	struct sim_tree *tree;
	struct addr server;       /* the registered server */
	bool secure;              /* over DTLS: coaps:// */
	int state, result;
	/* The package as it comes (push or pull). */
	uint64_t bytes;
	uint32_t fnv;             /* FNV-1a of the bytes: a running check */
	char line[SIM_FW_LINE_MAX];
	size_t line_len;
	bool line_done;
	uint32_t push_next;       /* push: the Block1 number expected next */
	uint16_t push_mid;        /* and the message id of the last one taken */
	/* Pull. */
	bool pulling;
	char uri_path[SIM_FW_URI_MAX + 1];  /* the URI's path, "fw/abc" */
	char uri_query[SIM_FW_URI_MAX + 1]; /* and query, "a=1&b=2" */
	uint8_t szx;
	uint32_t num;             /* the Block2 number asked */
	bool in_flight, acked;
	uint16_t req_mid;
	uint8_t token[4];
	uint8_t out[512];         /* the request as sent, for resending */
	size_t out_len;
	int64_t next_send_ms;     /* when the next block is asked (--fw-block-delay-ms) */
	int64_t resend_ms;
	int resends;              /* of this block */
	int64_t asked_ms;         /* when this block was first asked */
	/* Update. */
	int64_t apply_at_ms;      /* state 3: when the "reboot" happens */
	bool reboot_due;          /* main.c reboots: sim_fw_rebooted, then a new Register */
	char version[65];         /* the downloaded package's version */
};

/* Parses one --fw-* option into cfg: 1 when it was one (value taken), 0 when name is not
 * an --fw-* option, -1 when its value is bad. */
int sim_fw_option(struct sim_fw_config *cfg, const char *name, const char *value);
/* The defaults: outcome success, apply 300 ms, szx 6, retry 60 s, protocols 0,1, both. */
void sim_fw_config_default(struct sim_fw_config *cfg);
/* The usage lines of the --fw-* options. */
extern const char sim_fw_usage[];

/* Adds /5/0 to the tree with its first values (and /3/0/3 = cfg->version). Returns 0 or
 * a negative errno. */
int sim_fw_init(struct sim_fw *fw, const struct sim_fw_config *cfg, const struct sim_fw_io *io,
		struct sim_tree *t, const struct addr *server, bool secure);

/* A request of the server: the Firmware Update object's writes (/5/0/0 in any number of
 * Block1 blocks, /5/0/1) and Execute /5/0/2 are answered here into resp (initialised by
 * the caller) and their code returned; 0 for any other request (sim_dm answers it). */
uint8_t sim_fw_request(struct sim_fw *fw, const struct coap_msg *req, struct coap_msg *resp,
		       int64_t now_ms);
/* An answer (or a separate response) of the server: true when it was the pull's. */
bool sim_fw_response(struct sim_fw *fw, const struct coap_msg *m, int64_t now_ms);
/* Asks the next block, resends one unanswered, gives up after --fw-retry-s, and ends the
 * Update after --fw-apply-ms. */
void sim_fw_tick(struct sim_fw *fw, int64_t now_ms);
/* The device rebooted into the new firmware: /3/0/3 is the new version, /5/0/5 1 (Update
 * successful), /5/0/3 0. Prints "fw rebooted version=V". */
void sim_fw_rebooted(struct sim_fw *fw);
/* Fetching by pull: the device keeps itself awake (queue mode). */
bool sim_fw_busy(const struct sim_fw *fw);

#endif
