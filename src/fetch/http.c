/* http: concurrent GETs with libcurl's multi interface (see http.h).
 *
 * Nothing secret is ever set on these handles: no token, no netrc, no cookies; curl itself
 * drops any Authorization of a URL's userinfo on a redirect to another host (UNRESTRICTED_AUTH
 * stays off), and the model never gives a token to a remote: URL in the first place. */
#define CURL_DISABLE_TYPECHECK
#include "fetch/http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/libcurl.h"
#include "util/xalloc.h"

struct xfer {
	CURL *h;
	struct fetch_http_res *res;
	struct curl_slist *headers; /* owned */
	bool no_redirects;          /* a header (token) is set: redirects are not followed */
	size_t max_bytes;
	bool too_big;
	char errbuf[CURL_ERROR_SIZE];
};

/* Keeps at most max_bytes + 1 bytes: one more than allowed tells "too big" without reading a
 * gigabyte; returning less than given makes curl stop with CURLE_WRITE_ERROR. */
static size_t on_body(char *ptr, size_t size, size_t nmemb, void *data)
{
	struct xfer *x = data;
	size_t n = size * nmemb;
	if (x->res->body.len + n > x->max_bytes) {
		x->too_big = true;
		return 0;
	}
	strbuf_add(&x->res->body, ptr, n);
	return n;
}

/* The CA store: SSL_CERT_FILE or CURL_CA_BUNDLE (a file), SSL_CERT_DIR (a folder), else
 * libcurl's built-in system store. Verification itself is never turned off. */
static void set_ca(const struct lcurl_api *api, CURL *h)
{
	const char *file = getenv("SSL_CERT_FILE");
	if (!file || !*file)
		file = getenv("CURL_CA_BUNDLE");
	if (file && *file)
		api->easy_setopt(h, CURLOPT_CAINFO, file);
	const char *dir = getenv("SSL_CERT_DIR");
	if (dir && *dir)
		api->easy_setopt(h, CURLOPT_CAPATH, dir);
	api->easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	api->easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
}

static void setup(const struct lcurl_api *api, struct xfer *x, const struct fetch_http_req *req,
                  const struct fetch_http_opts *o)
{
	CURL *h = x->h;
	api->easy_setopt(h, CURLOPT_URL, req->url);
	if (req->header) {
		x->no_redirects = true;
		x->headers = api->slist_append(NULL, req->header);
		api->easy_setopt(h, CURLOPT_HTTPHEADER, x->headers);
	}
	api->easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	api->easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	api->easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	api->easy_setopt(h, CURLOPT_FOLLOWLOCATION, req->header ? 0L : 1L);
	api->easy_setopt(h, CURLOPT_MAXREDIRS, o->max_redirects);
	api->easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, o->connect_ms);
	api->easy_setopt(h, CURLOPT_TIMEOUT_MS, o->timeout_ms);
	api->easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)o->max_bytes);
	api->easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	api->easy_setopt(h, CURLOPT_WRITEDATA, x);
	api->easy_setopt(h, CURLOPT_ERRORBUFFER, x->errbuf);
	api->easy_setopt(h, CURLOPT_USERAGENT, "runnel");
	api->easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
	api->easy_setopt(h, CURLOPT_NETRC, (long)CURL_NETRC_IGNORED);
	api->easy_setopt(h, CURLOPT_UNRESTRICTED_AUTH, 0L);
	set_ca(api, h);
}

static enum fetch_status classify(CURLcode rc, bool too_big)
{
	if (too_big || rc == CURLE_FILESIZE_EXCEEDED)
		return FETCH_TOO_BIG;
	switch (rc) {
	case CURLE_OK:
		return FETCH_OK;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		return FETCH_NET_DNS;
	case CURLE_COULDNT_CONNECT:
		return FETCH_NET_CONNECT;
	case CURLE_OPERATION_TIMEDOUT:
		return FETCH_NET_TIMEOUT;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
		return FETCH_TLS;
	case CURLE_TOO_MANY_REDIRECTS:
		return FETCH_REDIRECTS;
	default:
		return FETCH_OTHER;
	}
}

static void finish(const struct lcurl_api *api, struct xfer *x, CURLcode rc,
                   const struct fetch_http_opts *o)
{
	struct fetch_http_res *r = x->res;
	api->easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &r->code);
	r->status = classify(rc, x->too_big);
	if (r->status == FETCH_TOO_BIG)
		snprintf(r->detail, sizeof(r->detail), "the answer is over %zu bytes",
		         o->max_bytes);
	else if (r->status == FETCH_REDIRECTS)
		snprintf(r->detail, sizeof(r->detail), "more than %ld redirects", o->max_redirects);
	else if (rc != CURLE_OK)
		snprintf(r->detail, sizeof(r->detail), "%s",
		         *x->errbuf ? x->errbuf : api->easy_strerror(rc));
	else if (r->code >= 400)
		r->status = FETCH_HTTP_CODE;
	else if (r->code >= 300 && x->no_redirects) {
		/* not followed: the request carries a token (curl gives the 3xx as a success) */
		r->status = FETCH_REDIRECTS;
		snprintf(r->detail, sizeof(r->detail),
		         "HTTP %ld: a redirect is not followed with a token", r->code);
	}
	if (r->status != FETCH_OK && r->status != FETCH_HTTP_CODE)
		strbuf_reset(&r->body);
}

/* Runs the multi handle until every transfer is done. */
static int run(const struct lcurl_api *api, CURLM *m, struct xfer *xs, size_t n,
               const struct fetch_http_opts *o, struct err *err)
{
	int running = 1;
	while (running) {
		CURLMcode mc = api->multi_perform(m, &running);
		if (mc == CURLM_OK && running)
			mc = api->multi_poll(m, NULL, 0, 1000, NULL);
		if (mc != CURLM_OK)
			return err_set(err, ERR_ENV, "libcurl failed (multi code %d)", (int)mc);
		CURLMsg *msg;
		int left;
		while ((msg = api->multi_info_read(m, &left))) {
			if (msg->msg != CURLMSG_DONE)
				continue;
			for (size_t i = 0; i < n; i++)
				if (xs[i].h == msg->easy_handle)
					finish(api, &xs[i], msg->data.result, o);
		}
	}
	return 0;
}

int fetch_http_get_all(const struct fetch_http_req *reqs, size_t n, const struct fetch_http_opts *o,
                       struct fetch_http_res *res, struct err *err)
{
	for (size_t i = 0; i < n; i++) {
		res[i] = (struct fetch_http_res){.status = FETCH_OTHER};
		strbuf_init(&res[i].body, 0);
	}
	const struct lcurl_api *api = lcurl_load(err);
	if (!api)
		return -1;
	CURLM *m = api->multi_init();
	if (!m)
		return err_set(err, ERR_INTERNAL, "cannot initialise libcurl");
	struct xfer *xs = xcalloc(n ? n : 1, sizeof(*xs));
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		xs[i].res = &res[i];
		xs[i].max_bytes = o->max_bytes;
		if (!(xs[i].h = api->easy_init())) {
			rc = err_set(err, ERR_INTERNAL, "cannot initialise libcurl");
			break;
		}
		setup(api, &xs[i], &reqs[i], o);
		api->multi_add_handle(m, xs[i].h);
	}
	if (rc == 0)
		rc = run(api, m, xs, n, o, err);
	for (size_t i = 0; i < n; i++) {
		if (!xs[i].h)
			continue;
		api->multi_remove_handle(m, xs[i].h);
		api->easy_cleanup(xs[i].h);
		api->slist_free_all(xs[i].headers);
	}
	api->multi_cleanup(m);
	free(xs);
	return rc;
}
