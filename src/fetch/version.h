/* version: which released version a component's `@version` means, as GitLab's CI/CD catalog
 * resolves it: `~latest` is the highest released semantic version, `@1` the highest 1.y.z,
 * `@1.2` the highest 1.2.z; pre-releases (`2.0.0-rc1`) are never chosen by these, only when
 * named in full. Versions are compared as semantic versions, not by release date. Exact
 * versions, SHAs and refs are not resolved here: they name themselves. */
#pragma once
#include <stddef.h>

struct fetch_component;

/* A semantic version MAJOR.MINOR.PATCH[-PRE][+BUILD] (digits without a `v`). */
struct fetch_semver {
	unsigned long major, minor, patch;
	int prerelease; /* it has a -PRE part */
};

/* Parses s. Returns 0 with *ret set, or -1 when s is not a semantic version. */
int fetch_semver_parse(const char *s, struct fetch_semver *ret);

/* The index in released[0..n) (the tags of the project's releases, borrowed) that c's version
 * resolves to, or -1 when none matches (GitLab then says the component's content is not found).
 * c->kind must be FETCH_VER_LATEST, FETCH_VER_MAJOR or FETCH_VER_MINOR. */
long fetch_version_resolve(const struct fetch_component *c, const char *const *released, size_t n);
