/* gitfiles: two of the pipeline context's git queries answered from the repository's files,
 * where that is exactly what git would print. `git for-each-ref` and `git config` cost a
 * process each (~1.7 ms of CPU, mostly git's own start-up) of a listing budget of 20 ms; the
 * refs and the three config keys runnel needs are plain files in the common case. Anything
 * unusual (loose tags, whose annotated objects would have to be read to peel them; packed refs
 * without peeled entries; quoting, escapes or includes in a config file; git environment
 * overrides; an unreadable file) returns ASK_GIT and git answers instead. Internal to vcs/. */
#pragma once

#include "util/strbuf.h"

enum { GITFILES_FOUND = 1, GITFILES_ASK_GIT = 0 };

/* A whole file of the repository, not through a symlink, appended to sb: 0, or -1 with errno
 * (ENOENT: not there). */
int gitfiles_read(const char *path, struct strbuf *sb);

/* What `git for-each-ref --format=%(refname)%00%(symref)%00%(objectname)%00%(*objectname)%00
 * refs/tags refs/heads refs/remotes/origin` prints, from gitdir's packed-refs and loose refs,
 * appended to out. Returns GITFILES_FOUND or GITFILES_ASK_GIT (out then undefined). */
int gitfiles_refs(const char *gitdir, struct strbuf *out);

/* What `git config -z --get-regexp '^(user\.name|user\.email|remote\.origin\.url)$'` prints
 * ("key\nvalue\0" records, system then global then repository order), from those files,
 * appended to out. Returns GITFILES_FOUND or GITFILES_ASK_GIT. */
int gitfiles_config(const char *gitdir, struct strbuf *out);
