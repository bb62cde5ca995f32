/* Fuzz target: the client's HTTP/1.1 answer reader (src/docker/parse.h): the head parser, the
 * header lookup and the incremental body decoder (Content-Length, chunked with extensions and
 * trailers, close-delimited). The first byte picks the size of the pieces the rest is fed in,
 * as reads return them; the decoded payload must be the same as when it is fed at once, and
 * never longer than the input. A second answer may follow the first (keep-alive). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "docker/parse.h"
#include "util/strbuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int collect(void *ud, const char *p, size_t n)
{
	struct strbuf *sb = ud;
	if (!n)
		abort(); /* empty pieces are never delivered */
	strbuf_add(sb, p, n);
	return 0;
}

/* Decodes body[0..len) in pieces of `step` (0 = at once). Returns the bytes consumed or -1. */
static long decode(const struct docker_http_head *h, const char *body, size_t len, size_t step,
                   struct strbuf *out, bool *ret_done)
{
	struct docker_http_body b;
	docker_http_body_init(&b, h, false);
	size_t off = 0;
	while (off < len && !b.done) {
		size_t n = step && len - off > step ? step : len - off;
		long r = docker_http_body_feed(&b, body + off, n, collect, out);
		if (r < 0)
			return -1;
		if ((size_t)r > n || ((size_t)r < n && !b.done))
			abort(); /* consumed more than given, or stopped early without cause */
		off += (size_t)r;
	}
	*ret_done = b.done;
	return (long)off;
}

/* One answer at s[0..size): returns the bytes it took, or 0 when it is incomplete or bad. */
static size_t one_answer(const char *s, size_t size, size_t step)
{
	struct docker_http_head h;
	long hl = docker_http_head_parse(s, size, &h);
	if (hl > (long)size)
		abort();
	if (hl <= 0)
		return 0;
	size_t vl = 0;
	const char *v = docker_http_head_value(s, (size_t)hl, "API-Version", &vl);
	if (v && (v < s || v + vl > s + hl))
		abort();
	struct strbuf whole = STRBUF_INIT, pieces = STRBUF_INIT;
	bool done_whole = false, done_pieces = false;
	long a = decode(&h, s + hl, size - (size_t)hl, 0, &whole, &done_whole);
	long b = decode(&h, s + hl, size - (size_t)hl, step, &pieces, &done_pieces);
	/* splitting never changes the outcome */
	if ((a < 0) != (b < 0) || (a >= 0 && (a != b || done_whole != done_pieces)))
		abort();
	if (a >= 0 && (whole.len != pieces.len || memcmp(whole.buf, pieces.buf, whole.len)))
		abort();
	if (whole.len > size)
		abort();
	strbuf_release(&whole);
	strbuf_release(&pieces);
	return a >= 0 && done_whole ? (size_t)hl + (size_t)a : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	size_t step = data[0] % 17;
	const char *s = (const char *)data + 1;
	size--;
	size_t used = one_answer(s, size, step);
	if (used && used < size)
		one_answer(s + used, size - used, step);
	return 0;
}
