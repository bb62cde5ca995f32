/* `runnel run --registry`: a real local container registry for the run (the distribution
 * registry from the local registry:2 image) with htpasswd authentication, reachable from job
 * containers and from DinD daemons at the default bridge's gateway address, and the
 * CI_REGISTRY* variables that point at it. Removed at the end of the run. */
#pragma once
#include "util/err.h"

struct arena;
struct docker_client;
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
/* Removes the container (with an anonymous storage volume; a named one stays) and frees r. NULL-safe, never fails. */
void registry_stop(struct docker_client *c, struct registry *r);
