/* Growable, always NUL-terminated byte strings (after git's strbuf). */
#pragma once
#include <stddef.h>
#include <stdarg.h>

struct strbuf {
	char *buf; /* owned; never NULL after any call (points at "" when empty) */
	size_t len;
	size_t alloc;
};

/* clang-format off */ /* (clang-format 14 spreads a braced initializer macro over lines) */
#define STRBUF_INIT { .buf = strbuf_empty, .len = 0, .alloc = 0 }
/* clang-format on */
extern char strbuf_empty[];

void strbuf_init(struct strbuf *sb, size_t hint);
void strbuf_release(struct strbuf *sb);
/* Returns the owned buffer (caller frees) and resets sb to empty. */
char *strbuf_detach(struct strbuf *sb, size_t *ret_len);
void strbuf_grow(struct strbuf *sb, size_t extra);
void strbuf_reset(struct strbuf *sb);
void strbuf_setlen(struct strbuf *sb, size_t len);
void strbuf_add(struct strbuf *sb, const void *data, size_t len);
void strbuf_addstr(struct strbuf *sb, const char *s);
void strbuf_addch(struct strbuf *sb, int c);
void strbuf_addf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void strbuf_vaddf(struct strbuf *sb, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
/* Appends s quoted for a POSIX shell (single quotes, ' as '\''). */
void strbuf_add_shell_quoted(struct strbuf *sb, const char *s);
/* Removes trailing whitespace. */
void strbuf_rtrim(struct strbuf *sb);
