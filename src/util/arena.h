/* Bump allocator for data that lives as long as one loaded pipeline (YAML nodes, model).
 * Everything allocated from an arena is freed at once by arena_release(). */
#pragma once
#include <stddef.h>

struct arena_block;

struct arena {
	struct arena_block *head;
	size_t used_total; /* bytes handed out, for the memory budget and benchmarks */
};

/* clang-format off */ /* (clang-format 14 spreads a braced initializer macro over lines) */
#define ARENA_INIT { 0 }
/* clang-format on */

void arena_init(struct arena *a);
/* Frees every block; the arena can be reused afterwards. NULL-safe. */
void arena_release(struct arena *a);
/* Moves every block of `from` into `a` (memory allocated from `from` now lives as long as `a`);
 * `from` is left empty. For arenas filled by other threads and joined afterwards. */
void arena_adopt(struct arena *a, struct arena *from);
/* Returns zeroed memory owned by the arena, aligned for any type. Never NULL. */
void *arena_alloc(struct arena *a, size_t n);
char *arena_strdup(struct arena *a, const char *s);
char *arena_strndup(struct arena *a, const char *s, size_t n);
char *arena_printf(struct arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
