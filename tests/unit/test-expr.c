/* Unit tests for the rules:if expression language (src/model/expr.c): every worked example
 * of spec expressions.md §5, precedence, parentheses, the token limit, Ruby/Rails truthiness,
 * RE2 regex semantics through pcre2, and error messages with their columns. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "model/expr.h"
#include "model/job.h"
#include "model/vars.h"
#include "util/err.h"
#include "util/strbuf.h"

/* The variables of spec §5 plus a few for regex and unicode cases. */
static const char *const test_vars[][2] = {
    {"A", "my value"},
    {"E", ""},
    {"W", "   "},
    {"P", "/^my/"},
    {"PI", "/^MY/i"},
    {"T", "true"},
    {"U8", "\xc3\x9c"
           "n"
           "\xc3\xaf"
           "c"
           "\xc3\xb6"
           "d"
           "\xc3\xa9"}, /* Ünïcödé */
    {"ML", "a\nb"},
    {"NL", "a\n"},
    {"VT", "a\vb"},
    {"PATH", "a/b"},
    {"BR", "/(m)\\1/"},
    {"ML2", "junk\n/^my/"},
    {"Q", "say \"hi\""},
    {"NBSP", "\xc2\xa0"},
    {"IDSP", "\xe3\x80\x80 "},
    {"BAD", "\xff x"},
    {"inputs.deploy", "yes"},
    {"inputs.x-y", "z"},
};

static const char *lookup(void *data, const char *name)
{
	(void)data;
	for (size_t i = 0; i < sizeof(test_vars) / sizeof(test_vars[0]); i++) {
		if (strcmp(test_vars[i][0], name) == 0)
			return test_vars[i][1];
	}
	return NULL;
}

/* 1 true, 0 false, -1 syntax error */
static int eval(const char *text)
{
	struct err err = ERR_INIT;
	struct expr *e = expr_parse(text, (struct srcloc){"f", 1, 1}, &err);
	struct expr_env env = {.lookup = lookup};
	int r;

	if (!e) {
		assert_int_equal(err.kind, ERR_CONFIG);
		assert_non_null(strstr(err.msg, "invalid expression syntax"));
		err_release(&err);
		return -1;
	}
	r = expr_eval(e, &env);
	/* evaluation is repeatable: cached regexes are not consumed */
	assert_int_equal(expr_eval(e, &env), r);
	expr_free(e);
	return r;
}

struct row {
	const char *text;
	int want;
};

static void check_rows(const struct row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int got = eval(rows[i].text);
		if (got != rows[i].want)
			fail_msg("'%s': got %d, want %d", rows[i].text, got, rows[i].want);
	}
}

#define CHECK(rows) check_rows(rows, sizeof(rows) / sizeof(rows[0]))

static void test_spec_examples(void **state)
{
	static const struct row rows[] = {
	    {"$A == \"my value\"", 1},
	    {"$A == 'my value'", 1},
	    {"\"my value\" == $A", 1},
	    {"$U == null", 1},
	    {"$E == null", 0},
	    {"$E == \"\"", 1},
	    {"$U == \"\"", 0},
	    {"$A", 1},
	    {"$E", 0},
	    {"$U", 0},
	    {"$W", 0},
	    {"$A =~ /^my/", 1},
	    {"$A =~ /^MY/", 0},
	    {"$A =~ /^MY/i", 1},
	    {"$A =~ /value$/", 1},
	    {"$U =~ /^$/", 1},
	    /* the spec writes /x/ here, but a one-character body does not lex in GitLab */
	    {"$U =~ /xy/", 0},
	    {"$U !~ /xy/", 1},
	    {"$U =~ /x/", -1},
	    {"$A =~ $P", 1},
	    {"$A =~ \"/^my/\"", 1},
	    {"$A =~ \"my value and more\"", 1},
	    {"$A =~ \"my\"", 0},
	    {"$A =~ $U", 0},
	    {"$A !~ $U", 1},
	    {"$E && \"x\"", 1},
	    {"$E || \"x\"", 0},
	    {"$U || $A", 1},
	    {"$A == \"x\" || $A == \"my value\" && $E", 0},
	    {"($A == \"x\" || $A == \"my value\") && $A", 1},
	    {"$T == true", 1},
	    {"!$U", 1},
	    {"$A =~ /./", -1},
	    {"${A} == \"x\"", -1},
	};
	(void)state;
	CHECK(rows);
}

static void test_precedence(void **state)
{
	static const struct row rows[] = {
	    /* && binds tighter than ||: $A || ($U && $U) */
	    {"$A || $U && $U", 1},
	    {"($A || $U) && $U", 0},
	    /* comparisons bind tighter than &&, and ! tighter than comparisons */
	    {"$U == null && $A == \"my value\"", 1},
	    {"!$A == \"x\"", 0},
	    {"!$A == \"false\"", 1}, /* (!$A) == "false": boolean vs string */
	    {"!($A == \"x\")", 1},
	    {"!!$A", 1},
	    {"! $A", 0},
	    {"$A && !$U", 1},
	    {"$A && !$U == true", 1},
	    /* left associative: ($E || $U) || $A */
	    {"$E || $U || $A", 0},
	    {"$U || $U || $A", 1},
	    {"(($A))", 1},
	    {"((($U || ($A == 'my value'))))", 1},
	    {"($U) || ($E) || ($A)", 0},
	};
	(void)state;
	CHECK(rows);
}

static void test_values_and_truth(void **state)
{
	static const struct row rows[] = {
	    {"true", 1},
	    {"false", 0},
	    {"null", 0},
	    {"\"x\"", 1},
	    {"\"\"", 0},
	    {"''", 0},
	    {"\" \"", 0},
	    {"$NBSP", 0}, /* Rails blank? knows Unicode spaces */
	    {"$IDSP", 0},
	    {"$E == ''", 1},
	    {"$A != \"x\"", 1},
	    {"$U != null", 0},
	    {"null == null", 1},
	    {"$U == $NOPE", 1},
	    {"$E == $U", 0},
	    {"true == \"true\"", 1},
	    {"\"false\" == false", 1},
	    {"true == true", 1},
	    {"true == false", 0},
	    {"true != \"true\"", 0},
	    {"$A == true", 0},
	    {"null == false", 0},
	    {"/ab/ == /ab/", 1},
	    {"/ab/ == \"ab\"", 0},
	    {"$Q == 'say \"hi\"'", 1},
	    {"$A && /xy/", 1},    /* a regex is truthy */
	    {"$U !", 1},          /* GitLab's RPN takes a postfix ! as well */
	    {"true =~ /tr/", 1},  /* to_s of true */
	    {"$A =~ true", 0},    /* an evaluation error: false */
	    {"!($A =~ true)", 0}, /* ... for the whole clause */
	    {"$A =~ false", 0},
	    {"$A !~ false", 1},
	    {"$[[ inputs.deploy ]] == \"yes\"", 1},
	    {"$[[inputs.x-y]] == 'z'", 1},
	    {"$[[ inputs.none ]]", 0},
	};
	(void)state;
	CHECK(rows);
}

static void test_regex(void **state)
{
	static const struct row rows[] = {
	    /* unicode: '.' is one character, case folding beyond ASCII */
	    {"$U8 =~ /^.n/", 1},
	    {"$U8 =~ /^\xc3\x9c.\xc3\xaf"
	     "c/",
	     1},
	    {"$U8 =~ /^\xc3\xbcn/i", 1},
	    {"$U8 =~ /d\xc3\xa9$/", 1},
	    /* RE2 anchors and flags */
	    {"$ML =~ /^b/", 0},
	    {"$ML =~ /^b/m", 1},
	    {"$ML =~ /a.b/", 0},
	    {"$ML =~ /a.b/s", 1},
	    {"$ML =~ /a$/", 0},
	    {"$ML =~ /a$/m", 1},
	    {"$NL =~ /a$/", 0}, /* RE2's $ is the end of the text only */
	    {"$A =~ /m(y)/U", 1},
	    {"$A =~ /MY/im", 1},
	    {"$A =~ /(?i)MY VALUE/", 1},
	    {"$A =~ /(?i:MY) value/", 1},
	    {"$A =~ /(?P<n>my)/", 1},
	    {"$A =~ /(?<n>my)/", 1},
	    {"$A =~ /a{2,1000}/", 0},
	    {"$A =~ /my\\x20value/", 1},
	    {"$A =~ /my\\x{20}value/", 1},
	    {"$A =~ /my\\040value/", 1}, /* octal, not a backreference */
	    {"$A =~ /\\Amy\\svalue\\z/", 1},
	    {"$A =~ /\\bvalue\\b/", 1},
	    {"$A =~ /\\pL+ \\p{Latin}/", 1},
	    {"$A =~ /[[:alpha:]]+ [^\\d]/", 1},
	    {"$A =~ /[]a]/", 1},
	    {"$A =~ /\\Qy v\\E/", 1},
	    {"$A =~ /my.*?e/", 1},
	    {"$A =~ /x{/", 0},
	    {"$VT =~ /a\\sb/", 0}, /* RE2's \s has no vertical tab */
	    {"$VT =~ /a\\vb/", 1},
	    {"$BAD =~ / x/", 1}, /* invalid UTF-8 in the text still matches */
	    /* \/ in a literal, and where a literal ends */
	    {"$PATH =~ /a\\/b/", 1},
	    {"$PATH =~ /\\//", 1},
	    {"$A =~ /ab//", 0},
	    {"\"xab/\" =~ /ab//", 1},
	    /* constructs RE2 rejects are syntax errors in a literal */
	    {"$A =~ /(m)\\1/", -1},
	    {"$A =~ /my(?= )/", -1},
	    {"$A =~ /(?<!x)my/", -1},
	    {"$A =~ /(?>my)/", -1},
	    {"$A =~ /my*+/", -1},
	    {"$A =~ /my**/", -1},
	    {"$A =~ /a{1001}/", -1},
	    {"$A =~ /a{3,2}/", -1},
	    {"$A =~ /my\\Z/", -1},
	    {"$A =~ /(?#c)my/", -1},
	    {"$A =~ /(*UTF)my/", -1},
	    {"$A =~ /*my/", -1},
	    {"$A =~ /my(/", -1},
	    {"$A =~ /my[/", -1},
	    {"$A =~ /my/g", -1},
	    {"$A =~ /a/", -1}, /* a one-character body does not lex */
	    /* regex strings: from variables and quoted literals */
	    {"$A =~ $PI", 1},
	    {"$A =~ $ML2", 1},     /* Ruby's ^...$ find the regex on the second line */
	    {"$A =~ $BR", 0},      /* not RE2: compared as a plain string */
	    {"\"(m)\" =~ $BR", 1}, /* "(m)" is a substring of "/(m)\1/" */
	    {"$A =~ \"/^MY/i\"", 1},
	    {"$A !~ \"/^MY/i\"", 0},
	    {"$A =~ \"//\"", 1},  /* the string path has no 2-char minimum */
	    {"$E =~ \"abc\"", 1}, /* "" is a substring of anything */
	    {"$A =~ \"/^x/\"", 0},
	    {"\"/x/\" =~ \"a/x/b\"", 1},
	};
	(void)state;
	CHECK(rows);
}

static void test_syntax_errors(void **state)
{
	static const char *const bad[] = {
	    "",
	    "   ",
	    "$A $B",
	    "$A ==",
	    "== $A",
	    "($A",
	    "$A)",
	    "()",
	    "!",
	    "=",
	    "$A = \"x\"",
	    "1",
	    "$A == 1",
	    "%A%",
	    "$",
	    "\"unterminated",
	    "'a\nb' == $A",
	    "nullx",
	    "truex",
	    "$A & $B",
	    "$A | $B",
	    "/x/g",
	    "$A =~",
	    "(",
	    ")",
	    "$A ! $B",
	    "$A == !",
	    "true false",
	    "nulltrue",
	};
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (eval(bad[i]) != -1)
			fail_msg("'%s' should be a syntax error", bad[i]);
	}
}

static void expect_error(const char *text, struct srcloc loc, const char *msg, unsigned line,
                         unsigned col)
{
	struct err err = ERR_INIT;

	assert_null(expr_parse(text, loc, &err));
	assert_int_equal(err.kind, ERR_CONFIG);
	assert_string_equal(err.msg, msg);
	assert_int_equal(err.loc.line, line);
	assert_int_equal(err.loc.col, col);
	err_release(&err);
}

static void test_error_columns(void **state)
{
	struct srcloc loc = {"ci.yml", 3, 10};

	(void)state;
	expect_error("$A == 1", loc, "invalid expression syntax: unknown lexeme '1' at column 7", 3,
	             16);
	expect_error("${A} == \"x\"", loc,
	             "invalid expression syntax: unknown lexeme '${A}' at column 1", 3, 10);
	/* columns count characters, not bytes */
	expect_error("\"\xc3\xbc\" == x", loc,
	             "invalid expression syntax: unknown lexeme 'x' at column 8", 3, 17);
	/* a newline in the text moves the location to the next line */
	expect_error("$A ==\n  @", loc, "invalid expression syntax: unknown lexeme '@' at column 9",
	             4, 3);
	expect_error("$A =~ /(x/", loc,
	             "invalid expression syntax: invalid regular expression at column 7", 3, 16);
	expect_error("$A $B", loc, "invalid expression syntax: missing operator at column 4", 3,
	             13);
	expect_error("$A ==", loc,
	             "invalid expression syntax: missing operand for '==' at column 4", 3, 13);
	expect_error("($A", loc, "invalid expression syntax: unmatched '(' at column 1", 3, 10);
	expect_error("$A)", loc, "invalid expression syntax: unmatched ')' at column 3", 3, 12);
	expect_error("", loc, "invalid expression syntax: empty expression", 3, 10);
}

static void test_token_limit(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	struct err err = ERR_INIT;
	bool result = false;

	(void)state;
	/* 99 tokens: $A followed by 49 times "|| $A" */
	strbuf_addstr(&sb, "$U");
	for (int i = 0; i < 49; i++)
		strbuf_addstr(&sb, i == 48 ? " || $A" : " || $U");
	assert_int_equal(eval(sb.buf), 1);
	/* 100 tokens: GitLab's lexer loop gives up */
	strbuf_reset(&sb);
	strbuf_addstr(&sb, "!$U");
	for (int i = 0; i < 49; i++)
		strbuf_addstr(&sb, " || $A");
	assert_int_equal(eval(sb.buf), -1);
	assert_int_equal(expr_eval_text(sb.buf, NULL, &result, &err), -1);
	assert_non_null(strstr(err.msg, "too many tokens"));
	err_release(&err);
	/* whitespace does not count */
	strbuf_reset(&sb);
	strbuf_addstr(&sb, "    $A    ");
	for (int i = 0; i < 48; i++)
		strbuf_addstr(&sb, "   ||\t\n$A  ");
	assert_int_equal(eval(sb.buf), 1);
	strbuf_release(&sb);
}

struct reads {
	struct strbuf log;
};

static void on_read(void *data, const char *name, const char *value)
{
	struct reads *r = data;

	strbuf_addf(&r->log, "%s=%s;", name, value ? value : "(nil)");
}

static void test_on_read(void **state)
{
	struct reads r = {STRBUF_INIT};
	struct expr_env env = {.lookup = lookup, .on_read = on_read, .read_data = &r};
	struct err err = ERR_INIT;
	struct expr *e;

	(void)state;
	e = expr_parse("$A == \"x\" || $NOPE || $[[ inputs.deploy ]]", (struct srcloc){0}, &err);
	assert_non_null(e);
	assert_true(expr_eval(e, &env));
	assert_string_equal(r.log.buf, "A=my value;NOPE=(nil);inputs.deploy=yes;");
	expr_free(e);
	/* short-circuit: the right side of a decided || is not read */
	strbuf_reset(&r.log);
	e = expr_parse("$A || $B", (struct srcloc){0}, &err);
	assert_true(expr_eval(e, &env));
	assert_string_equal(r.log.buf, "A=my value;");
	expr_free(e);
	strbuf_release(&r.log);
}

static void test_eval_text(void **state)
{
	struct var_list vars = {0};
	struct err err = ERR_INIT;
	bool result = false;

	(void)state;
	var_list_set_kv(NULL, &vars, "CI_COMMIT_BRANCH", "release/1.2");
	var_list_set_kv(NULL, &vars, "CI_DEFAULT_BRANCH", "main");
	var_list_set_kv(NULL, &vars, "CI_COMMIT_BRANCH", "main"); /* last wins */
	assert_int_equal(
	    expr_eval_text("$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH", &vars, &result, &err), 0);
	assert_true(result);
	assert_int_equal(expr_eval_text("$CI_COMMIT_BRANCH =~ /^release\\//", &vars, &result, &err),
	                 0);
	assert_false(result);
	assert_int_equal(expr_eval_text("$CI_COMMIT_TAG", &vars, &result, &err), 0);
	assert_false(result);
	result = true;
	assert_int_equal(expr_eval_text("$X ==", &vars, &result, &err), -1);
	assert_true(result); /* untouched on error */
	assert_int_equal(err.kind, ERR_CONFIG);
	err_release(&err);
	var_list_release(&vars);
}

static void test_regex_api(void **state)
{
	struct expr_regex *re;

	(void)state;
	re = expr_regex_from_ruby("/^feat\\/.*/i");
	assert_non_null(re);
	assert_int_equal(expr_regex_search(re, "FEAT/x", 6), 1);
	assert_int_equal(expr_regex_search(re, "fix/x", 5), 0);
	expr_regex_free(re);
	assert_null(expr_regex_from_ruby("main"));
	assert_null(expr_regex_from_ruby("/a(/"));
	assert_null(expr_regex_from_ruby("/a/x"));
	re = expr_regex_compile("a|b", 3, "");
	assert_non_null(re);
	assert_int_equal(expr_regex_search(re, "xxb", 3), 1);
	expr_regex_free(re);
	assert_null(expr_regex_compile("\xff", 1, "")); /* RE2 wants valid UTF-8 */
	assert_null(expr_regex_compile("a\\", 2, ""));
	expr_regex_free(NULL);
	/* a backtracking bomb ends (RE2 would say no match too) */
	re = expr_regex_compile("(a*)*b", 6, "");
	assert_non_null(re);
	assert_true(expr_regex_search(re, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 40) <= 0);
	expr_regex_free(re);
}

/* Parses and compiled regexes are shared between copies of the same text: each copy must stay
 * valid after the others are freed, errors stay per call (own location), and texts that differ
 * only in flags are not confused. */
static void test_shared_parses(void **state)
{
	const char *text = "$A =~ /^my/ && $T == \"true\"";
	struct expr_env env = {.lookup = lookup};
	struct err err = ERR_INIT;
	struct expr *a, *b;
	struct expr_regex *r1, *r2, *r3;

	(void)state;
	a = expr_parse(text, (struct srcloc){"f", 1, 1}, &err);
	b = expr_parse(text, (struct srcloc){"g", 7, 3}, &err);
	assert_non_null(a);
	assert_non_null(b);
	expr_free(a);
	assert_true(expr_eval(b, &env));
	a = expr_parse(text, (struct srcloc){"f", 1, 1}, &err);
	expr_free(b);
	assert_true(expr_eval(a, &env));
	expr_free(a);

	assert_null(expr_parse("$A ==", (struct srcloc){"f", 2, 5}, &err));
	assert_int_equal(err.loc.line, 2);
	err_release(&err);
	assert_null(expr_parse("$A ==", (struct srcloc){"g", 9, 1}, &err));
	assert_string_equal(err.loc.file, "g");
	assert_int_equal(err.loc.line, 9);
	err_release(&err);

	r1 = expr_regex_compile("^my", 3, "");
	r2 = expr_regex_compile("^MY", 3, "i");
	r3 = expr_regex_compile("^my", 3, "");
	assert_int_equal(expr_regex_search(r2, "my value", 8), 1);
	assert_int_equal(expr_regex_search(r1, "MY value", 8), 0);
	expr_regex_free(r1);
	assert_int_equal(expr_regex_search(r3, "my value", 8), 1);
	assert_int_equal(expr_regex_search(r3, "MY value", 8), 0);
	expr_regex_free(r3);
	expr_regex_free(r2);
	/* equality of regex literals compares their source, flags included */
	assert_int_equal(eval("/ab/i == /ab/i"), 1);
	assert_int_equal(eval("/ab/i == /ab/"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_spec_examples),    cmocka_unit_test(test_precedence),
	    cmocka_unit_test(test_values_and_truth), cmocka_unit_test(test_regex),
	    cmocka_unit_test(test_syntax_errors),    cmocka_unit_test(test_error_columns),
	    cmocka_unit_test(test_token_limit),      cmocka_unit_test(test_on_read),
	    cmocka_unit_test(test_eval_text),        cmocka_unit_test(test_regex_api),
	    cmocka_unit_test(test_shared_parses),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
