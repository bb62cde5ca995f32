/* Unit tests for model/pipeline: GitLab's semantics from .gitlab-ci.yml to the job list.
 * Each case writes its files into a fresh folder under a temporary root and loads them with a
 * fixed context (a push to branch main); fixtures under tests/fixtures/seed and the real-world
 * corpus in /work/shared/corpus/real are loaded too. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "model/include-source.h"
#include "model/load.h"
#include "model/pipeline.h"
#include "model/vars.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/strbuf.h"
#include "util/strvec.h"
#include "util/xalloc.h"

static char g_root[PATH_MAX];
static int g_counter;

/* ---- fixtures helpers -------------------------------------------------------------------- */

static void mkdirs(const char *path)
{
	_cleanup_free_ char *p = xstrdup(path);
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		mkdir(p, 0755);
		*s = '/';
	}
	mkdir(p, 0755);
}

static void put(const char *dir, const char *rel, const char *content)
{
	_cleanup_free_ char *path = xasprintf("%s/%s", dir, rel);
	_cleanup_free_ char *parent = xstrdup(path);
	*strrchr(parent, '/') = '\0';
	mkdirs(parent);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(content, f);
	fclose(f);
}

static char *new_dir(void)
{
	char *d = xasprintf("%s/case%d", g_root, ++g_counter);
	mkdirs(d);
	return d;
}

static int rm_cb(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

struct tctx {
	struct pipeline_ctx ctx;
	struct var_list vars;
	struct string_list changed;
	const char *changed_v[8];
};

static void tctx_init(struct tctx *t, const char *dir)
{
	memset(t, 0, sizeof(*t));
	static const char *const kv[][2] = {
	    {"CI_PIPELINE_SOURCE", "push"},  {"CI_COMMIT_BRANCH", "main"},
	    {"CI_COMMIT_REF_NAME", "main"},  {"CI_DEFAULT_BRANCH", "main"},
	    {"CI_PROJECT_PATH", "grp/proj"},
	};
	for (size_t i = 0; i < sizeof(kv) / sizeof(*kv); i++) {
		struct var v = {.key = kv[i][0], .value = kv[i][1], .public_ = true};
		var_list_set(NULL, &t->vars, &v);
	}
	t->ctx.project_dir = dir;
}

static void tctx_set(struct tctx *t, const char *k, const char *v, bool public_)
{
	struct var var = {.key = k, .value = v, .public_ = public_};
	var_list_set(NULL, &t->vars, &var);
}

static void tctx_unset(struct tctx *t, const char *k)
{
	struct var_list nl = {0};
	for (size_t i = 0; i < t->vars.n; i++)
		if (strcmp(t->vars.v[i].key, k) != 0)
			var_list_set(NULL, &nl, &t->vars.v[i]);
	var_list_release(&t->vars);
	t->vars = nl;
}

static struct pipeline *tload(struct tctx *t, const char *dir, struct err *err)
{
	t->ctx.vars = t->vars;
	_cleanup_free_ char *file = xasprintf("%s/.gitlab-ci.yml", dir);
	return pipeline_load(file, &t->ctx, NULL, err);
}

/* Loads yaml as the main file of a fresh project with the default context. */
static struct pipeline *load_yaml(const char *yaml, struct err *err)
{
	_cleanup_free_ char *dir = new_dir();
	put(dir, ".gitlab-ci.yml", yaml);
	struct tctx t;
	tctx_init(&t, dir);
	struct pipeline *p = tload(&t, dir, err);
	var_list_release(&t.vars);
	return p;
}

static struct pipeline *load_ok(const char *yaml)
{
	struct err err = ERR_INIT;
	struct pipeline *p = load_yaml(yaml, &err);
	if (!p)
		fail_msg("unexpected error: %s:%u:%u: %s", err.loc.file ? err.loc.file : "-",
		         err.loc.line, err.loc.col, err.msg);
	return p;
}

static void expect_error(const char *yaml, const char *msg, unsigned line, unsigned col)
{
	struct err err = ERR_INIT;
	struct pipeline *p = load_yaml(yaml, &err);
	if (p) {
		pipeline_free(p);
		fail_msg("expected error '%s'", msg);
	}
	if (!strstr(err.msg, msg))
		fail_msg("error '%s' does not contain '%s'", err.msg, msg);
	assert_int_equal(err.kind, ERR_CONFIG);
	if (line) {
		if (err.loc.line != line || err.loc.col != col)
			fail_msg("'%s' at %u:%u, expected %u:%u", err.msg, err.loc.line,
			         err.loc.col, line, col);
		assert_non_null(err.loc.file);
		assert_non_null(strstr(err.loc.file, ".gitlab-ci.yml"));
	}
	err_release(&err);
}

/* "name@stage<need,need>" for each job, joined by " | ". */
static char *summary(const struct pipeline *p)
{
	struct strbuf sb = STRBUF_INIT;
	for (size_t i = 0; i < p->n_jobs; i++) {
		const struct job *j = &p->jobs[i];
		strbuf_addf(&sb, "%s%s@%s", i ? " | " : "", j->name, j->stage);
		if (j->has_needs) {
			strbuf_addch(&sb, '<');
			for (size_t k = 0; k < j->n_needs; k++)
				strbuf_addf(&sb, "%s%s", k ? "," : "", j->needs[k].job);
			strbuf_addch(&sb, '>');
		}
	}
	return strbuf_detach(&sb, NULL);
}

static void assert_jobs(const struct pipeline *p, const char *expected)
{
	_cleanup_free_ char *s = summary(p);
	if (strcmp(s, expected) != 0)
		fail_msg("jobs:\n  got      %s\n  expected %s", s, expected);
}

static const char *var_of(const struct job *j, const char *k)
{
	return var_list_value(&j->variables, k);
}

static const char *str_join(const struct string_list *l)
{
	static char buf[1024];
	buf[0] = '\0';
	for (size_t i = 0; i < l->n; i++) {
		strncat(buf, i ? "," : "", sizeof(buf) - strlen(buf) - 1);
		strncat(buf, l->v[i], sizeof(buf) - strlen(buf) - 1);
	}
	return buf;
}

/* ---- basics ------------------------------------------------------------------------------ */

static void test_basic_order_and_stages(void **state)
{
	(void)state;
	struct pipeline *p = load_ok("deploy_it:\n  stage: deploy\n  script: d\n"
	                             "t1:\n  script: [a, [b, [c]]]\n"
	                             "b1:\n  stage: build\n  script: b\n"
	                             "t2:\n  stage: test\n  script: x\n");
	assert_int_equal(p->n_stages, 5);
	assert_string_equal(p->stages[0], ".pre");
	assert_string_equal(p->stages[4], ".post");
	assert_jobs(p, "b1@build | t1@test | t2@test | deploy_it@deploy");
	assert_string_equal(str_join(&p->jobs[1].script), "a,b,c");
	assert_int_equal(p->jobs[0].stage_index, 1);
	assert_true(p->created);
	assert_ptr_equal(pipeline_find_job(p, "t2"), &p->jobs[2]);
	assert_null(pipeline_find_job(p, "nope"));
	assert_non_null(p->resolved);
	pipeline_free(p);
}

static void test_user_stages(void **state)
{
	(void)state;
	struct pipeline *p = load_ok("stages: [.post, [one, two], .pre, three]\n"
	                             "a:\n  stage: three\n  script: x\n"
	                             "b:\n  stage: .pre\n  script: x\n"
	                             "c:\n  stage: one\n  script: x\n");
	assert_int_equal(p->n_stages, 5);
	const char *want[] = {".pre", "one", "two", "three", ".post"};
	for (int i = 0; i < 5; i++)
		assert_string_equal(p->stages[i], want[i]);
	assert_jobs(p, "b@.pre | c@one | a@three");
	pipeline_free(p);
}

static void test_hidden_and_reserved(void **state)
{
	(void)state;
	struct pipeline *p = load_ok("variables:\n  G: g\n  N: 012\n  B: yes\n"
	                             ".hidden:\n  script: x\n  foo: bar\n"
	                             "job:\n  script: x\n  variables:\n    J: \"1\"\n"
	                             "    R: {value: $G, expand: false}\n");
	assert_int_equal(p->n_jobs, 1);
	const struct job *j = &p->jobs[0];
	assert_string_equal(var_of(j, "G"), "g");
	assert_string_equal(var_of(j, "N"), "10");
	assert_string_equal(var_of(j, "B"), "true");
	assert_string_equal(var_of(j, "R"), "$G");
	assert_true(var_list_get(&j->variables, "R")->raw);
	assert_string_equal(var_of(j, "J"), "1");
	pipeline_free(p);
	expect_error("job:\n  script: x\n  variables:\n    D: {value: v, description: d}\n",
	             "jobs:job variables config uses invalid data keys: description", 4, 8);
}

static void test_job_fields(void **state)
{
	(void)state;
	struct pipeline *p = load_ok(
	    "job:\n  script: x\n"
	    "  image:\n    name: img:1\n    entrypoint: [\"\"]\n    pull_policy: [always, never]\n"
	    "    docker: {user: u, platform: linux/arm64}\n"
	    "  services:\n    - redis:7\n"
	    "    - name: postgres:15\n      alias: db, pg  sql\n      command: [\"--x\"]\n"
	    "      entrypoint: [sh]\n      variables: {A: b}\n"
	    "  allow_failure: {exit_codes: [3, 4]}\n"
	    "  retry: {max: 2, when: [script_failure], exit_codes: 137}\n"
	    "  timeout: 1h 30m\n  interruptible: true\n  resource_group: rg\n"
	    "  coverage: '/\\d+%/'\n  tags: [t1, t2]\n"
	    "  environment: {name: prod, url: 'https://x', action: stop}\n"
	    "  artifacts:\n    paths: [a, b]\n    exclude: [c]\n    when: always\n"
	    "    expire_in: 1 week\n    untracked: true\n    reports: {junit: r.xml}\n"
	    "  cache:\n    - key: k1\n      paths: [p]\n      policy: pull\n"
	    "    - key: {files: [Gemfile.lock], prefix: pre}\n      when: on_failure\n"
	    "trig:\n  trigger: grp/other\n");
	const struct job *j = pipeline_find_job(p, "job");
	assert_string_equal(j->image.name, "img:1");
	assert_true(j->image.has_entrypoint);
	assert_int_equal(j->image.entrypoint.n, 1);
	assert_string_equal(j->image.entrypoint.v[0], "");
	assert_string_equal(str_join(&j->image.pull_policy), "always,never");
	assert_string_equal(j->image.user, "u");
	assert_string_equal(j->image.platform, "linux/arm64");
	assert_int_equal(j->n_services, 2);
	assert_string_equal(j->services[0].image.name, "redis:7");
	assert_string_equal(str_join(&j->services[1].aliases), "db,pg,sql");
	assert_string_equal(str_join(&j->services[1].command), "--x");
	assert_string_equal(var_list_value(&j->services[1].variables, "A"), "b");
	assert_false(j->allow_failure);
	assert_int_equal(j->n_allow_failure_exit_codes, 2);
	assert_int_equal(j->allow_failure_exit_codes[1], 4);
	assert_int_equal(j->retry.max, 2);
	assert_int_equal(j->retry.n_exit_codes, 1);
	assert_int_equal(j->retry.exit_codes[0], 137);
	assert_string_equal(str_join(&j->retry.when), "script_failure");
	assert_int_equal(j->timeout_seconds, 5400);
	assert_true(j->interruptible);
	assert_string_equal(j->resource_group, "rg");
	assert_string_equal(j->coverage, "/\\d+%/");
	assert_string_equal(str_join(&j->tags), "t1,t2");
	assert_string_equal(j->environment.name, "prod");
	assert_string_equal(j->environment.action, "stop");
	assert_true(j->artifacts.present);
	assert_int_equal(j->artifacts.when, ART_ALWAYS);
	assert_string_equal(str_join(&j->artifacts.reports_junit), "r.xml");
	assert_int_equal(j->n_caches, 2);
	assert_string_equal(j->caches[0].policy, "pull");
	assert_string_equal(j->caches[1].key_prefix, "pre");
	assert_int_equal(j->caches[1].when, ART_ON_FAILURE);
	assert_string_equal(j->caches[1].key, "default");
	const struct job *t = pipeline_find_job(p, "trig");
	assert_true(t->is_trigger);
	pipeline_free(p);
}

static void test_durations(void **state)
{
	(void)state;
	assert_int_equal(mduration_parse("90"), 90);
	assert_int_equal(mduration_parse("1h 30m"), 5400);
	assert_int_equal(mduration_parse("2 hours"), 7200);
	assert_int_equal(mduration_parse("3 mins"), 180);
	assert_int_equal(mduration_parse("1 hour and 10 minutes"), 4200);
	assert_int_equal(mduration_parse("1.5h"), 5400);
	assert_int_equal(mduration_parse("1 week"), 604800);
	assert_int_equal(mduration_parse("01:30:00"), 5400);
	assert_int_equal(mduration_parse("10 parsecs"), -1);
	assert_int_equal(mduration_parse(""), -1);
}

static void test_globs(void **state)
{
	(void)state;
	assert_true(mglob_match("*.md", "README.md"));
	assert_false(mglob_match("*.md", "docs/a.md"));
	assert_true(mglob_match("docs/**/*.md", "docs/a.md"));
	assert_true(mglob_match("docs/**/*.md", "docs/x/y/a.md"));
	assert_true(mglob_match("**/*.{c,h}", "src/x.h"));
	assert_false(mglob_match("**/*.{c,h}", "src/x.o"));
	assert_true(mglob_match("*", ".hidden"));
	assert_true(mglob_match("src/?.c", "src/a.c"));
	assert_true(mglob_match("[ab]*.c", "b1.c"));
	assert_false(mglob_match("[!ab]*.c", "b1.c"));
	assert_true(mglob_match("Dockerfile", "Dockerfile"));
	assert_false(mglob_match("src/*", "src/a/b"));
}

/* ---- validation errors ------------------------------------------------------------------ */

static void test_errors_keys_and_types(void **state)
{
	(void)state;
	expect_error("job:\n  script: x\n  foo: 1\n  bar: 2\n",
	             "jobs:job config contains unknown keys: foo, bar", 3, 3);
	expect_error("job:\n  script:\n    - echo\n    - a: b\n",
	             "jobs:job:script config should be a string or a nested array of strings up to "
	             "10 levels deep",
	             3, 5);
	expect_error("job:\n  stage: build\n",
	             "jobs:job config should implement the script:, run:, or trigger: keyword", 1,
	             1);
	expect_error("job:\n  stage: lint\n  script: x\n",
	             "job job: chosen stage lint does not exist; available stages are .pre, build, "
	             "test, deploy, .post",
	             2, 10);
	expect_error("job: [1]\n", "jobs:job config should be a hash", 1, 1);
	expect_error(".h:\n  script: x\n", "jobs config should contain at least one visible job", 0,
	             0);
	expect_error("job:\n  script: x\n  when: sometimes\n",
	             "jobs:job when should be one of: on_success, on_failure, always, manual, "
	             "delayed",
	             3, 9);
	expect_error("job:\n  script: x\n  when: delayed\n",
	             "jobs:job start in should be a duration", 3, 9);
	expect_error("job:\n  script: x\n  when: delayed\n  start_in: 2 weeks\n",
	             "jobs:job start in should be a duration", 4, 13);
	expect_error("job:\n  script: x\n  timeout: soon\n",
	             "jobs:job timeout config should be a duration", 3, 12);
	expect_error("job:\n  script: x\n  retry: 3\n",
	             "jobs:job:retry config must be less than or equal to 2", 3, 10);
	expect_error("job:\n  script: x\n  retry: {max: -1}\n",
	             "jobs:job:retry max must be greater than or equal to 0", 3, 16);
	expect_error("job:\n  script: x\n  parallel: 201\n",
	             "jobs:job:parallel config must be less than or equal to 200", 3, 13);
	expect_error("job:\n  script: x\n  parallel: 0\n",
	             "jobs:job:parallel config must be greater than or equal to 1", 3, 13);
	expect_error("job:\n  script: x\n  rules:\n    - if: $A\n      foo: x\n",
	             "jobs:job:rules:rule config contains unknown keys: foo", 5, 7);
	expect_error("job:\n  script: x\n  rules:\n    - when: sometimes\n",
	             "jobs:job:rules:rule when unknown value: sometimes", 4, 13);
	expect_error("job:\n  script: x\n  rules:\n    - if: $A = 1\n", "jobs:job:rules:rule if", 0,
	             0);
	expect_error("job:\n  script: x\n  only: [main]\n  rules:\n    - when: always\n",
	             "jobs:job config key may not be used with `rules`: only", 3, 3);
	expect_error("default:\n  script: x\njob:\n  script: x\n",
	             "default config contains unknown keys: script", 2, 3);
	expect_error("image: a\ndefault:\n  image: b\njob:\n  script: x\n",
	             "image is defined in both the top level and default:", 1, 1);
	expect_error("workflow:\n  rules:\n    - when: on_success\njob:\n  script: x\n",
	             "workflow:rules:rule when unknown value: on_success", 3, 13);
}

static void test_errors_needs(void **state)
{
	(void)state;
	expect_error("a:\n  script: x\n  needs: [zz]\n", "a job: undefined need: zz", 3, 11);
	expect_error("a:\n  stage: build\n  script: x\n  needs: [b]\nb:\n  script: x\n",
	             "a job: need b is not defined in current or prior stages", 4, 11);
	expect_error("a:\n  script: x\nb:\n  script: x\n  needs: [a, {job: a}]\n",
	             "b has duplicate entries in the needs section.", 5, 14);
	expect_error("a:\n  stage: build\n  script: x\nc:\n  stage: build\n  script: x\n"
	             "b:\n  script: x\n  needs: [a]\n  dependencies: [c]\n",
	             "jobs:b dependencies the c should be part of needs", 10, 17);
	/* every missing one in one message (GitLab's Job entry, on: :composed) */
	expect_error("a:\n  script: x\nc:\n  script: x\nd:\n  script: x\n"
	             "b:\n  stage: deploy\n  script: x\n  needs: [a]\n  dependencies: [c, a, d]\n",
	             "jobs:b dependencies the c, d should be part of needs", 11, 17);
	/* needs: a bare string or an empty hash is not a needs list */
	expect_error("a:\n  script: x\nb:\n  script: x\n  needs: a\n",
	             "jobs:b:needs config can only be a Hash or an Array", 5, 10);
	expect_error("a:\n  script: x\nb:\n  script: x\n  needs: {}\n",
	             "jobs:b:needs config can not be an empty Hash", 5, 10);
	expect_error("a:\n  script: x\nb:\n  script: x\n  needs: [1.5]\n",
	             "jobs:b:needs:need has an unsupported type", 5, 11);
	expect_error("b:\n  script: x\n  dependencies: [nope]\n",
	             "b job: undefined dependency: nope", 3, 18);
	/* optional needs on a missing job are fine */
	struct pipeline *p = load_ok("a:\n  script: x\n  needs: [{job: zz, optional: true}]\n");
	assert_jobs(p, "a@test<>");
	pipeline_free(p);
}

/* GitLab flattens nested lists (from !reference) in needs, rules, stages, services and
 * scripts; needs: [] lists no job, so dependencies are not checked against it. */
static void test_flatten_and_empty_needs(void **state)
{
	(void)state;
	struct pipeline *p =
	    load_ok("stages: [[build, !reference [.st, extra]], deploy]\n"
	            ".st:\n  extra: [test]\n"
	            ".hidden:\n  needs: [b]\n  rules: [{if: $CI_COMMIT_BRANCH}]\n"
	            "  services: [{name: redis, alias: cache}]\n"
	            "pre:\n  stage: .pre\n  script: x\n"
	            "b:\n  stage: build\n  script: x\n"
	            "t:\n  stage: test\n  script: [!reference [.s, one], [two, [three]]]\n"
	            "  needs: [pre, !reference [.hidden, needs]]\n"
	            "  rules: [!reference [.hidden, rules], {when: never}]\n"
	            "  services: [postgres, !reference [.hidden, services]]\n"
	            ".s:\n  one: [echo 1]\n"
	            "d:\n  stage: deploy\n  script: x\n  needs: []\n  dependencies: [b, t]\n");
	assert_int_equal(p->n_stages, 5);
	assert_string_equal(p->stages[2], "test");
	const struct job *t = pipeline_find_job(p, "t");
	assert_true(t->decision.included);
	assert_int_equal(t->n_needs, 2);
	assert_string_equal(t->needs[1].job, "b");
	assert_string_equal(str_join(&t->script), "echo 1,two,three");
	assert_int_equal(t->n_services, 2);
	assert_string_equal(t->services[1].image.name, "redis");
	const struct job *d = pipeline_find_job(p, "d");
	assert_true(d->has_needs);
	assert_int_equal(d->n_needs, 0);
	assert_string_equal(str_join(&d->dependencies), "b,t");
	pipeline_free(p);
	/* a scalar stages: is GitLab's type error, not "no visible job" */
	expect_error("stages: test\njob:\n  script: x\n",
	             "stages config should be an array of strings or a nested array of strings up "
	             "to 10 levels deep",
	             1, 9);
}

/* trigger jobs are GitLab's Bridge entries: their own key set, trigger forms, when values,
 * and no default: keys */
static void test_trigger_jobs(void **state)
{
	(void)state;
	struct pipeline *p = load_ok("default:\n  tags: [t]\n  before_script: [b]\n"
	                             "a:\n  trigger: grp/other\n  when: manual\n"
	                             "b:\n  trigger: {include: child.yml, strategy: depend}\n"
	                             "c:\n  trigger: {project: g/p, branch: main}\n  needs: [a]\n"
	                             "  environment: prod\n  inherit: {default: false}\n");
	const struct job *a = pipeline_find_job(p, "a");
	assert_true(a->is_trigger);
	assert_int_equal(a->tags.n, 0);
	assert_int_equal(a->before_script.n, 0);
	pipeline_free(p);
	expect_error("a:\n  trigger: g/p\n  image: alpine\n",
	             "jobs:a config contains unknown keys: image", 3, 3);
	expect_error("a:\n  trigger: g/p\n  script: x\n",
	             "jobs:a config contains unknown keys: trigger", 2, 3);
	expect_error("a:\n  trigger: [g/p]\n", "jobs:a:trigger has to be either a string or a hash",
	             2, 12);
	expect_error("a:\n  trigger: {branch: main}\n", "jobs:a:trigger project should be a string",
	             2, 12);
	expect_error("a:\n  trigger: {include: c.yml, project: g/p}\n",
	             "jobs:a:trigger config contains unknown keys: project", 2, 29);
	expect_error("a:\n  trigger: {project: g/p, strategy: wait}\n",
	             "jobs:a:trigger strategy should be depend or mirror", 2, 37);
	expect_error("a:\n  trigger: g/p\n  when: delayed\n",
	             "jobs:a when should be one of: on_success, on_failure, always, manual", 3, 9);
}

static void test_collect_all_errors(void **state)
{
	(void)state;
	_cleanup_free_ char *dir = new_dir();
	put(dir, ".gitlab-ci.yml",
	    "a:\n  script: x\n  foo: 1\nb:\n  stage: nope\n  script: x\nc:\n  script: [{}]\n");
	struct tctx t;
	tctx_init(&t, dir);
	t.ctx.vars = t.vars;
	struct diag_list dl = DIAG_LIST_INIT;
	struct pipeline_opts opts = {.collect_all_errors = true, .diags = &dl};
	_cleanup_free_ char *file = xasprintf("%s/.gitlab-ci.yml", dir);
	struct err err = ERR_INIT;
	struct pipeline *p = pipeline_load(file, &t.ctx, &opts, &err);
	assert_null(p);
	assert_int_equal(diag_list_errors(&dl), 3);
	assert_non_null(strstr(dl.v[0].msg, "unknown keys: foo"));
	assert_int_equal(dl.v[1].loc.line, 5);
	assert_non_null(strstr(dl.v[2].msg, "jobs:c:script config should be"));
	assert_non_null(strstr(err.msg, "unknown keys: foo"));
	err_release(&err);
	diag_list_release(&dl);
	var_list_release(&t.vars);
}

/* ---- includes ---------------------------------------------------------------------------- */

static struct pipeline *load_dir(const char *dir, const char *include_dir, struct err *err)
{
	struct tctx t;
	tctx_init(&t, dir);
	t.ctx.include_dir = include_dir;
	struct pipeline *p = tload(&t, dir, err);
	var_list_release(&t.vars);
	return p;
}

static void test_include_local_nested_and_merge(void **state)
{
	(void)state;
	_cleanup_free_ char *dir = new_dir();
	put(dir, ".gitlab-ci.yml",
	    "include:\n  - local: /ci/a.yml\n  - ci/b.yml\n"
	    "variables:\n  V: main\n"
	    "job:\n  variables: {J: main}\n");
	put(dir, "ci/a.yml",
	    "include: ci/nested/c.yml\nvariables:\n  V: a\n  A: a\n"
	    "job:\n  script: [from-a]\n  variables: {J: a, K: a}\n");
	put(dir, "ci/b.yml", "other:\n  script: [b]\n  stage: build\n");
	put(dir, "ci/nested/c.yml", "variables:\n  C: c\n  A: c\n");
	struct err err = ERR_INIT;
	struct pipeline *p = load_dir(dir, NULL, &err);
	assert_non_null(p);
	assert_jobs(p, "other@build | job@test");
	const struct job *j = pipeline_find_job(p, "job");
	assert_string_equal(str_join(&j->script), "from-a");
	assert_string_equal(var_of(j, "J"), "main");
	assert_string_equal(var_of(j, "K"), "a");
	assert_string_equal(var_of(j, "V"), "main");
	assert_string_equal(var_of(j, "A"), "a");
	assert_string_equal(var_of(j, "C"), "c");
	pipeline_free(p);
}

static void test_include_wildcards_and_rules(void **state)
{
	(void)state;
	_cleanup_free_ char *dir = new_dir();
	put(dir, ".gitlab-ci.yml",
	    "include:\n  - local: 'ci/*.yml'\n  - local: 'deep/**.yml'\n"
	    "  - local: never.yml\n    rules:\n      - if: $CI_COMMIT_BRANCH == \"other\"\n"
	    "  - local: always.yml\n    rules:\n      - exists: [ci/x.yml]\n");
	put(dir, "ci/x.yml", "x:\n  script: x\n");
	put(dir, "ci/y.yml", "y:\n  script: y\n");
	put(dir, "ci/sub/z.yml", "z:\n  script: z\n");
	put(dir, "deep/a/b/w.yml", "w:\n  script: w\n");
	put(dir, "never.yml", "never:\n  script: n\n");
	put(dir, "always.yml", "always:\n  script: n\n");
	struct err err = ERR_INIT;
	struct pipeline *p = load_dir(dir, NULL, &err);
	assert_non_null(p);
	assert_jobs(p, "x@test | y@test | w@test | always@test");
	pipeline_free(p);
}

static void test_include_errors(void **state)
{
	(void)state;
	expect_error("include: missing.yml\njob:\n  script: x\n",
	             "Local file `missing.yml` does not exist!", 1, 10);
	expect_error("include: file.txt\njob:\n  script: x\n",
	             "Included file `file.txt` does not have YAML extension!", 1, 10);
	expect_error(
	    "include: 'https://example.com/ci/t.yml'\njob:\n  script: x\n",
	    "remote include 'https://example.com/ci/t.yml' cannot be fetched offline; pass "
	    "--include-dir DIR holding it as DIR/remote/example.com/ci/t.yml",
	    1, 10);
	expect_error("include:\n  - project: grp/lib\n    file: /ci.yml\n    ref: v1\n"
	             "job:\n  script: x\n",
	             "project include 'grp/lib:ci.yml' cannot be fetched offline; pass "
	             "--include-dir DIR holding it as DIR/project/grp/lib/v1/ci.yml",
	             3, 11);
	expect_error("include:\n  - template: Auto-DevOps.gitlab-ci.yml\njob:\n  script: x\n",
	             "template include 'Auto-DevOps.gitlab-ci.yml' cannot be fetched offline", 2,
	             15);
	expect_error("include:\n  - component: gitlab.com/comp/go/build@1.0\njob:\n  script: x\n",
	             "component include 'gitlab.com/comp/go/build@1.0' cannot be fetched offline",
	             2, 16);
	/* an error inside an included file points into that file */
	_cleanup_free_ char *dir = new_dir();
	put(dir, ".gitlab-ci.yml", "include: ci/bad.yml\n");
	put(dir, "ci/bad.yml", "job:\n  script: x\n  nope: 1\n");
	struct err err = ERR_INIT;
	assert_null(load_dir(dir, NULL, &err));
	assert_non_null(strstr(err.loc.file, "ci/bad.yml"));
	assert_int_equal(err.loc.line, 3);
	assert_int_equal(err.loc.col, 3);
	err_release(&err);
}

static void test_include_dir_offline(void **state)
{
	(void)state;
	_cleanup_free_ char *dir = new_dir();
	_cleanup_free_ char *inc = xasprintf("%s/incdir", dir);
	put(dir, ".gitlab-ci.yml",
	    "include:\n  - remote: 'https://example.com/ci/r.yml'\n"
	    "  - project: grp/lib\n    file: [a.yml]\n"
	    "  - template: Tpl.gitlab-ci.yml\n"
	    "  - component: gitlab.com/comp/go/build@1.0\n    inputs: {stage: deploy}\n");
	put(inc, "remote/example.com/ci/r.yml", "r:\n  script: r\n");
	put(inc, "project/grp/lib/HEAD/a.yml", "include: local-in-lib.yml\np:\n  script: p\n");
	put(inc, "project/grp/lib/HEAD/local-in-lib.yml", "pl:\n  script: pl\n");
	put(inc, "template/Tpl.gitlab-ci.yml", "t:\n  script: t\n");
	put(inc, "component/gitlab.com/comp/go@1.0/templates/build.yml",
	    "spec:\n  inputs:\n    stage:\n      default: test\n    name:\n      default: c\n---\n"
	    "$[[ inputs.name ]]-job:\n  stage: $[[ inputs.stage ]]\n  script: c\n");
	struct err err = ERR_INIT;
	struct pipeline *p = load_dir(dir, inc, &err);
	if (!p)
		fail_msg("%s", err.msg);
	assert_jobs(p, "r@test | pl@test | p@test | t@test | c-job@deploy");
	pipeline_free(p);
}

static void test_spec_inputs(void **state)
{
	(void)state;
	struct pipeline *p = load_ok("spec:\n  inputs:\n    who:\n      default: world\n"
	                             "    n:\n      default: 3\n      type: number\n---\n"
	                             "job:\n  script: echo hello $[[ inputs.who ]]\n"
	                             "  parallel: $[[ inputs.n ]]\n");
	assert_int_equal(p->n_jobs, 3);
	assert_string_equal(p->jobs[0].script.v[0], "echo hello world");
	pipeline_free(p);
	expect_error("spec:\n  inputs:\n    who:\n---\njob:\n  script: $[[ inputs.who ]]\n",
	             "`who` input: required value has not been provided", 0, 0);
	expect_error("spec:\n  inputs:\n    who:\n      default: x\n---\njob:\n"
	             "  script: $[[ inputs.foo ]]\n",
	             "unknown interpolation key: `foo`", 7, 11);
}

/* ---- the include source (network includes through model/include-source.h) ---- */

/* A source answering from a table, recording how it was asked: the model's side of the
 * interface. fetch/ (the real source) is tested against real servers in tests/e2e/t700. */
struct canned {
	const char *url, *body, *error, *warning;
};
struct canned_source {
	const struct canned *answers;
	size_t n_calls;
	struct strbuf asked; /* "url url | url" : one `|`-separated group per call */
};

static void canned_fetch(void *data, const struct isrc_request *reqs, size_t n,
                         struct isrc_result *res)
{
	struct canned_source *cs = data;
	if (cs->n_calls++)
		strbuf_addstr(&cs->asked, " | ");
	for (size_t i = 0; i < n; i++) {
		/* project files as `group/project:file@ref` (ref empty: the default branch) */
		_cleanup_free_ char *key =
		    reqs[i].kind == ISRC_PROJECT
		        ? xasprintf("%s:%s@%s", reqs[i].location, reqs[i].file,
		                    reqs[i].ref ? reqs[i].ref : "")
		        : xstrdup(reqs[i].location);
		strbuf_addf(&cs->asked, "%s%s", i ? " " : "", key);
		if (reqs[i].integrity)
			strbuf_addf(&cs->asked, "#%s", reqs[i].integrity);
		if (reqs[i].kind == ISRC_PROJECT &&
		    strcmp(reqs[i].server, "https://gl.example") != 0)
			fail_msg("project request without the pipeline's server");
		if (reqs[i].kind != ISRC_REMOTE && reqs[i].kind != ISRC_PROJECT) {
			res[i].unsupported = true;
			continue;
		}
		const struct canned *c = cs->answers;
		while (c->url && strcmp(c->url, key) != 0)
			c++;
		if (!c->url || c->error) {
			err_set(&res[i].err, ERR_CONFIG, "%s", c->url ? c->error : "not canned");
			continue;
		}
		res[i].body = xstrdup(c->body);
		res[i].len = strlen(c->body);
		res[i].warning = c->warning ? xstrdup(c->warning) : NULL;
	}
}

static struct pipeline *load_src(const char *dir, const char *include_dir, struct canned_source *cs,
                                 struct err *err)
{
	struct tctx t;
	tctx_init(&t, dir);
	t.ctx.include_dir = include_dir;
	tctx_set(&t, "CI_SERVER_URL", "https://gl.example", true);
	struct include_source src = {.fetch = canned_fetch, .data = cs};
	t.ctx.includes = &src;
	strbuf_reset(&cs->asked);
	cs->n_calls = 0;
	struct pipeline *p = tload(&t, dir, err);
	var_list_release(&t.vars);
	return p;
}

/* One call per include level with every remote entry of it (rules first), merged in order;
 * --include-dir wins and is never asked for. */
static void test_include_source_levels(void **state)
{
	(void)state;
	static const struct canned answers[] = {
	    {"https://h/a.yml", "include: 'https://h/nested.yml'\na:\n  script: x\n", NULL, NULL},
	    {"https://h/b.yml", "b:\n  script: x\n", NULL, NULL},
	    {"https://h/nested.yml", "n:\n  script: x\n", NULL, NULL},
	    {NULL, NULL, NULL, NULL},
	};
	struct canned_source cs = {.answers = answers, .asked = STRBUF_INIT};
	_cleanup_free_ char *dir = new_dir();
	_cleanup_free_ char *inc = new_dir();
	put(dir, ".gitlab-ci.yml",
	    "include:\n  - remote: https://h/a.yml\n  - local: l.yml\n"
	    "  - remote: https://h/skipped.yml\n    rules: [{if: $NOPE}]\n"
	    "  - https://h/b.yml\n  - remote: https://h/offline.yml\n"
	    "  - remote: https://h/pinned.yml\n    integrity: sha256-x\n"
	    "main:\n  script: x\n");
	put(dir, "l.yml", "l:\n  script: x\n");
	put(inc, "remote/h/offline.yml", "o:\n  script: x\n");
	put(inc, "remote/h/pinned.yml", "pin:\n  script: x\n");
	struct err err = ERR_INIT;
	struct pipeline *p = load_src(dir, inc, &cs, &err);
	if (!p)
		fail_msg("%s", err.msg);
	assert_string_equal(cs.asked.buf, "https://h/a.yml https://h/b.yml | https://h/nested.yml");
	assert_jobs(p, "n@test | a@test | l@test | b@test | o@test | pin@test | main@test");
	pipeline_free(p);
	/* without the include dir the pinned one is asked for with its integrity */
	put(dir, ".gitlab-ci.yml",
	    "include:\n  - remote: https://h/b.yml\n  - remote: https://h/pinned.yml\n"
	    "    integrity: sha256-x\n");
	assert_null(load_src(dir, NULL, &cs, &err));
	assert_string_equal(cs.asked.buf, "https://h/b.yml https://h/pinned.yml#sha256-x");
	err_release(&err);
	strbuf_release(&cs.asked);
}

/* project: files come through the source with the pipeline's server; local includes inside a
 * fetched project file are that project's files at the same ref (GitLab), asked with the next
 * level; --include-dir still wins. */
static void test_include_source_project(void **state)
{
	(void)state;
	static const struct canned answers[] = {
	    {"g/p:ci/a.yml@v1", "include: ci/b.yml\na:\n  script: x\n", NULL, NULL},
	    {"g/p:ci/b.yml@v1", "include: {local: /ci/c.yml}\nb:\n  script: x\n", NULL, NULL},
	    {"g/p:ci/c.yml@v1", "c:\n  script: x\n", NULL, NULL},
	    {"g/q:d.yml@", "d:\n  script: x\n", NULL, NULL},
	    {NULL, NULL, NULL, NULL},
	};
	struct canned_source cs = {.answers = answers, .asked = STRBUF_INIT};
	_cleanup_free_ char *dir = new_dir();
	_cleanup_free_ char *inc = new_dir();
	put(dir, ".gitlab-ci.yml",
	    "include:\n  - project: g/p\n    ref: v1\n    file: ci/a.yml\n"
	    "  - project: g/q\n    file: [/d.yml, e.yml]\nmain:\n  script: x\n");
	put(inc, "project/g/q/HEAD/e.yml", "e:\n  script: x\n");
	struct err err = ERR_INIT;
	struct pipeline *p = load_src(dir, inc, &cs, &err);
	if (!p)
		fail_msg("%s", err.msg);
	assert_string_equal(cs.asked.buf,
	                    "g/p:ci/a.yml@v1 g/q:d.yml@ | g/p:ci/b.yml@v1 | g/p:ci/c.yml@v1");
	assert_jobs(p, "c@test | b@test | a@test | d@test | e@test | main@test");
	pipeline_free(p);
	/* a file the source does not have: its error, at the file: entry */
	put(dir, ".gitlab-ci.yml", "include:\n  - project: g/p\n    file: nope.yml\n");
	assert_null(load_src(dir, NULL, &cs, &err));
	assert_string_equal(err.msg, "not canned");
	assert_int_equal(err.loc.line, 3);
	err_release(&err);
	strbuf_release(&cs.asked);
}

/* The source's error shows at the include entry; its warning once, there too; a fetched
 * file's own mistakes point into it under its URL; a kind it does not fetch gives the
 * offline message. */
static void test_include_source_errors(void **state)
{
	(void)state;
	static const struct canned answers[] = {
	    {"https://h/down.yml", NULL, "Remote file `https://h/down.yml` could not be fetched",
	     NULL},
	    {"https://h/old.yml", "old:\n  script: x\n", NULL, "served from the cache"},
	    {"https://h/bad.yml", "bad:\n  script: x\n  when: sometimes\n", NULL, NULL},
	    {NULL, NULL, NULL, NULL},
	};
	struct canned_source cs = {.answers = answers, .asked = STRBUF_INIT};
	_cleanup_free_ char *dir = new_dir();
	put(dir, ".gitlab-ci.yml", "j:\n  script: x\ninclude:\n  - remote: https://h/down.yml\n");
	struct err err = ERR_INIT;
	assert_null(load_src(dir, NULL, &cs, &err));
	assert_string_equal(err.msg, "Remote file `https://h/down.yml` could not be fetched");
	assert_int_equal(err.loc.line, 4);
	assert_int_equal(err.loc.col, 13);
	err_release(&err);
	put(dir, ".gitlab-ci.yml", "include:\n  - remote: https://h/old.yml\n");
	struct pipeline *p = load_src(dir, NULL, &cs, &err);
	assert_non_null(p);
	assert_int_equal(p->warnings.n, 1);
	assert_string_equal(p->warnings.v[0].msg, "served from the cache");
	assert_int_equal(p->warnings.v[0].loc.line, 2);
	pipeline_free(p);
	put(dir, ".gitlab-ci.yml", "include:\n  - remote: https://h/bad.yml\n");
	assert_null(load_src(dir, NULL, &cs, &err));
	assert_string_equal(err.loc.file, "https://h/bad.yml");
	assert_int_equal(err.loc.line, 3);
	err_release(&err);
	put(dir, ".gitlab-ci.yml", "include:\n  - template: Jobs/Build.gitlab-ci.yml\n");
	assert_null(load_src(dir, NULL, &cs, &err));
	assert_non_null(strstr(err.msg, "cannot be fetched offline"));
	err_release(&err);
	strbuf_release(&cs.asked);
}

/* A component of the project itself at the pipeline's commit is read from the project;
 * another version of it is not. */
static void test_include_own_component(void **state)
{
	(void)state;
	_cleanup_free_ char *dir = new_dir();
	put(dir, ".gitlab-ci.yml",
	    "include:\n  - component: $CI_SERVER_FQDN/$CI_PROJECT_PATH/comp@$CI_COMMIT_SHA\n"
	    "    inputs: {stage: build}\n");
	put(dir, "templates/comp/template.yml",
	    "spec:\n  inputs:\n    stage:\n      default: test\n---\n"
	    "comp-job:\n  stage: $[[ inputs.stage ]]\n  script: x\n");
	struct tctx t;
	tctx_init(&t, dir);
	tctx_set(&t, "CI_SERVER_FQDN", "gitlab.example.com", true);
	tctx_set(&t, "CI_COMMIT_SHA", "0123abcd", true);
	struct err err = ERR_INIT;
	struct pipeline *p = tload(&t, dir, &err);
	if (!p)
		fail_msg("%s", err.msg);
	assert_jobs(p, "comp-job@build");
	pipeline_free(p);
	put(dir, ".gitlab-ci.yml",
	    "include:\n  - component: $CI_SERVER_FQDN/$CI_PROJECT_PATH/nope@$CI_COMMIT_SHA\n");
	assert_null(tload(&t, dir, &err));
	assert_string_equal(err.msg,
	                    "component: `gitlab.example.com/grp/proj/nope@0123abcd`. One of the "
	                    "files [templates/nope.yml,templates/nope/template.yml] must exist in "
	                    "`gitlab.example.com/grp/proj`");
	err_release(&err);
	put(dir, ".gitlab-ci.yml",
	    "include:\n  - component: gitlab.example.com/grp/proj/comp@v1\n");
	assert_null(tload(&t, dir, &err));
	assert_non_null(strstr(err.msg, "cannot be fetched offline"));
	err_release(&err);
	var_list_release(&t.vars);
}

/* Loads a main file including tpl.yml with `inputs: {given}`; returns the error (owned by the
 * caller's err) or NULL when it loads, with *ret_p set. */
static const char *include_with_inputs(const char *given, const char *tpl, struct err *err,
                                       struct pipeline **ret_p)
{
	_cleanup_free_ char *dir = new_dir();
	_cleanup_free_ char *main_yml =
	    xasprintf("include:\n  - local: tpl.yml\n    inputs: {%s}\n", given);
	put(dir, ".gitlab-ci.yml", main_yml);
	put(dir, "tpl.yml", tpl);
	*ret_p = load_dir(dir, NULL, err);
	return *ret_p ? NULL : err->msg;
}

static void expect_input_error(const char *given, const char *tpl, const char *msg)
{
	struct err err = ERR_INIT;
	struct pipeline *p = NULL;
	const char *got = include_with_inputs(given, tpl, &err, &p);
	if (!got) {
		pipeline_free(p);
		fail_msg("expected error '%s'", msg);
	}
	if (strcmp(got, msg) != 0)
		fail_msg("error '%s', expected '%s'", got, msg);
	err_release(&err);
}

/* spec:inputs validation and interpolation as GitLab's Interpolation::Inputs/Block/Template. */
static void test_spec_inputs_validation(void **state)
{
	(void)state;
	const char *str_tpl = "spec:\n  inputs:\n    s:\n      type: string\n---\n"
	                      "j:\n  script: echo $[[ inputs.s ]]\n";
	expect_input_error("s: 1", str_tpl, "`s` input: provided value is not a string");
	expect_input_error("s: x",
	                   "spec:\n  inputs:\n    s:\n      type: foo\n---\nj: {script: x}\n",
	                   "header:spec:inputs:s input type unknown value: foo");
	expect_input_error("a: x",
	                   "spec:\n  inputs:\n    a:\n      type: array\n---\nj: {script: x}\n",
	                   "`a` input: provided value is not an array");
	const char *rx_tpl = "spec:\n  inputs:\n    v:\n      regex: ^v\\d+$\n---\n"
	                     "j:\n  script: echo $[[ inputs.v ]]\n";
	expect_input_error("v: x1", rx_tpl,
	                   "`v` input: provided value does not match required RegEx pattern");
	expect_input_error("v: v1",
	                   "spec:\n  inputs:\n    v:\n      regex: ^[x\n---\nj: {script: x}\n",
	                   "`v` input: invalid regular expression");
	expect_input_error("o: [a]",
	                   "spec:\n  inputs:\n    o:\n      type: array\n      default: []\n"
	                   "      options: [a, b]\n---\nj:\n  script: x\n",
	                   "`o` input: Options can only be used with string and number inputs");
#define FN_TPL(fns) "spec:\n  inputs:\n    s:\n---\nj:\n  script: echo $[[ inputs.s | " fns " ]]\n"
	expect_input_error("s: x",
	                   FN_TPL("posix_escape | posix_escape | posix_escape | posix_escape"),
	                   "too many functions in interpolation block");
	expect_input_error("s: x", FN_TPL("nope"),
	                   "no function matching `nope`: check that the function name, arguments, "
	                   "and types are correct");
#undef FN_TPL
	expect_error("spec:\n  inputs:\n    a:\n      default: x\n---\n"
	             "j:\n  script: $[[ inputs ]]\n",
	             "invalid interpolation access pattern", 7, 11);
	/* component context needs spec:component (not supported): the key is unknown */
	expect_error("spec:\n  inputs:\n    a:\n      default: x\n---\nj:\n"
	             "  script: $[[ component.name ]]\n",
	             "unknown interpolation key: `component`", 7, 11);
	/* a valid value; a null given value takes the default; an array inside a string is Ruby's
	 * to_s of it, an array alone stays a list */
	struct err err = ERR_INIT;
	struct pipeline *p = NULL;
	assert_null(include_with_inputs("v: v12, n: null, a: [x, 2, true]",
	                                "spec:\n  inputs:\n    v:\n      regex: ^v\\d+$\n"
	                                "    n:\n      default: dflt\n"
	                                "    a:\n      type: array\n---\n"
	                                "j:\n  script:\n"
	                                "    - echo $[[ inputs.v ]] $[[ inputs.n ]]\n"
	                                "    - echo $[[ inputs.a ]]\n    - $[[ inputs.a ]]\n",
	                                &err, &p));
	const struct job *j = pipeline_find_job(p, "j");
	assert_string_equal(str_join(&j->script), "echo v12 dflt,echo [\"x\", 2, true],x,2,true");
	pipeline_free(p);
}

/* ---- extends, !reference, default --------------------------------------------------------- */

/* `job` extending through a chain of `hops` templates (.l<hops-1> ... .l0). */
static const char *extends_chain(struct strbuf *sb, int hops)
{
	strbuf_reset(sb);
	strbuf_addstr(sb, ".l0:\n  script: x\n");
	for (int i = 1; i < hops; i++)
		strbuf_addf(sb, ".l%d:\n  extends: .l%d\n", i, i - 1);
	strbuf_addf(sb, "job:\n  extends: .l%d\n", hops - 1);
	return sb->buf;
}

static void test_extends(void **state)
{
	(void)state;
	struct pipeline *p =
	    load_ok(".p:\n  variables: {A: \"1\", B: \"2\"}\n  script: [x]\n"
	            "  tags: [t1]\n  image: img\n"
	            ".q:\n  extends: .p\n  stage: build\n"
	            "job:\n  extends: [.q]\n  variables: {B: \"3\"}\n  tags: [t2]\n"
	            "  image: null\n");
	const struct job *j = pipeline_find_job(p, "job");
	assert_string_equal(var_of(j, "A"), "1");
	assert_string_equal(var_of(j, "B"), "3");
	assert_string_equal(str_join(&j->script), "x");
	assert_string_equal(str_join(&j->tags), "t2");
	assert_string_equal(j->stage, "build");
	assert_null(j->image.name);
	pipeline_free(p);
	expect_error("a:\n  extends: b\n  script: x\nb:\n  extends: a\n  script: y\n",
	             "circular dependency detected in `extends`", 0, 0);
	expect_error("a:\n  extends: .nope\n  script: x\n", "a: unknown keys in `extends` (.nope)",
	             2, 12);
	expect_error("a:\n  extends: .v\n  script: x\n.v: [1]\n",
	             "a: invalid base hashes in `extends` (.v)", 2, 12);
	/* 11 hops are allowed, 12 are not */
	struct strbuf sb = STRBUF_INIT;
	pipeline_free(load_ok(extends_chain(&sb, 11)));
	expect_error(extends_chain(&sb, 12), "nesting too deep in `extends`", 0, 0);
	expect_error(extends_chain(&sb, 13), "nesting too deep in `extends`", 0, 0);
	strbuf_release(&sb);
}

static void test_reference(void **state)
{
	(void)state;
	struct pipeline *p = load_ok(".setup:\n  script: [a, b]\n  vars: {X: x}\n"
	                             ".r:\n  rules:\n    - if: $CI_COMMIT_BRANCH == \"main\"\n"
	                             "job:\n  script:\n    - !reference [.setup, script]\n    - c\n"
	                             "  variables:\n    X: !reference [.setup, vars, X]\n"
	                             "  rules:\n    - !reference [.r, rules]\n");
	const struct job *j = pipeline_find_job(p, "job");
	assert_string_equal(str_join(&j->script), "a,b,c");
	assert_string_equal(var_of(j, "X"), "x");
	assert_true(j->decision.included);
	pipeline_free(p);
	expect_error("job:\n  script: !reference [.nope, script]\n", "could not be found", 0, 0);
}

static void test_default_and_inherit(void **state)
{
	(void)state;
	struct pipeline *p =
	    load_ok("image: legacy\n"
	            "default:\n  before_script: [d]\n  tags: [dt]\n  retry: 1\n"
	            "variables: {G1: a, G2: b}\n"
	            "a:\n  script: x\n"
	            "b:\n  script: x\n  before_script: [own]\n  inherit: {default: false, "
	            "variables: false}\n"
	            "c:\n  script: x\n  inherit: {default: [tags], variables: [G2]}\n");
	const struct job *a = pipeline_find_job(p, "a"), *b = pipeline_find_job(p, "b"),
	                 *c = pipeline_find_job(p, "c");
	assert_string_equal(str_join(&a->before_script), "d");
	assert_string_equal(a->image.name, "legacy");
	assert_int_equal(a->retry.max, 1);
	assert_string_equal(var_of(a, "G1"), "a");
	assert_string_equal(str_join(&b->before_script), "own");
	assert_null(b->image.name);
	assert_int_equal(b->tags.n, 0);
	assert_null(var_of(b, "G1"));
	assert_int_equal(c->before_script.n, 0);
	assert_string_equal(str_join(&c->tags), "dt");
	assert_null(c->image.name);
	assert_null(var_of(c, "G1"));
	assert_string_equal(var_of(c, "G2"), "b");
	pipeline_free(p);
}

/* A null job keyword is unset, as for GitLab (Entry::Factory makes a nil value an undefined
 * entry): it cancels what extends brought, and default: fills it. */
static void test_null_keywords(void **state)
{
	(void)state;
	struct pipeline *p = load_ok(
	    "default:\n  image: dimg\n  before_script: [d]\n  interruptible: true\n"
	    "  cache: {key: dk}\n"
	    "stages: [build, test]\n"
	    ".base:\n  parallel: 3\n  stage: build\n  tags: [t]\n  needs: []\n"
	    "  dependencies: []\n  retry: 2\n  timeout: 1h\n  environment: prod\n"
	    "  artifacts: {paths: [out]}\n  services: [svc]\n  coverage: /x/\n"
	    "  resource_group: rg\n  allow_failure: true\n"
	    "j:\n  extends: .base\n  script: x\n  parallel: null\n  stage: null\n  tags: null\n"
	    "  needs: null\n  dependencies: null\n  retry: null\n  timeout: null\n"
	    "  environment: null\n  artifacts: null\n  services: null\n  coverage: null\n"
	    "  resource_group: null\n  allow_failure: null\n  image: null\n"
	    "  before_script: null\n  after_script: ~\n  interruptible: null\n  cache: null\n"
	    "  when: null\n  start_in: null\n  variables: null\n  inherit: null\n"
	    "  only: null\n  except: null\n  rules: null\n"
	    "r:\n  script: x\n  rules: [{when: manual}]\n  only: null\n  allow_failure: ~\n");
	assert_int_equal(p->n_jobs, 2);
	const struct job *j = pipeline_find_job(p, "j");
	assert_non_null(j);
	assert_int_equal(j->node_total, 1);
	assert_string_equal(j->stage, "test");
	assert_int_equal(j->tags.n, 0);
	assert_false(j->has_needs);
	assert_false(j->has_dependencies);
	assert_int_equal(j->retry.max, 0);
	assert_int_equal(j->timeout_seconds, 0);
	assert_null(j->environment.name);
	assert_false(j->artifacts.present);
	assert_int_equal(j->n_services, 0);
	assert_null(j->coverage);
	assert_null(j->resource_group);
	assert_false(j->allow_failure);
	assert_int_equal(j->when, WHEN_ON_SUCCESS);
	/* default: fills the keywords set to null */
	assert_string_equal(j->image.name, "dimg");
	assert_string_equal(str_join(&j->before_script), "d");
	assert_int_equal(j->after_script.n, 0);
	assert_true(j->interruptible);
	assert_int_equal(j->n_caches, 1);
	assert_string_equal(j->caches[0].key, "dk");
	/* a rule's when: manual blocks when allow_failure: is null, as when it is absent */
	const struct job *r = pipeline_find_job(p, "r");
	assert_true(r->manual);
	assert_false(r->allow_failure);
	pipeline_free(p);
	/* script: null is a blank script; a null stage: is the default stage */
	expect_error("j:\n  script: null\n", "jobs:j script can't be blank", 2, 11);
	expect_error("j:\n  script: x\n  start_in: null\n  when: delayed\n",
	             "jobs:j start in should be a duration", 4, 9);
}

/* cache: is a ComposableArray in GitLab: nested lists flatten, the limit of 4 counts the list
 * as written. */
static void test_cache_nested_lists(void **state)
{
	(void)state;
	struct pipeline *p = load_ok(
	    ".c: &c\n  - key: a\n    paths: [pa]\n  - key: b\n"
	    "j:\n  script: x\n  cache: [*c, [[{key: d, policy: pull}]], {key: e}]\n"
	    "k:\n  script: x\n  cache: [[{key: 1}, {key: 2}, {key: 3}, {key: 4}, {key: 5}]]\n");
	const struct job *j = pipeline_find_job(p, "j");
	assert_int_equal(j->n_caches, 4);
	assert_string_equal(j->caches[0].key, "a");
	assert_string_equal(str_join(&j->caches[0].paths), "pa");
	assert_string_equal(j->caches[1].key, "b");
	assert_string_equal(j->caches[2].key, "d");
	assert_string_equal(j->caches[2].policy, "pull");
	assert_string_equal(j->caches[3].key, "e");
	assert_int_equal(pipeline_find_job(p, "k")->n_caches, 5);
	pipeline_free(p);
	expect_error(
	    "j:\n  script: x\n  cache: [{key: 1}, {key: 2}, {key: 3}, {key: 4}, [{key: 5}]]\n",
	    "jobs:j:cache config no more than 4 caches can be created", 3, 10);
	expect_error("j:\n  script: x\n  cache: [[{key: 1}, [x]]]\n",
	             "jobs:j:cache config should be a hash or an array of hashes", 3, 23);
}

/* ---- parallel ------------------------------------------------------------------------------ */

static void test_parallel(void **state)
{
	(void)state;
	struct pipeline *p = load_ok(
	    "build:\n  stage: build\n  script: x\n  parallel: 3\n"
	    "mx:\n  stage: build\n  script: x\n  variables: {OS: none}\n  parallel:\n    matrix:\n"
	    "      - OS: [linux, mac]\n        ARCH: [amd64, arm]\n      - OS: win\n"
	    "all:\n  script: x\n  needs: [build]\n"
	    "some:\n  script: x\n  needs:\n    - job: mx\n      parallel:\n        matrix:\n"
	    "          - OS: linux\n            ARCH: [arm]\n"
	    "deps:\n  script: x\n  dependencies: [build]\n");
	assert_jobs(p,
	            "build 1/3@build | build 2/3@build | build 3/3@build | "
	            "mx: [linux, amd64]@build | mx: [linux, arm]@build | mx: [mac, amd64]@build | "
	            "mx: [mac, arm]@build | mx: [win]@build | "
	            "all@test<build 1/3,build 2/3,build 3/3> | some@test<mx: [linux, arm]> | "
	            "deps@test");
	const struct job *j = pipeline_find_job(p, "build 2/3");
	assert_int_equal(j->node_index, 2);
	assert_int_equal(j->node_total, 3);
	assert_string_equal(j->group_name, "build");
	j = pipeline_find_job(p, "mx: [mac, arm]");
	assert_string_equal(var_of(j, "OS"), "mac");
	assert_string_equal(var_of(j, "ARCH"), "arm");
	assert_int_equal(j->node_index, 4);
	assert_int_equal(j->node_total, 5);
	j = pipeline_find_job(p, "deps");
	assert_string_equal(str_join(&j->dependencies), "build 1/3,build 2/3,build 3/3");
	pipeline_free(p);
	expect_error(
	    "a:\n  script: x\n  parallel:\n    matrix:\n      - X: [1,2,3,4,5,6,7,8,9,10]\n"
	    "        Y: [1,2,3,4,5,6,7,8,9,10]\n        Z: [1,2,3]\n",
	    "jobs:a:parallel:matrix config generates too many jobs (maximum is 200)", 5, 7);
}

/* ---- workflow, rules, only/except --------------------------------------------------------- */

static struct pipeline *load_with(const char *yaml, void (*setup)(struct tctx *), struct err *err)
{
	_cleanup_free_ char *dir = new_dir();
	put(dir, ".gitlab-ci.yml", yaml);
	put(dir, "docs/readme.md", "x");
	put(dir, "src/main.c", "x");
	struct tctx t;
	tctx_init(&t, dir);
	if (setup)
		setup(&t);
	struct pipeline *p = tload(&t, dir, err);
	var_list_release(&t.vars);
	return p;
}

static void setup_mr(struct tctx *t)
{
	tctx_set(t, "CI_PIPELINE_SOURCE", "merge_request_event", true);
	tctx_unset(t, "CI_COMMIT_BRANCH");
	tctx_set(t, "CI_COMMIT_REF_NAME", "feature", true);
}

static void setup_tag(struct tctx *t)
{
	tctx_unset(t, "CI_COMMIT_BRANCH");
	tctx_set(t, "CI_COMMIT_TAG", "v1.2", true);
	tctx_set(t, "CI_COMMIT_REF_NAME", "v1.2", true);
}

static void setup_changes(struct tctx *t)
{
	t->changed_v[0] = "src/main.c";
	t->changed = (struct string_list){t->changed_v, 1};
	t->ctx.changed_files = &t->changed;
	tctx_set(t, "DEPLOY", "yes", false);
}

static void test_workflow(void **state)
{
	(void)state;
	const char *y = "variables: {V: global, W: w}\n"
	                "workflow:\n  name: 'pipe $V $CI_COMMIT_BRANCH'\n  rules:\n"
	                "    - if: $CI_PIPELINE_SOURCE == \"merge_request_event\"\n"
	                "      variables: {V: mr}\n"
	                "    - if: $CI_COMMIT_TAG\n      when: never\n"
	                "    - if: $CI_COMMIT_BRANCH == \"main\"\n      variables: {V: main}\n"
	                "job:\n  script: x\n";
	struct err err = ERR_INIT;
	struct pipeline *p = load_with(y, NULL, &err);
	assert_true(p->created);
	assert_string_equal(var_of(&p->jobs[0], "V"), "main");
	assert_string_equal(var_list_value(&p->variables, "V"), "main");
	assert_string_equal(p->name, "pipe main main");
	assert_int_equal(p->workflow_loc.line, 9);
	pipeline_free(p);
	p = load_with(y, setup_mr, &err);
	assert_true(p->created);
	/* workflow:rules drops the implicit only: the plain job runs in MR pipelines */
	assert_int_equal(p->n_jobs, 1);
	assert_string_equal(var_of(&p->jobs[0], "V"), "mr");
	pipeline_free(p);
	p = load_with(y, setup_tag, &err);
	assert_false(p->created);
	assert_int_equal(p->n_jobs, 0);
	assert_int_equal(p->n_excluded, 1);
	pipeline_free(p);
	p = load_with("workflow:\n  rules:\n    - if: $NOPE\njob:\n  script: x\n", NULL, &err);
	assert_false(p->created);
	pipeline_free(p);
}

static void test_rules_matrix(void **state)
{
	(void)state;
	const char *y =
	    "variables: {G: gv, REF: \"$CI_COMMIT_BRANCH\"}\n"
	    "a:\n  script: x\n  rules:\n    - if: $CI_COMMIT_BRANCH == \"other\"\n"
	    "    - if: $G == \"gv\" && $CI_COMMIT_BRANCH =~ /^ma/\n      when: manual\n"
	    "b:\n  script: x\n  when: manual\n"
	    "c:\n  script: x\n  rules:\n    - if: $NOPE\n"
	    "d:\n  script: x\n  rules:\n    - changes: [docs/**/*]\n    - exists: ['src/*.c']\n"
	    "      when: delayed\n      start_in: 5 min\n      allow_failure: true\n"
	    "      variables: {R: rv}\n"
	    "e:\n  script: x\n  rules:\n    - changes: ['docs/*']\n      when: never\n    - when: "
	    "always\n"
	    "f:\n  script: x\n  variables: {J: jv}\n  rules:\n    - if: $J == \"jv\" && $REF == "
	    "\"main\"\n"
	    "g:\n  script: x\n  rules:\n    - if: $DEPLOY\n"
	    "h:\n  script: x\n  rules:\n    - if: $REF == \"$CI_COMMIT_BRANCH\"\n";
	struct err err = ERR_INIT;
	struct pipeline *p = load_with(y, setup_changes, &err);
	if (!p)
		fail_msg("%s", err.msg);
	assert_jobs(p, "a@test | b@test | d@test | e@test | g@test | h@test");
	const struct job *a = pipeline_find_job(p, "a");
	assert_int_equal(a->when, WHEN_MANUAL);
	assert_true(a->manual);
	assert_false(a->allow_failure);
	assert_int_equal(a->decision.rule_index, 1);
	assert_int_equal(a->decision.rule_loc.line, 6);
	assert_string_equal(a->decision.reason, "rule 2 matched");
	assert_string_equal(var_list_value(&a->decision.read_vars, "G"), "gv");
	assert_string_equal(var_list_value(&a->decision.read_vars, "CI_COMMIT_BRANCH"), "main");
	const struct job *b = pipeline_find_job(p, "b");
	assert_true(b->allow_failure);
	assert_true(b->manual);
	const struct job *c = pipeline_find_job(p, "c");
	assert_false(c->decision.included);
	assert_string_equal(c->decision.reason, "no rule matched");
	assert_non_null(var_list_get(&c->decision.read_vars, "NOPE"));
	assert_null(var_list_value(&c->decision.read_vars, "NOPE"));
	const struct job *d = pipeline_find_job(p, "d");
	assert_int_equal(d->when, WHEN_DELAYED);
	assert_int_equal(d->start_in_seconds, 300);
	assert_true(d->allow_failure);
	assert_string_equal(var_of(d, "R"), "rv");
	assert_int_equal(d->decision.rule_index, 1);
	const struct job *e = pipeline_find_job(p, "e");
	assert_int_equal(e->when, WHEN_ALWAYS);
	/* f and h read REF, a global defined as "$CI_COMMIT_BRANCH": GitLab's rules:if sees the
	 * raw text (context.variables_hash), so f does not match and h does */
	const struct job *f = pipeline_find_job(p, "f");
	assert_false(f->decision.included);
	assert_string_equal(var_list_value(&f->decision.read_vars, "REF"), "$CI_COMMIT_BRANCH");
	assert_true(pipeline_find_job(p, "h")->decision.included);
	pipeline_free(p);
}

/* A fake compare_to source: "base" changed src/main.c, "old" changed docs/readme.md, "boom"
 * fails, anything else is no commit. Counts calls to check the per-ref cache. */
static int since_calls;
static int fake_since(void *data, const char *ref, struct strvec *ret, struct err *err)
{
	assert_string_equal(data, "repo");
	since_calls++;
	if (!strcmp(ref, "boom"))
		return err_set(err, ERR_ENV, "git failed");
	if (!strcmp(ref, "base"))
		strvec_push(ret, "src/main.c");
	else if (!strcmp(ref, "old"))
		strvec_push(ret, "docs/readme.md");
	else
		return 0;
	return 1;
}

static void setup_since(struct tctx *t)
{
	t->ctx.changed_since = fake_since;
	t->ctx.changed_since_data = (void *)"repo";
	setup_changes(t); /* the default diff says src/main.c: compare_to must replace it */
}

static void test_changes_compare_to(void **state)
{
	(void)state;
	const char *y =
	    "variables:\n  BASE: base\n"
	    "src:\n  script: x\n  rules:\n    - changes: {paths: [src/*], compare_to: $BASE}\n"
	    "src2:\n  script: x\n  rules:\n    - changes: {paths: [src/*.c], compare_to: base}\n"
	    "docs-old:\n  script: x\n  rules:\n    - changes: {paths: [docs/*], compare_to: old}\n"
	    "src-old:\n  script: x\n  rules:\n    - changes: {paths: [src/*], compare_to: old}\n"
	    "docs:\n  script: x\n  rules:\n    - changes: [docs/*]\n";
	struct err err = ERR_INIT;
	since_calls = 0;
	struct pipeline *p = load_with(y, setup_since, &err);
	assert_jobs(p, "src@test | src2@test | docs-old@test");
	assert_int_equal(since_calls, 2); /* asked once per distinct (expanded) ref */
	pipeline_free(p);
	/* without a callback compare_to falls back to the default diff */
	p = load_with(y, setup_changes, &err);
	assert_jobs(p, "src@test | src2@test | src-old@test");
	pipeline_free(p);
	p = load_with("j:\n  script: x\n  rules:\n    - changes:\n        paths: [a]\n"
	              "        compare_to: nope\n",
	              setup_since, &err);
	assert_null(p);
	assert_string_equal(err.msg, "rules:changes:compare_to is not a valid ref");
	assert_int_equal(err.loc.line, 6);
	assert_int_equal(err.loc.col, 21);
	err_release(&err);
	p = load_with("j:\n  script: x\n  rules:\n    - changes: {paths: [a], compare_to: boom}\n",
	              setup_since, &err);
	assert_null(p);
	assert_int_equal(err.kind, ERR_ENV);
	assert_non_null(strstr(err.msg, "git failed"));
	err_release(&err);
}

static void test_only_except(void **state)
{
	(void)state;
	const char *y =
	    "plain:\n  script: x\n"
	    "ronly:\n  script: x\n  rules:\n    - when: on_success\n"
	    "mr:\n  script: x\n  only: [merge_requests]\n"
	    "tags:\n  script: x\n  only: [tags]\n"
	    "rx:\n  script: x\n  only: ['/^v\\d/']\n"
	    "main:\n  script: x\n  only: [main, pushes]\n"
	    "noint:\n  script: x\n  except: [main]\n"
	    "vars:\n  script: x\n  only:\n    variables: [$CI_COMMIT_REF_NAME == \"main\"]\n"
	    "chg:\n  script: x\n  only:\n    refs: [branches]\n    changes: [\"*.md\"]\n";
	struct err err = ERR_INIT;
	struct pipeline *p = load_with(y, NULL, &err);
	assert_jobs(p, "plain@test | ronly@test | main@test | vars@test | chg@test");
	/* explain names the clause, the pipeline's ref and the pattern that matched */
	assert_string_equal(pipeline_find_job(p, "noint")->decision.reason,
	                    "except:refs matched branch 'main' (source push)");
	assert_int_equal(pipeline_find_job(p, "noint")->decision.rule_loc.col, 12);
	pipeline_free(p);
	p = load_with(y, setup_mr, &err);
	/* except: alone keeps the implicit only: [branches, tags] */
	assert_jobs(p, "ronly@test | mr@test");
	assert_string_equal(pipeline_find_job(p, "plain")->decision.reason,
	                    "implicit only: [branches, tags] did not match");
	pipeline_free(p);
	p = load_with(y, setup_tag, &err);
	assert_jobs(p, "plain@test | ronly@test | tags@test | rx@test | main@test | noint@test");
	pipeline_free(p);
	p = load_with(y, setup_changes, &err);
	assert_null(pipeline_find_job(p, "chg")->decision.included ? "chg" : NULL);
	pipeline_free(p);
}

/* A refs entry `pattern@path` is split at its first `@` even when the pattern is a regex: the
 * path is the project's full path compared literally, the regex applies to the ref alone. */
static void test_only_refs_project_path(void **state)
{
	(void)state;
	const char *y = "rx-here:\n  script: x\n  only: ['/^main$/@grp/proj']\n"
	                "rx-other:\n  script: x\n  only: ['/^main$/@grp/other']\n"
	                "rx-prefix:\n  script: x\n  only: ['/^main$/@grp/proj/sub']\n"
	                "name-here:\n  script: x\n  only: ['main@grp/proj']\n"
	                "ex-here:\n  script: x\n  except: ['/^ma/@grp/proj']\n"
	                "ex-other:\n  script: x\n  except: ['/^ma/@grp/other']\n";
	struct err err = ERR_INIT;
	struct pipeline *p = load_with(y, NULL, &err);
	if (!p)
		fail_msg("%s", err.msg);
	assert_jobs(p, "rx-here@test | name-here@test | ex-other@test");
	pipeline_free(p);
}

static void test_needs_on_excluded(void **state)
{
	(void)state;
	expect_error("a:\n  stage: build\n  script: x\n  rules:\n    - if: $NOPE\n"
	             "b:\n  script: x\n  needs: [a]\n",
	             "'b' job needs 'a' job, but 'a' does not exist in the pipeline", 8, 11);
	struct pipeline *p = load_ok("a:\n  stage: build\n  script: x\n  rules:\n    - if: $NOPE\n"
	                             "b:\n  script: x\n  needs: [{job: a, optional: true}]\n"
	                             "c:\n  script: x\n  rules:\n    - needs: [b]\n");
	assert_jobs(p, "b@test<> | c@test<b>");
	pipeline_free(p);
}

/* ---- fixtures: seed document and real-world corpus ------------------------------------- */

static const char *srcdir(void)
{
	const char *s = getenv("RUNNEL_SRCDIR");
	return s ? s : ".";
}

static struct pipeline *load_fixture(const char *dir, struct err *err)
{
	return load_dir(dir, NULL, err);
}

static void test_seed_fixtures(void **state)
{
	(void)state;
	static const char *const cases[][2] = {
	    {"dind-basic", "build@test"},
	    {"dind-tls", "build@test"},
	    {"dind-build-push", "build@build | deploy@deploy"},
	    {"dind-multistage", "build@test"},
	    {"dind-buildkit-cache", "build@test"},
	    {"dind-compose", "integration_test@test"},
	    {"socket-binding", "build@test"},
	    {"kaniko", "build@test"},
	    {"buildah", "build@test"},
	    {"parallel-builds", "build_api@build | build_worker@build | build_frontend@build"},
	    {"security-scan", "build@build | scan@scan"},
	    {"complete-pipeline", "build@build | test@test<build> | integration_test@test<build> | "
	                          "security_scan@scan<build> | push@push<test,integration_test>"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		_cleanup_free_ char *dir =
		    xasprintf("%s/tests/fixtures/seed/%s", srcdir(), cases[i][0]);
		struct err err = ERR_INIT;
		struct pipeline *p = load_fixture(dir, &err);
		if (!p)
			fail_msg("%s: %s", cases[i][0], err.msg);
		assert_jobs(p, cases[i][1]);
		pipeline_free(p);
	}
	/* spot checks of fields */
	_cleanup_free_ char *dir = xasprintf("%s/tests/fixtures/seed/complete-pipeline", srcdir());
	struct err err = ERR_INIT;
	struct pipeline *p = load_fixture(dir, &err);
	const struct job *j = pipeline_find_job(p, "integration_test");
	assert_string_equal(j->image.name, "docker:24");
	assert_string_equal(j->services[0].image.name, "docker:24-dind");
	assert_string_equal(j->before_script.v[0], "apk add --no-cache docker-compose");
	assert_string_equal(var_list_value(&p->variables, "DOCKER_TLS_VERIFY"), "1");
	j = pipeline_find_job(p, "security_scan");
	assert_true(j->allow_failure);
	assert_true(j->image.has_entrypoint);
	pipeline_free(p);
	/* the seed's docker-compose file is not a pipeline */
	free(dir);
	dir = xasprintf("%s/tests/fixtures/seed/compose-file-not-a-pipeline", srcdir());
	assert_null(load_fixture(dir, &err));
	err_release(&err);
}

/* Configs of the corpus that GitLab itself rejects, with the error it gives. */
static const char *const corpus_invalid[][2] = {
    /* extends a template that no file defines */
    {"NVIDIA__nvidia-container-toolkit",
     "test-toolkit-ubuntu20.04: unknown keys in `extends` (.test:toolkit)"},
};

static bool expected_corpus_error(const char *name, const char *msg)
{
	if (strstr(msg, "cannot be fetched offline"))
		return true;
	for (size_t i = 0; i < sizeof(corpus_invalid) / sizeof(*corpus_invalid); i++)
		if (strcmp(name, corpus_invalid[i][0]) == 0 && strstr(msg, corpus_invalid[i][1]))
			return true;
	return false;
}

static void test_real_corpus(void **state)
{
	(void)state;
	const char *root = "/work/shared/corpus/real";
	DIR *d = opendir(root);
	if (!d) {
		print_message("corpus not present, skipped\n");
		return;
	}
	struct dirent *de;
	int loaded = 0, offline = 0, bad = 0;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		_cleanup_free_ char *dir = xasprintf("%s/%s", root, de->d_name);
		struct err err = ERR_INIT;
		struct pipeline *p = load_fixture(dir, &err);
		if (p) {
			loaded++;
			assert_true(p->n_jobs + p->n_excluded > 0);
			pipeline_free(p);
			continue;
		}
		if (!expected_corpus_error(de->d_name, err.msg)) {
			print_error("%s: %s:%u:%u: %s\n", de->d_name,
			            err.loc.file ? err.loc.file : "", err.loc.line, err.loc.col,
			            err.msg);
			bad++;
		}
		offline++;
		err_release(&err);
	}
	closedir(d);
	print_message("corpus: %d loaded, %d rejected as expected\n", loaded, offline - bad);
	assert_int_equal(bad, 0);
	/* the other 20 need includes from elsewhere (test_real_corpus_includes) or are invalid */
	assert_int_equal(loaded, 7);
}

/* Corpus projects that still fail with their stand-in includes, and the error they fail with. */
static const char *const corpus_includes_invalid[][2] = {
    /* GitLab rejects it too: the need names a job that no file defines (yaml_processor's
     * "undefined need" check) */
    {"NVIDIA__gpu-operator",
     "release:staging-gpu-operator job: undefined need: image:gpu-operator"},
};

/* Jobs (and their stage) that only exist or only work thanks to the stand-in includes. */
static const char *const corpus_includes_jobs[][3] = {
    {"GNOME__libadwaita", "build-gnomeos-lsan", "build"}, /* component with inputs */
    {"GNOME__libadwaita", "nightly", "deploy"},           /* extends a project template */
    {"GNOME__librsvg", "opensuse-container@x86_64.stable", "container-build"}, /* remote */
    {"GStreamer__gst-plugins-rs", "test windows msrv", "test"},
    {"OS2mo__os2mo", "Release master", "release"},
    {"gitlabhq__cli", "code_navigation", "test"},
    {"hetznercloud__fleeting-plugin-hetzner", "releaser-pleaser", "release"},
    {"meltano__meltano", "semgrep-sast", "test"},
    {"vishaltak__gitlab-development-kit", "container_scanning", "analyze"},
};

static const char *corpus_includes_error(const char *name)
{
	size_t n = sizeof(corpus_includes_invalid) / sizeof(*corpus_includes_invalid);
	for (size_t i = 0; i < n; i++)
		if (strcmp(name, corpus_includes_invalid[i][0]) == 0)
			return corpus_includes_invalid[i][1];
	return NULL;
}

static void check_corpus_includes_jobs(const char *name, const struct pipeline *p)
{
	for (size_t i = 0; i < sizeof(corpus_includes_jobs) / sizeof(*corpus_includes_jobs); i++) {
		if (strcmp(name, corpus_includes_jobs[i][0]) != 0)
			continue;
		const struct job *j = pipeline_find_job(p, corpus_includes_jobs[i][1]);
		if (!j)
			fail_msg("%s: no job '%s'", name, corpus_includes_jobs[i][1]);
		assert_string_equal(j->stage, corpus_includes_jobs[i][2]);
	}
	/* `cache: [*list]` (a list nested in cache:) is flattened into one cache */
	if (strcmp(name, "gitlabhq__gitlab-shell") == 0) {
		const struct job *j = pipeline_find_job(p, "modules:download: [1.25]");
		assert_non_null(j);
		assert_int_equal(j->n_caches, 1);
		assert_string_equal(j->caches[0].key_prefix, "golang-${GO_VERSION}-cache");
	}
	/* `parallel: null` cancels the parallel: of the extended template: one job, not N */
	if (strcmp(name, "gitlabhq__gitlab-runner") == 0) {
		const struct job *j = pipeline_find_job(p, "windows 1809 compile tests");
		assert_non_null(j);
		assert_int_equal(j->node_total, 1);
		assert_null(pipeline_find_job(p, "windows 1809 compile tests 1/2"));
	}
	/* !reference [variables, X] into the variables of an included project file */
	if (strcmp(name, "GStreamer__gst-plugins-rs") == 0)
		assert_string_equal(
		    var_of(pipeline_find_job(p, "test windows msrv"), "RUST_VERSION"), "1.83.0");
}

/* Loads one corpus project with its stand-ins; components are addressed through
 * $CI_SERVER_FQDN, which these projects run on gitlab.com. */
static struct pipeline *load_corpus_with_includes(const char *dir, const char *inc, struct err *err)
{
	struct tctx t;
	tctx_init(&t, dir);
	tctx_set(&t, "CI_SERVER_FQDN", "gitlab.com", true);
	t.ctx.include_dir = inc;
	struct pipeline *p = tload(&t, dir, err);
	var_list_release(&t.vars);
	return p;
}

/* Corpus projects whose remote/project/template/component includes have minimal stand-ins in
 * tests/fixtures/real-includes/<project>/ (docs/internals/includes.md layout) load with them,
 * or fail with the one error listed in corpus_includes_invalid. */
static void test_real_corpus_includes(void **state)
{
	(void)state;
	const char *src = getenv("RUNNEL_SRCDIR");
	const char *root = "/work/shared/corpus/real";
	if (!src || access(root, R_OK) < 0) {
		print_message("corpus or RUNNEL_SRCDIR not present, skipped\n");
		return;
	}
	_cleanup_free_ char *inc_root = xasprintf("%s/tests/fixtures/real-includes", src);
	DIR *d = opendir(inc_root);
	assert_non_null(d);
	struct dirent *de;
	int loaded = 0, rejected = 0;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		_cleanup_free_ char *dir = xasprintf("%s/%s", root, de->d_name);
		_cleanup_free_ char *inc = xasprintf("%s/%s", inc_root, de->d_name);
		const char *want = corpus_includes_error(de->d_name);
		struct err err = ERR_INIT;
		struct pipeline *p = load_corpus_with_includes(dir, inc, &err);
		if (want) {
			if (p)
				fail_msg("%s now loads: remove it from corpus_includes_invalid",
				         de->d_name);
			if (!strstr(err.msg, want))
				fail_msg("%s: got '%s', expected '%s'", de->d_name, err.msg, want);
			err_release(&err);
			rejected++;
			continue;
		}
		if (!p)
			fail_msg("%s: %s:%u:%u: %s", de->d_name, err.loc.file ? err.loc.file : "",
			         err.loc.line, err.loc.col, err.msg);
		assert_true(p->n_jobs + p->n_excluded > 0);
		check_corpus_includes_jobs(de->d_name, p);
		pipeline_free(p);
		loaded++;
	}
	closedir(d);
	print_message("corpus with stand-in includes: %d loaded, %d rejected as expected\n", loaded,
	              rejected);
	assert_int_equal(rejected,
	                 sizeof(corpus_includes_invalid) / sizeof(*corpus_includes_invalid));
	/* gitlabhq__gitlab-shell (`cache: [*list]`) and gitlabhq__gitlab-runner (`parallel:
	 * null`) load since nested caches flatten and null keywords are unset */
	assert_int_equal(loaded, 18);
}

/* Needs on one instance of a parallel job by its full name, and $[[ matrix.NAME ]] in
 * needs:parallel:matrix (each instance needs its twin). */
static void test_instance_needs(void **state)
{
	(void)state;
	struct pipeline *p = load_ok(
	    "b:\n  stage: build\n  script: x\n  parallel: {matrix: [{ARCH: [amd64, arm64]}]}\n"
	    "c:\n  stage: build\n  script: x\n  parallel: 2\n"
	    "t:\n  script: x\n  parallel: {matrix: [{ARCH: [amd64, arm64], OS: [l]}]}\n"
	    "  needs:\n    - job: b\n      parallel: {matrix: [{ARCH: ['$[[ matrix.ARCH ]]']}]}\n"
	    "    - c 2/2\n"
	    "d:\n  stage: deploy\n  script: x\n  needs: ['b: [arm64]']\n"
	    "  dependencies: ['b: [arm64]']\n");
	const struct job *t0 = pipeline_find_job(p, "t: [amd64, l]");
	const struct job *t1 = pipeline_find_job(p, "t: [arm64, l]");
	assert_non_null(t0);
	assert_int_equal(t0->n_needs, 2);
	assert_string_equal(t0->needs[0].job, "b: [amd64]");
	assert_string_equal(t0->needs[1].job, "c 2/2");
	assert_string_equal(t1->needs[0].job, "b: [arm64]");
	const struct job *dj = pipeline_find_job(p, "d");
	assert_int_equal(dj->n_needs, 1);
	assert_string_equal(str_join(&dj->dependencies), "b: [arm64]");
	pipeline_free(p);
	expect_error(
	    "b:\n  script: x\n  parallel: {matrix: [{A: [x]}]}\n"
	    "t:\n  script: x\n  parallel: {matrix: [{A: [x]}]}\n"
	    "  needs:\n    - job: b\n      parallel: {matrix: [{A: ['$[[ matrix.B ]]']}]}\n",
	    "'$[[ matrix.B ]]' is not a matrix expression", 9, 32);
	/* exists: in the current project is checked; another project's files are unknown */
	p = load_ok("a:\n  script: x\n  rules:\n    - exists: {paths: [.gitlab-ci.yml], "
	            "project: grp/proj, ref: main}\n");
	assert_true(pipeline_find_job(p, "a")->decision.included);
	pipeline_free(p);
	expect_error("a:\n  script: x\n  rules:\n    - exists: {paths: [x], project: o/p}\n",
	             "rules:exists:project 'o/p' cannot be checked offline", 4, 37);
	expect_error("b:\n  stage: deploy\n  script: x\n  parallel: 2\n"
	             "t:\n  script: x\n  needs: ['b 1/2']\n",
	             "t job: need b 1/2 is not defined in current or prior stages", 7, 11);
}

/* ---- robustness ---------------------------------------------------------------------------- */

/* Loads `len` bytes as the main file: must fail with ERR_CONFIG containing msg, at line (0 =
 * any). (A loader that walked an alias bomb instead of counting it would not finish within
 * the test's timeout; how fast it fails is the benchmarks' business.) */
static void expect_bad_bytes(const char *buf, size_t len, const char *msg, unsigned line)
{
	_cleanup_free_ char *dir = new_dir();
	_cleanup_free_ char *path = xasprintf("%s/.gitlab-ci.yml", dir);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, len, f), len);
	fclose(f);
	struct tctx t;
	tctx_init(&t, dir);
	struct err err = ERR_INIT;
	struct pipeline *p = tload(&t, dir, &err);
	var_list_release(&t.vars);
	assert_null(p);
	if (!err.msg || !strstr(err.msg, msg))
		fail_msg("error '%s' does not contain '%s'", err.msg ? err.msg : "", msg);
	assert_int_equal(err.kind, ERR_CONFIG);
	if (line)
		assert_int_equal(err.loc.line, line);
	err_release(&err);
}

static void test_robustness(void **state)
{
	(void)state;
	const char trunc[] = "build:\n  script:\n    - \"make all\n";
	expect_bad_bytes(trunc, sizeof(trunc) - 1, "end of stream while scanning a quoted scalar",
	                 3);
	const char bin[] = "\x80\x81\xfe\xff\x00\x01job:\n";
	expect_bad_bytes(bin, sizeof(bin) - 1, "invalid leading UTF-8 octet", 1);
	const char nul[] = "job:\n  script: x\n\x00\x01";
	expect_bad_bytes(nul, sizeof(nul) - 1, "control characters are not allowed", 3);
	/* 50 MB: refused by size before parsing, without reading it all */
	size_t big = 50u * 1024 * 1024;
	char *huge = xmalloc(big);
	memset(huge, '#', big);
	memcpy(huge, "job:\n  script: x\n", 18);
	huge[big - 1] = '\n';
	expect_bad_bytes(huge, big, "is too big", 0);
	free(huge);
	struct strbuf sb = STRBUF_INIT;
	strbuf_addstr(&sb, "job:\n  script: x\n  variables:\n    D: ");
	for (int i = 0; i < 5000; i++)
		strbuf_addch(&sb, '[');
	for (int i = 0; i < 5000; i++)
		strbuf_addch(&sb, ']');
	strbuf_addch(&sb, '\n');
	expect_bad_bytes(sb.buf, sb.len, "nesting depth exceeds the limit", 4);
	/* a billion laughs: 10^9 nodes once expanded */
	strbuf_reset(&sb);
	strbuf_addstr(&sb, "a: &a [x, x, x, x, x, x, x, x, x, x]\n");
	for (char c = 'b'; c <= 'i'; c++) {
		strbuf_addf(&sb, "%c: &%c [", c, c);
		for (int k = 0; k < 10; k++)
			strbuf_addf(&sb, "%s*%c", k ? ", " : "", c - 1);
		strbuf_addstr(&sb, "]\n");
	}
	strbuf_addstr(&sb, "job:\n  script: x\n  variables: {X: *i}\n");
	expect_bad_bytes(sb.buf, sb.len, "number of nodes after expanding aliases", 0);
	/* deep but legal extends chains and !reference nesting stay quick and bounded */
	strbuf_reset(&sb);
	for (int i = 0; i < 20; i++)
		strbuf_addf(&sb, ".t%d:\n  extends: .t%d\n", i, i + 1);
	strbuf_addstr(&sb, ".t20:\n  script: x\njob:\n  extends: .t0\n");
	expect_bad_bytes(sb.buf, sb.len, "nesting too deep", 0);
	strbuf_release(&sb);
}

/* ---- scale ------------------------------------------------------------------------------- */

/* The benchmark's shape (bench/list): n jobs over 10 stages, each extends a template, has a
 * rules:if with && and a regex, and needs a job of the previous stage. Timing is measured by
 * the benchmark, never here; this checks that the result is right at that size. */
static void test_large_generated_pipeline(void **state)
{
	(void)state;
	enum { N = 3000, PER = N / 10 };
	_cleanup_free_ char *dir = new_dir();
	struct strbuf sb = STRBUF_INIT;
	strbuf_addstr(&sb, "stages: [s0, s1, s2, s3, s4, s5, s6, s7, s8, s9]\n"
	                   ".tpl:\n  image: alpine\n  script: [echo hi]\n  variables: {T: t}\n");
	for (int i = 0; i < N; i++) {
		strbuf_addf(&sb, "job%d:\n  extends: .tpl\n  stage: s%d\n", i, i / PER);
		strbuf_addf(&sb, "  rules:\n    - if: $CI_COMMIT_BRANCH == \"main\" && "
		                 "$CI_COMMIT_REF_NAME =~ /^ma/\n");
		if (i >= PER)
			strbuf_addf(&sb, "  needs: [job%d]\n", i - PER);
	}
	put(dir, ".gitlab-ci.yml", sb.buf);
	strbuf_release(&sb);
	struct err err = ERR_INIT;
	struct pipeline *p = load_dir(dir, NULL, &err);
	if (!p)
		fail_msg("%s", err.msg);
	assert_int_equal(p->n_jobs, N);
	for (int i = 0; i < N; i += 7) {
		char name[16], need[16], stage[8];
		snprintf(name, sizeof(name), "job%d", i);
		snprintf(stage, sizeof(stage), "s%d", i / PER);
		const struct job *j = pipeline_find_job(p, name);
		assert_non_null(j);
		assert_string_equal(j->stage, stage);
		assert_string_equal(j->image.name, "alpine");
		if (i < PER) {
			assert_int_equal(j->n_needs, 0);
			continue;
		}
		snprintf(need, sizeof(need), "job%d", i - PER);
		assert_int_equal(j->n_needs, 1);
		assert_string_equal(j->needs[0].job, need);
	}
	pipeline_free(p);
}

/* ---- main ---------------------------------------------------------------------------------- */

static int group_setup(void **state)
{
	(void)state;
	snprintf(g_root, sizeof(g_root), "/tmp/rn-pipeline-XXXXXX");
	return mkdtemp(g_root) ? 0 : -1;
}

static int group_teardown(void **state)
{
	(void)state;
	return nftw(g_root, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

/* Values GitLab refuses where it wants strings (found on real configs: GStreamer quotes its
 * "1809" tag because an unquoted one is an Integer). */
static void test_strings_only(void **state)
{
	(void)state;
	expect_error("job:\n  script: x\n  tags: [1809, docker]\n",
	             "jobs:job tags config should be an array of strings", 3, 9);
	expect_error("job:\n  script: x\n  parallel:\n    matrix:\n      - PY: [3.8, 3.10]\n",
	             "matrix config variables should be strings or arrays of strings: this value "
	             "is a float in YAML (\"3.8\"); quote it",
	             5, 14);
	expect_error("job:\n  script: x\n  parallel:\n    matrix:\n      - ON: true\n",
	             "matrix config variables should be strings or arrays of strings", 5, 13);
	expect_error("job:\n  script: x\n  parallel:\n    matrix:\n      - ON: [a, yes]\n",
	             "this value is a boolean in YAML (\"true\"); quote it", 5, 17);
	expect_error("a:\n  script: x\n  rules: []\n", "jobs:a:rules config can't be blank", 3, 10);
	expect_error("workflow:\n  rules: []\na:\n  script: x\n",
	             "workflow:rules config can't be blank", 2, 10);
	/* Rules::Rule's own checks */
	expect_error("a:\n  script: x\n  rules:\n    - when: delayed\n",
	             "jobs:a:rules:rule start in can't be blank", 4, 7);
	expect_error("a:\n  script: x\n  rules:\n    - when: manual\n      start_in: 1h\n",
	             "jobs:a:rules:rule config contains disallowed keys: start_in", 5, 7);
	expect_error("a:\n  script: x\n  rules:\n    - when: delayed\n      start_in: 8 days\n",
	             "jobs:a:rules:rule start in should not exceed the limit", 5, 17);
	expect_error("a:\n  script: x\n  rules:\n    - allow_failure: 'yes'\n",
	             "jobs:a:rules:rule allow failure should be a boolean value", 4, 22);
	pipeline_free(load_ok("a:\n  script: x\n  rules:\n    - when: delayed\n"
	                      "      start_in: 1 week\n      allow_failure: true\n"));
	expect_error("a:\n  script: x\n  retry: {max: 2, foo: 1}\n",
	             "jobs:a:retry config contains unknown keys: foo", 3, 19);
	/* only/except (Entry::Policy) */
	expect_error("a:\n  script: x\n  only: main\n",
	             "jobs:a:only has to be either an array of conditions or a hash", 3, 9);
	expect_error("a:\n  script: x\n  only: [1]\n",
	             "jobs:a:only config should be an array of strings or regular expressions", 3,
	             9);
	expect_error("a:\n  script: x\n  except: {}\n", "jobs:a:except config can't be blank", 3,
	             11);
	expect_error("a:\n  script: x\n  only: {kubernetes: inactive}\n",
	             "jobs:a:only kubernetes unknown value: inactive", 3, 22);
	expect_error("a:\n  script: x\n  only: {changes: '*.md'}\n",
	             "jobs:a:only changes should be an array of strings", 3, 19);
	expect_error("a:\n  script: x\n  only: {refs: main}\n",
	             "jobs:a:only refs should be an array of strings or regular expressions", 3,
	             16);
	pipeline_free(load_ok("a:\n  script: x\n  only:\n    refs: [main, /^release/]\n"
	                      "    kubernetes: active\n    changes: ['*.md']\n"));
	/* environment:on_stop */
	expect_error("a:\n  script: x\n  environment:\n    name: review\n    on_stop: stop\n",
	             "a job: on_stop job stop is not defined", 5, 14);
	expect_error("a:\n  script: x\n  environment: {name: review, on_stop: stop}\n"
	             "stop:\n  script: x\n  environment: {name: other, action: stop}\n",
	             "a job: on_stop job stop have different environment name", 3, 40);
	expect_error("a:\n  script: x\n  environment: {name: review, on_stop: stop}\n"
	             "stop:\n  script: x\n  environment: review\n",
	             "a job: on_stop job stop needs to have action stop defined", 3, 40);
	pipeline_free(load_ok("a:\n  script: x\n  environment: {name: review, on_stop: stop}\n"
	                      "stop:\n  script: x\n  when: manual\n"
	                      "  environment: {name: review, action: stop}\n"));
	/* rules:needs are checked even when their rule does not match */
	expect_error("a:\n  script: x\n  rules:\n    - if: $NOPE\n      needs: [ghost]\n",
	             "a job: undefined need: ghost", 5, 15);
	/* circular needs (GitLab's Dag check), self-needs and longer loops too */
	expect_error("a:\n  script: x\n  needs: [b]\nb:\n  script: x\n  needs: [a]\n",
	             "The pipeline has circular dependencies: a -> b -> a", 6, 11);
	expect_error("a:\n  script: x\n  needs: [a]\n",
	             "The pipeline has circular dependencies: a -> a", 3, 11);
	expect_error("a:\n  script: x\n  needs: [c]\nb:\n  script: x\n  needs: [a]\n"
	             "c:\n  script: x\n  needs: [b]\n",
	             "The pipeline has circular dependencies: a -> c -> b -> a", 6, 11);
	/* more that GitLab's entries check (messages as GitLab prints them) */
	expect_error("job:\n  script: x\n  artifacts:\n    expire_in: 1:30:00\n",
	             "jobs:job:artifacts expire in should be a duration", 4, 16);
	expect_error("job:\n  script: x\n  artifacts:\n    expire_in: 7 elephants\n",
	             "jobs:job:artifacts expire in should be a duration", 4, 16);
	expect_error("job:\n  script: x\n  cache:\n    key:\n      files: [a, b, c]\n",
	             "jobs:job:cache:key:files config has too many items (maximum is 2)", 5, 14);
	expect_error("variables:\n  A: {value: x, foo: y, bar: z}\njob:\n  script: x\n",
	             "variables config uses invalid data keys: foo, bar", 2, 6);
	expect_error("job:\n  script: x\n  variables:\n    A: {value: x, description: d}\n",
	             "jobs:job variables config uses invalid data keys: description", 4, 8);
	expect_error("job:\n  script: x\n  environment: ${ENV:-dev}\n",
	             "jobs:job environment name can contain only letters, digits", 3, 16);
	expect_error("job:\n  script: x\n  environment:\n    name: review/#1\n",
	             "jobs:job environment name can contain only letters, digits", 4, 11);
	pipeline_free(load_ok("job:\n  script: x\n  environment: review/${CI_COMMIT_REF_SLUG}\n"));
	struct pipeline *p = load_ok("job:\n  script: x\n  tags: [\"1809\"]\n  parallel:\n"
	                             "    matrix:\n      - N: [1, 2]\n        PY: [\"3.10\"]\n");
	assert_int_equal(p->n_jobs, 2);
	assert_string_equal(p->jobs[1].name, "job: [2, 3.10]");
	pipeline_free(p);
}

/* GitLab checks only that a variable name is a string (Entry::Variable), so names that no
 * shell can export load as they are: Spring's `spring.profiles.active`, `MY-VAR`. */
static void test_variable_names_any_string(void **state)
{
	(void)state;
	struct pipeline *p = load_ok("variables:\n  spring.profiles.active: ci\n"
	                             "job:\n  variables:\n    MY-VAR: x\n    \"with space\": y\n"
	                             "  script: echo\n");
	const struct job *j = pipeline_find_job(p, "job");
	assert_string_equal(var_of(j, "MY-VAR"), "x");
	assert_string_equal(var_of(j, "with space"), "y");
	assert_string_equal(var_list_value(&p->variables, "spring.profiles.active"), "ci");
	pipeline_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_basic_order_and_stages),
	    cmocka_unit_test(test_variable_names_any_string),
	    cmocka_unit_test(test_strings_only),
	    cmocka_unit_test(test_user_stages),
	    cmocka_unit_test(test_hidden_and_reserved),
	    cmocka_unit_test(test_job_fields),
	    cmocka_unit_test(test_durations),
	    cmocka_unit_test(test_globs),
	    cmocka_unit_test(test_errors_keys_and_types),
	    cmocka_unit_test(test_errors_needs),
	    cmocka_unit_test(test_flatten_and_empty_needs),
	    cmocka_unit_test(test_trigger_jobs),
	    cmocka_unit_test(test_collect_all_errors),
	    cmocka_unit_test(test_include_local_nested_and_merge),
	    cmocka_unit_test(test_include_wildcards_and_rules),
	    cmocka_unit_test(test_include_errors),
	    cmocka_unit_test(test_include_dir_offline),
	    cmocka_unit_test(test_spec_inputs),
	    cmocka_unit_test(test_spec_inputs_validation),
	    cmocka_unit_test(test_include_own_component),
	    cmocka_unit_test(test_include_source_levels),
	    cmocka_unit_test(test_include_source_project),
	    cmocka_unit_test(test_include_source_errors),
	    cmocka_unit_test(test_extends),
	    cmocka_unit_test(test_reference),
	    cmocka_unit_test(test_default_and_inherit),
	    cmocka_unit_test(test_null_keywords),
	    cmocka_unit_test(test_cache_nested_lists),
	    cmocka_unit_test(test_parallel),
	    cmocka_unit_test(test_workflow),
	    cmocka_unit_test(test_rules_matrix),
	    cmocka_unit_test(test_changes_compare_to),
	    cmocka_unit_test(test_only_except),
	    cmocka_unit_test(test_only_refs_project_path),
	    cmocka_unit_test(test_needs_on_excluded),
	    cmocka_unit_test(test_seed_fixtures),
	    cmocka_unit_test(test_real_corpus),
	    cmocka_unit_test(test_real_corpus_includes),
	    cmocka_unit_test(test_instance_needs),
	    cmocka_unit_test(test_robustness),
	    cmocka_unit_test(test_large_generated_pipeline),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
