/* Docker Engine API client: HTTP/1.1 of its own over unix sockets, libcurl (loaded on first
 * use) for tcp and TLS (DOCKER_TLS_VERIFY / DOCKER_CERT_PATH), API version negotiated through
 * /_ping. Works against dockerd and podman's
 * compatible service. Errors name the endpoint, the object and what the daemon said.
 * A client is used from one thread at a time; create one per thread that talks to Docker. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

struct docker_client;
struct strbuf;
struct strvec;
typedef struct json_t json_t;

struct docker_opts {
	const char *host;      /* "unix:///var/run/docker.sock", "tcp://h:2376"; NULL = $DOCKER_HOST
	                        * or the default socket */
	const char *cert_path; /* NULL = $DOCKER_CERT_PATH when TLS verify is on */
	int tls_verify;        /* -1 = from $DOCKER_TLS_VERIFY */
	long timeout_ms;       /* per request, 0 = none (streams) */
};
/* clang-format off */ /* (clang-format 14 spreads a braced initializer macro over lines) */
#define DOCKER_OPTS_INIT { .host = NULL, .cert_path = NULL, .tls_verify = -1, .timeout_ms = 0 }
/* clang-format on */

/* Connects lazily; pings and negotiates the API version (at most 1.41 unless the daemon says
 * less). Returns an owned client or NULL with err (ERR_ENV naming the endpoint). */
struct docker_client *docker_client_new(const struct docker_opts *opts, struct err *err);
void docker_client_free(struct docker_client *c);
/* A new client on the same endpoint, for another thread. */
struct docker_client *docker_client_clone(const struct docker_client *c, struct err *err);
const char *docker_client_endpoint(const struct docker_client *c);
const char *docker_client_api_version(const struct docker_client *c);
/* "docker" or "podman" (from /version Components), for the few places that differ. */
const char *docker_client_engine(const struct docker_client *c);

/* Raw request: method, path (without the /vX.Y prefix, added here), optional JSON body
 * (borrowed). On 2xx returns 0 and, if ret_body, the parsed JSON (owned, may be NULL for an
 * empty body). On other statuses, err says "<what>: <daemon message> (HTTP <code>)" and
 * ret_status (if given) holds the HTTP status for callers that treat 404/304 specially. */
int docker_request(struct docker_client *c, const char *method, const char *path,
                   const json_t *body, json_t **ret_body, long *ret_status, struct err *err);

/* ---- images ---- */
/* Inspect: 0 and *ret_found = true/false; -1 on error. ret_info owned (may be NULL). */
int docker_image_inspect(struct docker_client *c, const char *image, bool *ret_found,
                         json_t **ret_info, struct err *err);
/* Pulls image (":latest" added when no tag/digest), progress lines to on_line if set. */
typedef void (*docker_line_fn)(void *userdata, const char *line);
int docker_image_pull(struct docker_client *c, const char *image, docker_line_fn on_line,
                      void *userdata, struct err *err);
/* docker_image_pull with options: progress lines to on_line (may be NULL), and cancel_fd
 * (-1 = none): when it becomes readable the pull stops at once (the connection is closed,
 * which makes the daemon abandon the pull) and -1 is returned with err "canceled" (ERR_JOB). */
struct docker_pull_opts {
	docker_line_fn on_line;
	void *userdata;
	int cancel_fd;
};
/* clang-format off */ /* (clang-format 14 spreads a braced initializer macro over lines) */
#define DOCKER_PULL_OPTS_INIT { .on_line = NULL, .userdata = NULL, .cancel_fd = -1 }
/* clang-format on */
int docker_image_pull_opts(struct docker_client *c, const char *image,
                           const struct docker_pull_opts *opts, struct err *err);

/* ---- networks and volumes ---- */
/* labels: NULL-terminated "k=v" strvec-style array (borrowed) */
int docker_network_create(struct docker_client *c, const char *name, char *const *labels,
                          char **ret_id, struct err *err);
int docker_network_remove(struct docker_client *c, const char *id_or_name, struct err *err);
int docker_volume_create(struct docker_client *c, const char *name, char *const *labels,
                         struct err *err);
int docker_volume_remove(struct docker_client *c, const char *name, bool force, struct err *err);
/* Lists ids (networks, containers, volumes) carrying label filter "k=v" or "k" into out; kind
 * is "containers", "networks" or "volumes". */
int docker_list_by_label(struct docker_client *c, const char *kind, const char *label,
                         struct strvec *out, struct err *err);

/* ---- containers ---- */
struct docker_mount {
	const char *source; /* volume name or host path */
	const char *target;
	bool bind; /* host path bind (true) or named volume (false) */
	bool read_only;
};

struct docker_container_spec {
	const char *name; /* may be NULL */
	const char *image;
	char *const *cmd;        /* NULL-terminated or NULL */
	char *const *entrypoint; /* NULL = image's; {"" , NULL}-style clear handled by caller
	                          * passing an array with one empty string */
	bool entrypoint_set;
	char *const *env;    /* "K=V", NULL-terminated */
	char *const *labels; /* "k=v" */
	const char *working_dir;
	const char *user;
	const char *hostname;
	bool open_stdin; /* OpenStdin + StdinOnce + AttachStdin */
	bool tty;
	bool privileged;
	const char *network;          /* network name/id to join, NULL = default */
	char *const *network_aliases; /* aliases on that network */
	const struct docker_mount *mounts;
	size_t n_mounts;
	char *const *binds; /* extra "src:dst[:mode]" binds (settings volumes) */
	char *const *cap_add;
	char *const *cap_drop;
	char *const *security_opt;
	char *const *devices;     /* "host[:container[:perms]]" */
	char *const *extra_hosts; /* "host:ip" */
	char *const *dns;
	const char *network_mode; /* overrides network when set (e.g. "host") */
};

int docker_container_create(struct docker_client *c, const struct docker_container_spec *spec,
                            char **ret_id, struct err *err);
int docker_container_start(struct docker_client *c, const char *id, struct err *err);
/* Waits until the container stops; *ret_exit_code is its status. */
int docker_container_wait(struct docker_client *c, const char *id, int *ret_exit_code,
                          struct err *err);
int docker_container_kill(struct docker_client *c, const char *id, const char *signal,
                          struct err *err);
/* Force-removes with anonymous volumes; a missing container is not an error. */
int docker_container_remove(struct docker_client *c, const char *id, struct err *err);
int docker_container_inspect(struct docker_client *c, const char *id, json_t **ret_info,
                             struct err *err);

/* What callers need from an inspect of a container (State) or an exec. */
struct docker_state {
	bool running;
	bool oom_killed;
	int exit_code;
	char *status; /* "created", "running", "exited"... owned, may be NULL */
	char *error;  /* State.Error when not empty, owned, may be NULL */
};
/* Inspects the container and fills *ret (release with docker_state_release). */
int docker_container_state(struct docker_client *c, const char *id, struct docker_state *ret,
                           struct err *err);
void docker_state_release(struct docker_state *s);

/* Attaches to stdin/stdout/stderr (hijacked stream), writes `input` (borrowed, may be NULL)
 * to stdin and closes it, then calls on_output for every demultiplexed chunk (stream 1 = out,
 * 2 = err) until the container's output ends. Must be called before start. The connection
 * is opened here and the container is started by the caller from another thread... see
 * docker_container_run_attached for the common sequence. */
typedef void (*docker_output_fn)(void *userdata, int stream, const char *data, size_t len);

/* Common sequence for running a script: attach, start, feed stdin, stream output, wait.
 * cancel_fd (or -1): when readable, the run is aborted (container killed) and -1 returned
 * with err "canceled". timeout_ms 0 = none; on timeout the container is killed and
 * *ret_timed_out set. */
struct docker_run_io {
	const char *input;
	size_t input_len;
	docker_output_fn on_output;
	void *userdata;
	int cancel_fd;
	long timeout_ms;
	bool tty; /* container created with Tty: output is raw, not multiplexed */
	/* Called once the container runs and before its input is written (NULL: none). May block:
	 * the executor waits for the job's services here, so that the container's start overlaps
	 * that wait and the script begins the moment they are ready. */
	void (*started)(void *userdata);
};
int docker_container_run_attached(struct docker_client *c, const char *id,
                                  const struct docker_run_io *io, int *ret_exit_code,
                                  bool *ret_timed_out, struct err *err);

/* Logs of a (stopped or running) container, demultiplexed, last `tail` lines (0 = all). */
int docker_container_logs(struct docker_client *c, const char *id, unsigned tail,
                          struct strbuf *out, struct err *err);

/* Archive API: puts a tar stream (in memory or from a file) into path inside the container;
 * gets path out as a tar into a file descriptor. */
int docker_container_put_archive(struct docker_client *c, const char *id, const char *path,
                                 const void *tar, size_t len, struct err *err);
int docker_container_put_archive_fd(struct docker_client *c, const char *id, const char *path,
                                    int fd, struct err *err);
int docker_container_get_archive(struct docker_client *c, const char *id, const char *path,
                                 int out_fd, struct err *err);

/* Exec: runs argv in a running container, collects output, returns exit code. */
int docker_container_exec(struct docker_client *c, const char *id, char *const *argv,
                          struct strbuf *out, int *ret_exit_code, struct err *err);
