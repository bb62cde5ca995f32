/* history: the record of each run under <state>/runs/<N>/ and reading it back. The job logs
 * in <state>/logs are rewritten by every run (report.c truncates them), so a run's logs are
 * copied, not linked: a hard link would be truncated with the next run's log. */
#include "report/history.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/fsutil.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

/* A run directory's name is its number: digits only, no leading zero. */
static unsigned run_number_of(const char *name)
{
	if (name[0] < '1' || name[0] > '9' || strlen(name) > 9)
		return 0;
	unsigned n = 0;
	for (const char *p = name; *p; p++) {
		if (*p < '0' || *p > '9')
			return 0;
		n = n * 10 + (unsigned)(*p - '0');
	}
	return n;
}

static int cmp_desc(const void *a, const void *b)
{
	unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;
	return x < y ? 1 : x > y ? -1 : 0;
}

int history_numbers(const char *state_dir, unsigned **ret, size_t *ret_n, struct err *err)
{
	_cleanup_free_ char *dir = xasprintf("%s/runs", state_dir);
	DIR *d = opendir(dir);
	if (!d && errno != ENOENT)
		return err_sys(err, errno, "cannot read run history '%s'", dir);
	unsigned *v = NULL;
	size_t n = 0, alloc = 0;
	for (struct dirent *e; d && (e = readdir(d));) {
		unsigned num = run_number_of(e->d_name);
		if (!num)
			continue;
		if (n == alloc) {
			alloc = alloc ? alloc * 2 : 16;
			v = xrealloc(v, alloc * sizeof(*v));
		}
		v[n++] = num;
	}
	if (d)
		closedir(d);
	if (n)
		qsort(v, n, sizeof(*v), cmp_desc);
	*ret = v;
	*ret_n = n;
	return 0;
}

/* Creates runs/<N>/ with N one above the highest run; mkdir is the lock, so two runs of one
 * project ending together take different numbers. Returns the number, or 0 with err set. */
static unsigned new_run_dir(const char *state_dir, struct strbuf *path, struct err *err)
{
	_cleanup_free_ char *runs = xasprintf("%s/runs", state_dir);
	if (fs_mkdir_p(runs, err) < 0)
		return 0;
	_cleanup_free_ unsigned *nums = NULL;
	size_t n;
	if (history_numbers(state_dir, &nums, &n, err) < 0)
		return 0;
	unsigned next = n ? nums[0] + 1 : 1;
	for (int tries = 0; tries < 100; tries++, next++) {
		strbuf_reset(path);
		strbuf_addf(path, "%s/%u", runs, next);
		if (mkdir(path->buf, 0755) == 0)
			return next;
		if (errno != EEXIST)
			break;
	}
	err_sys(err, errno, "cannot create run record '%s'", path->buf);
	return 0;
}

static int copy_fd(int in, int out)
{
	char buf[65536];
	ssize_t k;
	while ((k = read(in, buf, sizeof(buf))) > 0)
		for (ssize_t off = 0; off < k;) {
			ssize_t w = write(out, buf + off, (size_t)(k - off));
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0)
				return -1;
			off += w;
		}
	return k < 0 ? -1 : 0;
}

/* Copies the job's log into dir/logs/<base name>; sets *ret_rel to "logs/<name>" (owned).
 * A log that is not there (a job that never started) is skipped: *ret_rel stays NULL. */
static int copy_log(const char *src, const char *dir, char **ret_rel, struct err *err)
{
	_cleanup_close_ int in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return errno == ENOENT ? 0 : err_sys(err, errno, "cannot read job log '%s'", src);
	const char *base = strrchr(src, '/');
	base = base ? base + 1 : src;
	_cleanup_free_ char *rel = xasprintf("logs/%s", base);
	_cleanup_free_ char *dst = xasprintf("%s/%s", dir, rel);
	_cleanup_close_ int out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (out < 0 || copy_fd(in, out) < 0)
		return err_sys(err, errno, "cannot copy job log to '%s'", dst);
	*ret_rel = TAKE_PTR(rel);
	return 0;
}

static void set_str(json_t *o, const char *key, const char *v)
{
	if (v)
		json_object_set_new(o, key, json_string(v));
}

static json_t *info_json(unsigned number, const struct history_info *info)
{
	json_t *o = json_object();
	json_object_set_new(o, "number", json_integer(number));
	json_object_set_new(o, "started", json_integer(info->started));
	json_object_set_new(o, "duration_s", json_real(info->duration_s));
	set_str(o, "branch", info->branch);
	set_str(o, "tag", info->tag);
	set_str(o, "source", info->source);
	set_str(o, "commit", info->commit);
	set_str(o, "result", info->result);
	return o;
}

static json_t *job_json(const struct job_result *r, const char *log_rel)
{
	json_t *o = json_object();
	set_str(o, "name", r->name);
	set_str(o, "stage", r->stage);
	set_str(o, "status", job_status_name(r->status));
	json_object_set_new(o, "exit_code", json_integer(r->exit_code));
	json_object_set_new(o, "duration_s", json_real(r->duration_s));
	set_str(o, "log", log_rel);
	return o;
}

/* Fills dir with the logs and run.json. */
static int write_run(const char *dir, unsigned number, const struct history_info *info,
                     const struct job_result *results, size_t n, struct err *err)
{
	_cleanup_free_ char *logs = xasprintf("%s/logs", dir);
	if (mkdir(logs, 0755) < 0)
		return err_sys(err, errno, "cannot create '%s'", logs);
	json_auto_t *rec = info_json(number, info);
	json_t *jobs = json_array();
	json_object_set_new(rec, "jobs", jobs);
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *rel = NULL;
		if (results[i].log_path && copy_log(results[i].log_path, dir, &rel, err) < 0)
			return -1;
		json_array_append_new(jobs, job_json(&results[i], rel));
	}
	/* written under a temporary name: a reader never sees half a record */
	_cleanup_free_ char *tmp = xasprintf("%s/run.json.tmp", dir);
	_cleanup_free_ char *path = xasprintf("%s/run.json", dir);
	if (json_dump_file(rec, tmp, JSON_INDENT(2) | JSON_PRESERVE_ORDER) < 0)
		return err_sys(err, errno ? errno : EIO, "cannot write '%s'", tmp);
	if (rename(tmp, path) < 0)
		return err_sys(err, errno, "cannot write '%s'", path);
	return 0;
}

/* Removes the runs beyond the newest keep. */
static int prune(const char *state_dir, long keep, struct err *err)
{
	_cleanup_free_ unsigned *nums = NULL;
	size_t n;
	if (keep <= 0 || history_numbers(state_dir, &nums, &n, err) < 0)
		return keep <= 0 ? 0 : -1;
	for (size_t i = (size_t)keep; i < n; i++) {
		_cleanup_free_ char *dir = xasprintf("%s/runs/%u", state_dir, nums[i]);
		if (fs_rmtree(dir, err) < 0)
			return -1;
	}
	return 0;
}

int history_record(const char *state_dir, const struct history_info *info,
                   const struct job_result *results, size_t n, unsigned *ret_number,
                   struct err *err)
{
	_cleanup_(strbuf_release) struct strbuf dir = STRBUF_INIT;
	unsigned number = new_run_dir(state_dir, &dir, err);
	if (!number)
		return -1;
	if (write_run(dir.buf, number, info, results, n, err) < 0) {
		struct err ignored = ERR_INIT;
		(void)fs_rmtree(dir.buf, &ignored);
		err_release(&ignored);
		return -1;
	}
	*ret_number = number;
	return prune(state_dir, info->keep, err);
}

/* ---- reading ---- */

static char *get_str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? xstrdup(s) : NULL;
}

static double get_num(const json_t *o, const char *key)
{
	return json_number_value(json_object_get(o, key));
}

static void load_jobs(const json_t *jobs, const char *dir, struct history_run *r)
{
	size_t n = json_array_size(jobs);
	r->jobs = xcalloc(n ? n : 1, sizeof(*r->jobs));
	for (size_t i = 0; i < n; i++) {
		const json_t *o = json_array_get(jobs, i);
		struct history_job *j = &r->jobs[r->n_jobs];
		const char *log = json_string_value(json_object_get(o, "log"));
		if (!json_is_object(o) || !json_is_string(json_object_get(o, "name")))
			continue;
		j->name = get_str(o, "name");
		j->stage = get_str(o, "stage");
		j->status = get_str(o, "status");
		json_t *code = json_object_get(o, "exit_code");
		j->exit_code = json_is_integer(code) ? (int)json_integer_value(code) : -1;
		j->duration_s = get_num(o, "duration_s");
		/* a record names its logs relative to its folder: the project may have moved */
		j->log_path = log ? xasprintf("%s/%s", dir, log) : NULL;
		r->n_jobs++;
	}
}

static int load_number(const char *state_dir, unsigned number, struct history_run *ret,
                       struct err *err)
{
	_cleanup_free_ char *dir = xasprintf("%s/runs/%u", state_dir, number);
	_cleanup_free_ char *path = xasprintf("%s/run.json", dir);
	json_error_t je;
	json_auto_t *rec = json_load_file(path, 0, &je);
	if (!rec && access(path, F_OK) < 0 && errno == ENOENT)
		return 1;
	if (!rec || !json_is_object(rec))
		return err_set(err, ERR_ENV, "cannot read run record '%s': %s", path,
		               rec ? "not a JSON object" : je.text);
	struct history_run r = {.number = number};
	r.started = (long long)get_num(rec, "started");
	r.duration_s = get_num(rec, "duration_s");
	r.branch = get_str(rec, "branch");
	r.tag = get_str(rec, "tag");
	r.source = get_str(rec, "source");
	r.commit = get_str(rec, "commit");
	r.result = get_str(rec, "result");
	load_jobs(json_object_get(rec, "jobs"), dir, &r);
	*ret = r;
	return 0;
}

int history_load(const char *state_dir, unsigned number, struct history_run *ret, struct err *err)
{
	if (number)
		return load_number(state_dir, number, ret, err);
	_cleanup_free_ unsigned *nums = NULL;
	size_t n;
	if (history_numbers(state_dir, &nums, &n, err) < 0)
		return -1;
	/* the newest run with a record: one still being written has none yet */
	for (size_t i = 0; i < n; i++) {
		int r = load_number(state_dir, nums[i], ret, err);
		if (r <= 0)
			return r;
	}
	return 1;
}

void history_run_release(struct history_run *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n_jobs; i++) {
		free(r->jobs[i].name);
		free(r->jobs[i].stage);
		free(r->jobs[i].status);
		free(r->jobs[i].log_path);
	}
	free(r->jobs);
	free(r->branch);
	free(r->tag);
	free(r->source);
	free(r->commit);
	free(r->result);
	memset(r, 0, sizeof(*r));
}

bool history_status_failed(const char *status)
{
	return status && (!strcmp(status, "failed") || !strcmp(status, "timedout") ||
	                  !strcmp(status, "warning"));
}
