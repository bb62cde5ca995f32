/* Unit tests for report/: line assembly of parallel jobs, per-job log files (masked, raw),
 * stream 0 styling, timestamps, the summary table, the JSON report, coverage extraction and
 * JUnit counts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "model/job.h"
#include "report/report.h"
#include "util/cleanup.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

struct tmp {
	char dir[64];
};

static void tmp_make(struct tmp *t)
{
	strcpy(t->dir, "/tmp/test-report-XXXXXX");
	assert_non_null(mkdtemp(t->dir));
}

static void tmp_remove(struct tmp *t)
{
	char *cmd = xasprintf("rm -rf '%s'", t->dir);
	assert_int_equal(system(cmd), 0);
	free(cmd);
}

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	struct strbuf sb = STRBUF_INIT;
	char buf[4096];
	size_t n;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		strbuf_add(&sb, buf, n);
	fclose(f);
	return strbuf_detach(&sb, NULL);
}

/* A report whose terminal output goes to <tmp>/out and, with logs, whose job logs go to
 * <tmp>/logs: report_case_open() creates them, report_case_finish() frees the report and returns
 * what it printed (owned). */
struct report_case {
	struct tmp t;
	char *out_path;
	char *log_dir; /* NULL without logs */
	int fd;
	struct report *r;
};

static void report_case_open(struct report_case *c, struct report_opts *o, bool logs)
{
	tmp_make(&c->t);
	c->out_path = xasprintf("%s/out", c->t.dir);
	c->log_dir = logs ? xasprintf("%s/logs", c->t.dir) : NULL;
	o->log_dir = c->log_dir;
	c->fd = open(c->out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(c->fd >= 0);
	o->out_fd = c->fd;
	struct err err = ERR_INIT;
	c->r = report_new(o, &err);
	assert_non_null(c->r);
}

static char *report_case_finish(struct report_case *c)
{
	report_free(c->r);
	close(c->fd);
	return read_file(c->out_path);
}

static void report_case_remove(struct report_case *c)
{
	free(c->out_path);
	free(c->log_dir);
	tmp_remove(&c->t);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* ---- parallel line assembly ---- */

struct writer {
	struct job_log *jl;
	int id;
};

enum { NJOBS = 6, NLINES = 300 };

/* Writes NLINES lines "job<id> line <i> <padding>" in odd-sized chunks, alternating with
 * stream 2 lines, so partial lines are common. */
static void *writer_main(void *arg)
{
	struct writer *w = arg;
	struct strbuf all = STRBUF_INIT;
	for (int i = 0; i < NLINES; i++)
		strbuf_addf(&all, "job%d line %d %.*s\n", w->id, i, (i * 7) % 50,
		            "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
	size_t off = 0, step = 1;
	while (off < all.len) {
		size_t n = step < all.len - off ? step : all.len - off;
		report_job_write(w->jl, 1, all.buf + off, n);
		off += n;
		step = step * 3 % 61 + 1;
		if (off % 5 == 0)
			report_job_write(w->jl, 2, "err\n", 4);
	}
	strbuf_release(&all);
	return NULL;
}

static void test_report_parallel_lines_never_interleave(void **state)
{
	(void)state;
	struct report_case rc;
	struct report_opts o = REPORT_OPTS_INIT;
	o.name_width = 6;
	report_case_open(&rc, &o, false);
	struct report *r = rc.r;
	struct err err = ERR_INIT;
	struct writer w[NJOBS];
	pthread_t th[NJOBS];
	for (int i = 0; i < NJOBS; i++) {
		char name[16];
		snprintf(name, sizeof(name), "job%d", i);
		w[i].jl = report_job_open(r, name, NULL, &err);
		assert_non_null(w[i].jl);
		w[i].id = i;
		pthread_create(&th[i], NULL, writer_main, &w[i]);
	}
	for (int i = 0; i < NJOBS; i++) {
		pthread_join(th[i], NULL);
		report_job_close(w[i].jl);
	}

	/* every line is "jobN   | jobN line K ..." or "jobN   | err", in order per job */
	_cleanup_free_ char *text = report_case_finish(&rc);
	int next[NJOBS] = {0};
	char *save = NULL;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		int id = -1, id2 = -1, k = -1;
		assert_int_equal(sscanf(line, "job%d", &id), 1);
		assert_true(id >= 0 && id < NJOBS);
		assert_memory_equal(line + 4, "   | ", 5);
		if (strcmp(line + 9, "err") == 0)
			continue;
		if (sscanf(line + 9, "job%d line %d", &id2, &k) != 2)
			fail_msg("mangled line '%s'", line);
		assert_int_equal(id, id2);
		assert_int_equal(k, next[id]);
		size_t pad = strlen(line + 9) - (size_t)snprintf(NULL, 0, "job%d line %d ", id, k);
		assert_int_equal(pad, (size_t)((k * 7) % 50));
		next[id]++;
	}
	for (int i = 0; i < NJOBS; i++)
		assert_int_equal(next[i], NLINES);
	report_case_remove(&rc);
}

/* ---- log files, masking, stream 0 ---- */

static void test_report_log_file_masked_and_styled(void **state)
{
	(void)state;
	struct report_case rc;
	struct report_opts o = REPORT_OPTS_INIT;
	report_case_open(&rc, &o, true);
	struct report *r = rc.r;
	struct err err = ERR_INIT;

	struct var v[] = {{.key = "API_KEY", .value = "supersecret99", .masked = true}};
	struct var_list masked = {.v = v, .n = 1};
	struct job_log *jl = report_job_open(r, "test 1/3", &masked, &err);
	assert_non_null(jl);
	_cleanup_free_ char *want_path = xasprintf("%s/test_1_3.log", rc.log_dir);
	assert_string_equal(report_job_log_path(jl), want_path);

	report_job_printf(jl, "Pulling docker image %s ...", "alpine");
	report_job_write(jl, 1, "key=super", 9);
	report_job_write(jl, 1, "secret99 ok\npartial", 19);
	report_job_printf(jl, "WARNING: something odd");
	report_job_printf(jl, "ERROR: Job failed: exit code 1\n");
	report_job_close(jl);
	_cleanup_free_ char *term = report_case_finish(&rc);

	_cleanup_free_ char *log = read_file(want_path);
	assert_string_equal(log, "\033[32;1mPulling docker image alpine ...\033[0;m\n"
	                         "key=[MASKED] ok\n"
	                         "\033[0;33mWARNING: something odd\033[0;m\n"
	                         "\033[31;1mERROR: Job failed: exit code 1\033[0;m\n"
	                         "partial\n");
	assert_string_equal(term, "test 1/3 | Pulling docker image alpine ...\n"
	                          "test 1/3 | key=[MASKED] ok\n"
	                          "test 1/3 | WARNING: something odd\n"
	                          "test 1/3 | ERROR: Job failed: exit code 1\n"
	                          "test 1/3 | partial\n");
	assert_null(strstr(term, "supersecret99"));
	report_case_remove(&rc);
}

static void count_closed(void *ud)
{
	(*(int *)ud)++;
}

/* The terminal's reader goes away (`runnel run | head`): the first failed write reports it
 * once, nothing more is written there (no EPIPE loop), and the job log still gets every
 * line. SIGPIPE is ignored here as exec_signals blocks it in runnel. */
static void test_report_output_closed(void **state)
{
	(void)state;
	struct sigaction ign = {.sa_handler = SIG_IGN}, old;
	sigaction(SIGPIPE, &ign, &old);
	struct tmp t;
	tmp_make(&t);
	int p[2];
	assert_int_equal(pipe(p), 0);
	close(p[0]);
	int closed = 0;
	struct report_opts o = REPORT_OPTS_INIT;
	_cleanup_free_ char *log_dir = xasprintf("%s/logs", t.dir);
	o.log_dir = log_dir;
	o.out_fd = p[1];
	o.on_output_closed = count_closed;
	o.userdata = &closed;
	struct err err = ERR_INIT;
	struct report *r = report_new(&o, &err);
	assert_non_null(r);
	struct job_log *jl = report_job_open(r, "job", NULL, &err);
	assert_non_null(jl);
	report_job_write(jl, 1, "one\n", 4);
	report_job_printf(jl, "ERROR: Job failed: canceled");
	report_job_write(jl, 2, "two\npartial", 11);
	_cleanup_free_ char *path = xstrdup(report_job_log_path(jl));
	report_job_close(jl);
	struct job_result res = {.name = "job", .stage = "test", .status = JOB_CANCELED};
	report_summary(r, &res, 1, 1.0);
	report_free(r);
	close(p[1]);
	sigaction(SIGPIPE, &old, NULL);
	assert_int_equal(closed, 1);
	_cleanup_free_ char *log = read_file(path);
	assert_string_equal(log,
	                    "one\n\033[31;1mERROR: Job failed: canceled\033[0;m\ntwo\npartial\n");
	tmp_remove(&t);
}

static void test_report_retry_appends_log(void **state)
{
	(void)state;
	struct report_case rc;
	struct report_opts o = REPORT_OPTS_INIT;
	report_case_open(&rc, &o, true);
	struct report *r = rc.r;
	struct err err = ERR_INIT;
	for (int attempt = 0; attempt < 2; attempt++) {
		struct job_log *jl = report_job_open(r, "build", NULL, &err);
		assert_non_null(jl);
		report_job_write(jl, 1, attempt ? "second\n" : "first\n", attempt ? 7 : 6);
		report_job_close(jl);
	}
	free(report_case_finish(&rc));
	_cleanup_free_ char *p = xasprintf("%s/build.log", rc.log_dir);
	_cleanup_free_ char *log = read_file(p);
	assert_string_equal(log, "first\nsecond\n");
	report_case_remove(&rc);
}

static void test_report_colour_and_timestamps(void **state)
{
	(void)state;
	struct report_case rc;
	struct report_opts o = REPORT_OPTS_INIT;
	o.color = true;
	o.timestamps = true;
	o.name_width = 4;
	report_case_open(&rc, &o, false);
	struct err err = ERR_INIT;
	struct job_log *jl = report_job_open(rc.r, "ab", NULL, &err);
	report_job_write(jl, 1, "\033[31mred\n", 9);
	report_job_close(jl);
	_cleanup_free_ char *term = report_case_finish(&rc);
	/* HH:MM:SS.mmm, coloured name padded to 4, reset, separator, then a reset after the
	 * job's own colour so it cannot leak */
	int hh, mm, ss, ms;
	assert_int_equal(sscanf(term, "%2d:%2d:%2d.%3d ", &hh, &mm, &ss, &ms), 4);
	const char *rest = term + 13;
	assert_memory_equal(rest, "\033[", 2);
	assert_non_null(strstr(rest, "ab  \033[0m | \033[31mred\033[0m\n"));
	report_case_remove(&rc);
}

static void test_report_log_file_names(void **state)
{
	(void)state;
	static const char *const cases[][2] = {
	    {"build", "build.log"},
	    {"test 1/3", "test_1_3.log"},
	    {"build: [linux, amd64]", "build_linux_amd64.log"},
	    {"..", "_...log"},
	    {"/", "_.log"},
	    {"", "_.log"},
	    {"a.b-c_d", "a.b-c_d.log"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *n = report_log_file_name(cases[i][0]);
		assert_string_equal(n, cases[i][1]);
		free(n);
	}
}

/* ---- summary and JSON ---- */

static const struct job_result results[] = {
    {.name = "build",
     .stage = "build",
     .status = JOB_SUCCESS,
     .exit_code = 0,
     .duration_s = 1.25,
     .coverage = -1},
    {.name = "test-long-name",
     .stage = "test",
     .status = JOB_FAILED,
     .exit_code = 2,
     .duration_s = 125,
     .reason = "script_failure",
     .log_path = "logs/test-long-name.log",
     .coverage = 87.5,
     .junit_tests = 10,
     .junit_failures = 2},
    {.name = "lint",
     .stage = "test",
     .status = JOB_WARNING,
     .exit_code = 1,
     .duration_s = 0.5,
     .coverage = -1,
     .junit_tests = 3},
    {.name = "deploy",
     .stage = "deploy",
     .status = JOB_SKIPPED,
     .exit_code = -1,
     .reason = "when: manual",
     .coverage = -1},
};

static void test_report_summary_table(void **state)
{
	(void)state;
	struct report_case rc;
	struct report_opts o = REPORT_OPTS_INIT;
	report_case_open(&rc, &o, false);
	report_summary(rc.r, results, 4, 130.2);
	_cleanup_free_ char *s = report_case_finish(&rc);
	assert_string_equal(
	    s, "\n"
	       "JOB             STAGE   STATUS    DURATION  EXIT\n"
	       "build           build   success   1.2s      0\n"
	       "test-long-name  test    failed    2m05s     2     script_failure\n"
	       "lint            test    warning   0.5s      1\n"
	       "deploy          deploy  skipped   0.0s      -     when: manual\n"
	       "\n"
	       "4 jobs: 1 succeeded, 1 allowed to fail, 1 failed, 1 skipped in 2m10s\n");
	report_case_remove(&rc);
}

static void test_report_json(void **state)
{
	(void)state;
	struct tmp t;
	tmp_make(&t);
	_cleanup_free_ char *p = xasprintf("%s/report.json", t.dir);
	struct err err = ERR_INIT;
	assert_int_equal(report_write_json(p, results, 4, 130.2, false, &err), 0);
	json_error_t je;
	json_t *root = json_load_file(p, 0, &je);
	assert_non_null(root);
	assert_string_equal(json_string_value(json_object_get(root, "status")), "failed");
	assert_true(json_real_value(json_object_get(root, "duration_s")) == 130.2);
	/* no binary noise like 130.19999999999999 in the file */
	_cleanup_free_ char *text = read_file(p);
	assert_non_null(strstr(text, "\"duration_s\": 130.2,"));
	json_t *junit = json_object_get(root, "junit");
	assert_int_equal(json_integer_value(json_object_get(junit, "tests")), 13);
	assert_int_equal(json_integer_value(json_object_get(junit, "failures")), 2);
	json_t *jobs = json_object_get(root, "jobs");
	assert_int_equal(json_array_size(jobs), 4);
	json_t *j1 = json_array_get(jobs, 1);
	assert_string_equal(json_string_value(json_object_get(j1, "name")), "test-long-name");
	assert_string_equal(json_string_value(json_object_get(j1, "status")), "failed");
	assert_int_equal(json_integer_value(json_object_get(j1, "exit_code")), 2);
	assert_true(json_real_value(json_object_get(j1, "coverage")) == 87.5);
	assert_string_equal(json_string_value(json_object_get(j1, "reason")), "script_failure");
	json_t *j3 = json_array_get(jobs, 3);
	assert_true(json_is_null(json_object_get(j3, "exit_code")));
	assert_true(json_is_null(json_object_get(j3, "coverage")));
	assert_string_equal(json_string_value(json_object_get(j3, "status")), "skipped");
	json_decref(root);

	/* an unwritable path is an error naming it */
	assert_int_equal(report_write_json("/nonexistent-dir/r.json", results, 1, 1, true, &err),
	                 -1);
	assert_non_null(strstr(err.msg, "/nonexistent-dir/r.json"));
	err_release(&err);
	tmp_remove(&t);
}

static void test_report_status_names(void **state)
{
	(void)state;
	assert_string_equal(job_status_name(JOB_SUCCESS), "success");
	assert_string_equal(job_status_name(JOB_WARNING), "warning");
	assert_string_equal(job_status_name(JOB_TIMEDOUT), "timedout");
	assert_string_equal(job_status_name(JOB_CANCELED), "canceled");
}

/* ---- coverage ---- */

static void test_report_coverage(void **state)
{
	(void)state;
	struct tmp t;
	tmp_make(&t);
	_cleanup_free_ char *p = xasprintf("%s/job.log", t.dir);
	write_file(p, "Coverage: 10.5%\n"
	              "noise\n"
	              "\033[32mCoverage: \033[1m87.25%\033[0m of lines\n"
	              "Coverage: n/a\n"
	              "tail\n");
	double cov = -1;
	/* last line that yields a number wins; ANSI colours are ignored */
	assert_int_equal(report_coverage("/Coverage: \\d+\\.\\d+%/", p, &cov), 1);
	assert_true(cov == 87.25);
	/* without slashes too */
	cov = -1;
	assert_int_equal(report_coverage("Coverage: \\S+", p, &cov), 1);
	assert_true(cov == 87.25);
	/* capture group: the last group of the last match */
	write_file(p, "lines 50% branches 70% total (66.6%)\n");
	assert_int_equal(report_coverage("/total \\((\\d+\\.\\d+)%\\)/", p, &cov), 1);
	assert_true(cov == 66.6);
	/* several matches in one line: the last one */
	write_file(p, "lines 50% branches 70% end\n");
	assert_int_equal(report_coverage("/\\d+%/", p, &cov), 1);
	assert_true(cov == 70);
	/* integer only */
	write_file(p, "all files | 93 | 80\n");
	assert_int_equal(report_coverage("/all files \\| \\d+/", p, &cov), 1);
	assert_true(cov == 93);
	/* no match */
	cov = -1;
	assert_int_equal(report_coverage("/Total: \\d+/", p, &cov), 0);
	assert_true(cov == -1);
	/* invalid regex, missing log */
	assert_int_equal(report_coverage("/(unclosed/", p, &cov), -1);
	assert_int_equal(report_coverage("/x/", "/nonexistent/log", &cov), -1);
	tmp_remove(&t);
}

/* ---- junit ---- */

static void test_report_junit(void **state)
{
	(void)state;
	struct tmp t;
	tmp_make(&t);
	_cleanup_free_ char *p = xasprintf("%s/junit.xml", t.dir);
	write_file(p,
	           "<?xml version=\"1.0\"?>\n"
	           "<!-- <testcase name=\"commented\"/> -->\n"
	           "<testsuites><testsuite name=\"s\" tests=\"5\">\n"
	           "  <testcase name=\"ok\" classname=\"a>b\"/>\n"
	           "  <testcase name=\"fail\"><failure message=\"x\">trace &lt;testcase</failure>"
	           "<error/></testcase>\n"
	           "  <testcase name=\"err\">\n<error type=\"E\"/></testcase>\n"
	           "  <testcase name=\"cdata\"><system-out><![CDATA[<failure>]]></system-out>"
	           "</testcase>\n"
	           "  <testcase\tname=\"skipped\"><skipped/></testcase>\n"
	           "</testsuite></testsuites>\n");
	unsigned tests = 0, failures = 0;
	struct err err = ERR_INIT;
	assert_int_equal(report_junit_summary(p, &tests, &failures, &err), 0);
	assert_int_equal(tests, 5);
	assert_int_equal(failures, 2);
	/* counts add up over several files */
	assert_int_equal(report_junit_summary(p, &tests, &failures, &err), 0);
	assert_int_equal(tests, 10);
	assert_int_equal(failures, 4);

	/* malformed input never crashes and counts what it can */
	static const char *const bad[] = {"<",
	                                  "<testcase",
	                                  "<testcase name=\"unterminated",
	                                  "<!--",
	                                  "<![CDATA[",
	                                  "<<<>>>/<//>",
	                                  "<testcase><failure",
	                                  "\0\0\0",
	                                  "<testcaseXYZ/><failureX/>"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		write_file(p, bad[i]);
		tests = failures = 0;
		assert_int_equal(report_junit_summary(p, &tests, &failures, &err), 0);
		assert_true(tests <= 1 && failures <= 1);
	}
	write_file(p, "<testcase><failure");
	tests = failures = 0;
	report_junit_summary(p, &tests, &failures, &err);
	assert_int_equal(tests, 1);
	assert_int_equal(failures, 0); /* the failure tag never got its name terminated */

	assert_int_equal(report_junit_summary("/nonexistent.xml", &tests, &failures, &err), -1);
	assert_non_null(strstr(err.msg, "/nonexistent.xml"));
	err_release(&err);
	tmp_remove(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_report_parallel_lines_never_interleave),
	    cmocka_unit_test(test_report_log_file_masked_and_styled),
	    cmocka_unit_test(test_report_retry_appends_log),
	    cmocka_unit_test(test_report_output_closed),
	    cmocka_unit_test(test_report_colour_and_timestamps),
	    cmocka_unit_test(test_report_log_file_names),
	    cmocka_unit_test(test_report_summary_table),
	    cmocka_unit_test(test_report_json),
	    cmocka_unit_test(test_report_status_names),
	    cmocka_unit_test(test_report_coverage),
	    cmocka_unit_test(test_report_junit),
	};
	return cmocka_run_group_tests(tests, 0, NULL);
}
