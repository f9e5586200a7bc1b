/*
 * Integration test: what running lwm2md as a service relies on at start.
 *
 * - A second daemon on the same registry is refused, with a message that says so, while
 *   the first holds its lock ("<db>.lock"); on the first one's ports, the busy port's
 *   message adds that the registry is in use. Once the first has stopped, a daemon starts
 *   on it again.
 * - A daemon that cannot bind a CoAP, CoAPS or API port fails before it touches the
 *   registry: no directory, database or lock file is created, and an existing database
 *   is left as it was (no schema migration, no WAL).
 * - A config file with an unknown setting is refused with one line naming the file, the
 *   line and the setting, and nothing else (no usage text).
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

static const char *bin(void)
{
	const char *b = getenv("LWM2MD_BIN");
	assert_non_null(b);
	return b;
}

/* A socket of type bound (and, for TCP, listening) on 127.0.0.1 at a free port. */
static int hold_port(int type, int *port)
{
	int fd = socket(AF_INET, type, 0);
	assert_true(fd >= 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	if (type == SOCK_STREAM)
		assert_int_equal(listen(fd, 4), 0);
	socklen_t len = sizeof(sa);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	*port = ntohs(sa.sin_port);
	return fd;
}

/* The names in dir, sorted and joined with spaces (no "." and ".."). */
static void list_dir(const char *dir, char *out, size_t cap)
{
	struct dirent **names;
	int n = scandir(dir, &names, NULL, alphasort);
	out[0] = '\0';
	for (int i = 0; i < n; i++) {
		if (strcmp(names[i]->d_name, ".") && strcmp(names[i]->d_name, "..")) {
			strncat(out, names[i]->d_name, cap - strlen(out) - 1);
			strncat(out, " ", cap - strlen(out) - 1);
		}
		free(names[i]);
	}
	free(names);
}

static void test_second_daemon_on_the_same_registry_is_refused(void **state)
{
	(void)state;
	struct daemon_proc d;
	daemon_start(&d, NULL);
	char cmd[1024], out[4096];
	snprintf(cmd, sizeof(cmd),
		 "%s --db %s --coap 127.0.0.1:0 --coaps 127.0.0.1:0 --http 127.0.0.1:0 2>&1", bin(),
		 d.db);
	int rc = run_command(cmd, out, sizeof(out), 20);
	assert_int_equal(rc, 1); /* refused (a sanitizer report would abort) */
	assert_in(out, "is in use by another lwm2md");
	assert_in(out, ".lock is locked");
	/* The same again on the first one's ports, as a second `systemctl start` of the same
	 * config would: the port is taken, and the message says by whom, most likely. */
	char coap[64];
	addr_format(&d.coap, coap);
	snprintf(cmd, sizeof(cmd),
		 "%s --db %s --coap %s --coaps 127.0.0.1:0 --http 127.0.0.1:0 2>&1", bin(), d.db,
		 coap);
	rc = run_command(cmd, out, sizeof(out), 20);
	assert_int_equal(rc, 1); /* refused (a sanitizer report would abort) */
	assert_in(out, "cannot bind coap");
	assert_in(out, "another lwm2md is running on the registry");
	/* The first is unharmed. */
	char resp[256];
	assert_int_equal(http_call(&d, "GET", "/health", NULL, resp, sizeof(resp)), 200);
	/* Its lock ends with it: the same registry serves again. */
	daemon_stop(&d);
	daemon_restart(&d, NULL);
	assert_int_equal(http_call(&d, "GET", "/health", NULL, resp, sizeof(resp)), 200);
	daemon_cleanup(&d);
}

/* Runs the daemon on db with one of its ports taken (which: "coap", "coaps", "http");
 * it must fail and name the port. */
static void start_on_busy_port(const char *db, const char *which)
{
	int port, fd = hold_port(strcmp(which, "http") == 0 ? SOCK_STREAM : SOCK_DGRAM, &port);
	char busy[32], cmd[1024], out[4096];
	snprintf(busy, sizeof(busy), "127.0.0.1:%d", port);
	snprintf(cmd, sizeof(cmd), "%s --db %s --coap %s --coaps %s --http %s 2>&1", bin(), db,
		 strcmp(which, "coap") == 0 ? busy : "127.0.0.1:0",
		 strcmp(which, "coaps") == 0 ? busy : "127.0.0.1:0",
		 strcmp(which, "http") == 0 ? busy : "127.0.0.1:0");
	int rc = run_command(cmd, out, sizeof(out), 20);
	close(fd);
	assert_int_equal(rc, 1); /* refused (a sanitizer report would abort) */
	assert_in(out, busy);
	assert_in(out, strcmp(which, "http") == 0 ? "cannot start the API" : "cannot bind");
}

static void test_busy_port_creates_nothing(void **state)
{
	(void)state;
	char dir[] = "/tmp/lwm2md-test-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char db[300], listing[1024];
	snprintf(db, sizeof(db), "%s/var/lwm2md.db", dir);
	const char *which[] = {"coap", "coaps", "http"};
	for (size_t i = 0; i < 3; i++) {
		start_on_busy_port(db, which[i]);
		list_dir(dir, listing, sizeof(listing));
		assert_string_equal(listing, ""); /* not even var/ */
	}
	rmdir(dir);
}

static void test_busy_port_leaves_existing_registry_alone(void **state)
{
	(void)state;
	struct daemon_proc d;
	daemon_start(&d, NULL);
	daemon_stop(&d);
	/* A migration, or any write, would change the database's size or mtime. */
	char before[1024], after[1024];
	struct stat st0, st1;
	assert_int_equal(stat(d.db, &st0), 0);
	list_dir(d.dir, before, sizeof(before));
	sleep_ms(20);
	const char *which[] = {"coap", "coaps", "http"};
	for (size_t i = 0; i < 3; i++)
		start_on_busy_port(d.db, which[i]);
	assert_int_equal(stat(d.db, &st1), 0);
	list_dir(d.dir, after, sizeof(after));
	assert_string_equal(before, after); /* no -wal, -shm or .lock appeared */
	assert_int_equal(st0.st_size, st1.st_size);
	assert_true(st0.st_mtim.tv_sec == st1.st_mtim.tv_sec &&
		    st0.st_mtim.tv_nsec == st1.st_mtim.tv_nsec);
	daemon_cleanup(&d);
}

static void test_unknown_setting_in_config_file(void **state)
{
	(void)state;
	char dir[] = "/tmp/lwm2md-test-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char conf[300], cmd[1024], out[4096], want[512];
	snprintf(conf, sizeof(conf), "%s/lwm2md.conf", dir);
	FILE *f = fopen(conf, "w");
	assert_non_null(f);
	fprintf(f, "# a comment\n\nhttp = 127.0.0.1:0\ncoap-max-frobs = 3\nlog-level = info\n");
	fclose(f);
	snprintf(cmd, sizeof(cmd), "%s --db %s/db --config %s 2>&1", bin(), dir, conf);
	int rc = run_command(cmd, out, sizeof(out), 20);
	assert_int_equal(rc, 2);
	snprintf(want, sizeof(want), "lwm2md: %s:4: unknown setting 'coap-max-frobs'\n", conf);
	assert_string_equal(out, want);

	/* A known setting with a bad value: the same one line, saying so. */
	f = fopen(conf, "w");
	assert_non_null(f);
	fprintf(f, "max-body = lots\n");
	fclose(f);
	rc = run_command(cmd, out, sizeof(out), 20);
	assert_int_equal(rc, 2);
	snprintf(want, sizeof(want), "lwm2md: %s:1: bad value for 'max-body'\n", conf);
	assert_string_equal(out, want);

	unlink(conf);
	char listing[256];
	list_dir(dir, listing, sizeof(listing));
	assert_string_equal(listing, ""); /* no database made */
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_second_daemon_on_the_same_registry_is_refused),
		cmocka_unit_test(test_busy_port_creates_nothing),
		cmocka_unit_test(test_busy_port_leaves_existing_registry_alone),
		cmocka_unit_test(test_unknown_setting_in_config_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
