/* addr: remote: URLs and component: addresses (see addr.h). */
#include "fetch/addr.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/xalloc.h"

#define MAX_ADDR 4096 /* longer addresses are refused before any parsing */

static bool has_bad_char(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s <= ' ' || *s == 0x7f)
			return true;
	return false;
}

static char *lower_ndup(const char *s, size_t n)
{
	char *d = xstrndup(s, n);
	for (char *p = d; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return d;
}

static int bad_url(struct err *err, const char *s, const char *why)
{
	return err_set(err, ERR_CONFIG, "'%s' is not a valid http(s) URL: %s", s, why);
}

/* Digits only, 1..65535. */
static int parse_port(const char *p, size_t n)
{
	if (n == 0 || n > 5)
		return -1;
	int v = 0;
	for (size_t i = 0; i < n; i++) {
		if (!isdigit((unsigned char)p[i]))
			return -1;
		v = v * 10 + (p[i] - '0');
	}
	return v >= 1 && v <= 65535 ? v : -1;
}

static bool host_chars_ok(const char *h, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)h[i]) && !strchr("-._~%", h[i]))
			return false;
	return n > 0;
}

/* Splits the authority (between `//` and the path) into host and port. */
static int parse_authority(const char *s, const char *a, size_t n, struct fetch_url *u,
                           struct err *err)
{
	const char *at = memrchr(a, '@', n);
	if (at) {
		u->userinfo = true;
		n -= (size_t)(at + 1 - a);
		a = at + 1;
	}
	const char *hend = a + n;
	const char *colon = NULL;
	if (n && *a == '[') {
		const char *close = memchr(a, ']', n);
		if (!close || close == a + 1)
			return bad_url(err, s, "bad IPv6 address");
		for (const char *c = a + 1; c < close; c++)
			if (!isxdigit((unsigned char)*c) && *c != ':' && *c != '.')
				return bad_url(err, s, "bad IPv6 address");
		u->host = lower_ndup(a + 1, (size_t)(close - a - 1));
		if (close + 1 < hend && close[1] != ':')
			return bad_url(err, s, "bad IPv6 address");
		colon = close + 1 < hend ? close + 1 : NULL;
	} else {
		colon = memchr(a, ':', n);
		size_t hl = colon ? (size_t)(colon - a) : n;
		if (!host_chars_ok(a, hl))
			return bad_url(err, s, "no host or a bad one");
		u->host = lower_ndup(a, hl);
	}
	if (colon) {
		int port = parse_port(colon + 1, (size_t)(hend - colon - 1));
		if (port < 0)
			return bad_url(err, s, "bad port");
		u->port = port;
		u->explicit_port = true;
	}
	return 0;
}

int fetch_url_parse(const char *s, struct fetch_url *ret, struct err *err)
{
	struct fetch_url u = {0};
	if (strlen(s) > MAX_ADDR)
		return bad_url(err, "...", "too long");
	if (has_bad_char(s))
		return bad_url(err, s, "whitespace or control characters");
	const char *sep = strstr(s, "://");
	if (!sep)
		return bad_url(err, s, "no scheme");
	u.scheme = lower_ndup(s, (size_t)(sep - s));
	if (strcmp(u.scheme, "http") != 0 && strcmp(u.scheme, "https") != 0) {
		fetch_url_release(&u);
		return bad_url(err, s, "only http and https are fetched");
	}
	u.port = strcmp(u.scheme, "https") == 0 ? 443 : 80;
	const char *a = sep + 3;
	size_t an = strcspn(a, "/?#");
	if (parse_authority(s, a, an, &u, err) < 0) {
		fetch_url_release(&u);
		return -1;
	}
	const char *p = a + an;
	size_t pn = strcspn(p, "?#");
	u.path = pn ? xstrndup(p, pn) : xstrdup("/");
	if (p[pn] == '?')
		u.query = xstrndup(p + pn + 1, strcspn(p + pn + 1, "#"));
	*ret = u;
	return 0;
}

void fetch_url_release(struct fetch_url *u)
{
	if (!u)
		return;
	free(u->scheme);
	free(u->host);
	free(u->path);
	free(u->query);
	*u = (struct fetch_url){0};
}

/* ---- component addresses ---------------------------------------------------------------- */

static bool all_digits(const char *s, size_t n)
{
	if (n == 0 || n > 9)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return false;
	return true;
}

static bool all_hex(const char *s)
{
	for (; *s; s++)
		if (!isxdigit((unsigned char)*s))
			return false;
	return true;
}

/* A ref name git accepts (check-ref-format, roughly): no `..`, `@{`, `\`, `~^:?*[`, not
 * starting or ending with `/` or `.`. `~latest` is handled before. */
static bool ref_name_ok(const char *v)
{
	size_t n = strlen(v);
	if (!n || v[0] == '/' || v[0] == '.' || v[n - 1] == '/' || v[n - 1] == '.' ||
	    strstr(v, "..") || strstr(v, "@{") || strstr(v, "//"))
		return false;
	return !strpbrk(v, "\\~^:?*[");
}

/* Classifies the version: ~latest, 1, 1.2, 1.2.3[-pre], a SHA, else a ref. */
static int version_kind(struct fetch_component *c, const char *addr, struct err *err)
{
	const char *v = c->version;
	const char *dot1 = strchr(v, '.');
	const char *dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
	size_t n = strlen(v);
	if (strcmp(v, "~latest") == 0) {
		c->kind = FETCH_VER_LATEST;
	} else if ((n == 40 || n == 64) && all_hex(v)) {
		c->kind = FETCH_VER_SHA;
	} else if (!dot1 && all_digits(v, n)) {
		c->kind = FETCH_VER_MAJOR;
		c->major = (unsigned)strtoul(v, NULL, 10);
	} else if (dot1 && !dot2 && all_digits(v, (size_t)(dot1 - v)) &&
	           all_digits(dot1 + 1, strlen(dot1 + 1))) {
		c->kind = FETCH_VER_MINOR;
		c->major = (unsigned)strtoul(v, NULL, 10);
		c->minor = (unsigned)strtoul(dot1 + 1, NULL, 10);
	} else if (dot2 && all_digits(v, (size_t)(dot1 - v)) &&
	           all_digits(dot1 + 1, (size_t)(dot2 - dot1 - 1)) &&
	           isdigit((unsigned char)dot2[1])) {
		c->kind = FETCH_VER_SEMVER;
	} else if (ref_name_ok(v)) {
		c->kind = FETCH_VER_REF;
	} else {
		return err_set(err, ERR_CONFIG, "component address '%s': '%s' is not a version",
		               addr, v);
	}
	return 0;
}

int fetch_component_parse(const char *s, struct fetch_component *ret, struct err *err)
{
	struct fetch_component c = {0};
	const char *atp = strrchr(s, '@');
	const char *first = strchr(s, '/');
	const char *last = NULL; /* the last `/` before the version */
	for (const char *p = s; atp && p < atp; p++)
		if (*p == '/')
			last = p;
	if (strlen(s) > MAX_ADDR || has_bad_char(s) || !atp || !first || !last || first == last ||
	    first == s || last + 1 == atp || !atp[1] || strstr(s, "//"))
		return err_set(err, ERR_CONFIG,
		               "component address '%s' should be host/path/name@version",
		               strlen(s) > MAX_ADDR ? "..." : s);
	c.host = xstrndup(s, (size_t)(first - s));
	c.project = xstrndup(first + 1, (size_t)(last - first - 1));
	c.name = xstrndup(last + 1, (size_t)(atp - last - 1));
	c.version = xstrdup(atp + 1);
	if (strchr(c.host, '@') || strchr(c.project, '@') || strchr(c.name, '@') ||
	    version_kind(&c, s, err) < 0) {
		if (!err_is_set(err))
			err_set(err, ERR_CONFIG,
			        "component address '%s' should be host/path/name@version", s);
		fetch_component_release(&c);
		return -1;
	}
	*ret = c;
	return 0;
}

void fetch_component_release(struct fetch_component *c)
{
	if (!c)
		return;
	free(c->host);
	free(c->project);
	free(c->name);
	free(c->version);
	*c = (struct fetch_component){0};
}
