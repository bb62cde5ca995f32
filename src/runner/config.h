/* config: gitlab-runner's config.toml as runnel reads it (the global keys and [[runners]] with
 * the keys runnel supports), with gitlab-runner's defaults, and edited in place by `runner
 * register` and `runner unregister` so the other runners and unknown keys survive a rewrite. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "runner/toml.h"
#include "util/err.h"
#include "util/strvec.h"

/* gitlab-runner's defaults (common/config.go and common/consts.go). */
#define RUNNER_DEFAULT_CHECK_INTERVAL 3    /* seconds, used when check_interval <= 0 */
#define RUNNER_DEFAULT_SHUTDOWN_TIMEOUT 30 /* seconds */
#define RUNNER_DEFAULT_OUTPUT_LIMIT 4096   /* KiB */
#define RUNNER_DEFAULT_REQUEST_CONCURRENCY 1

/* One [[runners]] entry. Strings are borrowed from the config's TOML tree (NULL: not set). */
struct runner_entry {
	const char *name, *url, *token, *executor, *shell;
	long long id;                                     /* the runner's id in GitLab, 0 unknown */
	const char *token_obtained_at, *token_expires_at; /* as written (TOML date-times) */
	long long limit;                                  /* 0: no limit */
	long long request_concurrency;                    /* default 1 */
	long long output_limit;                           /* KiB, default 4096 */
	const char *builds_dir, *cache_dir;
	const char *tls_ca_file; /* tls-ca-file: the CA bundle to trust for url */
	const char *pre_build_script, *post_build_script;
	struct strvec environment;       /* "KEY=value", owned copies */
	const struct toml_value *docker; /* [runners.docker], borrowed; NULL when absent */
	struct srcloc loc;               /* of the [[runners]] header */
};

struct runner_config {
	struct toml_doc doc;          /* the parsed file; owned */
	bool exists;                  /* the file was there */
	long long concurrent;         /* default 1 */
	long long check_interval;     /* seconds as written; see runner_config_interval() */
	long long shutdown_timeout;   /* seconds, default 30 */
	const char *log_level;        /* borrowed, NULL: not set */
	struct runner_entry *runners; /* n entries, owned */
	size_t n;
	/* keys runnel reads but does not act on, as dotted paths ("runners[1].docker.shm_size"),
	 * for the one warning the caller prints */
	struct strvec unsupported;
};

void runner_config_init(struct runner_config *c);
void runner_config_release(struct runner_config *c);

/* Reads path into c (initialised). A missing file gives an empty config with exists false
 * when missing_ok, else ERR_ENV. Syntax and type errors: ERR_CONFIG with file:line:col
 * (err->loc.file points into c: print before runner_config_release). */
int runner_config_load(struct runner_config *c, const char *path, bool missing_ok, struct err *err);
/* Parses text as the file path holds it (tests and the fuzz target). */
int runner_config_parse(struct runner_config *c, const char *path, const char *text, size_t len,
                        struct err *err);

/* The polling interval gitlab-runner uses: check_interval seconds, 3 when unset or <= 0. */
long long runner_config_interval(const struct runner_config *c);

/* What `runner register` writes for a new runner; strings borrowed. */
struct runner_new {
	const char *name, *url, *token, *executor;
	long long id;
	const char *token_obtained_at, *token_expires_at; /* RFC 3339 or NULL */
	const char *docker_image; /* [runners.docker] image for the docker executor, or NULL */
	const char *tls_ca_file;  /* or NULL */
	long long limit, request_concurrency;
};

/* Appends a [[runners]] entry (a concurrent key is added first for a new file, as
 * gitlab-runner writes one). The model (c->runners) is rebuilt. */
int runner_config_add(struct runner_config *c, const struct runner_new *r, struct err *err);
/* Removes runner i. The model is rebuilt. */
int runner_config_remove(struct runner_config *c, size_t i, struct err *err);
/* Writes the tree to path (mode 0600: it holds tokens), via a temporary file and rename, the
 * parent directory created (0700) when missing. */
int runner_config_save(const struct runner_config *c, const char *path, struct err *err);
/* config.toml's default place as gitlab-runner picks it: /etc/gitlab-runner/config.toml for
 * root, else ~/.gitlab-runner/config.toml (./config.toml without $HOME). Owned. */
char *runner_config_default_path(void);
