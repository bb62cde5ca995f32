/* The verbs of the runnel command line; each lives in cli/cmd-<verb>.c and returns the
 * process exit code (0 ok, 1 job failed, 2 usage, 3 config, 4 environment). */
#pragma once
#include <stddef.h>

int cmd_lint(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_config(int argc, char **argv);
int cmd_graph(int argc, char **argv);
int cmd_explain(int argc, char **argv);
int cmd_payload(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_cache(int argc, char **argv);
int cmd_registry(int argc, char **argv);
int cmd_cleanup(int argc, char **argv);
int cmd_runs(int argc, char **argv);
int cmd_log(int argc, char **argv);
int cmd_runner(int argc, char **argv);

struct cli_ctx;
struct job_result;
/* The end of `runnel run`: records the run in the history under state_dir (report/history.c)
 * with its context from ctx, results[0..n) (borrowed), total_s and result ("success",
 * "failed" or "canceled"), keeping the newest keep runs (-1: all; 0: no history). A failure
 * is a warning on stderr, never the run's failure. Lives in cmd-runs.c. */
void cli_history_record(const struct cli_ctx *ctx, const char *state_dir, long keep,
                        const struct job_result *results, size_t n, double total_s,
                        const char *result);
