/*
 * Integration tests of CoAP over DTLS 1.2 with PSK: the real daemon, and independent
 * peers — Debian's coap-client-gnutls and coap-client-openssl (libcoap3-bin), and
 * `openssl s_client -dtls1_2`, which forces each cipher suite and carries our own CoAP
 * bytes. libcoap's -k takes the key as ASCII, so devices get the hex of an ASCII key.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

#define KEY_ASCII "secretkey1"
#define KEY_HEX "7365637265746b657931"

static const char links[] = "</1/0>,</3/0>";

static int setup(void **state)
{
	struct daemon_proc *d = calloc(1, sizeof(*d));
	daemon_start(d, NULL);
	api_create_product(d, "meter");
	*state = d;
	return 0;
}

static int setup_fast_idle(void **state)
{
	static const char *const args[] = { "--dtls-idle-seconds", "1", NULL };
	struct daemon_proc *d = calloc(1, sizeof(*d));
	daemon_start(d, args);
	api_create_product(d, "meter");
	*state = d;
	return 0;
}

static int teardown(void **state)
{
	struct daemon_proc *d = *state;
	daemon_cleanup(d);
	free(d);
	return 0;
}

/* A device with the secret KEY_HEX. */
static void create_secure_device(struct daemon_proc *d, const char *node_id, bool secure)
{
	char body[512], resp[1024];
	snprintf(body, sizeof(body),
		 "{\"node_id\":\"%s\",\"product_id\":\"meter\",\"auth_info\":"
		 "{\"secure_access\":%s,\"secret\":\"" KEY_HEX "\"}}",
		 node_id, secure ? "true" : "false");
	int status = http_call(d, "POST", "/v5/iot/p1/devices", body, resp, sizeof(resp));
	if (status != 201)
		fail_msg("device create: %d %s", status, resp);
}

/* A /metrics counter's value, or -1. */
static long metric(struct daemon_proc *d, const char *name)
{
	static char resp[32768];
	if (http_call_auth(d, "GET", "/metrics", NULL, NULL, resp, sizeof(resp)) != 200)
		return -1;
	size_t n = strlen(name);
	for (char *p = strstr(resp, name); p; p = strstr(p + 1, name)) {
		if ((p == resp || p[-1] == '\n') && (p[n] == ' '))
			return strtol(p + n + 1, NULL, 10);
	}
	return -1;
}

/* Runs libcoap's client against the daemon's DTLS port; returns its output. */
static int libcoap(struct daemon_proc *d, const char *flavour, const char *identity,
		   const char *key, const char *method, const char *path_query, char *out,
		   size_t cap)
{
	char cmd[1024];
	snprintf(cmd, sizeof(cmd),
		 "coap-client-%s -v 6 -B 8 -m %s -t 40 -e '%s' -u '%s' -k '%s' "
		 "'coaps://127.0.0.1:%u/%s'",
		 flavour, method, links, identity, key, d->coaps.port, path_query);
	return run_command(cmd, out, cap, 30);
}

static void test_libcoap_peers_register_update_deregister(void **state)
{
	struct daemon_proc *d = *state;
	const char *flavours[] = { "gnutls", "openssl" };
	char out[8192], v[64];
	for (int i = 0; i < 2; i++) {
		char node[32], query[256];
		snprintf(node, sizeof(node), "sec%s", flavours[i]);
		create_secure_device(d, node, true);
		snprintf(query, sizeof(query), "rd?ep=%s&lt=300&lwm2m=1.1&b=U", node);
		libcoap(d, flavours[i], node, KEY_ASCII, "post", query, out, sizeof(out));
		if (!strstr(out, "c:2.01"))
			fail_msg("%s register: %s", flavours[i], out);
		char device[64];
		snprintf(device, sizeof(device), "meter_%s", node);
		assert_int_equal(api_wait_status(d, device, "ONLINE", 3000), 0);
		assert_int_equal(api_device_field(d, device, "transport", v, sizeof(v)), 0);
		assert_string_equal(v, "dtls");
		assert_int_equal(api_device_field(d, device, "registration_id", v, sizeof(v)), 0);

		/* Update and De-register, each over a new session of the same identity. */
		snprintf(query, sizeof(query), "rd/%s?lt=600", v);
		libcoap(d, flavours[i], node, KEY_ASCII, "post", query, out, sizeof(out));
		if (!strstr(out, "c:2.04"))
			fail_msg("%s update: %s", flavours[i], out);
		snprintf(query, sizeof(query), "rd/%s", v);
		libcoap(d, flavours[i], node, KEY_ASCII, "delete", query, out, sizeof(out));
		if (!strstr(out, "c:2.02"))
			fail_msg("%s de-register: %s", flavours[i], out);
		assert_int_equal(api_wait_status(d, device, "OFFLINE", 3000), 0);
	}
	/* LwM2M 1.1: a Register without ep takes the endpoint from the PSK identity. */
	libcoap(d, "gnutls", "secgnutls", KEY_ASCII, "post", "rd?lt=300", out, sizeof(out));
	if (!strstr(out, "c:2.01"))
		fail_msg("register without ep: %s", out);
	assert_int_equal(api_wait_status(d, "meter_secgnutls", "ONLINE", 3000), 0);
	assert_true(metric(d, "lwm2md_dtls_handshakes_total") >= 7);
}

static void test_refusals(void **state)
{
	struct daemon_proc *d = *state;
	char out[8192], v[64];
	create_secure_device(d, "sec1", true);
	create_secure_device(d, "sec2", true);
	create_secure_device(d, "plain1", false);

	/* Wrong key. */
	libcoap(d, "gnutls", "sec1", "wrongkey99", "post", "rd?ep=sec1&lt=300", out, sizeof(out));
	assert_null(strstr(out, "c:2.01"));
	/* Unknown identity. */
	libcoap(d, "gnutls", "nobody", KEY_ASCII, "post", "rd?ep=nobody&lt=300", out,
		sizeof(out));
	assert_null(strstr(out, "c:2.01"));
	/* A plain device on the DTLS port: no key for it. */
	libcoap(d, "gnutls", "plain1", KEY_ASCII, "post", "rd?ep=plain1&lt=300", out,
		sizeof(out));
	assert_null(strstr(out, "c:2.01"));
	/* Identity sec1 registering as sec2: the handshake works, the Register is 4.03. */
	libcoap(d, "gnutls", "sec1", KEY_ASCII, "post", "rd?ep=sec2&lt=300", out, sizeof(out));
	if (!strstr(out, "c:4.03"))
		fail_msg("mismatch: %s", out);
	/* A secure device over plain CoAP. */
	int fd = coap_socket("127.0.0.1:0");
	char id[32];
	assert_int_equal(coap_register(fd, &d->coap, "sec1", "300", links, id),
			 COAP_CODE_FORBIDDEN);
	close(fd);

	for (int i = 0; i < 3; i++) {
		const char *dev[] = { "meter_sec1", "meter_sec2", "meter_plain1" };
		assert_int_equal(api_device_field(d, dev[i], "status", v, sizeof(v)), 0);
		assert_string_equal(v, "INACTIVE");
	}
	assert_int_equal(metric(d, "lwm2md_dtls_handshake_failures_total{reason=\"bad_key\"}"), 1);
	assert_int_equal(
		metric(d, "lwm2md_dtls_handshake_failures_total{reason=\"unknown_identity\"}"), 2);
	assert_int_equal(metric(d, "lwm2md_registrations_active"), 0);
}

/* Writes a CoAP Register (CON, message id mid) for ep to path. */
static void write_register(const char *path, uint16_t mid, const char *ep)
{
	struct coap_msg m;
	uint8_t buf[512];
	coap_build_register(&m, mid, ep, "300", links);
	int n = coap_msg_encode(&m, buf, sizeof(buf));
	assert_true(n > 0);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
}

/* Counts the 2.01 ACKs to message id mid in s_client's output. */
static int created_acks(const uint8_t *data, size_t len, uint16_t mid)
{
	int count = 0;
	for (size_t i = 0; i + 4 <= len; i++) {
		if ((data[i] & 0xf0) == 0x60 && data[i + 1] == COAP_CODE_CREATED &&
		    data[i + 2] == (mid >> 8) && data[i + 3] == (mid & 0xff))
			count++;
	}
	return count;
}

static size_t read_file(const char *path, uint8_t *buf, size_t cap)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return 0;
	size_t n = fread(buf, 1, cap, f);
	fclose(f);
	return n;
}

/* Starts `openssl s_client` in the background: its stdin is the shell snippet feed, its
 * stdout (the decrypted records) goes to dir/out, stderr to dir/err. */
static pid_t s_client_start(struct daemon_proc *d, const char *cipher, const char *extra,
			    const char *feed)
{
	char cmd[2048];
	snprintf(cmd, sizeof(cmd),
		 "(%s) | openssl s_client -dtls1_2 -connect 127.0.0.1:%u -psk_identity sec1 "
		 "-psk " KEY_HEX " -cipher %s %s -quiet -no_ign_eof > %s/out 2> %s/err",
		 feed, d->coaps.port, cipher, extra, d->dir, d->dir);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	return pid;
}

static void s_client_wait(pid_t pid)
{
	int status;
	for (int i = 0; i < 300; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return;
		sleep_ms(100);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	fail_msg("s_client did not finish");
}

static void test_s_client_each_suite(void **state)
{
	struct daemon_proc *d = *state;
	const char *ciphers[] = { "PSK-AES128-CCM8", "PSK-AES128-CBC-SHA256" };
	const char *names[] = { "TLS-PSK-WITH-AES-128-CCM-8", "TLS-PSK-WITH-AES-128-CBC-SHA256" };
	char path[400], feed[512];
	uint8_t out[4096];
	create_secure_device(d, "sec1", true);
	snprintf(path, sizeof(path), "%s/reg.bin", d->dir);
	write_register(path, 0x1234, "sec1");
	for (int i = 0; i < 2; i++) {
		snprintf(feed, sizeof(feed), "cat %s; sleep 1", path);
		s_client_wait(s_client_start(d, ciphers[i], "", feed));
		snprintf(path, sizeof(path), "%s/out", d->dir);
		size_t n = read_file(path, out, sizeof(out));
		if (created_acks(out, n, 0x1234) != 1)
			fail_msg("%s: no 2.01 in %zu bytes", ciphers[i], n);
		snprintf(path, sizeof(path), "%s/reg.bin", d->dir);
		(void)names;
	}
	assert_int_equal(metric(d, "lwm2md_dtls_handshakes_total"), 2);
}

/* 10,000 ClientHellos from spoofable addresses cost nothing but a HelloVerifyRequest. */
static void test_spoofed_client_hellos(void **state)
{
	struct daemon_proc *d = *state;
	/* A minimal DTLS 1.2 ClientHello without a cookie, offering CCM_8. */
	uint8_t hello[] = {
		22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* record header, length below */
		1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,           /* handshake header */
		0xfe, 0xfd,                                   /* client_version */
		1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, /* random */
		1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
		0,          /* session id */
		0,          /* cookie */
		0, 2, 0xc0, 0xa8, /* cipher suites */
		1, 0,       /* compression: null */
	};
	size_t body = sizeof(hello) - 25;
	hello[11] = (uint8_t)((body + 12) >> 8);
	hello[12] = (uint8_t)(body + 12);
	hello[14] = hello[22] = (uint8_t)(body >> 16); /* length and fragment length */
	hello[15] = hello[23] = (uint8_t)(body >> 8);
	hello[16] = hello[24] = (uint8_t)body;

	char status[256], path[64];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)d->pid);
	long rss_before = 0, rss_after = 0;
	create_secure_device(d, "sec1", true);
	char out[8192];
	libcoap(d, "gnutls", "sec1", KEY_ASCII, "post", "rd?ep=sec1&lt=300", out, sizeof(out));
	FILE *f = fopen(path, "r");
	while (f && fgets(status, sizeof(status), f))
		if (strncmp(status, "VmRSS:", 6) == 0)
			rss_before = strtol(status + 6, NULL, 10);
	if (f)
		fclose(f);

	int fds[50];
	for (int i = 0; i < 50; i++)
		fds[i] = coap_socket("127.0.0.1:0");
	uint8_t reply[512];
	long answered = 0;
	for (int i = 0; i < 10000; i++) {
		hello[13 + 12 + 2] = (uint8_t)i; /* a different random each time */
		coap_send_raw(fds[i % 50], &d->coaps, hello, sizeof(hello));
		if (i % 50 == 49) {
			/* Drain the HelloVerifyRequests: never bigger than the hello. */
			for (int k = 0; k < 50; k++) {
				ssize_t n = coap_recv_raw(fds[k], reply, sizeof(reply), 200);
				if (n > 0) {
					answered++;
					assert_true((size_t)n <= sizeof(hello));
					assert_int_equal(reply[0], 22);   /* handshake */
					assert_int_equal(reply[13], 3); /* hello_verify_request */
				}
			}
			if (answered == 0)
				fail_msg("no HelloVerifyRequest to the first hellos");
		}
	}
	for (int i = 0; i < 50; i++)
		close(fds[i]);
	assert_true(answered >= 9000);
	assert_true(metric(d, "lwm2md_dtls_hello_verify_sent_total") >= 9000);
	assert_int_equal(metric(d, "lwm2md_dtls_handshakes_in_progress"), 0);
	f = fopen(path, "r");
	while (f && fgets(status, sizeof(status), f))
		if (strncmp(status, "VmRSS:", 6) == 0)
			rss_after = strtol(status + 6, NULL, 10);
	if (f)
		fclose(f);
	/* No per-hello state: a session is ~35 KB, so 10,000 would be 350 MB, and even 1 KB a
	 * hello would be 10 MB. The allowance covers allocator noise (under ASan, its
	 * quarantine of freed blocks: about 2.5 MB here). */
	print_message("RSS %ld kB before the hellos, %ld kB after\n", rss_before, rss_after);
	if (rss_after - rss_before > 8192)
		fail_msg("RSS grew from %ld kB to %ld kB", rss_before, rss_after);

	/* A real device still gets in. */
	libcoap(d, "gnutls", "sec1", KEY_ASCII, "post", "rd?ep=sec1&lt=300", out, sizeof(out));
	if (!strstr(out, "c:2.01"))
		fail_msg("after the flood: %s", out);
}

/* One s_client session: Register, (something happens), Register again over the same
 * session. Returns the 2.01s to each in *first and *second. */
static void two_registers_one_session(struct daemon_proc *d, int gap_ms,
				      void (*between)(struct daemon_proc *), int *first,
				      int *second)
{
	char a[400], b[400], feed[1024];
	uint8_t out[4096];
	snprintf(a, sizeof(a), "%s/reg1.bin", d->dir);
	snprintf(b, sizeof(b), "%s/reg2.bin", d->dir);
	write_register(a, 0x1111, "sec1");
	write_register(b, 0x2222, "sec1");
	snprintf(feed, sizeof(feed), "cat %s; sleep %.1f; cat %s; sleep 1", a, gap_ms / 1000.0, b);
	pid_t pid = s_client_start(d, "PSK-AES128-CCM8", "", feed);
	sleep_ms(gap_ms / 3);
	if (between)
		between(d);
	s_client_wait(pid);
	snprintf(a, sizeof(a), "%s/out", d->dir);
	size_t n = read_file(a, out, sizeof(out));
	*first = created_acks(out, n, 0x1111);
	*second = created_acks(out, n, 0x2222);
}

static void restart(struct daemon_proc *d)
{
	daemon_stop(d);
	daemon_restart(d, NULL);
}

static void test_restart_keeps_session(void **state)
{
	struct daemon_proc *d = *state;
	int first, second;
	create_secure_device(d, "sec1", true);
	two_registers_one_session(d, 4000, restart, &first, &second);
	assert_int_equal(first, 1);
	assert_int_equal(second, 1);
	/* The restarted daemon did no handshake: it restored the saved session. */
	assert_int_equal(metric(d, "lwm2md_dtls_handshakes_total"), 0);
	assert_int_equal(metric(d, "lwm2md_dtls_wakeups_total"), 1);
}

static void test_idle_session_hibernates_and_wakes(void **state)
{
	struct daemon_proc *d = *state;
	int first, second;
	create_secure_device(d, "sec1", true);
	two_registers_one_session(d, 3000, NULL, &first, &second);
	assert_int_equal(first, 1);
	assert_int_equal(second, 1);
	assert_true(metric(d, "lwm2md_dtls_hibernations_total") >= 1);
	assert_true(metric(d, "lwm2md_dtls_wakeups_total") >= 1);
	assert_int_equal(metric(d, "lwm2md_dtls_handshakes_total"), 1);
}

static void reset_secret(struct daemon_proc *d)
{
	char resp[1024];
	assert_int_equal(http_call(d, "POST",
				   "/v5/iot/p1/devices/meter_sec1/action?action_id=resetSecret",
				   "{}", resp, sizeof(resp)),
			 200);
}

static void test_reset_secret_ends_session(void **state)
{
	struct daemon_proc *d = *state;
	int first, second;
	create_secure_device(d, "sec1", true);
	two_registers_one_session(d, 1500, reset_secret, &first, &second);
	assert_int_equal(first, 1);
	assert_int_equal(second, 0);
	assert_int_equal(metric(d, "lwm2md_dtls_sessions_live"), 0);
	assert_int_equal(api_wait_status(d, "meter_sec1", "OFFLINE", 3000), 0);
}

static void test_session_resumption(void **state)
{
	struct daemon_proc *d = *state;
	char feed[512], sess[400], extra[512], path[400], err[4096];
	create_secure_device(d, "sec1", true);
	snprintf(path, sizeof(path), "%s/reg.bin", d->dir);
	write_register(path, 0x1234, "sec1");
	snprintf(sess, sizeof(sess), "%s/session.pem", d->dir);
	snprintf(feed, sizeof(feed), "cat %s; sleep 1", path);
	snprintf(extra, sizeof(extra), "-sess_out %s", sess);
	s_client_wait(s_client_start(d, "PSK-AES128-CCM8", extra, feed));
	snprintf(extra, sizeof(extra), "-sess_in %s", sess);
	s_client_wait(s_client_start(d, "PSK-AES128-CCM8", extra, feed));
	uint8_t out[4096];
	snprintf(path, sizeof(path), "%s/out", d->dir);
	size_t n = read_file(path, out, sizeof(out));
	assert_int_equal(created_acks(out, n, 0x1234), 1);
	snprintf(path, sizeof(path), "%s/err", d->dir);
	n = read_file(path, (uint8_t *)err, sizeof(err) - 1);
	err[n] = '\0';
	assert_int_equal(metric(d, "lwm2md_dtls_handshakes_total"), 1);
	if (metric(d, "lwm2md_dtls_resumptions_total") != 1)
		fail_msg("not resumed; s_client said: %s", err);
}

/* The project's own client (lwm2m-sim on mbedTLS) forcing each suite. */
static void test_own_client_each_suite(void **state)
{
	struct daemon_proc *d = *state;
	char cmd[1024], out[4096], addr[ADDR_STR_MAX];
	create_secure_device(d, "sec1", true);
	addr_format(&d->coaps, addr);
	const char *suites[] = { "ccm8", "cbc" };
	const char *names[] = { "handshake TLS-PSK-WITH-AES-128-CCM-8",
				"handshake TLS-PSK-WITH-AES-128-CBC-SHA256" };
	for (int i = 0; i < 2; i++) {
		snprintf(cmd, sizeof(cmd),
			 "%s --server %s --psk-identity sec1 --psk " KEY_HEX " --ciphersuite %s "
			 "%s --updates 1 --interval 100 --deregister",
			 sim_bin(), addr, suites[i], i == 1 ? "--no-ep" : "");
		int rc = run_command(cmd, out, sizeof(out), 60);
		if (rc != 0)
			fail_msg("lwm2m-sim %s failed (%d): %s", suites[i], rc, out);
		assert_non_null(strstr(out, names[i]));
		assert_non_null(strstr(out, "registered rd/"));
		assert_non_null(strstr(out, "updated 2.04"));
		assert_non_null(strstr(out, "deregistered 2.02"));
	}
	/* A wrong key fails the handshake; so does a plain-CoAP port. */
	snprintf(cmd, sizeof(cmd),
		 "%s --server %s --psk-identity sec1 --psk 00112233 --ciphersuite ccm8", sim_bin(),
		 addr);
	assert_int_equal(run_command(cmd, out, sizeof(out), 60), 1);
	assert_non_null(strstr(out, "failed handshake"));
	assert_int_equal(metric(d, "lwm2md_dtls_handshakes_total"), 2);
}

/* Device management over the device's DTLS session: a Read through the API reaches the
 * simulator inside its session and its answer comes back decoded. */
static void test_read_over_dtls(void **state)
{
	struct daemon_proc *d = *state;
	char cmd[1024], addr[ADDR_STR_MAX], resp[4096], path[128];
	create_secure_device(d, "sec1", true);
	addr_format(&d->coaps, addr);
	snprintf(cmd, sizeof(cmd),
		 "%s --server %s --psk-identity sec1 --psk " KEY_HEX " --serve 8 > %s/sim.out 2>&1 &",
		 sim_bin(), addr, d->dir);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(api_wait_status(d, "meter_sec1", "ONLINE", 5000), 0);
	snprintf(path, sizeof(path), "/v5/iot/p1/devices/meter_sec1/lwm2m/3/0/9?timeout=5");
	assert_int_equal(http_call(d, "GET", path, NULL, resp, sizeof(resp)), 200);
	if (!strstr(resp, "{\"path\":\"/3/0/9\",\"type\":\"integer\",\"value\":87}"))
		fail_msg("read over DTLS: %s", resp);
	snprintf(path, sizeof(path), "/v5/iot/p1/devices/meter_sec1/lwm2m/3/0/0?timeout=5");
	assert_int_equal(http_call(d, "GET", path, NULL, resp, sizeof(resp)), 200);
	assert_non_null(strstr(resp, "\"value\":\"lwm2md simulator\""));
	assert_true(metric(d, "lwm2md_dm_answers_total") >= 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_libcoap_peers_register_update_deregister,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_s_client_each_suite, setup, teardown),
		cmocka_unit_test_setup_teardown(test_spoofed_client_hellos, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart_keeps_session, setup, teardown),
		cmocka_unit_test_setup_teardown(test_idle_session_hibernates_and_wakes,
						setup_fast_idle, teardown),
		cmocka_unit_test_setup_teardown(test_reset_secret_ends_session, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_resumption, setup, teardown),
		cmocka_unit_test_setup_teardown(test_own_client_each_suite, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_over_dtls, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
