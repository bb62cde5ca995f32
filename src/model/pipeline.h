/* Loading a .gitlab-ci.yml into the pipeline model, with GitLab's semantics: includes,
 * extends, !reference, default:, workflow:rules, job rules/only/except, parallel. No I/O
 * except reading the config files (through yaml/) and what the context supplies. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "model/job.h"
#include "util/err.h"

struct arena;
struct pipeline_priv;
struct ydoc;
struct ynode;

struct strvec;
typedef int (*pipeline_changed_since_fn)(void *data, const char *ref, struct strvec *ret,
                                         struct err *err);
typedef int (*pipeline_repo_files_fn)(void *data, const struct string_list **ret, struct err *err);

/* What rules are evaluated against: the predefined variables of this pipeline and the
 * facts `changes:`/`exists:` need. Built by the caller (cli) from git and options. */
struct include_source;

struct pipeline_ctx {
	struct var_list vars;    /* predefined + CLI/pipeline variables, lowest precedence first */
	const char *project_dir; /* repository root: where local includes and exists: look */
	/* Files changed by this push, for rules:changes; NULL = unknown (changes: always true,
	 * as GitLab does for new branches, tags, schedules). */
	const struct string_list *changed_files;
	/* Every file of the repository (tracked + untracked not ignored), relative paths, for
	 * rules:exists and local include wildcards; NULL = ask list_files, else scan
	 * project_dir. */
	const struct string_list *repo_files;
	/* The same list on demand, as listing a large repository is costly and most pipelines
	 * never need it: called at most once, after complete, the first time rules:exists or a
	 * local include wildcard needs the files (never when repo_files is set). Returns 0 with
	 * *ret set (borrowed, valid as long as this context), or -1 with err set, which fails
	 * the load. NULL: scan project_dir. */
	pipeline_repo_files_fn list_files;
	void *list_files_data;
	/* Folder that holds remote/project/template/component includes offline, or NULL. */
	const char *include_dir;
	/* Where remote/project/template/component includes not under include_dir come from
	 * (model/include-source.h), or NULL: offline, they are errors. Borrowed. */
	const struct include_source *includes;
	/* rules:changes:compare_to: appends to *ret (caller-owned strvec) the files changed
	 * since the merge base of HEAD and `ref` (already variable-expanded, borrowed), work
	 * tree changes included. Returns 1 when known, 0 when `ref` names no commit, -1 with err
	 * set when it cannot be computed. Called lazily, at most once per distinct ref. NULL:
	 * compare_to is not supported and changes: falls back to changed_files. */
	pipeline_changed_since_fn changed_since;
	void *changed_since_data;
	/* Fills in the rest of this context the first time the model needs it, so that the
	 * caller can work it out (run git) while the main file is parsed: pipeline_load calls
	 * it once, after parsing the main file and before reading anything here but
	 * project_dir and include_dir. It may change this struct (through complete_data; the
	 * model only holds it const). Returns 0, or -1 with err set, which fails the load.
	 * NULL: the context is complete already. */
	int (*complete)(void *data, struct err *err);
	void *complete_data;
};

struct pipeline {
	struct arena *arena; /* owned: everything below lives here */
	const char *file;    /* path of the main config file */
	const char **stages; /* with .pre first and .post last */
	size_t n_stages;
	struct var_list variables;   /* global YAML variables (after workflow:rules variables) */
	const char *name;            /* workflow:name, or NULL */
	bool created;                /* false when workflow:rules decided no pipeline */
	struct srcloc workflow_loc;  /* the rule that decided, for explain */
	const char *workflow_reason; /* "workflow:rules rule 2 matched with when: never", "no
	                              * workflow:rules rule matched"; NULL without workflow:rules */
	struct job *jobs;            /* jobs in the pipeline (rules applied), stage order */
	size_t n_jobs;
	struct job *excluded; /* jobs dropped by rules/only/except, for explain */
	size_t n_excluded;
	struct ynode *resolved; /* the fully resolved config, for `runnel config` */
	struct diag_list warnings;
	struct pipeline_priv *priv; /* owned: loaded documents and the job-name index */
};

struct pipeline_opts {
	bool collect_all_errors; /* lint: keep going and fill diags */
	struct diag_list *diags; /* where collected errors go (lint) */
};

/* Loads and plans-ready-validates `file`. Returns an owned pipeline or NULL with err set
 * (ERR_CONFIG with a srcloc pointing into the file that holds the mistake). With
 * opts->collect_all_errors every error also goes to opts->diags and NULL is returned if any. */
struct pipeline *pipeline_load(const char *file, const struct pipeline_ctx *ctx,
                               const struct pipeline_opts *opts, struct err *err);
void pipeline_free(struct pipeline *p);
/* The job instance named `name` (in p->jobs, else in p->excluded: check
 * job->decision.included), or NULL. O(1). */
const struct job *pipeline_find_job(const struct pipeline *p, const char *name);
