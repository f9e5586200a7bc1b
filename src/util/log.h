/*
 * log: levelled log lines to stderr, shared by every module.
 *
 * A line is "2026-11-25T04:53:21.123Z LEVEL module: message". The level threshold is set
 * once at start (--log-level); lines below it cost one comparison.
 */
#ifndef LWM2MD_LOG_H
#define LWM2MD_LOG_H

enum log_level {
	LOG_LEVEL_DEBUG = 0,
	LOG_LEVEL_INFO = 1,
	LOG_LEVEL_WARN = 2,
	LOG_LEVEL_ERROR = 3,
};

extern enum log_level log_threshold;

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

#endif
