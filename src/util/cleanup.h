/* Scope-bound cleanup for locals (systemd, crun). TAKE_PTR/TAKE_FD hand ownership out. */
#pragma once
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))

static inline void freep(void *p)
{
	free(*(void **)p);
}

static inline void closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}

static inline void fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}

#define _cleanup_free_ _cleanup_(freep)
#define _cleanup_close_ _cleanup_(closep)
#define _cleanup_fclose_ _cleanup_(fclosep)

/* Returns *pp and sets *pp to NULL, so the cleanup handler leaves it alone. */
static inline void *take_ptr(void *pp)
{
	void **p = pp;
	void *v = *p;
	*p = NULL;
	return v;
}
#define TAKE_PTR(p) take_ptr(&(p))

static inline int take_fd(int *fd)
{
	int v = *fd;
	*fd = -1;
	return v;
}
#define TAKE_FD(fd) take_fd(&(fd))
