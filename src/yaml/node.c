/* node: lookups, builders, equality and Ruby-style inspection of the YAML tree. Maps with more
 * than YMAP_INDEX_MIN entries carry an arena-allocated open-addressing index (positions into
 * `entries`) so that lookups in a 3000-job pipeline stay O(1). The index remembers the entries
 * array and count it was built for; a map whose entries were changed behind our back simply
 * falls back to a linear scan instead of returning a wrong answer. */
#include "yaml/node.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "util/arena.h"
#include "util/strbuf.h"
#include "yaml/internal.h"

struct ymap_index {
	const struct ymap_entry *entries; /* the array this index describes */
	size_t n;                         /* entry count it describes */
	size_t mask;                      /* slots - 1, slots a power of two */
	uint32_t slot[];                  /* entry position + 1; 0 = empty */
};

static const char empty_str[] = "";

size_t ykey_hash(const char *key)
{
	uint64_t h = 1469598103934665603ULL;
	for (const unsigned char *p = (const unsigned char *)key; *p; p++) {
		h ^= *p;
		h *= 1099511628211ULL;
	}
	return (size_t)(h ^ (h >> 29));
}

static void index_insert(struct ymap_index *ix, const struct ymap_entry *entries, size_t pos)
{
	size_t i = ykey_hash(entries[pos].key) & ix->mask;
	while (ix->slot[i])
		i = (i + 1) & ix->mask;
	ix->slot[i] = (uint32_t)(pos + 1);
}

void ymap_index_build(struct arena *a, struct ynode *m)
{
	if (m->n <= YMAP_INDEX_MIN || m->n >= UINT32_MAX / 4) {
		m->index = NULL;
		return;
	}
	size_t slots = 64;
	while (slots < m->n * 2)
		slots *= 2;
	struct ymap_index *ix = m->index;
	/* Reuse the old table when it is still big enough (deletions, in-place rebuilds). */
	if (!ix || ix->mask + 1 < slots)
		ix = arena_alloc(a, sizeof(*ix) + slots * sizeof(uint32_t));
	else
		slots = ix->mask + 1;
	memset(ix->slot, 0, slots * sizeof(uint32_t));
	ix->mask = slots - 1;
	ix->entries = m->entries;
	ix->n = m->n;
	for (size_t i = 0; i < m->n; i++)
		index_insert(ix, m->entries, i);
	m->index = ix;
}

long ymap_find(const struct ynode *m, const char *key)
{
	const struct ymap_index *ix = m->index;
	if (ix && ix->entries == m->entries && ix->n == m->n) {
		size_t i = ykey_hash(key) & ix->mask;
		while (ix->slot[i]) {
			size_t pos = ix->slot[i] - 1;
			if (strcmp(m->entries[pos].key, key) == 0)
				return (long)pos;
			i = (i + 1) & ix->mask;
		}
		return -1;
	}
	/* small maps: most keys differ in their first byte, which saves the strcmp call (an inline
	 * byte loop measured slower than strcmp for the rest) */
	for (size_t i = 0; i < m->n; i++)
		if (m->entries[i].key[0] == key[0] && strcmp(m->entries[i].key, key) == 0)
			return (long)i;
	return -1;
}

struct ymap_entry *ynode_entry(const struct ynode *map, const char *key)
{
	if (!map || map->kind != YNODE_MAP || !key)
		return NULL;
	long pos = ymap_find(map, key);
	return pos < 0 ? NULL : &map->entries[pos];
}

struct ynode *ynode_get(const struct ynode *map, const char *key)
{
	struct ymap_entry *e = ynode_entry(map, key);
	return e ? e->value : NULL;
}

bool ynode_is_scalar(const struct ynode *n)
{
	return n && n->kind != YNODE_SEQ && n->kind != YNODE_MAP;
}

const char *ynode_str(const struct ynode *n)
{
	if (!ynode_is_scalar(n))
		return NULL;
	return n->str ? n->str : empty_str;
}

const char *ynode_kind_name(enum ynode_kind k)
{
	switch (k) {
	case YNODE_NULL:
		return "null";
	case YNODE_BOOL:
		return "boolean";
	case YNODE_INT:
		return "integer";
	case YNODE_FLOAT:
		return "float";
	case YNODE_STRING:
		return "string";
	case YNODE_SEQ:
		return "array";
	case YNODE_MAP:
		return "hash";
	}
	return "unknown";
}

struct ynode *ynode_new(struct arena *a, enum ynode_kind kind, struct srcloc loc)
{
	struct ynode *n = arena_alloc(a, sizeof(*n));
	n->kind = kind;
	n->loc = loc;
	n->str = empty_str;
	return n;
}

struct ynode *ynode_new_string(struct arena *a, const char *s, struct srcloc loc)
{
	struct ynode *n = ynode_new(a, YNODE_STRING, loc);
	n->str = arena_strdup(a, s ? s : "");
	return n;
}

struct ynode *ynode_shallow_copy(struct arena *a, const struct ynode *n)
{
	struct ynode *c = arena_alloc(a, sizeof(*c));
	*c = *n;
	c->index = NULL;
	c->alloc = n->n;
	if (n->kind == YNODE_SEQ && n->n) {
		c->items = arena_alloc(a, n->n * sizeof(*c->items));
		memcpy(c->items, n->items, n->n * sizeof(*c->items));
	} else if (n->kind == YNODE_MAP && n->n) {
		c->entries = arena_alloc(a, n->n * sizeof(*c->entries));
		memcpy(c->entries, n->entries, n->n * sizeof(*c->entries));
		ymap_index_build(a, c);
	}
	return c;
}

/* Makes room for one more element, doubling in the arena (the old array is simply left). */
static void *grow(struct arena *a, void *arr, size_t n, size_t *alloc, size_t elem)
{
	if (n < *alloc)
		return arr;
	size_t cap = n < 4 ? 8 : n * 2;
	void *p = arena_alloc(a, cap * elem);
	if (n)
		memcpy(p, arr, n * elem);
	*alloc = cap;
	return p;
}

void ynode_map_set(struct arena *a, struct ynode *map, const char *key, struct srcloc key_loc,
                   struct ynode *value)
{
	long pos = ymap_find(map, key);
	if (pos >= 0) {
		map->entries[pos].value = value;
		map->entries[pos].key_loc = key_loc;
		return;
	}
	struct ymap_index *ix = map->index;
	bool index_current = ix && ix->entries == map->entries && ix->n == map->n;
	map->entries = grow(a, map->entries, map->n, &map->alloc, sizeof(*map->entries));
	map->entries[map->n] = (struct ymap_entry){.key = key, .key_loc = key_loc, .value = value};
	map->n++;
	if (index_current && (map->n * 2) <= ix->mask + 1) {
		ix->entries = map->entries;
		ix->n = map->n;
		index_insert(ix, map->entries, map->n - 1);
	} else if (map->n > YMAP_INDEX_MIN) {
		ymap_index_build(a, map);
	}
}

void ynode_map_del(struct ynode *map, const char *key)
{
	if (!map || map->kind != YNODE_MAP)
		return;
	long pos = ymap_find(map, key);
	if (pos < 0)
		return;
	memmove(&map->entries[pos], &map->entries[pos + 1],
	        (map->n - (size_t)pos - 1) * sizeof(*map->entries));
	map->n--;
	/* Rebuild in place: the table is big enough for fewer entries, so no arena is needed. */
	struct ymap_index *ix = map->index;
	if (!ix)
		return;
	if (map->n <= YMAP_INDEX_MIN) {
		map->index = NULL;
		return;
	}
	memset(ix->slot, 0, (ix->mask + 1) * sizeof(uint32_t));
	ix->entries = map->entries;
	ix->n = map->n;
	for (size_t i = 0; i < map->n; i++)
		index_insert(ix, map->entries, i);
}

void ynode_seq_push(struct arena *a, struct ynode *seq, struct ynode *item)
{
	seq->items = grow(a, seq->items, seq->n, &seq->alloc, sizeof(*seq->items));
	seq->items[seq->n++] = item;
}

static bool str_eq(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return strcmp(a, b) == 0;
}

static bool same_place(struct srcloc a, struct srcloc b)
{
	return a.line == b.line && a.col == b.col && str_eq(a.file, b.file);
}

/* ynode_equal, and with `where` also ynode_identical. */
static bool nodes_match(const struct ynode *a, const struct ynode *b, bool where)
{
	if (a == b)
		return true;
	if (!a || !b || a->kind != b->kind || !str_eq(a->tag, b->tag))
		return false;
	if (where && !same_place(a->loc, b->loc))
		return false;
	switch (a->kind) {
	case YNODE_SEQ:
		if (a->n != b->n)
			return false;
		for (size_t i = 0; i < a->n; i++)
			if (!nodes_match(a->items[i], b->items[i], where))
				return false;
		return true;
	case YNODE_MAP:
		if (a->n != b->n)
			return false;
		for (size_t i = 0; i < a->n; i++) {
			const struct ymap_entry *x = &a->entries[i], *y = &b->entries[i];
			if (!str_eq(x->key, y->key) ||
			    (where && !same_place(x->key_loc, y->key_loc)) ||
			    !nodes_match(x->value, y->value, where))
				return false;
		}
		return true;
	default:
		return str_eq(ynode_str(a), ynode_str(b));
	}
}

bool ynode_equal(const struct ynode *a, const struct ynode *b)
{
	return nodes_match(a, b, false);
}

bool ynode_identical(const struct ynode *a, const struct ynode *b)
{
	return nodes_match(a, b, true);
}

/* Ruby String#inspect for UTF-8 text: escapes quotes, backslashes, controls and `#{`. */
static void inspect_string(const char *s, struct strbuf *out)
{
	strbuf_addch(out, '"');
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"':
			strbuf_addstr(out, "\\\"");
			continue;
		case '\\':
			strbuf_addstr(out, "\\\\");
			continue;
		case '\n':
			strbuf_addstr(out, "\\n");
			continue;
		case '\t':
			strbuf_addstr(out, "\\t");
			continue;
		case '\r':
			strbuf_addstr(out, "\\r");
			continue;
		case 0x1b:
			strbuf_addstr(out, "\\e");
			continue;
		case '#':
			if (p[1] == '{' || p[1] == '$' || p[1] == '@')
				strbuf_addch(out, '\\');
			strbuf_addch(out, '#');
			continue;
		default:
			break;
		}
		if (*p < 0x20 || *p == 0x7f)
			strbuf_addf(out, "\\u%04X", *p);
		else
			strbuf_addch(out, (char)*p);
	}
	strbuf_addch(out, '"');
}

void ynode_inspect(const struct ynode *n, struct strbuf *out)
{
	if (!n || n->kind == YNODE_NULL) {
		strbuf_addstr(out, "nil");
		return;
	}
	switch (n->kind) {
	case YNODE_STRING:
		inspect_string(ynode_str(n), out);
		return;
	case YNODE_SEQ:
		strbuf_addch(out, '[');
		for (size_t i = 0; i < n->n; i++) {
			if (i)
				strbuf_addstr(out, ", ");
			ynode_inspect(n->items[i], out);
		}
		strbuf_addch(out, ']');
		return;
	case YNODE_MAP:
		strbuf_addch(out, '{');
		for (size_t i = 0; i < n->n; i++) {
			if (i)
				strbuf_addstr(out, ", ");
			inspect_string(n->entries[i].key, out);
			strbuf_addstr(out, "=>");
			ynode_inspect(n->entries[i].value, out);
		}
		strbuf_addch(out, '}');
		return;
	default:
		strbuf_addstr(out, ynode_str(n));
		return;
	}
}

bool ytag_is_reference(const char *tag)
{
	return tag && strcmp(tag, "!reference") == 0;
}
