/* source: the include source (model/include-source.h) of a normal run: remote: includes over
 * HTTP(S) (fetch/http.c); project:, component: and template: files through the GitLab REST API
 * (fetch/gitlab.c); all through the on-disk cache (fetch/cache.c). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

struct include_source;
struct isrc_local;

struct fetch_opts {
	const char *cache_root; /* NULL: fetch_cache_root() (XDG_CACHE_HOME / HOME) */
	bool refresh;           /* --refresh-includes: fetch everything again */
	long ttl_s;             /* how long a moving reference is used from the cache */
	long timeout_ms;        /* the whole transfer of one include */
	/* --local-project mappings (borrowed, for the model: see model/include-source.h) */
	const struct isrc_local *locals;
	size_t n_locals;
};
/* One hour; 30 s (RUNNEL_INCLUDE_TIMEOUT=SECONDS overrides the timeout, for tests). */
#define FETCH_OPTS_INIT                                                                            \
	{                                                                                          \
		.ttl_s = 3600, .timeout_ms = 30000                                                 \
	}

struct fetch_source;

/* A source with options o (copied; cache_root borrowed). Never NULL. */
struct fetch_source *fetch_source_new(const struct fetch_opts *o);
/* The interface to put in pipeline_ctx.includes; valid until fetch_source_free. */
const struct include_source *fetch_source_iface(struct fetch_source *s);
void fetch_source_free(struct fetch_source *s);
