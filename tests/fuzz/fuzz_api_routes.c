/*
 * libFuzzer target for the REST API's request bodies as the routes themselves check them
 * (src/api/api_devices.c, api_products.c, api_platform.c, and below them product_model.c,
 * iot_platform.c, iot_shadow.c, iot_mapped.c, the declarative codec and the store).
 *
 * The routes see a struct api_call, never libmicrohttpd (api_internal.h), so they run here
 * without a daemon or a socket: each input is one call with a fuzzed JSON body against a
 * fresh platform over an in-memory store (rolled back after each input) — a project with two
 * products (the water meter of the integration tests with its declarative codec, and a product of
 * resource mappings with a property of every data type, no codec) and a device of each, the meter
 * routable through a CoAP endpoint that drops what it is given. Query strings are absent
 * (libmicrohttpd parses them: see fuzz_api_json for the helpers that read their values).
 *
 * Input: [route][body]. Routes: device create and update, product create and update,
 * async command create, shadow PUT, forwarding rule create, declarative codec PUT and test
 * (a body asking for a JavaScript codec is skipped: fuzzing Duktape's compiler is not
 * this target's job).
 *
 * What must hold: the answer is 2xx, or 4xx with {"error_code","error_msg"} strings —
 * never 5xx, whatever the body; a 2xx has a JSON body (204 none); afterwards the devices
 * and their shadows read back (200) and the platform's tick runs. Bad input changes
 * nothing it should not, and nothing crashes or leaks.
 *
 * FUZZ_VERBOSE=1 in the environment prints each call's status and reply.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "meter_fixture.h"  /* generated: tests/integration/meter_fixture.h.in */
#include "api/api_internal.h"
#include "coap/coap_ep.h"
#include "fuzz_common.h"
#include "iot/iot_platform.h"
#include "lwm2m/lwm2m_requests.h"
#include "store/store.h"
#include "util/log.h"

#define PROJECT "p"

/* A product of resource mappings: a property of every data type (the writable ones have
 * resources to be written to), and a command with a para of each. */
static const char every_product[] =
    "{\"product_id\":\"mapped\",\"name\":\"Every type\",\"read_format\":\"tlv\","
    "\"service_capabilities\":[{\"service_id\":\"Every\",\"option\":\"Optional\","
    "\"properties\":["
    "{\"property_name\":\"i\",\"data_type\":\"int\",\"min\":\"-5\",\"max\":\"5\","
    "\"method\":\"RW\"},"
    "{\"property_name\":\"l\",\"data_type\":\"long\",\"method\":\"RW\"},"
    "{\"property_name\":\"d\",\"data_type\":\"decimal\",\"min\":0.5,\"step\":0.5,"
    "\"method\":\"RW\"},"
    "{\"property_name\":\"s\",\"data_type\":\"string\",\"max_length\":8,\"method\":\"RW\","
    "\"default_value\":\"abc\"},"
    "{\"property_name\":\"t\",\"data_type\":\"DateTime\",\"method\":\"RW\"},"
    "{\"property_name\":\"j\",\"data_type\":\"jsonObject\",\"method\":\"R\"},"
    "{\"property_name\":\"e\",\"data_type\":\"enum\",\"enum_list\":[\"on\",\"off\"],"
    "\"method\":\"RW\"},"
    "{\"property_name\":\"b\",\"data_type\":\"boolean\",\"method\":\"RW\"},"
    "{\"property_name\":\"sl\",\"data_type\":\"string list\",\"method\":\"R\"}],"
    "\"commands\":[{\"command_name\":\"ALL\",\"paras\":["
    "{\"para_name\":\"i\",\"data_type\":\"int\",\"required\":true},"
    "{\"para_name\":\"e\",\"data_type\":\"enum\",\"enum_list\":[\"x\"]},"
    "{\"para_name\":\"sl\",\"data_type\":\"string list\"}]}]}],"
    "\"resource_mappings\":["
    "{\"path\":\"3303/0/5700\",\"service_id\":\"Every\",\"property_name\":\"d\"},"
    "{\"path\":\"/1/0/1\",\"service_id\":\"Every\",\"property_name\":\"l\"},"
    "{\"path\":\"3/0/14\",\"service_id\":\"Every\",\"property_name\":\"s\"},"
    "{\"path\":\"1/0/6\",\"service_id\":\"Every\",\"property_name\":\"b\"},"
    "{\"path\":\"3/0/13\",\"service_id\":\"Every\",\"property_name\":\"t\"},"
    "{\"path\":\"3/0/9\",\"service_id\":\"Every\",\"property_name\":\"i\"},"
    "{\"path\":\"9999/0/0\",\"service_id\":\"Every\",\"property_name\":\"e\"}]}";

struct env {
	uv_loop_t loop;
	struct store *store;
	struct coap_ep *ep;
	struct lwm2m_requests *requests;
	struct iot_platform *platform;
	struct api_server api;
	int64_t now;
};

static struct env *env_now; /* for the clock callbacks */

static int64_t clock_ms(void)
{
	return env_now->now;
}

static uint64_t clock_ms_u(void)
{
	return (uint64_t)env_now->now;
}

static void drop(void *ctx, const struct addr *peer, const uint8_t *data, size_t len)
{
	(void)ctx;
	(void)peer;
	struct coap_msg m;
	FUZZ_CHECK(coap_msg_parse(&m, data, len) == 0, "the platform sent bad CoAP");
}

static int route_device(void *ctx, const char *node_id, struct lwm2m_route *route)
{
	struct env *e = ctx;
	if (strcmp(node_id, "m1") != 0)
		return -ENOTCONN;
	memset(route, 0, sizeof(*route));
	route->ep = e->ep;
	addr_parse(&route->peer, "192.0.2.7:5683");
	return 0;
}

static void publish(void *ctx, const char *project_id, const char *device_id, const char *event,
		    const char *json)
{
	(void)ctx;
	(void)project_id;
	(void)device_id;
	(void)event;
	json_t *v = json_loads(json, 0, NULL);
	FUZZ_CHECK(v, "an event that is not JSON: %s", json);
	json_decref(v);
}

/* Runs one route with body and the path's id; returns the status. */
static unsigned call(struct env *e, void (*route)(struct api_call *), const char *id,
		     const char *body, size_t len, const char *url)
{
	struct api_call c = { .api = &e->api,
			      .project_id = PROJECT,
			      .id = id,
			      .body = body,
			      .body_len = len,
			      .url = url,
			      .method = "POST" };
	route(&c);
	unsigned status = c.status;
	FUZZ_CHECK(status >= 200 && status < 500, "status %u: %s", status,
		   c.reply ? json_string_value(json_object_get(c.reply, "error_msg"))
			   : "(no body)");
	if (status >= 400) {
		const json_t *code = json_object_get(c.reply, "error_code");
		const json_t *msg = json_object_get(c.reply, "error_msg");
		FUZZ_CHECK(json_is_string(code) && json_is_string(msg) &&
			       json_string_length(msg) > 0,
			   "a %u without error_code and error_msg", status);
	} else if (status != 204) {
		FUZZ_CHECK(c.reply != NULL, "a %u without a body", status);
	}
	if (c.reply) {
		char *text = json_dumps(c.reply, JSON_COMPACT);
		FUZZ_CHECK(text, "the reply does not serialize");
		if (getenv("FUZZ_VERBOSE")) /* to see what an input does: FUZZ_VERBOSE=1 */
			fprintf(stderr, "%s %s: %u %s\n", url, id ? id : "-", status, text);
		free(text);
	}
	json_decref(c.reply);
	free(c.text);
	return status;
}

static void must(struct env *e, void (*route)(struct api_call *), const char *id, const char *body,
		 unsigned want)
{
	unsigned got = call(e, route, id, body, body ? strlen(body) : 0, "/");
	if (got != want)
		FUZZ_FAIL("set-up: %u, not %u, for %s", got, want, body ? body : "(no body)");
}

/* The per-input parts: CoAP endpoint, requests and platform, over the shared store. */
static void env_start(struct env *e)
{
	env_now = e;
	e->now = 1700000000000;
	if (uv_loop_init(&e->loop) != 0)
		FUZZ_FAIL("set-up: loop");
	struct coap_ep_config cfg;
	coap_ep_config_defaults(&cfg);
	cfg.random_seed = 1;
	if (coap_ep_create(&e->ep, &cfg, drop, NULL, e) != 0 ||
	    lwm2m_requests_create(&e->requests, &e->loop, route_device, clock_ms_u, e) != 0)
		FUZZ_FAIL("set-up: CoAP");
	/* One codec thread: declarative codecs run on the caller's, JS ones are skipped. */
	struct iot_platform_deps pdeps = { .store = e->store,
					   .requests = e->requests,
					   .publish = publish,
					   .ctx = e,
					   .now_ms = clock_ms,
					   .max_pending = 3,
					   .loop = &e->loop,
					   .codec = { .threads = 1 } };
	if (iot_platform_create(&e->platform, &pdeps) != 0)
		FUZZ_FAIL("set-up: platform");
	memset(&e->api, 0, sizeof(e->api));
	e->api.deps.store = e->store;
	e->api.deps.platform = e->platform;
	api_limits_defaults(&e->api.limits);
}

static void env_stop(struct env *e)
{
	iot_platform_destroy(e->platform);
	lwm2m_requests_destroy(e->requests);
	coap_ep_destroy(e->ep);
	uv_run(&e->loop, UV_RUN_DEFAULT);
	if (uv_loop_close(&e->loop) != 0)
		FUZZ_FAIL("handles left on the loop");
}

/* The store, once: the products, the codec and the devices, made through the routes. */
static void env_seed(struct env *e)
{
	if (store_open(&e->store, ":memory:") != 0 || store_project_ensure(e->store, PROJECT) != 0)
		FUZZ_FAIL("set-up: store");
	env_start(e);
	char body[4096];
	snprintf(body, sizeof(body),
		 "{\"product_id\":\"meter\",\"name\":\"Water meter\",\"data_format\":\"binary\","
		 "\"service_capabilities\":%s}",
		 meter_model);
	must(e, api_products_create, NULL, body, 201);
	json_t *codec = json_pack("{s:s, s:s}", "kind", "declarative", "source", meter_layout);
	char *text = json_dumps(codec, JSON_COMPACT);
	must(e, api_codec_put, "meter", text, 200);
	free(text);
	json_decref(codec);
	must(e, api_products_create, NULL, every_product, 201);
	must(e, api_devices_create, NULL,
	     "{\"node_id\":\"m1\",\"device_id\":\"meter1\",\"product_id\":\"meter\"}", 201);
	must(e, api_devices_create, NULL,
	     "{\"node_id\":\"e1\",\"device_id\":\"every1\",\"product_id\":\"mapped\","
	     "\"auth_info\":{\"secure_access\":true,\"secret\":\"00112233445566778899\"}}",
	     201);
	env_stop(e);
}

/* A JavaScript codec in a codec body: not compiled here. */
static bool asks_for_js(const uint8_t *body, size_t len)
{
	json_t *v = json_loadb((const char *)body, len, 0, NULL);
	const char *kind = json_string_value(json_object_get(v, "kind"));
	bool js = kind && strcmp(kind, "declarative") != 0;
	json_decref(v);
	return js;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool quiet;
	if (!quiet) {
		log_threshold = (enum log_level)(LOG_LEVEL_ERROR + 1);
		quiet = true;
	}
	if (size == 0 || size > 16384)
		return 0;
	uint8_t which = data[0];
	const char *body = (const char *)data + 1;
	size_t len = size - 1;
	const char *device = which & 0x80 ? "every1" : "meter1";
	const char *product = which & 0x80 ? "mapped" : "meter";
	if ((which & 0x7F) % 10 >= 8 && asks_for_js(data + 1, len))
		return 0;

	/* Each input runs inside one transaction that is rolled back after it, over fresh
	 * in-memory parts: inputs do not see each other's effects. */
	static struct env e;
	if (!e.store)
		env_seed(&e);
	if (store_begin(e.store) != 0)
		FUZZ_FAIL("store_begin");
	env_start(&e);
	switch ((which & 0x7F) % 10) {
	case 0:
		call(&e, api_devices_create, NULL, body, len, "/");
		break;
	case 1:
		call(&e, api_devices_update, device, body, len, "/");
		break;
	case 2:
		call(&e, api_products_create, NULL, body, len, "/");
		break;
	case 3:
		call(&e, api_products_update, product, body, len, "/");
		break;
	case 4:
	case 5:
		call(&e, api_commands_create, device, body, len, "/");
		break;
	case 6:
		call(&e, api_shadow_put, device, body, len, "/");
		break;
	case 7:
		call(&e, api_rules_create, NULL, body, len, "/");
		break;
	case 8:
		call(&e, api_codec_put, product, body, len, "/");
		break;
	default:
		call(&e, api_codec_test, product, body, len, "/");
		break;
	}
	/* What was stored reads back, and time passing settles it without surprises. */
	must(&e, api_devices_get, "meter1", NULL, 200);
	must(&e, api_devices_get, "every1", NULL, 200);
	must(&e, api_shadow_get, "meter1", NULL, 200);
	must(&e, api_shadow_get, "every1", NULL, 200);
	must(&e, api_products_get, "meter", NULL, 200);
	must(&e, api_products_get, "mapped", NULL, 200);
	e.now += 400 * 1000;
	iot_platform_tick(e.platform);
	e.now += 3 * 86400 * 1000;
	iot_platform_tick(e.platform);
	env_stop(&e);
	if (store_rollback(e.store) != 0)
		FUZZ_FAIL("store_rollback");
	return 0;
}
