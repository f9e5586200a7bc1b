/*
 * Integration test: /metrics carries the process's own series under the names Prometheus
 * client libraries use (CPU, memory, descriptors, start time) and lwm2md_build_info, and
 * their values are the daemon's: its descriptors as /proc counts them, its memory within
 * reason, a start time of a moment ago. And the Grafana dashboard (docs/grafana) names
 * only series that /metrics has.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <time.h>

#include <jansson.h>

#include <cmocka.h>

#include "harness.h"

static void test_process_series(void **state)
{
	(void)state;
	struct daemon_proc d;
	static char resp[65536];
	time_t before = time(NULL);
	daemon_start(&d, NULL);

	long long fds = metric_value(&d, "process_open_fds");
	int counted = daemon_fd_count(&d);
	print_message("process_open_fds %lld, /proc/PID/fd %d\n", fds, counted);
	/* The scrape's own connection may come and go between the two looks. */
	assert_true(fds >= counted - 2 && fds <= counted + 2);
	assert_true(metric_value(&d, "process_max_fds") >= fds);

	long long rss = metric_value(&d, "process_resident_memory_bytes");
	assert_true(rss > 1000000 && rss < 2000000000);
	assert_true(metric_value(&d, "process_virtual_memory_bytes") >= rss);
	assert_true(metric_value(&d, "process_cpu_seconds_total") >= 0);
	long long start = metric_value(&d, "process_start_time_seconds");
	assert_true(start >= (long long)before - 2 && start <= (long long)time(NULL) + 1);

	assert_int_equal(http_call_auth(&d, "GET", "/metrics", NULL, NULL, resp, sizeof(resp)), 200);
	assert_in(resp, "# TYPE process_cpu_seconds_total counter\n");
	assert_in(resp, "lwm2md_build_info{version=\"");
	assert_in(resp, "\",sqlite=\"3.");
	assert_in(resp, "\"} 1\n");
	daemon_stop(&d);
	daemon_cleanup(&d);
}

/* Each lwm2md_* or process_* name in expr must have a "# TYPE name " line in metrics;
 * returns how many names expr has. */
static int check_names(const char *expr, const char *metrics)
{
	int names = 0;
	for (const char *p = expr; *p; p++) {
		bool starts = (strncmp(p, "lwm2md_", 7) == 0 || strncmp(p, "process_", 8) == 0) &&
			      (p == expr || !(p[-1] == '_' || (p[-1] >= 'a' && p[-1] <= 'z')));
		if (!starts)
			continue;
		size_t n = strspn(p, "abcdefghijklmnopqrstuvwxyz0123456789_");
		char want[128];
		snprintf(want, sizeof(want), "# TYPE %.*s ", (int)n, p);
		if (!strstr(metrics, want))
			fail_msg("the dashboard's %.*s is not in /metrics (in %s)", (int)n, p, expr);
		names++;
		p += n - 1;
	}
	return names;
}

static void test_dashboard_names_real_series(void **state)
{
	(void)state;
	struct daemon_proc d;
	static char metrics[131072];
	char path[1024];
	const char *data = getenv("LWM2MD_TEST_DATA");
	assert_non_null(data);
	snprintf(path, sizeof(path), "%s/../../docs/grafana/lwm2md.json", data);
	json_error_t err;
	json_t *dash = json_load_file(path, 0, &err);
	if (!dash)
		fail_msg("%s: %s", path, err.text);
	daemon_start(&d, NULL);
	assert_int_equal(http_call_auth(&d, "GET", "/metrics", NULL, NULL, metrics,
					sizeof(metrics)),
			 200);
	int exprs = 0, names = 0;
	size_t i, j;
	json_t *panel, *target;
	json_array_foreach(json_object_get(dash, "panels"), i, panel) {
		json_array_foreach(json_object_get(panel, "targets"), j, target) {
			const char *expr = json_string_value(json_object_get(target, "expr"));
			assert_non_null(expr);
			int n = check_names(expr, metrics);
			assert_true(n > 0);
			names += n;
			exprs++;
		}
	}
	print_message("%d queries naming %d series, all in /metrics\n", exprs, names);
	assert_true(exprs >= 20);
	json_decref(dash);
	daemon_stop(&d);
	daemon_cleanup(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_process_series),
		cmocka_unit_test(test_dashboard_names_real_series),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
