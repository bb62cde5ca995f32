/* runnel config: placeholder until the verb lands. */
#include "cli/cmds.h"

#include <stdio.h>

int cmd_config(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "runnel: 'config' is not implemented yet\n");
	return 2;
}
