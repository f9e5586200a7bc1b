/*
 * Unit tests of lwm2m_observe's per-device lookups: one device's observations are found
 * and forgotten among many others' (the node index), and nothing else is touched.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "lwm2m/lwm2m_observe.h"

static void count(const struct lwm2m_observation *o, void *ctx)
{
	(void)o;
	(*(int *)ctx)++;
}

static void test_one_device_among_many(void **state)
{
	(void)state;
	struct lwm2m_observations *obs;
	assert_int_equal(lwm2m_observations_create(&obs), 0);
	struct lwm2m_path path = { .len = 3, .ids = { 5, 0, 3 } };
	char node[32];
	uint8_t token[8];
	for (int i = 0; i < 2000; i++) {
		snprintf(node, sizeof(node), "dev%04d", i % 1000);
		memcpy(token, &i, sizeof(i));
		memset(token + sizeof(i), 0xA5, sizeof(token) - sizeof(i));
		assert_non_null(lwm2m_observations_add(obs, node, &path, token, sizeof(token)));
	}
	int n = 0;
	lwm2m_observations_each(obs, "dev0007", count, &n);
	assert_int_equal(n, 2);
	n = 0;
	lwm2m_observations_each(obs, NULL, count, &n);
	assert_int_equal(n, 2000);
	assert_int_equal(lwm2m_observations_forget(obs, "dev0007"), 2);
	assert_int_equal(lwm2m_observations_forget(obs, "dev0007"), 0);
	assert_int_equal(lwm2m_observations_forget(obs, "nobody"), 0);
	n = 0;
	lwm2m_observations_each(obs, "dev0007", count, &n);
	assert_int_equal(n, 0);
	n = 0;
	lwm2m_observations_each(obs, "dev0008", count, &n);
	assert_int_equal(n, 2);
	n = 0;
	lwm2m_observations_each(obs, NULL, count, &n);
	assert_int_equal(n, 1998);
	/* A removed observation leaves its device's others findable. */
	int i = 8; /* dev0008's first */
	memcpy(token, &i, sizeof(i));
	memset(token + sizeof(i), 0xA5, sizeof(token) - sizeof(i));
	struct lwm2m_observation *o = lwm2m_observations_find_token(obs, token, sizeof(token));
	assert_non_null(o);
	lwm2m_observations_remove(obs, o);
	n = 0;
	lwm2m_observations_each(obs, "dev0008", count, &n);
	assert_int_equal(n, 1);
	lwm2m_observations_destroy(obs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_device_among_many),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
