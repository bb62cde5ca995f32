/* What the local git repository says about the pipeline to run: the checked-out commit, its
 * branch and tags, the default branch, the origin remote, the user, the files of the work tree
 * and the files changed against the default branch. Facts only: turning them into CI/CD
 * variables is vcs/context.c. git is run as a child process (fork/exec, never a shell). */
#pragma once
#include <stdbool.h>

#include "util/err.h"
#include "util/strvec.h"

enum vcs_open_flags {
	VCS_FILES = 1 << 0, /* also list the repository files (git ls-files) at once; without it
	                     * vcs_repo_files lists them when they are needed */
};

struct vcs_pending;

struct vcs_repo {
	bool in_repo;          /* false: not inside a git work tree (everything below defaulted) */
	char *root;            /* owned: work tree top level, or the absolute start dir */
	char *branch;          /* owned: checked-out branch (short name), NULL when detached */
	char *sha;             /* owned: HEAD commit (40 hex), NULL when there is no commit */
	char *message;         /* owned: full commit message ("" without a commit) */
	char *author_name;     /* owned */
	char *author_email;    /* owned */
	long long commit_time; /* committer date, seconds since the epoch (0 without a commit) */
	char *tag;             /* owned: first tag (by name) pointing at HEAD, or NULL */
	char *
	    default_branch; /* owned: never NULL (origin/HEAD, else main, else master, else main) */
	char *default_ref;  /* owned: full ref of the default branch to diff against, or NULL */
	char *remote_url;   /* owned: remote.origin.url, or NULL */
	char *user_name;    /* owned: git config user.name, or NULL */
	char *user_email;   /* owned: git config user.email, or NULL */
	struct strvec files;     /* once listed (files_listed): tracked + untracked-not-ignored,
	                          * relative to root */
	struct strvec untracked; /* once listed: the untracked subset of files */
	bool files_listed;       /* files and untracked are final (VCS_FILES or vcs_repo_files) */
	struct vcs_pending *pending; /* owned: queries started by vcs_repo_start, not collected */
};

/* Reads the repository containing `dir` (borrowed). Outside a work tree (or without git on
 * PATH) it still succeeds with in_repo false and defaults; only a failure to run anything at
 * all (fork, pipe) sets err (ERR_ENV). *ret is initialised here; release it with
 * vcs_repo_release() in every case. */
int vcs_repo_open(const char *dir, unsigned flags, struct vcs_repo *ret, struct err *err);

/* vcs_repo_open in two halves, so that the caller can work while git runs. vcs_repo_start
 * decides in_repo and root before it returns (from the files of `.git` when that is exact,
 * else with `git rev-parse`), starts the other queries as child processes and returns; only
 * in_repo and root may be read until vcs_repo_finish has collected the rest. Same contract
 * and errors as vcs_repo_open (start sets err when nothing can be started; finish never
 * fails and may be called more than once). vcs_repo_release reaps unfinished queries. */
int vcs_repo_start(const char *dir, unsigned flags, struct vcs_repo *ret, struct err *err);
void vcs_repo_finish(struct vcs_repo *r);
void vcs_repo_release(struct vcs_repo *r);

/* Lists the repository's files into r->files and r->untracked, once: `git ls-files` costs as
 * much as the rest of the queries together on a large tree and only rules:exists, local
 * include wildcards and the run's project snapshot need it. Collects the pending queries
 * first (vcs_repo_finish). Outside a work tree the lists stay empty. Returns 0 (files_listed
 * set; a git that fails leaves the lists empty, as with VCS_FILES), or -1 with err set
 * (ERR_ENV) when git cannot be started; then it may be retried. */
int vcs_repo_files(struct vcs_repo *r, struct err *err);

/* Files changed by the work tree relative to the merge base of HEAD and r->default_ref
 * (committed, staged, unstaged) plus untracked files, relative to the root, appended to *ret
 * (caller-owned). The untracked files come from the file list: r's is listed first
 * (vcs_repo_files) when it was not. Returns 1 when the list is known, 0 when it is not (no
 * repository, no default ref, no common ancestor) and -1 with err set when git cannot be
 * run. */
int vcs_changed_files(struct vcs_repo *r, struct strvec *ret, struct err *err);

/* Same for rules:changes:compare_to: the work tree (committed, staged, unstaged, untracked)
 * against the merge base of HEAD and `ref` (borrowed: a branch, tag, full ref or SHA, as
 * `git rev-parse` takes it). Returns 1 when the list is known, 0 when `ref` names no commit
 * (or there is no repository / no HEAD commit), -1 with err set when git cannot be run. */
int vcs_changed_since(struct vcs_repo *r, const char *ref, struct strvec *ret, struct err *err);

/* Runs `git -C dir args...` (args NULL-terminated, borrowed) and appends its stdout to *out.
 * Returns the exit status (0..255), or -1 with err set when it could not be started. stderr
 * goes to /dev/null. Exposed for tests. */
struct strbuf;
int vcs_git(const char *dir, const char *const *args, struct strbuf *out, struct err *err);

/* A remote URL split the way GitLab names things. */
struct vcs_remote {
	char *protocol; /* owned: "https" or "http" (ssh remotes map to https) */
	char *host;     /* owned: lower-case host name */
	int port;       /* 443 / 80 unless an http(s) URL says otherwise */
	char *path;     /* owned: "group/sub/project" without ".git" and slashes at the ends */
};

/* Parses scp-like `user@host:path`, `ssh://[user@]host[:port]/path`, `http(s)://[cred@]host
 * [:port]/path` and `git://`. Returns 0, or -1 when the URL names no host and path (local
 * paths, file://); *ret is written only on success. */
int vcs_parse_remote(const char *url, struct vcs_remote *ret);
void vcs_remote_release(struct vcs_remote *r);
