/* toml: the subset of TOML that gitlab-runner's config.toml uses, parsed into a tree that keeps
 * the position of every key and value, and written back. Debian ships no C TOML library.
 * Supported: tables, arrays of tables, dotted keys, bare/basic/literal keys, basic and literal
 * strings (single- and multi-line, with escapes), integers (decimal, 0x, 0o, 0b, `_`),
 * floats (incl. inf/nan), booleans, arrays (multi-line, trailing comma), inline tables and
 * comments. Dates and times (gitlab-runner writes token_obtained_at as one) are checked for
 * their shape and kept as text. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "util/err.h"

struct strbuf;

enum toml_type {
	TOML_STRING,
	TOML_INT,
	TOML_FLOAT,
	TOML_BOOL,
	TOML_ARRAY,
	TOML_TABLE,
	TOML_DATETIME, /* s holds the text as written, e.g. 2024-05-16T09:17:08Z */
};

struct toml_kv;

struct toml_value {
	enum toml_type type;
	struct srcloc loc; /* where the value (a table: its header or first key) starts */
	char *s;           /* TOML_STRING and TOML_DATETIME, owned */
	long long i;       /* TOML_INT */
	double f;          /* TOML_FLOAT */
	bool b;            /* TOML_BOOL */
	/* TOML_ARRAY: items (owned) */
	struct toml_value **items;
	size_t n, alloc;
	/* TOML_TABLE: keys in document order (owned) */
	struct toml_kv *kv;
	size_t nkv, kvalloc;
	/* parser state: a table given its own header, an array made by [[...]], a table or
	 * array closed for later additions (inline), a table created by a dotted key */
	bool defined, aot, frozen, dotted;
};

struct toml_kv {
	char *key; /* owned */
	struct srcloc loc;
	struct toml_value *v; /* owned */
};

/* A parsed document: its root table; loc.file of every value points at path (owned here). */
struct toml_doc {
	char *path;
	struct toml_value *root;
};

/* Parses text[0..len) (NUL bytes rejected) read from path (used in locations; copied) into
 * *ret. Errors: ERR_CONFIG with err->loc at the offending character and a message naming the
 * key when there is one; then *ret holds only the path err->loc.file points at, so the caller
 * prints the error before toml_doc_release(ret) (which it calls either way). */
int toml_parse(const char *path, const char *text, size_t len, struct toml_doc *ret,
               struct err *err);
/* Reads and parses a file; a missing file is ERR_ENV with sys_errno ENOENT. */
int toml_parse_file(const char *path, struct toml_doc *ret, struct err *err);
void toml_doc_release(struct toml_doc *d);

/* Frees a value and its children; NULL-safe. */
void toml_value_free(struct toml_value *v);
/* New empty values of a type (owned by the caller until added to a table or array). */
struct toml_value *toml_new(enum toml_type type);
struct toml_value *toml_new_string(const char *s);
struct toml_value *toml_new_int(long long i);
struct toml_value *toml_new_bool(bool b);

/* The value of key in table t (borrowed), or NULL. */
struct toml_value *toml_get(const struct toml_value *t, const char *key);
/* Sets key in table t to v (taken), replacing an existing value in place (order kept). */
void toml_set(struct toml_value *t, const char *key, struct toml_value *v);
/* Removes key from table t (its value freed); no-op when absent. */
void toml_unset(struct toml_value *t, const char *key);
/* Appends v (taken) to array a. */
void toml_push(struct toml_value *a, struct toml_value *v);
/* Removes and frees item i of array a. */
void toml_remove(struct toml_value *a, size_t i);

/* Writes doc's root as TOML text: scalars and arrays of scalars first, then sub-tables as
 * [a.b] headers and arrays of tables as [[a]] with nested tables indented two spaces, the
 * layout gitlab-runner writes. Strings are written as basic strings with escapes. */
void toml_write(const struct toml_value *root, struct strbuf *out);
