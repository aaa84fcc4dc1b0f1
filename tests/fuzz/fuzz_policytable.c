/* Fuzz target: --policy-table sources - Postfix smtp_tls_policy_maps
 * (continuations, { } groups, attributes) and Sendmail access files - and
 * the lookups made with what was loaded. */
#include "fuzz_common.h"
#include "../../ingest/policytable.h"
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64];
	int fd = fuzz_file(data, size, path, sizeof path);
	if (fd < 0)
		return 0;
	struct buf errs;
	buf_init(&errs);
	struct policy_table *t = policy_table_load(path, &errs);
	if (t) {
		(void)policy_table_form(t);
		(void)policy_table_size(t);
		(void)policy_table_find(t, "a@example.org", "mx.example.org", "192.0.2.1", 25);
		(void)policy_table_find(t, "b@sub.example.net", NULL, "[2001:db8::1]", -1);
		(void)policy_table_find(t, NULL, "mx", NULL, 587);
		(void)policy_table_find(t, "@", "", "", 0);
	}
	policy_table_free(t);
	buf_free(&errs);
	close(fd);
	return 0;
}
