/* rules_cmd.c - the rules subcommand (cli/rules_cmd.h): every error of a
 * rule file as file:line:column, from the policy loader. */
#include "rules_cmd.h"
#include "../rules/policy.h"
#include <stdio.h>
#include <string.h>

static int check(int n, char **files)
{
	int bad = 0;
	for (int i = 0; i < n; i++) {
		struct buf errs;
		buf_init(&errs);
		struct policy *p = policy_load_file(files[i], &errs);
		if (!p) {
			fputs(errs.p ? errs.p : "", stderr);
			bad++;
		} else {
			printf("%s: ok: policy %s, %zu rules\n", files[i], policy_name(p),
			       policy_nrules(p));
		}
		policy_free(p);
		buf_free(&errs);
	}
	return bad ? 3 : 0;
}

int rules_command(int argc, char **argv)
{
	if (argc >= 1 && strcmp(argv[0], "show") == 0) {
		fputs(policy_builtin_text(), stdout);
		return 0;
	}
	if (argc >= 2 && strcmp(argv[0], "check") == 0)
		return check(argc - 1, argv + 1);
	fputs("usage: tlswitness rules check RULEFILE... | tlswitness rules show\n", stderr);
	return 2;
}
