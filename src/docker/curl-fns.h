/* The libcurl functions runnel uses, loaded on first use by docker/curl.c (dlopen, see there):
 * the Docker client's tcp transport and runner mode's GitLab client (runner/http.c) share this
 * one table, so libcurl is still mapped only by the first call that needs it. */
#pragma once
#define CURL_DISABLE_TYPECHECK
#include <curl/curl.h>

#include "util/err.h"

struct dk_curl_fns {
	CURLcode (*global_init)(long flags);
	CURL *(*easy_init)(void);
	CURLcode (*easy_setopt)(CURL *h, CURLoption opt, ...);
	CURLcode (*easy_perform)(CURL *h);
	CURLcode (*easy_getinfo)(CURL *h, CURLINFO info, ...);
	void (*easy_cleanup)(CURL *h);
	const char *(*easy_strerror)(CURLcode rc);
	CURLcode (*easy_send)(CURL *h, const void *buf, size_t len, size_t *n);
	CURLcode (*easy_recv)(CURL *h, void *buf, size_t len, size_t *n);
};

/* Loads libcurl once per process (thread-safe) and returns its table (static, borrowed), or
 * NULL with err (ERR_ENV: "cannot load libcurl.so.4: ..."); a failure is final. */
const struct dk_curl_fns *dk_curl_api(struct err *err);
