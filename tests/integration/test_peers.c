/*
 * Integration: real clients register with the real daemon — the project's own
 * tools/lwm2m-sim, and Debian's libcoap coap-client-notls as an independent peer
 * (plain requests, and its own Block1 implementation).
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

#include "harness.h"

static int setup(void **state)
{
	static struct daemon_proc d;
	daemon_start(&d, NULL);
	api_create_product(&d, "meter");
	*state = &d;
	return 0;
}

static int teardown(void **state)
{
	struct daemon_proc *d = *state;
	daemon_stop(d);
	daemon_cleanup(d);
	return 0;
}

static void test_own_simulator(void **state)
{
	struct daemon_proc *d = *state;
	api_create_device(d, "meter", "sim0001", false, 0);
	char cmd[4096], out[4096], addr[ADDR_STR_MAX];
	snprintf(cmd, sizeof(cmd),
		 "%s --server %s --ep sim0001 --lifetime 300 --updates 2 --interval 100 "
		 "--deregister",
		 sim_bin(), addr_format(&d->coap, addr));
	int rc = run_command(cmd, out, sizeof(out), 60);
	if (rc != 0)
		fail_msg("lwm2m-sim failed (%d): %s", rc, out);
	assert_non_null(strstr(out, "registered rd/"));
	assert_non_null(strstr(out, "updated 2.04\nupdated 2.04\n"));
	assert_non_null(strstr(out, "deregistered 2.02"));
	assert_int_equal(api_wait_status(d, "meter_sim0001", "OFFLINE", 3000), 0);

	/* Block-wise Register from the simulator: 64-byte blocks. */
	char objects[2048];
	size_t n = (size_t)snprintf(objects, sizeof(objects), "</>;rt=\"oma.lwm2m\"");
	for (int i = 0; i < 60; i++)
		n += (size_t)snprintf(objects + n, sizeof(objects) - n, ",</%d/0>", 3300 + i);
	snprintf(cmd, sizeof(cmd), "%s --server %s --ep sim0001 --block-size 64 --objects '%s'",
		 sim_bin(), addr, objects);
	rc = run_command(cmd, out, sizeof(out), 60);
	if (rc != 0)
		fail_msg("lwm2m-sim block-wise failed (%d): %s", rc, out);
	assert_int_equal(api_wait_status(d, "meter_sim0001", "ONLINE", 3000), 0);
	/* A device that does not exist is refused. */
	snprintf(cmd, sizeof(cmd), "%s --server %s --ep nosuch", sim_bin(), addr);
	rc = run_command(cmd, out, sizeof(out), 60);
	assert_int_equal(rc, 1);
	assert_non_null(strstr(out, "failed register 4.03"));
}

/* Finds the registration id in coap-client's debug dump of the 2.01 response. */
static int find_location(const char *out, char *id, size_t cap)
{
	const char *p = strstr(out, "Location-Path:rd,Location-Path:");
	size_t skip = strlen("Location-Path:rd,Location-Path:");
	if (!p) {
		p = strstr(out, "Location-Path:rd, Location-Path:");
		skip = strlen("Location-Path:rd, Location-Path:");
	}
	if (!p)
		return -1;
	p += skip;
	size_t n = 0;
	while (p[n] && p[n] != ' ' && p[n] != ',' && p[n] != ']' && n + 1 < cap) {
		id[n] = p[n];
		n++;
	}
	id[n] = '\0';
	return n == 10 ? 0 : -1;
}

static void test_libcoap_client(void **state)
{
	struct daemon_proc *d = *state;
	api_create_device(d, "meter", "libcoap01", false, 0);
	char cmd[2048], out[16384], id[32], host[64];
	snprintf(host, sizeof(host), "127.0.0.1:%u", d->coap.port);

	snprintf(cmd, sizeof(cmd),
		 "coap-client-notls -v 7 -B 10 -m post -t 40 -e '</1/0>,</3/0>,</19/0>' "
		 "'coap://%s/rd?ep=libcoap01&lt=300&lwm2m=1.1&b=U'",
		 host);
	int rc = run_command(cmd, out, sizeof(out), 30);
	if (rc != 0 || find_location(out, id, sizeof(id)) != 0)
		fail_msg("coap-client register (%d): %s", rc, out);
	assert_int_equal(api_wait_status(d, "meter_libcoap01", "ONLINE", 3000), 0);

	char v[64];
	assert_int_equal(api_device_field(d, "meter_libcoap01", "registration_id", v, sizeof(v)),
			 0);
	assert_string_equal(v, id);

	snprintf(cmd, sizeof(cmd), "coap-client-notls -v 7 -B 10 -m post 'coap://%s/rd/%s?lt=900'",
		 host, id);
	rc = run_command(cmd, out, sizeof(out), 30);
	if (rc != 0 || !strstr(out, "2.04"))
		fail_msg("coap-client update (%d): %s", rc, out);
	sleep_ms(300);
	assert_int_equal(api_device_field(d, "meter_libcoap01", "lifetime", v, sizeof(v)), 0);
	assert_string_equal(v, "900");

	snprintf(cmd, sizeof(cmd), "coap-client-notls -v 7 -B 10 -m delete 'coap://%s/rd/%s'",
		 host, id);
	rc = run_command(cmd, out, sizeof(out), 30);
	if (rc != 0 || !strstr(out, "2.02"))
		fail_msg("coap-client deregister (%d): %s", rc, out);
	assert_int_equal(api_wait_status(d, "meter_libcoap01", "OFFLINE", 3000), 0);

	/* An unknown endpoint is refused with 4.03. */
	snprintf(cmd, sizeof(cmd),
		 "coap-client-notls -v 7 -B 10 -m post -t 40 -e '</1/0>' "
		 "'coap://%s/rd?ep=stranger&lt=300'",
		 host);
	run_command(cmd, out, sizeof(out), 30);
	assert_non_null(strstr(out, "4.03"));
}

static void test_libcoap_blockwise_register(void **state)
{
	struct daemon_proc *d = *state;
	api_create_device(d, "meter", "libcoap02", false, 0);
	char path[512], cmd[2048], out[32768], id[32], host[64];
	snprintf(path, sizeof(path), "%s/links.txt", d->dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "</>;rt=\"oma.lwm2m\"");
	for (int i = 0; i < 200; i++)
		fprintf(f, ",</%d/0>", 3300 + i);
	fclose(f);
	snprintf(host, sizeof(host), "127.0.0.1:%u", d->coap.port);
	snprintf(cmd, sizeof(cmd),
		 "coap-client-notls -v 7 -B 10 -b 256 -m post -t 40 -f %s "
		 "'coap://%s/rd?ep=libcoap02&lt=300&lwm2m=1.1'",
		 path, host);
	int rc = run_command(cmd, out, sizeof(out), 30);
	if (rc != 0 || find_location(out, id, sizeof(id)) != 0)
		fail_msg("coap-client block-wise register (%d): %s", rc, out);
	assert_int_equal(api_wait_status(d, "meter_libcoap02", "ONLINE", 3000), 0);
	char v[8192];
	assert_int_equal(api_device_field(d, "meter_libcoap02", "object_links", v, sizeof(v)), 0);
	assert_non_null(strstr(v, "</3499/0>"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_own_simulator, setup, teardown),
		cmocka_unit_test_setup_teardown(test_libcoap_client, setup, teardown),
		cmocka_unit_test_setup_teardown(test_libcoap_blockwise_register, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
