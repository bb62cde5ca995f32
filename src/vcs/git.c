/* git: reads the facts of the local repository. The work tree's root and the checked-out
 * branch come from the files of `.git` when that is exactly what git would say (a plain
 * repository); the rest (HEAD commit, refs, config, files) from git child processes that
 * vcs_repo_start starts together and vcs_repo_finish collects, so that the caller parses the
 * pipeline meanwhile: the listing benchmark has a 20 ms budget for the whole command, about
 * what three git start-ups in a row cost. */
#include "vcs/git.h"
#include "vcs/gitfiles.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <strings.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

extern char **environ;

/* One running git process whose stdout we read. */
struct git_proc {
	pid_t pid; /* -1 when it could not be started */
	int fd;
};

#define GIT_MAX_ARGS 24

/* The file posix_spawnp would run for "git" (execvp's PATH search), owned, or NULL (no PATH,
 * an empty entry, not found): then posix_spawnp searches. Starting several gits with the
 * absolute path spares each child the failed execve calls of the PATH entries before git's
 * directory, which the parent waits for (posix_spawn returns once the child has exec'ed). */
static char *find_git(void)
{
	const char *p = getenv("PATH");
	while (p && *p) {
		size_t n = strcspn(p, ":");
		if (!n)
			return NULL;
		char *f = xasprintf("%.*s/git", (int)n, p);
		struct stat st;
		if (stat(f, &st) == 0 && S_ISREG(st.st_mode) && access(f, X_OK) == 0)
			return f;
		free(f);
		p += n + (p[n] == ':');
	}
	return NULL;
}

/* Starts `git -C dir args...` (prog: git's path, or NULL to search PATH). */
static int git_start(const char *prog, const char *dir, const char *const *args,
                     struct git_proc *gp, struct err *err)
{
	const char *argv[GIT_MAX_ARGS + 4] = {"git", "-C", dir};
	size_t n = 3;
	for (size_t i = 0; args[i]; i++) {
		if (n >= GIT_MAX_ARGS + 3)
			return err_set(err, ERR_INTERNAL, "too many git arguments");
		argv[n++] = args[i];
	}
	argv[n] = NULL;

	int pfd[2];
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return err_sys(err, errno, "cannot create a pipe for git");
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, pfd[1], STDOUT_FILENO);
	posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	pid_t pid;
	int r = prog ? posix_spawn(&pid, prog, &fa, NULL, (char *const *)argv, environ)
	             : posix_spawnp(&pid, "git", &fa, NULL, (char *const *)argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(pfd[1]);
	if (r != 0) {
		/* git missing behaves like "not a repository": the caller falls back to defaults */
		close(pfd[0]);
		gp->pid = -1;
		gp->fd = -1;
		return 0;
	}
	gp->pid = pid;
	gp->fd = pfd[0];
	return 0;
}

/* Reads everything, reaps the child. Returns its exit status, 127 if it never started. */
static int git_finish(struct git_proc *gp, struct strbuf *out)
{
	if (gp->pid < 0)
		return 127;
	for (;;) {
		strbuf_grow(out, 8192);
		ssize_t k = read(gp->fd, out->buf + out->len, out->alloc - out->len - 1);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		strbuf_setlen(out, out->len + (size_t)k);
	}
	close(gp->fd);
	int status = 0;
	while (waitpid(gp->pid, &status, 0) < 0 && errno == EINTR)
		;
	gp->pid = -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

int vcs_git(const char *dir, const char *const *args, struct strbuf *out, struct err *err)
{
	struct git_proc gp;
	if (git_start(NULL, dir, args, &gp, err) < 0)
		return -1;
	return git_finish(&gp, out);
}

/* First line of s without the newline, owned; NULL when empty. */
static char *first_line(const char *s)
{
	size_t n = strcspn(s, "\n");
	return n ? xstrndup(s, n) : NULL;
}

/* log -1 output: sha NUL author NUL email NUL time NUL message. */
static void parse_log(struct vcs_repo *r, const struct strbuf *sb)
{
	const char *fields[5] = {0};
	const char *p = sb->buf, *end = sb->buf + sb->len;
	for (int i = 0; i < 5 && p < end; i++) {
		fields[i] = p;
		p += strlen(p) + 1;
	}
	if (!fields[4] || strlen(fields[0]) != 40)
		return;
	r->sha = xstrdup(fields[0]);
	r->author_name = xstrdup(fields[1]);
	r->author_email = xstrdup(fields[2]);
	r->commit_time = strtoll(fields[3], NULL, 10);
	free(r->message);
	/* --format is a terminator format: drop the newline git adds after the message */
	size_t n = strlen(fields[4]);
	r->message = xstrndup(fields[4], n && fields[4][n - 1] == '\n' ? n - 1 : n);
}

struct ref_facts {
	char *origin_head;     /* owned: short name origin/HEAD points to */
	struct strvec heads;   /* local branch short names */
	struct strvec remotes; /* origin/<name> short names (without "origin/") */
};

static void take_ref(struct vcs_repo *r, struct ref_facts *rf, const char *name, const char *symref,
                     const char *oid, const char *peeled)
{
	const char *target = *peeled ? peeled : oid;
	if (!strncmp(name, "refs/tags/", 10)) {
		/* for-each-ref sorts by name, so the first match is the smallest tag name */
		if (!r->tag && r->sha && !strcmp(target, r->sha))
			r->tag = xstrdup(name + 10);
	} else if (!strncmp(name, "refs/heads/", 11)) {
		strvec_push(&rf->heads, name + 11);
	} else if (!strcmp(name, "refs/remotes/origin/HEAD")) {
		if (!strncmp(symref, "refs/remotes/origin/", 20))
			rf->origin_head = xstrdup(symref + 20);
	} else if (!strncmp(name, "refs/remotes/origin/", 20)) {
		strvec_push(&rf->remotes, name + 20);
	}
}

/* for-each-ref records: refname NUL symref NUL objectname NUL peeled NUL NL */
static void parse_refs(struct vcs_repo *r, struct ref_facts *rf, const struct strbuf *sb)
{
	const char *p = sb->buf, *end = sb->buf + sb->len;
	while (p < end) {
		const char *f[4];
		for (int i = 0; i < 4; i++) {
			f[i] = p < end ? p : "";
			p += strlen(p) + 1;
		}
		if (p < end && *p == '\n')
			p++;
		take_ref(r, rf, f[0], f[1], f[2], f[3]);
	}
}

/* The default branch: origin/HEAD, else main, else master (GitLab's own default for new
 * projects is main; repositories created before 2021 often only have master). */
static void pick_default_branch(struct vcs_repo *r, const struct ref_facts *rf)
{
	const char *d = rf->origin_head;
	if (!d) {
		bool main_ =
		    strvec_find(&rf->heads, "main") >= 0 || strvec_find(&rf->remotes, "main") >= 0;
		bool master = strvec_find(&rf->heads, "master") >= 0 ||
		              strvec_find(&rf->remotes, "master") >= 0;
		d = !main_ && master ? "master" : "main";
	}
	r->default_branch = xstrdup(d);
	if (strvec_find(&rf->heads, d) >= 0)
		r->default_ref = xasprintf("refs/heads/%s", d);
	else if (strvec_find(&rf->remotes, d) >= 0)
		r->default_ref = xasprintf("refs/remotes/origin/%s", d);
}

/* config -z --get-regexp records: key NL value NUL */
static void parse_config(struct vcs_repo *r, const struct strbuf *sb)
{
	const char *p = sb->buf, *end = sb->buf + sb->len;
	while (p < end) {
		const char *nl = strchr(p, '\n');
		size_t rec = strlen(p);
		if (nl && nl < p + rec) {
			char **slot = NULL;
			size_t klen = (size_t)(nl - p);
			if (klen == 9 && !strncmp(p, "user.name", 9))
				slot = &r->user_name;
			else if (klen == 10 && !strncmp(p, "user.email", 10))
				slot = &r->user_email;
			else if (klen == 17 && !strncmp(p, "remote.origin.url", 17))
				slot = &r->remote_url;
			/* the last value wins, as `git config --get` does */
			if (slot) {
				free(*slot);
				*slot = xstrdup(nl + 1);
			}
		}
		p += rec + 1;
	}
}

/* ls-files -t -z records: "<tag> <path>" NUL; tag '?' = untracked. */
static void parse_files(struct vcs_repo *r, const struct strbuf *sb)
{
	const char *p = sb->buf, *end = sb->buf + sb->len;
	while (p < end) {
		size_t rec = strlen(p);
		if (rec > 2) {
			strvec_push(&r->files, p + 2);
			if (p[0] == '?')
				strvec_push(&r->untracked, p + 2);
		}
		p += rec + 1;
	}
}

static void repo_defaults(struct vcs_repo *r, const char *dir)
{
	char *abs = realpath(dir, NULL);
	r->root = abs ? abs : xstrdup(dir);
	r->default_branch = xstrdup("main");
}

enum { Q_TOP, Q_HEAD, Q_LOG, Q_REFS, Q_CONFIG, Q_FILES, Q_N };

static const char *const *query_args(int q)
{
	static const char *const top[] = {"rev-parse", "--show-toplevel", NULL};
	static const char *const head[] = {"symbolic-ref", "-q", "HEAD", NULL};
	static const char *const log[] = {"log", "-1", "--no-show-signature",
	                                  "--format=%H%x00%an%x00%ae%x00%ct%x00%B", NULL};
	static const char *const refs[] = {
	    "for-each-ref",
	    "--format=%(refname)%00%(symref)%00%(objectname)%00%(*objectname)%00",
	    "refs/tags",
	    "refs/heads",
	    "refs/remotes/origin",
	    NULL};
	static const char *const config[] = {"config", "-z", "--get-regexp",
	                                     "^(user\\.name|user\\.email|remote\\.origin\\.url)$",
	                                     NULL};
	static const char *const files[] = {"ls-files",           "-z",          "-t", "-c", "-o",
	                                    "--exclude-standard", "--full-name", "--", ":/", NULL};
	static const char *const *const all[Q_N] = {top, head, log, refs, config, files};
	return all[q];
}

static void collect(struct vcs_repo *r, struct strbuf *out, const int *rc)
{
	struct ref_facts rf = {.origin_head = NULL, .heads = STRVEC_INIT, .remotes = STRVEC_INIT};
	if (rc[Q_HEAD] == 0 && !strncmp(out[Q_HEAD].buf, "refs/heads/", 11))
		r->branch = first_line(out[Q_HEAD].buf + 11);
	if (rc[Q_LOG] == 0)
		parse_log(r, &out[Q_LOG]);
	if (rc[Q_REFS] == 0)
		parse_refs(r, &rf, &out[Q_REFS]);
	pick_default_branch(r, &rf);
	free(rf.origin_head);
	strvec_release(&rf.heads);
	strvec_release(&rf.remotes);
	if (rc[Q_CONFIG] == 0 || rc[Q_CONFIG] == 1)
		parse_config(r, &out[Q_CONFIG]);
	if (rc[Q_FILES] == 0)
		parse_files(r, &out[Q_FILES]);
}

/* ---- reading .git directly ----
 * `git rev-parse --show-toplevel` and `git symbolic-ref HEAD` cost a process each (~2 ms of a
 * 20 ms budget) for facts that a plain repository states in two files. They are read here only
 * where that is exactly what git would answer; anything unusual (git environment overrides,
 * `.git` files of worktrees and submodules, core.worktree, core.bare, config includes,
 * extensions such as reftable, another owner, a file system boundary, not found) is left to
 * git itself. */

enum { FOUND = 1, ASK_GIT = 0 };

/* Variables that change where git looks for the repository or what its config says. */
static bool git_env_overrides(void)
{
	static const char *const vars[] = {
	    "GIT_DIR",          "GIT_WORK_TREE",         "GIT_CEILING_DIRECTORIES",
	    "GIT_COMMON_DIR",   "GIT_CONFIG_PARAMETERS", "GIT_DISCOVERY_ACROSS_FILESYSTEM",
	    "GIT_CONFIG_COUNT", "GIT_OBJECT_DIRECTORY",  "GIT_NAMESPACE",
	};
	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		if (getenv(vars[i]))
			return true;
	return false;
}

static bool is_dir_at(const char *dir, const char *name)
{
	_cleanup_free_ char *p = xasprintf("%s/%s", dir, name);
	struct stat st;
	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* What git's is_git_directory() checks first: HEAD, objects/ and refs/. */
static bool looks_like_git_dir(const char *dir)
{
	_cleanup_free_ char *head = xasprintf("%s/HEAD", dir);
	struct stat st;
	return lstat(head, &st) == 0 && is_dir_at(dir, "objects") && is_dir_at(dir, "refs");
}

static bool cfg_false(const char *v, size_t n)
{
	static const char *const no[] = {"false", "no", "off", "0"};
	for (size_t i = 0; i < 4; i++)
		if (strlen(no[i]) == n && !strncasecmp(v, no[i], n))
			return true;
	return false;
}

/* One `key = value` line of section `sect` (both lower-cased by the caller where git is
 * case-insensitive). Returns true when it changes what discovery or HEAD mean. */
static bool cfg_line_unusual(const char *sect, const char *line)
{
	size_t klen = strcspn(line, " \t=\r\n");
	const char *v = line + klen;
	v += strspn(v, " \t=");
	size_t vlen = strcspn(v, " \t\r\n;#");
	if (!strcmp(sect, "core") && klen == 8 && !strncasecmp(line, "worktree", 8))
		return true;
	return !strcmp(sect, "core") && klen == 4 && !strncasecmp(line, "bare", 4) &&
	       !cfg_false(v, vlen);
}

/* Whether the repository config (gitdir/config) leaves the plain layout: core.worktree,
 * core.bare, includes, any extension (reftable, sha256, worktreeConfig). */
static bool config_unusual(const char *gitdir)
{
	_cleanup_free_ char *path = xasprintf("%s/config", gitdir);
	_cleanup_(strbuf_release) struct strbuf sb = STRBUF_INIT;
	if (gitfiles_read(path, &sb) < 0)
		return true;
	char sect[32] = "";
	for (const char *p = sb.buf; *p;) {
		size_t len = strcspn(p, "\n");
		const char *line = p + strspn(p, " \t");
		p += len + (p[len] == '\n');
		if (*line == '[') {
			size_t n = strcspn(line + 1, " \t].\"");
			if (n >= sizeof(sect))
				n = sizeof(sect) - 1;
			for (size_t i = 0; i < n; i++)
				sect[i] = (char)tolower((unsigned char)line[1 + i]);
			sect[n] = '\0';
			if (!strncmp(sect, "include", 7) || !strcmp(sect, "extensions"))
				return true;
			/* `[core] bare = true` on one line */
			const char *close = memchr(line, ']', len);
			if (close && cfg_line_unusual(sect, close + 1 + strspn(close + 1, " \t")))
				return true;
		} else if (cfg_line_unusual(sect, line)) {
			return true;
		}
	}
	return false;
}

/* Owned by the current user, as git's safe.directory check requires (else git decides). */
static bool owned_by_me(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && st.st_uid == geteuid();
}

/* The work tree holding `start` (an absolute real path) and its `.git` directory, as git's
 * discovery finds them. Returns FOUND with both set (owned), or ASK_GIT. */
static int find_git_dir(const char *start, char **ret_root, char **ret_gitdir)
{
	struct stat st0, st;
	if (git_env_overrides() || stat(start, &st0) < 0)
		return ASK_GIT;
	_cleanup_free_ char *d = xstrdup(start);
	for (;;) {
		_cleanup_free_ char *dotgit = xasprintf("%s/.git", strcmp(d, "/") ? d : "");
		if (lstat(dotgit, &st) == 0) {
			if (!S_ISDIR(st.st_mode) || !looks_like_git_dir(dotgit) ||
			    !owned_by_me(dotgit) || !owned_by_me(d) || config_unusual(dotgit))
				return ASK_GIT;
			*ret_root = TAKE_PTR(d);
			*ret_gitdir = TAKE_PTR(dotgit);
			return FOUND;
		}
		/* inside a .git directory or a bare repository; a mount point; the top */
		if (errno != ENOENT || looks_like_git_dir(d) || stat(d, &st) < 0 ||
		    st.st_dev != st0.st_dev || !strcmp(d, "/"))
			return ASK_GIT;
		char *slash = strrchr(d, '/');
		if (slash == d)
			slash[1] = '\0';
		else
			*slash = '\0';
	}
}

/* The checked-out branch from gitdir/HEAD, as `git symbolic-ref -q HEAD` reports it. Returns
 * FOUND (*ret_branch owned, NULL when detached) or ASK_GIT. */
static int read_head(const char *gitdir, char **ret_branch)
{
	_cleanup_free_ char *path = xasprintf("%s/HEAD", gitdir);
	_cleanup_(strbuf_release) struct strbuf sb = STRBUF_INIT;
	if (gitfiles_read(path, &sb) < 0)
		return ASK_GIT;
	strbuf_rtrim(&sb);
	if (sb.len == 40 && strspn(sb.buf, "0123456789abcdef") == 40) {
		*ret_branch = NULL;
		return FOUND;
	}
	if (strncmp(sb.buf, "ref: refs/heads/", 16) || !sb.buf[16] || strchr(sb.buf, '\n'))
		return ASK_GIT;
	/* the branch ref itself may be symbolic (symbolic-ref follows it): then ask git */
	_cleanup_free_ char *ref = xasprintf("%s/%s", gitdir, sb.buf + 5);
	_cleanup_(strbuf_release) struct strbuf target = STRBUF_INIT;
	struct stat st;
	if (lstat(ref, &st) == 0 && (!S_ISREG(st.st_mode) || gitfiles_read(ref, &target) < 0 ||
	                             !strncmp(target.buf, "ref:", 4)))
		return ASK_GIT;
	*ret_branch = xstrdup(sb.buf + 16);
	return FOUND;
}

/* ---- running the queries ---- */

struct vcs_pending {
	struct git_proc gp[Q_N];
	bool started[Q_N];
	struct strbuf direct[Q_N]; /* answers read from the files (vcs/gitfiles.h) */
	bool have_direct[Q_N];
};

/* Q_REFS and Q_CONFIG from the repository's files when that is exact: a git process less each. */
static bool answer_from_files(int q, const char *gitdir, struct vcs_pending *pd)
{
	if (!gitdir || (q != Q_REFS && q != Q_CONFIG))
		return false;
	strbuf_init(&pd->direct[q], 0);
	int r = q == Q_REFS ? gitfiles_refs(gitdir, &pd->direct[q])
	                    : gitfiles_config(gitdir, &pd->direct[q]);
	pd->have_direct[q] = r == GITFILES_FOUND;
	if (!pd->have_direct[q])
		strbuf_release(&pd->direct[q]);
	return pd->have_direct[q];
}

/* root and in_repo: from the files when exact, else `git rev-parse --show-toplevel`. Sets
 * *ret_gitdir (owned) when .git was read directly. Returns 0, or -1 with err. */
static int find_root(struct vcs_repo *r, const char *dir, char **ret_gitdir, struct err *err)
{
	_cleanup_free_ char *start = realpath(dir, NULL);
	if (start && find_git_dir(start, &r->root, ret_gitdir) == FOUND) {
		r->in_repo = true;
		return 0;
	}
	_cleanup_(strbuf_release) struct strbuf out = STRBUF_INIT;
	int rc = vcs_git(dir, query_args(Q_TOP), &out, err);
	if (rc < 0)
		return -1;
	if (rc == 0 && out.len > 1) {
		r->in_repo = true;
		r->root = first_line(out.buf);
	}
	return 0;
}

int vcs_repo_start(const char *dir, unsigned flags, struct vcs_repo *ret, struct err *err)
{
	memset(ret, 0, sizeof(*ret));
	ret->message = xstrdup("");
	strvec_init(&ret->files);
	strvec_init(&ret->untracked);
	_cleanup_free_ char *gitdir = NULL;
	if (find_root(ret, dir, &gitdir, err) < 0)
		return -1;
	if (!ret->in_repo) {
		repo_defaults(ret, dir);
		return 0;
	}
	struct vcs_pending *pd = xcalloc(1, sizeof(*pd));
	ret->pending = pd;
	bool head_known = gitdir && read_head(gitdir, &ret->branch) == FOUND;
	_cleanup_free_ char *prog = find_git();
	for (int q = Q_HEAD; q < Q_N; q++) {
		if ((q == Q_HEAD && head_known) || (q == Q_FILES && !(flags & VCS_FILES)) ||
		    answer_from_files(q, gitdir, pd))
			continue;
		if (git_start(prog, ret->root, query_args(q), &pd->gp[q], err) < 0)
			return -1;
		pd->started[q] = true;
	}
	return 0;
}

void vcs_repo_finish(struct vcs_repo *r)
{
	struct vcs_pending *pd = r->pending;
	if (!pd)
		return;
	struct strbuf out[Q_N];
	int rc[Q_N];
	for (int q = 0; q < Q_N; q++) {
		strbuf_init(&out[q], 0);
		if (pd->have_direct[q]) {
			strbuf_release(&out[q]);
			out[q] = pd->direct[q]; /* moved */
			pd->have_direct[q] = false;
			rc[q] = 0;
			continue;
		}
		rc[q] = pd->started[q] ? git_finish(&pd->gp[q], &out[q]) : 127;
	}
	collect(r, out, rc);
	if (pd->started[Q_FILES])
		r->files_listed = true;
	for (int q = 0; q < Q_N; q++)
		strbuf_release(&out[q]);
	free(pd);
	r->pending = NULL;
}

int vcs_repo_files(struct vcs_repo *r, struct err *err)
{
	vcs_repo_finish(r);
	if (r->files_listed || !r->in_repo)
		return 0;
	_cleanup_(strbuf_release) struct strbuf out = STRBUF_INIT;
	int rc = vcs_git(r->root, query_args(Q_FILES), &out, err);
	if (rc < 0)
		return -1;
	if (rc == 0)
		parse_files(r, &out);
	r->files_listed = true;
	return 0;
}

int vcs_repo_open(const char *dir, unsigned flags, struct vcs_repo *ret, struct err *err)
{
	if (vcs_repo_start(dir, flags, ret, err) < 0)
		return -1;
	vcs_repo_finish(ret);
	return 0;
}

/* Closes the pipes of queries nobody collected and reaps them. */
static void pending_release(struct vcs_pending *pd)
{
	if (!pd)
		return;
	for (int q = 0; q < Q_N; q++) {
		if (pd->have_direct[q])
			strbuf_release(&pd->direct[q]);
		if (!pd->started[q] || pd->gp[q].pid < 0)
			continue;
		close(pd->gp[q].fd);
		while (waitpid(pd->gp[q].pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	free(pd);
}

void vcs_repo_release(struct vcs_repo *r)
{
	if (!r)
		return;
	free(r->root);
	free(r->branch);
	free(r->sha);
	free(r->message);
	free(r->author_name);
	free(r->author_email);
	free(r->tag);
	free(r->default_branch);
	free(r->default_ref);
	free(r->remote_url);
	free(r->user_name);
	free(r->user_email);
	pending_release(r->pending);
	strvec_release(&r->files);
	strvec_release(&r->untracked);
	memset(r, 0, sizeof(*r));
}

static void push_nul_list(struct strvec *ret, const struct strbuf *sb)
{
	for (const char *p = sb->buf; p < sb->buf + sb->len; p += strlen(p) + 1)
		if (*p)
			strvec_push(ret, p);
}

int vcs_changed_files(struct vcs_repo *r, struct strvec *ret, struct err *err)
{
	if (!r->default_ref)
		return 0;
	return vcs_changed_since(r, r->default_ref, ret, err);
}

int vcs_changed_since(struct vcs_repo *r, const char *ref, struct strvec *ret, struct err *err)
{
	if (!r->in_repo || !r->sha || !ref || !*ref || ref[0] == '-')
		return 0;
	/* the ref must name a commit: "ref^{commit}" also rejects trees, blobs and typos */
	_cleanup_free_ char *peeled = xasprintf("%s^{commit}", ref);
	const char *check[] = {"rev-parse",        "--verify", "--quiet",
	                       "--end-of-options", peeled,     NULL};
	_cleanup_(strbuf_release) struct strbuf sha = STRBUF_INIT;
	int vrc = vcs_git(r->root, check, &sha, err);
	if (vrc < 0)
		return -1;
	if (vrc != 0)
		return 0;
	strbuf_rtrim(&sha);
	/* --merge-base: the work tree against merge-base(ref, HEAD), i.e. what the branch
	 * changed since it forked, committed or not (git >= 2.30) */
	const char *args[] = {
	    "diff",  "--name-only", "-z", "--no-renames", "--no-ext-diff", "--merge-base",
	    sha.buf, "--",          NULL};
	_cleanup_(strbuf_release) struct strbuf out = STRBUF_INIT;
	int rc = vcs_git(r->root, args, &out, err);
	if (rc < 0)
		return -1;
	if (rc != 0)
		return 0;
	/* git diff only reports tracked files: untracked ones are all new, hence changed */
	if (vcs_repo_files(r, err) < 0)
		return -1;
	push_nul_list(ret, &out);
	for (size_t i = 0; i < r->untracked.n; i++)
		strvec_push(ret, r->untracked.v[i]);
	return 1;
}

/* ---- remote URLs ---- */

static char *lower_dup(const char *s, size_t n)
{
	char *d = xstrndup(s, n);
	for (char *p = d; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return d;
}

/* "group/proj.git/" -> "group/proj" (owned), NULL when empty. */
static char *clean_path(const char *p)
{
	while (*p == '/')
		p++;
	size_t n = strlen(p);
	while (n && p[n - 1] == '/')
		n--;
	if (n > 4 && !strncmp(p + n - 4, ".git", 4))
		n -= 4;
	return n ? xstrndup(p, n) : NULL;
}

/* Splits "[user@]host[:port]" of a URL authority. */
static int split_authority(const char *auth, size_t len, struct vcs_remote *r, bool web)
{
	const char *at = memrchr(auth, '@', len);
	if (at) {
		len -= (size_t)(at + 1 - auth);
		auth = at + 1;
	}
	const char *colon = memchr(auth, ':', len);
	size_t hlen = colon ? (size_t)(colon - auth) : len;
	if (!hlen)
		return -1;
	r->host = lower_dup(auth, hlen);
	if (web && colon) {
		char *port_end;
		long port = strtol(colon + 1, &port_end, 10);
		if (port > 0 && port < 65536 && port_end == auth + len)
			r->port = (int)port;
	}
	return 0;
}

int vcs_parse_remote(const char *url, struct vcs_remote *ret)
{
	struct vcs_remote r = {0};
	const char *rest = NULL;
	bool web = false;
	const char *sep = strstr(url, "://");
	if (sep) {
		size_t slen = (size_t)(sep - url);
		web = (slen == 4 && !strncmp(url, "http", 4)) ||
		      (slen == 5 && !strncmp(url, "https", 5));
		bool ssh = (slen == 3 && !strncmp(url, "ssh", 3)) ||
		           (slen == 7 && !strncmp(url, "git+ssh", 7)) ||
		           (slen == 3 && !strncmp(url, "git", 3));
		if (!web && !ssh)
			return -1;
		r.protocol = xstrdup(slen == 4 && web ? "http" : "https");
		r.port = slen == 4 && web ? 80 : 443;
		const char *auth = sep + 3;
		size_t alen = strcspn(auth, "/");
		if (split_authority(auth, alen, &r, web) < 0)
			goto fail;
		rest = auth + alen;
	} else {
		/* scp-like syntax: [user@]host:path, as git defines it (no slash before the colon)
		 */
		const char *colon = strchr(url, ':');
		if (!colon || memchr(url, '/', (size_t)(colon - url)))
			return -1;
		r.protocol = xstrdup("https");
		r.port = 443;
		if (split_authority(url, (size_t)(colon - url), &r, false) < 0)
			goto fail;
		rest = colon + 1;
	}
	r.path = clean_path(rest);
	if (!r.path)
		goto fail;
	*ret = r;
	return 0;
fail:
	vcs_remote_release(&r);
	return -1;
}

void vcs_remote_release(struct vcs_remote *r)
{
	if (!r)
		return;
	free(r->protocol);
	free(r->host);
	free(r->path);
	memset(r, 0, sizeof(*r));
}
