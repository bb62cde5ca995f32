/* http: GETs of several URLs at once with libcurl's multi interface (util/libcurl.h), with the
 * limits of GitLab's remote includes: no credentials, http(s) only, a few redirects, a time
 * limit on the whole transfer and a cap on the body. TLS verification is always on. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "util/err.h"
#include "util/strbuf.h"

/* Why a GET failed, coarsely: fetch/source.c turns it into GitLab's message and decides whether
 * a cached copy may stand in (only for FETCH_NET_*: no answer from the server). */
enum fetch_status {
	FETCH_OK,
	FETCH_NET_DNS,     /* the host name does not resolve */
	FETCH_NET_CONNECT, /* connection refused or unreachable */
	FETCH_NET_TIMEOUT, /* no complete answer within the time limit */
	FETCH_TLS,         /* handshake or certificate verification failed */
	FETCH_HTTP_CODE,   /* the server answered >= 400 (code) */
	FETCH_REDIRECTS,   /* more redirects than allowed (a loop) */
	FETCH_TOO_BIG,     /* the body is over max_bytes */
	FETCH_OTHER,       /* anything else (detail says what) */
};

struct fetch_http_opts {
	size_t max_bytes;   /* the body may have at most this many bytes */
	long timeout_ms;    /* the whole transfer, redirects included */
	long connect_ms;    /* each connection */
	long max_redirects; /* followed; one more is FETCH_REDIRECTS */
};

struct fetch_http_res {
	enum fetch_status status;
	long code;          /* the last HTTP status, 0 without an answer */
	struct strbuf body; /* owned (strbuf_release) */
	char detail[256];   /* curl's reason for a failure, "" on success */
};

/* One GET. A request with a header (a token) follows no redirect at all: curl would send a
 * custom header to whatever host a redirect names. */
struct fetch_http_req {
	const char *url;
	const char *header; /* "PRIVATE-TOKEN: ..." or NULL; never logged */
};

/* GETs reqs[0..n) concurrently into res[0..n) (initialised here; release each body; the body
 * of a >= 400 answer is kept, capped, for the caller to read the server's reason). Returns 0
 * when every transfer ran (each res says how it went), or -1 with err set when libcurl cannot
 * be loaded or set up. */
int fetch_http_get_all(const struct fetch_http_req *reqs, size_t n, const struct fetch_http_opts *o,
                       struct fetch_http_res *res, struct err *err);
