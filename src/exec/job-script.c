/* job-script: the shell script of a job's step (before_script + script, or after_script) with
 * its variables, as both executors feed it to the shell (script.c builds the text). */
#include "exec/exec.h"
#include <stdlib.h>
#include <string.h>
#include "exec/script.h"
#include "model/pipeline.h"
#include "model/vars.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

const char *exec_job_status_word(const struct exec_job_ctx *jc)
{
	if (jc->canceled)
		return "canceled";
	if (jc->timed_out)
		return "timedout";
	return jc->failure == FAILURE_NONE ? "success" : "failed";
}

void exec_job_script(const struct exec_job_ctx *jc, bool after, const char *status,
                     struct strbuf *out)
{
	const struct job *j = jc->job;
	struct var_list vars = jc->vars;
	struct var *copy = NULL;
	if (status) {
		/* same list with CI_JOB_STATUS replaced */
		copy = xmalloc((vars.n ? vars.n : 1) * sizeof(*copy));
		if (vars.n)
			memcpy(copy, vars.v, vars.n * sizeof(*copy));
		for (size_t i = 0; i < vars.n; i++)
			if (!strcmp(copy[i].key, "CI_JOB_STATUS"))
				copy[i].value = status;
		vars.v = copy;
	}
	const struct string_list *main_parts[] = {&j->before_script, &j->script};
	const struct string_list *after_parts[] = {&j->after_script};
	const char *trace = var_list_value(&jc->vars, "CI_DEBUG_TRACE");
	struct script_opts o = {
	    .vars = &vars,
	    .project_dir = jc->project_dir,
	    .tmp_dir = jc->tmp_dir,
	    .parts = after ? after_parts : main_parts,
	    .n_parts = after ? 1 : 2,
	    .after_script = after,
	    .color = jc->run->color,
	    .trace = trace && !strcmp(trace, "true"),
	};
	script_build(&o, out);
	free(copy);
}
