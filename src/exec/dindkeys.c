/* dindkeys: TLS DinD private keys kept between runs (see dindkeys.h). */
#include "exec/dindkeys.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "docker/client.h"
#include "exec/archive-dl.h"
#include "util/cleanup.h"
#include "util/fsutil.h"
#include "util/log.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

/* The keys the entrypoint keeps when present, by their folder under DOCKER_TLS_CERTDIR. */
static const char *const key_dirs[] = {"ca", "server", "client"};
#define N_KEYS (sizeof(key_dirs) / sizeof(key_dirs[0]))
#define MAX_KEY_SIZE (64 * 1024) /* a PEM RSA key is ~3 KiB; anything larger is not one */

char *dindkeys_dir(void)
{
	const char *cache = getenv("XDG_CACHE_HOME");
	if (cache && *cache)
		return xasprintf("%s/runnel/dind-tls", cache);
	const char *home = getenv("HOME");
	return home && *home ? xasprintf("%s/.cache/runnel/dind-tls", home) : NULL;
}

static char *cached_key_path(const char *dir, const char *which)
{
	return xasprintf("%s/%s-key.pem", dir, which);
}

/* Reads a cached key (owned) or NULL. */
static char *read_key(const char *path, size_t *ret_len)
{
	struct strbuf sb = STRBUF_INIT;
	if (fs_read_file(path, 0, MAX_KEY_SIZE, &sb) < 0 || sb.len == 0 || sb.len > MAX_KEY_SIZE) {
		strbuf_release(&sb);
		return NULL;
	}
	*ret_len = sb.len;
	return strbuf_detach(&sb, NULL);
}

static void add_entry(struct archive *a, const char *path, unsigned mode, const char *data,
                      size_t len)
{
	struct archive_entry *e = archive_entry_new();
	archive_entry_set_pathname(e, path);
	archive_entry_set_filetype(e, data ? AE_IFREG : AE_IFDIR);
	archive_entry_set_perm(e, mode);
	archive_entry_set_size(e, data ? (la_int64_t)len : 0);
	archive_write_header(a, e);
	if (data)
		archive_write_data(a, data, len);
	archive_entry_free(e);
}

void dindkeys_seed(struct docker_client *c, const char *container_id, const char *certdir)
{
	_cleanup_free_ char *dir = dindkeys_dir();
	char *keys[N_KEYS] = {NULL};
	size_t lens[N_KEYS] = {0};
	bool complete = dir != NULL;
	for (size_t i = 0; complete && i < N_KEYS; i++) {
		_cleanup_free_ char *p = cached_key_path(dir, key_dirs[i]);
		keys[i] = read_key(p, &lens[i]);
		complete = keys[i] != NULL;
	}
	struct err err = ERR_INIT;
	if (complete && exec_archive_load(&err) == 0) {
		/* the archive is extracted at certdir: "ca/key.pem", ... */
		struct archive *a = archive_write_new();
		archive_write_set_format_ustar(a);
		size_t cap = 4 * 1024 + N_KEYS * (MAX_KEY_SIZE + 1024), used = 0;
		_cleanup_free_ char *buf = xmalloc(cap);
		archive_write_open_memory(a, buf, cap, &used);
		for (size_t i = 0; i < N_KEYS; i++) {
			_cleanup_free_ char *f = xasprintf("%s/key.pem", key_dirs[i]);
			add_entry(a, key_dirs[i], 0755, NULL, 0);
			/* the entrypoint makes the client key world-readable for non-root jobs */
			add_entry(a, f, i == 2 ? 0644 : 0600, keys[i], lens[i]);
		}
		archive_write_close(a);
		archive_write_free(a);
		if (docker_container_put_archive(c, container_id, certdir, buf, used, &err) < 0)
			log_debug("dind keys: %s", err.msg);
	}
	err_release(&err);
	for (size_t i = 0; i < N_KEYS; i++)
		free(keys[i]);
}

/* GET <certdir>/<which>/key.pem as a tar into a temporary file, then its one entry to dst. */
static int fetch_key(struct docker_client *c, const char *id, const char *certdir,
                     const char *which, const char *dst)
{
	_cleanup_free_ char *src = xasprintf("%s/%s/key.pem", certdir, which);
	_cleanup_free_ char *tmp_tar = xasprintf("%s.tar.%ld", dst, (long)getpid());
	_cleanup_free_ char *tmp_key = xasprintf("%s.%ld", dst, (long)getpid());
	int fd = open(tmp_tar, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	struct err err = ERR_INIT;
	int r = docker_container_get_archive(c, id, src, fd, &err);
	if (r < 0) {
		log_debug("dind keys: %s", err.msg);
		err_release(&err);
	}
	if (r == 0 && lseek(fd, 0, SEEK_SET) == 0) {
		r = -1;
		struct archive *a = archive_read_new();
		archive_read_support_format_tar(a);
		struct archive_entry *e;
		_cleanup_close_ int out =
		    open(tmp_key, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (out >= 0 && archive_read_open_fd(a, fd, 16384) == ARCHIVE_OK &&
		    archive_read_next_header(a, &e) == ARCHIVE_OK && archive_entry_size(e) > 0 &&
		    archive_entry_size(e) <= MAX_KEY_SIZE &&
		    archive_read_data_into_fd(a, out) == ARCHIVE_OK)
			r = 0;
		archive_read_free(a);
	}
	close(fd);
	unlink(tmp_tar);
	/* rename: a concurrent run never reads half a key */
	if (r == 0 && rename(tmp_key, dst) < 0)
		r = -1;
	if (r < 0)
		unlink(tmp_key);
	return r;
}

void dindkeys_harvest(struct docker_client *c, const char *container_id, const char *certdir)
{
	_cleanup_free_ char *dir = dindkeys_dir();
	if (!dir)
		return;
	bool missing = false;
	for (size_t i = 0; i < N_KEYS && !missing; i++) {
		_cleanup_free_ char *p = cached_key_path(dir, key_dirs[i]);
		missing = access(p, R_OK) < 0;
	}
	struct err err = ERR_INIT;
	if (!missing || fs_mkdir_p(dir, &err) < 0 || chmod(dir, 0700) < 0 ||
	    exec_archive_load(&err) < 0) {
		err_release(&err);
		return;
	}
	for (size_t i = 0; i < N_KEYS; i++) {
		_cleanup_free_ char *p = cached_key_path(dir, key_dirs[i]);
		if (fetch_key(c, container_id, certdir, key_dirs[i], p) < 0) {
			log_debug("dind keys: cannot keep the %s key", key_dirs[i]);
			return;
		}
	}
}
