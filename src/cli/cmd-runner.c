/* runnel runner: runner mode's configuration commands, named as gitlab-runner names them:
 * register (a glrt- token checked with POST /runners/verify, or the legacy registration token
 * flow of POST /runners), verify, unregister and list, on gitlab-runner's own config.toml.
 * Tokens are never printed: `list` shows the short form gitlab-runner shows. */
#include "cli/cmds.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/ctx.h"
#include "cli/diag.h"
#include "runner/api.h"
#include "runner/config.h"
#include "runner/system-id.h"
#include "util/cleanup.h"
#include "util/xalloc.h"
#include "version.h"

enum {
	OPT_CONFIG = 'c',
	OPT_URL = 'u',
	OPT_TOKEN = 't',
	OPT_NAME = 'n',
	OPT_REG_TOKEN = 'r',
	OPT_EXECUTOR = 512,
	OPT_DOCKER_IMAGE,
	OPT_TAG_LIST,
	OPT_RUN_UNTAGGED,
	OPT_LOCKED,
	OPT_PAUSED,
	OPT_ACCESS_LEVEL,
	OPT_MAX_TIMEOUT,
	OPT_NOTE,
	OPT_LIMIT,
	OPT_CA_FILE,
	OPT_ALL,
	OPT_DELETE,
};

struct runner_cli {
	const char *config, *url, *token, *name, *reg_token, *executor, *docker_image;
	const char *tag_list, *access_level, *note, *ca_file;
	bool run_untagged, run_untagged_set, locked, paused, all, delete_;
	long long max_timeout, limit;
};

static const struct cli_option runner_opts_table[] = {
    {"config", 'c', true, "FILE",
     "config.toml (default: /etc/gitlab-runner/config.toml as root, else "
     "~/.gitlab-runner/config.toml)"},
    {"url", 'u', true, "URL", "GitLab's URL (register; unregister with --token)"},
    {"token", 't', true, "TOKEN", "the runner's authentication token (glrt-...)"},
    {"name", 'n', true, "NAME", "the runner's name (register: default the host name)"},
    {"registration-token", 'r', true, "TOKEN", "register with a legacy registration token"},
    {"executor", OPT_EXECUTOR, true, "NAME", "register: docker (default) or shell"},
    {"docker-image", OPT_DOCKER_IMAGE, true, "IMAGE", "register: [runners.docker] image"},
    {"tag-list", OPT_TAG_LIST, true, "TAGS", "legacy register: comma-separated tags"},
    {"run-untagged", OPT_RUN_UNTAGGED, false, NULL,
     "legacy register: also take untagged jobs (default without tags; =false to refuse)"},
    {"locked", OPT_LOCKED, false, NULL,
     "legacy register: lock the runner to its project (default; --locked=false to unlock)"},
    {"paused", OPT_PAUSED, false, NULL, "legacy register: register the runner paused"},
    {"access-level", OPT_ACCESS_LEVEL, true, "LEVEL",
     "legacy register: not_protected or ref_protected"},
    {"maximum-timeout", OPT_MAX_TIMEOUT, true, "SECONDS",
     "legacy register: the longest job the runner takes"},
    {"maintenance-note", OPT_NOTE, true, "TEXT", "legacy register: a note for maintainers"},
    {"limit", OPT_LIMIT, true, "N", "register: jobs this runner runs at once (0: no limit)"},
    {"tls-ca-file", OPT_CA_FILE, true, "FILE", "register: trust this CA bundle for GitLab"},
    {"all-runners", OPT_ALL, false, NULL, "unregister: every runner of the config file"},
    {"delete", OPT_DELETE, false, NULL, "verify: remove the runners GitLab refuses"},
    {NULL, 0, false, NULL, NULL},
};

static int parse_ll(const char *opt, const char *arg, long long *ret)
{
	char *end = NULL;
	errno = 0;
	long long v = strtoll(arg, &end, 10);
	if (errno || end == arg || *end || v < 0) {
		fprintf(stderr, "runnel runner: --%s wants a number, not '%s'\n", opt, arg);
		return -1;
	}
	*ret = v;
	return 0;
}

static int runner_on_opt(void *data, int key, const char *arg)
{
	struct runner_cli *o = data;
	switch (key) {
	case OPT_CONFIG:
		o->config = arg;
		break;
	case OPT_URL:
		o->url = arg;
		break;
	case OPT_TOKEN:
		o->token = arg;
		break;
	case OPT_NAME:
		o->name = arg;
		break;
	case OPT_REG_TOKEN:
		o->reg_token = arg;
		break;
	case OPT_EXECUTOR:
		o->executor = arg;
		break;
	case OPT_DOCKER_IMAGE:
		o->docker_image = arg;
		break;
	case OPT_TAG_LIST:
		o->tag_list = arg;
		break;
	case OPT_RUN_UNTAGGED:
		o->run_untagged = o->run_untagged_set = true;
		break;
	case OPT_LOCKED:
		o->locked = true;
		break;
	case OPT_PAUSED:
		o->paused = true;
		break;
	case OPT_ACCESS_LEVEL:
		o->access_level = arg;
		break;
	case OPT_NOTE:
		o->note = arg;
		break;
	case OPT_CA_FILE:
		o->ca_file = arg;
		break;
	case OPT_ALL:
		o->all = true;
		break;
	case OPT_DELETE:
		o->delete_ = true;
		break;
	case OPT_MAX_TIMEOUT:
		return parse_ll("maximum-timeout", arg, &o->max_timeout);
	case OPT_LIMIT:
		return parse_ll("limit", arg, &o->limit);
	}
	return 0;
}

/* gitlab-runner's boolean flags take an optional value (--locked=false); getopt's table here
 * has none, so `--flag=BOOL` is read before parsing: true keeps `--flag`, false drops it. */
static int prescan_bools(int *argc, char **argv, struct runner_cli *o)
{
	static const char *const names[] = {"--run-untagged", "--locked", "--paused"};
	int out = 0;
	for (int i = 0; i < *argc; i++) {
		char *a = argv[i];
		size_t k = 0;
		for (; k < 3; k++)
			if (!strncmp(a, names[k], strlen(names[k])) && a[strlen(names[k])] == '=')
				break;
		if (k == 3) {
			argv[out++] = a;
			continue;
		}
		const char *v = a + strlen(names[k]) + 1;
		bool t = !strcmp(v, "true") || !strcmp(v, "1");
		if (!t && strcmp(v, "false") && strcmp(v, "0")) {
			fprintf(stderr, "runnel runner: %s wants true or false, not '%s'\n",
			        names[k], v);
			return -1;
		}
		if (k == 0)
			o->run_untagged_set = true; /* an explicit false as well */
		if (k == 1 && !t)
			o->locked = false;
		if (t)
			argv[out++] = (char *)names[k];
	}
	*argc = out;
	return 0;
}

/* Prints err (with its source line when it has one) and returns its exit code. */
static int report(struct err *err)
{
	int rc = diag_report(err);
	err_release(err);
	return rc ? rc : 4;
}

static void warn_unsupported(const struct runner_config *c, const char *path)
{
	if (!c->unsupported.n)
		return;
	fprintf(stderr, "runnel: warning: %s: keys runnel does not support (ignored): ", path);
	for (size_t i = 0; i < c->unsupported.n; i++)
		fprintf(stderr, "%s%s", i ? ", " : "", c->unsupported.v[i]);
	fputc('\n', stderr);
}

/* Loads the config file (missing_ok for register), printing errors; 0 or an exit code. */
static int load_config(struct runner_config *c, const char *path, bool missing_ok)
{
	struct err err = ERR_INIT;
	runner_config_init(c);
	if (runner_config_load(c, path, missing_ok, &err) < 0)
		return report(&err);
	warn_unsupported(c, path);
	return 0;
}

/* The client for one runner entry, with this host's system_id. */
static struct runner_api *api_for(const char *config_path, const char *url, const char *ca,
                                  const char *executor, const char *name)
{
	int saved = 0;
	struct err err = ERR_INIT;
	_cleanup_free_ char *sid = runner_system_id_load(config_path, &saved, &err);
	if (!sid) {
		fprintf(stderr, "runnel: warning: %s; using a random system_id\n", err.msg);
		err_release(&err);
		sid = runner_system_id_random();
	} else if (!saved) {
		fprintf(stderr, "runnel: warning: cannot save the system_id %s beside '%s'\n", sid,
		        config_path);
	}
	struct runner_api_opts ao = {.url = url,
	                             .ca_file = ca,
	                             .system_id = sid,
	                             .version = RUNNEL_VERSION,
	                             .revision = RUNNEL_COMMIT,
	                             .executor = executor,
	                             .name = name};
	return runner_api_new(&ao);
}

/* The token as gitlab-runner shows it: the glrt- prefix and 8 more characters at most. */
static void print_short_token(const char *tok)
{
	size_t pre = !strncmp(tok, "glrt-", 5) ? 5 : 0;
	printf("%.*s", (int)(pre + 8 < strlen(tok) ? pre + 8 : strlen(tok) / 2), tok);
}

static char *now_rfc3339(void)
{
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	char buf[32];
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return xstrdup(buf);
}

static char *host_name(void)
{
	char buf[256] = "";
	if (gethostname(buf, sizeof(buf) - 1) < 0 || !*buf)
		return xstrdup("runnel");
	return xstrdup(buf);
}

/* verify or register with GitLab; *ret filled on success. */
static int obtain_token(struct runner_api *a, const struct runner_cli *o, const char *name,
                        struct runner_token_info *ret, struct err *err)
{
	if (!o->reg_token)
		return runner_api_verify(a, o->token, ret, err);
	struct runner_register rg = {
	    .registration_token = o->reg_token,
	    .description = name,
	    .tag_list = o->tag_list,
	    /* gitlab-runner takes untagged jobs by default only when it has no tags */
	    .run_untagged = o->run_untagged_set ? o->run_untagged : !o->tag_list || !*o->tag_list,
	    .locked = o->locked,
	    .paused = o->paused,
	    .access_level = o->access_level,
	    .maximum_timeout = o->max_timeout,
	    .maintenance_note = o->note,
	};
	return runner_api_register(a, &rg, ret, err);
}

static int runner_register_cmd(const struct runner_cli *o, const char *path)
{
	if (!o->url || (!o->token == !o->reg_token)) {
		fprintf(stderr, "runnel runner register: needs --url and one of --token or "
		                "--registration-token\n");
		return 2;
	}
	const char *executor = o->executor ? o->executor : "docker";
	if (strcmp(executor, "docker") && strcmp(executor, "shell")) {
		fprintf(stderr,
		        "runnel runner register: executor '%s' is not supported (docker or "
		        "shell)\n",
		        executor);
		return 2;
	}
	_cleanup_(runner_config_release) struct runner_config c;
	int rc = load_config(&c, path, true);
	if (rc)
		return rc;
	_cleanup_free_ char *dir = xstrdup(path);
	char *slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = 0;
		mkdir(dir, 0700); /* for .runner_system_id; save reports a real failure */
	}
	_cleanup_free_ char *name = o->name ? xstrdup(o->name) : host_name();
	struct runner_api *a = api_for(path, o->url, o->ca_file, executor, name);
	struct runner_token_info ti;
	struct err err = ERR_INIT;
	int r = obtain_token(a, o, name, &ti, &err);
	runner_api_free(a);
	if (r < 0)
		return report(&err);
	_cleanup_free_ char *now = now_rfc3339();
	struct runner_new nr = {
	    .name = name,
	    .url = o->url,
	    .token = ti.token,
	    .executor = executor,
	    .id = ti.id,
	    .token_obtained_at = now,
	    .token_expires_at = ti.token_expires_at ? ti.token_expires_at : "0001-01-01T00:00:00Z",
	    .docker_image = !strcmp(executor, "docker") ? o->docker_image : NULL,
	    .limit = o->limit,
	    .tls_ca_file = o->ca_file,
	};
	if (runner_config_add(&c, &nr, &err) < 0 || runner_config_save(&c, path, &err) < 0) {
		runner_token_info_release(&ti);
		return report(&err);
	}
	runner_token_info_release(&ti);
	printf("Runner '%s' registered (id %lld) in %s\n", name, nr.id, path);
	return 0;
}

static bool selected(const struct runner_entry *r, const struct runner_cli *o)
{
	if (o->name && (!r->name || strcmp(o->name, r->name)))
		return false;
	if (o->url && (!r->url || strcmp(o->url, r->url)))
		return false;
	if (o->token && (!r->token || strcmp(o->token, r->token)))
		return false;
	return true;
}

/* Verifies runner r; 0 valid, 1 refused by GitLab, -1 not reached (message printed). */
static int verify_one(const struct runner_entry *r, const char *path)
{
	struct runner_api *a = api_for(path, r->url, r->tls_ca_file, r->executor, r->name);
	struct runner_token_info ti;
	struct err err = ERR_INIT;
	int v = runner_api_verify(a, r->token, &ti, &err);
	runner_api_free(a);
	printf("Verifying runner '%s' at %s... ", r->name ? r->name : "", r->url);
	if (v == 0) {
		printf("is valid\n");
		runner_token_info_release(&ti);
		return 0;
	}
	bool refused = err.kind == ERR_CONFIG;
	printf("%s\n", refused ? "is removed" : "failed");
	fflush(stdout);
	fprintf(stderr, "runnel: %s\n", err.msg);
	err_release(&err);
	return refused ? 1 : -1;
}

static int runner_verify_cmd(const struct runner_cli *o, const char *path)
{
	_cleanup_(runner_config_release) struct runner_config c;
	int rc = load_config(&c, path, false);
	if (rc)
		return rc;
	_cleanup_free_ bool *refused = xcalloc(c.n + 1, sizeof(*refused));
	size_t nrefused = 0;
	for (size_t i = 0; i < c.n; i++) {
		const struct runner_entry *r = &c.runners[i];
		if (!selected(r, o) || !r->url || !r->token)
			continue;
		int v = verify_one(r, path);
		refused[i] = v == 1;
		nrefused += v == 1;
		if (v < 0)
			rc = 4;
		else if (v == 1 && !o->delete_ && !rc)
			rc = 3;
	}
	if (!o->delete_ || !nrefused)
		return rc;
	struct err err = ERR_INIT;
	for (size_t i = c.n; i-- > 0;)
		if (refused[i] && runner_config_remove(&c, i, &err) < 0)
			return report(&err);
	if (runner_config_save(&c, path, &err) < 0)
		return report(&err);
	printf("Removed %zu runner%s from %s\n", nrefused, nrefused == 1 ? "" : "s", path);
	return rc;
}

/* Unregisters runner i with GitLab: a runner created in GitLab (glrt-) loses this host as a
 * manager, a registration-token runner is deleted. */
static int unregister_one(const struct runner_entry *r, const char *path, struct err *err)
{
	struct runner_api *a = api_for(path, r->url, r->tls_ca_file, r->executor, r->name);
	int v = !strncmp(r->token, "glrt-", 5) ? runner_api_unregister_manager(a, r->token, err)
	                                       : runner_api_unregister(a, r->token, err);
	runner_api_free(a);
	return v;
}

static int runner_unregister_cmd(const struct runner_cli *o, const char *path)
{
	if (!o->all && !o->name && !(o->url && o->token)) {
		fprintf(stderr, "runnel runner unregister: needs --name, --url and --token, or "
		                "--all-runners\n");
		return 2;
	}
	_cleanup_(runner_config_release) struct runner_config c;
	int rc = load_config(&c, path, false);
	if (rc)
		return rc;
	size_t removed = 0;
	for (size_t i = c.n; i-- > 0;) {
		const struct runner_entry *r = &c.runners[i];
		if ((!o->all && !selected(r, o)) || !r->url || !r->token)
			continue;
		_cleanup_free_ char *name = xstrdup(r->name ? r->name : "");
		struct err err = ERR_INIT;
		if (unregister_one(r, path, &err) < 0) {
			fprintf(stderr, "runnel: cannot unregister runner '%s': %s\n", name,
			        err.msg);
			rc = err_exit_code(&err);
			err_release(&err);
			continue;
		}
		if (runner_config_remove(&c, i, &err) < 0)
			return report(&err);
		printf("Runner '%s' unregistered\n", name);
		removed++;
	}
	if (!removed && !rc) {
		fprintf(stderr, "runnel runner unregister: no runner in %s matches\n", path);
		return 3;
	}
	struct err err = ERR_INIT;
	if (removed && runner_config_save(&c, path, &err) < 0)
		return report(&err);
	return rc;
}

static int runner_list_cmd(const char *path)
{
	_cleanup_(runner_config_release) struct runner_config c;
	int rc = load_config(&c, path, false);
	if (rc)
		return rc;
	printf("Listing configured runners of %s\n", path);
	for (size_t i = 0; i < c.n; i++) {
		const struct runner_entry *r = &c.runners[i];
		printf("%-20s Executor=%s Token=", r->name ? r->name : "",
		       r->executor ? r->executor : "");
		print_short_token(r->token ? r->token : "");
		printf(" URL=%s\n", r->url ? r->url : "");
	}
	return 0;
}

int cmd_runner(int argc, char **argv)
{
	struct runner_cli o = {.locked = true};
	const struct cli_verb verb = {
	    .name = "runner",
	    .synopsis = "register|verify|unregister|list [options]",
	    .summary = "Runner mode: register this host with GitLab as a runner (config.toml as "
	               "gitlab-runner keeps it), verify, unregister and list its runners.",
	    .opts = runner_opts_table,
	    .on_opt = runner_on_opt,
	    .data = &o,
	    .min_args = 1,
	    .max_args = 1,
	};
	if (prescan_bools(&argc, argv, &o) < 0)
		return 2;
	_cleanup_(cli_common_release) struct cli_common common = CLI_COMMON_INIT;
	int argi = cli_parse_args(argc, argv, &verb, &common);
	if (argi <= 0)
		return argi == 0 ? 0 : 2;
	if (common.file || common.variables.n || common.variables_file || common.branch ||
	    common.tag || common.source || common.include_dir) {
		fprintf(stderr,
		        "runnel runner: the pipeline options do not apply to runner mode\n");
		return 2;
	}
	if (common.cwd && chdir(common.cwd) < 0) {
		fprintf(stderr, "runnel: cannot change to '%s': %s\n", common.cwd, strerror(errno));
		return 4;
	}
	_cleanup_free_ char *path = o.config ? xstrdup(o.config) : runner_config_default_path();
	const char *sub = argv[argi];
	if (!strcmp(sub, "register"))
		return runner_register_cmd(&o, path);
	if (!strcmp(sub, "verify"))
		return runner_verify_cmd(&o, path);
	if (!strcmp(sub, "unregister"))
		return runner_unregister_cmd(&o, path);
	if (!strcmp(sub, "list"))
		return runner_list_cmd(path);
	fprintf(stderr,
	        "runnel runner: '%s' is not a runner command (register, verify, "
	        "unregister, list)\n",
	        sub);
	return 2;
}
