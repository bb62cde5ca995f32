/* Unit tests for runner/config.c: gitlab-runner's defaults, the keys of [[runners]] and
 * [runners.docker], the one list of unsupported keys, type errors with their position, and
 * register/unregister edits that keep the other runners and unknown keys. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exec/settings.h"
#include "runner/config-settings.h"
#include "runner/config.h"
#include "util/cleanup.h"
#include "util/err.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

/* A file as gitlab-runner 17 writes it, with keys runnel does not act on. */
static const char *const real_file = "concurrent = 4\n"
                                     "check_interval = 0\n"
                                     "connection_max_age = \"15m0s\"\n"
                                     "shutdown_timeout = 0\n"
                                     "\n"
                                     "[session_server]\n"
                                     "  session_timeout = 1800\n"
                                     "\n"
                                     "[[runners]]\n"
                                     "  name = \"host-a\"\n"
                                     "  url = \"https://gitlab.example.com\"\n"
                                     "  id = 85\n"
                                     "  token = \"glrt-abcdefghijklmnopqrst\"\n"
                                     "  token_obtained_at = 2024-05-16T09:17:08Z\n"
                                     "  token_expires_at = 0001-01-01T00:00:00Z\n"
                                     "  executor = \"docker\"\n"
                                     "  environment = [\"DOCKER_DRIVER=overlay2\"]\n"
                                     "  output_limit = 8192\n"
                                     "  [runners.cache]\n"
                                     "    MaxUploadedArchiveSize = 0\n"
                                     "  [runners.docker]\n"
                                     "    tls_verify = false\n"
                                     "    image = \"docker:24\"\n"
                                     "    privileged = true\n"
                                     "    disable_cache = false\n"
                                     "    volumes = [\"/certs/client\", \"/cache\"]\n"
                                     "    shm_size = 0\n"
                                     "    network_mtu = 1400\n"
                                     "    pull_policy = \"if-not-present\"\n"
                                     "\n"
                                     "[[runners]]\n"
                                     "  name = \"host-b\"\n"
                                     "  url = \"https://gitlab.example.com\"\n"
                                     "  token = \"glrt-second\"\n"
                                     "  executor = \"shell\"\n"
                                     "  limit = 2\n"
                                     "  clone_url = \"https://mirror\"\n";

static void test_real_file(void **state)
{
	(void)state;
	struct runner_config c;
	runner_config_init(&c);
	struct err err = ERR_INIT;
	assert_int_equal(runner_config_parse(&c, "config.toml", real_file, strlen(real_file), &err),
	                 0);
	assert_int_equal(c.concurrent, 4);
	assert_int_equal(runner_config_interval(&c), 3);
	assert_int_equal(c.shutdown_timeout, 0);
	assert_int_equal(c.n, 2);
	assert_string_equal(c.runners[0].name, "host-a");
	assert_int_equal(c.runners[0].id, 85);
	assert_string_equal(c.runners[0].token_obtained_at, "2024-05-16T09:17:08Z");
	assert_string_equal(c.runners[0].executor, "docker");
	assert_int_equal(c.runners[0].output_limit, 8192);
	assert_int_equal(c.runners[0].request_concurrency, 1);
	assert_string_equal(c.runners[0].environment.v[0], "DOCKER_DRIVER=overlay2");
	assert_string_equal(toml_get(c.runners[0].docker, "image")->s, "docker:24");
	assert_int_equal(c.runners[1].limit, 2);
	assert_int_equal(c.runners[1].output_limit, 4096);
	assert_null(c.runners[1].docker);
	/* zero values gitlab-runner writes by default are not reported; the rest are, once */
	assert_int_equal(c.unsupported.n, 5);
	assert_string_equal(c.unsupported.v[0], "connection_max_age");
	assert_string_equal(c.unsupported.v[1], "session_server");
	assert_string_equal(c.unsupported.v[2], "runners[0].cache");
	assert_string_equal(c.unsupported.v[3], "runners[0].docker.network_mtu");
	assert_string_equal(c.unsupported.v[4], "runners[1].clone_url");
	runner_config_release(&c);
}

static void expect_error(const char *text, unsigned line, unsigned col, const char *want)
{
	struct runner_config c;
	runner_config_init(&c);
	struct err err = ERR_INIT;
	assert_int_equal(runner_config_parse(&c, "c.toml", text, strlen(text), &err), -1);
	if (!strstr(err.msg, want) || err.loc.line != line || err.loc.col != col)
		fail_msg("got %u:%u: %s", err.loc.line, err.loc.col, err.msg);
	assert_string_equal(err.loc.file, "c.toml");
	err_release(&err);
	runner_config_release(&c);
}

static void test_errors(void **state)
{
	(void)state;
	expect_error("concurrent = \"4\"\n", 1, 14, "'concurrent' must be an integer");
	expect_error("[[runners]]\n  limit = true\n", 2, 11,
	             "'runners[0].limit' must be an integer");
	expect_error("[[runners]]\n  executor = \"kubernetes\"\n", 2, 14,
	             "executor 'kubernetes' is not supported");
	expect_error("[[runners]]\n[runners.docker]\nvolumes = [1]\n", 3, 11,
	             "'runners[0].docker.volumes' must be an array of strings");
	expect_error("runners = 1\n", 1, 11, "must be an array of tables");
	expect_error("concurrent = 1\nconcurrent = 2\n", 2, 1, "duplicate key 'concurrent'");
}

static void test_register_unregister(void **state)
{
	(void)state;
	char dir[] = "/tmp/runnel-cfg-XXXXXX";
	assert_non_null(mkdtemp(dir));
	_cleanup_free_ char *path = xasprintf("%s/sub/config.toml", dir);
	struct runner_config c;
	runner_config_init(&c);
	struct err err = ERR_INIT;
	assert_int_equal(runner_config_load(&c, path, true, &err), 0);
	assert_false(c.exists);
	struct runner_new r = {.name = "one",
	                       .url = "http://127.0.0.1:1",
	                       .token = "glrt-1",
	                       .executor = "docker",
	                       .docker_image = "alpine:3",
	                       .token_obtained_at = "2026-12-04T20:00:00Z"};
	assert_int_equal(runner_config_add(&c, &r, &err), 0);
	r.name = "two";
	r.token = "glrt-2";
	r.executor = "shell";
	r.docker_image = NULL;
	assert_int_equal(runner_config_add(&c, &r, &err), 0);
	assert_int_equal(runner_config_save(&c, path, &err), 0);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	runner_config_release(&c);

	runner_config_init(&c);
	assert_int_equal(runner_config_load(&c, path, false, &err), 0);
	assert_int_equal(c.n, 2);
	assert_string_equal(c.runners[0].token, "glrt-1");
	assert_string_equal(toml_get(c.runners[0].docker, "image")->s, "alpine:3");
	assert_int_equal(c.concurrent, 1);
	/* an unknown key survives the rewrite */
	toml_set(c.doc.root, "listen_address", toml_new_string(":9252"));
	assert_int_equal(runner_config_remove(&c, 0, &err), 0);
	assert_int_equal(runner_config_save(&c, path, &err), 0);
	runner_config_release(&c);

	runner_config_init(&c);
	assert_int_equal(runner_config_load(&c, path, false, &err), 0);
	assert_int_equal(c.n, 1);
	assert_string_equal(c.runners[0].name, "two");
	assert_string_equal(c.unsupported.v[0], "listen_address");
	runner_config_release(&c);

	/* a missing file without missing_ok is an environment error naming the file */
	_cleanup_free_ char *none = xasprintf("%s/none.toml", dir);
	runner_config_init(&c);
	assert_int_equal(runner_config_load(&c, none, false, &err), -1);
	assert_int_equal(err.kind, ERR_ENV);
	assert_non_null(strstr(err.msg, "none.toml"));
	err_release(&err);
	runner_config_release(&c);
	unlink(path);
	_cleanup_free_ char *sub = xasprintf("%s/sub", dir);
	rmdir(sub);
	rmdir(dir);
}

/* [runners.docker] reaches the executors' runner settings as gitlab-runner applies it. */
static void test_apply_settings(void **state)
{
	(void)state;
	struct runner_config c;
	runner_config_init(&c);
	struct err err = ERR_INIT;
	assert_int_equal(runner_config_parse(&c, "config.toml", real_file, strlen(real_file), &err),
	                 0);
	struct runner_settings s;
	runner_settings_init(&s);
	strvec_push(&s.volumes, "/from-settings-yml");
	runner_entry_apply_settings(&c.runners[0], &s);
	assert_string_equal(s.default_image, "docker:24");
	assert_true(s.privileged);
	assert_int_equal(s.services_privileged, -1);
	assert_int_equal(s.volumes.n, 2);
	assert_string_equal(s.volumes.v[0], "/certs/client");
	assert_string_equal(s.pull_policy, "if-not-present");
	assert_string_equal(s.environment.v[0], "DOCKER_DRIVER=overlay2");
	assert_int_equal(s.wait_for_services_timeout, 30);
	/* a runner without [runners.docker] leaves the settings as they were */
	runner_entry_apply_settings(&c.runners[1], &s);
	assert_string_equal(s.default_image, "docker:24");
	runner_settings_release(&s);
	runner_config_release(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_real_file),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_register_unregister),
	    cmocka_unit_test(test_apply_settings),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
