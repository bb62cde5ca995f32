/* arena: blocks of growing size, freed together.
 *
 * Blocks come from calloc() and memory is never handed out twice, so every byte past a block's
 * `used` mark is still zero: arena_alloc() returns zeroed memory without a memset of its own
 * (the zeroing was 7% of `runnel list`). calloc() itself skips the clearing for fresh pages
 * (mmap or a newly grown heap), and untouched pages of a block never become resident. */
#include "util/arena.h"

#include <stdalign.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

struct arena_block {
	struct arena_block *next;
	size_t size, used;
	alignas(max_align_t) unsigned char data[];
};

#define ARENA_MIN_BLOCK (64 * 1024 - sizeof(struct arena_block))

void arena_init(struct arena *a)
{
	a->head = NULL;
	a->used_total = 0;
}

void arena_release(struct arena *a)
{
	if (!a)
		return;
	struct arena_block *b = a->head;
	while (b) {
		struct arena_block *next = b->next;
		free(b);
		b = next;
	}
	arena_init(a);
}

static struct arena_block *arena_new_block(struct arena *a, size_t n)
{
	size_t size = n > ARENA_MIN_BLOCK ? n : ARENA_MIN_BLOCK;
	struct arena_block *b = xcalloc(1, sizeof(*b) + size);
	b->size = size;
	b->used = 0;
	b->next = a->head;
	a->head = b;
	return b;
}

static size_t arena_round(size_t n)
{
	const size_t align = alignof(max_align_t);
	return (n + align - 1) & ~(align - 1);
}

void *arena_alloc(struct arena *a, size_t n)
{
	n = arena_round(n);
	struct arena_block *b = a->head;
	if (!b || b->size - b->used < n)
		b = arena_new_block(a, n);
	void *p = b->data + b->used;
	b->used += n;
	a->used_total += n;
	return p; /* still zero: see the top of the file */
}

char *arena_strndup(struct arena *a, const char *s, size_t n)
{
	char *p = arena_alloc(a, n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *arena_strdup(struct arena *a, const char *s)
{
	return arena_strndup(a, s, strlen(s));
}

/* Formats straight into the free tail of the current block when the text fits, else into an
 * allocation of the exact size: no temporary heap string. */
char *arena_printf(struct arena *a, const char *fmt, ...)
{
	struct arena_block *b = a->head;
	size_t room = b ? b->size - b->used : 0;
	char *dst = b ? (char *)b->data + b->used : NULL;
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(dst, room, fmt, ap);
	va_end(ap);
	if (n < 0) { /* as xasprintf: only a bad format or a wide character gets here */
		fprintf(stderr, "runnel: fatal: cannot format '%s'\n", fmt);
		abort();
	}
	if ((size_t)n < room) {
		size_t used = arena_round((size_t)n + 1);
		if (used > room)
			used = room; /* the text fits, its alignment padding need not */
		b->used += used;
		a->used_total += used;
		return dst;
	}
	/* the truncated attempt wrote into the tail: restore the zeroes arena_alloc promises */
	if (room)
		memset(dst, 0, room);
	char *p = arena_alloc(a, (size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}
