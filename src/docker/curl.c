/* The libcurl transport, for tcp:// endpoints with or without TLS (DOCKER_TLS_VERIFY,
 * DOCKER_CERT_PATH). libcurl only connects (CONNECT_ONLY: name resolution, connect timeout, the
 * TLS handshake with the client certificate) and then carries bytes with curl_easy_send() and
 * curl_easy_recv(); the HTTP on top is http.c's, the same as on unix sockets.
 *
 * libcurl is loaded with dlopen() by the first tcp connection (util/libcurl.h, shared with
 * fetch/): the unix-socket default never maps it and the forty libraries it depends on (gnutls,
 * krb5, ldap...: ~8 MiB of RSS and most of the start-up). The type-checking macros of
 * curl/typecheck-gcc.h cannot wrap a pointer, hence CURL_DISABLE_TYPECHECK. */
#define CURL_DISABLE_TYPECHECK
#include <curl/curl.h>

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "docker/internal.h"
#include "util/cleanup.h"
#include "util/libcurl.h"
#include "util/xalloc.h"

#define CONNECT_TIMEOUT_MS 10000L

/* The shared libcurl table (util/libcurl.h), set by dk_curl_load(). */
static const struct lcurl_api *api;

int dk_curl_load(struct err *err)
{
	const struct lcurl_api *a = lcurl_load(err);
	if (!a)
		return -1;
	api = a;
	return 0;
}

/* ---- the transport ---- */

/* curl_easy_send()'s or curl_easy_recv()'s outcome as the transport reports it: bytes, -2
 * would block, -1 failed (detail set). */
static long curl_outcome(struct dk_conn *cn, CURLcode rc, size_t n)
{
	if (rc == CURLE_AGAIN)
		return -2;
	if (rc != CURLE_OK) {
		snprintf(cn->detail, sizeof(cn->detail), "%s", api->easy_strerror(rc));
		return -1;
	}
	return (long)n;
}

static long curl_send(struct dk_conn *cn, const char *buf, size_t len)
{
	size_t n = 0;
	CURLcode rc = api->easy_send(cn->impl, buf, len, &n);
	return curl_outcome(cn, rc, n);
}

static long curl_recv(struct dk_conn *cn, char *buf, size_t cap)
{
	size_t n = 0;
	CURLcode rc = api->easy_recv(cn->impl, buf, cap, &n);
	return curl_outcome(cn, rc, n);
}

static void curl_close(struct dk_conn *cn)
{
	/* the socket is curl's: it closes it */
	if (cn->impl)
		api->easy_cleanup(cn->impl);
	cn->impl = NULL;
	cn->fd = -1;
}

static const struct dk_conn_ops curl_ops = {
    .send = curl_send,
    .recv = curl_recv,
    .close = curl_close,
};

static bool is_connect_failure(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_OPERATION_TIMEDOUT: /* nothing is sent before the connection stands */
		return true;
	default:
		return false;
	}
}

/* Error for a failed connect: "cannot connect ..." names the endpoint and the reason. */
static int connect_error(const struct docker_client *c, CURL *h, CURLcode rc, const char *errbuf,
                         struct err *err)
{
	long os_errno = 0;
	api->easy_getinfo(h, CURLINFO_OS_ERRNO, &os_errno);
	const char *detail = *errbuf ? errbuf : api->easy_strerror(rc);
	/* curl's text names the host and port again; errno is clearer */
	if (rc == CURLE_COULDNT_CONNECT && os_errno > 0)
		detail = strerror((int)os_errno);
	if (!is_connect_failure(rc))
		return err_set(err, ERR_ENV, "cannot connect to the Docker daemon at %s: %s",
		               c->endpoint, detail);
	int r = err_set(err, ERR_ENV,
	                "cannot connect to the Docker daemon at %s: %s (is the daemon running?)",
	                c->endpoint, detail);
	if (err && os_errno > 0)
		err->sys_errno = (int)os_errno;
	return r;
}

static void setup_conn(const struct docker_client *c, CURL *h, char *errbuf)
{
	api->easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	api->easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, CONNECT_TIMEOUT_MS);
	api->easy_setopt(h, CURLOPT_CONNECT_ONLY, 1L);
	api->easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	/* a daemon that vanishes without closing the connection is noticed */
	api->easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	api->easy_setopt(h, CURLOPT_TCP_KEEPIDLE, 30L);
	api->easy_setopt(h, CURLOPT_TCP_KEEPINTVL, 10L);
	api->easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
	if (c->tls) {
		api->easy_setopt(h, CURLOPT_CAINFO, c->ca);
		api->easy_setopt(h, CURLOPT_SSLCERT, c->cert);
		api->easy_setopt(h, CURLOPT_SSLKEY, c->key);
	}
}

struct dk_conn *dk_curl_conn_open(struct docker_client *c, struct err *err)
{
	if (dk_curl_load(err) < 0)
		return NULL;
	CURL *h = api->easy_init();
	if (!h) {
		err_set(err, ERR_INTERNAL, "cannot initialise libcurl");
		return NULL;
	}
	char errbuf[CURL_ERROR_SIZE] = "";
	setup_conn(c, h, errbuf);
	_cleanup_free_ char *url = xasprintf("%s/", c->base_url);
	api->easy_setopt(h, CURLOPT_URL, url);
	CURLcode rc = api->easy_perform(h);
	curl_socket_t fd = CURL_SOCKET_BAD;
	if (rc == CURLE_OK && (api->easy_getinfo(h, CURLINFO_ACTIVESOCKET, &fd) != CURLE_OK ||
	                       fd == CURL_SOCKET_BAD)) {
		rc = CURLE_COULDNT_CONNECT;
		snprintf(errbuf, sizeof(errbuf), "no socket");
	}
	if (rc != CURLE_OK) {
		connect_error(c, h, rc, errbuf, err);
		api->easy_cleanup(h);
		return NULL;
	}
	/* errbuf is a local: curl must not write to it after this */
	api->easy_setopt(h, CURLOPT_ERRORBUFFER, NULL);
	struct dk_conn *cn = xcalloc(1, sizeof(*cn));
	cn->ops = &curl_ops;
	cn->fd = fd;
	cn->impl = h;
	strbuf_init(&cn->in, 0);
	return cn;
}
