/* Tests for runner/api.c against the coordinator test server (tests/servers/gitlab-coordinator.py)
 * run as its own process on 127.0.0.1: registration and token checks, asking for jobs with
 * long polling, the trace with a 416 in the middle, the final state with its checksum and 202
 * retries, and every fault the server injects. The server checks each request (tokens in the
 * right header, Content-Range continuity, the checksum) and the tests assert it found no
 * problem. Skips (77) without python3. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "payload/payload-json.h"
#include "payload/payload.h"
#include "runner/api.h"
#include "runner/http.h"
#include "runner/system-id.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/fsutil.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

#define RUNNER_TOKEN "glrt-test-runner-token-0001"
#define REG_TOKEN "GR1348941-legacy-registration"

static struct {
	char dir[64];
	pid_t pid;
	char url[64];
} srv;

static void stop_server(void)
{
	if (srv.pid > 0) {
		kill(srv.pid, SIGTERM);
		waitpid(srv.pid, NULL, 0);
		srv.pid = 0;
		_cleanup_free_ char *cmd = xasprintf("rm -rf '%s'", srv.dir);
		assert_int_equal(system(cmd), 0);
	}
}

/* Starts the server with extra arguments (NULL-terminated) and waits for its port file. */
static void start_server(const char *const *extra)
{
	stop_server();
	const char *src = getenv("RUNNEL_SRCDIR");
	_cleanup_free_ char *script =
	    xasprintf("%s/tests/servers/gitlab-coordinator.py", src ? src : ".");
	snprintf(srv.dir, sizeof(srv.dir), "/tmp/runnel-coord-XXXXXX");
	assert_non_null(mkdtemp(srv.dir));
	const char *argv[32] = {"python3",        script,       "--state-dir",          srv.dir,
	                        "--runner-token", RUNNER_TOKEN, "--registration-token", REG_TOKEN,
	                        "--long-poll",    "30",         "--update-interval",    "1"};
	size_t n = 12;
	for (size_t i = 0; extra && extra[i] && n < 31; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
	srv.pid = fork();
	assert_true(srv.pid >= 0);
	if (srv.pid == 0) {
		execvp("python3", (char *const *)argv);
		_exit(127);
	}
	_cleanup_free_ char *port_file = xasprintf("%s/port", srv.dir);
	struct strbuf port = STRBUF_INIT;
	/* bounded wait for start-up; not an assertion on its speed */
	for (int i = 0; i < 400 && fs_read_file(port_file, 0, 64, &port) != 0; i++) {
		struct timespec ts = {0, 25 * 1000 * 1000};
		nanosleep(&ts, NULL);
		strbuf_reset(&port);
	}
	assert_true(port.len > 0);
	snprintf(srv.url, sizeof(srv.url), "http://127.0.0.1:%s/", port.buf);
	strbuf_release(&port);
}

/* GET or POST /_control/<what>; returns the parsed answer (owned). */
static json_t *control(const char *method, const char *what, const char *body)
{
	_cleanup_free_ char *url = xasprintf("%s_control/%s", srv.url, what);
	struct rhttp_req rq = {.method = method,
	                       .url = url,
	                       .user_agent = "test",
	                       .content_type = body ? "application/json" : NULL,
	                       .body = body,
	                       .body_len = body ? strlen(body) : 0};
	struct rhttp_resp r;
	rhttp_resp_init(&r);
	struct err err = ERR_INIT;
	assert_int_equal(rhttp_do(&rq, &r, &err), 0);
	assert_int_equal(r.status, 200);
	json_t *j = json_loadb(r.body.buf, r.body.len, 0, NULL);
	assert_non_null(j);
	rhttp_resp_release(&r);
	return j;
}

static void assert_no_problems(void)
{
	json_t *st = control("GET", "state", NULL);
	json_t *p = json_object_get(st, "problems");
	if (json_array_size(p)) {
		char *t = json_dumps(p, JSON_INDENT(1));
		fail_msg("the server found problems: %s", t);
	}
	json_decref(st);
}

static const char *const job_json = "{\"id\": 1, \"token\": \"x\", \"job_info\": {\"name\": "
                                    "\"build\", \"stage\": \"test\"}, \"steps\": [{\"name\": "
                                    "\"script\", \"script\": [\"echo hi\"], \"timeout\": 3600, "
                                    "\"when\": \"on_success\", \"allow_failure\": false}], "
                                    "\"features\": {\"failure_reasons\": [\"script_failure\"]}}";

static struct runner_api *new_api(long poll_timeout)
{
	struct runner_api_opts o = {.url = srv.url,
	                            .system_id = "s_0123456789ab",
	                            .version = "1.0",
	                            .revision = "abc",
	                            .executor = "docker",
	                            .poll_timeout_s = poll_timeout};
	return runner_api_new(&o);
}

static int setup(void **state)
{
	(void)state;
	if (system("python3 -c 'import http.server' >/dev/null 2>&1") != 0)
		return -1;
	start_server(NULL);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	stop_server();
	return 0;
}

static void test_verify_register_unregister(void **state)
{
	(void)state;
	struct runner_api *a = new_api(0);
	struct err err = ERR_INIT;
	struct runner_token_info ti;
	assert_int_equal(runner_api_verify(a, RUNNER_TOKEN, &ti, &err), 0);
	assert_int_equal(ti.id, 100);
	assert_string_equal(ti.token, RUNNER_TOKEN);
	runner_token_info_release(&ti);

	assert_int_equal(runner_api_verify(a, "glrt-wrong-secret", &ti, &err), -1);
	assert_non_null(strstr(err.msg, "POST http://127.0.0.1:"));
	assert_non_null(strstr(err.msg, "/api/v4/runners/verify: HTTP 403: 403 Forbidden"));
	assert_null(strstr(err.msg, "wrong-secret"));
	err_release(&err);

	struct runner_register rg = {.registration_token = REG_TOKEN,
	                             .description = "ci-1",
	                             .tag_list = "docker,linux",
	                             .run_untagged = true,
	                             .locked = false,
	                             .access_level = "ref_protected",
	                             .maximum_timeout = 3600};
	assert_int_equal(runner_api_register(a, &rg, &ti, &err), 0);
	assert_int_equal(strlen(ti.token), 20);
	assert_string_equal(ti.token_expires_at, "2027-12-04T00:00:00Z");
	json_t *st = control("GET", "state", NULL);
	json_t *r = json_object_get(json_object_get(st, "runners"), ti.token);
	assert_non_null(r);
	assert_string_equal(json_string_value(json_object_get(r, "description")), "ci-1");
	assert_string_equal(json_string_value(json_array_get(json_object_get(r, "tags"), 1)),
	                    "linux");
	assert_true(json_is_true(json_object_get(r, "run_untagged")));
	assert_string_equal(json_string_value(json_object_get(r, "access_level")), "ref_protected");
	assert_int_equal(json_integer_value(json_object_get(r, "maximum_timeout")), 3600);
	assert_string_equal(json_string_value(json_array_get(json_object_get(r, "system_ids"), 0)),
	                    "s_0123456789ab");
	json_decref(st);

	rg.registration_token = "GR-wrong";
	struct runner_token_info bad;
	assert_int_equal(runner_api_register(a, &rg, &bad, &err), -1);
	assert_non_null(strstr(err.msg, "registration token is invalid"));
	err_release(&err);

	assert_int_equal(runner_api_unregister(a, ti.token, &err), 0);
	assert_int_equal(runner_api_unregister(a, ti.token, &err), -1);
	assert_non_null(strstr(err.msg, "DELETE"));
	assert_non_null(strstr(err.msg, "HTTP 403"));
	err_release(&err);
	runner_token_info_release(&ti);
	assert_no_problems();
	runner_api_free(a);
}

static void *enqueue_later(void *arg)
{
	(void)arg;
	struct timespec ts = {0, 300 * 1000 * 1000};
	nanosleep(&ts, NULL);
	json_decref(control("POST", "enqueue", job_json));
	return NULL;
}

static void test_request_long_poll(void **state)
{
	(void)state;
	struct runner_api *a = new_api(0);
	struct err err = ERR_INIT;
	char *last = NULL, *job = NULL;
	/* no job, no last_update: an answer at once with the queue's version */
	assert_int_equal(runner_api_request_job(a, RUNNER_TOKEN, &last, &job, &err),
	                 RUNNER_REQUEST_NONE);
	assert_non_null(last);
	/* with the current version the server holds the request until a job is queued */
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, enqueue_later, NULL), 0);
	assert_int_equal(runner_api_request_job(a, RUNNER_TOKEN, &last, &job, &err),
	                 RUNNER_REQUEST_JOB);
	pthread_join(th, NULL);
	struct payload *pl = payload_from_json(job, strlen(job), &err);
	assert_non_null(pl);
	assert_true(pl->id >= 1000);
	assert_int_equal(strncmp(pl->token, "glcbt-", 6), 0);
	payload_free(pl);
	free(job);
	job = NULL;

	/* the log shows last_update sent the second time, and the runner token in the header */
	json_t *st = control("GET", "state", NULL);
	assert_string_equal(json_string_value(json_object_get(
	                        json_array_get(json_object_get(st, "jobs"), 0), "status")),
	                    "running");
	json_decref(st);
	assert_int_equal(runner_api_request_job(a, "glrt-unknown", &last, &job, &err),
	                 RUNNER_REQUEST_FORBIDDEN);
	assert_non_null(strstr(err.msg, "HTTP 403"));
	err_release(&err);
	free(last);
	assert_no_problems();
	runner_api_free(a);
}

static void test_request_faults(void **state)
{
	(void)state;
	struct runner_api *a = new_api(2);
	struct err err = ERR_INIT;
	char *last = NULL, *job = NULL;
	json_decref(control("POST", "enqueue", job_json));
	json_decref(control("POST", "fault?name=request-409", NULL));
	assert_int_equal(runner_api_request_job(a, RUNNER_TOKEN, &last, &job, &err),
	                 RUNNER_REQUEST_CONFLICT);
	json_decref(control("POST", "fault?name=request-503&n=2", NULL));
	for (int i = 0; i < 2; i++) {
		assert_int_equal(runner_api_request_job(a, RUNNER_TOKEN, &last, &job, &err),
		                 RUNNER_REQUEST_UNAVAILABLE);
		assert_non_null(strstr(err.msg, "HTTP 503"));
		err_release(&err);
	}
	json_decref(control("POST", "fault?name=drop", NULL));
	assert_int_equal(runner_api_request_job(a, RUNNER_TOKEN, &last, &job, &err),
	                 RUNNER_REQUEST_UNAVAILABLE);
	assert_non_null(strstr(err.msg, "POST http://127.0.0.1:"));
	err_release(&err);
	/* a held request the server never answers ends at the client's bound */
	json_decref(control("POST", "fault?name=hang-poll", NULL));
	assert_int_equal(runner_api_request_job(a, RUNNER_TOKEN, &last, &job, &err),
	                 RUNNER_REQUEST_UNAVAILABLE);
	if (!strstr(err.msg, "timed out"))
		fail_msg("%s", err.msg);
	err_release(&err);
	/* after the faults the job is still there */
	assert_int_equal(runner_api_request_job(a, RUNNER_TOKEN, &last, &job, &err),
	                 RUNNER_REQUEST_JOB);
	free(job);
	free(last);
	runner_api_free(a);
}

/* Takes the next job and returns its id and token (owned). */
static long long take_job(struct runner_api *a, char **ret_token)
{
	struct err err = ERR_INIT;
	char *last = NULL, *job = NULL;
	json_decref(control("POST", "enqueue", job_json));
	assert_int_equal(runner_api_request_job(a, RUNNER_TOKEN, &last, &job, &err),
	                 RUNNER_REQUEST_JOB);
	struct payload *pl = payload_from_json(job, strlen(job), &err);
	assert_non_null(pl);
	long long id = pl->id;
	*ret_token = xstrdup(pl->token);
	payload_free(pl);
	free(job);
	free(last);
	return id;
}

static void test_trace_and_finish(void **state)
{
	(void)state;
	start_server(NULL); /* a fresh queue */
	struct runner_api *a = new_api(0);
	struct err err = ERR_INIT;
	_cleanup_free_ char *tok = NULL;
	long long id = take_job(a, &tok);
	struct runner_job_reply rep;
	struct runner_job_update acc = {.state = "running"};
	assert_int_equal(runner_api_update(a, id, tok, &acc, &rep, &err), 0);
	assert_int_equal(rep.status, 200);
	assert_string_equal(rep.job_status, "running");

	const char *chunks[] = {"$ echo hi\n", "hi\n", "section_end:1:step_script\r\n"};
	struct strbuf all = STRBUF_INIT;
	long long off = 0;
	json_decref(control("POST", "fault?name=trace-416", NULL));
	for (size_t i = 0; i < 3; i++) {
		strbuf_addstr(&all, chunks[i]);
		/* send everything GitLab does not hold yet, as the trace sender will */
		assert_int_equal(
		    runner_api_trace_flush(a, id, tok, all.buf, all.len, &off, &rep, &err), 0);
		assert_int_equal(rep.status, 202);
		assert_int_equal(off, (long long)all.len);
		assert_int_equal(rep.remote_size, (long long)all.len);
		assert_int_equal(rep.update_interval_s, 1);
	}
	/* the 416 really happened: GitLab was sent some bytes twice */
	_cleanup_free_ char *log_path = xasprintf("%s/requests.log", srv.dir);
	struct strbuf log = STRBUF_INIT;
	assert_int_equal(fs_read_file(log_path, 0, 1u << 24, &log), 0);
	assert_non_null(strstr(log.buf, "\"status\": 416"));
	strbuf_release(&log);
	json_decref(control("POST", "fault?name=finish-202&n=2", NULL));
	struct runner_job_update fin = {.state = "failed",
	                                .failure_reason = "script_failure",
	                                .exit_code = 3,
	                                .has_exit_code = true,
	                                .crc32 = runner_crc32(0, all.buf, all.len),
	                                .bytesize = (long long)all.len,
	                                .has_output = true};
	assert_int_equal(runner_api_finish(a, id, tok, &fin, 5, &err), 0);
	json_t *st = control("GET", "state", NULL);
	json_t *job = json_array_get(json_object_get(st, "jobs"), 0);
	assert_string_equal(json_string_value(json_object_get(job, "trace")), all.buf);
	assert_string_equal(json_string_value(json_object_get(job, "status")), "failed");
	json_t *final = json_object_get(job, "final");
	assert_int_equal(json_integer_value(json_object_get(final, "exit_code")), 3);
	assert_string_equal(json_string_value(json_object_get(final, "failure_reason")),
	                    "script_failure");
	/* accept + 2 refused final PUTs + the accepted one */
	assert_int_equal(json_array_size(json_object_get(job, "updates")), 4);
	json_decref(st);
	assert_no_problems();

	/* the job is finished: another PUT is refused and finish gives up at once */
	assert_int_equal(runner_api_finish(a, id, tok, &fin, 5, &err), -1);
	assert_non_null(strstr(err.msg, "HTTP 403"));
	assert_non_null(strstr(err.msg, "giving up"));
	err_release(&err);
	strbuf_release(&all);
	runner_api_free(a);
}

/* 409 on accept (another manager took the job) and a cancel GitLab announces in Job-Status. */
static void test_accept_conflict_and_cancel(void **state)
{
	(void)state;
	struct runner_api *a = new_api(0);
	struct err err = ERR_INIT;
	_cleanup_free_ char *tok = NULL;
	long long id = take_job(a, &tok);
	json_decref(control("POST", "fault?name=accept-409", NULL));
	struct runner_job_reply rep;
	struct runner_job_update acc = {.state = "running"};
	assert_int_equal(runner_api_update(a, id, tok, &acc, &rep, &err), 0);
	assert_int_equal(rep.status, 409);
	_cleanup_free_ char *cancel = xasprintf("cancel?id=%lld", id);
	json_decref(control("POST", cancel, NULL));
	assert_int_equal(runner_api_trace(a, id, tok, 0, "log\n", 4, &rep, &err), 0);
	assert_int_equal(rep.status, 202);
	assert_string_equal(rep.job_status, "canceling");
	assert_int_equal(runner_api_update(a, id, tok, &acc, &rep, &err), 0);
	assert_string_equal(rep.job_status, "canceling");
	_cleanup_free_ char *canceled = xasprintf("cancel?id=%lld&status=canceled", id);
	json_decref(control("POST", canceled, NULL));
	assert_int_equal(runner_api_trace(a, id, tok, 4, "more", 4, &rep, &err), 0);
	assert_int_equal(rep.status, 403);
	assert_string_equal(rep.job_status, "canceled");
	assert_no_problems();
	runner_api_free(a);
}

static void test_revoked_job_token(void **state)
{
	(void)state;
	struct runner_api *a = new_api(0);
	struct err err = ERR_INIT;
	_cleanup_free_ char *tok = NULL;
	long long id = take_job(a, &tok);
	_cleanup_free_ char *rv = xasprintf("revoke?token=%s", tok);
	json_decref(control("POST", rv, NULL));
	struct runner_job_reply rep;
	assert_int_equal(runner_api_trace(a, id, tok, 0, "x", 1, &rep, &err), 0);
	assert_int_equal(rep.status, 403);
	struct runner_job_update fin = {.state = "success", .has_output = true};
	assert_int_equal(runner_api_finish(a, id, tok, &fin, 3, &err), -1);
	assert_null(strstr(err.msg, tok));
	err_release(&err);
	runner_api_free(a);
}

/* A payload `runnel payload JOB --unmask` built from a real project goes through the queue: the
 * server gives it GitLab's id and job token, the client gets it back and the payload parser
 * reads the same job. */
static void test_real_payload_queue(void **state)
{
	(void)state;
	const char *bin = getenv("RUNNEL_BIN");
	if (!bin || access(bin, X_OK) != 0 || system("command -v git >/dev/null") != 0)
		skip();
	char proj[] = "/tmp/runnel-payload-XXXXXX";
	assert_non_null(mkdtemp(proj));
	_cleanup_free_ char *cmd = xasprintf(
	    "cd '%s' && printf 'build:\\n  image: alpine:3\\n  before_script: [echo before]\\n"
	    "  script: [echo hi]\\n' >.gitlab-ci.yml && git init -q && git add . && "
	    "git -c user.email=t@e.st -c user.name=t commit -qm i && "
	    "'%s' payload build --unmask >job.json",
	    proj, bin);
	assert_int_equal(system(cmd), 0);
	_cleanup_free_ char *job_file = xasprintf("%s/job.json", proj);
	const char *extra[] = {"--job", job_file, NULL};
	start_server(extra);
	struct runner_api *a = new_api(0);
	struct err err = ERR_INIT;
	char *last = NULL, *job = NULL;
	assert_int_equal(runner_api_request_job(a, RUNNER_TOKEN, &last, &job, &err),
	                 RUNNER_REQUEST_JOB);
	struct payload *pl = payload_from_json(job, strlen(job), &err);
	if (!pl)
		fail_msg("%s", err.msg);
	assert_int_equal(pl->id, 1000);
	assert_string_equal(pl->job_info.name, "build");
	assert_string_equal(pl->image.name, "alpine:3");
	assert_string_equal(pl->steps[0].name, "script");
	assert_int_equal(pl->steps[0].script.n, 2);
	assert_string_equal(pl->steps[0].script.v[1], "echo hi");
	payload_free(pl);
	free(job);
	free(last);
	runner_api_free(a);
	_cleanup_free_ char *rm = xasprintf("rm -rf '%s'", proj);
	assert_int_equal(system(rm), 0);
}

static void test_helpers(void **state)
{
	(void)state;
	/* the IEEE CRC-32 check value */
	assert_int_equal(runner_crc32(0, "123456789", 9), 0xcbf43926u);
	assert_int_equal(runner_crc32(runner_crc32(0, "1234", 4), "56789", 5), 0xcbf43926u);
	const char *reasons[] = {"script_failure", "runner_system_failure"};
	assert_string_equal(runner_failure_reason("runner_system_failure", reasons, 2),
	                    "runner_system_failure");
	assert_string_equal(runner_failure_reason("image_pull_failure", reasons, 2),
	                    "script_failure");
	assert_string_equal(runner_failure_reason("image_pull_failure", reasons + 1, 1),
	                    "unknown_failure");
	assert_string_equal(runner_failure_reason("image_pull_failure", NULL, 0),
	                    "image_pull_failure");
	/* system_id: HMAC-SHA256(machine id, "gitlab-runner"), first 12 hex digits */
	_cleanup_free_ char *sid = runner_system_id_from_machine_id("0123456789abcdef\n");
	assert_int_equal(strlen(sid), 14);
	assert_true(runner_system_id_valid(sid));
	assert_int_equal(strncmp(sid, "s_", 2), 0);
	_cleanup_free_ char *r = runner_system_id_random();
	assert_true(runner_system_id_valid(r));
	assert_int_equal(strncmp(r, "r_", 2), 0);
	assert_null(runner_system_id_from_machine_id(" \n"));
	char dir[] = "/tmp/runnel-sid-XXXXXX";
	assert_non_null(mkdtemp(dir));
	_cleanup_free_ char *cfg = xasprintf("%s/config.toml", dir);
	int saved = 0;
	struct err err = ERR_INIT;
	_cleanup_free_ char *one = runner_system_id_load(cfg, &saved, &err);
	assert_true(saved);
	_cleanup_free_ char *two = runner_system_id_load(cfg, &saved, &err);
	assert_string_equal(one, two);
	_cleanup_free_ char *state_file = xasprintf("%s/.runner_system_id", dir);
	unlink(state_file);
	rmdir(dir);
	struct runner_api *a = new_api(0);
	_cleanup_free_ char *info = runner_api_info_json(a);
	assert_non_null(strstr(info, "\"executor\": \"docker\""));
	assert_non_null(strstr(info, "\"trace_checksum\": true"));
	assert_null(strstr(info, "\"session\""));
	assert_int_equal(strncmp(runner_api_user_agent(a), "runnel 1.0 (abc; ", 17), 0);
	runner_api_free(a);
}

int main(void)
{
	if (system("command -v python3 >/dev/null 2>&1") != 0) {
		printf("1..0 # SKIP python3 not found\n");
		return 77;
	}
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_helpers),
	    cmocka_unit_test(test_verify_register_unregister),
	    cmocka_unit_test(test_request_long_poll),
	    cmocka_unit_test(test_request_faults),
	    cmocka_unit_test(test_trace_and_finish),
	    cmocka_unit_test(test_accept_conflict_and_cancel),
	    cmocka_unit_test(test_revoked_job_token),
	    cmocka_unit_test(test_real_payload_queue),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
