/* job-cache: cache: of a job, kept in <state_dir>/cache/<key>/ across runs (`runnel cache
 * clear`): restored into the project before the job, saved after it per policy and when:;
 * failures are warnings, as in the runner. */
#include "exec/exec.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "exec/artifacts.h"
#include "exec/job-internal.h"
#include "model/pipeline.h"
#include "model/vars.h"
#include "report/report.h"
#include "util/cleanup.h"
#include "util/fsutil.h"
#include "util/xalloc.h"

static const char *cache_policy(struct exec_job_ctx *jc, const struct cache_spec *cs)
{
	if (!cs->policy)
		return "pull-push";
	struct strbuf sb = STRBUF_INIT;
	vars_expand_runner(cs->policy, &jc->vars, &sb);
	const char *p = arena_strdup(&jc->arena, sb.buf);
	strbuf_release(&sb);
	return *p ? p : "pull-push";
}

/* The expanded key of cache i (owned), NULL after a warning in the job log. key:files hashes
 * the snapshot's files: GitLab computes it from the commit, before any job writes. */
static char *cache_key(struct exec_job_ctx *jc, size_t i)
{
	struct err err = ERR_INIT;
	char *key =
	    cache_key_compute(&jc->job->caches[i], i, &jc->vars, jc->run->snapshot_dir, &err);
	if (!key) {
		report_job_printf(jc->log, "WARNING: cache: %s", err.msg);
		err_release(&err);
	}
	return key;
}

static char *cache_path(const struct exec_run *run, const char *key)
{
	return xasprintf("%s/cache/%s", run->state_dir, key);
}

/* Extracts cache `key` into dir when it exists. The lock keeps a concurrent save from
 * swapping the directory while it is read. */
static bool restore_one(struct exec_job_ctx *jc, const char *key, const char *dir)
{
	_cleanup_free_ char *path = cache_path(jc->run, key);
	struct err err = ERR_INIT;
	report_job_printf(jc->log, "Checking cache for %s...", key);
	pthread_mutex_lock(&jc->run->lock);
	int r = access(path, F_OK) == 0 ? artifacts_copy_dir(path, dir, &err) : 1;
	pthread_mutex_unlock(&jc->run->lock);
	if (r == 0) {
		report_job_printf(jc->log, "Successfully extracted cache");
		return true;
	}
	if (r < 0) {
		report_job_printf(jc->log, "WARNING: %s", err.msg);
		err_release(&err);
	}
	return false;
}

/* The first existing of the key, cache:fallback_keys and $CACHE_FALLBACK_KEY, as the runner
 * restores (before the artifacts of dependencies). A missing cache is only a warning. */
void exec_job_restore_caches(struct exec_job_ctx *jc, const char *dir)
{
	for (size_t i = 0; i < jc->job->n_caches; i++) {
		const struct cache_spec *cs = &jc->job->caches[i];
		_cleanup_free_ char *key = NULL;
		if (!strcmp(cache_policy(jc, cs), "push") || !(key = cache_key(jc, i)))
			continue;
		bool ok = restore_one(jc, key, dir);
		struct strbuf fb = STRBUF_INIT;
		for (size_t k = 0; !ok && k <= cs->fallback_keys.n; k++) {
			const char *raw = k < cs->fallback_keys.n
			                      ? cs->fallback_keys.v[k]
			                      : var_list_value(&jc->vars, "CACHE_FALLBACK_KEY");
			strbuf_reset(&fb);
			if (raw)
				vars_expand_runner(raw, &jc->vars, &fb);
			if (fb.len && !strchr(fb.buf, '/') && strcmp(fb.buf, ".") != 0 &&
			    strcmp(fb.buf, "..") != 0)
				ok = restore_one(jc, fb.buf, dir);
		}
		strbuf_release(&fb);
		if (!ok) {
			report_job_printf(jc->log, "WARNING: file does not exist");
			report_job_printf(jc->log, "Failed to extract cache");
		}
	}
}

/* Moves the freshly collected tmp directory to the cache's place (old content dropped). */
static int cache_swap(struct exec_run *run, const char *tmp, const char *path, struct err *err)
{
	_cleanup_free_ char *old = xasprintf("%s.old", tmp);
	pthread_mutex_lock(&run->lock);
	int r = 0;
	if (rename(path, old) < 0 && errno != ENOENT)
		r = err_sys(err, errno, "cannot replace '%s'", path);
	else if (rename(tmp, path) < 0)
		r = err_sys(err, errno, "cannot create '%s'", path);
	pthread_mutex_unlock(&run->lock);
	exec_job_rm_rf(old);
	return r;
}

/* cache: paths (and untracked) of the finished job, per policy and cache:when; failures are
 * warnings, as in the runner. From the container when given, else from jc->host_dir. */
void exec_job_save_caches(struct exec_job_ctx *jc, struct docker_client *c, const char *cid)
{
	bool ok = jc->failure == FAILURE_NONE;
	for (size_t i = 0; i < jc->job->n_caches; i++) {
		const struct cache_spec *cs = &jc->job->caches[i];
		_cleanup_free_ char *key = NULL;
		if (!strcmp(cache_policy(jc, cs), "pull") ||
		    !exec_job_artifacts_wanted(cs->when, ok) || !(key = cache_key(jc, i)))
			continue;
		report_job_printf(jc->log, "Creating cache %s...", key);
		_cleanup_free_ char *path = cache_path(jc->run, key);
		_cleanup_free_ char *tmp = xasprintf("%s/cache/.new-%s-%s-%zu", jc->run->state_dir,
		                                     key, jc->run->pipeline_id, jc->index);
		struct artifacts_spec as = {.present = true,
		                            .paths = cs->paths,
		                            .untracked = cs->untracked,
		                            .when = ART_ALWAYS};
		struct string_list warnings = {0};
		struct err err = ERR_INIT;
		size_t n = 0;
		exec_job_rm_rf(tmp);
		int r = fs_mkdir_p(tmp, &err);
		if (r == 0)
			r = cid ? artifacts_collect_container(c, cid, jc->project_dir, &as,
			                                      &jc->vars, tmp, &n, &warnings, &err)
			        : artifacts_collect_dir(&as, &jc->vars, jc->host_dir, tmp, &n,
			                                &warnings, &err);
		exec_job_print_warnings(jc, &warnings);
		if (r == 0)
			r = cache_swap(jc->run, tmp, path, &err);
		if (r < 0) {
			report_job_printf(jc->log, "WARNING: cache '%s' not saved: %s", key,
			                  err.msg);
			err_release(&err);
			exec_job_rm_rf(tmp);
			continue;
		}
		report_job_printf(jc->log, "Created cache");
	}
}
