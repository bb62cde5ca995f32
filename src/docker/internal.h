/* Shared internals of the docker module: the client object and the one request function every
 * endpoint goes through (client.c), plus the hijacked-connection helpers (stream.c). Not for
 * use outside src/docker/. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

/* Transports. Every request is HTTP/1.1 written and read here (http.c) over a byte stream, a
 * struct dk_conn, of one of two kinds: a plain unix socket (conn.c; the default endpoint, no
 * library needed) or a connection libcurl opened for tcp:// and TLS endpoints (curl.c, which
 * loads libcurl with dlopen() on the first tcp connection, so unix-socket runs never map
 * libcurl and the forty libraries it depends on). Endpoint files only build struct dk_req. */
#include <jansson.h>

#include "docker/client.h"
#include "docker/parse.h"
#include "util/strbuf.h"

struct dk_conn;
struct dk_conn_ops {
	/* Bytes sent (> 0), -2 when the socket would block, -1 on error (detail set). */
	long (*send)(struct dk_conn *cn, const char *buf, size_t len);
	/* Bytes read (> 0), 0 at EOF, -2 when nothing is available now, -1 on error (detail
	 * set). A transport with its own buffering (TLS) is drained until -2 before a poll(). */
	long (*recv)(struct dk_conn *cn, char *buf, size_t cap);
	void (*close)(struct dk_conn *cn); /* frees the transport's state, closes fd */
};

struct dk_conn {
	const struct dk_conn_ops *ops;
	int fd;           /* the socket, non-blocking, for poll() and shutdown() */
	void *impl;       /* the transport's state (a CURL handle), or NULL */
	struct strbuf in; /* bytes received and not consumed yet */
	char detail[256]; /* why the last send/recv failed */
};

/* Opens a connection to the client's endpoint: unix socket here, tcp through libcurl.
 * Returns an owned connection, or NULL with err (ERR_ENV): "cannot connect to the Docker daemon
 * at <endpoint>: <why> (is the daemon running?)". */
struct dk_conn *dk_conn_open(struct docker_client *c, struct err *err);
/* The libcurl transport (curl.c); same contract. */
struct dk_conn *dk_curl_conn_open(struct docker_client *c, struct err *err);
/* Loads libcurl.so.4 and runs curl_global_init() once per process (thread-safe). Returns 0, or
 * -1 with err (ERR_ENV: "cannot load libcurl.so.4: <dlerror text>"); a failure is final. */
int dk_curl_load(struct err *err);
/* Closes and frees cn (NULL accepted). */
void dk_conn_free(struct dk_conn *cn);

/* Outcomes of the waiting I/O helpers below. */
enum dk_io { DK_IO_OK = 1, DK_IO_EOF = 0, DK_IO_ERR = -1, DK_IO_TIMEOUT = -2, DK_IO_CANCEL = -3 };
/* Milliseconds of CLOCK_MONOTONIC, the clock of every deadline here. */
long dk_now_ms(void);
/* Waits until cn's socket has `events`, the deadline (0 = none) passes or cancel_fd (-1 = none)
 * becomes readable: DK_IO_OK, DK_IO_TIMEOUT, DK_IO_CANCEL or DK_IO_ERR (detail set). */
enum dk_io dk_conn_wait(struct dk_conn *cn, short events, long deadline, int cancel_fd);
/* Sends all of buf: DK_IO_OK, or DK_IO_ERR/DK_IO_TIMEOUT/DK_IO_CANCEL. */
enum dk_io dk_conn_send_all(struct dk_conn *cn, const char *buf, size_t len, long deadline,
                            int cancel_fd);
/* Appends what can be read to cn->in, waiting for at least one byte: DK_IO_OK, DK_IO_EOF,
 * DK_IO_ERR, DK_IO_TIMEOUT or DK_IO_CANCEL. */
enum dk_io dk_conn_fill(struct dk_conn *cn, long deadline, int cancel_fd);

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
	struct dk_conn *conn; /* kept alive between requests; not used for hijacked streams */
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
	int cancel_fd;  /* stop when readable (-1 = never): err "canceled" (ERR_JOB) */
};
#define DK_REQ_INIT                                                                                \
	{                                                                                          \
		.body_fd = -1, .cancel_fd = -1                                                     \
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

/* Performs one request on the client's keep-alive connection (reconnecting when the daemon
 * closed it). Returns 0 on 2xx or an accepted status (rs->status tells which); -1 with err
 * (ERR_ENV) otherwise: "<what> at <endpoint>: <daemon message> (HTTP <code>)", "<what> at
 * <endpoint>: connection to the daemon failed: <why>", or the "cannot connect" message when
 * the daemon is not reachable; "canceled" (ERR_JOB) when rq->cancel_fd became readable.
 * rs is filled in every case (release it). */
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

/* ---- reading answers (http.c), shared with the hijacked streams ---- */
/* One exchange on a connection: where errors point and how long to wait. */
struct dk_xfer {
	struct docker_client *c;
	struct dk_conn *cn;
	const char *what; /* starts every error message */
	long deadline;    /* dk_now_ms() value, 0 = none */
	long timeout_ms;  /* what the deadline came from, for messages */
	int cancel_fd;    /* -1 = none */
	bool got_bytes;   /* out: any byte of the answer arrived */
};
/* Sets err for an I/O outcome of x (DK_IO_ERR, _TIMEOUT, _CANCEL, or _EOF as "closed before
 * the answer"): "<what> at <endpoint>: connection to the daemon failed: <why>". Returns -1. */
int dk_xfer_error(struct dk_xfer *x, enum dk_io io, struct err *err);
/* Reads an answer's head (1xx answers other than 101 are skipped) into *ret and, when rs is
 * given, the API-Version and Libpod-API-Version headers into it. The body's first bytes stay
 * in x->cn->in. Returns 0 or -1 with err. */
int dk_read_head(struct dk_xfer *x, struct docker_http_head *ret, struct dk_resp *rs,
                 struct err *err);
/* Reads the body of an answer with head h through b (set up by the caller), payload to fn.
 * Returns 0 when complete (or at EOF for close-delimited bodies), -1 with err (I/O, malformed,
 * or fn's failure: then fn has set err). */
int dk_read_body(struct dk_xfer *x, struct docker_http_body *b, docker_payload_fn fn, void *ud,
                 struct err *err);
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
