/* http: one HTTP request to GitLab over libcurl (loaded on first use through util/libcurl.h),
 * with the response's status, headers and body collected. The runner API (api.c) builds every
 * call on it; nothing here knows GitLab. */
#pragma once
#include <stddef.h>

#include "util/err.h"
#include "util/strbuf.h"
#include "util/strvec.h"

struct rhttp_req {
	const char *method;       /* "GET", "POST", "PUT", "PATCH", "DELETE" */
	const char *url;          /* borrowed */
	const char *content_type; /* NULL: no body */
	const char *body;         /* body_len bytes, borrowed */
	size_t body_len;
	const char *const *headers; /* extra "Name: value" lines, NULL-terminated, or NULL */
	const char *user_agent;
	const char *ca_file; /* PEM bundle to trust instead of the system's, or NULL */
	long timeout_s;      /* whole request; 0: 60 s */
};

struct rhttp_resp {
	long status;
	struct strvec headers; /* "name: value" with the name lower-cased */
	struct strbuf body;
};

void rhttp_resp_init(struct rhttp_resp *r);
void rhttp_resp_release(struct rhttp_resp *r);
/* The value of response header name (lower case), borrowed, or NULL. */
const char *rhttp_header(const struct rhttp_resp *r, const char *name);

/* Performs rq; resp (initialised) receives any HTTP answer, whatever its status. A transport
 * failure (no connection, TLS, timeout, dropped connection) is -1 with ERR_ENV naming the
 * method and URL and libcurl's reason. The body is capped at 64 MiB. */
int rhttp_do(const struct rhttp_req *rq, struct rhttp_resp *resp, struct err *err);
