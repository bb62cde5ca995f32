/* Images: inspect and pull. A pull answers 200 at once and then streams JSON progress lines;
 * a failure arrives as an "error" line inside that 200 stream, so every line is checked. */
#include <stdlib.h>
#include <string.h>

#include "docker/internal.h"
#include "util/cleanup.h"
#include "util/xalloc.h"

int docker_image_inspect(struct docker_client *c, const char *image, bool *ret_found,
                         json_t **ret_info, struct err *err)
{
	/* the router takes the name with its slashes as is: /images/{name:.*}/json */
	_cleanup_free_ char *path = xasprintf("/images/%s/json", image);
	_cleanup_free_ char *what = xasprintf("cannot inspect image '%s'", image);
	struct dk_req rq = DK_REQ_INIT;
	rq.method = "GET";
	rq.path = path;
	rq.what = what;
	rq.accept[0] = 404;
	long status = 0;
	json_t *info = NULL;
	if (dk_do(c, &rq, &info, &status, err) < 0)
		return -1;
	*ret_found = status != 404;
	if (ret_info)
		*ret_info = info;
	else
		json_decref(info);
	return 0;
}

struct pull_ctx {
	struct docker_client *c;
	const char *image;
	docker_line_fn on_line;
	void *userdata;
	struct strbuf pending;
	struct strbuf text;
	char *error; /* first error line, owned */
};

static int pull_line(void *ud, const char *line, size_t len)
{
	struct pull_ctx *p = ud;
	strbuf_reset(&p->text);
	char *e = NULL;
	if (docker_progress_line(line, len, &p->text, &e) == 1) {
		p->error = e;
		return -1;
	}
	if (p->on_line && p->text.len)
		p->on_line(p->userdata, p->text.buf);
	return 0;
}

static int pull_sink(void *ud, const char *data, size_t len, struct err *err)
{
	struct pull_ctx *p = ud;
	if (docker_lines_feed(&p->pending, data, len, pull_line, p) < 0)
		return err_set(err, ERR_ENV, "cannot pull image '%s' at %s: %s", p->image,
		               p->c->endpoint, p->error);
	return 0;
}

int docker_image_pull(struct docker_client *c, const char *image, docker_line_fn on_line,
                      void *userdata, struct err *err)
{
	struct docker_pull_opts o = DOCKER_PULL_OPTS_INIT;
	o.on_line = on_line;
	o.userdata = userdata;
	return docker_image_pull_opts(c, image, &o, err);
}

int docker_image_pull_opts(struct docker_client *c, const char *image,
                           const struct docker_pull_opts *opts, struct err *err)
{
	_cleanup_free_ char *repo = NULL, *tag = NULL;
	if (docker_image_ref_split(image, &repo, &tag, err) < 0)
		return -1;
	_cleanup_free_ char *erepo = dk_escape(repo);
	_cleanup_free_ char *etag = tag ? dk_escape(tag) : NULL;
	_cleanup_free_ char *path =
	    tag ? xasprintf("/images/create?fromImage=%s&tag=%s", erepo, etag)
	        : xasprintf("/images/create?fromImage=%s", erepo);
	_cleanup_free_ char *what = xasprintf("cannot pull image '%s'", image);
	struct pull_ctx p = {.c = c,
	                     .image = image,
	                     .on_line = opts->on_line,
	                     .userdata = opts->userdata,
	                     .pending = STRBUF_INIT,
	                     .text = STRBUF_INIT};
	struct dk_req rq = DK_REQ_INIT;
	rq.method = "POST";
	rq.path = path;
	rq.what = what;
	rq.stream = true;
	rq.sink = pull_sink;
	rq.sink_ud = &p;
	rq.cancel_fd = opts->cancel_fd;
	int r = dk_do(c, &rq, NULL, NULL, err);
	/* a last line without newline */
	if (r == 0 && p.pending.len && pull_line(&p, p.pending.buf, p.pending.len) < 0)
		r = err_set(err, ERR_ENV, "cannot pull image '%s' at %s: %s", image, c->endpoint,
		            p.error);
	strbuf_release(&p.pending);
	strbuf_release(&p.text);
	free(p.error);
	return r;
}
