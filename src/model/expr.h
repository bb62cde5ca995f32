/* The rules:if expression language exactly as GitLab evaluates it (spec: expressions.md):
 * lexing, shunting-yard parsing, Ruby truthiness, RE2-style regexes through pcre2. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "util/err.h"

struct expr;          /* a parsed expression (opaque, heap-owned) */
struct var_list;

/* Parses `text`. Returns an owned expression or NULL with err set (ERR_CONFIG, message like
 * GitLab's "invalid expression syntax" naming the unknown lexeme and its column). `loc` is the
 * location of the expression's first character; error locations are offset from it. */
struct expr *expr_parse(const char *text, struct srcloc loc, struct err *err);
void expr_free(struct expr *e);

/* Variable lookup for evaluation: returns the raw value or NULL when undefined. */
typedef const char *(*expr_lookup_fn)(void *userdata, const char *name);

/* Observer told of every variable the evaluation reads (for `runnel explain`); may be NULL. */
typedef void (*expr_read_fn)(void *userdata, const char *name, const char *value_or_null);

struct expr_env {
	expr_lookup_fn lookup;
	void *lookup_data;
	expr_read_fn on_read;
	void *read_data;
};

/* Evaluates to the final truth value (Rails present?). A regex that fails to compile makes the
 * clause false, as in GitLab. Never fails. */
bool expr_eval(const struct expr *e, const struct expr_env *env);

/* Convenience: parse + eval against a var_list (last occurrence of a key wins). */
int expr_eval_text(const char *text, const struct var_list *vars, bool *ret_result,
		   struct err *err);
