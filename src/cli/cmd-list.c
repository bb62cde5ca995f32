/* runnel list: placeholder until the verb lands. */
#include "cli/cmds.h"

#include <stdio.h>

int cmd_list(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "runnel: 'list' is not implemented yet\n");
	return 2;
}
