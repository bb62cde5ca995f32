/* services-wait: waiting for the services of a job like gitlab-runner waits (a TCP port
 * accepting), but from runnel itself: the container's IP on a bridge network is routable from
 * the Linux host, so a non-blocking connect every ~50 ms replaces the runner's helper container
 * that redials each second. A service that exits while waited for is reported at once; a
 * Docker daemon service is ready only when it answers GET /_ping (over TLS with its client
 * certificates when DOCKER_TLS_CERTDIR is set). */
#include "exec/services.h"

#include <archive.h>
#include <archive_entry.h>
#include <arpa/inet.h>
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
#include <unistd.h>

#include "docker/client.h"
#include "exec/archive-dl.h"
#include "exec/exec.h"
#include "exec/services-internal.h"
#include "report/report.h"
#include "util/cleanup.h"
#include "util/log.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

static bool fd_readable(int fd)
{
	if (fd < 0)
		return false;
	struct pollfd p = {.fd = fd, .events = POLLIN};
	return poll(&p, 1, 0) > 0;
}

/* IP of the container on the job network (the first network when the name differs). */
static char *container_ip(const json_t *info, const char *network)
{
	const json_t *nets = json_object_get(json_object_get(info, "NetworkSettings"), "Networks");
	const char *key;
	json_t *v;
	const char *first = NULL;
	json_object_foreach((json_t *)nets, key, v)
	{
		const char *ip = json_string_value(json_object_get(v, "IPAddress"));
		const char *nid = json_string_value(json_object_get(v, "NetworkID"));
		if (!ip || !*ip)
			continue;
		if (network && (!strcmp(key, network) || (nid && !strcmp(nid, network))))
			return xstrdup(ip);
		if (!first)
			first = ip;
	}
	return first ? xstrdup(first) : NULL;
}

/* Inspects a waiting service: died (state set), running (IP recorded) or still starting. */
void services_poll_state(struct docker_client *c, struct service *s, const char *network)
{
	struct err err = ERR_INIT;
	_cleanup_(json_decrefp) json_t *info = NULL;
	if (docker_container_inspect(c, s->id, &info, &err) < 0) {
		log_debug("service %s: %s", s->name, err.msg);
		err_release(&err);
		/* removed outside runnel (docker rm -f): no reason to wait for the timeout */
		if (exec_container_removed(c, s->id)) {
			s->state = SVC_DIED;
			s->removed = true;
		}
		return;
	}
	const json_t *st = json_object_get(info, "State");
	const char *status = json_string_value(json_object_get(st, "Status"));
	if (status && !strcmp(status, "removing")) {
		s->state = SVC_DIED;
		s->removed = true;
		return;
	}
	if (status && (!strcmp(status, "exited") || !strcmp(status, "dead"))) {
		s->state = SVC_DIED;
		s->exit_code = (int)json_integer_value(json_object_get(st, "ExitCode"));
		return;
	}
	if (!s->ip && status && !strcmp(status, "running"))
		s->ip = container_ip(info, network);
}

struct probe {
	int fd;
	size_t svc;
};

/* One round: a non-blocking connect to every port of every waiting service with an IP, all
 * polled together for up to TICK_MS. Returns the services whose connect succeeded in
 * ok[] (true = a port accepted). */
static void probe_round(struct service_set *set, bool *ok)
{
	struct pollfd pfd[64];
	struct probe pr[64];
	size_t n = 0;
	for (size_t i = 0; i < set->n; i++) {
		struct service *s = &set->v[i];
		ok[i] = false;
		if (s->state != SVC_WAITING || !s->ip)
			continue;
		size_t np = s->ping_port ? 1 : s->n_ports;
		for (size_t k = 0; k < np && n < 64; k++) {
			struct sockaddr_in sa = {.sin_family = AF_INET};
			sa.sin_port = htons((uint16_t)(s->ping_port ? s->ping_port : s->ports[k]));
			if (inet_pton(AF_INET, s->ip, &sa.sin_addr) != 1)
				continue;
			int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
			if (fd < 0)
				continue;
			if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
				ok[i] = true;
			else if (errno != EINPROGRESS) {
				close(fd);
				continue;
			}
			pfd[n] = (struct pollfd){.fd = fd, .events = POLLOUT};
			pr[n++] = (struct probe){.fd = fd, .svc = i};
		}
	}
	if (n)
		poll(pfd, n, TICK_MS);
	for (size_t k = 0; k < n; k++) {
		int e = 0;
		socklen_t l = sizeof(e);
		/* (a service may own several probes: the first success counts) */
		if ((pfd[k].revents & POLLOUT) &&
		    getsockopt(pr[k].fd, SOL_SOCKET, SO_ERROR, &e, &l) == 0 && e == 0)
			ok[pr[k].svc] = true;
		close(pr[k].fd);
	}
}

/* Writes a file taken from a tar stream into dir (only the basename: no path tricks). */
static int extract_certs(const char *tar_path, const char *dir)
{
	if (exec_archive_load(NULL) < 0)
		return -1;
	struct archive *a = archive_read_new();
	archive_read_support_format_tar(a);
	int found = 0;
	if (archive_read_open_filename(a, tar_path, 16384) != ARCHIVE_OK)
		goto out;
	struct archive_entry *e;
	while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
		const char *p = archive_entry_pathname(e);
		const char *base = strrchr(p, '/') ? strrchr(p, '/') + 1 : p;
		if (strcmp(base, "ca.pem") && strcmp(base, "cert.pem") && strcmp(base, "key.pem"))
			continue;
		_cleanup_free_ char *out = xasprintf("%s/%s", dir, base);
		_cleanup_close_ int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (fd < 0 || archive_read_data_into_fd(a, fd) != ARCHIVE_OK)
			goto out;
		found++;
	}
out:
	archive_read_free(a);
	return found == 3 ? 0 : -1;
}

/* Copies <certdir>/client/{ca,cert,key}.pem out of the service through the archive API. */
static int fetch_certs(struct docker_client *c, struct service_set *set, struct service *s)
{
	if (!set->tls_dir) {
		struct err err = ERR_INIT;
		set->tls_dir = exec_temp_dir("certs", &err);
		if (!set->tls_dir) {
			log_debug("service %s: %s", s->name, err.msg);
			err_release(&err);
			return -1;
		}
	}
	_cleanup_free_ char *tar = xasprintf("%s/client.tar", set->tls_dir);
	_cleanup_free_ char *src = xasprintf("%s/client", s->certdir);
	int fd = open(tar, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	struct err err = ERR_INIT;
	int r = docker_container_get_archive(c, s->id, src, fd, &err);
	close(fd);
	if (r < 0) {
		log_debug("service %s: %s", s->name, err.msg);
		err_release(&err);
	} else {
		r = extract_certs(tar, set->tls_dir);
	}
	unlink(tar);
	return r;
}

/* GET /_ping on the daemon in the service. */
static bool daemon_answers(struct docker_client *c, struct service_set *set, struct service *s)
{
	if (s->ping_tls && fetch_certs(c, set, s) < 0)
		return false;
	_cleanup_free_ char *host = xasprintf("tcp://%s:%d", s->ip, s->ping_port);
	struct docker_opts o = DOCKER_OPTS_INIT;
	o.host = host;
	o.tls_verify = s->ping_tls;
	o.cert_path = s->ping_tls ? set->tls_dir : NULL;
	o.timeout_ms = 2000;
	struct err err = ERR_INIT;
	struct docker_client *d = docker_client_new(&o, &err);
	if (!d) {
		log_debug("service %s: %s", s->name, err.msg);
		err_release(&err);
		return false;
	}
	docker_client_free(d);
	return true;
}

static void warn_block(struct docker_client *c, const struct service *s, const char *why,
                       const struct services_ctx *ctx)
{
	struct strbuf logs = STRBUF_INIT;
	services_log_tail(c, s->id, &logs);
	strbuf_rtrim(&logs);
	report_job_printf(ctx->log,
	                  "*** WARNING: Service %s probably didn't start properly.\n\n"
	                  "Health check error:\n%s\n\nHealth check container logs:\n\n"
	                  "Service container logs:\n%s\n\n*********\n",
	                  s->container, why, logs.len ? logs.buf : "");
	strbuf_release(&logs);
}

static bool waiting_any(const struct service_set *set)
{
	for (size_t i = 0; i < set->n; i++)
		if (set->v[i].state == SVC_WAITING)
			return true;
	return false;
}

/* One tick over every waiting service; a death is reported at once. */
static void wait_tick(struct docker_client *c, struct service_set *set,
                      const struct services_ctx *ctx)
{
	_cleanup_free_ bool *ok = xcalloc(set->n ? set->n : 1, sizeof(*ok));
	double t0 = services_now();
	for (size_t i = 0; i < set->n; i++) {
		struct service *s = &set->v[i];
		if (s->state != SVC_WAITING || (s->ip && t0 - s->state_at < STATE_MS / 1000.0))
			continue;
		s->state_at = t0;
		services_poll_state(c, s, ctx->network);
		if (s->state == SVC_DIED) {
			_cleanup_free_ char *why =
			    s->removed ? xasprintf("service \"%s\" was removed outside runnel "
			                           "(docker rm?) while it was waited for",
			                           s->container)
			               : xasprintf("service \"%s\" exited with code %d while it "
			                           "was waited for",
			                           s->container, s->exit_code);
			warn_block(c, s, why, ctx);
		}
	}
	probe_round(set, ok);
	for (size_t i = 0; i < set->n; i++)
		if (ok[i] && (!set->v[i].ping_port || daemon_answers(c, set, &set->v[i]))) {
			set->v[i].state = SVC_READY;
			if (set->v[i].ping_port)
				set->v[i].ping_at = services_now(); /* --timings: ready>script */
		}
	if (!waiting_any(set))
		return;
	/* nobody had an address to dial yet: wait a tick; else keep the probe cadence */
	bool dialed = false;
	for (size_t i = 0; i < set->n; i++)
		dialed |= set->v[i].state == SVC_WAITING && set->v[i].ip;
	int left = dialed ? PROBE_MS - (int)((services_now() - t0) * 1000.0) : TICK_MS;
	if (left > 0)
		poll(NULL, 0, left);
}

void services_wait_all(struct docker_client *c, struct service_set *set,
                       const struct services_ctx *ctx)
{
	for (size_t i = 0; i < set->n; i++) {
		struct service *s = &set->v[i];
		if (s->n_ports || s->ping_port)
			continue;
		s->state = SVC_NO_PORTS;
		_cleanup_free_ char *why =
		    xasprintf("service \"%s\" has no exposed ports", s->container);
		warn_block(c, s, why, ctx);
	}
	if (!waiting_any(set))
		return;
	report_job_printf(ctx->log,
	                  "Waiting for services to be up and running (timeout %ld "
	                  "seconds)...",
	                  set->timeout_s);
	double deadline = services_now() + (double)set->timeout_s;
	while (waiting_any(set) && services_now() < deadline && !fd_readable(ctx->cancel_fd))
		wait_tick(c, set, ctx);
	for (size_t i = 0; i < set->n; i++) {
		struct service *s = &set->v[i];
		if (s->state != SVC_WAITING)
			continue;
		s->state = SVC_TIMEOUT;
		if (fd_readable(ctx->cancel_fd))
			continue;
		_cleanup_free_ char *why =
		    xasprintf("service \"%s-wait-for-service\" timeout", s->container);
		warn_block(c, s, why, ctx);
	}
}
