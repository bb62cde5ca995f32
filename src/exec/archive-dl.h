/* libarchive, loaded on demand. runnel does not link libarchive: archive-dl.c defines the
 * archive_* functions the executor uses as forwarders into a table that exec_archive_load()
 * fills with dlopen("libarchive.so.13"). The verbs and runs that never pack or unpack a tar
 * (list, lint, a plain Docker job) so never map libarchive and the ~20 libraries it pulls in
 * (libxml2, ICU, libstdc++, nettle, zstd, lzma...: ~2.8 ms of start-up and 1.3 MiB of RSS,
 * docs/benchmarks.md).
 *
 * Callers keep including <archive.h>/<archive_entry.h> and calling archive_* as usual; each
 * code path that uses them first calls exec_archive_load() so that a missing library is a
 * reported error, not a crash. */
#pragma once

struct err;

/* Loads libarchive.so.13 and resolves every function the forwarders need, once per process
 * (thread-safe; later calls only check the outcome). Returns 0, or -1 with err (ERR_ENV:
 * "cannot load libarchive.so.13: <dlerror text>"; err may be NULL); a failure is final.
 * An archive_* forwarder called without a successful load loads the library itself and aborts
 * with that message when it cannot: a caller that skips this check has a bug. */
int exec_archive_load(struct err *err);
