/* script: generation of the per-stage job script. The layout and wording follow
 * gitlab-runner's BashWriter so job logs look the same; quoting uses POSIX single quotes
 * (its FF_POSIXLY_CORRECT_ESCAPES form) so dash and busybox sh run it too, and the body is
 * evaluated in a subshell (its FF_USE_NEW_BASH_EVAL_STRATEGY form): with a plain
 * `: | eval '...'` bash 5 reports exit status 1 for any failing command, which would break
 * allow_failure:exit_codes and retry:exit_codes. */
#include "exec/script.h"

#include <ctype.h>
#include <string.h>

#include "model/job.h"
#include "util/strbuf.h"

#define ANSI_BOLD_GREEN "\033[32;1m"
#define ANSI_RESET "\033[0;m"

static char *const probe_argv[] = {
    "sh",
    "-c",
    "if [ -x /usr/local/bin/bash ]; then\n"
    "\texec /usr/local/bin/bash \n"
    "elif [ -x /usr/bin/bash ]; then\n"
    "\texec /usr/bin/bash \n"
    "elif [ -x /bin/bash ]; then\n"
    "\texec /bin/bash \n"
    "elif [ -x /usr/local/bin/sh ]; then\n"
    "\texec /usr/local/bin/sh \n"
    "elif [ -x /usr/bin/sh ]; then\n"
    "\texec /usr/bin/sh \n"
    "elif [ -x /bin/sh ]; then\n"
    "\texec /bin/sh \n"
    "elif [ -x /busybox/sh ]; then\n"
    "\texec /busybox/sh \n"
    "else\n"
    "\techo shell not found\n"
    "\texit 1\n"
    "fi\n\n",
    NULL,
};

char *const *script_shell_probe_argv(void)
{
	return probe_argv;
}

static void line_export(struct strbuf *b, const char *key, const char *value)
{
	strbuf_addstr(b, "export ");
	strbuf_addstr(b, key);
	strbuf_addch(b, '=');
	strbuf_add_shell_quoted(b, value);
	strbuf_addch(b, '\n');
}

static void tmp_path(struct strbuf *b, const struct script_opts *o, const char *name)
{
	strbuf_addstr(b, o->tmp_dir);
	strbuf_addch(b, '/');
	strbuf_addstr(b, name);
}

/* mkdir -p tmp; printf '%s' value > tmp/KEY; export KEY=tmp/KEY */
static void file_variable(struct strbuf *b, const struct script_opts *o, const struct var *v)
{
	struct strbuf path = STRBUF_INIT;
	tmp_path(&path, o, v->key);
	strbuf_addstr(b, "mkdir -p ");
	strbuf_add_shell_quoted(b, o->tmp_dir);
	strbuf_addstr(b, "\nprintf '%s' ");
	strbuf_add_shell_quoted(b, v->value ? v->value : "");
	strbuf_addstr(b, " > ");
	strbuf_add_shell_quoted(b, path.buf);
	strbuf_addch(b, '\n');
	line_export(b, v->key, path.buf);
	strbuf_release(&path);
}

/* Variables, then GITLAB_ENV: its KEY=value lines (appended by earlier stages) are exported
 * again, so they reach later stages including after_script. */
/* A name the shell can export: GitLab accepts any string as a variable name
 * (`spring.profiles.active`, `MY-VAR`), which the job still gets in its environment (the
 * container's Env), but an export line with it would be a shell error, or worse. */
static bool shell_name(const char *k)
{
	if (!*k || isdigit((unsigned char)*k))
		return false;
	for (; *k; k++)
		if (!isalnum((unsigned char)*k) && *k != '_')
			return false;
	return true;
}

static void exports(struct strbuf *b, const struct script_opts *o)
{
	for (size_t i = 0; o->vars && i < o->vars->n; i++) {
		const struct var *v = &o->vars->v[i];
		if (!shell_name(v->key))
			continue;
		if (v->file)
			file_variable(b, o, v);
		else
			line_export(b, v->key, v->value ? v->value : "");
	}
	struct strbuf env = STRBUF_INIT;
	tmp_path(&env, o, "gitlab_runner_env");
	line_export(b, "GITLAB_ENV", env.buf);
	strbuf_addstr(b, "mkdir -p ");
	strbuf_add_shell_quoted(b, o->tmp_dir);
	strbuf_addstr(b, "\ntouch ");
	strbuf_add_shell_quoted(b, env.buf);
	strbuf_addstr(b, "\nwhile read -r line; do export \"$line\"; done < ");
	strbuf_add_shell_quoted(b, env.buf);
	strbuf_addch(b, '\n');
	strbuf_release(&env);
}

static void notice(struct strbuf *b, const struct script_opts *o, const char *text, size_t len)
{
	struct strbuf t = STRBUF_INIT;
	if (o->color)
		strbuf_addstr(&t, ANSI_BOLD_GREEN);
	strbuf_add(&t, text, len);
	if (o->color)
		strbuf_addstr(&t, ANSI_RESET);
	strbuf_addstr(b, "echo ");
	strbuf_add_shell_quoted(b, t.buf);
	strbuf_addch(b, '\n');
	strbuf_release(&t);
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* One command: echoed as `$ cmd` (first line + " # collapsed multi-line command" when it
 * has several), then written as is. An empty command echoes an empty line. */
static void command(struct strbuf *b, const struct script_opts *o, const char *cmd)
{
	const char *s = cmd, *e = cmd + strlen(cmd);
	while (s < e && is_space(*s))
		s++;
	while (e > s && is_space(e[-1]))
		e--;
	if (s == e) {
		strbuf_addstr(b, "echo\n\n");
		return;
	}
	const char *nl = memchr(s, '\n', (size_t)(e - s));
	struct strbuf t = STRBUF_INIT;
	strbuf_addstr(&t, "$ ");
	strbuf_add(&t, s, (size_t)((nl ? nl : e) - s));
	if (nl)
		strbuf_addstr(&t, " # collapsed multi-line command");
	notice(b, o, t.buf, t.len);
	strbuf_release(&t);
	strbuf_add(b, s, (size_t)(e - s));
	strbuf_addch(b, '\n');
}

void script_build_body(const struct script_opts *o, struct strbuf *out)
{
	exports(out, o);
	strbuf_addstr(out, "cd ");
	strbuf_add_shell_quoted(out, o->project_dir);
	strbuf_addch(out, '\n');
	if (o->after_script) {
		static const char msg[] = "Running after script...";
		notice(out, o, msg, sizeof(msg) - 1);
	}
	for (size_t p = 0; p < o->n_parts; p++)
		for (size_t i = 0; o->parts[p] && i < o->parts[p]->n; i++)
			command(out, o, o->parts[p]->v[i]);
}

void script_build(const struct script_opts *o, struct strbuf *out)
{
	struct strbuf body = STRBUF_INIT;
	script_build_body(o, &body);
	strbuf_addstr(out, "#!/usr/bin/env bash\n\n"
	                   "trap exit 1 TERM\n\n");
	if (o->trace)
		strbuf_addstr(out, "set -o xtrace\n");
	strbuf_addstr(out, "if set -o | grep pipefail > /dev/null; then set -o pipefail; fi; "
	                   "set -o errexit\n"
	                   "set +o noclobber\n"
	                   ": | (eval ");
	strbuf_add_shell_quoted(out, body.buf);
	strbuf_addstr(out, ")\nexit 0\n");
	strbuf_release(&body);
}
