/* Tests for exec/script: the golden text of a generated script, and its behaviour when run by
 * the host's bash and sh (errexit, pipefail, echo of commands, GITLAB_ENV, file variables). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exec/script.h"
#include "model/job.h"
#include "util/strbuf.h"

static const char golden_body[] =
    "export CI='true'\n"
    "export MSG='it'\\''s'\n"
    "mkdir -p '/b/p.tmp'\n"
    "printf '%s' 'secret' > '/b/p.tmp/KEYFILE'\n"
    "export KEYFILE='/b/p.tmp/KEYFILE'\n"
    "export GITLAB_ENV='/b/p.tmp/gitlab_runner_env'\n"
    "mkdir -p '/b/p.tmp'\n"
    "touch '/b/p.tmp/gitlab_runner_env'\n"
    "while read -r line; do export \"$line\"; done < '/b/p.tmp/gitlab_runner_env'\n"
    "cd '/b/p'\n"
    "echo '$ echo hi'\n"
    "echo hi\n"
    "echo '$ if true; then # collapsed multi-line command'\n"
    "if true; then\n  echo multi\nfi\n"
    "echo\n\n";

static struct var vars_v[] = {
    {.key = "CI", .value = "true"},
    {.key = "MSG", .value = "it's"},
    {.key = "KEYFILE", .value = "secret", .file = true},
    /* names GitLab accepts but a shell cannot export: not in the script (the job gets them
     * in its container environment), never as text the shell would run or as a file path */
    {.key = "spring.profiles.active", .value = "ci"},
    {.key = "MY-VAR", .value = "x"},
    {.key = "A;touch injected", .value = "v"},
    {.key = "../../escape", .value = "s", .file = true},
    {.key = "9LIVES", .value = "cat"},
};
static struct var_list vars = {.v = vars_v, .n = 8, .alloc = 8};

static void test_golden_body(void **state)
{
	const char *cmds[] = {"  echo hi  ", "if true; then\n  echo multi\nfi\n", "   "};
	struct string_list sl = {cmds, 3};
	const struct string_list *parts[] = {&sl};
	struct script_opts o = {.vars = &vars,
	                        .project_dir = "/b/p",
	                        .tmp_dir = "/b/p.tmp",
	                        .parts = parts,
	                        .n_parts = 1};
	struct strbuf b = STRBUF_INIT;
	script_build_body(&o, &b);
	assert_string_equal(b.buf, golden_body);
	strbuf_release(&b);
}

static void test_golden_wrapper(void **state)
{
	const char *cmds[] = {"true"};
	struct string_list sl = {cmds, 1};
	const struct string_list *parts[] = {&sl};
	struct var_list none = {0};
	struct script_opts o = {.vars = &none,
	                        .project_dir = "/p",
	                        .tmp_dir = "/p.tmp",
	                        .parts = parts,
	                        .n_parts = 1,
	                        .color = true,
	                        .after_script = true};
	struct strbuf b = STRBUF_INIT;
	script_build(&o, &b);
	const char *prologue = "#!/usr/bin/env bash\n\ntrap exit 1 TERM\n\n"
	                       "if set -o | grep pipefail > /dev/null; then set -o pipefail; fi; "
	                       "set -o errexit\nset +o noclobber\n: | (eval '";
	assert_int_equal(strncmp(b.buf, prologue, strlen(prologue)), 0);
	/* the body is single-quoted inside the wrapper: its quotes appear as '\'' */
	assert_non_null(
	    strstr(b.buf, "echo '\\''\033[32;1mRunning after script...\033[0;m'\\''\n"));
	assert_non_null(strstr(b.buf, "echo '\\''\033[32;1m$ true\033[0;m'\\''\ntrue\n"));
	assert_string_equal(b.buf + b.len - strlen("')\nexit 0\n"), "')\nexit 0\n");
	strbuf_release(&b);

	char *const *argv = script_shell_probe_argv();
	assert_string_equal(argv[0], "sh");
	assert_string_equal(argv[1], "-c");
	assert_non_null(strstr(argv[2], "if [ -x /usr/local/bin/bash ]; then\n\texec "
	                                "/usr/local/bin/bash \nelif"));
	assert_non_null(strstr(argv[2], "\techo shell not found\n\texit 1\nfi\n"));
	assert_null(argv[3]);
}

/* Runs `script` with `shell` on stdin; returns the exit status, output in *out. */
static int run_shell(const char *shell, const char *script, struct strbuf *out)
{
	char in_path[] = "/tmp/runnel-test-script-XXXXXX";
	int fd = mkstemp(in_path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, script, strlen(script)), (ssize_t)strlen(script));
	close(fd);
	char *cmd = NULL;
	assert_true(asprintf(&cmd, "%s < %s 2>&1", shell, in_path) > 0);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	char buf[4096];
	size_t n;
	while ((n = fread(buf, 1, sizeof(buf), p)) > 0)
		strbuf_add(out, buf, n);
	int st = pclose(p);
	unlink(in_path);
	free(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int run_cmds(const char *shell, const char *dir, const char *const *cmds, size_t n,
                    struct strbuf *out)
{
	struct string_list sl = {(const char **)cmds, n};
	const struct string_list *parts[] = {&sl};
	char tmp[4096];
	snprintf(tmp, sizeof(tmp), "%s.tmp", dir);
	struct script_opts o = {
	    .vars = &vars, .project_dir = dir, .tmp_dir = tmp, .parts = parts, .n_parts = 1};
	struct strbuf b = STRBUF_INIT;
	script_build(&o, &b);
	int r = run_shell(shell, b.buf, out);
	strbuf_release(&b);
	return r;
}

static void check_shell(const char *shell)
{
	char dir[] = "/tmp/runnel-test-proj-XXXXXX";
	assert_non_null(mkdtemp(dir));
	struct strbuf out = STRBUF_INIT;

	/* echo of commands, cd, exported and file variables, errexit stops at the first failure */
	const char *c1[] = {"echo \"$MSG in $(pwd)\"", "cat \"$KEYFILE\"; echo",
	                    "echo KEY=fromenv >> \"$GITLAB_ENV\"", "(exit 7)", "echo not-reached"};
	assert_int_equal(run_cmds(shell, dir, c1, 5, &out), 7);
	char *want = NULL;
	assert_true(asprintf(&want, "$ echo \"$MSG in $(pwd)\"\nit's in %s\n", dir) > 0);
	assert_non_null(strstr(out.buf, want));
	free(want);
	assert_non_null(strstr(out.buf, "$ cat \"$KEYFILE\"; echo\nsecret\n"));
	assert_non_null(strstr(out.buf, "$ (exit 7)\n"));
	assert_null(strstr(out.buf, "not-reached"));

	/* GITLAB_ENV lines from a previous stage are exported in the next one */
	strbuf_reset(&out);
	const char *c2[] = {"echo \"got $KEY\""};
	assert_int_equal(run_cmds(shell, dir, c2, 1, &out), 0);
	assert_non_null(strstr(out.buf, "got fromenv"));

	/* a pipeline fails when a non-final part fails, if the shell has pipefail */
	strbuf_reset(&out);
	const char *c3[] = {"false | cat", "echo survived"};
	int r = run_cmds(shell, dir, c3, 2, &out);
	if (strstr(shell, "bash")) {
		assert_int_equal(r, 1);
		assert_null(strstr(out.buf, "survived"));
	} else {
		/* dash has no pipefail: the last command's status counts */
		assert_true(r == 0 || r == 1);
	}

	/* conditions are not subject to errexit; the script's last status is 0 */
	strbuf_reset(&out);
	const char *c4[] = {"if false; then echo no; fi", "false || echo alt", "echo done"};
	assert_int_equal(run_cmds(shell, dir, c4, 3, &out), 0);
	assert_non_null(strstr(out.buf, "alt\n"));
	assert_non_null(strstr(out.buf, "done\n"));

	char *rm = NULL;
	assert_true(asprintf(&rm, "rm -rf '%s' '%s.tmp'", dir, dir) > 0);
	assert_int_equal(system(rm), 0);
	free(rm);
	strbuf_release(&out);
}

static void test_run_bash(void **state)
{
	check_shell("bash");
}

static void test_run_sh(void **state)
{
	check_shell("sh");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_golden_body),
	    cmocka_unit_test(test_golden_wrapper),
	    cmocka_unit_test(test_run_bash),
	    cmocka_unit_test(test_run_sh),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
