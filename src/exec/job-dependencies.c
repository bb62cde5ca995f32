/* job-dependencies: what a job receives from the jobs before it (dependencies:, needs:
 * artifacts, or every earlier stage): their artifacts copied into its project, after the caches
 * are restored, and (job-vars.c) their dotenv variables. */
#include "exec/exec.h"
#include <string.h>
#include "exec/artifacts.h"
#include "exec/job-internal.h"
#include "model/pipeline.h"
#include "model/vars.h"
#include "plan/dag.h"
#include "report/report.h"
#include "util/cleanup.h"
#include "util/xalloc.h"

bool exec_job_receives_from(const struct exec_run *run, const struct job *j, size_t dep)
{
	const struct job *dj = run->plan->nodes[dep].job;
	if (j->has_dependencies) {
		for (size_t k = 0; k < j->dependencies.n; k++)
			if (!strcmp(j->dependencies.v[k], dj->name))
				return true;
		return false;
	}
	if (j->has_needs) {
		for (size_t k = 0; k < j->n_needs; k++)
			if (!strcmp(j->needs[k].job, dj->name))
				return j->needs[k].artifacts;
		return false;
	}
	return dj->stage_index < j->stage_index;
}

char *exec_job_artifacts_dir(const struct exec_run *run, const char *job_name)
{
	_cleanup_free_ char *slug = vars_slugify(job_name);
	return xasprintf("%s/artifacts/%s", run->state_dir, slug);
}

int exec_job_copy_artifacts(struct exec_job_ctx *jc, const char *dir, struct err *err)
{
	struct exec_run *run = jc->run;
	exec_job_restore_caches(jc, dir);
	for (size_t i = 0; i < run->plan->n; i++) {
		if (!exec_job_receives_from(run, jc->job, i) || !run->jobs[i].has_artifacts)
			continue;
		_cleanup_free_ char *adir =
		    exec_job_artifacts_dir(run, run->plan->nodes[i].job->name);
		report_job_printf(jc->log, "Downloading artifacts for %s...",
		                  run->plan->nodes[i].job->name);
		if (artifacts_copy_dir(adir, dir, err) < 0)
			return err_wrap(err, "artifacts of '%s'", run->plan->nodes[i].job->name);
	}
	return 0;
}
