/* HTTP/1.1 over a struct dk_conn: the request path every non-hijacked call goes through
 * (dk_perform), and the answer reader the hijacked streams share. The client keeps one
 * connection alive between requests, as the docker CLI does; a connection the daemon closed
 * while idle is noticed before use, and a request that met such a close before any answer byte
 * is sent again once on a fresh connection (unless its body streamed from a file descriptor).
 * Requests carry Content-Length, or a chunked body for uploads of unknown length; answers may be
 * Content-Length, chunked or close-delimited, decoded as they arrive by docker_http_body. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "docker/internal.h"
#include "util/cleanup.h"
#include "util/xalloc.h"

#define BODY_MAX (64L * 1024 * 1024)
#define UPLOAD_CHUNK 65536

/* ---- reading answers ---- */

static void consume(struct strbuf *in, size_t n)
{
	if (n >= in->len) {
		strbuf_setlen(in, 0);
		return;
	}
	memmove(in->buf, in->buf + n, in->len - n);
	strbuf_setlen(in, in->len - n);
}

int dk_xfer_error(struct dk_xfer *x, enum dk_io io, struct err *err)
{
	const char *ep = x->c->endpoint;
	switch (io) {
	case DK_IO_CANCEL:
		return err_set(err, ERR_JOB, "canceled");
	case DK_IO_TIMEOUT:
		return err_set(err, ERR_ENV,
		               "%s at %s: connection to the daemon failed: no answer within %ld ms",
		               x->what, ep, x->timeout_ms);
	case DK_IO_EOF:
		return err_set(err, ERR_ENV, "%s at %s: connection to the daemon failed: %s",
		               x->what, ep,
		               x->got_bytes ? "connection closed in the middle of the answer"
		                            : "connection closed before the answer");
	default:
		return err_set(err, ERR_ENV, "%s at %s: connection to the daemon failed: %s",
		               x->what, ep, x->cn->detail[0] ? x->cn->detail : "unknown error");
	}
}

static int malformed(struct dk_xfer *x, const char *part, struct err *err)
{
	return err_set(err, ERR_ENV, "%s at %s: connection to the daemon failed: malformed %s",
	               x->what, x->c->endpoint, part);
}

/* The two headers the client reads besides the framing ones. */
static void head_fields(struct dk_resp *rs, const char *head, size_t len)
{
	size_t vl = 0;
	const char *v = docker_http_head_value(head, len, "API-Version", &vl);
	if (v) {
		free(rs->api_version);
		rs->api_version = xstrndup(v, vl);
	}
	if (docker_http_head_value(head, len, "Libpod-API-Version", &vl))
		rs->libpod = true;
}

int dk_read_head(struct dk_xfer *x, struct docker_http_head *ret, struct dk_resp *rs,
                 struct err *err)
{
	struct strbuf *in = &x->cn->in;
	for (;;) {
		struct docker_http_head h;
		long hl = docker_http_head_parse(in->buf, in->len, &h);
		if (hl < 0)
			return malformed(x, "answer", err);
		if (hl > 0 && h.status >= 100 && h.status < 200 && h.status != 101) {
			consume(in, (size_t)hl); /* 100 Continue and the like: the answer follows */
			continue;
		}
		if (hl > 0) {
			if (rs)
				head_fields(rs, in->buf, (size_t)hl);
			consume(in, (size_t)hl);
			*ret = h;
			return 0;
		}
		enum dk_io io = dk_conn_fill(x->cn, x->deadline, x->cancel_fd);
		if (in->len)
			x->got_bytes = true;
		if (io != DK_IO_OK)
			return dk_xfer_error(x, io, err);
	}
}

int dk_read_body(struct dk_xfer *x, struct docker_http_body *b, docker_payload_fn fn, void *ud,
                 struct err *err)
{
	struct strbuf *in = &x->cn->in;
	x->got_bytes = true; /* an EOF from here on is in the middle of the answer */
	for (;;) {
		if (in->len) {
			long n = docker_http_body_feed(b, in->buf, in->len, fn, ud);
			if (n == -2)
				return -1;
			if (n < 0)
				return malformed(x, "answer body", err);
			consume(in, (size_t)n);
		}
		if (b->done)
			return 0;
		enum dk_io io = dk_conn_fill(x->cn, x->deadline, x->cancel_fd);
		if (io == DK_IO_EOF && b->mode == DOCKER_BODY_EOF)
			return 0;
		if (io != DK_IO_OK)
			return dk_xfer_error(x, io, err);
	}
}

/* ---- sending requests ---- */

/* What goes after the head: an in-memory body or a descriptor to stream. */
struct body {
	const char *data;
	size_t len;
	int fd;         /* >= 0: stream from here */
	long long size; /* of the fd's data, -1 unknown (sent chunked) */
};

/* The length of what is left in fd when it is a regular file, else -1. */
static long long fd_size(int fd)
{
	struct stat st;
	off_t cur = lseek(fd, 0, SEEK_CUR);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || cur < 0 || st.st_size < cur)
		return -1;
	return (long long)(st.st_size - cur);
}

static void build_head(struct strbuf *sb, const struct docker_client *c, const struct dk_req *rq,
                       const char *ctype, const struct body *b)
{
	strbuf_addf(sb, "%s %s%s%s HTTP/1.1\r\nHost: %s\r\nUser-Agent: runnel\r\n", rq->method,
	            rq->unversioned ? "" : "/v", rq->unversioned ? "" : c->api_version, rq->path,
	            c->host_header);
	if (ctype)
		strbuf_addf(sb, "Content-Type: %s\r\n", ctype);
	if (b->fd >= 0 && b->size < 0)
		strbuf_addstr(sb, "Transfer-Encoding: chunked\r\n");
	else if (b->fd >= 0)
		strbuf_addf(sb, "Content-Length: %lld\r\n", b->size);
	else if (b->len || !strcmp(rq->method, "POST") || !strcmp(rq->method, "PUT"))
		strbuf_addf(sb, "Content-Length: %zu\r\n", b->len);
	strbuf_addstr(sb, "\r\n");
}

/* Streams the descriptor's data (chunked when its size is unknown). DK_IO_* as sending;
 * a read failure sets *ret_errno and gives DK_IO_ERR. */
static enum dk_io send_fd(struct dk_xfer *x, const struct body *b, int *ret_errno)
{
	_cleanup_free_ char *buf = xmalloc(UPLOAD_CHUNK + 32);
	long long left = b->size;
	for (;;) {
		size_t want = left >= 0 && left < UPLOAD_CHUNK ? (size_t)left : UPLOAD_CHUNK;
		/* room before the data for the chunk size line */
		ssize_t n = want ? read(b->fd, buf + 16, want) : 0;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || (n == 0 && left > 0)) {
			*ret_errno = n < 0 ? errno : EIO; /* a file shorter than it said */
			return DK_IO_ERR;
		}
		char *p = buf + 16;
		size_t len = (size_t)n;
		if (b->size < 0) {
			char line[16];
			int hl = snprintf(line, sizeof(line), "%zx\r\n", len);
			p -= hl;
			memcpy(p, line, (size_t)hl);
			memcpy(buf + 16 + len, "\r\n", 2);
			len += (size_t)hl + 2;
		}
		enum dk_io io = dk_conn_send_all(x->cn, p, len, x->deadline, x->cancel_fd);
		if (io != DK_IO_OK || n == 0)
			return io; /* n == 0: the final chunk "0\r\n\r\n" or all of a sized body */
		if (left > 0)
			left -= n;
	}
}

/* Sends head and body. */
static enum dk_io send_request(struct dk_xfer *x, const struct strbuf *head, const struct body *b,
                               int *ret_errno)
{
	enum dk_io io = dk_conn_send_all(x->cn, head->buf, head->len, x->deadline, x->cancel_fd);
	if (io != DK_IO_OK)
		return io;
	if (b->fd >= 0)
		return send_fd(x, b, ret_errno);
	return dk_conn_send_all(x->cn, b->data, b->len, x->deadline, x->cancel_fd);
}

/* ---- one exchange ---- */

struct sink_state {
	const struct dk_req *rq;
	struct dk_resp *rs;
	struct err *err;
	bool to_sink;
	bool too_big;
};

static int on_payload(void *ud, const char *data, size_t len)
{
	struct sink_state *s = ud;
	if (s->to_sink)
		return s->rq->sink(s->rq->sink_ud, data, len, s->err);
	if (s->rs->body.len + len > (size_t)BODY_MAX) {
		s->too_big = true;
		return -1;
	}
	strbuf_add(&s->rs->body, data, len);
	return 0;
}

/* Reads the answer into rs (or the sink); *ret_reusable tells whether the connection may carry
 * another request. */
static int read_answer(struct dk_xfer *x, const struct dk_req *rq, struct dk_resp *rs,
                       bool *ret_reusable, struct err *err)
{
	struct docker_http_head h;
	if (dk_read_head(x, &h, rs, err) < 0)
		return -1;
	rs->status = h.status;
	struct docker_http_body b;
	docker_http_body_init(&b, &h, !strcmp(rq->method, "HEAD"));
	struct sink_state s = {.rq = rq, .rs = rs, .err = err};
	s.to_sink = rq->sink && h.status >= 200 && h.status < 300;
	if (dk_read_body(x, &b, on_payload, &s, err) < 0) {
		if (s.too_big)
			return err_set(err, ERR_ENV, "%s at %s: answer larger than %ld bytes",
			               rq->what, x->c->endpoint, BODY_MAX);
		return -1;
	}
	*ret_reusable = !h.close && b.mode != DOCKER_BODY_EOF && !x->cn->in.len;
	return 0;
}

/* Sends rq on c->conn and reads the answer. On failure *ret_retry says whether nothing of an
 * answer came on a connection that was reused, so the request may go again on a new one. */
static int exchange(struct docker_client *c, const struct dk_req *rq, struct dk_resp *rs,
                    const struct strbuf *head, const struct body *b, bool *ret_retry,
                    struct err *err)
{
	struct dk_xfer x = {.c = c, .cn = c->conn, .what = rq->what, .cancel_fd = rq->cancel_fd};
	if (!rq->stream && c->timeout_ms > 0) {
		x.timeout_ms = c->timeout_ms;
		x.deadline = dk_now_ms() + c->timeout_ms;
	}
	int read_errno = 0;
	enum dk_io io = send_request(&x, head, b, &read_errno);
	bool reusable = false;
	int r;
	if (read_errno)
		r = err_sys(err, read_errno, "%s: cannot read the request body", rq->what);
	else if (io == DK_IO_CANCEL || io == DK_IO_TIMEOUT)
		r = dk_xfer_error(&x, io, err);
	else /* even after DK_IO_ERR: the daemon may have answered before taking all the body */
		r = read_answer(&x, rq, rs, &reusable, err);
	/* a close before any answer byte, not a timeout, may be a stale connection */
	if (r < 0 && !x.got_bytes && !read_errno && !(x.deadline && dk_now_ms() >= x.deadline))
		*ret_retry = true;
	/* a half-sent request or half-read answer leaves the connection unusable */
	if (r < 0 || !reusable || io != DK_IO_OK) {
		dk_conn_free(c->conn);
		c->conn = NULL;
	}
	return r;
}

/* False when the idle keep-alive connection was closed by the daemon (or holds stray bytes). */
static bool conn_alive(struct dk_conn *cn)
{
	char byte;
	return !cn->in.len && cn->ops->recv(cn, &byte, 1) == -2;
}

static bool accepted(const struct dk_req *rq, long status)
{
	if (status >= 200 && status < 300)
		return true;
	for (size_t i = 0; i < 3 && rq->accept[i]; i++)
		if (rq->accept[i] == status)
			return true;
	return false;
}

/* After the exchange: status and JSON. */
static int finish(struct docker_client *c, const struct dk_req *rq, struct dk_resp *rs,
                  struct err *err)
{
	if (!accepted(rq, rs->status))
		return dk_status_error(c, rq->what, rs->status, rs->body.buf, rs->body.len, err);
	if (rq->want_json && rs->status < 300 && rs->body.len > 0) {
		json_error_t je;
		rs->json = json_loadb(rs->body.buf, rs->body.len, 0, &je);
		if (!rs->json)
			return err_set(err, ERR_ENV, "%s at %s: invalid JSON from the daemon: %s",
			               rq->what, c->endpoint, je.text);
	}
	return 0;
}

int dk_perform(struct docker_client *c, const struct dk_req *rq, struct dk_resp *rs,
               struct err *err)
{
	_cleanup_free_ char *json_body = rq->json ? json_dumps(rq->json, JSON_COMPACT) : NULL;
	struct body b = {.data = json_body ? json_body : rq->body,
	                 .len = json_body ? strlen(json_body) : rq->body_len,
	                 .fd = rq->body_fd};
	if (b.fd >= 0)
		b.size = fd_size(b.fd);
	struct strbuf head = STRBUF_INIT;
	build_head(&head, c, rq, json_body ? "application/json" : rq->content_type, &b);
	if (b.fd < 0 && b.len && b.len <= UPLOAD_CHUNK) { /* one write for a small request */
		strbuf_add(&head, b.data, b.len);
		b.len = 0;
	}
	int r = -1;
	for (int attempt = 0; attempt < 2; attempt++) {
		if (c->conn && !conn_alive(c->conn)) {
			dk_conn_free(c->conn);
			c->conn = NULL;
		}
		bool reused = c->conn != NULL;
		if (!c->conn && !(c->conn = dk_conn_open(c, err)))
			break;
		struct err e = ERR_INIT;
		bool retry = false;
		r = exchange(c, rq, rs, &head, &b, &retry, &e);
		if (r < 0 && retry && reused && b.fd < 0 && e.kind != ERR_JOB) {
			err_release(&e);
			continue;
		}
		if (r < 0 && err)
			err_move(err, &e);
		err_release(&e);
		break;
	}
	strbuf_release(&head);
	if (r < 0)
		return -1;
	return finish(c, rq, rs, err);
}
