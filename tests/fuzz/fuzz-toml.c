/* Fuzz target for the config.toml parser (runner/toml.c) and model (runner/config.c): any
 * input either fails with a positioned message or parses; a parsed tree is written and the text
 * must parse again and write the same text (what `runner register` writes, it reads). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "runner/config.h"
#include "runner/toml.h"
#include "util/err.h"
#include "util/strbuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_model(const char *text, size_t len)
{
	struct runner_config c;
	runner_config_init(&c);
	struct err err = ERR_INIT;
	if (runner_config_parse(&c, "fuzz.toml", text, len, &err) < 0) {
		if (!err.msg || !*err.msg || (err.loc.file && !err.loc.line))
			abort();
		err_release(&err);
	}
	runner_config_release(&c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct err err = ERR_INIT;
	struct toml_doc d = {0};
	check_model((const char *)data, size);
	if (toml_parse("fuzz.toml", (const char *)data, size, &d, &err) < 0) {
		if (!err.msg || !*err.msg || !err.loc.line || !err.loc.col)
			abort(); /* a failure always says why and where */
		err_release(&err);
		toml_doc_release(&d);
		return 0;
	}
	struct strbuf first = STRBUF_INIT, second = STRBUF_INIT;
	toml_write(d.root, &first);
	toml_doc_release(&d);
	if (toml_parse("fuzz.toml", first.buf, first.len, &d, &err) < 0)
		abort(); /* what we write, we read */
	toml_write(d.root, &second);
	if (strcmp(first.buf, second.buf) != 0)
		abort();
	toml_doc_release(&d);
	strbuf_release(&first);
	strbuf_release(&second);
	return 0;
}
