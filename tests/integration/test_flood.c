/*
 * Integration tests of floods any outsider can send: refused Registers, and re-Register
 * storms of a known plain device.
 *
 * - 3000 Registers of endpoints that are no device are each refused and counted in
 *   /metrics, but the log gets at most a handful of lines about them (the rest summarised
 *   later), not 3000.
 * - A plain device registered once and then re-registered from 40 source ports within
 *   moments (a NAT loop, or someone replaying its Register) costs one uplink observation
 *   and one status push once the storm has settled — not an observation and two outbox
 *   rows per Register. The device is then served on its last address.
 */
#include <errno.h>
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

#include "harness.h"
#include "harness_platform.h"
#include "meter_fixture.h"

#define REFUSED 3000
#define STORM 40

/* Lines of the file at path that contain needle. */
static int count_lines(const char *path, const char *needle)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	char line[2048];
	int n = 0;
	while (fgets(line, sizeof(line), f))
		n += strstr(line, needle) != NULL;
	fclose(f);
	return n;
}

static void test_refused_registers_are_counted_not_logged(void **state)
{
	(void)state;
	char log_path[] = "/tmp/lwm2md-flood-log-XXXXXX";
	int log_fd = mkstemp(log_path);
	assert_true(log_fd >= 0);
	close(log_fd);
	setenv("LWM2MD_TEST_STDERR", log_path, 1);
	struct daemon_proc d;
	daemon_start(&d, NULL);
	unsetenv("LWM2MD_TEST_STDERR");

	int fd = coap_socket("127.0.0.1:0");
	char id[32];
	for (int i = 0; i < REFUSED; i++) {
		char ep[32];
		snprintf(ep, sizeof(ep), "nobody-%d", i);
		assert_int_equal(coap_register(fd, &d.coap, ep, "300", "</3/0>", id),
				 COAP_CODE_FORBIDDEN);
	}
	close(fd);
	assert_int_equal(metric_value(&d, "lwm2md_registrations_rejected_total"), REFUSED);
	assert_true(metric_value(&d, "lwm2md_log_lines_suppressed_total") >= REFUSED - 10);
	daemon_stop(&d);

	int lines = count_lines(log_path, "refused");
	print_message("%d log lines for %d refused Registers\n", lines, REFUSED);
	assert_true(lines >= 1);
	assert_true(lines <= 12); /* LOG_RATE_LINES, and a summary at most */
	unlink(log_path);
	daemon_cleanup(&d);
}

/* GETs with Observe of /19/0/0 that reached fd within timeout_ms (answered 4.04, so the
 * platform does not retransmit them). */
static int observes_received(int fd, const struct addr *daemon, int timeout_ms)
{
	int n = 0;
	uint8_t buf[1500];
	for (;;) {
		ssize_t len = coap_recv_raw(fd, buf, sizeof(buf), timeout_ms);
		if (len <= 0)
			return n;
		struct coap_msg m;
		if (coap_msg_parse(&m, buf, (size_t)len) != 0 || m.code != COAP_CODE_GET)
			continue;
		uint32_t obs;
		if (coap_msg_get_uint_option(&m, COAP_OPTION_OBSERVE, &obs) == 0 && obs == 0)
			n++;
		struct coap_msg ack;
		uint8_t out[64];
		coap_msg_init(&ack, COAP_TYPE_ACK, COAP_CODE_NOT_FOUND, m.mid, m.token,
			      m.token_len);
		int out_len = coap_msg_encode(&ack, out, sizeof(out));
		if (out_len > 0)
			coap_send_raw(fd, daemon, out, (size_t)out_len);
		timeout_ms = 50;
	}
}

static void test_reregister_storm_settles(void **state)
{
	static const char *const args[] = {"--register-settle-ms", "1000", NULL};
	struct platform_fixture *f = platform_start("declarative", meter_model, meter_layout,
						    args);
	*state = f;
	struct receiver r = {0};
	receiver_start(&r, 0, 0);
	char resp[4096], body[128];
	snprintf(body, sizeof(body), "{\"url\":\"http://127.0.0.1:%d/iot\"}", r.port);
	assert_int_equal(http_call(&f->d, "POST", "/v5/iot/p1/forwarding-rules", body, resp,
				   sizeof(resp)),
			 201);

	static const uint8_t first[] = {0, 87, 0x00, 0x01, 0x86, 0xA0};
	register_and_observe(f, first, sizeof(first));
	free(receiver_wait(&r, 5000, "ONLINE", NULL));
	int pushes_before = receiver_requests(&r);

	/* The storm: each Register from a new port, answered 2.01. */
	int socks[STORM];
	char id[32];
	for (int i = 0; i < STORM; i++) {
		socks[i] = coap_socket("127.0.0.1:0");
		assert_int_equal(coap_register(socks[i], &f->d.coap, "meter1", "300",
					       "</3/0>,</19/0>,</19/1>", id),
				 COAP_CODE_CREATED);
	}
	/* Once it has held still for the settle time, the last address gets the one
	 * observation; none of the others get any. */
	int last = observes_received(socks[STORM - 1], &f->d.coap, 4000);
	int others = 0;
	for (int i = 0; i < STORM - 1; i++)
		others += observes_received(socks[i], &f->d.coap, 10);
	sleep_ms(500);
	int pushes = receiver_requests(&r) - pushes_before;
	print_message("storm of %d Registers: %d observations at the last address, %d at the "
		      "others, %d status pushes, %lld coalesced\n",
		      STORM, last, others, pushes,
		      metric_value(&f->d, "lwm2md_registrations_coalesced_total"));
	assert_int_equal(last, 1);
	assert_int_equal(others, 0);
	assert_true(pushes <= 2); /* at most the settled ONLINE (and nothing per Register) */
	assert_int_equal(metric_value(&f->d, "lwm2md_registrations_coalesced_total"), STORM);

	/* A Register long after the storm is announced at once, as always. */
	sleep_ms(1200);
	int fresh = coap_socket("127.0.0.1:0");
	assert_int_equal(coap_register(fresh, &f->d.coap, "meter1", "300",
				       "</3/0>,</19/0>,</19/1>", id),
			 COAP_CODE_CREATED);
	assert_int_equal(observes_received(fresh, &f->d.coap, 3000), 1);
	close(fresh);
	for (int i = 0; i < STORM; i++)
		close(socks[i]);
	receiver_stop(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refused_registers_are_counted_not_logged),
		cmocka_unit_test_teardown(test_reregister_storm_settles, platform_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
