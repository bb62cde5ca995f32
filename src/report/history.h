/* Run history: every `runnel run` leaves a record of itself under <state>/runs/<N>/ (run.json:
 * when, the pipeline context, each job's status, exit code, duration and log; logs/: copies of
 * the job logs as they were at the end of that run), so `runnel runs` and `runnel log` can
 * answer after later runs have overwritten <state>/logs. Runs are numbered 1, 2, 3... per
 * project; only the newest `keep` are kept. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "report/report.h"
#include "util/err.h"

/* What the run was, besides its jobs (strings borrowed). */
struct history_info {
	const char *branch; /* exactly one of branch/tag is set */
	const char *tag;
	const char *source; /* CI_PIPELINE_SOURCE */
	const char *commit; /* HEAD (40 hex) or NULL */
	long long started;  /* Unix time the run started */
	double duration_s;
	const char *result; /* "success", "failed" or "canceled" */
	long keep;          /* runs kept after this one is added; <= 0: keep them all */
};

/* Records one run under state_dir/runs/ (created as needed): its record and a copy of every
 * job's log (results[i].log_path; NULL or missing logs are skipped), then removes the oldest
 * runs beyond info->keep. Sets *ret_number to the run's number. Returns 0, or -1 with err set
 * (ERR_ENV); a run half-written is removed again. */
int history_record(const char *state_dir, const struct history_info *info,
                   const struct job_result *results, size_t n, unsigned *ret_number,
                   struct err *err);

/* One job of a recorded run. All strings owned by the struct history_run. */
struct history_job {
	char *name;
	char *stage;
	char *status;  /* job_status_name(): "success", "failed", "warning", ... */
	int exit_code; /* -1 when no script ran */
	double duration_s;
	char *log_path; /* the recorded copy (absolute or relative to the cwd), NULL if none */
};

/* One recorded run, read back. */
struct history_run {
	unsigned number;
	long long started;
	double duration_s;
	char *branch, *tag, *source, *commit, *result; /* NULL when absent */
	struct history_job *jobs;
	size_t n_jobs;
};
void history_run_release(struct history_run *r);

/* The numbers of the recorded runs under state_dir, newest (highest) first, into *ret
 * (owned, free()) and *ret_n. No history is not an error (0 runs). Returns 0 or -1 with err. */
int history_numbers(const char *state_dir, unsigned **ret, size_t *ret_n, struct err *err);

/* Reads run `number` (0: the newest) into *ret (release with history_run_release). Returns 0,
 * 1 when there is no such run (or no run at all), -1 with err set when its record is
 * unreadable. */
int history_load(const char *state_dir, unsigned number, struct history_run *ret, struct err *err);

/* Whether a recorded status counts as a failed job for `runnel log --failed`: failed, timed
 * out, or failed with allow_failure (warning). */
bool history_status_failed(const char *status);
