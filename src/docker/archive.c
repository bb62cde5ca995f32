/* Archive API: tar streams into and out of a container (artifacts, caches, the job's files).
 * Bodies are streamed: a put reads its fd as curl sends, a get writes as curl receives. */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "docker/internal.h"
#include "util/cleanup.h"
#include "util/xalloc.h"

static int put_archive(struct docker_client *c, const char *id, const char *path, struct dk_req *rq,
                       struct err *err)
{
	_cleanup_free_ char *epath = dk_escape(path);
	_cleanup_free_ char *url = xasprintf("/containers/%s/archive?path=%s", id, epath);
	_cleanup_free_ char *what =
	    xasprintf("cannot copy files to '%s' in container '%.12s'", path, id);
	rq->method = "PUT";
	rq->path = url;
	rq->what = what;
	rq->content_type = "application/x-tar";
	rq->stream = true; /* a large tar may take longer than any request timeout */
	return dk_do(c, rq, NULL, NULL, err);
}

int docker_container_put_archive(struct docker_client *c, const char *id, const char *path,
                                 const void *tar, size_t len, struct err *err)
{
	struct dk_req rq = DK_REQ_INIT;
	rq.body = tar;
	rq.body_len = len;
	return put_archive(c, id, path, &rq, err);
}

int docker_container_put_archive_fd(struct docker_client *c, const char *id, const char *path,
                                    int fd, struct err *err)
{
	struct dk_req rq = DK_REQ_INIT;
	rq.body_fd = fd;
	return put_archive(c, id, path, &rq, err);
}

struct fd_sink {
	int fd;
	const char *what;
};

static int write_sink(void *ud, const char *data, size_t len, struct err *err)
{
	struct fd_sink *s = ud;
	while (len > 0) {
		ssize_t n = write(s->fd, data, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return err_sys(err, errno, "%s: cannot write the archive", s->what);
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

int docker_container_get_archive(struct docker_client *c, const char *id, const char *path,
                                 int out_fd, struct err *err)
{
	_cleanup_free_ char *epath = dk_escape(path);
	_cleanup_free_ char *url = xasprintf("/containers/%s/archive?path=%s", id, epath);
	_cleanup_free_ char *what = xasprintf("cannot copy '%s' from container '%.12s'", path, id);
	struct fd_sink s = {.fd = out_fd, .what = what};
	struct dk_req rq = DK_REQ_INIT;
	rq.method = "GET";
	rq.path = url;
	rq.what = what;
	rq.stream = true;
	rq.sink = write_sink;
	rq.sink_ud = &s;
	return dk_do(c, &rq, NULL, NULL, err);
}
