/* toml: a recursive-descent parser for the TOML subset config.toml uses (toml.h), with line and
 * column tracking so every configuration error points at the user's text, and the writer
 * `runner register` uses to put the file back. The parser works on the bytes directly: TOML's
 * grammar is line-oriented and small enough that a separate lexer would only add a layer. */
#include "runner/toml.h"

#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"
#include "util/fsutil.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

/* Nesting of arrays and inline tables; deeper input is rejected (the stack is ours). */
#define MAX_DEPTH 64

static void toml_value_free_p(struct toml_value **v)
{
	toml_value_free(*v);
}

struct tp {
	const char *path;
	const char *p, *end;
	unsigned line, col;
	unsigned depth;
	struct err *err;
};

/* ---- values ---- */

struct toml_value *toml_new(enum toml_type type)
{
	struct toml_value *v = xcalloc(1, sizeof(*v));
	v->type = type;
	return v;
}

struct toml_value *toml_new_string(const char *s)
{
	struct toml_value *v = toml_new(TOML_STRING);
	v->s = xstrdup(s);
	return v;
}

struct toml_value *toml_new_int(long long i)
{
	struct toml_value *v = toml_new(TOML_INT);
	v->i = i;
	return v;
}

struct toml_value *toml_new_bool(bool b)
{
	struct toml_value *v = toml_new(TOML_BOOL);
	v->b = b;
	return v;
}

void toml_value_free(struct toml_value *v)
{
	if (!v)
		return;
	free(v->s);
	for (size_t i = 0; i < v->n; i++)
		toml_value_free(v->items[i]);
	free(v->items);
	for (size_t i = 0; i < v->nkv; i++) {
		free(v->kv[i].key);
		toml_value_free(v->kv[i].v);
	}
	free(v->kv);
	free(v);
}

struct toml_value *toml_get(const struct toml_value *t, const char *key)
{
	if (!t || t->type != TOML_TABLE)
		return NULL;
	for (size_t i = 0; i < t->nkv; i++)
		if (!strcmp(t->kv[i].key, key))
			return t->kv[i].v;
	return NULL;
}

static struct toml_kv *table_add(struct toml_value *t, const char *key, struct srcloc loc,
                                 struct toml_value *v)
{
	XGROW(t->kv, t->kvalloc, t->nkv + 1);
	struct toml_kv *kv = &t->kv[t->nkv++];
	kv->key = xstrdup(key);
	kv->loc = loc;
	kv->v = v;
	return kv;
}

void toml_set(struct toml_value *t, const char *key, struct toml_value *v)
{
	assert(t->type == TOML_TABLE);
	for (size_t i = 0; i < t->nkv; i++)
		if (!strcmp(t->kv[i].key, key)) {
			toml_value_free(t->kv[i].v);
			t->kv[i].v = v;
			return;
		}
	table_add(t, key, (struct srcloc){0}, v);
}

void toml_unset(struct toml_value *t, const char *key)
{
	for (size_t i = 0; i < t->nkv; i++)
		if (!strcmp(t->kv[i].key, key)) {
			free(t->kv[i].key);
			toml_value_free(t->kv[i].v);
			memmove(&t->kv[i], &t->kv[i + 1], (t->nkv - i - 1) * sizeof(t->kv[0]));
			t->nkv--;
			return;
		}
}

void toml_push(struct toml_value *a, struct toml_value *v)
{
	assert(a->type == TOML_ARRAY);
	XGROW(a->items, a->alloc, a->n + 1);
	a->items[a->n++] = v;
}

void toml_remove(struct toml_value *a, size_t i)
{
	assert(a->type == TOML_ARRAY && i < a->n);
	toml_value_free(a->items[i]);
	memmove(&a->items[i], &a->items[i + 1], (a->n - i - 1) * sizeof(a->items[0]));
	a->n--;
}

/* ---- the cursor ---- */

static struct srcloc tp_loc(const struct tp *t)
{
	return (struct srcloc){.file = t->path, .line = t->line, .col = t->col};
}

static int tp_peek(const struct tp *t)
{
	return t->p < t->end ? (unsigned char)*t->p : -1;
}

static int tp_peek_at(const struct tp *t, size_t k)
{
	return (size_t)(t->end - t->p) > k ? (unsigned char)t->p[k] : -1;
}

static bool tp_starts(const struct tp *t, const char *s)
{
	size_t n = strlen(s);
	return (size_t)(t->end - t->p) >= n && !memcmp(t->p, s, n);
}

static void tp_adv(struct tp *t)
{
	if (t->p >= t->end)
		return;
	if (*t->p == '\n') {
		t->line++;
		t->col = 1;
	} else {
		t->col++;
	}
	t->p++;
}

static int tp_fail(struct tp *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int tp_fail(struct tp *t, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	_cleanup_free_ char *msg = xvasprintf(fmt, ap);
	va_end(ap);
	return err_at(t->err, tp_loc(t), "%s", msg);
}

static void skip_ws(struct tp *t)
{
	while (tp_peek(t) == ' ' || tp_peek(t) == '\t')
		tp_adv(t);
}

/* A comment runs to the end of the line; control characters other than tab are invalid. */
static int skip_comment(struct tp *t)
{
	if (tp_peek(t) != '#')
		return 0;
	while (t->p < t->end && *t->p != '\n') {
		unsigned char c = (unsigned char)*t->p;
		if ((c < 0x20 && c != '\t' && c != '\r') || c == 0x7f)
			return tp_fail(t, "control character in a comment");
		tp_adv(t);
	}
	return 0;
}

/* Whitespace, newlines and comments (inside arrays). */
static int skip_blank(struct tp *t)
{
	for (;;) {
		skip_ws(t);
		if (skip_comment(t) < 0)
			return -1;
		if (tp_peek(t) == '\n')
			tp_adv(t);
		else if (tp_peek(t) == '\r' && tp_peek_at(t, 1) == '\n') {
			tp_adv(t);
			tp_adv(t);
		} else
			return 0;
	}
}

/* After a key/value pair or a header: only blanks and a comment before the newline. */
static int expect_eol(struct tp *t)
{
	skip_ws(t);
	if (skip_comment(t) < 0)
		return -1;
	if (tp_peek(t) == '\r' && tp_peek_at(t, 1) == '\n')
		tp_adv(t);
	if (tp_peek(t) == '\n') {
		tp_adv(t);
		return 0;
	}
	if (tp_peek(t) < 0)
		return 0;
	return tp_fail(t, "expected the end of the line, found '%c'", tp_peek(t));
}

/* ---- strings ---- */

static void add_utf8(struct strbuf *sb, uint32_t cp)
{
	if (cp < 0x80) {
		strbuf_addch(sb, (int)cp);
	} else if (cp < 0x800) {
		strbuf_addch(sb, (int)(0xc0 | (cp >> 6)));
		strbuf_addch(sb, (int)(0x80 | (cp & 0x3f)));
	} else if (cp < 0x10000) {
		strbuf_addch(sb, (int)(0xe0 | (cp >> 12)));
		strbuf_addch(sb, (int)(0x80 | ((cp >> 6) & 0x3f)));
		strbuf_addch(sb, (int)(0x80 | (cp & 0x3f)));
	} else {
		strbuf_addch(sb, (int)(0xf0 | (cp >> 18)));
		strbuf_addch(sb, (int)(0x80 | ((cp >> 12) & 0x3f)));
		strbuf_addch(sb, (int)(0x80 | ((cp >> 6) & 0x3f)));
		strbuf_addch(sb, (int)(0x80 | (cp & 0x3f)));
	}
}

static int parse_unicode(struct tp *t, int digits, struct strbuf *sb)
{
	uint32_t cp = 0;
	for (int i = 0; i < digits; i++) {
		int c = tp_peek(t);
		int d = c >= '0' && c <= '9'   ? c - '0'
		        : c >= 'a' && c <= 'f' ? c - 'a' + 10
		        : c >= 'A' && c <= 'F' ? c - 'A' + 10
		                               : -1;
		if (d < 0)
			return tp_fail(t, "invalid unicode escape: expected %d hex digits", digits);
		cp = cp * 16 + (uint32_t)d;
		tp_adv(t);
	}
	if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return tp_fail(t, "invalid unicode escape: U+%X is not a scalar value", cp);
	add_utf8(sb, cp);
	return 0;
}

/* In a multi-line basic string, a backslash at the end of a line trims the newline and all
 * whitespace up to the next non-blank character. */
static bool line_ending_backslash(struct tp *t)
{
	const char *q = t->p;
	while (q < t->end && (*q == ' ' || *q == '\t'))
		q++;
	if (q < t->end && *q == '\r')
		q++;
	if (q >= t->end || *q != '\n')
		return false;
	while (t->p < t->end && strchr(" \t\r\n", *t->p))
		tp_adv(t);
	return true;
}

static int parse_escape(struct tp *t, bool multi, struct strbuf *sb)
{
	tp_adv(t); /* the backslash */
	if (multi && line_ending_backslash(t))
		return 0;
	int c = tp_peek(t);
	const char *from = "btnfre\"\\", *to = "\b\t\n\f\r\x1b\"\\";
	const char *hit = c > 0 ? strchr(from, c) : NULL;
	if (hit) {
		strbuf_addch(sb, to[hit - from]);
		tp_adv(t);
		return 0;
	}
	if (c == 'u' || c == 'U') {
		tp_adv(t);
		return parse_unicode(t, c == 'u' ? 4 : 8, sb);
	}
	return tp_fail(t, "invalid escape sequence '\\%c'", c > 0x20 && c < 0x7f ? c : '?');
}

static bool is_bad_control(int c, bool multi)
{
	if (c == '\t' || (multi && (c == '\n' || c == '\r')))
		return false;
	return (c >= 0 && c < 0x20) || c == 0x7f;
}

/* A string opened by q ('"' or '\''), single- or multi-line; the cursor is at the opening
 * quote. The value goes to sb. */
static int parse_string(struct tp *t, char q, struct strbuf *sb)
{
	char q3[4] = {q, q, q, 0};
	bool multi = tp_starts(t, q3);
	for (int i = 0; i < (multi ? 3 : 1); i++)
		tp_adv(t);
	if (multi && tp_peek(t) == '\n')
		tp_adv(t); /* a newline right after the opening quotes is trimmed */
	else if (multi && tp_starts(t, "\r\n")) {
		tp_adv(t);
		tp_adv(t);
	}
	for (;;) {
		int c = tp_peek(t);
		if (c < 0 || (!multi && c == '\n'))
			return tp_fail(t, "unterminated string");
		if (multi && tp_starts(t, q3)) {
			/* up to two quotes may end the content: """a""""" is a"" */
			int extra = 0;
			while (extra < 2 && tp_peek_at(t, 3 + (size_t)extra) == q)
				extra++;
			for (int i = 0; i < extra; i++) {
				strbuf_addch(sb, q);
				tp_adv(t);
			}
			for (int i = 0; i < 3; i++)
				tp_adv(t);
			return 0;
		}
		if (!multi && c == q) {
			tp_adv(t);
			return 0;
		}
		if (q == '"' && c == '\\') {
			if (parse_escape(t, multi, sb) < 0)
				return -1;
			continue;
		}
		if (is_bad_control(c, multi))
			return tp_fail(t, "control character U+%04X in a string", (unsigned)c);
		strbuf_addch(sb, c);
		tp_adv(t);
	}
}

/* ---- keys ---- */

static bool is_bare(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-';
}

/* One key part: bare, "basic" or 'literal'. */
static int parse_simple_key(struct tp *t, struct strbuf *sb)
{
	int c = tp_peek(t);
	if (c == '"' || c == '\'') {
		if (tp_peek_at(t, 1) == c && tp_peek_at(t, 2) == c)
			return tp_fail(t, "a key cannot be a multi-line string");
		return parse_string(t, (char)c, sb);
	}
	if (!is_bare(c))
		return tp_fail(
		    t, c < 0 || c == '\n' ? "expected a key" : "invalid character '%c' in a key",
		    c);
	while (is_bare(tp_peek(t))) {
		strbuf_addch(sb, tp_peek(t));
		tp_adv(t);
	}
	return 0;
}

/* A dotted key: parts (each owned) and their locations, at most 32 parts. */
struct dkey {
	char *part[32];
	struct srcloc loc[32];
	size_t n;
	char *full; /* "a.b.c" for messages, owned */
};

static void dkey_release(struct dkey *k)
{
	for (size_t i = 0; i < k->n; i++)
		free(k->part[i]);
	free(k->full);
	k->n = 0;
}

static int parse_key(struct tp *t, struct dkey *k)
{
	struct strbuf full = STRBUF_INIT;
	for (;;) {
		skip_ws(t);
		if (k->n == sizeof(k->part) / sizeof(k->part[0])) {
			strbuf_release(&full);
			return tp_fail(t, "key has too many parts");
		}
		struct strbuf sb = STRBUF_INIT;
		k->loc[k->n] = tp_loc(t);
		if (parse_simple_key(t, &sb) < 0) {
			strbuf_release(&sb);
			strbuf_release(&full);
			return -1;
		}
		strbuf_addf(&full, "%s%s", k->n ? "." : "", sb.buf);
		k->part[k->n++] = strbuf_detach(&sb, NULL);
		skip_ws(t);
		if (tp_peek(t) != '.')
			break;
		tp_adv(t);
	}
	k->full = strbuf_detach(&full, NULL);
	return 0;
}

/* ---- values ---- */

static int parse_value(struct tp *t, struct toml_value **ret);

static bool strip_digits(const char *s, size_t n, bool hex, struct strbuf *out)
{
	/* digits with single underscores between them */
	bool prev_digit = false;
	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)s[i];
		bool dig =
		    hex ? (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
		        : c >= '0' && c <= '9';
		if (c == '_') {
			if (!prev_digit || i + 1 == n)
				return false;
			prev_digit = false;
			continue;
		}
		if (!dig)
			return false;
		strbuf_addch(out, c);
		prev_digit = true;
	}
	return n > 0 && prev_digit;
}

static int parse_int(struct tp *t, const char *tok, size_t n, struct srcloc loc,
                     struct toml_value **ret)
{
	_cleanup_(strbuf_release) struct strbuf d = STRBUF_INIT;
	int base = 10;
	size_t skip = 0;
	if (n > 2 && tok[0] == '0' && strchr("xob", tok[1])) {
		base = tok[1] == 'x' ? 16 : tok[1] == 'o' ? 8 : 2;
		skip = 2;
	} else if (tok[0] == '+' || tok[0] == '-') {
		strbuf_addch(&d, tok[0]);
		skip = 1;
	}
	if (!strip_digits(tok + skip, n - skip, base == 16, &d))
		return err_at(t->err, loc, "invalid number '%.*s'", (int)n, tok);
	const char *digits = d.buf + (base == 10 && skip ? 1 : 0);
	if (base == 10 && digits[0] == '0' && digits[1])
		return err_at(t->err, loc, "invalid number '%.*s': leading zero", (int)n, tok);
	if (base == 8 && strspn(d.buf, "01234567") != d.len)
		return err_at(t->err, loc, "invalid octal number '%.*s'", (int)n, tok);
	if (base == 2 && strspn(d.buf, "01") != d.len)
		return err_at(t->err, loc, "invalid binary number '%.*s'", (int)n, tok);
	errno = 0;
	char *endp = NULL;
	long long v = strtoll(d.buf, &endp, base);
	if (errno == ERANGE || *endp)
		return err_at(t->err, loc, "integer '%.*s' out of range", (int)n, tok);
	*ret = toml_new_int(v);
	return 0;
}

/* [+-] int-part [. digits] [e [+-] digits], underscores only between digits. */
static bool float_syntax(const char *s, size_t n, struct strbuf *out)
{
	size_t i = 0;
	if (i < n && (s[i] == '+' || s[i] == '-'))
		strbuf_addch(out, s[i++]);
	size_t start = i;
	while (i < n && s[i] != '.' && s[i] != 'e' && s[i] != 'E')
		i++;
	if (!strip_digits(s + start, i - start, false, out))
		return false;
	if (i - start > 1 && s[start] == '0')
		return false;
	if (i < n && s[i] == '.') {
		strbuf_addch(out, '.');
		size_t f = ++i;
		while (i < n && s[i] != 'e' && s[i] != 'E')
			i++;
		if (!strip_digits(s + f, i - f, false, out))
			return false;
	}
	if (i < n) {
		strbuf_addch(out, 'e');
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			strbuf_addch(out, s[i++]);
		if (!strip_digits(s + i, n - i, false, out))
			return false;
	}
	return true;
}

static int parse_float(struct tp *t, const char *tok, size_t n, struct srcloc loc,
                       struct toml_value **ret)
{
	_cleanup_(strbuf_release) struct strbuf d = STRBUF_INIT;
	const char *body = tok + (tok[0] == '+' || tok[0] == '-');
	size_t bn = n - (size_t)(body - tok);
	double v;
	if (bn == 3 && (!memcmp(body, "inf", 3) || !memcmp(body, "nan", 3))) {
		v = body[0] == 'i' ? INFINITY : NAN;
		if (tok[0] == '-')
			v = -v;
	} else {
		if (!float_syntax(tok, n, &d))
			return err_at(t->err, loc, "invalid number '%.*s'", (int)n, tok);
		v = strtod(d.buf, NULL);
	}
	struct toml_value *val = toml_new(TOML_FLOAT);
	val->f = v;
	*ret = val;
	return 0;
}

static bool digits_at(const char *s, size_t n, size_t at, size_t k)
{
	if (at + k > n)
		return false;
	for (size_t i = at; i < at + k; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

static bool looks_like_date(const char *tok, size_t n)
{
	return (digits_at(tok, n, 0, 4) && n > 4 && tok[4] == '-') ||
	       (digits_at(tok, n, 0, 2) && n > 2 && tok[2] == ':');
}

/* HH:MM:SS[.frac] at s[at..]; returns the end offset or 0. */
static size_t time_shape(const char *s, size_t n, size_t at)
{
	if (!digits_at(s, n, at, 2) || at + 2 >= n || s[at + 2] != ':' ||
	    !digits_at(s, n, at + 3, 2) || at + 5 >= n || s[at + 5] != ':' ||
	    !digits_at(s, n, at + 6, 2))
		return 0;
	size_t i = at + 8;
	if (i < n && s[i] == '.') {
		size_t f = ++i;
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
		if (i == f)
			return 0;
	}
	return i;
}

/* Local date, local time, local or offset date-time (RFC 3339 with TOML's relaxations). */
static bool datetime_shape(const char *s, size_t n)
{
	size_t i;
	if (digits_at(s, n, 0, 2) && n > 2 && s[2] == ':')
		return time_shape(s, n, 0) == n;
	if (!digits_at(s, n, 0, 4) || n < 10 || s[4] != '-' || !digits_at(s, n, 5, 2) ||
	    s[7] != '-' || !digits_at(s, n, 8, 2))
		return false;
	if (n == 10)
		return true;
	if (!strchr("Tt ", s[10]) || !(i = time_shape(s, n, 11)))
		return false;
	if (i == n)
		return true;
	if ((s[i] == 'Z' || s[i] == 'z') && i + 1 == n)
		return true;
	return (s[i] == '+' || s[i] == '-') && i + 6 == n && digits_at(s, n, i + 1, 2) &&
	       s[i + 3] == ':' && digits_at(s, n, i + 4, 2);
}

/* The token started at tok; a date may go on after one space with its time. */
static int parse_datetime(struct tp *t, const char *tok, struct srcloc loc, struct toml_value **ret)
{
	if ((size_t)(t->p - tok) == 10 && tp_peek(t) == ' ' && tp_peek_at(t, 1) >= '0' &&
	    tp_peek_at(t, 1) <= '9' && tp_peek_at(t, 3) == ':') {
		tp_adv(t);
		while (t->p < t->end && (is_bare(*t->p) || strchr("+.:", *t->p)))
			tp_adv(t);
	}
	size_t n = (size_t)(t->p - tok);
	if (!datetime_shape(tok, n))
		return err_at(t->err, loc, "invalid date or time '%.*s'", (int)n, tok);
	struct toml_value *v = toml_new(TOML_DATETIME);
	v->s = xstrndup(tok, n);
	*ret = v;
	return 0;
}

/* true, false, numbers, dates and times. */
static int parse_scalar_word(struct tp *t, struct toml_value **ret)
{
	struct srcloc loc = tp_loc(t);
	const char *tok = t->p;
	while (t->p < t->end && (is_bare(*t->p) || strchr("+.:", *t->p)))
		tp_adv(t);
	size_t n = (size_t)(t->p - tok);
	if (n == 0)
		return tp_fail(t, tp_peek(t) < 0 || tp_peek(t) == '\n' ? "expected a value"
		                                                       : "invalid value");
	if ((n == 4 && !memcmp(tok, "true", 4)) || (n == 5 && !memcmp(tok, "false", 5))) {
		*ret = toml_new_bool(n == 4);
		return 0;
	}
	if (looks_like_date(tok, n))
		return parse_datetime(t, tok, loc, ret);
	bool is_float = false;
	for (size_t i = 0; i < n; i++)
		if (tok[i] == '.' || tok[i] == 'n' ||
		    ((tok[i] == 'e' || tok[i] == 'E') &&
		     !(n > 1 && tok[0] == '0' && tok[1] == 'x')))
			is_float = true;
	if (!strchr("+-0123456789in", tok[0]))
		return err_at(t->err, loc, "invalid value '%.*s' (strings need quotes)", (int)n,
		              tok);
	if (is_float)
		return parse_float(t, tok, n, loc, ret);
	return parse_int(t, tok, n, loc, ret);
}

static int parse_array(struct tp *t, struct toml_value **ret)
{
	_cleanup_(toml_value_free_p) struct toml_value *a = toml_new(TOML_ARRAY);
	a->frozen = true;
	tp_adv(t);
	for (;;) {
		if (skip_blank(t) < 0)
			return -1;
		if (tp_peek(t) == ']')
			break;
		struct toml_value *item = NULL;
		if (parse_value(t, &item) < 0)
			return -1;
		toml_push(a, item);
		if (skip_blank(t) < 0)
			return -1;
		if (tp_peek(t) == ',') {
			tp_adv(t);
			continue;
		}
		if (tp_peek(t) != ']')
			return tp_fail(t, "expected ',' or ']' in an array");
		break;
	}
	tp_adv(t);
	*ret = TAKE_PTR(a);
	return 0;
}

static int set_dotted(struct tp *t, struct toml_value *table, struct dkey *k, struct toml_value *v);

/* `key = value` into table (a pair of a table line or of an inline table), up to what follows
 * the value. */
static int parse_pair(struct tp *t, struct toml_value *table)
{
	_cleanup_(dkey_release) struct dkey k = {0};
	if (parse_key(t, &k) < 0)
		return -1;
	if (tp_peek(t) != '=')
		return tp_fail(t, "expected '=' after key '%s'", k.full);
	tp_adv(t);
	skip_ws(t);
	struct toml_value *v = NULL;
	if (parse_value(t, &v) < 0)
		return err_wrap(t->err, "key '%s'", k.full);
	return set_dotted(t, table, &k, v);
}

static int parse_inline_table(struct tp *t, struct toml_value **ret)
{
	_cleanup_(toml_value_free_p) struct toml_value *tab = toml_new(TOML_TABLE);
	tp_adv(t);
	skip_ws(t);
	if (tp_peek(t) == '}') {
		tp_adv(t);
		tab->frozen = tab->defined = true;
		*ret = TAKE_PTR(tab);
		return 0;
	}
	for (;;) {
		if (parse_pair(t, tab) < 0)
			return -1;
		skip_ws(t);
		if (tp_peek(t) == ',') {
			tp_adv(t);
			continue;
		}
		if (tp_peek(t) != '}')
			return tp_fail(t, "expected ',' or '}' in an inline table");
		tp_adv(t);
		break;
	}
	tab->frozen = tab->defined = true;
	*ret = TAKE_PTR(tab);
	return 0;
}

static int parse_value(struct tp *t, struct toml_value **ret)
{
	struct srcloc loc = tp_loc(t);
	int c = tp_peek(t);
	if (++t->depth > MAX_DEPTH)
		return tp_fail(t, "values nested deeper than %d levels", MAX_DEPTH);
	int r;
	if (c == '"' || c == '\'') {
		struct strbuf sb = STRBUF_INIT;
		r = parse_string(t, (char)c, &sb);
		if (r == 0) {
			*ret = toml_new(TOML_STRING);
			(*ret)->s = strbuf_detach(&sb, NULL);
		}
		strbuf_release(&sb);
	} else if (c == '[') {
		r = parse_array(t, ret);
	} else if (c == '{') {
		r = parse_inline_table(t, ret);
	} else {
		r = parse_scalar_word(t, ret);
	}
	t->depth--;
	if (r == 0)
		(*ret)->loc = loc;
	return r;
}

/* ---- tables ---- */

/* Steps from table into the child named part for a header or dotted key: an array of tables
 * leads to its last table; a missing child becomes an implicit table. */
static struct toml_value *descend(struct tp *t, struct toml_value *table, const char *part,
                                  struct srcloc loc, const char *full, bool dotted)
{
	struct toml_value *v = toml_get(table, part);
	if (!v) {
		v = toml_new(TOML_TABLE);
		v->loc = loc;
		v->dotted = dotted;
		table_add(table, part, loc, v);
		return v;
	}
	if (v->type == TOML_ARRAY && v->aot && !dotted)
		return v->items[v->n - 1];
	if (v->type != TOML_TABLE || v->frozen) {
		err_at(t->err, loc, "key '%s': '%s' is already a value, not a table", full, part);
		return NULL;
	}
	if (dotted && v->defined && !v->dotted) {
		err_at(t->err, loc, "key '%s': table '%s' was defined by a header", full, part);
		return NULL;
	}
	return v;
}

static int set_dotted(struct tp *t, struct toml_value *table, struct dkey *k, struct toml_value *v)
{
	for (size_t i = 0; i + 1 < k->n; i++) {
		table = descend(t, table, k->part[i], k->loc[i], k->full, true);
		if (!table) {
			toml_value_free(v);
			return -1;
		}
	}
	const char *last = k->part[k->n - 1];
	if (toml_get(table, last)) {
		toml_value_free(v);
		return err_at(t->err, k->loc[k->n - 1], "duplicate key '%s'", k->full);
	}
	table_add(table, last, k->loc[k->n - 1], v);
	return 0;
}

/* [a.b] or [[a.b]] at the cursor; *cur becomes the table that the following keys fill. */
static int parse_header(struct tp *t, struct toml_value *root, struct toml_value **cur)
{
	struct srcloc hloc = tp_loc(t);
	bool aot = tp_starts(t, "[[");
	tp_adv(t);
	if (aot)
		tp_adv(t);
	_cleanup_(dkey_release) struct dkey k = {0};
	if (parse_key(t, &k) < 0)
		return -1;
	if (tp_peek(t) != ']' || (aot && tp_peek_at(t, 1) != ']'))
		return tp_fail(t,
		               aot ? "expected ']]' after table name '%s'"
		                   : "expected ']' after table name '%s'",
		               k.full);
	tp_adv(t);
	if (aot)
		tp_adv(t);
	struct toml_value *table = root;
	for (size_t i = 0; i + 1 < k.n; i++) {
		table = descend(t, table, k.part[i], k.loc[i], k.full, false);
		if (!table)
			return -1;
	}
	const char *last = k.part[k.n - 1];
	struct toml_value *v = toml_get(table, last);
	if (aot) {
		if (!v) {
			v = toml_new(TOML_ARRAY);
			v->aot = true;
			v->loc = hloc;
			table_add(table, last, k.loc[k.n - 1], v);
		} else if (v->type != TOML_ARRAY || !v->aot) {
			return err_at(t->err, hloc,
			              "'%s' is already defined, not an array of tables", k.full);
		}
		struct toml_value *nt = toml_new(TOML_TABLE);
		nt->defined = true;
		nt->loc = hloc;
		toml_push(v, nt);
		*cur = nt;
		return expect_eol(t);
	}
	if (v && v->type != TOML_TABLE)
		return err_at(t->err, hloc, "'%s' is already a value, not a table", k.full);
	if (v && (v->defined || v->frozen || v->dotted))
		return err_at(t->err, hloc, "table '%s' is defined twice", k.full);
	if (!v) {
		v = toml_new(TOML_TABLE);
		table_add(table, last, k.loc[k.n - 1], v);
	}
	v->defined = true;
	v->loc = hloc;
	*cur = v;
	return expect_eol(t);
}

static int parse_keyval(struct tp *t, struct toml_value *cur)
{
	if (parse_pair(t, cur) < 0)
		return -1;
	return expect_eol(t);
}

int toml_parse(const char *path, const char *text, size_t len, struct toml_doc *ret,
               struct err *err)
{
	char *owned_path = xstrdup(path);
	struct tp t = {
	    .path = owned_path, .p = text, .end = text + len, .line = 1, .col = 1, .err = err};
	struct toml_value *root = toml_new(TOML_TABLE);
	root->defined = true;
	struct toml_value *cur = root;
	const char *nul = memchr(text, 0, len);
	if (nul) {
		while (t.p < nul)
			tp_adv(&t);
		tp_fail(&t, "NUL byte in the file");
		goto fail;
	}
	if (tp_starts(&t, "\xef\xbb\xbf"))
		t.p += 3; /* a UTF-8 byte order mark */
	for (;;) {
		if (skip_blank(&t) < 0)
			goto fail;
		int c = tp_peek(&t);
		if (c < 0)
			break;
		if ((c == '[' ? parse_header(&t, root, &cur) : parse_keyval(&t, cur)) < 0)
			goto fail;
	}
	ret->path = owned_path;
	ret->root = root;
	return 0;
fail:
	/* err->loc.file points at owned_path: the caller keeps it until the error is printed */
	toml_value_free(root);
	ret->path = owned_path;
	ret->root = NULL;
	return -1;
}

int toml_parse_file(const char *path, struct toml_doc *ret, struct err *err)
{
	_cleanup_(strbuf_release) struct strbuf sb = STRBUF_INIT;
	/* config.toml is small; 4 MiB bounds what a wrong path can make us read */
	if (fs_read_file(path, 0, 4u << 20, &sb) != 0) {
		ret->path = NULL;
		ret->root = NULL;
		return err_sys(err, errno, "cannot read '%s'", path);
	}
	return toml_parse(path, sb.buf, sb.len, ret, err);
}

void toml_doc_release(struct toml_doc *d)
{
	toml_value_free(d->root);
	free(d->path);
	d->root = NULL;
	d->path = NULL;
}
