/* strvec: owned string arrays, always NULL-terminated for execv-style consumers. */
#include "util/strvec.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

char *strvec_empty[1];

void strvec_init(struct strvec *sv)
{
	sv->v = strvec_empty;
	sv->n = 0;
	sv->alloc = 0;
}

void strvec_push_take(struct strvec *sv, char *s)
{
	if (!sv->alloc)
		sv->v = NULL;
	XGROW(sv->v, sv->alloc, sv->n + 2);
	sv->v[sv->n++] = s;
	sv->v[sv->n] = NULL;
}

const char *strvec_push(struct strvec *sv, const char *s)
{
	char *c = xstrdup(s);
	strvec_push_take(sv, c);
	return c;
}

const char *strvec_pushf(struct strvec *sv, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = xvasprintf(fmt, ap);
	va_end(ap);
	strvec_push_take(sv, s);
	return s;
}

void strvec_release(struct strvec *sv)
{
	if (sv->alloc) {
		for (size_t i = 0; i < sv->n; i++)
			free(sv->v[i]);
		free(sv->v);
	}
	strvec_init(sv);
}

long strvec_find(const struct strvec *sv, const char *s)
{
	for (size_t i = 0; i < sv->n; i++)
		if (!strcmp(sv->v[i], s))
			return (long)i;
	return -1;
}
