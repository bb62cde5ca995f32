/* strmap: FNV-1a hashed open-addressing table, grown at 50% load so probes stay short. */
#include "util/strmap.h"

#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

static size_t strmap_hash(const char *s)
{
	size_t h = 1469598103934665603ULL & (size_t)-1;
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= (size_t)1099511628211ULL;
	}
	return h;
}

void strmap_init(struct strmap *m)
{
	m->slots = NULL;
	m->n = m->cap = 0;
}

void strmap_release(struct strmap *m)
{
	if (!m)
		return;
	free(m->slots);
	strmap_init(m);
}

static struct strmap_slot *strmap_find(const struct strmap *m, const char *key, size_t h)
{
	size_t mask = m->cap - 1;
	for (size_t i = h & mask;; i = (i + 1) & mask) {
		struct strmap_slot *s = &m->slots[i];
		if (!s->key || (s->hash == h && strcmp(s->key, key) == 0))
			return s;
	}
}

static void strmap_grow(struct strmap *m)
{
	struct strmap old = *m;
	m->cap = old.cap ? old.cap * 2 : 16;
	m->slots = xcalloc(m->cap, sizeof(*m->slots));
	m->n = 0;
	for (size_t i = 0; i < old.cap; i++) {
		if (!old.slots[i].key)
			continue;
		*strmap_find(m, old.slots[i].key, old.slots[i].hash) = old.slots[i];
		m->n++;
	}
	free(old.slots);
}

void *strmap_get(const struct strmap *m, const char *key)
{
	if (!m->cap)
		return NULL;
	struct strmap_slot *s = strmap_find(m, key, strmap_hash(key));
	return s->key ? s->value : NULL;
}

int strmap_has(const struct strmap *m, const char *key)
{
	return m->cap && strmap_find(m, key, strmap_hash(key))->key != NULL;
}

void *strmap_put(struct strmap *m, const char *key, void *value)
{
	if ((m->n + 1) * 2 > m->cap)
		strmap_grow(m);
	size_t h = strmap_hash(key);
	struct strmap_slot *s = strmap_find(m, key, h);
	void *old = s->key ? s->value : NULL;
	if (!s->key)
		m->n++;
	s->key = key;
	s->hash = h;
	s->value = value;
	return old;
}
