/* err: setting, wrapping and releasing errors; diag_list for collected diagnostics. */
#include "util/err.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

int err_vset(struct err *err, enum err_kind kind, const char *fmt, va_list ap)
{
	if (!err)
		return -1;
	assert(!err_is_set(err));
	err->kind = kind;
	err->msg = xvasprintf(fmt, ap);
	return -1;
}

int err_set(struct err *err, enum err_kind kind, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	err_vset(err, kind, fmt, ap);
	va_end(ap);
	return -1;
}

int err_sys(struct err *err, int errnum, const char *fmt, ...)
{
	if (!err)
		return -1;
	va_list ap;
	va_start(ap, fmt);
	char *m = xvasprintf(fmt, ap);
	va_end(ap);
	err_set(err, ERR_ENV, "%s: %s", m, strerror(errnum));
	err->sys_errno = errnum;
	free(m);
	return -1;
}

int err_at(struct err *err, struct srcloc loc, const char *fmt, ...)
{
	if (!err)
		return -1;
	va_list ap;
	va_start(ap, fmt);
	err_vset(err, ERR_CONFIG, fmt, ap);
	va_end(ap);
	err->loc = loc;
	return -1;
}

int err_wrap(struct err *err, const char *fmt, ...)
{
	if (!err)
		return -1;
	assert(err_is_set(err));
	va_list ap;
	va_start(ap, fmt);
	char *ctx = xvasprintf(fmt, ap);
	va_end(ap);
	char *m = xasprintf("%s: %s", ctx, err->msg);
	free(ctx);
	free(err->msg);
	err->msg = m;
	return -1;
}

void err_release(struct err *err)
{
	if (!err)
		return;
	free(err->msg);
	memset(err, 0, sizeof(*err));
}

void err_move(struct err *dst, struct err *src)
{
	assert(!err_is_set(dst));
	*dst = *src;
	memset(src, 0, sizeof(*src));
}

int err_exit_code(const struct err *err)
{
	switch (err->kind) {
	case ERR_NONE:
		return 0;
	case ERR_JOB:
		return 1;
	case ERR_USAGE:
		return 2;
	case ERR_CONFIG:
		return 3;
	case ERR_ENV:
	case ERR_INTERNAL:
		return 4;
	}
	return 4;
}

void diag_list_add(struct diag_list *dl, struct srcloc loc, int warning, const char *fmt, ...)
{
	XGROW(dl->v, dl->alloc, dl->n + 1);
	va_list ap;
	va_start(ap, fmt);
	dl->v[dl->n].msg = xvasprintf(fmt, ap);
	va_end(ap);
	dl->v[dl->n].loc = loc;
	dl->v[dl->n].warning = warning;
	dl->n++;
}

void diag_list_take_err(struct diag_list *dl, struct err *err)
{
	XGROW(dl->v, dl->alloc, dl->n + 1);
	dl->v[dl->n].loc = err->loc;
	dl->v[dl->n].msg = err->msg;
	dl->v[dl->n].warning = 0;
	dl->n++;
	memset(err, 0, sizeof(*err));
}

void diag_list_move(struct diag_list *to, struct diag_list *from)
{
	for (size_t i = 0; i < from->n; i++) {
		XGROW(to->v, to->alloc, to->n + 1);
		to->v[to->n++] = from->v[i];
	}
	free(from->v);
	*from = (struct diag_list)DIAG_LIST_INIT;
}

size_t diag_list_errors(const struct diag_list *dl)
{
	size_t n = 0;
	for (size_t i = 0; i < dl->n; i++)
		n += !dl->v[i].warning;
	return n;
}

void diag_list_release(struct diag_list *dl)
{
	for (size_t i = 0; i < dl->n; i++)
		free(dl->v[i].msg);
	free(dl->v);
	memset(dl, 0, sizeof(*dl));
}
