/* Containers: create (Config + HostConfig + NetworkingConfig from docker_container_spec),
 * start, wait, kill, remove, inspect, logs and exec. The attached run lives in stream.c. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "docker/internal.h"
#include "util/cleanup.h"
#include "util/strbuf.h"
#include "util/strvec.h"
#include "util/xalloc.h"

#define EXEC_SETTLE_MS 10000

static void set_array(json_t *o, const char *key, char *const *v)
{
	if (v && *v)
		json_object_set_new(o, key, dk_str_array(v));
}

static void set_string(json_t *o, const char *key, const char *v)
{
	if (v && *v)
		json_object_set_new(o, key, json_string(v));
}

/* "host[:container[:perms]]" -> {PathOnHost, PathInContainer, CgroupPermissions} */
static json_t *device_json(const char *spec)
{
	struct strvec parts = STRVEC_INIT;
	const char *p = spec;
	for (;;) {
		const char *colon = strchr(p, ':');
		if (!colon || parts.n == 2) {
			strvec_push(&parts, p);
			break;
		}
		strvec_push_take(&parts, xstrndup(p, (size_t)(colon - p)));
		p = colon + 1;
	}
	json_t *d = json_pack("{s:s, s:s, s:s}", "PathOnHost", parts.v[0], "PathInContainer",
	                      parts.n > 1 && *parts.v[1] ? parts.v[1] : parts.v[0],
	                      "CgroupPermissions", parts.n > 2 ? parts.v[2] : "rwm");
	strvec_release(&parts);
	return d;
}

static json_t *host_config(const struct docker_container_spec *s)
{
	json_t *hc = json_object();
	set_array(hc, "Binds", s->binds);
	if (s->n_mounts) {
		json_t *m = json_array();
		for (size_t i = 0; i < s->n_mounts; i++)
			json_array_append_new(m, json_pack("{s:s, s:s, s:s, s:b}", "Type",
			                                   s->mounts[i].bind ? "bind" : "volume",
			                                   "Source", s->mounts[i].source, "Target",
			                                   s->mounts[i].target, "ReadOnly",
			                                   s->mounts[i].read_only));
		json_object_set_new(hc, "Mounts", m);
	}
	if (s->privileged)
		json_object_set_new(hc, "Privileged", json_true());
	set_array(hc, "CapAdd", s->cap_add);
	set_array(hc, "CapDrop", s->cap_drop);
	set_array(hc, "SecurityOpt", s->security_opt);
	if (s->devices && *s->devices) {
		json_t *d = json_array();
		for (char *const *v = s->devices; *v; v++)
			json_array_append_new(d, device_json(*v));
		json_object_set_new(hc, "Devices", d);
	}
	set_array(hc, "ExtraHosts", s->extra_hosts);
	set_array(hc, "Dns", s->dns);
	set_string(hc, "NetworkMode", s->network_mode ? s->network_mode : s->network);
	return hc;
}

static json_t *create_body(const struct docker_container_spec *s)
{
	json_t *b =
	    json_pack("{s:s, s:b, s:b, s:b, s:b, s:b, s:b}", "Image", s->image, "AttachStdin",
	              s->open_stdin, "AttachStdout", 1, "AttachStderr", 1, "OpenStdin",
	              s->open_stdin, "StdinOnce", s->open_stdin, "Tty", s->tty);
	set_array(b, "Cmd", s->cmd);
	if (s->entrypoint_set) {
		static char *const clear[] = {"", NULL};
		json_object_set_new(b, "Entrypoint",
		                    dk_str_array(s->entrypoint ? s->entrypoint : clear));
	}
	set_array(b, "Env", s->env);
	if (s->labels)
		json_object_set_new(b, "Labels", dk_label_object(s->labels));
	set_string(b, "WorkingDir", s->working_dir);
	set_string(b, "User", s->user);
	set_string(b, "Hostname", s->hostname);
	json_object_set_new(b, "HostConfig", host_config(s));
	if (s->network && !s->network_mode) {
		json_t *ep = json_object();
		if (s->network_aliases && *s->network_aliases)
			json_object_set_new(ep, "Aliases", dk_str_array(s->network_aliases));
		json_object_set_new(b, "NetworkingConfig",
		                    json_pack("{s:{s:o}}", "EndpointsConfig", s->network, ep));
	}
	return b;
}

int docker_container_create(struct docker_client *c, const struct docker_container_spec *spec,
                            char **ret_id, struct err *err)
{
	_cleanup_free_ char *what =
	    spec->name ? xasprintf("cannot create container '%s' for "
	                           "image '%s'",
	                           spec->name, spec->image)
	               : xasprintf("cannot create container for image '%s'", spec->image);
	_cleanup_free_ char *ename = spec->name ? dk_escape(spec->name) : NULL;
	_cleanup_free_ char *path =
	    ename ? xasprintf("/containers/create?name=%s", ename) : xstrdup("/containers/create");
	return dk_post_for_id(c, path, what, create_body(spec), ret_id, err);
}

/* A POST without body on /containers/{id}/<verb>[?query]. */
static int container_post(struct docker_client *c, const char *id, const char *verb,
                          const char *what, long accept, struct err *err)
{
	_cleanup_free_ char *path = xasprintf("/containers/%s/%s", id, verb);
	struct dk_req rq = DK_REQ_INIT;
	rq.method = "POST";
	rq.path = path;
	rq.what = what;
	rq.accept[0] = accept;
	return dk_do(c, &rq, NULL, NULL, err);
}

int docker_container_start(struct docker_client *c, const char *id, struct err *err)
{
	_cleanup_free_ char *what = xasprintf("cannot start container '%.12s'", id);
	/* 304: already started */
	return container_post(c, id, "start", what, 304, err);
}

int docker_container_wait(struct docker_client *c, const char *id, int *ret_exit_code,
                          struct err *err)
{
	_cleanup_free_ char *what = xasprintf("cannot wait for container '%.12s'", id);
	_cleanup_free_ char *path = xasprintf("/containers/%s/wait", id);
	struct dk_req rq = DK_REQ_INIT;
	rq.method = "POST";
	rq.path = path;
	rq.what = what;
	rq.stream = true; /* as long as the job runs */
	struct dk_resp rs = DK_RESP_INIT;
	int r = dk_perform(c, &rq, &rs, err);
	int code = 0;
	_cleanup_free_ char *msg = NULL;
	if (r == 0 && docker_parse_wait(rs.body.buf, rs.body.len, &code, &msg) < 0)
		r = err_set(err, ERR_ENV, "%s at %s: unexpected answer", what, c->endpoint);
	else if (r == 0 && msg)
		r = err_set(err, ERR_ENV, "%s at %s: %s", what, c->endpoint, msg);
	dk_resp_release(&rs);
	if (r == 0)
		*ret_exit_code = code;
	return r;
}

int docker_container_kill(struct docker_client *c, const char *id, const char *signal,
                          struct err *err)
{
	_cleanup_free_ char *sig = dk_escape(signal ? signal : "KILL");
	_cleanup_free_ char *path = xasprintf("/containers/%s/kill?signal=%s", id, sig);
	_cleanup_free_ char *what = xasprintf("cannot kill container '%.12s'", id);
	struct dk_req rq = DK_REQ_INIT;
	rq.method = "POST";
	rq.path = path;
	rq.what = what;
	/* not running any more is what a kill wants: dockerd says 409, podman 500 "container
	 * state improper" */
	rq.accept[0] = 409;
	rq.accept[1] = 500;
	struct dk_resp rs = DK_RESP_INIT;
	int r = dk_perform(c, &rq, &rs, err);
	if (r == 0 && rs.status == 500 && !strstr(rs.body.buf, "container state improper"))
		r = dk_status_error(c, what, rs.status, rs.body.buf, rs.body.len, err);
	dk_resp_release(&rs);
	return r;
}

int docker_container_remove(struct docker_client *c, const char *id, struct err *err)
{
	_cleanup_free_ char *path = xasprintf("/containers/%s?force=true&v=true", id);
	_cleanup_free_ char *what = xasprintf("cannot remove container '%.12s'", id);
	struct dk_req rq = DK_REQ_INIT;
	rq.method = "DELETE";
	rq.path = path;
	rq.what = what;
	rq.accept[0] = 404;
	return dk_do(c, &rq, NULL, NULL, err);
}

int docker_container_inspect(struct docker_client *c, const char *id, json_t **ret_info,
                             struct err *err)
{
	_cleanup_free_ char *path = xasprintf("/containers/%s/json", id);
	_cleanup_free_ char *what = xasprintf("cannot inspect container '%.12s'", id);
	struct dk_req rq = DK_REQ_INIT;
	rq.method = "GET";
	rq.path = path;
	rq.what = what;
	json_t *info = NULL;
	if (dk_do(c, &rq, &info, NULL, err) < 0)
		return -1;
	if (!info)
		return err_set(err, ERR_ENV, "%s at %s: empty answer", what, c->endpoint);
	*ret_info = info;
	return 0;
}

int docker_container_state(struct docker_client *c, const char *id, struct docker_state *ret,
                           struct err *err)
{
	json_t *info = NULL;
	if (docker_container_inspect(c, id, &info, err) < 0)
		return -1;
	int r = docker_parse_state(info, ret);
	json_decref(info);
	if (r < 0)
		return err_set(err, ERR_ENV,
		               "cannot inspect container '%.12s' at %s: the answer "
		               "has no State",
		               id, c->endpoint);
	return 0;
}

/* ---- logs ---- */

struct collect {
	struct strbuf *out;
	struct docker_demux demux;
	bool decided; /* multiplexed or raw, decided on the first 8 bytes */
	struct strbuf head;
};

static void collect_output(void *ud, int stream, const char *data, size_t len)
{
	struct strbuf *out = ud;
	strbuf_add(out, data, len);
}

/* Logs of a tty container are raw: the first bytes tell (a frame header has 3 zero bytes). */
static int logs_sink(void *ud, const char *data, size_t len, struct err *err)
{
	struct collect *k = ud;
	if (!k->decided) {
		strbuf_add(&k->head, data, len);
		if (k->head.len < 8)
			return 0;
		const unsigned char *h = (const unsigned char *)k->head.buf;
		docker_demux_init(&k->demux, !(h[0] <= 3 && !h[1] && !h[2] && !h[3]));
		k->decided = true;
		data = k->head.buf;
		len = k->head.len;
	}
	return docker_demux_feed(&k->demux, data, len, collect_output, k->out, err);
}

int docker_container_logs(struct docker_client *c, const char *id, unsigned tail,
                          struct strbuf *out, struct err *err)
{
	_cleanup_free_ char *path =
	    tail ? xasprintf("/containers/%s/logs?stdout=1&stderr=1&tail=%u", id, tail)
	         : xasprintf("/containers/%s/logs?stdout=1&stderr=1", id);
	_cleanup_free_ char *what = xasprintf("cannot read the logs of container '%.12s'", id);
	struct collect k = {.out = out, .head = STRBUF_INIT};
	struct dk_req rq = DK_REQ_INIT;
	rq.method = "GET";
	rq.path = path;
	rq.what = what;
	rq.stream = true;
	rq.sink = logs_sink;
	rq.sink_ud = &k;
	int r = dk_do(c, &rq, NULL, NULL, err);
	if (r == 0 && !k.decided) /* fewer than 8 bytes: cannot be a frame */
		strbuf_add(out, k.head.buf, k.head.len);
	strbuf_release(&k.head);
	return r;
}

/* ---- exec ---- */

static int exec_create(struct docker_client *c, const char *id, char *const *argv,
                       char **ret_exec_id, struct err *err)
{
	_cleanup_free_ char *path = xasprintf("/containers/%s/exec", id);
	_cleanup_free_ char *what = xasprintf("cannot exec '%s' in container '%.12s'", argv[0], id);
	json_t *body = json_pack("{s:b, s:b, s:b, s:o}", "AttachStdin", 0, "AttachStdout", 1,
	                         "AttachStderr", 1, "Cmd", dk_str_array(argv));
	return dk_post_for_id(c, path, what, body, ret_exec_id, err);
}

static void sleep_ms(long ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

/* The output ends a moment before the daemon records the exit code: poll until it has. */
static int exec_exit_code(struct docker_client *c, const char *exec_id, int *ret_code,
                          struct err *err)
{
	_cleanup_free_ char *path = xasprintf("/exec/%s/json", exec_id);
	const char *what = "cannot inspect exec instance";
	for (long waited = 0;; waited += 5) {
		struct dk_req rq = DK_REQ_INIT;
		rq.method = "GET";
		rq.path = path;
		rq.what = what;
		json_t *info = NULL;
		if (dk_do(c, &rq, &info, NULL, err) < 0)
			return -1;
		struct docker_state st;
		int r = docker_parse_state(info, &st);
		json_decref(info);
		if (r < 0)
			return err_set(err, ERR_ENV, "%s at %s: unexpected answer", what,
			               c->endpoint);
		docker_state_release(&st);
		if (!st.running && st.exit_code >= 0) {
			*ret_code = st.exit_code;
			return 0;
		}
		if (waited >= EXEC_SETTLE_MS)
			return err_set(err, ERR_ENV,
			               "%s at %s: still running after its output "
			               "ended",
			               what, c->endpoint);
		sleep_ms(5);
	}
}

int docker_container_exec(struct docker_client *c, const char *id, char *const *argv,
                          struct strbuf *out, int *ret_exit_code, struct err *err)
{
	_cleanup_free_ char *exec_id = NULL;
	if (exec_create(c, id, argv, &exec_id, err) < 0)
		return -1;
	_cleanup_free_ char *path = xasprintf("/exec/%s/start", exec_id);
	_cleanup_free_ char *what =
	    xasprintf("cannot start exec '%s' in container '%.12s'", argv[0], id);
	json_t *body = json_pack("{s:b, s:b}", "Detach", 0, "Tty", 0);
	struct dk_hijack *hj = dk_hijack_open(c, "POST", path, body, what, err);
	json_decref(body);
	if (!hj)
		return -1;
	struct dk_pump p = DK_PUMP_INIT;
	p.on_output = collect_output;
	p.userdata = out;
	p.what = what;
	int r = dk_hijack_pump(hj, &p, err);
	dk_hijack_free(hj);
	if (r < 0)
		return -1;
	return exec_exit_code(c, exec_id, ret_exit_code, err);
}
