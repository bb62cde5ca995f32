/* runnel run: placeholder until the verb lands. */
#include "cli/cmds.h"

#include <stdio.h>

int cmd_run(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "runnel: 'run' is not implemented yet\n");
	return 2;
}
