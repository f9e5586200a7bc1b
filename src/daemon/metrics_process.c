/*
 * metrics_process: the process's own metrics in the names every Prometheus client library
 * uses (process_cpu_seconds_total, process_resident_memory_bytes, process_open_fds, …), so
 * that dashboards and alerts written for any other service work on lwm2md too, and
 * lwm2md_build_info, whose labels say which version and libraries are running.
 *
 * Read from /proc/self at each scrape: a few small files, no state kept.
 */
#include "daemon/metrics_process.h"

#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <mbedtls/version.h>
#include <microhttpd.h>
#include <sqlite3.h>
#include <uv.h>

#include "daemon/config.h"

/* Fields 14 (utime), 15 (stime), 22 (starttime) and 23 (vsize) of /proc/self/stat; 0 or
 * -1. The command name (field 2) may hold spaces and parentheses: skip to its last ')'. */
static int read_stat(uint64_t *utime, uint64_t *stime, uint64_t *start, uint64_t *vsize)
{
	char buf[1024];
	FILE *f = fopen("/proc/self/stat", "r");
	if (!f)
		return -1;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	const char *p = strrchr(buf, ')');
	if (!p)
		return -1;
	/* After ")": field 3 (state) onwards; utime is the 12th of them. */
	return sscanf(p + 1,
		      " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %" SCNu64 " %" SCNu64
		      " %*d %*d %*d %*d %*d %*d %" SCNu64 " %" SCNu64,
		      utime, stime, start, vsize) == 4
		       ? 0
		       : -1;
}

/* The boot time, seconds since the epoch ("btime" of /proc/stat); 0 when unknown. */
static uint64_t boot_time(void)
{
	char line[256];
	uint64_t btime = 0;
	FILE *f = fopen("/proc/stat", "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "btime %" SCNu64, &btime) == 1)
			break;
	}
	fclose(f);
	return btime;
}

static long resident_pages(void)
{
	long size = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "r");
	if (!f)
		return 0;
	if (fscanf(f, "%ld %ld", &size, &resident) != 2)
		resident = 0;
	fclose(f);
	return resident;
}

static long open_fds(void)
{
	long n = 0;
	DIR *dir = opendir("/proc/self/fd");
	if (!dir)
		return -1;
	for (struct dirent *e; (e = readdir(dir));) {
		if (e->d_name[0] != '.')
			n++;
	}
	closedir(dir);
	return n - 1; /* less the directory's own descriptor */
}

void metrics_process_write(FILE *out)
{
	long ticks = sysconf(_SC_CLK_TCK);
	uint64_t utime = 0, stime = 0, start = 0, vsize = 0;
	struct rlimit fd_limit;

	if (ticks > 0 && read_stat(&utime, &stime, &start, &vsize) == 0) {
		fprintf(out,
			"# HELP process_cpu_seconds_total User and system CPU time, in seconds.\n"
			"# TYPE process_cpu_seconds_total counter\n"
			"process_cpu_seconds_total %.2f\n",
			(double)(utime + stime) / (double)ticks);
		fprintf(out,
			"# HELP process_virtual_memory_bytes Virtual memory size, in bytes.\n"
			"# TYPE process_virtual_memory_bytes gauge\n"
			"process_virtual_memory_bytes %" PRIu64 "\n",
			vsize);
		uint64_t btime = boot_time();
		if (btime)
			fprintf(out,
				"# HELP process_start_time_seconds Start time of the process, in "
				"seconds since the epoch.\n"
				"# TYPE process_start_time_seconds gauge\n"
				"process_start_time_seconds %.2f\n",
				(double)btime + (double)start / (double)ticks);
	}
	fprintf(out,
		"# HELP process_resident_memory_bytes Resident memory size, in bytes.\n"
		"# TYPE process_resident_memory_bytes gauge\n"
		"process_resident_memory_bytes %ld\n",
		resident_pages() * sysconf(_SC_PAGESIZE));
	long fds = open_fds();
	if (fds >= 0)
		fprintf(out,
			"# HELP process_open_fds Open file descriptors.\n"
			"# TYPE process_open_fds gauge\nprocess_open_fds %ld\n",
			fds);
	if (getrlimit(RLIMIT_NOFILE, &fd_limit) == 0 && fd_limit.rlim_cur != RLIM_INFINITY)
		fprintf(out,
			"# HELP process_max_fds The most file descriptors the process may open.\n"
			"# TYPE process_max_fds gauge\nprocess_max_fds %llu\n",
			(unsigned long long)fd_limit.rlim_cur);
	fprintf(out,
		"# HELP lwm2md_build_info The running version of lwm2md and of the libraries it "
		"uses, as labels; always 1.\n"
		"# TYPE lwm2md_build_info gauge\n"
		"lwm2md_build_info{version=\"%s\",sqlite=\"%s\",mbedtls=\"%s\",libuv=\"%s\","
		"libmicrohttpd=\"%s\"} 1\n",
		LWM2MD_VERSION, sqlite3_libversion(), MBEDTLS_VERSION_STRING, uv_version_string(),
		MHD_get_version());
}
