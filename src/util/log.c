/* log: see log.h. Timestamps come from the wall clock; one fprintf per line so that lines
 * from the daemon and a test harness sharing stderr do not interleave mid-line. */
#include "util/log.h"

#include <errno.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

enum log_level log_threshold = LOG_LEVEL_INFO;
bool log_json;

static const char *const level_names[] = {"DEBUG", "INFO", "WARN", "ERROR"};
static const char *const json_level_names[] = {"debug", "info", "warn", "error"};

/* msg as the inside of a JSON string (RFC 8259): quote, backslash and control characters
 * escaped; other bytes as they are (a message is UTF-8, or quotes a peer's bytes, which a
 * log shipper then shows replaced). cap must be at least 6 × strlen(msg) + 1. */
static void json_escape(const char *msg, char *out, size_t cap)
{
	size_t o = 0;
	for (const unsigned char *p = (const unsigned char *)msg; *p && o + 7 < cap; p++) {
		if (*p == '"' || *p == '\\') {
			out[o++] = '\\';
			out[o++] = (char)*p;
		} else if (*p < 0x20) {
			o += (size_t)snprintf(out + o, cap - o, "\\u%04x", *p);
		} else {
			out[o++] = (char)*p;
		}
	}
	out[o] = '\0';
}

int log_level_parse(const char *name, enum log_level *level)
{
	static const char *const names[] = {"debug", "info", "warn", "error"};
	for (int i = 0; i < 4; i++) {
		if (strcmp(name, names[i]) == 0) {
			*level = (enum log_level)i;
			return 0;
		}
	}
	return -EINVAL;
}

void log_write(enum log_level level, const char *module, const char *fmt, ...)
{
	if (level < log_threshold)
		return;
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);

	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct tm tm;
	gmtime_r(&ts.tv_sec, &tm);
	char stamp[32];
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	if (!log_json) {
		fprintf(stderr, "%s.%03ldZ %s %s: %s\n", stamp, ts.tv_nsec / 1000000L,
			level_names[level], module, msg);
		return;
	}
	char escaped[sizeof(msg) * 6];
	json_escape(msg, escaped, sizeof(escaped));
	fprintf(stderr, "{\"time\":\"%s.%03ldZ\",\"level\":\"%s\",\"module\":\"%s\",\"msg\":\"%s\"}\n",
		stamp, ts.tv_nsec / 1000000L, json_level_names[level], module, escaped);
}

long long log_rate_window_ms = 10000;
static struct log_rate *rate_listed;
static unsigned long long rate_suppressed;

static long long mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void rate_summary(struct log_rate *r)
{
	log_write(r->level, r->module, "%llu more lines of '%s' in the last %lld s", r->held,
		  r->label, (log_rate_window_ms + 999) / 1000);
	r->held = 0;
}

int log_rate_allow(struct log_rate *r, enum log_level level, const char *module,
		   const char *label)
{
	long long now = mono_ms();
	r->level = level;
	r->module = module;
	r->label = label;
	if (r->lines == 0 || now - r->window_start_ms >= log_rate_window_ms) {
		if (r->held)
			rate_summary(r);
		r->window_start_ms = now;
		r->lines = 0;
	}
	if (r->lines < (r->budget ? r->budget : LOG_RATE_LINES)) {
		r->lines++;
		return 1;
	}
	r->held++;
	rate_suppressed++;
	if (!r->listed) {
		r->listed = 1;
		r->next = rate_listed;
		rate_listed = r;
	}
	return 0;
}

void log_rate_flush(void)
{
	long long now = mono_ms();
	for (struct log_rate **p = &rate_listed; *p;) {
		struct log_rate *r = *p;
		if (now - r->window_start_ms < log_rate_window_ms) {
			p = &r->next;
			continue;
		}
		if (r->held)
			rate_summary(r);
		r->lines = 0; /* a new window starts at the next line */
		r->listed = 0;
		*p = r->next;
	}
}

unsigned long long log_rate_suppressed_total(void)
{
	return rate_suppressed;
}
