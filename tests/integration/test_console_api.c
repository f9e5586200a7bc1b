/*
 * Integration tests of what the web console needs of the API (docs/api.md "Statistics",
 * "List devices", "Get a device", "Push to applications", "Codecs"): the real daemon,
 * devices played on raw UDP sockets and by lwm2m-sim (over DTLS too), an HTTP receiver
 * for push.
 *
 * Covered: the statistics' counts and counters moving as devices are created, register
 * (one in queue mode, asleep after the window, awake when it speaks), de-register and
 * are deleted, as reports come and commands end, and another project seeing none of it;
 * the device list by name prefix, node_id prefix and creation, paged by marker over a
 * few thousand devices with every device exactly once, with product and status filters,
 * the bounds of offset and marker; a device's queue_mode, asleep, last_seen over plain
 * CoAP and its cipher_suite over DTLS (both suites, hibernated too); forwarding rules'
 * stats after deliveries, failures (breaker open) and drops. The codec's part is in
 * test_console_codec.c.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "harness.h"
#include "meter_fixture.h"

#define KEY_HEX "7365637265746b657931"

struct fixture {
	struct daemon_proc d;
	pid_t sims[2];
	char sim_out[2][320];
	struct receiver r;
	bool receiver_on;
};

static const char *const queue_args[] = { "--queue-window", "1", NULL };

static struct fixture *start(const char *const *args)
{
	struct fixture *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	daemon_start(&f->d, args);
	for (int i = 0; i < 2; i++)
		snprintf(f->sim_out[i], sizeof(f->sim_out[i]), "%s/sim%d.out", f->d.dir, i);
	return f;
}

static int setup_queue(void **state)
{
	*state = start(queue_args);
	return 0;
}

static int setup_plain(void **state)
{
	*state = start(NULL);
	return 0;
}

static int setup_dtls_idle(void **state)
{
	static const char *const args[] = { "--dtls-idle-seconds", "1", "--queue-window", "1",
					    NULL };
	*state = start(args);
	return 0;
}

static int setup_push(void **state)
{
	static const char *const args[] = { "--push-breaker-failures", "2",
					    "--push-breaker-cooldown", "600",
					    "--push-project-outbox-max", "4", NULL };
	*state = start(args);
	return 0;
}

static void sims_stop(struct fixture *f)
{
	for (int i = 0; i < 2; i++) {
		if (f->sims[i] > 0) {
			kill(f->sims[i], SIGTERM);
			waitpid(f->sims[i], NULL, 0);
			f->sims[i] = 0;
		}
	}
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	sims_stop(f);
	if (f->receiver_on)
		receiver_stop(&f->r);
	daemon_stop(&f->d); /* exits 0: no leak, no sanitizer report */
	daemon_cleanup(&f->d);
	free(f);
	return 0;
}

/* The API. */

/* A call whose status must be want; its answer parsed (NULL for none). */
static json_t *api(struct fixture *f, const char *method, const char *path, const char *body,
		   int want)
{
	static char resp[262144];
	int status = http_call(&f->d, method, path, body, resp, sizeof(resp));
	if (status != want)
		fail_msg("%s %s: %d, not %d: %.600s", method, path, status, want, resp);
	return resp[0] ? json_loads(resp, 0, NULL) : NULL;
}

/* The same with a JSON body (stolen). */
static json_t *api_json(struct fixture *f, const char *method, const char *path, json_t *body,
			int want)
{
	char *text = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	json_t *r = api(f, method, path, text, want);
	free(text);
	return r;
}

/* A 400 whose error_msg holds want. */
static json_t *api_400(struct fixture *f, const char *method, const char *path,
		       const char *body, const char *want)
{
	json_t *r = api(f, method, path, body, 400);
	const char *msg = json_string_value(json_object_get(r, "error_msg"));
	if (!msg || !strstr(msg, want))
		fail_msg("%s %s: error_msg \"%s\" does not say \"%s\"", method, path,
			 msg ? msg : "(none)", want);
	return r;
}

static json_int_t num(const json_t *o, const char *dotted)
{
	char path[128];
	snprintf(path, sizeof(path), "%s", dotted);
	const json_t *v = o;
	for (char *seg = strtok(path, "."); seg && v; seg = strtok(NULL, "."))
		v = json_object_get(v, seg);
	if (!json_is_integer(v))
		fail_msg("%s is not an integer in %s", dotted, json_dumps(o, JSON_COMPACT));
	return json_integer_value(v);
}

static const char *str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "";
}

static void make_product(struct fixture *f, const char *id, bool with_codec)
{
	json_t *caps = json_loads(meter_model, 0, NULL);
	json_decref(api_json(f, "POST", "/v5/iot/p1/products",
			     json_pack("{s:s, s:s, s:o}", "product_id", id, "name", "Water meter",
				       "service_capabilities", caps),
			     201));
	if (!with_codec)
		return;
	char path[128];
	snprintf(path, sizeof(path), "/v5/iot/p1/products/%s/codec", id);
	json_decref(api_json(f, "PUT", path,
			     json_pack("{s:s, s:s}", "kind", "declarative", "source", meter_layout),
			     200));
}

static void make_device(struct fixture *f, const char *product, const char *node,
			const char *name, bool secure)
{
	json_t *body = json_pack("{s:s, s:s, s:s, s:{s:b, s:s}}", "node_id", node, "product_id",
				 product, "device_name", name, "auth_info", "secure_access",
				 secure, "secret", KEY_HEX);
	json_decref(api_json(f, "POST", "/v5/iot/p1/devices", body, 201));
}

static json_t *statistics(struct fixture *f)
{
	return api(f, "GET", "/v5/iot/p1/statistics", NULL, 200);
}

/* Polls the statistics until the dotted field reaches want; returns them. */
static json_t *stats_wait(struct fixture *f, const char *field, json_int_t want,
			  int timeout_ms)
{
	json_t *s = NULL;
	for (int waited = 0; waited <= timeout_ms; waited += 50) {
		json_decref(s);
		s = statistics(f);
		if (num(s, field) == want)
			return s;
		sleep_ms(50);
	}
	fail_msg("%s never became %lld: %s", field, (long long)want, json_dumps(s, JSON_COMPACT));
	return NULL;
}

/* Devices. */

/* lwm2m-sim as node (over DTLS with extra "--psk-identity …"), in slot i. */
static void sim_start(struct fixture *f, int i, const char *node, bool secure,
		      const char *extra)
{
	char addr[ADDR_STR_MAX], cmd[1536];
	addr_format(secure ? &f->d.coaps : &f->d.coap, addr);
	if (secure)
		snprintf(cmd, sizeof(cmd),
			 "exec %s --server %s --psk-identity %s --psk " KEY_HEX
			 " --lifetime 300 --serve 60 %s > %s 2>&1",
			 sim_bin(), addr, node, extra, f->sim_out[i]);
	else
		snprintf(cmd, sizeof(cmd),
			 "exec %s --server %s --ep %s --lifetime 300 --serve 60 %s > %s 2>&1",
			 sim_bin(), addr, node, extra, f->sim_out[i]);
	f->sims[i] = fork();
	assert_true(f->sims[i] >= 0);
	if (f->sims[i] == 0) {
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	for (int waited = 0; !strstr(sim_output_of(f->sim_out[i]), "registered rd/");
	     waited += 20) {
		if (waited > 10000)
			fail_msg("the simulator did not register: %s", sim_output_of(f->sim_out[i]));
		sleep_ms(20);
	}
}

/* A Register with binding UQ (queue mode) from fd; the registration id into id. */
static void register_queue_mode(struct fixture *f, int fd, const char *ep, char id[32])
{
	static uint16_t mid = 0x5100;
	struct coap_msg m, r;
	uint8_t buf[2048];
	char q_ep[96];
	snprintf(q_ep, sizeof(q_ep), "ep=%s", ep);
	uint8_t token[4] = { 0x51, (uint8_t)mid, 1, 2 };
	coap_msg_init(&m, COAP_TYPE_CON, COAP_CODE_POST, mid++, token, sizeof(token));
	coap_msg_add_option(&m, COAP_OPTION_URI_PATH, "rd", 2);
	coap_msg_add_uint_option(&m, COAP_OPTION_CONTENT_FORMAT, COAP_CT_LINK_FORMAT);
	coap_msg_add_option(&m, COAP_OPTION_URI_QUERY, q_ep, strlen(q_ep));
	coap_msg_add_option(&m, COAP_OPTION_URI_QUERY, "lt=300", 6);
	coap_msg_add_option(&m, COAP_OPTION_URI_QUERY, "lwm2m=1.1", 9);
	coap_msg_add_option(&m, COAP_OPTION_URI_QUERY, "b=UQ", 4);
	coap_msg_set_payload(&m, "</1/0>,</3/0>", 13);
	assert_int_equal(coap_exchange(fd, &f->d.coap, &m, &r, buf, sizeof(buf)), 0);
	assert_int_equal(r.code, COAP_CODE_CREATED);
	id[0] = '\0';
	for (size_t i = 0; i < r.option_count; i++)
		if (r.options[i].number == COAP_OPTION_LOCATION_PATH && r.options[i].len == 10)
			snprintf(id, 32, "%.*s", 10, (const char *)r.options[i].value);
	assert_int_equal(strlen(id), 10);
}

static json_t *device_lwm2m(struct fixture *f, const char *device_id)
{
	char path[256];
	snprintf(path, sizeof(path), "/v5/iot/p1/devices/%s", device_id);
	json_t *d = api(f, "GET", path, NULL, 200);
	json_t *l = json_incref(json_object_get(d, "lwm2m"));
	json_decref(d);
	if (!l)
		fail_msg("%s has no lwm2m", device_id);
	return l;
}

/*
 * Statistics.
 */

static void test_statistics_follow_devices_and_commands(void **state)
{
	struct fixture *f = *state;
	json_t *s = statistics(f);
	assert_int_equal(num(s, "devices.total"), 0);
	assert_int_equal(num(s, "counters.registrations"), 0);
	assert_int_equal(num(s, "counters.push.backlog"), 0);
	assert_int_equal(strlen(str(s, "since")), 16);
	json_int_t t0 = num(s, "time_ms");
	json_decref(s);

	make_product(f, "wm", true);
	make_device(f, "wm", "meter1", "meter one", false);
	make_device(f, "wm", "q1", "queue one", false);
	make_device(f, "wm", "gone1", "to delete", false);
	s = statistics(f);
	assert_int_equal(num(s, "devices.total"), 3);
	assert_int_equal(num(s, "devices.inactive"), 3);
	assert_int_equal(num(s, "devices.online"), 0);
	assert_true(num(s, "time_ms") >= t0);
	json_decref(s);

	/* A meter that reports and answers commands. */
	sim_start(f, 0, "meter1", false, "--meter --report-every 300");
	json_decref(stats_wait(f, "devices.online", 1, 3000));
	s = statistics(f);
	assert_int_equal(num(s, "counters.registrations"), 1);
	assert_int_equal(num(s, "devices.inactive"), 2);
	json_decref(s);
	for (int waited = 0;; waited += 50) {
		s = statistics(f);
		if (num(s, "counters.reports") >= 2)
			break;
		json_decref(s);
		if (waited > 8000)
			fail_msg("no reports counted");
		sleep_ms(50);
	}
	json_decref(s);
	json_decref(api_json(f, "POST", "/v5/iot/p1/devices/wm_meter1/async-commands",
			     json_pack("{s:s, s:s, s:{s:i}, s:s}", "service_id", "WaterMeter",
				       "command_name", "SET_INTERVAL", "paras", "interval", 60,
				       "send_strategy", "immediately"),
			     201));
	json_decref(stats_wait(f, "counters.commands.successful", 1, 8000));
	/* To a device that is not registered: at once FAILED; delayed, EXPIRED. */
	json_decref(api_json(f, "POST", "/v5/iot/p1/devices/wm_q1/async-commands",
			     json_pack("{s:s, s:s, s:{s:i}, s:s}", "service_id", "WaterMeter",
				       "command_name", "SET_INTERVAL", "paras", "interval", 60,
				       "send_strategy", "immediately"),
			     201));
	json_decref(api_json(f, "POST", "/v5/iot/p1/devices/wm_q1/async-commands",
			     json_pack("{s:s, s:s, s:{s:i}, s:i}", "service_id", "WaterMeter",
				       "command_name", "SET_INTERVAL", "paras", "interval", 60,
				       "expire_time", 0),
			     201));
	json_decref(stats_wait(f, "counters.commands.expired", 1, 5000));
	s = statistics(f);
	assert_int_equal(num(s, "counters.commands.created"), 3);
	assert_int_equal(num(s, "counters.commands.failed"), 1);
	assert_int_equal(num(s, "counters.commands.timeout"), 0);
	json_decref(s);

	/* A queue-mode device: awake after its Register, asleep once the window (1 s)
	 * passed, awake again when it speaks. */
	int fd = coap_socket("127.0.0.1:0");
	char id[32];
	register_queue_mode(f, fd, "q1", id);
	s = stats_wait(f, "devices.online", 2, 3000);
	assert_int_equal(num(s, "devices.asleep"), 0);
	assert_int_equal(num(s, "counters.registrations"), 2);
	json_decref(s);
	json_decref(stats_wait(f, "devices.asleep", 1, 4000));
	assert_int_equal(coap_update(fd, &f->d.coap, id, NULL), COAP_CODE_CHANGED);
	s = statistics(f);
	assert_int_equal(num(s, "devices.asleep"), 0);
	assert_true(num(s, "counters.updates") >= 1);
	json_decref(s);
	assert_int_equal(coap_deregister(fd, &f->d.coap, id), COAP_CODE_DELETED);
	close(fd);
	s = stats_wait(f, "devices.offline", 1, 3000);
	assert_int_equal(num(s, "devices.online"), 1);
	assert_int_equal(num(s, "devices.asleep"), 0);
	assert_int_equal(num(s, "counters.deregistrations"), 1);
	json_decref(s);

	json_decref(api(f, "DELETE", "/v5/iot/p1/devices/wm_gone1", NULL, 204));
	s = statistics(f);
	assert_int_equal(num(s, "devices.total"), 2);
	assert_int_equal(num(s, "devices.inactive"), 0);
	json_decref(s);

	/* Another project sees nothing of it. */
	char token2[80], resp[4096];
	daemon_token_create(&f->d, "p2", token2);
	assert_int_equal(http_call_auth(&f->d, "GET", "/v5/iot/p2/statistics", NULL, token2, resp,
					sizeof(resp)),
			 200);
	s = json_loads(resp, 0, NULL);
	assert_int_equal(num(s, "devices.total"), 0);
	assert_int_equal(num(s, "counters.registrations"), 0);
	assert_int_equal(num(s, "counters.commands.created"), 0);
	json_decref(s);
	assert_int_equal(http_call_auth(&f->d, "GET", "/v5/iot/p1/statistics", NULL, token2, resp,
					sizeof(resp)),
			 404);
}

/*
 * The device list.
 */

#define MANY 2400

struct seen {
	char ids[MANY][64];
	int count;
	int pages;
};

/* Walks every page of query by marker; checks each page and the first page's count. */
static void walk(struct fixture *f, const char *query, struct seen *w, json_int_t want_count)
{
	char marker[1024] = "", path[2048];
	memset(w, 0, sizeof(*w));
	for (;;) {
		snprintf(path, sizeof(path), "/v5/iot/p1/devices?limit=50%s%s%s", query,
			 marker[0] ? "&marker=" : "", marker);
		json_t *page = api(f, "GET", path, NULL, 200);
		const json_t *items = json_object_get(page, "devices");
		const json_t *p = json_object_get(page, "page");
		assert_true(json_array_size(items) <= 50);
		if (w->pages++ == 0) {
			assert_false(json_is_true(json_object_get(p, "count_capped")));
			assert_int_equal(num(p, "count"), want_count);
		}
		size_t i;
		const json_t *d;
		json_array_foreach(items, i, d) {
			assert_true(w->count < MANY);
			snprintf(w->ids[w->count++], 64, "%s", str(d, "device_id"));
		}
		const char *m = json_string_value(json_object_get(p, "marker"));
		if (!m) {
			json_decref(page);
			break;
		}
		snprintf(marker, sizeof(marker), "%s", m);
		json_decref(page);
		assert_true(w->pages < 1000);
	}
	assert_int_equal(w->count, want_count);
}

/* Every device of the walk once: node_ids "sn%05d" map to indices. */
static void expect_each_once(const struct seen *w)
{
	static bool hit[MANY];
	memset(hit, 0, sizeof(hit));
	for (int i = 0; i < w->count; i++) {
		const char *node = strrchr(w->ids[i], '_') + 1;
		int n = atoi(node + 2);
		assert_true(n >= 0 && n < MANY);
		if (hit[n])
			fail_msg("%s listed twice", w->ids[i]);
		hit[n] = true;
	}
}

static void test_device_list_search_and_markers(void **state)
{
	struct fixture *f = *state;
	api_create_product(&f->d, "wm");
	api_create_product(&f->d, "tr");
	static const char *const names[] = { "kitchen", "hall", "Kitchen" };
	for (int i = 0; i < MANY; i++) {
		char node[16], name[32];
		snprintf(node, sizeof(node), "sn%05d", (i * 7) % MANY); /* not in node order */
		snprintf(name, sizeof(name), "%s-%04d", names[i % 3], i % 500);
		make_device(f, i % 4 == 0 ? "tr" : "wm", node, name, false);
	}
	struct seen *w = calloc(1, sizeof(*w));
	assert_non_null(w);
	json_t *p;

	/* Creation order, everything. */
	walk(f, "", w, MANY);
	expect_each_once(w);
	assert_string_equal(w->ids[0], "tr_sn00000");
	assert_string_equal(w->ids[1], "wm_sn00007");

	/* A name prefix, case-sensitive, in name order. */
	walk(f, "&name=kitchen", w, MANY / 3);
	expect_each_once(w);
	walk(f, "&name=Kitchen-01", w, 166); /* Kitchen-0100..0199: i%500 in 100..199, i%3 2 */
	expect_each_once(w);
	walk(f, "&name=kitchen-0001", w, 2); /* i = 501 and 2001 */
	walk(f, "&name=nobody", w, 0);

	/* A node_id prefix, in node_id order. */
	walk(f, "&node_id_prefix=sn01", w, 1000);
	expect_each_once(w);
	for (int i = 1; i < w->count; i++)
		assert_true(strcmp(w->ids[i - 1], w->ids[i]) != 0);
	walk(f, "&node_id_prefix=sn02", w, 400);

	/* With filters: the product's, and a prefix and a product together. */
	walk(f, "&product_id=tr", w, MANY / 4);
	expect_each_once(w);
	walk(f, "&product_id=tr&name=hall", w, MANY / 12);
	expect_each_once(w);
	walk(f, "&status=ONLINE", w, 0);
	walk(f, "&status=INACTIVE&product_id=wm", w, MANY - MANY / 4);

	/* Products say how many devices they have. */
	p = api(f, "GET", "/v5/iot/p1/products/tr", NULL, 200);
	assert_int_equal(num(p, "device_count"), MANY / 4);
	json_decref(p);
	p = api(f, "GET", "/v5/iot/p1/products", NULL, 200);
	size_t k;
	json_t *item;
	json_array_foreach(json_object_get(p, "products"), k, item)
		assert_int_equal(num(item, "device_count"),
				 strcmp(str(item, "product_id"), "wm") == 0 ? MANY - MANY / 4
									    : MANY / 4);
	json_decref(p);

	/* The exact node_id of before. */
	walk(f, "&node_id=sn00042", w, 1);
	assert_string_equal(w->ids[0], "wm_sn00042");

	/* offset: kept for existing clients, bounded; after a marker it skips from there. */
	p = api(f, "GET", "/v5/iot/p1/devices?limit=3&offset=7", NULL, 200);
	json_t *items = json_object_get(p, "devices");
	assert_int_equal(json_array_size(items), 3);
	walk(f, "", w, MANY);
	assert_string_equal(str(json_array_get(items, 0), "device_id"), w->ids[7]);
	json_decref(p);
	json_decref(api_400(f, "GET", "/v5/iot/p1/devices?offset=10001", NULL,
			    "offset must be at most 10000"));
	json_decref(api(f, "GET", "/v5/iot/p1/devices?offset=10000", NULL, 200));

	/* Markers: malformed, or from another order, are refused. */
	json_decref(api_400(f, "GET", "/v5/iot/p1/devices?marker=zzz", NULL, "marker"));
	p = api(f, "GET", "/v5/iot/p1/devices?limit=2", NULL, 200);
	char url[1024];
	snprintf(url, sizeof(url), "/v5/iot/p1/devices?name=kit&marker=%s",
		 json_string_value(json_object_get(json_object_get(p, "page"), "marker")));
	json_decref(p);
	json_decref(api_400(f, "GET", url, NULL, "marker"));
	json_decref(api_400(f, "GET", "/v5/iot/p1/devices?node_id_prefix=a%20b", NULL,
			    "node_id_prefix"));
	free(w);
}

/*
 * A device's live registration.
 */

static void test_device_fields_plain_and_dtls(void **state)
{
	struct fixture *f = *state;
	api_create_product(&f->d, "wm");
	make_device(f, "wm", "plain1", "plain", false);
	make_device(f, "wm", "ccm1", "ccm", true);
	make_device(f, "wm", "cbc1", "cbc", true);

	/* Plain CoAP, queue mode. */
	int fd = coap_socket("127.0.0.1:0");
	char id[32];
	register_queue_mode(f, fd, "plain1", id);
	json_t *l = device_lwm2m(f, "wm_plain1");
	assert_true(json_is_true(json_object_get(l, "queue_mode")));
	assert_true(json_is_false(json_object_get(l, "asleep")));
	assert_int_equal(strlen(str(l, "last_seen")), 16);
	assert_string_equal(str(l, "transport"), "udp");
	assert_null(json_object_get(l, "cipher_suite"));
	char first_seen[32];
	snprintf(first_seen, sizeof(first_seen), "%s", str(l, "last_seen"));
	json_decref(l);
	sleep_ms(2100); /* past the window of 1 s */
	l = device_lwm2m(f, "wm_plain1");
	assert_true(json_is_true(json_object_get(l, "asleep")));
	json_decref(l);
	assert_int_equal(coap_update(fd, &f->d.coap, id, NULL), COAP_CODE_CHANGED);
	l = device_lwm2m(f, "wm_plain1");
	assert_true(json_is_false(json_object_get(l, "asleep")));
	assert_true(strcmp(str(l, "last_seen"), first_seen) > 0);
	json_decref(l);
	close(fd);

	/* DTLS, each suite; a session hibernated after a second idle still says its own. */
	sim_start(f, 0, "ccm1", true, "--ciphersuite ccm8");
	sim_start(f, 1, "cbc1", true, "--ciphersuite cbc");
	assert_int_equal(api_wait_status(&f->d, "wm_ccm1", "ONLINE", 3000), 0);
	assert_int_equal(api_wait_status(&f->d, "wm_cbc1", "ONLINE", 3000), 0);
	l = device_lwm2m(f, "wm_ccm1");
	assert_string_equal(str(l, "transport"), "dtls");
	assert_string_equal(str(l, "cipher_suite"), "TLS-PSK-WITH-AES-128-CCM-8");
	assert_true(json_is_false(json_object_get(l, "queue_mode")));
	assert_true(json_is_false(json_object_get(l, "asleep")));
	json_decref(l);
	l = device_lwm2m(f, "wm_cbc1");
	assert_string_equal(str(l, "cipher_suite"), "TLS-PSK-WITH-AES-128-CBC-SHA256");
	json_decref(l);
	for (int waited = 0; metric_value(&f->d, "lwm2md_dtls_sessions_hibernated") < 1;
	     waited += 100) {
		if (waited > 5000)
			fail_msg("the CCM-8 session never hibernated");
		sleep_ms(100);
	}
	l = device_lwm2m(f, "wm_ccm1");
	assert_string_equal(str(l, "cipher_suite"), "TLS-PSK-WITH-AES-128-CCM-8");
	json_decref(l);
}

/*
 * Forwarding rules' stats.
 */

static json_t *rule_stats(struct fixture *f, const char *rule_id)
{
	json_t *list = api(f, "GET", "/v5/iot/p1/forwarding-rules", NULL, 200);
	size_t i;
	json_t *r;
	json_array_foreach(json_object_get(list, "rules"), i, r) {
		if (strcmp(str(r, "rule_id"), rule_id) == 0) {
			json_t *s = json_incref(json_object_get(r, "stats"));
			json_decref(list);
			assert_non_null(s);
			return s;
		}
	}
	fail_msg("rule %s not listed", rule_id);
	return NULL;
}

static void make_rule(struct fixture *f, int port, char id[64])
{
	char body[256];
	snprintf(body, sizeof(body), "{\"url\":\"http://127.0.0.1:%d/e\"}", port);
	json_t *r = api(f, "POST", "/v5/iot/p1/forwarding-rules", body, 201);
	snprintf(id, 64, "%s", str(r, "rule_id"));
	const json_t *s = json_object_get(r, "stats");
	assert_int_equal(num(s, "delivered"), 0);
	assert_string_equal(str(s, "breaker"), "closed");
	json_decref(r);
}

/* Registers and de-registers node (two device.status events). */
static void status_events(struct fixture *f, const char *node)
{
	int fd = coap_socket("127.0.0.1:0");
	char id[32];
	assert_int_equal(coap_register(fd, &f->d.coap, node, "300", "</3/0>", id),
			 COAP_CODE_CREATED);
	assert_int_equal(coap_deregister(fd, &f->d.coap, id), COAP_CODE_DELETED);
	close(fd);
}

static void test_rule_stats(void **state)
{
	struct fixture *f = *state;
	api_create_product(&f->d, "wm");
	make_device(f, "wm", "pushme", "p", false);
	receiver_start(&f->r, 0, 0);
	f->receiver_on = true;
	char good[64];
	make_rule(f, f->r.port, good);
	status_events(f, "pushme");
	json_t *s = NULL;
	for (int waited = 0;; waited += 50) {
		json_decref(s);
		s = rule_stats(f, good);
		if (num(s, "delivered") == 2 && num(s, "backlog") == 0)
			break;
		if (waited > 5000)
			fail_msg("not delivered: %s", json_dumps(s, JSON_COMPACT));
		sleep_ms(50);
	}
	assert_int_equal(num(s, "failed"), 0);
	assert_int_equal(num(s, "dropped"), 0);
	assert_string_equal(str(s, "breaker"), "closed");
	json_decref(s);

	/* An endpoint that fails: two failures open its breaker (600 s); its events wait,
	 * up to the project's quota of 4, past which its oldest are dropped. */
	struct receiver bad;
	receiver_start(&bad, 0, 1000);
	char failing[64];
	make_rule(f, bad.port, failing);
	for (int i = 0; i < 4; i++)
		status_events(f, "pushme");
	for (int waited = 0;; waited += 50) {
		s = rule_stats(f, failing);
		if (strcmp(str(s, "breaker"), "open") == 0 && num(s, "dropped") > 0)
			break;
		json_decref(s);
		if (waited > 10000)
			fail_msg("the breaker did not open, or nothing dropped");
		sleep_ms(50);
	}
	assert_true(num(s, "failed") >= 2);
	assert_int_equal(num(s, "delivered"), 0);
	assert_true(num(s, "backlog") >= 1 && num(s, "backlog") <= 4);
	json_int_t backlog = num(s, "backlog");
	json_decref(s);
	/* The project's counters agree. */
	s = statistics(f);
	assert_true(num(s, "counters.push.delivered") >= 2);
	assert_true(num(s, "counters.push.failed") >= 2);
	assert_true(num(s, "counters.push.dropped") >= 1);
	assert_true(num(s, "counters.push.backlog") >= backlog);
	json_decref(s);
	receiver_stop(&bad);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_statistics_follow_devices_and_commands,
						setup_queue, teardown),
		cmocka_unit_test_setup_teardown(test_device_list_search_and_markers, setup_plain,
						teardown),
		cmocka_unit_test_setup_teardown(test_device_fields_plain_and_dtls,
						setup_dtls_idle, teardown),
		cmocka_unit_test_setup_teardown(test_rule_stats, setup_push, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
