/* Hijacked connections (attach, exec start) and the attached run of a job script.
 *
 * A hijack opens its own connection (never the client's keep-alive one), writes the request
 * asking for an upgrade, reads the answer's head with http.c's reader, and from then on the
 * connection carries raw stdin one way and multiplexed frames the other. Stdin EOF is a
 * half-close (shutdown(SHUT_WR)), as the docker CLI does, also under TLS (the CLI closes the
 * TCP write side below TLS too). Every wait is a poll() with a deadline or on a socket the
 * daemon closes when it goes away, so a vanished daemon gives an error rather than a hang. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "docker/internal.h"
#include "util/cleanup.h"
#include "util/xalloc.h"

#define HEAD_TIMEOUT_MS 60000L
#define ERROR_BODY_MAX (1024 * 1024)
#define DRAIN_TIMEOUT_MS 10000L
#define READ_CHUNK 65536

struct dk_hijack {
	struct docker_client *c;
	struct dk_conn *cn;
	char *what; /* owned */
	struct docker_demux demux;
	bool demux_ready;
};

void dk_hijack_free(struct dk_hijack *hj)
{
	if (!hj)
		return;
	dk_conn_free(hj->cn);
	free(hj->what);
	free(hj);
}

static int conn_error(struct dk_hijack *hj, const char *detail, struct err *err)
{
	return err_set(err, ERR_ENV, "%s at %s: connection to the daemon failed: %s", hj->what,
	               hj->c->endpoint, detail);
}

/* Collects an error body, at most ERROR_BODY_MAX bytes of it. */
static int error_payload(void *ud, const char *data, size_t len)
{
	struct strbuf *body = ud;
	if (body->len + len > ERROR_BODY_MAX)
		len = ERROR_BODY_MAX - body->len;
	strbuf_add(body, data, len);
	return body->len >= ERROR_BODY_MAX ? -1 : 0;
}

/* A transfer on the hijacked connection that must end within timeout_ms. */
static struct dk_xfer hj_xfer(const struct dk_hijack *hj, long timeout_ms)
{
	return (struct dk_xfer){.c = hj->c,
	                        .cn = hj->cn,
	                        .what = hj->what,
	                        .deadline = dk_now_ms() + timeout_ms,
	                        .timeout_ms = timeout_ms,
	                        .cancel_fd = -1};
}

/* Reads the body of an error answer (bounded in size and time) and turns it into err. */
static int read_error(struct dk_hijack *hj, const struct docker_http_head *head, struct err *err)
{
	struct dk_xfer x = hj_xfer(hj, DRAIN_TIMEOUT_MS);
	struct docker_http_body b;
	docker_http_body_init(&b, head, false);
	struct strbuf body = STRBUF_INIT;
	struct err ignore = ERR_INIT;
	/* what came is the message, even when the rest of the body does not */
	dk_read_body(&x, &b, error_payload, &body, &ignore);
	err_release(&ignore);
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

/* Sends the request and reads the head of the answer. */
static int hj_start(struct dk_hijack *hj, const char *req, struct docker_http_head *head,
                    struct err *err)
{
	struct dk_xfer x = hj_xfer(hj, HEAD_TIMEOUT_MS);
	enum dk_io io = dk_conn_send_all(hj->cn, req, strlen(req), x.deadline, -1);
	if (io != DK_IO_OK)
		return dk_xfer_error(&x, io, err);
	return dk_read_head(&x, head, NULL, err);
}

struct dk_hijack *dk_hijack_open(struct docker_client *c, const char *method, const char *path,
                                 const json_t *body, const char *what, struct err *err)
{
	struct dk_hijack *hj = xcalloc(1, sizeof(*hj));
	hj->c = c;
	hj->what = xstrdup(what);
	_cleanup_free_ char *json = body ? json_dumps(body, JSON_COMPACT) : NULL;
	_cleanup_free_ char *req = request_text(c, method, path, json);
	struct docker_http_head head;
	if (!(hj->cn = dk_conn_open(c, err)) || hj_start(hj, req, &head, err) < 0) {
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
		long n = hj->cn->ops->recv(hj->cn, buf, READ_CHUNK);
		if (n == -2)
			break;
		if (n == -1)
			n = conn_error(hj, hj->cn->detail, err);
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
		long n = hj->cn->ops->send(hj->cn, p->input + *off, p->input_len - *off);
		if (n == -2)
			return;
		if (n < 0) {
			/* the container closed its stdin: its output still matters */
			*open = false;
			return;
		}
		*off += (size_t)n;
	}
	if (p->close_stdin)
		shutdown(hj->cn->fd, SHUT_WR);
	*open = false;
}

static int poll_timeout(long deadline)
{
	if (!deadline)
		return -1;
	long left = deadline - dk_now_ms();
	return left <= 0 ? 0 : left > 1000000 ? 1000000 : (int)left;
}

int dk_hijack_pump(struct dk_hijack *hj, struct dk_pump *p, struct err *err)
{
	if (!hj->demux_ready) {
		docker_demux_init(&hj->demux, p->raw);
		hj->demux_ready = true;
	}
	/* bytes that came with the head */
	if (hj->cn->in.len && feed(hj, p, hj->cn->in.buf, hj->cn->in.len, err) < 0)
		return -1;
	strbuf_reset(&hj->cn->in);
	/* a TLS transport may hold decrypted bytes that no poll() would announce */
	int first = pump_read(hj, p, err);
	if (first <= 0)
		return first;
	size_t off = 0;
	bool open = p->input_len > 0 || p->close_stdin;
	long deadline = p->timeout_ms > 0 ? dk_now_ms() + p->timeout_ms : 0;
	for (;;) {
		struct pollfd pfd[2] = {
		    {.fd = hj->cn->fd, .events = (short)(POLLIN | (open ? POLLOUT : 0))},
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
	if (io->started)
		io->started(io->userdata);
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
