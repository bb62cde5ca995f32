/* The state of a job's services shared by the services*.c files (building, waiting, the
 * monitor, the API, the diagnosis): the service set and the steps one file hands another.
 * Not part of the exec API (services.h is). */
#pragma once

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "exec/dindcache.h"
#include "util/strvec.h"

struct docker_client;
struct err;
struct exec_timings;
struct job_log;
struct service_spec;
struct services_ctx;
struct strbuf;

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
	double state_at;          /* when poll_state last read it (while waited for) */
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
	double created_at, ready_at;  /* first service create, all ready (--timings) */
	double script_at;             /* the job's first output after the wait, 0 not yet */
	struct exec_timings *timings; /* the job's, set by services_job_container */
	bool waited;                  /* services_wait ran (the overlay fallback starts twice) */
	bool lenient_tls;             /* --lenient turned TLS on: the job must dial with TLS */
	struct monitor mon;
};

/* Monotonic seconds (waits, --timings). */
double services_now(void);
/* Appends the last LOG_TAIL_LINES lines of container id's log to out (or why it cannot). */
void services_log_tail(struct docker_client *c, const char *id, struct strbuf *out);
/* The value of the last "key=..." of env, or NULL; borrowed from env. */
const char *services_env_find(char *const *env, const char *key);

/* Building (services-build.c): GitLab's aliases of set->v[idx], the per-job volume of the DinD
 * client certificates, the --lenient TLS fix, and the container of one service (created and
 * started; -1 with err when it cannot be). */
void services_add_aliases(struct service_set *set, size_t idx, const struct service_spec *spec,
                          const struct services_ctx *ctx);
int services_certs_volume(struct docker_client *c, struct service_set *set, const struct service *s,
                          const struct services_ctx *ctx, const char *prefix, struct err *err);
void services_lenient_tls(struct service_set *set, struct service *s,
                          const struct services_ctx *ctx);
int services_create_one(struct docker_client *c, struct service_set *set, size_t idx,
                        const struct service_spec *spec, const struct services_ctx *ctx,
                        struct err *err);

/* Waiting (services-wait.c): reads s's state (died? its address on network, NULL: keep it),
 * and waits for every service of the set until ready, dead or timed out. */
void services_poll_state(struct docker_client *c, struct service *s, const char *network);
void services_wait_all(struct docker_client *c, struct service_set *set,
                       const struct services_ctx *ctx);

/* The monitor (services-monitor.c): ready>script into the job's timings once known, and the
 * thread (started only with CI_DEBUG_SERVICES and a job log) and its stop. */
void services_publish_ready_script(struct service_set *set);
void services_monitor_start(struct docker_client *c, struct service_set *set,
                            const struct services_ctx *ctx);
void services_monitor_stop(struct service_set *set);
