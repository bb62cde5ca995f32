/* context: the predefined variables of a local pipeline, from repository facts and the
 * ref/source chosen on the command line. Pure computation, no I/O. */
#include "vcs/context.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "model/vars.h"
#include "util/arena.h"
#include "util/cleanup.h"
#include "util/xalloc.h"
#include "vcs/git.h"

static const char *const sources[] = {
    "push",
    "web",
    "trigger",
    "schedule",
    "api",
    "external",
    "pipeline",
    "chat",
    "webide",
    "merge_request_event",
    "external_pull_request_event",
    "parent_pipeline",
    "ondemand_dast_scan",
    "ondemand_dast_validation",
    "security_orchestration_policy",
};

bool vcs_source_valid(const char *source)
{
	for (size_t i = 0; i < sizeof(sources) / sizeof(sources[0]); i++)
		if (!strcmp(sources[i], source))
			return true;
	return false;
}

const char *vcs_source_names(void)
{
	return "push, web, trigger, schedule, api, external, pipeline, chat, webide, "
	       "merge_request_event, external_pull_request_event, parent_pipeline, "
	       "ondemand_dast_scan, ondemand_dast_validation, security_orchestration_policy";
}

char *vcs_commit_title(const char *message)
{
	return xstrndup(message, strcspn(message, "\r\n"));
}

char *vcs_commit_description(const char *message)
{
	/* GitLab: a title of 100 characters or more makes the whole message the description;
	 * otherwise the text after the first newline, one trailing newline removed */
	size_t tlen = strcspn(message, "\r\n");
	const char *nl = strchr(message, '\n');
	const char *d = tlen >= 100 ? message : nl ? nl + 1 : "";
	size_t n = strlen(d);
	if (n && d[n - 1] == '\n')
		n--;
	if (n && d[n - 1] == '\r')
		n--;
	return xstrndup(d, n);
}

/* Server and project facts shared by many variables. */
struct project_facts {
	char *protocol, *host, *path, *server_url, *fqdn, *namespace, *name, *root_ns;
	int port;
};

static void project_release(struct project_facts *pf)
{
	free(pf->protocol);
	free(pf->host);
	free(pf->path);
	free(pf->server_url);
	free(pf->fqdn);
	free(pf->namespace);
	free(pf->name);
	free(pf->root_ns);
}

static void project_facts(const struct vcs_repo *r, struct project_facts *pf)
{
	struct vcs_remote rem;
	if (r->remote_url && vcs_parse_remote(r->remote_url, &rem) == 0) {
		pf->protocol = rem.protocol;
		pf->host = rem.host;
		pf->path = rem.path;
		pf->port = rem.port;
	} else {
		const char *base = strrchr(r->root, '/');
		base = base && base[1] ? base + 1 : "project";
		pf->protocol = xstrdup("https");
		pf->host = xstrdup("gitlab.example.com");
		pf->path = xasprintf("local/%s", base);
		pf->port = 443;
	}
	bool std_port = (pf->port == 443 && !strcmp(pf->protocol, "https")) ||
	                (pf->port == 80 && !strcmp(pf->protocol, "http"));
	pf->fqdn = std_port ? xstrdup(pf->host) : xasprintf("%s:%d", pf->host, pf->port);
	pf->server_url = xasprintf("%s://%s", pf->protocol, pf->fqdn);
	const char *slash = strrchr(pf->path, '/');
	pf->namespace = slash ? xstrndup(pf->path, (size_t)(slash - pf->path)) : xstrdup("");
	pf->name = xstrdup(slash ? slash + 1 : pf->path);
	pf->root_ns = xstrndup(pf->path, strcspn(pf->path, "/"));
}

static void set(struct arena *a, struct var_list *l, const char *k, const char *v)
{
	var_list_set_kv(a, l, k, v);
}

static void setf(struct arena *a, struct var_list *l, const char *k, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void setf(struct arena *a, struct var_list *l, const char *k, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	_cleanup_free_ char *v = xvasprintf(fmt, ap);
	va_end(ap);
	var_list_set_kv(a, l, k, v);
}

static void set_slug(struct arena *a, struct var_list *l, const char *k, const char *s)
{
	_cleanup_free_ char *slug = vars_slugify(s);
	var_list_set_kv(a, l, k, slug);
}

static char *lower(const char *s)
{
	char *d = xstrdup(s);
	for (char *p = d; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return d;
}

static void server_vars(const struct project_facts *pf, struct arena *a, struct var_list *l)
{
	set(a, l, "CI_SERVER_URL", pf->server_url);
	set(a, l, "CI_SERVER_HOST", pf->host);
	setf(a, l, "CI_SERVER_PORT", "%d", pf->port);
	set(a, l, "CI_SERVER_PROTOCOL", pf->protocol);
	set(a, l, "CI_SERVER_FQDN", pf->fqdn);
	set(a, l, "CI_SERVER_NAME", "GitLab");
	set(a, l, "CI_SERVER_SHELL_SSH_HOST", pf->host);
	set(a, l, "CI_SERVER_SHELL_SSH_PORT", "22");
	setf(a, l, "CI_API_V4_URL", "%s/api/v4", pf->server_url);
	setf(a, l, "CI_API_GRAPHQL_URL", "%s/api/graphql", pf->server_url);
	set(a, l, "CI_TEMPLATE_REGISTRY_HOST", "registry.gitlab.com");
}

static void project_vars(const struct vcs_repo *r, const struct project_facts *pf, struct arena *a,
                         struct var_list *l)
{
	set(a, l, "CI_PROJECT_ID", "1");
	set(a, l, "CI_PROJECT_NAME", pf->name);
	set(a, l, "CI_PROJECT_TITLE", pf->name);
	set(a, l, "CI_PROJECT_PATH", pf->path);
	set_slug(a, l, "CI_PROJECT_PATH_SLUG", pf->path);
	set(a, l, "CI_PROJECT_NAMESPACE", pf->namespace);
	set_slug(a, l, "CI_PROJECT_NAMESPACE_SLUG", pf->namespace);
	set(a, l, "CI_PROJECT_NAMESPACE_ID", "1");
	set(a, l, "CI_PROJECT_ROOT_NAMESPACE", pf->root_ns);
	setf(a, l, "CI_PROJECT_URL", "%s/%s", pf->server_url, pf->path);
	set(a, l, "CI_PROJECT_VISIBILITY", "private");
	set(a, l, "CI_PROJECT_DESCRIPTION", "");
	set(a, l, "CI_DEFAULT_BRANCH", r->default_branch);
	/* gitlab.com serves its registry on registry.gitlab.com; self-managed instances
	 * commonly use the same registry.<host> naming */
	_cleanup_free_ char *registry = xasprintf("registry.%s", pf->host);
	_cleanup_free_ char *image = xasprintf("%s/%s", registry, pf->path);
	_cleanup_free_ char *image_lc = lower(image);
	set(a, l, "CI_REGISTRY", registry);
	set(a, l, "CI_REGISTRY_IMAGE", image_lc);
	setf(a, l, "CI_DEPENDENCY_PROXY_SERVER", "%s:%d", pf->host, pf->port);
	setf(a, l, "CI_DEPENDENCY_PROXY_GROUP_IMAGE_PREFIX", "%s:%d/%s/dependency_proxy/containers",
	     pf->host, pf->port, pf->root_ns);
	setf(a, l, "CI_DEPENDENCY_PROXY_DIRECT_GROUP_IMAGE_PREFIX",
	     "%s:%d/%s/dependency_proxy/containers", pf->host, pf->port, pf->namespace);
}

static void commit_vars(const struct vcs_repo *r, struct arena *a, struct var_list *l)
{
	static const char zeros[] = "0000000000000000000000000000000000000000";
	const char *sha = r->sha ? r->sha : zeros;
	set(a, l, "CI_COMMIT_SHA", sha);
	setf(a, l, "CI_COMMIT_SHORT_SHA", "%.8s", sha);
	set(a, l, "CI_COMMIT_BEFORE_SHA", zeros);
	const char *msg = *r->message ? r->message : "No commit message";
	set(a, l, "CI_COMMIT_MESSAGE", msg);
	_cleanup_free_ char *title = vcs_commit_title(msg);
	_cleanup_free_ char *desc = vcs_commit_description(msg);
	set(a, l, "CI_COMMIT_TITLE", title);
	set(a, l, "CI_COMMIT_DESCRIPTION", desc);
	char ts[32] = "1970-01-01T00:00:00Z";
	time_t t = (time_t)r->commit_time;
	struct tm tm;
	if (gmtime_r(&t, &tm))
		strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	set(a, l, "CI_COMMIT_TIMESTAMP", ts);
	setf(a, l, "CI_COMMIT_AUTHOR", "%s <%s>", r->author_name ? r->author_name : "",
	     r->author_email ? r->author_email : "");
}

/* CI_COMMIT_BRANCH/TAG/REF_NAME/REF_SLUG/REF_PROTECTED and the merge request basics. */
static void ref_vars(const struct vcs_repo *r, const struct vcs_ref_opts *o,
                     const struct project_facts *pf, struct arena *a, struct var_list *l)
{
	const char *source = o->source ? o->source : "push";
	bool mr = !strcmp(source, "merge_request_event");
	const char *ref = o->tag ? o->tag : o->branch ? o->branch : r->default_branch;
	if (o->tag) {
		set(a, l, "CI_COMMIT_TAG", o->tag);
	} else if (!mr) {
		set(a, l, "CI_COMMIT_BRANCH", ref);
	}
	set(a, l, "CI_COMMIT_REF_NAME", ref);
	set_slug(a, l, "CI_COMMIT_REF_SLUG", ref);
	bool protected_ = !o->tag && !mr && !strcmp(ref, r->default_branch);
	set(a, l, "CI_COMMIT_REF_PROTECTED", protected_ ? "true" : "false");
	if (!mr)
		return;
	_cleanup_free_ char *title = vcs_commit_title(*r->message ? r->message : "");
	set(a, l, "CI_MERGE_REQUEST_ID", "1");
	set(a, l, "CI_MERGE_REQUEST_IID", "1");
	set(a, l, "CI_MERGE_REQUEST_TITLE", title);
	set(a, l, "CI_MERGE_REQUEST_EVENT_TYPE", "detached");
	set(a, l, "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME", ref);
	set(a, l, "CI_MERGE_REQUEST_SOURCE_BRANCH_SHA", var_list_value(l, "CI_COMMIT_SHA"));
	set(a, l, "CI_MERGE_REQUEST_TARGET_BRANCH_NAME", r->default_branch);
	set(a, l, "CI_MERGE_REQUEST_TARGET_BRANCH_PROTECTED", "true");
	set(a, l, "CI_MERGE_REQUEST_REF_PATH", "refs/merge-requests/1/head");
	set(a, l, "CI_MERGE_REQUEST_PROJECT_ID", "1");
	set(a, l, "CI_MERGE_REQUEST_PROJECT_PATH", pf->path);
	setf(a, l, "CI_MERGE_REQUEST_PROJECT_URL", "%s/%s", pf->server_url, pf->path);
	set(a, l, "CI_MERGE_REQUEST_SOURCE_PROJECT_ID", "1");
	set(a, l, "CI_MERGE_REQUEST_SOURCE_PROJECT_PATH", pf->path);
	setf(a, l, "CI_MERGE_REQUEST_SOURCE_PROJECT_URL", "%s/%s", pf->server_url, pf->path);
}

static void user_vars(const struct vcs_repo *r, struct arena *a, struct var_list *l)
{
	const char *name = r->user_name ? r->user_name : r->author_name ? r->author_name : "";
	const char *email = r->user_email ? r->user_email : r->author_email ? r->author_email : "";
	/* the login is the local part of the e-mail address: the closest local stand-in */
	_cleanup_free_ char *login = xstrndup(email, strcspn(email, "@"));
	set(a, l, "GITLAB_USER_ID", "1");
	set(a, l, "GITLAB_USER_NAME", name);
	set(a, l, "GITLAB_USER_EMAIL", email);
	set(a, l, "GITLAB_USER_LOGIN", login);
}

static void job_only_vars(const struct vcs_repo *r, const struct project_facts *pf, struct arena *a,
                          struct var_list *jl)
{
	set(a, jl, "CI_PIPELINE_ID", "1");
	setf(a, jl, "CI_PIPELINE_URL", "%s/%s/-/pipelines/1", pf->server_url, pf->path);
	setf(a, jl, "CI_PROJECT_DIR", "/builds/%s", pf->path);
	set(a, jl, "CI_BUILDS_DIR", "/builds");
	set(a, jl, "CI_REGISTRY_USER", "gitlab-ci-token");
	setf(a, jl, "CI_REPOSITORY_URL", "%s/%s.git", pf->server_url, pf->path);
	(void)r;
}

void vcs_predefined_vars(const struct vcs_repo *r, const struct vcs_ref_opts *o, struct arena *a,
                         struct var_list *vars, struct var_list *job_vars)
{
	struct project_facts pf = {0};
	project_facts(r, &pf);
	const char *source = o->source ? o->source : "push";
	set(a, vars, "CI", "true");
	set(a, vars, "GITLAB_CI", "true");
	set(a, vars, "CI_SERVER", "yes");
	set(a, vars, "CI_CONFIG_PATH", o->config_path ? o->config_path : ".gitlab-ci.yml");
	server_vars(&pf, a, vars);
	project_vars(r, &pf, a, vars);
	commit_vars(r, a, vars);
	ref_vars(r, o, &pf, a, vars);
	set(a, vars, "CI_PIPELINE_SOURCE", source);
	set(a, vars, "CI_PIPELINE_IID", "1");
	char ts[32] = "1970-01-01T00:00:00Z";
	time_t t = (time_t)o->now;
	struct tm tm;
	if (gmtime_r(&t, &tm))
		strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	set(a, vars, "CI_PIPELINE_CREATED_AT", ts);
	if (!strcmp(source, "trigger"))
		set(a, vars, "CI_PIPELINE_TRIGGERED", "true");
	user_vars(r, a, vars);
	job_only_vars(r, &pf, a, job_vars);
	project_release(&pf);
}
