/*
 * Tests of product models (src/iot/product_model.c): a valid IoTDA-style model, every
 * kind of mistake with the place the error names, value checks per data_type, reported
 * properties and command paras, and random documents that must never crash the checker.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "iot/product_model.h"

static const char water_meter[] =
	"[{\"service_id\":\"WaterMeter\",\"service_type\":\"WaterMeter\",\"option\":\"Mandatory\","
	"  \"properties\":["
	"    {\"property_name\":\"battery\",\"data_type\":\"int\",\"required\":true,"
	"     \"min\":\"0\",\"max\":\"100\",\"step\":1,\"unit\":\"%\",\"method\":\"R\"},"
	"    {\"property_name\":\"flow\",\"data_type\":\"long\",\"min\":0,\"max\":4294967295,"
	"     \"method\":\"R\"},"
	"    {\"property_name\":\"mode\",\"data_type\":\"enum\",\"enum_list\":[\"eco\",\"fast\"],"
	"     \"method\":\"RW\",\"default_value\":\"eco\"},"
	"    {\"property_name\":\"label\",\"data_type\":\"string\",\"max_length\":8},"
	"    {\"property_name\":\"seen\",\"data_type\":\"DateTime\"},"
	"    {\"property_name\":\"temp\",\"data_type\":\"decimal\",\"min\":-40.5,\"max\":85},"
	"    {\"property_name\":\"valve\",\"data_type\":\"boolean\"},"
	"    {\"property_name\":\"extra\",\"data_type\":\"jsonObject\"},"
	"    {\"property_name\":\"tags\",\"data_type\":\"string list\"}],"
	"  \"commands\":[{\"command_name\":\"SET_INTERVAL\","
	"    \"paras\":[{\"para_name\":\"interval\",\"data_type\":\"int\",\"required\":true,"
	"               \"min\":1,\"max\":86400},"
	"              {\"para_name\":\"note\",\"data_type\":\"string\"}],"
	"    \"responses\":[{\"response_name\":\"ACK\",\"paras\":[{\"para_name\":\"result\","
	"                   \"data_type\":\"int\"}]}]}]}]";

static json_t *parse(const char *s)
{
	json_error_t e;
	json_t *j = json_loads(s, 0, &e);
	if (!j)
		fail_msg("bad test JSON: %s: %s", e.text, s);
	return j;
}

static void test_valid_model(void **state)
{
	(void)state;
	json_t *caps = parse(water_meter);
	char err[256] = "";
	assert_int_equal(product_model_check(caps, err, sizeof(err)), 0);
	const json_t *svc = product_model_service(caps, "WaterMeter");
	assert_non_null(svc);
	assert_null(product_model_service(caps, "Other"));
	assert_non_null(product_model_property(svc, "flow"));
	assert_null(product_model_property(svc, "nope"));
	assert_non_null(product_model_command(svc, "SET_INTERVAL"));
	assert_null(product_model_command(svc, "REBOOT"));
	json_t *empty = parse("[]");
	assert_int_equal(product_model_check(empty, err, sizeof(err)), 0);
	json_decref(empty);
	json_decref(caps);
}

/* Each bad model and a piece of the error it must give. */
static void test_bad_models(void **state)
{
	(void)state;
	static const struct {
		const char *model;
		const char *error;
	} cases[] = {
		{ "{}", "service_capabilities: must be an array" },
		{ "[1]", "service_capabilities[0]: must be an object" },
		{ "[{}]", "service_capabilities[0].service_id: must be a string" },
		{ "[{\"service_id\":\"\"}]", "service_capabilities[0].service_id" },
		{ "[{\"service_id\":\"a\"},{\"service_id\":\"a\"}]",
		  "service_capabilities[1].service_id: \"a\" is defined twice" },
		{ "[{\"service_id\":\"a\",\"option\":\"Sometimes\"}]", "option: must be" },
		{ "[{\"service_id\":\"a\",\"properties\":{}}]", "properties: must be an array" },
		{ "[{\"service_id\":\"a\",\"properties\":[{\"property_name\":\"p\"}]}]",
		  "service_capabilities[0].properties[0].data_type: must be one of" },
		{ "[{\"service_id\":\"a\",\"properties\":[{\"property_name\":\"p\","
		  "\"data_type\":\"uint12\"}]}]",
		  "properties[0].data_type" },
		{ "[{\"service_id\":\"a\",\"properties\":[{\"property_name\":\"p\","
		  "\"data_type\":\"int\",\"min\":\"ten\"}]}]",
		  "properties[0].min: must be a number" },
		{ "[{\"service_id\":\"a\",\"properties\":[{\"property_name\":\"p\","
		  "\"data_type\":\"int\",\"min\":5,\"max\":1}]}]",
		  "min is greater than max" },
		{ "[{\"service_id\":\"a\",\"properties\":[{\"property_name\":\"p\","
		  "\"data_type\":\"string\",\"max\":1}]}]",
		  "min and max apply to int, long and decimal only" },
		{ "[{\"service_id\":\"a\",\"properties\":[{\"property_name\":\"p\","
		  "\"data_type\":\"enum\"}]}]",
		  "properties[0].enum_list: an enum needs a non-empty list" },
		{ "[{\"service_id\":\"a\",\"properties\":[{\"property_name\":\"p\","
		  "\"data_type\":\"enum\",\"enum_list\":[1]}]}]",
		  "enum_list[0]: must be a string" },
		{ "[{\"service_id\":\"a\",\"properties\":[{\"property_name\":\"p\","
		  "\"data_type\":\"int\",\"method\":\"RX\"}]}]",
		  "properties[0].method" },
		{ "[{\"service_id\":\"a\",\"properties\":[{\"property_name\":\"p\","
		  "\"data_type\":\"int\",\"required\":\"yes\"}]}]",
		  "properties[0].required" },
		{ "[{\"service_id\":\"a\",\"properties\":[{\"property_name\":\"p\","
		  "\"data_type\":\"int\",\"max\":10,\"default_value\":11}]}]",
		  "properties[0].default_value: 11 is above max 10" },
		{ "[{\"service_id\":\"a\",\"properties\":[{\"property_name\":\"p\","
		  "\"data_type\":\"int\"},{\"property_name\":\"p\",\"data_type\":\"int\"}]}]",
		  "properties[1].property_name: \"p\" is defined twice" },
		{ "[{\"service_id\":\"a\",\"properties\":[{\"property_name\":\"p\","
		  "\"data_type\":\"string\",\"max_length\":-1}]}]",
		  "properties[0].max_length" },
		{ "[{\"service_id\":\"a\",\"commands\":[{\"paras\":[]}]}]",
		  "commands[0].command_name" },
		{ "[{\"service_id\":\"a\",\"commands\":[{\"command_name\":\"C\","
		  "\"paras\":[{\"para_name\":\"x\",\"data_type\":\"float\"}]}]}]",
		  "commands[0].paras[0].data_type" },
		{ "[{\"service_id\":\"a\",\"commands\":[{\"command_name\":\"$properties\"}]}]",
		  "commands[0].command_name: names starting with $ are reserved" },
		{ "[{\"service_id\":\"a\",\"commands\":[{\"command_name\":\"C\"},"
		  "{\"command_name\":\"C\"}]}]",
		  "commands[1].command_name: \"C\" is defined twice" },
		{ "[{\"service_id\":\"a\",\"commands\":[{\"command_name\":\"C\","
		  "\"responses\":[{\"paras\":[]}]}]}]",
		  "commands[0].responses[0].response_name" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *caps = parse(cases[i].model);
		char err[256] = "";
		assert_int_equal(product_model_check(caps, err, sizeof(err)), -EINVAL);
		if (!strstr(err, cases[i].error))
			fail_msg("case %zu: '%s' not in '%s'", i, cases[i].error, err);
		json_decref(caps);
	}
}

static void expect_properties(const json_t *svc, const char *data, int want, const char *error)
{
	json_t *d = parse(data);
	char err[256] = "";
	assert_int_equal(product_model_check_properties(svc, d, err, sizeof(err)), want);
	if (error && !strstr(err, error))
		fail_msg("'%s' not in '%s' for %s", error, err, data);
	json_decref(d);
}

static void test_values(void **state)
{
	(void)state;
	json_t *caps = parse(water_meter);
	const json_t *svc = product_model_service(caps, "WaterMeter");
	expect_properties(svc,
			  "{\"battery\":87,\"flow\":4294967295,\"mode\":\"fast\",\"label\":\"abc\","
			  "\"seen\":\"20261125T101500Z\",\"temp\":-12.5,\"valve\":true,"
			  "\"extra\":{\"a\":1},\"tags\":[\"x\",\"y\"]}",
			  0, NULL);
	expect_properties(svc, "{}", 0, NULL);
	expect_properties(svc, "{\"battery\":101}", -EINVAL, "WaterMeter.battery: 101 is above max 100");
	expect_properties(svc, "{\"battery\":-1}", -EINVAL, "below min");
	expect_properties(svc, "{\"battery\":1.5}", -EINVAL, "32-bit integer");
	expect_properties(svc, "{\"battery\":\"87\"}", -EINVAL, "must be a number");
	expect_properties(svc, "{\"flow\":1.5}", -EINVAL, "integer (long)");
	expect_properties(svc, "{\"mode\":\"turbo\"}", -EINVAL, "not in enum_list");
	expect_properties(svc, "{\"label\":\"123456789\"}", -EINVAL, "max_length 8");
	expect_properties(svc, "{\"seen\":\"2026-11-25\"}", -EINVAL, "yyyyMMdd");
	expect_properties(svc, "{\"temp\":-41}", -EINVAL, "below min -40.5");
	expect_properties(svc, "{\"valve\":1}", -EINVAL, "true or false");
	expect_properties(svc, "{\"extra\":[1]}", -EINVAL, "JSON object");
	expect_properties(svc, "{\"tags\":[\"x\",2]}", -EINVAL, "tags[1]");
	expect_properties(svc, "{\"pressure\":3}", -EINVAL, "not a property of service WaterMeter");
	expect_properties(svc, "[1]", -EINVAL, "must be a JSON object");
	json_decref(caps);
}

static void test_paras(void **state)
{
	(void)state;
	json_t *caps = parse(water_meter);
	const json_t *cmd = product_model_command(product_model_service(caps, "WaterMeter"),
						  "SET_INTERVAL");
	char err[256];
	json_t *p = parse("{\"interval\":300,\"note\":\"n\"}");
	assert_int_equal(product_model_check_paras(cmd, p, err, sizeof(err)), 0);
	json_decref(p);
	p = parse("{\"note\":\"n\"}");
	assert_int_equal(product_model_check_paras(cmd, p, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "paras.interval: required by command SET_INTERVAL"));
	json_decref(p);
	p = parse("{\"interval\":0}");
	assert_int_equal(product_model_check_paras(cmd, p, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "paras.interval: 0 is below min 1"));
	json_decref(p);
	p = parse("{\"interval\":5,\"speed\":1}");
	assert_int_equal(product_model_check_paras(cmd, p, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "paras.speed: not a para of command SET_INTERVAL"));
	json_decref(p);
	assert_int_equal(product_model_check_paras(cmd, NULL, err, sizeof(err)), -EINVAL);
	p = parse("[]");
	assert_int_equal(product_model_check_paras(cmd, p, err, sizeof(err)), -EINVAL);
	json_decref(p);
	json_decref(caps);
}

static void test_mappings(void **state)
{
	(void)state;
	json_t *caps = parse(water_meter);
	static const struct {
		const char *mappings;
		const char *error; /* NULL: valid */
	} cases[] = {
		{ "[]", NULL },
		{ "[{\"path\":\"3303/0/5700\",\"service_id\":\"WaterMeter\",\"property_name\":\"temp\"},"
		  "{\"path\":\"/3/0/9\",\"service_id\":\"WaterMeter\",\"property_name\":\"battery\"}]",
		  NULL },
		{ "{}", "resource_mappings: must be an array" },
		{ "[{\"path\":\"3303/0\",\"service_id\":\"WaterMeter\",\"property_name\":\"temp\"}]",
		  "resource_mappings[0].path" },
		{ "[{\"path\":\"a/b/c\",\"service_id\":\"WaterMeter\",\"property_name\":\"temp\"}]",
		  "resource_mappings[0].path" },
		{ "[{\"path\":\"3303/0/99999\",\"service_id\":\"WaterMeter\",\"property_name\":\"temp\"}]",
		  "resource_mappings[0].path" },
		{ "[{\"service_id\":\"WaterMeter\",\"property_name\":\"temp\"}]",
		  "resource_mappings[0].path" },
		{ "[{\"path\":\"3303/0/5700\",\"service_id\":\"Other\",\"property_name\":\"temp\"}]",
		  "resource_mappings[0].service_id" },
		{ "[{\"path\":\"3303/0/5700\",\"service_id\":\"WaterMeter\",\"property_name\":\"x\"}]",
		  "resource_mappings[0].property_name" },
		{ "[{\"path\":\"3/0/9\",\"service_id\":\"WaterMeter\",\"property_name\":\"battery\"},"
		  "{\"path\":\"/3/0/9\",\"service_id\":\"WaterMeter\",\"property_name\":\"flow\"}]",
		  "resource_mappings[1].path: /3/0/9 is mapped twice" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *m = parse(cases[i].mappings);
		char err[256] = "";
		int rc = product_model_check_mappings(caps, m, err, sizeof(err));
		if (!cases[i].error)
			assert_int_equal(rc, 0);
		else if (rc != -EINVAL || !strstr(err, cases[i].error))
			fail_msg("case %zu: rc %d, '%s' not in '%s'", i, rc, cases[i].error, err);
		json_decref(m);
	}
	/* No model at all: every mapping is refused. */
	json_t *m = parse("[{\"path\":\"3/0/9\",\"service_id\":\"WaterMeter\",\"property_name\":\"battery\"}]");
	char err[256];
	assert_int_equal(product_model_check_mappings(NULL, m, err, sizeof(err)), -EINVAL);
	json_decref(m);
	json_decref(caps);
}

/* Random JSON built from model-like pieces: the checker answers 0 or -EINVAL. */
static json_t *random_value(unsigned *seed, int depth)
{
	static const char *const keys[] = { "service_id", "properties", "commands", "property_name",
					    "data_type", "min", "max", "enum_list", "paras",
					    "para_name", "command_name", "max_length", "method",
					    "default_value", "required", "responses", "response_name" };
	static const char *const strings[] = { "int", "enum", "string", "a", "", "RW", "10",
					       "DateTime", "string list", "x" };
	int kind = depth > 4 ? (int)(rand_r(seed) % 4) : (int)(rand_r(seed) % 6);
	switch (kind) {
	case 0:
		return json_integer((json_int_t)(rand_r(seed) % 21) - 10);
	case 1:
		return json_string(strings[rand_r(seed) % 10]);
	case 2:
		return rand_r(seed) % 2 ? json_true() : json_null();
	case 3:
		return json_real((double)(rand_r(seed) % 100) / 7.0);
	case 4: {
		json_t *a = json_array();
		for (unsigned n = rand_r(seed) % 4; n; n--)
			json_array_append_new(a, random_value(seed, depth + 1));
		return a;
	}
	default: {
		json_t *o = json_object();
		for (unsigned n = rand_r(seed) % 5; n; n--)
			json_object_set_new(o, keys[rand_r(seed) % 17], random_value(seed, depth + 1));
		return o;
	}
	}
}

static void test_random_models(void **state)
{
	(void)state;
	unsigned seed = 7;
	int valid = 0;
	for (int i = 0; i < 20000; i++) {
		json_t *caps = json_array();
		for (unsigned n = rand_r(&seed) % 3; n; n--)
			json_array_append_new(caps, random_value(&seed, 1));
		char err[256];
		int rc = product_model_check(caps, err, sizeof(err));
		assert_true(rc == 0 || rc == -EINVAL);
		valid += rc == 0;
		json_t *data = random_value(&seed, 3);
		const json_t *svc = json_array_get(caps, 0);
		if (rc == 0 && svc) {
			rc = product_model_check_properties(svc, data, err, sizeof(err));
			assert_true(rc == 0 || rc == -EINVAL);
		}
		json_decref(data);
		json_decref(caps);
	}
	/* The generator makes some valid models (e.g. []), so both paths ran. */
	assert_true(valid > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_model),   cmocka_unit_test(test_bad_models),
		cmocka_unit_test(test_values),	      cmocka_unit_test(test_paras),
		cmocka_unit_test(test_mappings),
		cmocka_unit_test(test_random_models),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
