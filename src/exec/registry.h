/* `runnel run --registry`: a real local container registry for the run (the distribution
 * registry from the local registry:2 image) with htpasswd authentication, reachable from job
 * containers and from DinD daemons at the default bridge's gateway address, and the
 * CI_REGISTRY* variables that point at it. Removed at the end of the run. */
#pragma once
#include "util/err.h"

#include <stdbool.h>
#include <stddef.h>

struct arena;
struct docker_client;
struct exec_job_ctx;
struct strvec;
struct var_list;
struct registry; /* opaque, heap-owned */

struct registry_opts {
	const char *pipeline_id;  /* names the container: runnel-<id>-registry */
	char *const *labels;      /* "k=v", NULL-terminated (must hold runnel.pipeline=<id>) */
	const char *project_path; /* "group/project": CI_REGISTRY_IMAGE = CI_REGISTRY/<lowercase> */
	const char *image;        /* NULL = "registry:2" */
	/* Added later, may be NULL: what names the registry's storage volume (the project's
	 * root directory). Given, the images live in the named volume registry_volume_name(key),
	 * labelled runnel.registry=1 (not runnel.pipeline: runs and reapers leave it), and are
	 * there again in the next run of the project; NULL, the storage goes with the run. */
	const char *storage_key;
};

/* Starts the registry (host network, listening on <bridge gateway>:<free port>, plain HTTP,
 * htpasswd bcrypt auth for a random password) and waits until it answers. All borrowed.
 * Returns an owned registry or NULL with err (ERR_ENV: no image, no bridge gateway, htpasswd
 * missing, Docker errors). */
struct registry *registry_start(struct docker_client *c, const struct registry_opts *o,
                                struct err *err);
/* Appends CI_REGISTRY, CI_REGISTRY_IMAGE, CI_REGISTRY_USER and CI_REGISTRY_PASSWORD (masked,
 * not public) to vars; strings copied into a (or strdup'ed when a is NULL). */
void registry_vars(const struct registry *r, struct var_list *vars, struct arena *a);
/* "host:port" of the registry (borrowed): services_ctx.insecure_registry, so DinD daemons
 * speak plain HTTP to it. */
const char *registry_address(const struct registry *r);
/* "runnel-registry-<basename>-<hash of key>" (owned, [a-z0-9_.-]). */
char *registry_volume_name(const char *storage_key);
/* Removes the container (with an anonymous storage volume; a named one stays) and frees r.
 * NULL-safe, never fails. */
void registry_stop(struct docker_client *c, struct registry *r);

/* ---- --lenient: the Docker login a job forgot ---- */

/* Whether a job's script lines (before_script + script, expanded with vars; all borrowed)
 * push to or pull from `registry` ("host:port") with the Docker CLI without any
 * `docker login`: on GitLab such a job fails with "no basic auth credentials". */
bool registry_script_needs_login(const char *const *lines, size_t n, const struct var_list *vars,
                                 const char *registry);
/* The Docker CLI config.json that logs `registry` in as user/password (owned). */
char *registry_auth_config(const char *registry, const char *user, const char *password);
/* `runnel run --lenient --registry`: when the job needs it (registry_script_needs_login), a
 * per-job directory under the run directory gets that config.json and is bind-mounted
 * read-write at DOCKER_CONFIG (the job's own value, else /runnel/docker-config, set in env),
 * and one warning names the YAML fix. Only with a local daemon (binds). Appends to env and
 * binds (borrowed); returns true when it logged the job in. Never fails (a problem is logged
 * at debug level and leaves the job as on GitLab). */
bool registry_job_login(struct exec_job_ctx *jc, struct strvec *env, struct strvec *binds);

/* ---- `runnel registry ls` ---- */

/* The repositories of a started registry (GET /v2/_catalog as its user), sorted, appended to
 * out. -1 with err (ERR_ENV) when the registry does not answer 200 with JSON. */
int registry_catalog(const struct registry *r, struct strvec *out, struct err *err);
/* The tags of repo (GET /v2/<repo>/tags/list), sorted, appended to out. */
int registry_tags(const struct registry *r, const char *repo, struct strvec *out, struct err *err);
