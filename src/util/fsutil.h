/* File-system helpers shared by the executors: recursive removal and mkdir -p, in-process
 * (no rm/mkdir child processes on the hot path of every job). */
#pragma once

#include <stddef.h>
#include <sys/types.h>

#include "util/err.h"
#include "util/strbuf.h"

/* Removes path and everything below it, not following symlinks; a missing path is not an
 * error. Directories without write or search permission are made accessible first (as
 * `rm -rf` run by their owner would need). Returns 0, or -1 with err naming the first entry
 * that could not be removed (the rest is still attempted). */
int fs_rmtree(const char *path, struct err *err);
/* Creates path and its missing parents with mode (less the umask, as mkdir(2)); existing
 * directories are left as they are. Returns 0 or -1 with err naming the directory that could
 * not be created. */
int fs_mkdir_p_mode(const char *path, mode_t mode, struct err *err);
/* fs_mkdir_p_mode with mode 0755. */
int fs_mkdir_p(const char *path, struct err *err);
/* Appends the file's content to sb, but at most max + 1 bytes, so that a file over max shows as
 * more than max bytes read without being read whole. open_flags are added to
 * O_RDONLY | O_CLOEXEC (O_NOFOLLOW: a final symlink is refused). Returns 0, -1 when it cannot
 * be opened (errno; ENOENT: not there) or -2 when it cannot be read (errno; EISDIR for a
 * folder); what was read before an error stays in sb. */
int fs_read_file(const char *path, int open_flags, size_t max, struct strbuf *sb);
