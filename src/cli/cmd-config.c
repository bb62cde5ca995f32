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
	_cleanup_(cli_session_release) struct cli_session s = CLI_SESSION_INIT;
	if (!cli_session_load(&s, argc, argv, &verb))
		return s.rc;
	_cleanup_(strbuf_release) struct strbuf out = STRBUF_INIT;
	if (s.p->resolved)
		ynode_emit(s.p->resolved, &out);
	fwrite(out.buf, 1, out.len, stdout);
	return 0;
}
