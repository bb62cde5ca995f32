/* Hijacked connections (attach, exec start) and the attached run of a job script.
 *
 * libcurl cannot hand a response body back as a two-way stream, so a hijack uses a separate
 * CONNECT_ONLY handle: curl connects (unix socket, tcp or TLS), we write the HTTP request
 * ourselves with curl_easy_send(), read the head with curl_easy_recv(), and from then on the
 * connection carries raw stdin one way and multiplexed frames the other. Stdin EOF is a
 * half-close (shutdown(SHUT_WR)), as the docker CLI does, also under TLS (the CLI closes the
 * TCP write side below TLS too). Every wait is a poll() with a deadline or on a socket the
 * daemon closes when it goes away, so a vanished daemon gives an error rather than a hang. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "docker/internal.h"
#include "util/cleanup.h"
#include "util/xalloc.h"

#define HEAD_TIMEOUT_MS 60000L
#define ERROR_BODY_MAX (1024 * 1024)
#define DRAIN_TIMEOUT_MS 10000L
#define READ_CHUNK 65536

struct dk_hijack {
	struct docker_client *c;
	CURL *h;
	curl_socket_t fd;
	char *what;            /* owned */
	struct strbuf pending; /* bytes read after the head, not yet demultiplexed */
	struct docker_demux demux;
	bool demux_ready;
	char errbuf[CURL_ERROR_SIZE];
};

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

void dk_hijack_free(struct dk_hijack *hj)
{
	if (!hj)
		return;
	if (hj->h)
		curl_easy_cleanup(hj->h);
	free(hj->what);
	strbuf_release(&hj->pending);
	free(hj);
}

static int conn_error(struct dk_hijack *hj, const char *detail, struct err *err)
{
	return err_set(err, ERR_ENV, "%s at %s: connection to the daemon failed: %s", hj->what,
	               hj->c->endpoint, detail);
}

/* 1 when fd is ready, 0 when the deadline passed. */
static int wait_fd(struct dk_hijack *hj, short events, long deadline, struct err *err)
{
	for (;;) {
		long left = deadline - now_ms();
		if (left <= 0)
			return 0;
		struct pollfd pfd = {.fd = hj->fd, .events = events};
		int r = poll(&pfd, 1, (int)(left > 1000000 ? 1000000 : left));
		if (r > 0)
			return 1;
		if (r < 0 && errno != EINTR)
			return err_sys(err, errno, "%s: poll", hj->what);
	}
}

static int hj_connect(struct dk_hijack *hj, struct err *err)
{
	hj->h = curl_easy_init();
	if (!hj->h)
		return err_set(err, ERR_INTERNAL, "cannot initialise libcurl");
	dk_setup_conn(hj->c, hj->h);
	_cleanup_free_ char *url = xasprintf("%s/", hj->c->base_url);
	curl_easy_setopt(hj->h, CURLOPT_URL, url);
	curl_easy_setopt(hj->h, CURLOPT_CONNECT_ONLY, 1L);
	curl_easy_setopt(hj->h, CURLOPT_ERRORBUFFER, hj->errbuf);
	CURLcode rc = curl_easy_perform(hj->h);
	if (rc != CURLE_OK)
		return dk_curl_error(hj->c, hj->h, rc, hj->what, hj->errbuf, err);
	if (curl_easy_getinfo(hj->h, CURLINFO_ACTIVESOCKET, &hj->fd) != CURLE_OK ||
	    hj->fd == CURL_SOCKET_BAD)
		return conn_error(hj, "no socket", err);
	return 0;
}

static int send_all(struct dk_hijack *hj, const char *buf, size_t len, struct err *err)
{
	long deadline = now_ms() + HEAD_TIMEOUT_MS;
	while (len > 0) {
		size_t n = 0;
		CURLcode rc = curl_easy_send(hj->h, buf, len, &n);
		if (rc == CURLE_AGAIN) {
			int w = wait_fd(hj, POLLOUT, deadline, err);
			if (w <= 0)
				return w < 0 ? -1 : conn_error(hj, "timed out sending", err);
			continue;
		}
		if (rc != CURLE_OK)
			return conn_error(hj, curl_easy_strerror(rc), err);
		buf += n;
		len -= n;
	}
	return 0;
}

/* Reads what is available: >0 bytes, 0 at EOF, -2 when it would block, -1 on error. */
static long hj_recv(struct dk_hijack *hj, char *buf, size_t cap, struct err *err)
{
	size_t n = 0;
	CURLcode rc = curl_easy_recv(hj->h, buf, cap, &n);
	if (rc == CURLE_AGAIN)
		return -2;
	if (rc != CURLE_OK)
		return conn_error(hj, curl_easy_strerror(rc), err);
	return (long)n;
}

/* Reads more bytes into pending, waiting until deadline. 1 read, 0 EOF, -1 error/timeout. */
static int read_more(struct dk_hijack *hj, long deadline, struct err *err)
{
	char buf[4096];
	for (;;) {
		long n = hj_recv(hj, buf, sizeof(buf), err);
		if (n > 0) {
			strbuf_add(&hj->pending, buf, (size_t)n);
			return 1;
		}
		if (n == 0 || n == -1)
			return (int)n;
		int w = wait_fd(hj, POLLIN, deadline, err);
		if (w <= 0)
			return w < 0 ? -1 : conn_error(hj, "no answer from the daemon", err);
	}
}

static int read_head(struct dk_hijack *hj, struct docker_http_head *head, struct err *err)
{
	long deadline = now_ms() + HEAD_TIMEOUT_MS;
	for (;;) {
		long hl = docker_http_head_parse(hj->pending.buf, hj->pending.len, head);
		if (hl < 0)
			return conn_error(hj, "malformed answer", err);
		if (hl > 0) {
			memmove(hj->pending.buf, hj->pending.buf + hl,
			        hj->pending.len - (size_t)hl);
			strbuf_setlen(&hj->pending, hj->pending.len - (size_t)hl);
			return 0;
		}
		int r = read_more(hj, deadline, err);
		if (r < 0)
			return -1;
		if (r == 0)
			return conn_error(hj, "connection closed before the answer", err);
	}
}

/* Reads the body of an error answer (bounded) and turns it into err. */
static int read_error(struct dk_hijack *hj, const struct docker_http_head *head, struct err *err)
{
	long deadline = now_ms() + DRAIN_TIMEOUT_MS;
	for (;;) {
		if (head->content_length >= 0 && hj->pending.len >= (size_t)head->content_length)
			break;
		if (head->chunked) {
			struct strbuf tmp = STRBUF_INIT;
			int d = docker_dechunk(hj->pending.buf, hj->pending.len, &tmp);
			strbuf_release(&tmp);
			if (d <= 0)
				break;
		}
		if (hj->pending.len > ERROR_BODY_MAX)
			break;
		struct err ignore = ERR_INIT;
		int r = read_more(hj, deadline, &ignore);
		err_release(&ignore);
		if (r <= 0)
			break;
	}
	struct strbuf body = STRBUF_INIT;
	if (head->chunked)
		docker_dechunk(hj->pending.buf, hj->pending.len, &body);
	else
		strbuf_add(&body, hj->pending.buf,
		           head->content_length >= 0 &&
		                   (size_t)head->content_length < hj->pending.len
		               ? (size_t)head->content_length
		               : hj->pending.len);
	dk_status_error(hj->c, hj->what, head->status, body.buf, body.len, err);
	strbuf_release(&body);
	return -1;
}

static char *request_text(const struct docker_client *c, const char *method, const char *path,
                          const char *body)
{
	struct strbuf sb = STRBUF_INIT;
	strbuf_addf(&sb,
	            "%s /v%s%s HTTP/1.1\r\nHost: %s\r\nUser-Agent: runnel\r\n"
	            "Connection: Upgrade\r\nUpgrade: tcp\r\n",
	            method, c->api_version, path, c->host_header);
	if (body)
		strbuf_addf(&sb, "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
		            strlen(body), body);
	else
		strbuf_addstr(&sb, "Content-Length: 0\r\n\r\n");
	return strbuf_detach(&sb, NULL);
}

struct dk_hijack *dk_hijack_open(struct docker_client *c, const char *method, const char *path,
                                 const json_t *body, const char *what, struct err *err)
{
	struct dk_hijack *hj = xcalloc(1, sizeof(*hj));
	hj->c = c;
	hj->fd = CURL_SOCKET_BAD;
	hj->what = xstrdup(what);
	strbuf_init(&hj->pending, 0);
	_cleanup_free_ char *json = body ? json_dumps(body, JSON_COMPACT) : NULL;
	_cleanup_free_ char *req = request_text(c, method, path, json);
	struct docker_http_head head;
	if (hj_connect(hj, err) < 0 || send_all(hj, req, strlen(req), err) < 0 ||
	    read_head(hj, &head, err) < 0) {
		dk_hijack_free(hj);
		return NULL;
	}
	if (head.status != 101 && head.status != 200) {
		read_error(hj, &head, err);
		dk_hijack_free(hj);
		return NULL;
	}
	return hj;
}

/* ---- pumping ---- */

static int feed(struct dk_hijack *hj, struct dk_pump *p, const char *data, size_t len,
                struct err *err)
{
	if (docker_demux_feed(&hj->demux, data, len, p->on_output, p->userdata, err) < 0)
		return err_wrap(err, "%s at %s", hj->what, hj->c->endpoint);
	return 0;
}

/* Drains what is readable now. 1 = more may come, 0 = EOF, -1 = error. */
static int pump_read(struct dk_hijack *hj, struct dk_pump *p, struct err *err)
{
	char *buf = xmalloc(READ_CHUNK);
	int r = 1;
	for (;;) {
		long n = hj_recv(hj, buf, READ_CHUNK, err);
		if (n == -2)
			break;
		if (n < 0 || (n > 0 && feed(hj, p, buf, (size_t)n, err) < 0)) {
			r = -1;
			break;
		}
		if (n == 0) {
			r = docker_demux_partial(&hj->demux)
			        ? conn_error(hj, "closed in the middle of the output", err)
			        : 0;
			break;
		}
	}
	free(buf);
	return r;
}

/* Writes the next piece of stdin; half-closes when all is written. */
static void pump_write(struct dk_hijack *hj, struct dk_pump *p, size_t *off, bool *open)
{
	while (*off < p->input_len) {
		size_t n = 0;
		CURLcode rc = curl_easy_send(hj->h, p->input + *off, p->input_len - *off, &n);
		if (rc == CURLE_AGAIN)
			return;
		if (rc != CURLE_OK) {
			/* the container closed its stdin: its output still matters */
			*open = false;
			return;
		}
		*off += n;
	}
	if (p->close_stdin)
		shutdown(hj->fd, SHUT_WR);
	*open = false;
}

static int poll_timeout(long deadline)
{
	if (!deadline)
		return -1;
	long left = deadline - now_ms();
	return left <= 0 ? 0 : left > 1000000 ? 1000000 : (int)left;
}

int dk_hijack_pump(struct dk_hijack *hj, struct dk_pump *p, struct err *err)
{
	if (!hj->demux_ready) {
		docker_demux_init(&hj->demux, p->raw);
		hj->demux_ready = true;
	}
	if (hj->pending.len && feed(hj, p, hj->pending.buf, hj->pending.len, err) < 0)
		return -1;
	strbuf_reset(&hj->pending);
	size_t off = 0;
	bool open = p->input_len > 0 || p->close_stdin;
	long deadline = p->timeout_ms > 0 ? now_ms() + p->timeout_ms : 0;
	for (;;) {
		struct pollfd pfd[2] = {
		    {.fd = hj->fd, .events = (short)(POLLIN | (open ? POLLOUT : 0))},
		    {.fd = p->cancel_fd, .events = POLLIN},
		};
		int t = poll_timeout(deadline);
		if (t == 0) {
			p->timed_out = true;
			return 0;
		}
		int r = poll(pfd, p->cancel_fd >= 0 ? 2 : 1, t);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return err_sys(err, errno, "%s: poll", hj->what);
		if (p->cancel_fd >= 0 && pfd[1].revents) {
			p->canceled = true;
			return 0;
		}
		if (open && (pfd[0].revents & POLLOUT))
			pump_write(hj, p, &off, &open);
		if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			int rr = pump_read(hj, p, err);
			if (rr <= 0)
				return rr;
		}
	}
}

/* ---- the attached run ---- */

/* After a timeout: kill, then collect what the container wrote until the stream ends. */
static int finish_timed_out(struct docker_client *c, const char *id, struct dk_hijack *hj,
                            const struct docker_run_io *io, struct err *err)
{
	if (docker_container_kill(c, id, "KILL", err) < 0)
		return -1;
	struct dk_pump p = DK_PUMP_INIT;
	p.on_output = io->on_output;
	p.userdata = io->userdata;
	p.timeout_ms = DRAIN_TIMEOUT_MS;
	p.raw = io->tty;
	return dk_hijack_pump(hj, &p, err);
}

int docker_container_run_attached(struct docker_client *c, const char *id,
                                  const struct docker_run_io *io, int *ret_exit_code,
                                  bool *ret_timed_out, struct err *err)
{
	_cleanup_free_ char *path = xasprintf("/containers/%s/attach?stream=1&stdin=1&stdout=1&"
	                                      "stderr=1",
	                                      id);
	_cleanup_free_ char *what = xasprintf("cannot attach to container '%.12s'", id);
	/* attach before start, so that no output is lost */
	struct dk_hijack *hj = dk_hijack_open(c, "POST", path, NULL, what, err);
	if (!hj)
		return -1;
	if (docker_container_start(c, id, err) < 0) {
		dk_hijack_free(hj);
		return -1;
	}
	struct dk_pump p = DK_PUMP_INIT;
	p.input = io->input;
	p.input_len = io->input ? io->input_len : 0;
	p.close_stdin = true;
	p.on_output = io->on_output;
	p.userdata = io->userdata;
	p.cancel_fd = io->cancel_fd;
	p.timeout_ms = io->timeout_ms;
	p.raw = io->tty;
	int r = dk_hijack_pump(hj, &p, err);
	if (r == 0 && p.canceled) {
		dk_hijack_free(hj);
		if (docker_container_kill(c, id, "KILL", err) < 0)
			return -1;
		return err_set(err, ERR_JOB, "canceled");
	}
	if (r == 0 && p.timed_out)
		r = finish_timed_out(c, id, hj, io, err);
	dk_hijack_free(hj);
	if (r < 0)
		return -1;
	if (docker_container_wait(c, id, ret_exit_code, err) < 0)
		return -1;
	if (ret_timed_out)
		*ret_timed_out = p.timed_out;
	return 0;
}
