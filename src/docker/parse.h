/* Pure parsing helpers of the Docker client: no I/O, no daemon, so each can be unit-tested on
 * canned bytes and fuzzed (tests/fuzz/fuzz-docker-json.c). Covers DOCKER_HOST parsing, HTTP
 * response heads of hijacked streams, chunked bodies, error-message extraction, the pull
 * progress stream, the 8-byte-header frame demultiplexer and the JSON answers the client
 * reads fields from (create, wait, exec inspect, container state). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "docker/client.h"
#include "util/err.h"

struct strbuf;

/* ---- endpoints ---- */
enum docker_host_kind { DOCKER_HOST_UNIX, DOCKER_HOST_TCP };

struct docker_host {
	enum docker_host_kind kind;
	char *path;    /* unix socket path (owned), NULL for tcp */
	char *host;    /* tcp host name or address (owned, IPv6 without brackets), NULL for unix */
	unsigned port; /* tcp port */
};

/* Parses "unix:///path", "tcp://host:port", "tcp://[::1]:2375", "http://..." (as tcp); NULL
 * or "" gives the default unix socket. default_port is used when tcp has no port (2375 plain,
 * 2376 TLS). Fills *ret (release with docker_host_release) or fails with ERR_CONFIG. */
int docker_host_parse(const char *s, unsigned default_port, struct docker_host *ret,
                      struct err *err);
void docker_host_release(struct docker_host *h);

/* "1.41" -> 1041; -1 if malformed. */
int docker_api_version_parse(const char *s);

/* ---- HTTP ---- */
struct docker_http_head {
	int status;               /* e.g. 101, 200, 404 */
	long long content_length; /* -1 when absent */
	bool chunked;             /* Transfer-Encoding: chunked */
	bool upgraded;            /* 101 or "Upgrade:" present */
	bool close;               /* "Connection: close" or HTTP/1.0: not reusable afterwards */
};

/* Parses a response head in buf[0..len). Returns the head's length (through the blank line)
 * when complete, 0 when more bytes are needed, -1 when malformed (or longer than 64 KiB). */
long docker_http_head_parse(const char *buf, size_t len, struct docker_http_head *ret);

/* The value of header `name` (case-insensitive) in the head buf[0..len), blanks trimmed, not
 * NUL-terminated: returns a pointer into buf and its length in *ret_len, or NULL when absent. */
const char *docker_http_head_value(const char *buf, size_t len, const char *name, size_t *ret_len);

/* Incremental decoder of a response body: Content-Length, chunked (extensions and trailers
 * skipped), no body (HEAD, 1xx, 204, 304) or until the connection closes. Bytes arrive in
 * pieces of any size, split anywhere, as reads return them. */
enum docker_body_mode {
	DOCKER_BODY_NONE,
	DOCKER_BODY_LENGTH,
	DOCKER_BODY_CHUNKED,
	DOCKER_BODY_EOF
};
struct docker_http_body {
	enum docker_body_mode mode;
	int state;               /* chunked: where in the chunk syntax the next byte falls */
	unsigned long long left; /* payload bytes left: of the body (length) or of the chunk */
	int digits;              /* hex digits of the current chunk size */
	size_t line_len;         /* bytes of the current extension or trailer section */
	bool done;               /* the body is complete (never for DOCKER_BODY_EOF) */
};
/* Sets the decoder up for an answer with head h to a request; no_body for HEAD requests. */
void docker_http_body_init(struct docker_http_body *b, const struct docker_http_head *h,
                           bool no_body);
/* Called with each piece of payload; returns 0, or -1 to stop decoding. */
typedef int (*docker_payload_fn)(void *userdata, const char *data, size_t len);
/* Decodes data[0..len): payload pieces go to fn (NULL drops them). Returns the bytes consumed,
 * fewer than len only when the body ended inside data (the rest is not part of it); -1 when
 * the body is malformed (bad chunk size line, missing CRLF, oversized extension or trailers);
 * -2 when fn returned -1. */
long docker_http_body_feed(struct docker_http_body *b, const char *data, size_t len,
                           docker_payload_fn fn, void *userdata);

/* Decodes a complete chunked body into out. Returns 0 when the final chunk was seen, 1 when
 * the body is truncated (what was complete is in out), -1 when malformed. */
int docker_dechunk(const char *buf, size_t len, struct strbuf *out);

/* The daemon's message from an error body: the JSON "message" field, or the text itself
 * (trimmed, control characters replaced, at most 1000 bytes), or "empty response". Owned. */
char *docker_error_message(const char *body, size_t len);

/* ---- image references ---- */
/* Splits an image reference into the repository and tag for /images/create: "alpine" ->
 * ("alpine", "latest"), "r:5000/a/b:1" -> ("r:5000/a/b", "1"), "a@sha256:..." -> ("a@sha256:..",
 * NULL). Both owned. Fails (ERR_CONFIG) on an empty reference. */
int docker_image_ref_split(const char *image, char **ret_repo, char **ret_tag, struct err *err);

/* ---- line-delimited JSON progress (pull) ---- */
/* Splits bytes into lines, calling fn for each complete line (without the \r\n); leftover
 * bytes stay in pending. fn returns 0 to go on, -1 to stop (then this returns -1). */
typedef int (*docker_raw_line_fn)(void *userdata, const char *line, size_t len);
int docker_lines_feed(struct strbuf *pending, const char *data, size_t len, docker_raw_line_fn fn,
                      void *userdata);

/* Interprets one progress line. Returns 0 with a human-readable form in text ("<id>: <status>
 * <progress>", may be empty), 1 when the line reports an error (*ret_error owned: the
 * "errorDetail.message" or "error"), or 0 with the raw line as text when it is not JSON. */
int docker_progress_line(const char *line, size_t len, struct strbuf *text, char **ret_error);

/* ---- multiplexed streams ---- */
/* Frames: stream byte (0 stdin, 1 stdout, 2 stderr, 3 daemon error), 3 zero bytes,
 * big-endian uint32 payload length, payload. With raw (tty) the bytes go to stream 1 as is. */
struct docker_demux {
	bool raw;
	uint8_t hdr[8];
	size_t hdr_len;     /* header bytes collected so far */
	uint32_t remaining; /* payload bytes of the current frame still to come */
	int stream;
	uint64_t bytes[3]; /* payload bytes delivered per stream (0 unused), for tests/limits */
};

void docker_demux_init(struct docker_demux *d, bool raw);
/* Feeds len bytes; payload pieces go to fn as they arrive (a frame split across reads is
 * delivered in pieces, never held back). Stream 0 is reported as 1 and 3 as 2. Returns 0,
 * or -1 with err (ERR_ENV) on a malformed header. fn may be NULL (payload dropped). */
int docker_demux_feed(struct docker_demux *d, const void *data, size_t len, docker_output_fn fn,
                      void *userdata, struct err *err);
/* True when the bytes fed so far end in the middle of a frame. */
bool docker_demux_partial(const struct docker_demux *d);

/* ---- JSON answers ---- */
/* The "Id" string of a create answer. Returns owned copy or NULL. */
char *docker_json_id(const char *body, size_t len);
/* POST /containers/{id}/wait answer: {"StatusCode": n, "Error": {"Message": ".."}}. Returns 0
 * with the code (*ret_error owned or NULL), -1 when the answer has no StatusCode. */
int docker_parse_wait(const char *body, size_t len, int *ret_code, char **ret_error);

/* From GET /containers/{id}/json (State object) or GET /exec/{id}/json (Running, ExitCode).
 * Returns 0 or -1 when the fields are missing or of the wrong type. */
int docker_parse_state(const json_t *info, struct docker_state *ret);

/* Ids from a list answer: [{"Id": ..}] (containers, networks) or {"Volumes": [{"Name": ..}]}.
 * Appends to out; returns 0 or -1 when the shape is wrong. */
int docker_parse_id_list(const json_t *list, const char *kind, struct strvec *out);
