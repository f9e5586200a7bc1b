/*
 * lwm2m-sim: the project's own LwM2M client, playing one device against a server.
 *
 * It registers (block-wise when the object list is over one block), sends Updates at an
 * interval and de-registers, over real UDP with CON retransmission (RFC 7252 §4.2), and
 * prints one line per step so that tests and people can follow it:
 *   registered rd/<id>    updated 2.04    deregistered 2.02    failed <step> <code>
 * It exits 0 when every step got the answer LwM2M prescribes, 1 otherwise.
 *
 *   lwm2m-sim --server HOST:PORT --ep NAME [--lifetime S] [--binding B] [--version V]
 *             [--objects LINKS] [--updates N] [--interval MS] [--deregister]
 *             [--block-size 16..1024] [--bind HOST:PORT]
 *             [--psk-identity ID --psk HEX [--ciphersuite ccm8|cbc] [--no-ep]]
 *             [--serve SECONDS]
 *
 * With --serve it stays registered for that long after registering and answers the
 * server's Reads of a few Device-object resources (text/plain), printing
 * "answered GET /3/0/9 2.05" per request.
 *
 * With --psk-identity and --psk it talks CoAP over DTLS 1.2 (mbedTLS, dtls_client.c), with
 * the same CON retransmission inside the session, printing "handshake <suite>" or
 * "failed handshake -0xXXXX <mbedTLS's text>"; --no-ep registers without
 * the ep parameter, as LwM2M 1.1 allows over DTLS (the server takes the PSK identity).
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
#include "util/addr.h"

/* How long the DTLS handshake may take in all. mbedTLS resends its flights at doubling
 * intervals from 1 s (RFC 6347 §4.2.4.1): 1+2+4+8+16 s make five resends, and a silent
 * server (or a wrong key, which a DTLS server may answer with silence) fails after 32 s
 * rather than after the two minutes mbedTLS's own limits (1 s..60 s) allow. */
#define HANDSHAKE_TIMEOUT_MS 32000

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
};

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

/* Sends msg as CON and waits for its ACK, retransmitting per RFC 7252 §4.2 (2 s initial
 * timeout, doubling, 4 retransmissions). The response is parsed into resp (pointing into
 * buf). Returns 0 or -ETIMEDOUT. */
static int exchange(struct sim *s, struct coap_msg *msg, struct coap_msg *resp, uint8_t *buf,
		    size_t cap)
{
	uint8_t out[2048];
	msg->mid = s->mid++;
	int len = coap_msg_encode(msg, out, sizeof(out));
	if (len < 0)
		return len;
	struct sockaddr_storage ss;
	size_t sl = addr_to_sockaddr(&s->server, &ss);
	int timeout = 2000;
	for (int attempt = 0; attempt <= 4; attempt++, timeout *= 2) {
		if (s->dtls) {
			/* Over DTLS: the same CoAP retransmission, inside the session. */
			if (dtls_client_send(s->dtls, out, (size_t)len) != 0)
				return -EIO;
			int n;
			while ((n = dtls_client_recv(s->dtls, buf, cap, timeout)) >= 0) {
				if (coap_msg_parse(resp, buf, (size_t)n) == 0 &&
				    resp->mid == msg->mid && resp->type == COAP_TYPE_ACK)
					return 0;
			}
			/* Anything but a timeout (e.g. the server's close_notify) ends it. */
			if (n != -ETIMEDOUT)
				return -EIO;
			continue;
		}
		sendto(s->fd, out, (size_t)len, 0, (struct sockaddr *)&ss, (socklen_t)sl);
		struct pollfd p = {.fd = s->fd, .events = POLLIN};
		while (poll(&p, 1, timeout) > 0) {
			ssize_t n = recv(s->fd, buf, cap, 0);
			if (n > 0 && coap_msg_parse(resp, buf, (size_t)n) == 0 &&
			    resp->mid == msg->mid && resp->type == COAP_TYPE_ACK)
				return 0;
		}
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
	uint8_t buf[2048];
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

static int rd_request(struct sim *s, uint8_t method, uint8_t want, const char *what)
{
	uint8_t buf[2048];
	struct coap_msg m, r;
	coap_msg_init(&m, COAP_TYPE_CON, method, 0, (const uint8_t *)"sim", 3);
	coap_msg_add_option(&m, COAP_OPTION_URI_PATH, "rd", 2);
	coap_msg_add_option(&m, COAP_OPTION_URI_PATH, s->reg_id, strlen(s->reg_id));
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

/* A few Device-object values the simulator answers Reads with (text/plain). */
static const struct {
	const char *path;
	const char *value;
} device_values[] = {
	{ "/3/0/0", "lwm2md simulator" },
	{ "/3/0/1", "lwm2m-sim" },
	{ "/3/0/9", "87" },
	{ "/3/0/16", "U" },
};

/* Sends one datagram to the server, over the session when there is one. */
static void send_datagram(struct sim *s, const uint8_t *data, size_t len)
{
	if (s->dtls) {
		dtls_client_send(s->dtls, data, len);
		return;
	}
	struct sockaddr_storage ss;
	size_t sl = addr_to_sockaddr(&s->server, &ss);
	sendto(s->fd, data, len, 0, (struct sockaddr *)&ss, (socklen_t)sl);
}

/* Plays the device side of Device Management for seconds: answers each Read of a value it
 * has with 2.05 text/plain, other requests with 4.04, and prints "answered GET /3/0/9
 * 2.05". */
static void serve(struct sim *s, int seconds)
{
	uint8_t buf[2048], out[512];
	struct timespec start, now;
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		int left = seconds * 1000 - (int)((now.tv_sec - start.tv_sec) * 1000 +
						  (now.tv_nsec - start.tv_nsec) / 1000000);
		if (left <= 0)
			return;
		int n;
		if (s->dtls) {
			n = dtls_client_recv(s->dtls, buf, sizeof(buf), left);
			if (n == -ETIMEDOUT)
				return;
		} else {
			struct pollfd p = { .fd = s->fd, .events = POLLIN };
			if (poll(&p, 1, left) <= 0)
				return;
			n = (int)recv(s->fd, buf, sizeof(buf), 0);
		}
		if (n < 0)
			return;
		struct coap_msg req, resp;
		if (coap_msg_parse(&req, buf, (size_t)n) != 0 || req.type != COAP_TYPE_CON ||
		    COAP_CODE_CLASS(req.code) != 0 || req.code == COAP_CODE_EMPTY)
			continue;
		char path[64];
		if (coap_msg_get_path(&req, path, sizeof(path)) < 0)
			continue;
		const char *value = NULL;
		for (size_t i = 0; req.code == COAP_CODE_GET &&
				   i < sizeof(device_values) / sizeof(device_values[0]);
		     i++) {
			if (strcmp(path, device_values[i].path) == 0)
				value = device_values[i].value;
		}
		uint8_t code = value ? COAP_CODE_CONTENT : COAP_CODE_NOT_FOUND;
		coap_msg_init(&resp, COAP_TYPE_ACK, code, req.mid, req.token, req.token_len);
		if (value) {
			coap_msg_add_uint_option(&resp, COAP_OPTION_CONTENT_FORMAT, 0);
			coap_msg_set_payload(&resp, value, strlen(value));
		}
		int len = coap_msg_encode(&resp, out, sizeof(out));
		if (len > 0)
			send_datagram(s, out, (size_t)len);
		char c[5];
		printf("answered %s %s %s\n", req.code == COAP_CODE_GET ? "GET" : "request", path,
		       coap_code_format(code, c));
	}
}

static void usage(void)
{
	fprintf(stderr,
		"usage: lwm2m-sim --server HOST:PORT --ep NAME [--lifetime S] [--binding B]\n"
		"                 [--version V] [--objects LINKS] [--updates N] [--interval MS]\n"
		"                 [--deregister] [--block-size 16..1024] [--bind HOST:PORT]\n"
		"                 [--psk-identity ID --psk HEX [--ciphersuite ccm8|cbc] [--no-ep]]\n"
		"                 [--serve SECONDS]\n"
		"  --serve                after registering, answer the server's Reads of a few\n"
		"                         /3/0 resources for that many seconds\n"
		"  --psk-identity, --psk  talk CoAP over DTLS 1.2 with this PSK (key in hex, up to\n"
		"                         32 bytes); --ep then defaults to the identity\n"
		"  --ciphersuite          offer only TLS-PSK-WITH-AES-128-CCM-8 (ccm8) or\n"
		"                         TLS-PSK-WITH-AES-128-CBC-SHA256 (cbc); default: both\n"
		"  --no-ep                register without ep= (LwM2M 1.1: the server takes the\n"
		"                         endpoint name from the PSK identity)\n");
}

int main(int argc, char **argv)
{
	struct sim s = {
		.lifetime = 86400,
		.binding = "U",
		.version = "1.1",
		.objects = "</>;rt=\"oma.lwm2m\";ct=11543,</1/0>,</3/0>,</19/0>,</19/1>",
		.interval_ms = 1000,
		.block_size = 1024,
	};
	const char *server = NULL, *bind_to = NULL, *identity = NULL, *psk_hex = NULL;
	int serve_seconds = 0;
	int suite = 0;
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
		if (!v) {
			usage();
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
		else if (strcmp(a, "--psk-identity") == 0)
			identity = v;
		else if (strcmp(a, "--psk") == 0)
			psk_hex = v;
		else if (strcmp(a, "--ciphersuite") == 0 && strcmp(v, "ccm8") == 0)
			suite = DTLS_CLIENT_SUITE_CCM_8;
		else if (strcmp(a, "--ciphersuite") == 0 && strcmp(v, "cbc") == 0)
			suite = DTLS_CLIENT_SUITE_CBC;
		else {
			usage();
			return 2;
		}
	}
	uint8_t key[32];
	size_t key_len = 0;
	if (psk_hex) {
		size_t n = strlen(psk_hex);
		for (size_t i = 0; n % 2 == 0 && i < n / 2 && i < sizeof(key); i++) {
			unsigned b;
			if (sscanf(psk_hex + 2 * i, "%2x", &b) != 1)
				break;
			key[key_len++] = (uint8_t)b;
		}
		if (key_len == 0 || key_len * 2 != n)
			psk_hex = NULL; /* malformed: refused below */
	}
	if (!s.ep && identity)
		s.ep = identity;
	if (!server || !s.ep || addr_parse(&s.server, server) != 0 || s.block_size < 16 ||
	    s.block_size > 1024 || (identity != NULL) != (psk_hex != NULL)) {
		usage();
		return 2;
	}
	struct addr local;
	if (addr_parse(&local, bind_to ? bind_to
				       : (s.server.family == AF_INET6 ? "[::]:0" : "0.0.0.0:0")) != 0) {
		usage();
		return 2;
	}
	s.fd = socket(local.family, SOCK_DGRAM, 0);
	struct sockaddr_storage ss;
	size_t sl = addr_to_sockaddr(&local, &ss);
	if (s.fd < 0 || bind(s.fd, (struct sockaddr *)&ss, (socklen_t)sl) != 0) {
		perror("lwm2m-sim: socket");
		return 1;
	}
	if (getrandom(&s.mid, sizeof(s.mid), 0) != sizeof(s.mid))
		s.mid = (uint16_t)getpid();
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (identity) {
		char err[192];
		if (dtls_client_connect(&s.dtls, s.fd, &s.server, identity, key, key_len, suite,
					HANDSHAKE_TIMEOUT_MS, err, sizeof(err)) != 0) {
			printf("failed handshake %s\n", err);
			close(s.fd);
			return 1;
		}
		printf("handshake %s\n", dtls_client_suite(s.dtls));
	}

	int rc = do_register(&s);
	if (rc == 0 && serve_seconds > 0)
		serve(&s, serve_seconds);
	for (int i = 0; rc == 0 && i < s.updates; i++) {
		sleep_ms(s.interval_ms);
		rc = rd_request(&s, COAP_CODE_POST, COAP_CODE_CHANGED, "updated");
	}
	if (rc == 0 && s.deregister)
		rc = rd_request(&s, COAP_CODE_DELETE, COAP_CODE_DELETED, "deregistered");
	dtls_client_close(s.dtls);
	dtls_client_free(s.dtls);
	close(s.fd);
	return rc == 0 ? 0 : 1;
}
