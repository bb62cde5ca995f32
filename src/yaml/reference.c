/* reference: resolves `!reference` tags the way GitLab's Tags::Resolver does: a depth-first
 * walk of the configuration replacing each tagged node by the (itself resolved) value at its
 * path. Each reference node is resolved once (aliases share it); a reference met again while
 * it is being resolved is a cycle. Sub-trees are memoized by node so that alias-shared
 * sub-trees are walked once. */
#include "yaml/reference.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/arena.h"
#include "util/strbuf.h"
#include "util/xalloc.h"
#include "yaml/internal.h"
#include "yaml/node.h"

/* References resolved inside references: a guard for the C stack on hostile input. */
#define MAX_REF_NESTING 64

enum memo_state { MEMO_IN_PROGRESS = 1, MEMO_DONE };

struct memo_slot {
	const struct ynode *key;
	struct ynode *value;
	enum memo_state state;
};

struct resolver {
	struct arena *a;
	const struct ynode *root;
	struct memo_slot *slot; /* open addressing on node pointers */
	size_t n, cap;
	unsigned nesting;
};

static size_t ptr_hash(const void *p)
{
	uintptr_t v = (uintptr_t)p;
	v ^= v >> 17;
	v *= 0xed5ad4bbU;
	v ^= v >> 11;
	return (size_t)v;
}

static struct memo_slot *memo_lookup(struct resolver *r, const struct ynode *n, bool create)
{
	if (create && (r->n + 1) * 2 > r->cap) {
		struct memo_slot *old = r->slot;
		size_t oldcap = r->cap;
		r->cap = oldcap ? oldcap * 2 : 64;
		r->slot = xcalloc(r->cap, sizeof(*r->slot));
		for (size_t i = 0; i < oldcap; i++) {
			if (!old[i].key)
				continue;
			size_t j = ptr_hash(old[i].key) & (r->cap - 1);
			while (r->slot[j].key)
				j = (j + 1) & (r->cap - 1);
			r->slot[j] = old[i];
		}
		free(old);
	}
	if (!r->cap)
		return NULL;
	size_t i = ptr_hash(n) & (r->cap - 1);
	while (r->slot[i].key && r->slot[i].key != n)
		i = (i + 1) & (r->cap - 1);
	if (r->slot[i].key)
		return &r->slot[i];
	if (!create)
		return NULL;
	r->slot[i].key = n;
	r->n++;
	return &r->slot[i];
}

/* "!reference [\".a\", \"script\"]": the tag and Ruby's inspect of its data. */
static char *describe(const struct ynode *ref)
{
	struct strbuf sb = STRBUF_INIT;
	strbuf_addstr(&sb, ref->tag);
	strbuf_addch(&sb, ' ');
	ynode_inspect(ref, &sb);
	return strbuf_detach(&sb, NULL);
}

static int ref_error(const struct ynode *ref, const char *what, struct err *err)
{
	char *d = describe(ref);
	err_at(err, ref->loc, "%s %s", d, what);
	free(d);
	return -1;
}

/* A sequence of at least one string (Reference#valid?). */
static bool ref_valid(const struct ynode *ref)
{
	if (ref->kind != YNODE_SEQ || ref->n == 0)
		return false;
	for (size_t i = 0; i < ref->n; i++)
		if (ref->items[i]->kind != YNODE_STRING || ref->items[i]->tag)
			return false;
	return true;
}

/* config.dig(*path): only hashes can be dug into. */
static const struct ynode *dig(const struct ynode *root, const struct ynode *ref)
{
	const struct ynode *cur = root;
	for (size_t i = 0; i < ref->n && cur; i++) {
		if (cur->kind != YNODE_MAP || ytag_is_reference(cur->tag))
			return NULL;
		cur = ynode_get(cur, ref->items[i]->str);
	}
	return cur;
}

static struct ynode *resolve(struct resolver *r, struct ynode *n, struct err *err);

static struct ynode *resolve_ref(struct resolver *r, struct ynode *ref, struct memo_slot *m,
                                 struct err *err)
{
	if (!ref_valid(ref))
		return ref_error(ref, "is not valid", err), NULL;
	if (r->nesting >= MAX_REF_NESTING)
		return ref_error(ref, "is nested too deeply", err), NULL;
	m->state = MEMO_IN_PROGRESS;
	const struct ynode *target = dig(r->root, ref);
	if (!target)
		return ref_error(ref, "could not be found", err), NULL;
	r->nesting++;
	struct ynode *v = resolve(r, (struct ynode *)target, err);
	r->nesting--;
	if (!v)
		return NULL;
	/* `raise MissingReferenceError unless value`: nil and false are "not found" */
	if (v->kind == YNODE_NULL || (v->kind == YNODE_BOOL && !v->v.b))
		return ref_error(ref, "could not be found", err), NULL;
	m = memo_lookup(r, ref, false); /* the table may have grown meanwhile */
	m->state = MEMO_DONE;
	m->value = v;
	return v;
}

/* Resolves the children of a collection; copies it only if some child changed. */
static struct ynode *resolve_children(struct resolver *r, struct ynode *n, struct err *err)
{
	struct ynode *copy = NULL;
	for (size_t i = 0; i < n->n; i++) {
		struct ynode *child = n->kind == YNODE_SEQ ? n->items[i] : n->entries[i].value;
		struct ynode *v = resolve(r, child, err);
		if (!v)
			return NULL;
		if (v == child)
			continue;
		if (!copy)
			copy = ynode_shallow_copy(r->a, n);
		if (n->kind == YNODE_SEQ)
			copy->items[i] = v;
		else
			copy->entries[i].value = v;
	}
	return copy ? copy : n;
}

/* A collection of plain scalars (most script lists, variables, rules items) holds no reference
 * and resolves to itself: no need to memoize it. */
static bool plain_leaf(const struct ynode *n)
{
	for (size_t i = 0; i < n->n; i++) {
		const struct ynode *c = n->kind == YNODE_SEQ ? n->items[i] : n->entries[i].value;
		if (!ynode_is_scalar(c) || ytag_is_reference(c->tag))
			return false;
	}
	return true;
}

static struct ynode *resolve(struct resolver *r, struct ynode *n, struct err *err)
{
	bool is_ref = ytag_is_reference(n->tag);
	if (!is_ref && (ynode_is_scalar(n) || plain_leaf(n)))
		return n;
	struct memo_slot *m = memo_lookup(r, n, true);
	if (m->state == MEMO_DONE)
		return m->value;
	if (m->state == MEMO_IN_PROGRESS) {
		if (is_ref)
			return ref_error(n, "is part of a circular chain", err), NULL;
		/* a collection reached again through a reference inside it: resolving it again
		 * meets that same reference, which reports the cycle */
	}
	if (is_ref)
		return resolve_ref(r, n, m, err);
	m->state = MEMO_IN_PROGRESS;
	struct ynode *v = resolve_children(r, n, err);
	if (!v)
		return NULL;
	m = memo_lookup(r, n, false);
	m->state = MEMO_DONE;
	m->value = v;
	return v;
}

struct ynode *yref_resolve(struct arena *a, struct ynode *root, struct err *err)
{
	if (!root)
		return NULL;
	struct resolver r = {.a = a, .root = root};
	struct ynode *v = resolve(&r, root, err);
	free(r.slot);
	return v;
}
