/* CI/CD variables (spec: variables.md): the list type with GitLab's last-wins precedence,
 * the two expansion passes (GitLab's server-side Collection#sort_and_expand_all and the
 * runner's Go os.Expand), the slug functions and the masking rule. No I/O.
 *
 * Lists are small (a few hundred entries at most), so lookups scan from the end: the last
 * occurrence of a key wins even in lists someone built by appending directly. Only
 * vars_resolve_all, which looks up every reference of every value, builds a hash index. */
#include "model/vars.h"

#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/arena.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/sha256.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

/* ---- the list ----------------------------------------------------------------------------- */

static char *dup_in(struct arena *a, const char *s)
{
	return a ? arena_strdup(a, s ? s : "") : xstrdup(s ? s : "");
}

static void free_in(struct arena *a, const char *s)
{
	if (!a)
		free((char *)s);
}

/* Index of the last occurrence of key[0..len), or -1. */
static long find_n(const struct var_list *l, const char *key, size_t len)
{
	for (size_t i = l->n; i-- > 0;) {
		const char *k = l->v[i].key;
		if (k[0] == key[0] && strncmp(k, key, len) == 0 && k[len] == '\0')
			return (long)i;
	}
	return -1;
}

static void grow(struct arena *a, struct var_list *l)
{
	struct var *nv;
	size_t alloc;

	if (l->n < l->alloc)
		return;
	if (!a) {
		XGROW(l->v, l->alloc, l->n + 1);
		return;
	}
	/* an arena cannot realloc: copy into a block twice as large (the old one stays) */
	alloc = l->alloc ? l->alloc * 2 : 16;
	nv = arena_alloc(a, alloc * sizeof(*nv));
	if (l->n)
		memcpy(nv, l->v, l->n * sizeof(*nv));
	l->v = nv;
	l->alloc = alloc;
}

void var_list_set(struct arena *a, struct var_list *l, const struct var *v)
{
	long i = find_n(l, v->key, strlen(v->key));
	struct var nv = *v;

	nv.value = dup_in(a, v->value);
	if (i >= 0) {
		/* last wins, first position stays; v may alias the old value: copy first */
		const char *old = l->v[i].value;
		nv.key = l->v[i].key;
		l->v[i] = nv;
		free_in(a, old);
		return;
	}
	nv.key = dup_in(a, v->key);
	grow(a, l);
	l->v[l->n++] = nv;
}

void var_list_set_kv(struct arena *a, struct var_list *l, const char *key, const char *value)
{
	struct var v = {.key = key, .value = value, .public_ = true};

	var_list_set(a, l, &v);
}

const struct var *var_list_get(const struct var_list *l, const char *key)
{
	long i = l && key && *key ? find_n(l, key, strlen(key)) : -1;

	return i >= 0 ? &l->v[i] : NULL;
}

const char *var_list_value(const struct var_list *l, const char *key)
{
	const struct var *v = var_list_get(l, key);

	return v ? v->value : NULL;
}

void var_list_merge(struct arena *a, struct var_list *dst, const struct var_list *src)
{
	size_t n = src->n; /* src may be dst */

	for (size_t i = 0; i < n; i++)
		var_list_set(a, dst, &src->v[i]);
}

void var_list_release(struct var_list *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++) {
		free((char *)l->v[i].key);
		free((char *)l->v[i].value);
	}
	free(l->v);
	l->v = NULL;
	l->n = l->alloc = 0;
}

/* ---- runner expansion: Go's os.Expand with gitlab-runner's mapping ------------------------ */

static bool is_alnum_(char c)
{
	return c == '_' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	       (c >= 'A' && c <= 'Z');
}

static bool is_shell_special(char c)
{
	return c && strchr("*#$@!?-0123456789", c);
}

/* Go's getShellName: the name after '$' (at name_off, name_len) and the bytes consumed (w).
 * An empty name with w > 0 is bad syntax that os.Expand eats. */
static void shell_name(const char *s, size_t n, size_t *name_off, size_t *name_len, size_t *w)
{
	size_t i;

	*name_off = 0;
	if (s[0] == '{') {
		if (n > 2 && is_shell_special(s[1]) && s[2] == '}') {
			*name_off = 1;
			*name_len = 1;
			*w = 3;
			return;
		}
		for (i = 1; i < n && s[i] != '}'; i++)
			;
		*name_off = 1;
		*name_len = i < n && i > 1 ? i - 1 : 0;
		*w = i >= n ? 1 : i == 1 ? 2 : i + 1;
		return;
	}
	if (is_shell_special(s[0])) {
		*name_len = 1;
		*w = 1;
		return;
	}
	for (i = 0; i < n && is_alnum_(s[i]); i++)
		;
	*name_len = i;
	*w = i;
}

/* gitlab-runner's Variables.Get: specials, then the last occurrence; a file variable gives
 * the path of its file, RUNNER_TEMP_PROJECT_DIR/KEY (Go's path.Join). */
static void add_runner_value(struct strbuf *out, const struct var_list *vars, const char *name,
                             size_t len)
{
	long i;

	if (len == 1 && name[0] == '$') {
		strbuf_addch(out, '$');
		return;
	}
	if (len == 1 && strchr("*#@!?0123456789", name[0]))
		return;
	i = find_n(vars, name, len);
	if (i < 0)
		return;
	if (vars->v[i].file) {
		const char *dir = var_list_value(vars, "RUNNER_TEMP_PROJECT_DIR");
		size_t dl = dir ? strlen(dir) : 0;
		while (dl > 1 && dir[dl - 1] == '/')
			dl--;
		if (dl > 0 && !(dl == 1 && dir[0] == '/'))
			strbuf_add(out, dir, dl);
		if (dl > 0)
			strbuf_addch(out, '/');
		strbuf_addstr(out, vars->v[i].key);
		return;
	}
	if (vars->v[i].value) /* lists built by hand may hold NULL values */
		strbuf_addstr(out, vars->v[i].value);
}

void vars_expand_runner(const char *s, const struct var_list *vars, struct strbuf *out)
{
	size_t n = strlen(s);
	const char *last_brace = strrchr(s, '}');
	/* past the last '}', "${" can be known unclosed without Go's scan (quadratic otherwise) */
	size_t brace_end = last_brace ? (size_t)(last_brace - s) : 0;

	for (size_t j = 0; j < n; j++) {
		size_t off, len, w;
		if (s[j] != '$' || j + 1 >= n) {
			strbuf_addch(out, s[j]);
			continue;
		}
		if (s[j + 1] == '{' && (!last_brace || j + 1 > brace_end))
			off = len = 0, w = 1;
		else
			shell_name(s + j + 1, n - j - 1, &off, &len, &w);
		if (len > 0)
			add_runner_value(out, vars, s + j + 1 + off, len);
		else if (w == 0)
			strbuf_addch(out, '$'); /* '$' before a non-name character stays */
		j += w;
	}
}

/* ---- GitLab expansion: Collection::Item::VARIABLES_REGEXP --------------------------------- */

/* One match of /\$\$|%%|\$(?<key>NAME)|\${\g<key>?}|%\g<key>%/ starting at s[0]. */
struct gl_ref {
	size_t len;              /* 0: no match here */
	size_t key_off, key_len; /* key_len 0: "$$", "%%" or "${}", kept as is */
};

static bool is_name_start(char c)
{
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static size_t name_len_at(const char *s)
{
	size_t i = 0;

	if (!is_name_start(s[0]))
		return 0;
	while (is_alnum_(s[i]))
		i++;
	return i;
}

static struct gl_ref gitlab_ref_at(const char *s)
{
	struct gl_ref r = {0};
	size_t k;

	if ((s[0] == '$' && s[1] == '$') || (s[0] == '%' && s[1] == '%')) {
		r.len = 2;
		return r;
	}
	if (s[0] == '$' && (k = name_len_at(s + 1))) {
		r = (struct gl_ref){.len = k + 1, .key_off = 1, .key_len = k};
		return r;
	}
	if (s[0] == '$' && s[1] == '{') {
		k = name_len_at(s + 2);
		if (s[2 + k] == '}')
			r = (struct gl_ref){.len = k + 3, .key_off = 2, .key_len = k};
		return r;
	}
	if (s[0] == '%' && (k = name_len_at(s + 1)) && s[1 + k] == '%')
		r = (struct gl_ref){.len = k + 2, .key_off = 1, .key_len = k};
	return r;
}

/* Returns the variable a reference resolves to (with the value to use), or NULL. */
typedef const struct var *(*gl_lookup_fn)(void *ctx, const char *key, size_t len);

/* Collection#expand_value with keep_undefined, and raw and file references deferred to the
 * runner (as GitLab's runner presenter calls it). Returns -1 when the output would exceed
 * `limit` bytes (it is then incomplete). */
static int gitlab_expand(const char *s, gl_lookup_fn lookup, void *ctx, size_t limit,
                         struct strbuf *out)
{
	while (*s) {
		struct gl_ref r = gitlab_ref_at(s);
		const struct var *v;
		if (out->len > limit)
			return -1;
		if (r.len == 0) {
			strbuf_addch(out, *s++);
			continue;
		}
		v = r.key_len ? lookup(ctx, s + r.key_off, r.key_len) : NULL;
		if (v && !v->raw && !v->file)
			strbuf_addstr(out, v->value ? v->value : "");
		else
			strbuf_add(out, s, r.len);
		s += r.len;
	}
	return out->len > limit ? -1 : 0;
}

static const struct var *list_lookup(void *ctx, const char *key, size_t len)
{
	const struct var_list *l = ctx;
	long i = find_n(l, key, len);

	return i >= 0 ? &l->v[i] : NULL;
}

void vars_expand_gitlab(const char *s, const struct var_list *vars, struct strbuf *out)
{
	gitlab_expand(s, list_lookup, (void *)vars, SIZE_MAX, out);
}

/* ---- resolve_all: GitLab's Collection#sort_and_expand_all --------------------------------- */

struct resolver {
	const struct var_list *l;
	size_t n;
	/* key index: open addressing over the first occurrence of each key */
	size_t *slots, nslots; /* entry + 1, 0 = empty */
	size_t *group;         /* var -> index of the first var with the same key */
	size_t *next_same;     /* var -> next var with the same key, or SIZE_MAX */
	/* dependency graph */
	size_t **adj, *nadj;
	/* Ruby TSort state */
	long *id; /* -1 unvisited, -2 done, else discovery id */
	size_t next_id;
	size_t *stack, nstack;
	size_t *order, norder; /* components of size 1 in completion order */
	struct strbuf cycles;
	size_t ncycles;
	/* expansion */
	long *latest;    /* group -> last processed var of that key, -1 none */
	struct var *cur; /* var views with their (possibly expanded) value */
	char **expanded; /* new values, owned */
};

static size_t hash_n(const char *s, size_t len)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
	return (size_t)h;
}

/* Index of the first var whose key is key[0..len), or -1. */
static long res_find(const struct resolver *r, const char *key, size_t len)
{
	for (size_t h = hash_n(key, len) & (r->nslots - 1);; h = (h + 1) & (r->nslots - 1)) {
		size_t e = r->slots[h];
		const char *k;
		if (e == 0)
			return -1;
		k = r->l->v[e - 1].key;
		if (strncmp(k, key, len) == 0 && k[len] == '\0')
			return (long)(e - 1);
	}
}

static void res_index(struct resolver *r)
{
	size_t *last = xcalloc(r->n ? r->n : 1, sizeof(*last));

	r->nslots = 16;
	while (r->nslots < r->n * 2)
		r->nslots *= 2;
	r->slots = xcalloc(r->nslots, sizeof(*r->slots));
	for (size_t i = 0; i < r->n; i++) {
		const char *k = r->l->v[i].key;
		long f = res_find(r, k, strlen(k));
		r->next_same[i] = SIZE_MAX;
		if (f < 0) {
			size_t h = hash_n(k, strlen(k)) & (r->nslots - 1);
			while (r->slots[h])
				h = (h + 1) & (r->nslots - 1);
			r->slots[h] = i + 1;
			r->group[i] = i;
		} else {
			r->group[i] = (size_t)f;
			r->next_same[last[f]] = i;
		}
		last[r->group[i]] = i;
	}
	free(last);
}

/* Item#depends_on: references of a non-raw value that holds '$' or '%'. */
static bool depends(const struct var *v)
{
	return !v->raw && v->value && strpbrk(v->value, "$%");
}

static void add_edge(struct resolver *r, size_t from, size_t to)
{
	size_t n = r->nadj[from];

	/* grow at powers of two */
	if ((n & (n - 1)) == 0)
		r->adj[from] = xrealloc(r->adj[from], (n ? n * 2 : 1) * sizeof(**r->adj));
	r->adj[from][r->nadj[from]++] = to;
}

/* tsort_each_child: for each reference, every var of that key, in list order. */
static void res_edges(struct resolver *r, size_t i)
{
	const char *s = r->l->v[i].value;

	while (*s) {
		struct gl_ref g = gitlab_ref_at(s);
		long f;
		if (g.len == 0) {
			s++;
			continue;
		}
		f = g.key_len ? res_find(r, s + g.key_off, g.key_len) : -1;
		for (size_t j = f >= 0 ? (size_t)f : SIZE_MAX; j != SIZE_MAX; j = r->next_same[j])
			add_edge(r, i, j);
		s += g.len;
	}
}

static void add_cycle(struct resolver *r, size_t from)
{
	strbuf_addstr(&r->cycles, r->ncycles++ ? ", [" : "[");
	for (size_t k = from; k < r->nstack; k++) {
		const char *key = r->l->v[r->stack[k]].key;
		strbuf_addstr(&r->cycles, k > from ? ", \"" : "\"");
		for (; *key; key++) {
			if (*key == '"' || *key == '\\')
				strbuf_addch(&r->cycles, '\\');
			strbuf_addch(&r->cycles, *key);
		}
		strbuf_addch(&r->cycles, '"');
	}
	strbuf_addch(&r->cycles, ']');
}

/* Ruby's TSort.each_strongly_connected_component_from, same visiting order and the same
 * member order in a component (the order of discovery). */
static long res_visit(struct resolver *r, size_t node)
{
	long node_id = (long)r->next_id++, minimum = node_id;
	size_t base = r->nstack;

	r->id[node] = node_id;
	r->stack[r->nstack++] = node;
	for (size_t k = 0; k < r->nadj[node]; k++) {
		size_t child = r->adj[node][k];
		long sub = r->id[child];
		if (sub == -1)
			sub = res_visit(r, child);
		if (sub >= 0 && sub < minimum)
			minimum = sub;
	}
	if (node_id != minimum)
		return minimum;
	if (r->nstack - base > 1)
		add_cycle(r, base);
	else
		r->order[r->norder++] = node;
	for (size_t k = base; k < r->nstack; k++)
		r->id[r->stack[k]] = -2;
	r->nstack = base;
	return minimum;
}

/* During expansion a key means the last var of that key appended so far (GitLab appends
 * to a new collection in sorted order). */
static const struct var *res_lookup(void *ctx, const char *key, size_t len)
{
	struct resolver *r = ctx;
	long f = res_find(r, key, len);

	if (f < 0 || r->latest[f] < 0)
		return NULL;
	return &r->cur[r->latest[f]];
}

/* Expands in sorted order. References can double a value at every level, so a value that
 * grows past VARS_MAX_EXPANDED stops the expansion (index returned) instead of eating the
 * machine; -1 when all went well. */
static long res_expand(struct resolver *r)
{
	for (size_t k = 0; k < r->norder; k++) {
		size_t i = r->order[k];
		if (depends(&r->l->v[i])) {
			struct strbuf sb = STRBUF_INIT;
			int rc =
			    gitlab_expand(r->l->v[i].value, res_lookup, r, VARS_MAX_EXPANDED, &sb);
			r->expanded[i] = strbuf_detach(&sb, NULL);
			r->cur[i].value = r->expanded[i];
			if (rc < 0)
				return (long)i;
		}
		r->latest[r->group[i]] = (long)i;
	}
	return -1;
}

static void res_init(struct resolver *r, const struct var_list *l)
{
	size_t n = l->n, m = n ? n : 1;

	*r = (struct resolver){.l = l, .n = n, .cycles = STRBUF_INIT};
	r->group = xcalloc(m, sizeof(*r->group));
	r->next_same = xcalloc(m, sizeof(*r->next_same));
	r->adj = xcalloc(m, sizeof(*r->adj));
	r->nadj = xcalloc(m, sizeof(*r->nadj));
	r->id = xcalloc(m, sizeof(*r->id));
	r->stack = xcalloc(m, sizeof(*r->stack));
	r->order = xcalloc(m, sizeof(*r->order));
	r->latest = xcalloc(m, sizeof(*r->latest));
	r->cur = xcalloc(m, sizeof(*r->cur));
	r->expanded = xcalloc(m, sizeof(*r->expanded));
	res_index(r);
	for (size_t i = 0; i < n; i++) {
		r->id[i] = -1;
		r->latest[i] = -1;
		r->cur[i] = l->v[i];
		if (depends(&l->v[i]))
			res_edges(r, i);
	}
}

static void res_release(struct resolver *r)
{
	for (size_t i = 0; i < r->n; i++) {
		free(r->adj[i]);
		free(r->expanded[i]);
	}
	free(r->slots);
	free(r->group);
	free(r->next_same);
	free(r->adj);
	free(r->nadj);
	free(r->id);
	free(r->stack);
	free(r->order);
	free(r->latest);
	free(r->cur);
	free(r->expanded);
	strbuf_release(&r->cycles);
}

int vars_resolve_all(struct arena *a, struct var_list *l, struct err *err)
{
	struct resolver r;
	long big;

	res_init(&r, l);
	for (size_t i = 0; i < r.n; i++) {
		if (r.id[i] == -1)
			res_visit(&r, i);
	}
	if (r.ncycles) {
		err_set(err, ERR_CONFIG, "circular variable reference detected: %s", r.cycles.buf);
		res_release(&r);
		return -1;
	}
	big = res_expand(&r);
	if (big >= 0) {
		err_set(err, ERR_CONFIG, "variable '%s' is larger than %d MiB after expansion",
		        l->v[big].key, VARS_MAX_EXPANDED >> 20);
		res_release(&r);
		return -1;
	}
	for (size_t i = 0; i < r.n; i++) {
		if (r.expanded[i]) {
			const char *old = l->v[i].value;
			l->v[i].value = dup_in(a, r.expanded[i]);
			free_in(a, old);
		}
	}
	res_release(&r);
	return 0;
}

/* ---- slugs -------------------------------------------------------------------------------- */

/* Decodes one UTF-8 character; an invalid byte counts as one (non-ASCII) character. */
static size_t utf8_next(const unsigned char *p, uint32_t *ret_cp)
{
	size_t len = p[0] < 0x80             ? 1
	             : (p[0] & 0xE0) == 0xC0 ? 2
	             : (p[0] & 0xF0) == 0xE0 ? 3
	             : (p[0] & 0xF8) == 0xF0 ? 4
	                                     : 0;
	uint32_t cp;

	if (len <= 1) {
		*ret_cp = len ? p[0] : 0xFFFD;
		return 1;
	}
	cp = p[0] & (0x7F >> len);
	for (size_t k = 1; k < len; k++) {
		if ((p[k] & 0xC0) != 0x80) {
			*ret_cp = 0xFFFD;
			return 1;
		}
		cp = (cp << 6) | (p[k] & 0x3F);
	}
	*ret_cp = cp;
	return len;
}

/* Ruby's downcase followed by gsub(/[^a-z0-9]/, '-'), one output char per char of the
 * downcased string. Only two non-ASCII characters downcase into ASCII: KELVIN SIGN to 'k',
 * and LATIN CAPITAL I WITH DOT ABOVE to 'i' + COMBINING DOT ABOVE. */
static void slug_chars(const char *s, struct strbuf *out)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		uint32_t cp;
		p += utf8_next(p, &cp);
		if (cp >= 'A' && cp <= 'Z')
			cp += 'a' - 'A';
		if ((cp >= 'a' && cp <= 'z') || (cp >= '0' && cp <= '9'))
			strbuf_addch(out, (char)cp);
		else if (cp == 0x212A)
			strbuf_addch(out, 'k');
		else if (cp == 0x130)
			strbuf_addstr(out, "i-");
		else
			strbuf_addch(out, '-');
	}
}

char *vars_slugify(const char *s)
{
	struct strbuf sb = STRBUF_INIT;
	size_t start = 0, end;

	slug_chars(s, &sb);
	end = sb.len < 63 ? sb.len : 63; /* truncation before trimming */
	while (start < end && sb.buf[start] == '-')
		start++;
	while (end > start && sb.buf[end - 1] == '-')
		end--;
	memmove(sb.buf, sb.buf + start, end - start);
	strbuf_setlen(&sb, end - start);
	return strbuf_detach(&sb, NULL);
}

/* Digest::SHA2.hexdigest(name).to_i(16).to_s(36).last(6) */
static void env_suffix(const char *name, struct strbuf *out)
{
	static const char digits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
	const uint64_t mod = 2176782336ULL; /* 36^6 */
	unsigned char md[32];
	const unsigned mdlen = sizeof(md);
	uint64_t r = 0;
	bool big = false;
	char buf[7];
	int i = 6;

	sha256(name, strlen(name), md);
	for (unsigned k = 0; k < mdlen; k++) {
		big |= k < mdlen - 5 && md[k] != 0;
		r = (r * 256 + md[k]) % mod;
	}
	/* the last six digits, zero-padded unless the whole number is shorter */
	buf[6] = '\0';
	do {
		buf[--i] = digits[r % 36];
		r /= 36;
	} while (i > 0 && (big || r > 0));
	strbuf_addstr(out, buf + i);
}

char *vars_env_slugify(const char *s)
{
	struct strbuf raw = STRBUF_INIT, sb = STRBUF_INIT;

	slug_chars(s, &raw);
	if (!(raw.buf[0] >= 'a' && raw.buf[0] <= 'z'))
		strbuf_addstr(&sb, "env-");
	for (size_t i = 0; i < raw.len; i++) { /* squeeze '-' runs */
		if (raw.buf[i] != '-' || sb.len == 0 || sb.buf[sb.len - 1] != '-')
			strbuf_addch(&sb, raw.buf[i]);
	}
	strbuf_release(&raw);
	if (sb.len > 24 || strcmp(sb.buf, s) != 0) {
		strbuf_setlen(&sb, sb.len < 17 ? sb.len : 17);
		if (sb.buf[sb.len - 1] != '-')
			strbuf_addch(&sb, '-');
		env_suffix(s, &sb);
	} else if (sb.len > 0 && sb.buf[sb.len - 1] == '-') {
		strbuf_setlen(&sb, sb.len - 1);
	}
	return strbuf_detach(&sb, NULL);
}

/* ---- masking ------------------------------------------------------------------------------ */

bool vars_maskable(const char *value, bool raw)
{
	const unsigned char *p = (const unsigned char *)value;
	size_t chars = 0;

	while (*p) {
		uint32_t cp;
		size_t len = utf8_next(p, &cp);
		bool ascii = cp < 0x80;
		if (raw ? ascii && strchr(" \t\n\v\f\r", (int)cp)
		        : !(ascii && (is_alnum_((char)cp) || strchr("+=/@:.~-", (int)cp))))
			return false;
		p += len;
		chars++;
	}
	return chars >= 8;
}
