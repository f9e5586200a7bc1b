/*
 * Integration test: an API answer that reports a stored change is sent only after the
 * change is committed.
 *
 * The daemon commits what one loop turn wrote in one transaction (group commit). Before
 * answers were held for that commit, libmicrohttpd could write "201 Created" earlier in
 * the same turn, and a SIGKILL a moment later lost a command the client had been told
 * about. Here client threads create commands and change the desired shadow as fast as
 * they can, the daemon is killed with SIGKILL in the middle, and after a restart every
 * command answered 201, and the last desired version answered 200, must be there. Three
 * rounds, because a lost answer needs the kill to land inside one loop turn.
 *
 * Also: the registry's files, which hold device secrets, are the daemon user's alone.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "harness.h"
#include "harness_platform.h"
#include "meter_fixture.h"

#define WRITERS 4
#define ROUNDS 3
#define IDS_MAX 200000

struct load {
	struct daemon_proc *d;
	atomic_bool stop;
	pthread_mutex_t lock;
	char (*ids)[64]; /* command ids answered 201 */
	size_t n_ids;
	json_int_t acked_version; /* the highest desired version answered 200 */
	json_int_t acked_interval;
};

/*
 * One request on its own connection, without cmocka (it runs on the load's threads and
 * must survive the daemon's death): the status, or -1 when the daemon is gone.
 */
static int raw_call(const struct daemon_proc *d, const char *method, const char *path,
		    const char *body, char *resp, size_t cap)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return -1;
	struct sockaddr_storage ss;
	size_t sl = addr_to_sockaddr(&d->http, &ss);
	if (connect(fd, (struct sockaddr *)&ss, (socklen_t)sl) != 0) {
		close(fd);
		return -1;
	}
	char req[1024];
	int n = snprintf(req, sizeof(req),
			 "%s %s HTTP/1.1\r\nHost: localhost\r\nX-Auth-Token: %s\r\n"
			 "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
			 method, path, d->token, strlen(body), body);
	if (n <= 0 || (size_t)n >= sizeof(req) || write(fd, req, (size_t)n) != n) {
		close(fd);
		return -1;
	}
	size_t got = 0;
	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, 10000) <= 0)
			break;
		ssize_t r = read(fd, resp + got, cap - 1 - got);
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	resp[got] = '\0';
	int status = -1;
	if (sscanf(resp, "HTTP/1.%*d %d", &status) != 1)
		return -1;
	const char *b = strstr(resp, "\r\n\r\n");
	if (!b)
		return -1; /* cut off by the kill: not an answer */
	memmove(resp, b + 4, strlen(b + 4) + 1);
	return status;
}

static void *command_writer(void *arg)
{
	struct load *l = arg;
	char resp[8192];
	const char *body = "{\"service_id\":\"WaterMeter\",\"command_name\":\"SET_INTERVAL\","
			   "\"paras\":{\"interval\":60},\"send_strategy\":\"delay\"}";
	while (!atomic_load(&l->stop)) {
		int status = raw_call(l->d, "POST", "/v5/iot/p1/devices/wm_meter1/async-commands",
				      body, resp, sizeof(resp));
		if (status < 0)
			break;
		if (status != 201)
			continue;
		json_t *j = json_loads(resp, 0, NULL);
		const char *id = json_string_value(json_object_get(j, "command_id"));
		pthread_mutex_lock(&l->lock);
		if (id && l->n_ids < IDS_MAX)
			snprintf(l->ids[l->n_ids++], sizeof(l->ids[0]), "%s", id);
		pthread_mutex_unlock(&l->lock);
		json_decref(j);
	}
	return NULL;
}

/* WaterMeter's desired version in a shadow answer (GET or PUT), or -1. */
static json_int_t desired_version(json_t *shadow, json_int_t *interval)
{
	json_t *list = json_object_get(shadow, "shadow");
	for (size_t i = 0; i < json_array_size(list); i++) {
		json_t *svc = json_array_get(list, i);
		if (strcmp(json_string_value(json_object_get(svc, "service_id")), "WaterMeter"))
			continue;
		json_t *desired = json_object_get(svc, "desired");
		if (interval)
			*interval = json_integer_value(
				json_object_get(json_object_get(desired, "properties"), "interval"));
		return json_integer_value(json_object_get(desired, "version"));
	}
	return -1;
}

static void *shadow_writer(void *arg)
{
	struct load *l = arg;
	char resp[8192], body[256];
	for (int value = 1; !atomic_load(&l->stop); value = value % 60000 + 1) {
		snprintf(body, sizeof(body),
			 "{\"shadow\":[{\"service_id\":\"WaterMeter\",\"desired\":{\"interval\":%d}}]}",
			 value);
		int status = raw_call(l->d, "PUT", "/v5/iot/p1/devices/wm_meter1/shadow", body, resp,
				      sizeof(resp));
		if (status < 0)
			break;
		if (status != 200)
			continue;
		json_t *j = json_loads(resp, 0, NULL);
		json_int_t interval = 0;
		json_int_t v = desired_version(j, &interval);
		pthread_mutex_lock(&l->lock);
		if (v > l->acked_version) {
			l->acked_version = v;
			l->acked_interval = interval;
		}
		pthread_mutex_unlock(&l->lock);
		json_decref(j);
	}
	return NULL;
}

static void test_answered_changes_survive_sigkill(void **state)
{
	static const char *const args[] = {"--max-pending-commands", "10000", NULL};
	struct platform_fixture *f = platform_start("declarative", meter_model, meter_layout,
						    args);
	*state = f; /* the teardown stops the daemon even when an assertion fails */
	struct load l = {.d = &f->d};
	pthread_mutex_init(&l.lock, NULL);
	l.ids = calloc(IDS_MAX, sizeof(l.ids[0]));
	assert_non_null(l.ids);
	size_t checked = 0;

	for (int round = 0; round < ROUNDS; round++) {
		pthread_t threads[WRITERS + 1];
		atomic_store(&l.stop, false);
		for (int i = 0; i < WRITERS; i++)
			pthread_create(&threads[i], NULL, command_writer, &l);
		pthread_create(&threads[WRITERS], NULL, shadow_writer, &l);
		/* Let the load build up, then kill in the middle of it. */
		sleep_ms(800 + 300 * round);
		kill(f->d.pid, SIGKILL);
		waitpid(f->d.pid, NULL, 0);
		f->d.pid = 0;
		close(f->d.stdout_fd);
		atomic_store(&l.stop, true);
		for (int i = 0; i <= WRITERS; i++)
			pthread_join(threads[i], NULL);

		daemon_restart(&f->d, args);
		char resp[8192], path[256];
		size_t lost = 0;
		for (size_t i = checked; i < l.n_ids; i++) {
			snprintf(path, sizeof(path), "/v5/iot/p1/devices/wm_meter1/async-commands/%s",
				 l.ids[i]);
			if (http_call(&f->d, "GET", path, NULL, resp, sizeof(resp)) != 200) {
				print_message("command %s was answered 201 but is gone\n", l.ids[i]);
				lost++;
			}
		}
		print_message("round %d: %zu commands answered 201, %zu lost; desired v%lld\n",
			      round, l.n_ids - checked, lost, (long long)l.acked_version);
		assert_true(l.n_ids > checked); /* the load did run */
		assert_int_equal(lost, 0);
		checked = l.n_ids;

		assert_int_equal(http_call(&f->d, "GET", "/v5/iot/p1/devices/wm_meter1/shadow",
					   NULL, resp, sizeof(resp)),
				 200);
		json_t *j = json_loads(resp, 0, NULL);
		json_int_t interval = 0;
		json_int_t version = desired_version(j, &interval);
		json_decref(j);
		/* Later PUTs may have been stored without their answer arriving; none answered
		 * may be missing. */
		assert_true(version >= l.acked_version);
		if (version == l.acked_version)
			assert_int_equal(interval, l.acked_interval);
	}
	free(l.ids);
	pthread_mutex_destroy(&l.lock);
}

/* The registry holds device secrets: a directory the daemon makes for it is 0700 and the
 * database 0600, whatever the umask (store_open narrows what SQLite would make 0644). */
static void test_registry_private(void **state)
{
	(void)state;
	char dir[] = "/tmp/lwm2md-files-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char cmd[1024];
	snprintf(cmd, sizeof(cmd),
		 "umask 022 && '%s' token create --db %s/var/db.sqlite --project p >/dev/null 2>&1",
		 getenv("LWM2MD_BIN"), dir);
	assert_int_equal(system(cmd), 0);
	struct stat st;
	snprintf(cmd, sizeof(cmd), "%s/var", dir);
	assert_int_equal(stat(cmd, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	snprintf(cmd, sizeof(cmd), "%s/var/db.sqlite", dir);
	assert_int_equal(stat(cmd, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_registry_private),
		cmocka_unit_test_teardown(test_answered_changes_survive_sigkill, platform_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
