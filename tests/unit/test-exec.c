/* Tests for exec/ without a container engine: whole job attempts through the shell executor
 * (variables and their precedence, project copy, exit codes, after_script status, timeout,
 * cancellation, dotenv between jobs) and the object labels. The Docker executor is covered by
 * tests/e2e/t2xx-run-*.sh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "docker/client.h"
#include "exec/exec.h"
#include "model/vars.h"
#include "plan-fixture.h"
#include "plan/dag.h"
#include "report/report.h"
#include "util/strbuf.h"
#include "util/strvec.h"
#include "vcs/git.h"
#include "vcs/gitdir.h"

struct env {
	char dir[64];      /* project */
	char out_path[96]; /* live output */
	int out_fd;
	struct fix fx;
	struct plan *plan;
	struct report *report;
	struct var_list predefined, cli;
	struct strvec files;
	struct exec_run run;
	int cancel[2], force[2];
};

static void write_file(const char *dir, const char *name, const char *text)
{
	char p[256];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static struct env *env_new(void)
{
	struct env *e = calloc(1, sizeof(*e));
	strcpy(e->dir, "/tmp/runnel-exec-XXXXXX");
	assert_non_null(mkdtemp(e->dir));
	write_file(e->dir, "hello.txt", "hello-file\n");
	mkdir(strcat(strcpy(e->out_path, e->dir), "/sub"), 0755);
	write_file(e->dir, "sub/deep.txt", "deep\n");
	char link[128];
	snprintf(link, sizeof(link), "%s/link.txt", e->dir);
	assert_int_equal(symlink("hello.txt", link), 0);
	snprintf(e->out_path, sizeof(e->out_path), "%s.out", e->dir);
	e->out_fd = open(e->out_path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	assert_true(e->out_fd >= 0);
	e->files = (struct strvec)STRVEC_INIT;
	strvec_push(&e->files, "hello.txt");
	strvec_push(&e->files, "sub/deep.txt");
	strvec_push(&e->files, "link.txt");
	strvec_push(&e->files, "deleted-but-tracked.txt");
	var_list_set_kv(NULL, &e->predefined, "CI_PROJECT_PATH", "grp/proj");
	var_list_set_kv(NULL, &e->predefined, "PRE", "predefined");
	var_list_set_kv(NULL, &e->cli, "FROM_CLI", "cli");
	var_list_set_kv(NULL, &e->cli, "OVER", "cli-wins");
	assert_int_equal(pipe(e->cancel), 0);
	assert_int_equal(pipe(e->force), 0);
	return e;
}

/* Builds the plan and prepares the run once the jobs are in e->fx. */
static void env_start(struct env *e)
{
	struct err err = ERR_INIT;
	assert_int_equal(plan_build_jobs(e->fx.jobs, e->fx.n, NULL, &e->plan, &err), 0);
	struct report_opts ro = REPORT_OPTS_INIT;
	ro.out_fd = e->out_fd;
	e->report = report_new(&ro, &err);
	assert_non_null(e->report);
	char state[96];
	snprintf(state, sizeof(state), "%s/.runnel", e->dir);
	mkdir(state, 0755);
	snprintf(state, sizeof(state), "%s/.runnel/builds", e->dir);
	mkdir(state, 0755);
	struct exec_run *r = &e->run;
	r->plan = e->plan;
	r->predefined = &e->predefined;
	r->cli_vars = &e->cli;
	r->project_dir = e->dir;
	r->project_path = "grp/proj";
	r->state_dir = strdup(strcat(strcpy(state, e->dir), "/.runnel"));
	r->pipeline_id = "testpipe";
	r->files = &e->files;
	r->kind = EXEC_SHELL;
	r->report = e->report;
	r->cancel_fd = e->cancel[0];
	r->force_fd = e->force[0];
	assert_int_equal(exec_run_prepare(r, &err), 0);
}

static void env_free(struct env *e)
{
	exec_run_release(&e->run);
	free((char *)e->run.state_dir);
	report_free(e->report);
	plan_free(e->plan);
	var_list_release(&e->predefined);
	var_list_release(&e->cli);
	strvec_release(&e->files);
	close(e->out_fd);
	close(e->cancel[0]);
	close(e->cancel[1]);
	close(e->force[0]);
	close(e->force[1]);
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s' '%s'", e->dir, e->out_path);
	assert_int_equal(system(cmd), 0);
	free(e);
}

static char *output(struct env *e)
{
	struct stat st;
	fstat(e->out_fd, &st);
	char *buf = calloc(1, (size_t)st.st_size + 1);
	assert_int_equal(pread(e->out_fd, buf, (size_t)st.st_size, 0), st.st_size);
	return buf;
}

static struct sched_attempt run_job(struct env *e, const char *name)
{
	struct sched_attempt a = {.failure = FAILURE_NONE, .exit_code = -1};
	long i = plan_find(e->plan, name);
	assert_true(i >= 0);
	exec_job(&e->run, (size_t)i, 1, &a);
	return a;
}

static struct string_list strs(const char **v, size_t n)
{
	return (struct string_list){v, n};
}

static void test_shell_success(void **state)
{
	struct env *e = env_new();
	struct job *j = fix_job(&e->fx, "build job", 0);
	static const char *script[] = {
	    "echo \"pre=$PRE cli=$FROM_CLI over=$OVER yaml=$YAML ref=$REF\"",
	    "echo \"name=$CI_JOB_NAME slug=$CI_JOB_NAME_SLUG dir=$CI_PROJECT_DIR\"",
	    "cat hello.txt link.txt sub/deep.txt", "test ! -e deleted-but-tracked.txt",
	    "echo made > made.txt"};
	j->script = strs(script, 5);
	static struct var yv[] = {{.key = "YAML", .value = "yaml-$PRE"},
	                          {.key = "OVER", .value = "yaml"},
	                          {.key = "REF", .value = "${YAML}!"}};
	j->variables = (struct var_list){yv, 3, 3};
	env_start(e);
	struct sched_attempt a = run_job(e, "build job");
	char *out = output(e);
	assert_int_equal(a.failure, FAILURE_NONE);
	assert_int_equal(a.exit_code, 0);
	assert_non_null(strstr(out, "pre=predefined cli=cli over=cli-wins yaml=yaml-predefined "
	                            "ref=yaml-predefined!"));
	assert_non_null(strstr(out, "name=build job slug=build-job dir="));
	assert_non_null(strstr(out, "/.runnel/builds/build-job\n"));
	/* the file, the symlink to it and the file in a subdirectory were copied */
	const char *cat = strstr(out, "$ cat hello.txt");
	assert_non_null(cat);
	const char *h1 = strstr(cat, "| hello-file\n");
	assert_non_null(h1);
	assert_non_null(strstr(h1 + 1, "| hello-file\n"));
	assert_non_null(strstr(cat, "| deep\n"));
	assert_non_null(strstr(out, "Job succeeded"));
	char p[128];
	snprintf(p, sizeof(p), "%s/made.txt", e->dir);
	assert_int_equal(access(p, F_OK), -1); /* never in the working tree */
	free(out);
	env_free(e);
}

static void test_shell_failure_after_script(void **state)
{
	struct env *e = env_new();
	struct job *j = fix_job(&e->fx, "fail", 0);
	static const char *script[] = {"echo one", "(exit 7)", "echo not-reached"};
	static const char *after[] = {"echo \"status=$CI_JOB_STATUS\"", "exit 3"};
	j->script = strs(script, 3);
	j->after_script = strs(after, 2);
	env_start(e);
	struct sched_attempt a = run_job(e, "fail");
	char *out = output(e);
	assert_int_equal(a.failure, FAILURE_SCRIPT);
	assert_int_equal(a.exit_code, 7);
	assert_null(strstr(out, "not-reached\n"));
	assert_non_null(strstr(out, "status=failed"));
	assert_non_null(strstr(out, "after_script failed, but job will continue unaffected"));
	assert_non_null(strstr(out, "ERROR: Job failed: exit code 7"));
	free(out);
	env_free(e);
}

static void test_shell_timeout(void **state)
{
	struct env *e = env_new();
	struct job *j = fix_job(&e->fx, "slow", 0);
	static const char *script[] = {"sleep 30"};
	static const char *after[] = {"echo \"status=$CI_JOB_STATUS\""};
	j->script = strs(script, 1);
	j->after_script = strs(after, 1);
	j->timeout_seconds = 1;
	env_start(e);
	double t0 = exec_now();
	struct sched_attempt a = run_job(e, "slow");
	double took = exec_now() - t0;
	char *out = output(e);
	assert_int_equal(a.failure, FAILURE_TIMEOUT);
	assert_true(took < 10);
	assert_non_null(strstr(out, "status=timedout"));
	assert_non_null(strstr(out, "execution took longer than 1s seconds"));
	free(out);
	env_free(e);
}

static void test_shell_cancel(void **state)
{
	struct env *e = env_new();
	struct job *j = fix_job(&e->fx, "long", 0);
	static const char *script[] = {"sleep 30"};
	static const char *after[] = {"echo \"status=$CI_JOB_STATUS\""};
	j->script = strs(script, 1);
	j->after_script = strs(after, 1);
	env_start(e);
	assert_int_equal(write(e->cancel[1], "x", 1), 1); /* Ctrl-C already pressed */
	double t0 = exec_now();
	struct sched_attempt a = run_job(e, "long");
	char *out = output(e);
	assert_int_equal(a.failure, FAILURE_CANCELED);
	assert_true(exec_now() - t0 < 10);
	assert_non_null(strstr(out, "status=canceled"));
	free(out);
	env_free(e);
}

static void test_dotenv_between_jobs(void **state)
{
	struct env *e = env_new();
	struct job *a = fix_job(&e->fx, "produce", 0);
	static const char *s1[] = {"echo DOTENV_VAR=from-dotenv > build.env"};
	static const char *reports[] = {"build.env"};
	a->script = strs(s1, 1);
	a->artifacts.reports_dotenv = strs(reports, 1);
	struct job *b = fix_job(&e->fx, "consume", 1);
	static const char *s2[] = {"echo \"got=$DOTENV_VAR\""};
	b->script = strs(s2, 1);
	env_start(e);
	assert_int_equal(run_job(e, "produce").failure, FAILURE_NONE);
	assert_int_equal(run_job(e, "consume").failure, FAILURE_NONE);
	char *out = output(e);
	assert_non_null(strstr(out, "got=from-dotenv"));
	free(out);
	env_free(e);
}

static void test_labels(void **state)
{
	struct exec_run run = {.pipeline_id = "abc123"};
	struct strvec l = STRVEC_INIT;
	exec_labels(&run, "test 1/2", &l);
	assert_true(l.n >= 4);
	assert_string_equal(l.v[0], "runnel.pipeline=abc123");
	assert_string_equal(l.v[1], "runnel.job=test 1/2");
	char pid[64];
	snprintf(pid, sizeof(pid), "runnel.pid=%ld", (long)getpid());
	assert_string_equal(l.v[2], pid);
	assert_int_equal(strncmp(l.v[3], "runnel.host=", 12), 0);
	/* no project directory: no project label, the user's uid always */
	char uid[64];
	snprintf(uid, sizeof(uid), "runnel.uid=%lu", (unsigned long)getuid());
	assert_int_equal(strvec_find(&l, uid) >= 0, 1);
	for (size_t i = 0; i < l.n; i++)
		assert_int_not_equal(strncmp(l.v[i], "runnel.project=", 15), 0);
	strvec_release(&l);
	run.project_dir = "/work/some project";
	exec_labels(&run, NULL, &l);
	assert_int_equal(strvec_find(&l, "runnel.project=/work/some project") >= 0, 1);
	for (size_t i = 0; i < l.n; i++)
		assert_int_not_equal(strncmp(l.v[i], "runnel.job=", 11), 0);
	strvec_release(&l);
}

/* ---- a container removed outside runnel (reap.c) ---- */

/* A fake daemon on a unix socket: one connection at a time, keep-alive, GET only; the
 * answer depends on the container named in the path. */
struct mini_daemon {
	char dir[64], sock[96], host[160];
	int fd;
	pthread_t thread;
};

static void mini_answer(int fd, const char *path)
{
	const char *status = "404 Not Found", *body = "{\"message\":\"page not found\"}";
	if (!strcmp(path, "/_ping"))
		status = "200 OK", body = "OK";
	else if (strstr(path, "/containers/gone/json"))
		body = "{\"message\":\"No such container: gone\"}";
	else if (strstr(path, "/containers/removing/json"))
		status = "200 OK", body = "{\"State\":{\"Status\":\"removing\"}}";
	else if (strstr(path, "/containers/alive/json"))
		status = "200 OK", body = "{\"State\":{\"Status\":\"exited\",\"ExitCode\":137}}";
	else if (strstr(path, "/containers/broken/json"))
		status = "500 Internal Server Error", body = "{\"message\":\"boom\"}";
	char head[512];
	int n = snprintf(head, sizeof(head),
	                 "HTTP/1.1 %s\r\nApi-Version: 1.41\r\nContent-Type: application/json\r\n"
	                 "Content-Length: %zu\r\n\r\n%s",
	                 status, strlen(body), body);
	(void)!write(fd, head, (size_t)n);
}

static void *mini_main(void *p)
{
	struct mini_daemon *m = p;
	int c;
	while ((c = accept(m->fd, NULL, NULL)) >= 0) {
		char buf[8192];
		size_t len = 0;
		ssize_t r;
		while ((r = read(c, buf + len, sizeof(buf) - 1 - len)) > 0) {
			len += (size_t)r;
			buf[len] = '\0';
			char *end;
			while ((end = strstr(buf, "\r\n\r\n"))) {
				char path[1024] = "";
				sscanf(buf, "%*s %1023s", path);
				mini_answer(c, path);
				len -= (size_t)(end + 4 - buf);
				memmove(buf, end + 4, len + 1);
			}
		}
		close(c);
	}
	return NULL;
}

static void mini_start(struct mini_daemon *m)
{
	snprintf(m->dir, sizeof(m->dir), "/tmp/test-exec-dk-XXXXXX");
	assert_non_null(mkdtemp(m->dir));
	snprintf(m->sock, sizeof(m->sock), "%s/d.sock", m->dir);
	snprintf(m->host, sizeof(m->host), "unix://%s", m->sock);
	m->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", m->sock);
	assert_int_equal(bind(m->fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(m->fd, 4), 0);
	assert_int_equal(pthread_create(&m->thread, NULL, mini_main, m), 0);
}

static void mini_stop(struct mini_daemon *m)
{
	shutdown(m->fd, SHUT_RDWR); /* accept() returns: the thread ends */
	pthread_join(m->thread, NULL);
	close(m->fd);
	unlink(m->sock);
	rmdir(m->dir);
}

/* 404 and "removing" (docker rm -f marks the removal before its kill ends the job's attach)
 * are a removal; a container that merely exited (137) is not, and neither is a daemon that
 * fails to answer. */
static void test_container_removed(void **state)
{
	(void)state;
	struct mini_daemon m;
	mini_start(&m);
	struct docker_opts o = DOCKER_OPTS_INIT;
	o.host = m.host;
	struct err err = ERR_INIT;
	struct docker_client *c = docker_client_new(&o, &err);
	assert_non_null(c);
	assert_true(exec_container_removed(c, "gone"));
	assert_true(exec_container_removed(c, "removing"));
	assert_false(exec_container_removed(c, "alive"));
	assert_false(exec_container_removed(c, "broken"));
	docker_client_free(c);
	mini_stop(&m);
}

/* ---- signals (signals.c) ---- */

struct sig_seen {
	int cancels, forces, cancel_sig, force_sig;
};

static void seen_cancel(void *ud, int signo)
{
	struct sig_seen *s = ud;
	s->cancels++;
	s->cancel_sig = signo;
}

static void seen_force(void *ud, int signo)
{
	struct sig_seen *s = ud;
	s->forces++;
	s->force_sig = signo;
}

/* Waits (bounded, not timed: 20 s is only a hang guard) until fd is readable. */
static bool readable_within(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	return poll(&p, 1, 20000) == 1;
}

/* SIGHUP cancels like SIGINT; a second SIGHUP does not escalate (terminals send bursts), a
 * SIGTERM after it does; the handler of the first sees SIGHUP. */
static void test_signals_hup_then_term(void **state)
{
	(void)state;
	struct sig_seen seen = {0};
	struct err err = ERR_INIT;
	struct exec_signals *s = exec_signals_start(seen_cancel, seen_force, &seen, 0, &err);
	assert_non_null(s);
	kill(getpid(), SIGHUP);
	assert_true(readable_within(exec_signals_cancel_fd(s)));
	assert_int_equal(exec_signals_received(s), SIGHUP);
	kill(getpid(), SIGHUP);
	kill(getpid(), SIGTERM);
	assert_true(readable_within(exec_signals_force_fd(s)));
	exec_signals_stop(s);
	assert_int_equal(seen.cancels, 1);
	assert_int_equal(seen.cancel_sig, SIGHUP);
	assert_int_equal(seen.forces, 1);
	assert_int_equal(seen.force_sig, SIGTERM);
}

/* SIGQUIT cancels (131 for the caller), and escalates when sent again. */
static void test_signals_quit(void **state)
{
	(void)state;
	struct sig_seen seen = {0};
	struct err err = ERR_INIT;
	struct exec_signals *s = exec_signals_start(seen_cancel, seen_force, &seen, 0, &err);
	assert_non_null(s);
	kill(getpid(), SIGQUIT);
	assert_true(readable_within(exec_signals_cancel_fd(s)));
	kill(getpid(), SIGQUIT);
	assert_true(readable_within(exec_signals_force_fd(s)));
	exec_signals_stop(s);
	assert_int_equal(seen.cancel_sig, SIGQUIT);
	assert_int_equal(seen.force_sig, SIGQUIT);
}

/* A writer's EPIPE (exec_signals_raise) and the watched stdout's reader going away both count
 * as SIGPIPE, once: writing to the closed pipe afterwards fails with EPIPE and does not kill
 * the process (SIGPIPE is blocked). */
static void test_signals_closed_output(void **state)
{
	(void)state;
	int saved = dup(1);
	int p[2];
	assert_int_equal(pipe(p), 0);
	assert_int_equal(dup2(p[1], 1), 1);
	close(p[1]);
	struct sig_seen seen = {0};
	struct err err = ERR_INIT;
	struct exec_signals *s =
	    exec_signals_start(seen_cancel, seen_force, &seen, EXEC_SIGNALS_WATCH_OUTPUT, &err);
	assert_non_null(s);
	close(p[0]); /* the reader goes away; nothing is written yet */
	bool cancel = readable_within(exec_signals_cancel_fd(s));
	ssize_t w = write(1, "x", 1);
	int werr = errno;
	exec_signals_raise(s, SIGPIPE); /* a writer reporting it again: no escalation */
	exec_signals_raise(s, SIGINT);  /* a deliberate second signal escalates */
	bool force = readable_within(exec_signals_force_fd(s));
	exec_signals_stop(s);
	dup2(saved, 1);
	close(saved);
	assert_true(cancel);
	assert_int_equal(w, -1);
	assert_int_equal(werr, EPIPE);
	assert_true(force);
	assert_int_equal(seen.cancels, 1);
	assert_int_equal(seen.cancel_sig, SIGPIPE);
	assert_int_equal(seen.force_sig, SIGINT);
}

/* The temporary directories of runnel name their owner: the reaper leaves those of live
 * processes alone and removes those of dead ones (a pid that cannot be running: above
 * pid_max, with a start time of 1). */
static void test_temp_dirs_reaped(void **state)
{
	(void)state;
	char root[] = "/tmp/test-exec-tmp-XXXXXX";
	assert_non_null(mkdtemp(root));
	const char *old = getenv("TMPDIR");
	char *saved = old ? strdup(old) : NULL;
	setenv("TMPDIR", root, 1);
	struct err err = ERR_INIT;
	char *mine = exec_temp_dir("certs", &err);
	assert_non_null(mine);
	assert_int_equal(strncmp(mine, root, strlen(root)), 0);
	char dead[256];
	snprintf(dead, sizeof(dead), "%s/runnel.99999999.1.certs.abcdef", root);
	assert_int_equal(mkdir(dead, 0700), 0);
	char other[256]; /* not runnel's: never touched */
	snprintf(other, sizeof(other), "%s/runnel-e2e.abcdef", root);
	assert_int_equal(mkdir(other, 0700), 0);
	struct strvec removed = STRVEC_INIT;
	struct exec_reap_opts o = {.removed = &removed};
	assert_int_equal(exec_reap(NULL, &o, &err), 0);
	assert_int_equal(access(mine, F_OK), 0);
	assert_int_not_equal(access(dead, F_OK), 0);
	assert_int_equal(access(other, F_OK), 0);
	assert_int_equal(removed.n, 1);
	assert_non_null(strstr(removed.v[0], "runnel.99999999.1.certs"));
	exec_remove_own_temp();
	assert_int_not_equal(access(mine, F_OK), 0);
	strvec_release(&removed);
	rmdir(other);
	assert_int_equal(rmdir(root), 0);
	if (saved)
		setenv("TMPDIR", saved, 1);
	else
		unsetenv("TMPDIR");
	free(saved);
	free(mine);
}

/* ---- the job's repository (vcs/gitdir.h) and the cache ---- */

static void sh(const char *fmt, const char *dir)
{
	char cmd[4096];
	snprintf(cmd, sizeof(cmd), "cd '%s' && (%s) >/dev/null 2>&1", dir, fmt);
	assert_int_equal(system(cmd), 0);
}

#define GIT_C "git -c user.email=t@e.st -c user.name=t -c init.defaultBranch=main "

/* stdout of `git -C dir args...` (owned), asserting it ran */
static char *git_out(const char *dir, const char *const *args)
{
	struct strbuf sb = STRBUF_INIT;
	struct err err = ERR_INIT;
	assert_int_equal(vcs_git(dir, args, &sb, &err), 0);
	return strbuf_detach(&sb, NULL);
}

/* A repository with a merge: c1 - c2 - c3 - M on main, c1 - s1 - s2 on side merged into M. */
static void make_merge_repo(const char *dir)
{
	sh(GIT_C "init -q && echo 1 > a.txt && echo keep > b.txt && git add . && " GIT_C
	         "commit -qm c1 && git branch side && echo 2 > a.txt && " GIT_C
	         "commit -qam c2 && echo 3 > a.txt && " GIT_C
	         "commit -qam c3 && git checkout -q side"
	         " && echo s1 > s.txt && git add s.txt && " GIT_C "commit -qm s1 && echo s2 > s.txt"
	         " && " GIT_C "commit -qam s2 && git checkout -q main && " GIT_C
	         "merge -q --no-edit side && git tag v1",
	   dir);
}

static void test_gitdir_create(void **state)
{
	char repo[] = "/tmp/runnel-gitdir-XXXXXX";
	assert_non_null(mkdtemp(repo));
	make_merge_repo(repo);
	/* the work tree the jobs see: the repository's files with one change and one new file */
	char wt[64], dest[64];
	snprintf(wt, sizeof(wt), "%s-wt", repo);
	snprintf(dest, sizeof(dest), "%s-git", repo);
	char cmd[2048];
	snprintf(cmd, sizeof(cmd),
	         "mkdir '%s' && cp a.txt b.txt s.txt '%s' && echo x >> '%s/b.txt'"
	         " && echo n > '%s/new.txt'",
	         wt, wt, wt, wt);
	sh(cmd, repo);
	const char *head_args[] = {"rev-parse", "HEAD", NULL};
	char *sha = git_out(repo, head_args);
	sha[40] = '\0';
	struct vcs_gitdir_opts o = {
	    .repo_dir = repo, .work_tree = wt, .origin_url = "https://h/p.git"};
	struct err err = ERR_INIT;
	assert_int_equal(vcs_gitdir_create(&o, dest, &err), 1);
	/* the job's view: dest/.git with wt's files (what `cp -a` of both gives) */
	snprintf(cmd, sizeof(cmd), "cp -a '%s/.git' .", dest);
	sh(cmd, wt);
	const char *status[] = {"status", "--porcelain", NULL};
	char *st = git_out(wt, status);
	assert_string_equal(st, " M b.txt\n?? new.txt\n");
	const char *detached[] = {"rev-parse", "--symbolic-full-name", "HEAD", NULL};
	char *sym = git_out(wt, detached);
	assert_string_equal(sym, "HEAD\n"); /* detached */
	char *h = git_out(wt, head_args);
	assert_int_equal(strncmp(h, sha, 40), 0);
	const char *heads[] = {"for-each-ref", "--format=%(refname)", "refs/heads", "refs/tags",
	                       NULL};
	char *refs = git_out(wt, heads);
	assert_string_equal(refs, "refs/tags/v1\n"); /* no local branch, tags kept */
	const char *url[] = {"config", "remote.origin.url", NULL};
	char *u = git_out(wt, url);
	assert_string_equal(u, "https://h/p.git\n");
	free(st), free(sym), free(h), free(refs), free(u);

	/* a commit that does not exist is an error naming the step */
	char bad[64];
	snprintf(bad, sizeof(bad), "%s-bad", repo);
	o.commit = "0123456789012345678901234567890123456789";
	assert_int_equal(vcs_gitdir_create(&o, bad, &err), -1);
	assert_non_null(strstr(err.msg, "update-ref"));
	assert_non_null(strstr(err.msg, repo));
	err_release(&err);
	/* no commit yet: nothing to clone, not an error */
	snprintf(cmd, sizeof(cmd), "rm -rf '%s' '%s' && git init -q '%s'", bad, dest, bad);
	sh(cmd, "/");
	o.repo_dir = bad;
	o.commit = NULL;
	assert_int_equal(vcs_gitdir_create(&o, dest, &err), 0);
	assert_false(err_is_set(&err));
	free(sha);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s' '%s' '%s' '%s'", repo, wt, dest, bad);
	sh(cmd, "/");
}

/* The shallow boundary matches what git's own `clone --depth` computes, merges included. */
static void test_gitdir_shallow(void **state)
{
	char repo[] = "/tmp/runnel-shallow-XXXXXX";
	assert_non_null(mkdtemp(repo));
	make_merge_repo(repo);
	char cmd[2048], gd[64], path[96], ref[96];
	snprintf(gd, sizeof(gd), "%s/.git", repo);
	snprintf(path, sizeof(path), "%s/mine", repo);
	for (int depth = 1; depth <= 5; depth++) {
		struct err err = ERR_INIT;
		unlink(path);
		assert_int_equal(vcs_gitdir_shallow(gd, "HEAD", (unsigned long)depth, path, &err),
		                 0);
		snprintf(ref, sizeof(ref), "%s-clone", repo);
		snprintf(cmd, sizeof(cmd),
		         "rm -rf '%s' && git clone -q --depth %d 'file://%s' '%s' && "
		         "(sort '%s/.git/shallow' 2>/dev/null || true) > '%s/want' && "
		         "(sort '%s' 2>/dev/null || true) > '%s/got' && cmp '%s/want' '%s/got'",
		         ref, depth, repo, ref, ref, repo, path, repo, repo, repo);
		sh(cmd, repo);
	}
	/* deeper than the history: no boundary, no file */
	struct err err = ERR_INIT;
	unlink(path);
	assert_int_equal(vcs_gitdir_shallow(gd, "HEAD", 50, path, &err), 0);
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(vcs_gitdir_depth("20"), 20);
	assert_int_equal(vcs_gitdir_depth("0"), 0);
	assert_int_equal(vcs_gitdir_depth("-3"), 0);
	assert_int_equal(vcs_gitdir_depth("5a"), 0);
	assert_int_equal(vcs_gitdir_depth(""), 0);
	assert_int_equal(vcs_gitdir_depth(NULL), 0);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s' '%s-clone'", repo, repo);
	sh(cmd, "/");
}

/* Shell executor in a real repository: GIT_STRATEGY, GIT_DEPTH, and the cache across runs. */
static void test_shell_git_and_cache(void **state)
{
	struct env *e = env_new();
	make_merge_repo(e->dir);
	const char *head_args[] = {"rev-parse", "HEAD", NULL};
	char *sha = git_out(e->dir, head_args);
	sha[40] = '\0';
	var_list_set_kv(NULL, &e->predefined, "CI_COMMIT_SHA", sha);
	strvec_push(&e->files, "a.txt");
	struct job *j = fix_job(&e->fx, "git", 0);
	static const char *s1[] = {
	    "echo \"head=$(git rev-parse HEAD) n=$(git log --oneline | wc -l)\"",
	    "echo \"cached=$(cat c/f 2>/dev/null || echo none)\"",
	    "mkdir -p c && echo from-cache > c/f"};
	j->script = strs(s1, 3);
	static const char *cpaths[] = {"c/"};
	static struct cache_spec cache = {.key = "k-$CI_JOB_NAME", .when = ART_ON_SUCCESS};
	cache.paths = strs(cpaths, 1);
	j->caches = &cache;
	j->n_caches = 1;
	struct job *none = fix_job(&e->fx, "none", 0);
	static const char *s2[] = {"test ! -e .git", "test -f a.txt", "echo none-ok"};
	none->script = strs(s2, 3);
	static struct var nv[] = {{.key = "GIT_STRATEGY", .value = "none"}};
	none->variables = (struct var_list){nv, 1, 1};
	struct job *depth = fix_job(&e->fx, "depth", 0);
	static const char *s3[] = {"echo \"depth-n=$(git log --oneline | wc -l)\""};
	depth->script = strs(s3, 1);
	static struct var dv[] = {{.key = "GIT_DEPTH", .value = "1"}};
	depth->variables = (struct var_list){dv, 1, 1};
	env_start(e);
	assert_non_null(e->run.git_layer);
	assert_int_equal(run_job(e, "git").failure, FAILURE_NONE);
	assert_int_equal(run_job(e, "git").failure, FAILURE_NONE);
	assert_int_equal(run_job(e, "none").failure, FAILURE_NONE);
	assert_int_equal(run_job(e, "depth").failure, FAILURE_NONE);
	char *out = output(e);
	char want[128];
	snprintf(want, sizeof(want), "head=%s n=6\n", sha);
	assert_non_null(strstr(out, want));
	const char *first = strstr(out, "cached=none");
	assert_non_null(first);
	assert_non_null(strstr(first, "Creating cache k-git..."));
	assert_non_null(strstr(first, "cached=from-cache")); /* the second attempt restored it */
	assert_non_null(strstr(out, "none-ok"));
	assert_non_null(strstr(out, "depth-n=1\n"));
	free(out);
	free(sha);
	env_free(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_shell_success),
	    cmocka_unit_test(test_shell_failure_after_script),
	    cmocka_unit_test(test_shell_timeout),
	    cmocka_unit_test(test_shell_cancel),
	    cmocka_unit_test(test_dotenv_between_jobs),
	    cmocka_unit_test(test_labels),
	    cmocka_unit_test(test_temp_dirs_reaped),
	    cmocka_unit_test(test_container_removed),
	    cmocka_unit_test(test_signals_hup_then_term),
	    cmocka_unit_test(test_signals_quit),
	    cmocka_unit_test(test_signals_closed_output),
	    cmocka_unit_test(test_gitdir_create),
	    cmocka_unit_test(test_gitdir_shallow),
	    cmocka_unit_test(test_shell_git_and_cache),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
