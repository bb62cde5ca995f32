/* Printing errors and warnings the way compilers and jq do: `file:line:col: error: message`,
 * then the offending source line and a caret under the column. Colour on a terminal unless
 * NO_COLOR is set. Only cli/ prints; everything below hands back a struct err. */
#pragma once
#include <stdio.h>

#include "util/err.h"

/* Prints one diagnostic (borrowed) to out. Without a location: `runnel: error: message`. */
void diag_print(FILE *out, const struct diag *d);
/* Prints every entry of dl (borrowed), in order. */
void diag_print_list(FILE *out, const struct diag_list *dl);
/* Prints err (borrowed) as an error diagnostic to stderr and returns its exit code
 * (err_exit_code: 2 usage, 3 config, 4 environment). */
int diag_report(const struct err *err);
/* Writes the source line `line` of `file` and a caret line under column `col` (1-based,
 * counted in characters; tabs kept so the caret lines up). Nothing when the line cannot be
 * read. `color` adds ANSI colour to the caret. */
void diag_print_excerpt(FILE *out, const char *file, unsigned line, unsigned col, int color);
/* Whether output to `out` should be coloured (a terminal and NO_COLOR unset or empty). */
int diag_use_color(FILE *out);
