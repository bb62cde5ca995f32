/* Unit tests for yaml/reference.c: GitLab's `!reference` tags. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "util/err.h"
#include "util/strbuf.h"
#include "yaml/node.h"
#include "yaml/reference.h"

static struct ydoc *load(const char *text)
{
	struct err err = ERR_INIT;
	struct ydoc *doc = ydoc_load_mem("ref.yml", text, strlen(text), NULL, &err);
	if (!doc)
		fail_msg("load error %u:%u: %s", err.loc.line, err.loc.col, err.msg);
	return doc;
}

/* Resolves `text` and compares with `want` (both YAML). */
static void expect_resolved(const char *text, const char *want)
{
	struct ydoc *doc = load(text);
	struct ydoc *expected = load(want);
	struct err err = ERR_INIT;
	struct ynode *r = yref_resolve(doc->arena, doc->root, &err);
	if (!r)
		fail_msg("resolve error %u:%u: %s", err.loc.line, err.loc.col, err.msg);
	if (!ynode_equal(r, expected->root)) {
		struct strbuf sb = STRBUF_INIT;
		ynode_emit(r, &sb);
		fail_msg("resolved to:\n%s", sb.buf);
	}
	ydoc_free(expected);
	ydoc_free(doc);
}

static void expect_error(const char *text, const char *want)
{
	struct ydoc *doc = load(text);
	struct err err = ERR_INIT;
	assert_null(yref_resolve(doc->arena, doc->root, &err));
	assert_int_equal(err.kind, ERR_CONFIG);
	assert_string_equal(err.loc.file, "ref.yml");
	struct strbuf sb = STRBUF_INIT;
	strbuf_addf(&sb, "%u:%u: %s", err.loc.line, err.loc.col, err.msg);
	assert_string_equal(sb.buf, want);
	strbuf_release(&sb);
	err_release(&err);
	ydoc_free(doc);
}

static void test_reference_in_script_nests(void **state)
{
	(void)state;
	expect_resolved(".setup:\n  script: [echo setup, echo more]\n"
	                "job:\n  script:\n    - !reference [.setup, script]\n    - echo job\n",
	                ".setup:\n  script: [echo setup, echo more]\n"
	                "job:\n  script:\n    - [echo setup, echo more]\n    - echo job\n");
}

static void test_reference_whole_value_and_variables(void **state)
{
	(void)state;
	expect_resolved(
	    ".vars:\n  variables:\n    URL: http://x\n    PORT: 8080\n"
	    "job:\n  variables:\n    URL: !reference [.vars, variables, URL]\n"
	    "    ALL: !reference [.vars, variables]\n"
	    "  script: !reference [.vars, variables, PORT]\n",
	    ".vars:\n  variables:\n    URL: http://x\n    PORT: 8080\n"
	    "job:\n  variables:\n    URL: http://x\n    ALL: {URL: http://x, PORT: 8080}\n"
	    "  script: 8080\n");
}

static void test_reference_nested_resolution(void **state)
{
	(void)state;
	/* references inside referenced values resolve too, in any order of definition */
	expect_resolved("job:\n  script: !reference [.b, script]\n"
	                ".b:\n  script: [!reference [.a, script], b]\n"
	                ".a:\n  script: [a]\n"
	                ".c:\n  rules: !reference [.d]\n"
	                ".d: {if: x}\n",
	                "job:\n  script: [[a], b]\n"
	                ".b:\n  script: [[a], b]\n"
	                ".a:\n  script: [a]\n"
	                ".c:\n  rules: {if: x}\n"
	                ".d: {if: x}\n");
}

static void test_reference_shares_untouched(void **state)
{
	(void)state;
	struct ydoc *doc = load("a: {x: [1, 2]}\nb: !reference [a, x]\nc: {y: z}\n");
	struct err err = ERR_INIT;
	struct ynode *r = yref_resolve(doc->arena, doc->root, &err);
	assert_non_null(r);
	assert_ptr_not_equal(r, doc->root);
	/* sub-trees without references are shared, the original is unchanged */
	assert_ptr_equal(ynode_get(r, "a"), ynode_get(doc->root, "a"));
	assert_ptr_equal(ynode_get(r, "c"), ynode_get(doc->root, "c"));
	assert_ptr_equal(ynode_get(r, "b"), ynode_get(ynode_get(doc->root, "a"), "x"));
	assert_string_equal(ynode_get(doc->root, "b")->tag, "!reference");
	/* no references at all: the same root */
	ydoc_free(doc);
	doc = load("a: [1]\n");
	assert_ptr_equal(yref_resolve(doc->arena, doc->root, &err), doc->root);
	assert_null(yref_resolve(doc->arena, NULL, &err));
	assert_false(err_is_set(&err));
	ydoc_free(doc);
}

static void test_reference_through_alias(void **state)
{
	(void)state;
	expect_resolved(".a: {s: [x]}\nr: &r !reference [.a, s]\nj1: {script: *r}\nj2: [*r]\n",
	                ".a: {s: [x]}\nr: [x]\nj1: {script: [x]}\nj2: [[x]]\n");
}

static void test_reference_missing(void **state)
{
	(void)state;
	expect_error("job:\n  script: !reference [.nope, script]\n",
	             "2:11: !reference [\".nope\", \"script\"] could not be found");
	expect_error(".a: {script: x}\njob:\n  script:\n    - !reference [.a, script, deeper]\n",
	             "4:7: !reference [\".a\", \"script\", \"deeper\"] could not be found");
	/* only hashes can be dug into */
	expect_error(".a: [x]\nb: !reference [.a, \"0\"]\n",
	             "2:4: !reference [\".a\", \"0\"] could not be found");
	/* nil and false count as not found (GitLab: `raise ... unless value`) */
	expect_error(".a: {x: ~, y: false}\nb: !reference [.a, x]\n",
	             "2:4: !reference [\".a\", \"x\"] could not be found");
	expect_error(".a: {x: ~, y: false}\nb: !reference [.a, y]\n",
	             "2:4: !reference [\".a\", \"y\"] could not be found");
	/* a reference to a reference is not dug through */
	expect_error(".a: {x: 1}\n.b: !reference [.a]\nc: !reference [.b, x]\n",
	             "3:4: !reference [\".b\", \"x\"] could not be found");
}

static void test_reference_circular(void **state)
{
	(void)state;
	expect_error("a:\n  x: !reference [b, y]\nb:\n  y: !reference [a, x]\n",
	             "2:6: !reference [\"b\", \"y\"] is part of a circular chain");
	/* gitlab-ci-local's reference-circular-chain case */
	expect_error("---\ntest-job:\n  script:\n    - !reference [test-job, script]\n",
	             "4:7: !reference [\"test-job\", \"script\"] is part of a circular chain");
	expect_error("a:\n  x: !reference [a]\n",
	             "2:6: !reference [\"a\"] is part of a circular chain");
}

static void test_reference_invalid(void **state)
{
	(void)state;
	expect_error("a: !reference []\n", "1:4: !reference [] is not valid");
	expect_error("a: !reference [b, 1]\nb: {}\n", "1:4: !reference [\"b\", 1] is not valid");
	expect_error("a: !reference [[b]]\n", "1:4: !reference [[\"b\"]] is not valid");
	expect_error("a: !reference b\n", "1:4: !reference \"b\" is not valid");
	expect_error("a: !reference {b: c}\n", "1:4: !reference {\"b\"=>\"c\"} is not valid");
}

static void test_reference_in_header_free_doc(void **state)
{
	(void)state;
	/* references resolve against the content document only */
	struct ydoc *doc = load("spec:\n  inputs: {}\n---\n.a: {s: 1}\nb: !reference [.a, s]\n");
	struct err err = ERR_INIT;
	struct ynode *r = yref_resolve(doc->arena, doc->root, &err);
	assert_non_null(r);
	assert_string_equal(ynode_str(ynode_get(r, "b")), "1");
	ydoc_free(doc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_reference_in_script_nests),
	    cmocka_unit_test(test_reference_whole_value_and_variables),
	    cmocka_unit_test(test_reference_nested_resolution),
	    cmocka_unit_test(test_reference_shares_untouched),
	    cmocka_unit_test(test_reference_through_alias),
	    cmocka_unit_test(test_reference_missing),
	    cmocka_unit_test(test_reference_circular),
	    cmocka_unit_test(test_reference_invalid),
	    cmocka_unit_test(test_reference_in_header_free_doc),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
