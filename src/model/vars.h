/* CI/CD variables: lists with GitLab precedence, expansion (GitLab's server pass and the
 * runner's os.Expand pass), slugs and masking rules (spec: variables.md). No I/O. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "model/job.h"

struct arena;
struct strbuf;

/* Appends or overrides: a later var_set of the same key replaces the value (last wins) but
 * keeps the first position. Strings are copied into `a` (or strdup'ed when a is NULL; then
 * release with var_list_release). */
void var_list_set(struct arena *a, struct var_list *l, const struct var *v);
void var_list_set_kv(struct arena *a, struct var_list *l, const char *key, const char *value);
const struct var *var_list_get(const struct var_list *l, const char *key);
const char *var_list_value(const struct var_list *l, const char *key);
/* Appends every var of src over dst (src wins). */
void var_list_merge(struct arena *a, struct var_list *dst, const struct var_list *src);
/* Frees a list built with a == NULL. */
void var_list_release(struct var_list *l);

/* Runner-style expansion (Go os.Expand): $NAME and ${NAME} -> value, unknown -> "", $$ -> $,
 * $0-$9 $* $# $@ $! $? -> "", '$' before another char stays. Appends to out. */
void vars_expand_runner(const char *s, const struct var_list *vars, struct strbuf *out);
/* GitLab server-side expansion: $NAME, ${NAME}, %NAME% -> value, unknown refs kept literally,
 * $$ and %% untouched, raw variables not expanded. Appends to out. */
void vars_expand_gitlab(const char *s, const struct var_list *vars, struct strbuf *out);
/* Expands every non-raw value of l in place, GitLab style, in dependency order; a cycle is an
 * error "circular variable reference detected" naming the variables (GitLab's format:
 * `circular variable reference detected: ["A", "B"], ["C", "D"]`). A value growing past
 * VARS_MAX_EXPANDED bytes (references can double it at each level) is an error too. On
 * error l is unchanged. With a == NULL the list must own its strings (var_list_set(NULL,..)). */
#define VARS_MAX_EXPANDED (1 << 20)
int vars_resolve_all(struct arena *a, struct var_list *l, struct err *err);

/* CI_COMMIT_REF_SLUG-style slug: lowercase, [^a-z0-9] -> '-', first 63, trim '-'. */
char *vars_slugify(const char *s); /* owned */
/* CI_ENVIRONMENT_SLUG rules (with the sha256 suffix). */
char *vars_env_slugify(const char *s); /* owned */
/* Whether GitLab would accept the value as masked (single line, >= 8 chars, charset). */
bool vars_maskable(const char *value, bool raw);
