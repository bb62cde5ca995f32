/* runnel cache: placeholder until the verb lands. */
#include "cli/cmds.h"

#include <stdio.h>

int cmd_cache(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "runnel: 'cache' is not implemented yet\n");
	return 2;
}
