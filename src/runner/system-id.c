/* system-id: see system-id.h. The derivation is meant to follow gitlab-runner's state file
 * (commands/internal/configfile/system_id_state.go and its machine-id helper), so a host
 * switching from gitlab-runner keeps the identity GitLab lists even when .runner_system_id is
 * gone; an existing .runner_system_id (gitlab-runner's own file) is always used first. */
#include "runner/system-id.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/fsutil.h"
#include "util/sha256.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

#define ID_CHARS 12
#define STATE_FILE ".runner_system_id"

/* RFC 2104 HMAC with SHA-256 (block size 64). */
static void hmac_sha256(const void *key, size_t klen, const void *msg, size_t mlen,
                        unsigned char out[32])
{
	unsigned char k[64] = {0}, pad[64], inner[32];
	if (klen > sizeof(k))
		sha256(key, klen, k);
	else
		memcpy(k, key, klen);
	struct sha256_ctx c;
	for (size_t i = 0; i < 64; i++)
		pad[i] = k[i] ^ 0x36;
	sha256_init(&c);
	sha256_update(&c, pad, 64);
	sha256_update(&c, msg, mlen);
	sha256_final(&c, inner);
	for (size_t i = 0; i < 64; i++)
		pad[i] = k[i] ^ 0x5c;
	sha256_init(&c);
	sha256_update(&c, pad, 64);
	sha256_update(&c, inner, sizeof(inner));
	sha256_final(&c, out);
}

char *runner_system_id_from_machine_id(const char *machine_id)
{
	while (isspace((unsigned char)*machine_id))
		machine_id++;
	size_t n = strlen(machine_id);
	while (n && isspace((unsigned char)machine_id[n - 1]))
		n--;
	if (!n)
		return NULL;
	unsigned char mac[32];
	static const char app[] = "gitlab-runner";
	hmac_sha256(machine_id, n, app, sizeof(app) - 1, mac);
	struct strbuf sb = STRBUF_INIT;
	strbuf_addstr(&sb, "s_");
	for (size_t i = 0; i < ID_CHARS / 2; i++)
		strbuf_addf(&sb, "%02x", mac[i]);
	return strbuf_detach(&sb, NULL);
}

char *runner_system_id_random(void)
{
	static const char alnum[] =
	    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
	unsigned char rnd[ID_CHARS];
	size_t got = 0;
	while (got < sizeof(rnd)) {
		ssize_t r = getrandom(rnd + got, sizeof(rnd) - got, 0);
		if (r < 0 && errno == EINTR)
			continue;
		assert(r > 0); /* the kernel's CSPRNG does not fail once initialised */
		got += (size_t)r;
	}
	char *s = xmalloc(3 + ID_CHARS);
	s[0] = 'r';
	s[1] = '_';
	/* 62 does not divide 256: the bias of a plain modulo is harmless for an identifier */
	for (size_t i = 0; i < ID_CHARS; i++)
		s[2 + i] = alnum[rnd[i] % 62];
	s[2 + ID_CHARS] = 0;
	return s;
}

int runner_system_id_valid(const char *s)
{
	if ((s[0] != 's' && s[0] != 'r') || s[1] != '_' || strlen(s) != 2 + ID_CHARS)
		return 0;
	for (size_t i = 2; i < 2 + ID_CHARS; i++)
		if (!isalnum((unsigned char)s[i]))
			return 0;
	return 1;
}

static char *state_path(const char *config_path)
{
	const char *slash = strrchr(config_path, '/');
	if (!slash)
		return xstrdup(STATE_FILE);
	return xasprintf("%.*s/%s", (int)(slash - config_path), config_path, STATE_FILE);
}

static char *make_id(void)
{
	static const char *const sources[] = {"/etc/machine-id", "/var/lib/dbus/machine-id"};
	for (size_t i = 0; i < sizeof(sources) / sizeof(sources[0]); i++) {
		_cleanup_(strbuf_release) struct strbuf sb = STRBUF_INIT;
		if (fs_read_file(sources[i], 0, 4096, &sb) != 0)
			continue;
		char *id = runner_system_id_from_machine_id(sb.buf);
		if (id)
			return id;
	}
	return runner_system_id_random();
}

char *runner_system_id_load(const char *config_path, int *ret_saved, struct err *err)
{
	_cleanup_free_ char *path = state_path(config_path);
	_cleanup_(strbuf_release) struct strbuf sb = STRBUF_INIT;
	if (fs_read_file(path, 0, 4096, &sb) == 0) {
		strbuf_rtrim(&sb);
		if (runner_system_id_valid(sb.buf)) {
			*ret_saved = 1;
			return strbuf_detach(&sb, NULL);
		}
	} else if (errno != ENOENT) {
		err_sys(err, errno, "cannot read '%s'", path);
		return NULL;
	}
	char *id = make_id();
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	int saved = 0;
	if (fd >= 0) {
		size_t n = strlen(id);
		saved = write(fd, id, n) == (ssize_t)n;
		saved = (close(fd) == 0) && saved;
	}
	*ret_saved = saved;
	return id;
}
