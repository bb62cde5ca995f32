/* File-system helpers shared by the executors: recursive removal and mkdir -p, in-process
 * (no rm/mkdir child processes on the hot path of every job). */
#pragma once

#include "util/err.h"

/* Removes path and everything below it, not following symlinks; a missing path is not an
 * error. Directories without write or search permission are made accessible first (as
 * `rm -rf` run by their owner would need). Returns 0, or -1 with err naming the first entry
 * that could not be removed (the rest is still attempted). */
int fs_rmtree(const char *path, struct err *err);
/* Creates path and its missing parents with mode 0755. Returns 0 or -1 with err. */
int fs_mkdir_p(const char *path, struct err *err);
