/* The Docker client object and its request path: endpoint from DOCKER_HOST / DOCKER_TLS_VERIFY /
 * DOCKER_CERT_PATH, API version negotiated through /_ping, and dk_perform(), through which every
 * non-hijacked request goes on one keep-alive curl handle. */
#include "docker/client.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "docker/internal.h"
#include "util/cleanup.h"
#include "util/strvec.h"
#include "util/xalloc.h"

#define API_MAX "1.41"
#define API_MAX_NUM 1041
#define CONNECT_TIMEOUT_MS 10000L
#define BODY_MAX (64L * 1024 * 1024)

/* ---- loading libcurl ---- */

#ifndef DK_LIBCURL_SONAME
#define DK_LIBCURL_SONAME "libcurl.so.4"
#endif

struct dk_curl_api dk_curl;
static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static bool curl_loaded;
static char curl_load_error[512]; /* why loading failed, set once */

_Static_assert(sizeof(void *) == sizeof(dk_curl.easy_init), "function pointers fit in void *");

/* dlsym() returns an object pointer; POSIX guarantees it converts to a function pointer, and
 * memcpy() does that without the cast -Wpedantic rejects. */
static const char *curl_resolve(void *lib)
{
	static const struct {
		const char *name;
		size_t off;
	} syms[] = {
	    {"curl_global_init", offsetof(struct dk_curl_api, global_init)},
	    {"curl_easy_init", offsetof(struct dk_curl_api, easy_init)},
	    {"curl_easy_setopt", offsetof(struct dk_curl_api, easy_setopt)},
	    {"curl_easy_perform", offsetof(struct dk_curl_api, easy_perform)},
	    {"curl_easy_getinfo", offsetof(struct dk_curl_api, easy_getinfo)},
	    {"curl_easy_reset", offsetof(struct dk_curl_api, easy_reset)},
	    {"curl_easy_cleanup", offsetof(struct dk_curl_api, easy_cleanup)},
	    {"curl_easy_strerror", offsetof(struct dk_curl_api, easy_strerror)},
	    {"curl_easy_send", offsetof(struct dk_curl_api, easy_send)},
	    {"curl_easy_recv", offsetof(struct dk_curl_api, easy_recv)},
	    {"curl_slist_append", offsetof(struct dk_curl_api, slist_append)},
	    {"curl_slist_free_all", offsetof(struct dk_curl_api, slist_free_all)},
	};
	for (size_t i = 0; i < sizeof(syms) / sizeof(syms[0]); i++) {
		void *p = dlsym(lib, syms[i].name);
		if (!p)
			return syms[i].name;
		memcpy((char *)&dk_curl + syms[i].off, &p, sizeof(p));
	}
	return NULL;
}

static void curl_load_once(void)
{
	/* RTLD_LAZY: the chain's functions bind on first call (saves ~2.5M instructions of
	 * relocations at load); RTLD_LOCAL: curl's symbols stay out of the global namespace.
	 * Never closed. */
	void *lib = dlopen(DK_LIBCURL_SONAME, RTLD_LAZY | RTLD_LOCAL);
	if (!lib) {
		const char *why = dlerror();
		size_t n = strlen(DK_LIBCURL_SONAME);
		/* glibc's text starts with the name we already print */
		if (why && strncmp(why, DK_LIBCURL_SONAME ": ", n + 2) == 0)
			why += n + 2;
		snprintf(curl_load_error, sizeof(curl_load_error), "%s",
		         why ? why : "unknown error");
		return;
	}
	const char *missing = curl_resolve(lib);
	if (missing) {
		snprintf(curl_load_error, sizeof(curl_load_error), "symbol '%s' not found",
		         missing);
		memset(&dk_curl, 0, sizeof(dk_curl));
		dlclose(lib);
		return;
	}
	CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);
	if (rc != CURLE_OK) {
		snprintf(curl_load_error, sizeof(curl_load_error), "curl_global_init failed: %s",
		         curl_easy_strerror(rc));
		return;
	}
	curl_loaded = true;
}

int dk_curl_load(struct err *err)
{
	pthread_once(&curl_once, curl_load_once);
	if (!curl_loaded)
		return err_set(err, ERR_ENV, "cannot load %s: %s", DK_LIBCURL_SONAME,
		               curl_load_error);
	return 0;
}

/* ---- construction ---- */

static bool env_true(const char *name)
{
	const char *v = getenv(name);
	return v && *v && strcmp(v, "0") != 0;
}

static char *host_for_url(const struct docker_host *h)
{
	if (strchr(h->host, ':'))
		return xasprintf("[%s]:%u", h->host, h->port);
	return xasprintf("%s:%u", h->host, h->port);
}

/* TLS files from opts / the environment; fails when a file is missing so the error is clear
 * before any connection attempt. */
static int setup_tls(struct docker_client *c, const struct docker_opts *o, struct err *err)
{
	const char *dir = o->cert_path ? o->cert_path : getenv("DOCKER_CERT_PATH");
	_cleanup_free_ char *home_dir = NULL;
	if (!dir || !*dir) {
		const char *home = getenv("HOME");
		home_dir = xasprintf("%s/.docker", home ? home : "");
		dir = home_dir;
	}
	c->ca = xasprintf("%s/ca.pem", dir);
	c->cert = xasprintf("%s/cert.pem", dir);
	c->key = xasprintf("%s/key.pem", dir);
	const char *files[] = {c->ca, c->cert, c->key};
	for (size_t i = 0; i < 3; i++)
		if (access(files[i], R_OK) < 0)
			return err_sys(err, errno,
			               "cannot use TLS certificate '%s' for the Docker "
			               "daemon at %s",
			               files[i], c->endpoint);
	return 0;
}

static int client_setup(struct docker_client *c, const struct docker_opts *o, struct err *err)
{
	int tls = o->tls_verify >= 0 ? o->tls_verify : env_true("DOCKER_TLS_VERIFY");
	const char *host = o->host ? o->host : getenv("DOCKER_HOST");
	if (docker_host_parse(host, tls ? 2376 : 2375, &c->host, err) < 0)
		return -1;
	c->timeout_ms = o->timeout_ms;
	c->engine = "docker";
	snprintf(c->api_version, sizeof(c->api_version), "%s", API_MAX);
	if (c->host.kind == DOCKER_HOST_UNIX) {
		c->endpoint = xasprintf("unix://%s", c->host.path);
		c->base_url = xstrdup("http://localhost");
		c->host_header = xstrdup("localhost");
	} else {
		c->host_header = host_for_url(&c->host);
		c->endpoint = xasprintf("tcp://%s", c->host_header);
		c->tls = tls;
		c->base_url = xasprintf("%s://%s", tls ? "https" : "http", c->host_header);
		if (tls && setup_tls(c, o, err) < 0)
			return -1;
	}
	if (dk_curl_load(err) < 0)
		return -1;
	c->curl = curl_easy_init();
	if (!c->curl)
		return err_set(err, ERR_INTERNAL, "cannot initialise libcurl");
	return 0;
}

/* GET /_ping: reachability, API version (min(daemon, 1.41)) and engine kind. */
static int negotiate(struct docker_client *c, struct err *err)
{
	struct dk_req rq = DK_REQ_INIT;
	rq.method = "GET";
	rq.path = "/_ping";
	rq.unversioned = true;
	rq.what = "cannot ping the Docker daemon";
	struct dk_resp rs = DK_RESP_INIT;
	if (dk_perform(c, &rq, &rs, err) < 0) {
		dk_resp_release(&rs);
		return -1;
	}
	int v = docker_api_version_parse(rs.api_version);
	if (v > 0 && v < API_MAX_NUM)
		snprintf(c->api_version, sizeof(c->api_version), "%d.%d", v / 1000, v % 1000);
	if (rs.libpod)
		c->engine = "podman";
	dk_resp_release(&rs);
	return 0;
}

static struct docker_client *client_new(const struct docker_opts *opts, bool ping, struct err *err)
{
	struct docker_opts def = DOCKER_OPTS_INIT;
	struct docker_client *c = xcalloc(1, sizeof(*c));
	if (client_setup(c, opts ? opts : &def, err) < 0 || (ping && negotiate(c, err) < 0)) {
		docker_client_free(c);
		return NULL;
	}
	return c;
}

struct docker_client *docker_client_new(const struct docker_opts *opts, struct err *err)
{
	return client_new(opts, true, err);
}

void docker_client_free(struct docker_client *c)
{
	if (!c)
		return;
	if (c->curl)
		curl_easy_cleanup(c->curl);
	docker_host_release(&c->host);
	free(c->endpoint);
	free(c->base_url);
	free(c->host_header);
	free(c->ca);
	free(c->cert);
	free(c->key);
	free(c);
}

struct docker_client *docker_client_clone(const struct docker_client *c, struct err *err)
{
	struct docker_opts o = DOCKER_OPTS_INIT;
	o.host = c->endpoint;
	o.tls_verify = c->tls;
	o.timeout_ms = c->timeout_ms;
	struct docker_client *n = client_new(&o, false, err);
	if (!n)
		return NULL;
	if (c->tls) { /* same files, even if the environment changed since */
		free(n->ca), free(n->cert), free(n->key);
		n->ca = xstrdup(c->ca), n->cert = xstrdup(c->cert), n->key = xstrdup(c->key);
	}
	memcpy(n->api_version, c->api_version, sizeof(n->api_version));
	n->engine = c->engine;
	return n;
}

const char *docker_client_endpoint(const struct docker_client *c)
{
	return c->endpoint;
}

const char *docker_client_api_version(const struct docker_client *c)
{
	return c->api_version;
}

const char *docker_client_engine(const struct docker_client *c)
{
	return c->engine;
}

/* ---- helpers ---- */

char *dk_escape(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	struct strbuf sb = STRBUF_INIT;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("-._~", *p)) {
			strbuf_addch(&sb, *p);
		} else {
			strbuf_addch(&sb, '%');
			strbuf_addch(&sb, hex[*p >> 4]);
			strbuf_addch(&sb, hex[*p & 15]);
		}
	}
	return strbuf_detach(&sb, NULL);
}

char *dk_label_filter(const char *label)
{
	json_t *f = json_pack("{s:[s]}", "label", label);
	char *s = json_dumps(f, JSON_COMPACT);
	json_decref(f);
	char *e = dk_escape(s);
	free(s);
	return e;
}

json_t *dk_str_array(char *const *v)
{
	if (!v)
		return NULL;
	json_t *a = json_array();
	for (; *v; v++)
		json_array_append_new(a, json_string(*v));
	return a;
}

json_t *dk_label_object(char *const *labels)
{
	json_t *o = json_object();
	for (; labels && *labels; labels++) {
		const char *eq = strchr(*labels, '=');
		_cleanup_free_ char *k =
		    eq ? xstrndup(*labels, (size_t)(eq - *labels)) : xstrdup(*labels);
		json_object_set_new(o, k, json_string(eq ? eq + 1 : ""));
	}
	return o;
}

void dk_resp_release(struct dk_resp *rs)
{
	strbuf_release(&rs->body);
	json_decref(rs->json);
	rs->json = NULL;
	free(rs->api_version);
	rs->api_version = NULL;
}

/* ---- errors ---- */

static bool is_connect_failure(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CACERT_BADFILE:
		return true;
	default:
		return false;
	}
}

int dk_curl_error(const struct docker_client *c, CURL *h, CURLcode rc, const char *what,
                  const char *errbuf, struct err *err)
{
	long os_errno = 0;
	curl_easy_getinfo(h, CURLINFO_OS_ERRNO, &os_errno);
	const char *detail = errbuf && *errbuf ? errbuf : curl_easy_strerror(rc);
	/* curl's text names "localhost port 80" for unix sockets; errno is clearer */
	if (rc == CURLE_COULDNT_CONNECT && os_errno > 0)
		detail = strerror((int)os_errno);
	/* nothing sent: the connection itself failed (a reused connection has no connect time) */
	long sent = 0;
	curl_easy_getinfo(h, CURLINFO_REQUEST_SIZE, &sent);
	if (is_connect_failure(rc) || (rc == CURLE_OPERATION_TIMEDOUT && sent == 0)) {
		int r = err_set(err, ERR_ENV,
		                "cannot connect to the Docker daemon at %s: %s (is the "
		                "daemon running?)",
		                c->endpoint, detail);
		if (err && os_errno > 0)
			err->sys_errno = (int)os_errno;
		return r;
	}
	return err_set(err, ERR_ENV, "%s at %s: connection to the daemon failed: %s", what,
	               c->endpoint, detail);
}

int dk_status_error(const struct docker_client *c, const char *what, long status, const char *body,
                    size_t len, struct err *err)
{
	_cleanup_free_ char *m = docker_error_message(body, len);
	return err_set(err, ERR_ENV, "%s at %s: %s (HTTP %ld)", what, c->endpoint, m, status);
}

/* ---- transfers ---- */

struct xfer {
	struct docker_client *c;
	const struct dk_req *rq;
	struct dk_resp *rs;
	struct err *err;
	bool checked, to_sink, sink_failed, too_big;
	size_t upload_off; /* for in-memory bodies */
	int read_errno;
};

static size_t on_write(char *p, size_t size, size_t n, void *ud)
{
	struct xfer *x = ud;
	size_t len = size * n;
	if (!x->checked) {
		long st = 0;
		curl_easy_getinfo(x->c->curl, CURLINFO_RESPONSE_CODE, &st);
		x->to_sink = x->rq->sink && st >= 200 && st < 300;
		x->checked = true;
	}
	if (x->to_sink) {
		if (x->rq->sink(x->rq->sink_ud, p, len, x->err) < 0) {
			x->sink_failed = true;
			return 0;
		}
		return len;
	}
	if (x->rs->body.len + len > (size_t)BODY_MAX) {
		x->too_big = true;
		return 0;
	}
	strbuf_add(&x->rs->body, p, len);
	return len;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
	struct xfer *x = ud;
	size_t len = size * n;
	if (len > 12 && !strncasecmp(p, "API-Version:", 12)) {
		const char *v = p + 12;
		size_t vl = len - 12;
		while (vl && (*v == ' ' || *v == '\t'))
			v++, vl--;
		while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' '))
			vl--;
		free(x->rs->api_version);
		x->rs->api_version = xstrndup(v, vl);
	} else if (len > 19 && !strncasecmp(p, "Libpod-API-Version:", 19)) {
		x->rs->libpod = true;
	}
	return len;
}

static size_t on_read(char *buf, size_t size, size_t n, void *ud)
{
	struct xfer *x = ud;
	size_t cap = size * n;
	if (x->rq->body_fd < 0) {
		size_t left = x->rq->body_len - x->upload_off;
		size_t take = left < cap ? left : cap;
		memcpy(buf, x->rq->body + x->upload_off, take);
		x->upload_off += take;
		return take;
	}
	for (;;) {
		ssize_t r = read(x->rq->body_fd, buf, cap);
		if (r >= 0)
			return (size_t)r;
		if (errno != EINTR) {
			x->read_errno = errno;
			return CURL_READFUNC_ABORT;
		}
	}
}

void dk_setup_conn(const struct docker_client *c, CURL *h)
{
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, CONNECT_TIMEOUT_MS);
	if (c->host.kind == DOCKER_HOST_UNIX) {
		curl_easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, c->host.path);
	} else {
		/* a daemon that vanishes without closing the connection is noticed */
		curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
		curl_easy_setopt(h, CURLOPT_TCP_KEEPIDLE, 30L);
		curl_easy_setopt(h, CURLOPT_TCP_KEEPINTVL, 10L);
		curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
	}
	if (c->tls) {
		curl_easy_setopt(h, CURLOPT_CAINFO, c->ca);
		curl_easy_setopt(h, CURLOPT_SSLCERT, c->cert);
		curl_easy_setopt(h, CURLOPT_SSLKEY, c->key);
	}
}

static void set_method(CURL *h, const struct dk_req *rq, const char *body, size_t body_len)
{
	if (rq->body_fd >= 0 || (!strcmp(rq->method, "PUT"))) {
		curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
		if (rq->body_fd < 0)
			curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)body_len);
		else {
			off_t cur = lseek(rq->body_fd, 0, SEEK_CUR),
			      end = lseek(rq->body_fd, 0, SEEK_END);
			/* regular files go with a length, pipes chunked */
			if (cur >= 0 && end >= cur && lseek(rq->body_fd, cur, SEEK_SET) == cur)
				curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE,
				                 (curl_off_t)(end - cur));
		}
		if (strcmp(rq->method, "PUT"))
			curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, rq->method);
	} else if (!strcmp(rq->method, "POST")) {
		curl_easy_setopt(h, CURLOPT_POST, 1L);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body ? body : "");
	} else if (!strcmp(rq->method, "HEAD")) {
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	} else if (strcmp(rq->method, "GET")) {
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, rq->method);
	}
}

static bool accepted(const struct dk_req *rq, long status)
{
	if (status >= 200 && status < 300)
		return true;
	for (size_t i = 0; i < 3 && rq->accept[i]; i++)
		if (rq->accept[i] == status)
			return true;
	return false;
}

/* After the transfer: classify, parse JSON, set err. */
static int finish(struct docker_client *c, const struct dk_req *rq, struct xfer *x, CURLcode rc,
                  struct err *err)
{
	struct dk_resp *rs = x->rs;
	curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &rs->status);
	if (x->sink_failed)
		return -1;
	if (x->too_big)
		return err_set(err, ERR_ENV, "%s at %s: answer larger than %ld bytes", rq->what,
		               c->endpoint, BODY_MAX);
	if (x->read_errno)
		return err_sys(err, x->read_errno, "%s: cannot read the request body", rq->what);
	if (rc != CURLE_OK)
		return dk_curl_error(c, c->curl, rc, rq->what, c->errbuf, err);
	if (!accepted(rq, rs->status))
		return dk_status_error(c, rq->what, rs->status, rs->body.buf, rs->body.len, err);
	if (rq->want_json && rs->status < 300 && rs->body.len > 0) {
		json_error_t je;
		rs->json = json_loadb(rs->body.buf, rs->body.len, 0, &je);
		if (!rs->json)
			return err_set(err, ERR_ENV, "%s at %s: invalid JSON from the daemon: %s",
			               rq->what, c->endpoint, je.text);
	}
	return 0;
}

int dk_perform(struct docker_client *c, const struct dk_req *rq, struct dk_resp *rs,
               struct err *err)
{
	CURL *h = c->curl;
	/* keeps the live connection: reset only drops the options */
	curl_easy_reset(h);
	dk_setup_conn(c, h);
	_cleanup_free_ char *url = xasprintf("%s%s%s%s", c->base_url, rq->unversioned ? "" : "/v",
	                                     rq->unversioned ? "" : c->api_version, rq->path);
	_cleanup_free_ char *json_body = rq->json ? json_dumps(rq->json, JSON_COMPACT) : NULL;
	const char *body = json_body ? json_body : rq->body;
	size_t body_len = json_body ? strlen(json_body) : rq->body_len;
	const char *ctype = json_body ? "application/json" : rq->content_type;
	struct xfer x = {.c = c, .rq = rq, .rs = rs, .err = err};
	struct curl_slist *hdrs = curl_slist_append(NULL, "Expect:");
	_cleanup_free_ char *ct = ctype ? xasprintf("Content-Type: %s", ctype) : NULL;
	if (ct)
		hdrs = curl_slist_append(hdrs, ct);
	c->errbuf[0] = '\0';
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "runnel");
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->errbuf);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &x);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, &x);
	curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
	curl_easy_setopt(h, CURLOPT_READDATA, &x);
	if (!rq->stream && c->timeout_ms > 0)
		curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, c->timeout_ms);
	set_method(h, rq, body, body_len);
	CURLcode rc = curl_easy_perform(h);
	curl_slist_free_all(hdrs);
	/* the options point at locals; nothing may use them after this call */
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL);
	return finish(c, rq, &x, rc, err);
}

/* ---- raw requests ---- */

int dk_do(struct docker_client *c, const struct dk_req *rq, json_t **ret_json, long *ret_status,
          struct err *err)
{
	struct dk_req r = *rq;
	r.want_json = r.want_json || ret_json != NULL;
	struct dk_resp rs = DK_RESP_INIT;
	int rc = dk_perform(c, &r, &rs, err);
	if (ret_status)
		*ret_status = rs.status;
	if (rc == 0 && ret_json)
		*ret_json = TAKE_PTR(rs.json);
	dk_resp_release(&rs);
	return rc;
}

int dk_post_for_id(struct docker_client *c, const char *path, const char *what, json_t *body,
                   char **ret_id, struct err *err)
{
	struct dk_req rq = DK_REQ_INIT;
	rq.method = "POST";
	rq.path = path;
	rq.what = what;
	rq.json = body;
	json_t *ans = NULL;
	int r = dk_do(c, &rq, &ans, NULL, err);
	json_decref(body);
	if (r < 0)
		return -1;
	const char *id = json_string_value(json_object_get(ans, "Id"));
	if (!id || !*id) {
		json_decref(ans);
		return err_set(err, ERR_ENV, "%s at %s: the answer has no Id", what, c->endpoint);
	}
	if (ret_id)
		*ret_id = xstrdup(id);
	json_decref(ans);
	return 0;
}

int docker_request(struct docker_client *c, const char *method, const char *path,
                   const json_t *body, json_t **ret_body, long *ret_status, struct err *err)
{
	_cleanup_free_ char *what = xasprintf("request '%s %s' failed", method, path);
	struct dk_req rq = DK_REQ_INIT;
	rq.method = method;
	rq.path = path;
	rq.what = what;
	rq.json = body;
	return dk_do(c, &rq, ret_body, ret_status, err);
}
