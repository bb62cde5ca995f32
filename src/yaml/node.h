/* The YAML tree as GitLab sees it after Psych: anchors, aliases and merge keys resolved,
 * scalars typed by YAML 1.1 rules, tags kept raw (`!reference`). Every node carries the 1-based
 * source location of its first character. All nodes, strings and files live in one arena owned
 * by a `struct ydoc` and are immutable once loaded, except through the functions below that
 * build new nodes (merging, !reference resolution): they never modify a node in place that
 * another node may share. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "util/err.h"

struct arena;

enum ynode_kind {
	YNODE_NULL,   /* `~`, `null`, empty value */
	YNODE_BOOL,   /* YAML 1.1: true/false/yes/no/on/off (any case form Psych accepts) */
	YNODE_INT,    /* YAML 1.1 ints: decimal, 0o/0 octal, 0x hex, 0b, underscores */
	YNODE_FLOAT,  /* YAML 1.1 floats, .inf, .nan */
	YNODE_STRING, /* every other scalar, and all quoted scalars */
	YNODE_SEQ,
	YNODE_MAP,
};

struct ynode;

struct ymap_entry {
	const char *key; /* the key as a string (non-string keys converted as Ruby's to_s) */
	struct srcloc key_loc;
	struct ynode *value;
};

struct ynode {
	enum ynode_kind kind;
	struct srcloc loc;
	const char *tag; /* raw tag such as "!reference", or NULL for none / standard tags */
	/* Scalars: `str` is the value as GitLab turns it into a string (Ruby to_s of the Psych
	 * value): `012` -> "10", `yes` -> "true", `1.50` -> "1.5", null -> "". Never NULL. */
	const char *str;
	union {
		bool b;
		long long i;
		double f;
	} v;
	/* Sequences: items[0..n); maps: entries[0..n) in document order, keys unique
	 * (duplicates: last wins, reported as a warning by the loader). */
	size_t n;
	struct ynode **items;
	struct ymap_entry *entries;
	void *index;  /* lookup accelerator for large maps, private to yaml/ */
	size_t alloc; /* capacity of items/entries when built by ynode_*_push/set (0: exactly n) */
};

/* A loaded file and everything derived from it. */
struct ydoc {
	struct arena *arena;       /* owned */
	const char *file;          /* path as given, arena-owned */
	struct ynode *root;        /* the content document; NULL when every document is blank */
	struct ynode *header;      /* the `spec:` header document if the file has two, else NULL */
	struct diag_list warnings; /* duplicate keys etc. */
};

struct yload_opts {
	size_t max_bytes;   /* default 1 MiB (GitLab's limit) */
	unsigned max_depth; /* default 100 */
	size_t max_nodes;   /* budget on nodes after alias expansion; default 1,000,000 */
	/* Large files load as pieces on several threads (yaml/split.c), with the same result:
	 * at most `threads` of them (0: one per online CPU, up to 4; 1: never split), each at
	 * least `piece_min` bytes (0: 64 KiB). */
	unsigned threads;
	size_t piece_min;
};
/* clang-format off */ /* (clang-format 14 spreads a braced initializer macro over lines) */
#define YLOAD_OPTS_INIT { .max_bytes = 1024 * 1024, .max_depth = 100, .max_nodes = 1000000 }
/* clang-format on */

/* Loads `path` (display name `path` in every srcloc). Returns an owned doc, or NULL with err
 * set (ERR_CONFIG with file:line:col for syntax errors and limits; ERR_ENV for I/O). On
 * error err->loc.file is `path` itself (borrowed: keep it alive while using err).
 * Blank documents (empty, null, {}, [], "", false) are dropped as GitLab does; of the rest,
 * one is the content (root), two are the `spec:` header and the content, more is an error. */
struct ydoc *ydoc_load_file(const char *path, const struct yload_opts *opts, struct err *err);
/* Same from memory; `name` is used as the file name in locations. */
struct ydoc *ydoc_load_mem(const char *name, const char *buf, size_t len,
                           const struct yload_opts *opts, struct err *err);
void ydoc_free(struct ydoc *doc);

/* Lookup helpers; all NULL-safe: a NULL or non-map node gives NULL. */
struct ynode *ynode_get(const struct ynode *map, const char *key);
struct ymap_entry *ynode_entry(const struct ynode *map, const char *key);
bool ynode_is_scalar(const struct ynode *n);
/* The scalar's string, or NULL if n is not a scalar (null counts as scalar with ""). */
const char *ynode_str(const struct ynode *n);
const char *ynode_kind_name(enum ynode_kind k); /* "string", "array", "hash", ... as GitLab says */

/* Builders, allocating in `a`. */
struct ynode *ynode_new(struct arena *a, enum ynode_kind kind, struct srcloc loc);
struct ynode *ynode_new_string(struct arena *a, const char *s, struct srcloc loc);
/* Shallow copy of a map or seq (new entry/item arrays, same children). */
struct ynode *ynode_shallow_copy(struct arena *a, const struct ynode *n);
/* Sets key in a map node that the caller created (not shared): replaces the value in place
 * (keeping the key's position, as Ruby's Hash#[]= does) or appends. `key` is stored, not
 * copied: it must live as long as the map (arena strings). Maps built this way keep their
 * hash index; entries filled in by hand work too, with linear lookups. */
void ynode_map_set(struct arena *a, struct ynode *map, const char *key, struct srcloc key_loc,
                   struct ynode *value);
void ynode_map_del(struct ynode *map, const char *key);
void ynode_seq_push(struct arena *a, struct ynode *seq, struct ynode *item);

/* GitLab's deep merge (ActiveSupport deep_merge): both values maps -> recurse; otherwise the
 * value of `over` replaces (arrays and null included). Returns a new node; inputs unchanged. */
struct ynode *ynode_deep_merge(struct arena *a, const struct ynode *base, const struct ynode *over);

/* Emits n as YAML (block style, keys in order, strings quoted where needed) to a strbuf. */
struct strbuf;
void ynode_emit(const struct ynode *n, struct strbuf *out);

/* Deep structural equality: kinds, tags, scalar strings, keys in order (locations ignored).
 * NULL equals only NULL. */
bool ynode_equal(const struct ynode *a, const struct ynode *b);
/* Equal, and every node and key from the same file, line and column: the same text loaded
 * the same way (used to check that loading in pieces changes nothing). */
bool ynode_identical(const struct ynode *a, const struct ynode *b);
/* Appends Ruby's #inspect of the value as Psych loads it (`["a", 1]`, `{"k"=>nil}`), the form
 * GitLab quotes in its messages. NULL n appends "nil". */
void ynode_inspect(const struct ynode *n, struct strbuf *out);
