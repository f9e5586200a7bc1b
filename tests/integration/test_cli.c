/*
 * Integration tests of lwm2mctl ($LWM2MCTL_BIN, docs/cli.md) against the real daemon: every
 * command, with --json answers parsed and tables looked at; the exit codes (0 ok, 1 an API
 * error — a bad token among them —, 2 usage, 3 a device that does not answer, 4 no
 * daemon); --help on every command; the config file; the bash completion script. The
 * device of the device-management commands is the project's simulator (lwm2m-sim
 * --serve); the one that never answers is a raw CoAP socket that registered.
 */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
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

#define KEY_HEX "73696d2d7365637265742d31"
#define OUT_CAP 65536

struct fixture {
	struct daemon_proc d;
	char env[1024]; /* the environment every command line starts with */
	char out[OUT_CAP];
	pid_t sim;
	char sim_out[320];
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
	daemon_start(&f->d, NULL);
	char http[ADDR_STR_MAX];
	addr_format(&f->d.http, http);
	/* HOME is the daemon's temporary directory: no user's config file is read. */
	snprintf(f->env, sizeof(f->env),
		 "env -u XDG_CONFIG_HOME -u LWM2MD_URL -u LWM2MD_TOKEN HOME=%s NO_COLOR=1 "
		 "LWM2MD_URL=http://%s LWM2MD_TOKEN=%s",
		 f->d.dir, http, f->d.token);
	snprintf(f->sim_out, sizeof(f->sim_out), "%s/sim.out", f->d.dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	if (f->sim > 0) {
		kill(f->sim, SIGTERM);
		waitpid(f->sim, NULL, 0);
	}
	daemon_cleanup(&f->d);
	free(f);
	return 0;
}

/* Runs lwm2mctl with args (printf-style) in the fixture's environment; f->out holds its
 * output (stdout and stderr). Returns the exit status. */
static int ctl(struct fixture *f, const char *fmt, ...)
{
	char args[4096], cmd[6144];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	snprintf(cmd, sizeof(cmd), "%s %s %s", f->env, ctl_bin(), args);
	return run_command(cmd, f->out, sizeof(f->out), 60);
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

/* ctl with --json that must exit 0 and print one JSON value; returns it (caller frees). */
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

/* text with every run of two or more spaces made two: table rows to compare whatever
 * the column widths (a static buffer, overwritten by the next call). */
static const char *sq(const char *text)
{
	static char buf[OUT_CAP];
	size_t n = 0;
	for (const char *p = text; *p && n + 1 < sizeof(buf); p++) {
		if (p[0] == ' ' && n >= 2 && buf[n - 1] == ' ' && buf[n - 2] == ' ')
			continue;
		buf[n++] = *p;
	}
	buf[n] = '\0';
	return buf;
}

static const char *str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "";
}

/* Writes text to a file in the fixture's directory; its path goes to path. */
static void write_file(struct fixture *f, const char *name, const char *text, char *path,
		       size_t cap)
{
	snprintf(path, cap, "%s/%s", f->d.dir, name);
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

static void test_help_and_usage(void **state)
{
	struct fixture *f = *state;
	assert_in(ctl_expect(f, 0, "--help"), "exit codes");
	assert_in(ctl_expect(f, 0, "help"), "devices list");
	assert_in(ctl_expect(f, 0, "help devices"), "devices reset-secret");
	/* --help on every command exits 0 and shows its usage. */
	static const char *const commands[] = {
		"devices list", "devices get", "devices create", "devices delete",
		"devices reset-secret", "products list", "products get", "products create",
		"products delete", "model get", "model set", "codec get", "codec set",
		"codec test", "codec encode", "read", "write", "execute", "discover", "observe",
		"cancel", "observations", "commands send", "commands list", "commands get",
		"shadow get", "shadow set", "events", "rules list", "rules create",
		"rules delete", "tokens list", "tokens create", "tokens revoke", "completion",
	};
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		char want[64];
		snprintf(want, sizeof(want), "usage: lwm2mctl %s", commands[i]);
		assert_in(ctl_expect(f, 0, "%s --help", commands[i]), want);
		assert_in(ctl_expect(f, 0, "%s -h", commands[i]), want);
	}
	/* Usage errors: 2, whatever the daemon would say. */
	ctl_expect(f, 2, "");
	assert_in(ctl_expect(f, 2, "bogus"), "unknown command bogus");
	assert_in(ctl_expect(f, 2, "devices"), "needs a subcommand");
	assert_in(ctl_expect(f, 2, "devices frob"), "unknown command devices frob");
	assert_in(ctl_expect(f, 2, "devices get"), "missing arguments");
	assert_in(ctl_expect(f, 2, "devices get a b"), "too many arguments");
	assert_in(ctl_expect(f, 2, "devices list --bogus"), "unknown option --bogus");
	assert_in(ctl_expect(f, 2, "devices list --limit 0"), "--limit must be a number");
	assert_in(ctl_expect(f, 2, "devices list --limit"), "--limit needs a value");
	assert_in(ctl_expect(f, 2, "devices create --product meter"), "--node-id");
	assert_in(ctl_expect(f, 2, "read dev 3/x/9"), "not an LwM2M path");
	assert_in(ctl_expect(f, 2, "read dev 3 --timeout 301"), "--timeout must be");
	assert_in(ctl_expect(f, 2, "shadow set dev svc interval"), "not NAME=VALUE");
	assert_in(ctl_expect(f, 2, "model set meter %s/nope.json", f->d.dir), "nope.json");
	assert_in(ctl_expect(f, 2, "codec encode meter '[1'"), "JSON object");
	assert_in(ctl_expect(f, 2, "completion zsh"), "bash");
	/* No token anywhere: a usage error. */
	char cmd[8192];
	snprintf(cmd, sizeof(cmd), "env -u LWM2MD_TOKEN HOME=%s %s devices list", f->d.dir,
		 ctl_bin());
	assert_int_equal(run_command(cmd, f->out, sizeof(f->out), 30), 2);
	assert_in(f->out, "no token");
	/* The completion script is bash, knows the commands and their options. */
	char path[400];
	write_file(f, "empty", "", path, sizeof(path));
	const char *script = ctl_expect(f, 0, "completion bash");
	assert_in(script, "complete -o filenames -F _lwm2mctl lwm2mctl");
	assert_in(script, "reset-secret");
	assert_in(script, "--node-id-prefix");
	snprintf(cmd, sizeof(cmd),
		 "%s %s completion bash > %s/c.bash && bash -n %s/c.bash && "
		 "bash -c 'source %s/c.bash; COMP_WORDS=(lwm2mctl dev); COMP_CWORD=1; _lwm2mctl; "
		 "echo \"${COMPREPLY[*]}\"; COMP_WORDS=(lwm2mctl devices re); COMP_CWORD=2; "
		 "_lwm2mctl; echo \"${COMPREPLY[*]}\"; COMP_WORDS=(lwm2mctl read d 3 --f); "
		 "COMP_CWORD=4; _lwm2mctl; echo \"${COMPREPLY[*]}\"'",
		 f->env, ctl_bin(), f->d.dir, f->d.dir, f->d.dir);
	assert_int_equal(run_command(cmd, f->out, sizeof(f->out), 30), 0);
	assert_in(f->out, "devices\nreset-secret\n--format\n");
}

static void test_unreachable_and_bad_token(void **state)
{
	struct fixture *f = *state;
	/* Nothing listens on port 1: exit 4, saying so. */
	assert_in(ctl_expect(f, 4, "--url http://127.0.0.1:1 devices list"),
		  "cannot reach the daemon");
	assert_in(ctl_expect(f, 4, "--url http://127.0.0.1:1 --project p1 products get x"),
		  "cannot reach the daemon");
	/* A token the daemon does not know: exit 1 with the API's error_msg. */
	const char *out = ctl_expect(f, 1, "--token nope devices list");
	assert_in(out, "HTTP 401");
	assert_in(ctl_expect(f, 1, "--token nope --project p1 products list"), "HTTP 401");
	/* Another project's path: 404, exit 1. */
	assert_in(ctl_expect(f, 1, "--project other products list"), "HTTP 404");
}

static void test_config_file(void **state)
{
	struct fixture *f = *state;
	char dir[400], path[500], http[ADDR_STR_MAX], text[512];
	snprintf(dir, sizeof(dir), "%s/.config/lwm2mctl", f->d.dir);
	char mk[600];
	snprintf(mk, sizeof(mk), "mkdir -p %s", dir);
	assert_int_equal(run_command(mk, f->out, sizeof(f->out), 10), 0);
	addr_format(&f->d.http, http);
	snprintf(text, sizeof(text), "# lwm2mctl\nurl=http://%s/\ntoken=%s\n", http, f->d.token);
	write_file(f, ".config/lwm2mctl/config", text, path, sizeof(path));
	/* Neither flags nor environment: the config file's URL and token. */
	char cmd[2048];
	snprintf(cmd, sizeof(cmd),
		 "env -u XDG_CONFIG_HOME -u LWM2MD_URL -u LWM2MD_TOKEN HOME=%s %s --json "
		 "products list",
		 f->d.dir, ctl_bin());
	assert_int_equal(run_command(cmd, f->out, sizeof(f->out), 30), 0);
	assert_in(f->out, "\"products\"");
	/* The environment wins over the file, the flags over both. */
	assert_in(ctl_expect(f, 1, "--token wrong products list"), "HTTP 401");
	snprintf(cmd, sizeof(cmd), "env HOME=%s LWM2MD_TOKEN=wrong %s products list", f->d.dir,
		 ctl_bin());
	assert_int_equal(run_command(cmd, f->out, sizeof(f->out), 30), 1);
}

static void test_products_and_devices(void **state)
{
	struct fixture *f = *state;
	json_t *j = ctl_json(f, "products create --id meter --name 'Water meter' --type Meter "
				"--manufacturer ACME --format binary");
	assert_string_equal(str(j, "product_id"), "meter");
	assert_string_equal(str(j, "name"), "Water meter");
	json_decref(j);
	assert_in(ctl_expect(f, 1, "products create --id meter --name again"), "already exists");
	j = ctl_json(f, "products list");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "page"), "count")),
			 1);
	json_decref(j);
	const char *out = ctl_expect(f, 0, "products list");
	assert_in(sq(out), "PRODUCT_ID  NAME  TYPE  FORMAT  DEVICES  CREATED");
	assert_in(sq(out), "meter  Water meter  Meter  binary  0");
	assert_in(sq(ctl_expect(f, 0, "products get meter")), "manufacturer_name  ACME");
	/* With the project named, no token lookup is needed; it must still be the token's. */
	j = ctl_json(f, "--project p1 products get meter");
	assert_string_equal(str(j, "device_type"), "Meter");
	json_decref(j);

	j = ctl_json(f, "devices create --node-id n1 --product meter --name Kitchen "
			"--secret " KEY_HEX " --inactive-timeout 3600");
	assert_string_equal(str(j, "device_id"), "meter_n1");
	assert_string_equal(str(json_object_get(j, "auth_info"), "secret"), KEY_HEX);
	json_decref(j);
	out = ctl_expect(f, 0, "devices create --node-id n2 --product meter --id second --secure");
	assert_in(sq(out), "device_id  second");
	assert_in(sq(out), "auth_info.secure_access  true");
	assert_in(ctl_expect(f, 1, "devices create --node-id n1 --product meter"),
		  "already exists (HTTP 409)");
	j = ctl_json(f, "devices list --product meter");
	assert_int_equal(json_array_size(json_object_get(j, "devices")), 2);
	json_decref(j);
	out = ctl_expect(f, 0, "devices list");
	assert_in(sq(out), "DEVICE_ID  NODE_ID  PRODUCT  STATUS  NAME");
	assert_in(sq(out), "meter_n1  n1  meter  INACTIVE  Kitchen");
	/* Paging: one a page, the marker of the next on stderr. */
	out = ctl_expect(f, 0, "devices list --limit 1");
	assert_in(out, "next page: --marker ");
	j = ctl_json(f, "devices list --limit 1");
	const char *marker = json_string_value(
		json_object_get(json_object_get(j, "page"), "marker"));
	assert_non_null(marker);
	json_t *page2 = ctl_json(f, "devices list --limit 1 --marker %s", marker);
	assert_string_equal(str(json_array_get(json_object_get(page2, "devices"), 0), "device_id"),
			    "second");
	json_decref(page2);
	json_decref(j);
	j = ctl_json(f, "devices get meter_n1");
	assert_string_equal(str(j, "status"), "INACTIVE");
	assert_null(json_object_get(json_object_get(j, "auth_info"), "secret"));
	json_decref(j);
	assert_in(sq(ctl_expect(f, 0, "devices get meter_n1")), "device_name  Kitchen");
	j = ctl_json(f, "devices reset-secret meter_n1 --secret 00112233445566778899aabbccddeeff");
	assert_string_equal(str(j, "secret"), "00112233445566778899aabbccddeeff");
	json_decref(j);
	j = ctl_json(f, "devices reset-secret meter_n1");
	assert_int_equal(strlen(str(j, "secret")), 32);
	json_decref(j);

	/* A product with devices is not deleted: the API's message, exit 1. */
	assert_in(ctl_expect(f, 1, "products delete meter"), "still has devices");
	assert_in(ctl_expect(f, 0, "devices delete meter_n1 second"), "device second deleted");
	assert_in(ctl_expect(f, 1, "devices get meter_n1"), "device not found (HTTP 404)");
	assert_in(ctl_expect(f, 1, "devices delete meter_n1"), "HTTP 404");
	ctl_expect(f, 0, "products delete meter");
	assert_in(ctl_expect(f, 1, "products get meter"), "HTTP 404");
}

static void test_model_codec_commands_shadow(void **state)
{
	struct fixture *f = *state;
	char model[400], layout[400], wrapped[400], bad[400];
	write_file(f, "model.json", meter_model, model, sizeof(model));
	write_file(f, "meter.json", meter_layout, layout, sizeof(layout));
	write_file(f, "bad.js", "function decode(p) {\n  return ;;; (\n}\n", bad, sizeof(bad));
	ctl_expect(f, 0, "products create --id wm --name meter --model %s", model);
	json_t *j = ctl_json(f, "model get wm");
	assert_string_equal(str(json_array_get(json_object_get(j, "service_capabilities"), 0),
				"service_id"),
			    "WaterMeter");
	/* What model get --json prints, model set takes back. */
	char *doc = json_dumps(j, 0);
	json_decref(j);
	write_file(f, "doc.json", doc, wrapped, sizeof(wrapped));
	free(doc);
	assert_in(ctl_expect(f, 0, "model set wm %s", wrapped), "model of product wm set");
	assert_in(ctl_expect(f, 0, "model set wm - < %s", model), "set");
	const char *out = ctl_expect(f, 0, "model get wm");
	assert_in(sq(out), "SERVICE  KIND  NAME  TYPE  METHOD");
	assert_in(sq(out), "WaterMeter  property  interval  int  RW");
	assert_in(sq(out), "WaterMeter  command  SET_INTERVAL  -  -");
	assert_in(ctl_expect(f, 2, "model set wm %s", layout), "want an array of services");
	char broken[400];
	write_file(f, "broken.json", "[{\"service_id\":\"S\",\"option\":\"Often\"}]", broken,
		   sizeof(broken));
	assert_in(ctl_expect(f, 1, "model set wm %s", broken), "HTTP 400");

	assert_in(ctl_expect(f, 1, "codec get wm"), "HTTP 404");
	assert_in(ctl_expect(f, 0, "codec set wm %s", layout), "(declarative)");
	assert_in(ctl_expect(f, 1, "codec set wm %s", bad), "(line 4, end of input)");
	j = ctl_json(f, "codec get wm");
	assert_string_equal(str(j, "kind"), "declarative");
	assert_string_equal(str(j, "status"), "ACTIVE");
	json_decref(j);
	out = ctl_expect(f, 0, "codec get wm");
	assert_in(sq(out), "status  ACTIVE");
	assert_in(out, "\"message_id\"");
	j = ctl_json(f, "codec test wm 0057000186A0");
	assert_string_equal(str(json_object_get(j, "decoded"), "msgType"), "deviceReq");
	json_decref(j);
	assert_in(ctl_expect(f, 0, "codec test wm 0x0057000186A0"), "\"battery\": 87");
	assert_in(ctl_expect(f, 0, "codec encode wm '{\"serviceId\":\"WaterMeter\","
				   "\"cmd\":\"SET_INTERVAL\",\"paras\":{\"interval\":600},"
				   "\"mid\":258}'"),
		  "0101020258");
	j = ctl_json(f, "codec encode wm '{\"serviceId\":\"WaterMeter\",\"cmd\":\"SET_INTERVAL\","
			"\"paras\":{\"interval\":600},\"mid\":258}'");
	assert_string_equal(str(j, "payload_hex"), "0101020258");
	json_decref(j);

	ctl_expect(f, 0, "devices create --node-id m1 --product wm");
	j = ctl_json(f, "commands send wm_m1 WaterMeter SET_INTERVAL interval=300");
	assert_string_equal(str(j, "status"), "PENDING");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "paras"),
							     "interval")),
			 300);
	char id[128];
	snprintf(id, sizeof(id), "%s", str(j, "command_id"));
	json_decref(j);
	assert_in(ctl_expect(f, 1, "commands send wm_m1 WaterMeter SET_INTERVAL interval=0"),
		  "HTTP 400");
	assert_in(ctl_expect(f, 0, "commands send wm_m1 WaterMeter SET_INTERVAL "
				   "--paras '{\"interval\":5}' --expire 60"),
		  "PENDING");
	j = ctl_json(f, "commands list wm_m1");
	assert_int_equal(json_array_size(json_object_get(j, "commands")), 2);
	json_decref(j);
	out = ctl_expect(f, 0, "commands list wm_m1");
	assert_in(out, "COMMAND_ID");
	assert_in(out, id);
	j = ctl_json(f, "commands get wm_m1 %s", id);
	assert_string_equal(str(j, "command_name"), "SET_INTERVAL");
	json_decref(j);
	assert_in(ctl_expect(f, 1, "commands get wm_m1 nosuch"), "HTTP 404");

	j = ctl_json(f, "shadow set wm_m1 WaterMeter interval=900");
	assert_string_equal(str(json_array_get(json_object_get(j, "shadow"), 0), "service_id"),
			    "WaterMeter");
	json_decref(j);
	j = ctl_json(f, "shadow get wm_m1");
	json_t *svc = json_array_get(json_object_get(j, "shadow"), 0);
	json_t *desired = json_object_get(json_object_get(svc, "desired"), "properties");
	assert_int_equal(json_integer_value(json_object_get(desired, "interval")), 900);
	json_decref(j);
	out = ctl_expect(f, 0, "shadow get wm_m1");
	assert_in(sq(out), "SERVICE  PROPERTY  REPORTED  DESIRED");
	assert_in(sq(out), "WaterMeter  interval  -  900");
	assert_in(ctl_expect(f, 1, "shadow set wm_m1 WaterMeter battery=5"), "not writable");
	assert_in(ctl_expect(f, 1, "shadow set wm_m1 WaterMeter interval=1000 --version 99"),
		  "HTTP 409");
}

static void test_rules_and_tokens(void **state)
{
	struct fixture *f = *state;
	json_t *j = ctl_json(f, "rules create http://127.0.0.1:9/hook --events "
				"device.status/update,device.property/report");
	char id[128];
	snprintf(id, sizeof(id), "%s", str(j, "rule_id"));
	assert_int_equal(json_array_size(json_object_get(j, "events")), 2);
	json_decref(j);
	assert_in(ctl_expect(f, 1, "rules create ftp://example.com/"), "url");
	j = ctl_json(f, "rules list");
	assert_int_equal(json_array_size(json_object_get(j, "rules")), 1);
	json_decref(j);
	const char *out = ctl_expect(f, 0, "rules list");
	assert_in(out, "RULE_ID");
	assert_in(out, "http://127.0.0.1:9/hook");
	assert_in(ctl_expect(f, 0, "rules delete %s", id), "deleted");
	assert_in(ctl_expect(f, 1, "rules delete %s", id), "HTTP 404");
	/* tokens: one created is shown once, listed (never with its secret), works, and once
	 * revoked is refused. */
	j = ctl_json(f, "tokens create --name ci");
	char token_id[64], token[128];
	snprintf(token_id, sizeof(token_id), "%s", str(j, "token_id"));
	snprintf(token, sizeof(token), "%s", str(j, "token"));
	assert_string_equal(str(j, "name"), "ci");
	assert_int_equal(strlen(token), 64);
	json_decref(j);
	j = ctl_json(f, "tokens list");
	assert_int_equal(json_array_size(json_object_get(j, "tokens")), 2);
	json_decref(j);
	out = ctl_expect(f, 0, "tokens list");
	assert_in(out, token_id);
	assert_null(strstr(out, token));
	assert_in(ctl_expect(f, 0, "--token %s rules list", token), "RULE_ID");
	ctl_expect(f, 0, "tokens revoke %s", token_id);
	assert_in(ctl_expect(f, 1, "--token %s rules list", token), "HTTP 401");
	assert_in(ctl_expect(f, 1, "tokens revoke %s", token_id), "HTTP 404");
	ctl_expect(f, 2, "tokens revoke");
	ctl_expect(f, 2, "tokens create --bogus");
}

/* Starts lwm2m-sim --serve as node simudp and waits until it registered. */
static void sim_start(struct fixture *f)
{
	char addr[ADDR_STR_MAX], cmd[1024];
	addr_format(&f->d.coap, addr);
	snprintf(cmd, sizeof(cmd),
		 "exec %s --server %s --ep simudp --lifetime 300 --serve 60 > %s 2>&1", sim_bin(),
		 addr, f->sim_out);
	f->sim = fork();
	assert_true(f->sim >= 0);
	if (f->sim == 0) {
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	assert_int_equal(api_wait_status(&f->d, "meter_simudp", "ONLINE", 10000), 0);
}

struct events_run {
	pthread_t thread;
	char cmd[2048];
	char out[OUT_CAP];
	int rc;
};

static void *events_thread(void *arg)
{
	struct events_run *e = arg;
	e->rc = run_command(e->cmd, e->out, sizeof(e->out), 30);
	return NULL;
}

static void test_device_management(void **state)
{
	struct fixture *f = *state;
	api_create_product(&f->d, "meter");
	ctl_expect(f, 0, "devices create --node-id simudp --product meter --secret " KEY_HEX);
	/* Not registered yet: the API's 409, exit 1. */
	assert_in(ctl_expect(f, 1, "read meter_simudp 3/0/9"), "HTTP 409");

	/* events follows the stream: --count 1 of registrations ends it at the first. */
	struct events_run *e = calloc(1, sizeof(*e));
	snprintf(e->cmd, sizeof(e->cmd), "%s %s --json events --device meter_simudp --types "
		 "registration --count 1", f->env, ctl_bin());
	assert_int_equal(pthread_create(&e->thread, NULL, events_thread, e), 0);
	sleep_ms(500); /* the stream is open before the device registers */
	sim_start(f);
	pthread_join(e->thread, NULL);
	if (e->rc != 0)
		fail_msg("events: exit %d\n%s", e->rc, e->out);
	json_t *j = json_loads(e->out, 0, NULL);
	if (!j)
		fail_msg("events --json: not JSON: %s", e->out);
	assert_string_equal(str(j, "event"), "registration");
	assert_string_equal(str(j, "device_id"), "meter_simudp");
	json_decref(j);
	free(e);
	j = ctl_json(f, "read meter_simudp 3/0/9");
	assert_string_equal(str(j, "code"), "2.05");
	assert_string_equal(str(j, "operation"), "read");
	json_decref(j);
	const char *out = ctl_expect(f, 0, "read meter_simudp /3/0 --format tlv --timeout 5");
	assert_in(sq(out), "PATH  TYPE  VALUE");
	assert_in(sq(out), "/3/0/9  integer  87");
	j = ctl_json(f, "discover meter_simudp 3/0");
	assert_in(str(j, "links"), "</3/0/9>");
	json_decref(j);
	assert_in(ctl_expect(f, 0, "discover meter_simudp 3"), "</3/0/9>");
	assert_in(ctl_expect(f, 0, "write meter_simudp 3/0/13 1700000000 --type time"), "2.04");
	j = ctl_json(f, "read meter_simudp 3/0/13");
	assert_int_equal(json_integer_value(json_object_get(json_array_get(
				 json_object_get(j, "values"), 0), "value")),
			 1700000000);
	json_decref(j);
	/* The device refuses (read-only): its code, exit 1. */
	assert_in(ctl_expect(f, 1, "write meter_simudp 3/0/9 5"), "the device answered 4.05");
	assert_in(ctl_expect(f, 0, "execute meter_simudp 3/0/4 \"0='now'\""), "2.04");
	assert_in(ctl_expect(f, 1, "execute meter_simudp 3/0/77"), "4.04");

	j = ctl_json(f, "observe meter_simudp 3/0/9");
	long id = (long)json_integer_value(json_object_get(j, "observation_id"));
	assert_true(id > 0);
	json_decref(j);
	assert_in(ctl_expect(f, 0, "observe meter_simudp 3/0/13"), "observation ");
	j = ctl_json(f, "observations meter_simudp");
	assert_int_equal(json_array_size(json_object_get(j, "observations")), 2);
	json_decref(j);
	assert_in(ctl_expect(f, 0, "observations meter_simudp"), "/3/0/13");
	/* Cancel by id and by path. */
	char want[64];
	snprintf(want, sizeof(want), "observation %ld cancelled (the device answered 2.05)", id);
	assert_in(ctl_expect(f, 0, "cancel meter_simudp %ld", id), want);
	assert_in(ctl_expect(f, 0, "cancel meter_simudp /3/0/13 --passive"), " cancelled\n");
	assert_in(ctl_expect(f, 1, "cancel meter_simudp /3/0/13"), "no observation of");
	/* write --values FILE --update: a partial update (POST) of an instance. */
	char values[400];
	write_file(f, "values.json", "[{\"path\":\"/1/0/1\",\"value\":600}]", values,
		   sizeof(values));
	assert_in(ctl_expect(f, 0, "write meter_simudp 1/0 --values %s --update", values), "2.04");
	j = ctl_json(f, "read meter_simudp 1/0/1");
	assert_int_equal(json_integer_value(json_object_get(json_array_get(
				 json_object_get(j, "values"), 0), "value")),
			 600);
	json_decref(j);
	/* events for people: a notification of a new observation, one line. */
	e = calloc(1, sizeof(*e));
	snprintf(e->cmd, sizeof(e->cmd), "%s %s events --device meter_simudp --types "
		 "notification --count 1", f->env, ctl_bin());
	assert_int_equal(pthread_create(&e->thread, NULL, events_thread, e), 0);
	sleep_ms(500);
	ctl_expect(f, 0, "observe meter_simudp 3/0/13");
	ctl_expect(f, 0, "write meter_simudp 3/0/13 1700000042 --type time");
	pthread_join(e->thread, NULL);
	if (e->rc != 0)
		fail_msg("events: exit %d\n%s", e->rc, e->out);
	assert_in(sq(e->out), "  notification  meter_simudp  path=/3/0/13 code=2.05 ");
	assert_in(e->out, "\"value\":1700000042");
	free(e);
	ctl_expect(f, 0, "cancel meter_simudp 3/0/13");
	/* A passively cancelled one stays listed, cancelled, until its next notification. */
	j = ctl_json(f, "observations meter_simudp");
	size_t i;
	json_t *o;
	json_array_foreach(json_object_get(j, "observations"), i, o)
		assert_true(json_is_true(json_object_get(o, "cancelled")));
	json_decref(j);
}

static void test_device_that_does_not_answer(void **state)
{
	struct fixture *f = *state;
	api_create_product(&f->d, "meter");
	api_create_device(&f->d, "meter", "mute", false, 0);
	int fd = coap_socket("127.0.0.1:0");
	char reg[32];
	assert_int_equal(coap_register(fd, &f->d.coap, "mute", "300", "</3/0>", reg), 0x41);
	assert_int_equal(api_wait_status(&f->d, "meter_mute", "ONLINE", 3000), 0);
	/* It registered and then says nothing: the read gets 504 after --timeout, exit 3. */
	assert_in(ctl_expect(f, 3, "read meter_mute 3/0/9 --timeout 1"), "HTTP 504");
	assert_in(ctl_expect(f, 3, "--json execute meter_mute 3/0/4 --timeout 1"), "HTTP 504");
	close(fd);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_help_and_usage, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unreachable_and_bad_token, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_products_and_devices, setup, teardown),
		cmocka_unit_test_setup_teardown(test_model_codec_commands_shadow, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rules_and_tokens, setup, teardown),
		cmocka_unit_test_setup_teardown(test_device_management, setup, teardown),
		cmocka_unit_test_setup_teardown(test_device_that_does_not_answer, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
