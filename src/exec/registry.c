/* registry: one registry container per run. It runs on the host network and listens on the
 * default bridge's gateway address: every container reaches a host address through the host's
 * INPUT path whatever bridge it is on (a published port would be DNATed into docker0 and
 * dropped by Docker's inter-network isolation for containers on per-job networks), and the
 * gateway is no public interface. DinD daemons get --insecure-registry for it from
 * services-build.c, so `docker login/push $CI_REGISTRY` works over plain HTTP inside jobs. */
#include "exec/registry.h"

#include <archive.h>
#include <archive_entry.h>
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "docker/client.h"
#include "exec/archive-dl.h"
#include "exec/exec.h"
#include "util/base64.h"
#include "exec/settings.h"
#include "model/vars.h"
#include "report/report.h"
#include "util/cleanup.h"
#include "util/log.h"
#include "util/strbuf.h"
#include "util/strvec.h"
#include "util/xalloc.h"

#define REGISTRY_USER "runnel"
#define READY_TIMEOUT_MS 15000

struct registry {
	char *id;      /* container id */
	char *address; /* gateway:port */
	char *image;   /* CI_REGISTRY_IMAGE */
	char *password;
};

/* "172.17.0.0/16" -> "172.17.0.1": where the engine puts the bridge's own address. */
static char *subnet_first_host(const char *subnet)
{
	if (!subnet || strchr(subnet, ':'))
		return NULL;
	_cleanup_free_ char *net = xstrndup(subnet, strcspn(subnet, "/"));
	struct in_addr a;
	if (inet_pton(AF_INET, net, &a) != 1)
		return NULL;
	a.s_addr = htonl(ntohl(a.s_addr) + 1);
	char buf[INET_ADDRSTRLEN];
	return inet_ntop(AF_INET, &a, buf, sizeof(buf)) ? xstrdup(buf) : NULL;
}

/* Gateway of the engine's default bridge network ("bridge", or podman's "podman"). */
static char *bridge_gateway(struct docker_client *c, struct err *err)
{
	static const char *const nets[] = {"/networks/bridge", "/networks/podman"};
	for (size_t i = 0; i < 2; i++) {
		json_t *info = NULL;
		struct err e = ERR_INIT;
		if (docker_request(c, "GET", nets[i], NULL, &info, NULL, &e) < 0) {
			err_release(&e);
			continue;
		}
		json_t *cfg =
		    json_array_get(json_object_get(json_object_get(info, "IPAM"), "Config"), 0);
		const char *gw = json_string_value(json_object_get(cfg, "Gateway"));
		char *r = gw && *gw && !strchr(gw, ':') ? xstrdup(gw) : NULL;
		if (!r) /* dockerd 20.10 leaves Gateway out for the default bridge */
			r = subnet_first_host(json_string_value(json_object_get(cfg, "Subnet")));
		json_decref(info);
		if (r)
			return r;
	}
	err_set(err, ERR_ENV, "cannot find the gateway of the engine's default bridge network");
	return NULL;
}

/* A port free on addr (bound and released: the registry takes it a moment later). */
static int free_port(const char *addr)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1)
		return -1;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	socklen_t l = sizeof(sa);
	int port = -1;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sa, &l) == 0)
		port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

static char *random_password(void)
{
	static const char set[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	unsigned char raw[24];
	_cleanup_fclose_ FILE *f = fopen("/dev/urandom", "rb");
	if (!f || fread(raw, 1, sizeof(raw), f) != sizeof(raw))
		return NULL;
	char *p = xmalloc(sizeof(raw) + 1);
	for (size_t i = 0; i < sizeof(raw); i++)
		p[i] = set[raw[i] % (sizeof(set) - 1)];
	p[sizeof(raw)] = '\0';
	return p;
}

/* `htpasswd -niB user` with the password on stdin: "user:$2y$...". */
static int htpasswd_line(const char *password, struct strbuf *out, struct err *err)
{
	/* named for its owner, so a killed run's copy is reaped (exec_reap) */
	_cleanup_free_ char *dir = exec_temp_dir("htpasswd", err);
	if (!dir)
		return -1;
	_cleanup_free_ char *file = xasprintf("%s/htpasswd", dir);
	_cleanup_free_ char *cmd =
	    xasprintf("htpasswd -ciB '%s' " REGISTRY_USER " 2>/dev/null", file);
	FILE *p = popen(cmd, "w");
	int r = -1;
	if (p) {
		fprintf(p, "%s\n", password);
		r = pclose(p) == 0 ? 0 : -1;
	}
	_cleanup_fclose_ FILE *f = r == 0 ? fopen(file, "r") : NULL;
	char line[512];
	if (f && fgets(line, sizeof(line), f))
		strbuf_addstr(out, line);
	unlink(file);
	rmdir(dir);
	if (!out->len)
		return err_set(err, ERR_ENV,
		               "cannot run 'htpasswd -B' for the registry password (install "
		               "apache2-utils)");
	return 0;
}

/* A tar stream holding auth/htpasswd. */
static int htpasswd_tar(const struct strbuf *line, struct strbuf *tar, struct err *err)
{
	if (exec_archive_load(err) < 0)
		return -1;
	size_t cap = 4096 + line->len, used = 0;
	strbuf_grow(tar, cap);
	struct archive *a = archive_write_new();
	archive_write_set_format_ustar(a);
	archive_write_set_bytes_in_last_block(a, 1);
	int ok = archive_write_open_memory(a, tar->buf, cap, &used) == ARCHIVE_OK;
	struct archive_entry *e = archive_entry_new();
	archive_entry_set_pathname(e, "auth/htpasswd");
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_size(e, (la_int64_t)line->len);
	ok = ok && archive_write_header(a, e) == ARCHIVE_OK &&
	     archive_write_data(a, line->buf, line->len) == (la_ssize_t)line->len &&
	     archive_write_close(a) == ARCHIVE_OK;
	archive_entry_free(e);
	archive_write_free(a);
	if (!ok)
		return err_set(err, ERR_INTERNAL, "cannot build the registry's htpasswd archive");
	strbuf_setlen(tar, used);
	return 0;
}

static bool port_open(const char *addr, int port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1)
		return false;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	bool ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(fd);
	return ok;
}

static int create_container(struct docker_client *c, const struct registry_opts *o, const char *gw,
                            int port, struct registry *r, struct err *err)
{
	struct strvec env = STRVEC_INIT;
	strvec_push(&env, "REGISTRY_AUTH=htpasswd");
	strvec_push(&env, "REGISTRY_AUTH_HTPASSWD_REALM=runnel registry");
	strvec_push(&env, "REGISTRY_AUTH_HTPASSWD_PATH=/auth/htpasswd");
	strvec_pushf(&env, "REGISTRY_HTTP_ADDR=%s:%d", gw, port);
	strvec_push(&env, "REGISTRY_STORAGE_DELETE_ENABLED=true");
	_cleanup_free_ char *name = xasprintf("runnel-%s-registry", o->pipeline_id);
	_cleanup_free_ char *vol = o->storage_key ? registry_volume_name(o->storage_key) : NULL;
	struct docker_mount m = {.source = vol, .target = "/var/lib/registry"};
	if (vol) {
		char *vlabels[] = {"runnel.registry=1", NULL};
		if (docker_volume_create(c, vol, vlabels, err) < 0)
			return -1;
	}
	struct docker_container_spec spec = {
	    .mounts = vol ? &m : NULL,
	    .n_mounts = vol ? 1 : 0,
	    .name = name,
	    .image = o->image ? o->image : "registry:2",
	    .env = env.v,
	    .labels = o->labels,
	    .network_mode = "host",
	};
	int rc = docker_container_create(c, &spec, &r->id, err);
	strvec_release(&env);
	return rc;
}

static int wait_ready(struct docker_client *c, const struct registry *r, const char *gw, int port,
                      struct err *err)
{
	for (int waited = 0; waited < READY_TIMEOUT_MS; waited += 50) {
		if (port_open(gw, port))
			return 0;
		struct docker_state st = {0};
		if (docker_container_state(c, r->id, &st, err) < 0)
			return -1;
		bool dead = !st.running && st.status && strcmp(st.status, "created");
		int code = st.exit_code;
		docker_state_release(&st);
		if (dead) {
			struct strbuf logs = STRBUF_INIT;
			struct err e = ERR_INIT;
			if (docker_container_logs(c, r->id, 10, &logs, &e) < 0)
				err_release(&e);
			strbuf_rtrim(&logs);
			err_set(err, ERR_ENV, "the registry exited with code %d: %s", code,
			        logs.buf);
			strbuf_release(&logs);
			return -1;
		}
		poll(NULL, 0, 50);
	}
	return err_set(err, ERR_ENV, "the registry did not listen on %s:%d within %d s", gw, port,
	               READY_TIMEOUT_MS / 1000);
}

static int start(struct docker_client *c, const struct registry_opts *o, struct registry *r,
                 struct err *err)
{
	_cleanup_free_ char *gw = bridge_gateway(c, err);
	if (!gw)
		return -1;
	int port = free_port(gw);
	if (port < 0)
		port = free_port("0.0.0.0"); /* the engine is elsewhere: any port, best effort */
	if (port < 0)
		return err_sys(err, errno, "cannot find a free port for the registry");
	r->password = random_password();
	if (!r->password)
		return err_set(err, ERR_ENV, "cannot read /dev/urandom");
	struct strbuf line = STRBUF_INIT, tar = STRBUF_INIT;
	int rc = htpasswd_line(r->password, &line, err);
	if (rc == 0)
		rc = htpasswd_tar(&line, &tar, err);
	if (rc == 0)
		rc = create_container(c, o, gw, port, r, err);
	if (rc == 0)
		rc = docker_container_put_archive(c, r->id, "/", tar.buf, tar.len, err);
	strbuf_release(&line);
	strbuf_release(&tar);
	if (rc < 0 || docker_container_start(c, r->id, err) < 0 ||
	    wait_ready(c, r, gw, port, err) < 0)
		return -1;
	r->address = xasprintf("%s:%d", gw, port);
	_cleanup_free_ char *path = xstrdup(o->project_path ? o->project_path : "project");
	for (char *p = path; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	r->image = xasprintf("%s/%s", r->address, path);
	return 0;
}

struct registry *registry_start(struct docker_client *c, const struct registry_opts *o,
                                struct err *err)
{
	struct registry *r = xcalloc(1, sizeof(*r));
	if (start(c, o, r, err) < 0) {
		err_wrap(err, "cannot start the local registry");
		registry_stop(c, r);
		return NULL;
	}
	return r;
}

void registry_vars(const struct registry *r, struct var_list *vars, struct arena *a)
{
	struct var v[] = {
	    {.key = "CI_REGISTRY", .value = r->address, .public_ = true},
	    {.key = "CI_REGISTRY_IMAGE", .value = r->image, .public_ = true},
	    {.key = "CI_REGISTRY_USER", .value = REGISTRY_USER, .public_ = true},
	    {.key = "CI_REGISTRY_PASSWORD", .value = r->password, .masked = true},
	};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		var_list_set(a, vars, &v[i]);
}

char *registry_volume_name(const char *storage_key)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a: two checkouts of one name differ */
	for (const char *p = storage_key; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	const char *base = strrchr(storage_key, '/');
	base = base && base[1] ? base + 1 : storage_key;
	struct strbuf sb = STRBUF_INIT;
	strbuf_addstr(&sb, "runnel-registry-");
	for (const char *p = base; *p && sb.len < 48; p++) {
		unsigned char ch = (unsigned char)tolower((unsigned char)*p);
		strbuf_addch(&sb,
		             isalnum(ch) || ch == '-' || ch == '_' || ch == '.' ? (char)ch : '-');
	}
	strbuf_addf(&sb, "-%08llx", (unsigned long long)(h & 0xffffffffULL));
	return strbuf_detach(&sb, NULL);
}

const char *registry_address(const struct registry *r)
{
	return r->address;
}

void registry_stop(struct docker_client *c, struct registry *r)
{
	if (!r)
		return;
	struct err err = ERR_INIT;
	if (r->id && docker_container_remove(c, r->id, &err) < 0) {
		log_debug("registry: %s", err.msg);
		err_release(&err);
	}
	free(r->id);
	free(r->address);
	free(r->image);
	free(r->password);
	free(r);
}

/* ---- --lenient: the Docker login a job forgot ---- */

/* A Docker CLI command in a shell line: "docker push", "docker image pull"... */
static bool docker_cmd(const char *line, const char *verb)
{
	_cleanup_free_ char *a = xasprintf("docker %s ", verb);
	_cleanup_free_ char *b = xasprintf("docker image %s ", verb);
	return strstr(line, a) || strstr(line, b);
}

bool registry_script_needs_login(const char *const *lines, size_t n, const struct var_list *vars,
                                 const char *registry)
{
	bool uses = false;
	for (size_t i = 0; i < n; i++) {
		struct strbuf x = STRBUF_INIT;
		if (vars)
			vars_expand_runner(lines[i], vars, &x);
		else
			strbuf_addstr(&x, lines[i]);
		strbuf_addch(&x, ' ');
		bool login = strstr(x.buf, "docker login") != NULL;
		uses |= (docker_cmd(x.buf, "push") || docker_cmd(x.buf, "pull")) &&
		        strstr(x.buf, registry);
		strbuf_release(&x);
		if (login)
			return false;
	}
	return uses;
}

char *registry_auth_config(const char *registry, const char *user, const char *password)
{
	struct strbuf up = STRBUF_INIT, b64 = STRBUF_INIT;
	strbuf_addf(&up, "%s:%s", user, password);
	base64_encode(up.buf, up.len, &b64);
	json_t *o = json_pack("{s:{s:{s:s}}}", "auths", registry, "auth", b64.buf);
	char *r = json_dumps(o, JSON_INDENT(1));
	json_decref(o);
	strbuf_release(&up);
	strbuf_release(&b64);
	if (!r)
		abort(); /* jansson fails only without memory */
	return r;
}

/* Writes <run_dir>/docker-config-<slug>/config.json; the directory (owned) or NULL.
 * *ret_again: it was there already (the executor built the container a second time). */
static char *write_docker_config(const struct exec_job_ctx *jc, const char *json, bool *ret_again)
{
	char *dir = xasprintf("%s/docker-config-%s", jc->run->run_dir, jc->slug);
	_cleanup_free_ char *file = xasprintf("%s/config.json", dir);
	/* 0755/0644: the job may run as another user; the password is the run's own registry
	 * password, which the job has anyway (CI_REGISTRY_PASSWORD) */
	*ret_again = mkdir(dir, 0755) < 0 && errno == EEXIST;
	if (!*ret_again && access(dir, F_OK) < 0) {
		log_debug("cannot create '%s': %s", dir, strerror(errno));
		free(dir);
		return NULL;
	}
	_cleanup_fclose_ FILE *f = fopen(file, "we");
	if (!f || fputs(json, f) < 0 || fflush(f) != 0) {
		log_debug("cannot write '%s'", file);
		free(dir);
		return NULL;
	}
	fchmod(fileno(f), 0644);
	return dir;
}

static bool job_needs_login(const struct exec_job_ctx *jc, const char *registry)
{
	const struct job *j = jc->job;
	size_t n = j->before_script.n + j->script.n;
	const char **lines = xcalloc(n ? n : 1, sizeof(*lines));
	for (size_t i = 0; i < j->before_script.n; i++)
		lines[i] = j->before_script.v[i];
	for (size_t i = 0; i < j->script.n; i++)
		lines[j->before_script.n + i] = j->script.v[i];
	bool r = registry_script_needs_login(lines, n, &jc->vars, registry);
	free(lines);
	return r;
}

bool registry_job_login(struct exec_job_ctx *jc, struct strvec *env, struct strvec *binds)
{
	const struct exec_run *run = jc->run;
	const char *reg = var_list_value(&jc->vars, "CI_REGISTRY");
	const char *user = var_list_value(&jc->vars, "CI_REGISTRY_USER");
	const char *pass = var_list_value(&jc->vars, "CI_REGISTRY_PASSWORD");
	if (!run->settings || !run->settings->lenient || !run->insecure_registry ||
	    !run->docker_local || !run->run_dir || !reg || !user || !pass ||
	    strcmp(reg, run->insecure_registry) || !job_needs_login(jc, reg))
		return false;
	/* A directory at DOCKER_CONFIG rather than a file at $HOME/.docker/config.json: HOME
	 * depends on the image and its user, and the CLI rewrites config.json by rename (a
	 * later `docker login` or the seed's `docker logout` in after_script), which fails on
	 * a bind-mounted file but works in a bind-mounted directory (buildx keeps its state
	 * there too). */
	const char *target = var_list_value(&jc->vars, "DOCKER_CONFIG");
	if (!target || *target != '/')
		target = "/runnel/docker-config";
	_cleanup_free_ char *json = registry_auth_config(reg, user, pass);
	bool again = false;
	_cleanup_free_ char *dir = write_docker_config(jc, json, &again);
	if (!dir)
		return false;
	strvec_pushf(binds, "%s:%s", dir, target);
	strvec_pushf(env, "DOCKER_CONFIG=%s", target);
	if (!again)
		report_job_printf(
		    jc->log,
		    "WARNING: --lenient: on GitLab this job fails with \"no basic auth "
		    "credentials\": it pushes or pulls %s without `docker login`. runnel "
		    "logged its Docker client in beforehand (DOCKER_CONFIG=%s). Fix for "
		    "GitLab: before_script: [ 'echo \"$CI_REGISTRY_PASSWORD\" | docker "
		    "login -u \"$CI_REGISTRY_USER\" --password-stdin \"$CI_REGISTRY\"' ]",
		    reg, target);
	return true;
}

/* ---- `runnel registry ls`: the registry API ---- */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* GET path from the registry as its user; the JSON body (owned) or NULL with err. Plain
 * HTTP/1.0 over a socket: the registry is on a host address, and one small request does not
 * need a client library. */
static json_t *http_get_json(const struct registry *r, const char *path, struct err *err)
{
	const char *colon = strrchr(r->address, ':');
	_cleanup_free_ char *host = xstrndup(r->address, (size_t)(colon - r->address));
	struct sockaddr_in sa = {.sin_family = AF_INET,
	                         .sin_port = htons((uint16_t)atoi(colon + 1))};
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
		err_set(err, ERR_ENV, "bad registry address '%s'", r->address);
		return NULL;
	}
	_cleanup_close_ int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct timeval tv = {.tv_sec = 10};
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		err_sys(err, errno, "cannot connect to the registry at %s", r->address);
		return NULL;
	}
	struct strbuf req = STRBUF_INIT, auth = STRBUF_INIT, resp = STRBUF_INIT;
	_cleanup_free_ char *up = xasprintf("%s:%s", REGISTRY_USER, r->password);
	base64_encode(up, strlen(up), &auth);
	strbuf_addf(&req, "GET %s HTTP/1.0\r\nHost: %s\r\nAuthorization: Basic %s\r\n\r\n", path,
	            r->address, auth.buf);
	bool sent = write(fd, req.buf, req.len) == (ssize_t)req.len;
	char buf[8192];
	ssize_t n;
	while (sent && (n = read(fd, buf, sizeof(buf))) > 0)
		strbuf_add(&resp, buf, (size_t)n);
	strbuf_release(&req);
	strbuf_release(&auth);
	const char *body = strstr(resp.buf ? resp.buf : "", "\r\n\r\n");
	json_t *j = NULL;
	if (!sent || strncmp(resp.buf, "HTTP/1.", 7) || !body)
		err_set(err, ERR_ENV, "no HTTP answer from the registry for %s", path);
	else if (strncmp(resp.buf + 8, " 200", 4))
		err_set(err, ERR_ENV, "the registry answered %.*s for %s",
		        (int)strcspn(resp.buf + 9, "\r\n"), resp.buf + 9, path);
	else if (!(j = json_loads(body + 4, 0, NULL)))
		err_set(err, ERR_ENV, "the registry's answer for %s is no JSON", path);
	strbuf_release(&resp);
	return j;
}

/* Appends the strings of array `key` of the answer for path to out, sorted. */
static int get_list(const struct registry *r, const char *path, const char *key, struct strvec *out,
                    struct err *err)
{
	json_t *j = http_get_json(r, path, err);
	if (!j)
		return -1;
	size_t i, first = out->n;
	json_t *v;
	json_array_foreach(json_object_get(j, key), i, v) if (json_is_string(v))
	    strvec_push(out, json_string_value(v));
	json_decref(j);
	qsort(out->v + first, out->n - first, sizeof(*out->v), cmp_str);
	return 0;
}

int registry_catalog(const struct registry *r, struct strvec *out, struct err *err)
{
	return get_list(r, "/v2/_catalog?n=1000", "repositories", out, err);
}

int registry_tags(const struct registry *r, const char *repo, struct strvec *out, struct err *err)
{
	_cleanup_free_ char *path = xasprintf("/v2/%s/tags/list", repo);
	return get_list(r, path, "tags", out, err);
}
