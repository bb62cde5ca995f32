/* The options every verb shares (-f, -C, --variable, --variables-file, --branch, --tag,
 * --source, --include-dir, --refresh-includes), option tables that also produce --help, and the
 * pipeline context built from them and from git (vcs/). Precedence of variables, lowest first:
 * predefined < --variables-file < --variable. In pctx.vars the predefined variables are
 * public_ (var_list_set_kv) and the user's are not: the model reads public_ to put user
 * (pipeline) variables above the YAML variables, and they never reach service containers. */
#pragma once
#include <stdbool.h>
#include <stdio.h>

#include "model/pipeline.h"
#include "util/arena.h"
#include "util/strvec.h"
#include "vcs/git.h"

struct fetch_source;

/* One option of a verb; tables end with an entry whose name is NULL. */
struct cli_option {
	const char *name; /* long name without "--" */
	int key;          /* short option letter, or a value >= 256 for long-only options */
	bool has_arg;
	const char *arg; /* argument name shown in --help, e.g. "FILE" */
	const char *help;
};

/* Values of the common options (strings borrowed from argv). */
struct cli_common {
	const char *file;
	const char *cwd;
	const char *variables_file;
	const char *branch;
	const char *tag;
	const char *source;
	const char *include_dir;
	bool refresh_includes;        /* --refresh-includes */
	struct strvec local_projects; /* --local-project group/project[@ref]=DIR, as given */
	struct strvec variables;      /* "KEY=VALUE" copies, owned */
};
#define CLI_COMMON_INIT                                                                            \
	{                                                                                          \
		.variables = STRVEC_INIT, .local_projects = STRVEC_INIT                            \
	}
void cli_common_release(struct cli_common *c);

/* How one verb parses its command line. */
struct cli_verb {
	const char *name;              /* "list" */
	const char *synopsis;          /* after "runnel list ", e.g. "[--json] [options]" */
	const char *summary;           /* one line */
	const struct cli_option *opts; /* the verb's own options, or NULL */
	/* Called for each verb option; returns 0, or -1 after printing a usage error. */
	int (*on_opt)(void *data, int key, const char *arg);
	void *data;
	int min_args, max_args; /* positional arguments accepted (max -1 = any) */
};

/* Parses argv (argv[0] is the verb) into the verb's options and *c. Returns the index of the
 * first positional argument (>= 1) on success, 0 when --help was printed (exit 0) and -1 after
 * printing a usage error to stderr (exit 2). */
int cli_parse_args(int argc, char **argv, const struct cli_verb *v, struct cli_common *c);
/* Prints the verb's --help from its table and the common options. */
void cli_usage(FILE *out, const struct cli_verb *v);

/* Everything a verb needs to load the pipeline. */
struct cli_ctx {
	struct arena arena; /* owns the variable strings below */
	struct vcs_repo repo;
	char *file;         /* owned: config path as shown in messages (relative to cwd) */
	const char *branch; /* the resolved ref: exactly one of branch/tag is set */
	const char *tag;
	const char *source;
	struct pipeline_ctx pctx;      /* what pipeline_load evaluates rules against */
	struct fetch_source *fetch;    /* owned: pctx.includes (network includes) */
	struct var_list job_vars;      /* predefined variables GitLab gives running jobs only */
	struct string_list repo_files; /* view of repo.files, after cli_ctx_repo_files */
	struct string_list changed;
	struct strvec changed_store;
};

/* Applies -C (chdir), starts git (vcs_repo_start: only repo.in_repo and repo.root are known
 * on return), resolves the config file, checks --branch/--tag/--source and reads the user's
 * variables. The ref (branch/tag), pctx.vars, job_vars and the other repository facts are
 * complete only after cli_ctx_load (or cli_ctx_prepare), which lets git run while the main
 * file is parsed; the file list only after cli_ctx_repo_files. Returns 0, or -1 with err set
 * (ERR_USAGE for bad values, ERR_ENV/ERR_CONFIG for files). Release with cli_ctx_release() in
 * every case. */
int cli_ctx_init(struct cli_ctx *ctx, const struct cli_common *c, struct err *err);
void cli_ctx_release(struct cli_ctx *ctx);

/* pipeline_load() on the context's file; completes the context (see cli_ctx_init) even when
 * the load fails. Returns the owned pipeline or NULL with err set. */
struct pipeline *cli_ctx_load(struct cli_ctx *ctx, const struct pipeline_opts *opts,
                              struct err *err);

/* Lists the repository's files (git ls-files, once: vcs_repo_files) into ctx->repo.files,
 * ctx->repo.untracked and the ctx->repo_files view; the model asks for them through
 * pctx.list_files only for rules:exists and local include wildcards, so a verb that needs
 * them anyway (run: the project snapshot) asks here. Empty outside a repository. Returns 0,
 * or -1 with err set (ERR_ENV) when git cannot be started. */
int cli_ctx_repo_files(struct cli_ctx *ctx, struct err *err);

/* cli_ctx_init + cli_ctx_load, printing any error and the pipeline's warnings to stderr.
 * Returns 0 with *ret_p (owned) set, or the exit code the verb should return. ctx must be
 * released by the caller in both cases. */
int cli_ctx_prepare(struct cli_ctx *ctx, const struct cli_common *c, struct pipeline **ret_p);

/* One verb's command line, context and pipeline, for the verbs that print something about the
 * pipeline: parse, prepare, and either go on or return an exit code. */
struct cli_session {
	struct cli_common common;
	struct cli_ctx ctx; /* valid after cli_session_start/cli_session_load */
	struct pipeline *p; /* owned: after cli_session_load */
	int argi;           /* argv index of the first positional argument */
	int rc;             /* the exit code when a step returned false */
	bool ctx_started;
};
#define CLI_SESSION_INIT                                                                           \
	{                                                                                          \
		.common = CLI_COMMON_INIT                                                          \
	}

/* cli_parse_args for verb v. Returns true to go on, false when the verb should return s->rc:
 * 0 after --help, 2 after a usage error (printed). */
bool cli_session_parse(struct cli_session *s, int argc, char **argv, const struct cli_verb *v);
/* cli_session_parse, then cli_ctx_init; false with s->rc after printing the error. */
bool cli_session_start(struct cli_session *s, int argc, char **argv, const struct cli_verb *v);
/* cli_session_parse, then cli_ctx_prepare (load, print the warnings): true with s->p set,
 * false with s->rc after printing the error. */
bool cli_session_load(struct cli_session *s, int argc, char **argv, const struct cli_verb *v);
/* Frees the pipeline, the context and the options, whatever step was reached. */
void cli_session_release(struct cli_session *s);

/* GitLab's spelling of a when: value ("on_success", "manual", ...). */
const char *cli_when_name(enum job_when w);

/* The variable as the user may see it: "[MASKED]" for masked ones. */
const char *cli_ctx_shown_value(const struct cli_ctx *ctx, const char *key, const char *value);

/* Reads a variables file: KEY=VALUE lines (blank lines, # comments and `export ` allowed,
 * values optionally quoted) or a YAML map (KEY: value, or KEY: {value, masked, expand}).
 * Appends to l (strings in a). Returns 0 or -1 with err set. Exposed for tests. */
int cli_read_variables_file(const char *path, struct arena *a, struct var_list *l, struct err *err);
