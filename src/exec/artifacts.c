/* Artifacts: selecting a job's files as gitlab-runner's artifact uploader does
 * (commands/helpers/file_archiver.go), and moving trees between host directories, tar
 * streams and containers with libarchive.
 *
 * Selection works on a sorted list of the tree's paths, whether the tree is a host directory
 * or a tar fetched from a container, so both executors share one implementation:
 *  - each `paths` entry is expanded with the job's variables, made relative to the project
 *    dir (absolute paths inside it are accepted, paths leaving it are refused with a
 *    warning), and matched with doublestar semantics against every path of the tree;
 *  - every match brings itself and, for a directory, everything below it;
 *  - each of those is dropped when an `exclude` glob matches it (exactly as the runner does:
 *    excluding "dir" drops only the directory entry, a "**" segment after "dir" drops its content);
 *  - `untracked: true` adds the files the caller lists as untracked;
 *  - a pattern that brings nothing is a warning "<pattern>: no matching files...".
 * Copying keeps modes, symlinks and mtimes; directory modes are applied last (libarchive's
 * fix-up pass), so read-only directories copy in and out. */
#include "exec/artifacts.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <dirent.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "docker/client.h"
#include "exec/archive-dl.h"
#include "model/job.h"
#include "model/vars.h"
#include "util/cleanup.h"
#include "util/fsutil.h"
#include "util/strbuf.h"
#include "util/strvec.h"
#include "util/xalloc.h"

/* ---- doublestar glob matching ---- */

/* Matches a character class at p ("[...]" with ranges, '!'/'^' negation); *ret_end is set
 * past the ']'. Returns -1 when the class is not closed (then '[' is a literal). */
static int class_match(const char *p, char c, const char **ret_end)
{
	const char *q = p + 1;
	bool neg = false, hit = false;
	if (*q == '!' || *q == '^') {
		neg = true;
		q++;
	}
	bool first = true;
	while (*q && (*q != ']' || first)) {
		first = false;
		char lo = *q;
		if (lo == '\\' && q[1])
			lo = *++q;
		char hi = lo;
		if (q[1] == '-' && q[2] && q[2] != ']') {
			hi = q[2];
			if (hi == '\\' && q[3])
				hi = q[3], q++;
			q += 2;
		}
		if (c >= lo && c <= hi)
			hit = true;
		q++;
	}
	if (*q != ']')
		return -1;
	*ret_end = q + 1;
	return hit != neg;
}

/* One path segment (no '/') against a segment pattern with * ? [..] and \ escapes. */
static bool segment_match(const char *p, const char *pe, const char *s, const char *se)
{
	const char *star_p = NULL, *star_s = NULL;
	while (s < se) {
		if (p < pe && *p == '*') {
			while (p < pe && *p == '*')
				p++;
			star_p = p;
			star_s = s;
			continue;
		}
		if (p < pe) {
			const char *next = p + 1;
			bool ok;
			if (*p == '?') {
				ok = true;
			} else if (*p == '[') {
				int r = class_match(p, *s, &next);
				ok = r < 0 ? *s == '[' : r == 1;
				if (r < 0)
					next = p + 1;
			} else if (*p == '\\' && p + 1 < pe) {
				ok = p[1] == *s;
				next = p + 2;
			} else {
				ok = *p == *s;
			}
			if (ok && next <= pe) {
				p = next;
				s++;
				continue;
			}
		}
		if (!star_p)
			return false;
		p = star_p;
		s = ++star_s;
	}
	while (p < pe && *p == '*')
		p++;
	return p == pe;
}

static const char *seg_end(const char *s)
{
	const char *e = strchr(s, '/');
	return e ? e : s + strlen(s);
}

/* Whether the rest of a pattern is only "**" segments (which may match nothing). */
static bool only_globstars(const char *p)
{
	while (*p) {
		const char *pe = seg_end(p);
		if (!(pe - p == 2 && p[0] == '*' && p[1] == '*'))
			return false;
		p = *pe ? pe + 1 : pe;
	}
	return true;
}

/* Pattern and path as '/'-separated segments; a "**" segment matches zero or more path
 * segments. */
static bool path_match(const char *p, const char *s)
{
	for (;;) {
		const char *pe = seg_end(p);
		if (pe - p == 2 && p[0] == '*' && p[1] == '*') {
			const char *prest = *pe ? pe + 1 : pe;
			if (!*prest)
				return true; /* trailing ** matches everything below, and the dir */
			for (const char *t = s;;) {
				if (path_match(prest, t))
					return true;
				const char *te = seg_end(t);
				if (!*te)
					return false;
				t = te + 1;
			}
		}
		const char *se = seg_end(s);
		if (!segment_match(p, pe, s, se))
			return false;
		if (!*se && *pe)
			return only_globstars(pe + 1); /* trailing globstars match nothing */
		if (!*pe || !*se)
			return !*pe && !*se;
		p = pe + 1;
		s = se + 1;
	}
}

/* Expands the first {a,b} group (nesting allowed) and recurses. */
static bool brace_match(const char *pattern, const char *path, int depth)
{
	const char *open = NULL;
	for (const char *q = pattern; *q; q++) {
		if (*q == '\\' && q[1]) {
			q++;
			continue;
		}
		if (*q == '{') {
			open = q;
			break;
		}
	}
	if (!open || depth > 8)
		return path_match(pattern, path);
	/* find the matching '}' and the top-level commas */
	int level = 0;
	const char *close = NULL;
	for (const char *q = open; *q; q++) {
		if (*q == '\\' && q[1])
			q++;
		else if (*q == '{')
			level++;
		else if (*q == '}' && --level == 0) {
			close = q;
			break;
		}
	}
	if (!close)
		return path_match(pattern, path);
	const char *alt = open + 1;
	level = 0;
	for (const char *q = open + 1; q <= close; q++) {
		if (*q == '\\' && q[1] && q < close) {
			q++;
			continue;
		}
		if (*q == '{')
			level++;
		else if (*q == '}' && q < close)
			level--;
		if ((*q == ',' && level == 0) || q == close) {
			_cleanup_free_ char *one =
			    xasprintf("%.*s%.*s%s", (int)(open - pattern), pattern, (int)(q - alt),
			              alt, close + 1);
			if (brace_match(one, path, depth + 1))
				return true;
			alt = q + 1;
		}
	}
	return false;
}

bool artifacts_glob_match(const char *pattern, const char *path)
{
	return brace_match(pattern, path, 0);
}

static bool has_glob_meta(const char *s)
{
	return strpbrk(s, "*?[{\\") != NULL;
}

/* ---- warnings ---- */

static void warn_add(struct string_list *w, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void warn_add(struct string_list *w, const char *fmt, ...)
{
	if (!w)
		return;
	va_list ap;
	va_start(ap, fmt);
	char *msg = xvasprintf(fmt, ap);
	va_end(ap);
	w->v = xrealloc(w->v, (w->n + 1) * sizeof(*w->v));
	w->v[w->n++] = msg;
}

void artifacts_warnings_release(struct string_list *w)
{
	if (!w)
		return;
	for (size_t i = 0; i < w->n; i++)
		free((char *)w->v[i]);
	free(w->v);
	w->v = NULL;
	w->n = 0;
}

/* ---- the tree: sorted paths relative to its root ---- */

struct tree_entry {
	char *path;  /* relative, no leading "./", no trailing '/' */
	mode_t mode; /* file type bits matter */
	bool selected;
};

struct tree {
	struct tree_entry *v;
	size_t n, alloc;
};

static void tree_add(struct tree *t, const char *path, mode_t mode)
{
	XGROW(t->v, t->alloc, t->n + 1);
	t->v[t->n].path = xstrdup(path);
	t->v[t->n].mode = mode;
	t->v[t->n].selected = false;
	t->n++;
}

static void tree_release(struct tree *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->v[i].path);
	free(t->v);
	t->v = NULL;
	t->n = t->alloc = 0;
}

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct tree_entry *)a)->path, ((const struct tree_entry *)b)->path);
}

static void tree_sort(struct tree *t)
{
	if (t->n > 1)
		qsort(t->v, t->n, sizeof(*t->v), cmp_entry);
}

/* Index of the first entry >= key. */
static size_t tree_lower_bound(const struct tree *t, const char *key)
{
	size_t lo = 0, hi = t->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(t->v[mid].path, key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static long tree_find(const struct tree *t, const char *path)
{
	size_t i = tree_lower_bound(t, path);
	return i < t->n && strcmp(t->v[i].path, path) == 0 ? (long)i : -1;
}

/* Recursive lstat walk below root/rel (symlinks are entries, never followed). */
static int walk_dir(const char *root, struct strbuf *rel, struct tree *t, struct err *err)
{
	_cleanup_free_ char *abs = rel->len ? xasprintf("%s/%s", root, rel->buf) : xstrdup(root);
	DIR *d = opendir(abs);
	if (!d)
		return err_sys(err, errno, "cannot read directory '%s'", abs);
	int rc = 0;
	struct dirent *de;
	size_t base = rel->len;
	while (rc == 0 && (de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (base)
			strbuf_addch(rel, '/');
		strbuf_addstr(rel, de->d_name);
		struct stat st;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			rc = err_sys(err, errno, "cannot stat '%s/%s'", root, rel->buf);
		} else {
			tree_add(t, rel->buf, st.st_mode);
			if (S_ISDIR(st.st_mode))
				rc = walk_dir(root, rel, t, err);
		}
		strbuf_setlen(rel, base);
	}
	closedir(d);
	return rc;
}

static int tree_from_dir(const char *root, struct tree *t, struct err *err)
{
	struct strbuf rel = STRBUF_INIT;
	int rc = walk_dir(root, &rel, t, err);
	strbuf_release(&rel);
	tree_sort(t);
	return rc;
}

/* ---- selection ---- */

/* Cleans a user path into a project-relative one: expands nothing, resolves "." and ".."
 * lexically, accepts an absolute path below project_dir. Returns owned path ("" = the
 * project dir itself) or NULL when it leaves the project. */
static char *relative_in_project(const char *path, const char *project_dir)
{
	struct strbuf out = STRBUF_INIT;
	const char *p = path;
	if (path[0] == '/') {
		size_t pl = strlen(project_dir);
		while (pl > 1 && project_dir[pl - 1] == '/')
			pl--;
		if (strncmp(path, project_dir, pl) != 0 || (path[pl] && path[pl] != '/'))
			goto outside;
		p = path + pl;
	}
	while (*p) {
		while (*p == '/')
			p++;
		const char *e = seg_end(p);
		size_t l = (size_t)(e - p);
		if (l == 0)
			break;
		if (l == 1 && p[0] == '.') {
			/* nothing */
		} else if (l == 2 && p[0] == '.' && p[1] == '.') {
			if (out.len == 0)
				goto outside;
			char *slash = strrchr(out.buf, '/');
			strbuf_setlen(&out, slash ? (size_t)(slash - out.buf) : 0);
		} else {
			if (out.len)
				strbuf_addch(&out, '/');
			strbuf_add(&out, p, l);
		}
		p = e;
	}
	return strbuf_detach(&out, NULL);
outside:
	strbuf_release(&out);
	return NULL;
}

struct selector {
	struct tree *t;
	const char *project_dir;
	char **exclude; /* cleaned exclude patterns */
	size_t n_exclude;
	struct string_list *warnings;
};

static bool excluded(const struct selector *s, const char *path)
{
	for (size_t i = 0; i < s->n_exclude; i++)
		if (artifacts_glob_match(s->exclude[i], path))
			return true;
	return false;
}

/* Selects entry i and, for a directory, everything below it; returns how many entries
 * were taken (excluded ones are skipped but their children are still visited). */
static size_t take_entry(struct selector *s, size_t i)
{
	struct tree *t = s->t;
	size_t found = 0;
	if (!excluded(s, t->v[i].path)) {
		t->v[i].selected = true;
		found++;
	}
	if (!S_ISDIR(t->v[i].mode))
		return found;
	_cleanup_free_ char *prefix = xasprintf("%s/", t->v[i].path);
	size_t pl = strlen(prefix);
	for (size_t j = tree_lower_bound(t, prefix); j < t->n; j++) {
		if (strncmp(t->v[j].path, prefix, pl) != 0)
			break;
		if (!excluded(s, t->v[j].path)) {
			t->v[j].selected = true;
			found++;
		}
	}
	return found;
}

static void select_pattern(struct selector *s, const char *pattern)
{
	_cleanup_free_ char *rel = relative_in_project(pattern, s->project_dir);
	if (!rel) {
		warn_add(s->warnings, "%s: artifact path is not a subpath of project directory: %s",
		         pattern, s->project_dir);
		return;
	}
	size_t found = 0;
	if (rel[0] == '\0') {
		/* the project dir itself: everything */
		for (size_t i = 0; i < s->t->n; i++)
			if (!excluded(s, s->t->v[i].path)) {
				s->t->v[i].selected = true;
				found++;
			}
	} else if (!has_glob_meta(rel)) {
		long i = tree_find(s->t, rel);
		if (i >= 0)
			found = take_entry(s, (size_t)i);
	} else {
		for (size_t i = 0; i < s->t->n; i++)
			if (artifacts_glob_match(rel, s->t->v[i].path))
				found += take_entry(s, i);
	}
	if (found == 0)
		warn_add(s->warnings,
		         "%s: no matching files. Ensure that the artifact path is relative to the "
		         "working directory (%s)",
		         rel[0] ? rel : pattern, s->project_dir);
}

static void select_untracked(struct selector *s, const struct string_list *untracked)
{
	size_t found = 0;
	for (size_t i = 0; untracked && i < untracked->n; i++) {
		_cleanup_free_ char *rel = relative_in_project(untracked->v[i], s->project_dir);
		long k = rel && rel[0] ? tree_find(s->t, rel) : -1;
		if (k < 0 || excluded(s, rel))
			continue;
		s->t->v[k].selected = true;
		found++;
	}
	if (found == 0)
		warn_add(s->warnings, "untracked: no files");
}

/* Marks the entries of t that the spec selects. */
static void tree_select(struct tree *t, const struct artifacts_spec *spec,
                        const struct var_list *vars, const char *project_dir,
                        const struct string_list *untracked, struct string_list *warnings)
{
	struct selector s = {.t = t, .project_dir = project_dir, .warnings = warnings};
	s.exclude = xcalloc(spec->exclude.n + 1, sizeof(*s.exclude));
	for (size_t i = 0; i < spec->exclude.n; i++) {
		struct strbuf x = STRBUF_INIT;
		vars_expand_runner(spec->exclude.v[i], vars, &x);
		char *rel = relative_in_project(x.buf, project_dir);
		if (!rel)
			warn_add(warnings, "%s: exclude path is not a subpath of project directory",
			         x.buf);
		else
			s.exclude[s.n_exclude++] = rel;
		strbuf_release(&x);
	}
	for (size_t i = 0; i < spec->paths.n; i++) {
		struct strbuf p = STRBUF_INIT;
		vars_expand_runner(spec->paths.v[i], vars, &p);
		select_pattern(&s, p.buf);
		strbuf_release(&p);
	}
	if (spec->untracked)
		select_untracked(&s, untracked);
	for (size_t i = 0; i < s.n_exclude; i++)
		free(s.exclude[i]);
	free(s.exclude);
}

/* ---- copying with libarchive ---- */

/* Reads entries from the host: no xattrs, ACLs or file flags (SELinux labels and the like
 * must not travel into containers or artifacts). */
static struct archive *disk_reader(void)
{
	struct archive *d = archive_read_disk_new();
	archive_read_disk_set_behavior(d, ARCHIVE_READDISK_NO_XATTR | ARCHIVE_READDISK_NO_ACL |
	                                      ARCHIVE_READDISK_NO_FFLAGS);
	return d;
}

static struct archive *disk_writer(void)
{
	struct archive *w = archive_write_disk_new();
	archive_write_disk_set_options(
	    w, ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_UNLINK |
	           ARCHIVE_EXTRACT_SECURE_SYMLINKS | ARCHIVE_EXTRACT_SECURE_NODOTDOT);
	archive_write_disk_set_standard_lookup(w);
	return w;
}

static int copy_data(struct archive *in, struct archive *out, const char *what, struct err *err)
{
	const void *buf;
	size_t size;
	la_int64_t off;
	for (;;) {
		int r = archive_read_data_block(in, &buf, &size, &off);
		if (r == ARCHIVE_EOF)
			return 0;
		if (r < ARCHIVE_WARN)
			return err_set(err, ERR_ENV, "cannot read '%s': %s", what,
			               archive_error_string(in));
		if (archive_write_data_block(out, buf, size, off) < ARCHIVE_WARN)
			return err_set(err, ERR_ENV, "cannot write '%s': %s", what,
			               archive_error_string(out));
	}
}

/* Streams one file of the host tree into the archive writer `out` (a disk or a tar) under
 * the name `name`. */
static int copy_host_entry(struct archive *disk, const char *root, const char *rel,
                           const char *name, struct archive *out, bool as_root, struct err *err)
{
	_cleanup_free_ char *src = xasprintf("%s/%s", root, rel);
	struct archive_entry *e = archive_entry_new();
	archive_entry_copy_sourcepath(e, src);
	int rc = 0;
	_cleanup_close_ int fd = -1;
	struct stat st;
	if (lstat(src, &st) < 0) {
		rc = err_sys(err, errno, "cannot stat '%s'", src);
		goto out;
	}
	if (S_ISREG(st.st_mode)) {
		fd = open(src, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			rc = err_sys(err, errno, "cannot open '%s'", src);
			goto out;
		}
	}
	if (archive_read_disk_entry_from_file(disk, e, fd, &st) < ARCHIVE_WARN) {
		rc = err_set(err, ERR_ENV, "cannot read '%s': %s", src, archive_error_string(disk));
		goto out;
	}
	archive_entry_set_pathname(e, name);
	if (as_root) {
		/* the runner's helper extracts as root inside the container; so do we */
		archive_entry_set_uid(e, 0);
		archive_entry_set_gid(e, 0);
		archive_entry_set_uname(e, "root");
		archive_entry_set_gname(e, "root");
	}
	if (archive_write_header(out, e) < ARCHIVE_WARN) {
		rc =
		    err_set(err, ERR_ENV, "cannot write '%s': %s", name, archive_error_string(out));
		goto out;
	}
	if (fd >= 0) {
		char buf[65536];
		ssize_t n;
		while ((n = read(fd, buf, sizeof(buf))) > 0)
			if (archive_write_data(out, buf, (size_t)n) < 0) {
				rc = err_set(err, ERR_ENV, "cannot write '%s': %s", name,
				             archive_error_string(out));
				goto out;
			}
		if (n < 0)
			rc = err_sys(err, errno, "cannot read '%s'", src);
	}
out:
	archive_entry_free(e);
	return rc;
}

/* A directory already at the destination that we cannot write into (a read-only dir from
 * an earlier copy, Go's module cache...) is opened up before its content is written; the
 * archive's own mode for it is applied again when the writer closes. */
static void open_up_existing_dir(const char *path)
{
	struct stat st;
	if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & S_IRWXU) != S_IRWXU)
		chmod(path, (st.st_mode & 07777) | S_IRWXU);
}

static bool copyable(mode_t m)
{
	return S_ISREG(m) || S_ISDIR(m) || S_ISLNK(m);
}

/* Copies the selected entries of a host tree below dest_dir (NULL: all entries). */
static int copy_tree(const char *root, const struct tree *t, bool only_selected,
                     const char *dest_dir, size_t *ret_count, struct err *err)
{
	struct archive *disk = disk_reader();
	struct archive *w = disk_writer();
	size_t count = 0;
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < t->n; i++) {
		const struct tree_entry *e = &t->v[i];
		if ((only_selected && !e->selected) || !copyable(e->mode))
			continue;
		_cleanup_free_ char *name = xasprintf("%s/%s", dest_dir, e->path);
		if (S_ISDIR(e->mode))
			open_up_existing_dir(name);
		rc = copy_host_entry(disk, root, e->path, name, w, false, err);
		if (!S_ISDIR(e->mode))
			count++;
	}
	/* close applies the deferred directory modes */
	if (archive_write_close(w) < ARCHIVE_WARN && rc == 0)
		rc = err_set(err, ERR_ENV, "cannot finish copy into '%s': %s", dest_dir,
		             archive_error_string(w));
	archive_write_free(w);
	archive_read_free(disk);
	if (rc == 0 && ret_count)
		*ret_count = count;
	return rc;
}

int artifacts_collect_dir(const struct artifacts_spec *spec, const struct var_list *vars,
                          const char *dir, const char *dest_dir, size_t *ret_count,
                          struct string_list *warnings, struct err *err)
{
	return artifacts_collect_dir_untracked(spec, vars, dir, NULL, dest_dir, ret_count, warnings,
	                                       err);
}

int artifacts_collect_dir_untracked(const struct artifacts_spec *spec, const struct var_list *vars,
                                    const char *dir, const struct string_list *untracked_files,
                                    const char *dest_dir, size_t *ret_count,
                                    struct string_list *warnings, struct err *err)
{
	if (exec_archive_load(err) < 0)
		return -1;
	struct tree t = {0};
	int rc = tree_from_dir(dir, &t, err);
	if (rc == 0) {
		tree_select(&t, spec, vars, dir, untracked_files, warnings);
		rc = fs_mkdir_p(dest_dir, err);
	}
	if (rc == 0)
		rc = copy_tree(dir, &t, true, dest_dir, ret_count, err);
	tree_release(&t);
	return rc;
}

int artifacts_copy_dir(const char *src_dir, const char *dest_dir, struct err *err)
{
	if (exec_archive_load(err) < 0)
		return -1;
	struct tree t = {0};
	int rc = tree_from_dir(src_dir, &t, err);
	if (rc == 0)
		rc = fs_mkdir_p(dest_dir, err);
	if (rc == 0)
		rc = copy_tree(src_dir, &t, false, dest_dir, NULL, err);
	tree_release(&t);
	return rc;
}

/* ---- tar streams ---- */

/* An unlinked temporary file, for tar streams too big to hold in memory. */
static int temp_fd(struct err *err)
{
	const char *tmp = getenv("TMPDIR");
	_cleanup_free_ char *path = xasprintf("%s/runnel-tar-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	int fd = mkostemp(path, O_CLOEXEC);
	if (fd < 0)
		return err_sys(err, errno, "cannot create a temporary file in '%s'",
		               tmp && *tmp ? tmp : "/tmp");
	unlink(path);
	return fd;
}

int artifacts_tar_dir(const char *src_dir, int out_fd, struct err *err)
{
	if (exec_archive_load(err) < 0)
		return -1;
	struct tree t = {0};
	if (tree_from_dir(src_dir, &t, err) < 0) {
		tree_release(&t);
		return -1;
	}
	struct archive *disk = disk_reader();
	struct archive *w = archive_write_new();
	archive_write_set_format_pax_restricted(w);
	int rc = 0;
	if (archive_write_open_fd(w, out_fd) != ARCHIVE_OK)
		rc = err_set(err, ERR_ENV, "cannot start tar of '%s': %s", src_dir,
		             archive_error_string(w));
	for (size_t i = 0; rc == 0 && i < t.n; i++)
		if (copyable(t.v[i].mode))
			rc = copy_host_entry(disk, src_dir, t.v[i].path, t.v[i].path, w, true, err);
	if (archive_write_close(w) != ARCHIVE_OK && rc == 0)
		rc = err_set(err, ERR_ENV, "cannot finish tar of '%s': %s", src_dir,
		             archive_error_string(w));
	archive_write_free(w);
	archive_read_free(disk);
	tree_release(&t);
	return rc;
}

/* Strips the first component ("proj/" of Docker's archive of /builds/proj) and any "./";
 * returns "" for the top directory itself, NULL for names that try to leave the tree. */
static const char *tar_rel(const char *name)
{
	while (name[0] == '.' && name[1] == '/')
		name += 2;
	const char *slash = strchr(name, '/');
	const char *rel = slash ? slash + 1 : "";
	while (*rel == '/')
		rel++;
	for (const char *p = rel; *p;) {
		const char *e = seg_end(p);
		if (e - p == 2 && p[0] == '.' && p[1] == '.')
			return NULL;
		p = *e ? e + 1 : e;
	}
	return rel;
}

static int tar_open(int fd, struct archive **ret, struct err *err)
{
	if (lseek(fd, 0, SEEK_SET) < 0)
		return err_sys(err, errno, "cannot rewind tar stream");
	struct archive *a = archive_read_new();
	archive_read_support_format_tar(a);
	if (archive_read_open_fd(a, fd, 65536) != ARCHIVE_OK) {
		err_set(err, ERR_ENV, "cannot read tar stream: %s", archive_error_string(a));
		archive_read_free(a);
		return -1;
	}
	*ret = a;
	return 0;
}

static int tree_from_tar(int fd, struct tree *t, struct err *err)
{
	struct archive *a;
	if (tar_open(fd, &a, err) < 0)
		return -1;
	struct archive_entry *e;
	int r, rc = 0;
	while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
		const char *rel = tar_rel(archive_entry_pathname(e));
		if (!rel || !*rel)
			continue;
		_cleanup_free_ char *clean = xstrdup(rel);
		size_t l = strlen(clean);
		while (l > 0 && clean[l - 1] == '/')
			clean[--l] = '\0';
		mode_t mode = archive_entry_filetype(e);
		/* a hardlink is a regular file for selection */
		if (archive_entry_hardlink(e))
			mode = AE_IFREG;
		tree_add(t, clean, mode);
	}
	if (r != ARCHIVE_EOF)
		rc = err_set(err, ERR_ENV, "cannot read tar stream: %s", archive_error_string(a));
	archive_read_free(a);
	tree_sort(t);
	return rc;
}

/* A selected hardlink whose target is not selected gets the target's content: the target's
 * entry is written under the first such link's name ("alias"). */
struct alias {
	char *target, *as;
};

struct extract_ctx {
	const struct tree *t;
	const char *dest_dir;
	struct alias *aliases;
	size_t n_aliases, alloc_aliases;
	size_t count;
};

static bool tree_selected(const struct tree *t, const char *rel)
{
	long i = tree_find(t, rel);
	return i >= 0 && t->v[i].selected;
}

static const char *alias_of(const struct extract_ctx *x, const char *target)
{
	for (size_t i = 0; i < x->n_aliases; i++)
		if (strcmp(x->aliases[i].target, target) == 0)
			return x->aliases[i].as;
	return NULL;
}

/* Pass 1b: records aliases for selected hardlinks with unselected targets. */
static int collect_aliases(int fd, struct extract_ctx *x, struct err *err)
{
	struct archive *a;
	if (tar_open(fd, &a, err) < 0)
		return -1;
	struct archive_entry *e;
	int r;
	while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
		const char *link = archive_entry_hardlink(e);
		const char *rel = tar_rel(archive_entry_pathname(e));
		if (!link || !rel || !tree_selected(x->t, rel))
			continue;
		const char *trel = tar_rel(link);
		if (!trel || tree_selected(x->t, trel) || alias_of(x, trel))
			continue;
		XGROW(x->aliases, x->alloc_aliases, x->n_aliases + 1);
		x->aliases[x->n_aliases].target = xstrdup(trel);
		x->aliases[x->n_aliases].as = xstrdup(rel);
		x->n_aliases++;
	}
	archive_read_free(a);
	return 0;
}

/* Decides the destination of one tar entry (NULL: skip) and rewrites its hardlink. */
static char *extract_name(struct extract_ctx *x, struct archive_entry *e)
{
	const char *rel = tar_rel(archive_entry_pathname(e));
	if (!rel || !*rel)
		return NULL;
	_cleanup_free_ char *clean = xstrdup(rel);
	size_t l = strlen(clean);
	while (l > 0 && clean[l - 1] == '/')
		clean[--l] = '\0';
	const char *link = archive_entry_hardlink(e);
	if (link) {
		if (!tree_selected(x->t, clean))
			return NULL;
		const char *trel = tar_rel(link);
		const char *to = trel && tree_selected(x->t, trel) ? trel
		                 : trel                            ? alias_of(x, trel)
		                                                   : NULL;
		if (!to || strcmp(to, clean) == 0)
			return NULL; /* this link's content came with its aliased target */
		_cleanup_free_ char *lt = xasprintf("%s/%s", x->dest_dir, to);
		archive_entry_copy_hardlink(e, lt);
		return xasprintf("%s/%s", x->dest_dir, clean);
	}
	if (tree_selected(x->t, clean))
		return xasprintf("%s/%s", x->dest_dir, clean);
	const char *as = alias_of(x, clean);
	return as ? xasprintf("%s/%s", x->dest_dir, as) : NULL;
}

/* Pass 2: extracts what extract_name() keeps. */
static int extract_selected(int fd, struct extract_ctx *x, struct err *err)
{
	struct archive *a;
	if (tar_open(fd, &a, err) < 0)
		return -1;
	struct archive *w = disk_writer();
	struct archive_entry *e;
	int r, rc = 0;
	while (rc == 0 &&
	       ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK || r == ARCHIVE_WARN)) {
		mode_t type = archive_entry_filetype(e);
		if (!archive_entry_hardlink(e) && !copyable(type))
			continue;
		_cleanup_free_ char *name = extract_name(x, e);
		if (!name)
			continue;
		archive_entry_set_pathname(e, name);
		if (type == AE_IFDIR)
			open_up_existing_dir(name);
		if (archive_write_header(w, e) < ARCHIVE_WARN) {
			rc = err_set(err, ERR_ENV, "cannot extract '%s': %s", name,
			             archive_error_string(w));
			break;
		}
		if (type == AE_IFREG && archive_entry_size(e) > 0)
			rc = copy_data(a, w, name, err);
		if (type != AE_IFDIR)
			x->count++;
	}
	if (archive_write_close(w) < ARCHIVE_WARN && rc == 0)
		rc = err_set(err, ERR_ENV, "cannot finish extraction into '%s': %s", x->dest_dir,
		             archive_error_string(w));
	archive_write_free(w);
	archive_read_free(a);
	return rc;
}

int artifacts_collect_tar(int tar_fd, const struct artifacts_spec *spec,
                          const struct var_list *vars, const char *project_dir,
                          const struct string_list *untracked_files, const char *dest_dir,
                          size_t *ret_count, struct string_list *warnings, struct err *err)
{
	if (exec_archive_load(err) < 0)
		return -1;
	struct tree t = {0};
	struct extract_ctx x = {.t = &t, .dest_dir = dest_dir};
	int rc = tree_from_tar(tar_fd, &t, err);
	if (rc == 0) {
		tree_select(&t, spec, vars, project_dir, untracked_files, warnings);
		rc = fs_mkdir_p(dest_dir, err);
	}
	if (rc == 0)
		rc = collect_aliases(tar_fd, &x, err);
	if (rc == 0)
		rc = extract_selected(tar_fd, &x, err);
	if (rc == 0 && ret_count)
		*ret_count = x.count;
	for (size_t i = 0; i < x.n_aliases; i++) {
		free(x.aliases[i].target);
		free(x.aliases[i].as);
	}
	free(x.aliases);
	tree_release(&t);
	return rc;
}

/* ---- containers ---- */

int artifacts_collect_container(struct docker_client *c, const char *container_id,
                                const char *project_dir, const struct artifacts_spec *spec,
                                const struct var_list *vars, const char *dest_dir,
                                size_t *ret_count, struct string_list *warnings, struct err *err)
{
	_cleanup_close_ int fd = temp_fd(err);
	if (fd < 0)
		return -1;
	if (docker_container_get_archive(c, container_id, project_dir, fd, err) < 0)
		return err_wrap(err, "cannot fetch artifacts of '%s'", project_dir);
	return artifacts_collect_tar(fd, spec, vars, project_dir, NULL, dest_dir, ret_count,
	                             warnings, err);
}

int artifacts_put_container(struct docker_client *c, const char *container_id, const char *src_dir,
                            const char *dest, struct err *err)
{
	_cleanup_close_ int fd = temp_fd(err);
	if (fd < 0)
		return -1;
	if (artifacts_tar_dir(src_dir, fd, err) < 0)
		return -1;
	if (lseek(fd, 0, SEEK_SET) < 0)
		return err_sys(err, errno, "cannot rewind tar of '%s'", src_dir);
	if (docker_container_put_archive_fd(c, container_id, dest, fd, err) < 0)
		return err_wrap(err, "cannot put '%s' into the container at '%s'", src_dir, dest);
	return 0;
}
