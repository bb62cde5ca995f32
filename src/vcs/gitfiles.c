/* gitfiles: refs and config read from the repository's files (see gitfiles.h). */
#include "vcs/gitfiles.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/fsutil.h"
#include "util/xalloc.h"

enum { FOUND = GITFILES_FOUND, ASK_GIT = GITFILES_ASK_GIT };

int gitfiles_read(const char *path, struct strbuf *sb)
{
	return fs_read_file(path, O_NOFOLLOW, SIZE_MAX, sb);
}

static bool is_oid(const char *s, size_t n)
{
	return n == 40 && strspn(s, "0123456789abcdef") >= 40;
}

/* ---- refs ---- */

struct ref {
	char *name;
	char *symref; /* target of a symbolic ref, else NULL */
	char oid[41];
	char peeled[41]; /* "" unless an annotated tag */
};

struct refs {
	struct ref *v;
	size_t n, alloc;
};

static const char *const ref_prefixes[] = {"refs/heads/", "refs/remotes/origin/", "refs/tags/"};

static bool wanted(const char *name)
{
	for (size_t i = 0; i < 3; i++)
		if (!strncmp(name, ref_prefixes[i], strlen(ref_prefixes[i])))
			return true;
	return false;
}

static struct ref *find_ref(struct refs *rs, const char *name)
{
	for (size_t i = 0; i < rs->n; i++)
		if (!strcmp(rs->v[i].name, name))
			return &rs->v[i];
	return NULL;
}

/* The entry for name, created empty when new (a loose ref replaces a packed one). */
static struct ref *put_ref(struct refs *rs, const char *name, size_t len)
{
	_cleanup_free_ char *key = xstrndup(name, len);
	struct ref *r = find_ref(rs, key);
	if (r) {
		free(r->symref);
		*r = (struct ref){.name = r->name};
		return r;
	}
	if (rs->n == rs->alloc) {
		rs->alloc = rs->alloc ? 2 * rs->alloc : 32;
		rs->v = xrealloc(rs->v, rs->alloc * sizeof(*rs->v));
	}
	r = &rs->v[rs->n++];
	*r = (struct ref){.name = TAKE_PTR(key)};
	return r;
}

static void refs_release(struct refs *rs)
{
	for (size_t i = 0; i < rs->n; i++) {
		free(rs->v[i].name);
		free(rs->v[i].symref);
	}
	free(rs->v);
}

/* packed-refs: "<oid> <name>" lines, each optionally followed by "^<peeled oid>". */
static int read_packed(const char *gitdir, struct refs *rs)
{
	_cleanup_free_ char *path = xasprintf("%s/packed-refs", gitdir);
	_cleanup_(strbuf_release) struct strbuf sb = STRBUF_INIT;
	if (gitfiles_read(path, &sb) < 0)
		return errno == ENOENT ? FOUND : ASK_GIT;
	bool peeled_ok = false, tags = false, after_ref = false;
	struct ref *last = NULL; /* the previous line's ref when runnel wants it */
	for (char *p = sb.buf, *nl; *p; p = nl + 1) {
		nl = strchr(p, '\n');
		if (!nl)
			return ASK_GIT; /* a file being rewritten */
		size_t len = (size_t)(nl - p);
		if (*p == '#') {
			/* the traits of the writer: with "peeled", every annotated tag has its ^
			 * line */
			*nl = '\0';
			peeled_ok |= !strncmp(p, "# pack-refs with:", 17) &&
			             (strstr(p, " peeled") || strstr(p, " fully-peeled"));
			continue;
		}
		if (*p == '^') {
			if (!after_ref || !is_oid(p + 1, len - 1))
				return ASK_GIT;
			if (last)
				memcpy(last->peeled, p + 1, 40);
			after_ref = false;
			continue;
		}
		if (len < 42 || !is_oid(p, 40) || p[40] != ' ')
			return ASK_GIT;
		after_ref = true;
		last = NULL;
		if (!wanted(p + 41))
			continue;
		last = put_ref(rs, p + 41, len - 41);
		memcpy(last->oid, p, 40);
		tags |= !strncmp(last->name, "refs/tags/", 10);
	}
	return tags && !peeled_ok ? ASK_GIT : FOUND;
}

/* Loose refs below gitdir/<dir> (dir like "refs/heads"), recursively. */
static int read_loose(const char *gitdir, const char *dir, struct refs *rs)
{
	_cleanup_free_ char *path = xasprintf("%s/%s", gitdir, dir);
	DIR *d = opendir(path);
	if (!d)
		return errno == ENOENT ? FOUND : ASK_GIT;
	int r = FOUND;
	for (struct dirent *de; r == FOUND && (de = readdir(d));) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		size_t nl = strlen(de->d_name);
		if (nl >= 5 && !strcmp(de->d_name + nl - 5, ".lock"))
			r = ASK_GIT; /* a ref being updated */
		_cleanup_free_ char *name = xasprintf("%s/%s", dir, de->d_name);
		_cleanup_free_ char *full = xasprintf("%s/%s", gitdir, name);
		struct stat st;
		if (r != FOUND || lstat(full, &st) < 0) {
			r = ASK_GIT;
		} else if (S_ISDIR(st.st_mode)) {
			r = read_loose(gitdir, name, rs);
		} else if (!S_ISREG(st.st_mode) || !strncmp(name, "refs/tags/", 10)) {
			r = ASK_GIT; /* a loose tag may be annotated: only git can peel it */
		} else {
			_cleanup_(strbuf_release) struct strbuf sb = STRBUF_INIT;
			if (gitfiles_read(full, &sb) < 0 || !sb.len || sb.buf[sb.len - 1] != '\n') {
				r = ASK_GIT;
				continue;
			}
			strbuf_setlen(&sb, sb.len - 1);
			struct ref *ref = put_ref(rs, name, strlen(name));
			if (is_oid(sb.buf, sb.len))
				memcpy(ref->oid, sb.buf, 40);
			else if (!strncmp(sb.buf, "ref: refs/", 10) && !strchr(sb.buf, '\n'))
				ref->symref = xstrdup(sb.buf + 5);
			else
				r = ASK_GIT;
		}
	}
	closedir(d);
	return r;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct ref *)a)->name, ((const struct ref *)b)->name);
}

int gitfiles_refs(const char *gitdir, struct strbuf *out)
{
	struct refs rs = {NULL, 0, 0};
	int r = read_packed(gitdir, &rs);
	for (size_t i = 0; r == FOUND && i < 3; i++) {
		char dir[32];
		size_t n = strlen(ref_prefixes[i]) - 1; /* without the slash */
		memcpy(dir, ref_prefixes[i], n);
		dir[n] = '\0';
		r = read_loose(gitdir, dir, &rs);
	}
	/* a symbolic ref shows its target's object; one git would call broken is left to git */
	for (size_t i = 0; r == FOUND && i < rs.n; i++) {
		struct ref *ref = &rs.v[i];
		if (!ref->symref)
			continue;
		const struct ref *t = find_ref(&rs, ref->symref);
		if (!t || t->symref || !*t->oid)
			r = ASK_GIT;
		else
			memcpy(ref->oid, t->oid, 41);
	}
	if (r == FOUND && rs.n) {
		qsort(rs.v, rs.n, sizeof(*rs.v), by_name);
		for (size_t i = 0; i < rs.n; i++) {
			const struct ref *ref = &rs.v[i];
			strbuf_addstr(out, ref->name);
			strbuf_addch(out, '\0');
			strbuf_addstr(out, ref->symref ? ref->symref : "");
			strbuf_addch(out, '\0');
			strbuf_addstr(out, ref->oid);
			strbuf_addch(out, '\0');
			strbuf_addstr(out, ref->peeled);
			strbuf_add(out, "\0\n", 2);
		}
	}
	refs_release(&rs);
	return r;
}

/* ---- config ---- */

static const char *const config_keys[] = {"user.name", "user.email", "remote.origin.url"};

static bool is_config_key(const char *k)
{
	for (size_t i = 0; i < 3; i++)
		if (!strcmp(k, config_keys[i]))
			return true;
	return false;
}

static void lower(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

/* "[name]", "[name \"sub\"]" or the old "[name.sub]": the canonical "name." or "name.sub."
 * prefix into sect (owned). Returns a pointer after ']' or NULL for anything else. */
static const char *parse_header(const char *p, char **sect)
{
	const char *close = strchr(p, ']');
	if (!close)
		return NULL;
	_cleanup_free_ char *inner = xstrndup(p + 1, (size_t)(close - p - 1));
	char *q = strchr(inner, '"');
	free(*sect);
	*sect = NULL;
	if (q) {
		/* name "sub": the subsection keeps its case; escapes are left to git */
		char *endq = strrchr(inner, '"');
		if (endq == q || strchr(inner, '\\') || endq[1])
			return NULL;
		*endq = '\0';
		char *name = inner;
		size_t nl = strcspn(name, " \t");
		if (name + nl + strspn(name + nl, " \t") != q)
			return NULL;
		name[nl] = '\0';
		lower(name);
		*sect = xasprintf("%s.%s.", name, q + 1);
	} else {
		lower(inner);
		*sect = xasprintf("%s.", inner);
	}
	return close + 1;
}

/* One config file: its matching entries appended to out. A missing file is FOUND. */
static int config_file(const char *path, struct strbuf *out)
{
	_cleanup_(strbuf_release) struct strbuf sb = STRBUF_INIT;
	if (gitfiles_read(path, &sb) < 0)
		return errno == ENOENT ? FOUND : ASK_GIT;
	_cleanup_free_ char *sect = NULL;
	for (char *p = sb.buf; *p;) {
		char *nl = p + strcspn(p, "\n");
		bool last = !*nl;
		*nl = '\0';
		char *line = p + strspn(p, " \t\r");
		p = last ? nl : nl + 1;
		if (*line == '[') {
			const char *rest = parse_header(line, &sect);
			if (!rest || !strncmp(sect, "include", 7))
				return ASK_GIT; /* includes and unusual headers: git knows */
			line = (char *)rest + strspn(rest, " \t\r");
		}
		if (!*line || *line == '#' || *line == ';')
			continue;
		if (!sect || strchr(line, '\\'))
			return ASK_GIT; /* a key before any section; continuation lines, escapes */
		size_t kl =
		    strspn(line, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-");
		_cleanup_free_ char *key = xstrndup(line, kl);
		lower(key);
		_cleanup_free_ char *full = xasprintf("%s%s", sect, key);
		if (!is_config_key(full))
			continue;
		const char *v = line + kl;
		v += strspn(v, " \t");
		if (*v != '=' || strchr(v, '"'))
			return ASK_GIT; /* a bare boolean key; quoting */
		v++;
		v += strspn(v, " \t");
		size_t vl = strcspn(v, "#;");
		while (vl && strchr(" \t\r", v[vl - 1]))
			vl--;
		strbuf_addf(out, "%s\n", full);
		strbuf_add(out, v, vl);
		strbuf_addch(out, '\0');
	}
	return FOUND;
}

int gitfiles_config(const char *gitdir, struct strbuf *out)
{
	static const char *const env[] = {"GIT_CONFIG_NOSYSTEM", "GIT_CONFIG_SYSTEM",
	                                  "GIT_CONFIG_GLOBAL",   "GIT_CONFIG",
	                                  "GIT_CONFIG_COUNT",    "GIT_CONFIG_PARAMETERS"};
	for (size_t i = 0; i < sizeof(env) / sizeof(env[0]); i++)
		if (getenv(env[i]))
			return ASK_GIT;
	const char *home = getenv("HOME");
	if (!home || !*home)
		return ASK_GIT;
	const char *xdg = getenv("XDG_CONFIG_HOME");
	_cleanup_free_ char *xdg_file = xdg && *xdg ? xasprintf("%s/git/config", xdg)
	                                            : xasprintf("%s/.config/git/config", home);
	_cleanup_free_ char *home_file = xasprintf("%s/.gitconfig", home);
	_cleanup_free_ char *repo_file = xasprintf("%s/config", gitdir);
	/* git's order: system, global (XDG, then ~/.gitconfig), repository */
	const char *files[] = {"/etc/gitconfig", xdg_file, home_file, repo_file};
	for (size_t i = 0; i < 4; i++)
		if (config_file(files[i], out) != FOUND)
			return ASK_GIT;
	return FOUND;
}
