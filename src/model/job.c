/* job: builds struct job from a job's YAML hash (after extends, !reference and default:) and
 * validates every keyword with GitLab's messages ("jobs:<name> ..."). Cross-job checks (needs,
 * dependencies) run in job_needs_parse / pipeline.c once every job is known. */
#include "model/job.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "model/expr.h"
#include "model/load.h"
#include "model/parallel.h"
#include "model/rules.h"
#include "model/vars.h"
#include "util/arena.h"
#include "util/strbuf.h"
#include "yaml/node.h"

static const char *const job_keys[] = {
    "after_script",
    "allow_failure",
    "artifacts",
    "before_script",
    "cache",
    "coverage",
    "dast_configuration",
    "dependencies",
    "environment",
    "except",
    "extends",
    "hooks",
    "id_tokens",
    "identity",
    "image",
    "inherit",
    "interruptible",
    "manual_confirmation",
    "needs",
    "only",
    "pages",
    "parallel",
    "publish",
    "release",
    "resource_group",
    "retry",
    "rules",
    "run",
    "script",
    "secrets",
    "services",
    "stage",
    "start_in",
    "tags",
    "timeout",
    "trigger",
    "variables",
    "when",
};

/* Indices into job_keys (same order). */
enum job_key {
	JK_AFTER_SCRIPT,
	JK_ALLOW_FAILURE,
	JK_ARTIFACTS,
	JK_BEFORE_SCRIPT,
	JK_CACHE,
	JK_COVERAGE,
	JK_DAST_CONFIGURATION,
	JK_DEPENDENCIES,
	JK_ENVIRONMENT,
	JK_EXCEPT,
	JK_EXTENDS,
	JK_HOOKS,
	JK_ID_TOKENS,
	JK_IDENTITY,
	JK_IMAGE,
	JK_INHERIT,
	JK_INTERRUPTIBLE,
	JK_MANUAL_CONFIRMATION,
	JK_NEEDS,
	JK_ONLY,
	JK_PAGES,
	JK_PARALLEL,
	JK_PUBLISH,
	JK_RELEASE,
	JK_RESOURCE_GROUP,
	JK_RETRY,
	JK_RULES,
	JK_RUN,
	JK_SCRIPT,
	JK_SECRETS,
	JK_SERVICES,
	JK_STAGE,
	JK_START_IN,
	JK_TAGS,
	JK_TIMEOUT,
	JK_TRIGGER,
	JK_VARIABLES,
	JK_WHEN,
	JK_N,
};

/* A job hash's entries for the keywords above, found in one pass over the hash: ~25 keyword
 * lookups per job were each a scan of the hash, most of them misses. Lives on the stack of
 * job_group_build (g->keys). */
struct job_keys {
	const struct ymap_entry *e[JK_N];
	bool unknown; /* some key is not in job_keys */
};

/* ---- shared node helpers ---------------------------------------------------------------- */

bool mnode_is_map(const struct ynode *n)
{
	return n && n->kind == YNODE_MAP;
}

bool mnode_is_seq(const struct ynode *n)
{
	return n && n->kind == YNODE_SEQ;
}

bool mnode_is_str(const struct ynode *n)
{
	return n && n->kind != YNODE_MAP && n->kind != YNODE_SEQ && n->kind != YNODE_NULL;
}

bool mname_in_set(const char *const *set, const char *k)
{
	for (; *set; set++)
		if (strcmp(*set, k) == 0)
			return true;
	return false;
}

const struct ynode *mnode_get_defined(const struct ynode *map, const char *key)
{
	const struct ynode *v = ynode_get(map, key);
	return v && v->kind != YNODE_NULL ? v : NULL;
}

void mstring_list_push(struct arena *a, struct string_list *l, const char *s)
{
	/* Capacity is the next power of two >= n: arena memory cannot be realloc'ed in place. */
	if ((l->n & (l->n - 1)) == 0) {
		size_t cap = l->n ? l->n * 2 : 4;
		const char **v = arena_alloc(a, cap * sizeof(*v));
		if (l->n)
			memcpy(v, l->v, l->n * sizeof(*v));
		l->v = v;
	}
	l->v[l->n++] = s;
}

bool mstring_list_has(const struct string_list *l, const char *s)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i], s) == 0)
			return true;
	return false;
}

int mnode_string_list(struct arena *a, const struct ynode *n, int depth, struct string_list *out)
{
	if (!n)
		return 0;
	if (n->kind == YNODE_SEQ) {
		if (depth <= 0)
			return -1;
		for (size_t i = 0; i < n->n; i++)
			if (mnode_string_list(a, n->items[i], depth - 1, out) < 0)
				return -1;
		return 0;
	}
	if (!mnode_is_str(n))
		return -1;
	mstring_list_push(a, out, n->str);
	return 0;
}

static void flatten_into(const struct ynode *n, int depth, const struct ynode **v, size_t *cnt)
{
	for (size_t i = 0; i < n->n; i++) {
		const struct ynode *it = n->items[i];
		if (mnode_is_seq(it) && depth > 0)
			flatten_into(it, depth - 1, v, cnt);
		else if (v)
			v[(*cnt)++] = it;
		else
			(*cnt)++;
	}
}

size_t mnode_flatten(struct arena *a, const struct ynode *seq, int depth, const struct ynode ***ret)
{
	size_t n = 0;
	flatten_into(seq, depth, NULL, &n);
	const struct ynode **v = arena_alloc(a, sizeof(*v) * (n + 1));
	size_t k = 0;
	flatten_into(seq, depth, v, &k);
	*ret = v;
	return n;
}

/* A string or a flat list of strings (tags, paths, entrypoint...). */
static int str_or_list(struct mload *L, const struct ynode *n, struct string_list *out)
{
	if (mnode_is_str(n)) {
		mstring_list_push(L->a, out, n->str);
		return 0;
	}
	return mnode_string_list(L->a, n, 1, out);
}

/* ---- durations ------------------------------------------------------------------------- */

static double unit_seconds(const char *u, size_t n)
{
	static const struct {
		const char *name;
		double secs;
	} units[] = {
	    {"s", 1},         {"sec", 1},         {"secs", 1},         {"second", 1},
	    {"seconds", 1},   {"m", 60},          {"min", 60},         {"mins", 60},
	    {"minute", 60},   {"minutes", 60},    {"h", 3600},         {"hr", 3600},
	    {"hrs", 3600},    {"hour", 3600},     {"hours", 3600},     {"d", 86400},
	    {"day", 86400},   {"days", 86400},    {"w", 604800},       {"wk", 604800},
	    {"wks", 604800},  {"week", 604800},   {"weeks", 604800},   {"mo", 2592000},
	    {"mos", 2592000}, {"month", 2592000}, {"months", 2592000}, {"y", 31557600},
	    {"yr", 31557600}, {"yrs", 31557600},  {"year", 31557600},  {"years", 31557600},
	};
	for (size_t i = 0; i < sizeof(units) / sizeof(*units); i++)
		if (strlen(units[i].name) == n && strncasecmp(units[i].name, u, n) == 0)
			return units[i].secs;
	return -1;
}

/* "hh:mm:ss" / "mm:ss" forms. */
static long clock_duration(const char *s)
{
	long parts[3];
	int n = 0;
	const char *p = s;
	while (n < 3) {
		char *end;
		errno = 0;
		long v = strtol(p, &end, 10);
		if (end == p || errno || v < 0)
			return -1;
		parts[n++] = v;
		if (*end == '\0')
			break;
		if (*end != ':')
			return -1;
		p = end + 1;
	}
	if (n < 2)
		return -1;
	return n == 2 ? parts[0] * 60 + parts[1] : parts[0] * 3600 + parts[1] * 60 + parts[2];
}

long mduration_parse(const char *s)
{
	if (!s)
		return -1;
	if (strchr(s, ':'))
		return clock_duration(s);
	double total = 0;
	bool any = false;
	const char *p = s;
	while (*p) {
		while (*p && (isspace((unsigned char)*p) || *p == ','))
			p++;
		if (!*p)
			break;
		if (strncasecmp(p, "and", 3) == 0 && !isalpha((unsigned char)p[3])) {
			p += 3;
			continue;
		}
		char *end;
		double v = strtod(p, &end);
		if (end == p || v < 0)
			return -1;
		p = end;
		while (isspace((unsigned char)*p))
			p++;
		const char *u = p;
		while (isalpha((unsigned char)*p))
			p++;
		double mult = p == u ? 1 : unit_seconds(u, (size_t)(p - u));
		if (mult < 0)
			return -1;
		total += v * mult;
		any = true;
	}
	return any ? (long)(total + 0.5) : -1;
}

/* ---- variables ------------------------------------------------------------------------- */

/* Tags: strings only (GitLab's array_of_strings: `tags: [1809]` is an Integer and refused,
 * which is why real configs quote such tags); one nested level, as !reference makes. */
static bool all_strings(const struct ynode *seq)
{
	for (size_t i = 0; i < seq->n; i++) {
		const struct ynode *it = seq->items[i];
		if (it->kind == YNODE_SEQ ? !all_strings(it) : it->kind != YNODE_STRING)
			return false;
	}
	return true;
}

/* ComplexVariable's allowed_value_data: value, description, expand and options at the top
 * level, value and expand in jobs. Returns the others, comma-separated, or NULL. */
static const char *variable_extra_keys(struct mload *L, const struct ynode *v, bool global)
{
	static const char *const top[] = {"value", "description", "expand", "options", NULL};
	static const char *const job[] = {"value", "expand", NULL};
	struct strbuf sb = STRBUF_INIT;
	for (size_t i = 0; i < v->n; i++) {
		const char *k = v->entries[i].key;
		bool ok = false;
		for (const char *const *a = global ? top : job; *a && !ok; a++)
			ok = strcmp(*a, k) == 0;
		if (!ok)
			strbuf_addf(&sb, "%s%s", sb.len ? ", " : "", k);
	}
	const char *r = sb.len ? arena_strdup(L->a, sb.buf) : NULL;
	strbuf_release(&sb);
	return r;
}

int job_variables_parse(struct mload *L, const char *where, const struct ynode *n, bool global,
                        struct var_list *out)
{
	if (!n || n->kind == YNODE_NULL)
		return 0;
	/* GitLab's location: "variables config ..." at the root, "jobs:x variables config ..."
	 * (messages print where and sep) */
	const char *sep = global ? "" : " ";
	where = global ? "" : where;
	if (n->kind != YNODE_MAP)
		return mload_error(
		    L, n->loc,
		    "%s%svariables config should be a hash of key value pairs, value can "
		    "be a hash",
		    where, sep);
	for (size_t i = 0; i < n->n; i++) {
		const struct ymap_entry *e = &n->entries[i];
		const struct ynode *v = e->value;
		struct var var = {.key = e->key, .public_ = true};
		if (v && v->kind == YNODE_MAP) {
			const struct ynode *val = ynode_get(v, "value");
			const struct ynode *exp = ynode_get(v, "expand");
			const char *extra = variable_extra_keys(L, v, global);
			if (extra)
				return mload_error(
				    L, v->loc, "%s%svariables config uses invalid data keys: %s",
				    where, sep, extra);
			if (val && !ynode_is_scalar(val))
				return mload_error(
				    L, val->loc,
				    "%s%svariables config should be a hash of key value "
				    "pairs, value can be a hash",
				    where, sep);
			var.value = val ? val->str : "";
			var.raw = exp && exp->kind == YNODE_BOOL && !exp->v.b;
		} else if (v && v->kind == YNODE_SEQ) {
			return mload_error(
			    L, v->loc,
			    "%s%svariables config should be a hash of key value pairs, "
			    "value can be a hash",
			    where, sep);
		} else {
			var.value = v ? v->str : "";
		}
		var_list_set(L->a, out, &var);
	}
	return 0;
}

/* ---- image / services ------------------------------------------------------------------- */

static int parse_pull_policy(struct mload *L, const char *where, const struct ynode *n,
                             struct string_list *out)
{
	if (!n)
		return 0;
	if (str_or_list(L, n, out) < 0)
		return mload_error(L, n->loc,
		                   "%s pull_policy should be a string or an array of "
		                   "strings",
		                   where);
	for (size_t i = 0; i < out->n; i++)
		if (strcmp(out->v[i], "always") && strcmp(out->v[i], "if-not-present") &&
		    strcmp(out->v[i], "never"))
			return mload_error(L, n->loc,
			                   "%s pull_policy should be one of: always, never, "
			                   "if-not-present",
			                   where);
	return 0;
}

static int parse_image_map(struct mload *L, const char *where, const struct ynode *n,
                           struct image_spec *img)
{
	const struct ynode *name = ynode_get(n, "name");
	if (!mnode_is_str(name))
		return mload_error(L, n->loc, "%s config should be a hash or a string", where);
	img->name = name->str;
	const struct ynode *ep = ynode_get(n, "entrypoint");
	if (ep) {
		img->has_entrypoint = true;
		if (mnode_string_list(L->a, ep, 1, &img->entrypoint) < 0 || !mnode_is_seq(ep))
			return mload_error(L, ep->loc,
			                   "%s entrypoint config should be an array of "
			                   "strings",
			                   where);
	}
	const struct ynode *docker = ynode_get(n, "docker");
	img->user = ynode_str(ynode_get(docker, "user"));
	img->platform = ynode_str(ynode_get(docker, "platform"));
	if (!img->user)
		img->user = ynode_str(ynode_get(ynode_get(n, "kubernetes"), "user"));
	return parse_pull_policy(L, where, ynode_get(n, "pull_policy"), &img->pull_policy);
}

static int parse_image(struct mload *L, const char *where, const struct ynode *n,
                       struct image_spec *img)
{
	memset(img, 0, sizeof(*img));
	if (!n || n->kind == YNODE_NULL)
		return 0;
	img->loc = n->loc;
	if (mnode_is_str(n)) {
		img->name = n->str;
		return 0;
	}
	if (n->kind != YNODE_MAP)
		return mload_error(L, n->loc, "%s config should be a hash or a string", where);
	return parse_image_map(L, where, n, img);
}

/* Aliases: several separated by commas and/or whitespace. */
static void split_aliases(struct arena *a, const char *s, struct string_list *out)
{
	while (*s) {
		size_t skip = strspn(s, ", \t\n");
		s += skip;
		size_t len = strcspn(s, ", \t\n");
		if (len)
			mstring_list_push(a, out, arena_strndup(a, s, len));
		s += len;
	}
}

static int parse_service(struct mload *L, const char *where, const struct ynode *n,
                         struct service_spec *svc)
{
	if (parse_image(L, where, n, &svc->image) < 0)
		return -1;
	if (n->kind != YNODE_MAP)
		return 0;
	const struct ynode *alias = ynode_get(n, "alias");
	if (alias && !mnode_is_str(alias))
		return mload_error(L, alias->loc, "%s alias should be a string", where);
	if (alias)
		split_aliases(L->a, alias->str, &svc->aliases);
	const struct ynode *cmd = ynode_get(n, "command");
	if (cmd) {
		svc->has_command = true;
		if (str_or_list(L, cmd, &svc->command) < 0)
			return mload_error(L, cmd->loc,
			                   "%s command config should be an array of "
			                   "strings",
			                   where);
	}
	return job_variables_parse(L, where, ynode_get(n, "variables"), false, &svc->variables);
}

static int parse_services(struct mload *L, const char *name, const struct ynode *n, struct job *j)
{
	if (!n || n->kind == YNODE_NULL)
		return 0;
	if (n->kind != YNODE_SEQ)
		return mload_error(L, n->loc, "jobs:%s:services config should be a array", name);
	/* Services is a ComposableArray in GitLab: nested lists (!reference) are flattened */
	const struct ynode **items;
	size_t cnt = mnode_flatten(L->a, n, 64, &items);
	j->services = arena_alloc(L->a, sizeof(*j->services) * (cnt + 1));
	const char *where = arena_printf(L->a, "jobs:%s:services:service", name);
	for (size_t i = 0; i < cnt; i++) {
		if (parse_service(L, where, items[i], &j->services[i]) < 0)
			return -1;
		j->n_services++;
	}
	return 0;
}

/* ---- scalars and small keywords ---------------------------------------------------------- */

static int parse_when(struct mload *L, const char *name, const struct ynode *n, enum job_when *ret)
{
	static const char *const names[] = {"on_success", "on_failure", "always",
	                                    "manual",     "delayed",    "never"};
	const char *s = ynode_str(n);
	for (int i = 0; s && i < 5; i++)
		if (strcmp(s, names[i]) == 0) {
			*ret = (enum job_when)i;
			return 0;
		}
	return mload_error(L, n->loc,
	                   "jobs:%s when should be one of: on_success, on_failure, always, manual, "
	                   "delayed",
	                   name);
}

static int parse_int_list(struct mload *L, const struct ynode *n, int **ret, size_t *ret_n)
{
	size_t cnt = mnode_is_seq(n) ? n->n : 1;
	int *v = arena_alloc(L->a, sizeof(int) * (cnt + 1));
	for (size_t i = 0; i < cnt; i++) {
		const struct ynode *it = mnode_is_seq(n) ? n->items[i] : n;
		if (!it || it->kind != YNODE_INT)
			return -1;
		v[i] = (int)it->v.i;
	}
	*ret = v;
	*ret_n = cnt;
	return 0;
}

static int parse_allow_failure(struct mload *L, const char *name, const struct ynode *n,
                               struct job *j)
{
	if (n->kind == YNODE_BOOL) {
		j->allow_failure = n->v.b;
		return 0;
	}
	const struct ynode *codes = ynode_get(n, "exit_codes");
	if (n->kind != YNODE_MAP || !codes ||
	    parse_int_list(L, codes, &j->allow_failure_exit_codes, &j->n_allow_failure_exit_codes) <
	        0)
		return mload_error(
		    L, n->loc, "jobs:%s allow_failure should be a hash or a boolean value", name);
	j->allow_failure = false;
	return 0;
}

/* retry:when values are not checked here: they are GitLab's job failure reasons, a list that
 * grows with its versions (gitlab-runner's own config uses runner_interrupted) */
static const char *const retry_keys[] = {"max", "when", "exit_codes", NULL};
static int parse_retry(struct mload *L, const char *name, const struct ynode *n,
                       struct retry_spec *r)
{
	const struct ynode *max = n;
	if (n->kind == YNODE_MAP) {
		for (size_t i = 0; i < n->n; i++)
			if (!mname_in_set(retry_keys, n->entries[i].key))
				return mload_error(L, n->entries[i].key_loc,
				                   "jobs:%s:retry config contains unknown keys: %s",
				                   name, n->entries[i].key);
		max = ynode_get(n, "max");
		const struct ynode *w = ynode_get(n, "when");
		if (w && str_or_list(L, w, &r->when) < 0)
			return mload_error(L, w->loc,
			                   "jobs:%s:retry when should be an array of "
			                   "strings or a string",
			                   name);

		const struct ynode *c = ynode_get(n, "exit_codes");
		if (c && parse_int_list(L, c, &r->exit_codes, &r->n_exit_codes) < 0)
			return mload_error(L, c->loc,
			                   "jobs:%s:retry exit_codes should be an array "
			                   "of integers or an integer",
			                   name);
		if (!max) {
			r->max = 0;
			return 0;
		}
	} else if (n->kind != YNODE_INT) {
		return mload_error(L, n->loc,
		                   "jobs:%s:retry config has to be either an integer or "
		                   "a hash",
		                   name);
	}
	if (max->kind != YNODE_INT)
		return mload_error(L, max->loc, "jobs:%s:retry max config has to be an integer",
		                   name);
	if (max->v.i < 0 || max->v.i > 2)
		return mload_error(L, max->loc, "jobs:%s:retry %s must be %s than or equal to %d",
		                   name, n == max ? "config" : "max",
		                   max->v.i < 0 ? "greater" : "less", max->v.i < 0 ? 0 : 2);
	r->max = (int)max->v.i;
	return 0;
}

/* Gitlab::Regex.environment_name_regex, checked on the name as written (before variables
 * are expanded): `${ENV:-dev}` is refused for its ':'. */
static bool environment_name_ok(const char *s)
{
	size_t n = strlen(s);
	if (!n || s[0] == '/' || s[n - 1] == '/')
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("_/${}. -", *s))
			return false;
	return true;
}

static int parse_environment(struct mload *L, const char *name, const struct ynode *n,
                             struct environment_spec *env)
{
	const struct ynode *nm = mnode_is_str(n) ? n : ynode_get(n, "name");
	if (mnode_is_str(nm) && !environment_name_ok(nm->str))
		return mload_error(
		    L, nm->loc,
		    "jobs:%s environment name can contain only letters, digits, '-', "
		    "'_', '/', '$', '{', '}', '.', and spaces, but it cannot start or "
		    "end with '/'",
		    name);
	if (mnode_is_str(n)) {
		env->name = n->str;
		env->action = "start";
		return 0;
	}
	if (!mnode_is_map(n) || !mnode_is_str(ynode_get(n, "name")))
		return mload_error(L, n->loc,
		                   "jobs:%s environment config should be a hash or a "
		                   "string",
		                   name);
	env->name = ynode_str(ynode_get(n, "name"));
	env->url = ynode_str(ynode_get(n, "url"));
	env->action = ynode_str(ynode_get(n, "action"));
	env->deployment_tier = ynode_str(ynode_get(n, "deployment_tier"));
	if (!env->action)
		env->action = "start";
	return 0;
}

static int parse_art_when(const struct ynode *n, enum artifacts_when *ret)
{
	const char *s = ynode_str(n);
	if (!n)
		return 0;
	if (s && strcmp(s, "on_success") == 0)
		*ret = ART_ON_SUCCESS;
	else if (s && strcmp(s, "on_failure") == 0)
		*ret = ART_ON_FAILURE;
	else if (s && strcmp(s, "always") == 0)
		*ret = ART_ALWAYS;
	else
		return -1;
	return 0;
}

static int parse_artifacts(struct mload *L, const char *name, const struct ynode *n,
                           struct artifacts_spec *a)
{
	if (n->kind == YNODE_NULL)
		return 0;
	if (n->kind != YNODE_MAP)
		return mload_error(L, n->loc, "jobs:%s:artifacts config should be a hash", name);
	a->present = true;
	a->name = ynode_str(ynode_get(n, "name"));
	const struct ynode *exp = ynode_get(n, "expire_in");
	/* a string GitLab's duration parser reads, or "never"; `expire_in: 1` or an unquoted
	 * 1:30:00 (YAML 1.1 reads it as the integer 5400) is refused */
	if (exp && exp->kind != YNODE_NULL &&
	    (exp->kind != YNODE_STRING ||
	     (strcmp(exp->str, "never") != 0 && mduration_parse(exp->str) < 0)))
		return mload_error(L, exp->loc, "jobs:%s:artifacts expire in should be a duration",
		                   name);
	a->expire_in = ynode_str(exp);
	const struct ynode *u = ynode_get(n, "untracked");
	a->untracked = u && u->kind == YNODE_BOOL && u->v.b;
	const struct ynode *reports = ynode_get(n, "reports");
	const char *bad = NULL;
	if (str_or_list(L, ynode_get(n, "paths"), &a->paths) < 0)
		bad = "paths";
	else if (str_or_list(L, ynode_get(n, "exclude"), &a->exclude) < 0)
		bad = "exclude";
	else if (parse_art_when(ynode_get(n, "when"), &a->when) < 0)
		bad = "when";
	else if (str_or_list(L, ynode_get(reports, "junit"), &a->reports_junit) < 0)
		bad = "reports junit";
	else if (str_or_list(L, ynode_get(reports, "dotenv"), &a->reports_dotenv) < 0)
		bad = "reports dotenv";
	if (bad)
		return mload_error(L, n->loc, "jobs:%s:artifacts %s config is invalid", name, bad);
	return 0;
}

static int parse_cache_one(struct mload *L, const char *name, const struct ynode *n,
                           struct cache_spec *c)
{
	if (n->kind != YNODE_MAP)
		return mload_error(L, n->loc,
		                   "jobs:%s:cache config should be a hash or an array of "
		                   "hashes",
		                   name);
	const struct ynode *key = ynode_get(n, "key");
	c->key = "default";
	c->policy = "pull-push";
	if (mnode_is_str(key)) {
		c->key = key->str;
	} else if (mnode_is_map(key)) {
		const struct ynode *files = ynode_get(key, "files");
		if (str_or_list(L, files, &c->key_files) < 0)
			return mload_error(L, key->loc,
			                   "jobs:%s:cache:key files should be an array "
			                   "of strings",
			                   name);
		if (c->key_files.n > 2)
			return mload_error(L, files->loc,
			                   "jobs:%s:cache:key:files config has too "
			                   "many items (maximum is 2)",
			                   name);
		c->key_prefix = ynode_str(ynode_get(key, "prefix"));
	} else if (key && key->kind != YNODE_NULL) {
		return mload_error(L, key->loc,
		                   "jobs:%s:cache:key config should be a hash, a string "
		                   "or a symbol",
		                   name);
	}
	const struct ynode *policy = ynode_get(n, "policy");
	if (mnode_is_str(policy))
		c->policy = policy->str;
	const struct ynode *u = ynode_get(n, "untracked");
	c->untracked = u && u->kind == YNODE_BOOL && u->v.b;
	if (str_or_list(L, ynode_get(n, "paths"), &c->paths) < 0 ||
	    str_or_list(L, ynode_get(n, "fallback_keys"), &c->fallback_keys) < 0 ||
	    parse_art_when(ynode_get(n, "when"), &c->when) < 0)
		return mload_error(L, n->loc, "jobs:%s:cache config is invalid", name);
	return 0;
}

/* cache: is GitLab's Caches, a ComposableArray: nested lists (`cache: [*list]`, !reference)
 * are flattened ([@config].flatten), but the limit of 4 counts the list as written. */
static int parse_caches(struct mload *L, const char *name, const struct ynode *n, struct job *j)
{
	if (mnode_is_seq(n) && n->n > 4)
		return mload_error(L, n->loc,
		                   "jobs:%s:cache config no more than 4 caches can be "
		                   "created",
		                   name);
	const struct ynode **items = &n;
	size_t cnt = mnode_is_seq(n) ? mnode_flatten(L->a, n, 64, &items) : 1;
	j->caches = arena_alloc(L->a, sizeof(*j->caches) * (cnt + 1));
	for (size_t i = 0; i < cnt; i++) {
		if (parse_cache_one(L, name, items[i], &j->caches[i]) < 0)
			return -1;
		j->n_caches++;
	}
	return 0;
}

/* ---- scripts, keys ----------------------------------------------------------------------- */

static int parse_script(struct mload *L, const char *name, const char *key, const struct ynode *n,
                        struct string_list *out)
{
	if (!n)
		return 0;
	/* GitLab's Commands entry: the error is its own ("jobs:<job>:script config ...") */
	if (mnode_string_list(L->a, n, 10, out) < 0)
		return mload_error(
		    L, n->loc,
		    "jobs:%s:%s config should be a string or a nested array of strings "
		    "up to 10 levels deep",
		    name, key);
	return 0;
}

/* The index of k in job_keys, or -1. */
static int job_key_index(const char *k)
{
	size_t lo = 0, hi = JK_N;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(k, job_keys[mid]);
		if (c == 0)
			return (int)mid;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return -1;
}

/* A null value leaves a keyword unset, as GitLab's Entry::Factory makes a nil value an
 * undefined entry (`parallel: null` cancels a parallel inherited through extends). script:,
 * run: and trigger: keep their entry: their presence decides what the job is, and a null
 * script: is blank. */
static bool null_is_unset(enum job_key k)
{
	return k != JK_SCRIPT && k != JK_RUN && k != JK_TRIGGER;
}

static void job_keys_fill(const struct ynode *job, struct job_keys *ret)
{
	memset(ret, 0, sizeof(*ret));
	for (size_t i = 0; i < job->n; i++) {
		const struct ymap_entry *e = &job->entries[i];
		int k = job_key_index(e->key);
		if (k < 0)
			ret->unknown = true;
		else if (!e->value || e->value->kind != YNODE_NULL || !null_is_unset(k))
			ret->e[k] = e;
	}
}

static const struct ymap_entry *jentry(const struct job_group *g, enum job_key k)
{
	return g->keys->e[k];
}

static const struct ynode *jget(const struct job_group *g, enum job_key k)
{
	return g->keys->e[k] ? g->keys->e[k]->value : NULL;
}

/* Keys of a trigger job (GitLab's Bridge entry: trigger, parallel and the processable keys;
 * environment, interruptible and inherit are accepted by current GitLab too). */
static const char *const bridge_keys[] = {
    "allow_failure", "environment",    "except", "extends",
    "inherit",       "interruptible",  "needs",  "only",
    "parallel",      "resource_group", "rules",  "stage",
    "trigger",       "variables",      "when",   NULL,
};

static bool known_bridge_key(const char *k)
{
	for (const char *const *b = bridge_keys; *b; b++)
		if (strcmp(*b, k) == 0)
			return true;
	return false;
}

/* A trigger job is a Bridge only without script: (with one, GitLab takes it as a job and
 * reports trigger as an unknown key). */
static bool is_bridge(const struct job_group *g)
{
	return g->is_trigger && !jentry(g, JK_SCRIPT);
}

/* trigger: a project path, or a hash: {include, strategy, forward} (same project) or
 * {project, branch, strategy, forward} (cross-project). Messages after GitLab's Trigger entry. */
static int check_trigger(struct mload *L, const struct job_group *g)
{
	const struct ynode *t = jget(g, JK_TRIGGER);
	if (mnode_is_str(t))
		return 0;
	if (!mnode_is_map(t))
		return mload_error(L, t ? t->loc : g->loc,
		                   "jobs:%s:trigger has to be either a string or a hash", g->name);
	bool same = ynode_entry(t, "include") != NULL;
	static const char *const same_keys[] = {"strategy", "include", "forward", NULL};
	static const char *const cross_keys[] = {"project", "branch", "strategy", "forward", NULL};
	for (size_t i = 0; i < t->n; i++) {
		const char *const *k = same ? same_keys : cross_keys;
		while (*k && strcmp(*k, t->entries[i].key))
			k++;
		if (!*k)
			return mload_error(L, t->entries[i].key_loc,
			                   "jobs:%s:trigger config contains unknown keys: %s",
			                   g->name, t->entries[i].key);
	}
	const struct ynode *proj = ynode_get(t, "project");
	if (!same && (!proj || proj->kind != YNODE_STRING || !*proj->str))
		return mload_error(L, proj ? proj->loc : t->loc,
		                   "jobs:%s:trigger project should be a string", g->name);
	const struct ynode *br = ynode_get(t, "branch");
	if (br && br->kind != YNODE_STRING)
		return mload_error(L, br->loc, "jobs:%s:trigger branch should be a string",
		                   g->name);
	const struct ynode *st = ynode_get(t, "strategy");
	/* `mirror` (mirror the downstream status, newer GitLab) is in real-world use */
	if (st &&
	    (st->kind != YNODE_STRING || (strcmp(st->str, "depend") && strcmp(st->str, "mirror"))))
		return mload_error(L, st->loc,
		                   "jobs:%s:trigger strategy should be depend or mirror", g->name);
	return 0;
}

static bool known_job_key(const char *k)
{
	return job_key_index(k) >= 0;
}

/* "config contains unknown keys: a, b" for the keys `known` rejects, at the first of them. */
static int check_unknown_keys(struct mload *L, const struct job_group *g,
                              bool (*known)(const char *))
{
	struct strbuf sb = STRBUF_INIT;
	struct srcloc loc = g->loc;
	for (size_t i = 0; i < g->node->n; i++) {
		if (known(g->node->entries[i].key))
			continue;
		if (!sb.len)
			loc = g->node->entries[i].key_loc;
		strbuf_addf(&sb, "%s%s", sb.len ? ", " : "", g->node->entries[i].key);
	}
	int rc = 0;
	if (sb.len)
		rc = mload_error(L, loc, "jobs:%s config contains unknown keys: %s", g->name,
		                 sb.buf);
	strbuf_release(&sb);
	return rc;
}

static int check_bridge(struct mload *L, const struct job_group *g)
{
	int rc = check_unknown_keys(L, g, known_bridge_key);
	if (rc == 0 || !mload_stop(L))
		rc |= check_trigger(L, g);
	const char *w = ynode_str(jget(g, JK_WHEN));
	if ((rc == 0 || !mload_stop(L)) && w && (!strcmp(w, "delayed") || !strcmp(w, "never")))
		rc = mload_error(L, jget(g, JK_WHEN)->loc,
		                 "jobs:%s when should be one of: on_success, on_failure, always, "
		                 "manual",
		                 g->name);
	return rc;
}

static int check_keys(struct mload *L, const struct job_group *g)
{
	if (is_bridge(g))
		return check_bridge(L, g);
	if (g->is_trigger)
		return mload_error(L, jentry(g, JK_TRIGGER)->key_loc,
		                   "jobs:%s config contains unknown keys: trigger", g->name);
	if (!g->keys->unknown)
		return 0;
	return check_unknown_keys(L, g, known_job_key);
}

static int find_stage(struct mload *L, const char *stage, size_t *ret)
{
	for (size_t i = 0; i < L->p->n_stages; i++)
		if (strcmp(L->p->stages[i], stage) == 0) {
			*ret = i;
			return 0;
		}
	return -1;
}

static int parse_stage(struct mload *L, struct job_group *g, struct job *j)
{
	const struct ymap_entry *e = jentry(g, JK_STAGE);
	j->stage = "test";
	g->bad_stage = true;
	if (e && !mnode_is_str(e->value))
		return mload_error(L, e->value->loc, "jobs:%s stage config should be a string",
		                   g->name);
	if (e)
		j->stage = e->value->str;
	if (find_stage(L, j->stage, &j->stage_index) == 0) {
		g->bad_stage = false;
		return 0;
	}
	struct strbuf sb = STRBUF_INIT;
	for (size_t i = 0; i < L->p->n_stages; i++)
		strbuf_addf(&sb, "%s%s", i ? ", " : "", L->p->stages[i]);
	mload_error(L, e ? e->value->loc : g->loc,
	            "%s job: chosen stage %s does not exist; available stages are %s", g->name,
	            j->stage, sb.buf);
	strbuf_release(&sb);
	return -1;
}

static int parse_when_start(struct mload *L, struct job_group *g, struct job *j)
{
	const struct ynode *w = jget(g, JK_WHEN);
	const struct ynode *si = jget(g, JK_START_IN);
	j->when = WHEN_ON_SUCCESS;
	if (w && parse_when(L, g->name, w, &j->when) < 0)
		return -1;
	j->manual = j->when == WHEN_MANUAL;
	if (j->manual)
		j->allow_failure = true;
	if (si) {
		if (g->has_rules)
			return mload_error(
			    L, si->loc, "jobs:%s config key may not be used with `rules`: start_in",
			    g->name);
		j->start_in = ynode_str(si);
		j->start_in_seconds = mduration_parse(j->start_in);
		if (j->when != WHEN_DELAYED)
			return mload_error(L, si->loc,
			                   "jobs:%s start in must be blank when not "
			                   "delayed",
			                   g->name);
		if (j->start_in_seconds < 0 || j->start_in_seconds > 604800)
			return mload_error(L, si->loc, "jobs:%s start in should be a duration",
			                   g->name);
	} else if (j->when == WHEN_DELAYED && !g->has_rules) {
		return mload_error(L, w->loc, "jobs:%s start in should be a duration", g->name);
	}
	return 0;
}

static int parse_timeout(struct mload *L, const char *name, const struct ynode *n, long *ret)
{
	if (!n)
		return 0;
	long t = n->kind == YNODE_STRING ? mduration_parse(n->str) : -1;
	if (t < 0)
		return mload_error(L, n->loc, "jobs:%s timeout config should be a duration", name);
	if (t > 2592000)
		return mload_error(L, n->loc, "jobs:%s timeout config should not exceed the limit",
		                   name);
	*ret = t;
	return 0;
}

/* ---- the job ----------------------------------------------------------------------------- */

#define STEP(expr)                                                                                 \
	do {                                                                                       \
		if ((expr) < 0) {                                                                  \
			if (mload_stop(L))                                                         \
				return -1;                                                         \
			rc = -1;                                                                   \
		}                                                                                  \
	} while (0)

static int build_scripts(struct mload *L, struct job_group *g, struct job *j)
{
	int rc = 0;
	if (!jentry(g, JK_SCRIPT) && !jentry(g, JK_RUN) && !g->is_trigger)
		STEP(mload_error(L, g->loc,
		                 "jobs:%s config should implement the script:, run:, or trigger: "
		                 "keyword",
		                 g->name));
	STEP(parse_script(L, g->name, "before_script", jget(g, JK_BEFORE_SCRIPT),
	                  &j->before_script));
	const struct ynode *sc = jget(g, JK_SCRIPT);
	/* GitLab validates the presence of script: [], "" and null are blank (Rails blank?) */
	if (sc && ((mnode_is_seq(sc) && !sc->n) || (sc->kind == YNODE_STRING && !*sc->str) ||
	           sc->kind == YNODE_NULL))
		STEP(mload_error(L, sc->loc, "jobs:%s script can't be blank", g->name));
	else
		STEP(parse_script(L, g->name, "script", sc, &j->script));
	STEP(parse_script(L, g->name, "after_script", jget(g, JK_AFTER_SCRIPT), &j->after_script));
	return rc;
}

static int build_runtime(struct mload *L, struct job_group *g, struct job *j)
{
	const struct ynode *v;
	int rc = 0;
	/* the location is only needed (and formatted) for the image: map form */
	const struct ynode *im = jget(g, JK_IMAGE);
	const char *where = im && im->kind != YNODE_NULL && !mnode_is_str(im)
	                        ? arena_printf(L->a, "jobs:%s:image", g->name)
	                        : "";
	STEP(parse_image(L, where, im, &j->image));
	STEP(parse_services(L, g->name, jget(g, JK_SERVICES), j));
	if ((v = jget(g, JK_ALLOW_FAILURE)))
		STEP(parse_allow_failure(L, g->name, v, j));
	if ((v = jget(g, JK_RETRY)))
		STEP(parse_retry(L, g->name, v, &j->retry));
	STEP(parse_timeout(L, g->name, jget(g, JK_TIMEOUT), &j->timeout_seconds));
	if ((v = jget(g, JK_INTERRUPTIBLE)) && v->kind != YNODE_BOOL)
		STEP(mload_error(
		    L, v->loc, "jobs:%s interruptible config should be a boolean value", g->name));
	j->interruptible = v && v->kind == YNODE_BOOL && v->v.b;
	if ((v = jget(g, JK_RESOURCE_GROUP)) && !mnode_is_str(v))
		STEP(mload_error(L, v->loc, "jobs:%s resource_group should be a string", g->name));
	j->resource_group = mnode_is_str(v) ? v->str : NULL;
	if ((v = jget(g, JK_COVERAGE)) && !mnode_is_str(v))
		STEP(mload_error(L, v->loc, "jobs:%s coverage config must be a regular expression",
		                 g->name));
	j->coverage = mnode_is_str(v) ? v->str : NULL;
	/* Tags entry: array_of_strings (a bare string is rejected by GitLab) */
	if ((v = jget(g, JK_TAGS)) && v->kind != YNODE_NULL &&
	    (!mnode_is_seq(v) || !all_strings(v) || mnode_string_list(L->a, v, 1, &j->tags) < 0))
		STEP(mload_error(L, v->loc, "jobs:%s tags config should be an array of strings",
		                 g->name));
	if ((v = jget(g, JK_ENVIRONMENT)))
		STEP(parse_environment(L, g->name, v, &j->environment));
	if ((v = jget(g, JK_ARTIFACTS)))
		STEP(parse_artifacts(L, g->name, v, &j->artifacts));
	if ((v = jget(g, JK_CACHE)))
		STEP(parse_caches(L, g->name, v, j));
	return rc;
}

static int build_deps(struct mload *L, struct job_group *g, struct job *j)
{
	const struct ynode *v = jget(g, JK_DEPENDENCIES);
	int rc = 0;
	g->needs_node = jget(g, JK_NEEDS);
	j->has_needs = g->needs_node != NULL;
	if (v) {
		j->has_dependencies = true;
		if (v->kind != YNODE_NULL && mnode_string_list(L->a, v, 1, &j->dependencies) < 0)
			STEP(mload_error(L, v->loc,
			                 "jobs:%s dependencies should be an array of strings",
			                 g->name));
	}
	return rc;
}

/* Inherited global variables (per inherit:variables) then the job's own. */
static int build_variables(struct mload *L, struct job_group *g, struct job *j)
{
	const struct ynode *inh = ynode_get(jget(g, JK_INHERIT), "variables");
	for (size_t i = 0; i < L->global_vars.n; i++) {
		const struct var *gv = &L->global_vars.v[i];
		bool take = !inh || (inh->kind == YNODE_BOOL && inh->v.b);
		for (size_t k = 0; mnode_is_seq(inh) && k < inh->n; k++)
			take = take || (ynode_str(inh->items[k]) &&
			                strcmp(ynode_str(inh->items[k]), gv->key) == 0);
		if (take)
			var_list_set(L->a, &j->variables, gv);
	}
	const struct ynode *vars = jget(g, JK_VARIABLES);
	if (!vars)
		return 0;
	const char *where = arena_printf(L->a, "jobs:%s", g->name);
	return job_variables_parse(L, where, vars, false, &j->variables);
}

static int build_group(struct mload *L, struct job_group *g)
{
	struct job *j = &g->proto;
	int rc = 0;
	memset(j, 0, sizeof(*j));
	j->name = j->group_name = g->name;
	j->loc = g->loc;
	j->node_total = 1;
	g->is_trigger = j->is_trigger = jentry(g, JK_TRIGGER) != NULL;
	g->rules_node = jget(g, JK_RULES);
	g->has_rules = g->rules_node != NULL;
	STEP(check_keys(L, g));
	STEP(build_scripts(L, g, j));
	STEP(parse_stage(L, g, j));
	STEP(build_variables(L, g, j));
	STEP(parse_when_start(L, g, j));
	STEP(build_runtime(L, g, j));
	STEP(build_deps(L, g, j));
	if (g->has_rules) {
		const char *where = arena_printf(L->a, "jobs:%s:rules", g->name);
		STEP(rules_parse(L, where, g->rules_node, true, &g->rules, &g->n_rules));
	}
	STEP(rules_parse_policy(L, g));
	STEP(parallel_parse(L, g));
	return rc;
}

int job_group_build(struct mload *L, struct job_group *g)
{
	struct job_keys keys;
	job_keys_fill(g->node, &keys);
	g->keys = &keys;
	int rc = build_group(L, g);
	g->keys = NULL;
	return rc;
}

void job_group_release(struct job_group *g)
{
	rules_free(g->rules, g->n_rules);
	g->rules = NULL;
	g->n_rules = 0;
	for (size_t i = 0; i < g->n_only_vars; i++)
		expr_free(g->only_vars[i]);
	for (size_t i = 0; i < g->n_except_vars; i++)
		expr_free(g->except_vars[i]);
	free(g->only_vars);
	free(g->except_vars);
	strmap_release(&g->inst_index);
}
