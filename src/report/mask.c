/* Streaming masker: replaces secret values by "[MASKED]" in a stream of output chunks, like
 * gitlab-runner's trace masker. Secrets are tried longest first at each position, so a secret
 * that is a prefix of another never leaves a tail of the longer one visible. When a chunk ends
 * in what may be the start of a secret, that suffix is held back until the next chunk decides
 * (or masker_flush() releases it), so a value split across reads is still masked.
 *
 * GitLab personal access tokens ("glpat-" + token characters) are redacted as the runner does
 * ("glpat-[MASKED]"), even when no variable holds them.
 *
 * Cost: a 256-entry table of secret first bytes lets the scan skip bytes that start nothing;
 * at a candidate byte only the secrets starting with that byte are compared. For ~50 secrets
 * of ~64 bytes that is linear enough for MB/s output (see the throughput test). */
#include "report/report.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "model/job.h"
#include "util/strbuf.h"
#include "util/strvec.h"
#include "util/xalloc.h"

#define MASKED "[MASKED]"
#define TOKEN_PREFIX "glpat-"
#define TOKEN_PREFIX_LEN (sizeof(TOKEN_PREFIX) - 1)

struct secret {
	char *s;
	size_t len;
};

struct masker {
	struct secret *secrets; /* sorted by length, longest first */
	size_t n;
	bool first[256]; /* bytes that start a secret or the token prefix */
	/* secrets by first byte: by_first[start[c] .. start[c + 1]) index secrets[], longest
	 * first, so a candidate byte only compares the secrets that can start there */
	size_t *by_first;
	size_t start[257];
	struct strbuf pending; /* held-back tail of earlier chunks */
	bool in_token;         /* swallowing the characters of a redacted glpat- token */
};

static int cmp_secret_len_desc(const void *a, const void *b)
{
	const struct secret *x = a, *y = b;
	if (x->len != y->len)
		return x->len < y->len ? 1 : -1;
	return memcmp(x->s, y->s, x->len);
}

static void index_first_bytes(struct masker *m)
{
	size_t count[256] = {0};
	for (size_t i = 0; i < m->n; i++)
		count[(unsigned char)m->secrets[i].s[0]]++;
	m->start[0] = 0;
	for (int c = 0; c < 256; c++)
		m->start[c + 1] = m->start[c] + count[c];
	m->by_first = xcalloc(m->n ? m->n : 1, sizeof(*m->by_first));
	size_t fill[256];
	memcpy(fill, m->start, sizeof(fill));
	/* secrets[] is sorted longest first, so each bucket is too */
	for (size_t i = 0; i < m->n; i++)
		m->by_first[fill[(unsigned char)m->secrets[i].s[0]]++] = i;
	for (int c = 0; c < 256; c++)
		m->first[c] = count[c] > 0;
	m->first[(unsigned char)TOKEN_PREFIX[0]] = true;
}

struct masker *masker_new(const char *const *secrets, size_t n)
{
	struct masker *m = xcalloc(1, sizeof(*m));
	strbuf_init(&m->pending, 0);
	m->secrets = xcalloc(n ? n : 1, sizeof(*m->secrets));
	for (size_t i = 0; i < n; i++) {
		if (!secrets[i] || !secrets[i][0])
			continue;
		m->secrets[m->n].s = xstrdup(secrets[i]);
		m->secrets[m->n].len = strlen(secrets[i]);
		m->n++;
	}
	qsort(m->secrets, m->n, sizeof(*m->secrets), cmp_secret_len_desc);
	/* drop duplicates (adjacent after sorting) */
	size_t w = 0;
	for (size_t i = 0; i < m->n; i++) {
		if (w > 0 && m->secrets[w - 1].len == m->secrets[i].len &&
		    memcmp(m->secrets[w - 1].s, m->secrets[i].s, m->secrets[i].len) == 0) {
			free(m->secrets[i].s);
			continue;
		}
		m->secrets[w++] = m->secrets[i];
	}
	m->n = w;
	index_first_bytes(m);
	return m;
}

void masker_free(struct masker *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n; i++)
		free(m->secrets[i].s);
	free(m->secrets);
	free(m->by_first);
	strbuf_release(&m->pending);
	free(m);
}

static bool is_token_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-';
}

enum match { MATCH_NONE, MATCH_PARTIAL, MATCH_SECRET, MATCH_TOKEN };

/* What starts at p (avail bytes left)? MATCH_PARTIAL when the bytes left are a proper prefix
 * of a candidate that outranks every full match, so the caller must wait for more data. */
static enum match match_at(const struct masker *m, const char *p, size_t avail, bool final,
                           size_t *ret_len)
{
	unsigned char c0 = (unsigned char)p[0];
	for (size_t k = m->start[c0]; k < m->start[c0 + 1]; k++) {
		const struct secret *s = &m->secrets[m->by_first[k]];
		if (avail >= s->len) {
			if (memcmp(p, s->s, s->len) == 0) {
				*ret_len = s->len;
				return MATCH_SECRET;
			}
		} else if (!final && memcmp(p, s->s, avail) == 0) {
			return MATCH_PARTIAL;
		}
	}
	/* the token prefix needs one token character after it to count */
	size_t need = TOKEN_PREFIX_LEN + 1;
	size_t cmp = avail < TOKEN_PREFIX_LEN ? avail : TOKEN_PREFIX_LEN;
	if (memcmp(p, TOKEN_PREFIX, cmp) != 0)
		return MATCH_NONE;
	if (avail < need)
		return final ? MATCH_NONE : MATCH_PARTIAL;
	if (!is_token_char((unsigned char)p[TOKEN_PREFIX_LEN]))
		return MATCH_NONE;
	*ret_len = TOKEN_PREFIX_LEN;
	return MATCH_TOKEN;
}

/* Masks buf[0..len) into out; returns how many bytes were consumed (the rest is held back). */
static size_t mask_scan(struct masker *m, const char *buf, size_t len, bool final,
                        struct strbuf *out)
{
	size_t i = 0, run = 0; /* run: start of bytes not yet copied to out */
	while (i < len) {
		unsigned char c = (unsigned char)buf[i];
		if (m->in_token) {
			if (is_token_char(c)) {
				i++;
				run = i;
				continue;
			}
			m->in_token = false;
		}
		if (!m->first[c]) {
			i++;
			continue;
		}
		size_t mlen = 0;
		enum match r = match_at(m, buf + i, len - i, final, &mlen);
		if (r == MATCH_NONE) {
			i++;
			continue;
		}
		strbuf_add(out, buf + run, i - run);
		if (r == MATCH_PARTIAL)
			return i;
		if (r == MATCH_TOKEN) {
			strbuf_addstr(out, TOKEN_PREFIX MASKED);
			m->in_token = true;
		} else {
			strbuf_addstr(out, MASKED);
		}
		i += mlen;
		run = i;
	}
	strbuf_add(out, buf + run, len - run);
	return len;
}

void masker_feed(struct masker *m, const char *data, size_t len, struct strbuf *out)
{
	if (m->pending.len == 0) {
		size_t used = mask_scan(m, data, len, false, out);
		if (used < len)
			strbuf_add(&m->pending, data + used, len - used);
		return;
	}
	/* Only the held-back tail (shorter than the longest secret) is copied to join the
	 * chunks; scanning resumes at its start. */
	strbuf_add(&m->pending, data, len);
	struct strbuf rest = STRBUF_INIT;
	size_t used = mask_scan(m, m->pending.buf, m->pending.len, false, out);
	if (used < m->pending.len)
		strbuf_add(&rest, m->pending.buf + used, m->pending.len - used);
	strbuf_release(&m->pending);
	m->pending = rest;
}

void masker_flush(struct masker *m, struct strbuf *out)
{
	if (m->pending.len)
		mask_scan(m, m->pending.buf, m->pending.len, true, out);
	strbuf_reset(&m->pending);
	m->in_token = false;
}

bool report_value_maskable(const char *value, bool raw)
{
	size_t len = strlen(value);
	if (len < 8)
		return false;
	for (const char *p = value; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (c == '\n' || c == '\r')
			return false;
		if (raw) {
			if (c == ' ' || c == '\t' || c == '\v' || c == '\f')
				return false;
			continue;
		}
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		          (c >= '0' && c <= '9') || strchr("_+=/@:.~-", c);
		if (!ok)
			return false;
	}
	return true;
}

/* Tokens runnel generates and marks masked itself: masked even when GitLab's rules for user
 * variables would refuse the value. */
static bool always_masked(const char *key)
{
	static const char *const keys[] = {"CI_JOB_TOKEN", "CI_BUILD_TOKEN", "CI_REGISTRY_PASSWORD",
	                                   "CI_DEPLOY_PASSWORD", "CI_DEPENDENCY_PROXY_PASSWORD"};
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strcmp(key, keys[i]) == 0)
			return true;
	return false;
}

void report_collect_secrets(const struct var_list *vars, struct strvec *out)
{
	if (!vars)
		return;
	for (size_t i = 0; i < vars->n; i++) {
		const struct var *v = &vars->v[i];
		if (!v->masked || !v->value || !v->value[0] || !v->key)
			continue;
		if (always_masked(v->key) || report_value_maskable(v->value, v->raw))
			strvec_push(out, v->value);
	}
}
