/* Private helpers shared by the files of the yaml module (not part of its API): Psych's scalar
 * typing, Ruby's number formatting and the hash index of large maps. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "util/strmap.h"
#include "yaml/node.h"

struct arena;
struct err;

/* Maps with more entries than this get a hash index for O(1) key lookup. */
#define YMAP_INDEX_MIN 16

/* What Psych's ScalarScanner#tokenize makes of a plain scalar. */
enum yscalar_class {
	YSC_STRING,
	YSC_NULL,
	YSC_TRUE,
	YSC_FALSE,
	YSC_INT,         /* INTEGER_LEGACY: 0b, 0 octal, decimal, 0x, with `_` and `,` */
	YSC_FLOAT,       /* FLOAT: needs a '.', exponent only with a sign */
	YSC_INF,         /* .inf, +.inf (any case) */
	YSC_NINF,        /* -.inf */
	YSC_NAN,         /* .nan */
	YSC_SYMBOL,      /* :foo, a Ruby Symbol */
	YSC_SEXAGESIMAL, /* 1:30 (integer base 60, Psych's arithmetic) */
	YSC_SEXA_FLOAT,  /* 1:30.5 */
	YSC_TIME,        /* timestamp: a Time, which GitLab's safe_load refuses */
	YSC_DATE,        /* 2024-01-31: a Date, refused likewise */
};

/* Classifies s[0..len) as Psych would an untagged plain scalar. */
enum yscalar_class yscalar_classify(const char *s, size_t len);

/* Types scalar `s` (len bytes, may be unterminated) into n->kind/str/v, Psych-style: quoted
 * scalars are strings; untagged plain ones are tokenized; `tag` (resolved by libyaml, borrowed)
 * selects str/float/binary conversions. Strings are copied into `a`. Returns 0, or -1 with err
 * set at n->loc when Psych would raise (dates, times, `0x_`, bad !!float). */
int yscalar_resolve(struct arena *a, struct ynode *n, const char *s, size_t len, bool quoted,
                    const char *tag, struct err *err);

/* Ruby's Float#to_s into buf (at least 32 bytes): "1.5", "1000.0", "1.0e+16", "Infinity". */
void yfloat_to_s(double d, char *buf, size_t size);

/* (Re)builds the hash index of map node m in arena `a` when it has more than YMAP_INDEX_MIN
 * entries; drops it otherwise. */
void ymap_index_build(struct arena *a, struct ynode *m);
/* Position of key in m's entries, or -1; uses the index when it is current. */
long ymap_find(const struct ynode *m, const char *key);
/* FNV-1a hash of a NUL-terminated key. */
size_t ykey_hash(const char *key);

/* Whether tag is the registered GitLab `!reference` tag. */
bool ytag_is_reference(const char *tag);

/* ---- loading in pieces (load.c, split.c) ---- */

/* What the loader saw of one piece of text, for deciding whether pieces can be joined. */
struct ypiece {
	size_t ndocs;            /* non-blank documents */
	size_t nodes;            /* nodes after expanding aliases, of the last document */
	bool top_merge;          /* a `<<` merge key in the root mapping */
	bool root_marked;        /* the root collection has a tag or an anchor */
	struct strmap anchors;   /* every anchor as the text left it: name -> private record */
	struct strmap seed_hits; /* names of aliases that were resolved from the seed */
};

/* An empty doc whose file name is `name` (or "<input>"). */
struct ydoc *yload_doc_new(const char *name);
/* Loads buf[0..len) into doc (root, header, warnings; nodes in doc->arena); buf starts at line
 * line_base + 1 of the file, so locations are the file's. An alias to an anchor the text does
 * not define is looked up in `seed` (the anchors of an earlier piece) if given. Fills *out
 * in every case (release it with ypiece_release). Returns 0, or -1 with err set. */
int yload_piece(struct ydoc *doc, const char *buf, size_t len, unsigned line_base,
                const struct yload_opts *opts, const struct strmap *seed, struct ypiece *out,
                struct err *err);
void ypiece_release(struct ypiece *p);
/* The doc loaded as pieces on several threads, identical to loading it whole; NULL when the
 * text is too small, cannot be cut safely, or any piece disagrees (then load it whole, which
 * also gives the exact error). */
struct ydoc *yload_split(const char *name, const char *buf, size_t len,
                         const struct yload_opts *opts);
