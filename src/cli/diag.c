/* diag: compiler-style diagnostics with a source excerpt and caret (jq's locfile_locate). */
#include "cli/diag.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/strbuf.h"

#define C_BOLD "\033[1m"
#define C_RED "\033[1;31m"
#define C_MAGENTA "\033[1;35m"
#define C_GREEN "\033[1;32m"
#define C_RESET "\033[0m"

int diag_use_color(FILE *out)
{
	const char *nc = getenv("NO_COLOR");
	if (nc && *nc)
		return 0;
	return isatty(fileno(out));
}

/* Reads line `line` (1-based) of file into sb; 0 on success. */
static int read_line(const char *file, unsigned line, struct strbuf *sb)
{
	_cleanup_fclose_ FILE *f = fopen(file, "re");
	if (!f)
		return -1;
	unsigned cur = 1;
	int c;
	while (cur < line && (c = getc(f)) != EOF)
		if (c == '\n')
			cur++;
	if (cur != line)
		return -1;
	while ((c = getc(f)) != EOF && c != '\n')
		strbuf_addch(sb, c);
	if (sb->len && sb->buf[sb->len - 1] == '\r')
		strbuf_setlen(sb, sb->len - 1);
	return c == EOF && sb->len == 0 ? -1 : 0;
}

/* Whether s is text worth echoing: valid UTF-8 without control characters except tabs. A
 * binary file's "line" is not shown (it would garble the terminal). */
static int printable_line(const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		unsigned char c = s[i];
		size_t len = c < 0x80             ? 1
		             : (c & 0xE0) == 0xC0 ? 2
		             : (c & 0xF0) == 0xE0 ? 3
		             : (c & 0xF8) == 0xF0 ? 4
		                                  : 0;
		if (!len || i + len > n || (c < 0x20 && c != '\t') || c == 0x7f)
			return 0;
		for (size_t k = 1; k < len; k++)
			if ((s[i + k] & 0xC0) != 0x80)
				return 0;
		i += len;
	}
	return 1;
}

#define EXCERPT_MAX 160 /* characters shown of a long line, around the column */

/* Byte offset of character number `chars` (0-based) in s, or len past the end. */
static size_t char_offset(const char *s, size_t len, unsigned chars)
{
	size_t i = 0;
	for (unsigned c = 0; i < len; i++) {
		if (((unsigned char)s[i] & 0xC0) == 0x80)
			continue;
		if (c++ == chars)
			return i;
	}
	return len;
}

void diag_print_excerpt(FILE *out, const char *file, unsigned line, unsigned col, int color)
{
	_cleanup_(strbuf_release) struct strbuf src = STRBUF_INIT;
	if (!file || !line || read_line(file, line, &src) < 0)
		return;
	if (!printable_line((const unsigned char *)src.buf, src.len))
		return;
	/* a very long line (minified or generated YAML): a window around the column */
	unsigned first = 0;
	const char *pre = "", *post = "";
	size_t from = 0, to = src.len;
	if (char_offset(src.buf, src.len, EXCERPT_MAX) < src.len) {
		first = col > EXCERPT_MAX / 2 ? col - EXCERPT_MAX / 2 : 0;
		from = char_offset(src.buf, src.len, first);
		to = char_offset(src.buf, src.len, first + EXCERPT_MAX);
		pre = from ? "..." : "";
		post = to < src.len ? "..." : "";
	}
	_cleanup_(strbuf_release) struct strbuf caret = STRBUF_INIT;
	strbuf_addstr(&caret, pre[0] ? "   " : "");
	/* one pad per character before the column: UTF-8 continuation bytes do not count and
	 * tabs stay tabs, so the caret lines up whatever the terminal's tab width */
	unsigned chars = first + 1;
	for (size_t i = from; i < to && chars < col; i++) {
		unsigned char ch = (unsigned char)src.buf[i];
		if ((ch & 0xC0) == 0x80)
			continue;
		strbuf_addch(&caret, ch == '\t' ? '\t' : ' ');
		chars++;
	}
	fprintf(out, "%s%.*s%s\n%s%s^%s\n", pre, (int)(to - from), src.buf + from, post, caret.buf,
	        color ? C_GREEN : "", color ? C_RESET : "");
}

void diag_print(FILE *out, const struct diag *d)
{
	int color = diag_use_color(out);
	const char *label = d->warning ? "warning" : "error";
	const char *lc = !color ? "" : d->warning ? C_MAGENTA : C_RED;
	const char *reset = color ? C_RESET : "";
	if (!d->loc.file) {
		fprintf(out, "runnel: %s%s:%s %s\n", lc, label, reset, d->msg);
		return;
	}
	if (!d->loc.line) {
		fprintf(out, "%s%s:%s %s%s:%s %s\n", color ? C_BOLD : "", d->loc.file, reset, lc,
		        label, reset, d->msg);
		return;
	}
	fprintf(out, "%s%s:%u:%u:%s %s%s:%s %s\n", color ? C_BOLD : "", d->loc.file, d->loc.line,
	        d->loc.col, reset, lc, label, reset, d->msg);
	diag_print_excerpt(out, d->loc.file, d->loc.line, d->loc.col, color);
}

void diag_print_list(FILE *out, const struct diag_list *dl)
{
	for (size_t i = 0; i < dl->n; i++)
		diag_print(out, &dl->v[i]);
}

int diag_report(const struct err *err)
{
	struct diag d = {.loc = err->loc, .msg = err->msg ? err->msg : "unknown error"};
	diag_print(stderr, &d);
	return err_exit_code(err);
}
