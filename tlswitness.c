/* tlswitness.c - the entry point: wires the command line to a run
 * (ARCHITECTURE.md).  Exit codes (README "Exit codes"): 0 success, 1
 * findings at or above --fail-on, 2 usage or input error, 3 invalid rule
 * file. */
#include "cli/load_cmd.h"
#include "cli/options.h"
#include "cli/pipeline.h"
#include "cli/rules_cmd.h"
#include "cli/verify.h"
#include <string.h>

int main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "rules") == 0)
		return rules_command(argc - 2, argv + 2);
	if (argc >= 2 && strcmp(argv[1], "load") == 0)
		return load_command(argc - 2, argv + 2);
	if (argc >= 2 && strcmp(argv[1], "verify") == 0)
		return verify_command(argc - 2, argv + 2);
	struct options o;
	int rc = options_parse(&o, argc, argv);
	return rc >= 0 ? rc : pipeline_run(&o);
}
