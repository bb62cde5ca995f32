/* runnel lint: checks the configuration and reports every error it can find (not just the
 * first) with its location, source line and caret; `valid` and exit 0 when there is none. */
#include "cli/cmds.h"

#include <jansson.h>
#include <string.h>

#include "cli/ctx.h"
#include "cli/diag.h"
#include "util/cleanup.h"

enum { OPT_JSON = 'j' };

struct lint_opts {
	bool json;
};

static const struct cli_option lint_opts_table[] = {
    {"json", OPT_JSON, false, NULL,
     "print {\"valid\": bool, \"errors\": [...], \"warnings\": [...]} on stdout"},
    {NULL, 0, false, NULL, NULL},
};

static int lint_on_opt(void *data, int key, const char *arg)
{
	struct lint_opts *o = data;
	(void)arg;
	if (key == OPT_JSON)
		o->json = true;
	return 0;
}

static json_t *diag_json(const struct diag *d)
{
	json_t *o = json_object();
	json_object_set_new(o, "file", d->loc.file ? json_string(d->loc.file) : json_null());
	json_object_set_new(o, "line", json_integer(d->loc.line));
	json_object_set_new(o, "column", json_integer(d->loc.col));
	json_object_set_new(o, "severity", json_string(d->warning ? "warning" : "error"));
	json_object_set_new(o, "message", json_string(d->msg));
	return o;
}

static void add_diags(json_t *errors, json_t *warnings, const struct diag_list *dl)
{
	for (size_t i = 0; i < dl->n; i++)
		json_array_append_new(dl->v[i].warning ? warnings : errors, diag_json(&dl->v[i]));
}

static void print_json(bool valid, const struct diag_list *diags, const struct diag_list *warns)
{
	json_t *errors = json_array(), *warnings = json_array();
	add_diags(errors, warnings, diags);
	if (warns)
		add_diags(errors, warnings, warns);
	json_t *o = json_object();
	json_object_set_new(o, "valid", json_boolean(valid));
	json_object_set_new(o, "errors", errors);
	json_object_set_new(o, "warnings", warnings);
	json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', stdout);
	json_decref(o);
}

/* Loads with error collection; returns the exit code. */
static int lint(struct cli_ctx *ctx, const struct lint_opts *lo)
{
	_cleanup_(diag_list_release) struct diag_list diags = DIAG_LIST_INIT;
	struct pipeline_opts po = {.collect_all_errors = true, .diags = &diags};
	struct err err = ERR_INIT;
	struct pipeline *p = cli_ctx_load(ctx, &po, &err);
	int rc = 0;
	if (!p && !diag_list_errors(&diags)) {
		/* an error that stopped collection early (I/O, limits): report it as the result */
		if (!err_is_set(&err))
			err_set(&err, ERR_CONFIG, "invalid configuration");
		rc = err_exit_code(&err);
		diag_list_take_err(&diags, &err);
	} else if (!p || diag_list_errors(&diags)) {
		rc = 3;
	}
	err_release(&err);
	size_t nerr = diag_list_errors(&diags);
	if (lo->json) {
		print_json(rc == 0, &diags, p ? &p->warnings : NULL);
	} else {
		diag_print_list(stderr, &diags);
		if (p)
			diag_print_list(stderr, &p->warnings);
		if (rc == 0)
			printf("valid\n");
		else
			fprintf(stderr, "%zu error%s\n", nerr, nerr == 1 ? "" : "s");
	}
	pipeline_free(p);
	return rc;
}

int cmd_lint(int argc, char **argv)
{
	struct lint_opts o = {0};
	const struct cli_verb verb = {
	    .name = "lint",
	    .synopsis = "[--json] [options]",
	    .summary = "Check the configuration; print `valid`, or every error as "
	               "file:line:col with the source line (exit 3).",
	    .opts = lint_opts_table,
	    .on_opt = lint_on_opt,
	    .data = &o,
	    .min_args = 0,
	    .max_args = 0,
	};
	_cleanup_(cli_session_release) struct cli_session s = CLI_SESSION_INIT;
	if (!cli_session_start(&s, argc, argv, &verb))
		return s.rc;
	return lint(&s.ctx, &o);
}
