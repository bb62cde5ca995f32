/* Unit tests for CI/CD variables (src/model/vars.c): list precedence, the runner's os.Expand
 * pass, GitLab's server-side pass and resolve_all (dependency order, raw/file references,
 * cycles), slugs with the tables of variables.md §2, and the masking rule. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "model/job.h"
#include "model/vars.h"
#include "util/arena.h"
#include "util/err.h"
#include "util/strbuf.h"

static void set(struct var_list *l, const char *k, const char *v)
{
	var_list_set_kv(NULL, l, k, v);
}

static void set_flags(struct var_list *l, const char *k, const char *v, bool raw, bool file)
{
	struct var var = {.key = k, .value = v, .raw = raw, .file = file};

	var_list_set(NULL, l, &var);
}

static void test_list_last_wins(void **state)
{
	struct var_list l = {0};
	char key[16];

	(void)state;
	set(&l, "A", "1");
	set(&l, "B", "2");
	set_flags(&l, "A", "3", true, false);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.v[0].key, "A"); /* first position kept */
	assert_string_equal(l.v[0].value, "3");
	assert_true(l.v[0].raw); /* flags follow the winner */
	assert_string_equal(var_list_value(&l, "B"), "2");
	assert_null(var_list_get(&l, "C"));
	assert_null(var_list_value(&l, ""));
	assert_null(var_list_get(NULL, "A"));
	/* a value may be replaced by itself */
	var_list_set(NULL, &l, &l.v[1]);
	assert_string_equal(var_list_value(&l, "B"), "2");
	/* a long list, as with predefined variables */
	for (int i = 0; i < 300; i++) {
		snprintf(key, sizeof(key), "K%d", i);
		set(&l, key, key + 1);
	}
	for (int i = 299; i >= 0; i -= 7) {
		snprintf(key, sizeof(key), "K%d", i);
		assert_string_equal(var_list_value(&l, key), key + 1);
	}
	assert_null(var_list_value(&l, "K"));
	assert_null(var_list_value(&l, "K3000"));
	assert_int_equal(l.n, 302);
	var_list_release(&l);
	assert_int_equal(l.n, 0);
	var_list_release(&l);
	var_list_release(NULL);
}

static void test_list_arena_and_merge(void **state)
{
	struct arena a = ARENA_INIT;
	struct var_list dst = {0}, src = {0};
	char key[16];

	(void)state;
	arena_init(&a);
	for (int i = 0; i < 40; i++) { /* grows past the first arena block of entries */
		snprintf(key, sizeof(key), "V%d", i);
		var_list_set_kv(&a, &dst, key, "old");
	}
	var_list_set_kv(&a, &src, "V3", "new");
	var_list_set_kv(&a, &src, "EXTRA", "x");
	var_list_merge(&a, &dst, &src);
	assert_int_equal(dst.n, 41);
	assert_string_equal(var_list_value(&dst, "V3"), "new");
	assert_string_equal(dst.v[3].key, "V3");
	assert_string_equal(dst.v[40].key, "EXTRA");
	assert_string_equal(var_list_value(&dst, "V39"), "old");
	var_list_merge(&a, &dst, &dst); /* merging into itself changes nothing */
	assert_int_equal(dst.n, 41);
	arena_release(&a);
}

struct xcase {
	const char *in, *want;
};

static struct var_list expansion_vars(void)
{
	struct var_list l = {0};

	set(&l, "A", "va");
	set(&l, "B", "$A");
	set(&l, "EMPTY", "");
	set(&l, "-", "dash");
	set_flags(&l, "R", "raw-$A", true, false);
	set_flags(&l, "F", "secret", false, true);
	return l;
}

static void check_expand(void (*fn)(const char *, const struct var_list *, struct strbuf *),
                         const struct var_list *l, const struct xcase *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct strbuf sb = STRBUF_INIT;
		strbuf_addstr(&sb, "<");
		fn(c[i].in, l, &sb);
		if (strcmp(sb.buf + 1, c[i].want) != 0)
			fail_msg("'%s': got '%s', want '%s'", c[i].in, sb.buf + 1, c[i].want);
		strbuf_release(&sb);
	}
}

static void test_expand_runner(void **state)
{
	static const struct xcase cases[] = {
	    {"$A", "va"},     {"${A}", "va"},   {"x${A}y$A.z", "xvayva.z"},
	    {"$U", ""},       {"${U}", ""},     {"$$", "$"},
	    {"$$A", "$A"},    {"$1x", "x"},     {"$*$#$@$!$?$0", ""},
	    {"$-", "dash"}, /* Go treats '-' as special, the runner then looks it up */
	    {"$", "$"},       {"a$", "a$"},     {"$ x", "$ x"},
	    {"$/", "$/"},     {"${}", ""},      {"${", ""},
	    {"${A", "A"},     {"${A}B", "vaB"}, {"${A B}", ""},
	    {"${$}", "$"},    {"${1}", ""},     {"${10}", ""},
	    {"$B", "$A"}, /* one pass, no re-expansion */
	    {"$R", "raw-$A"}, {"$EMPTY.", "."}, {"\xc3\xa9$A\xc3\xa9", "\xc3\xa9va\xc3\xa9"},
	    {"", ""},
	};
	struct var_list l = expansion_vars();

	(void)state;
	check_expand(vars_expand_runner, &l, cases, sizeof(cases) / sizeof(cases[0]));
	/* a file variable expands to the path of its file */
	{
		static const struct xcase no_dir[] = {{"$F", "F"}};
		static const struct xcase dir[] = {{"$F", "/builds/p.tmp/F"}};
		check_expand(vars_expand_runner, &l, no_dir, 1);
		set(&l, "RUNNER_TEMP_PROJECT_DIR", "/builds/p.tmp/");
		check_expand(vars_expand_runner, &l, dir, 1);
	}
	var_list_release(&l);
}

static void test_expand_gitlab(void **state)
{
	static const struct xcase cases[] = {
	    {"$A ${A} %A%", "va va va"},
	    {"$U ${U} %U%", "$U ${U} %U%"}, /* unknown: kept for the runner */
	    {"$$A", "$$A"},
	    {"%%A%", "%%A%"},
	    {"%A%%", "va%"},
	    {"${}", "${}"},
	    {"$R", "$R"}, /* raw and file references are left to the runner */
	    {"$F", "$F"},
	    {"%A", "%A"},
	    {"$1", "$1"},
	    {"${A", "${A"},
	    {"$B", "$A"}, /* the value as it is now, not re-expanded */
	    {"$A_", "$A_"},
	    {"$A-", "va-"},
	    {"100%", "100%"},
	};
	struct var_list l = expansion_vars();

	(void)state;
	check_expand(vars_expand_gitlab, &l, cases, sizeof(cases) / sizeof(cases[0]));
	var_list_release(&l);
}

static void test_resolve_all(void **state)
{
	struct var_list l = {0};
	struct err err = ERR_INIT;

	(void)state;
	/* defined before their dependencies: order must not matter */
	set(&l, "C", "${B}-%A%");
	set(&l, "B", "$A-b");
	set(&l, "A", "a");
	set_flags(&l, "R", "$A", true, false);
	set(&l, "X", "$R|$NOPE|$$A|%%");
	set_flags(&l, "F", "content", false, true);
	set(&l, "Y", "$F");
	set(&l, "S", "x$S"); /* self reference: not a cycle, kept */
	assert_int_equal(vars_resolve_all(NULL, &l, &err), 0);
	assert_string_equal(var_list_value(&l, "C"), "a-b-a");
	assert_string_equal(var_list_value(&l, "B"), "a-b");
	assert_string_equal(var_list_value(&l, "R"), "$A");
	assert_string_equal(var_list_value(&l, "X"), "$R|$NOPE|$$A|%%");
	assert_string_equal(var_list_value(&l, "Y"), "$F");
	assert_string_equal(var_list_value(&l, "S"), "x$S");
	assert_string_equal(l.v[0].key, "C"); /* positions unchanged */
	/* then the runner pass */
	{
		struct strbuf sb = STRBUF_INIT;
		vars_expand_runner(var_list_value(&l, "X"), &l, &sb);
		assert_string_equal(sb.buf, "$A||$A|%%");
		strbuf_release(&sb);
	}
	var_list_release(&l);
}

/* gitlab-ci-local's variable-escaping case: both passes together. */
static void test_two_passes(void **state)
{
	struct var_list l = {0};
	struct err err = ERR_INIT;
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	set(&l, "FLAGS", "-al");
	set(&l, "LS_CMD", "ls \"$FLAGS\" $$TMP_DIR");
	assert_int_equal(vars_resolve_all(NULL, &l, &err), 0);
	assert_string_equal(var_list_value(&l, "LS_CMD"), "ls \"-al\" $$TMP_DIR");
	vars_expand_runner(var_list_value(&l, "LS_CMD"), &l, &sb);
	assert_string_equal(sb.buf, "ls \"-al\" $TMP_DIR");
	strbuf_release(&sb);
	var_list_release(&l);
}

static void test_resolve_cycles(void **state)
{
	struct arena a = ARENA_INIT;
	struct var_list l = {0};
	struct err err = ERR_INIT;

	(void)state;
	arena_init(&a);
	var_list_set_kv(&a, &l, "OK", "fine");
	var_list_set_kv(&a, &l, "A", "$B");
	var_list_set_kv(&a, &l, "B", "${C}");
	var_list_set_kv(&a, &l, "C", "%A% $OK");
	var_list_set_kv(&a, &l, "D", "$E");
	var_list_set_kv(&a, &l, "E", "$D");
	var_list_set_kv(&a, &l, "G", "$OK");
	assert_int_equal(vars_resolve_all(&a, &l, &err), -1);
	assert_int_equal(err.kind, ERR_CONFIG);
	/* GitLab's message: each cycle as a Ruby array, in discovery order */
	assert_string_equal(err.msg, "circular variable reference detected: "
	                             "[\"A\", \"B\", \"C\"], [\"D\", \"E\"]");
	err_release(&err);
	assert_string_equal(var_list_value(&l, "G"), "$OK"); /* nothing expanded */
	/* breaking the cycles makes it resolvable, in the arena */
	var_list_set_kv(&a, &l, "C", "c");
	var_list_set_kv(&a, &l, "E", "e");
	assert_int_equal(vars_resolve_all(&a, &l, &err), 0);
	assert_string_equal(var_list_value(&l, "A"), "c");
	assert_string_equal(var_list_value(&l, "D"), "e");
	assert_string_equal(var_list_value(&l, "G"), "fine");
	arena_release(&a);
}

static void test_resolve_long_chain(void **state)
{
	struct var_list l = {0};
	struct err err = ERR_INIT;
	char key[16], val[16];

	(void)state;
	/* V0 = $V1, V1 = $V2 ... V499 = end */
	for (int i = 0; i < 500; i++) {
		snprintf(key, sizeof(key), "V%d", i);
		snprintf(val, sizeof(val), "$V%d", i + 1);
		set(&l, key, i == 499 ? "end" : val);
	}
	assert_int_equal(vars_resolve_all(NULL, &l, &err), 0);
	assert_string_equal(var_list_value(&l, "V0"), "end");
	assert_string_equal(var_list_value(&l, "V250"), "end");
	var_list_release(&l);
}

static void test_resolve_size_cap(void **state)
{
	struct var_list l = {0};
	struct err err = ERR_INIT;
	char key[16], val[32];

	(void)state;
	/* each level doubles: L17 is exactly 1 MiB, L18 is past the cap */
	set(&l, "L0", "12345678");
	for (int i = 1; i <= 20; i++) {
		snprintf(key, sizeof(key), "L%d", i);
		snprintf(val, sizeof(val), "$L%d$L%d", i - 1, i - 1);
		set(&l, key, val);
	}
	assert_int_equal(vars_resolve_all(NULL, &l, &err), -1);
	assert_string_equal(err.msg, "variable 'L18' is larger than 1 MiB after expansion");
	err_release(&err);
	assert_string_equal(var_list_value(&l, "L1"), "$L0$L0"); /* unchanged */
	var_list_release(&l);
}

static void test_slugify(void **state)
{
	static const struct xcase cases[] = {
	    {"main", "main"},
	    {"Feature/ABC_123", "feature-abc-123"},
	    {"release/v1.2.3", "release-v1-2-3"},
	    {"-Fix--it-", "fix--it"},
	    {"\xc3\x9c"
	     "ber.\xc3\x9f",
	     "ber"}, /* Über.ß */
	    {"test 1/3", "test-1-3"},
	    {"build: [aws, app1]", "build---aws--app1"},
	    {"", ""},
	    {"---", ""},
	    {"\xe2\x84\xaa"
	     "elvin",
	     "kelvin"},           /* KELVIN SIGN downcases to k */
	    {"\xc4\xb0x", "i-x"}, /* I WITH DOT ABOVE: i + combining dot */
	    {"a\xff"
	     "b",
	     "a-b"},
	};
	char long_in[80], long_want[64];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *s = vars_slugify(cases[i].in);
		if (strcmp(s, cases[i].want) != 0)
			fail_msg("slugify '%s': got '%s', want '%s'", cases[i].in, s,
			         cases[i].want);
		free(s);
	}
	/* 63 characters kept, then trimmed: a dash at position 63 disappears */
	memset(long_in, 'a', 62);
	strcpy(long_in + 62, "-bcdef");
	memset(long_want, 'a', 62);
	long_want[62] = '\0';
	{
		char *s = vars_slugify(long_in);
		assert_string_equal(s, long_want);
		free(s);
	}
	memset(long_in, 'X', 70);
	long_in[70] = '\0';
	{
		char *s = vars_slugify(long_in);
		assert_int_equal(strlen(s), 63);
		assert_int_equal(s[0], 'x');
		free(s);
	}
}

static void test_env_slugify(void **state)
{
	/* expected values computed independently (sha256 -> base 36) */
	static const struct xcase cases[] = {
	    {"production", "production"},
	    {"Production", "production-iis43c"},
	    {"review/feature-x", "review-feature-x-bjrazc"},
	    {"123", "env-123-7j7izn"},
	    {"a--b", "a-b-m3ql0o"},
	    {"staging-", "staging"},
	    {"", "env-qhkd3p"},
	    {"review/a-very-long-branch-name-for-testing", "review-a-very-lon-af5get"},
	    {"\xc3\xbcn\xc3\xaf"
	     "code env",
	     "env-n-code-env-zttswn"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *s = vars_env_slugify(cases[i].in);
		if (strcmp(s, cases[i].want) != 0)
			fail_msg("env slug '%s': got '%s', want '%s'", cases[i].in, s,
			         cases[i].want);
		free(s);
	}
}

static void test_maskable(void **state)
{
	(void)state;
	assert_true(vars_maskable("abcdefgh", false));
	assert_true(vars_maskable("A-Z_a+z=0/9@:.~", false));
	assert_false(vars_maskable("abcdefg", false)); /* 7 chars */
	assert_false(vars_maskable("abcd efgh", false));
	assert_false(vars_maskable("abcdefgh\n", false));
	assert_false(vars_maskable("abcdefg$", false));
	assert_false(vars_maskable("abcdefg\xc3\xa9", false));
	assert_false(vars_maskable("", false));
	/* raw: any 8 non-whitespace characters (counted as characters) */
	assert_true(vars_maskable("abc$%^&*", true));
	assert_true(vars_maskable(
	    "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", true));
	assert_false(
	    vars_maskable("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", true)); /* 8 bytes, 4 chars */
	assert_false(vars_maskable("abc def gh", true));
	assert_false(vars_maskable("abcdefgh\t", true));
	assert_false(vars_maskable("abcdefg", true));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_list_last_wins),   cmocka_unit_test(test_list_arena_and_merge),
	    cmocka_unit_test(test_expand_runner),    cmocka_unit_test(test_expand_gitlab),
	    cmocka_unit_test(test_resolve_all),      cmocka_unit_test(test_two_passes),
	    cmocka_unit_test(test_resolve_cycles),   cmocka_unit_test(test_resolve_long_chain),
	    cmocka_unit_test(test_resolve_size_cap), cmocka_unit_test(test_slugify),
	    cmocka_unit_test(test_env_slugify),      cmocka_unit_test(test_maskable),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
