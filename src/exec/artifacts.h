/* Artifacts and cache: selecting files by GitLab's path rules (paths, exclude, untracked,
 * globs with ** ), packing them as tar (libarchive), unpacking into a directory or a container.
 * The executor calls these after a job and before later jobs. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "util/err.h"

struct artifacts_spec;
struct cache_spec;
struct var_list;
struct docker_client;
struct string_list;

/* Copies the artifacts of a finished job out of `dir` (a directory on the host: the shell
 * executor's project copy, or a directory extracted from the container) into `dest_dir`
 * (e.g. .runnel/artifacts/<job>/), applying paths/exclude/untracked. Paths are expanded with
 * the job's variables (runner-style). `untracked_files` (may be NULL) lists files that git
 * does not track, for `untracked: true`. Sets *ret_count to the number of files copied.
 * A path that matches nothing is a warning (appended to warnings), not an error. */
int artifacts_collect_dir(const struct artifacts_spec *spec, const struct var_list *vars,
                          const char *dir, const char *dest_dir, size_t *ret_count,
                          struct string_list *warnings, struct err *err);

/* Same, but from a container: fetches project_dir from the container through the archive
 * API and keeps only matching entries. */
int artifacts_collect_container(struct docker_client *c, const char *container_id,
                                const char *project_dir, const struct artifacts_spec *spec,
                                const struct var_list *vars, const char *dest_dir,
                                size_t *ret_count, struct string_list *warnings, struct err *err);

/* Puts the content of src_dir (artifacts of a dependency, or a cache) into the container at
 * dest (e.g. the project dir), or copies it into a host dir for the shell executor. */
int artifacts_put_container(struct docker_client *c, const char *container_id, const char *src_dir,
                            const char *dest, struct err *err);
int artifacts_copy_dir(const char *src_dir, const char *dest_dir, struct err *err);

/* Cache key as the runner computes it: key text expanded; key:files → SHA-1-based key with
 * prefix; "default" when nothing. Returns owned string, or NULL with err. */
char *cache_key_compute(const struct cache_spec *spec, size_t index, const struct var_list *vars,
                        const char *project_dir, struct err *err);

/* ---- additions (report/artifacts engineer) ---- */

/* artifacts_collect_dir with the untracked file list (project-relative or absolute paths,
 * e.g. from `git ls-files -o -z`), used when spec->untracked is set. */
int artifacts_collect_dir_untracked(const struct artifacts_spec *spec, const struct var_list *vars,
                                    const char *dir, const struct string_list *untracked_files,
                                    const char *dest_dir, size_t *ret_count,
                                    struct string_list *warnings, struct err *err);
/* The selection and extraction of artifacts_collect_container on a tar stream already in a
 * seekable file (tar_fd, read twice): entries are named "<top>/<path>" as Docker's archive
 * API names them; project_dir is the directory the tar holds (for absolute paths in the
 * spec and for messages). */
int artifacts_collect_tar(int tar_fd, const struct artifacts_spec *spec,
                          const struct var_list *vars, const char *project_dir,
                          const struct string_list *untracked_files, const char *dest_dir,
                          size_t *ret_count, struct string_list *warnings, struct err *err);
/* Writes a tar (pax) of the content of src_dir to out_fd: entry names relative to src_dir,
 * modes, symlinks and mtimes kept, owner root (as the runner's helper extracts). */
int artifacts_tar_dir(const char *src_dir, int out_fd, struct err *err);
/* doublestar matching of a '/'-separated relative path: '*' and '?' within a segment,
 * '**' as a whole segment for any depth (also zero: "a" followed by a "**" segment matches "a"),
 * [classes] with ranges and '!'/'^' negation, {alt,ernatives}, '\' escapes. */
bool artifacts_glob_match(const char *pattern, const char *path);
/* Frees the warning strings the functions above append to a string_list (each v[i] is an
 * owned char*, and v itself) and empties it. */
void artifacts_warnings_release(struct string_list *w);

/* Git's blob id (what `git hash-object <path>` prints) of a file or symlink into hex[41].
 * Returns -1 when path is not a readable regular file or symlink. */
int cache_git_blob_id(const char *path, char hex[41]);

/* Parses a dotenv report file into vars (KEY=VALUE lines, GitLab's rules: see dotenv.c;
 * < 5120 bytes, <= 20 variables, no blank or comment lines, quotes kept). Nothing is added
 * to out on error. out is a list built with a == NULL (strings strdup'ed). Errors are
 * ERR_JOB naming the file and line. */
int dotenv_parse_file(const char *path, struct var_list *out, struct err *err);
