/* include-source: how the model gets the includes GitLab fetches over the network (remote:,
 * project:, template:, component:) without doing network or git itself. The caller (cli/)
 * hands pipeline_load an implementation (fetch/ does it with libcurl and an on-disk cache);
 * the model asks it once per include level with every network entry of that level, so the
 * implementation can fetch them concurrently. `--include-dir DIR` (pipeline_ctx.include_dir)
 * is looked at first and wins: an entry found there is never asked for.
 * docs/internals/includes.md describes the design. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "util/err.h"

enum isrc_kind {
	ISRC_REMOTE,    /* location: the URL (http or https) */
	ISRC_PROJECT,   /* location: group/project; file and ref */
	ISRC_TEMPLATE,  /* location: the template name, `Jobs/Build.gitlab-ci.yml` */
	ISRC_COMPONENT, /* location: the address host/path/name@version */
};

/* One include to fetch. Strings borrowed for the duration of the call. */
struct isrc_request {
	enum isrc_kind kind;
	const char *location;
	const char *file;      /* project: the path in the project (no leading `/`); else NULL */
	const char *ref;       /* project: the ref, NULL = the project's default branch */
	const char *integrity; /* remote: `sha256-BASE64` to check, or NULL */
	const char *server;    /* project, template, component: the pipeline's GitLab
	                        * (CI_SERVER_URL), or NULL */
};

/* What the source answered for one request: a body, or an error. */
struct isrc_result {
	char *body; /* owned (malloc, NUL-terminated), NULL on failure */
	size_t len;
	char *warning;    /* owned or NULL: said once, e.g. served from the cache without network */
	struct err err;   /* set when body is NULL: the message says which URL was tried and why;
	                   * the model shows it at the include entry (file:line:col) */
	bool unsupported; /* neither body nor err: the source does not fetch this kind (yet);
	                   * the model gives its offline `--include-dir` message */
};

/* Releases a result's heap parts (NULL-safe) and zeroes it. */
void isrc_result_release(struct isrc_result *r);

/* A project whose project: files and components are read from a folder, working tree as it is
 * (`--local-project group/project[@ref]=DIR`): after --include-dir, before the network. */
struct isrc_local {
	const char *project; /* group/.../project */
	const char *ref;     /* only for this ref (project:) or version (component:), or NULL */
	const char *dir;     /* absolute */
};

struct include_source {
	/* Fetches reqs[0..n) (concurrently where it can) and fills res[0..n) (zeroed by the
	 * caller): each gets a body, an error or `unsupported`. Called from the loading
	 * thread only; it may block up to its own time limit. */
	void (*fetch)(void *data, const struct isrc_request *reqs, size_t n,
	              struct isrc_result *res);
	void *data;
	/* the local mappings, in the order given (one with a ref wins over one without) */
	const struct isrc_local *locals;
	size_t n_locals;
};
