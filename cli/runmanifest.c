/* runmanifest.c - the manifest of one run (cli/runmanifest.h). */
#include "runmanifest.h"
#include "version.h"
#include "../rules/policy.h"
#include "../util/timeconv.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void run_manifest(struct manifest *man, const struct options *o, const struct inputs *in,
		  const struct maillog *ml, const struct policy *p, struct tzconf *tz,
		  bool pseudonymized, const char *rules_sha256)
{
	memset(man, 0, sizeof *man);
	man->tool_version = TW_VERSION;
	man->case_id = o->case_id;
	man->custodian = o->custodian;
	man->command_line = manifest_command_line(o->argc, o->argv);
	man->base = getcwd(NULL, 0);
	man->generated = time(NULL);
	manifest_new_id(man->report_id);
	man->tz = tz_describe(tz);
	man->pseudonymized = pseudonymized ? "HMAC-SHA-256 of address local parts" : NULL;
	inputs_manifest(in, ml, man);
	man->rules_path = o->rules_path ? o->rules_path : "built-in:rules/default.yaml";
	if (o->rules_path)	/* of the bytes the policy was loaded from */
		snprintf(man->rules_sha256, sizeof man->rules_sha256, "%s", rules_sha256);
	else
		manifest_hash_bytes(policy_builtin_text(), strlen(policy_builtin_text()),
				    man->rules_sha256);
	man->policy = policy_name(p);
	const char **ids = xcalloc(policy_nrules(p) + 1, sizeof *ids);
	for (size_t i = 0; i < policy_nrules(p); i++)
		ids[i] = policy_rule_id(p, i);
	man->rule_ids = ids;
	man->nrules = policy_nrules(p);
}

void run_manifest_free(struct manifest *man)
{
	free((void *)man->rule_ids);
	free(man->in);
	free(man->command_line);
	free(man->base);
}
