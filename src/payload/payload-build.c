/* Building a job's payload from the model (payload-build.h). The variables follow the order
 * of GitLab's Ci::Variables::Builder (predefined, job-only persisted ones, YAML, pipeline
 * variables), then GitLab's server-side expansion (vars_resolve_all); steps follow
 * Gitlab::Ci::Build::Step; artifacts and cache follow Ci::BuildRunnerPresenter and
 * Ci::Build#cache. */
#include "payload/payload-build.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "model/job.h"
#include "model/pipeline.h"
#include "model/vars.h"
#include "payload/payload.h"
#include "util/strbuf.h"

#define DEFAULT_TIMEOUT_S 3600L /* a project's default job timeout */
#define DEFAULT_GIT_DEPTH 20L   /* ci_default_git_depth of a new project */
#define REGISTRY_USER "gitlab-ci-token"

struct builder {
	const struct payload_build_opts *o;
	struct payload *pl;
	struct var_list vars; /* in pl->arena */
	const char *token;
	long id;
	long timeout;
};

static void set(struct builder *b, const char *key, const char *value, bool public_, bool masked)
{
	struct var v = {.key = key, .value = value, .public_ = public_, .masked = masked};
	var_list_set(&b->pl->arena, &b->vars, &v);
}

static const char *val(const struct builder *b, const char *key)
{
	return var_list_value(&b->vars, key);
}

static void iso_time(long long t, char *buf, size_t size)
{
	time_t tt = (time_t)t;
	struct tm tm;
	snprintf(buf, size, "1970-01-01T00:00:00Z");
	if (gmtime_r(&tt, &tm))
		strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Ci::Build#predefined_variables: the job's own (public) ones. */
static void job_predefined(struct builder *b)
{
	const struct job *j = b->o->job;
	struct arena *a = &b->pl->arena;
	set(b, "CI_JOB_NAME", j->name, true, false);
	char *slug = vars_slugify(j->name);
	set(b, "CI_JOB_NAME_SLUG", slug, true, false);
	free(slug);
	set(b, "CI_JOB_GROUP_NAME", j->group_name ? j->group_name : j->name, true, false);
	set(b, "CI_JOB_STAGE", j->stage, true, false);
	if (j->manual)
		set(b, "CI_JOB_MANUAL", "true", true, false);
	if (j->node_index > 0)
		set(b, "CI_NODE_INDEX", arena_printf(a, "%d", j->node_index), true, false);
	set(b, "CI_NODE_TOTAL", arena_printf(a, "%d", j->node_total > 0 ? j->node_total : 1), true,
	    false);
	if (!j->environment.name)
		return;
	set(b, "CI_ENVIRONMENT_NAME", j->environment.name, true, false);
	char *es = vars_env_slugify(j->environment.name);
	set(b, "CI_ENVIRONMENT_SLUG", es, true, false);
	free(es);
	if (j->environment.url)
		set(b, "CI_ENVIRONMENT_URL", j->environment.url, true, false);
	set(b, "CI_ENVIRONMENT_ACTION", j->environment.action ? j->environment.action : "start",
	    true, false);
	if (j->environment.deployment_tier)
		set(b, "CI_ENVIRONMENT_TIER", j->environment.deployment_tier, true, false);
}

/* https://host/path.git -> https://gitlab-ci-token:<token>@host/path.git */
static const char *repo_url_with_token(struct builder *b, const char *url)
{
	const char *sep = url ? strstr(url, "://") : NULL;
	if (!sep)
		return url;
	return arena_printf(&b->pl->arena, "%.*s://%s:%s@%s", (int)(sep - url), url, REGISTRY_USER,
	                    b->token, sep + 3);
}

/* Variables the runner adds itself: GitLab never sends them (runner-api.md §2). */
static bool runner_side(const char *key)
{
	static const char *const keys[] = {
	    "CI_BUILDS_DIR", "CI_PROJECT_DIR",   "CI_JOB_TIMEOUT",           "CI_JOB_STATUS",
	    "CI_JOB_IMAGE",  "CI_CONCURRENT_ID", "CI_CONCURRENT_PROJECT_ID", NULL};
	for (size_t i = 0; keys[i]; i++)
		if (!strcmp(keys[i], key))
			return true;
	return false;
}

/* Ci::Build#persisted_variables and the job-only pipeline variables. */
static void job_persisted(struct builder *b)
{
	struct arena *a = &b->pl->arena;
	const struct var_list *jv = b->o->job_vars;
	for (size_t i = 0; jv && i < jv->n; i++) {
		struct var v = jv->v[i];
		if (runner_side(v.key))
			continue;
		if (!strcmp(v.key, "CI_REPOSITORY_URL")) {
			v.value = repo_url_with_token(b, v.value);
			v.public_ = false;
		}
		var_list_set(a, &b->vars, &v);
	}
	set(b, "CI_JOB_ID", arena_printf(a, "%ld", b->id), true, false);
	const char *purl = val(b, "CI_PROJECT_URL");
	if (purl)
		set(b, "CI_JOB_URL", arena_printf(a, "%s/-/jobs/%ld", purl, b->id), true, false);
	set(b, "CI_JOB_TOKEN", b->token, false, true);
	char now[32];
	iso_time(b->o->now, now, sizeof(now));
	set(b, "CI_JOB_STARTED_AT", now, true, false);
	if (val(b, "CI_REGISTRY")) {
		set(b, "CI_REGISTRY_USER", REGISTRY_USER, true, false);
		set(b, "CI_REGISTRY_PASSWORD", b->token, false, true);
	}
}

static int build_variables(struct builder *b, struct err *err)
{
	const struct var_list *pv = b->o->pipeline_vars;
	for (size_t i = 0; pv && i < pv->n; i++)
		if (pv->v[i].public_)
			var_list_set(&b->pl->arena, &b->vars, &pv->v[i]);
	job_predefined(b);
	job_persisted(b);
	var_list_merge(&b->pl->arena, &b->vars, &b->o->job->variables);
	/* pipeline (user) variables rank above the YAML ones and never reach services */
	for (size_t i = 0; pv && i < pv->n; i++)
		if (!pv->v[i].public_)
			var_list_set(&b->pl->arena, &b->vars, &pv->v[i]);
	if (vars_resolve_all(&b->pl->arena, &b->vars, err) < 0)
		return err_wrap(err, "variables of job '%s'", b->o->job->name);
	struct payload *pl = b->pl;
	pl->variables = payload_alloc_array(pl, b->vars.n, sizeof(*pl->variables));
	for (size_t i = 0; i < b->vars.n; i++) {
		const struct var *v = &b->vars.v[i];
		pl->variables[pl->n_variables++] = (struct payload_var){
		    .key = v->key,
		    .value = v->value ? v->value : "",
		    .public_ = v->public_,
		    .masked = v->masked,
		    .file = v->file,
		    .raw = v->raw,
		};
	}
	return 0;
}

/* ---- lists -------------------------------------------------------------------------------- */

static struct payload_strlist strlist(struct builder *b, const struct string_list *l, bool present)
{
	struct payload_strlist r = {.present = present};
	if (!present)
		return r;
	r.v = payload_alloc_array(b->pl, l->n, sizeof(char *));
	for (size_t i = 0; i < l->n; i++)
		r.v[r.n++] = payload_strdup(b->pl, l->v[i]);
	return r;
}

static struct payload_strlist strlist_of(struct builder *b, const char *const *v, size_t n)
{
	struct payload_strlist r = {.present = true};
	r.v = payload_alloc_array(b->pl, n, sizeof(char *));
	for (size_t i = 0; i < n; i++)
		r.v[r.n++] = payload_strdup(b->pl, v[i]);
	return r;
}

static const char *when_name(enum artifacts_when w)
{
	return w == ART_ALWAYS ? "always" : w == ART_ON_FAILURE ? "on_failure" : "on_success";
}

/* Gitlab::Ci::Build::Step: before_script + script as "script", after_script on its own. */
static void build_steps(struct builder *b)
{
	const struct job *j = b->o->job;
	struct payload *pl = b->pl;
	pl->steps = payload_alloc_array(pl, 2, sizeof(*pl->steps));
	struct payload_step *s = &pl->steps[pl->n_steps++];
	s->name = "script";
	s->script.present = true;
	s->script.v = payload_alloc_array(pl, j->before_script.n + j->script.n, sizeof(char *));
	for (size_t i = 0; i < j->before_script.n; i++)
		s->script.v[s->script.n++] = payload_strdup(pl, j->before_script.v[i]);
	for (size_t i = 0; i < j->script.n; i++)
		s->script.v[s->script.n++] = payload_strdup(pl, j->script.v[i]);
	s->timeout = b->timeout;
	s->when = "on_success";
	if (!j->after_script.n)
		return;
	s = &pl->steps[pl->n_steps++];
	s->name = "after_script";
	s->script = strlist(b, &j->after_script, true);
	s->timeout = b->timeout;
	s->when = "always";
	s->allow_failure = true;
}

static void image_of(struct builder *b, const struct image_spec *is, struct payload_image *im)
{
	im->name = payload_strdup(b->pl, is->name);
	im->entrypoint = strlist(b, &is->entrypoint, is->has_entrypoint);
	im->pull_policy = strlist(b, &is->pull_policy, is->pull_policy.n > 0);
	im->docker_platform = payload_strdup(b->pl, is->platform);
	im->docker_user = payload_strdup(b->pl, is->user);
}

static void build_services(struct builder *b)
{
	const struct job *j = b->o->job;
	struct payload *pl = b->pl;
	pl->services = payload_alloc_array(pl, j->n_services, sizeof(*pl->services));
	for (size_t i = 0; i < j->n_services; i++) {
		const struct service_spec *ss = &j->services[i];
		struct payload_image *im = &pl->services[pl->n_services++];
		image_of(b, &ss->image, im);
		struct strbuf alias = STRBUF_INIT;
		for (size_t k = 0; k < ss->aliases.n; k++)
			strbuf_addf(&alias, "%s%s", k ? "," : "", ss->aliases.v[k]);
		im->alias = ss->aliases.n ? payload_strdup(pl, alias.buf) : NULL;
		strbuf_release(&alias);
		im->command = strlist(b, &ss->command, ss->has_command);
		im->has_variables = true;
		im->variables = payload_alloc_array(pl, ss->variables.n, sizeof(*im->variables));
		for (size_t k = 0; k < ss->variables.n; k++)
			im->variables[im->n_variables++] = (struct payload_var){
			    .key = payload_strdup(pl, ss->variables.v[k].key),
			    .value = payload_strdup(
			        pl, ss->variables.v[k].value ? ss->variables.v[k].value : ""),
			};
	}
}

static void add_report(struct builder *b, const char *type, const char *file,
                       const struct string_list *paths)
{
	const struct artifacts_spec *as = &b->o->job->artifacts;
	struct payload_artifact *r = &b->pl->artifacts[b->pl->n_artifacts++];
	r->name = file;
	r->paths = strlist(b, paths, true);
	r->when = "always";
	r->expire_in = payload_strdup(b->pl, as->expire_in);
	r->artifact_type = type;
	r->artifact_format = "gzip";
}

/* Ci::BuildRunnerPresenter#artifacts: the archive when there is something to archive, then
 * one entry per report (Ci::JobArtifact's default file names and formats). */
static void build_artifacts(struct builder *b)
{
	const struct artifacts_spec *as = &b->o->job->artifacts;
	struct payload *pl = b->pl;
	pl->artifacts = payload_alloc_array(pl, 3, sizeof(*pl->artifacts));
	if (!as->present)
		return;
	if (as->paths.n || as->untracked) {
		struct payload_artifact *r = &pl->artifacts[pl->n_artifacts++];
		r->name = payload_strdup(pl, as->name);
		r->untracked = as->untracked;
		r->has_untracked = true;
		r->paths = strlist(b, &as->paths, true);
		r->exclude = strlist(b, &as->exclude, as->exclude.n > 0);
		r->when = when_name(as->when);
		r->expire_in = payload_strdup(pl, as->expire_in);
		r->artifact_type = "archive";
		r->artifact_format = "zip";
	}
	if (as->reports_junit.n)
		add_report(b, "junit", "junit.xml", &as->reports_junit);
	if (as->reports_dotenv.n)
		add_report(b, "dotenv", ".env", &as->reports_dotenv);
}

/* The key as GitLab's pipeline creation leaves it: the text as written (the runner expands
 * its variables), or for key:files what the caller's hook derives from the files. */
static int cache_key(struct builder *b, const struct cache_spec *cs, size_t i, const char **ret,
                     struct err *err)
{
	if (!cs->key_files.n) {
		*ret = cs->key && *cs->key ? cs->key : "default";
		return 0;
	}
	if (!b->o->cache_files_key) {
		bool prefix = cs->key_prefix && *cs->key_prefix;
		*ret =
		    prefix ? arena_printf(&b->pl->arena, "%s-default", cs->key_prefix) : "default";
		return 0;
	}
	char *key = b->o->cache_files_key(b->o->cache_files_key_data, cs, i, err);
	if (!key)
		return err_wrap(err, "cache key of job '%s'", b->o->job->name);
	*ret = arena_strdup(&b->pl->arena, key);
	free(key);
	return 0;
}

/* Ci::Build#cache: "-protected"/"-non_protected" after every key (separated caches, the
 * default of new projects); the runner expands variables in the key. */
static int build_caches(struct builder *b, struct err *err)
{
	const struct job *j = b->o->job;
	struct payload *pl = b->pl;
	const char *prot = val(b, "CI_COMMIT_REF_PROTECTED");
	const char *suffix = prot && !strcmp(prot, "true") ? "protected" : "non_protected";
	pl->caches = payload_alloc_array(pl, j->n_caches, sizeof(*pl->caches));
	for (size_t i = 0; i < j->n_caches; i++) {
		const struct cache_spec *cs = &j->caches[i];
		struct payload_cache *c = &pl->caches[pl->n_caches++];
		const char *key = NULL;
		if (cache_key(b, cs, i, &key, err) < 0)
			return -1;
		c->key = arena_printf(&pl->arena, "%s-%s", key, suffix);
		c->untracked = cs->untracked;
		c->policy = payload_strdup(pl, cs->policy ? cs->policy : "pull-push");
		c->paths = strlist(b, &cs->paths, true);
		c->when = when_name(cs->when);
		c->fallback_keys = strlist(b, &cs->fallback_keys, true);
		for (size_t k = 0; k < c->fallback_keys.n; k++)
			c->fallback_keys.v[k] =
			    arena_printf(&pl->arena, "%s-%s", c->fallback_keys.v[k], suffix);
	}
	return 0;
}

/* ---- dependencies, git, the rest ---------------------------------------------------------- */

static void add_dependency(struct builder *b, const struct job *dep)
{
	long id = payload_job_id(b->o->pipeline, dep);
	struct payload *pl = b->pl;
	if (!id)
		return; /* not in this pipeline (an optional need, a job excluded by rules) */
	struct payload_dependency *d = &pl->dependencies[pl->n_dependencies++];
	d->id = id;
	d->name = payload_strdup(pl, dep->name);
	d->token = b->token; /* the depending job's token downloads the artifacts */
}

/* Ci::BuildDependencies: dependencies: when given, else the needs that take artifacts, else
 * every job of an earlier stage. Artifact files are unknown before the jobs ran. */
static void build_dependencies(struct builder *b)
{
	const struct pipeline *p = b->o->pipeline;
	const struct job *j = b->o->job;
	b->pl->dependencies = payload_alloc_array(b->pl, p->n_jobs, sizeof(*b->pl->dependencies));
	if (j->has_dependencies) {
		for (size_t i = 0; i < j->dependencies.n; i++) {
			const struct job *d = pipeline_find_job(p, j->dependencies.v[i]);
			if (d && d->decision.included)
				add_dependency(b, d);
		}
		return;
	}
	if (j->has_needs) {
		for (size_t i = 0; i < j->n_needs; i++) {
			const struct job *d = pipeline_find_job(p, j->needs[i].job);
			if (d && d->decision.included && j->needs[i].artifacts)
				add_dependency(b, d);
		}
		return;
	}
	for (size_t i = 0; i < p->n_jobs && p->jobs[i].stage_index < j->stage_index; i++)
		add_dependency(b, &p->jobs[i]);
}

static long long_of(const char *s, long fallback)
{
	char *end;
	long v = s && *s ? strtol(s, &end, 10) : -1;
	return s && *s && !*end && v >= 0 ? v : fallback;
}

/* Ruby's String#to_i, as GitLab reads GIT_DEPTH: leading blanks, an optional sign, the
 * digits that follow; anything else (or nothing) is 0. */
static long ruby_to_i(const char *s)
{
	long v = 0;
	bool neg = false;
	while (*s == ' ' || (*s >= '\t' && *s <= '\r'))
		s++;
	if (*s == '-' || *s == '+')
		neg = *s++ == '-';
	for (; *s >= '0' && *s <= '9' && v < 100000000; s++)
		v = v * 10 + (*s - '0');
	return neg ? -v : v;
}

/* Ci::BuildRunnerPresenter#git_depth and #refspecs. A merge request pipeline runs on
 * refs/merge-requests/<iid>/head: neither a branch nor a tag, so only the pipeline's
 * persistent ref is fetched. */
static void build_git_info(struct builder *b)
{
	struct payload *pl = b->pl;
	struct arena *a = &pl->arena;
	const char *tag = val(b, "CI_COMMIT_TAG"), *ref = val(b, "CI_COMMIT_REF_NAME");
	const char *sha = val(b, "CI_COMMIT_SHA"), *prot = val(b, "CI_COMMIT_REF_PROTECTED");
	const char *pid = val(b, "CI_PIPELINE_ID") ? val(b, "CI_PIPELINE_ID") : "1";
	const char *mr_ref = val(b, "CI_MERGE_REQUEST_REF_PATH");
	const char *depth = val(b, "GIT_DEPTH");
	pl->git_info.repo_url = val(b, "CI_REPOSITORY_URL");
	pl->git_info.ref = mr_ref ? mr_ref : ref;
	pl->git_info.sha = sha;
	pl->git_info.before_sha = val(b, "CI_COMMIT_BEFORE_SHA");
	pl->git_info.ref_type = tag ? "tag" : "branch";
	pl->git_info.depth = depth ? ruby_to_i(depth) : DEFAULT_GIT_DEPTH;
	pl->git_info.repo_object_format = sha && strlen(sha) == 64 ? "sha256" : "sha1";
	pl->git_info.protected_ = prot && !strcmp(prot, "true");
	const char *specs[3];
	size_t n = 0;
	specs[n++] = arena_printf(a, "+refs/pipelines/%s:refs/pipelines/%s", pid, pid);
	if (pl->git_info.depth <= 0) {
		specs[n++] = "+refs/heads/*:refs/remotes/origin/*";
		specs[n++] = "+refs/tags/*:refs/tags/*";
	} else if (tag) {
		specs[n++] = arena_printf(a, "+refs/tags/%s:refs/tags/%s", tag, tag);
	} else if (ref && !mr_ref) {
		specs[n++] = arena_printf(a, "+refs/heads/%s:refs/remotes/origin/%s", ref, ref);
	}
	pl->git_info.refspecs = strlist_of(b, specs, n);
}

static void build_rest(struct builder *b)
{
	static const char *const prefixes[] = {"glpat-",   "gloas-",  "gldt-",  "glrt-",
	                                       "glcbt-",   "glptt-",  "glft-",  "glimt-",
	                                       "glagent-", "glsoat-", "glffct-"};
	static const char *const reasons[] = {
	    "unknown_failure",          "script_failure",        "api_failure",
	    "stuck_or_timeout_failure", "runner_system_failure", "missing_dependency_failure",
	    "runner_unsupported",       "stale_schedule",        "job_execution_timeout",
	    "archived_failure",         "unmet_prerequisites",   "scheduler_failure",
	    "data_integrity_failure",   "image_pull_failure"};
	struct payload *pl = b->pl;
	const struct job *j = b->o->job;
	pl->id = b->id;
	pl->token = b->token;
	pl->allow_git_fetch = true;
	pl->job_info.id = b->id;
	pl->job_info.name = payload_strdup(pl, j->name);
	pl->job_info.stage = payload_strdup(pl, j->stage);
	pl->job_info.project_id = long_of(val(b, "CI_PROJECT_ID"), 1);
	pl->job_info.project_name =
	    val(b, "CI_PROJECT_TITLE") ? val(b, "CI_PROJECT_TITLE") : val(b, "CI_PROJECT_NAME");
	pl->runner_info.timeout = b->timeout;
	pl->features.trace_sections = true;
	pl->features.token_mask_prefixes =
	    strlist_of(b, prefixes, sizeof(prefixes) / sizeof(prefixes[0]));
	pl->features.failure_reasons = strlist_of(b, reasons, sizeof(reasons) / sizeof(reasons[0]));
	const char *registry = val(b, "CI_REGISTRY");
	pl->credentials = payload_alloc_array(pl, 1, sizeof(*pl->credentials));
	if (registry)
		pl->credentials[pl->n_credentials++] =
		    (struct payload_credential){.type = "registry",
		                                .url = registry,
		                                .username = REGISTRY_USER,
		                                .password = b->token};
}

long payload_job_id(const struct pipeline *p, const struct job *j)
{
	if (j < p->jobs || j >= p->jobs + p->n_jobs)
		return 0;
	return (long)(j - p->jobs) + 1;
}

struct payload *payload_build(const struct payload_build_opts *o, struct err *err)
{
	struct builder b = {.o = o, .pl = payload_new()};
	b.token = payload_strdup(b.pl, o->token ? o->token : "glcbt-local-job-token");
	b.id = payload_job_id(o->pipeline, o->job);
	b.timeout = o->job->timeout_seconds > 0 ? o->job->timeout_seconds : DEFAULT_TIMEOUT_S;
	if (build_variables(&b, err) < 0) {
		payload_free(b.pl);
		return NULL;
	}
	if (build_caches(&b, err) < 0) {
		payload_free(b.pl);
		return NULL;
	}
	build_git_info(&b);
	build_rest(&b);
	build_steps(&b);
	if (o->job->image.name)
		image_of(&b, &o->job->image, &b.pl->image);
	build_services(&b);
	build_artifacts(&b);
	build_dependencies(&b);
	return b.pl;
}
