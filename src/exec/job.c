/* job: one job attempt from start to end, whatever the executor: its variables (predefined,
 * YAML, rules, dotenv of dependencies, CLI; GitLab pass then runner pass), its log, its copy of
 * the project (never the user's working tree), the artifacts of its dependencies, the executor
 * call, its own artifacts and dotenv, and the final verdict line. Also the run-wide setup: the
 * project snapshot every job copies from. */
#include "exec/exec.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "docker/client.h"
#include "exec/artifacts.h"
#include "exec/script.h"
#include "exec/settings.h"
#include "model/pipeline.h"
#include "model/vars.h"
#include "plan/dag.h"
#include "report/report.h"
#include "util/cleanup.h"
#include "util/fsutil.h"
#include "util/log.h"
#include "util/strvec.h"
#include "util/xalloc.h"
#include "vcs/gitdir.h"

#define DEFAULT_TIMEOUT_S 3600L

double exec_now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

long exec_job_ms_left(const struct exec_job_ctx *jc)
{
	double left = (jc->deadline - exec_now()) * 1000.0;
	return left < 1 ? 1 : (long)left;
}

/* ---- small process helpers ---- */

/* Runs argv (no shell) and waits; returns the exit status or -1 with err. */
static int spawn_wait(char *const *argv, struct err *err)
{
	pid_t pid = fork();
	if (pid < 0)
		return err_sys(err, errno, "cannot fork");
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDWR);
		if (devnull >= 0) {
			dup2(devnull, 0);
			dup2(devnull, 1);
		}
		execvp(argv[0], argv);
		_exit(127);
	}
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return err_sys(err, errno, "cannot wait for '%s'", argv[0]);
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return 0;
	return err_set(err, ERR_ENV, "'%s' failed (status %d)", argv[0],
	               WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
}

static void rm_rf(const char *path)
{
	struct err err = ERR_INIT;
	if (fs_rmtree(path, &err) < 0) {
		log_debug("%s", err.msg);
		err_release(&err);
	}
}

static int mkdir_p(const char *path, struct err *err)
{
	return fs_mkdir_p(path, err);
}

/* ---- the project snapshot ---- */

/* Copies one regular file: a reflink when the file system can (instant), else in-kernel. */
static int copy_file(const char *src, const char *dst, mode_t mode, struct err *err)
{
	_cleanup_close_ int in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return err_sys(err, errno, "cannot open '%s'", src);
	_cleanup_close_ int out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode & 07777);
	if (out < 0)
		return err_sys(err, errno, "cannot create '%s'", dst);
	if (ioctl(out, FICLONE, in) == 0)
		return 0;
	for (;;) {
		ssize_t n = copy_file_range(in, NULL, out, NULL, 1 << 30, 0);
		if (n == 0)
			return 0;
		if (n > 0)
			continue;
		if (errno == EINTR)
			continue;
		if (errno != EXDEV && errno != ENOSYS && errno != EINVAL)
			return err_sys(err, errno, "cannot copy '%s'", src);
		break;
	}
	char buf[65536];
	ssize_t n;
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n)
			return err_sys(err, errno, "cannot write '%s'", dst);
	return n < 0 ? err_sys(err, errno, "cannot read '%s'", src) : 0;
}

static int copy_entry(const char *root, const char *rel, const char *dest, struct err *err)
{
	_cleanup_free_ char *src = xasprintf("%s/%s", root, rel);
	_cleanup_free_ char *dst = xasprintf("%s/%s", dest, rel);
	struct stat st;
	if (lstat(src, &st) < 0)
		return 0; /* deleted in the work tree but still in the index: gone for the job */
	char *slash = strrchr(dst, '/');
	*slash = '\0';
	if (mkdir_p(dst, err) < 0)
		return -1;
	*slash = '/';
	if (S_ISLNK(st.st_mode)) {
		char target[4096];
		ssize_t n = readlink(src, target, sizeof(target) - 1);
		if (n < 0)
			return err_sys(err, errno, "cannot read link '%s'", src);
		target[n] = '\0';
		if (symlink(target, dst) < 0 && errno != EEXIST)
			return err_sys(err, errno, "cannot create link '%s'", dst);
		return 0;
	}
	if (S_ISDIR(st.st_mode)) { /* a submodule: its files as they are */
		char *argv[] = {"cp", "-a", "--reflink=auto", "--", src, dst, NULL};
		*slash = '\0';
		int r = spawn_wait(argv, err);
		*slash = '/';
		return r;
	}
	if (!S_ISREG(st.st_mode))
		return 0;
	if (copy_file(src, dst, st.st_mode, err) < 0)
		return -1;
	/* the user's mtimes, as `cp -a` keeps them: the job's git index (written just after)
	 * then sees most files as clean by their stat data instead of rehashing every file
	 * that looks modified in the same second as the index ("racy git") */
	struct timespec times[2] = {st.st_atim, st.st_mtim};
	if (utimensat(AT_FDCWD, dst, times, 0) < 0)
		return err_sys(err, errno, "cannot set the times of '%s'", dst);
	return 0;
}

static int snapshot_files(const struct exec_run *run, const char *dest, struct err *err)
{
	for (size_t i = 0; i < run->files->n; i++)
		if (copy_entry(run->project_dir, run->files->v[i], dest, err) < 0)
			return -1;
	return 0;
}

/* No file list: everything but .git and .runnel, through tar (keeps modes and links). */
static int snapshot_tree(const struct exec_run *run, const char *dest, bool head, struct err *err)
{
	char *script = head ? "git -C \"$1\" archive --format=tar HEAD | tar -x -C \"$2\""
	                    : "tar -C \"$1\" --exclude=./.git --exclude=./.runnel -cf - . | "
	                      "tar -x -C \"$2\"";
	char *argv[] = {"sh", "-c", script, "sh", (char *)run->project_dir, (char *)dest, NULL};
	if (spawn_wait(argv, err) < 0)
		return err_wrap(err, "cannot copy the project '%s'", run->project_dir);
	return 0;
}

static int write_owner(const char *dir, struct err *err)
{
	_cleanup_free_ char *path = xasprintf("%s/owner", dir);
	char line[128];
	FILE *f = fopen("/proc/self/stat", "r");
	unsigned long long start = 0;
	if (f) {
		char buf[1024];
		size_t n = fread(buf, 1, sizeof(buf) - 1, f);
		buf[n] = '\0';
		fclose(f);
		char *p = strrchr(buf, ')');
		int field = 2;
		for (char *tok = p ? strtok(p + 1, " ") : NULL; tok; tok = strtok(NULL, " "))
			if (++field == 22) {
				start = strtoull(tok, NULL, 10);
				break;
			}
	}
	int len = snprintf(line, sizeof(line), "%ld %llu\n", (long)getpid(), start);
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, line, (size_t)len) != len)
		return err_sys(err, errno, "cannot write '%s'", path);
	return 0;
}

/* nftw has no user pointer; prepare runs once, before any job thread. */
static unsigned long long count_bytes;
static unsigned long count_files;

static int count_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)path;
	(void)ftw;
	if (flag == FTW_F) {
		count_bytes += (unsigned long long)st->st_size;
		count_files++;
	}
	return 0;
}

/* The repository jobs get (GIT_STRATEGY fetch/clone), in its own directory beside the
 * snapshot so that GIT_STRATEGY none can leave it out. With --committed it also writes the
 * commit's files into the snapshot (a checkout, as the runner's: export-ignore and
 * export-subst do not apply). Returns 1 made, 0 no repository or no commit, -1 error. */
static int git_layer(struct exec_run *run, bool checkout, struct err *err)
{
	if (!run->files && !run->committed)
		return 0; /* not a git work tree */
	const char *sha = run->predefined ? var_list_value(run->predefined, "CI_COMMIT_SHA") : NULL;
	const char *url =
	    run->predefined ? var_list_value(run->predefined, "CI_REPOSITORY_URL") : NULL;
	_cleanup_free_ char *dir = xasprintf("%s/git", run->run_dir);
	struct vcs_gitdir_opts o = {.repo_dir = run->project_dir,
	                            .commit = sha,
	                            .work_tree = run->snapshot_dir,
	                            .origin_url = url,
	                            .checkout = checkout};
	int r = vcs_gitdir_create(&o, dir, err);
	if (r > 0)
		run->git_layer = TAKE_PTR(dir);
	return r;
}

static int snapshot(struct exec_run *run, struct err *err)
{
	int r;
	if (run->committed) {
		r = git_layer(run, true, err);
		if (r == 0)
			r = snapshot_tree(run, run->snapshot_dir, true, err);
	} else if (run->files) {
		r = snapshot_files(run, run->snapshot_dir, err);
		if (r == 0)
			r = git_layer(run, false, err);
	} else
		r = snapshot_tree(run, run->snapshot_dir, false, err);
	if (r < 0)
		return -1;
	count_bytes = 0;
	count_files = 0;
	nftw(run->snapshot_dir, count_entry, 32, FTW_PHYS);
	if (run->git_layer) /* a job copies it too: it counts for the copy-or-overlay choice */
		nftw(run->git_layer, count_entry, 32, FTW_PHYS);
	run->snapshot_bytes = count_bytes;
	run->snapshot_files = count_files;
	return 0;
}

int exec_run_prepare(struct exec_run *run, struct err *err)
{
	pthread_mutex_init(&run->lock, NULL);
	run->jobs = xcalloc(run->plan->n ? run->plan->n : 1, sizeof(*run->jobs));
	for (size_t i = 0; i < run->plan->n; i++) {
		arena_init(&run->jobs[i].arena);
		run->jobs[i].coverage = -1;
	}
	run->run_dir = xasprintf("%s/builds/%s", run->state_dir, run->pipeline_id);
	run->snapshot_dir = xasprintf("%s/src", run->run_dir);
	if (mkdir_p(run->snapshot_dir, err) < 0 || write_owner(run->run_dir, err) < 0)
		return -1;
	if (run->docker) {
		const char *ep = docker_client_endpoint(run->docker);
		run->docker_local = ep && !strncmp(ep, "unix://", 7);
	}
	return snapshot(run, err);
}

void exec_run_release(struct exec_run *run)
{
	if (!run || !run->jobs)
		return;
	if (run->run_dir)
		rm_rf(run->run_dir);
	for (size_t i = 0; i < run->plan->n; i++) {
		var_list_release(&run->jobs[i].dotenv);
		arena_release(&run->jobs[i].arena);
		free(run->jobs[i].log_path);
	}
	free(run->jobs);
	free(run->run_dir);
	free(run->snapshot_dir);
	free(run->git_layer);
	pthread_mutex_destroy(&run->lock);
	run->jobs = NULL;
}

/* ---- dependencies: whose artifacts and dotenv a job receives ---- */

static bool artifacts_from(const struct exec_run *run, const struct job *j, size_t dep)
{
	const struct job *dj = run->plan->nodes[dep].job;
	if (j->has_dependencies) {
		for (size_t k = 0; k < j->dependencies.n; k++)
			if (!strcmp(j->dependencies.v[k], dj->name))
				return true;
		return false;
	}
	if (j->has_needs) {
		for (size_t k = 0; k < j->n_needs; k++)
			if (!strcmp(j->needs[k].job, dj->name))
				return j->needs[k].artifacts;
		return false;
	}
	return dj->stage_index < j->stage_index;
}

static char *artifacts_dir(const struct exec_run *run, const char *job_name)
{
	_cleanup_free_ char *slug = vars_slugify(job_name);
	return xasprintf("%s/artifacts/%s", run->state_dir, slug);
}

/* ---- cache: kept in <state_dir>/cache/<key>/ across runs (`runnel cache clear`) ---- */

static const char *cache_policy(struct exec_job_ctx *jc, const struct cache_spec *cs)
{
	if (!cs->policy)
		return "pull-push";
	struct strbuf sb = STRBUF_INIT;
	vars_expand_runner(cs->policy, &jc->vars, &sb);
	const char *p = arena_strdup(&jc->arena, sb.buf);
	strbuf_release(&sb);
	return *p ? p : "pull-push";
}

/* The expanded key of cache i (owned), NULL after a warning in the job log. key:files hashes
 * the snapshot's files: GitLab computes it from the commit, before any job writes. */
static char *cache_key(struct exec_job_ctx *jc, size_t i)
{
	struct err err = ERR_INIT;
	char *key =
	    cache_key_compute(&jc->job->caches[i], i, &jc->vars, jc->run->snapshot_dir, &err);
	if (!key) {
		report_job_printf(jc->log, "WARNING: cache: %s", err.msg);
		err_release(&err);
	}
	return key;
}

static char *cache_path(const struct exec_run *run, const char *key)
{
	return xasprintf("%s/cache/%s", run->state_dir, key);
}

/* Extracts cache `key` into dir when it exists. The lock keeps a concurrent save from
 * swapping the directory while it is read. */
static bool restore_one(struct exec_job_ctx *jc, const char *key, const char *dir)
{
	_cleanup_free_ char *path = cache_path(jc->run, key);
	struct err err = ERR_INIT;
	report_job_printf(jc->log, "Checking cache for %s...", key);
	pthread_mutex_lock(&jc->run->lock);
	int r = access(path, F_OK) == 0 ? artifacts_copy_dir(path, dir, &err) : 1;
	pthread_mutex_unlock(&jc->run->lock);
	if (r == 0) {
		report_job_printf(jc->log, "Successfully extracted cache");
		return true;
	}
	if (r < 0) {
		report_job_printf(jc->log, "WARNING: %s", err.msg);
		err_release(&err);
	}
	return false;
}

/* The first existing of the key, cache:fallback_keys and $CACHE_FALLBACK_KEY, as the runner
 * restores (before the artifacts of dependencies). A missing cache is only a warning. */
static void restore_caches(struct exec_job_ctx *jc, const char *dir)
{
	for (size_t i = 0; i < jc->job->n_caches; i++) {
		const struct cache_spec *cs = &jc->job->caches[i];
		_cleanup_free_ char *key = NULL;
		if (!strcmp(cache_policy(jc, cs), "push") || !(key = cache_key(jc, i)))
			continue;
		bool ok = restore_one(jc, key, dir);
		struct strbuf fb = STRBUF_INIT;
		for (size_t k = 0; !ok && k <= cs->fallback_keys.n; k++) {
			const char *raw = k < cs->fallback_keys.n
			                      ? cs->fallback_keys.v[k]
			                      : var_list_value(&jc->vars, "CACHE_FALLBACK_KEY");
			strbuf_reset(&fb);
			if (raw)
				vars_expand_runner(raw, &jc->vars, &fb);
			if (fb.len && !strchr(fb.buf, '/') && strcmp(fb.buf, ".") != 0 &&
			    strcmp(fb.buf, "..") != 0)
				ok = restore_one(jc, fb.buf, dir);
		}
		strbuf_release(&fb);
		if (!ok) {
			report_job_printf(jc->log, "WARNING: file does not exist");
			report_job_printf(jc->log, "Failed to extract cache");
		}
	}
}

/* Moves the freshly collected tmp directory to the cache's place (old content dropped). */
static int cache_swap(struct exec_run *run, const char *tmp, const char *path, struct err *err)
{
	_cleanup_free_ char *old = xasprintf("%s.old", tmp);
	pthread_mutex_lock(&run->lock);
	int r = 0;
	if (rename(path, old) < 0 && errno != ENOENT)
		r = err_sys(err, errno, "cannot replace '%s'", path);
	else if (rename(tmp, path) < 0)
		r = err_sys(err, errno, "cannot create '%s'", path);
	pthread_mutex_unlock(&run->lock);
	rm_rf(old);
	return r;
}

static bool artifacts_wanted(enum artifacts_when w, bool ok);
static void print_warnings(struct exec_job_ctx *jc, struct string_list *w);

/* cache: paths (and untracked) of the finished job, per policy and cache:when; failures are
 * warnings, as in the runner. From the container when given, else from jc->host_dir. */
static void save_caches(struct exec_job_ctx *jc, struct docker_client *c, const char *cid)
{
	bool ok = jc->failure == FAILURE_NONE;
	for (size_t i = 0; i < jc->job->n_caches; i++) {
		const struct cache_spec *cs = &jc->job->caches[i];
		_cleanup_free_ char *key = NULL;
		if (!strcmp(cache_policy(jc, cs), "pull") || !artifacts_wanted(cs->when, ok) ||
		    !(key = cache_key(jc, i)))
			continue;
		report_job_printf(jc->log, "Creating cache %s...", key);
		_cleanup_free_ char *path = cache_path(jc->run, key);
		_cleanup_free_ char *tmp = xasprintf("%s/cache/.new-%s-%s-%zu", jc->run->state_dir,
		                                     key, jc->run->pipeline_id, jc->index);
		struct artifacts_spec as = {.present = true,
		                            .paths = cs->paths,
		                            .untracked = cs->untracked,
		                            .when = ART_ALWAYS};
		struct string_list warnings = {0};
		struct err err = ERR_INIT;
		size_t n = 0;
		rm_rf(tmp);
		int r = mkdir_p(tmp, &err);
		if (r == 0)
			r = cid ? artifacts_collect_container(c, cid, jc->project_dir, &as,
			                                      &jc->vars, tmp, &n, &warnings, &err)
			        : artifacts_collect_dir(&as, &jc->vars, jc->host_dir, tmp, &n,
			                                &warnings, &err);
		print_warnings(jc, &warnings);
		if (r == 0)
			r = cache_swap(jc->run, tmp, path, &err);
		if (r < 0) {
			report_job_printf(jc->log, "WARNING: cache '%s' not saved: %s", key,
			                  err.msg);
			err_release(&err);
			rm_rf(tmp);
			continue;
		}
		report_job_printf(jc->log, "Created cache");
	}
}

int exec_job_copy_artifacts(struct exec_job_ctx *jc, const char *dir, struct err *err)
{
	struct exec_run *run = jc->run;
	restore_caches(jc, dir);
	for (size_t i = 0; i < run->plan->n; i++) {
		if (!artifacts_from(run, jc->job, i) || !run->jobs[i].has_artifacts)
			continue;
		_cleanup_free_ char *adir = artifacts_dir(run, run->plan->nodes[i].job->name);
		report_job_printf(jc->log, "Downloading artifacts for %s...",
		                  run->plan->nodes[i].job->name);
		if (artifacts_copy_dir(adir, dir, err) < 0)
			return err_wrap(err, "artifacts of '%s'", run->plan->nodes[i].job->name);
	}
	return 0;
}

enum exec_git_strategy exec_job_git_strategy(const struct exec_job_ctx *jc)
{
	const char *s = var_list_value(&jc->vars, "GIT_STRATEGY");
	if (s && !strcmp(s, "none"))
		return EXEC_GIT_NONE;
	if (s && !strcmp(s, "empty"))
		return EXEC_GIT_EMPTY;
	return EXEC_GIT_FETCH; /* fetch, clone, unset, or a value the runner would reject */
}

int exec_job_git_depth(struct exec_job_ctx *jc, const char *root, struct err *err)
{
	const struct exec_run *run = jc->run;
	unsigned long depth = vcs_gitdir_depth(var_list_value(&jc->vars, "GIT_DEPTH"));
	if (!depth || !run->git_layer || exec_job_git_strategy(jc) != EXEC_GIT_FETCH)
		return 0;
	_cleanup_free_ char *git_dir = xasprintf("%s/.git", run->git_layer);
	_cleanup_free_ char *dst_dir = xasprintf("%s/.git", root);
	_cleanup_free_ char *path = xasprintf("%s/shallow", dst_dir);
	if (mkdir_p(dst_dir, err) < 0 || vcs_gitdir_shallow(git_dir, "HEAD", depth, path, err) < 0)
		return err_wrap(err, "GIT_DEPTH of job '%s'", jc->job->name);
	return 0;
}

/* The copy holds the snapshot's files, plus the repository unless GIT_STRATEGY says
 * otherwise; one `cp` for both (objects are copied, never hard-linked: a job's chmod or
 * chown of its project must not reach the user's .git through a shared inode). */
int exec_job_copy_project(struct exec_job_ctx *jc, const char *dir, struct err *err)
{
	struct exec_run *run = jc->run;
	enum exec_git_strategy gs = exec_job_git_strategy(jc);
	_cleanup_free_ char *src = xasprintf("%s/.", run->snapshot_dir);
	_cleanup_free_ char *git = run->git_layer ? xasprintf("%s/.", run->git_layer) : NULL;
	char *argv[] = {"cp", "-a", "--reflink=auto", "--", src, NULL, NULL, NULL};
	argv[5] = git && gs == EXEC_GIT_FETCH ? git : (char *)dir;
	argv[6] = git && gs == EXEC_GIT_FETCH ? (char *)dir : NULL;
	if (mkdir_p(dir, err) < 0 || (gs != EXEC_GIT_EMPTY && spawn_wait(argv, err) < 0))
		return err_wrap(err, "cannot copy the project for job '%s'", jc->job->name);
	if (exec_job_git_depth(jc, dir, err) < 0)
		return -1;
	return exec_job_copy_artifacts(jc, dir, err);
}

/* ---- variables ---- */

static void set(struct exec_job_ctx *jc, struct var_list *l, const char *k, const char *v)
{
	var_list_set_kv(&jc->arena, l, k, v);
}

static void set_masked(struct exec_job_ctx *jc, struct var_list *l, const char *k, const char *v)
{
	struct var var = {.key = k, .value = v, .masked = true};
	var_list_set(&jc->arena, l, &var);
}

static void iso_now(char *buf, size_t size)
{
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void job_token(char *buf, size_t size)
{
	unsigned char raw[10];
	FILE *f = fopen("/dev/urandom", "r");
	if (!f || fread(raw, 1, sizeof(raw), f) != sizeof(raw))
		memset(raw, 0x5a, sizeof(raw));
	if (f)
		fclose(f);
	size_t o = 0;
	o += (size_t)snprintf(buf, size, "glcbt-");
	for (size_t i = 0; i < sizeof(raw) && o + 2 < size; i++)
		o += (size_t)snprintf(buf + o, size - o, "%02x", raw[i]);
}

/* The runner-side job variables (variables.md §1 "Job", "Directories", "Registry"). */
static void job_predefined(struct exec_job_ctx *jc, struct var_list *l, unsigned long id)
{
	const struct job *j = jc->job;
	struct arena *a = &jc->arena;
	char now[32], token[64];
	iso_now(now, sizeof(now));
	job_token(token, sizeof(token));
	set(jc, l, "CI_JOB_NAME", j->name);
	set(jc, l, "CI_JOB_NAME_SLUG", jc->slug);
	set(jc, l, "CI_JOB_GROUP_NAME", j->group_name ? j->group_name : j->name);
	set(jc, l, "CI_JOB_STAGE", j->stage);
	set(jc, l, "CI_JOB_ID", arena_printf(a, "%lu", id));
	const char *purl = var_list_value(l, "CI_PROJECT_URL");
	if (purl)
		set(jc, l, "CI_JOB_URL", arena_printf(a, "%s/-/jobs/%lu", purl, id));
	set(jc, l, "CI_JOB_STARTED_AT", now);
	if (j->manual)
		set(jc, l, "CI_JOB_MANUAL", "true");
	if (j->node_index > 0)
		set(jc, l, "CI_NODE_INDEX", arena_printf(a, "%d", j->node_index));
	set(jc, l, "CI_NODE_TOTAL", arena_printf(a, "%d", j->node_total > 0 ? j->node_total : 1));
	set_masked(jc, l, "CI_JOB_TOKEN", token);
	if (!jc->run->insecure_registry) { /* --registry gave its own credentials */
		set(jc, l, "CI_REGISTRY_USER", "gitlab-ci-token");
		set_masked(jc, l, "CI_REGISTRY_PASSWORD", token);
	}
	if (j->environment.name) {
		set(jc, l, "CI_ENVIRONMENT_NAME", j->environment.name);
		_cleanup_free_ char *es = vars_env_slugify(j->environment.name);
		set(jc, l, "CI_ENVIRONMENT_SLUG", es);
		if (j->environment.url)
			set(jc, l, "CI_ENVIRONMENT_URL", j->environment.url);
		set(jc, l, "CI_ENVIRONMENT_ACTION",
		    j->environment.action ? j->environment.action : "start");
		if (j->environment.deployment_tier)
			set(jc, l, "CI_ENVIRONMENT_TIER", j->environment.deployment_tier);
	}
	/* runner: directories and state, before the job's own variables (which may override) */
	set(jc, l, "CI_BUILDS_DIR", jc->builds_dir);
	set(jc, l, "CI_PROJECT_DIR", jc->project_dir);
	set(jc, l, "CI_CONCURRENT_ID", "0");
	set(jc, l, "CI_CONCURRENT_PROJECT_ID", "0");
	set(jc, l, "CI_SERVER", "yes");
	set(jc, l, "CI_JOB_STATUS", "running");
	set(jc, l, "CI_JOB_TIMEOUT", arena_printf(a, "%ld", jc->timeout_s));
}

/* Artifacts of dependencies can carry dotenv variables (they rank above job variables). */
static void merge_dotenv(struct exec_job_ctx *jc, struct var_list *l)
{
	struct exec_run *run = jc->run;
	pthread_mutex_lock(&run->lock);
	for (size_t i = 0; i < run->plan->n; i++)
		if (artifacts_from(run, jc->job, i))
			var_list_merge(&jc->arena, l, &run->jobs[i].dotenv);
	pthread_mutex_unlock(&run->lock);
}

/* One os.Expand-style pass over every non-raw value; file variables expand to their path. */
static void runner_pass(struct exec_job_ctx *jc, const struct var_list *in)
{
	struct var_list lookup = {0};
	for (size_t i = 0; i < in->n; i++) {
		struct var v = in->v[i];
		if (v.file)
			v.value = arena_printf(&jc->arena, "%s/%s", jc->tmp_dir, v.key);
		var_list_set(&jc->arena, &lookup, &v);
	}
	struct strbuf sb = STRBUF_INIT;
	for (size_t i = 0; i < in->n; i++) {
		struct var v = in->v[i];
		if (!v.raw && v.value) {
			strbuf_reset(&sb);
			vars_expand_runner(v.value, &lookup, &sb);
			v.value = arena_strdup(&jc->arena, sb.buf);
		}
		var_list_set(&jc->arena, &jc->vars, &v);
	}
	strbuf_release(&sb);
}

static const char *pick_image(const struct exec_job_ctx *jc)
{
	const struct exec_run *run = jc->run;
	if (run->kind == EXEC_SHELL)
		return NULL;
	if (jc->job->image.name && *jc->job->image.name)
		return jc->job->image.name;
	if (run->default_image && *run->default_image)
		return run->default_image;
	if (run->settings && run->settings->default_image && *run->settings->default_image)
		return run->settings->default_image;
	return NULL;
}

static int build_vars(struct exec_job_ctx *jc, unsigned long id, struct err *err)
{
	struct exec_run *run = jc->run;
	struct var_list l = {0};
	if (run->predefined)
		var_list_merge(&jc->arena, &l, run->predefined);
	job_predefined(jc, &l, id);
	var_list_merge(&jc->arena, &l, &jc->job->variables);
	merge_dotenv(jc, &l);
	if (run->cli_vars)
		var_list_merge(&jc->arena, &l, run->cli_vars);
	set(jc, &l, "RUNNER_TEMP_PROJECT_DIR", jc->tmp_dir);
	set(jc, &l, jc->image ? "CI_DISPOSABLE_ENVIRONMENT" : "CI_SHARED_ENVIRONMENT", "true");
	if (vars_resolve_all(&jc->arena, &l, err) < 0)
		return err_wrap(err, "variables of job '%s'", jc->job->name);
	runner_pass(jc, &l);
	if (jc->image) {
		struct strbuf sb = STRBUF_INIT;
		vars_expand_runner(jc->image, &jc->vars, &sb);
		jc->image = arena_strdup(&jc->arena, sb.buf);
		strbuf_release(&sb);
		set(jc, &jc->vars, "CI_JOB_IMAGE", jc->image);
	}
	return 0;
}

/* ---- scripts ---- */

const char *exec_job_status_word(const struct exec_job_ctx *jc)
{
	if (jc->canceled)
		return "canceled";
	if (jc->timed_out)
		return "timedout";
	return jc->failure == FAILURE_NONE ? "success" : "failed";
}

void exec_job_script(const struct exec_job_ctx *jc, bool after, const char *status,
                     struct strbuf *out)
{
	const struct job *j = jc->job;
	struct var_list vars = jc->vars;
	struct var *copy = NULL;
	if (status) {
		/* same list with CI_JOB_STATUS replaced */
		copy = xmalloc((vars.n ? vars.n : 1) * sizeof(*copy));
		if (vars.n)
			memcpy(copy, vars.v, vars.n * sizeof(*copy));
		for (size_t i = 0; i < vars.n; i++)
			if (!strcmp(copy[i].key, "CI_JOB_STATUS"))
				copy[i].value = status;
		vars.v = copy;
	}
	const struct string_list *main_parts[] = {&j->before_script, &j->script};
	const struct string_list *after_parts[] = {&j->after_script};
	const char *trace = var_list_value(&jc->vars, "CI_DEBUG_TRACE");
	struct script_opts o = {
	    .vars = &vars,
	    .project_dir = jc->project_dir,
	    .tmp_dir = jc->tmp_dir,
	    .parts = after ? after_parts : main_parts,
	    .n_parts = after ? 1 : 2,
	    .after_script = after,
	    .color = jc->run->color,
	    .trace = trace && !strcmp(trace, "true"),
	};
	script_build(&o, out);
	free(copy);
}

/* ---- artifacts and reports of the finished job ---- */

static bool artifacts_wanted(enum artifacts_when w, bool ok)
{
	return w == ART_ALWAYS || (w == ART_ON_SUCCESS && ok) || (w == ART_ON_FAILURE && !ok);
}

static void print_warnings(struct exec_job_ctx *jc, struct string_list *w)
{
	for (size_t i = 0; i < w->n; i++)
		report_job_printf(jc->log, "WARNING: %s", w->v[i]);
	artifacts_warnings_release(w);
}

/* A file of the finished job's project on the host: with an overlay, what the job wrote is in
 * upper/ (a deleted file is a whiteout there, not a regular file), the rest in the snapshot.
 * Returns an owned path or NULL. */
static char *regular_or_null(char *p)
{
	struct stat st;
	if (stat(p, &st) == 0 && S_ISREG(st.st_mode))
		return p;
	free(p);
	return NULL;
}

static char *job_file(const struct exec_job_ctx *jc, const char *rel)
{
	if (!jc->overlay)
		return regular_or_null(xasprintf("%s/%s", jc->host_dir, rel));
	struct stat st;
	char *p = xasprintf("%s/%s", jc->upper_dir, rel);
	if (lstat(p, &st) == 0)
		return regular_or_null(p); /* written, or a whiteout when deleted */
	free(p);
	return regular_or_null(xasprintf("%s/%s", jc->run->snapshot_dir, rel));
}

static void collect_reports(struct exec_job_ctx *jc, struct exec_job_state *st)
{
	const struct artifacts_spec *a = &jc->job->artifacts;
	struct err err = ERR_INIT;
	for (size_t i = 0; i < a->reports_dotenv.n; i++) {
		_cleanup_free_ char *p = job_file(jc, a->reports_dotenv.v[i]);
		if (!p)
			continue;
		pthread_mutex_lock(&jc->run->lock);
		int r = dotenv_parse_file(p, &st->dotenv, &err);
		pthread_mutex_unlock(&jc->run->lock);
		if (r < 0) {
			report_job_printf(jc->log, "WARNING: dotenv report: %s", err.msg);
			err_release(&err);
		}
	}
	for (size_t i = 0; i < a->reports_junit.n; i++) {
		_cleanup_free_ char *p = job_file(jc, a->reports_junit.v[i]);
		if (p && report_junit_summary(p, &st->junit_tests, &st->junit_failures, &err) < 0)
			err_release(&err);
	}
}

void exec_job_collect_artifacts(struct exec_job_ctx *jc, struct docker_client *c,
                                const char *container_id)
{
	const struct artifacts_spec *a = &jc->job->artifacts;
	struct exec_job_state *st = &jc->run->jobs[jc->index];
	bool ok = jc->failure == FAILURE_NONE;
	jc->artifacts_done = true;
	save_caches(jc, c, container_id);
	if (!a->present || (!a->paths.n && !a->untracked) || !artifacts_wanted(a->when, ok))
		return;
	report_job_printf(jc->log, "Uploading artifacts for %s job...",
	                  ok ? "successful" : "failed");
	_cleanup_free_ char *dest = artifacts_dir(jc->run, jc->job->name);
	struct string_list warnings = {0};
	struct err err = ERR_INIT;
	size_t count = 0;
	int r = container_id ? artifacts_collect_container(c, container_id, jc->project_dir, a,
	                                                   &jc->vars, dest, &count, &warnings, &err)
	                     : artifacts_collect_dir(a, &jc->vars, jc->host_dir, dest, &count,
	                                             &warnings, &err);
	if (r < 0) {
		report_job_printf(jc->log, "ERROR: uploading artifacts: %s", err.msg);
		err_release(&err);
		/* like the runner: an upload error fails an otherwise successful job */
		if (ok) {
			jc->failure = FAILURE_SYSTEM;
			jc->exit_code = -1;
		}
	}
	print_warnings(jc, &warnings);
	report_job_printf(jc->log, "%zu files archived as artifacts", count);
	pthread_mutex_lock(&jc->run->lock);
	st->has_artifacts = count > 0;
	pthread_mutex_unlock(&jc->run->lock);
}

/* ---- the verdict ---- */

/* Go's time.Duration.String() for whole seconds: "1h0m0s", "10m0s", "45s". */
static void go_duration(long s, char *buf, size_t size)
{
	if (s >= 3600)
		snprintf(buf, size, "%ldh%ldm%lds", s / 3600, (s % 3600) / 60, s % 60);
	else if (s >= 60)
		snprintf(buf, size, "%ldm%lds", s / 60, s % 60);
	else
		snprintf(buf, size, "%lds", s);
}

static void verdict(struct exec_job_ctx *jc)
{
	char d[64];
	switch (jc->failure) {
	case FAILURE_NONE:
		report_job_printf(jc->log, "Job succeeded");
		break;
	case FAILURE_SCRIPT:
		report_job_printf(jc->log, "ERROR: Job failed: exit code %d", jc->exit_code);
		break;
	case FAILURE_TIMEOUT:
		go_duration(jc->timeout_s, d, sizeof(d));
		report_job_printf(jc->log,
		                  "ERROR: Job failed: execution took longer than %s seconds", d);
		break;
	case FAILURE_CANCELED:
		report_job_printf(jc->log, "ERROR: Job failed: canceled");
		break;
	default:
		break; /* system, pull and configuration errors were printed where they happened */
	}
}

/* Where the job's project lives, on the host and as the job sees it. */
static void job_paths(struct exec_job_ctx *jc, unsigned long id)
{
	struct exec_run *run = jc->run;
	struct arena *a = &jc->arena;
	if (jc->image) {
		jc->builds_dir = "/builds";
		jc->project_dir = arena_printf(a, "/builds/%s", run->project_path);
		jc->host_dir = arena_printf(a, "%s/%lu-%s", run->run_dir, id, jc->slug);
	} else {
		jc->builds_dir = arena_printf(a, "%s/builds", run->state_dir);
		jc->project_dir = arena_printf(a, "%s/%s", jc->builds_dir, jc->slug);
		jc->host_dir = jc->project_dir;
	}
	jc->tmp_dir = arena_printf(a, "%s.tmp", jc->project_dir);
}

static int job_start(struct exec_job_ctx *jc, unsigned attempt, struct err *err)
{
	struct exec_run *run = jc->run;
	pthread_mutex_lock(&run->lock);
	unsigned long id = ++run->next_job_id;
	pthread_mutex_unlock(&run->lock);
	_cleanup_free_ char *slug = vars_slugify(jc->job->name);
	jc->slug = arena_strdup(&jc->arena, slug);
	jc->timeout_s = jc->job->timeout_seconds > 0 ? jc->job->timeout_seconds : DEFAULT_TIMEOUT_S;
	jc->deadline = exec_now() + (double)jc->timeout_s;
	jc->image = pick_image(jc);
	job_paths(jc, id);
	int r = build_vars(jc, id, err);
	/* the log opens even when variables failed, so the error lands in it */
	jc->log =
	    report_job_open(run->report, jc->job->name, &jc->vars, err_is_set(err) ? NULL : err);
	if (!jc->log)
		return -1;
	report_job_printf(jc->log, "Running with runnel 0.1.0 (job %lu, attempt %u)", id, attempt);
	return r;
}

void exec_job(struct exec_run *run, size_t index, unsigned attempt, struct sched_attempt *out)
{
	struct exec_job_state *st = &run->jobs[index];
	struct exec_job_ctx jc = {.run = run,
	                          .job = run->plan->nodes[index].job,
	                          .index = index,
	                          .failure = FAILURE_NONE,
	                          .exit_code = -1,
	                          .t = &st->timings};
	struct err err = ERR_INIT;
	_cleanup_free_ char *adest = NULL;
	double t0 = exec_now();
	arena_init(&jc.arena);
	memset(&st->timings, 0, sizeof(st->timings));
	if (job_start(&jc, attempt, &err) < 0) {
		jc.failure = err.kind == ERR_CONFIG ? FAILURE_CONFIG : FAILURE_SYSTEM;
		if (jc.log)
			report_job_printf(jc.log, "ERROR: Job failed: %s", err.msg);
		goto out;
	}
	adest = artifacts_dir(run, jc.job->name);
	rm_rf(adest);
	int r = jc.image ? exec_docker_run(&jc, &err) : exec_shell_run(&jc, &err);
	if (r < 0 && jc.canceled) /* e.g. Ctrl-C during the image pull: reported as canceled */
		err_release(&err);
	else if (r < 0) {
		if (jc.failure == FAILURE_NONE || jc.failure == FAILURE_SCRIPT)
			jc.failure = FAILURE_SYSTEM;
		report_job_printf(jc.log, "ERROR: Job failed (system failure): %s", err.msg);
	}
	double t = exec_now();
	if (!jc.canceled && access(jc.host_dir, F_OK) == 0) {
		collect_reports(&jc, st);
		if (!jc.artifacts_done)
			exec_job_collect_artifacts(&jc, NULL, NULL);
	}
	st->timings.copy_out += exec_now() - t;
	verdict(&jc);
	if (jc.image) {
		t = exec_now();
		rm_rf(jc.host_dir);
		st->timings.remove += exec_now() - t;
	}
out:
	st->timings.total = exec_now() - t0;
	if (jc.log) {
		const char *lp = report_job_log_path(jc.log);
		free(st->log_path);
		st->log_path = lp ? xstrdup(lp) : NULL;
		report_job_close(jc.log);
	}
	if (jc.job->coverage && st->log_path)
		report_coverage(jc.job->coverage, st->log_path, &st->coverage);
	err_release(&err);
	arena_release(&jc.arena); /* jc.vars lives in the arena */
	out->failure = jc.failure;
	out->exit_code = jc.exit_code;
}
