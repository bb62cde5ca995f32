/* cache: fetched includes on disk, and the integrity digests that pin them (see cache.h). */
#include "fetch/cache.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fetch/addr.h"
#include "util/base64.h"
#include "util/cleanup.h"
#include "util/fsutil.h"
#include "util/sha256.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

char *fetch_cache_root(void)
{
	const char *xdg = getenv("XDG_CACHE_HOME");
	if (xdg && *xdg == '/')
		return xasprintf("%s/runnel/includes", xdg);
	const char *home = getenv("HOME");
	if (home && *home)
		return xasprintf("%s/.cache/runnel/includes", home);
	return NULL;
}

/* ROOT/KIND/<host>[_<port>]/<hex SHA-256 of the parts, `\n`-separated, NULLs skipped>.yml */
static char *cache_path(const char *root, const char *kind, const struct fetch_url *u,
                        const char *const *parts, size_t n)
{
	struct sha256_ctx c;
	unsigned char d[32];
	sha256_init(&c);
	for (size_t i = 0; i < n; i++) {
		if (!parts[i])
			continue;
		if (i)
			sha256_update(&c, "\n", 1);
		sha256_update(&c, parts[i], strlen(parts[i]));
	}
	sha256_final(&c, d);
	char hex[65];
	for (size_t i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", d[i]);
	/* the host is checked by fetch_url_parse (no `/`; `..` alone is harmless: a name) */
	if (u->explicit_port)
		return xasprintf("%s/%s/%s_%d/%s.yml", root, kind, u->host, u->port, hex);
	return xasprintf("%s/%s/%s/%s.yml", root, kind, u->host, hex);
}

char *fetch_cache_remote_path(const char *root, const struct fetch_url *u, const char *url,
                              const char *integrity)
{
	const char *parts[] = {url, integrity};
	return cache_path(root, "remote", u, parts, 2);
}

char *fetch_cache_project_path(const char *root, const struct fetch_url *u, const char *project,
                               const char *file, const char *ref)
{
	const char *parts[] = {project, file, ref ? ref : ""};
	return cache_path(root, "project", u, parts, 3);
}

bool fetch_cache_get(const char *path, size_t max, struct strbuf *sb, time_t *ret_mtime)
{
	struct stat st;
	if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
		return false;
	if (fs_read_file(path, O_NOFOLLOW, max, sb) < 0) {
		strbuf_reset(sb);
		return false;
	}
	*ret_mtime = st.st_mtime;
	return true;
}

int fetch_cache_put(const char *path, const char *body, size_t len, struct err *err)
{
	_cleanup_free_ char *dir = xstrdup(path);
	char *slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	if (slash && fs_mkdir_p(dir, err) < 0)
		return -1;
	_cleanup_free_ char *tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return err_sys(err, errno, "cannot write '%s'", tmp);
	size_t off = 0;
	while (off < len) {
		ssize_t w = write(fd, body + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			int e = errno;
			close(fd);
			unlink(tmp);
			return err_sys(err, e, "cannot write '%s'", tmp);
		}
		off += (size_t)w;
	}
	if (close(fd) < 0 || rename(tmp, path) < 0) {
		int e = errno;
		unlink(tmp);
		return err_sys(err, e, "cannot write '%s'", path);
	}
	return 0;
}

/* ---- integrity ---- */

bool fetch_integrity_valid(const char *s)
{
	if (strncmp(s, "sha256-", 7) != 0 || strlen(s + 7) != 44 || s[7 + 43] != '=')
		return false;
	for (size_t i = 0; i < 43; i++)
		if (!base64_is_char((unsigned char)s[7 + i]))
			return false;
	return true;
}

void fetch_integrity_of(const char *data, size_t len, char out[52])
{
	unsigned char d[32];
	sha256(data, len, d);
	struct strbuf sb = STRBUF_INIT;
	base64_encode(d, 32, &sb);
	assert(sb.len == 44);
	memcpy(out, "sha256-", 7);
	memcpy(out + 7, sb.buf, 45);
	strbuf_release(&sb);
}
