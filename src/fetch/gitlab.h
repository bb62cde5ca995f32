/* gitlab: the GitLab REST API requests behind project: includes (repository files, raw, at a
 * ref) and the token that goes with them: GITLAB_TOKEN (as PRIVATE-TOKEN), else CI_JOB_TOKEN
 * (as JOB-TOKEN), else glab's login for the host, sent only to the pipeline's own server and
 * never shown. */
#pragma once
#include <stdbool.h>

/* {server}/api/v4/projects/{project}/repository/files/{file}/raw[?ref={ref}], each part
 * percent-encoded (`/` too, as the API wants); without ref the API serves the default branch.
 * server without a trailing `/`. Owned. */
char *gitlab_file_raw_url(const char *server, const char *project, const char *file,
                          const char *ref);
/* The token header for the server `host` (its name, with `:port` when not the default): from
 * GITLAB_TOKEN, else CI_JOB_TOKEN, else glab's stored login for that host (its config file is
 * read, never written). NULL without any. Owned: wipe it after use. */
char *gitlab_token_header(const char *host);
/* Whether ref names a commit (40 or 64 hex digits): its files never change. */
bool gitlab_ref_is_sha(const char *ref);
/* {server}/api/v4/projects/{project}/releases?per_page=100: the project's releases, newest
 * first, as JSON (each with its `tag_name`). Owned. */
char *gitlab_releases_url(const char *server, const char *project);
/* Only glab's stored login for host (see gitlab_token_header), for a server that is not the
 * pipeline's own: the environment's tokens belong to the pipeline's server. Owned or NULL. */
char *gitlab_glab_token_header(const char *host);
/* {server}/api/v4/templates/gitlab_ci_ymls/{key}: a CI template by its key (the name without
 * `.gitlab-ci.yml`, percent-encoded, `/` too), as JSON {name, content}. Owned. */
char *gitlab_template_url(const char *server, const char *key);
/* {server}/api/v4/version: {version, revision} (a token is needed). Owned. */
char *gitlab_version_url(const char *server);
