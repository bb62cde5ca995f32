/* api: see api.h. Bodies are built with jansson; the runner token goes in the body as `token`
 * and in the RUNNER-TOKEN header, a job token in the JOB-TOKEN header (and the body of PUT), as
 * gitlab-runner sends them. An error names the method, the URL (which never holds a token),
 * the status and GitLab's own message. */
#include "runner/api.h"

#include <assert.h>
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>

#include "runner/http.h"
#include "util/cleanup.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

#define MAX_TRACE_PATCH (1u << 20)
#define DEFAULT_POLL_TIMEOUT_S 90
#define CALL_TIMEOUT_S 60

struct runner_api {
	char *base; /* "<url>/api/v4" */
	char *ca_file, *system_id, *version, *revision, *executor, *name;
	char *user_agent;
	long poll_timeout_s;
};

static void jx_decref_p(json_t **j)
{
	json_decref(*j);
}
#define _cleanup_json_ _cleanup_(jx_decref_p)

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

static const char *arch_name(void)
{
	struct utsname u;
	if (uname(&u) < 0)
		return "unknown";
	if (!strcmp(u.machine, "x86_64"))
		return "amd64";
	if (!strcmp(u.machine, "aarch64"))
		return "arm64";
	return u.machine[0] == 'i' ? "386" : "unknown";
}

struct runner_api *runner_api_new(const struct runner_api_opts *o)
{
	struct runner_api *a = xcalloc(1, sizeof(*a));
	size_t n = strlen(o->url);
	while (n && o->url[n - 1] == '/')
		n--;
	a->base = xasprintf("%.*s/api/v4", (int)n, o->url);
	a->ca_file = dup_or_null(o->ca_file);
	a->system_id = dup_or_null(o->system_id);
	a->version = xstrdup(o->version ? o->version : "unknown");
	a->revision = xstrdup(o->revision ? o->revision : "unknown");
	a->executor = xstrdup(o->executor ? o->executor : "docker");
	a->name = dup_or_null(o->name);
	a->poll_timeout_s = o->poll_timeout_s > 0 ? o->poll_timeout_s : DEFAULT_POLL_TIMEOUT_S;
	a->user_agent =
	    xasprintf("runnel %s (%s; c17; linux/%s)", a->version, a->revision, arch_name());
	return a;
}

void runner_api_free(struct runner_api *a)
{
	if (!a)
		return;
	free(a->base);
	free(a->ca_file);
	free(a->system_id);
	free(a->version);
	free(a->revision);
	free(a->executor);
	free(a->name);
	free(a->user_agent);
	free(a);
}

const char *runner_api_user_agent(const struct runner_api *a)
{
	return a->user_agent;
}

/* The features runnel's executors implement (docs/internals/runner.md lists them and why the
 * others are off). A job needing one that is not announced fails as runner_unsupported on
 * GitLab's side instead of running wrong here. */
static json_t *features(const struct runner_api *a)
{
	static const char *const common[] = {
	    "variables",
	    "artifacts",
	    "cache",
	    "fallback_cache_keys",
	    "upload_multiple_artifacts",
	    "upload_raw_artifacts",
	    "refspecs",
	    "masking",
	    "raw_variables",
	    "artifacts_exclude",
	    "multi_build_steps",
	    "trace_reset",
	    "trace_checksum",
	    "trace_size",
	    "cancelable",
	    "return_exit_code",
	    "cancel_gracefully",
	};
	static const char *const docker_only[] = {"image", "services", "service_variables",
	                                          "service_multiple_aliases"};
	json_t *f = json_object();
	for (size_t i = 0; i < sizeof(common) / sizeof(common[0]); i++)
		json_object_set_new(f, common[i], json_true());
	bool docker = !strcmp(a->executor, "docker");
	for (size_t i = 0; i < sizeof(docker_only) / sizeof(docker_only[0]); i++)
		json_object_set_new(f, docker_only[i], json_boolean(docker));
	return f;
}

static json_t *info_object(const struct runner_api *a)
{
	json_t *info = json_object();
	if (a->name)
		json_object_set_new(info, "name", json_string(a->name));
	else
		json_object_set_new(info, "name", json_string("runnel"));
	json_object_set_new(info, "version", json_string(a->version));
	json_object_set_new(info, "revision", json_string(a->revision));
	json_object_set_new(info, "platform", json_string("linux"));
	json_object_set_new(info, "architecture", json_string(arch_name()));
	json_object_set_new(info, "executor", json_string(a->executor));
	json_object_set_new(info, "shell",
	                    json_string(!strcmp(a->executor, "shell") ? "bash" : "sh"));
	json_object_set_new(info, "features", features(a));
	return info;
}

char *runner_api_info_json(const struct runner_api *a)
{
	_cleanup_json_ json_t *info = info_object(a);
	return json_dumps(info, JSON_SORT_KEYS);
}

void runner_token_info_release(struct runner_token_info *t)
{
	free(t->token);
	free(t->token_expires_at);
	t->token = t->token_expires_at = NULL;
}

/* A JSON body with token, system_id and info, plus what the caller adds. */
static json_t *base_body(const struct runner_api *a, const char *token)
{
	json_t *b = json_object();
	json_object_set_new(b, "token", json_string(token));
	if (a->system_id)
		json_object_set_new(b, "system_id", json_string(a->system_id));
	json_object_set_new(b, "info", info_object(a));
	return b;
}

/* GitLab's message from an error body ({"message": ...} or {"error": ...}), else the body
 * itself, shortened; never more than 200 bytes. */
static void server_said(const struct rhttp_resp *r, struct strbuf *out)
{
	json_t *j = json_loadb(r->body.buf, r->body.len, 0, NULL);
	json_t *m = j ? json_object_get(j, "message") : NULL;
	if (!m && j)
		m = json_object_get(j, "error");
	_cleanup_free_ char *text = NULL;
	if (m && json_is_string(m))
		text = xstrdup(json_string_value(m));
	else if (m)
		text = json_dumps(m, JSON_COMPACT);
	else
		text = xstrndup(r->body.buf, r->body.len);
	json_decref(j);
	for (char *p = text; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	if (*text)
		strbuf_addf(out, ": %.200s", text);
}

static int status_error(const char *method, const char *url, const struct rhttp_resp *r,
                        const char *hint, struct err *err)
{
	_cleanup_(strbuf_release) struct strbuf sb = STRBUF_INIT;
	server_said(r, &sb);
	return err_set(err, r->status >= 500 ? ERR_ENV : ERR_CONFIG, "%s %s: HTTP %ld%s%s%s",
	               method, url, r->status, sb.buf, hint ? ": " : "", hint ? hint : "");
}

/* A JSON call; resp receives the answer. */
static int call_json(struct runner_api *a, const char *method, const char *path, json_t *body,
                     const char *const *headers, long timeout_s, struct rhttp_resp *resp,
                     struct err *err)
{
	_cleanup_free_ char *url = xasprintf("%s%s", a->base, path);
	_cleanup_free_ char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	struct rhttp_req rq = {
	    .method = method,
	    .url = url,
	    .content_type = text ? "application/json" : NULL,
	    .body = text,
	    .body_len = text ? strlen(text) : 0,
	    .headers = headers,
	    .user_agent = a->user_agent,
	    .ca_file = a->ca_file,
	    .timeout_s = timeout_s ? timeout_s : CALL_TIMEOUT_S,
	};
	return rhttp_do(&rq, resp, err);
}

/* {id, token, token_expires_at} of a verify or register answer. */
static void read_token_info(const struct rhttp_resp *r, const char *sent,
                            struct runner_token_info *ret)
{
	memset(ret, 0, sizeof(*ret));
	_cleanup_json_ json_t *j = json_loadb(r->body.buf, r->body.len, 0, NULL);
	json_t *v;
	if (j && json_is_integer(v = json_object_get(j, "id")))
		ret->id = json_integer_value(v);
	if (j && json_is_string(v = json_object_get(j, "token")))
		ret->token = xstrdup(json_string_value(v));
	else if (sent)
		ret->token = xstrdup(sent);
	if (j && json_is_string(v = json_object_get(j, "token_expires_at")))
		ret->token_expires_at = xstrdup(json_string_value(v));
}

int runner_api_verify(struct runner_api *a, const char *token, struct runner_token_info *ret,
                      struct err *err)
{
	_cleanup_json_ json_t *body = base_body(a, token);
	_cleanup_free_ char *hdr = xasprintf("RUNNER-TOKEN: %s", token);
	const char *headers[] = {hdr, NULL};
	_cleanup_(rhttp_resp_release) struct rhttp_resp r;
	rhttp_resp_init(&r);
	if (call_json(a, "POST", "/runners/verify", body, headers, 0, &r, err) < 0)
		return -1;
	if (r.status == 200 || r.status == 201) {
		read_token_info(&r, token, ret);
		return 0;
	}
	_cleanup_free_ char *url = xasprintf("%s/runners/verify", a->base);
	return status_error(
	    "POST", url, &r,
	    r.status == 403 ? "the runner token is invalid or the runner was removed" : NULL, err);
}

int runner_api_register(struct runner_api *a, const struct runner_register *rg,
                        struct runner_token_info *ret, struct err *err)
{
	_cleanup_json_ json_t *body = base_body(a, rg->registration_token);
	if (rg->description)
		json_object_set_new(body, "description", json_string(rg->description));
	if (rg->tag_list)
		json_object_set_new(body, "tag_list", json_string(rg->tag_list));
	json_object_set_new(body, "run_untagged", json_boolean(rg->run_untagged));
	json_object_set_new(body, "locked", json_boolean(rg->locked));
	json_object_set_new(body, "paused", json_boolean(rg->paused));
	if (rg->access_level)
		json_object_set_new(body, "access_level", json_string(rg->access_level));
	if (rg->maximum_timeout > 0)
		json_object_set_new(body, "maximum_timeout", json_integer(rg->maximum_timeout));
	if (rg->maintenance_note)
		json_object_set_new(body, "maintenance_note", json_string(rg->maintenance_note));
	_cleanup_(rhttp_resp_release) struct rhttp_resp r;
	rhttp_resp_init(&r);
	if (call_json(a, "POST", "/runners", body, NULL, 0, &r, err) < 0)
		return -1;
	if (r.status == 201) {
		read_token_info(&r, NULL, ret);
		if (ret->token)
			return 0;
		runner_token_info_release(ret);
	}
	_cleanup_free_ char *url = xasprintf("%s/runners", a->base);
	if (r.status == 201)
		return err_set(err, ERR_ENV, "POST %s: HTTP 201 without a runner token", url);
	return status_error("POST", url, &r,
	                    r.status == 403 ? "the registration token is invalid" : NULL, err);
}

static int delete_call(struct runner_api *a, const char *path, const char *token,
                       bool with_system_id, struct err *err)
{
	_cleanup_json_ json_t *body = json_object();
	json_object_set_new(body, "token", json_string(token));
	if (with_system_id && a->system_id)
		json_object_set_new(body, "system_id", json_string(a->system_id));
	_cleanup_free_ char *hdr = xasprintf("RUNNER-TOKEN: %s", token);
	const char *headers[] = {hdr, NULL};
	_cleanup_(rhttp_resp_release) struct rhttp_resp r;
	rhttp_resp_init(&r);
	if (call_json(a, "DELETE", path, body, headers, 0, &r, err) < 0)
		return -1;
	if (r.status == 204 || r.status == 200)
		return 0;
	_cleanup_free_ char *url = xasprintf("%s%s", a->base, path);
	return status_error(
	    "DELETE", url, &r,
	    r.status == 403 ? "the runner token is invalid or already removed" : NULL, err);
}

int runner_api_unregister(struct runner_api *a, const char *token, struct err *err)
{
	return delete_call(a, "/runners", token, false, err);
}

int runner_api_unregister_manager(struct runner_api *a, const char *token, struct err *err)
{
	return delete_call(a, "/runners/managers", token, true, err);
}

static enum runner_request_result request_outcome(const struct runner_api *a, struct rhttp_resp *r,
                                                  char **ret_job, struct err *err)
{
	_cleanup_free_ char *url = xasprintf("%s/jobs/request", a->base);
	switch (r->status) {
	case 201:
		*ret_job = strbuf_detach(&r->body, NULL);
		return RUNNER_REQUEST_JOB;
	case 204:
		return RUNNER_REQUEST_NONE;
	case 409:
		return RUNNER_REQUEST_CONFLICT;
	case 403:
		status_error("POST", url, r,
		             "the runner token is invalid or the runner was removed", err);
		return RUNNER_REQUEST_FORBIDDEN;
	default:
		status_error("POST", url, r, NULL, err);
		return r->status >= 500 || r->status < 200 ? RUNNER_REQUEST_UNAVAILABLE
		                                           : RUNNER_REQUEST_INVALID;
	}
}

enum runner_request_result runner_api_request_job(struct runner_api *a, const char *token,
                                                  char **last_update, char **ret_job,
                                                  struct err *err)
{
	_cleanup_json_ json_t *body = base_body(a, token);
	if (*last_update)
		json_object_set_new(body, "last_update", json_string(*last_update));
	_cleanup_free_ char *hdr = xasprintf("RUNNER-TOKEN: %s", token);
	const char *headers[] = {hdr, NULL};
	_cleanup_(rhttp_resp_release) struct rhttp_resp r;
	rhttp_resp_init(&r);
	if (call_json(a, "POST", "/jobs/request", body, headers, a->poll_timeout_s, &r, err) < 0)
		return RUNNER_REQUEST_UNAVAILABLE;
	const char *lu = rhttp_header(&r, "x-gitlab-last-update");
	if (lu && *lu) {
		free(*last_update);
		*last_update = xstrdup(lu);
	}
	return request_outcome(a, &r, ret_job, err);
}

/* Range "0-N" (or "bytes 0-N"): N, else -1. */
static long long range_end(const char *range)
{
	if (!range)
		return -1;
	const char *dash = strrchr(range, '-');
	if (!dash)
		return -1;
	char *end = NULL;
	errno = 0;
	long long v = strtoll(dash + 1, &end, 10);
	return errno || end == dash + 1 || v < 0 ? -1 : v;
}

static void read_reply(const struct rhttp_resp *r, struct runner_job_reply *ret)
{
	memset(ret, 0, sizeof(*ret));
	ret->status = r->status;
	ret->remote_size = range_end(rhttp_header(r, "range"));
	const char *js = rhttp_header(r, "job-status");
	if (js)
		snprintf(ret->job_status, sizeof(ret->job_status), "%s", js);
	const char *iv = rhttp_header(r, "x-gitlab-trace-update-interval");
	if (iv) {
		long v = strtol(iv, NULL, 10);
		/* gitlab-runner caps what the server asks for at 15 minutes */
		ret->update_interval_s = v < 0 ? 0 : v > 900 ? 900 : v;
	}
}

int runner_api_trace(struct runner_api *a, long long job_id, const char *job_token,
                     long long offset, const char *data, size_t len, struct runner_job_reply *ret,
                     struct err *err)
{
	assert(len > 0 && len <= MAX_TRACE_PATCH);
	_cleanup_free_ char *url = xasprintf("%s/jobs/%lld/trace", a->base, job_id);
	_cleanup_free_ char *tok = xasprintf("JOB-TOKEN: %s", job_token);
	_cleanup_free_ char *range =
	    xasprintf("Content-Range: %lld-%lld", offset, offset + (long long)len - 1);
	const char *headers[] = {tok, range, NULL};
	struct rhttp_req rq = {
	    .method = "PATCH",
	    .url = url,
	    .content_type = "text/plain",
	    .body = data,
	    .body_len = len,
	    .headers = headers,
	    .user_agent = a->user_agent,
	    .ca_file = a->ca_file,
	    .timeout_s = CALL_TIMEOUT_S,
	};
	_cleanup_(rhttp_resp_release) struct rhttp_resp r;
	rhttp_resp_init(&r);
	if (rhttp_do(&rq, &r, err) < 0)
		return -1;
	read_reply(&r, ret);
	return 0;
}

int runner_api_trace_flush(struct runner_api *a, long long job_id, const char *job_token,
                           const char *buf, size_t len, long long *offset,
                           struct runner_job_reply *ret, struct err *err)
{
	int mismatches = 0;
	memset(ret, 0, sizeof(*ret));
	ret->status = 202;
	while (*offset < (long long)len) {
		size_t n = len - (size_t)*offset;
		if (n > MAX_TRACE_PATCH)
			n = MAX_TRACE_PATCH;
		if (runner_api_trace(a, job_id, job_token, *offset, buf + *offset, n, ret, err) < 0)
			return -1;
		if (ret->status == 202) {
			*offset += (long long)n;
			mismatches = 0;
			continue;
		}
		if (ret->status != 416)
			return 0;
		/* GitLab holds a different amount than we sent: continue from its size */
		if (++mismatches > 3 || ret->remote_size < 0 || ret->remote_size > (long long)len)
			return err_set(
			    err, ERR_ENV,
			    "PATCH %s/jobs/%lld/trace: HTTP 416 with Range '0-%lld' for a "
			    "trace of %zu bytes",
			    a->base, job_id, ret->remote_size, len);
		*offset = ret->remote_size;
	}
	return 0;
}

static json_t *update_body(const struct runner_api *a, const char *job_token,
                           const struct runner_job_update *u)
{
	json_t *b = base_body(a, job_token);
	json_object_set_new(b, "state", json_string(u->state));
	if (u->failure_reason)
		json_object_set_new(b, "failure_reason", json_string(u->failure_reason));
	if (u->has_exit_code)
		json_object_set_new(b, "exit_code", json_integer(u->exit_code));
	if (u->has_output) {
		char sum[32];
		snprintf(sum, sizeof(sum), "crc32:%08x", u->crc32);
		json_object_set_new(
		    b, "output",
		    json_pack("{s:s, s:I}", "checksum", sum, "bytesize", (json_int_t)u->bytesize));
	}
	return b;
}

int runner_api_update(struct runner_api *a, long long job_id, const char *job_token,
                      const struct runner_job_update *u, struct runner_job_reply *ret,
                      struct err *err)
{
	_cleanup_json_ json_t *body = update_body(a, job_token, u);
	_cleanup_free_ char *path = xasprintf("/jobs/%lld", job_id);
	_cleanup_free_ char *tok = xasprintf("JOB-TOKEN: %s", job_token);
	const char *headers[] = {tok, NULL};
	_cleanup_(rhttp_resp_release) struct rhttp_resp r;
	rhttp_resp_init(&r);
	if (call_json(a, "PUT", path, body, headers, 0, &r, err) < 0)
		return -1;
	read_reply(&r, ret);
	return 0;
}

static void pause_s(long s)
{
	struct timespec ts = {.tv_sec = s};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int runner_api_finish(struct runner_api *a, long long job_id, const char *job_token,
                      const struct runner_job_update *u, int max_tries, struct err *err)
{
	long backoff = 1;
	_cleanup_free_ char *url = xasprintf("%s/jobs/%lld", a->base, job_id);
	struct err last = ERR_INIT;
	for (int i = 0; i < (max_tries > 0 ? max_tries : 10); i++) {
		struct runner_job_reply rep;
		err_release(&last);
		if (runner_api_update(a, job_id, job_token, u, &rep, &last) == 0) {
			if (rep.status == 200)
				return 0;
			if (rep.status == 403 || rep.status == 404)
				return err_set(err, ERR_ENV,
				               "PUT %s: HTTP %ld: the job is gone or no "
				               "longer running: giving up",
				               url, rep.status);
			if (rep.status == 202) {
				pause_s(rep.update_interval_s > 0 ? rep.update_interval_s : 1);
				continue;
			}
			err_set(&last, ERR_ENV, "PUT %s: HTTP %ld", url, rep.status);
		}
		pause_s(backoff);
		backoff = backoff * 2 > 60 ? 60 : backoff * 2;
	}
	err_move(err, &last);
	return err_wrap(err, "the final job state was not accepted");
}

static uint32_t crc_table[256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void crc_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
		crc_table[i] = c;
	}
}

uint32_t runner_crc32(uint32_t crc, const void *data, size_t len)
{
	pthread_once(&crc_once, crc_init);
	const unsigned char *p = data;
	crc = ~crc;
	for (size_t i = 0; i < len; i++)
		crc = crc_table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
	return ~crc;
}

const char *runner_failure_reason(const char *reason, const char *const *allowed, size_t n)
{
	if (n == 0)
		return reason;
	bool has_script = false;
	for (size_t i = 0; i < n; i++) {
		if (!strcmp(allowed[i], reason))
			return reason;
		has_script = has_script || !strcmp(allowed[i], "script_failure");
	}
	return has_script ? "script_failure" : "unknown_failure";
}
