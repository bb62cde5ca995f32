/* GitLab's `!reference [key, subkey, ...]` tags, resolved against the configuration after
 * include merging and `extends` (GitLab: Ci::Config::Yaml::Tags::Resolver). */
#pragma once
#include "util/err.h"

struct arena;
struct ynode;

/* Returns a root in which every `!reference` node anywhere (including inside referenced
 * values) is replaced by the value found at its path in `root`: a top-level key, then nested
 * keys. Sub-trees without references are shared with `root`, which is not modified; new
 * nodes are allocated in `a`. A reference inside a list (`script: [!reference [.a, script]]`)
 * yields a nested list: flattening is the caller's job.
 * Errors (ERR_CONFIG at the tag's location, GitLab's wording):
 *   `!reference [".a", "x"] could not be found` (missing key, non-hash on the path, or a
 *   null/false value), `... is part of a circular chain`, `... is not valid` (not a non-empty
 *   sequence of strings). Returns NULL with err set. A NULL root is returned as is. */
struct ynode *yref_resolve(struct arena *a, struct ynode *root, struct err *err);
