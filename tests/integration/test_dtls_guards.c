/*
 * Integration: the DTLS server's limits against real peers over real UDP.
 *
 *  - Handshake slots: 300 ports of 127.0.0.1 and 8 ports each of 40 other loopback
 *    addresses complete the cookie exchange (ClientHello, HelloVerifyRequest, ClientHello
 *    with the cookie: the server allocates a handshake) and go silent. Real devices
 *    (tools/lwm2m-sim over DTLS), from 127.0.0.1 and from another address, still handshake
 *    and register at once, and a device whose session was established before (and
 *    hibernates between its Updates) keeps using it.
 *  - Wrong keys: five wrong keys for one identity make it back off — the right key is
 *    refused too — while another identity is not affected; with a short backoff set by
 *    flag, the right key works again once it has passed.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

#define KEY_HEX "7365637265746b657931"
#define WRONG_KEY_HEX "00112233445566778899"
#define SAME_ADDRESS_PORTS 300
#define OTHER_ADDRESSES 40
#define PORTS_PER_OTHER 8
#define SILENT (SAME_ADDRESS_PORTS + OTHER_ADDRESSES * PORTS_PER_OTHER)
/* A device "gets through promptly" well before any silent handshake would end by itself
 * (the stall deadline is 10 s; before it, mbedTLS's own flight timeout took 15 s). */
#define PROMPT_MS 8000

/* A /metrics value, or -1. */
static long metric(struct daemon_proc *d, const char *name)
{
	static char resp[65536];
	if (http_call_auth(d, "GET", "/metrics", NULL, NULL, resp, sizeof(resp)) != 200)
		return -1;
	size_t n = strlen(name);
	for (char *p = strstr(resp, name); p; p = strstr(p + 1, name))
		if ((p == resp || p[-1] == '\n') && p[n] == ' ')
			return strtol(p + n + 1, NULL, 10);
	return -1;
}

static void create_secure_device(struct daemon_proc *d, const char *node_id)
{
	char body[512], resp[1024];
	snprintf(body, sizeof(body),
		 "{\"node_id\":\"%s\",\"product_id\":\"meter\",\"auth_info\":"
		 "{\"secure_access\":true,\"secret\":\"" KEY_HEX "\"}}",
		 node_id);
	int status = http_call(d, "POST", "/v5/iot/p1/devices", body, resp, sizeof(resp));
	if (status != 201)
		fail_msg("device create: %d %s", status, resp);
}

static int teardown(void **state)
{
	struct daemon_proc *d = *state;
	daemon_stop(d);
	daemon_cleanup(d);
	free(d);
	return 0;
}

static void start(void **state, const char *const *args)
{
	struct daemon_proc *d = calloc(1, sizeof(*d));
	daemon_start(d, args);
	api_create_product(d, "meter");
	*state = d;
}

static int setup(void **state)
{
	/* Idle sessions hibernate after 1 s: the established device's session does between
	 * its Updates. */
	static const char *const args[] = { "--dtls-idle-seconds", "1", NULL };
	start(state, args);
	return 0;
}

static int setup_short_backoff(void **state)
{
	static const char *const args[] = { "--dtls-psk-max-failures", "3",
					    "--dtls-psk-backoff-seconds", "3", NULL };
	start(state, args);
	return 0;
}

/* ---- Peers that complete the cookie exchange and go silent ---- */

/* A DTLS 1.2 ClientHello (record sequence and message_seq seq) offering
 * TLS-PSK-WITH-AES-128-CCM-8, with cookie (may be empty). Returns its length. */
static size_t client_hello(uint8_t *out, uint16_t seq, const uint8_t *cookie, size_t cookie_len)
{
	uint8_t *p = out + 25; /* after the record and handshake headers */
	*p++ = 0xfe;
	*p++ = 0xfd; /* client_version DTLS 1.2 */
	for (int i = 0; i < 32; i++)
		*p++ = (uint8_t)(i * 7 + seq);
	*p++ = 0; /* session id */
	*p++ = (uint8_t)cookie_len;
	if (cookie_len)
		memcpy(p, cookie, cookie_len);
	p += cookie_len;
	*p++ = 0;
	*p++ = 2;
	*p++ = 0xc0;
	*p++ = 0xa8; /* cipher suites */
	*p++ = 1;
	*p++ = 0; /* compression: null */
	size_t body = (size_t)(p - out) - 25;
	uint8_t hdr[25] = { 22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, (uint8_t)(seq >> 8), (uint8_t)seq };
	hdr[11] = (uint8_t)((body + 12) >> 8);
	hdr[12] = (uint8_t)(body + 12);
	hdr[13] = 1; /* client_hello */
	hdr[14] = hdr[22] = (uint8_t)(body >> 16);
	hdr[15] = hdr[23] = (uint8_t)(body >> 8);
	hdr[16] = hdr[24] = (uint8_t)body;
	hdr[17] = (uint8_t)(seq >> 8);
	hdr[18] = (uint8_t)seq; /* message_seq */
	memcpy(out, hdr, sizeof(hdr));
	return (size_t)(p - out);
}

static int bound_socket(const char *ip)
{
	char where[64];
	snprintf(where, sizeof(where), "%s:0", ip);
	return coap_socket(where);
}

/* What each silent source has got so far. */
struct source {
	uint8_t cookie[255];
	uint8_t cookie_len;
	bool verified;  /* a HelloVerifyRequest came */
	bool answered;  /* a ServerHello came: the server holds a handshake for it */
};

/* Reads what the sockets receive for up to ms (or until every source has what `want`
 * says), noting HelloVerifyRequests and ServerHellos. */
static void collect(int *fds, struct source *src, int n, int ms, bool want_hello)
{
	static struct pollfd p[SILENT];
	uint64_t end = mono_ms() + (uint64_t)ms;
	uint8_t reply[1500];
	for (;;) {
		int waiting = 0;
		for (int i = 0; i < n; i++) {
			bool done = want_hello ? src[i].answered : src[i].verified;
			p[i] = (struct pollfd){ .fd = done ? -1 : fds[i], .events = POLLIN };
			waiting += !done;
		}
		uint64_t now = mono_ms();
		if (waiting == 0 || now >= end || poll(p, (nfds_t)n, (int)(end - now)) <= 0)
			return;
		for (int i = 0; i < n; i++) {
			if (!(p[i].revents & POLLIN))
				continue;
			ssize_t len = recv(fds[i], reply, sizeof(reply), MSG_DONTWAIT);
			if (len < 14 || reply[0] != 22)
				continue;
			/* A HelloVerifyRequest: record and handshake headers, version, cookie. */
			if (reply[13] == 3 && len >= 28 && 28 + reply[27] <= len) {
				src[i].cookie_len = reply[27];
				memcpy(src[i].cookie, reply + 28, reply[27]);
				src[i].verified = true;
			} else if (reply[13] == 2) { /* server_hello */
				src[i].answered = true;
			}
		}
	}
}

/* Every socket sends a ClientHello, answers the HelloVerifyRequest with the cookie (once
 * more if no ServerHello came, as a client retransmits), and is left silent. Returns how
 * many got the server's flight: handshakes the server holds for them. */
static int silent_handshakes(struct daemon_proc *d, int *fds, int n)
{
	static struct source src[SILENT];
	uint8_t hello[512];
	memset(src, 0, sizeof(src));
	for (int i = 0; i < n; i++)
		coap_send_raw(fds[i], &d->coaps, hello, client_hello(hello, 0, NULL, 0));
	collect(fds, src, n, 3000, false);
	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < n; i++)
			if (src[i].verified && !src[i].answered)
				coap_send_raw(fds[i], &d->coaps, hello,
					      client_hello(hello, 1, src[i].cookie,
							   src[i].cookie_len));
		collect(fds, src, n, 1500, true);
	}
	int verified = 0, answered = 0;
	for (int i = 0; i < n; i++) {
		verified += src[i].verified;
		answered += src[i].answered;
	}
	print_message("%d of %d sources verified their cookie, %d got a ServerHello\n", verified,
		      n, answered);
	return answered;
}

/* Runs lwm2m-sim over DTLS as identity with key (hex), bound to bind_ip (NULL: any);
 * returns its exit status, its output in out and how long it took in *ms. */
static int sim_dtls(struct daemon_proc *d, const char *identity, const char *key,
		    const char *bind_ip, const char *extra, char *out, size_t cap, uint64_t *ms)
{
	char cmd[1024], addr[ADDR_STR_MAX], bind[64] = "";
	if (bind_ip)
		snprintf(bind, sizeof(bind), "--bind %s:0", bind_ip);
	snprintf(cmd, sizeof(cmd), "%s --server %s --psk-identity %s --psk %s %s %s", sim_bin(),
		 addr_format(&d->coaps, addr), identity, key, bind, extra ? extra : "");
	uint64_t t0 = mono_ms();
	int rc = run_command(cmd, out, cap, 60);
	if (ms)
		*ms = mono_ms() - t0;
	return rc;
}

static void test_silent_handshakes_do_not_keep_devices_out(void **state)
{
	struct daemon_proc *d = *state;
	create_secure_device(d, "sec1");
	create_secure_device(d, "sec2");
	create_secure_device(d, "sec3");
	char cmd[1024], addr[ADDR_STR_MAX], out[8192], path[400];

	/* sec1's session, established before the flood; its Updates go on through it. */
	snprintf(path, sizeof(path), "%s/sec1.out", d->dir);
	snprintf(cmd, sizeof(cmd),
		 "%s --server %s --psk-identity sec1 --psk " KEY_HEX
		 " --updates 6 --interval 1500 > %s 2>&1 &",
		 sim_bin(), addr_format(&d->coaps, addr), path);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(api_wait_status(d, "meter_sec1", "ONLINE", 10000), 0);

	int fds[SILENT], n = 0;
	for (int i = 0; i < SAME_ADDRESS_PORTS; i++)
		fds[n++] = bound_socket("127.0.0.1");
	for (int a = 0; a < OTHER_ADDRESSES; a++) {
		char ip[32];
		snprintf(ip, sizeof(ip), "127.0.1.%d", a + 1);
		for (int k = 0; k < PORTS_PER_OTHER; k++)
			fds[n++] = bound_socket(ip);
	}
	/* The server holds all the handshakes it may: in all, or from 127.0.0.1. */
	int answered = silent_handshakes(d, fds, n);
	assert_true(answered >= 256);
	assert_true(metric(d, "lwm2md_dtls_handshakes_in_progress") >= 200);

	/* A device behind the same address as 300 of them, and one from another address. */
	uint64_t ms;
	int rc = sim_dtls(d, "sec2", KEY_HEX, NULL, NULL, out, sizeof(out), &ms);
	print_message("sec2 (127.0.0.1) registered in %llu ms\n", (unsigned long long)ms);
	if (rc != 0 || !strstr(out, "registered rd/"))
		fail_msg("sec2 after the silent handshakes (%d): %s", rc, out);
	assert_true(ms < PROMPT_MS);
	rc = sim_dtls(d, "sec3", KEY_HEX, "127.0.0.77", NULL, out, sizeof(out), &ms);
	print_message("sec3 (127.0.0.77) registered in %llu ms\n", (unsigned long long)ms);
	if (rc != 0 || !strstr(out, "registered rd/"))
		fail_msg("sec3 after the silent handshakes (%d): %s", rc, out);
	assert_true(ms < PROMPT_MS);
	for (int i = 0; i < n; i++)
		close(fds[i]);

	/* The established session went on: six Updates over it, no new handshake. */
	const char *sim_out = "";
	for (int i = 0; i < 200; i++) {
		sim_out = sim_output_of(path);
		int updates = 0;
		for (const char *p = strstr(sim_out, "updated 2.04"); p;
		     p = strstr(p + 1, "updated 2.04"))
			updates++;
		if (updates == 6 || strstr(sim_out, "failed"))
			break;
		sleep_ms(100);
	}
	if (strstr(sim_out, "failed") || !strstr(sim_out, "updated 2.04\nupdated 2.04\nupdated "
							   "2.04\nupdated 2.04\nupdated 2.04\n"
							   "updated 2.04"))
		fail_msg("sec1's session during the flood: %s", sim_out);
	assert_int_equal(metric(d, "lwm2md_dtls_handshakes_total"), 3);
	assert_true(metric(d, "lwm2md_dtls_wakeups_total") >= 1);
	assert_true(metric(d, "lwm2md_dtls_handshake_failures_total{reason=\"evicted\"}") > 0);
	assert_true(metric(d, "lwm2md_dtls_handshakes_in_progress") <= 256);
}

/* ---- Wrong keys ---- */

static void wrong_keys(struct daemon_proc *d, const char *identity, int times)
{
	char out[4096];
	for (int i = 0; i < times; i++) {
		int rc = sim_dtls(d, identity, WRONG_KEY_HEX, NULL, NULL, out, sizeof(out), NULL);
		if (rc == 0 || !strstr(out, "failed handshake"))
			fail_msg("a wrong key was taken (%d): %s", rc, out);
	}
}

static void test_wrong_keys_make_the_identity_back_off(void **state)
{
	struct daemon_proc *d = *state;
	char out[4096];
	create_secure_device(d, "sec1");
	create_secure_device(d, "sec2");
	wrong_keys(d, "sec1", 5);
	/* Backing off: even the right key is refused. */
	int rc = sim_dtls(d, "sec1", KEY_HEX, NULL, NULL, out, sizeof(out), NULL);
	if (rc == 0 || !strstr(out, "failed handshake"))
		fail_msg("the right key during the backoff (%d): %s", rc, out);
	/* Another identity is not affected. */
	rc = sim_dtls(d, "sec2", KEY_HEX, NULL, NULL, out, sizeof(out), NULL);
	if (rc != 0 || !strstr(out, "registered rd/"))
		fail_msg("another identity (%d): %s", rc, out);
	assert_int_equal(metric(d, "lwm2md_dtls_handshake_failures_total{reason=\"bad_key\"}"), 5);
	assert_int_equal(metric(d, "lwm2md_dtls_handshake_failures_total{reason=\"throttled\"}"),
			 1);
	assert_int_equal(metric(d, "lwm2md_dtls_psk_lockouts_total"), 1);
	assert_int_equal(metric(d, "lwm2md_dtls_handshakes_total"), 1);
}

static void test_backoff_ends_and_the_right_key_works(void **state)
{
	struct daemon_proc *d = *state;
	char out[4096];
	create_secure_device(d, "sec1");
	wrong_keys(d, "sec1", 3);
	uint64_t locked_at = mono_ms();
	int rc = sim_dtls(d, "sec1", KEY_HEX, NULL, NULL, out, sizeof(out), NULL);
	if (rc == 0 || !strstr(out, "failed handshake"))
		fail_msg("the right key during the backoff (%d): %s", rc, out);
	/* The backoff (3 s) ends. */
	while (mono_ms() - locked_at < 3500)
		sleep_ms(100);
	rc = sim_dtls(d, "sec1", KEY_HEX, NULL, NULL, out, sizeof(out), NULL);
	if (rc != 0 || !strstr(out, "registered rd/"))
		fail_msg("the right key after the backoff (%d): %s", rc, out);
	assert_int_equal(api_wait_status(d, "meter_sec1", "ONLINE", 3000), 0);
	assert_int_equal(metric(d, "lwm2md_dtls_psk_lockouts_total"), 1);
	/* Success forgave the identity. */
	assert_int_equal(metric(d, "lwm2md_dtls_psk_identities_tracked"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_silent_handshakes_do_not_keep_devices_out,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_keys_make_the_identity_back_off, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_backoff_ends_and_the_right_key_works,
						setup_short_backoff, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
