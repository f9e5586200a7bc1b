/*
 * bs_load.h: bs_load's types and the helpers that need no run state (bench/bs_load.c has
 * the devices' behaviour and the loop). Header-only, as bench_common.h: each bench C file
 * is its own program.
 */
#ifndef LWM2MD_BENCH_BS_LOAD_H
#define LWM2MD_BENCH_BS_LOAD_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <mbedtls/md.h>
#include <mbedtls/ssl.h>
#include <mbedtls/timing.h>

#include "bench_common.h"

#define DEVICES_MAX 1000000u
#define WINDOW_MAX 65536u
#define DGRAM_MAX 2048
#define BS_KEY_LEN 16
#define DISCOVER_ANSWER "</0/0>,</1/0>;ssid=1,</3/0>"

enum dev_state { DEV_IDLE, DEV_HANDSHAKE, DEV_REQUEST, DEV_SERVING, DEV_DONE, DEV_FAILED };

/* The steps of the sequence a device has seen, to check it was complete. */
enum {
	SEEN_DISCOVER = 1,
	SEEN_DEL0 = 2,
	SEEN_DEL1 = 4,
	SEEN_WRITE0 = 8,
	SEEN_WRITE1 = 16,
	SEEN_ALL = 31
};

/* A device's DTLS client while it bootstraps (freed when it ends). */
struct dtls_dev {
	mbedtls_ssl_config conf;
	mbedtls_ssl_context ssl;
	mbedtls_timing_delay_context timer;
	uint8_t key[BS_KEY_LEN];
};

struct device {
	uint8_t state;
	uint8_t seen;
	uint8_t tries; /* transmissions of POST /bs */
	uint16_t mid;  /* of the last POST /bs */
	uint64_t started_ns, next_rtx_ns;
	struct dtls_dev *dtls;
	const uint8_t *inbox; /* the datagram the DTLS BIO hands to mbedTLS, once */
	size_t inbox_len;
};

/* A Discover a device holds: what its answer needs. */
struct held {
	uint32_t dev;
	uint16_t mid;
	uint8_t token_len;
	uint8_t token[COAP_TOKEN_MAX];
};

struct opts {
	struct sockaddr_in target;
	uint32_t devices, window, timeout_ms, retries, deadline_s, max_seconds, net, sample_ms;
	bool hold;
	const char *prefix;
	bool dtls;
	uint8_t master[64];
	size_t master_len;
	long pid;
};

struct run {
	struct opts o;
	struct bench_net bn;
	struct device *dev;
	uint32_t next, active, peak_active;
	uint32_t done, failed, refused, incomplete, retransmits, server_requests;
	struct hist lat; /* start to Finish, µs */
	long rss_before, rss_peak, rss_held;
	uint32_t active_at_peak;
	/* The hold (--hold 1): the first window's devices keep the server's Discover
	 * unanswered until all of them hold one, so that the daemon has that many bootstraps
	 * in progress at once when its VmRSS is read; then they answer and go on. */
	bool holding;
	struct held *held;
	uint32_t nheld, hold_target;
	uint64_t hold_since_ns, hold_ns;
};

static inline bool path_is_bs(const struct coap_msg *m)
{
	const struct coap_option *o = coap_msg_find_option(m, COAP_OPTION_URI_PATH);
	return o && o->len == 2 && memcmp(o->value, "bs", 2) == 0 &&
	       coap_msg_count_options(m, COAP_OPTION_URI_PATH) == 1;
}

/* The device's bootstrap key: the first 16 bytes of HMAC-SHA256(master, node ID). */
static inline int bs_derive_key(const uint8_t *master, size_t master_len, const char *node,
				uint8_t key[BS_KEY_LEN])
{
	uint8_t mac[32];
	const mbedtls_md_info_t *md = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
	if (md == NULL || mbedtls_md_hmac(md, master, master_len, (const unsigned char *)node,
					  strlen(node), mac) != 0)
		return -EIO;
	memcpy(key, mac, BS_KEY_LEN);
	return 0;
}

static inline int parse_master(const char *hex, struct opts *o)
{
	size_t n = strlen(hex);
	if (n < 32 || n > 128 || n % 2)
		return -EINVAL;
	for (size_t k = 0; k < n / 2; k++) {
		unsigned v;
		if (sscanf(hex + 2 * k, "%2x", &v) != 1)
			return -EINVAL;
		o->master[k] = (uint8_t)v;
	}
	o->master_len = n / 2;
	return 0;
}

/* The CPU time (user + system) of pid, in seconds, from /proc/PID/stat; -1 if unreadable. */
static inline double proc_cpu_s(long pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	FILE *f = pid > 0 ? fopen(path, "re") : NULL;
	if (f == NULL)
		return -1;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* Fields 14 and 15 (utime, stime), counted after the ')' that ends the name. */
	const char *p = strrchr(buf, ')');
	unsigned long long ut, st;
	if (p == NULL ||
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
		return -1;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static inline double self_cpu_s(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

#endif
