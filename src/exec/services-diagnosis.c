/* services-diagnosis: after a failed job with services, one actionable message from what the
 * job printed and what its services logged: connection refused to DOCKER_HOST, TLS mismatch,
 * a missing --privileged, DNS, certificates, Docker Hub limits, a missing login. */
#include "exec/services.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "exec/services-internal.h"
#include "util/cleanup.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

static const struct services_diag_svc *diag_by_alias(const struct services_diag_svc *v, size_t n,
                                                     const char *alias)
{
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; v[i].aliases && v[i].aliases[k]; k++)
			if (!strcmp(v[i].aliases[k], alias))
				return &v[i];
	return NULL;
}

static bool privileged_trouble(const char *logs)
{
	return logs && (strstr(logs, "Are you running with --privileged") ||
	                strcasestr(logs, "mount: permission denied") ||
	                strcasestr(logs, "operation not permitted"));
}

/* "'docker' (docker:24-dind), 'postgres' (postgres:15)" */
static void diag_aliases(const struct services_diag_svc *v, size_t n, struct strbuf *out)
{
	const char *sep = "";
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; v[i].aliases && v[i].aliases[k]; k++, sep = ", ")
			strbuf_addf(out, "%s'%s' (%s)", sep, v[i].aliases[k], v[i].name);
}

/* The last `lines` lines of a log, indented. */
static void diag_tail(const char *who, const char *logs, struct strbuf *out)
{
	if (!logs || !*logs)
		return;
	const char *end = logs + strlen(logs);
	while (end > logs && end[-1] == '\n')
		end--;
	const char *p = end;
	for (int lines = 0; p > logs && lines < 10; p--)
		if (p[-1] == '\n' && ++lines == 10)
			break;
	strbuf_addf(out, "\n%s log ends with:\n", who);
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t l = nl ? (size_t)(nl - p) : (size_t)(end - p);
		strbuf_addf(out, "  %.*s\n", (int)l, p);
		p += l + 1;
	}
	strbuf_rtrim(out);
}

static const char *first_alias(const struct services_diag_svc *s)
{
	return s->aliases && s->aliases[0] ? s->aliases[0] : s->name;
}

static void diag_privileged(const struct services_diag_svc *s, struct strbuf *out)
{
	if (s->privileged_filtered) {
		strbuf_addf(out,
		            "service '%s' (%s) cannot run its Docker daemon: the dind service "
		            "needs privileged mode, and privileged is on, but '%s' matches no "
		            "pattern of allowed_privileged_services, so it ran unprivileged: add "
		            "a matching pattern (e.g. \"docker:*-dind\") to "
		            "allowed_privileged_services in .runnel.yml",
		            s->name, first_alias(s), s->name);
		diag_tail(s->name, s->log_tail, out);
		return;
	}
	strbuf_addf(out,
	            "service '%s' (%s) cannot run its Docker daemon: the dind service needs "
	            "privileged mode: run with --privileged or set privileged: true in "
	            ".runnel.yml",
	            s->name, first_alias(s));
	diag_tail(s->name, s->log_tail, out);
}

static bool diag_tls_mismatch(const struct services_diag_svc *s, const char *host, int port,
                              struct strbuf *out)
{
	if (s->tls && port != 2376) {
		strbuf_addf(out,
		            "the Docker daemon of service '%s' listens with TLS on "
		            "tcp://%s:2376, not on port %d, because DOCKER_TLS_CERTDIR is "
		            "'%s' for the service: either turn TLS off for both sides "
		            "(variables: DOCKER_TLS_CERTDIR: \"\", DOCKER_HOST: tcp://%s:2375) "
		            "or dial TLS (DOCKER_HOST: tcp://%s:2376, DOCKER_TLS_VERIFY: 1, "
		            "DOCKER_CERT_PATH: %s/client); `runnel run --lenient` gets past this "
		            "by starting the service without TLS",
		            s->name, host, port, s->certdir, host, host, s->certdir);
		return true;
	}
	if (s->dind && !s->tls && port == 2376) {
		strbuf_addf(out,
		            "the Docker daemon of service '%s' listens without TLS on "
		            "tcp://%s:2375 because DOCKER_TLS_CERTDIR is empty for the "
		            "service: use DOCKER_HOST: tcp://%s:2375 (and unset "
		            "DOCKER_TLS_VERIFY), or set DOCKER_TLS_CERTDIR: \"/certs\" for both; "
		            "`runnel run --lenient` gets past this by starting the service with "
		            "TLS",
		            s->name, host, host);
		return true;
	}
	return false;
}

static void diag_connect(const struct services_diag_svc *v, size_t n, const char *url,
                         struct strbuf *out)
{
	_cleanup_free_ char *host = NULL;
	int port = 0;
	if (!services_parse_tcp_host(url, &host, &port)) {
		strbuf_addf(out,
		            "the job's Docker client dials %s, but no Docker daemon runs "
		            "in the job container: with a docker:dind service set DOCKER_HOST "
		            "to tcp://docker:2375 (TLS off) or tcp://docker:2376 (TLS)",
		            url);
		return;
	}
	const struct services_diag_svc *s = diag_by_alias(v, n, host);
	if (!s && !n) {
		strbuf_addf(out,
		            "nothing answers at %s: the job has no services; add one such "
		            "as 'docker:24-dind' (reachable as 'docker')",
		            url);
		return;
	}
	if (!s) {
		strbuf_addf(out, "no service is reachable as '%s'; the services are reachable as ",
		            host);
		diag_aliases(v, n, out);
		return;
	}
	if (privileged_trouble(s->log_tail)) {
		diag_privileged(s, out);
		return;
	}
	if (s->died) {
		strbuf_addf(out, "service '%s' (%s) exited with code %d", s->name, host,
		            s->exit_code);
		diag_tail(s->name, s->log_tail, out);
		return;
	}
	if (diag_tls_mismatch(s, host, port, out))
		return;
	if (!s->ready)
		strbuf_addf(out,
		            "service '%s' (%s) never answered on port %d before the job "
		            "started (see the warning above)",
		            s->name, host, port);
	else
		strbuf_addf(out,
		            "service '%s' (%s) was ready when the job started, yet %s "
		            "refused the connection",
		            s->name, host, url);
	diag_tail(s->name, s->log_tail, out);
}

/* The host name in a resolver error, or NULL (owned). */
static char *dns_name(const char *tail)
{
	static const char *const pre[] = {"lookup ", "Could not resolve host: ", "bad address '",
	                                  "could not translate host name \""};
	for (size_t i = 0; i < sizeof(pre) / sizeof(pre[0]); i++) {
		const char *p = strstr(tail, pre[i]);
		if (!p)
			continue;
		p += strlen(pre[i]);
		size_t l = strcspn(p, " :'\"\n\r");
		if (l)
			return xstrndup(p, l);
	}
	return NULL;
}

static bool diag_dns(const struct services_diag_svc *v, size_t n, const char *tail,
                     struct strbuf *out)
{
	static const char *const pats[] = {"no such host",
	                                   "Could not resolve host",
	                                   "bad address",
	                                   "Name or service not known",
	                                   "Temporary failure in name resolution",
	                                   "could not translate host name"};
	bool hit = false;
	for (size_t i = 0; i < sizeof(pats) / sizeof(pats[0]) && !hit; i++)
		hit = strstr(tail, pats[i]) != NULL;
	if (!hit)
		return false;
	_cleanup_free_ char *name = dns_name(tail);
	strbuf_addf(out, "the name '%s' does not resolve in the job: ", name ? name : "?");
	if (!n) {
		strbuf_addstr(out, "the job has no services");
		return true;
	}
	strbuf_addstr(out, "the services are reachable as ");
	diag_aliases(v, n, out);
	strbuf_addstr(out, " (add alias: to a service to give it another name)");
	return true;
}

static bool diag_certs(const struct services_diag_svc *v, size_t n, const char *tail,
                       struct strbuf *out)
{
	if (!strstr(tail, "could not read CA certificate") &&
	    !strstr(tail, "unable to load client") && !strstr(tail, "could not load X509 key"))
		return false;
	const struct services_diag_svc *s = NULL;
	for (size_t i = 0; i < n && !s; i++)
		if (v[i].tls)
			s = &v[i];
	if (s)
		strbuf_addf(out,
		            "the job's Docker client cannot read its TLS certificates: the "
		            "client certificates of service '%s' are mounted at %s/client; "
		            "set DOCKER_CERT_PATH: %s/client",
		            s->name, s->certdir, s->certdir);
	else
		strbuf_addstr(out,
		              "the job's Docker client wants TLS certificates but no DinD "
		              "service generates them: set DOCKER_TLS_CERTDIR: \"/certs\" (the "
		              "dind image's default) or turn TLS off on both sides");
	return true;
}

/* DOCKER_BUILDKIT=1 builds report an unreachable daemon by its address ("failed to dial gRPC:
 * cannot connect to the Docker daemon. ...: dial tcp 172.23.0.2:2375: connect: connection
 * refused"): the address of the only DinD service, diagnosed as a dial of its alias. */
static bool diag_buildkit_dial(const struct services_diag_svc *v, size_t n, const char *tail,
                               struct strbuf *out)
{
	const char *p = strstr(tail, "failed to dial gRPC: cannot connect to the Docker daemon");
	const char *d = p ? strstr(p, "dial tcp ") : NULL;
	if (!d)
		return false;
	d += strlen("dial tcp ");
	size_t l = strcspn(d, ": \n");
	int port = d[l] == ':' ? atoi(d + l + 1) : 0;
	const struct services_diag_svc *s = NULL;
	for (size_t i = 0; i < n; i++)
		if (v[i].dind) {
			if (s)
				return false;
			s = &v[i];
		}
	if (!s || port <= 0)
		return false;
	_cleanup_free_ char *url = xasprintf("tcp://%s:%d", first_alias(s), port);
	diag_connect(v, n, url, out);
	return true;
}

/* `docker push myapp` goes to Docker Hub, which is not there offline: nothing makes it work. */
static bool diag_docker_hub(const char *tail, struct strbuf *out)
{
	const char *hub = strstr(tail, "registry-1.docker.io");
	if (!hub)
		hub = strstr(tail, "index.docker.io");
	if (!hub || !strstr(tail, "[docker.io/"))
		return false;
	strbuf_addf(out,
	            "the name '%.*s' does not resolve in the job: an image name without a "
	            "registry host means Docker Hub (docker.io), which runnel cannot reach "
	            "offline, so this push or pull fails whatever the options (--lenient "
	            "included); on GitLab it would also need a `docker login` to Docker Hub. "
	            "Push to the project's registry instead (`runnel run --registry`): "
	            "docker tag myapp \"$CI_REGISTRY_IMAGE\" && docker push "
	            "\"$CI_REGISTRY_IMAGE\"",
	            (int)strcspn(hub, " :/'\"\n"), hub);
	return true;
}

/* The registry refused an anonymous push or pull. */
static bool diag_no_login(const char *tail, struct strbuf *out)
{
	if (!strstr(tail, "no basic auth credentials") &&
	    !strstr(tail, "unauthorized: authentication required"))
		return false;
	strbuf_addstr(out, "the registry refused the job's Docker client: it pushes or pulls "
	                   "without `docker login` (each DinD service starts without credentials), "
	                   "which fails on GitLab too. Fix: add to before_script: - echo "
	                   "\"$CI_REGISTRY_PASSWORD\" | docker login -u \"$CI_REGISTRY_USER\" "
	                   "--password-stdin \"$CI_REGISTRY\"; `runnel run --registry --lenient` "
	                   "gets past this by logging the job's Docker client in beforehand");
	return true;
}

void services_diagnose_text(const struct services_diag_svc *v, size_t n, const char *job_tail,
                            struct strbuf *out)
{
	const char *tail = job_tail ? job_tail : "";
	const char *cc = strstr(tail, "Cannot connect to the Docker daemon at ");
	if (cc) {
		cc += strlen("Cannot connect to the Docker daemon at ");
		size_t l = strcspn(cc, " \n\r");
		while (l && cc[l - 1] == '.')
			l--;
		_cleanup_free_ char *url = xstrndup(cc, l);
		diag_connect(v, n, url, out);
		return;
	}
	if (diag_buildkit_dial(v, n, tail, out))
		return;
	if (diag_certs(v, n, tail, out))
		return;
	for (size_t i = 0; i < n; i++)
		if (v[i].dind && privileged_trouble(v[i].log_tail)) {
			diag_privileged(&v[i], out);
			return;
		}
	if (diag_docker_hub(tail, out) || diag_no_login(tail, out) || diag_dns(v, n, tail, out))
		return;
	for (size_t i = 0; i < n; i++)
		if (v[i].died) {
			strbuf_addf(out, "service '%s' (%s) exited with code %d", v[i].name,
			            first_alias(&v[i]), v[i].exit_code);
			diag_tail(v[i].name, v[i].log_tail, out);
			return;
		}
	/* The job failed on something else first (a `docker login` that fell back to the
	 * client side, say), but its DOCKER_HOST cannot work either: that is the cause. */
	for (size_t i = 0; i < n; i++)
		if (v[i].dind && v[i].docker_host_port > 0 &&
		    diag_tls_mismatch(&v[i], first_alias(&v[i]), v[i].docker_host_port, out))
			return;
}

void services_diagnose(struct docker_client *c, const struct service_set *set,
                       const char *job_output_tail, struct strbuf *out)
{
	size_t n = set ? set->n : 0;
	struct services_diag_svc *v = xcalloc(n ? n : 1, sizeof(*v));
	struct strbuf *logs = xcalloc(n ? n : 1, sizeof(*logs));
	for (size_t i = 0; i < n; i++) {
		struct service *s = &set->v[i];
		logs[i] = (struct strbuf)STRBUF_INIT;
		services_log_tail(c, s->id, &logs[i]);
		if (s->state == SVC_WAITING || s->state == SVC_READY)
			services_poll_state(c, s, NULL); /* it may have died since */
		v[i] = (struct services_diag_svc){
		    .name = s->name,
		    .aliases = s->aliases.v,
		    .dind = s->dind,
		    .tls = s->dind && *s->certdir,
		    .certdir = s->certdir,
		    .ready = s->state == SVC_READY,
		    .died = s->state == SVC_DIED,
		    .exit_code = s->exit_code,
		    .log_tail = logs[i].buf,
		    .privileged_filtered = s->privileged_filtered,
		    .docker_host_port = s->docker_host_port,
		};
	}
	services_diagnose_text(v, n, job_output_tail, out);
	for (size_t i = 0; i < n; i++)
		strbuf_release(&logs[i]);
	free(logs);
	free(v);
}
