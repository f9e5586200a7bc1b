/*
 * Integration tests of query parameters every route shares (docs/api.md "Conventions"):
 * a decoded NUL (%00) in a name or a value, and a name given twice, are refused with a
 * 400 naming the parameter — on a list route and on a device-management route, where the
 * device must not be asked anything.
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

/* The daemon under test; teardown kills it even when a test failed half-way. */
static struct daemon_proc d;

static int teardown(void **state)
{
	(void)state;
	daemon_cleanup(&d);
	memset(&d, 0, sizeof(d));
	return 0;
}

static void expect_400(struct daemon_proc *dp, const char *path, const char *name,
		       const char *why)
{
	char resp[4096], want[128];
	int status = http_call(dp, "GET", path, NULL, resp, sizeof(resp));
	if (status != 400)
		fail_msg("GET %s: %d %s (wanted 400)", path, status, resp);
	assert_in(resp, "\"error_code\":\"IOTDA.000400\"");
	snprintf(want, sizeof(want), "query parameter %s %s", name, why);
	assert_in(resp, want);
}

static void test_list_route(void **state)
{
	(void)state;
	char resp[8192];
	daemon_start(&d, NULL);
	api_create_product(&d, "meter");

	/* What is allowed still works, escapes included (%35 is '5'). */
	assert_int_equal(http_call(&d, "GET", "/v5/iot/p1/products?limit=5", NULL, resp,
				   sizeof(resp)),
			 200);
	assert_int_equal(http_call(&d, "GET", "/v5/iot/p1/products?limit=%35&offset=0", NULL,
				   resp, sizeof(resp)),
			 200);

	expect_400(&d, "/v5/iot/p1/products?limit=5%00", "limit", "contains a NUL byte");
	expect_400(&d, "/v5/iot/p1/products?limit=5%00junk", "limit", "contains a NUL byte");
	expect_400(&d, "/v5/iot/p1/products?lim%00it=5", "lim", "contains a NUL byte");
	expect_400(&d, "/v5/iot/p1/products?limit=5&limit=50", "limit",
		   "is given more than once");
	expect_400(&d, "/v5/iot/p1/products?offset=0&limit=1&offset=1", "offset",
		   "is given more than once");
	expect_400(&d, "/v5/iot/p1/devices?product_id=meter%00x", "product_id",
		   "contains a NUL byte");
	/* Also on routes without a token. */
	int status = http_call_auth(&d, "GET", "/health?x=1&x=2", NULL, NULL, resp, sizeof(resp));
	assert_int_equal(status, 400);

	/* Too many parameters. */
	char path[1024];
	size_t n = (size_t)snprintf(path, sizeof(path), "/v5/iot/p1/products?limit=1");
	for (int i = 0; i < 40; i++)
		n += (size_t)snprintf(path + n, sizeof(path) - n, "&p%d=1", i);
	assert_int_equal(http_call(&d, "GET", path, NULL, resp, sizeof(resp)), 400);
	assert_in(resp, "too many query parameters");

	/* The token is checked first: without one, 401. */
	assert_int_equal(http_call_auth(&d, "GET", "/v5/iot/p1/products?limit=5%00", NULL, NULL,
					resp, sizeof(resp)),
			 401);
	daemon_stop(&d);
}

static void test_dm_route(void **state)
{
	(void)state;
	uint8_t buf[1500];
	char id[32];
	daemon_start(&d, NULL);
	api_create_product(&d, "meter");
	api_create_device(&d, "meter", "q01", false, 0);
	int fd = coap_socket("127.0.0.1:0");
	assert_int_equal(coap_register(fd, &d.coap, "q01", "300", "</3/0>", id),
			 COAP_CODE_CREATED);

	/* Refused before the device is asked anything. */
	expect_400(&d, "/v5/iot/p1/devices/meter_q01/lwm2m/3/0/9?timeout=2%00", "timeout",
		   "contains a NUL byte");
	expect_400(&d, "/v5/iot/p1/devices/meter_q01/lwm2m/3/0/9?format=text&format=tlv",
		   "format", "is given more than once");
	expect_400(&d, "/v5/iot/p1/devices/meter_q01/lwm2m/3?op=discover&op=discover", "op",
		   "is given more than once");
	assert_int_equal(coap_recv_raw(fd, buf, sizeof(buf), 500), -1);
	close(fd);
	daemon_stop(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_list_route, teardown),
		cmocka_unit_test_teardown(test_dm_route, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
