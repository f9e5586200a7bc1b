/*
 * Integration test: an events stream may ask for some kinds of event only
 * (GET …/events?types=registration,deregistration), as the console's device list does —
 * it needs statuses, not every report. A stream that names none gets every event; an
 * unknown name, an empty list or a repeated parameter is a 400 that opens no stream.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

static void test_stream_of_some_kinds(void **state)
{
	(void)state;
	struct daemon_proc d;
	char resp[1024], id[32];
	daemon_start(&d, NULL);
	api_create_product(&d, "meter");
	api_create_device(&d, "meter", "types01", false, 0);

	static struct stream all, statuses, updates;
	stream_open(&all, &d, "");
	stream_open(&statuses, &d, "?types=registration,deregistration");
	stream_open(&updates, &d, "?device_id=meter_types01&types=update");
	assert_int_equal(stream_wait(&all, ": lwm2md events", 3000), 0);
	assert_int_equal(stream_wait(&statuses, ": lwm2md events", 3000), 0);
	assert_int_equal(stream_wait(&updates, ": lwm2md events", 3000), 0);

	int fd = coap_socket("127.0.0.1:0");
	assert_int_equal(coap_register(fd, &d.coap, "types01", "300", "</1/0>,</3/0>", id), 0x41);
	assert_int_equal(coap_update(fd, &d.coap, id, ""), 0x44);
	assert_int_equal(coap_deregister(fd, &d.coap, id), 0x42);

	/* The unfiltered stream has all three; the others only what they named. The
	 * de-registration comes last, so once a stream has it (or, for the update stream,
	 * once the full stream has it) nothing more is on its way. */
	assert_int_equal(stream_wait(&all, "event: deregistration", 3000), 0);
	assert_in(all.buf, "event: registration");
	assert_in(all.buf, "event: update");
	assert_int_equal(stream_wait(&statuses, "event: deregistration", 3000), 0);
	assert_in(statuses.buf, "event: registration");
	assert_null(strstr(statuses.buf, "event: update"));
	assert_int_equal(stream_wait(&updates, "event: update", 3000), 0);
	assert_int_equal(stream_wait(&updates, "event: registration", 300), -1);
	assert_null(strstr(updates.buf, "event: deregistration"));
	close(all.fd);
	close(statuses.fd);
	close(updates.fd);
	close(fd);

	assert_int_equal(http_call(&d, "GET", "/v5/iot/p1/events?types=registration,reports",
				   NULL, resp, sizeof(resp)),
			 400);
	assert_in(resp, "types: 'reports' is not an event");
	assert_int_equal(http_call(&d, "GET", "/v5/iot/p1/events?types=", NULL, resp,
				   sizeof(resp)),
			 400);
	assert_int_equal(http_call(&d, "GET", "/v5/iot/p1/events?types=update,", NULL, resp,
				   sizeof(resp)),
			 400);
	assert_int_equal(http_call(&d, "GET", "/v5/iot/p1/events?types=update&types=property",
				   NULL, resp, sizeof(resp)),
			 400);
	daemon_stop(&d);
	daemon_cleanup(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stream_of_some_kinds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
