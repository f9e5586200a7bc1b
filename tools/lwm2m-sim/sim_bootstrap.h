/*
 * sim_bootstrap: the device's side of LwM2M 1.1 client-initiated bootstrap
 * (OMA-TS-LightweightM2M_Core 1.1 §6.1, Transport §6.1): POST /bs?ep=NAME[&pct=N], then
 * the Bootstrap-Server's requests served from the object tree until Bootstrap-Finish —
 * Discover (GET with Accept 40), Delete, Write (TLV or SenML CBOR), Finish; Bootstrap-Read
 * is answered 4.05. Afterwards the management server's account is read back from the
 * tree: its Security instance (/0/x with Bootstrap-Server false) and the Server instance
 * of the same Short Server ID.
 *
 * Like sim_dm it knows no sockets: main.c hands it a send and a receive function that
 * work alike over plain UDP and inside the DTLS session. It prints one line per step:
 *   bs requested 2.04    bs discover /    bs delete /0    bs write /0/1    bs finish 2.04
 *   bootstrapped server=URI security=psk|nosec ssid=N lifetime=N
 *   bootstrap failed <why>
 *
 * Limits, on purpose: requests and answers fit one datagram (no Block1/Block2 here, so a
 * Discover answer is at most 1024 bytes); Bootstrap-Read is answered 4.05; once Finish
 * is answered the device leaves, so a Finish resent because our ACK was lost goes
 * unanswered (the server sees a timeout, the device goes on to register); the
 * management server's URI must be a numeric HOST:PORT (no DNS).
 */
#ifndef LWM2M_SIM_BOOTSTRAP_H
#define LWM2M_SIM_BOOTSTRAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim_tree.h"

struct addr;
struct dtls_client;

#define SIM_BS_URI_MAX 192
#define SIM_BS_IDENTITY_MAX 128
#define SIM_BS_KEY_MAX 32

struct sim_bs_config {
	const char *uri;       /* --bootstrap coap://HOST:PORT or coaps://HOST:PORT */
	const char *identity;  /* --bs-psk-identity (coaps) */
	const char *psk_hex;   /* --bs-psk */
	int pct;               /* --bs-pct: a preferred content format, -1 for none */
	int timeout_s;         /* --bs-timeout-s: longest wait for the server's next request */
	bool fail_finish;      /* --bs-fail-finish: answer Finish 4.06 */
};

/* The management server's account, as the bootstrap wrote it. */
struct sim_bs_account {
	char uri[SIM_BS_URI_MAX];
	char host_port[SIM_BS_URI_MAX]; /* the URI without its scheme, for addr_parse */
	bool psk;                       /* security mode 0; otherwise 3 (NoSec) */
	char identity[SIM_BS_IDENTITY_MAX + 1];
	uint8_t key[SIM_BS_KEY_MAX];
	size_t key_len;
	uint16_t ssid;
	unsigned lifetime;
	char binding[8];
};

struct sim_bs_io {
	void (*send)(void *ctx, const uint8_t *data, size_t len);
	/* One datagram within timeout_ms: its length, -ETIMEDOUT, or another negative error. */
	int (*receive)(void *ctx, uint8_t *buf, size_t cap, int timeout_ms);
	void *ctx;
	uint16_t *mid; /* the device's next message id */
	/* Over DTLS (coaps://): the bound socket, where the session goes (the caller's send
	 * and receive use it once set), the suite (0: both) and the handshake's limit. */
	int fd;
	struct dtls_client **dtls;
	int suite;
	int handshake_timeout_ms;
};

void sim_bs_config_default(struct sim_bs_config *cfg);
/* One of the --bs-* options with its value v: 1 taken, -1 taken but bad, 0 not ours. */
int sim_bs_option(struct sim_bs_config *cfg, const char *a, const char *v);
extern const char sim_bs_usage[];

/* After the options, with --bootstrap: --psk-identity/--psk, when --bs-psk-* are not
 * given, become the bootstrap credential (*identity and *psk_hex then NULL: the
 * management credential comes from the bootstrap, as does the server, so --server is
 * refused); a coaps:// URI needs a well-formed PSK and coap:// none. *server becomes the
 * bootstrap server's HOST:PORT, kept in host (cap bytes). Returns 0 or -1 (usage). */
int sim_bs_settle(struct sim_bs_config *cfg, const char **server, const char **identity,
		  const char **psk_hex, char *host, size_t cap);
/* Splits "coap[s]://HOST:PORT" into host_port (cap bytes); *secure for coaps. 0 or -1. */
int sim_bs_split_uri(const char *uri, char *host_port, size_t cap, bool *secure);
/* A PSK in hex (--psk, --bs-psk) into bytes: its length (1..32), or -1 when malformed. */
int sim_hex_key(const char *hex, uint8_t key[SIM_BS_KEY_MAX]);

/* The factory tree of a device that knows only its Bootstrap-Server: /0/0 is that
 * account (URI, Bootstrap-Server true, mode PSK or NoSec, identity and key) and there is
 * no Server instance. Returns 0 or a negative errno. */
int sim_bs_prepare(struct sim_tree *t, const struct sim_bs_config *cfg);

/* Runs the bootstrap with the server at bs_server (over DTLS when cfg has a PSK: the
 * handshake first, close_notify at the end, *io->dtls NULL again) and reads the
 * management account into *acct. Returns 0, or -1 after printing
 * "bootstrap failed <why>". */
int sim_bs_run(struct sim_tree *t, const char *ep, const struct sim_bs_config *cfg,
	       const struct sim_bs_io *io, const struct addr *bs_server,
	       struct sim_bs_account *acct);

#endif
