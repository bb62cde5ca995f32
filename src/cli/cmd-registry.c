/* runnel registry ls: the repositories and tags of the project's `--registry` registry. Its
 * storage is a named volume per project (exec/registry.h); the registry is started on it for
 * the listing, exactly as a run starts it, asked through its HTTP API and removed again. */
#include "cli/cmds.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/ctx.h"
#include "docker/client.h"
#include "exec/exec.h"
#include "exec/registry.h"
#include "util/cleanup.h"
#include "util/strvec.h"
#include "util/xalloc.h"
#include "vcs/git.h"

/* Whether `runnel run --registry` ever made the volume: listing must not create it. */
static int volume_exists(struct docker_client *c, const char *name, bool *ret, struct err *err)
{
	struct strvec vols = STRVEC_INIT;
	if (docker_list_by_label(c, "volumes", "runnel.registry=1", &vols, err) < 0) {
		strvec_release(&vols);
		return -1;
	}
	*ret = strvec_find(&vols, name) >= 0;
	strvec_release(&vols);
	return 0;
}

/* One line per repository: "<repository> <tag> <tag>..." (sorted). */
static int print_listing(const struct registry *r, struct err *err)
{
	struct strvec repos = STRVEC_INIT;
	int rc = registry_catalog(r, &repos, err);
	for (size_t i = 0; rc == 0 && i < repos.n; i++) {
		struct strvec tags = STRVEC_INIT;
		rc = registry_tags(r, repos.v[i], &tags, err);
		printf("%s", repos.v[i]);
		for (size_t k = 0; rc == 0 && k < tags.n; k++)
			printf(" %s", tags.v[k]);
		printf("\n");
		strvec_release(&tags);
	}
	if (rc == 0 && !repos.n)
		printf("(the registry is empty)\n");
	strvec_release(&repos);
	return rc;
}

static int list_registry(struct docker_client *c, const char *root)
{
	struct err err = ERR_INIT;
	_cleanup_free_ char *vol = registry_volume_name(root);
	bool exists = false;
	if (volume_exists(c, vol, &exists, &err) < 0)
		goto fail;
	if (!exists) {
		printf("No registry for this project yet (`runnel run --registry` creates it)\n");
		return 0;
	}
	char id[64];
	snprintf(id, sizeof(id), "ls%lx%04lx", (unsigned long)time(NULL) & 0xffffffUL,
	         (unsigned long)getpid() & 0xffffUL);
	struct strvec labels = STRVEC_INIT;
	struct exec_run tmp = {.pipeline_id = id};
	exec_labels(&tmp, NULL, &labels);
	struct registry_opts ro = {
	    .pipeline_id = id, .labels = labels.v, .project_path = "project", .storage_key = root};
	struct registry *r = registry_start(c, &ro, &err);
	strvec_release(&labels);
	if (!r)
		goto fail;
	int rc = print_listing(r, &err);
	registry_stop(c, r);
	if (rc == 0)
		return 0;
fail:
	fprintf(stderr, "runnel: %s\n", err.msg);
	err_release(&err);
	return 4;
}

int cmd_registry(int argc, char **argv)
{
	const struct cli_verb verb = {
	    .name = "registry",
	    .synopsis = "ls",
	    .summary = "List the repositories and tags in the project's registry (the storage "
	               "of `runnel run --registry`).",
	    .min_args = 1,
	    .max_args = 1,
	};
	_cleanup_(cli_common_release) struct cli_common c = CLI_COMMON_INIT;
	int argi = cli_parse_args(argc, argv, &verb, &c);
	if (argi <= 0)
		return argi == 0 ? 0 : 2;
	if (strcmp(argv[argi], "ls")) {
		fprintf(stderr, "runnel registry: unknown action '%s' (ls)\n", argv[argi]);
		return 2;
	}
	struct vcs_repo repo;
	struct err err = ERR_INIT;
	if (vcs_repo_open(c.cwd ? c.cwd : ".", 0, &repo, &err) < 0) {
		fprintf(stderr, "runnel: %s\n", err.msg);
		err_release(&err);
		vcs_repo_release(&repo);
		return 4;
	}
	struct docker_opts dopts = DOCKER_OPTS_INIT;
	struct docker_client *d = docker_client_new(&dopts, &err);
	int rc = 4;
	if (d)
		rc = list_registry(d, repo.root);
	else {
		fprintf(stderr, "runnel: %s\n", err.msg);
		err_release(&err);
	}
	docker_client_free(d);
	vcs_repo_release(&repo);
	return rc;
}
