/* services-monitor: the thread that follows a job after its services are up: with
 * CI_DEBUG_SERVICES it streams the services' logs into the job's output, and it hands
 * ready>script (--timings) to the job once both ends are known. */
#include "exec/services.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "docker/client.h"
#include "exec/exec.h"
#include "exec/services-internal.h"
#include "report/report.h"
#include "util/cleanup.h"
#include "util/log.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

/* The DinD service the job's DOCKER_HOST names and that answered /_ping, or NULL. */
static const struct service *docker_host_daemon(const struct service_set *set)
{
	for (size_t i = 0; i < set->n; i++)
		if (set->v[i].docker_host && set->v[i].dind && set->v[i].ping_at > 0)
			return &set->v[i];
	return NULL;
}

/* Hands ready>script to the job's timings once both ends are known. */
void services_publish_ready_script(struct service_set *set)
{
	const struct service *d = docker_host_daemon(set);
	if (!d || !set->timings || set->script_at <= 0)
		return;
	double ms = (set->script_at - d->ping_at) * 1000.0;
	set->timings->ready_script = ms > 0 ? ms : 0;
	set->timings->has_ready_script = true;
}

/* The name in "[service:<name>] ": the service's aliases joined by '-' ("postgres-db" for
 * postgres with alias db), as in gitlab-runner's CI_DEBUG_SERVICES output. Owned. */
static char *service_log_name(const struct service *s)
{
	struct strbuf b = STRBUF_INIT;
	for (size_t i = 0; i < s->aliases.n; i++)
		strbuf_addf(&b, "%s%s", i ? "-" : "", s->aliases.v[i]);
	if (!b.len)
		strbuf_addstr(&b, s->container);
	return strbuf_detach(&b, NULL);
}

/* Streams the new complete lines of every service's log (all of it when `all`). */
static void stream_service_logs(struct service_set *set, bool all)
{
	struct monitor *m = &set->mon;
	for (size_t i = 0; i < set->n; i++) {
		struct service *s = &set->v[i];
		struct strbuf logs = STRBUF_INIT, out = STRBUF_INIT;
		struct err err = ERR_INIT;
		if (s->id && docker_container_logs(m->c, s->id, 0, &logs, &err) < 0)
			err_release(&err);
		_cleanup_free_ char *alias = service_log_name(s);
		size_t p = s->log_seen;
		while (p < logs.len) {
			const char *nl = memchr(logs.buf + p, '\n', logs.len - p);
			if (!nl && !all)
				break;
			size_t l = nl ? (size_t)(nl - (logs.buf + p)) : logs.len - p;
			strbuf_addf(&out, "[service:%s] %.*s\n", alias, (int)l, logs.buf + p);
			p += l + (nl ? 1 : 0);
		}
		if (p > s->log_seen) {
			s->log_seen = p;
			/* stream 2: whole lines, so they never split a line of the job's stdout */
			report_job_write(m->log, 2, out.buf, out.len);
		}
		strbuf_release(&logs);
		strbuf_release(&out);
	}
}

static void *monitor_main(void *p)
{
	struct service_set *set = p;
	struct monitor *m = &set->mon;
	for (bool stop = false; !stop;) {
		/* the Engine API has no follow-from-offset: re-read the logs every 250 ms */
		struct pollfd pf = {.fd = m->stop[0], .events = POLLIN};
		stop = poll(&pf, 1, 250) > 0;
		stream_service_logs(set, stop);
	}
	return NULL;
}

/* Starts the monitor with CI_DEBUG_SERVICES. Problems only cost the feature. */
void services_monitor_start(struct docker_client *c, struct service_set *set,
                            const struct services_ctx *ctx)
{
	struct monitor *m = &set->mon;
	if (!services_debug_enabled(ctx->job_vars) || !ctx->log)
		return;
	struct err err = ERR_INIT;
	m->log = ctx->log;
	m->c = docker_client_clone(c, &err);
	m->stop[0] = m->stop[1] = -1;
	if (!m->c || pipe2(m->stop, O_CLOEXEC) < 0) {
		log_debug("services: no monitor: %s", m->c ? strerror(errno) : err.msg);
		err_release(&err);
		return;
	}
	m->on = pthread_create(&m->thread, NULL, monitor_main, set) == 0;
}

void services_monitor_stop(struct service_set *set)
{
	struct monitor *m = &set->mon;
	if (m->on) {
		if (write(m->stop[1], "x", 1) < 0)
			log_debug("services: cannot stop the monitor: %s", strerror(errno));
		pthread_join(m->thread, NULL);
		m->on = false;
	}
	for (int i = 0; m->c && i < 2; i++)
		if (m->stop[i] >= 0)
			close(m->stop[i]);
	docker_client_free(m->c);
	m->c = NULL;
}
