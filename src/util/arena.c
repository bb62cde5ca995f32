/* arena: blocks of growing size, freed together.
 *
 * Blocks are anonymous mappings, which the kernel hands out zeroed, and memory is never handed
 * out twice, so every byte past a block's `used` mark is still zero: arena_alloc() returns
 * zeroed memory without a memset of its own (the zeroing was 7% of `runnel list`; calloc()
 * would clear recycled heap memory again). Pages of a block that are never touched never
 * become resident. Block sizes double from 64 KiB to 1 MiB, so a large pipeline needs a few
 * mappings rather than hundreds. */
#include "util/arena.h"

#include <stdalign.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

struct arena_block {
	struct arena_block *next;
	size_t size, used; /* of data[] */
	size_t map_len;    /* of the whole mapping */
	alignas(max_align_t) unsigned char data[];
};

#define ARENA_FIRST_BLOCK ((size_t)64 * 1024)
#define ARENA_MAX_BLOCK ((size_t)1024 * 1024)

/* Out of memory aborts with a message, as xmalloc does. */
static void arena_oom(size_t n)
{
	fprintf(stderr, "runnel: fatal: out of memory allocating %zu bytes\n", n);
	abort();
}

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
		munmap(b, b->map_len);
		b = next;
	}
	arena_init(a);
}

/* A new head block with room for at least n bytes. The previous head's free tail is left
 * unused (and zero). */
static struct arena_block *arena_new_block(struct arena *a, size_t n)
{
	size_t len = a->head ? a->head->map_len * 2 : ARENA_FIRST_BLOCK;
	if (len > ARENA_MAX_BLOCK)
		len = ARENA_MAX_BLOCK;
	if (n > SIZE_MAX / 2 - sizeof(struct arena_block))
		arena_oom(n);
	if (len < sizeof(struct arena_block) + n) {
		const size_t page = 4096;
		len = (sizeof(struct arena_block) + n + page - 1) & ~(page - 1);
	}
	struct arena_block *b =
	    mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (b == MAP_FAILED)
		arena_oom(n);
	b->size = len - sizeof(*b);
	b->used = 0;
	b->map_len = len;
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
