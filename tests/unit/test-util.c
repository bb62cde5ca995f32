/* Unit tests for util/: strbuf, strvec, arena, strmap, sha1, sha256, err, diag_list, monotime. */
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "util/arena.h"
#include "util/base64.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/dlsyms.h"
#include "util/monotime.h"
#include "util/sha1.h"
#include "util/sha256.h"
#include "util/strbuf.h"
#include "util/strmap.h"
#include "util/strvec.h"
#include "util/xalloc.h"

static void test_strbuf_grows_and_stays_terminated(void **state)
{
	(void)state;
	struct strbuf sb = STRBUF_INIT;
	assert_string_equal(sb.buf, "");
	for (int i = 0; i < 1000; i++)
		strbuf_addf(&sb, "%d,", i);
	assert_int_equal(sb.len, strlen(sb.buf));
	assert_memory_equal(sb.buf, "0,1,2,", 6);
	strbuf_setlen(&sb, 2);
	assert_string_equal(sb.buf, "0,");
	strbuf_reset(&sb);
	assert_string_equal(sb.buf, "");
	strbuf_release(&sb);
	assert_int_equal(sb.alloc, 0);
}

static void test_strbuf_shell_quote(void **state)
{
	(void)state;
	struct strbuf sb = STRBUF_INIT;
	strbuf_add_shell_quoted(&sb, "it's $HOME");
	assert_string_equal(sb.buf, "'it'\\''s $HOME'");
	strbuf_release(&sb);
}

static void test_strbuf_detach_and_rtrim(void **state)
{
	(void)state;
	struct strbuf sb = STRBUF_INIT;
	strbuf_addstr(&sb, "text \n\t ");
	strbuf_rtrim(&sb);
	size_t len = 0;
	_cleanup_free_ char *s = strbuf_detach(&sb, &len);
	assert_string_equal(s, "text");
	assert_int_equal(len, 4);
	assert_string_equal(sb.buf, "");
	/* Detaching an empty strbuf still gives an owned, freeable string. */
	_cleanup_free_ char *e = strbuf_detach(&sb, NULL);
	assert_string_equal(e, "");
}

static void test_strvec_push_find_release(void **state)
{
	(void)state;
	struct strvec sv = STRVEC_INIT;
	assert_null(sv.v[0]);
	strvec_push(&sv, "a");
	strvec_pushf(&sv, "%s=%d", "b", 2);
	strvec_push_take(&sv, xstrdup("c"));
	assert_int_equal(sv.n, 3);
	assert_null(sv.v[3]);
	assert_int_equal(strvec_find(&sv, "b=2"), 1);
	assert_int_equal(strvec_find(&sv, "z"), -1);
	strvec_release(&sv);
	assert_int_equal(sv.n, 0);
	assert_null(sv.v[0]);
}

static void test_arena_alignment_and_zeroing(void **state)
{
	(void)state;
	struct arena a = ARENA_INIT;
	for (int i = 1; i < 5000; i++) {
		unsigned char *p = arena_alloc(&a, (size_t)(i % 97) + 1);
		assert_int_equal((uintptr_t)p % _Alignof(max_align_t), 0);
		for (int j = 0; j < (i % 97) + 1; j++)
			assert_int_equal(p[j], 0);
		memset(p, 0xff, (size_t)(i % 97) + 1);
	}
	/* A request larger than a block gets its own block. */
	char *big = arena_alloc(&a, 1 << 20);
	big[(1 << 20) - 1] = 'x';
	assert_string_equal(arena_printf(&a, "%s-%d", "job", 3), "job-3");
	assert_string_equal(arena_strndup(&a, "abcdef", 3), "abc");
	arena_release(&a);
	assert_null(a.head);
}

/* Random puts and deletes checked against a plain array after every step: deletion must never
 * cut a probe run (a later key of the run would vanish) or leave a deleted key findable. */
static void test_strmap_put_get_del(void **state)
{
	(void)state;
	enum { NKEYS = 300 };
	static char keys[NKEYS][8];
	static int vals[NKEYS];
	bool present[NKEYS] = {false};
	struct strmap m = STRMAP_INIT;
	uint32_t rnd = 12345;
	size_t n = 0;

	for (int i = 0; i < NKEYS; i++)
		snprintf(keys[i], sizeof(keys[i]), "k%d", i);
	assert_null(strmap_del(&m, "k1")); /* empty map */
	for (int step = 0; step < 6000; step++) {
		rnd = rnd * 1103515245u + 12345u;
		int k = (int)((rnd >> 8) % NKEYS);
		if ((rnd >> 20) % 3 == 0) {
			assert_ptr_equal(strmap_del(&m, keys[k]), present[k] ? &vals[k] : NULL);
			n -= present[k];
			present[k] = false;
		} else {
			assert_ptr_equal(strmap_put(&m, keys[k], &vals[k]),
			                 present[k] ? &vals[k] : NULL);
			n += !present[k];
			present[k] = true;
		}
		assert_int_equal(m.n, n);
		if (step % 50 == 0)
			for (int i = 0; i < NKEYS; i++)
				assert_ptr_equal(strmap_get(&m, keys[i]),
				                 present[i] ? &vals[i] : NULL);
	}
	for (int i = 0; i < NKEYS; i++)
		if (present[i])
			assert_ptr_equal(strmap_del(&m, keys[i]), &vals[i]);
	assert_int_equal(m.n, 0);
	for (int i = 0; i < NKEYS; i++)
		assert_false(strmap_has(&m, keys[i]));
	strmap_release(&m);
}

/* SHA-1 around the padding edges (a second block is needed from 56 bytes on), checked against
 * Python's hashlib; fed one byte at a time and all at once. */
static void test_sha1_padding_edges(void **state)
{
	(void)state;
	static const struct {
		size_t len;
		const char *hex;
	} vectors[] = {
	    {0, "da39a3ee5e6b4b0d3255bfef95601890afd80709"},
	    {55, "c1c8bbdc22796e28c0e15163d20899b65621d65a"},
	    {56, "c2db330f6083854c99d4b5bfb6e8f29f201be699"},
	    {63, "03f09f5b158a7a8cdad920bddc29b81c18a551f5"},
	    {64, "0098ba824b5c16427bd7a1122a5a442a25ec644d"},
	    {119, "ee971065aaa017e0632a8ca6c77bb3bf8b1dfc56"},
	    {120, "f34c1488385346a55709ba056ddd08280dd4c6d6"},
	};
	char data[120];
	memset(data, 'a', sizeof(data));
	for (size_t v = 0; v < sizeof(vectors) / sizeof(vectors[0]); v++) {
		for (int bytewise = 0; bytewise < 2; bytewise++) {
			struct sha1_ctx c;
			sha1_init(&c);
			if (bytewise)
				for (size_t i = 0; i < vectors[v].len; i++)
					sha1_update(&c, data + i, 1);
			else
				sha1_update(&c, data, vectors[v].len);
			unsigned char d[20];
			char hex[41];
			sha1_final(&c, d);
			sha1_hex(d, hex);
			assert_string_equal(hex, vectors[v].hex);
		}
	}
}

/* A library loaded on demand: its functions land in the table; a missing library or symbol is
 * a message without the soname (the caller prints it) and leaves the table zeroed. */
static void test_dl_load_table(void **state)
{
	(void)state;
	struct {
		double (*cos_fn)(double);
		double (*sqrt_fn)(double);
	} t = {NULL, NULL};
	const struct dl_sym ok[] = {{"cos", offsetof(__typeof__(t), cos_fn)},
	                            {"sqrt", offsetof(__typeof__(t), sqrt_fn)}};
	char why[256] = "";
	assert_int_equal(dl_load_table("libm.so.6", ok, 2, &t, sizeof(t), why, sizeof(why)), 0);
	assert_non_null(t.sqrt_fn);
	assert_true(t.sqrt_fn(16.0) == 4.0);

	const struct dl_sym missing[] = {
	    {"cos", offsetof(__typeof__(t), cos_fn)},
	    {"no_such_function_here", offsetof(__typeof__(t), sqrt_fn)}};
	assert_int_equal(dl_load_table("libm.so.6", missing, 2, &t, sizeof(t), why, sizeof(why)),
	                 -1);
	assert_string_equal(why, "symbol 'no_such_function_here' not found");
	assert_null(t.cos_fn);

	assert_int_equal(dl_load_table("libnot-there.so.9", ok, 2, &t, sizeof(t), why, sizeof(why)),
	                 -1);
	assert_null(strstr(why, "libnot-there.so.9: libnot-there"));
	assert_non_null(strstr(why, "No such file"));
}

static void sha256_hex_of(const void *data, size_t len, char hex[65])
{
	unsigned char d[32];
	sha256(data, len, d);
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", d[i]);
}

/* FIPS 180-4 examples, plus inputs around the 55/56/64-byte padding edges checked against
 * Python's hashlib. */
static void test_sha256_vectors(void **state)
{
	(void)state;
	char hex[65];
	sha256_hex_of("", 0, hex);
	assert_string_equal(hex,
	                    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	sha256_hex_of("abc", 3, hex);
	assert_string_equal(hex,
	                    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	sha256_hex_of(two, strlen(two), hex);
	assert_string_equal(hex,
	                    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	/* a million 'a's fed in uneven pieces through the streaming interface */
	struct sha256_ctx c;
	char chunk[997];
	memset(chunk, 'a', sizeof(chunk));
	sha256_init(&c);
	for (size_t left = 1000000; left > 0;) {
		size_t n = left < sizeof(chunk) ? left : sizeof(chunk);
		sha256_update(&c, chunk, n);
		left -= n;
	}
	unsigned char d[32];
	sha256_final(&c, d);
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", d[i]);
	assert_string_equal(hex,
	                    "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	char edge[65];
	memset(edge, 'x', sizeof(edge));
	sha256_hex_of(edge, 55, hex);
	assert_string_equal(hex,
	                    "d5e285683cd4efc02d021a5c62014694958901005d6f71e89e0989fac77e4072");
	sha256_hex_of(edge, 56, hex);
	assert_string_equal(hex,
	                    "04c26261370ee7541549d16dee320c723e3fd14671e66a099afe0a377c16888e");
	sha256_hex_of(edge, 64, hex);
	assert_string_equal(hex,
	                    "7ce100971f64e7001e8fe5a51973ecdfe1ced42befe7ee8d5fd6219506b5393c");
}

/* arena_printf formats into the current block's tail: strings of every length, around the
 * end of a block and longer than a block, stay intact, and memory handed out afterwards is
 * still zeroed (a truncated attempt must not leave bytes behind). */
static void test_arena_printf_and_zeroing(void **state)
{
	(void)state;
	struct arena a = ARENA_INIT;
	enum { N = 3000 };
	static char *strs[N];
	char pad[200];
	memset(pad, 'p', sizeof(pad) - 1);
	pad[sizeof(pad) - 1] = '\0';

	for (int i = 0; i < N; i++) {
		int width = (i * 37) % 199;
		strs[i] = arena_printf(&a, "%d:%.*s", i, width, pad);
		size_t n = (size_t)(i * 53) % 300 + 1;
		unsigned char *z = arena_alloc(&a, n);
		for (size_t j = 0; j < n; j++)
			assert_int_equal(z[j], 0);
		memset(z, 0xee, n);
	}
	char *huge = arena_printf(&a, "%0*d", 200000, 7);
	assert_int_equal(strlen(huge), 200000);
	assert_int_equal(huge[199999], '7');
	unsigned char *z = arena_alloc(&a, 64);
	for (size_t j = 0; j < 64; j++)
		assert_int_equal(z[j], 0);
	for (int i = 0; i < N; i++) {
		char want[256];
		snprintf(want, sizeof(want), "%d:%.*s", i, (i * 37) % 199, pad);
		assert_string_equal(strs[i], want);
	}
	assert_string_equal(arena_printf(&a, "%s", ""), "");
	arena_release(&a);
}

/* arena_printf assembles the common conversions itself and hands the rest to vsnprintf: both
 * must print exactly what snprintf prints. */
static void test_arena_printf_matches_snprintf(void **state)
{
	(void)state;
	struct arena a = ARENA_INIT;
	char want[512];
#define CHECK(...)                                                                                 \
	do {                                                                                       \
		snprintf(want, sizeof(want), __VA_ARGS__);                                         \
		assert_string_equal(arena_printf(&a, __VA_ARGS__), want);                          \
	} while (0)
	CHECK("jobs:%s:rules", "build");
	CHECK("%s", "");
	CHECK("plain text, 100%% literal");
	CHECK("rule %zu matched", (size_t)18446744073709551615ULL);
	CHECK("%d %d %d", 0, -1, -2147483647 - 1);
	CHECK("%ld|%lu", -9223372036854775807L - 1, 18446744073709551615UL);
	CHECK("[%.*s] [%.*s] [%.*s]", 3, "abcdef", 0, "xyz", -1, "whole");
	CHECK("%s and %s", "(first)", "second");
	CHECK("%s%s%s%s%s%s%s%s%s%s%s%s%s%s%s%s%s%s", "a", "b", "c", "d", "e", "f", "g", "h", "i",
	      "j", "k", "l", "m", "n", "o", "p", "q", "r"); /* more pieces than the fast path */
	/* conversions only vsnprintf knows */
	CHECK("%5d|%-4s|%x|%c|%05.1f", 42, "ab", 255u, 'z', 3.14159);
	CHECK("tail %s then %x", "str", 0xbeefu);
#undef CHECK
	arena_release(&a);
}

static int fails_with_context(struct err *err)
{
	err_set(err, ERR_ENV, "cannot open '%s'", "x.yml");
	return err_wrap(err, "while including '%s'", "y.yml");
}

static void test_err_set_wrap_exit_codes(void **state)
{
	(void)state;
	struct err err = ERR_INIT;
	assert_int_equal(fails_with_context(&err), -1);
	assert_string_equal(err.msg, "while including 'y.yml': cannot open 'x.yml'");
	assert_int_equal(err_exit_code(&err), 4);
	err_release(&err);
	assert_false(err_is_set(&err));

	struct srcloc loc = {"a.yml", 3, 7};
	err_at(&err, loc, "unknown key '%s'", "scirpt");
	assert_int_equal(err_exit_code(&err), 3);
	assert_int_equal(err.loc.line, 3);
	assert_int_equal(err.loc.col, 7);

	struct diag_list dl = DIAG_LIST_INIT;
	diag_list_take_err(&dl, &err);
	diag_list_add(&dl, loc, 1, "duplicate key '%s'", "a");
	assert_false(err_is_set(&err));
	assert_int_equal(dl.n, 2);
	assert_int_equal(diag_list_errors(&dl), 1);
	assert_string_equal(dl.v[0].msg, "unknown key 'scirpt'");
	diag_list_release(&dl);
}

static void test_err_sys_keeps_errno(void **state)
{
	(void)state;
	struct err err = ERR_INIT;
	err_sys(&err, 2, "cannot read '%s'", "f");
	assert_int_equal(err.sys_errno, 2);
	assert_non_null(strstr(err.msg, "cannot read 'f': "));
	err_release(&err);
}

/* monotime reads CLOCK_MONOTONIC (not the wall clock): each reading lies between two direct
 * readings taken around it, in every unit; monotime_diff_s borrows across the nanoseconds. */
static double ts_s(const struct timespec *t)
{
	return (double)t->tv_sec + (double)t->tv_nsec / 1e9;
}

static void test_monotime_reads_the_monotonic_clock(void **state)
{
	(void)state;
	struct timespec before, mid, after;
	clock_gettime(CLOCK_MONOTONIC, &before);
	double s = monotime_s();
	long ms = monotime_ms();
	monotime_get(&mid);
	clock_gettime(CLOCK_MONOTONIC, &after);
	assert_true(ts_s(&before) <= s && s <= ts_s(&after));
	/* whole milliseconds: truncated, so at most 1 ms below the bracket */
	assert_true((double)ms >= ts_s(&before) * 1000.0 - 1.0);
	assert_true((double)ms <= ts_s(&after) * 1000.0);
	assert_true(s * 1000.0 - 1.0 <= (double)ms);
	assert_true(ts_s(&before) <= ts_s(&mid) && ts_s(&mid) <= ts_s(&after));
	assert_true(monotime_diff_s(&before, &after) >= 0);
}

static void test_monotime_diff(void **state)
{
	(void)state;
	struct timespec a = {.tv_sec = 5, .tv_nsec = 900000000L};
	struct timespec b = {.tv_sec = 7, .tv_nsec = 100000000L};
	assert_true(monotime_diff_s(&a, &b) > 1.2 - 1e-9 && monotime_diff_s(&a, &b) < 1.2 + 1e-9);
	assert_true(monotime_diff_s(&b, &a) > -1.2 - 1e-9 && monotime_diff_s(&b, &a) < -1.2 + 1e-9);
	assert_true(monotime_diff_s(&a, &a) == 0.0);
}

/* RFC 4648 section 10's vectors, every padding case, and bytes above 0x7f. */
static void test_base64_encode(void **state)
{
	(void)state;
	static const char *const in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
	static const char *const want[] = {"",         "Zg==",     "Zm8=",    "Zm9v",
	                                   "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
	for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		struct strbuf sb = STRBUF_INIT;
		base64_encode(in[i], strlen(in[i]), &sb);
		assert_string_equal(sb.buf ? sb.buf : "", want[i]);
		strbuf_release(&sb);
	}
	struct strbuf sb = STRBUF_INIT;
	base64_encode("\xfb\xff\x00", 3, &sb);
	assert_string_equal(sb.buf, "+/8A");
	strbuf_release(&sb);
	assert_true(base64_is_char('A') && base64_is_char('z') && base64_is_char('0'));
	assert_true(base64_is_char('+') && base64_is_char('/'));
	assert_false(base64_is_char('=') || base64_is_char('-') || base64_is_char(0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_strbuf_grows_and_stays_terminated),
	    cmocka_unit_test(test_strbuf_shell_quote),
	    cmocka_unit_test(test_strbuf_detach_and_rtrim),
	    cmocka_unit_test(test_strvec_push_find_release),
	    cmocka_unit_test(test_arena_alignment_and_zeroing),
	    cmocka_unit_test(test_arena_printf_and_zeroing),
	    cmocka_unit_test(test_arena_printf_matches_snprintf),
	    cmocka_unit_test(test_sha256_vectors),
	    cmocka_unit_test(test_sha1_padding_edges),
	    cmocka_unit_test(test_dl_load_table),
	    cmocka_unit_test(test_strmap_put_get_del),
	    cmocka_unit_test(test_err_set_wrap_exit_codes),
	    cmocka_unit_test(test_err_sys_keeps_errno),
	    cmocka_unit_test(test_monotime_reads_the_monotonic_clock),
	    cmocka_unit_test(test_monotime_diff),
	    cmocka_unit_test(test_base64_encode),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
