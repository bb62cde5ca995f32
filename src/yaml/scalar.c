/* scalar: YAML 1.1 scalar typing exactly as Ruby's Psych 5 does it (ScalarScanner#tokenize with
 * strict_integer off, as YAML.safe_load uses it), since GitLab parses CI files with Psych. The
 * regular expressions of the scanner are hand-written matchers here; the comment above each
 * one quotes the pattern it implements. Quirks kept on purpose:
 *  - only `~`, `null` (any case), `yes/no/true/false/on/off` (any case) and the empty scalar
 *    are null/bool; `y`, `n`, `Y`, `N` are strings;
 *  - integers allow `_` and `,` separators, `0` + octal digits is octal, `0o17` is a string,
 *    `08` is a string;
 *  - floats need a '.', and an exponent needs a sign: `1e3` and `1.0e3` are strings;
 *  - `1:30` is a base-60 integer computed Psych's way (1*3600 + 30*60 = 5400);
 *  - dates and timestamps make GitLab's safe_load raise ("tried to load unspecified class");
 *  - `0x_`, `0b,` and `.e+1` match the number patterns but make Ruby raise: errors too;
 *  - `:sym` is a Symbol, whose to_s drops the colon. */
#include "yaml/internal.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/arena.h"
#include "util/err.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

/* Longest non-decimal integer literal we convert exactly (Ruby has bignums; nobody writes
 * thousands of hex digits in a CI file, and conversion is quadratic). */
#define MAX_RADIX_DIGITS 4096

static bool is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static bool is_space(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static int lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

static bool ci_eq(const char *s, size_t len, const char *word)
{
	size_t wl = strlen(word);
	if (len != wl)
		return false;
	for (size_t i = 0; i < len; i++)
		if (lower((unsigned char)s[i]) != word[i])
			return false;
	return true;
}

/* [A-Za-z_\s!@#$%^&*(){}<>|/\\~;=] */
static bool word_class(int c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || is_space(c))
		return true;
	return c && strchr("!@#$%^&*(){}<>|/\\~;=", c) != NULL;
}

static size_t utf8_seq_len(unsigned char c)
{
	if (c >= 0xf0 && c < 0xf8)
		return 4;
	if (c >= 0xe0 && c < 0xf0)
		return 3;
	if (c >= 0xc0 && c < 0xe0)
		return 2;
	return 1;
}

/* /^[^\d.:-]?[A-Za-z_\s!@#$%^&*(){}<>|\/\\~;=]+/: "looks like a word", checked first. */
static bool looks_like_word(const char *s, size_t len)
{
	unsigned char c = (unsigned char)s[0];
	if (word_class(c))
		return true;
	if (is_digit(c) || c == '.' || c == ':' || c == '-')
		return false;
	size_t k = utf8_seq_len(c);
	return k < len && word_class((unsigned char)s[k]);
}

static size_t char_count(const char *s, size_t len)
{
	size_t n = 0;
	for (size_t i = 0; i < len; i++)
		n += ((unsigned char)s[i] & 0xc0) != 0x80;
	return n;
}

/* Does /^WORD$/i match some line of s (Ruby's ^ and $ are line anchors)? */
static bool line_is(const char *s, size_t len, const char *const *words)
{
	size_t start = 0;
	while (start <= len) {
		const char *nl = memchr(s + start, '\n', len - start);
		size_t end = nl ? (size_t)(nl - s) : len;
		for (const char *const *w = words; *w; w++)
			if (ci_eq(s + start, end - start, *w))
				return true;
		if (!nl)
			break;
		start = end + 1;
	}
	return false;
}

/* The short-word branch: strings of at most 5 characters starting like y/t/o/n/f/~. */
static enum yscalar_class classify_word(const char *s, size_t len)
{
	static const char *const nulls[] = {"null", NULL};
	static const char *const trues[] = {"yes", "true", "on", NULL};
	static const char *const falses[] = {"no", "false", "off", NULL};
	/* every scalar of a file comes here: the O(1) tests first (a string of more than 20
	 * bytes has more than 5 characters; most words start with another letter) */
	if (len > 20 || !strchr("ytonfYTONF~", s[0]) || !s[0] || char_count(s, len) > 5)
		return YSC_STRING;
	/* /^[^ytonf~]/i at any line start */
	for (size_t i = 1; i < len; i++) {
		if (i && s[i - 1] != '\n')
			continue;
		if (!s[i] || !strchr("ytonfYTONF~", s[i]))
			return YSC_STRING;
	}
	if (len == 1 && s[0] == '~')
		return YSC_NULL;
	if (line_is(s, len, nulls))
		return YSC_NULL;
	if (line_is(s, len, trues))
		return YSC_TRUE;
	if (line_is(s, len, falses))
		return YSC_FALSE;
	return YSC_STRING;
}

static size_t count_digits(const char *s, size_t len, size_t i, size_t max)
{
	size_t n = 0;
	while (i + n < len && n < max && is_digit((unsigned char)s[i + n]))
		n++;
	return n;
}

/* Timezone tail of TIME: \d{1,2}:?(?:\d\d)? spanning the rest exactly. */
static bool tz_tail(const char *s, size_t len)
{
	for (size_t a = 1; a <= 2; a++)
		for (size_t colon = 0; colon <= 1; colon++)
			for (size_t b = 0; b <= 2; b += 2) {
				if (a + colon + b != len || count_digits(s, len, 0, a) != a)
					continue;
				if (colon && s[a] != ':')
					continue;
				if (count_digits(s, len, a + colon, b) == b)
					return true;
			}
	return false;
}

/* Expects `n` digits (exactly, or 1..n when `upto`) then character `sep` at *i. */
static bool expect_num(const char *s, size_t len, size_t *i, size_t n, bool upto)
{
	size_t d = count_digits(s, len, *i, n);
	if (d == 0 || (!upto && d != n))
		return false;
	*i += d;
	return true;
}

static bool expect_ch(const char *s, size_t len, size_t *i, char c)
{
	if (*i >= len || s[*i] != c)
		return false;
	(*i)++;
	return true;
}

/* TIME = /^-?\d{4}-\d{1,2}-\d{1,2}(?:[Tt]|\s+)\d{1,2}:\d\d:\d\d(?:\.\d*)?
 *         (?:\s*(?:Z|[-+]\d{1,2}:?(?:\d\d)?))?$/ */
static bool is_time(const char *s, size_t len)
{
	size_t i = 0;
	if (len && s[0] == '-')
		i++;
	if (!expect_num(s, len, &i, 4, false) || !expect_ch(s, len, &i, '-') ||
	    !expect_num(s, len, &i, 2, true) || !expect_ch(s, len, &i, '-') ||
	    !expect_num(s, len, &i, 2, true) || i >= len)
		return false;
	if (s[i] == 'T' || s[i] == 't') {
		i++;
	} else {
		if (!is_space((unsigned char)s[i]))
			return false;
		while (i < len && is_space((unsigned char)s[i]))
			i++;
	}
	if (!expect_num(s, len, &i, 2, true) || !expect_ch(s, len, &i, ':') ||
	    !expect_num(s, len, &i, 2, false) || !expect_ch(s, len, &i, ':') ||
	    !expect_num(s, len, &i, 2, false))
		return false;
	if (i < len && s[i] == '.')
		i += 1 + count_digits(s, len, i + 1, SIZE_MAX);
	if (i == len)
		return true;
	while (i < len && is_space((unsigned char)s[i]))
		i++;
	if (i < len && s[i] == 'Z')
		return i + 1 == len;
	if (i < len && (s[i] == '+' || s[i] == '-'))
		return tz_tail(s + i + 1, len - i - 1);
	return false;
}

/* /^\d{4}-(?:1[012]|0\d|\d)-(?:[12]\d|3[01]|0\d|\d)$/ */
static bool is_date(const char *s, size_t len)
{
	if (len < 8 || len > 10 || count_digits(s, len, 0, 4) != 4 || s[4] != '-')
		return false;
	for (size_t m = 1; m <= 2; m++) {
		for (size_t d = 1; d <= 2; d++) {
			if (5 + m + 1 + d != len || s[5 + m] != '-')
				continue;
			const char *ms = s + 5, *ds = s + 6 + m;
			if (count_digits(ms, m, 0, m) != m || count_digits(ds, d, 0, d) != d)
				continue;
			if (m == 2 && !(ms[0] == '0' || (ms[0] == '1' && ms[1] <= '2')))
				continue;
			if (d == 2 && !(ds[0] <= '2' || (ds[0] == '3' && ds[1] <= '1')))
				continue;
			return true;
		}
	}
	return false;
}

/* /^[-+]?[0-9][0-9_]*(:[0-5]?[0-9]){1,2}$/, or with `\.[0-9_]*` before $ when `frac`. */
static bool is_sexagesimal(const char *s, size_t len, bool frac)
{
	size_t i = 0;
	if (i < len && (s[i] == '-' || s[i] == '+'))
		i++;
	if (i >= len || !is_digit((unsigned char)s[i]))
		return false;
	while (i < len && (is_digit((unsigned char)s[i]) || s[i] == '_'))
		i++;
	int groups = 0;
	while (i < len && s[i] == ':' && groups < 2) {
		i++;
		if (i + 1 < len && s[i] >= '0' && s[i] <= '5' && is_digit((unsigned char)s[i + 1]))
			i += 2;
		else if (i < len && is_digit((unsigned char)s[i]))
			i++;
		else
			return false;
		groups++;
	}
	if (!groups)
		return false;
	if (!frac)
		return i == len;
	if (i >= len || s[i] != '.')
		return false;
	for (i++; i < len; i++)
		if (!is_digit((unsigned char)s[i]) && s[i] != '_')
			return false;
	return true;
}

/* FLOAT = /^[-+]?([0-9][0-9_,]*)?\.[0-9]*([eE][-+][0-9]+)?$/ */
static bool is_float(const char *s, size_t len)
{
	size_t i = 0;
	if (i < len && (s[i] == '-' || s[i] == '+'))
		i++;
	if (i < len && is_digit((unsigned char)s[i]))
		while (i < len && (is_digit((unsigned char)s[i]) || s[i] == '_' || s[i] == ','))
			i++;
	if (i >= len || s[i] != '.')
		return false;
	i++;
	i += count_digits(s, len, i, SIZE_MAX);
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i >= len || (s[i] != '-' && s[i] != '+'))
			return false;
		size_t d = count_digits(s, len, i + 1, SIZE_MAX);
		if (!d)
			return false;
		i += 1 + d;
	}
	return i == len;
}

static bool all_in(const char *s, size_t len, size_t i, const char *set)
{
	if (i >= len)
		return false;
	for (; i < len; i++)
		if (!s[i] || !strchr(set, s[i]))
			return false;
	return true;
}

/* INTEGER_LEGACY = /^[-+]?(?:0b[0-1_,]+|0[0-7_,]+|(?:0|[1-9](?:[0-9]|,[0-9]|_[0-9])*)
 *                   |0x[0-9a-fA-F_,]+)$/ */
static bool is_int(const char *s, size_t len)
{
	size_t i = 0;
	if (i < len && (s[i] == '-' || s[i] == '+'))
		i++;
	if (i >= len)
		return false;
	if (s[i] == '0') {
		if (i + 1 == len)
			return true;
		if (s[i + 1] == 'b')
			return all_in(s, len, i + 2, "01_,");
		if (s[i + 1] == 'x')
			return all_in(s, len, i + 2, "0123456789abcdefABCDEF_,");
		return all_in(s, len, i + 1, "01234567_,");
	}
	if (s[i] < '1' || s[i] > '9')
		return false;
	for (i++; i < len; i++) {
		if (is_digit((unsigned char)s[i]))
			continue;
		if ((s[i] == ',' || s[i] == '_') && i + 1 < len &&
		    is_digit((unsigned char)s[i + 1])) {
			i++;
			continue;
		}
		return false;
	}
	return true;
}

enum yscalar_class yscalar_classify(const char *s, size_t len)
{
	if (len == 0)
		return YSC_NULL;
	if (looks_like_word(s, len) || memchr(s, '\n', len))
		return classify_word(s, len);
	if (is_time(s, len))
		return YSC_TIME;
	if (is_date(s, len))
		return YSC_DATE;
	if (ci_eq(s, len, ".inf") || ci_eq(s, len, "+.inf"))
		return YSC_INF;
	if (ci_eq(s, len, "-.inf"))
		return YSC_NINF;
	if (ci_eq(s, len, ".nan"))
		return YSC_NAN;
	if (s[0] == ':' && len >= 2)
		return YSC_SYMBOL;
	if (is_sexagesimal(s, len, false))
		return YSC_SEXAGESIMAL;
	if (is_sexagesimal(s, len, true))
		return YSC_SEXA_FLOAT;
	if (is_float(s, len)) {
		/* /\A[-+]?\.\Z/ stays a string */
		if (len == 1 || (len == 2 && (s[0] == '-' || s[0] == '+')))
			return YSC_STRING;
		return YSC_FLOAT;
	}
	if (is_int(s, len))
		return YSC_INT;
	return YSC_STRING;
}

/* ---- Ruby number formatting ---- */

void yfloat_to_s(double d, char *buf, size_t size)
{
	if (isnan(d)) {
		snprintf(buf, size, "NaN");
		return;
	}
	if (isinf(d)) {
		snprintf(buf, size, "%s", d < 0 ? "-Infinity" : "Infinity");
		return;
	}
	/* Shortest digit string that reads back as d (what Ruby's dtoa mode 0 gives). */
	char tmp[40];
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*e", prec - 1, d);
		if (strtod(tmp, NULL) == d)
			break;
	}
	const char *p = tmp;
	bool neg = *p == '-';
	if (neg)
		p++;
	char digits[24];
	size_t nd = 0;
	for (; *p && *p != 'e'; p++)
		if (is_digit((unsigned char)*p))
			digits[nd++] = *p;
	while (nd > 1 && digits[nd - 1] == '0')
		nd--;
	digits[nd] = '\0';
	int decpt = atoi(p + 1) + 1;
	struct strbuf sb = STRBUF_INIT;
	if (neg)
		strbuf_addch(&sb, '-');
	if (digits[0] == '0' && nd == 1) {
		strbuf_addstr(&sb, "0.0");
	} else if (decpt > 0 && decpt <= 16) {
		/* fixed: digits with the point at decpt, at least one fractional digit */
		for (int i = 0; i < decpt; i++)
			strbuf_addch(&sb, (size_t)i < nd ? digits[i] : '0');
		strbuf_addch(&sb, '.');
		if ((size_t)decpt < nd)
			strbuf_addstr(&sb, digits + decpt);
		else
			strbuf_addch(&sb, '0');
	} else if (decpt <= 0 && decpt > -4) {
		strbuf_addstr(&sb, "0.");
		for (int i = 0; i < -decpt; i++)
			strbuf_addch(&sb, '0');
		strbuf_addstr(&sb, digits);
	} else {
		strbuf_addch(&sb, digits[0]);
		strbuf_addch(&sb, '.');
		strbuf_addstr(&sb, nd > 1 ? digits + 1 : "0");
		strbuf_addf(&sb, "e%+03d", decpt - 1);
	}
	snprintf(buf, size, "%s", sb.buf);
	strbuf_release(&sb);
}

/* Arbitrary-precision unsigned integer in base 1e9 limbs (little endian), enough for Ruby's
 * Integer#to_s of big hex/octal/binary literals and base-60 arithmetic. */
struct bignum {
	uint32_t *limb;
	size_t n, alloc;
};

static void big_mul_add(struct bignum *b, uint32_t mul, uint32_t add)
{
	uint64_t carry = add;
	for (size_t i = 0; i < b->n; i++) {
		uint64_t v = (uint64_t)b->limb[i] * mul + carry;
		b->limb[i] = (uint32_t)(v % 1000000000u);
		carry = v / 1000000000u;
	}
	while (carry) {
		XGROW(b->limb, b->alloc, b->n + 1);
		b->limb[b->n++] = (uint32_t)(carry % 1000000000u);
		carry /= 1000000000u;
	}
}

/* b -= small, assuming b >= small. */
static void big_sub(struct bignum *b, uint32_t small)
{
	int64_t borrow = small;
	for (size_t i = 0; i < b->n && borrow; i++) {
		int64_t v = (int64_t)b->limb[i] - borrow;
		borrow = 0;
		if (v < 0) {
			v += 1000000000;
			borrow = 1;
		}
		b->limb[i] = (uint32_t)v;
	}
	while (b->n && !b->limb[b->n - 1])
		b->n--;
}

static bool big_is_zero(const struct bignum *b)
{
	return b->n == 0;
}

/* Writes the decimal form (with '-' when neg and non-zero) into the arena; sets *ret_ll to
 * the value clamped to long long. */
static const char *big_to_s(struct arena *a, const struct bignum *b, bool neg, long long *ret_ll)
{
	struct strbuf sb = STRBUF_INIT;
	if (big_is_zero(b)) {
		*ret_ll = 0;
		return arena_strdup(a, "0");
	}
	if (neg)
		strbuf_addch(&sb, '-');
	strbuf_addf(&sb, "%" PRIu32, b->limb[b->n - 1]);
	for (size_t i = b->n - 1; i-- > 0;)
		strbuf_addf(&sb, "%09" PRIu32, b->limb[i]);
	errno = 0;
	long long v = strtoll(sb.buf, NULL, 10);
	*ret_ll = errno == ERANGE ? (neg ? LLONG_MIN : LLONG_MAX) : v;
	const char *s = arena_strndup(a, sb.buf, sb.len);
	strbuf_release(&sb);
	return s;
}

static int digit_value(int c)
{
	if (is_digit(c))
		return c - '0';
	c = lower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : 99;
}

/* Ruby's Integer(s) for what INTEGER_LEGACY let through, separators already deleted. */
static int int_value(struct arena *a, struct ynode *n, const char *s, struct err *err)
{
	const char *p = s;
	bool neg = *p == '-';
	if (*p == '-' || *p == '+')
		p++;
	unsigned base = 10;
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'b')) {
		base = p[1] == 'x' ? 16 : 2;
		p += 2;
	} else if (p[0] == '0' && p[1]) {
		base = 8;
		p++;
	}
	if (!*p)
		return err_at(err, n->loc, "invalid value for Integer(): \"%s\"", s);
	n->kind = YNODE_INT;
	if (base == 10) {
		/* already canonical (INTEGER_LEGACY allows no leading zeros): no conversion */
		bool zero = strcmp(p, "0") == 0;
		n->str = arena_printf(a, "%s%s", neg && !zero ? "-" : "", p);
		errno = 0;
		n->v.i = strtoll(n->str, NULL, 10);
		return 0;
	}
	if (strlen(p) > MAX_RADIX_DIGITS)
		return err_at(err, n->loc, "integer literal too long: %zu digits", strlen(p));
	struct bignum b = {0};
	for (; *p; p++)
		big_mul_add(&b, base, (uint32_t)digit_value((unsigned char)*p));
	n->str = big_to_s(a, &b, neg, &n->v.i);
	free(b.limb);
	return 0;
}

/* Ruby String#to_i of a decimal part: digits with single underscores between them. */
static void to_i_digits(const char *s, size_t len, struct bignum *b, bool *neg)
{
	size_t i = 0;
	*neg = false;
	if (i < len && (s[i] == '-' || s[i] == '+'))
		*neg = s[i++] == '-';
	for (; i < len; i++) {
		if (is_digit((unsigned char)s[i]))
			big_mul_add(b, 10, (uint32_t)(s[i] - '0'));
		else if (!(s[i] == '_' && i > 0 && is_digit((unsigned char)s[i - 1]) &&
		           i + 1 < len && is_digit((unsigned char)s[i + 1])))
			break;
	}
}

/* Psych: i += part.to_i * 60 ** (index - 2).abs, so `1:30` is 1*3600 + 30*60. */
static int sexagesimal_int(struct arena *a, struct ynode *n, const char *s, size_t len,
                           struct err *err)
{
	const char *colon = memchr(s, ':', len);
	if ((size_t)(colon - s) > MAX_RADIX_DIGITS)
		return err_at(err, n->loc, "integer literal too long: %zu digits",
		              (size_t)(colon - s));
	struct bignum first = {0};
	bool neg;
	to_i_digits(s, (size_t)(colon - s), &first, &neg);
	uint32_t rest = 0; /* value of the later parts, at most 59*60+59 */
	size_t parts = 1;
	const char *p = colon;
	while (p && p < s + len) {
		const char *q = p + 1;
		const char *next = memchr(q, ':', (size_t)(s + len - q));
		uint32_t v = 0;
		for (const char *r = q; r < (next ? next : s + len); r++)
			v = v * 10 + (uint32_t)(*r - '0');
		rest = rest * 60 + v;
		parts++;
		p = next;
	}
	if (parts == 2)
		rest *= 60;
	big_mul_add(&first, 3600, 0);
	if (neg && !big_is_zero(&first)) {
		big_sub(&first, rest);
	} else {
		big_mul_add(&first, 1, rest);
		neg = false;
	}
	n->kind = YNODE_INT;
	n->str = big_to_s(a, &first, neg, &n->v.i);
	free(first.limb);
	return 0;
}

/* Ruby String#to_f: leading number, underscores between digits allowed. */
static double ruby_to_f(const char *s, size_t len)
{
	char *tmp = xmalloc(len + 1);
	size_t k = 0;
	for (size_t i = 0; i < len; i++)
		if (s[i] != '_')
			tmp[k++] = s[i];
	tmp[k] = '\0';
	double d = strtod(tmp, NULL);
	free(tmp);
	return d;
}

static void set_float(struct arena *a, struct ynode *n, double d)
{
	char buf[40];
	n->kind = YNODE_FLOAT;
	n->v.f = d;
	yfloat_to_s(d, buf, sizeof(buf));
	n->str = arena_strdup(a, buf);
}

static void sexagesimal_float(struct arena *a, struct ynode *n, const char *s, size_t len)
{
	double sum = 0;
	size_t start = 0, idx = 0;
	for (size_t i = 0; i <= len; i++) {
		if (i < len && s[i] != ':')
			continue;
		/* 60 ** (index - 2).abs */
		double scale = idx == 0 ? 3600 : idx == 1 ? 60 : 1;
		sum += ruby_to_f(s + start, i - start) * scale;
		idx++;
		start = i + 1;
	}
	set_float(a, n, sum);
}

/* Ruby Float() of a string: optional sign, digits and/or '.' digits, optional exponent. */
static int ruby_float(const char *t, double *ret, struct srcloc loc, struct err *err)
{
	const char *p = t;
	if (*p == '+' || *p == '-')
		p++;
	bool ok = is_digit((unsigned char)*p) || (*p == '.' && is_digit((unsigned char)p[1]));
	char *end = NULL;
	double d = ok ? strtod(t, &end) : 0;
	if (!ok || !end || *end || strpbrk(t, "xXpPnNiI"))
		return err_at(err, loc, "invalid value for Float(): \"%s\"", t);
	*ret = d;
	return 0;
}

/* Psych FLOAT branch: Float(string.delete(',_').gsub(/\.([Ee]|$)/, '\1')). */
static int float_value(struct arena *a, struct ynode *n, const char *s, size_t len, struct err *err)
{
	char *t = xmalloc(len + 1);
	size_t k = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == ',' || s[i] == '_')
			continue;
		if (s[i] == '.' && (i + 1 == len || s[i + 1] == 'e' || s[i + 1] == 'E'))
			continue;
		t[k++] = s[i];
	}
	t[k] = '\0';
	double d = 0;
	int r = ruby_float(t, &d, n->loc, err);
	free(t);
	if (r < 0)
		return -1;
	set_float(a, n, d);
	return 0;
}

/* :sym -> Symbol; Symbol#to_s drops the colon (and the quotes of :"sym"). */
static void symbol_value(struct arena *a, struct ynode *n, const char *s, size_t len)
{
	const char *body = s + 1;
	size_t blen = len - 1;
	if (blen >= 2 && (body[0] == '"' || body[0] == '\'')) {
		const char *close = NULL;
		for (const char *p = s + len - 1; p > body; p--)
			if (*p == body[0]) {
				close = p;
				break;
			}
		if (close) {
			blen = (size_t)(close - body - 1);
			body++;
			if (blen && body[0] == ':') {
				body++;
				blen--;
			}
		}
	}
	n->kind = YNODE_STRING;
	n->str = arena_strndup(a, body, blen);
}

static int tokenize(struct arena *a, struct ynode *n, const char *s, size_t len, struct err *err)
{
	enum yscalar_class c = yscalar_classify(s, len);
	switch (c) {
	case YSC_STRING:
		n->kind = YNODE_STRING;
		n->str = arena_strndup(a, s, len);
		return 0;
	case YSC_NULL:
		n->kind = YNODE_NULL;
		n->str = "";
		return 0;
	case YSC_TRUE:
	case YSC_FALSE:
		n->kind = YNODE_BOOL;
		n->v.b = c == YSC_TRUE;
		n->str = n->v.b ? "true" : "false";
		return 0;
	case YSC_INT: {
		char *t = xmalloc(len + 1);
		size_t k = 0;
		for (size_t i = 0; i < len; i++)
			if (s[i] != ',' && s[i] != '_')
				t[k++] = s[i];
		t[k] = '\0';
		int r = int_value(a, n, t, err);
		free(t);
		return r;
	}
	case YSC_FLOAT:
		return float_value(a, n, s, len, err);
	case YSC_INF:
	case YSC_NINF:
		set_float(a, n, c == YSC_INF ? INFINITY : -INFINITY);
		return 0;
	case YSC_NAN:
		set_float(a, n, NAN);
		return 0;
	case YSC_SYMBOL:
		symbol_value(a, n, s, len);
		return 0;
	case YSC_SEXAGESIMAL:
		return sexagesimal_int(a, n, s, len, err);
	case YSC_SEXA_FLOAT:
		sexagesimal_float(a, n, s, len);
		return 0;
	case YSC_TIME:
		return err_at(err, n->loc, "tried to load unspecified class: Time");
	case YSC_DATE:
		return err_at(err, n->loc, "tried to load unspecified class: Date");
	}
	return 0;
}

/* `!!float x`: Float(tokenize(x)). */
static int to_float(struct arena *a, struct ynode *n, const char *s, size_t len, struct err *err)
{
	if (tokenize(a, n, s, len, err) < 0)
		return -1;
	switch (n->kind) {
	case YNODE_FLOAT:
		return 0;
	case YNODE_INT:
		set_float(a, n, strtod(n->str, NULL));
		return 0;
	case YNODE_STRING: {
		double d = 0;
		if (ruby_float(n->str, &d, n->loc, err) < 0)
			return -1;
		set_float(a, n, d);
		return 0;
	}
	default:
		return err_at(err, n->loc, "can't convert %s into Float",
		              n->kind == YNODE_NULL ? "nil" : n->str);
	}
}

static bool tag_is(const char *tag, const char *local, const char *global)
{
	return strcmp(tag, local) == 0 || strcmp(tag, global) == 0;
}

int yscalar_resolve(struct arena *a, struct ynode *n, const char *s, size_t len, bool quoted,
                    const char *tag, struct err *err)
{
	n->tag = NULL;
	if (tag && strncmp(tag, "tag:yaml.org,2002:", 18) != 0)
		n->tag = arena_strdup(a, tag);
	/* GitLab registers !reference: Psych hands it the raw scalar (an invalid reference). */
	if (quoted || ytag_is_reference(tag)) {
		n->kind = YNODE_STRING;
		n->str = arena_strndup(a, s, len);
		return 0;
	}
	if (!tag)
		return tokenize(a, n, s, len, err);
	if (tag_is(tag, "!str", "tag:yaml.org,2002:str") ||
	    tag_is(tag, "!binary", "tag:yaml.org,2002:binary")) {
		/* !!binary stays its base64 text: decoded bytes need not be text at all */
		n->tag = NULL;
		n->kind = YNODE_STRING;
		n->str = arena_strndup(a, s, len);
		return 0;
	}
	if (tag_is(tag, "!float", "tag:yaml.org,2002:float")) {
		n->tag = NULL;
		return to_float(a, n, s, len, err);
	}
	return tokenize(a, n, s, len, err);
}
