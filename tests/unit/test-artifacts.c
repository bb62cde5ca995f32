/* Unit tests for exec/artifacts.c, cache.c, dotenv.c: doublestar globs, artifact selection
 * (paths, directories, exclude, untracked, variables, warnings), copies that keep modes,
 * symlinks and read-only directories, tar round trips (incl. Docker-style archives with
 * hardlinks), cache keys and dotenv reports. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "exec/artifacts.h"
#include "model/job.h"
#include "model/vars.h"
#include "util/cleanup.h"
#include "util/sha1.h"
#include "util/strbuf.h"
#include "util/strvec.h"
#include "util/xalloc.h"

/* ---- helpers ---- */

static char *tmpdir_new(void)
{
	char *d = xstrdup("/tmp/test-artifacts-XXXXXX");
	assert_non_null(mkdtemp(d));
	return d;
}

static void rm_rf(const char *d)
{
	/* read-only directories are part of the tests: make them writable first */
	char *cmd = xasprintf("chmod -R u+rwx '%s' 2>/dev/null; rm -rf '%s'", d, d);
	assert_int_equal(system(cmd), 0);
	free(cmd);
}

static void put_file(const char *root, const char *rel, const char *content, mode_t mode)
{
	char *p = xasprintf("%s/%s", root, rel);
	/* create parents */
	for (char *s = p + strlen(root) + 1; *s; s++) {
		if (*s == '/') {
			*s = '\0';
			mkdir(p, 0755);
			*s = '/';
		}
	}
	FILE *f = fopen(p, "wb");
	assert_non_null(f);
	fputs(content, f);
	fclose(f);
	chmod(p, mode);
	free(p);
}

/* Lists files (not dirs) below root as "rel" lines, sorted, links as "rel -> target". */
static void list_tree(const char *root, const char *rel, struct strvec *out)
{
	char *cmd =
	    xasprintf("cd '%s' && find . -mindepth 1 \\( -type f -o -type l \\) | sort", root);
	(void)rel;
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	char line[4096];
	while (fgets(line, sizeof(line), p)) {
		line[strcspn(line, "\n")] = '\0';
		strvec_push(out, line + 2);
	}
	pclose(p);
	free(cmd);
}

static char *joined_tree(const char *root)
{
	struct strvec v = STRVEC_INIT;
	list_tree(root, "", &v);
	struct strbuf sb = STRBUF_INIT;
	for (size_t i = 0; i < v.n; i++) {
		if (i)
			strbuf_addch(&sb, ' ');
		strbuf_addstr(&sb, v.v[i]);
	}
	strvec_release(&v);
	return strbuf_detach(&sb, NULL);
}

static struct string_list sl(const char **v, size_t n)
{
	struct string_list l = {.v = v, .n = n};
	return l;
}

/* The project used by the selection tests. */
static char *make_project(void)
{
	char *d = tmpdir_new();
	put_file(d, "README.md", "readme\n", 0644);
	put_file(d, "build/app", "bin\n", 0755);
	put_file(d, "build/lib/libx.so", "so\n", 0644);
	put_file(d, "build/lib/tmp.o", "o\n", 0644);
	put_file(d, "build/tmp/scratch.o", "o\n", 0644);
	put_file(d, "src/main.c", "c\n", 0644);
	put_file(d, "src/sub/deep/x.c", "c\n", 0644);
	put_file(d, "src/sub/deep/y.h", "h\n", 0644);
	put_file(d, "reports/junit.xml", "<x/>\n", 0644);
	put_file(d, ".hidden/file", "h\n", 0644);
	put_file(d, "weird [x].txt", "w\n", 0644);
	return d;
}

/* ---- glob ---- */

static void test_glob_table(void **state)
{
	(void)state;
	static const struct {
		const char *pat, *path;
		bool match;
	} cases[] = {
	    {"*.c", "main.c", true},
	    {"*.c", "src/main.c", false},
	    {"src/*.c", "src/main.c", true},
	    {"src/*", "src/sub", true},
	    {"src/*", "src/sub/x.c", false},
	    {"**/*.c", "main.c", true},
	    {"**/*.c", "src/sub/deep/x.c", true},
	    {"src/**/*.c", "src/x.c", true},
	    {"src/**/*.c", "src/a/b/x.c", true},
	    {"src/**", "src", true},
	    {"src/**", "src/a/b", true},
	    {"src/**", "srcx/a", false},
	    {"src/**/**", "src", true},
	    {"src/**/x", "src", false},
	    {"**", "anything/at/all", true},
	    {"a/**/b/**/c", "a/b/c", true},
	    {"a/**/b/**/c", "a/x/b/y/z/c", true},
	    {"a/**/b", "a/x/c", false},
	    {"?.txt", "a.txt", true},
	    {"?.txt", "ab.txt", false},
	    {"?", "/", false},
	    {"[abc].o", "b.o", true},
	    {"[abc].o", "d.o", false},
	    {"[!abc].o", "d.o", true},
	    {"[^abc].o", "a.o", false},
	    {"[a-c]x", "bx", true},
	    {"[a-c]x", "dx", false},
	    {"file.{c,h}", "file.h", true},
	    {"file.{c,h}", "file.o", false},
	    {"{src,lib}/**/*.{c,h}", "lib/x/y.h", true},
	    {"\\*.txt", "*.txt", true},
	    {"\\*.txt", "a.txt", false},
	    {"weird \\[x\\].txt", "weird [x].txt", true},
	    {"*", ".hidden", true},
	    {"build", "build", true},
	    {"build", "build/app", false},
	    {"a*b*c", "axxbyyc", true},
	    {"a*b*c", "axxbyy", false},
	    {"[unclosed", "[unclosed", true},
	    {"", "", true},
	    {"*", "", true},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bool m = artifacts_glob_match(cases[i].pat, cases[i].path);
		if (m != cases[i].match)
			fail_msg("glob '%s' vs '%s': got %d", cases[i].pat, cases[i].path, m);
	}
}

/* ---- selection ---- */

struct sel_case {
	const char *paths[4];
	const char *exclude[3];
	const char *expect; /* files in dest, space-separated */
	size_t n_warnings;
	const char *warning; /* substring of the first warning, or NULL */
};

static void run_sel_case(const char *proj, const struct sel_case *c, const struct var_list *vars)
{
	struct artifacts_spec spec = {.present = true};
	size_t np = 0, ne = 0;
	while (np < 4 && c->paths[np])
		np++;
	while (ne < 3 && c->exclude[ne])
		ne++;
	spec.paths = sl((const char **)c->paths, np);
	spec.exclude = sl((const char **)c->exclude, ne);
	_cleanup_free_ char *dest = tmpdir_new();
	struct string_list warnings = {0};
	struct err err = ERR_INIT;
	size_t count = 99;
	if (artifacts_collect_dir(&spec, vars, proj, dest, &count, &warnings, &err) != 0)
		fail_msg("collect failed: %s", err.msg);
	_cleanup_free_ char *got = joined_tree(dest);
	if (strcmp(got, c->expect) != 0)
		fail_msg("paths[0]='%s': got '%s', want '%s'", c->paths[0], got, c->expect);
	if (warnings.n != c->n_warnings)
		fail_msg("paths[0]='%s': %zu warnings (%s)", c->paths[0], warnings.n,
		         warnings.n ? warnings.v[0] : "");
	if (c->warning && !strstr(warnings.v[0], c->warning))
		fail_msg("warning '%s' lacks '%s'", warnings.v[0], c->warning);
	/* count = files and links copied */
	struct strvec files = STRVEC_INIT;
	list_tree(dest, "", &files);
	assert_int_equal(count, files.n);
	strvec_release(&files);
	artifacts_warnings_release(&warnings);
	rm_rf(dest);
}

static void test_artifacts_selection_table(void **state)
{
	(void)state;
	_cleanup_free_ char *proj = make_project();
	struct var_list vars = {0};
	var_list_set_kv(NULL, &vars, "OUT", "build");
	var_list_set_kv(NULL, &vars, "EXT", "c");
	_cleanup_free_ char *abs_build = xasprintf("%s/build/app", proj);
	static const char *const all_build =
	    "build/app build/lib/libx.so build/lib/tmp.o build/tmp/scratch.o";
	const struct sel_case cases[] = {
	    /* a directory brings everything below it, with or without the slash */
	    {{"build/"}, {NULL}, all_build, 0, NULL},
	    {{"build"}, {NULL}, all_build, 0, NULL},
	    {{"./build/lib/../lib"}, {NULL}, "build/lib/libx.so build/lib/tmp.o", 0, NULL},
	    /* globs */
	    {{"src/*.c"}, {NULL}, "src/main.c", 0, NULL},
	    {{"**/*.c"}, {NULL}, "src/main.c src/sub/deep/x.c", 0, NULL},
	    {{"src/**"}, {NULL}, "src/main.c src/sub/deep/x.c src/sub/deep/y.h", 0, NULL},
	    {{"src/*"}, {NULL}, "src/main.c src/sub/deep/x.c src/sub/deep/y.h", 0, NULL},
	    {{"src/sub/deep/?.[ch]"}, {NULL}, "src/sub/deep/x.c src/sub/deep/y.h", 0, NULL},
	    {{"*.md", "reports/"}, {NULL}, "README.md reports/junit.xml", 0, NULL},
	    {{".hidden"}, {NULL}, ".hidden/file", 0, NULL},
	    /* brackets are a class, as in the runner's doublestar: escape them */
	    {{"weird [x].txt"}, {NULL}, "", 1, "no matching files"},
	    {{"weird \\[x\\].txt"}, {NULL}, "weird [x].txt", 0, NULL},
	    /* exclude applies to each file; excluding a dir entry keeps its content */
	    {{"build/"}, {"**/*.o"}, "build/app build/lib/libx.so", 0, NULL},
	    {{"build/"}, {"build/tmp/**"}, "build/app build/lib/libx.so build/lib/tmp.o", 0, NULL},
	    {{"build/"}, {"build/tmp"}, all_build, 0, NULL},
	    {{"build/"}, {"build/lib/*", "build/app"}, "build/tmp/scratch.o", 0, NULL},
	    /* variables, runner style */
	    {{"$OUT/app", "src/*.${EXT}"}, {NULL}, "build/app src/main.c", 0, NULL},
	    /* absolute inside the project is fine */
	    {{abs_build}, {NULL}, "build/app", 0, NULL},
	    /* nothing matched: a warning, not an error */
	    {{"nope/"}, {NULL}, "", 1, "nope: no matching files"},
	    {{"**/*.rs", "README.md"}, {NULL}, "README.md", 1, "no matching files"},
	    /* unknown variables expand to "": "/x" is outside the project */
	    {{"$UNSET_VAR/x"}, {NULL}, "", 1, "not a subpath"},
	    {{"x$UNSET_VAR"}, {NULL}, "", 1, "x: no matching files"},
	    /* everything excluded counts as nothing matched */
	    {{"src/main.c"}, {"src/*.c"}, "", 1, "no matching files"},
	    /* outside the project: refused with a warning */
	    {{"../outside"}, {NULL}, "", 1, "not a subpath of project directory"},
	    {{"/etc/passwd"}, {NULL}, "", 1, "not a subpath of project directory"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		run_sel_case(proj, &cases[i], &vars);
	var_list_release(&vars);
	rm_rf(proj);
}

static void test_artifacts_untracked(void **state)
{
	(void)state;
	_cleanup_free_ char *proj = make_project();
	_cleanup_free_ char *dest = tmpdir_new();
	const char *paths[] = {"README.md"};
	const char *untracked[] = {"build/app", "src/sub/deep/y.h", "gone.txt"};
	struct artifacts_spec spec = {.present = true, .paths = sl(paths, 1), .untracked = true};
	struct string_list u = sl(untracked, 3);
	struct string_list warnings = {0};
	struct err err = ERR_INIT;
	size_t count = 0;
	assert_int_equal(
	    artifacts_collect_dir_untracked(&spec, NULL, proj, &u, dest, &count, &warnings, &err),
	    0);
	_cleanup_free_ char *got = joined_tree(dest);
	assert_string_equal(got, "README.md build/app src/sub/deep/y.h");
	assert_int_equal(count, 3);
	assert_int_equal(warnings.n, 0);
	rm_rf(dest);

	/* untracked with no untracked files: a warning */
	dest = (free(dest), tmpdir_new());
	struct string_list none = {0};
	assert_int_equal(artifacts_collect_dir_untracked(&spec, NULL, proj, &none, dest, &count,
	                                                 &warnings, &err),
	                 0);
	assert_int_equal(warnings.n, 1);
	assert_string_equal(warnings.v[0], "untracked: no files");
	artifacts_warnings_release(&warnings);
	rm_rf(dest);
	rm_rf(proj);
}

/* ---- copies keep modes, symlinks, read-only dirs ---- */

static void check_special_tree(const char *d)
{
	struct stat st;
	_cleanup_free_ char *exe = xasprintf("%s/bin/tool", d);
	assert_int_equal(stat(exe, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0751);
	_cleanup_free_ char *ro = xasprintf("%s/ro", d);
	assert_int_equal(lstat(ro, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0555);
	_cleanup_free_ char *rof = xasprintf("%s/ro/file", d);
	assert_int_equal(stat(rof, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0444);
	_cleanup_free_ char *link = xasprintf("%s/bin/link", d);
	assert_int_equal(lstat(link, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	char target[64] = {0};
	assert_true(readlink(link, target, sizeof(target) - 1) > 0);
	assert_string_equal(target, "tool");
	_cleanup_free_ char *dangling = xasprintf("%s/dangling", d);
	assert_int_equal(lstat(dangling, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
}

static char *make_special_tree(void)
{
	char *d = tmpdir_new();
	put_file(d, "bin/tool", "#!/bin/sh\n", 0751);
	put_file(d, "ro/file", "read only\n", 0444);
	_cleanup_free_ char *link = xasprintf("%s/bin/link", d);
	assert_int_equal(symlink("tool", link), 0);
	_cleanup_free_ char *dangling = xasprintf("%s/dangling", d);
	assert_int_equal(symlink("does/not/exist", dangling), 0);
	_cleanup_free_ char *ro = xasprintf("%s/ro", d);
	chmod(ro, 0555);
	return d;
}

static void test_artifacts_copy_dir_keeps_modes(void **state)
{
	(void)state;
	_cleanup_free_ char *src = make_special_tree();
	_cleanup_free_ char *dest = tmpdir_new();
	_cleanup_free_ char *sub = xasprintf("%s/new/deeper", dest);
	struct err err = ERR_INIT;
	assert_int_equal(artifacts_copy_dir(src, sub, &err), 0);
	check_special_tree(sub);
	/* copying again over the read-only result works too */
	assert_int_equal(artifacts_copy_dir(src, sub, &err), 0);
	check_special_tree(sub);
	rm_rf(dest);
	rm_rf(src);
}

static void test_artifacts_copy_dir_errors(void **state)
{
	(void)state;
	struct err err = ERR_INIT;
	assert_int_equal(artifacts_copy_dir("/nonexistent/src", "/tmp/x", &err), -1);
	assert_non_null(strstr(err.msg, "/nonexistent/src"));
	err_release(&err);
}

/* ---- tar ---- */

/* Writes a Docker-style archive of a project "proj": top dir entry, files, a symlink, a
 * hardlink whose target is not selected, a read-only dir and a "../" escape attempt. */
static int make_docker_tar(void)
{
	char path[] = "/tmp/test-artifacts-tar-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	unlink(path);
	struct archive *w = archive_write_new();
	archive_write_set_format_pax_restricted(w);
	assert_int_equal(archive_write_open_fd(w, fd), ARCHIVE_OK);
	static const struct {
		const char *name;
		mode_t type, perm;
		const char *data, *link, *hardlink;
	} e[] = {
	    {"proj/", AE_IFDIR, 0755, NULL, NULL, NULL},
	    {"proj/out/", AE_IFDIR, 0555, NULL, NULL, NULL},
	    {"proj/out/a.txt", AE_IFREG, 0640, "alpha\n", NULL, NULL},
	    {"proj/out/run.sh", AE_IFREG, 0755, "#!/bin/sh\n", NULL, NULL},
	    {"proj/out/link", AE_IFLNK, 0777, NULL, "a.txt", NULL},
	    {"proj/other/big.bin", AE_IFREG, 0644, "shared content\n", NULL, NULL},
	    {"proj/out/hard.bin", AE_IFREG, 0644, NULL, NULL, "proj/other/big.bin"},
	    {"proj/out/hard2.bin", AE_IFREG, 0644, NULL, NULL, "proj/other/big.bin"},
	    {"proj/../evil", AE_IFREG, 0644, "x\n", NULL, NULL},
	    {"proj/src/main.c", AE_IFREG, 0644, "int main;\n", NULL, NULL},
	};
	for (size_t i = 0; i < sizeof(e) / sizeof(e[0]); i++) {
		struct archive_entry *ae = archive_entry_new();
		archive_entry_set_pathname(ae, e[i].name);
		archive_entry_set_filetype(ae, e[i].type);
		archive_entry_set_perm(ae, e[i].perm);
		archive_entry_set_mtime(ae, 1700000000, 0);
		if (e[i].link)
			archive_entry_set_symlink(ae, e[i].link);
		if (e[i].hardlink)
			archive_entry_set_hardlink(ae, e[i].hardlink);
		size_t len = e[i].data ? strlen(e[i].data) : 0;
		archive_entry_set_size(ae, (la_int64_t)len);
		assert_int_equal(archive_write_header(w, ae), ARCHIVE_OK);
		if (len)
			assert_int_equal(archive_write_data(w, e[i].data, len), (la_ssize_t)len);
		archive_entry_free(ae);
	}
	archive_write_close(w);
	archive_write_free(w);
	return fd;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	struct strbuf sb = STRBUF_INIT;
	char buf[512];
	size_t n;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		strbuf_add(&sb, buf, n);
	fclose(f);
	return strbuf_detach(&sb, NULL);
}

static void test_artifacts_collect_docker_tar(void **state)
{
	(void)state;
	int fd = make_docker_tar();
	_cleanup_free_ char *dest = tmpdir_new();
	const char *paths[] = {"out/", "/builds/proj/src/main.c", "missing"};
	const char *exclude[] = {"out/run.sh"};
	struct artifacts_spec spec = {
	    .present = true, .paths = sl(paths, 3), .exclude = sl(exclude, 1)};
	struct string_list warnings = {0};
	struct err err = ERR_INIT;
	size_t count = 0;
	if (artifacts_collect_tar(fd, &spec, NULL, "/builds/proj", NULL, dest, &count, &warnings,
	                          &err) != 0)
		fail_msg("%s", err.msg);
	_cleanup_free_ char *got = joined_tree(dest);
	assert_string_equal(got, "out/a.txt out/hard.bin out/hard2.bin out/link src/main.c");
	assert_int_equal(count, 5);
	assert_int_equal(warnings.n, 1);
	assert_non_null(strstr(warnings.v[0], "missing: no matching files"));
	/* the hardlinks got the content of their unselected target */
	_cleanup_free_ char *h1 = xasprintf("%s/out/hard.bin", dest);
	_cleanup_free_ char *h2 = xasprintf("%s/out/hard2.bin", dest);
	_cleanup_free_ char *c1 = slurp(h1);
	_cleanup_free_ char *c2 = slurp(h2);
	assert_string_equal(c1, "shared content\n");
	assert_string_equal(c2, "shared content\n");
	struct stat st;
	_cleanup_free_ char *out = xasprintf("%s/out", dest);
	assert_int_equal(stat(out, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0555);
	_cleanup_free_ char *a = xasprintf("%s/out/a.txt", dest);
	assert_int_equal(stat(a, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	assert_int_equal((long)st.st_mtime, 1700000000L);
	/* nothing escaped */
	_cleanup_free_ char *evil = xasprintf("%s/../evil", dest);
	assert_int_not_equal(access(evil, F_OK), 0);
	artifacts_warnings_release(&warnings);
	/* again into the same place: the read-only "out" must not get in the way */
	if (artifacts_collect_tar(fd, &spec, NULL, "/builds/proj", NULL, dest, &count, NULL,
	                          &err) != 0)
		fail_msg("second extraction: %s", err.msg);
	assert_int_equal(stat(out, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0555);
	close(fd);
	rm_rf(dest);
}

static void test_artifacts_tar_round_trip(void **state)
{
	(void)state;
	_cleanup_free_ char *src = make_special_tree();
	char path[] = "/tmp/test-artifacts-rt-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	unlink(path);
	struct err err = ERR_INIT;
	assert_int_equal(artifacts_tar_dir(src, fd, &err), 0);

	/* entries are relative and owned by root */
	lseek(fd, 0, SEEK_SET);
	struct archive *a = archive_read_new();
	archive_read_support_format_tar(a);
	assert_int_equal(archive_read_open_fd(a, fd, 4096), ARCHIVE_OK);
	struct archive_entry *e;
	struct strvec names = STRVEC_INIT;
	while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
		strvec_push(&names, archive_entry_pathname(e));
		assert_int_equal(archive_entry_uid(e), 0);
		assert_int_equal(archive_entry_gid(e), 0);
	}
	archive_read_free(a);
	assert_true(strvec_find(&names, "bin/tool") >= 0);
	assert_true(strvec_find(&names, "ro/file") >= 0);
	assert_true(strvec_find(&names, "bin/link") >= 0);
	assert_true(strvec_find(&names, "dangling") >= 0);
	strvec_release(&names);

	/* wrap it the way Docker names entries, by extracting through the docker path: put
	 * the tree under a top directory and collect everything back */
	_cleanup_free_ char *top = tmpdir_new();
	_cleanup_free_ char *proj = xasprintf("%s/proj", top);
	assert_int_equal(artifacts_copy_dir(src, proj, &err), 0);
	char p2[] = "/tmp/test-artifacts-rt2-XXXXXX";
	int fd2 = mkstemp(p2);
	unlink(p2);
	assert_int_equal(artifacts_tar_dir(top, fd2, &err), 0);
	_cleanup_free_ char *dest = tmpdir_new();
	const char *paths[] = {"."};
	struct artifacts_spec spec = {.present = true, .paths = sl(paths, 1)};
	size_t count = 0;
	assert_int_equal(
	    artifacts_collect_tar(fd2, &spec, NULL, "/builds/proj", NULL, dest, &count, NULL, &err),
	    0);
	check_special_tree(dest);
	assert_int_equal(count, 4);
	close(fd);
	close(fd2);
	rm_rf(dest);
	rm_rf(top);
	rm_rf(src);
}

static void test_artifacts_bad_tar(void **state)
{
	(void)state;
	char path[] = "/tmp/test-artifacts-bad-XXXXXX";
	int fd = mkstemp(path);
	unlink(path);
	assert_int_equal(write(fd, "this is not a tar archive at all", 32), 32);
	_cleanup_free_ char *dest = tmpdir_new();
	const char *paths[] = {"x"};
	struct artifacts_spec spec = {.present = true, .paths = sl(paths, 1)};
	struct err err = ERR_INIT;
	size_t count = 0;
	assert_int_equal(
	    artifacts_collect_tar(fd, &spec, NULL, "/p", NULL, dest, &count, NULL, &err), -1);
	assert_non_null(strstr(err.msg, "tar"));
	err_release(&err);
	close(fd);
	rm_rf(dest);
}

/* ---- sha1 and cache keys ---- */

static void test_sha1_vectors(void **state)
{
	(void)state;
	struct sha1_ctx c;
	unsigned char d[20];
	char hex[41];
	sha1_init(&c);
	sha1_update(&c, "abc", 3);
	sha1_final(&c, d);
	sha1_hex(d, hex);
	assert_string_equal(hex, "a9993e364706816aba3e25717850c26c9cd0d89d");
	sha1_init(&c);
	for (int i = 0; i < 1000; i++)
		sha1_update(&c, "a", 1);
	sha1_final(&c, d);
	sha1_hex(d, hex);
	assert_string_equal(hex, "291e9a6c66994949b57ba5e650361e98fc36b1ba");
}

static void test_cache_keys(void **state)
{
	(void)state;
	_cleanup_free_ char *proj = tmpdir_new();
	put_file(proj, "package-lock.json", "hello\n", 0644);
	put_file(proj, "Gemfile.lock", "", 0644);
	put_file(proj, "sub/dir/package-lock.json", "hello\n", 0644);
	char hex[41];
	_cleanup_free_ char *pl = xasprintf("%s/package-lock.json", proj);
	assert_int_equal(cache_git_blob_id(pl, hex), 0);
	assert_string_equal(hex, "ce013625030ba8dba906f756967f9e9ca394464a");

	struct var_list vars = {0};
	var_list_set_kv(NULL, &vars, "CI_COMMIT_REF_SLUG", "main");
	var_list_set_kv(NULL, &vars, "SLASHY", "a/b");
	struct err err = ERR_INIT;
	static const struct {
		const char *key;
		const char *files[2];
		const char *prefix;
		size_t index;
		const char *want; /* NULL: error */
	} cases[] = {
	    {NULL, {NULL}, NULL, 0, "default"},
	    {"", {NULL}, NULL, 0, "default"},
	    {"static", {NULL}, NULL, 0, "static"},
	    {"$CI_COMMIT_REF_SLUG-deps", {NULL}, NULL, 0, "main-deps"},
	    {"${UNSET}", {NULL}, NULL, 0, "default"},
	    {"$SLASHY", {NULL}, NULL, 0, NULL},
	    {"..", {NULL}, NULL, 0, NULL},
	    {"a%2Fb", {NULL}, NULL, 0, NULL},
	    {NULL, {"package-lock.json"}, NULL, 0, "0-126780f1d4ae55fc826963e2e5d7ba7916e8903f"},
	    {NULL,
	     {"package-lock.json"},
	     "npm-$CI_COMMIT_REF_SLUG",
	     0,
	     "npm-main-126780f1d4ae55fc826963e2e5d7ba7916e8903f"},
	    {NULL,
	     {"Gemfile.lock", "package-lock.json"},
	     NULL,
	     2,
	     "2-b7a9a04358a713b450e89c06fede85439b207aef"},
	    /* the same content twice counts once */
	    {NULL,
	     {"package-lock.json", "**/package-lock.json"},
	     "x",
	     0,
	     "x-126780f1d4ae55fc826963e2e5d7ba7916e8903f"},
	    {NULL, {"missing.lock"}, NULL, 1, "1-default"},
	    {NULL, {"missing.lock"}, "p", 1, "p-default"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cache_spec spec = {.key = cases[i].key, .key_prefix = cases[i].prefix};
		size_t nf = 0;
		while (nf < 2 && cases[i].files[nf])
			nf++;
		spec.key_files = sl((const char **)cases[i].files, nf);
		char *k = cache_key_compute(&spec, cases[i].index, &vars, proj, &err);
		if (!cases[i].want) {
			if (k)
				fail_msg("case %zu: want error, got '%s'", i, k);
			assert_int_equal(err.kind, ERR_CONFIG);
			err_release(&err);
			continue;
		}
		if (!k)
			fail_msg("case %zu: %s", i, err.msg);
		if (strcmp(k, cases[i].want) != 0)
			fail_msg("case %zu: got '%s', want '%s'", i, k, cases[i].want);
		free(k);
	}
	char *k = cache_key_compute(NULL, 0, NULL, proj, &err);
	assert_string_equal(k, "default");
	free(k);
	var_list_release(&vars);
	rm_rf(proj);
}

/* ---- dotenv ---- */

static int parse_dotenv(const char *text, struct var_list *out, struct err *err)
{
	char path[] = "/tmp/test-dotenv-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	size_t len = strlen(text);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
	int rc = dotenv_parse_file(path, out, err);
	unlink(path);
	return rc;
}

static void test_dotenv(void **state)
{
	(void)state;
	struct var_list v = {0};
	struct err err = ERR_INIT;
	assert_int_equal(parse_dotenv("\xEF\xBB\xBF"
	                              "A=1\n"
	                              "  SPACED  =  value with spaces  \r\n"
	                              "QUOTED=\"kept\"\n"
	                              "EQ=a=b=c\n"
	                              "EMPTY=\n"
	                              "A=2\n"
	                              "URL=https://x.example/?q=1",
	                              &v, &err),
	                 0);
	assert_int_equal(v.n, 6);
	assert_string_equal(var_list_value(&v, "A"), "2");
	assert_string_equal(var_list_value(&v, "SPACED"), "value with spaces");
	assert_string_equal(var_list_value(&v, "QUOTED"), "\"kept\"");
	assert_string_equal(var_list_value(&v, "EQ"), "a=b=c");
	assert_string_equal(var_list_value(&v, "EMPTY"), "");
	assert_string_equal(var_list_value(&v, "URL"), "https://x.example/?q=1");
	var_list_release(&v);

	static const struct {
		const char *text, *msg;
	} bad[] = {
	    {"A=1\n\nB=2\n", ":2: invalid dotenv line"},
	    {"# comment\nA=1\n", ":1: invalid dotenv line"},
	    {"A=1\nNOEQUALS\n", ":2: invalid dotenv line"},
	    {"BAD-KEY=1\n", ":1: invalid dotenv variable name 'BAD-KEY'"},
	    {"=value\n", ":1: invalid dotenv variable name ''"},
	    {"export A=1\n", "invalid dotenv variable name 'export A'"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct var_list out = {0};
		var_list_set_kv(NULL, &out, "KEEP", "x");
		assert_int_equal(parse_dotenv(bad[i].text, &out, &err), -1);
		if (!strstr(err.msg, bad[i].msg))
			fail_msg("'%s': message '%s' lacks '%s'", bad[i].text, err.msg, bad[i].msg);
		assert_int_equal(err.kind, ERR_JOB);
		/* nothing added on error */
		assert_int_equal(out.n, 1);
		err_release(&err);
		var_list_release(&out);
	}

	/* limits: 20 variables, < 5120 bytes */
	struct strbuf sb = STRBUF_INIT;
	for (int i = 0; i < 20; i++)
		strbuf_addf(&sb, "V%d=%d\n", i, i);
	assert_int_equal(parse_dotenv(sb.buf, &v, &err), 0);
	assert_int_equal(v.n, 20);
	var_list_release(&v);
	strbuf_addstr(&sb, "V20=x\n");
	assert_int_equal(parse_dotenv(sb.buf, &v, &err), -1);
	assert_non_null(strstr(err.msg, "more than 20 variables"));
	err_release(&err);
	strbuf_reset(&sb);
	strbuf_addstr(&sb, "BIG=");
	while (sb.len < 5119)
		strbuf_addch(&sb, 'x');
	assert_int_equal(parse_dotenv(sb.buf, &v, &err), 0); /* 5119 bytes: fine */
	var_list_release(&v);
	strbuf_addch(&sb, 'x');
	assert_int_equal(parse_dotenv(sb.buf, &v, &err), -1);
	assert_non_null(strstr(err.msg, "too big"));
	err_release(&err);
	strbuf_release(&sb);

	assert_int_equal(dotenv_parse_file("/nonexistent/.env", &v, &err), -1);
	assert_non_null(strstr(err.msg, "/nonexistent/.env"));
	err_release(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_glob_table),
	    cmocka_unit_test(test_artifacts_selection_table),
	    cmocka_unit_test(test_artifacts_untracked),
	    cmocka_unit_test(test_artifacts_copy_dir_keeps_modes),
	    cmocka_unit_test(test_artifacts_copy_dir_errors),
	    cmocka_unit_test(test_artifacts_collect_docker_tar),
	    cmocka_unit_test(test_artifacts_tar_round_trip),
	    cmocka_unit_test(test_artifacts_bad_tar),
	    cmocka_unit_test(test_sha1_vectors),
	    cmocka_unit_test(test_cache_keys),
	    cmocka_unit_test(test_dotenv),
	};
	return cmocka_run_group_tests(tests, 0, NULL);
}
