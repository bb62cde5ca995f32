/* api: the client of GitLab's runner API (/api/v4/runners and /api/v4/jobs, as
 * ../shared/spec/runner-api.md describes them): registration and token checks, asking for a
 * job with long polling, the incremental trace and the job's state updates. Each call says what
 * the server answered; the retry policy of the daemon lives above, except for the final state
 * update whose retries GitLab's protocol defines (runner_api_finish). Tokens travel in the
 * headers and bodies GitLab expects and never appear in an error message. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

struct runner_api_opts {
	const char *url;       /* GitLab's URL as configured ("https://gitlab.example.com[/]") */
	const char *ca_file;   /* tls-ca-file, or NULL for the system's trust store */
	const char *system_id; /* runner_system_id_load() */
	const char *version;   /* runnel's version and commit, for User-Agent and info */
	const char *revision;
	const char *executor; /* "docker" or "shell": the info object's executor and features */
	const char *name;     /* the runner's name for info, or NULL */
	long poll_timeout_s;  /* the bound of a held POST /jobs/request; 0: 90 s */
};

struct runner_api;

/* Copies what it needs of o. Owned; free with runner_api_free(). */
struct runner_api *runner_api_new(const struct runner_api_opts *o);
void runner_api_free(struct runner_api *a);
/* The info object sent with verify, register, request and update (JSON text, owned). */
char *runner_api_info_json(const struct runner_api *a);
/* The User-Agent header value (borrowed). */
const char *runner_api_user_agent(const struct runner_api *a);

/* What GitLab returns for a token: new GitLab sends the id and the token's expiry; old GitLab
 * answers verify with an empty 200 (id 0, expires_at NULL). Strings owned. */
struct runner_token_info {
	long long id;
	char *token;
	char *token_expires_at; /* RFC 3339, NULL: never or unknown */
};
void runner_token_info_release(struct runner_token_info *t);

/* POST /runners/verify. 200: 0 with *ret filled (token is the one sent when GitLab does not
 * echo it). 403: ERR_CONFIG "... the runner token is invalid or the runner was removed". */
int runner_api_verify(struct runner_api *a, const char *token, struct runner_token_info *ret,
                      struct err *err);

/* The legacy registration (POST /runners with a registration token). */
struct runner_register {
	const char *registration_token;
	const char *description; /* the runner's name */
	const char *tag_list;    /* comma-separated, or NULL */
	bool run_untagged, locked, paused;
	const char *access_level;  /* "not_protected" or "ref_protected", or NULL */
	long long maximum_timeout; /* seconds, 0: unset */
	const char *maintenance_note;
};
/* 201: 0 with the new runner's id and authentication token in *ret. 403 and others: ERR_CONFIG
 * naming the URL, the status and GitLab's message. */
int runner_api_register(struct runner_api *a, const struct runner_register *r,
                        struct runner_token_info *ret, struct err *err);
/* DELETE /runners: 204 ok; 403 ERR_CONFIG. For a registration-token runner: it removes the
 * runner from GitLab. */
int runner_api_unregister(struct runner_api *a, const char *token, struct err *err);
/* DELETE /runners/managers with the system_id: 204 ok; 403 ERR_CONFIG. For a runner created in
 * GitLab (a glrt- token): only this host stops being one of its managers. */
int runner_api_unregister_manager(struct runner_api *a, const char *token, struct err *err);

enum runner_request_result {
	RUNNER_REQUEST_JOB,         /* 201: *ret_job holds the payload JSON */
	RUNNER_REQUEST_NONE,        /* 204: no job now */
	RUNNER_REQUEST_CONFLICT,    /* 409: another request took it, ask again */
	RUNNER_REQUEST_FORBIDDEN,   /* 403: the token is invalid (err set) */
	RUNNER_REQUEST_INVALID,     /* 422 and other 4xx: GitLab refused the request (err set) */
	RUNNER_REQUEST_UNAVAILABLE, /* 503, 5xx or no answer: back off and ask again (err set) */
};
/* POST /jobs/request. *last_update (owned, may be NULL) is sent as last_update and replaced by
 * the X-GitLab-Last-Update header of the answer when it has one, which is what lets GitLab hold
 * the request (long polling) until the runner's queue changes. On RUNNER_REQUEST_JOB
 * *ret_job is the owned JSON text. */
enum runner_request_result runner_api_request_job(struct runner_api *a, const char *token,
                                                  char **last_update, char **ret_job,
                                                  struct err *err);

/* What a trace PATCH or a state PUT learned from the answer. */
struct runner_job_reply {
	long status;            /* HTTP status */
	long long remote_size;  /* bytes GitLab holds (from Range "0-N"), -1 unknown */
	char job_status[32];    /* Job-Status header: running, canceling, canceled, failed */
	long update_interval_s; /* X-GitLab-Trace-Update-Interval, 0 when absent */
};

/* PATCH /jobs/:id/trace with bytes data[0..len) at offset (Content-Range: offset-end). 202:
 * appended. 416: GitLab holds remote_size bytes; resend from there. 403/404: the job is gone
 * or no longer running (stop tracing). Any HTTP answer returns 0 with *ret filled; only a
 * transport failure is -1. len must be > 0 and at most 1 MiB. */
int runner_api_trace(struct runner_api *a, long long job_id, const char *job_token,
                     long long offset, const char *data, size_t len, struct runner_job_reply *ret,
                     struct err *err);

/* Sends what GitLab does not hold yet of the trace buf[0..len): from *offset in patches of at
 * most 1 MiB, advancing *offset with each 202. A 416 moves *offset to the size GitLab reports
 * (when it lies within buf) and sends again from there, at most 3 times in a row. Returns 0
 * with *ret the last answer (status 202 when everything was appended; 403/404 tell the
 * caller to stop), or -1 on a transport failure or a 416 that cannot be recovered (err set). */
int runner_api_trace_flush(struct runner_api *a, long long job_id, const char *job_token,
                           const char *buf, size_t len, long long *offset,
                           struct runner_job_reply *ret, struct err *err);

struct runner_job_update {
	const char *state;          /* "running", "pending", "success", "failed" */
	const char *failure_reason; /* NULL unless failed */
	int exit_code;              /* sent when has_exit_code */
	bool has_exit_code;
	uint32_t crc32; /* of the whole trace, sent with bytesize when has_output */
	long long bytesize;
	bool has_output;
};
/* PUT /jobs/:id once. Any HTTP answer returns 0 with *ret filled; a transport failure is -1. */
int runner_api_update(struct runner_api *a, long long job_id, const char *job_token,
                      const struct runner_job_update *u, struct runner_job_reply *ret,
                      struct err *err);
/* The final PUT as GitLab's protocol wants it: 200 done; 202 (GitLab still finalising the
 * trace) repeated after X-GitLab-Trace-Update-Interval; 403/404 give up (ERR_ENV naming the
 * status); other answers and transport failures retried with a doubling pause (1 s up to
 * 60 s), at most max_tries calls in all (0: 10). */
int runner_api_finish(struct runner_api *a, long long job_id, const char *job_token,
                      const struct runner_job_update *u, int max_tries, struct err *err);

/* IEEE CRC-32 of len bytes continuing from crc (start with 0), as `crc32:` checksums want. */
uint32_t runner_crc32(uint32_t crc, const void *data, size_t len);
/* The failure_reason to send: reason when the job's features.failure_reasons (n entries)
 * lists it or the list is empty (older GitLab), else "script_failure" when listed, else
 * "unknown_failure". Borrowed. */
const char *runner_failure_reason(const char *reason, const char *const *allowed, size_t n);
