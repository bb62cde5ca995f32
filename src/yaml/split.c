/* split: loads a large file as pieces on several threads, with the same result as loading it
 * whole.
 *
 * libyaml is two thirds of what `runnel list` spends on a large pipeline, and it parses one
 * character after the other. So the text is cut before top-level keys (lines that start in
 * column 1 with a character a plain key starts with), each piece is parsed on a thread of its
 * own as a document of its own with the file's line numbers, and the root mappings are joined
 * in order. Such a cut is safe: in a block mapping that starts in column 1, every plain or block
 * scalar and every block collection of the entry before ends before a line like that, and
 * anything that could run across it (a quoted scalar, a flow collection) leaves the piece
 * before it unterminated, which is a parse error.
 *
 * Aliases reach back: a file's anchors are usually defined in templates near its top and used
 * all over. So the text up to the last anchor definition is loaded first, as a piece of its
 * own, and its anchors seed the others, which then run in parallel. A piece that resolves an
 * alias from the seed while an earlier parallel piece redefines that anchor would see another
 * node than the whole file does: that is detected and refused like the cases below.
 *
 * The pieces are not joined, and the caller loads the file whole, whenever one of them could
 * mean something else than it does in the whole file: any parse error (an alias to an anchor
 * defined in an earlier parallel piece among them), a root that is not an untagged, unanchored
 * block mapping in column 1, a `<<` merge key at the top level, a key present in two pieces
 * (Psych's last-wins with a warning), more than one document, more nodes than the limit, or text
 * that libyaml reads differently from how the cut counts lines (a lone CR, NEL, LS, PS), that has
 * NUL bytes (UTF-16 or binary), or that has lines beginning with document markers or directives. */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/arena.h"
#include "util/err.h"
#include "util/strvec.h"
#include "util/xalloc.h"
#include "yaml/internal.h"
#include "yaml/node.h"

#define PIECES_MAX 4
#define PIECE_MIN_DEFAULT ((size_t)64 * 1024)

struct piece {
	const char *buf;
	size_t len;
	unsigned line_base;
	const struct yload_opts *opts;
	const struct strmap *seed;
	struct ydoc *doc;
	struct ypiece facts;
	int rc;
	pthread_t thread;
	bool threaded;
};

/* Whether the byte sequence (n bytes) occurs in buf. */
static bool has_seq(const char *buf, size_t len, const char *seq, size_t n)
{
	const char *p = buf, *end = buf + len;
	while (p < end && (p = memchr(p, seq[0], (size_t)(end - p)))) {
		if ((size_t)(end - p) >= n && memcmp(p, seq, n) == 0)
			return true;
		p++;
	}
	return false;
}

/* Whether some line starts with a directive or a document marker. */
static bool has_marker_line(const char *buf, size_t len)
{
	const char *p = buf, *end = buf + len;
	for (;;) {
		size_t left = (size_t)(end - p);
		if (left && *p == '%')
			return true;
		if (left >= 3 && (!memcmp(p, "---", 3) || !memcmp(p, "...", 3)))
			return true;
		const char *nl = memchr(p, '\n', left);
		if (!nl)
			return false;
		p = nl + 1;
	}
}

/* Whether the text can be cut at all (see the top of the file). Each test is a memchr pass:
 * these bytes are rare, and a byte-by-byte loop cost more than the cut saved. */
static bool text_cuttable(const char *buf, size_t len)
{
	if (memchr(buf, '\0', len) || has_seq(buf, len, "\xC2\x85", 2) ||
	    has_seq(buf, len, "\xE2\x80\xA8", 3) || has_seq(buf, len, "\xE2\x80\xA9", 3) ||
	    has_marker_line(buf, len))
		return false;
	const char *p = buf, *end = buf + len;
	while (p < end && (p = memchr(p, '\r', (size_t)(end - p)))) {
		if (p + 1 == end || p[1] != '\n')
			return false; /* a lone CR, which libyaml counts as a line break */
		p++;
	}
	return true;
}

/* A line that starts the way a plain top-level key does. */
static bool key_line(const char *p, const char *end)
{
	if (p >= end)
		return false;
	unsigned char c = (unsigned char)*p;
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '$' || c == '.';
}

/* Offset of the first key line starting after from, or 0 when there is none. */
static size_t next_key_line(const char *buf, size_t len, size_t from)
{
	const char *end = buf + len, *p = buf + from;
	const char *nl;
	while (p < end && (nl = memchr(p, '\n', (size_t)(end - p)))) {
		if (key_line(nl + 1, end))
			return (size_t)(nl + 1 - buf);
		p = nl + 1;
	}
	return 0;
}

/* Length of the anchor or alias name at p (YAML: up to a space or a flow indicator). */
static size_t name_len(const char *p, const char *end)
{
	const char *q = p;
	while (q < end && !strchr(" \t\r\n,[]{}", *q))
		q++;
	return (size_t)(q - p);
}

/* Offset just past the last anchor that an alias in a later top-level entry refers to, or 0:
 * the pieces after that point are seeded with every anchor before it. Found by looking for
 * `&name` and `*name` after a space, a line start or a flow indicator, which is only a guess
 * (`*` is also a glob, `&` part of a URL): an alias the guess misses makes a piece fail with
 * an unknown anchor, or is caught by the seed check, and the file is then loaded whole. */
static size_t anchors_needed_end(const char *buf, size_t len)
{
	if (!memchr(buf, '&', len))
		return 0;
	const char *end = buf + len;
	struct strmap defs = STRMAP_INIT; /* name -> 1 + offset of its last definition */
	struct strvec names = STRVEC_INIT;
	size_t entry = 0, needed = 0;
	for (const char *line = buf; line < end;) {
		const char *nl = memchr(line, '\n', (size_t)(end - line));
		const char *eol = nl ? nl : end;
		if (key_line(line, end))
			entry = (size_t)(line - buf);
		size_t n = (size_t)(eol - line);
		const char *amp = memchr(line, '&', n), *star = memchr(line, '*', n);
		for (const char *p = line; (amp || star);) {
			p = !amp ? star : !star ? amp : amp < star ? amp : star;
			size_t nlen = name_len(p + 1, eol);
			if (nlen && (p == line || strchr(" \t[{,", p[-1]))) {
				char *name = xstrndup(p + 1, nlen);
				uintptr_t def = (uintptr_t)strmap_get(&defs, name);
				if (*p == '&') {
					strvec_push_take(&names, name);
					strmap_put(&defs, name, (void *)(uintptr_t)(p - buf + 1));
				} else {
					if (def && def - 1 < entry && def > needed)
						needed = def;
					free(name);
				}
			}
			if (p == amp)
				amp = memchr(p + 1, '&', (size_t)(eol - p - 1));
			else
				star = memchr(p + 1, '*', (size_t)(eol - p - 1));
		}
		line = eol + 1;
	}
	strmap_release(&defs);
	strvec_release(&names);
	return needed;
}

static unsigned count_lines(const char *p, size_t n)
{
	unsigned lines = 0;
	const char *end = p + n, *nl;
	while (p < end && (nl = memchr(p, '\n', (size_t)(end - p)))) {
		lines++;
		p = nl + 1;
	}
	return lines;
}

static size_t pieces_wanted(size_t len, const struct yload_opts *opts)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	size_t want = opts->threads ? opts->threads : cpus > 0 ? (size_t)cpus : 1;
	size_t min = opts->piece_min ? opts->piece_min : PIECE_MIN_DEFAULT;
	if (want > PIECES_MAX)
		want = PIECES_MAX;
	if (want > len / min)
		want = len / min;
	return want;
}

/* Cuts buf[start..len) into at most `want` pieces of about equal size, appended to pc[*n..];
 * `line` is the number of lines before start. */
static void plan_pieces(const char *buf, size_t len, size_t start, unsigned line, size_t want,
                        struct piece *pc, size_t *n)
{
	size_t span = len - start;
	for (size_t k = 1; k < want; k++) {
		size_t from = start + span / want * k;
		size_t cut = next_key_line(buf, len, from > start ? from - 1 : start);
		if (!cut || cut <= start)
			break;
		pc[(*n)++] =
		    (struct piece){.buf = buf + start, .len = cut - start, .line_base = line};
		line += count_lines(buf + start, cut - start);
		start = cut;
	}
	pc[(*n)++] = (struct piece){.buf = buf + start, .len = len - start, .line_base = line};
}

static void *piece_load(void *arg)
{
	struct piece *p = arg;
	struct err e = ERR_INIT;
	p->rc = yload_piece(p->doc, p->buf, p->len, p->line_base, p->opts, p->seed, &p->facts, &e);
	err_release(&e); /* the whole-file load reports it */
	return NULL;
}

static bool piece_joinable(const struct piece *p)
{
	const struct ynode *r = p->doc->root;
	return p->rc == 0 && p->facts.ndocs == 1 && !p->facts.top_merge && !p->facts.root_marked &&
	       r && r->kind == YNODE_MAP && !r->tag && r->loc.col == 1;
}

/* Every alias a parallel piece resolved from the seed means the seed's node only if no
 * parallel piece before it redefined that anchor. */
static bool seeds_hold(const struct piece *pc, size_t first, size_t n)
{
	for (size_t k = first + 1; k < n; k++) {
		const struct strmap *hits = &pc[k].facts.seed_hits;
		for (size_t s = 0; hits->n && s < hits->cap; s++) {
			const char *name = hits->slots[s].key;
			if (!name)
				continue;
			for (size_t j = first; j < k; j++)
				if (strmap_has(&pc[j].facts.anchors, name))
					return false;
		}
	}
	return true;
}

static bool pieces_joinable(const struct piece *pc, size_t first, size_t n, size_t max_nodes)
{
	size_t nodes = 0;
	for (size_t i = 0; i < n; i++) {
		if (!piece_joinable(&pc[i]))
			return false;
		nodes += pc[i].facts.nodes - (i > 0); /* the root mapping counts once */
	}
	if (nodes > max_nodes || !seeds_hold(pc, first, n))
		return false;
	for (size_t i = 1; i < n; i++) {
		const struct ynode *r = pc[i].doc->root;
		for (size_t k = 0; k < r->n; k++)
			for (size_t j = 0; j < i; j++)
				if (ymap_find(pc[j].doc->root, r->entries[k].key) >= 0)
					return false;
	}
	return true;
}

/* Joins pieces 1.. into piece 0's doc, which is returned; the other docs are consumed. */
static struct ydoc *join(struct piece *pc, size_t n)
{
	struct ydoc *doc = pc[0].doc;
	struct ynode *root = doc->root;
	size_t total = 0;
	for (size_t i = 0; i < n; i++)
		total += pc[i].doc->root->n;
	struct ymap_entry *e = arena_alloc(doc->arena, total * sizeof(*e));
	size_t at = 0;
	for (size_t i = 0; i < n; i++) {
		const struct ynode *r = pc[i].doc->root;
		memcpy(e + at, r->entries, r->n * sizeof(*e));
		at += r->n;
	}
	root->entries = e;
	root->n = root->alloc = total;
	ymap_index_build(doc->arena, root);
	for (size_t i = 1; i < n; i++) {
		struct ydoc *d = pc[i].doc;
		diag_list_move(&doc->warnings, &d->warnings);
		arena_adopt(doc->arena, d->arena);
		free(d->arena);
		free(d);
		pc[i].doc = NULL;
	}
	return doc;
}

/* Loads pc[first..n) in parallel (pc[first] on this thread). */
static void load_parallel(struct piece *pc, size_t first, size_t n)
{
	for (size_t i = first + 1; i < n; i++)
		pc[i].threaded = pthread_create(&pc[i].thread, NULL, piece_load, &pc[i]) == 0;
	piece_load(&pc[first]);
	for (size_t i = first + 1; i < n; i++) {
		if (pc[i].threaded)
			pthread_join(pc[i].thread, NULL);
		else
			piece_load(&pc[i]);
	}
}

/* The pieces of buf: first the text up to the last anchor (when there is one), then the rest
 * cut for `want` threads. Returns how many, and the index of the first parallel one. */
static size_t plan(const char *buf, size_t len, size_t want, struct piece *pc, size_t *first)
{
	size_t n = 0, start = 0;
	unsigned line = 0;
	size_t anchors = anchors_needed_end(buf, len);
	if (anchors) {
		start = next_key_line(buf, len, anchors);
		if (!start)
			return 0; /* anchors up to the end: nothing to run in parallel */
		line = count_lines(buf, start);
		pc[n++] = (struct piece){.buf = buf, .len = start, .line_base = 0};
	}
	*first = n;
	plan_pieces(buf, len, start, line, want, pc, &n);
	return n - *first < 2 ? 0 : n;
}

struct ydoc *yload_split(const char *name, const char *buf, size_t len,
                         const struct yload_opts *opts)
{
	struct piece pc[PIECES_MAX + 1];
	size_t want = pieces_wanted(len, opts), first = 0;
	if (want < 2 || !text_cuttable(buf, len))
		return NULL;
	size_t n = plan(buf, len, want, pc, &first);
	if (!n)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		pc[i].opts = opts;
		pc[i].doc = yload_doc_new(name);
		if (i)
			pc[i].doc->file = pc[0].doc->file; /* one file name for every location */
	}
	if (first) {
		piece_load(&pc[0]); /* the anchors, which seed the others */
		for (size_t i = first; i < n; i++)
			pc[i].seed = &pc[0].facts.anchors;
	}
	if (!first || pc[0].rc == 0)
		load_parallel(pc, first, n);
	struct ydoc *doc = NULL;
	if ((!first || pc[0].rc == 0) && pieces_joinable(pc, first, n, opts->max_nodes))
		doc = join(pc, n);
	for (size_t i = 0; i < n; i++) {
		if (pc[i].doc != doc)
			ydoc_free(pc[i].doc);
		ypiece_release(&pc[i].facts); /* zeroed in pieces that never ran */
	}
	return doc;
}
