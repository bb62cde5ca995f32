/* gitlab: GitLab REST API URLs and tokens for project: includes (see gitlab.h). */
#include "fetch/gitlab.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"
#include "util/strbuf.h"
#include "util/xalloc.h"
#include "yaml/node.h"

/* RFC 3986 unreserved characters stay, everything else (`/` included) is %XX. */
static void add_encoded(struct strbuf *sb, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (isalnum(c) || strchr("-._~", c))
			strbuf_addch(sb, (char)c);
		else
			strbuf_addf(sb, "%%%02X", c);
	}
}

/* server without its trailing `/`, then path, then key URL-encoded (when given). */
static void api_url_add(struct strbuf *sb, const char *server, const char *path, const char *key)
{
	size_t n = strlen(server);
	while (n && server[n - 1] == '/')
		n--;
	strbuf_add(sb, server, n);
	strbuf_addstr(sb, path);
	if (key)
		add_encoded(sb, key);
}

/* api_url_add as an owned string. */
static char *api_url(const char *server, const char *path, const char *key)
{
	struct strbuf sb = STRBUF_INIT;
	api_url_add(&sb, server, path, key);
	return strbuf_detach(&sb, NULL);
}

char *gitlab_releases_url(const char *server, const char *project)
{
	struct strbuf sb = STRBUF_INIT;
	api_url_add(&sb, server, "/api/v4/projects/", project);
	/* GitLab's largest page; a project with more releases than that is not seen whole */
	strbuf_addstr(&sb, "/releases?per_page=100");
	return strbuf_detach(&sb, NULL);
}

char *gitlab_template_url(const char *server, const char *key)
{
	return api_url(server, "/api/v4/templates/gitlab_ci_ymls/", key);
}

char *gitlab_version_url(const char *server)
{
	return api_url(server, "/api/v4/version", NULL);
}

char *gitlab_file_raw_url(const char *server, const char *project, const char *file,
                          const char *ref)
{
	struct strbuf sb = STRBUF_INIT;
	api_url_add(&sb, server, "/api/v4/projects/", project);
	strbuf_addstr(&sb, "/repository/files/");
	add_encoded(&sb, file);
	strbuf_addstr(&sb, "/raw");
	if (ref) {
		strbuf_addstr(&sb, "?ref=");
		add_encoded(&sb, ref);
	}
	return strbuf_detach(&sb, NULL);
}

/* glab's config file: $GLAB_CONFIG_DIR/config.yml, else the XDG config folder's
 * glab-cli/config.yml. Owned, or NULL. */
static char *glab_config_path(void)
{
	const char *d = getenv("GLAB_CONFIG_DIR");
	if (d && *d)
		return xasprintf("%s/config.yml", d);
	d = getenv("XDG_CONFIG_HOME");
	if (d && *d == '/')
		return xasprintf("%s/glab-cli/config.yml", d);
	d = getenv("HOME");
	return d && *d ? xasprintf("%s/.config/glab-cli/config.yml", d) : NULL;
}

/* The token glab stores for host (`hosts: HOST: token:`), read only, as a header: OAuth
 * logins (`is_oauth2: "true"`) as a Bearer, personal tokens as PRIVATE-TOKEN. */
char *gitlab_glab_token_header(const char *host)
{
	_cleanup_free_ char *path = glab_config_path();
	if (!path || !host)
		return NULL;
	struct yload_opts yo = YLOAD_OPTS_INIT;
	struct err err = ERR_INIT;
	struct ydoc *doc = ydoc_load_file(path, &yo, &err);
	/* a missing or broken glab config only means no token from it */
	err_release(&err);
	if (!doc)
		return NULL;
	const struct ynode *h = ynode_get(ynode_get(doc->root, "hosts"), host);
	const char *token = ynode_str(ynode_get(h, "token"));
	const char *oauth = ynode_str(ynode_get(h, "is_oauth2"));
	char *r = NULL;
	if (token && *token)
		r = oauth && strcmp(oauth, "true") == 0
		        ? xasprintf("Authorization: Bearer %s", token)
		        : xasprintf("PRIVATE-TOKEN: %s", token);
	ydoc_free(doc);
	return r;
}

char *gitlab_token_header(const char *host)
{
	const char *t = getenv("GITLAB_TOKEN");
	if (t && *t)
		return xasprintf("PRIVATE-TOKEN: %s", t);
	t = getenv("CI_JOB_TOKEN");
	if (t && *t)
		return xasprintf("JOB-TOKEN: %s", t);
	return gitlab_glab_token_header(host);
}

bool gitlab_ref_is_sha(const char *ref)
{
	size_t n = ref ? strlen(ref) : 0;
	if (n != 40 && n != 64)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)ref[i]))
			return false;
	return true;
}
