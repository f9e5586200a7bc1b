/*
 * Tests of lwm2m_dm_build (which CoAP request each DM operation is, and which paths each
 * operation refuses) and of the built-in object models.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "lwm2m/lwm2m_dm.h"
#include "lwm2m/lwm2m_observe.h"
#include "model/model.h"

static struct lwm2m_path path_of(const char *s)
{
	struct lwm2m_path p;
	assert_int_equal(lwm2m_path_parse(s, strlen(s), &p), 0);
	return p;
}

static void build_ok(struct lwm2m_dm_request *req, struct coap_msg *m, const char *path,
		     uint8_t method)
{
	static char scratch[LWM2M_DM_SCRATCH];
	req->path = path_of(path);
	assert_int_equal(lwm2m_dm_build(req, m, scratch), 0);
	assert_int_equal(m->type, COAP_TYPE_CON);
	assert_int_equal(m->code, method);
	char got[64];
	assert_true(coap_msg_get_path(m, got, sizeof(got)) > 0);
	assert_string_equal(got, path);
}

static void test_read_and_discover(void **state)
{
	(void)state;
	struct coap_msg m;
	uint32_t v;
	struct lwm2m_dm_request r = { .op = LWM2M_OP_READ, .accept = 11542, .content_format = -1 };
	build_ok(&r, &m, "/3/0/7/1", COAP_CODE_GET);
	assert_int_equal(coap_msg_get_uint_option(&m, COAP_OPTION_ACCEPT, &v), 0);
	assert_int_equal(v, 11542);
	r.accept = -1;
	build_ok(&r, &m, "/3", COAP_CODE_GET);
	assert_int_equal(coap_msg_get_uint_option(&m, COAP_OPTION_ACCEPT, &v), -ENOENT);
	r.op = LWM2M_OP_DISCOVER;
	build_ok(&r, &m, "/3/0", COAP_CODE_GET);
	assert_int_equal(coap_msg_get_uint_option(&m, COAP_OPTION_ACCEPT, &v), 0);
	assert_int_equal(v, 40);

	/* Observe: Observe 0; its cancellation Observe 1 with the observation's token. */
	r.op = LWM2M_OP_OBSERVE;
	build_ok(&r, &m, "/3/0/9", COAP_CODE_GET);
	assert_int_equal(coap_msg_get_uint_option(&m, COAP_OPTION_OBSERVE, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(m.token_len, 0); /* coap_ep picks one */
	static const uint8_t token[] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	r.op = LWM2M_OP_OBSERVE_CANCEL;
	r.token = token;
	r.token_len = sizeof(token);
	build_ok(&r, &m, "/3/0/9", COAP_CODE_GET);
	assert_int_equal(coap_msg_get_uint_option(&m, COAP_OPTION_OBSERVE, &v), 0);
	assert_int_equal(v, 1);
	assert_memory_equal(m.token, token, 8);
	char scratch[LWM2M_DM_SCRATCH];
	r.token_len = 0;
	assert_int_equal(lwm2m_dm_build(&r, &m, scratch), -EINVAL);
}

/* The alternate path goes first; block options carry what lwm2m_requests asks. */
static void test_prefix_and_blocks(void **state)
{
	(void)state;
	struct coap_msg m;
	char scratch[LWM2M_DM_SCRATCH];
	char got[64];
	uint32_t v;
	struct lwm2m_dm_request r = { .op = LWM2M_OP_READ, .accept = -1, .content_format = -1,
				      .prefix = "/a/lwm2m" };
	r.path = path_of("/3/0/9");
	assert_int_equal(lwm2m_dm_build(&r, &m, scratch), 0);
	assert_true(coap_msg_get_path(&m, got, sizeof(got)) > 0);
	assert_string_equal(got, "/a/lwm2m/3/0/9");
	r.prefix = "";
	assert_int_equal(lwm2m_dm_build(&r, &m, scratch), 0);
	assert_true(coap_msg_get_path(&m, got, sizeof(got)) > 0);
	assert_string_equal(got, "/3/0/9");

	struct coap_block b2 = { .num = 3, .szx = 5 }, b1 = { .num = 1, .more = true, .szx = 6 };
	r.block2 = &b2;
	assert_int_equal(lwm2m_dm_build(&r, &m, scratch), 0);
	assert_int_equal(coap_msg_get_uint_option(&m, COAP_OPTION_BLOCK2, &v), 0);
	assert_int_equal(v, (3 << 4) | 5);
	assert_int_equal(coap_msg_get_uint_option(&m, COAP_OPTION_BLOCK1, &v), -ENOENT);

	static const uint8_t part[4] = { 1, 2, 3, 4 };
	struct lwm2m_dm_request w = { .op = LWM2M_OP_WRITE_REPLACE, .accept = -1,
				      .content_format = 11542, .payload = part,
				      .payload_len = sizeof(part), .block1 = &b1 };
	w.path = path_of("/3/0/15");
	assert_int_equal(lwm2m_dm_build(&w, &m, scratch), 0);
	assert_int_equal(coap_msg_get_uint_option(&m, COAP_OPTION_BLOCK1, &v), 0);
	assert_int_equal(v, (1 << 4) | 8 | 6);
	assert_int_equal(m.payload_len, 4);
}

static void test_writes_and_execute(void **state)
{
	(void)state;
	struct coap_msg m;
	uint32_t v;
	static const uint8_t tlv[] = { 0xc2, 0x01, 0x01, 0x2c };
	struct lwm2m_dm_request r = { .op = LWM2M_OP_WRITE_UPDATE, .accept = -1,
				      .content_format = 11542, .payload = tlv,
				      .payload_len = sizeof(tlv) };
	build_ok(&r, &m, "/1/0", COAP_CODE_POST);
	assert_int_equal(coap_msg_get_uint_option(&m, COAP_OPTION_CONTENT_FORMAT, &v), 0);
	assert_int_equal(v, 11542);
	assert_int_equal(m.payload_len, sizeof(tlv));
	r.op = LWM2M_OP_WRITE_REPLACE;
	build_ok(&r, &m, "/1/0/1", COAP_CODE_PUT);
	r.op = LWM2M_OP_CREATE;
	build_ok(&r, &m, "/19", COAP_CODE_POST);
	struct lwm2m_dm_request e = { .op = LWM2M_OP_EXECUTE, .accept = -1, .content_format = -1 };
	build_ok(&e, &m, "/3/0/4", COAP_CODE_POST);
	assert_int_equal(m.payload_len, 0);
	struct lwm2m_dm_request d = { .op = LWM2M_OP_DELETE, .accept = -1, .content_format = -1 };
	build_ok(&d, &m, "/19/2", COAP_CODE_DELETE);
	struct lwm2m_dm_request a = { .op = LWM2M_OP_WRITE_ATTRIBUTES, .accept = -1,
				      .content_format = -1, .attributes = "pmin=10&pmax=60&gt=2.5&st" };
	build_ok(&a, &m, "/3/0/9", COAP_CODE_PUT);
	assert_int_equal(coap_msg_count_options(&m, COAP_OPTION_URI_QUERY), 4);
	const struct coap_option *q = coap_msg_find_option(&m, COAP_OPTION_URI_QUERY);
	assert_int_equal(q->len, 7);
	assert_memory_equal(q->value, "pmin=10", 7);
}

static void test_refused(void **state)
{
	(void)state;
	char scratch[LWM2M_DM_SCRATCH];
	struct coap_msg m;
	static const uint8_t one = 1;
	struct {
		enum lwm2m_op op;
		const char *path;
		const char *attrs;
		bool payload;
	} bad[] = {
		{ LWM2M_OP_EXECUTE, "/3/0", NULL, false },      /* Execute needs a resource */
		{ LWM2M_OP_EXECUTE, "/3/0/4/0", NULL, false },
		{ LWM2M_OP_DELETE, "/3/0/1", NULL, false },     /* Delete an instance only */
		{ LWM2M_OP_DELETE, "/3", NULL, false },
		{ LWM2M_OP_CREATE, "/19/0", NULL, true },       /* Create on an object */
		{ LWM2M_OP_WRITE_UPDATE, "/1/0/1", NULL, true }, /* update an instance */
		{ LWM2M_OP_WRITE_REPLACE, "/1/0/1", NULL, false }, /* a write needs a value */
		{ LWM2M_OP_READ, "/3/0", NULL, true },           /* no payload on a read */
		{ LWM2M_OP_WRITE_ATTRIBUTES, "/3/0/9", "", false },
		{ LWM2M_OP_WRITE_ATTRIBUTES, "/3/0/9", "color=red", false },
		{ LWM2M_OP_WRITE_ATTRIBUTES, "/3/0/9", "pmin=", false },
		{ LWM2M_OP_WRITE_ATTRIBUTES, "/3/0/9", "pmin=1;x", false },
		{ LWM2M_OP_WRITE_ATTRIBUTES, "/3/0/9", "pmin=1&&pmax=2", false },
		{ LWM2M_OP_READ_COMPOSITE, "/3", NULL, true },    /* composites target "/" */
		{ LWM2M_OP_READ_COMPOSITE, "/", NULL, false },    /* ... and name paths */
		{ LWM2M_OP_WRITE_COMPOSITE, "/", NULL, false },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct lwm2m_dm_request r = { .op = bad[i].op, .accept = -1, .content_format = 0,
					      .attributes = bad[i].attrs,
					      .payload = bad[i].payload ? &one : NULL,
					      .payload_len = bad[i].payload ? 1 : 0 };
		r.path = path_of(bad[i].path);
		if (lwm2m_dm_build(&r, &m, scratch) != -EINVAL)
			fail_msg("%s on %s accepted", lwm2m_op_name(bad[i].op), bad[i].path);
	}
}

/* Cancel Observation-Composite (Core §6.4.5): FETCH / with Observe 1 and the
 * observation's token, and — RFC 7641 §3.6 — the Content-Format, Accept and path list of
 * the Observe-Composite. */
static void test_observe_composite_cancel(void **state)
{
	(void)state;
	struct coap_msg m;
	uint32_t v;
	char scratch[LWM2M_DM_SCRATCH];
	static const uint8_t token[] = { 9, 8, 7, 6 };
	static const char paths[] = "[{\"n\":\"/3/0/9\"}]";
	struct lwm2m_dm_request r = { .op = LWM2M_OP_OBSERVE_COMPOSITE_CANCEL, .accept = 112,
				      .content_format = 112, .payload = (const uint8_t *)paths,
				      .payload_len = sizeof(paths) - 1, .token = token,
				      .token_len = sizeof(token) };
	build_ok(&r, &m, "/", COAP_CODE_FETCH);
	assert_int_equal(coap_msg_count_options(&m, COAP_OPTION_URI_PATH), 0);
	assert_int_equal(coap_msg_get_uint_option(&m, COAP_OPTION_OBSERVE, &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(coap_msg_get_uint_option(&m, COAP_OPTION_CONTENT_FORMAT, &v), 0);
	assert_int_equal(v, 112);
	assert_int_equal(coap_msg_get_uint_option(&m, COAP_OPTION_ACCEPT, &v), 0);
	assert_int_equal(v, 112);
	assert_int_equal(m.token_len, sizeof(token));
	assert_memory_equal(m.token, token, sizeof(token));
	assert_int_equal(m.payload_len, sizeof(paths) - 1);
	assert_string_equal(lwm2m_op_name(r.op), "observe-composite-cancel");
	/* Without its token, its paths, or on another path than the root: refused. */
	r.token_len = 0;
	assert_int_equal(lwm2m_dm_build(&r, &m, scratch), -EINVAL);
	r.token_len = sizeof(token);
	r.payload_len = 0;
	assert_int_equal(lwm2m_dm_build(&r, &m, scratch), -EINVAL);
	r.payload_len = sizeof(paths) - 1;
	r.path = path_of("/3");
	assert_int_equal(lwm2m_dm_build(&r, &m, scratch), -EINVAL);
}

/* An observation keeps what it asked with; its paths go to the store as text and back. */
static void test_observation_request(void **state)
{
	(void)state;
	struct lwm2m_observations *obs;
	assert_int_equal(lwm2m_observations_create(&obs), 0);
	struct lwm2m_path paths[3] = { path_of("/3/0/9"), path_of("/1/0/1"),
				       path_of("/65534/65534/65534/65534") };
	struct lwm2m_observe_request req = { .format = 110, .paths = paths, .path_count = 3 };
	static const uint8_t token[] = { 1, 2 };
	struct lwm2m_path root = { .len = 0 };
	struct lwm2m_observation *o =
		lwm2m_observations_add_request(obs, "ep", &root, token, sizeof(token), &req);
	assert_non_null(o);
	assert_int_equal(o->format, 110);
	assert_int_equal(o->path_count, 3);
	char text[LWM2M_OBSERVE_PATHS_TEXT_MAX];
	assert_int_equal(lwm2m_observation_paths_format(o, text, sizeof(text)),
			 (int)strlen("/3/0/9,/1/0/1,/65534/65534/65534/65534"));
	assert_string_equal(text, "/3/0/9,/1/0/1,/65534/65534/65534/65534");
	struct lwm2m_path back[LWM2M_OBSERVE_PATHS_MAX];
	assert_int_equal(lwm2m_observe_paths_parse(text, back, LWM2M_OBSERVE_PATHS_MAX), 3);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(back[i].len, paths[i].len);
		assert_memory_equal(back[i].ids, paths[i].ids, paths[i].len * sizeof(uint16_t));
	}
	assert_int_equal(lwm2m_observe_paths_parse("", back, 4), 0);
	assert_int_equal(lwm2m_observe_paths_parse("/3/0/9,", back, 4), -EINVAL);
	assert_int_equal(lwm2m_observe_paths_parse("/3/0/9,,/1", back, 4), -EINVAL);
	assert_int_equal(lwm2m_observe_paths_parse("/1,/2,/3", back, 2), -EINVAL);
	/* A plain observation: no paths, no Accept unless asked. */
	static const uint8_t token2[] = { 3 };
	struct lwm2m_path p = path_of("/3/0/9");
	struct lwm2m_observation *plain =
		lwm2m_observations_add(obs, "ep", &p, token2, sizeof(token2));
	assert_int_equal(plain->format, -1);
	assert_int_equal(plain->path_count, 0);
	assert_int_equal(lwm2m_observation_paths_format(plain, text, sizeof(text)), 0);
	assert_string_equal(text, "");
	/* Restored as stored. */
	lwm2m_observations_remove(obs, o);
	o = lwm2m_observations_restore(obs, 42, "ep", &root, token, sizeof(token), &req);
	assert_non_null(o);
	assert_int_equal(o->path_count, 3);
	lwm2m_observations_destroy(obs);
}

static void test_models(void **state)
{
	(void)state;
	bool multiple;
	assert_int_equal(model_type_of(NULL, 3, 0, &multiple), LWM2M_TYPE_STRING);
	assert_false(multiple);
	assert_int_equal(model_type_of(NULL, 3, 6, &multiple), LWM2M_TYPE_INTEGER);
	assert_true(multiple);
	assert_int_equal(model_type_of(NULL, 3, 13, NULL), LWM2M_TYPE_TIME);
	assert_int_equal(model_type_of(NULL, 6, 0, NULL), LWM2M_TYPE_FLOAT);
	assert_int_equal(model_type_of(NULL, 19, 0, &multiple), LWM2M_TYPE_OPAQUE);
	assert_true(multiple);
	assert_int_equal(model_type_of(NULL, 3303, 5700, &multiple), LWM2M_TYPE_NONE);
	assert_int_equal(model_type_of(NULL, 3, 999, NULL), LWM2M_TYPE_NONE);
	size_t n;
	const struct model_object *all = model_objects(&n);
	assert_int_equal(n, 9);
	for (size_t i = 1; i < n; i++)
		assert_true(all[i - 1].id < all[i].id);
	assert_string_equal(model_object(3)->name, "Device");
	assert_true(model_resource(model_object(3), 4)->ops == MODEL_OP_E);
	assert_string_equal(model_type_name(LWM2M_TYPE_OBJLNK), "objlnk");
	assert_int_equal(model_type_parse("unsigned"), LWM2M_TYPE_UNSIGNED);
	assert_int_equal(model_type_parse("nonsense"), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read_and_discover),
		cmocka_unit_test(test_writes_and_execute),
		cmocka_unit_test(test_prefix_and_blocks),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_observe_composite_cancel),
		cmocka_unit_test(test_observation_request),
		cmocka_unit_test(test_models),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
