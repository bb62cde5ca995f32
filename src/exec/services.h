/* Services of a job (services:, default:services) and runner settings ([runners.docker] keys):
 * starting service containers on the job's network under GitLab's aliases, waiting for them
 * like gitlab-runner does (and better: a service that dies is reported at once; a Docker daemon
 * that is the job's DOCKER_HOST must answer /_ping), the DinD TLS certificate volume, and the
 * diagnosis of the classic DinD failures. The Docker executor calls these. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "util/err.h"

struct docker_client;
struct docker_container_spec;
struct exec_job_ctx;
struct job;
struct var_list;
struct job_log;
struct runner_settings;
struct service_set; /* the running services of one job (opaque, heap-owned) */
struct strbuf;
struct strvec;

/* What the executor hands over; everything borrowed for the duration of the call. */
struct services_ctx {
	const char *network; /* the job's network (name or id) */
	char *const *labels; /* "k=v" labels for every container/volume created */
	/* all job variables, expanded (public ones reach services) */
	const struct var_list *job_vars;
	const struct runner_settings *settings;
	struct job_log *log; /* where "Starting service ..." and warnings go */
	/* name prefix for service containers, e.g. runnel-<id>-<job> */
	const char *container_prefix;
	int cancel_fd; /* readable = cancel; -1 none */
	/* Added after the first API: both may be left NULL (designated initializers). */
	const char *insecure_registry; /* "host:port" of `runnel run --registry`: DinD daemons get
	                                * --insecure-registry for it; NULL none */
	const char *job_name;          /* for the service log file names; NULL = "job" */
};

/* Creates and starts every service of the job (without waiting for them: see services_wait).
 * Creates the shared /certs/client volume when a service is a DinD with TLS. Returns an owned
 * set or NULL with err set for a hard failure (image missing, create failed). */
struct service_set *services_start(struct docker_client *c, const struct job *job,
                                   const struct services_ctx *ctx, struct err *err);
/* Waits until each service is ready (TCP port, or /_ping when it is the job's DOCKER_HOST
 * daemon), with the runner's warnings for those that are not; then --timings' services column
 * is filled and CI_DEBUG_SERVICES streaming starts. The executor calls it once its own
 * container runs, so that the job's create and start overlap the wait. Idempotent; NULL-safe.
 * ctx must be the one given to services_start. */
void services_wait(struct docker_client *c, struct service_set *set,
                   const struct services_ctx *ctx);
/* The job's first output after the wait (its first script line): --timings' ready>script is
 * the time from the DOCKER_HOST daemon's first /_ping answer to this call. NULL-safe. */
void services_job_output(struct service_set *set);
/* Mounts the job container needs in addition to the project (the /certs/client volume):
 * "volume:target" strings appended to out. */
void services_job_binds(const struct service_set *s, struct strvec *out);
/* After a failed job: one actionable diagnosis (connection refused to DOCKER_HOST, TLS
 * mismatch, privileged missing, DNS name not resolving, service died) from the job's output
 * tail and the services' state/logs, appended to out; nothing when there is nothing to say. */
void services_diagnose(struct docker_client *c, const struct service_set *s,
                       const char *job_output_tail, struct strbuf *out);
/* Appends to out (a message for the job's failure) the service containers of the set that
 * the engine no longer knows or is removing (exec_container_removed: `docker rm -f`), e.g.
 * "the job's service container 'runnel-...-redis' (redis) was removed outside runnel (docker
 * rm?)". Returns how many. NULL-safe. */
size_t services_vanished(struct docker_client *c, const struct service_set *s, struct strbuf *out);
/* Stops and removes every service container and the volumes this set created, writes their
 * logs to log_dir/<job>-service-<alias>.log. NULL-safe. Never fails (errors are logged). */
void services_stop(struct docker_client *c, struct service_set *s, const char *log_dir);

/* The job container's part of services, runner settings and --lenient, called once by the
 * Docker executor where it builds the job's container spec (after its settings are applied):
 * spec->privileged honours allowed_privileged_images; with --lenient, a DinD that had to be
 * started with TLS gets the job DOCKER_TLS_VERIFY/DOCKER_CERT_PATH, and registry.c's
 * registry_job_login may log the job's Docker client in; the --timings service columns are
 * hooked to jc->t. env and binds (the spec's, borrowed) may grow: spec->env and spec->binds
 * are re-pointed at them. set may be NULL (no services). Never fails. */
void services_job_container(struct service_set *set, struct exec_job_ctx *jc,
                            struct docker_container_spec *spec, struct strvec *env,
                            struct strvec *binds);

/* ---- pieces exposed for tests and for other modules ---- */

/* GitLab's default aliases of a service image (runner-docker.md §4): tag/digest and registry
 * port dropped, then '/' -> "__" and (if different) '/' -> "-". Appended to out. */
void services_default_aliases(const char *image, struct strvec *out);
/* Whether a service is a Docker daemon: the image name contains "dind", or its entrypoint or
 * command (the service's when given, else the image's; each NULL-terminated, may be NULL)
 * runs dockerd. */
bool services_is_dind(const char *image, char *const *entrypoint, char *const *cmd);
/* Value of key in the container's environment: the last "key=..." of env (job public variables
 * then the service's own, so the service wins), else image_env's. NULL when set nowhere.
 * Borrowed from the arrays. */
const char *services_env_lookup(char *const *env, char *const *image_env, const char *key);
/* Whether CI_DEBUG_SERVICES is on in vars ("true", "1", case-insensitive "true"): then the
 * service containers' logs stream into the job's output, each line prefixed with
 * "[service:<its aliases joined by '-'>] " as gitlab-runner does. */
bool services_debug_enabled(const struct var_list *vars);
/* The --lenient fix of a DinD's DOCKER_TLS_CERTDIR for a job whose DOCKER_HOST names it:
 * port 2375 with TLS on -> "" (TLS off), port 2376 with TLS off -> "/certs"; NULL when
 * DOCKER_HOST (may be NULL) already matches or names none of aliases (NULL-terminated).
 * certdir is the service's effective value ("" = off). Returns a static string. */
const char *services_lenient_certdir(const char *docker_host, char *const *aliases,
                                     const char *certdir);
/* Splits "tcp://host:port" into host (owned) and port; false for anything else. */
bool services_parse_tcp_host(const char *docker_host, char **ret_host, int *ret_port);

/* What services_diagnose knows about one service (all borrowed). */
struct services_diag_svc {
	const char *name;     /* image as written, e.g. "docker:24-dind" */
	char *const *aliases; /* NULL-terminated */
	bool dind;
	bool tls;            /* DinD with a non-empty DOCKER_TLS_CERTDIR: listens on 2376 */
	const char *certdir; /* effective DOCKER_TLS_CERTDIR of a DinD, "" when none */
	bool ready;          /* answered the readiness check */
	bool died;           /* exited */
	int exit_code;
	const char *log_tail; /* last lines of its log, may be NULL */
	/* added later (designated initializers): privileged was on but the image matches no
	 * allowed_privileged_services glob, so it ran unprivileged */
	bool privileged_filtered;
	int docker_host_port; /* the job's DOCKER_HOST names this service on this port, 0 no */
};
/* The text of services_diagnose from plain data: one message (no trailing newline) appended
 * to out, or nothing. Mistakes that `runnel run --lenient` gets past (DinD TLS/port
 * mismatch, registry access without docker login) say so; a Docker Hub push says that no
 * option makes it work offline. */
void services_diagnose_text(const struct services_diag_svc *v, size_t n, const char *job_tail,
                            struct strbuf *out);
