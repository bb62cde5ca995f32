/* Unit tests for the streaming masker (report/mask.c): secrets split at every chunk boundary,
 * overlapping secrets, secrets that are prefixes of others, glpat- tokens, GitLab's maskable
 * rule, and throughput with many secrets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "model/job.h"
#include "report/report.h"
#include "util/strbuf.h"
#include "util/strvec.h"
#include "util/xalloc.h"

/* Masks text in one go. */
static char *mask_whole(const char *const *secrets, size_t n, const char *text)
{
	struct masker *m = masker_new(secrets, n);
	struct strbuf out = STRBUF_INIT;
	masker_feed(m, text, strlen(text), &out);
	masker_flush(m, &out);
	masker_free(m);
	return strbuf_detach(&out, NULL);
}

/* Feeds text in chunks cut at every position in cuts[] (sorted). */
static char *mask_split(const char *const *secrets, size_t n, const char *text, const size_t *cuts,
                        size_t ncuts)
{
	struct masker *m = masker_new(secrets, n);
	struct strbuf out = STRBUF_INIT;
	size_t prev = 0, len = strlen(text);
	for (size_t i = 0; i <= ncuts; i++) {
		size_t at = i < ncuts ? cuts[i] : len;
		masker_feed(m, text + prev, at - prev, &out);
		prev = at;
	}
	masker_flush(m, &out);
	masker_free(m);
	return strbuf_detach(&out, NULL);
}

static void expect_all_splits(const char *const *secrets, size_t n, const char *text,
                              const char *expected)
{
	char *whole = mask_whole(secrets, n, text);
	assert_string_equal(whole, expected);
	free(whole);
	size_t len = strlen(text);
	/* every single cut, and every pair of cuts (a secret in three pieces) */
	for (size_t a = 0; a <= len; a++) {
		char *s = mask_split(secrets, n, text, &a, 1);
		if (strcmp(s, expected) != 0)
			fail_msg("cut at %zu: got '%s', want '%s'", a, s, expected);
		free(s);
		for (size_t b = a; b <= len; b++) {
			size_t cuts[2] = {a, b};
			s = mask_split(secrets, n, text, cuts, 2);
			if (strcmp(s, expected) != 0)
				fail_msg("cuts %zu,%zu: got '%s', want '%s'", a, b, s, expected);
			free(s);
		}
	}
	/* byte by byte */
	size_t *cuts = xcalloc(len + 1, sizeof(*cuts));
	for (size_t i = 0; i < len; i++)
		cuts[i] = i;
	char *s = mask_split(secrets, n, text, cuts, len);
	assert_string_equal(s, expected);
	free(s);
	free(cuts);
}

static void test_mask_every_split_point(void **state)
{
	(void)state;
	const char *secrets[] = {"s3cr3tV4lue"};
	expect_all_splits(secrets, 1, "pw=s3cr3tV4lue end", "pw=[MASKED] end");
	expect_all_splits(secrets, 1, "s3cr3tV4lues3cr3tV4lue", "[MASKED][MASKED]");
	/* a prefix of the secret at the very end is not a secret: released on flush */
	expect_all_splits(secrets, 1, "abc s3cr3tV4l", "abc s3cr3tV4l");
	/* an almost-match followed by the real one */
	expect_all_splits(secrets, 1, "s3cr3ts3cr3tV4lue!", "s3cr3t[MASKED]!");
}

static void test_mask_prefix_of_another(void **state)
{
	(void)state;
	const char *secrets[] = {"password", "password123456"};
	/* longest first: no "123456" tail left visible */
	expect_all_splits(secrets, 2, "x password123456 y", "x [MASKED] y");
	expect_all_splits(secrets, 2, "x password1234 y", "x [MASKED]1234 y");
	/* the longer one is pending at the end of the stream: the shorter one still masks */
	expect_all_splits(secrets, 2, "password12", "[MASKED]12");
}

static void test_mask_overlapping(void **state)
{
	(void)state;
	const char *secrets[] = {"abcdefgh", "efghijkl"};
	/* leftmost match wins; the rest of the overlap stays as is */
	expect_all_splits(secrets, 2, "abcdefghijkl", "[MASKED]ijkl");
	expect_all_splits(secrets, 2, "xxefghijklxx", "xx[MASKED]xx");
	const char *dup[] = {"AAAAAAAA", "AAAAAAAA", "", NULL};
	expect_all_splits(dup, 4, "AAAAAAAAAAAA", "[MASKED]AAAA");
}

static void test_mask_glpat_tokens(void **state)
{
	(void)state;
	expect_all_splits(NULL, 0, "token glpat-abcDEF0123456789_-xy done",
	                  "token glpat-[MASKED] done");
	/* "glpat-" alone is not a token */
	expect_all_splits(NULL, 0, "see glpat- docs", "see glpat- docs");
	const char *secrets[] = {"glpat-exactsecret"};
	expect_all_splits(secrets, 1, "a glpat-exactsecret b", "a [MASKED] b");
}

static void test_mask_empty_and_no_secrets(void **state)
{
	(void)state;
	char *s = mask_whole(NULL, 0, "");
	assert_string_equal(s, "");
	free(s);
	s = mask_whole(NULL, 0, "plain text\n");
	assert_string_equal(s, "plain text\n");
	free(s);
}

static void test_mask_binary_data(void **state)
{
	(void)state;
	const char secret[] = "SECRET\001\377X";
	const char *secrets[] = {secret};
	const char data[] = "\000\377SECRET\001\377X\000";
	struct masker *m = masker_new(secrets, 1);
	struct strbuf out = STRBUF_INIT;
	for (size_t i = 0; i < sizeof(data) - 1; i++)
		masker_feed(m, data + i, 1, &out);
	masker_flush(m, &out);
	assert_int_equal(out.len, 2 + 8 + 1);
	assert_memory_equal(out.buf, "\000\377[MASKED]\000", 11);
	strbuf_release(&out);
	masker_free(m);
}

static void test_mask_maskable_rule(void **state)
{
	(void)state;
	assert_true(report_value_maskable("abcdefgh", false));
	assert_true(report_value_maskable("a+b=c/d@e:f.g~h-i_j", false));
	assert_false(report_value_maskable("short", false));
	assert_false(report_value_maskable("has space in it", false));
	assert_false(report_value_maskable("two\nlines!", false));
	assert_false(report_value_maskable("dollar$sign", false));
	assert_true(report_value_maskable("dollar$sign", true));
	assert_false(report_value_maskable("raw with space", true));
}

static void test_mask_collect_secrets(void **state)
{
	(void)state;
	struct var v[] = {
	    {.key = "TOKEN", .value = "abcdefgh123", .masked = true},
	    {.key = "SHORT", .value = "abc", .masked = true},
	    {.key = "PUBLIC", .value = "visible-value", .masked = false},
	    {.key = "CI_JOB_TOKEN", .value = "tok", .masked = true},
	    {.key = "CI_REGISTRY_PASSWORD", .value = "p w!", .masked = true},
	    {.key = "EMPTY", .value = "", .masked = true},
	};
	struct var_list l = {.v = v, .n = sizeof(v) / sizeof(v[0])};
	struct strvec out = STRVEC_INIT;
	report_collect_secrets(&l, &out);
	assert_int_equal(out.n, 3);
	assert_string_equal(out.v[0], "abcdefgh123");
	assert_string_equal(out.v[1], "tok");
	assert_string_equal(out.v[2], "p w!");
	report_collect_secrets(NULL, &out);
	assert_int_equal(out.n, 3);
	strvec_release(&out);
}

/* ~50 secrets of 64 bytes over 8 MiB of output fed in 4 KiB chunks: must stay well above
 * MB/s rates (generous bound so slow CI machines and sanitizers pass). */
static void test_mask_throughput(void **state)
{
	(void)state;
	enum { NSEC = 50, SLEN = 64, TOTAL = 8 << 20, CHUNK = 4096 };
	char *secrets[NSEC];
	srand(42);
	for (int i = 0; i < NSEC; i++) {
		secrets[i] = xmalloc(SLEN + 1);
		for (int j = 0; j < SLEN; j++)
			secrets[i][j] = (char)('a' + rand() % 26);
		secrets[i][SLEN] = '\0';
	}
	char *data = xmalloc(TOTAL);
	for (int i = 0; i < TOTAL; i++)
		data[i] = (char)(i % 97 == 0 ? '\n' : 'a' + rand() % 26);
	memcpy(data + 1000, secrets[7], SLEN);
	memcpy(data + TOTAL - 100, secrets[49], SLEN);
	struct masker *m = masker_new((const char *const *)secrets, NSEC);
	struct strbuf out = STRBUF_INIT;
	clock_t t0 = clock();
	for (size_t off = 0; off < TOTAL; off += CHUNK) {
		masker_feed(m, data + off, CHUNK, &out);
		if (out.len > (1 << 20))
			strbuf_reset(&out);
	}
	masker_flush(m, &out);
	double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
	assert_true(secs < 20.0);
	assert_non_null(strstr(out.buf, "[MASKED]"));
	strbuf_release(&out);
	masker_free(m);
	free(data);
	for (int i = 0; i < NSEC; i++)
		free(secrets[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_mask_every_split_point),
	    cmocka_unit_test(test_mask_prefix_of_another),
	    cmocka_unit_test(test_mask_overlapping),
	    cmocka_unit_test(test_mask_glpat_tokens),
	    cmocka_unit_test(test_mask_empty_and_no_secrets),
	    cmocka_unit_test(test_mask_binary_data),
	    cmocka_unit_test(test_mask_maskable_rule),
	    cmocka_unit_test(test_mask_collect_secrets),
	    cmocka_unit_test(test_mask_throughput),
	};
	return cmocka_run_group_tests(tests, 0, NULL);
}
