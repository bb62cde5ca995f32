/* Shared helpers for the plan tests: hand-built job arrays (no YAML involved). */
#pragma once
#include <string.h>

#include "model/job.h"

#define MAX_FIX_JOBS 16
#define MAX_FIX_NEEDS 4

struct fix {
	struct job jobs[MAX_FIX_JOBS];
	struct job_need needs[MAX_FIX_JOBS][MAX_FIX_NEEDS];
	size_t n;
};

static inline struct job *fix_job(struct fix *f, const char *name, size_t stage)
{
	struct job *j = &f->jobs[f->n++];
	memset(j, 0, sizeof(*j));
	j->name = name;
	j->group_name = name;
	j->stage = stage == 0 ? "build" : stage == 1 ? "test" : "deploy";
	j->stage_index = stage;
	j->when = WHEN_ON_SUCCESS;
	j->node_total = 1;
	return j;
}

/* needs: names (NULL-terminated); no names = `needs: []` */
static inline void fix_needs(struct fix *f, struct job *j, const char *const *names)
{
	size_t idx = (size_t)(j - f->jobs);
	j->has_needs = true;
	j->needs = f->needs[idx];
	j->n_needs = 0;
	for (; names && *names; names++) {
		struct job_need *n = &f->needs[idx][j->n_needs++];
		memset(n, 0, sizeof(*n));
		n->job = *names;
		n->artifacts = true;
	}
}
