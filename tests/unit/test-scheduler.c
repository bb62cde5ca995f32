/* Tests for plan/sched with a fake executor: readiness vs stages, concurrency, when:,
 * allow_failure, retry, resource_group, delayed and cancellation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "plan-fixture.h"
#include "plan/dag.h"
#include "plan/scheduler.h"
#include "util/err.h"

/* What the fake executor does for a job: sleep, then return outcome[attempt-1]. */
struct fake_job {
	const char *name;
	unsigned sleep_ms;
	struct sched_attempt outcome[3];
};

struct fake {
	struct fake_job *jobs;
	size_t n;
	const struct plan *plan;
	pthread_mutex_t lock;
	double start[MAX_FIX_JOBS], end[MAX_FIX_JOBS];
	unsigned calls[MAX_FIX_JOBS];
	unsigned running, max_running;
	size_t n_finished;
	struct sched *sched;
	const char *cancel_after;  /* cancel the run when this job starts */
	unsigned wait_for_running; /* jobs hold until this many run at once (or 5 s) */
};

static double mono(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static const struct fake_job *fake_find(const struct fake *f, const char *name)
{
	for (size_t i = 0; i < f->n; i++)
		if (!strcmp(f->jobs[i].name, name))
			return &f->jobs[i];
	return NULL;
}

static void fake_run(void *ud, size_t index, unsigned attempt, struct sched_attempt *out)
{
	struct fake *f = ud;
	const struct fake_job *fj = fake_find(f, f->plan->nodes[index].job->name);
	pthread_mutex_lock(&f->lock);
	f->calls[index]++;
	if (f->start[index] == 0)
		f->start[index] = mono();
	if (++f->running > f->max_running)
		f->max_running = f->running;
	pthread_mutex_unlock(&f->lock);
	if (f->cancel_after && !strcmp(f->cancel_after, f->plan->nodes[index].job->name))
		sched_cancel(f->sched);
	/* hold until enough jobs run together: overlap without relying on timing */
	for (int i = 0; i < 5000 && f->wait_for_running; i++) {
		pthread_mutex_lock(&f->lock);
		bool enough = f->max_running >= f->wait_for_running;
		pthread_mutex_unlock(&f->lock);
		if (enough)
			break;
		usleep(1000);
	}
	if (fj && fj->sleep_ms)
		usleep(fj->sleep_ms * 1000);
	if (fj)
		*out = fj->outcome[attempt - 1 < 3 ? attempt - 1 : 2];
	else
		*out = (struct sched_attempt){.failure = FAILURE_NONE, .exit_code = 0};
	pthread_mutex_lock(&f->lock);
	f->running--;
	f->end[index] = mono();
	pthread_mutex_unlock(&f->lock);
}

static void fake_finished(void *ud, size_t index, const struct sched_result *res)
{
	struct fake *f = ud;
	pthread_mutex_lock(&f->lock);
	f->n_finished++;
	pthread_mutex_unlock(&f->lock);
}

static struct sched *run_plan(struct fix *fx, struct fake *fk, struct plan **ret_plan,
                              const struct sched_opts *opts)
{
	struct err err = ERR_INIT;
	assert_int_equal(plan_build_jobs(fx->jobs, fx->n, NULL, ret_plan, &err), 0);
	fk->plan = *ret_plan;
	pthread_mutex_init(&fk->lock, NULL);
	static struct sched_ops ops;
	ops = (struct sched_ops){.run = fake_run, .finished = fake_finished, .ud = fk};
	struct sched *s = sched_new(*ret_plan, opts, &ops);
	fk->sched = s;
	assert_int_equal(sched_run(s, &err), 0);
	assert_int_equal(fk->n_finished, (*ret_plan)->n);
	return s;
}

static enum sched_state state_of(struct sched *s, const struct plan *p, const char *name)
{
	long i = plan_find(p, name);
	assert_true(i >= 0);
	return sched_result(s, (size_t)i)->state;
}

#define FAIL(code)                                                                                 \
	{                                                                                          \
		.failure = FAILURE_SCRIPT, .exit_code = (code)                                     \
	}
#define OK                                                                                         \
	{                                                                                          \
		.failure = FAILURE_NONE, .exit_code = 0                                            \
	}

/* A needs job starts as soon as its need ends, before a slow job of the earlier stage ends;
 * a stage job waits for the slow one. */
static void test_needs_start_early(void **state)
{
	struct fix fx = {.n = 0};
	fix_job(&fx, "quick", 0);
	fix_job(&fx, "slow", 0);
	struct job *n = fix_job(&fx, "needer", 1);
	fix_needs(&fx, n, (const char *[]){"quick", NULL});
	fix_job(&fx, "stager", 1);
	struct fake_job fj[] = {
	    {"quick", 10, {OK}}, {"slow", 300, {OK}}, {"needer", 10, {OK}}, {"stager", 10, {OK}}};
	struct fake fk = {.jobs = fj, .n = 4};
	struct sched_opts o = SCHED_OPTS_INIT;
	o.concurrency = 4;
	struct plan *p;
	struct sched *s = run_plan(&fx, &fk, &p, &o);
	size_t slow = (size_t)plan_find(p, "slow"), needer = (size_t)plan_find(p, "needer");
	size_t stager = (size_t)plan_find(p, "stager");
	assert_true(fk.end[needer] < fk.end[slow]);
	assert_true(fk.start[stager] >= fk.end[slow]);
	assert_true(sched_pipeline_ok(s));
	assert_int_equal(state_of(s, p, "needer"), SCHED_SUCCESS);
	sched_free(s);
	plan_free(p);
}

static void test_concurrency_limit(void **state)
{
	struct fix fx = {.n = 0};
	const char *names[] = {"a", "b", "c", "d", "e", "f"};
	struct fake_job fj[6];
	for (int i = 0; i < 6; i++) {
		fix_job(&fx, names[i], 0);
		fj[i] = (struct fake_job){names[i], 30, {OK}};
	}
	struct fake fk = {.jobs = fj, .n = 6, .wait_for_running = 2};
	struct sched_opts o = SCHED_OPTS_INIT;
	o.concurrency = 2;
	struct plan *p;
	struct sched *s = run_plan(&fx, &fk, &p, &o);
	assert_int_equal(fk.max_running, 2);
	sched_free(s);
	plan_free(p);

	/* without a limit (large) they all run at once */
	struct fake fk2 = {.jobs = fj, .n = 6, .wait_for_running = 6};
	o.concurrency = 10;
	s = run_plan(&fx, &fk2, &p, &o);
	assert_int_equal(fk2.max_running, 6);
	sched_free(s);
	plan_free(p);
}

static void test_failure_when(void **state)
{
	struct fix fx = {.n = 0};
	fix_job(&fx, "build", 0);
	fix_job(&fx, "test", 1);
	fix_job(&fx, "cleanup", 2)->when = WHEN_ALWAYS;
	fix_job(&fx, "notify", 2)->when = WHEN_ON_FAILURE;
	struct fake_job fj[] = {{"build", 0, {FAIL(3)}}};
	struct fake fk = {.jobs = fj, .n = 1};
	struct sched_opts o = SCHED_OPTS_INIT;
	struct plan *p;
	struct sched *s = run_plan(&fx, &fk, &p, &o);
	assert_int_equal(state_of(s, p, "build"), SCHED_FAILED);
	assert_int_equal(sched_result(s, 0)->exit_code, 3);
	assert_int_equal(state_of(s, p, "test"), SCHED_SKIPPED);
	assert_int_equal(state_of(s, p, "cleanup"), SCHED_SUCCESS);
	assert_int_equal(state_of(s, p, "notify"), SCHED_SUCCESS);
	assert_false(sched_pipeline_ok(s));
	sched_free(s);
	plan_free(p);
}

static void test_on_failure_skipped_when_ok(void **state)
{
	struct fix fx = {.n = 0};
	fix_job(&fx, "build", 0);
	fix_job(&fx, "notify", 1)->when = WHEN_ON_FAILURE;
	fix_job(&fx, "deploy", 2);
	struct fake fk = {.jobs = NULL, .n = 0};
	struct sched_opts o = SCHED_OPTS_INIT;
	struct plan *p;
	struct sched *s = run_plan(&fx, &fk, &p, &o);
	assert_int_equal(state_of(s, p, "notify"), SCHED_SKIPPED);
	/* a skipped job does not block later stages */
	assert_int_equal(state_of(s, p, "deploy"), SCHED_SUCCESS);
	assert_true(sched_pipeline_ok(s));
	sched_free(s);
	plan_free(p);
}

static void test_allow_failure(void **state)
{
	struct fix fx = {.n = 0};
	fix_job(&fx, "flaky", 0)->allow_failure = true;
	struct job *codes = fix_job(&fx, "codes", 0);
	static int allowed[] = {42};
	codes->allow_failure_exit_codes = allowed;
	codes->n_allow_failure_exit_codes = 1;
	struct job *codes2 = fix_job(&fx, "codes2", 0);
	codes2->allow_failure_exit_codes = allowed;
	codes2->n_allow_failure_exit_codes = 1;
	fix_job(&fx, "next", 1);
	struct fake_job fj[] = {
	    {"flaky", 0, {FAIL(1)}}, {"codes", 0, {FAIL(42)}}, {"codes2", 0, {FAIL(1)}}};
	struct fake fk = {.jobs = fj, .n = 3};
	struct sched_opts o = SCHED_OPTS_INIT;
	struct plan *p;
	struct sched *s = run_plan(&fx, &fk, &p, &o);
	assert_int_equal(state_of(s, p, "flaky"), SCHED_WARNING);
	assert_int_equal(state_of(s, p, "codes"), SCHED_WARNING);
	assert_int_equal(state_of(s, p, "codes2"), SCHED_FAILED);
	assert_int_equal(state_of(s, p, "next"), SCHED_SKIPPED);
	assert_false(sched_pipeline_ok(s));
	sched_free(s);
	plan_free(p);
}

static void test_warning_counts_as_success(void **state)
{
	struct fix fx = {.n = 0};
	fix_job(&fx, "flaky", 0)->allow_failure = true;
	fix_job(&fx, "next", 1);
	struct fake_job fj[] = {{"flaky", 0, {FAIL(1)}}};
	struct fake fk = {.jobs = fj, .n = 1};
	struct sched_opts o = SCHED_OPTS_INIT;
	struct plan *p;
	struct sched *s = run_plan(&fx, &fk, &p, &o);
	assert_int_equal(state_of(s, p, "next"), SCHED_SUCCESS);
	assert_true(sched_pipeline_ok(s));
	sched_free(s);
	plan_free(p);
}

static void test_retry(void **state)
{
	struct fix fx = {.n = 0};
	fix_job(&fx, "twice", 0)->retry.max = 2;
	struct job *codes = fix_job(&fx, "bycode", 0);
	static int rc[] = {137};
	codes->retry.max = 2;
	codes->retry.exit_codes = rc;
	codes->retry.n_exit_codes = 1;
	struct job *sys = fix_job(&fx, "sysonly", 0);
	static const char *when[] = {"runner_system_failure"};
	sys->retry.max = 1;
	sys->retry.when = (struct string_list){when, 1};
	fix_job(&fx, "never", 0)->retry.max = 0;
	struct fake_job fj[] = {
	    {"twice", 0, {FAIL(1), FAIL(1), OK}},
	    {"bycode", 0, {FAIL(137), FAIL(2), OK}},
	    {"sysonly", 0, {FAIL(1), OK}},
	    {"never", 0, {FAIL(1), OK}},
	};
	struct fake fk = {.jobs = fj, .n = 4};
	struct sched_opts o = SCHED_OPTS_INIT;
	struct plan *p;
	struct sched *s = run_plan(&fx, &fk, &p, &o);
	assert_int_equal(state_of(s, p, "twice"), SCHED_SUCCESS);
	assert_int_equal(fk.calls[plan_find(p, "twice")], 3);
	assert_int_equal(sched_result(s, (size_t)plan_find(p, "twice"))->attempts, 3);
	assert_int_equal(state_of(s, p, "bycode"), SCHED_FAILED); /* 2nd exit 2 not retried */
	assert_int_equal(fk.calls[plan_find(p, "bycode")], 2);
	assert_int_equal(state_of(s, p, "sysonly"), SCHED_FAILED);
	assert_int_equal(fk.calls[plan_find(p, "sysonly")], 1);
	assert_int_equal(fk.calls[plan_find(p, "never")], 1);
	sched_free(s);
	plan_free(p);
}

static void test_manual_and_timeout(void **state)
{
	struct fix fx = {.n = 0};
	struct job *m = fix_job(&fx, "manual", 0);
	m->when = WHEN_MANUAL;
	m->manual = true;
	m->allow_failure = true;
	struct job *m2 = fix_job(&fx, "played", 0);
	m2->when = WHEN_MANUAL;
	m2->manual = true;
	m2->allow_failure = true;
	fix_job(&fx, "slow", 0);
	fix_job(&fx, "after", 1);
	struct job *nm = fix_job(&fx, "needs_manual", 1);
	fix_needs(&fx, nm, (const char *[]){"manual", NULL});
	struct fake_job fj[] = {{"slow", 0, {{.failure = FAILURE_TIMEOUT, .exit_code = -1}}}};
	struct fake fk = {.jobs = fj, .n = 1};
	const char *manual[] = {"played"};
	struct sched_opts o = SCHED_OPTS_INIT;
	o.manual = manual;
	o.n_manual = 1;
	struct plan *p;
	struct sched *s = run_plan(&fx, &fk, &p, &o);
	assert_int_equal(state_of(s, p, "manual"), SCHED_MANUAL);
	assert_int_equal(fk.calls[plan_find(p, "manual")], 0);
	assert_int_equal(state_of(s, p, "played"), SCHED_SUCCESS);
	assert_int_equal(state_of(s, p, "slow"), SCHED_TIMEDOUT);
	assert_int_equal(state_of(s, p, "after"), SCHED_SKIPPED);
	assert_int_equal(state_of(s, p, "needs_manual"), SCHED_SKIPPED);
	assert_false(sched_pipeline_ok(s));
	sched_free(s);
	plan_free(p);
}

static void test_resource_group(void **state)
{
	struct fix fx = {.n = 0};
	fix_job(&fx, "d1", 0)->resource_group = "prod";
	fix_job(&fx, "d2", 0)->resource_group = "prod";
	fix_job(&fx, "other", 0);
	struct fake_job fj[] = {{"d1", 60, {OK}}, {"d2", 60, {OK}}, {"other", 60, {OK}}};
	struct fake fk = {.jobs = fj, .n = 3, .wait_for_running = 2};
	struct sched_opts o = SCHED_OPTS_INIT;
	o.concurrency = 3;
	struct plan *p;
	struct sched *s = run_plan(&fx, &fk, &p, &o);
	assert_int_equal(fk.max_running, 2);
	size_t a = (size_t)plan_find(p, "d1"), b = (size_t)plan_find(p, "d2");
	assert_true(fk.start[b] >= fk.end[a] || fk.start[a] >= fk.end[b]);
	sched_free(s);
	plan_free(p);
}

static void test_delayed(void **state)
{
	struct fix fx = {.n = 0};
	struct job *d = fix_job(&fx, "later", 0);
	d->when = WHEN_DELAYED;
	d->start_in_seconds = 1;
	fix_job(&fx, "now", 0);
	struct fake fk = {.jobs = NULL, .n = 0};
	struct sched_opts o = SCHED_OPTS_INIT;
	struct plan *p;
	double t0 = mono();
	struct sched *s = run_plan(&fx, &fk, &p, &o);
	assert_true(fk.start[plan_find(p, "later")] - t0 >= 0.95);
	assert_true(fk.start[plan_find(p, "now")] - t0 < 0.5);
	assert_int_equal(state_of(s, p, "later"), SCHED_SUCCESS);
	sched_free(s);
	plan_free(p);
}

static void test_cancel(void **state)
{
	struct fix fx = {.n = 0};
	fix_job(&fx, "first", 0);
	fix_job(&fx, "second", 1);
	fix_job(&fx, "third", 2)->when = WHEN_ALWAYS;
	struct fake_job fj[] = {{"first", 20, {{.failure = FAILURE_CANCELED, .exit_code = -1}}}};
	struct fake fk = {.jobs = fj, .n = 1, .cancel_after = "first"};
	struct sched_opts o = SCHED_OPTS_INIT;
	struct plan *p;
	struct sched *s = run_plan(&fx, &fk, &p, &o);
	assert_true(sched_canceled(s));
	assert_int_equal(state_of(s, p, "first"), SCHED_CANCELED);
	assert_int_equal(state_of(s, p, "second"), SCHED_CANCELED);
	assert_int_equal(state_of(s, p, "third"), SCHED_CANCELED);
	assert_int_equal(fk.calls[1] + fk.calls[2], 0);
	assert_false(sched_pipeline_ok(s));
	sched_free(s);
	plan_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_needs_start_early),
	    cmocka_unit_test(test_concurrency_limit),
	    cmocka_unit_test(test_failure_when),
	    cmocka_unit_test(test_on_failure_skipped_when_ok),
	    cmocka_unit_test(test_allow_failure),
	    cmocka_unit_test(test_warning_counts_as_success),
	    cmocka_unit_test(test_retry),
	    cmocka_unit_test(test_manual_and_timeout),
	    cmocka_unit_test(test_resource_group),
	    cmocka_unit_test(test_delayed),
	    cmocka_unit_test(test_cancel),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
