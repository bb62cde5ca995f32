/* Executors: running one job of a pipeline, in a Docker container (executor-docker.c) or on
 * the host (executor-shell.c), with gitlab-runner's semantics: variables, generated script
 * (script.c), the after_script stage, artifacts, timeouts, cancellation and cleanup (labels.c,
 * reap.c, temp-dirs.c, signals.c). job.c owns the lifecycle shared by both, with its concerns
 * in job-vars.c, job-dependencies.c, job-cache.c, job-script.c, job-artifacts.c and
 * workspace.c (the project copy); docs/internals/layout.md maps each concern to its file. */
#pragma once
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "model/job.h"
#include "plan/scheduler.h"
#include "util/arena.h"
#include "util/err.h"
#include "util/strbuf.h"

struct docker_client;
struct job_log;
struct pipeline;
struct plan;
struct report;
struct runner_settings;
struct strvec;

enum exec_kind { EXEC_DOCKER, EXEC_SHELL };

/* Seconds spent in each phase of one job (--timings). */
struct exec_timings {
	double pull;     /* image inspect (+ pull when missing) */
	double network;  /* per-job network create */
	double create;   /* container create */
	double copy_in;  /* project copy + dependency artifacts */
	double script;   /* start + before_script/script */
	double after;    /* after_script */
	double copy_out; /* artifacts */
	double remove;   /* container, network, copy removal */
	double total;
	/* added by services*.c (issue 4), filled through services_job_container(): */
	double services;     /* first service create to all services ready */
	double ready_script; /* ms from the DOCKER_HOST DinD's first /_ping answer to the
	                      * first byte of the script's output; valid when has_ready_script */
	bool has_ready_script;
};

/* Per-job results kept for the rest of the run (dependents read them). */
struct exec_job_state {
	struct var_list dotenv; /* artifacts:reports:dotenv of the job, arena-owned below */
	struct arena arena;
	bool has_artifacts;
	struct exec_timings timings;
	char *log_path;  /* owned */
	double coverage; /* < 0 unknown */
	unsigned junit_tests, junit_failures;
};

/* Everything shared by the jobs of one run. Set up by the caller (cli) before the run; the
 * borrowed members must outlive it. Thread-safe through `lock` where marked. */
struct exec_run {
	const struct pipeline *pipeline;   /* borrowed */
	const struct plan *plan;           /* borrowed */
	const struct var_list *predefined; /* borrowed: pipeline-level predefined variables */
	const struct var_list *cli_vars;   /* borrowed: --variable, highest precedence */
	const char *project_dir;           /* host repository root (absolute) */
	const char *project_path;   /* "namespace/project": CI_PROJECT_DIR = /builds/<this> */
	const char *state_dir;      /* <project_dir>/.runnel */
	const char *pipeline_id;    /* unique per run: label runnel.pipeline */
	const struct strvec *files; /* borrowed: files to copy (tracked + untracked not ignored),
	                             * NULL = the whole directory except .git and .runnel */
	enum exec_kind kind;
	const char *default_image;
	bool committed; /* copy exactly HEAD (git archive) */
	bool color;
	struct report *report;                  /* borrowed */
	const struct runner_settings *settings; /* borrowed, may be NULL */
	struct docker_client *docker;  /* borrowed template, cloned per job; NULL for shell only */
	int cancel_fd;                 /* readable: cancel running scripts (first Ctrl-C) */
	int force_fd;                  /* readable: abort everything now (second Ctrl-C) */
	const char *insecure_registry; /* "host:port" of `runnel run --registry` (DinD daemons
	                                * get --insecure-registry for it), NULL none */

	/* filled by exec_run_prepare / during the run */
	char *snapshot_dir;          /* owned: the project as the run saw it at start */
	char *run_dir;               /* owned: <state_dir>/builds/<pipeline id> */
	struct exec_job_state *jobs; /* owned, one per plan node */
	pthread_mutex_t lock;
	unsigned long next_job_id;         /* under lock */
	bool docker_local;                 /* the daemon sees our files: bind mounts work */
	int no_overlay;                    /* atomic: overlay volumes failed once, copy instead */
	unsigned long long snapshot_bytes; /* size of the snapshot: small ones are copied */
	unsigned long snapshot_files;
	char *git_layer; /* owned: directory whose `.git` jobs get over the snapshot (vcs/gitdir.h),
	                  * NULL when the project is no git repository */
};

/* Prepares a run: state directories, the project snapshot (working tree or HEAD), per-job
 * state. run must be filled as documented above. Returns 0 or -1 with err (ERR_ENV). */
int exec_run_prepare(struct exec_run *run, struct err *err);
/* Removes the snapshot and run directories, frees what prepare allocated. NULL-safe. */
void exec_run_release(struct exec_run *run);

/* Runs attempt `attempt` of plan node `index` to its end (script, after_script, artifacts,
 * cleanup) and fills *out. Called from a job thread. Never fails as a C function: every
 * problem becomes a job failure with its reason, written to the job log. */
void exec_job(struct exec_run *run, size_t index, unsigned attempt, struct sched_attempt *out);

/* ---- between job.c and the executors ---- */

/* One attempt of one job, as the executors see it. */
struct exec_job_ctx {
	struct exec_run *run;
	const struct job *job;
	size_t index;
	struct arena arena; /* everything below that is not said otherwise */
	struct job_log *log;
	struct var_list vars;    /* final, expanded, exported in this order */
	const char *image;       /* runner-expanded image name, NULL for shell */
	const char *slug;        /* CI_JOB_NAME_SLUG */
	const char *project_dir; /* CI_PROJECT_DIR as the job sees it */
	const char *tmp_dir;     /* project_dir + ".tmp" */
	const char *host_dir;    /* the job's project copy on the host (with overlay: the
	                          * directory holding upper/ and work/) */
	bool overlay;            /* Docker: project = overlay volume over the snapshot */
	bool archive;            /* Docker, remote daemon: project put through the archive API */
	const char *upper_dir;   /* overlay: where the job's writes land */
	const char *volume;      /* overlay: the volume name */
	bool artifacts_done;     /* artifacts already collected (from the container) */
	const char *builds_dir;  /* CI_BUILDS_DIR */
	long timeout_s;          /* job timeout */
	double deadline;         /* monotonic seconds when the job times out */
	struct exec_timings *t;
	/* outcome */
	enum sched_failure failure;
	int exit_code;
	bool timed_out;
	bool canceled;
};

/* Script of the main stage (before_script + script) or of after_script with
 * CI_JOB_STATUS=status. Appends to out. */
void exec_job_script(const struct exec_job_ctx *jc, bool after, const char *status,
                     struct strbuf *out);
/* Copies the project snapshot (and the artifacts of dependencies) to dir. */
int exec_job_copy_project(struct exec_job_ctx *jc, const char *dir, struct err *err);
/* Copies only the artifacts of the job's dependencies into dir. */
int exec_job_copy_artifacts(struct exec_job_ctx *jc, const char *dir, struct err *err);
/* Collects the job's artifacts (paths/exclude/untracked, when:) into .runnel/artifacts/<job>/:
 * from container_id through the archive API when given, else from jc->host_dir. Sets
 * jc->artifacts_done. An upload error fails an otherwise successful job. */
void exec_job_collect_artifacts(struct exec_job_ctx *jc, struct docker_client *c,
                                const char *container_id);
/* "success", "failed", "canceled" or "timedout" for after_script. */
const char *exec_job_status_word(const struct exec_job_ctx *jc);
/* Seconds of the monotonic clock. */
double exec_now(void);
/* Milliseconds left before the job deadline (at least 1). */
long exec_job_ms_left(const struct exec_job_ctx *jc);

/* GIT_STRATEGY of a job (runner-docker.md §6): fetch and clone give the repository
 * (run->git_layer), none the files only, empty an empty directory. */
enum exec_git_strategy { EXEC_GIT_FETCH, EXEC_GIT_NONE, EXEC_GIT_EMPTY };
enum exec_git_strategy exec_job_git_strategy(const struct exec_job_ctx *jc);
/* GIT_DEPTH: makes the `.git` under root (the job's copy, or an overlay's upper directory)
 * shallow when the job asks for a depth. Returns 0 or -1 with err. */
int exec_job_git_depth(struct exec_job_ctx *jc, const char *root, struct err *err);

/* Docker executor: the whole container part of a job. */
int exec_docker_run(struct exec_job_ctx *jc, struct err *err);
/* Shell executor: runs the job on the host in jc->host_dir. */
int exec_shell_run(struct exec_job_ctx *jc, struct err *err);

/* ---- labels.c, reap.c, temp-dirs.c, signals.c: labels, reaping, signals ---- */

/* How a run ends and what it leaves (README "Exit codes"): every ending removes the run's
 * containers, networks, volumes, run directory and temporary directories. Ctrl-C (SIGINT),
 * SIGTERM, SIGHUP (the terminal closed), SIGQUIT and a closed stdout/stderr (pipe reader
 * gone: SIGPIPE is never fatal) cancel the running jobs, run their after_script and exit
 * 128 + the signal: 130, 143, 129, 131, 141. A second SIGINT/SIGTERM/SIGQUIT aborts at once
 * (no after_script, everything still removed). SIGKILL cannot clean up: the objects carry
 * their owner's identity, and the next `runnel run` or `runnel cleanup` removes those of
 * owners that are gone. */

/* The labels every object of this run carries ("k=v") for job `job_name` (NULL:
 * pipeline-wide): runnel.pipeline, runnel.job, runnel.project (run->project_dir, when set),
 * runnel.uid and the owner (runnel.pid/host/boot/start). Appended to out. */
void exec_labels(const struct exec_run *run, const char *job_name, struct strvec *out);

/* What exec_reap removes: objects whose owner (runnel.pid on runnel.host with runnel.boot and
 * runnel.start) is gone and that belong to this user (runnel.uid, when labelled). */
struct exec_reap_opts {
	const char *project_dir; /* only objects labelled runnel.project=<this>; NULL: all */
	const char *state_dir;   /* also the stale run directories under <this>/builds; may be
	                          * NULL */
	struct strvec *removed;  /* if not NULL, one line per removed object is appended:
	                          * "container NAME (pipeline ID of DIR)", "run directory DIR",
	                          * "temporary directory DIR" */
};
/* Removes, in this order: stale run directories, runnel's temporary directories of dead
 * owners in $TMPDIR (exec_temp_dir), then containers, networks and volumes. c may be NULL
 * (files only). Returns -1 with err when the engine cannot list its objects. */
int exec_reap(struct docker_client *c, const struct exec_reap_opts *o, struct err *err);
/* exec_reap of every project's dead objects plus state_dir's run directories, errors ignored
 * (logged at debug level): what `runnel run` does when it starts. */
void exec_reap_stale(struct docker_client *c, const char *state_dir);
/* Force-removes every container, network and volume of pipeline `pipeline_id`. */
void exec_remove_pipeline(struct docker_client *c, const char *pipeline_id);
/* Whether the container was removed by someone else: the engine no longer knows it (404) or
 * is removing it (`docker rm -f` in progress). False when the engine cannot be asked. */
bool exec_container_removed(struct docker_client *c, const char *id);
/* A new private directory $TMPDIR/runnel.<pid>.<start>.<what>.XXXXXX: its name says its
 * owner, so exec_reap removes it when a killed run could not. Returns the owned path or NULL
 * with err. */
char *exec_temp_dir(const char *what, struct err *err);
/* Removes this process's own temporary directories (the abort path, which cannot wait for
 * the jobs to remove theirs). */
void exec_remove_own_temp(void);

/* Signal handling, shared by `runnel run` and runner mode: SIGINT, SIGTERM, SIGHUP, SIGQUIT
 * and SIGPIPE are blocked in every thread (start this before any other thread) and read by a
 * watcher thread. The first one calls on_cancel (once) and makes cancel_fd readable; a
 * second SIGINT/SIGTERM/SIGQUIT makes force_fd readable and calls on_force, which is expected
 * not to return (exit). Repeated SIGHUP/SIGPIPE are ignored: they come in bursts. A write to
 * a closed pipe fails with EPIPE instead of killing the process; the writer reports it with
 * exec_signals_raise(s, SIGPIPE). With EXEC_SIGNALS_WATCH_OUTPUT, stdout and stderr (when
 * pipes or sockets) are watched too: their reader going away counts as SIGPIPE even while
 * nothing is written. */
struct exec_signals;
typedef void (*exec_signal_fn)(void *ud, int signo);
enum exec_signals_flags { EXEC_SIGNALS_WATCH_OUTPUT = 1 << 0 };
struct exec_signals *exec_signals_start(exec_signal_fn on_cancel, exec_signal_fn on_force, void *ud,
                                        unsigned flags, struct err *err);
/* As if signo had been received; safe from any thread and under any lock. NULL-safe. */
void exec_signals_raise(struct exec_signals *s, int signo);
int exec_signals_cancel_fd(const struct exec_signals *s);
int exec_signals_force_fd(const struct exec_signals *s);
/* The first signal received (0 if none). */
int exec_signals_received(const struct exec_signals *s);
void exec_signals_stop(struct exec_signals *s); /* NULL-safe; restores the signal mask */
