/* Tests for exec/services: GitLab's default aliases (runner-docker.md §4), DinD detection, the
 * effective DOCKER_TLS_CERTDIR, DOCKER_HOST parsing and the diagnosis texts from sample
 * outputs. With RUNNEL_SERVICES_E2E=1 the "services-engine" group runs services_start/stop
 * against the real engine (tests/e2e/t400-services-engine.sh drives it): a redis service
 * becomes ready, a dying service is reported at once, a silent one times out with the
 * warning, DinD answers /_ping with and without TLS, and nothing is left behind. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "docker/client.h"
#include "exec/exec.h"
#include "exec/dindcache.h"
#include "exec/registry.h"
#include "exec/services.h"
#include "exec/settings.h"
#include "model/job.h"
#include "model/vars.h"
#include "report/report.h"
#include "util/strbuf.h"
#include "util/strvec.h"
#include "util/xalloc.h"

/* ---- pure ---- */

static void check_aliases(const char *image, const char *a1, const char *a2)
{
	struct strvec out = STRVEC_INIT;
	services_default_aliases(image, &out);
	assert_int_equal(out.n, a2 ? 2 : 1);
	assert_string_equal(out.v[0], a1);
	if (a2)
		assert_string_equal(out.v[1], a2);
	strvec_release(&out);
}

static void test_default_aliases(void **state)
{
	(void)state;
	/* the table of runner-docker.md §4 */
	check_aliases("postgres", "postgres", NULL);
	check_aliases("docker:24-dind", "docker", NULL);
	check_aliases("tutum/wordpress", "tutum__wordpress", "tutum-wordpress");
	check_aliases("registry.example.com:4999/valkey/valkey:8",
	              "registry.example.com__valkey__valkey", "registry.example.com-valkey-valkey");
	check_aliases(
	    "ns/svc@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
	    "ns__svc", "ns-svc");
	/* more: tag and digest together, a port without a path is a tag, nested paths */
	check_aliases(
	    "redis:7@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
	    "redis", NULL);
	check_aliases("localhost:5000/a/b:1", "localhost__a__b", "localhost-a-b");
	check_aliases("mysql:8.0", "mysql", NULL);
	check_aliases("gitlab.com:443/group/sub/img", "gitlab.com__group__sub__img",
	              "gitlab.com-group-sub-img");
	struct strvec out = STRVEC_INIT;
	services_default_aliases("", &out);
	assert_int_equal(out.n, 0);
	strvec_release(&out);
}

static void test_is_dind(void **state)
{
	(void)state;
	char *dockerd_ep[] = {"dockerd-entrypoint.sh", NULL};
	char *dockerd_cmd[] = {"dockerd", "--host=tcp://0.0.0.0:2375", NULL};
	char *redis_cmd[] = {"redis-server", NULL};
	assert_true(services_is_dind("docker:24-dind", NULL, NULL));
	assert_true(services_is_dind("docker:dind", NULL, NULL));
	assert_true(
	    services_is_dind("registry.example.com/mirror/docker:24-dind-rootless", NULL, NULL));
	assert_true(services_is_dind("my/daemon:1", dockerd_ep, NULL));
	assert_true(services_is_dind("my/daemon:1", NULL, dockerd_cmd));
	assert_false(services_is_dind("redis:7", NULL, redis_cmd));
	assert_false(services_is_dind("docker:24", NULL, NULL));
	/* "dind" in a registry host name is no daemon */
	assert_false(services_is_dind("dind.example.com/redis:7", NULL, redis_cmd));
}

static void test_certdir(void **state)
{
	(void)state;
	char *image_env[] = {"PATH=/bin", "DOCKER_TLS_CERTDIR=/certs", NULL};
	char *job_only[] = {"CI=true", "DOCKER_TLS_CERTDIR=", NULL};
	char *svc_wins[] = {"DOCKER_TLS_CERTDIR=", "X=1", "DOCKER_TLS_CERTDIR=/svc", NULL};
	char *none[] = {"CI=true", NULL};
	assert_string_equal(services_env_lookup(none, image_env, "DOCKER_TLS_CERTDIR"), "/certs");
	assert_string_equal(services_env_lookup(job_only, image_env, "DOCKER_TLS_CERTDIR"), "");
	assert_string_equal(services_env_lookup(svc_wins, image_env, "DOCKER_TLS_CERTDIR"), "/svc");
	assert_null(services_env_lookup(none, NULL, "DOCKER_TLS_CERTDIR"));
	assert_null(services_env_lookup(none, none, "DOCKER_TLS"));
}

static void test_parse_tcp_host(void **state)
{
	(void)state;
	char *h = NULL;
	int port = 0;
	assert_true(services_parse_tcp_host("tcp://docker:2375", &h, &port));
	assert_string_equal(h, "docker");
	assert_int_equal(port, 2375);
	free(h);
	assert_true(services_parse_tcp_host("tcp://10.0.0.1:2376/", &h, &port));
	assert_string_equal(h, "10.0.0.1");
	assert_int_equal(port, 2376);
	free(h);
	assert_false(services_parse_tcp_host("unix:///var/run/docker.sock", &h, &port));
	assert_false(services_parse_tcp_host("tcp://docker", &h, &port));
	assert_false(services_parse_tcp_host("tcp://docker:99999", &h, &port));
	assert_false(services_parse_tcp_host(NULL, &h, &port));
}

/* ---- diagnosis ---- */

static char *docker_aliases[] = {"docker", NULL};
static char *pg_aliases[] = {"postgres", "db", NULL};

static struct services_diag_svc dind(bool tls, bool ready)
{
	return (struct services_diag_svc){.name = "docker:24-dind",
	                                  .aliases = docker_aliases,
	                                  .dind = true,
	                                  .tls = tls,
	                                  .certdir = tls ? "/certs" : "",
	                                  .ready = ready,
	                                  .log_tail = "API listen on [::]:2376\n"};
}

static char *diagnose(const struct services_diag_svc *v, size_t n, const char *tail)
{
	struct strbuf out = STRBUF_INIT;
	services_diagnose_text(v, n, tail, &out);
	return strbuf_detach(&out, NULL);
}

static const char refused_2375[] =
    "$ docker info\nCannot connect to the Docker daemon at tcp://docker:2375. Is the docker "
    "daemon running?\n";

static void test_diag_tls_mismatch(void **state)
{
	(void)state;
	struct services_diag_svc v[] = {dind(true, true)};
	char *m = diagnose(v, 1, refused_2375);
	assert_non_null(strstr(m, "listens with TLS on tcp://docker:2376, not on port 2375"));
	assert_non_null(strstr(m, "DOCKER_TLS_CERTDIR: \"\""));
	assert_non_null(strstr(m, "DOCKER_CERT_PATH: /certs/client"));
	free(m);
	/* the other way round: TLS off in the service, the job dials 2376 */
	struct services_diag_svc w[] = {dind(false, true)};
	m = diagnose(w, 1, "Cannot connect to the Docker daemon at tcp://docker:2376. Is it?");
	assert_non_null(strstr(m, "listens without TLS on tcp://docker:2375"));
	free(m);
}

/* DOCKER_BUILDKIT=1 names the daemon by its address: still the TLS mismatch of 'docker' */
static void test_diag_buildkit_dial(void **state)
{
	(void)state;
	struct services_diag_svc v[] = {dind(true, true)};
	char *m = diagnose(v, 1,
	                   "failed to dial gRPC: cannot connect to the Docker daemon. Is 'docker "
	                   "daemon' running on this host?: dial tcp 172.23.0.2:2375: connect: "
	                   "connection refused\n");
	assert_non_null(strstr(m, "listens with TLS on tcp://docker:2376, not on port 2375"));
	free(m);
	/* two DinD services: the address cannot be told apart, no guess */
	struct services_diag_svc w[] = {dind(true, true), dind(true, true)};
	m = diagnose(w, 2,
	             "failed to dial gRPC: cannot connect to the Docker daemon: dial tcp "
	             "172.23.0.2:2375: connect: connection refused\n");
	assert_null(strstr(m, "2376"));
	free(m);
}

static void test_diag_privileged(void **state)
{
	(void)state;
	struct services_diag_svc v[] = {dind(false, false)};
	v[0].died = true;
	v[0].exit_code = 1;
	v[0].log_tail =
	    "mount: permission denied (are you root?)\nCould not mount /sys/kernel/security.\n"
	    "AppArmor detection and --privileged mode might break.\n";
	char *m = diagnose(v, 1, refused_2375);
	assert_non_null(strstr(m, "the dind service needs privileged mode: run with --privileged "
	                          "or set privileged: true in .runnel.yml"));
	assert_non_null(strstr(m, "mount: permission denied"));
	free(m);
	/* found from the service logs even when the job says something else */
	m = diagnose(v, 1, "error during connect: Get \"http://docker:2375/v1.24/info\": EOF\n");
	assert_non_null(strstr(m, "needs privileged mode"));
	free(m);
	v[0].log_tail = "failed to start daemon: Error initializing network controller: "
	                "Are you running with --privileged?\n";
	m = diagnose(v, 1, "");
	assert_non_null(strstr(m, "needs privileged mode"));
	free(m);
}

static void test_diag_dns(void **state)
{
	(void)state;
	struct services_diag_svc v[] = {
	    dind(false, true),
	    {.name = "postgres:15", .aliases = pg_aliases, .ready = true},
	};
	char *m = diagnose(v, 2,
	                   "error during connect: Get \"http://dockr:2375/v1.24/info\": dial "
	                   "tcp: lookup dockr on 127.0.0.11:53: no such host\n");
	assert_string_equal(m, "the name 'dockr' does not resolve in the job: the services are "
	                       "reachable as 'docker' (docker:24-dind), 'postgres' (postgres:15), "
	                       "'db' (postgres:15) (add alias: to a service to give it another "
	                       "name)");
	free(m);
	m = diagnose(v, 2, "curl: (6) Could not resolve host: pg\n");
	assert_non_null(strstr(m, "the name 'pg' does not resolve"));
	free(m);
	m = diagnose(v, 2, "wget: bad address 'redis:6379'\n");
	assert_non_null(strstr(m, "the name 'redis' does not resolve"));
	free(m);
	m = diagnose(NULL, 0, "ping: bad address 'x'\n");
	assert_string_equal(m, "the name 'x' does not resolve in the job: the job has no services");
	free(m);
}

static void test_diag_connect_other(void **state)
{
	(void)state;
	struct services_diag_svc v[] = {
	    {.name = "postgres:15", .aliases = pg_aliases, .ready = true},
	};
	/* no service of that name */
	char *m = diagnose(v, 1, refused_2375);
	assert_string_equal(m, "no service is reachable as 'docker'; the services are reachable "
	                       "as 'postgres' (postgres:15), 'db' (postgres:15)");
	free(m);
	/* no services at all */
	m = diagnose(NULL, 0, refused_2375);
	assert_non_null(strstr(m, "the job has no services"));
	free(m);
	/* the local socket */
	m = diagnose(NULL, 0,
	             "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. "
	             "Is the docker daemon running?");
	assert_non_null(strstr(m, "dials unix:///var/run/docker.sock"));
	free(m);
	/* a dind that never got ready */
	struct services_diag_svc w[] = {dind(false, false)};
	m = diagnose(w, 1, refused_2375);
	assert_non_null(strstr(m, "never answered on port 2375"));
	assert_non_null(strstr(m, "API listen on"));
	free(m);
}

static void test_diag_died_and_silence(void **state)
{
	(void)state;
	struct services_diag_svc v[] = {
	    {.name = "postgres:15",
	     .aliases = pg_aliases,
	     .died = true,
	     .exit_code = 1,
	     .log_tail = "line1\nFATAL: data directory has wrong ownership\n"},
	};
	char *m = diagnose(v, 1, "psql: error: connection refused\n");
	assert_non_null(strstr(m, "service 'postgres:15' (postgres) exited with code 1"));
	assert_non_null(strstr(m, "FATAL: data directory"));
	free(m);
	v[0].died = false;
	m = diagnose(v, 1, "some unrelated failure\n");
	assert_string_equal(m, "");
	free(m);
	m = diagnose(NULL, 0, NULL);
	assert_string_equal(m, "");
	free(m);
}

static void test_diag_certs(void **state)
{
	(void)state;
	struct services_diag_svc v[] = {dind(true, true)};
	char *m = diagnose(v, 1,
	                   "could not read CA certificate \"/tls/ca.pem\": open /tls/ca.pem: "
	                   "no such file or directory\n");
	assert_non_null(strstr(m, "mounted at /certs/client"));
	free(m);
}

/* ---- against the engine ---- */

struct eng {
	struct docker_client *c;
	struct report *r;
	struct job_log *log;
	char out_path[64];
	char *net_id;
	char *pipeline;
	struct strvec labels;
	struct runner_settings st;
	struct var_list vars;
	char logdir[64];
};

static struct eng E;

static int eng_setup(void **state)
{
	(void)state;
	struct err err = ERR_INIT;
	E.c = docker_client_new(NULL, &err);
	if (!E.c) {
		fprintf(stderr, "no engine: %s\n", err.msg);
		return -1;
	}
	E.pipeline = xasprintf("svctest%ld", (long)getpid());
	E.labels = (struct strvec)STRVEC_INIT;
	/* owner labels too: a concurrent run's reaper removes runnel.pipeline objects without a
	 * live owner */
	struct exec_run run = {.pipeline_id = E.pipeline};
	exec_labels(&run, "svc job", &E.labels);
	strvec_push(&E.labels, "com.runnel.test=services");
	char *name = xasprintf("runnel-%s-net", E.pipeline);
	int r = docker_network_create(E.c, name, E.labels.v, &E.net_id, &err);
	free(name);
	if (r < 0)
		return -1;
	snprintf(E.logdir, sizeof(E.logdir), "/tmp/runnel-svc-logs-XXXXXX");
	return mkdtemp(E.logdir) ? 0 : -1;
}

static int eng_teardown(void **state)
{
	(void)state;
	struct err err = ERR_INIT;
	if (E.net_id && docker_network_remove(E.c, E.net_id, &err) < 0)
		err_release(&err);
	free(E.net_id);
	docker_client_free(E.c);
	strvec_release(&E.labels);
	free(E.pipeline);
	char *cmd = xasprintf("rm -rf '%s'", E.logdir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", E.logdir);
	free(cmd);
	return 0;
}

/* A fresh report writing into a file, settings and variables per test. */
static int each_setup(void **state)
{
	(void)state;
	snprintf(E.out_path, sizeof(E.out_path), "/tmp/runnel-svc-out-XXXXXX");
	int fd = mkstemp(E.out_path);
	if (fd < 0)
		return -1;
	struct report_opts o = REPORT_OPTS_INIT;
	o.out_fd = fd;
	struct err err = ERR_INIT;
	E.r = report_new(&o, &err);
	E.log = E.r ? report_job_open(E.r, "svc", NULL, &err) : NULL;
	runner_settings_init(&E.st);
	E.vars = (struct var_list){0};
	return E.log ? 0 : -1;
}

static int each_teardown(void **state)
{
	(void)state;
	report_job_close(E.log);
	report_free(E.r);
	unlink(E.out_path);
	runner_settings_release(&E.st);
	var_list_release(&E.vars);
	return 0;
}

static char *output(void)
{
	report_job_close(E.log);
	E.log = NULL;
	FILE *f = fopen(E.out_path, "r");
	assert_non_null(f);
	struct strbuf sb = STRBUF_INIT;
	char buf[4096];
	size_t n;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		strbuf_add(&sb, buf, n);
	fclose(f);
	return strbuf_detach(&sb, NULL);
}

static double mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct services_ctx ctx_for(const char *prefix)
{
	return (struct services_ctx){.network = E.net_id,
	                             .labels = E.labels.v,
	                             .job_vars = &E.vars,
	                             .settings = &E.st,
	                             .log = E.log,
	                             .container_prefix = prefix,
	                             .cancel_fd = -1,
	                             .job_name = "svc job"};
}

static size_t count_labelled(const char *kind)
{
	struct strvec ids = STRVEC_INIT;
	struct err err = ERR_INIT;
	char *label = xasprintf("runnel.pipeline=%s", E.pipeline);
	assert_int_equal(docker_list_by_label(E.c, kind, label, &ids, &err), 0);
	free(label);
	size_t n = ids.n;
	strvec_release(&ids);
	return n;
}

static void assert_nothing_left(void)
{
	assert_int_equal(count_labelled("containers"), 0);
	assert_int_equal(count_labelled("volumes"), 0);
}

/* one service of image `image`, optionally with a command and variables */
struct one_svc {
	struct job job;
	struct service_spec spec;
	const char *cmd[4];
	struct var svars[2];
};

static void one_svc_init(struct one_svc *o, const char *image, const char *const *cmd, size_t ncmd,
                         const struct var *vars, size_t nvars)
{
	memset(o, 0, sizeof(*o));
	o->spec.image.name = image;
	for (size_t i = 0; i < ncmd; i++)
		o->cmd[i] = cmd[i];
	o->spec.command = (struct string_list){.v = o->cmd, .n = ncmd};
	o->spec.has_command = ncmd > 0;
	for (size_t i = 0; i < nvars; i++)
		o->svars[i] = vars[i];
	o->spec.variables = (struct var_list){.v = o->svars, .n = nvars, .alloc = nvars};
	o->job.name = "svc job";
	o->job.services = &o->spec;
	o->job.n_services = 1;
}

/* What the Docker executor does: start the services, then wait for them. */
static struct service_set *start_and_wait(const struct job *job, const struct services_ctx *ctx,
                                          struct err *err)
{
	struct service_set *set = services_start(E.c, job, ctx, err);
	services_wait(E.c, set, ctx);
	return set;
}

static void test_eng_redis_ready(void **state)
{
	(void)state;
	struct one_svc o;
	one_svc_init(&o, "redis:7", NULL, 0, NULL, 0);
	var_list_set(NULL, &E.vars, &(struct var){.key = "SECRET", .value = "not-for-services"});
	var_list_set(NULL, &E.vars, &(struct var){.key = "PUB", .value = "yes", .public_ = true});
	struct services_ctx ctx = ctx_for("runnel-svctest-redis");
	struct err err = ERR_INIT;
	double t0 = mono();
	struct service_set *set = start_and_wait(&o.job, &ctx, &err);
	double took = mono() - t0;
	assert_non_null(set);
	struct strvec binds = STRVEC_INIT;
	services_job_binds(set, &binds);
	assert_int_equal(binds.n, 0); /* no DinD, no certificate volume */
	strvec_release(&binds);
	/* the container: on the network as "redis", public variables only */
	json_t *info = NULL;
	assert_int_equal(docker_container_inspect(E.c, "runnel-svctest-redis-svc-0", &info, &err),
	                 0);
	char *dump = json_dumps(info, 0);
	assert_non_null(strstr(dump, "\"PUB=yes\""));
	assert_null(strstr(dump, "SECRET"));
	assert_non_null(strstr(dump, "\"redis\""));
	free(dump);
	json_decref(info);
	services_stop(E.c, set, E.logdir);
	char *out = output();
	assert_non_null(strstr(out, "Starting service redis:7..."));
	assert_non_null(
	    strstr(out, "Waiting for services to be up and running (timeout 30 seconds)..."));
	assert_null(strstr(out, "WARNING"));
	free(out);
	fprintf(stderr, "# redis ready in %.2f s\n", took);
	assert_true(took < 10);
	char *lp = xasprintf("%s/svc_job-service-redis.log", E.logdir);
	struct stat sb;
	assert_int_equal(stat(lp, &sb), 0);
	assert_true(sb.st_size > 0);
	free(lp);
	assert_nothing_left();
}

static void test_eng_exit_reported_at_once(void **state)
{
	(void)state;
	const char *cmd[] = {"sh", "-c", "echo boom-from-service; exit 3"};
	struct var v[] = {{.key = "HEALTHCHECK_TCP_PORT", .value = "1234"}};
	struct one_svc o;
	one_svc_init(&o, "alpine:3", cmd, 3, v, 1);
	struct services_ctx ctx = ctx_for("runnel-svctest-exit");
	struct err err = ERR_INIT;
	double t0 = mono();
	struct service_set *set = start_and_wait(&o.job, &ctx, &err);
	double took = mono() - t0;
	assert_non_null(set);
	struct strbuf diag = STRBUF_INIT;
	services_diagnose(E.c, set, "nc: connection refused\n", &diag);
	fprintf(stderr, "# diagnosis: %s\n", diag.buf);
	assert_non_null(strstr(diag.buf, "service 'alpine:3' (alpine) exited with code 3"));
	assert_non_null(strstr(diag.buf, "boom-from-service"));
	strbuf_release(&diag);
	services_stop(E.c, set, NULL);
	char *out = output();
	assert_non_null(strstr(out,
	                       "*** WARNING: Service runnel-svctest-exit-svc-0 probably didn't "
	                       "start properly."));
	assert_non_null(strstr(out, "exited with code 3"));
	assert_non_null(strstr(out, "boom-from-service"));
	free(out);
	fprintf(stderr, "# exit reported in %.2f s\n", took);
	assert_true(took < 8);
	assert_nothing_left();
}

static void test_eng_timeout_warning(void **state)
{
	(void)state;
	const char *cmd[] = {"sleep", "60"};
	struct var v[] = {{.key = "HEALTHCHECK_TCP_PORT", .value = "4321"}};
	struct one_svc o;
	one_svc_init(&o, "alpine:3", cmd, 2, v, 1);
	E.st.wait_for_services_timeout = 2;
	struct services_ctx ctx = ctx_for("runnel-svctest-slow");
	struct err err = ERR_INIT;
	double t0 = mono();
	struct service_set *set = start_and_wait(&o.job, &ctx, &err);
	double took = mono() - t0;
	assert_non_null(set);
	services_stop(E.c, set, NULL);
	char *out = output();
	assert_non_null(strstr(out, "(timeout 2 seconds)"));
	assert_non_null(strstr(out,
	                       "*** WARNING: Service runnel-svctest-slow-svc-0 probably didn't "
	                       "start properly."));
	assert_non_null(
	    strstr(out, "service \"runnel-svctest-slow-svc-0-wait-for-service\" timeout"));
	free(out);
	assert_true(took >= 2 && took < 6);
	assert_nothing_left();
}

static void run_dind(const char *certdir, bool expect_binds)
{
	struct one_svc o;
	one_svc_init(&o, "docker:24-dind", NULL, 0, NULL, 0);
	if (certdir)
		var_list_set(
		    NULL, &E.vars,
		    &(struct var){.key = "DOCKER_TLS_CERTDIR", .value = certdir, .public_ = true});
	E.st.privileged = true;
	E.st.wait_for_services_timeout = 60;
	struct services_ctx ctx = ctx_for("runnel-svctest-dind");
	struct err err = ERR_INIT;
	double t0 = mono();
	struct service_set *set = start_and_wait(&o.job, &ctx, &err);
	double took = mono() - t0;
	if (!set)
		fprintf(stderr, "services_start: %s\n", err.msg);
	assert_non_null(set);
	struct strvec binds = STRVEC_INIT;
	services_job_binds(set, &binds);
	assert_int_equal(binds.n, expect_binds ? 1 : 0);
	if (expect_binds)
		assert_non_null(strstr(binds.v[0], ":/certs/client"));
	strvec_release(&binds);
	services_stop(E.c, set, NULL);
	char *out = output();
	const char *warn = strstr(out, "WARNING");
	if (warn)
		fprintf(stderr, "%s\n", warn);
	assert_null(warn);
	free(out);
	fprintf(stderr, "# dind (%s) answered /_ping in %.2f s\n", expect_binds ? "TLS" : "plain",
	        took);
	assert_nothing_left();
}

static void test_eng_dind_plain(void **state)
{
	(void)state;
	run_dind("", false);
}

static void test_eng_dind_tls(void **state)
{
	(void)state;
	run_dind(NULL, true); /* the image's DOCKER_TLS_CERTDIR=/certs */
}

/* --registry: htpasswd auth on the bridge gateway, reachable from a container, removed. */
static void test_eng_registry(void **state)
{
	(void)state;
	struct registry_opts o = {
	    .pipeline_id = E.pipeline, .labels = E.labels.v, .project_path = "Group/My-Project"};
	struct err err = ERR_INIT;
	struct registry *r = registry_start(E.c, &o, &err);
	if (!r)
		fprintf(stderr, "registry_start: %s\n", err.msg);
	assert_non_null(r);
	struct var_list vars = {0};
	registry_vars(r, &vars, NULL);
	const char *addr = var_list_value(&vars, "CI_REGISTRY");
	assert_string_equal(addr, registry_address(r));
	char *img = xasprintf("%s/group/my-project", addr);
	assert_string_equal(var_list_value(&vars, "CI_REGISTRY_IMAGE"), img);
	free(img);
	assert_string_equal(var_list_value(&vars, "CI_REGISTRY_USER"), "runnel");
	const struct var *pw = var_list_get(&vars, "CI_REGISTRY_PASSWORD");
	assert_true(pw->masked);
	assert_false(pw->public_);
	/* from a container on another bridge network: 401 without, 200 with the password */
	char *cmd = xasprintf("docker run --rm --network %s --label com.runnel.test=services "
	                      "alpine:3 sh -c 'wget -q -O- http://%s/v2/ 2>&1 | grep -q 401 && "
	                      "wget -q -O- http://runnel:%s@%s/v2/ >/dev/null'",
	                      E.net_id, addr, pw->value, addr);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	var_list_release(&vars);
	registry_stop(E.c, r);
	assert_nothing_left();
}

/* --dind-cache: concurrent holders get different slots; a released slot is reused. */
static void test_eng_dindcache_slots(void **state)
{
	(void)state;
	char *xdg = xasprintf("%s/cache", E.logdir);
	setenv("XDG_CACHE_HOME", xdg, 1);
	char *slug = xasprintf("svctest-%ld", (long)getpid());
	struct dindcache_slot a = {.lock_fd = -1}, b = {.lock_fd = -1}, c2 = {.lock_fd = -1};
	struct err err = ERR_INIT;
	assert_int_equal(dindcache_acquire(E.c, slug, &a, &err), 0);
	assert_int_equal(dindcache_acquire(E.c, slug, &b, &err), 0);
	char *v0 = xasprintf("runnel-dind-cache-%s-0", slug);
	char *v1 = xasprintf("runnel-dind-cache-%s-1", slug);
	assert_string_equal(a.volume, v0);
	assert_string_equal(b.volume, v1);
	dindcache_release(&a);
	assert_int_equal(dindcache_acquire(E.c, slug, &c2, &err), 0);
	assert_string_equal(c2.volume, v0);
	dindcache_release(&b);
	dindcache_release(&c2);
	unsigned removed = 0;
	assert_int_equal(dindcache_clear(E.c, &removed, &err), 0);
	assert_true(removed >= 2);
	struct strvec ids = STRVEC_INIT;
	assert_int_equal(docker_list_by_label(E.c, "volumes", "runnel.dind-cache=1", &ids, &err),
	                 0);
	assert_int_equal(strvec_find(&ids, v0), -1);
	strvec_release(&ids);
	unsetenv("XDG_CACHE_HOME");
	free(xdg), free(slug), free(v0), free(v1);
}

/* ---- issue 4: --lenient, CI_DEBUG_SERVICES, allowed_privileged_services ---- */

static void test_lenient_certdir(void **state)
{
	(void)state;
	char *al[] = {"docker", "dind", NULL};
	/* 2375 against a TLS daemon: TLS off */
	assert_string_equal(services_lenient_certdir("tcp://docker:2375", al, "/certs"), "");
	assert_string_equal(services_lenient_certdir("tcp://dind:2375/", al, "/x"), "");
	/* 2376 against a plain daemon: TLS on, the image's default directory */
	assert_string_equal(services_lenient_certdir("tcp://docker:2376", al, ""), "/certs");
	/* already matching, another host, another port, no DOCKER_HOST: nothing to fix */
	assert_null(services_lenient_certdir("tcp://docker:2375", al, ""));
	assert_null(services_lenient_certdir("tcp://docker:2376", al, "/certs"));
	assert_null(services_lenient_certdir("tcp://other:2375", al, "/certs"));
	assert_null(services_lenient_certdir("tcp://docker:1234", al, "/certs"));
	assert_null(services_lenient_certdir("unix:///var/run/docker.sock", al, "/certs"));
	assert_null(services_lenient_certdir(NULL, al, "/certs"));
	assert_null(services_lenient_certdir("tcp://docker:2375", NULL, "/certs"));
}

static void test_debug_enabled(void **state)
{
	(void)state;
	struct arena a;
	arena_init(&a);
	struct var_list vars = {0};
	assert_false(services_debug_enabled(NULL));
	assert_false(services_debug_enabled(&vars));
	var_list_set_kv(&a, &vars, "CI_DEBUG_SERVICES", "false");
	assert_false(services_debug_enabled(&vars));
	var_list_set_kv(&a, &vars, "CI_DEBUG_SERVICES", "TRUE");
	assert_true(services_debug_enabled(&vars));
	var_list_set_kv(&a, &vars, "CI_DEBUG_SERVICES", "1");
	assert_true(services_debug_enabled(&vars));
	var_list_set_kv(&a, &vars, "CI_DEBUG_SERVICES", "yes please");
	assert_false(services_debug_enabled(&vars));
	arena_release(&a); /* the list lives in the arena */
}

static void test_diag_lenient_hints(void **state)
{
	(void)state;
	struct services_diag_svc v[] = {dind(true, true)};
	char *m = diagnose(v, 1, refused_2375);
	assert_non_null(strstr(m, "`runnel run --lenient` gets past this by starting the service "
	                          "without TLS"));
	free(m);
	struct services_diag_svc w[] = {dind(false, true)};
	m = diagnose(w, 1,
	             "Cannot connect to the Docker daemon at tcp://docker:2376. Is the "
	             "docker daemon running?\n");
	assert_non_null(strstr(m, "listens without TLS on tcp://docker:2375"));
	assert_non_null(strstr(m, "`runnel run --lenient` gets past this by starting the service "
	                          "with TLS"));
	free(m);
	/* a push without login */
	m = diagnose(w, 1,
	             "The push refers to repository [172.17.0.1:4000/g/p]\n"
	             "no basic auth credentials\n");
	assert_non_null(strstr(m, "without `docker login`"));
	assert_non_null(strstr(m, "docker login -u \"$CI_REGISTRY_USER\" --password-stdin"));
	assert_non_null(strstr(m, "`runnel run --registry --lenient` gets past this"));
	free(m);
}

/* The job failed on something else first, but its DOCKER_HOST contradicts the daemon. */
static void test_diag_docker_host_fallback(void **state)
{
	(void)state;
	struct services_diag_svc v[] = {dind(true, true)};
	const char *tail = "Get \"https://172.17.0.1:4000/v2/\": http: server gave HTTP response "
	                   "to HTTPS client\n";
	char *m = diagnose(v, 1, tail);
	assert_string_equal(m, ""); /* nothing known about DOCKER_HOST: no guess */
	free(m);
	v[0].docker_host_port = 2375;
	m = diagnose(v, 1, tail);
	assert_non_null(strstr(m, "listens with TLS on tcp://docker:2376, not on port 2375"));
	assert_non_null(strstr(m, "--lenient"));
	free(m);
	v[0].docker_host_port = 2376; /* matches: nothing to say */
	m = diagnose(v, 1, tail);
	assert_string_equal(m, "");
	free(m);
}

static void test_diag_docker_hub(void **state)
{
	(void)state;
	struct services_diag_svc v[] = {dind(false, true)};
	const char *tail = "The push refers to repository [docker.io/library/myapp]\n"
	                   "Get \"https://registry-1.docker.io/v2/\": dial tcp: lookup "
	                   "registry-1.docker.io on 10.0.0.1:53: no such host\n";
	char *m = diagnose(v, 1, tail);
	assert_true(
	    !strncmp(m, "the name 'registry-1.docker.io' does not resolve in the job: ", 61));
	assert_non_null(strstr(m, "Docker Hub (docker.io), which runnel cannot reach offline"));
	assert_non_null(strstr(m, "--lenient included"));
	assert_null(strstr(m, "gets past this"));
	free(m);
	/* another unresolvable name stays the DNS diagnosis */
	m = diagnose(v, 1, "dial tcp: lookup db on 127.0.0.11:53: no such host\n");
	assert_non_null(strstr(m, "the name 'db' does not resolve"));
	assert_null(strstr(m, "Docker Hub"));
	free(m);
}

static void test_diag_privileged_filtered(void **state)
{
	(void)state;
	struct services_diag_svc v[] = {dind(false, false)};
	v[0].died = true;
	v[0].exit_code = 1;
	v[0].log_tail = "mount: permission denied (are you root?)\n";
	v[0].privileged_filtered = true;
	char *m = diagnose(v, 1, refused_2375);
	assert_non_null(strstr(m, "matches no pattern of allowed_privileged_services"));
	assert_null(strstr(m, "run with --privileged"));
	free(m);
}

static void test_registry_needs_login(void **state)
{
	(void)state;
	struct arena a;
	arena_init(&a);
	struct var_list vars = {0};
	var_list_set_kv(&a, &vars, "CI_REGISTRY", "172.17.0.1:4000");
	var_list_set_kv(&a, &vars, "CI_REGISTRY_IMAGE", "172.17.0.1:4000/g/p");
	/* job variables arrive expanded (exec_job_ctx.vars) */
	var_list_set_kv(&a, &vars, "IMAGE_TAG", "172.17.0.1:4000/g/p:abc");
	const char *push[] = {"docker build -t $CI_REGISTRY_IMAGE .",
	                      "docker push $CI_REGISTRY_IMAGE"};
	assert_true(registry_script_needs_login(push, 2, &vars, "172.17.0.1:4000"));
	/* through another variable; without variables nothing names the registry */
	const char *pull[] = {"docker pull $IMAGE_TAG"};
	assert_true(registry_script_needs_login(pull, 1, &vars, "172.17.0.1:4000"));
	assert_false(registry_script_needs_login(pull, 1, NULL, "172.17.0.1:4000"));
	const char *pull2[] = {"docker image pull ${CI_REGISTRY_IMAGE}:x"};
	assert_true(registry_script_needs_login(pull2, 1, &vars, "172.17.0.1:4000"));
	/* a login anywhere: nothing to do */
	const char *login[] = {"docker login -u u -p p $CI_REGISTRY",
	                       "docker push $CI_REGISTRY_IMAGE"};
	assert_false(registry_script_needs_login(login, 2, &vars, "172.17.0.1:4000"));
	/* Docker Hub: not ours to fix */
	const char *hub[] = {"docker build -t myapp .", "docker push myapp"};
	assert_false(registry_script_needs_login(hub, 2, &vars, "172.17.0.1:4000"));
	assert_false(registry_script_needs_login(NULL, 0, &vars, "172.17.0.1:4000"));
	arena_release(&a); /* the list lives in the arena */
}

static void test_registry_auth_config(void **state)
{
	(void)state;
	char *c = registry_auth_config("172.17.0.1:4000", "runnel", "pw");
	json_error_t je;
	json_t *o = json_loads(c, 0, &je);
	assert_non_null(o);
	const char *auth = json_string_value(json_object_get(
	    json_object_get(json_object_get(o, "auths"), "172.17.0.1:4000"), "auth"));
	assert_non_null(auth);
	assert_string_equal(auth, "cnVubmVsOnB3"); /* base64("runnel:pw") */
	json_decref(o);
	free(c);
	c = registry_auth_config("r", "a", "bc"); /* 4 bytes: two '=' of padding */
	assert_non_null(strstr(c, "\"YTpiYw==\""));
	free(c);
	c = registry_auth_config("r", "a", "b");
	assert_non_null(strstr(c, "\"YTpi\""));
	free(c);
	c = registry_auth_config("r", "ab", "cd");
	assert_non_null(strstr(c, "\"YWI6Y2Q=\""));
	free(c);
}

int main(void)
{
	const struct CMUnitTest pure[] = {
	    cmocka_unit_test(test_default_aliases),
	    cmocka_unit_test(test_is_dind),
	    cmocka_unit_test(test_certdir),
	    cmocka_unit_test(test_parse_tcp_host),
	    cmocka_unit_test(test_diag_tls_mismatch),
	    cmocka_unit_test(test_diag_buildkit_dial),
	    cmocka_unit_test(test_diag_privileged),
	    cmocka_unit_test(test_diag_dns),
	    cmocka_unit_test(test_diag_connect_other),
	    cmocka_unit_test(test_diag_died_and_silence),
	    cmocka_unit_test(test_diag_certs),
	    cmocka_unit_test(test_lenient_certdir),
	    cmocka_unit_test(test_debug_enabled),
	    cmocka_unit_test(test_diag_lenient_hints),
	    cmocka_unit_test(test_diag_docker_hub),
	    cmocka_unit_test(test_diag_docker_host_fallback),
	    cmocka_unit_test(test_diag_privileged_filtered),
	    cmocka_unit_test(test_registry_needs_login),
	    cmocka_unit_test(test_registry_auth_config),
	};
	const struct CMUnitTest engine[] = {
	    cmocka_unit_test_setup_teardown(test_eng_redis_ready, each_setup, each_teardown),
	    cmocka_unit_test_setup_teardown(test_eng_exit_reported_at_once, each_setup,
	                                    each_teardown),
	    cmocka_unit_test_setup_teardown(test_eng_timeout_warning, each_setup, each_teardown),
	    cmocka_unit_test_setup_teardown(test_eng_dind_plain, each_setup, each_teardown),
	    cmocka_unit_test_setup_teardown(test_eng_dind_tls, each_setup, each_teardown),
	    cmocka_unit_test_setup_teardown(test_eng_registry, each_setup, each_teardown),
	    cmocka_unit_test(test_eng_dindcache_slots),
	};
	int r = cmocka_run_group_tests_name("services", pure, NULL, NULL);
	const char *e2e = getenv("RUNNEL_SERVICES_E2E");
	if (e2e && *e2e == '1')
		r |=
		    cmocka_run_group_tests_name("services-engine", engine, eng_setup, eng_teardown);
	return r;
}
