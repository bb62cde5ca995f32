/* libarchive through dlopen() (see archive-dl.h for why). Every archive_* function runnel and
 * its tests call is defined here under its own name, as a forwarder through a table of
 * pointers resolved once, so call sites stay plain libarchive calls. Both ends are checked by
 * the compiler against <archive.h>/<archive_entry.h>: the table's members are declared with
 * __typeof__ of the library's prototypes, and each forwarder's definition must match its
 * prototype. A function missing from ARCHIVE_FNS is an undefined reference at link time.
 *
 * The forwarders are hidden: the executable does not export them, so libarchive's own calls
 * between its functions still bind inside libarchive (RTLD_LOCAL), never to these. */
#include "exec/archive-dl.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <archive.h>
#include <archive_entry.h>

#include "util/dlsyms.h"
#include "util/err.h"

#ifndef EXEC_LIBARCHIVE_SONAME
#define EXEC_LIBARCHIVE_SONAME "libarchive.so.13"
#endif

/* The functions used: F(return type, name, parameters, arguments) for those returning a value,
 * V(name, parameters, arguments) for void ones. Sorted by name. */
#define ARCHIVE_FNS(F, V)                                                                          \
	V(archive_entry_copy_hardlink, (struct archive_entry * e, const char *s), (e, s))          \
	V(archive_entry_copy_sourcepath, (struct archive_entry * e, const char *s), (e, s))        \
	F(__LA_MODE_T, archive_entry_filetype, (struct archive_entry * e), (e))                    \
	V(archive_entry_free, (struct archive_entry * e), (e))                                     \
	F(la_int64_t, archive_entry_gid, (struct archive_entry * e), (e))                          \
	F(const char *, archive_entry_hardlink, (struct archive_entry * e), (e))                   \
	F(struct archive_entry *, archive_entry_new, (void), ())                                   \
	F(const char *, archive_entry_pathname, (struct archive_entry * e), (e))                   \
	V(archive_entry_set_filetype, (struct archive_entry * e, unsigned int t), (e, t))          \
	V(archive_entry_set_gid, (struct archive_entry * e, la_int64_t v), (e, v))                 \
	V(archive_entry_set_gname, (struct archive_entry * e, const char *s), (e, s))              \
	V(archive_entry_set_hardlink, (struct archive_entry * e, const char *s), (e, s))           \
	V(archive_entry_set_mtime, (struct archive_entry * e, time_t t, long ns), (e, t, ns))      \
	V(archive_entry_set_pathname, (struct archive_entry * e, const char *s), (e, s))           \
	V(archive_entry_set_perm, (struct archive_entry * e, __LA_MODE_T m), (e, m))               \
	V(archive_entry_set_size, (struct archive_entry * e, la_int64_t v), (e, v))                \
	V(archive_entry_set_symlink, (struct archive_entry * e, const char *s), (e, s))            \
	V(archive_entry_set_uid, (struct archive_entry * e, la_int64_t v), (e, v))                 \
	V(archive_entry_set_uname, (struct archive_entry * e, const char *s), (e, s))              \
	F(la_int64_t, archive_entry_size, (struct archive_entry * e), (e))                         \
	F(la_int64_t, archive_entry_uid, (struct archive_entry * e), (e))                          \
	F(const char *, archive_error_string, (struct archive * a), (a))                           \
	F(int, archive_read_data_block,                                                            \
	  (struct archive * a, const void **buf, size_t *size, la_int64_t *off),                   \
	  (a, buf, size, off))                                                                     \
	F(int, archive_read_data_into_fd, (struct archive * a, int fd), (a, fd))                   \
	F(int, archive_read_disk_entry_from_file,                                                  \
	  (struct archive * a, struct archive_entry * e, int fd, const struct stat *st),           \
	  (a, e, fd, st))                                                                          \
	F(struct archive *, archive_read_disk_new, (void), ())                                     \
	F(int, archive_read_disk_set_behavior, (struct archive * a, int flags), (a, flags))        \
	F(int, archive_read_free, (struct archive * a), (a))                                       \
	F(struct archive *, archive_read_new, (void), ())                                          \
	F(int, archive_read_next_header, (struct archive * a, struct archive_entry * *e), (a, e))  \
	F(int, archive_read_open_fd, (struct archive * a, int fd, size_t block), (a, fd, block))   \
	F(int, archive_read_open_filename, (struct archive * a, const char *path, size_t block),   \
	  (a, path, block))                                                                        \
	F(int, archive_read_support_format_tar, (struct archive * a), (a))                         \
	F(int, archive_write_close, (struct archive * a), (a))                                     \
	F(la_ssize_t, archive_write_data, (struct archive * a, const void *buf, size_t n),         \
	  (a, buf, n))                                                                             \
	F(la_ssize_t, archive_write_data_block,                                                    \
	  (struct archive * a, const void *buf, size_t n, la_int64_t off), (a, buf, n, off))       \
	F(struct archive *, archive_write_disk_new, (void), ())                                    \
	F(int, archive_write_disk_set_options, (struct archive * a, int flags), (a, flags))        \
	F(int, archive_write_disk_set_standard_lookup, (struct archive * a), (a))                  \
	F(int, archive_write_free, (struct archive * a), (a))                                      \
	F(int, archive_write_header, (struct archive * a, struct archive_entry * e), (a, e))       \
	F(struct archive *, archive_write_new, (void), ())                                         \
	F(int, archive_write_open_fd, (struct archive * a, int fd), (a, fd))                       \
	F(int, archive_write_open_memory,                                                          \
	  (struct archive * a, void *buf, size_t cap, size_t *used), (a, buf, cap, used))          \
	F(int, archive_write_set_bytes_in_last_block, (struct archive * a, int n), (a, n))         \
	F(int, archive_write_set_format_pax_restricted, (struct archive * a), (a))                 \
	F(int, archive_write_set_format_ustar, (struct archive * a), (a))

/* ---- the table ---- */

#define MEMBER_F(ret, name, params, args) __typeof__(name) *name;
#define MEMBER_V(name, params, args) __typeof__(name) *name;
struct archive_fns {
	ARCHIVE_FNS(MEMBER_F, MEMBER_V)
};
#undef MEMBER_F
#undef MEMBER_V

static struct archive_fns api;
static pthread_once_t archive_once = PTHREAD_ONCE_INIT;
static bool archive_loaded;
static char archive_load_error[512]; /* why loading failed, set once */

_Static_assert(sizeof(void *) == sizeof(api.archive_read_new), "function pointers fit in void *");

/* clang-format off */ /* (clang-format 14 spreads a braced initializer macro over lines) */
#define SYM_F(ret, name, params, args) {#name, offsetof(struct archive_fns, name)},
#define SYM_V(name, params, args) {#name, offsetof(struct archive_fns, name)},
/* clang-format on */
static const struct dl_sym archive_syms[] = {ARCHIVE_FNS(SYM_F, SYM_V)};
#undef SYM_F
#undef SYM_V

static void archive_load_once(void)
{
	archive_loaded =
	    dl_load_table(EXEC_LIBARCHIVE_SONAME, archive_syms,
	                  sizeof(archive_syms) / sizeof(archive_syms[0]), &api, sizeof(api),
	                  archive_load_error, sizeof(archive_load_error)) == 0;
}

int exec_archive_load(struct err *err)
{
	pthread_once(&archive_once, archive_load_once);
	if (!archive_loaded)
		return err_set(err, ERR_ENV, "cannot load %s: %s", EXEC_LIBARCHIVE_SONAME,
		               archive_load_error);
	return 0;
}

/* The table for a forwarder. Callers check exec_archive_load() first; reaching a forwarder
 * without the library is a bug (like a failed assert), reported as the load error. */
static const struct archive_fns *fns(void)
{
	pthread_once(&archive_once, archive_load_once);
	if (!archive_loaded) {
		fprintf(stderr,
		        "runnel: BUG: archive function called without libarchive: "
		        "cannot load %s: %s\n",
		        EXEC_LIBARCHIVE_SONAME, archive_load_error);
		abort();
	}
	return &api;
}

/* ---- the forwarders ---- */

#define HIDDEN __attribute__((visibility("hidden")))
#define FORWARD_F(ret, name, params, args)                                                         \
	HIDDEN ret name params                                                                     \
	{                                                                                          \
		return fns()->name args;                                                           \
	}
#define FORWARD_V(name, params, args)                                                              \
	HIDDEN void name params                                                                    \
	{                                                                                          \
		fns()->name args;                                                                  \
	}
ARCHIVE_FNS(FORWARD_F, FORWARD_V)
