/* strmap: FNV-1a hashed open-addressing table, grown at 50% load so probes stay short; deletion
 * shifts the rest of a probe run back instead of leaving tombstones. */
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

/* Whether the entry whose home slot is `home` may move back into the hole at `hole` from `j`:
 * only when its home is not cyclically within (hole, j], else lookups would miss it. */
static int strmap_may_move(size_t hole, size_t j, size_t home)
{
	if (hole <= j)
		return home <= hole || home > j;
	return home <= hole && home > j;
}

void *strmap_del(struct strmap *m, const char *key)
{
	if (!m->cap)
		return NULL;
	struct strmap_slot *s = strmap_find(m, key, strmap_hash(key));
	if (!s->key)
		return NULL;
	void *old = s->value;
	size_t mask = m->cap - 1, hole = (size_t)(s - m->slots);
	/* backward-shift deletion: no tombstones, so probe runs stay as short as on insertion */
	for (size_t j = (hole + 1) & mask; m->slots[j].key; j = (j + 1) & mask) {
		if (strmap_may_move(hole, j, m->slots[j].hash & mask)) {
			m->slots[hole] = m->slots[j];
			hole = j;
		}
	}
	m->slots[hole] = (struct strmap_slot){0};
	m->n--;
	return old;
}
