/* Fuzz target for model/pipeline: the input is written as .gitlab-ci.yml in a private temp
 * folder (with one includable file beside it) and loaded with a fixed context, in both the
 * stop-at-first-error and the collect-all-errors modes. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "model/pipeline.h"
#include "model/vars.h"
#include "util/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64];
static char file[96];

static void write_file(const char *path, const void *buf, size_t len)
{
	FILE *f = fopen(path, "wb");
	if (!f)
		abort();
	fwrite(buf, 1, len, f);
	fclose(f);
}

static void setup(void)
{
	if (dir[0])
		return;
	snprintf(dir, sizeof(dir), "/tmp/rn-fuzz-pipeline-XXXXXX");
	if (!mkdtemp(dir))
		abort();
	snprintf(file, sizeof(file), "%s/.gitlab-ci.yml", dir);
	char inc[128];
	snprintf(inc, sizeof(inc), "%s/inc.yml", dir);
	static const char body[] = ".tpl:\n  script: [echo inc]\n  variables: {A: b}\n";
	write_file(inc, body, sizeof(body) - 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	setup();
	write_file(file, data, size);
	struct pipeline_ctx ctx = { .project_dir = dir };
	var_list_set_kv(NULL, &ctx.vars, "CI_PIPELINE_SOURCE", "push");
	var_list_set_kv(NULL, &ctx.vars, "CI_COMMIT_BRANCH", "main");
	var_list_set_kv(NULL, &ctx.vars, "CI_COMMIT_REF_NAME", "main");
	for (int mode = 0; mode < 2; mode++) {
		struct diag_list dl = DIAG_LIST_INIT;
		struct pipeline_opts opts = { .collect_all_errors = mode == 1, .diags = &dl };
		struct err err = ERR_INIT;
		struct pipeline *p = pipeline_load(file, &ctx, &opts, &err);
		if (p) {
			for (size_t i = 0; i < p->n_jobs; i++)
				if (pipeline_find_job(p, p->jobs[i].name) == NULL)
					abort();
		} else if (!err_is_set(&err)) {
			abort(); /* a failure always says why */
		}
		pipeline_free(p);
		err_release(&err);
		diag_list_release(&dl);
	}
	var_list_release(&ctx.vars);
	return 0;
}
