/* emit: writes a ynode tree as block-style YAML that our loader reads back to an equal tree.
 * A string is written plain only when Psych would type the plain text as that same string and
 * the text is safe as a plain scalar; multi-line text uses a literal block when that preserves
 * it exactly; everything else is double-quoted with escapes. Aliases are written out in full
 * (the tree has no anchors any more). */
#include "yaml/node.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "util/strbuf.h"
#include "yaml/internal.h"

/* Length of the valid UTF-8 sequence at s (at most `left` bytes), or 0 if invalid. */
static size_t utf8_valid(const unsigned char *s, size_t left, unsigned *cp)
{
	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	size_t n = s[0] >= 0xf0 && s[0] < 0xf5 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc2 ? 2 : 0;
	if (n == 0 || s[0] >= 0xf5 || n > left)
		return 0;
	unsigned v = s[0] & (0x7f >> n);
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		v = (v << 6) | (s[i] & 0x3f);
	}
	static const unsigned min[] = {0, 0, 0x80, 0x800, 0x10000};
	if (v < min[n] || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*cp = v;
	return n;
}

/* Characters that cannot appear raw in a double-quoted (or any) scalar and survive a reload:
 * controls, line breaks other than \n, the BOM and non-characters libyaml rejects. */
static bool needs_escape(unsigned cp)
{
	return cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f) || cp == 0x2028 ||
	       cp == 0x2029 || cp == 0xfeff || cp == 0xfffe || cp == 0xffff;
}

static void add_escaped(struct strbuf *out, unsigned cp)
{
	switch (cp) {
	case '\n':
		strbuf_addstr(out, "\\n");
		return;
	case '\t':
		strbuf_addstr(out, "\\t");
		return;
	case '\r':
		strbuf_addstr(out, "\\r");
		return;
	case 0x2028:
		strbuf_addstr(out, "\\L");
		return;
	case 0x2029:
		strbuf_addstr(out, "\\P");
		return;
	default:
		strbuf_addf(out, cp <= 0xff ? "\\x%02X" : "\\u%04X", cp);
	}
}

static void emit_double_quoted(const char *s, struct strbuf *out)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len = strlen(s);
	strbuf_addch(out, '"');
	for (size_t i = 0; i < len;) {
		unsigned cp;
		size_t n = utf8_valid(p + i, len - i, &cp);
		if (n == 0) {
			/* not UTF-8: YAML cannot carry the byte; keep its value visible */
			add_escaped(out, p[i]);
			i++;
			continue;
		}
		if (cp == '"' || cp == '\\') {
			strbuf_addch(out, '\\');
			strbuf_addch(out, (char)cp);
		} else if (needs_escape(cp)) {
			add_escaped(out, cp);
		} else {
			strbuf_add(out, p + i, n);
		}
		i += n;
	}
	strbuf_addch(out, '"');
}

/* Whether s has only characters that may appear raw (`allow_nl`: besides \n). */
static bool printable(const char *s, bool allow_nl)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len = strlen(s);
	for (size_t i = 0; i < len;) {
		unsigned cp;
		size_t n = utf8_valid(p + i, len - i, &cp);
		if (n == 0 || (needs_escape(cp) && !(allow_nl && cp == '\n')))
			return false;
		i += n;
	}
	return true;
}

/* Plain-scalar syntax (block context): no indicator start, no `: ` or ` #`, no trailing `:`,
 * no surrounding spaces, no document markers; and Psych must type it as this string. */
static bool plain_ok(const char *s)
{
	size_t len = strlen(s);
	if (!len || !printable(s, false))
		return false;
	if (s[0] == ' ' || s[len - 1] == ' ' || s[len - 1] == ':')
		return false;
	if (strchr(",[]{}#&*!|>'\"%@`", s[0]))
		return false;
	if ((s[0] == '-' || s[0] == '?' || s[0] == ':') && (len == 1 || s[1] == ' '))
		return false;
	if (strncmp(s, "---", 3) == 0 || strncmp(s, "...", 3) == 0)
		return false;
	if (strstr(s, ": ") || strstr(s, " #"))
		return false;
	return yscalar_classify(s, len) == YSC_STRING;
}

/* A literal block keeps the text exactly when every character is printable, there are no
 * carriage returns or tabs, and the first line starts with a non-space (so the indentation
 * libyaml detects is ours). */
static bool literal_ok(const char *s)
{
	if (!strchr(s, '\n') || !printable(s, true) || strchr(s, '\t'))
		return false;
	if (s[0] == ' ' || s[0] == '\n')
		return false;
	/* lines of only spaces are read back as empty lines */
	for (const char *p = s; *p;) {
		const char *e = strchrnul(p, '\n');
		if (e > p && strspn(p, " ") == (size_t)(e - p))
			return false;
		p = *e ? e + 1 : e;
	}
	return true;
}

static void pad(struct strbuf *out, unsigned indent)
{
	for (unsigned i = 0; i < indent; i++)
		strbuf_addch(out, ' ');
}

static void emit_literal(const char *s, unsigned indent, struct strbuf *out)
{
	size_t len = strlen(s), trailing = 0;
	while (trailing < len && s[len - 1 - trailing] == '\n')
		trailing++;
	strbuf_addstr(out, trailing == 0 ? "|-" : trailing == 1 ? "|" : "|+");
	strbuf_addch(out, '\n');
	const char *p = s, *end = s + len - trailing;
	while (p < end) {
		const char *e = memchr(p, '\n', (size_t)(end - p));
		if (!e)
			e = end;
		if (e > p)
			pad(out, indent);
		strbuf_add(out, p, (size_t)(e - p));
		strbuf_addch(out, '\n');
		p = e + 1;
	}
	for (size_t i = 1; i < trailing; i++)
		strbuf_addch(out, '\n');
}

/* Writes a string scalar; `indent` is the column of a literal block's lines. Returns whether
 * the output already ends with a newline (literal blocks). */
static bool emit_string(const char *s, unsigned indent, struct strbuf *out)
{
	if (plain_ok(s)) {
		strbuf_addstr(out, s);
		return false;
	}
	if (literal_ok(s)) {
		emit_literal(s, indent, out);
		return true;
	}
	emit_double_quoted(s, out);
	return false;
}

/* Psych tokenizes a tagged scalar even when quoted, so `!t "0x_"` cannot carry the string
 * "0x_". A Symbol can: `!t ":\":0x_\""` is :":0x_", whose to_s strips the quotes and one
 * leading colon (Psych's $2.sub(/^:/, '')), giving back exactly the text. */
static void emit_tagged_string(const char *s, struct strbuf *out)
{
	struct strbuf sym = STRBUF_INIT;
	strbuf_addf(&sym, ":\":%s\"", s);
	emit_double_quoted(sym.buf, out);
	strbuf_release(&sym);
}

static bool tag_char_ok(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       strchr("-_./", c);
}

/* `!name` when the tag is a simple local tag, else the verbatim `!<...>` form. */
static void emit_tag(const char *tag, struct strbuf *out)
{
	bool simple = tag[0] == '!';
	for (const char *p = tag + 1; simple && *p; p++)
		simple = tag_char_ok(*p);
	if (simple) {
		strbuf_addstr(out, tag);
		return;
	}
	strbuf_addstr(out, "!<");
	for (const unsigned char *p = (const unsigned char *)tag; *p; p++) {
		if (tag_char_ok((char)*p) || strchr(";?:@&=+$,!~*'()", *p))
			strbuf_addch(out, (char)*p);
		else
			strbuf_addf(out, "%%%02X", *p);
	}
	strbuf_addch(out, '>');
}

static bool is_inline(const struct ynode *n)
{
	return ynode_is_scalar(n) || n->n == 0;
}

/* Writes a scalar or empty collection on the current line. Returns whether it ended the
 * line itself. */
static bool emit_inline(const struct ynode *n, unsigned indent, struct strbuf *out)
{
	char buf[40];
	if (n->tag) {
		emit_tag(n->tag, out);
		strbuf_addch(out, ' ');
	}
	switch (n->kind) {
	case YNODE_NULL:
		strbuf_addstr(out, "null");
		return false;
	case YNODE_BOOL:
		strbuf_addstr(out, n->v.b ? "true" : "false");
		return false;
	case YNODE_INT:
		if (yscalar_classify(n->str, strlen(n->str)) == YSC_INT)
			strbuf_addstr(out, n->str);
		else
			strbuf_addf(out, "%lld", n->v.i);
		return false;
	case YNODE_FLOAT:
		if (isnan(n->v.f))
			strbuf_addstr(out, ".nan");
		else if (isinf(n->v.f))
			strbuf_addstr(out, n->v.f < 0 ? "-.inf" : ".inf");
		else if (yscalar_classify(n->str, strlen(n->str)) == YSC_FLOAT)
			strbuf_addstr(out, n->str);
		else {
			yfloat_to_s(n->v.f, buf, sizeof(buf));
			strbuf_addstr(out, buf);
		}
		return false;
	case YNODE_STRING:
		if (n->tag && !ytag_is_reference(n->tag) &&
		    yscalar_classify(n->str, strlen(n->str)) != YSC_STRING) {
			emit_tagged_string(n->str, out);
			return false;
		}
		return emit_string(n->str ? n->str : "", indent, out);
	case YNODE_SEQ:
		strbuf_addstr(out, "[]");
		return false;
	case YNODE_MAP:
		strbuf_addstr(out, "{}");
		return false;
	}
	return false;
}

static void emit_block(const struct ynode *n, unsigned indent, bool first_inline,
                       struct strbuf *out);

/* After "key:" or "-": the value on the same line, or on the following lines. */
static void emit_child(const struct ynode *v, unsigned indent, bool compact, struct strbuf *out)
{
	if (is_inline(v)) {
		strbuf_addch(out, ' ');
		if (!emit_inline(v, indent + 2, out))
			strbuf_addch(out, '\n');
		return;
	}
	if (v->tag) {
		strbuf_addch(out, ' ');
		emit_tag(v->tag, out);
	}
	if (compact && !v->tag) {
		strbuf_addch(out, ' ');
		emit_block(v, indent + 2, true, out);
		return;
	}
	strbuf_addch(out, '\n');
	emit_block(v, indent + 2, false, out);
}

static void emit_key(const char *key, unsigned indent, struct strbuf *out)
{
	if (strcmp(key, "<<") == 0) {
		/* a literal `<<` key: the explicit !!str tag stops Psych from merging */
		strbuf_addstr(out, "!!str \"<<\":");
		return;
	}
	struct strbuf k = STRBUF_INIT;
	if (plain_ok(key))
		strbuf_addstr(&k, key);
	else
		emit_double_quoted(key, &k);
	if (k.len > 1000) {
		/* libyaml limits implicit keys to 1024 characters: use an explicit key */
		strbuf_addstr(out, "? ");
		strbuf_add(out, k.buf, k.len);
		strbuf_addch(out, '\n');
		pad(out, indent);
	} else {
		strbuf_add(out, k.buf, k.len);
	}
	strbuf_addch(out, ':');
	strbuf_release(&k);
}

static void emit_block(const struct ynode *n, unsigned indent, bool first_inline,
                       struct strbuf *out)
{
	for (size_t i = 0; i < n->n; i++) {
		if (i || !first_inline)
			pad(out, indent);
		if (n->kind == YNODE_MAP) {
			emit_key(n->entries[i].key, indent, out);
			emit_child(n->entries[i].value, indent, false, out);
		} else {
			strbuf_addch(out, '-');
			emit_child(n->items[i], indent, true, out);
		}
	}
}

void ynode_emit(const struct ynode *n, struct strbuf *out)
{
	if (!n) {
		strbuf_addstr(out, "--- null\n");
		return;
	}
	if (is_inline(n)) {
		strbuf_addstr(out, "--- ");
		if (!emit_inline(n, 2, out))
			strbuf_addch(out, '\n');
		return;
	}
	if (n->tag) {
		strbuf_addstr(out, "--- ");
		emit_tag(n->tag, out);
		strbuf_addch(out, '\n');
	}
	emit_block(n, 0, false, out);
}
