/* include: GitLab's include resolution, offline.
 *
 * Every include entry is normalised to (kind, location) and resolved to one or more files:
 *  - local: path from the root of the project owning the including file (leading `/`
 *    optional); `*` matches within one folder, `**` across folders; files come from
 *    mload_repo_files (ctx->repo_files, ctx->list_files or a scan of ctx->project_dir).
 *  - remote / project / template / component: GitLab fetches these over the network. We read
 *    them from ctx->include_dir (`--include-dir DIR`), laid out as:
 *      DIR/remote/<host>/<path>                       for remote: https://<host>/<path>
 *      DIR/project/<group/project>/<ref or HEAD>/<file> for project: + file: (+ ref:)
 *      DIR/template/<Name>.gitlab-ci.yml               for template: Name.gitlab-ci.yml
 *      DIR/component/<host/path/name>@<version>/template.yml, or
 *      DIR/component/<host/path>@<version>/templates/<name>.yml, or
 *      DIR/component/<host/path>@<version>/templates/<name>/template.yml
 *                                                     for component: host/path/name@version
 *    A local include inside a project or component file resolves inside that project's
 *    folder; inside a remote or template file, inside the main project (as GitLab does).
 * Each file's content is the deep merge of its own includes (in order, nested first) with the
 * file itself on top; the main file is merged last and wins. `spec:inputs` headers are
 * interpolated ($[[ inputs.NAME ]]) before the file's own includes are read.
 * docs/internals/includes.md describes the same layout for users. */
#include "model/include.h"

#include <ctype.h>
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "model/expr.h"
#include "model/include-source.h"
#include "model/rules.h"
#include "model/vars.h"
#include "util/arena.h"
#include "util/cleanup.h"
#include "util/strbuf.h"
#include "util/xalloc.h"
#include "yaml/node.h"

#define MAX_INCLUDES 150
#define MAX_NESTING 100
#define MAX_FUNCTIONS 3 /* per $[[ ]] block (GitLab's Interpolation::Block) */

enum inc_kind { INC_LOCAL, INC_REMOTE, INC_PROJECT, INC_TEMPLATE, INC_COMPONENT };

/* Where local includes of a file resolve: a folder and, for wildcards, its file list. */
struct inc_base {
	const char *dir;   /* project folder (NULL/"" = current directory) */
	bool main_project; /* dir is ctx->project_dir: use mload_repo_files */
	/* a project: file fetched through the include source: its local includes are that
	 * project's files at that ref, asked for the same way (dir unused) */
	const char *project, *ref;
};

struct inc_file {
	const char *path; /* path to open, or the URL of a fetched body */
	const char *body; /* fetched content (borrowed from the level's results), or NULL */
	size_t len;
	const char *warning;  /* said once about a fetched body (served from the cache), or NULL */
	const char *shown;    /* as written by the user, for messages */
	struct inc_base base; /* where its own local includes resolve */
};

/* The network includes of one include: value, fetched together before its entries are resolved
 * (GitLab also fetches one level's remote files in parallel). */
struct inc_level {
	const struct ynode **entries; /* the entry each request came from */
	size_t *files;                /* and which of its files (project: file lists) */
	struct isrc_request *reqs;
	struct isrc_result *res;
	size_t n;
};

static int process_file(struct mload *L, const struct inc_file *f, const struct ynode *inputs,
                        struct srcloc at, unsigned depth, struct ynode **ret);

void isrc_result_release(struct isrc_result *r)
{
	if (!r)
		return;
	free(r->body);
	free(r->warning);
	err_release(&r->err);
	*r = (struct isrc_result){0};
}

/* What the include source answered for file k of entry e, or NULL when it was not asked. */
static struct isrc_result *level_result(const struct inc_level *lvl, const struct ynode *e,
                                        size_t k)
{
	for (size_t i = 0; lvl && i < lvl->n; i++)
		if (lvl->entries[i] == e && lvl->files[i] == k)
			return &lvl->res[i];
	return NULL;
}

/* Takes a fetched body into f, or records the source's error; 1 when neither (not asked,
 * or a kind the source does not fetch). */
static int take_fetched(struct mload *L, struct srcloc at, struct isrc_result *fetched,
                        struct inc_file *f)
{
	if (fetched && fetched->body) {
		f->body = fetched->body;
		f->len = fetched->len;
		f->warning = fetched->warning;
		return 0;
	}
	if (fetched && err_is_set(&fetched->err)) {
		int rc = mload_error(L, at, "%s", fetched->err.msg);
		err_release(&fetched->err);
		return rc;
	}
	return 1;
}

static const char *path_join(struct arena *a, const char *dir, const char *rel)
{
	if (!dir || !*dir || strcmp(dir, ".") == 0)
		return arena_strdup(a, rel);
	size_t n = strlen(dir);
	return arena_printf(a, "%s%s%s", dir, dir[n - 1] == '/' ? "" : "/", rel);
}

static bool file_exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static bool has_yaml_ext(const char *p)
{
	size_t n = strlen(p);
	return (n >= 4 && strcasecmp(p + n - 4, ".yml") == 0) ||
	       (n >= 5 && strcasecmp(p + n - 5, ".yaml") == 0);
}

/* ---- spec:inputs ---------------------------------------------------------------------- */

struct inputs_ctx {
	struct mload *L;
	const struct ynode *values; /* map name -> value node */
	bool failed;
};

/* Applies `| fn` pipes GitLab supports on interpolated values: expand_vars, truncate(a,b),
 * posix_escape. Unknown functions are an error. */
static int apply_function(struct inputs_ctx *ic, const char *fn, struct srcloc loc,
                          struct strbuf *val)
{
	while (isspace((unsigned char)*fn))
		fn++;
	if (strncmp(fn, "expand_vars", 11) == 0) {
		struct strbuf out = STRBUF_INIT;
		vars_expand_gitlab(val->buf, &ic->L->ctx->vars, &out);
		strbuf_release(val);
		*val = out;
		return 0;
	}
	if (strncmp(fn, "posix_escape", 12) == 0) {
		struct strbuf out = STRBUF_INIT;
		for (const char *s = val->buf; *s; s++) {
			if (!isalnum((unsigned char)*s) && !strchr("_-./=,:@%+", *s))
				strbuf_addch(&out, '\\');
			strbuf_addch(&out, *s);
		}
		strbuf_release(val);
		*val = out;
		return 0;
	}
	long off, len;
	if (sscanf(fn, "truncate(%ld,%ld)", &off, &len) == 2 ||
	    sscanf(fn, "truncate( %ld , %ld )", &off, &len) == 2) {
		if (off < 0 || len < 0)
			return mload_error(ic->L, loc, "invalid interpolation function: truncate");
		size_t o = (size_t)off > val->len ? val->len : (size_t)off;
		size_t l = o + (size_t)len > val->len ? val->len - o : (size_t)len;
		memmove(val->buf, val->buf + o, l);
		strbuf_setlen(val, l);
		return 0;
	}
	_cleanup_free_ char *name = xstrdup(fn);
	size_t n = strlen(name);
	while (n > 0 && isspace((unsigned char)name[n - 1]))
		name[--n] = '\0';
	return mload_error(ic->L, loc,
	                   "no function matching `%s`: check that the function name, arguments, "
	                   "and types are correct",
	                   name);
}

/* Counts the `| fn` pipes of a block: GitLab allows at most MAX_FUNCTIONS. */
static size_t count_functions(const char *pipe)
{
	size_t n = 0;
	for (const char *c = pipe; c; c = strchr(c + 1, '|'))
		n++;
	return n;
}

/* Appends a value used inside a longer string as Ruby's to_s shows it (GitLab interpolates
 * with block.value.to_s): arrays as ["a", 1, true], scalars as they are. */
static void add_ruby_to_s(struct strbuf *out, const struct ynode *v, bool nested)
{
	if (v && v->kind == YNODE_SEQ) {
		strbuf_addch(out, '[');
		for (size_t i = 0; i < v->n; i++) {
			strbuf_addstr(out, i ? ", " : "");
			add_ruby_to_s(out, v->items[i], true);
		}
		strbuf_addch(out, ']');
		return;
	}
	if (v && v->kind == YNODE_MAP) {
		struct strbuf tmp = STRBUF_INIT;
		ynode_emit(v, &tmp);
		strbuf_rtrim(&tmp);
		strbuf_add(out, tmp.buf, tmp.len);
		strbuf_release(&tmp);
		return;
	}
	if (!nested || (v && v->kind != YNODE_STRING && v->kind != YNODE_NULL)) {
		strbuf_addstr(out, ynode_str(v) ? ynode_str(v) : "");
		return;
	}
	if (!v || v->kind == YNODE_NULL) {
		strbuf_addstr(out, "nil");
		return;
	}
	strbuf_addch(out, '"');
	for (const char *c = v->str; *c; c++) {
		if (*c == '"' || *c == '\\')
			strbuf_addch(out, '\\');
		strbuf_addch(out, *c);
	}
	strbuf_addch(out, '"');
}

/* Looks up one `inputs.NAME | fn | fn` block; *ret_node is the raw input value. */
static int interp_block(struct inputs_ctx *ic, const char *blk, size_t len, struct srcloc loc,
                        const struct ynode **ret_node, struct strbuf *ret_text)
{
	_cleanup_free_ char *b = xstrndup(blk, len);
	char *pipe = strchr(b, '|');
	if (pipe)
		*pipe = '\0';
	char *key = b;
	while (isspace((unsigned char)*key))
		key++;
	char *e = key + strlen(key);
	while (e > key && isspace((unsigned char)e[-1]))
		*--e = '\0';
	/* GitLab's Interpolation::Access: at least two dot-separated parts, looked up from the
	 * first; only `inputs` exists here (`component` needs spec:component, not supported) */
	char *dot = strchr(key, '.');
	if (!dot || !dot[1])
		return mload_error(ic->L, loc, "invalid interpolation access pattern");
	if (strncmp(key, "inputs.", 7) != 0)
		return mload_error(ic->L, loc, "unknown interpolation key: `%.*s`",
		                   (int)(dot - key), key);
	const struct ynode *v = ynode_get(ic->values, key + 7);
	if (!ynode_entry(ic->values, key + 7))
		return mload_error(ic->L, loc, "unknown interpolation key: `%s`", key + 7);
	if (pipe && count_functions(pipe) > MAX_FUNCTIONS)
		return mload_error(ic->L, loc, "too many functions in interpolation block");
	*ret_node = v;
	add_ruby_to_s(ret_text, v, false);
	for (char *fn = pipe ? pipe + 1 : NULL; fn;) {
		char *next = strchr(fn, '|');
		if (next)
			*next++ = '\0';
		if (apply_function(ic, fn, loc, ret_text) < 0)
			return -1;
		*ret_node = NULL; /* a function makes the result a string */
		fn = next;
	}
	return 0;
}

/* Interpolates a string; returns a new node, or s itself when it holds no `$[[`. A string that
 * is exactly one block keeps the input's type (GitLab). */
static struct ynode *interp_string(struct inputs_ctx *ic, struct ynode *s)
{
	const char *str = s->str;
	if (!strstr(str, "$[["))
		return s;
	struct strbuf out = STRBUF_INIT;
	const struct ynode *whole = NULL;
	size_t blocks = 0;
	const char *p = str;
	while (*p) {
		const char *o = strstr(p, "$[[");
		const char *c = o ? strstr(o + 3, "]]") : NULL;
		if (!o || !c) {
			strbuf_addstr(&out, p);
			break;
		}
		strbuf_add(&out, p, (size_t)(o - p));
		const struct ynode *node = NULL;
		if (interp_block(ic, o + 3, (size_t)(c - o - 3), s->loc, &node, &out) < 0) {
			ic->failed = true;
			strbuf_release(&out);
			return s;
		}
		blocks++;
		whole = (o == str && c[2] == '\0') ? node : NULL;
		p = c + 2;
	}
	struct ynode *r;
	if (blocks == 1 && whole) {
		r = arena_alloc(ic->L->a, sizeof(*r));
		*r = *whole;
		r->loc = s->loc;
	} else {
		r = ynode_new_string(ic->L->a, out.buf, s->loc);
	}
	strbuf_release(&out);
	return r;
}

static struct ynode *interp_node(struct inputs_ctx *ic, struct ynode *n)
{
	if (!n || ic->failed)
		return n;
	if (n->kind == YNODE_STRING)
		return interp_string(ic, n);
	if (n->kind == YNODE_SEQ) {
		struct ynode *c = NULL;
		for (size_t i = 0; i < n->n; i++) {
			struct ynode *v = interp_node(ic, n->items[i]);
			if (v != n->items[i] && !c)
				c = ynode_shallow_copy(ic->L->a, n);
			if (c)
				c->items[i] = v;
		}
		return c ? c : n;
	}
	if (n->kind != YNODE_MAP)
		return n;
	struct ynode *c = NULL;
	bool keys_changed = false;
	for (size_t i = 0; i < n->n; i++) {
		struct ynode *v = interp_node(ic, n->entries[i].value);
		const char *k = n->entries[i].key;
		if (strstr(k, "$[[")) {
			struct ynode tmp = {
			    .kind = YNODE_STRING, .str = k, .loc = n->entries[i].key_loc};
			struct ynode *kn = interp_string(ic, &tmp);
			k = kn != &tmp ? kn->str : k;
		}
		if ((v != n->entries[i].value || k != n->entries[i].key) && !c)
			c = ynode_shallow_copy(ic->L->a, n);
		if (c) {
			c->entries[i].value = v;
			keys_changed = keys_changed || k != c->entries[i].key;
			c->entries[i].key = k;
		}
	}
	if (!keys_changed)
		return c ? c : n;
	/* Interpolated keys: rebuild so the map's lookup index matches (and duplicates merge). */
	struct ynode *m = ynode_new(ic->L->a, YNODE_MAP, n->loc);
	for (size_t i = 0; i < c->n; i++)
		ynode_map_set(ic->L->a, m, c->entries[i].key, c->entries[i].key_loc,
		              c->entries[i].value);
	return m;
}

/* The spec's `type:` (string when absent); NULL with an error when GitLab does not know it. */
static const char *input_type(struct mload *L, const char *name, const struct ynode *spec,
                              struct srcloc at)
{
	const struct ynode *t = ynode_get(spec, "type");
	const char *type = ynode_str(t);
	if (!t || t->kind == YNODE_NULL)
		return "string";
	static const char *const known[] = {"array", "boolean", "number", "string"};
	for (size_t i = 0; type && i < sizeof(known) / sizeof(*known); i++)
		if (strcmp(type, known[i]) == 0)
			return known[i];
	(void)at;
	mload_error(L, t->loc, "header:spec:inputs:%s input type unknown value: %s", name,
	            type ? type : "");
	return NULL;
}

static bool input_type_ok(const char *type, const struct ynode *v)
{
	if (strcmp(type, "string") == 0)
		return v->kind == YNODE_STRING;
	if (strcmp(type, "number") == 0)
		return v->kind == YNODE_INT || v->kind == YNODE_FLOAT;
	if (strcmp(type, "boolean") == 0)
		return v->kind == YNODE_BOOL;
	return v->kind == YNODE_SEQ;
}

/* options: (string and number inputs only) and regex: (string inputs only), as GitLab's
 * Interpolation::Inputs validate them. */
static int check_options_regex(struct mload *L, const char *name, const char *type,
                               const struct ynode *spec, const struct ynode *v, bool is_default)
{
	const struct ynode *opts = ynode_get(spec, "options");
	if (opts && strcmp(type, "string") != 0 && strcmp(type, "number") != 0)
		return mload_error(L, v->loc,
		                   "`%s` input: Options can only be used with string and number "
		                   "inputs",
		                   name);
	if (mnode_is_seq(opts)) {
		size_t i = 0;
		while (i < opts->n && !(ynode_str(opts->items[i]) &&
		                        strcmp(ynode_str(opts->items[i]), v->str) == 0))
			i++;
		if (i == opts->n)
			return mload_error(L, v->loc,
			                   "`%s` input: `%s` cannot be used because it is not in "
			                   "the list of allowed options",
			                   name, v->str);
	}
	const struct ynode *rx = ynode_get(spec, "regex");
	if (!rx)
		return 0;
	if (strcmp(type, "string") != 0)
		return mload_error(L, v->loc,
		                   "`%s` input: RegEx validation can only be used with string "
		                   "inputs",
		                   name);
	const char *body = ynode_str(rx) ? ynode_str(rx) : "";
	struct expr_regex *re = expr_regex_compile(body, strlen(body), "");
	if (!re)
		return mload_error(L, rx->loc, "`%s` input: invalid regular expression", name);
	int m = expr_regex_search(re, v->str, strlen(v->str));
	expr_regex_free(re);
	if (m != 1)
		return mload_error(L, v->loc,
		                   "`%s` input: %s value does not match required RegEx pattern",
		                   name, is_default ? "default" : "provided");
	return 0;
}

/* Checks one value (the default or the given one) against its spec: type, options, regex. */
static int check_value(struct mload *L, const char *name, const char *type,
                       const struct ynode *spec, const struct ynode *v, bool is_default)
{
	if (!input_type_ok(type, v))
		return mload_error(L, v->loc, "`%s` input: %s value is not a%s %s", name,
		                   is_default ? "default" : "provided",
		                   strcmp(type, "array") == 0 ? "n" : "", type);
	return check_options_regex(L, name, type, spec, v, is_default);
}

/* Checks an input's default (when it has one) and the given value against its spec. A null
 * given value counts as not given (GitLab: value.nil? uses the default). */
static int check_input(struct mload *L, const char *name, const struct ynode *spec,
                       const struct ynode *given, struct srcloc at)
{
	const char *type = input_type(L, name, spec, at);
	if (!type)
		return -1;
	const struct ymap_entry *d = ynode_entry(spec, "default");
	if (d && d->value && d->value->kind != YNODE_NULL &&
	    check_value(L, name, type, spec, d->value, true) < 0)
		return -1;
	if (given && given->kind != YNODE_NULL)
		return check_value(L, name, type, spec, given, false);
	return 0;
}

/* Builds the name -> value map from the header's spec:inputs and the given inputs. */
static int collect_inputs(struct mload *L, const struct ydoc *doc, const struct ynode *given,
                          struct srcloc at, struct ynode **ret_values)
{
	const struct ynode *spec = ynode_get(ynode_get(doc->header, "spec"), "inputs");
	struct ynode *values = ynode_new(L->a, YNODE_MAP, at);
	for (size_t i = 0; given && given->kind == YNODE_MAP && i < given->n; i++) {
		if (!ynode_entry(spec, given->entries[i].key))
			return mload_error(L, given->entries[i].key_loc,
			                   "unknown input arguments: %s", given->entries[i].key);
	}
	for (size_t i = 0; spec && spec->kind == YNODE_MAP && i < spec->n; i++) {
		const char *name = spec->entries[i].key;
		const struct ynode *s = spec->entries[i].value;
		const struct ymap_entry *g = ynode_entry(given, name);
		const struct ymap_entry *d = ynode_entry(s, "default");
		/* a null given value counts as not given (GitLab: value.nil? takes the default) */
		const struct ynode *gv =
		    g && g->value && g->value->kind != YNODE_NULL ? g->value : NULL;
		if (!gv && !d)
			return mload_error(
			    L, at, "`%s` input: required value has not been provided", name);
		if (check_input(L, name, s, gv, at) < 0)
			return -1;
		const struct ynode *v = gv ? gv : d->value;
		ynode_map_set(L->a, values, name, spec->entries[i].key_loc, (struct ynode *)v);
	}
	*ret_values = values;
	return 0;
}

/* Interpolates doc->root with its header's inputs; returns the (possibly new) content root. */
static int apply_inputs(struct mload *L, const struct ydoc *doc, const struct ynode *given,
                        struct srcloc at, struct ynode **ret_root)
{
	*ret_root = doc->root;
	if (!doc->header) {
		if (given && given->kind == YNODE_MAP && given->n > 0)
			return mload_error(L, at,
			                   "Given inputs not defined in the `spec` section of the "
			                   "included configuration file");
		return 0;
	}
	struct ynode *values = NULL;
	if (collect_inputs(L, doc, given, at, &values) < 0)
		return -1;
	struct inputs_ctx ic = {.L = L, .values = values};
	struct ynode *r = interp_node(&ic, doc->root);
	if (ic.failed)
		return -1;
	*ret_root = r;
	return 0;
}

/* ---- local files ------------------------------------------------------------------- */

static void scan_dir(struct arena *a, const char *root, const char *rel, struct string_list *out,
                     unsigned depth)
{
	if (depth > 32)
		return;
	_cleanup_free_ char *dir = rel[0] ? xasprintf("%s/%s", root, rel) : xstrdup(root);
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
		    strcmp(de->d_name, ".git") == 0)
			continue;
		const char *sub = rel[0] ? arena_printf(a, "%s/%s", rel, de->d_name)
		                         : arena_strdup(a, de->d_name);
		_cleanup_free_ char *full = xasprintf("%s/%s", root, sub);
		struct stat st;
		if (lstat(full, &st) < 0)
			continue;
		if (S_ISDIR(st.st_mode))
			scan_dir(a, root, sub, out, depth + 1);
		else
			mstring_list_push(a, out, sub);
	}
	closedir(d);
}

static int cmp_str(const void *x, const void *y)
{
	return strcmp(*(const char *const *)x, *(const char *const *)y);
}

/* ctx->list_files, asked once: NULL after a recorded failure. */
static const struct string_list *listed_files(struct mload *L)
{
	if (!L->repo_listed) {
		L->repo_listed = true;
		struct err e = ERR_INIT;
		if (L->ctx->list_files(L->ctx->list_files_data, &L->listed_files, &e) < 0) {
			L->repo_list_failed = true;
			mload_take_err(L, &e);
		}
	}
	return L->repo_list_failed ? NULL : L->listed_files;
}

const struct string_list *mload_repo_files(struct mload *L)
{
	/* complete may set repo_files or list_files */
	if (mload_ctx_complete(L) < 0)
		return NULL;
	if (L->ctx->repo_files)
		return L->ctx->repo_files;
	if (L->ctx->list_files)
		return listed_files(L);
	if (!L->repo_scanned) {
		L->repo_scanned = true;
		scan_dir(L->a, L->ctx->project_dir ? L->ctx->project_dir : ".", "", &L->repo_files,
		         0);
		if (L->repo_files.n)
			qsort(L->repo_files.v, L->repo_files.n, sizeof(char *), cmp_str);
	}
	return &L->repo_files;
}

/* Include wildcards: `*` within a folder, `**` across folders (GitLab's
 * search_files_by_wildcard_path). */
static bool wildcard_match(const char *pat, const char *s)
{
	if (*pat == '\0')
		return *s == '\0';
	if (pat[0] == '*' && pat[1] == '*') {
		const char *rest = pat + 2;
		for (const char *t = s;; t++) {
			if (wildcard_match(rest, t))
				return true;
			if (!*t)
				return false;
		}
	}
	if (*pat == '*') {
		for (const char *t = s;; t++) {
			if (wildcard_match(pat + 1, t))
				return true;
			if (!*t || *t == '/')
				return false;
		}
	}
	return *s && *pat == *s && wildcard_match(pat + 1, s + 1);
}

/* A local include inside a project: file that came through the include source: that
 * project's file at that ref, fetched with the level. */
static int resolve_fetched_local(struct mload *L, const char *path, struct srcloc at,
                                 const struct inc_base *base, struct isrc_result *fetched,
                                 struct inc_file *f)
{
	if (strchr(path, '*'))
		return mload_error(L, at,
		                   "local include '%s' in a file of project '%s': wildcards in "
		                   "fetched projects are not supported yet",
		                   path, base->project);
	f->shown = arena_strdup(L->a, path);
	f->path = arena_printf(L->a, "%s:%s", base->project, path);
	f->base = *base;
	int rc = take_fetched(L, at, fetched, f);
	return rc <= 0 ? rc : mload_error(L, at, "Local file `%s` does not exist!", path);
}

static int resolve_local(struct mload *L, const char *path, struct srcloc at,
                         const struct inc_base *base, struct isrc_result *fetched,
                         struct inc_file **ret, size_t *ret_n)
{
	while (*path == '/')
		path++;
	if (!has_yaml_ext(path))
		return mload_error(L, at, "Included file `%s` does not have YAML extension!", path);
	if (base->project) {
		*ret = arena_alloc(L->a, sizeof(**ret));
		*ret_n = 1;
		return resolve_fetched_local(L, path, at, base, fetched, *ret);
	}
	if (!strchr(path, '*')) {
		struct inc_file *f = arena_alloc(L->a, sizeof(*f));
		f->path = path_join(L->a, base->dir, path);
		f->shown = arena_strdup(L->a, path);
		f->base = *base;
		if (!file_exists(f->path))
			return mload_error(L, at, "Local file `%s` does not exist!", path);
		*ret = f;
		*ret_n = 1;
		return 0;
	}
	struct string_list other = {0};
	const struct string_list *files = base->main_project ? mload_repo_files(L) : &other;
	if (!files)
		return -1;
	if (!base->main_project) {
		scan_dir(L->a, base->dir, "", &other, 0);
		if (other.n)
			qsort(other.v, other.n, sizeof(char *), cmp_str);
		files = &other;
	}
	struct inc_file *v = arena_alloc(L->a, sizeof(*v) * (files->n + 1));
	size_t n = 0;
	for (size_t i = 0; i < files->n; i++) {
		if (!wildcard_match(path, files->v[i]) || !has_yaml_ext(files->v[i]))
			continue;
		v[n].path = path_join(L->a, base->dir, files->v[i]);
		v[n].shown = files->v[i];
		v[n].base = *base;
		n++;
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

/* ---- remote / project / template / component: offline from ctx->include_dir ------------- */

static int offline_missing(struct mload *L, struct srcloc at, const char *what, const char *name,
                           const char *layout)
{
	if (!L->ctx->include_dir)
		return mload_error(
		    L, at,
		    "%s include '%s' cannot be fetched offline; pass --include-dir DIR "
		    "holding it as DIR/%s",
		    what, name, layout);
	return mload_error(L, at, "%s include '%s' not found: no file '%s/%s'", what, name,
	                   L->ctx->include_dir, layout);
}

/* The folder --local-project maps project (at ref: NULL = its default branch) to, or NULL. A
 * mapping with a ref matches that ref only and wins over one without. */
static const char *local_project_dir(struct mload *L, const char *proj, size_t plen,
                                     const char *ref)
{
	const struct include_source *src = L->ctx->includes;
	const char *any = NULL;
	for (size_t i = 0; src && i < src->n_locals; i++) {
		const struct isrc_local *m = &src->locals[i];
		if (strlen(m->project) != plen || strncmp(m->project, proj, plen) != 0)
			continue;
		if (!m->ref && !any)
			any = m->dir;
		else if (m->ref && ref && strcmp(m->ref, ref) == 0)
			return m->dir;
	}
	return any;
}

/* Where `--include-dir` holds a remote include: DIR/remote/<host>/<path>, query dropped. */
static const char *remote_layout(struct mload *L, const char *url)
{
	const char *p = strstr(url, "://");
	p = p ? p + 3 : url;
	size_t n = strcspn(p, "?#");
	return arena_printf(L->a, "remote/%.*s", (int)n, p);
}

/* The include dir's copy of a remote include, or NULL. */
static const char *remote_in_include_dir(struct mload *L, const char *url)
{
	if (!L->ctx->include_dir)
		return NULL;
	const char *path = path_join(L->a, L->ctx->include_dir, remote_layout(L, url));
	return file_exists(path) ? path : NULL;
}

static int resolve_remote(struct mload *L, const char *url, struct srcloc at,
                          struct isrc_result *fetched, struct inc_file *f)
{
	f->shown = url;
	f->base = (struct inc_base){.dir = L->ctx->project_dir, .main_project = true};
	if ((f->path = remote_in_include_dir(L, url)))
		return 0;
	f->path = url;
	int rc = take_fetched(L, at, fetched, f);
	return rc <= 0 ? rc : offline_missing(L, at, "remote", url, remote_layout(L, url));
}

static int resolve_project(struct mload *L, const char *proj, const char *file, const char *ref,
                           struct srcloc at, struct isrc_result *fetched, struct inc_file *f)
{
	while (*file == '/')
		file++;
	while (*proj == '/')
		proj++;
	const char *dir = arena_printf(L->a, "project/%s/%s", proj, ref ? ref : "HEAD");
	const char *layout = arena_printf(L->a, "%s/%s", dir, file);
	f->shown = arena_printf(L->a, "%s:%s", proj, file);
	if (!has_yaml_ext(file))
		return mload_error(L, at, "Included file `%s` does not have YAML extension!", file);
	f->base.dir = L->ctx->include_dir ? path_join(L->a, L->ctx->include_dir, dir) : NULL;
	f->base.main_project = false;
	if (L->ctx->include_dir &&
	    file_exists(f->path = path_join(L->a, L->ctx->include_dir, layout)))
		return 0;
	const char *local = local_project_dir(L, proj, strlen(proj), ref);
	if (local) {
		/* --local-project: the folder's working tree, its local includes in it */
		f->path = path_join(L->a, local, file);
		f->base = (struct inc_base){.dir = local, .main_project = false};
		if (file_exists(f->path))
			return 0;
		return mload_error(L, at,
		                   "Project `%s` file `%s` does not exist! (--local-project %s)",
		                   proj, file, local);
	}
	/* fetched: its own local includes are files of that project at that ref */
	f->path = f->shown;
	f->base = (struct inc_base){.project = arena_strdup(L->a, proj), .ref = ref};
	int rc = take_fetched(L, at, fetched, f);
	return rc <= 0 ? rc : offline_missing(L, at, "project", f->shown, layout);
}

/* The include dir's copy of a template, or NULL. */
static const char *template_in_include_dir(struct mload *L, const char *name)
{
	if (!L->ctx->include_dir)
		return NULL;
	const char *path =
	    path_join(L->a, L->ctx->include_dir, arena_printf(L->a, "template/%s", name));
	return file_exists(path) ? path : NULL;
}

static int resolve_template(struct mload *L, const char *name, struct srcloc at,
                            struct isrc_result *fetched, struct inc_file *f)
{
	const char *layout = arena_printf(L->a, "template/%s", name);
	f->shown = name;
	f->base = (struct inc_base){.dir = L->ctx->project_dir, .main_project = true};
	if ((f->path = template_in_include_dir(L, name)))
		return 0;
	f->path = name;
	int rc = take_fetched(L, at, fetched, f);
	return rc <= 0 ? rc : offline_missing(L, at, "template", name, layout);
}

/* True when the component project `addr` (plen bytes, host/path) at version ver is the current
 * project at the pipeline's commit: `$CI_SERVER_FQDN/$CI_PROJECT_PATH/name@$CI_COMMIT_SHA`,
 * how GitLab lets a project use its own components before releasing them. */
static bool own_component(struct mload *L, const char *addr, int plen, const char *ver)
{
	const struct var_list *vars = &L->ctx->vars;
	const char *proj = var_list_value(vars, "CI_PROJECT_PATH");
	const char *sha = var_list_value(vars, "CI_COMMIT_SHA");
	if (!proj || !sha || strcmp(ver, sha) != 0)
		return false;
	static const char *const hosts[] = {"CI_SERVER_FQDN", "CI_SERVER_HOST"};
	for (size_t i = 0; i < sizeof(hosts) / sizeof(*hosts); i++) {
		const char *h = var_list_value(vars, hosts[i]);
		if (!h)
			continue;
		size_t hl = strlen(h);
		if ((size_t)plen == hl + 1 + strlen(proj) && strncmp(addr, h, hl) == 0 &&
		    addr[hl] == '/' && strncmp(addr + hl + 1, proj, strlen(proj)) == 0)
			return true;
	}
	return false;
}

/* GitLab's error for a component project without the named template. */
static int component_missing(struct mload *L, struct srcloc at, const char *addr, const char *name)
{
	const char *atp = strrchr(addr, '@');
	const char *slash = memrchr(addr, '/', (size_t)(atp - addr));
	return mload_error(L, at,
	                   "component: `%s`. One of the files [templates/%s.yml,templates/%s/"
	                   "template.yml] must exist in `%.*s`",
	                   addr, name, name, (int)(slash - addr), addr);
}

static bool dir_exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Reads an own component (own_component) from the project folder. */
static int resolve_own_component(struct mload *L, const char *name, struct srcloc at,
                                 struct inc_file *f)
{
	const char *cands[] = {
	    arena_printf(L->a, "templates/%s.yml", name),
	    arena_printf(L->a, "templates/%s/template.yml", name),
	};
	for (size_t i = 0; i < 2; i++) {
		f->path = path_join(L->a, L->ctx->project_dir, cands[i]);
		if (file_exists(f->path)) {
			f->base.dir = L->ctx->project_dir;
			f->base.main_project = true;
			return 0;
		}
	}
	return component_missing(L, at, f->shown, name);
}

/* Whether a component is read without the include source: the project's own component, or
 * its project folder (or flat file) under --include-dir. */
static bool component_is_local(struct mload *L, const char *addr)
{
	const char *atp = strrchr(addr, '@');
	const char *slash = atp ? memrchr(addr, '/', (size_t)(atp - addr)) : NULL;
	if (!atp || !slash)
		return true; /* an address error, given by resolve_component */
	int plen = (int)(slash - addr);
	if (own_component(L, addr, plen, atp + 1))
		return true;
	const char *host_end = memchr(addr, '/', (size_t)plen);
	if (host_end && local_project_dir(L, host_end + 1, (size_t)(slash - host_end - 1), atp + 1))
		return true;
	const char *dir = L->ctx->include_dir;
	return dir &&
	       (file_exists(
	            path_join(L->a, dir, arena_printf(L->a, "component/%s/template.yml", addr))) ||
	        dir_exists(path_join(
	            L->a, dir, arena_printf(L->a, "component/%.*s@%s", plen, addr, atp + 1))));
}

static int resolve_component(struct mload *L, const char *addr, struct srcloc at,
                             struct isrc_result *fetched, struct inc_file *f)
{
	const char *atp = strrchr(addr, '@');
	const char *slash = atp ? memrchr(addr, '/', (size_t)(atp - addr)) : NULL;
	const char *first = arena_printf(L->a, "component/%s/template.yml", addr);
	f->shown = addr;
	if (!atp || !slash)
		return mload_error(L, at, "component address '%s' should be host/path/name@version",
		                   addr);
	const char *ver = atp + 1;
	int plen = (int)(slash - addr);
	const char *name = arena_strndup(L->a, slash + 1, (size_t)(atp - slash - 1));
	if (own_component(L, addr, plen, ver))
		return resolve_own_component(L, name, at, f);
	const char *proj = arena_printf(L->a, "component/%.*s@%s", plen, addr, ver);
	const char *cands[] = {
	    first,
	    arena_printf(L->a, "%s/templates/%s.yml", proj, name),
	    arena_printf(L->a, "%s/templates/%s/template.yml", proj, name),
	};
	const char *bases[] = {arena_printf(L->a, "component/%s", addr), proj, proj};
	for (size_t i = 0; L->ctx->include_dir && i < 3; i++) {
		f->path = path_join(L->a, L->ctx->include_dir, cands[i]);
		if (file_exists(f->path)) {
			f->base.dir = path_join(L->a, L->ctx->include_dir, bases[i]);
			f->base.main_project = false;
			return 0;
		}
	}
	/* the project is there (at that version) but has no such component */
	if (L->ctx->include_dir && dir_exists(path_join(L->a, L->ctx->include_dir, proj)))
		return component_missing(L, at, addr, name);
	const char *host_end = memchr(addr, '/', (size_t)plen);
	const char *local =
	    host_end ? local_project_dir(L, host_end + 1, (size_t)(slash - host_end - 1), ver)
	             : NULL;
	for (size_t i = 1; local && i < 3; i++) {
		/* --local-project: the folder's working tree at whatever it has checked out */
		f->path = path_join(
		    L->a, local,
		    arena_printf(L->a, i == 1 ? "templates/%s.yml" : "templates/%s/template.yml",
		                 name));
		f->base = (struct inc_base){.dir = local, .main_project = false};
		if (file_exists(f->path))
			return 0;
	}
	if (local)
		return component_missing(L, at, addr, name);
	/* fetched: like a remote file, its local includes resolve in the main project */
	f->path = addr;
	f->base = (struct inc_base){.dir = L->ctx->project_dir, .main_project = true};
	int rc = take_fetched(L, at, fetched, f);
	return rc <= 0 ? rc : offline_missing(L, at, "component", addr, cands[1]);
}

/* ---- include entries ------------------------------------------------------------------- */

/* Include paths may use pre-pipeline variables (never YAML variables); unknown refs stay. */
static const char *expand_path(struct mload *L, const struct ynode *n)
{
	const char *s = ynode_str(n);
	if (!s || !strchr(s, '$'))
		return s;
	struct strbuf out = STRBUF_INIT;
	vars_expand_gitlab(s, &L->ctx->vars, &out);
	const char *r = arena_strdup(L->a, out.buf);
	strbuf_release(&out);
	return r;
}

/* include:rules see only ctx->vars (pre-pipeline and pipeline variables). */
static int include_rules_pass(struct mload *L, const struct ynode *rules, bool *ret_pass)
{
	struct mrule *rv;
	size_t n;
	*ret_pass = true;
	if (!rules)
		return 0;
	if (rules_parse(L, "include:rules", rules, false, &rv, &n) < 0)
		return -1;
	struct rscope scope = {.layers = {&L->ctx->vars}, .n_layers = 1, .a = L->a};
	*ret_pass = false;
	int rc = 0;
	for (size_t i = 0; i < n; i++) {
		bool m;
		if ((rc = rules_clauses_match(L, rv[i].node, rv[i].cond, &scope, &m)) < 0 || !m)
			continue;
		const char *when = ynode_str(ynode_get(rv[i].node, "when"));
		*ret_pass = !when || strcmp(when, "never") != 0;
		break;
	}
	rules_free(rv, n);
	return rc;
}

static const char *const inc_keys[] = {"local", "remote", "project", "template", "component"};

static int entry_kind(struct mload *L, const struct ynode *e, enum inc_kind *ret_kind,
                      const struct ynode **ret_loc)
{
	int found = -1;
	for (int k = 0; k < 5; k++) {
		if (!ynode_entry(e, inc_keys[k]))
			continue;
		if (found >= 0)
			return mload_error(L, e->loc,
			                   "Each include must use only one of: :component, :local, "
			                   ":project, :remote, :template");
		found = k;
	}
	if (found < 0)
		return mload_error(L, e->loc, "Included file `%s` does not have a valid syntax",
		                   "hash");
	*ret_kind = (enum inc_kind)found;
	*ret_loc = ynode_get(e, inc_keys[found]);
	return 0;
}

static bool looks_like_url(const char *s)
{
	return strncmp(s, "https://", 8) == 0 || strncmp(s, "http://", 7) == 0;
}

/* Resolves one include entry into files (0..n with wildcards or project file lists). */
static int resolve_entry(struct mload *L, const struct ynode *e, const struct inc_base *base,
                         const struct inc_level *lvl, struct inc_file **ret, size_t *ret_n)
{
	enum inc_kind kind = INC_LOCAL;
	const struct ynode *locn = e;
	if (e->kind == YNODE_MAP && entry_kind(L, e, &kind, &locn) < 0)
		return -1;
	else if (e->kind != YNODE_MAP && !mnode_is_str(e))
		return mload_error(L, e->loc,
		                   "include config should be a hash, a string or an array");
	const char *val = expand_path(L, locn);
	if (kind == INC_PROJECT && !val)
		return mload_error(L, locn->loc, "include:project config should be a string");
	if (kind != INC_PROJECT && !val)
		return mload_error(L, locn->loc, "include:%s config should be a string",
		                   inc_keys[kind]);
	if (e->kind != YNODE_MAP && looks_like_url(val))
		kind = INC_REMOTE;
	struct inc_file *f = arena_alloc(L->a, sizeof(*f));
	*ret = f;
	*ret_n = 1;
	switch (kind) {
	case INC_LOCAL:
		return resolve_local(L, val, locn->loc, base, level_result(lvl, e, 0), ret, ret_n);
	case INC_REMOTE:
		return resolve_remote(L, val, locn->loc, level_result(lvl, e, 0), f);
	case INC_TEMPLATE:
		return resolve_template(L, val, locn->loc, level_result(lvl, e, 0), f);
	case INC_COMPONENT:
		return resolve_component(L, val, locn->loc, level_result(lvl, e, 0), f);
	case INC_PROJECT:
		break;
	}
	const struct ynode *files = ynode_get(e, "file");
	const char *ref = expand_path(L, ynode_get(e, "ref"));
	if (!files)
		return mload_error(L, e->loc, "Included file `%s` does not have a valid syntax",
		                   "project");
	size_t nf = mnode_is_seq(files) ? files->n : 1;
	f = arena_alloc(L->a, sizeof(*f) * nf);
	for (size_t i = 0; i < nf; i++) {
		const struct ynode *fn = mnode_is_seq(files) ? files->items[i] : files;
		const char *fv = expand_path(L, fn);
		if (!fv)
			return mload_error(L, fn->loc, "include:file config should be a string");
		if (resolve_project(L, val, fv, ref, fn->loc, level_result(lvl, e, i), &f[i]) < 0)
			return -1;
	}
	*ret = f;
	*ret_n = nf;
	return 0;
}

/* The URL of a remote include entry (`remote:` or a bare URL string), expanded, or NULL. */
static const char *entry_remote_url(struct mload *L, const struct ynode *e)
{
	if (mnode_is_map(e)) {
		const struct ynode *r = ynode_get(e, "remote");
		return r && !ynode_entry(e, "local") && !ynode_entry(e, "project") &&
		               !ynode_entry(e, "template") && !ynode_entry(e, "component")
		           ? expand_path(L, r)
		           : NULL;
	}
	const char *s = mnode_is_str(e) ? expand_path(L, e) : NULL;
	return s && looks_like_url(s) ? s : NULL;
}

static void level_add(struct inc_level *lvl, const struct ynode *e, size_t k,
                      struct isrc_request req)
{
	size_t n = lvl->n + 1;
	lvl->entries = xrealloc(lvl->entries, n * sizeof(*lvl->entries));
	lvl->files = xrealloc(lvl->files, n * sizeof(*lvl->files));
	lvl->reqs = xrealloc(lvl->reqs, n * sizeof(*lvl->reqs));
	lvl->entries[lvl->n] = e;
	lvl->files[lvl->n] = k;
	lvl->reqs[lvl->n] = req;
	lvl->n = n;
}

/* The project: entry's files that --include-dir does not hold, as requests. */
static void level_add_project(struct mload *L, struct inc_level *lvl, const struct ynode *e,
                              const char *server)
{
	const char *proj = expand_path(L, ynode_get(e, "project"));
	const struct ynode *files = ynode_get(e, "file");
	const char *ref = expand_path(L, ynode_get(e, "ref"));
	size_t nf = mnode_is_seq(files) ? files->n : 1;
	for (size_t k = 0; proj && files && k < nf; k++) {
		const char *fv = expand_path(L, mnode_is_seq(files) ? files->items[k] : files);
		if (!fv || !has_yaml_ext(fv))
			continue;
		while (*fv == '/')
			fv++;
		while (*proj == '/')
			proj++;
		const char *layout =
		    arena_printf(L->a, "project/%s/%s/%s", proj, ref ? ref : "HEAD", fv);
		if (L->ctx->include_dir &&
		    file_exists(path_join(L->a, L->ctx->include_dir, layout)))
			continue;
		if (local_project_dir(L, proj, strlen(proj), ref))
			continue;
		level_add(lvl, e, k,
		          (struct isrc_request){.kind = ISRC_PROJECT,
		                                .location = proj,
		                                .file = fv,
		                                .ref = ref,
		                                .server = server});
	}
}

/* A local entry inside a fetched project file: that project's file at that ref. */
static void level_add_fetched_local(struct mload *L, struct inc_level *lvl, const struct ynode *e,
                                    const struct inc_base *base, const char *server)
{
	const struct ynode *ln = mnode_is_map(e) ? ynode_get(e, "local") : e;
	const char *path = mnode_is_str(ln) ? expand_path(L, ln) : NULL;
	if (!path || looks_like_url(path) || strchr(path, '*') || !has_yaml_ext(path))
		return;
	while (*path == '/')
		path++;
	level_add(lvl, e, 0,
	          (struct isrc_request){.kind = ISRC_PROJECT,
	                                .location = base->project,
	                                .file = path,
	                                .ref = base->ref,
	                                .server = server});
}

/* Asks the include source for every network entry of this level that passes its rules and is
 * not under --include-dir, all in one call (the source fetches them concurrently). */
static void level_fetch(struct mload *L, const struct ynode *const *entries, const bool *pass,
                        size_t n, const struct inc_base *base, struct inc_level *lvl)
{
	*lvl = (struct inc_level){0};
	if (!L->ctx->includes)
		return;
	const char *server = var_list_value(&L->ctx->vars, "CI_SERVER_URL");
	for (size_t i = 0; i < n; i++) {
		const struct ynode *e = entries[i];
		const char *loc; /* a component address or template name */
		const char *url = pass[i] ? entry_remote_url(L, e) : NULL;
		bool one_kind = mnode_is_map(e) && !ynode_entry(e, "remote") &&
		                !ynode_entry(e, "template") && !ynode_entry(e, "component");
		if (!pass[i])
			continue;
		if (url && !remote_in_include_dir(L, url))
			level_add(lvl, e, 0,
			          (struct isrc_request){
			              .kind = ISRC_REMOTE,
			              .location = url,
			              .integrity = ynode_str(ynode_get(e, "integrity")),
			          });
		else if (one_kind && ynode_entry(e, "project") && !ynode_entry(e, "local"))
			level_add_project(L, lvl, e, server);
		else if (mnode_is_map(e) && ynode_entry(e, "component") && !url &&
		         (loc = expand_path(L, ynode_get(e, "component"))) &&
		         !component_is_local(L, loc))
			level_add(lvl, e, 0,
			          (struct isrc_request){
			              .kind = ISRC_COMPONENT, .location = loc, .server = server});
		else if (mnode_is_map(e) && ynode_entry(e, "template") && !url &&
		         (loc = expand_path(L, ynode_get(e, "template"))) &&
		         !template_in_include_dir(L, loc))
			level_add(lvl, e, 0,
			          (struct isrc_request){
			              .kind = ISRC_TEMPLATE, .location = loc, .server = server});
		else if (base->project && !url &&
		         (!mnode_is_map(e) || (one_kind && !ynode_entry(e, "project"))))
			level_add_fetched_local(L, lvl, e, base, server);
	}
	if (!lvl->n)
		return;
	lvl->res = xcalloc(lvl->n, sizeof(*lvl->res));
	L->ctx->includes->fetch(L->ctx->includes->data, lvl->reqs, lvl->n, lvl->res);
}

static void level_release(struct inc_level *lvl)
{
	for (size_t i = 0; lvl->res && i < lvl->n; i++)
		isrc_result_release(&lvl->res[i]);
	free(lvl->res);
	free(lvl->entries);
	free(lvl->files);
	free(lvl->reqs);
	*lvl = (struct inc_level){0};
}

/* Resolves one entry and merges its files into *acc. */
static int include_entry(struct mload *L, const struct ynode *e, const struct inc_base *base,
                         const struct inc_level *lvl, unsigned depth, struct ynode **acc)
{
	struct inc_file *files = NULL;
	size_t nf = 0;
	int rc = 0;
	if (resolve_entry(L, e, base, lvl, &files, &nf) < 0)
		return -1;
	for (size_t k = 0; k < nf; k++) {
		struct ynode *content;
		if (++L->n_includes > MAX_INCLUDES)
			return mload_error(L, e->loc, "Maximum of %d nested includes are allowed!",
			                   MAX_INCLUDES);
		if (process_file(L, &files[k], ynode_get(e, "inputs"), e->loc, depth + 1,
		                 &content) < 0) {
			if (mload_stop(L))
				return -1;
			rc = -1;
			continue;
		}
		*acc = ynode_deep_merge(L->a, *acc, content);
	}
	return rc;
}

/* Resolves and merges every entry of an include: value, in order. The rules of every entry
 * are evaluated first (they see only ctx->vars), so that the level's network includes are
 * fetched together before anything is merged. */
static int process_includes(struct mload *L, const struct ynode *inc, const struct inc_base *base,
                            unsigned depth, struct ynode **acc)
{
	size_t n = mnode_is_seq(inc) ? inc->n : 1;
	const struct ynode **entries = arena_alloc(L->a, sizeof(*entries) * n);
	bool *pass = arena_alloc(L->a, sizeof(*pass) * n);
	for (size_t i = 0; i < n; i++) {
		const struct ynode *e = mnode_is_seq(inc) ? inc->items[i] : inc;
		entries[i] = e;
		pass[i] = true;
		if (e->kind == YNODE_MAP &&
		    include_rules_pass(L, ynode_get(e, "rules"), &pass[i]) < 0)
			return -1;
	}
	struct inc_level lvl;
	level_fetch(L, entries, pass, n, base, &lvl);
	int rc = 0;
	for (size_t i = 0; i < n; i++) {
		if (!pass[i] || include_entry(L, entries[i], base, &lvl, depth, acc) == 0)
			continue;
		rc = -1;
		if (mload_stop(L) || L->n_includes > MAX_INCLUDES)
			break;
	}
	level_release(&lvl);
	return rc;
}

/* Loads one file, applies its inputs, resolves its includes; *ret is its merged content. */
static int process_file(struct mload *L, const struct inc_file *f, const struct ynode *inputs,
                        struct srcloc at, unsigned depth, struct ynode **ret)
{
	if (depth > MAX_NESTING)
		return mload_error(L, at, "Maximum of %d nested includes are allowed!",
		                   MAX_NESTING);
	struct err e = ERR_INIT;
	struct yload_opts yo = YLOAD_OPTS_INIT;
	const char *path = mload_intern(f->path);
	struct ydoc *doc =
	    f->body ? ydoc_load_mem(path, f->body, f->len, &yo, &e) : ydoc_load_file(path, &yo, &e);
	if (!doc) {
		/* file-level failures (size limit) carry no position: name the file at least */
		if (!e.loc.file && e.kind == ERR_CONFIG)
			e.loc = (struct srcloc){.file = path};
		return mload_take_err(L, &e);
	}
	mload_keep_doc(L, doc);
	if (f->warning)
		diag_list_add(&doc->warnings, at, 1, "%s", f->warning);
	/* The main file is parsed: from here on the context is read (ctx->vars by inputs'
	 * expand_vars, include paths and include:rules; the repository's files by wildcards).
	 * The caller's git ran meanwhile. Idempotent for the included files. */
	if (mload_ctx_complete(L) < 0)
		return -1;
	struct ynode *root;
	if (apply_inputs(L, doc, inputs, at, &root) < 0)
		return -1;
	if (root && root->kind != YNODE_MAP)
		return mload_error(L, root->loc,
		                   depth ? "Included file `%s` does not have valid "
		                           "YAML syntax!"
		                         : "%s: invalid configuration format",
		                   f->shown);
	struct ynode *acc = ynode_new(L->a, YNODE_MAP, root ? root->loc : at);
	const struct ynode *inc = ynode_get(root, "include");
	if (inc && process_includes(L, inc, &f->base, depth, &acc) < 0 && mload_stop(L))
		return -1;
	if (root) {
		struct ynode *own = root;
		if (inc) {
			own = ynode_shallow_copy(L->a, root);
			ynode_map_del(own, "include");
		}
		acc = acc->n ? ynode_deep_merge(L->a, acc, own) : own;
	}
	*ret = acc;
	return 0;
}

int include_load_main(struct mload *L, const char *file, struct ynode **ret_root)
{
	struct inc_file f = {
	    .path = file,
	    .shown = file,
	    .base = {.dir = L->ctx->project_dir, .main_project = true},
	};
	struct srcloc at = {mload_intern(file), 1, 1};
	struct ynode *root;
	if (process_file(L, &f, NULL, at, 0, &root) < 0)
		return -1;
	*ret_root = root;
	return 0;
}
