/*
 * Integration tests of the simulator's client-initiated bootstrap (lwm2m-sim --bootstrap,
 * LwM2M 1.1 Core §6.1): the test plays the Bootstrap-Server on a raw UDP socket —
 * POST /bs answered 2.04, Discover, Delete /0 and /1, Write of the management server's
 * Security and Server instances in TLV, Finish — and the real daemon is the management
 * server the simulator must then register to (plain CoAP, or DTLS with the PSK the
 * bootstrap wrote), its device becoming ONLINE through the API. A DTLS bootstrap is
 * checked as far as the daemon's management port allows: the handshake and a refused
 * POST /bs.
 */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "content/content.h"
#include "harness.h"

#define KEY_HEX "62732d7365637265742d31"
static const uint8_t key_bytes[] = "bs-secret-1"; /* KEY_HEX */

struct fixture {
	struct daemon_proc d;
	int bs_fd;        /* the test's Bootstrap-Server */
	struct addr bs;   /* its address */
	struct addr sim;  /* the simulator's, from its POST /bs */
	pid_t pid;
	char out[320];
	char node[16];
	char dev[32];
};

static int setup_with(void **state, bool secure)
{
	struct fixture *f = calloc(1, sizeof(*f));
	daemon_start(&f->d, NULL);
	api_create_product(&f->d, "meter");
	snprintf(f->node, sizeof(f->node), "%s", secure ? "bssec" : "bsudp");
	snprintf(f->dev, sizeof(f->dev), "meter_%s", f->node);
	char body[256], resp[1024];
	snprintf(body, sizeof(body),
		 "{\"node_id\":\"%s\",\"product_id\":\"meter\",\"auth_info\":"
		 "{\"secure_access\":%s,\"secret\":\"" KEY_HEX "\"}}",
		 f->node, secure ? "true" : "false");
	int status = http_call(&f->d, "POST", "/v5/iot/p1/devices", body, resp, sizeof(resp));
	if (status != 201)
		fail_msg("device create: %d %s", status, resp);
	f->bs_fd = coap_socket("127.0.0.1:0");
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	assert_int_equal(getsockname(f->bs_fd, (struct sockaddr *)&ss, &sl), 0);
	assert_int_equal(addr_from_sockaddr(&f->bs, (struct sockaddr *)&ss), 0);
	snprintf(f->out, sizeof(f->out), "%s/sim.out", f->d.dir);
	*state = f;
	return 0;
}

static int setup_udp(void **state)
{
	return setup_with(state, false);
}

static int setup_dtls(void **state)
{
	return setup_with(state, true);
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	if (f->pid > 0) {
		kill(f->pid, SIGTERM);
		waitpid(f->pid, NULL, 0);
	}
	close(f->bs_fd);
	daemon_cleanup(&f->d);
	free(f);
	return 0;
}

static int sim_wait(struct fixture *f, const char *needle, int timeout_ms)
{
	for (int waited = 0; waited <= timeout_ms; waited += 20) {
		if (strstr(sim_output_of(f->out), needle))
			return 0;
		sleep_ms(20);
	}
	return -1;
}

/* Starts lwm2m-sim --bootstrap against the test's Bootstrap-Server. */
static void sim_start(struct fixture *f, const char *extra)
{
	char bs[ADDR_STR_MAX], cmd[1024];
	addr_format(&f->bs, bs);
	snprintf(cmd, sizeof(cmd),
		 "exec %s --bootstrap coap://%s --ep %s --bs-timeout-s 10 %s > %s 2>&1",
		 sim_bin(), bs, f->node, extra, f->out);
	f->pid = fork();
	assert_true(f->pid >= 0);
	if (f->pid == 0) {
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
}

/* The simulator's exit status, waiting up to timeout_ms; -1 when it is still running. */
static int sim_exit(struct fixture *f, int timeout_ms)
{
	for (int waited = 0; waited <= timeout_ms; waited += 20) {
		int st;
		if (waitpid(f->pid, &st, WNOHANG) == f->pid) {
			f->pid = 0;
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
		}
		sleep_ms(20);
	}
	return -1;
}

/* The POST /bs?ep=NODE[&pct=PCT]; answered 2.04. The sender becomes f->sim. */
static void accept_request(struct fixture *f, const char *pct)
{
	uint8_t buf[1500];
	struct pollfd p = { .fd = f->bs_fd, .events = POLLIN };
	if (poll(&p, 1, 5000) != 1)
		fail_msg("no POST /bs: %s", sim_output_of(f->out));
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	ssize_t n = recvfrom(f->bs_fd, buf, sizeof(buf), 0, (struct sockaddr *)&ss, &sl);
	assert_true(n > 0);
	assert_int_equal(addr_from_sockaddr(&f->sim, (struct sockaddr *)&ss), 0);
	struct coap_msg m;
	assert_int_equal(coap_msg_parse(&m, buf, (size_t)n), 0);
	assert_int_equal(m.type, COAP_TYPE_CON);
	assert_int_equal(m.code, COAP_CODE_POST);
	coap_assert_path(&m, "/bs");
	char query[96] = "", want[96];
	for (size_t i = 0; i < m.option_count; i++) {
		const struct coap_option *o = &m.options[i];
		if (o->number == COAP_OPTION_URI_QUERY)
			snprintf(query + strlen(query), sizeof(query) - strlen(query), "&%.*s",
				 (int)o->len, (const char *)o->value);
	}
	snprintf(want, sizeof(want), "&ep=%s%s%s", f->node, pct ? "&pct=" : "", pct ? pct : "");
	assert_string_equal(query, want);
	coap_answer(f->bs_fd, &f->sim, &m, COAP_CODE_CHANGED, -1, 0, NULL, NULL, 0);
}

/* One request of the Bootstrap-Server to the simulator; returns the answer's code, its
 * payload (NUL-terminated) in text when not NULL. */
static uint8_t bs_request(struct fixture *f, uint8_t code, const char *path, int ct,
			  const uint8_t *payload, size_t len, char *text, size_t cap)
{
	static uint16_t mid = 0x4000;
	struct coap_msg m, r;
	uint8_t buf[1500];
	assert_int_equal(coap_msg_init(&m, COAP_TYPE_CON, code, mid++, (const uint8_t *)"t", 1), 0);
	coap_msg_add_path(&m, COAP_OPTION_URI_PATH, path);
	if (code == COAP_CODE_GET)
		coap_msg_add_uint_option(&m, COAP_OPTION_ACCEPT, CONTENT_LINK);
	if (ct >= 0) {
		coap_msg_add_uint_option(&m, COAP_OPTION_CONTENT_FORMAT, (uint32_t)ct);
		coap_msg_set_payload(&m, payload, len);
	}
	if (coap_exchange(f->bs_fd, &f->sim, &m, &r, buf, sizeof(buf)) != 0)
		fail_msg("%s: no answer: %s", path, sim_output_of(f->out));
	if (text)
		snprintf(text, cap, "%.*s", (int)r.payload_len, (const char *)r.payload);
	return r.code;
}

static void add_int(struct lwm2m_values *v, int obj, int inst, int res, uint8_t type,
		    int64_t i)
{
	struct lwm2m_value x = { .path = { .len = 3, .ids = { (uint16_t)obj, (uint16_t)inst,
							      (uint16_t)res } },
				 .type = type };
	if (type == LWM2M_TYPE_BOOLEAN)
		x.v.b = i != 0;
	else
		x.v.i = i;
	assert_int_equal(lwm2m_values_add(v, &x), 0);
}

static void add_bytes(struct lwm2m_values *v, int obj, int inst, int res, uint8_t type,
		      const void *data, size_t len)
{
	struct lwm2m_value x = { .path = { .len = 3, .ids = { (uint16_t)obj, (uint16_t)inst,
							      (uint16_t)res } },
				 .type = type };
	x.v.bytes.data = (uint8_t *)data;
	x.v.bytes.len = len;
	assert_int_equal(lwm2m_values_add(v, &x), 0);
}

/* Bootstrap-Write of the values (under /obj/inst) in format ct; expects 2.04. */
static void write_values(struct fixture *f, int obj, int inst, int ct, struct lwm2m_values *v)
{
	uint8_t body[512];
	char path[16];
	struct lwm2m_path base = { .len = 2, .ids = { (uint16_t)obj, (uint16_t)inst } };
	int n = content_encode((uint16_t)ct, &base, v, NULL, NULL, body, sizeof(body));
	assert_true(n > 0);
	snprintf(path, sizeof(path), "/%d/%d", obj, inst);
	assert_int_equal(bs_request(f, COAP_CODE_PUT, path, ct, body, (size_t)n, NULL, 0),
			 COAP_CODE_CHANGED);
	lwm2m_values_free(v);
}

/* Discover, Delete /0 and /1, Write /0/1 (the daemon's URI; PSK with the device's secret
 * when psk) in TLV and /1/0 (in SenML CBOR when psk, the format the device asked for);
 * Finish is the caller's. */
static void provision(struct fixture *f, bool psk)
{
	char links[1024], bs[ADDR_STR_MAX], want[224], mgmt[ADDR_STR_MAX], uri[160];
	addr_format(&f->bs, bs);
	assert_int_equal(bs_request(f, COAP_CODE_GET, "/", -1, NULL, 0, links, sizeof(links)),
			 COAP_CODE_CONTENT);
	snprintf(want, sizeof(want), "</0/0>;uri=\"coap://%s\"", bs);
	assert_in(links, "lwm2m=\"1.1\"");
	assert_in(links, want);
	assert_in(links, "</3/0>");
	assert_int_equal(bs_request(f, COAP_CODE_DELETE, "/0", -1, NULL, 0, NULL, 0),
			 COAP_CODE_DELETED);
	assert_int_equal(bs_request(f, COAP_CODE_DELETE, "/1", -1, NULL, 0, NULL, 0),
			 COAP_CODE_DELETED);
	/* The Bootstrap-Server's own account survives the Delete of /0, and cannot be named. */
	assert_int_equal(bs_request(f, COAP_CODE_DELETE, "/0/0", -1, NULL, 0, NULL, 0),
			 COAP_CODE_BAD_REQUEST);
	assert_int_equal(bs_request(f, COAP_CODE_GET, "/0", -1, NULL, 0, links, sizeof(links)),
			 COAP_CODE_CONTENT);
	assert_in(links, want);
	addr_format(psk ? &f->d.coaps : &f->d.coap, mgmt);
	snprintf(uri, sizeof(uri), "%s://%s", psk ? "coaps" : "coap", mgmt);
	struct lwm2m_values v;
	lwm2m_values_init(&v);
	add_bytes(&v, 0, 1, 0, LWM2M_TYPE_STRING, uri, strlen(uri));
	add_int(&v, 0, 1, 1, LWM2M_TYPE_BOOLEAN, 0);
	add_int(&v, 0, 1, 2, LWM2M_TYPE_INTEGER, psk ? 0 : 3);
	if (psk) {
		add_bytes(&v, 0, 1, 3, LWM2M_TYPE_OPAQUE, f->node, strlen(f->node));
		add_bytes(&v, 0, 1, 5, LWM2M_TYPE_OPAQUE, key_bytes, sizeof(key_bytes) - 1);
	}
	add_int(&v, 0, 1, 10, LWM2M_TYPE_INTEGER, 1);
	write_values(f, 0, 1, CONTENT_TLV, &v);
	lwm2m_values_init(&v);
	add_int(&v, 1, 0, 0, LWM2M_TYPE_INTEGER, 1);
	add_int(&v, 1, 0, 1, LWM2M_TYPE_INTEGER, 300);
	add_bytes(&v, 1, 0, 7, LWM2M_TYPE_STRING, "U", 1);
	write_values(f, 1, 0, psk ? CONTENT_SENML_CBOR : CONTENT_TLV, &v);
	/* A malformed payload is refused. */
	static const uint8_t junk[] = { 0xC8, 0x00, 0x10, 0x01 };
	assert_int_equal(bs_request(f, COAP_CODE_PUT, "/1/0", CONTENT_TLV, junk, sizeof(junk),
				    NULL, 0),
			 COAP_CODE_BAD_REQUEST);
	/* Discover now shows the management account with its Short Server ID. */
	assert_int_equal(bs_request(f, COAP_CODE_GET, "/", -1, NULL, 0, links, sizeof(links)),
			 COAP_CODE_CONTENT);
	snprintf(want, sizeof(want), "</0/1>;ssid=1;uri=\"%s\"", uri);
	assert_in(links, want);
	assert_in(links, "</1/0>;ssid=1");
}

static void bootstrap_and_register(void **state, bool psk)
{
	struct fixture *f = *state;
	/* Over DTLS it stays and serves; over CoAP it sends an Update and exits (0, no leak
	 * under ASan). */
	sim_start(f, psk ? "--bs-pct 112 --serve 30" : "--updates 1 --interval 100");
	accept_request(f, psk ? "112" : NULL);
	provision(f, psk);
	assert_int_equal(bs_request(f, COAP_CODE_POST, "/bs", -1, NULL, 0, NULL, 0),
			 COAP_CODE_CHANGED);
	char want[200], mgmt[ADDR_STR_MAX];
	addr_format(psk ? &f->d.coaps : &f->d.coap, mgmt);
	snprintf(want, sizeof(want), "bootstrapped server=%s://%s security=%s ssid=1 lifetime=300",
		 psk ? "coaps" : "coap", mgmt, psk ? "psk" : "nosec");
	if (sim_wait(f, "registered rd/", 10000) != 0)
		fail_msg("the simulator did not register: %s", sim_output_of(f->out));
	const char *out = sim_output_of(f->out);
	assert_in(out, want);
	assert_in(out, "bs discover /\n");
	assert_in(out, "bs delete /0\n");
	assert_in(out, "bs delete /0/0 4.00\n");
	assert_in(out, "bs write /0/1\n");
	assert_in(out, "bs write /1/0 4.00\n");
	assert_in(out, "bs finish 2.04\n");
	if (psk)
		assert_in(out, "handshake TLS-PSK-");
	assert_int_equal(api_wait_status(&f->d, f->dev, "ONLINE", 5000), 0);
	if (!psk) {
		assert_int_equal(sim_exit(f, 5000), 0);
		assert_in(sim_output_of(f->out), "updated 2.04\n");
	}
	char lifetime[32];
	assert_int_equal(api_device_field(&f->d, f->dev, "lifetime", lifetime, sizeof(lifetime)),
			 0);
	assert_string_equal(lifetime, "300");
}

static void test_bootstrap_plain(void **state)
{
	bootstrap_and_register(state, false);
}

static void test_bootstrap_psk(void **state)
{
	bootstrap_and_register(state, true);
}

/* --bs-fail-finish: the device refuses its configuration with 4.06 and exits 1. */
static void test_bootstrap_finish_refused(void **state)
{
	struct fixture *f = *state;
	sim_start(f, "--bs-fail-finish");
	accept_request(f, NULL);
	provision(f, false);
	assert_int_equal(bs_request(f, COAP_CODE_POST, "/bs", -1, NULL, 0, NULL, 0),
			 COAP_CODE_NOT_ACCEPTABLE);
	assert_int_equal(sim_exit(f, 5000), 1);
	const char *out = sim_output_of(f->out);
	assert_in(out, "bs finish 4.06\n");
	assert_in(out, "bootstrap failed finish refused");
	assert_null(strstr(out, "registered"));
}

/* A Bootstrap-Server that accepts the request and then says nothing: the device gives
 * up after --bs-timeout-s. */
static void test_bootstrap_silent_server(void **state)
{
	struct fixture *f = *state;
	sim_start(f, "--bs-timeout-s 1"); /* the later option wins */
	accept_request(f, NULL);
	assert_int_equal(sim_exit(f, 5000), 1);
	assert_in(sim_output_of(f->out), "bootstrap failed no request from the server within 1 s\n");
}

/* A DTLS bootstrap uses the simulator's DTLS client as --server with --psk does: the
 * handshake with the daemon's CoAPS port succeeds with the device's credential, and
 * the daemon (no Bootstrap-Server on that port) refuses POST /bs, which ends it. */
static void test_bootstrap_dtls_refused(void **state)
{
	struct fixture *f = *state;
	char coaps[ADDR_STR_MAX], cmd[1024], out[4096];
	addr_format(&f->d.coaps, coaps);
	snprintf(cmd, sizeof(cmd),
		 "%s --bootstrap coaps://%s --bs-psk-identity %s --bs-psk " KEY_HEX
		 " --bs-timeout-s 5",
		 sim_bin(), coaps, f->node);
	assert_int_equal(run_command(cmd, out, sizeof(out), 60), 1);
	assert_in(out, "handshake TLS-PSK-");
	assert_in(out, "bootstrap failed request refused 4.");
	/* A coaps:// bootstrap URI without a key is a usage error. */
	snprintf(cmd, sizeof(cmd), "%s --bootstrap coaps://%s --ep x", sim_bin(), coaps);
	assert_int_equal(run_command(cmd, out, sizeof(out), 10), 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_bootstrap_plain, setup_udp, teardown),
		cmocka_unit_test_setup_teardown(test_bootstrap_finish_refused, setup_udp, teardown),
		cmocka_unit_test_setup_teardown(test_bootstrap_psk, setup_dtls, teardown),
		cmocka_unit_test_setup_teardown(test_bootstrap_dtls_refused, setup_dtls, teardown),
		cmocka_unit_test_setup_teardown(test_bootstrap_silent_server, setup_udp, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
