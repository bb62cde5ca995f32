/* A string-keyed hash map (open addressing, linear probing) for name lookups that must stay
 * O(1) on large pipelines: job names, extends targets, parallel instances. Keys are borrowed
 * and must outlive the map; values are opaque pointers owned by the caller. */
#pragma once
#include <stddef.h>

struct strmap_slot {
	const char *key; /* borrowed; NULL = empty slot */
	size_t hash;
	void *value;
};

struct strmap {
	struct strmap_slot *slots; /* owned */
	size_t n, cap;
};

#define STRMAP_INIT                                                                                \
	{                                                                                          \
		0                                                                                  \
	}

void strmap_init(struct strmap *m);
/* Frees the slot table (not keys or values). NULL-safe. */
void strmap_release(struct strmap *m);
/* The value stored under key, or NULL. */
void *strmap_get(const struct strmap *m, const char *key);
/* Whether key is present (a stored NULL value counts). */
int strmap_has(const struct strmap *m, const char *key);
/* Stores value under key (key borrowed). Returns the previous value or NULL. */
void *strmap_put(struct strmap *m, const char *key, void *value);
/* Removes key; returns the value it had, or NULL when absent. The slot table is kept (release
 * the map to free it). */
void *strmap_del(struct strmap *m, const char *key);
