/* merge: GitLab's deep merge of configuration hashes (ActiveSupport's Hash#deep_merge), used
 * for include merging and `extends`. Inputs are never modified: maps on the merge path are
 * copied, everything else is shared. */
#include "yaml/node.h"

#include "util/arena.h"
#include "yaml/internal.h"

struct ynode *ynode_deep_merge(struct arena *a, const struct ynode *base, const struct ynode *over)
{
	if (!over)
		return base ? ynode_shallow_copy(a, base) : NULL;
	if (!base || base->kind != YNODE_MAP || over->kind != YNODE_MAP) {
		/* the later value replaces, arrays and null included; a map result stays fresh so
		 * callers may set keys on it */
		return over->kind == YNODE_MAP ? ynode_shallow_copy(a, over) : (struct ynode *)over;
	}
	struct ynode *m = ynode_shallow_copy(a, base);
	m->loc = over->loc;
	m->tag = over->tag;
	for (size_t i = 0; i < over->n; i++) {
		const struct ymap_entry *oe = &over->entries[i];
		struct ymap_entry *be = ynode_entry(m, oe->key);
		struct ynode *v = oe->value;
		if (be && be->value && v && be->value->kind == YNODE_MAP && v->kind == YNODE_MAP)
			v = ynode_deep_merge(a, be->value, v);
		ynode_map_set(a, m, oe->key, oe->key_loc, v);
	}
	return m;
}
