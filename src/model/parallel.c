/* parallel: `parallel: N` and `parallel: matrix` expansion, then needs:/dependencies:
 * resolution to instance names. Lookups go through L->group_index and each parallel group's
 * inst_index so large pipelines stay linear. */
#include "model/parallel.h"

#include <stdlib.h>
#include <string.h>

#include "model/vars.h"
#include "util/arena.h"
#include "util/cleanup.h"
#include "util/strbuf.h"
#include "util/xalloc.h"
#include "yaml/node.h"

#define PARALLEL_LIMIT 200
#define NEEDS_LIMIT 50

/* ---- matrix enumeration ------------------------------------------------------------------ */

/* Called for each combination: keys/values in key order, n of them. */
typedef int (*matrix_fn)(void *data, const char *const *keys, const char *const *vals, size_t n);

static size_t value_count(const struct ynode *v)
{
	return mnode_is_seq(v) ? v->n : 1;
}

static const char *value_at(const struct ynode *v, size_t i)
{
	return ynode_str(mnode_is_seq(v) ? v->items[i] : v);
}

/* Cartesian product of one matrix entry in key order (the last key varies fastest, as Ruby's
 * Array#product). */
static int matrix_entry(const struct ynode *e, matrix_fn fn, void *data)
{
	size_t n = e->n;
	_cleanup_free_ size_t *idx = xcalloc(n + 1, sizeof(*idx));
	_cleanup_free_ const char **keys = xcalloc(n + 1, sizeof(*keys));
	_cleanup_free_ const char **vals = xcalloc(n + 1, sizeof(*vals));
	for (size_t k = 0; k < n; k++) {
		keys[k] = e->entries[k].key;
		if (value_count(e->entries[k].value) == 0)
			return 0;
	}
	for (;;) {
		for (size_t k = 0; k < n; k++)
			vals[k] = value_at(e->entries[k].value, idx[k]);
		if (fn(data, keys, vals, n) < 0)
			return -1;
		size_t k = n;
		while (k > 0) {
			k--;
			if (++idx[k] < value_count(e->entries[k].value))
				break;
			idx[k] = 0;
			if (k == 0)
				return 0;
		}
		if (n == 0)
			return 0;
	}
}

static int matrix_each(const struct ynode *matrix, matrix_fn fn, void *data)
{
	for (size_t i = 0; i < matrix->n; i++)
		if (matrix_entry(matrix->items[i], fn, data) < 0)
			return -1;
	return 0;
}

static const char *matrix_name(struct arena *a, const char *group, const char *const *vals,
                               size_t n)
{
	struct strbuf sb = STRBUF_INIT;
	strbuf_addf(&sb, "%s: [", group);
	for (size_t k = 0; k < n; k++)
		strbuf_addf(&sb, "%s%s", k ? ", " : "", vals[k]);
	strbuf_addch(&sb, ']');
	const char *r = arena_strdup(a, sb.buf);
	strbuf_release(&sb);
	return r;
}

static int count_fn(void *data, const char *const *keys, const char *const *vals, size_t n)
{
	(void)keys;
	(void)vals;
	(void)n;
	(*(size_t *)data)++;
	return 0;
}

/* GitLab's validate_array_value_variables: strings and integers only. A float would change
 * on the way (3.10 is the Float 3.1) and true/false are booleans, so GitLab refuses them. */
static bool matrix_value(const struct ynode *v)
{
	return v && (v->kind == YNODE_STRING || v->kind == YNODE_INT);
}

/* Validates a matrix: an array of hashes whose values are scalars or arrays of scalars. */
static int matrix_check(struct mload *L, const char *where, const struct ynode *m)
{
	if (!mnode_is_seq(m) || m->n == 0)
		return mload_error(L, m ? m->loc : (struct srcloc){0},
		                   "%s:matrix config should be an array of hashes", where);
	for (size_t i = 0; i < m->n; i++) {
		const struct ynode *e = m->items[i];
		if (!mnode_is_map(e) || e->n == 0)
			return mload_error(L, e->loc,
			                   "%s:matrix config should be an array of hashes", where);
		for (size_t k = 0; k < e->n; k++) {
			const struct ynode *v = e->entries[k].value, *bad = NULL;
			if (!matrix_value(v) && !(mnode_is_seq(v) && v->n > 0))
				bad = v;
			for (size_t x = 0; !bad && mnode_is_seq(v) && x < v->n; x++)
				if (!matrix_value(v->items[x]))
					bad = v->items[x];
			if (!bad)
				continue;
			if (bad == v || !bad ||
			    (bad->kind != YNODE_FLOAT && bad->kind != YNODE_BOOL))
				return mload_error(
				    L, v ? v->loc : e->loc,
				    "%s:matrix config variables should be strings or "
				    "arrays of strings",
				    where);
			/* the classic: PY: [3.8, 3.10] */
			return mload_error(
			    L, bad->loc,
			    "%s:matrix config variables should be strings or arrays of "
			    "strings: this value is a %s in YAML (\"%s\"); quote it",
			    where, bad->kind == YNODE_FLOAT ? "float" : "boolean", bad->str);
		}
	}
	return 0;
}

int parallel_parse(struct mload *L, struct job_group *g)
{
	const struct ynode *p = mnode_get_defined(g->node, "parallel");
	if (!p)
		return 0;
	const char *where = arena_printf(L->a, "jobs:%s:parallel", g->name);
	if (p->kind == YNODE_INT) {
		if (p->v.i < 1 || p->v.i > PARALLEL_LIMIT)
			return mload_error(L, p->loc, "%s config must be %s than or equal to %d",
			                   where, p->v.i < 1 ? "greater" : "less",
			                   p->v.i < 1 ? 1 : PARALLEL_LIMIT);
		g->par_count = (int)p->v.i;
		return 0;
	}
	const struct ynode *m = ynode_get(p, "matrix");
	if (!mnode_is_map(p) || !m)
		return mload_error(L, p->loc, "%s should be an integer or a hash", where);
	if (matrix_check(L, where, m) < 0)
		return -1;
	size_t total = 0;
	matrix_each(m, count_fn, &total);
	if (total > PARALLEL_LIMIT)
		return mload_error(L, m->loc,
		                   "%s:matrix config generates too many jobs (maximum is %d)",
		                   where, PARALLEL_LIMIT);
	g->matrix = m;
	return 0;
}

/* ---- expansion ---------------------------------------------------------------------------- */

struct expand_ctx {
	struct mload *L;
	struct job_group *g;
	size_t total;
	int rc;
};

static int add_instance(void *data, const char *const *keys, const char *const *vals, size_t n)
{
	struct expand_ctx *x = data;
	struct job_group *g = x->g;
	struct job *j = &g->inst[g->n_inst];
	*j = g->proto;
	j->name = matrix_name(x->L->a, g->name, vals, n);
	j->node_index = (int)++g->n_inst;
	j->node_total = (int)x->total;
	memset(&j->variables, 0, sizeof(j->variables));
	var_list_merge(x->L->a, &j->variables, &g->proto.variables);
	for (size_t k = 0; k < n; k++)
		var_list_set_kv(x->L->a, &j->variables, keys[k], vals[k]);
	if (strmap_put(&g->inst_index, j->name, j))
		x->rc = mload_error(x->L, g->matrix->loc,
		                    "jobs:%s:parallel:matrix config has duplicate entries: %s",
		                    g->name, j->name);
	return 0;
}

int parallel_expand(struct mload *L, struct job_group *g)
{
	strmap_init(&g->inst_index);
	if (!g->par_count && !g->matrix) {
		g->inst = arena_alloc(L->a, sizeof(*g->inst));
		g->inst[0] = g->proto;
		g->n_inst = 1;
		return 0;
	}
	g->parallel = true;
	if (g->par_count) {
		g->inst = arena_alloc(L->a, sizeof(*g->inst) * (size_t)g->par_count);
		for (int i = 0; i < g->par_count; i++) {
			struct job *j = &g->inst[i];
			*j = g->proto;
			j->name = arena_printf(L->a, "%s %d/%d", g->name, i + 1, g->par_count);
			j->node_index = i + 1;
			j->node_total = g->par_count;
			strmap_put(&g->inst_index, j->name, j);
		}
		g->n_inst = (size_t)g->par_count;
		return 0;
	}
	struct expand_ctx x = {.L = L, .g = g};
	matrix_each(g->matrix, count_fn, &x.total);
	g->inst = arena_alloc(L->a, sizeof(*g->inst) * (x.total + 1));
	matrix_each(g->matrix, add_instance, &x);
	return x.rc;
}

/* ---- needs -------------------------------------------------------------------------------- */

struct need_acc {
	struct mload *L;
	struct job_need *v;
	size_t n, alloc;
	struct strmap seen;
	const struct job_group *g;
	const struct job_group *target;
	struct job_need tmpl;
	int rc;
};

static int push_need(struct need_acc *na, const char *name)
{
	if (strmap_has(&na->seen, name))
		return na->rc = mload_error(na->L, na->tmpl.loc,
		                            "%s has duplicate entries in the needs section.",
		                            na->g->name);
	strmap_put(&na->seen, name, NULL);
	XGROW(na->v, na->alloc, na->n + 1);
	na->v[na->n] = na->tmpl;
	na->v[na->n].job = name;
	na->n++;
	return 0;
}

static int need_matrix_fn(void *data, const char *const *keys, const char *const *vals, size_t n)
{
	struct need_acc *na = data;
	(void)keys;
	const char *name = matrix_name(na->L->a, na->target->name, vals, n);
	if (!strmap_has(&na->target->inst_index, name))
		return na->rc = mload_error(na->L, na->tmpl.loc, "%s job: undefined need: %s",
		                            na->g->name, name);
	return push_need(na, name);
}

/* Adds every instance of target (or the needs:parallel:matrix subset). */
static int need_target(struct need_acc *na, const struct ynode *entry)
{
	const struct job_group *t = na->target;
	const struct ynode *m = ynode_get(ynode_get(entry, "parallel"), "matrix");
	if (m) {
		const char *where =
		    arena_printf(na->L->a, "jobs:%s:needs:need:parallel", na->g->name);
		if (matrix_check(na->L, where, m) < 0)
			return -1;
		matrix_each(m, need_matrix_fn, na);
		return na->rc;
	}
	for (size_t i = 0; i < t->n_inst; i++)
		if (push_need(na, t->inst[i].name) < 0)
			return -1;
	return 0;
}

static int need_entry(struct need_acc *na, const struct ynode *e, bool validate)
{
	struct mload *L = na->L;
	const struct ynode *jn = mnode_is_map(e) ? ynode_get(e, "job") : e;
	if (!e || e->kind == YNODE_NULL)
		return 0; /* GitLab ignores unspecified (null) entries, e.g. from an empty anchor */
	na->tmpl = (struct job_need){.artifacts = true, .loc = e->loc};
	if (mnode_is_map(e) && (ynode_get(e, "project") || ynode_get(e, "pipeline")))
		return 0; /* cross-project/pipeline needs: nothing to wait for locally */
	/* Need entry strategies: a String, or a Hash with a String job: (Psych types) */
	if (!jn || (!mnode_is_map(e) && jn->kind != YNODE_STRING))
		return mload_error(L, e->loc, "jobs:%s:needs:need has an unsupported type",
		                   na->g->name);
	if (jn->kind != YNODE_STRING)
		return mload_error(L, jn->loc, "jobs:%s:needs:need job should be a String",
		                   na->g->name);
	const struct ynode *art = ynode_get(e, "artifacts"), *opt = ynode_get(e, "optional");
	na->tmpl.artifacts = !(art && art->kind == YNODE_BOOL && !art->v.b);
	na->tmpl.optional = opt && opt->kind == YNODE_BOOL && opt->v.b;
	na->target = strmap_get(&L->group_index, jn->str);
	if (!na->target && (na->target = strmap_get(&L->inst_group, jn->str))) {
		if (validate && na->target->proto.stage_index > na->g->proto.stage_index)
			return mload_error(
			    L, jn->loc, "%s job: need %s is not defined in current or prior stages",
			    na->g->name, jn->str);
		const struct job *inst = strmap_get(&na->target->inst_index, jn->str);
		return push_need(na, inst->name);
	}
	if (!na->target) {
		if (na->tmpl.optional || !validate)
			return 0;
		return mload_error(L, jn->loc, "%s job: undefined need: %s", na->g->name, jn->str);
	}
	if (validate && na->target->proto.stage_index > na->g->proto.stage_index)
		return mload_error(L, jn->loc,
		                   "%s job: need %s is not defined in current or prior stages",
		                   na->g->name, jn->str);
	return need_target(na, e);
}

/* needs: lists may nest (an alias of a list inside the list): GitLab flattens them. */
static void flatten_needs(const struct ynode *n, const struct ynode ***v, size_t *cnt,
                          size_t *alloc, int depth)
{
	for (size_t i = 0; i < n->n; i++) {
		const struct ynode *it = n->items[i];
		if (mnode_is_seq(it) && depth < 64) {
			flatten_needs(it, v, cnt, alloc, depth + 1);
			continue;
		}
		XGROW(*v, *alloc, *cnt + 1);
		(*v)[(*cnt)++] = it;
	}
}

int job_needs_parse(struct mload *L, const struct job_group *g, const struct ynode *needs,
                    bool validate, struct job_need **ret_needs, size_t *ret_n)
{
	struct need_acc na = {.L = L, .g = g};
	int rc = 0;
	*ret_needs = NULL;
	*ret_n = 0;
	if (!needs || needs->kind == YNODE_NULL)
		return 0;
	/* GitLab's Needs entry: a Hash (one need) or an Array; a bare string is rejected */
	if (!mnode_is_seq(needs) && !mnode_is_map(needs))
		return mload_error(L, needs->loc,
		                   "jobs:%s:needs config can only be a Hash or an "
		                   "Array",
		                   g->name);
	if (mnode_is_map(needs) && needs->n == 0)
		return mload_error(L, needs->loc, "jobs:%s:needs config can not be an empty Hash",
		                   g->name);
	_cleanup_free_ const struct ynode **items = NULL;
	size_t n = 0, alloc = 0;
	if (mnode_is_seq(needs)) {
		flatten_needs(needs, &items, &n, &alloc, 0);
	} else {
		XGROW(items, alloc, 1);
		items[n++] = needs;
	}
	if (n > NEEDS_LIMIT)
		return mload_error(L, needs->loc,
		                   "jobs:%s:needs config has too many entries (maximum %d)",
		                   g->name, NEEDS_LIMIT);
	strmap_init(&na.seen);
	for (size_t i = 0; i < n; i++) {
		if (need_entry(&na, items[i], validate) < 0) {
			rc = -1;
			if (mload_stop(L))
				break;
		}
	}
	strmap_release(&na.seen);
	if (rc == 0 && na.n) {
		*ret_needs = arena_alloc(L->a, sizeof(**ret_needs) * na.n);
		memcpy(*ret_needs, na.v, sizeof(**ret_needs) * na.n);
		*ret_n = na.n;
	}
	free(na.v);
	return rc;
}

/* ---- dependencies ------------------------------------------------------------------------ */

static bool in_needs(const struct job *j, const struct job_group *t);

/* Whether j needs the dependency `dep`: an instance name, or a group (any of its instances). */
static bool dep_in_needs(const struct job *j, const char *dep, const struct job_group *t)
{
	for (size_t i = 0; i < j->n_needs; i++)
		if (strcmp(j->needs[i].job, dep) == 0)
			return true;
	return t && !strmap_has(&t->inst_index, dep) && in_needs(j, t);
}

static bool in_needs(const struct job *j, const struct job_group *t)
{
	for (size_t i = 0; i < j->n_needs; i++)
		for (size_t k = 0; k < t->n_inst; k++)
			if (strcmp(j->needs[i].job, t->inst[k].name) == 0)
				return true;
	return false;
}

/* GitLab (Job entry, on: :composed): when needs lists jobs, every dependency must be one of
 * them; all missing names go in one message. `needs: []` lists none, so nothing is checked. */
static int deps_in_needs(struct mload *L, const struct job_group *g, const struct job *j)
{
	const struct string_list *deps = &g->proto.dependencies;
	if (!j->n_needs || !deps->n)
		return 0;
	struct strbuf missing = STRBUF_INIT;
	for (size_t i = 0; i < deps->n; i++) {
		const struct job_group *t = strmap_get(&L->group_index, deps->v[i]);
		if (!t)
			t = strmap_get(&L->inst_group, deps->v[i]);
		if (!t || !dep_in_needs(j, deps->v[i], t))
			strbuf_addf(&missing, "%s%s", missing.len ? ", " : "", deps->v[i]);
	}
	int rc = 0;
	if (missing.len) {
		const struct ynode *dn = ynode_get(g->node, "dependencies");
		rc = mload_error(L, dn ? dn->loc : g->loc,
		                 "jobs:%s dependencies the %s should be part of needs", g->name,
		                 missing.buf);
	}
	strbuf_release(&missing);
	return rc;
}

/* Each dependency names a job (all its instances) in the current or an earlier stage. */
static int resolve_deps(struct mload *L, const struct job_group *g, const struct job *j,
                        struct string_list *out)
{
	const struct string_list *deps = &g->proto.dependencies;
	const struct ynode *dn = ynode_get(g->node, "dependencies");
	if (deps_in_needs(L, g, j) < 0)
		return -1;
	for (size_t i = 0; i < deps->n; i++) {
		const struct job_group *t = strmap_get(&L->group_index, deps->v[i]);
		struct srcloc loc = mnode_is_seq(dn) && i < dn->n ? dn->items[i]->loc : g->loc;
		const struct job_group *it = t ? NULL : strmap_get(&L->inst_group, deps->v[i]);
		if (it && it->proto.stage_index <= g->proto.stage_index) {
			/* one instance of a parallel job, by its full name */
			mstring_list_push(L->a, out, deps->v[i]);
			continue;
		}
		t = t ? t : it;
		if (!t)
			return mload_error(L, loc, "%s job: undefined dependency: %s", g->name,
			                   deps->v[i]);
		if (t->proto.stage_index > g->proto.stage_index)
			return mload_error(
			    L, loc,
			    "%s job: dependency %s is not defined in current or prior "
			    "stages",
			    g->name, deps->v[i]);
		for (size_t k = 0; k < t->n_inst; k++)
			mstring_list_push(L->a, out, t->inst[k].name);
	}
	return 0;
}

/* ---- matrix expressions: $[[ matrix.NAME ]] in needs:parallel:matrix --------------------- */

#define MATRIX_EXPR "$[["

static bool has_matrix_expr(const struct ynode *n)
{
	if (!n)
		return false;
	if (n->kind == YNODE_STRING)
		return strstr(n->str, MATRIX_EXPR) != NULL;
	for (size_t i = 0; i < n->n; i++)
		if (has_matrix_expr(n->kind == YNODE_SEQ ? n->items[i] : n->entries[i].value))
			return true;
	return false;
}

/* Whether `key` is one of the group's matrix variables. */
static bool is_matrix_key(const struct job_group *g, const char *key, size_t len)
{
	for (size_t i = 0; i < g->matrix->n; i++) {
		const struct ynode *e = g->matrix->items[i];
		for (size_t k = 0; k < e->n; k++)
			if (strlen(e->entries[k].key) == len &&
			    !strncmp(e->entries[k].key, key, len))
				return true;
	}
	return false;
}

/* Replaces each `$[[ matrix.NAME ]]` in s by the instance's value of NAME. */
static int subst_matrix(struct mload *L, const struct job_group *g, const struct job *inst,
                        const struct ynode *n, const char **ret)
{
	struct strbuf sb = STRBUF_INIT;
	const char *s = n->str, *p;
	while ((p = strstr(s, MATRIX_EXPR))) {
		strbuf_add(&sb, s, (size_t)(p - s));
		const char *q = p + 3, *end = strstr(q, "]]");
		while (*q == ' ')
			q++;
		size_t len = 0;
		if (end && !strncmp(q, "matrix.", 7))
			for (q += 7; q + len < end && q[len] != ' '; len++)
				;
		const char *v = NULL;
		if (len && is_matrix_key(g, q, len)) {
			char *key = arena_strndup(L->a, q, len);
			v = var_list_value(&inst->variables, key);
		}
		if (!v) {
			strbuf_release(&sb);
			return mload_error(
			    L, n->loc,
			    "jobs:%s:needs:need:parallel:matrix '%.*s' is not a matrix "
			    "expression of this job's parallel:matrix",
			    g->name, end ? (int)(end + 2 - p) : (int)strlen(p), p);
		}
		strbuf_addstr(&sb, v);
		s = end + 2;
	}
	strbuf_addstr(&sb, s);
	*ret = arena_strdup(L->a, sb.buf);
	strbuf_release(&sb);
	return 0;
}

/* A copy of n with matrix expressions substituted for one instance (unchanged sub-trees
 * shared). */
static int subst_tree(struct mload *L, const struct job_group *g, const struct job *inst,
                      const struct ynode *n, const struct ynode **ret)
{
	*ret = n;
	if (!has_matrix_expr(n))
		return 0;
	if (n->kind == YNODE_STRING) {
		const char *v = NULL;
		if (subst_matrix(L, g, inst, n, &v) < 0)
			return -1;
		*ret = ynode_new_string(L->a, v, n->loc);
		return 0;
	}
	struct ynode *c = ynode_shallow_copy(L->a, n);
	for (size_t i = 0; i < n->n; i++) {
		struct ynode **slot = n->kind == YNODE_SEQ ? &c->items[i] : &c->entries[i].value;
		const struct ynode *v;
		if (subst_tree(L, g, inst, *slot, &v) < 0)
			return -1;
		*slot = (struct ynode *)v;
	}
	*ret = c;
	return 0;
}

/* GitLab's matrix expressions: a parallel:matrix job may write `$[[ matrix.NAME ]]` in its
 * needs:parallel:matrix, each instance then needing the instance with its own values. */
static int resolve_matrix_needs(struct mload *L, struct job_group *g)
{
	for (size_t i = 0; i < g->n_inst; i++) {
		const struct ynode *needs;
		if (subst_tree(L, g, &g->inst[i], g->needs_node, &needs) < 0 ||
		    job_needs_parse(L, g, needs, true, &g->inst[i].needs, &g->inst[i].n_needs) < 0)
			return -1;
	}
	return 0;
}

int parallel_resolve_refs(struct mload *L, struct job_group *g)
{
	struct job_need *needs = NULL;
	size_t n = 0;
	bool per_instance = g->matrix && has_matrix_expr(g->needs_node);
	if (per_instance) {
		if (resolve_matrix_needs(L, g) < 0)
			return -1;
		needs = g->inst[0].needs;
		n = g->inst[0].n_needs;
	} else if (g->needs_node && job_needs_parse(L, g, g->needs_node, true, &needs, &n) < 0) {
		return -1;
	}
	struct job tmp = g->proto;
	tmp.needs = needs;
	tmp.n_needs = n;
	struct string_list deps = {0};
	if (resolve_deps(L, g, &tmp, &deps) < 0)
		return -1;
	for (size_t i = 0; i < g->n_inst; i++) {
		if (!per_instance) {
			g->inst[i].needs = needs;
			g->inst[i].n_needs = n;
		}
		g->inst[i].dependencies = deps;
	}
	g->proto.needs = needs;
	g->proto.n_needs = n;
	g->proto.dependencies = deps;
	return 0;
}
