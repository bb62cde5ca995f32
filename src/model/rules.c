/* rules: workflow:rules, job rules and only/except, evaluated as GitLab does at pipeline
 * creation: first matching rule wins, a rule matches when all its clauses hold, no match
 * excludes. Variables come through an rscope (layered lists, expanded GitLab-style on demand)
 * whose reads are recorded for `runnel explain`. changes:/exists: use Ruby File.fnmatch with
 * FNM_PATHNAME | FNM_DOTMATCH | FNM_EXTGLOB semantics. */
#include "model/rules.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>

#include "model/expr.h"
#include "model/vars.h"
#include "util/arena.h"
#include "util/cleanup.h"
#include "util/strbuf.h"
#include "util/strmap.h"
#include "util/strvec.h"
#include "util/xalloc.h"
#include "yaml/node.h"

#define MAX_BRACE_ALTS 256

/* ---- fnmatch ---------------------------------------------------------------------------- */

static bool class_match(const char **pp, char c)
{
	const char *p = *pp + 1;
	bool neg = *p == '!' || *p == '^';
	bool hit = false;
	if (neg)
		p++;
	const char *first = p;
	while (*p && (*p != ']' || p == first)) {
		char lo = *p == '\\' && p[1] ? *++p : *p;
		char hi = lo;
		if (p[1] == '-' && p[2] && p[2] != ']') {
			hi = p[2] == '\\' && p[3] ? p[3] : p[2];
			p += p[2] == '\\' ? 3 : 2;
		}
		if (c >= lo && c <= hi)
			hit = true;
		p++;
	}
	if (*p != ']')
		return c == '['; /* unterminated: a literal '[' */
	*pp = p + 1;
	return hit != neg;
}

static bool fnm(const char *start, const char *p, const char *s)
{
	for (;;) {
		if (p[0] == '*' && p[1] == '*' && p[2] == '/' && (p == start || p[-1] == '/')) {
			for (const char *t = s;;) {
				if (fnm(start, p + 3, t))
					return true;
				t = strchr(t, '/');
				if (!t)
					return false;
				t++;
			}
		}
		switch (*p) {
		case '\0':
			return *s == '\0';
		case '*':
			while (*p == '*')
				p++;
			for (const char *t = s;; t++) {
				if (fnm(start, p, t))
					return true;
				if (!*t || *t == '/')
					return false;
			}
		case '?':
			if (!*s || *s == '/')
				return false;
			p++;
			s++;
			continue;
		case '[':
			if (!*s || *s == '/')
				return false;
			{
				const char *q = p;
				if (!class_match(&q, *s))
					return false;
				p = q == p ? p + 1 : q;
			}
			s++;
			continue;
		case '\\':
			if (p[1])
				p++;
			/* fall through */
		default:
			if (*p != *s)
				return false;
			p++;
			s++;
		}
	}
}

/* Expands the first {a,b} group (recursively), calling fnm on each alternative. */
static bool brace_match(const char *pat, const char *path, int *budget)
{
	const char *open = NULL;
	for (const char *q = pat; *q; q++) {
		if (*q == '\\' && q[1]) {
			q++;
			continue;
		}
		if (*q == '{') {
			open = q;
			break;
		}
	}
	const char *close = NULL;
	int depth = 0;
	for (const char *q = open; q && *q; q++) {
		if (*q == '\\' && q[1])
			q++;
		else if (*q == '{')
			depth++;
		else if (*q == '}' && --depth == 0) {
			close = q;
			break;
		}
	}
	if (!open || !close)
		return fnm(pat, pat, path);
	const char *alt = open + 1;
	depth = 0;
	for (const char *q = alt; q <= close; q++) {
		if (*q == '\\' && q[1]) {
			q++;
			continue;
		}
		if (*q == '{')
			depth++;
		else if (*q == '}' && depth > 0 && q != close)
			depth--;
		else if ((*q == ',' && depth == 0) || q == close) {
			if (--*budget < 0)
				return false;
			_cleanup_free_ char *one = xasprintf("%.*s%.*s%s", (int)(open - pat), pat,
			                                     (int)(q - alt), alt, close + 1);
			if (brace_match(one, path, budget))
				return true;
			alt = q + 1;
		}
	}
	return false;
}

bool mglob_match(const char *pattern, const char *path)
{
	int budget = MAX_BRACE_ALTS;
	return brace_match(pattern, path, &budget);
}

/* ---- variable scope --------------------------------------------------------------------- */

static const struct var *layer_find(const struct var_list *l, const char *name)
{
	for (size_t i = l->n; i-- > 0;)
		if (strcmp(l->v[i].key, name) == 0)
			return &l->v[i];
	return NULL;
}

static void record_read(struct rscope *s, const char *name, const char *value)
{
	struct var_list *r = s->read;
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++)
		if (strcmp(r->v[i].key, name) == 0)
			return;
	if (r->n == r->alloc) {
		size_t cap = r->alloc ? r->alloc * 2 : 4;
		struct var *v = arena_alloc(s->a, cap * sizeof(*v));
		if (r->n)
			memcpy(v, r->v, r->n * sizeof(*v));
		r->v = v;
		r->alloc = cap;
	}
	r->v[r->n++] = (struct var){.key = arena_strdup(s->a, name),
	                            .value = value ? arena_strdup(s->a, value) : NULL};
}

static void build_merged(struct rscope *s)
{
	if (s->merged_built)
		return;
	s->merged_built = true;
	for (size_t i = 0; i < s->n_layers; i++)
		var_list_merge(s->a, &s->merged, s->layers[i]);
	struct err e = ERR_INIT;
	if (vars_resolve_all(s->a, &s->merged, &e) < 0)
		err_release(&e); /* a cycle keeps the raw values, as GitLab keeps the text */
}

static const char *scope_lookup(void *data, const char *name)
{
	struct rscope *s = data;
	const struct var *v = NULL;
	for (size_t i = s->n_layers; i-- > 0 && !v;)
		v = layer_find(s->layers[i], name);
	/* GitLab evaluates rules:if (and only/except:variables) against context.variables_hash:
	 * the values as defined, never expanded (Clause::If, Lexeme::Variable). `B: "$A"`
	 * compares as the text "$A". changes:/exists: paths do use the expanded hash
	 * (rscope_expand). */
	return v ? v->value : NULL;
}

static void scope_read(void *data, const char *name, const char *value)
{
	record_read(data, name, value);
}

void rscope_env(struct rscope *s, struct expr_env *env)
{
	env->lookup = scope_lookup;
	env->lookup_data = s;
	env->on_read = scope_read;
	env->read_data = s;
}

const char *rscope_expand(struct rscope *s, const char *text)
{
	if (!strchr(text, '$'))
		return text;
	build_merged(s);
	struct strbuf out = STRBUF_INIT;
	vars_expand_gitlab(text, &s->merged, &out);
	const char *r = arena_strdup(s->a, out.buf);
	strbuf_release(&out);
	return r;
}

/* ---- clauses ---------------------------------------------------------------------------- */

static const struct ynode *paths_of(const struct ynode *n)
{
	return mnode_is_map(n) ? ynode_get(n, "paths") : n;
}

static bool any_glob(struct rscope *scope, const struct ynode *pats,
                     const struct string_list *files, bool dirs)
{
	size_t np = mnode_is_seq(pats) ? pats->n : 1;
	for (size_t i = 0; i < np; i++) {
		const char *p = ynode_str(mnode_is_seq(pats) ? pats->items[i] : pats);
		if (!p)
			continue;
		p = rscope_expand(scope, p);
		while (p[0] == '.' && p[1] == '/')
			p += 2;
		size_t pl = strlen(p);
		for (size_t k = 0; k < files->n; k++) {
			const char *f = files->v[k];
			/* exists: a trailing '/' tests a directory: any file below it. */
			if (dirs && pl && p[pl - 1] == '/') {
				_cleanup_free_ char *d = xstrndup(p, pl - 1);
				const char *sl = strrchr(f, '/');
				for (; sl;
				     sl = sl == f ? NULL : memrchr(f, '/', (size_t)(sl - f))) {
					_cleanup_free_ char *pre = xstrndup(f, (size_t)(sl - f));
					if (mglob_match(d, pre))
						return true;
				}
				continue;
			}
			if (mglob_match(p, f))
				return true;
		}
	}
	return false;
}

/* The files changed since changes:compare_to (GitLab: diff from the merge base of that ref
 * and the pipeline commit, whatever the pipeline source), into *files. The ref is expanded
 * like the paths; the answer is cached per ref. Without compare_to (or without a
 * ctx->changed_since) *files is left alone. */
static int changes_compare_to(struct mload *L, struct rscope *scope, const struct ynode *ch,
                              const struct string_list **files)
{
	const struct ynode *cn = mnode_is_map(ch) ? ynode_get(ch, "compare_to") : NULL;
	const char *ref = ynode_str(cn);
	if (!ref || !L->ctx->changed_since)
		return 0;
	ref = rscope_expand(scope, ref);
	if (!strmap_has(&L->changed_since, ref)) {
		struct strvec got = STRVEC_INIT;
		struct err e = ERR_INIT;
		int r = L->ctx->changed_since(L->ctx->changed_since_data, ref, &got, &e);
		if (r < 0) {
			strvec_release(&got);
			err_wrap(&e, "rules:changes:compare_to '%s'", ref);
			return mload_take_err(L, &e);
		}
		struct string_list *sl = NULL;
		if (r > 0) {
			sl = arena_alloc(L->a, sizeof(*sl));
			*sl = (struct string_list){0};
			for (size_t i = 0; i < got.n; i++)
				mstring_list_push(L->a, sl, arena_strdup(L->a, got.v[i]));
		}
		strvec_release(&got);
		strmap_put(&L->changed_since, ref, sl);
	}
	const struct string_list *sl = strmap_get(&L->changed_since, ref);
	if (!sl)
		return mload_error(L, cn->loc, "rules:changes:compare_to is not a valid ref");
	*files = sl;
	return 0;
}

int rules_clauses_match(struct mload *L, const struct ynode *rule, const struct expr *cond,
                        struct rscope *scope, bool *ret_match)
{
	*ret_match = false;
	if (cond) {
		struct expr_env env;
		rscope_env(scope, &env);
		if (!expr_eval(cond, &env))
			return 0;
	}
	const struct ynode *ch = ynode_get(rule, "changes");
	if (ch) {
		const struct string_list *files = L->ctx->changed_files;
		if (changes_compare_to(L, scope, ch, &files) < 0)
			return -1;
		if (files && !any_glob(scope, paths_of(ch), files, false))
			return 0;
	}
	const struct ynode *ex = ynode_get(rule, "exists");
	const char *proj = ynode_str(ynode_get(ex, "project"));
	/* exists:project names another project, whose files runnel cannot see offline (the
	 * lookup only when asked: this runs for every rule of every job) */
	const char *self = proj ? var_list_value(&L->ctx->vars, "CI_PROJECT_PATH") : NULL;
	if (proj && (!self || strcmp(rscope_expand(scope, proj), self)))
		return mload_error(L, ynode_get(ex, "project")->loc,
		                   "rules:exists:project '%s' cannot be checked offline: only the "
		                   "current project's files are known",
		                   proj);
	const struct string_list *files = ex ? mload_repo_files(L) : NULL;
	if (ex && !files)
		return -1;
	if (ex && !any_glob(scope, paths_of(ex), files, true))
		return 0;
	*ret_match = true;
	return 0;
}

/* ---- parsing ---------------------------------------------------------------------------- */

static const char *const job_rule_keys[] = {
    "if",        "changes", "exists",        "when", "start_in", "allow_failure",
    "variables", "needs",   "interruptible", NULL};
static const char *const wf_rule_keys[] = {"if",        "changes",     "exists", "when",
                                           "variables", "auto_cancel", NULL};

static int check_patterns(struct mload *L, const char *where, const char *key,
                          const struct ynode *n)
{
	const struct ynode *p = paths_of(n);
	bool ok = p && (mnode_is_str(p) || mnode_is_seq(p));
	for (size_t i = 0; ok && mnode_is_seq(p) && i < p->n; i++)
		ok = mnode_is_str(p->items[i]);
	if (!ok)
		return mload_error(L, n->loc, "%s:rule %s should be an array of strings or a hash",
		                   where, key);
	for (size_t i = 0; mnode_is_map(n) && i < n->n; i++) {
		const char *k = n->entries[i].key;
		bool chg = !strcmp(key, "changes");
		bool cmp = chg && !strcmp(k, "compare_to");
		bool ext = !chg && (!strcmp(k, "project") || !strcmp(k, "ref"));
		if (strcmp(k, "paths") && !cmp && !ext)
			return mload_error(L, n->entries[i].key_loc,
			                   "%s:rule:%s config contains unknown keys: %s", where,
			                   key, k);
		if (cmp && !mnode_is_str(n->entries[i].value))
			return mload_error(L, n->entries[i].value->loc,
			                   "%s:rule:changes compare to should be a string", where);
	}
	if (mnode_is_seq(p) && p->n > 50)
		return mload_error(L, n->loc, "%s:rule %s has too many entries (maximum 50)", where,
		                   key);
	return 0;
}

static int check_rule_when(struct mload *L, const char *where, const struct ynode *w,
                           bool job_level)
{
	static const char *const job_when[] = {"on_success", "on_failure", "always", "manual",
	                                       "delayed",    "never",      NULL};
	static const char *const wf_when[] = {"always", "never", NULL};
	const char *s = ynode_str(w);
	if (s && mname_in_set(job_level ? job_when : wf_when, s))
		return 0;
	return mload_error(L, w->loc, "%s:rule when unknown value: %s", where, s ? s : "");
}

/* Rules::Rule: start_in only with when: delayed, and then required, at most a week. */
static int check_rule_delay(struct mload *L, const char *where, const struct ynode *r)
{
	const struct ynode *si = ynode_get(r, "start_in");
	const char *w = ynode_str(ynode_get(r, "when"));
	bool delayed = w && strcmp(w, "delayed") == 0;
	if (si && !delayed)
		return mload_error(L, ynode_entry(r, "start_in")->key_loc,
		                   "%s:rule config contains disallowed keys: start_in", where);
	if (!delayed)
		return 0;
	if (!si || si->kind == YNODE_NULL)
		return mload_error(L, r->loc, "%s:rule start in can't be blank", where);
	long secs = mduration_parse(ynode_str(si));
	if (secs < 0)
		return mload_error(L, si->loc, "%s:rule start in should be a duration", where);
	if (secs > 7L * 24 * 3600)
		return mload_error(L, si->loc, "%s:rule start in should not exceed the limit",
		                   where);
	return 0;
}

static int check_rule_bools(struct mload *L, const char *where, const struct ynode *r)
{
	static const char *const keys[] = {"allow_failure", "interruptible"};
	static const char *const shown[] = {"allow failure", "interruptible"};
	for (size_t i = 0; i < 2; i++) {
		const struct ynode *v = ynode_get(r, keys[i]);
		if (v && v->kind != YNODE_BOOL && v->kind != YNODE_NULL)
			return mload_error(L, v->loc, "%s:rule %s should be a boolean value", where,
			                   shown[i]);
	}
	return 0;
}

static int parse_one_rule(struct mload *L, const char *where, const struct ynode *r, bool job_level,
                          struct mrule *out)
{
	out->node = r;
	if (!mnode_is_map(r))
		return mload_error(L, r->loc, "%s:rule config should be a hash", where);
	for (size_t i = 0; i < r->n; i++)
		if (!mname_in_set(job_level ? job_rule_keys : wf_rule_keys, r->entries[i].key))
			return mload_error(L, r->entries[i].key_loc,
			                   "%s:rule config contains unknown keys: %s", where,
			                   r->entries[i].key);
	const struct ynode *w = ynode_get(r, "when"), *c = ynode_get(r, "changes"),
	                   *e = ynode_get(r, "exists"), *cond = ynode_get(r, "if");
	if (w && check_rule_when(L, where, w, job_level) < 0)
		return -1;
	if ((c && check_patterns(L, where, "changes", c) < 0) ||
	    (e && check_patterns(L, where, "exists", e) < 0))
		return -1;
	if (check_rule_delay(L, where, r) < 0 || check_rule_bools(L, where, r) < 0)
		return -1;
	if (!cond)
		return 0;
	if (!mnode_is_str(cond))
		return mload_error(L, cond->loc, "%s:rule if should be a string", where);
	struct err er = ERR_INIT;
	out->cond = expr_parse(cond->str, cond->loc, &er);
	if (!out->cond) {
		err_wrap(&er, "%s:rule if", where);
		return mload_take_err(L, &er);
	}
	return 0;
}

/* Rules lists may nest (a !reference to another job's rules): flatten one level at a time. */
static void flatten_rules(const struct ynode *n, const struct ynode ***v, size_t *cnt,
                          size_t *alloc, int depth)
{
	for (size_t i = 0; i < n->n; i++) {
		const struct ynode *it = n->items[i];
		if (mnode_is_seq(it) && depth < 10) {
			flatten_rules(it, v, cnt, alloc, depth + 1);
			continue;
		}
		XGROW(*v, *alloc, *cnt + 1);
		(*v)[(*cnt)++] = it;
	}
}

int rules_parse(struct mload *L, const char *where, const struct ynode *rules, bool job_level,
                struct mrule **ret_rules, size_t *ret_n)
{
	*ret_rules = NULL;
	*ret_n = 0;
	if (!mnode_is_seq(rules))
		return mload_error(L, rules->loc, "%s config should be an array of hashes", where);
	/* Entry::Rules validates presence: `rules: []` is refused, not a job without rules */
	if (rules->n == 0 && (job_level || strcmp(where, "workflow:rules") == 0))
		return mload_error(L, rules->loc, "%s config can't be blank", where);
	_cleanup_free_ const struct ynode **items = NULL;
	size_t n = 0, alloc = 0;
	flatten_rules(rules, &items, &n, &alloc, 0);
	struct mrule *rv = xcalloc(n + 1, sizeof(*rv));
	int rc = 0;
	for (size_t i = 0; i < n; i++) {
		if (parse_one_rule(L, where, items[i], job_level, &rv[i]) < 0) {
			rc = -1;
			if (mload_stop(L))
				break;
		}
	}
	if (rc < 0) {
		rules_free(rv, n);
		return -1;
	}
	*ret_rules = rv;
	*ret_n = n;
	return 0;
}

void rules_free(struct mrule *rules, size_t n)
{
	for (size_t i = 0; rules && i < n; i++)
		expr_free(rules[i].cond);
	free(rules);
}

/* ---- workflow --------------------------------------------------------------------------- */

static void workflow_name(struct mload *L, const struct ynode *name, struct rscope *scope)
{
	if (!mnode_is_str(name))
		return;
	struct strbuf sb = STRBUF_INIT;
	strbuf_addstr(&sb, rscope_expand(scope, name->str));
	strbuf_rtrim(&sb);
	const char *s = sb.buf;
	while (*s == ' ' || *s == '\t' || *s == '\n')
		s++;
	L->p->name = arena_strdup(L->a, s);
	strbuf_release(&sb);
}

static int workflow_apply(struct mload *L, const struct mrule *r, int idx)
{
	const char *when = ynode_str(ynode_get(r->node, "when"));
	L->p->workflow_loc = r->node->loc;
	if (when && strcmp(when, "never") == 0) {
		L->p->created = false;
		L->p->workflow_reason =
		    arena_printf(L->a, "workflow:rules rule %d matched with when: never", idx + 1);
		return 0;
	}
	L->p->created = true;
	L->p->workflow_reason = arena_printf(L->a, "workflow:rules rule %d matched", idx + 1);
	const char *where = "workflow:rules:rule";
	return job_variables_parse(L, where, ynode_get(r->node, "variables"), false,
	                           &L->global_vars);
}

int rules_workflow(struct mload *L, const struct ynode *wf)
{
	L->p->created = true;
	if (!wf || wf->kind == YNODE_NULL)
		return 0;
	if (!mnode_is_map(wf))
		return mload_error(L, wf->loc, "workflow config should be a hash");
	for (size_t i = 0; i < wf->n; i++)
		if (strcmp(wf->entries[i].key, "rules") && strcmp(wf->entries[i].key, "name") &&
		    strcmp(wf->entries[i].key, "auto_cancel"))
			return mload_error(L, wf->entries[i].key_loc,
			                   "workflow config contains unknown keys: %s",
			                   wf->entries[i].key);
	const struct ynode *rn = ynode_get(wf, "rules");
	struct mrule *rv = NULL;
	size_t n = 0;
	if (rn && rules_parse(L, "workflow:rules", rn, false, &rv, &n) < 0)
		return -1;
	L->has_workflow_rules = rn != NULL;
	struct rscope scope = {
	    .layers = {&L->pre_vars, &L->global_vars, &L->pipe_vars}, .n_layers = 3, .a = L->a};
	int rc = 0;
	if (rn) {
		L->p->created = false;
		L->p->workflow_loc = rn->loc;
		L->p->workflow_reason = "no workflow:rules rule matched";
		for (size_t i = 0; i < n; i++) {
			bool m;
			if ((rc = rules_clauses_match(L, rv[i].node, rv[i].cond, &scope, &m)) < 0)
				break;
			if (m) {
				rc = workflow_apply(L, &rv[i], (int)i);
				break;
			}
		}
	}
	rules_free(rv, n);
	struct rscope ns = {
	    .layers = {&L->pre_vars, &L->global_vars, &L->pipe_vars}, .n_layers = 3, .a = L->a};
	workflow_name(L, ynode_get(wf, "name"), &ns);
	return rc;
}

/* ---- only / except ---------------------------------------------------------------------- */

static int parse_policy_vars(struct mload *L, const char *where, const struct ynode *pol,
                             struct expr ***ret, size_t *ret_n)
{
	const struct ynode *v = ynode_get(pol, "variables");
	if (!v)
		return 0;
	if (!mnode_is_seq(v))
		return mload_error(L, v->loc, "%s variables should be an array of strings", where);
	*ret = xcalloc(v->n + 1, sizeof(**ret));
	for (size_t i = 0; i < v->n; i++) {
		if (!mnode_is_str(v->items[i]))
			return mload_error(L, v->items[i]->loc,
			                   "%s variables should be an array of strings", where);
		struct err e = ERR_INIT;
		(*ret)[i] = expr_parse(v->items[i]->str, v->items[i]->loc, &e);
		if (!(*ret)[i]) {
			err_wrap(&e, "%s variables", where);
			return mload_take_err(L, &e);
		}
		(*ret_n)++;
	}
	return 0;
}

static bool all_str_items(const struct ynode *seq)
{
	for (size_t i = 0; i < seq->n; i++)
		if (seq->items[i]->kind != YNODE_STRING)
			return false;
	return true;
}

/* Entry::Policy: an Array of refs (RefsPolicy) or a Hash (ComplexPolicy); anything else,
 * a plain string included, is GitLab's UnknownStrategy. */
static int check_policy(struct mload *L, const char *where, const struct ynode *pol)
{
	if (mnode_is_seq(pol)) {
		if (!all_str_items(pol))
			return mload_error(L, pol->loc,
			                   "%s config should be an array of strings or "
			                   "regular expressions",
			                   where);
		return 0;
	}
	if (!mnode_is_map(pol))
		return mload_error(L, pol->loc,
		                   "%s has to be either an array of conditions or a hash", where);
	if (pol->n == 0)
		return mload_error(L, pol->loc, "%s config can't be blank", where);
	for (size_t i = 0; i < pol->n; i++)
		if (!mname_in_set(
		        (const char *const[]){"refs", "variables", "changes", "kubernetes", NULL},
		        pol->entries[i].key))
			return mload_error(L, pol->entries[i].key_loc,
			                   "%s config contains unknown keys: %s", where,
			                   pol->entries[i].key);
	const struct ynode *refs = ynode_get(pol, "refs"), *ch = ynode_get(pol, "changes"),
	                   *k8s = ynode_get(pol, "kubernetes");
	if (refs && (!mnode_is_seq(refs) || !all_str_items(refs)))
		return mload_error(L, refs->loc,
		                   "%s refs should be an array of strings or regular "
		                   "expressions",
		                   where);
	if (ch && (!mnode_is_seq(ch) || !all_str_items(ch)))
		return mload_error(L, ch->loc, "%s changes should be an array of strings", where);
	if (k8s && (k8s->kind != YNODE_STRING || strcmp(k8s->str, "active") != 0))
		return mload_error(L, k8s->loc, "%s kubernetes unknown value: %s", where,
		                   ynode_str(k8s) ? ynode_str(k8s) : "");
	return 0;
}

int rules_parse_policy(struct mload *L, struct job_group *g)
{
	/* null only:/except: are unset (and allowed next to rules:, GitLab's ignore_nil) */
	const struct ymap_entry *only = ynode_entry(g->node, "only");
	const struct ymap_entry *except = ynode_entry(g->node, "except");
	if (only && (!only->value || only->value->kind == YNODE_NULL))
		only = NULL;
	if (except && (!except->value || except->value->kind == YNODE_NULL))
		except = NULL;
	g->only = only ? only->value : NULL;
	g->except = except ? except->value : NULL;
	if (g->has_rules && (only || except))
		return mload_error(L, (only ? only : except)->key_loc,
		                   "jobs:%s config key may not be used with `rules`: %s", g->name,
		                   only && except ? "only, except"
		                   : only         ? "only"
		                                  : "except");
	/* the locations are formatted only for jobs that use the keywords */
	const char *ow = g->only ? arena_printf(L->a, "jobs:%s:only", g->name) : NULL;
	const char *ew = g->except ? arena_printf(L->a, "jobs:%s:except", g->name) : NULL;
	if (g->only && (check_policy(L, ow, g->only) < 0 ||
	                parse_policy_vars(L, ow, g->only, &g->only_vars, &g->n_only_vars) < 0))
		return -1;
	if (g->except &&
	    (check_policy(L, ew, g->except) < 0 ||
	     parse_policy_vars(L, ew, g->except, &g->except_vars, &g->n_except_vars) < 0))
		return -1;
	return 0;
}

static const char *ctx_var(struct mload *L, const char *name)
{
	const struct var *v = layer_find(&L->pipe_vars, name);
	if (!v)
		v = layer_find(&L->pre_vars, name);
	return v ? v->value : NULL;
}

static bool regex_ref_match(const char *pat, const char *ref)
{
	size_t len = strlen(pat);
	const char *end = strrchr(pat, '/');
	if (len < 2 || !end || end == pat)
		return false;
	uint32_t flags = strchr(end, 'i') ? PCRE2_CASELESS : 0;
	int ec;
	PCRE2_SIZE eo;
	pcre2_code *re =
	    pcre2_compile((PCRE2_SPTR)(pat + 1), (size_t)(end - pat - 1), flags, &ec, &eo, NULL);
	if (!re)
		return false;
	pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
	int r = pcre2_match(re, (PCRE2_SPTR)ref, strlen(ref), 0, 0, md, NULL);
	pcre2_match_data_free(md);
	pcre2_code_free(re);
	return r >= 0;
}

/* Source keywords: singular or plural of CI_PIPELINE_SOURCE, with or without `_event`. */
static bool source_match(const char *pat, const char *source)
{
	size_t n = strlen(pat);
	_cleanup_free_ char *sing = xstrdup(pat);
	if (n > 2 && strcmp(pat + n - 2, "es") == 0 && strcmp(pat, "pushes") == 0)
		sing[n - 2] = '\0';
	else if (n > 1 && pat[n - 1] == 's')
		sing[n - 1] = '\0';
	_cleanup_free_ char *ev = xasprintf("%s_event", sing);
	return strcmp(source, pat) == 0 || strcmp(source, sing) == 0 || strcmp(source, ev) == 0;
}

static bool ref_pattern_match(struct mload *L, const char *pat)
{
	const char *tag = ctx_var(L, "CI_COMMIT_TAG");
	const char *source = ctx_var(L, "CI_PIPELINE_SOURCE");
	const char *ref = ctx_var(L, "CI_COMMIT_REF_NAME");
	bool is_tag = tag && *tag;
	bool is_mr = source && (strcmp(source, "merge_request_event") == 0 ||
	                        strcmp(source, "external_pull_request_event") == 0);
	_cleanup_free_ char *p = xstrdup(pat);
	/* GitLab splits every entry at its first `@`, regexes too (a regex that needs `@` writes
	 * `\x40`): the path after it is compared literally with the project's full path. */
	char *at = strchr(p, '@');
	if (at) {
		const char *proj = ctx_var(L, "CI_PROJECT_PATH");
		if (proj && strcmp(proj, at + 1) != 0)
			return false;
		*at = '\0';
	}
	if (!source || !*source)
		source = "push";
	if (strcmp(p, "branches") == 0)
		return !is_tag && !is_mr;
	if (strcmp(p, "tags") == 0)
		return is_tag;
	if (source_match(p, source))
		return true;
	if (!ref)
		ref = is_tag ? tag : "";
	if (p[0] == '/')
		return regex_ref_match(p, ref);
	return strcmp(p, ref) == 0;
}

/* The first pattern of refs that matches this pipeline, or NULL. */
static const struct ynode *refs_match(struct mload *L, const struct ynode *refs)
{
	size_t n = mnode_is_seq(refs) ? refs->n : 1;
	for (size_t i = 0; i < n; i++) {
		const struct ynode *it = mnode_is_seq(refs) ? refs->items[i] : refs;
		const char *p = ynode_str(it);
		if (p && ref_pattern_match(L, p))
			return it;
	}
	return NULL;
}

/* What decided an only/except part, for explain: the pattern or expression that matched. */
struct policy_why {
	const struct ynode *ref_hit; /* refs pattern that matched */
	const struct ynode *var_hit; /* variables expression that was true */
};

/* Policy parts that hold: bit 0 refs, 1 variables, 2 changes, 3 kubernetes; `given` the same
 * bits for the parts present. */
static unsigned policy_eval(struct mload *L, const struct ynode *pol, struct expr **vars,
                            size_t n_vars, struct rscope *scope, unsigned *given,
                            struct policy_why *why)
{
	const struct ynode *refs = mnode_is_map(pol) ? ynode_get(pol, "refs") : pol;
	unsigned hold = 0;
	*given = 0;
	*why = (struct policy_why){0};
	if (refs) {
		*given |= 1;
		why->ref_hit = refs_match(L, refs);
		hold |= why->ref_hit ? 1 : 0;
	}
	if (n_vars) {
		*given |= 2;
		struct expr_env env;
		rscope_env(scope, &env);
		const struct ynode *vn = ynode_get(pol, "variables");
		for (size_t i = 0; i < n_vars && !(hold & 2); i++)
			if (expr_eval(vars[i], &env)) {
				hold |= 2;
				why->var_hit = mnode_is_seq(vn) && i < vn->n ? vn->items[i] : NULL;
			}
	}
	const struct ynode *ch = mnode_is_map(pol) ? ynode_get(pol, "changes") : NULL;
	if (ch) {
		*given |= 4;
		if (!L->ctx->changed_files ||
		    any_glob(scope, paths_of(ch), L->ctx->changed_files, false))
			hold |= 4;
	}
	if (mnode_is_map(pol) && ynode_get(pol, "kubernetes"))
		*given |= 8; /* kubernetes: active never holds locally */
	return hold;
}

static const char *const part_names[] = {"refs", "variables", "changes", "kubernetes"};

static int first_bit(unsigned bits)
{
	for (int i = 0; i < 4; i++)
		if (bits & (1u << i))
			return i;
	return 0;
}

/* "branch 'dev'", "tag 'v1'" or "merge_request_event pipeline for 'feature'": what refs
 * patterns are matched against. */
static const char *ref_shown(struct mload *L)
{
	const char *tag = ctx_var(L, "CI_COMMIT_TAG");
	const char *source = ctx_var(L, "CI_PIPELINE_SOURCE");
	const char *ref = ctx_var(L, "CI_COMMIT_REF_NAME");
	if (!source || !*source)
		source = "push";
	if (tag && *tag)
		return arena_printf(L->a, "tag '%s' (source %s)", tag, source);
	return arena_printf(L->a, "branch '%s' (source %s)", ref ? ref : "", source);
}

/* Why only/except decided: the part named, where it is and, for refs, the pipeline's ref. */
static void policy_reason(struct mload *L, struct job_decision *d, const char *kw,
                          const struct ynode *pol, int part, bool matched,
                          const struct policy_why *why)
{
	const struct ynode *at = mnode_is_map(pol) ? ynode_get(pol, part_names[part]) : pol;
	if (!at)
		at = pol;
	if (matched && part == 0 && why->ref_hit)
		at = why->ref_hit;
	if (matched && part == 1 && why->var_hit)
		at = why->var_hit;
	d->rule_loc = at->loc;
	if (part == 0)
		d->reason = arena_printf(L->a, "%s:refs %s %s", kw,
		                         matched ? "matched" : "did not match", ref_shown(L));
	else if (part == 1 && matched && why->var_hit)
		d->reason = arena_printf(L->a, "%s:variables matched: %s is true", kw,
		                         ynode_str(why->var_hit));
	else if (part == 1)
		d->reason =
		    arena_printf(L->a, "%s:variables %s", kw,
		                 matched ? "matched" : "did not match: no expression is true");
	else
		d->reason = arena_printf(L->a, "%s:%s %s", kw, part_names[part],
		                         matched ? "matched" : "did not match");
}

static void decide_policy(struct mload *L, const struct job_group *g, struct job *j,
                          struct rscope *scope)
{
	struct job_decision *d = &j->decision;
	d->included = true;
	d->rule_index = -1;
	d->reason = "included (no rules)";
	unsigned given = 0, hold;
	struct policy_why why;
	if (g->only) {
		hold = policy_eval(L, g->only, g->only_vars, g->n_only_vars, scope, &given, &why);
		if ((hold & given) != given) {
			d->included = false;
			policy_reason(L, d, "only", g->only, first_bit(given & ~hold), false, &why);
			return;
		}
		d->reason = "only: matched";
		d->rule_loc = g->only->loc;
	} else if (!L->has_workflow_rules) {
		if (!ref_pattern_match(L, "branches") && !ref_pattern_match(L, "tags")) {
			d->included = false;
			d->reason = "implicit only: [branches, tags] did not match";
			return;
		}
	}
	if (g->except) {
		hold = policy_eval(L, g->except, g->except_vars, g->n_except_vars, scope, &given,
		                   &why);
		if (hold & given) {
			d->included = false;
			policy_reason(L, d, "except", g->except, first_bit(hold & given), true,
			              &why);
		}
	}
}

/* ---- job rules ---------------------------------------------------------------------------- */

static int apply_rule(struct mload *L, const struct job_group *g, struct job *j,
                      const struct mrule *r)
{
	const struct ynode *n = r->node, *v;
	const char *when = ynode_str(ynode_get(n, "when"));
	if (when) {
		enum job_when w = WHEN_ON_SUCCESS;
		static const char *const names[] = {"on_success", "on_failure", "always",
		                                    "manual",     "delayed",    "never"};
		for (int i = 0; i < 6; i++)
			if (strcmp(when, names[i]) == 0)
				w = (enum job_when)i;
		j->when = w;
		j->manual = w == WHEN_MANUAL;
		/* A rule's when: manual blocks by default, unlike the job-level keyword. */
		if (j->manual && !mnode_get_defined(g->node, "allow_failure")) {
			j->allow_failure = false;
			j->allow_failure_exit_codes = NULL;
			j->n_allow_failure_exit_codes = 0;
		}
	}
	if ((v = ynode_get(n, "allow_failure")) && v->kind == YNODE_BOOL) {
		j->allow_failure = v->v.b;
		j->allow_failure_exit_codes = NULL;
		j->n_allow_failure_exit_codes = 0;
	}
	if ((v = ynode_get(n, "interruptible")) && v->kind == YNODE_BOOL)
		j->interruptible = v->v.b;
	if ((v = ynode_get(n, "start_in"))) {
		j->start_in = ynode_str(v);
		j->start_in_seconds = mduration_parse(j->start_in);
	}
	if ((v = ynode_get(n, "variables"))) {
		struct var_list rv = {0};
		const char *where = arena_printf(L->a, "jobs:%s:rules:rule", g->name);
		if (job_variables_parse(L, where, v, false, &rv) < 0)
			return -1;
		struct var_list nv = {0};
		var_list_merge(L->a, &nv, &j->variables);
		var_list_merge(L->a, &nv, &rv);
		j->variables = nv;
	}
	if ((v = ynode_get(n, "needs"))) {
		j->has_needs = true;
		if (job_needs_parse(L, g, v, true, &j->needs, &j->n_needs) < 0)
			return -1;
	}
	return 0;
}

static int decide_rules(struct mload *L, const struct job_group *g, struct job *j,
                        struct rscope *scope)
{
	struct job_decision *d = &j->decision;
	d->rule_index = -1;
	d->rule_loc = g->rules_node->loc;
	for (size_t i = 0; i < g->n_rules; i++) {
		bool m;
		if (rules_clauses_match(L, g->rules[i].node, g->rules[i].cond, scope, &m) < 0)
			return -1;
		if (!m)
			continue;
		d->rule_index = (int)i;
		d->rule_loc = g->rules[i].node->loc;
		const char *when = ynode_str(ynode_get(g->rules[i].node, "when"));
		if (when && strcmp(when, "never") == 0) {
			d->included = false;
			d->reason = arena_printf(L->a, "rule %zu matched with when: never", i + 1);
			return 0;
		}
		d->included = true;
		d->reason = arena_printf(L->a, "rule %zu matched", i + 1);
		return apply_rule(L, g, j, &g->rules[i]);
	}
	d->included = false;
	d->reason = "no rule matched";
	return 0;
}

int rules_decide_job(struct mload *L, const struct job_group *g, struct job *j)
{
	struct rscope scope = {.layers = {&L->pre_vars, &j->variables, &L->pipe_vars},
	                       .n_layers = 3,
	                       .a = L->a,
	                       .read = &j->decision.read_vars};
	memset(&j->decision, 0, sizeof(j->decision));
	if (!L->p->created) {
		j->decision.rule_index = -1;
		j->decision.rule_loc = L->p->workflow_loc;
		j->decision.reason =
		    arena_printf(L->a, "no pipeline is created: %s",
		                 L->p->workflow_reason ? L->p->workflow_reason : "workflow:rules");
		return 0;
	}
	if (g->has_rules)
		return decide_rules(L, g, j, &scope);
	decide_policy(L, g, j, &scope);
	return 0;
}
