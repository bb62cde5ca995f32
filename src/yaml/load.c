/* load: builds the ynode tree from libyaml's event stream, the way Ruby's Psych (and so GitLab)
 * sees the file. This is the only file that includes <yaml.h>.
 *
 * Collections are built on two scratch stacks (items of open sequences, entries of open
 * mappings) and copied into the arena once complete, so loading allocates no per-node heap
 * memory. Mappings apply Psych's rules while they are built: `hash[key] = value` keeps the
 * key's first position, `<<: *a` merges at its position, `<<: [*a, *b]` lets earlier aliases
 * win. Large open mappings get a temporary hash index so that 3000 jobs load in linear time.
 *
 * Limits (GitLab: 1 MiB, depth 100, DeepSize over the expanded structure): every node counts
 * once, every alias counts the expanded size of its anchor (computed once, when the anchor's
 * node completes), so alias bombs fail after a few events instead of being walked. */
#include "yaml/node.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <yaml.h>

#include "util/arena.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/fsutil.h"
#include "util/strbuf.h"
#include "util/strmap.h"
#include "util/xalloc.h"
#include "yaml/internal.h"

/* How a completed child arrived: Psych's merge rules depend on the syntax, not the value. */
enum src_kind { SRC_SCALAR, SRC_ALIAS, SRC_SEQ, SRC_MAP };

struct sentry {
	const char *key;
	struct srcloc key_loc;
	struct ynode *value;
	bool explicit_key; /* written in this mapping, not merged in: duplicates warn */
};

struct frame {
	struct ynode *node; /* the SEQ or MAP being built */
	size_t start;       /* its first slot on the scratch stack */
	size_t count;       /* children (items or entries) so far */
	const char *anchor; /* registered when the node completes */
	size_t budget_start;
	unsigned height; /* of the deepest child */
	/* mappings */
	bool have_key;
	bool key_merge; /* the pending key is a `<<` merge key */
	const char *key;
	struct srcloc key_loc;
	uint32_t *ix; /* malloc'd index of big open mappings: entry position + 1 */
	size_t ix_mask;
};

struct anchor {
	struct ynode *node; /* NULL while its collection is still open */
	size_t size;        /* nodes after expanding aliases */
	unsigned height;
};

struct loader {
	struct ydoc *doc;
	struct arena *a;
	struct yload_opts opts;
	const char *buf;
	size_t len;
	yaml_parser_t parser;
	struct frame *fr;
	size_t nfr, afr;
	struct ynode **items;
	size_t nitems, aitems;
	struct sentry *ents;
	size_t nents, aents;
	struct strmap anchors; /* name -> struct anchor (arena) */
	size_t budget;         /* expanded nodes of the current document */
	struct ynode *root;
	struct srcloc doc_loc;
	/* GitLab cuts the text at `---` lines into at most three pieces and reads the first
	 * document of each: docs are the non-blank ones among them */
	struct ynode *docs[3];
	struct srcloc docs_loc[3];
	size_t ndocs;
	unsigned pieces; /* pieces of text seen so far */
	bool stream_started;
	unsigned line_base;        /* lines before buf in the file (a piece of a split load) */
	const struct strmap *seed; /* anchors of the text before buf, or NULL */
	struct strmap seed_hits;   /* names of aliases resolved from seed */
	bool top_merge;            /* a `<<` merge key in the root mapping */
	bool root_marked;          /* the root collection has a tag or an anchor */
};

static struct srcloc mark_loc(const struct loader *l, yaml_mark_t m)
{
	return (struct srcloc){.file = l->doc->file,
	                       .line = l->line_base + (unsigned)m.line + 1,
	                       .col = (unsigned)m.column + 1};
}

static int too_big(struct loader *l, struct srcloc loc, const char *what, size_t limit,
                   struct err *err)
{
	return err_at(err, loc, "the parsed YAML is too big: %s exceeds the limit of %zu", what,
	              limit);
}

static int count_nodes(struct loader *l, size_t n, struct srcloc loc, struct err *err)
{
	if (n > l->opts.max_nodes || l->budget > l->opts.max_nodes - n)
		return too_big(l, loc, "the number of nodes after expanding aliases",
		               l->opts.max_nodes, err);
	l->budget += n;
	return 0;
}

/* ---- open-mapping index ---- */

static void fidx_insert(struct frame *f, const char *key, size_t pos)
{
	size_t i = ykey_hash(key) & f->ix_mask;
	while (f->ix[i])
		i = (i + 1) & f->ix_mask;
	f->ix[i] = (uint32_t)(pos + 1);
}

static void fidx_rebuild(struct loader *l, struct frame *f)
{
	size_t slots = 64;
	while (slots < f->count * 2)
		slots *= 2;
	free(f->ix);
	f->ix = xcalloc(slots, sizeof(*f->ix));
	f->ix_mask = slots - 1;
	for (size_t i = 0; i < f->count; i++)
		fidx_insert(f, l->ents[f->start + i].key, i);
}

static struct sentry *frame_find(struct loader *l, struct frame *f, const char *key)
{
	if (!f->count)
		return NULL;
	struct sentry *base = l->ents + f->start;
	if (!f->ix) {
		for (size_t i = 0; i < f->count; i++)
			if (strcmp(base[i].key, key) == 0)
				return &base[i];
		return NULL;
	}
	for (size_t i = ykey_hash(key) & f->ix_mask; f->ix[i]; i = (i + 1) & f->ix_mask)
		if (strcmp(base[f->ix[i] - 1].key, key) == 0)
			return &base[f->ix[i] - 1];
	return NULL;
}

/* Ruby's hash[key] = value: replaces in place (first position kept) or appends. */
static void map_put(struct loader *l, struct frame *f, const char *key, struct srcloc key_loc,
                    struct ynode *value, bool explicit_key)
{
	struct sentry *e = frame_find(l, f, key);
	if (e) {
		if (explicit_key && e->explicit_key)
			diag_list_add(&l->doc->warnings, key_loc, 1,
			              "duplicate key '%s' (first at line %u column %u): the last "
			              "value wins",
			              key, e->key_loc.line, e->key_loc.col);
		e->value = value;
		e->key_loc = key_loc;
		e->explicit_key |= explicit_key;
		return;
	}
	XGROW(l->ents, l->aents, l->nents + 1);
	l->ents[l->nents++] = (struct sentry){key, key_loc, value, explicit_key};
	f->count++;
	if (f->count > YMAP_INDEX_MIN && (!f->ix || f->count * 2 > f->ix_mask + 1))
		fidx_rebuild(l, f);
	else if (f->ix)
		fidx_insert(f, key, f->count - 1);
}

/* ---- merge keys ---- */

/* A Ruby Hash as Psych builds it (a !reference mapping becomes a Reference object). */
static bool is_hash(const struct ynode *n)
{
	return n->kind == YNODE_MAP && !ytag_is_reference(n->tag);
}

static void merge_map(struct loader *l, struct frame *f, const struct ynode *m)
{
	for (size_t i = 0; i < m->n; i++)
		map_put(l, f, m->entries[i].key, m->entries[i].key_loc, m->entries[i].value, false);
}

/* Psych's revive_hash for `<<`: an alias or inline mapping of a Hash is merged in place; an
 * inline sequence of Hashes is merged right to left into a new hash which is then merged;
 * anything else (TypeError in Ruby) becomes an ordinary `<<` key. */
static void merge_value(struct loader *l, struct frame *f, struct ynode *v, enum src_kind src)
{
	if ((src == SRC_ALIAS || src == SRC_MAP) && is_hash(v)) {
		merge_map(l, f, v);
		return;
	}
	bool all_hashes = src == SRC_SEQ && !ytag_is_reference(v->tag);
	for (size_t i = 0; all_hashes && i < v->n; i++)
		all_hashes = is_hash(v->items[i]);
	if (!all_hashes) {
		map_put(l, f, "<<", f->key_loc, v, true);
		return;
	}
	struct ynode *h = ynode_new(l->a, YNODE_MAP, v->loc);
	for (size_t i = v->n; i-- > 0;) {
		const struct ynode *m = v->items[i];
		for (size_t k = 0; k < m->n; k++)
			ynode_map_set(l->a, h, m->entries[k].key, m->entries[k].key_loc,
			              m->entries[k].value);
	}
	merge_map(l, f, h);
}

/* ---- building ---- */

/* Ruby's to_s of a key: scalars as typed, collections as #inspect. */
static const char *key_string(struct loader *l, const struct ynode *k)
{
	if (ynode_is_scalar(k))
		return ynode_str(k);
	struct strbuf sb = STRBUF_INIT;
	ynode_inspect(k, &sb);
	const char *s = arena_strndup(l->a, sb.buf, sb.len);
	strbuf_release(&sb);
	return s;
}

/* Hands a completed node to the open collection (or makes it the document root). */
static void add_node(struct loader *l, struct ynode *n, unsigned height, enum src_kind src,
                     bool key_is_str)
{
	if (!l->nfr) {
		l->root = n;
		return;
	}
	struct frame *f = &l->fr[l->nfr - 1];
	if (height > f->height)
		f->height = height;
	if (f->node->kind == YNODE_SEQ) {
		XGROW(l->items, l->aitems, l->nitems + 1);
		l->items[l->nitems++] = n;
		f->count++;
		return;
	}
	if (!f->have_key) {
		f->have_key = true;
		f->key = key_string(l, n);
		f->key_loc = n->loc;
		/* key == '<<' && k.tag != "tag:yaml.org,2002:str": quoted "<<" merges too */
		f->key_merge = n->kind == YNODE_STRING && !key_is_str && strcmp(n->str, "<<") == 0;
		return;
	}
	f->have_key = false;
	if (f->key_merge) {
		l->top_merge |= l->nfr == 1;
		merge_value(l, f, n, src);
	} else
		map_put(l, f, f->key, f->key_loc, n, true);
}

static int define_anchor(struct loader *l, const char *name, struct ynode *n, size_t size,
                         unsigned height)
{
	struct anchor *an = arena_alloc(l->a, sizeof(*an));
	an->node = n;
	an->size = size;
	an->height = height;
	strmap_put(&l->anchors, arena_strdup(l->a, name), an);
	return 0;
}

static int on_scalar(struct loader *l, yaml_event_t *ev, struct err *err)
{
	struct ynode *n = ynode_new(l->a, YNODE_STRING, mark_loc(l, ev->start_mark));
	if (count_nodes(l, 1, n->loc, err) < 0)
		return -1;
	const char *tag = (const char *)ev->data.scalar.tag;
	/* Psych's `quoted`: libyaml sets quoted_implicit only for untagged non-plain scalars */
	bool quoted = ev->data.scalar.quoted_implicit;
	if (yscalar_resolve(l->a, n, (const char *)ev->data.scalar.value, ev->data.scalar.length,
	                    quoted, tag, err) < 0)
		return -1;
	if (ev->data.scalar.anchor)
		define_anchor(l, (const char *)ev->data.scalar.anchor, n, 1, 0);
	bool key_is_str = tag && strcmp(tag, YAML_STR_TAG) == 0;
	add_node(l, n, 0, SRC_SCALAR, key_is_str);
	return 0;
}

static int on_alias(struct loader *l, yaml_event_t *ev, struct err *err)
{
	const char *name = (const char *)ev->data.alias.anchor;
	struct srcloc loc = mark_loc(l, ev->start_mark);
	struct anchor *an = strmap_get(&l->anchors, name);
	if (!an && l->seed && (an = strmap_get(l->seed, name)))
		strmap_put(&l->seed_hits, arena_strdup(l->a, name), an);
	if (!an)
		return err_at(err, loc, "an alias referenced an unknown anchor: %s", name);
	if (!an->node)
		return err_at(err, loc, "alias '*%s' refers to a node that contains it", name);
	if (l->nfr + an->height > l->opts.max_depth)
		return too_big(l, loc, "the nesting depth", l->opts.max_depth, err);
	if (count_nodes(l, an->size, loc, err) < 0)
		return -1;
	add_node(l, an->node, an->height, SRC_ALIAS, false);
	return 0;
}

static int on_collection_start(struct loader *l, yaml_event_t *ev, enum ynode_kind kind,
                               struct err *err)
{
	struct srcloc loc = mark_loc(l, ev->start_mark);
	if (l->nfr + 1 > l->opts.max_depth)
		return too_big(l, loc, "the nesting depth", l->opts.max_depth, err);
	size_t budget_start = l->budget;
	if (count_nodes(l, 1, loc, err) < 0)
		return -1;
	const char *tag, *anchor;
	if (kind == YNODE_SEQ) {
		tag = (const char *)ev->data.sequence_start.tag;
		anchor = (const char *)ev->data.sequence_start.anchor;
	} else {
		tag = (const char *)ev->data.mapping_start.tag;
		anchor = (const char *)ev->data.mapping_start.anchor;
	}
	l->root_marked |= l->nfr == 0 && (tag || anchor);
	struct ynode *n = ynode_new(l->a, kind, loc);
	if (tag && strncmp(tag, "tag:yaml.org,2002:", 18) != 0)
		n->tag = arena_strdup(l->a, tag);
	XGROW(l->fr, l->afr, l->nfr + 1);
	struct frame *f = &l->fr[l->nfr++];
	*f = (struct frame){.node = n, .budget_start = budget_start};
	f->start = kind == YNODE_SEQ ? l->nitems : l->nents;
	if (anchor) {
		/* Registered as "being defined" so that an alias inside it is caught. */
		f->anchor = arena_strdup(l->a, anchor);
		define_anchor(l, anchor, NULL, 0, 0);
	}
	return 0;
}

static void on_collection_end(struct loader *l)
{
	struct frame *f = &l->fr[l->nfr - 1];
	struct ynode *n = f->node;
	n->n = f->count;
	if (n->kind == YNODE_SEQ) {
		n->items = arena_alloc(l->a, f->count * sizeof(*n->items));
		if (f->count)
			memcpy(n->items, l->items + f->start, f->count * sizeof(*n->items));
		l->nitems = f->start;
	} else {
		n->entries = arena_alloc(l->a, f->count * sizeof(*n->entries));
		for (size_t i = 0; i < f->count; i++) {
			const struct sentry *e = &l->ents[f->start + i];
			n->entries[i] = (struct ymap_entry){e->key, e->key_loc, e->value};
		}
		l->nents = f->start;
		ymap_index_build(l->a, n);
		free(f->ix);
	}
	n->alloc = n->n;
	unsigned height = f->height + 1;
	size_t size = l->budget - f->budget_start;
	const char *anchor = f->anchor;
	enum src_kind src = n->kind == YNODE_SEQ ? SRC_SEQ : SRC_MAP;
	l->nfr--;
	if (anchor)
		define_anchor(l, anchor, n, size, height);
	add_node(l, n, height, src, false);
}

/* Rails' blank?: GitLab drops blank documents (reject_empty). */
static bool is_blank(const struct ynode *n)
{
	if (!n)
		return true;
	switch (n->kind) {
	case YNODE_NULL:
		return true;
	case YNODE_BOOL:
		return !n->v.b;
	case YNODE_STRING:
		return n->str[strspn(n->str, " \t\n\r\f\v")] == '\0';
	case YNODE_SEQ:
	case YNODE_MAP:
		return n->n == 0;
	default:
		return false;
	}
}

static void reset_document(struct loader *l)
{
	strmap_release(&l->anchors);
	strmap_init(&l->anchors);
	l->budget = 0;
	l->root = NULL;
}

/* A document starts a piece of GitLab's text split, except the documents after the first
 * one in the third piece, which GitLab never reads. An explicit `---` before the first
 * document leaves an empty first piece (which counts towards the three). */
static void on_document_start(struct loader *l, const yaml_event_t *ev)
{
	reset_document(l);
	l->doc_loc = mark_loc(l, ev->start_mark);
	if (!l->stream_started && !ev->data.document_start.implicit)
		l->pieces++;
	l->stream_started = true;
}

static void on_document_end(struct loader *l)
{
	unsigned piece = l->pieces++;
	if (is_blank(l->root))
		return;
	if (piece >= 3) {
		diag_list_add(&l->doc->warnings, l->doc_loc, 1,
		              "this YAML document is ignored: GitLab reads at most three (the text "
		              "after the second `---` is one document)");
		return;
	}
	l->docs_loc[l->ndocs] = l->doc_loc;
	l->docs[l->ndocs++] = l->root;
}

/* Yaml::Documents: the first document is a header when it is a mapping with `spec` and
 * another follows; the content is then the last one, else the first. */
static void choose_documents(struct loader *l, struct ynode **root, struct ynode **header)
{
	*root = *header = NULL;
	if (!l->ndocs)
		return;
	const struct ynode *first = l->docs[0];
	if (l->ndocs >= 2 && first->kind == YNODE_MAP && ynode_get(first, "spec")) {
		*header = l->docs[0];
		*root = l->docs[l->ndocs - 1];
		if (l->ndocs == 3)
			diag_list_add(
			    &l->doc->warnings, l->docs_loc[1], 1,
			    "this YAML document is ignored: after a `spec:` header GitLab "
			    "reads the last document");
		return;
	}
	*root = l->docs[0];
	for (size_t i = 1; i < l->ndocs; i++)
		diag_list_add(&l->doc->warnings, l->docs_loc[i], 1,
		              "this YAML document is ignored: GitLab reads only the first document "
		              "unless it is a `spec:` header");
}

static int on_event(struct loader *l, yaml_event_t *ev, struct err *err)
{
	switch (ev->type) {
	case YAML_DOCUMENT_START_EVENT:
		on_document_start(l, ev);
		return 0;
	case YAML_DOCUMENT_END_EVENT:
		on_document_end(l);
		return 0;
	case YAML_SCALAR_EVENT:
		return on_scalar(l, ev, err);
	case YAML_ALIAS_EVENT:
		return on_alias(l, ev, err);
	case YAML_SEQUENCE_START_EVENT:
		return on_collection_start(l, ev, YNODE_SEQ, err);
	case YAML_MAPPING_START_EVENT:
		return on_collection_start(l, ev, YNODE_MAP, err);
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		on_collection_end(l);
		return 0;
	default:
		return 0;
	}
}

/* 1-based line and column (in characters) of a byte offset, for reader errors. */
static struct srcloc offset_loc(const struct loader *l, size_t off)
{
	struct srcloc loc = {.file = l->doc->file, .line = l->line_base + 1, .col = 1};
	for (size_t i = 0; i < off && i < l->len; i++) {
		if (l->buf[i] == '\n') {
			loc.line++;
			loc.col = 1;
		} else if (((unsigned char)l->buf[i] & 0xc0) != 0x80) {
			loc.col++;
		}
	}
	return loc;
}

/* Turns libyaml's error into ours: the location is where the problem is (or where the
 * unterminated construct started, at end of input); the text is Psych's, which GitLab shows:
 * "<problem> <context> at line L column C" with the context's position. */
static int parser_error(struct loader *l, struct err *err)
{
	const yaml_parser_t *p = &l->parser;
	const char *problem = p->problem ? p->problem : "unknown YAML error";
	if (p->error == YAML_MEMORY_ERROR)
		return err_set(err, ERR_INTERNAL, "out of memory while parsing YAML");
	if (p->error == YAML_READER_ERROR) {
		struct srcloc loc = offset_loc(l, p->problem_offset);
		if (p->problem_value >= 0)
			return err_at(err, loc, "%s (#%X)", problem, (unsigned)p->problem_value);
		return err_at(err, loc, "%s", problem);
	}
	struct srcloc loc = mark_loc(l, p->problem_mark);
	if (!p->context)
		return err_at(err, loc, "%s", problem);
	struct srcloc ctx = mark_loc(l, p->context_mark);
	if (p->problem_mark.index >= l->len)
		loc = ctx;
	if (ctx.line == loc.line && ctx.col == loc.col)
		return err_at(err, loc, "%s %s", problem, p->context);
	return err_at(err, loc, "%s %s at line %u column %u", problem, p->context, ctx.line,
	              ctx.col);
}

static int parse_all(struct loader *l, struct err *err)
{
	for (;;) {
		yaml_event_t ev;
		if (!yaml_parser_parse(&l->parser, &ev))
			return parser_error(l, err);
		int r = on_event(l, &ev, err);
		bool done = ev.type == YAML_STREAM_END_EVENT;
		yaml_event_delete(&ev);
		if (r < 0)
			return -1;
		if (done)
			return 0;
	}
}

static void loader_release(struct loader *l)
{
	for (size_t i = 0; i < l->nfr; i++)
		free(l->fr[i].ix);
	free(l->fr);
	free(l->items);
	free(l->ents);
	strmap_release(&l->anchors);
	yaml_parser_delete(&l->parser);
}

void ydoc_free(struct ydoc *doc)
{
	if (!doc)
		return;
	diag_list_release(&doc->warnings);
	arena_release(doc->arena);
	free(doc->arena);
	free(doc);
}

struct ydoc *yload_doc_new(const char *name)
{
	struct ydoc *doc = xcalloc(1, sizeof(*doc));
	doc->arena = xmalloc(sizeof(*doc->arena));
	arena_init(doc->arena);
	doc->file = arena_strdup(doc->arena, name ? name : "<input>");
	return doc;
}

int yload_piece(struct ydoc *doc, const char *buf, size_t len, unsigned line_base,
                const struct yload_opts *opts, const struct strmap *seed, struct ypiece *out,
                struct err *err)
{
	struct loader l = {.doc = doc,
	                   .a = doc->arena,
	                   .opts = *opts,
	                   .buf = buf,
	                   .len = len,
	                   .line_base = line_base,
	                   .seed = seed};
	strmap_init(&l.anchors);
	strmap_init(&l.seed_hits);
	if (!yaml_parser_initialize(&l.parser))
		abort();
	yaml_parser_set_input_string(&l.parser, (const unsigned char *)buf, len);
	int r = parse_all(&l, err);
	*out = (struct ypiece){.ndocs = l.ndocs,
	                       .nodes = l.budget,
	                       .top_merge = l.top_merge,
	                       .root_marked = l.root_marked,
	                       .anchors = l.anchors,
	                       .seed_hits = l.seed_hits};
	strmap_init(&l.anchors); /* moved to out */
	loader_release(&l);
	if (r < 0)
		return -1;
	choose_documents(&l, &doc->root, &doc->header);
	return 0;
}

void ypiece_release(struct ypiece *p)
{
	strmap_release(&p->anchors);
	strmap_release(&p->seed_hits);
}

struct ydoc *ydoc_load_mem(const char *name, const char *buf, size_t len,
                           const struct yload_opts *opts, struct err *err)
{
	struct yload_opts def = YLOAD_OPTS_INIT;
	if (!opts)
		opts = &def;
	if (len > opts->max_bytes) {
		err_set(err, ERR_CONFIG,
		        "'%s' is too big: %zu bytes exceeds the limit of %zu bytes",
		        name ? name : "<input>", len, opts->max_bytes);
		return NULL;
	}
	struct ydoc *doc = yload_split(name, buf, len, opts);
	if (doc)
		return doc;
	doc = yload_doc_new(name);
	struct ypiece facts;
	int r = yload_piece(doc, buf, len, 0, opts, NULL, &facts, err);
	ypiece_release(&facts);
	if (r < 0) {
		/* the arena copy of the name dies with doc: point at the caller's string */
		if (err && err->loc.file == doc->file)
			err->loc.file = name ? name : "<input>";
		ydoc_free(doc);
		return NULL;
	}
	return doc;
}

/* Reads at most max+1 bytes, so an oversized file is detected without reading all of it. */
static int read_file(const char *path, size_t max, struct strbuf *sb, struct err *err)
{
	int r = fs_read_file(path, 0, max, sb);
	if (r < 0)
		return err_sys(err, errno, r == -1 ? "cannot open '%s'" : "cannot read '%s'", path);
	return 0;
}

struct ydoc *ydoc_load_file(const char *path, const struct yload_opts *opts, struct err *err)
{
	struct yload_opts def = YLOAD_OPTS_INIT;
	if (!opts)
		opts = &def;
	struct strbuf sb = STRBUF_INIT;
	if (read_file(path, opts->max_bytes, &sb, err) < 0) {
		strbuf_release(&sb);
		return NULL;
	}
	struct ydoc *doc = ydoc_load_mem(path, sb.buf, sb.len, opts, err);
	strbuf_release(&sb);
	return doc;
}
