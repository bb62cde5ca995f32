/* Connections to the daemon: the unix-socket transport (the default endpoint, plain sockets, no
 * library) and the waiting helpers every transport shares. All sockets are non-blocking and
 * every wait is a poll() with a deadline and the caller's cancel fd, so a daemon that hangs or
 * a Ctrl-C never leaves a request stuck in a read. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "docker/internal.h"
#include "util/monotime.h"
#include "util/xalloc.h"

#define READ_CHUNK 16384
#define POLL_MAX_MS 1000000L

long dk_now_ms(void)
{
	return monotime_ms();
}

/* ---- unix sockets ---- */

/* send()'s or recv()'s outcome as the transport reports it: bytes, -2 would block, -1 failed
 * (detail set), -3 interrupted by a signal (call again). */
static long unix_outcome(struct dk_conn *cn, ssize_t n)
{
	if (n >= 0)
		return (long)n;
	if (errno == EINTR)
		return -3;
	if (errno == EAGAIN || errno == EWOULDBLOCK)
		return -2;
	snprintf(cn->detail, sizeof(cn->detail), "%s", strerror(errno));
	return -1;
}

static long unix_send(struct dk_conn *cn, const char *buf, size_t len)
{
	long r;
	/* MSG_NOSIGNAL: a daemon gone away is an error to report, not a SIGPIPE */
	while ((r = unix_outcome(cn, send(cn->fd, buf, len, MSG_NOSIGNAL))) == -3)
		;
	return r;
}

static long unix_recv(struct dk_conn *cn, char *buf, size_t cap)
{
	long r;
	while ((r = unix_outcome(cn, recv(cn->fd, buf, cap, 0))) == -3)
		;
	return r;
}

static void unix_close(struct dk_conn *cn)
{
	if (cn->fd >= 0)
		close(cn->fd);
	cn->fd = -1;
}

static const struct dk_conn_ops unix_ops = {
    .send = unix_send,
    .recv = unix_recv,
    .close = unix_close,
};

static int unix_connect_error(const struct docker_client *c, int e, struct err *err)
{
	int r = err_set(err, ERR_ENV,
	                "cannot connect to the Docker daemon at %s: %s (is the daemon running?)",
	                c->endpoint, strerror(e));
	if (err)
		err->sys_errno = e;
	return r;
}

/* A connected non-blocking socket, or -1 with err. */
static int unix_connect(const struct docker_client *c, struct err *err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(c->host.path) >= sizeof(sa.sun_path))
		return unix_connect_error(c, ENAMETOOLONG, err);
	memcpy(sa.sun_path, c->host.path, strlen(c->host.path) + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return err_sys(err, errno, "cannot create a socket for %s", c->endpoint);
	/* a unix connect() does not wait for the daemon to accept: blocking is fine here */
	int r;
	do
		r = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	while (r < 0 && errno == EINTR);
	if (r < 0 || fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0) {
		int e = errno;
		close(fd);
		return unix_connect_error(c, e, err);
	}
	return fd;
}

struct dk_conn *dk_conn_open(struct docker_client *c, struct err *err)
{
	if (c->host.kind != DOCKER_HOST_UNIX)
		return dk_curl_conn_open(c, err);
	int fd = unix_connect(c, err);
	if (fd < 0)
		return NULL;
	struct dk_conn *cn = xcalloc(1, sizeof(*cn));
	cn->ops = &unix_ops;
	cn->fd = fd;
	strbuf_init(&cn->in, 0);
	return cn;
}

void dk_conn_free(struct dk_conn *cn)
{
	if (!cn)
		return;
	cn->ops->close(cn);
	strbuf_release(&cn->in);
	free(cn);
}

/* ---- waiting ---- */

enum dk_io dk_conn_wait(struct dk_conn *cn, short events, long deadline, int cancel_fd)
{
	for (;;) {
		int t = -1;
		if (deadline) {
			long left = deadline - dk_now_ms();
			if (left <= 0)
				return DK_IO_TIMEOUT;
			t = (int)(left > POLL_MAX_MS ? POLL_MAX_MS : left);
		}
		struct pollfd pfd[2] = {{.fd = cn->fd, .events = events},
		                        {.fd = cancel_fd, .events = POLLIN}};
		int r = poll(pfd, cancel_fd >= 0 ? 2 : 1, t);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			snprintf(cn->detail, sizeof(cn->detail), "poll: %s", strerror(errno));
			return DK_IO_ERR;
		}
		if (cancel_fd >= 0 && pfd[1].revents)
			return DK_IO_CANCEL;
		if (pfd[0].revents)
			return DK_IO_OK;
	}
}

enum dk_io dk_conn_send_all(struct dk_conn *cn, const char *buf, size_t len, long deadline,
                            int cancel_fd)
{
	while (len > 0) {
		long n = cn->ops->send(cn, buf, len);
		if (n == -1)
			return DK_IO_ERR;
		if (n == -2) {
			enum dk_io w = dk_conn_wait(cn, POLLOUT, deadline, cancel_fd);
			if (w != DK_IO_OK)
				return w;
			continue;
		}
		buf += n;
		len -= (size_t)n;
	}
	return DK_IO_OK;
}

enum dk_io dk_conn_fill(struct dk_conn *cn, long deadline, int cancel_fd)
{
	for (;;) {
		strbuf_grow(&cn->in, READ_CHUNK);
		long n = cn->ops->recv(cn, cn->in.buf + cn->in.len, READ_CHUNK);
		if (n > 0) {
			strbuf_setlen(&cn->in, cn->in.len + (size_t)n);
			return DK_IO_OK;
		}
		if (n == 0)
			return DK_IO_EOF;
		if (n == -1)
			return DK_IO_ERR;
		enum dk_io w = dk_conn_wait(cn, POLLIN, deadline, cancel_fd);
		if (w != DK_IO_OK)
			return w;
	}
}
