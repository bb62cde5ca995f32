/* pipeline: pipeline_load drives GitLab's processing order (spec yaml.md §0):
 * includes -> extends -> !reference -> stages -> reserved keys / default: -> job validation ->
 * parallel -> needs/dependencies -> workflow:rules -> job rules/only/except.
 * Everything lives in the pipeline's arena plus the loaded documents it keeps; errors are
 * recorded through struct mload so lint can collect them all. */
#include "model/pipeline.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "model/extends.h"
#include "model/include.h"
#include "model/load.h"
#include "model/parallel.h"
#include "model/rules.h"
#include "model/vars.h"
#include "util/arena.h"
#include "util/cleanup.h"
#include "util/strbuf.h"
#include "util/strmap.h"
#include "util/xalloc.h"
#include "yaml/node.h"
#include "yaml/reference.h"

/* Private tail of struct pipeline, reached through p->priv. */
struct pipeline_priv {
	struct ydoc **docs;
	size_t n_docs;
	struct strmap job_index; /* instance name -> struct job * (p->jobs and p->excluded) */
};

/* ---- errors and interning ----------------------------------------------------------------- */

/* File names in error locations must outlive the documents (a failed load frees them), so
 * they are interned for the process lifetime. Bounded by the number of distinct config files. */
static pthread_mutex_t intern_lock = PTHREAD_MUTEX_INITIALIZER;
static struct strmap intern_map;

const char *mload_intern(const char *file)
{
	if (!file)
		return NULL;
	pthread_mutex_lock(&intern_lock);
	const char *s = strmap_get(&intern_map, file);
	if (!s) {
		char *c = xstrdup(file);
		strmap_put(&intern_map, c, c);
		s = c;
	}
	pthread_mutex_unlock(&intern_lock);
	return s;
}

static void mload_record(struct mload *L, struct srcloc loc, char *msg)
{
	loc.file = mload_intern(loc.file);
	if (L->collect) {
		diag_list_add(L->diags, loc, 0, "%s", msg);
		if (!L->n_errors++) {
			err_at(&L->first, loc, "%s", msg);
			L->first.kind = ERR_CONFIG;
		}
	} else if (!err_is_set(L->err)) {
		err_at(L->err, loc, "%s", msg);
	}
	free(msg);
}

int mload_error(struct mload *L, struct srcloc loc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *msg = xvasprintf(fmt, ap);
	va_end(ap);
	mload_record(L, loc, msg);
	return -1;
}

int mload_take_err(struct mload *L, struct err *e)
{
	enum err_kind kind = e->kind;
	struct srcloc loc = e->loc;
	char *msg = e->msg;
	e->msg = NULL;
	err_release(e);
	if (kind != ERR_CONFIG && !L->collect && !err_is_set(L->err)) {
		/* I/O and other environment errors keep their kind (exit code 4). */
		err_set(L->err, kind, "%s", msg);
		L->err->loc = loc;
		L->err->loc.file = mload_intern(loc.file);
		free(msg);
		return -1;
	}
	mload_record(L, loc, msg);
	return -1;
}

int mload_ctx_complete(struct mload *L)
{
	if (!L->ctx_done) {
		L->ctx_done = true;
		struct err e = ERR_INIT;
		if (L->ctx->complete && L->ctx->complete(L->ctx->complete_data, &e) < 0) {
			L->ctx_failed = true;
			return mload_take_err(L, &e);
		}
	}
	return L->ctx_failed ? -1 : 0;
}

void mload_keep_doc(struct mload *L, struct ydoc *doc)
{
	XGROW(L->docs, L->docs_alloc, L->n_docs + 1);
	L->docs[L->n_docs++] = doc;
}

#define STEP(expr)                                                                                 \
	do {                                                                                       \
		if ((expr) < 0) {                                                                  \
			if (mload_stop(L))                                                         \
				return -1;                                                         \
			rc = -1;                                                                   \
		}                                                                                  \
	} while (0)

/* ---- stages -------------------------------------------------------------------------------- */

static void stage_push(struct mload *L, const char *s, size_t *alloc)
{
	struct pipeline *p = L->p;
	for (size_t i = 0; i < p->n_stages; i++)
		if (strcmp(p->stages[i], s) == 0)
			return;
	if (p->n_stages == *alloc) {
		size_t cap = *alloc ? *alloc * 2 : 8;
		const char **v = arena_alloc(L->a, cap * sizeof(*v));
		if (p->n_stages)
			memcpy(v, p->stages, p->n_stages * sizeof(*v));
		p->stages = v;
		*alloc = cap;
	}
	p->stages[p->n_stages++] = s;
}

static int parse_stages(struct mload *L, const struct ynode *n)
{
	static const char *const dflt[] = {"build", "test", "deploy"};
	struct string_list user = {0};
	size_t alloc = 0;
	/* GitLab: nested_array_of_strings (max 10 levels, flattened); a bare string is an error */
	int rc = 0;
	if (n && n->kind != YNODE_NULL &&
	    (!mnode_is_seq(n) || mnode_string_list(L->a, n, 10, &user) < 0)) {
		rc = mload_error(L, n->loc,
		                 "stages config should be an array of strings or a "
		                 "nested array of strings up to 10 levels deep");
		/* lint goes on with the default stages rather than one error per job */
		n = NULL;
		user.n = 0;
	}
	stage_push(L, ".pre", &alloc);
	if (!n || n->kind == YNODE_NULL)
		for (size_t i = 0; i < 3; i++)
			stage_push(L, dflt[i], &alloc);
	for (size_t i = 0; i < user.n; i++)
		if (strcmp(user.v[i], ".pre") && strcmp(user.v[i], ".post"))
			stage_push(L, user.v[i], &alloc);
	stage_push(L, ".post", &alloc);
	return rc;
}

/* ---- default: ------------------------------------------------------------------------------ */

static const char *const default_keys[] = {
    "after_script", "artifacts",     "before_script", "cache",    "hooks", "id_tokens",
    "image",        "interruptible", "retry",         "services", "tags",  "timeout"};
#define N_DEFAULT_KEYS (sizeof(default_keys) / sizeof(*default_keys))
static const char *const legacy_keys[] = {"image", "services", "before_script", "after_script",
                                          "cache"};

static bool is_default_key(const char *k)
{
	for (size_t i = 0; i < N_DEFAULT_KEYS; i++)
		if (strcmp(default_keys[i], k) == 0)
			return true;
	return false;
}

/* Builds the effective default: map, folding in the deprecated top-level keywords. */
static int build_default(struct mload *L, const struct ynode *root, struct ynode **ret)
{
	const struct ynode *d = ynode_get(root, "default");
	int rc = 0;
	if (d && d->kind != YNODE_NULL && !mnode_is_map(d))
		return mload_error(L, d->loc, "default config should be a hash");
	struct ynode *out =
	    mnode_is_map(d) ? ynode_shallow_copy(L->a, d) : ynode_new(L->a, YNODE_MAP, root->loc);
	for (size_t i = 0; mnode_is_map(d) && i < d->n; i++)
		if (!is_default_key(d->entries[i].key))
			STEP(mload_error(L, d->entries[i].key_loc,
			                 "default config contains unknown keys: %s",
			                 d->entries[i].key));
	for (size_t i = 0; i < sizeof(legacy_keys) / sizeof(*legacy_keys); i++) {
		const struct ymap_entry *e = ynode_entry(root, legacy_keys[i]);
		if (!e)
			continue;
		if (ynode_entry(d, legacy_keys[i]))
			STEP(mload_error(
			    L, e->key_loc,
			    "%s is defined in both the top level and default:", legacy_keys[i]));
		else
			ynode_map_set(L->a, out, e->key, e->key_loc, e->value);
	}
	*ret = out;
	return rc;
}

static bool inherit_allows(const struct ynode *inh, const char *key)
{
	if (!inh)
		return true;
	if (inh->kind == YNODE_BOOL)
		return inh->v.b;
	for (size_t i = 0; mnode_is_seq(inh) && i < inh->n; i++)
		if (ynode_str(inh->items[i]) && strcmp(ynode_str(inh->items[i]), key) == 0)
			return true;
	return false;
}

static int check_inherit(struct mload *L, const char *name, const struct ynode *inh)
{
	if (!inh || inh->kind == YNODE_NULL)
		return 0;
	if (!mnode_is_map(inh))
		return mload_error(L, inh->loc, "jobs:%s inherit config should be a hash", name);
	for (size_t i = 0; i < inh->n; i++) {
		const struct ymap_entry *e = &inh->entries[i];
		bool ok = strcmp(e->key, "default") == 0 || strcmp(e->key, "variables") == 0;
		if (!ok)
			return mload_error(L, e->key_loc,
			                   "jobs:%s:inherit config contains unknown keys: %s", name,
			                   e->key);
		const struct ynode *v = e->value;
		ok = v && (v->kind == YNODE_BOOL || mnode_is_seq(v));
		for (size_t k = 0; ok && mnode_is_seq(v) && k < v->n; k++)
			ok = mnode_is_str(v->items[k]);
		if (!ok)
			return mload_error(
			    L, v ? v->loc : e->key_loc,
			    "jobs:%s:inherit:%s config should be a boolean value or an "
			    "array of strings",
			    name, e->key);
	}
	return 0;
}

/* Whole-value copy of each default key the job lacks or sets to null (GitLab's
 * overwrite_entry: a nil value is an unspecified entry), if inherit allows it. */
static const struct ynode *apply_default(struct mload *L, const struct ynode *job,
                                         const struct ynode *dflt)
{
	const struct ynode *inh = ynode_get(ynode_get(job, "inherit"), "default");
	struct ynode *out = NULL;
	for (size_t i = 0; i < dflt->n; i++) {
		const struct ymap_entry *e = &dflt->entries[i];
		if (mnode_get_defined(job, e->key) || !inherit_allows(inh, e->key))
			continue;
		if (!out)
			out = ynode_shallow_copy(L->a, job);
		ynode_map_set(L->a, out, e->key, e->key_loc, e->value);
	}
	return out ? out : job;
}

/* ---- jobs ---------------------------------------------------------------------------------- */

static int collect_groups(struct mload *L, const struct ynode *root, const struct ynode *dflt)
{
	int rc = 0;
	L->groups = xcalloc(root->n + 1, sizeof(*L->groups));
	strmap_init(&L->group_index);
	for (size_t i = 0; i < root->n; i++) {
		const struct ymap_entry *e = &root->entries[i];
		if (extends_reserved_key(e->key) || e->key[0] == '.')
			continue;
		if (!mnode_is_map(e->value)) {
			STEP(mload_error(L, e->key_loc, "jobs:%s config should be a hash", e->key));
			continue;
		}
		if (strlen(e->key) > 255)
			STEP(mload_error(L, e->key_loc,
			                 "jobs:%s name is too long (maximum is 255 "
			                 "characters)",
			                 e->key));
		if (check_inherit(L, e->key, ynode_get(e->value, "inherit")) < 0) {
			STEP(-1);
			continue;
		}
		struct job_group *g = &L->groups[L->n_groups++];
		g->name = e->key;
		g->loc = e->key_loc;
		g->order = i;
		/* default: fills the keys a job inherits; a trigger job (GitLab's Bridge, no
		 * script:) has none of them */
		bool bridge = ynode_entry(e->value, "trigger") && !ynode_entry(e->value, "script");
		g->node = bridge ? e->value : apply_default(L, e->value, dflt);
		strmap_put(&L->group_index, g->name, g);
	}
	if (L->n_groups == 0 && rc == 0)
		return mload_error(L, root->loc,
		                   "jobs config should contain at least one visible job");
	return rc;
}

/* ---- circular needs (YamlProcessor's Dag check: before rules, on every job) ---- */

struct cycle_walk {
	struct mload *L;
	struct strmap index; /* instance name -> 1 + position in jobs */
	struct job **jobs;
	unsigned char *color; /* 0 new, 1 on the path, 2 done */
	const struct job **path;
	size_t depth;
};

static int needs_cycle_from(struct cycle_walk *w, size_t i)
{
	w->color[i] = 1;
	w->path[w->depth++] = w->jobs[i];
	const struct job *j = w->jobs[i];
	for (size_t k = 0; k < j->n_needs; k++) {
		size_t t = (size_t)(uintptr_t)strmap_get(&w->index, j->needs[k].job);
		if (!t || w->color[t - 1] == 2)
			continue;
		if (w->color[t - 1] == 1) {
			struct strbuf sb = STRBUF_INIT;
			size_t from = 0;
			while (w->path[from] != w->jobs[t - 1])
				from++;
			for (size_t x = from; x < w->depth; x++)
				strbuf_addf(&sb, "%s -> ", w->path[x]->name);
			strbuf_addstr(&sb, w->jobs[t - 1]->name);
			int rc = mload_error(w->L, j->needs[k].loc,
			                     "The pipeline has circular dependencies: %s", sb.buf);
			strbuf_release(&sb);
			return rc;
		}
		if (needs_cycle_from(w, t - 1) < 0)
			return -1;
	}
	w->depth--;
	w->color[i] = 2;
	return 0;
}

static int check_needs_cycles(struct mload *L)
{
	size_t n = 0;
	for (size_t i = 0; i < L->n_groups; i++)
		n += L->groups[i].n_inst;
	struct cycle_walk w = {.L = L};
	w.jobs = xcalloc(n + 1, sizeof(*w.jobs));
	w.color = xcalloc(n + 1, 1);
	w.path = xcalloc(n + 1, sizeof(*w.path));
	strmap_init(&w.index);
	size_t at = 0;
	for (size_t i = 0; i < L->n_groups; i++)
		for (size_t k = 0; k < L->groups[i].n_inst; k++) {
			w.jobs[at] = &L->groups[i].inst[k];
			strmap_put(&w.index, w.jobs[at]->name, (void *)(uintptr_t)(at + 1));
			at++;
		}
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++)
		if (!w.color[i])
			rc = needs_cycle_from(&w, i);
	strmap_release(&w.index);
	free(w.jobs);
	free(w.color);
	free(w.path);
	return rc;
}

/* environment:on_stop names a job that stops the same environment (YamlProcessor's
 * validate_on_stop_job!, with its messages). */
static int check_on_stop(struct mload *L, const struct job_group *g)
{
	const struct ynode *env = ynode_get(g->node, "environment");
	const struct ynode *on_stop = ynode_get(env, "on_stop");
	if (!mnode_is_map(env) || !on_stop || !ynode_is_scalar(on_stop) ||
	    on_stop->kind == YNODE_NULL)
		return 0;
	const char *stop = ynode_str(on_stop);
	const struct job_group *t = strmap_get(&L->group_index, stop);
	if (!t)
		t = strmap_get(&L->inst_group, stop);
	if (!t)
		return mload_error(L, on_stop->loc, "%s job: on_stop job %s is not defined",
		                   g->name, stop);
	const struct ynode *te = ynode_get(t->node, "environment");
	if (!te || te->kind == YNODE_NULL)
		return mload_error(L, on_stop->loc,
		                   "%s job: on_stop job %s does not have environment defined",
		                   g->name, stop);
	const char *name = ynode_str(ynode_get(env, "name"));
	const char *tname = mnode_is_map(te) ? ynode_str(ynode_get(te, "name")) : ynode_str(te);
	if (!name || !tname || strcmp(name, tname) != 0)
		return mload_error(L, on_stop->loc,
		                   "%s job: on_stop job %s have different environment name",
		                   g->name, stop);
	const char *action = mnode_is_map(te) ? ynode_str(ynode_get(te, "action")) : NULL;
	if (!action || strcmp(action, "stop") != 0)
		return mload_error(L, on_stop->loc,
		                   "%s job: on_stop job %s needs to have action stop defined",
		                   g->name, stop);
	return 0;
}

/* The needs of every rule are checked whether or not the rule matches (YamlProcessor's
 * validate_job_needs!), so a rule that names a missing job fails the pipeline. */
static int check_rule_needs(struct mload *L, const struct job_group *g)
{
	for (size_t k = 0; k < g->n_rules; k++) {
		const struct ynode *v = ynode_get(g->rules[k].node, "needs");
		struct job_need *needs;
		size_t n;
		if (v && job_needs_parse(L, g, v, true, &needs, &n) < 0)
			return -1;
	}
	return 0;
}

static int build_groups(struct mload *L)
{
	int rc = 0;
	for (size_t i = 0; i < L->n_groups; i++)
		STEP(job_group_build(L, &L->groups[i]));
	/* lint: needs and dependencies of the jobs that did build are still checked, so an
	 * undefined need is reported with the other errors */
	strmap_init(&L->inst_group);
	for (size_t i = 0; i < L->n_groups; i++) {
		struct job_group *g = &L->groups[i];
		STEP(parallel_expand(L, g));
		/* GitLab normalizes parallel jobs before checking needs: an instance name
		 * ("build: [a, b]", "test 1/2") can be needed on its own */
		for (size_t k = 0; g->parallel && k < g->n_inst; k++)
			strmap_put(&L->inst_group, g->inst[k].name, g);
	}
	for (size_t i = 0; i < L->n_groups; i++)
		if (!L->groups[i].bad_stage)
			STEP(parallel_resolve_refs(L, &L->groups[i]));
	for (size_t i = 0; i < L->n_groups; i++)
		if (!L->groups[i].bad_stage)
			STEP(check_rule_needs(L, &L->groups[i]));
	for (size_t i = 0; i < L->n_groups; i++)
		STEP(check_on_stop(L, &L->groups[i]));
	if (rc == 0)
		rc = check_needs_cycles(L);
	return rc;
}

/* ---- rules and the final job list ---------------------------------------------------------- */

static int decide_all(struct mload *L)
{
	int rc = 0;
	for (size_t i = 0; i < L->n_groups; i++)
		for (size_t k = 0; k < L->groups[i].n_inst; k++)
			STEP(rules_decide_job(L, &L->groups[i], &L->groups[i].inst[k]));
	return rc;
}

/* Needs on jobs that rules removed: optional ones are dropped, others fail the pipeline. */
static int prune_needs(struct mload *L, struct job *j, const struct strmap *included)
{
	size_t w = 0, nd = 0;
	struct job_need *v = arena_alloc(L->a, sizeof(*v) * (j->n_needs + 1));
	struct job_need *dropped = arena_alloc(L->a, sizeof(*v) * (j->n_needs + 1));
	for (size_t i = 0; i < j->n_needs; i++) {
		if (strmap_has(included, j->needs[i].job)) {
			v[w++] = j->needs[i];
			continue;
		}
		if (j->needs[i].optional) {
			dropped[nd++] = j->needs[i];
			continue;
		}
		return mload_error(
		    L, j->needs[i].loc,
		    "'%s' job needs '%s' job, but '%s' does not exist in the pipeline. "
		    "This might be because of the only, except, or rules keywords. To "
		    "need a job that sometimes does not exist in the pipeline, use "
		    "needs:optional.",
		    j->name, j->needs[i].job, j->needs[i].job);
	}
	j->needs = v;
	j->n_needs = w;
	j->dropped_needs = dropped;
	j->n_dropped_needs = nd;
	struct string_list deps = {0};
	for (size_t i = 0; i < j->dependencies.n; i++)
		if (strmap_has(included, j->dependencies.v[i]))
			mstring_list_push(L->a, &deps, j->dependencies.v[i]);
	j->dependencies = deps;
	return 0;
}

static int assemble_jobs(struct mload *L, struct strmap *index)
{
	struct pipeline *p = L->p;
	size_t n_in = 0, n_out = 0;
	for (size_t i = 0; i < L->n_groups; i++)
		for (size_t k = 0; k < L->groups[i].n_inst; k++)
			*(L->groups[i].inst[k].decision.included ? &n_in : &n_out) += 1;
	p->jobs = arena_alloc(L->a, sizeof(*p->jobs) * (n_in + 1));
	p->excluded = arena_alloc(L->a, sizeof(*p->excluded) * (n_out + 1));
	struct strmap included = STRMAP_INIT;
	/* Stage order, then file order: one pass per stage keeps it linear in jobs x stages. */
	for (size_t s = 0; s < p->n_stages; s++)
		for (size_t i = 0; i < L->n_groups; i++)
			for (size_t k = 0;
			     L->groups[i].proto.stage_index == s && k < L->groups[i].n_inst; k++) {
				struct job *j = &L->groups[i].inst[k];
				if (j->decision.included) {
					p->jobs[p->n_jobs++] = *j;
					strmap_put(&included, j->name, NULL);
				} else {
					p->excluded[p->n_excluded++] = *j;
				}
			}
	int rc = 0;
	for (size_t i = 0; i < p->n_jobs && (rc == 0 || !mload_stop(L)); i++) {
		if (prune_needs(L, &p->jobs[i], &included) < 0)
			rc = -1;
		strmap_put(index, p->jobs[i].name, &p->jobs[i]);
	}
	for (size_t i = 0; i < p->n_excluded; i++)
		if (!strmap_has(index, p->excluded[i].name))
			strmap_put(index, p->excluded[i].name, &p->excluded[i]);
	strmap_release(&included);
	return rc;
}

/* A pipeline with only .pre/.post jobs is not created (GitLab). */
static void check_only_pre_post(struct pipeline *p)
{
	for (size_t i = 0; i < p->n_jobs; i++)
		if (strcmp(p->jobs[i].stage, ".pre") && strcmp(p->jobs[i].stage, ".post"))
			return;
	if (p->n_jobs)
		p->created = false;
}

/* ---- resolved tree ------------------------------------------------------------------------- */

static struct ynode *build_resolved(struct mload *L, const struct ynode *root)
{
	struct ynode *out = ynode_new(L->a, YNODE_MAP, root->loc);
	static const char *const keep[] = {"stages", "variables", "workflow"};
	for (size_t i = 0; i < 3; i++) {
		const struct ymap_entry *e = ynode_entry(root, keep[i]);
		if (e)
			ynode_map_set(L->a, out, e->key, e->key_loc, e->value);
	}
	/* Jobs (default: applied) and hidden jobs (as extends and !reference left them: GitLab's
	 * merged YAML keeps them), in the merged file's order. */
	for (size_t i = 0; i < root->n; i++) {
		const struct ymap_entry *e = &root->entries[i];
		const struct job_group *g = strmap_get(&L->group_index, e->key);
		if (g)
			ynode_map_set(L->a, out, g->name, g->loc, (struct ynode *)g->node);
		else if (e->key[0] == '.')
			ynode_map_set(L->a, out, e->key, e->key_loc, e->value);
	}
	return out;
}

/* ---- driver -------------------------------------------------------------------------------- */

static void split_ctx_vars(struct mload *L)
{
	for (size_t i = 0; i < L->ctx->vars.n; i++) {
		const struct var *v = &L->ctx->vars.v[i];
		var_list_set(L->a, v->public_ ? &L->pre_vars : &L->pipe_vars, v);
	}
}

/* Resolves !reference tags against the post-extends tree. */
static int resolve_references(struct mload *L, struct ynode **root)
{
	struct err e = ERR_INIT;
	struct ynode *r = yref_resolve(L->a, *root, &e);
	if (!r)
		return mload_take_err(L, &e);
	*root = r;
	return 0;
}

static int load_config(struct mload *L, const char *file, struct ynode **ret_root)
{
	struct ynode *root;
	int rc = 0;
	if (include_load_main(L, file, &root) < 0 || mload_ctx_complete(L) < 0)
		return -1;
	split_ctx_vars(L);
	STEP(extends_resolve(L, root, &root));
	if (rc < 0)
		return -1;
	STEP(resolve_references(L, &root));
	if (rc < 0)
		return -1;
	*ret_root = root;
	return 0;
}

static int load_steps(struct mload *L, const char *file)
{
	struct ynode *root, *dflt = NULL;
	int rc = 0;
	if (load_config(L, file, &root) < 0)
		return -1;
	L->root = root;
	STEP(parse_stages(L, ynode_get(root, "stages")));
	STEP(job_variables_parse(L, "variables", ynode_get(root, "variables"), true,
	                         &L->global_vars));
	STEP(build_default(L, root, &dflt));
	if (!dflt)
		return -1;
	STEP(rules_workflow(L, ynode_get(root, "workflow")));
	STEP(collect_groups(L, root, dflt));
	STEP(build_groups(L));
	if (rc < 0)
		return -1;
	L->p->variables = L->global_vars;
	/* Job variables were built from the globals after workflow:rules variables applied. */
	STEP(decide_all(L));
	if (rc < 0)
		return -1;
	struct pipeline_priv *priv = L->p->priv;
	STEP(assemble_jobs(L, &priv->job_index));
	check_only_pre_post(L->p);
	L->p->resolved = build_resolved(L, root);
	return rc;
}

static void mload_release(struct mload *L)
{
	for (size_t i = 0; i < L->n_groups; i++)
		job_group_release(&L->groups[i]);
	free(L->groups);
	strmap_release(&L->group_index);
	strmap_release(&L->inst_group);
	strmap_release(&L->job_index);
	strmap_release(&L->changed_since);
	err_release(&L->first);
}

struct pipeline *pipeline_load(const char *file, const struct pipeline_ctx *ctx,
                               const struct pipeline_opts *opts, struct err *err)
{
	struct pipeline *p = xcalloc(1, sizeof(*p));
	struct pipeline_priv *priv = xcalloc(1, sizeof(*priv));
	p->arena = xcalloc(1, sizeof(*p->arena));
	arena_init(p->arena);
	p->priv = priv;
	p->file = arena_strdup(p->arena, file);
	struct mload L = {
	    .p = p,
	    .a = p->arena,
	    .ctx = ctx,
	    .collect = opts && opts->collect_all_errors && opts->diags,
	    .diags = opts ? opts->diags : NULL,
	    .err = err,
	};
	strmap_init(&L.changed_since);
	int rc = load_steps(&L, file);
	priv->docs = L.docs;
	priv->n_docs = L.n_docs;
	if (L.collect && L.n_errors) {
		err_move(err, &L.first);
		rc = -1;
	}
	mload_release(&L);
	if (rc < 0 || err_is_set(err)) {
		if (!err_is_set(err))
			err_set(err, ERR_CONFIG, "invalid configuration");
		pipeline_free(p);
		return NULL;
	}
	for (size_t i = 0; i < L.n_docs; i++)
		for (size_t k = 0; k < L.docs[i]->warnings.n; k++) {
			const struct diag *d = &L.docs[i]->warnings.v[k];
			diag_list_add(&p->warnings, d->loc, 1, "%s", d->msg);
		}
	return p;
}

void pipeline_free(struct pipeline *p)
{
	if (!p)
		return;
	struct pipeline_priv *priv = p->priv;
	if (priv) {
		for (size_t i = 0; i < priv->n_docs; i++)
			ydoc_free(priv->docs[i]);
		free(priv->docs);
		strmap_release(&priv->job_index);
		free(priv);
	}
	diag_list_release(&p->warnings);
	arena_release(p->arena);
	free(p->arena);
	free(p);
}

const struct job *pipeline_find_job(const struct pipeline *p, const char *name)
{
	const struct pipeline_priv *priv = p->priv;
	return strmap_get(&priv->job_index, name);
}
