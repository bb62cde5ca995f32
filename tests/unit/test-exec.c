/* Tests for exec/ without a container engine: whole job attempts through the shell executor
 * (variables and their precedence, project copy, exit codes, after_script status, timeout,
 * cancellation, dotenv between jobs) and the object labels. The Docker executor is covered by
 * tests/e2e/t2xx-run-*.sh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exec/exec.h"
#include "model/vars.h"
#include "plan-fixture.h"
#include "plan/dag.h"
#include "report/report.h"
#include "util/strbuf.h"
#include "util/strvec.h"

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
	strvec_release(&l);
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
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
