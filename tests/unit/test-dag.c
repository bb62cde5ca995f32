/* Tests for plan/dag: stage edges vs needs edges, job selection, errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>

#include "plan-fixture.h"
#include "plan/dag.h"
#include "util/err.h"

static bool has_dep(const struct plan *p, const char *job, const char *dep)
{
	long i = plan_find(p, job), d = plan_find(p, dep);
	assert_true(i >= 0);
	if (d < 0)
		return false;
	for (size_t k = 0; k < p->nodes[i].n_deps; k++)
		if (p->nodes[i].deps[k] == (size_t)d)
			return true;
	return false;
}

static void build_fixture(struct fix *f)
{
	f->n = 0;
	fix_job(f, "compile", 0);
	fix_job(f, "lint", 0);
	fix_job(f, "unit", 1);
	struct job *fast = fix_job(f, "fast", 1);
	fix_needs(f, fast, (const char *[]){"compile", NULL});
	struct job *free_ = fix_job(f, "free", 2);
	fix_needs(f, free_, NULL);
	fix_job(f, "deploy", 2);
}

static void test_stage_edges(void **state)
{
	struct fix f;
	build_fixture(&f);
	struct plan *p = NULL;
	struct err err = ERR_INIT;
	assert_int_equal(plan_build_jobs(f.jobs, f.n, NULL, &p, &err), 0);
	assert_int_equal(p->n, 6);
	assert_false(p->explicit_jobs);
	assert_true(has_dep(p, "unit", "compile"));
	assert_true(has_dep(p, "unit", "lint"));
	assert_false(has_dep(p, "unit", "fast")); /* same stage: no edge */
	assert_int_equal(p->nodes[plan_find(p, "compile")].n_deps, 0);
	/* deploy waits for every earlier stage, not only the previous one */
	assert_int_equal(p->nodes[plan_find(p, "deploy")].n_deps, 4);
	assert_true(has_dep(p, "deploy", "compile"));
	plan_free(p);
}

static void test_needs_edges(void **state)
{
	struct fix f;
	build_fixture(&f);
	struct plan *p = NULL;
	struct err err = ERR_INIT;
	assert_int_equal(plan_build_jobs(f.jobs, f.n, NULL, &p, &err), 0);
	long fast = plan_find(p, "fast");
	assert_int_equal(p->nodes[fast].n_deps, 1);
	assert_true(has_dep(p, "fast", "compile"));
	assert_true(p->nodes[fast].dep_is_need[0]);
	assert_false(has_dep(p, "fast", "lint"));
	assert_int_equal(p->nodes[plan_find(p, "free")].n_deps, 0); /* needs: [] */
	/* reverse edges */
	long compile = plan_find(p, "compile");
	assert_int_equal(p->nodes[compile].n_rdeps, 3); /* unit, fast, deploy */
	plan_free(p);
}

static void test_select_needs_closure(void **state)
{
	struct fix f;
	build_fixture(&f);
	struct plan *p = NULL;
	struct err err = ERR_INIT;
	const char *names[] = {"fast"};
	struct plan_opts o = PLAN_OPTS_INIT;
	o.jobs = names;
	o.n_jobs = 1;
	assert_int_equal(plan_build_jobs(f.jobs, f.n, &o, &p, &err), 0);
	assert_int_equal(p->n, 2);
	assert_true(p->explicit_jobs);
	assert_true(plan_find(p, "compile") >= 0);
	assert_false(p->nodes[plan_find(p, "compile")].named);
	assert_true(p->nodes[plan_find(p, "fast")].named);
	assert_true(plan_find(p, "lint") < 0);
	plan_free(p);

	/* a stage job pulls in every job of the earlier stages */
	names[0] = "unit";
	assert_int_equal(plan_build_jobs(f.jobs, f.n, &o, &p, &err), 0);
	assert_int_equal(p->n, 3);
	plan_free(p);
}

static void test_select_only(void **state)
{
	struct fix f;
	build_fixture(&f);
	struct plan *p = NULL;
	struct err err = ERR_INIT;
	const char *names[] = {"deploy", "compile"};
	struct plan_opts o = {.jobs = names, .n_jobs = 2, .select = PLAN_SELECT_ONLY};
	assert_int_equal(plan_build_jobs(f.jobs, f.n, &o, &p, &err), 0);
	assert_int_equal(p->n, 2);
	/* pipeline order is kept and edges among the selected jobs survive */
	assert_string_equal(p->nodes[0].job->name, "compile");
	assert_int_equal(p->nodes[1].n_deps, 1);
	assert_true(has_dep(p, "deploy", "compile"));
	plan_free(p);
}

static void test_errors(void **state)
{
	struct fix f;
	build_fixture(&f);
	struct plan *p = NULL;
	struct err err = ERR_INIT;
	const char *names[] = {"nope"};
	struct plan_opts o = {.jobs = names, .n_jobs = 1};
	assert_int_equal(plan_build_jobs(f.jobs, f.n, &o, &p, &err), -1);
	assert_int_equal(err.kind, ERR_USAGE);
	assert_non_null(strstr(err.msg, "'nope'"));
	err_release(&err);

	struct job *j = fix_job(&f, "bad", 1);
	fix_needs(&f, j, (const char *[]){"missing", NULL});
	assert_int_equal(plan_build_jobs(f.jobs, f.n, NULL, &p, &err), -1);
	assert_int_equal(err.kind, ERR_CONFIG);
	assert_non_null(strstr(err.msg, "'missing'"));
	err_release(&err);

	/* an optional need on an absent job is dropped */
	f.needs[f.n - 1][0].optional = true;
	assert_int_equal(plan_build_jobs(f.jobs, f.n, NULL, &p, &err), 0);
	assert_int_equal(p->nodes[plan_find(p, "bad")].n_deps, 0);
	plan_free(p);
}

static void test_cycle(void **state)
{
	struct fix f = {.n = 0};
	struct job *a = fix_job(&f, "a", 1);
	struct job *b = fix_job(&f, "b", 1);
	fix_job(&f, "c", 0);
	fix_needs(&f, a, (const char *[]){"b", NULL});
	fix_needs(&f, b, (const char *[]){"a", NULL});
	struct plan *p = NULL;
	struct err err = ERR_INIT;
	assert_int_equal(plan_build_jobs(f.jobs, f.n, NULL, &p, &err), -1);
	assert_non_null(strstr(err.msg, "cycle"));
	err_release(&err);
	/* needs inside one stage are fine when acyclic */
	fix_needs(&f, b, NULL);
	assert_int_equal(plan_build_jobs(f.jobs, f.n, NULL, &p, &err), 0);
	assert_true(has_dep(p, "a", "b"));
	plan_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_stage_edges),
	    cmocka_unit_test(test_needs_edges),
	    cmocka_unit_test(test_select_needs_closure),
	    cmocka_unit_test(test_select_only),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_cycle),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
