/* Tests for util/fsutil: fs_rmtree (nested trees, unreadable directories, symlinks not
 * followed, missing paths), fs_mkdir_p and fs_mkdir_p_mode. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/err.h"
#include "util/fsutil.h"

static void touch(const char *path)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("x", f);
	fclose(f);
}

static void test_mkdir_p_and_rmtree(void **state)
{
	char base[] = "/tmp/runnel-fsutil-XXXXXX";
	assert_non_null(mkdtemp(base));
	char p[256], outside[256], link[256];
	struct err err = ERR_INIT;

	snprintf(p, sizeof(p), "%s/a/b/c", base);
	assert_int_equal(fs_mkdir_p(p, &err), 0);
	assert_int_equal(fs_mkdir_p(p, &err), 0); /* existing: fine */
	struct stat st;
	assert_int_equal(stat(p, &st), 0);
	assert_true(S_ISDIR(st.st_mode));

	snprintf(p, sizeof(p), "%s/a/b/c/file", base);
	touch(p);
	/* a directory nobody may read or enter (like overlayfs work/work) */
	snprintf(p, sizeof(p), "%s/a/locked", base);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/a/locked/inner", base);
	touch(p);
	snprintf(p, sizeof(p), "%s/a/locked", base);
	assert_int_equal(chmod(p, 0), 0);
	/* a symlink to a file outside the tree: the link goes, the target stays */
	snprintf(outside, sizeof(outside), "%s-outside", base);
	touch(outside);
	snprintf(link, sizeof(link), "%s/a/link", base);
	assert_int_equal(symlink(outside, link), 0);

	snprintf(p, sizeof(p), "%s/a", base);
	assert_int_equal(fs_rmtree(p, &err), 0);
	assert_int_equal(access(p, F_OK), -1);
	assert_int_equal(access(outside, F_OK), 0);

	/* missing path: not an error; a plain file: removed */
	assert_int_equal(fs_rmtree(p, &err), 0);
	assert_int_equal(fs_rmtree(outside, &err), 0);
	assert_int_equal(access(outside, F_OK), -1);
	assert_int_equal(fs_rmtree(base, &err), 0);
	assert_int_equal(access(base, F_OK), -1);
}

static void test_mkdir_p_error(void **state)
{
	struct err err = ERR_INIT;
	char base[] = "/tmp/runnel-fsutil-XXXXXX";
	assert_non_null(mkdtemp(base));
	char file[256], under[300];
	snprintf(file, sizeof(file), "%s/file", base);
	touch(file);
	snprintf(under, sizeof(under), "%s/sub", file);
	assert_int_equal(fs_mkdir_p(under, &err), -1);
	assert_non_null(strstr(err.msg, "cannot create"));
	err_release(&err);
	assert_int_equal(fs_rmtree(base, &err), 0);
}

/* fs_mkdir_p_mode: every created level gets the mode (less the umask), an existing directory
 * keeps its own, and the error names the directory that could not be created. */
static void test_mkdir_p_mode(void **state)
{
	(void)state;
	struct err err = ERR_INIT;
	char base[] = "/tmp/runnel-fsutil-XXXXXX";
	assert_non_null(mkdtemp(base));
	mode_t old = umask(022);
	char p[300], q[300];
	struct stat st;
	snprintf(p, sizeof(p), "%s/a", base);
	snprintf(q, sizeof(q), "%s/a/b", base);
	assert_int_equal(fs_mkdir_p_mode(q, 0700, &err), 0);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	assert_int_equal(stat(q, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	/* the umask applies, as for mkdir(2) */
	snprintf(p, sizeof(p), "%s/c", base);
	assert_int_equal(fs_mkdir_p_mode(p, 0777, &err), 0);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0755);
	/* existing: left as it is */
	assert_int_equal(fs_mkdir_p_mode(p, 0700, &err), 0);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0755);
	/* fs_mkdir_p is mode 0755 */
	snprintf(p, sizeof(p), "%s/d/e", base);
	assert_int_equal(fs_mkdir_p(p, &err), 0);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0755);
	/* below a plain file: the error names the level that failed */
	snprintf(p, sizeof(p), "%s/file", base);
	touch(p);
	snprintf(q, sizeof(q), "%s/file/sub/deeper", base);
	assert_int_equal(fs_mkdir_p_mode(q, 0700, &err), -1);
	snprintf(q, sizeof(q), "cannot create directory '%s/file/sub'", base);
	assert_non_null(strstr(err.msg, q));
	assert_int_equal(err.sys_errno, ENOTDIR);
	err_release(&err);
	umask(old);
	assert_int_equal(fs_rmtree(base, &err), 0);
}

/* fs_read_file: whole files, at most max + 1 bytes of a bigger one, and which step failed. */
static void test_read_file(void **state)
{
	(void)state;
	char base[] = "/tmp/runnel-fsutil-XXXXXX";
	assert_non_null(mkdtemp(base));
	char path[128], link[128];
	snprintf(path, sizeof(path), "%s/f", base);
	snprintf(link, sizeof(link), "%s/l", base);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	for (int i = 0; i < 100000; i++)
		fputc('a' + i % 26, f);
	fclose(f);
	assert_int_equal(symlink(path, link), 0);

	struct strbuf sb = STRBUF_INIT;
	strbuf_addstr(&sb, "kept:");
	assert_int_equal(fs_read_file(path, 0, SIZE_MAX, &sb), 0);
	assert_int_equal(sb.len, 5 + 100000);
	assert_memory_equal(sb.buf, "kept:abc", 8);
	strbuf_reset(&sb);
	assert_int_equal(fs_read_file(path, 0, 70000, &sb), 0);
	assert_int_equal(sb.len, 70001); /* over max shows, without reading the rest */
	strbuf_reset(&sb);
	assert_int_equal(fs_read_file(path, 0, 100000, &sb), 0);
	assert_int_equal(sb.len, 100000);
	strbuf_reset(&sb);
	assert_int_equal(fs_read_file(link, 0, SIZE_MAX, &sb), 0);
	assert_int_equal(sb.len, 100000);
	strbuf_reset(&sb);
	assert_int_equal(fs_read_file(link, O_NOFOLLOW, SIZE_MAX, &sb), -1);
	assert_int_equal(errno, ELOOP);
	snprintf(link, sizeof(link), "%s/missing", base);
	assert_int_equal(fs_read_file(link, 0, SIZE_MAX, &sb), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(fs_read_file(base, 0, SIZE_MAX, &sb), -2);
	assert_int_equal(errno, EISDIR);
	strbuf_release(&sb);
	struct err err = ERR_INIT;
	assert_int_equal(fs_rmtree(base, &err), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_mkdir_p_and_rmtree),
	    cmocka_unit_test(test_mkdir_p_error),
	    cmocka_unit_test(test_mkdir_p_mode),
	    cmocka_unit_test(test_read_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
