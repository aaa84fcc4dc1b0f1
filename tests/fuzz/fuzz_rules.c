/* Fuzz target: rule files - libyaml events, the tree, validation. */
#include "fuzz_common.h"
#include "../../rules/policy.h"
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf errs;
	buf_init(&errs);
	struct policy *p = policy_load("fuzz.yaml", (const char *)data, size, &errs);
	policy_free(p);
	buf_free(&errs);
	return 0;
}
