/* runnel graph: placeholder until the verb lands. */
#include "cli/cmds.h"

#include <stdio.h>

int cmd_graph(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "runnel: 'graph' is not implemented yet\n");
	return 2;
}
