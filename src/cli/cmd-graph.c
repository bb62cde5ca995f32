/* runnel graph: the pipeline as a graph, stages as subgraphs. An edge A -> B means B waits
 * for A: B's needs, or, for a job without needs:, every job of the previous stage that has
 * jobs (earlier stages follow transitively, so their edges are left out). */
#include "cli/cmds.h"

#include <stdio.h>
#include <string.h>

#include "cli/ctx.h"
#include "util/cleanup.h"
#include "util/strbuf.h"

enum { OPT_FORMAT = 512 };
enum graph_format { FMT_MERMAID, FMT_DOT };

struct graph_opts {
	enum graph_format format;
};

static const struct cli_option graph_opts_table[] = {
    {"format", OPT_FORMAT, true, "FORMAT", "mermaid (default) or dot"},
    {NULL, 0, false, NULL, NULL},
};

static int graph_on_opt(void *data, int key, const char *arg)
{
	struct graph_opts *o = data;
	if (key != OPT_FORMAT)
		return 0;
	if (!strcmp(arg, "mermaid")) {
		o->format = FMT_MERMAID;
	} else if (!strcmp(arg, "dot")) {
		o->format = FMT_DOT;
	} else {
		fprintf(stderr, "runnel graph: unknown format '%s' (mermaid or dot)\n", arg);
		return -1;
	}
	return 0;
}

static void label(struct strbuf *sb, const char *s, enum graph_format f)
{
	strbuf_addch(sb, '"');
	for (; *s; s++) {
		if (*s == '"')
			strbuf_addstr(sb, f == FMT_MERMAID ? "#quot;" : "\\\"");
		else if (*s == '\\' && f == FMT_DOT)
			strbuf_addstr(sb, "\\\\");
		else
			strbuf_addch(sb, *s);
	}
	strbuf_addch(sb, '"');
}

static void nodes(const struct pipeline *p, enum graph_format f, struct strbuf *sb)
{
	size_t i = 0;
	while (i < p->n_jobs) {
		size_t s = p->jobs[i].stage_index;
		if (f == FMT_MERMAID)
			strbuf_addf(sb, "  subgraph s%zu[", s);
		else
			strbuf_addf(sb, "  subgraph cluster_%zu {\n    label=", s);
		label(sb, p->stages[s], f);
		strbuf_addstr(sb, f == FMT_MERMAID ? "]\n" : ";\n");
		for (; i < p->n_jobs && p->jobs[i].stage_index == s; i++) {
			strbuf_addf(sb, f == FMT_MERMAID ? "    j%zu[" : "    j%zu [label=", i);
			label(sb, p->jobs[i].name, f);
			strbuf_addstr(sb, f == FMT_MERMAID ? "]\n" : "];\n");
		}
		strbuf_addstr(sb, f == FMT_MERMAID ? "  end\n" : "  }\n");
	}
}

static void edge(struct strbuf *sb, size_t from, size_t to, enum graph_format f)
{
	strbuf_addf(sb, f == FMT_MERMAID ? "  j%zu --> j%zu\n" : "  j%zu -> j%zu;\n", from, to);
}

static void edges(const struct pipeline *p, enum graph_format f, struct strbuf *sb)
{
	/* [prev_first, prev_end): the jobs of the previous stage that has jobs */
	size_t prev_first = 0, prev_end = 0, cur_first = 0;
	for (size_t i = 0; i < p->n_jobs; i++) {
		const struct job *j = &p->jobs[i];
		if (i > 0 && j->stage_index != p->jobs[i - 1].stage_index) {
			prev_first = cur_first;
			prev_end = i;
			cur_first = i;
		}
		if (!j->has_needs) {
			for (size_t k = prev_first; k < prev_end; k++)
				edge(sb, k, i, f);
			continue;
		}
		for (size_t n = 0; n < j->n_needs; n++) {
			const struct job *dep = pipeline_find_job(p, j->needs[n].job);
			if (dep)
				edge(sb, (size_t)(dep - p->jobs), i, f);
		}
	}
}

int cmd_graph(int argc, char **argv)
{
	struct graph_opts o = {FMT_MERMAID};
	const struct cli_verb verb = {
	    .name = "graph",
	    .synopsis = "[--format mermaid|dot] [options]",
	    .summary = "Print the pipeline as a graph: stages as subgraphs, an edge for each "
	               "need (or to the previous stage for jobs without needs:).",
	    .opts = graph_opts_table,
	    .on_opt = graph_on_opt,
	    .data = &o,
	    .min_args = 0,
	    .max_args = 0,
	};
	_cleanup_(cli_session_release) struct cli_session s = CLI_SESSION_INIT;
	if (!cli_session_load(&s, argc, argv, &verb))
		return s.rc;
	_cleanup_(strbuf_release) struct strbuf sb = STRBUF_INIT;
	strbuf_addstr(&sb, o.format == FMT_MERMAID ? "flowchart LR\n"
	                                           : "digraph pipeline {\n  rankdir=LR;\n"
	                                             "  node [shape=box];\n");
	nodes(s.p, o.format, &sb);
	edges(s.p, o.format, &sb);
	if (o.format == FMT_DOT)
		strbuf_addstr(&sb, "}\n");
	fwrite(sb.buf, 1, sb.len, stdout);
	return 0;
}
