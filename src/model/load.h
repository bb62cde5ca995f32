/* Loader state shared by the files that turn a .gitlab-ci.yml into a struct pipeline
 * (pipeline.c, include.c, extends.c, job.c, rules.c, parallel.c). Private to src/model. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "model/job.h"
#include "model/pipeline.h"
#include "util/err.h"
#include "util/strmap.h"

struct ynode;
struct ydoc;
struct expr;
struct job_keys;

/* One job definition before parallel expansion ("group"), with what rules evaluation and needs
 * resolution need later. Arena-owned except the parsed expressions (freed by job_group_release). */
struct mrule {
	const struct ynode *node; /* the rule hash */
	struct expr *cond;        /* parsed `if`, or NULL */
};

struct job_group {
	const char *name;
	struct srcloc loc;
	const struct ynode *node;    /* job hash after extends, !reference and default: */
	const struct job_keys *keys; /* job.c: its keyword entries, during job_group_build only */
	size_t order;                /* position in the file (merged root map) */
	bool bad_stage;              /* its stage: is invalid (lint goes on without its needs) */
	struct job proto;            /* the built job (before parallel/rules) */
	/* parallel */
	struct job *inst; /* instances (1 when not parallel) */
	size_t n_inst;
	bool parallel;
	struct strmap inst_index; /* instance name -> struct job * (parallel groups only) */
	/* rules / only / except */
	bool has_rules;
	struct mrule *rules;
	size_t n_rules;
	const struct ynode *rules_node;
	const struct ynode *only, *except;
	struct expr **only_vars, **except_vars; /* parsed only/except:variables */
	size_t n_only_vars, n_except_vars;
	const struct ynode *needs_node; /* raw needs: list */
	bool is_trigger;
	/* parallel: N (par_count > 0) or parallel:matrix (matrix != NULL) */
	int par_count;
	const struct ynode *matrix;
};

struct mload {
	struct pipeline *p;
	struct arena *a;                /* p->arena */
	const struct pipeline_ctx *ctx; /* only project_dir and include_dir are valid until
	                                 * mload_ctx_complete (include.c: after the main file) */
	bool ctx_done, ctx_failed;      /* ctx->complete called; and it failed */
	bool collect;                   /* lint: record every error */
	struct diag_list *diags;
	struct err *err;
	size_t n_errors;
	struct err first; /* first error when collecting */
	size_t n_includes;
	bool repo_scanned, repo_listed, repo_list_failed;
	const struct string_list *listed_files; /* from ctx->list_files */
	struct string_list repo_files;          /* a scan of project_dir */
	bool has_workflow_rules;
	struct var_list global_vars; /* global YAML variables (after workflow rule variables) */
	/* ctx->vars split by precedence: predefined (public_) rank below YAML variables,
	 * pipeline/CLI/settings variables (not public_) above them. */
	struct var_list pre_vars, pipe_vars;
	struct ydoc **docs; /* loaded files, kept alive for the pipeline's lifetime */
	size_t n_docs, docs_alloc;
	struct job_group *groups;
	size_t n_groups;
	struct strmap group_index; /* name -> struct job_group * */
	struct strmap inst_group;  /* parallel instance name -> struct job_group * */
	struct strmap job_index;   /* visible top-level name -> ynode (job candidates) */
	const struct ynode *root;  /* merged config after includes, extends, references */
	/* compare_to ref (expanded) -> struct string_list * (arena) of files changed since
	 * it, or NULL when the ref names no commit: ctx->changed_since asked once per ref */
	struct strmap changed_since;
};

/* Records an error at loc (file interned so it outlives the documents). Stops (err set) unless
 * collecting. Always returns -1. */
int mload_error(struct mload *L, struct srcloc loc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Records a callee's error (taken from e, which becomes unset). Returns -1. */
int mload_take_err(struct mload *L, struct err *e);
/* Whether the caller should stop after a failure: true unless collecting. */
static inline bool mload_stop(const struct mload *L)
{
	return !L->collect;
}
/* Returns a process-lifetime copy of a file name (errors outlive the loaded documents). */
const char *mload_intern(const char *file);
/* Keeps doc alive as long as the pipeline (the pipeline takes ownership). */
void mload_keep_doc(struct mload *L, struct ydoc *doc);
/* Calls ctx->complete once (pipeline_ctx): before this, only ctx->project_dir and
 * ctx->include_dir may be read. include.c calls it once the main file is parsed, so the
 * caller's git runs meanwhile. Idempotent; returns -1 (error recorded) when it failed. */
int mload_ctx_complete(struct mload *L);
/* The repository's files: ctx->repo_files, else ctx->list_files (asked once), else a scan of
 * ctx->project_dir (once). Completes the context first. Returns NULL (error recorded) when
 * completing or listing failed. Borrowed, valid for the load. */
const struct string_list *mload_repo_files(struct mload *L);

/* Helpers on YAML nodes used by several files. */
bool mnode_is_map(const struct ynode *n);
bool mnode_is_seq(const struct ynode *n);
bool mnode_is_str(const struct ynode *n); /* string scalar (any scalar but null/map/seq) */
/* The value of key in map, or NULL when the key is absent or its value is null: GitLab's
 * Entry::Factory turns a nil keyword value into an undefined entry ("not set"), so a job's
 * `parallel: null` cancels a `parallel` inherited through extends. Borrowed. */
const struct ynode *mnode_get_defined(const struct ynode *map, const char *key);
/* Flattens a string or nested list of strings (<= depth levels) into out (arena strings).
 * Returns -1 if an item is not a scalar string-like value or nesting is too deep. */
/* Whether k is one of the NULL-terminated names in set (allowed keys, allowed values). */
bool mname_in_set(const char *const *set, const char *k);
int mnode_string_list(struct arena *a, const struct ynode *n, int depth, struct string_list *out);
void mstring_list_push(struct arena *a, struct string_list *l, const char *s);
/* Flattens a sequence whose items may be sequences (from !reference or aliases), as Ruby's
 * Array#flatten does for GitLab's ComposableArray entries (needs, rules, services). Nesting
 * deeper than `depth` is kept as a sequence item. Returns the item count; *ret is arena-owned. */
size_t mnode_flatten(struct arena *a, const struct ynode *seq, int depth,
                     const struct ynode ***ret);
bool mstring_list_has(const struct string_list *l, const char *s);

/* Ruby File.fnmatch with FNM_PATHNAME | FNM_DOTMATCH | FNM_EXTGLOB (see rules.c). */
bool mglob_match(const char *pattern, const char *path);

/* job.c: builds g->proto from g->node and validates every keyword. Returns -1 on a recorded
 * error. `stages` lists the pipeline's stages. */
int job_group_build(struct mload *L, struct job_group *g);
/* Releases the heap parts of a group (parsed expressions, index). */
void job_group_release(struct job_group *g);
/* Parses a ChronicDuration-like text ("90", "1h 30m", "2 hours") into seconds; -1 if invalid. */
long mduration_parse(const char *s);
/* Parses a needs: list (job or rule level) into out, expanding parallel jobs. Validates names
 * against the groups when `validate` is set. Returns -1 on a recorded error. */
int job_needs_parse(struct mload *L, const struct job_group *g, const struct ynode *needs,
                    bool validate, struct job_need **ret_needs, size_t *ret_n);
/* Builds a var_list from a variables: hash (global or job). */
int job_variables_parse(struct mload *L, const char *where, const struct ynode *n, bool global,
                        struct var_list *out);
