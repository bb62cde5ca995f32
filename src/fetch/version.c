/* version: component version resolution over released versions (see version.h). */
#include "fetch/version.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "fetch/addr.h"

/* Digits without a leading zero (semver: `0` alone is fine). */
static int number(const char **p, unsigned long *ret)
{
	const char *s = *p;
	if (!isdigit((unsigned char)*s) || (s[0] == '0' && isdigit((unsigned char)s[1])))
		return -1;
	char *end;
	unsigned long v = strtoul(s, &end, 10);
	if (end - s > 9)
		return -1;
	*ret = v;
	*p = end;
	return 0;
}

/* Dot-separated identifiers of [0-9A-Za-z-], none empty. */
static bool idents_ok(const char *s, size_t n)
{
	if (n == 0)
		return false;
	bool empty = true;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '.') {
			if (empty)
				return false;
			empty = true;
		} else if (isalnum((unsigned char)s[i]) || s[i] == '-') {
			empty = false;
		} else {
			return false;
		}
	}
	return !empty;
}

int fetch_semver_parse(const char *s, struct fetch_semver *ret)
{
	struct fetch_semver v = {0};
	const char *p = s;
	if (number(&p, &v.major) < 0 || *p++ != '.' || number(&p, &v.minor) < 0 || *p++ != '.' ||
	    number(&p, &v.patch) < 0)
		return -1;
	if (*p == '-') {
		size_t n = strcspn(p + 1, "+");
		if (!idents_ok(p + 1, n))
			return -1;
		v.prerelease = 1;
		p += 1 + n;
	}
	if (*p == '+') {
		if (!idents_ok(p + 1, strlen(p + 1)))
			return -1;
		p += strlen(p);
	}
	if (*p)
		return -1;
	*ret = v;
	return 0;
}

static int cmp(const struct fetch_semver *a, const struct fetch_semver *b)
{
	if (a->major != b->major)
		return a->major < b->major ? -1 : 1;
	if (a->minor != b->minor)
		return a->minor < b->minor ? -1 : 1;
	if (a->patch != b->patch)
		return a->patch < b->patch ? -1 : 1;
	return 0;
}

static bool wanted(const struct fetch_component *c, const struct fetch_semver *v)
{
	if (v->prerelease)
		return false;
	if (c->kind == FETCH_VER_MAJOR)
		return v->major == c->major;
	if (c->kind == FETCH_VER_MINOR)
		return v->major == c->major && v->minor == c->minor;
	return c->kind == FETCH_VER_LATEST;
}

long fetch_version_resolve(const struct fetch_component *c, const char *const *released, size_t n)
{
	long best = -1;
	struct fetch_semver bv = {0};
	for (size_t i = 0; i < n; i++) {
		struct fetch_semver v;
		if (fetch_semver_parse(released[i], &v) < 0 || !wanted(c, &v))
			continue;
		/* the first of equal versions (1.0.0 and 1.0.0+build) wins */
		if (best < 0 || cmp(&v, &bv) > 0) {
			best = (long)i;
			bv = v;
		}
	}
	return best;
}
