/* The project's one error pattern: a function that can fail takes `struct err *err` last,
 * returns -1 (or NULL), and the error is set once where it is detected. Callers add
 * context with err_wrap(); only cli/ prints. */
#pragma once
#include <stdarg.h>
#include <stddef.h>

/* 1-based position in user text; file is borrowed (owned by the loaded document's arena). */
struct srcloc {
	const char *file;
	unsigned line, col;
};

enum err_kind {
	ERR_NONE = 0,
	ERR_USAGE,  /* bad command line: exit 2 */
	ERR_CONFIG, /* bad pipeline or settings: exit 3 */
	ERR_ENV,    /* environment (Docker, git, files): exit 4 */
	ERR_JOB,    /* a job failed: exit 1 */
	ERR_INTERNAL,
};

struct err {
	enum err_kind kind;
	int sys_errno;
	struct srcloc loc; /* loc.file NULL when the error has no source position */
	char *msg;         /* owned */
};

/* clang-format off */ /* (clang-format 14 spreads a braced initializer macro over lines) */
#define ERR_INIT { 0 }
/* clang-format on */

/* Each setter returns -1 so `return err_set(...)` reads naturally. Setting an error that is
 * already set is a bug (assert): never overwrite a callee's error. */
int err_set(struct err *err, enum err_kind kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int err_sys(struct err *err, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int err_at(struct err *err, struct srcloc loc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Prefixes context: "while X: <msg>" style is up to the caller's fmt, e.g.
 * err_wrap(err, "in included file '%s'", p) gives "in included file 'p': <msg>". */
int err_wrap(struct err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int err_vset(struct err *err, enum err_kind kind, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
void err_release(struct err *err);
/* Moves src into dst (dst must be unset); src becomes unset. */
void err_move(struct err *dst, struct err *src);
static inline int err_is_set(const struct err *err)
{
	return err->kind != ERR_NONE;
}
/* Process exit code for an error kind (STYLE: 1 job, 2 usage, 3 config, 4 environment). */
int err_exit_code(const struct err *err);

/* A list of diagnostics, used by `lint` to collect every error instead of the first. */
struct diag {
	struct srcloc loc;
	char *msg; /* owned */
	int warning;
};

struct diag_list {
	struct diag *v;
	size_t n, alloc;
};

/* clang-format off */ /* (clang-format 14 spreads a braced initializer macro over lines) */
#define DIAG_LIST_INIT { 0 }
/* clang-format on */
void diag_list_add(struct diag_list *dl, struct srcloc loc, int warning, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Takes the message of err (err becomes unset). */
void diag_list_take_err(struct diag_list *dl, struct err *err);
/* Appends every diagnostic of `from` to `to`, in order; `from` is left empty. */
void diag_list_move(struct diag_list *to, struct diag_list *from);
size_t diag_list_errors(const struct diag_list *dl);
void diag_list_release(struct diag_list *dl);
