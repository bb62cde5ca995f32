/* runnel cleanup: removes now what runs that are no longer alive left behind (a SIGKILLed
 * run, a crashed machine): their containers, networks and volumes on the engine, the
 * project's stale run directories (.runnel/builds) and runnel's temporary directories in
 * $TMPDIR. `runnel run` does the same for every project when it starts; this verb is for
 * when no next run is coming. Objects of runs still alive, of another host or another user
 * are never touched (exec/reap.c). */
#include "cli/cmds.h"

#include <stdio.h>
#include <string.h>

#include "cli/ctx.h"
#include "docker/client.h"
#include "exec/exec.h"
#include "util/cleanup.h"
#include "util/strvec.h"
#include "util/xalloc.h"
#include "vcs/git.h"

enum { OPT_ALL = 512 };

static const struct cli_option cleanup_opts_table[] = {
    {"all", OPT_ALL, false, NULL, "every project of this user, not only this one"},
    {NULL, 0, false, NULL, NULL},
};

static int cleanup_on_opt(void *data, int key, const char *arg)
{
	(void)arg;
	if (key != OPT_ALL)
		return -1;
	*(bool *)data = true;
	return 0;
}

/* The project directory as `runnel run` labels it (the repository root, else the cwd). */
static char *project_root(const char *cwd)
{
	struct vcs_repo repo;
	struct err err = ERR_INIT;
	char *root = NULL;
	if (vcs_repo_open(cwd ? cwd : ".", 0, &repo, &err) < 0) {
		fprintf(stderr, "runnel: %s\n", err.msg);
		err_release(&err);
	} else {
		root = xstrdup(repo.root);
	}
	vcs_repo_release(&repo);
	return root;
}

/* An engine that is not there holds nothing to remove: the files are still cleaned. */
static struct docker_client *connect_engine(void)
{
	struct err err = ERR_INIT;
	struct docker_opts dopts = DOCKER_OPTS_INIT;
	struct docker_client *c = docker_client_new(&dopts, &err);
	if (!c) {
		printf("No container engine: only files cleaned (%s)\n", err.msg);
		err_release(&err);
	}
	return c;
}

int cmd_cleanup(int argc, char **argv)
{
	bool all = false;
	const struct cli_verb verb = {
	    .name = "cleanup",
	    .synopsis = "[--all] [options]",
	    .summary = "Remove what dead runs of this project left behind: containers, networks "
	               "and volumes on the engine, stale run directories, temporary files.",
	    .opts = cleanup_opts_table,
	    .on_opt = cleanup_on_opt,
	    .data = &all,
	    .min_args = 0,
	    .max_args = 0,
	};
	_cleanup_(cli_session_release) struct cli_session s = CLI_SESSION_INIT;
	if (!cli_session_parse(&s, argc, argv, &verb))
		return s.rc;
	_cleanup_free_ char *root = project_root(s.common.cwd);
	if (!root)
		return 4;
	_cleanup_free_ char *state = xasprintf("%s/.runnel", root);
	struct strvec removed = STRVEC_INIT;
	struct exec_reap_opts o = {
	    .project_dir = all ? NULL : root, .state_dir = state, .removed = &removed};
	struct docker_client *c = connect_engine();
	struct err err = ERR_INIT;
	int rc = exec_reap(c, &o, &err) < 0 ? 4 : 0;
	docker_client_free(c);
	for (size_t i = 0; i < removed.n; i++)
		printf("Removed %s\n", removed.v[i]);
	if (rc) {
		fprintf(stderr, "runnel: %s\n", err.msg);
		err_release(&err);
	} else if (!removed.n) {
		printf("Nothing to clean up%s\n", all ? "" : " for this project");
	}
	strvec_release(&removed);
	return rc;
}
