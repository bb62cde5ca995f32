/* Fuzz target for variable expansion: the input is expanded with both passes against a fixed
 * list, then read as lines "KEY=VALUE" (a leading '!' marks raw, '@' file) into a list that
 * goes through vars_resolve_all; slugs and the masking rule see the text too. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "model/job.h"
#include "model/vars.h"
#include "util/err.h"
#include "util/strbuf.h"
#include "util/xalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void build_list(char *text, struct var_list *l)
{
	char *save = NULL;

	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct var v = {0};
		char *eq;
		if (*line == '!' || *line == '@') {
			v.raw = *line == '!';
			v.file = *line == '@';
			line++;
		}
		eq = strchr(line, '=');
		if (!eq || eq == line)
			continue;
		*eq = '\0';
		v.key = line;
		v.value = eq + 1;
		var_list_set(NULL, l, &v);
	}
}

static void expand_both(const char *text, const struct var_list *l)
{
	struct strbuf a = STRBUF_INIT, b = STRBUF_INIT;

	vars_expand_gitlab(text, l, &a);
	vars_expand_runner(a.buf, l, &b);
	strbuf_release(&a);
	strbuf_release(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct var_list fixed = {0}, l = {0};
	struct err err = ERR_INIT;
	char *text, *s;

	if (size > 8192)
		return 0;
	text = xstrndup((const char *)data, size);
	var_list_set_kv(NULL, &fixed, "A", "a$B");
	var_list_set_kv(NULL, &fixed, "B", "%A%");
	var_list_set_kv(NULL, &fixed, "RUNNER_TEMP_PROJECT_DIR", "/t");
	var_list_set(NULL, &fixed, &(struct var){.key = "F", .value = "f", .file = true});
	expand_both(text, &fixed);
	free(vars_slugify(text));
	free(vars_env_slugify(text));
	vars_maskable(text, false);
	vars_maskable(text, true);

	s = xstrdup(text);
	build_list(s, &l);
	free(s);
	if (vars_resolve_all(NULL, &l, &err) < 0) {
		if (err.kind != ERR_CONFIG || !err.msg)
			abort();
		err_release(&err);
	}
	for (size_t i = 0; i < l.n; i++)
		expand_both(l.v[i].value, &l);
	var_list_release(&l);
	var_list_release(&fixed);
	free(text);
	return 0;
}
