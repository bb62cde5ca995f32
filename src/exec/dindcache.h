/* DinD image cache (`runnel run --dind-cache`): each Docker-in-Docker service keeps its
 * /var/lib/docker in a named volume `runnel-dind-cache-<project slug>-<slot>` (label
 * runnel.dind-cache=1, never runnel.pipeline, so run cleanup leaves it) across jobs and runs.
 * Two concurrent DinD jobs never use the same volume at once: a slot is held through an
 * flock on <cache dir>/runnel/dind-cache/<slug>-<slot>.lock. */
#pragma once
#include "util/err.h"

struct docker_client;

/* A held cache slot. */
struct dindcache_slot {
	char *volume; /* owned: the volume name */
	int lock_fd;  /* owned: the held flock */
};

/* Takes the first free slot of project_slug (borrowed, [a-z0-9-]), creating its volume if
 * needed. Fills *ret (release with dindcache_release). -1 with err (ERR_ENV) when the lock
 * directory or the volume cannot be made. */
int dindcache_acquire(struct docker_client *c, const char *project_slug, struct dindcache_slot *ret,
                      struct err *err);
/* Frees the slot for the next job (the volume stays). NULL-safe. */
void dindcache_release(struct dindcache_slot *slot);
/* `runnel cache clear`: removes every volume labelled runnel.dind-cache=1 that no container
 * uses (one in use is skipped and counted) and the lock files. *ret_removed (may be NULL)
 * gets the number removed. */
int dindcache_clear(struct docker_client *c, unsigned *ret_removed, struct err *err);
/* Directory of the lock files (owned): $XDG_CACHE_HOME/runnel/dind-cache or
 * ~/.cache/runnel/dind-cache. */
char *dindcache_lock_dir(void);
