/* job-artifacts: what a finished job leaves for later jobs and the summary: its artifacts
 * (from the container or the host copy, per artifacts:when), its caches, and the reports
 * runnel reads (dotenv, junit). */
#include "exec/exec.h"
#include <pthread.h>
#include <stdlib.h>
#include <sys/stat.h>
#include "exec/artifacts.h"
#include "exec/job-internal.h"
#include "model/pipeline.h"
#include "model/vars.h"
#include "report/report.h"
#include "util/cleanup.h"
#include "util/xalloc.h"

bool exec_job_artifacts_wanted(enum artifacts_when w, bool ok)
{
	return w == ART_ALWAYS || (w == ART_ON_SUCCESS && ok) || (w == ART_ON_FAILURE && !ok);
}

void exec_job_print_warnings(struct exec_job_ctx *jc, struct string_list *w)
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

void exec_job_collect_reports(struct exec_job_ctx *jc, struct exec_job_state *st)
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
	exec_job_save_caches(jc, c, container_id);
	if (!a->present || (!a->paths.n && !a->untracked) ||
	    !exec_job_artifacts_wanted(a->when, ok))
		return;
	report_job_printf(jc->log, "Uploading artifacts for %s job...",
	                  ok ? "successful" : "failed");
	_cleanup_free_ char *dest = exec_job_artifacts_dir(jc->run, jc->job->name);
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
	exec_job_print_warnings(jc, &warnings);
	report_job_printf(jc->log, "%zu files archived as artifacts", count);
	pthread_mutex_lock(&jc->run->lock);
	st->has_artifacts = count > 0;
	pthread_mutex_unlock(&jc->run->lock);
}
