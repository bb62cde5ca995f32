/* Allocation that cannot fail: out of memory aborts with a message (git, tmux). */
#pragma once
#include <stddef.h>
#include <stdarg.h>

/* Each returns owned memory (free with free()); never NULL. */
void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
/* Grows *p (capacity *alloc, elements of size elem) so that it holds at least need elements. */
void xgrow(void **p, size_t *alloc, size_t need, size_t elem);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *xvasprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

/* Grow an array `a` of type T* with capacity `alloc` so that it can hold `need` elements. */
#define XGROW(a, alloc, need) xgrow((void **)&(a), &(alloc), (need), sizeof(*(a)))
