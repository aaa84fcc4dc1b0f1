/* runmanifest.h - the evidence manifest of one run (report/manifest.h):
 * the build, the command line, the time, a report id, the zone, every
 * input hashed as stored, the rules and their hash. */
#ifndef TW_RUNMANIFEST_H
#define TW_RUNMANIFEST_H
#include "inputs.h"
#include "options.h"

struct policy;
struct tzconf;

void run_manifest(struct manifest *man, const struct options *o, const struct inputs *in,
		  const struct maillog *ml, const struct policy *p, struct tzconf *tz,
		  bool pseudonymized, const char *rules_sha256);
void run_manifest_free(struct manifest *man);

#endif
