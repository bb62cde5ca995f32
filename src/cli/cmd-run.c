/* runnel run: runs the pipeline (or the named jobs and what they need) on this machine. The
 * plan (plan/dag) feeds the scheduler (plan/scheduler), whose job threads call the executors
 * (exec/); output goes through report/. Exit 0 when the pipeline passed (warnings allowed),
 * 1 when it failed, 128+signal when a signal or a closed output ended it (130 SIGINT, 143
 * SIGTERM, 129 SIGHUP, 131 SIGQUIT, 141 closed stdout/stderr; exec.h); 2/3/4 for
 * usage/config/environment. */
#include "cli/cmds.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/ctx.h"
#include "docker/client.h"
#include "exec/exec.h"
#include "exec/registry.h"
#include "exec/settings.h"
#include "model/vars.h"
#include "plan/dag.h"
#include "plan/scheduler.h"
#include "report/report.h"
#include "util/cleanup.h"
#include "util/monotime.h"
#include "util/strvec.h"
#include "util/xalloc.h"

enum {
	OPT_CONCURRENCY = 'j',
	OPT_EXECUTOR = 512,
	OPT_DEFAULT_IMAGE,
	OPT_COMMITTED,
	OPT_MANUAL,
	OPT_NEEDS,
	OPT_NO_NEEDS,
	OPT_REPORT,
	OPT_TIMESTAMPS,
	OPT_TIMINGS,
	OPT_LOG_DIR,
	OPT_REGISTRY,
	/* runner settings flags: OPT_SETTING + index into setting_flags[] */
	OPT_SETTING = 600,
};

/* Flags forwarded to runner_settings_apply_flag, applied over the settings files. */
static const char *const setting_flags[] = {
    "privileged",
    "services-privileged",
    "dind-cache",
    "volume",
    "cap-add",
    "cap-drop",
    "security-opt",
    "device",
    "extra-host",
    "dns",
    "network-mode",
    "pull-policy",
    "wait-for-services-timeout",
    "lenient",
    "services-limit",
};
#define N_SETTING_FLAGS (sizeof(setting_flags) / sizeof(setting_flags[0]))

struct run_opts {
	unsigned concurrency;
	enum exec_kind kind;
	const char *default_image;
	bool committed;
	struct strvec manual;
	enum plan_select select;
	const char *report;
	bool timestamps;
	bool timings;
	const char *log_dir;
	struct strvec settings; /* "flag" / value pairs, applied over the settings files */
	bool registry;
};

static const struct cli_option run_opts_table[] = {
    {"concurrency", OPT_CONCURRENCY, true, "N", "run at most N jobs at once (default: CPUs)"},
    {"executor", OPT_EXECUTOR, true, "KIND", "docker (default) or shell"},
    {"default-image", OPT_DEFAULT_IMAGE, true, "IMAGE", "image for jobs that name none"},
    {"committed", OPT_COMMITTED, false, NULL,
     "give jobs exactly HEAD (default: the working tree with uncommitted changes)"},
    {"manual", OPT_MANUAL, true, "JOB", "run the manual job JOB (repeatable)"},
    {"needs", OPT_NEEDS, false, NULL, "named jobs run with what they need (default)"},
    {"no-needs", OPT_NO_NEEDS, false, NULL, "run only the named jobs"},
    {"only-needs", OPT_NO_NEEDS, false, NULL, "same as --no-needs"},
    {"report", OPT_REPORT, true, "FILE", "write a JSON report of the run to FILE"},
    {"timestamps", OPT_TIMESTAMPS, false, NULL, "prefix each output line with the time"},
    {"timings", OPT_TIMINGS, false, NULL, "print where each job's time went"},
    {"log-dir", OPT_LOG_DIR, true, "DIR", "where job logs go (default: .runnel/logs)"},
    {"registry", OPT_REGISTRY, false, NULL,
     "run a local container registry for the run (CI_REGISTRY*; kept per project)"},
    {"privileged", OPT_SETTING + 0, false, NULL, "run job and service containers privileged"},
    {"services-privileged", OPT_SETTING + 1, false, NULL, "run service containers privileged"},
    {"dind-cache", OPT_SETTING + 2, false, NULL, "keep a DinD service's image store between runs"},
    {"volume", OPT_SETTING + 3, true, "SRC:DST[:MODE]", "extra volume (repeatable)"},
    {"cap-add", OPT_SETTING + 4, true, "CAP", "add a capability (repeatable)"},
    {"cap-drop", OPT_SETTING + 5, true, "CAP", "drop a capability (repeatable)"},
    {"security-opt", OPT_SETTING + 6, true, "OPT", "security option (repeatable)"},
    {"device", OPT_SETTING + 7, true, "DEV", "expose a host device (repeatable)"},
    {"extra-host", OPT_SETTING + 8, true, "HOST:IP", "extra /etc/hosts entry (repeatable)"},
    {"dns", OPT_SETTING + 9, true, "IP", "DNS server (repeatable)"},
    {"network-mode", OPT_SETTING + 10, true, "MODE", "join this network instead of a per-job one"},
    {"pull-policy", OPT_SETTING + 11, true, "POLICY", "always, if-not-present or never"},
    {"wait-for-services-timeout", OPT_SETTING + 12, true, "SECONDS",
     "how long to wait for services (-1: no wait)"},
    {"lenient", OPT_SETTING + 13, false, NULL,
     "make DinD wiring mistakes that fail on GitLab work, with a warning and the YAML fix "
     "for each"},
    {"services-limit", OPT_SETTING + 14, true, "N", "at most N services per job (-1: no limit)"},
    {NULL, 0, false, NULL, NULL},
};

static int run_on_opt(void *data, int key, const char *arg)
{
	struct run_opts *o = data;
	char *end = NULL;
	switch (key) {
	case OPT_CONCURRENCY: {
		long n = strtol(arg, &end, 10);
		if (!*arg || *end || n < 1 || n > 4096) {
			fprintf(stderr, "runnel run: --concurrency wants a number >= 1, not '%s'\n",
			        arg);
			return -1;
		}
		o->concurrency = (unsigned)n;
		return 0;
	}
	case OPT_EXECUTOR:
		if (strcmp(arg, "docker") && strcmp(arg, "shell")) {
			fprintf(stderr, "runnel run: unknown executor '%s' (docker or shell)\n",
			        arg);
			return -1;
		}
		o->kind = !strcmp(arg, "shell") ? EXEC_SHELL : EXEC_DOCKER;
		return 0;
	case OPT_DEFAULT_IMAGE:
		o->default_image = arg;
		return 0;
	case OPT_COMMITTED:
		o->committed = true;
		return 0;
	case OPT_MANUAL:
		strvec_push(&o->manual, arg);
		return 0;
	case OPT_NEEDS:
		o->select = PLAN_SELECT_NEEDS;
		return 0;
	case OPT_NO_NEEDS:
		o->select = PLAN_SELECT_ONLY;
		return 0;
	case OPT_REPORT:
		o->report = arg;
		return 0;
	case OPT_TIMESTAMPS:
		o->timestamps = true;
		return 0;
	case OPT_TIMINGS:
		o->timings = true;
		return 0;
	case OPT_LOG_DIR:
		o->log_dir = arg;
		return 0;
	case OPT_REGISTRY:
		o->registry = true;
		return 0;
	default:
		break;
	}
	if (key >= OPT_SETTING && key < OPT_SETTING + (int)N_SETTING_FLAGS) {
		/* pairs: flag name, value ("" stands for a flag without value) */
		strvec_push(&o->settings, setting_flags[key - OPT_SETTING]);
		strvec_push(&o->settings, arg ? arg : "");
		return 0;
	}
	return -1;
}

/* Everything of one run that the signal thread and the job threads reach. */
struct run_state {
	struct run_opts *o;
	struct cli_ctx *ctx;
	struct pipeline *p;
	struct plan *plan;
	struct exec_run run;
	struct sched *sched; /* set before the signal thread can see it */
	struct docker_client *docker;
	struct docker_client *cleaner; /* used only by the signal thread */
	struct docker_client *reaper;  /* used only by the reaper thread */
	pthread_t reaper_thread;
	bool reaping;
	struct exec_signals *sig;
	struct report *report;
	struct var_list predefined; /* in ctx->arena */
	struct var_list cli_vars;   /* in ctx->arena */
	struct strvec files;
	struct runner_settings settings;
	struct registry *registry;
	char pipeline_id[64];
	bool color; /* ANSI colours: a TTY and no NO_COLOR */
	char *state_dir;
	char *log_dir;
};

static const char *signal_what(int signo)
{
	switch (signo) {
	case SIGINT:
		return "interrupt received";
	case SIGTERM:
		return "termination signal received";
	case SIGHUP:
		return "hangup received (the terminal went away)";
	case SIGQUIT:
		return "quit signal received";
	case SIGPIPE:
		return "the output was closed";
	default:
		return "signal received";
	}
}

/* Whatever ended the run, the jobs are canceled the same way (exec.h): only the way it is
 * said differs. stderr may be the closed stream: the message is then lost, nothing more. */
static void on_cancel(void *ud, int signo)
{
	struct run_state *rs = ud;
	bool again = signo == SIGINT || signo == SIGTERM || signo == SIGQUIT;
	fprintf(stderr, "\nrunnel: %s: canceling the running jobs%s\n", signal_what(signo),
	        again ? " (again to abort)" : "");
	struct sched *s = __atomic_load_n(&rs->sched, __ATOMIC_SEQ_CST);
	if (s)
		sched_cancel(s);
}

/* Second signal: remove everything of this run now and leave. */
static void on_force(void *ud, int signo)
{
	struct run_state *rs = ud;
	int first = exec_signals_received(rs->sig);
	fprintf(stderr, "\nrunnel: aborting: removing containers and networks\n");
	if (rs->cleaner)
		exec_remove_pipeline(rs->cleaner, rs->pipeline_id);
	exec_remove_own_temp();
	if (rs->run.run_dir) {
		char *argv[] = {"rm", "-rf", "--", rs->run.run_dir, NULL};
		pid_t pid = fork();
		if (pid == 0) {
			execvp(argv[0], argv);
			_exit(127);
		}
		int st;
		if (pid > 0)
			waitpid(pid, &st, 0);
	}
	_exit(128 + (first ? first : signo));
}

static void sched_run_cb(void *ud, size_t index, unsigned attempt, struct sched_attempt *out)
{
	struct run_state *rs = ud;
	exec_job(&rs->run, index, attempt, out);
}

static enum job_status to_status(enum sched_state s)
{
	switch (s) {
	case SCHED_PENDING:
		return JOB_PENDING;
	case SCHED_RUNNING:
		return JOB_RUNNING;
	case SCHED_SUCCESS:
		return JOB_SUCCESS;
	case SCHED_WARNING:
		return JOB_WARNING;
	case SCHED_FAILED:
		return JOB_FAILED;
	case SCHED_CANCELED:
		return JOB_CANCELED;
	case SCHED_TIMEDOUT:
		return JOB_TIMEDOUT;
	default:
		return JOB_SKIPPED;
	}
}

/* ---- setup ---- */

static int mkdir_one(const char *path)
{
	if (mkdir(path, 0755) < 0 && errno != EEXIST) {
		fprintf(stderr, "runnel: cannot create '%s': %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* .runnel/ holds logs, builds and artifacts; a .gitignore keeps it out of `git status` and
 * out of the file list jobs receive. */
static int state_dirs(struct run_state *rs)
{
	rs->state_dir = xasprintf("%s/.runnel", rs->ctx->repo.root);
	if (mkdir_one(rs->state_dir) < 0)
		return -1;
	_cleanup_free_ char *gi = xasprintf("%s/.gitignore", rs->state_dir);
	if (access(gi, F_OK) < 0) {
		FILE *f = fopen(gi, "w");
		if (f) {
			fputs("*\n", f);
			fclose(f);
		}
	}
	_cleanup_free_ char *b = xasprintf("%s/builds", rs->state_dir);
	_cleanup_free_ char *a = xasprintf("%s/artifacts", rs->state_dir);
	if (mkdir_one(b) < 0 || mkdir_one(a) < 0)
		return -1;
	rs->log_dir =
	    rs->o->log_dir ? xstrdup(rs->o->log_dir) : xasprintf("%s/logs", rs->state_dir);
	return 0;
}

/* CLI variables rank above everything else for jobs: --variables-file then --variable. */
static int cli_variables(struct run_state *rs, const struct cli_common *c)
{
	struct err err = ERR_INIT;
	if (c->variables_file &&
	    cli_read_variables_file(c->variables_file, &rs->ctx->arena, &rs->cli_vars, &err) < 0) {
		fprintf(stderr, "runnel: %s\n", err.msg);
		err_release(&err);
		return 3;
	}
	for (size_t i = 0; i < c->variables.n; i++) {
		const char *kv = c->variables.v[i];
		const char *eq = strchr(kv, '=');
		if (!eq)
			continue; /* already rejected by the common option parser */
		_cleanup_free_ char *k = xstrndup(kv, (size_t)(eq - kv));
		var_list_set_kv(&rs->ctx->arena, &rs->cli_vars, k, eq + 1);
	}
	var_list_merge(&rs->ctx->arena, &rs->predefined, &rs->ctx->pctx.vars);
	var_list_merge(&rs->ctx->arena, &rs->predefined, &rs->ctx->job_vars);
	return 0;
}

/* The project snapshot's files: listed on demand (cli_ctx_repo_files), as the model asks for
 * them only for rules:exists and include wildcards. Returns 0 or an exit code. */
static int project_files(struct run_state *rs)
{
	struct err err = ERR_INIT;
	if (cli_ctx_repo_files(rs->ctx, &err) < 0) {
		fprintf(stderr, "runnel: %s\n", err.msg);
		err_release(&err);
		return 4;
	}
	const struct vcs_repo *r = &rs->ctx->repo;
	for (size_t i = 0; i < r->files.n; i++)
		if (strncmp(r->files.v[i], ".runnel/", 8) && strcmp(r->files.v[i], ".runnel"))
			strvec_push(&rs->files, r->files.v[i]);
	return 0;
}

static bool needs_docker(const struct run_state *rs)
{
	if (rs->o->kind == EXEC_SHELL)
		return false;
	if (rs->o->default_image || rs->settings.default_image)
		return true;
	for (size_t i = 0; i < rs->plan->n; i++)
		if (rs->plan->nodes[i].job->image.name)
			return true;
	return false;
}

/* Leftovers of killed runs are removed while this run goes on: they only concern objects of
 * dead owners, so nothing here waits for it (joined before exit). */
static void *reaper_main(void *p)
{
	struct run_state *rs = p;
	exec_reap_stale(rs->reaper, rs->state_dir);
	return NULL;
}

static void start_reaper(struct run_state *rs)
{
	struct err err = ERR_INIT;
	rs->reaper = docker_client_clone(rs->docker, &err);
	if (!rs->reaper) {
		err_release(&err);
		return;
	}
	rs->reaping = pthread_create(&rs->reaper_thread, NULL, reaper_main, rs) == 0;
	if (!rs->reaping)
		exec_reap_stale(rs->reaper, rs->state_dir);
}

static int connect_docker(struct run_state *rs)
{
	if (!needs_docker(rs)) {
		exec_reap_stale(NULL, rs->state_dir);
		return 0;
	}
	struct err err = ERR_INIT;
	struct docker_opts dopts = DOCKER_OPTS_INIT;
	rs->docker = docker_client_new(&dopts, &err);
	if (rs->docker)
		rs->cleaner = docker_client_clone(rs->docker, &err);
	if (!rs->docker || !rs->cleaner) {
		fprintf(stderr, "runnel: %s\n", err.msg);
		err_release(&err);
		return 4;
	}
	start_reaper(rs);
	return 0;
}

static void pipeline_id(struct run_state *rs)
{
	struct timespec t;
	clock_gettime(CLOCK_REALTIME, &t);
	snprintf(rs->pipeline_id, sizeof(rs->pipeline_id), "%lx%04lx",
	         (unsigned long)t.tv_sec & 0xffffffUL, (unsigned long)getpid() & 0xffffUL);
}

static const char *project_path(struct run_state *rs)
{
	const char *p = var_list_value(&rs->predefined, "CI_PROJECT_PATH");
	if (p && *p)
		return p;
	const char *slash = strrchr(rs->ctx->repo.root, '/');
	return slash && slash[1] ? slash + 1 : "project";
}

/* --registry: the labels carry our pid so that concurrent runs' reapers leave it alone. */
static int start_registry(struct run_state *rs)
{
	if (!rs->o->registry)
		return 0;
	if (!rs->docker) {
		fprintf(stderr, "runnel: --registry needs the Docker executor\n");
		return 2;
	}
	struct strvec labels = STRVEC_INIT;
	struct exec_run tmp = {.pipeline_id = rs->pipeline_id, .project_dir = rs->ctx->repo.root};
	exec_labels(&tmp, NULL, &labels);
	struct registry_opts ro = {.pipeline_id = rs->pipeline_id,
	                           .labels = labels.v,
	                           .project_path = project_path(rs),
	                           .storage_key = rs->ctx->repo.root};
	struct err err = ERR_INIT;
	rs->registry = registry_start(rs->docker, &ro, &err);
	strvec_release(&labels);
	if (!rs->registry) {
		fprintf(stderr, "runnel: %s\n", err.msg);
		err_release(&err);
		return 4;
	}
	registry_vars(rs->registry, &rs->predefined, &rs->ctx->arena);
	rs->run.insecure_registry = registry_address(rs->registry);
	return 0;
}

/* The live output's reader is gone (`runnel run | head`): cancel as for a signal. Called
 * under the report's output lock: exec_signals_raise only writes to a pipe. */
static void on_output_closed(void *ud)
{
	struct run_state *rs = ud;
	exec_signals_raise(rs->sig, SIGPIPE);
}

static int open_report(struct run_state *rs)
{
	struct report_opts ro = REPORT_OPTS_INIT;
	ro.on_output_closed = on_output_closed;
	ro.userdata = rs;
	const char *nc = getenv("NO_COLOR");
	rs->color = isatty(1) && !(nc && *nc);
	ro.color = rs->color;
	ro.timestamps = rs->o->timestamps;
	ro.log_dir = rs->log_dir;
	for (size_t i = 0; i < rs->plan->n; i++) {
		size_t l = strlen(rs->plan->nodes[i].job->name);
		if (l > ro.name_width)
			ro.name_width = l;
	}
	struct err err = ERR_INIT;
	rs->report = report_new(&ro, &err);
	if (!rs->report) {
		fprintf(stderr, "runnel: %s\n", err.msg);
		err_release(&err);
		return 4;
	}
	return 0;
}

static int prepare_run(struct run_state *rs)
{
	struct exec_run *run = &rs->run;
	run->pipeline = rs->p;
	run->plan = rs->plan;
	run->predefined = &rs->predefined;
	run->cli_vars = &rs->cli_vars;
	run->project_dir = rs->ctx->repo.root;
	run->project_path = project_path(rs);
	run->state_dir = rs->state_dir;
	run->pipeline_id = rs->pipeline_id;
	run->files = rs->ctx->repo.in_repo ? &rs->files : NULL;
	run->kind = rs->o->kind;
	run->default_image = rs->o->default_image;
	run->committed = rs->o->committed;
	run->color = rs->color;
	run->report = rs->report;
	run->settings = &rs->settings;
	run->docker = rs->docker;
	run->cancel_fd = exec_signals_cancel_fd(rs->sig);
	run->force_fd = exec_signals_force_fd(rs->sig);
	struct err err = ERR_INIT;
	if (exec_run_prepare(run, &err) < 0) {
		fprintf(stderr, "runnel: %s\n", err.msg);
		err_release(&err);
		return 4;
	}
	return 0;
}

/* ---- results ---- */

/* The --timings table. Columns are found by header name (a DinD benchmark parses
 * `services` and `ready>script`): every column is as wide as its header or value, right
 * aligned; ready>script is in milliseconds, "-" for jobs without a DinD DOCKER_HOST. */
static void print_timings(const struct run_state *rs)
{
	fprintf(stdout, "\n%-*s %7s %7s %7s %8s %7s %7s %7s %8s %7s %7s %12s\n", 24, "JOB", "pull",
	        "network", "create", "services", "copy-in", "script", "after", "copy-out", "remove",
	        "total", "ready>script");
	for (size_t i = 0; i < rs->plan->n; i++) {
		const struct exec_timings *t = &rs->run.jobs[i].timings;
		if (sched_result(rs->sched, i)->attempts == 0)
			continue;
		char rs_ms[32] = "-";
		if (t->has_ready_script)
			snprintf(rs_ms, sizeof(rs_ms), "%.0f", t->ready_script);
		fprintf(stdout,
		        "%-*.*s %7.3f %7.3f %7.3f %8.3f %7.3f %7.3f %7.3f %8.3f %7.3f %7.3f %12s\n",
		        24, 24, rs->plan->nodes[i].job->name, t->pull, t->network, t->create,
		        t->services, t->copy_in, t->script, t->after, t->copy_out, t->remove,
		        t->total, rs_ms);
	}
}

static int finish_run(struct run_state *rs, double total)
{
	size_t n = rs->plan->n;
	struct job_result *res = xcalloc(n ? n : 1, sizeof(*res));
	for (size_t i = 0; i < n; i++) {
		const struct sched_result *sr = sched_result(rs->sched, i);
		const struct exec_job_state *js = &rs->run.jobs[i];
		res[i].name = rs->plan->nodes[i].job->name;
		res[i].stage = rs->plan->nodes[i].job->stage;
		res[i].status = to_status(sr->state);
		res[i].exit_code = sr->attempts ? sr->exit_code : -1;
		res[i].duration_s = sr->attempts ? sr->finished_s - sr->started_s : 0;
		res[i].reason = sr->reason                    ? sr->reason
		                : sr->failure != FAILURE_NONE ? sched_failure_name(sr->failure)
		                                              : NULL;
		res[i].log_path = js->log_path;
		res[i].coverage = js->coverage;
		res[i].junit_tests = js->junit_tests;
		res[i].junit_failures = js->junit_failures;
	}
	bool ok = sched_pipeline_ok(rs->sched);
	report_summary(rs->report, res, n, total);
	if (rs->o->timings)
		print_timings(rs);
	int rc = 0;
	struct err err = ERR_INIT;
	if (rs->o->report && report_write_json(rs->o->report, res, n, total, ok, &err) < 0) {
		fprintf(stderr, "runnel: %s\n", err.msg);
		err_release(&err);
		rc = 4;
	}
	cli_history_record(rs->ctx, rs->state_dir, rs->settings.keep_runs, res, n, total,
	                   exec_signals_received(rs->sig) ? "canceled"
	                   : ok                           ? "success"
	                                                  : "failed");
	free(res);
	int sig = exec_signals_received(rs->sig);
	if (sig)
		return 128 + sig;
	return rc ? rc : ok ? 0 : 1;
}

static int execute(struct run_state *rs)
{
	struct sched_ops ops = {.run = sched_run_cb, .finished = NULL, .ud = rs};
	struct sched_opts so = SCHED_OPTS_INIT;
	so.concurrency = rs->o->concurrency;
	so.manual = (const char *const *)rs->o->manual.v;
	so.n_manual = rs->o->manual.n;
	struct sched *s = sched_new(rs->plan, &so, &ops);
	__atomic_store_n(&rs->sched, s, __ATOMIC_SEQ_CST);
	if (exec_signals_received(rs->sig))
		sched_cancel(s); /* a signal came before the scheduler existed */
	struct timespec t0, t1;
	monotime_get(&t0);
	struct err err = ERR_INIT;
	int r = sched_run(s, &err);
	monotime_get(&t1);
	if (r < 0) {
		fprintf(stderr, "runnel: %s\n", err.msg);
		err_release(&err);
	}
	double total = monotime_diff_s(&t0, &t1);
	int rc = finish_run(rs, total);
	return r < 0 && rc == 0 ? 4 : rc;
}

static int build_plan(struct run_state *rs, char **names, int n)
{
	struct plan_opts po = PLAN_OPTS_INIT;
	po.jobs = (const char *const *)names;
	po.n_jobs = (size_t)n;
	po.select = rs->o->select;
	struct err err = ERR_INIT;
	if (plan_build(rs->p, &po, &rs->plan, &err) == 0)
		return 0;
	if (err.loc.file)
		fprintf(stderr, "%s:%u:%u: error: %s\n", err.loc.file, err.loc.line, err.loc.col,
		        err.msg);
	else
		fprintf(stderr, "runnel: %s\n", err.msg);
	int rc = err_exit_code(&err);
	err_release(&err);
	return rc;
}

/* [runners.docker]-style settings: ~/.config/runnel/settings.yml then .runnel.yml. */
static int load_settings(struct run_state *rs)
{
	struct err err = ERR_INIT;
	int r = runner_settings_load_default(&rs->settings, rs->ctx->repo.root, &err);
	const struct strvec *f = &rs->o->settings;
	for (size_t i = 0; r == 0 && i + 1 < f->n; i += 2)
		r = runner_settings_apply_flag(&rs->settings, f->v[i],
		                               *f->v[i + 1] ? f->v[i + 1] : NULL, &err);
	if (r == 0)
		return 0;
	fprintf(stderr, "runnel: %s\n", err.msg);
	int rc = err_exit_code(&err);
	err_release(&err);
	return rc;
}

static int run_pipeline(struct run_state *rs, const struct cli_common *c, char **names, int n)
{
	int rc;
	if ((rc = build_plan(rs, names, n)) || (rc = cli_variables(rs, c)) ||
	    (rc = load_settings(rs)))
		return rc;
	if (state_dirs(rs) < 0)
		return 4;
	pipeline_id(rs);
	if ((rc = project_files(rs)))
		return rc;
	struct err err = ERR_INIT;
	rs->sig = exec_signals_start(on_cancel, on_force, rs, EXEC_SIGNALS_WATCH_OUTPUT, &err);
	if (!rs->sig) {
		fprintf(stderr, "runnel: %s\n", err.msg);
		err_release(&err);
		return 4;
	}
	if ((rc = connect_docker(rs)) || (rc = start_registry(rs)) || (rc = open_report(rs)) ||
	    (rc = prepare_run(rs)))
		return rc;
	return execute(rs);
}

static void run_state_release(struct run_state *rs)
{
	int sig = rs->sig ? exec_signals_received(rs->sig) : 0;
	/* first: a second Ctrl-C being handled (removal, then exit) must not race with us */
	exec_signals_stop(rs->sig);
	exec_run_release(&rs->run);
	/* safety net after a cancel: jobs remove their own objects on every normal path */
	if (rs->cleaner && sig)
		exec_remove_pipeline(rs->cleaner, rs->pipeline_id);
	if (rs->registry)
		registry_stop(rs->docker, rs->registry);
	if (rs->reaping)
		pthread_join(rs->reaper_thread, NULL);
	docker_client_free(rs->reaper);
	sched_free(rs->sched);
	report_free(rs->report);
	docker_client_free(rs->cleaner);
	docker_client_free(rs->docker);
	plan_free(rs->plan);
	strvec_release(&rs->files);
	runner_settings_release(&rs->settings);
	free(rs->state_dir);
	free(rs->log_dir);
}

int cmd_run(int argc, char **argv)
{
	struct run_opts o = {.kind = EXEC_DOCKER, .manual = STRVEC_INIT, .settings = STRVEC_INIT};
	const struct cli_verb verb = {
	    .name = "run",
	    .synopsis = "[options] [JOB...]",
	    .summary = "Run the pipeline, or the named jobs and what they need, in containers "
	               "(or with --executor shell on this machine).",
	    .opts = run_opts_table,
	    .on_opt = run_on_opt,
	    .data = &o,
	    .min_args = 0,
	    .max_args = -1,
	};
	_cleanup_(cli_common_release) struct cli_common c = CLI_COMMON_INIT;
	int argi = cli_parse_args(argc, argv, &verb, &c);
	if (argi <= 0) {
		strvec_release(&o.manual);
		strvec_release(&o.settings);
		return argi == 0 ? 0 : 2;
	}
	_cleanup_(cli_ctx_release) struct cli_ctx ctx;
	struct run_state rs = {.o = &o, .ctx = &ctx, .files = STRVEC_INIT};
	runner_settings_init(&rs.settings);
	int rc = cli_ctx_prepare(&ctx, &c, &rs.p);
	if (rc == 0 && !rs.p->created) {
		fprintf(stderr, "runnel: workflow:rules create no pipeline for this context\n");
	} else if (rc == 0) {
		rc = run_pipeline(&rs, &c, argv + argi, argc - argi);
	}
	run_state_release(&rs);
	pipeline_free(rs.p);
	strvec_release(&o.manual);
	strvec_release(&o.settings);
	return rc;
}
