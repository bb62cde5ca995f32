/* Fuzz target: everything the Docker client reads from the daemon, through the pure parsers of
 * src/docker/parse.h. Each input goes to every parser: JSON answers (error messages, create,
 * wait, inspect state, id lists), the pull progress stream (split into lines), HTTP heads and
 * chunked bodies of hijacked connections, the frame demultiplexer (fed in pieces whose size
 * the first byte picks) and the DOCKER_HOST / image reference / API version strings. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "docker/parse.h"
#include "util/strbuf.h"
#include "util/strvec.h"
#include "util/xalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void sink(void *ud, int stream, const char *p, size_t n)
{
	size_t *total = ud;
	if (stream != 1 && stream != 2)
		abort();
	/* touch both ends so that ASan checks the range */
	volatile char first = n ? p[0] : 0, last = n ? p[n - 1] : 0;
	(void)first, (void)last;
	*total += n;
}

static int line_cb(void *ud, const char *line, size_t len)
{
	struct strbuf text = STRBUF_INIT;
	char *e = NULL;
	if (docker_progress_line(line, len, &text, &e) == 1) {
		if (!e)
			abort();
		free(e);
	}
	strbuf_release(&text);
	(*(size_t *)ud)++;
	return 0;
}

static void fuzz_demux(const char *s, size_t size)
{
	if (size == 0)
		return;
	size_t piece = (size_t)(unsigned char)s[0] % 17 + 1;
	struct docker_demux d;
	docker_demux_init(&d, (unsigned char)s[0] == 0xff);
	size_t total = 0;
	struct err err = ERR_INIT;
	for (size_t off = 1; off < size; off += piece) {
		size_t n = off + piece > size ? size - off : piece;
		if (docker_demux_feed(&d, s + off, n, sink, &total, &err) < 0) {
			err_release(&err);
			return;
		}
	}
	if (total != d.bytes[1] + d.bytes[2])
		abort();
	(void)docker_demux_partial(&d);
}

static void fuzz_http(const char *s, size_t size)
{
	struct docker_http_head h;
	long hl = docker_http_head_parse(s, size, &h);
	if (hl > (long)size)
		abort();
	struct strbuf body = STRBUF_INIT;
	size_t off = hl > 0 ? (size_t)hl : 0;
	(void)docker_dechunk(s + off, size - off, &body);
	if (body.len > size)
		abort();
	strbuf_release(&body);
}

static void fuzz_json(const char *s, size_t size)
{
	free(docker_error_message(s, size));
	free(docker_json_id(s, size));
	int code;
	char *msg = NULL;
	if (docker_parse_wait(s, size, &code, &msg) == 0)
		free(msg);
	json_t *j = json_loadb(s, size, 0, NULL);
	if (!j)
		return;
	struct docker_state st;
	if (docker_parse_state(j, &st) == 0)
		docker_state_release(&st);
	const char *kinds[] = {"containers", "networks", "volumes"};
	for (size_t i = 0; i < 3; i++) {
		struct strvec ids = STRVEC_INIT;
		(void)docker_parse_id_list(j, kinds[i], &ids);
		strvec_release(&ids);
	}
	json_decref(j);
}

static void fuzz_strings(const char *s, size_t size)
{
	char *z = xstrndup(s, size); /* up to the first NUL */
	struct docker_host h;
	struct err err = ERR_INIT;
	if (docker_host_parse(z, 2375, &h, &err) == 0)
		docker_host_release(&h);
	err_release(&err);
	char *repo = NULL, *tag = NULL;
	if (docker_image_ref_split(z, &repo, &tag, &err) == 0) {
		free(repo);
		free(tag);
	}
	err_release(&err);
	(void)docker_api_version_parse(z);
	free(z);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	fuzz_json(s, size);
	struct strbuf pending = STRBUF_INIT;
	size_t lines = 0;
	(void)docker_lines_feed(&pending, s, size, line_cb, &lines);
	strbuf_release(&pending);
	fuzz_http(s, size);
	fuzz_demux(s, size);
	fuzz_strings(s, size);
	return 0;
}
