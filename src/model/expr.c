/* The rules:if expression language as GitLab evaluates it (spec: expressions.md; GitLab's
 * lib/gitlab/ci/pipeline/expression/). Three stages, each mirroring GitLab's structure so
 * that corner cases come out the same:
 *  - the lexer tries GitLab's lexemes in GitLab's order at each position (whitespace is
 *    skipped between tokens) and, like GitLab's loop, gives up at the 100th token;
 *  - the parser is GitLab's shunting-yard with its precedence numbers (lower binds tighter,
 *    equal pops: left associative) and its checks (missing operands, unmatched parentheses,
 *    more than one root);
 *  - evaluation has Ruby semantics (nil, strings, booleans, regexes; only nil and false are
 *    falsy inside && and ||) and the final answer is Rails' present?.
 * Regexes are RE2 in GitLab. We run them with pcre2 after a pass that rejects what RE2 would
 * reject (backreferences, look-around, possessive quantifiers, ...) and rewrites the few
 * escapes whose meaning differs, so that a pattern means the same thing in both engines. */
#include "model/expr.h"

#include <assert.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "model/job.h"
#include "model/vars.h"
#include "util/cleanup.h"
#include "util/strbuf.h"
#include "util/strmap.h"
#include "util/xalloc.h"

/* GitLab's Lexer::MAX_TOKENS. Its loop runs that many times and raises when it has not seen
 * the end by then, so an expression may hold at most MAX_TOKENS - 1 tokens. */
#define MAX_TOKENS 100

/* RE2 rejects counted repetitions above this. */
#define RE2_MAX_REPEAT 1000

/* Backtracking budget per match: RE2 is linear-time, pcre2 is not, so a pathological pattern
 * must not hang the planner. Hitting it makes the whole clause false. */
#define MATCH_LIMIT 1000000u

/* ---- regexes ------------------------------------------------------------------------------ */

struct expr_regex {
	pcre2_code *code;
	char *source; /* "(?flags)body" as GitLab's RE2 object would report it, for == */
	char *key;    /* "flags/body" in regex_cache, owned; NULL when not shared */
	unsigned refs;
};

/* ---- shared parse results --------------------------------------------------------------------
 * A pipeline repeats the same rules:if text in every job that extends one template, and the
 * same regex in many expressions; compiling each copy was a third of `runnel list` on large
 * pipelines. Compiled regexes and parsed expressions are therefore shared: both are immutable
 * once built, looked up by their text, reference-counted, and dropped from the table when the
 * last owner frees them (so nothing outlives its users). The lock makes sharing safe should
 * several threads parse at once. */
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct strmap regex_cache; /* key -> struct expr_regex */
static struct strmap expr_cache;  /* text -> struct expr */

/* Takes a reference to the entry under key, or returns NULL. */
static void *cache_get(struct strmap *m, const char *key, unsigned *(*refs)(void *))
{
	pthread_mutex_lock(&cache_lock);
	void *v = strmap_get(m, key);
	if (v)
		(*refs(v))++;
	pthread_mutex_unlock(&cache_lock);
	return v;
}

/* Publishes v under key (owned by v) unless another thread did it first: then returns that
 * entry, with a reference taken, and v is left to the caller to free. */
static void *cache_put(struct strmap *m, const char *key, void *v, unsigned *(*refs)(void *))
{
	pthread_mutex_lock(&cache_lock);
	void *old = strmap_get(m, key);
	if (old)
		(*refs(old))++;
	else
		strmap_put(m, key, v);
	pthread_mutex_unlock(&cache_lock);
	return old ? old : v;
}

/* Drops a reference; true when it was the last, after removing the entry from the table. */
static bool cache_unref(struct strmap *m, const char *key, unsigned *refs)
{
	pthread_mutex_lock(&cache_lock);
	bool last = --*refs == 0;
	if (last) {
		strmap_del(m, key);
		if (m->n == 0)
			strmap_release(m); /* an idle process holds no table */
	}
	pthread_mutex_unlock(&cache_lock);
	return last;
}

static unsigned *regex_refs(void *v)
{
	return &((struct expr_regex *)v)->refs;
}

static pcre2_code *lexeme_pattern;
static pcre2_match_context *match_ctx;
static pthread_once_t regex_once = PTHREAD_ONCE_INIT;

/* GitLab's Lexeme::Pattern::PATTERN. Its exact backtracking decides where a regex literal
 * ends (e.g. in `/a//`), so we run the same pattern rather than re-deriving it by hand. */
static void regex_init(void)
{
	static const char pat[] = "/(?:[^/]|\\\\/)+[^\\\\]/[ismU]*";
	int errcode;
	PCRE2_SIZE erroff;

	lexeme_pattern =
	    pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED,
	                  PCRE2_UTF | PCRE2_MATCH_INVALID_UTF, &errcode, &erroff, NULL);
	match_ctx = pcre2_match_context_create(NULL);
	if (!lexeme_pattern || !match_ctx)
		abort();
	pcre2_set_match_limit(match_ctx, MATCH_LIMIT);
	pcre2_set_depth_limit(match_ctx, MATCH_LIMIT / 10);
}

static bool is_word(unsigned char c)
{
	return c == '_' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	       (c >= 'A' && c <= 'Z');
}

static bool is_octal(char c)
{
	return c >= '0' && c <= '7';
}

static bool is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* State of the RE2 check, for the repetition rules. */
enum re_prev {
	RP_NONE,  /* start, after '(' or '|' or a flag group: nothing to repeat */
	RP_ATOM,  /* something repeatable */
	RP_QUANT, /* a quantifier: only a single lazy '?' may follow */
	RP_LAZY,  /* quantifier + '?': nothing may follow */
};

struct re_scan {
	const char *p;
	size_t n, i;
	enum re_prev prev;
	struct strbuf *out;
};

static unsigned hex_value(char c)
{
	return c <= '9' ? (unsigned)(c - '0') : (unsigned)((c | 0x20) - 'a' + 10);
}

/* \x escapes: RE2 takes exactly two hex digits or {hex+} up to U+10FFFF. */
static int re_hex_escape(struct re_scan *s)
{
	const char *p = s->p;
	size_t i = s->i + 2;

	if (i < s->n && p[i] == '{') {
		size_t j = i + 1;
		unsigned long v = 0;
		while (j < s->n && is_hex(p[j]) && v <= 0x10FFFF)
			v = v * 16 + hex_value(p[j++]);
		if (j == i + 1 || j >= s->n || p[j] != '}' || v > 0x10FFFF)
			return -1;
		strbuf_add(s->out, p + s->i, j + 1 - s->i);
		s->i = j + 1;
		return 0;
	}
	if (i + 1 >= s->n || !is_hex(p[i]) || !is_hex(p[i + 1]))
		return -1;
	strbuf_add(s->out, p + s->i, 4);
	s->i += 4;
	return 0;
}

/* RE2 reads \1-\7 followed by an octal digit (and \0) as octal codes of up to three digits
 * and rejects a lone \1-\9 (a backreference). pcre2 would read them as backreferences, so we
 * hand it an explicit code point. */
static int re_octal_escape(struct re_scan *s)
{
	const char *p = s->p;
	size_t i = s->i + 1;
	unsigned v = (unsigned)(p[i] - '0');

	if (p[i] != '0' && (i + 1 >= s->n || !is_octal(p[i + 1])))
		return -1;
	i++;
	for (int k = 0; k < 2 && i < s->n && is_octal(p[i]); k++, i++)
		v = v * 8 + (unsigned)(p[i] - '0');
	strbuf_addf(s->out, "\\x{%x}", v);
	s->i = i;
	return 0;
}

/* One backslash escape (s->i at the backslash). in_class: inside [...], where RE2 accepts
 * fewer escapes (no \b \B \A \z \C). */
static int re_escape(struct re_scan *s, bool in_class)
{
	const char *p = s->p;
	char c;

	if (s->i + 1 >= s->n)
		return -1; /* trailing backslash */
	c = p[s->i + 1];
	if (c >= '0' && c <= '7')
		return re_octal_escape(s);
	if (c == 'x')
		return re_hex_escape(s);
	if (c == 'v') { /* RE2: vertical tab; pcre2: any vertical space */
		strbuf_addstr(s->out, "\\x{b}");
		s->i += 2;
		return 0;
	}
	if (c == 's' || c == 'S') { /* RE2's \s has no \v, pcre2's has */
		if (in_class && c == 'S')
			strbuf_addstr(s->out, "\\S");
		else
			strbuf_addstr(s->out, c == 's'
			                          ? (in_class ? "\\t\\n\\f\\r " : "[\\t\\n\\f\\r ]")
			                          : "[^\\t\\n\\f\\r ]");
		s->i += 2;
		return 0;
	}
	if ((unsigned char)c >= 0x80)
		return -1;
	if (is_word((unsigned char)c) && !strchr(in_class ? "afnrtdDwWpP" : "afnrtdDwWpPbBAzC", c))
		return -1; /* \Z \G \K \R \X \h \k \g \e \c \N \1 ... are not RE2 */
	strbuf_add(s->out, p + s->i, 2);
	s->i += 2;
	return 0;
}

/* \Q...\E: literal text, copied as is (both engines agree). */
static void re_quote(struct re_scan *s)
{
	const char *end = memmem(s->p + s->i + 2, s->n - s->i - 2, "\\E", 2);
	size_t stop = end ? (size_t)(end - s->p) + 2 : s->n;

	if (stop > s->i + (end ? 4 : 2))
		s->prev = RP_ATOM;
	strbuf_add(s->out, s->p + s->i, stop - s->i);
	if (!end)
		strbuf_addstr(s->out, "\\E");
	s->i = stop;
}

/* A bracket expression (s->i at '['). */
static int re_class(struct re_scan *s)
{
	const char *p = s->p;

	strbuf_addch(s->out, '[');
	s->i++;
	if (s->i < s->n && p[s->i] == '^')
		strbuf_addch(s->out, p[s->i++]);
	if (s->i < s->n && p[s->i] == ']') /* a leading ']' is literal */
		strbuf_addch(s->out, p[s->i++]);
	while (s->i < s->n && p[s->i] != ']') {
		if (p[s->i] == '\\') {
			if (re_escape(s, true) < 0)
				return -1;
			continue;
		}
		if (p[s->i] == '[' && s->i + 1 < s->n && p[s->i + 1] == ':') {
			const char *end = memmem(p + s->i + 2, s->n - s->i - 2, ":]", 2);
			if (end) {
				size_t stop = (size_t)(end - p) + 2;
				strbuf_add(s->out, p + s->i, stop - s->i);
				s->i = stop;
				continue;
			}
		}
		strbuf_addch(s->out, p[s->i++]);
	}
	if (s->i >= s->n)
		return -1; /* missing ']' */
	strbuf_addch(s->out, p[s->i++]);
	s->prev = RP_ATOM;
	return 0;
}

/* "(?flags)" or "(?flags:" with RE2's flags i m s U and one optional '-'. */
static int re_flag_group(struct re_scan *s)
{
	const char *p = s->p;
	size_t j = s->i + 2;
	bool neg = false, any = false;

	for (; j < s->n && p[j] != ')' && p[j] != ':'; j++) {
		if (p[j] == '-') {
			if (neg)
				return -1;
			neg = true;
			any = false; /* "(?i-)" is invalid too */
		} else if (strchr("imsU", p[j])) {
			any = true;
		} else {
			return -1;
		}
	}
	if (j >= s->n || !any)
		return -1;
	strbuf_add(s->out, p + s->i, j + 1 - s->i);
	s->prev = RP_NONE; /* RE2: a flag group is nothing to repeat */
	s->i = j + 1;
	return 0;
}

/* "(" and its extension syntax: RE2 knows (?:, (?P<name>, (?<name> and flag groups only. */
static int re_group(struct re_scan *s)
{
	const char *p = s->p;
	size_t j;

	s->prev = RP_NONE;
	if (s->i + 1 < s->n && p[s->i + 1] == '*')
		return -1; /* pcre2 verbs such as (*UTF) */
	if (s->i + 1 >= s->n || p[s->i + 1] != '?') {
		strbuf_addch(s->out, p[s->i++]);
		return 0;
	}
	if (s->i + 2 < s->n && p[s->i + 2] == ':') {
		strbuf_addstr(s->out, "(?:");
		s->i += 3;
		return 0;
	}
	j = s->i + 2;
	if (j < s->n && p[j] == 'P')
		j++;
	if (j < s->n && p[j] == '<') {
		size_t k = j + 1;
		while (k < s->n && is_word((unsigned char)p[k]))
			k++;
		if (k == j + 1 || k >= s->n || p[k] != '>')
			return -1; /* look-behind, or a bad name */
		strbuf_add(s->out, p + s->i, k + 1 - s->i);
		s->i = k + 1;
		return 0;
	}
	return re_flag_group(s);
}

/* Parses "{n}", "{n,}" or "{n,m}" at s->i; returns its length or 0 when it is a literal. */
static size_t re_counted(const struct re_scan *s, int *ret_min, int *ret_max)
{
	const char *p = s->p;
	size_t j = s->i + 1;
	long lo = 0, hi;

	if (j >= s->n || p[j] < '0' || p[j] > '9')
		return 0;
	while (j < s->n && p[j] >= '0' && p[j] <= '9' && lo <= 100000)
		lo = lo * 10 + (p[j++] - '0');
	hi = lo;
	if (j < s->n && p[j] == ',') {
		j++;
		hi = -1;
		if (j < s->n && p[j] >= '0' && p[j] <= '9')
			hi = 0;
		while (j < s->n && p[j] >= '0' && p[j] <= '9' && hi <= 100000)
			hi = hi * 10 + (p[j++] - '0');
	}
	if (j >= s->n || p[j] != '}')
		return 0;
	*ret_min = (int)lo;
	*ret_max = (int)hi;
	return j + 1 - s->i;
}

/* * + ? and {n,m}: RE2 wants something to repeat, allows one lazy '?', nothing possessive. */
static int re_quantifier(struct re_scan *s, size_t len)
{
	char c = s->p[s->i];

	if (s->prev == RP_QUANT && c == '?' && len == 1) {
		s->prev = RP_LAZY;
	} else if (s->prev != RP_ATOM) {
		return -1;
	} else {
		s->prev = RP_QUANT;
	}
	strbuf_add(s->out, s->p + s->i, len);
	s->i += len;
	return 0;
}

static int re_step(struct re_scan *s)
{
	char c = s->p[s->i];
	int lo, hi;
	size_t len;

	switch (c) {
	case '\\':
		if (s->i + 1 < s->n && s->p[s->i + 1] == 'Q') {
			re_quote(s);
			return 0;
		}
		s->prev = RP_ATOM;
		return re_escape(s, false);
	case '[':
		return re_class(s);
	case '(':
		return re_group(s);
	case '|':
		s->prev = RP_NONE;
		break;
	case '*':
	case '+':
	case '?':
		return re_quantifier(s, 1);
	case '{':
		len = re_counted(s, &lo, &hi);
		if (len == 0)
			break; /* a literal '{' */
		if (lo > RE2_MAX_REPEAT || hi > RE2_MAX_REPEAT || (hi >= 0 && hi < lo))
			return -1;
		return re_quantifier(s, len);
	default:
		s->prev = RP_ATOM;
		break;
	}
	if (c == '{')
		s->prev = RP_ATOM;
	strbuf_addch(s->out, c);
	s->i++;
	return 0;
}

/* Appends to out a pcre2 pattern meaning what `p` means to RE2; -1 if RE2 rejects `p`. */
static int re2_translate(const char *p, size_t n, struct strbuf *out)
{
	struct re_scan s = {.p = p, .n = n, .i = 0, .prev = RP_NONE, .out = out};

	while (s.i < n) {
		if (re_step(&s) < 0)
			return -1;
	}
	return 0;
}

static bool utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	while (i < n) {
		unsigned char c = p[i];
		size_t len = c < 0x80             ? 1
		             : (c & 0xE0) == 0xC0 ? 2
		             : (c & 0xF0) == 0xE0 ? 3
		             : (c & 0xF8) == 0xF0 ? 4
		                                  : 0;
		uint32_t cp;
		if (len == 0 || i + len > n)
			return false;
		cp = len == 1 ? c : (uint32_t)(c & (0x7F >> len));
		for (size_t k = 1; k < len; k++) {
			if ((p[i + k] & 0xC0) != 0x80)
				return false;
			cp = (cp << 6) | (p[i + k] & 0x3F);
		}
		if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
		    (len == 4 && cp < 0x10000) || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return false;
		i += len;
	}
	return true;
}

static struct expr_regex *regex_build(const char *body, size_t len, const char *flags)
{
	_cleanup_(strbuf_release) struct strbuf pat = STRBUF_INIT;
	uint32_t opts = PCRE2_UTF | PCRE2_MATCH_INVALID_UTF | PCRE2_DOLLAR_ENDONLY;
	pcre2_compile_context *cctx;
	pcre2_code *code;
	int errcode;
	PCRE2_SIZE erroff;
	struct expr_regex *re;

	pthread_once(&regex_once, regex_init);
	/* RE2 works on UTF-8 text and rejects a pattern that is not */
	if (!utf8_valid(body, len) || re2_translate(body, len, &pat) < 0)
		return NULL;
	for (const char *f = flags; *f; f++)
		opts |= *f == 'i'   ? PCRE2_CASELESS
		        : *f == 'm' ? PCRE2_MULTILINE
		        : *f == 's' ? PCRE2_DOTALL
		        : *f == 'U' ? PCRE2_UNGREEDY
		                    : 0;
	cctx = pcre2_compile_context_create(NULL);
	if (!cctx)
		abort();
	pcre2_set_newline(cctx, PCRE2_NEWLINE_LF); /* RE2 knows only \n */
	code = pcre2_compile((PCRE2_SPTR)pat.buf, pat.len, opts, &errcode, &erroff, cctx);
	pcre2_compile_context_free(cctx);
	if (!code)
		return NULL;
	re = xcalloc(1, sizeof(*re));
	re->code = code;
	re->source = *flags ? xasprintf("(?%s)%.*s", flags, (int)len, body) : xstrndup(body, len);
	re->refs = 1;
	return re;
}

static void regex_destroy(struct expr_regex *re)
{
	pcre2_code_free(re->code);
	free(re->source);
	free(re->key);
	free(re);
}

struct expr_regex *expr_regex_compile(const char *body, size_t len, const char *flags)
{
	_cleanup_(strbuf_release) struct strbuf key = STRBUF_INIT;
	struct expr_regex *re, *shared;

	/* the key is "flags/body": flags never hold '/'; a body with a NUL is not shared */
	if (memchr(body, '\0', len))
		return regex_build(body, len, flags);
	strbuf_addstr(&key, flags);
	strbuf_addch(&key, '/');
	strbuf_add(&key, body, len);
	re = cache_get(&regex_cache, key.buf, regex_refs);
	if (re)
		return re;
	re = regex_build(body, len, flags);
	if (!re)
		return NULL;
	re->key = strbuf_detach(&key, NULL);
	shared = cache_put(&regex_cache, re->key, re, regex_refs);
	if (shared != re)
		regex_destroy(re);
	return shared;
}

/* Finds GitLab's Ruby-syntax form %r{^/(?<regexp>.*)/(?<flags>[ismU]*)$} in s. Ruby's ^ and $
 * are line anchors and '.' stops at newlines, so the first line of that shape counts. The
 * greedy body ends at the '/' just before the trailing run of flag letters. */
static bool ruby_syntax_find(const char *s, size_t n, size_t *ret_body, size_t *ret_len,
                             size_t *ret_flags, size_t *ret_flags_len)
{
	size_t start = 0;

	for (;;) {
		const char *nl = memchr(s + start, '\n', n - start);
		size_t end = nl ? (size_t)(nl - s) : n, j = end;

		while (j > start && s[j - 1] && strchr("ismU", s[j - 1]))
			j--;
		/* j - 1 is now the candidate closing '/' */
		if (s[start] == '/' && j >= start + 2 && s[j - 1] == '/') {
			*ret_body = start + 1;
			*ret_len = j - 2 - start;
			*ret_flags = j;
			*ret_flags_len = end - j;
			return true;
		}
		if (!nl)
			return false;
		start = end + 1;
	}
}

struct expr_regex *expr_regex_from_ruby(const char *s)
{
	_cleanup_(strbuf_release) struct strbuf v = STRBUF_INIT;
	size_t body, len, fl, fl_len;
	char flags[8] = "";

	/* GitLab first turns every \/ into / (Lexeme::Pattern#initialize) */
	for (const char *p = s; *p; p++) {
		if (p[0] == '\\' && p[1] == '/')
			p++;
		strbuf_addch(&v, *p);
	}
	if (!ruby_syntax_find(v.buf, v.len, &body, &len, &fl, &fl_len))
		return NULL;
	/* RE2 accepts repeated flags; keep one of each */
	for (size_t i = 0; i < fl_len; i++) {
		if (!strchr(flags, v.buf[fl + i]))
			flags[strlen(flags)] = v.buf[fl + i];
	}
	return expr_regex_compile(v.buf + body, len, flags);
}

int expr_regex_search(const struct expr_regex *re, const char *text, size_t len)
{
	pcre2_match_data *md;
	int rc;

	pthread_once(&regex_once, regex_init);
	md = pcre2_match_data_create(1, NULL);
	if (!md)
		abort();
	rc = pcre2_match(re->code, (PCRE2_SPTR)text, len, 0, 0, md, match_ctx);
	pcre2_match_data_free(md);
	if (rc >= 0)
		return 1;
	return rc == PCRE2_ERROR_NOMATCH ? 0 : -1;
}

void expr_regex_free(struct expr_regex *re)
{
	if (!re)
		return;
	if (re->key && !cache_unref(&regex_cache, re->key, &re->refs))
		return;
	regex_destroy(re);
}

/* ---- lexer -------------------------------------------------------------------------------- */

enum tok {
	TOK_LPAREN,
	TOK_RPAREN,
	TOK_INPUT,
	TOK_VAR,
	TOK_STRING,
	TOK_REGEX,
	TOK_NULL,
	TOK_BOOL,
	TOK_EQ,
	TOK_MATCH,
	TOK_NE,
	TOK_NMATCH,
	TOK_AND,
	TOK_OR,
	TOK_NOT,
};

struct token {
	enum tok kind;
	size_t off, len;         /* the lexeme in the text */
	size_t val_off, val_len; /* its payload: variable/input name, string contents */
};

struct lexer {
	const char *s;
	size_t n, pos;
	struct srcloc loc;
	struct token tok[MAX_TOKENS];
	size_t ntok;
};

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

/* $[[ inputs.NAME ]] */
static size_t scan_input(const char *s, size_t n, size_t *ret_off, size_t *ret_len)
{
	size_t i = 3, start;

	if (n < 3 || memcmp(s, "$[[", 3) != 0)
		return 0;
	while (i < n && is_space(s[i]))
		i++;
	if (n - i < 7 || memcmp(s + i, "inputs.", 7) != 0)
		return 0;
	i += 7;
	start = i;
	while (i < n && (is_word((unsigned char)s[i]) || s[i] == '-'))
		i++;
	if (i == start)
		return 0;
	*ret_off = start;
	*ret_len = i - start;
	while (i < n && is_space(s[i]))
		i++;
	if (n - i < 2 || memcmp(s + i, "]]", 2) != 0)
		return 0;
	return i + 2;
}

static size_t scan_var(const char *s, size_t n, size_t *ret_off, size_t *ret_len)
{
	size_t i = 1;

	if (s[0] != '$')
		return 0;
	while (i < n && is_word((unsigned char)s[i]))
		i++;
	*ret_off = 1;
	*ret_len = i - 1;
	return i > 1 ? i : 0;
}

/* "..." or '...': the shortest match, on one line (Ruby's '.' does not match \n). */
static size_t scan_string(const char *s, size_t n, size_t *ret_off, size_t *ret_len)
{
	if (s[0] != '"' && s[0] != '\'')
		return 0;
	for (size_t i = 1; i < n; i++) {
		if (s[i] == '\n')
			return 0;
		if (s[i] == s[0]) {
			*ret_off = 1;
			*ret_len = i - 1;
			return i + 1;
		}
	}
	return 0;
}

static size_t scan_regex(const char *s, size_t n)
{
	pcre2_match_data *md;
	size_t len = 0;

	if (s[0] != '/')
		return 0;
	pthread_once(&regex_once, regex_init);
	md = pcre2_match_data_create(1, NULL);
	if (!md)
		abort();
	if (pcre2_match(lexeme_pattern, (PCRE2_SPTR)s, n, 0, PCRE2_ANCHORED, md, match_ctx) > 0)
		len = pcre2_get_ovector_pointer(md)[1];
	pcre2_match_data_free(md);
	return len;
}

static bool has_prefix(const char *s, size_t n, const char *w)
{
	size_t wl = strlen(w);
	return n >= wl && memcmp(s, w, wl) == 0;
}

/* true/false with Ruby's \b after them. */
static size_t scan_bool(const char *s, size_t n)
{
	size_t len = has_prefix(s, n, "true") ? 4 : has_prefix(s, n, "false") ? 5 : 0;

	if (len == 0 || (len < n && is_word((unsigned char)s[len])))
		return 0;
	return len;
}

static size_t scan_operator(const char *s, size_t n, enum tok *ret_kind)
{
	static const struct {
		const char *text;
		enum tok kind;
	} ops[] = {
	    {"==", TOK_EQ},  {"=~", TOK_MATCH}, {"!=", TOK_NE}, {"!~", TOK_NMATCH},
	    {"&&", TOK_AND}, {"||", TOK_OR},    {"!", TOK_NOT},
	};

	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		if (has_prefix(s, n, ops[i].text)) {
			*ret_kind = ops[i].kind;
			return strlen(ops[i].text);
		}
	}
	return 0;
}

/* Tries GitLab's lexemes in its order at the current position. Returns the length or 0. */
static size_t scan_one(const char *s, size_t n, struct token *t)
{
	size_t len;

	t->val_off = t->val_len = 0;
	if (s[0] == '(' || s[0] == ')') {
		t->kind = s[0] == '(' ? TOK_LPAREN : TOK_RPAREN;
		return 1;
	}
	if ((len = scan_input(s, n, &t->val_off, &t->val_len))) {
		t->kind = TOK_INPUT;
	} else if ((len = scan_var(s, n, &t->val_off, &t->val_len))) {
		t->kind = TOK_VAR;
	} else if ((len = scan_string(s, n, &t->val_off, &t->val_len))) {
		t->kind = TOK_STRING;
	} else if ((len = scan_regex(s, n))) {
		t->kind = TOK_REGEX;
	} else if (has_prefix(s, n, "null")) {
		t->kind = TOK_NULL;
		len = 4;
	} else if ((len = scan_bool(s, n))) {
		t->kind = TOK_BOOL;
	} else {
		len = scan_operator(s, n, &t->kind);
	}
	return len;
}

/* 1-based column (in characters) of byte offset off, counted over the whole text. */
static unsigned column_of(const char *s, size_t off)
{
	unsigned col = 1;

	for (size_t i = 0; i < off; i++)
		col += ((unsigned char)s[i] & 0xC0) != 0x80;
	return col;
}

/* Location of byte offset off, shifted from the expression's own location. */
static struct srcloc loc_of(const struct lexer *lx, size_t off)
{
	struct srcloc l = lx->loc;
	size_t line_start = 0;
	bool multiline = false;

	for (size_t i = 0; i < off; i++) {
		if (lx->s[i] == '\n') {
			l.line++;
			line_start = i + 1;
			multiline = true;
		}
	}
	l.col = (multiline ? 1 : lx->loc.col) + column_of(lx->s + line_start, off - line_start) - 1;
	return l;
}

static int syntax_error(const struct lexer *lx, size_t off, const char *what, struct err *err)
{
	return err_at(err, loc_of(lx, off), "invalid expression syntax: %s at column %u", what,
	              column_of(lx->s, off));
}

static int unknown_lexeme(const struct lexer *lx, struct err *err)
{
	const char *s = lx->s + lx->pos;
	size_t len = 0;

	/* show the rest of the word, cut at a character boundary */
	while (lx->pos + len < lx->n && !is_space(s[len]) && len < 32)
		len++;
	while (lx->pos + len < lx->n && ((unsigned char)s[len] & 0xC0) == 0x80)
		len++;
	return err_at(err, loc_of(lx, lx->pos),
	              "invalid expression syntax: unknown lexeme '%.*s' at column %u", (int)len, s,
	              column_of(lx->s, lx->pos));
}

static int lex(struct lexer *lx, struct err *err)
{
	for (size_t round = 0; round < MAX_TOKENS; round++) {
		struct token *t;
		size_t len;

		while (lx->pos < lx->n && is_space(lx->s[lx->pos]))
			lx->pos++;
		if (lx->pos >= lx->n)
			return 0;
		t = &lx->tok[lx->ntok];
		len = scan_one(lx->s + lx->pos, lx->n - lx->pos, t);
		if (len == 0)
			return unknown_lexeme(lx, err);
		t->off = lx->pos;
		t->len = len;
		t->val_off += lx->pos;
		lx->pos += len;
		lx->ntok++;
	}
	/* GitLab stops after MAX_TOKENS rounds even when the text ends right there */
	return syntax_error(lx, lx->tok[MAX_TOKENS - 1].off, "too many tokens (the limit is 99)",
	                    err);
}

/* ---- parser ------------------------------------------------------------------------------- */

struct enode {
	enum tok kind;         /* a value kind, TOK_NOT, or a binary operator */
	char *str;             /* variable/input name or string contents; owned */
	bool b;                /* TOK_BOOL */
	struct expr_regex *re; /* regex literal, or a string literal of the /body/flags form */
	const struct enode *l, *r;
	size_t start; /* offset of the subtree's first token, for messages */
};

struct expr {
	struct enode *nodes; /* one per token at most; owned */
	size_t n;
	const struct enode *root;
	char *text; /* the source text, key in expr_cache; owned; NULL when not shared */
	unsigned refs;
};

static unsigned *expr_refs(void *v)
{
	return &((struct expr *)v)->refs;
}

enum tok_class { TC_VALUE, TC_UNARY, TC_BINARY, TC_OPEN, TC_CLOSE };

static enum tok_class tok_class(enum tok k)
{
	switch (k) {
	case TOK_LPAREN:
		return TC_OPEN;
	case TOK_RPAREN:
		return TC_CLOSE;
	case TOK_NOT:
		return TC_UNARY;
	case TOK_EQ:
	case TOK_MATCH:
	case TOK_NE:
	case TOK_NMATCH:
	case TOK_AND:
	case TOK_OR:
		return TC_BINARY;
	default:
		return TC_VALUE;
	}
}

/* GitLab's precedence numbers: lower binds tighter. */
static int precedence(enum tok k)
{
	switch (k) {
	case TOK_NOT:
		return 1;
	case TOK_AND:
		return 11;
	case TOK_OR:
		return 12;
	case TOK_RPAREN:
		return 900;
	case TOK_LPAREN:
		return 901;
	default:
		return 10; /* == != =~ !~ */
	}
}

/* Shunting-yard into RPN (indexes into lx->tok), exactly as GitLab's Parser#tokens_rpn. */
static int to_rpn(const struct lexer *lx, size_t *rpn, size_t *ret_n, struct err *err)
{
	size_t ops[MAX_TOKENS], nops = 0, n = 0;

	for (size_t i = 0; i < lx->ntok; i++) {
		enum tok k = lx->tok[i].kind;
		switch (tok_class(k)) {
		case TC_VALUE:
			rpn[n++] = i;
			break;
		case TC_BINARY:
		case TC_CLOSE:
			while (nops > 0 && precedence(k) >= precedence(lx->tok[ops[nops - 1]].kind))
				rpn[n++] = ops[--nops];
			if (k == TOK_RPAREN) {
				if (nops == 0)
					return syntax_error(lx, lx->tok[i].off, "unmatched ')'",
					                    err);
				nops--; /* the '(' */
			} else {
				ops[nops++] = i;
			}
			break;
		case TC_OPEN:
		case TC_UNARY:
			ops[nops++] = i;
			break;
		}
	}
	while (nops > 0)
		rpn[n++] = ops[--nops];
	*ret_n = n;
	return 0;
}

static int build_value(const struct lexer *lx, const struct token *t, struct enode *node,
                       struct err *err)
{
	node->kind = t->kind;
	node->start = t->off;
	switch (t->kind) {
	case TOK_VAR:
	case TOK_INPUT:
		node->str = xstrndup(lx->s + t->val_off, t->val_len);
		break;
	case TOK_STRING:
		node->str = xstrndup(lx->s + t->val_off, t->val_len);
		/* a quoted "/re/" on the right of =~ is compiled: do it once, here */
		node->re = expr_regex_from_ruby(node->str);
		break;
	case TOK_REGEX: {
		_cleanup_free_ char *text = xstrndup(lx->s + t->off, t->len);
		node->re = expr_regex_from_ruby(text);
		if (!node->re)
			return syntax_error(lx, t->off, "invalid regular expression", err);
		break;
	}
	case TOK_BOOL:
		node->b = lx->s[t->off] == 't';
		break;
	default:
		break;
	}
	return 0;
}

static const char *tok_text(enum tok k)
{
	static const char *const names[] = {
	    [TOK_NOT] = "!",     [TOK_EQ] = "==",  [TOK_MATCH] = "=~", [TOK_NE] = "!=",
	    [TOK_NMATCH] = "!~", [TOK_AND] = "&&", [TOK_OR] = "||",    [TOK_LPAREN] = "(",
	};
	return k < sizeof(names) / sizeof(names[0]) && names[k] ? names[k] : "?";
}

static int missing_operand(const struct lexer *lx, const struct token *t, struct err *err)
{
	_cleanup_free_ char *what = xasprintf("missing operand for '%s'", tok_text(t->kind));
	return syntax_error(lx, t->off, what, err);
}

/* Evaluates the RPN into a tree, with GitLab's Parser#tree checks. */
static int build_tree(struct expr *e, const struct lexer *lx, const size_t *rpn, size_t n,
                      struct err *err)
{
	const struct enode *stack[MAX_TOKENS];
	size_t depth = 0;

	for (size_t i = 0; i < n; i++) {
		const struct token *t = &lx->tok[rpn[i]];
		struct enode *node = &e->nodes[e->n++];
		enum tok_class tc = tok_class(t->kind);

		if (tc == TC_OPEN)
			return syntax_error(lx, t->off, "unmatched '('", err);
		if (tc == TC_VALUE) {
			if (build_value(lx, t, node, err) < 0)
				return -1;
			stack[depth++] = node;
			continue;
		}
		node->kind = t->kind;
		if (depth < (tc == TC_UNARY ? 1u : 2u))
			return missing_operand(lx, t, err);
		node->r = stack[--depth];
		node->l = tc == TC_UNARY ? NULL : stack[--depth];
		node->start =
		    node->l && node->l->start < node->r->start ? node->l->start : node->r->start;
		if (t->off < node->start)
			node->start = t->off;
		stack[depth++] = node;
	}
	if (depth == 0)
		return err_at(err, lx->loc, "invalid expression syntax: empty expression");
	if (depth > 1)
		return syntax_error(lx, stack[1]->start, "missing operator", err);
	e->root = stack[0];
	return 0;
}

/* A parsed expression keeps no location (only offsets, for messages raised while parsing), so
 * one parse serves every copy of the same text; failures are not shared: each caller gets its
 * own error at its own location. */
struct expr *expr_parse(const char *text, struct srcloc loc, struct err *err)
{
	struct lexer *lx;
	struct expr *e, *shared;
	size_t rpn[MAX_TOKENS], nrpn = 0;
	int r;

	e = cache_get(&expr_cache, text, expr_refs);
	if (e)
		return e;
	lx = xmalloc(sizeof(*lx));
	lx->pos = lx->ntok = 0;
	e = xcalloc(1, sizeof(*e));

	lx->s = text;
	lx->n = strlen(text);
	lx->loc = loc;
	r = lex(lx, err);
	if (r == 0)
		r = to_rpn(lx, rpn, &nrpn, err);
	if (r == 0) {
		e->nodes = xcalloc(nrpn ? nrpn : 1, sizeof(*e->nodes));
		r = build_tree(e, lx, rpn, nrpn, err);
	}
	free(lx);
	if (r < 0) {
		expr_free(e);
		return NULL;
	}
	e->refs = 1;
	e->text = xstrdup(text);
	shared = cache_put(&expr_cache, e->text, e, expr_refs);
	if (shared != e) {
		e->refs = 0;
		free(TAKE_PTR(e->text));
		expr_free(e);
	}
	return shared;
}

void expr_free(struct expr *e)
{
	if (!e)
		return;
	if (e->text && !cache_unref(&expr_cache, e->text, &e->refs))
		return;
	free(e->text);
	for (size_t i = 0; i < e->n; i++) {
		free(e->nodes[i].str);
		expr_regex_free(e->nodes[i].re);
	}
	free(e->nodes);
	free(e);
}

/* ---- evaluation --------------------------------------------------------------------------- */

enum vkind { V_NIL, V_STR, V_BOOL, V_RE };

struct value {
	enum vkind k;
	const char *s;               /* V_STR (borrowed from the node or the lookup) */
	bool b;                      /* V_BOOL */
	const struct expr_regex *re; /* V_RE; for a V_STR literal: its /re/ form or NULL */
	bool re_known;               /* V_STR: `re` was decided at parse time */
};

struct eval_ctx {
	const struct expr_env *env;
	bool failed; /* an evaluation error: GitLab's truthful? rescues it as false */
};

static const char *lookup(struct eval_ctx *c, const char *name)
{
	const char *v = c->env && c->env->lookup ? c->env->lookup(c->env->lookup_data, name) : NULL;

	if (c->env && c->env->on_read)
		c->env->on_read(c->env->read_data, name, v);
	return v;
}

static struct value eval_node(const struct enode *n, struct eval_ctx *c);

/* Ruby's truthiness inside && || */
static bool truthy(struct value v)
{
	return !(v.k == V_NIL || (v.k == V_BOOL && !v.b));
}

static bool is_unicode_space(const unsigned char *p, size_t *ret_len)
{
	uint32_t cp;

	if (p[0] == 0xC2 && (p[1] == 0x85 || p[1] == 0xA0)) {
		*ret_len = 2;
		return true;
	}
	if (p[0] != 0xE1 && p[0] != 0xE2 && p[0] != 0xE3)
		return false;
	if ((p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80)
		return false;
	cp = ((uint32_t)(p[0] & 0x0F) << 12) | ((uint32_t)(p[1] & 0x3F) << 6) | (p[2] & 0x3F);
	*ret_len = 3;
	return cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 ||
	       cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

/* Rails' String#blank?: only [[:space:]] (Unicode White_Space). */
static bool str_blank(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		size_t len = 1;
		if (!is_space((char)*p) && !is_unicode_space(p, &len))
			return false;
		p += len;
	}
	return true;
}

/* Rails' Object#present? */
static bool present(struct value v)
{
	switch (v.k) {
	case V_NIL:
		return false;
	case V_BOOL:
		return v.b;
	case V_STR:
		return !str_blank(v.s);
	case V_RE:
		return true;
	}
	return false;
}

/* Ruby's to_s as the match operators use it. */
static const char *to_s(struct value v)
{
	switch (v.k) {
	case V_NIL:
		return "";
	case V_BOOL:
		return v.b ? "true" : "false";
	case V_STR:
		return v.s;
	case V_RE:
		return v.re->source;
	}
	return "";
}

static bool equals(struct value a, struct value b)
{
	/* the one coercion: a boolean compared with a string compares as "true"/"false" */
	if (a.k == V_BOOL && b.k == V_STR)
		return strcmp(to_s(a), b.s) == 0;
	if (a.k == V_STR && b.k == V_BOOL)
		return strcmp(a.s, to_s(b)) == 0;
	if (a.k != b.k)
		return false;
	switch (a.k) {
	case V_NIL:
		return true;
	case V_BOOL:
		return a.b == b.b;
	case V_STR:
		return strcmp(a.s, b.s) == 0;
	case V_RE:
		return strcmp(a.re->source, b.re->source) == 0;
	}
	return false;
}

/* x =~ y once y is known not to be nil/false. Returns 1, 0, or -1 on an evaluation error. */
static int match(struct value x, struct value y)
{
	const char *text = to_s(x);
	struct expr_regex *tmp = NULL;
	const struct expr_regex *re = NULL;
	int r;

	if (y.k == V_BOOL)
		return -1; /* true.scan: an error in GitLab */
	if (y.k == V_RE)
		re = y.re;
	else if (y.re_known)
		re = y.re;
	else
		re = tmp = expr_regex_from_ruby(y.s);
	/* a plain string: the legacy reversed substring test (String#scan) */
	if (!re)
		return strstr(y.s, text) != NULL;
	r = expr_regex_search(re, text, strlen(text));
	expr_regex_free(tmp);
	return r;
}

static struct value eval_binary(const struct enode *n, struct eval_ctx *c)
{
	struct value l = eval_node(n->l, c), r;
	int m;

	/* && and || return an operand, Ruby style, and skip the right side when decided */
	if (n->kind == TOK_AND && !truthy(l))
		return l;
	if (n->kind == TOK_OR && truthy(l))
		return l;
	r = eval_node(n->r, c);
	switch (n->kind) {
	case TOK_AND:
	case TOK_OR:
		return r;
	case TOK_EQ:
	case TOK_NE:
		return (struct value){.k = V_BOOL, .b = equals(l, r) == (n->kind == TOK_EQ)};
	default:
		break;
	}
	if (!truthy(r)) /* nil/false pattern: =~ is false, !~ is true */
		return (struct value){.k = V_BOOL, .b = n->kind == TOK_NMATCH};
	m = match(l, r);
	if (m < 0) {
		c->failed = true;
		m = 0;
	}
	return (struct value){.k = V_BOOL, .b = (m == 1) == (n->kind == TOK_MATCH)};
}

static struct value eval_node(const struct enode *n, struct eval_ctx *c)
{
	const char *s;
	_cleanup_free_ char *name = NULL;

	switch (n->kind) {
	case TOK_VAR:
		s = lookup(c, n->str);
		return s ? (struct value){.k = V_STR, .s = s} : (struct value){.k = V_NIL};
	case TOK_INPUT:
		name = xasprintf("inputs.%s", n->str);
		s = lookup(c, name);
		return s ? (struct value){.k = V_STR, .s = s} : (struct value){.k = V_NIL};
	case TOK_STRING:
		return (struct value){.k = V_STR, .s = n->str, .re = n->re, .re_known = true};
	case TOK_REGEX:
		return (struct value){.k = V_RE, .re = n->re};
	case TOK_NULL:
		return (struct value){.k = V_NIL};
	case TOK_BOOL:
		return (struct value){.k = V_BOOL, .b = n->b};
	case TOK_NOT:
		return (struct value){.k = V_BOOL, .b = !present(eval_node(n->r, c))};
	default:
		return eval_binary(n, c);
	}
}

bool expr_eval(const struct expr *e, const struct expr_env *env)
{
	struct eval_ctx c = {.env = env, .failed = false};
	struct value v = eval_node(e->root, &c);

	return !c.failed && present(v);
}

static const char *var_list_lookup(void *data, const char *name)
{
	return var_list_value(data, name);
}

int expr_eval_text(const char *text, const struct var_list *vars, bool *ret_result, struct err *err)
{
	struct expr *e = expr_parse(text, (struct srcloc){0}, err);
	struct expr_env env = {.lookup = var_list_lookup, .lookup_data = (void *)vars};

	if (!e)
		return -1;
	*ret_result = expr_eval(e, &env);
	expr_free(e);
	return 0;
}
