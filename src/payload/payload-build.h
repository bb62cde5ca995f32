/* Building the payload of one job from the model for a local run: what GitLab's server puts
 * in the 201 body of `POST /api/v4/jobs/request` (Ci::BuildRunnerPresenter and
 * API::Entities::Ci::JobRequest::*), with runnel's local stand-ins for the server's state
 * (the pipeline context of vcs/context.h: ids 1, the origin remote's project). Runner-side
 * variables (CI_BUILDS_DIR, CI_PROJECT_DIR, CI_JOB_TIMEOUT, ...) are not part of it: the
 * runner adds them. docs/internals/payload.md lists every field and where it comes from. */
#pragma once
#include <stddef.h>

#include "util/err.h"

struct job;
struct payload;
struct pipeline;
struct var_list;

struct cache_spec;

/* The key of a cache:key:files cache: GitLab's server derives it from the files' history
 * when it creates the pipeline, which the model cannot do (no I/O). Returns an owned key
 * without the -protected suffix, or NULL with err set. */
typedef char *(*payload_cache_files_key_fn)(void *data, const struct cache_spec *spec, size_t index,
                                            struct err *err);

struct payload_build_opts {
	const struct pipeline *pipeline; /* borrowed */
	const struct job *job;           /* borrowed: one of pipeline->jobs */
	/* The pipeline context's variables (pipeline_ctx.vars): the predefined ones (public_)
	 * and the user's pipeline variables (not public_, ranking above the YAML ones). */
	const struct var_list *pipeline_vars;
	/* The predefined variables GitLab gives running jobs only (CI_PIPELINE_ID,
	 * CI_REGISTRY_USER, CI_REPOSITORY_URL, ...), or NULL. Runner-side ones are dropped. */
	const struct var_list *job_vars;
	const char *token; /* the job token (CI_JOB_TOKEN), borrowed; NULL = a fixed dummy */
	long long now;     /* epoch seconds of CI_JOB_STARTED_AT */
	/* For cache:key:files caches; NULL: their key is "<prefix>-default" ("default"
	 * without a prefix), as GitLab gives when none of the files has a commit. */
	payload_cache_files_key_fn cache_files_key;
	void *cache_files_key_data;
};
#define PAYLOAD_BUILD_OPTS_INIT                                                                    \
	{                                                                                          \
		0                                                                                  \
	}

/* The job's id in a local pipeline: its 1-based position in pipeline->jobs (0 when the job
 * is not there, e.g. excluded by rules). */
long payload_job_id(const struct pipeline *p, const struct job *j);

/* Returns the owned payload of o->job (payload_free), or NULL with err set (ERR_CONFIG) when
 * the job's variables cannot be expanded (a circular reference). */
struct payload *payload_build(const struct payload_build_opts *o, struct err *err);
