/* Cache keys as GitLab computes them (Gitlab::Ci::Pipeline::Seed::Build::Cache) and the
 * runner expands them:
 *  - `key: text` -> the text expanded with the job's variables (runner style); an empty
 *    result is "default";
 *  - `key: {files: [a, b], prefix: p}` -> "<p>-<sha1>" where sha1 is the SHA-1 of the Git
 *    blob ids of the files (sorted, unique, joined by '-'), computed here from the working
 *    tree exactly as `git hash-object` would (no git needed); glob patterns ("**" etc.) are
 *    matched against the project's files (".git" skipped). No file found -> "<p>-default".
 *    Without a prefix GitLab uses the cache's index in the job's cache list: "0-<sha1>".
 *    (This follows GitLab 18.x, where `files` hashes content; the older commit-based keys
 *    are `files_commits`, which the model does not carry. yaml.md describes the older
 *    "<index>_<file stems>" prefix; GitLab's current code wins.)
 *  - no key -> "default".
 * GitLab also appends "-<clear counter>" and "-protected"/"-non_protected" server side;
 * local keys do not need them. A key that could leave the cache directory ('/', '\\', "."
 * or "..") is refused, as GitLab refuses such keys. */
#include "exec/artifacts.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "model/job.h"
#include "model/vars.h"
#include "util/cleanup.h"
#include "util/sha1.h"
#include "util/strbuf.h"
#include "util/strvec.h"
#include "util/xalloc.h"

/* Git's blob id of a file: SHA-1 of "blob <size>\0<content>" (a symlink hashes its target
 * text, as Git stores it). Returns 0 and the hex id, or -1 when the path is not a readable
 * file or link (such files are skipped, like GitLab skips files missing at the commit). */
int cache_git_blob_id(const char *path, char hex[41])
{
	struct stat st;
	if (lstat(path, &st) < 0)
		return -1;
	struct sha1_ctx c;
	unsigned char d[20];
	sha1_init(&c);
	if (S_ISLNK(st.st_mode)) {
		char target[4096];
		ssize_t n = readlink(path, target, sizeof(target));
		if (n < 0)
			return -1;
		struct strbuf h = STRBUF_INIT;
		strbuf_addf(&h, "blob %zd", n);
		sha1_update(&c, h.buf, h.len + 1);
		strbuf_release(&h);
		sha1_update(&c, target, (size_t)n);
	} else if (S_ISREG(st.st_mode)) {
		_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return -1;
		struct strbuf h = STRBUF_INIT;
		strbuf_addf(&h, "blob %lld", (long long)st.st_size);
		sha1_update(&c, h.buf, h.len + 1); /* with the NUL */
		strbuf_release(&h);
		char buf[65536];
		ssize_t n;
		while ((n = read(fd, buf, sizeof(buf))) > 0)
			sha1_update(&c, buf, (size_t)n);
		if (n < 0)
			return -1;
	} else {
		return -1;
	}
	sha1_final(&c, d);
	sha1_hex(d, hex);
	return 0;
}

/* Adds to out the project-relative files matching a glob pattern. */
static void glob_files(const char *root, struct strbuf *rel, const char *pattern,
                       struct strvec *out)
{
	_cleanup_free_ char *abs = rel->len ? xasprintf("%s/%s", root, rel->buf) : xstrdup(root);
	DIR *d = opendir(abs);
	if (!d)
		return;
	struct dirent *de;
	size_t base = rel->len;
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
		    (base == 0 && strcmp(de->d_name, ".git") == 0))
			continue;
		if (base)
			strbuf_addch(rel, '/');
		strbuf_addstr(rel, de->d_name);
		struct stat st;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
			if (S_ISDIR(st.st_mode))
				glob_files(root, rel, pattern, out);
			else if (artifacts_glob_match(pattern, rel->buf))
				strvec_push(out, rel->buf);
		}
		strbuf_setlen(rel, base);
	}
	closedir(d);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* SHA-1 over the sorted, unique blob ids of the files, or NULL when none exists. */
static char *files_digest(const struct string_list *files, const char *project_dir)
{
	struct strvec paths = STRVEC_INIT, ids = STRVEC_INIT;
	for (size_t i = 0; i < files->n; i++) {
		const char *f = files->v[i];
		while (f[0] == '.' && f[1] == '/')
			f += 2;
		if (!*f)
			continue;
		if (strchr(f, '*')) {
			struct strbuf rel = STRBUF_INIT;
			glob_files(project_dir, &rel, f, &paths);
			strbuf_release(&rel);
		} else {
			strvec_push(&paths, f);
		}
	}
	for (size_t i = 0; i < paths.n; i++) {
		char hex[41];
		_cleanup_free_ char *p = xasprintf("%s/%s", project_dir, paths.v[i]);
		if (cache_git_blob_id(p, hex) == 0 && strvec_find(&ids, hex) < 0)
			strvec_push(&ids, hex);
	}
	char *ret = NULL;
	if (ids.n > 0) {
		qsort(ids.v, ids.n, sizeof(*ids.v), cmp_str);
		struct strbuf joined = STRBUF_INIT;
		for (size_t i = 0; i < ids.n; i++) {
			if (i)
				strbuf_addch(&joined, '-');
			strbuf_addstr(&joined, ids.v[i]);
		}
		struct sha1_ctx c;
		unsigned char d[20];
		char hex[41];
		sha1_init(&c);
		sha1_update(&c, joined.buf, joined.len);
		sha1_final(&c, d);
		sha1_hex(d, hex);
		ret = xstrdup(hex);
		strbuf_release(&joined);
	}
	strvec_release(&paths);
	strvec_release(&ids);
	return ret;
}

static int check_key(const char *key, struct err *err)
{
	if (strcmp(key, ".") == 0 || strcmp(key, "..") == 0)
		return err_set(err, ERR_CONFIG, "cache key '%s' cannot be '.' or '..'", key);
	if (strchr(key, '/') || strchr(key, '\\') || strcasestr(key, "%2f") ||
	    strcasestr(key, "%5c"))
		return err_set(err, ERR_CONFIG, "cache key '%s' cannot contain '/' or '\\'", key);
	return 0;
}

char *cache_key_compute(const struct cache_spec *spec, size_t index, const struct var_list *vars,
                        const char *project_dir, struct err *err)
{
	struct strbuf raw = STRBUF_INIT, key = STRBUF_INIT;
	if (spec && spec->key_files.n > 0) {
		_cleanup_free_ char *digest = files_digest(&spec->key_files, project_dir);
		if (spec->key_prefix && spec->key_prefix[0])
			strbuf_addstr(&raw, spec->key_prefix);
		else
			strbuf_addf(&raw, "%zu", index);
		strbuf_addf(&raw, "-%s", digest ? digest : "default");
	} else if (spec && spec->key && spec->key[0]) {
		strbuf_addstr(&raw, spec->key);
	}
	vars_expand_runner(raw.buf, vars, &key);
	strbuf_release(&raw);
	/* surrounding blanks would make invisible differences between keys */
	strbuf_rtrim(&key);
	size_t lead = strspn(key.buf, " \t");
	if (lead) {
		memmove(key.buf, key.buf + lead, key.len - lead);
		strbuf_setlen(&key, key.len - lead);
	}
	if (key.len == 0)
		strbuf_addstr(&key, "default");
	if (check_key(key.buf, err) < 0) {
		strbuf_release(&key);
		return NULL;
	}
	return strbuf_detach(&key, NULL);
}
