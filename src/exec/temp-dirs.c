/* temp-dirs: runnel's temporary directories, named after their owning process
 * (runnel.<pid>.<start time>.<what>.XXXXXX in $TMPDIR) so that the reaper removes those of dead
 * owners, and this process removes its own at the end. */
#include "exec/exec.h"
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include "exec/owner.h"
#include "util/cleanup.h"
#include "util/strvec.h"
#include "util/xalloc.h"

static const char *tmp_root(void)
{
	const char *t = getenv("TMPDIR");
	return t && *t ? t : "/tmp";
}

char *exec_temp_dir(const char *what, struct err *err)
{
	struct owner o;
	exec_owner_self(&o);
	/* the owner in the name: exec_reap_stale removes it once its process is gone */
	char *path = xasprintf("%s/runnel.%ld.%llu.%s.XXXXXX", tmp_root(), o.pid, o.start, what);
	if (!mkdtemp(path)) {
		err_sys(err, errno, "cannot create a temporary directory in '%s'", tmp_root());
		free(path);
		return NULL;
	}
	return path;
}

/* Temporary directories of dead owners (mine: those of this process). */
void exec_reap_temp(const struct exec_reap_opts *o, bool mine)
{
	struct owner me;
	exec_owner_self(&me);
	DIR *d = opendir(tmp_root());
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		long pid = 0;
		unsigned long long start = 0;
		int n = 0;
		if (sscanf(e->d_name, "runnel.%ld.%llu.%n", &pid, &start, &n) != 2 || n == 0)
			continue;
		if (mine ? pid != me.pid || start != me.start : exec_owner_pid_alive(pid, start))
			continue;
		_cleanup_free_ char *path = xasprintf("%s/%s", tmp_root(), e->d_name);
		struct stat st;
		if (lstat(path, &st) < 0 || st.st_uid != getuid())
			continue;
		exec_reap_rm_rf(path);
		if (o && o->removed)
			strvec_pushf(o->removed, "temporary directory %s", path);
	}
	closedir(d);
}

void exec_remove_own_temp(void)
{
	exec_reap_temp(NULL, true);
}
