/* Pure parsers of the Docker client (see parse.h): everything that interprets bytes coming
 * from the daemon lives here, so the fuzzer reaches it without a socket. */
#include "docker/parse.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "util/strbuf.h"
#include "util/strvec.h"
#include "util/xalloc.h"

#define DEFAULT_SOCKET "/var/run/docker.sock"
#define HEAD_MAX (64 * 1024)
#define ERRMSG_MAX 1000

/* ---- endpoints ---- */

void docker_host_release(struct docker_host *h)
{
	if (!h)
		return;
	free(h->path);
	free(h->host);
	h->path = h->host = NULL;
}

static int parse_port(const char *s, unsigned *ret)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || end == s || *end != '\0' || v == 0 || v > 65535 || !isdigit((unsigned char)*s))
		return -1;
	*ret = (unsigned)v;
	return 0;
}

/* host part of tcp://HOST[:PORT][/...]: brackets for IPv6, trailing path ignored. */
static int parse_tcp(const char *s, unsigned default_port, struct docker_host *h)
{
	size_t n = strcspn(s, "/");
	char *hp = xstrndup(s, n);
	char *colon = NULL;
	char *name = hp;
	if (hp[0] == '[') {
		char *close = strchr(hp, ']');
		if (!close || (close[1] != '\0' && close[1] != ':')) {
			free(hp);
			return -1;
		}
		*close = '\0';
		name = hp + 1;
		colon = close[1] == ':' ? close + 1 : NULL;
	} else {
		colon = strrchr(hp, ':');
		if (colon && strchr(hp, ':') != colon) {
			free(hp); /* bare IPv6 without brackets is ambiguous */
			return -1;
		}
	}
	if (colon)
		*colon++ = '\0';
	unsigned port = default_port;
	if ((colon && parse_port(colon, &port) < 0) || name[0] == '\0') {
		free(hp);
		return -1;
	}
	h->kind = DOCKER_HOST_TCP;
	h->host = xstrdup(name);
	h->port = port;
	free(hp);
	return 0;
}

int docker_host_parse(const char *s, unsigned default_port, struct docker_host *ret,
                      struct err *err)
{
	struct docker_host h = {.kind = DOCKER_HOST_UNIX};
	if (!s || !*s) {
		h.path = xstrdup(DEFAULT_SOCKET);
	} else if (!strncmp(s, "unix://", 7)) {
		if (s[7] != '/')
			return err_set(err, ERR_CONFIG,
			               "invalid Docker host '%s': the socket path "
			               "must be absolute",
			               s);
		h.path = xstrdup(s + 7);
	} else if (!strncmp(s, "tcp://", 6) || !strncmp(s, "http://", 7)) {
		if (parse_tcp(strstr(s, "://") + 3, default_port, &h) < 0)
			return err_set(err, ERR_CONFIG,
			               "invalid Docker host '%s': expected "
			               "tcp://host:port",
			               s);
	} else if (s[0] == '/') {
		h.path = xstrdup(s);
	} else {
		return err_set(err, ERR_CONFIG,
		               "unsupported Docker host '%s': use unix:///path "
		               "or tcp://host:port",
		               s);
	}
	*ret = h;
	return 0;
}

int docker_api_version_parse(const char *s)
{
	if (!s || !isdigit((unsigned char)*s))
		return -1;
	char *end;
	long major = strtol(s, &end, 10);
	if (*end != '.' || !isdigit((unsigned char)end[1]) || major > 99)
		return -1;
	long minor = strtol(end + 1, &end, 10);
	if (minor > 999 || (*end != '\0' && !isspace((unsigned char)*end)))
		return -1;
	return (int)(major * 1000 + minor);
}

/* ---- HTTP ---- */

static const char *find_head_end(const char *buf, size_t len)
{
	for (size_t i = 0; i + 3 < len; i++)
		if (!memcmp(buf + i, "\r\n\r\n", 4))
			return buf + i + 4;
	return NULL;
}

/* One "Name: value" line of a head (without CRLF). */
static void head_field(const char *line, size_t len, struct docker_http_head *h)
{
	const char *colon = memchr(line, ':', len);
	if (!colon)
		return;
	size_t nlen = (size_t)(colon - line);
	const char *v = colon + 1;
	const char *end = line + len;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	size_t vlen = (size_t)(end - v);
	if (nlen == 14 && !strncasecmp(line, "content-length", 14)) {
		long long n = 0;
		size_t i = 0;
		for (; i < vlen && isdigit((unsigned char)v[i]) && n < (LLONG_MAX - 9) / 10; i++)
			n = n * 10 + (v[i] - '0');
		h->content_length = i > 0 ? n : -1;
	} else if (nlen == 17 && !strncasecmp(line, "transfer-encoding", 17)) {
		h->chunked = vlen >= 7 && !strncasecmp(v + vlen - 7, "chunked", 7);
	} else if (nlen == 7 && !strncasecmp(line, "upgrade", 7)) {
		h->upgraded = true;
	} else if (nlen == 10 && !strncasecmp(line, "connection", 10)) {
		/* "close" among the tokens; "Upgrade" needs no handling here */
		for (size_t i = 0; i + 5 <= vlen; i++)
			if (!strncasecmp(v + i, "close", 5))
				h->close = true;
	}
}

long docker_http_head_parse(const char *buf, size_t len, struct docker_http_head *ret)
{
	const char *end = find_head_end(buf, len < HEAD_MAX ? len : HEAD_MAX);
	if (!end)
		return len >= HEAD_MAX ? -1 : 0;
	struct docker_http_head h = {.content_length = -1};
	/* "HTTP/1.x NNN reason" */
	if (end - buf < 12 || strncmp(buf, "HTTP/1.", 7) || buf[8] != ' ')
		return -1;
	for (int i = 9; i < 12; i++)
		if (!isdigit((unsigned char)buf[i]))
			return -1;
	h.status = (buf[9] - '0') * 100 + (buf[10] - '0') * 10 + (buf[11] - '0');
	const char *p = (const char *)memchr(buf, '\n', (size_t)(end - buf)) + 1;
	while (p < end - 2) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t l = (size_t)(nl - p);
		if (l > 0 && p[l - 1] == '\r')
			l--;
		head_field(p, l, &h);
		p = nl + 1;
	}
	if (h.status == 101)
		h.upgraded = true;
	if (buf[7] == '0') /* HTTP/1.0 closes after each answer */
		h.close = true;
	*ret = h;
	return (long)(end - buf);
}

const char *docker_http_head_value(const char *buf, size_t len, const char *name, size_t *ret_len)
{
	size_t nlen = strlen(name);
	const char *end = buf + len;
	/* the status line is skipped: each field starts after a newline */
	for (const char *p = memchr(buf, '\n', len); p && p + 1 < end;
	     p = memchr(p + 1, '\n', (size_t)(end - p - 1))) {
		const char *f = p + 1;
		if ((size_t)(end - f) <= nlen || strncasecmp(f, name, nlen) || f[nlen] != ':')
			continue;
		const char *v = f + nlen + 1;
		const char *nl = memchr(v, '\n', (size_t)(end - v));
		const char *ve = nl ? nl : end;
		while (v < ve && (*v == ' ' || *v == '\t'))
			v++;
		while (ve > v && (ve[-1] == '\r' || ve[-1] == ' ' || ve[-1] == '\t'))
			ve--;
		*ret_len = (size_t)(ve - v);
		return v;
	}
	return NULL;
}

/* ---- streaming bodies ---- */

#define CHUNK_EXT_MAX 4096
#define TRAILERS_MAX (64 * 1024)

/* Chunked syntax: SIZE [;ext] CRLF DATA CRLF ... 0 CRLF [trailer CRLF]* CRLF (bare LF
 * accepted where CRLF is due, as Go's reader does). */
enum {
	CH_SIZE,       /* hex digits of a chunk size */
	CH_EXT,        /* after the size: extension up to the newline */
	CH_SIZE_LF,    /* after the size line's CR */
	CH_DATA,       /* payload of the chunk */
	CH_DATA_CR,    /* CRLF after the payload */
	CH_DATA_LF,    /* LF after the payload's CR */
	CH_TRAILER,    /* at the start of a trailer line (or the final empty line) */
	CH_TRAILER_IN, /* inside a trailer line */
	CH_END_LF,     /* LF of the final empty line */
};

void docker_http_body_init(struct docker_http_body *b, const struct docker_http_head *h,
                           bool no_body)
{
	*b = (struct docker_http_body){.mode = DOCKER_BODY_EOF, .state = CH_SIZE};
	if (no_body || (h->status >= 100 && h->status < 200) || h->status == 204 ||
	    h->status == 304) {
		b->mode = DOCKER_BODY_NONE;
	} else if (h->chunked) {
		b->mode = DOCKER_BODY_CHUNKED;
	} else if (h->content_length >= 0) {
		b->mode = DOCKER_BODY_LENGTH;
		b->left = (unsigned long long)h->content_length;
	}
	b->done = b->mode == DOCKER_BODY_NONE || (b->mode == DOCKER_BODY_LENGTH && !b->left);
}

/* The end of a size line: data follows, or the trailers after the last chunk. */
static void chunk_size_done(struct docker_http_body *b)
{
	b->state = b->left ? CH_DATA : CH_TRAILER;
	b->line_len = 0;
}

/* One byte of chunk syntax (anything but payload). Returns 0 or -1 when malformed. */
static int chunk_syntax(struct docker_http_body *b, char ch)
{
	switch (b->state) {
	case CH_SIZE:
		if (isxdigit((unsigned char)ch)) {
			if (++b->digits > 15)
				return -1;
			int c = tolower((unsigned char)ch);
			b->left = b->left * 16 + (unsigned)(isdigit(c) ? c - '0' : c - 'a' + 10);
			return 0;
		}
		if (!b->digits)
			return -1;
		if (ch == '\n')
			chunk_size_done(b);
		else if (ch == '\r')
			b->state = CH_SIZE_LF;
		else if (ch == ';' || ch == ' ' || ch == '\t')
			b->state = CH_EXT;
		else
			return -1;
		return 0;
	case CH_EXT:
		if (ch == '\n')
			chunk_size_done(b);
		else if (++b->line_len > CHUNK_EXT_MAX)
			return -1;
		return 0;
	case CH_SIZE_LF:
		if (ch != '\n')
			return -1;
		chunk_size_done(b);
		return 0;
	case CH_DATA_CR:
	case CH_DATA_LF:
		if (ch == '\r' && b->state == CH_DATA_CR) {
			b->state = CH_DATA_LF;
			return 0;
		}
		if (ch != '\n') /* a bare LF is accepted after the payload */
			return -1;
		b->state = CH_SIZE;
		b->digits = 0;
		return 0;
	case CH_TRAILER:
		if (ch == '\n')
			b->done = true;
		else if (ch == '\r')
			b->state = CH_END_LF;
		else
			b->state = CH_TRAILER_IN;
		return 0;
	case CH_TRAILER_IN:
		if (++b->line_len > TRAILERS_MAX)
			return -1;
		if (ch == '\n')
			b->state = CH_TRAILER;
		return 0;
	default: /* CH_END_LF */
		if (ch != '\n')
			return -1;
		b->done = true;
		return 0;
	}
}

static long feed_chunked(struct docker_http_body *b, const char *data, size_t len,
                         docker_payload_fn fn, void *ud)
{
	size_t pos = 0;
	while (pos < len && !b->done) {
		if (b->state != CH_DATA) {
			if (chunk_syntax(b, data[pos++]) < 0)
				return -1;
			continue;
		}
		size_t n = len - pos < b->left ? len - pos : (size_t)b->left;
		if (fn && fn(ud, data + pos, n) < 0)
			return -2;
		pos += n;
		b->left -= n;
		if (!b->left)
			b->state = CH_DATA_CR;
	}
	return (long)pos;
}

long docker_http_body_feed(struct docker_http_body *b, const char *data, size_t len,
                           docker_payload_fn fn, void *userdata)
{
	if (len > LONG_MAX)
		len = LONG_MAX;
	if (b->done || !len)
		return 0;
	if (b->mode == DOCKER_BODY_CHUNKED)
		return feed_chunked(b, data, len, fn, userdata);
	size_t n = len;
	if (b->mode == DOCKER_BODY_LENGTH && b->left < n)
		n = (size_t)b->left;
	if (fn && fn(userdata, data, n) < 0)
		return -2;
	if (b->mode == DOCKER_BODY_LENGTH) {
		b->left -= n;
		b->done = !b->left;
	}
	return (long)n;
}

int docker_dechunk(const char *buf, size_t len, struct strbuf *out)
{
	size_t pos = 0;
	for (;;) {
		const char *nl = memchr(buf + pos, '\n', len - pos);
		if (!nl)
			return 1;
		unsigned long long size = 0;
		size_t i = pos;
		int digits = 0;
		for (; i < len && isxdigit((unsigned char)buf[i]); i++, digits++) {
			if (digits >= 15)
				return -1;
			int c = tolower((unsigned char)buf[i]);
			size = size * 16 + (unsigned)(isdigit(c) ? c - '0' : c - 'a' + 10);
		}
		if (!digits)
			return -1;
		pos = (size_t)(nl - buf) + 1; /* chunk extensions before the newline are ignored */
		if (size == 0)
			return 0;
		if (size > len - pos) {
			strbuf_add(out, buf + pos, len - pos);
			return 1;
		}
		strbuf_add(out, buf + pos, (size_t)size);
		pos += (size_t)size;
		/* CRLF after the data */
		if (pos < len && buf[pos] == '\r')
			pos++;
		if (pos < len && buf[pos] == '\n')
			pos++;
		else if (pos < len)
			return -1;
	}
}

static void add_sanitized(struct strbuf *sb, const char *s, size_t len)
{
	while (len && isspace((unsigned char)*s))
		s++, len--;
	while (len && isspace((unsigned char)s[len - 1]))
		len--;
	bool cut = len > ERRMSG_MAX;
	if (cut)
		len = ERRMSG_MAX;
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];
		strbuf_addch(sb, ch < 0x20 || ch == 0x7f ? ' ' : ch);
	}
	if (cut)
		strbuf_addstr(sb, "...");
}

char *docker_error_message(const char *body, size_t len)
{
	struct strbuf sb = STRBUF_INIT;
	json_t *j = json_loadb(body, len, JSON_DISABLE_EOF_CHECK, NULL);
	const char *m = json_string_value(json_object_get(j, "message"));
	if (!m) /* registries and podman sometimes say "error"/"cause" */
		m = json_string_value(json_object_get(j, "error"));
	if (m && *m)
		add_sanitized(&sb, m, strlen(m));
	else if (!j)
		add_sanitized(&sb, body, len);
	json_decref(j);
	if (sb.len == 0)
		strbuf_addstr(&sb, "empty response");
	return strbuf_detach(&sb, NULL);
}

/* ---- image references ---- */

int docker_image_ref_split(const char *image, char **ret_repo, char **ret_tag, struct err *err)
{
	if (!image || !*image)
		return err_set(err, ERR_CONFIG, "empty image name");
	if (strchr(image, '@')) {
		*ret_repo = xstrdup(image);
		*ret_tag = NULL;
		return 0;
	}
	const char *slash = strrchr(image, '/');
	const char *colon = strrchr(slash ? slash : image, ':');
	if (colon && colon[1] != '\0') {
		*ret_repo = xstrndup(image, (size_t)(colon - image));
		*ret_tag = xstrdup(colon + 1);
	} else {
		*ret_repo = colon ? xstrndup(image, (size_t)(colon - image)) : xstrdup(image);
		*ret_tag = xstrdup("latest");
	}
	return 0;
}

/* ---- progress lines ---- */

int docker_lines_feed(struct strbuf *pending, const char *data, size_t len, docker_raw_line_fn fn,
                      void *userdata)
{
	strbuf_add(pending, data, len);
	size_t start = 0;
	int rc = 0;
	for (;;) {
		const char *nl = memchr(pending->buf + start, '\n', pending->len - start);
		if (!nl)
			break;
		size_t l = (size_t)(nl - (pending->buf + start));
		size_t next = start + l + 1;
		if (l > 0 && pending->buf[start + l - 1] == '\r')
			l--;
		if (l > 0 && fn(userdata, pending->buf + start, l) < 0) {
			rc = -1;
			start = next;
			break;
		}
		start = next;
	}
	memmove(pending->buf, pending->buf + start, pending->len - start);
	strbuf_setlen(pending, pending->len - start);
	return rc;
}

int docker_progress_line(const char *line, size_t len, struct strbuf *text, char **ret_error)
{
	json_t *j = json_loadb(line, len, 0, NULL);
	if (!json_is_object(j)) {
		json_decref(j);
		add_sanitized(text, line, len);
		return 0;
	}
	const char *e =
	    json_string_value(json_object_get(json_object_get(j, "errorDetail"), "message"));
	if (!e)
		e = json_string_value(json_object_get(j, "error"));
	if (e) {
		struct strbuf sb = STRBUF_INIT;
		add_sanitized(&sb, e, strlen(e));
		if (sb.len == 0)
			strbuf_addstr(&sb, "unknown error");
		*ret_error = strbuf_detach(&sb, NULL);
		json_decref(j);
		return 1;
	}
	const char *id = json_string_value(json_object_get(j, "id"));
	const char *status = json_string_value(json_object_get(j, "status"));
	const char *progress = json_string_value(json_object_get(j, "progress"));
	if (id && *id)
		strbuf_addf(text, "%s: ", id);
	if (status)
		add_sanitized(text, status, strlen(status));
	if (progress && *progress) {
		strbuf_addch(text, ' ');
		add_sanitized(text, progress, strlen(progress));
	}
	json_decref(j);
	return 0;
}

/* ---- demultiplexer ---- */

void docker_demux_init(struct docker_demux *d, bool raw)
{
	memset(d, 0, sizeof(*d));
	d->raw = raw;
}

static void deliver(struct docker_demux *d, int stream, const char *p, size_t n,
                    docker_output_fn fn, void *userdata)
{
	d->bytes[stream] += n;
	if (fn && n)
		fn(userdata, stream, p, n);
}

/* Validates the collected header and starts its frame. */
static int start_frame(struct docker_demux *d, struct err *err)
{
	const uint8_t *h = d->hdr;
	if (h[0] > 3 || h[1] || h[2] || h[3])
		return err_set(err, ERR_ENV,
		               "malformed stream from the Docker daemon (frame header "
		               "%02x %02x %02x %02x)",
		               h[0], h[1], h[2], h[3]);
	d->stream = h[0] == 0 ? 1 : h[0] == 3 ? 2 : h[0];
	d->remaining = (uint32_t)h[4] << 24 | (uint32_t)h[5] << 16 | (uint32_t)h[6] << 8 | h[7];
	d->hdr_len = 0;
	return 0;
}

int docker_demux_feed(struct docker_demux *d, const void *data, size_t len, docker_output_fn fn,
                      void *userdata, struct err *err)
{
	const char *p = data;
	if (d->raw) {
		deliver(d, 1, p, len, fn, userdata);
		return 0;
	}
	while (len > 0) {
		if (d->remaining == 0) {
			size_t take = 8 - d->hdr_len < len ? 8 - d->hdr_len : len;
			memcpy(d->hdr + d->hdr_len, p, take);
			d->hdr_len += take;
			p += take;
			len -= take;
			if (d->hdr_len == 8 && start_frame(d, err) < 0)
				return -1;
			continue;
		}
		size_t take = d->remaining < len ? d->remaining : len;
		deliver(d, d->stream, p, take, fn, userdata);
		d->remaining -= (uint32_t)take;
		p += take;
		len -= take;
	}
	return 0;
}

bool docker_demux_partial(const struct docker_demux *d)
{
	return !d->raw && (d->remaining > 0 || d->hdr_len > 0);
}

/* ---- JSON answers ---- */

char *docker_json_id(const char *body, size_t len)
{
	json_t *j = json_loadb(body, len, 0, NULL);
	const char *id = json_string_value(json_object_get(j, "Id"));
	char *r = id && *id ? xstrdup(id) : NULL;
	json_decref(j);
	return r;
}

static bool int_in_range(const json_t *v)
{
	return json_is_integer(v) && json_integer_value(v) >= INT_MIN &&
	       json_integer_value(v) <= INT_MAX;
}

int docker_parse_wait(const char *body, size_t len, int *ret_code, char **ret_error)
{
	json_t *j = json_loadb(body, len, JSON_DISABLE_EOF_CHECK, NULL);
	json_t *code = json_object_get(j, "StatusCode");
	if (!int_in_range(code)) {
		json_decref(j);
		return -1;
	}
	const char *m = json_string_value(json_object_get(json_object_get(j, "Error"), "Message"));
	*ret_code = (int)json_integer_value(code);
	*ret_error = m && *m ? xstrdup(m) : NULL;
	json_decref(j);
	return 0;
}

static char *opt_string(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s && *s ? xstrdup(s) : NULL;
}

int docker_parse_state(const json_t *info, struct docker_state *ret)
{
	const json_t *st = json_object_get(info, "State");
	/* exec inspect has Running/ExitCode at the top level */
	if (!json_is_object(st))
		st = info;
	const json_t *running = json_object_get(st, "Running");
	const json_t *code = json_object_get(st, "ExitCode");
	if (!json_is_boolean(running) || (!int_in_range(code) && !json_is_null(code)))
		return -1;
	struct docker_state s = {
	    .running = json_is_true(running),
	    .oom_killed = json_is_true(json_object_get(st, "OOMKilled")),
	    .exit_code = json_is_null(code) ? -1 : (int)json_integer_value(code),
	    .status = opt_string(st, "Status"),
	    .error = opt_string(st, "Error"),
	};
	*ret = s;
	return 0;
}

void docker_state_release(struct docker_state *s)
{
	if (!s)
		return;
	free(s->status);
	free(s->error);
	s->status = s->error = NULL;
}

int docker_parse_id_list(const json_t *list, const char *kind, struct strvec *out)
{
	const char *key = "Id";
	if (!strcmp(kind, "volumes")) {
		if (!json_is_object(list))
			return -1;
		list = json_object_get(list, "Volumes");
		key = "Name";
		if (json_is_null(list) || !list) /* dockerd says null when there are none */
			return 0;
	}
	if (!json_is_array(list))
		return -1;
	size_t i;
	const json_t *it;
	json_array_foreach(list, i, it)
	{
		const char *id = json_string_value(json_object_get(it, key));
		if (!id)
			return -1;
		strvec_push(out, id);
	}
	return 0;
}
