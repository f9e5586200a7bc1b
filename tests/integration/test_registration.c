/*
 * Integration: the registration interface end to end against the real daemon — devices
 * created through the REST API, Register/Update/De-register over real UDP, status
 * transitions, refusals, lifetime expiry, activation timeout, restart (also after a
 * SIGKILL, and with a registration whose device is gone).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "harness.h"

static const char *links = "</>;rt=\"oma.lwm2m\";ct=11543,</1/0>,</3/0>,</19/0>,</19/1>";

static int setup(void **state)
{
	static struct daemon_proc d;
	daemon_start(&d, NULL);
	api_create_product(&d, "meter");
	*state = &d;
	return 0;
}

static int teardown(void **state)
{
	struct daemon_proc *d = *state;
	daemon_stop(d);
	daemon_cleanup(d);
	return 0;
}

static void test_register_update_deregister(void **state)
{
	struct daemon_proc *d = *state;
	char id[32], v[4096];
	api_create_device(d, "meter", "imei0001", false, 0);
	assert_int_equal(api_device_field(d, "meter_imei0001", "status", v, sizeof(v)), 0);
	assert_string_equal(v, "INACTIVE");

	int fd = coap_socket("127.0.0.1:0");
	assert_int_equal(coap_register(fd, &d->coap, "imei0001", "300", links, id),
			 COAP_CODE_CREATED);
	assert_int_equal(strlen(id), 10);
	assert_int_equal(api_wait_status(d, "meter_imei0001", "ONLINE", 3000), 0);
	/* The device's GET shows its live registration. */
	assert_int_equal(api_device_field(d, "meter_imei0001", "registration_id", v, sizeof(v)),
			 0);
	assert_string_equal(v, id);
	assert_int_equal(api_device_field(d, "meter_imei0001", "lifetime", v, sizeof(v)), 0);
	assert_string_equal(v, "300");
	assert_int_equal(api_device_field(d, "meter_imei0001", "lwm2m_version", v, sizeof(v)), 0);
	assert_string_equal(v, "1.1");
	assert_int_equal(api_device_field(d, "meter_imei0001", "transport", v, sizeof(v)), 0);
	assert_string_equal(v, "udp");
	assert_int_equal(api_device_field(d, "meter_imei0001", "peer_address", v, sizeof(v)), 0);
	assert_non_null(strstr(v, "127.0.0.1:"));
	assert_int_equal(api_device_field(d, "meter_imei0001", "object_links", v, sizeof(v)), 0);
	assert_non_null(strstr(v, "</19/1>"));

	assert_int_equal(coap_update(fd, &d->coap, id, "lt=600"), COAP_CODE_CHANGED);
	sleep_ms(300);
	assert_int_equal(api_device_field(d, "meter_imei0001", "lifetime", v, sizeof(v)), 0);
	assert_string_equal(v, "600");

	assert_int_equal(coap_deregister(fd, &d->coap, id), COAP_CODE_DELETED);
	assert_int_equal(api_wait_status(d, "meter_imei0001", "OFFLINE", 3000), 0);
	assert_int_not_equal(
		api_device_field(d, "meter_imei0001", "registration_id", v, sizeof(v)), 0);
	/* The old registration is gone. */
	assert_int_equal(coap_update(fd, &d->coap, id, NULL), COAP_CODE_NOT_FOUND);
	/* And the device may register again. */
	assert_int_equal(coap_register(fd, &d->coap, "imei0001", "300", links, id),
			 COAP_CODE_CREATED);
	assert_int_equal(api_wait_status(d, "meter_imei0001", "ONLINE", 3000), 0);
	close(fd);
}

static void test_refusals(void **state)
{
	struct daemon_proc *d = *state;
	char id[32], body[8192];
	api_create_device(d, "meter", "secure01", true, 0);
	int fd = coap_socket("127.0.0.1:0");
	/* Not a device: 4.03. A secure device on the plain port: 4.03. */
	assert_int_equal(coap_register(fd, &d->coap, "nobody", "300", links, id),
			 COAP_CODE_FORBIDDEN);
	assert_int_equal(coap_register(fd, &d->coap, "secure01", "300", links, id),
			 COAP_CODE_FORBIDDEN);
	/* Version above 1.1: 4.12; malformed links: 4.00. */
	struct coap_msg m, r;
	uint8_t buf[2048];
	coap_msg_init(&m, COAP_TYPE_CON, COAP_CODE_POST, 0x4242, NULL, 0);
	coap_msg_add_option(&m, COAP_OPTION_URI_PATH, "rd", 2);
	coap_msg_add_option(&m, COAP_OPTION_URI_QUERY, "ep=secure01", 11);
	coap_msg_add_option(&m, COAP_OPTION_URI_QUERY, "lwm2m=1.2", 9);
	coap_msg_set_payload(&m, "</1/0>", 6);
	assert_int_equal(coap_exchange(fd, &d->coap, &m, &r, buf, sizeof(buf)), 0);
	assert_int_equal(r.code, COAP_CODE_PRECONDITION_FAILED);
	assert_int_equal(coap_register(fd, &d->coap, "secure01", "300", "</1/0", id),
			 COAP_CODE_BAD_REQUEST);
	sleep_ms(200);
	assert_int_equal(api_device_field(d, "meter_secure01", "status", body, sizeof(body)), 0);
	assert_string_equal(body, "INACTIVE");
	/* The refusals are counted. */
	assert_int_equal(http_call(d, "GET", "/metrics", NULL, body, sizeof(body)), 200);
	const char *line = strstr(body, "\nlwm2md_registrations_rejected_total ");
	assert_non_null(line);
	int rejected = 0;
	assert_int_equal(sscanf(line, "\nlwm2md_registrations_rejected_total %d", &rejected), 1);
	assert_int_equal(rejected, 4);
	close(fd);
}

static void test_lifetime_expiry_sets_offline(void **state)
{
	struct daemon_proc *d = *state;
	char id[32];
	api_create_device(d, "meter", "short01", false, 0);
	int fd = coap_socket("127.0.0.1:0");
	assert_int_equal(coap_register(fd, &d->coap, "short01", "1", links, id),
			 COAP_CODE_CREATED);
	assert_int_equal(api_wait_status(d, "meter_short01", "ONLINE", 3000), 0);
	assert_int_equal(api_wait_status(d, "meter_short01", "OFFLINE", 5000), 0);
	assert_int_equal(coap_update(fd, &d->coap, id, NULL), COAP_CODE_NOT_FOUND);
	close(fd);
}

static void test_activation_timeout_deletes_inactive_device(void **state)
{
	struct daemon_proc *d = *state;
	char v[64], id[32];
	api_create_device(d, "meter", "lazy01", false, 1);
	api_create_device(d, "meter", "eager01", false, 1);
	int fd = coap_socket("127.0.0.1:0");
	assert_int_equal(coap_register(fd, &d->coap, "eager01", "300", links, id),
			 COAP_CODE_CREATED);
	/* The sweep runs every second: within 3 s the never-connected device is gone. */
	int gone = -1;
	for (int i = 0; i < 60 && gone != 404; i++) {
		gone = http_call(d, "GET", "/v5/iot/p1/devices/meter_lazy01", NULL, v, sizeof(v));
		sleep_ms(100);
	}
	assert_int_equal(gone, 404);
	assert_int_equal(api_device_field(d, "meter_eager01", "status", v, sizeof(v)), 0);
	assert_string_equal(v, "ONLINE");
	close(fd);
}

static void test_restart_keeps_registrations(void **state)
{
	struct daemon_proc *d = *state;
	char id[32], v[64];
	api_create_device(d, "meter", "keep01", false, 0);
	api_create_device(d, "meter", "later01", false, 2);
	int fd = coap_socket("127.0.0.1:0");
	assert_int_equal(coap_register(fd, &d->coap, "keep01", "300", links, id),
			 COAP_CODE_CREATED);
	assert_int_equal(api_wait_status(d, "meter_keep01", "ONLINE", 3000), 0);
	daemon_stop(d);
	/* While the daemon is down, later01's activation timeout passes. */
	sleep_ms(2500);
	daemon_restart(d, NULL);
	assert_int_equal(api_device_field(d, "meter_keep01", "status", v, sizeof(v)), 0);
	assert_string_equal(v, "ONLINE");
	assert_int_equal(api_device_field(d, "meter_keep01", "registration_id", v, sizeof(v)), 0);
	assert_string_equal(v, id);
	assert_int_equal(coap_update(fd, &d->coap, id, NULL), COAP_CODE_CHANGED);
	int gone = -1;
	for (int i = 0; i < 40 && gone != 404; i++) {
		gone = http_call(d, "GET", "/v5/iot/p1/devices/meter_later01", NULL, v, sizeof(v));
		sleep_ms(100);
	}
	assert_int_equal(gone, 404);
	close(fd);
}

/* Registrations are written by the store's own thread into their own file: a SIGKILL
 * loses at most the last ~200 ms, so registrations older than that are all back. */
static void test_kill9_keeps_written_registrations(void **state)
{
	struct daemon_proc *d = *state;
	enum { N = 40 };
	char ids[N][32], node[32];
	int fd = coap_socket("127.0.0.1:0");
	for (int i = 0; i < N; i++) {
		snprintf(node, sizeof(node), "kill%02d", i);
		api_create_device(d, "meter", node, false, 0);
		assert_int_equal(coap_register(fd, &d->coap, node, "300", links, ids[i]),
				 COAP_CODE_CREATED);
	}
	sleep_ms(1000); /* a flush (100 ms) and the writer's batch, with room to spare */
	kill(d->pid, SIGKILL);
	waitpid(d->pid, NULL, 0);
	d->pid = 0;
	close(d->stdout_fd);
	daemon_restart(d, NULL);
	for (int i = 0; i < N; i++)
		assert_int_equal(coap_update(fd, &d->coap, ids[i], NULL), COAP_CODE_CHANGED);
	close(fd);
}

/* A registration whose device is gone when the daemon starts (deleted just before a
 * crash, or a database restored from before it) is not brought back. */
static void test_orphan_registration_dropped_at_start(void **state)
{
	struct daemon_proc *d = *state;
	char id[32], keep_id[32], v[256];
	api_create_device(d, "meter", "orphan01", false, 0);
	api_create_device(d, "meter", "stays01", false, 0);
	int fd = coap_socket("127.0.0.1:0");
	assert_int_equal(coap_register(fd, &d->coap, "orphan01", "300", links, id),
			 COAP_CODE_CREATED);
	assert_int_equal(coap_register(fd, &d->coap, "stays01", "300", links, keep_id),
			 COAP_CODE_CREATED);
	daemon_stop(d); /* registrations written */
	/* What an older backup of the database looks like: the device is not in it. */
	char registrations[400];
	snprintf(registrations, sizeof(registrations), "%s.registrations", d->db);
	assert_int_equal(access(registrations, F_OK), 0);
	sqlite3 *db;
	assert_int_equal(sqlite3_open(d->db, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "DELETE FROM devices WHERE node_id = 'orphan01'", NULL,
				      NULL, NULL),
			 SQLITE_OK);
	sqlite3_close(db);
	daemon_restart(d, NULL);
	assert_int_equal(coap_update(fd, &d->coap, id, NULL), COAP_CODE_NOT_FOUND);
	assert_int_equal(coap_update(fd, &d->coap, keep_id, NULL), COAP_CODE_CHANGED);
	assert_int_equal(api_device_field(d, "meter_stays01", "status", v, sizeof(v)), 0);
	assert_string_equal(v, "ONLINE");
	close(fd);
}

static void test_deleting_device_ends_registration(void **state)
{
	struct daemon_proc *d = *state;
	char id[32], v[256];
	api_create_device(d, "meter", "gone01", false, 0);
	int fd = coap_socket("127.0.0.1:0");
	assert_int_equal(coap_register(fd, &d->coap, "gone01", "300", links, id),
			 COAP_CODE_CREATED);
	assert_int_equal(http_call(d, "DELETE", "/v5/iot/p1/devices/meter_gone01", NULL, v,
				   sizeof(v)),
			 204);
	assert_int_equal(coap_update(fd, &d->coap, id, NULL), COAP_CODE_NOT_FOUND);
	assert_int_equal(coap_register(fd, &d->coap, "gone01", "300", links, id),
			 COAP_CODE_FORBIDDEN);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_register_update_deregister, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lifetime_expiry_sets_offline, setup, teardown),
		cmocka_unit_test_setup_teardown(test_activation_timeout_deletes_inactive_device,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart_keeps_registrations, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deleting_device_ends_registration, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_kill9_keeps_written_registrations, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_orphan_registration_dropped_at_start, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
