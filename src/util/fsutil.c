/* fsutil: rm -rf and mkdir -p without child processes. */
#include "util/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <string.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <unistd.h>

#include "util/xalloc.h"

/* nftw has no user pointer: the first error of the walk goes here. Removal walks are
 * serialised by a lock so concurrent job threads do not mix their errors. */
static pthread_mutex_t rm_lock = PTHREAD_MUTEX_INITIALIZER;
static int rm_errno;
static char *rm_failed;

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	int r = flag == FTW_DP ? rmdir(path) : unlink(path);
	if (r < 0 && errno != ENOENT && !rm_failed) {
		rm_errno = errno;
		rm_failed = xstrdup(path);
	}
	return 0; /* keep going: remove as much as possible */
}

/* A directory the walk cannot read (mode 000, e.g. overlayfs work/work) is opened up. */
static int open_up(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)ftw;
	if ((flag == FTW_D || flag == FTW_DNR) && (st->st_mode & 0700) != 0700)
		chmod(path, (st->st_mode & 07777) | 0700);
	return 0;
}

int fs_rmtree(const char *path, struct err *err)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : err_sys(err, errno, "cannot remove '%s'", path);
	if (!S_ISDIR(st.st_mode)) {
		if (unlink(path) < 0 && errno != ENOENT)
			return err_sys(err, errno, "cannot remove '%s'", path);
		return 0;
	}
	pthread_mutex_lock(&rm_lock);
	rm_failed = NULL;
	nftw(path, open_up, 32, FTW_PHYS);
	nftw(path, rm_entry, 32, FTW_DEPTH | FTW_PHYS);
	char *failed = rm_failed;
	int e = rm_errno;
	rm_failed = NULL;
	pthread_mutex_unlock(&rm_lock);
	if (!failed)
		return 0;
	err_sys(err, e, "cannot remove '%s'", failed);
	free(failed);
	return -1;
}

int fs_mkdir_p_mode(const char *path, mode_t mode, struct err *err)
{
	char *p = xstrdup(path);
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, mode) < 0 && errno != EEXIST) {
			err_sys(err, errno, "cannot create directory '%s'", p);
			free(p);
			return -1;
		}
		*s = '/';
	}
	int r = 0;
	if (mkdir(p, mode) < 0 && errno != EEXIST)
		r = err_sys(err, errno, "cannot create directory '%s'", p);
	free(p);
	return r;
}

int fs_mkdir_p(const char *path, struct err *err)
{
	return fs_mkdir_p_mode(path, 0755, err);
}

int fs_read_file(const char *path, int open_flags, size_t max, struct strbuf *sb)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | open_flags);
	if (fd < 0)
		return -1;
	size_t start = sb->len;
	for (;;) {
		strbuf_grow(sb, 65536);
		size_t want = sb->alloc - sb->len - 1;
		size_t room = max - (sb->len - start); /* up to max + 1 bytes in all */
		if (room < want)
			want = room + 1;
		ssize_t n = read(fd, sb->buf + sb->len, want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			close(fd);
			errno = e;
			return -2;
		}
		strbuf_setlen(sb, sb->len + (size_t)n);
		if (n == 0 || sb->len - start > max) {
			close(fd);
			return 0;
		}
	}
}
