/* log: one line per message on stderr, prefixed with the program name and level. */
#include "util/log.h"

#include <stdarg.h>
#include <stdio.h>

enum log_level log_max_level = LOG_WARN;

void log_set_level(enum log_level lvl)
{
	log_max_level = lvl;
}

void log_emit(enum log_level lvl, const char *fmt, ...)
{
	static const char *const names[] = {"error", "warning", "info", "debug"};
	va_list ap;
	va_start(ap, fmt);
	flockfile(stderr);
	fprintf(stderr, "runnel: %s: ", names[lvl]);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	funlockfile(stderr);
	va_end(ap);
}
