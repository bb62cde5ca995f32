/* job: one job attempt from start to end, whatever the executor: its deadline, its paths, its
 * variables (job-vars.c) and log, the executor call, its artifacts and reports
 * (job-artifacts.c), and the final verdict line. */
#include "exec/exec.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "exec/job-internal.h"
#include "exec/settings.h"
#include "model/pipeline.h"
#include "model/vars.h"
#include "plan/dag.h"
#include "report/report.h"
#include "util/cleanup.h"
#include "util/fsutil.h"
#include "util/log.h"
#include "util/monotime.h"
#include "util/xalloc.h"

#define DEFAULT_TIMEOUT_S 3600L

double exec_now(void)
{
	return monotime_s();
}

long exec_job_ms_left(const struct exec_job_ctx *jc)
{
	double left = (jc->deadline - exec_now()) * 1000.0;
	return left < 1 ? 1 : (long)left;
}

void exec_job_rm_rf(const char *path)
{
	struct err err = ERR_INIT;
	if (fs_rmtree(path, &err) < 0) {
		log_debug("%s", err.msg);
		err_release(&err);
	}
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
	int r = exec_job_build_vars(jc, id, err);
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
	adest = exec_job_artifacts_dir(run, jc.job->name);
	exec_job_rm_rf(adest);
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
		exec_job_collect_reports(&jc, st);
		if (!jc.artifacts_done)
			exec_job_collect_artifacts(&jc, NULL, NULL);
	}
	st->timings.copy_out += exec_now() - t;
	verdict(&jc);
	if (jc.image) {
		t = exec_now();
		exec_job_rm_rf(jc.host_dir);
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
