/*
 * log: levelled log lines to stderr, shared by every module.
 *
 * A line is "2026-11-25T04:53:21.123Z LEVEL module: message", or with --log-format json
 * {"time":"2026-11-25T04:53:21.123Z","level":"info","module":"lwm2m","msg":"…"}. The level
 * threshold is set once at start (--log-level); lines below it cost one comparison.
 */
#ifndef LWM2MD_LOG_H
#define LWM2MD_LOG_H

#include <stdbool.h>

enum log_level {
	LOG_LEVEL_DEBUG = 0,
	LOG_LEVEL_INFO = 1,
	LOG_LEVEL_WARN = 2,
	LOG_LEVEL_ERROR = 3,
};

extern enum log_level log_threshold;
/* Lines as JSON objects, one per line ({"time","level","module","msg"}), for log shippers
 * (--log-format json); else text. Set once at start. */
extern bool log_json;

/* Parses "debug", "info", "warn", "error": 0 with *level set, or -EINVAL. */
int log_level_parse(const char *name, enum log_level *level);

void log_write(enum log_level level, const char *module, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define LOG_DEBUG(mod, ...)                                                                \
	do {                                                                               \
		if (log_threshold <= LOG_LEVEL_DEBUG)                                      \
			log_write(LOG_LEVEL_DEBUG, mod, __VA_ARGS__);                      \
	} while (0)
#define LOG_INFO(mod, ...) log_write(LOG_LEVEL_INFO, mod, __VA_ARGS__)
#define LOG_WARN(mod, ...) log_write(LOG_LEVEL_WARN, mod, __VA_ARGS__)
#define LOG_ERROR(mod, ...) log_write(LOG_LEVEL_ERROR, mod, __VA_ARGS__)

/*
 * Rate-limited lines, for what any outsider can make happen as often as it likes (a
 * refused Register, a failed handshake): each call site writes at most LOG_RATE_LINES
 * lines per log_rate_window_ms (10 s), and the lines it held back are summarised once the window
 * is over ("lwm2m: 199990 more lines of 'registration refused' in the last 10 s"), at
 * the site's next line or at log_rate_flush, which the daemon calls every second. The
 * state is per call site (a static struct log_rate) and not locked: the event loop's
 * thread only. Each holds-back is counted (log_rate_suppressed_total, in /metrics).
 */
#define LOG_RATE_LINES 10
/* The window, in ms; a variable so that tests can shorten it. */
extern long long log_rate_window_ms;

struct log_rate {
	unsigned budget;           /* lines a window; 0: LOG_RATE_LINES */
	long long window_start_ms; /* monotonic */
	unsigned lines;            /* written in this window */
	unsigned long long held;   /* held back since the last summary */
	enum log_level level;
	const char *module, *label;
	struct log_rate *next;     /* in the list of sites with lines held back */
	int listed;
};

/* Whether a line of this site may be written now (false: counted as held back). */
int log_rate_allow(struct log_rate *r, enum log_level level, const char *module,
		   const char *label);
/* Writes the summaries of the sites whose window is over. */
void log_rate_flush(void);
/* Lines held back since the start. */
unsigned long long log_rate_suppressed_total(void);

#define LOG_RATE(level, mod, label, ...) LOG_RATE_N(level, mod, label, LOG_RATE_LINES, __VA_ARGS__)
/* The same with a budget of its own: lines per window at this call site. */
#define LOG_RATE_N(level, mod, label, lines, ...)                                         \
	do {                                                                               \
		static struct log_rate log_rate_site_ = {.budget = (lines)};               \
		if ((level) >= log_threshold &&                                            \
		    log_rate_allow(&log_rate_site_, (level), (mod), (label)))              \
			log_write((level), (mod), __VA_ARGS__);                            \
	} while (0)
#define LOG_WARN_RATE(mod, label, ...) LOG_RATE(LOG_LEVEL_WARN, mod, label, __VA_ARGS__)
#define LOG_INFO_RATE(mod, label, ...) LOG_RATE(LOG_LEVEL_INFO, mod, label, __VA_ARGS__)
#define LOG_INFO_RATE_N(mod, label, lines, ...)                                           \
	LOG_RATE_N(LOG_LEVEL_INFO, mod, label, lines, __VA_ARGS__)

#endif
