/* runnel cache clear: removes the project's local caches (.runnel/cache), the DinD image caches
 * of --dind-cache on this engine (Docker volumes labelled runnel.dind-cache=1 that no container
 * uses, whichever project made them) and the TLS DinD private keys kept for this user
 * (exec/dindkeys.h). */
#include "cli/cmds.h"

#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/ctx.h"
#include "docker/client.h"
#include "exec/dindcache.h"
#include "exec/dindkeys.h"
#include "util/cleanup.h"
#include "util/xalloc.h"
#include "vcs/git.h"

/* rm -rf without following symlinks; 0 or -1. */
static int remove_tree(const char *path)
{
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		execlp("rm", "rm", "-rf", "--", path, (char *)NULL);
		_exit(127);
	}
	int st = 0;
	if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st))
		return -1;
	return 0;
}

static int clear_project_cache(const char *dir)
{
	struct vcs_repo repo;
	struct err err = ERR_INIT;
	if (vcs_repo_open(dir ? dir : ".", 0, &repo, &err) < 0) {
		fprintf(stderr, "runnel: %s\n", err.msg);
		err_release(&err);
		vcs_repo_release(&repo);
		return 4;
	}
	_cleanup_free_ char *path = xasprintf("%s/.runnel/cache", repo.root);
	vcs_repo_release(&repo);
	if (access(path, F_OK) != 0)
		return 0;
	if (remove_tree(path) < 0) {
		fprintf(stderr, "runnel: cannot remove '%s'\n", path);
		return 4;
	}
	printf("Removed %s\n", path);
	return 0;
}

/* An engine that is not there has no DinD cache to clear: not an error. */
static int clear_dind_cache(void)
{
	struct err err = ERR_INIT;
	struct docker_opts dopts = DOCKER_OPTS_INIT;
	struct docker_client *c = docker_client_new(&dopts, &err);
	if (!c) {
		printf("No container engine: DinD caches left as they are (%s)\n", err.msg);
		err_release(&err);
		return 0;
	}
	unsigned n = 0;
	int r = dindcache_clear(c, &n, &err);
	docker_client_free(c);
	if (r < 0) {
		fprintf(stderr, "runnel: %s\n", err.msg);
		err_release(&err);
		return 4;
	}
	printf("Removed %u DinD cache volume%s\n", n, n == 1 ? "" : "s");
	return 0;
}

static int clear_dind_keys(void)
{
	_cleanup_free_ char *dir = dindkeys_dir();
	if (!dir || access(dir, F_OK) != 0)
		return 0;
	if (remove_tree(dir) < 0) {
		fprintf(stderr, "runnel: cannot remove '%s'\n", dir);
		return 4;
	}
	printf("Removed %s\n", dir);
	return 0;
}

int cmd_cache(int argc, char **argv)
{
	const struct cli_verb verb = {
	    .name = "cache",
	    .synopsis = "clear",
	    .summary = "Remove the project's caches (.runnel/cache), the DinD image caches of "
	               "this engine (--dind-cache volumes, every project's) and the kept TLS "
	               "DinD keys.",
	    .min_args = 1,
	    .max_args = 1,
	};
	_cleanup_(cli_session_release) struct cli_session s = CLI_SESSION_INIT;
	if (!cli_session_parse(&s, argc, argv, &verb))
		return s.rc;
	if (strcmp(argv[s.argi], "clear")) {
		fprintf(stderr, "runnel cache: unknown action '%s' (clear)\n", argv[s.argi]);
		return 2;
	}
	int rc = clear_project_cache(s.common.cwd);
	int rc2 = clear_dind_cache();
	int rc3 = clear_dind_keys();
	return rc ? rc : rc2 ? rc2 : rc3;
}
