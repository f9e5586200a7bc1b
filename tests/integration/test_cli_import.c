/*
 * Integration test of `lwm2mctl devices import FILE` (docs/cli.md) against the real
 * daemon: CSV (with a header, spaces, an optional secret) and JSON lines in one file, blank
 * and comment lines skipped; a generated secret printed once, a given one not; failures
 * (a node ID again, an unknown product, an unreadable line) on stderr with their line
 * number, the others created, exit 1; --batch splitting the file over several requests;
 * stdin as "-"; a missing file and a bad --batch are usage errors (exit 2).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"

#define OUT_CAP (256 * 1024)

struct fixture {
	struct daemon_proc d;
	char env[1024];
	char out[OUT_CAP];
	char file[400];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	daemon_start(&f->d, NULL);
	api_create_product(&f->d, "meter");
	char http[ADDR_STR_MAX];
	addr_format(&f->d.http, http);
	snprintf(f->env, sizeof(f->env),
		 "env -u XDG_CONFIG_HOME HOME=%s NO_COLOR=1 LWM2MD_URL=http://%s LWM2MD_TOKEN=%s",
		 f->d.dir, http, f->d.token);
	snprintf(f->file, sizeof(f->file), "%s/devices.txt", f->d.dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	daemon_cleanup(&f->d);
	free(f);
	return 0;
}

static void write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

/* Runs `lwm2mctl ARGS` (with the shell's redirections, if any); f->out has its stdout and
 * stderr. Returns the exit status. */
static int ctl(struct fixture *f, const char *args)
{
	const char *bin = getenv("LWM2MCTL_BIN");
	if (!bin)
		fail_msg("LWM2MCTL_BIN is not set");
	char cmd[2048];
	snprintf(cmd, sizeof(cmd), "%s %s %s", f->env, bin, args);
	return run_command(cmd, f->out, sizeof(f->out), 60);
}

static int get_status(struct fixture *f, const char *id)
{
	char path[256], resp[8192];
	snprintf(path, sizeof(path), "/v5/iot/p1/devices/%s", id);
	return http_call(&f->d, "GET", path, NULL, resp, sizeof(resp));
}

static void test_import_mixed_file(void **state)
{
	struct fixture *f = *state;
	write_file(f->file,
		   "node_id,product_id,secret\n"
		   "imp1,meter\n"
		   "imp2, meter , 00112233445566778899aabbccddeeff\n"
		   "\n"
		   "# a comment\n"
		   "{\"node_id\":\"imp3\",\"product_id\":\"meter\",\"device_name\":\"three\"}\n"
		   "imp1,meter\n"
		   "just-one-field\n"
		   "{\"node_id\":\n"
		   "imp4,nope\n"
		   "imp5,meter\n");
	char args[512];
	snprintf(args, sizeof(args), "devices import %s", f->file);
	assert_int_equal(ctl(f, args), 1);
	/* A generated secret once, with its device; a given one not shown. */
	assert_non_null(strstr(f->out, "created meter_imp1 secret "));
	assert_non_null(strstr(f->out, "created meter_imp2\n"));
	assert_non_null(strstr(f->out, "created meter_imp3 secret "));
	assert_non_null(strstr(f->out, "created meter_imp5 secret "));
	assert_non_null(strstr(f->out, "line 7: imp1: node_id imp1 already exists"));
	assert_non_null(strstr(f->out, "line 8: expected node_id,product_id[,secret]"));
	assert_non_null(strstr(f->out, "line 9: not a JSON object"));
	assert_non_null(strstr(f->out, "line 10: imp4: product_id nope does not exist"));
	assert_non_null(strstr(f->out, "imported 4 devices, 4 failed"));
	assert_int_equal(get_status(f, "meter_imp1"), 200);
	assert_int_equal(get_status(f, "meter_imp2"), 200);
	assert_int_equal(get_status(f, "meter_imp3"), 200);
	assert_int_equal(get_status(f, "meter_imp5"), 200);
	assert_int_equal(get_status(f, "nope_imp4"), 404);
	char name[64];
	assert_int_equal(api_device_field(&f->d, "meter_imp3", "device_name", name, sizeof(name)),
			 0);
	assert_string_equal(name, "three");
}

static void test_import_batches_and_stdin(void **state)
{
	struct fixture *f = *state;
	/* 2500 lines in batches of 1000 (the default), then 5 more in batches of 2 on stdin. */
	FILE *fp = fopen(f->file, "w");
	assert_non_null(fp);
	for (int i = 0; i < 2500; i++)
		fprintf(fp, "many%d,meter\n", i);
	fclose(fp);
	char args[512];
	snprintf(args, sizeof(args), "devices import %s", f->file);
	assert_int_equal(ctl(f, args), 0);
	assert_non_null(strstr(f->out, "imported 2500 devices, 0 failed"));
	assert_int_equal(get_status(f, "meter_many0"), 200);
	assert_int_equal(get_status(f, "meter_many2499"), 200);

	write_file(f->file, "s1,meter\ns2,meter\ns3,meter\ns4,meter\ns5,meter\n");
	snprintf(args, sizeof(args), "--json devices import - --batch 2 < %s", f->file);
	assert_int_equal(ctl(f, args), 0);
	/* --json: each batch's answer as the API gave it (three of them), totals on stderr. */
	assert_non_null(strstr(f->out, "{\"created\":2,\"failed\":0,"));
	assert_non_null(strstr(f->out, "{\"created\":1,\"failed\":0,"));
	assert_non_null(strstr(f->out, "imported 5 devices, 0 failed"));
	assert_int_equal(get_status(f, "meter_s5"), 200);
}

static void test_import_usage_errors(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(ctl(f, "devices import /nonexistent/devices.csv"), 2);
	assert_non_null(strstr(f->out, "No such file"));
	write_file(f->file, "u1,meter\n");
	char args[512];
	snprintf(args, sizeof(args), "devices import %s --batch 1001", f->file);
	assert_int_equal(ctl(f, args), 2);
	snprintf(args, sizeof(args), "devices import %s --batch 0", f->file);
	assert_int_equal(ctl(f, args), 2);
	assert_int_equal(ctl(f, "devices import"), 2);
	assert_int_equal(get_status(f, "meter_u1"), 404);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_import_mixed_file, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_import_batches_and_stdin, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_import_usage_errors, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
