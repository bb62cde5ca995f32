/* toml-write: a TOML tree (toml.h) back to text, laid out as gitlab-runner writes config.toml
 * (plain keys first, then [table] and [[array]] sections, nested sections indented), so a file
 * that `runner register` rewrote still looks familiar. Every string becomes a basic string. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "runner/toml.h"
#include "util/strbuf.h"

static bool bare_key(const char *k)
{
	if (!*k)
		return false;
	for (const char *p = k; *p; p++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-", *p))
			return false;
	return true;
}

static void write_string(struct strbuf *out, const char *s)
{
	strbuf_addch(out, '"');
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"':
			strbuf_addstr(out, "\\\"");
			break;
		case '\\':
			strbuf_addstr(out, "\\\\");
			break;
		case '\n':
			strbuf_addstr(out, "\\n");
			break;
		case '\t':
			strbuf_addstr(out, "\\t");
			break;
		case '\r':
			strbuf_addstr(out, "\\r");
			break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				strbuf_addf(out, "\\u%04X", *p);
			else
				strbuf_addch(out, *p);
		}
	}
	strbuf_addch(out, '"');
}

static void write_key(struct strbuf *out, const char *k)
{
	if (bare_key(k))
		strbuf_addstr(out, k);
	else
		write_string(out, k);
}

static void write_float(struct strbuf *out, double f)
{
	if (isnan(f)) {
		strbuf_addstr(out, "nan");
		return;
	}
	if (isinf(f)) {
		strbuf_addstr(out, f < 0 ? "-inf" : "inf");
		return;
	}
	char buf[64];
	snprintf(buf, sizeof(buf), "%.17g", f);
	strbuf_addstr(out, buf);
	if (!strpbrk(buf, ".e"))
		strbuf_addstr(out, ".0");
}

/* A value on the right of `=`: tables become inline tables there. */
static void write_inline(struct strbuf *out, const struct toml_value *v)
{
	switch (v->type) {
	case TOML_STRING:
		write_string(out, v->s);
		break;
	case TOML_DATETIME:
		strbuf_addstr(out, v->s);
		break;
	case TOML_INT:
		strbuf_addf(out, "%lld", v->i);
		break;
	case TOML_FLOAT:
		write_float(out, v->f);
		break;
	case TOML_BOOL:
		strbuf_addstr(out, v->b ? "true" : "false");
		break;
	case TOML_ARRAY:
		strbuf_addch(out, '[');
		for (size_t i = 0; i < v->n; i++) {
			strbuf_addstr(out, i ? ", " : "");
			write_inline(out, v->items[i]);
		}
		strbuf_addch(out, ']');
		break;
	case TOML_TABLE:
		strbuf_addch(out, '{');
		for (size_t i = 0; i < v->nkv; i++) {
			strbuf_addstr(out, i ? ", " : "");
			write_key(out, v->kv[i].key);
			strbuf_addstr(out, " = ");
			write_inline(out, v->kv[i].v);
		}
		strbuf_addch(out, '}');
		break;
	}
}

static bool is_table_array(const struct toml_value *v)
{
	if (v->type != TOML_ARRAY || v->n == 0)
		return false;
	for (size_t i = 0; i < v->n; i++)
		if (v->items[i]->type != TOML_TABLE)
			return false;
	return true;
}

static bool is_section(const struct toml_value *v)
{
	return v->type == TOML_TABLE || is_table_array(v);
}

static void indent(struct strbuf *out, unsigned depth)
{
	for (unsigned i = 0; i < depth; i++)
		strbuf_addstr(out, "  ");
}

static void write_table(struct strbuf *out, const struct toml_value *t, const char *prefix,
                        unsigned depth);

static void write_section(struct strbuf *out, const char *name, const struct toml_value *v,
                          unsigned depth)
{
	/* a blank line before top-level sections only, as gitlab-runner writes them */
	bool blank = depth == 0 && out->len > 0;
	if (v->type == TOML_TABLE) {
		if (blank)
			strbuf_addch(out, '\n');
		indent(out, depth);
		strbuf_addf(out, "[%s]\n", name);
		write_table(out, v, name, depth + 1);
		return;
	}
	for (size_t j = 0; j < v->n; j++) {
		if (blank || (depth == 0 && out->len > 0))
			strbuf_addch(out, '\n');
		indent(out, depth);
		strbuf_addf(out, "[[%s]]\n", name);
		write_table(out, v->items[j], name, depth + 1);
	}
}

static void write_table(struct strbuf *out, const struct toml_value *t, const char *prefix,
                        unsigned depth)
{
	for (size_t i = 0; i < t->nkv; i++) {
		if (is_section(t->kv[i].v))
			continue;
		indent(out, depth);
		write_key(out, t->kv[i].key);
		strbuf_addstr(out, " = ");
		write_inline(out, t->kv[i].v);
		strbuf_addch(out, '\n');
	}
	for (size_t i = 0; i < t->nkv; i++) {
		if (!is_section(t->kv[i].v))
			continue;
		struct strbuf name = STRBUF_INIT;
		if (prefix)
			strbuf_addf(&name, "%s.", prefix);
		write_key(&name, t->kv[i].key);
		/* a header sits at the indentation of its parent's keys */
		write_section(out, name.buf, t->kv[i].v, depth);
		strbuf_release(&name);
	}
}

void toml_write(const struct toml_value *root, struct strbuf *out)
{
	write_table(out, root, NULL, 0);
}
