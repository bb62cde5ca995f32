/* job-vars: the variables of one job attempt, in GitLab's order of precedence: the run's
 * predefined variables, the runner-side job variables, the job's own (YAML, rules), the dotenv
 * of its dependencies, the CLI; resolved as GitLab resolves them server-side, then one
 * runner-side expansion pass. */
#include "exec/exec.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "exec/job-internal.h"
#include "model/pipeline.h"
#include "model/vars.h"
#include "payload/payload.h"
#include "plan/dag.h"
#include "util/cleanup.h"
#include "util/strbuf.h"

static void set(struct exec_job_ctx *jc, struct var_list *l, const char *k, const char *v)
{
	var_list_set_kv(&jc->arena, l, k, v);
}

static void set_masked(struct exec_job_ctx *jc, struct var_list *l, const char *k, const char *v)
{
	struct var var = {.key = k, .value = v, .masked = true};
	var_list_set(&jc->arena, l, &var);
}

static void iso_now(char *buf, size_t size)
{
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* The runner-side job variables (variables.md §1 "Job", "Directories", "Registry"). */
static void job_predefined(struct exec_job_ctx *jc, struct var_list *l, unsigned long id)
{
	const struct job *j = jc->job;
	struct arena *a = &jc->arena;
	char now[32], token[64];
	iso_now(now, sizeof(now));
	payload_new_job_token(token, sizeof(token));
	set(jc, l, "CI_JOB_NAME", j->name);
	set(jc, l, "CI_JOB_NAME_SLUG", jc->slug);
	set(jc, l, "CI_JOB_GROUP_NAME", j->group_name ? j->group_name : j->name);
	set(jc, l, "CI_JOB_STAGE", j->stage);
	set(jc, l, "CI_JOB_ID", arena_printf(a, "%lu", id));
	const char *purl = var_list_value(l, "CI_PROJECT_URL");
	if (purl)
		set(jc, l, "CI_JOB_URL", arena_printf(a, "%s/-/jobs/%lu", purl, id));
	set(jc, l, "CI_JOB_STARTED_AT", now);
	if (j->manual)
		set(jc, l, "CI_JOB_MANUAL", "true");
	if (j->node_index > 0)
		set(jc, l, "CI_NODE_INDEX", arena_printf(a, "%d", j->node_index));
	set(jc, l, "CI_NODE_TOTAL", arena_printf(a, "%d", j->node_total > 0 ? j->node_total : 1));
	set_masked(jc, l, "CI_JOB_TOKEN", token);
	if (!jc->run->insecure_registry) { /* --registry gave its own credentials */
		set(jc, l, "CI_REGISTRY_USER", "gitlab-ci-token");
		set_masked(jc, l, "CI_REGISTRY_PASSWORD", token);
	}
	if (j->environment.name) {
		set(jc, l, "CI_ENVIRONMENT_NAME", j->environment.name);
		_cleanup_free_ char *es = vars_env_slugify(j->environment.name);
		set(jc, l, "CI_ENVIRONMENT_SLUG", es);
		if (j->environment.url)
			set(jc, l, "CI_ENVIRONMENT_URL", j->environment.url);
		set(jc, l, "CI_ENVIRONMENT_ACTION",
		    j->environment.action ? j->environment.action : "start");
		if (j->environment.deployment_tier)
			set(jc, l, "CI_ENVIRONMENT_TIER", j->environment.deployment_tier);
	}
	/* runner: directories and state, before the job's own variables (which may override) */
	set(jc, l, "CI_BUILDS_DIR", jc->builds_dir);
	set(jc, l, "CI_PROJECT_DIR", jc->project_dir);
	set(jc, l, "CI_CONCURRENT_ID", "0");
	set(jc, l, "CI_CONCURRENT_PROJECT_ID", "0");
	set(jc, l, "CI_SERVER", "yes");
	set(jc, l, "CI_JOB_STATUS", "running");
	set(jc, l, "CI_JOB_TIMEOUT", arena_printf(a, "%ld", jc->timeout_s));
}

/* Artifacts of dependencies can carry dotenv variables (they rank above job variables). */
static void merge_dotenv(struct exec_job_ctx *jc, struct var_list *l)
{
	struct exec_run *run = jc->run;
	pthread_mutex_lock(&run->lock);
	for (size_t i = 0; i < run->plan->n; i++)
		if (exec_job_receives_from(run, jc->job, i))
			var_list_merge(&jc->arena, l, &run->jobs[i].dotenv);
	pthread_mutex_unlock(&run->lock);
}

/* One os.Expand-style pass over every non-raw value; file variables expand to their path. */
static void runner_pass(struct exec_job_ctx *jc, const struct var_list *in)
{
	struct var_list lookup = {0};
	for (size_t i = 0; i < in->n; i++) {
		struct var v = in->v[i];
		if (v.file)
			v.value = arena_printf(&jc->arena, "%s/%s", jc->tmp_dir, v.key);
		var_list_set(&jc->arena, &lookup, &v);
	}
	struct strbuf sb = STRBUF_INIT;
	for (size_t i = 0; i < in->n; i++) {
		struct var v = in->v[i];
		if (!v.raw && v.value) {
			strbuf_reset(&sb);
			vars_expand_runner(v.value, &lookup, &sb);
			v.value = arena_strdup(&jc->arena, sb.buf);
		}
		var_list_set(&jc->arena, &jc->vars, &v);
	}
	strbuf_release(&sb);
}

int exec_job_build_vars(struct exec_job_ctx *jc, unsigned long id, struct err *err)
{
	struct exec_run *run = jc->run;
	struct var_list l = {0};
	if (run->predefined)
		var_list_merge(&jc->arena, &l, run->predefined);
	job_predefined(jc, &l, id);
	var_list_merge(&jc->arena, &l, &jc->job->variables);
	merge_dotenv(jc, &l);
	if (run->cli_vars)
		var_list_merge(&jc->arena, &l, run->cli_vars);
	set(jc, &l, "RUNNER_TEMP_PROJECT_DIR", jc->tmp_dir);
	set(jc, &l, jc->image ? "CI_DISPOSABLE_ENVIRONMENT" : "CI_SHARED_ENVIRONMENT", "true");
	if (vars_resolve_all(&jc->arena, &l, err) < 0)
		return err_wrap(err, "variables of job '%s'", jc->job->name);
	runner_pass(jc, &l);
	if (jc->image) {
		struct strbuf sb = STRBUF_INIT;
		vars_expand_runner(jc->image, &jc->vars, &sb);
		jc->image = arena_strdup(&jc->arena, sb.buf);
		strbuf_release(&sb);
		set(jc, &jc->vars, "CI_JOB_IMAGE", jc->image);
	}
	return 0;
}
