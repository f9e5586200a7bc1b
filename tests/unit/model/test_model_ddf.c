/*
 * Tests of the DDF XML loader: an IPSO-style object, a loaded object replacing a built-in
 * one, and files that are refused (not XML, no ObjectID, bad IDs, unknown types, twice).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "model/model.h"

static const char temperature[] =
	"<LWM2M><Object ObjectType=\"MODefinition\"><Name>Temperature</Name>"
	"<ObjectID>3303</ObjectID><ObjectVersion>1.1</ObjectVersion>"
	"<MultipleInstances>Multiple</MultipleInstances><Mandatory>Optional</Mandatory>"
	"<Resources>"
	"<Item ID=\"5700\"><Name>Sensor Value</Name><Operations>R</Operations>"
	"<MultipleInstances>Single</MultipleInstances><Mandatory>Mandatory</Mandatory>"
	"<Type>Float</Type></Item>"
	"<Item ID=\"5605\"><Name>Reset</Name><Operations>E</Operations>"
	"<MultipleInstances>Single</MultipleInstances><Mandatory>Optional</Mandatory>"
	"<Type></Type></Item>"
	"<Item ID=\"5750\"><Name>Application Type</Name><Operations>RW</Operations>"
	"<MultipleInstances>Multiple</MultipleInstances><Mandatory>Optional</Mandatory>"
	"<Type>String</Type></Item>"
	"</Resources></Object></LWM2M>";

static int teardown(void **state)
{
	(void)state;
	model_unload_all();
	return 0;
}

static void test_load(void **state)
{
	(void)state;
	char err[160];
	assert_null(model_object(3303));
	assert_int_equal(model_load_ddf(temperature, strlen(temperature), err, sizeof(err)), 0);
	const struct model_object *o = model_object(3303);
	assert_non_null(o);
	assert_string_equal(o->name, "Temperature");
	assert_string_equal(o->version, "1.1");
	assert_true(o->multiple);
	assert_int_equal(o->resource_count, 3);
	bool multiple;
	assert_int_equal(model_type_of(NULL, 3303, 5700, &multiple), LWM2M_TYPE_FLOAT);
	assert_false(multiple);
	assert_int_equal(model_type_of(NULL, 3303, 5750, &multiple), LWM2M_TYPE_STRING);
	assert_true(multiple);
	const struct model_resource *r = model_resource(o, 5605);
	assert_int_equal(r->ops, MODEL_OP_E);
	assert_int_equal(r->type, LWM2M_TYPE_NONE);
	assert_true(model_is_loaded(3303));
	/* Twice is refused. */
	assert_int_equal(model_load_ddf(temperature, strlen(temperature), err, sizeof(err)),
			 -EEXIST);
}

static void test_replaces_builtin(void **state)
{
	(void)state;
	const char *device = "<LWM2M><Object><Name>My Device</Name><ObjectID>3</ObjectID>"
			     "<Resources><Item ID=\"0\"><Type>Integer</Type></Item></Resources>"
			     "</Object></LWM2M>";
	char err[160];
	assert_int_equal(model_type_of(NULL, 3, 0, NULL), LWM2M_TYPE_STRING);
	assert_int_equal(model_load_ddf(device, strlen(device), err, sizeof(err)), 0);
	assert_int_equal(model_type_of(NULL, 3, 0, NULL), LWM2M_TYPE_INTEGER);
	model_unload_all();
	assert_int_equal(model_type_of(NULL, 3, 0, NULL), LWM2M_TYPE_STRING);
}

static void test_refused(void **state)
{
	(void)state;
	const char *bad[] = {
		"",
		"not xml",
		"<LWM2M><Object><Name>x</Name></Object>",              /* unterminated */
		"<LWM2M><Object><Name>x</Name></Object></LWM2M>",      /* no ObjectID */
		"<LWM2M><Object><ObjectID>65535</ObjectID></Object></LWM2M>",
		"<LWM2M><Object><ObjectID>x</ObjectID></Object></LWM2M>",
		"<LWM2M><Object><ObjectID>9000</ObjectID><Resources><Item ID=\"-1\"/>"
		"</Resources></Object></LWM2M>",
		"<LWM2M><Object><ObjectID>9000</ObjectID><Resources><Item/></Resources>"
		"</Object></LWM2M>",
		"<LWM2M><Object><ObjectID>9000</ObjectID><Resources><Item ID=\"1\">"
		"<Type>Quaternion</Type></Item></Resources></Object></LWM2M>",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char err[160] = "";
		int rc = model_load_ddf(bad[i], strlen(bad[i]), err, sizeof(err));
		if (rc != -EBADMSG)
			fail_msg("accepted '%s' (%d)", bad[i], rc);
		assert_true(err[0] != '\0');
	}
	assert_null(model_object(9000));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_load, teardown),
		cmocka_unit_test_teardown(test_replaces_builtin, teardown),
		cmocka_unit_test_teardown(test_refused, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
