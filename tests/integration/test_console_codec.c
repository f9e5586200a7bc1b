/*
 * Integration tests of the codec calls the web console's codec editor makes (docs/api.md
 * "Codecs"): the product's codec examples and their limits, and codec errors that name the
 * line of the source (error_line), against the real daemon. The rest of the console's API
 * is test_console_api.c's.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "harness.h"

static int setup(void **state)
{
	struct daemon_proc *d = calloc(1, sizeof(*d));
	assert_non_null(d);
	daemon_start(d, NULL);
	*state = d;
	return 0;
}

static int teardown(void **state)
{
	struct daemon_proc *d = *state;
	daemon_stop(d); /* exits 0: no leak, no sanitizer report */
	daemon_cleanup(d);
	free(d);
	return 0;
}

/* A call whose status must be want; its answer parsed (NULL for none). */
static json_t *api(struct daemon_proc *d, const char *method, const char *path,
		   const char *body, int want)
{
	static char resp[65536];
	int status = http_call(d, method, path, body, resp, sizeof(resp));
	if (status != want)
		fail_msg("%s %s: %d, not %d: %.600s", method, path, status, want, resp);
	return resp[0] ? json_loads(resp, 0, NULL) : NULL;
}

/* A 400 whose error_msg holds want. */
static json_t *api_400(struct daemon_proc *d, const char *method, const char *path,
		       const char *body, const char *want)
{
	json_t *r = api(d, method, path, body, 400);
	const char *msg = json_string_value(json_object_get(r, "error_msg"));
	if (!msg || !strstr(msg, want))
		fail_msg("%s %s: error_msg \"%s\" does not say \"%s\"", method, path,
			 msg ? msg : "(none)", want);
	return r;
}

static const char *str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "";
}

/*
 * Codec examples, and codec errors that name the line.
 */

static void test_codec_examples(void **state)
{
	struct daemon_proc *f = *state;
	api_create_product(f, "wm");
	const char *path = "/v5/iot/p1/products/wm/codec/examples";
	json_t *e = api(f, "GET", path, NULL, 200);
	assert_int_equal(json_array_size(json_object_get(e, "examples")), 0);
	json_decref(e);
	e = api(f, "PUT", path,
		"{\"examples\":[{\"name\":\"report\",\"payload_hex\":\"0057000186A0\"},"
		"{\"name\":\"empty\",\"payload_hex\":\"\",\"extra\":1}]}",
		200);
	assert_int_equal(json_array_size(json_object_get(e, "examples")), 2);
	json_decref(e);
	e = api(f, "GET", path, NULL, 200);
	const json_t *first = json_array_get(json_object_get(e, "examples"), 0);
	assert_string_equal(str(first, "name"), "report");
	assert_string_equal(str(first, "payload_hex"), "0057000186A0");
	assert_null(json_object_get(json_array_get(json_object_get(e, "examples"), 1), "extra"));
	json_decref(e);

	/* The limits. */
	json_t *list = json_array();
	char hex[2051];
	memset(hex, 'a', 2050);
	hex[2050] = '\0';
	for (int i = 0; i < 21; i++)
		json_array_append_new(list, json_pack("{s:s#, s:s}", "name", "n0123456789abcdefghij",
						      (int)(1 + i), "payload_hex", "00"));
	json_t *too_many = json_pack("{s:o}", "examples", list);
	char *body = json_dumps(too_many, JSON_COMPACT);
	json_decref(too_many);
	json_decref(api_400(f, "PUT", path, body, "at most 20"));
	free(body);
	json_decref(api_400(f, "PUT", path, "{\"examples\":[{\"name\":\"x\",\"payload_hex\":\"abc\"}]}",
			    "examples[0].payload_hex must have an even number"));
	json_decref(api_400(f, "PUT", path, "{\"examples\":[{\"name\":\"x\",\"payload_hex\":\"zz\"}]}",
			    "examples[0].payload_hex must be hex"));
	json_decref(api_400(f, "PUT", path, "{\"examples\":[{\"name\":\"\",\"payload_hex\":\"00\"}]}",
			    "examples[0].name must be 1-64"));
	json_decref(api_400(f, "PUT", path,
			    "{\"examples\":[{\"name\":\"a\",\"payload_hex\":\"00\"},"
			    "{\"name\":\"a\",\"payload_hex\":\"01\"}]}",
			    "examples[1].name is used by examples[0]"));
	json_decref(api_400(f, "PUT", path, "{\"examples\":{}}", "examples must be an array"));
	json_decref(api_400(f, "PUT", path, "{\"examples\":[{\"name\":\"a\"}]}",
			    "examples[0].payload_hex must be a string"));
	char big[2200];
	snprintf(big, sizeof(big), "{\"examples\":[{\"name\":\"big\",\"payload_hex\":\"%s\"}]}",
		 hex);
	json_decref(api_400(f, "PUT", path, big, "examples[0].payload_hex must be 0-2048"));
	hex[2048] = '\0';
	snprintf(big, sizeof(big), "{\"examples\":[{\"name\":\"big\",\"payload_hex\":\"%s\"}]}",
		 hex);
	json_decref(api(f, "PUT", path, big, 200));
	/* Refused bodies stored nothing: the last good one stands. */
	e = api(f, "GET", path, NULL, 200);
	assert_string_equal(str(json_array_get(json_object_get(e, "examples"), 0), "name"), "big");
	json_decref(e);

	json_decref(api(f, "GET", "/v5/iot/p1/products/nope/codec/examples", NULL, 404));
	json_decref(api(f, "PUT", "/v5/iot/p1/products/nope/codec/examples",
			"{\"examples\":[]}", 404));
	/* They go with the product. */
	json_decref(api(f, "DELETE", "/v5/iot/p1/products/wm", NULL, 204));
	api_create_product(f, "wm");
	e = api(f, "GET", path, NULL, 200);
	assert_int_equal(json_array_size(json_object_get(e, "examples")), 0);
	json_decref(e);
}

/* A 400 of the codec routes whose error_msg says "line N" and error_line is N. */
static void expect_line(struct daemon_proc *f, const char *method, const char *path,
			json_t *body, int line)
{
	char *text = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	char want[32];
	snprintf(want, sizeof(want), "line %d", line);
	json_t *r = api_400(f, method, path, text, want);
	free(text);
	assert_int_equal(json_integer_value(json_object_get(r, "error_line")), line);
	json_decref(r);
}

static void test_codec_errors_name_the_line(void **state)
{
	struct daemon_proc *f = *state;
	api_create_product(f, "wm");
	const char *codec = "/v5/iot/p1/products/wm/codec";
	expect_line(f, "PUT", codec,
		    json_pack("{s:s, s:s}", "kind", "js", "source",
			      "function decode(p) {\n  var x = 1;\n  return x +;\n}\n"),
		    3);
	expect_line(f, "PUT", codec,
		    json_pack("{s:s, s:s}", "kind", "js", "source",
			      "var a = 1;\nundefinedThing();\nfunction decode(p) {}\n"),
		    2);
	expect_line(f, "PUT", codec,
		    json_pack("{s:s, s:s}", "kind", "declarative", "source",
			      "{\n  \"messages\": [\n    ,\n  ]\n}\n"),
		    3);
	/* A test of a codec that throws in decode(). */
	expect_line(f, "POST", "/v5/iot/p1/products/wm/codec/test",
		    json_pack("{s:s, s:s, s:s}", "kind", "js", "source",
			      "function decode(p) {\n  return p.x.y;\n}\n", "payload_hex", "00"),
		    2);
	/* A declarative layout's error names the field, not a line. */
	json_t *r = api_400(f, "PUT", codec,
			    "{\"kind\":\"declarative\",\"source\":\"{\\\"messages\\\":[{\\\"id\\\":0,"
			    "\\\"kind\\\":\\\"report\\\",\\\"service_id\\\":\\\"S\\\","
			    "\\\"fields\\\":[{\\\"name\\\":\\\"a\\\",\\\"offset\\\":0,"
			    "\\\"type\\\":\\\"uint12\\\"}]}],\\\"message_id\\\":{\\\"offset\\\":0,"
			    "\\\"type\\\":\\\"uint8\\\"}}\"}",
			    "messages[0].fields[0]");
	assert_null(json_object_get(r, "error_line"));
	json_decref(r);
	/* No codec was stored by any of it. */
	json_decref(api(f, "GET", codec, NULL, 404));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_codec_examples, setup, teardown),
		cmocka_unit_test_setup_teardown(test_codec_errors_name_the_line, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
