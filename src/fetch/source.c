/* source: remote: includes through the cache and HTTP(S) (see source.h and
 * docs/internals/includes.md, "Includes from the network").
 *
 * Per request: a cached copy that is pinned by integrity, or fresher than the TTL, is used
 * without asking (unless --refresh-includes); every other request of the level goes to the
 * network in one concurrent batch. A network failure (no answer: DNS, refused, timeout) falls
 * back to a cached copy with a warning naming its age; any answer of the server (404, a bad
 * certificate, integrity mismatch, too big) does not. */
#include "fetch/source.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "fetch/addr.h"
#include "fetch/cache.h"
#include "fetch/gitlab.h"
#include "fetch/http.h"
#include "fetch/version.h"
#include "model/include-source.h"
#include "util/cleanup.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

#define MAX_BYTES ((size_t)1 << 20) /* GitLab's limit on a CI file: checked again when parsed */
#define MAX_REDIRECTS 5L
#define CONNECT_MS 10000L

struct fetch_source {
	struct include_source iface;
	struct fetch_opts o;
	char *root; /* owned cache root, or NULL: no cache */
	time_t now;
};

/* One request on its way. */
struct pending {
	const struct isrc_request *req;
	struct isrc_result *res;
	struct fetch_url url; /* remote: the URL; project: the server */
	char *get;            /* owned: what is fetched */
	char *header;         /* owned: the token header (project: only), or NULL */
	char *subject;        /* owned: "remote include 'URL'", "project include 'g/p:f'" */
	bool immutable;       /* pinned by integrity, or a project file at a commit SHA */
	char *cache_path;     /* owned, or NULL */
	struct strbuf cached;
	bool have_cached;
	time_t cached_at;
	/* component: and template: (several rounds: the releases, then each candidate file; the
	 * templates API, then the server's version and GitLab's repository) */
	enum stage {
		COMP_NONE,
		COMP_RELEASES,
		COMP_FILE,
		COMP_DIR_FILE,
		TPL_API,     /* template: the server's templates API */
		TPL_VERSION, /* the server's version, for GitLab's repository */
		TPL_REPO,    /* the template file in GitLab's repository */
	} stage;
	struct fetch_component comp;
	char *server; /* owned: https://host of the component */
	char *ref;    /* owned: the version resolved to a tag, or the version as written */
	bool again;   /* another round is needed: get is the next URL */
};

/* The URL as messages show it: a password in it replaced (GitLab masks the location). */
static char *shown_url(const char *url)
{
	const char *sep = strstr(url, "://");
	const char *auth = sep ? sep + 3 : url;
	const char *end = auth + strcspn(auth, "/?#");
	const char *at = memrchr(auth, '@', (size_t)(end - auth));
	const char *colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
	if (!colon)
		return xstrdup(url);
	return xasprintf("%.*s:[MASKED]%s", (int)(colon - url), url, at);
}

/* Sets msg as the request's error, then runnel's detail in parentheses. */
static void fail_msg(struct pending *p, const char *msg, const char *detail)
{
	if (detail && *detail)
		err_set(&p->res->err, ERR_CONFIG, "%s (%s)", msg, detail);
	else
		err_set(&p->res->err, ERR_CONFIG, "%s", msg);
}

/* GitLab's message for a remote: "Remote file `URL` <what>". */
static void fail(struct pending *p, const char *what, const char *detail)
{
	_cleanup_free_ char *u = shown_url(p->req->location);
	_cleanup_free_ char *msg = xasprintf("Remote file `%s` %s", u, what);
	fail_msg(p, msg, detail);
}

/* GitLab's messages for a project file the API did not give (External::File::Project): the
 * API answers 404 for a project the token may not see, as for one that does not exist. */
static void fail_project_http(struct pending *p, const struct fetch_http_res *r)
{
	const struct isrc_request *q = p->req;
	_cleanup_free_ char *msg = NULL;
	char detail[160];
	snprintf(detail, sizeof(detail), "HTTP %ld from %s%s", r->code, p->url.host,
	         !p->header && (r->code == 401 || r->code == 403 || r->code == 404)
	             ? "; no token: set GITLAB_TOKEN or CI_JOB_TOKEN"
	             : "");
	if (r->code == 404 && r->body.len && strstr(r->body.buf, "File Not Found"))
		msg = xasprintf("Project `%s` file `%s` does not exist!", q->location, q->file);
	else if (r->code == 404 && r->body.len && strstr(r->body.buf, "Commit Not Found"))
		msg = xasprintf("Project `%s` reference `%s` does not exist!", q->location,
		                q->ref ? q->ref : "HEAD");
	else if (r->code == 401 || r->code == 403 || r->code == 404)
		msg =
		    xasprintf("Project `%s` not found or access denied! Make sure any includes in "
		              "the pipeline configuration are correctly defined.",
		              q->location);
	else
		msg =
		    xasprintf("Project `%s` file `%s` could not be fetched", q->location, q->file);
	fail_msg(p, msg, detail);
}

/* The network failed for a project file (no GitLab text: GitLab reads its own storage). */
static void fail_project_net(struct pending *p, const char *why, const char *detail)
{
	_cleanup_free_ char *msg = xasprintf("Project `%s` file `%s` could not be fetched from %s "
	                                     "because of %s",
	                                     p->req->location, p->req->file, p->url.host, why);
	fail_msg(p, msg, detail);
}

static void age_text(long s, char *out, size_t n)
{
	if (s < 120)
		snprintf(out, n, "%ld seconds", s < 0 ? 0 : s);
	else if (s < 2 * 3600)
		snprintf(out, n, "%ld minutes", s / 60);
	else if (s < 2 * 86400)
		snprintf(out, n, "%ld hours", s / 3600);
	else
		snprintf(out, n, "%ld days", s / 86400);
}

static void serve(struct pending *p, struct strbuf *body)
{
	p->res->len = body->len;
	p->res->body = strbuf_detach(body, NULL);
}

/* Whether the integrity (if any) holds for body; sets the error when not. */
static bool integrity_holds(struct pending *p, const struct strbuf *body)
{
	if (!p->req->integrity)
		return true;
	char got[52];
	fetch_integrity_of(body->buf, body->len, got);
	if (strcmp(got, p->req->integrity) == 0)
		return true;
	char detail[160];
	snprintf(detail, sizeof(detail), "expected %s, got %s", p->req->integrity, got);
	fail(p, "failed integrity check!", detail);
	return false;
}

/* RFC 2606 names (example.com, .example, .invalid, .test) never name a real server: runnel's
 * default server without an `origin` remote is https://gitlab.example.com. */
static bool reserved_host(const char *h)
{
	static const char *const names[] = {"example.com", "example.net", "example.org",
	                                    "example",     "invalid",     "test"};
	size_t n = strlen(h);
	for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++) {
		size_t k = strlen(names[i]);
		if (n == k ? strcmp(h, names[i]) == 0
		           : n > k && h[n - k - 1] == '.' && strcmp(h + n - k, names[i]) == 0)
			return true;
	}
	return false;
}

/* A project file through the server's API: the raw file URL, the token, the cache entry. Returns
 * false when it cannot be asked (no server, or a reserved example name: `unsupported`, the
 * model's offline message). */
static bool prepare_project(struct fetch_source *s, struct pending *p)
{
	const struct isrc_request *q = p->req;
	struct err e = ERR_INIT;
	if (!q->server || fetch_url_parse(q->server, &p->url, &e) < 0 ||
	    reserved_host(p->url.host)) {
		err_release(&e);
		p->res->unsupported = true;
		return false;
	}
	p->get = gitlab_file_raw_url(q->server, q->location, q->file, q->ref);
	_cleanup_free_ char *host = p->url.explicit_port
	                                ? xasprintf("%s:%d", p->url.host, p->url.port)
	                                : xstrdup(p->url.host);
	p->header = gitlab_token_header(host);
	p->subject = xasprintf("project include '%s:%s'", q->location, q->file);
	p->immutable = gitlab_ref_is_sha(q->ref);
	if (s->root)
		p->cache_path =
		    fetch_cache_project_path(s->root, &p->url, q->location, q->file, q->ref);
	return true;
}

/* The host[:port] of a URL as tokens and glab's config name it. Owned. */
static char *url_host_port(const struct fetch_url *u)
{
	return u->explicit_port ? xasprintf("%s:%d", u->host, u->port) : xstrdup(u->host);
}

/* The component's first request: its releases (a version range), else its first candidate
 * file at the version as written (a tag, a SHA or a branch). */
static void component_file_get(struct pending *p, bool dir_form)
{
	const struct fetch_component *c = &p->comp;
	_cleanup_free_ char *file = dir_form ? xasprintf("templates/%s/template.yml", c->name)
	                                     : xasprintf("templates/%s.yml", c->name);
	free(p->get);
	p->get = gitlab_file_raw_url(p->server, c->project, file, p->ref);
	p->stage = dir_form ? COMP_DIR_FILE : COMP_FILE;
}

/* A component: on its own host's API (https://host/api/v4). The environment's tokens go only
 * when that host is the pipeline's server; glab's login for the host always may. */
static bool prepare_component(struct fetch_source *s, struct pending *p)
{
	const struct isrc_request *q = p->req;
	struct err e = ERR_INIT;
	if (fetch_component_parse(q->location, &p->comp, &e) < 0) {
		fail_msg(p, e.msg, NULL);
		err_release(&e);
		return false;
	}
	p->server = xasprintf("https://%s", p->comp.host);
	if (fetch_url_parse(p->server, &p->url, &e) < 0 || reserved_host(p->url.host)) {
		err_release(&e);
		p->res->unsupported = true;
		return false;
	}
	_cleanup_free_ char *host = url_host_port(&p->url);
	struct fetch_url own = {0};
	bool own_server = q->server && fetch_url_parse(q->server, &own, &e) == 0 &&
	                  strcmp(own.host, p->url.host) == 0 && own.port == p->url.port;
	err_release(&e);
	fetch_url_release(&own);
	p->header = own_server ? gitlab_token_header(host) : gitlab_glab_token_header(host);
	p->subject = xasprintf("component include '%s'", q->location);
	p->immutable = p->comp.kind == FETCH_VER_SHA || p->comp.kind == FETCH_VER_SEMVER;
	if (s->root) {
		_cleanup_free_ char *key = xasprintf("component:%s", p->comp.name);
		p->cache_path = fetch_cache_project_path(s->root, &p->url, p->comp.project, key,
		                                         p->comp.version);
	}
	if (p->comp.kind == FETCH_VER_LATEST || p->comp.kind == FETCH_VER_MAJOR ||
	    p->comp.kind == FETCH_VER_MINOR) {
		p->get = gitlab_releases_url(p->server, p->comp.project);
		p->stage = COMP_RELEASES;
	} else {
		p->ref = xstrdup(p->comp.version);
		component_file_get(p, false);
	}
	return true;
}

/* GitLab's own repository, where its CI templates live (lib/gitlab/ci/templates). */
#define TEMPLATE_REPO_SERVER "https://gitlab.com"
#define TEMPLATE_REPO_PROJECT "gitlab-org/gitlab"
#define TEMPLATE_SUFFIX ".gitlab-ci.yml"

/* A template: first the pipeline server's templates API (the finder GitLab's include uses, so
 * the content that server would include); see complete_template for the fallback. */
static bool prepare_template(struct fetch_source *s, struct pending *p)
{
	const struct isrc_request *q = p->req;
	struct err e = ERR_INIT;
	size_t n = strlen(q->location), k = strlen(TEMPLATE_SUFFIX);
	if (n <= k || strcmp(q->location + n - k, TEMPLATE_SUFFIX) != 0) {
		err_set(&p->res->err, ERR_CONFIG, "Template file `%s` is not a valid location!",
		        q->location);
		return false;
	}
	if (!q->server || fetch_url_parse(q->server, &p->url, &e) < 0 ||
	    reserved_host(p->url.host)) {
		err_release(&e);
		p->res->unsupported = true;
		return false;
	}
	p->server = xstrdup(q->server);
	_cleanup_free_ char *key = xstrndup(q->location, n - k);
	p->get = gitlab_template_url(q->server, key);
	p->stage = TPL_API;
	_cleanup_free_ char *host = url_host_port(&p->url);
	p->header = gitlab_token_header(host);
	p->subject = xasprintf("template include '%s'", q->location);
	if (s->root)
		p->cache_path =
		    fetch_cache_project_path(s->root, &p->url, "template:", q->location, NULL);
	return true;
}

/* A remote: URL: parsed and checked, the cache entry. Returns false after an error. */
static bool prepare_remote(struct fetch_source *s, struct pending *p)
{
	struct err e = ERR_INIT;
	if (fetch_url_parse(p->req->location, &p->url, &e) < 0) {
		const char *why = strstr(e.msg, ": ");
		fail(p, "does not have a valid address!", why ? why + 2 : NULL);
		err_release(&e);
		return false;
	}
	if (p->req->integrity && !fetch_integrity_valid(p->req->integrity)) {
		fail(p, "has an invalid integrity!",
		     "integrity should be sha256- and the base64 SHA-256 digest of the file");
		return false;
	}
	p->get = xstrdup(p->req->location);
	_cleanup_free_ char *u = shown_url(p->req->location);
	p->subject = xasprintf("remote include '%s'", u);
	p->immutable = p->req->integrity != NULL;
	if (s->root)
		p->cache_path =
		    fetch_cache_remote_path(s->root, &p->url, p->req->location, p->req->integrity);
	return true;
}

/* Prepares the request and looks at the cache. Returns true when it still needs the network. */
static bool prepare(struct fetch_source *s, struct pending *p)
{
	strbuf_init(&p->cached, 0);
	bool ok = p->req->kind == ISRC_PROJECT     ? prepare_project(s, p)
	          : p->req->kind == ISRC_COMPONENT ? prepare_component(s, p)
	          : p->req->kind == ISRC_TEMPLATE  ? prepare_template(s, p)
	                                           : prepare_remote(s, p);
	if (!ok)
		return false;
	if (p->cache_path)
		p->have_cached =
		    fetch_cache_get(p->cache_path, MAX_BYTES, &p->cached, &p->cached_at);
	if (!p->have_cached || s->o.refresh)
		return true;
	if (!p->immutable && s->now - p->cached_at >= s->o.ttl_s)
		return true;
	if (p->req->integrity && !integrity_holds(p, &p->cached)) {
		/* a damaged cache entry: fetch again rather than fail */
		err_release(&p->res->err);
		return true;
	}
	serve(p, &p->cached);
	return false;
}

static bool is_net_failure(enum fetch_status st)
{
	return st == FETCH_NET_DNS || st == FETCH_NET_CONNECT || st == FETCH_NET_TIMEOUT;
}

/* Without an answer from the server, a cached copy stands in, with a warning. */
static bool fall_back(struct fetch_source *s, struct pending *p, const struct fetch_http_res *r)
{
	if (!is_net_failure(r->status) || !p->have_cached)
		return false;
	char age[64];
	age_text((long)(s->now - p->cached_at), age, sizeof(age));
	p->res->warning = xasprintf("%s served from the cache, fetched %s ago: it cannot be "
	                            "fetched now (%s)",
	                            p->subject, age, r->detail);
	serve(p, &p->cached);
	return true;
}

/* A project file's answer: GitLab's messages, the same cache fallback as remote: files. */
static bool complete_project_failed(struct fetch_source *s, struct pending *p,
                                    struct fetch_http_res *r)
{
	if (r->status == FETCH_OK)
		return false;
	if (fall_back(s, p, r))
		return true;
	if (r->status == FETCH_HTTP_CODE)
		fail_project_http(p, r);
	else if (r->status == FETCH_NET_TIMEOUT)
		fail_project_net(p, "a timeout error!", r->detail);
	else if (is_net_failure(r->status))
		fail_project_net(p, "a socket error!", r->detail);
	else
		fail_project_net(p, "an HTTP error!", r->detail);
	return true;
}

/* GitLab's messages for a component (Ci::Components::FetchService), then runnel's detail. */
static void fail_component(struct pending *p, const char *what, const char *detail)
{
	_cleanup_free_ char *msg = xasprintf("component '%s' - %s", p->req->location, what);
	fail_msg(p, msg, detail);
}

/* The tag that the component's version range names, from the releases' JSON (skipping
 * upcoming releases, which GitLab does not offer yet). NULL when none matches. Owned. */
static char *resolve_release(const struct pending *p, const struct strbuf *body)
{
	json_t *root = json_loadb(body->buf, body->len, 0, NULL);
	size_t n = json_is_array(root) ? json_array_size(root) : 0;
	const char **tags = xcalloc(n ? n : 1, sizeof(*tags));
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		json_t *r = json_array_get(root, i);
		const char *t = json_string_value(json_object_get(r, "tag_name"));
		if (t && !json_is_true(json_object_get(r, "upcoming_release")))
			tags[k++] = t;
	}
	long at = fetch_version_resolve(&p->comp, tags, k);
	char *r = at >= 0 ? xstrdup(tags[at]) : NULL;
	free(tags);
	json_decref(root);
	return r;
}

static void fail_component_http(struct pending *p, const struct fetch_http_res *r)
{
	char detail[160];
	snprintf(detail, sizeof(detail), "HTTP %ld from %s%s", r->code, p->url.host,
	         !p->header && (r->code == 401 || r->code == 403 || r->code == 404)
	             ? "; no token for that host: log in with glab"
	             : "");
	const char *body = r->body.len ? r->body.buf : "";
	if (r->code == 404 && strstr(body, "Commit Not Found"))
		fail_component(p, "content not found", detail);
	else if (r->code == 401 || r->code == 403 || r->code == 404)
		fail_component(p, "project does not exist or you don't have sufficient permissions",
		               detail);
	else
		fail_component(p, "content could not be fetched", detail);
}

/* The component's answer for its current round. Returns false when it is the file (the
 * caller caches and serves it), true otherwise: failed, or p->again set for the next round. */
static bool complete_component(struct fetch_source *s, struct pending *p, struct fetch_http_res *r)
{
	if (r->status != FETCH_OK) {
		bool missing_file = r->status == FETCH_HTTP_CODE && r->code == 404 && r->body.len &&
		                    strstr(r->body.buf, "File Not Found");
		if (missing_file && p->stage == COMP_FILE) {
			component_file_get(p, true);
			p->again = true;
			return true;
		}
		if (missing_file) {
			/* GitLab's text, as the model gives it for --include-dir */
			const char *atp = strrchr(p->req->location, '@');
			const char *sl =
			    memrchr(p->req->location, '/', (size_t)(atp - p->req->location));
			err_set(&p->res->err, ERR_CONFIG,
			        "component: `%s`. One of the files [templates/%s.yml,templates/%s/"
			        "template.yml] must exist in `%.*s`",
			        p->req->location, p->comp.name, p->comp.name,
			        (int)(sl - p->req->location), p->req->location);
		} else if (fall_back(s, p, r)) {
			return true;
		} else if (r->status == FETCH_HTTP_CODE) {
			fail_component_http(p, r);
		} else {
			_cleanup_free_ char *why =
			    xasprintf("could not be fetched from %s", p->url.host);
			fail_component(p, why, r->detail);
		}
		return true;
	}
	if (p->stage != COMP_RELEASES)
		return false; /* the file: cached and served by the caller */
	p->ref = resolve_release(p, &r->body);
	if (!p->ref) {
		fail_component(p, "content not found", "no released version matches");
		return true;
	}
	component_file_get(p, false);
	p->again = true;
	return true;
}

/* The template's answer for its current round (as complete_component). The API answers JSON
 * {name, content}; a 404 there (a server whose route does not take a nested name such as
 * Jobs/Build) falls back to GitLab's repository at the server's revision (its /version; that
 * needs a token: without one, or from a server that does not say, `master`). */
static bool complete_template(struct fetch_source *s, struct pending *p, struct fetch_http_res *r)
{
	if (p->stage == TPL_API && r->status == FETCH_HTTP_CODE &&
	    (r->code == 401 || r->code == 403 || r->code == 404)) {
		free(p->get);
		p->get = gitlab_version_url(p->server);
		p->stage = TPL_VERSION;
		p->again = true;
		return true;
	}
	if (p->stage == TPL_VERSION) {
		json_t *v =
		    r->status == FETCH_OK ? json_loadb(r->body.buf, r->body.len, 0, NULL) : NULL;
		const char *rev = json_string_value(json_object_get(v, "revision"));
		bool hex = rev && *rev && strspn(rev, "0123456789abcdef") == strlen(rev);
		_cleanup_free_ char *file =
		    xasprintf("lib/gitlab/ci/templates/%s", p->req->location);
		free(p->get);
		p->get = gitlab_file_raw_url(TEMPLATE_REPO_SERVER, TEMPLATE_REPO_PROJECT, file,
		                             hex ? rev : "master");
		json_decref(v);
		/* another host: the server's token stays with the server */
		if (p->header)
			explicit_bzero(p->header, strlen(p->header));
		free(p->header);
		p->header = NULL;
		p->stage = TPL_REPO;
		p->again = true;
		return true;
	}
	if (r->status != FETCH_OK) {
		if (fall_back(s, p, r))
			return true;
		if (r->status == FETCH_HTTP_CODE && r->code == 404)
			err_set(&p->res->err, ERR_CONFIG,
			        "Included file `%s` is empty or does not exist! (HTTP 404 from %s)",
			        p->req->location,
			        p->stage == TPL_REPO ? "gitlab.com" : p->url.host);
		else {
			_cleanup_free_ char *msg =
			    xasprintf("%s could not be fetched from %s", p->subject,
			              p->stage == TPL_REPO ? "gitlab.com" : p->url.host);
			fail_msg(p, msg, r->detail[0] ? r->detail : "no answer");
		}
		return true;
	}
	if (p->stage == TPL_REPO)
		return false;
	json_t *t = json_loadb(r->body.buf, r->body.len, 0, NULL);
	const char *content = json_string_value(json_object_get(t, "content"));
	bool failed = content == NULL;
	if (failed) {
		err_set(&p->res->err, ERR_CONFIG, "%s: the templates API of %s answered no content",
		        p->subject, p->url.host);
	} else {
		strbuf_reset(&r->body);
		strbuf_addstr(&r->body, content);
	}
	json_decref(t);
	return failed;
}

static void complete(struct fetch_source *s, struct pending *p, struct fetch_http_res *r)
{
	char code[96];
	if (p->req->kind == ISRC_PROJECT && complete_project_failed(s, p, r))
		return;
	if (p->req->kind == ISRC_COMPONENT && complete_component(s, p, r))
		return;
	if (p->req->kind == ISRC_TEMPLATE && complete_template(s, p, r))
		return;
	switch (r->status) {
	case FETCH_OK:
		break;
	case FETCH_NET_DNS:
	case FETCH_NET_CONNECT:
		if (!fall_back(s, p, r))
			fail(p, "could not be fetched because of a socket error!", r->detail);
		return;
	case FETCH_NET_TIMEOUT:
		if (!fall_back(s, p, r))
			fail(p, "could not be fetched because of a timeout error!", r->detail);
		return;
	case FETCH_HTTP_CODE:
		snprintf(code, sizeof(code),
		         "could not be fetched because of HTTP code `%ld` error!", r->code);
		fail(p, code, NULL);
		return;
	default:
		fail(p, "could not be fetched because of HTTP error!", r->detail);
		return;
	}
	if (!integrity_holds(p, &r->body))
		return;
	struct err e = ERR_INIT;
	/* a cache that cannot be written only costs the next run a fetch */
	if (p->cache_path && fetch_cache_put(p->cache_path, r->body.buf, r->body.len, &e) < 0)
		err_release(&e);
	serve(p, &r->body);
}

static long timeout_ms(const struct fetch_source *s)
{
	const char *t = getenv("RUNNEL_INCLUDE_TIMEOUT");
	char *end;
	long v = t ? strtol(t, &end, 10) : 0;
	if (t && *t && !*end && v > 0 && v <= 3600)
		return v * 1000;
	return s->o.timeout_ms;
}

/* GETs the requests still in need (their indexes in need[0..n)) all at once. */
static void fetch_batch(struct fetch_source *s, struct pending *ps, const size_t *need, size_t n)
{
	struct fetch_http_req *hr = xcalloc(n, sizeof(*hr));
	struct fetch_http_res *rs = xcalloc(n, sizeof(*rs));
	for (size_t i = 0; i < n; i++)
		hr[i] = (struct fetch_http_req){ps[need[i]].get, ps[need[i]].header};
	struct fetch_http_opts ho = {
	    .max_bytes = MAX_BYTES,
	    .timeout_ms = timeout_ms(s),
	    .connect_ms = CONNECT_MS,
	    .max_redirects = MAX_REDIRECTS,
	};
	struct err e = ERR_INIT;
	if (fetch_http_get_all(hr, n, &ho, rs, &e) < 0) {
		for (size_t i = 0; i < n; i++)
			fail(&ps[need[i]], "could not be fetched because of HTTP error!", e.msg);
		err_release(&e);
	} else {
		for (size_t i = 0; i < n; i++)
			complete(s, &ps[need[i]], &rs[i]);
	}
	for (size_t i = 0; i < n; i++)
		strbuf_release(&rs[i].body);
	free(rs);
	free(hr);
}

static void source_fetch(void *data, const struct isrc_request *reqs, size_t n,
                         struct isrc_result *res)
{
	struct fetch_source *s = data;
	s->now = time(NULL);
	struct pending *ps = xcalloc(n ? n : 1, sizeof(*ps));
	size_t *need = xcalloc(n ? n : 1, sizeof(*need));
	size_t n_need = 0;
	for (size_t i = 0; i < n; i++) {
		ps[i].req = &reqs[i];
		ps[i].res = &res[i];
		if (prepare(s, &ps[i]))
			need[n_need++] = i;
	}
	/* rounds: a component asks for its releases, then for one file and maybe the other */
	while (n_need) {
		fetch_batch(s, ps, need, n_need);
		size_t k = 0;
		for (size_t j = 0; j < n_need; j++)
			if (ps[need[j]].again)
				need[k++] = need[j];
		for (size_t j = 0; j < k; j++)
			ps[need[j]].again = false;
		n_need = k;
	}
	for (size_t i = 0; i < n; i++) {
		fetch_url_release(&ps[i].url);
		free(ps[i].cache_path);
		free(ps[i].get);
		free(ps[i].subject);
		if (ps[i].header) /* a token: not left in freed memory */
			explicit_bzero(ps[i].header, strlen(ps[i].header));
		free(ps[i].header);
		strbuf_release(&ps[i].cached);
		fetch_component_release(&ps[i].comp);
		free(ps[i].server);
		free(ps[i].ref);
	}
	free(need);
	free(ps);
}

struct fetch_source *fetch_source_new(const struct fetch_opts *o)
{
	struct fetch_source *s = xcalloc(1, sizeof(*s));
	s->o = *o;
	s->root = o->cache_root ? xstrdup(o->cache_root) : fetch_cache_root();
	s->iface.fetch = source_fetch;
	s->iface.locals = o->locals;
	s->iface.n_locals = o->n_locals;
	s->iface.data = s;
	return s;
}

const struct include_source *fetch_source_iface(struct fetch_source *s)
{
	return &s->iface;
}

void fetch_source_free(struct fetch_source *s)
{
	if (!s)
		return;
	free(s->root);
	free(s);
}
