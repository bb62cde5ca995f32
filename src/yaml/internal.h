/* Private helpers shared by the files of the yaml module (not part of its API): Psych's scalar
 * typing, Ruby's number formatting and the hash index of large maps. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

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
