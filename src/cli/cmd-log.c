/* runnel log: a job's log from a past run (default the last one), or with --failed the logs
 * of the failed jobs, read from the copies the run history keeps (report/history.c). */
#include "cli/cmds.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/ctx.h"
#include "report/history.h"
#include "util/cleanup.h"
#include "util/xalloc.h"

/* long-only keys above the common options' (ctx.c: 256 and up) */
enum { OPT_RUN = 'r', OPT_FAILED = 1024 };

struct log_opts {
	unsigned run; /* 0: the last run */
	bool failed;
};

static const struct cli_option log_opts_table[] = {
    {"run", OPT_RUN, true, "N", "the log of run N (see 'runnel runs'; default: the last run)"},
    {"failed", OPT_FAILED, false, NULL, "print the logs of every failed job of the run"},
    {NULL, 0, false, NULL, NULL},
};

static int log_on_opt(void *data, int key, const char *arg)
{
	struct log_opts *o = data;
	if (key == OPT_FAILED) {
		o->failed = true;
		return 0;
	}
	char *end;
	errno = 0;
	unsigned long n = strtoul(arg, &end, 10);
	if (!*arg || *end || errno || n < 1 || n > 999999999 || *arg == '-') {
		fprintf(stderr, "runnel log: --run wants a run number >= 1, not '%s'\n", arg);
		return -1;
	}
	o->run = (unsigned)n;
	return 0;
}

/* Copies the file to stdout. Returns 0 or -1 (errno). */
static int cat_file(const char *path)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	fflush(stdout);
	char buf[65536];
	ssize_t k;
	while ((k = read(fd, buf, sizeof(buf))) > 0)
		if (fwrite(buf, 1, (size_t)k, stdout) != (size_t)k)
			return -1;
	return k < 0 ? -1 : 0;
}

static int print_job_log(const struct history_run *r, const struct history_job *j)
{
	if (!j->log_path) {
		fprintf(stderr, "runnel log: job '%s' of run %u has no log (%s)\n", j->name,
		        r->number, j->status ? j->status : "did not run");
		return 1;
	}
	if (cat_file(j->log_path) < 0) {
		fprintf(stderr, "runnel log: cannot read '%s': %s\n", j->log_path, strerror(errno));
		return 4;
	}
	return 0;
}

static int print_failed(const struct history_run *r)
{
	size_t n = 0;
	int rc = 0;
	for (size_t i = 0; i < r->n_jobs; i++) {
		const struct history_job *j = &r->jobs[i];
		if (!history_status_failed(j->status))
			continue;
		/* tail(1)'s header between files: which log is which stays clear */
		printf("%s==> %s (%s, exit code %d) <==\n", n++ ? "\n" : "", j->name, j->status,
		       j->exit_code);
		int r1 = j->log_path ? print_job_log(r, j) : 0;
		rc = rc ? rc : r1;
	}
	if (!n)
		fprintf(stderr, "runnel log: no failed job in run %u\n", r->number);
	return rc;
}

static int print_named(const struct history_run *r, const char *name)
{
	for (size_t i = 0; i < r->n_jobs; i++)
		if (!strcmp(r->jobs[i].name, name))
			return print_job_log(r, &r->jobs[i]);
	fprintf(stderr, "runnel log: no job '%s' in run %u (jobs:", name, r->number);
	for (size_t i = 0; i < r->n_jobs; i++)
		fprintf(stderr, "%s %s", i ? "," : "", r->jobs[i].name);
	fprintf(stderr, ")\n");
	return 2;
}

static int show(const char *state_dir, const struct log_opts *o, const char *job)
{
	struct history_run r;
	struct err err = ERR_INIT;
	int found = history_load(state_dir, o->run, &r, &err);
	if (found < 0) {
		fprintf(stderr, "runnel: %s\n", err.msg);
		err_release(&err);
		return 4;
	}
	if (found > 0) {
		if (o->run)
			fprintf(stderr, "runnel log: there is no run %u (see 'runnel runs')\n",
			        o->run);
		else
			fprintf(stderr, "runnel log: no run recorded in this project yet\n");
		return 2;
	}
	int rc = o->failed ? print_failed(&r) : print_named(&r, job);
	history_run_release(&r);
	return rc;
}

int cmd_log(int argc, char **argv)
{
	struct log_opts o = {0};
	const struct cli_verb verb = {
	    .name = "log",
	    .synopsis = "[--run N] JOB | [--run N] --failed",
	    .summary = "Print a job's log from a past run (default: the last run), or the logs "
	               "of the failed jobs with --failed.",
	    .opts = log_opts_table,
	    .on_opt = log_on_opt,
	    .data = &o,
	    .min_args = 0,
	    .max_args = 1,
	};
	_cleanup_(cli_session_release) struct cli_session s = CLI_SESSION_INIT;
	if (!cli_session_start(&s, argc, argv, &verb))
		return s.rc;
	bool has_job = s.argi < argc;
	if (has_job == o.failed) {
		fprintf(stderr, "runnel log: %s\nusage: runnel log %s\n",
		        o.failed ? "--failed takes no job name" : "missing job name",
		        verb.synopsis);
		return 2;
	}
	_cleanup_free_ char *state_dir = xasprintf("%s/.runnel", s.ctx.repo.root);
	return show(state_dir, &o, has_job ? argv[s.argi] : NULL);
}
