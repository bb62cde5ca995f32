/* runnel: the command table and dispatch. Every verb parses its own options. */
#include <stdio.h>
#include <string.h>

#include "cli/cmds.h"
#include "version.h"

struct cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
};

static const struct cmd cmds[] = {
    {"run", cmd_run, "run the pipeline (or the named jobs and what they need)"},
    {"list", cmd_list, "list the jobs of the pipeline for the current context"},
    {"lint", cmd_lint, "check .gitlab-ci.yml and report every error with its location"},
    {"config", cmd_config, "print the fully resolved configuration as YAML"},
    {"graph", cmd_graph, "print stages and needs as a graph (mermaid or dot)"},
    {"explain", cmd_explain, "tell why a job is or is not in the pipeline"},
    {"payload", cmd_payload, "print the job payload GitLab would send a runner (JSON)"},
    {"cache", cmd_cache, "manage runnel's caches (cache clear)"},
    {"registry", cmd_registry, "list the project's --registry images (registry ls)"},
    {"runs", cmd_runs, "list the past runs of the project, newest first"},
    {"log", cmd_log, "print a job's log from a past run (--failed: the failed jobs)"},
    {"cleanup", cmd_cleanup, "remove what dead runs left behind (containers, networks, files)"},
    {"runner", cmd_runner, "runner mode: register, verify, unregister, list GitLab runners"},
};

static void usage(FILE *out)
{
	fprintf(out, "usage: runnel <command> [options]\n\n"
	             "runnel runs GitLab CI pipelines (.gitlab-ci.yml) on this machine.\n\n"
	             "commands:\n");
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(out, "  %-9s %s\n", cmds[i].name, cmds[i].help);
	fprintf(out, "\nrun 'runnel <command> --help' for the options of a command\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	const char *verb = argv[1];
	if (!strcmp(verb, "--help") || !strcmp(verb, "-h") || !strcmp(verb, "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(verb, "--version") || !strcmp(verb, "version")) {
		printf("runnel %s (commit %s)\n", RUNNEL_VERSION, RUNNEL_COMMIT);
		return 0;
	}
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(cmds[i].name, verb))
			return cmds[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "runnel: '%s' is not a runnel command\n\n", verb);
	usage(stderr);
	return 2;
}
