/* rules:, only/except and workflow:rules evaluation (spec yaml.md §1 workflow, §4 rules,
 * only/except; expressions.md §4 for which variables each sees). */
#pragma once
#include <stdbool.h>

#include "model/load.h"

struct ynode;
struct expr_env;

/* The variables an evaluation sees: up to 4 lists, lowest precedence first (the last
 * occurrence of a name wins). Expressions (rules:if, only/except:variables) read the values as
 * defined, unexpanded, as GitLab's context.variables_hash does; changes:/exists: paths are
 * expanded against the expanded union (variables_hash_expanded). Reads are recorded into
 * `read`. */
struct rscope {
	const struct var_list *layers[4];
	size_t n_layers;
	struct arena *a;        /* for recorded reads and the expanded union */
	struct var_list *read;  /* may be NULL */
	struct var_list merged; /* lazily built union, expanded */
	bool merged_built;
};

/* Initialises an expr_env reading through scope. */
void rscope_env(struct rscope *s, struct expr_env *env);
/* Expands $VAR in a path pattern (unknown references kept, as GitLab does for changes/exists). */
const char *rscope_expand(struct rscope *s, const char *text);

/* Whether every clause of a rule hash (if/changes/exists) holds; `cond` is its parsed `if`
 * (NULL when absent). A rule without clauses matches. Returns -1 on a recorded error. */
int rules_clauses_match(struct mload *L, const struct ynode *rule, const struct expr *cond,
                        struct rscope *scope, bool *ret_match);
/* Validates the keys/types of a rules: list and parses each `if` into out (heap exprs). `where`
 * prefixes messages ("jobs:build:rules"). `job_level` allows the job-only rule keys. */
int rules_parse(struct mload *L, const char *where, const struct ynode *rules, bool job_level,
                struct mrule **ret_rules, size_t *ret_n);
void rules_free(struct mrule *rules, size_t n);

/* workflow: evaluates workflow:rules; sets p->created, p->workflow_loc, global variables and
 * p->name. Returns -1 on a recorded error. */
int rules_workflow(struct mload *L, const struct ynode *workflow);

/* Decides one job instance: rules or only/except; applies the matched rule's when,
 * allow_failure, start_in, variables, needs, interruptible; fills j->decision. */
int rules_decide_job(struct mload *L, const struct job_group *g, struct job *j);

/* Validates only:/except: values of a job and parses their variables expressions. */
int rules_parse_policy(struct mload *L, struct job_group *g);
