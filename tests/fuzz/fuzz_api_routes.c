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
 * Input: [route][body]. Routes: device create and update, bulk device create
 * (api_devices_batch.c: every device it reports created reads back), product create and update,
 * async command create, shadow PUT, forwarding rule create, declarative codec PUT and test
 * (a body asking for a JavaScript codec is skipped: fuzzing Duktape's compiler is not
 * this target's job), firmware campaign create (src/api/api_fw_campaigns.c, and below it
 * src/firmware/: the campaign manager, the engine that starts each device's update, the
 * settings stored in the campaign's row).
 *
 * Firmware: each input has its own engine and campaign manager (both keep campaigns in
 * memory, which the store's rollback would not undo) over the harness's CoAP parts, and the
 * store holds a package for each product whose file was uploaded once into a temporary
 * firmware directory (removed at exit). A campaign that is created is then driven: time
 * passes (its jobs start and send their first requests to the meter), it is read back, its
 * devices listed, the manager restarted from the store (the stored settings must load and
 * read back the same), then paused and resumed (route byte's top bit), cancelled and
 * deleted. The package upload itself cannot be expressed here: api_firmware_create reads
 * its product_id and version from the query string (libmicrohttpd's) and its body is
 * streamed by api_http.c; the package routes are read back after each input instead.
 *
 * What must hold: the answer is 2xx, or 4xx with {"error_code","error_msg"} strings —
 * never 5xx, whatever the body; a 2xx has a JSON body (204 none); afterwards the devices,
 * their shadows, the products, the campaigns and the packages read back (200) and the
 * platform's and the firmware's ticks run; a created campaign's settings are the same
 * after a restart, and after a cancel it is deleted (204). Bad input changes nothing it
 * should not, and nothing crashes or leaks.
 *
 * FUZZ_VERBOSE=1 in the environment prints each call's status and reply.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "meter_fixture.h"  /* generated: tests/integration/meter_fixture.h.in */
#include "api/api_internal.h"
#include "coap/coap_ep.h"
#include "firmware/fw_campaign.h"
#include "firmware/fw_engine_internal.h" /* to drive the engine's clock */
#include "firmware/fw_package.h"
#include "fuzz_common.h"
#include "iot/iot_platform.h"
#include "lwm2m/lwm2m_observe.h"
#include "lwm2m/lwm2m_requests.h"
#include "lwm2m/lwm2m_server.h"
#include "store/store.h"
#include "store/store_firmware.h"
#include "util/log.h"
#include "util/str.h"

#define PROJECT "p"
#define ROUTES 12

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
	struct lwm2m_server *lwm2m;
	struct lwm2m_observations *obs;
	struct fw_engine *engine;
	struct fw_campaigns *campaigns;
	struct api_server api;
	int64_t now;
};

/* The firmware directory (mkdtemp) and the packages' files in it, removed at exit. */
static char fw_dir[64];
static char fw_sha[2][65];

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

/* Runs one route with body and the path's id; returns the status. The reply goes to *keep
 * when keep is not NULL (the caller's to free), else it is freed. */
static unsigned call_keep(struct env *e, void (*route)(struct api_call *), const char *id,
			  const char *body, size_t len, const char *url, json_t **keep)
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
		FUZZ_CHECK(c.reply != NULL || c.reply_text != NULL, "a %u without a body", status);
	}
	if (c.reply_text) {
		/* A reply written as text (api_jsonw.h) must be JSON all the same. */
		json_error_t err;
		json_t *parsed = json_loadb(c.reply_text, c.reply_text_len, 0, &err);
		FUZZ_CHECK(parsed != NULL, "a reply written as text is not JSON: %s", err.text);
		if (!c.reply && keep)
			c.reply = parsed;
		else
			json_decref(parsed);
		free(c.reply_text);
	}
	if (c.reply) {
		char *text = json_dumps(c.reply, JSON_COMPACT);
		FUZZ_CHECK(text, "the reply does not serialize");
		if (getenv("FUZZ_VERBOSE")) /* to see what an input does: FUZZ_VERBOSE=1 */
			fprintf(stderr, "%s %s: %u %s\n", url, id ? id : "-", status, text);
		free(text);
	}
	if (keep)
		*keep = c.reply;
	else
		json_decref(c.reply);
	free(c.text);
	return status;
}

static unsigned call(struct env *e, void (*route)(struct api_call *), const char *id,
		     const char *body, size_t len, const char *url)
{
	return call_keep(e, route, id, body, len, url, NULL);
}

static void must(struct env *e, void (*route)(struct api_call *), const char *id, const char *body,
		 unsigned want)
{
	unsigned got = call(e, route, id, body, body ? strlen(body) : 0, "/");
	if (got != want)
		FUZZ_FAIL("set-up: %u, not %u, for %s", got, want, body ? body : "(no body)");
}

static void on_job_changed(void *ctx, struct fw_job *job)
{
	struct env *e = ctx;
	fw_campaigns_job_changed(e->campaigns, job);
}

/* The firmware engine and the campaign manager, as src/daemon/daemon_firmware.c wires them
 * (no event sinks: the API server is not started here), on the harness's clock. */
static void firmware_start(struct env *e)
{
	struct fw_engine_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	str_copy(cfg.coap_base, sizeof(cfg.coap_base), "coap://192.0.2.1:5683");
	str_copy(cfg.coaps_base, sizeof(cfg.coaps_base), "coaps://192.0.2.1:5684");
	static const struct fw_engine_hooks hooks = { .changed = on_job_changed };
	if (fw_engine_create(&e->engine, &e->loop, e->lwm2m, e->requests, e->obs, &cfg, &hooks,
			     e) != 0)
		FUZZ_FAIL("set-up: firmware engine");
	e->engine->now_ms = clock_ms;
	struct fw_campaigns_deps deps = { .store = e->store,
					  .engine = e->engine,
					  .firmware_dir = fw_dir };
	if (fw_campaigns_create(&e->campaigns, &e->loop, &deps) != 0)
		FUZZ_FAIL("set-up: firmware campaigns");
	fw_campaigns_tick(e->campaigns, e->now); /* its clock */
	e->api.deps.firmware = e->campaigns;
}

/* The daemon's order: the engine first (it lets go of the campaigns' jobs). */
static void firmware_stop(struct env *e)
{
	fw_engine_destroy(e->engine);
	fw_campaigns_destroy(e->campaigns);
	e->engine = NULL;
	e->campaigns = NULL;
	e->api.deps.firmware = NULL;
}

static void firmware_tick(struct env *e)
{
	fw_engine_tick(e->engine, e->now);
	fw_campaigns_tick(e->campaigns, e->now);
}

/* The per-input parts: CoAP endpoint, requests, platform and firmware, over the shared
 * store. */
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
	str_copy(e->api.deps.firmware_dir, sizeof(e->api.deps.firmware_dir), fw_dir);
	api_limits_defaults(&e->api.limits);
	static const struct lwm2m_hooks no_hooks; /* no device registers here */
	if (lwm2m_server_create(&e->lwm2m, &no_hooks, e) != 0 ||
	    lwm2m_observations_create(&e->obs) != 0)
		FUZZ_FAIL("set-up: LwM2M server");
	firmware_start(e);
}

static void env_stop(struct env *e)
{
	firmware_stop(e);
	lwm2m_observations_destroy(e->obs);
	lwm2m_server_destroy(e->lwm2m);
	iot_platform_destroy(e->platform);
	lwm2m_requests_destroy(e->requests);
	coap_ep_destroy(e->ep);
	uv_run(&e->loop, UV_RUN_DEFAULT);
	if (uv_loop_close(&e->loop) != 0)
		FUZZ_FAIL("handles left on the loop");
}

static void firmware_dir_remove(void)
{
	for (int i = 0; i < 2; i++)
		if (fw_sha[i][0])
			fw_package_file_remove(fw_dir, fw_sha[i]);
	rmdir(fw_dir);
}

/* A package of product with n bytes of a pattern: its file uploaded as the API's upload
 * writes it (fw_package.h), its row put as api_firmware_upload_end puts it. */
static void add_package(struct env *e, int i, const char *id, const char *product,
			const char *version, size_t n)
{
	struct fw_upload *u;
	uint8_t chunk[256];
	if (fw_upload_begin(&u, fw_dir, 1 << 20) != 0)
		FUZZ_FAIL("set-up: upload into %s", fw_dir);
	for (size_t done = 0; done < n; done += sizeof(chunk)) {
		size_t k = n - done < sizeof(chunk) ? n - done : sizeof(chunk);
		for (size_t j = 0; j < k; j++)
			chunk[j] = (uint8_t)(done + j + (size_t)i * 7);
		if (fw_upload_write(u, chunk, k) != 0)
			FUZZ_FAIL("set-up: upload write");
	}
	struct store_fw_package p;
	memset(&p, 0, sizeof(p));
	if (fw_upload_finish(u, fw_sha[i], &p.size) != 0)
		FUZZ_FAIL("set-up: upload finish");
	str_copy(p.project_id, sizeof(p.project_id), PROJECT);
	str_copy(p.package_id, sizeof(p.package_id), id);
	str_copy(p.product_id, sizeof(p.product_id), product);
	str_copy(p.version, sizeof(p.version), version);
	str_copy(p.description, sizeof(p.description), "fuzz");
	str_copy(p.sha256, sizeof(p.sha256), fw_sha[i]);
	p.create_time = 1700000000;
	if (store_fw_package_put(e->store, &p) != 0)
		FUZZ_FAIL("set-up: package row");
}

/* The store, once: the products, the codec and the devices, made through the routes; the
 * firmware packages. */
static void env_seed(struct env *e)
{
	if (store_open(&e->store, ":memory:") != 0 || store_project_ensure(e->store, PROJECT) != 0)
		FUZZ_FAIL("set-up: store");
	str_copy(fw_dir, sizeof(fw_dir), "/tmp/lwm2md-fuzz-fw-XXXXXX");
	if (!mkdtemp(fw_dir))
		FUZZ_FAIL("set-up: firmware directory");
	atexit(firmware_dir_remove);
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
	/* Several Block2 blocks of 1024, and a small one. */
	add_package(e, 0, "pkg-meter", "meter", "2.0", 3000);
	add_package(e, 1, "pkg-every", "mapped", "1.1", 100);
	env_stop(e);
}

/* The "settings" of a campaign read by id: sorted compact text (the caller frees). */
static char *campaign_settings(struct env *e, const char *id)
{
	json_t *reply = NULL;
	unsigned st = call_keep(e, api_fw_campaigns_get, id, NULL, 0, "/", &reply);
	FUZZ_CHECK(st == 200, "campaign %s: %u", id, st);
	char *text = json_dumps(json_object_get(reply, "settings"), JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(reply);
	FUZZ_CHECK(text, "campaign %s without settings", id);
	return text;
}

/* Firmware campaign create with a fuzzed body; a campaign it makes is driven through its
 * life (the top comment). */
static void campaign_route(struct env *e, const char *body, size_t len, bool pause)
{
	json_t *reply = NULL;
	unsigned st = call_keep(e, api_fw_campaigns_create, NULL, body, len, "/", &reply);
	const char *cid = json_string_value(json_object_get(reply, "campaign_id"));
	char id[STORE_ID_MAX + 1];
	str_copy(id, sizeof(id), cid ? cid : "");
	json_decref(reply);
	if (st != 201)
		return;
	FUZZ_CHECK(id[0], "a 201 without a campaign_id");
	char *before = campaign_settings(e, id);
	for (int i = 0; i < 3; i++) { /* its jobs start, their first requests go out */
		e->now += 1000;
		firmware_tick(e);
		uv_run(&e->loop, UV_RUN_NOWAIT);
	}
	must(e, api_fw_campaigns_get, id, NULL, 200);
	must(e, api_fw_campaigns_devices, id, NULL, 200);
	/* A restart: the campaign comes back from its row, its settings unchanged. */
	firmware_stop(e);
	firmware_start(e);
	FUZZ_CHECK(fw_campaigns_load(e->campaigns) == 0, "the stored campaign does not load");
	char *after = campaign_settings(e, id);
	FUZZ_CHECK(strcmp(before, after) == 0, "settings before a restart %s, after %s", before,
		   after);
	free(before);
	free(after);
	e->now += 1000;
	firmware_tick(e);
	if (pause) {
		call(e, api_fw_campaigns_pause, id, NULL, 0, "/");
		call(e, api_fw_campaigns_resume, id, NULL, 0, "/");
	}
	call(e, api_fw_campaigns_cancel, id, NULL, 0, "/");
	must(e, api_fw_campaigns_delete, id, NULL, 204);
	must(e, api_fw_campaigns_get, id, NULL, 404);
}

/* The bulk create: its totals match its items, and every item it reports created reads
 * back with the ids it reported. */
static void batch_route(struct env *e, const char *body, size_t len)
{
	json_t *reply = NULL;
	unsigned status = call_keep(e, api_devices_item_post, "batch", body, len, "/", &reply);
	if (status == 200) {
		const json_t *items = json_object_get(reply, "devices");
		json_int_t created = json_integer_value(json_object_get(reply, "created"));
		json_int_t failed = json_integer_value(json_object_get(reply, "failed"));
		FUZZ_CHECK(json_is_array(items) && created + failed == (json_int_t)json_array_size(items),
			   "a batch's totals do not match its items");
		size_t i;
		const json_t *item;
		json_array_foreach(items, i, item)
		{
			FUZZ_CHECK(json_integer_value(json_object_get(item, "index")) == (json_int_t)i,
				   "batch item %zu has another index", i);
			const char *id = json_string_value(json_object_get(item, "device_id"));
			if (id)
				must(e, api_devices_get, id, NULL, 200);
			else
				FUZZ_CHECK(json_is_string(json_object_get(item, "error_code")),
					   "batch item %zu is neither created nor an error", i);
		}
	}
	json_decref(reply);
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
	unsigned route = (which & 0x7Fu) % ROUTES;
	if ((route == 8 || route == 9) && asks_for_js(data + 1, len))
		return 0;

	/* Each input runs inside one transaction that is rolled back after it, over fresh
	 * in-memory parts: inputs do not see each other's effects. */
	static struct env e;
	if (!e.store)
		env_seed(&e);
	if (store_begin(e.store) != 0)
		FUZZ_FAIL("store_begin");
	env_start(&e);
	switch (route) {
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
	case 9:
		call(&e, api_codec_test, product, body, len, "/");
		break;
	case 11:
		batch_route(&e, body, len);
		break;
	default:
		campaign_route(&e, body, len, which & 0x80);
		break;
	}
	/* What was stored reads back, and time passing settles it without surprises. */
	must(&e, api_devices_get, "meter1", NULL, 200);
	must(&e, api_devices_get, "every1", NULL, 200);
	must(&e, api_shadow_get, "meter1", NULL, 200);
	must(&e, api_shadow_get, "every1", NULL, 200);
	must(&e, api_products_get, "meter", NULL, 200);
	must(&e, api_products_get, "mapped", NULL, 200);
	must(&e, api_fw_campaigns_list, NULL, NULL, 200);
	must(&e, api_firmware_list, NULL, NULL, 200);
	must(&e, api_firmware_get, "pkg-meter", NULL, 200);
	must(&e, api_firmware_get, "pkg-every", NULL, 200);
	e.now += 400 * 1000;
	iot_platform_tick(e.platform);
	firmware_tick(&e);
	e.now += 3 * 86400 * 1000;
	iot_platform_tick(e.platform);
	firmware_tick(&e);
	env_stop(&e);
	if (store_rollback(e.store) != 0)
		FUZZ_FAIL("store_rollback");
	return 0;
}
