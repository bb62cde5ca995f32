/* Job output and run reporting: live, line-buffered, per-job prefixed output of parallel jobs
 * (never interleaved mid-line), per-job log files, masking of secret values (also when a value
 * is split across chunks), timestamps, the end-of-run summary table and the JSON report.
 * Thread-safe: executors call these from their job threads. */
#pragma once
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "util/err.h"

struct report;  /* one per run */
struct job_log; /* one per job attempt */
struct var_list;

struct report_opts {
	bool color;          /* ANSI colour (TTY and no NO_COLOR) */
	bool timestamps;     /* --timestamps: prefix each line with the time */
	const char *log_dir; /* where <job>.log files go (e.g. .runnel/logs); NULL = none */
	int out_fd;          /* where live output goes (1) */
	size_t name_width;   /* width of the job-name prefix column (longest name) */
	/* Called once (from whichever thread wrote, with the report's output lock held: it must
	 * not write to the report) when out_fd's reader is gone (EPIPE) or its terminal hung up
	 * (EIO); live output stops there, the job logs go on. NULL: just stop. */
	void (*on_output_closed)(void *userdata);
	void *userdata;
};
/* clang-format off */ /* (clang-format 14 spreads a braced initializer macro over lines) */
#define REPORT_OPTS_INIT { .color = false, .timestamps = false, .log_dir = NULL, .out_fd = 1, \
	.name_width = 0, .on_output_closed = NULL, .userdata = NULL }
/* clang-format on */

struct report *report_new(const struct report_opts *opts, struct err *err);
void report_free(struct report *r);

/* Opens the log of one job. `masked` (borrowed, copied) lists the variables whose values are
 * masked (those with masked=true). Returns an owned job_log or NULL with err. */
struct job_log *report_job_open(struct report *r, const char *job_name,
                                const struct var_list *masked, struct err *err);
/* Output bytes of the job (stream 1 = stdout, 2 = stderr, 0 = runnel's own messages about the
 * job). Buffered to whole lines, masked, prefixed, written live and to the log file. */
void report_job_write(struct job_log *jl, int stream, const char *data, size_t len);
void report_job_printf(struct job_log *jl, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Flushes a trailing partial line and closes the log file. NULL-safe. */
void report_job_close(struct job_log *jl);
/* Path of the job's log file (borrowed), or NULL. */
const char *report_job_log_path(const struct job_log *jl);
/* va_list form of report_job_printf. A message starting with "WARNING:" is styled yellow,
 * "ERROR:" red, anything else bold green (gitlab-runner's colours); a trailing newline is
 * optional. */
void report_job_vprintf(struct job_log *jl, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
/* File name (not path) of a job's log: the job name with runs of characters outside
 * [A-Za-z0-9._-] turned into one '_', never starting with '.', plus ".log".
 * "test 1/3" -> "test_1_3.log". Returns an owned string. */
char *report_log_file_name(const char *job_name);

enum job_status {
	JOB_PENDING,
	JOB_RUNNING,
	JOB_SUCCESS,
	JOB_WARNING, /* failed with allow_failure */
	JOB_FAILED,
	JOB_CANCELED,
	JOB_SKIPPED, /* when: never at run time, on_success after failure, manual not run... */
	JOB_TIMEDOUT,
};
const char *job_status_name(enum job_status s); /* "success", "failed", "warning", ... */

struct job_result {
	const char *name;
	const char *stage;
	enum job_status status;
	int exit_code; /* -1 when the job did not run a script */
	double duration_s;
	const char *reason; /* failure reason or skip reason, NULL if none */
	const char *log_path;
	double coverage;                      /* < 0 when not computed */
	unsigned junit_tests, junit_failures; /* from artifacts:reports:junit */
};

/* Prints the summary table (job, stage, status, duration, exit code) to the report's output. */
void report_summary(struct report *r, const struct job_result *results, size_t n, double total_s);
/* Writes the JSON report file. */
int report_write_json(const char *path, const struct job_result *results, size_t n, double total_s,
                      bool pipeline_ok, struct err *err);

/* Streaming masker, usable on its own: replaces every occurrence of any secret with
 * "[MASKED]" in a stream of chunks, longest secret first, across chunk boundaries. */
struct masker;
struct masker *masker_new(const char *const *secrets, size_t n); /* copies secrets */
void masker_free(struct masker *m);
/* Feeds data; masked output that is certainly complete is appended to out. */
struct strbuf;
void masker_feed(struct masker *m, const char *data, size_t len, struct strbuf *out);
/* Flushes what is held back at the end of the stream. */
void masker_flush(struct masker *m, struct strbuf *out);

/* Whether GitLab accepts `value` as a masked variable: one line, >= 8 characters, and for
 * expandable variables only [A-Za-z0-9_+=/@:.~-]; raw variables any non-space characters. */
bool report_value_maskable(const char *value, bool raw);
/* Appends to out (copies) the values to mask from vars: those with masked=true whose value
 * GitLab would accept as masked, plus ALWAYS the values of the tokens runnel itself marks
 * masked (CI_JOB_TOKEN, CI_BUILD_TOKEN, CI_REGISTRY_PASSWORD, CI_DEPLOY_PASSWORD,
 * CI_DEPENDENCY_PROXY_PASSWORD) whatever their form, when non-empty. vars may be NULL. */
struct strvec;
void report_collect_secrets(const struct var_list *vars, struct strvec *out);

/* Coverage as GitLab extracts it: `regex` ("/.../" delimiters optional, PCRE2 syntax close to
 * GitLab's RE2) is applied to every line of the log (ANSI escapes removed); the last line
 * that yields a number wins; in that line the last match is taken (its last capture group
 * if the regex has groups) and the first number \d+(\.\d+)? in it is the coverage.
 * Returns 1 and sets *ret when found, 0 when no line matches, -1 when the regex is invalid
 * or the log cannot be read. */
int report_coverage(const char *regex, const char *log_path, double *ret);

/* Counts the testcase elements of a JUnit XML file and how many of them failed (contain a
 * failure or error element). A small streaming scan, no XML library: comments, CDATA and
 * processing instructions are skipped; malformed input gives best-effort counts, never a
 * crash. Fails only when the file cannot be read. Counts are added to *tests and *failures so
 * several report files can be summed. */
int report_junit_summary(const char *xml_path, unsigned *tests, unsigned *failures,
                         struct err *err);
