/* The job payload GitLab sends a runner: the 201 body of `POST /api/v4/jobs/request`
 * (spec: runner-api.md §2, §6). One struct for the whole payload, whether it was built from
 * the model for a local run (payload-build.h) or parsed from GitLab's JSON (payload-json.h).
 * Everything a payload points at lives in its own arena: a payload is one owned object,
 * created with payload_new() and freed with payload_free(). Fields that GitLab sends as
 * `null` (an image without entrypoint, a service without alias) stay distinct from empty
 * lists, so that writing a parsed payload gives back what GitLab sent. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "util/arena.h"

/* A JSON array of strings, or null (present false). */
struct payload_strlist {
	const char **v;
	size_t n;
	bool present;
};

/* variables[] (and services[].variables[], which carry only key and value). */
struct payload_var {
	const char *key;
	const char *value;
	bool public_; /* reaches service containers */
	bool masked;  /* never shown in logs */
	bool file;    /* written to a file; the variable holds its path */
	bool raw;     /* not expanded (expand: false) */
};

struct payload_port {
	long number;
	const char *protocol; /* NULL when absent */
	const char *name;     /* NULL when absent */
};

/* image, and each of services[]: the same entity in GitLab (Entities::Ci::JobRequest::Image
 * and ::Service), services adding alias, command and variables. */
struct payload_image {
	const char *name;  /* NULL: the job's image is null */
	const char *alias; /* services: NULL -> null; comma-separated when several */
	struct payload_strlist entrypoint;
	struct payload_strlist command; /* services */
	struct payload_strlist pull_policy;
	struct payload_port *ports;
	size_t n_ports;
	struct payload_var *variables; /* services: key and value only */
	size_t n_variables;
	bool has_variables;          /* services: variables is an array, not null */
	const char *docker_platform; /* executor_opts.docker.platform, or NULL */
	const char *docker_user;     /* executor_opts.docker.user, or NULL */
};

/* steps[]: "script" (before_script + script), "after_script", "release". */
struct payload_step {
	const char *name;
	struct payload_strlist script;
	long timeout;     /* seconds */
	const char *when; /* on_success | on_failure | always; NULL when absent */
	bool allow_failure;
};

/* artifacts[]: the archive entry and one per report. */
struct payload_artifact {
	const char *name; /* NULL -> null (the runner names it "artifacts") */
	bool untracked;
	/* The archive entry carries an untracked key; reports do not, and GitLab leaves their
	 * null fields out (BuildArtifact#to_h.compact): name and expire_in when NULL. */
	bool has_untracked;
	struct payload_strlist paths;
	struct payload_strlist exclude; /* written only when present */
	const char *when;
	const char *expire_in;       /* NULL -> null */
	const char *artifact_type;   /* archive, junit, dotenv, ... */
	const char *artifact_format; /* zip, gzip, raw */
};

/* cache[]: keys are final (variables expanded, -protected/-non_protected appended). */
struct payload_cache {
	const char *key;
	bool untracked;
	const char *policy;
	struct payload_strlist paths;
	const char *when;
	struct payload_strlist fallback_keys;
};

struct payload_credential {
	const char *type; /* registry */
	const char *url;
	const char *username;
	const char *password;
};

struct payload_dependency {
	long id;
	const char *name;
	const char *token;
	bool has_artifacts_file;
	const char *artifacts_filename;
	long artifacts_size;
};

/* inputs[]: {key, value: {type, value|content, sensitive}}; the value object is kept as
 * its JSON text, which the runner interprets (runner-api.md §6). */
struct payload_input {
	const char *key;
	const char *value_json;
};

struct payload {
	struct arena arena; /* owns every string and array below */
	long id;
	const char *token; /* the job token */
	bool allow_git_fetch;
	struct {
		long id;
		const char *name;
		const char *stage;
		long project_id;
		const char *project_name;
	} job_info;
	struct {
		const char *repo_url;
		const char *ref;
		const char *sha;
		const char *before_sha;
		const char *ref_type; /* branch | tag */
		struct payload_strlist refspecs;
		long depth;
		const char *repo_object_format; /* sha1 | sha256; NULL when absent */
		bool protected_;
	} git_info;
	struct {
		long timeout; /* seconds */
		const char *runner_session_url;
	} runner_info;
	struct payload_var *variables; /* lowest precedence first; the last occurrence wins */
	size_t n_variables;
	struct payload_step *steps;
	size_t n_steps;
	struct payload_image image; /* image.name NULL: null */
	struct payload_image *services;
	size_t n_services;
	struct payload_artifact *artifacts;
	size_t n_artifacts;
	struct payload_cache *caches;
	size_t n_caches;
	struct payload_credential *credentials;
	size_t n_credentials;
	struct payload_dependency *dependencies;
	size_t n_dependencies;
	struct {
		bool trace_sections;
		struct payload_strlist token_mask_prefixes;
		struct payload_strlist failure_reasons;
	} features;
	struct payload_input *inputs; /* written only when there are some */
	size_t n_inputs;
};

/* Returns a new, empty payload (every field zero); never NULL. Free with payload_free. */
struct payload *payload_new(void);
/* Frees the payload and everything it owns. NULL-safe. */
void payload_free(struct payload *pl);

/* The value of the last variable named key, or NULL. Borrowed from pl. */
const struct payload_var *payload_var_get(const struct payload *pl, const char *key);

/* Helpers for the files that fill a payload: arrays of n zeroed items and string copies in
 * the payload's arena (never NULL; a NULL string copies as NULL). */
void *payload_alloc_array(struct payload *pl, size_t n, size_t size);
const char *payload_strdup(struct payload *pl, const char *s);

/* Writes a fresh random job token shaped like GitLab's (`glcbt-` + 20 hex digits, a prefix
 * runners mask) into buf (NUL-terminated, truncated to size). Never fails: without
 * /dev/urandom the digits are fixed. */
void payload_new_job_token(char *buf, size_t size);
