/* arena: blocks of growing size, freed together.
 *
 * Blocks are anonymous mappings, which the kernel hands out zeroed, and memory is never handed
 * out twice, so every byte past a block's `used` mark is still zero: arena_alloc() returns
 * zeroed memory without a memset of its own (the zeroing was 7% of `runnel list`; calloc()
 * would clear recycled heap memory again). Pages of a block that are never touched never
 * become resident. The first block is 64 KiB, which is all a typical pipeline needs; every
 * later one is 2 MiB, aligned and backed by a transparent huge page where the kernel grants one
 * (see arena_map_huge). */
#include "util/arena.h"

#include <stdalign.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "util/xalloc.h"

struct arena_block {
	struct arena_block *next;
	size_t size, used; /* of data[] */
	size_t map_len;    /* of the whole mapping */
	alignas(max_align_t) unsigned char data[];
};

#define ARENA_FIRST_BLOCK ((size_t)64 * 1024)
#define ARENA_HUGE ((size_t)2 * 1024 * 1024)

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

void arena_adopt(struct arena *a, struct arena *from)
{
	struct arena_block *b = from->head;
	if (!b)
		return;
	struct arena_block *last = b;
	while (last->next)
		last = last->next;
	/* behind a's head, which stays the block that later allocations come from */
	if (a->head) {
		last->next = a->head->next;
		a->head->next = b;
	} else {
		a->head = b;
	}
	a->used_total += from->used_total;
	arena_init(from);
}

/* A mapping of len bytes (a multiple of ARENA_HUGE) aligned to ARENA_HUGE and marked for
 * transparent huge pages, or NULL. An arena that outgrows its first block holds a large
 * pipeline, whose first-touch page faults (one per 4 KiB page, 2 000 for 1000 jobs) cost more
 * than clearing a whole huge page, which is one fault per 2 MiB. */
static struct arena_block *arena_map_huge(size_t len)
{
	size_t span = len + ARENA_HUGE;
	unsigned char *p =
	    mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	uintptr_t start = ((uintptr_t)p + ARENA_HUGE - 1) & ~(uintptr_t)(ARENA_HUGE - 1);
	size_t head = start - (uintptr_t)p, tail = span - head - len;
	if (head)
		munmap(p, head);
	if (tail)
		munmap((unsigned char *)start + len, tail);
#ifdef MADV_HUGEPAGE
	madvise((void *)start, len, MADV_HUGEPAGE); /* advice only: 4 KiB pages still work */
#endif
	return (struct arena_block *)start;
}

/* A new head block with room for at least n bytes. The previous head's free tail is left
 * unused (and zero). */
static struct arena_block *arena_new_block(struct arena *a, size_t n)
{
	size_t len = a->head ? ARENA_HUGE : ARENA_FIRST_BLOCK;
	if (n > SIZE_MAX / 2 - sizeof(struct arena_block))
		arena_oom(n);
	if (len < sizeof(struct arena_block) + n) {
		const size_t page = 4096;
		len = (sizeof(struct arena_block) + n + page - 1) & ~(page - 1);
	}
	struct arena_block *b = len == ARENA_HUGE ? arena_map_huge(len) : NULL;
	if (!b)
		b = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
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

/* ---- arena_printf ----
 * The model formats thousands of short strings ("jobs:%s:rules", "rule %zu matched") per
 * pipeline, and vsnprintf costs about a thousand instructions a call. The formats used here
 * need only %s, %.*s, %d, %ld, %lu, %zu and %%, so those are assembled directly; any other
 * conversion, flag or width goes to vsnprintf unchanged. */

#define FMT_MAX_PIECES 16

struct fmt_piece {
	const char *p;
	size_t n;
};

struct fmt_state {
	struct fmt_piece piece[FMT_MAX_PIECES];
	char num[FMT_MAX_PIECES][24]; /* digits of integer conversions */
	size_t n, len;
};

static bool fmt_add(struct fmt_state *st, const char *p, size_t n)
{
	if (st->n == FMT_MAX_PIECES)
		return false;
	st->piece[st->n++] = (struct fmt_piece){p, n};
	st->len += n;
	return true;
}

static bool fmt_add_num(struct fmt_state *st, unsigned long long v, bool neg)
{
	if (st->n == FMT_MAX_PIECES)
		return false;
	char *end = st->num[st->n] + sizeof(st->num[0]), *p = end;
	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	if (neg)
		*--p = '-';
	return fmt_add(st, p, (size_t)(end - p));
}

static bool fmt_add_str(struct fmt_state *st, const char *s, int prec)
{
	if (!s)
		s = "(null)"; /* what glibc prints */
	return fmt_add(st, s, prec >= 0 ? strnlen(s, (size_t)prec) : strlen(s));
}

/* One conversion after its '%' (at *f); advances *f past it. false: not ours. */
static bool fmt_conv(struct fmt_state *st, const char **f, va_list *ap)
{
	const char *c = *f;
	if (c[0] == '%' || c[0] == 's') {
		*f = c + 1;
		return c[0] == '%' ? fmt_add(st, "%", 1) : fmt_add_str(st, va_arg(*ap, char *), -1);
	}
	if (c[0] == '.' && c[1] == '*' && c[2] == 's') {
		*f = c + 3;
		int prec = va_arg(*ap, int);
		return fmt_add_str(st, va_arg(*ap, char *), prec);
	}
	if (c[0] == 'd' || (c[0] == 'l' && c[1] == 'd')) {
		long long v = c[0] == 'd' ? va_arg(*ap, int) : va_arg(*ap, long);
		*f = c + (c[0] == 'd' ? 1 : 2);
		return fmt_add_num(st, v < 0 ? 0 - (unsigned long long)v : (unsigned long long)v,
		                   v < 0);
	}
	if ((c[0] == 'l' || c[0] == 'z') && c[1] == 'u') {
		unsigned long long v =
		    c[0] == 'l' ? va_arg(*ap, unsigned long) : va_arg(*ap, size_t);
		*f = c + 2;
		return fmt_add_num(st, v, false);
	}
	return false;
}

/* Splits fmt into pieces; false when it needs vsnprintf (ap is then partly consumed). */
static bool fmt_split(struct fmt_state *st, const char *fmt, va_list *ap)
{
	st->n = st->len = 0;
	while (*fmt) {
		const char *pct = strchr(fmt, '%');
		size_t lit = pct ? (size_t)(pct - fmt) : strlen(fmt);
		if (lit && !fmt_add(st, fmt, lit))
			return false;
		if (!pct)
			break;
		fmt = pct + 1;
		if (!fmt_conv(st, &fmt, ap))
			return false;
	}
	return true;
}

/* Everything else: through a temporary heap string (rare, so the copy does not matter). */
__attribute__((format(printf, 2, 0))) static char *arena_vprintf_slow(struct arena *a,
                                                                      const char *fmt, va_list ap)
{
	char *tmp = xvasprintf(fmt, ap);
	char *p = arena_strdup(a, tmp);
	free(tmp);
	return p;
}

char *arena_printf(struct arena *a, const char *fmt, ...)
{
	struct fmt_state st;
	va_list ap, copy;
	char *p;

	va_start(ap, fmt);
	va_copy(copy, ap);
	if (fmt_split(&st, fmt, &copy)) {
		p = arena_alloc(a, st.len + 1); /* zeroed: the terminator is there */
		for (size_t i = 0, off = 0; i < st.n; off += st.piece[i].n, i++)
			memcpy(p + off, st.piece[i].p, st.piece[i].n);
	} else {
		p = arena_vprintf_slow(a, fmt, ap);
	}
	va_end(copy);
	va_end(ap);
	return p;
}
