/* The Docker client object: endpoint from DOCKER_HOST / DOCKER_TLS_VERIFY / DOCKER_CERT_PATH,
 * API version negotiated through /_ping, the helpers the endpoint files share and the request
 * entry points (dk_do, dk_post_for_id, docker_request) over http.c's dk_perform(). */
#include "docker/client.h"

#include <errno.h>
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
	/* tcp goes through libcurl: a missing one is reported before any request */
	if (c->host.kind == DOCKER_HOST_TCP && dk_curl_load(err) < 0)
		return -1;
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
	dk_conn_free(c->conn);
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

int dk_status_error(const struct docker_client *c, const char *what, long status, const char *body,
                    size_t len, struct err *err)
{
	_cleanup_free_ char *m = docker_error_message(body, len);
	return err_set(err, ERR_ENV, "%s at %s: %s (HTTP %ld)", what, c->endpoint, m, status);
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
