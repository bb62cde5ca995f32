/* gitdir: the repository every job finds at CI_PROJECT_DIR/.git (see gitdir.h). Each step is
 * one short git command on the new repository; the user's repository is only read (rev-parse
 * and the local clone, which hard-links its objects and copies its refs). */
#include "vcs/gitdir.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"
#include "util/fsutil.h"
#include "util/strbuf.h"
#include "util/strmap.h"
#include "util/strvec.h"
#include "util/xalloc.h"
#include "vcs/git.h"

/* Runs `git -C dir args` and fails unless its status is 0 (or 1 when ok1). out may be NULL. */
static int run_git(const char *dir, const char *const *args, bool ok1, struct strbuf *out,
                   struct err *err)
{
	struct strbuf sink = STRBUF_INIT;
	int st = vcs_git(dir, args, out ? out : &sink, err);
	strbuf_release(&sink);
	if (st < 0)
		return -1;
	if (st == 0 || (ok1 && st == 1))
		return 0;
	/* args[0] may be a global option (--git-dir=...): name the subcommand */
	size_t i = 0;
	while (args[i + 1] && args[i][0] == '-')
		i++;
	return err_set(err, ERR_ENV, "'git %s' failed in '%s' (status %d)", args[i], dir, st);
}

/* First line of `git -C dir args` (owned), or NULL with err. */
static char *git_line(const char *dir, const char *const *args, struct err *err)
{
	struct strbuf out = STRBUF_INIT;
	if (run_git(dir, args, false, &out, err) < 0) {
		strbuf_release(&out);
		return NULL;
	}
	out.buf[strcspn(out.buf, "\n")] = '\0';
	return strbuf_detach(&out, NULL);
}

static bool is_null_sha(const char *s)
{
	return !s || !*s || strspn(s, "0") == strlen(s);
}

/* The commit to detach at (owned), NULL when the repository has none (err unset). */
static char *pick_commit(const struct vcs_gitdir_opts *o, struct err *err)
{
	if (!is_null_sha(o->commit))
		return xstrdup(o->commit);
	const char *args[] = {"rev-parse", "--verify", "-q", "HEAD^{commit}", NULL};
	struct strbuf out = STRBUF_INIT;
	int st = vcs_git(o->repo_dir, args, &out, err);
	if (st != 0) {
		strbuf_release(&out);
		return NULL;
	}
	out.buf[strcspn(out.buf, "\n")] = '\0';
	return strbuf_detach(&out, NULL);
}

/* HEAD detached at commit, and the local branch the clone made deleted: a runner checkout has
 * only origin/<branch> branches. */
static int detach(const char *dest, const char *git_dir, const char *commit, struct err *err)
{
	_cleanup_free_ char *gd = xasprintf("--git-dir=%s", git_dir);
	const char *sym[] = {gd, "symbolic-ref", "-q", "HEAD", NULL};
	struct strbuf branch = STRBUF_INIT;
	int st = vcs_git(dest, sym, &branch, err);
	if (st < 0)
		return -1;
	branch.buf[strcspn(branch.buf, "\n")] = '\0';
	const char *upd[] = {gd, "update-ref", "--no-deref", "HEAD", commit, NULL};
	const char *del[] = {gd, "update-ref", "-d", branch.buf, NULL};
	int r = run_git(dest, upd, false, NULL, err);
	if (r == 0 && st == 0 && !strncmp(branch.buf, "refs/heads/", 11))
		r = run_git(dest, del, false, NULL, err);
	strbuf_release(&branch);
	return r;
}

/* Stat checks that survive `cp -a`, overlays and tar (inode, ctime and nanoseconds change). */
static int write_config(const char *dest, const char *git_dir, const char *origin, struct err *err)
{
	_cleanup_free_ char *path = xasprintf("%s/config", git_dir);
	_cleanup_fclose_ FILE *f = fopen(path, "ae");
	if (!f)
		return err_sys(err, errno, "cannot open '%s'", path);
	fputs("[core]\n\tcheckStat = minimal\n\ttrustCtime = false\n", f);
	if (fflush(f) != 0)
		return err_sys(err, errno, "cannot write '%s'", path);
	if (!origin)
		return 0;
	_cleanup_free_ char *gd = xasprintf("--git-dir=%s", git_dir);
	const char *args[] = {gd, "config", "remote.origin.url", origin, NULL};
	return run_git(dest, args, false, NULL, err);
}

/* The index of the commit, refreshed against the work tree (or written out to it). */
static int make_index(const struct vcs_gitdir_opts *o, const char *dest, const char *git_dir,
                      const char *commit, struct err *err)
{
	_cleanup_free_ char *gd = xasprintf("--git-dir=%s", git_dir);
	_cleanup_free_ char *wt = xasprintf("--work-tree=%s", o->work_tree);
	if (o->checkout) {
		const char *co[] = {gd, wt, "read-tree", "--reset", "-u", commit, NULL};
		return run_git(dest, co, false, NULL, err);
	}
	const char *rt[] = {gd, wt, "read-tree", commit, NULL};
	/* status 1: some files differ from the commit, which is what the job should see */
	const char *refresh[] = {gd, wt, "update-index", "-q", "--refresh", NULL};
	if (run_git(dest, rt, false, NULL, err) < 0)
		return -1;
	return run_git(dest, refresh, true, NULL, err);
}

int vcs_gitdir_create(const struct vcs_gitdir_opts *o, const char *dest, struct err *err)
{
	_cleanup_free_ char *commit = pick_commit(o, err);
	if (!commit)
		return err_is_set(err) ? -1 : 0;
	/* a worktree or submodule has a `.git` file: clone from the directory holding objects */
	const char *cd[] = {"rev-parse", "--path-format=absolute", "--git-common-dir", NULL};
	_cleanup_free_ char *common = git_line(o->repo_dir, cd, err);
	if (!common)
		return err_wrap(err, "cannot find the repository of '%s'", o->repo_dir);
	if (fs_mkdir_p(dest, err) < 0)
		return -1;
	_cleanup_free_ char *git_dir = xasprintf("%s/.git", dest);
	/* --template=: no sample hooks, nothing that runs in the job unasked */
	const char *clone[] = {"clone", "-q", "--local", "--no-checkout", "--template=", "--",
	                       common,  dest, NULL};
	if (run_git(dest, clone, false, NULL, err) < 0 || detach(dest, git_dir, commit, err) < 0 ||
	    write_config(dest, git_dir, o->origin_url, err) < 0 ||
	    make_index(o, dest, git_dir, commit, err) < 0)
		return err_wrap(err, "cannot give jobs a repository of '%s'", o->repo_dir);
	return 1;
}

unsigned long vcs_gitdir_depth(const char *value)
{
	if (!value || !*value)
		return 0;
	char *end;
	errno = 0;
	long v = strtol(value, &end, 10);
	if (errno || *end || v <= 0)
		return 0;
	return (unsigned long)v;
}

/* ---- GIT_DEPTH ---- */

/* `rev-list --parents` output of the first `limit` commits, indexed by sha: each value is the
 * (NUL-separated, in-place) line whose first token is the sha. */
struct history {
	struct strbuf text;
	struct strmap parents; /* sha -> the rest of its line ("" without parents) */
	const char *start;     /* the sha of the commit asked for (first line), NULL if none */
	bool complete;         /* every commit of the history is in the map */
};

static int history_load(const char *git_dir, const char *commit, unsigned long limit,
                        struct history *h, struct err *err)
{
	_cleanup_free_ char *gd = xasprintf("--git-dir=%s", git_dir);
	_cleanup_free_ char *n = xasprintf("--max-count=%lu", limit);
	const char *args[] = {gd, "rev-list", "--parents", n, commit, NULL};
	if (run_git(git_dir, args, false, &h->text, err) < 0)
		return -1;
	unsigned long lines = 0;
	for (char *p = h->text.buf; *p;) {
		char *nl = strchr(p, '\n');
		if (nl)
			*nl = '\0';
		char *sp = strchr(p, ' ');
		if (sp)
			*sp = '\0';
		strmap_put(&h->parents, p, sp ? sp + 1 : p + strlen(p));
		if (!lines++)
			h->start = p;
		if (!nl)
			break;
		p = nl + 1;
	}
	h->complete = lines < limit;
	return 0;
}

static void history_release(struct history *h)
{
	strbuf_release(&h->text);
	strmap_release(&h->parents);
}

/* Breadth first from the start commit: commits at minimal distance depth-1 go to out.
 * Returns 1 when done, 0 when the loaded history is too short to decide. */
static int shallow_walk(const struct history *h, unsigned long depth, struct strbuf *out)
{
	if (!h->start)
		return 1;
	struct strvec all = STRVEC_INIT;  /* every commit reached, level after level */
	struct strmap seen = STRMAP_INIT; /* keys borrowed from all.v (never moved strings) */
	int done = 1;
	strvec_push(&all, h->start);
	strmap_put(&seen, all.v[0], NULL);
	size_t lo = 0;
	for (unsigned long d = 0; d < depth && lo < all.n && done; d++) {
		size_t hi = all.n;
		for (size_t i = lo; i < hi && done; i++) {
			const char *parents = strmap_get(&h->parents, all.v[i]);
			if (!parents) {
				done =
				    h->complete; /* not loaded yet, or not a commit we can walk */
				continue;
			}
			if (d == depth - 1) {
				/* a root commit too, as `git fetch --depth` marks it */
				strbuf_addf(out, "%s\n", all.v[i]);
				continue;
			}
			_cleanup_free_ char *copy = xstrdup(parents);
			char *save = NULL;
			for (char *p = strtok_r(copy, " ", &save); p;
			     p = strtok_r(NULL, " ", &save)) {
				if (strmap_has(&seen, p))
					continue;
				strvec_push(&all, p);
				strmap_put(&seen, all.v[all.n - 1], NULL);
			}
		}
		lo = hi;
	}
	strmap_release(&seen);
	strvec_release(&all);
	return done;
}

int vcs_gitdir_shallow(const char *git_dir, const char *commit, unsigned long depth,
                       const char *shallow_path, struct err *err)
{
	if (!depth)
		return 0;
	struct strbuf out = STRBUF_INIT;
	int r = 0;
	/* rev-list is date ordered, a breadth first walk is not: load more until it fits */
	for (unsigned long limit = depth * 4 + 16;; limit *= 4) {
		struct history h = {.text = STRBUF_INIT, .parents = STRMAP_INIT};
		strbuf_reset(&out);
		r = history_load(git_dir, commit, limit, &h, err);
		int done = r == 0 && shallow_walk(&h, depth, &out);
		history_release(&h);
		if (r < 0 || done)
			break;
	}
	if (r == 0 && out.len) {
		_cleanup_fclose_ FILE *f = fopen(shallow_path, "we");
		if (!f || fwrite(out.buf, 1, out.len, f) != out.len || fflush(f) != 0)
			r = err_sys(err, errno, "cannot write '%s'", shallow_path);
	}
	strbuf_release(&out);
	return r;
}
