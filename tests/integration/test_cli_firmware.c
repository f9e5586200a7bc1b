/*
 * Integration tests of lwm2mctl's firmware and campaigns commands ($LWM2MCTL_BIN,
 * docs/cli.md) against the real daemon: packages uploaded from a file and from stdin (the
 * sha256 compared with mbedTLS's), listed, shown and deleted; a campaign over two devices
 * that never register (they stay starting or waiting), driven through pause, resume and
 * cancel, its devices listed page by page, `campaigns watch` exiting 1 on the cancelled
 * campaign; and a real update of one device played by lwm2m-sim --fw, where `campaigns
 * watch` exits 0 once the device succeeded.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <mbedtls/sha256.h>

#include "harness_fw.h"

#define OUT_CAP 65536
/* Bigger than libcurl's in-memory and Expect: 100-continue thresholds (1 MiB). */
#define BIG_SIZE (3u << 20)
#define E2E_SIZE 20000

struct fixture {
	struct fw_fixture fw;
	char env[1024]; /* the environment every command line starts with */
	char out[OUT_CAP];
};

static const char *ctl_bin(void)
{
	const char *bin = getenv("LWM2MCTL_BIN");
	if (!bin)
		fail_msg("LWM2MCTL_BIN is not set");
	return bin;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	fw_setup(&f->fw, NULL);
	char http[ADDR_STR_MAX];
	addr_format(&f->fw.d.http, http);
	/* HOME is the daemon's temporary directory: no user's config file is read. */
	snprintf(f->env, sizeof(f->env),
		 "env -u XDG_CONFIG_HOME -u LWM2MD_URL -u LWM2MD_TOKEN HOME=%s NO_COLOR=1 "
		 "LWM2MD_URL=http://%s LWM2MD_TOKEN=%s",
		 f->fw.d.dir, http, f->fw.d.token);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	fw_teardown(&f->fw);
	free(f);
	return 0;
}

/* Runs lwm2mctl with args (printf-style); f->out holds its stdout and stderr. Returns the
 * exit status. */
static int ctl(struct fixture *f, const char *fmt, ...)
{
	char args[4096], cmd[6144];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	snprintf(cmd, sizeof(cmd), "%s %s %s", f->env, ctl_bin(), args);
	return run_command(cmd, f->out, sizeof(f->out), 90);
}

/* ctl that must exit with want; returns f->out. */
static const char *ctl_expect(struct fixture *f, int want, const char *fmt, ...)
{
	char args[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	int rc = ctl(f, "%s", args);
	if (rc != want)
		fail_msg("lwm2mctl %s: exit %d (want %d)\n%s", args, rc, want, f->out);
	return f->out;
}

/* ctl with --json that must exit 0 and print one JSON value (caller frees). */
static json_t *ctl_json(struct fixture *f, const char *fmt, ...)
{
	char args[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	ctl_expect(f, 0, "--json %s", args);
	json_error_t err;
	json_t *j = json_loads(f->out, 0, &err);
	if (!j)
		fail_msg("lwm2mctl --json %s: not JSON (%s):\n%s", args, err.text, f->out);
	return j;
}

static const char *str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "";
}

static long long num(const json_t *o, const char *key)
{
	return (long long)json_integer_value(json_object_get(o, key));
}

/* Writes a package file of size bytes starting "LWM2MFW version=<version>\n" (what
 * lwm2m-sim reads its new version from) into the daemon's directory; its path to path
 * and its SHA-256 (hex) to sha. */
static void write_package(struct fixture *f, const char *name, const char *version,
			  size_t size, char *path, size_t cap, char sha[65])
{
	uint8_t *bytes = malloc(size);
	assert_non_null(bytes);
	int head = snprintf((char *)bytes, size, "LWM2MFW version=%s\n", version);
	assert_true(head > 0 && (size_t)head < size);
	uint32_t seed = (uint32_t)size;
	for (size_t i = (size_t)head; i < size; i++) {
		seed = seed * 1103515245u + 12345u;
		bytes[i] = (uint8_t)(seed >> 16);
	}
	uint8_t d[32];
	mbedtls_sha256_ret(bytes, size, d, 0);
	for (int i = 0; i < 32; i++)
		snprintf(sha + 2 * i, 3, "%02x", d[i]);
	snprintf(path, cap, "%s/%s", f->fw.d.dir, name);
	FILE *fp = fopen(path, "wb");
	assert_non_null(fp);
	assert_int_equal(fwrite(bytes, 1, size, fp), size);
	assert_int_equal(fclose(fp), 0);
	free(bytes);
}

static void test_help_and_completion(void **state)
{
	struct fixture *f = *state;
	static const char *const commands[] = {
		"firmware upload",  "firmware list",    "firmware get",    "firmware delete",
		"campaigns create", "campaigns list",   "campaigns get",   "campaigns devices",
		"campaigns pause",  "campaigns resume", "campaigns cancel", "campaigns delete",
		"campaigns watch",
	};
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		char want[64];
		snprintf(want, sizeof(want), "usage: lwm2mctl %s", commands[i]);
		assert_in(ctl_expect(f, 0, "%s --help", commands[i]), want);
	}
	assert_in(ctl_expect(f, 0, "help campaigns"), "campaigns watch");
	assert_in(ctl_expect(f, 2, "campaigns"), "needs a subcommand");
	assert_in(ctl_expect(f, 2, "campaigns watch x --interval 0"), "--interval");
	assert_in(ctl_expect(f, 2, "campaigns devices x --limit 1001"), "--limit");
	/* No daemon there: 4, before any byte of the file is needed. */
	assert_in(ctl_expect(f, 4, "--url http://127.0.0.1:1 --project p1 firmware upload "
				   "--product meter --version 1 /dev/null"),
		  "cannot reach");
	const char *script = ctl_expect(f, 0, "completion bash");
	assert_in(script, "\"campaigns watch\")");
	assert_in(script, "--failure-threshold");
	assert_in(script, "--delivery) COMPREPLY=($(compgen -W \"auto pull push\"");
	assert_in(script, "--state) COMPREPLY=($(compgen -W \"waiting starting");
}

static void test_packages(void **state)
{
	struct fixture *f = *state;
	char big[400], small[400], sha_big[65], sha_small[65];
	write_package(f, "big.bin", "2.0.0", BIG_SIZE, big, sizeof(big), sha_big);
	write_package(f, "small.bin", "2.0.1", 5000, small, sizeof(small), sha_small);

	/* A file, with a description that needs percent-encoding. */
	json_t *p = ctl_json(f, "firmware upload --product meter --version 2.0.0 "
				"--description 'first build & more' %s", big);
	assert_string_equal(str(p, "sha256"), sha_big);
	assert_int_equal(num(p, "size"), BIG_SIZE);
	assert_string_equal(str(p, "product_id"), "meter");
	assert_string_equal(str(p, "version"), "2.0.0");
	assert_string_equal(str(p, "description"), "first build & more");
	assert_int_equal(strlen(str(p, "package_id")), 24);
	char id_big[64];
	snprintf(id_big, sizeof(id_big), "%s", str(p, "package_id"));
	json_decref(p);

	/* A pipe on stdin (no length known: sent chunked), shown for people: id, sha256,
	 * size. */
	char cmd[8192];
	snprintf(cmd, sizeof(cmd), "cat %s | %s %s firmware upload --product meter --version 2.0.1 -",
		 small, f->env, ctl_bin());
	int rc = run_command(cmd, f->out, sizeof(f->out), 60);
	if (rc != 0)
		fail_msg("upload from a pipe: exit %d\n%s", rc, f->out);
	const char *out = f->out;
	assert_in(out, "package_id");
	assert_in(out, sha_small);
	assert_in(out, "5000");

	/* Refusals: usage (2) before the daemon is asked, the API's (1) after. */
	assert_in(ctl_expect(f, 2, "firmware upload --product meter %s", big), "--version");
	assert_in(ctl_expect(f, 2, "firmware upload --product meter --version 9 %s/none", f->fw.d.dir),
		  "none");
	assert_in(ctl_expect(f, 1, "firmware upload --product meter --version 2.0.0 %s", small),
		  "HTTP 409");
	assert_in(ctl_expect(f, 1, "firmware upload --product nope --version 3 %s", small),
		  "HTTP 404");

	json_t *l = ctl_json(f, "firmware list --product meter");
	assert_int_equal(num(l, "count"), 2);
	json_t *pkgs = json_object_get(l, "packages");
	assert_int_equal(json_array_size(pkgs), 2);
	/* Newest first. */
	assert_string_equal(str(json_array_get(pkgs, 0), "version"), "2.0.1");
	assert_string_equal(str(json_array_get(pkgs, 1), "package_id"), id_big);
	char id_small[64];
	snprintf(id_small, sizeof(id_small), "%s", str(json_array_get(pkgs, 0), "package_id"));
	json_decref(l);
	out = ctl_expect(f, 0, "firmware list");
	assert_in(out, "PACKAGE_ID");
	assert_in(out, id_big);
	assert_in(out, id_small);
	assert_in(out, "first build & more");

	json_t *g = ctl_json(f, "firmware get %s", id_big);
	assert_string_equal(str(g, "sha256"), sha_big);
	json_decref(g);
	assert_in(ctl_expect(f, 0, "firmware get %s", id_small), sha_small);

	assert_in(ctl_expect(f, 0, "firmware delete %s", id_small), "deleted");
	assert_in(ctl_expect(f, 1, "firmware get %s", id_small), "HTTP 404");
	l = ctl_json(f, "firmware list");
	assert_int_equal(num(l, "count"), 1);
	json_decref(l);
}

/* The number of the campaign's devices in state, as campaigns devices --state lists. */
static size_t devices_in(struct fixture *f, const char *id, const char *state)
{
	json_t *d = ctl_json(f, "campaigns devices %s --state %s", id, state);
	size_t n = json_array_size(json_object_get(d, "devices"));
	assert_int_equal(num(d, "count"), n);
	json_decref(d);
	return n;
}

static void test_campaign_commands(void **state)
{
	struct fixture *f = *state;
	api_create_device(&f->fw.d, "meter", "cli-a", false, 0);
	api_create_device(&f->fw.d, "meter", "cli-b", false, 0);
	char pkg[64];
	fw_upload(&f->fw, "2.0.0", 4000, pkg);
	json_t *devs = ctl_json(f, "devices list --product meter");
	json_t *list = json_object_get(devs, "devices");
	assert_int_equal(json_array_size(list), 2);
	char dev[2][64];
	for (int i = 0; i < 2; i++)
		snprintf(dev[i], sizeof(dev[i]), "%s", str(json_array_get(list, (size_t)i), "device_id"));
	json_decref(devs);

	/* Usage errors, then one the daemon finds. */
	assert_in(ctl_expect(f, 2, "campaigns create --package %s", pkg), "--product or --device");
	assert_in(ctl_expect(f, 2, "campaigns create --package %s --product meter --device %s", pkg,
			     dev[0]),
		  "either");
	assert_in(ctl_expect(f, 2, "campaigns create --package %s --device %s --from-version 1",
			     pkg, dev[0]),
		  "--from-version");
	assert_in(ctl_expect(f, 2, "campaigns create --package %s --product meter --delivery ftp",
			     pkg),
		  "--delivery");
	assert_in(ctl_expect(f, 2, "campaigns create --package %s --product meter --rate x", pkg),
		  "--rate");
	assert_in(ctl_expect(f, 1, "campaigns create --package %s --product meter --max-concurrent 0",
			     pkg),
		  "max_concurrent must be");

	json_t *c = ctl_json(f, "campaigns create --package %s --device %s --device %s --name two "
				"--retries 0 --max-concurrent 1 --delivery push --update-timeout 60",
			     pkg, dev[0], dev[1]);
	char id[64];
	snprintf(id, sizeof(id), "%s", str(c, "campaign_id"));
	assert_true(id[0]);
	assert_string_equal(str(c, "status"), "running");
	assert_string_equal(str(c, "name"), "two");
	assert_int_equal(num(c, "targets"), 2);
	json_t *settings = json_object_get(c, "settings");
	assert_int_equal(num(settings, "max_concurrent"), 1);
	assert_int_equal(num(settings, "retries"), 0);
	assert_int_equal(num(settings, "update_timeout_s"), 60);
	assert_string_equal(str(settings, "delivery"), "push");
	json_decref(c);

	json_t *l = ctl_json(f, "campaigns list");
	assert_int_equal(num(l, "count"), 1);
	assert_string_equal(str(json_array_get(json_object_get(l, "campaigns"), 0), "campaign_id"),
			    id);
	json_decref(l);
	const char *out = ctl_expect(f, 0, "campaigns list");
	assert_in(out, "CAMPAIGN_ID");
	assert_in(out, id);
	assert_in(out, "two");

	/* For people: status, counts by state, bytes, rate, estimated end. */
	out = ctl_expect(f, 0, "campaigns get %s", id);
	assert_in(out, "status");
	assert_in(out, "running");
	assert_in(out, "counts");
	assert_in(out, "bytes_served");
	assert_in(out, "devices/min");
	assert_in(out, "estimated_end");

	/* Every device, one page at a time (--limit 1 makes the marker be followed). */
	json_t *d = ctl_json(f, "campaigns devices %s --limit 1", id);
	json_t *items = json_object_get(d, "devices");
	assert_int_equal(json_array_size(items), 2);
	assert_int_equal(num(d, "count"), 2);
	assert_true(json_is_null(json_object_get(d, "marker")));
	assert_string_equal(str(json_array_get(items, 0), "device_id"), dev[0]);
	assert_string_equal(str(json_array_get(items, 1), "device_id"), dev[1]);
	json_decref(d);
	out = ctl_expect(f, 0, "campaigns devices %s", id);
	assert_in(out, "DEVICE_ID");
	assert_in(out, dev[0]);
	assert_in(out, dev[1]);
	/* Neither ever registers: neither gets past starting, and none ended. */
	assert_int_equal(devices_in(f, id, "waiting") + devices_in(f, id, "starting"), 2);
	assert_int_equal(devices_in(f, id, "succeeded"), 0);
	assert_in(ctl_expect(f, 1, "campaigns devices %s --state bogus", id), "state must be");

	assert_in(ctl_expect(f, 0, "campaigns pause %s", id), "paused");
	c = ctl_json(f, "campaigns get %s", id);
	assert_string_equal(str(c, "status"), "paused");
	json_decref(c);
	assert_in(ctl_expect(f, 1, "campaigns pause %s", id), "HTTP 409");
	assert_in(ctl_expect(f, 0, "campaigns resume %s", id), "resumed");
	c = ctl_json(f, "campaigns get %s", id);
	assert_string_equal(str(c, "status"), "running");
	json_decref(c);
	/* A running campaign is neither deleted, nor its package. */
	assert_in(ctl_expect(f, 1, "campaigns delete %s", id), "HTTP 409");
	assert_in(ctl_expect(f, 1, "firmware delete %s", pkg), "HTTP 409");

	c = ctl_json(f, "campaigns cancel %s", id);
	assert_string_equal(str(c, "status"), "cancelled");
	json_decref(c);
	assert_int_equal(devices_in(f, id, "cancelled"), 2);
	assert_in(ctl_expect(f, 1, "campaigns resume %s", id), "HTTP 409");

	/* watch on an ended campaign that did not finish: one line, exit 1. */
	out = ctl_expect(f, 1, "campaigns watch %s", id);
	assert_in(out, "cancelled");
	assert_in(out, "2 cancelled");
	assert_int_equal(ctl(f, "--json campaigns watch %s", id), 1);
	json_t *line = json_loads(f->out, JSON_DISABLE_EOF_CHECK, NULL);
	assert_non_null(line);
	assert_string_equal(str(line, "status"), "cancelled");
	json_decref(line);
	assert_in(ctl_expect(f, 1, "campaigns watch nosuchcampaign"), "HTTP 404");

	assert_in(ctl_expect(f, 0, "campaigns delete %s", id), "campaign");
	assert_in(ctl_expect(f, 1, "campaigns get %s", id), "HTTP 404");
	assert_in(ctl_expect(f, 0, "firmware delete %s", pkg), "deleted");
	assert_in(ctl_expect(f, 1, "firmware get %s", pkg), "HTTP 404");
}

static void test_end_to_end(void **state)
{
	struct fixture *f = *state;
	int i = fw_sim_start(&f->fw, "cli-fw1", false, "", true);
	char path[400], sha[65];
	write_package(f, "e2e.bin", "2.0.0", E2E_SIZE, path, sizeof(path), sha);
	json_t *p = ctl_json(f, "firmware upload --product meter --version 2.0.0 %s", path);
	assert_string_equal(str(p, "sha256"), sha);
	char pkg[64];
	snprintf(pkg, sizeof(pkg), "%s", str(p, "package_id"));
	json_decref(p);

	/* Over the product, from the simulator's first version. */
	json_t *c = ctl_json(f, "campaigns create --package %s --product meter --from-version 0.9 "
				"--from-version 1.0.0 --delivery pull --retries 0 --name e2e",
			     pkg);
	char id[64];
	snprintf(id, sizeof(id), "%s", str(c, "campaign_id"));
	assert_int_equal(num(c, "targets"), 1);
	json_decref(c);

	const char *out = ctl_expect(f, 0, "campaigns watch %s --interval 1", id);
	assert_in(out, "finished");
	assert_in(out, "1/1 ended: 1 succeeded, 0 failed");

	json_t *d = ctl_json(f, "campaigns devices %s", id);
	json_t *t = json_array_get(json_object_get(d, "devices"), 0);
	assert_string_equal(str(t, "device_id"), f->fw.sims[i].dev);
	assert_string_equal(str(t, "state"), "succeeded");
	assert_string_equal(str(t, "method"), "pull");
	assert_int_equal(num(t, "bytes"), E2E_SIZE);
	json_decref(d);
	assert_int_equal(fw_sim_wait(&f->fw.sims[i], "fw rebooted version=2.0.0", 1000), 0);
	/* An ended campaign watched again: at once, exit 0. */
	assert_in(ctl_expect(f, 0, "campaigns watch %s", id), "finished");
	out = ctl_expect(f, 0, "campaigns get %s", id);
	assert_in(out, "succeeded 1");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_help_and_completion, setup, teardown),
		cmocka_unit_test_setup_teardown(test_packages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_campaign_commands, setup, teardown),
		cmocka_unit_test_setup_teardown(test_end_to_end, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
