/* extends: depth-first resolution with memoisation, so a template shared by thousands of jobs
 * is merged once. Cycles are caught by the "visiting" state, depth by the ancestor levels
 * recorded per entry (and the recursion path, which bounds the stack). */
#include "model/extends.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/arena.h"
#include "util/cleanup.h"
#include "util/strmap.h"
#include "util/xalloc.h"
#include "yaml/node.h"

/* Hops in one `extends` chain. GitLab (Extendable::Entry) refuses an entry that itself
 * extends with more than 10 ancestors; the last base of a chain extends nothing and is not
 * checked, so 11 hops pass and 12 fail ("as many as eleven" levels, in its docs). */
#define MAX_EXTENDS_LEVELS 11

enum ext_state { EXT_NEW, EXT_VISITING, EXT_DONE };

struct ext_ctx {
	struct mload *L;
	const struct ynode *root;
	struct strmap index; /* name -> entry index + 1 */
	enum ext_state *state;
	struct ynode **resolved;
	unsigned *levels; /* ancestor levels above each resolved entry */
};

static const char *const reserved[] = {"default",  "include",      "before_script", "image",
                                       "services", "after_script", "variables",     "stages",
                                       "cache",    "workflow",     "spec"};

bool extends_reserved_key(const char *key)
{
	for (size_t i = 0; i < sizeof(reserved) / sizeof(*reserved); i++)
		if (key[0] == reserved[i][0] && strcmp(key, reserved[i]) == 0)
			return true;
	return false;
}

static int resolve_entry(struct ext_ctx *x, size_t i, unsigned depth);

/* Merges the resolved parent `pname` into *base. */
static int merge_parent(struct ext_ctx *x, size_t i, const struct ynode *pn, unsigned depth,
                        struct ynode **base)
{
	const char *key = x->root->entries[i].key;
	const char *pname = ynode_str(pn);
	if (!pname || !ynode_is_scalar(pn) || pn->kind == YNODE_NULL)
		return mload_error(x->L, pn->loc,
		                   "%s: extends should be an array of strings or a string", key);
	size_t pi = (size_t)(uintptr_t)strmap_get(&x->index, pname);
	if (!pi)
		return mload_error(x->L, pn->loc, "%s: unknown keys in `extends` (%s)", key, pname);
	pi--;
	if (x->root->entries[pi].value == NULL || x->root->entries[pi].value->kind != YNODE_MAP)
		return mload_error(x->L, pn->loc, "%s: invalid base hashes in `extends` (%s)", key,
		                   pname);
	if (x->state[pi] == EXT_VISITING)
		return mload_error(x->L, pn->loc, "%s: circular dependency detected in `extends`",
		                   key);
	if (depth + 1 > MAX_EXTENDS_LEVELS) /* the path alone is too deep: stop recursing */
		return mload_error(x->L, pn->loc, "%s: nesting too deep in `extends`", key);
	if (resolve_entry(x, pi, depth + 1) < 0)
		return -1;
	if (x->levels[pi] + 1 > x->levels[i])
		x->levels[i] = x->levels[pi] + 1;
	if (x->levels[i] > MAX_EXTENDS_LEVELS)
		return mload_error(x->L, pn->loc, "%s: nesting too deep in `extends`", key);
	*base = ynode_deep_merge(x->L->a, *base, x->resolved[pi]);
	return 0;
}

static int resolve_entry(struct ext_ctx *x, size_t i, unsigned depth)
{
	if (x->state[i] == EXT_DONE)
		return 0;
	const struct ymap_entry *e = &x->root->entries[i];
	const struct ynode *ext = ynode_get(e->value, "extends");
	x->resolved[i] = e->value;
	if (!ext || e->value->kind != YNODE_MAP) {
		x->state[i] = EXT_DONE;
		return 0;
	}
	x->state[i] = EXT_VISITING;
	struct ynode *base = ynode_new(x->L->a, YNODE_MAP, e->value->loc);
	size_t n = mnode_is_seq(ext) ? ext->n : 1;
	int rc = 0;
	for (size_t k = 0; k < n && rc == 0; k++)
		rc = merge_parent(x, i, mnode_is_seq(ext) ? ext->items[k] : ext, depth, &base);
	struct ynode *own = ynode_shallow_copy(x->L->a, e->value);
	ynode_map_del(own, "extends");
	x->resolved[i] = rc == 0 ? ynode_deep_merge(x->L->a, base, own) : own;
	x->state[i] = EXT_DONE;
	return rc;
}

int extends_resolve(struct mload *L, const struct ynode *root, struct ynode **ret_root)
{
	struct ext_ctx x = {.L = L, .root = root};
	_cleanup_free_ enum ext_state *state = xcalloc(root->n + 1, sizeof(*state));
	_cleanup_free_ struct ynode **resolved = xcalloc(root->n + 1, sizeof(*resolved));
	_cleanup_free_ unsigned *levels = xcalloc(root->n + 1, sizeof(*levels));
	x.levels = levels;
	x.state = state;
	x.resolved = resolved;
	strmap_init(&x.index);
	for (size_t i = 0; i < root->n; i++)
		strmap_put(&x.index, root->entries[i].key, (void *)(uintptr_t)(i + 1));
	int rc = 0;
	for (size_t i = 0; i < root->n; i++) {
		if (extends_reserved_key(root->entries[i].key))
			continue;
		if (resolve_entry(&x, i, 0) < 0) {
			rc = -1;
			if (mload_stop(L))
				break;
		}
	}
	if (rc == 0 || !mload_stop(L)) {
		struct ynode *out = ynode_shallow_copy(L->a, root);
		for (size_t i = 0; i < root->n; i++)
			if (resolved[i])
				out->entries[i].value = resolved[i];
		*ret_root = out;
	}
	strmap_release(&x.index);
	return rc;
}
