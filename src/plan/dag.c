/* dag: builds the dependency graph of a run from the pipeline model. Stage order gives the
 * default edges, `needs:` replaces them per job; job selection keeps the named jobs and (by
 * default) the transitive closure of what they depend on. */
#include "plan/dag.h"

#include <stdlib.h>
#include <string.h>

#include "model/job.h"
#include "model/pipeline.h"
#include "util/cleanup.h"
#include "util/xalloc.h"

/* Full-graph edges over all jobs, before selection: deps[i] lists indexes into jobs[]. */
struct edges {
	size_t **deps;
	bool **is_need;
	size_t *n;
	size_t count;
};

static void edges_release(struct edges *e)
{
	for (size_t i = 0; i < e->count; i++) {
		free(e->deps[i]);
		free(e->is_need[i]);
	}
	free(e->deps);
	free(e->is_need);
	free(e->n);
}

static long find_job(const struct job *jobs, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(jobs[i].name, name))
			return (long)i;
	return -1;
}

static int job_edges(const struct job *jobs, size_t n, size_t i, struct edges *e, struct err *err)
{
	const struct job *j = &jobs[i];
	size_t cap = j->has_needs ? j->n_needs : n;
	e->deps[i] = xcalloc(cap ? cap : 1, sizeof(size_t));
	e->is_need[i] = xcalloc(cap ? cap : 1, sizeof(bool));
	if (!j->has_needs) {
		for (size_t k = 0; k < n; k++)
			if (jobs[k].stage_index < j->stage_index)
				e->deps[i][e->n[i]++] = k;
		return 0;
	}
	for (size_t k = 0; k < j->n_needs; k++) {
		long d = find_job(jobs, n, j->needs[k].job);
		if (d < 0) {
			/* optional needs on absent jobs are dropped, as GitLab does */
			if (j->needs[k].optional)
				continue;
			return err_at(err, j->needs[k].loc,
			              "job '%s' needs '%s', which is not in the pipeline", j->name,
			              j->needs[k].job);
		}
		if ((size_t)d == i)
			return err_at(err, j->needs[k].loc, "job '%s' needs itself", j->name);
		e->is_need[i][e->n[i]] = true;
		e->deps[i][e->n[i]++] = (size_t)d;
	}
	return 0;
}

static int build_edges(const struct job *jobs, size_t n, struct edges *e, struct err *err)
{
	e->count = n;
	e->deps = xcalloc(n ? n : 1, sizeof(*e->deps));
	e->is_need = xcalloc(n ? n : 1, sizeof(*e->is_need));
	e->n = xcalloc(n ? n : 1, sizeof(*e->n));
	for (size_t i = 0; i < n; i++)
		if (job_edges(jobs, n, i, e, err) < 0)
			return -1;
	return 0;
}

/* Kahn's algorithm: a cycle can only come from needs between jobs of the same stage or
 * needs pointing at later stages. */
static int check_acyclic(const struct job *jobs, const struct edges *e, struct err *err)
{
	size_t n = e->count;
	_cleanup_free_ size_t *indeg = xcalloc(n ? n : 1, sizeof(size_t));
	_cleanup_free_ size_t *queue = xcalloc(n ? n : 1, sizeof(size_t));
	size_t head = 0, tail = 0, seen = 0;
	for (size_t i = 0; i < n; i++)
		indeg[i] = e->n[i];
	for (size_t i = 0; i < n; i++)
		if (!indeg[i])
			queue[tail++] = i;
	while (head < tail) {
		size_t d = queue[head++];
		seen++;
		for (size_t i = 0; i < n; i++)
			for (size_t k = 0; k < e->n[i]; k++)
				if (e->deps[i][k] == d && --indeg[i] == 0)
					queue[tail++] = i;
	}
	if (seen == n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (indeg[i])
			return err_at(err, jobs[i].loc, "job '%s' is part of a needs cycle",
			              jobs[i].name);
	return 0;
}

static void mark_closure(const struct edges *e, size_t i, bool *sel)
{
	if (sel[i])
		return;
	sel[i] = true;
	for (size_t k = 0; k < e->n[i]; k++)
		mark_closure(e, e->deps[i][k], sel);
}

static int select_jobs(const struct job *jobs, size_t n, const struct plan_opts *opts,
                       const struct edges *e, bool *sel, bool *named, struct err *err)
{
	if (!opts || !opts->n_jobs) {
		for (size_t i = 0; i < n; i++)
			sel[i] = named[i] = true;
		return 0;
	}
	for (size_t k = 0; k < opts->n_jobs; k++) {
		long i = find_job(jobs, n, opts->jobs[k]);
		if (i < 0)
			return err_set(err, ERR_USAGE, "no job named '%s' in the pipeline",
			               opts->jobs[k]);
		named[i] = true;
		if (opts->select == PLAN_SELECT_ONLY)
			sel[i] = true;
		else
			mark_closure(e, (size_t)i, sel);
	}
	return 0;
}

static struct plan *make_plan(const struct job *jobs, size_t n, const struct edges *e,
                              const bool *sel, const bool *named)
{
	struct plan *plan = xcalloc(1, sizeof(*plan));
	_cleanup_free_ long *map = xcalloc(n ? n : 1, sizeof(long));
	for (size_t i = 0; i < n; i++)
		map[i] = sel[i] ? (long)plan->n++ : -1;
	plan->nodes = xcalloc(plan->n ? plan->n : 1, sizeof(*plan->nodes));
	for (size_t i = 0; i < n; i++) {
		if (!sel[i])
			continue;
		struct plan_node *nd = &plan->nodes[map[i]];
		nd->job = &jobs[i];
		nd->named = named[i];
		nd->deps = xcalloc(e->n[i] ? e->n[i] : 1, sizeof(size_t));
		nd->dep_is_need = xcalloc(e->n[i] ? e->n[i] : 1, sizeof(bool));
		for (size_t k = 0; k < e->n[i]; k++) {
			long d = map[e->deps[i][k]];
			if (d < 0)
				continue;
			nd->dep_is_need[nd->n_deps] = e->is_need[i][k];
			nd->deps[nd->n_deps++] = (size_t)d;
		}
	}
	for (size_t i = 0; i < plan->n; i++) {
		struct plan_node *nd = &plan->nodes[i];
		for (size_t k = 0; k < nd->n_deps; k++) {
			struct plan_node *dn = &plan->nodes[nd->deps[k]];
			dn->rdeps = xrealloc(dn->rdeps, (dn->n_rdeps + 1) * sizeof(size_t));
			dn->rdeps[dn->n_rdeps++] = i;
		}
	}
	return plan;
}

int plan_build_jobs(const struct job *jobs, size_t n, const struct plan_opts *opts,
                    struct plan **ret_plan, struct err *err)
{
	struct edges e = {0};
	int r = -1;
	_cleanup_free_ bool *sel = xcalloc(n ? n : 1, sizeof(bool));
	_cleanup_free_ bool *named = xcalloc(n ? n : 1, sizeof(bool));
	if (build_edges(jobs, n, &e, err) < 0 || check_acyclic(jobs, &e, err) < 0)
		goto out;
	if (select_jobs(jobs, n, opts, &e, sel, named, err) < 0)
		goto out;
	*ret_plan = make_plan(jobs, n, &e, sel, named);
	(*ret_plan)->explicit_jobs = opts && opts->n_jobs > 0;
	r = 0;
out:
	edges_release(&e);
	return r;
}

int plan_build(const struct pipeline *p, const struct plan_opts *opts, struct plan **ret_plan,
               struct err *err)
{
	return plan_build_jobs(p->jobs, p->n_jobs, opts, ret_plan, err);
}

void plan_free(struct plan *plan)
{
	if (!plan)
		return;
	for (size_t i = 0; i < plan->n; i++) {
		free(plan->nodes[i].deps);
		free(plan->nodes[i].dep_is_need);
		free(plan->nodes[i].rdeps);
	}
	free(plan->nodes);
	free(plan);
}

long plan_find(const struct plan *plan, const char *name)
{
	for (size_t i = 0; i < plan->n; i++)
		if (!strcmp(plan->nodes[i].job->name, name))
			return (long)i;
	return -1;
}
