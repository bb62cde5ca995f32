/* Unit tests for runner/toml.c and runner/toml-write.c: every value form config.toml uses, the
 * table rules (headers, arrays of tables, dotted keys, redefinitions), errors with their
 * line:column and key, and a write-then-parse round trip. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runner/toml.h"
#include "util/err.h"
#include "util/strbuf.h"

static struct toml_doc parse_ok(const char *text)
{
	struct toml_doc d = {0};
	struct err err = ERR_INIT;
	int r = toml_parse("t.toml", text, strlen(text), &d, &err);
	if (r < 0)
		fail_msg("parse failed: %u:%u: %s", err.loc.line, err.loc.col, err.msg);
	err_release(&err);
	return d;
}

/* Expects a parse error at line:col whose message contains want. */
static void parse_err(const char *text, unsigned line, unsigned col, const char *want)
{
	struct toml_doc d = {0};
	struct err err = ERR_INIT;
	assert_int_equal(toml_parse("t.toml", text, strlen(text), &d, &err), -1);
	if (!strstr(err.msg, want) || err.loc.line != line || err.loc.col != col)
		fail_msg("for %s: got %u:%u: %s; want %u:%u: ...%s...", text, err.loc.line,
		         err.loc.col, err.msg, line, col, want);
	assert_string_equal(err.loc.file, "t.toml");
	err_release(&err);
	toml_doc_release(&d);
}

static void test_scalars(void **state)
{
	(void)state;
	struct toml_doc d = parse_ok("# a comment\n"
	                             "a = \"x\\ty\\u00e9\\\"\" # trailing\n"
	                             "b = 'C:\\path'\n"
	                             "c = 1_000\n"
	                             "d = -17\n"
	                             "e = 0x1F\n"
	                             "f = 0o17\n"
	                             "g = 0b101\n"
	                             "h = 3.5e2\n"
	                             "i = -inf\n"
	                             "j = true\n"
	                             "k = false\n"
	                             "l = 2024-05-16T09:17:08Z\n"
	                             "m = 1979-05-27 07:32:00.5+01:00\n"
	                             "\"quoted key\" = 1\n");
	assert_string_equal(toml_get(d.root, "a")->s, "x\ty\xc3\xa9\"");
	assert_string_equal(toml_get(d.root, "b")->s, "C:\\path");
	assert_int_equal(toml_get(d.root, "c")->i, 1000);
	assert_int_equal(toml_get(d.root, "d")->i, -17);
	assert_int_equal(toml_get(d.root, "e")->i, 31);
	assert_int_equal(toml_get(d.root, "f")->i, 15);
	assert_int_equal(toml_get(d.root, "g")->i, 5);
	assert_true(toml_get(d.root, "h")->f == 350.0);
	assert_true(isinf(toml_get(d.root, "i")->f) && toml_get(d.root, "i")->f < 0);
	assert_true(toml_get(d.root, "j")->b);
	assert_false(toml_get(d.root, "k")->b);
	assert_int_equal(toml_get(d.root, "l")->type, TOML_DATETIME);
	assert_string_equal(toml_get(d.root, "m")->s, "1979-05-27 07:32:00.5+01:00");
	assert_int_equal(toml_get(d.root, "quoted key")->i, 1);
	assert_int_equal(toml_get(d.root, "c")->loc.line, 4);
	assert_int_equal(toml_get(d.root, "c")->loc.col, 5);
	toml_doc_release(&d);
}

static void test_multiline_strings(void **state)
{
	(void)state;
	struct toml_doc d = parse_ok("a = \"\"\"\nline1\nline2 \\\n    joined\"\"\"\n"
	                             "b = '''\nraw \\n\n'''\n"
	                             "c = \"\"\"two quotes\"\"\"\"\"\n"
	                             "pre_build_script = \"\"\"\necho hi\n\"\"\"\n");
	assert_string_equal(toml_get(d.root, "a")->s, "line1\nline2 joined");
	assert_string_equal(toml_get(d.root, "b")->s, "raw \\n\n");
	assert_string_equal(toml_get(d.root, "c")->s, "two quotes\"\"");
	assert_string_equal(toml_get(d.root, "pre_build_script")->s, "echo hi\n");
	toml_doc_release(&d);
}

static void test_arrays_and_inline(void **state)
{
	(void)state;
	struct toml_doc d = parse_ok("v = [\n  \"a\", # one\n  \"b\",\n]\n"
	                             "e = []\n"
	                             "n = [[1, 2], [3]]\n"
	                             "t = { x = 1, y.z = \"q\" }\n");
	struct toml_value *v = toml_get(d.root, "v");
	assert_int_equal(v->type, TOML_ARRAY);
	assert_int_equal(v->n, 2);
	assert_string_equal(v->items[1]->s, "b");
	assert_int_equal(toml_get(d.root, "e")->n, 0);
	assert_int_equal(toml_get(d.root, "n")->items[0]->items[1]->i, 2);
	struct toml_value *t = toml_get(d.root, "t");
	assert_int_equal(toml_get(t, "x")->i, 1);
	assert_string_equal(toml_get(toml_get(t, "y"), "z")->s, "q");
	toml_doc_release(&d);
}

static void test_tables(void **state)
{
	(void)state;
	struct toml_doc d = parse_ok("concurrent = 4\n"
	                             "[[runners]]\n  name = \"one\"\n"
	                             "  [runners.docker]\n    image = \"alpine\"\n"
	                             "[[runners]]\n  name = \"two\"\n"
	                             "  [runners.cache.s3]\n    x = 1\n"
	                             "[session_server]\n  a.b = 2\n");
	struct toml_value *r = toml_get(d.root, "runners");
	assert_int_equal(r->type, TOML_ARRAY);
	assert_int_equal(r->n, 2);
	assert_string_equal(toml_get(r->items[0], "name")->s, "one");
	assert_string_equal(toml_get(toml_get(r->items[0], "docker"), "image")->s, "alpine");
	assert_null(toml_get(r->items[1], "docker"));
	assert_int_equal(toml_get(toml_get(toml_get(r->items[1], "cache"), "s3"), "x")->i, 1);
	assert_int_equal(r->items[1]->loc.line, 6);
	toml_doc_release(&d);
}

static void test_errors(void **state)
{
	(void)state;
	parse_err("a = 1\na = 2\n", 2, 1, "duplicate key 'a'");
	parse_err("a = \"open\n", 1, 10, "key 'a': unterminated string");
	parse_err("a = \"\\q\"\n", 1, 7, "invalid escape");
	parse_err("x = 01\n", 1, 5, "leading zero");
	parse_err("x = 1__0\n", 1, 5, "invalid number");
	parse_err("x = yes\n", 1, 5, "strings need quotes");
	parse_err("x = [1 2]\n", 1, 8, "expected ',' or ']'");
	parse_err("x = 1 y = 2\n", 1, 7, "end of the line");
	parse_err("[a]\n[a]\n", 2, 1, "defined twice");
	parse_err("a = 1\n[a]\n", 2, 1, "already a value");
	parse_err("a = 1\n[a.b]\n", 2, 2, "already a value");
	parse_err("[a\n", 1, 3, "expected ']'");
	parse_err("= 1\n", 1, 1, "invalid character '='");
	parse_err("x = 2024-13\n", 1, 5, "invalid date");
	parse_err("x = \"\\uD800\"\n", 1, 12, "not a scalar value");
	parse_err("t = {a = 1}\n[t]\n", 2, 1, "defined twice");
	parse_err("x =\n", 1, 4, "expected a value");
	parse_err("x = 99999999999999999999\n", 1, 5, "out of range");
	char deep[300];
	memset(deep, '[', sizeof(deep) - 1);
	memcpy(deep, "x = ", 4);
	deep[sizeof(deep) - 1] = 0;
	parse_err(deep, 1, 69, "nested deeper");
	struct toml_doc d = {0};
	struct err err = ERR_INIT;
	assert_int_equal(toml_parse("t.toml", "a = 1\0", 6, &d, &err), -1);
	assert_non_null(strstr(err.msg, "NUL"));
	err_release(&err);
	toml_doc_release(&d);
}

static void test_write_roundtrip(void **state)
{
	(void)state;
	const char *text = "concurrent = 2\n"
	                   "check_interval = 0\n"
	                   "\n"
	                   "[session_server]\n"
	                   "  session_timeout = 1800\n"
	                   "\n"
	                   "[[runners]]\n"
	                   "  name = \"a \\\"b\\\"\\n\"\n"
	                   "  token_obtained_at = 2024-05-16T09:17:08Z\n"
	                   "  environment = [\"A=1\", \"B=2\"]\n"
	                   "  f = 1.5\n"
	                   "  inl = [{x = 1}, 2]\n"
	                   "  [runners.docker]\n"
	                   "    image = \"alpine\"\n"
	                   "    privileged = true\n"
	                   "\n"
	                   "[[runners]]\n"
	                   "  name = \"c\"\n";
	struct toml_doc d = parse_ok(text);
	struct strbuf out = STRBUF_INIT;
	toml_write(d.root, &out);
	assert_string_equal(out.buf, text);
	toml_doc_release(&d);
	/* what was written parses to the same text again */
	d = parse_ok(out.buf);
	struct strbuf again = STRBUF_INIT;
	toml_write(d.root, &again);
	assert_string_equal(again.buf, out.buf);
	strbuf_release(&again);
	strbuf_release(&out);
	toml_doc_release(&d);
}

static void test_edit(void **state)
{
	(void)state;
	struct toml_doc d = parse_ok("a = 1\nb = 2\nc = 3\n");
	toml_unset(d.root, "b");
	toml_set(d.root, "a", toml_new_string("x"));
	toml_set(d.root, "d", toml_new_bool(true));
	struct strbuf out = STRBUF_INIT;
	toml_write(d.root, &out);
	assert_string_equal(out.buf, "a = \"x\"\nc = 3\nd = true\n");
	strbuf_release(&out);
	toml_doc_release(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_scalars),
	    cmocka_unit_test(test_multiline_strings),
	    cmocka_unit_test(test_arrays_and_inline),
	    cmocka_unit_test(test_tables),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_write_roundtrip),
	    cmocka_unit_test(test_edit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
