/* scheduler: the ready queue. One mutex guards all state; job threads only run the callback and
 * post their index to a completion queue, the scheduler thread does every decision, so the
 * GitLab rules below are sequential code. */
#include "plan/scheduler.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "model/job.h"
#include "plan/dag.h"
#include "util/monotime.h"
#include "util/xalloc.h"

enum slot { SLOT_WAITING, SLOT_READY, SLOT_RUNNING, SLOT_DONE };

struct node_rt {
	enum slot slot;
	double not_before; /* delayed jobs: earliest start, seconds since run start */
	unsigned attempt;
	pthread_t thread;
	struct sched_attempt last;
	struct sched_result res;
};

struct sched {
	const struct plan *plan;
	const struct sched_opts *opts;
	const struct sched_ops *ops;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct node_rt *rt;
	size_t *done_q; /* completed attempts not yet processed */
	size_t n_done;
	size_t running;
	size_t remaining;
	unsigned concurrency;
	bool canceled;
	struct timespec t0;
};

struct thread_arg {
	struct sched *s;
	size_t index;
};

const char *sched_state_name(enum sched_state st)
{
	static const char *const names[] = {
	    [SCHED_PENDING] = "pending", [SCHED_RUNNING] = "running", [SCHED_SUCCESS] = "success",
	    [SCHED_WARNING] = "warning", [SCHED_FAILED] = "failed",   [SCHED_CANCELED] = "canceled",
	    [SCHED_SKIPPED] = "skipped", [SCHED_MANUAL] = "manual",   [SCHED_TIMEDOUT] = "timedout",
	};
	return names[st];
}

const char *sched_failure_name(enum sched_failure f)
{
	static const char *const names[] = {
	    [FAILURE_NONE] = "none",
	    [FAILURE_SCRIPT] = "script_failure",
	    [FAILURE_SYSTEM] = "runner_system_failure",
	    [FAILURE_TIMEOUT] = "job_execution_timeout",
	    [FAILURE_IMAGE_PULL] = "image_pull_failure",
	    [FAILURE_CANCELED] = "job_canceled",
	    [FAILURE_CONFIG] = "runner_configuration_error",
	};
	return names[f];
}

static double now_s(const struct sched *s)
{
	struct timespec t;
	monotime_get(&t);
	return monotime_diff_s(&s->t0, &t);
}

struct sched *sched_new(const struct plan *plan, const struct sched_opts *opts,
                        const struct sched_ops *ops)
{
	struct sched *s = xcalloc(1, sizeof(*s));
	s->plan = plan;
	s->opts = opts;
	s->ops = ops;
	pthread_mutex_init(&s->lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->cond, &ca);
	pthread_condattr_destroy(&ca);
	s->rt = xcalloc(plan->n ? plan->n : 1, sizeof(*s->rt));
	s->done_q = xcalloc(plan->n ? plan->n : 1, sizeof(size_t));
	for (size_t i = 0; i < plan->n; i++) {
		s->rt[i].res.state = SCHED_PENDING;
		s->rt[i].res.exit_code = -1;
		s->rt[i].res.started_s = -1;
		s->rt[i].res.finished_s = -1;
	}
	s->remaining = plan->n;
	s->concurrency = opts->concurrency;
	if (!s->concurrency) {
		long c = sysconf(_SC_NPROCESSORS_ONLN);
		s->concurrency = c > 0 ? (unsigned)c : 1;
	}
	return s;
}

void sched_free(struct sched *s)
{
	if (!s)
		return;
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->cond);
	free(s->rt);
	free(s->done_q);
	free(s);
}

void sched_cancel(struct sched *s)
{
	pthread_mutex_lock(&s->lock);
	s->canceled = true;
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
}

bool sched_canceled(struct sched *s)
{
	pthread_mutex_lock(&s->lock);
	bool c = s->canceled;
	pthread_mutex_unlock(&s->lock);
	return c;
}

const struct sched_result *sched_result(const struct sched *s, size_t i)
{
	return &s->rt[i].res;
}

bool sched_pipeline_ok(const struct sched *s)
{
	for (size_t i = 0; i < s->plan->n; i++) {
		enum sched_state st = s->rt[i].res.state;
		if (st == SCHED_FAILED || st == SCHED_TIMEDOUT || st == SCHED_CANCELED)
			return false;
	}
	return true;
}

/* Called with the lock held; the lock is dropped around the callback so it may do I/O. */
static void finish(struct sched *s, size_t i, enum sched_state st, const char *reason)
{
	struct node_rt *rt = &s->rt[i];
	rt->slot = SLOT_DONE;
	rt->res.state = st;
	rt->res.reason = reason;
	if (rt->res.attempts)
		rt->res.finished_s = now_s(s);
	s->remaining--;
	if (s->ops->finished) {
		struct sched_result copy = rt->res;
		pthread_mutex_unlock(&s->lock);
		s->ops->finished(s->ops->ud, i, &copy);
		pthread_mutex_lock(&s->lock);
	}
}

static bool name_in(const char *name, const char *const *list, size_t n)
{
	for (size_t k = 0; k < n; k++)
		if (!strcmp(list[k], name))
			return true;
	return false;
}

static bool manual_triggered(const struct sched *s, const struct plan_node *nd)
{
	if (name_in(nd->job->name, s->opts->manual, s->opts->n_manual))
		return true;
	/* a manual job named explicitly on the command line is a request to run it */
	return s->opts->run_named_manual && s->plan->explicit_jobs && nd->named;
}

enum composite { COMP_SUCCESS, COMP_FAILED, COMP_CANCELED, COMP_SKIPPED, COMP_BLOCKED };

/* GitLab's composite status of a job's dependencies. With needs (DAG mode) a need that did
 * not run (skipped, manual) skips the job; in stage mode skipped jobs and manual jobs that
 * may fail are ignored, while a blocking manual job (allow_failure: false) holds the rest. */
static enum composite dep_composite(const struct sched *s, const struct plan_node *nd)
{
	bool failed = false, canceled = false, skipped = false, blocked = false;
	for (size_t k = 0; k < nd->n_deps; k++) {
		const struct node_rt *d = &s->rt[nd->deps[k]];
		const struct job *dj = s->plan->nodes[nd->deps[k]].job;
		switch (d->res.state) {
		case SCHED_FAILED:
		case SCHED_TIMEDOUT:
			failed = true;
			break;
		case SCHED_CANCELED:
			canceled = true;
			break;
		case SCHED_SKIPPED:
			if (nd->job->has_needs)
				skipped = true;
			break;
		case SCHED_MANUAL:
			if (nd->job->has_needs)
				skipped = true;
			else if (!dj->allow_failure)
				blocked = true;
			break;
		default:
			break;
		}
	}
	if (skipped)
		return COMP_SKIPPED;
	if (failed)
		return COMP_FAILED;
	if (canceled)
		return COMP_CANCELED;
	if (blocked)
		return COMP_BLOCKED;
	return COMP_SUCCESS;
}

static bool deps_final(const struct sched *s, const struct plan_node *nd)
{
	for (size_t k = 0; k < nd->n_deps; k++)
		if (s->rt[nd->deps[k]].slot != SLOT_DONE)
			return false;
	return true;
}

static const char *skip_reason(enum composite c)
{
	switch (c) {
	case COMP_FAILED:
		return "a job it depends on failed";
	case COMP_CANCELED:
		return "a job it depends on was canceled";
	case COMP_SKIPPED:
		return "a job it needs did not run";
	case COMP_BLOCKED:
		return "blocked by a manual job";
	default:
		return "no job it depends on failed";
	}
}

/* Decides what happens to a waiting job whose dependencies are final. */
static void decide(struct sched *s, size_t i)
{
	const struct plan_node *nd = &s->plan->nodes[i];
	const struct job *j = nd->job;
	enum composite c = dep_composite(s, nd);
	bool run;
	switch (j->when) {
	case WHEN_NEVER:
		finish(s, i, SCHED_SKIPPED, "when: never");
		return;
	case WHEN_MANUAL:
		if (!manual_triggered(s, nd)) {
			finish(s, i, SCHED_MANUAL, "manual job (run it with --manual)");
			return;
		}
		run = c == COMP_SUCCESS;
		break;
	case WHEN_ON_FAILURE:
		run = c == COMP_FAILED;
		break;
	case WHEN_ALWAYS:
		run = c != COMP_CANCELED && c != COMP_BLOCKED;
		break;
	default: /* on_success, delayed */
		run = c == COMP_SUCCESS;
		break;
	}
	if (!run) {
		finish(s, i, SCHED_SKIPPED, skip_reason(c));
		return;
	}
	s->rt[i].slot = SLOT_READY;
	s->rt[i].not_before = 0;
	if (j->when == WHEN_DELAYED)
		s->rt[i].not_before = now_s(s) + (double)j->start_in_seconds;
}

static bool resource_busy(const struct sched *s, size_t i)
{
	const char *rg = s->plan->nodes[i].job->resource_group;
	if (!rg || !*rg)
		return false;
	for (size_t k = 0; k < s->plan->n; k++) {
		const char *o = s->plan->nodes[k].job->resource_group;
		if (k != i && s->rt[k].slot == SLOT_RUNNING && o && !strcmp(o, rg))
			return true;
	}
	return false;
}

static void *job_thread(void *p)
{
	struct thread_arg *a = p;
	struct sched *s = a->s;
	size_t i = a->index;
	free(a);
	struct sched_attempt out = {.failure = FAILURE_NONE, .exit_code = -1};
	s->ops->run(s->ops->ud, i, s->rt[i].attempt, &out);
	pthread_mutex_lock(&s->lock);
	s->rt[i].last = out;
	s->done_q[s->n_done++] = i;
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

static int start(struct sched *s, size_t i, struct err *err)
{
	struct node_rt *rt = &s->rt[i];
	struct thread_arg *a = xmalloc(sizeof(*a));
	a->s = s;
	a->index = i;
	rt->attempt++;
	rt->res.attempts = rt->attempt;
	if (rt->res.started_s < 0)
		rt->res.started_s = now_s(s);
	rt->slot = SLOT_RUNNING;
	rt->res.state = SCHED_RUNNING;
	s->running++;
	int r = pthread_create(&rt->thread, NULL, job_thread, a);
	if (r) {
		free(a);
		s->running--;
		rt->slot = SLOT_READY;
		return err_sys(err, r, "cannot start a thread for job '%s'",
		               s->plan->nodes[i].job->name);
	}
	return 0;
}

static bool int_in(int v, const int *list, size_t n)
{
	for (size_t k = 0; k < n; k++)
		if (list[k] == v)
			return true;
	return false;
}

/* retry:when and retry:exit_codes: either matching is enough; with neither given every
 * failure is retried (GitLab's default `always`). */
static bool should_retry(const struct job *j, const struct sched_attempt *a, unsigned attempt)
{
	const struct retry_spec *r = &j->retry;
	if (a->failure == FAILURE_CANCELED || attempt > (unsigned)(r->max < 0 ? 0 : r->max))
		return false;
	bool code = r->n_exit_codes && a->failure == FAILURE_SCRIPT &&
	            int_in(a->exit_code, r->exit_codes, r->n_exit_codes);
	if (code)
		return true;
	if (!r->when.n)
		return r->n_exit_codes == 0;
	const char *reason = sched_failure_name(a->failure);
	for (size_t k = 0; k < r->when.n; k++)
		if (!strcmp(r->when.v[k], "always") || !strcmp(r->when.v[k], reason) ||
		    (!strcmp(r->when.v[k], "stuck_or_timeout_failure") &&
		     a->failure == FAILURE_TIMEOUT))
			return true;
	return false;
}

static bool failure_allowed(const struct job *j, const struct sched_attempt *a)
{
	if (a->failure == FAILURE_CANCELED)
		return false;
	if (j->n_allow_failure_exit_codes)
		return a->failure == FAILURE_SCRIPT &&
		       int_in(a->exit_code, j->allow_failure_exit_codes,
		              j->n_allow_failure_exit_codes);
	return j->allow_failure;
}

static void complete(struct sched *s, size_t i)
{
	struct node_rt *rt = &s->rt[i];
	const struct job *j = s->plan->nodes[i].job;
	pthread_join(rt->thread, NULL);
	s->running--;
	rt->res.failure = rt->last.failure;
	rt->res.exit_code = rt->last.exit_code;
	if (rt->last.failure == FAILURE_NONE) {
		finish(s, i, SCHED_SUCCESS, NULL);
		return;
	}
	if (!s->canceled && should_retry(j, &rt->last, rt->attempt)) {
		rt->slot = SLOT_READY;
		rt->not_before = 0;
		return;
	}
	if (rt->last.failure == FAILURE_CANCELED) {
		finish(s, i, SCHED_CANCELED, NULL);
		return;
	}
	if (failure_allowed(j, &rt->last)) {
		finish(s, i, SCHED_WARNING, NULL);
		return;
	}
	finish(s, i, rt->last.failure == FAILURE_TIMEOUT ? SCHED_TIMEDOUT : SCHED_FAILED, NULL);
}

/* Decides every waiting job whose dependencies are final, until nothing changes (a decision
 * can release a job listed earlier, e.g. needs within a stage). */
static void decide_all(struct sched *s)
{
	bool changed = true;
	while (changed) {
		changed = false;
		for (size_t i = 0; i < s->plan->n; i++) {
			struct node_rt *rt = &s->rt[i];
			if (rt->slot == SLOT_WAITING && s->canceled) {
				finish(s, i, SCHED_CANCELED, "pipeline canceled");
				changed = true;
			} else if (rt->slot == SLOT_WAITING && deps_final(s, &s->plan->nodes[i])) {
				decide(s, i);
				changed = true;
			}
		}
	}
}

/* Starts ready jobs while slots are free. Returns the earliest start time of a delayed job
 * still waiting (or a negative value). */
static double start_ready(struct sched *s, struct err *err, int *ret)
{
	double next = -1;
	for (size_t i = 0; i < s->plan->n; i++) {
		struct node_rt *rt = &s->rt[i];
		if (rt->slot == SLOT_READY && s->canceled) {
			finish(s, i, SCHED_CANCELED, "pipeline canceled");
			continue;
		}
		if (rt->slot != SLOT_READY || s->running >= s->concurrency || resource_busy(s, i))
			continue;
		if (rt->not_before > now_s(s)) {
			if (next < 0 || rt->not_before < next)
				next = rt->not_before;
			continue;
		}
		if (start(s, i, *ret < 0 ? NULL : err) < 0) {
			*ret = -1;
			s->canceled = true;
		}
	}
	return next;
}

static void wait_event(struct sched *s, double next)
{
	if (next < 0) {
		pthread_cond_wait(&s->cond, &s->lock);
		return;
	}
	struct timespec ts = s->t0;
	double whole = (double)(long)next;
	ts.tv_sec += (time_t)whole;
	ts.tv_nsec += (long)((next - whole) * 1e9);
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	int r = pthread_cond_timedwait(&s->cond, &s->lock, &ts);
	(void)r; /* ETIMEDOUT just means a delayed job may start now */
}

int sched_run(struct sched *s, struct err *err)
{
	int ret = 0;
	monotime_get(&s->t0);
	pthread_mutex_lock(&s->lock);
	while (s->remaining > 0) {
		while (s->n_done > 0)
			complete(s, s->done_q[--s->n_done]);
		decide_all(s);
		double next = start_ready(s, err, &ret);
		if (s->remaining == 0)
			break;
		if (s->canceled && !s->running)
			decide_all(s);
		if (s->n_done == 0)
			wait_event(s, next);
	}
	pthread_mutex_unlock(&s->lock);
	return ret;
}
