/* Unit tests for payload/: building a job's payload from a loaded pipeline, writing it as
 * JSON and parsing it back (round trip), the defaults of absent fields, the error of every
 * malformed field and a payload shaped as GitLab sends it (unknown fields, old forms). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model/job.h"
#include "model/pipeline.h"
#include "model/vars.h"
#include "payload/payload-build.h"
#include "payload/payload-json.h"
#include "payload/payload.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/xalloc.h"

#define TOKEN "glcbt-0123456789abcdef"

static const char *const yaml_text = "variables:\n"
                                     "  DB_NAME: postgres\n"
                                     "  URL: \"http://$CI_SERVER_HOST/$DB_NAME/$RAWV/$UNKNOWN\"\n"
                                     "  RAWV:\n"
                                     "    value: \"$DB_NAME-raw\"\n"
                                     "    expand: false\n"
                                     "build:\n"
                                     "  stage: build\n"
                                     "  script: [make]\n"
                                     "  artifacts:\n"
                                     "    paths: [out/]\n"
                                     "    exclude: [out/*.o]\n"
                                     "    expire_in: 7d\n"
                                     "    reports:\n"
                                     "      junit: report.xml\n"
                                     "      dotenv: build.env\n"
                                     "  cache:\n"
                                     "    key: deps\n"
                                     "    paths: [vendor/]\n"
                                     "    policy: pull\n"
                                     "    fallback_keys: [main-deps]\n"
                                     "test:\n"
                                     "  stage: test\n"
                                     "  timeout: 10m\n"
                                     "  needs: [build]\n"
                                     "  image:\n"
                                     "    name: alpine:3\n"
                                     "    entrypoint: ['']\n"
                                     "    pull_policy: [if-not-present]\n"
                                     "  services:\n"
                                     "    - name: redis:7\n"
                                     "      alias: cache,kv\n"
                                     "      variables: {A: b}\n"
                                     "  before_script: [echo before]\n"
                                     "  script: [echo test]\n"
                                     "  after_script: [echo after]\n"
                                     "files:\n"
                                     "  stage: test\n"
                                     "  script: [x]\n"
                                     "  cache:\n"
                                     "    - key: {files: [a.txt], prefix: pre}\n"
                                     "      paths: [p]\n"
                                     "    - key: {files: [a.txt]}\n"
                                     "      paths: [p]\n"
                                     "report:\n"
                                     "  stage: test\n"
                                     "  script: [x]\n"
                                     "  artifacts:\n"
                                     "    reports:\n"
                                     "      junit: [a.xml, b.xml]\n";

struct fixture {
	char dir[64];
	struct var_list vars; /* pipeline context */
	struct var_list job_vars;
	struct pipeline *p;
};

static void set_var(struct var_list *l, const char *k, const char *v, bool public_, bool masked)
{
	struct var var = {.key = k, .value = v, .public_ = public_, .masked = masked};
	var_list_set(NULL, l, &var);
}

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/test-payload.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	_cleanup_free_ char *file = xasprintf("%s/.gitlab-ci.yml", f->dir);
	FILE *out = fopen(file, "w");
	assert_non_null(out);
	fputs(yaml_text, out);
	fclose(out);
	set_var(&f->vars, "CI_SERVER_HOST", "gitlab.example.com", true, false);
	set_var(&f->vars, "CI_PROJECT_URL", "https://gitlab.example.com/g/p", true, false);
	set_var(&f->vars, "CI_PROJECT_ID", "7", true, false);
	set_var(&f->vars, "CI_PROJECT_TITLE", "P", true, false);
	set_var(&f->vars, "CI_COMMIT_REF_NAME", "main", true, false);
	set_var(&f->vars, "CI_COMMIT_BRANCH", "main", true, false);
	set_var(&f->vars, "CI_COMMIT_SHA", "0123456789012345678901234567890123456789", true, false);
	set_var(&f->vars, "CI_COMMIT_REF_PROTECTED", "false", true, false);
	set_var(&f->vars, "CI_REGISTRY", "registry.example.com", true, false);
	set_var(&f->vars, "CI_PIPELINE_SOURCE", "push", true, false);
	set_var(&f->vars, "SECRET", "s3cr3t-value", false, true); /* a masked pipeline var */
	set_var(&f->job_vars, "CI_PIPELINE_ID", "1", true, false);
	set_var(&f->job_vars, "CI_PROJECT_DIR", "/builds/g/p", true, false); /* runner-side */
	set_var(&f->job_vars, "CI_REPOSITORY_URL", "https://gitlab.example.com/g/p.git", true,
	        false);
	struct pipeline_ctx ctx = {.vars = f->vars, .project_dir = f->dir};
	struct err err = ERR_INIT;
	f->p = pipeline_load(file, &ctx, NULL, &err);
	if (!f->p)
		fail_msg("load: %s", err.msg);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	pipeline_free(f->p);
	var_list_release(&f->vars);
	var_list_release(&f->job_vars);
	_cleanup_free_ char *file = xasprintf("%s/.gitlab-ci.yml", f->dir);
	unlink(file);
	rmdir(f->dir);
	free(f);
	return 0;
}

static struct payload_build_opts opts_for(struct fixture *f, const char *job)
{
	const struct job *j = pipeline_find_job(f->p, job);
	assert_non_null(j);
	struct payload_build_opts o = {.pipeline = f->p,
	                               .job = j,
	                               .pipeline_vars = &f->vars,
	                               .job_vars = &f->job_vars,
	                               .token = TOKEN,
	                               .now = 1704164645};
	return o;
}

static struct payload *build(struct fixture *f, const char *job)
{
	struct payload_build_opts o = opts_for(f, job);
	struct err err = ERR_INIT;
	struct payload *pl = payload_build(&o, &err);
	if (!pl)
		fail_msg("build: %s", err.msg);
	return pl;
}

static void test_build_variables(void **state)
{
	struct payload *pl = build(*state, "test");
	const struct payload_var *v = payload_var_get(pl, "URL");
	assert_non_null(v);
	/* GitLab's pass: known refs expanded, raw and unknown ones kept for the runner */
	assert_string_equal(v->value, "http://gitlab.example.com/postgres/$RAWV/$UNKNOWN");
	assert_true(v->public_);
	v = payload_var_get(pl, "RAWV");
	assert_true(v->raw);
	assert_string_equal(v->value, "$DB_NAME-raw");
	v = payload_var_get(pl, "CI_JOB_TOKEN");
	assert_true(v->masked && !v->public_);
	assert_string_equal(v->value, TOKEN);
	v = payload_var_get(pl, "SECRET");
	assert_true(v->masked && !v->public_);
	v = payload_var_get(pl, "CI_REPOSITORY_URL");
	assert_false(v->public_);
	assert_string_equal(v->value,
	                    "https://gitlab-ci-token:" TOKEN "@gitlab.example.com/g/p.git");
	assert_null(payload_var_get(pl, "CI_PROJECT_DIR")); /* the runner adds it */
	assert_string_equal(payload_var_get(pl, "CI_JOB_ID")->value, "2");
	assert_string_equal(payload_var_get(pl, "CI_JOB_URL")->value,
	                    "https://gitlab.example.com/g/p/-/jobs/2");
	assert_string_equal(payload_var_get(pl, "CI_JOB_STARTED_AT")->value,
	                    "2024-01-02T03:04:05Z");
	assert_true(payload_var_get(pl, "CI_REGISTRY_PASSWORD")->masked);
	payload_free(pl);
}

static void test_build_job(void **state)
{
	struct payload *pl = build(*state, "test");
	assert_int_equal(pl->id, 2);
	assert_string_equal(pl->token, TOKEN);
	assert_int_equal(pl->job_info.project_id, 7);
	assert_string_equal(pl->job_info.project_name, "P");
	assert_int_equal(pl->runner_info.timeout, 600);
	assert_int_equal(pl->n_steps, 2);
	assert_string_equal(pl->steps[0].name, "script");
	assert_int_equal(pl->steps[0].script.n, 2);
	assert_string_equal(pl->steps[0].script.v[0], "echo before");
	assert_int_equal(pl->steps[0].timeout, 600);
	assert_string_equal(pl->steps[1].name, "after_script");
	assert_string_equal(pl->steps[1].when, "always");
	assert_true(pl->steps[1].allow_failure);
	assert_string_equal(pl->image.name, "alpine:3");
	assert_true(pl->image.entrypoint.present);
	assert_int_equal(pl->image.entrypoint.n, 1);
	assert_string_equal(pl->image.pull_policy.v[0], "if-not-present");
	assert_int_equal(pl->n_services, 1);
	assert_string_equal(pl->services[0].alias, "cache,kv");
	assert_false(pl->services[0].command.present);
	assert_int_equal(pl->services[0].n_variables, 1);
	assert_int_equal(pl->n_dependencies, 1);
	assert_string_equal(pl->dependencies[0].name, "build");
	assert_int_equal(pl->dependencies[0].id, 1);
	assert_string_equal(pl->dependencies[0].token, TOKEN);
	assert_int_equal(pl->n_credentials, 1);
	assert_string_equal(pl->credentials[0].url, "registry.example.com");
	assert_string_equal(pl->git_info.ref_type, "branch");
	assert_int_equal(pl->git_info.depth, 20);
	assert_false(pl->git_info.protected_);
	payload_free(pl);
}

static void test_build_artifacts_cache(void **state)
{
	struct payload *pl = build(*state, "build");
	assert_int_equal(pl->n_steps, 1);
	assert_int_equal(pl->n_artifacts, 3);
	assert_string_equal(pl->artifacts[0].artifact_type, "archive");
	assert_string_equal(pl->artifacts[0].artifact_format, "zip");
	assert_null(pl->artifacts[0].name);
	assert_string_equal(pl->artifacts[0].exclude.v[0], "out/*.o");
	assert_string_equal(pl->artifacts[0].expire_in, "7d");
	assert_string_equal(pl->artifacts[1].artifact_type, "junit");
	assert_string_equal(pl->artifacts[1].artifact_format, "gzip");
	assert_string_equal(pl->artifacts[1].when, "always");
	assert_false(pl->artifacts[1].has_untracked);
	assert_string_equal(pl->artifacts[2].artifact_type, "dotenv");
	assert_int_equal(pl->n_caches, 1);
	assert_string_equal(pl->caches[0].key, "deps-non_protected");
	assert_string_equal(pl->caches[0].policy, "pull");
	assert_string_equal(pl->caches[0].fallback_keys.v[0], "main-deps-non_protected");
	assert_int_equal(pl->n_dependencies, 0); /* the first stage */
	assert_null(pl->image.name);
	payload_free(pl);
}

static char *files_key(void *data, const struct cache_spec *spec, size_t index, struct err *err)
{
	if (data) {
		err_set(err, ERR_ENV, "cannot read '%s'", spec->key_files.v[0]);
		return NULL;
	}
	return xasprintf("h-%zu", index);
}

/* cache:key:files: the caller's hook derives the key; without one, GitLab's key for files
 * without history; a failing hook fails the build with the job named. */
static void test_build_cache_files(void **state)
{
	struct payload *pl = build(*state, "files");
	assert_int_equal(pl->n_caches, 2);
	assert_string_equal(pl->caches[0].key, "pre-default-non_protected");
	assert_string_equal(pl->caches[1].key, "default-non_protected");
	payload_free(pl);
	struct payload_build_opts o = opts_for(*state, "files");
	o.cache_files_key = files_key;
	struct err err = ERR_INIT;
	pl = payload_build(&o, &err);
	assert_non_null(pl);
	assert_string_equal(pl->caches[1].key, "h-1-non_protected");
	payload_free(pl);
	o.cache_files_key_data = "fail";
	assert_null(payload_build(&o, &err));
	assert_string_equal(err.msg, "cache key of job 'files': cannot read 'a.txt'");
	err_release(&err);
}

/* GitLab's BuildRunnerPresenter: GIT_DEPTH read with Ruby's to_i; a merge request pipeline
 * fetches its merge request ref; depth 0 fetches every branch and tag. */
static void test_build_git_info(void **state)
{
	struct fixture *f = *state;
	static const char *const depths[][2] = {{" 5x", "5"}, {"abc", "0"}, {"-1", "-1"}};
	for (size_t i = 0; i < 3; i++) {
		struct var_list vars = {0};
		var_list_merge(NULL, &vars, &f->vars);
		set_var(&vars, "GIT_DEPTH", depths[i][0], false, false);
		if (i == 0)
			set_var(&vars, "CI_MERGE_REQUEST_REF_PATH", "refs/merge-requests/1/head",
			        true, false);
		struct payload_build_opts o = opts_for(f, "test");
		o.pipeline_vars = &vars;
		struct err err = ERR_INIT;
		struct payload *pl = payload_build(&o, &err);
		assert_non_null(pl);
		assert_int_equal(pl->git_info.depth, atol(depths[i][1]));
		if (i == 0) {
			assert_string_equal(pl->git_info.ref, "refs/merge-requests/1/head");
			assert_int_equal(pl->git_info.refspecs.n, 1);
			assert_string_equal(pl->git_info.refspecs.v[0],
			                    "+refs/pipelines/1:refs/pipelines/1");
		} else {
			assert_string_equal(pl->git_info.ref, "main");
			assert_int_equal(pl->git_info.refspecs.n, 3);
			assert_string_equal(pl->git_info.refspecs.v[1],
			                    "+refs/heads/*:refs/remotes/origin/*");
			assert_string_equal(pl->git_info.refspecs.v[2], "+refs/tags/*:refs/tags/*");
		}
		payload_free(pl);
		var_list_release(&vars);
	}
}

/* A report without expire_in: GitLab leaves out the null fields of report entries. */
static void test_build_report_only(void **state)
{
	struct payload *pl = build(*state, "report");
	assert_int_equal(pl->n_artifacts, 1);
	assert_string_equal(pl->artifacts[0].artifact_type, "junit");
	assert_int_equal(pl->artifacts[0].paths.n, 2);
	_cleanup_free_ char *text = payload_to_json(pl, PAYLOAD_JSON_COMPACT);
	assert_non_null(strstr(text, "\"artifacts\":[{\"name\":\"junit.xml\",\"paths\":[\"a.xml\","
	                             "\"b.xml\"],\"when\":\"always\",\"artifact_type\":\"junit\","
	                             "\"artifact_format\":\"gzip\"}]"));
	payload_free(pl);
}

static struct payload *parse_ok(const char *text)
{
	struct err err = ERR_INIT;
	struct payload *pl = payload_from_json(text, strlen(text), &err);
	if (!pl)
		fail_msg("parse: %s", err.msg);
	return pl;
}

static void test_round_trip(void **state)
{
	static const char *const jobs[] = {"build", "test", "files", "report"};
	for (size_t i = 0; i < 4; i++) {
		struct payload *pl = build(*state, jobs[i]);
		_cleanup_free_ char *first = payload_to_json(pl, 0);
		struct payload *back = parse_ok(first);
		_cleanup_free_ char *second = payload_to_json(back, 0);
		assert_string_equal(first, second);
		_cleanup_free_ char *compact = payload_to_json(back, PAYLOAD_JSON_COMPACT);
		assert_null(strchr(compact, '\n'));
		payload_free(back);
		payload_free(pl);
	}
}

static void test_mask(void **state)
{
	struct payload *pl = build(*state, "test");
	_cleanup_free_ char *masked = payload_to_json(pl, PAYLOAD_JSON_MASK);
	_cleanup_free_ char *plain = payload_to_json(pl, 0);
	assert_null(strstr(masked, TOKEN));
	assert_null(strstr(masked, "s3cr3t-value"));
	assert_non_null(strstr(masked, "gitlab-ci-token:[MASKED]@gitlab.example.com"));
	assert_non_null(strstr(plain, TOKEN));
	assert_non_null(strstr(plain, "s3cr3t-value"));
	payload_free(pl);
}

static void test_defaults(void **state)
{
	(void)state;
	struct payload *pl =
	    parse_ok("{\"steps\": [{\"name\": \"script\"}], \"services\": "
	             "[{\"name\": \"db\"}], \"artifacts\": [{}], \"cache\": [{}]}");
	assert_int_equal(pl->id, 0);
	assert_null(pl->token);
	assert_false(pl->allow_git_fetch);
	assert_null(pl->image.name);
	assert_int_equal(pl->n_variables, 0);
	assert_int_equal(pl->runner_info.timeout, 0);
	assert_int_equal(pl->n_steps, 1);
	assert_false(pl->steps[0].script.present);
	assert_int_equal(pl->steps[0].timeout, 0);
	assert_null(pl->steps[0].when);
	assert_false(pl->steps[0].allow_failure);
	assert_null(pl->services[0].alias);
	assert_false(pl->services[0].entrypoint.present);
	assert_false(pl->services[0].has_variables);
	assert_false(pl->artifacts[0].has_untracked);
	assert_null(pl->caches[0].key);
	assert_false(pl->caches[0].paths.present);
	payload_free(pl);
	/* null is the same as absent */
	pl = parse_ok("{\"id\": null, \"image\": null, \"steps\": null, \"git_info\": null}");
	assert_int_equal(pl->n_steps, 0);
	payload_free(pl);
}

static void test_errors(void **state)
{
	static const char *const cases[][2] = {
	    {"[]", "payload: expected a JSON object"},
	    {"{\"id\": \"1\"}", "id: expected an integer"},
	    {"{\"id\": 1.5}", "id: expected an integer"},
	    {"{\"token\": 5}", "token: expected a string"},
	    {"{\"allow_git_fetch\": \"yes\"}", "allow_git_fetch: expected a boolean"},
	    {"{\"job_info\": []}", "job_info: expected an object"},
	    {"{\"job_info\": {\"name\": 1}}", "job_info.name: expected a string"},
	    {"{\"git_info\": {\"refspecs\": \"+refs\"}}",
	     "git_info.refspecs: expected an array of strings"},
	    {"{\"git_info\": {\"depth\": \"1\"}}", "git_info.depth: expected an integer"},
	    {"{\"git_info\": {\"protected\": 1}}", "git_info.protected: expected a boolean"},
	    {"{\"runner_info\": {\"timeout\": \"1h\"}}",
	     "runner_info.timeout: expected an integer"},
	    {"{\"variables\": {}}", "variables: expected an array"},
	    {"{\"variables\": [1]}", "variables[0]: expected an object"},
	    {"{\"variables\": [{\"value\": \"x\"}]}", "variables[0].key: expected a string"},
	    {"{\"variables\": [{\"key\": \"A\", \"masked\": \"true\"}]}",
	     "variables[0].masked: expected a boolean"},
	    {"{\"steps\": [{\"name\": \"script\", \"script\": []}, {\"script\": \"echo\"}]}",
	     "steps[1].script: expected an array of strings"},
	    {"{\"steps\": [{\"script\": [\"a\", 1]}]}",
	     "steps[0].script: expected an array of strings"},
	    {"{\"steps\": [{\"timeout\": \"1\"}]}", "steps[0].timeout: expected an integer"},
	    {"{\"image\": \"alpine\"}", "image: expected an object"},
	    {"{\"image\": {\"entrypoint\": 1}}", "image.entrypoint: expected an array of strings"},
	    {"{\"image\": {\"ports\": [{\"number\": \"80\"}]}}",
	     "image.ports[0].number: expected an integer"},
	    {"{\"image\": {\"executor_opts\": {\"docker\": {\"user\": 1000}}}}",
	     "image.executor_opts.docker.user: expected a string"},
	    {"{\"image\": {\"executor_opts\": []}}", "image.executor_opts: expected an object"},
	    {"{\"services\": [{\"variables\": [{\"key\": 1}]}]}",
	     "services[0].variables[0].key: expected a string"},
	    {"{\"services\": [{}, {\"pull_policy\": \"always\"}]}",
	     "services[1].pull_policy: expected an array of strings"},
	    {"{\"artifacts\": [{\"paths\": [1]}]}",
	     "artifacts[0].paths: expected an array of strings"},
	    {"{\"artifacts\": [{\"untracked\": 0}]}", "artifacts[0].untracked: expected a boolean"},
	    {"{\"cache\": [{\"key\": []}]}", "cache[0].key: expected a string"},
	    {"{\"cache\": [{\"fallback_keys\": {}}]}",
	     "cache[0].fallback_keys: expected an array of strings"},
	    {"{\"credentials\": [{\"password\": 1}]}",
	     "credentials[0].password: expected a string"},
	    {"{\"dependencies\": [{\"id\": \"1\"}]}", "dependencies[0].id: expected an integer"},
	    {"{\"dependencies\": [{\"artifacts_file\": {\"size\": \"1\"}}]}",
	     "dependencies[0].artifacts_file.size: expected an integer"},
	    {"{\"features\": {\"trace_sections\": 1}}",
	     "features.trace_sections: expected a boolean"},
	    {"{\"inputs\": [{\"key\": 1}]}", "inputs[0].key: expected a string"},
	    {"{\"id\": 1", "invalid JSON at line 1, column 8: '}' expected near end of file"},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct err err = ERR_INIT;
		struct payload *pl = payload_from_json(cases[i][0], strlen(cases[i][0]), &err);
		if (pl)
			fail_msg("case %zu parsed: %s", i, cases[i][0]);
		assert_int_equal(err.kind, ERR_CONFIG);
		assert_string_equal(err.msg, cases[i][1]);
		err_release(&err);
	}
}

/* The shape of a payload from GitLab (jobs_request_post_spec.rb "picks a job"), with fields
 * runnel does not know (hooks, secrets, job_info counters), an entrypoint and a command in
 * their old one-string form, and variables with duplicate keys (the last wins). */
static const char *const gitlab_json =
    "{\"id\": 4242, \"token\": \"glcbt-abc\", \"allow_git_fetch\": true,"
    " \"job_info\": {\"id\": 4242, \"name\": \"spinach\", \"stage\": \"test\", \"project_id\": 64,"
    "   \"project_name\": \"Gitlab Test\", \"time_in_queue_seconds\": 3,"
    "   \"project_jobs_running_on_instance_runners_count\": \"+Inf\"},"
    " \"git_info\": {\"repo_url\": \"http://gitlab-ci-token:glcbt-abc@localhost/g/p.git\","
    "   \"ref\": \"master\", \"sha\": \"b83d6e391c22777fca1ed3012fce84f633d7fed0\","
    "   \"before_sha\": \"0000000000000000000000000000000000000000\", \"ref_type\": \"branch\","
    "   \"refspecs\": [\"+refs/pipelines/9:refs/pipelines/9\","
    "     \"+refs/heads/master:refs/remotes/origin/master\"], \"depth\": 20},"
    " \"runner_info\": {\"timeout\": 3600},"
    " \"variables\": [{\"key\": \"CI_JOB_NAME\", \"value\": \"spinach\", \"public\": true,"
    "   \"masked\": false}, {\"key\": \"DB_NAME\", \"value\": \"one\", \"public\": true,"
    "   \"masked\": false}, {\"key\": \"DB_NAME\", \"value\": \"postgres\", \"public\": true,"
    "   \"masked\": false}, {\"key\": \"CERT\", \"value\": \"x\", \"public\": false,"
    "   \"masked\": false, \"file\": true}],"
    " \"steps\": [{\"name\": \"script\", \"script\": [\"echo\"], \"timeout\": 3600,"
    "   \"when\": \"on_success\", \"allow_failure\": false}, {\"name\": \"after_script\","
    "   \"script\": [\"ls\", \"date\"], \"timeout\": 3600, \"when\": \"always\","
    "   \"allow_failure\": true}],"
    " \"hooks\": [{\"name\": \"pre_get_sources_script\", \"script\": [\"echo hi\"]}],"
    " \"image\": {\"name\": \"image:1.0\", \"entrypoint\": \"/bin/sh\", \"ports\": [],"
    "   \"pull_policy\": null},"
    " \"services\": [{\"name\": \"postgres\", \"entrypoint\": null, \"alias\": null,"
    "   \"command\": null, \"ports\": [], \"variables\": null, \"pull_policy\": null},"
    "   {\"name\": \"docker:stable-dind\", \"entrypoint\": \"/bin/sh\", \"alias\": \"docker\","
    "   \"command\": \"sleep 30\", \"ports\": [{\"number\": 2375, \"protocol\": \"tcp\"}],"
    "   \"variables\": [], \"pull_policy\": [\"always\"]}],"
    " \"artifacts\": [{\"name\": \"artifacts_file\", \"untracked\": false, \"paths\": [\"out/\"],"
    "   \"when\": \"always\", \"expire_in\": \"7d\", \"artifact_type\": \"archive\","
    "   \"artifact_format\": \"zip\"}],"
    " \"cache\": [{\"key\": \"cache_key-protected\", \"untracked\": false, \"paths\":"
    "   [\"vendor/*\"], \"policy\": \"pull-push\", \"when\": \"on_success\"}],"
    " \"credentials\": [{\"type\": \"registry\", \"url\": \"registry.example.com:5005\","
    "   \"username\": \"gitlab-ci-token\", \"password\": \"glcbt-abc\"}],"
    " \"dependencies\": [{\"id\": 4241, \"name\": \"rubocop\", \"token\": \"glcbt-abc\","
    "   \"artifacts_file\": {\"filename\": \"ci_build_artifacts.zip\", \"size\": 107464}}],"
    " \"features\": {\"trace_sections\": true, \"failure_reasons\": [\"script_failure\"]},"
    " \"secrets\": {}, \"inputs\": [{\"key\": \"env\", \"value\": {\"type\": \"string\","
    "   \"value\": \"prod\", \"sensitive\": false}}]}";

static void test_gitlab_payload(void **state)
{
	(void)state;
	struct payload *pl = parse_ok(gitlab_json);
	assert_int_equal(pl->id, 4242);
	assert_string_equal(pl->job_info.project_name, "Gitlab Test");
	assert_int_equal(pl->git_info.refspecs.n, 2);
	assert_null(pl->git_info.repo_object_format);
	assert_string_equal(payload_var_get(pl, "DB_NAME")->value, "postgres");
	assert_true(payload_var_get(pl, "CERT")->file);
	assert_false(payload_var_get(pl, "CERT")->raw);
	assert_int_equal(pl->image.entrypoint.n, 1);
	assert_string_equal(pl->image.entrypoint.v[0], "/bin/sh");
	assert_false(pl->services[0].has_variables);
	assert_string_equal(pl->services[1].command.v[0], "sleep 30");
	assert_int_equal(pl->services[1].ports[0].number, 2375);
	assert_string_equal(pl->services[1].ports[0].protocol, "tcp");
	assert_string_equal(pl->services[1].pull_policy.v[0], "always");
	assert_false(pl->caches[0].fallback_keys.present);
	assert_true(pl->dependencies[0].has_artifacts_file);
	assert_int_equal(pl->dependencies[0].artifacts_size, 107464);
	assert_int_equal(pl->n_inputs, 1);
	assert_string_equal(pl->inputs[0].value_json,
	                    "{\"type\":\"string\",\"value\":\"prod\",\"sensitive\":false}");
	/* written again, it parses to the same payload */
	_cleanup_free_ char *first = payload_to_json(pl, 0);
	struct payload *back = parse_ok(first);
	_cleanup_free_ char *second = payload_to_json(back, 0);
	assert_string_equal(first, second);
	payload_free(back);
	payload_free(pl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_build_variables),
	    cmocka_unit_test(test_build_job),
	    cmocka_unit_test(test_build_artifacts_cache),
	    cmocka_unit_test(test_build_cache_files),
	    cmocka_unit_test(test_build_git_info),
	    cmocka_unit_test(test_build_report_only),
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_mask),
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_gitlab_payload),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
