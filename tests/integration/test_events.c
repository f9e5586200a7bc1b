/*
 * Integration tests of the live event stream (Server-Sent Events): registrations, updates,
 * de-registrations of real CoAP clients arrive on GET /v5/iot/{project}/events, filtered by
 * device; another project's stream sees nothing; the stream ends cleanly at shutdown.
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

#include "harness.h"

static const char links[] = "</1/0>,</3/0>";

static void test_registration_events(void **state)
{
	(void)state;
	struct daemon_proc d;
	daemon_start(&d, NULL);
	api_create_product(&d, "meter");
	api_create_device(&d, "meter", "ev01", false, 0);
	api_create_device(&d, "meter", "ev02", false, 0);

	struct stream all, one;
	stream_open(&all, &d, "");
	stream_open(&one, &d, "?device_id=meter_ev02");
	assert_int_equal(stream_wait(&all, "text/event-stream", 3000), 0);
	assert_int_equal(stream_wait(&one, ": lwm2md events", 3000), 0);

	int fd = coap_socket("127.0.0.1:0");
	char id[32];
	assert_int_equal(coap_register(fd, &d.coap, "ev01", "300", links, id), COAP_CODE_CREATED);
	assert_int_equal(stream_wait(&all, "event: registration\ndata: {\"event\":\"registration\","
					   "\"device_id\":\"meter_ev01\"",
				     3000),
			 0);
	assert_int_equal(stream_wait(&all, "\"object_links\":\"</1/0>,</3/0>\"", 1000), 0);
	assert_int_equal(coap_update(fd, &d.coap, id, NULL), COAP_CODE_CHANGED);
	assert_int_equal(stream_wait(&all, "event: update", 3000), 0);
	assert_int_equal(coap_deregister(fd, &d.coap, id), COAP_CODE_DELETED);
	assert_int_equal(stream_wait(&all, "\"reason\":\"requested\"", 3000), 0);
	/* The filtered stream saw none of ev01's. */
	assert_null(strstr(one.buf, "meter_ev01"));

	int fd2 = coap_socket("127.0.0.1:0");
	assert_int_equal(coap_register(fd2, &d.coap, "ev02", "300", links, id), COAP_CODE_CREATED);
	assert_int_equal(stream_wait(&one, "\"device_id\":\"meter_ev02\"", 3000), 0);

	/* Another project's token streams its own project only: a 404 here. */
	char resp[1024];
	assert_int_equal(http_call(&d, "GET", "/v5/iot/p2/events", NULL, resp, sizeof(resp)), 404);

	/* Shutdown ends the streams and the daemon exits cleanly. */
	daemon_stop(&d);
	assert_int_equal(stream_wait(&all, "never", 500), -1);
	close(all.fd);
	close(one.fd);
	close(fd);
	close(fd2);
	daemon_cleanup(&d);
}

static void test_send(void **state)
{
	(void)state;
	struct daemon_proc d;
	daemon_start(&d, NULL);
	api_create_product(&d, "meter");
	api_create_device(&d, "meter", "snd01", false, 0);
	struct stream events;
	stream_open(&events, &d, "");
	assert_int_equal(stream_wait(&events, ": lwm2md events", 3000), 0);
	int fd = coap_socket("127.0.0.1:0");
	const char *senml = "[{\"bn\":\"/3/0/\",\"n\":\"9\",\"v\":77},"
			    "{\"n\":\"13\",\"v\":1764050000}]";
	/* Not registered: refused. */
	assert_int_equal(coap_send_dp(fd, &d, 1, 110, senml), COAP_CODE_FORBIDDEN);
	char id[32];
	assert_int_equal(coap_register(fd, &d.coap, "snd01", "300", links, id), COAP_CODE_CREATED);
	assert_int_equal(coap_send_dp(fd, &d, 2, 110, senml), COAP_CODE_CHANGED);
	assert_int_equal(stream_wait(&events, "event: send\ndata: {\"event\":\"send\","
					      "\"device_id\":\"meter_snd01\"",
				     3000),
			 0);
	assert_int_equal(stream_wait(&events, "{\"path\":\"/3/0/9\",\"type\":\"integer\","
					      "\"value\":77}",
				     1000),
			 0);
	assert_int_equal(stream_wait(&events, "\"type\":\"time\",\"value\":1764050000", 1000), 0);
	/* SenML CBOR: [{-2: "/3/0/9", 2: 100}] (no zero byte, so it passes as a C string). */
	assert_int_equal(coap_send_dp(fd, &d, 6, 112, "\x81\xa2\x21\x66/3/0/9\x02\x18\x64"),
			 COAP_CODE_CHANGED);
	assert_int_equal(stream_wait(&events, "{\"path\":\"/3/0/9\",\"type\":\"integer\","
					      "\"value\":100}",
				     3000),
			 0);
	/* Malformed SenML JSON and CBOR, another format. */
	assert_int_equal(coap_send_dp(fd, &d, 3, 110, "[{\"n\":\"oops\"}]"), COAP_CODE_BAD_REQUEST);
	assert_int_equal(coap_send_dp(fd, &d, 4, 0, "77"), COAP_CODE_UNSUPPORTED_CONTENT_FORMAT);
	assert_int_equal(coap_send_dp(fd, &d, 5, 112, "\x9b\xff\xff\xff\xff\xff\xff\xff\xff"),
			 COAP_CODE_BAD_REQUEST);
	char resp[16384];
	assert_int_equal(http_call_auth(&d, "GET", "/metrics", NULL, NULL, resp, sizeof(resp)), 200);
	assert_non_null(strstr(resp, "lwm2md_sends_total 2\n"));
	close(events.fd);
	close(fd);
	daemon_cleanup(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_registration_events),
		cmocka_unit_test(test_send),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
