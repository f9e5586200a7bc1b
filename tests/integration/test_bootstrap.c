/*
 * Integration tests of the LwM2M Bootstrap-Server (docs/bootstrap.md): the real daemon
 * with its bootstrap sockets, lwm2m-sim --bootstrap as the device, configurations through
 * the REST API. A device bootstraps over plain CoAP and over DTLS, then registers to the
 * management server with the secret it was given; a product template's derived keys; and
 * every refusal: a wrong bootstrap key, an unknown endpoint, a 4.06 to Finish, the
 * bootstrap key on the management port and the management secret on the bootstrap port.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <mbedtls/md.h>

#include "harness.h"

#define MGMT_SECRET "00112233445566778899aabbccddeeff"
#define BS_KEY "a1a2a3a4a5a6a7a8a9aaabacadaeaf"
#define MASTER_KEY "f0e1d2c3b4a5968778695a4b3c2d1e0ff0e1d2c3b4a5968778695a4b3c2d1e0f"

static const char *const bs_args[] = { "--bootstrap-coap", "127.0.0.1:0", "--bootstrap-coaps",
				       "127.0.0.1:0", NULL };

static int setup(void **state)
{
	struct daemon_proc *d = calloc(1, sizeof(*d));
	daemon_start(d, bs_args);
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

/* A device of "meter" with the management secret; its device_id into id. */
static void create_device(struct daemon_proc *d, const char *node, bool secure, char id[96])
{
	char body[384], resp[2048];
	snprintf(body, sizeof(body),
		 "{\"node_id\":\"%s\",\"product_id\":\"meter\",\"auth_info\":"
		 "{\"secure_access\":%s,\"secret\":\"" MGMT_SECRET "\"}}",
		 node, secure ? "true" : "false");
	int status = http_call(d, "POST", "/v5/iot/p1/devices", body, resp, sizeof(resp));
	if (status != 201)
		fail_msg("device create: %d %s", status, resp);
	json_t *doc = json_loads(resp, 0, NULL);
	snprintf(id, 96, "%s", json_string_value(json_object_get(doc, "device_id")));
	json_decref(doc);
}

static void put_config(struct daemon_proc *d, const char *path, const char *body)
{
	char resp[4096];
	int status = http_call(d, "PUT", path, body, resp, sizeof(resp));
	if (status != 200)
		fail_msg("PUT %s: %d %s", path, status, resp);
}

static void device_config(struct daemon_proc *d, const char *id, const char *body)
{
	char path[256];
	snprintf(path, sizeof(path), "/v5/iot/p1/devices/%s/bootstrap", id);
	put_config(d, path, body);
}

/* Runs lwm2m-sim with args (it bootstraps, registers, serves 2 s and ends); its output
 * into out. Returns its exit status. */
static int run_sim(const char *args, char *out, size_t cap)
{
	char cmd[1536];
	snprintf(cmd, sizeof(cmd), "%s %s --lifetime 60 --serve 2 2>&1", sim_bin(), args);
	return run_command(cmd, out, cap, 90);
}

/* The device's bootstrap document (caller frees). */
static json_t *bootstrap_of(struct daemon_proc *d, const char *id)
{
	static char resp[16384];
	char path[256];
	snprintf(path, sizeof(path), "/v5/iot/p1/devices/%s/bootstrap", id);
	int status = http_call(d, "GET", path, NULL, resp, sizeof(resp));
	if (status != 200)
		fail_msg("GET %s: %d %s", path, status, resp);
	return json_loads(resp, 0, NULL);
}

static const char *last_result(json_t *doc)
{
	const char *r = json_string_value(json_object_get(json_object_get(doc, "status"), "result"));
	return r ? r : "(none)";
}

static void expect_in(const char *out, const char *needle)
{
	if (!strstr(out, needle))
		fail_msg("'%s' not in the simulator's output:\n%s", needle, out);
}

static void test_plain_bootstrap_then_dtls_registration(void **state)
{
	struct daemon_proc *d = *state;
	char id[96], args[512], out[16384], addr[ADDR_STR_MAX];
	create_device(d, "bsplain1", true, id);
	device_config(d, id, "{\"allow_plain\":true,\"security\":\"psk\"}");
	snprintf(args, sizeof(args), "--bootstrap coap://%s --ep bsplain1",
		 addr_format(&d->bs_coap, addr));
	int rc = run_sim(args, out, sizeof(out));
	expect_in(out, "bootstrapped server=coaps://");
	expect_in(out, "security=psk");
	/* The management registration over DTLS, with the secret it was written. */
	expect_in(out, "registered rd/");
	assert_int_equal(rc, 0);
	json_t *doc = bootstrap_of(d, id);
	assert_string_equal(last_result(doc), "succeeded");
	assert_string_equal(
		json_string_value(json_object_get(json_object_get(doc, "status"), "transport")),
		"coap");
	json_decref(doc);
	assert_int_equal(metric_value(d, "lwm2md_bootstrap_succeeded_total"), 1);
}

static void test_dtls_bootstrap(void **state)
{
	struct daemon_proc *d = *state;
	char id[96], args[512], out[16384], addr[ADDR_STR_MAX];
	create_device(d, "bsdtls1", true, id);
	device_config(d, id, "{\"bs_key\":\"" BS_KEY "\",\"security\":\"psk\"}");
	snprintf(args, sizeof(args),
		 "--bootstrap coaps://%s --ep bsdtls1 --bs-psk-identity bsdtls1 --bs-psk " BS_KEY,
		 addr_format(&d->bs_coaps, addr));
	int rc = run_sim(args, out, sizeof(out));
	expect_in(out, "bootstrapped server=coaps://");
	expect_in(out, "registered rd/");
	assert_int_equal(rc, 0);
	json_t *doc = bootstrap_of(d, id);
	assert_string_equal(last_result(doc), "succeeded");
	json_decref(doc);

	/* The management secret is reset: the device bootstraps again and gets the new one
	 * (a registration with the old one would fail its handshake). */
	char resp[2048], path[256];
	snprintf(path, sizeof(path), "/v5/iot/p1/devices/%s/action?action_id=resetSecret", id);
	assert_int_equal(http_call(d, "POST", path, "{\"secret\":\"99887766554433221100\"}", resp,
				   sizeof(resp)),
			 200);
	rc = run_sim(args, out, sizeof(out));
	expect_in(out, "bootstrapped server=coaps://");
	expect_in(out, "registered rd/");
	assert_int_equal(rc, 0);
	doc = bootstrap_of(d, id);
	assert_int_equal(json_array_size(json_object_get(doc, "history")), 2);
	json_decref(doc);
}

/* HMAC-SHA256(master, identity), its first 16 bytes in hex: what a factory computes. */
static void derived_key(const char *identity, char out[33])
{
	uint8_t master[32], mac[32];
	for (int i = 0; i < 32; i++) {
		unsigned v;
		sscanf(MASTER_KEY + 2 * i, "%2x", &v);
		master[i] = (uint8_t)v;
	}
	assert_int_equal(mbedtls_md_hmac(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), master,
					 sizeof(master), (const uint8_t *)identity,
					 strlen(identity), mac),
			 0);
	for (int i = 0; i < 16; i++)
		sprintf(out + 2 * i, "%02x", mac[i]);
}

static void test_product_template(void **state)
{
	struct daemon_proc *d = *state;
	char id[96], args[512], out[16384], addr[ADDR_STR_MAX], key[33];
	put_config(d, "/v5/iot/p1/products/meter/bootstrap",
		   "{\"master_key\":\"" MASTER_KEY "\",\"security\":\"psk\",\"lifetime\":120}");
	create_device(d, "bstmpl1", true, id);
	derived_key("bstmpl1", key);
	snprintf(args, sizeof(args),
		 "--bootstrap coaps://%s --ep bstmpl1 --bs-psk-identity bstmpl1 --bs-psk %s",
		 addr_format(&d->bs_coaps, addr), key);
	int rc = run_sim(args, out, sizeof(out));
	expect_in(out, "lifetime=120");
	expect_in(out, "registered rd/");
	assert_int_equal(rc, 0);
	json_t *doc = bootstrap_of(d, id);
	assert_string_equal(json_string_value(json_object_get(doc, "effective")), "template");
	assert_string_equal(last_result(doc), "succeeded");
	json_decref(doc);
}

static void test_wrong_bootstrap_key(void **state)
{
	struct daemon_proc *d = *state;
	char id[96], args[512], out[16384], addr[ADDR_STR_MAX];
	create_device(d, "bswrong1", true, id);
	device_config(d, id, "{\"bs_key\":\"" BS_KEY "\",\"security\":\"psk\"}");
	snprintf(args, sizeof(args),
		 "--bootstrap coaps://%s --ep bswrong1 --bs-psk-identity bswrong1 "
		 "--bs-psk 0102030405060708090a0b0c0d0e0f10 --bs-timeout-s 5",
		 addr_format(&d->bs_coaps, addr));
	assert_int_not_equal(run_sim(args, out, sizeof(out)), 0);
	expect_in(out, "bootstrap failed");
	json_t *doc = bootstrap_of(d, id);
	assert_string_equal(last_result(doc), "(none)");
	json_decref(doc);
}

/* A raw Bootstrap-Request on plain CoAP: the answer's code. */
static uint8_t raw_request(struct daemon_proc *d, const char *query)
{
	int fd = coap_socket("127.0.0.1:0");
	struct coap_msg m, r;
	uint8_t buf[512];
	coap_msg_init(&m, COAP_TYPE_CON, COAP_CODE_POST, 0x4242, (const uint8_t *)"bq", 2);
	coap_msg_add_option(&m, COAP_OPTION_URI_PATH, "bs", 2);
	if (query)
		coap_msg_add_option(&m, COAP_OPTION_URI_QUERY, query, strlen(query));
	int rc = coap_exchange(fd, &d->bs_coap, &m, &r, buf, sizeof(buf));
	close(fd);
	assert_int_equal(rc, 0);
	return r.code;
}

static void test_refusals(void **state)
{
	struct daemon_proc *d = *state;
	char id[96];
	/* Unknown endpoint, no endpoint, malformed queries. */
	assert_int_equal(raw_request(d, "ep=nobody"), COAP_CODE_FORBIDDEN);
	assert_int_equal(raw_request(d, NULL), COAP_CODE_BAD_REQUEST);
	assert_int_equal(raw_request(d, "ep="), COAP_CODE_BAD_REQUEST);
	assert_int_equal(raw_request(d, "pct=abc"), COAP_CODE_BAD_REQUEST);
	assert_int_equal(raw_request(d, "pct=99999999"), COAP_CODE_BAD_REQUEST);
	char long_ep[128];
	memset(long_ep, 'a', sizeof(long_ep) - 1);
	memcpy(long_ep, "ep=", 3);
	long_ep[sizeof(long_ep) - 1] = '\0';
	assert_int_equal(raw_request(d, long_ep), COAP_CODE_BAD_REQUEST);
	/* A device whose configuration does not allow plain CoAP. */
	create_device(d, "bsnoplain", true, id);
	device_config(d, id, "{\"bs_key\":\"" BS_KEY "\"}");
	assert_int_equal(raw_request(d, "ep=bsnoplain"), COAP_CODE_FORBIDDEN);
	/* A device with no configuration at all (and no template). */
	create_device(d, "bsnone", true, id);
	assert_int_equal(raw_request(d, "ep=bsnone"), COAP_CODE_FORBIDDEN);
	assert_true(metric_value(d, "lwm2md_bootstrap_refused_total") >= 4);
}

static void test_finish_refused(void **state)
{
	struct daemon_proc *d = *state;
	char id[96], args[512], out[16384], addr[ADDR_STR_MAX];
	create_device(d, "bsfin1", true, id);
	device_config(d, id, "{\"allow_plain\":true}");
	snprintf(args, sizeof(args), "--bootstrap coap://%s --ep bsfin1 --bs-fail-finish",
		 addr_format(&d->bs_coap, addr));
	assert_int_not_equal(run_sim(args, out, sizeof(out)), 0);
	json_t *doc = NULL;
	/* The server records it once the 4.06 arrives. */
	for (int i = 0; i < 50; i++) {
		json_decref(doc);
		doc = bootstrap_of(d, id);
		if (strcmp(last_result(doc), "failed") == 0)
			break;
		sleep_ms(100);
	}
	assert_string_equal(last_result(doc), "failed");
	const char *reason =
		json_string_value(json_object_get(json_object_get(doc, "status"), "reason"));
	assert_non_null(reason);
	assert_non_null(strstr(reason, "4.06"));
	json_decref(doc);
}

static void test_credentials_stay_on_their_port(void **state)
{
	struct daemon_proc *d = *state;
	char id[96], args[512], out[16384], addr[ADDR_STR_MAX];
	create_device(d, "bsports", true, id);
	device_config(d, id, "{\"bs_key\":\"" BS_KEY "\"}");
	/* The bootstrap key on the management port: the handshake fails. */
	snprintf(args, sizeof(args),
		 "--server %s --psk-identity bsports --psk " BS_KEY " --updates 0",
		 addr_format(&d->coaps, addr));
	assert_int_not_equal(run_sim(args, out, sizeof(out)), 0);
	expect_in(out, "failed handshake");
	/* The management secret on the bootstrap port: the same. */
	snprintf(args, sizeof(args),
		 "--bootstrap coaps://%s --ep bsports --bs-psk-identity bsports --bs-psk "
		 MGMT_SECRET " --bs-timeout-s 5",
		 addr_format(&d->bs_coaps, addr));
	assert_int_not_equal(run_sim(args, out, sizeof(out)), 0);
	expect_in(out, "bootstrap failed");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_plain_bootstrap_then_dtls_registration, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_dtls_bootstrap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_product_template, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_bootstrap_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_finish_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_credentials_stay_on_their_port, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
