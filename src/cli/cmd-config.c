/* runnel config: the fully resolved configuration (includes, extends, !reference, anchors,
 * default:) as YAML, which is what GitLab's pipeline editor calls the merged YAML. Hidden jobs
 * (`.name:`) are kept, as in GitLab's merged YAML view. */
#include "cli/cmds.h"

#include <stdio.h>

#include "cli/ctx.h"
#include "util/cleanup.h"
#include "util/strbuf.h"
#include "yaml/node.h"

int cmd_config(int argc, char **argv)
{
	const struct cli_verb verb = {
	    .name = "config",
	    .synopsis = "[options]",
	    .summary = "Print the fully resolved configuration (includes, extends, !reference, "
	               "anchors and default: applied) as YAML.",
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
	_cleanup_(strbuf_release) struct strbuf out = STRBUF_INIT;
	if (p->resolved)
		ynode_emit(p->resolved, &out);
	fwrite(out.buf, 1, out.len, stdout);
	pipeline_free(p);
	return 0;
}
