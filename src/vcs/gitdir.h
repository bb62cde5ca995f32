/* The `.git` a job gets: gitlab-runner gives every job (GIT_STRATEGY fetch or clone) a
 * repository at CI_PROJECT_DIR whose HEAD is detached at CI_COMMIT_SHA. runnel makes one per
 * run, next to the project snapshot, with `git clone --local --no-checkout` from the user's
 * repository (objects hard-linked: O(refs), never O(history)); jobs get it through their
 * overlay's lower layers or a copy (docs/internals/project-copy.md). The user's repository is
 * only read. git is run as a child process (vcs/git.h). */
#pragma once
#include <stdbool.h>

#include "util/err.h"

struct vcs_gitdir_opts {
	const char *repo_dir;   /* borrowed: the user's work tree (a `.git` file is fine) */
	const char *commit;     /* borrowed: commit to detach HEAD at; NULL = the repo's HEAD */
	const char *work_tree;  /* borrowed: the files the new index describes */
	const char *origin_url; /* borrowed: remote.origin.url of the copy; NULL keeps the path */
	bool checkout;          /* also write the commit's files into work_tree (--committed):
	                         * the work tree is then exactly the commit, status clean */
};

/* Creates `<dest>/.git` (dest is created; it must not exist or be empty): a clone of
 * o->repo_dir with HEAD detached at the commit, no local branch, tags and the user's branches
 * as origin/<branch>, and an index of the commit refreshed against o->work_tree, so files that
 * differ from the commit there show as modified and the others as clean. Stat checks are
 * minimal (mtime seconds and size) so that copies of work_tree made with `cp -a`, overlays and
 * tar archives stay clean. Returns 1 when created, 0 when there is nothing to clone (no
 * commit yet: nothing is left at dest/.git), -1 with err (ERR_ENV) when git failed. */
int vcs_gitdir_create(const struct vcs_gitdir_opts *o, const char *dest, struct err *err);

/* GIT_DEPTH for a copy of such a repository: writes to `shallow_path` (the copy's
 * `.git/shallow`) the commits at distance depth-1 from `commit` (borrowed), as git's own
 * `clone --depth` marks them (root commits included), so `git log` shows what
 * `git fetch --depth=<depth>` would have fetched (the objects stay: a shallow clone holding
 * more objects than it needs). `git_dir` (borrowed) is only read. Writes nothing when the
 * history is not deeper than depth. Returns 0, or -1 with err. */
int vcs_gitdir_shallow(const char *git_dir, const char *commit, unsigned long depth,
                       const char *shallow_path, struct err *err);

/* The value of GIT_DEPTH as gitlab-runner reads it: a positive number, else 0 (full history).
 * value may be NULL. */
unsigned long vcs_gitdir_depth(const char *value);
