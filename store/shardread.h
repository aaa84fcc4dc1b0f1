/* shardread.h - a report's lines as the loader takes them (ARCHITECTURE.md
 * "The evidence store"): read through zlib (so gzip too), cut by memchr,
 * each line judged before it is sent anywhere.  Every byte here comes from
 * whoever wrote the file: fuzzed (tests/fuzz/fuzz_load.c). */
#ifndef TW_SHARDREAD_H
#define TW_SHARDREAD_H
#include "../util/buf.h"
#include <zlib.h>

/* A record is a few KB; one with thousands of deliveries a few MB.  A
 * longer line is not tlswitness's (a gzip bomb: 1 MB that inflates to a
 * GB without a newline) and is refused before it costs the loader more
 * than a few times this. */
#define SHARD_LINE_MAX (64ull << 20)

struct shard_reader;

struct shard_reader *shard_reader_new(gzFile gz);
/* One line, without its newline, into b; false at the end.  *cut: the
 * last line had no newline; *toolong: past SHARD_LINE_MAX (the rest of it
 * not read). */
bool shard_reader_line(struct shard_reader *r, struct buf *b, bool *cut, bool *toolong);
/* Did zlib fail to read (a damaged member, a directory)? */
bool shard_reader_failed(const struct shard_reader *r);
void shard_reader_free(struct shard_reader *r);

/* Why a line cannot be a record of a tlswitness report, or NULL. */
const char *shard_line_problem(const struct buf *line, bool cut, bool toolong);
/* Is it a manifest line (the end of a shard)? */
bool shard_line_is_manifest(const struct buf *line);

#endif
