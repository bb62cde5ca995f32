/* The pieces of one job attempt shared between job.c and the job-*.c files that hold its
 * concerns (dependencies, cache, variables, artifacts). Not part of the exec API. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include "model/job.h"

struct docker_client;
struct err;
struct exec_job_ctx;
struct exec_job_state;
struct exec_run;
struct job;
struct string_list;

/* Removes path recursively; a failure is logged at debug level only (what is left is reaped). */
void exec_job_rm_rf(const char *path);

/* Whether the job j receives the artifacts and dotenv of the plan node dep (dependencies:,
 * needs:artifacts, or an earlier stage). */
bool exec_job_receives_from(const struct exec_run *run, const struct job *j, size_t dep);
/* <state_dir>/artifacts/<slug of job_name>, returned owned. */
char *exec_job_artifacts_dir(const struct exec_run *run, const char *job_name);

/* Restores the job's caches into dir (missing caches are not an error, as in the runner). */
void exec_job_restore_caches(struct exec_job_ctx *jc, const char *dir);
/* Saves the finished job's caches: from container cid when given, else from jc->host_dir. */
void exec_job_save_caches(struct exec_job_ctx *jc, struct docker_client *c, const char *cid);

/* Whether artifacts (or a cache) with when w are kept for a job that succeeded (ok) or not. */
bool exec_job_artifacts_wanted(enum artifacts_when w, bool ok);
/* Prints each warning of w into the job's log, then releases w. */
void exec_job_print_warnings(struct exec_job_ctx *jc, struct string_list *w);
/* Reads the finished job's dotenv and junit reports into st. */
void exec_job_collect_reports(struct exec_job_ctx *jc, struct exec_job_state *st);

/* Builds jc->vars (and expands jc->image) for the job attempt numbered id; -1 with err on a
 * variable that cannot be resolved. */
int exec_job_build_vars(struct exec_job_ctx *jc, unsigned long id, struct err *err);
