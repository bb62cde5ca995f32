/* End-of-run reporting: the summary table on the terminal and the JSON report file. */
#include "report/report.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "report/report-internal.h"
#include "util/strbuf.h"

const char *job_status_name(enum job_status s)
{
	switch (s) {
	case JOB_PENDING:
		return "pending";
	case JOB_RUNNING:
		return "running";
	case JOB_SUCCESS:
		return "success";
	case JOB_WARNING:
		return "warning";
	case JOB_FAILED:
		return "failed";
	case JOB_CANCELED:
		return "canceled";
	case JOB_SKIPPED:
		return "skipped";
	case JOB_TIMEDOUT:
		return "timedout";
	}
	return "unknown";
}

static const char *status_color(enum job_status s)
{
	switch (s) {
	case JOB_SUCCESS:
		return "\033[32m";
	case JOB_WARNING:
		return "\033[33m";
	case JOB_FAILED:
	case JOB_TIMEDOUT:
		return "\033[31m";
	case JOB_RUNNING:
		return "\033[36m";
	default:
		return "\033[90m";
	}
}

/* "0.4s", "12.3s", "2m05s", "1h02m" */
static void add_duration(struct strbuf *sb, double s)
{
	if (s < 0)
		s = 0;
	if (s < 60) {
		strbuf_addf(sb, "%.1fs", s);
		return;
	}
	long t = (long)(s + 0.5);
	if (t < 3600)
		strbuf_addf(sb, "%ldm%02lds", t / 60, t % 60);
	else
		strbuf_addf(sb, "%ldh%02ldm", t / 3600, (t % 3600) / 60);
}

static void add_cell(struct strbuf *sb, const char *text, size_t width)
{
	strbuf_addstr(sb, text);
	for (size_t i = strlen(text); i < width; i++)
		strbuf_addch(sb, ' ');
	strbuf_addstr(sb, "  ");
}

struct widths {
	size_t name, stage;
};

static struct widths column_widths(const struct job_result *res, size_t n)
{
	struct widths w = {strlen("JOB"), strlen("STAGE")};
	for (size_t i = 0; i < n; i++) {
		size_t l = res[i].name ? strlen(res[i].name) : 0;
		if (l > w.name)
			w.name = l;
		l = res[i].stage ? strlen(res[i].stage) : 0;
		if (l > w.stage)
			w.stage = l;
	}
	return w;
}

static void add_row(struct strbuf *sb, const struct job_result *jr, struct widths w, bool color)
{
	struct strbuf cell = STRBUF_INIT;
	add_cell(sb, jr->name ? jr->name : "", w.name);
	add_cell(sb, jr->stage ? jr->stage : "", w.stage);
	const char *st = job_status_name(jr->status);
	if (color)
		strbuf_addstr(sb, status_color(jr->status));
	strbuf_addstr(sb, st);
	if (color)
		strbuf_addstr(sb, "\033[0m");
	for (size_t i = strlen(st); i < 8; i++)
		strbuf_addch(sb, ' ');
	strbuf_addstr(sb, "  ");
	add_duration(&cell, jr->duration_s);
	add_cell(sb, cell.buf, 8);
	strbuf_reset(&cell);
	if (jr->exit_code >= 0)
		strbuf_addf(&cell, "%d", jr->exit_code);
	else
		strbuf_addch(&cell, '-');
	if (jr->reason)
		add_cell(sb, cell.buf, 4);
	else
		strbuf_addstr(sb, cell.buf);
	if (jr->reason)
		strbuf_addstr(sb, jr->reason);
	strbuf_rtrim(sb);
	strbuf_addch(sb, '\n');
	strbuf_release(&cell);
}

void report_summary(struct report *r, const struct job_result *results, size_t n, double total_s)
{
	bool color = report_color(r);
	struct widths w = column_widths(results, n);
	struct strbuf sb = STRBUF_INIT;
	size_t count[JOB_TIMEDOUT + 1] = {0};

	strbuf_addstr(&sb, color ? "\n\033[1m" : "\n");
	add_cell(&sb, "JOB", w.name);
	add_cell(&sb, "STAGE", w.stage);
	add_cell(&sb, "STATUS", 8);
	add_cell(&sb, "DURATION", 8);
	strbuf_addstr(&sb, "EXIT");
	strbuf_addstr(&sb, color ? "\033[0m\n" : "\n");
	for (size_t i = 0; i < n; i++) {
		add_row(&sb, &results[i], w, color);
		if (results[i].status <= JOB_TIMEDOUT)
			count[results[i].status]++;
	}
	strbuf_addf(&sb, "\n%zu job%s: %zu succeeded", n, n == 1 ? "" : "s", count[JOB_SUCCESS]);
	static const enum job_status extra[] = {JOB_WARNING,  JOB_FAILED,  JOB_TIMEDOUT,
	                                        JOB_CANCELED, JOB_SKIPPED, JOB_PENDING};
	static const char *const label[] = {"allowed to fail", "failed",  "timed out",
	                                    "canceled",        "skipped", "not run"};
	for (size_t i = 0; i < sizeof(extra) / sizeof(extra[0]); i++)
		if (count[extra[i]])
			strbuf_addf(&sb, ", %zu %s", count[extra[i]], label[i]);
	strbuf_addstr(&sb, " in ");
	add_duration(&sb, total_s);
	strbuf_addch(&sb, '\n');
	report_write_locked(r, sb.buf, sb.len);
	strbuf_release(&sb);
}

/* Seconds to the millisecond: more digits are noise in a report. */
static json_t *json_seconds(double s)
{
	if (s < 0)
		s = 0;
	return json_real((double)(long long)(s * 1000.0 + 0.5) / 1000.0);
}

static json_t *job_json(const struct job_result *jr)
{
	json_t *o = json_object();
	json_object_set_new(o, "name", json_string(jr->name ? jr->name : ""));
	json_object_set_new(o, "stage", jr->stage ? json_string(jr->stage) : json_null());
	json_object_set_new(o, "status", json_string(job_status_name(jr->status)));
	json_object_set_new(o, "exit_code",
	                    jr->exit_code >= 0 ? json_integer(jr->exit_code) : json_null());
	json_object_set_new(o, "duration_s", json_seconds(jr->duration_s));
	json_object_set_new(o, "reason", jr->reason ? json_string(jr->reason) : json_null());
	json_object_set_new(o, "log", jr->log_path ? json_string(jr->log_path) : json_null());
	json_object_set_new(o, "coverage",
	                    jr->coverage >= 0 ? json_real(jr->coverage) : json_null());
	json_object_set_new(o, "junit",
	                    json_pack("{s:I,s:I}", "tests", (json_int_t)jr->junit_tests, "failures",
	                              (json_int_t)jr->junit_failures));
	return o;
}

int report_write_json(const char *path, const struct job_result *results, size_t n, double total_s,
                      bool pipeline_ok, struct err *err)
{
	json_t *root = json_object();
	json_t *jobs = json_array();
	json_int_t tests = 0, failures = 0;
	for (size_t i = 0; i < n; i++) {
		json_array_append_new(jobs, job_json(&results[i]));
		tests += results[i].junit_tests;
		failures += results[i].junit_failures;
	}
	json_object_set_new(root, "status", json_string(pipeline_ok ? "success" : "failed"));
	json_object_set_new(root, "duration_s", json_seconds(total_s));
	json_object_set_new(root, "junit",
	                    json_pack("{s:I,s:I}", "tests", tests, "failures", failures));
	json_object_set_new(root, "jobs", jobs);
	int rc = json_dump_file(root, path,
	                        JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
	json_decref(root);
	if (rc < 0)
		return err_sys(err, errno ? errno : EIO, "cannot write JSON report '%s'", path);
	return 0;
}
