/* http: see http.h. Each call uses its own easy handle: the runner's calls are seconds apart
 * (polling) or long (a held long poll), so connection reuse would save little and a handle per
 * call keeps the calls of concurrent jobs independent. */
#include "runner/http.h"

#include <ctype.h>
#include <string.h>

#define CURL_DISABLE_TYPECHECK
#include <curl/curl.h>

#include "util/libcurl.h"
#include "util/cleanup.h"
#include "util/xalloc.h"

#define CONNECT_TIMEOUT_MS 10000L
#define MAX_BODY (64u << 20)
#define MAX_HEADERS 64

void rhttp_resp_init(struct rhttp_resp *r)
{
	r->status = 0;
	strvec_init(&r->headers);
	strbuf_init(&r->body, 0);
}

void rhttp_resp_release(struct rhttp_resp *r)
{
	strvec_release(&r->headers);
	strbuf_release(&r->body);
}

const char *rhttp_header(const struct rhttp_resp *r, const char *name)
{
	size_t n = strlen(name);
	for (size_t i = 0; i < r->headers.n; i++) {
		const char *h = r->headers.v[i];
		if (!strncmp(h, name, n) && h[n] == ':')
			return h + n + 2;
	}
	return NULL;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *user)
{
	struct rhttp_resp *r = user;
	size_t n = size * nmemb;
	if (r->body.len + n > MAX_BODY)
		return 0; /* curl fails the transfer: CURLE_WRITE_ERROR */
	strbuf_add(&r->body, data, n);
	return n;
}

/* One header line; a new status line (a 100 Continue or a redirect before the answer) starts
 * the list again so only the final response's headers stay. */
static size_t on_header(char *data, size_t size, size_t nmemb, void *user)
{
	struct rhttp_resp *r = user;
	size_t n = size * nmemb, len = n;
	while (len && (data[len - 1] == '\n' || data[len - 1] == '\r'))
		len--;
	if (len >= 5 && !memcmp(data, "HTTP/", 5)) {
		strvec_release(&r->headers);
		return n;
	}
	const char *colon = memchr(data, ':', len);
	if (!colon || r->headers.n >= MAX_HEADERS)
		return n;
	struct strbuf sb = STRBUF_INIT;
	for (const char *p = data; p < colon; p++)
		strbuf_addch(&sb, tolower((unsigned char)*p));
	const char *v = colon + 1;
	while (v < data + len && (*v == ' ' || *v == '\t'))
		v++;
	strbuf_addstr(&sb, ": ");
	strbuf_add(&sb, v, (size_t)(data + len - v));
	strvec_push_take(&r->headers, strbuf_detach(&sb, NULL));
	return n;
}

static void set_body(const struct lcurl_api *c, CURL *h, const struct rhttp_req *rq)
{
	if (!strcmp(rq->method, "POST")) {
		c->easy_setopt(h, CURLOPT_POST, 1L);
	} else if (!strcmp(rq->method, "GET")) {
		c->easy_setopt(h, CURLOPT_HTTPGET, 1L);
	} else {
		c->easy_setopt(h, CURLOPT_CUSTOMREQUEST, rq->method);
	}
	if (rq->content_type || strcmp(rq->method, "GET")) {
		c->easy_setopt(h, CURLOPT_POSTFIELDS, rq->body ? rq->body : "");
		c->easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)rq->body_len);
	}
}

/* The request's header list as libcurl reads it; nodes live in the caller's array (the
 * public struct curl_slist, so no slist functions need loading). */
static struct curl_slist *build_headers(const struct rhttp_req *rq, struct curl_slist *nodes,
                                        char *ct, size_t ctlen)
{
	size_t n = 0;
	static char accept[] = "Accept: application/json";
	static char no_expect[] = "Expect:"; /* no 100-continue round trip for big PATCHes */
	nodes[n++].data = accept;
	nodes[n++].data = no_expect;
	if (rq->content_type) {
		snprintf(ct, ctlen, "Content-Type: %s", rq->content_type);
		nodes[n++].data = ct;
	}
	for (size_t i = 0; rq->headers && rq->headers[i] && n < MAX_HEADERS; i++)
		nodes[n++].data = (char *)rq->headers[i];
	for (size_t i = 0; i < n; i++)
		nodes[i].next = i + 1 < n ? &nodes[i + 1] : NULL;
	return nodes;
}

int rhttp_do(const struct rhttp_req *rq, struct rhttp_resp *resp, struct err *err)
{
	const struct lcurl_api *c = lcurl_load(err);
	if (!c)
		return -1;
	CURL *h = c->easy_init();
	if (!h)
		return err_set(err, ERR_INTERNAL, "cannot initialise libcurl");
	char errbuf[CURL_ERROR_SIZE] = "", ct[256];
	struct curl_slist nodes[MAX_HEADERS + 3];
	c->easy_setopt(h, CURLOPT_URL, rq->url);
	c->easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	c->easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	c->easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, CONNECT_TIMEOUT_MS);
	c->easy_setopt(h, CURLOPT_TIMEOUT, rq->timeout_s > 0 ? rq->timeout_s : 60L);
	c->easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	c->easy_setopt(h, CURLOPT_USERAGENT, rq->user_agent);
	c->easy_setopt(h, CURLOPT_HTTPHEADER, build_headers(rq, nodes, ct, sizeof(ct)));
	c->easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	c->easy_setopt(h, CURLOPT_WRITEDATA, resp);
	c->easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	c->easy_setopt(h, CURLOPT_HEADERDATA, resp);
	if (rq->ca_file)
		c->easy_setopt(h, CURLOPT_CAINFO, rq->ca_file);
	set_body(c, h, rq);
	CURLcode rc = c->easy_perform(h);
	if (rc == CURLE_OK)
		c->easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
	c->easy_cleanup(h);
	if (rc != CURLE_OK)
		return err_set(err, ERR_ENV, "%s %s: %s", rq->method, rq->url,
		               *errbuf ? errbuf : c->easy_strerror(rc));
	return 0;
}
