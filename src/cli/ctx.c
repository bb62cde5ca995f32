/* ctx: the common command-line options of every verb and the pipeline context they
 * produce (git facts + ref/source overrides + user variables). The option tables double as
 * the source of each verb's --help. */
#include "cli/ctx.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/diag.h"
#include "fetch/source.h"
#include "model/include-source.h"
#include "model/vars.h"
#include "util/cleanup.h"
#include "util/log.h"
#include "util/strbuf.h"
#include "util/xalloc.h"
#include "vcs/context.h"
#include "yaml/node.h"

enum {
	OPT_VARIABLE = 256,
	OPT_VARIABLES_FILE,
	OPT_BRANCH,
	OPT_TAG,
	OPT_SOURCE,
	OPT_INCLUDE_DIR,
	OPT_REFRESH_INCLUDES,
	OPT_LOCAL_PROJECT,
	OPT_HELP = 'h',
};

static const struct cli_option common_opts[] = {
    {"file", 'f', true, "FILE", "pipeline file (default: .gitlab-ci.yml at the repository root)"},
    {"cwd", 'C', true, "DIR", "run as if runnel was started in DIR"},
    {"variable", OPT_VARIABLE, true, "KEY=VALUE", "set a variable (repeatable; wins over all)"},
    {"variables-file", OPT_VARIABLES_FILE, true, "FILE",
     "read variables from FILE (KEY=VALUE lines or a YAML map)"},
    {"branch", OPT_BRANCH, true, "NAME", "evaluate as a pipeline for branch NAME"},
    {"tag", OPT_TAG, true, "NAME", "evaluate as a pipeline for tag NAME"},
    {"source", OPT_SOURCE, true, "SOURCE",
     "CI_PIPELINE_SOURCE: push (default), merge_request_event, schedule, web, api, trigger..."},
    {"include-dir", OPT_INCLUDE_DIR, true, "DIR",
     "folder holding remote/project/template includes for offline use (wins over the network)"},
    {"refresh-includes", OPT_REFRESH_INCLUDES, false, NULL,
     "fetch network includes again instead of using the cache"},
    {"local-project", OPT_LOCAL_PROJECT, true, "PROJECT[@REF]=DIR",
     "read PROJECT's project:/component: includes from DIR (repeatable; after --include-dir)"},
    {"help", OPT_HELP, false, NULL, "show this help"},
    {NULL, 0, false, NULL, NULL},
};

void cli_common_release(struct cli_common *c)
{
	strvec_release(&c->variables);
	strvec_release(&c->local_projects);
}

static void usage_table(FILE *out, const struct cli_option *o)
{
	for (; o && o->name; o++) {
		_cleanup_(strbuf_release) struct strbuf sb = STRBUF_INIT;
		if (o->key < 256)
			strbuf_addf(&sb, "-%c, ", o->key);
		else
			strbuf_addstr(&sb, "    ");
		strbuf_addf(&sb, "--%s", o->name);
		if (o->has_arg)
			strbuf_addf(&sb, " %s", o->arg);
		fprintf(out, "  %-30s %s\n", sb.buf, o->help);
	}
}

void cli_usage(FILE *out, const struct cli_verb *v)
{
	fprintf(out, "usage: runnel %s %s\n\n%s\n", v->name, v->synopsis, v->summary);
	if (v->opts && v->opts->name) {
		fprintf(out, "\noptions:\n");
		usage_table(out, v->opts);
	}
	fprintf(out, "\ncommon options:\n");
	usage_table(out, common_opts);
}

static void add_opts(const struct cli_option *o, struct option *lo, size_t *n, struct strbuf *sh)
{
	for (; o && o->name; o++) {
		lo[*n] = (struct option){o->name, o->has_arg ? required_argument : no_argument,
		                         NULL, o->key};
		(*n)++;
		if (o->key < 256) {
			strbuf_addch(sh, o->key);
			if (o->has_arg)
				strbuf_addch(sh, ':');
		}
	}
}

static size_t count_opts(const struct cli_option *o)
{
	size_t n = 0;
	while (o && o[n].name)
		n++;
	return n;
}

static int common_opt(struct cli_common *c, int key, const char *arg)
{
	switch (key) {
	case 'f':
		c->file = arg;
		return 1;
	case 'C':
		c->cwd = arg;
		return 1;
	case OPT_VARIABLE:
		strvec_push(&c->variables, arg);
		return 1;
	case OPT_VARIABLES_FILE:
		c->variables_file = arg;
		return 1;
	case OPT_BRANCH:
		c->branch = arg;
		return 1;
	case OPT_TAG:
		c->tag = arg;
		return 1;
	case OPT_SOURCE:
		c->source = arg;
		return 1;
	case OPT_INCLUDE_DIR:
		c->include_dir = arg;
		return 1;
	case OPT_REFRESH_INCLUDES:
		c->refresh_includes = true;
		return 1;
	case OPT_LOCAL_PROJECT:
		strvec_push(&c->local_projects, arg);
		return 1;
	default:
		return 0;
	}
}

static int parse_loop(int argc, char **argv, const struct cli_verb *v, struct cli_common *c,
                      const struct option *lo, const char *shortopts)
{
	int key;
	while ((key = getopt_long(argc, argv, shortopts, lo, NULL)) != -1) {
		if (key == OPT_HELP) {
			cli_usage(stdout, v);
			return 0;
		}
		if (key == '?' || key == ':') {
			fprintf(stderr, "runnel %s: see 'runnel %s --help'\n", v->name, v->name);
			return -1;
		}
		if (common_opt(c, key, optarg))
			continue;
		if (v->on_opt && v->on_opt(v->data, key, optarg) < 0)
			return -1;
	}
	return 1;
}

int cli_parse_args(int argc, char **argv, const struct cli_verb *v, struct cli_common *c)
{
	size_t nv = count_opts(v->opts), nc = count_opts(common_opts), n = 0;
	_cleanup_free_ struct option *lo = xcalloc(nv + nc + 1, sizeof(*lo));
	_cleanup_(strbuf_release) struct strbuf sh = STRBUF_INIT;
	/* no leading '+': GNU permutation lets options follow the job name
	 * (`runnel explain test --branch x`) */
	add_opts(v->opts, lo, &n, &sh);
	add_opts(common_opts, lo, &n, &sh);
	optind = 1;
	opterr = 1;
	int r = parse_loop(argc, argv, v, c, lo, sh.buf);
	if (r <= 0)
		return r;
	int npos = argc - optind;
	if (npos < v->min_args || (v->max_args >= 0 && npos > v->max_args)) {
		fprintf(stderr, "runnel %s: %s\nusage: runnel %s %s\n", v->name,
		        npos < v->min_args ? "missing argument" : "too many arguments", v->name,
		        v->synopsis);
		return -1;
	}
	return optind;
}

/* ---- variables ---- */

static bool valid_key(const char *k, size_t n)
{
	if (!n || !(isalpha((unsigned char)k[0]) || k[0] == '_'))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!(isalnum((unsigned char)k[i]) || k[i] == '_'))
			return false;
	return true;
}

/* User variables are pipeline variables: not public (they do not reach service containers)
 * and, in the model, above the YAML variables; public_ is how the model tells them apart
 * from the predefined ones. */
static void set_pipeline_var(struct arena *a, struct var_list *l, const char *key,
                             const char *value)
{
	struct var v = {.key = key, .value = value, .public_ = false};
	var_list_set(a, l, &v);
}

/* Unquotes a dotenv-style value: "..." with \n \" \\ escapes, '...' literal, else trimmed. */
static char *kv_value(const char *s, size_t n)
{
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	if (n >= 2 && s[0] == '\'' && s[n - 1] == '\'')
		return xstrndup(s + 1, n - 2);
	if (!(n >= 2 && s[0] == '"' && s[n - 1] == '"'))
		return xstrndup(s, n);
	struct strbuf sb = STRBUF_INIT;
	for (size_t i = 1; i + 1 < n; i++) {
		char ch = s[i];
		if (ch == '\\' && i + 2 < n) {
			ch = s[++i];
			ch = ch == 'n' ? '\n' : ch == 't' ? '\t' : ch;
		}
		strbuf_addch(&sb, ch);
	}
	return strbuf_detach(&sb, NULL);
}

/* Returns 1 when every content line is KEY=VALUE (then appended), 0 when the text is not in
 * that format (nothing appended). */
static int read_kv_lines(const char *text, struct arena *a, struct var_list *l)
{
	for (int pass = 0; pass < 2; pass++) {
		for (const char *p = text; *p;) {
			size_t len = strcspn(p, "\n");
			const char *line = p;
			p += len + (p[len] == '\n');
			while (len && isspace((unsigned char)*line))
				line++, len--;
			if (!len || *line == '#')
				continue;
			if (len > 7 && !strncmp(line, "export ", 7))
				line += 7, len -= 7;
			const char *eq = memchr(line, '=', len);
			if (!eq || !valid_key(line, (size_t)(eq - line)))
				return 0;
			if (pass == 0)
				continue;
			_cleanup_free_ char *key = xstrndup(line, (size_t)(eq - line));
			_cleanup_free_ char *val = kv_value(eq + 1, len - (size_t)(eq + 1 - line));
			set_pipeline_var(a, l, key, val);
		}
	}
	return 1;
}

static int yaml_var(const struct ymap_entry *e, struct arena *a, struct var_list *l,
                    struct err *err)
{
	struct var v = {.key = e->key, .public_ = false};
	if (ynode_is_scalar(e->value)) {
		v.value = ynode_str(e->value);
	} else if (e->value->kind == YNODE_MAP && ynode_is_scalar(ynode_get(e->value, "value"))) {
		const struct ynode *m = ynode_get(e->value, "masked");
		const struct ynode *x = ynode_get(e->value, "expand");
		v.value = ynode_str(ynode_get(e->value, "value"));
		v.masked = m && m->kind == YNODE_BOOL && m->v.b;
		v.raw = x && x->kind == YNODE_BOOL && !x->v.b;
	} else {
		return err_at(err, e->key_loc,
		              "variable '%s' must be a string or a map with 'value'", e->key);
	}
	if (!valid_key(e->key, strlen(e->key)))
		return err_at(err, e->key_loc, "invalid variable name '%s'", e->key);
	var_list_set(a, l, &v);
	return 0;
}

static int read_yaml_vars(const char *path, const char *text, size_t len, struct arena *a,
                          struct var_list *l, struct err *err)
{
	struct yload_opts yo = YLOAD_OPTS_INIT;
	struct ydoc *doc = ydoc_load_mem(path, text, len, &yo, err);
	if (!doc) {
		/* the location may name the document's copy of the path, freed with it */
		if (err->loc.file)
			err->loc.file = arena_strdup(a, path);
		return -1;
	}
	int r = 0;
	const struct ynode *root = doc->root;
	if (root && root->kind != YNODE_MAP)
		r = err_at(err, root->loc, "variables file must be KEY=VALUE lines or a YAML map");
	for (size_t i = 0; r == 0 && root && i < root->n; i++)
		r = yaml_var(&root->entries[i], a, l, err);
	if (r < 0 && err->loc.file)
		/* the document (and the file name in the location) dies with it */
		err->loc.file = arena_strdup(a, path);
	ydoc_free(doc);
	return r;
}

int cli_read_variables_file(const char *path, struct arena *a, struct var_list *l, struct err *err)
{
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	if (!f)
		return err_sys(err, errno, "cannot open variables file '%s'", path);
	_cleanup_(strbuf_release) struct strbuf sb = STRBUF_INIT;
	char chunk[4096];
	size_t k;
	while ((k = fread(chunk, 1, sizeof(chunk), f)) > 0)
		strbuf_add(&sb, chunk, k);
	if (ferror(f))
		return err_sys(err, EIO, "cannot read variables file '%s'", path);
	if (read_kv_lines(sb.buf, a, l))
		return 0;
	return read_yaml_vars(path, sb.buf, sb.len, a, l, err);
}

static int cli_variables(const struct cli_common *c, struct arena *a, struct var_list *l,
                         struct err *err)
{
	for (size_t i = 0; i < c->variables.n; i++) {
		const char *kv = c->variables.v[i];
		const char *eq = strchr(kv, '=');
		if (!eq || !valid_key(kv, (size_t)(eq - kv)))
			return err_set(err, ERR_USAGE,
			               "invalid --variable '%s': expected KEY=VALUE", kv);
		_cleanup_free_ char *key = xstrndup(kv, (size_t)(eq - kv));
		set_pipeline_var(a, l, key, eq + 1);
	}
	return 0;
}

/* ---- context ---- */

/* The repository root as seen from the cwd: "" at the root, "../../" below it, the absolute
 * root plus "/" elsewhere. Messages show config files through it, so an included file reads
 * as the user wrote it ("ci/jobs.yml"), not as an absolute path. Returns an owned string. */
static char *root_prefix(const struct vcs_repo *r)
{
	_cleanup_free_ char *cwd = getcwd(NULL, 0);
	struct strbuf sb = STRBUF_INIT;
	size_t rlen = strlen(r->root);
	if (r->in_repo && cwd && !strncmp(cwd, r->root, rlen) && cwd[rlen] == '/') {
		for (const char *p = cwd + rlen; *p; p++)
			if (*p == '/')
				strbuf_addstr(&sb, "../");
	} else if (r->in_repo && cwd && strcmp(cwd, r->root)) {
		strbuf_addf(&sb, "%s/", r->root);
	}
	return strbuf_detach(&sb, NULL);
}

/* "../../.gitlab-ci.yml" from cwd up to root, or ".gitlab-ci.yml" at the root. */
static char *default_file(const struct vcs_repo *r)
{
	_cleanup_free_ char *prefix = root_prefix(r);
	return xasprintf("%s.gitlab-ci.yml", prefix);
}

/* project_dir for the model: the root relative to the cwd ("." at the root). */
static const char *project_dir_shown(struct cli_ctx *ctx)
{
	_cleanup_free_ char *prefix = root_prefix(&ctx->repo);
	size_t n = strlen(prefix);
	if (!n)
		return ".";
	if (n > 1)
		prefix[n - 1] = '\0';
	return arena_strdup(&ctx->arena, prefix);
}

/* CI_CONFIG_PATH: the file relative to the repository root when it lies inside. */
static const char *config_path(struct cli_ctx *ctx)
{
	_cleanup_free_ char *abs = realpath(ctx->file, NULL);
	size_t rlen = strlen(ctx->repo.root);
	if (abs && !strncmp(abs, ctx->repo.root, rlen) && abs[rlen] == '/')
		return arena_strdup(&ctx->arena, abs + rlen + 1);
	return ctx->file;
}

/* Usage errors of --branch/--tag/--source, which do not depend on the repository. */
static int check_ref_opts(struct cli_ctx *ctx, const struct cli_common *c, struct err *err)
{
	ctx->source = c->source ? c->source : "push";
	if (!vcs_source_valid(ctx->source))
		return err_set(err, ERR_USAGE, "unknown pipeline source '%s' (one of: %s)",
		               ctx->source, vcs_source_names());
	if (c->branch && c->tag)
		return err_set(err, ERR_USAGE, "--branch and --tag are mutually exclusive");
	if (c->tag && !strcmp(ctx->source, "merge_request_event"))
		return err_set(err, ERR_USAGE, "a merge request pipeline cannot run for a tag");
	ctx->tag = c->tag;
	ctx->branch = c->branch;
	return 0;
}

/* The ref when the command line names none: from the repository (git facts collected). */
static void resolve_ref(struct cli_ctx *ctx)
{
	if (ctx->tag || ctx->branch)
		return;
	if (ctx->repo.branch) {
		ctx->branch = ctx->repo.branch;
	} else if (ctx->repo.tag && strcmp(ctx->source, "merge_request_event")) {
		ctx->tag = ctx->repo.tag;
	} else {
		ctx->branch = ctx->repo.default_branch;
		if (ctx->repo.in_repo)
			log_warn("HEAD is detached and not tagged: assuming branch '%s' "
			         "(use --branch or --tag)",
			         ctx->branch);
	}
}

static void list_view(struct string_list *sl, const struct strvec *sv)
{
	sl->v = (const char **)sv->v;
	sl->n = sv->n;
}

/* rules:changes gets a file list only for branch pushes and merge requests off the default
 * branch; elsewhere (default branch, tags, schedules...) it is unknown and changes: is true,
 * as GitLab does without a push diff. */
static int changed_files(struct cli_ctx *ctx, struct err *err)
{
	bool push_like =
	    !strcmp(ctx->source, "push") || !strcmp(ctx->source, "merge_request_event");
	if (!push_like || ctx->tag || !strcmp(ctx->branch, ctx->repo.default_branch))
		return 0;
	int r = vcs_changed_files(&ctx->repo, &ctx->changed_store, err);
	if (r < 0)
		return -1;
	if (r == 1) {
		list_view(&ctx->changed, &ctx->changed_store);
		ctx->pctx.changed_files = &ctx->changed;
	}
	return 0;
}

/* rules:changes:compare_to: asked by the model, lazily, once per ref */
static int changed_since(void *data, const char *ref, struct strvec *ret, struct err *err)
{
	return vcs_changed_since(data, ref, ret, err);
}

static long long pipeline_time(void)
{
	const char *sde = getenv("SOURCE_DATE_EPOCH");
	char *end;
	if (sde && *sde) {
		long long t = strtoll(sde, &end, 10);
		if (!*end)
			return t;
	}
	return (long long)time(NULL);
}

/* What completing the context needs besides ctx (arena-allocated, pctx.complete_data). */
struct ctx_completion {
	struct cli_ctx *ctx;
	struct var_list user_vars; /* --variables-file then --variable, replayed over the
	                            * predefined ones: the same sets in the same order */
	const char *config_path;
	long long now;
	bool done;
};

/* The user's variables, read before git has answered: their errors come first, as before. */
static int read_user_vars(struct cli_ctx *ctx, const struct cli_common *c, struct var_list *l,
                          struct err *err)
{
	if (c->variables_file &&
	    cli_read_variables_file(c->variables_file, &ctx->arena, l, err) < 0)
		return -1;
	return cli_variables(c, &ctx->arena, l, err);
}

/* pctx.complete: collects git (started by cli_ctx_init, running while the model parsed the
 * main file), resolves the ref and builds the variables. */
static int ctx_complete(void *data, struct err *err)
{
	struct ctx_completion *cc = data;
	struct cli_ctx *ctx = cc->ctx;
	if (cc->done)
		return 0;
	cc->done = true;
	vcs_repo_finish(&ctx->repo);
	resolve_ref(ctx);
	if (changed_files(ctx, err) < 0)
		return -1;
	struct vcs_ref_opts ro = {.branch = ctx->branch,
	                          .tag = ctx->tag,
	                          .source = ctx->source,
	                          .config_path = cc->config_path,
	                          .now = cc->now};
	vcs_predefined_vars(&ctx->repo, &ro, &ctx->arena, &ctx->pctx.vars, &ctx->job_vars);
	for (size_t i = 0; i < cc->user_vars.n; i++)
		var_list_set(&ctx->arena, &ctx->pctx.vars, &cc->user_vars.v[i]);
	return 0;
}

int cli_ctx_repo_files(struct cli_ctx *ctx, struct err *err)
{
	if (vcs_repo_files(&ctx->repo, err) < 0)
		return -1;
	list_view(&ctx->repo_files, &ctx->repo.files);
	return 0;
}

/* pctx.list_files: the model asks for the files only for rules:exists and local include
 * wildcards, so `runnel list` of most pipelines never runs git ls-files. */
static int list_files(void *data, const struct string_list **ret, struct err *err)
{
	struct cli_ctx *ctx = data;
	if (cli_ctx_repo_files(ctx, err) < 0)
		return -1;
	*ret = &ctx->repo_files;
	return 0;
}

/* --local-project group/project[@ref]=DIR values into mappings (in the arena), DIR made
 * absolute before any --cwd. */
static int local_projects(struct cli_ctx *ctx, const struct cli_common *c, struct isrc_local **ret,
                          struct err *err)
{
	size_t n = c->local_projects.n;
	struct isrc_local *v = n ? arena_alloc(&ctx->arena, n * sizeof(*v)) : NULL;
	for (size_t i = 0; i < n; i++) {
		const char *s = c->local_projects.v[i];
		const char *eq = strchr(s, '=');
		const char *at = eq ? memchr(s, '@', (size_t)(eq - s)) : NULL;
		const char *pend = at ? at : eq;
		if (!eq || pend == s || !memchr(s, '/', (size_t)(pend - s)) || !eq[1] ||
		    (at && at + 1 == eq))
			return err_set(err, ERR_USAGE,
			               "--local-project '%s' should be group/project[@ref]=DIR", s);
		_cleanup_free_ char *dir = realpath(eq + 1, NULL);
		struct stat st;
		if (!dir || stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
			return err_set(err, ERR_USAGE, "--local-project '%s': no folder '%s'", s,
			               eq + 1);
		v[i].project = arena_strndup(&ctx->arena, s, (size_t)(pend - s));
		v[i].ref = at ? arena_strndup(&ctx->arena, at + 1, (size_t)(eq - at - 1)) : NULL;
		v[i].dir = arena_strdup(&ctx->arena, dir);
	}
	*ret = v;
	return 0;
}

/* git runs from here until the model (or cli_ctx_load) calls pctx.complete: the repository
 * root is known at once, everything else is collected after the main file is parsed. The
 * file list is not: see list_files. */
int cli_ctx_init(struct cli_ctx *ctx, const struct cli_common *c, struct err *err)
{
	memset(ctx, 0, sizeof(*ctx));
	arena_init(&ctx->arena);
	strvec_init(&ctx->changed_store);
	struct isrc_local *locals = NULL;
	if (local_projects(ctx, c, &locals, err) < 0)
		return -1;
	if (c->cwd && chdir(c->cwd) < 0)
		return err_sys(err, errno, "cannot change to directory '%s'", c->cwd);
	if (vcs_repo_start(".", 0, &ctx->repo, err) < 0)
		return -1;
	if (!ctx->repo.in_repo)
		log_warn("not in a git repository: using local defaults for the CI_* variables");
	ctx->file = c->file ? xstrdup(c->file) : default_file(&ctx->repo);
	if (access(ctx->file, R_OK) < 0)
		return err_sys(err, errno, "cannot open '%s'", ctx->file);
	if (check_ref_opts(ctx, c, err) < 0)
		return -1;
	ctx->pctx.project_dir = project_dir_shown(ctx);
	ctx->pctx.include_dir = c->include_dir;
	/* remote: includes come from the network (through the cache); libcurl is loaded by the
	 * first one only */
	struct fetch_opts fo = FETCH_OPTS_INIT;
	fo.refresh = c->refresh_includes;
	fo.locals = locals;
	fo.n_locals = c->local_projects.n;
	ctx->fetch = fetch_source_new(&fo);
	ctx->pctx.includes = fetch_source_iface(ctx->fetch);
	ctx->pctx.changed_since = changed_since;
	ctx->pctx.changed_since_data = &ctx->repo;
	/* outside a repository the model scans the folder instead */
	if (ctx->repo.in_repo) {
		ctx->pctx.list_files = list_files;
		ctx->pctx.list_files_data = ctx;
	}
	struct ctx_completion *cc = arena_alloc(&ctx->arena, sizeof(*cc));
	cc->ctx = ctx;
	cc->config_path = config_path(ctx);
	cc->now = pipeline_time();
	ctx->pctx.complete = ctx_complete;
	ctx->pctx.complete_data = cc;
	return read_user_vars(ctx, c, &cc->user_vars, err);
}

void cli_ctx_release(struct cli_ctx *ctx)
{
	if (!ctx)
		return;
	vcs_repo_release(&ctx->repo);
	fetch_source_free(ctx->fetch);
	free(ctx->file);
	strvec_release(&ctx->changed_store);
	/* the variable lists (arrays and strings) live in the arena */
	arena_release(&ctx->arena);
	memset(ctx, 0, sizeof(*ctx));
}

struct pipeline *cli_ctx_load(struct cli_ctx *ctx, const struct pipeline_opts *opts,
                              struct err *err)
{
	struct pipeline_opts none = {0};
	struct pipeline *p = pipeline_load(ctx->file, &ctx->pctx, opts ? opts : &none, err);
	/* a load that failed before the model needed the context (a syntax error in the main
	 * file): complete it anyway, the verb may read it; the load's error is the one shown */
	if (ctx->pctx.complete) {
		struct err ignored = ERR_INIT;
		(void)ctx->pctx.complete(ctx->pctx.complete_data, &ignored);
		err_release(&ignored);
	}
	/* a configuration error without a position (file-level limits): print it as
	 * `file: error: ...` rather than `runnel: error: ...` */
	if (!p && err->kind == ERR_CONFIG && !err->loc.file)
		err->loc = (struct srcloc){.file = ctx->file};
	return p;
}

const char *cli_ctx_shown_value(const struct cli_ctx *ctx, const char *key, const char *value)
{
	const struct var *v = var_list_get(&ctx->pctx.vars, key);
	if (v && v->masked)
		return "[MASKED]";
	return value;
}

int cli_ctx_prepare(struct cli_ctx *ctx, const struct cli_common *c, struct pipeline **ret_p)
{
	struct err err = ERR_INIT;
	int rc = 0;
	struct pipeline *p = NULL;
	if (cli_ctx_init(ctx, c, &err) < 0 || !(p = cli_ctx_load(ctx, NULL, &err))) {
		rc = diag_report(&err);
		err_release(&err);
		return rc ? rc : 3;
	}
	diag_print_list(stderr, &p->warnings);
	*ret_p = p;
	return 0;
}

bool cli_session_parse(struct cli_session *s, int argc, char **argv, const struct cli_verb *v)
{
	s->argi = cli_parse_args(argc, argv, v, &s->common);
	if (s->argi > 0)
		return true;
	s->rc = s->argi == 0 ? 0 : 2;
	return false;
}

bool cli_session_start(struct cli_session *s, int argc, char **argv, const struct cli_verb *v)
{
	if (!cli_session_parse(s, argc, argv, v))
		return false;
	struct err err = ERR_INIT;
	s->ctx_started = true;
	if (cli_ctx_init(&s->ctx, &s->common, &err) == 0)
		return true;
	s->rc = diag_report(&err);
	err_release(&err);
	return false;
}

bool cli_session_load(struct cli_session *s, int argc, char **argv, const struct cli_verb *v)
{
	if (!cli_session_parse(s, argc, argv, v))
		return false;
	s->ctx_started = true;
	s->rc = cli_ctx_prepare(&s->ctx, &s->common, &s->p);
	return s->rc == 0;
}

void cli_session_release(struct cli_session *s)
{
	pipeline_free(s->p);
	s->p = NULL;
	if (s->ctx_started)
		cli_ctx_release(&s->ctx);
	s->ctx_started = false;
	cli_common_release(&s->common);
}

const char *cli_when_name(enum job_when w)
{
	switch (w) {
	case WHEN_ON_SUCCESS:
		return "on_success";
	case WHEN_ON_FAILURE:
		return "on_failure";
	case WHEN_ALWAYS:
		return "always";
	case WHEN_MANUAL:
		return "manual";
	case WHEN_DELAYED:
		return "delayed";
	case WHEN_NEVER:
		return "never";
	}
	return "on_success";
}
