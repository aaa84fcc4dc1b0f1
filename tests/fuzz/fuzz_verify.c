/* Fuzz target: tlswitness verify on a report an attacker hands over -
 * finding its manifest (JSON line, text record line, HTML pre), the record
 * parsed as YAML's JSON subset, the stated hashes, the inputs it lists
 * (each only looked at, never a FIFO or a device: util/fileid.h), and the
 * same bytes as a --manifest FILE. */
#include "fuzz_common.h"
#include "../../cli/verify.h"
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool quiet;
	if (!quiet) {	/* verify prints a line a check */
		if (!freopen("/dev/null", "w", stdout))
			return 0;
		quiet = true;
	}
	char path[64];
	int fd = fuzz_file(data, size, path, sizeof path);
	if (fd < 0)
		return 0;
	struct verify_found f;
	(void)verify_find_manifest((const char *)data, size, &f);
	char *a1[] = { path, NULL };
	verify_command(1, a1);
	char opt[] = "--manifest", in[] = "--inputs", dir[] = "/nonexistent";
	char *a2[] = { path, opt, path, in, dir, NULL };
	verify_command(5, a2);
	close(fd);
	return 0;
}
