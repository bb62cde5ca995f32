/* Fuzz target for yaml/: loads the input, emits it, reloads the emitted text (which must load
 * and give an equal tree), resolves !reference tags, frees everything. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "util/err.h"
#include "util/strbuf.h"
#include "yaml/node.h"
#include "yaml/reference.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void round_trip(const struct ynode *n)
{
	if (!n)
		return;
	struct strbuf sb = STRBUF_INIT;
	ynode_emit(n, &sb);
	/* the emitted tree expands aliases: allow it more bytes than the input had */
	struct yload_opts opts = YLOAD_OPTS_INIT;
	opts.max_bytes = 256 * 1024 * 1024;
	opts.max_nodes = 100000;
	struct err err = ERR_INIT;
	struct ydoc *again = ydoc_load_mem("emitted", sb.buf, sb.len, &opts, &err);
	if (!again) {
		fprintf(stderr, "emitted YAML does not load: %u:%u: %s\n%s\n", err.loc.line,
		        err.loc.col, err.msg, sb.buf);
		abort();
	}
	if (!ynode_equal(n, again->root)) {
		fprintf(stderr, "round trip changed the tree:\n%s\n", sb.buf);
		abort();
	}
	ydoc_free(again);
	strbuf_release(&sb);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct yload_opts opts = YLOAD_OPTS_INIT;
	opts.max_nodes = 100000; /* keeps emitted expansions small */
	struct err err = ERR_INIT;
	struct ydoc *doc = ydoc_load_mem("fuzz", (const char *)data, size, &opts, &err);
	if (!doc) {
		err_release(&err);
		return 0;
	}
	round_trip(doc->root);
	round_trip(doc->header);
	struct ynode *r = yref_resolve(doc->arena, doc->root, &err);
	if (!r)
		err_release(&err);
	ydoc_free(doc);
	return 0;
}
