/* runnel payload: the job payload GitLab would send a runner for JOB (the 201 body of
 * `POST /api/v4/jobs/request`), as JSON, built from the pipeline of the current context.
 * Masked values and the job token show as [MASKED] unless --unmask. */
#include "cli/cmds.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/ctx.h"
#include "cli/diag.h"
#include "exec/artifacts.h"
#include "payload/payload-build.h"
#include "payload/payload-json.h"
#include "payload/payload.h"
#include "util/cleanup.h"

enum { OPT_UNMASK = 512 };

struct payload_cli_opts {
	bool unmask;
};

static const struct cli_option payload_opts_table[] = {
    {"unmask", OPT_UNMASK, false, NULL, "show masked values and the job token as they are"},
    {NULL, 0, false, NULL, NULL},
};

static int payload_on_opt(void *data, int key, const char *arg)
{
	struct payload_cli_opts *o = data;
	(void)arg;
	if (key == OPT_UNMASK)
		o->unmask = true;
	return 0;
}

/* SOURCE_DATE_EPOCH when set (reproducible output), else now. */
static long long start_time(void)
{
	const char *sde = getenv("SOURCE_DATE_EPOCH");
	char *end;
	long long t = sde && *sde ? strtoll(sde, &end, 10) : -1;
	return sde && *sde && !*end && t >= 0 ? t : (long long)time(NULL);
}

/* cache:key:files: the digest runnel's executor uses (exec/cache.c), so that the payload
 * shows the key the job will use. */
static char *files_key(void *data, const struct cache_spec *spec, size_t index, struct err *err)
{
	const struct cli_ctx *ctx = data;
	return cache_key_compute(spec, index, &ctx->pctx.vars, ctx->pctx.project_dir, err);
}

static int no_payload(const struct pipeline *p, const char *name, const struct job *j)
{
	if (!j) {
		fprintf(stderr, "runnel payload: no job named '%s'\n", name);
		return 2;
	}
	if (!j->decision.included || !payload_job_id(p, j)) {
		fprintf(stderr,
		        "runnel payload: job '%s' is not in the pipeline for this context (runnel "
		        "explain '%s' tells why)\n",
		        name, name);
		return 3;
	}
	fprintf(stderr,
	        "runnel payload: job '%s' is a trigger job: GitLab runs it itself and "
	        "never sends it to a runner\n",
	        name);
	return 3;
}

int cmd_payload(int argc, char **argv)
{
	struct payload_cli_opts o = {0};
	const struct cli_verb verb = {
	    .name = "payload",
	    .synopsis = "JOB [--unmask] [options]",
	    .summary = "Print the job payload GitLab would send a runner for JOB (JSON): "
	               "variables, steps, image, services, artifacts, cache, dependencies.",
	    .opts = payload_opts_table,
	    .on_opt = payload_on_opt,
	    .data = &o,
	    .min_args = 1,
	    .max_args = 1,
	};
	_cleanup_(cli_session_release) struct cli_session s = CLI_SESSION_INIT;
	if (!cli_session_load(&s, argc, argv, &verb))
		return s.rc;
	const char *name = argv[s.argi];
	const struct job *j = pipeline_find_job(s.p, name);
	if (!j || !j->decision.included || !payload_job_id(s.p, j) || j->is_trigger)
		return no_payload(s.p, name, j);
	char token[64];
	payload_new_job_token(token, sizeof(token));
	struct payload_build_opts bo = {
	    .pipeline = s.p,
	    .job = j,
	    .pipeline_vars = &s.ctx.pctx.vars,
	    .job_vars = &s.ctx.job_vars,
	    .token = token,
	    .now = start_time(),
	    .cache_files_key = files_key,
	    .cache_files_key_data = &s.ctx,
	};
	struct err err = ERR_INIT;
	struct payload *pl = payload_build(&bo, &err);
	if (!pl) {
		int rc = diag_report(&err);
		err_release(&err);
		return rc ? rc : 3;
	}
	_cleanup_free_ char *text = payload_to_json(pl, o.unmask ? 0 : PAYLOAD_JSON_MASK);
	printf("%s\n", text);
	payload_free(pl);
	return 0;
}
