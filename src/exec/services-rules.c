/* services-rules: GitLab's rules about a service, as plain functions (unit-tested): its
 * default aliases, whether it is a Docker daemon, a value of its environment, whether
 * CI_DEBUG_SERVICES is on, the --lenient fix of a DinD's DOCKER_TLS_CERTDIR, and the parts of a
 * tcp:// DOCKER_HOST. */
#include "exec/services.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "exec/services-internal.h"
#include "util/cleanup.h"
#include "util/strbuf.h"
#include "model/vars.h"
#include "util/strvec.h"
#include "util/xalloc.h"

void services_default_aliases(const char *image, struct strvec *out)
{
	_cleanup_free_ char *name = xstrdup(image);
	char *at = strchr(name, '@');
	if (at)
		*at = '\0';
	char *slash = strrchr(name, '/');
	char *colon = strrchr(slash ? slash : name, ':');
	if (colon)
		*colon = '\0';
	/* a registry port sits in the first component: "host:4999/ns/img" -> "host/ns/img" */
	char *first_slash = strchr(name, '/');
	char *port = strchr(name, ':');
	if (port && first_slash && port < first_slash)
		memmove(port, first_slash, strlen(first_slash) + 1);
	if (!*name)
		return;
	struct strbuf a = STRBUF_INIT, b = STRBUF_INIT;
	for (const char *p = name; *p; p++) {
		if (*p == '/')
			strbuf_addstr(&a, "__");
		else
			strbuf_addch(&a, *p);
		strbuf_addch(&b, *p == '/' ? '-' : *p);
	}
	strvec_push(out, a.buf);
	if (strcmp(a.buf, b.buf))
		strvec_push(out, b.buf);
	strbuf_release(&a);
	strbuf_release(&b);
}

static bool argv_mentions(char *const *argv, const char *word)
{
	for (size_t i = 0; argv && argv[i]; i++)
		if (strstr(argv[i], word))
			return true;
	return false;
}

bool services_is_dind(const char *image, char *const *entrypoint, char *const *cmd)
{
	/* the image name without the registry host: "dind.example.com/x" is not a daemon */
	const char *slash = strchr(image, '/');
	const char *name = image;
	if (slash && memchr(image, '.', (size_t)(slash - image)))
		name = slash + 1;
	return strstr(name, "dind") || argv_mentions(entrypoint, "dockerd") ||
	       argv_mentions(cmd, "dockerd");
}

const char *services_env_find(char *const *env, const char *key)
{
	const char *found = NULL;
	size_t kl = strlen(key);
	for (size_t i = 0; env && env[i]; i++)
		if (!strncmp(env[i], key, kl) && env[i][kl] == '=')
			found = env[i] + kl + 1;
	return found;
}

const char *services_env_lookup(char *const *env, char *const *image_env, const char *key)
{
	const char *v = services_env_find(env, key);
	return v ? v : services_env_find(image_env, key);
}

bool services_debug_enabled(const struct var_list *vars)
{
	const char *v = vars ? var_list_value(vars, "CI_DEBUG_SERVICES") : NULL;
	return v && (!strcasecmp(v, "true") || !strcmp(v, "1"));
}

const char *services_lenient_certdir(const char *docker_host, char *const *aliases,
                                     const char *certdir)
{
	_cleanup_free_ char *host = NULL;
	int port = 0;
	if (!services_parse_tcp_host(docker_host, &host, &port))
		return NULL;
	bool named = false;
	for (size_t i = 0; aliases && aliases[i] && !named; i++)
		named = !strcmp(aliases[i], host);
	if (!named)
		return NULL;
	if (port == 2375 && *certdir)
		return "";
	if (port == 2376 && !*certdir)
		return "/certs";
	return NULL;
}

bool services_parse_tcp_host(const char *docker_host, char **ret_host, int *ret_port)
{
	if (!docker_host || strncmp(docker_host, "tcp://", 6))
		return false;
	const char *h = docker_host + 6;
	const char *end = h + strcspn(h, "/");
	const char *colon = memrchr(h, ':', (size_t)(end - h));
	if (!colon || colon == h)
		return false;
	char *e;
	long port = strtol(colon + 1, &e, 10);
	if (e != end || port <= 0 || port > 65535)
		return false;
	*ret_host = xstrndup(h, (size_t)(colon - h));
	*ret_port = (int)port;
	return true;
}
