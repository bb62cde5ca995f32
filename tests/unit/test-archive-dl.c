/* Unit tests for exec/archive-dl.c: libarchive is not mapped until exec_archive_load() (the
 * point of loading it lazily), the load is idempotent, and the forwarders reach the real
 * library: a tar written to memory through them reads back entry by entry. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "exec/archive-dl.h"
#include "util/err.h"

/* Whether a libarchive shared object is mapped into this process. */
static bool libarchive_mapped(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	assert_non_null(f);
	char line[4096];
	bool found = false;
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, "/libarchive.so") != NULL;
	fclose(f);
	return found;
}

/* Runs first (cmocka keeps the order): nothing has loaded libarchive yet. */
static void test_not_mapped_before_load(void **state)
{
	(void)state;
	assert_false(libarchive_mapped());
	struct err err = ERR_INIT;
	assert_int_equal(exec_archive_load(&err), 0);
	assert_false(err_is_set(&err));
	assert_true(libarchive_mapped());
}

static void test_load_is_idempotent(void **state)
{
	(void)state;
	struct err err = ERR_INIT;
	for (int i = 0; i < 3; i++)
		assert_int_equal(exec_archive_load(&err), 0);
	assert_false(err_is_set(&err));
	/* a NULL err is accepted (services-wait.c's certificate copy has none) */
	assert_int_equal(exec_archive_load(NULL), 0);
}

/* Writes one directory and one file entry to a memory tar; returns its length. */
static size_t write_tar(char *buf, size_t cap, const char *content)
{
	size_t used = 0;
	struct archive *w = archive_write_new();
	assert_non_null(w);
	assert_int_equal(archive_write_set_format_ustar(w), ARCHIVE_OK);
	assert_int_equal(archive_write_set_bytes_in_last_block(w, 1), ARCHIVE_OK);
	assert_int_equal(archive_write_open_memory(w, buf, cap, &used), ARCHIVE_OK);
	struct archive_entry *e = archive_entry_new();
	archive_entry_set_pathname(e, "dir");
	archive_entry_set_filetype(e, AE_IFDIR);
	archive_entry_set_perm(e, 0750);
	assert_int_equal(archive_write_header(w, e), ARCHIVE_OK);
	archive_entry_free(e);
	e = archive_entry_new();
	archive_entry_set_pathname(e, "dir/file.txt");
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0640);
	archive_entry_set_uid(e, 1234);
	archive_entry_set_size(e, (la_int64_t)strlen(content));
	assert_int_equal(archive_write_header(w, e), ARCHIVE_OK);
	assert_int_equal(archive_write_data(w, content, strlen(content)),
	                 (la_ssize_t)strlen(content));
	archive_entry_free(e);
	assert_int_equal(archive_write_close(w), ARCHIVE_OK);
	assert_int_equal(archive_write_free(w), ARCHIVE_OK);
	return used;
}

static void test_forwarders_round_trip(void **state)
{
	(void)state;
	static char buf[16384];
	const char *content = "hello through dlopen\n";
	size_t len = write_tar(buf, sizeof(buf), content);
	/* ustar: two 512-byte headers, one data block, two zero blocks */
	assert_int_equal(len, 5 * 512);

	/* read it back from a file: archive_read_open_fd and friends are forwarders too */
	char path[] = "/tmp/test-archive-dl-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	unlink(path);
	assert_int_equal(write(fd, buf, len), (ssize_t)len);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	struct archive *r = archive_read_new();
	assert_int_equal(archive_read_support_format_tar(r), ARCHIVE_OK);
	assert_int_equal(archive_read_open_fd(r, fd, 4096), ARCHIVE_OK);
	struct archive_entry *e;
	assert_int_equal(archive_read_next_header(r, &e), ARCHIVE_OK);
	assert_string_equal(archive_entry_pathname(e), "dir/");
	assert_int_equal(archive_entry_filetype(e), AE_IFDIR);
	assert_int_equal(archive_read_next_header(r, &e), ARCHIVE_OK);
	assert_string_equal(archive_entry_pathname(e), "dir/file.txt");
	assert_int_equal(archive_entry_filetype(e), AE_IFREG);
	assert_int_equal(archive_entry_size(e), (la_int64_t)strlen(content));
	assert_int_equal(archive_entry_uid(e), 1234);
	assert_null(archive_entry_hardlink(e));
	const void *data;
	size_t size;
	la_int64_t off;
	assert_int_equal(archive_read_data_block(r, &data, &size, &off), ARCHIVE_OK);
	assert_int_equal(size, strlen(content));
	assert_memory_equal(data, content, size);
	assert_int_equal(archive_read_next_header(r, &e), ARCHIVE_EOF);
	assert_int_equal(archive_read_free(r), ARCHIVE_OK);
	close(fd);
}

/* The error path of a forwarder: libarchive's own message comes back through the table. */
static void test_forwarded_error_string(void **state)
{
	(void)state;
	struct archive *r = archive_read_new();
	archive_read_support_format_tar(r);
	assert_int_not_equal(archive_read_open_filename(r, "/nonexistent/runnel.tar", 4096),
	                     ARCHIVE_OK);
	const char *msg = archive_error_string(r);
	assert_non_null(msg);
	assert_non_null(strstr(msg, "/nonexistent/runnel.tar"));
	archive_read_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_not_mapped_before_load),
	    cmocka_unit_test(test_load_is_idempotent),
	    cmocka_unit_test(test_forwarders_round_trip),
	    cmocka_unit_test(test_forwarded_error_string),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
