/* Fuzz target: a shard as tlswitness load reads it from anywhere, before
 * PostgreSQL sees a byte of it - zlib (plain or gzip, members, damage),
 * lines cut and judged (store/shardread.c), manifests found, each record
 * escaped as a COPY row (store/copytext.c). */
#include "fuzz_common.h"
#include "../../store/copytext.h"
#include "../../store/shardread.h"
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64];
	int fd = fuzz_file(data, size, path, sizeof path);
	if (fd < 0)
		return 0;
	lseek(fd, 0, SEEK_SET);
	gzFile gz = gzdopen(fd, "rb");
	if (!gz) {
		close(fd);
		return 0;
	}
	struct shard_reader *r = shard_reader_new(gz);
	struct buf line, copy;
	buf_init(&line);
	buf_init(&copy);
	bool cut, toolong;
	unsigned long long n = 0;
	while (shard_reader_line(r, &line, &cut, &toolong)) {
		n++;
		if (shard_line_problem(&line, cut, toolong))
			break;
		if (shard_line_is_manifest(&line))
			continue;
		copytext_row(&copy, n, line.p, line.n);
		if (copy.n > (1u << 20))
			buf_reset(&copy);
	}
	(void)shard_reader_failed(r);
	shard_reader_free(r);
	gzclose(gz);
	buf_free(&line);
	buf_free(&copy);
	return 0;
}
