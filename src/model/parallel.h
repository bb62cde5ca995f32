/* parallel: expansion and the cross-job references that depend on it (needs, dependencies),
 * spec yaml.md §4 parallel/needs/dependencies. */
#pragma once
#include "model/load.h"

/* Validates parallel: of g->node and records it in g (par_count or matrix). */
int parallel_parse(struct mload *L, struct job_group *g);
/* Creates g->inst from g->proto: 1 instance, `name i/N`, or `name: [v1, v2]` with the matrix
 * variables added over the job's and CI_NODE_INDEX/TOTAL in node_index/node_total. */
int parallel_expand(struct mload *L, struct job_group *g);
/* Resolves g's needs: and dependencies: into every instance (names of instances), checking
 * undefined targets, later stages, duplicates and dependencies missing from needs. */
int parallel_resolve_refs(struct mload *L, struct job_group *g);
