/* Unit tests for yaml/: Psych scalar typing, merge keys, aliases, locations, errors, limits,
 * documents, deep merge, emit round-trips, and every real-world config in the corpus. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/arena.h"
#include "util/err.h"
#include "util/fsutil.h"
#include "util/strbuf.h"
#include "yaml/internal.h"
#include "yaml/node.h"

#define DEFAULT_CORPUS "/work/shared/corpus/real"
#define DEFAULT_GCL_CASES "/work/shared/corpus/gcl-cases"

static struct ydoc *load(const char *text)
{
	struct err err = ERR_INIT;
	struct ydoc *doc = ydoc_load_mem("t.yml", text, strlen(text), NULL, &err);
	if (!doc)
		fail_msg("unexpected load error %u:%u: %s", err.loc.line, err.loc.col, err.msg);
	err_release(&err);
	return doc;
}

/* Loads text that must fail; returns "line:col: message" (owned). */
static char *load_error(const char *text, size_t len, const struct yload_opts *opts)
{
	struct err err = ERR_INIT;
	struct ydoc *doc = ydoc_load_mem("t.yml", text, len, opts, &err);
	if (doc) {
		ydoc_free(doc);
		fail_msg("expected an error loading: %s", text);
	}
	assert_int_equal(err.kind, ERR_CONFIG);
	struct strbuf sb = STRBUF_INIT;
	if (err.loc.file) {
		assert_string_equal(err.loc.file, "t.yml");
		strbuf_addf(&sb, "%u:%u: ", err.loc.line, err.loc.col);
	}
	strbuf_addstr(&sb, err.msg);
	err_release(&err);
	return strbuf_detach(&sb, NULL);
}

static void expect_error(const char *text, const char *expected)
{
	char *got = load_error(text, strlen(text), NULL);
	assert_string_equal(got, expected);
	free(got);
}

/* ---- typing ---- */

struct typing_case {
	const char *yaml; /* the value after "v: " */
	enum ynode_kind kind;
	const char *str;
};

static const struct typing_case typing_cases[] = {
    /* null */
    {"~", YNODE_NULL, ""},
    {"null", YNODE_NULL, ""},
    {"Null", YNODE_NULL, ""},
    {"NULL", YNODE_NULL, ""},
    {"nUlL", YNODE_NULL, ""}, /* Psych matches /^null$/i */
    {"", YNODE_NULL, ""},
    {"nil", YNODE_STRING, "nil"},
    /* the short-word test: every line must start like y/t/o/n/f/~ and one line be a word;
     * more than 5 characters (or 20 bytes) is a string */
    {"y\n\n  no", YNODE_BOOL, "false"},
    {"x\n\n  no", YNODE_STRING, "x\nno"},
    {"yes\n\n  no", YNODE_STRING, "yes\nno"},
    {"yyyyyyyyyyyyyyyyyyyyy", YNODE_STRING, "yyyyyyyyyyyyyyyyyyyyy"},
    /* bools: any case of yes/no/true/false/on/off; y and n are strings */
    {"true", YNODE_BOOL, "true"},
    {"True", YNODE_BOOL, "true"},
    {"TRUE", YNODE_BOOL, "true"},
    {"yes", YNODE_BOOL, "true"},
    {"Yes", YNODE_BOOL, "true"},
    {"YES", YNODE_BOOL, "true"},
    {"on", YNODE_BOOL, "true"},
    {"On", YNODE_BOOL, "true"},
    {"false", YNODE_BOOL, "false"},
    {"no", YNODE_BOOL, "false"},
    {"No", YNODE_BOOL, "false"},
    {"off", YNODE_BOOL, "false"},
    {"OFF", YNODE_BOOL, "false"},
    {"y", YNODE_STRING, "y"},
    {"n", YNODE_STRING, "n"},
    {"Y", YNODE_STRING, "Y"},
    {"N", YNODE_STRING, "N"},
    {"yess", YNODE_STRING, "yess"},
    {"truely", YNODE_STRING, "truely"},
    /* ints */
    {"0", YNODE_INT, "0"},
    {"42", YNODE_INT, "42"},
    {"-42", YNODE_INT, "-42"},
    {"+12", YNODE_INT, "12"},
    {"-0", YNODE_INT, "0"},
    {"012345", YNODE_INT, "5349"},
    {"0755", YNODE_INT, "493"},
    {"00", YNODE_INT, "0"},
    {"08", YNODE_STRING, "08"},     /* not octal, and decimals have no leading 0 */
    {"0o17", YNODE_STRING, "0o17"}, /* YAML 1.2 octal is not YAML 1.1 */
    {"0x1F", YNODE_INT, "31"},
    {"0xff", YNODE_INT, "255"},
    {"-0x10", YNODE_INT, "-16"},
    {"0X1F", YNODE_STRING, "0X1F"},
    {"0b101", YNODE_INT, "5"},
    {"0b1_0", YNODE_INT, "2"},
    {"1_000", YNODE_INT, "1000"},
    {"1,000", YNODE_INT, "1000"},
    {"1__000", YNODE_STRING, "1__000"},
    {"1_", YNODE_STRING, "1_"},
    {"99999999999999999999999", YNODE_INT, "99999999999999999999999"},
    {"0xFFFFFFFFFFFFFFFFFFFF", YNODE_INT, "1208925819614629174706175"},
    {"1:30", YNODE_INT, "5400"}, /* Psych: 1*60**2 + 30*60 */
    {"1:02:03", YNODE_INT, "3723"},
    {"-1:30", YNODE_INT, "-1800"}, /* -3600 + 1800 */
    {"12:30", YNODE_INT, "45000"},
    {"1:60", YNODE_STRING, "1:60"},
    /* floats */
    {"1.5", YNODE_FLOAT, "1.5"},
    {"1.50", YNODE_FLOAT, "1.5"},
    {"1.", YNODE_FLOAT, "1.0"},
    {".5", YNODE_FLOAT, "0.5"},
    {"-1.25", YNODE_FLOAT, "-1.25"},
    {"1_000.5", YNODE_FLOAT, "1000.5"},
    {"1.0e+3", YNODE_FLOAT, "1000.0"},
    {"1.5E-3", YNODE_FLOAT, "0.0015"},
    {"1e3", YNODE_STRING, "1e3"},     /* Psych's FLOAT needs a '.' */
    {"1.0e3", YNODE_STRING, "1.0e3"}, /* ... and a signed exponent */
    {"1.e+5", YNODE_FLOAT, "100000.0"},
    {"1.0e+16", YNODE_FLOAT, "1.0e+16"},
    {"1.0e+15", YNODE_FLOAT, "1000000000000000.0"},
    {"0.0001", YNODE_FLOAT, "0.0001"},
    {"0.00001", YNODE_FLOAT, "1.0e-05"},
    {"0.1", YNODE_FLOAT, "0.1"},
    {"-0.0", YNODE_FLOAT, "-0.0"},
    {".inf", YNODE_FLOAT, "Infinity"},
    {".Inf", YNODE_FLOAT, "Infinity"},
    {"+.inf", YNODE_FLOAT, "Infinity"},
    {"-.INF", YNODE_FLOAT, "-Infinity"},
    {".nan", YNODE_FLOAT, "NaN"},
    {".NaN", YNODE_FLOAT, "NaN"},
    {"inf", YNODE_STRING, "inf"},
    {".", YNODE_STRING, "."},
    {"-.", YNODE_STRING, "-."},
    {"1:30.5", YNODE_FLOAT, "5430.0"},
    /* strings */
    {"hello", YNODE_STRING, "hello"},
    {"\"true\"", YNODE_STRING, "true"},
    {"'012'", YNODE_STRING, "012"},
    {"\"\"", YNODE_STRING, ""},
    {"\"~\"", YNODE_STRING, "~"},
    {"1.2.3", YNODE_STRING, "1.2.3"},
    {"v1.0", YNODE_STRING, "v1.0"},
    {"echo $CI_COMMIT_SHA", YNODE_STRING, "echo $CI_COMMIT_SHA"},
    {":sym", YNODE_STRING, "sym"}, /* a Ruby Symbol; to_s drops the colon */
    {":\"quoted sym\"", YNODE_STRING, "quoted sym"},
    {"|\n  line1\n  line2", YNODE_STRING, "line1\nline2\n"},
    {">-\n  folded\n  text", YNODE_STRING, "folded text"},
    {"\"esc\\tape\\u00e9\"", YNODE_STRING, "esc\tape\xc3\xa9"},
    /* standard tags */
    {"!!str 12", YNODE_STRING, "12"},
    {"!!str yes", YNODE_STRING, "yes"},
    {"!!int \"12\"", YNODE_INT, "12"}, /* a tagged scalar is not "quoted" for Psych */
    {"!!float 3", YNODE_FLOAT, "3.0"},
    {"!!float \"1e3\"", YNODE_FLOAT, "1000.0"},
    {"!!bool yes", YNODE_BOOL, "true"},
    {"!!null ''", YNODE_NULL, ""},
    {"! \"true\"", YNODE_BOOL, "true"},
};

static void test_typing_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(typing_cases) / sizeof(typing_cases[0]); i++) {
		const struct typing_case *c = &typing_cases[i];
		struct strbuf sb = STRBUF_INIT;
		strbuf_addf(&sb, "v: %s\n", c->yaml);
		struct ydoc *doc = load(sb.buf);
		const struct ynode *v = ynode_get(doc->root, "v");
		assert_non_null(v);
		if (v->kind != c->kind || (ynode_is_scalar(v) && strcmp(v->str, c->str) != 0))
			fail_msg("'%s': got %s '%s', want %s '%s'", c->yaml,
			         ynode_kind_name(v->kind), v->str, ynode_kind_name(c->kind),
			         c->str);
		/* standard tags are resolved away; `!` (non-specific) is kept raw */
		if (strncmp(c->yaml, "! ", 2) == 0)
			assert_string_equal(v->tag, "!");
		else
			assert_null(v->tag);
		ydoc_free(doc);
		strbuf_release(&sb);
	}
}

static void test_typed_values(void **state)
{
	(void)state;
	struct ydoc *doc = load("i: 0x7fffffffffffffff\nbig: 99999999999999999999\nf: 2.5\n"
	                        "b: off\nn: -17\n");
	assert_int_equal(ynode_get(doc->root, "i")->v.i, INT64_MAX);
	assert_int_equal(ynode_get(doc->root, "big")->v.i, INT64_MAX); /* clamped */
	assert_true(ynode_get(doc->root, "f")->v.f == 2.5);
	assert_false(ynode_get(doc->root, "b")->v.b);
	assert_int_equal(ynode_get(doc->root, "n")->v.i, -17);
	ydoc_free(doc);
}

static void test_keys_are_ruby_strings(void **state)
{
	(void)state;
	struct ydoc *doc = load("on: 1\n012: 2\n~: 3\n1.50: 4\n[a, 1]: 5\n");
	const struct ynode *r = doc->root;
	assert_int_equal(r->n, 5);
	assert_string_equal(r->entries[0].key, "true");
	assert_string_equal(r->entries[1].key, "10");
	assert_string_equal(r->entries[2].key, "");
	assert_string_equal(r->entries[3].key, "1.5");
	assert_string_equal(r->entries[4].key, "[\"a\", 1]");
	ydoc_free(doc);
}

static void test_typing_errors(void **state)
{
	(void)state;
	/* GitLab's safe_load refuses Date and Time objects; Ruby's Integer()/Float() raise */
	expect_error("d: 2024-01-31\n", "1:4: tried to load unspecified class: Date");
	expect_error("t: 2001-12-14t21:59:43.10-05:00\n",
	             "1:4: tried to load unspecified class: Time");
	expect_error("t: 2001-12-14 21:59:43\n", "1:4: tried to load unspecified class: Time");
	expect_error("x: 0x_\n", "1:4: invalid value for Integer(): \"0x\"");
	expect_error("x: -0b,\n", "1:4: invalid value for Integer(): \"-0b\"");
	expect_error("x: .e+1\n", "1:4: invalid value for Float(): \"e+1\"");
	expect_error("x: !!float abc\n", "1:4: invalid value for Float(): \"abc\"");
	/* near misses stay strings */
	struct ydoc *doc = load("a: 2024-13-01\nb: 2024-1-1x\nc: '2024-01-31'\n");
	assert_string_equal(ynode_str(ynode_get(doc->root, "a")), "2024-13-01");
	assert_int_equal(ynode_get(doc->root, "b")->kind, YNODE_STRING);
	assert_string_equal(ynode_str(ynode_get(doc->root, "c")), "2024-01-31");
	ydoc_free(doc);
}

/* ---- anchors, aliases, merge keys, duplicates ---- */

static const char *val(const struct ynode *root, const char *map, const char *key)
{
	return ynode_str(ynode_get(ynode_get(root, map), key));
}

static void test_alias_shares_node(void **state)
{
	(void)state;
	struct ydoc *doc = load("a: &x\n  k: [1, 2]\nb: *x\nc: &s str\nd: *s\n");
	assert_ptr_equal(ynode_get(doc->root, "a"), ynode_get(doc->root, "b"));
	assert_string_equal(ynode_str(ynode_get(doc->root, "d")), "str");
	ydoc_free(doc);
}

static void test_merge_key_order(void **state)
{
	(void)state;
	struct ydoc *doc = load(".a: &a\n  x: 1\n  y: 2\n"
	                        "before:\n  x: 0\n  w: 0\n  <<: *a\n"
	                        "after:\n  <<: *a\n  x: 100\n");
	const struct ynode *before = ynode_get(doc->root, "before");
	/* keys written before `<<` are overwritten by the anchor's; position is kept */
	assert_int_equal(before->n, 3);
	assert_string_equal(before->entries[0].key, "x");
	assert_string_equal(val(doc->root, "before", "x"), "1");
	assert_string_equal(val(doc->root, "before", "w"), "0");
	assert_string_equal(before->entries[2].key, "y");
	/* keys written after win */
	assert_string_equal(val(doc->root, "after", "x"), "100");
	assert_string_equal(val(doc->root, "after", "y"), "2");
	assert_int_equal(doc->warnings.n, 0);
	ydoc_free(doc);
}

static void test_merge_key_list(void **state)
{
	(void)state;
	struct ydoc *doc = load(".a: &a {x: 1, y: 2}\n.b: &b {y: 20, z: 30}\n"
	                        "m:\n  <<: [*a, *b]\n  q: 1\n"
	                        "n:\n  <<: [*b, *a]\n"
	                        "i:\n  <<: {k: v}\n  <<: [{k: w, j: 1}]\n");
	const struct ynode *m = ynode_get(doc->root, "m");
	/* earlier aliases win; Psych merges right to left into a new hash */
	assert_string_equal(val(doc->root, "m", "y"), "2");
	assert_string_equal(val(doc->root, "m", "z"), "30");
	assert_string_equal(val(doc->root, "m", "x"), "1");
	assert_int_equal(m->n, 4);
	assert_string_equal(m->entries[0].key, "y");
	assert_string_equal(m->entries[1].key, "z");
	assert_string_equal(m->entries[2].key, "x");
	assert_string_equal(m->entries[3].key, "q");
	assert_string_equal(val(doc->root, "n", "y"), "20");
	assert_string_equal(val(doc->root, "i", "k"), "w");
	assert_string_equal(val(doc->root, "i", "j"), "1");
	ydoc_free(doc);
}

static void test_merge_key_quirks(void **state)
{
	(void)state;
	struct ydoc *doc = load(".a: &a {x: 1}\n.s: &s [1]\n"
	                        "quoted:\n  \"<<\": *a\n"   /* still merges in Psych */
	                        "tagged:\n  !!str <<: *a\n" /* an ordinary key */
	                        "scalar:\n  <<: 5\n"        /* TypeError -> ordinary key */
	                        "seqalias:\n  <<: *s\n"     /* alias to a list: ordinary */
	                        "mixed:\n  <<: [*a, 1]\n"); /* not all hashes: ordinary */
	assert_string_equal(val(doc->root, "quoted", "x"), "1");
	assert_null(ynode_get(ynode_get(doc->root, "quoted"), "<<"));
	assert_non_null(ynode_get(ynode_get(doc->root, "tagged"), "<<"));
	assert_null(ynode_get(ynode_get(doc->root, "tagged"), "x"));
	assert_string_equal(val(doc->root, "scalar", "<<"), "5");
	assert_int_equal(ynode_get(ynode_get(doc->root, "seqalias"), "<<")->kind, YNODE_SEQ);
	assert_int_equal(ynode_get(ynode_get(doc->root, "mixed"), "<<")->kind, YNODE_SEQ);
	ydoc_free(doc);
}

static void test_duplicate_keys_warn(void **state)
{
	(void)state;
	struct ydoc *doc = load("job:\n  script: a\n  stage: b\n  script: c\n");
	const struct ynode *job = ynode_get(doc->root, "job");
	assert_int_equal(job->n, 2);
	assert_string_equal(job->entries[0].key, "script"); /* first position kept */
	assert_string_equal(val(doc->root, "job", "script"), "c");
	assert_int_equal(doc->warnings.n, 1);
	assert_true(doc->warnings.v[0].warning);
	assert_int_equal(doc->warnings.v[0].loc.line, 4);
	assert_int_equal(doc->warnings.v[0].loc.col, 3);
	assert_string_equal(doc->warnings.v[0].loc.file, "t.yml");
	assert_string_equal(doc->warnings.v[0].msg,
	                    "duplicate key 'script' (first at line 2 column 3): the last value "
	                    "wins");
	ydoc_free(doc);
}

/* ---- locations ---- */

static void test_locations(void **state)
{
	(void)state;
	struct ydoc *doc = load("# comment\n"
	                        "job:\n"
	                        "  script:\n"
	                        "    - echo a\n"
	                        "    -   echo b\n"
	                        "  variables: {A: 1, \"B\": x}\n"
	                        "tags: !reference [.x, tags]\n");
	const struct ynode *root = doc->root;
	assert_int_equal(root->loc.line, 2);
	assert_int_equal(root->loc.col, 1);
	const struct ymap_entry *job = ynode_entry(root, "job");
	assert_int_equal(job->key_loc.line, 2);
	assert_int_equal(job->key_loc.col, 1);
	const struct ymap_entry *script = ynode_entry(job->value, "script");
	assert_int_equal(script->key_loc.line, 3);
	assert_int_equal(script->key_loc.col, 3);
	assert_int_equal(script->value->loc.line, 4);
	assert_int_equal(script->value->loc.col, 5);
	assert_int_equal(script->value->items[1]->loc.line, 5);
	assert_int_equal(script->value->items[1]->loc.col, 9);
	const struct ymap_entry *vars = ynode_entry(job->value, "variables");
	const struct ymap_entry *b = ynode_entry(vars->value, "B");
	assert_int_equal(b->key_loc.line, 6);
	assert_int_equal(b->key_loc.col, 21);
	assert_int_equal(b->value->loc.col, 26);
	const struct ynode *tags = ynode_get(root, "tags");
	assert_string_equal(tags->tag, "!reference");
	assert_int_equal(tags->loc.line, 7);
	assert_int_equal(tags->loc.col, 7);
	assert_string_equal(tags->loc.file, "t.yml");
	ydoc_free(doc);
}

/* ---- syntax errors ---- */

static void test_syntax_errors(void **state)
{
	(void)state;
	/* bad indentation: the location is the offending key, the text Psych's */
	expect_error("a:\n  b: 1\n c: 2\n",
	             "3:2: did not find expected key while parsing a block mapping at line 1 "
	             "column 1");
	expect_error("job:\n  script:\n    - echo\n  - bad\n",
	             "4:3: did not find expected key while parsing a block mapping at line 2 "
	             "column 3");
	/* unclosed quote: where the quote starts */
	expect_error("a: 1\nb: \"unclosed\nc: 2\n",
	             "2:4: found unexpected end of stream while scanning a quoted scalar");
	/* tab indentation */
	expect_error("a:\n\tb: 1\n",
	             "2:1: found character that cannot start any token while scanning for the "
	             "next token");
	expect_error("a: b: c\n", "1:5: mapping values are not allowed in this context");
	expect_error("a: [1, 2\n",
	             "1:4: did not find expected ',' or ']' while parsing a flow sequence");
	expect_error("a: *nope\n", "1:4: an alias referenced an unknown anchor: nope");
	expect_error("a: &x [1, *x]\n", "1:11: alias '*x' refers to a node that contains it");
}

static void test_bad_bytes(void **state)
{
	(void)state;
	static const char nul[] = "a: 1\nb: x\0y\n";
	char *e = load_error(nul, sizeof(nul) - 1, NULL);
	assert_string_equal(e, "2:5: control characters are not allowed (#0)");
	free(e);
	e = load_error("a: \xff\xfe\n", 6, NULL);
	assert_string_equal(e, "1:4: invalid leading UTF-8 octet (#FF)");
	free(e);
	e = load_error("a: \xc3", 4, NULL); /* truncated UTF-8 sequence */
	assert_non_null(strstr(e, "incomplete UTF-8 octet sequence"));
	free(e);
	/* a binary file: the first bytes of a gzip stream */
	static const char gz[] = "\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03";
	e = load_error(gz, sizeof(gz) - 1, NULL);
	assert_string_equal(e, "1:1: control characters are not allowed (#1F)");
	free(e);
	/* a truncated file */
	e = load_error("job:\n  script:\n    - \"echo", 26, NULL);
	assert_non_null(strstr(e, "while scanning a quoted scalar"));
	free(e);
}

static void test_file_errors(void **state)
{
	(void)state;
	struct err err = ERR_INIT;
	assert_null(ydoc_load_file("/nonexistent/dir/x.yml", NULL, &err));
	assert_int_equal(err.kind, ERR_ENV);
	assert_string_equal(err.msg, "cannot open '/nonexistent/dir/x.yml': No such file or "
	                             "directory");
	err_release(&err);
	assert_null(ydoc_load_file("/", NULL, &err));
	assert_int_equal(err.kind, ERR_ENV);
	assert_non_null(strstr(err.msg, "cannot read '/'"));
	err_release(&err);
}

static void test_load_file(void **state)
{
	(void)state;
	char path[] = "/tmp/test-yaml-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	const char text[] = "a:\n  - 1\n  -  x\n";
	assert_int_equal(write(fd, text, sizeof(text) - 1), (ssize_t)sizeof(text) - 1);
	close(fd);
	struct err err = ERR_INIT;
	struct ydoc *doc = ydoc_load_file(path, NULL, &err);
	assert_non_null(doc);
	const struct ynode *x = ynode_get(doc->root, "a")->items[1];
	assert_string_equal(x->loc.file, path);
	assert_int_equal(x->loc.line, 3);
	assert_int_equal(x->loc.col, 6);
	ydoc_free(doc);
	/* errors name the file as given */
	struct yload_opts opts = YLOAD_OPTS_INIT;
	opts.max_bytes = 8;
	assert_null(ydoc_load_file(path, &opts, &err));
	assert_int_equal(err.kind, ERR_CONFIG);
	assert_non_null(strstr(err.msg, "is too big"));
	err_release(&err);
	unlink(path);
}

/* ---- limits ---- */

static void test_size_limit(void **state)
{
	(void)state;
	size_t len = 1024 * 1024 + 1;
	char *big = malloc(len);
	memset(big, '#', len);
	char *e = load_error(big, len, NULL);
	assert_string_equal(e, "'t.yml' is too big: 1048577 bytes exceeds the limit of 1048576 "
	                       "bytes");
	free(e);
	/* exactly 1 MiB is fine */
	struct err err = ERR_INIT;
	struct ydoc *doc = ydoc_load_mem("t.yml", big, len - 1, NULL, &err);
	assert_non_null(doc);
	assert_null(doc->root);
	ydoc_free(doc);
	free(big);
}

static void test_depth_limit(void **state)
{
	(void)state;
	struct strbuf sb = STRBUF_INIT;
	for (int i = 0; i < 100; i++)
		strbuf_addch(&sb, '[');
	for (int i = 0; i < 100; i++)
		strbuf_addch(&sb, ']');
	struct ydoc *doc = load(sb.buf); /* 100 levels: allowed */
	ydoc_free(doc);
	strbuf_reset(&sb);
	for (int i = 0; i < 101; i++)
		strbuf_addch(&sb, '[');
	char *e = load_error(sb.buf, sb.len, NULL);
	assert_string_equal(e, "1:101: the parsed YAML is too big: the nesting depth exceeds the "
	                       "limit of 100");
	free(e);
	/* depth through an alias counts too */
	strbuf_reset(&sb);
	strbuf_addstr(&sb, "a: &a ");
	for (int i = 0; i < 60; i++)
		strbuf_addch(&sb, '[');
	for (int i = 0; i < 60; i++)
		strbuf_addch(&sb, ']');
	strbuf_addstr(&sb, "\nb: ");
	for (int i = 0; i < 50; i++)
		strbuf_addch(&sb, '[');
	strbuf_addstr(&sb, "*a");
	for (int i = 0; i < 50; i++)
		strbuf_addch(&sb, ']');
	e = load_error(sb.buf, sb.len, NULL);
	assert_non_null(strstr(e, "nesting depth"));
	free(e);
	strbuf_release(&sb);
}

static void test_alias_bomb(void **state)
{
	(void)state;
	const char *bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
	                   "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
	                   "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
	                   "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
	                   "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
	                   "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
	                   "g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n"
	                   "h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g, *g]\n"
	                   "i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h, *h]\n";
	char *e = load_error(bomb, strlen(bomb), NULL);
	assert_non_null(strstr(e, "the parsed YAML is too big: the number of nodes after "
	                          "expanding aliases exceeds the limit of 1000000"));
	free(e);
	/* without a limit it loads, as a billion-node tree made of 100 shared nodes: aliases
	 * are never copied or walked (a loader that did would not finish this test) */
	struct yload_opts unlimited = YLOAD_OPTS_INIT;
	unlimited.max_nodes = SIZE_MAX;
	struct err err = ERR_INIT;
	struct ydoc *doc = ydoc_load_mem("t.yml", bomb, strlen(bomb), &unlimited, &err);
	assert_non_null(doc);
	const struct ynode *h = ynode_get(doc->root, "h"), *i = ynode_get(doc->root, "i");
	assert_ptr_equal(i->items[0], h);
	assert_ptr_equal(i->items[9], h);
	ydoc_free(doc);
	/* a small budget catches even a few levels */
	struct yload_opts opts = YLOAD_OPTS_INIT;
	opts.max_nodes = 50;
	e = load_error(bomb, strlen(bomb), &opts);
	assert_string_equal(e, "2:20: the parsed YAML is too big: the number of nodes after "
	                       "expanding aliases exceeds the limit of 50");
	free(e);
}

/* ---- documents ---- */

static void test_documents(void **state)
{
	(void)state;
	struct ydoc *doc =
	    load("spec:\n  inputs:\n    env: {default: x}\n---\njob:\n  script: a\n");
	assert_non_null(doc->header);
	assert_non_null(ynode_get(doc->header, "spec"));
	assert_non_null(ynode_get(doc->root, "job"));
	assert_null(ynode_get(doc->root, "spec"));
	ydoc_free(doc);
	/* a leading `---` and blank documents do not count */
	doc = load("---\njob: {script: a}\n---\n");
	assert_null(doc->header);
	assert_non_null(ynode_get(doc->root, "job"));
	ydoc_free(doc);
	doc = load("");
	assert_null(doc->root);
	assert_null(doc->header);
	ydoc_free(doc);
	/* GitLab (Yaml::Documents): without a `spec:` header the first document is the
	 * configuration; others are ignored, with a warning here */
	doc = load("first: {script: a}\n---\nsecond: {script: b}\n---\nthird: {script: c}\n");
	assert_null(doc->header);
	assert_non_null(ynode_get(doc->root, "first"));
	assert_null(ynode_get(doc->root, "second"));
	assert_int_equal(doc->warnings.n, 2);
	assert_int_equal(doc->warnings.v[0].loc.line, 2);
	assert_non_null(strstr(doc->warnings.v[0].msg, "this YAML document is ignored: GitLab "
	                                               "reads only the first document"));
	assert_int_equal(doc->warnings.v[1].loc.line, 4);
	ydoc_free(doc);
	/* with a header, the last of at most three pieces of text */
	doc = load("spec:\n  inputs: {}\n---\nb: 1\n---\nc: 1\n---\nd: 1\n");
	assert_non_null(ynode_get(doc->header, "spec"));
	assert_non_null(ynode_get(doc->root, "c"));
	assert_int_equal(doc->warnings.n, 2); /* b: not the last; d: a fourth document */
	ydoc_free(doc);
	/* a leading `---` makes an empty first piece, which counts towards the three */
	doc = load("---\nspec: {inputs: {}}\n---\nb: 1\n---\nc: 1\n");
	assert_non_null(ynode_get(doc->root, "b"));
	assert_int_equal(doc->warnings.n, 1);
	assert_int_equal(doc->warnings.v[0].loc.line, 5);
	ydoc_free(doc);
	/* anchors do not cross documents */
	expect_error("a: &x 1\n---\nb: *x\n", "3:4: an alias referenced an unknown anchor: x");
}

/* ---- node helpers ---- */

static void test_big_map_lookup(void **state)
{
	(void)state;
	struct strbuf sb = STRBUF_INIT;
	for (int i = 0; i < 3000; i++)
		strbuf_addf(&sb, "job%d:\n  script: echo %d\n", i, i);
	strbuf_addstr(&sb, "job17:\n  script: again\n"); /* duplicate in a big map */
	struct ydoc *doc = load(sb.buf);
	assert_int_equal(doc->root->n, 3000);
	assert_non_null(doc->root->index);
	char key[32];
	for (int i = 0; i < 3000; i++) {
		snprintf(key, sizeof(key), "job%d", i);
		const struct ymap_entry *e = ynode_entry(doc->root, key);
		assert_non_null(e);
		assert_ptr_equal(e, &doc->root->entries[i]);
	}
	assert_string_equal(val(doc->root, "job17", "script"), "again");
	assert_int_equal(doc->warnings.n, 1);
	assert_null(ynode_get(doc->root, "job3000"));
	/* builders keep the index right */
	struct ynode *copy = ynode_shallow_copy(doc->arena, doc->root);
	ynode_map_del(copy, "job5");
	assert_null(ynode_get(copy, "job5"));
	assert_string_equal(val(copy, "job6", "script"), "echo 6");
	struct srcloc loc = {"x", 1, 1};
	ynode_map_set(doc->arena, copy, "new", loc, ynode_new_string(doc->arena, "v", loc));
	assert_string_equal(ynode_str(ynode_get(copy, "new")), "v");
	assert_int_equal(copy->n, 3000);
	assert_non_null(ynode_get(doc->root, "job5")); /* the original is untouched */
	ydoc_free(doc);
	strbuf_release(&sb);
}

static void test_builders(void **state)
{
	(void)state;
	struct arena a = ARENA_INIT;
	struct srcloc loc = {"f", 2, 3};
	struct ynode *m = ynode_new(&a, YNODE_MAP, loc);
	char key[16];
	for (int i = 0; i < 40; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		ynode_map_set(&a, m, arena_strdup(&a, key), loc, ynode_new_string(&a, key, loc));
	}
	ynode_map_set(&a, m, "k3", loc, ynode_new(&a, YNODE_NULL, loc));
	assert_int_equal(m->n, 40);
	assert_int_equal(ynode_get(m, "k3")->kind, YNODE_NULL);
	assert_string_equal(ynode_str(ynode_get(m, "k3")), "");
	for (int i = 0; i < 40; i += 2) {
		snprintf(key, sizeof(key), "k%d", i);
		ynode_map_del(m, key);
	}
	assert_int_equal(m->n, 20);
	assert_null(ynode_get(m, "k0"));
	assert_string_equal(ynode_str(ynode_get(m, "k39")), "k39");
	assert_string_equal(m->entries[0].key, "k1");
	struct ynode *s = ynode_new(&a, YNODE_SEQ, loc);
	for (int i = 0; i < 100; i++)
		ynode_seq_push(&a, s, m);
	assert_int_equal(s->n, 100);
	assert_ptr_equal(s->items[99], m);
	assert_null(ynode_get(s, "k1"));
	assert_null(ynode_get(NULL, "k1"));
	assert_null(ynode_str(s));
	assert_string_equal(ynode_kind_name(YNODE_MAP), "hash");
	assert_string_equal(ynode_kind_name(YNODE_SEQ), "array");
	assert_string_equal(ynode_kind_name(YNODE_STRING), "string");
	assert_string_equal(ynode_kind_name(YNODE_BOOL), "boolean");
	assert_string_equal(ynode_kind_name(YNODE_INT), "integer");
	assert_string_equal(ynode_kind_name(YNODE_NULL), "null");
	arena_release(&a);
}

static void test_inspect(void **state)
{
	(void)state;
	struct ydoc *doc = load("v: [a, 1, ~, true, {k: \"q\\\"#{x}\"}, 1.5]\n");
	struct strbuf sb = STRBUF_INIT;
	ynode_inspect(ynode_get(doc->root, "v"), &sb);
	assert_string_equal(sb.buf, "[\"a\", 1, nil, true, {\"k\"=>\"q\\\"\\#{x}\"}, 1.5]");
	strbuf_release(&sb);
	ydoc_free(doc);
}

/* ---- deep merge (spec/yaml.md §3.2) ---- */

static void test_deep_merge(void **state)
{
	(void)state;
	struct ydoc *doc =
	    load("parent:\n  variables: {A: 1, B: 2}\n  script: [x]\n  tags: [t1]\n"
	         "  cache: {key: k, paths: [a]}\n  image: img\n"
	         "child:\n  extends: parent\n  variables: {B: 3}\n  tags: [t2]\n"
	         "  cache: {}\n  image: null\n"
	         "want:\n  variables: {A: 1, B: 3}\n  script: [x]\n  tags: [t2]\n"
	         "  cache: {key: k, paths: [a]}\n  image: null\n  extends: parent\n");
	const struct ynode *parent = ynode_get(doc->root, "parent");
	const struct ynode *child = ynode_get(doc->root, "child");
	struct ynode *m = ynode_deep_merge(doc->arena, parent, child);
	assert_int_equal(m->kind, YNODE_MAP);
	assert_true(ynode_equal(m, ynode_get(doc->root, "want")));
	/* key: null removes the inherited value; key: {} keeps the inherited entries */
	assert_int_equal(ynode_get(m, "image")->kind, YNODE_NULL);
	assert_string_equal(val(m, "cache", "key"), "k");
	/* inputs are unchanged */
	assert_null(val(doc->root, "parent", "B"));
	assert_string_equal(ynode_str(ynode_get(ynode_get(parent, "variables"), "B")), "2");
	assert_int_equal(ynode_get(child, "cache")->n, 0);
	/* non-maps: the later value replaces */
	const struct ynode *seq = ynode_get(child, "tags");
	assert_ptr_equal(ynode_deep_merge(doc->arena, parent, seq), seq);
	assert_ptr_equal(ynode_deep_merge(doc->arena, seq, ynode_get(parent, "image")),
	                 ynode_get(parent, "image"));
	struct ynode *fresh = ynode_deep_merge(doc->arena, seq, child);
	assert_ptr_not_equal(fresh, child);
	assert_true(ynode_equal(fresh, child));
	ydoc_free(doc);
}

/* ---- emit ---- */

static void assert_round_trip(const struct ynode *root)
{
	struct strbuf sb = STRBUF_INIT;
	ynode_emit(root, &sb);
	struct err err = ERR_INIT;
	struct yload_opts opts = YLOAD_OPTS_INIT;
	opts.max_bytes = 64 * 1024 * 1024;
	struct ydoc *again = ydoc_load_mem("emitted", sb.buf, sb.len, &opts, &err);
	if (!again)
		fail_msg("emitted YAML does not load (%u:%u: %s):\n%s", err.loc.line, err.loc.col,
		         err.msg, sb.buf);
	if (!ynode_equal(root, again->root))
		fail_msg("round trip changed the tree:\n%s", sb.buf);
	ydoc_free(again);
	strbuf_release(&sb);
}

static void test_emit_round_trip(void **state)
{
	(void)state;
	struct ydoc *doc =
	    load("strings:\n"
	         "  - 'true'\n  - '012'\n  - ''\n  - 'a: b'\n  - 'a #b'\n  - '- x'\n  - '~'\n"
	         "  - ' lead'\n  - 'trail '\n  - '1e3'\n  - '1.5'\n  - '0x1F'\n  - ':sym'\n"
	         "  - '2024-01-31'\n  - '1:30'\n  - '<<'\n  - '---'\n  - '[x'\n  - '*a'\n"
	         "  - \"tab\\there\"\n  - \"nul\\x01x\\u2028y\\u0085z\"\n  - \"caf\\u00e9 "
	         "\\U0001F600\"\n"
	         "  - \"two\\nlines\\n\"\n  - \"no final newline\\nx\"\n  - \"kept\\n\\n\\n\"\n"
	         "  - \" indented\\nfirst\"\n  - \"a\\n  \\nb\"\n  - \"\\r\\n\"\n  - '\"quoted\"'\n"
	         "  - 'it''s'\n  - 'x: y\n\n    z'\n  - '%percent'\n  - '@at'\n  - '#hash'\n"
	         "  - 'back\\slash'\n  - 'y'\n  - 'null'\n  - 'Yes'\n  - '.inf'\n  - '-'\n  - '?'\n"
	         "typed: [1, -2, 0.5, 1.0e+16, .inf, -.inf, .nan, true, false, ~, "
	         "99999999999999999999]\n"
	         "\"key: with colon\": 1\n"
	         "'true': bool key\n"
	         "'': empty key\n"
	         "!!str <<: literal merge key\n"
	         "nested:\n  - - a\n    - [b, {c: d}]\n  - {}\n  - []\n  - {e: [], f: {}}\n"
	         "  - - {g: 1, h: [2]}\n"
	         "ref: !reference [.a, script]\n"
	         "refs:\n  - !reference [.b, x]\n  - !custom {k: v}\n  - !scalar text\n"
	         "script: |\n  echo \"a: b\"\n  # not a comment\n  if x; then\n    y\n  fi\n"
	         "weird tag: !<tag:example.com,2000:x%20y> v\n"
	         "tagged:\n  - !t ::x\n  - !t :\"on\"\n  - !t :0x_\n  - ! ''\n  - !t :':x'\n");
	assert_round_trip(doc->root);
	ydoc_free(doc);
	/* scalars and tagged collections at the root */
	const char *roots[] = {"--- plain\n", "--- \"two\\nlines\"\n", "--- |\n  lit\n  x\n",
	                       "--- 12\n",    "--- !tag\na: 1\n",      "- a\n- b\n",
	                       "--- !r [a]\n"};
	for (size_t i = 0; i < sizeof(roots) / sizeof(roots[0]); i++) {
		doc = load(roots[i]);
		assert_round_trip(doc->root);
		ydoc_free(doc);
	}
	/* long keys need the explicit form: libyaml limits implicit keys to 1024 characters,
	 * counted in the emitted text (escapes included) */
	struct arena a = ARENA_INIT;
	struct srcloc loc = {"x", 1, 1};
	struct ynode *m = ynode_new(&a, YNODE_MAP, loc);
	struct strbuf sb = STRBUF_INIT;
	for (int i = 0; i < 1500; i++)
		strbuf_addch(&sb, 'k');
	ynode_map_set(&a, m, arena_strdup(&a, sb.buf), loc, ynode_new_string(&a, "v", loc));
	strbuf_reset(&sb);
	for (int i = 0; i < 600; i++)
		strbuf_addch(&sb, '\t'); /* 600 bytes, 1200 once escaped */
	ynode_map_set(&a, m, arena_strdup(&a, sb.buf), loc, ynode_new(&a, YNODE_NULL, loc));
	assert_round_trip(m);
	struct strbuf out = STRBUF_INIT;
	ynode_emit(m, &out);
	assert_non_null(strstr(out.buf, "? kkk"));
	assert_non_null(strstr(out.buf, "? \"\\t\\t"));
	strbuf_reset(&out);
	/* bytes that are not UTF-8 cannot be carried by YAML: escaped, visibly */
	struct ynode *bad = ynode_new(&a, YNODE_MAP, loc);
	ynode_map_set(&a, bad, "bad utf8", loc, ynode_new_string(&a, "\xff", loc));
	ynode_emit(bad, &out);
	assert_string_equal(out.buf, "bad utf8: \"\\xFF\"\n");
	strbuf_release(&out);
	strbuf_release(&sb);
	arena_release(&a);
}

static void test_emit_style(void **state)
{
	(void)state;
	struct ydoc *doc = load("a: 'true'\nb: [x, 'y z']\nc: {}\nd: \"l1\\nl2\\n\"\ne:\n  - k: v\n"
	                        "    j: w\nf: 012\n");
	struct strbuf sb = STRBUF_INIT;
	ynode_emit(doc->root, &sb);
	assert_string_equal(sb.buf, "a: \"true\"\n"
	                            "b:\n  - x\n  - y z\n"
	                            "c: {}\n"
	                            "d: |\n  l1\n  l2\n"
	                            "e:\n  - k: v\n    j: w\n"
	                            "f: 10\n");
	strbuf_release(&sb);
	ydoc_free(doc);
}

/* ---- the real-world corpus ---- */

static bool assert_split_same(const char *text);
static int corpus_joined; /* files that loaded in pieces too */

/* Every corpus file also loads cut into small pieces (yaml/split.c), with the same result. */
static void assert_file_split_same(const char *path)
{
	struct strbuf sb = STRBUF_INIT;
	assert_int_equal(fs_read_file(path, 0, 4 * 1024 * 1024, &sb), 0);
	if (strlen(sb.buf) == sb.len) /* assert_split_same takes C strings */
		corpus_joined += assert_split_same(sb.buf);
	strbuf_release(&sb);
}

static void walk(const char *dir, int *count, size_t *lines)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		struct strbuf path = STRBUF_INIT;
		strbuf_addf(&path, "%s/%s", dir, e->d_name);
		struct stat st;
		if (stat(path.buf, &st) == 0 && S_ISDIR(st.st_mode)) {
			walk(path.buf, count, lines);
		} else if (path.len > 4 && (!strcmp(path.buf + path.len - 4, ".yml") ||
		                            !strcmp(path.buf + path.len - 5, ".yaml"))) {
			struct err err = ERR_INIT;
			struct ydoc *doc = ydoc_load_file(path.buf, NULL, &err);
			if (!doc)
				fail_msg("%s:%u:%u: %s", path.buf, err.loc.line, err.loc.col,
				         err.msg);
			assert_round_trip(doc->root);
			if (doc->header)
				assert_round_trip(doc->header);
			assert_file_split_same(path.buf);
			(*count)++;
			*lines += (size_t)st.st_size;
			ydoc_free(doc);
		}
		strbuf_release(&path);
	}
	closedir(d);
}

static void test_anchor_on_overwritten_key(void **state)
{
	(void)state;
	/* gitlab-ci-local's duplicated-keys case: the anchor of a value overwritten by a later
	 * duplicate key still works */
	struct ydoc *doc =
	    load("---\nvariables: &foo\n  FOO: \"1\"\n\nvariables: &bar\n  BAR: \"2\"\n"
	         "a:\n  variables:\n    <<: *foo\nb:\n  variables:\n    <<: *bar\n");
	assert_null(val(doc->root, "variables", "FOO"));
	assert_string_equal(val(doc->root, "variables", "BAR"), "2");
	assert_string_equal(val(ynode_get(doc->root, "a"), "variables", "FOO"), "1");
	assert_string_equal(val(ynode_get(doc->root, "b"), "variables", "BAR"), "2");
	assert_int_equal(doc->warnings.n, 1);
	assert_int_equal(doc->warnings.v[0].loc.line, 5);
	ydoc_free(doc);
}

static void test_real_corpus(void **state)
{
	(void)state;
	const char *dir = getenv("RUNNEL_CORPUS");
	if (!dir)
		dir = DEFAULT_CORPUS;
	struct stat st;
	if (stat(dir, &st) != 0) {
		print_message("corpus %s not found\n", dir);
		skip();
	}
	int count = 0;
	size_t bytes = 0;
	corpus_joined = 0;
	walk(dir, &count, &bytes);
	print_message("loaded %d real configs (%zu bytes), %d of them in pieces as well\n", count,
	              bytes, corpus_joined);
	assert_true(count > 100);
	assert_true(corpus_joined > 50);
}

static void test_gcl_cases_corpus(void **state)
{
	(void)state;
	const char *dir = getenv("RUNNEL_GCL_CASES");
	if (!dir)
		dir = DEFAULT_GCL_CASES;
	struct stat st;
	if (stat(dir, &st) != 0) {
		print_message("corpus %s not found\n", dir);
		skip();
	}
	int count = 0;
	size_t bytes = 0;
	walk(dir, &count, &bytes);
	print_message("loaded %d gitlab-ci-local configs (%zu bytes)\n", count, bytes);
	assert_true(count > 200);
}

/* ---- loading in pieces (yaml/split.c) ---- */

static struct ydoc *load_with(const char *text, size_t len, unsigned threads, size_t piece_min,
                              struct err *err)
{
	struct yload_opts opts = YLOAD_OPTS_INIT;
	opts.threads = threads;
	opts.piece_min = piece_min;
	return ydoc_load_mem("t.yml", text, len, &opts, err);
}

/* Loading text in pieces must give exactly what loading it whole gives: the tree with every
 * location, the warnings, or the error. Returns whether the pieces were joined. */
static bool assert_split_same(const char *text)
{
	size_t len = strlen(text);
	struct err ew = ERR_INIT, es = ERR_INIT;
	struct ydoc *whole = load_with(text, len, 1, 0, &ew);
	struct ydoc *split = load_with(text, len, 4, 64, &es);
	assert_true(!whole == !split);
	if (whole) {
		assert_true(ynode_identical(whole->root, split->root));
		assert_true(ynode_identical(whole->header, split->header));
		assert_int_equal(whole->warnings.n, split->warnings.n);
		for (size_t i = 0; i < whole->warnings.n; i++) {
			assert_string_equal(whole->warnings.v[i].msg, split->warnings.v[i].msg);
			assert_int_equal(whole->warnings.v[i].loc.line,
			                 split->warnings.v[i].loc.line);
		}
	} else {
		assert_string_equal(ew.msg, es.msg);
		assert_int_equal(ew.loc.line, es.loc.line);
		assert_int_equal(ew.loc.col, es.loc.col);
	}
	ydoc_free(whole);
	ydoc_free(split);
	err_release(&ew);
	err_release(&es);
	struct yload_opts opts = YLOAD_OPTS_INIT;
	opts.threads = 4;
	opts.piece_min = 64;
	struct ydoc *joined = yload_split("t.yml", text, len, &opts);
	ydoc_free(joined);
	return joined != NULL;
}

/* n jobs in the shapes real files have; `eol` is "\n" or "\r\n". */
static void jobs_text(struct strbuf *sb, int n, const char *eol)
{
	strbuf_addf(sb, "# generated%sstages:%s- build%s- test%s", eol, eol, eol, eol);
	strbuf_addf(sb, ".base: &base%s  image: alpine%s  tags: [docker]%s", eol, eol, eol);
	strbuf_addf(sb, ".steps: &steps%s  - make%s  - make check%s%s", eol, eol, eol, eol);
	for (int i = 0; i < n; i++) {
		strbuf_addf(sb, "job-%d:%s  <<: *base%s  script: *steps%s", i, eol, eol, eol);
		strbuf_addf(sb, "  variables: {N: \"%d\", MODE: 'fast'}%s", i, eol);
		strbuf_addf(sb, "  after_script: |%s    echo %d%s%s    echo kept%s", eol, i, eol,
		            eol, eol);
		strbuf_addf(sb, "# a comment%s\"quoted %d\": yes%s", eol, i, eol);
		strbuf_addf(sb, "list-%d:%s- a%s- &item-%d b%s- *item-%d%s", i, eol, eol, i, eol, i,
		            eol);
	}
}

static void test_split_matches_whole(void **state)
{
	(void)state;
	struct strbuf sb = STRBUF_INIT;
	jobs_text(&sb, 40, "\n");
	assert_true(assert_split_same(sb.buf)); /* anchors at the top seed the pieces */
	strbuf_reset(&sb);
	jobs_text(&sb, 40, "\r\n");
	assert_true(assert_split_same(sb.buf)); /* CRLF counts lines as LF does */
	/* no anchors at all */
	strbuf_reset(&sb);
	for (int i = 0; i < 60; i++)
		strbuf_addf(&sb, "job-%d:\n  script:\n    - echo %d\n  when: manual\n", i, i);
	assert_true(assert_split_same(sb.buf));
	const char *tail = sb.buf + sb.len / 2;
	tail = strstr(tail, "\njob-") + 1;
	/* cases that must not be joined, and still load exactly as whole */
	static const char *const refused[] = {
	    "job-1:\n  script: [again]\n", /* key in two pieces: warning */
	    "<<: {merged: 1}\n",           /* top-level merge key */
	    "late: *late\n",               /* alias to a later anchor */
	    "x: 1\r  y: 2\n",              /* lone CR */
	    "---\nnext: doc\n",            /* a second document */
	    "bad: [unclosed\n",            /* a syntax error, reported once */
	};
	for (size_t k = 0; k < sizeof(refused) / sizeof(refused[0]); k++) {
		struct strbuf t = STRBUF_INIT;
		strbuf_add(&t, sb.buf, (size_t)(tail - sb.buf));
		strbuf_addstr(&t, refused[k]);
		strbuf_addstr(&t, tail);
		if (k == 2)
			strbuf_addstr(&t, "anchor: &late 1\n");
		print_message("refused case %zu\n", k);
		assert_false(assert_split_same(t.buf));
		strbuf_release(&t);
	}
	/* a quoted scalar whose lines look like keys: every cut inside it is refused */
	struct strbuf q = STRBUF_INIT;
	strbuf_addstr(&q, "a: 1\nq: \"");
	for (int i = 0; i < 300; i++)
		strbuf_addf(&q, "k%d: v\n", i);
	strbuf_addstr(&q, "\"\nz: 1\n");
	assert_false(assert_split_same(q.buf));
	strbuf_release(&q);
	/* a root indented by two spaces with one key in column 1 in the middle: an error whole;
	 * the pieces would each load */
	struct strbuf ind = STRBUF_INIT;
	for (const char *l = sb.buf; *l; l = strchr(l, '\n') + 1) {
		if (l == tail)
			strbuf_addstr(&ind, "outdented: 1\n");
		strbuf_addstr(&ind, "  ");
		strbuf_add(&ind, l, (size_t)(strchr(l, '\n') + 1 - l));
	}
	assert_false(assert_split_same(ind.buf));
	strbuf_release(&ind);
	/* an anchor redefined in the middle: later aliases see the new node either way */
	struct strbuf t = STRBUF_INIT;
	strbuf_addstr(&t, "first: &a 1\n");
	strbuf_add(&t, sb.buf, (size_t)(tail - sb.buf));
	strbuf_addstr(&t, "again: &a 2\n");
	strbuf_addstr(&t, tail);
	strbuf_addstr(&t, "use: *a\n");
	assert_split_same(t.buf);
	strbuf_release(&t);
	strbuf_release(&sb);
}

static void make_pipeline(struct strbuf *sb, int jobs)
{
	strbuf_reset(sb);
	strbuf_addstr(sb, ".base: &base\n  image: alpine\n  tags: [docker]\n");
	for (int i = 0; i < jobs; i++)
		strbuf_addf(sb,
		            "job-%d:\n  <<: *base\n  stage: test\n  variables:\n    N: \"%d\"\n"
		            "    MODE: fast\n  script:\n    - echo start %d\n"
		            "    - make -j4 target-%d\n    - echo done\n  needs: [job-%d]\n"
		            "  rules:\n    - if: $CI_COMMIT_BRANCH == \"main\"\n",
		            i, i, i, i, i ? i - 1 : 0);
}

/* A 3000-job file loads in pieces with the default piece size, as the same tree. */
static void test_big_pipeline_in_pieces(void **state)
{
	(void)state;
	struct strbuf sb = STRBUF_INIT;
	make_pipeline(&sb, 3000);
	assert_true(sb.len > 4 * 64 * 1024);
	struct err err = ERR_INIT;
	struct ydoc *whole = load_with(sb.buf, sb.len, 1, 0, &err);
	struct ydoc *split = load_with(sb.buf, sb.len, 4, 0, &err);
	assert_non_null(whole);
	assert_non_null(split);
	assert_int_equal(split->root->n, 3001);
	assert_string_equal(val(split->root, "job-2999", "image"), "alpine");
	assert_true(ynode_identical(whole->root, split->root));
	ydoc_free(whole);
	ydoc_free(split);
	struct yload_opts opts = YLOAD_OPTS_INIT;
	opts.threads = 4;
	struct ydoc *joined = yload_split("big.yml", sb.buf, sb.len, &opts);
	assert_non_null(joined);
	ydoc_free(joined);
	strbuf_release(&sb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_typing_table),
	    cmocka_unit_test(test_typed_values),
	    cmocka_unit_test(test_keys_are_ruby_strings),
	    cmocka_unit_test(test_typing_errors),
	    cmocka_unit_test(test_alias_shares_node),
	    cmocka_unit_test(test_merge_key_order),
	    cmocka_unit_test(test_merge_key_list),
	    cmocka_unit_test(test_merge_key_quirks),
	    cmocka_unit_test(test_duplicate_keys_warn),
	    cmocka_unit_test(test_locations),
	    cmocka_unit_test(test_syntax_errors),
	    cmocka_unit_test(test_bad_bytes),
	    cmocka_unit_test(test_file_errors),
	    cmocka_unit_test(test_load_file),
	    cmocka_unit_test(test_size_limit),
	    cmocka_unit_test(test_depth_limit),
	    cmocka_unit_test(test_alias_bomb),
	    cmocka_unit_test(test_documents),
	    cmocka_unit_test(test_big_map_lookup),
	    cmocka_unit_test(test_builders),
	    cmocka_unit_test(test_inspect),
	    cmocka_unit_test(test_deep_merge),
	    cmocka_unit_test(test_emit_round_trip),
	    cmocka_unit_test(test_emit_style),
	    cmocka_unit_test(test_anchor_on_overwritten_key),
	    cmocka_unit_test(test_real_corpus),
	    cmocka_unit_test(test_gcl_cases_corpus),
	    cmocka_unit_test(test_split_matches_whole),
	    cmocka_unit_test(test_big_pipeline_in_pieces),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
