/* Tests for report/history: run records under <state>/runs/<N>/ with copies of the job logs,
 * numbering, reading back (newest, by number, half-written and broken records), pruning to
 * keep_runs, and the error paths. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "report/history.h"
#include "util/fsutil.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

static char tmpdir[] = "/tmp/runnel-test-history-XXXXXX";

static char *path_in(const char *name)
{
	return xasprintf("%s/%s", tmpdir, name);
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static char *read_text(const char *path)
{
	struct strbuf sb = STRBUF_INIT;
	assert_int_equal(fs_read_file(path, 0, 1 << 20, &sb), 0);
	return strbuf_detach(&sb, NULL);
}

static bool exists(const char *path)
{
	return access(path, F_OK) == 0;
}

/* A state dir with a logs/ folder: <tmpdir>/<name>. */
static char *new_state(const char *name)
{
	char *state = path_in(name);
	assert_int_equal(mkdir(state, 0755), 0);
	char *logs = xasprintf("%s/logs", state);
	assert_int_equal(mkdir(logs, 0755), 0);
	free(logs);
	return state;
}

/* Records one run of two jobs (build succeeded, test failed) whose logs say `round`; the
 * job `never` has no log file. */
static unsigned record_round(const char *state, int round, long keep)
{
	char *build_log = xasprintf("%s/logs/build.log", state);
	char *test_log = xasprintf("%s/logs/test.log", state);
	char *never_log = xasprintf("%s/logs/never.log", state);
	char *text = xasprintf("build round %d\n", round);
	write_text(build_log, text);
	free(text);
	text = xasprintf("test round %d\n", round);
	write_text(test_log, text);
	free(text);
	struct job_result res[3] = {
	    {.name = "build",
	     .stage = "build",
	     .status = JOB_SUCCESS,
	     .exit_code = 0,
	     .duration_s = 1.5,
	     .log_path = build_log},
	    {.name = "test",
	     .stage = "test",
	     .status = JOB_FAILED,
	     .exit_code = 3,
	     .duration_s = 2.0,
	     .log_path = test_log},
	    {.name = "never",
	     .stage = "test",
	     .status = JOB_SKIPPED,
	     .exit_code = -1,
	     .log_path = never_log},
	};
	struct history_info info = {.branch = "main",
	                            .source = "push",
	                            .commit = "0123456789abcdef0123456789abcdef01234567",
	                            .started = 1700000000 + round,
	                            .duration_s = 3.5,
	                            .result = "failed",
	                            .keep = keep};
	struct err err = ERR_INIT;
	unsigned number = 0;
	assert_int_equal(history_record(state, &info, res, 3, &number, &err), 0);
	assert_null(err.msg);
	free(build_log);
	free(test_log);
	free(never_log);
	return number;
}

static void test_record_and_load(void **state)
{
	(void)state;
	char *st = new_state("basic");
	assert_int_equal(record_round(st, 1, 20), 1);
	assert_int_equal(record_round(st, 2, 20), 2);
	struct history_run r;
	struct err err = ERR_INIT;
	assert_int_equal(history_load(st, 0, &r, &err), 0);
	assert_int_equal(r.number, 2);
	assert_int_equal(r.started, 1700000002);
	assert_string_equal(r.branch, "main");
	assert_null(r.tag);
	assert_string_equal(r.source, "push");
	assert_string_equal(r.result, "failed");
	assert_int_equal(r.n_jobs, 3);
	assert_string_equal(r.jobs[1].name, "test");
	assert_string_equal(r.jobs[1].status, "failed");
	assert_int_equal(r.jobs[1].exit_code, 3);
	assert_true(history_status_failed(r.jobs[1].status));
	assert_false(history_status_failed(r.jobs[0].status));
	assert_null(r.jobs[2].log_path); /* no log file: none recorded */
	assert_int_equal(r.jobs[2].exit_code, -1);
	char *text = read_text(r.jobs[0].log_path);
	assert_string_equal(text, "build round 2\n");
	free(text);
	history_run_release(&r);
	/* run 1's copy is what its log said then, not what logs/ says now */
	assert_int_equal(history_load(st, 1, &r, &err), 0);
	text = read_text(r.jobs[1].log_path);
	assert_string_equal(text, "test round 1\n");
	free(text);
	history_run_release(&r);
	assert_int_equal(history_load(st, 7, &r, &err), 1);
	free(st);
}

static void test_numbers_and_pruning(void **state)
{
	(void)state;
	char *st = new_state("prune");
	struct err err = ERR_INIT;
	unsigned *nums;
	size_t n;
	assert_int_equal(history_numbers(st, &nums, &n, &err), 0);
	assert_int_equal(n, 0); /* no runs/ yet: no history, no error */
	free(nums);
	for (int i = 1; i <= 4; i++)
		assert_int_equal(record_round(st, i, 2), (unsigned)i);
	/* names that are not run numbers are not runs */
	char *odd = xasprintf("%s/runs/01", st);
	assert_int_equal(mkdir(odd, 0755), 0);
	free(odd);
	assert_int_equal(history_numbers(st, &nums, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_int_equal(nums[0], 4);
	assert_int_equal(nums[1], 3);
	free(nums);
	char *gone = xasprintf("%s/runs/2/logs/build.log", st);
	assert_false(exists(gone));
	free(gone);
	/* numbering goes on from the newest, not from the count */
	assert_int_equal(record_round(st, 5, -1), 5);
	assert_int_equal(record_round(st, 6, -1), 6);
	assert_int_equal(history_numbers(st, &nums, &n, &err), 0);
	assert_int_equal(n, 4); /* keep -1: nothing pruned */
	free(nums);
	free(st);
}

static void test_half_written_and_broken(void **state)
{
	(void)state;
	char *st = new_state("broken");
	assert_int_equal(record_round(st, 1, 20), 1);
	/* run 2 still being written: a folder without run.json */
	char *d = xasprintf("%s/runs/2", st);
	assert_int_equal(mkdir(d, 0755), 0);
	struct history_run r;
	struct err err = ERR_INIT;
	assert_int_equal(history_load(st, 0, &r, &err), 0);
	assert_int_equal(r.number, 1);
	history_run_release(&r);
	/* the next run takes 3: run 2's folder is someone's */
	assert_int_equal(record_round(st, 3, 20), 3);
	char *rec = xasprintf("%s/runs/3/run.json", st);
	write_text(rec, "{ not json");
	assert_int_equal(history_load(st, 3, &r, &err), -1);
	assert_non_null(strstr(err.msg, "cannot read run record"));
	err_release(&err);
	free(rec);
	free(d);
	free(st);
}

static void test_unwritable_state(void **state)
{
	(void)state;
	char *st = new_state("unwritable");
	char *runs = xasprintf("%s/runs", st);
	write_text(runs, "a file where the folder should be\n");
	struct history_info info = {.branch = "main", .result = "success", .keep = 20};
	struct err err = ERR_INIT;
	unsigned number = 0;
	assert_int_equal(history_record(st, &info, NULL, 0, &number, &err), -1);
	assert_non_null(err.msg);
	assert_int_equal(number, 0);
	err_release(&err);
	unsigned *nums;
	size_t n;
	assert_int_equal(history_numbers(st, &nums, &n, &err), -1);
	err_release(&err);
	free(runs);
	free(st);
}

static int setup(void **state)
{
	(void)state;
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	struct err err = ERR_INIT;
	int r = fs_rmtree(tmpdir, &err);
	err_release(&err);
	return r;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_record_and_load),
	    cmocka_unit_test(test_numbers_and_pruning),
	    cmocka_unit_test(test_half_written_and_broken),
	    cmocka_unit_test(test_unwritable_state),
	};
	return cmocka_run_group_tests_name("history", tests, setup, teardown);
}
