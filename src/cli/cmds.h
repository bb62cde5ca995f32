/* The verbs of the runnel command line; each lives in cli/cmd-<verb>.c and returns the
 * process exit code (0 ok, 1 job failed, 2 usage, 3 config, 4 environment). */
#pragma once

int cmd_lint(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_config(int argc, char **argv);
int cmd_graph(int argc, char **argv);
int cmd_explain(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_cache(int argc, char **argv);
int cmd_registry(int argc, char **argv);
int cmd_cleanup(int argc, char **argv);
