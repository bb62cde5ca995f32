/* services-build: turning one service of a job (services:, default:services) into a started
 * container on the job's network: its environment, GitLab's aliases, the image and its pull
 * policy, the ports to wait for, the DinD flags and certificates volume, the runner settings
 * and --lenient. */
#include "exec/services.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "docker/client.h"
#include "exec/dindcache.h"
#include "exec/dindkeys.h"
#include "exec/exec.h"
#include "exec/registry.h"
#include "exec/services-internal.h"
#include "exec/settings.h"
#include "model/job.h"
#include "model/vars.h"
#include "report/report.h"
#include "util/cleanup.h"
#include "util/log.h"
#include "util/strbuf.h"
#include "util/strvec.h"
#include "util/xalloc.h"

static void string_list_to_strvec(const struct string_list *l, struct strvec *out)
{
	for (size_t i = 0; i < l->n; i++)
		strvec_push(out, l->v[i]);
}

static char *const *json_strings(const json_t *arr, struct strvec *out)
{
	size_t i;
	json_t *v;
	if (!json_is_array(arr))
		return NULL;
	json_array_foreach(arr, i, v) if (json_is_string(v)) strvec_push(out, json_string_value(v));
	return out->v;
}

/* Public job variables, then the service's own (expanded against all job variables). */
static void service_env(const struct service_spec *spec, const struct services_ctx *ctx,
                        struct strvec *env)
{
	for (size_t i = 0; ctx->job_vars && i < ctx->job_vars->n; i++) {
		const struct var *v = &ctx->job_vars->v[i];
		if (v->public_ && !v->file)
			strvec_pushf(env, "%s=%s", v->key, v->value ? v->value : "");
	}
	for (size_t i = 0; i < spec->variables.n; i++) {
		const struct var *v = &spec->variables.v[i];
		struct strbuf val = STRBUF_INIT;
		if (v->raw || !ctx->job_vars)
			strbuf_addstr(&val, v->value ? v->value : "");
		else
			vars_expand_runner(v->value ? v->value : "", ctx->job_vars, &val);
		strvec_pushf(env, "%s=%s", v->key, val.buf);
		strbuf_release(&val);
	}
}

/* Default then explicit aliases; one used by an earlier service is skipped with the runner's
 * warning. */
void services_add_aliases(struct service_set *set, size_t idx, const struct service_spec *spec,
                          const struct services_ctx *ctx)
{
	struct service *s = &set->v[idx];
	struct strvec all = STRVEC_INIT;
	services_default_aliases(s->name, &all);
	string_list_to_strvec(&spec->aliases, &all);
	for (size_t i = 0; i < all.n; i++) {
		bool taken = false;
		for (size_t j = 0; j < idx && !taken; j++)
			taken = strvec_find(&set->v[j].aliases, all.v[i]) >= 0;
		if (taken)
			report_job_printf(ctx->log,
			                  "WARNING: Skipping alias \"%s\" for service \"%s\" "
			                  "(services[%zu]): alias is already in use by another "
			                  "service.",
			                  all.v[i], s->name, idx);
		else if (strvec_find(&s->aliases, all.v[i]) < 0)
			strvec_push(&s->aliases, all.v[i]);
	}
	strvec_release(&all);
}

static const char *service_pull_policy(const struct service_spec *spec,
                                       const struct runner_settings *st)
{
	if (spec->image.pull_policy.n)
		return spec->image.pull_policy.v[0];
	if (st && st->pull_policy && *st->pull_policy)
		return st->pull_policy;
	return "if-not-present";
}

/* Inspects (and pulls, per the pull policy) the image; *ret_info is its inspect JSON. */
static int service_image(struct docker_client *c, const struct service_spec *spec,
                         const char *image, const struct services_ctx *ctx, json_t **ret_info,
                         struct err *err)
{
	const char *policy = service_pull_policy(spec, ctx->settings);
	bool found = false;
	if (strcmp(policy, "always") && docker_image_inspect(c, image, &found, ret_info, err) < 0)
		return -1;
	if (found)
		return 0;
	if (!strcmp(policy, "never"))
		return err_set(err, ERR_ENV,
		               "service image '%s' is not present locally and the pull policy is "
		               "never",
		               image);
	report_job_printf(ctx->log, "Pulling docker image %s ...", image);
	struct docker_pull_opts po = DOCKER_PULL_OPTS_INIT;
	po.cancel_fd = ctx->cancel_fd; /* Ctrl-C must not wait for a slow pull */
	if (docker_image_pull_opts(c, image, &po, err) < 0)
		return -1;
	json_decref(*ret_info);
	*ret_info = NULL;
	if (docker_image_inspect(c, image, &found, ret_info, err) < 0)
		return -1;
	if (!found)
		return err_set(err, ERR_ENV, "service image '%s' is missing after its pull", image);
	return 0;
}

static int port_cmp(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

/* Exposed TCP ports of the image (sorted, first 20), or HEALTHCHECK_TCP_PORT alone. */
static void service_ports(struct service *s, const json_t *config)
{
	const char *hc = services_env_find(s->env.v, "HEALTHCHECK_TCP_PORT");
	if (hc) {
		char *end;
		long p = strtol(hc, &end, 10);
		if (!*end && p > 0 && p < 65536)
			s->ports[s->n_ports++] = (int)p;
		return;
	}
	const char *key;
	json_t *v;
	int all[256];
	size_t n = 0;
	json_object_foreach(json_object_get(config, "ExposedPorts"), key, v)
	{
		char *end;
		long p = strtol(key, &end, 10);
		if (p > 0 && p < 65536 && (!*end || !strcmp(end, "/tcp")) && n < 256)
			all[n++] = (int)p;
	}
	qsort(all, n, sizeof(all[0]), port_cmp);
	for (size_t i = 0; i < n && s->n_ports < MAX_PORTS; i++)
		s->ports[s->n_ports++] = all[i];
}

/* Whether the job's DOCKER_HOST names this service: then it is waited for on that port even
 * without exposed ports. */
static void service_docker_host(struct service *s, const struct services_ctx *ctx)
{
	const char *dh = ctx->job_vars ? var_list_value(ctx->job_vars, "DOCKER_HOST") : NULL;
	_cleanup_free_ char *host = NULL;
	int port = 0;
	bool named =
	    services_parse_tcp_host(dh, &host, &port) && strvec_find(&s->aliases, host) >= 0;
	s->docker_host = named;
	s->docker_host_port = named ? port : 0;
	if (s->dind) {
		/* the daemon listens where its entrypoint says, whatever DOCKER_HOST claims: a
		 * mismatch is for the diagnosis, not a reason to wait 30 s */
		s->ping_tls = *s->certdir != '\0';
		s->ping_port = s->ping_tls ? 2376 : 2375;
		return;
	}
	if (named && !s->n_ports)
		s->ports[s->n_ports++] = port;
}

struct svc_build {
	struct strvec cmd, entry, labels, binds, image_env, image_cmd, image_entry;
	struct docker_mount mounts[2];
	size_t n_mounts;
};

static void svc_build_release(struct svc_build *b)
{
	strvec_release(&b->cmd);
	strvec_release(&b->entry);
	strvec_release(&b->labels);
	strvec_release(&b->binds);
	strvec_release(&b->image_env);
	strvec_release(&b->image_cmd);
	strvec_release(&b->image_entry);
}

/* The per-job certificate volume, created by the first DinD with TLS. */
int services_certs_volume(struct docker_client *c, struct service_set *set, const struct service *s,
                          const struct services_ctx *ctx, const char *prefix, struct err *err)
{
	if (set->certs_volume)
		return 0;
	_cleanup_free_ char *name = xasprintf("%s-certs", prefix);
	if (docker_volume_create(c, name, ctx->labels, err) < 0)
		return -1;
	set->certs_volume = TAKE_PTR(name);
	set->certs_target = xasprintf("%s/client", s->certdir);
	return 0;
}

/* Cmd and Entrypoint: the service's when given. */
static void service_cmd(const struct service_spec *spec, struct svc_build *b)
{
	if (spec->has_command)
		string_list_to_strvec(&spec->command, &b->cmd);
	if (spec->image.has_entrypoint) {
		string_list_to_strvec(&spec->image.entrypoint, &b->entry);
		if (!b->entry.n)
			strvec_push(&b->entry, "");
	}
}

/* After s->dind is known: a DinD running dockerd gets the runnel registry as an insecure
 * registry (its flags are appended to dockerd's). */
static void service_dind_flags(const struct service_spec *spec, const struct services_ctx *ctx,
                               const struct service *s, struct svc_build *b)
{
	bool flags_only =
	    spec->has_command ? (!b->cmd.n || b->cmd.v[0][0] == '-') : !b->image_cmd.n;
	if (!s->dind || !ctx->insecure_registry || !flags_only || spec->image.has_entrypoint)
		return;
	/* the scheme makes BuildKit speak plain HTTP too (the classic pusher strips it) */
	strvec_pushf(&b->cmd, "--insecure-registry=http://%s", ctx->insecure_registry);
	/* The registry listens on the engine's default bridge gateway (172.17.0.1), which is
	 * also where the inner dockerd puts its own docker0: the registry would be shadowed
	 * by the DinD's own bridge. Move that bridge elsewhere unless the user chose. */
	bool bip = false;
	for (size_t i = 0; i < b->cmd.n; i++)
		bip |= !strncmp(b->cmd.v[i], "--bip", 5);
	if (!bip && !strncmp(ctx->insecure_registry, "172.17.", 7))
		strvec_push(&b->cmd, "--bip=10.237.0.1/24");
}

static void service_binds(const struct services_ctx *ctx, struct svc_build *b)
{
	const struct runner_settings *st = ctx->settings;
	for (size_t i = 0; st && i < st->volumes.n; i++)
		if (strchr(st->volumes.v[i], ':'))
			strvec_push(&b->binds, st->volumes.v[i]);
}

/* --lenient: a DinD whose TLS setting contradicts the job's DOCKER_HOST port would leave the
 * job unable to connect (as on GitLab); start it the way DOCKER_HOST expects instead, and say
 * what GitLab would do and how to fix the YAML. */
void services_lenient_tls(struct service_set *set, struct service *s,
                          const struct services_ctx *ctx)
{
	if (!s->dind || !ctx->settings || !ctx->settings->lenient || !ctx->job_vars)
		return;
	const char *dh = var_list_value(ctx->job_vars, "DOCKER_HOST");
	const char *fix = services_lenient_certdir(dh, s->aliases.v, s->certdir);
	if (!fix)
		return;
	if (*fix)
		report_job_printf(
		    ctx->log,
		    "WARNING: --lenient: on GitLab this job cannot reach its Docker daemon: "
		    "DOCKER_HOST is %s (TLS) but service '%s' starts without TLS (empty "
		    "DOCKER_TLS_CERTDIR) and listens on 2375 only. runnel starts it with "
		    "DOCKER_TLS_CERTDIR=%s and gives the job its client certificates. Fix for "
		    "GitLab: variables: { DOCKER_HOST: \"tcp://%s:2375\" }",
		    dh, s->name, fix, s->aliases.v[0]);
	else
		report_job_printf(
		    ctx->log,
		    "WARNING: --lenient: on GitLab this job cannot reach its Docker daemon: "
		    "DOCKER_HOST is %s (no TLS) but service '%s' starts with TLS "
		    "(DOCKER_TLS_CERTDIR=%s) and listens on 2376 only. runnel starts it with TLS "
		    "off. Fix for GitLab: variables: { DOCKER_TLS_CERTDIR: \"\" }",
		    dh, s->name, s->certdir);
	strvec_pushf(&s->env, "DOCKER_TLS_CERTDIR=%s", fix); /* the last value wins */
	free(s->certdir);
	s->certdir = xstrdup(fix);
	set->lenient_tls |= *fix != '\0';
}

/* Image facts, environment, DinD, ports, volumes: everything before the create call. */
static int service_prepare(struct docker_client *c, struct service_set *set, size_t idx,
                           const struct service_spec *spec, const struct services_ctx *ctx,
                           struct svc_build *b, struct err *err)
{
	struct service *s = &set->v[idx];
	_cleanup_(json_decrefp) json_t *info = NULL;
	if (service_image(c, spec, s->name, ctx, &info, err) < 0)
		return -1;
	const json_t *config = json_object_get(info, "Config");
	json_strings(json_object_get(config, "Env"), &b->image_env);
	json_strings(json_object_get(config, "Cmd"), &b->image_cmd);
	json_strings(json_object_get(config, "Entrypoint"), &b->image_entry);
	service_env(spec, ctx, &s->env);
	service_cmd(spec, b);
	s->dind =
	    services_is_dind(s->name, spec->image.has_entrypoint ? b->entry.v : b->image_entry.v,
	                     spec->has_command ? b->cmd.v : b->image_cmd.v);
	service_dind_flags(spec, ctx, s, b);
	const char *cd = services_env_lookup(s->env.v, b->image_env.v, "DOCKER_TLS_CERTDIR");
	s->certdir = xstrdup(s->dind && cd ? cd : "");
	services_lenient_tls(set, s, ctx);
	service_ports(s, config);
	service_docker_host(s, ctx);
	service_binds(ctx, b);
	if (s->dind && *s->certdir) {
		if (services_certs_volume(c, set, s, ctx, s->container, err) < 0)
			return -1;
		b->mounts[b->n_mounts++] =
		    (struct docker_mount){.source = set->certs_volume, .target = set->certs_target};
	}
	return 0;
}

static const char *project_slug(const struct services_ctx *ctx)
{
	const char *slug =
	    ctx->job_vars ? var_list_value(ctx->job_vars, "CI_PROJECT_PATH_SLUG") : NULL;
	return slug && *slug ? slug : "project";
}

int services_create_one(struct docker_client *c, struct service_set *set, size_t idx,
                        const struct service_spec *spec, const struct services_ctx *ctx,
                        struct err *err)
{
	struct service *s = &set->v[idx];
	struct svc_build b = {STRVEC_INIT, STRVEC_INIT, STRVEC_INIT, STRVEC_INIT,
	                      STRVEC_INIT, STRVEC_INIT, STRVEC_INIT, .n_mounts = 0};
	int r = -1;
	if (service_prepare(c, set, idx, spec, ctx, &b, err) < 0)
		goto out;
	const struct runner_settings *st = ctx->settings;
	if (s->dind && st && st->dind_cache) {
		if (dindcache_acquire(c, project_slug(ctx), &s->cache, err) < 0)
			goto out;
		b.mounts[b.n_mounts++] =
		    (struct docker_mount){.source = s->cache.volume, .target = "/var/lib/docker"};
	}
	for (size_t i = 0; ctx->labels && ctx->labels[i]; i++)
		strvec_push(&b.labels, ctx->labels[i]);
	strvec_pushf(&b.labels, "runnel.service=%s", s->name);
	bool priv = runner_settings_privileged_for(st, s->name, true);
	/* privileged asked for, but allowed_privileged_services leaves this one out */
	s->privileged_filtered =
	    !priv && st &&
	    (st->services_privileged >= 0 ? st->services_privileged == 1 : st->privileged);
	struct docker_container_spec cs = {
	    .name = s->container,
	    .image = s->name,
	    .cmd = b.cmd.n ? b.cmd.v : NULL,
	    .entrypoint = spec->image.has_entrypoint ? b.entry.v : NULL,
	    .entrypoint_set = spec->image.has_entrypoint,
	    .env = s->env.v,
	    .labels = b.labels.v,
	    .user = spec->image.user,
	    .privileged = priv,
	    .network = ctx->network,
	    .network_aliases = ctx->network ? s->aliases.v : NULL,
	    .mounts = b.mounts,
	    .n_mounts = b.n_mounts,
	    .binds = b.binds.n ? b.binds.v : NULL,
	    .extra_hosts = st ? st->extra_hosts.v : NULL,
	    .dns = st ? st->dns.v : NULL,
	    .network_mode = st && st->network_mode && *st->network_mode ? st->network_mode : NULL,
	};
	struct err stale = ERR_INIT;
	if (docker_container_remove(c, s->container, &stale) < 0) /* a stale one of that name */
		err_release(&stale);
	if (docker_container_create(c, &cs, &s->id, err) < 0)
		goto out;
	/* its entrypoint then only signs certificates */
	if (s->dind && *s->certdir)
		dindkeys_seed(c, s->id, s->certdir);
	r = docker_container_start(c, s->id, err);
out:
	svc_build_release(&b);
	return r;
}
