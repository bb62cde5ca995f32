/* Diagnostic logging to stderr. Modules below cli/ log only at debug level (systemd).
 * The macros check the level before evaluating their arguments (redis serverLog). */
#pragma once

enum log_level { LOG_ERROR = 0, LOG_WARN, LOG_INFO, LOG_DEBUG };

extern enum log_level log_max_level;

void log_set_level(enum log_level lvl);
void log_emit(enum log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_at(lvl, ...)                                                                           \
	do {                                                                                       \
		if ((lvl) <= log_max_level)                                                        \
			log_emit((lvl), __VA_ARGS__);                                              \
	} while (0)
#define log_error(...) log_at(LOG_ERROR, __VA_ARGS__)
#define log_warn(...) log_at(LOG_WARN, __VA_ARGS__)
#define log_info(...) log_at(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_at(LOG_DEBUG, __VA_ARGS__)
