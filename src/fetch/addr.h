/* addr: the addresses of network includes, parsed before anything is fetched: remote: URLs
 * (scheme, host, port, path, query) and component: addresses (host/path/name@version with
 * GitLab's version forms). Pure string work, no I/O: the fuzz target fuzz-include-addr runs
 * both parsers. */
#pragma once
#include <stdbool.h>

#include "util/err.h"

/* An http(s) URL. Strings owned (fetch_url_release). */
struct fetch_url {
	char *scheme; /* "http" or "https", lower case */
	char *host;   /* lower case; an IPv6 literal without its brackets */
	int port;     /* explicit port, or the scheme's default (80, 443) */
	bool explicit_port;
	char *path;    /* from the first `/` (at least "/"), without query and fragment */
	char *query;   /* after `?`, without the fragment, or NULL */
	bool userinfo; /* the URL carried `user[:password]@` (never sent: see fetch/http.c) */
};

/* Parses s as GitLab's UrlSanitizer.valid? accepts a remote: location: http or https, a host
 * and an optional port 1-65535, no whitespace or control characters. Returns 0 with *ret
 * filled (owned), or -1 with err set (ERR_CONFIG, "... is not a valid http(s) URL: why"). */
int fetch_url_parse(const char *s, struct fetch_url *ret, struct err *err);
void fetch_url_release(struct fetch_url *u);

/* How a component's `@version` is to be resolved (GitLab's catalog rules). */
enum fetch_version_kind {
	FETCH_VER_LATEST, /* `~latest`: the newest released version */
	FETCH_VER_MAJOR,  /* `1`: the newest released 1.x.y */
	FETCH_VER_MINOR,  /* `1.2`: the newest released 1.2.y */
	FETCH_VER_SEMVER, /* `1.2.3` (or `1.2.3-rc1`): that release's tag */
	FETCH_VER_SHA,    /* 40 or 64 hex digits: that commit */
	FETCH_VER_REF,    /* anything else: a tag or branch of that name */
};

/* host[:port]/group/.../project/name@version. Strings owned (fetch_component_release). */
struct fetch_component {
	char *host;    /* as written, with its `:port` if any */
	char *project; /* group/.../project (at least one segment) */
	char *name;    /* the component's name (last path segment) */
	char *version; /* after the last `@` */
	enum fetch_version_kind kind;
	unsigned major, minor; /* FETCH_VER_MAJOR / FETCH_VER_MINOR (minor for MINOR only) */
};

/* Parses a component: address. Returns 0 with *ret filled (owned), or -1 with err set
 * (ERR_CONFIG: "component address '%s' should be host/path/name@version", or why the
 * version is not usable). */
int fetch_component_parse(const char *s, struct fetch_component *ret, struct err *err);
void fetch_component_release(struct fetch_component *c);
