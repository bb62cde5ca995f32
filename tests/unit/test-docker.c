/* Docker client tests.
 *
 * Pure parsers are tested on canned bytes. The client is tested against a fake daemon: a
 * unix-socket server run by this test that answers a script of steps (canned HTTP answers,
 * chunked streams, hijacked streams with multiplexed frames split across writes, errors,
 * connections closed mid-stream) and records every request (method, path, headers, body,
 * stdin) for the test to check.
 *
 * With RUNNEL_DOCKER_E2E=1 the "engine" group also runs against the real daemon of
 * $DOCKER_HOST using the image $RUNNEL_DOCKER_IMAGE (tests/e2e/t100-docker-client.sh). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "docker/client.h"
#include "docker/parse.h"
#include "util/strbuf.h"
#include "util/strvec.h"
#include "util/xalloc.h"

/* ======================================================================================
 * The fake daemon
 * ====================================================================================== */

struct step {
	const char *method;
	const char *path; /* exact: with the /vX.Y prefix and the query */
	int status;       /* answer with this status and body ... */
	const char *body;
	const char *headers; /* extra head lines, each ending in \r\n */
	/* ... or with these raw bytes after the head (no Content-Length: written as they are,
	 * split at the offsets in splits[], delay_ms apart). raw_head replaces the head. */
	const char *raw;
	size_t raw_len;
	const size_t *splits; /* ascending, 0-terminated */
	const char *raw_head;
	int delay_ms;
	bool hijack;      /* 101 then raw bytes, then close */
	bool read_stdin;  /* hijack: read the client's stdin to EOF before the raw bytes */
	bool hold;        /* hijack: after the bytes, keep the connection open until a wake step */
	bool wake;        /* this step releases held connections */
	bool close_after; /* close the connection after answering */
};

struct recorded {
	char *method, *path;
	struct strbuf headers, body, stdin_data;
};

#define MAX_REC 32
#define MAX_CONN 16

struct fake {
	char dir[64];
	char sock[96];
	char host[160];
	int listen_fd;
	int stop_pipe[2];
	pthread_t acceptor;
	pthread_mutex_t mu;
	const struct step *steps;
	size_t n_steps, next;
	struct recorded rec[MAX_REC];
	size_t n_rec;
	char failure[512];
	bool woken;
	pthread_t conns[MAX_CONN];
	int conn_fds[MAX_CONN];
	size_t n_conns;
};

struct conn_arg {
	struct fake *f;
	int fd;
};

static void fail_once(struct fake *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail_once(struct fake *f, const char *fmt, ...)
{
	pthread_mutex_lock(&f->mu);
	if (!f->failure[0]) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(f->failure, sizeof(f->failure), fmt, ap);
		va_end(ap);
	}
	pthread_mutex_unlock(&f->mu);
}

static void sleep_ms(int ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Reads into buf until it holds a full head; returns the head length, 0 on EOF. */
static size_t read_head(int fd, struct strbuf *buf)
{
	for (;;) {
		char *end = strstr(buf->buf, "\r\n\r\n");
		if (end)
			return (size_t)(end - buf->buf) + 4;
		char tmp[4096];
		ssize_t n = recv(fd, tmp, sizeof(tmp), 0);
		if (n <= 0)
			return 0;
		strbuf_add(buf, tmp, (size_t)n);
	}
}

static int ensure(int fd, struct strbuf *buf, size_t need)
{
	while (buf->len < need) {
		char tmp[4096];
		ssize_t n = recv(fd, tmp, sizeof(tmp), 0);
		if (n <= 0)
			return -1;
		strbuf_add(buf, tmp, (size_t)n);
	}
	return 0;
}

/* A dechunker of our own, independent of the one under test. */
static int read_chunked(int fd, struct strbuf *buf, size_t pos, struct strbuf *body)
{
	for (;;) {
		char *nl;
		while (!(nl = memchr(buf->buf + pos, '\n', buf->len - pos)))
			if (ensure(fd, buf, buf->len + 1) < 0)
				return -1;
		unsigned long size = strtoul(buf->buf + pos, NULL, 16);
		pos = (size_t)(nl - buf->buf) + 1;
		if (ensure(fd, buf, pos + size + 2) < 0)
			return -1;
		strbuf_add(body, buf->buf + pos, size);
		pos += size + 2;
		if (size == 0)
			return (int)pos;
	}
}

static const char *header_value(const char *head, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = strstr(head, "\r\n"); p && p[2]; p = strstr(p + 2, "\r\n"))
		if (!strncasecmp(p + 2, name, n) && p[2 + n] == ':')
			return p + 3 + n;
	return NULL;
}

/* Reads one request into r; consumes it from buf. Returns -1 at EOF. */
static int read_request(int fd, struct strbuf *buf, struct recorded *r)
{
	size_t hl = read_head(fd, buf);
	if (!hl)
		return -1;
	char method[16], path[2048];
	if (sscanf(buf->buf, "%15s %2047s", method, path) != 2)
		return -1;
	r->method = xstrdup(method);
	r->path = xstrdup(path);
	strbuf_add(&r->headers, buf->buf, hl);
	const char *cl = header_value(r->headers.buf, "Content-Length");
	const char *te = header_value(r->headers.buf, "Transfer-Encoding");
	size_t end = hl;
	if (te && strstr(te, "chunked")) {
		int e = read_chunked(fd, buf, hl, &r->body);
		if (e < 0)
			return -1;
		end = (size_t)e;
	} else if (cl) {
		size_t n = strtoul(cl, NULL, 10);
		if (ensure(fd, buf, hl + n) < 0)
			return -1;
		strbuf_add(&r->body, buf->buf + hl, n);
		end = hl + n;
	}
	memmove(buf->buf, buf->buf + end, buf->len - end);
	strbuf_setlen(buf, buf->len - end);
	return 0;
}

static void write_raw(int fd, const struct step *s)
{
	size_t off = 0;
	for (const size_t *sp = s->splits; sp && *sp; sp++) {
		if (*sp > s->raw_len || *sp <= off)
			continue;
		write_all(fd, s->raw + off, *sp - off);
		off = *sp;
		sleep_ms(s->delay_ms ? s->delay_ms : 2);
	}
	write_all(fd, s->raw + off, s->raw_len - off);
}

static void answer(int fd, const struct step *s)
{
	struct strbuf out = STRBUF_INIT;
	if (s->raw_head)
		strbuf_addstr(&out, s->raw_head);
	else if (s->hijack)
		strbuf_addstr(
		    &out, "HTTP/1.1 101 UPGRADED\r\nContent-Type: application/"
		          "vnd.docker.raw-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n");
	else if (s->raw)
		strbuf_addf(&out, "HTTP/1.1 %d X\r\n%s\r\n", s->status,
		            s->headers ? s->headers : "");
	else
		strbuf_addf(&out,
		            "HTTP/1.1 %d X\r\nContent-Type: application/json\r\n%s"
		            "Content-Length: %zu\r\n\r\n%s",
		            s->status, s->headers ? s->headers : "", s->body ? strlen(s->body) : 0,
		            s->body ? s->body : "");
	write_all(fd, out.buf, out.len);
	strbuf_release(&out);
}

static void read_stdin(struct fake *f, int fd, struct strbuf *buf, size_t rec)
{
	struct strbuf in = STRBUF_INIT;
	strbuf_add(&in, buf->buf, buf->len);
	char tmp[4096];
	ssize_t n;
	while ((n = recv(fd, tmp, sizeof(tmp), 0)) > 0)
		strbuf_add(&in, tmp, (size_t)n);
	if (n < 0)
		fail_once(f, "reading stdin: %s", strerror(errno));
	pthread_mutex_lock(&f->mu);
	strbuf_add(&f->rec[rec].stdin_data, in.buf, in.len);
	pthread_mutex_unlock(&f->mu);
	strbuf_release(&in);
}

static bool is_woken(struct fake *f)
{
	pthread_mutex_lock(&f->mu);
	bool w = f->woken;
	pthread_mutex_unlock(&f->mu);
	return w;
}

/* Takes the next step for request r; NULL (and a failure) when it does not match. */
static const struct step *take_step(struct fake *f, struct recorded *r, size_t *ret_rec)
{
	pthread_mutex_lock(&f->mu);
	const struct step *s = f->next < f->n_steps ? &f->steps[f->next++] : NULL;
	size_t i = f->n_rec < MAX_REC ? f->n_rec++ : MAX_REC - 1;
	f->rec[i] = *r;
	*ret_rec = i;
	if (s && s->wake)
		f->woken = true;
	pthread_mutex_unlock(&f->mu);
	if (!s)
		fail_once(f, "unexpected request %s %s", r->method, r->path);
	else if (strcmp(s->method, r->method) || strcmp(s->path, r->path))
		fail_once(f, "expected %s %s, got %s %s", s->method, s->path, r->method, r->path);
	else
		return s;
	return NULL;
}

static void *conn_main(void *arg)
{
	struct conn_arg *a = arg;
	struct fake *f = a->f;
	int fd = a->fd;
	free(a);
	struct strbuf buf = STRBUF_INIT;
	for (;;) {
		struct recorded r = {
		    .headers = STRBUF_INIT, .body = STRBUF_INIT, .stdin_data = STRBUF_INIT};
		if (read_request(fd, &buf, &r) < 0) {
			free(r.method), free(r.path);
			strbuf_release(&r.headers), strbuf_release(&r.body);
			break;
		}
		size_t rec;
		const struct step *s = take_step(f, &r, &rec);
		if (!s) {
			write_all(fd, "HTTP/1.1 500 X\r\nContent-Length: 0\r\n\r\n", 38);
			break;
		}
		answer(fd, s);
		if (s->hijack && s->read_stdin)
			read_stdin(f, fd, &buf, rec);
		if (s->raw)
			write_raw(fd, s);
		while (s->hold && !is_woken(f))
			sleep_ms(2);
		if (s->hijack || s->close_after)
			break;
	}
	strbuf_release(&buf);
	shutdown(fd, SHUT_RDWR);
	return NULL;
}

static void *accept_main(void *arg)
{
	struct fake *f = arg;
	for (;;) {
		struct pollfd p[2] = {{.fd = f->listen_fd, .events = POLLIN},
		                      {.fd = f->stop_pipe[0], .events = POLLIN}};
		if (poll(p, 2, -1) < 0 || p[1].revents)
			break;
		int fd = accept(f->listen_fd, NULL, NULL);
		if (fd < 0)
			continue;
		struct timeval tv = {.tv_sec = 10}; /* a stuck test fails instead of hanging */
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		if (f->n_conns == MAX_CONN) {
			close(fd);
			continue;
		}
		struct conn_arg *a = xmalloc(sizeof(*a));
		a->f = f;
		a->fd = fd;
		f->conn_fds[f->n_conns] = fd;
		pthread_create(&f->conns[f->n_conns++], NULL, conn_main, a);
	}
	return NULL;
}

/* The fake listens on a unix socket, or with tcp on 127.0.0.1 (the libcurl transport). */
static struct fake *fake_start_on(const struct step *steps, size_t n, bool tcp)
{
	struct fake *f = xcalloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/rn-fake-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->sock, sizeof(f->sock), "%s/docker.sock", f->dir);
	snprintf(f->host, sizeof(f->host), "unix://%s", f->sock);
	f->steps = steps;
	f->n_steps = n;
	pthread_mutex_init(&f->mu, NULL);
	if (tcp) {
		f->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		struct sockaddr_in sin = {.sin_family = AF_INET,
		                          .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
		socklen_t sl = sizeof(sin);
		assert_int_equal(bind(f->listen_fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
		assert_int_equal(getsockname(f->listen_fd, (struct sockaddr *)&sin, &sl), 0);
		snprintf(f->host, sizeof(f->host), "tcp://127.0.0.1:%u", ntohs(sin.sin_port));
	} else {
		f->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		struct sockaddr_un sa = {.sun_family = AF_UNIX};
		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", f->sock);
		assert_int_equal(bind(f->listen_fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	}
	assert_int_equal(listen(f->listen_fd, 16), 0);
	assert_int_equal(pipe(f->stop_pipe), 0);
	pthread_create(&f->acceptor, NULL, accept_main, f);
	return f;
}

static struct fake *fake_start(const struct step *steps, size_t n)
{
	return fake_start_on(steps, n, false);
}

/* Stops the server, checks that every step was used and nothing failed, frees. */
static void fake_finish(struct fake *f, bool check)
{
	assert_int_equal(write(f->stop_pipe[1], "x", 1), 1);
	pthread_join(f->acceptor, NULL);
	pthread_mutex_lock(&f->mu);
	f->woken = true;
	pthread_mutex_unlock(&f->mu);
	for (size_t i = 0; i < f->n_conns; i++) {
		shutdown(f->conn_fds[i], SHUT_RDWR);
		pthread_join(f->conns[i], NULL);
		close(f->conn_fds[i]);
	}
	char failure[512];
	snprintf(failure, sizeof(failure), "%s", f->failure);
	size_t used = f->next, n = f->n_steps;
	for (size_t i = 0; i < f->n_rec; i++) {
		free(f->rec[i].method);
		free(f->rec[i].path);
		strbuf_release(&f->rec[i].headers);
		strbuf_release(&f->rec[i].body);
		strbuf_release(&f->rec[i].stdin_data);
	}
	close(f->listen_fd);
	close(f->stop_pipe[0]);
	close(f->stop_pipe[1]);
	unlink(f->sock);
	rmdir(f->dir);
	pthread_mutex_destroy(&f->mu);
	free(f);
	if (!check)
		return;
	if (failure[0])
		fail_msg("fake daemon: %s", failure);
	assert_int_equal(used, n);
}

static json_t *rec_json(struct fake *f, size_t i)
{
	json_error_t je;
	json_t *j = json_loadb(f->rec[i].body.buf, f->rec[i].body.len, 0, &je);
	if (!j)
		fail_msg("request %zu body is not JSON: %s", i, je.text);
	return j;
}

#define PING(ver)                                                                                  \
	{                                                                                          \
		.method = "GET", .path = "/_ping", .status = 200, .body = "OK",                    \
		.headers = "API-Version: " ver "\r\n"                                              \
	}
#define NSTEPS(a) (sizeof(a) / sizeof((a)[0]))

static struct docker_client *connect_fake(struct fake *f)
{
	struct docker_opts o = DOCKER_OPTS_INIT;
	o.host = f->host;
	o.timeout_ms = 10000;
	struct err err = ERR_INIT;
	struct docker_client *c = docker_client_new(&o, &err);
	if (!c)
		fail_msg("connect: %s", err.msg);
	return c;
}

/* Frames: stream byte, 3 zeros, big-endian length, payload. */
static void add_frame(struct strbuf *sb, int stream, const char *payload)
{
	size_t n = strlen(payload);
	unsigned char h[8] = {(unsigned char)stream,
	                      0,
	                      0,
	                      0,
	                      (unsigned char)(n >> 24),
	                      (unsigned char)(n >> 16),
	                      (unsigned char)(n >> 8),
	                      (unsigned char)n};
	strbuf_add(sb, h, 8);
	strbuf_add(sb, payload, n);
}

struct output {
	struct strbuf out, err;
	int calls;
};

static void on_output(void *ud, int stream, const char *data, size_t len)
{
	struct output *o = ud;
	o->calls++;
	strbuf_add(stream == 2 ? &o->err : &o->out, data, len);
}

static void output_release(struct output *o)
{
	strbuf_release(&o->out);
	strbuf_release(&o->err);
}

/* ======================================================================================
 * Pure parsers
 * ====================================================================================== */

static void test_host_parse(void **state)
{
	struct docker_host h;
	struct err err = ERR_INIT;
	assert_int_equal(docker_host_parse(NULL, 2375, &h, &err), 0);
	assert_int_equal(h.kind, DOCKER_HOST_UNIX);
	assert_string_equal(h.path, "/var/run/docker.sock");
	docker_host_release(&h);
	assert_int_equal(docker_host_parse("unix:///run/podman/podman.sock", 2375, &h, &err), 0);
	assert_string_equal(h.path, "/run/podman/podman.sock");
	docker_host_release(&h);
	assert_int_equal(docker_host_parse("tcp://10.0.0.1:2376", 2375, &h, &err), 0);
	assert_int_equal(h.kind, DOCKER_HOST_TCP);
	assert_string_equal(h.host, "10.0.0.1");
	assert_int_equal(h.port, 2376);
	docker_host_release(&h);
	assert_int_equal(docker_host_parse("tcp://docker", 2376, &h, &err), 0);
	assert_string_equal(h.host, "docker");
	assert_int_equal(h.port, 2376);
	docker_host_release(&h);
	assert_int_equal(docker_host_parse("tcp://[::1]:2375/", 2376, &h, &err), 0);
	assert_string_equal(h.host, "::1");
	assert_int_equal(h.port, 2375);
	docker_host_release(&h);
	const char *bad[] = {"ssh://me@host", "tcp://",          "tcp://h:0",  "tcp://h:99999",
	                     "tcp://h:x",     "unix://relative", "tcp://[::1", "tcp://::1"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(docker_host_parse(bad[i], 2375, &h, &err), -1);
		assert_int_equal(err.kind, ERR_CONFIG);
		assert_non_null(strstr(err.msg, bad[i]));
		err_release(&err);
	}
}

static void test_api_version_parse(void **state)
{
	assert_int_equal(docker_api_version_parse("1.41"), 1041);
	assert_int_equal(docker_api_version_parse("1.43"), 1043);
	assert_int_equal(docker_api_version_parse("1.9"), 1009);
	assert_int_equal(docker_api_version_parse("2.0"), 2000);
	assert_int_equal(docker_api_version_parse("x"), -1);
	assert_int_equal(docker_api_version_parse("1."), -1);
	assert_int_equal(docker_api_version_parse("1.4x"), -1);
	assert_int_equal(docker_api_version_parse(NULL), -1);
}

static void test_http_head(void **state)
{
	struct docker_http_head h;
	const char *a = "HTTP/1.1 101 UPGRADED\r\nContent-Type: x\r\nUpgrade: tcp\r\n\r\nDATA";
	assert_int_equal(docker_http_head_parse(a, strlen(a), &h), (long)strlen(a) - 4);
	assert_int_equal(h.status, 101);
	assert_true(h.upgraded);
	assert_int_equal(h.content_length, -1);
	const char *b = "HTTP/1.1 404 Not Found\r\ncontent-length: 12\r\n\r\n";
	assert_int_equal(docker_http_head_parse(b, strlen(b) - 1, &h), 0); /* incomplete */
	assert_int_equal(docker_http_head_parse(b, strlen(b), &h), (long)strlen(b));
	assert_int_equal(h.status, 404);
	assert_int_equal(h.content_length, 12);
	assert_false(h.chunked);
	const char *c = "HTTP/1.1 500 X\r\nTransfer-Encoding: chunked\r\n\r\n";
	assert_true(docker_http_head_parse(c, strlen(c), &h) > 0);
	assert_true(h.chunked);
	const char *d = "SSH-2.0-OpenSSH\r\n\r\n";
	assert_int_equal(docker_http_head_parse(d, strlen(d), &h), -1);
}

static void test_dechunk(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	const char *a = "5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\n\r\n";
	assert_int_equal(docker_dechunk(a, strlen(a), &sb), 0);
	assert_string_equal(sb.buf, "hello, world");
	strbuf_reset(&sb);
	assert_int_equal(docker_dechunk(a, 14, &sb), 1); /* truncated in the second chunk */
	assert_string_equal(sb.buf, "hello");
	strbuf_reset(&sb);
	assert_int_equal(docker_dechunk("zz\r\n", 4, &sb), -1);
	assert_int_equal(docker_dechunk("3\r\nabcX", 7, &sb), -1);
	strbuf_release(&sb);
}

/* Collects decoded payload; fails on demand to check that a sink's failure stops decoding. */
struct payload {
	struct strbuf out;
	int calls, fail_at;
};

static int collect_payload(void *ud, const char *data, size_t len)
{
	struct payload *p = ud;
	if (++p->calls == p->fail_at)
		return -1;
	strbuf_add(&p->out, data, len);
	return 0;
}

/* Feeds body bytes in pieces of `step` bytes (0 = all at once), as reads may return them.
 * Returns the total consumed, or the first negative result. */
static long feed_body(const char *head, const char *body, size_t len, size_t step,
                      struct payload *p, struct docker_http_body *b)
{
	struct docker_http_head h;
	assert_true(docker_http_head_parse(head, strlen(head), &h) > 0);
	docker_http_body_init(b, &h, false);
	size_t off = 0;
	while (off < len && !b->done) {
		size_t n = step && len - off > step ? step : len - off;
		long r = docker_http_body_feed(b, body + off, n, collect_payload, p);
		if (r < 0)
			return r;
		assert_true((size_t)r <= n);
		off += (size_t)r;
		if ((size_t)r < n) /* stopped inside the piece: only at the end of the body */
			assert_true(b->done);
	}
	return (long)off;
}

static void test_http_body(void **state)
{
	static const char chunked[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
	static const char body[] = "5\r\nhello\r\n7;ext=\"a b\"\r\n, world\r\nA\nline\r\n ok.\n"
	                           "0\r\nX-Trailer: 1\r\n\r\nNEXT";
	size_t blen = sizeof(body) - 1;
	/* split at every possible size: the decoder keeps its place across reads */
	for (size_t step = 0; step < 12; step++) {
		struct payload p = {STRBUF_INIT, 0, 0};
		struct docker_http_body b;
		assert_int_equal(feed_body(chunked, body, blen, step, &p, &b), (long)blen - 4);
		assert_true(b.done);
		assert_string_equal(p.out.buf, "hello, worldline\r\n ok.");
		strbuf_release(&p.out);
	}
	/* malformed: bad size, oversized size, data longer than its size, bare CR */
	static const char *const bad[] = {
	    "zz\r\n", "1234567890abcdef0\r\n", "3\r\nabcX\r\n", "3\r\nabc\r\r\n", ";x\r\n", "3\rX"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct payload p = {STRBUF_INIT, 0, 0};
		struct docker_http_body b;
		assert_int_equal(feed_body(chunked, bad[i], strlen(bad[i]), 1, &p, &b), -1);
		strbuf_release(&p.out);
	}
	/* a sink's failure stops decoding */
	struct payload p = {STRBUF_INIT, 0, 2};
	struct docker_http_body b;
	assert_int_equal(feed_body(chunked, body, blen, 0, &p, &b), -2);
	assert_string_equal(p.out.buf, "hello");
	strbuf_release(&p.out);
	/* Content-Length: the rest of the buffer is not this body's */
	p = (struct payload){STRBUF_INIT, 0, 0};
	assert_int_equal(
	    feed_body("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n", "abcdEXTRA", 9, 3, &p, &b),
	    4);
	assert_true(b.done);
	assert_string_equal(p.out.buf, "abcd");
	strbuf_reset(&p.out);
	/* no body: 204, 304, 1xx, HEAD, Content-Length: 0 */
	struct docker_http_head h = {.status = 204, .content_length = 10};
	docker_http_body_init(&b, &h, false);
	assert_true(b.done);
	assert_int_equal(docker_http_body_feed(&b, "x", 1, collect_payload, &p), 0);
	h.status = 200;
	docker_http_body_init(&b, &h, true);
	assert_true(b.done);
	h.content_length = 0;
	docker_http_body_init(&b, &h, false);
	assert_true(b.done);
	/* neither length nor chunked: everything until the connection closes */
	h.content_length = -1;
	docker_http_body_init(&b, &h, false);
	assert_int_equal(b.mode, DOCKER_BODY_EOF);
	assert_int_equal(docker_http_body_feed(&b, "abc", 3, collect_payload, &p), 3);
	assert_false(b.done);
	assert_string_equal(p.out.buf, "abc");
	strbuf_release(&p.out);
}

static void test_http_head_fields(void **state)
{
	const char *a = "HTTP/1.1 200 OK\r\nApi-Version:  1.41 \r\nConnection: keep-alive\r\n"
	                "Libpod-Api-Version: 4.3.1\r\n\r\n";
	struct docker_http_head h;
	assert_int_equal(docker_http_head_parse(a, strlen(a), &h), (long)strlen(a));
	assert_false(h.close);
	size_t n = 0;
	const char *v = docker_http_head_value(a, strlen(a), "API-Version", &n);
	assert_non_null(v);
	assert_int_equal(n, 4);
	assert_memory_equal(v, "1.41", 4);
	assert_non_null(docker_http_head_value(a, strlen(a), "libpod-api-version", &n));
	assert_int_equal(n, 5);
	assert_null(docker_http_head_value(a, strlen(a), "Api", &n)); /* a prefix is no match */
	assert_null(docker_http_head_value(a, strlen(a), "HTTP/1.1 200 OK", &n));
	const char *b = "HTTP/1.1 200 OK\r\nConnection: Close\r\nContent-Length: 0\r\n\r\n";
	assert_true(docker_http_head_parse(b, strlen(b), &h) > 0);
	assert_true(h.close);
	const char *c = "HTTP/1.0 200 OK\r\n\r\n";
	assert_true(docker_http_head_parse(c, strlen(c), &h) > 0);
	assert_true(h.close);
	const char *d = "HTTP/1.1 100 Continue\r\n\r\n";
	assert_true(docker_http_head_parse(d, strlen(d), &h) > 0);
	assert_int_equal(h.status, 100);
}

static void test_error_message(void **state)
{
	char *m = docker_error_message("{\"message\":\"No such image: docker:24\"}\n", 39);
	assert_string_equal(m, "No such image: docker:24");
	free(m);
	m = docker_error_message("404 page not found\n", 19);
	assert_string_equal(m, "404 page not found");
	free(m);
	m = docker_error_message("bad\x01thing", 9);
	assert_string_equal(m, "bad thing");
	free(m);
	m = docker_error_message("", 0);
	assert_string_equal(m, "empty response");
	free(m);
	m = docker_error_message("{\"cause\":\"x\"}", 13);
	assert_string_equal(m, "empty response");
	free(m);
	/* long bodies are cut */
	char big[3000];
	memset(big, 'a', sizeof(big));
	m = docker_error_message(big, sizeof(big));
	assert_int_equal(strlen(m), 1003);
	free(m);
}

static void test_image_ref_split(void **state)
{
	struct {
		const char *in, *repo, *tag;
	} cases[] = {
	    {"alpine", "alpine", "latest"},
	    {"alpine:3.19", "alpine", "3.19"},
	    {"registry:5000/group/img", "registry:5000/group/img", "latest"},
	    {"registry:5000/group/img:1.0", "registry:5000/group/img", "1.0"},
	    {"img@sha256:abcd", "img@sha256:abcd", NULL},
	    {"docker:24", "docker", "24"},
	    {"alpine:", "alpine", "latest"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *repo, *tag;
		struct err err = ERR_INIT;
		assert_int_equal(docker_image_ref_split(cases[i].in, &repo, &tag, &err), 0);
		assert_string_equal(repo, cases[i].repo);
		if (cases[i].tag)
			assert_string_equal(tag, cases[i].tag);
		else
			assert_null(tag);
		free(repo);
		free(tag);
	}
	char *r, *t;
	struct err err = ERR_INIT;
	assert_int_equal(docker_image_ref_split("", &r, &t, &err), -1);
	err_release(&err);
}

static int collect_line(void *ud, const char *line, size_t len)
{
	strvec_push_take(ud, xstrndup(line, len));
	return 0;
}

static void test_lines_and_progress(void **state)
{
	struct strbuf pending = STRBUF_INIT;
	struct strvec lines = STRVEC_INIT;
	const char *s =
	    "{\"status\":\"Pulling\"}\r\n{\"id\":\"a1\",\"status\":\"Downloading\",\"pro"
	    "gress\":\"[=>  ] 1MB\"}\r\n{\"err";
	/* byte by byte: lines come out whole */
	for (size_t i = 0; i < strlen(s); i++)
		assert_int_equal(docker_lines_feed(&pending, s + i, 1, collect_line, &lines), 0);
	assert_int_equal(lines.n, 2);
	assert_string_equal(pending.buf, "{\"err");
	struct strbuf text = STRBUF_INIT;
	char *e = NULL;
	assert_int_equal(docker_progress_line(lines.v[1], strlen(lines.v[1]), &text, &e), 0);
	assert_string_equal(text.buf, "a1: Downloading [=>  ] 1MB");
	strbuf_reset(&text);
	const char *err_line =
	    "{\"errorDetail\":{\"message\":\"manifest unknown\"},\"error\":\"x\"}";
	assert_int_equal(docker_progress_line(err_line, strlen(err_line), &text, &e), 1);
	assert_string_equal(e, "manifest unknown");
	free(e);
	e = NULL;
	assert_int_equal(docker_progress_line("{\"error\":\"denied\"}", 18, &text, &e), 1);
	assert_string_equal(e, "denied");
	free(e);
	strbuf_reset(&text);
	assert_int_equal(docker_progress_line("plain text", 10, &text, &e), 0);
	assert_string_equal(text.buf, "plain text");
	strbuf_release(&text);
	strbuf_release(&pending);
	strvec_release(&lines);
}

static void test_demux(void **state)
{
	struct strbuf s = STRBUF_INIT;
	add_frame(&s, 1, "hello ");
	add_frame(&s, 2, "oops\n");
	add_frame(&s, 1, "world\n");
	add_frame(&s, 1, "");
	/* every split point: same result, and partial payloads are delivered at once */
	for (size_t step = 1; step <= s.len; step++) {
		struct docker_demux d;
		docker_demux_init(&d, false);
		struct output o = {STRBUF_INIT, STRBUF_INIT, 0};
		struct err err = ERR_INIT;
		for (size_t off = 0; off < s.len; off += step) {
			size_t n = off + step > s.len ? s.len - off : step;
			assert_int_equal(docker_demux_feed(&d, s.buf + off, n, on_output, &o, &err),
			                 0);
		}
		assert_false(docker_demux_partial(&d));
		assert_string_equal(o.out.buf, "hello world\n");
		assert_string_equal(o.err.buf, "oops\n");
		if (step == 1)
			assert_int_equal(o.calls, 17); /* one call per payload byte */
		assert_int_equal(d.bytes[1], 12);
		output_release(&o);
	}
	/* truncated */
	struct docker_demux d;
	docker_demux_init(&d, false);
	struct err err = ERR_INIT;
	assert_int_equal(docker_demux_feed(&d, s.buf, 10, NULL, NULL, &err), 0);
	assert_true(docker_demux_partial(&d));
	docker_demux_init(&d, false);
	assert_int_equal(docker_demux_feed(&d, s.buf, 5, NULL, NULL, &err), 0);
	assert_true(docker_demux_partial(&d));
	/* malformed header */
	docker_demux_init(&d, false);
	assert_int_equal(
	    docker_demux_feed(&d, "\x01\x00\x07\x00\x00\x00\x00\x01x", 9, NULL, NULL, &err), -1);
	assert_int_equal(err.kind, ERR_ENV);
	assert_non_null(strstr(err.msg, "malformed stream"));
	err_release(&err);
	/* raw (tty) */
	docker_demux_init(&d, true);
	struct output o = {STRBUF_INIT, STRBUF_INIT, 0};
	assert_int_equal(docker_demux_feed(&d, "\x01\x00\x07x", 4, on_output, &o, &err), 0);
	assert_int_equal(o.out.len, 4);
	assert_false(docker_demux_partial(&d));
	output_release(&o);
	strbuf_release(&s);
}

static void test_parse_json_answers(void **state)
{
	char *id = docker_json_id("{\"Id\":\"abc\",\"Warnings\":[]}", 26);
	assert_string_equal(id, "abc");
	free(id);
	assert_null(docker_json_id("{\"Id\":5}", 8));
	assert_null(docker_json_id("nope", 4));
	int code;
	char *msg;
	assert_int_equal(docker_parse_wait("{\"StatusCode\":3}", 16, &code, &msg), 0);
	assert_int_equal(code, 3);
	assert_null(msg);
	const char *w = "{\"StatusCode\":0,\"Error\":{\"Message\":\"gone\"}}\n";
	assert_int_equal(docker_parse_wait(w, strlen(w), &code, &msg), 0);
	assert_string_equal(msg, "gone");
	free(msg);
	assert_int_equal(docker_parse_wait("{\"StatusCode\":1e99}", 19, &code, &msg), -1);
	assert_int_equal(docker_parse_wait("{}", 2, &code, &msg), -1);

	json_t *j = json_loads("{\"State\":{\"Running\":false,\"ExitCode\":137,\"OOMKilled\":true,"
	                       "\"Status\":\"exited\",\"Error\":\"\"}}",
	                       0, NULL);
	struct docker_state st;
	assert_int_equal(docker_parse_state(j, &st), 0);
	assert_false(st.running);
	assert_true(st.oom_killed);
	assert_int_equal(st.exit_code, 137);
	assert_string_equal(st.status, "exited");
	assert_null(st.error);
	docker_state_release(&st);
	json_decref(j);
	j = json_loads("{\"Running\":true,\"ExitCode\":null}", 0, NULL); /* exec inspect */
	assert_int_equal(docker_parse_state(j, &st), 0);
	assert_true(st.running);
	assert_int_equal(st.exit_code, -1);
	docker_state_release(&st);
	json_decref(j);
	j = json_loads("{\"State\":{\"Running\":\"no\"}}", 0, NULL);
	assert_int_equal(docker_parse_state(j, &st), -1);
	json_decref(j);

	struct strvec ids = STRVEC_INIT;
	j = json_loads("[{\"Id\":\"a\"},{\"Id\":\"b\"}]", 0, NULL);
	assert_int_equal(docker_parse_id_list(j, "containers", &ids), 0);
	json_decref(j);
	j = json_loads("{\"Volumes\":[{\"Name\":\"v\"}],\"Warnings\":null}", 0, NULL);
	assert_int_equal(docker_parse_id_list(j, "volumes", &ids), 0);
	json_decref(j);
	j = json_loads("{\"Volumes\":null}", 0, NULL);
	assert_int_equal(docker_parse_id_list(j, "volumes", &ids), 0);
	json_decref(j);
	assert_int_equal(ids.n, 3);
	assert_string_equal(ids.v[2], "v");
	j = json_loads("[{\"Name\":\"a\"}]", 0, NULL);
	assert_int_equal(docker_parse_id_list(j, "networks", &ids), -1);
	assert_int_equal(docker_parse_id_list(j, "volumes", &ids), -1);
	json_decref(j);
	strvec_release(&ids);
}

/* ======================================================================================
 * The client against the fake daemon
 * ====================================================================================== */

static void test_connect_refused(void **state)
{
	struct docker_opts o = DOCKER_OPTS_INIT;
	o.host = "unix:///nonexistent/runnel/docker.sock";
	struct err err = ERR_INIT;
	assert_null(docker_client_new(&o, &err));
	assert_int_equal(err.kind, ERR_ENV);
	assert_string_equal(err.msg, "cannot connect to the Docker daemon at unix:///nonexistent/"
	                             "runnel/docker.sock: No such file or directory (is the daemon "
	                             "running?)");
	err_release(&err);
	/* DOCKER_HOST is read when opts.host is NULL */
	char *saved = getenv("DOCKER_HOST") ? xstrdup(getenv("DOCKER_HOST")) : NULL;
	setenv("DOCKER_HOST", "unix:///nonexistent/env.sock", 1);
	assert_null(docker_client_new(NULL, &err));
	assert_non_null(strstr(err.msg, "unix:///nonexistent/env.sock"));
	err_release(&err);
	setenv("DOCKER_HOST", "bogus://x", 1);
	assert_null(docker_client_new(NULL, &err));
	assert_int_equal(err.kind, ERR_CONFIG);
	err_release(&err);
	if (saved)
		setenv("DOCKER_HOST", saved, 1);
	else
		unsetenv("DOCKER_HOST");
	free(saved);
}

static void test_negotiate(void **state)
{
	static const struct step steps[] = {
	    PING("1.40"),
	    {.method = "POST", .path = "/v1.40/containers/abc/start", .status = 204},
	};
	struct fake *f = fake_start(steps, NSTEPS(steps));
	struct docker_client *c = connect_fake(f);
	assert_string_equal(docker_client_api_version(c), "1.40");
	assert_string_equal(docker_client_engine(c), "docker");
	assert_string_equal(docker_client_endpoint(c), f->host);
	struct err err = ERR_INIT;
	/* a clone talks the same version without pinging again */
	struct docker_client *c2 = docker_client_clone(c, &err);
	assert_non_null(c2);
	assert_int_equal(docker_container_start(c2, "abc", &err), 0);
	docker_client_free(c2);
	docker_client_free(c);
	fake_finish(f, true);

	static const struct step newer[] = {
	    {.method = "GET",
	     .path = "/_ping",
	     .status = 200,
	     .body = "OK",
	     .headers = "Api-Version: 1.45\r\nLibpod-Api-Version: 4.3.1\r\n"},
	    {.method = "POST", .path = "/v1.41/containers/abc/start", .status = 304},
	};
	f = fake_start(newer, NSTEPS(newer));
	c = connect_fake(f);
	assert_string_equal(docker_client_api_version(c), "1.41");
	assert_string_equal(docker_client_engine(c), "podman");
	assert_int_equal(docker_container_start(c, "abc", &err), 0); /* 304: already started */
	docker_client_free(c);
	fake_finish(f, true);
}

static void test_create_container(void **state)
{
	static const struct step steps[] = {
	    PING("1.41"),
	    {.method = "POST",
	     .path = "/v1.41/containers/create?name=job-1%2Fx",
	     .status = 201,
	     .body = "{\"Id\":\"c0ffee\",\"Warnings\":[]}"},
	    {.method = "POST",
	     .path = "/v1.41/containers/create",
	     .status = 404,
	     .body = "{\"message\":\"No such image: docker:24\"}"},
	};
	struct fake *f = fake_start(steps, NSTEPS(steps));
	struct docker_client *c = connect_fake(f);
	char *cmd[] = {"sh", "-c", "echo hi", NULL};
	char *env[] = {"A=1", "B=x=y", NULL};
	char *labels[] = {"com.runnel.job=1", "flag", NULL};
	char *binds[] = {"/cache:/cache:rw", NULL};
	char *caps[] = {"NET_ADMIN", NULL};
	char *drop[] = {"MKNOD", NULL};
	char *sec[] = {"seccomp=unconfined", NULL};
	char *devs[] = {"/dev/fuse", "/dev/kvm:/dev/kvm2:rw", NULL};
	char *hosts[] = {"db:10.0.0.5", NULL};
	char *dns[] = {"1.1.1.1", NULL};
	char *aliases[] = {"build", "runner", NULL};
	struct docker_mount mounts[] = {{"vol1", "/builds", false, false},
	                                {"/srv", "/srv", true, true}};
	struct docker_container_spec s = {
	    .name = "job-1/x",
	    .image = "alpine:3.19",
	    .cmd = cmd,
	    .entrypoint_set = true,
	    .env = env,
	    .labels = labels,
	    .working_dir = "/builds",
	    .user = "1000",
	    .hostname = "runner",
	    .open_stdin = true,
	    .privileged = true,
	    .network = "rn-net-1",
	    .network_aliases = aliases,
	    .mounts = mounts,
	    .n_mounts = 2,
	    .binds = binds,
	    .cap_add = caps,
	    .cap_drop = drop,
	    .security_opt = sec,
	    .devices = devs,
	    .extra_hosts = hosts,
	    .dns = dns,
	};
	char *id = NULL;
	struct err err = ERR_INIT;
	assert_int_equal(docker_container_create(c, &s, &id, &err), 0);
	assert_string_equal(id, "c0ffee");
	free(id);

	json_t *b = rec_json(f, 1);
	assert_string_equal(json_string_value(json_object_get(b, "Image")), "alpine:3.19");
	assert_string_equal(json_string_value(json_array_get(json_object_get(b, "Cmd"), 2)),
	                    "echo hi");
	assert_string_equal(json_string_value(json_array_get(json_object_get(b, "Entrypoint"), 0)),
	                    "");
	assert_string_equal(json_string_value(json_array_get(json_object_get(b, "Env"), 1)),
	                    "B=x=y");
	json_t *l = json_object_get(b, "Labels");
	assert_string_equal(json_string_value(json_object_get(l, "com.runnel.job")), "1");
	assert_string_equal(json_string_value(json_object_get(l, "flag")), "");
	assert_true(json_is_true(json_object_get(b, "OpenStdin")));
	assert_true(json_is_true(json_object_get(b, "StdinOnce")));
	assert_true(json_is_true(json_object_get(b, "AttachStdin")));
	assert_true(json_is_false(json_object_get(b, "Tty")));
	assert_string_equal(json_string_value(json_object_get(b, "WorkingDir")), "/builds");
	assert_string_equal(json_string_value(json_object_get(b, "User")), "1000");
	json_t *hc = json_object_get(b, "HostConfig");
	assert_true(json_is_true(json_object_get(hc, "Privileged")));
	assert_string_equal(json_string_value(json_array_get(json_object_get(hc, "Binds"), 0)),
	                    "/cache:/cache:rw");
	json_t *m1 = json_array_get(json_object_get(hc, "Mounts"), 1);
	assert_string_equal(json_string_value(json_object_get(m1, "Type")), "bind");
	assert_true(json_is_true(json_object_get(m1, "ReadOnly")));
	json_t *m0 = json_array_get(json_object_get(hc, "Mounts"), 0);
	assert_string_equal(json_string_value(json_object_get(m0, "Type")), "volume");
	assert_string_equal(json_string_value(json_object_get(m0, "Source")), "vol1");
	assert_string_equal(json_string_value(json_array_get(json_object_get(hc, "CapAdd"), 0)),
	                    "NET_ADMIN");
	assert_string_equal(json_string_value(json_array_get(json_object_get(hc, "CapDrop"), 0)),
	                    "MKNOD");
	assert_string_equal(
	    json_string_value(json_array_get(json_object_get(hc, "SecurityOpt"), 0)),
	    "seccomp=unconfined");
	json_t *d0 = json_array_get(json_object_get(hc, "Devices"), 0);
	assert_string_equal(json_string_value(json_object_get(d0, "PathInContainer")), "/dev/fuse");
	assert_string_equal(json_string_value(json_object_get(d0, "CgroupPermissions")), "rwm");
	json_t *d1 = json_array_get(json_object_get(hc, "Devices"), 1);
	assert_string_equal(json_string_value(json_object_get(d1, "PathInContainer")), "/dev/kvm2");
	assert_string_equal(json_string_value(json_object_get(d1, "CgroupPermissions")), "rw");
	assert_string_equal(json_string_value(json_array_get(json_object_get(hc, "ExtraHosts"), 0)),
	                    "db:10.0.0.5");
	assert_string_equal(json_string_value(json_array_get(json_object_get(hc, "Dns"), 0)),
	                    "1.1.1.1");
	assert_string_equal(json_string_value(json_object_get(hc, "NetworkMode")), "rn-net-1");
	json_t *ep = json_object_get(
	    json_object_get(json_object_get(b, "NetworkingConfig"), "EndpointsConfig"), "rn-net-1");
	assert_string_equal(json_string_value(json_array_get(json_object_get(ep, "Aliases"), 1)),
	                    "runner");
	json_decref(b);
	assert_non_null(strstr(f->rec[1].headers.buf, "Content-Type: application/json"));

	/* the error names the image, the endpoint and what the daemon said */
	struct docker_container_spec s2 = {.image = "docker:24"};
	assert_int_equal(docker_container_create(c, &s2, &id, &err), -1);
	assert_int_equal(err.kind, ERR_ENV);
	char *want = xasprintf("cannot create container for image 'docker:24' at %s: No such "
	                       "image: docker:24 (HTTP 404)",
	                       f->host);
	assert_string_equal(err.msg, want);
	free(want);
	err_release(&err);
	b = rec_json(f, 2);
	assert_null(json_object_get(b, "Entrypoint")); /* image's entrypoint kept */
	assert_null(json_object_get(b, "NetworkingConfig"));
	json_decref(b);
	docker_client_free(c);
	fake_finish(f, true);
}

static void test_simple_endpoints(void **state)
{
	static const struct step steps[] = {
	    PING("1.41"),
	    {.method = "DELETE",
	     .path = "/v1.41/containers/c1?force=true&v=true",
	     .status = 404,
	     .body = "{\"message\":\"No such container: c1\"}"},
	    {.method = "DELETE",
	     .path = "/v1.41/containers/c2?force=true&v=true",
	     .status = 500,
	     .body = "{\"message\":\"driver failed\"}"},
	    {.method = "POST",
	     .path = "/v1.41/containers/c3/kill?signal=KILL",
	     .status = 409,
	     .body = "{\"message\":\"Container c3 is not running\"}"},
	    {.method = "POST",
	     .path = "/v1.41/containers/c4/wait",
	     .status = 200,
	     .body = "{\"StatusCode\":42,\"Error\":null}"},
	    {.method = "GET",
	     .path = "/v1.41/containers/c5/json",
	     .status = 200,
	     .body = "{\"Id\":\"c5\",\"State\":{\"Running\":false,\"ExitCode\":2,"
	             "\"OOMKilled\":false,\"Status\":\"exited\"}}"},
	    {.method = "GET",
	     .path = "/v1.41/images/registry:5000/a/b:1/json",
	     .status = 404,
	     .body = "{\"message\":\"No such image\"}"},
	    {.method = "GET",
	     .path = "/v1.41/images/alpine/json",
	     .status = 200,
	     .body = "{\"Id\":\"sha256:1\"}"},
	    {.method = "GET", .path = "/v1.41/info", .status = 200, .body = "{\"x\":1}"},
	    {.method = "POST",
	     .path = "/v1.41/containers/c6/kill?signal=TERM",
	     .status = 404,
	     .body = "{\"message\":\"No such container: c6\"}"},
	    {.method = "POST",
	     .path = "/v1.41/containers/c7/kill?signal=KILL",
	     .status = 500,
	     .body = "{\"cause\":\"container state improper\",\"message\":\"can only kill "
	             "running containers. c7 is in state exited: container state improper\"}"},
	    {.method = "POST",
	     .path = "/v1.41/containers/c8/kill?signal=KILL",
	     .status = 500,
	     .body = "{\"message\":\"cannot kill: permission denied\"}"},
	};
	struct fake *f = fake_start(steps, NSTEPS(steps));
	struct docker_client *c = connect_fake(f);
	struct err err = ERR_INIT;
	assert_int_equal(docker_container_remove(c, "c1", &err), 0);
	assert_int_equal(docker_container_remove(c, "c2", &err), -1);
	assert_non_null(strstr(err.msg, "cannot remove container 'c2'"));
	assert_non_null(strstr(err.msg, ": driver failed (HTTP 500)"));
	err_release(&err);
	assert_int_equal(docker_container_kill(c, "c3", NULL, &err), 0);
	int code = -1;
	assert_int_equal(docker_container_wait(c, "c4", &code, &err), 0);
	assert_int_equal(code, 42);
	struct docker_state st;
	assert_int_equal(docker_container_state(c, "c5", &st, &err), 0);
	assert_int_equal(st.exit_code, 2);
	assert_string_equal(st.status, "exited");
	docker_state_release(&st);
	bool found = true;
	assert_int_equal(docker_image_inspect(c, "registry:5000/a/b:1", &found, NULL, &err), 0);
	assert_false(found);
	json_t *info = NULL;
	assert_int_equal(docker_image_inspect(c, "alpine", &found, &info, &err), 0);
	assert_true(found);
	assert_string_equal(json_string_value(json_object_get(info, "Id")), "sha256:1");
	json_decref(info);
	long status = 0;
	assert_int_equal(docker_request(c, "GET", "/info", NULL, &info, &status, &err), 0);
	assert_int_equal(status, 200);
	assert_int_equal(json_integer_value(json_object_get(info, "x")), 1);
	json_decref(info);
	assert_int_equal(docker_container_kill(c, "c6", "TERM", &err), -1);
	assert_non_null(strstr(err.msg, "No such container: c6 (HTTP 404)"));
	err_release(&err);
	assert_int_equal(docker_container_kill(c, "c7", "KILL", &err), 0); /* podman: exited */
	assert_int_equal(docker_container_kill(c, "c8", "KILL", &err), -1);
	assert_non_null(strstr(err.msg, "cannot kill: permission denied (HTTP 500)"));
	err_release(&err);
	docker_client_free(c);
	fake_finish(f, true);
}

static void test_networks_volumes_lists(void **state)
{
	static const struct step steps[] = {
	    PING("1.41"),
	    {.method = "POST",
	     .path = "/v1.41/networks/create",
	     .status = 201,
	     .body = "{\"Id\":\"n1\",\"Warning\":\"\"}"},
	    {.method = "DELETE", .path = "/v1.41/networks/n1", .status = 204},
	    {.method = "DELETE",
	     .path = "/v1.41/networks/gone",
	     .status = 404,
	     .body = "{\"message\":\"network gone not found\"}"},
	    {.method = "POST",
	     .path = "/v1.41/volumes/create",
	     .status = 201,
	     .body = "{\"Name\":\"v1\"}"},
	    {.method = "DELETE", .path = "/v1.41/volumes/v1?force=true", .status = 204},
	    {.method = "GET",
	     .path = "/v1.41/containers/json?all=true&filters=%7B%22label%22%3A"
	             "%5B%22com.runnel.run%3D7%22%5D%7D",
	     .status = 200,
	     .body = "[{\"Id\":\"a\"},{\"Id\":\"b\"}]"},
	    {.method = "GET",
	     .path = "/v1.41/networks?filters=%7B%22label%22%3A%5B%22com."
	             "runnel.run%22%5D%7D",
	     .status = 200,
	     .body = "[{\"Id\":\"n\"}]"},
	    {.method = "GET",
	     .path = "/v1.41/volumes?filters=%7B%22label%22%3A%5B%22com."
	             "runnel.run%22%5D%7D",
	     .status = 200,
	     .body = "{\"Volumes\":null,\"Warnings\":null}"},
	    {.method = "GET",
	     .path = "/v1.41/networks?filters=%7B%22label%22%3A%5B%22x%22%5D%7D",
	     .status = 200,
	     .body = "{\"unexpected\":true}"},
	    {.method = "POST",
	     .path = "/v1.41/networks/create",
	     .status = 409,
	     .body = "{\"message\":\"network with name n exists\"}"},
	};
	struct fake *f = fake_start(steps, NSTEPS(steps));
	struct docker_client *c = connect_fake(f);
	struct err err = ERR_INIT;
	char *labels[] = {"com.runnel.run=7", NULL};
	char *id = NULL;
	assert_int_equal(docker_network_create(c, "rn-net", labels, &id, &err), 0);
	assert_string_equal(id, "n1");
	json_t *b = rec_json(f, 1);
	assert_string_equal(json_string_value(json_object_get(b, "Name")), "rn-net");
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(b, "Labels"), "com.runnel.run")),
	    "7");
	json_decref(b);
	assert_int_equal(docker_network_remove(c, id, &err), 0);
	free(id);
	assert_int_equal(docker_network_remove(c, "gone", &err), 0);
	assert_int_equal(docker_volume_create(c, "v1", labels, &err), 0);
	b = rec_json(f, 4);
	assert_string_equal(json_string_value(json_object_get(b, "Name")), "v1");
	json_decref(b);
	assert_int_equal(docker_volume_remove(c, "v1", true, &err), 0);
	struct strvec ids = STRVEC_INIT;
	assert_int_equal(docker_list_by_label(c, "containers", "com.runnel.run=7", &ids, &err), 0);
	assert_int_equal(docker_list_by_label(c, "networks", "com.runnel.run", &ids, &err), 0);
	assert_int_equal(docker_list_by_label(c, "volumes", "com.runnel.run", &ids, &err), 0);
	assert_int_equal(ids.n, 3);
	assert_string_equal(ids.v[2], "n");
	assert_int_equal(docker_list_by_label(c, "networks", "x", &ids, &err), -1);
	assert_non_null(strstr(err.msg, "cannot list networks with label 'x'"));
	err_release(&err);
	strvec_release(&ids);
	assert_int_equal(docker_network_create(c, "n", NULL, NULL, &err), -1);
	assert_non_null(strstr(err.msg, "cannot create network 'n' at unix://"));
	assert_non_null(strstr(err.msg, "network with name n exists (HTTP 409)"));
	err_release(&err);
	docker_client_free(c);
	fake_finish(f, true);
}

struct lines {
	struct strvec v;
};

static void on_line(void *ud, const char *line)
{
	strvec_push(ud, line);
}

static void add_chunk(struct strbuf *sb, const char *data)
{
	strbuf_addf(sb, "%zx\r\n%s\r\n", strlen(data), data);
}

static const char chunked_head[] =
    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";

static void test_pull(void **state)
{
	struct strbuf ok = STRBUF_INIT, bad = STRBUF_INIT, cut = STRBUF_INIT;
	/* lines split across chunks, chunks split across writes */
	add_chunk(&ok, "{\"status\":\"Pulling from x\"}\r\n");
	add_chunk(&ok, "{\"id\":\"l1\",\"stat");
	add_chunk(&ok, "us\":\"Downloading\",\"progress\":\"5MB\"}\r\n");
	add_chunk(&ok, "{\"status\":\"Status: Downloaded\"}");
	strbuf_addstr(&ok, "0\r\n\r\n");
	size_t splits[] = {2, 20, 40, 41, ok.len - 3, 0};
	add_chunk(&bad, "{\"status\":\"Pulling from x\"}\r\n");
	add_chunk(&bad, "{\"errorDetail\":{\"message\":\"manifest for x:9 not found\"},"
	                "\"error\":\"manifest\"}\r\n");
	strbuf_addstr(&bad, "0\r\n\r\n");
	add_chunk(&cut, "{\"status\":\"Pulling from x\"}\r\n");
	strbuf_addstr(&cut, "40\r\n{\"status\":");
	struct step steps[] = {
	    PING("1.41"),
	    {.method = "POST",
	     .path = "/v1.41/images/create?fromImage=alpine&tag=latest",
	     .raw = ok.buf,
	     .raw_len = ok.len,
	     .raw_head = chunked_head,
	     .splits = splits},
	    {.method = "POST",
	     .path = "/v1.41/images/create?fromImage=reg%3A5000%2Fx&tag=9",
	     .raw = bad.buf,
	     .raw_len = bad.len,
	     .raw_head = chunked_head},
	    {.method = "POST",
	     .path = "/v1.41/images/create?fromImage=x%40sha256%3Aab",
	     .raw = cut.buf,
	     .raw_len = cut.len,
	     .raw_head = chunked_head,
	     .close_after = true},
	    {.method = "POST",
	     .path = "/v1.41/images/create?fromImage=private&tag=latest",
	     .status = 404,
	     .body = "{\"message\":\"pull access denied for private\"}"},
	};
	struct fake *f = fake_start(steps, NSTEPS(steps));
	struct docker_client *c = connect_fake(f);
	struct err err = ERR_INIT;
	struct strvec lines = STRVEC_INIT;
	assert_int_equal(docker_image_pull(c, "alpine", on_line, &lines, &err), 0);
	assert_int_equal(lines.n, 3);
	assert_string_equal(lines.v[1], "l1: Downloading 5MB");
	assert_string_equal(lines.v[2], "Status: Downloaded");
	strvec_release(&lines);
	assert_int_equal(docker_image_pull(c, "reg:5000/x:9", NULL, NULL, &err), -1);
	char *want = xasprintf("cannot pull image 'reg:5000/x:9' at %s: manifest for x:9 not found",
	                       f->host);
	assert_string_equal(err.msg, want);
	free(want);
	err_release(&err);
	assert_int_equal(docker_image_pull(c, "x@sha256:ab", NULL, NULL, &err), -1);
	assert_int_equal(err.kind, ERR_ENV);
	assert_non_null(strstr(err.msg, "cannot pull image 'x@sha256:ab'"));
	assert_non_null(strstr(err.msg, "connection to the daemon failed"));
	err_release(&err);
	assert_int_equal(docker_image_pull(c, "private", NULL, NULL, &err), -1);
	assert_non_null(strstr(err.msg, "pull access denied for private (HTTP 404)"));
	err_release(&err);
	docker_client_free(c);
	fake_finish(f, true);
	strbuf_release(&ok);
	strbuf_release(&bad);
	strbuf_release(&cut);
}

/* Shared by the run tests: frames split at awkward offsets (inside headers, inside payloads). */
static struct strbuf run_frames;
static size_t run_splits[8];

static void build_run_frames(void)
{
	strbuf_release(&run_frames);
	strbuf_init(&run_frames, 0);
	add_frame(&run_frames, 1, "line one\n");
	add_frame(&run_frames, 2, "warning: x\n");
	add_frame(&run_frames, 1, "line two\n");
	size_t s[] = {3, 8, 12, 20, 25, 40, run_frames.len - 1, 0};
	memcpy(run_splits, s, sizeof(s));
}

static void test_run_attached(void **state)
{
	build_run_frames();
	struct step steps[] = {
	    PING("1.41"),
	    {.method = "POST",
	     .path = "/v1.41/containers/c1/attach?stream=1&stdin=1&stdout=1&"
	             "stderr=1",
	     .hijack = true,
	     .read_stdin = true,
	     .raw = run_frames.buf,
	     .raw_len = run_frames.len,
	     .splits = run_splits},
	    {.method = "POST", .path = "/v1.41/containers/c1/start", .status = 204},
	    {.method = "POST",
	     .path = "/v1.41/containers/c1/wait",
	     .status = 200,
	     .body = "{\"StatusCode\":3}"},
	};
	struct fake *f = fake_start(steps, NSTEPS(steps));
	struct docker_client *c = connect_fake(f);
	struct err err = ERR_INIT;
	/* larger than a socket buffer, so stdin is written in several rounds */
	struct strbuf in = STRBUF_INIT;
	for (int i = 0; i < 40000; i++)
		strbuf_addf(&in, "echo %d\n", i);
	struct output o = {STRBUF_INIT, STRBUF_INIT, 0};
	struct docker_run_io io = {.input = in.buf,
	                           .input_len = in.len,
	                           .on_output = on_output,
	                           .userdata = &o,
	                           .cancel_fd = -1};
	int code = -1;
	bool timed_out = true;
	assert_int_equal(docker_container_run_attached(c, "c1", &io, &code, &timed_out, &err), 0);
	assert_int_equal(code, 3);
	assert_false(timed_out);
	assert_string_equal(o.out.buf, "line one\nline two\n");
	assert_string_equal(o.err.buf, "warning: x\n");
	assert_true(o.calls > 3); /* split frames came in pieces */
	assert_int_equal(f->rec[1].stdin_data.len, in.len);
	assert_memory_equal(f->rec[1].stdin_data.buf, in.buf, in.len);
	assert_non_null(strstr(f->rec[1].headers.buf, "Upgrade: tcp"));
	output_release(&o);
	strbuf_release(&in);
	docker_client_free(c);
	fake_finish(f, true);
}

static void test_run_attached_errors(void **state)
{
	build_run_frames();
	static const char cut[] = "\x01\0\0\0\0\0\0\x10partial";
	struct step steps[] = {
	    PING("1.41"),
	    /* the container is missing */
	    {.method = "POST",
	     .path = "/v1.41/containers/c1/attach?stream=1&stdin=1&stdout=1&"
	             "stderr=1",
	     .status = 404,
	     .body = "{\"message\":\"No such container: c1\"}",
	     .close_after = true},
	    /* the daemon goes away in the middle of a frame */
	    {.method = "POST",
	     .path = "/v1.41/containers/c2/attach?stream=1&stdin=1&stdout=1&"
	             "stderr=1",
	     .hijack = true,
	     .read_stdin = true,
	     .raw = cut,
	     .raw_len = sizeof(cut) - 1},
	    {.method = "POST", .path = "/v1.41/containers/c2/start", .status = 204},
	    /* start fails */
	    {.method = "POST",
	     .path = "/v1.41/containers/c3/attach?stream=1&stdin=1&stdout=1&"
	             "stderr=1",
	     .hijack = true,
	     .hold = true},
	    {.method = "POST",
	     .path = "/v1.41/containers/c3/start",
	     .status = 500,
	     .body = "{\"message\":\"OCI runtime create failed\"}",
	     .wake = true},
	    /* the daemon dies while we wait for the exit code */
	    {.method = "POST",
	     .path = "/v1.41/containers/c4/attach?stream=1&stdin=1&stdout=1&"
	             "stderr=1",
	     .hijack = true,
	     .read_stdin = true},
	    {.method = "POST", .path = "/v1.41/containers/c4/start", .status = 204},
	    {.method = "POST",
	     .path = "/v1.41/containers/c4/wait",
	     .raw_head = "",
	     .raw = "HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n{\"Sta",
	     .raw_len = 45,
	     .close_after = true},
	};
	struct fake *f = fake_start(steps, NSTEPS(steps));
	struct docker_client *c = connect_fake(f);
	struct err err = ERR_INIT;
	struct output o = {STRBUF_INIT, STRBUF_INIT, 0};
	struct docker_run_io io = {
	    .input = "x", .input_len = 1, .on_output = on_output, .userdata = &o, .cancel_fd = -1};
	int code = -1;
	assert_int_equal(docker_container_run_attached(c, "c1", &io, &code, NULL, &err), -1);
	char *want = xasprintf("cannot attach to container 'c1' at %s: No such container: c1 "
	                       "(HTTP 404)",
	                       f->host);
	assert_string_equal(err.msg, want);
	free(want);
	err_release(&err);
	assert_int_equal(docker_container_run_attached(c, "c2", &io, &code, NULL, &err), -1);
	assert_non_null(strstr(err.msg, "closed in the middle of the output"));
	assert_string_equal(o.out.buf, "partial"); /* what came was delivered */
	err_release(&err);
	assert_int_equal(docker_container_run_attached(c, "c3", &io, &code, NULL, &err), -1);
	assert_non_null(strstr(err.msg, "cannot start container 'c3'"));
	assert_non_null(strstr(err.msg, "OCI runtime create failed (HTTP 500)"));
	err_release(&err);
	assert_int_equal(docker_container_run_attached(c, "c4", &io, &code, NULL, &err), -1);
	assert_non_null(strstr(err.msg, "cannot wait for container 'c4'"));
	assert_non_null(strstr(err.msg, "connection to the daemon failed"));
	err_release(&err);
	output_release(&o);
	docker_client_free(c);
	fake_finish(f, true);
}

static void test_run_attached_timeout_cancel(void **state)
{
	build_run_frames();
	struct step steps[] = {
	    PING("1.41"),
	    {.method = "POST",
	     .path = "/v1.41/containers/t1/attach?stream=1&stdin=1&stdout=1&"
	             "stderr=1",
	     .hijack = true,
	     .read_stdin = true,
	     .hold = true,
	     .raw = run_frames.buf,
	     .raw_len = run_frames.len},
	    {.method = "POST", .path = "/v1.41/containers/t1/start", .status = 204},
	    {.method = "POST",
	     .path = "/v1.41/containers/t1/kill?signal=KILL",
	     .status = 204,
	     .wake = true},
	    {.method = "POST",
	     .path = "/v1.41/containers/t1/wait",
	     .status = 200,
	     .body = "{\"StatusCode\":137}"},
	};
	struct fake *f = fake_start(steps, NSTEPS(steps));
	struct docker_client *c = connect_fake(f);
	struct err err = ERR_INIT;
	struct output o = {STRBUF_INIT, STRBUF_INIT, 0};
	struct docker_run_io io = {
	    .on_output = on_output, .userdata = &o, .cancel_fd = -1, .timeout_ms = 150};
	int code = -1;
	bool timed_out = false;
	assert_int_equal(docker_container_run_attached(c, "t1", &io, &code, &timed_out, &err), 0);
	assert_true(timed_out);
	assert_int_equal(code, 137);
	assert_string_equal(o.out.buf, "line one\nline two\n"); /* output before the kill kept */
	output_release(&o);
	docker_client_free(c);
	fake_finish(f, true);

	struct step csteps[] = {
	    PING("1.41"),
	    {.method = "POST",
	     .path = "/v1.41/containers/k1/attach?stream=1&stdin=1&stdout=1&"
	             "stderr=1",
	     .hijack = true,
	     .hold = true},
	    {.method = "POST", .path = "/v1.41/containers/k1/start", .status = 204},
	    {.method = "POST",
	     .path = "/v1.41/containers/k1/kill?signal=KILL",
	     .status = 204,
	     .wake = true},
	};
	f = fake_start(csteps, NSTEPS(csteps));
	c = connect_fake(f);
	int p[2];
	assert_int_equal(pipe(p), 0);
	assert_int_equal(write(p[1], "x", 1), 1);
	io.cancel_fd = p[0];
	io.timeout_ms = 0;
	assert_int_equal(docker_container_run_attached(c, "k1", &io, &code, &timed_out, &err), -1);
	assert_string_equal(err.msg, "canceled");
	err_release(&err);
	close(p[0]);
	close(p[1]);
	docker_client_free(c);
	fake_finish(f, true);
}

static void test_logs_exec(void **state)
{
	static struct strbuf logs, exec_out;
	strbuf_release(&logs);
	strbuf_release(&exec_out);
	add_frame(&logs, 1, "out\n");
	add_frame(&logs, 2, "err\n");
	add_frame(&exec_out, 1, "42\n");
	static char logs_head[128];
	snprintf(logs_head, sizeof(logs_head), "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n",
	         logs.len);
	struct step steps[] = {
	    PING("1.41"),
	    {.method = "GET",
	     .path = "/v1.41/containers/c1/logs?stdout=1&stderr=1&tail=50",
	     .raw_head = logs_head,
	     .raw = logs.buf,
	     .raw_len = logs.len},
	    {.method = "GET",
	     .path = "/v1.41/containers/c2/logs?stdout=1&stderr=1",
	     .raw_head = "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n",
	     .raw = "tty out\r\n",
	     .raw_len = 9},
	    {.method = "POST",
	     .path = "/v1.41/containers/c1/exec",
	     .status = 201,
	     .body = "{\"Id\":\"e1\"}"},
	    {.method = "POST",
	     .path = "/v1.41/exec/e1/start",
	     .raw_head = "HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.raw-stream"
	                 "\r\n\r\n",
	     .hijack = true,
	     .raw = exec_out.buf,
	     .raw_len = exec_out.len},
	    {.method = "GET",
	     .path = "/v1.41/exec/e1/json",
	     .status = 200,
	     .body = "{\"Running\":true,\"ExitCode\":null}"},
	    {.method = "GET",
	     .path = "/v1.41/exec/e1/json",
	     .status = 200,
	     .body = "{\"Running\":false,\"ExitCode\":7}"},
	};
	struct fake *f = fake_start(steps, NSTEPS(steps));
	struct docker_client *c = connect_fake(f);
	struct err err = ERR_INIT;
	struct strbuf out = STRBUF_INIT;
	assert_int_equal(docker_container_logs(c, "c1", 50, &out, &err), 0);
	assert_string_equal(out.buf, "out\nerr\n");
	strbuf_reset(&out);
	assert_int_equal(docker_container_logs(c, "c2", 0, &out, &err), 0);
	assert_string_equal(out.buf, "tty out\r\n");
	strbuf_reset(&out);
	char *argv[] = {"sh", "-c", "echo 42; exit 7", NULL};
	int code = -1;
	assert_int_equal(docker_container_exec(c, "c1", argv, &out, &code, &err), 0);
	assert_string_equal(out.buf, "42\n");
	assert_int_equal(code, 7);
	json_t *b = rec_json(f, 3);
	assert_string_equal(json_string_value(json_array_get(json_object_get(b, "Cmd"), 2)),
	                    "echo 42; exit 7");
	assert_true(json_is_true(json_object_get(b, "AttachStdout")));
	json_decref(b);
	b = rec_json(f, 4);
	assert_true(json_is_false(json_object_get(b, "Detach")));
	json_decref(b);
	strbuf_release(&out);
	docker_client_free(c);
	fake_finish(f, true);
	strbuf_release(&logs);
	strbuf_release(&exec_out);
}

static void test_archive(void **state)
{
	static const char tar_out[] = "TARDATA\0with\0zeros";
	static const char tar_chunked[] = "5\r\nTARDA\r\nd\r\nTA\0with\0zeros\r\n0\r\n\r\n";
	struct step steps[] = {
	    PING("1.41"),
	    {.method = "PUT",
	     .path = "/v1.41/containers/c1/archive?path=%2Fbuilds%2Fp",
	     .status = 200},
	    {.method = "PUT", .path = "/v1.41/containers/c1/archive?path=%2Ftmp", .status = 200},
	    {.method = "PUT",
	     .path = "/v1.41/containers/c1/archive?path=%2Fnope",
	     .status = 404,
	     .body = "{\"message\":\"Could not find the file /nope in container c1\"}"},
	    {.method = "GET",
	     .path = "/v1.41/containers/c1/archive?path=%2Fout",
	     .raw_head = "HTTP/1.1 200 OK\r\nContent-Type: application/x-tar\r\n"
	                 "Transfer-Encoding: chunked\r\n\r\n",
	     .raw = tar_chunked,
	     .raw_len = sizeof(tar_chunked) - 1},
	    {.method = "GET",
	     .path = "/v1.41/containers/c1/archive?path=%2Fmissing",
	     .status = 404,
	     .body = "{\"message\":\"Could not find the file /missing\"}"},
	};
	struct fake *f = fake_start(steps, NSTEPS(steps));
	struct docker_client *c = connect_fake(f);
	struct err err = ERR_INIT;
	assert_int_equal(docker_container_put_archive(c, "c1", "/builds/p", "T\0AR", 4, &err), 0);
	assert_int_equal(f->rec[1].body.len, 4);
	assert_memory_equal(f->rec[1].body.buf, "T\0AR", 4);
	assert_non_null(strstr(f->rec[1].headers.buf, "Content-Type: application/x-tar"));
	assert_null(strstr(f->rec[1].headers.buf, "Expect:"));

	/* from a pipe: length unknown, sent chunked */
	int p[2];
	assert_int_equal(pipe(p), 0);
	struct strbuf big = STRBUF_INIT;
	for (int i = 0; i < 5000; i++)
		strbuf_addf(&big, "%08d", i);
	/* fits in the pipe buffer, so it can be written before the call */
	assert_int_equal(write(p[1], big.buf, big.len), (ssize_t)big.len);
	close(p[1]);
	assert_int_equal(docker_container_put_archive_fd(c, "c1", "/tmp", p[0], &err), 0);
	close(p[0]);
	assert_int_equal(f->rec[2].body.len, big.len);
	assert_memory_equal(f->rec[2].body.buf, big.buf, big.len);
	strbuf_release(&big);

	assert_int_equal(docker_container_put_archive(c, "c1", "/nope", "x", 1, &err), -1);
	assert_non_null(strstr(err.msg, "cannot copy files to '/nope' in container 'c1'"));
	assert_non_null(strstr(err.msg, "(HTTP 404)"));
	err_release(&err);

	char path[] = "/tmp/rn-tar-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	unlink(path);
	assert_int_equal(docker_container_get_archive(c, "c1", "/out", fd, &err), 0);
	char got[64];
	assert_int_equal(pread(fd, got, sizeof(got), 0), (ssize_t)sizeof(tar_out) - 1);
	assert_memory_equal(got, tar_out, sizeof(tar_out) - 1);
	assert_int_equal(docker_container_get_archive(c, "c1", "/missing", fd, &err), -1);
	assert_non_null(strstr(err.msg, "Could not find the file /missing (HTTP 404)"));
	err_release(&err);
	/* the error body did not land in the file */
	struct stat st;
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(st.st_size, (off_t)sizeof(tar_out) - 1);
	close(fd);
	docker_client_free(c);
	fake_finish(f, true);
}

/* libcurl stays unmapped for unix sockets: that is most of the memory saved. */
static bool libcurl_mapped(void)
{
	FILE *m = fopen("/proc/self/maps", "r");
	assert_non_null(m);
	char line[512];
	bool found = false;
	while (fgets(line, sizeof(line), m))
		if (strstr(line, "libcurl"))
			found = true;
	fclose(m);
	return found;
}

static void test_keepalive(void **state)
{
	static const char split_answer[] =
	    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
	    "Content-Length: 26\r\n\r\n{\"State\":{\"Status\":\"ok\"}}\n";
	static const size_t splits[] = {3, 9, 30, 60, 70, 0};
	struct step steps[] = {
	    PING("1.41"),
	    /* the same connection carries the next requests */
	    {.method = "POST", .path = "/v1.41/containers/a/start", .status = 204},
	    /* a head and body split in many reads */
	    {.method = "GET",
	     .path = "/v1.41/containers/a/json",
	     .raw_head = "",
	     .raw = split_answer,
	     .raw_len = sizeof(split_answer) - 1,
	     .splits = splits},
	    /* "Connection: close": the next request goes on a new connection */
	    {.method = "POST",
	     .path = "/v1.41/containers/b/start",
	     .status = 204,
	     .headers = "Connection: close\r\n"},
	    /* the daemon closes an idle connection: noticed before the next request */
	    {.method = "POST",
	     .path = "/v1.41/containers/c/start",
	     .status = 204,
	     .close_after = true},
	    {.method = "POST", .path = "/v1.41/containers/e/start", .status = 204},
	    /* it closes the reused connection after reading the request, before any answer
	     * byte: the request goes again on a new one */
	    {.method = "POST",
	     .path = "/v1.41/containers/d/start",
	     .raw_head = "",
	     .close_after = true},
	    {.method = "POST", .path = "/v1.41/containers/d/start", .status = 204},
	};
	struct fake *f = fake_start(steps, NSTEPS(steps));
	struct docker_client *c = connect_fake(f);
	struct err err = ERR_INIT;
	assert_int_equal(docker_container_start(c, "a", &err), 0);
	json_t *info = NULL;
	assert_int_equal(docker_container_inspect(c, "a", &info, &err), 0);
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(info, "State"), "Status")), "ok");
	json_decref(info);
	assert_int_equal(f->n_conns, 1);
	assert_int_equal(docker_container_start(c, "b", &err), 0);
	assert_int_equal(docker_container_start(c, "c", &err), 0);
	assert_int_equal(f->n_conns, 2);
	sleep_ms(50); /* the close reaches the client */
	assert_int_equal(docker_container_start(c, "e", &err), 0);
	assert_int_equal(f->n_conns, 3);
	if (docker_container_start(c, "d", &err) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(f->n_conns, 4);
	assert_false(libcurl_mapped());
	docker_client_free(c);
	fake_finish(f, true);
}

static void test_bad_answers(void **state)
{
	struct step steps[] = {
	    PING("1.41"),
	    {.method = "GET",
	     .path = "/v1.41/containers/a/json",
	     .raw_head = "",
	     .raw = "SSH-2.0-OpenSSH_9.2\r\n\r\n",
	     .raw_len = 23},
	    {.method = "GET",
	     .path = "/v1.41/containers/b/json",
	     .raw_head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
	     .raw = "3\r\n{}\n\r\nzz\r\n",
	     .raw_len = 12},
	    {.method = "GET",
	     .path = "/v1.41/containers/c/json",
	     .raw_head = "",
	     .raw = "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nnot json!",
	     .raw_len = 48},
	    {.method = "GET",
	     .path = "/v1.41/containers/d/json",
	     .raw_head = "",
	     .raw = "HTTP/1.1 404 Not Found\r\nContent-Length: 22\r\n\r\nNo such container: d\r\n",
	     .raw_len = 68}, /* after an upload that could not be read, the client goes on on a new
	                        connection */
	    {.method = "POST", .path = "/v1.41/containers/z/start", .status = 204},
	};
	struct fake *f = fake_start(steps, NSTEPS(steps));
	struct docker_client *c = connect_fake(f);
	struct err err = ERR_INIT;
	json_t *info = NULL;
	char *want = xasprintf("cannot inspect container 'a' at %s: connection to the daemon "
	                       "failed: malformed answer",
	                       f->host);
	assert_int_equal(docker_container_inspect(c, "a", &info, &err), -1);
	assert_string_equal(err.msg, want);
	free(want);
	err_release(&err);
	assert_int_equal(docker_container_inspect(c, "b", &info, &err), -1);
	assert_non_null(strstr(err.msg, "malformed answer body"));
	err_release(&err);
	assert_int_equal(docker_container_inspect(c, "c", &info, &err), -1);
	assert_non_null(strstr(err.msg, "invalid JSON from the daemon"));
	err_release(&err);
	assert_int_equal(docker_container_inspect(c, "d", &info, &err), -1);
	want = xasprintf("cannot inspect container 'd' at %s: No such container: d (HTTP 404)",
	                 f->host);
	assert_string_equal(err.msg, want);
	free(want);
	err_release(&err);
	assert_null(info);
	int dir = open("/", O_RDONLY | O_DIRECTORY);
	assert_true(dir >= 0);
	assert_int_equal(docker_container_put_archive_fd(c, "z", "/x", dir, &err), -1);
	close(dir);
	assert_non_null(strstr(err.msg, "cannot read the request body"));
	err_release(&err);
	assert_int_equal(docker_container_start(c, "z", &err), 0);
	docker_client_free(c);
	fake_finish(f, true);
}

struct cancel_on_line {
	int fd;
	int lines;
};

/* Presses "Ctrl-C" when the first progress line arrives. */
static void cancel_on_first_line(void *ud, const char *line)
{
	struct cancel_on_line *x = ud;
	(void)line;
	if (x->lines++ == 0)
		assert_int_equal(write(x->fd, "x", 1), 1);
}

static void test_pull_cancel(void **state)
{
	struct strbuf first = STRBUF_INIT;
	add_chunk(&first, "{\"status\":\"Pulling from x\"}\r\n");
	struct step steps[] = {
	    PING("1.41"),
	    /* one line, then nothing: a pull waiting on a slow registry */
	    {.method = "POST",
	     .path = "/v1.41/images/create?fromImage=slow&tag=latest",
	     .raw_head = chunked_head,
	     .raw = first.buf,
	     .raw_len = first.len,
	     .hold = true},
	    {.method = "POST", .path = "/v1.41/containers/a/start", .status = 204, .wake = true},
	};
	struct fake *f = fake_start(steps, NSTEPS(steps));
	struct docker_client *c = connect_fake(f);
	int p[2];
	assert_int_equal(pipe(p), 0);
	struct cancel_on_line x = {.fd = p[1]};
	struct docker_pull_opts o = DOCKER_PULL_OPTS_INIT;
	o.on_line = cancel_on_first_line;
	o.userdata = &x;
	o.cancel_fd = p[0];
	struct err err = ERR_INIT;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(docker_image_pull_opts(c, "slow", &o, &err), -1);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_int_equal(err.kind, ERR_JOB);
	assert_string_equal(err.msg, "canceled");
	err_release(&err);
	assert_int_equal(x.lines, 1);
	assert_true(t1.tv_sec - t0.tv_sec < 5); /* the fake holds for 10 s */
	/* the client goes on, on a new connection */
	assert_int_equal(docker_container_start(c, "a", &err), 0);
	assert_int_equal(f->n_conns, 2);
	close(p[0]);
	close(p[1]);
	docker_client_free(c);
	fake_finish(f, true);
	strbuf_release(&first);
}

/* tcp:// goes through libcurl (loaded now), with the same HTTP on top: keep-alive, chunked
 * answers, error answers and a hijacked attach with the stdin half-close. */
static void test_tcp_transport(void **state)
{
	build_run_frames();
	struct strbuf ok = STRBUF_INIT;
	add_chunk(&ok, "{\"status\":\"Pulling from x\"}\r\n");
	add_chunk(&ok, "{\"status\":\"Status: Downloaded\"}\r\n");
	strbuf_addstr(&ok, "0\r\n\r\n");
	static const size_t splits[] = {5, 31, 0};
	struct step steps[] = {
	    PING("1.41"),
	    {.method = "POST",
	     .path = "/v1.41/images/create?fromImage=alpine&tag=latest",
	     .raw = ok.buf,
	     .raw_len = ok.len,
	     .raw_head = chunked_head,
	     .splits = splits},
	    {.method = "GET",
	     .path = "/v1.41/containers/nope/json",
	     .status = 404,
	     .body = "{\"message\":\"No such container: nope\"}"},
	    {.method = "POST",
	     .path = "/v1.41/containers/t1/attach?stream=1&stdin=1&stdout=1&stderr=1",
	     .hijack = true,
	     .read_stdin = true,
	     .raw = run_frames.buf,
	     .raw_len = run_frames.len,
	     .splits = run_splits},
	    {.method = "POST", .path = "/v1.41/containers/t1/start", .status = 204},
	    {.method = "POST",
	     .path = "/v1.41/containers/t1/wait",
	     .status = 200,
	     .body = "{\"StatusCode\":3}"},
	};
	struct fake *f = fake_start_on(steps, NSTEPS(steps), true);
	/* plain tcp, also when t102 runs these tests with DOCKER_TLS_VERIFY=1 */
	struct docker_opts to = DOCKER_OPTS_INIT;
	to.host = f->host;
	to.tls_verify = 0;
	to.timeout_ms = 10000;
	struct err err = ERR_INIT;
	struct docker_client *c = docker_client_new(&to, &err);
	if (!c)
		fail_msg("connect: %s", err.msg);
	struct strvec lines = STRVEC_INIT;
	assert_int_equal(docker_image_pull(c, "alpine", on_line, &lines, &err), 0);
	assert_int_equal(lines.n, 2);
	assert_string_equal(lines.v[1], "Status: Downloaded");
	strvec_release(&lines);
	json_t *info = NULL;
	assert_int_equal(docker_container_inspect(c, "nope", &info, &err), -1);
	char *want = xasprintf("cannot inspect container 'nope' at %s: No such container: nope "
	                       "(HTTP 404)",
	                       f->host);
	assert_string_equal(err.msg, want);
	free(want);
	err_release(&err);
	assert_int_equal(f->n_conns, 1);
	struct output o = {STRBUF_INIT, STRBUF_INIT, 0};
	struct docker_run_io io = {.input = "echo hi\n",
	                           .input_len = 8,
	                           .on_output = on_output,
	                           .userdata = &o,
	                           .cancel_fd = -1};
	int code = -1;
	if (docker_container_run_attached(c, "t1", &io, &code, NULL, &err) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(code, 3);
	assert_string_equal(o.out.buf, "line one\nline two\n");
	assert_string_equal(f->rec[3].stdin_data.buf, "echo hi\n");
	output_release(&o);
	docker_client_free(c);
	fake_finish(f, true);
	strbuf_release(&ok);
	/* nobody listening: the connect error names the endpoint */
	struct docker_opts op = DOCKER_OPTS_INIT;
	op.host = "tcp://127.0.0.1:1";
	op.tls_verify = 0;
	assert_null(docker_client_new(&op, &err));
	assert_int_equal(err.kind, ERR_ENV);
	assert_string_equal(err.msg, "cannot connect to the Docker daemon at tcp://127.0.0.1:1: "
	                             "Connection refused (is the daemon running?)");
	err_release(&err);
}

static void test_request_timeout(void **state)
{
	/* a daemon that accepts and never answers: the per-request timeout ends the wait */
	struct step steps[] = {
	    PING("1.41"),
	    {.method = "GET",
	     .path = "/v1.41/containers/c1/json",
	     .hijack = true,
	     .raw_head = "",
	     .hold = true},
	};
	struct fake *f = fake_start(steps, NSTEPS(steps));
	struct docker_opts o = DOCKER_OPTS_INIT;
	o.host = f->host;
	o.timeout_ms = 200;
	struct err err = ERR_INIT;
	struct docker_client *c = docker_client_new(&o, &err);
	assert_non_null(c);
	json_t *info = NULL;
	assert_int_equal(docker_container_inspect(c, "c1", &info, &err), -1);
	assert_int_equal(err.kind, ERR_ENV);
	assert_non_null(strstr(err.msg, "cannot inspect container 'c1'"));
	err_release(&err);
	docker_client_free(c);
	fake_finish(f, true);
}

/* ======================================================================================
 * The real engine (RUNNEL_DOCKER_E2E=1)
 * ====================================================================================== */

static const char *e2e_image(void)
{
	const char *i = getenv("RUNNEL_DOCKER_IMAGE");
	return i && *i ? i : "runnel-test/busybox:1";
}

static struct docker_client *engine_client(void)
{
	struct err err = ERR_INIT;
	struct docker_client *c = docker_client_new(NULL, &err);
	if (!c)
		fail_msg("%s", err.msg);
	return c;
}

#define CHECK(call)                                                                                \
	do {                                                                                       \
		if ((call) < 0)                                                                    \
			fail_msg("%s: %s", #call, err.msg);                                        \
	} while (0)

static char test_label[64];

static void make_tar(struct strbuf *tar, const char *name, const char *data)
{
	char h[512] = {0};
	snprintf(h, 100, "%s", name);
	snprintf(h + 100, 8, "%07o", 0644);
	snprintf(h + 108, 8, "%07o", 0);
	snprintf(h + 116, 8, "%07o", 0);
	snprintf(h + 124, 12, "%011zo", strlen(data));
	snprintf(h + 136, 12, "%011o", 0);
	h[156] = '0';
	memcpy(h + 257, "ustar", 6);
	memcpy(h + 263, "00", 2);
	memset(h + 148, ' ', 8);
	unsigned sum = 0;
	for (int i = 0; i < 512; i++)
		sum += (unsigned char)h[i];
	snprintf(h + 148, 8, "%06o", sum);
	strbuf_add(tar, h, 512);
	strbuf_addstr(tar, data);
	size_t pad = (512 - strlen(data) % 512) % 512 + 1024;
	for (size_t i = 0; i < pad; i++)
		strbuf_addch(tar, '\0');
}

static void engine_run(struct docker_client *c, const char *net, char **ret_id)
{
	struct err err = ERR_INIT;
	char *cmd[] = {"sh", NULL};
	char *labels[] = {test_label, NULL};
	char *aliases[] = {"job", NULL};
	char *env[] = {"GREETING=hello", NULL};
	struct docker_container_spec s = {.image = e2e_image(),
	                                  .cmd = cmd,
	                                  .labels = labels,
	                                  .env = env,
	                                  .open_stdin = true,
	                                  .network = net,
	                                  .network_aliases = aliases};
	CHECK(docker_container_create(c, &s, ret_id, &err));
	/* cat proves stdin reaches EOF; the rest checks env, both streams and the exit code */
	const char *script = "echo \"$GREETING from $HOSTNAME\"\n"
	                     "echo to-stderr >&2\n"
	                     "printf 'data\\n' > /tmp/in.txt\n"
	                     "exit 7\n";
	struct output o = {STRBUF_INIT, STRBUF_INIT, 0};
	struct docker_run_io io = {.input = script,
	                           .input_len = strlen(script),
	                           .on_output = on_output,
	                           .userdata = &o,
	                           .cancel_fd = -1,
	                           .timeout_ms = 60000};
	int code = -1;
	bool to = true;
	CHECK(docker_container_run_attached(c, *ret_id, &io, &code, &to, &err));
	assert_int_equal(code, 7);
	assert_false(to);
	assert_non_null(strstr(o.out.buf, "hello from "));
	assert_string_equal(o.err.buf, "to-stderr\n");
	output_release(&o);
}

static void test_engine_run(void **state)
{
	struct docker_client *c = engine_client();
	struct err err = ERR_INIT;
	snprintf(test_label, sizeof(test_label), "com.runnel.test=%ld", (long)getpid());
	char *labels[] = {test_label, NULL};
	char net_name[64];
	snprintf(net_name, sizeof(net_name), "rn-test-%ld", (long)getpid());
	char *net = NULL;
	CHECK(docker_network_create(c, net_name, labels, &net, &err));
	char *id = NULL;
	engine_run(c, net_name, &id);

	/* stdin EOF really arrives: cat ends */
	char *cmd[] = {"cat", NULL};
	struct docker_container_spec s = {
	    .image = e2e_image(), .cmd = cmd, .labels = labels, .open_stdin = true};
	char *cat_id = NULL;
	CHECK(docker_container_create(c, &s, &cat_id, &err));
	struct output o = {STRBUF_INIT, STRBUF_INIT, 0};
	struct docker_run_io io = {.input = "round trip\n",
	                           .input_len = 11,
	                           .on_output = on_output,
	                           .userdata = &o,
	                           .cancel_fd = -1,
	                           .timeout_ms = 30000};
	int code = -1;
	CHECK(docker_container_run_attached(c, cat_id, &io, &code, NULL, &err));
	assert_int_equal(code, 0);
	assert_string_equal(o.out.buf, "round trip\n");
	output_release(&o);

	/* archive: in and out of the stopped container */
	struct strbuf tar = STRBUF_INIT;
	make_tar(&tar, "hello.txt", "archived content\n");
	CHECK(docker_container_put_archive(c, id, "/tmp", tar.buf, tar.len, &err));
	strbuf_release(&tar);
	char path[] = "/tmp/rn-e2e-XXXXXX";
	int fd = mkstemp(path);
	unlink(path);
	CHECK(docker_container_get_archive(c, id, "/tmp/hello.txt", fd, &err));
	char got[2048] = {0};
	assert_true(pread(fd, got, sizeof(got), 0) >= 512 + 17);
	assert_string_equal(got, "hello.txt");
	assert_memory_equal(got + 512, "archived content\n", 17);
	CHECK(
	    docker_container_get_archive(c, id, "/tmp/in.txt", fd, &err)); /* written by the job */
	assert_true(ftruncate(fd, 0) == 0);
	close(fd);
	assert_int_equal(docker_container_get_archive(c, id, "/no/such/file", -1, &err), -1);
	assert_non_null(strstr(err.msg, "(HTTP 404)"));
	err_release(&err);

	struct strbuf logs = STRBUF_INIT;
	CHECK(docker_container_logs(c, id, 1, &logs, &err));
	assert_true(logs.len > 0);
	strbuf_release(&logs);

	/* leftovers are found by label */
	struct strvec ids = STRVEC_INIT;
	CHECK(docker_list_by_label(c, "containers", test_label, &ids, &err));
	assert_int_equal(ids.n, 2);
	CHECK(docker_list_by_label(c, "networks", test_label, &ids, &err));
	assert_int_equal(ids.n, 3);
	for (size_t i = 0; i < 2; i++)
		CHECK(docker_container_remove(c, ids.v[i], &err));
	CHECK(docker_container_remove(c, id, &err)); /* already gone: not an error */
	CHECK(docker_network_remove(c, net, &err));
	strvec_release(&ids);
	CHECK(docker_list_by_label(c, "containers", test_label, &ids, &err));
	assert_int_equal(ids.n, 0);
	strvec_release(&ids);
	free(id);
	free(cat_id);
	free(net);
	docker_client_free(c);
}

static void test_engine_exec_timeout_errors(void **state)
{
	struct docker_client *c = engine_client();
	struct err err = ERR_INIT;
	char *labels[] = {test_label, NULL};
	char *cmd[] = {"sleep", "30", NULL};
	struct docker_container_spec s = {
	    .image = e2e_image(), .cmd = cmd, .labels = labels, .open_stdin = true};
	char *id = NULL;
	CHECK(docker_container_create(c, &s, &id, &err));
	struct output o = {STRBUF_INIT, STRBUF_INIT, 0};
	struct docker_run_io io = {
	    .on_output = on_output, .userdata = &o, .cancel_fd = -1, .timeout_ms = 500};
	int code = -1;
	bool to = false;
	CHECK(docker_container_run_attached(c, id, &io, &code, &to, &err));
	assert_true(to);
	assert_int_equal(code, 137);
	output_release(&o);
	CHECK(docker_container_remove(c, id, &err));
	free(id);

	/* exec in a running container */
	char *cmd2[] = {"sleep", "30", NULL};
	s.cmd = cmd2;
	s.open_stdin = false;
	CHECK(docker_container_create(c, &s, &id, &err));
	CHECK(docker_container_start(c, id, &err));
	char *argv[] = {"sh", "-c", "echo in-exec; echo e >&2; exit 5", NULL};
	struct strbuf out = STRBUF_INIT;
	CHECK(docker_container_exec(c, id, argv, &out, &code, &err));
	assert_int_equal(code, 5);
	assert_non_null(strstr(out.buf, "in-exec\n"));
	strbuf_release(&out);
	struct docker_state st;
	CHECK(docker_container_state(c, id, &st, &err));
	assert_true(st.running);
	docker_state_release(&st);
	CHECK(docker_container_kill(c, id, "KILL", &err));
	CHECK(docker_container_wait(c, id, &code, &err));
	CHECK(docker_container_kill(c, id, "KILL", &err)); /* not running: fine */
	CHECK(docker_container_remove(c, id, &err));
	free(id);

	/* errors say what the daemon said */
	struct docker_container_spec bad = {.image = "runnel-test/does-not-exist:1"};
	assert_int_equal(docker_container_create(c, &bad, &id, &err), -1);
	assert_non_null(strstr(err.msg, "cannot create container for image "
	                                "'runnel-test/does-not-exist:1' at "));
	assert_non_null(strstr(err.msg, "(HTTP 404)"));
	err_release(&err);
	bool found = true;
	CHECK(docker_image_inspect(c, "runnel-test/does-not-exist:1", &found, NULL, &err));
	assert_false(found);
	CHECK(docker_image_inspect(c, e2e_image(), &found, NULL, &err));
	assert_true(found);
	/* no registry is reachable here: the pull must fail with a message, not hang */
	assert_int_equal(docker_image_pull(c, "registry.invalid/x/y", NULL, NULL, &err), -1);
	assert_non_null(strstr(err.msg, "cannot pull image 'registry.invalid/x/y'"));
	err_release(&err);
	docker_client_free(c);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* RUNNEL_DOCKER_BENCH=N: N trivial jobs (create, attach, start, stdin, wait, remove), the hot
 * path of every job; prints the mean for t100 to compare with `docker run --rm`. */
static void test_engine_bench(void **state)
{
	const char *env = getenv("RUNNEL_DOCKER_BENCH");
	int n = env ? atoi(env) : 0;
	if (n <= 0)
		skip();
	struct docker_client *c = engine_client();
	struct err err = ERR_INIT;
	char *cmd[] = {"sh", NULL};
	char *labels[] = {test_label, NULL};
	struct docker_container_spec s = {
	    .image = e2e_image(), .cmd = cmd, .labels = labels, .open_stdin = true};
	double total = 0;
	for (int i = 0; i < n; i++) {
		double t0 = now_s();
		char *id = NULL;
		CHECK(docker_container_create(c, &s, &id, &err));
		struct docker_run_io io = {.input = "exit 0\n", .input_len = 7, .cancel_fd = -1};
		int code = -1;
		CHECK(docker_container_run_attached(c, id, &io, &code, NULL, &err));
		CHECK(docker_container_remove(c, id, &err));
		total += now_s() - t0;
		assert_int_equal(code, 0);
		free(id);
	}
	printf("bench: %d runs, mean %.1f ms\n", n, total / n * 1000);
	docker_client_free(c);
}

int main(void)
{
	const struct CMUnitTest pure[] = {
	    cmocka_unit_test(test_host_parse),         cmocka_unit_test(test_api_version_parse),
	    cmocka_unit_test(test_http_head),          cmocka_unit_test(test_dechunk),
	    cmocka_unit_test(test_error_message),      cmocka_unit_test(test_image_ref_split),
	    cmocka_unit_test(test_lines_and_progress), cmocka_unit_test(test_demux),
	    cmocka_unit_test(test_parse_json_answers), cmocka_unit_test(test_http_body),
	    cmocka_unit_test(test_http_head_fields),
	};
	const struct CMUnitTest fake[] = {
	    cmocka_unit_test(test_connect_refused),
	    cmocka_unit_test(test_negotiate),
	    cmocka_unit_test(test_create_container),
	    cmocka_unit_test(test_simple_endpoints),
	    cmocka_unit_test(test_networks_volumes_lists),
	    cmocka_unit_test(test_pull),
	    cmocka_unit_test(test_run_attached),
	    cmocka_unit_test(test_run_attached_errors),
	    cmocka_unit_test(test_run_attached_timeout_cancel),
	    cmocka_unit_test(test_logs_exec),
	    cmocka_unit_test(test_archive),
	    cmocka_unit_test(test_request_timeout),
	    cmocka_unit_test(test_keepalive),
	    cmocka_unit_test(test_bad_answers),
	    cmocka_unit_test(test_pull_cancel),
	    /* last: it maps libcurl, which the others check is not mapped */
	    cmocka_unit_test(test_tcp_transport),
	};
	const struct CMUnitTest engine[] = {
	    cmocka_unit_test(test_engine_run),
	    cmocka_unit_test(test_engine_exec_timeout_errors),
	    cmocka_unit_test(test_engine_bench),
	};
	int r = cmocka_run_group_tests_name("docker-parse", pure, NULL, NULL);
	r |= cmocka_run_group_tests_name("docker-fake-daemon", fake, NULL, NULL);
	const char *e2e = getenv("RUNNEL_DOCKER_E2E");
	if (e2e && !strcmp(e2e, "1"))
		r |= cmocka_run_group_tests_name("docker-engine", engine, NULL, NULL);
	strbuf_release(&run_frames);
	return r ? 1 : 0;
}
