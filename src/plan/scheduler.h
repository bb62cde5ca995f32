/* The scheduler: a ready queue over the plan. A job starts the moment its dependencies have
 * finished (no stage waves), at most `concurrency` at once, each in its own thread. It applies
 * GitLab's `when:` (on_success, on_failure, always, manual, delayed), allow_failure (+exit
 * codes), retry (max, when, exit_codes) and resource_group mutual exclusion. The actual work
 * of an attempt is a callback, so the executors stay out of this module (and tests use a fake). */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "util/err.h"

struct plan;
struct plan_node;

enum sched_state {
	SCHED_PENDING,
	SCHED_RUNNING,
	SCHED_SUCCESS,
	SCHED_WARNING, /* failed but allowed to fail: counts as success */
	SCHED_FAILED,
	SCHED_CANCELED,
	SCHED_SKIPPED, /* on_success after a failure, on_failure without one, needs not met */
	SCHED_MANUAL,  /* when: manual and not asked for: not run */
	SCHED_TIMEDOUT,
};
const char *sched_state_name(enum sched_state s); /* "success", "failed", ... */

/* Failure reasons, named as GitLab names them (retry:when). */
enum sched_failure {
	FAILURE_NONE = 0,
	FAILURE_SCRIPT,     /* script_failure: the script exited non-zero */
	FAILURE_SYSTEM,     /* runner_system_failure: Docker or host error */
	FAILURE_TIMEOUT,    /* job_execution_timeout */
	FAILURE_IMAGE_PULL, /* image_pull_failure */
	FAILURE_CANCELED,   /* canceled by the user (Ctrl-C) */
	FAILURE_CONFIG,     /* runner_configuration_error */
};
const char *sched_failure_name(enum sched_failure f); /* "script_failure", ... */

/* What one attempt produced: filled by the run callback. */
struct sched_attempt {
	enum sched_failure failure;
	int exit_code; /* script exit code, -1 when no script ran */
};

struct sched_result {
	enum sched_state state;
	enum sched_failure failure;
	int exit_code;
	unsigned attempts; /* attempts made (retries + 1), 0 if never started */
	double started_s;  /* seconds since the run began, < 0 if never started */
	double finished_s;
	const char *reason; /* static text for skipped/manual jobs, else NULL */
};

struct sched_ops {
	/* Runs attempt `attempt` (1-based) of node `index` in a job thread. Must return when the
	 * job is done, including after cancellation. */
	void (*run)(void *ud, size_t index, unsigned attempt, struct sched_attempt *out);
	/* Called from the scheduler thread (with no lock held) when a job's final state is known,
	 * including jobs that never ran. May be NULL. */
	void (*finished)(void *ud, size_t index, const struct sched_result *res);
	void *ud;
};

struct sched_opts {
	unsigned concurrency;      /* jobs at once; 0 = number of CPUs */
	const char *const *manual; /* borrowed: manual jobs to run (--manual JOB) */
	size_t n_manual;
	bool run_named_manual; /* manual jobs named on the command line run */
};
#define SCHED_OPTS_INIT                                                                            \
	{                                                                                          \
		.concurrency = 0, .manual = NULL, .n_manual = 0, .run_named_manual = true          \
	}

struct sched;

/* plan, opts and ops are borrowed and must outlive the scheduler. Returns an owned scheduler. */
struct sched *sched_new(const struct plan *plan, const struct sched_opts *opts,
                        const struct sched_ops *ops);
void sched_free(struct sched *s); /* NULL-safe; the run must have returned */
/* Runs the whole plan; returns when every job has a final state. Returns 0, or -1 with err
 * when a job thread could not be created. */
int sched_run(struct sched *s, struct err *err);
/* Thread-safe (not async-signal-safe): no new job starts, jobs not yet started end as
 * canceled. Running jobs are stopped by the executor (cancel fd), not here. */
void sched_cancel(struct sched *s);
bool sched_canceled(struct sched *s);
/* Result of node i (valid after sched_run, borrowed). */
const struct sched_result *sched_result(const struct sched *s, size_t i);
/* Whether the pipeline passed: no job ended failed, timed out or canceled. */
bool sched_pipeline_ok(const struct sched *s);
