/* services: the service containers of one job, from start to removal: started on the job's
 * network (services-build.c), waited for (services-wait.c), followed (services-monitor.c),
 * handed to the job container, and stopped with their logs saved. The DinD client certificates
 * are shared with the job through a per-job volume mounted at <certdir>/client, which
 * gitlab-runner needs configured by hand. */
#include "exec/services.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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
#include "util/fsutil.h"
#include "util/log.h"
#include "util/monotime.h"
#include "util/strbuf.h"
#include "util/strvec.h"
#include "util/xalloc.h"

double services_now(void)
{
	return monotime_s();
}

void services_log_tail(struct docker_client *c, const char *id, struct strbuf *out)
{
	struct err err = ERR_INIT;
	if (id && docker_container_logs(c, id, LOG_TAIL_LINES, out, &err) < 0) {
		strbuf_addf(out, "(cannot read the logs: %s)\n", err.msg);
		err_release(&err);
	}
}

/* "KEY=value" in env, replacing an earlier KEY. */
static void env_put(struct strvec *env, const char *key, const char *value)
{
	size_t kl = strlen(key);
	for (size_t i = 0; i < env->n; i++)
		if (!strncmp(env->v[i], key, kl) && env->v[i][kl] == '=') {
			free(env->v[i]);
			env->v[i] = xasprintf("%s=%s", key, value);
			return;
		}
	strvec_pushf(env, "%s=%s", key, value);
}

void services_job_container(struct service_set *set, struct exec_job_ctx *jc,
                            struct docker_container_spec *spec, struct strvec *env,
                            struct strvec *binds)
{
	const struct runner_settings *st = jc->run->settings;
	spec->privileged = runner_settings_privileged_for(st, jc->image, false);
	if (set) {
		set->timings = jc->t; /* services_wait and services_job_output fill it */
		/* --lenient started a DinD with TLS: the job's client must dial it with TLS */
		if (set->lenient_tls && set->certs_target) {
			env_put(env, "DOCKER_TLS_VERIFY", "1");
			env_put(env, "DOCKER_CERT_PATH", set->certs_target);
		}
	}
	registry_job_login(jc, env, binds);
	spec->env = env->v;
	spec->binds = binds->n ? binds->v : NULL;
}

/* ---- the API ---- */

static int set_add(struct docker_client *c, struct service_set *set, const struct job *job,
                   const struct services_ctx *ctx, struct err *err)
{
	const struct runner_settings *st = ctx->settings;
	/* gitlab-runner checks services_limit before it creates anything */
	if (st && st->services_limit >= 0 && job->n_services > (size_t)st->services_limit)
		return err_set(err, ERR_CONFIG,
		               "the job has %zu services, more than services_limit allows (%ld)",
		               job->n_services, st->services_limit);
	set->created_at = services_now();
	for (size_t i = 0; i < job->n_services; i++) {
		const struct service_spec *spec = &job->services[i];
		struct service *s = &set->v[set->n++];
		*s = (struct service){.aliases = STRVEC_INIT, .env = STRVEC_INIT};
		s->cache.lock_fd = -1;
		struct strbuf name = STRBUF_INIT;
		if (ctx->job_vars)
			vars_expand_runner(spec->image.name ? spec->image.name : "", ctx->job_vars,
			                   &name);
		else
			strbuf_addstr(&name, spec->image.name ? spec->image.name : "");
		s->name = strbuf_detach(&name, NULL);
		s->container = xasprintf("%s-svc-%zu", ctx->container_prefix, i);
		if (!*s->name)
			return err_set(err, ERR_CONFIG, "services[%zu] has no image name", i);
		if (ctx->settings && !runner_settings_image_allowed(ctx->settings, s->name, true))
			return err_set(err, ERR_CONFIG,
			               "the service image '%s' is not allowed by allowed_services",
			               s->name);
		services_add_aliases(set, i, spec, ctx);
		report_job_printf(ctx->log, "Starting service %s...", s->name);
		if (services_create_one(c, set, i, spec, ctx, err) < 0)
			return err_wrap(err, "cannot start service '%s'", s->name);
	}
	return 0;
}

struct service_set *services_start(struct docker_client *c, const struct job *job,
                                   const struct services_ctx *ctx, struct err *err)
{
	struct service_set *set = xcalloc(1, sizeof(*set));
	set->v = xcalloc(job->n_services ? job->n_services : 1, sizeof(*set->v));
	set->job_name = xstrdup(ctx->job_name ? ctx->job_name : "job");
	set->timeout_s = ctx->settings ? ctx->settings->wait_for_services_timeout : 30;
	if (set_add(c, set, job, ctx, err) < 0) {
		services_stop(c, set, NULL);
		return NULL;
	}
	return set;
}

void services_wait(struct docker_client *c, struct service_set *set, const struct services_ctx *ctx)
{
	if (!set || set->waited)
		return;
	set->waited = true;
	if (set->timeout_s > 0)
		services_wait_all(c, set, ctx);
	set->ready_at = services_now();
	if (set->timings)
		set->timings->services += set->ready_at - set->created_at;
	services_monitor_start(c, set, ctx);
}

void services_job_output(struct service_set *set)
{
	if (!set || !set->waited || set->script_at > 0)
		return;
	set->script_at = services_now();
	services_publish_ready_script(set);
}

void services_job_binds(const struct service_set *s, struct strvec *out)
{
	if (s && s->certs_volume)
		strvec_pushf(out, "%s:%s", s->certs_volume, s->certs_target);
}

/* File-name-safe copy: runs outside [A-Za-z0-9._-] become '_'. */
static char *file_safe(const char *s)
{
	struct strbuf b = STRBUF_INIT;
	for (; *s; s++) {
		bool ok = (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		          (*s >= '0' && *s <= '9') || strchr("._-", *s);
		if (ok)
			strbuf_addch(&b, *s);
		else if (!b.len || b.buf[b.len - 1] != '_')
			strbuf_addch(&b, '_');
	}
	return strbuf_detach(&b, NULL);
}

static void save_log(struct docker_client *c, const struct service_set *set,
                     const struct service *s, const char *log_dir)
{
	if (!log_dir || !s->id)
		return;
	struct strbuf logs = STRBUF_INIT;
	struct err err = ERR_INIT;
	if (docker_container_logs(c, s->id, 0, &logs, &err) < 0) {
		log_debug("service %s: %s", s->name, err.msg);
		err_release(&err);
	}
	_cleanup_free_ char *job = file_safe(set->job_name);
	_cleanup_free_ char *alias = file_safe(s->aliases.n ? s->aliases.v[0] : s->container);
	_cleanup_free_ char *path = xasprintf("%s/%s-service-%s.log", log_dir, job, alias);
	_cleanup_fclose_ FILE *f = fopen(path, "w");
	if (f)
		fwrite(logs.buf, 1, logs.len, f);
	else
		log_debug("cannot write '%s'", path);
	strbuf_release(&logs);
}

static void remove_quiet(struct docker_client *c, const char *what, int r, struct err *err)
{
	if (r < 0) {
		log_debug("%s: %s", what, err->msg);
		err_release(err);
	}
}

static void remove_tls_dir(char *dir)
{
	if (!dir)
		return;
	const char *files[] = {"ca.pem", "cert.pem", "key.pem", "client.tar"};
	for (size_t i = 0; i < 4; i++) {
		_cleanup_free_ char *p = xasprintf("%s/%s", dir, files[i]);
		unlink(p);
	}
	rmdir(dir);
	free(dir);
}

size_t services_vanished(struct docker_client *c, const struct service_set *set, struct strbuf *out)
{
	size_t n = 0;
	for (size_t i = 0; set && i < set->n; i++) {
		const struct service *s = &set->v[i];
		if (!s->id)
			continue;
		if (!exec_container_removed(c, s->id))
			continue;
		strbuf_addf(out, "%sthe job's service container '%s' (%s", n++ ? "; " : "",
		            s->container, s->name);
		for (size_t k = 0; k < s->aliases.n; k++)
			strbuf_addf(out, "%s%s", k ? ", " : " as ", s->aliases.v[k]);
		strbuf_addstr(out, ") was removed outside runnel (docker rm?)");
	}
	return n;
}

void services_stop(struct docker_client *c, struct service_set *set, const char *log_dir)
{
	if (!set)
		return;
	struct err err = ERR_INIT;
	services_monitor_stop(set); /* its last round streams the services' final log lines */
	for (size_t i = 0; i < set->n; i++) {
		struct service *s = &set->v[i];
		save_log(c, set, s, log_dir);
		/* after the job, not when it became ready: the copy must not delay the script */
		if (s->id && s->state == SVC_READY && s->dind && *s->certdir)
			dindkeys_harvest(c, s->id, s->certdir);
		if (s->id)
			remove_quiet(c, s->container, docker_container_remove(c, s->id, &err),
			             &err);
		dindcache_release(&s->cache);
		free(s->name);
		free(s->container);
		free(s->id);
		free(s->certdir);
		free(s->ip);
		strvec_release(&s->aliases);
		strvec_release(&s->env);
	}
	if (set->certs_volume)
		remove_quiet(c, set->certs_volume,
		             docker_volume_remove(c, set->certs_volume, true, &err), &err);
	remove_tls_dir(set->tls_dir);
	free(set->certs_volume);
	free(set->certs_target);
	free(set->job_name);
	free(set->v);
	free(set);
}
