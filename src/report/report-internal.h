/* Private to report/: accessors of struct report for the files that do not own its layout. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

struct report;

bool report_color(const struct report *r);
/* Writes buf to the report's output in one locked write. */
void report_write_locked(struct report *r, const char *buf, size_t len);
