/* The job payload as JSON: writing it as GitLab sends it, and parsing GitLab's JSON (or
 * runnel's own) back into a struct payload. Parsing ignores unknown fields and gives absent
 * or null fields their zero value (empty string lists marked absent, numbers 0, booleans
 * false), as gitlab-runner's common/spec decoding does; a field of the wrong type is an
 * error naming its path (`steps[1].script: expected an array of strings`). */
#pragma once
#include <stddef.h>

#include "util/err.h"

struct payload;

enum payload_json_flags {
	/* Every masked variable's value (and the job token) is shown as [MASKED], wherever it
	 * occurs in any string of the payload (repo_url, credentials, CI_REPOSITORY_URL...). */
	PAYLOAD_JSON_MASK = 1 << 0,
	/* One line without indentation (default: 2-space indentation). */
	PAYLOAD_JSON_COMPACT = 1 << 1,
};

/* Returns the payload as JSON text (owned, NUL-terminated, no final newline), fields in
 * GitLab's order. Never NULL. */
char *payload_to_json(const struct payload *pl, unsigned flags);

/* Parses len bytes of JSON text (need not be NUL-terminated). Returns an owned payload
 * (payload_free), or NULL with err set (ERR_CONFIG): invalid JSON with its line and column,
 * or the path of the first field of the wrong type. */
struct payload *payload_from_json(const char *text, size_t len, struct err *err);
