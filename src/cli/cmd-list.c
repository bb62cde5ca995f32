/* runnel list: the jobs of the pipeline for the current context, in stage order, after
 * rules and parallel expansion: a table for people, or JSON for tools. */
#include "cli/cmds.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cli/ctx.h"
#include "util/cleanup.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

enum { OPT_JSON = 'j' };

struct list_opts {
	bool json;
};

static const struct cli_option list_opts_table[] = {
    {"json", OPT_JSON, false, NULL, "print a JSON array of job objects"},
    {NULL, 0, false, NULL, NULL},
};

static int list_on_opt(void *data, int key, const char *arg)
{
	struct list_opts *o = data;
	(void)arg;
	if (key == OPT_JSON)
		o->json = true;
	return 0;
}

static void needs_text(const struct job *j, struct strbuf *sb)
{
	if (!j->has_needs) {
		strbuf_addstr(sb, "-");
		return;
	}
	if (!j->n_needs)
		strbuf_addstr(sb, "[]");
	for (size_t i = 0; i < j->n_needs; i++)
		strbuf_addf(sb, "%s%s%s", i ? ", " : "", j->needs[i].job,
		            j->needs[i].optional ? " (optional)" : "");
}

static void allow_failure_text(const struct job *j, struct strbuf *sb)
{
	if (!j->n_allow_failure_exit_codes) {
		strbuf_addstr(sb, j->allow_failure ? "true" : "false");
		return;
	}
	strbuf_addstr(sb, "exit_codes=");
	for (size_t i = 0; i < j->n_allow_failure_exit_codes; i++)
		strbuf_addf(sb, "%s%d", i ? "," : "", j->allow_failure_exit_codes[i]);
}

/* The cells of the table, one after the other in one buffer (NUL-separated): cell k (row
 * k / 5, column k % 5) starts at off[k]. One buffer instead of a strbuf per cell and one
 * write instead of a printf per cell: listing 1000 jobs has a 20 ms budget. */
struct cells {
	struct strbuf text;
	size_t *off;
	size_t n;
};

static void cell_end(struct cells *t, size_t start)
{
	t->off[t->n++] = start;
	strbuf_addch(&t->text, '\0');
}

static void table_cells(const struct pipeline *p, struct cells *t)
{
	static const char *const head[5] = {"NAME", "STAGE", "WHEN", "ALLOW_FAILURE", "NEEDS"};
	for (int c = 0; c < 5; c++) {
		size_t start = t->text.len;
		strbuf_addstr(&t->text, head[c]);
		cell_end(t, start);
	}
	for (size_t i = 0; i < p->n_jobs; i++) {
		const struct job *j = &p->jobs[i];
		size_t start = t->text.len;
		strbuf_addstr(&t->text, j->name);
		cell_end(t, start);
		start = t->text.len;
		strbuf_addstr(&t->text, j->stage);
		cell_end(t, start);
		start = t->text.len;
		strbuf_addstr(&t->text, cli_when_name(j->when));
		cell_end(t, start);
		start = t->text.len;
		allow_failure_text(j, &t->text);
		cell_end(t, start);
		start = t->text.len;
		needs_text(j, &t->text);
		cell_end(t, start);
	}
}

static void print_table(const struct pipeline *p)
{
	size_t rows = p->n_jobs + 1, width[5] = {0};
	struct cells t = {.text = STRBUF_INIT, .off = xcalloc(rows * 5 + 1, sizeof(size_t))};
	table_cells(p, &t);
	t.off[t.n] = t.text.len;
	for (size_t k = 0; k < t.n; k++)
		if (t.off[k + 1] - t.off[k] - 1 > width[k % 5])
			width[k % 5] = t.off[k + 1] - t.off[k] - 1;
	_cleanup_(strbuf_release) struct strbuf out = STRBUF_INIT;
	strbuf_grow(&out, t.text.len + rows * 16);
	for (size_t k = 0; k < t.n; k++) {
		size_t len = t.off[k + 1] - t.off[k] - 1;
		strbuf_add(&out, t.text.buf + t.off[k], len);
		if (k % 5 == 4) {
			strbuf_addch(&out, '\n');
			continue;
		}
		/* printf("%-*s  "): left-aligned, padded to the column's width in bytes */
		for (size_t pad = len; pad < width[k % 5] + 2; pad++)
			strbuf_addch(&out, ' ');
	}
	fwrite(out.buf, 1, out.len, stdout);
	strbuf_release(&t.text);
	free(t.off);
}

static json_t *job_json(const struct job *j)
{
	json_t *o = json_object();
	json_object_set_new(o, "name", json_string(j->name));
	json_object_set_new(o, "stage", json_string(j->stage));
	json_object_set_new(o, "when", json_string(cli_when_name(j->when)));
	if (j->when == WHEN_DELAYED && j->start_in)
		json_object_set_new(o, "start_in", json_string(j->start_in));
	json_object_set_new(o, "allow_failure", json_boolean(j->allow_failure));
	if (j->n_allow_failure_exit_codes) {
		json_t *codes = json_array();
		for (size_t i = 0; i < j->n_allow_failure_exit_codes; i++)
			json_array_append_new(codes, json_integer(j->allow_failure_exit_codes[i]));
		json_object_set_new(o, "allow_failure_exit_codes", codes);
	}
	json_t *needs = j->has_needs ? json_array() : json_null();
	for (size_t i = 0; i < j->n_needs; i++)
		json_array_append_new(needs, json_string(j->needs[i].job));
	json_object_set_new(o, "needs", needs);
	json_object_set_new(o, "image", j->image.name ? json_string(j->image.name) : json_null());
	json_t *services = json_array();
	for (size_t i = 0; i < j->n_services; i++)
		if (j->services[i].image.name)
			json_array_append_new(services, json_string(j->services[i].image.name));
	json_object_set_new(o, "services", services);
	return o;
}

static void print_json(const struct pipeline *p)
{
	json_t *arr = json_array();
	for (size_t i = 0; i < p->n_jobs; i++)
		json_array_append_new(arr, job_json(&p->jobs[i]));
	json_dumpf(arr, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', stdout);
	json_decref(arr);
}

int cmd_list(int argc, char **argv)
{
	struct list_opts o = {0};
	const struct cli_verb verb = {
	    .name = "list",
	    .synopsis = "[--json] [options]",
	    .summary = "List the jobs of the pipeline for the current context (branch, tag, "
	               "source, variables) in stage order.",
	    .opts = list_opts_table,
	    .on_opt = list_on_opt,
	    .data = &o,
	    .min_args = 0,
	    .max_args = 0,
	};
	_cleanup_(cli_session_release) struct cli_session s = CLI_SESSION_INIT;
	if (!cli_session_load(&s, argc, argv, &verb))
		return s.rc;
	if (!s.p->created)
		fprintf(stderr, "runnel: workflow:rules create no pipeline for this context\n");
	if (o.json)
		print_json(s.p);
	else if (s.p->created)
		print_table(s.p);
	return 0;
}
