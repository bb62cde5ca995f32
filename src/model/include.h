/* include: resolution and spec:inputs interpolation (spec yaml.md §2). */
#pragma once
#include "model/load.h"

struct ynode;

/* Loads the main file, interpolates its spec:inputs defaults, resolves every include
 * recursively and deep-merges them the way GitLab does (nested includes first, the including
 * file last and winning). *ret_root is a map node in L->a (never NULL on success). Errors are
 * recorded in L (locations point into the file holding the mistake). Returns 0 or -1. */
int include_load_main(struct mload *L, const char *file, struct ynode **ret_root);
