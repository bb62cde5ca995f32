/* runnel runs: the past runs of the project, newest first, from the records `runnel run`
 * leaves in .runnel/runs (report/history.c); and the hook that leaves them. */
#include "cli/cmds.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/ctx.h"
#include "report/history.h"
#include "util/cleanup.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

void cli_history_record(const struct cli_ctx *ctx, const char *state_dir, long keep,
                        const struct job_result *results, size_t n, double total_s,
                        const char *result)
{
	/* keep_runs: 0 turns the history off */
	if (!keep)
		return;
	struct history_info info = {.branch = ctx->branch,
	                            .tag = ctx->tag,
	                            .source = ctx->source,
	                            .commit = ctx->repo.sha,
	                            .started = (long long)time(NULL) - (long long)total_s,
	                            .duration_s = total_s,
	                            .result = result,
	                            .keep = keep};
	struct err err = ERR_INIT;
	unsigned number;
	if (history_record(state_dir, &info, results, n, &number, &err) < 0) {
		fprintf(stderr, "runnel: warning: the run is not in the history: %s\n", err.msg);
		err_release(&err);
	}
}

/* "2026-12-04 20:31:02" in local time. */
static void time_text(long long t, char *buf, size_t size)
{
	time_t tt = (time_t)t;
	struct tm tm;
	if (!localtime_r(&tt, &tm) || !strftime(buf, size, "%Y-%m-%d %H:%M:%S", &tm))
		snprintf(buf, size, "%lld", t);
}

/* "3 jobs: 2 success, 1 failed": the statuses in the order the jobs first show them. */
static void jobs_text(const struct history_run *r, struct strbuf *sb)
{
	strbuf_addf(sb, "%zu job%s", r->n_jobs, r->n_jobs == 1 ? "" : "s");
	for (size_t i = 0; i < r->n_jobs; i++) {
		const char *st = r->jobs[i].status ? r->jobs[i].status : "unknown";
		size_t seen = 0, count = 0;
		for (size_t k = 0; k < r->n_jobs; k++) {
			const char *o = r->jobs[k].status ? r->jobs[k].status : "unknown";
			if (strcmp(o, st))
				continue;
			seen += k < i;
			count++;
		}
		if (!seen)
			strbuf_addf(sb, "%s %zu %s", i ? "," : ":", count, st);
	}
}

static void print_run(const struct history_run *r)
{
	char when[64];
	time_text(r->started, when, sizeof(when));
	_cleanup_(strbuf_release) struct strbuf ref = STRBUF_INIT;
	_cleanup_(strbuf_release) struct strbuf jobs = STRBUF_INIT;
	strbuf_addf(&ref, "%s %s", r->tag ? "tag" : "branch",
	            r->tag      ? r->tag
	            : r->branch ? r->branch
	                        : "?");
	jobs_text(r, &jobs);
	char dur[32];
	snprintf(dur, sizeof(dur), "%.1fs", r->duration_s);
	printf("%-4u %-19s  %-20s %-12s %-9s %8s  %s\n", r->number, when, ref.buf,
	       r->source ? r->source : "?", r->result ? r->result : "?", dur, jobs.buf);
}

static int list_runs(const char *state_dir)
{
	struct err err = ERR_INIT;
	_cleanup_free_ unsigned *nums = NULL;
	size_t n = 0;
	if (history_numbers(state_dir, &nums, &n, &err) < 0) {
		fprintf(stderr, "runnel: %s\n", err.msg);
		err_release(&err);
		return 4;
	}
	if (!n) {
		fprintf(stderr, "runnel: no run recorded in this project yet\n");
		return 0;
	}
	printf("%-4s %-19s  %-20s %-12s %-9s %8s  %s\n", "RUN", "STARTED", "REF", "SOURCE",
	       "RESULT", "DURATION", "JOBS");
	for (size_t i = 0; i < n; i++) {
		struct history_run r;
		int rc = history_load(state_dir, nums[i], &r, &err);
		if (rc < 0) {
			fprintf(stderr, "runnel: warning: %s\n", err.msg);
			err_release(&err);
		}
		if (rc)
			continue; /* half-written (a run still ending) or unreadable */
		print_run(&r);
		history_run_release(&r);
	}
	return 0;
}

int cmd_runs(int argc, char **argv)
{
	const struct cli_verb verb = {
	    .name = "runs",
	    .synopsis = "[options]",
	    .summary = "List the past runs of the project, newest first: run number, start, "
	               "ref, pipeline source, result, duration and the jobs' statuses (kept "
	               "in .runnel/runs; the keep_runs setting says how many).",
	    .min_args = 0,
	    .max_args = 0,
	};
	_cleanup_(cli_session_release) struct cli_session s = CLI_SESSION_INIT;
	if (!cli_session_start(&s, argc, argv, &verb))
		return s.rc;
	_cleanup_free_ char *state_dir = xasprintf("%s/.runnel", s.ctx.repo.root);
	return list_runs(state_dir);
}
