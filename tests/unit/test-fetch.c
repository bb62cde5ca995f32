/* Tests for fetch/: remote: URL and component: address parsing (fetch/addr.c), the cache
 * (fetch/cache.c) and the integrity check. Network behaviour is tested end to end against a
 * real HTTPS server (tests/e2e/t700-include-remote.sh). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fetch/addr.h"
#include "fetch/cache.h"
#include "fetch/gitlab.h"
#include "fetch/version.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/fsutil.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

/* ---- URLs ---- */

static void check_url(const char *s, const char *scheme, const char *host, int port,
                      const char *path, const char *query)
{
	struct fetch_url u;
	struct err err = ERR_INIT;
	if (fetch_url_parse(s, &u, &err) < 0)
		fail_msg("%s: %s", s, err.msg);
	assert_string_equal(u.scheme, scheme);
	assert_string_equal(u.host, host);
	assert_int_equal(u.port, port);
	assert_string_equal(u.path, path);
	if (query)
		assert_string_equal(u.query, query);
	else
		assert_null(u.query);
	fetch_url_release(&u);
}

static void check_bad_url(const char *s, const char *why)
{
	struct fetch_url u;
	struct err err = ERR_INIT;
	assert_int_equal(fetch_url_parse(s, &u, &err), -1);
	assert_int_equal(err.kind, ERR_CONFIG);
	if (!strstr(err.msg, why))
		fail_msg("'%s': got '%s', want '%s'", s, err.msg, why);
	err_release(&err);
}

static void test_url_forms(void **state)
{
	(void)state;
	check_url("https://gitlab.com/a/b.yml", "https", "gitlab.com", 443, "/a/b.yml", NULL);
	check_url("HTTP://Example.ORG:8080/x.yml?ref=main#frag", "http", "example.org", 8080,
	          "/x.yml", "ref=main");
	check_url("https://127.0.0.1:4443", "https", "127.0.0.1", 4443, "/", NULL);
	check_url("https://[::1]:4443/ci.yml", "https", "::1", 4443, "/ci.yml", NULL);
	check_url("https://h/p?", "https", "h", 443, "/p", "");
	struct fetch_url u;
	struct err err = ERR_INIT;
	assert_int_equal(fetch_url_parse("https://user:secret@h.example/ci.yml", &u, &err), 0);
	assert_true(u.userinfo);
	assert_string_equal(u.host, "h.example");
	fetch_url_release(&u);
	assert_int_equal(fetch_url_parse("https://h.example/ci.yml", &u, &err), 0);
	assert_false(u.userinfo);
	assert_false(u.explicit_port);
	fetch_url_release(&u);
}

static void test_url_bad(void **state)
{
	(void)state;
	check_bad_url("gitlab.com/a.yml", "no scheme");
	check_bad_url("ftp://h/a.yml", "only http and https");
	check_bad_url("file:///etc/passwd", "only http and https");
	check_bad_url("https:///a.yml", "no host");
	check_bad_url("https://h:0/a.yml", "bad port");
	check_bad_url("https://h:65536/a.yml", "bad port");
	check_bad_url("https://h:80x/a.yml", "bad port");
	check_bad_url("https://h:/a.yml", "bad port");
	check_bad_url("https://[::1/a.yml", "bad IPv6");
	check_bad_url("https://[zz]/a.yml", "bad IPv6");
	check_bad_url("https://[::1]x/a.yml", "bad IPv6");
	check_bad_url("https://h/a b.yml", "whitespace");
	check_bad_url("https://h/a\x01.yml", "control");
	check_bad_url("https://h!/a.yml", "bad one");
}

/* ---- component addresses ---- */

static void check_comp(const char *s, const char *host, const char *project, const char *name,
                       const char *version, enum fetch_version_kind kind)
{
	struct fetch_component c;
	struct err err = ERR_INIT;
	if (fetch_component_parse(s, &c, &err) < 0)
		fail_msg("%s: %s", s, err.msg);
	assert_string_equal(c.host, host);
	assert_string_equal(c.project, project);
	assert_string_equal(c.name, name);
	assert_string_equal(c.version, version);
	assert_int_equal(c.kind, kind);
	fetch_component_release(&c);
}

static void test_component_forms(void **state)
{
	(void)state;
	check_comp("gitlab.com/components/opentofu/full-pipeline@0.10.0", "gitlab.com",
	           "components/opentofu", "full-pipeline", "0.10.0", FETCH_VER_SEMVER);
	check_comp("gitlab.example.com:8443/g/sub/p/lint@~latest", "gitlab.example.com:8443",
	           "g/sub/p", "lint", "~latest", FETCH_VER_LATEST);
	check_comp("h/g/p/c@1.2.3-rc1", "h", "g/p", "c", "1.2.3-rc1", FETCH_VER_SEMVER);
	check_comp("h/g/p/c@v1.0", "h", "g/p", "c", "v1.0", FETCH_VER_REF);
	check_comp("h/g/p/c@main", "h", "g/p", "c", "main", FETCH_VER_REF);
	check_comp("h/g/p/c@feature/x", "h", "g/p", "c", "feature/x", FETCH_VER_REF);
	check_comp("h/g/c@0123456789abcdef0123456789abcdef01234567", "h", "g", "c",
	           "0123456789abcdef0123456789abcdef01234567", FETCH_VER_SHA);
	/* a short hex string is a ref name (a tag or branch), not a SHA */
	check_comp("h/g/c@abc1234", "h", "g", "c", "abc1234", FETCH_VER_REF);
	struct fetch_component c;
	struct err err = ERR_INIT;
	assert_int_equal(fetch_component_parse("h/g/p/c@1", &c, &err), 0);
	assert_int_equal(c.kind, FETCH_VER_MAJOR);
	assert_int_equal(c.major, 1);
	fetch_component_release(&c);
	assert_int_equal(fetch_component_parse("h/g/p/c@12.34", &c, &err), 0);
	assert_int_equal(c.kind, FETCH_VER_MINOR);
	assert_int_equal(c.major, 12);
	assert_int_equal(c.minor, 34);
	fetch_component_release(&c);
	/* the last `@` separates the version: an `@` before it is in the path */
	assert_int_equal(fetch_component_parse("h/g@x/c@1", &c, &err), -1);
	assert_non_null(strstr(err.msg, "should be host/path/name@version"));
	err_release(&err);
}

static void test_component_bad(void **state)
{
	(void)state;
	static const char *const bad[] = {
	    "gitlab.com/c@1",  /* no project */
	    "gitlab.com/g/c",  /* no version */
	    "gitlab.com/g/c@", /* empty version */
	    "/g/c@1",          /* no host */
	    "h/g/@1",          /* no name */
	    "h//g/c@1",        /* empty segment */
	    "h/g/c@1 2",       /* whitespace */
	    "h/g/c@..",        /* not a ref */
	    "h/g/c@~1",        /* not ~latest */
	    "h/g/c@a..b",      "h/g/c@x/",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		struct fetch_component c;
		struct err err = ERR_INIT;
		if (fetch_component_parse(bad[i], &c, &err) == 0)
			fail_msg("'%s' parsed", bad[i]);
		assert_int_equal(err.kind, ERR_CONFIG);
		assert_non_null(strstr(err.msg, bad[i]));
		err_release(&err);
	}
}

/* ---- component versions ---- */

/* What `@version` resolves to among released (NULL when nothing matches). */
static const char *resolve(const char *version, const char *const *released, size_t n)
{
	_cleanup_free_ char *addr = xasprintf("gitlab.com/g/p/c@%s", version);
	struct fetch_component c;
	struct err err = ERR_INIT;
	if (fetch_component_parse(addr, &c, &err) < 0)
		fail_msg("%s", err.msg);
	long i = fetch_version_resolve(&c, released, n);
	fetch_component_release(&c);
	return i < 0 ? NULL : released[i];
}

static void test_version_resolve(void **state)
{
	(void)state;
	/* GitLab's example, in release order: semantic order wins, not the release date */
	static const char *const rel[] = {"1.0.0", "1.1.1", "2.1.0",     "1.1.0",  "1.2.0",
	                                  "2.0.0", "2.0.1", "3.0.0-rc1", "v4.0.0", "main"};
	size_t n = sizeof(rel) / sizeof(*rel);
	assert_string_equal(resolve("~latest", rel, n), "2.1.0");
	assert_string_equal(resolve("1", rel, n), "1.2.0");
	assert_string_equal(resolve("1.1", rel, n), "1.1.1");
	assert_string_equal(resolve("2.0", rel, n), "2.0.1");
	/* a pre-release is never chosen by ~latest or a partial version */
	assert_null(resolve("3", rel, n));
	assert_null(resolve("3.0", rel, n));
	/* tags that are not semantic versions are not versions */
	assert_null(resolve("4", rel, n));
	assert_null(resolve("9", rel, n));
	assert_null(resolve("~latest", rel, 0));
	static const char *const pre[] = {"8.0.0-pre", "7.1.0"};
	assert_string_equal(resolve("~latest", pre, 2), "7.1.0");
	/* 10 > 9 numerically */
	static const char *const nums[] = {"1.9.0", "1.10.0", "1.2.0"};
	assert_string_equal(resolve("1", nums, 3), "1.10.0");
}

static void test_semver_parse(void **state)
{
	(void)state;
	struct fetch_semver v;
	assert_int_equal(fetch_semver_parse("1.2.3", &v), 0);
	assert_int_equal(v.major, 1);
	assert_int_equal(v.minor, 2);
	assert_int_equal(v.patch, 3);
	assert_false(v.prerelease);
	assert_int_equal(fetch_semver_parse("0.10.0-rc.1+build.5", &v), 0);
	assert_true(v.prerelease);
	assert_int_equal(fetch_semver_parse("1.2.3+b", &v), 0);
	assert_false(v.prerelease);
	static const char *const bad[] = {"1.2",    "v1.2.3", "01.2.3", "1.2.3-",    "1.2.3-a..b",
	                                  "1.2.3+", "1.2.3 ", "1.2.x",  "1.2.3-a_b", ""};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		if (fetch_semver_parse(bad[i], &v) == 0)
			fail_msg("'%s' parsed", bad[i]);
}

/* ---- the GitLab API ---- */

static void test_gitlab_api(void **state)
{
	(void)state;
	_cleanup_free_ char *a =
	    gitlab_file_raw_url("https://gl.example:8443/", "grp/sub/proj", "ci/a b+.yml", "v1.0");
	assert_string_equal(a,
	                    "https://gl.example:8443/api/v4/projects/grp%2Fsub%2Fproj/repository/"
	                    "files/ci%2Fa%20b%2B.yml/raw?ref=v1.0");
	/* without a ref the API serves the default branch */
	_cleanup_free_ char *b = gitlab_file_raw_url("https://gl.example", "g/p", "x.yml", NULL);
	assert_string_equal(b,
	                    "https://gl.example/api/v4/projects/g%2Fp/repository/files/x.yml/raw");
	_cleanup_free_ char *c =
	    gitlab_file_raw_url("https://gl.example", "g/p", "x.yml", "feat/x");
	assert_non_null(strstr(c, "?ref=feat%2Fx"));
	/* component versions and templates: a nested template key is one encoded segment */
	_cleanup_free_ char *rel = gitlab_releases_url("https://gl.example/", "g/sub/comp");
	assert_string_equal(
	    rel, "https://gl.example/api/v4/projects/g%2Fsub%2Fcomp/releases?per_page=100");
	_cleanup_free_ char *tpl = gitlab_template_url("https://gl.example", "Jobs/SAST.latest");
	assert_string_equal(
	    tpl, "https://gl.example/api/v4/templates/gitlab_ci_ymls/Jobs%2FSAST.latest");
	_cleanup_free_ char *ver = gitlab_version_url("https://gl.example//");
	assert_string_equal(ver, "https://gl.example/api/v4/version");
	setenv("GITLAB_TOKEN", "glpat-1", 1);
	setenv("CI_JOB_TOKEN", "job-1", 1);
	_cleanup_free_ char *h1 = gitlab_token_header("gl.example");
	assert_string_equal(h1, "PRIVATE-TOKEN: glpat-1");
	setenv("GITLAB_TOKEN", "", 1);
	_cleanup_free_ char *h2 = gitlab_token_header("gl.example");
	assert_string_equal(h2, "JOB-TOKEN: job-1");
	unsetenv("GITLAB_TOKEN");
	unsetenv("CI_JOB_TOKEN");
	/* glab's stored logins, per host (the file is only read) */
	char tmpl[] = "/tmp/runnel-test-glab.XXXXXX";
	assert_non_null(mkdtemp(tmpl));
	_cleanup_free_ char *cfg = xasprintf("%s/config.yml", tmpl);
	FILE *f = fopen(cfg, "w");
	assert_non_null(f);
	fputs("git_protocol: ssh\nhosts:\n  gl.example:\n    token: glpat-glab\n"
	      "  sso.example:8443:\n    token: oauth-tok\n    is_oauth2: \"true\"\n",
	      f);
	fclose(f);
	setenv("GLAB_CONFIG_DIR", tmpl, 1);
	_cleanup_free_ char *h3 = gitlab_token_header("gl.example");
	assert_string_equal(h3, "PRIVATE-TOKEN: glpat-glab");
	_cleanup_free_ char *h4 = gitlab_token_header("sso.example:8443");
	assert_string_equal(h4, "Authorization: Bearer oauth-tok");
	assert_null(gitlab_token_header("other.example"));
	/* the environment wins over glab */
	setenv("CI_JOB_TOKEN", "job-2", 1);
	_cleanup_free_ char *h5 = gitlab_token_header("gl.example");
	assert_string_equal(h5, "JOB-TOKEN: job-2");
	unsetenv("CI_JOB_TOKEN");
	struct err err = ERR_INIT;
	assert_int_equal(fs_rmtree(tmpl, &err), 0);
	setenv("GLAB_CONFIG_DIR", "/nonexistent", 1);
	assert_null(gitlab_token_header("gl.example"));
	unsetenv("GLAB_CONFIG_DIR");
	assert_true(gitlab_ref_is_sha("0123456789abcdef0123456789abcdef01234567"));
	assert_false(gitlab_ref_is_sha("0123456"));
	assert_false(gitlab_ref_is_sha("main"));
	assert_false(gitlab_ref_is_sha(NULL));
}

/* ---- integrity and cache ---- */

static void test_integrity(void **state)
{
	(void)state;
	char out[52];
	/* `printf hello | openssl dgst -sha256 -binary | base64` */
	fetch_integrity_of("hello", 5, out);
	assert_string_equal(out, "sha256-LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ=");
	fetch_integrity_of("", 0, out);
	assert_string_equal(out, "sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
	assert_true(fetch_integrity_valid("sha256-LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ="));
	assert_false(fetch_integrity_valid("sha256-LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ"));
	assert_false(fetch_integrity_valid("sha512-LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ="));
	assert_false(fetch_integrity_valid("sha256-LPJNul+wow4m6Dsqxbnin!sWHlwfp0JecwQzYpOLmCQ="));
	assert_false(fetch_integrity_valid("LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ="));
}

static void test_cache(void **state)
{
	(void)state;
	char tmpl[] = "/tmp/runnel-test-fetch.XXXXXX";
	assert_non_null(mkdtemp(tmpl));
	struct fetch_url u;
	struct err err = ERR_INIT;
	assert_int_equal(fetch_url_parse("https://h.example:8443/ci.yml", &u, &err), 0);
	_cleanup_free_ char *p1 =
	    fetch_cache_remote_path(tmpl, &u, "https://h.example:8443/ci.yml", NULL);
	_cleanup_free_ char *p2 =
	    fetch_cache_remote_path(tmpl, &u, "https://h.example:8443/ci.yml",
	                            "sha256-LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ=");
	fetch_url_release(&u);
	/* per host and port; pinned and unpinned references are different entries */
	_cleanup_free_ char *dir = xasprintf("%s/remote/h.example_8443/", tmpl);
	assert_memory_equal(p1, dir, strlen(dir));
	assert_string_not_equal(p1, p2);
	struct strbuf sb = STRBUF_INIT;
	time_t mt = 0;
	assert_false(fetch_cache_get(p1, 100, &sb, &mt));
	assert_int_equal(fetch_cache_put(p1, "a: 1\n", 5, &err), 0);
	assert_true(fetch_cache_get(p1, 100, &sb, &mt));
	assert_string_equal(sb.buf, "a: 1\n");
	assert_true(mt > 0);
	/* no temporary file is left next to it */
	_cleanup_free_ char *tmp = xasprintf("%s.tmp.%ld", p1, (long)getpid());
	assert_int_equal(access(tmp, F_OK), -1);
	strbuf_release(&sb);
	assert_int_equal(fs_rmtree(tmpl, &err), 0);
}

static void test_cache_root(void **state)
{
	(void)state;
	setenv("XDG_CACHE_HOME", "/x/cache", 1);
	_cleanup_free_ char *a = fetch_cache_root();
	assert_string_equal(a, "/x/cache/runnel/includes");
	/* a relative XDG_CACHE_HOME is ignored, as the XDG specification says */
	setenv("XDG_CACHE_HOME", "rel", 1);
	setenv("HOME", "/home/u", 1);
	_cleanup_free_ char *b = fetch_cache_root();
	assert_string_equal(b, "/home/u/.cache/runnel/includes");
	unsetenv("XDG_CACHE_HOME");
	unsetenv("HOME");
	assert_null(fetch_cache_root());
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_url_forms),       cmocka_unit_test(test_url_bad),
	    cmocka_unit_test(test_component_forms), cmocka_unit_test(test_component_bad),
	    cmocka_unit_test(test_version_resolve), cmocka_unit_test(test_semver_parse),
	    cmocka_unit_test(test_gitlab_api),      cmocka_unit_test(test_integrity),
	    cmocka_unit_test(test_cache),           cmocka_unit_test(test_cache_root),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
