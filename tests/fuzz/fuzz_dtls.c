/*
 * libFuzzer target for DTLS records through the server (src/dtls/dtls_server.c and the
 * mbedTLS 2.28 it drives), with an in-memory transport and real crypto: three in-memory
 * mbedTLS clients (as in tests/unit/dtls/test_dtls_server.c) do real PSK handshakes, so
 * that fuzzed and mutated datagrams reach the server before, during and after them —
 * cookie exchange, handshake flights, encrypted application records, alerts,
 * renegotiation from the same address, resumption, hibernation and wake-up, and the
 * saved-session restore the daemon does across a restart.
 *
 * Input: a sequence of operations, each [op][client] and the op's arguments
 * (fuzz_common.h's cursor: a short input ends the sequence):
 *   RAW      [peer][len/4][bytes]  a datagram from one of the clients' addresses or a stranger's
 *   SHAKE    [how]                 a full handshake: suite, identity (dev1, dev2, unknown),
 *                                  right or wrong key, tickets, resuming its last session
 *   BENT     [how][n][pos:2][xor]  a handshake whose n-th client datagram is changed
 *   WRITE    [len][bytes]          application data, encrypted by the client
 *   MUTATE   [len][bytes][pos:2][xor][how] the same, the record changed, cut or replayed
 *   SEND     [len][bytes]          application data from the server, read by the client
 *   TICK     [steps of 250 ms]     time passes (retransmissions, deadlines, hibernation)
 *   CLOSE    [which]               the client's close_notify, or the server closes it
 *   RESTART                        save_all, a new server, restore (as the daemon does)
 *   RESTORE  [peer][len/2][bytes]  a saved session that is garbage
 *   MOVE                           the client's address changes (NAT rebinding)
 *
 * What must hold: nothing crashes, leaks or reads a datagram after its call (each one is a
 * fresh heap copy, freed when dtls_server_input returns); every datagram the server sends
 * looks like a DTLS 1.2 record; every plaintext the server delivers is one a client wrote
 * on that address (a mutated record must never come out changed); an identity the server
 * reports is one with a key; and the stats' gauges never wrap below zero.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/ssl.h>

#include "dtls/dtls_server.h"
#include "fuzz_common.h"
#include "util/log.h"

#define CLIENTS 3
#define PEERS 6 /* the clients' addresses, then strangers */
#define QUEUE 16
#define DGRAM 2048
#define WRITTEN 8

static const uint8_t key1[] = { 0x73, 0x65, 0x63, 0x72, 0x65, 0x74 };
static const uint8_t key2[] = { 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
				0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10 };

enum op { RAW, SHAKE, BENT, WRITE, MUTATE, SEND, TICK, CLOSE, RESTART, RESTORE, MOVE, OPS };

struct client {
	bool up; /* initialised */
	bool connected;
	mbedtls_ctr_drbg_context drbg;
	mbedtls_ssl_config conf;
	mbedtls_ssl_context ssl;
	mbedtls_ssl_session last; /* for resumption */
	bool has_last;
	int suites[2];
	uint64_t timer_int_at, timer_fin_at;
	bool timer_set;
	struct addr addr;
	uint8_t q[QUEUE][DGRAM]; /* server -> client */
	size_t qlen[QUEUE];
	int head, count;
	/* Outgoing datagrams: delivered at once, or held for a mutation. */
	bool hold;
	uint8_t held[DGRAM];
	size_t held_len;
	int bend_at, sent; /* BENT: which datagram of the handshake to change */
	size_t bend_pos;
	uint8_t bend_xor;
	/* Plaintexts written on this address, for the integrity check. */
	uint8_t written[WRITTEN][256];
	size_t written_len[WRITTEN];
	int written_next;
};

struct world {
	struct dtls_server *srv;
	uint64_t now;
	struct client c[CLIENTS];
	struct addr strangers[PEERS - CLIENTS];
	uint8_t saved[4][2048];
	size_t saved_len[4];
	char saved_id[4][DTLS_IDENTITY_MAX + 1];
	struct addr saved_peer[4];
	int saved_count;
};

static struct world *W;

/* Deterministic randomness for the clients (the server keeps its own entropy). */
static int fixed_entropy(void *ctx, unsigned char *out, size_t len)
{
	(void)ctx;
	for (size_t i = 0; i < len; i++)
		out[i] = (uint8_t)(i * 31 + 7);
	return 0;
}

static int hook_psk(void *ctx, const char *identity, uint8_t key[DTLS_PSK_MAX], size_t *len)
{
	(void)ctx;
	if (strcmp(identity, "dev1") == 0) {
		memcpy(key, key1, sizeof(key1));
		*len = sizeof(key1);
		return 0;
	}
	if (strcmp(identity, "dev2") == 0) {
		memcpy(key, key2, sizeof(key2));
		*len = sizeof(key2);
		return 0;
	}
	return -ENOENT;
}

static struct client *client_at(const struct addr *a)
{
	for (int i = 0; i < CLIENTS; i++)
		if (addr_equal(&W->c[i].addr, a))
			return &W->c[i];
	return NULL;
}

static void hook_recv(void *ctx, const struct addr *peer, const uint8_t *data, size_t len)
{
	(void)ctx;
	struct client *c = client_at(peer);
	FUZZ_CHECK(c, "plaintext from an address no client has");
	for (int i = 0; i < WRITTEN; i++)
		if (c->written_len[i] == len && memcmp(c->written[i], data, len) == 0)
			return;
	FUZZ_FAIL("the server delivered %zu bytes the client never wrote", len);
}

static void hook_send(void *ctx, const struct addr *peer, const uint8_t *data, size_t len)
{
	(void)ctx;
	/* A DTLS record (or several): a header and content type 20-23. The version is not
	 * checked: before one is agreed, mbedTLS answers (HelloVerifyRequest, alerts) with
	 * the version of the client's record, whatever it was. */
	FUZZ_CHECK(len >= 13 && data[0] >= 20 && data[0] <= 23,
		   "the server sent something that is not a DTLS record: %zu bytes %02x %02x %02x",
		   len, len ? data[0] : 0, len > 1 ? data[1] : 0, len > 2 ? data[2] : 0);
	struct client *c = client_at(peer);
	if (!c || c->count == QUEUE || len > DGRAM)
		return;
	int slot = (c->head + c->count) % QUEUE;
	memcpy(c->q[slot], data, len);
	c->qlen[slot] = len;
	c->count++;
}

/* Gives the server a heap copy, freed as soon as it returns (ASan catches a late read). */
static void deliver(const struct addr *peer, const uint8_t *data, size_t len)
{
	uint8_t *copy = malloc(len ? len : 1);
	if (!copy)
		return;
	memcpy(copy, data, len);
	dtls_server_input(W->srv, peer, copy, len, W->now);
	free(copy);
}

static int client_send(void *ctx, const unsigned char *buf, size_t len)
{
	struct client *c = ctx;
	if (c->hold) {
		size_t n = len < sizeof(c->held) ? len : sizeof(c->held);
		memcpy(c->held, buf, n);
		c->held_len = n;
		return (int)len;
	}
	if (c->sent++ == c->bend_at && len > 0) {
		uint8_t copy[DGRAM];
		size_t n = len < sizeof(copy) ? len : sizeof(copy);
		memcpy(copy, buf, n);
		copy[c->bend_pos % n] ^= c->bend_xor ? c->bend_xor : 1;
		deliver(&c->addr, copy, n);
		return (int)len;
	}
	deliver(&c->addr, buf, len);
	return (int)len;
}

static int client_recv(void *ctx, unsigned char *buf, size_t len)
{
	struct client *c = ctx;
	if (c->count == 0)
		return MBEDTLS_ERR_SSL_WANT_READ;
	size_t n = c->qlen[c->head] < len ? c->qlen[c->head] : len;
	memcpy(buf, c->q[c->head], n);
	c->head = (c->head + 1) % QUEUE;
	c->count--;
	return (int)n;
}

static void client_timer_set(void *ctx, uint32_t int_ms, uint32_t fin_ms)
{
	struct client *c = ctx;
	c->timer_set = fin_ms != 0;
	c->timer_int_at = W->now + int_ms;
	c->timer_fin_at = W->now + fin_ms;
}

static int client_timer_get(void *ctx)
{
	struct client *c = ctx;
	if (!c->timer_set)
		return -1;
	if (W->now >= c->timer_fin_at)
		return 2;
	return W->now >= c->timer_int_at ? 1 : 0;
}

static void client_down(struct client *c)
{
	if (!c->up)
		return;
	mbedtls_ssl_free(&c->ssl);
	mbedtls_ssl_config_free(&c->conf);
	mbedtls_ctr_drbg_free(&c->drbg);
	c->up = false;
	c->connected = false;
}

/* A new client context: how picks the suite, the identity and the key. */
static bool client_up(struct client *c, uint8_t how)
{
	client_down(c);
	mbedtls_ctr_drbg_init(&c->drbg);
	mbedtls_ssl_config_init(&c->conf);
	mbedtls_ssl_init(&c->ssl);
	c->up = true;
	c->count = 0;
	c->head = 0;
	static const char *const ids[] = { "dev1", "dev2", "stranger", "dev1" };
	const char *id = ids[(how >> 1) & 3];
	const uint8_t *key = strcmp(id, "dev2") == 0 ? key2 : key1;
	size_t key_len = strcmp(id, "dev2") == 0 ? sizeof(key2) : sizeof(key1);
	if (((how >> 1) & 3) == 3)
		key = key2, key_len = sizeof(key2); /* dev1 with the wrong key */
	c->suites[0] = how & 1 ? DTLS_PSK_AES_128_CBC_SHA256 : DTLS_PSK_AES_128_CCM_8;
	c->suites[1] = 0;
	if (mbedtls_ctr_drbg_seed(&c->drbg, fixed_entropy, NULL, NULL, 0) != 0 ||
	    mbedtls_ssl_config_defaults(&c->conf, MBEDTLS_SSL_IS_CLIENT,
					MBEDTLS_SSL_TRANSPORT_DATAGRAM,
					MBEDTLS_SSL_PRESET_DEFAULT) != 0)
		return false;
	mbedtls_ssl_conf_rng(&c->conf, mbedtls_ctr_drbg_random, &c->drbg);
	if (mbedtls_ssl_conf_psk(&c->conf, key, key_len, (const unsigned char *)id, strlen(id)) !=
	    0)
		return false;
	mbedtls_ssl_conf_ciphersuites(&c->conf, c->suites);
	mbedtls_ssl_conf_session_tickets(&c->conf, how & 8 ? MBEDTLS_SSL_SESSION_TICKETS_DISABLED
							   : MBEDTLS_SSL_SESSION_TICKETS_ENABLED);
	if (mbedtls_ssl_setup(&c->ssl, &c->conf) != 0)
		return false;
	mbedtls_ssl_set_bio(&c->ssl, c, client_send, client_recv, NULL);
	mbedtls_ssl_set_timer_cb(&c->ssl, c, client_timer_set, client_timer_get);
	if ((how & 16) && c->has_last)
		mbedtls_ssl_set_session(&c->ssl, &c->last);
	return true;
}

/* Runs the client's handshake; gives up when neither side has anything more to say. */
static void client_handshake(struct client *c)
{
	for (int i = 0; i < 40; i++) {
		int rc = mbedtls_ssl_handshake(&c->ssl);
		if (rc == 0) {
			c->connected = true;
			if (c->has_last)
				mbedtls_ssl_session_free(&c->last);
			mbedtls_ssl_session_init(&c->last);
			c->has_last = mbedtls_ssl_get_session(&c->ssl, &c->last) == 0;
			return;
		}
		if (rc != MBEDTLS_ERR_SSL_WANT_READ && rc != MBEDTLS_ERR_SSL_WANT_WRITE)
			return;
		if (c->count == 0) {
			/* Nothing came: let a second pass, for retransmissions on both sides. */
			W->now += 1100;
			dtls_server_tick(W->srv, W->now);
			if (c->count == 0 && i > 4)
				return;
		}
	}
}

static void remember(struct client *c, const uint8_t *data, size_t len)
{
	int i = c->written_next;
	memcpy(c->written[i], data, len);
	c->written_len[i] = len;
	c->written_next = (i + 1) % WRITTEN;
}

static const struct addr *peer_addr(uint8_t n)
{
	n %= PEERS;
	return n < CLIENTS ? &W->c[n].addr : &W->strangers[n - CLIENTS];
}

static void check_stats(void)
{
	const struct dtls_server_stats *st = dtls_server_stats(W->srv);
	FUZZ_CHECK(st->sessions_live < 1000 && st->sessions_hibernated < 1000 &&
		       st->handshakes_in_progress < 1000 && st->hibernated_bytes < 10000000,
		   "a gauge wrapped: live %llu, hibernated %llu, handshakes %llu",
		   (unsigned long long)st->sessions_live,
		   (unsigned long long)st->sessions_hibernated,
		   (unsigned long long)st->handshakes_in_progress);
	for (int i = 0; i < PEERS; i++) {
		const char *id = dtls_server_peer_identity(W->srv, peer_addr((uint8_t)i));
		FUZZ_CHECK(!id || strcmp(id, "dev1") == 0 || strcmp(id, "dev2") == 0,
			   "peer %d has identity '%s'", i, id);
	}
}

static int save_one(void *ctx, const char *identity, const struct addr *peer, const uint8_t *data,
		    size_t len)
{
	(void)ctx;
	if (W->saved_count == 4 || len > sizeof(W->saved[0]))
		return 0;
	int i = W->saved_count++;
	memcpy(W->saved[i], data, len);
	W->saved_len[i] = len;
	snprintf(W->saved_id[i], sizeof(W->saved_id[i]), "%s", identity);
	W->saved_peer[i] = *peer;
	return 0;
}

static void server_up(void)
{
	struct dtls_server_config cfg;
	dtls_server_config_defaults(&cfg);
	cfg.max_handshakes = 2;
	cfg.idle_ms = 2000;
	cfg.handshake_timeout_ms = 10000;
	cfg.session_cache = 2;
	struct dtls_server_hooks hooks = { hook_psk, hook_recv, hook_send };
	if (dtls_server_create(&W->srv, &cfg, &hooks, NULL) != 0)
		FUZZ_FAIL("dtls_server_create");
}

static void restart(void)
{
	W->saved_count = 0;
	FUZZ_CHECK(dtls_server_save_all(W->srv, save_one, NULL) == 0, "save_all");
	dtls_server_destroy(W->srv);
	server_up();
	for (int i = 0; i < W->saved_count; i++)
		FUZZ_CHECK(dtls_server_restore(W->srv, W->saved_id[i], &W->saved_peer[i],
					       W->saved[i], W->saved_len[i], W->now) == 0,
			   "restore");
}

static void run(struct fuzz_in *in)
{
	uint8_t buf[DGRAM];
	size_t len;
	while (in->left > 0) {
		uint8_t op = fuzz_u8(in) % OPS;
		struct client *c = &W->c[fuzz_u8(in) % CLIENTS];
		switch (op) {
		case RAW: {
			uint8_t peer = fuzz_u8(in);
			const uint8_t *p = fuzz_bytes(in, fuzz_u8(in) * 4u, &len);
			deliver(peer_addr(peer), p, len);
			break;
		}
		case SHAKE:
			if (client_up(c, fuzz_u8(in)))
				client_handshake(c);
			break;
		case BENT: {
			uint8_t how = fuzz_u8(in);
			c->bend_at = fuzz_u8(in) % 8;
			c->bend_pos = fuzz_u16(in);
			c->bend_xor = fuzz_u8(in);
			c->sent = 0;
			if (client_up(c, how))
				client_handshake(c);
			c->bend_at = -1;
			break;
		}
		case WRITE:
		case MUTATE: {
			const uint8_t *p = fuzz_bytes(in, fuzz_u8(in), &len);
			if (!c->connected || len == 0)
				break;
			remember(c, p, len);
			if (op == WRITE) {
				mbedtls_ssl_write(&c->ssl, p, len);
				break;
			}
			size_t pos = fuzz_u16(in);
			uint8_t x = fuzz_u8(in), how = fuzz_u8(in);
			c->hold = true;
			c->held_len = 0;
			mbedtls_ssl_write(&c->ssl, p, len);
			c->hold = false;
			size_t n = c->held_len;
			if (n == 0)
				break;
			memcpy(buf, c->held, n);
			switch (how % 5) {
			case 0: /* a changed byte: header, sequence number, ciphertext or tag */
				buf[pos % n] ^= x ? x : 1;
				break;
			case 1: /* cut short */
				n = pos % n;
				break;
			case 2: /* replayed: the same record twice */
				deliver(&c->addr, buf, n);
				break;
			case 3: /* two records in one datagram, the second changed */
				if (2 * n <= sizeof(buf)) {
					memcpy(buf + n, buf, n);
					buf[n + pos % n] ^= x ? x : 1;
					n *= 2;
				}
				break;
			default: /* the length field says something else */
				if (n >= 13) {
					buf[11] = (uint8_t)(pos >> 8);
					buf[12] = (uint8_t)pos;
				}
				break;
			}
			deliver(&c->addr, buf, n);
			break;
		}
		case SEND: {
			const uint8_t *p = fuzz_bytes(in, fuzz_u8(in), &len);
			int before = c->count;
			int rc = dtls_server_send(W->srv, &c->addr, p, len, W->now);
			FUZZ_CHECK(rc == 0 || rc == -ENOTCONN || rc == -EIO, "send: %d", rc);
			/* Only a record alone in the client's queue is read and compared. */
			if (rc == 0 && c->connected && before == 0 && c->count == 1) {
				uint8_t got[DGRAM];
				int n = mbedtls_ssl_read(&c->ssl, got, sizeof(got));
				FUZZ_CHECK(n < 0 ||
					       ((size_t)n == len && memcmp(got, p, len) == 0) ||
					       n == 0,
					   "the client read %d bytes, not the %zu sent", n, len);
			}
			break;
		}
		case TICK:
			W->now += (uint64_t)fuzz_u8(in) * 250;
			dtls_server_tick(W->srv, W->now);
			break;
		case CLOSE:
			if (fuzz_u8(in) & 1) {
				if (c->connected)
					mbedtls_ssl_close_notify(&c->ssl);
				c->connected = false;
			} else {
				int rc = dtls_server_close_identity(
				    W->srv, c - W->c ? "dev2" : "dev1", W->now);
				FUZZ_CHECK(rc == 0 || rc == -ENOENT, "close_identity: %d", rc);
			}
			break;
		case RESTART:
			restart();
			break;
		case RESTORE: {
			uint8_t peer = fuzz_u8(in);
			const uint8_t *p = fuzz_bytes(in, fuzz_u8(in) * 2u, &len);
			int rc = dtls_server_restore(W->srv, peer & 1 ? "dev1" : "dev2",
						     peer_addr(peer >> 1), p, len, W->now);
			FUZZ_CHECK(rc == 0 || rc == -EINVAL, "restore: %d", rc);
			break;
		}
		case MOVE:
			c->addr.port = (uint16_t)(c->addr.port + 100);
			break;
		}
		check_stats();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct world world;
	static bool quiet;
	if (!quiet) {
		log_threshold = (enum log_level)(LOG_LEVEL_ERROR + 1);
		quiet = true;
	}
	if (size > 8192)
		return 0;
	W = &world;
	memset(W, 0, sizeof(*W));
	W->now = 1000;
	for (int i = 0; i < CLIENTS; i++) {
		addr_parse(&W->c[i].addr, "10.0.0.1:40000");
		W->c[i].addr.port = (uint16_t)(40000 + i);
		W->c[i].bend_at = -1;
	}
	for (int i = 0; i < PEERS - CLIENTS; i++) {
		addr_parse(&W->strangers[i], "[2001:db8::1]:5000");
		W->strangers[i].port = (uint16_t)(5000 + i);
	}
	server_up();
	struct fuzz_in in = fuzz_in(data, size);
	run(&in);
	dtls_server_destroy(W->srv);
	for (int i = 0; i < CLIENTS; i++) {
		client_down(&W->c[i]);
		if (W->c[i].has_last)
			mbedtls_ssl_session_free(&W->c[i].last);
	}
	return 0;
}
