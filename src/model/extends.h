/* extends: resolution (spec yaml.md §3.2). */
#pragma once
#include "model/load.h"

struct ynode;

/* Resolves `extends` of every top-level entry of root (reserved keys excluded): parents are
 * deep-merged in list order, the entry on top; `extends` itself is dropped. Returns a new root
 * in *ret_root (root itself is not modified). Errors carry GitLab's messages ("<name>: unknown
 * keys in `extends` (x)", "invalid base hashes", "nesting too deep", "circular dependency
 * detected") at the extends value. Returns 0 or -1. */
int extends_resolve(struct mload *L, const struct ynode *root, struct ynode **ret_root);

/* Whether a top-level key is reserved (never a job). */
bool extends_reserved_key(const char *key);
