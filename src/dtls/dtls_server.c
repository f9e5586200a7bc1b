/*
 * dtls_server: mbedTLS glue for a DTLS 1.2 PSK server on one UDP socket.
 *
 * A session moves through three states:
 *
 *   (unknown peer) --ClientHello with valid cookie--> HANDSHAKE --Finished--> LIVE
 *   LIVE --idle--> HIBERNATED --record from the peer, or a send to it--> LIVE
 *
 * Unknown peers never get a session of their own: their ClientHello goes through one
 * shared "verifier" context that answers with a HelloVerifyRequest and is reset. When a
 * ClientHello carries a valid cookie the verifier's context, already in the middle of that
 * handshake, is handed to a new session and the verifier gets a fresh context — if
 * dtls_handshakes.c finds it a slot. mbedTLS talks to the network through bio callbacks
 * that read the datagram being processed and write through the send hook; its
 * retransmission timer runs on our clock. Set-up and teardown are in dtls_setup.c, the
 * backoff after wrong keys in dtls_backoff.c.
 */
#include "dtls/dtls_server.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/error.h>
#include <mbedtls/sha256.h>

#include "dtls/dtls_internal.h"
#include "util/log.h"

#define MASTER_KEY_LEN 16

/* Which identity a master secret belongs to: an abbreviated handshake (session id or
 * ticket) runs no PSK callback, so this is how a resumed session learns its identity. */
struct master_entry {
	struct hmap_node node;
	struct list fifo;
	uint8_t key[MASTER_KEY_LEN];
	char identity[DTLS_IDENTITY_MAX + 1];
};

static const char *err_text(int rc, char buf[128])
{
	mbedtls_strerror(rc, buf, 128);
	return buf;
}

/* mbedTLS I/O callbacks. */

static int bio_send(void *ctx, const unsigned char *data, size_t len)
{
	struct dtls_session *s = ctx;
	s->srv->hooks.send(s->srv->ctx, &s->peer, data, len);
	return (int)len;
}

static int bio_recv(void *ctx, unsigned char *buf, size_t len)
{
	struct dtls_session *s = ctx;
	if (s->in == NULL)
		return MBEDTLS_ERR_SSL_WANT_READ;
	size_t n = s->in_len < len ? s->in_len : len;
	memcpy(buf, s->in, n);
	s->in = NULL;
	s->in_len = 0;
	return (int)n;
}

static void timer_set(void *ctx, uint32_t int_ms, uint32_t fin_ms)
{
	struct dtls_session *s = ctx;
	s->timer_set = fin_ms != 0;
	s->timer_int_at = s->srv->now + int_ms;
	s->timer_fin_at = s->srv->now + fin_ms;
}

static int timer_get(void *ctx)
{
	struct dtls_session *s = ctx;
	if (!s->timer_set)
		return -1;
	if (s->srv->now >= s->timer_fin_at)
		return 2;
	return s->srv->now >= s->timer_int_at ? 1 : 0;
}

static void bind_ssl(struct dtls_session *s)
{
	mbedtls_ssl_set_bio(s->ssl, s, bio_send, bio_recv, NULL);
	mbedtls_ssl_set_timer_cb(s->ssl, s, timer_set, timer_get);
}

/* The bytes that tie a cookie to a peer's address. */
static void set_transport_id(mbedtls_ssl_context *ssl, const struct addr *peer)
{
	uint8_t id[1 + 2 + 16];
	id[0] = peer->family;
	id[1] = (uint8_t)(peer->port >> 8);
	id[2] = (uint8_t)peer->port;
	memcpy(id + 3, peer->ip, 16);
	mbedtls_ssl_set_client_transport_id(ssl, id, sizeof(id));
}

/* A context for a new session or a wake-up: from the pool when it has one
 * (dtls_pool.c). */
static mbedtls_ssl_context *new_ssl(struct dtls_server *srv)
{
	return dtls_pool_get(&srv->pool, &srv->conf);
}

/* Reset and back to the pool, or freed when it is full. */
static void free_ssl(struct dtls_server *srv, mbedtls_ssl_context *ssl)
{
	dtls_pool_put(&srv->pool, ssl);
}

/* Master secret → identity. */

static void master_key(const mbedtls_ssl_context *ssl, uint8_t key[MASTER_KEY_LEN])
{
	uint8_t digest[32];
	mbedtls_sha256_ret(ssl->session->master, sizeof(ssl->session->master), digest, 0);
	memcpy(key, digest, MASTER_KEY_LEN);
}

static struct master_entry *master_find(struct dtls_server *srv, const uint8_t *key)
{
	uint64_t h = hash_bytes(key, MASTER_KEY_LEN, 0);
	struct hmap_node *n;
	HMAP_FOR_EACH_WITH_HASH(n, h, &srv->masters)
	{
		struct master_entry *e = container_of(n, struct master_entry, node);
		if (memcmp(e->key, key, MASTER_KEY_LEN) == 0)
			return e;
	}
	return NULL;
}

static void master_remember(struct dtls_server *srv, const mbedtls_ssl_context *ssl,
			    const char *identity)
{
	uint8_t key[MASTER_KEY_LEN];
	master_key(ssl, key);
	if (master_find(srv, key))
		return;
	struct master_entry *e;
	if (srv->masters_count >= srv->cfg.session_cache && srv->masters_count > 0) {
		/* Reuse the oldest: resumption of a session this old fails, and the device
		 * falls back to a full handshake. */
		e = container_of(srv->masters_fifo.next, struct master_entry, fifo);
		hmap_remove(&srv->masters, &e->node);
		list_remove(&e->fifo);
		srv->masters_count--;
	} else {
		e = malloc(sizeof(*e));
		if (!e)
			return;
	}
	memcpy(e->key, key, MASTER_KEY_LEN);
	strcpy(e->identity, identity);
	hmap_insert(&srv->masters, &e->node, hash_bytes(key, MASTER_KEY_LEN, 0));
	list_push_back(&srv->masters_fifo, &e->fifo);
	srv->masters_count++;
}

/* PSK lookup, called by mbedTLS while it parses the ClientKeyExchange. */
int dtls_on_psk(void *ctx, mbedtls_ssl_context *ssl, const unsigned char *id, size_t len)
{
	struct dtls_server *srv = ctx;
	struct dtls_session *s = srv->current;
	char identity[DTLS_IDENTITY_MAX + 1];

	s->psk_looked_up = true;
	if (len == 0 || len > DTLS_IDENTITY_MAX || memchr(id, '\0', len) != NULL) {
		s->fail_reason = MBEDTLS_ERR_SSL_UNKNOWN_IDENTITY;
		return -1;
	}
	memcpy(identity, id, len);
	identity[len] = '\0';
	if (dtls_backoff_active(srv, identity)) {
		/* Wrong keys came for this identity: no key is tried until its backoff ends,
		 * the right one included. The peer sees what an unknown identity gets. */
		s->fail_reason = DTLS_FAIL_THROTTLED;
		strcpy(s->identity, identity);
		return -1;
	}
	uint8_t key[DTLS_PSK_MAX];
	size_t key_len = 0;
	if (srv->hooks.psk(srv->ctx, identity, key, &key_len) != 0 || key_len == 0) {
		s->fail_reason = MBEDTLS_ERR_SSL_UNKNOWN_IDENTITY;
		strcpy(s->identity, identity); /* for the log line */
		return -1;
	}
	int rc = mbedtls_ssl_set_hs_psk(ssl, key, key_len);
	mbedtls_platform_zeroize(key, sizeof(key));
	strcpy(s->identity, identity);
	return rc;
}

/* Sessions. */

static struct dtls_session *find_peer(struct dtls_server *srv, const struct addr *peer)
{
	uint64_t h = addr_hash(peer);
	struct hmap_node *n;
	HMAP_FOR_EACH_WITH_HASH(n, h, &srv->by_peer)
	{
		struct dtls_session *s = container_of(n, struct dtls_session, by_peer);
		if (addr_equal(&s->peer, peer))
			return s;
	}
	return NULL;
}

static struct dtls_session *find_identity(struct dtls_server *srv, const char *identity)
{
	uint64_t h = hash_str(identity);
	struct hmap_node *n;
	HMAP_FOR_EACH_WITH_HASH(n, h, &srv->by_identity)
	{
		struct dtls_session *s = container_of(n, struct dtls_session, by_identity);
		if (strcmp(s->identity, identity) == 0)
			return s;
	}
	return NULL;
}

static void leave_state(struct dtls_session *s)
{
	struct dtls_server_stats *st = &s->srv->stats;
	switch (s->state) {
	case SESSION_HANDSHAKE:
		st->handshakes_in_progress--;
		st->sessions_live--;
		dtls_handshake_end(s);
		break;
	case SESSION_LIVE:
		st->sessions_live--;
		break;
	case SESSION_HIBERNATED:
		st->sessions_hibernated--;
		st->hibernated_bytes -= sizeof(*s) + s->saved_len;
		break;
	}
	list_remove(&s->link);
}

static void enter_state(struct dtls_session *s, enum session_state state)
{
	struct dtls_server *srv = s->srv;
	s->state = (uint8_t)state;
	switch (state) {
	case SESSION_HANDSHAKE:
		srv->stats.handshakes_in_progress++;
		srv->stats.sessions_live++;
		list_push_back(&srv->handshakes, &s->link);
		break;
	case SESSION_LIVE:
		srv->stats.sessions_live++;
		list_push_back(&srv->live, &s->link);
		break;
	case SESSION_HIBERNATED:
		srv->stats.sessions_hibernated++;
		srv->stats.hibernated_bytes += sizeof(*s) + s->saved_len;
		break;
	}
}

static void forget_identity(struct dtls_session *s)
{
	if (s->in_identity_map) {
		hmap_remove(&s->srv->by_identity, &s->by_identity);
		s->in_identity_map = false;
	}
}

void dtls_session_free(struct dtls_session *s)
{
	struct dtls_server *srv = s->srv;
	leave_state(s);
	forget_identity(s);
	hmap_remove(&srv->by_peer, &s->by_peer);
	free_ssl(srv, s->ssl);
	free(s->saved);
	free(s);
}

void dtls_session_fail(struct dtls_session *s, int rc)
{
	struct dtls_server_stats *st = &s->srv->stats;
	char peer[ADDR_STR_MAX], why[128];
	if (s->fail_reason == DTLS_FAIL_THROTTLED) {
		st->fail_throttled++;
		LOG_INFO_RATE("dtls", "handshake refused: backing off",
			      "%s: handshake refused: identity '%s' is backing off after wrong keys", addr_format(&s->peer, peer), s->identity);
	} else if (s->fail_reason == MBEDTLS_ERR_SSL_UNKNOWN_IDENTITY ||
		   rc == MBEDTLS_ERR_SSL_UNKNOWN_IDENTITY) {
		st->fail_unknown_identity++;
		LOG_WARN_RATE("dtls", "handshake refused: unknown identity",
			      "%s: handshake refused: unknown identity '%s' or not a DTLS device",
			 addr_format(&s->peer, peer), s->identity);
	} else if (rc == MBEDTLS_ERR_SSL_BAD_HS_FINISHED || rc == MBEDTLS_ERR_SSL_INVALID_MAC) {
		st->fail_bad_key++;
		LOG_WARN_RATE("dtls", "handshake failed: wrong key",
			      "%s: handshake failed for identity '%s': wrong key",
			 addr_format(&s->peer, peer), s->identity);
		if (s->identity[0])
			dtls_backoff_failure(s->srv, s->identity);
	} else if (rc == MBEDTLS_ERR_SSL_TIMEOUT || rc == -ETIMEDOUT) {
		st->fail_timeout++;
		LOG_INFO_RATE("dtls", "handshake timed out", "%s: handshake timed out", addr_format(&s->peer, peer));
	} else if (rc == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY ||
		   rc == MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE) {
		st->closed_by_peer++;
		LOG_INFO_RATE("dtls", "peer ended the handshake",
			      "%s: peer ended the handshake (%s)", addr_format(&s->peer, peer),
			 err_text(rc, why));
	} else {
		st->fail_other++;
		LOG_WARN_RATE("dtls", "handshake failed", "%s: handshake failed: %s", addr_format(&s->peer, peer),
			 err_text(rc, why));
	}
	dtls_session_free(s);
}

static void touch(struct dtls_session *s)
{
	s->last_active = s->srv->now;
	if (s->state == SESSION_LIVE) {
		list_remove(&s->link);
		list_push_back(&s->srv->live, &s->link);
	}
}

/* A handshake completed: find out who the peer is and make the session the identity's. */
static int handshake_done(struct dtls_session *s)
{
	struct dtls_server *srv = s->srv;
	char peer[ADDR_STR_MAX];
	bool resumed = !s->psk_looked_up;

	if (resumed) {
		uint8_t key[MASTER_KEY_LEN];
		master_key(s->ssl, key);
		struct master_entry *e = master_find(srv, key);
		if (!e) {
			LOG_WARN_RATE("dtls", "resumed session of an unknown identity",
				      "%s: resumed a session of an unknown identity; closing",
				 addr_format(&s->peer, peer));
			mbedtls_ssl_close_notify(s->ssl);
			srv->stats.fail_other++;
			dtls_session_free(s);
			return -ENOENT;
		}
		strcpy(s->identity, e->identity);
	} else {
		master_remember(srv, s->ssl, s->identity);
		dtls_backoff_success(srv, s->identity);
	}
	/* One session per identity: the device's older one (another address, or before a
	 * restart) is dead to it now. */
	struct dtls_session *old = find_identity(srv, s->identity);
	if (old && old != s)
		dtls_session_free(old);
	hmap_insert(&srv->by_identity, &s->by_identity, hash_str(s->identity));
	s->in_identity_map = true;
	leave_state(s);
	enter_state(s, SESSION_LIVE);
	s->last_active = srv->now;
	s->no_hibernate = strstr(mbedtls_ssl_get_ciphersuite(s->ssl), "CCM") == NULL &&
			  strstr(mbedtls_ssl_get_ciphersuite(s->ssl), "GCM") == NULL;
	s->suite = (uint16_t)mbedtls_ssl_get_ciphersuite_id(mbedtls_ssl_get_ciphersuite(s->ssl));
	if (resumed)
		srv->stats.handshakes_resumed++;
	else
		srv->stats.handshakes_done++;
	LOG_INFO("dtls", "%s: %s handshake done, identity '%s', %s", addr_format(&s->peer, peer),
		 resumed ? "abbreviated" : "full", s->identity, mbedtls_ssl_get_ciphersuite(s->ssl));
	return 0;
}

static void read_records(struct dtls_session *s);

void dtls_session_step(struct dtls_session *s, bool from_peer)
{
	int before = s->ssl->state;
	s->srv->current = s;
	int rc = mbedtls_ssl_handshake(s->ssl);
	if (rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE) {
		/* Progress is the peer moving mbedTLS's state on; a retransmitted flight, a
		 * stray record or our own timer does not keep the slot. */
		if (from_peer && s->ssl->state != before)
			dtls_handshake_progress(s);
		return;
	}
	if (rc != 0) {
		dtls_session_fail(s, rc);
		return;
	}
	if (handshake_done(s) == 0)
		read_records(s); /* application data may share the datagram with Finished */
}

/* Delivers every record of the current datagram. */
static void read_records(struct dtls_session *s)
{
	struct dtls_server *srv = s->srv;
	char peer[ADDR_STR_MAX], why[128];
	srv->current = s;
	for (;;) {
		int rc = mbedtls_ssl_read(s->ssl, srv->buf, sizeof(srv->buf));
		if (rc > 0) {
			srv->hooks.recv(srv->ctx, &s->peer, srv->buf, (size_t)rc);
			continue;
		}
		if (rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE || rc == 0)
			return;
		if (rc == MBEDTLS_ERR_SSL_CLIENT_RECONNECT) {
			/* The peer started a new handshake from the same address and echoed a
			 * valid cookie: mbedTLS has reset the context and kept the ClientHello. */
			struct dtls_source *source = dtls_handshake_admit(srv, &s->peer);
			if (!source) {
				srv->stats.handshakes_refused++;
				dtls_session_free(s);
				return;
			}
			forget_identity(s);
			leave_state(s);
			s->psk_looked_up = false;
			s->fail_reason = 0;
			s->identity[0] = '\0';
			s->deadline = srv->now + srv->cfg.handshake_timeout_ms;
			enter_state(s, SESSION_HANDSHAKE);
			dtls_handshake_begin(s, source);
			srv->stats.handshakes_started++;
			dtls_session_step(s, true);
			return;
		}
		if (rc == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY) {
			LOG_INFO("dtls", "%s: '%s' closed its session", addr_format(&s->peer, peer),
				 s->identity);
		} else {
			LOG_WARN("dtls", "%s: session of '%s' ended: %s",
				 addr_format(&s->peer, peer), s->identity, err_text(rc, why));
		}
		srv->stats.closed_by_peer++;
		dtls_session_free(s);
		return;
	}
}

static int hibernate(struct dtls_session *s)
{
	struct dtls_server *srv = s->srv;
	size_t need = 0;
	if (s->no_hibernate)
		return -ENOTSUP;
	int rc = mbedtls_ssl_context_save(s->ssl, NULL, 0, &need);
	if (rc != MBEDTLS_ERR_SSL_BUFFER_TOO_SMALL)
		return -ENOTSUP;
	uint8_t *buf = malloc(need);
	if (!buf)
		return -ENOMEM;
	size_t len = 0;
	rc = mbedtls_ssl_context_save(s->ssl, buf, need, &len);
	if (rc != 0) {
		free(buf);
		return -ENOTSUP;
	}
	leave_state(s);
	free_ssl(srv, s->ssl);
	s->ssl = NULL;
	s->saved = buf;
	s->saved_len = len;
	enter_state(s, SESSION_HIBERNATED);
	srv->stats.hibernations++;
	return 0;
}

static int wake(struct dtls_session *s)
{
	struct dtls_server *srv = s->srv;
	mbedtls_ssl_context *ssl = new_ssl(srv);
	if (!ssl)
		return -ENOMEM;
	s->ssl = ssl;
	bind_ssl(s);
	int rc = mbedtls_ssl_context_load(ssl, s->saved, s->saved_len);
	if (rc != 0) {
		char peer[ADDR_STR_MAX], why[128];
		LOG_WARN("dtls", "%s: cannot restore the session of '%s': %s",
			 addr_format(&s->peer, peer), s->identity, err_text(rc, why));
		s->ssl = NULL;
		/* mbedTLS: after a failed load the context must be freed, not reused. */
		dtls_pool_discard(ssl);
		return -EIO;
	}
	set_transport_id(ssl, &s->peer);
	/* The serialized data must never be loaded twice (mbedTLS's warning): drop it. */
	leave_state(s);
	mbedtls_platform_zeroize(s->saved, s->saved_len);
	free(s->saved);
	s->saved = NULL;
	s->saved_len = 0;
	enter_state(s, SESSION_LIVE);
	s->last_active = srv->now;
	s->suite = (uint16_t)mbedtls_ssl_get_ciphersuite_id(mbedtls_ssl_get_ciphersuite(ssl));
	srv->stats.wakeups++;
	return 0;
}

/* The first bytes of a DTLS record carrying an epoch-0 ClientHello. */
static bool is_client_hello(const uint8_t *d, size_t len)
{
	return len >= 13 + 12 && d[0] == 22 /* handshake */ && d[1] == 0xfe &&
	       d[3] == 0 && d[4] == 0 /* epoch 0 */ && d[13] == 1 /* client_hello */;
}

/* An unknown peer: HelloVerifyRequest, or a session once the cookie checks out. */
static void verify_hello(struct dtls_server *srv, const struct addr *peer, const uint8_t *data,
			 size_t len)
{
	struct dtls_session *v = &srv->verifier;
	if (!is_client_hello(data, len)) {
		srv->stats.dropped_unverified++;
		return;
	}
	if (!v->ssl) {
		v->ssl = new_ssl(srv);
		if (!v->ssl)
			return;
		bind_ssl(v);
	} else {
		mbedtls_ssl_session_reset(v->ssl);
	}
	v->peer = *peer;
	v->psk_looked_up = false;
	v->fail_reason = 0;
	v->identity[0] = '\0';
	v->timer_set = false;
	set_transport_id(v->ssl, peer);
	v->in = data;
	v->in_len = len;
	srv->current = v;
	/* Up to the ServerHello, step by step. A HelloVerifyRequest goes out at once; with a
	 * valid cookie nothing has gone out yet, because DTLS sends a flight whole, at its
	 * end (mbedtls_ssl_flight_transmit at ServerHelloDone). So a peer refused a slot now
	 * is told nothing, and its ClientHello retransmission tries again. */
	int rc = 0;
	while (rc == 0 && v->ssl->state <= MBEDTLS_SSL_SERVER_HELLO)
		rc = mbedtls_ssl_handshake_step(v->ssl);
	v->in = NULL;
	if (rc == 0 && v->ssl->state == MBEDTLS_SSL_SERVER_HELLO_VERIFY_REQUEST_SENT) {
		srv->stats.hello_verify_sent++;
		return;
	}
	if (rc != 0) {
		/* Garbage, or a ClientHello in fragments (which would need state before the
		 * cookie is checked): nothing is kept. */
		srv->stats.dropped_unverified++;
		return;
	}
	/* The cookie was valid: the peer gets a session, in a handshake slot made free if
	 * need be (dtls_handshakes.c), and the rest of the server's flight. */
	struct dtls_session *s = calloc(1, sizeof(*s));
	struct dtls_source *source = s ? dtls_handshake_admit(srv, peer) : NULL;
	if (!source) {
		free(s);
		srv->stats.handshakes_refused++;
		return;
	}
	*s = *v;
	s->srv = srv;
	list_init(&s->link);
	s->in_identity_map = false;
	v->ssl = NULL; /* a fresh one for the next stranger */
	bind_ssl(s);
	s->deadline = srv->now + srv->cfg.handshake_timeout_ms;
	s->last_active = srv->now;
	hmap_insert(&srv->by_peer, &s->by_peer, addr_hash(peer));
	enter_state(s, SESSION_HANDSHAKE);
	dtls_handshake_begin(s, source);
	srv->stats.handshakes_started++;
	dtls_session_step(s, false); /* the flight goes out; may free s */
}

void dtls_server_input(struct dtls_server *srv, const struct addr *peer, const uint8_t *data,
		       size_t len, uint64_t now_ms)
{
	srv->now = now_ms;
	struct dtls_session *s = find_peer(srv, peer);
	if (!s) {
		verify_hello(srv, peer, data, len);
		return;
	}
	if (s->state == SESSION_HIBERNATED && wake(s) != 0) {
		dtls_session_free(s);
		verify_hello(srv, peer, data, len);
		return;
	}
	s->in = data;
	s->in_len = len;
	if (s->state == SESSION_HANDSHAKE) {
		dtls_session_step(s, true); /* may free s */
		return;
	}
	touch(s);
	read_records(s); /* may free s */
}

int dtls_server_send(struct dtls_server *srv, const struct addr *peer, const uint8_t *data,
		     size_t len, uint64_t now_ms)
{
	srv->now = now_ms;
	struct dtls_session *s = find_peer(srv, peer);
	if (!s || s->state == SESSION_HANDSHAKE)
		return -ENOTCONN;
	if (s->state == SESSION_HIBERNATED && wake(s) != 0) {
		dtls_session_free(s);
		return -ENOTCONN;
	}
	touch(s);
	int rc = mbedtls_ssl_write(s->ssl, data, len);
	if (rc < 0) {
		char p[ADDR_STR_MAX], why[128];
		LOG_WARN("dtls", "%s: cannot send to '%s': %s", addr_format(&s->peer, p),
			 s->identity, err_text(rc, why));
		return -EIO;
	}
	return 0;
}

void dtls_server_tick(struct dtls_server *srv, uint64_t now_ms)
{
	srv->now = now_ms;
	dtls_handshakes_tick(srv);
	dtls_backoff_tick(srv);
	while (srv->live.next != &srv->live) {
		struct dtls_session *s = container_of(srv->live.next, struct dtls_session, link);
		if (now_ms - s->last_active < srv->cfg.idle_ms)
			break;
		if (hibernate(s) != 0) {
			/* Not serializable: a CBC suite, or mbedTLS still holds its last
			 * flight because the peer has sent nothing since the handshake. It
			 * stays live and goes to the back of the line. */
			s->last_active = now_ms;
			list_remove(&s->link);
			list_push_back(&srv->live, &s->link);
		}
	}
}

const char *dtls_server_peer_identity(struct dtls_server *srv, const struct addr *peer)
{
	struct dtls_session *s = find_peer(srv, peer);
	if (!s || s->state == SESSION_HANDSHAKE || s->identity[0] == '\0')
		return NULL;
	return s->identity;
}

int dtls_server_close_identity(struct dtls_server *srv, const char *identity, uint64_t now_ms)
{
	srv->now = now_ms;
	struct dtls_session *s = find_identity(srv, identity);
	if (!s)
		return -ENOENT;
	if (s->state == SESSION_LIVE)
		mbedtls_ssl_close_notify(s->ssl);
	dtls_session_free(s);
	return 0;
}

struct save_walk {
	int (*cb)(void *ctx, const char *identity, const struct addr *peer, const uint8_t *data,
		  size_t len);
	void *ctx;
	int rc;
};

static void save_one(struct hmap_node *node, void *ctx)
{
	struct save_walk *w = ctx;
	struct dtls_session *s = container_of(node, struct dtls_session, by_peer);
	if (w->rc != 0 || s->state == SESSION_HANDSHAKE)
		return;
	if (s->state == SESSION_LIVE && hibernate(s) != 0)
		return; /* a CBC session cannot be saved: the device handshakes again */
	w->rc = w->cb(w->ctx, s->identity, &s->peer, s->saved, s->saved_len);
}

int dtls_server_save_all(struct dtls_server *srv,
			 int (*cb)(void *ctx, const char *identity, const struct addr *peer,
				   const uint8_t *data, size_t len),
			 void *ctx)
{
	struct save_walk w = { cb, ctx, 0 };
	hmap_for_each(&srv->by_peer, save_one, &w);
	return w.rc;
}

int dtls_server_restore(struct dtls_server *srv, const char *identity, const struct addr *peer,
			const uint8_t *data, size_t len, uint64_t now_ms)
{
	srv->now = now_ms;
	if (strlen(identity) == 0 || strlen(identity) > DTLS_IDENTITY_MAX || len == 0)
		return -EINVAL;
	struct dtls_session *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->saved = malloc(len);
	if (!s->saved) {
		free(s);
		return -ENOMEM;
	}
	memcpy(s->saved, data, len);
	s->saved_len = len;
	s->srv = srv;
	s->peer = *peer;
	strcpy(s->identity, identity);
	list_init(&s->link);
	s->last_active = now_ms;
	/* Only sessions that hibernate are saved, and of the suites this server accepts
	 * (dtls_server_parse_ciphersuites) only CCM-8 hibernates (no_hibernate); waking
	 * reads the suite from the session itself. */
	s->suite = DTLS_PSK_AES_128_CCM_8;
	struct dtls_session *old = find_peer(srv, peer);
	if (old)
		dtls_session_free(old);
	old = find_identity(srv, identity);
	if (old)
		dtls_session_free(old);
	hmap_insert(&srv->by_peer, &s->by_peer, addr_hash(peer));
	hmap_insert(&srv->by_identity, &s->by_identity, hash_str(identity));
	s->in_identity_map = true;
	enter_state(s, SESSION_HIBERNATED);
	return 0;
}

const char *dtls_server_identity_ciphersuite(struct dtls_server *srv, const char *identity)
{
	struct dtls_session *s = find_identity(srv, identity);
	if (!s || s->state == SESSION_HANDSHAKE || s->suite == 0)
		return NULL;
	return mbedtls_ssl_get_ciphersuite_name(s->suite);
}

const struct dtls_server_stats *dtls_server_stats(struct dtls_server *srv)
{
	srv->stats.contexts_created = srv->pool.created;
	srv->stats.contexts_reused = srv->pool.reused;
	srv->stats.contexts_pooled = srv->pool.count;
	srv->stats.cache_entries = srv->cache.count;
	srv->stats.cache_hits = srv->cache.hits;
	return &srv->stats;
}

static void free_master(struct hmap_node *node, void *ctx)
{
	struct dtls_server *srv = ctx;
	hmap_remove(&srv->masters, node);
	free(container_of(node, struct master_entry, node));
}

void dtls_masters_destroy(struct dtls_server *srv)
{
	if (srv->masters.buckets)
		hmap_for_each(&srv->masters, free_master, srv);
	hmap_destroy(&srv->masters);
}
