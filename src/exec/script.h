/* The shell script a job stage runs, generated as gitlab-runner's bash shell writer does
 * (runner-docker.md §7): a fixed prologue (TERM trap, pipefail when the shell has it,
 * errexit, no noclobber) around `: | eval '<body>'`, where the body exports every variable,
 * sources $GITLAB_ENV, cds to the project and echoes each command as `$ command` before
 * running it. The same text serves the Docker (fed on stdin) and shell executors. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

struct strbuf;
struct var_list;
struct string_list;

/* The Cmd of a job container: `sh -c <probe>` that execs the first shell found
 * (/usr/local/bin/bash ... /bin/sh, /busybox/sh), else prints "shell not found" and exits 1.
 * Returns a static NULL-terminated argv. */
char *const *script_shell_probe_argv(void);

struct script_opts {
	const struct var_list *vars; /* borrowed: expanded values, exported in this order; file
	                              * variables are written to tmp_dir/KEY and exported as
	                              * that path */
	const char *project_dir;     /* CI_PROJECT_DIR */
	const char *tmp_dir;         /* RUNNER_TEMP_PROJECT_DIR (project_dir + ".tmp") */
	const struct string_list *const *parts; /* borrowed: command lists run in order
	                                         * (before_script, script) */
	size_t n_parts;
	bool after_script; /* prints "Running after script..." first */
	bool color;        /* echo commands in bold green */
	bool trace;        /* CI_DEBUG_TRACE: set -o xtrace */
};

/* Appends the complete script to out. */
void script_build(const struct script_opts *o, struct strbuf *out);
/* Appends the body only (what goes inside eval), for tests and debugging. */
void script_build_body(const struct script_opts *o, struct strbuf *out);
