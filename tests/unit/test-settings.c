/* Tests for exec/settings: YAML settings files (keys, types, override order, file:line:col
 * errors), CLI flag application and the allowed_images globs. */
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
#include "util/xalloc.h"

static char tmpdir[] = "/tmp/runnel-test-settings-XXXXXX";

static char *write_file(const char *name, const char *text)
{
	char *p = xasprintf("%s/%s", tmpdir, name);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return p;
}

static void test_defaults(void **state)
{
	(void)state;
	struct runner_settings s;
	runner_settings_init(&s);
	assert_false(s.privileged);
	assert_int_equal(s.services_privileged, -1);
	assert_int_equal(s.wait_for_services_timeout, 30);
	assert_null(s.pull_policy);
	assert_int_equal(s.volumes.n, 0);
	assert_non_null(s.volumes.v);
	runner_settings_release(&s);
}

static void test_load_all_keys(void **state)
{
	(void)state;
	char *p = write_file("all.yml", "privileged: true\n"
	                                "services_privileged: false\n"
	                                "volumes: [\"/certs/client\", \"/tmp/x:/x:ro\"]\n"
	                                "cap_add: [NET_ADMIN]\n"
	                                "cap_drop: [MKNOD]\n"
	                                "security_opt: [\"seccomp=unconfined\"]\n"
	                                "devices: [/dev/fuse]\n"
	                                "extra_hosts: [\"h:1.2.3.4\"]\n"
	                                "dns: [8.8.8.8]\n"
	                                "network_mode: mynet\n"
	                                "pull_policy: [never, always]\n"
	                                "allowed_images: [\"docker:*\"]\n"
	                                "allowed_services: [\"**\"]\n"
	                                "allowed_pull_policies: [never, if-not-present]\n"
	                                "wait_for_services_timeout: 5\n"
	                                "image: alpine:3\n"
	                                "dind_cache: true\n"
	                                "environment: [\"A=1\", \"B=two=2\"]\n");
	struct runner_settings s;
	runner_settings_init(&s);
	struct err err = ERR_INIT;
	assert_int_equal(runner_settings_load(&s, p, &err), 0);
	assert_true(s.privileged);
	assert_int_equal(s.services_privileged, 0);
	assert_int_equal(s.volumes.n, 2);
	assert_string_equal(s.volumes.v[1], "/tmp/x:/x:ro");
	assert_string_equal(s.cap_add.v[0], "NET_ADMIN");
	assert_string_equal(s.cap_drop.v[0], "MKNOD");
	assert_string_equal(s.security_opt.v[0], "seccomp=unconfined");
	assert_string_equal(s.devices.v[0], "/dev/fuse");
	assert_string_equal(s.extra_hosts.v[0], "h:1.2.3.4");
	assert_string_equal(s.dns.v[0], "8.8.8.8");
	assert_string_equal(s.network_mode, "mynet");
	assert_string_equal(s.pull_policy, "never");
	assert_int_equal(s.allowed_pull_policies.n, 2);
	assert_int_equal(s.wait_for_services_timeout, 5);
	assert_string_equal(s.default_image, "alpine:3");
	assert_true(s.dind_cache);
	assert_string_equal(s.environment.v[1], "B=two=2");
	runner_settings_release(&s);
	free(p);
}

/* user file then project file: scalars and whole lists are overridden, the rest kept */
static void test_override_order(void **state)
{
	(void)state;
	char *u = write_file("user.yml", "privileged: true\nvolumes: [/a]\nimage: debian\n");
	char *proj = write_file("proj.yml", "volumes: [/b, /c]\nimage: alpine\n");
	struct runner_settings s;
	runner_settings_init(&s);
	struct err err = ERR_INIT;
	assert_int_equal(runner_settings_load(&s, u, &err), 0);
	assert_int_equal(runner_settings_load(&s, proj, &err), 0);
	assert_true(s.privileged);
	assert_int_equal(s.volumes.n, 2);
	assert_string_equal(s.volumes.v[0], "/b");
	assert_string_equal(s.default_image, "alpine");
	runner_settings_release(&s);
	free(u);
	free(proj);
}

static void test_load_default_paths(void **state)
{
	(void)state;
	char *cfg = xasprintf("%s/xdg", tmpdir);
	char *rdir = xasprintf("%s/xdg/runnel", tmpdir);
	mkdir(cfg, 0700);
	mkdir(rdir, 0700);
	char *u = write_file("xdg/runnel/settings.yml", "privileged: true\npull_policy: never\n");
	char *projdir = xasprintf("%s/proj", tmpdir);
	mkdir(projdir, 0700);
	char *proj = write_file("proj/.runnel.yml", "pull_policy: always\n");
	setenv("XDG_CONFIG_HOME", cfg, 1);
	struct runner_settings s;
	runner_settings_init(&s);
	struct err err = ERR_INIT;
	assert_int_equal(runner_settings_load_default(&s, projdir, &err), 0);
	assert_true(s.privileged);
	assert_string_equal(s.pull_policy, "always");
	assert_int_equal(s.sources.n, 2);
	runner_settings_release(&s);
	/* a missing file is not an error */
	runner_settings_init(&s);
	assert_int_equal(runner_settings_load(&s, "/nonexistent/runnel.yml", &err), 0);
	assert_int_equal(s.sources.n, 0);
	runner_settings_release(&s);
	unsetenv("XDG_CONFIG_HOME");
	free(cfg), free(rdir), free(u), free(projdir), free(proj);
}

struct bad_case {
	const char *text;
	unsigned line, col;
	const char *msg;
};

static void test_errors(void **state)
{
	(void)state;
	static const struct bad_case cases[] = {
	    {"privileged: true\nprivilegd: true\n", 2, 1, "unknown setting 'privilegd'"},
	    {"privileged: maybe\n", 1, 13,
	     "setting 'privileged' must be true or false, not string"},
	    {"volumes: /certs\n", 1, 10, "setting 'volumes' must be a list of strings, not string"},
	    {"volumes:\n  - /a\n  - {x: 1}\n", 3, 5,
	     "setting 'volumes' must be a list of strings, item 2 is hash"},
	    {"wait_for_services_timeout: soon\n", 1, 28,
	     "setting 'wait_for_services_timeout' must be a number of seconds (-1 = off)"},
	    {"pull_policy: sometimes\n", 1, 14,
	     "setting 'pull_policy' must be always, if-not-present or never"},
	    {"environment: [NOEQUALS]\n", 1, 15, "environment entry 'NOEQUALS' must be KEY=value"},
	    {"- a\n- b\n", 1, 1, "settings must be a map of keys"},
	    {"network_mode: [a]\n", 1, 15, "setting 'network_mode' must be a string, not array"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *name = xasprintf("bad%zu.yml", i);
		char *p = write_file(name, cases[i].text);
		struct runner_settings s;
		runner_settings_init(&s);
		struct err err = ERR_INIT;
		assert_int_equal(runner_settings_load(&s, p, &err), -1);
		assert_int_equal(err.kind, ERR_CONFIG);
		assert_string_equal(err.msg, cases[i].msg);
		assert_non_null(err.loc.file);
		assert_string_equal(err.loc.file, p);
		assert_int_equal(err.loc.line, cases[i].line);
		assert_int_equal(err.loc.col, cases[i].col);
		err_release(&err);
		runner_settings_release(&s);
		free(p);
		free(name);
	}
}

static void test_syntax_error(void **state)
{
	(void)state;
	char *p = write_file("syntax.yml", "privileged: [true\n");
	struct runner_settings s;
	runner_settings_init(&s);
	struct err err = ERR_INIT;
	assert_int_equal(runner_settings_load(&s, p, &err), -1);
	assert_int_equal(err.kind, ERR_CONFIG);
	assert_true(err.loc.line >= 1);
	err_release(&err);
	runner_settings_release(&s);
	free(p);
}

static void test_flags(void **state)
{
	(void)state;
	struct runner_settings s;
	runner_settings_init(&s);
	struct err err = ERR_INIT;
	strvec_push(&s.volumes, "/from-file");
	assert_int_equal(runner_settings_apply_flag(&s, "--privileged", NULL, &err), 0);
	assert_true(s.privileged);
	assert_int_equal(runner_settings_apply_flag(&s, "--privileged", "false", &err), 0);
	assert_false(s.privileged);
	assert_int_equal(runner_settings_apply_flag(&s, "services-privileged", "1", &err), 0);
	assert_int_equal(s.services_privileged, 1);
	assert_int_equal(runner_settings_apply_flag(&s, "--volume", "/a:/b", &err), 0);
	assert_int_equal(s.volumes.n, 2);
	assert_string_equal(s.volumes.v[1], "/a:/b");
	assert_int_equal(runner_settings_apply_flag(&s, "--cap-add", "SYS_ADMIN", &err), 0);
	assert_int_equal(runner_settings_apply_flag(&s, "--cap-drop", "NET_RAW", &err), 0);
	assert_int_equal(runner_settings_apply_flag(&s, "--security-opt", "label=disable", &err),
	                 0);
	assert_int_equal(runner_settings_apply_flag(&s, "--device", "/dev/kvm", &err), 0);
	assert_int_equal(runner_settings_apply_flag(&s, "--network-mode", "host", &err), 0);
	assert_int_equal(runner_settings_apply_flag(&s, "--pull-policy", "never", &err), 0);
	assert_int_equal(runner_settings_apply_flag(&s, "--dind-cache", NULL, &err), 0);
	assert_int_equal(runner_settings_apply_flag(&s, "--wait-for-services-timeout", "-1", &err),
	                 0);
	assert_string_equal(s.cap_add.v[0], "SYS_ADMIN");
	assert_string_equal(s.cap_drop.v[0], "NET_RAW");
	assert_string_equal(s.security_opt.v[0], "label=disable");
	assert_string_equal(s.devices.v[0], "/dev/kvm");
	assert_string_equal(s.network_mode, "host");
	assert_string_equal(s.pull_policy, "never");
	assert_true(s.dind_cache);
	assert_int_equal(s.wait_for_services_timeout, -1);

	assert_int_equal(runner_settings_apply_flag(&s, "--pull-policy", "often", &err), -1);
	assert_int_equal(err.kind, ERR_USAGE);
	assert_non_null(strstr(err.msg, "'often'"));
	err_release(&err);
	assert_int_equal(runner_settings_apply_flag(&s, "--privileged", "perhaps", &err), -1);
	err_release(&err);
	assert_int_equal(runner_settings_apply_flag(&s, "--volume", "", &err), -1);
	err_release(&err);
	assert_int_equal(runner_settings_apply_flag(&s, "--bogus", "x", &err), -1);
	assert_string_equal(err.msg, "unknown runner option '--bogus'");
	err_release(&err);
	assert_string_equal(s.pull_policy, "never"); /* failed flags change nothing */
	runner_settings_release(&s);
}

static void test_globs(void **state)
{
	(void)state;
	assert_true(runner_settings_glob_match("docker:*", "docker:24-dind"));
	assert_false(runner_settings_glob_match("docker:*", "library/docker:24"));
	assert_true(runner_settings_glob_match("**/docker:*", "library/docker:24"));
	assert_true(runner_settings_glob_match("**/docker:*", "docker:24"));
	assert_true(
	    runner_settings_glob_match("registry.example.com/**", "registry.example.com/a/b:1"));
	assert_false(
	    runner_settings_glob_match("registry.example.com/*", "registry.example.com/a/b:1"));
	assert_true(runner_settings_glob_match("postgres:1?", "postgres:15"));
	assert_false(runner_settings_glob_match("postgres:1?", "postgres:150"));
	assert_true(runner_settings_glob_match("**", "anything/at/all"));

	struct runner_settings s;
	runner_settings_init(&s);
	assert_true(runner_settings_image_allowed(&s, "whatever", true)); /* empty = all */
	strvec_push(&s.allowed_services, "docker:*-dind");
	strvec_push(&s.allowed_images, "alpine:*");
	assert_true(runner_settings_image_allowed(&s, "docker:24-dind", true));
	assert_false(runner_settings_image_allowed(&s, "postgres:15", true));
	assert_true(runner_settings_image_allowed(&s, "alpine:3", false));
	assert_false(runner_settings_image_allowed(&s, "docker:24-dind", false));
	runner_settings_release(&s);
}

/* services_limit, allowed_privileged_images/_services and --lenient (issue 4). */
static void test_services_limit_and_privileged_keys(void **state)
{
	(void)state;
	struct runner_settings s;
	runner_settings_init(&s);
	assert_int_equal(s.services_limit, -1);
	assert_false(s.lenient);
	struct err err = ERR_INIT;
	char *p = write_file("limits.yml", "services_limit: 2\n"
	                                   "allowed_privileged_images: [\"docker:*\"]\n"
	                                   "allowed_privileged_services: [\"docker:*-dind\", "
	                                   "\"**/dind:*\"]\n");
	assert_int_equal(runner_settings_load(&s, p, &err), 0);
	assert_int_equal(s.services_limit, 2);
	assert_int_equal(s.allowed_privileged_images.n, 1);
	assert_string_equal(s.allowed_privileged_services.v[1], "**/dind:*");
	free(p);
	p = write_file("badlimit.yml", "services_limit: many\n");
	assert_int_equal(runner_settings_load(&s, p, &err), -1);
	assert_non_null(strstr(err.msg, "setting 'services_limit' must be a number of services "
	                                "(-1 = unlimited)"));
	assert_int_equal(err.loc.line, 1);
	assert_int_equal(err.loc.col, 17);
	err_release(&err);
	free(p);
	assert_int_equal(runner_settings_apply_flag(&s, "--services-limit", "0", &err), 0);
	assert_int_equal(s.services_limit, 0);
	assert_int_equal(runner_settings_apply_flag(&s, "--services-limit", "x", &err), -1);
	assert_non_null(strstr(err.msg, "takes a number of services, not 'x'"));
	err_release(&err);
	assert_int_equal(runner_settings_apply_flag(&s, "--lenient", NULL, &err), 0);
	assert_true(s.lenient);
	runner_settings_release(&s);
	assert_int_equal(s.allowed_privileged_services.n, 0); /* release resets */
}

/* keep_runs: how many runs .runnel/runs keeps (issue 13). */
static void test_keep_runs(void **state)
{
	(void)state;
	struct runner_settings s;
	runner_settings_init(&s);
	assert_int_equal(s.keep_runs, 20);
	struct err err = ERR_INIT;
	char *p = write_file("keep.yml", "keep_runs: 3\n");
	assert_int_equal(runner_settings_load(&s, p, &err), 0);
	assert_int_equal(s.keep_runs, 3);
	free(p);
	p = write_file("badkeep.yml", "keep_runs: [1]\n");
	assert_int_equal(runner_settings_load(&s, p, &err), -1);
	assert_non_null(strstr(err.msg, "setting 'keep_runs' must be a number of runs (-1 = all)"));
	err_release(&err);
	free(p);
	runner_settings_release(&s);
}

static void test_privileged_for(void **state)
{
	(void)state;
	assert_false(runner_settings_privileged_for(NULL, "docker:24-dind", true));
	struct runner_settings s;
	runner_settings_init(&s);
	assert_false(runner_settings_privileged_for(&s, "docker:24-dind", true));
	s.privileged = true;
	/* empty lists: everything privileged, as before */
	assert_true(runner_settings_privileged_for(&s, "docker:24-dind", true));
	assert_true(runner_settings_privileged_for(&s, "alpine:3", false));
	strvec_push(&s.allowed_privileged_services, "docker:*-dind");
	strvec_push(&s.allowed_privileged_images, "docker:*");
	assert_true(runner_settings_privileged_for(&s, "docker:24-dind", true));
	assert_false(runner_settings_privileged_for(&s, "postgres:15", true));
	assert_false(
	    runner_settings_privileged_for(&s, "registry.example.com/docker:24-dind", true));
	assert_true(runner_settings_privileged_for(&s, "docker:24", false));
	assert_false(runner_settings_privileged_for(&s, "alpine:3", false));
	/* services_privileged decides for services; the list still filters */
	s.services_privileged = 0;
	assert_false(runner_settings_privileged_for(&s, "docker:24-dind", true));
	s.privileged = false;
	s.services_privileged = 1;
	assert_true(runner_settings_privileged_for(&s, "docker:24-dind", true));
	assert_false(runner_settings_privileged_for(&s, "postgres:15", true));
	assert_false(runner_settings_privileged_for(&s, "docker:24", false));
	runner_settings_release(&s);
}

static int setup(void **state)
{
	(void)state;
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	char *cmd = xasprintf("rm -rf '%s'", tmpdir);
	int r = system(cmd);
	free(cmd);
	return r == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_load_all_keys),
	    cmocka_unit_test(test_override_order),
	    cmocka_unit_test(test_load_default_paths),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_syntax_error),
	    cmocka_unit_test(test_flags),
	    cmocka_unit_test(test_globs),
	    cmocka_unit_test(test_services_limit_and_privileged_keys),
	    cmocka_unit_test(test_keep_runs),
	    cmocka_unit_test(test_privileged_for),
	};
	return cmocka_run_group_tests_name("settings", tests, setup, teardown);
}
