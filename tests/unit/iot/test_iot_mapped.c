/*
 * Tests of the Writes that carry desired properties to mapped resources
 * (src/iot/iot_mapped.c, iot_mapped_write): the smallest Write for what is set — one
 * resource in plain text, an instance's resources in TLV, several instances composite in
 * SenML JSON — each payload decoded back; and the refusals: an unmapped property, a value
 * of the wrong type, nothing to write, a payload that does not fit.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "content/content.h"
#include "iot/iot_platform_internal.h"
#include "model/model.h"

/* IPSO temperature sensors 3303/0 and 3303/1 (not in the built-in models: typed by their
 * JSON values), and two resources the models type: 1/0/1 Integer, 6/0/0 Float. */
static const char mappings[] =
	"[{\"path\":\"3303/0/5750\",\"service_id\":\"Temperature\",\"property_name\":\"app_type\"},"
	" {\"path\":\"/3303/0/5701\",\"service_id\":\"Temperature\",\"property_name\":\"units\"},"
	" {\"path\":\"3303/1/5750\",\"service_id\":\"Temperature\",\"property_name\":\"app_type2\"},"
	" {\"path\":\"1/0/1\",\"service_id\":\"Temperature\",\"property_name\":\"lifetime\"},"
	" {\"path\":\"6/0/0\",\"service_id\":\"Temperature\",\"property_name\":\"lat\"},"
	" {\"path\":\"3303/0\",\"service_id\":\"Temperature\",\"property_name\":\"broken\"}]";

struct fixture {
	struct product_entry e;
	struct lwm2m_dm_request dm;
	uint8_t buf[1024];
	char err[256];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	f->e.mappings = json_loads(mappings, 0, NULL);
	assert_non_null(f->e.mappings);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	json_decref(f->e.mappings);
	free(f);
	return 0;
}

/* iot_mapped_write of paras (JSON text) into f->dm; its return code. */
static int write_of(struct fixture *f, const char *paras_text)
{
	json_t *paras = json_loads(paras_text, 0, NULL);
	assert_non_null(paras);
	memset(&f->dm, 0, sizeof(f->dm));
	f->err[0] = '\0';
	int rc = iot_mapped_write(&f->e, "Temperature", paras, &f->dm, f->buf, sizeof(f->buf),
				  f->err, sizeof(f->err));
	json_decref(paras);
	return rc;
}

/* The Write's payload decoded at its path; the values (caller frees). */
static void decode(struct fixture *f, struct lwm2m_values *values)
{
	lwm2m_values_init(values);
	assert_int_equal(content_decode((uint16_t)f->dm.content_format, &f->dm.path,
					f->dm.payload, f->dm.payload_len, model_type_of, NULL,
					values),
			 0);
}

static const struct lwm2m_value *value_at(const struct lwm2m_values *values, uint16_t inst,
					  uint16_t res)
{
	for (size_t i = 0; i < values->count; i++)
		if (values->items[i].path.ids[1] == inst && values->items[i].path.ids[2] == res)
			return &values->items[i];
	fail_msg("no value of 3303/%u/%u", inst, res);
	return NULL;
}

static void assert_text(const struct lwm2m_value *v, const char *want)
{
	assert_int_equal(v->v.bytes.len, strlen(want));
	assert_memory_equal(v->v.bytes.data, want, strlen(want));
}

static void test_one_resource_is_a_put_in_text(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(write_of(f, "{\"app_type\":\"outdoor\"}"), 0);
	assert_int_equal(f->dm.op, LWM2M_OP_WRITE_REPLACE);
	assert_int_equal(f->dm.path.len, 3);
	assert_int_equal(f->dm.path.ids[2], 5750);
	assert_int_equal(f->dm.content_format, CONTENT_TEXT);
	assert_int_equal(f->dm.payload_len, 7);
	assert_memory_equal(f->dm.payload, "outdoor", 7);

	/* The model's type wins: an Integer resource, a Float one given an integer. */
	assert_int_equal(write_of(f, "{\"lifetime\":300}"), 0);
	assert_int_equal(f->dm.payload_len, 3);
	assert_memory_equal(f->dm.payload, "300", 3);
	assert_int_equal(write_of(f, "{\"lat\":-20}"), 0);
	char text[32];
	snprintf(text, sizeof(text), "%.*s", (int)f->dm.payload_len, (const char *)f->dm.payload);
	assert_true(strtod(text, NULL) == -20.0);
}

static void test_one_instance_is_a_write_update_in_tlv(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(write_of(f, "{\"app_type\":\"indoor\",\"units\":\"Cel\"}"), 0);
	assert_int_equal(f->dm.op, LWM2M_OP_WRITE_UPDATE);
	assert_int_equal(f->dm.path.len, 2);
	assert_int_equal(f->dm.path.ids[0], 3303);
	assert_int_equal(f->dm.path.ids[1], 0);
	assert_int_equal(f->dm.content_format, CONTENT_TLV);
	struct lwm2m_values values;
	decode(f, &values);
	assert_int_equal(values.count, 2);
	assert_text(value_at(&values, 0, 5750), "indoor");
	assert_text(value_at(&values, 0, 5701), "Cel");
	lwm2m_values_free(&values);
}

static void test_several_instances_are_composite(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(write_of(f, "{\"app_type\":\"a\",\"app_type2\":\"b\",\"lat\":2.5}"),
			 0);
	assert_int_equal(f->dm.op, LWM2M_OP_WRITE_COMPOSITE);
	assert_int_equal(f->dm.path.len, 0);
	assert_int_equal(f->dm.content_format, CONTENT_SENML_JSON);
	struct lwm2m_values values;
	decode(f, &values);
	assert_int_equal(values.count, 3);
	assert_text(value_at(&values, 0, 5750), "a");
	assert_text(value_at(&values, 1, 5750), "b");
	const struct lwm2m_value *lat = NULL;
	for (size_t i = 0; i < values.count; i++)
		if (values.items[i].path.ids[0] == 6)
			lat = &values.items[i];
	assert_non_null(lat);
	assert_true(lat->v.f == 2.5);
	lwm2m_values_free(&values);
}

static void test_refusals(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(write_of(f, "{\"note\":\"x\"}"), -EINVAL);
	assert_string_equal(f->err, "Temperature.note is not mapped to a resource");
	assert_int_equal(write_of(f, "{\"broken\":\"x\"}"), -EINVAL); /* not a resource path */
	assert_int_equal(write_of(f, "{\"lifetime\":\"long\"}"), -EINVAL);
	assert_string_equal(f->err,
			    "Temperature.lifetime: the value does not fit its resource's type");
	assert_int_equal(write_of(f, "{\"lifetime\":1.5}"), -EINVAL);
	assert_int_equal(write_of(f, "{\"lat\":\"north\"}"), -EINVAL);
	assert_int_equal(write_of(f, "{\"units\":[1]}"), -EINVAL);
	assert_int_equal(write_of(f, "{\"units\":null}"), -EINVAL);
	assert_int_equal(write_of(f, "{}"), -EINVAL);
	assert_string_equal(f->err, "Temperature: nothing to write");

	/* A value longer than the buffer: refused, not truncated. */
	char big[2048];
	memset(big, 'x', sizeof(big));
	snprintf(big, sizeof(big), "{\"app_type\":\"");
	size_t n = strlen(big);
	memset(big + n, 'x', sizeof(big) - n - 3);
	memcpy(big + sizeof(big) - 3, "\"}", 3);
	assert_int_equal(write_of(f, big), -EINVAL);
	assert_non_null(strstr(f->err, "do not encode"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_one_resource_is_a_put_in_text, setup, teardown),
		cmocka_unit_test_setup_teardown(test_one_instance_is_a_write_update_in_tlv, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_several_instances_are_composite, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
