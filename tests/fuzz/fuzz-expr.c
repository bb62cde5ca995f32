/* Fuzz target for the rules:if language: parse arbitrary text and evaluate it against a
 * fixed variable set (including regex-shaped values, so "/re/" strings get compiled at run
 * time), and feed the same text to the Ruby-syntax regex compiler. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "model/expr.h"
#include "util/err.h"
#include "util/xalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const fuzz_vars[][2] = {
    {"A", "my value"}, {"E", ""},    {"W", "  "},       {"P", "/^my/i"},
    {"T", "true"},     {"R", "/(a"}, {"M", "x\n/y+/m"}, {"inputs.i", "yes"},
};

static const char *lookup(void *data, const char *name)
{
	(void)data;
	for (size_t i = 0; i < sizeof(fuzz_vars) / sizeof(fuzz_vars[0]); i++) {
		if (strcmp(fuzz_vars[i][0], name) == 0)
			return fuzz_vars[i][1];
	}
	return NULL;
}

static void on_read(void *data, const char *name, const char *value)
{
	size_t *count = data;

	(void)name;
	(void)value;
	(*count)++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t reads = 0;
	struct expr_env env = {.lookup = lookup, .on_read = on_read, .read_data = &reads};
	struct err err = ERR_INIT;
	struct expr_regex *re;
	struct expr *e;
	char *text;

	if (size > 4096)
		return 0;
	text = xstrndup((const char *)data, size); /* stops at an embedded NUL */
	e = expr_parse(text, (struct srcloc){"fuzz", 1, 1}, &err);
	if (e) {
		bool r = expr_eval(e, &env);
		if (expr_eval(e, &env) != r)
			abort(); /* evaluation must be deterministic */
		expr_free(e);
	} else if (!err.msg || err.kind != ERR_CONFIG) {
		abort();
	}
	err_release(&err);
	re = expr_regex_from_ruby(text);
	if (re) {
		expr_regex_search(re, text, strlen(text));
		expr_regex_free(re);
	}
	free(text);
	return 0;
}
