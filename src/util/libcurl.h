/* libcurl, loaded on first use (dlopen through util/dlsyms.h) and shared by the modules that
 * speak HTTP with it: docker/curl.c (the Docker Engine over tcp://) and fetch/ (includes from
 * the network). The verbs that never need it do not map libcurl and its ~40 libraries.
 * Include <curl/curl.h> with CURL_DISABLE_TYPECHECK defined before this header: the
 * type-checking macros of curl/typecheck-gcc.h cannot wrap a pointer. */
#pragma once
#include <curl/curl.h>

#include "util/err.h"

/* The libcurl functions runnel uses. */
struct lcurl_api {
	CURLcode (*global_init)(long flags);
	CURL *(*easy_init)(void);
	CURLcode (*easy_setopt)(CURL *h, CURLoption opt, ...);
	CURLcode (*easy_perform)(CURL *h);
	CURLcode (*easy_getinfo)(CURL *h, CURLINFO info, ...);
	void (*easy_cleanup)(CURL *h);
	const char *(*easy_strerror)(CURLcode rc);
	CURLcode (*easy_send)(CURL *h, const void *buf, size_t len, size_t *n);
	CURLcode (*easy_recv)(CURL *h, void *buf, size_t len, size_t *n);
	CURLM *(*multi_init)(void);
	CURLMcode (*multi_add_handle)(CURLM *m, CURL *h);
	CURLMcode (*multi_remove_handle)(CURLM *m, CURL *h);
	CURLMcode (*multi_perform)(CURLM *m, int *running);
	CURLMcode (*multi_poll)(CURLM *m, struct curl_waitfd *extra, unsigned n, int timeout_ms,
	                        int *numfds);
	CURLMsg *(*multi_info_read)(CURLM *m, int *left);
	CURLMcode (*multi_cleanup)(CURLM *m);
	struct curl_slist *(*slist_append)(struct curl_slist *l, const char *s);
	void (*slist_free_all)(struct curl_slist *l);
};

/* The soname loaded, for messages. */
extern const char lcurl_soname[];

/* Loads libcurl and runs curl_global_init once per process (thread-safe: pthread_once).
 * Returns the table (static, never freed), or NULL with err set (ERR_ENV: "cannot load
 * libcurl.so.4: why"). */
const struct lcurl_api *lcurl_load(struct err *err);
