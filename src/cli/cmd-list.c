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

/* The text of each cell; column c of job i is cells[i * 5 + c]. */
static void table_cells(const struct pipeline *p, struct strbuf *cells)
{
	for (size_t i = 0; i < p->n_jobs; i++) {
		const struct job *j = &p->jobs[i];
		struct strbuf *row = &cells[(i + 1) * 5];
		strbuf_addstr(&row[0], j->name);
		strbuf_addstr(&row[1], j->stage);
		strbuf_addstr(&row[2], cli_when_name(j->when));
		allow_failure_text(j, &row[3]);
		needs_text(j, &row[4]);
	}
}

static void print_table(const struct pipeline *p)
{
	static const char *const head[5] = {"NAME", "STAGE", "WHEN", "ALLOW_FAILURE", "NEEDS"};
	size_t rows = p->n_jobs + 1, width[5] = {0};
	struct strbuf *cells = xcalloc(rows * 5, sizeof(*cells));
	for (size_t k = 0; k < rows * 5; k++)
		strbuf_init(&cells[k], 0);
	for (int c = 0; c < 5; c++)
		strbuf_addstr(&cells[c], head[c]);
	table_cells(p, cells);
	for (size_t k = 0; k < rows * 5; k++)
		if (cells[k].len > width[k % 5])
			width[k % 5] = cells[k].len;
	for (size_t r = 0; r < rows; r++) {
		for (int c = 0; c < 4; c++)
			printf("%-*s  ", (int)width[c], cells[r * 5 + c].buf);
		printf("%s\n", cells[r * 5 + 4].buf);
	}
	for (size_t k = 0; k < rows * 5; k++)
		strbuf_release(&cells[k]);
	free(cells);
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
	_cleanup_(cli_common_release) struct cli_common c = CLI_COMMON_INIT;
	int argi = cli_parse_args(argc, argv, &verb, &c);
	if (argi <= 0)
		return argi == 0 ? 0 : 2;
	_cleanup_(cli_ctx_release) struct cli_ctx ctx;
	struct pipeline *p = NULL;
	int rc = cli_ctx_prepare(&ctx, &c, &p);
	if (rc)
		return rc;
	if (!p->created)
		fprintf(stderr, "runnel: workflow:rules create no pipeline for this context\n");
	if (o.json)
		print_json(p);
	else if (p->created)
		print_table(p);
	pipeline_free(p);
	return 0;
}
