/* The rules:if expression language exactly as GitLab evaluates it (spec: expressions.md):
 * lexing, shunting-yard parsing, Ruby truthiness, RE2-style regexes through pcre2. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "util/err.h"

struct expr; /* a parsed expression (opaque, heap-owned) */
struct var_list;

/* Parses `text`. Returns an owned expression or NULL with err set (ERR_CONFIG, message like
 * GitLab's "invalid expression syntax" naming the unknown lexeme and its column). `loc` is the
 * location of the expression's first character; error locations are offset from it. */
struct expr *expr_parse(const char *text, struct srcloc loc, struct err *err);
void expr_free(struct expr *e);

/* Variable lookup for evaluation: returns the raw value or NULL when undefined. The string
 * must stay valid until expr_eval returns. An input reference `$[[ inputs.x ]]` is looked
 * up under the name "inputs.x" (no CI variable name contains a dot). */
typedef const char *(*expr_lookup_fn)(void *userdata, const char *name);

/* Observer told of every variable the evaluation reads (for `runnel explain`); may be NULL. */
typedef void (*expr_read_fn)(void *userdata, const char *name, const char *value_or_null);

struct expr_env {
	expr_lookup_fn lookup;
	void *lookup_data;
	expr_read_fn on_read;
	void *read_data;
};

/* Evaluates to the final truth value (Rails present?). Never fails. As in GitLab: a regex
 * literal that RE2 cannot compile is already a syntax error in expr_parse; a "/re/" string
 * (from a variable) that cannot be compiled is compared as a plain string; an evaluation
 * error (e.g. `$A =~ true`) makes the whole clause false. */
bool expr_eval(const struct expr *e, const struct expr_env *env);

/* Convenience: parse + eval against a var_list (last occurrence of a key wins). */
int expr_eval_text(const char *text, const struct var_list *vars, bool *ret_result,
                   struct err *err);

/* Regexes with GitLab's (RE2) semantics, for other users of GitLab's "/body/flags" syntax
 * (only/except refs, coverage). Backed by pcre2; patterns RE2 would reject are rejected. */
struct expr_regex;

/* Compiles `len` bytes of `body` with RE2 flags from "ismU". Returns an owned regex, or NULL
 * when RE2 would not compile it (bad syntax, backreferences, look-around, invalid UTF-8). */
struct expr_regex *expr_regex_compile(const char *body, size_t len, const char *flags);
/* GitLab's UntrustedRegexp::RubySyntax.fabricate: `\/` becomes `/`, then the first line of
 * the form /body/flags is compiled. NULL when s has no such line or it does not compile. */
struct expr_regex *expr_regex_from_ruby(const char *s);
/* Unanchored search: 1 match, 0 no match, -1 the backtracking budget ran out. */
int expr_regex_search(const struct expr_regex *re, const char *text, size_t len);
void expr_regex_free(struct expr_regex *re);
