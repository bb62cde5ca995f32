/* Fuzz target for yaml/: loads the input, emits it, reloads the emitted text (which must load
 * and give an equal tree), resolves !reference tags, frees everything. It also loads the input
 * cut into pieces wherever the loader may cut (yaml/split.c, forced down to one-byte pieces),
 * which must give the same result as the whole: the same tree from the same places, the same
 * warnings, the same error. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static bool same_diags(const struct diag_list *a, const struct diag_list *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (a->v[i].loc.line != b->v[i].loc.line || a->v[i].loc.col != b->v[i].loc.col ||
		    strcmp(a->v[i].msg, b->v[i].msg) != 0)
			return false;
	return true;
}

static void split_agrees(const uint8_t *data, size_t size, const struct ydoc *whole,
                         const struct err *whole_err)
{
	struct yload_opts opts = YLOAD_OPTS_INIT;
	opts.max_nodes = 100000;
	opts.threads = 3;
	opts.piece_min = 1;
	struct err err = ERR_INIT;
	struct ydoc *doc = ydoc_load_mem("fuzz", (const char *)data, size, &opts, &err);
	bool same = !doc == !whole;
	if (same && doc)
		same = ynode_identical(doc->root, whole->root) &&
		       ynode_identical(doc->header, whole->header) &&
		       same_diags(&doc->warnings, &whole->warnings);
	if (same && !doc)
		same = (err.msg && whole_err->msg ? strcmp(err.msg, whole_err->msg) == 0
		                                  : err.msg == whole_err->msg) &&
		       err.loc.line == whole_err->loc.line && err.loc.col == whole_err->loc.col;
	if (!same) {
		fprintf(stderr, "loading in pieces gave another result than loading whole\n");
		abort();
	}
	err_release(&err);
	ydoc_free(doc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct yload_opts opts = YLOAD_OPTS_INIT;
	opts.max_nodes = 100000; /* keeps emitted expansions small */
	opts.threads = 1;
	struct err err = ERR_INIT;
	struct ydoc *doc = ydoc_load_mem("fuzz", (const char *)data, size, &opts, &err);
	split_agrees(data, size, doc, &err);
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
