/* workspace: where a job's project comes from. Once per run, the project snapshot every job
 * copies from (the files git would check out, plus the repository as a separate layer, never
 * the user's working tree); per job, its copy of the snapshot as GIT_STRATEGY and GIT_DEPTH
 * ask, followed by the artifacts of its dependencies (job-dependencies.c). */
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
#include <unistd.h>
#include "docker/client.h"
#include "exec/job-internal.h"
#include "model/pipeline.h"
#include "model/vars.h"
#include "plan/dag.h"
#include "util/cleanup.h"
#include "util/fsutil.h"
#include "util/log.h"
#include "util/strvec.h"
#include "util/xalloc.h"
#include "vcs/gitdir.h"

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
	if (fs_mkdir_p(dst, err) < 0)
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
	if (fs_mkdir_p(run->snapshot_dir, err) < 0 || write_owner(run->run_dir, err) < 0)
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
		exec_job_rm_rf(run->run_dir);
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
	if (fs_mkdir_p(dst_dir, err) < 0 ||
	    vcs_gitdir_shallow(git_dir, "HEAD", depth, path, err) < 0)
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
	if (fs_mkdir_p(dir, err) < 0 || (gs != EXEC_GIT_EMPTY && spawn_wait(argv, err) < 0))
		return err_wrap(err, "cannot copy the project for job '%s'", jc->job->name);
	if (exec_job_git_depth(jc, dir, err) < 0)
		return -1;
	return exec_job_copy_artifacts(jc, dir, err);
}
