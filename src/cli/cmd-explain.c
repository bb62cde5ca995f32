/* runnel explain: placeholder until the verb lands. */
#include "cli/cmds.h"

#include <stdio.h>

int cmd_explain(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "runnel: 'explain' is not implemented yet\n");
	return 2;
}
