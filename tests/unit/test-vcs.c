/* Tests for vcs/: remote URL parsing, commit title/description, reading real throwaway git
 * repositories (branch, tag, detached, default branch, files, changed files) and the
 * predefined variables derived from them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model/pipeline.h"
#include "model/vars.h"
#include "util/arena.h"
#include "util/cleanup.h"
#include "util/strbuf.h"
#include "util/xalloc.h"
#include "vcs/context.h"
#include "vcs/git.h"
#include "vcs/gitfiles.h"

/* ---- remote URLs ---- */

static void check_remote(const char *url, const char *proto, const char *host, int port,
                         const char *path)
{
	struct vcs_remote r;
	assert_int_equal(vcs_parse_remote(url, &r), 0);
	assert_string_equal(r.protocol, proto);
	assert_string_equal(r.host, host);
	assert_int_equal(r.port, port);
	assert_string_equal(r.path, path);
	vcs_remote_release(&r);
}

static void test_remote_forms(void **state)
{
	(void)state;
	check_remote("git@gitlab.com:group/proj.git", "https", "gitlab.com", 443, "group/proj");
	check_remote("git@GitLab.Example.com:a/b/c", "https", "gitlab.example.com", 443, "a/b/c");
	check_remote("ssh://git@host.io:2222/g/sub/p.git", "https", "host.io", 443, "g/sub/p");
	check_remote("https://user:tok@gl.corp:8443/g/p.git/", "https", "gl.corp", 8443, "g/p");
	check_remote("http://gl.local/g/p", "http", "gl.local", 80, "g/p");
	check_remote("https://gitlab.com/gitlab-org/gitlab", "https", "gitlab.com", 443,
	             "gitlab-org/gitlab");
}

static void test_remote_rejects(void **state)
{
	(void)state;
	struct vcs_remote r = {0};
	assert_int_equal(vcs_parse_remote("/srv/git/proj.git", &r), -1);
	assert_int_equal(vcs_parse_remote("file:///srv/git/proj.git", &r), -1);
	assert_int_equal(vcs_parse_remote("./rel/path:x", &r), -1);
	assert_int_equal(vcs_parse_remote("https://host", &r), -1);
	assert_null(r.host);
}

/* ---- commit messages ---- */

static void check_split(const char *msg, const char *title, const char *desc)
{
	char *t = vcs_commit_title(msg), *d = vcs_commit_description(msg);
	assert_string_equal(t, title);
	assert_string_equal(d, desc);
	free(t);
	free(d);
}

static void test_commit_split(void **state)
{
	(void)state;
	check_split("Fix it\n", "Fix it", "");
	check_split("Fix it\n\nBecause.\n", "Fix it", "\nBecause.");
	check_split("Title\r\nbody\n", "Title", "body");
	char long_title[120];
	memset(long_title, 'x', 110);
	strcpy(long_title + 110, "\nbody");
	char expect_title[111];
	memset(expect_title, 'x', 110);
	expect_title[110] = '\0';
	check_split(long_title, expect_title, long_title);
}

/* ---- real repositories ---- */

struct repo_fixture {
	char dir[64];
};

static int sh(const char *dir, const char *script)
{
	char *cmd = xasprintf("cd '%s' && (%s) >/dev/null 2>&1", dir, script);
	int r = system(cmd);
	free(cmd);
	return r;
}

#define GIT_ENV                                                                                    \
	"export GIT_AUTHOR_NAME='Ann Author' GIT_AUTHOR_EMAIL=ann@example.org "                    \
	"GIT_COMMITTER_NAME=C GIT_COMMITTER_EMAIL=c@example.org "                                  \
	"GIT_AUTHOR_DATE='2024-02-03T04:05:06+02:00' "                                             \
	"GIT_COMMITTER_DATE='2024-02-03T04:05:06+02:00' GIT_CONFIG_NOSYSTEM=1 HOME=$PWD/.home; "

static int repo_setup(void **state)
{
	struct repo_fixture *f = xcalloc(1, sizeof(*f));
	strcpy(f->dir, "/tmp/runnel-test-vcs-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	assert_int_equal(sh(f->dir, GIT_ENV
	                    "git init -q -b main . && "
	                    "git config user.name 'Una User' && "
	                    "git config user.email una@example.org && "
	                    "printf 'a\\n' > a.txt && mkdir sub && printf 'b\\n' > sub/b.txt && "
	                    "printf 'ign\\n' > .gitignore && printf x > ign && "
	                    "git add . && git commit -q -m 'First commit' -m 'Body text.'"),
	                 0);
	*state = f;
	return 0;
}

static int repo_teardown(void **state)
{
	struct repo_fixture *f = *state;
	char *cmd = xasprintf("rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	free(f);
	return 0;
}

static void test_repo_basic(void **state)
{
	struct repo_fixture *f = *state;
	struct vcs_repo r;
	struct err err = ERR_INIT;
	assert_int_equal(vcs_repo_open(f->dir, VCS_FILES, &r, &err), 0);
	assert_true(r.in_repo);
	assert_string_equal(r.branch, "main");
	assert_non_null(r.sha);
	assert_int_equal(strlen(r.sha), 40);
	assert_string_equal(r.author_name, "Ann Author");
	assert_string_equal(r.author_email, "ann@example.org");
	assert_int_equal(r.commit_time, 1706925906); /* 2024-02-03T02:05:06Z */
	assert_string_equal(r.message, "First commit\n\nBody text.\n");
	assert_null(r.tag);
	assert_string_equal(r.default_branch, "main");
	assert_string_equal(r.default_ref, "refs/heads/main");
	assert_null(r.remote_url);
	assert_string_equal(r.user_name, "Una User");
	assert_true(strvec_find(&r.files, "a.txt") >= 0);
	assert_true(strvec_find(&r.files, "sub/b.txt") >= 0);
	assert_true(strvec_find(&r.files, "ign") < 0);
	assert_int_equal(r.untracked.n, 0);
	vcs_repo_release(&r);
}

static void test_repo_from_subdir_and_tag(void **state)
{
	struct repo_fixture *f = *state;
	assert_int_equal(sh(f->dir, GIT_ENV "git tag -a v1.0 -m release && git tag light && "
	                                    "git remote add origin git@gl.example:grp/Proj.git && "
	                                    "git checkout -q --detach"),
	                 0);
	char *sub = xasprintf("%s/sub", f->dir);
	struct vcs_repo r;
	struct err err = ERR_INIT;
	assert_int_equal(vcs_repo_open(sub, VCS_FILES, &r, &err), 0);
	assert_null(r.branch);
	/* both tags point at HEAD; the annotated one is peeled, the first by name wins */
	assert_string_equal(r.tag, "light");
	assert_string_equal(r.remote_url, "git@gl.example:grp/Proj.git");
	assert_true(strvec_find(&r.files, "a.txt") >= 0); /* whole tree, relative to the root */
	vcs_repo_release(&r);
	free(sub);
}

static void test_repo_master_default_and_changes(void **state)
{
	struct repo_fixture *f = *state;
	assert_int_equal(sh(f->dir,
	                    GIT_ENV "git branch -m main master && "
	                            "git checkout -q -b feature && printf c > c.txt && "
	                            "git add c.txt && git commit -q -m c && printf z >> a.txt && "
	                            "printf n > new.txt"),
	                 0);
	struct vcs_repo r;
	struct err err = ERR_INIT;
	assert_int_equal(vcs_repo_open(f->dir, VCS_FILES, &r, &err), 0);
	assert_string_equal(r.branch, "feature");
	assert_string_equal(r.default_branch, "master");
	assert_string_equal(r.default_ref, "refs/heads/master");
	struct strvec ch = STRVEC_INIT;
	assert_int_equal(vcs_changed_files(&r, &ch, &err), 1);
	assert_int_equal(ch.n, 3);
	assert_true(strvec_find(&ch, "c.txt") >= 0);
	assert_true(strvec_find(&ch, "a.txt") >= 0);
	assert_true(strvec_find(&ch, "new.txt") >= 0);
	assert_int_equal(r.untracked.n, 1);
	strvec_release(&ch);
	vcs_repo_release(&r);
}

/* compare_to: the diff since the merge base with any ref, plus work-tree changes; a ref that
 * names no commit is "unknown" (0), not an error. */
static void test_changed_since_ref(void **state)
{
	struct repo_fixture *f = *state;
	assert_int_equal(sh(f->dir,
	                    GIT_ENV "git tag v1 && git checkout -q -b dev && printf d > d.txt && "
	                            "git add d.txt && git commit -q -m d && git tag v2 && "
	                            "printf e > e.txt && git add e.txt && git commit -q -m e && "
	                            "printf w >> a.txt && printf u > u.txt"),
	                 0);
	struct vcs_repo r;
	struct err err = ERR_INIT;
	assert_int_equal(vcs_repo_open(f->dir, VCS_FILES, &r, &err), 0);
	struct strvec ch = STRVEC_INIT;
	assert_int_equal(vcs_changed_since(&r, "v2", &ch, &err), 1);
	assert_int_equal(ch.n, 3); /* e.txt committed, a.txt unstaged, u.txt untracked */
	assert_true(strvec_find(&ch, "e.txt") >= 0);
	assert_true(strvec_find(&ch, "a.txt") >= 0);
	assert_true(strvec_find(&ch, "u.txt") >= 0);
	assert_true(strvec_find(&ch, "d.txt") < 0);
	strvec_release(&ch);
	assert_int_equal(vcs_changed_since(&r, "refs/tags/v1", &ch, &err), 1);
	assert_true(strvec_find(&ch, "d.txt") >= 0);
	assert_int_equal(ch.n, 4);
	strvec_release(&ch);
	assert_int_equal(vcs_changed_since(&r, "no-such-ref", &ch, &err), 0);
	assert_int_equal(vcs_changed_since(&r, "--output=/tmp/x", &ch, &err), 0);
	assert_int_equal(ch.n, 0);
	assert_false(err_is_set(&err));
	vcs_repo_release(&r);
}

static void test_not_a_repo(void **state)
{
	(void)state;
	char dir[] = "/tmp/runnel-test-novcs-XXXXXX";
	assert_non_null(mkdtemp(dir));
	struct vcs_repo r;
	struct err err = ERR_INIT;
	assert_int_equal(vcs_repo_open(dir, VCS_FILES, &r, &err), 0);
	assert_false(r.in_repo);
	assert_string_equal(r.default_branch, "main");
	assert_null(r.sha);
	assert_non_null(strstr(r.root, "runnel-test-novcs-"));
	struct strvec ch = STRVEC_INIT;
	assert_int_equal(vcs_changed_files(&r, &ch, &err), 0);
	vcs_repo_release(&r);
	rmdir(dir);
}

/* ---- refs and config from the files (vcs/gitfiles.h): byte for byte what git prints ---- */

static void git_output(const char *dir, const char *args, struct strbuf *out)
{
	char *cmd = xasprintf("cd '%s' && git %s 2>/dev/null", dir, args);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	char buf[4096];
	size_t n;
	while ((n = fread(buf, 1, sizeof(buf), p)) > 0)
		strbuf_add(out, buf, n);
	pclose(p);
	free(cmd);
}

#define REFS_ARGS                                                                                  \
	"for-each-ref '--format=%(refname)%00%(symref)%00%(objectname)%00%(*objectname)%00' "      \
	"refs/tags refs/heads refs/remotes/origin"
#define CONFIG_ARGS "config -z --get-regexp '^(user\\.name|user\\.email|remote\\.origin\\.url)$'"

static void expect_refs_like_git(const char *dir, const char *gitdir)
{
	struct strbuf mine = STRBUF_INIT, theirs = STRBUF_INIT;
	assert_int_equal(gitfiles_refs(gitdir, &mine), GITFILES_FOUND);
	git_output(dir, REFS_ARGS, &theirs);
	assert_true(theirs.len > 0);
	assert_int_equal(mine.len, theirs.len);
	assert_memory_equal(mine.buf, theirs.buf, theirs.len);
	strbuf_release(&mine);
	strbuf_release(&theirs);
}

static void test_gitfiles_refs_match_git(void **state)
{
	struct repo_fixture *f = *state;
	_cleanup_free_ char *gitdir = xasprintf("%s/.git", f->dir);
	/* branches (nested names too), origin's refs with its HEAD symref, a lightweight and an
	 * annotated tag, all packed */
	assert_int_equal(sh(f->dir, GIT_ENV "git branch feature/x && git branch zeta && "
	                                    "git update-ref refs/remotes/origin/main HEAD && "
	                                    "git update-ref refs/remotes/upstream/main HEAD && "
	                                    "git symbolic-ref refs/remotes/origin/HEAD "
	                                    "refs/remotes/origin/main && "
	                                    "git tag v1 && git tag -a v2 -m two && "
	                                    "git pack-refs --all"),
	                 0);
	expect_refs_like_git(f->dir, gitdir);
	/* loose refs written after packing win over the packed ones */
	assert_int_equal(sh(f->dir, GIT_ENV "git commit -q --allow-empty -m second && "
	                                    "git branch after-pack && git branch -f zeta HEAD"),
	                 0);
	expect_refs_like_git(f->dir, gitdir);
	/* a loose tag may be annotated: only git can peel it */
	struct strbuf sb = STRBUF_INIT;
	assert_int_equal(sh(f->dir, GIT_ENV "git tag -a v3 -m three"), 0);
	assert_int_equal(gitfiles_refs(gitdir, &sb), GITFILES_ASK_GIT);
	strbuf_release(&sb);
	/* packed again (with peeled lines): the files answer, and the same as git */
	assert_int_equal(sh(f->dir, "git pack-refs --all"), 0);
	expect_refs_like_git(f->dir, gitdir);
}

static void test_gitfiles_config_match_git(void **state)
{
	struct repo_fixture *f = *state;
	_cleanup_free_ char *gitdir = xasprintf("%s/.git", f->dir);
	_cleanup_free_ char *home = xasprintf("%s/.home", f->dir);
	char *old_home = getenv("HOME") ? xstrdup(getenv("HOME")) : NULL;
	char *old_xdg = getenv("XDG_CONFIG_HOME") ? xstrdup(getenv("XDG_CONFIG_HOME")) : NULL;
	setenv("HOME", home, 1);
	unsetenv("XDG_CONFIG_HOME");
	/* global: case-insensitive section and key, an inline comment, trailing blanks; the
	 * repository: a remote subsection and the header on the key's line */
	assert_int_equal(
	    sh(f->dir,
	       "mkdir -p .home/.config/git && "
	       "printf '[User]\\n\\tName = Home Name ; a comment  \\n"
	       "[core]\\n\\teditor = vi\\n' > .home/.gitconfig && "
	       "printf '[user] email=xdg@example.org\\n' > .home/.config/git/config && "
	       "printf '[remote \"origin\"]\\n\\turl = https://gitlab.example.com/g/p.git\\n"
	       "\\tfetch = +refs/heads/*:refs/remotes/origin/*\\n"
	       "[remote \"Origin\"]\\n\\turl = other\\n' >> .git/config"),
	    0);
	struct strbuf mine = STRBUF_INIT, theirs = STRBUF_INIT;
	assert_int_equal(gitfiles_config(gitdir, &mine), GITFILES_FOUND);
	git_output(f->dir, CONFIG_ARGS, &theirs);
	assert_true(theirs.len > 0);
	assert_int_equal(mine.len, theirs.len);
	assert_memory_equal(mine.buf, theirs.buf, theirs.len);
	assert_non_null(memmem(mine.buf, mine.len, "user.name\nHome Name", 19));
	/* quoting and includes are left to git */
	strbuf_reset(&mine);
	assert_int_equal(
	    sh(f->dir, "printf '[user]\\n\\tname = \"Quoted\"\\n' >> .home/.gitconfig"), 0);
	assert_int_equal(gitfiles_config(gitdir, &mine), GITFILES_ASK_GIT);
	strbuf_reset(&mine);
	assert_int_equal(sh(f->dir, "printf '[include]\\n\\tpath = x\\n' > .home/.gitconfig"), 0);
	assert_int_equal(gitfiles_config(gitdir, &mine), GITFILES_ASK_GIT);
	strbuf_release(&mine);
	strbuf_release(&theirs);
	if (old_home)
		setenv("HOME", old_home, 1);
	else
		unsetenv("HOME");
	if (old_xdg)
		setenv("XDG_CONFIG_HOME", old_xdg, 1);
	free(old_home);
	free(old_xdg);
}

/* ---- .git read directly (no git process) ---- */

/* Runs vcs_repo_start with git off PATH: what it learns then came from the files. */
static void start_without_git(const char *dir, struct vcs_repo *r)
{
	char *path = xstrdup(getenv("PATH"));
	struct err err = ERR_INIT;
	setenv("PATH", "/nonexistent-runnel-test", 1);
	assert_int_equal(vcs_repo_start(dir, VCS_FILES, r, &err), 0);
	vcs_repo_finish(r);
	setenv("PATH", path, 1);
	free(path);
}

static void test_repo_files_read_directly(void **state)
{
	struct repo_fixture *f = *state;
	struct vcs_repo r;
	char *sub = xasprintf("%s/sub", f->dir);
	start_without_git(sub, &r);
	assert_true(r.in_repo);
	char *real = realpath(f->dir, NULL);
	assert_string_equal(r.root, real);
	assert_string_equal(r.branch, "main");
	assert_null(r.sha); /* the commit needs git */
	vcs_repo_release(&r);
	/* detached: no branch, as `git symbolic-ref -q HEAD` says */
	assert_int_equal(sh(f->dir, "git checkout -q --detach"), 0);
	start_without_git(f->dir, &r);
	assert_true(r.in_repo);
	assert_null(r.branch);
	vcs_repo_release(&r);
	free(real);
	free(sub);
}

/* Layouts the files do not settle are left to git: without it, no repository is found. */
static void test_repo_unusual_asks_git(void **state)
{
	struct repo_fixture *f = *state;
	struct vcs_repo r;
	struct err err = ERR_INIT;
	assert_int_equal(sh(f->dir, "printf '[include]\\n\\tpath = extra\\n' >> .git/config"), 0);
	start_without_git(f->dir, &r);
	assert_false(r.in_repo);
	vcs_repo_release(&r);
	assert_int_equal(vcs_repo_open(f->dir, VCS_FILES, &r, &err), 0);
	assert_true(r.in_repo);
	assert_string_equal(r.branch, "main");
	vcs_repo_release(&r);
	/* `[core] bare = true` written on one line: git answers (not a work tree) */
	assert_int_equal(sh(f->dir, "git config --unset include.path && "
	                            "printf '[core] bare = true\\n' >> .git/config"),
	                 0);
	start_without_git(f->dir, &r);
	assert_false(r.in_repo);
	vcs_repo_release(&r);
}

/* Started and released without collecting: the children are reaped, nothing leaks. */
static void test_repo_start_release(void **state)
{
	struct repo_fixture *f = *state;
	struct vcs_repo r;
	struct err err = ERR_INIT;
	assert_int_equal(vcs_repo_start(f->dir, VCS_FILES, &r, &err), 0);
	assert_true(r.in_repo);
	assert_non_null(r.pending);
	vcs_repo_release(&r);
	assert_int_equal(vcs_repo_start(f->dir, 0, &r, &err), 0);
	vcs_repo_finish(&r);
	vcs_repo_finish(&r); /* idempotent */
	assert_non_null(r.sha);
	assert_int_equal(r.files.n, 0);
	vcs_repo_release(&r);
}

/* Without VCS_FILES the file list is not asked at start; vcs_repo_files lists it once. */
static void test_repo_files_on_demand(void **state)
{
	struct repo_fixture *f = *state;
	struct vcs_repo r;
	struct err err = ERR_INIT;
	assert_int_equal(vcs_repo_start(f->dir, 0, &r, &err), 0);
	assert_int_equal(sh(f->dir, "printf n > new.txt"), 0);
	assert_int_equal(vcs_repo_files(&r, &err), 0); /* collects the pending queries too */
	assert_null(r.pending);
	assert_non_null(r.sha);
	assert_true(r.files_listed);
	assert_true(strvec_find(&r.files, "a.txt") >= 0);
	assert_true(strvec_find(&r.files, "sub/b.txt") >= 0);
	assert_true(strvec_find(&r.files, "ign") < 0);
	assert_int_equal(r.untracked.n, 1);
	assert_string_equal(r.untracked.v[0], "new.txt");
	/* once: a later file is not seen */
	size_t n = r.files.n;
	assert_int_equal(sh(f->dir, "printf m > later.txt"), 0);
	assert_int_equal(vcs_repo_files(&r, &err), 0);
	assert_int_equal(r.files.n, n);
	vcs_repo_release(&r);
	/* with VCS_FILES the list comes with the other facts */
	assert_int_equal(vcs_repo_open(f->dir, VCS_FILES, &r, &err), 0);
	assert_true(r.files_listed);
	assert_true(strvec_find(&r.files, "later.txt") >= 0);
	vcs_repo_release(&r);
	/* changes against the default branch list the untracked files on demand */
	assert_int_equal(vcs_repo_open(f->dir, 0, &r, &err), 0);
	assert_false(r.files_listed);
	_cleanup_(strvec_release) struct strvec ch = STRVEC_INIT;
	assert_int_equal(vcs_changed_files(&r, &ch, &err), 1);
	assert_true(r.files_listed);
	assert_true(strvec_find(&ch, "new.txt") >= 0);
	assert_true(strvec_find(&ch, "later.txt") >= 0);
	vcs_repo_release(&r);
}

/* ---- pipeline_ctx.complete: the context is filled in after the main file is parsed ---- */

struct completion {
	struct arena *a;
	struct pipeline_ctx *ctx;
	int calls;
	bool fail;
};

static int complete_cb(void *data, struct err *err)
{
	struct completion *c = data;
	c->calls++;
	if (c->fail)
		return err_set(err, ERR_ENV, "git failed");
	var_list_set_kv(c->a, &c->ctx->vars, "CI_COMMIT_BRANCH", "feature");
	return 0;
}

static struct pipeline *load_text(const char *text, struct completion *c, struct err *err)
{
	char path[] = "/tmp/runnel-test-complete-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	struct pipeline_opts po = {0};
	struct pipeline *p = pipeline_load(path, c->ctx, &po, err);
	unlink(path);
	return p;
}

static void test_ctx_complete_hook(void **state)
{
	(void)state;
	struct arena a = ARENA_INIT;
	struct pipeline_ctx ctx = {.project_dir = "."};
	struct completion c = {.a = &a, .ctx = &ctx};
	ctx.complete = complete_cb;
	ctx.complete_data = &c;
	struct err err = ERR_INIT;
	const char *yml = "a:\n  script: x\n  rules:\n    - if: $CI_COMMIT_BRANCH == \"feature\"\n"
	                  "b:\n  script: y\n  rules:\n    - if: $CI_COMMIT_BRANCH == \"main\"\n";
	struct pipeline *p = load_text(yml, &c, &err);
	assert_non_null(p);
	assert_int_equal(c.calls, 1);
	assert_int_equal(p->n_jobs, 1);
	assert_string_equal(p->jobs[0].name, "a");
	pipeline_free(p);
	/* a syntax error in the main file: never needed, never called */
	c.calls = 0;
	assert_null(load_text("a: [\n", &c, &err));
	assert_int_equal(c.calls, 0);
	err_release(&err);
	/* its failure fails the load with its own error */
	c.fail = true;
	assert_null(load_text(yml, &c, &err));
	assert_int_equal(c.calls, 1);
	assert_int_equal(err.kind, ERR_ENV);
	assert_non_null(strstr(err.msg, "git failed"));
	err_release(&err);
	arena_release(&a);
}

/* ---- pipeline_ctx.list_files: the repository's files only when the pipeline needs them ---- */

struct lister {
	struct string_list files;
	int calls;
	bool fail;
};

static int list_cb(void *data, const struct string_list **ret, struct err *err)
{
	struct lister *l = data;
	l->calls++;
	if (l->fail)
		return err_set(err, ERR_ENV, "ls-files failed");
	*ret = &l->files;
	return 0;
}

static void test_ctx_list_files_hook(void **state)
{
	(void)state;
	const char *in_list[] = {"Dockerfile", "docs/a.md"};
	struct lister l = {.files = {.v = in_list, .n = 2}};
	struct err err = ERR_INIT;
	struct arena a = ARENA_INIT;
	/* the project folder does not exist: a scan would find nothing */
	struct pipeline_ctx ctx = {
	    .project_dir = "/nonexistent", .list_files = list_cb, .list_files_data = &l};
	struct completion c = {.a = &a, .ctx = &ctx};
	ctx.complete = complete_cb;
	ctx.complete_data = &c;
	/* no rules:exists, no wildcard include: never asked */
	struct pipeline *p = load_text("a:\n  script: x\n  rules:\n    - changes: [x]\n", &c, &err);
	assert_non_null(p);
	assert_int_equal(l.calls, 0);
	pipeline_free(p);
	/* asked once for all the exists: rules, and its list is what they see */
	p = load_text("a:\n  script: x\n  rules:\n    - exists: [Dockerfile]\n"
	              "b:\n  script: x\n  rules:\n    - exists: [docs/*.md]\n"
	              "c:\n  script: x\n  rules:\n    - exists: [Makefile]\n",
	              &c, &err);
	assert_non_null(p);
	assert_int_equal(l.calls, 1);
	assert_int_equal(p->n_jobs, 2);
	assert_string_equal(p->jobs[0].name, "a");
	assert_string_equal(p->jobs[1].name, "b");
	pipeline_free(p);
	/* its failure fails the load with its own error */
	l.calls = 0;
	l.fail = true;
	assert_null(load_text("a:\n  script: x\n  rules:\n    - exists: [Dockerfile]\n", &c, &err));
	assert_int_equal(l.calls, 1);
	assert_int_equal(err.kind, ERR_ENV);
	assert_non_null(strstr(err.msg, "ls-files failed"));
	err_release(&err);
	arena_release(&a);
}

static void test_vcs_git_status(void **state)
{
	(void)state;
	struct strbuf out = STRBUF_INIT;
	struct err err = ERR_INIT;
	const char *args[] = {"version", NULL};
	assert_int_equal(vcs_git("/", args, &out, &err), 0);
	assert_non_null(strstr(out.buf, "git version"));
	strbuf_reset(&out);
	const char *bad[] = {"no-such-subcommand-xyz", NULL};
	assert_int_not_equal(vcs_git("/", bad, &out, &err), 0);
	assert_false(err_is_set(&err));
	strbuf_release(&out);
}

/* ---- predefined variables ---- */

static struct vcs_repo fake_repo(void)
{
	struct vcs_repo r = {0};
	r.in_repo = true;
	r.root = xstrdup("/home/u/My Proj");
	r.branch = xstrdup("Feature/ABC_123");
	r.sha = xstrdup("0123456789abcdef0123456789abcdef01234567");
	r.message = xstrdup("Title line\n\nMore.\n");
	r.author_name = xstrdup("Ann");
	r.author_email = xstrdup("ann@example.org");
	r.commit_time = 1706925906;
	r.default_branch = xstrdup("main");
	r.remote_url = xstrdup("ssh://git@GitLab.Corp:2222/Group/Sub/App.git");
	r.user_email = xstrdup("una@example.org");
	r.user_name = xstrdup("Una");
	strvec_init(&r.files);
	strvec_init(&r.untracked);
	return r;
}

#define V(k) var_list_value(&vars, k)

static void test_predefined_branch(void **state)
{
	(void)state;
	struct vcs_repo r = fake_repo();
	struct arena a = ARENA_INIT;
	struct var_list vars = {0}, job = {0};
	struct vcs_ref_opts o = {.branch = r.branch, .now = 0};
	vcs_predefined_vars(&r, &o, &a, &vars, &job);
	assert_string_equal(V("CI_COMMIT_BRANCH"), "Feature/ABC_123");
	assert_string_equal(V("CI_COMMIT_REF_NAME"), "Feature/ABC_123");
	assert_string_equal(V("CI_COMMIT_REF_SLUG"), "feature-abc-123");
	assert_null(V("CI_COMMIT_TAG"));
	assert_string_equal(V("CI_COMMIT_SHORT_SHA"), "01234567");
	assert_string_equal(V("CI_COMMIT_TITLE"), "Title line");
	assert_string_equal(V("CI_COMMIT_DESCRIPTION"), "\nMore.");
	assert_string_equal(V("CI_COMMIT_TIMESTAMP"), "2024-02-03T02:05:06Z");
	assert_string_equal(V("CI_COMMIT_AUTHOR"), "Ann <ann@example.org>");
	assert_string_equal(V("CI_COMMIT_BEFORE_SHA"), "0000000000000000000000000000000000000000");
	assert_string_equal(V("CI_COMMIT_REF_PROTECTED"), "false");
	assert_string_equal(V("CI_SERVER_URL"), "https://gitlab.corp");
	assert_string_equal(V("CI_SERVER_FQDN"), "gitlab.corp");
	assert_string_equal(V("CI_API_V4_URL"), "https://gitlab.corp/api/v4");
	assert_string_equal(V("CI_PROJECT_PATH"), "Group/Sub/App");
	assert_string_equal(V("CI_PROJECT_PATH_SLUG"), "group-sub-app");
	assert_string_equal(V("CI_PROJECT_NAMESPACE"), "Group/Sub");
	assert_string_equal(V("CI_PROJECT_ROOT_NAMESPACE"), "Group");
	assert_string_equal(V("CI_PROJECT_NAME"), "App");
	assert_string_equal(V("CI_PROJECT_URL"), "https://gitlab.corp/Group/Sub/App");
	assert_string_equal(V("CI_REGISTRY_IMAGE"), "registry.gitlab.corp/group/sub/app");
	assert_string_equal(V("CI_PIPELINE_SOURCE"), "push");
	assert_string_equal(V("CI_PIPELINE_CREATED_AT"), "1970-01-01T00:00:00Z");
	assert_string_equal(V("GITLAB_USER_LOGIN"), "una");
	assert_string_equal(V("CI"), "true");
	/* job-only variables stay out of what rules can read */
	assert_null(V("CI_PIPELINE_ID"));
	assert_string_equal(var_list_value(&job, "CI_PIPELINE_ID"), "1");
	assert_string_equal(var_list_value(&job, "CI_PROJECT_DIR"), "/builds/Group/Sub/App");
	arena_release(&a);
	vcs_repo_release(&r);
}

static void test_predefined_tag_and_mr(void **state)
{
	(void)state;
	struct vcs_repo r = fake_repo();
	struct arena a = ARENA_INIT;
	struct var_list vars = {0}, job = {0};
	struct vcs_ref_opts o = {.tag = "v1.2.3", .source = "web"};
	vcs_predefined_vars(&r, &o, &a, &vars, &job);
	assert_null(V("CI_COMMIT_BRANCH"));
	assert_string_equal(V("CI_COMMIT_TAG"), "v1.2.3");
	assert_string_equal(V("CI_COMMIT_REF_NAME"), "v1.2.3");
	assert_string_equal(V("CI_COMMIT_REF_SLUG"), "v1-2-3");
	assert_string_equal(V("CI_PIPELINE_SOURCE"), "web");
	assert_null(V("CI_MERGE_REQUEST_IID"));

	struct var_list mr = {0}, mrjob = {0};
	struct vcs_ref_opts m = {.branch = "feat", .source = "merge_request_event"};
	vcs_predefined_vars(&r, &m, &a, &mr, &mrjob);
	assert_null(var_list_value(&mr, "CI_COMMIT_BRANCH"));
	assert_string_equal(var_list_value(&mr, "CI_COMMIT_REF_NAME"), "feat");
	assert_string_equal(var_list_value(&mr, "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME"), "feat");
	assert_string_equal(var_list_value(&mr, "CI_MERGE_REQUEST_TARGET_BRANCH_NAME"), "main");
	assert_string_equal(var_list_value(&mr, "CI_MERGE_REQUEST_IID"), "1");
	assert_string_equal(var_list_value(&mr, "CI_MERGE_REQUEST_TITLE"), "Title line");
	arena_release(&a);
	vcs_repo_release(&r);
}

static void test_predefined_no_remote(void **state)
{
	(void)state;
	struct vcs_repo r = fake_repo();
	free(r.remote_url);
	r.remote_url = NULL;
	struct arena a = ARENA_INIT;
	struct var_list vars = {0}, job = {0};
	struct vcs_ref_opts o = {.branch = "main"};
	vcs_predefined_vars(&r, &o, &a, &vars, &job);
	assert_string_equal(V("CI_PROJECT_PATH"), "local/My Proj");
	assert_string_equal(V("CI_PROJECT_PATH_SLUG"), "local-my-proj");
	assert_string_equal(V("CI_SERVER_HOST"), "gitlab.example.com");
	assert_string_equal(V("CI_REGISTRY_IMAGE"), "registry.gitlab.example.com/local/my proj");
	assert_string_equal(V("CI_COMMIT_REF_PROTECTED"), "true");
	assert_string_equal(V("CI_DEFAULT_BRANCH"), "main");
	arena_release(&a);
	vcs_repo_release(&r);
}

static void test_sources(void **state)
{
	(void)state;
	assert_true(vcs_source_valid("push"));
	assert_true(vcs_source_valid("merge_request_event"));
	assert_true(vcs_source_valid("schedule"));
	assert_false(vcs_source_valid("pushh"));
	assert_false(vcs_source_valid(""));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_remote_forms),
	    cmocka_unit_test(test_remote_rejects),
	    cmocka_unit_test(test_commit_split),
	    cmocka_unit_test_setup_teardown(test_repo_basic, repo_setup, repo_teardown),
	    cmocka_unit_test_setup_teardown(test_repo_from_subdir_and_tag, repo_setup,
	                                    repo_teardown),
	    cmocka_unit_test_setup_teardown(test_repo_master_default_and_changes, repo_setup,
	                                    repo_teardown),
	    cmocka_unit_test_setup_teardown(test_changed_since_ref, repo_setup, repo_teardown),
	    cmocka_unit_test(test_not_a_repo),
	    cmocka_unit_test(test_vcs_git_status),
	    cmocka_unit_test_setup_teardown(test_repo_files_read_directly, repo_setup,
	                                    repo_teardown),
	    cmocka_unit_test_setup_teardown(test_repo_unusual_asks_git, repo_setup, repo_teardown),
	    cmocka_unit_test_setup_teardown(test_repo_start_release, repo_setup, repo_teardown),
	    cmocka_unit_test(test_ctx_complete_hook),
	    cmocka_unit_test(test_ctx_list_files_hook),
	    cmocka_unit_test_setup_teardown(test_repo_files_on_demand, repo_setup, repo_teardown),
	    cmocka_unit_test_setup_teardown(test_gitfiles_refs_match_git, repo_setup,
	                                    repo_teardown),
	    cmocka_unit_test_setup_teardown(test_gitfiles_config_match_git, repo_setup,
	                                    repo_teardown),
	    cmocka_unit_test(test_predefined_branch),
	    cmocka_unit_test(test_predefined_tag_and_mr),
	    cmocka_unit_test(test_predefined_no_remote),
	    cmocka_unit_test(test_sources),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
