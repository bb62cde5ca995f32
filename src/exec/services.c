/* services: the service containers of one job, started on the job's network under GitLab's
 * aliases and waited for like gitlab-runner waits (a TCP port accepting), but from runnel
 * itself: the container's IP on a bridge network is routable from the Linux host, so a
 * non-blocking connect every ~50 ms replaces the runner's helper container that redials each
 * second. A service that exits while waited for is reported at once; a Docker daemon service
 * is ready only when it answers GET /_ping (over TLS with its client certificates when
 * DOCKER_TLS_CERTDIR is set). The DinD client certificates are shared with the job through a
 * per-job volume mounted at <certdir>/client, which gitlab-runner needs configured by hand. */
#include "exec/services.h"

#include <archive.h>
#include <archive_entry.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "docker/client.h"
#include "exec/archive-dl.h"
#include "exec/dindcache.h"
#include "exec/dindkeys.h"
#include "exec/exec.h"
#include "exec/registry.h"
#include "exec/settings.h"
#include "model/job.h"
#include "model/vars.h"
#include "report/report.h"
#include "util/cleanup.h"
#include "util/log.h"
#include "util/strbuf.h"
#include "util/strvec.h"
#include "util/xalloc.h"

#define MAX_PORTS 20
#define TICK_MS 50
/* While services are waited for: a refused connect returns at once, so a round of connects is
 * paced to one every PROBE_MS (readiness noticed within that), and each service's state (an
 * inspect: did it die, what is its address) is read every STATE_MS. Spinning faster took CPU
 * from the services themselves (a TLS DinD generating its keys). */
#define PROBE_MS 10
#define STATE_MS 200
#define LOG_TAIL_LINES 40

enum svc_state { SVC_WAITING, SVC_READY, SVC_DIED, SVC_TIMEOUT, SVC_NO_PORTS, SVC_SKIPPED };

struct service {
	char *name;      /* expanded image name as written */
	char *container; /* container name */
	char *id;        /* container id, owned */
	struct strvec aliases;
	struct strvec env;
	bool dind;
	char *certdir; /* effective DOCKER_TLS_CERTDIR of a DinD ("" none), owned */
	int ports[MAX_PORTS];
	size_t n_ports;
	int ping_port; /* > 0: a Docker daemon, ready when /_ping answers on this port */
	bool ping_tls;
	char *ip; /* on the job network, owned */
	enum svc_state state;
	int exit_code;
	struct dindcache_slot cache;
	bool docker_host;         /* the job's DOCKER_HOST names it */
	int docker_host_port;     /* ... on this port */
	bool privileged_filtered; /* privileged on, but not in allowed_privileged_services */
	double ping_at;           /* monotonic time of its first /_ping answer, 0 none */
	double state_at;        /* when poll_state last read it (while waited for) */
	bool removed;             /* removed outside runnel while it was waited for */
	size_t log_seen;          /* CI_DEBUG_SERVICES: bytes of its log already streamed */
};

/* The thread that follows a job after its services are up: with CI_DEBUG_SERVICES it streams
 * the services' logs into the job's output. */
struct monitor {
	pthread_t thread;
	bool on;
	int stop[2];             /* pipe: written by services_stop */
	struct docker_client *c; /* the thread's own client */
	struct job_log *log;
};

struct service_set {
	struct service *v;
	size_t n;
	char *job_name;
	char *certs_volume; /* per-job volume with the DinD client certificates, owned */
	char *certs_target; /* where the job mounts it: <certdir>/client */
	char *tls_dir;      /* host copy of the client certificates for /_ping, owned */
	long timeout_s;
	double created_at, ready_at; /* first service create, all ready (--timings) */
	double script_at;            /* the job's first output after the wait, 0 not yet */
	struct exec_timings *timings; /* the job's, set by services_job_container */
	bool waited;                 /* services_wait ran (the overlay fallback starts twice) */
	bool lenient_tls;            /* --lenient turned TLS on: the job must dial with TLS */
	struct monitor mon;
};

/* ---- pure helpers (unit-tested) ---- */

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

static const char *env_find(char *const *env, const char *key)
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
	const char *v = env_find(env, key);
	return v ? v : env_find(image_env, key);
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

/* ---- small helpers ---- */

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static bool fd_readable(int fd)
{
	if (fd < 0)
		return false;
	struct pollfd p = {.fd = fd, .events = POLLIN};
	return poll(&p, 1, 0) > 0;
}

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

static void log_tail(struct docker_client *c, const char *id, struct strbuf *out)
{
	struct err err = ERR_INIT;
	if (id && docker_container_logs(c, id, LOG_TAIL_LINES, out, &err) < 0) {
		strbuf_addf(out, "(cannot read the logs: %s)\n", err.msg);
		err_release(&err);
	}
}

/* ---- building one service ---- */

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
static void service_aliases(struct service_set *set, size_t idx, const struct service_spec *spec,
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
	const char *hc = env_find(s->env.v, "HEALTHCHECK_TCP_PORT");
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
static int certs_volume(struct docker_client *c, struct service_set *set, const struct service *s,
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
static void lenient_tls(struct service_set *set, struct service *s, const struct services_ctx *ctx)
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
	lenient_tls(set, s, ctx);
	service_ports(s, config);
	service_docker_host(s, ctx);
	service_binds(ctx, b);
	if (s->dind && *s->certdir) {
		if (certs_volume(c, set, s, ctx, s->container, err) < 0)
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

static int service_create(struct docker_client *c, struct service_set *set, size_t idx,
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
	if (s->dind && *s->certdir)
		dindkeys_seed(c, s->id, s->certdir); /* its entrypoint then only signs certificates */
	r = docker_container_start(c, s->id, err);
out:
	svc_build_release(&b);
	return r;
}

/* ---- waiting ---- */

/* IP of the container on the job network (the first network when the name differs). */
static char *container_ip(const json_t *info, const char *network)
{
	const json_t *nets = json_object_get(json_object_get(info, "NetworkSettings"), "Networks");
	const char *key;
	json_t *v;
	const char *first = NULL;
	json_object_foreach((json_t *)nets, key, v)
	{
		const char *ip = json_string_value(json_object_get(v, "IPAddress"));
		const char *nid = json_string_value(json_object_get(v, "NetworkID"));
		if (!ip || !*ip)
			continue;
		if (network && (!strcmp(key, network) || (nid && !strcmp(nid, network))))
			return xstrdup(ip);
		if (!first)
			first = ip;
	}
	return first ? xstrdup(first) : NULL;
}

/* Inspects a waiting service: died (state set), running (IP recorded) or still starting. */
static void poll_state(struct docker_client *c, struct service *s, const char *network)
{
	struct err err = ERR_INIT;
	_cleanup_(json_decrefp) json_t *info = NULL;
	if (docker_container_inspect(c, s->id, &info, &err) < 0) {
		log_debug("service %s: %s", s->name, err.msg);
		err_release(&err);
		/* removed outside runnel (docker rm -f): no reason to wait for the timeout */
		if (exec_container_removed(c, s->id)) {
			s->state = SVC_DIED;
			s->removed = true;
		}
		return;
	}
	const json_t *st = json_object_get(info, "State");
	const char *status = json_string_value(json_object_get(st, "Status"));
	if (status && !strcmp(status, "removing")) {
		s->state = SVC_DIED;
		s->removed = true;
		return;
	}
	if (status && (!strcmp(status, "exited") || !strcmp(status, "dead"))) {
		s->state = SVC_DIED;
		s->exit_code = (int)json_integer_value(json_object_get(st, "ExitCode"));
		return;
	}
	if (!s->ip && status && !strcmp(status, "running"))
		s->ip = container_ip(info, network);
}

struct probe {
	int fd;
	size_t svc;
};

/* One round: a non-blocking connect to every port of every waiting service with an IP, all
 * polled together for up to TICK_MS. Returns the services whose connect succeeded in
 * ok[] (true = a port accepted). */
static void probe_round(struct service_set *set, bool *ok)
{
	struct pollfd pfd[64];
	struct probe pr[64];
	size_t n = 0;
	for (size_t i = 0; i < set->n; i++) {
		struct service *s = &set->v[i];
		ok[i] = false;
		if (s->state != SVC_WAITING || !s->ip)
			continue;
		size_t np = s->ping_port ? 1 : s->n_ports;
		for (size_t k = 0; k < np && n < 64; k++) {
			struct sockaddr_in sa = {.sin_family = AF_INET};
			sa.sin_port = htons((uint16_t)(s->ping_port ? s->ping_port : s->ports[k]));
			if (inet_pton(AF_INET, s->ip, &sa.sin_addr) != 1)
				continue;
			int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
			if (fd < 0)
				continue;
			if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
				ok[i] = true;
			else if (errno != EINPROGRESS) {
				close(fd);
				continue;
			}
			pfd[n] = (struct pollfd){.fd = fd, .events = POLLOUT};
			pr[n++] = (struct probe){.fd = fd, .svc = i};
		}
	}
	if (n)
		poll(pfd, n, TICK_MS);
	for (size_t k = 0; k < n; k++) {
		int e = 0;
		socklen_t l = sizeof(e);
		/* (a service may own several probes: the first success counts) */
		if ((pfd[k].revents & POLLOUT) &&
		    getsockopt(pr[k].fd, SOL_SOCKET, SO_ERROR, &e, &l) == 0 && e == 0)
			ok[pr[k].svc] = true;
		close(pr[k].fd);
	}
}

/* Writes a file taken from a tar stream into dir (only the basename: no path tricks). */
static int extract_certs(const char *tar_path, const char *dir)
{
	if (exec_archive_load(NULL) < 0)
		return -1;
	struct archive *a = archive_read_new();
	archive_read_support_format_tar(a);
	int found = 0;
	if (archive_read_open_filename(a, tar_path, 16384) != ARCHIVE_OK)
		goto out;
	struct archive_entry *e;
	while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
		const char *p = archive_entry_pathname(e);
		const char *base = strrchr(p, '/') ? strrchr(p, '/') + 1 : p;
		if (strcmp(base, "ca.pem") && strcmp(base, "cert.pem") && strcmp(base, "key.pem"))
			continue;
		_cleanup_free_ char *out = xasprintf("%s/%s", dir, base);
		_cleanup_close_ int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (fd < 0 || archive_read_data_into_fd(a, fd) != ARCHIVE_OK)
			goto out;
		found++;
	}
out:
	archive_read_free(a);
	return found == 3 ? 0 : -1;
}

/* Copies <certdir>/client/{ca,cert,key}.pem out of the service through the archive API. */
static int fetch_certs(struct docker_client *c, struct service_set *set, struct service *s)
{
	if (!set->tls_dir) {
		struct err err = ERR_INIT;
		set->tls_dir = exec_temp_dir("certs", &err);
		if (!set->tls_dir) {
			log_debug("service %s: %s", s->name, err.msg);
			err_release(&err);
			return -1;
		}
	}
	_cleanup_free_ char *tar = xasprintf("%s/client.tar", set->tls_dir);
	_cleanup_free_ char *src = xasprintf("%s/client", s->certdir);
	int fd = open(tar, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	struct err err = ERR_INIT;
	int r = docker_container_get_archive(c, s->id, src, fd, &err);
	close(fd);
	if (r < 0) {
		log_debug("service %s: %s", s->name, err.msg);
		err_release(&err);
	} else {
		r = extract_certs(tar, set->tls_dir);
	}
	unlink(tar);
	return r;
}

/* GET /_ping on the daemon in the service. */
static bool daemon_answers(struct docker_client *c, struct service_set *set, struct service *s)
{
	if (s->ping_tls && fetch_certs(c, set, s) < 0)
		return false;
	_cleanup_free_ char *host = xasprintf("tcp://%s:%d", s->ip, s->ping_port);
	struct docker_opts o = DOCKER_OPTS_INIT;
	o.host = host;
	o.tls_verify = s->ping_tls;
	o.cert_path = s->ping_tls ? set->tls_dir : NULL;
	o.timeout_ms = 2000;
	struct err err = ERR_INIT;
	struct docker_client *d = docker_client_new(&o, &err);
	if (!d) {
		log_debug("service %s: %s", s->name, err.msg);
		err_release(&err);
		return false;
	}
	docker_client_free(d);
	return true;
}

static void warn_block(struct docker_client *c, const struct service *s, const char *why,
                       const struct services_ctx *ctx)
{
	struct strbuf logs = STRBUF_INIT;
	log_tail(c, s->id, &logs);
	strbuf_rtrim(&logs);
	report_job_printf(ctx->log,
	                  "*** WARNING: Service %s probably didn't start properly.\n\n"
	                  "Health check error:\n%s\n\nHealth check container logs:\n\n"
	                  "Service container logs:\n%s\n\n*********\n",
	                  s->container, why, logs.len ? logs.buf : "");
	strbuf_release(&logs);
}

static bool waiting_any(const struct service_set *set)
{
	for (size_t i = 0; i < set->n; i++)
		if (set->v[i].state == SVC_WAITING)
			return true;
	return false;
}

/* One tick over every waiting service; a death is reported at once. */
static void wait_tick(struct docker_client *c, struct service_set *set,
                      const struct services_ctx *ctx)
{
	_cleanup_free_ bool *ok = xcalloc(set->n ? set->n : 1, sizeof(*ok));
	double t0 = now_s();
	for (size_t i = 0; i < set->n; i++) {
		struct service *s = &set->v[i];
		if (s->state != SVC_WAITING || (s->ip && t0 - s->state_at < STATE_MS / 1000.0))
			continue;
		s->state_at = t0;
		poll_state(c, s, ctx->network);
		if (s->state == SVC_DIED) {
			_cleanup_free_ char *why =
			    s->removed ? xasprintf("service \"%s\" was removed outside runnel "
			                           "(docker rm?) while it was waited for",
			                           s->container)
			               : xasprintf("service \"%s\" exited with code %d while it "
			                           "was waited for",
			                           s->container, s->exit_code);
			warn_block(c, s, why, ctx);
		}
	}
	probe_round(set, ok);
	for (size_t i = 0; i < set->n; i++)
		if (ok[i] && (!set->v[i].ping_port || daemon_answers(c, set, &set->v[i]))) {
			set->v[i].state = SVC_READY;
			if (set->v[i].ping_port)
				set->v[i].ping_at = now_s(); /* --timings: ready>script */
		}
	if (!waiting_any(set))
		return;
	/* nobody had an address to dial yet: wait a tick; else keep the probe cadence */
	bool dialed = false;
	for (size_t i = 0; i < set->n; i++)
		dialed |= set->v[i].state == SVC_WAITING && set->v[i].ip;
	int left = dialed ? PROBE_MS - (int)((now_s() - t0) * 1000.0) : TICK_MS;
	if (left > 0)
		poll(NULL, 0, left);
}

static void wait_services(struct docker_client *c, struct service_set *set,
                          const struct services_ctx *ctx)
{
	for (size_t i = 0; i < set->n; i++) {
		struct service *s = &set->v[i];
		if (s->n_ports || s->ping_port)
			continue;
		s->state = SVC_NO_PORTS;
		_cleanup_free_ char *why =
		    xasprintf("service \"%s\" has no exposed ports", s->container);
		warn_block(c, s, why, ctx);
	}
	if (!waiting_any(set))
		return;
	report_job_printf(ctx->log,
	                  "Waiting for services to be up and running (timeout %ld "
	                  "seconds)...",
	                  set->timeout_s);
	double deadline = now_s() + (double)set->timeout_s;
	while (waiting_any(set) && now_s() < deadline && !fd_readable(ctx->cancel_fd))
		wait_tick(c, set, ctx);
	for (size_t i = 0; i < set->n; i++) {
		struct service *s = &set->v[i];
		if (s->state != SVC_WAITING)
			continue;
		s->state = SVC_TIMEOUT;
		if (fd_readable(ctx->cancel_fd))
			continue;
		_cleanup_free_ char *why =
		    xasprintf("service \"%s-wait-for-service\" timeout", s->container);
		warn_block(c, s, why, ctx);
	}
}

/* ---- the monitor thread: CI_DEBUG_SERVICES and ready>script ---- */

/* The DinD service the job's DOCKER_HOST names and that answered /_ping, or NULL. */
static const struct service *docker_host_daemon(const struct service_set *set)
{
	for (size_t i = 0; i < set->n; i++)
		if (set->v[i].docker_host && set->v[i].dind && set->v[i].ping_at > 0)
			return &set->v[i];
	return NULL;
}

/* Hands ready>script to the job's timings once both ends are known. */
static void publish_ready_script(struct service_set *set)
{
	const struct service *d = docker_host_daemon(set);
	if (!d || !set->timings || set->script_at <= 0)
		return;
	double ms = (set->script_at - d->ping_at) * 1000.0;
	set->timings->ready_script = ms > 0 ? ms : 0;
	set->timings->has_ready_script = true;
}

/* The name in "[service:<name>] ": the service's aliases joined by '-' ("postgres-db" for
 * postgres with alias db), as in gitlab-runner's CI_DEBUG_SERVICES output. Owned. */
static char *service_log_name(const struct service *s)
{
	struct strbuf b = STRBUF_INIT;
	for (size_t i = 0; i < s->aliases.n; i++)
		strbuf_addf(&b, "%s%s", i ? "-" : "", s->aliases.v[i]);
	if (!b.len)
		strbuf_addstr(&b, s->container);
	return strbuf_detach(&b, NULL);
}

/* Streams the new complete lines of every service's log (all of it when `all`). */
static void stream_service_logs(struct service_set *set, bool all)
{
	struct monitor *m = &set->mon;
	for (size_t i = 0; i < set->n; i++) {
		struct service *s = &set->v[i];
		struct strbuf logs = STRBUF_INIT, out = STRBUF_INIT;
		struct err err = ERR_INIT;
		if (s->id && docker_container_logs(m->c, s->id, 0, &logs, &err) < 0)
			err_release(&err);
		_cleanup_free_ char *alias = service_log_name(s);
		size_t p = s->log_seen;
		while (p < logs.len) {
			const char *nl = memchr(logs.buf + p, '\n', logs.len - p);
			if (!nl && !all)
				break;
			size_t l = nl ? (size_t)(nl - (logs.buf + p)) : logs.len - p;
			strbuf_addf(&out, "[service:%s] %.*s\n", alias, (int)l, logs.buf + p);
			p += l + (nl ? 1 : 0);
		}
		if (p > s->log_seen) {
			s->log_seen = p;
			/* stream 2: whole lines, so they never split a line of the job's stdout */
			report_job_write(m->log, 2, out.buf, out.len);
		}
		strbuf_release(&logs);
		strbuf_release(&out);
	}
}

static void *monitor_main(void *p)
{
	struct service_set *set = p;
	struct monitor *m = &set->mon;
	for (bool stop = false; !stop;) {
		/* the Engine API has no follow-from-offset: re-read the logs every 250 ms */
		struct pollfd pf = {.fd = m->stop[0], .events = POLLIN};
		stop = poll(&pf, 1, 250) > 0;
		stream_service_logs(set, stop);
	}
	return NULL;
}

/* Starts the monitor with CI_DEBUG_SERVICES. Problems only cost the feature. */
static void monitor_start(struct docker_client *c, struct service_set *set,
                          const struct services_ctx *ctx)
{
	struct monitor *m = &set->mon;
	if (!services_debug_enabled(ctx->job_vars) || !ctx->log)
		return;
	struct err err = ERR_INIT;
	m->log = ctx->log;
	m->c = docker_client_clone(c, &err);
	m->stop[0] = m->stop[1] = -1;
	if (!m->c || pipe2(m->stop, O_CLOEXEC) < 0) {
		log_debug("services: no monitor: %s", m->c ? strerror(errno) : err.msg);
		err_release(&err);
		return;
	}
	m->on = pthread_create(&m->thread, NULL, monitor_main, set) == 0;
}

static void monitor_stop(struct service_set *set)
{
	struct monitor *m = &set->mon;
	if (m->on) {
		if (write(m->stop[1], "x", 1) < 0)
			log_debug("services: cannot stop the monitor: %s", strerror(errno));
		pthread_join(m->thread, NULL);
		m->on = false;
	}
	for (int i = 0; m->c && i < 2; i++)
		if (m->stop[i] >= 0)
			close(m->stop[i]);
	docker_client_free(m->c);
	m->c = NULL;
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
	set->created_at = now_s();
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
		service_aliases(set, i, spec, ctx);
		report_job_printf(ctx->log, "Starting service %s...", s->name);
		if (service_create(c, set, i, spec, ctx, err) < 0)
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

void services_wait(struct docker_client *c, struct service_set *set,
                   const struct services_ctx *ctx)
{
	if (!set || set->waited)
		return;
	set->waited = true;
	if (set->timeout_s > 0)
		wait_services(c, set, ctx);
	set->ready_at = now_s();
	if (set->timings)
		set->timings->services += set->ready_at - set->created_at;
	monitor_start(c, set, ctx);
}

void services_job_output(struct service_set *set)
{
	if (!set || !set->waited || set->script_at > 0)
		return;
	set->script_at = now_s();
	publish_ready_script(set);
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
	monitor_stop(set); /* its last round streams the services' final log lines */
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

/* ---- diagnosis ---- */

static const struct services_diag_svc *diag_by_alias(const struct services_diag_svc *v, size_t n,
                                                     const char *alias)
{
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; v[i].aliases && v[i].aliases[k]; k++)
			if (!strcmp(v[i].aliases[k], alias))
				return &v[i];
	return NULL;
}

static bool privileged_trouble(const char *logs)
{
	return logs && (strstr(logs, "Are you running with --privileged") ||
	                strcasestr(logs, "mount: permission denied") ||
	                strcasestr(logs, "operation not permitted"));
}

/* "'docker' (docker:24-dind), 'postgres' (postgres:15)" */
static void diag_aliases(const struct services_diag_svc *v, size_t n, struct strbuf *out)
{
	const char *sep = "";
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; v[i].aliases && v[i].aliases[k]; k++, sep = ", ")
			strbuf_addf(out, "%s'%s' (%s)", sep, v[i].aliases[k], v[i].name);
}

/* The last `lines` lines of a log, indented. */
static void diag_tail(const char *who, const char *logs, struct strbuf *out)
{
	if (!logs || !*logs)
		return;
	const char *end = logs + strlen(logs);
	while (end > logs && end[-1] == '\n')
		end--;
	const char *p = end;
	for (int lines = 0; p > logs && lines < 10; p--)
		if (p[-1] == '\n' && ++lines == 10)
			break;
	strbuf_addf(out, "\n%s log ends with:\n", who);
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t l = nl ? (size_t)(nl - p) : (size_t)(end - p);
		strbuf_addf(out, "  %.*s\n", (int)l, p);
		p += l + 1;
	}
	strbuf_rtrim(out);
}

static const char *first_alias(const struct services_diag_svc *s)
{
	return s->aliases && s->aliases[0] ? s->aliases[0] : s->name;
}

static void diag_privileged(const struct services_diag_svc *s, struct strbuf *out)
{
	if (s->privileged_filtered) {
		strbuf_addf(out,
		            "service '%s' (%s) cannot run its Docker daemon: the dind service "
		            "needs privileged mode, and privileged is on, but '%s' matches no "
		            "pattern of allowed_privileged_services, so it ran unprivileged: add "
		            "a matching pattern (e.g. \"docker:*-dind\") to "
		            "allowed_privileged_services in .runnel.yml",
		            s->name, first_alias(s), s->name);
		diag_tail(s->name, s->log_tail, out);
		return;
	}
	strbuf_addf(out,
	            "service '%s' (%s) cannot run its Docker daemon: the dind service needs "
	            "privileged mode: run with --privileged or set privileged: true in "
	            ".runnel.yml",
	            s->name, first_alias(s));
	diag_tail(s->name, s->log_tail, out);
}

static bool diag_tls_mismatch(const struct services_diag_svc *s, const char *host, int port,
                              struct strbuf *out)
{
	if (s->tls && port != 2376) {
		strbuf_addf(out,
		            "the Docker daemon of service '%s' listens with TLS on "
		            "tcp://%s:2376, not on port %d, because DOCKER_TLS_CERTDIR is "
		            "'%s' for the service: either turn TLS off for both sides "
		            "(variables: DOCKER_TLS_CERTDIR: \"\", DOCKER_HOST: tcp://%s:2375) "
		            "or dial TLS (DOCKER_HOST: tcp://%s:2376, DOCKER_TLS_VERIFY: 1, "
		            "DOCKER_CERT_PATH: %s/client); `runnel run --lenient` gets past this "
		            "by starting the service without TLS",
		            s->name, host, port, s->certdir, host, host, s->certdir);
		return true;
	}
	if (s->dind && !s->tls && port == 2376) {
		strbuf_addf(out,
		            "the Docker daemon of service '%s' listens without TLS on "
		            "tcp://%s:2375 because DOCKER_TLS_CERTDIR is empty for the "
		            "service: use DOCKER_HOST: tcp://%s:2375 (and unset "
		            "DOCKER_TLS_VERIFY), or set DOCKER_TLS_CERTDIR: \"/certs\" for both; "
		            "`runnel run --lenient` gets past this by starting the service with "
		            "TLS",
		            s->name, host, host);
		return true;
	}
	return false;
}

static void diag_connect(const struct services_diag_svc *v, size_t n, const char *url,
                         struct strbuf *out)
{
	_cleanup_free_ char *host = NULL;
	int port = 0;
	if (!services_parse_tcp_host(url, &host, &port)) {
		strbuf_addf(out,
		            "the job's Docker client dials %s, but no Docker daemon runs "
		            "in the job container: with a docker:dind service set DOCKER_HOST "
		            "to tcp://docker:2375 (TLS off) or tcp://docker:2376 (TLS)",
		            url);
		return;
	}
	const struct services_diag_svc *s = diag_by_alias(v, n, host);
	if (!s && !n) {
		strbuf_addf(out,
		            "nothing answers at %s: the job has no services; add one such "
		            "as 'docker:24-dind' (reachable as 'docker')",
		            url);
		return;
	}
	if (!s) {
		strbuf_addf(out, "no service is reachable as '%s'; the services are reachable as ",
		            host);
		diag_aliases(v, n, out);
		return;
	}
	if (privileged_trouble(s->log_tail)) {
		diag_privileged(s, out);
		return;
	}
	if (s->died) {
		strbuf_addf(out, "service '%s' (%s) exited with code %d", s->name, host,
		            s->exit_code);
		diag_tail(s->name, s->log_tail, out);
		return;
	}
	if (diag_tls_mismatch(s, host, port, out))
		return;
	if (!s->ready)
		strbuf_addf(out,
		            "service '%s' (%s) never answered on port %d before the job "
		            "started (see the warning above)",
		            s->name, host, port);
	else
		strbuf_addf(out,
		            "service '%s' (%s) was ready when the job started, yet %s "
		            "refused the connection",
		            s->name, host, url);
	diag_tail(s->name, s->log_tail, out);
}

/* The host name in a resolver error, or NULL (owned). */
static char *dns_name(const char *tail)
{
	static const char *const pre[] = {"lookup ", "Could not resolve host: ", "bad address '",
	                                  "could not translate host name \""};
	for (size_t i = 0; i < sizeof(pre) / sizeof(pre[0]); i++) {
		const char *p = strstr(tail, pre[i]);
		if (!p)
			continue;
		p += strlen(pre[i]);
		size_t l = strcspn(p, " :'\"\n\r");
		if (l)
			return xstrndup(p, l);
	}
	return NULL;
}

static bool diag_dns(const struct services_diag_svc *v, size_t n, const char *tail,
                     struct strbuf *out)
{
	static const char *const pats[] = {"no such host",
	                                   "Could not resolve host",
	                                   "bad address",
	                                   "Name or service not known",
	                                   "Temporary failure in name resolution",
	                                   "could not translate host name"};
	bool hit = false;
	for (size_t i = 0; i < sizeof(pats) / sizeof(pats[0]) && !hit; i++)
		hit = strstr(tail, pats[i]) != NULL;
	if (!hit)
		return false;
	_cleanup_free_ char *name = dns_name(tail);
	strbuf_addf(out, "the name '%s' does not resolve in the job: ", name ? name : "?");
	if (!n) {
		strbuf_addstr(out, "the job has no services");
		return true;
	}
	strbuf_addstr(out, "the services are reachable as ");
	diag_aliases(v, n, out);
	strbuf_addstr(out, " (add alias: to a service to give it another name)");
	return true;
}

static bool diag_certs(const struct services_diag_svc *v, size_t n, const char *tail,
                       struct strbuf *out)
{
	if (!strstr(tail, "could not read CA certificate") &&
	    !strstr(tail, "unable to load client") && !strstr(tail, "could not load X509 key"))
		return false;
	const struct services_diag_svc *s = NULL;
	for (size_t i = 0; i < n && !s; i++)
		if (v[i].tls)
			s = &v[i];
	if (s)
		strbuf_addf(out,
		            "the job's Docker client cannot read its TLS certificates: the "
		            "client certificates of service '%s' are mounted at %s/client; "
		            "set DOCKER_CERT_PATH: %s/client",
		            s->name, s->certdir, s->certdir);
	else
		strbuf_addstr(out,
		              "the job's Docker client wants TLS certificates but no DinD "
		              "service generates them: set DOCKER_TLS_CERTDIR: \"/certs\" (the "
		              "dind image's default) or turn TLS off on both sides");
	return true;
}

/* DOCKER_BUILDKIT=1 builds report an unreachable daemon by its address ("failed to dial gRPC:
 * cannot connect to the Docker daemon. ...: dial tcp 172.23.0.2:2375: connect: connection
 * refused"): the address of the only DinD service, diagnosed as a dial of its alias. */
static bool diag_buildkit_dial(const struct services_diag_svc *v, size_t n, const char *tail,
                               struct strbuf *out)
{
	const char *p = strstr(tail, "failed to dial gRPC: cannot connect to the Docker daemon");
	const char *d = p ? strstr(p, "dial tcp ") : NULL;
	if (!d)
		return false;
	d += strlen("dial tcp ");
	size_t l = strcspn(d, ": \n");
	int port = d[l] == ':' ? atoi(d + l + 1) : 0;
	const struct services_diag_svc *s = NULL;
	for (size_t i = 0; i < n; i++)
		if (v[i].dind) {
			if (s)
				return false;
			s = &v[i];
		}
	if (!s || port <= 0)
		return false;
	_cleanup_free_ char *url = xasprintf("tcp://%s:%d", first_alias(s), port);
	diag_connect(v, n, url, out);
	return true;
}

/* `docker push myapp` goes to Docker Hub, which is not there offline: nothing makes it work. */
static bool diag_docker_hub(const char *tail, struct strbuf *out)
{
	const char *hub = strstr(tail, "registry-1.docker.io");
	if (!hub)
		hub = strstr(tail, "index.docker.io");
	if (!hub || !strstr(tail, "[docker.io/"))
		return false;
	strbuf_addf(out,
	            "the name '%.*s' does not resolve in the job: an image name without a "
	            "registry host means Docker Hub (docker.io), which runnel cannot reach "
	            "offline, so this push or pull fails whatever the options (--lenient "
	            "included); on GitLab it would also need a `docker login` to Docker Hub. "
	            "Push to the project's registry instead (`runnel run --registry`): "
	            "docker tag myapp \"$CI_REGISTRY_IMAGE\" && docker push "
	            "\"$CI_REGISTRY_IMAGE\"",
	            (int)strcspn(hub, " :/'\"\n"), hub);
	return true;
}

/* The registry refused an anonymous push or pull. */
static bool diag_no_login(const char *tail, struct strbuf *out)
{
	if (!strstr(tail, "no basic auth credentials") &&
	    !strstr(tail, "unauthorized: authentication required"))
		return false;
	strbuf_addstr(out, "the registry refused the job's Docker client: it pushes or pulls "
	                   "without `docker login` (each DinD service starts without credentials), "
	                   "which fails on GitLab too. Fix: add to before_script: - echo "
	                   "\"$CI_REGISTRY_PASSWORD\" | docker login -u \"$CI_REGISTRY_USER\" "
	                   "--password-stdin \"$CI_REGISTRY\"; `runnel run --registry --lenient` "
	                   "gets past this by logging the job's Docker client in beforehand");
	return true;
}

void services_diagnose_text(const struct services_diag_svc *v, size_t n, const char *job_tail,
                            struct strbuf *out)
{
	const char *tail = job_tail ? job_tail : "";
	const char *cc = strstr(tail, "Cannot connect to the Docker daemon at ");
	if (cc) {
		cc += strlen("Cannot connect to the Docker daemon at ");
		size_t l = strcspn(cc, " \n\r");
		while (l && cc[l - 1] == '.')
			l--;
		_cleanup_free_ char *url = xstrndup(cc, l);
		diag_connect(v, n, url, out);
		return;
	}
	if (diag_buildkit_dial(v, n, tail, out))
		return;
	if (diag_certs(v, n, tail, out))
		return;
	for (size_t i = 0; i < n; i++)
		if (v[i].dind && privileged_trouble(v[i].log_tail)) {
			diag_privileged(&v[i], out);
			return;
		}
	if (diag_docker_hub(tail, out) || diag_no_login(tail, out) || diag_dns(v, n, tail, out))
		return;
	for (size_t i = 0; i < n; i++)
		if (v[i].died) {
			strbuf_addf(out, "service '%s' (%s) exited with code %d", v[i].name,
			            first_alias(&v[i]), v[i].exit_code);
			diag_tail(v[i].name, v[i].log_tail, out);
			return;
		}
	/* The job failed on something else first (a `docker login` that fell back to the
	 * client side, say), but its DOCKER_HOST cannot work either: that is the cause. */
	for (size_t i = 0; i < n; i++)
		if (v[i].dind && v[i].docker_host_port > 0 &&
		    diag_tls_mismatch(&v[i], first_alias(&v[i]), v[i].docker_host_port, out))
			return;
}

void services_diagnose(struct docker_client *c, const struct service_set *set,
                       const char *job_output_tail, struct strbuf *out)
{
	size_t n = set ? set->n : 0;
	struct services_diag_svc *v = xcalloc(n ? n : 1, sizeof(*v));
	struct strbuf *logs = xcalloc(n ? n : 1, sizeof(*logs));
	for (size_t i = 0; i < n; i++) {
		struct service *s = &set->v[i];
		logs[i] = (struct strbuf)STRBUF_INIT;
		log_tail(c, s->id, &logs[i]);
		if (s->state == SVC_WAITING || s->state == SVC_READY)
			poll_state(c, s, NULL); /* it may have died since */
		v[i] = (struct services_diag_svc){
		    .name = s->name,
		    .aliases = s->aliases.v,
		    .dind = s->dind,
		    .tls = s->dind && *s->certdir,
		    .certdir = s->certdir,
		    .ready = s->state == SVC_READY,
		    .died = s->state == SVC_DIED,
		    .exit_code = s->exit_code,
		    .log_tail = logs[i].buf,
		    .privileged_filtered = s->privileged_filtered,
		    .docker_host_port = s->docker_host_port,
		};
	}
	services_diagnose_text(v, n, job_output_tail, out);
	for (size_t i = 0; i < n; i++)
		strbuf_release(&logs[i]);
	free(logs);
	free(v);
}
