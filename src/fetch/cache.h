/* cache: fetched includes on disk, per host and reference, under
 * ${XDG_CACHE_HOME:-~/.cache}/runnel/includes/ (docs/internals/includes.md, "Cache"). A file
 * is written only whole (temporary file + rename) and only after a successful, checked fetch;
 * its mtime is when it was fetched. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "util/err.h"
#include "util/strbuf.h"

struct fetch_url;

/* The cache root: $XDG_CACHE_HOME/runnel/includes, else $HOME/.cache/runnel/includes. Owned;
 * NULL when neither variable is set (nothing is cached then). */
char *fetch_cache_root(void);
/* Where a remote include is cached: ROOT/remote/<host>[_<port>]/<hex SHA-256 of the URL and
 * the integrity (when given)>.yml. Owned. */
char *fetch_cache_remote_path(const char *root, const struct fetch_url *u, const char *url,
                              const char *integrity);
/* Where a project file is cached: ROOT/project/<host>[_<port>]/<hex SHA-256 of the project,
 * the file and the ref>.yml (u: the server). Owned. */
char *fetch_cache_project_path(const char *root, const struct fetch_url *u, const char *project,
                               const char *file, const char *ref);
/* Reads a cached file (at most max + 1 bytes) into sb. Returns true with *ret_mtime set when
 * it is there, false when not (sb then empty). */
bool fetch_cache_get(const char *path, size_t max, struct strbuf *sb, time_t *ret_mtime);
/* Stores len bytes at path, creating the folders. Returns 0 or -1 with err (ERR_ENV). */
int fetch_cache_put(const char *path, const char *body, size_t len, struct err *err);

/* Whether s is a well-formed `sha256-BASE64` integrity (44 base64 characters). */
bool fetch_integrity_valid(const char *s);
/* Writes `sha256-BASE64` of len bytes at data into out (NUL-terminated). */
void fetch_integrity_of(const char *data, size_t len, char out[52]);
