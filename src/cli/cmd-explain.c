/* runnel explain JOB: why a job is (or is not) in the pipeline for this context: the rule
 * that decided and where it is, the variables its expressions read (masked ones hidden), and
 * the resulting when/allow_failure/needs. Unknown names get close-match suggestions. */
#include "cli/cmds.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/ctx.h"
#include "cli/diag.h"
#include "util/cleanup.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

static void print_loc(const struct srcloc *l)
{
	if (l->file && l->line)
		printf("%s:%u:%u", l->file, l->line, l->col);
}

static void print_vars(const struct cli_ctx *ctx, const struct var_list *read)
{
	if (!read->n)
		return;
	printf("  variables read:\n");
	for (size_t i = 0; i < read->n; i++) {
		const struct var *v = &read->v[i];
		if (!v->value)
			printf("    %s is not defined\n", v->key);
		else if (v->masked || strcmp(cli_ctx_shown_value(ctx, v->key, v->value), v->value))
			printf("    %s = [MASKED]\n", v->key);
		else
			printf("    %s = \"%s\"\n", v->key, v->value);
	}
}

static void print_decision(const struct job_decision *d)
{
	printf("  decided by:    %s", d->reason ? d->reason : "no rules (included by default)");
	if (d->rule_loc.file && d->rule_loc.line) {
		printf(" at ");
		print_loc(&d->rule_loc);
		printf("\n");
		diag_print_excerpt(stdout, d->rule_loc.file, d->rule_loc.line, d->rule_loc.col, 0);
	} else {
		printf("\n");
	}
}

static void print_needs(const struct job *j)
{
	printf("  needs:         ");
	if (!j->has_needs)
		printf("(no needs: waits for the earlier stages)\n");
	else if (!j->n_needs)
		printf("[] (starts at once)\n");
	for (size_t i = 0; i < j->n_needs; i++)
		printf("%s%s%s", j->needs[i].job, j->needs[i].optional ? " (optional)" : "",
		       i + 1 < j->n_needs ? ", " : "\n");
	for (size_t i = 0; i < j->n_dropped_needs; i++) {
		const struct job_need *n = &j->dropped_needs[i];
		printf("  need dropped:  %s (optional, and '%s' is not in the pipeline)", n->job,
		       n->job);
		if (n->loc.file && n->loc.line) {
			printf(" at ");
			print_loc(&n->loc);
		}
		printf("\n");
	}
}

static void explain_job(const struct cli_ctx *ctx, const struct job *j, bool included)
{
	printf("job '%s' is %s the pipeline\n", j->name, included ? "in" : "not in");
	printf("  stage:         %s\n", j->stage);
	print_decision(&j->decision);
	print_vars(ctx, &j->decision.read_vars);
	if (!included)
		return;
	printf("  when:          %s", cli_when_name(j->when));
	if (j->when == WHEN_DELAYED && j->start_in)
		printf(" (start_in %s)", j->start_in);
	printf("\n  allow_failure: %s", j->allow_failure ? "true" : "false");
	for (size_t i = 0; i < j->n_allow_failure_exit_codes; i++)
		printf("%s%d", i ? ", " : " (exit_codes: ", j->allow_failure_exit_codes[i]);
	printf("%s\n", j->n_allow_failure_exit_codes ? ")" : "");
	print_needs(j);
}

static bool matches(const struct job *j, const char *name)
{
	return !strcmp(j->name, name) || (j->group_name && !strcmp(j->group_name, name));
}

/* Explains every instance named `name` (a parallel group explains all its instances). */
static size_t explain_all(const struct cli_ctx *ctx, const struct pipeline *p, const char *name)
{
	size_t found = 0;
	for (size_t i = 0; i < p->n_jobs; i++)
		if (matches(&p->jobs[i], name)) {
			printf("%s", found++ ? "\n" : "");
			explain_job(ctx, &p->jobs[i], true);
		}
	for (size_t i = 0; i < p->n_excluded; i++)
		if (matches(&p->excluded[i], name)) {
			printf("%s", found++ ? "\n" : "");
			explain_job(ctx, &p->excluded[i], false);
		}
	return found;
}

static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	_cleanup_free_ size_t *row = xcalloc(lb + 1, sizeof(*row));
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t best = diag + (a[i - 1] != b[j - 1]);
			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

static void suggest_from(const struct job *jobs, size_t n, const char *name, struct strvec *out)
{
	size_t limit = strlen(name) / 3 > 2 ? strlen(name) / 3 : 2;
	for (size_t i = 0; i < n; i++) {
		const char *cand = jobs[i].group_name ? jobs[i].group_name : jobs[i].name;
		if (edit_distance(name, cand) <= limit && strvec_find(out, cand) < 0)
			strvec_push(out, cand);
	}
}

static int unknown_job(const struct pipeline *p, const char *name)
{
	fprintf(stderr, "runnel explain: no job named '%s'\n", name);
	if (name[0] == '.') {
		fprintf(stderr, "names starting with '.' are hidden jobs: templates for extends:, "
		                "never in a pipeline\n");
		return 2;
	}
	_cleanup_(strvec_release) struct strvec sugg = STRVEC_INIT;
	suggest_from(p->jobs, p->n_jobs, name, &sugg);
	suggest_from(p->excluded, p->n_excluded, name, &sugg);
	for (size_t i = 0; i < sugg.n; i++)
		fprintf(stderr, "%s'%s'", i ? ", " : "did you mean ", sugg.v[i]);
	if (sugg.n)
		fprintf(stderr, "?\n");
	return 2;
}

int cmd_explain(int argc, char **argv)
{
	const struct cli_verb verb = {
	    .name = "explain",
	    .synopsis = "JOB [options]",
	    .summary = "Tell why JOB is or is not in the pipeline: the rule that decided, the "
	               "variables it read, the resulting when, allow_failure and needs.",
	    .min_args = 1,
	    .max_args = 1,
	};
	_cleanup_(cli_session_release) struct cli_session s = CLI_SESSION_INIT;
	if (!cli_session_load(&s, argc, argv, &verb))
		return s.rc;
	const char *name = argv[s.argi];
	const struct pipeline *p = s.p;
	int rc = 0;
	if (!p->created) {
		printf("no pipeline is created for this context: %s",
		       p->workflow_reason ? p->workflow_reason : "workflow:rules decided so");
		if (p->workflow_loc.file) {
			printf(" at ");
			print_loc(&p->workflow_loc);
			printf("\n");
			diag_print_excerpt(stdout, p->workflow_loc.file, p->workflow_loc.line,
			                   p->workflow_loc.col, 0);
		} else {
			printf("\n");
		}
	}
	if (!explain_all(&s.ctx, p, name))
		rc = unknown_job(p, name);
	return rc;
}
