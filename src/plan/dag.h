/* The job graph of one run: which job waits for which. A job with `needs:` depends only on
 * its needs (`needs: []` on none); any other job on every job of the earlier stages. Named
 * jobs (`runnel run JOB...`) pull in what they need transitively unless only those jobs are
 * asked for. Built from the immutable pipeline model; no I/O. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "util/err.h"

struct job;
struct pipeline;

struct plan_node {
	const struct job *job; /* borrowed from the pipeline */
	size_t *deps;          /* owned: indexes of the nodes this one waits for */
	bool *dep_is_need;     /* owned, parallel to deps: edge comes from `needs:` */
	size_t n_deps;
	size_t *rdeps; /* owned: nodes waiting for this one */
	size_t n_rdeps;
	bool named; /* named on the command line (or every job when none named) */
};

struct plan {
	struct plan_node *nodes; /* owned; selected jobs only, in pipeline (stage) order */
	size_t n;
	bool explicit_jobs; /* jobs were named on the command line */
};

enum plan_select {
	PLAN_SELECT_NEEDS = 0, /* named jobs plus everything they depend on, transitively */
	PLAN_SELECT_ONLY,      /* exactly the named jobs; edges to other jobs are dropped */
};

struct plan_opts {
	const char *const *jobs; /* borrowed: names of the jobs to run; NULL/0 = every job */
	size_t n_jobs;
	enum plan_select select;
};
#define PLAN_OPTS_INIT                                                                             \
	{                                                                                          \
		.jobs = NULL, .n_jobs = 0, .select = PLAN_SELECT_NEEDS                             \
	}

/* Builds the plan of `jobs[0..n)` (borrowed; must outlive the plan). Errors (ERR_USAGE for an
 * unknown named job, ERR_CONFIG for a need naming a missing job or a cycle) set err and
 * return -1; on success *ret_plan is owned by the caller (plan_free). */
int plan_build_jobs(const struct job *jobs, size_t n, const struct plan_opts *opts,
                    struct plan **ret_plan, struct err *err);
/* Same over a loaded pipeline's jobs. */
int plan_build(const struct pipeline *p, const struct plan_opts *opts, struct plan **ret_plan,
               struct err *err);
void plan_free(struct plan *plan); /* NULL-safe */
/* Index of the node for job `name`, or -1. */
long plan_find(const struct plan *plan, const char *name);
