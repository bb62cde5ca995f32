/* Shared internals of the docker module: the client object and the one request function every
 * endpoint goes through (client.c), plus the hijacked-connection helpers (stream.c). Not for
 * use outside src/docker/. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

/* libcurl is loaded with dlopen() by the first docker_client_new() (client.c), so the verbs
 * that never talk to Docker (list, lint, config, graph, explain) do not map libcurl and the
 * forty libraries it depends on: that was most of the process start-up. Every docker file calls
 * curl through the table below; the macros after it keep libcurl's own names at the call sites
 * (the type-checking macros of curl/typecheck-gcc.h cannot wrap a pointer, hence
 * CURL_DISABLE_TYPECHECK). */
#define CURL_DISABLE_TYPECHECK
#include <curl/curl.h>
#include <jansson.h>

#include "docker/client.h"
#include "docker/parse.h"
#include "util/strbuf.h"

/* The libcurl functions the docker module uses, resolved by dk_curl_load(). */
struct dk_curl_api {
	CURLcode (*global_init)(long flags);
	CURL *(*easy_init)(void);
	CURLcode (*easy_setopt)(CURL *h, CURLoption opt, ...);
	CURLcode (*easy_perform)(CURL *h);
	CURLcode (*easy_getinfo)(CURL *h, CURLINFO info, ...);
	void (*easy_reset)(CURL *h);
	void (*easy_cleanup)(CURL *h);
	const char *(*easy_strerror)(CURLcode rc);
	CURLcode (*easy_send)(CURL *h, const void *buf, size_t len, size_t *n);
	CURLcode (*easy_recv)(CURL *h, void *buf, size_t len, size_t *n);
	struct curl_slist *(*slist_append)(struct curl_slist *l, const char *s);
	void (*slist_free_all)(struct curl_slist *l);
};
/* Filled once by dk_curl_load(); only valid after it succeeded (any docker_client exists). */
extern struct dk_curl_api dk_curl;

/* Loads libcurl.so.4 and runs curl_global_init() once per process (thread-safe). Returns 0, or
 * -1 with err (ERR_ENV: "cannot load libcurl.so.4: <dlerror text>"); a failure is final. */
int dk_curl_load(struct err *err);

#undef curl_global_init
#undef curl_easy_init
#undef curl_easy_setopt
#undef curl_easy_perform
#undef curl_easy_getinfo
#undef curl_easy_reset
#undef curl_easy_cleanup
#undef curl_easy_strerror
#undef curl_easy_send
#undef curl_easy_recv
#undef curl_slist_append
#undef curl_slist_free_all
#define curl_global_init (*dk_curl.global_init)
#define curl_easy_init (*dk_curl.easy_init)
#define curl_easy_setopt (*dk_curl.easy_setopt)
#define curl_easy_perform (*dk_curl.easy_perform)
#define curl_easy_getinfo (*dk_curl.easy_getinfo)
#define curl_easy_reset (*dk_curl.easy_reset)
#define curl_easy_cleanup (*dk_curl.easy_cleanup)
#define curl_easy_strerror (*dk_curl.easy_strerror)
#define curl_easy_send (*dk_curl.easy_send)
#define curl_easy_recv (*dk_curl.easy_recv)
#define curl_slist_append (*dk_curl.slist_append)
#define curl_slist_free_all (*dk_curl.slist_free_all)

struct docker_client {
	struct docker_host host;
	char *endpoint;    /* "unix:///var/run/docker.sock" or "tcp://h:2376", for messages */
	char *base_url;    /* "http://localhost" or "https://h:2376" */
	char *host_header; /* Host: value of hand-written requests */
	bool tls;
	char *ca, *cert, *key; /* TLS files, owned, NULL without TLS */
	long timeout_ms;
	char api_version[16]; /* "1.41" */
	const char *engine;   /* "docker" or "podman" (static strings) */
	CURL *curl;           /* reused for keep-alive; not used for hijacked streams */
	char errbuf[CURL_ERROR_SIZE];
};

/* Called with every piece of a 2xx body; returns 0, or -1 after setting err. */
typedef int (*dk_sink_fn)(void *userdata, const char *data, size_t len, struct err *err);

struct dk_req {
	const char *method; /* GET, POST, PUT, DELETE, HEAD */
	const char *path;   /* "/containers/create?name=x", prefixed with /vX.Y unless raw */
	bool unversioned;
	const char *what;   /* "cannot start container 'x'", starts every error message */
	const json_t *json; /* request body as JSON (borrowed), or: */
	const char *body;   /* raw body (borrowed) */
	size_t body_len;
	int body_fd; /* streamed upload when >= 0 (PUT) */
	const char *content_type;
	bool stream;     /* long-lived: no overall timeout */
	dk_sink_fn sink; /* 2xx body goes here instead of dk_resp.body */
	void *sink_ud;
	long accept[3]; /* non-2xx statuses returned as success (0-terminated) */
	bool want_json; /* parse a 2xx body into dk_resp.json */
};
#define DK_REQ_INIT                                                                                \
	{                                                                                          \
		.body_fd = -1                                                                      \
	}

struct dk_resp {
	long status;
	struct strbuf body; /* body of non-sink answers */
	json_t *json;       /* owned, with want_json on a non-empty 2xx body */
	char *api_version;  /* API-Version header, owned */
	bool libpod;        /* Libpod-API-Version header seen */
};
#define DK_RESP_INIT                                                                               \
	{                                                                                          \
		.body = STRBUF_INIT                                                                \
	}
void dk_resp_release(struct dk_resp *rs);

/* Performs one request on the client's keep-alive handle. Returns 0 on 2xx or an accepted
 * status (rs->status tells which); -1 with err (ERR_ENV) otherwise: "<what> at <endpoint>:
 * <daemon message> (HTTP <code>)", or the "cannot connect" message when the daemon is not
 * reachable. rs is filled in both cases (release it). */
int dk_perform(struct docker_client *c, const struct dk_req *rq, struct dk_resp *rs,
               struct err *err);

/* dk_perform with the answer handled: *ret_json (if given) gets the parsed 2xx answer (owned,
 * NULL for an empty body), *ret_status (if given) the status, on success and failure. */
int dk_do(struct docker_client *c, const struct dk_req *rq, json_t **ret_json, long *ret_status,
          struct err *err);

/* POSTs body (taken: released here) to path and returns the "Id" of the created object in
 * *ret_id (owned; ret_id may be NULL). An answer without a non-empty Id is an error. Used by
 * every create call (containers, execs, networks). */
int dk_post_for_id(struct docker_client *c, const char *path, const char *what, json_t *body,
                   char **ret_id, struct err *err);

/* Sets the connection options (socket path, TLS files, keepalive) on a curl handle. */
void dk_setup_conn(const struct docker_client *c, CURL *h);
/* Error for a failed transfer (no HTTP status): connection refused -> "cannot connect ...". */
int dk_curl_error(const struct docker_client *c, CURL *h, CURLcode rc, const char *what,
                  const char *errbuf, struct err *err);
/* Sets err from a non-2xx answer: "<what> at <endpoint>: <message> (HTTP <status>)". */
int dk_status_error(const struct docker_client *c, const char *what, long status, const char *body,
                    size_t len, struct err *err);

/* Percent-encodes s for a query value (owned). */
char *dk_escape(const char *s);
/* `{"label":["<label>"]}` for list filters, percent-encoded (owned). */
char *dk_label_filter(const char *label);
/* A JSON array of strings from a NULL-terminated array (NULL stays NULL). Owned. */
json_t *dk_str_array(char *const *v);
/* A JSON object {"k": "v"} from "k=v" strings ("k" alone gives ""). Owned. */
json_t *dk_label_object(char *const *labels);

/* ---- hijacked connections (stream.c) ---- */
struct dk_hijack;
/* Opens a connection, sends `method path` with an optional JSON body asking for an upgrade and
 * reads the answer's head. Returns the connection or NULL with err (status errors as above). */
struct dk_hijack *dk_hijack_open(struct docker_client *c, const char *method, const char *path,
                                 const json_t *body, const char *what, struct err *err);
void dk_hijack_free(struct dk_hijack *hj);

/* What to do on a hijacked connection: write input to stdin (then half-close when
 * close_stdin), deliver the demultiplexed output, stop on cancel_fd or after timeout_ms. */
struct dk_pump {
	const char *input; /* borrowed, may be NULL */
	size_t input_len;
	bool close_stdin; /* half-close after the input: the daemon's stdin EOF */
	docker_output_fn on_output;
	void *userdata;
	int cancel_fd;    /* -1 = none */
	long timeout_ms;  /* 0 = none */
	bool raw;         /* tty: output not multiplexed */
	const char *what; /* for errors */
	bool canceled;    /* out: stopped because cancel_fd became readable */
	bool timed_out;   /* out: stopped because timeout_ms passed */
};
#define DK_PUMP_INIT                                                                               \
	{                                                                                          \
		.cancel_fd = -1                                                                    \
	}
/* Runs until the daemon closes the stream (0), cancel or timeout (0 with the flag set), or a
 * failure (-1 with err: connection error, malformed or truncated frame). */
int dk_hijack_pump(struct dk_hijack *hj, struct dk_pump *p, struct err *err);
