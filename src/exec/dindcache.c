/* dindcache: named volumes that keep DinD daemons' /var/lib/docker between jobs, one slot per
 * concurrent job, held with flock so two daemons never share a data root (dockerd corrupts
 * its state when two instances use one directory). */
#include "exec/dindcache.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "docker/client.h"
#include "util/cleanup.h"
#include "util/fsutil.h"
#include "util/log.h"
#include "util/strvec.h"
#include "util/xalloc.h"

#define DINDCACHE_MAX_SLOTS 64

char *dindcache_lock_dir(void)
{
	const char *xdg = getenv("XDG_CACHE_HOME");
	if (xdg && *xdg == '/')
		return xasprintf("%s/runnel/dind-cache", xdg);
	const char *home = getenv("HOME");
	return xasprintf("%s/.cache/runnel/dind-cache", home && *home ? home : "/tmp");
}

/* The first slot whose lock is free: its fd (locked) and number, or -1 with err. */
static int lock_slot(const char *dir, const char *slug, unsigned *ret_slot, struct err *err)
{
	for (unsigned i = 0; i < DINDCACHE_MAX_SLOTS; i++) {
		_cleanup_free_ char *path = xasprintf("%s/%s-%u.lock", dir, slug, i);
		int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (fd < 0)
			return err_sys(err, errno, "cannot open lock file '%s'", path);
		if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
			*ret_slot = i;
			return fd;
		}
		close(fd);
	}
	return err_set(err, ERR_ENV, "all %d DinD cache slots of '%s' are in use",
	               DINDCACHE_MAX_SLOTS, slug);
}

int dindcache_acquire(struct docker_client *c, const char *project_slug, struct dindcache_slot *ret,
                      struct err *err)
{
	_cleanup_free_ char *dir = dindcache_lock_dir();
	if (fs_mkdir_p_mode(dir, 0700, err) < 0)
		return -1;
	unsigned slot = 0;
	int fd = lock_slot(dir, project_slug, &slot, err);
	if (fd < 0)
		return -1;
	char *volume = xasprintf("runnel-dind-cache-%s-%u", project_slug, slot);
	char *labels[] = {"runnel.dind-cache=1", NULL};
	/* creating an existing volume is a no-op for the engine: the cache is reused */
	if (docker_volume_create(c, volume, labels, err) < 0) {
		free(volume);
		close(fd);
		return -1;
	}
	ret->volume = volume;
	ret->lock_fd = fd;
	return 0;
}

void dindcache_release(struct dindcache_slot *slot)
{
	if (!slot)
		return;
	if (slot->lock_fd >= 0)
		close(slot->lock_fd); /* closing drops the flock */
	slot->lock_fd = -1;
	free(slot->volume);
	slot->volume = NULL;
}

static void remove_lock_files(void)
{
	_cleanup_free_ char *dir = dindcache_lock_dir();
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		size_t l = strlen(e->d_name);
		if (l < 5 || strcmp(e->d_name + l - 5, ".lock"))
			continue;
		_cleanup_free_ char *p = xasprintf("%s/%s", dir, e->d_name);
		/* a held lock belongs to a running job: leave it */
		int fd = open(p, O_RDWR | O_CLOEXEC);
		if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0)
			unlink(p);
		if (fd >= 0)
			close(fd);
	}
	closedir(d);
}

int dindcache_clear(struct docker_client *c, unsigned *ret_removed, struct err *err)
{
	struct strvec vols = STRVEC_INIT;
	if (docker_list_by_label(c, "volumes", "runnel.dind-cache=1", &vols, err) < 0) {
		strvec_release(&vols);
		return -1;
	}
	unsigned removed = 0;
	for (size_t i = 0; i < vols.n; i++) {
		struct err e = ERR_INIT;
		if (docker_volume_remove(c, vols.v[i], false, &e) < 0) {
			log_debug("dind cache: keeping '%s': %s", vols.v[i], e.msg);
			err_release(&e);
			continue;
		}
		removed++;
	}
	strvec_release(&vols);
	remove_lock_files();
	if (ret_removed)
		*ret_removed = removed;
	return 0;
}
