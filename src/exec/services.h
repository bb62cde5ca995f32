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
struct job;
struct var_list;
struct job_log;
struct runner_settings;
struct service_set; /* the running services of one job (opaque, heap-owned) */
struct strbuf;
struct strvec;

/* What the executor hands over; everything borrowed for the duration of the call. */
struct services_ctx {
	const char *network;            /* the job's network (name or id) */
	char *const *labels;            /* "k=v" labels for every container/volume created */
	const struct var_list *job_vars; /* all job variables, expanded (public ones reach services) */
	const struct runner_settings *settings;
	struct job_log *log;            /* where "Starting service ..." and warnings go */
	const char *container_prefix;   /* name prefix for service containers, e.g. runnel-<id>-<job> */
	int cancel_fd;                  /* readable = cancel; -1 none */
};

/* Starts every service of the job and waits until each is ready (TCP port, or /_ping when it is
 * the job's DOCKER_HOST daemon). Creates the shared /certs/client volume when a service is a
 * DinD with TLS. Returns an owned set (also on readiness warnings) or NULL with err set for a
 * hard failure (image missing, create failed). */
struct service_set *services_start(struct docker_client *c, const struct job *job,
				   const struct services_ctx *ctx, struct err *err);
/* Mounts the job container needs in addition to the project (the /certs/client volume):
 * "volume:target" strings appended to out. */
void services_job_binds(const struct service_set *s, struct strvec *out);
/* After a failed job: one actionable diagnosis (connection refused to DOCKER_HOST, TLS
 * mismatch, privileged missing, DNS name not resolving, service died) from the job's output
 * tail and the services' state/logs, appended to out; nothing when there is nothing to say. */
void services_diagnose(struct docker_client *c, const struct service_set *s,
		       const char *job_output_tail, struct strbuf *out);
/* Stops and removes every service container and the volumes this set created, writes their
 * logs to log_dir/<job>-service-<alias>.log. NULL-safe. Never fails (errors are logged). */
void services_stop(struct docker_client *c, struct service_set *s, const char *log_dir);
