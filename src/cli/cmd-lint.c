/* runnel lint: placeholder until the verb lands. */
#include "cli/cmds.h"

#include <stdio.h>

int cmd_lint(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "runnel: 'lint' is not implemented yet\n");
	return 2;
}
