/* The predefined CI/CD variables of a local pipeline (spec: variables.md §1), derived from
 * the repository facts of vcs/git.h and the ref/source the user asked for. Local choices
 * where GitLab has server state (documented in README.md "Pipeline context"):
 * - no origin remote (or a local path): server https://gitlab.example.com, project
 *   local/<directory name>;
 * - ssh remotes map to https on port 443; the registry is registry.<host>;
 * - CI_PROJECT_ID = CI_PIPELINE_ID = CI_PIPELINE_IID = 1, visibility private;
 * - CI_COMMIT_BEFORE_SHA is 40 zeros; CI_COMMIT_REF_PROTECTED is true for the default
 *   branch only (GitLab protects the default branch of new projects);
 * - CI_PIPELINE_CREATED_AT is SOURCE_DATE_EPOCH when set (reproducible output), else now. */
#pragma once
#include <stdbool.h>

struct arena;
struct var_list;
struct vcs_repo;

struct vcs_ref_opts {
	const char *branch;      /* branch of a branch/MR pipeline (borrowed), or NULL */
	const char *tag;         /* tag of a tag pipeline (borrowed); branch and tag exclusive */
	const char *source;      /* CI_PIPELINE_SOURCE; NULL = "push" */
	const char *config_path; /* CI_CONFIG_PATH relative to the root; NULL = .gitlab-ci.yml */
	long long now;           /* pipeline creation time (epoch seconds) */
};

/* Whether `source` is one of GitLab's CI_PIPELINE_SOURCE values. */
bool vcs_source_valid(const char *source);
/* The accepted sources, comma separated, for messages. */
const char *vcs_source_names(void);

/* Appends the predefined variables rules can read to `vars` and those GitLab only gives to
 * running jobs (CI_PIPELINE_ID, CI_PIPELINE_URL, CI_PROJECT_DIR, CI_REGISTRY_USER, ...) to
 * `job_vars`; strings are copied into `a` (borrowed). CI_JOB_* are per job, not here. In a
 * merge_request_event pipeline `o->branch` is the source branch, the target is the default
 * branch and CI_COMMIT_BRANCH is absent, as in GitLab. */
void vcs_predefined_vars(const struct vcs_repo *r, const struct vcs_ref_opts *o, struct arena *a,
                         struct var_list *vars, struct var_list *job_vars);

/* GitLab's commit title/description split of a message (owned results). */
char *vcs_commit_title(const char *message);
char *vcs_commit_description(const char *message);
